//! The background worker: drains the channel on its own schedule, builds events, batches
//! them and hands batches to the delivery.
//!
//! The worker does not block on the channel: a sender never has to wake it, which keeps
//! the hot path a plain `try_send`. It sleeps between rounds (`park_timeout`) and is
//! woken early only by a flush, a shutdown, or a channel filling up.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::Thread;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::Receiver;

use super::builder::EventBuilder;
use super::delivery::Delivery;
use super::record::Message;
use crate::event::Event;

/// How often an idle worker looks for folded calls of hot steps.
const IDLE_ROUND: Duration = Duration::from_secs(1);

/// What the worker needs to build and deliver events.
pub(crate) struct WorkerSettings {
    pub(crate) app_name: String,
    pub(crate) app_version: String,
    pub(crate) anonymous_id: String,
    pub(crate) session_id: String,
    pub(crate) session_seed: u64,
    pub(crate) base: (Instant, SystemTime),
    pub(crate) delivery: Delivery,
    /// Deliver as soon as this many events wait.
    pub(crate) batch_size: usize,
    /// Deliver events at the latest this long after the first of them arrived.
    pub(crate) linger: Duration,
}

/// The handle the runtime keeps: wakes the worker and waits for its flushes.
pub(crate) struct Worker {
    thread: Option<Thread>,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    control: Mutex<Control>,
    changed: Condvar,
}

#[derive(Default)]
struct Control {
    /// Flushes asked for so far; the worker serves them in order.
    requested: u64,
    /// Flushes the worker has completed.
    completed: u64,
    shutdown: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Control> {
        // A panic on the worker must not take the host down with a poisoned lock.
        self.control
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Worker {
    /// Starts the worker thread. If the thread cannot be started, telemetry quietly does
    /// nothing: flushes return at once.
    pub(crate) fn spawn(receiver: Receiver<Message>, settings: WorkerSettings) -> Worker {
        let shared = Arc::new(Shared::default());
        let worker_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("telemetry".to_owned())
            .spawn(move || run(&receiver, settings, &worker_shared))
            .map(|handle| handle.thread().clone())
            .map_err(|error| {
                crate::diag::debug(format_args!("could not start the worker thread: {error}"))
            })
            .ok();
        Worker { thread, shared }
    }

    /// Wakes the worker for an early round.
    pub(crate) fn wake(&self) {
        if let Some(thread) = &self.thread {
            thread.unpark();
        }
    }

    /// Asks for everything queued so far to be delivered and waits until it is, or until
    /// `deadline`. Returns `true` if the flush completed in time.
    pub(crate) fn flush(&self, deadline: Instant) -> bool {
        if self.thread.is_none() {
            return false;
        }
        let mut control = self.shared.lock();
        control.requested += 1;
        let ticket = control.requested;
        self.wake();
        while control.completed < ticket {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            control = match self.shared.changed.wait_timeout(control, deadline - now) {
                Ok((control, _)) => control,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    /// Flushes with the deadline, then tells the worker to stop. Never joins: a worker
    /// stuck on the network is abandoned and ends with the process.
    pub(crate) fn shutdown(&self, deadline: Instant) -> bool {
        let flushed = self.flush(deadline);
        self.shared.lock().shutdown = true;
        self.wake();
        flushed
    }
}

fn run(receiver: &Receiver<Message>, settings: WorkerSettings, shared: &Shared) {
    let context = crate::context::detect(
        &settings.app_name,
        &settings.app_version,
        settings.session_id,
    );
    let mut builder = EventBuilder::new(
        settings.anonymous_id,
        context,
        settings.base,
        settings.session_seed,
    );
    let mut delivery = settings.delivery;
    let mut pending: Vec<Event> = Vec::new();
    let mut first_pending_at: Option<Instant> = None;
    let mut last_aggregate_round = Instant::now();

    loop {
        let (requested, completed, shutdown) = {
            let control = shared.lock();
            (control.requested, control.completed, control.shutdown)
        };
        let flushing = requested > completed;

        drain(receiver, &mut builder, &mut pending);
        if !pending.is_empty() && first_pending_at.is_none() {
            first_pending_at = Some(Instant::now());
        }

        let lingered = first_pending_at.is_some_and(|at| at.elapsed() >= settings.linger);
        if flushing || lingered || last_aggregate_round.elapsed() >= IDLE_ROUND {
            collect_aggregates(&mut builder, &mut pending);
            last_aggregate_round = Instant::now();
        }

        let due = flushing || lingered || pending.len() >= settings.batch_size;
        if due && !pending.is_empty() {
            attach_dropped_count(&mut pending);
            delivery.deliver(std::mem::take(&mut pending), settings.batch_size, flushing);
            first_pending_at = None;
        } else if flushing {
            delivery.retry_now(settings.batch_size);
        }

        if flushing {
            let mut control = shared.lock();
            control.completed = control.completed.max(requested);
            shared.changed.notify_all();
        }
        if shutdown {
            return;
        }

        let sleep = match first_pending_at {
            Some(at) => settings.linger.saturating_sub(at.elapsed()),
            None => IDLE_ROUND,
        };
        std::thread::park_timeout(sleep.max(Duration::from_millis(1)));
    }
}

/// Takes every message queued right now, without waiting for more.
fn drain(receiver: &Receiver<Message>, builder: &mut EventBuilder, pending: &mut Vec<Event>) {
    while let Ok(message) = receiver.try_recv() {
        let event = match message {
            Message::Call(record) => builder.call(record),
            Message::Custom(custom) => builder.custom(custom),
        };
        pending.push(event);
    }
}

fn collect_aggregates(builder: &mut EventBuilder, pending: &mut Vec<Event>) {
    for callsite in crate::callsite::folding() {
        if let Some(folded) = callsite.counters().take() {
            pending.push(builder.aggregate(callsite, folded));
        }
    }
}

/// Reports events lost to a full channel in the next event that goes out.
fn attach_dropped_count(pending: &mut [Event]) {
    let dropped = super::take_dropped();
    if dropped > 0 {
        if let Some(first) = pending.first_mut() {
            first
                .properties
                .insert("dropped_events".into(), dropped.into());
        }
    }
}
