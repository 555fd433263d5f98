//! 1,000,000 calls of one tracked step in a loop: how many events come out, whether every
//! call is accounted for, what a call costs in that loop, and how much resident memory
//! grows. Prints its figures; `cargo bench -p cli-telemetry --bench aggregation`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use telemetry::{Batch, Sink, SinkError};

const CALLS: u64 = 1_000_000;

#[derive(Default)]
struct Tally {
    events: u64,
    single: u64,
    aggregates: u64,
    aggregated_calls: u64,
    dropped: u64,
}

struct CountingSink(Arc<Mutex<Tally>>);

impl Sink for CountingSink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut tally = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for event in &batch.batch {
            tally.events += 1;
            tally.dropped += event
                .properties
                .get("dropped_events")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            if event.event != "step_tracked" {
                continue;
            }
            match event.properties.get("aggregate") {
                Some(aggregate) => {
                    tally.aggregates += 1;
                    tally.aggregated_calls += aggregate["count"].as_u64().unwrap_or(0);
                }
                None => tally.single += 1,
            }
        }
        Ok(())
    }
}

fn main() {
    common::clear_environment("BENCH_AGGREGATION");
    let tally = Arc::new(Mutex::new(Tally::default()));
    let guard = telemetry::init(
        common::config("bench-aggregation")
            .sink(CountingSink(Arc::clone(&tally)))
            .flush_timeout(Duration::from_secs(10)),
    );
    assert!(
        guard.is_enabled(),
        "telemetry must be on: {:?}",
        guard.status()
    );

    let rss_before = common::proc_status_kb("VmRSS");
    let hwm_before = common::proc_status_kb("VmHWM");
    let start = Instant::now();
    for i in 0..CALLS {
        std::hint::black_box(common::tracked(std::hint::black_box(i)));
    }
    let elapsed = start.elapsed();
    telemetry::flush();
    let rss_after = common::proc_status_kb("VmRSS");
    let hwm_after = common::proc_status_kb("VmHWM");
    drop(guard);

    let tally = tally
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let accounted = tally.single + tally.aggregated_calls + tally.dropped;
    println!(
        "aggregation: {CALLS} calls of one step in {elapsed:?} ({:.1} ns/call)",
        elapsed.as_nanos() as f64 / CALLS as f64
    );
    println!(
        "aggregation: {} events ({} sent one by one, {} aggregates of {} calls); {} dropped; {accounted} calls accounted for",
        tally.events, tally.single, tally.aggregates, tally.aggregated_calls, tally.dropped
    );
    if let (Some(rss_before), Some(rss_after), Some(hwm_before), Some(hwm_after)) =
        (rss_before, rss_after, hwm_before, hwm_after)
    {
        println!(
            "aggregation: VmRSS {rss_before} kB -> {rss_after} kB ({:+} kB); VmHWM {hwm_before} kB -> {hwm_after} kB; peak growth over the starting RSS at most {} kB",
            rss_after as i64 - rss_before as i64,
            hwm_after.saturating_sub(rss_before)
        );
    }
    assert_eq!(
        accounted, CALLS,
        "every call is sent, aggregated or counted as dropped"
    );
}
