//! Identity and privacy, end to end, on real processes: a sentinel argument that must
//! never leave the process, the installation key that must never appear anywhere, the
//! ids, the state file's permissions, the keyed hash recomputed independently, and
//! opt-in error messages scrubbed of secrets.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use telemetry_tests::{example_bin, run_ok, Build, Run, Sandbox};

const APP: &str = "minietl";
/// Passed as the hashed `source` argument: none of it may ever be printed or sent.
const SENTINEL: &str = "s3://leakcanary-7f3a9c/customers/alice-private.csv";
/// The distinctive part of the sentinel, searched for in every byte.
const CANARY: &str = "leakcanary-7f3a9c";

fn minietl(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    let binary = example_bin(APP, Build::Enabled);
    let mut command = sandbox.command(&binary);
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    run_ok(&mut command)
}

fn state(sandbox: &Sandbox) -> Value {
    let text = std::fs::read_to_string(sandbox.state_file(APP)).expect("state file");
    serde_json::from_str(&text).expect("JSON state")
}

fn key_of(sandbox: &Sandbox) -> [u8; 32] {
    let hex = state(sandbox)["hash_key"].as_str().unwrap().to_owned();
    assert_eq!(hex.len(), 64, "a 256-bit key");
    std::array::from_fn(|index| u8::from_str_radix(&hex[index * 2..index * 2 + 2], 16).unwrap())
}

/// Unpadded URL-safe base64, written out here so the test does not share the library's
/// encoder.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, byte)| n | u32::from(*byte) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The documented hash encoding, recomputed with the reference BLAKE3 crate.
fn expected_hash(key: &[u8; 32], name: &str, value: &str) -> String {
    let mut message = b"telemetry/arg/v1\0".to_vec();
    message.extend_from_slice(&(name.len() as u64).to_le_bytes());
    message.extend_from_slice(name.as_bytes());
    message.push(b's');
    message.extend_from_slice(&(value.len() as u64).to_le_bytes());
    message.extend_from_slice(value.as_bytes());
    base64_url(&blake3::keyed_hash(key, &message).as_bytes()[..16])
}

