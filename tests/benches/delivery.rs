//! Exit delay and delivery of the `minietl` example against a loopback receiver:
//! telemetry off, a healthy receiver, connections refused, a blackhole (accepts, never
//! answers), and a name whose resolver never answers.
//!
//! ```text
//! cargo bench -p telemetry-tests --bench delivery            # 15 runs per row
//! BENCH_RUNS=31 cargo bench -p telemetry-tests --bench delivery
//! ```
//!
//! Each row runs `minietl run --rows 5` (eight events) as a fresh process, many times,
//! and reports the median wall-clock time from spawn to exit, and its excess over the
//! median run with telemetry off. Two scenarios per failure mode:
//!
//! - `first`: every run in a fresh installation, so every run meets the failure for
//!   the first time (no back-off remembered yet): the worst case per process;
//! - `repeat`: all runs in one installation, one after the other: what a user running
//!   commands on a broken network gets once the first failure is remembered.
//!
//! Then the receiver becomes healthy, the back-off windows are declared over, and each
//! installation runs `minietl status` until its spool is empty (at most five times).
//! `delivered` is the share of the measured runs' events the receiver accepted, counted
//! once per `messageId`; `at exit` the share it had accepted before that recovery;
//! `dupes` the events it accepted more than once.
//!
//! The example is built in release mode with the `tls` feature (the unanswered-DNS row
//! needs an `https://` endpoint). That row runs the example in a private mount
//! namespace whose `resolv.conf` names a silent DNS server; it needs root and `unshare`
//! and is skipped (with the reason) where they are missing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use telemetry_tests::server::{Mode, Server, SilentDns};
use telemetry_tests::{run, workspace_root, Run, Sandbox};

const MEASURED: [&str; 3] = ["run", "--rows", "5"];
const EVENTS_PER_RUN: usize = 8;
const HOUSEKEEPING: [&str; 1] = ["status"];
const CHILD_LIMIT: Duration = Duration::from_secs(60);
const DNS_ENDPOINT: &str = "https://collector.example.com/v1/batch";

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` this is a no-op.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!(
            "delivery benchmark: run it with `cargo bench -p telemetry-tests --bench delivery`"
        );
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(15)
        .max(1);
    let binary = build_release();
    println!(
        "minietl {} (release, tls), {runs} runs per row\n",
        binary.display()
    );

    let off = Network::Plain.measure_off(&binary, runs);
    let mut rows = vec![Row::off("disabled", &off)];
    let dns = SilentDns::start().map_err(|error| format!("cannot bind port 53: {error}"));
    for (label, mode) in [
        ("healthy", Some(Mode::Healthy)),
        ("refused", Some(Mode::Refused)),
        ("blackhole", Some(Mode::Blackhole)),
        ("DNS never answers", None),
    ] {
        let network = match (mode, &dns) {
            (Some(_), _) => Network::Plain,
            (None, Ok(dns)) => match Network::without_dns(dns) {
                Ok(network) => network,
                Err(reason) => {
                    rows.push(Row::skipped(label, &reason));
                    continue;
                }
            },
            (None, Err(reason)) => {
                rows.push(Row::skipped(label, reason));
                continue;
            }
        };
        let off = match network {
            Network::Plain => off.clone(),
            _ => network.measure_off(&binary, runs),
        };
        for scenario in [Scenario::First, Scenario::Repeat] {
            let row = measure(
                &binary,
                &network,
                mode.unwrap_or(Mode::Healthy),
                scenario,
                runs,
                &off,
            );
            rows.push(Row {
                label: label.to_owned(),
                ..row
            });
            if mode == Some(Mode::Healthy) {
                break;
            }
        }
    }
    print_table(&rows);
    let _ = std::fs::remove_dir_all(bench_dir());
}

/// Files of this benchmark run (the private `resolv.conf`).
fn bench_dir() -> PathBuf {
    std::env::temp_dir().join(format!("telemetry-bench-{}", std::process::id()))
}

/// Builds the example once, in release mode, with TLS.
fn build_release() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("target dir")
        .join("bench-bins");
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "minietl",
            "--bin",
            "minietl",
        ])
        .args(["--features", "telemetry/tls", "--target-dir"])
        .arg(&target)
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building minietl failed");
    target.join("release").join("minietl")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    First,
    Repeat,
}

/// How the example reaches its endpoint.
enum Network {
    /// Directly, to the loopback receiver.
    Plain,
    /// In a private mount namespace whose resolver never answers, to an `https://` name.
    WithoutDns(PathBuf),
}

