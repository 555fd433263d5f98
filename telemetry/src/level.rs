//! [`Level`]: how much is sent, `off < errors < usage` (VS Code's model).

use std::fmt;
use std::str::FromStr;

/// How much telemetry sends, from nothing to everything: `Off < Errors < Usage`.
///
/// - [`Level::Off`]: nothing; the same as disabled (nothing starts at all).
/// - [`Level::Errors`]: only failed calls (`properties.success == false`), and the
///   aggregates of hot functions that folded at least one failure. Such an aggregate is
///   sent whole (its `count` too, since a failure rate needs it); aggregates without
///   failures, successful calls and custom events without `success: false` are not sent.
/// - [`Level::Usage`]: every event (the default).
///
/// # Where the level comes from
///
/// Three places can set it: the host ([`Config::level`](crate::Config::level)), the
/// environment (`<APP>_TELEMETRY_LEVEL`, values `off`, `errors`, `usage`, any case), and
/// the user's saved choice ([`set_level`](crate::set_level), `<tool> telemetry level
/// errors`). **The effective level is the lowest of those that are set** (unset ones
/// count as `usage`): each of them can lower it, none can raise it above another's
/// choice. A `<APP>_TELEMETRY_LEVEL` that is not one of the three values counts as `off`
/// (someone meant to restrict telemetry; privacy wins ties); an empty one counts as
/// unset. At `off`, from any of them, `init` starts nothing (no file, no thread, no
/// socket), exactly as when telemetry is disabled.
///
/// Filtering happens on the worker thread, before events are batched: a tracked call
/// costs the caller the same at every level.
///
/// ```
/// use telemetry::Level;
/// assert!(Level::Off < Level::Errors && Level::Errors < Level::Usage);
/// assert_eq!(Level::parse("ERRORS"), Some(Level::Errors));
/// assert_eq!(Level::parse("crash"), None);
/// assert_eq!(Level::Usage.min(Level::Errors), Level::Errors);
/// assert_eq!(Level::Errors.to_string(), "errors");
///
/// let config = telemetry::Config::new("demo", "1.0").level(Level::Errors);
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Level {
    /// Send nothing: telemetry is off.
    Off,
    /// Send only failures.
    Errors,
    /// Send every event (the default).
    Usage,
}

impl Level {
    /// The level's name: `off`, `errors` or `usage`, as in `<APP>_TELEMETRY_LEVEL` and
    /// the state file.
    ///
    /// ```
    /// assert_eq!(telemetry::Level::Usage.as_str(), "usage");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Errors => "errors",
            Level::Usage => "usage",
        }
    }

    /// Parses `off`, `errors` or `usage` (any case, surrounding whitespace ignored);
    /// anything else is `None`. (The library reads `None` from `<APP>_TELEMETRY_LEVEL`
    /// or the state file as `off`.)
    ///
    /// ```
    /// assert_eq!(telemetry::Level::parse(" usage\n"), Some(telemetry::Level::Usage));
    /// assert_eq!(telemetry::Level::parse("all"), None);
    /// ```
    pub fn parse(value: &str) -> Option<Level> {
        match value.trim().to_ascii_lowercase().as_str() {
            "off" => Some(Level::Off),
            "errors" => Some(Level::Errors),
            "usage" => Some(Level::Usage),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    /// See [`Level::parse`].
    ///
    /// ```
    /// let level: telemetry::Level = "errors".parse().unwrap();
    /// assert_eq!(level, telemetry::Level::Errors);
    /// assert!("loud".parse::<telemetry::Level>().is_err());
    /// ```
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Level::parse(value).ok_or_else(|| {
            format!("unknown telemetry level {value:?} (expected off, errors or usage)")
        })
    }
}