/// Every form the key could leak in.
fn key_forms(key: &[u8; 32]) -> Vec<String> {
    let hex: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
    let standard = base64_url(key).replace('-', "+").replace('_', "/");
    vec![
        hex.clone(),
        hex.to_uppercase(),
        hex[..16].to_owned(),
        base64_url(key),
        standard,
    ]
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A loopback receiver that answers 200 and keeps every request body.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1/batch", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&bodies);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut data = Vec::new();
                let mut buffer = [0u8; 8192];
                let body = loop {
                    let Ok(read) = stream.read(&mut buffer) else {
                        break data.clone();
                    };
                    if read == 0 {
                        break data.clone();
                    }
                    data.extend_from_slice(&buffer[..read]);
                    let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .and_then(|value| value.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if data.len() >= end + 4 + length {
                        // Headers included: the key must not be in them either.
                        break data.clone();
                    }
                };
                store.lock().unwrap().push(body);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                );
            }
        });
        Receiver { url, bodies }
    }

    fn wait_for(&self, what: &str) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let bodies = self.bodies.lock().unwrap().clone();
            if bodies
                .iter()
                .any(|body| contains_bytes(body, what.as_bytes()))
                || Instant::now() > deadline
            {
                return bodies;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn init_event(run: &Run) -> Value {
    let events = run.events_named("command_init");
    assert_eq!(events.len(), 1, "{}", run.stderr);
    events[0].clone()
}

// ---------------------------------------------------------------------------------------

#[test]
fn a_hashed_sentinel_never_leaves_while_a_recorded_value_does() {
    let sandbox = Sandbox::new();

    // Debug mode: everything that would be sent is printed on stderr.
    let debug = minietl(
        &sandbox,
        &["init", SENTINEL, "duckdb"],
        &[("MINIETL_TELEMETRY_DEBUG", "1")],
    );
    assert_eq!(debug.code, Some(0), "{}", debug.stderr);
    let event = init_event(&debug);
    assert_eq!(event["properties"]["args"]["destination"], "duckdb");
    let hashed = event["properties"]["args"]["source"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !debug.stderr.contains(CANARY),
        "sentinel on stderr: {}",
        debug.stderr
    );
    assert!(!debug.stderr.contains("alice"), "{}", debug.stderr);

    // The hash is exactly the documented keyed BLAKE3, recomputed here, and compact.
    let key = key_of(&sandbox);
    assert_eq!(hashed, expected_hash(&key, "source", SENTINEL));
    assert_eq!(hashed.len(), 22, "128 bits as unpadded base64");

    // Over the network: the same, in every byte of every request.
    let receiver = Receiver::start();
    let sent = minietl(
        &sandbox,
        &["init", SENTINEL, "duckdb"],
        &[("MINIETL_TELEMETRY_ENDPOINT", receiver.url.as_str())],
    );
    assert_eq!(sent.code, Some(0), "{}", sent.stderr);
    assert!(!sent.stderr.contains(CANARY), "{}", sent.stderr);
    let bodies = receiver.wait_for("command_init");
    let all: Vec<u8> = bodies.concat();
    assert!(contains_bytes(&all, b"command_init"), "nothing was sent");
    assert!(contains_bytes(&all, b"\"destination\":\"duckdb\""));
    // Stable across runs: the second process sent the same hash.
    assert!(contains_bytes(&all, hashed.as_bytes()));
    assert!(!contains_bytes(&all, CANARY.as_bytes()), "sentinel sent");
    assert!(!contains_bytes(&all, b"alice"), "sentinel fragment sent");
}

#[test]
fn the_hash_key_never_appears_in_any_output() {
    let sandbox = Sandbox::new();
    let receiver = Receiver::start();
    let mut outputs: Vec<Vec<u8>> = Vec::new();
    for (args, env) in [
        (
            vec!["init", "/data/in.csv", "duckdb"],
            vec![("MINIETL_TELEMETRY_DEBUG", "1")],
        ),
        (
            vec!["run", "--rows", "50"],
            vec![("MINIETL_TELEMETRY_DEBUG", "1")],
        ),
        (
            vec!["run", "--fail-at", "load"],
            vec![("MINIETL_TELEMETRY_DEBUG", "1")],
        ),
        (
            vec!["init", "/data/in.csv", "duckdb"],
            vec![("MINIETL_TELEMETRY_ENDPOINT", receiver.url.as_str())],
        ),
        (vec!["telemetry", "status"], vec![]),
        (vec!["telemetry", "disable"], vec![]),
        (vec!["telemetry", "enable"], vec![]),
    ] {
        let run = minietl(&sandbox, &args, &env);
        outputs.push(run.stdout.clone());
        outputs.push(run.stderr.into_bytes());
    }
    outputs.extend(receiver.wait_for("command_init"));
    let key = key_of(&sandbox);
    assert!(outputs
        .iter()
        .any(|output| contains_bytes(output, b"command_init")));
    for output in &outputs {
        assert!(!contains_bytes(output, &key), "raw key bytes in output");
        for form in key_forms(&key) {
            assert!(
                !contains_bytes(output, form.as_bytes()),
                "key ({form}) in {}",
                String::from_utf8_lossy(output)
            );
        }
    }
}

#[test]
fn ids_are_random_v4_and_the_session_is_per_process() {
    let sandbox = Sandbox::new();
    let runs: Vec<Run> = (0..2)
        .map(|_| minietl(&sandbox, &["status"], &[("MINIETL_TELEMETRY_DEBUG", "1")]))
        .collect();
    let saved = state(&sandbox)["anonymous_id"].as_str().unwrap().to_owned();
    let uuid_v4 = |text: &str| {
        let bytes = text.as_bytes();
        bytes.len() == 36
            && bytes[14] == b'4'
            && matches!(bytes[19], b'8' | b'9' | b'a' | b'b')
            && [8, 13, 18, 23].iter().all(|&i| bytes[i] == b'-')
    };
    assert!(uuid_v4(&saved), "{saved}");
    let mut sessions = Vec::new();
    let mut messages = Vec::new();
    for run in &runs {
        for event in run.events() {
            assert_eq!(event["anonymousId"], saved.as_str());
            let session = event["context"]["session_id"].as_str().unwrap().to_owned();
            assert!(uuid_v4(&session), "{session}");
            sessions.push(session);
            messages.push(event["messageId"].as_str().unwrap().to_owned());
        }
    }
    sessions.dedup();
    assert_eq!(sessions.len(), 2, "one session per process: {sessions:?}");
    assert_ne!(sessions[0], saved);
    let count = messages.len();
    messages.sort();
    messages.dedup();
    assert_eq!(messages.len(), count, "messageIds are unique");

    // Another installation (another home) gets another id and key.
    let other = Sandbox::new();
    minietl(&other, &["status"], &[]);
    assert_ne!(state(&other)["anonymous_id"], saved.as_str());
    assert_ne!(key_of(&other), key_of(&sandbox));
}

#[cfg(unix)]
#[test]
fn the_state_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let sandbox = Sandbox::new();
    minietl(&sandbox, &["status"], &[]);
    let path = sandbox.state_file(APP);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    let dir = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir & 0o777, 0o700);
    // Still owner-only after a rewrite.
    minietl(&sandbox, &["telemetry", "disable"], &[]);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

