//! Hardening end to end: real example processes, real loopback receivers, real files.
//!
//! Each test plants what a hostile or unlucky environment holds (a receiver's odd
//! answer, a second receiver, a proxy, a shared directory, a link, a clock set wrong,
//! a huge event or message) and checks that the host is unaffected and that telemetry
//! does what the README's "Security and robustness" section says.
//!
//! The tests run one at a time (some measure exit delays), every child is killed if it
//! outlives a generous limit, and every wait is bounded.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use telemetry_tests::server::{Mode, Server};
use telemetry_tests::{
    assert_same_output, example_bin, minietl_run_command as minietl_command, run, run_watching,
    serial, Build, Run, Sandbox,
};

/// The examples' exit-flush bound (the library's default).
const FLUSH_TIMEOUT: Duration = Duration::from_millis(200);
/// Allowed on top of it: start-up noise of a debug build on a loaded machine.
const MARGIN: Duration = Duration::from_millis(300);
const CHILD_LIMIT: Duration = Duration::from_secs(30);
const ARGS: [&str; 3] = ["run", "--rows", "5"];
/// Events of one `minietl run --rows 5`.
const RUN_EVENTS: usize = 8;
const FAR_DATE: &str = "Retry-After: Sun, 06 Nov 400000000000 08:49:37 GMT";

fn minietl() -> PathBuf {
    example_bin("minietl", Build::Enabled)
}

fn custom_sink() -> PathBuf {
    example_bin("custom-sink", Build::Enabled)
}

/// The library's name for a receiver, computed here independently: the first 16 hex
/// digits of the BLAKE3 hash of its URL.
fn endpoint_key(url: &str) -> String {
    blake3::hash(url.as_bytes()).to_hex()[..16].to_owned()
}

fn minietl_run(sandbox: &Sandbox, endpoint: &str) -> Run {
    run(&mut minietl_command(sandbox, Some(endpoint)), CHILD_LIMIT)
}

/// The fastest of three runs of `command` (the reference for exit delays).
fn fastest(mut command: impl FnMut() -> Command) -> Run {
    let mut runs: Vec<Run> = (0..3).map(|_| run(&mut command(), CHILD_LIMIT)).collect();
    runs.sort_by_key(|run| run.elapsed);
    runs.remove(0)
}

fn state_dir(sandbox: &Sandbox, app: &str) -> PathBuf {
    sandbox.config_dir().join(format!("{app}-telemetry"))
}

#[cfg(unix)]
fn private_dir(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// Session ids of the events a receiver accepted.
fn sessions(server: &Server) -> HashSet<String> {
    server
        .accepted_events()
        .iter()
        .filter_map(|event| event["context"]["session_id"].as_str().map(str::to_owned))
        .collect()
}

fn spooled_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "jsonl"))
            .count()
    })
}

// 1. Retry-After beyond any clock.

#[test]
fn a_retry_after_date_beyond_any_clock_changes_nothing_for_the_host() {
    let _serial = serial();
    let reference = fastest(|| minietl_command(&Sandbox::new(), None));

    // 503 with it: the batch is kept, and the next run inside the ordinary back-off
    // window does not send it again.
    let server = Server::start(Mode::WithHeader {
        status: 503,
        header: FAR_DATE,
    });
    let sandbox = Sandbox::new();
    let first = minietl_run(&sandbox, &server.url());
    assert_same_output(&reference, &first);
    assert!(server.request_count() >= 1);
    assert!(sandbox.spooled_segments() >= 1, "{:?}", sandbox.tree());
    let requests = server.request_count();
    let second = minietl_run(&sandbox, &server.url());
    assert_same_output(&reference, &second);
    assert_eq!(
        server.request_count(),
        requests,
        "nothing re-sent by a second run"
    );

    // 200 with it: delivered once, never again.
    let server = Server::start(Mode::WithHeader {
        status: 200,
        header: FAR_DATE,
    });
    let sandbox = Sandbox::new();
    for _ in 0..2 {
        let run = minietl_run(&sandbox, &server.url());
        assert_same_output(&reference, &run);
    }
    let ids = server.accepted_message_ids();
    assert_eq!(ids.len(), 2 * RUN_EVENTS, "{ids:?}");
    assert!(ids.values().all(|count| *count == 1), "{ids:?}");
}

// 2. One spool and one delivery record per endpoint.

