//! The background worker: drains the channel on its own schedule, builds events, batches
//! them and hands batches to the delivery.
//!
//! The worker does not block on the channel: a sender never has to wake it, which keeps
//! the hot path a plain `try_send`. It sleeps between rounds (`park_timeout`) and is
//! woken early only by a flush, a shutdown, or a channel filling up.
//!
//! # The exit path
//!
//! A flush (the guard's drop, or [`flush`](crate::flush)) waits for the worker at most
//! until its deadline. Whatever the worker has not delivered by then is *taken over* by
//! the flushing thread: it drains the channel itself, builds the events, and appends
//! them, the worker's pending events and the batch the worker has on the network right
//! now to the spool (durable sinks only), then returns. It never waits on the network.
//!
//! That works because everything undelivered lives in one [`Core`] behind a mutex that
//! the worker never holds across network I/O: it takes a batch out of `pending` and
//! registers it as in flight in one critical section, sends without the lock, and
//! settles the outcome in another. The exit path therefore sees every event exactly
//! once: in the channel, in `pending`, or in flight.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::Thread;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender};

use super::event_builder::EventBuilder;
use super::policy::Policy;
use crate::call::{self, Cold, Envelope};
use crate::delivery::{timestamp, Delivery, DeliveryState, Route, Sent, Spool};
use crate::event::{Batch, Event};

/// How often an idle worker looks for folded calls of hot steps.
const IDLE_ROUND: Duration = Duration::from_secs(1);
/// Empty cold parts the worker makes when it starts, for callers to fill (at most the
/// spares channel's capacity), each with room for 256 bytes of spilled values: about
/// 21 KB, enough for the budgeted calls of a typical command-line tool.
const PREFILLED_SPARES: usize = 64;
/// How long the exit path waits for the delivery record's lock.
const EXIT_RECORD_WAIT: Duration = Duration::from_millis(10);
/// At exit, a spooled batch is only sent if the deadline is further away than this
/// many of the last round trips (plus [`EXIT_SLACK`]).
const EXIT_ROUND_TRIPS: u32 = 3;
const EXIT_SLACK: Duration = Duration::from_millis(5);

/// What the worker needs to build and deliver events.
pub(crate) struct WorkerSettings {
    /// What the event builder is made from, on first use.
    pub(crate) seed: Seed,
    pub(crate) delivery: Delivery,
    /// Deliver as soon as this many events wait.
    pub(crate) batch_size: usize,
    /// Deliver events at the latest this long after the first of them arrived.
    pub(crate) linger: Duration,
    /// The level filter and sample rate applied to every event built.
    pub(crate) policy: Policy,
}

/// The handle the runtime keeps: wakes the worker, waits for its flushes, and takes
/// over at a deadline.
pub(crate) struct Worker {
    thread: Option<Thread>,
    shared: Arc<Shared>,
}

/// Shared between the worker thread and the threads that flush.
struct Shared {
    control: Mutex<Control>,
    changed: Condvar,
    core: Mutex<Core>,
    receiver: Receiver<Envelope>,
    /// Where the cold parts of built records go back to callers (see `take_cold`).
    spares: Sender<Box<Cold>>,
    spool: Option<Arc<Spool>>,
    delivery_state: Arc<DeliveryState>,
    batch_size: usize,
}

#[derive(Default)]
struct Control {
    /// Flushes asked for so far; the worker serves them in order.
    requested: u64,
    /// Flushes the worker has completed.
    completed: u64,
    /// The exit flush was asked for, with this deadline.
    shutdown: Option<Instant>,
    /// The worker thread has returned (or never started).
    ended: bool,
}

/// Every event not yet delivered, outside the channel.
struct Core {
    builder: Builder,
    /// Built, not yet handed to the delivery.
    pending: Vec<Event>,
    /// The batch of pending events the worker is sending right now.
    in_flight: Option<InFlight>,
    /// A spooled batch is on the network right now.
    draining: bool,
    /// The exit path took over for good: the worker must not touch anything more.
    closed: bool,
    /// The exit path wrote to the spool (so the worker has something to send later).
    spooled: bool,
    /// Applied to every event before it joins `pending`.
    policy: Policy,
}

