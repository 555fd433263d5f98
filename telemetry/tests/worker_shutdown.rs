//! Dropping the guard flushes and ends the worker thread; later calls are no-ops.
#![cfg(feature = "enabled")]

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use telemetry::{Batch, Event, Sink, SinkError};

struct Recording {
    events: Arc<Mutex<Vec<Event>>>,
    dropped: mpsc::Sender<()>,
}

impl Sink for Recording {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.events
            .lock()
            .unwrap()
            .extend(batch.batch.iter().cloned());
        Ok(())
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let _ = self.dropped.send(());
    }
}

#[test]
fn guard_drop_flushes_then_worker_ends() {
    let state = tempfile::tempdir().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let guard = telemetry::init(
        telemetry::Config::new("worker-shutdown", "1.0")
            .sink(Recording {
                events: Arc::clone(&events),
                dropped: dropped_tx,
            })
            .state_dir(state.path())
            // Long linger: only the exit flush can deliver these in time.
            .batching(1000, Duration::from_secs(60))
            .flush_timeout(Duration::from_secs(5)),
    );
    assert!(guard.is_enabled(), "{:?}", guard.status());
    for _ in 0..3 {
        telemetry::command!("work").success();
    }
    drop(guard);
    assert_eq!(
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|event| event.event == "command_work")
            .count(),
        3,
        "the exit flush delivered everything recorded before it"
    );
    // The worker returns after the flush, dropping its delivery and with it the sink.
    dropped_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the worker thread ended and dropped its sink");

    telemetry::command!("late").success();
    telemetry::flush();
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .all(|event| event.event != "command_late"));
}
