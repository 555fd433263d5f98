//! The process-wide runtime: the channel the hot path sends into, and the worker that
//! turns records into events and delivers them.
//!
//! Everything here exists only once `init` decided telemetry is on. Until then (and
//! forever in a disabled run) [`is_recording`] is a relaxed load of `false`.

pub(crate) mod backoff;
mod breaker;
mod builder;
pub(crate) mod capture;
mod delivery;
mod record;
mod spool;
mod worker;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

pub(crate) use delivery::Delivery;
use record::Envelope;
pub(crate) use record::{ArgSlots, Cold, CustomEvent, Message, Record};
pub(crate) use worker::{Worker, WorkerSettings};

/// True between a successful enabled `init` and the end of the exit flush.
static RECORDING: AtomicBool = AtomicBool::new(false);
/// Events dropped because the channel was full (reported in a later event).
static DROPPED: AtomicU64 = AtomicU64::new(0);
static RUNTIME: OnceLock<Runtime> = OnceLock::new();

pub(crate) struct Runtime {
    sender: Sender<Envelope>,
    hash_key: [u8; 32],
    error_messages: bool,
    budget: u32,
    /// Above this many queued messages a sender wakes the worker (it otherwise sleeps
    /// between rounds, so most sends wake nobody).
    wake_threshold: usize,
    /// Cold parts the worker is done with, for callers to fill again instead of
    /// allocating (see [`take_cold`]).
    spares: Receiver<Box<Cold>>,
    worker: Worker,
}

/// Whether tracked calls are being recorded right now.
#[inline(always)]
pub(crate) fn is_recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

#[inline]
fn runtime() -> Option<&'static Runtime> {
    RUNTIME.get()
}

/// The installation's hash key, once telemetry is on.
#[inline]
pub(crate) fn hash_key() -> Option<&'static [u8; 32]> {
    runtime().map(|runtime| &runtime.hash_key)
}

/// Calls of one callsite sent one by one before they are folded into an aggregate.
#[inline]
pub(crate) fn budget() -> u32 {
    runtime().map_or(0, |runtime| runtime.budget)
}

pub(crate) fn wants_error_messages() -> bool {
    runtime().is_some_and(|runtime| runtime.error_messages)
}

/// Hands a message to the worker without ever blocking: a full channel drops and counts.
#[inline(always)]
pub(crate) fn send(message: Message) {
    match message {
        Message::Custom(custom) => send_envelope(Envelope::Custom(Box::new(custom))),
    }
}

/// [`send`] for a finished call, the hot path's. `claimed` is the number of its
/// callsite's events sent before this one ([`claim_event`](crate::callsite::Counters)):
/// the first of each callsite, and every [`WAKE_CHECK_EVERY`]th after it, look at the
/// channel's length and wake the worker above the threshold. The record is made only
/// once the runtime is known, right where the channel takes it from.
#[inline(always)]
pub(crate) fn send_call(claimed: u64, record: impl FnOnce() -> Record) {
    let Some(runtime) = runtime() else {
        return;
    };
    let sent = runtime.sender.try_send(Envelope::Call(record()));
    deliver(runtime, sent, claimed.is_multiple_of(WAKE_CHECK_EVERY));
}

/// An empty cold part for a record, one the worker handed back if one is waiting: the
/// box would otherwise be allocated here and freed on the worker's thread, which makes
/// the allocator's fast path (a per-thread cache) miss on every call.
#[inline]
pub(crate) fn take_cold() -> Box<Cold> {
    match runtime().map(|runtime| runtime.spares.try_recv()) {
        Some(Ok(mut spare)) => {
            spare.reset();
            spare
        }
        _ => Box::new(Cold::with_room()),
    }
}

#[inline(always)]
fn send_envelope(envelope: Envelope) {
    let Some(runtime) = runtime() else {
        return;
    };
    deliver(runtime, runtime.sender.try_send(envelope), true);
}

/// A callsite looks at the channel's length on its first sent call and once every this
/// many after it. The length is the distance between the tail the senders write and the
/// head the worker last wrote, so reading it costs a cache line from the worker's core:
/// spaced out, the channel overshoots the wake threshold by at most this many messages
/// per callsite sending at that moment, and a full channel wakes the worker at once.
const WAKE_CHECK_EVERY: u64 = 16;

#[inline(always)]
fn deliver(runtime: &Runtime, sent: Result<(), TrySendError<Envelope>>, check_length: bool) {
    match sent {
        Ok(()) => {
            if check_length && runtime.sender.len() >= runtime.wake_threshold {
                runtime.worker.wake();
            }
        }
        Err(error) => not_sent(runtime, error),
    }
}

/// A message the channel did not take: counted (and reported in a later event), and
/// the worker woken if the channel is full.
#[cold]
#[inline(never)]
fn not_sent(runtime: &Runtime, error: TrySendError<Envelope>) {
    DROPPED.fetch_add(1, Ordering::Relaxed);
    if error.is_full() {
        runtime.worker.wake();
    }
}

/// Takes the count of dropped events, to report it in the next event.
pub(crate) fn take_dropped() -> u64 {
    DROPPED.swap(0, Ordering::Relaxed)
}

/// What `init` hands to the runtime once consent said yes.
pub(crate) struct Start {
    pub(crate) hash_key: [u8; 32],
    pub(crate) error_messages: bool,
    pub(crate) budget: u32,
    pub(crate) channel_capacity: usize,
    pub(crate) worker: WorkerSettings,
}

/// Starts the worker and opens the hot path. Returns `false` if a runtime already runs
/// (`init` called twice): the second call changes nothing.
pub(crate) fn start(start: Start) -> bool {
    if RUNTIME.get().is_some() {
        return false;
    }
    let capacity = start.channel_capacity.max(16);
    let (sender, receiver): (Sender<Envelope>, Receiver<Envelope>) =
        crossbeam_channel::bounded(capacity);
    let (spare_sender, spares) = crossbeam_channel::bounded(capacity / 4);
    let mut installed = false;
    RUNTIME.get_or_init(|| {
        installed = true;
        Runtime {
            sender,
            hash_key: start.hash_key,
            error_messages: start.error_messages,
            budget: start.budget,
            wake_threshold: capacity / 2,
            spares,
            worker: Worker::spawn(receiver, spare_sender, start.worker),
        }
    });
    if installed {
        RECORDING.store(true, Ordering::Release);
    }
    installed
}

/// Waits at most `timeout` for everything recorded so far to be delivered; what is not
/// delivered by then is kept in the spool (durable sinks) for a later attempt.
pub(crate) fn flush(timeout: Duration) {
    // After shutdown the worker is gone: nothing to wait for.
    if !is_recording() {
        return;
    }
    if let Some(runtime) = runtime() {
        runtime.worker.flush(Instant::now() + timeout);
    }
}

/// Stops recording, flushes with the deadline (spooling what is left at the deadline),
/// and lets the worker end. Never waits past the deadline, whatever the network does.
pub(crate) fn shutdown(timeout: Duration) {
    if let Some(runtime) = runtime() {
        RECORDING.store(false, Ordering::Release);
        runtime.worker.shutdown(Instant::now() + timeout);
    }
}
