//! The per-installation state file: anonymous id, hash key, the user's saved choice.
//!
//! One JSON file, `state.json`, in the platform's config directory under
//! `<app>-telemetry/` (or [`Config::state_dir`](crate::Config::state_dir)), readable and
//! writable by its owner only (0600 on Unix; the directory is created 0700).
//!
//! How it is written, and why:
//!
//! - **Created only if absent.** A first run writes a complete temporary file and moves
//!   it to `state.json` without replacing one that exists ([`crate::fs`]), so of several
//!   first runs started at once exactly one wins, and the others read the winner's id.
//! - **Replaced atomically.** Every later change (the notice was shown, `enable`,
//!   `disable`) writes a complete temporary file and renames it over `state.json`: a
//!   reader sees the old file or the new one, never half of one.
//! - **Changed under a lock.** Read-modify-write changes hold an advisory lock on
//!   `.state.lock` beside the file, taken with a bounded wait, so a first run marking the
//!   notice as shown can never write back an "enabled" state over a `disable` made a
//!   moment before by another process.
//! - **Fail closed.** A file that cannot be read or parsed is reported, left exactly as
//!   it is, and turns telemetry off for the run; only an explicit `disable` replaces it.
//! - **Forward compatible.** Fields this version does not know are kept when the file is
//!   rewritten.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::fs;

/// The name of the state file inside the state directory.
pub(crate) const STATE_FILE: &str = "state.json";
/// The advisory lock taken around read-modify-write changes.
const LOCK_FILE: &str = ".state.lock";

/// What the state file holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    /// Format version of the file.
    pub(crate) version: u32,
    /// The random UUID v4 sent as `anonymousId`.
    pub(crate) anonymous_id: String,
    /// The 256-bit hash key, hex-encoded. Never sent.
    pub(crate) hash_key: String,
    /// The user's saved choice: `Some(false)` after `disable`, `Some(true)` after `enable`.
    #[serde(default)]
    pub(crate) enabled: Option<bool>,
    /// Whether the first-run notice has been shown.
    #[serde(default)]
    pub(crate) notice_shown: bool,
    /// Fields written by a newer version, kept as they are.
    #[serde(flatten)]
    pub(crate) unknown: serde_json::Map<String, serde_json::Value>,
}

/// The outcome of reading the state file.
#[derive(Debug)]
pub(crate) enum Loaded {
    /// No state file yet: a first run.
    Missing,
    Valid(State),
    /// The file exists but cannot be read or parsed; it is left as it is.
    Unreadable(String),
}

/// The directory holding the state file, for `config`.
pub(crate) fn state_dir(config: &Config) -> Option<PathBuf> {
    if let Some(dir) = &config.state_dir {
        return Some(dir.clone());
    }
    dirs::config_dir().map(|base| base.join(dir_name(config)))
}

/// The directory for the spool and other disposable files.
pub(crate) fn cache_dir(config: &Config) -> Option<PathBuf> {
    if let Some(dir) = &config.cache_dir {
        return Some(dir.clone());
    }
    if let Some(dir) = &config.state_dir {
        return Some(dir.join("cache"));
    }
    dirs::cache_dir().map(|base| base.join(dir_name(config)))
}

/// The app's own folder name: `<app>/telemetry` would mix with the app's files, so the
/// state lives in `<config dir>/<app>-telemetry`.
fn dir_name(config: &Config) -> String {
    let name: String = config
        .app_name
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '-' || character == '_' {
                character
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}-telemetry")
}

