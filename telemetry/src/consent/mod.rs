//! Consent: whether telemetry is on for this run, decided once, before anything else.
//!
//! The order is the privacy guarantee: the environment and the host's switch are read
//! first (`env`), and when they say no, nothing touches the file system, starts a
//! thread, hashes or opens a socket. Only then is the state file read (`state`; never
//! written when it holds an opt-out or cannot be parsed) and the endpoint checked. What
//! happens once the answer is yes (the state created if absent, the notice recorded and
//! printed, the worker started) is `init`'s, in [`crate::imp`].
//!
//! The precedence is documented on [`Source`].

mod env;
mod level;
mod notice;
mod saved;
mod state;

pub(crate) use env::env_switch;
pub(crate) use level::{in_sample, saved as saved_choice, Plan};
pub(crate) use notice::{show_once, Noticed};
pub(crate) use saved::{disable, enable, set_level, set_local};
pub(crate) use state::{cache_dir, create, State};

use crate::config::Config;
use crate::diag;
use crate::sink::{endpoint, tls_problem};
use crate::source::Source;
use crate::status::Status;
use state::Loaded;

/// The decision before any file is written.
pub(crate) struct Decision {
    pub(crate) source: Source,
    pub(crate) state_dir: Option<std::path::PathBuf>,
    /// The state read from disk, if there was one.
    pub(crate) state: Option<State>,
    /// Local-only mode, the effective level and the opt-in date.
    pub(crate) plan: Plan,
}

/// Resolves consent in the order documented on [`Source`], reading (never writing) the state file, and
/// only once the environment and the host have not said no. `Err` is an "off" status.
// Runs once per process, off the hot path; both outcomes are a full status.
#[allow(clippy::result_large_err)]
pub(crate) fn decide(config: &Config) -> Result<Decision, Status> {
    if let Some(source) = env::from_environment(config).or_else(|| level::off_by_level(config)) {
        let mut off = Status::off(source);
        off.variable = match source {
            Source::DoNotTrack => Some("DO_NOT_TRACK".into()),
            Source::AppDisabledEnv => {
                Some(format!("{}_TELEMETRY_DISABLED", config.env_prefix()).into())
            }
            _ => None,
        };
        return Err(off);
    }
    let state_dir = state::state_dir(config);
    let Some(dir) = &state_dir else {
        let mut status = Status::off(Source::NoStateDir);
        status.problem = Some("no home or config directory".to_owned());
        return Err(status);
    };
    // A directory another user owns or may write to could hold a planted id, key or
    // link: it is not used.
    if let Err(problem) = crate::fs::check_private_dir(dir) {
        let mut status = Status::off(Source::NoStateDir);
        status.state_dir = state_dir.clone();
        status.problem = Some(problem);
        return Err(status);
    }
    match state::load(dir) {
        Loaded::Unreadable(reason) => {
            let mut status = Status::off(Source::UnreadableState);
            status.state_dir = state_dir.clone();
            status.problem = Some(reason);
            Err(status)
        }
        Loaded::Valid(saved) => {
            let choice = level::saved(&saved);
            let source = match choice.mode {
                Some(level::Mode::Off) => {
                    let mut off = Status::off(Source::Saved);
                    off.state_dir = state_dir.clone();
                    off.anonymous_id = Some(saved.anonymous_id.clone());
                    off.saved_choice = Some(false);
                    return Err(off);
                }
                Some(_) => Source::Saved,
                None => Source::Default,
            };
            Ok(Decision {
                source,
                state_dir,
                state: Some(saved),
                plan: level::plan(config, Some(&choice)),
            })
        }
        Loaded::Missing => Ok(Decision {
            source: Source::Default,
            state_dir,
            state: None,
            plan: level::plan(config, None),
        }),
    }
}

/// See [`crate::status()`]: what `init` would decide, reading but never writing, with the
/// outcome of the last delivery attempt remembered beside the state file.
pub(crate) fn status(config: &Config) -> Status {
    let mut status = status_of_consent(config);
    level::annotate(config, &mut status);
    status.last_delivery = status
        .state_dir
        .as_deref()
        .and_then(crate::delivery::last_delivery)
        .map(String::into_boxed_str);
    status
}

