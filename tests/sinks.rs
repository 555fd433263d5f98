//! The OTLP and PostHog sinks, end to end, with real processes and real receivers on
//! 127.0.0.1 only.
//!
//! - OTLP: the `custom-sink` example (a command running steps, one of which fails)
//!   sends through [`telemetry::sink::OtlpSink`] to **rotel**, a real OpenTelemetry
//!   collector, which accepts OTLP/HTTP JSON (and answers `400` to JSON that breaks the
//!   encoding rules) and exports what it accepted as OTLP protobuf to
//!   `tests/otlp/receiver.py`, which decodes it with the protocol's own generated
//!   classes (`opentelemetry-proto`). The same receiver also parses the sink's JSON
//!   directly, strictly (unknown fields, wrong types, base64 ids or enum names fail).
//!   Both are installed by `tests/otlp/setup.sh` into `target/otlp-venv` (from PyPI);
//!   the test runs it itself. Only if that install is impossible does the test skip,
//!   saying so on stderr; under CI (`CI` set) it fails instead.
//! - PostHog: the example sends through [`telemetry::sink::PostHogSink`] to the
//!   loopback receiver of `support/server.rs`: the body's shape, a `503` retried by the
//!   next run, a `400` never sent again.
//!
//! Every example process runs with `ALL_PROXY`/`HTTP_PROXY` naming a port nothing listens
//! on: a sink that sent loopback traffic through the environment's proxy would fail.

use std::io::{BufRead as _, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use telemetry::sink::{Action, OtlpSink, PostHogSink};
use telemetry::{Batch, Sink};
use telemetry_tests::server::{Mode, Request, Server};
use telemetry_tests::{example_bin, run, serial, workspace_root, Build, Run, Sandbox};

/// No child may take longer than this.
const CHILD_LIMIT: Duration = Duration::from_secs(30);
/// How long a receiver may take to start listening or to see what was sent.
const WAIT: Duration = Duration::from_secs(15);

/// A proxy nothing listens on: every request sent through it fails. The sinks must
/// reach a loopback endpoint directly, whatever the environment names as a proxy.
const DEAD_PROXY: &str = "http://127.0.0.1:9";

/// The example `custom-sink <files> [fail]` with `vars` set, in `sandbox`, with a dead
/// proxy in its environment.
fn example(sandbox: &Sandbox, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let binary = example_bin("custom-sink", Build::Enabled);
    let mut command = sandbox.command(&binary);
    command.args(args);
    command
        .env("ALL_PROXY", DEAD_PROXY)
        .env("HTTP_PROXY", DEAD_PROXY);
    for (name, value) in vars {
        command.env(name, value);
    }
    run(&mut command, CHILD_LIMIT)
}

/// A small batch shaped like the library's own: a failing command and its step.
fn sample_batch() -> Batch {
    let context = json!({
        "library": {"name": "demo", "version": "1.0.0"},
        "telemetry": {"name": "telemetry", "version": "0.1.0"},
        "os": {"name": "linux", "version": "6.1"}, "arch": "x86_64", "cpu": 2,
        "ci_run": false, "exec_info": [], "session_id": "5a1b7a9e-0f37-4b55-9c43-3b0f5c1e2d4a"
    });
    let invocation = "0196a3b4-c5d6-8e7f-8011-223344556677";
    serde_json::from_value(json!({
        "batch": [
            {"type": "track", "event": "step_load", "messageId": "7f1e0e8e-5d43-4b7e-9a0e-0c2b1d3e4f50",
             "anonymousId": "c0ffee00-1234-4abc-8def-0123456789ab",
             "timestamp": "2026-11-22T01:02:03.456Z", "context": context,
             "properties": {"event_category": "step", "event_name": "load", "elapsed": 0.5,
                            "success": false, "error": {"kind": "std::io::Error"},
                            "args": {"table": "hash"}, "command": "init", "invocation_id": invocation}},
            {"type": "track", "event": "command_init", "messageId": "8a2f1f9f-6e54-4c8f-8b1f-1d3c2e4f5a61",
             "anonymousId": "c0ffee00-1234-4abc-8def-0123456789ab",
             "timestamp": "2026-11-22T01:02:04.000Z", "context": context,
             "properties": {"event_category": "command", "event_name": "init", "elapsed": 1.25,
                            "success": false, "error": {"kind": "demo::Error"},
                            "args": {}, "invocation_id": invocation}}
        ],
        "sentAt": "2026-11-22T01:02:04.100Z"
    }))
    .expect("a valid batch")
}

// ---------------------------------------------------------------------------------
// OTLP through a real collector

/// A child process killed (and reaped) when dropped.
struct Process {
    name: &'static str,
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn still_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited early: {status}", self.name);
        }
    }
}

