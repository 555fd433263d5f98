//! Crashes at random points: real `minietl` processes killed with `SIGKILL` while they
//! create the state file, change the saved choice, write the spool, send batches and
//! update the delivery record, a few hundred times, against the real loopback receiver.
//!
//! After every kill the sandbox is inspected file by file ([`census`]): each file is one
//! the library wrote whole (the state file and the delivery records parse and hold what
//! the library's readers require, every spool segment holds as many complete JSON lines
//! as its name says, every line of the sent log parses or is the start of a line cut
//! short, alone on its line, which the reader skips), or a hidden temporary no reader
//! ever opens, or an empty lock file. Then, per test:
//!
//! - delivery: every event ever seen in a spool, or accepted by the receiver, is
//!   accepted by the end (after an unkilled recovery against a healthy receiver), each
//!   run that was not killed left all its events accepted or spooled, and every
//!   duplicate the receiver got is one the design allows: a batch accepted while its
//!   sender was being killed (or was past its exit deadline), sent again by a later run,
//!   with the same `messageId` and the same content;
//! - opt-out: a `disable` that reported success is never undone by a later kill, and no
//!   request reaches the receiver after it;
//! - first runs: a first run killed anywhere leaves no state file or one whole state
//!   file, whose id the next run keeps;
//! - `410 Gone`: once the delivery record says gone, no later kill loses that, nothing
//!   more is sent, and no spool segment is left behind it.
//!
//! The schedule (which receiver behaviour, how long before the kill) comes from a
//! xorshift generator whose seed is printed; `CRASH_SEED=<seed>` replays the schedule
//! (where each kill lands inside the process still depends on timing).
//! `CRASH_KILLS=<n>` sets the number of kills over the four tests (default
//! [`DEFAULT_KILLS`]), and the tests print their figures (`--nocapture` shows them).
//!
//! The tests run one at a time, every child is killed if it outlives a limit, and every
//! wait is bounded.

#![cfg(unix)]

use std::collections::{HashMap, HashSet};
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use telemetry_tests::server::{Mode, Request, Server};
use telemetry_tests::{example_bin, run, serial, Build, Run, Sandbox};

const APP: &str = "minietl";
const ARGS: [&str; 3] = ["run", "--rows", "5"];
/// Events of one `minietl run --rows 5`.
const RUN_EVENTS: usize = 8;
/// The examples' exit-flush bound (the library's default).
const FLUSH_TIMEOUT: Duration = Duration::from_millis(200);
const CHILD_LIMIT: Duration = Duration::from_secs(30);
/// Kills over the four tests unless `CRASH_KILLS` says otherwise.
const DEFAULT_KILLS: usize = 300;
/// How long the receiver must have read no new request before the requests read so far
/// are put down to the child that just died.
const QUIET: Duration = Duration::from_millis(40);
/// The slow receiver answers after this: well past the exit deadline, so that only a
/// child still connected by then (none) could have the answer.
const SLOW: Duration = Duration::from_millis(1000);
/// Kills per installation in the delivery test, before it is recovered and replaced.
const EPOCH_KILLS: usize = 50;

fn minietl() -> PathBuf {
    example_bin(APP, Build::Enabled)
}

// The schedule.

/// xorshift64: small, seeded, good enough to spread kills.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// Uniform in `[0, max]`, in microseconds.
    fn up_to(&mut self, max: Duration) -> Duration {
        Duration::from_micros(self.below(max.as_micros() as u64 + 1))
    }
}

/// The generator of test `name`: from `CRASH_SEED` or the clock, printed so that a
/// failure can be replayed.
fn rng(name: &str) -> Rng {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|seed| seed.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |since| since.as_nanos() as u64)
        });
    println!("crash/{name}: seed {seed} (CRASH_SEED={seed} replays this schedule)");
    // One stream per test, from the same seed (FNV-1a of the name mixed in).
    let salt = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut rng = Rng((seed ^ salt) | 1);
    for _ in 0..8 {
        rng.next();
    }
    rng
}

/// This test's share (in percent) of the kills.
fn kills(share: usize) -> usize {
    let total = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|kills| kills.trim().parse::<usize>().ok())
        .unwrap_or(DEFAULT_KILLS);
    (total * share).div_ceil(100).max(1)
}

// Children.

/// How a child ended.
#[derive(Clone, Copy, Debug)]
struct Ended {
    killed: bool,
    /// Its exit code, if it exited.
    code: Option<i32>,
    /// From spawn to exit or kill.
    lifetime: Duration,
    /// When it was started and when it was reaped.
    alive: (SystemTime, SystemTime),
}