/// Whether consent lets telemetry start, and what the state says.
fn status_of_consent(config: &Config) -> Status {
    match decide(config) {
        Ok(decision) => {
            // Local-only mode sends nothing: no endpoint is needed.
            let sink = if decision.plan.local {
                Ok(SinkPlan::Custom)
            } else {
                plan_sink(config)
            };
            if let Err(mut off) = sink {
                off.state_dir = decision.state_dir;
                off.anonymous_id = decision.state.as_ref().map(|s| s.anonymous_id.clone());
                off.saved_choice = decision.state.and_then(|s| s.enabled);
                return off;
            }
            // No state yet: `init` would create it. Without writing anything, catch the
            // case where it cannot (a regular file where a directory should be).
            if let (None, Some(dir)) = (&decision.state, &decision.state_dir) {
                let creatable = dir
                    .ancestors()
                    .find(|ancestor| ancestor.exists())
                    .is_some_and(std::path::Path::is_dir);
                if !creatable {
                    let mut off = Status::off(Source::NoStateDir);
                    off.state_dir = Some(dir.clone());
                    off.problem = Some(format!("{} cannot be created", dir.display()));
                    return off;
                }
            }
            Status {
                enabled: true,
                source: decision.source,
                state_dir: decision.state_dir,
                anonymous_id: decision.state.as_ref().map(|s| s.anonymous_id.clone()),
                saved_choice: decision.state.and_then(|s| s.enabled),
                problem: None,
                ..Status::off(decision.source)
            }
        }
        Err(mut off) => {
            // Off by the environment or the host: `init` would not look at the state, but
            // the user asking wants to know where it is and what it says.
            if off.state_dir.is_none() && off.source != Source::NoStateDir {
                off.state_dir = state::state_dir(config);
                if let Some(dir) = &off.state_dir {
                    match state::load(dir) {
                        Loaded::Valid(saved) => {
                            off.anonymous_id = Some(saved.anonymous_id);
                            off.saved_choice = saved.enabled;
                        }
                        Loaded::Unreadable(reason) => off.problem = Some(reason),
                        Loaded::Missing => {}
                    }
                }
            }
            off
        }
    }
}

/// Where events will go, decided without building anything.
pub(crate) enum SinkPlan {
    Debug,
    Custom,
    Http(String),
}

/// Checks the endpoint (the `<APP>_TELEMETRY_ENDPOINT` override or the configured one)
/// and picks the sink. A bad endpoint turns telemetry off even in debug mode, so the
/// mistake is seen before it matters.
// Runs once per process, off the hot path; both outcomes are a full status.
#[allow(clippy::result_large_err)]
pub(crate) fn plan_sink(config: &Config) -> Result<SinkPlan, Status> {
    let invalid = |problem: String| {
        let mut status = Status::off(Source::InvalidConfig);
        status.problem = Some(problem);
        status
    };
    let prefix = config.env_prefix();
    let variable = format!("{prefix}_TELEMETRY_ENDPOINT");
    let override_endpoint = std::env::var_os(&variable)
        .map(|value| value.to_string_lossy().trim().to_owned())
        .filter(|value| !value.is_empty());
    if let Some(url) = &override_endpoint {
        endpoint::validate(url).map_err(|problem| invalid(format!("{variable}: {problem}")))?;
    } else if let Some(url) = &config.endpoint {
        endpoint::validate(url).map_err(invalid)?;
    }
    // An https endpoint in a build without the `tls` feature could never be reached.
    if let Some(problem) = override_endpoint
        .as_deref()
        .or(config.endpoint.as_deref())
        .and_then(tls_problem)
    {
        return Err(invalid(problem));
    }
    // `<APP>_TELEMETRY_DEBUG=send` plans the real sink; `init` wraps it to print as well.
    if diag::is_debug() && !diag::debug_sends() {
        return Ok(SinkPlan::Debug);
    }
    if override_endpoint.is_none() && config.sink.is_some() {
        return Ok(SinkPlan::Custom);
    }
    match override_endpoint.or_else(|| config.endpoint.clone()) {
        Some(url) => Ok(SinkPlan::Http(url.trim().to_owned())),
        None => Err(invalid("no endpoint and no sink configured".to_owned())),
    }
}