// ---------------------------------------------------------------------------------------
// Opt-in error messages, scrubbed, in a host process of our own: this test binary,
// re-executed with `PRIVACY_HOST` set.

/// Secrets a real error message might carry, each with a fragment that must not survive.
const SECRETS: &[&str] = &[
    "hunter2",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz12",
    "eyJhbGciOiJIUzI1NiJ9",
    "xoxb-2048-1024-aBcDeFgHiJkLmNoPqRsT",
    "alice",
    "etl:",
    "customers",
];

#[derive(Debug)]
struct ConnectError(String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[telemetry::tracked_command(skip_all)]
fn connect(message: &str) -> Result<(), ConnectError> {
    Err(ConnectError(message.to_owned()))
}

fn failing_message(home: &str) -> String {
    format!(
        "cannot connect to postgres://etl:hunter2@db.secret-corp.internal:5432/customers \
         as alice (key AKIAIOSFODNN7EXAMPLE, token ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz12, \
         Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U, \
         slack xoxb-2048-1024-aBcDeFgHiJkLmNoPqRsT) reading {home}/customers/export.csv: refused"
    )
}

#[test]
fn privacy_host_process() {
    let Some(mode) = std::env::var_os("PRIVACY_HOST") else {
        return;
    };
    let opt_in = mode == "opt-in";
    let _guard = telemetry::init(
        telemetry::Config::new("privacyhost", "1.0.0")
            .sink(telemetry::sink::DebugSink::new())
            .error_messages(opt_in),
    );
    let home = std::env::var("HOME").unwrap_or_default();
    let _ = connect(&failing_message(&home));
}

fn privacy_host(mode: &str) -> (Sandbox, Run) {
    let sandbox = Sandbox::new();
    let exe: PathBuf = std::env::current_exe().unwrap();
    let mut command: Command = sandbox.command(&exe);
    command
        .args([
            "--exact",
            "privacy_host_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PRIVACY_HOST", mode)
        .env("USER", "alice");
    let run = run_ok(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    (sandbox, run)
}

#[test]
fn opt_in_error_messages_are_scrubbed() {
    let (sandbox, run) = privacy_host("opt-in");
    let events = run.events_named("command_connect");
    assert_eq!(events.len(), 1, "{}", run.stderr);
    let error = &events[0]["properties"]["error"];
    assert!(
        error["kind"].as_str().unwrap().ends_with("ConnectError"),
        "{error}"
    );
    let message = error["message"].as_str().expect("an opted-in message");
    for secret in SECRETS {
        assert!(!message.contains(secret), "{secret} survived: {message}");
    }
    let home = sandbox.home().display().to_string();
    assert!(!message.contains(&home), "{message}");
    // What is left is still useful.
    for kept in [
        "cannot connect to postgres://<redacted>@",
        "<user>",
        "<aws-access-key>",
        "<github-token>",
        "<slack-token>",
        "export.csv: refused",
    ] {
        assert!(message.contains(kept), "{kept:?} missing from {message}");
    }
    // Nothing else on stderr carries them either.
    for secret in SECRETS.iter().filter(|secret| **secret != "alice") {
        assert!(
            !run.stderr.contains(secret),
            "{secret} on stderr: {}",
            run.stderr
        );
    }
}

#[test]
fn without_the_opt_in_no_message_is_sent() {
    let (_sandbox, run) = privacy_host("default");
    let events = run.events_named("command_connect");
    assert_eq!(events.len(), 1, "{}", run.stderr);
    let error = &events[0]["properties"]["error"];
    assert!(error["kind"].as_str().unwrap().ends_with("ConnectError"));
    assert!(error.get("message").is_none(), "{error}");
    assert!(!run.stderr.contains("hunter2"));
}