#[test]
fn events_for_one_endpoint_never_go_to_another_and_its_failures_hold_no_other_back() {
    let _serial = serial();
    let failing = Server::start(Mode::Status(503));
    let healthy = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();

    let first = minietl_run(&sandbox, &failing.url());
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let failing_spool = sandbox.spool_dir("minietl", &endpoint_key(&failing.url()));
    assert!(spooled_in(&failing_spool) >= 1, "{:?}", sandbox.tree());

    // The failing endpoint's back-off window is open; the other endpoint is tried at
    // once, and gets this run's events only.
    let second = minietl_run(&sandbox, &healthy.url());
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(
        healthy.wait_until(Duration::from_secs(5), |requests| {
            requests
                .iter()
                .map(|request| request.events().len())
                .sum::<usize>()
                >= RUN_EVENTS
        }),
        "the healthy endpoint got nothing"
    );
    assert_eq!(healthy.accepted_events().len(), RUN_EVENTS);
    assert_eq!(sessions(&healthy).len(), 1, "only the second run's events");
    assert!(
        spooled_in(&failing_spool) >= 1,
        "kept for their own endpoint"
    );
    // Each endpoint remembers its own outcome; only the failing one has a back-off.
    let failing_record = format!("delivery-{}.json", endpoint_key(&failing.url()));
    let records = sandbox.delivery_records();
    assert!(
        records.iter().any(|path| path.ends_with(&failing_record)),
        "{records:?}"
    );
    for path in &records {
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let backing_off =
            record["failures"].as_u64().unwrap_or(0) > 0 || !record["retry_at"].is_null();
        assert_eq!(
            backing_off,
            path.ends_with(&failing_record),
            "only the failing endpoint has a back-off to remember: {path:?} {record}"
        );
    }
}

#[test]
fn gone_from_one_endpoint_does_not_silence_another() {
    let _serial = serial();
    let gone = Server::start(Mode::Gone);
    let healthy = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let first = minietl_run(&sandbox, &gone.url());
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(gone.request_count() >= 1);
    let second = minietl_run(&sandbox, &healthy.url());
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert_eq!(healthy.accepted_events().len(), RUN_EVENTS);
}

// 3. Proxies.

#[test]
fn a_loopback_endpoint_is_never_proxied() {
    let _serial = serial();
    let proxy = Server::start(Mode::Healthy);
    let receiver = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    let mut command = minietl_command(&sandbox, Some(&receiver.url()));
    for variable in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env(variable, &proxy_url);
    }
    let run = run(&mut command, CHILD_LIMIT);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(receiver.accepted_events().len(), RUN_EVENTS);
    assert_eq!(proxy.request_count(), 0, "the proxy saw a request");
}

// 4. Shared or planted directories and files.

/// The debug line saying why telemetry is off.
fn off_line(run: &Run) -> Option<&str> {
    run.stderr
        .lines()
        .find(|line| line.contains("telemetry is off"))
}

#[cfg(unix)]
#[test]
fn a_state_dir_others_may_write_to_turns_telemetry_off_with_the_reason() {
    use std::os::unix::fs::PermissionsExt as _;
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let dir = state_dir(&sandbox, "minietl");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut command = minietl_command(&sandbox, Some(&server.url()));
    command.env("MINIETL_TELEMETRY_DEBUG", "1");
    let run = run(&mut command, CHILD_LIMIT);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let off = off_line(&run).unwrap_or_else(|| panic!("not off: {}", run.stderr));
    assert!(off.contains("writable by other users"), "{off}");
    assert!(run.events().is_empty(), "{}", run.stderr);
    assert!(!dir.join("state.json").exists());
}

/// The effective uid of this process, from `/proc` (Linux).
fn euid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(unix)]
#[test]
fn a_state_dir_owned_by_another_user_turns_telemetry_off_with_the_reason() {
    let _serial = serial();
    if euid() != Some(0) {
        eprintln!("skipped: giving a directory to another user needs root");
        return;
    }
    let sandbox = Sandbox::new();
    let dir = state_dir(&sandbox, "minietl");
    private_dir(&dir);
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    let mut command = minietl_command(&sandbox, Some("http://127.0.0.1:9/v1/batch"));
    command.env("MINIETL_TELEMETRY_DEBUG", "1");
    let run = run(&mut command, CHILD_LIMIT);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let off = off_line(&run).unwrap_or_else(|| panic!("not off: {}", run.stderr));
    assert!(off.contains("belongs to another user"), "{off}");
    assert!(!dir.join("state.json").exists());
}

#[cfg(unix)]
#[test]
fn a_lock_file_planted_as_a_link_never_creates_its_target() {
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let dir = state_dir(&sandbox, "minietl");
    private_dir(&dir);
    let target = sandbox.home().join("planted-target");
    std::os::unix::fs::symlink(&target, dir.join(".state.lock")).unwrap();
    let run = minietl_run(&sandbox, &server.url());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!target.exists(), "the link was followed");
}

