//! Consent, end to end: every row of the precedence, the true/false parsing of each
//! variable, the first-run notice, the state file in every bad shape, and the
//! `telemetry status|enable|disable` subcommand, each checked on real processes in an
//! isolated home.
//!
//! Most tests run the `minietl` example. A few need a host whose configuration they
//! choose (a custom notice, a thread count taken right around `init`): for those this
//! test binary re-executes itself as the host (see [`host_process`]).

use std::collections::HashSet;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use telemetry_tests::{example_bin, run_ok, Build, Run, Sandbox};

const APP: &str = "minietl";
/// The diagnostic line printed in debug mode when consent said no.
const OFF: &str = "[telemetry] telemetry is off: ";
/// Words of the default first-run notice.
const NOTICE: &str = "collects anonymous usage data";

fn minietl(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    minietl_build(Build::Enabled, sandbox, args, env)
}

fn minietl_build(build: Build, sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    let binary = example_bin(APP, build);
    let mut command = sandbox.command(&binary);
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    run_ok(&mut command)
}

/// `minietl status` in debug mode with extra variables.
fn debug_status(sandbox: &Sandbox, extra_args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args = vec!["status"];
    args.extend_from_slice(extra_args);
    let mut env = env.to_vec();
    env.push(("MINIETL_TELEMETRY_DEBUG", "1"));
    minietl(sandbox, &args, &env)
}

fn stdout(run: &Run) -> String {
    String::from_utf8_lossy(&run.stdout).into_owned()
}

/// The reason telemetry was off, from the debug diagnostics; `None` when it was on.
fn off_reason(run: &Run) -> Option<String> {
    run.stderr
        .lines()
        .find_map(|line| line.strip_prefix(OFF))
        .map(str::to_owned)
}

fn is_on(run: &Run) -> bool {
    !run.events().is_empty()
}

fn assert_off_by(run: &Run, reason: &str) {
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.events().is_empty(), "no event when off: {}", run.stderr);
    let found = off_reason(run).unwrap_or_else(|| panic!("no off line in {:?}", run.stderr));
    assert!(
        found.starts_with(reason),
        "off because {found:?}, expected {reason:?}"
    );
}

fn assert_on(run: &Run) {
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        off_reason(run).is_none(),
        "unexpectedly off: {}",
        run.stderr
    );
    assert!(
        !run.events_named("command_status").is_empty(),
        "no command event: {}",
        run.stderr
    );
}

