//! The level, local-only mode and sampling: what a run that consent let start may do.
//!
//! The user's choice beyond on/off is saved in the state file beside `enabled`, in
//! fields this module owns (kept in the file's open field map, so `State`'s layout is
//! unchanged and older versions keep them when they rewrite the file):
//!
//! - `mode`: `"on"`, `"local"` or `"off"`. `enabled` is still written (`true` only
//!   for `on`), so a version that predates modes never sends in local-only mode; when an
//!   older version's `disable` leaves `mode: "on"` beside `enabled: false`, off wins.
//!   Any other value counts as off.
//! - `level`: `"errors"` or `"usage"`; `"off"` or any other value counts as off.
//! - `chosen_at`: when the mode was last changed (RFC 3339). When the mode is `on`, it
//!   is the opt-in date: spooled events recorded before it are never sent. A value that
//!   cannot be read counts as now (nothing spooled is sent).

use std::time::SystemTime;

use super::state::{self, State};
use crate::config::Config;
use crate::delivery::Admission;
use crate::level::Level;
use crate::source::Source;
use crate::status::Status;

const MODE: &str = "mode";
const LEVEL: &str = "level";
const CHOSEN_AT: &str = "chosen_at";

/// The saved mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Off,
    Local,
    On,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Local => "local",
            Mode::On => "on",
        }
    }
}

/// The user's saved choice, read from the state file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SavedChoice {
    /// `None`: no choice saved (the default applies).
    pub(crate) mode: Option<Mode>,
    pub(crate) level: Option<Level>,
    pub(crate) chosen_at: Option<SystemTime>,
}

/// Reads the saved choice, failing closed on anything it does not understand.
pub(crate) fn saved(state: &State) -> SavedChoice {
    let level = state
        .unknown
        .get(LEVEL)
        .map(|value| value.as_str().and_then(Level::parse).unwrap_or(Level::Off));
    let mode_field = state.unknown.get(MODE).map(|value| match value.as_str() {
        Some("on") => Mode::On,
        Some("local") => Mode::Local,
        _ => Mode::Off,
    });
    let mode = match (mode_field, state.enabled) {
        // An older version's `disable` keeps `mode` as it was: its opt-out wins.
        (Some(Mode::On), Some(false)) => Some(Mode::Off),
        (Some(mode), _) => Some(mode),
        (None, Some(true)) => Some(Mode::On),
        (None, Some(false)) => Some(Mode::Off),
        (None, None) => None,
    };
    let mode = if level == Some(Level::Off) {
        Some(Mode::Off)
    } else {
        mode
    };
    let chosen_at = state.unknown.get(CHOSEN_AT).map(|value| {
        value
            .as_str()
            .and_then(|text| humantime::parse_rfc3339(text).ok())
            .unwrap_or_else(SystemTime::now)
    });
    SavedChoice {
        mode,
        level,
        chosen_at,
    }
}

/// Saves `mode` (and `level`, when given) into `state`. The date is renewed unless the
/// mode stays `on`, so an opt-in date only moves when the user opts in again.
pub(crate) fn choose(state: &mut State, mode: Mode, level: Option<Level>) {
    let before = saved(state);
    state.enabled = Some(mode == Mode::On);
    state.unknown.insert(MODE.into(), mode.as_str().into());
    match level {
        Some(level) => {
            state.unknown.insert(LEVEL.into(), level.as_str().into());
        }
        // Turning on clears a saved level that would keep it off.
        None if mode != Mode::Off && before.level == Some(Level::Off) => {
            state.unknown.remove(LEVEL);
        }
        None => {}
    }
    if !(mode == Mode::On && before.mode == Some(Mode::On)) {
        let now = crate::delivery::timestamp(SystemTime::now());
        state.unknown.insert(CHOSEN_AT.into(), now.into());
    }
}

/// `<APP>_TELEMETRY_LEVEL`: `None` when unset or empty; a value that is not a level is
/// `off`.
pub(crate) fn env_level(config: &Config) -> Option<Level> {
    let value = std::env::var_os(format!("{}_TELEMETRY_LEVEL", config.env_prefix()))?;
    let value = value.to_string_lossy();
    if value.trim().is_empty() {
        return None;
    }
    Some(Level::parse(&value).unwrap_or(Level::Off))
}

/// Row 4b of the precedence: the environment's or the host's level is `off`.
pub(crate) fn off_by_level(config: &Config) -> Option<Source> {
    (env_level(config) == Some(Level::Off) || config.level == Some(Level::Off))
        .then_some(Source::Level)
}

/// What a run that consent let start does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Local-only mode: record in the log, never send.
    pub(crate) local: bool,
    /// The effective level: the lowest of the host's, the environment's and the saved.
    pub(crate) level: Level,
    /// The opt-in date, when the saved mode is `on`.
    pub(crate) opt_in: Option<SystemTime>,
}

impl Plan {
    pub(crate) fn admission(&self) -> Admission {
        Admission {
            level: self.level,
            opt_in: self.opt_in,
        }
    }
}

/// The plan for `config` with the saved choice (`None`: no state file yet).
pub(crate) fn plan(config: &Config, saved: Option<&SavedChoice>) -> Plan {
    let level = [
        env_level(config),
        config.level,
        saved.and_then(|saved| saved.level),
    ]
    .into_iter()
    .flatten()
    .fold(Level::Usage, Level::min);
    let mode = saved.and_then(|saved| saved.mode);
    Plan {
        local: mode == Some(Mode::Local),
        level,
        opt_in: saved
            .filter(|saved| saved.mode == Some(Mode::On))
            .and_then(|saved| saved.chosen_at),
    }
}

