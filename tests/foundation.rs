//! The foundation, end to end: real example processes in an isolated home, their debug
//! events checked field by field, and their stdout and exit codes compared with runs
//! where telemetry is off or compiled out.

use std::collections::HashSet;

use serde_json::Value;
use telemetry_tests::{example_bin, run_ok, Build, Run, Sandbox};

fn minietl(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    let binary = example_bin("minietl", Build::Enabled);
    let mut command = sandbox.command(&binary);
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    run_ok(&mut command)
}

fn debug_run(args: &[&str]) -> (Sandbox, Run) {
    let sandbox = Sandbox::new();
    let run = minietl(&sandbox, args, &[("MINIETL_TELEMETRY_DEBUG", "1")]);
    (sandbox, run)
}

fn is_uuid(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit() && !byte.is_ascii_uppercase(),
        })
}

fn is_uuid_v4(value: &Value) -> bool {
    is_uuid(value)
        && value
            .as_str()
            .is_some_and(|text| text.as_bytes()[14] == b'4')
}

/// `2026-11-22T01:02:03.456Z`
fn is_rfc3339_millis(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    let shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    text.len() == shape.len()
        && text
            .bytes()
            .zip(shape.bytes())
            .all(|(byte, expected)| match expected {
                b'd' => byte.is_ascii_digit(),
                other => byte == other,
            })
}

