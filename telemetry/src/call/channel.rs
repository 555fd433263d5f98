//! The caller's end of the one bounded channel, and what a tracked call needs to know
//! about the running runtime (the hash key, the event budget).
//!
//! Until the worker opens the channel (and forever in a disabled run) [`is_recording`]
//! is a relaxed load of `false` and everything else here is never reached. Nothing here
//! blocks: a full channel drops the message and counts it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread::Thread;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::record::{CallRecord, Cold, Envelope, Message};

/// True between a successful enabled `init` and the start of the exit flush.
static RECORDING: AtomicBool = AtomicBool::new(false);
/// Set by the exit flush in debug mode, instead of clearing [`RECORDING`]: a call made
/// after it then reaches the out-of-line start of a recorded call, which reports it.
/// The disabled path stays one load of `RECORDING`; only debug mode pays for the report.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// Events dropped because the channel was full (reported in a later event).
static DROPPED: AtomicU64 = AtomicU64::new(0);
static CHANNEL: OnceLock<Channel> = OnceLock::new();

/// The sending side, opened once by the worker when it starts.
pub(crate) struct Channel {
    pub(crate) sender: Sender<Envelope>,
    pub(crate) hash_key: [u8; 32],
    pub(crate) error_messages: bool,
    pub(crate) budget: u32,
    /// Above this many queued messages a sender wakes the worker (it otherwise sleeps
    /// between rounds, so most sends wake nobody).
    pub(crate) wake_threshold: usize,
    /// Cold parts the worker is done with, for callers to fill again instead of
    /// allocating (see [`take_cold`]).
    pub(crate) spares: Receiver<Box<Cold>>,
    /// The worker thread, unparked to wake it (`None` if it could not be started).
    pub(crate) worker: Option<Thread>,
}

/// Opens the channel and starts recording. Returns `false` if it was already open: a
/// second `init` changes nothing.
pub(crate) fn open(channel: Channel) -> bool {
    let mut installed = false;
    CHANNEL.get_or_init(|| {
        installed = true;
        channel
    });
    if installed {
        RECORDING.store(true, Ordering::Release);
    }
    installed
}

/// Whether the channel is open (a runtime was started in this process).
pub(crate) fn is_open() -> bool {
    CHANNEL.get().is_some()
}

/// Stops recording: calls that start from now on are inert (and, in debug mode,
/// reported: see [`CLOSED`]).
pub(crate) fn stop_recording() {
    if crate::diag::is_debug() {
        CLOSED.store(true, Ordering::Release);
    } else {
        RECORDING.store(false, Ordering::Release);
    }
}

/// Whether the exit flush has run (debug mode only; see [`CLOSED`]).
#[inline]
pub(crate) fn is_closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Whether messages are taken: recording, and the exit flush has not run.
pub(crate) fn is_accepting() -> bool {
    is_recording() && !is_closed()
}

/// Debug mode: a tracked call made after the exit flush, said once per process.
#[cold]
#[inline(never)]
pub(crate) fn report_late_call(callsite: &crate::callsite::Callsite) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::Relaxed) {
        crate::diag::debug(format_args!(
            "{}_{} was called after the telemetry guard was dropped, and is not recorded \
             (nor is any call after it): keep the guard until the end of `main`, bound to \
             a name (`let _telemetry = telemetry::init(..)`; `let _ = ..` drops it at once)",
            callsite.category().as_str(),
            callsite.name(),
        ));
    }
}

/// Whether tracked calls are being recorded right now.
#[inline(always)]
pub(crate) fn is_recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

#[inline]
fn channel() -> Option<&'static Channel> {
    CHANNEL.get()
}

/// The installation's hash key, once telemetry is on.
#[inline]
pub(crate) fn hash_key() -> Option<&'static [u8; 32]> {
    channel().map(|channel| &channel.hash_key)
}

/// Calls of one callsite sent one by one before they are folded into an aggregate.
#[inline]
pub(crate) fn budget() -> u32 {
    channel().map_or(0, |channel| channel.budget)
}

pub(crate) fn wants_error_messages() -> bool {
    channel().is_some_and(|channel| channel.error_messages)
}

/// Hands a message to the worker without ever blocking: a full channel drops and counts.
#[inline(always)]
pub(crate) fn send(message: Message) {
    match message {
        Message::Custom(custom) => send_envelope(Envelope::Custom(Box::new(custom))),
    }
}

/// [`send`] for a finished call, the hot path's. `claimed` is the number of its
/// callsite's events sent before this one ([`claim_event`](super::Counters::claim_event)):
/// the first of each callsite, and every [`WAKE_CHECK_EVERY`]th after it, look at the
/// channel's length and wake the worker above the threshold. The record is made only
/// once the channel is known to be open, right where the channel takes it.
#[inline(always)]
pub(crate) fn send_call(claimed: u64, record: impl FnOnce() -> CallRecord) {
    let Some(channel) = channel() else {
        return;
    };
    let sent = channel.sender.try_send(Envelope::Call(record()));
    deliver(channel, sent, claimed.is_multiple_of(WAKE_CHECK_EVERY));
}

/// An empty cold part for a record, one the worker handed back if one is waiting: the
/// box would otherwise be allocated here and freed on the worker's thread, which makes
/// the allocator's fast path (a per-thread cache) miss on every call.
#[inline]
pub(crate) fn take_cold() -> Box<Cold> {
    match channel().map(|channel| channel.spares.try_recv()) {
        Some(Ok(mut spare)) => {
            spare.reset();
            spare
        }
        _ => Box::new(Cold::with_room()),
    }
}

#[inline(always)]
fn send_envelope(envelope: Envelope) {
    let Some(channel) = channel() else {
        return;
    };
    deliver(channel, channel.sender.try_send(envelope), true);
}

/// A callsite looks at the channel's length on its first sent call and once every this
/// many after it. The length is the distance between the tail the senders write and the
/// head the worker last wrote, so reading it costs a cache line from the worker's core:
/// spaced out, the channel overshoots the wake threshold by at most this many messages
/// per callsite sending at that moment, and a full channel wakes the worker at once.
const WAKE_CHECK_EVERY: u64 = 16;

#[inline(always)]
fn deliver(channel: &Channel, sent: Result<(), TrySendError<Envelope>>, check_length: bool) {
    match sent {
        Ok(()) => {
            if check_length && channel.sender.len() >= channel.wake_threshold {
                wake(channel);
            }
        }
        Err(error) => not_sent(channel, error),
    }
}

/// A message the channel did not take: counted (and reported in a later event), and
/// the worker woken if the channel is full.
#[cold]
#[inline(never)]
fn not_sent(channel: &Channel, error: TrySendError<Envelope>) {
    DROPPED.fetch_add(1, Ordering::Relaxed);
    if error.is_full() {
        wake(channel);
    }
}

fn wake(channel: &Channel) {
    if let Some(worker) = &channel.worker {
        worker.unpark();
    }
}

/// Takes the count of dropped events, to report it in the next event.
pub(crate) fn take_dropped() -> u64 {
    DROPPED.swap(0, Ordering::Relaxed)
}