/// Starts `command` (output discarded) and kills it with `SIGKILL` after `after`, unless
/// it exited first.
fn spawn_and_kill(command: &mut Command, after: Duration) -> Ended {
    let born = SystemTime::now();
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the example");
    let deadline = started + after.min(CHILD_LIMIT);
    let status: ExitStatus = loop {
        if let Some(status) = child.try_wait().expect("wait for the example") {
            break status;
        }
        let now = Instant::now();
        if now >= deadline {
            // Child::kill is SIGKILL on Unix. On a child that exited a moment ago it
            // does nothing, and the status below says it exited.
            let _ = child.kill();
            break child.wait().expect("reap the example");
        }
        std::thread::sleep((deadline - now).min(Duration::from_micros(200)));
    };
    Ended {
        killed: status.signal() == Some(SIGKILL),
        code: status.code(),
        lifetime: started.elapsed(),
        alive: (born, SystemTime::now()),
    }
}

const SIGKILL: i32 = 9;

fn run_command(sandbox: &Sandbox, url: &str) -> Command {
    let mut command = sandbox.command(&minietl());
    command.args(ARGS).env("MINIETL_TELEMETRY_ENDPOINT", url);
    command
}

fn telemetry_command(sandbox: &Sandbox, url: &str, args: &[&str]) -> Command {
    let mut command = sandbox.command(&minietl());
    command
        .arg("telemetry")
        .args(args)
        .env("MINIETL_TELEMETRY_ENDPOINT", url);
    command
}

fn completed(command: &mut Command) -> Run {
    run(command, CHILD_LIMIT)
}

/// A delay that lands anywhere in a process's life, and sometimes after it. The files
/// are written in its last part (after the start-up, the command and the flush), so
/// more than half of the kills are aimed there.
fn kill_delay(rng: &mut Rng, lifetime: Duration) -> Duration {
    let end = lifetime.mul_f64(1.15);
    if rng.percent(40) {
        rng.up_to(end)
    } else {
        let start = lifetime.mul_f64(0.6);
        start + rng.up_to(end - start)
    }
}

/// Keeps an estimate of a kind of process's lifetime from its unkilled runs.
#[derive(Default)]
struct Lifetimes(HashMap<String, Duration>);

impl Lifetimes {
    fn get(&self, kind: &str) -> Duration {
        self.0
            .get(kind)
            .copied()
            .unwrap_or(Duration::from_millis(60))
    }

    fn note(&mut self, kind: &str, lifetime: Duration) {
        let entry = self.0.entry(kind.to_owned()).or_insert(lifetime);
        *entry = entry.mul_f64(0.7) + lifetime.mul_f64(0.3);
    }
}

// The receiver.

/// Waits (bounded) until the receiver has read no new request for [`QUIET`]: with one
/// child at a time, what it read until then came from the child that just ended.
fn settle(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut last = server.request_count();
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        let now = server.request_count();
        if now != last {
            last = now;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= QUIET {
            return;
        }
    }
}

fn set_mode(server: &Server, mode: Mode) {
    if server.mode() != mode {
        server.set_mode(mode);
    }
}

// The files.

/// What the sandbox holds, every file checked.
#[derive(Default, Debug)]
struct Census {
    /// Files that are not what the library writes whole: the test fails on any.
    torn: Vec<String>,
    /// Hidden temporaries (`.<name>.<random>.tmp`) a killed writer left: never read.
    temporaries: usize,
    /// The events in spool segments.
    spooled: Vec<Value>,
    segments: usize,
    /// The state file's content, if there is one and it is whole.
    state: Option<Value>,
    /// The delivery records' contents.
    records: Vec<Value>,
    log_lines: usize,
    /// Sent-log lines cut short by a kill mid-append, each alone on its line.
    torn_log_lines: usize,
}

/// How every line of the sent log starts.
const LOG_LINE_START: &[u8] = b"{\"at\":\"";

impl Census {
    fn assert_whole(&self, context: &str) {
        assert!(
            self.torn.is_empty(),
            "{context}: files not written whole: {:#?}",
            self.torn
        );
    }
}

