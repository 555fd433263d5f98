//! Delivery end to end: the `minietl` example as a real process, sending to a real
//! HTTP receiver on 127.0.0.1 (`support/server.rs`) in each failure mode.
//!
//! For every mode: the example's exit code and stdout are those of a run with telemetry
//! off, nothing about telemetry is printed, its exit is held at most `flush_timeout`
//! (200 ms, the default) plus a margin over a run with telemetry off, and once the
//! receiver is healthy again every event of every run arrives exactly once, by
//! `messageId`. `410 Gone` and other `4xx` are the documented exceptions: their events
//! are not sent again.
//!
//! "The receiver is healthy again" also means "the back-off window has passed": the
//! tests move the delivery record's `retry_at` into the past instead of waiting for it.
//!
//! The tests of this file run one at a time (they measure exit delays), every child
//! process is killed if it outlives a generous limit, and every wait is bounded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use telemetry_tests::server::{minietl_with_tls, Mode, Request, Server, SilentDns};
use telemetry_tests::{
    assert_same_output, example_bin, minietl_run_command as command, run, Build, Run, Sandbox,
};

/// The example's exit-flush bound (the library's default).
const FLUSH_TIMEOUT: Duration = Duration::from_millis(200);
/// Allowed on top of it: process start-up noise on a loaded two-core machine, in a
/// debug build. Generous on purpose: the point is "not seconds".
const MARGIN: Duration = Duration::from_millis(300);
/// Each run: one command, three kinds of steps, eight events.
const ARGS: [&str; 3] = ["run", "--rows", "5"];
/// No child may take longer than this (a hang fails the test instead of stalling CI).
const CHILD_LIMIT: Duration = Duration::from_secs(30);

/// Runs the tests of this file one at a time, with the shared references made first
/// (so that making them never happens between two runs a test times).
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    let guard = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    notice();
    expected_names();
    guard
}

fn minietl() -> PathBuf {
    example_bin("minietl", Build::Enabled)
}

fn run_against(sandbox: &Sandbox, endpoint: &str) -> Run {
    run(&mut command(sandbox, Some(endpoint)), CHILD_LIMIT)
}

/// The fastest of three runs with telemetry off: the reference for exit delays.
fn disabled(sandbox: &Sandbox) -> Run {
    let mut runs: Vec<Run> = (0..3)
        .map(|_| run(&mut command(sandbox, None), CHILD_LIMIT))
        .collect();
    runs.sort_by_key(|run| run.elapsed);
    runs.remove(0)
}

/// What a first run prints on stderr: the one-time notice, and nothing else.
fn notice() -> &'static str {
    static NOTICE: OnceLock<String> = OnceLock::new();
    NOTICE.get_or_init(|| {
        let server = Server::start(Mode::Healthy);
        let sandbox = Sandbox::new();
        let first = run_against(&sandbox, &server.url());
        assert_eq!(first.code, Some(0), "{}", first.stderr);
        assert!(first.stderr.contains("opt out"), "{}", first.stderr);
        first.stderr
    })
}

/// The event names of one `minietl run --rows 5`, sorted.
fn expected_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let sandbox = Sandbox::new();
        let mut command = sandbox.command(&minietl());
        command.args(ARGS).env("MINIETL_TELEMETRY_DEBUG", "1");
        let debug = run(&mut command, CHILD_LIMIT);
        let mut names: Vec<String> = debug
            .events()
            .iter()
            .filter_map(|event| event["event"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        assert_eq!(names.len(), 8, "{names:?}");
        names
    })
}

/// Same exit code and stdout as with telemetry off, and nothing on stderr but the
/// first run's notice.
fn assert_unchanged(reference: &Run, run: &Run, first: bool) {
    assert_same_output(reference, run);
    let expected = if first { notice() } else { "" };
    assert_eq!(run.stderr, expected, "stderr");
}

fn assert_delay_bounded(reference: &Run, run: &Run, what: &str) -> Duration {
    let delay = run.elapsed.saturating_sub(reference.elapsed);
    assert!(
        delay <= FLUSH_TIMEOUT + MARGIN,
        "{what}: exit delayed by {delay:?} over a run with telemetry off ({:?} vs {:?})",
        run.elapsed,
        reference.elapsed
    );
    delay
}

