//! Hands batches to the sink and decides what happens to those it refuses.
//!
//! For a *durable* sink (the HTTP sink: see [`Sink::durable`]) nothing is lost on the
//! way: a batch that cannot be delivered now goes to the [spool] on disk, and
//! leaves it only once the receiver answered 2xx (or rejected it for good, which is
//! counted). After a failure the [delivery state](delivery_state) keeps every process
//! of the app off the network for a back-off window; their events go straight to the
//! spool.
//! A `410 Gone` stops this installation from sending for a long period. The spool and
//! the record are kept per receiver ([`endpoint_key`]), so nothing recorded for one
//! endpoint reaches another, and one endpoint's failures hold no other back.
//!
//! Every request fits a receiver's body limit: no event over [`MAX_EVENT_BYTES`], no
//! batch (or spool segment) over [`MAX_BATCH_BYTES`], and a batch a receiver still finds
//! too large (`413`) goes again in halves.
//!
//! Other sinks (debug, file, the host's own) get a small in-memory retry with back-off;
//! what they still hold at exit is lost.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

mod admission;
// Crate-visible for the sinks' tests, which check a parsed `Retry-After` against its caps.
pub(crate) mod backoff;
mod delivery_state;
mod local_log;
mod spool;

pub(crate) use admission::{passes_level, Admission};
pub(crate) use delivery_state::{last_delivery, DeliveryState};
pub(crate) use local_log::{
    last as last_logged, read as read_local_log, remove as remove_local_log, LocalLog, LocalOnly,
};
pub(crate) use spool::{Spool, DIR as SPOOL_DIR};

use delivery_state::Gate;

use crate::event::{Batch, Event};
use crate::sink::{Action, Sink, SinkError};
use crate::transparency::LogOutcome;

/// Events kept in memory for a retry by a non-durable sink; older ones are dropped (and
/// counted) beyond it.
const MAX_RETAINED: usize = 1_000;
/// How long the worker waits for the delivery record's lock.
pub(crate) const RECORD_WAIT: Duration = Duration::from_millis(50);
/// How often a long-running process looks for segments other processes spooled.
const SPOOL_SCAN: Duration = Duration::from_secs(60);
/// The most JSON one request carries, its events' share: Segment refuses bodies over
/// 500 KB, and this leaves room for the envelope.
pub(crate) const MAX_BATCH_BYTES: usize = 450 * 1024;
/// The most JSON one event may take: Segment refuses events over 32 KB. A larger one
/// (a custom event with a big property) is dropped and counted.
pub(crate) const MAX_EVENT_BYTES: usize = 32 * 1024;
/// The key of every sink that is not the HTTP sink: one spool and one delivery record.
pub(crate) const SINK_KEY: &str = "sink";

/// The name of a receiver in file names: the first 16 hex digits of the BLAKE3 hash of
/// its URL. The spool and the delivery record are kept per receiver, so events recorded
/// for one endpoint never go to another, and one endpoint's failures never hold
/// another back.
pub(crate) fn endpoint_key(url: &str) -> String {
    let hash = blake3::hash(url.trim().as_bytes());
    hash.to_hex()[..16].to_owned()
}

/// The size of `event` as JSON, without building the text.
pub(crate) fn json_len(event: &Event) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, event) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// Removes the events too large for any receiver; returns how many.
pub(crate) fn drop_oversized(events: &mut Vec<Event>) -> u64 {
    let before = events.len();
    events.retain(|event| json_len(event) <= MAX_EVENT_BYTES);
    let dropped = (before - events.len()) as u64;
    if dropped > 0 {
        crate::diag::debug(format_args!(
            "{dropped} events are larger than {MAX_EVENT_BYTES} bytes of JSON and are dropped"
        ));
    }
    dropped
}

/// `events` in runs of at most `max_events` events and [`MAX_BATCH_BYTES`] bytes of
/// JSON (a run holds at least one event, whatever its size).
pub(crate) fn chunks(events: &[Event], max_events: usize) -> Vec<&[Event]> {
    let mut runs = Vec::new();
    let mut rest = events;
    while !rest.is_empty() {
        let take = batch_len(rest, max_events);
        let (run, after) = rest.split_at(take);
        runs.push(run);
        rest = after;
    }
    runs
}

