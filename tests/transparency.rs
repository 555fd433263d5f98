//! Local-first transparency, end to end on real `minietl` processes in an isolated home
//! and a real loopback receiver: the local log of what was sent (and `telemetry log`),
//! local-only mode (nothing reaches the receiver), the opt-in date (events spooled
//! before it are never sent), levels (what the receiver gets at `errors`), and sampling
//! (a per-installation decision, stable across runs).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use telemetry_tests::server::{Mode, Request, Server};
use telemetry_tests::{example_bin, run_ok, Build, Run, Sandbox};

const APP: &str = "minietl";
/// One command, three kinds of steps: eight events.
const RUN: [&str; 3] = ["run", "--rows", "5"];

fn minietl(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = sandbox.command(&example_bin(APP, Build::Enabled));
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let run = run_ok(&mut command);
    assert!(
        matches!(run.code, Some(0) | Some(2)),
        "minietl {args:?} failed: {}",
        run.stderr
    );
    run
}

/// A run sending to `server`.
fn run_against(sandbox: &Sandbox, server: &Server, args: &[&str], env: &[(&str, &str)]) -> Run {
    let url = server.url();
    let mut env = env.to_vec();
    env.push(("MINIETL_TELEMETRY_ENDPOINT", &url));
    minietl(sandbox, args, &env)
}

fn stdout(run: &Run) -> String {
    String::from_utf8_lossy(&run.stdout).into_owned()
}

fn cache_dir(sandbox: &Sandbox) -> PathBuf {
    sandbox.cache_dir().join(format!("{APP}-telemetry"))
}

fn log_file(sandbox: &Sandbox) -> PathBuf {
    cache_dir(sandbox).join("sent.jsonl")
}

/// The log's lines, as stored.
fn log_lines(sandbox: &Sandbox) -> Vec<Value> {
    std::fs::read_to_string(log_file(sandbox))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

fn ids<'a>(events: impl IntoIterator<Item = &'a Value>) -> HashSet<String> {
    events
        .into_iter()
        .map(|event| event["messageId"].as_str().unwrap().to_owned())
        .collect()
}

fn logged_ids(lines: &[Value], outcome: &str) -> HashSet<String> {
    ids(lines
        .iter()
        .filter(|line| line["outcome"] == outcome)
        .map(|line| &line["event"]))
}

/// Waits until the receiver has accepted `events` events (bounded).
fn wait_for_events(server: &Server, events: usize) {
    assert!(
        server.wait_until(Duration::from_secs(10), |requests| {
            accepted(requests) >= events
        }),
        "the receiver got {} events, expected {events}",
        server_events(server)
    );
}

/// Events in accepted requests (for `wait_until`, which holds the server's lock).
fn accepted(requests: &[Request]) -> usize {
    requests
        .iter()
        .filter(|request| request.accepted)
        .map(|request| request.events().len())
        .sum()
}

fn server_events(server: &Server) -> usize {
    server.accepted_events().len()
}

#[test]
fn the_log_shows_what_the_receiver_accepted_and_disable_removes_it() {
    let server = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    run_against(&sandbox, &server, &RUN, &[]);
    wait_for_events(&server, 8);
    let accepted = server.accepted_events();
    let lines = log_lines(&sandbox);
    assert_eq!(lines.len(), accepted.len(), "one line per event sent");
    assert_eq!(logged_ids(&lines, "sent"), ids(&accepted));
    for line in &lines {
        assert!(line["at"].as_str().is_some_and(|at| at.ends_with('Z')));
        assert!(line["reason"].is_null());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(log_file(&sandbox))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only");
    }

    // `telemetry log`: one line per event, with its name and outcome.
    let text = stdout(&minietl(&sandbox, &["telemetry", "log"], &[]));
    assert_eq!(text.lines().count(), 8, "{text}");
    assert!(text.lines().all(|line| line.ends_with(" sent")), "{text}");
    assert!(text.contains("command_run"), "{text}");
    let json = stdout(&minietl(&sandbox, &["telemetry", "log", "--json"], &[]));
    let parsed: Vec<Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(parsed, lines);

    // The library's own reader, for hosts without clap.
    let config = telemetry::Config::new(APP, "1").cache_dir(cache_dir(&sandbox));
    let logged = telemetry::sent_log(&config).unwrap();
    assert_eq!(logged.len(), 8);
    assert!(logged
        .iter()
        .all(|line| line.outcome == telemetry::LogOutcome::Sent));

    let status = stdout(&minietl(&sandbox, &["telemetry", "status"], &[]));
    assert!(
        status.contains("Last batch: ") && status.contains("accepted by the receiver"),
        "{status}"
    );

    minietl(&sandbox, &["telemetry", "disable"], &[]);
    assert!(!log_file(&sandbox).exists(), "disable removes the log");
    let text = stdout(&minietl(&sandbox, &["telemetry", "log"], &[]));
    assert!(text.starts_with("Nothing sent"), "{text}");
}

