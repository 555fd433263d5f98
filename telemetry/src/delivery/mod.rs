//! Hands batches to the sink and decides what happens to those it refuses.
//!
//! For a *durable* sink (the HTTP sink: see [`Sink::durable`]) nothing is lost on the
//! way: a batch that cannot be delivered now goes to the [spool](spool) on disk, and
//! leaves it only once the receiver answered 2xx (or rejected it for good, which is
//! counted). After a failure the [delivery state](delivery_state) keeps every process
//! of the app off the network for a back-off window; their events go straight to the
//! spool.
//! A `410 Gone` stops this installation from sending for a long period.
//!
//! Other sinks (debug, file, the host's own) get a small in-memory retry with back-off;
//! what they still hold at exit is lost.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

mod admission;
mod backoff;
mod delivery_state;
mod local_log;
mod spool;

pub(crate) use admission::{passes_level, Admission};
pub(crate) use local_log::{
    last as last_logged, read as read_local_log, remove as remove_local_log, LocalLog, LocalOnly,
};

pub(crate) use delivery_state::DeliveryState;
pub(crate) use spool::Spool;

use delivery_state::Gate;

use crate::event::{Batch, Event};
use crate::sink::{Action, Sink};
use crate::transparency::LogOutcome;

/// Events kept in memory for a retry by a non-durable sink; older ones are dropped (and
/// counted) beyond it.
const MAX_RETAINED: usize = 1_000;
/// How long the worker waits for the delivery record's lock.
pub(crate) const RECORD_WAIT: Duration = Duration::from_millis(50);
/// How often a long-running process looks for segments other processes spooled.
const SPOOL_SCAN: Duration = Duration::from_secs(60);

/// RFC 3339 in UTC with milliseconds, as Segment expects (`timestamp`, `sentAt`).
pub(crate) fn timestamp(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// Where a due batch goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// To the sink, now.
    Network,
    /// Straight to the spool: a recent failure closed the gate.
    Spool,
    /// Nowhere: the receiver said `410 Gone`.
    Discard,
    /// To a non-durable sink, with in-memory retries.
    Memory,
}

/// How a network attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    /// 2xx.
    Delivered,
    /// Worth another try later (network error, timeout, 5xx, 429).
    Retry,
    /// Rejected for good (other 4xx): dropped and counted.
    Rejected,
    /// `410 Gone`: nothing more is sent.
    Gone,
}

/// What the exit path needs to save undelivered events without the worker.
pub(crate) struct ExitHandles {
    pub(crate) spool: Option<Arc<Spool>>,
    pub(crate) delivery_state: Arc<DeliveryState>,
}

/// Delivers batches through a sink; see the module documentation.
pub(crate) struct Delivery {
    sink: Box<dyn Sink>,
    durable: bool,
    cache_dir: Option<PathBuf>,
    state_dir: Option<PathBuf>,
    /// Set by [`prepare`](Delivery::prepare) for a durable sink with a cache directory.
    spool: Option<Arc<Spool>>,
    delivery_state: Arc<DeliveryState>,
    /// Whether the spool had segments when last looked at (or written to).
    spool_has_segments: bool,
    next_spool_scan: Instant,
    /// How long the last delivered batch took, to decide what still fits before a deadline.
    round_trip: Option<Duration>,
    /// Non-durable sinks: events waiting for a retry, oldest first.
    retained: Vec<Event>,
    retry_at: Option<Instant>,
    failures: u32,
    /// Set by `410 Gone`: nothing more is sent by this process.
    stopped: bool,
    /// Events given up on in this process, not yet reported.
    lost: u64,
    /// The local log of what was sent or dropped (`None`: not kept).
    log: Option<LocalLog>,
    /// Local-only mode: the sink sends nothing, and accepted batches are logged `local`.
    local: bool,
    /// What the user's choice still lets out of the spool.
    admission: Admission,
}

