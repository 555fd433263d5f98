//! `init`: decides consent first, then (only if on) reads the state, prints the first-run
//! notice and starts the worker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use crate::config::Config;
use crate::consent::{self, Source};
use crate::guard::Guard;
use crate::sink::{DebugSink, HttpSink, Sink};
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
        Ok(status) => Guard::new(status, flush_timeout, true),
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
    let sink = choose_sink(&mut config)?;
    let dir = decided
        .state_dir
        .clone()
        .ok_or_else(|| Status::off(Source::NoStateDir))?;
    let state = load_or_create(&dir, decided.state)?;
    let key = state
        .key()
        .ok_or_else(|| Status::off(Source::UnreadableState))?;

    if !state.notice_shown {
        notice::show_once(&config, &dir, &state);
    }

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
            base: (Instant::now(), SystemTime::now()),
            delivery: runtime::Delivery::new(sink, cache_dir),
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

/// Resolves consent in the design's order, reading (never writing) the state file.
/// `Err` is an "off" status.
pub(crate) fn decide(config: &Config) -> Result<Decision, Status> {
    if let Some(source) = consent::from_environment(config) {
        return Err(Status::off(source));
    }
    let state_dir = state::state_dir(config);
    let Some(dir) = &state_dir else {
        return Err(Status::off(Source::NoStateDir));
    };
    match state::load(dir) {
        Loaded::Unreadable(reason) => {
            let mut status = Status::off(Source::UnreadableState);
            status.state_dir = state_dir.clone();
            status.problem = Some(reason);
            Err(status)
        }
        Loaded::Valid(saved) => {
            let mut off = Status::off(Source::Saved);
            off.state_dir = state_dir.clone();
            off.anonymous_id = Some(saved.anonymous_id.clone());
            match saved.enabled {
                Some(false) => Err(off),
                Some(true) => Ok(Decision {
                    source: Source::Saved,
                    state_dir,
                    state: Some(saved),
                }),
                None => Ok(Decision {
                    source: Source::Default,
                    state_dir,
                    state: Some(saved),
                }),
            }
        }
        Loaded::Missing => Ok(Decision {
            source: Source::Default,
            state_dir,
            state: None,
        }),
    }
}

fn choose_sink(config: &mut Config) -> Result<Box<dyn Sink>, Status> {
    let prefix = config.env_prefix();
    if diag::is_debug() {
        return Ok(Box::new(DebugSink::new()));
    }
    let override_endpoint = std::env::var(format!("{prefix}_TELEMETRY_ENDPOINT"))
        .ok()
        .filter(|value| !value.trim().is_empty());
    if override_endpoint.is_none() {
        if let Some(sink) = config.sink.take() {
            return Ok(sink);
        }
    }
    let Some(url) = override_endpoint.or_else(|| config.endpoint.clone()) else {
        let mut status = Status::off(Source::InvalidConfig);
        status.problem = Some("no endpoint and no sink configured".to_owned());
        return Err(status);
    };
    if let Err(problem) = endpoint::validate(&url) {
        let mut status = Status::off(Source::InvalidConfig);
        status.problem = Some(problem);
        return Err(status);
    }
    Ok(Box::new(HttpSink::new(
        url.trim(),
        config.write_key.clone(),
    )))
}

fn load_or_create(dir: &std::path::Path, loaded: Option<State>) -> Result<State, Status> {
    if let Some(state) = loaded {
        return Ok(state);
    }
    let fail = |error: std::io::Error| {
        let mut status = Status::off(Source::NoStateDir);
        status.state_dir = Some(dir.to_path_buf());
        status.problem = Some(error.to_string());
        status
    };
    let fresh = State::generate().map_err(fail)?;
    state::create(dir, &fresh).map_err(fail)
}
