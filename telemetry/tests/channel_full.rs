//! A full channel drops and counts events; the caller never blocks.
#![cfg(feature = "enabled")]

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use telemetry::{Batch, Event, Sink, SinkError};

/// Blocks in its first `send` until released, so the channel fills up behind it.
struct GatedSink {
    gate: Arc<Mutex<Option<mpsc::Receiver<()>>>>,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Sink for GatedSink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if let Some(gate) = self.gate.lock().unwrap().take() {
            let _ = gate.recv_timeout(Duration::from_secs(30));
        }
        self.events
            .lock()
            .unwrap()
            .extend(batch.batch.iter().cloned());
        Ok(())
    }
}

#[test]
fn full_channel_drops_counts_and_never_blocks() {
    let state = tempfile::tempdir().unwrap();
    let (release, gate) = mpsc::channel();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = GatedSink {
        gate: Arc::new(Mutex::new(Some(gate))),
        events: Arc::clone(&events),
    };
    let guard = telemetry::init(
        telemetry::Config::new("channel-full", "1.0")
            .sink(sink)
            .state_dir(state.path())
            .channel_capacity(16)
            .event_budget(1_000_000)
            .batching(1, Duration::from_millis(1))
            .flush_timeout(Duration::from_secs(10)),
    );
    assert!(guard.is_enabled(), "{:?}", guard.status());

    // The first event reaches the sink, which then blocks the worker.
    telemetry::step!("first").success();
    let wait = Instant::now();
    while events.lock().unwrap().is_empty() && wait.elapsed() < Duration::from_secs(5) {
        // The gate holds the sink inside `send`: events stays empty until release.
        if Arc::strong_count(&events) > 0 {
            std::thread::sleep(Duration::from_millis(20));
            break;
        }
    }

    let start = Instant::now();
    for _ in 0..10_000 {
        telemetry::step!("flood").success();
    }
    let elapsed = start.elapsed();
    // A generous bound: 10,000 non-blocking sends take milliseconds; a blocking send
    // would wait for the 30 s gate.
    assert!(elapsed < Duration::from_secs(5), "sending took {elapsed:?}");

    release.send(()).unwrap();
    telemetry::flush();
    // One more event after the drops carries the count.
    telemetry::step!("after").success();
    telemetry::flush();

    let events = events.lock().unwrap();
    let delivered_flood = events
        .iter()
        .filter(|event| event.event == "step_flood")
        .count();
    let dropped: u64 = events
        .iter()
        .filter_map(|event| event.properties.get("dropped_events"))
        .filter_map(serde_json::Value::as_u64)
        .sum();
    assert!(
        delivered_flood <= 16 + 1,
        "at most the channel's capacity got through: {delivered_flood}"
    );
    assert_eq!(
        delivered_flood as u64 + dropped,
        10_000,
        "every flood event is delivered or counted as dropped"
    );
    assert!(events.iter().any(|event| event.event == "step_after"));
}