impl Delivery {
    /// Delivery through `sink`, spooling under `cache_dir` if the sink is durable.
    pub(crate) fn new(sink: Box<dyn Sink>, cache_dir: Option<PathBuf>) -> Self {
        let durable = sink.durable();
        Delivery {
            sink,
            durable,
            cache_dir,
            state_dir: None,
            spool: None,
            delivery_state: Arc::new(DeliveryState::new(None, "")),
            spool_has_segments: false,
            next_spool_scan: Instant::now(),
            round_trip: None,
            retained: Vec::new(),
            retry_at: None,
            failures: 0,
            stopped: false,
            lost: 0,
            log: None,
            local: false,
            admission: Admission::default(),
        }
    }

    /// Keeps the local log in the cache directory, and applies `admission` to spooled
    /// events. With `local`, accepted batches are logged as recorded, not sent.
    pub(crate) fn with_transparency(mut self, local: bool, admission: Admission) -> Self {
        self.log = self.cache_dir.as_deref().map(LocalLog::new);
        self.local = local;
        self.admission = admission;
        self
    }

    /// Writes `events` to the local log, if kept.
    fn log(&self, outcome: LogOutcome, reason: Option<&str>, events: &[Event]) {
        if let Some(log) = &self.log {
            log.record(outcome, reason, events);
        }
    }

    /// A batch the sink accepted.
    fn log_accepted(&self, events: &[Event]) {
        let outcome = if self.local {
            LogOutcome::Local
        } else {
            LogOutcome::Sent
        };
        self.log(outcome, None, events);
    }