fn write_state(sandbox: &Sandbox, content: &str) -> PathBuf {
    let path = sandbox.state_file(APP);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

fn valid_state(enabled: Option<bool>) -> String {
    serde_json::json!({
        "version": 1,
        "anonymous_id": "6f1c3d4e-8a2b-4c1d-9e8f-0a1b2c3d4e5f",
        "hash_key": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "enabled": enabled,
        "notice_shown": true,
    })
    .to_string()
}

fn read_state(sandbox: &Sandbox) -> Value {
    let text = std::fs::read_to_string(sandbox.state_file(APP)).expect("state file");
    serde_json::from_str(&text).expect("state file is JSON")
}

// ---------------------------------------------------------------------------------------
// The precedence, row by row.

#[test]
fn row_1_compiled_out_creates_and_prints_nothing() {
    let sandbox = Sandbox::new();
    let run = minietl_build(
        Build::CompiledOut,
        &sandbox,
        &["status"],
        &[("MINIETL_TELEMETRY_DEBUG", "1")],
    );
    assert_eq!(run.code, Some(0));
    assert!(run.events().is_empty(), "{}", run.stderr);
    assert!(!run.stderr.contains("[telemetry]"), "{}", run.stderr);
    assert!(!run.stderr.contains(NOTICE));
    assert_eq!(sandbox.tree(), Vec::<PathBuf>::new());
    let status = minietl_build(Build::CompiledOut, &sandbox, &["telemetry", "status"], &[]);
    assert!(
        stdout(&status).contains("built without the `enabled` feature"),
        "{}",
        stdout(&status)
    );
}

#[test]
fn row_2_do_not_track() {
    let sandbox = Sandbox::new();
    assert_off_by(
        &debug_status(&sandbox, &[], &[("DO_NOT_TRACK", "1")]),
        "DO_NOT_TRACK is set",
    );
    // It beats every later row: the app variable saying "not disabled", and a saved
    // "enabled".
    write_state(&sandbox, &valid_state(Some(true)));
    let run = debug_status(
        &sandbox,
        &[],
        &[
            ("DO_NOT_TRACK", "true"),
            ("MINIETL_TELEMETRY_DISABLED", "0"),
        ],
    );
    assert_off_by(&run, "DO_NOT_TRACK is set");
}

#[test]
fn row_3_app_disabled_variable() {
    let sandbox = Sandbox::new();
    let run = debug_status(
        &sandbox,
        &[],
        &[("MINIETL_TELEMETRY_DISABLED", "yes"), ("DO_NOT_TRACK", "0")],
    );
    assert_off_by(&run, "MINIETL_TELEMETRY_DISABLED is set");
    assert_eq!(sandbox.tree(), Vec::<PathBuf>::new());
    // The variable is named after the app: another app's does nothing here.
    let run = debug_status(&sandbox, &[], &[("OTHERAPP_TELEMETRY_DISABLED", "1")]);
    assert_on(&run);
}

#[test]
fn row_4_host_flag() {
    let sandbox = Sandbox::new();
    write_state(&sandbox, &valid_state(Some(true)));
    let run = debug_status(&sandbox, &["--disable-telemetry"], &[]);
    assert_off_by(&run, "the application turned it off");
}

#[test]
fn row_5_saved_choice() {
    let sandbox = Sandbox::new();
    let path = write_state(&sandbox, &valid_state(Some(false)));
    let before = std::fs::read(&path).unwrap();
    assert_off_by(&debug_status(&sandbox, &[], &[]), "the saved choice");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "an opt-out is never rewritten"
    );

    write_state(&sandbox, &valid_state(Some(true)));
    let run = debug_status(&sandbox, &[], &[]);
    assert_on(&run);
    assert!(
        run.stderr.contains("telemetry is on (the saved choice)"),
        "{}",
        run.stderr
    );
}