#[test]
fn debug_events_match_the_wire_format_field_by_field() {
    let (sandbox, run) = debug_run(&["run", "--rows", "5"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let events = run.events();
    let names: Vec<&str> = events
        .iter()
        .filter_map(|event| event["event"].as_str())
        .collect();
    assert_eq!(
        names.iter().filter(|name| **name == "command_run").count(),
        1,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|name| **name == "step_extract").count(),
        1,
        "{names:?}"
    );
    assert_eq!(
        names
            .iter()
            .filter(|name| **name == "step_normalize")
            .count(),
        5,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|name| **name == "step_load").count(),
        1,
        "{names:?}"
    );

    let state: Value =
        serde_json::from_slice(&std::fs::read(sandbox.state_file("minietl")).unwrap()).unwrap();
    let mut message_ids = HashSet::new();
    for event in &events {
        assert_eq!(event["type"], "track");
        assert!(is_uuid_v4(&event["messageId"]), "{event}");
        assert!(
            message_ids.insert(event["messageId"].as_str().unwrap().to_owned()),
            "messageId repeats"
        );
        assert!(is_uuid_v4(&event["anonymousId"]), "{event}");
        assert_eq!(
            event["anonymousId"], state["anonymous_id"],
            "the id comes from the state file"
        );
        assert!(
            is_rfc3339_millis(&event["timestamp"]),
            "{}",
            event["timestamp"]
        );

        let context = &event["context"];
        assert_eq!(context["library"]["name"], "minietl");
        assert_eq!(context["library"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(context["telemetry"]["name"], "telemetry");
        assert_eq!(context["telemetry"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(context["os"]["name"], std::env::consts::OS);
        assert!(context["os"]["version"].is_string());
        assert_eq!(context["arch"], std::env::consts::ARCH);
        assert!(context["cpu"].as_u64().is_some_and(|cpu| cpu >= 1));
        assert_eq!(context["ci_run"], false, "the sandbox has no CI variables");
        assert!(context["exec_info"].is_array());
        assert!(is_uuid_v4(&context["session_id"]));
        assert_eq!(
            context["session_id"], events[0]["context"]["session_id"],
            "one session per process"
        );

        let properties = &event["properties"];
        let (category, name) = event["event"].as_str().unwrap().split_once('_').unwrap();
        assert_eq!(properties["event_category"], category);
        assert_eq!(properties["event_name"], name);
        assert!(properties["elapsed"]
            .as_f64()
            .is_some_and(|elapsed| elapsed >= 0.0));
        assert_eq!(properties["success"], true);
        assert!(properties["args"].is_object());
        assert!(properties.get("error").is_none());
    }

    let command = &run.events_named("command_run")[0];
    assert_eq!(command["properties"]["args"]["rows"], 5, "rows is recorded");
    assert!(
        command["properties"]["args"].get("fail_at").is_none(),
        "fail_at is skipped"
    );
    let invocation = &command["properties"]["invocation_id"];
    assert!(is_uuid(invocation));
    for step in run
        .events()
        .iter()
        .filter(|event| event["properties"]["event_category"] == "step")
    {
        assert_eq!(step["properties"]["command"], "run", "{step}");
        assert_eq!(&step["properties"]["invocation_id"], invocation, "{step}");
    }
    // The command ends after its steps, and the async step was timed within it.
    let command_elapsed = command["properties"]["elapsed"].as_f64().unwrap();
    let load_elapsed = run.events_named("step_load")[0]["properties"]["elapsed"]
        .as_f64()
        .unwrap();
    assert!(load_elapsed <= command_elapsed);
}

#[test]
fn hashed_and_recorded_arguments() {
    let (_sandbox, run) = debug_run(&["init", "/home/alice/private-data.csv", "duckdb"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let init = &run.events_named("command_init")[0];
    let args = &init["properties"]["args"];
    assert_eq!(
        args["destination"], "duckdb",
        "record(destination) sends the value"
    );
    let source = args["source"]
        .as_str()
        .expect("hash(source) sends a string");
    assert_eq!(source.len(), 22, "128 bits as unpadded base64url: {source}");
    assert!(
        !run.stderr.contains("private-data"),
        "the raw source never appears"
    );
    assert!(!run.stderr.contains("alice"));
}

#[test]
fn failures_carry_the_error_type_never_its_message() {
    let (_sandbox, run) = debug_run(&["run", "--rows", "2", "--fail-at", "load"]);
    assert_eq!(run.code, Some(2));
    let load = &run.events_named("step_load")[0]["properties"];
    assert_eq!(load["success"], false);
    assert_eq!(load["error"]["kind"], "minietl::pipeline::Error");
    assert!(
        load["error"].get("message").is_none(),
        "messages are opt-in"
    );
    let command = &run.events_named("command_run")[0]["properties"];
    assert_eq!(command["success"], false);
    assert_eq!(command["error"]["kind"], "minietl::pipeline::Error");

    let (_sandbox, run) = debug_run(&["init", "somewhere", "oracle"]);
    assert_eq!(run.code, Some(2));
    let init = &run.events_named("command_init")[0]["properties"];
    assert_eq!(
        init["success"], false,
        "an early `return Err(..)` is recorded"
    );
    assert_eq!(init["args"]["destination"], "oracle");
}

#[test]
fn a_hot_step_folds_into_an_aggregate() {
    let (_sandbox, run) = debug_run(&["run", "--rows", "1000"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let normalize = run.events_named("step_normalize");
    let single = normalize
        .iter()
        .filter(|event| event["properties"].get("aggregate").is_none())
        .count();
    let folded: u64 = normalize
        .iter()
        .filter_map(|event| event["properties"]["aggregate"]["count"].as_u64())
        .sum();
    assert_eq!(single as u64, u64::from(telemetry::DEFAULT_EVENT_BUDGET));
    assert_eq!(single as u64 + folded, 1000, "every call is counted once");
    assert!(
        normalize.len() <= single + 2,
        "a handful of aggregates, not one event per call"
    );
    let aggregate = normalize
        .iter()
        .find(|event| event["properties"].get("aggregate").is_some())
        .expect("an aggregate event");
    let aggregate = &aggregate["properties"]["aggregate"];
    assert_eq!(aggregate["failures"], 0);
    assert!(aggregate["min_elapsed"].as_f64() <= aggregate["max_elapsed"].as_f64());
    assert_eq!(normalize.last().unwrap()["properties"]["command"], "run");
}

/// The same commands, with telemetry on (debug sink), off at run time, and compiled out:
/// stdout is byte-identical and the exit code is the same.
#[test]
fn stdout_and_exit_codes_are_unchanged_by_telemetry() {
    let compiled_out = example_bin("minietl", Build::CompiledOut);
    let cases: [&[&str]; 5] = [
        &["init", "s3://bucket/data", "duckdb"],
        &["init", "s3://bucket/data", "oracle"],
        &["run", "--rows", "50"],
        &["run", "--rows", "3", "--fail-at", "normalize"],
        &["status"],
    ];
    for args in cases {
        let (_, on) = debug_run(args);
        assert!(!on.events().is_empty(), "telemetry was on for {args:?}");
        let off = minietl(&Sandbox::new(), args, &[("DO_NOT_TRACK", "1")]);
        assert!(off.events().is_empty());
        let sandbox = Sandbox::new();
        let mut command = sandbox.command(&compiled_out);
        command.args(args).env("MINIETL_TELEMETRY_DEBUG", "1");
        let none = run_ok(&mut command);
        assert!(
            none.events().is_empty(),
            "a compiled-out build sends nothing"
        );
        assert!(
            sandbox.tree().is_empty(),
            "a compiled-out build writes nothing: {:?}",
            sandbox.tree()
        );

        assert_eq!(on.stdout, off.stdout, "stdout for {args:?}");
        assert_eq!(on.stdout, none.stdout, "stdout for {args:?}");
        assert_eq!(on.code, off.code, "exit code for {args:?}");
        assert_eq!(on.code, none.code, "exit code for {args:?}");
    }
}

#[test]
fn manual_instrumentation_and_a_custom_sink() {
    let binary = example_bin("custom-sink", Build::Enabled);
    let sandbox = Sandbox::new();
    let mut command = sandbox.command(&binary);
    command.arg("3");
    let run = run_ok(&mut command);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, b"converted 3 files\n");
    let sent: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("sent "))
        .collect();
    assert_eq!(
        sent.iter()
            .filter(|line| line.starts_with("sent step_convert_file success=true"))
            .count(),
        3,
        "{sent:?}"
    );
    assert!(sent
        .iter()
        .all(|line| !line.starts_with("sent step_") || line.ends_with("command=convert")));
    assert!(sent
        .iter()
        .any(|line| line.starts_with("sent command_convert success=true")));
    assert!(sent
        .iter()
        .any(|line| line.starts_with("sent conversion_summary")));
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Without the `enabled` feature the binary holds no channel, HTTP client, hashing or
/// worker code: their symbols are in the enabled build and absent from this one.
#[test]
fn a_compiled_out_binary_contains_no_telemetry_machinery() {
    let on = std::fs::read(example_bin("minietl", Build::Enabled)).unwrap();
    let off = std::fs::read(example_bin("minietl", Build::CompiledOut)).unwrap();
    for needle in ["crossbeam_channel", "ureq", "blake3", "6worker6thread"] {
        assert!(
            contains(&on, needle),
            "{needle} should be in the enabled build"
        );
        assert!(
            !contains(&off, needle),
            "{needle} is in the compiled-out build"
        );
    }
}

/// Every compile-pass shape of the macros, compiled against `telemetry` without its
/// `enabled` feature under `deny(warnings)`, and run.
#[test]
fn every_macro_shape_compiles_and_runs_with_telemetry_compiled_out() {
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let root = telemetry_tests::workspace_root();
    let output = std::process::Command::new(cargo)
        .current_dir(root.join("tests/no-telemetry"))
        .args(["run", "--quiet", "--target-dir"])
        .arg(telemetry_tests::target_dir().join("no-telemetry"))
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("shapes ran with telemetry compiled out"),
        "{stdout}"
    );
}
