//! `init` once consent said yes: the state created if absent, the first-run notice
//! recorded and printed, the sink built, and the worker started. Each step that fails
//! turns telemetry off for the run, with the reason in the returned status.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::consent::{self, Noticed, SinkPlan, State};
use crate::delivery::{Delivery, LocalOnly};
use crate::guard::Guard;
use crate::sink::{DebugSink, HttpSink, Sink};
use crate::source::Source;
use crate::status::Status;
use crate::{diag, worker};

static INITIALIZED: AtomicBool = AtomicBool::new(false);
/// Temporaries in the state directory older than this are left-overs of a crash.
const STALE_TEMPORARY: Duration = Duration::from_secs(60);
static FLUSH_TIMEOUT: OnceLock<Duration> = OnceLock::new();

/// See [`crate::init`].
pub(crate) fn init(config: Config) -> Guard {
    let prefix = config.env_prefix();
    let debug_variable = format!("{prefix}_TELEMETRY_DEBUG");
    if consent::env_switch(&debug_variable) {
        diag::set_debug(true);
    } else if std::env::var_os(&debug_variable)
        .is_some_and(|value| value.to_string_lossy().trim().eq_ignore_ascii_case("send"))
    {
        // Prints every event (and the diagnostics) and sends it as well.
        diag::set_debug(true);
        diag::set_debug_send(true);
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
                status.reason(),
                status
                    .problem
                    .as_deref()
                    .filter(|_| status.source != Source::InvalidConfig)
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
// Runs once per process, off the hot path; both outcomes are a full status.
#[allow(clippy::result_large_err)]
fn start(mut config: Config) -> Result<Status, Status> {
    let decided = consent::decide(&config)?;
    // Local-only mode sends nothing: no endpoint is needed, and no sink is built.
    let plan = if decided.plan.local {
        SinkPlan::Custom
    } else {
        consent::plan_sink(&config)?
    };
    let dir = decided
        .state_dir
        .clone()
        .ok_or_else(|| Status::off(Source::NoStateDir))?;
    // Left by writers that died between writing and renaming; a younger one may belong
    // to a process at work right now.
    crate::fs::remove_stale_temporaries(&dir, STALE_TEMPORARY);
    let state = load_or_create(&dir, decided.state)?;
    let key = state.key().ok_or_else(|| {
        let mut status = Status::off(Source::UnreadableState);
        status.state_dir = Some(dir.clone());
        status
    })?;
    // Outside the host's sample: as if off for the run (the id had to exist to decide).
    if !consent::in_sample(&state.anonymous_id, config.sample_rate) {
        let mut status = Status::off(Source::NotSampled);
        status.state_dir = Some(dir.clone());
        status.anonymous_id = Some(state.anonymous_id.clone());
        status.saved_choice = state.enabled;
        return Err(status);
    }

    if !state.notice_shown {
        let off = |source: Source, problem: String| {
            let mut status = Status::off(source);
            status.state_dir = Some(dir.clone());
            status.problem = Some(problem);
            status
        };
        match consent::show_once(&config, &dir) {
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

    let receiver = match &plan {
        SinkPlan::Http(url) => crate::delivery::endpoint_key(url),
        SinkPlan::Debug | SinkPlan::Custom => crate::delivery::SINK_KEY.to_owned(),
    };
    let sink: Box<dyn Sink> = if decided.plan.local {
        diag::debug(format_args!(
            "local-only mode: events are recorded in the local log and never sent"
        ));
        Box::new(LocalOnly)
    } else {
        build_sink(plan, &mut config)
    };
    let cache_dir = consent::cache_dir(&config);
    let session_id = uuid::Uuid::new_v4();
    let started = worker::start(worker::Start {
        hash_key: key,
        error_messages: config.error_messages,
        budget: config.event_budget,
        channel_capacity: config.channel_capacity,
        worker: worker::WorkerSettings {
            seed: worker::Seed {
                app_name: config.app_name.clone(),
                app_version: config.app_version.clone(),
                anonymous_id: state.anonymous_id.clone(),
                session_id: session_id.to_string(),
                session_seed: uuid::Uuid::new_v4().as_u64_pair().0,
                base: (crate::call::now_ns(), SystemTime::now()),
            },
            delivery: Delivery::new(sink, cache_dir, receiver)
                .with_state_dir(Some(dir.clone()))
                .with_transparency(decided.plan.local, decided.plan.admission()),
            batch_size: config.batch_size,
            linger: config.batch_linger,
            policy: worker::Policy {
                level: decided.plan.level,
                sample_rate: config.sample_rate,
            },
        },
    });
    if !started {
        return Err(Status::off(Source::Default));
    }
    let saved_level = consent::saved_choice(&state)
        .level
        .filter(|level| *level != crate::level::Level::Off);
    Ok(Status {
        enabled: true,
        source: decided.source,
        state_dir: Some(dir),
        anonymous_id: Some(state.anonymous_id),
        saved_choice: state.enabled,
        problem: None,
        level: decided.plan.level,
        local: decided.plan.local,
        saved_level,
        ..Status::off(decided.source)
    })
}

fn build_sink(plan: SinkPlan, config: &mut Config) -> Box<dyn Sink> {
    let sink: Box<dyn Sink> = match (plan, config.sink.take()) {
        (SinkPlan::Custom, Some(sink)) => sink,
        (SinkPlan::Http(url), _) => Box::new(HttpSink::new(&url, config.write_key.clone())),
        (SinkPlan::Debug | SinkPlan::Custom, _) => return Box::new(DebugSink::new()),
    };
    if diag::debug_sends() {
        Box::new(Tee {
            debug: DebugSink::new(),
            sink,
        })
    } else {
        sink
    }
}

/// `<APP>_TELEMETRY_DEBUG=send`: every batch printed on stderr as the debug sink does,
/// then sent as usual (and kept in the spool like the sink's own, when it fails).
struct Tee {
    debug: DebugSink,
    sink: Box<dyn Sink>,
}

impl Sink for Tee {
    fn send(&mut self, batch: &crate::Batch) -> Result<(), crate::SinkError> {
        let _ = self.debug.send(batch);
        let result = self.sink.send(batch);
        if let Err(error) = &result {
            diag::debug(format_args!(
                "the batch of {} events above was not delivered: {error}",
                batch.batch.len()
            ));
        }
        result
    }

    fn durable(&self) -> bool {
        self.sink.durable()
    }
}

// Runs once per process, off the hot path; both outcomes are a full status.
#[allow(clippy::result_large_err)]
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
    let winner = consent::create(dir, &fresh).map_err(fail)?;
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
