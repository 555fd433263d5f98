//! [`Status`]: whether telemetry is on for this run, and why.

use std::fmt;
use std::path::PathBuf;

use crate::level::Level;
use crate::source::Source;
use crate::transparency::{LastSent, LogOutcome};

/// Whether telemetry is on, which source decided, and where its state lives.
///
/// Returned by [`Guard::status`](crate::Guard::status) (what `init` decided for this run)
/// and by [`status`](crate::status()) (what `init` would decide, with the state file's
/// content even when the environment already said no). Its `Display` is the human
/// summary that `<tool> telemetry status` prints.
///
/// ```
/// let status = telemetry::status(&telemetry::Config::new("demo", "1.0").enabled(false));
/// assert!(!status.enabled);
/// # #[cfg(feature = "enabled")]
/// assert_eq!(status.source, telemetry::Source::Host);
/// println!("{status}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Whether events are recorded and sent.
    pub enabled: bool,
    /// Which source decided.
    pub source: Source,
    /// The directory of the state file, when known. [`Guard::status`](crate::Guard::status)
    /// leaves it out when telemetry was turned off before the state was looked at.
    pub state_dir: Option<PathBuf>,
    /// The installation's anonymous id, when a readable state file exists.
    pub anonymous_id: Option<String>,
    /// The user's saved choice (`telemetry enable` / `disable`), when one is saved and
    /// the state file was read.
    pub saved_choice: Option<bool>,
    /// What went wrong, if something did (a bad endpoint, an unreadable state file).
    pub problem: Option<String>,
    /// The environment variable that decided, when one did: `DO_NOT_TRACK`, or the
    /// app's own `<APP>_TELEMETRY_DISABLED` spelled out (`MINIETL_TELEMETRY_DISABLED`).
    /// (A boxed `str`, as is `last_delivery`, to keep `Status` small.)
    pub variable: Option<Box<str>>,
    /// The outcome of the last delivery attempt any process of the app remembers
    /// (`accepted`, `rejected: HTTP 400`, `failed: ...`), with when and how many events,
    /// from the delivery record beside the state file. `None` before the first attempt,
    /// and from [`Guard::status`](crate::Guard::status) (what `init` decided).
    pub last_delivery: Option<Box<str>>,
    /// The effective [`Level`] when telemetry is on (the lowest of the host's,
    /// `<APP>_TELEMETRY_LEVEL` and the saved one); `Off` when it is off.
    pub level: Level,
    /// Whether the user's saved choice is local-only mode
    /// ([`set_local`](crate::set_local)): events are recorded in the local log, never sent.
    pub local: bool,
    /// The user's saved level ([`set_level`](crate::set_level)), when one is saved.
    pub saved_level: Option<Level>,
    /// The newest line of the local log: when the last batch went out and whether it was
    /// accepted (see `telemetry::sent_log`).
    pub last_sent: Option<LastSent>,
}

impl Status {
    pub(crate) fn off(source: Source) -> Self {
        Status {
            enabled: false,
            source,
            state_dir: None,
            anonymous_id: None,
            saved_choice: None,
            problem: None,
            variable: None,
            last_delivery: None,
            level: Level::Off,
            local: false,
            saved_level: None,
            last_sent: None,
        }
    }

    /// Why telemetry is on or off, as one line: the [`Source`] that decided, with the
    /// variable it read spelled out (`MINIETL_TELEMETRY_DISABLED is set`) and, for an
    /// invalid configuration, the problem (`the configuration is invalid: ...`).
    ///
    /// ```
    /// let status = telemetry::status(&telemetry::Config::new("demo", "1.0").enabled(false));
    /// # #[cfg(feature = "enabled")]
    /// assert_eq!(status.reason(), "the application turned it off (flag or project setting)");
    /// ```
    pub fn reason(&self) -> String {
        match (self.source, &self.variable, &self.problem) {
            (Source::AppDisabledEnv | Source::DoNotTrack, Some(variable), _) => {
                format!("{variable} is set")
            }
            (Source::InvalidConfig, _, Some(problem)) => format!("{}: {problem}", self.source),
            _ => self.source.to_string(),
        }
    }

    /// The path of the state file (`state.json` in [`state_dir`](Status::state_dir)).
    ///
    /// ```
    /// let status = telemetry::status(
    ///     &telemetry::Config::new("demo", "1.0").state_dir("/tmp/demo-telemetry").enabled(false),
    /// );
    /// # #[cfg(feature = "enabled")]
    /// assert_eq!(
    ///     status.state_file(),
    ///     Some(std::path::PathBuf::from("/tmp/demo-telemetry/state.json"))
    /// );
    /// ```
    pub fn state_file(&self) -> Option<PathBuf> {
        self.state_dir.as_ref().map(|dir| dir.join("state.json"))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on_off = if self.enabled { "on" } else { "off" };
        writeln!(f, "Telemetry is {on_off}: {}.", self.reason())?;
        let saved = match self.saved_choice {
            _ if self.local => "local (recorded in the local log, never sent)",
            Some(true) => "enabled",
            Some(false) => "disabled",
            None => "none",
        };
        writeln!(f, "Saved choice: {saved}")?;
        if self.enabled {
            writeln!(f, "Level: {}", self.level)?;
        }
        if let Some(level) = self.saved_level {
            writeln!(f, "Saved level: {level}")?;
        }
        match self.state_file() {
            Some(path) => writeln!(f, "State file: {}", path.display())?,
            None => writeln!(f, "State file: none")?,
        }
        writeln!(
            f,
            "Anonymous id: {}",
            self.anonymous_id.as_deref().unwrap_or("none")
        )?;
        if let Some(last) = &self.last_sent {
            let what = match last.outcome {
                LogOutcome::Sent => "sent, accepted by the receiver",
                LogOutcome::Dropped => "dropped: see the log for why",
                LogOutcome::Local => "recorded locally, not sent",
            };
            writeln!(f, "Last batch: {} ({what})", last.at)?;
        }
        if let Some(problem) = &self.problem {
            writeln!(f, "Problem: {problem}")?;
        }
        if let Some(delivery) = &self.last_delivery {
            writeln!(f, "Last delivery: {delivery}")?;
        }
        Ok(())
    }
}