/// Runs `command`, sampling the child's peak resident memory (`VmHWM`, Linux) until
/// it exits. Returns the run and the peak in KiB.
fn run_measuring_memory(command: &mut Command) -> (Run, u64) {
    let mut peak = 0;
    let run = run_watching(command, CHILD_LIMIT, |pid| {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kib) = text
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
        }
    });
    (run, peak)
}

#[cfg(target_os = "linux")]
#[test]
fn a_spool_segment_linked_to_dev_zero_is_skipped() {
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let cache = sandbox.cache_dir().join("minietl-telemetry");
    let spool = sandbox.spool_dir("minietl", &endpoint_key(&server.url()));
    for dir in [&cache, &cache.join("spool"), &spool] {
        private_dir(dir);
    }
    // Named like a segment written a moment ago (an old one would be trimmed unread).
    let now_ms = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    std::os::unix::fs::symlink(
        "/dev/zero",
        spool.join(format!(
            "{now_ms:013}-0000000000-1-0000000000000001-1.jsonl"
        )),
    )
    .unwrap();
    let (run, peak_kib) = run_measuring_memory(&mut minietl_command(&sandbox, Some(&server.url())));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    assert!(peak_kib < 100 * 1024, "peak RSS {peak_kib} KiB");
    assert_eq!(server.accepted_events().len(), RUN_EVENTS);
}

#[cfg(unix)]
#[test]
fn a_cache_dir_others_may_write_to_is_not_used_for_the_spool() {
    use std::os::unix::fs::PermissionsExt as _;
    let _serial = serial();
    let server = Server::start(Mode::Refused);
    let sandbox = Sandbox::new();
    let cache = sandbox.cache_dir().join("minietl-telemetry");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = minietl_run(&sandbox, &server.url());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        sandbox.state_file("minietl").exists(),
        "telemetry itself was on"
    );
    assert_eq!(sandbox.spooled_segments(), 0, "{:?}", sandbox.tree());
    assert!(!cache.join("spool").exists(), "{:?}", sandbox.tree());
}

// 5. Wall-clock trust.

#[cfg(unix)]
#[test]
fn a_back_off_planted_far_in_the_future_is_ignored() {
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let dir = state_dir(&sandbox, "minietl");
    private_dir(&dir);
    let record = serde_json::json!({
        "version": 1, "failures": 3, "retry_at": "2100-01-01T00:00:00.000Z",
        "gone_until": "2100-01-01T00:00:00.000Z", "gone_version": env_version(),
        "lost_events": 0
    });
    std::fs::write(
        dir.join(format!("delivery-{}.json", endpoint_key(&server.url()))),
        serde_json::to_vec(&record).unwrap(),
    )
    .unwrap();
    let run = minietl_run(&sandbox, &server.url());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(server.accepted_events().len(), RUN_EVENTS);
}

/// The example's version, as its events report it.
fn env_version() -> String {
    let sandbox = Sandbox::new();
    let mut command = sandbox.command(&minietl());
    command.args(ARGS).env("MINIETL_TELEMETRY_DEBUG", "1");
    let debug = run(&mut command, CHILD_LIMIT);
    debug.events()[0]["context"]["library"]["version"]
        .as_str()
        .unwrap()
        .to_owned()
}

// 6. Batches bounded in bytes; 413 sends halves.

fn custom_sink_command(sandbox: &Sandbox, endpoint: &str) -> Command {
    let mut command = sandbox.command(&custom_sink());
    command.env("CUSTOM_SINK_TELEMETRY_ENDPOINT", endpoint);
    command
}

fn payload_indexes(server: &Server) -> HashMap<u64, usize> {
    let mut indexes = HashMap::new();
    for event in server.accepted_events() {
        if event["event"] == "payload" {
            let index = event["properties"]["index"].as_u64().unwrap();
            *indexes.entry(index).or_default() += 1;
        }
    }
    indexes
}

#[test]
fn large_events_fit_a_receivers_body_limit() {
    let _serial = serial();
    for limit in [500 * 1024, 200 * 1024] {
        let server = Server::start(Mode::BodyLimit(limit));
        let sandbox = Sandbox::new();
        let mut command = custom_sink_command(&sandbox, &server.url());
        command
            .env("CUSTOM_SINK_EXAMPLE_PAYLOAD", "60x10240")
            // Waits for delivery, so every event is accounted for by this run.
            .env("CUSTOM_SINK_EXAMPLE_FLUSH_TIMEOUT", "max");
        let run = run(&mut command, CHILD_LIMIT);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let indexes = payload_indexes(&server);
        assert_eq!(indexes.len(), 60, "limit {limit}: {indexes:?}");
        for request in server.requests() {
            if request.status == Some(200) {
                assert!(request.body.len() <= limit);
            }
        }
    }
}