#[test]
fn row_6_default_is_on_with_the_notice() {
    let sandbox = Sandbox::new();
    let run = debug_status(&sandbox, &[], &[]);
    assert_on(&run);
    assert!(
        run.stderr.contains("telemetry is on (the default)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(NOTICE), "{}", run.stderr);
    assert!(sandbox.state_file(APP).exists());
}

// ---------------------------------------------------------------------------------------
// Values of the variables.

#[test]
fn opt_out_variables_parse_true_false_and_unknown_values() {
    // (value, telemetry stays on)
    let table: &[(&str, bool)] = &[
        ("1", false),
        ("true", false),
        ("TRUE", false),
        ("Yes", false),
        ("on", false),
        (" on ", false),
        ("0", true),
        ("false", true),
        ("False", true),
        ("no", true),
        ("OFF", true),
        ("", true),
        // Unknown values: the user meant to opt out.
        ("please", false),
        ("2", false),
    ];
    for variable in ["DO_NOT_TRACK", "MINIETL_TELEMETRY_DISABLED"] {
        for (value, on) in table {
            let sandbox = Sandbox::new();
            let run = debug_status(&sandbox, &[], &[(variable, value)]);
            assert_eq!(
                is_on(&run),
                *on,
                "{variable}={value:?}: stderr {}",
                run.stderr
            );
            assert_eq!(run.code, Some(0));
            if !on {
                assert_eq!(
                    sandbox.tree(),
                    Vec::<PathBuf>::new(),
                    "{variable}={value:?}"
                );
            }
        }
    }
}

#[test]
fn debug_variable_is_on_only_for_true_values() {
    for (value, debug) in [
        ("1", true),
        ("TRUE", true),
        ("yes", true),
        ("On", true),
        ("0", false),
        ("false", false),
        ("", false),
        ("maybe", false),
    ] {
        let sandbox = Sandbox::new();
        let run = minietl(
            &sandbox,
            &["status"],
            &[("MINIETL_TELEMETRY_DEBUG", value), ("DO_NOT_TRACK", "1")],
        );
        assert_eq!(
            run.stderr.contains("[telemetry]"),
            debug,
            "MINIETL_TELEMETRY_DEBUG={value:?}: {}",
            run.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------
// A disabled run does nothing: no file, no thread, no socket. Each check is also run on
// an enabled run, to show it would have caught the opposite.

/// A loopback receiver that answers 200 and counts connections.
struct Receiver {
    url: String,
    connections: Arc<AtomicUsize>,
    bodies: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1/batch", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (count, store) = (Arc::clone(&connections), Arc::clone(&bodies));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let body = read_request(&mut stream);
                store.lock().unwrap().push(body);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                );
            }
        });
        Receiver {
            url,
            connections,
            bodies,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> String {
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(read) = stream.read(&mut buffer) {
        if read == 0 {
            break;
        }
        data.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&data);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return String::from_utf8_lossy(&data[end + 4..end + 4 + length]).into_owned();
            }
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

fn threads_reported(run: &Run) -> Option<usize> {
    run.stderr
        .lines()
        .find_map(|line| line.strip_prefix("minietl-example: threads="))
        .and_then(|count| count.trim().parse().ok())
}

#[test]
fn a_disabled_run_creates_no_file_starts_no_thread_opens_no_socket() {
    let receiver = Receiver::start();
    let env = |extra: &[(&'static str, &'static str)]| {
        let mut env: Vec<(&str, String)> = vec![
            ("MINIETL_TELEMETRY_ENDPOINT", receiver.url.clone()),
            ("MINIETL_EXAMPLE_REPORT_THREADS", "1".to_owned()),
        ];
        env.extend(extra.iter().map(|(key, value)| (*key, (*value).to_owned())));
        env
    };
    let run_with = |sandbox: &Sandbox, env: &[(&str, String)]| {
        let binary = example_bin(APP, Build::Enabled);
        let mut command = sandbox.command(&binary);
        command.args(["init", "/data/in.csv", "duckdb"]);
        for (key, value) in env {
            command.env(key, value);
        }
        run_ok(&mut command)
    };

    // Disabled.
    let sandbox = Sandbox::new();
    let off = run_with(&sandbox, &env(&[("DO_NOT_TRACK", "1")]));
    assert_eq!(off.code, Some(0), "{}", off.stderr);
    assert_eq!(
        sandbox.tree(),
        Vec::<PathBuf>::new(),
        "a disabled run created files"
    );
    assert_eq!(off.stderr.lines().filter(|l| l.starts_with('{')).count(), 0);
    assert!(!off.stderr.contains(NOTICE));
    if cfg!(target_os = "linux") {
        assert_eq!(threads_reported(&off), Some(1), "{}", off.stderr);
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(receiver.connections(), 0, "a disabled run connected");

    // Enabled, same binary and arguments: every check above would have failed.
    let sandbox = Sandbox::new();
    let on = run_with(&sandbox, &env(&[]));
    assert_eq!(on.code, Some(0), "{}", on.stderr);
    assert_eq!(stdout(&on), stdout(&off), "stdout is the same either way");
    assert!(sandbox.state_file(APP).exists());
    if cfg!(target_os = "linux") {
        assert_eq!(
            threads_reported(&on).map(|n| n >= 2),
            Some(true),
            "{}",
            on.stderr
        );
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while receiver.connections() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        receiver.connections() > 0,
        "the enabled run never connected"
    );
    let bodies = receiver.bodies.lock().unwrap().clone();
    assert!(
        bodies.iter().any(|body| body.contains("command_init")),
        "{bodies:?}"
    );
}

#[test]
fn host_sees_no_thread_when_disabled_and_one_when_enabled() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let sandbox = Sandbox::new();
    let off = host(&sandbox, &[("DO_NOT_TRACK", "1")]);
    assert_eq!(off["threads_after"], off["threads_before"], "{off}");
    assert_eq!(off["enabled"], false);
    assert_eq!(off["source"], "DoNotTrack");
    assert_eq!(sandbox.tree(), Vec::<PathBuf>::new());

    let on = host(&sandbox, &[]);
    assert_eq!(on["enabled"], true, "{on}");
    assert_eq!(
        on["threads_after"].as_u64().unwrap(),
        on["threads_before"].as_u64().unwrap() + 1,
        "{on}"
    );
}

// ---------------------------------------------------------------------------------------
// The endpoint.

#[test]
fn a_bad_endpoint_keeps_telemetry_off_and_says_why() {
    for url in [
        "http://collector.example.com/v1/batch",
        "ftp://collector.example.com/v1/batch",
        "not a url",
        "collector.example.com/v1/batch",
    ] {
        let sandbox = Sandbox::new();
        let run = debug_status(&sandbox, &[], &[("MINIETL_TELEMETRY_ENDPOINT", url)]);
        assert_off_by(&run, "the configuration is invalid");
        assert!(
            off_reason(&run)
                .unwrap()
                .contains("MINIETL_TELEMETRY_ENDPOINT"),
            "{}",
            run.stderr
        );
        assert_eq!(sandbox.tree(), Vec::<PathBuf>::new(), "{url}");
        let status = minietl(
            &sandbox,
            &["telemetry", "status"],
            &[("MINIETL_TELEMETRY_ENDPOINT", url)],
        );
        let text = stdout(&status);
        assert!(
            text.contains("Telemetry is off: the configuration is invalid"),
            "{text}"
        );
        assert!(
            text.contains("Problem: MINIETL_TELEMETRY_ENDPOINT"),
            "{text}"
        );
    }
    // Loopback over plain http is allowed (self-hosting, tests).
    let receiver = Receiver::start();
    let sandbox = Sandbox::new();
    let run = debug_status(
        &sandbox,
        &[],
        &[("MINIETL_TELEMETRY_ENDPOINT", receiver.url.as_str())],
    );
    assert!(off_reason(&run).is_none(), "{}", run.stderr);
}

#[test]
fn the_guard_reports_a_bad_endpoint() {
    let sandbox = Sandbox::new();
    let report = host(
        &sandbox,
        &[("HOST_ENDPOINT", "http://collector.example.com/x")],
    );
    assert_eq!(report["enabled"], false, "{report}");
    assert_eq!(report["source"], "InvalidConfig");
    assert!(
        report["problem"].as_str().unwrap().contains("https://"),
        "{report}"
    );
    assert_eq!(sandbox.tree(), Vec::<PathBuf>::new());
}

// ---------------------------------------------------------------------------------------
// The first-run notice.

#[test]
fn the_notice_is_shown_once_on_stderr_only() {
    let sandbox = Sandbox::new();
    let first = minietl(&sandbox, &["status"], &[]);
    assert_eq!(first.code, Some(0));
    assert!(first.stderr.contains(NOTICE), "{}", first.stderr);
    // It says what is collected and how to opt out.
    for words in [
        "which commands run",
        "how long they take",
        "hashed",
        "DO_NOT_TRACK=1",
        "MINIETL_TELEMETRY_DISABLED=1",
        "minietl telemetry disable",
    ] {
        assert!(first.stderr.contains(words), "notice lacks {words:?}");
    }
    assert!(!stdout(&first).contains(NOTICE));
    assert_eq!(read_state(&sandbox)["notice_shown"], true);

    let second = minietl(&sandbox, &["status"], &[]);
    assert!(!second.stderr.contains(NOTICE), "{}", second.stderr);
    assert_eq!(stdout(&second), stdout(&first));
}

#[test]
fn the_notice_is_never_shown_in_ci() {
    for (variable, value) in [
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("GITLAB_CI", "true"),
    ] {
        let sandbox = Sandbox::new();
        let run = minietl(&sandbox, &["status"], &[(variable, value)]);
        assert!(!run.stderr.contains(NOTICE), "{variable}: {}", run.stderr);
        let events = run.events_named("command_status");
        assert_eq!(events.len(), 1, "{}", run.stderr);
        assert_eq!(events[0]["context"]["ci_run"], true);
        // Not recorded as shown: a developer running the tool later still sees it.
        assert_eq!(read_state(&sandbox)["notice_shown"], false);
    }
}

#[test]
fn the_host_can_replace_the_notice() {
    let sandbox = Sandbox::new();
    let text = "hostapp sends anonymous usage data; `hostapp telemetry disable` stops it.";
    let run = host_run(&sandbox, &[("HOST_NOTICE", text)]);
    assert!(run.stderr.contains(text), "{}", run.stderr);
    assert!(!run.stderr.contains(NOTICE));
    assert!(!stdout(&run).contains(text));
}

#[test]
fn parallel_first_runs_agree_on_one_id_and_show_one_notice() {
    for _round in 0..3 {
        let sandbox = Sandbox::new();
        let binary = example_bin(APP, Build::Enabled);
        let runs: Vec<Run> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let mut command = sandbox.command(&binary);
                        command.args(["status"]);
                        run_ok(&mut command)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let saved = read_state(&sandbox)["anonymous_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let ids: HashSet<String> = runs
            .iter()
            .flat_map(Run::events)
            .map(|event| event["anonymousId"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, HashSet::from([saved]), "one id for all four runs");
        for run in &runs {
            assert_eq!(run.code, Some(0), "{}", run.stderr);
            assert!(!run.events().is_empty(), "every run is on: {}", run.stderr);
        }
        let notices = runs
            .iter()
            .filter(|run| run.stderr.contains(NOTICE))
            .count();
        assert_eq!(notices, 1, "exactly one run shows the notice");
        // No temporary file is left behind.
        let dir = sandbox.state_file(APP).parent().unwrap().to_path_buf();
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

// ---------------------------------------------------------------------------------------
// The state file in bad shapes.

#[test]
fn a_corrupt_state_file_turns_telemetry_off_and_is_left_as_it_is() {
    let reference = minietl(&Sandbox::new(), &["status"], &[("DO_NOT_TRACK", "1")]);
    for content in [
        "{\"version\":1,\"anonymous_id\":",
        "",
        "null",
        "[]",
        "{\"version\":1,\"anonymous_id\":\"not-a-uuid\",\"hash_key\":\"00\",\"enabled\":true}",
        "\u{0}\u{1}binary",
    ] {
        let sandbox = Sandbox::new();
        let path = write_state(&sandbox, content);
        let run = debug_status(&sandbox, &[], &[]);
        assert_off_by(&run, "the state file cannot be read");
        assert!(
            off_reason(&run).unwrap().contains("state.json"),
            "the debug line names the file: {}",
            run.stderr
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), content);
        assert_eq!(stdout(&run), stdout(&reference));
        assert!(!run.stderr.contains(NOTICE));

        // `status` reports it without touching it; `enable` refuses to replace it.
        let status = minietl(&sandbox, &["telemetry", "status"], &[]);
        assert!(stdout(&status).contains("Problem:"), "{}", stdout(&status));
        let enable = minietl(&sandbox, &["telemetry", "enable"], &[]);
        assert_eq!(enable.code, Some(1), "{}", enable.stderr);
        assert!(enable.stderr.contains("state.json"), "{}", enable.stderr);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), content);

        // `disable` replaces it with a valid opt-out.
        let disable = minietl(&sandbox, &["telemetry", "disable"], &[]);
        assert_eq!(disable.code, Some(0), "{}", disable.stderr);
        assert_eq!(read_state(&sandbox)["enabled"], false);
        assert_off_by(&debug_status(&sandbox, &[], &[]), "the saved choice");
    }
}

#[test]
fn a_state_path_that_is_a_directory_is_unreadable_not_fatal() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.state_file(APP)).unwrap();
    let run = debug_status(&sandbox, &[], &[]);
    assert_off_by(&run, "the state file cannot be read");
    assert!(sandbox.state_file(APP).is_dir());
}

#[test]
fn unwritable_home_turns_telemetry_off_and_leaves_the_host_alone() {
    let reference = minietl(
        &Sandbox::new(),
        &["init", "/x", "duckdb"],
        &[("DO_NOT_TRACK", "1")],
    );
    let sandbox = Sandbox::new();
    // A regular file where the directories should be: nothing can be created below it,
    // whoever runs the test (even root).
    let blocker = sandbox.home().join("not-a-directory");
    std::fs::write(&blocker, b"").unwrap();
    let below = blocker.join("home");
    let binary = example_bin(APP, Build::Enabled);
    let mut command = sandbox.command(&binary);
    command
        .args(["init", "/x", "duckdb"])
        .env("HOME", &below)
        .env("XDG_CONFIG_HOME", below.join(".config"))
        .env("XDG_CACHE_HOME", below.join(".cache"))
        .env("MINIETL_TELEMETRY_DEBUG", "1");
    let run = run_ok(&mut command);
    assert_eq!(run.code, reference.code);
    assert_eq!(run.stdout, reference.stdout);
    assert_off_by(&run, "no writable state directory");
    assert!(!run.stderr.contains(NOTICE));

    // `telemetry status` sees it coming, without writing anything.
    let mut command = sandbox.command(&binary);
    command
        .args(["telemetry", "status"])
        .env("HOME", &below)
        .env("XDG_CONFIG_HOME", below.join(".config"));
    let status = run_ok(&mut command);
    let text = stdout(&status);
    assert!(
        text.contains("Telemetry is off: no writable state directory."),
        "{text}"
    );
    assert!(text.contains("Problem:"), "{text}");
}

// ---------------------------------------------------------------------------------------
// status, enable, disable.

#[test]
fn status_enable_disable_round_trip() {
    let sandbox = Sandbox::new();

    let status = minietl(&sandbox, &["telemetry", "status"], &[]);
    assert_eq!(status.code, Some(0));
    let text = stdout(&status);
    assert!(text.contains("Telemetry is on: the default."), "{text}");
    assert!(text.contains("Anonymous id: none"), "{text}");
    assert!(
        text.contains(&sandbox.state_file(APP).display().to_string()),
        "{text}"
    );
    assert!(text.contains("minietl telemetry disable"), "{text}");
    assert_eq!(
        sandbox.tree(),
        Vec::<PathBuf>::new(),
        "status writes nothing"
    );

    let disable = minietl(&sandbox, &["telemetry", "disable"], &[]);
    assert_eq!(disable.code, Some(0), "{}", disable.stderr);
    assert!(
        stdout(&disable).contains("is disabled"),
        "{}",
        stdout(&disable)
    );
    assert_eq!(read_state(&sandbox)["enabled"], false);
    let id = read_state(&sandbox)["anonymous_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_off_by(&debug_status(&sandbox, &[], &[]), "the saved choice");

    let status = stdout(&minietl(&sandbox, &["telemetry", "status"], &[]));
    assert!(
        status.contains("Telemetry is off: the saved choice."),
        "{status}"
    );
    assert!(status.contains("Saved choice: disabled"), "{status}");
    assert!(status.contains(&id), "{status}");

    let enable = minietl(&sandbox, &["telemetry", "enable"], &[]);
    assert_eq!(enable.code, Some(0), "{}", enable.stderr);
    assert_eq!(read_state(&sandbox)["enabled"], true);
    assert_eq!(read_state(&sandbox)["anonymous_id"], id.as_str());
    let run = debug_status(&sandbox, &[], &[]);
    assert_on(&run);
    assert_eq!(run.events()[0]["anonymousId"], id.as_str());

    // The environment still wins over a saved "enabled", and `enable` says so.
    let enable = minietl(&sandbox, &["telemetry", "enable"], &[("DO_NOT_TRACK", "1")]);
    assert!(
        stdout(&enable).contains("It stays off for now: DO_NOT_TRACK is set."),
        "{}",
        stdout(&enable)
    );
    let status = stdout(&minietl(
        &sandbox,
        &["telemetry", "status"],
        &[("DO_NOT_TRACK", "1")],
    ));
    assert!(
        status.contains("Telemetry is off: DO_NOT_TRACK is set."),
        "{status}"
    );
    assert!(status.contains("Saved choice: enabled"), "{status}");
}

#[test]
fn disable_works_before_any_run_and_without_a_home() {
    // Before any run: the opt-out is saved, no notice is ever shown.
    let sandbox = Sandbox::new();
    let disable = minietl(&sandbox, &["telemetry", "disable"], &[]);
    assert_eq!(disable.code, Some(0));
    let run = minietl(&sandbox, &["status"], &[]);
    assert!(!run.stderr.contains(NOTICE));
    assert!(run.events().is_empty());

    // Nowhere to write: a clear error, exit code 1, and the advice to use the variable.
    let sandbox = Sandbox::new();
    let blocker = sandbox.home().join("file");
    std::fs::write(&blocker, b"").unwrap();
    let binary = example_bin(APP, Build::Enabled);
    let mut command = sandbox.command(&binary);
    command
        .args(["telemetry", "disable"])
        .env("XDG_CONFIG_HOME", blocker.join("config"));
    let run = run_ok(&mut command);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("DO_NOT_TRACK=1"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// The host process: this test binary, re-executed with `CONSENT_HOST=1`.

/// Runs this test binary as a host application in `sandbox` and returns its report.
fn host(sandbox: &Sandbox, env: &[(&str, &str)]) -> Value {
    let run = host_run(sandbox, env);
    let line = stdout(&run)
        .lines()
        .find_map(|line| line.split_once("HOST ").map(|(_, json)| json.to_owned()))
        .unwrap_or_else(|| panic!("no report: {}\n{}", stdout(&run), run.stderr));
    serde_json::from_str(&line).unwrap()
}

fn host_run(sandbox: &Sandbox, env: &[(&str, &str)]) -> Run {
    let exe = std::env::current_exe().unwrap();
    let mut command: Command = sandbox.command(&exe);
    command
        .args(["--exact", "host_process", "--nocapture", "--test-threads=1"])
        .env("CONSENT_HOST", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let run = run_ok(&mut command);
    assert_eq!(
        run.code,
        Some(0),
        "host failed: {}\n{}",
        stdout(&run),
        run.stderr
    );
    run
}

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

/// The host application (does nothing unless started by [`host`]): a configuration
/// from `HOST_*` variables, the thread count right before and after `init`, one tracked
/// call, and a report on stdout.
#[test]
fn host_process() {
    if std::env::var_os("CONSENT_HOST").is_none() {
        return;
    }
    let mut config =
        telemetry::Config::new("hostapp", "1.0.0").sink(telemetry::sink::DebugSink::new());
    if let Ok(text) = std::env::var("HOST_NOTICE") {
        config = config.notice(text);
    }
    if let Ok(url) = std::env::var("HOST_ENDPOINT") {
        config = config.endpoint(url);
    }
    let before = thread_count();
    let guard = telemetry::init(config);
    let after = thread_count();
    telemetry::command!("probe").success();
    let status = guard.status().clone();
    println!(
        "HOST {}",
        serde_json::json!({
            "threads_before": before,
            "threads_after": after,
            "enabled": status.enabled,
            "source": format!("{:?}", status.source),
            "problem": status.problem,
            "state_dir": status.state_dir.as_deref().map(Path::display).map(|d| d.to_string()),
        })
    );
    drop(guard);
}