/// The delivery record of the sandbox's installation.
fn delivery_record(sandbox: &Sandbox) -> Option<Value> {
    let path = sandbox.delivery_records().into_iter().next()?;
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// "Time passes": the back-off window of the delivery record is over.
fn fast_forward(sandbox: &Sandbox) {
    for path in sandbox.delivery_records() {
        let mut record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        record["retry_at"] = Value::Null;
        std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();
    }
}

/// Accepted events by session (one session per process), names sorted.
fn sessions(server: &Server) -> HashMap<String, Vec<String>> {
    let mut sessions: HashMap<String, Vec<String>> = HashMap::new();
    for event in server.accepted_events() {
        let session = event["context"]["session_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let name = event["event"].as_str().unwrap_or_default().to_owned();
        sessions.entry(session).or_default().push(name);
    }
    for names in sessions.values_mut() {
        names.sort();
    }
    sessions
}

/// Every one of `runs` processes delivered all its events, each exactly once.
fn all_delivered_once(server: &Server, runs: usize) -> Result<(), String> {
    let duplicates: Vec<(String, usize)> = server
        .accepted_message_ids()
        .into_iter()
        .filter(|(_, count)| *count != 1)
        .collect();
    if !duplicates.is_empty() {
        return Err(format!("delivered more than once: {duplicates:?}"));
    }
    let sessions = sessions(server);
    if sessions.len() != runs {
        return Err(format!(
            "{} sessions for {runs} runs: {sessions:?}",
            sessions.len()
        ));
    }
    match sessions
        .iter()
        .find(|(_, names)| names.as_slice() != expected_names())
    {
        Some((session, names)) => Err(format!("session {session} delivered {names:?}")),
        None => Ok(()),
    }
}

/// The receiver is healthy and the back-off over: runs the example until the spool is
/// empty (at most a few runs), checking each run, then checks that all `runs` earlier
/// runs and these delivered everything exactly once.
fn recover(server: &Server, sandbox: &Sandbox, reference: &Run, mut runs: usize) {
    server.set_mode(Mode::Healthy);
    fast_forward(sandbox);
    for _ in 0..4 {
        let run = run_against(sandbox, &server.url());
        runs += 1;
        assert_unchanged(reference, &run, false);
        assert_delay_bounded(reference, &run, "recovery run");
        if sandbox.spooled_segments() == 0 && all_delivered_once(server, runs).is_ok() {
            break;
        }
    }
    assert_eq!(sandbox.spooled_segments(), 0, "the spool was emptied");
    if let Err(problem) = all_delivered_once(server, runs) {
        panic!("{problem}");
    }
}

/// One run against a receiver in `mode`: unchanged behaviour, bounded delay, nothing
/// accepted. Returns the reference run and the failing run.
fn failing_run(server: &Server, sandbox: &Sandbox) -> (Run, Run) {
    let reference = disabled(sandbox);
    let failing = run_against(sandbox, &server.url());
    assert_unchanged(&reference, &failing, true);
    assert_delay_bounded(&reference, &failing, &format!("{:?}", server.mode()));
    assert!(server.accepted_events().is_empty());
    (reference, failing)
}

#[test]
fn healthy_receiver_gets_segment_batches_at_once() {
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let reference = disabled(&sandbox);
    let first = run_against(&sandbox, &server.url());
    assert_unchanged(&reference, &first, true);
    let delay = assert_delay_bounded(&reference, &first, "healthy");
    assert!(
        delay < FLUSH_TIMEOUT,
        "a healthy loopback receiver answers at once: {delay:?}"
    );
    all_delivered_once(&server, 1).unwrap();
    assert_eq!(sandbox.spooled_segments(), 0);

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one batch for one short run");
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/batch");
    assert_eq!(request.header("content-type"), Some("application/json"));
    // base64("minietl-example-key:")
    assert_eq!(
        request.header("authorization"),
        Some("Basic bWluaWV0bC1leGFtcGxlLWtleTo=")
    );
    let body = request.json().unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["batch", "sentAt"]);
    assert!(body["sentAt"].as_str().is_some_and(|at| at.ends_with('Z')));
    assert!(request.accepted);
}

#[test]
fn refused_connections_spool_then_deliver_exactly_once() {
    let _serial = serial();
    let server = Server::start(Mode::Refused);
    let sandbox = Sandbox::new();
    let (reference, _) = failing_run(&server, &sandbox);
    assert_eq!(server.request_count(), 0);
    assert!(
        sandbox.spooled_segments() > 0,
        "the events wait in the spool"
    );
    recover(&server, &sandbox, &reference, 1);
}

#[test]
fn blackhole_holds_the_exit_only_to_the_bound_and_once_per_window() {
    let _serial = serial();
    let server = Server::start(Mode::Blackhole);
    let sandbox = Sandbox::new();
    let (reference, failing) = failing_run(&server, &sandbox);
    assert!(
        failing.elapsed >= FLUSH_TIMEOUT,
        "the exit waited for the unanswered request up to its bound"
    );
    assert!(server.wait_until(Duration::from_secs(5), |requests| requests.len() == 1));
    assert!(
        sandbox.spooled_segments() > 0,
        "the unanswered batch was spooled"
    );

    // Within the back-off window a second process does not try: no wait, no request.
    let second = run_against(&sandbox, &server.url());
    assert_unchanged(&reference, &second, false);
    let delay = assert_delay_bounded(&reference, &second, "blackhole, second run");
    assert!(
        delay < FLUSH_TIMEOUT,
        "the second run did not wait: {delay:?}"
    );
    assert_eq!(server.request_count(), 1, "the second run did not connect");

    recover(&server, &sandbox, &reference, 2);
}

#[test]
fn slow_answers_within_the_bound_are_waited_for() {
    let _serial = serial();
    let server = Server::start(Mode::Slow(Duration::from_millis(60)));
    let sandbox = Sandbox::new();
    let reference = disabled(&sandbox);
    let run = run_against(&sandbox, &server.url());
    assert_unchanged(&reference, &run, true);
    let delay = assert_delay_bounded(&reference, &run, "slow (60 ms)");
    assert!(
        delay >= Duration::from_millis(50),
        "it waited for the answer: {delay:?}"
    );
    all_delivered_once(&server, 1).unwrap();
    assert_eq!(sandbox.spooled_segments(), 0);
}

#[test]
fn slow_answers_past_the_bound_are_spooled_and_sent_again() {
    let _serial = serial();
    let server = Server::start(Mode::Slow(Duration::from_millis(1_000)));
    let sandbox = Sandbox::new();
    let (reference, _) = failing_run(&server, &sandbox);
    // The receiver answers after the sender left: it does not commit the batch.
    assert!(server.wait_until(Duration::from_secs(5), |requests| {
        requests.len() == 1 && requests[0].status.is_none()
    }));
    std::thread::sleep(Duration::from_millis(1_100));
    assert!(server.accepted_events().is_empty());
    recover(&server, &sandbox, &reference, 1);
}

#[test]
fn server_errors_close_the_gate_for_every_process_until_the_back_off_ends() {
    let _serial = serial();
    let server = Server::start(Mode::Status(500));
    let sandbox = Sandbox::new();
    let (reference, _) = failing_run(&server, &sandbox);
    assert_eq!(server.request_count(), 1);
    let record = delivery_record(&sandbox).expect("the failure is remembered");
    assert_eq!(record["failures"], 1);
    assert!(record["retry_at"].is_string());

    let second = run_against(&sandbox, &server.url());
    assert_unchanged(&reference, &second, false);
    assert_delay_bounded(&reference, &second, "500, second run");
    assert_eq!(
        server.request_count(),
        1,
        "no request inside the back-off window"
    );

    recover(&server, &sandbox, &reference, 2);
}

#[test]
fn too_many_requests_honours_retry_after() {
    let _serial = serial();
    let server = Server::start(Mode::TooManyRequests { retry_after: 120 });
    let sandbox = Sandbox::new();
    let (reference, _) = failing_run(&server, &sandbox);
    assert_eq!(server.request_count(), 1);
    let record = delivery_record(&sandbox).expect("the failure is remembered");
    let retry_at = humantime::parse_rfc3339_weak(record["retry_at"].as_str().unwrap()).unwrap();
    let wait = retry_at
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    assert!(
        wait > Duration::from_secs(100),
        "Retry-After honoured: {wait:?}"
    );

    let second = run_against(&sandbox, &server.url());
    assert_unchanged(&reference, &second, false);
    assert_eq!(server.request_count(), 1, "no request before Retry-After");

    recover(&server, &sandbox, &reference, 2);
}

#[test]
fn garbage_answers_are_retried_later() {
    let _serial = serial();
    let server = Server::start(Mode::Garbage);
    let sandbox = Sandbox::new();
    let (reference, _) = failing_run(&server, &sandbox);
    assert_eq!(server.request_count(), 1);
    assert!(sandbox.spooled_segments() > 0);
    recover(&server, &sandbox, &reference, 1);
}

#[test]
fn gone_stops_this_installation_from_sending() {
    let _serial = serial();
    let server = Server::start(Mode::Gone);
    let sandbox = Sandbox::new();
    let (reference, _) = failing_run(&server, &sandbox);
    assert_eq!(server.request_count(), 1);
    let record = delivery_record(&sandbox).expect("the 410 is remembered");
    let until = humantime::parse_rfc3339_weak(record["gone_until"].as_str().unwrap()).unwrap();
    let left = until
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    assert!(left > Duration::from_secs(89 * 24 * 3600), "{left:?}");
    assert_eq!(
        sandbox.spooled_segments(),
        0,
        "nothing is kept for a retired endpoint"
    );

    // Even against a healthy receiver, even after the back-off: nothing is sent.
    server.set_mode(Mode::Healthy);
    fast_forward(&sandbox);
    for _ in 0..2 {
        let run = run_against(&sandbox, &server.url());
        assert_unchanged(&reference, &run, false);
        assert_delay_bounded(&reference, &run, "after 410");
    }
    assert_eq!(server.request_count(), 1);
    assert_eq!(sandbox.spooled_segments(), 0);
}

#[test]
fn other_client_errors_are_dropped_counted_and_never_retried() {
    let _serial = serial();
    let server = Server::start(Mode::Status(400));
    let sandbox = Sandbox::new();
    let (reference, _) = failing_run(&server, &sandbox);
    assert_eq!(server.request_count(), 1);
    assert_eq!(
        sandbox.spooled_segments(),
        0,
        "a rejected batch is not kept"
    );

    server.set_mode(Mode::Healthy);
    let run = run_against(&sandbox, &server.url());
    assert_unchanged(&reference, &run, false);
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "the rejected batch was not sent again");
    assert!(requests[1].accepted);
    all_delivered_once(&server, 1).unwrap();
    let dropped: u64 = requests[1]
        .events()
        .iter()
        .filter_map(|event| event["properties"]["dropped_events"].as_u64())
        .sum();
    assert_eq!(dropped, 8, "the next batch reports the 8 rejected events");
}