impl Network {
    fn without_dns(dns: &SilentDns) -> Result<Network, String> {
        let dir = bench_dir();
        std::fs::create_dir_all(&dir).map_err(|error| error.to_string())?;
        let resolv = dir.join("resolv.conf");
        std::fs::write(&resolv, dns.resolv_conf()).map_err(|error| error.to_string())?;
        let network = Network::WithoutDns(resolv);
        let probe = Sandbox::new();
        let mut command = network.command(&probe, Path::new("cat"), &["/etc/resolv.conf"], None);
        let result = run(&mut command, Duration::from_secs(10));
        if result.code == Some(0)
            && String::from_utf8_lossy(&result.stdout).contains(&dns.address().to_string())
        {
            Ok(network)
        } else {
            Err(format!(
                "no private mount namespace here (exit {:?}: {})",
                result.code,
                result.stderr.trim()
            ))
        }
    }

    /// A command for `binary args` in `sandbox`, sending to `endpoint` (off without).
    fn command(
        &self,
        sandbox: &Sandbox,
        binary: &Path,
        args: &[&str],
        endpoint: Option<&str>,
    ) -> Command {
        let mut command = match self {
            Network::Plain => {
                let mut command = sandbox.command(binary);
                command.args(args);
                command
            }
            Network::WithoutDns(resolv) => {
                let mut command = sandbox.command(Path::new("unshare"));
                command
                    .args(["--mount", "--propagation", "private", "sh", "-c"])
                    .arg(r#"mount --bind "$0" /etc/resolv.conf || exit 97; exec "$@""#)
                    .arg(resolv)
                    .arg(binary)
                    .args(args);
                command
            }
        };
        match endpoint {
            Some(url) => command.env("MINIETL_TELEMETRY_ENDPOINT", url),
            None => command.env("MINIETL_TELEMETRY_DISABLED", "1"),
        };
        command
    }

    fn measure_off(&self, binary: &Path, runs: usize) -> Vec<Duration> {
        let sandbox = Sandbox::new();
        (0..runs)
            .map(|_| {
                let result = run(
                    &mut self.command(&sandbox, binary, &MEASURED, None),
                    CHILD_LIMIT,
                );
                assert_eq!(result.code, Some(0), "{}", result.stderr);
                result.elapsed
            })
            .collect()
    }
}

#[derive(Clone)]
struct Row {
    label: String,
    scenario: &'static str,
    times: Vec<Duration>,
    off_median: Duration,
    at_exit: Option<(usize, usize)>,
    delivered: Option<(usize, usize)>,
    duplicates: usize,
    note: String,
}

impl Row {
    fn off(label: &str, times: &[Duration]) -> Row {
        Row {
            label: label.to_owned(),
            scenario: "-",
            times: times.to_vec(),
            off_median: median(times),
            at_exit: None,
            delivered: None,
            duplicates: 0,
            note: String::new(),
        }
    }