#[test]
fn local_mode_records_sends_nothing_and_enable_sends_only_what_follows() {
    let server = Server::start(Mode::Healthy);
    let sandbox = Sandbox::new();
    let set = stdout(&minietl(&sandbox, &["telemetry", "local"], &[]));
    assert!(set.contains("Saved choice: local"), "{set}");

    let run = run_against(&sandbox, &server, &RUN, &[]);
    assert_eq!(stdout(&run), "loaded 5 rows\n");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.request_count(),
        0,
        "local-only: nothing on the network"
    );
    assert_eq!(sandbox.spooled_segments(), 0, "and nothing spooled");
    assert!(
        !sandbox.tree().iter().any(|path| path.ends_with("spool")),
        "no spool directory: {:?}",
        sandbox.tree()
    );
    let lines = log_lines(&sandbox);
    assert_eq!(lines.len(), 8, "every event recorded locally");
    assert!(lines.iter().all(|line| line["outcome"] == "local"));
    let local = logged_ids(&lines, "local");

    let status = stdout(&minietl(&sandbox, &["telemetry", "status"], &[]));
    assert!(
        status.contains("Telemetry is on: the saved choice."),
        "{status}"
    );
    assert!(status.contains("recorded locally, not sent"), "{status}");

    // Opting in sends what happens from now on, never what was recorded before.
    minietl(&sandbox, &["telemetry", "enable"], &[]);
    run_against(&sandbox, &server, &RUN, &[]);
    wait_for_events(&server, 8);
    let sent = ids(&server.accepted_events());
    assert_eq!(sent.len(), 8);
    assert!(sent.is_disjoint(&local));
    assert_eq!(logged_ids(&log_lines(&sandbox), "sent"), sent);
}

#[test]
fn local_mode_keeps_the_exit_bound_with_a_receiver_that_never_answers() {
    // The endpoint accepts connections and never answers: a run that tried to send would
    // wait out its flush timeout at exit. Local-only mode never opens a socket.
    let server = Server::start(Mode::Blackhole);
    let reference = {
        let sandbox = Sandbox::new();
        (0..3)
            .map(|_| minietl(&sandbox, &RUN, &[("DO_NOT_TRACK", "1")]).elapsed)
            .min()
            .unwrap()
    };
    let sandbox = Sandbox::new();
    minietl(&sandbox, &["telemetry", "local"], &[]);
    let run = run_against(&sandbox, &server, &RUN, &[]);
    assert_eq!(stdout(&run), "loaded 5 rows\n");
    let delay = run.elapsed.saturating_sub(reference);
    // The library's default flush timeout, plus start-up noise of a debug build on a
    // loaded machine: a bound for a hang, not a measurement.
    assert!(
        delay <= Duration::from_millis(200) + Duration::from_secs(1),
        "exit delayed by {delay:?}"
    );
    assert_eq!(server.request_count(), 0, "nothing was sent");
    let lines = log_lines(&sandbox);
    assert_eq!(lines.len(), 8, "every event recorded locally");
    assert!(lines.iter().all(|line| line["outcome"] == "local"));
}

