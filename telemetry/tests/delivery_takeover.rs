//! In one process, with a durable sink of our own: batching by count and by time, and
//! what a flush does when the sink does not answer in time (the spool takes over, and
//! a batch delivered after all is taken out of the spool again).
#![cfg(feature = "enabled")]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use telemetry::{Batch, Event, Sink, SinkError};

/// Records batches; while `hold` is set, a send blocks until it is cleared (at most
/// 20 s), like a receiver that accepts a request and answers much later.
#[derive(Clone, Default)]
struct Receiver {
    batches: Arc<Mutex<Vec<Vec<Event>>>>,
    hold: Arc<(Mutex<bool>, Condvar)>,
    blocked: Arc<AtomicBool>,
}

impl Receiver {
    fn set_hold(&self, on: bool) {
        *self.hold.0.lock().unwrap() = on;
        self.hold.1.notify_all();
    }

    fn events(&self) -> Vec<Event> {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .cloned()
            .collect()
    }

    fn batch_sizes(&self) -> Vec<usize> {
        self.batches.lock().unwrap().iter().map(Vec::len).collect()
    }

    fn wait_for(&self, limit: Duration, done: impl Fn(&Receiver) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while !done(self) {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }
}

impl Sink for Receiver {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let (lock, changed) = &*self.hold;
        let mut hold = lock.lock().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while *hold && Instant::now() < deadline {
            self.blocked.store(true, Ordering::SeqCst);
            hold = changed
                .wait_timeout(hold, Duration::from_millis(50))
                .unwrap()
                .0;
        }
        self.blocked.store(false, Ordering::SeqCst);
        drop(hold);
        self.batches.lock().unwrap().push(batch.batch.clone());
        Ok(())
    }

    fn durable(&self) -> bool {
        true
    }
}

/// The spooled events, by `messageId`.
fn spooled(spool: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(spool) else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines() {
            let event: Event = serde_json::from_str(line).expect("a whole event per line");
            ids.push(event.message_id);
        }
    }
    ids.sort();
    ids
}

fn ids(events: &[Event]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .map(|event| event.message_id.clone())
        .collect();
    ids.sort();
    ids
}

#[test]
fn batches_by_count_and_time_and_spools_what_a_deadline_leaves() {
    let state = tempfile::tempdir().unwrap();
    let cache: PathBuf = state.path().join("cache");
    let spool = cache.join("spool").join("sink");
    let receiver = Receiver::default();
    let flush_timeout = Duration::from_millis(150);
    let guard = telemetry::init(
        telemetry::Config::new("delivery-takeover", "1.0")
            .sink(receiver.clone())
            .state_dir(state.path())
            .cache_dir(&cache)
            .batching(3, Duration::from_millis(300))
            .flush_timeout(flush_timeout),
    );
    assert!(guard.is_enabled(), "{:?}", guard.status());

    // By count: three events go out together, without a flush.
    for _ in 0..3 {
        telemetry::command!("counted").success();
    }
    assert!(receiver.wait_for(Duration::from_secs(3), |r| r.events().len() == 3));
    assert_eq!(receiver.batch_sizes(), [3]);

    // By time: one event goes out alone once it lingered.
    telemetry::command!("lingered").success();
    assert!(receiver.wait_for(Duration::from_secs(3), |r| r.events().len() == 4));
    assert_eq!(receiver.batch_sizes(), [3, 1]);

    // The receiver stops answering: a flush waits at most its bound, then the batch in
    // flight goes to the spool.
    receiver.set_hold(true);
    for _ in 0..2 {
        telemetry::command!("held").success();
    }
    let started = Instant::now();
    telemetry::flush();
    let took = started.elapsed();
    assert!(took >= flush_timeout / 2, "{took:?}");
    assert!(
        took < flush_timeout + Duration::from_millis(300),
        "{took:?}"
    );
    assert!(
        receiver.blocked.load(Ordering::SeqCst),
        "the worker is stuck in send"
    );
    let in_flight = spooled(&spool);
    assert_eq!(in_flight.len(), 2, "the batch in flight was spooled");

    // Still stuck: the next events go to the spool at the next flush's deadline.
    telemetry::command!("queued").success();
    telemetry::flush();
    assert_eq!(spooled(&spool).len(), 3);

    // The receiver answers after all: the batch it accepted leaves the spool, and the
    // rest is sent from the spool. Nothing twice.
    receiver.set_hold(false);
    assert!(
        receiver.wait_for(Duration::from_secs(10), |r| r.events().len() == 7
            && spooled(&spool).is_empty()),
        "delivered {:?}, still spooled {:?}",
        receiver.batch_sizes(),
        spooled(&spool)
    );
    let delivered = ids(&receiver.events());
    let mut unique = delivered.clone();
    unique.dedup();
    assert_eq!(delivered, unique, "no event twice");
    for id in &in_flight {
        assert!(delivered.contains(id));
    }
    drop(guard);
}