/// The example (built with `tls`: the endpoint is an `https://` name) in a private
/// mount namespace whose `/etc/resolv.conf` names a DNS server that never answers.
fn without_dns(sandbox: &Sandbox, dns: &SilentDns, endpoint: Option<&str>) -> Command {
    let resolv = sandbox.home().join("resolv.conf");
    std::fs::write(&resolv, dns.resolv_conf()).unwrap();
    let mut command = sandbox.command(Path::new("unshare"));
    command
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$0" /etc/resolv.conf || exit 97; exec "$@""#)
        .arg(&resolv)
        .arg(minietl_with_tls())
        .args(ARGS);
    match endpoint {
        Some(url) => command.env("MINIETL_TELEMETRY_ENDPOINT", url),
        None => command.env("MINIETL_TELEMETRY_DISABLED", "1"),
    };
    command
}

/// Whether a private mount namespace with our `resolv.conf` can be made here.
fn private_resolver_works(sandbox: &Sandbox, dns: &SilentDns) -> Result<(), String> {
    let resolv = sandbox.home().join("probe-resolv.conf");
    std::fs::write(&resolv, dns.resolv_conf()).unwrap();
    let mut probe = sandbox.command(Path::new("unshare"));
    probe
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$0" /etc/resolv.conf || exit 97; exec cat /etc/resolv.conf"#)
        .arg(&resolv);
    let probe = run(&mut probe, Duration::from_secs(10));
    let seen = String::from_utf8_lossy(&probe.stdout);
    if probe.code == Some(0) && seen.contains(&dns.address().to_string()) {
        Ok(())
    } else {
        Err(format!(
            "`unshare --mount` + `mount --bind` failed (exit {:?}): {}",
            probe.code,
            probe.stderr.trim()
        ))
    }
}