/// Walks the sandbox and checks each file as the library's readers would read it.
fn census(sandbox: &Sandbox) -> Census {
    let mut census = Census::default();
    for relative in sandbox.tree() {
        let path = sandbox.home().join(&relative);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(error) => {
                census.torn.push(format!("{}: {error}", relative.display()));
                continue;
            }
        };
        if meta.is_dir() {
            continue;
        }
        let shown = relative.display().to_string();
        if !meta.is_file() {
            census.torn.push(format!("{shown}: not a regular file"));
            continue;
        }
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        let parent = path
            .parent()
            .and_then(|parent| parent.file_name())
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) => {
                census.torn.push(format!("{shown}: {error}"));
                continue;
            }
        };
        if name.starts_with('.') && name.ends_with(".tmp") {
            // A writer killed between writing its temporary and renaming it. No reader
            // opens these (the spool lists only `*.jsonl` names that parse, the other
            // files are opened by name), and later runs remove them once stale.
            census.temporaries += 1;
            continue;
        }
        if name.starts_with('.') && name.ends_with(".lock") {
            if !bytes.is_empty() {
                census
                    .torn
                    .push(format!("{shown}: a lock file with content"));
            }
            continue;
        }
        if name == "state.json" {
            match check_state(&bytes) {
                Ok(state) => census.state = Some(state),
                Err(problem) => census.torn.push(format!("{shown}: {problem}")),
            }
        } else if name.starts_with("delivery-") && name.ends_with(".json") {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(record) if record.is_object() => census.records.push(record),
                _ => census
                    .torn
                    .push(format!("{shown}: not a JSON object: {:?}", lossy(&bytes))),
            }
        } else if name == "sent.jsonl" {
            for line in bytes.split(|byte| *byte == b'\n') {
                if line.is_empty() {
                    continue;
                }
                match serde_json::from_slice::<Value>(line) {
                    Ok(entry) if entry["event"]["messageId"].is_string() => {
                        census.log_lines += 1;
                    }
                    // A kill in the middle of an append (a write of several pages can
                    // stop part-way) leaves the start of a line, which the reader skips;
                    // the next writer starts a line of its own. Glued to a whole line
                    // (two starts in one), it would take that line down with it.
                    _ if line.starts_with(LOG_LINE_START)
                        && line
                            .windows(LOG_LINE_START.len())
                            .filter(|window| *window == LOG_LINE_START)
                            .count()
                            == 1 =>
                    {
                        census.torn_log_lines += 1;
                    }
                    _ => census
                        .torn
                        .push(format!("{shown}: a torn line: {:?}", lossy(line))),
                }
            }
        } else if let Some(count) = segment_events(&name).filter(|_| {
            path.ancestors()
                .nth(2)
                .is_some_and(|spool| spool.ends_with("spool"))
                && parent.len() == 16
        }) {
            census.segments += 1;
            if let Err(problem) = check_segment(&bytes, count, &mut census.spooled) {
                census.torn.push(format!("{shown}: {problem}"));
            }
        } else {
            census
                .torn
                .push(format!("{shown}: a file the library does not write"));
        }
    }
    census
}

fn lossy(bytes: &[u8]) -> String {
    let text: Vec<char> = String::from_utf8_lossy(bytes).chars().collect();
    if text.len() > 160 {
        let head: String = text[..80].iter().collect();
        let tail: String = text[text.len() - 60..].iter().collect();
        format!("{head}…{tail}")
    } else {
        text.into_iter().collect()
    }
}

/// What the library's state reader requires: JSON with a UUID v4 `anonymous_id` and a
/// 64-hex-digit `hash_key` (anything else turns telemetry off as "unreadable").
fn check_state(bytes: &[u8]) -> Result<Value, String> {
    let state: Value =
        serde_json::from_slice(bytes).map_err(|error| format!("{error}: {:?}", lossy(bytes)))?;
    let id = state["anonymous_id"].as_str().unwrap_or_default();
    let uuid_v4 = id.len() == 36
        && id.char_indices().all(|(index, character)| match index {
            8 | 13 | 18 | 23 => character == '-',
            14 => character == '4',
            _ => character.is_ascii_hexdigit() && !character.is_ascii_uppercase(),
        });
    let key = state["hash_key"].as_str().unwrap_or_default();
    let key_ok = key.len() == 64 && key.chars().all(|character| character.is_ascii_hexdigit());
    if !uuid_v4 || !key_ok || !state["version"].is_u64() {
        return Err(format!("not a valid state: {state}"));
    }
    Ok(state)
}

/// The event count in a segment's name
/// (`<13 digits>-<sequence>-<pid>-<16 hex digits>-<events>.jsonl`), if it is one.
fn segment_events(name: &str) -> Option<usize> {
    let parts: Vec<&str> = name.strip_suffix(".jsonl")?.split('-').collect();
    let [created, sequence, pid, random, events] = parts.as_slice() else {
        return None;
    };
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    (created.len() == 13
        && digits(created)
        && digits(sequence)
        && digits(pid)
        && random.len() == 16
        && random.bytes().all(|byte| byte.is_ascii_hexdigit()))
    .then(|| events.parse().ok())
    .flatten()
}