struct InFlight {
    batch: Arc<Batch>,
    /// Set when the exit path wrote the batch to the spool.
    spooled_as: Vec<PathBuf>,
}

/// The event builder, made on first use (context detection reads a few files).
enum Builder {
    Seed(Box<Seed>),
    Ready(Box<EventBuilder>),
}

/// The identity of this run's events, from which the event builder is made.
pub(crate) struct Seed {
    pub(crate) app_name: String,
    pub(crate) app_version: String,
    pub(crate) anonymous_id: String,
    pub(crate) session_id: String,
    /// Independent of the session id, so invocation ids reveal nothing about it.
    pub(crate) session_seed: u64,
    /// A monotonic reading and the wall-clock time taken with it.
    pub(crate) base: (u64, SystemTime),
}

impl Core {
    fn builder(&mut self) -> &mut EventBuilder {
        if let Builder::Seed(seed) = &self.builder {
            let context =
                super::context::detect(&seed.app_name, &seed.app_version, seed.session_id.clone());
            let builder = EventBuilder::new(
                seed.anonymous_id.clone(),
                context,
                seed.base,
                seed.session_seed,
            );
            self.builder = Builder::Ready(Box::new(builder));
        }
        match &mut self.builder {
            Builder::Ready(builder) => builder,
            Builder::Seed(_) => unreachable!("built above"),
        }
    }

    /// Takes every message queued right now, without waiting for more.
    fn drain(&mut self, receiver: &Receiver<Envelope>, spares: &Sender<Box<Cold>>) {
        while let Ok(message) = receiver.try_recv() {
            let builder = self.builder();
            let event = match message {
                Envelope::Call(record) => {
                    // The callers' budget count is approximate (see `claim_event`): the
                    // worker's is exact, and folds what the budget has no room for.
                    let event = if record.callsite.counters().admit_event(call::budget()) {
                        Some(builder.call(&record))
                    } else {
                        builder.fold(&record);
                        None
                    };
                    if let Some(cold) = record.cold {
                        // Handed back, so the caller that fills it again allocates nothing.
                        cold.recycle(spares);
                    }
                    match event {
                        Some(event) => event,
                        None => continue,
                    }
                }
                Envelope::Custom(custom) => builder.custom(*custom),
            };
            self.pending.extend(self.policy.admit(event));
        }
    }

    fn collect_aggregates(&mut self) {
        for callsite in call::folding() {
            if let Some(folded) = callsite.counters().take() {
                let event = self.builder().aggregate(callsite, folded);
                self.pending.extend(self.policy.admit(event));
            }
        }
    }
}

impl Shared {
    fn control(&self) -> MutexGuard<'_, Control> {
        // A panic on the worker must not take the host down with a poisoned lock.
        self.control
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn core(&self) -> MutexGuard<'_, Core> {
        self.core
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn complete(&self, ticket: u64) {
        let mut control = self.control();
        control.completed = control.completed.max(ticket);
        self.changed.notify_all();
    }
}

/// Marks the worker as ended however it returns (a panic included), so flushes stop
/// waiting for it.
struct EndedOnDrop<'a>(&'a Shared);

impl Drop for EndedOnDrop<'_> {
    fn drop(&mut self) {
        let mut control = self.0.control();
        control.ended = true;
        self.0.changed.notify_all();
    }
}

