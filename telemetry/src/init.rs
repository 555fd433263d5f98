//! `init`: decides consent first, then (only if on) reads the state, prints the first-run
//! notice and starts the worker.
//!
//! The order is the privacy guarantee: the environment and the host's switch are read
//! before anything else, and when they say no, `init` returns without touching the file
//! system, starting a thread, hashing or opening a socket. Only then is the state file
//! read (never written, when it holds an opt-out or cannot be parsed), the endpoint
//! checked, the state created if absent, the notice recorded and printed, and the worker
//! started.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::consent::{self, Source};
use crate::guard::Guard;
use crate::notice::Noticed;
use crate::sink::{tls_problem, DebugSink, HttpSink, Sink};
use crate::state::{self, Loaded, State};
use crate::status::Status;
use crate::{diag, endpoint, notice, runtime};

static INITIALIZED: AtomicBool = AtomicBool::new(false);
static FLUSH_TIMEOUT: OnceLock<Duration> = OnceLock::new();

/// See [`crate::init`].
pub(crate) fn init(config: Config) -> Guard {
    let prefix = config.env_prefix();
    if consent::env_switch(&format!("{prefix}_TELEMETRY_DEBUG")) {
        diag::set_debug(true);
    }
    if INITIALIZED.swap(true, Ordering::AcqRel) {
        diag::debug(format_args!(
            "init was called again; the second call changes nothing"
        ));
        let mut status = Status::off(Source::Default);
        status.problem = Some("init was already called".to_owned());
        return Guard::new(status, config.flush_timeout, false);
    }
    let flush_timeout = config.flush_timeout;
    let _ = FLUSH_TIMEOUT.set(flush_timeout);
    match start(config) {
        Ok(status) => {
            diag::debug(format_args!(
                "telemetry is on ({}); state: {}; anonymous id: {}",
                status.source,
                status
                    .state_file()
                    .map(|path| path.display().to_string())
                    .unwrap_or_default(),
                status.anonymous_id.as_deref().unwrap_or_default(),
            ));
            Guard::new(status, flush_timeout, true)
        }
        Err(status) => {
            diag::debug(format_args!(
                "telemetry is off: {}{}",
                status.source,
                status
                    .problem
                    .as_deref()
                    .map(|problem| format!(" ({problem})"))
                    .unwrap_or_default()
            ));
            Guard::new(status, flush_timeout, false)
        }
    }
}

/// The exit-flush bound given to the first `init`.
pub(crate) fn flush_timeout() -> Duration {
    FLUSH_TIMEOUT
        .get()
        .copied()
        .unwrap_or(crate::config::DEFAULT_FLUSH_TIMEOUT)
}

/// Everything that happens once consent said yes. `Err` carries why telemetry is off.
fn start(mut config: Config) -> Result<Status, Status> {
    let decided = decide(&config)?;
    let plan = plan_sink(&config)?;
    let dir = decided
        .state_dir
        .clone()
        .ok_or_else(|| Status::off(Source::NoStateDir))?;
    let state = load_or_create(&dir, decided.state)?;
    let key = state.key().ok_or_else(|| {
        let mut status = Status::off(Source::UnreadableState);
        status.state_dir = Some(dir.clone());
        status
    })?;

    if !state.notice_shown {
        let off = |source: Source, problem: String| {
            let mut status = Status::off(source);
            status.state_dir = Some(dir.clone());
            status.problem = Some(problem);
            status
        };
        match notice::show_once(&config, &dir) {
            Noticed::Done => {}
            Noticed::TurnedOff(reason) => return Err(off(Source::UnreadableState, reason)),
            Noticed::Failed(error) => {
                return Err(off(
                    Source::NoStateDir,
                    format!("cannot record that the notice was shown: {error}"),
                ))
            }
        }
    }

    let sink = build_sink(plan, &mut config);
    let cache_dir = state::cache_dir(&config);
    let session_id = uuid::Uuid::new_v4();
    let started = runtime::start(runtime::Start {
        hash_key: key,
        error_messages: config.error_messages,
        budget: config.event_budget,
        channel_capacity: config.channel_capacity,
        worker: runtime::WorkerSettings {
            app_name: config.app_name.clone(),
            app_version: config.app_version.clone(),
            anonymous_id: state.anonymous_id.clone(),
            session_id: session_id.to_string(),
            // Independent of the session id, so invocation ids reveal nothing about it.
            session_seed: uuid::Uuid::new_v4().as_u64_pair().0,
            base: (crate::clock::now_ns(), SystemTime::now()),
            delivery: runtime::Delivery::new(sink, cache_dir).with_state_dir(Some(dir.clone())),
            batch_size: config.batch_size,
            linger: config.batch_linger,
        },
    });
    if !started {
        return Err(Status::off(Source::Default));
    }
    Ok(Status {
        enabled: true,
        source: decided.source,
        state_dir: Some(dir),
        anonymous_id: Some(state.anonymous_id),
        saved_choice: state.enabled,
        problem: None,
    })
}