/// How many of the first `events` make one batch (at least one).
pub(crate) fn batch_len(events: &[Event], max_events: usize) -> usize {
    let mut bytes = 0usize;
    let mut take = 0;
    for event in events.iter().take(max_events.max(1)) {
        // The comma between two events.
        bytes = bytes.saturating_add(json_len(event) + 1);
        if take > 0 && bytes > MAX_BATCH_BYTES {
            break;
        }
        take += 1;
    }
    take.max(1).min(events.len())
}

/// Sends `batch`; one the receiver finds too large goes again in halves, and an event
/// still too large on its own is dropped and added to `dropped`. What one half made of
/// an error is the answer for the whole batch (the other half is not tried), so a
/// retry may send a delivered half again, which `messageId` lets receivers notice.
fn send_halving(sink: &mut dyn Sink, batch: &Batch, dropped: &mut u64) -> Result<(), SinkError> {
    match sink.send(batch) {
        Err(error) if error.action() == Action::Split => {
            if batch.batch.len() <= 1 {
                crate::diag::debug(format_args!(
                    "the receiver finds one event too large ({error}); it is dropped"
                ));
                *dropped += batch.batch.len() as u64;
                return Ok(());
            }
            let (first, second) = batch.batch.split_at(batch.batch.len() / 2);
            for half in [first, second] {
                let half = Batch {
                    batch: half.to_vec(),
                    sent_at: batch.sent_at.clone(),
                };
                send_halving(sink, &half, dropped)?;
            }
            Ok(())
        }
        other => other,
    }
}