impl Worker {
    /// Starts the worker thread. If the thread cannot be started, nothing is sent, and
    /// at exit the flushing thread spools what was recorded (durable sinks).
    pub(crate) fn spawn(
        receiver: Receiver<Envelope>,
        spares: Sender<Box<Cold>>,
        settings: WorkerSettings,
    ) -> Worker {
        let WorkerSettings {
            seed,
            mut delivery,
            batch_size,
            linger,
            policy,
        } = settings;
        delivery.prepare(&seed.app_version);
        let handles = delivery.exit_handles();
        let batch_size = batch_size.max(1);
        let shared = Arc::new(Shared {
            control: Mutex::new(Control::default()),
            changed: Condvar::new(),
            core: Mutex::new(Core {
                builder: Builder::Seed(Box::new(seed)),
                pending: Vec::new(),
                in_flight: None,
                draining: false,
                closed: false,
                spooled: false,
                policy,
            }),
            receiver,
            spares,
            spool: handles.spool,
            delivery_state: handles.delivery_state,
            batch_size,
        });
        let worker_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("telemetry".to_owned())
            .spawn(move || {
                let _ended = EndedOnDrop(&worker_shared);
                run(&worker_shared, delivery, linger);
            })
            .map(|handle| handle.thread().clone())
            .map_err(|error| {
                crate::diag::debug(format_args!("could not start the worker thread: {error}"))
            })
            .ok();
        if thread.is_none() {
            shared.control().ended = true;
        }
        Worker { thread, shared }
    }

    /// The worker's thread, for callers to unpark (`None` if it could not be started).
    pub(crate) fn thread(&self) -> Option<Thread> {
        self.thread.clone()
    }

    /// Wakes the worker for an early round.
    pub(crate) fn wake(&self) {
        if let Some(thread) = &self.thread {
            thread.unpark();
        }
    }

    /// Asks for everything queued so far to be delivered and waits until it is, or until
    /// `deadline`; then spools what is left (durable sinks). Returns `true` if the
    /// worker delivered everything in time.
    pub(crate) fn flush(&self, deadline: Instant) -> bool {
        let delivered = self.request_and_wait(deadline, false);
        if !delivered {
            self.take_over(false);
        }
        delivered
    }

    /// The exit flush: like [`flush`](Worker::flush), then the worker ends (a worker
    /// stuck on the network is abandoned: this never joins it, and it ends with the
    /// process).
    pub(crate) fn shutdown(&self, deadline: Instant) -> bool {
        let delivered = self.request_and_wait(deadline, true);
        if !delivered {
            self.take_over(true);
        }
        delivered
    }

