//! What may still be sent under the user's current choice: the level, and the opt-in
//! date. The worker applies the level to fresh events; the delivery applies both to
//! events coming back from the spool, which may have been recorded under another choice.

use std::time::SystemTime;

use crate::event::Event;
use crate::level::Level;

/// The user's current choice, as far as sending is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Admission {
    /// The effective level.
    pub(crate) level: Level,
    /// When the user last opted in (`enable`): nothing recorded before it is sent.
    pub(crate) opt_in: Option<SystemTime>,
}

impl Default for Admission {
    fn default() -> Self {
        Admission {
            level: Level::Usage,
            opt_in: None,
        }
    }
}

/// Reasons written in the local log for events not sent.
pub(crate) const BEFORE_OPT_IN: &str = "recorded before the user opted in";
pub(crate) const BELOW_LEVEL: &str = "below the telemetry level";

impl Admission {
    /// Why `event` may not be sent now, if it may not.
    pub(crate) fn refusal(&self, event: &Event) -> Option<&'static str> {
        if let Some(opt_in) = self.opt_in {
            // A timestamp that cannot be read cannot prove it is recent enough.
            let recorded = humantime::parse_rfc3339(&event.timestamp).ok();
            if recorded.is_none_or(|at| at < opt_in) {
                return Some(BEFORE_OPT_IN);
            }
        }
        if !passes_level(self.level, event) {
            return Some(BELOW_LEVEL);
        }
        None
    }
}

/// Whether `event` is sent at `level`: at `errors`, only events with
/// `properties.success == false` (failed calls, and aggregates that folded at least one
/// failure, whose `success` is false).
pub(crate) fn passes_level(level: Level, event: &Event) -> bool {
    match level {
        Level::Off => false,
        Level::Errors => event.properties.get("success") == Some(&serde_json::Value::Bool(false)),
        Level::Usage => true,
    }
}
