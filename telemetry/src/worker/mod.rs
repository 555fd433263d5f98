//! The worker side: starting the background thread that turns records into events and
//! hands batches to the delivery, and the flushes that wait for it.
//!
//! Everything here exists only once `init` decided telemetry is on. The caller's end of
//! the channel is [`crate::call`]'s; this module opens it when the thread is running.

mod context;
mod event_builder;
mod policy;
mod scrub;
mod thread;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::call::{self, Channel, Envelope};
pub(crate) use context::is_ci;
pub(crate) use policy::Policy;
pub(crate) use scrub::scrub;
use thread::Worker;
pub(crate) use thread::{Seed, WorkerSettings};

static WORKER: OnceLock<Worker> = OnceLock::new();

/// What `init` hands to the worker once consent said yes.
pub(crate) struct Start {
    pub(crate) hash_key: [u8; 32],
    pub(crate) error_messages: bool,
    pub(crate) budget: u32,
    pub(crate) channel_capacity: usize,
    pub(crate) worker: WorkerSettings,
}

/// Starts the worker and opens the hot path. Returns `false` if a worker already runs
/// (`init` called twice): the second call changes nothing.
pub(crate) fn start(start: Start) -> bool {
    if WORKER.get().is_some() || call::is_open() {
        return false;
    }
    let capacity = start.channel_capacity.max(16);
    let (sender, receiver) = crossbeam_channel::bounded::<Envelope>(capacity);
    let (spare_sender, spares) = crossbeam_channel::bounded(capacity / 4);
    let mut started = false;
    let worker = WORKER.get_or_init(|| {
        started = true;
        Worker::spawn(receiver, spare_sender, start.worker)
    });
    started
        && call::open(Channel {
            sender,
            hash_key: start.hash_key,
            error_messages: start.error_messages,
            budget: start.budget,
            wake_threshold: capacity / 2,
            spares,
            worker: worker.thread(),
        })
}

/// Waits at most `timeout` for everything recorded so far to be delivered; what is not
/// delivered by then is kept in the spool (durable sinks) for a later attempt.
pub(crate) fn flush(timeout: Duration) {
    // After shutdown the worker is gone: nothing to wait for.
    if !call::is_accepting() {
        return;
    }
    if let Some(worker) = WORKER.get() {
        worker.flush(deadline(timeout));
    }
}

/// Stops recording, flushes with the deadline (spooling what is left at the deadline),
/// and lets the worker end. Never waits past the deadline, whatever the network does.
pub(crate) fn shutdown(timeout: Duration) {
    if let Some(worker) = WORKER.get() {
        call::stop_recording();
        worker.shutdown(deadline(timeout));
    }
}

/// `now + timeout`, saturating: a timeout too large for the clock means "no deadline
/// this side of the far future", never a panic.
fn deadline(timeout: Duration) -> Instant {
    crate::time::instant_after(Instant::now(), timeout)
}