    fn request_and_wait(&self, deadline: Instant, shutdown: bool) -> bool {
        let mut control = self.shared.control();
        if control.ended {
            return false;
        }
        control.requested += 1;
        let ticket = control.requested;
        if shutdown {
            control.shutdown = Some(deadline);
        }
        self.wake();
        while control.completed < ticket {
            let now = Instant::now();
            if now >= deadline || control.ended {
                return false;
            }
            let left = deadline.saturating_duration_since(now);
            control = match self.shared.changed.wait_timeout(control, left) {
                Ok((control, _)) => control,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    /// The deadline passed: spools everything the worker has not delivered, without
    /// waiting on the network. With `closing`, the worker may not send anything more.
    fn take_over(&self, closing: bool) {
        let shared = &self.shared;
        let mut core = shared.core();
        if core.closed {
            return;
        }
        if closing {
            core.closed = true;
        }
        let Some(spool) = &shared.spool else {
            // A non-durable sink: nothing can be kept; the worker finishes on its own.
            return;
        };
        core.drain(&shared.receiver, &shared.spares);
        core.collect_aggregates();
        let busy = core.in_flight.is_some() || core.draining;
        let mut lost = 0;
        let mut keep = |events: &[Event]| -> Vec<PathBuf> {
            match spool.append(events, shared.batch_size) {
                Ok((paths, dropped)) => {
                    lost += dropped;
                    paths
                }
                Err((error, unwritten)) => {
                    crate::diag::debug(format_args!(
                        "cannot write the spool in {}: {error}",
                        spool.dir().display()
                    ));
                    lost += unwritten;
                    Vec::new()
                }
            }
        };
        if let Some(in_flight) = &mut core.in_flight {
            if in_flight.spooled_as.is_empty() {
                in_flight.spooled_as = keep(&in_flight.batch.batch);
            }
        }
        let mut pending = std::mem::take(&mut core.pending);
        if !pending.is_empty() {
            let dropped = call::take_dropped() + shared.delivery_state.take_lost(EXIT_RECORD_WAIT);
            attach_dropped_count(&mut pending, dropped);
            keep(&pending);
        }
        core.spooled = true;
        if busy {
            // Unanswered at the deadline: as good as a failure, and the next processes
            // should not pay for the same wait.
            shared.delivery_state.failed(None, EXIT_RECORD_WAIT);
        }
        shared.delivery_state.add_lost(lost, EXIT_RECORD_WAIT);
        crate::diag::debug(format_args!(
            "flush deadline reached; undelivered events are kept in {}",
            spool.dir().display()
        ));
    }
}

/// What one round of the worker does once it let go of the core lock.
enum Job {
    /// Nothing to do: sleep.
    Idle,
    /// Work was done under the lock (spooled, dropped); look again at once.
    Done,
    /// Send this batch of pending events.
    Send(Arc<Batch>),
    /// Send a batch from the spool.
    Drain,
    /// Hand these to a non-durable sink.
    Memory(Vec<Event>),
}

fn run(shared: &Shared, mut delivery: Delivery, linger: Duration) {
    let batch_size = shared.batch_size;
    {
        let mut core = shared.core();
        if core.closed {
            return;
        }
        core.builder();
    }
    delivery.scan_spool();
    // Boxes for the cold parts of the first calls with arguments or failures, made here
    // rather than on the callers' threads (which then only reuse boxes).
    for _ in 0..PREFILLED_SPARES {
        if shared.spares.try_send(Box::new(Cold::with_room())).is_err() {
            break;
        }
    }
    let mut first_pending_at: Option<Instant> = None;
    let mut last_aggregate_round = Instant::now();

    loop {
        let (ticket, shutdown) = {
            let control = shared.control();
            let ticket = (control.requested > control.completed).then_some(control.requested);
            (ticket, control.shutdown)
        };
        let flushing = ticket.is_some();

        let job = {
            let mut core = shared.core();
            if core.closed {
                return;
            }
            if std::mem::take(&mut core.spooled) {
                delivery.note_spooled();
            }
            core.drain(&shared.receiver, &shared.spares);
            if core.pending.is_empty() {
                first_pending_at = None;
            } else if first_pending_at.is_none() {
                first_pending_at = Some(Instant::now());
            }
            let lingered = first_pending_at.is_some_and(|at| at.elapsed() >= linger);
            if flushing || lingered || last_aggregate_round.elapsed() >= IDLE_ROUND {
                core.collect_aggregates();
                last_aggregate_round = Instant::now();
            }
            let full = core.pending.len() >= batch_size;
            let due = flushing || lingered || full;
            // Spooled (older) events go first, except at a flush or when a batch is full.
            let drain = !flushing && delivery.wants_drain();
            if due && !core.pending.is_empty() && (full || !drain) {
                dispatch(&mut core, &mut delivery, batch_size)
            } else if drain {
                Job::Drain
            } else {
                if flushing {
                    delivery.retry_memory(batch_size);
                }
                Job::Idle
            }
        };

        let worked = !matches!(job, Job::Idle);
        match job {
            Job::Idle | Job::Done => {}
            Job::Send(batch) => {
                if !send_pending(shared, &mut delivery, batch) {
                    return;
                }
            }
            Job::Drain => {
                if !drain_spool(shared, &mut delivery) {
                    return;
                }
            }
            Job::Memory(events) => delivery.deliver_memory(events, batch_size),
        }

        if let Some(ticket) = ticket {
            if shared.core().pending.is_empty() {
                if let Some(deadline) = shutdown {
                    drain_before(shared, &mut delivery, deadline);
                    shared.complete(ticket);
                    return;
                }
                shared.complete(ticket);
            }
        }
        if worked {
            continue;
        }
        let sleep = match first_pending_at {
            Some(at) => linger.saturating_sub(at.elapsed()),
            None => IDLE_ROUND,
        };
        std::thread::park_timeout(sleep.max(Duration::from_millis(1)));
    }
}

/// Decides where the due pending events go; called with the core lock held.
fn dispatch(core: &mut Core, delivery: &mut Delivery, batch_size: usize) -> Job {
    let oversized = crate::delivery::drop_oversized(&mut core.pending);
    if core.pending.is_empty() {
        delivery.record_lost(oversized);
        return Job::Done;
    }
    let dropped = call::take_dropped() + delivery.take_lost() + oversized;
    attach_dropped_count(&mut core.pending, dropped);
    match delivery.route() {
        Route::Network => {
            // Bounded in bytes too: a receiver refuses large bodies.
            let take = crate::delivery::batch_len(&core.pending, batch_size);
            let batch = Arc::new(Batch {
                batch: core.pending.drain(..take).collect(),
                sent_at: timestamp(SystemTime::now()),
            });
            core.in_flight = Some(InFlight {
                batch: Arc::clone(&batch),
                spooled_as: Vec::new(),
            });
            Job::Send(batch)
        }
        Route::Spool => {
            let events = std::mem::take(&mut core.pending);
            delivery.spool_events(&events, batch_size);
            Job::Done
        }
        Route::Discard => {
            let events = std::mem::take(&mut core.pending);
            delivery.discard(&events, "the receiver stopped this installation (410 Gone)");
            Job::Done
        }
        Route::Memory => Job::Memory(std::mem::take(&mut core.pending)),
    }
}

/// Sends a batch of pending events and settles it. Returns `false` if the worker must
/// end (the exit path took over).
fn send_pending(shared: &Shared, delivery: &mut Delivery, batch: Arc<Batch>) -> bool {
    let attempt = delivery.attempt(&batch);
    let mut core = shared.core();
    let spooled_as = core
        .in_flight
        .take()
        .map(|in_flight| in_flight.spooled_as)
        .unwrap_or_default();
    match attempt.sent() {
        // Before the bookkeeping, so that a kill in between cannot send the batch again
        // (see `Delivery::attempt`); and once the batch is no longer in flight, the exit
        // path does not spool it again either.
        Sent::Delivered | Sent::Rejected | Sent::Gone => delivery.unspool(&spooled_as),
        // Spooled under the core lock, so the exit path sees the batch in flight or on
        // disk, never in between.
        Sent::Retry if spooled_as.is_empty() && !core.closed => {
            delivery.spool_events(&batch.batch, shared.batch_size);
        }
        Sent::Retry => {}
    }
    let closed = core.closed;
    drop(core);
    delivery.settle(&batch, attempt);
    !closed
}

/// Sends one batch from the spool. Returns `false` if the worker must end.
fn drain_spool(shared: &Shared, delivery: &mut Delivery) -> bool {
    let busy = |on: bool| shared.core().draining = on;
    delivery.drain_one(shared.batch_size, &busy);
    !shared.core().closed
}

/// At exit, after the pending events: sends spooled batches while the deadline is
/// comfortably further away than a round trip, so a short-lived tool still empties the
/// spool on a fast network without ever being held past its bound.
fn drain_before(shared: &Shared, delivery: &mut Delivery, deadline: Instant) {
    while let Some(round_trip) = delivery.round_trip() {
        let needed = round_trip
            .saturating_mul(EXIT_ROUND_TRIPS)
            .saturating_add(EXIT_SLACK);
        if crate::time::instant_after(Instant::now(), needed) >= deadline || !delivery.wants_drain()
        {
            return;
        }
        if !delivery.drain_one(shared.batch_size, &|on| shared.core().draining = on)
            || shared.core().closed
        {
            return;
        }
    }
}

/// Reports events lost on the way (a full channel, the spool's bounds, rejected
/// batches) in the next event that goes out.
fn attach_dropped_count(pending: &mut [Event], dropped: u64) {
    if dropped > 0 {
        if let Some(first) = pending.first_mut() {
            let before = first
                .properties
                .get("dropped_events")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            first
                .properties
                .insert("dropped_events".into(), (before + dropped).into());
        }
    }
}