/// A segment is whole: as many complete JSON events as its name says, each line ended.
fn check_segment(bytes: &[u8], count: usize, spooled: &mut Vec<Value>) -> Result<(), String> {
    if bytes.last() != Some(&b'\n') {
        return Err(format!("does not end with a line end: {:?}", lossy(bytes)));
    }
    let mut events = Vec::new();
    for line in bytes[..bytes.len() - 1].split(|byte| *byte == b'\n') {
        match serde_json::from_slice::<Value>(line) {
            Ok(event) if event["messageId"].is_string() => events.push(event),
            _ => return Err(format!("a torn line: {:?}", lossy(line))),
        }
    }
    if events.len() != count {
        return Err(format!("{} events, its name says {count}", events.len()));
    }
    spooled.extend(events);
    Ok(())
}

/// "Time passes": the back-off windows of the delivery records are over.
fn fast_forward(sandbox: &Sandbox) {
    for path in sandbox.delivery_records() {
        let Ok(mut record) = serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap()) else {
            continue;
        };
        if record["retry_at"].is_null() {
            continue;
        }
        record["retry_at"] = Value::Null;
        std::fs::write(&path, serde_json::to_vec_pretty(&record).unwrap()).unwrap();
    }
}

fn message_id(event: &Value) -> String {
    event["messageId"].as_str().unwrap_or_default().to_owned()
}

// The books of the delivery test.

/// A child that may have sent requests.
#[derive(Clone, Copy, Debug)]
struct Sender {
    iteration: usize,
    killed: bool,
    /// Lived past the exit deadline: an answer may have come after the spool was written.
    past_deadline: bool,
    /// When it was started and when it was reaped.
    alive: (SystemTime, SystemTime),
}

#[derive(Default)]
struct Books {
    /// The sender of each request, by index: the one child alive while the receiver
    /// read it (or just before, see [`settle`]).
    senders: Vec<Sender>,
    /// Every child, in order.
    lives: Vec<Sender>,
    /// Every event seen in a spool or accepted: each must be accepted by the end.
    owed: HashMap<String, Value>,
}

impl Books {
    /// Puts the requests read since the last call down to `sender`, and notes what the
    /// receiver accepted and the spool holds. Returns the events seen for the first time.
    fn after(&mut self, server: &Server, census: &Census, sender: Sender) -> Vec<Value> {
        settle(server);
        let requests = server.requests();
        while self.senders.len() < requests.len() {
            self.senders.push(sender);
        }
        self.lives.push(sender);
        let mut new = Vec::new();
        let accepted = requests
            .iter()
            .filter(|request| request.accepted)
            .flat_map(|request| request.events());
        for event in accepted.chain(census.spooled.iter().cloned()) {
            let id = message_id(&event);
            if let std::collections::hash_map::Entry::Vacant(entry) = self.owed.entry(id) {
                entry.insert(event.clone());
                new.push(event);
            }
        }
        new
    }
}

impl Books {
    /// Who sent request `index`: the child alive at the batch's `sentAt` (stamped by
    /// the sender just before sending, so this holds however late the receiver read
    /// it), or failing that the one alive when the receiver read it.
    fn sender(&self, index: usize, request: &Request) -> Option<Sender> {
        self.sent_by(request)
            .or_else(|| self.senders.get(index).copied())
    }

    /// The child alive at the batch's `sentAt`.
    fn sent_by(&self, request: &Request) -> Option<Sender> {
        let slack = Duration::from_millis(2);
        let sent_at = request
            .json()
            .and_then(|body| body["sentAt"].as_str().map(str::to_owned))
            .and_then(|text| humantime::parse_rfc3339_weak(&text).ok())?;
        self.lives
            .iter()
            .find(|life| life.alive.0 <= sent_at + slack && sent_at <= life.alive.1 + slack)
            .copied()
    }
}

/// An unkilled run left all its events accepted or spooled.
fn assert_all_kept(new: &[Value], context: &str) {
    let sessions: HashSet<&str> = new
        .iter()
        .filter_map(|event| event["context"]["session_id"].as_str())
        .collect();
    assert!(
        new.len() == RUN_EVENTS && sessions.len() == 1,
        "{context}: an unkilled run left {} events accepted or spooled (expected \
         {RUN_EVENTS} of one session): {:?}",
        new.len(),
        new.iter()
            .map(|event| (
                event["event"].clone(),
                event["context"]["session_id"].clone()
            ))
            .collect::<Vec<_>>()
    );
}

/// What the delivery test saw.
#[derive(Default, Debug)]
struct Figures {
    kills: usize,
    unkilled: usize,
    /// Kills after which a request of the killed child had been accepted.
    killed_after_acceptance: usize,
    /// Kills after which the child had left new spool segments.
    killed_after_spooling: usize,
    /// Kills that left a new temporary: between writing a file and renaming it.
    killed_mid_write: usize,
    /// Kills before the child changed anything on disk or sent anything.
    killed_before_anything: usize,
    max_temporaries: usize,
    max_torn_log_lines: usize,
    checks: usize,
}