/// The decision before any file is written.
pub(crate) struct Decision {
    pub(crate) source: Source,
    pub(crate) state_dir: Option<std::path::PathBuf>,
    /// The state read from disk, if there was one.
    pub(crate) state: Option<State>,
}

/// Resolves consent in the design's order, reading (never writing) the state file, and
/// only once the environment and the host have not said no. `Err` is an "off" status.
pub(crate) fn decide(config: &Config) -> Result<Decision, Status> {
    if let Some(source) = consent::from_environment(config) {
        return Err(Status::off(source));
    }
    let state_dir = state::state_dir(config);
    let Some(dir) = &state_dir else {
        let mut status = Status::off(Source::NoStateDir);
        status.problem = Some("no home or config directory".to_owned());
        return Err(status);
    };
    match state::load(dir) {
        Loaded::Unreadable(reason) => {
            let mut status = Status::off(Source::UnreadableState);
            status.state_dir = state_dir.clone();
            status.problem = Some(reason);
            Err(status)
        }
        Loaded::Valid(saved) => {
            let source = match saved.enabled {
                Some(false) => {
                    let mut off = Status::off(Source::Saved);
                    off.state_dir = state_dir.clone();
                    off.anonymous_id = Some(saved.anonymous_id.clone());
                    off.saved_choice = Some(false);
                    return Err(off);
                }
                Some(true) => Source::Saved,
                None => Source::Default,
            };
            Ok(Decision {
                source,
                state_dir,
                state: Some(saved),
            })
        }
        Loaded::Missing => Ok(Decision {
            source: Source::Default,
            state_dir,
            state: None,
        }),
    }
}

/// See [`crate::status`]: what `init` would decide, reading but never writing.
pub(crate) fn status(config: &Config) -> Status {
    match decide(config) {
        Ok(decision) => {
            if let Err(mut off) = plan_sink(config) {
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
enum SinkPlan {
    Debug,
    Custom,
    Http(String),
}

/// Checks the endpoint (the `<APP>_TELEMETRY_ENDPOINT` override or the configured one)
/// and picks the sink. A bad endpoint turns telemetry off even in debug mode, so the
/// mistake is seen before it matters.
fn plan_sink(config: &Config) -> Result<SinkPlan, Status> {
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
    if diag::is_debug() {
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

fn build_sink(plan: SinkPlan, config: &mut Config) -> Box<dyn Sink> {
    match (plan, config.sink.take()) {
        (SinkPlan::Custom, Some(sink)) => sink,
        (SinkPlan::Http(url), _) => Box::new(HttpSink::new(&url, config.write_key.clone())),
        (SinkPlan::Debug | SinkPlan::Custom, _) => Box::new(DebugSink::new()),
    }
}

fn load_or_create(dir: &std::path::Path, loaded: Option<State>) -> Result<State, Status> {
    if let Some(state) = loaded {
        return Ok(state);
    }
    let fail = |error: std::io::Error| {
        let mut status = Status::off(Source::NoStateDir);
        status.state_dir = Some(dir.to_path_buf());
        status.problem = Some(format!("cannot create the state file: {error}"));
        status
    };
    let fresh = State::generate().map_err(fail)?;
    let winner = state::create(dir, &fresh).map_err(fail)?;
    // A parallel process may have created it already, with a saved opt-out by now.
    if winner.enabled == Some(false) {
        let mut status = Status::off(Source::Saved);
        status.state_dir = Some(dir.to_path_buf());
        status.anonymous_id = Some(winner.anonymous_id);
        status.saved_choice = Some(false);
        return Err(status);
    }
    Ok(winner)
}