impl State {
    /// Fresh state: a new anonymous id and hash key from the OS's random source.
    pub(crate) fn generate() -> io::Result<State> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|error| io::Error::other(error.to_string()))?;
        Ok(State {
            version: 1,
            anonymous_id: uuid::Uuid::new_v4().to_string(),
            hash_key: hex(&key),
            enabled: None,
            notice_shown: false,
            unknown: serde_json::Map::new(),
        })
    }

    /// The decoded hash key, if the stored one is well formed.
    pub(crate) fn key(&self) -> Option<[u8; 32]> {
        let text = self.hash_key.as_bytes();
        // Hex digits only: `from_str_radix` also takes a leading sign, so "+a" would
        // otherwise read as a byte, and a key that is not hex would pass as valid.
        if text.len() != 64 || !text.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let mut key = [0u8; 32];
        for (index, pair) in text.chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).ok()?;
            key[index] = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(key)
    }

    fn is_valid(&self) -> bool {
        self.key().is_some()
            && uuid::Uuid::parse_str(&self.anonymous_id)
                .is_ok_and(|id| id.get_version_num() == 4 && id.to_string() == self.anonymous_id)
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// Reads the state file in `dir`. Never writes.
pub(crate) fn load(dir: &Path) -> Loaded {
    let path = dir.join(STATE_FILE);
    let bytes = match fs::read_if_present(&path) {
        Ok(Some(bytes)) => bytes,
        // Also when the parent is not a directory: creating the file will fail next, and
        // report that.
        Ok(None) => return Loaded::Missing,
        Err(error) => return Loaded::Unreadable(format!("{}: {error}", path.display())),
    };
    match serde_json::from_slice::<State>(&bytes) {
        Ok(state) if state.is_valid() => Loaded::Valid(state),
        Ok(_) => Loaded::Unreadable(format!(
            "{}: the anonymous id or the hash key is malformed",
            path.display()
        )),
        // serde_json's message names the line and column, and may quote a value of the
        // wrong type; it stays on this machine (the run has telemetry off).
        Err(error) => Loaded::Unreadable(format!("{}: {error}", path.display())),
    }
}

/// Creates the state file with `state` unless one exists; returns the state that won
/// (ours, or the one a parallel first run wrote first).
pub(crate) fn create(dir: &Path, state: &State) -> io::Result<State> {
    fs::create_private_dir(dir)?;
    if fs::create_if_absent(dir, STATE_FILE, &to_bytes(state)?)? {
        // It may hold an opt-out (`disable` before any run).
        fs::sync_dir(dir);
        return Ok(state.clone());
    }
    match load(dir) {
        Loaded::Valid(winner) => Ok(winner),
        Loaded::Missing => Err(io::Error::other("the state file vanished")),
        Loaded::Unreadable(reason) => Err(io::Error::other(reason)),
    }
}

/// Replaces the state file with `state`, atomically.
pub(crate) fn store(dir: &Path, state: &State) -> io::Result<()> {
    fs::create_private_dir(dir)?;
    fs::write_atomic(dir, STATE_FILE, &to_bytes(state)?)?;
    fs::sync_dir(dir);
    Ok(())
}

fn to_bytes(state: &State) -> io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// What [`update`] should do with the state it read.
pub(crate) enum Change {
    /// Leave the file as it is.
    Keep,
    /// Write this state (create the file if it is missing).
    Write(State),
}

/// Read-modify-write under the state lock: reads the file, asks `change` what to do
/// with it, writes the result atomically, and returns what was written (or `None` when
/// `change` kept the file). A missing file is created only if still absent, so a
/// parallel first run's id is never replaced: `change` is then asked again with the
/// winner.
///
/// The lock is waited for at most `wait`; after that the change is not made and an
/// error of kind `WouldBlock` is returned. File systems without locks are written
/// without one.
pub(crate) fn update(
    dir: &Path,
    wait: Duration,
    change: impl FnMut(Loaded) -> io::Result<Change>,
) -> io::Result<Option<State>> {
    fs::create_private_dir(dir)?;
    let _lock = match fs::LockFile::acquire(dir, LOCK_FILE, wait)? {
        Ok(lock) => Some(lock),
        Err(fs::Locked::Busy) => {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the state file is busy (locked by another process)",
            ))
        }
        // No locking on this file system (some network mounts): go on without.
        Err(fs::Locked::Unsupported(_) | fs::Locked::Yes) => None,
    };
    apply(dir, change)
}