    /// Keeps the delivery record (`delivery.json`) in the state directory, beside the
    /// state file. Without it the record lives in the cache directory.
    #[allow(dead_code)]
    pub(crate) fn with_state_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.state_dir = dir;
        self
    }

    /// Opens the spool and the delivery record, once the app version is known.
    pub(crate) fn prepare(&mut self, app_version: &str) {
        let record_dir = self.state_dir.clone().or_else(|| self.cache_dir.clone());
        self.delivery_state = Arc::new(DeliveryState::new(record_dir, app_version));
        if self.durable {
            self.spool = self
                .cache_dir
                .as_deref()
                .map(|dir| Arc::new(Spool::new(dir)));
        }
    }

    /// The spool and the record, for the exit path.
    pub(crate) fn exit_handles(&self) -> ExitHandles {
        ExitHandles {
            spool: self.spool.clone(),
            delivery_state: Arc::clone(&self.delivery_state),
        }
    }

    /// Trims the spool and notes whether it holds anything. Disk only.
    pub(crate) fn scan_spool(&mut self) {
        if let Some(spool) = self.spool.clone() {
            let dropped = spool.trim();
            self.record_lost(dropped);
            self.spool_has_segments = spool.has_segments();
        }
        self.next_spool_scan = Instant::now() + SPOOL_SCAN;
    }

    /// Something else (the exit path of a flush) wrote to the spool.
    pub(crate) fn note_spooled(&mut self) {
        self.spool_has_segments = self.spool.is_some();
    }

    /// Where a batch due now goes.
    pub(crate) fn route(&mut self) -> Route {
        if self.stopped {
            return Route::Discard;
        }
        if self.spool.is_none() {
            return Route::Memory;
        }
        match self.delivery_state.gate() {
            Gate::Open => Route::Network,
            Gate::Closed(_) => Route::Spool,
            Gate::Gone => {
                self.stopped = true;
                Route::Discard
            }
        }
    }

    /// Whether a spooled batch should be sent now: the spool has segments and the gate
    /// is open.
    pub(crate) fn wants_drain(&mut self) -> bool {
        if self.spool.is_none() || self.stopped {
            return false;
        }
        if Instant::now() >= self.next_spool_scan {
            self.scan_spool();
        }
        self.spool_has_segments && self.delivery_state.gate() == Gate::Open
    }

    /// How long the last delivered batch took, if one was delivered by this process.
    pub(crate) fn round_trip(&self) -> Option<Duration> {
        self.round_trip
    }

    /// One network attempt (no lock held by the caller). Updates the delivery record.
    pub(crate) fn send(&mut self, batch: &Batch) -> Sent {
        let started = Instant::now();
        let result = self.sink.send(batch);
        let events = batch.batch.len();
        match result {
            Ok(()) => {
                self.round_trip = Some(started.elapsed());
                self.delivery_state.succeeded();
                self.log_accepted(&batch.batch);
                Sent::Delivered
            }
            Err(error) => match error.action() {
                Action::Retry(after) => {
                    self.delivery_state.failed(after, RECORD_WAIT);
                    crate::diag::debug(format_args!(
                        "delivery of {events} events failed ({error}); {}",
                        self.next_attempt()
                    ));
                    Sent::Retry
                }
                Action::Drop => {
                    crate::diag::debug(format_args!(
                        "the receiver rejected {events} events ({error}); they are dropped"
                    ));
                    self.delivery_state.succeeded();
                    self.record_lost(events as u64);
                    let reason = format!("rejected by the receiver: {error}");
                    self.log(LogOutcome::Dropped, Some(&reason), &batch.batch);
                    Sent::Rejected
                }
                Action::Stop => {
                    let reason = format!("the receiver stopped this installation: {error}");
                    self.log(LogOutcome::Dropped, Some(&reason), &batch.batch);
                    self.stop(&error.to_string(), events as u64);
                    Sent::Gone
                }
            },
        }
    }

    fn next_attempt(&self) -> String {
        match self.delivery_state.gate() {
            Gate::Closed(at) => format!(
                "no attempt before {} (kept in the spool)",
                humantime::format_rfc3339_millis(at)
            ),
            _ => "kept in the spool".to_owned(),
        }
    }

    fn stop(&mut self, why: &str, events: u64) {
        self.delivery_state.gone();
        self.stopped = true;
        let cleared = self.spool.as_ref().map_or(0, |spool| spool.clear());
        self.record_lost(events + cleared);
        crate::diag::debug(format_args!(
            "the receiver answered {why}: this installation sends nothing for {} days",
            delivery_state::GONE_FOR.as_secs() / 86_400
        ));
    }

    /// Writes events to the spool (durable sinks). Returns the segments written.
    pub(crate) fn spool_events(&mut self, events: &[Event], per_segment: usize) -> Vec<PathBuf> {
        let Some(spool) = self.spool.clone() else {
            self.record_lost(events.len() as u64);
            return Vec::new();
        };
        match spool.append(events, per_segment) {
            Ok((paths, dropped)) => {
                self.record_lost(dropped);
                self.spool_has_segments = true;
                paths
            }
            Err((error, unwritten)) => {
                crate::diag::debug(format_args!(
                    "cannot write the spool in {}: {error}; {unwritten} events lost",
                    spool.dir().display()
                ));
                self.record_lost(unwritten);
                Vec::new()
            }
        }
    }

    /// A batch spooled at a deadline was delivered after all: removes its segments.
    pub(crate) fn unspool(&self, paths: &[PathBuf]) {
        if let Some(spool) = &self.spool {
            for path in paths {
                spool.remove_written(path);
            }
        }
    }

    /// Claims the oldest spooled events (up to `batch_size`) and sends them; `busy` is
    /// told when the request starts and ends. Returns `false` when there was nothing
    /// to send.
    pub(crate) fn drain_one(&mut self, batch_size: usize, busy: &dyn Fn(bool)) -> bool {
        let Some(spool) = self.spool.clone() else {
            return false;
        };
        let Some(mut claim) = spool.claim(batch_size) else {
            self.spool_has_segments = false;
            return false;
        };
        self.record_lost(claim.unreadable);
        let events = self.admit_spooled(std::mem::take(&mut claim.events));
        if events.is_empty() {
            claim.commit();
            return true;
        }
        let batch = Batch {
            batch: events,
            sent_at: timestamp(SystemTime::now()),
        };
        busy(true);
        let sent = self.send(&batch);
        busy(false);
        match sent {
            Sent::Delivered | Sent::Rejected | Sent::Gone => claim.commit(),
            Sent::Retry => claim.release(),
        }
        true
    }

    /// Spooled events the user's current choice still lets out; the others are logged
    /// as dropped, with why (they are withheld on purpose, not lost: not counted).
    fn admit_spooled(&self, events: Vec<Event>) -> Vec<Event> {
        let mut admitted = Vec::with_capacity(events.len());
        for event in events {
            match self.admission.refusal(&event) {
                None => admitted.push(event),
                Some(reason) => self.log(LogOutcome::Dropped, Some(reason), &[event]),
            }
        }
        admitted
    }

    /// Records events given up on: persisted for a durable sink (a later process
    /// reports them), in memory otherwise.
    pub(crate) fn record_lost(&mut self, events: u64) {
        if events == 0 {
            return;
        }
        if self.spool.is_some() {
            self.delivery_state.add_lost(events, RECORD_WAIT);
        } else {
            self.lost += events;
        }
    }

    /// Takes the count of events lost so far, to report it in the next event.
    pub(crate) fn take_lost(&mut self) -> u64 {
        std::mem::take(&mut self.lost) + self.delivery_state.take_lost(RECORD_WAIT)
    }

    /// Non-durable sinks: delivers `events` (after any retained ones) in batches.
    pub(crate) fn deliver_memory(&mut self, events: Vec<Event>, batch_size: usize) {
        if self.stopped {
            self.lost += events.len() as u64;
            return;
        }
        self.retained.extend(events);
        self.send_retained(batch_size);
    }

    /// Non-durable sinks: sends retained events now if their back-off has passed.
    pub(crate) fn retry_memory(&mut self, batch_size: usize) {
        if !self.retained.is_empty() {
            self.send_retained(batch_size);
        }
    }

    fn send_retained(&mut self, batch_size: usize) {
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            self.trim_retained();
            return;
        }
        while !self.retained.is_empty() {
            let take = self.retained.len().min(batch_size.max(1));
            let batch = Batch {
                batch: self.retained.drain(..take).collect(),
                sent_at: timestamp(SystemTime::now()),
            };
            match self.sink.send(&batch) {
                Ok(()) => {
                    self.retry_at = None;
                    self.failures = 0;
                    self.log_accepted(&batch.batch);
                }
                Err(error) => {
                    crate::diag::debug(format_args!("delivery failed: {error}"));
                    match error.action() {
                        Action::Retry(after) => {
                            self.failures = self.failures.saturating_add(1);
                            let pause = backoff::pause(self.failures, after);
                            self.retry_at = Some(Instant::now() + pause);
                            let mut kept = batch.batch;
                            kept.append(&mut self.retained);
                            self.retained = kept;
                            self.trim_retained();
                            return;
                        }
                        Action::Drop => {
                            self.lost += batch.batch.len() as u64;
                            let reason = format!("rejected by the sink: {error}");
                            self.log(LogOutcome::Dropped, Some(&reason), &batch.batch);
                        }
                        Action::Stop => {
                            let reason = format!("the sink stopped: {error}");
                            self.log(LogOutcome::Dropped, Some(&reason), &batch.batch);
                            self.lost += (batch.batch.len() + self.retained.len()) as u64;
                            self.retained.clear();
                            self.stopped = true;
                            return;
                        }
                    }
                }
            }
        }
    }

    fn trim_retained(&mut self) {
        if self.retained.len() > MAX_RETAINED {
            let excess = self.retained.len() - MAX_RETAINED;
            self.retained.drain(..excess);
            self.lost += excess as u64;
        }
    }
}