// 7. flush_timeout(Duration::MAX).

#[test]
fn the_longest_flush_timeout_exits_promptly() {
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let mut command = custom_sink_command(&sandbox, &server.url());
    command.env("CUSTOM_SINK_EXAMPLE_FLUSH_TIMEOUT", "max");
    let run = run(&mut command, CHILD_LIMIT);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(String::from_utf8_lossy(&run.stdout), "converted 2 files\n");
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    assert!(!server.accepted_events().is_empty());
}

// 8. A huge error message.

#[test]
fn a_megabyte_error_message_is_cut_and_holds_no_exit() {
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let reference = fastest(|| {
        let sandbox = Sandbox::new();
        let mut command = sandbox.command(&custom_sink());
        command
            .env("CUSTOM_SINK_TELEMETRY_DISABLED", "1")
            .env("CUSTOM_SINK_EXAMPLE_FAIL_MESSAGE_BYTES", "1000000");
        command
    });
    let sandbox = Sandbox::new();
    let mut command = custom_sink_command(&sandbox, &server.url());
    command.env("CUSTOM_SINK_EXAMPLE_FAIL_MESSAGE_BYTES", "1000000");
    let failed = run(&mut command, CHILD_LIMIT);
    assert_same_output(&reference, &failed);
    let delay = failed.elapsed.saturating_sub(reference.elapsed);
    assert!(delay <= FLUSH_TIMEOUT + MARGIN, "exit delayed by {delay:?}");
    // Whatever the deadline left behind goes with the next run.
    if !server
        .accepted_events()
        .iter()
        .any(|event| event["event"] == "command_fails_with")
    {
        let mut again = custom_sink_command(&sandbox, &server.url());
        again.env("CUSTOM_SINK_EXAMPLE_FLUSH_TIMEOUT", "max");
        assert_eq!(run(&mut again, CHILD_LIMIT).code, Some(0));
    }
    let event = server
        .accepted_events()
        .into_iter()
        .find(|event| event["event"] == "command_fails_with")
        .expect("the failure was sent");
    let message = event["properties"]["error"]["message"].as_str().unwrap();
    assert!(
        !message.is_empty() && message.len() <= 1024,
        "{}",
        message.len()
    );
}

// 11. Leftovers.

#[test]
fn temporaries_a_crash_left_in_the_state_dir_are_removed() {
    let _serial = serial();
    let server = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let first = minietl_run(&sandbox, &server.url());
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let dir = state_dir(&sandbox, "minietl");
    let old = SystemTime::now() - Duration::from_secs(10 * 60);
    let stale = [
        ".state.json.a1B2c3.tmp",
        ".delivery-0123456789abcdef.json.d4E5f6.tmp",
    ];
    for name in stale {
        let file = std::fs::File::create(dir.join(name)).unwrap();
        file.set_modified(old).unwrap();
    }
    std::fs::write(dir.join(".state.json.fresh1.tmp"), b"").unwrap();
    let second = minietl_run(&sandbox, &server.url());
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    for name in stale {
        assert!(!dir.join(name).exists(), "{name} is still there");
    }
    assert!(
        dir.join(".state.json.fresh1.tmp").exists(),
        "a young one may be in use"
    );
}

#[test]
fn disable_deletes_the_spool_and_the_delivery_records() {
    let _serial = serial();
    let server = Server::start(Mode::Status(503));
    let sandbox = Sandbox::new();
    let first = minietl_run(&sandbox, &server.url());
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(sandbox.spooled_segments() >= 1, "{:?}", sandbox.tree());
    assert!(
        !sandbox.delivery_records().is_empty(),
        "{:?}",
        sandbox.tree()
    );
    let mut command = sandbox.command(&minietl());
    command.args(["telemetry", "disable"]);
    let disabled = run(&mut command, CHILD_LIMIT);
    assert_eq!(disabled.code, Some(0), "{}", disabled.stderr);
    assert_eq!(sandbox.spooled_segments(), 0, "{:?}", sandbox.tree());
    assert!(
        sandbox.delivery_records().is_empty(),
        "{:?}",
        sandbox.tree()
    );
}
