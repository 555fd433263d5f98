//! A step called 1,000,000 times in a loop produces a handful of events, every call is
//! accounted for exactly, and resident memory barely moves.
#![cfg(feature = "enabled")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use telemetry::{tracked_step, Batch, Event, Sink, SinkError};

const CALLS: u64 = 1_000_000;

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<Event>>>);

impl Sink for Collect {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.0.lock().unwrap().extend(batch.batch.iter().cloned());
        Ok(())
    }
}

#[tracked_step(name = "hot")]
fn hot(row: u64) -> Result<u64, std::io::Error> {
    if row % 1000 == 999 {
        return Err(std::io::Error::other("every thousandth row fails"));
    }
    Ok(std::hint::black_box(row))
}

fn rss_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

#[test]
fn a_million_calls_of_one_step_make_a_handful_of_events() {
    std::env::remove_var("DO_NOT_TRACK");
    std::env::remove_var("AGGREGATION_TELEMETRY_DISABLED");
    std::env::remove_var("AGGREGATION_TELEMETRY_DEBUG");
    std::env::remove_var("AGGREGATION_TELEMETRY_ENDPOINT");
    let state = tempfile::tempdir().unwrap();
    let sink = Collect::default();
    let budget = telemetry::DEFAULT_EVENT_BUDGET;
    let guard = telemetry::init(
        telemetry::Config::new("aggregation", "1.0")
            .sink(sink.clone())
            .state_dir(state.path())
            .flush_timeout(Duration::from_secs(30)),
    );
    assert!(guard.is_enabled(), "{:?}", guard.status());

    // Warm up the allocator and the worker before measuring.
    telemetry::flush();
    let rss_before = rss_kb("VmRSS");
    let mut failed = 0u64;
    for row in 0..CALLS {
        failed += u64::from(hot(row).is_err());
    }
    telemetry::flush();
    let rss_after = rss_kb("VmRSS");
    let peak_after = rss_kb("VmHWM");
    drop(guard);

    let events = sink.0.lock().unwrap();
    let hot_events: Vec<&Event> = events
        .iter()
        .filter(|event| event.event == "step_hot")
        .collect();
    let (aggregates, single): (Vec<&Event>, Vec<&Event>) = hot_events
        .iter()
        .partition(|event| event.properties.contains_key("aggregate"));
    let dropped: u64 = events
        .iter()
        .filter_map(|event| event.properties.get("dropped_events")?.as_u64())
        .sum();
    let figure = |event: &Event, key: &str| event.properties["aggregate"][key].as_u64().unwrap();
    let aggregated: u64 = aggregates.iter().map(|event| figure(event, "count")).sum();
    let aggregated_failures: u64 = aggregates
        .iter()
        .map(|event| figure(event, "failures"))
        .sum();
    let single_failures = single
        .iter()
        .filter(|event| event.properties["success"] == false)
        .count() as u64;

    assert_eq!(dropped, 0, "nothing was dropped");
    assert_eq!(
        single.len() as u64,
        u64::from(budget),
        "the budget's calls are sent one by one"
    );
    assert!(
        (1..=5).contains(&aggregates.len()),
        "the rest are folded into a handful of aggregates, not {}",
        aggregates.len()
    );
    assert_eq!(
        single.len() as u64 + aggregated,
        CALLS,
        "every call is counted exactly once"
    );
    assert_eq!(
        single_failures + aggregated_failures,
        failed,
        "and so is every failure"
    );
    for aggregate in &aggregates {
        let figures = &aggregate.properties["aggregate"];
        let min = figures["min_elapsed"].as_f64().unwrap();
        let max = figures["max_elapsed"].as_f64().unwrap();
        let total = figures["total_elapsed"].as_f64().unwrap();
        assert!(min <= max && max <= total, "{figures}");
        assert_eq!(
            aggregate.properties["success"], false,
            "some of the folded calls failed"
        );
    }

    if let (Some(before), Some(after), Some(peak)) = (rss_before, rss_after, peak_after) {
        let growth = after.saturating_sub(before);
        let peak_growth = peak.saturating_sub(before);
        eprintln!("RSS {before} kB -> {after} kB (+{growth} kB), peak {peak} kB");
        eprintln!(
            "{} events for {CALLS} calls: {} single, {} aggregates of {aggregated} calls",
            hot_events.len(),
            single.len(),
            aggregates.len()
        );
        assert!(growth <= 5 * 1024, "resident memory grew by {growth} kB");
        assert!(
            peak_growth <= 5 * 1024,
            "peak resident memory grew by {peak_growth} kB"
        );
    }
}
