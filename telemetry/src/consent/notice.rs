//! The one-time first-run notice, on stderr only.
//!
//! Shown once per installation: the state file records that it was shown *before* it is
//! printed, under the state lock, so of several first runs started at once exactly one
//! prints it, and a run that cannot record it prints nothing and sends nothing (telemetry
//! is off for that run). Never shown in CI, where nobody reads it and the state directory
//! is usually thrown away.

use std::io::{self, Write as _};
use std::path::Path;
use std::time::Duration;

use super::state::{self, Change, Loaded};
use crate::config::Config;

/// How long a first run waits for the state lock before giving up on this run.
const LOCK_WAIT: Duration = Duration::from_millis(500);

/// The notice shown when the host gives none.
pub(crate) fn default_text(config: &Config) -> String {
    let app = &config.app_name;
    let prefix = config.env_prefix();
    format!(
        "{app} collects anonymous usage data: which commands run, how long they take and whether \
         they succeed, with argument values hashed so they cannot be read. No paths, names or \
         contents leave your machine.\n\
         To opt out, set DO_NOT_TRACK=1 or {prefix}_TELEMETRY_DISABLED=1, or run `{app} telemetry disable`.\n\
         To see exactly what is sent, set {prefix}_TELEMETRY_DEBUG=1."
    )
}

/// What became of the notice.
#[derive(Debug)]
pub(crate) enum Noticed {
    /// Recorded and printed (or already shown by another run): telemetry may go on.
    Done,
    /// The state changed under us: it is now unreadable, or the user disabled telemetry.
    TurnedOff(String),
    /// The state file could not be written: telemetry is off for this run.
    Failed(io::Error),
}

/// Records that the notice was shown and then prints it, unless another run already did.
/// In CI, does nothing.
pub(crate) fn show_once(config: &Config, dir: &Path) -> Noticed {
    if crate::worker::is_ci() {
        return Noticed::Done;
    }
    let mut turned_off = None;
    let recorded = state::update(dir, LOCK_WAIT, |loaded| {
        Ok(match loaded {
            // Off, not local-only (which also writes `enabled: false`).
            Loaded::Valid(state)
                if super::level::saved(&state).mode == Some(super::level::Mode::Off) =>
            {
                turned_off = Some("telemetry was disabled by another process".to_owned());
                Change::Keep
            }
            Loaded::Valid(state) if state.notice_shown => Change::Keep,
            Loaded::Valid(mut state) => {
                state.notice_shown = true;
                Change::Write(state)
            }
            Loaded::Unreadable(reason) => {
                turned_off = Some(reason);
                Change::Keep
            }
            // Deleted since we created it: write nothing we did not read.
            Loaded::Missing => {
                turned_off = Some("the state file vanished".to_owned());
                Change::Keep
            }
        })
    });
    match recorded {
        Err(error) => Noticed::Failed(error),
        Ok(_) if turned_off.is_some() => Noticed::TurnedOff(turned_off.unwrap_or_default()),
        Ok(None) => Noticed::Done,
        Ok(Some(_)) => {
            let text = config
                .notice
                .clone()
                .unwrap_or_else(|| default_text(config));
            if !text.is_empty() {
                let mut stderr = io::stderr().lock();
                let _ = writeln!(stderr, "{}", text.trim_end());
                let _ = stderr.flush();
            }
            Noticed::Done
        }
    }
}