/// The virtual environment with rotel and opentelemetry-proto, installed if need be.
/// `None` (after saying why on stderr) if it cannot be installed outside CI.
fn otlp_tools() -> Option<PathBuf> {
    let venv = workspace_root().join("target").join("otlp-venv");
    let setup = workspace_root().join("tests").join("otlp").join("setup.sh");
    let output = Command::new("bash")
        .arg(&setup)
        .arg(&venv)
        .stdin(Stdio::null())
        .output();
    let problem = match output {
        Ok(output) if output.status.success() => None,
        Ok(output) => Some(format!(
            "{} failed ({}): {}",
            setup.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )),
        Err(error) => Some(format!("cannot run {}: {error}", setup.display())),
    };
    match problem {
        None => Some(venv),
        Some(problem) if std::env::var_os("CI").is_some() => {
            panic!("the OTLP receivers must be installable in CI: {problem}")
        }
        Some(problem) => {
            eprintln!(
                "SKIPPED: the OTLP collector test needs rotel and opentelemetry-proto: {problem}"
            );
            None
        }
    }
}

fn rotel_binary(venv: &Path) -> PathBuf {
    let lib = venv.join("lib");
    std::fs::read_dir(&lib)
        .expect("the venv has lib/")
        .flatten()
        .map(|entry| entry.path().join("site-packages/rotel/rotel-agent"))
        .find(|path| path.exists())
        .expect("rotel-agent in the venv")
}

/// `tests/otlp/receiver.py` writing to `output`; returns it and its port.
fn start_receiver(venv: &Path, output: &Path) -> (Process, u16) {
    let mut child = Command::new(venv.join("bin").join("python"))
        .arg(workspace_root().join("tests/otlp/receiver.py"))
        .arg(output)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start receiver.py");
    let stdout = child.stdout.take().expect("receiver stdout");
    let receiver = Process {
        name: "receiver.py",
        child,
    };
    let (sender, ports) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = ports
        .recv_timeout(WAIT)
        .expect("receiver.py prints its port");
    let port = line.trim().parse().expect("a port number");
    (receiver, port)
}

/// A port nothing listens on right now (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// rotel receiving OTLP on 127.0.0.1 (HTTP port returned) and exporting OTLP/HTTP
/// protobuf to `export_port`, uncompressed and without batching delay to speak of.
fn start_rotel(venv: &Path, work: &Path, export_port: u16) -> (Process, u16) {
    let http_port = free_port();
    let grpc_port = free_port();
    let child = Command::new(rotel_binary(venv))
        .arg("start")
        .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http_port}")])
        .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc_port}")])
        .args(["--exporter", "otlp", "--otlp-exporter-protocol", "http"])
        .args([
            "--otlp-exporter-endpoint",
            &format!("http://127.0.0.1:{export_port}"),
        ])
        .args(["--otlp-exporter-compression", "none"])
        .args(["--batch-timeout", "50ms"])
        .arg("--pid-file")
        .arg(work.join("rotel.pid"))
        .arg("--log-file")
        .arg(work.join("rotel.log"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rotel");
    let mut rotel = Process {
        name: "rotel",
        child,
    };
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, http_port));
    let deadline = Instant::now() + WAIT;
    while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
        rotel.still_running();
        assert!(
            Instant::now() < deadline,
            "rotel never listened on {address}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (rotel, http_port)
}

