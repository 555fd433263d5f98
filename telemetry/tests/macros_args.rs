//! Which arguments a tracked call sends, and how: hashed (the default), recorded, or
//! left out.
#![cfg(feature = "enabled")]

mod macros_support;

use macros_support::{args, events, single, start};
use serde::Serialize;
use serde_json::{json, Value};
use telemetry::{tracked_command, tracked_step};

#[tracked_step]
fn hashed_by_default(source: &str, count: u32, flag: bool) {
    let _ = (source, count, flag);
}

fn hash_of(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a hash is a string: {value}"))
}

#[test]
fn every_named_argument_is_hashed_by_default() {
    let _serial = start();
    hashed_by_default("s3://bucket/secret", 7, true);
    hashed_by_default("s3://bucket/secret", 8, true);
    hashed_by_default("s3://bucket/other", 7, true);
    let found = events("step_hashed_by_default");
    assert_eq!(found.len(), 3);
    let first = args(&found[0]);
    assert_eq!(first.len(), 3, "{first:?}");
    for (name, value) in &first {
        let hash = hash_of(value);
        assert!(
            !hash.contains("secret") && hash != "7" && hash != "true",
            "{name}: {hash}"
        );
    }
    let second = args(&found[1]);
    let third = args(&found[2]);
    // Same value, same hash; another value, another hash.
    assert_eq!(first["source"], second["source"]);
    assert_ne!(first["count"], second["count"]);
    assert_ne!(first["source"], third["source"]);
    assert_eq!(first["count"], third["count"]);
}

#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Destination {
    Duckdb,
}

#[tracked_command(record(destination, batch), hash(source))]
fn recorded(source: &str, destination: Destination, batch: Option<u32>, secret: &str) {
    let _ = (source, destination, batch, secret);
}

#[test]
fn record_sends_values_as_they_are_and_hash_sends_only_those() {
    let _serial = start();
    recorded("s3://x", Destination::Duckdb, Some(500), "password");
    let event = single("command_recorded");
    let sent = args(&event);
    assert_eq!(sent["destination"], json!("duckdb"));
    assert_eq!(sent["batch"], json!(500));
    assert!(sent["source"].is_string() && sent["source"] != json!("s3://x"));
    assert!(!sent.contains_key("secret"), "{sent:?}");
    assert_eq!(sent.len(), 3);
}

#[derive(Serialize)]
struct Plan {
    tables: Vec<&'static str>,
    mode: Mode,
    limits: std::collections::BTreeMap<u32, Option<f32>>,
}

#[derive(Serialize)]
enum Mode {
    Merge { key: &'static str },
}

#[tracked_step(record(plan, note, pair), skip(rows))]
fn recorded_compound(plan: &Plan, note: String, pair: (u8, i64), rows: u8) {
    let _ = (plan, note, pair, rows);
}

#[test]
fn recorded_values_of_any_shape_arrive_as_serde_json_makes_them() {
    let _serial = start();
    let plan = Plan {
        tables: vec!["events", "sessions"],
        mode: Mode::Merge { key: "id" },
        limits: [(10, Some(0.5)), (20, None)].into_iter().collect(),
    };
    let note = "a note longer than the record's inline bytes: ".repeat(3);
    recorded_compound(&plan, note.clone(), (7, -9), 1);
    let sent = args(&single("step_recorded_compound"));
    assert_eq!(sent["plan"], serde_json::to_value(&plan).unwrap());
    assert_eq!(
        sent["plan"],
        json!({
            "tables": ["events", "sessions"],
            "mode": {"Merge": {"key": "id"}},
            "limits": {"10": 0.5, "20": null}
        })
    );
    assert_eq!(sent["note"], json!(note));
    assert_eq!(sent["pair"], json!([7, -9]));
    assert_eq!(sent.len(), 3, "{sent:?}");
}

#[tracked_step(skip(rows))]
fn skipped(table: &str, rows: Vec<u8>) -> usize {
    table.len() + rows.len()
}

#[tracked_step(skip_all)]
fn skipped_all(table: &str, rows: Vec<u8>) -> usize {
    table.len() + rows.len()
}

#[test]
fn skip_and_skip_all_leave_arguments_out() {
    let _serial = start();
    skipped("t", vec![1]);
    skipped_all("t", vec![1]);
    let sent = args(&single("step_skipped"));
    assert_eq!(sent.keys().collect::<Vec<_>>(), ["table"]);
    assert!(args(&single("step_skipped_all")).is_empty());
}

struct Store;

impl Store {
    #[tracked_step]
    fn method(&self, key: &str) -> usize {
        key.len()
    }
}

#[tracked_step]
fn patterns((a, b): (u32, u32), _: u32, named: u32) -> u32 {
    a + b + named
}

#[tracked_step]
fn raw_identifier(r#type: &str) -> usize {
    r#type.len()
}

#[test]
fn self_and_patterns_are_never_sent_and_raw_identifiers_lose_their_prefix() {
    let _serial = start();
    Store.method("k");
    patterns((1, 2), 3, 4);
    raw_identifier("csv");
    assert_eq!(
        args(&single("step_method")).keys().collect::<Vec<_>>(),
        ["key"]
    );
    assert_eq!(
        args(&single("step_patterns")).keys().collect::<Vec<_>>(),
        ["named"]
    );
    assert_eq!(
        args(&single("step_raw_identifier"))
            .keys()
            .collect::<Vec<_>>(),
        ["type"]
    );
}

#[test]
fn the_catalog_lists_what_each_function_sends() {
    let _serial = start();
    let catalog = telemetry::catalog();
    let entry = catalog
        .events()
        .find(|callsite| callsite.name() == "recorded")
        .expect("`recorded` is in the catalog");
    assert_eq!(entry.category(), telemetry::Category::Command);
    let modes: Vec<(&str, &str)> = entry
        .args()
        .iter()
        .map(|arg| (arg.name, arg.mode.as_str()))
        .collect();
    assert_eq!(
        modes,
        [
            ("source", "hashed"),
            ("destination", "recorded"),
            ("batch", "recorded")
        ]
    );
    assert!(
        entry.module_path().ends_with("macros_args"),
        "{}",
        entry.module_path()
    );
    assert!(entry.file().ends_with("macros_args.rs"), "{}", entry.file());
}
