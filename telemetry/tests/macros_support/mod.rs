//! Shared by the `macros_*` behaviour tests: telemetry started once per test process
//! with a sink that keeps every event in memory, a lock that runs the tests of a file
//! one at a time (a step on a thread without a command falls back to the process's
//! running command, so concurrent tests would see each other's commands), and a tiny
//! executor.

#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use serde_json::Value;
use telemetry::{Batch, Event, Sink, SinkError};

static EVENTS: Mutex<Vec<Event>> = Mutex::new(Vec::new());
static STARTED: OnceLock<tempfile::TempDir> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::new(());

/// Keeps every event it is given.
struct Capture;

impl Sink for Capture {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        lock(&EVENTS).extend(batch.batch.iter().cloned());
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts telemetry for this test process (once) and returns the lock that serializes
/// the file's tests. Hold it for the whole test.
pub fn start() -> MutexGuard<'static, ()> {
    STARTED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary state directory");
        // Consent must not be taken from the machine running the tests.
        std::env::remove_var("DO_NOT_TRACK");
        std::env::remove_var("MACROS_TEST_TELEMETRY_DISABLED");
        let guard = telemetry::init(
            telemetry::Config::new("macros-test", "1.0.0")
                .sink(Capture)
                .state_dir(dir.path())
                .cache_dir(dir.path().join("cache"))
                .enabled(true)
                .event_budget(100_000)
                .flush_timeout(Duration::from_secs(10)),
        );
        assert!(
            guard.is_enabled(),
            "telemetry is on for the tests: {:?}",
            guard.status()
        );
        // Flushed explicitly by the tests; never dropped.
        std::mem::forget(guard);
        dir
    });
    lock(&SERIAL)
}

/// Every event delivered so far whose name is `event` (`step_load`, `command_init`).
pub fn events(event: &str) -> Vec<Event> {
    telemetry::flush();
    lock(&EVENTS)
        .iter()
        .filter(|candidate| candidate.event == event)
        .cloned()
        .collect()
}

/// The one event named `event`; fails when there is not exactly one.
pub fn single(event: &str) -> Event {
    let mut found = events(event);
    assert_eq!(
        found.len(),
        1,
        "expected one `{event}` event, found {found:#?}"
    );
    found.remove(0)
}

/// `properties[key]`.
pub fn property<'a>(event: &'a Event, key: &str) -> &'a Value {
    event.properties.get(key).unwrap_or(&Value::Null)
}

/// `properties.args`, as an object (empty when absent).
pub fn args(event: &Event) -> serde_json::Map<String, Value> {
    match event.properties.get("args") {
        Some(Value::Object(map)) => map.clone(),
        _ => serde_json::Map::new(),
    }
}

/// `properties.success`.
pub fn success(event: &Event) -> bool {
    property(event, "success")
        .as_bool()
        .unwrap_or_else(|| panic!("no `success` in {event:#?}"))
}

/// `properties.error.kind`, if any.
pub fn error_kind(event: &Event) -> Option<String> {
    property(event, "error")
        .get("kind")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `properties.elapsed`, in seconds.
pub fn elapsed(event: &Event) -> f64 {
    property(event, "elapsed")
        .as_f64()
        .unwrap_or_else(|| panic!("no `elapsed` in {event:#?}"))
}

/// Wakes the thread blocked in [`block_on`].
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on the current thread.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut context = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(value) => return value,
            Poll::Pending => thread::park(),
        }
    }
}

/// A future that is pending until `duration` has passed (a thread wakes it).
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        duration,
        started: None,
    }
}

/// See [`sleep`].
pub struct Sleep {
    duration: Duration,
    started: Option<Arc<Mutex<bool>>>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        match &self.started {
            Some(done) if *lock(done) => Poll::Ready(()),
            Some(_) => Poll::Pending,
            None => {
                let done = Arc::new(Mutex::new(false));
                let waker = context.waker().clone();
                let duration = self.duration;
                let flag = Arc::clone(&done);
                thread::spawn(move || {
                    thread::sleep(duration);
                    *lock(&flag) = true;
                    waker.wake();
                });
                self.started = Some(done);
                Poll::Pending
            }
        }
    }
}

/// A future that is pending on its first poll and ready on the second (wakes itself).
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// See [`yield_now`].
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            context.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
