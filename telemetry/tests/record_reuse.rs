//! The cold part of a record (a failure, argument values) travels in a box that the
//! worker hands back to callers to fill again, and so does the spill of values too long
//! for it. A refilled box or spill must carry exactly the new call: no argument, failure
//! or message of the call that used it before.
#![cfg(feature = "enabled")]

mod capture;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use capture::Capture;
use serde_json::Value;
use telemetry::{tracked_step, Event};

/// Fails for odd rounds, with a message naming the round. `columns` is recorded in the
/// spill for most rounds, inline for the rest.
#[tracked_step(record(round, columns), hash(table))]
fn load(round: u32, table: &str, columns: &[String]) -> Result<(), std::io::Error> {
    let _ = (table, columns);
    if round % 2 == 1 {
        return Err(std::io::Error::other(format!("round {round} failed")));
    }
    Ok(())
}

/// Takes no argument: sent without a cold part when it succeeds.
#[tracked_step]
fn tick() {}

/// From none to a dozen columns, with names that differ from round to round.
fn columns_of(round: u32) -> Vec<String> {
    (0..round % 13)
        .map(|column| format!("column_{round}_{column}"))
        .collect()
}

#[test]
fn a_refilled_cold_part_carries_only_its_own_call() {
    let state = tempfile::tempdir().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    std::env::remove_var("DO_NOT_TRACK");
    std::env::remove_var("RECORD_REUSE_TELEMETRY_DISABLED");
    let guard = telemetry::init(
        telemetry::Config::new("record-reuse", "1.0")
            .sink(Capture(Arc::clone(&events)))
            .state_dir(state.path())
            .cache_dir(state.path().join("cache"))
            .error_messages(true)
            // Few spare boxes, so that most calls after the first round reuse one.
            .channel_capacity(16)
            .event_budget(1_000_000)
            .flush_timeout(Duration::from_secs(10)),
    );
    assert!(guard.is_enabled(), "{:?}", guard.status());

    const ROUNDS: u32 = 200;
    for round in 0..ROUNDS {
        // Two tables, so that equal hashes mean equal values.
        let table = if round % 3 == 0 { "alpha" } else { "beta" };
        let columns = columns_of(round);
        let _ = load(round, table, &columns);
        tick();
        if round % 4 == 3 {
            // The worker builds the events and hands their boxes back.
            telemetry::flush();
        }
    }
    telemetry::flush();

    let events = events.lock().unwrap();
    let loads: Vec<&Event> = events.iter().filter(|e| e.event == "step_load").collect();
    let ticks = events.iter().filter(|e| e.event == "step_tick").count();
    assert_eq!(loads.len(), ROUNDS as usize);
    assert_eq!(ticks, ROUNDS as usize);
    for event in events.iter().filter(|e| e.event == "step_tick") {
        assert_eq!(event.properties["success"], true, "{:?}", event.properties);
        assert_eq!(event.properties["args"], serde_json::json!({}));
        assert!(event.properties.get("error").is_none());
    }

    let mut hash_by_table: HashMap<&str, &Value> = HashMap::new();
    for event in loads {
        let properties = &event.properties;
        let round = properties["args"]["round"]
            .as_u64()
            .unwrap_or_else(|| panic!("a recorded round: {properties:?}"));
        let table = if round % 3 == 0 { "alpha" } else { "beta" };
        let hash = &properties["args"]["table"];
        assert_eq!(
            *hash_by_table.entry(table).or_insert(hash),
            hash,
            "round {round}: the hash of {table} changed"
        );
        assert_eq!(
            properties["args"]["columns"],
            serde_json::json!(columns_of(round as u32)),
            "round {round}"
        );
        assert_eq!(properties["args"].as_object().unwrap().len(), 3);
        if round % 2 == 1 {
            assert_eq!(properties["success"], false, "round {round}");
            assert_eq!(
                properties["error"]["message"],
                format!("round {round} failed"),
                "round {round}"
            );
        } else {
            assert_eq!(properties["success"], true, "round {round}");
            assert!(
                properties.get("error").is_none(),
                "round {round} carries a failure: {properties:?}"
            );
        }
    }
    assert_ne!(hash_by_table["alpha"], hash_by_table["beta"]);
    drop(guard);
}