/// [`update`] without the lock: for `disable` when the lock stays busy, since a user's
/// opt-out must not depend on another process letting go of it.
pub(crate) fn update_unlocked(
    dir: &Path,
    change: impl FnMut(Loaded) -> io::Result<Change>,
) -> io::Result<Option<State>> {
    fs::create_private_dir(dir)?;
    apply(dir, change)
}

fn apply(
    dir: &Path,
    mut change: impl FnMut(Loaded) -> io::Result<Change>,
) -> io::Result<Option<State>> {
    let mut loaded = load(dir);
    // At most two rounds: a missing file, then the winner of a creation race.
    for _ in 0..2 {
        let was_missing = matches!(loaded, Loaded::Missing);
        let Change::Write(state) = change(loaded)? else {
            return Ok(None);
        };
        if !was_missing {
            store(dir, &state)?;
            return Ok(Some(state));
        }
        let won = create(dir, &state)?;
        if won == state {
            return Ok(Some(state));
        }
        loaded = Loaded::Valid(won);
    }
    Err(io::Error::other("the state file keeps changing"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn fresh() -> State {
        State::generate().expect("random source")
    }

    #[test]
    fn generated_state_is_valid_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let state = fresh();
        assert!(state.is_valid());
        assert_eq!(state.hash_key.len(), 64);
        assert_eq!(
            uuid::Uuid::parse_str(&state.anonymous_id)
                .unwrap()
                .get_version_num(),
            4
        );
        let written = create(dir.path(), &state).unwrap();
        assert_eq!(written, state);
        match load(dir.path()) {
            Loaded::Valid(read) => assert_eq!(read, state),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn file_is_owner_only_and_no_temporary_is_left() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let state_dir = dir.path().join("nested/app-telemetry");
        create(&state_dir, &fresh()).unwrap();
        let mode = std::fs::metadata(state_dir.join(STATE_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(&state_dir).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        let names: Vec<_> = std::fs::read_dir(&state_dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(STATE_FILE)]);
    }

    #[test]
    fn create_keeps_the_first_writer() {
        let dir = tempfile::tempdir().unwrap();
        let first = create(dir.path(), &fresh()).unwrap();
        let second = create(dir.path(), &fresh()).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn parallel_creates_agree_on_one_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let ids: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| create(&path, &fresh()).unwrap().anonymous_id))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    }

    #[test]
    fn corrupt_and_malformed_files_are_unreadable_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STATE_FILE);
        for content in [
            &b"{not json"[..],
            b"",
            b"\xff\xfe",
            br#"{"version":1,"anonymous_id":"nope","hash_key":"00"}"#,
            br#"{"version":1,"anonymous_id":"6f1c3d4e-8a2b-4c1d-9e8f-0a1b2c3d4e5f","hash_key":"zz"}"#,
        ] {
            std::fs::write(&path, content).unwrap();
            assert!(matches!(load(dir.path()), Loaded::Unreadable(_)));
            assert_eq!(std::fs::read(&path).unwrap(), content);
        }
    }

    #[test]
    fn unknown_fields_survive_a_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = fresh();
        state
            .unknown
            .insert("future".into(), serde_json::json!({"x": 1}));
        store(dir.path(), &state).unwrap();
        let Loaded::Valid(mut read) = load(dir.path()) else {
            panic!()
        };
        read.enabled = Some(false);
        store(dir.path(), &read).unwrap();
        let text = std::fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
        assert!(text.contains("\"future\""), "{text}");
    }

    #[test]
    fn update_creates_missing_and_changes_existing() {
        let dir = tempfile::tempdir().unwrap();
        let wait = Duration::from_secs(1);
        let written = update(dir.path(), wait, |loaded| {
            assert!(matches!(loaded, Loaded::Missing));
            let mut state = fresh();
            state.enabled = Some(false);
            Ok(Change::Write(state))
        })
        .unwrap()
        .unwrap();
        let again = update(dir.path(), wait, |loaded| {
            let Loaded::Valid(mut state) = loaded else {
                panic!()
            };
            state.enabled = Some(true);
            Ok(Change::Write(state))
        })
        .unwrap()
        .unwrap();
        assert_eq!(again.anonymous_id, written.anonymous_id);
        assert_eq!(again.enabled, Some(true));
        let kept = update(dir.path(), wait, |_| Ok(Change::Keep)).unwrap();
        assert!(kept.is_none());
    }

    #[test]
    fn a_held_lock_makes_update_give_up_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let held = fs::LockFile::acquire(dir.path(), LOCK_FILE, Duration::ZERO)
            .unwrap()
            .unwrap();
        let started = Instant::now();
        let error = update(dir.path(), Duration::from_millis(50), |_| {
            Ok(Change::Write(fresh()))
        })
        .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(matches!(load(dir.path()), Loaded::Missing));
        drop(held);
        assert!(update(dir.path(), Duration::from_millis(50), |_| Ok(
            Change::Write(fresh())
        ))
        .unwrap()
        .is_some());
    }

    /// Found by `prop_state_mutated_files_load_as_the_format_says` (second seed in
    /// `proptest-regressions/consent/state.txt`): a hash key with a `+` before a hex
    /// digit was read as valid, since `u8::from_str_radix` takes a sign.
    #[test]
    fn a_signed_pair_in_the_hash_key_is_malformed() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = fresh();
        state.hash_key =
            "aaaaaa00a0aa0aa0aa00a0a00a0aaaa0000a0aaa0aaa0a0aaaa0aaaa0aa0+aa0".to_owned();
        assert_eq!(state.key(), None);
        assert!(!state.is_valid());
        store(dir.path(), &state).unwrap();
        assert!(matches!(load(dir.path()), Loaded::Unreadable(_)));
        // Upper-case hex is still hex.
        state.hash_key = "AB".repeat(32);
        assert_eq!(state.key(), Some([0xab; 32]));
    }

    /// Found by `prop_state_mutated_files_load_as_the_format_says` (first seed in
    /// `proptest-regressions/consent/state.txt`): a float in an unknown field comes back
    /// from a rewrite one unit in the last place off (serde_json's parser, see
    /// `same_json`); the file stays valid and the field is kept, to its last digit.
    #[test]
    fn a_float_in_an_unknown_field_survives_a_rewrite_to_its_last_digit() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = fresh();
        state.unknown.insert(
            "_".into(),
            serde_json::json!({ "": -2.6193178836133868e300 }),
        );
        store(dir.path(), &state).unwrap();
        let Loaded::Valid(read) = load(dir.path()) else {
            panic!("valid")
        };
        store(dir.path(), &read).unwrap();
        let Loaded::Valid(again) = load(dir.path()) else {
            panic!("valid")
        };
        let float = |state: &State| state.unknown["_"][""].as_f64().unwrap();
        assert!((float(&again) - float(&state)).abs() <= float(&state).abs() * 1e-15);
        assert_eq!(again.anonymous_id, state.anonymous_id);
    }

    // Property tests: the state file is written by this library, but whatever is on disk
    // when it is read (a crash, a hand edit, another program) must give a valid state or
    // the "unreadable" outcome, never a panic, and never a state that `is_valid` refuses.

    use proptest::prelude::*;
    use serde_json::Value;

    const KNOWN: &[&str] = &[
        "version",
        "anonymous_id",
        "hash_key",
        "enabled",
        "notice_shown",
    ];

    /// Any JSON value; `floats` off for round trips, since serde_json's default parser
    /// may read a float back one unit in the last place away from the one it wrote.
    fn json_value(floats: bool) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(move |float| if floats {
                Value::from(float)
            } else {
                Value::Null
            }),
            ".{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(".{0,8}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    fn unknown_fields(floats: bool) -> impl Strategy<Value = serde_json::Map<String, Value>> {
        prop::collection::btree_map("[a-z_]{1,12}", json_value(floats), 0..4).prop_map(|map| {
            map.into_iter()
                .filter(|(key, _)| !KNOWN.contains(&key.as_str()))
                .collect()
        })
    }

    fn valid_state() -> impl Strategy<Value = State> {
        (
            any::<u32>(),
            any::<[u8; 16]>(),
            any::<[u8; 32]>(),
            any::<Option<bool>>(),
            any::<bool>(),
            unknown_fields(false),
        )
            .prop_map(|(version, id, key, enabled, notice_shown, unknown)| State {
                version,
                anonymous_id: uuid::Builder::from_random_bytes(id).into_uuid().to_string(),
                hash_key: hex(&key),
                enabled,
                notice_shown,
                unknown,
            })
    }

    /// Strings near a valid hash key or id: the right length, characters around hex.
    fn near_valid_string() -> impl Strategy<Value = Value> {
        prop_oneof![
            "[0-9a-fA-F+ xg-]{64}",
            // Pairs that `u8::from_str_radix` reads although they are not hex.
            "([0-9a-f]{2}|[+][0-9a-f]){32}",
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-fA-F+]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[0-9a-fA-F]{0,70}",
        ]
        .prop_map(Value::from)
    }

    /// A change to one field of a valid file, as JSON.
    #[derive(Clone, Debug)]
    enum Mutation {
        Remove(usize),
        Replace(usize, Value),
        AddUnknown(String, Value),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        let field = 0..KNOWN.len();
        prop_oneof![
            field.clone().prop_map(Mutation::Remove),
            (field.clone(), json_value(true)).prop_map(|(at, value)| Mutation::Replace(at, value)),
            (field, near_valid_string()).prop_map(|(at, value)| Mutation::Replace(at, value)),
            ("[a-z_]{1,12}", json_value(true))
                .prop_map(|(key, value)| Mutation::AddUnknown(key, value)),
        ]
    }

    /// Whether a file holding `object` must load as a valid state: what the format says,
    /// written out independently of serde and of `State::is_valid`.
    fn should_be_valid(object: &serde_json::Map<String, Value>) -> bool {
        let version = object
            .get("version")
            .and_then(Value::as_u64)
            .is_some_and(|version| u32::try_from(version).is_ok());
        let id = object
            .get("anonymous_id")
            .and_then(Value::as_str)
            .is_some_and(|id| {
                let bytes = id.as_bytes();
                bytes.len() == 36
                    && bytes.iter().enumerate().all(|(at, byte)| match at {
                        8 | 13 | 18 | 23 => *byte == b'-',
                        // Version 4; the variant nibble is not checked (nor needed
                        // for an identifier that only has to be unique).
                        14 => *byte == b'4',
                        _ => byte.is_ascii_digit() || (b'a'..=b'f').contains(byte),
                    })
            });
        let key = object
            .get("hash_key")
            .and_then(Value::as_str)
            .is_some_and(|key| key.len() == 64 && key.bytes().all(|byte| byte.is_ascii_hexdigit()));
        let enabled = object
            .get("enabled")
            .is_none_or(|value| value.is_null() || value.is_boolean());
        let notice = object.get("notice_shown").is_none_or(Value::is_boolean);
        version && id && key && enabled && notice
    }

    /// Equal JSON, floats within rounding: serde_json's default parser (without its
    /// `float_roundtrip` feature, which would change the host's serde_json too) may read
    /// a float back one unit in the last place away from the text it wrote, so a float
    /// in an unknown field is kept to its last digit only.
    fn same_json(left: &Value, right: &Value) -> bool {
        match (left, right) {
            (Value::Number(a), Value::Number(b)) if a.is_f64() || b.is_f64() => {
                match (a.as_f64(), b.as_f64()) {
                    (Some(a), Some(b)) => a == b || (a - b).abs() <= a.abs().max(b.abs()) * 1e-15,
                    _ => false,
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_json(a, b))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(key, a)| b.get(key).is_some_and(|b| same_json(a, b)))
            }
            _ => left == right,
        }
    }

    fn write_and_load(dir: &Path, bytes: &[u8]) -> Loaded {
        let path = dir.join(STATE_FILE);
        std::fs::write(&path, bytes).unwrap();
        let loaded = load(dir);
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "load never writes");
        loaded
    }

    /// What every loaded state must satisfy, whatever the file held.
    fn check_loaded(loaded: &Loaded) -> Result<(), TestCaseError> {
        match loaded {
            Loaded::Valid(state) => {
                prop_assert!(state.is_valid());
                prop_assert!(state.key().is_some());
                // What was accepted is written back and read again as it was.
                let dir = tempfile::tempdir().unwrap();
                store(dir.path(), state).unwrap();
                match load(dir.path()) {
                    Loaded::Valid(again) => {
                        let (again, state) = (
                            serde_json::to_value(&again).unwrap(),
                            serde_json::to_value(state).unwrap(),
                        );
                        prop_assert!(same_json(&again, &state), "{again} != {state}");
                    }
                    other => prop_assert!(false, "{:?}", other),
                }
            }
            Loaded::Unreadable(reason) => prop_assert!(reason.contains(STATE_FILE)),
            Loaded::Missing => prop_assert!(false, "the file exists"),
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn prop_state_arbitrary_bytes_load_as_valid_or_unreadable(
            bytes in prop::collection::vec(any::<u8>(), 0..512),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let loaded = write_and_load(dir.path(), &bytes);
            check_loaded(&loaded)?;
        }

        #[test]
        fn prop_state_mutated_files_load_as_the_format_says(
            state in valid_state(),
            mutations in prop::collection::vec(mutation(), 1..4),
        ) {
            let Value::Object(mut object) = serde_json::to_value(&state).unwrap() else {
                unreachable!("a state is a JSON object");
            };
            for mutation in mutations {
                match mutation {
                    Mutation::Remove(at) => {
                        object.remove(KNOWN[at]);
                    }
                    Mutation::Replace(at, value) => {
                        object.insert(KNOWN[at].to_owned(), value);
                    }
                    Mutation::AddUnknown(key, value) => {
                        object.insert(key, value);
                    }
                }
            }
            let dir = tempfile::tempdir().unwrap();
            let bytes = serde_json::to_vec_pretty(&object).unwrap();
            let loaded = write_and_load(dir.path(), &bytes);
            check_loaded(&loaded)?;
            prop_assert_eq!(
                matches!(loaded, Loaded::Valid(_)),
                should_be_valid(&object),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
            if let Loaded::Valid(read) = loaded {
                for (key, value) in &object {
                    if !KNOWN.contains(&key.as_str()) {
                        let kept = read.unknown.get(key);
                        prop_assert!(
                            kept.is_some_and(|kept| same_json(kept, value)),
                            "unknown field {:?} kept as {:?}",
                            value,
                            kept
                        );
                    }
                }
            }
        }

        #[test]
        fn prop_state_damaged_bytes_of_a_valid_file_never_panic(
            state in valid_state(),
            cut in any::<prop::sample::Index>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        ) {
            let mut bytes = to_bytes(&state).unwrap();
            for (at, byte) in flips {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            let dir = tempfile::tempdir().unwrap();
            let loaded = write_and_load(dir.path(), &bytes);
            check_loaded(&loaded)?;
        }

        #[test]
        fn prop_state_valid_states_round_trip(state in valid_state()) {
            let dir = tempfile::tempdir().unwrap();
            prop_assert!(state.is_valid());
            store(dir.path(), &state).unwrap();
            match load(dir.path()) {
                Loaded::Valid(read) => prop_assert_eq!(read, state),
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}
