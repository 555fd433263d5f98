//! Sends do not wake the worker, which sleeps a second between rounds when it has
//! nothing pending, except when the channel fills up: a sender that finds it half full
//! (a callsite looks on its first send and every 16th after it) wakes it, and so does a
//! sender that finds it full.
#![cfg(feature = "enabled")]

mod capture;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use capture::Capture;
use telemetry::Event;

const CAPACITY: usize = 64;

fn start(app: &str, events: &Arc<Mutex<Vec<Event>>>, state: &std::path::Path) -> telemetry::Guard {
    std::env::remove_var("DO_NOT_TRACK");
    let guard = telemetry::init(
        telemetry::Config::new(app, "1.0")
            .sink(Capture(Arc::clone(events)))
            .state_dir(state)
            .cache_dir(state.join("cache"))
            .channel_capacity(CAPACITY)
            .event_budget(u32::MAX)
            // A batch goes out once 32 events wait; none goes out on a timer.
            .batching(CAPACITY / 2, Duration::from_secs(3600))
            .flush_timeout(Duration::from_secs(30)),
    );
    assert!(guard.is_enabled(), "{:?}", guard.status());
    guard
}

#[test]
fn a_half_full_channel_wakes_the_sleeping_worker() {
    let state = tempfile::tempdir().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let guard = start("worker-wake", &events, state.path());
    // Let the worker reach its sleep: a second, since nothing is pending.
    std::thread::sleep(Duration::from_millis(100));

    // Three quarters of the channel: nothing is dropped, so only the half-full check
    // can wake the worker, which then builds the events and sends a batch of 32.
    for _ in 0..CAPACITY * 3 / 4 {
        telemetry::step!("burst").success();
    }
    let sent = Instant::now();
    // Generous against the microseconds a wake-up takes, and still well short of the
    // worker's own next round (about 900 ms from here).
    while events.lock().unwrap().len() < CAPACITY / 2 && sent.elapsed() < Duration::from_millis(600)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let delivered = events.lock().unwrap().len();
    assert!(
        delivered >= CAPACITY / 2,
        "{delivered} events delivered {:?} after the burst: the worker was not woken",
        sent.elapsed()
    );

    telemetry::flush();
    let events = events.lock().unwrap();
    assert_eq!(events.len(), CAPACITY * 3 / 4, "nothing was dropped");
    assert!(events
        .iter()
        .all(|event| event.properties.get("dropped_events").is_none()));
    drop(guard);
}
