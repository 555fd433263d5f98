//! The transparency catalog of the real example binary lists exactly the functions its
//! source annotates, and the published "what we collect" page is generated from it.

use std::collections::BTreeSet;

use serde_json::Value;
use telemetry_tests::{example_bin, run_ok, workspace_root, Build, Sandbox};

fn minietl_output(args: &[&str]) -> String {
    let binary = example_bin("minietl", Build::Enabled);
    let sandbox = Sandbox::new();
    let mut command = sandbox.command(&binary);
    command.args(args);
    let run = run_ok(&mut command);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        sandbox.tree().is_empty(),
        "listing the catalog writes nothing"
    );
    String::from_utf8(run.stdout).expect("utf-8")
}

/// Event names found by reading the example's source: each `#[tracked_*]` attribute and
/// the `fn` after it (or its `name = ".."`).
fn annotated_in_source() -> BTreeSet<String> {
    let dir = workspace_root().join("examples/minietl/src");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (index, line) in lines.iter().enumerate() {
            let category = if line.starts_with("#[tracked_command") {
                "command"
            } else if line.starts_with("#[tracked_step") {
                "step"
            } else {
                continue;
            };
            let name = if let Some(rest) = line.split("name = \"").nth(1) {
                rest.split('"').next().unwrap().to_owned()
            } else {
                let signature = lines[index + 1..]
                    .iter()
                    .find(|line| line.contains("fn "))
                    .unwrap();
                let after = signature.split("fn ").nth(1).unwrap();
                after.split(['(', '<']).next().unwrap().to_owned()
            };
            names.insert(format!("{category}_{name}"));
        }
    }
    names
}

#[test]
fn the_catalog_lists_exactly_the_annotated_functions() {
    let json: Value =
        serde_json::from_str(&minietl_output(&["telemetry", "events", "--json"])).unwrap();
    let events = json["events"].as_array().unwrap();
    let listed: BTreeSet<String> = events
        .iter()
        .map(|event| event["event"].as_str().unwrap().to_owned())
        .collect();
    let annotated = annotated_in_source();
    assert!(annotated.len() >= 6, "{annotated:?}");
    assert_eq!(listed, annotated);
    assert_eq!(listed.len(), events.len(), "each function is listed once");

    let args = |event: &str| -> Vec<(String, String)> {
        events.iter().find(|entry| entry["event"] == event).unwrap()["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|arg| {
                (
                    arg["name"].as_str().unwrap().to_owned(),
                    arg["mode"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let pair = |name: &str, mode: &str| (name.to_owned(), mode.to_owned());
    assert_eq!(
        args("command_init"),
        [pair("source", "hashed"), pair("destination", "recorded")]
    );
    assert_eq!(args("command_run"), [pair("rows", "recorded")]);
    assert_eq!(args("step_normalize"), []);
    assert_eq!(args("step_load"), [pair("table", "hashed")]);
    let context: Vec<&str> = json["context"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["field"].as_str().unwrap())
        .collect();
    assert!(
        context.contains(&"anonymousId") && context.contains(&"context.os"),
        "{context:?}"
    );

    let table = minietl_output(&["telemetry", "events"]);
    for name in &annotated {
        assert!(
            table.lines().any(|line| line.starts_with(name.as_str())),
            "{name} in\n{table}"
        );
    }
}

/// `examples/minietl/PRIVACY.md` is the output of `minietl telemetry events --markdown`:
/// the published list cannot drift from the code.
#[test]
fn the_published_privacy_page_matches_the_code() {
    let generated = minietl_output(&["telemetry", "events", "--markdown"]);
    let path = workspace_root().join("examples/minietl/PRIVACY.md");
    if std::env::var_os("TELEMETRY_REGENERATE").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        committed, generated,
        "PRIVACY.md is stale: regenerate it with `cargo run -p minietl -- telemetry events --markdown > examples/minietl/PRIVACY.md`"
    );
}