#[test]
fn events_given_up_after_a_410_are_logged_as_dropped_with_the_reason() {
    let server = Server::start(Mode::Gone);
    let sandbox = Sandbox::new();
    run_against(&sandbox, &server, &RUN, &[]);
    let first = log_lines(&sandbox);
    assert!(
        !first.is_empty(),
        "the batch the receiver refused is logged"
    );
    assert!(first.iter().all(|line| line["outcome"] == "dropped"
        && line["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("stopped this installation"))));
    let requests = server.request_count();

    // The next run sends nothing: its events are given up on at once, and the log says so.
    run_against(&sandbox, &server, &RUN, &[]);
    assert_eq!(server.request_count(), requests, "nothing sent after a 410");
    let lines = log_lines(&sandbox);
    let given_up: Vec<&Value> = lines[first.len()..].iter().collect();
    assert_eq!(
        given_up.len(),
        8,
        "every event of the second run: {lines:?}"
    );
    for line in given_up {
        assert_eq!(line["outcome"], "dropped");
        assert_eq!(
            line["reason"],
            "the receiver stopped this installation (410 Gone)"
        );
    }
    let text = stdout(&minietl(&sandbox, &["telemetry", "log"], &[]));
    assert!(text.contains("(410 Gone)"), "{text}");
}

#[test]
fn events_spooled_before_the_opt_in_are_dropped_and_logged() {
    let server = Server::start(Mode::Refused);
    let sandbox = Sandbox::new();
    // On by default; the receiver is down: the events wait in the spool.
    run_against(&sandbox, &server, &RUN, &[]);
    assert!(sandbox.spooled_segments() > 0);
    let spooled: HashSet<String> = find_spooled(&sandbox);
    assert_eq!(spooled.len(), 8);

    // The user looks first, then opts in: the opt-in date is now.
    minietl(&sandbox, &["telemetry", "local"], &[]);
    std::thread::sleep(Duration::from_millis(20));
    minietl(&sandbox, &["telemetry", "enable"], &[]);
    server.set_mode(Mode::Healthy);
    // The back-off window of the failure is over.
    for record in sandbox.delivery_records() {
        let _ = std::fs::remove_file(record);
    }

    for _ in 0..4 {
        run_against(&sandbox, &server, &RUN, &[]);
        if sandbox.spooled_segments() == 0 {
            break;
        }
    }
    assert_eq!(sandbox.spooled_segments(), 0, "the spool was emptied");
    let sent = ids(&server.accepted_events());
    assert!(!sent.is_empty());
    assert!(
        sent.is_disjoint(&spooled),
        "nothing recorded before the opt-in reached the receiver"
    );
    let lines = log_lines(&sandbox);
    let dropped: Vec<&Value> = lines
        .iter()
        .filter(|line| line["outcome"] == "dropped")
        .collect();
    assert_eq!(ids(dropped.iter().map(|line| &line["event"])), spooled);
    assert!(dropped
        .iter()
        .all(|line| line["reason"] == "recorded before the user opted in"));
}

/// The `messageId`s of every spooled event.
fn find_spooled(sandbox: &Sandbox) -> HashSet<String> {
    // One spool folder per endpoint, below `spool/`.
    let spool = cache_dir(sandbox).join("spool");
    let mut found = HashSet::new();
    for folder in std::fs::read_dir(spool).unwrap().flatten() {
        for entry in std::fs::read_dir(folder.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for line in text.lines() {
                if let Ok(event) = serde_json::from_str::<Value>(line) {
                    found.insert(event["messageId"].as_str().unwrap().to_owned());
                }
            }
        }
    }
    found
}

#[test]
fn at_level_errors_the_receiver_gets_only_failures() {
    let server = Server::start(Mode::Healthy);
    let errors = [("MINIETL_TELEMETRY_LEVEL", "errors")];

    // A successful run: nothing at all goes out (nor into the log).
    let sandbox = Sandbox::new();
    run_against(&sandbox, &server, &RUN, &errors);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.request_count(), 0);
    assert!(log_lines(&sandbox).is_empty());

    // A failing run: only the failed events.
    let failing = ["run", "--rows", "5", "--fail-at", "load"];
    let run = run_against(&sandbox, &server, &failing, &errors);
    assert_eq!(run.code, Some(2));
    wait_for_events(&server, 2);
    let events = server.accepted_events();
    let names: HashSet<&str> = events
        .iter()
        .map(|event| event["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        HashSet::from(["step_load", "command_run"]),
        "{events:?}"
    );
    assert!(events
        .iter()
        .all(|event| event["properties"]["success"] == false));

    // Saved `errors` and the variable saying `usage`: the lowest wins.
    let saved = Sandbox::new();
    let set = stdout(&minietl(&saved, &["telemetry", "level", "errors"], &[]));
    assert!(set.contains("Level: errors"), "{set}");
    let before = server.request_count();
    run_against(
        &saved,
        &server,
        &RUN,
        &[("MINIETL_TELEMETRY_LEVEL", "usage")],
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.request_count(),
        before,
        "the variable cannot raise it"
    );

    // And `usage` saved, `errors` from the variable: lowered.
    let lowered = Sandbox::new();
    minietl(&lowered, &["telemetry", "level", "usage"], &[]);
    run_against(&lowered, &server, &RUN, &errors);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.request_count(), before);
}

#[test]
fn an_unknown_or_off_level_is_off_before_anything_is_written() {
    let server = Server::start(Mode::Healthy);
    for value in ["off", "loud", "OFF"] {
        let sandbox = Sandbox::new();
        let run = run_against(
            &sandbox,
            &server,
            &RUN,
            &[
                ("MINIETL_TELEMETRY_LEVEL", value),
                ("MINIETL_TELEMETRY_DEBUG", "1"),
            ],
        );
        assert!(
            run.stderr
                .contains("[telemetry] telemetry is off: the telemetry level is off"),
            "{value}: {}",
            run.stderr
        );
        assert!(sandbox.tree().is_empty(), "{value}: {:?}", sandbox.tree());
    }
    assert_eq!(server.request_count(), 0);
    // An empty value is unset: on.
    let sandbox = Sandbox::new();
    run_against(&sandbox, &server, &RUN, &[("MINIETL_TELEMETRY_LEVEL", "")]);
    wait_for_events(&server, 8);
}

/// The documented sample position of an installation: BLAKE3 of the id's text, the
/// first 8 bytes big-endian, over 2^64.
fn sample_position(sandbox: &Sandbox) -> f64 {
    let state: Value =
        serde_json::from_slice(&std::fs::read(sandbox.state_file(APP)).unwrap()).unwrap();
    let id = state["anonymous_id"].as_str().unwrap();
    let hash = blake3::hash(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_be_bytes(first) as f64 / 18_446_744_073_709_551_616.0
}

#[test]
fn sampling_is_decided_per_installation_and_stable() {
    let server = Server::start(Mode::Healthy);

    // Rate 0: outside; nothing sent, no log, the status says why.
    let outside = Sandbox::new();
    let rate_zero = [("MINIETL_EXAMPLE_SAMPLE_RATE", "0.0")];
    run_against(&outside, &server, &RUN, &rate_zero);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.request_count(), 0);
    assert!(
        !log_file(&outside).exists(),
        "no log when outside the sample"
    );
    assert!(
        outside.state_file(APP).exists(),
        "the id the decision needs"
    );
    let status = stdout(&minietl(&outside, &["telemetry", "status"], &rate_zero));
    assert!(
        status.contains("Telemetry is off: this installation is outside the application's sample."),
        "{status}"
    );

    // Rate 1: inside; sent without a sample rate (it would be 1).
    let inside = Sandbox::new();
    run_against(
        &inside,
        &server,
        &RUN,
        &[("MINIETL_EXAMPLE_SAMPLE_RATE", "1.0")],
    );
    wait_for_events(&server, 8);
    assert!(server
        .accepted_events()
        .iter()
        .all(|event| event["properties"].get("sample_rate").is_none()));

    // Rate 0.5: the same answer run after run, the documented one, and the rate sent.
    let half = Sandbox::new();
    let rate_half = [("MINIETL_EXAMPLE_SAMPLE_RATE", "0.5")];
    let mut decisions = Vec::new();
    for _ in 0..3 {
        let before = server_events(&server);
        run_against(&half, &server, &RUN, &rate_half);
        let sent = server.wait_until(Duration::from_secs(5), |requests| {
            accepted(requests) >= before + 8
        });
        decisions.push(sent);
    }
    assert!(
        decisions.iter().all(|sent| *sent == decisions[0]),
        "{decisions:?}"
    );
    assert_eq!(decisions[0], sample_position(&half) < 0.5);
    if decisions[0] {
        let last = server.accepted_events().pop().unwrap();
        assert_eq!(last["properties"]["sample_rate"], 0.5);
    }
}