#[test]
fn a_resolver_that_never_answers_holds_nothing_past_the_bound() {
    let _serial = serial();
    let dns = match SilentDns::start() {
        Ok(dns) => dns,
        Err(error) => {
            eprintln!("SKIPPED: cannot bind a silent DNS server on port 53 ({error}); needs root");
            return;
        }
    };
    let sandbox = Sandbox::new();
    if let Err(reason) = private_resolver_works(&sandbox, &dns) {
        eprintln!("SKIPPED: no private mount namespace on this machine: {reason}");
        return;
    }
    let endpoint = "https://collector.example.com/v1/batch";
    let mut references: Vec<Run> = (0..3)
        .map(|_| run(&mut without_dns(&sandbox, &dns, None), CHILD_LIMIT))
        .collect();
    references.sort_by_key(|run| run.elapsed);
    let reference = references.remove(0);
    assert_eq!(reference.code, Some(0), "{}", reference.stderr);

    let failing = run(
        &mut without_dns(&sandbox, &dns, Some(endpoint)),
        CHILD_LIMIT,
    );
    assert_unchanged(&reference, &failing, true);
    assert_delay_bounded(&reference, &failing, "unanswered DNS");
    assert!(dns.queries() > 0, "the lookup went to the silent resolver");
    assert!(
        sandbox.spooled_segments() > 0,
        "the events wait in the spool"
    );

    // A second run inside the back-off window does not even look the name up.
    let queries = dns.queries();
    let second = run(
        &mut without_dns(&sandbox, &dns, Some(endpoint)),
        CHILD_LIMIT,
    );
    assert_unchanged(&reference, &second, false);
    let delay = assert_delay_bounded(&reference, &second, "unanswered DNS, second run");
    assert!(
        delay < FLUSH_TIMEOUT,
        "the second run did not wait: {delay:?}"
    );
    assert_eq!(dns.queries(), queries);

    // Later, with another receiver (the user's own, by MINIETL_TELEMETRY_ENDPOINT): the
    // events recorded for the unreachable endpoint stay in its spool, never sent to
    // another receiver, and the new one gets the new run's events, exactly once.
    let spooled = sandbox.spooled_segments();
    let server = Server::start(Mode::Healthy);
    let plain_reference = disabled(&sandbox);
    let later = run_against(&sandbox, &server.url());
    assert_unchanged(&plain_reference, &later, false);
    assert_delay_bounded(&plain_reference, &later, "another receiver");
    if let Err(problem) = all_delivered_once(&server, 1) {
        panic!("{problem}");
    }
    assert_eq!(
        sandbox.spooled_segments(),
        spooled,
        "kept for their own endpoint"
    );
}