    fn skipped(label: &str, reason: &str) -> Row {
        Row {
            label: label.to_owned(),
            scenario: "-",
            times: Vec::new(),
            off_median: Duration::ZERO,
            at_exit: None,
            delivered: None,
            duplicates: 0,
            note: format!("skipped: {reason}"),
        }
    }
}

fn measure(
    binary: &Path,
    network: &Network,
    mode: Mode,
    scenario: Scenario,
    runs: usize,
    off: &[Duration],
) -> Row {
    let server = Server::start(Mode::Healthy);
    let plain = Network::Plain;
    let sandboxes: Vec<Sandbox> = match scenario {
        Scenario::First => (0..runs).map(|_| Sandbox::new()).collect(),
        Scenario::Repeat => vec![Sandbox::new()],
    };
    // Each installation exists before it is measured (state file, notice shown).
    for sandbox in &sandboxes {
        housekeeping(&plain, &server, sandbox, binary);
    }
    let endpoint = match network {
        Network::Plain => server.url(),
        Network::WithoutDns(_) => DNS_ENDPOINT.to_owned(),
    };
    server.set_mode(mode);
    let mut times = Vec::with_capacity(runs);
    for index in 0..runs {
        let sandbox = &sandboxes[index % sandboxes.len()];
        let result = run(
            &mut network.command(sandbox, binary, &MEASURED, Some(&endpoint)),
            CHILD_LIMIT,
        );
        assert_eq!(result.code, Some(0), "{}", result.stderr);
        assert_eq!(String::from_utf8_lossy(&result.stdout), "loaded 5 rows\n");
        times.push(result.elapsed);
    }
    let at_exit = unique_measured(&server);

    server.set_mode(Mode::Healthy);
    for sandbox in &sandboxes {
        for _ in 0..5 {
            fast_forward(sandbox);
            housekeeping(&plain, &server, sandbox, binary);
            if sandbox.spooled_segments() == 0 {
                break;
            }
        }
    }
    let delivered = unique_measured(&server);
    let expected = runs * EVENTS_PER_RUN;
    Row {
        label: String::new(),
        scenario: match scenario {
            Scenario::First => "first",
            Scenario::Repeat => "repeat",
        },
        times,
        off_median: median(off),
        at_exit: Some((at_exit.0, expected)),
        delivered: Some((delivered.0, expected)),
        duplicates: delivered.1,
        note: String::new(),
    }
}

/// `minietl status` against the receiver: creates the installation, or empties its spool.
fn housekeeping(network: &Network, server: &Server, sandbox: &Sandbox, binary: &Path) -> Run {
    let result = run(
        &mut network.command(sandbox, binary, &HOUSEKEEPING, Some(&server.url())),
        CHILD_LIMIT,
    );
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    result
}

/// Accepted events of measured runs: (distinct message ids, extra copies).
fn unique_measured(server: &Server) -> (usize, usize) {
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    for event in server.accepted_events() {
        if event["event"] == "command_status" {
            continue;
        }
        let id = event["messageId"].as_str().unwrap_or_default().to_owned();
        if !seen.insert(id) {
            duplicates += 1;
        }
    }
    (seen.len(), duplicates)
}

/// Declares the back-off window over (instead of waiting for it).
fn fast_forward(sandbox: &Sandbox) {
    for path in sandbox.delivery_records() {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(mut record) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        record["retry_at"] = Value::Null;
        let _ = std::fs::write(&path, serde_json::to_vec(&record).unwrap_or_default());
    }
}

fn median(times: &[Duration]) -> Duration {
    if times.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn percentile(times: &[Duration], share: f64) -> Duration {
    if times.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = times.to_vec();
    sorted.sort();
    let index = ((sorted.len() - 1) as f64 * share).round() as usize;
    sorted[index]
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn share(counts: Option<(usize, usize)>) -> String {
    match counts {
        Some((got, of)) if of > 0 => {
            format!("{:.0} % ({got}/{of})", got as f64 * 100.0 / of as f64)
        }
        _ => "-".to_owned(),
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<18} {:<7} {:>10} {:>12} {:>10} {:>16} {:>16} {:>6}",
        "receiver", "runs", "median", "vs off", "p90", "at exit", "delivered", "dupes"
    );
    for row in rows {
        if !row.note.is_empty() {
            println!("{:<18} {}", row.label, row.note);
            continue;
        }
        let median_time = median(&row.times);
        let excess = if row.scenario == "-" {
            "-".to_owned()
        } else {
            let excess = median_time.as_secs_f64() - row.off_median.as_secs_f64();
            format!("{:+.1} ms", excess * 1e3)
        };
        println!(
            "{:<18} {:<7} {:>10} {:>12} {:>10} {:>16} {:>16} {:>6}",
            row.label,
            format!("{} x{}", row.scenario, row.times.len()),
            millis(median_time),
            excess,
            millis(percentile(&row.times, 0.9)),
            share(row.at_exit),
            share(row.delivered),
            if row.scenario == "-" {
                "-".to_owned()
            } else {
                row.duplicates.to_string()
            },
        );
    }
}