/// RFC 3339 in UTC with milliseconds, as Segment expects (`timestamp`, `sentAt`).
pub(crate) fn timestamp(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(crate::time::writable(at)).to_string()
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

/// The answer to one network attempt, before its bookkeeping (see
/// [`Delivery::attempt`]).
pub(crate) struct Attempt {
    result: Result<(), SinkError>,
    /// Events dropped as too large for the receiver on their own.
    too_large: u64,
    took: Duration,
}

impl Attempt {
    /// How the attempt ended.
    pub(crate) fn sent(&self) -> Sent {
        match &self.result {
            Ok(()) => Sent::Delivered,
            Err(error) => match error.action() {
                Action::Retry(_) => Sent::Retry,
                Action::Drop | Action::Split => Sent::Rejected,
                Action::Stop => Sent::Gone,
            },
        }
    }
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
    /// The receiver's name in the spool and the delivery record: see [`endpoint_key`].
    key: String,
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
    /// Delivery through `sink`, spooling under `cache_dir` if the sink is durable, with
    /// the spool and the delivery record of the receiver named `key`.
    pub(crate) fn new(sink: Box<dyn Sink>, cache_dir: Option<PathBuf>, key: String) -> Self {
        let durable = sink.durable();
        Delivery {
            sink,
            durable,
            delivery_state: Arc::new(DeliveryState::new(None, "", &key)),
            key,
            cache_dir,
            state_dir: None,
            spool: None,
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

    /// Opens the spool and the delivery record, once the app version is known. A cache
    /// directory someone else could write to is not used: nothing is spooled there.
    pub(crate) fn prepare(&mut self, app_version: &str) {
        let cache_dir = self.cache_dir.clone().filter(|dir| {
            let spool = dir.join(spool::DIR);
            let checked = [dir.clone(), spool.clone(), spool.join(&self.key)]
                .iter()
                .try_for_each(|dir| crate::fs::check_private_dir(dir));
            if let Err(problem) = &checked {
                crate::diag::debug(format_args!("the spool is not used: {problem}"));
            }
            checked.is_ok()
        });
        let record_dir = self.state_dir.clone().or_else(|| cache_dir.clone());
        self.delivery_state = Arc::new(DeliveryState::new(record_dir, app_version, &self.key));
        if self.durable {
            self.spool = cache_dir
                .as_deref()
                .map(|dir| Arc::new(Spool::new(dir, &self.key)));
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
        self.next_spool_scan = crate::time::instant_after(Instant::now(), SPOOL_SCAN);
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

    /// One network attempt (no lock held by the caller), without any bookkeeping: the
    /// caller first settles what depends on the answer on disk (deleting delivered
    /// segments), then hands the attempt to [`settle`](Delivery::settle).
    ///
    /// Why in that order: a process killed between a receiver's 2xx and the deletion of
    /// the segments it answered for leaves them to be sent again by the next run (the
    /// at-least-once window, which `messageId` lets receivers close). Deleting them
    /// first keeps that window to the parsing of the answer and one `unlink` per
    /// segment; the bookkeeping after it (the delivery record, replaced by a synced
    /// write, and the sent log) used to sit inside it, and a kill there sent a batch
    /// twice (`tests/crash.rs` measures it). A kill after the deletion and before the
    /// bookkeeping loses no event: at worst a back-off stays recorded a little longer
    /// or the sent log misses the lines of a batch that went out.
    pub(crate) fn attempt(&mut self, batch: &Batch) -> Attempt {
        let started = Instant::now();
        let mut too_large = 0;
        let result = send_halving(&mut *self.sink, batch, &mut too_large);
        Attempt {
            result,
            too_large,
            took: started.elapsed(),
        }
    }

    /// The bookkeeping of an [`attempt`](Delivery::attempt): the delivery record, the
    /// sent log, the count of lost events, a `410 Gone`.
    pub(crate) fn settle(&mut self, batch: &Batch, attempt: Attempt) {
        let Attempt {
            result,
            too_large,
            took,
        } = attempt;
        self.record_lost(too_large);
        let events = batch.batch.len();
        // For `status`: written only when the outcome changes.
        let outcome = match &result {
            Ok(()) => "accepted".to_owned(),
            Err(error) => match error.action() {
                Action::Retry(_) => format!("failed: {error}"),
                Action::Drop | Action::Split => format!("rejected: {error}"),
                Action::Stop => format!("gone: {error}"),
            },
        };
        self.delivery_state
            .note_outcome(&outcome, events, RECORD_WAIT);
        match result {
            Ok(()) => {
                self.round_trip = Some(took);
                self.delivery_state.succeeded();
                self.log_accepted(&batch.batch);
            }
            Err(error) => match error.action() {
                Action::Retry(after) => {
                    self.delivery_state.failed(after, RECORD_WAIT);
                    crate::diag::debug(format_args!(
                        "delivery of {events} events failed ({error}); {}",
                        self.next_attempt()
                    ));
                }
                Action::Drop | Action::Split => {
                    crate::diag::debug(format_args!(
                        "the receiver rejected {events} events ({error}); they are dropped"
                    ));
                    self.delivery_state.succeeded();
                    self.record_lost(events as u64);
                    let reason = format!("rejected by the receiver: {error}");
                    self.log(LogOutcome::Dropped, Some(&reason), &batch.batch);
                }
                Action::Stop => {
                    let reason = format!("the receiver stopped this installation: {error}");
                    self.log(LogOutcome::Dropped, Some(&reason), &batch.batch);
                    self.stop(&error.to_string(), events as u64);
                }
            },
        }
    }

    fn next_attempt(&self) -> String {
        match self.delivery_state.gate() {
            Gate::Closed(at) => format!(
                "no attempt before {} (kept in the spool)",
                humantime::format_rfc3339_millis(crate::time::writable(at))
            ),
            _ => "kept in the spool".to_owned(),
        }
    }

    /// Events given up on without an attempt (the receiver stopped this installation):
    /// counted as lost, and logged as dropped with `reason`.
    pub(crate) fn discard(&mut self, events: &[Event], reason: &str) {
        self.record_lost(events.len() as u64);
        self.log(LogOutcome::Dropped, Some(reason), events);
    }

    fn stop(&mut self, why: &str, events: u64) {
        // The spool first, then the record: a process killed in between leaves no
        // segment behind a recorded `410` (where no later run would ever clear it), only
        // a `410` not yet recorded, which the next attempt meets again.
        let cleared = self.spool.as_ref().map_or(0, |spool| spool.clear());
        self.delivery_state.gone();
        self.stopped = true;
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
        let mut events = std::mem::take(&mut claim.events);
        let oversized = drop_oversized(&mut events);
        self.record_lost(claim.unreadable + oversized);
        let events = self.admit_spooled(events);
        if events.is_empty() {
            claim.commit();
            return true;
        }
        let batch = Batch {
            batch: events,
            sent_at: timestamp(SystemTime::now()),
        };
        busy(true);
        let attempt = self.attempt(&batch);
        busy(false);
        // Deleted before the bookkeeping: see `attempt`.
        match attempt.sent() {
            Sent::Delivered | Sent::Rejected | Sent::Gone => claim.commit(),
            Sent::Retry => claim.release(),
        }
        self.settle(&batch, attempt);
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
            let take = batch_len(&self.retained, batch_size);
            let batch = Batch {
                batch: self.retained.drain(..take).collect(),
                sent_at: timestamp(SystemTime::now()),
            };
            let mut too_large = 0;
            let result = send_halving(&mut *self.sink, &batch, &mut too_large);
            self.lost += too_large;
            match result {
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
                            self.retry_at = Some(crate::time::instant_after(Instant::now(), pause));
                            let mut kept = batch.batch;
                            kept.append(&mut self.retained);
                            self.retained = kept;
                            self.trim_retained();
                            return;
                        }
                        Action::Drop | Action::Split => {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Refuses batches of more than `limit` events as too large; keeps the others.
    struct Limited {
        limit: usize,
        kept: Vec<String>,
    }

    impl Sink for Limited {
        fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
            if batch.batch.len() > self.limit {
                return Err(SinkError::too_large("HTTP 413"));
            }
            self.kept
                .extend(batch.batch.iter().map(|event| event.message_id.clone()));
            Ok(())
        }
    }

    fn events(count: usize) -> Vec<Event> {
        let event: Event = serde_json::from_value(serde_json::json!({
            "type": "track", "event": "custom", "messageId": "m", "anonymousId": "a",
            "timestamp": "2026-11-22T01:02:03.456Z",
            "context": {"library": {"name": "a", "version": "1"},
                        "telemetry": {"name": "t", "version": "1"},
                        "os": {"name": "linux", "version": "6"}, "arch": "x86_64", "cpu": 1,
                        "ci_run": false, "exec_info": [], "session_id": "s"},
            "properties": {}
        }))
        .unwrap();
        (0..count)
            .map(|index| Event {
                message_id: format!("m{index}"),
                ..event.clone()
            })
            .collect()
    }

    #[test]
    fn a_batch_too_large_is_sent_in_halves() {
        let mut sink = Limited {
            limit: 3,
            kept: Vec::new(),
        };
        let batch = Batch {
            batch: events(10),
            sent_at: String::new(),
        };
        let mut dropped = 0;
        assert_eq!(send_halving(&mut sink, &batch, &mut dropped), Ok(()));
        assert_eq!(dropped, 0);
        let expected: Vec<String> = (0..10).map(|index| format!("m{index}")).collect();
        assert_eq!(sink.kept, expected);

        let mut refuses_all = Limited {
            limit: 0,
            kept: Vec::new(),
        };
        assert_eq!(send_halving(&mut refuses_all, &batch, &mut dropped), Ok(()));
        assert_eq!(
            dropped, 10,
            "each event alone still too large: dropped, counted"
        );
    }

    #[test]
    fn batches_are_bounded_in_bytes_and_events() {
        let mut big = events(60);
        for event in &mut big {
            event
                .properties
                .insert("blob".into(), "x".repeat(10 * 1024).into());
        }
        let runs = chunks(&big, 100);
        assert!(runs.len() >= 2);
        assert_eq!(runs.iter().map(|run| run.len()).sum::<usize>(), 60);
        for run in &runs {
            let bytes: usize = run.iter().map(|event| json_len(event) + 1).sum();
            assert!(bytes <= MAX_BATCH_BYTES, "{bytes}");
        }
        assert_eq!(chunks(&events(7), 3).len(), 3);
        let mut huge = events(2);
        huge[0]
            .properties
            .insert("blob".into(), "x".repeat(MAX_EVENT_BYTES).into());
        assert_eq!(drop_oversized(&mut huge), 1);
        assert_eq!(huge[0].message_id, "m1");
    }

    #[test]
    fn endpoint_keys_are_pinned() {
        assert_eq!(
            endpoint_key("https://collector.example.com/v1/batch"),
            endpoint_key(" https://collector.example.com/v1/batch ")
        );
        assert_ne!(
            endpoint_key("http://127.0.0.1:8080/v1/batch"),
            endpoint_key("http://127.0.0.1:8081/v1/batch")
        );
        assert_eq!(
            endpoint_key("https://collector.example.com/v1/batch"),
            PINNED
        );
    }

    /// BLAKE3 of the URL, its first 16 hex digits.
    const PINNED: &str = "188f2abe0cf229b0";
}