/// Whether the installation with `anonymous_id` is inside the sample at `rate`: the
/// first 8 bytes of BLAKE3 of the id's text, as a big-endian integer over 2^64, below
/// the rate. Stable for the installation, independent of the run.
pub(crate) fn in_sample(anonymous_id: &str, rate: Option<f64>) -> bool {
    let Some(rate) = rate else {
        return true;
    };
    let hash = blake3::hash(anonymous_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    let position = u64::from_be_bytes(first) as f64 / 18_446_744_073_709_551_616.0;
    position < rate
}

/// The status fields of this module, for `status`: the saved mode and level, the
/// effective level, the local log's newest line, and the sample decision.
pub(crate) fn annotate(config: &Config, status: &mut Status) {
    let state = status
        .state_dir
        .as_deref()
        .and_then(|dir| match state::load(dir) {
            state::Loaded::Valid(state) => Some(state),
            _ => None,
        });
    let choice = state.as_ref().map(saved);
    status.local = choice.is_some_and(|choice| choice.mode == Some(Mode::Local));
    status.saved_level = choice
        .and_then(|choice| choice.level)
        .filter(|level| *level != Level::Off);
    status.last_sent = super::cache_dir(config).and_then(|dir| crate::delivery::last_logged(&dir));
    if status.enabled {
        if let Some(state) = &state {
            if !in_sample(&state.anonymous_id, config.sample_rate) {
                status.enabled = false;
                status.source = Source::NotSampled;
                return;
            }
        }
        status.level = plan(config, choice.as_ref()).level;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(fields: serde_json::Value, enabled: Option<bool>) -> State {
        let mut state = State::generate().unwrap();
        state.enabled = enabled;
        if let serde_json::Value::Object(map) = fields {
            state.unknown = map;
        }
        state
    }

    #[test]
    fn saved_choices_fail_closed() {
        let read = |fields, enabled| saved(&state(fields, enabled)).mode;
        use serde_json::json;
        assert_eq!(read(json!({}), None), None);
        assert_eq!(read(json!({}), Some(true)), Some(Mode::On));
        assert_eq!(
            read(json!({"mode": "local"}), Some(false)),
            Some(Mode::Local)
        );
        // An older version's disable left the mode behind.
        assert_eq!(read(json!({"mode": "on"}), Some(false)), Some(Mode::Off));
        assert_eq!(read(json!({"mode": "loud"}), Some(true)), Some(Mode::Off));
        assert_eq!(read(json!({"mode": 3}), Some(true)), Some(Mode::Off));
        assert_eq!(read(json!({"level": "crash"}), Some(true)), Some(Mode::Off));
        assert_eq!(
            saved(&state(json!({"level": "errors"}), Some(true))).level,
            Some(Level::Errors)
        );
        let garbled = saved(&state(
            json!({"mode": "on", "chosen_at": "soon"}),
            Some(true),
        ));
        assert!(garbled.chosen_at.unwrap() <= SystemTime::now());
    }

    #[test]
    fn the_opt_in_date_moves_only_when_opting_in() {
        let mut state = state(serde_json::json!({}), None);
        choose(&mut state, Mode::Local, None);
        assert_eq!(state.enabled, Some(false));
        let local_at = state.unknown[CHOSEN_AT].clone();
        std::thread::sleep(std::time::Duration::from_millis(5));
        choose(&mut state, Mode::On, None);
        assert_eq!(state.enabled, Some(true));
        let on_at = state.unknown[CHOSEN_AT].clone();
        assert_ne!(on_at, local_at);
        std::thread::sleep(std::time::Duration::from_millis(5));
        choose(&mut state, Mode::On, Some(Level::Errors));
        assert_eq!(state.unknown[CHOSEN_AT], on_at);
        assert_eq!(saved(&state).level, Some(Level::Errors));
    }

    #[test]
    fn the_effective_level_is_the_lowest() {
        let config = Config::new("level-test-app", "1").level(Level::Errors);
        let choice = SavedChoice {
            mode: Some(Mode::On),
            level: Some(Level::Usage),
            chosen_at: None,
        };
        assert_eq!(plan(&config, Some(&choice)).level, Level::Errors);
        let config = Config::new("level-test-app", "1");
        assert_eq!(plan(&config, None).level, Level::Usage);
        let errors = SavedChoice {
            level: Some(Level::Errors),
            ..choice
        };
        assert_eq!(
            plan(&config.level(Level::Usage), Some(&errors)).level,
            Level::Errors
        );
    }

    #[test]
    fn sampling_is_stable_and_bounded() {
        let id = "6f1c3d4e-8a2b-4c1d-9e8f-0a1b2c3d4e5f";
        assert!(in_sample(id, None));
        assert!(in_sample(id, Some(1.0)));
        assert!(!in_sample(id, Some(0.0)));
        let inside = (0..1000)
            .filter(|index| in_sample(&format!("id-{index}"), Some(0.25)))
            .count();
        assert!((150..350).contains(&inside), "{inside}");
        assert_eq!(in_sample(id, Some(0.5)), in_sample(id, Some(0.5)));
    }
}