#[test]
fn four_processes_at_once_account_for_every_event_once() {
    let _serial = serial();
    let server = Server::start(Mode::Refused);
    let sandbox = Sandbox::new();
    let reference = disabled(&sandbox);
    // First run alone: creates the state (and prints the notice) once.
    let first = run_against(&sandbox, &server.url());
    assert_unchanged(&reference, &first, true);
    let mut runs = 1;

    let together = |server: &Server, runs: &mut usize| {
        let children: Vec<_> = (0..4)
            .map(|_| {
                let mut child = command(&sandbox, Some(&server.url()));
                std::thread::spawn(move || run(&mut child, CHILD_LIMIT))
            })
            .collect();
        for child in children {
            let child = child.join().expect("the child's thread");
            assert_unchanged(&reference, &child, false);
            assert!(
                child.elapsed <= reference.elapsed + FLUSH_TIMEOUT + MARGIN * 3,
                "{:?}",
                child.elapsed
            );
        }
        *runs += 4;
    };

    // Four at once while the receiver is down: all spooled.
    fast_forward(&sandbox);
    together(&server, &mut runs);
    assert!(server.accepted_events().is_empty());
    // Four at once against a healthy receiver: they share the spool between them.
    server.set_mode(Mode::Healthy);
    fast_forward(&sandbox);
    together(&server, &mut runs);
    recover(&server, &sandbox, &reference, runs);
}

#[test]
fn the_http_sink_reuses_one_connection_and_bounds_every_request() {
    use telemetry::{Batch, Sink};
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let mut sink = telemetry::sink::HttpSink::with_timeouts(
        server.url(),
        Some("KEY".into()),
        Duration::from_millis(200),
        Duration::from_millis(500),
    );
    let batch: Batch = serde_json::from_value(serde_json::json!({
        "batch": [], "sentAt": "2026-11-22T01:02:03.500Z"
    }))
    .unwrap();
    for _ in 0..3 {
        sink.send(&batch).unwrap();
    }
    let requests: Vec<Request> = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|request| request.connection == requests[0].connection),
        "one connection for every batch: {:?}",
        requests
            .iter()
            .map(|request| request.connection)
            .collect::<Vec<_>>()
    );
    assert_eq!(requests[0].header("authorization"), Some("Basic S0VZOg=="));

    for mode in [Mode::Blackhole, Mode::Slow(Duration::from_secs(3))] {
        server.set_mode(mode);
        let started = Instant::now();
        let error = sink.send(&batch).unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(error.action(), telemetry::sink::Action::Retry(_)),
            "{error}"
        );
        assert!(took < Duration::from_millis(1_500), "{mode:?}: {took:?}");
    }
    server.set_mode(Mode::Status(503));
    assert!(matches!(
        sink.send(&batch).unwrap_err().action(),
        telemetry::sink::Action::Retry(None)
    ));
    server.set_mode(Mode::TooManyRequests { retry_after: 7 });
    assert_eq!(
        sink.send(&batch).unwrap_err().action(),
        telemetry::sink::Action::Retry(Some(Duration::from_secs(7)))
    );
    server.set_mode(Mode::Refused);
    let started = Instant::now();
    assert!(sink.send(&batch).is_err());
    assert!(started.elapsed() < Duration::from_millis(1_500));
}