// 1. Delivery.

#[test]
fn kills_during_spool_and_delivery_writes_leave_whole_files_and_lose_no_spooled_event() {
    let _serial = serial();
    let started = Instant::now();
    let mut rng = rng("delivery");
    let kills = kills(60);
    let server = Server::start(Mode::Healthy);
    let url = server.url();
    let mut books = Books::default();
    let mut lifetimes = Lifetimes::default();
    let mut figures = Figures::default();
    let modes = [
        ("healthy", Mode::Healthy),
        ("refused", Mode::Refused),
        (
            "503",
            Mode::WithHeader {
                status: 503,
                header: "Retry-After: 1",
            },
        ),
        ("slow", Mode::Slow(SLOW)),
    ];
    let mut iteration = 0;
    let mut slow_until = Instant::now();
    while figures.kills < kills {
        let sandbox = Sandbox::new();
        let epoch_end = (figures.kills + EPOCH_KILLS).min(kills);
        while figures.kills < epoch_end {
            iteration += 1;
            // Healthy half the time, so that spooled batches are sent (and killed while
            // being sent); the failures write the spool and the delivery record.
            let (kind, mode) = match rng.below(10) {
                0..=4 => modes[0],
                5 | 6 => modes[1],
                7 | 8 => modes[2],
                _ => modes[3],
            };
            set_mode(&server, mode);
            if rng.percent(60) {
                fast_forward(&sandbox);
            }
            let before = census(&sandbox);
            let segments_before: HashSet<String> = before.spooled.iter().map(message_id).collect();
            let requests_before = server.request_count();
            let delay = kill_delay(&mut rng, lifetimes.get(kind));
            let ended = spawn_and_kill(&mut run_command(&sandbox, &url), delay);
            if kind == "slow" {
                slow_until = Instant::now() + SLOW + Duration::from_millis(200);
            }
            let context = format!(
                "iteration {iteration} ({kind}, {} after {delay:?})",
                if ended.killed { "killed" } else { "not killed" }
            );
            let after = census(&sandbox);
            after.assert_whole(&context);
            figures.checks += 1;
            figures.max_temporaries = figures.max_temporaries.max(after.temporaries);
            figures.max_torn_log_lines = figures.max_torn_log_lines.max(after.torn_log_lines);
            let new = books.after(
                &server,
                &after,
                Sender {
                    iteration,
                    killed: ended.killed,
                    past_deadline: ended.lifetime >= FLUSH_TIMEOUT,
                    alive: ended.alive,
                },
            );
            if ended.killed {
                figures.kills += 1;
                let requests = server.requests();
                let accepted = requests[requests_before..]
                    .iter()
                    .any(|request| request.accepted);
                let spooled = after
                    .spooled
                    .iter()
                    .any(|event| !segments_before.contains(&message_id(event)));
                figures.killed_after_acceptance += usize::from(accepted);
                figures.killed_after_spooling += usize::from(spooled);
                let mid_write = after.temporaries > before.temporaries;
                figures.killed_mid_write += usize::from(mid_write);
                let untouched = requests.len() == requests_before
                    && !spooled
                    && !mid_write
                    && after.state == before.state
                    && after.records == before.records
                    && after.log_lines == before.log_lines
                    && after.segments == before.segments;
                figures.killed_before_anything += usize::from(untouched);
            } else {
                figures.unkilled += 1;
                assert_eq!(ended.code, Some(0), "{context}: exit code");
                lifetimes.note(kind, ended.lifetime);
                assert_all_kept(&new, &context);
            }
        }
        recover(&server, &url, &sandbox, &mut books, &mut figures, iteration);
    }

    // Slow answers come after their sender is gone: wait for them to be decided.
    std::thread::sleep(slow_until.saturating_duration_since(Instant::now()));
    let requests = server.requests();
    // The two ways of telling a request's sender agree (else `settle` is too short).
    let by_time = requests
        .iter()
        .filter(|request| books.sent_by(request).is_some())
        .count();
    let misattributed = requests
        .iter()
        .enumerate()
        .filter(|(index, request)| {
            let by_time = books.sent_by(request).map(|sender| sender.iteration);
            by_time.is_some() && by_time != books.senders.get(*index).map(|sender| sender.iteration)
        })
        .count();
    let mut acceptances: HashMap<String, Vec<(usize, Value)>> = HashMap::new();
    let mut dropped_events = 0;
    for (index, request) in requests.iter().enumerate() {
        if !request.accepted {
            continue;
        }
        for event in request.events() {
            dropped_events += event["properties"]["dropped_events"].as_u64().unwrap_or(0);
            acceptances
                .entry(message_id(&event))
                .or_default()
                .push((index, event));
        }
    }
    let lost: Vec<&String> = books
        .owed
        .keys()
        .filter(|id| !acceptances.contains_key(*id))
        .collect();
    let mut duplicates = 0;
    let mut after_kill = 0;
    let mut after_deadline = 0;
    let mut unexplained = Vec::new();
    // The killed children whose accepted batch was sent again by a later run.
    let mut resent_by_kills = HashSet::new();
    for (id, accepted) in &acceptances {
        if accepted.len() < 2 {
            continue;
        }
        duplicates += accepted.len() - 1;
        for (index, event) in &accepted[..accepted.len() - 1] {
            let Some(sender) = books.sender(*index, &requests[*index]) else {
                unexplained.push(format!("{id}: accepted from no known sender"));
                continue;
            };
            if sender.killed {
                after_kill += 1;
                resent_by_kills.insert(sender.iteration);
            } else if sender.past_deadline {
                after_deadline += 1;
            } else {
                unexplained.push(format!(
                    "{id}: accepted from iteration {}, which was not killed",
                    sender.iteration
                ));
            }
            let last = &accepted[accepted.len() - 1].1;
            assert_eq!(event, last, "a duplicate of {id} differs from the original");
        }
    }
    println!(
        "crash/delivery: {} kills ({} after an accepted request, {} after writing a \
         segment, {} mid-write, {} before anything), {} unkilled runs, {} checks, 0 torn \
         files (at most {} temporaries and {} cut sent-log lines at once, never read); {} \
         events owed, {} lost; {} requests ({} told from their `sentAt`, {} of them read \
         after their sender's end), {} \
         duplicate deliveries ({} of events accepted from a killed sender, in batches of \
         {} of the kills; {} from a sender past its exit deadline); {:.1} s",
        figures.kills,
        figures.killed_after_acceptance,
        figures.killed_after_spooling,
        figures.killed_mid_write,
        figures.killed_before_anything,
        figures.unkilled,
        figures.checks,
        figures.max_temporaries,
        figures.max_torn_log_lines,
        books.owed.len(),
        lost.len(),
        requests.len(),
        by_time,
        misattributed,
        duplicates,
        after_kill,
        resent_by_kills.len(),
        after_deadline,
        started.elapsed().as_secs_f64()
    );
    assert!(
        lost.is_empty(),
        "events seen in a spool or accepted never arrived: {lost:?}"
    );
    assert!(
        unexplained.is_empty(),
        "delivered again although the sender of the first delivery lived to delete it: \
         {unexplained:?}"
    );
    assert_eq!(
        dropped_events, 0,
        "the library counted events as lost (a torn spool line?)"
    );
}