/// The lines the receiver wrote so far.
fn received(output: &Path) -> Vec<Value> {
    std::fs::read_to_string(output)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("receiver lines are JSON"))
        .collect()
}

/// Every span of every accepted request, each with its resource's attributes.
fn spans(lines: &[Value]) -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for line in lines {
        let Some(request) = line.get("request") else {
            continue;
        };
        for resource_spans in request["resourceSpans"].as_array().into_iter().flatten() {
            let resource = resource_spans["resource"]["attributes"].clone();
            for scope_spans in resource_spans["scopeSpans"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for span in scope_spans["spans"].as_array().into_iter().flatten() {
                    out.push((span.clone(), resource.clone()));
                }
            }
        }
    }
    out
}

/// The value of attribute `key` (as protobuf's JSON writes it: `{"stringValue": ..}`).
fn attribute<'a>(attributes: &'a Value, key: &str) -> Option<&'a Value> {
    attributes
        .as_array()?
        .iter()
        .find(|attribute| attribute["key"] == key)
        .map(|attribute| &attribute["value"])
}

fn is_hex(text: &Value, len: usize) -> bool {
    text.as_str()
        .is_some_and(|text| text.len() == len && text.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

#[test]
fn otlp_spans_reach_a_real_collector_with_steps_under_their_command() {
    let _serial = serial();
    let Some(venv) = otlp_tools() else {
        return;
    };
    let work = tempfile::tempdir().expect("a work directory");
    let output = work.path().join("received.jsonl");
    let (_receiver, receiver_port) = start_receiver(&venv, &output);
    let (mut rotel, rotel_port) = start_rotel(&venv, work.path(), receiver_port);

    // 1. The sink's JSON, parsed strictly with the protocol's schema.
    let mut direct = OtlpSink::new(format!("http://127.0.0.1:{receiver_port}"));
    direct
        .send(&sample_batch())
        .expect("receiver.py parses the sink's JSON as an ExportTraceServiceRequest");
    let lines = received(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["content_type"], "application/json");
    let direct_spans = spans(&lines);
    assert_eq!(direct_spans.len(), 2);
    assert_eq!(
        direct_spans[0].0["parentSpanId"],
        direct_spans[1].0["spanId"]
    );

    // 2. The collector accepts it (a 2xx, or the sink would return an error).
    let mut to_rotel = OtlpSink::with_timeouts(
        format!("http://127.0.0.1:{rotel_port}"),
        Duration::from_secs(1),
        Duration::from_secs(5),
    );
    to_rotel
        .send(&sample_batch())
        .expect("rotel answers 2xx to the sink's JSON");

    // 3. A real process: the example's command, three steps (the last failing) and a
    // custom event, through rotel to the receiver.
    let sandbox = Sandbox::new();
    let endpoint = format!("http://127.0.0.1:{rotel_port}");
    let run = example(
        &sandbox,
        &["3", "fail"],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
    );
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert!(run.stdout.is_empty());

    let deadline = Instant::now() + WAIT;
    let example_spans = loop {
        rotel.still_running();
        let lines = received(&output);
        let found: Vec<(Value, Value)> = spans(&lines)
            .into_iter()
            .filter(|(_, resource)| {
                attribute(resource, "service.name") == Some(&json!({"stringValue": "custom-sink"}))
            })
            .collect();
        if found.len() >= 5 || Instant::now() >= deadline {
            break found;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let lines = received(&output);
    assert!(
        lines.iter().all(|line| line.get("error").is_none()),
        "the receiver rejected something: {lines:?}"
    );
    assert!(
        lines[1..]
            .iter()
            .all(|line| line["content_type"] == "application/x-protobuf"),
        "everything after the direct request came from rotel: {lines:?}"
    );
    let names: Vec<&str> = example_spans
        .iter()
        .map(|(span, _)| span["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(example_spans.len(), 5, "spans from the example: {names:?}");

    let (command, resource) = example_spans
        .iter()
        .find(|(span, _)| span["name"] == "custom-sink convert")
        .unwrap_or_else(|| panic!("a command span among {names:?}"));
    let steps: Vec<&Value> = example_spans
        .iter()
        .map(|(span, _)| span)
        .filter(|span| span["name"] == "convert_file")
        .collect();
    assert_eq!(steps.len(), 3, "{names:?}");
    assert!(is_hex(&command["traceId"], 32), "{command}");
    assert!(is_hex(&command["spanId"], 16), "{command}");
    assert!(command.get("parentSpanId").is_none());
    for step in &steps {
        assert_eq!(step["traceId"], command["traceId"], "same trace: {step}");
        assert_eq!(step["parentSpanId"], command["spanId"], "child: {step}");
        assert_ne!(step["spanId"], command["spanId"]);
        assert_eq!(
            attribute(&step["attributes"], "telemetry.command"),
            Some(&json!({"stringValue": "convert"}))
        );
    }
    let failed: Vec<&&Value> = steps
        .iter()
        .filter(|step| step["status"]["code"] == "STATUS_CODE_ERROR")
        .collect();
    assert_eq!(failed.len(), 1, "one failing step");
    assert_eq!(
        attribute(&failed[0]["attributes"], "error.type"),
        Some(&json!({"stringValue": "unreadable"}))
    );

    // The command: failed, exit code 1, error.type the error's type, INTERNAL kind.
    assert_eq!(command["status"]["code"], "STATUS_CODE_ERROR");
    assert_eq!(command["kind"], "SPAN_KIND_INTERNAL");
    assert_eq!(
        attribute(&command["attributes"], "process.exit.code"),
        Some(&json!({"intValue": "1"}))
    );
    let error_type = attribute(&command["attributes"], "error.type")
        .and_then(|value| value["stringValue"].as_str())
        .unwrap_or_default();
    assert!(error_type.contains("io"), "error.type {error_type:?}");
    let start: u64 = command["startTimeUnixNano"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let end: u64 = command["endTimeUnixNano"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        start <= end && end - start < 30_000_000_000,
        "{start}..{end}"
    );
    for step in &steps {
        let step_end: u64 = step["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
        // Millisecond timestamps: a step ends within the command, to the millisecond.
        assert!(
            step_end <= end + 1_000_000,
            "step ends by the command's end"
        );
    }

    // The resource: the app, the OS and the architecture, by the conventions.
    let text = |key: &str| {
        attribute(resource, key)
            .and_then(|value| value["stringValue"].as_str())
            .map(str::to_owned)
    };
    assert_eq!(text("service.version").as_deref(), Some("0.1.0"));
    assert_eq!(
        text("process.executable.name").as_deref(),
        Some("custom-sink")
    );
    assert_eq!(text("os.type").as_deref(), Some(std::env::consts::OS));
    assert!(text("host.arch").is_some());

    let custom = example_spans
        .iter()
        .map(|(span, _)| span)
        .find(|span| span["name"] == "conversion_summary")
        .expect("the custom event's span");
    assert_eq!(
        attribute(&custom["attributes"], "telemetry.properties.files"),
        Some(&json!({"intValue": "3"}))
    );
}

#[test]
fn otlp_answers_map_to_the_protocol_retry_rules() {
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let endpoint = format!("http://127.0.0.1:{}", server.port());
    let mut sink = OtlpSink::with_timeouts(
        &endpoint,
        Duration::from_millis(500),
        Duration::from_secs(2),
    )
    .header("Authorization", "Bearer TOKEN");
    sink.send(&sample_batch()).expect("200 is delivered");
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/traces");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("authorization"), Some("Bearer TOKEN"));
    let body = request.json().expect("a JSON body");
    assert!(body["resourceSpans"][0]["scopeSpans"][0]["spans"].is_array());
    assert!(sink.durable());

    server.set_mode(Mode::TooManyRequests { retry_after: 9 });
    assert_eq!(
        sink.send(&sample_batch()).unwrap_err().action(),
        Action::Retry(Some(Duration::from_secs(9)))
    );
    server.set_mode(Mode::Status(503));
    assert_eq!(
        sink.send(&sample_batch()).unwrap_err().action(),
        Action::Retry(None)
    );
    for status in [400, 500] {
        server.set_mode(Mode::Status(status));
        assert_eq!(
            sink.send(&sample_batch()).unwrap_err().action(),
            Action::Drop,
            "HTTP {status} is not retryable in OTLP"
        );
    }
}

// ---------------------------------------------------------------------------------
// PostHog against the loopback receiver

const POSTHOG_KEY: &str = "phc_test_project_key";

fn posthog_run(sandbox: &Sandbox, server: &Server, args: &[&str]) -> Run {
    let host = format!("http://127.0.0.1:{}", server.port());
    example(
        sandbox,
        args,
        &[("POSTHOG_HOST", &host), ("POSTHOG_API_KEY", POSTHOG_KEY)],
    )
}

/// Every capture in requests the receiver accepted.
fn accepted_captures(server: &Server) -> Vec<Value> {
    server
        .requests()
        .iter()
        .filter(|request| request.accepted)
        .flat_map(Request::events)
        .collect()
}

/// "Time passes": the back-off window remembered after a failure is over.
fn fast_forward(sandbox: &Sandbox) {
    fn walk(dir: &Path) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path);
            } else if path.file_name().is_some_and(|name| {
                let name = name.to_string_lossy();
                name.starts_with("delivery") && name.ends_with(".json")
            }) {
                let mut record: Value =
                    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                record["retry_at"] = Value::Null;
                std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();
            }
        }
    }
    walk(sandbox.home());
}

#[test]
fn posthog_receives_batch_captures_from_a_real_process() {
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let run = posthog_run(&sandbox, &server, &["2"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, b"converted 2 files\n");
    assert!(server.wait_until(WAIT, |requests| requests.iter().any(|r| r.accepted)));

    let requests = server.requests();
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/batch/");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("authorization"),
        None,
        "the key is in the body"
    );
    let body = request.json().expect("a JSON body");
    assert_eq!(body["api_key"], POSTHOG_KEY);

    let captures = accepted_captures(&server);
    let names: Vec<&str> = captures
        .iter()
        .map(|capture| capture["event"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(captures.len(), 4, "{names:?}");
    assert_eq!(
        names
            .iter()
            .filter(|name| **name == "step_convert_file")
            .count(),
        2
    );
    assert!(names.contains(&"command_convert"));
    assert!(names.contains(&"conversion_summary"));

    let state: Value =
        serde_json::from_slice(&std::fs::read(sandbox.state_file("custom-sink")).unwrap()).unwrap();
    let anonymous_id = state["anonymous_id"]
        .as_str()
        .expect("the state's anonymous id");
    for capture in &captures {
        let properties = &capture["properties"];
        assert_eq!(
            capture["distinct_id"], anonymous_id,
            "the anonymousId: {capture}"
        );
        assert!(capture["uuid"]
            .as_str()
            .is_some_and(|uuid| uuid.len() == 36));
        assert!(capture["timestamp"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z')));
        assert_eq!(properties["$lib"], "telemetry");
        assert!(properties["$lib_version"].is_string());
        assert_eq!(properties["$process_person_profile"], false);
        assert_eq!(properties["app_name"], "custom-sink");
        assert!(properties["session_id"].is_string());
    }
    let uuids: std::collections::HashSet<&str> = captures
        .iter()
        .filter_map(|capture| capture["uuid"].as_str())
        .collect();
    assert_eq!(uuids.len(), captures.len(), "one uuid per event");
    let step = captures
        .iter()
        .find(|capture| capture["event"] == "step_convert_file")
        .unwrap();
    assert_eq!(step["properties"]["event_category"], "step");
    assert_eq!(step["properties"]["command"], "convert");
    assert!(step["properties"]["elapsed"].is_f64());
    assert!(step["properties"]["invocation_id"].is_string());
}

#[test]
fn posthog_503_is_sent_again_by_the_next_run_and_400_never() {
    let _serial = serial();
    let server = Server::start(Mode::Status(503));
    let sandbox = Sandbox::new();

    let first = posthog_run(&sandbox, &server, &["1"]);
    assert_eq!(first.code, Some(0), "stderr: {}", first.stderr);
    assert_eq!(server.request_count(), 1);
    assert!(accepted_captures(&server).is_empty());
    assert!(sandbox.spooled_segments() > 0, "a 503'd batch is kept");
    let first_uuids: Vec<String> = server.requests()[0]
        .events()
        .iter()
        .filter_map(|capture| capture["uuid"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(first_uuids.len(), 3);

    // The receiver recovers and the back-off is over: the next run delivers both runs'
    // events, each once.
    server.set_mode(Mode::Healthy);
    fast_forward(&sandbox);
    let second = posthog_run(&sandbox, &server, &["1"]);
    assert_eq!(second.code, Some(0), "stderr: {}", second.stderr);
    let deadline = Instant::now() + WAIT;
    while sandbox.spooled_segments() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let delivered: Vec<String> = accepted_captures(&server)
        .iter()
        .filter_map(|capture| capture["uuid"].as_str().map(str::to_owned))
        .collect();
    for uuid in &first_uuids {
        assert_eq!(
            delivered.iter().filter(|seen| *seen == uuid).count(),
            1,
            "{uuid} delivered once after the 503: {delivered:?}"
        );
    }
    assert_eq!(delivered.len(), 6, "both runs' events: {delivered:?}");
    assert_eq!(sandbox.spooled_segments(), 0);

    // A 400 drops the batch: the next run does not send it again.
    server.set_mode(Mode::Status(400));
    let third = posthog_run(&sandbox, &server, &["1"]);
    assert_eq!(third.code, Some(0));
    let rejected: Vec<String> = server
        .requests()
        .last()
        .unwrap()
        .events()
        .iter()
        .filter_map(|capture| capture["uuid"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(rejected.len(), 3);
    assert_eq!(
        sandbox.spooled_segments(),
        0,
        "a rejected batch is not kept"
    );
    server.set_mode(Mode::Healthy);
    let before = server.request_count();
    let fourth = posthog_run(&sandbox, &server, &["1"]);
    assert_eq!(fourth.code, Some(0));
    let later: Vec<String> = server.requests()[before..]
        .iter()
        .flat_map(Request::events)
        .filter_map(|capture| capture["uuid"].as_str().map(str::to_owned))
        .collect();
    assert!(!later.is_empty());
    assert!(
        rejected.iter().all(|uuid| !later.contains(uuid)),
        "the 400'd events were never sent again"
    );

    // The sink's own verdicts, directly.
    let host = format!("http://127.0.0.1:{}", server.port());
    let mut sink = PostHogSink::with_timeouts(
        &host,
        POSTHOG_KEY,
        Duration::from_millis(500),
        Duration::from_secs(2),
    );
    server.set_mode(Mode::TooManyRequests { retry_after: 5 });
    assert_eq!(
        sink.send(&sample_batch()).unwrap_err().action(),
        Action::Retry(Some(Duration::from_secs(5)))
    );
    server.set_mode(Mode::Status(400));
    assert_eq!(
        sink.send(&sample_batch()).unwrap_err().action(),
        Action::Drop
    );
    server.set_mode(Mode::Gone);
    assert_eq!(
        sink.send(&sample_batch()).unwrap_err().action(),
        Action::Stop
    );
}
