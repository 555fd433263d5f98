//! The sources that need no file: the environment and the host's own switch.

use crate::config::Config;
use crate::source::{parse_bool, Source};

/// An opt-out variable: set to an unrecognised non-empty value, it counts as true, since
/// a user who set it meant something and privacy wins ties.
pub(crate) fn env_opt_out(name: &str) -> bool {
    match std::env::var_os(name) {
        None => false,
        Some(value) => parse_bool(&value.to_string_lossy()).unwrap_or(true),
    }
}

/// A switch variable (`<APP>_TELEMETRY_DEBUG`): only a recognised true value turns it on.
pub(crate) fn env_switch(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|value| parse_bool(&value.to_string_lossy()) == Some(true))
}

/// The decision from the sources that need no file: the environment and the host.
/// `None` means "not decided yet": the saved choice and the default come next.
pub(crate) fn from_environment(config: &Config) -> Option<Source> {
    if env_opt_out("DO_NOT_TRACK") {
        return Some(Source::DoNotTrack);
    }
    if env_opt_out(&format!("{}_TELEMETRY_DISABLED", config.env_prefix())) {
        return Some(Source::AppDisabledEnv);
    }
    if config.host_enabled == Some(false) {
        return Some(Source::Host);
    }
    None
}