/// The receiver is healthy and the back-off over: unkilled runs until the spool is
/// empty, each leaving every file whole and all its events accepted.
fn recover(
    server: &Server,
    url: &str,
    sandbox: &Sandbox,
    books: &mut Books,
    figures: &mut Figures,
    iteration: usize,
) {
    set_mode(server, Mode::Healthy);
    for round in 0..10 {
        fast_forward(sandbox);
        let born = SystemTime::now();
        let run = completed(&mut run_command(sandbox, url));
        let alive = (born, SystemTime::now());
        let context = format!("recovery run {round} after iteration {iteration}");
        assert_eq!(run.code, Some(0), "{context}: {}", run.stderr);
        let after = census(sandbox);
        after.assert_whole(&context);
        figures.checks += 1;
        let new = books.after(
            server,
            &after,
            Sender {
                iteration,
                killed: false,
                past_deadline: run.elapsed >= FLUSH_TIMEOUT,
                alive,
            },
        );
        figures.unkilled += 1;
        assert_all_kept(&new, &context);
        if after.segments == 0 {
            return;
        }
    }
    panic!(
        "the spool was not emptied by ten runs against a healthy receiver: {:?}",
        sandbox.tree()
    );
}

// 2. The opt-out.

fn state_says_off(census: &Census) -> bool {
    census
        .state
        .as_ref()
        .is_some_and(|state| state["enabled"] == Value::Bool(false) && state["mode"] == "off")
}

#[test]
fn an_opt_out_reported_done_survives_every_later_kill() {
    let _serial = serial();
    let started = Instant::now();
    let mut rng = rng("opt-out");
    let kills = kills(20);
    let server = Server::start(Mode::Healthy);
    let url = server.url();
    let sandbox = Sandbox::new();
    let mut lifetimes = Lifetimes::default();
    let mut killed = 0;
    let mut cycles = 0;
    let mut checks = 0;
    let mut killed_disables = 0;
    let mut opted_out_runs = 0;
    while killed < kills {
        cycles += 1;
        // On again, and a few runs (some killed) that leave a spool, a delivery record and
        // a sent log for the opt-out to delete.
        let enabled = completed(&mut telemetry_command(&sandbox, &url, &["enable"]));
        assert_eq!(enabled.code, Some(0), "enable: {}", enabled.stderr);
        for _ in 0..1 + rng.below(3) {
            let mode = if rng.percent(50) {
                Mode::Healthy
            } else {
                Mode::Status(503)
            };
            set_mode(&server, mode);
            fast_forward(&sandbox);
            let ended = spawn_and_kill(
                &mut run_command(&sandbox, &url),
                kill_delay(&mut rng, lifetimes.get("run")),
            );
            killed += usize::from(ended.killed);
            if !ended.killed {
                lifetimes.note("run", ended.lifetime);
            }
            census(&sandbox).assert_whole(&format!("cycle {cycles}, before the opt-out"));
        }
        set_mode(&server, Mode::Healthy);

        // Sometimes a `disable` killed on its way (no promise: it never said done), then
        // one that completes and says so.
        if rng.percent(50) {
            let ended = spawn_and_kill(
                &mut telemetry_command(&sandbox, &url, &["disable"]),
                kill_delay(&mut rng, lifetimes.get("disable")),
            );
            killed += usize::from(ended.killed);
            killed_disables += usize::from(ended.killed);
            census(&sandbox).assert_whole(&format!("cycle {cycles}, a killed disable"));
        }
        let disabled = completed(&mut telemetry_command(&sandbox, &url, &["disable"]));
        assert_eq!(disabled.code, Some(0), "disable: {}", disabled.stderr);
        lifetimes.note("disable", disabled.elapsed);
        settle(&server);
        let requests = server.request_count();

        // Every later command, killed anywhere: runs against a healthy receiver that
        // would get their events if the opt-out were lost, more `disable`s, `status`.
        for step in 0..3 + rng.below(4) {
            let (kind, mut command) = match rng.below(10) {
                0..=5 => ("run", run_command(&sandbox, &url)),
                6 | 7 => ("disable", telemetry_command(&sandbox, &url, &["disable"])),
                8 => ("status", telemetry_command(&sandbox, &url, &["status"])),
                _ => ("log", telemetry_command(&sandbox, &url, &["log"])),
            };
            let ended = spawn_and_kill(&mut command, kill_delay(&mut rng, lifetimes.get(kind)));
            if ended.killed {
                killed += 1;
                killed_disables += usize::from(kind == "disable");
            } else {
                lifetimes.note(kind, ended.lifetime);
            }
            opted_out_runs += usize::from(kind == "run");
            let after = census(&sandbox);
            let context = format!("cycle {cycles}, step {step} after the opt-out ({kind})");
            after.assert_whole(&context);
            checks += 1;
            assert!(
                state_says_off(&after),
                "{context}: the saved opt-out is gone: {:?}",
                after.state
            );
            assert_eq!(after.segments, 0, "{context}: spooled after the opt-out");
        }
        let status = completed(&mut telemetry_command(&sandbox, &url, &["status"]));
        let text = String::from_utf8_lossy(&status.stdout);
        assert!(
            text.contains("Telemetry is off") && text.contains("Saved choice: disabled"),
            "cycle {cycles}: status after the opt-out: {text}"
        );
        settle(&server);
        assert_eq!(
            server.request_count(),
            requests,
            "cycle {cycles}: requests reached the receiver after the opt-out"
        );
    }
    println!(
        "crash/opt-out: {killed} kills ({killed_disables} of `disable`) over {cycles} \
         opt-outs, {opted_out_runs} runs after an opt-out, {checks} checks: 0 lost opt-outs, \
         0 requests after one; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// 3. First runs.

#[test]
fn a_first_run_killed_anywhere_leaves_no_state_or_one_whole_state_that_is_kept() {
    let _serial = serial();
    let started = Instant::now();
    let mut rng = rng("first-run");
    let kills = kills(12);
    let server = Server::start(Mode::Healthy);
    let url = server.url();
    let mut lifetime = Duration::from_millis(60);
    let mut killed = 0;
    let mut with_state = 0;
    let mut iterations = 0;
    while killed < kills {
        iterations += 1;
        let sandbox = Sandbox::new();
        let ended = spawn_and_kill(
            &mut run_command(&sandbox, &url),
            kill_delay(&mut rng, lifetime),
        );
        if ended.killed {
            killed += 1;
        } else {
            lifetime = lifetime.mul_f64(0.7) + ended.lifetime.mul_f64(0.3);
        }
        let context = format!(
            "first run {iterations} ({})",
            if ended.killed { "killed" } else { "not killed" }
        );
        let after = census(&sandbox);
        after.assert_whole(&context);
        let id = after.state.as_ref().map(|state| {
            state["anonymous_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        });
        with_state += usize::from(ended.killed && id.is_some());

        // The next run goes on from there: the same id, and its events delivered.
        settle(&server);
        let requests = server.request_count();
        let next = completed(&mut run_command(&sandbox, &url));
        assert_eq!(
            next.code,
            Some(0),
            "{context}: the next run: {}",
            next.stderr
        );
        settle(&server);
        let after_next = census(&sandbox);
        after_next.assert_whole(&context);
        let next_id = after_next
            .state
            .as_ref()
            .and_then(|state| state["anonymous_id"].as_str())
            .map(str::to_owned);
        assert!(next_id.is_some(), "{context}: no state after the next run");
        if id.is_some() {
            assert_eq!(next_id, id, "{context}: the id changed");
        }
        // Delivered, or kept for a later run if the machine was too slow for the exit
        // deadline.
        let kept: HashSet<String> = server.requests()[requests..]
            .iter()
            .filter(|request| request.accepted)
            .flat_map(|request| request.events())
            .chain(after_next.spooled.iter().cloned())
            .filter(|event| event["anonymousId"].as_str() == next_id.as_deref())
            .map(|event| message_id(&event))
            .collect();
        assert!(
            kept.len() >= RUN_EVENTS,
            "{context}: the next run delivered or spooled {} events",
            kept.len()
        );
    }
    println!(
        "crash/first-run: {killed} kills of first runs ({with_state} left a state file, all \
         whole, its id kept); {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// 4. 410 Gone.

fn says_gone(census: &Census) -> bool {
    census
        .records
        .iter()
        .any(|record| record["gone_until"].is_string() && record["gone_version"].is_string())
}

#[test]
fn a_410_once_recorded_is_not_lost_to_a_kill() {
    let _serial = serial();
    let started = Instant::now();
    let mut rng = rng("gone");
    let kills = kills(8);
    let server = Server::start(Mode::Gone);
    let url = server.url();
    let mut lifetimes = Lifetimes::default();
    let mut killed = 0;
    let mut checks = 0;
    let mut stopped_runs = 0;
    let mut behind_a_410 = 0;
    let mut iteration = 0;
    while killed < kills {
        // A new installation, with something spooled for the 410 to clear.
        let sandbox = Sandbox::new();
        set_mode(&server, Mode::Status(503));
        let spooled = completed(&mut run_command(&sandbox, &url));
        assert_eq!(spooled.code, Some(0), "{}", spooled.stderr);
        set_mode(&server, Mode::Gone);
        let mut gone = false;
        let mut past_deadline = spooled.elapsed >= FLUSH_TIMEOUT;
        for _ in 0..6 {
            iteration += 1;
            fast_forward(&sandbox);
            settle(&server);
            let requests = server.request_count();
            let ended = spawn_and_kill(
                &mut run_command(&sandbox, &url),
                kill_delay(&mut rng, lifetimes.get("run")),
            );
            killed += usize::from(ended.killed);
            if !ended.killed {
                lifetimes.note("run", ended.lifetime);
            }
            let after = census(&sandbox);
            let context = format!(
                "iteration {iteration} ({} after {:?})",
                if ended.killed { "killed" } else { "exited" },
                ended.lifetime
            );
            after.assert_whole(&context);
            checks += 1;
            settle(&server);
            if gone {
                stopped_runs += 1;
                assert!(says_gone(&after), "{context}: the recorded 410 is lost");
                assert_eq!(
                    server.request_count(),
                    requests,
                    "{context}: sent after a recorded 410"
                );
            }
            gone = says_gone(&after);
            past_deadline |= ended.lifetime >= FLUSH_TIMEOUT;
            let answered_gone = server.requests()[requests..]
                .iter()
                .any(|request| request.status == Some(410));
            if answered_gone && !ended.killed && ended.lifetime < FLUSH_TIMEOUT {
                assert!(gone, "{context}: a run met a 410 and did not record it");
            }
            // A recorded 410 was recorded after the spool was cleared (no later run
            // clears it), except that a run past its exit deadline spools what it still
            // holds, 410 or not.
            if gone && after.segments > 0 {
                behind_a_410 += 1;
                assert!(
                    past_deadline,
                    "{context}: {} segments left behind a recorded 410: {:?}",
                    after.segments,
                    sandbox.tree()
                );
            }
        }
    }
    println!(
        "crash/gone: {killed} kills, {checks} checks, {stopped_runs} runs after a recorded \
         410, none sent anything; {behind_a_410} times segments behind a recorded 410; \
         {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
