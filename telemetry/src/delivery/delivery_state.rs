//! What every process of the app remembers about delivery to one receiver:
//! `delivery-<key>.json`, a small file beside the state file (or in the cache directory
//! when no state directory is known), where `<key>` names the receiver (see
//! [`super::endpoint_key`]). A failure, a back-off or a `410 Gone` of one endpoint
//! says nothing about another.
//!
//! ```json
//! {"version": 1, "failures": 2, "retry_at": "2026-11-22T01:02:05.456Z",
//!  "gone_until": null, "gone_version": null, "lost_events": 0}
//! ```
//!
//! - `failures` / `retry_at`: the circuit delivery_state. After a failed attempt (network
//!   error, timeout, 5xx, 429, or a request still unanswered at the exit deadline) no
//!   process of the app touches the network until `retry_at`; their events go straight
//!   to the spool. So an offline machine pays for at most one failed attempt per
//!   back-off window, however many processes it runs. A 2xx clears both.
//! - `gone_until` / `gone_version`: the receiver answered `410 Gone`. This version of
//!   the app sends nothing more, and spools nothing, until `gone_until` ([`GONE_FOR`]
//!   later). A new version of the app tries again (once).
//! - `lost_events`: events dropped on the way (spool bounds, rejected batches), reported
//!   as `dropped_events` in the next event sent.
//! - `last_outcome` / `last_outcome_at` / `last_batch_events`: what the last delivery
//!   attempt got (`accepted`, `rejected: HTTP 400`, `failed: ...`, `gone: ...`), when
//!   that outcome was first seen and the size of that batch, for `status`
//!   ([`last_delivery`]). Written only when the outcome changes, so a healthy run adds
//!   no write per batch (the time is that of the first attempt with this outcome).
//!
//! Updates are read-modify-write under an advisory lock on `.delivery-<key>.lock`, taken with a
//! bounded wait, and replace the file atomically (a temporary file, then a rename), so a
//! reader never sees half a file. Unknown fields are kept. A missing or unreadable file
//! reads as "nothing remembered".

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::backoff;
use crate::{fs, time};

/// How long a `410 Gone` stops this installation from sending: 90 days.
pub(crate) const GONE_FOR: Duration = Duration::from_secs(90 * 24 * 60 * 60);
/// How far beyond the longest wait this library ever writes a stored time may lie and
/// still be believed. Further out, the file was written by a clock set wrong (or by
/// someone else) and is ignored, so one bad write cannot silence delivery for years.
const CLOCK_MARGIN: Duration = Duration::from_secs(60 * 60);
/// The longest an update waits for the lock before writing anyway (the file is still
/// replaced atomically; at worst a concurrent update is lost).
const LOCK_WAIT: Duration = Duration::from_millis(50);

/// The file's content.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Remembered {
    #[serde(default = "version")]
    pub(crate) version: u32,
    #[serde(default)]
    pub(crate) failures: u32,
    /// RFC 3339: no network attempt before this.
    #[serde(default)]
    pub(crate) retry_at: Option<String>,
    /// RFC 3339: after `410 Gone`, nothing is sent before this.
    #[serde(default)]
    pub(crate) gone_until: Option<String>,
    /// The app version that received the `410 Gone`.
    #[serde(default)]
    pub(crate) gone_version: Option<String>,
    #[serde(default)]
    pub(crate) lost_events: u64,
    /// The last delivery attempt's outcome, when it last changed (see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_outcome: Option<String>,
    /// RFC 3339: when `last_outcome` was first seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_outcome_at: Option<String>,
    /// The number of events in that batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_batch_events: Option<u64>,
    /// Fields written by other versions, kept as they are.
    #[serde(flatten)]
    pub(crate) other: serde_json::Map<String, serde_json::Value>,
}

fn version() -> u32 {
    1
}

/// Whether the network may be tried now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    Open,
    /// A recent failure: no attempt before this time.
    Closed(SystemTime),
    /// The receiver said `410 Gone`.
    Gone,
}

/// The delivery record of one installation, in a file or (without a directory) in memory.
#[derive(Debug)]
pub(crate) struct DeliveryState {
    dir: Option<PathBuf>,
    /// `delivery-<key>.json`.
    file: String,
    /// `.delivery-<key>.lock`.
    lock: String,
    app_version: String,
    /// Used when there is no directory, and to skip writes that would change nothing.
    memory: Mutex<Remembered>,
}

impl DeliveryState {
    /// The record of the receiver named `key` in `dir`, for `app_version` (which a
    /// `410 Gone` is remembered for).
    pub(crate) fn new(dir: Option<PathBuf>, app_version: &str, key: &str) -> DeliveryState {
        DeliveryState {
            dir,
            file: format!("delivery-{key}.json"),
            lock: format!(".delivery-{key}.lock"),
            app_version: app_version.to_owned(),
            memory: Mutex::new(Remembered {
                version: 1,
                ..Remembered::default()
            }),
        }
    }

    /// Whether the network may be tried now.
    pub(crate) fn gate(&self) -> Gate {
        let record = self.load();
        let now = SystemTime::now();
        let believable = |at: SystemTime, longest: Duration| {
            at <= time::system_after(now, longest.saturating_add(CLOCK_MARGIN))
        };
        if let (Some(until), Some(version)) = (parse(&record.gone_until), &record.gone_version) {
            if *version == self.app_version && now < until && believable(until, GONE_FOR) {
                return Gate::Gone;
            }
        }
        let longest_pause = backoff::MAX.max(backoff::MAX_RETRY_AFTER);
        match parse(&record.retry_at) {
            Some(at) if now < at && believable(at, longest_pause) => Gate::Closed(at),
            _ => Gate::Open,
        }
    }

    /// Records a failed attempt: the next one waits a back-off (and at least
    /// `retry_after`). `wait` bounds the wait for the lock.
    pub(crate) fn failed(&self, retry_after: Option<Duration>, wait: Duration) {
        self.update(wait, |record| {
            record.failures = record.failures.saturating_add(1);
            let pause = backoff::pause(record.failures, retry_after);
            record.retry_at = Some(format(time::system_after(SystemTime::now(), pause)));
            true
        });
    }

    /// Records a delivered batch: clears the back-off.
    pub(crate) fn succeeded(&self) {
        let record = self.load();
        if record.failures == 0 && record.retry_at.is_none() {
            return;
        }
        self.update(LOCK_WAIT, |record| {
            let changed = record.failures != 0 || record.retry_at.is_some();
            record.failures = 0;
            record.retry_at = None;
            changed
        });
    }

    /// Records `410 Gone`: this version sends nothing for [`GONE_FOR`].
    pub(crate) fn gone(&self) {
        let version = self.app_version.clone();
        self.update(LOCK_WAIT, |record| {
            record.gone_until = Some(format(time::system_after(SystemTime::now(), GONE_FOR)));
            record.gone_version = Some(version);
            true
        });
    }

    /// Adds to the count of lost events.
    pub(crate) fn add_lost(&self, events: u64, wait: Duration) {
        if events == 0 {
            return;
        }
        self.update(wait, |record| {
            record.lost_events = record.lost_events.saturating_add(events);
            true
        });
    }

    /// Takes the count of lost events, to report it.
    pub(crate) fn take_lost(&self, wait: Duration) -> u64 {
        if self.load().lost_events == 0 {
            return 0;
        }
        let mut taken = 0;
        self.update(wait, |record| {
            taken = std::mem::take(&mut record.lost_events);
            taken > 0
        });
        taken
    }

    /// Remembers the outcome of a delivery attempt of `events` events, for `status`;
    /// writes only when it differs from the one remembered.
    pub(crate) fn note_outcome(&self, outcome: &str, events: usize, wait: Duration) {
        if self.load().last_outcome.as_deref() == Some(outcome) {
            return;
        }
        self.update(wait, |record| {
            if record.last_outcome.as_deref() == Some(outcome) {
                return false;
            }
            record.last_outcome = Some(outcome.to_owned());
            record.last_outcome_at = Some(format(SystemTime::now()));
            record.last_batch_events = Some(events as u64);
            true
        });
    }

    /// The record as it is now.
    pub(crate) fn load(&self) -> Remembered {
        match &self.dir {
            None => self.memory().clone(),
            Some(dir) => read(&dir.join(&self.file)).unwrap_or_default(),
        }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Read-modify-write; `change` returns whether it changed anything.
    fn update(&self, wait: Duration, change: impl FnOnce(&mut Remembered) -> bool) {
        let Some(dir) = &self.dir else {
            change(&mut self.memory());
            return;
        };
        if let Err(error) = update_file(dir, &self.file, &self.lock, wait, change) {
            crate::diag::debug(format_args!(
                "cannot update {}: {error}",
                dir.join(&self.file).display()
            ));
        }
    }
}

/// The most recent delivery outcome remembered in `dir` (the state directory), over
/// every endpoint's record, as `status` shows it: `rejected: HTTP 400 (since
/// 2026-11-22T01:02:03.456Z, a batch of 3 events)`. Reads only.
pub(crate) fn last_delivery(dir: &Path) -> Option<String> {
    let record = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("delivery") && name.ends_with(".json")
        })
        .filter_map(|entry| read(&entry.path()))
        .filter(|record| record.last_outcome.is_some())
        .max_by_key(|record| parse(&record.last_outcome_at))?;
    let outcome = record.last_outcome?;
    let mut text = outcome;
    match (record.last_outcome_at, record.last_batch_events) {
        (Some(at), Some(events)) => {
            text.push_str(&format!(" (since {at}, a batch of {events} events)"));
        }
        (Some(at), None) => text.push_str(&format!(" (since {at})")),
        _ => {}
    }
    Some(text)
}

fn update_file(
    dir: &Path,
    file: &str,
    lock: &str,
    wait: Duration,
    change: impl FnOnce(&mut Remembered) -> bool,
) -> io::Result<()> {
    fs::create_private_dir(dir)?;
    // Busy past the wait, or no locks on this file system: write anyway. The file is
    // still replaced whole; at worst a concurrent update is lost.
    let _lock = fs::LockFile::acquire(dir, lock, wait)?.ok();
    let path = dir.join(file);
    let mut remembered = read(&path).unwrap_or_default();
    remembered.version = remembered.version.max(1);
    if !change(&mut remembered) {
        return Ok(());
    }
    let mut bytes = serde_json::to_vec_pretty(&remembered).map_err(io::Error::other)?;
    bytes.push(b'\n');
    fs::write_atomic(dir, file, &bytes)
}

fn read(path: &Path) -> Option<Remembered> {
    let bytes = fs::read_capped(path, fs::MAX_READ).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn parse(time: &Option<String>) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(time.as_deref()?).ok()
}

fn format(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(time::writable(at)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "test";
    const FILE: &str = "delivery-test.json";

    fn delivery_states() -> (tempfile::TempDir, DeliveryState, DeliveryState) {
        let dir = tempfile::tempdir().unwrap();
        let one = DeliveryState::new(Some(dir.path().to_path_buf()), "1.0", KEY);
        let other = DeliveryState::new(Some(dir.path().to_path_buf()), "1.0", KEY);
        (dir, one, other)
    }

    #[test]
    fn a_failure_closes_the_gate_for_every_process_until_a_success() {
        let (_dir, one, other) = delivery_states();
        assert_eq!(one.gate(), Gate::Open);
        one.failed(None, LOCK_WAIT);
        assert!(matches!(other.gate(), Gate::Closed(_)));
        assert_eq!(other.load().failures, 1);
        other.failed(None, LOCK_WAIT);
        assert_eq!(one.load().failures, 2);
        one.succeeded();
        assert_eq!(other.gate(), Gate::Open);
        assert_eq!(other.load().failures, 0);
    }

    #[test]
    fn retry_after_sets_the_earliest_retry() {
        let (_dir, one, _) = delivery_states();
        one.failed(Some(Duration::from_secs(600)), LOCK_WAIT);
        let Gate::Closed(at) = one.gate() else {
            panic!("closed");
        };
        let left = at.duration_since(SystemTime::now()).unwrap();
        assert!(left > Duration::from_secs(590), "{left:?}");
    }

    #[test]
    fn gone_stops_this_version_only() {
        let (dir, one, _) = delivery_states();
        one.gone();
        assert_eq!(one.gate(), Gate::Gone);
        let newer = DeliveryState::new(Some(dir.path().to_path_buf()), "2.0", KEY);
        assert_eq!(newer.gate(), Gate::Open);
        let record = one.load();
        let until = parse(&record.gone_until).unwrap();
        assert!(until > SystemTime::now() + GONE_FOR - Duration::from_secs(60));
    }

    #[test]
    fn lost_events_are_counted_once() {
        let (_dir, one, other) = delivery_states();
        one.add_lost(3, LOCK_WAIT);
        other.add_lost(2, LOCK_WAIT);
        assert_eq!(one.take_lost(LOCK_WAIT), 5);
        assert_eq!(other.take_lost(LOCK_WAIT), 0);
    }

    #[test]
    fn unknown_fields_survive_and_garbage_reads_as_nothing() {
        let (dir, one, _) = delivery_states();
        std::fs::write(dir.path().join(FILE), r#"{"version": 7, "future": [1, 2]}"#).unwrap();
        one.failed(None, LOCK_WAIT);
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(text.contains("\"future\""), "{text}");
        assert!(text.contains("\"version\": 7"), "{text}");
        std::fs::write(dir.path().join(FILE), "not json").unwrap();
        assert_eq!(one.gate(), Gate::Open);
    }

    #[test]
    fn the_last_outcome_is_written_when_it_changes() {
        let (dir, one, other) = delivery_states();
        assert_eq!(last_delivery(dir.path()), None);
        one.note_outcome("rejected: HTTP 400", 3, LOCK_WAIT);
        let text = last_delivery(dir.path()).unwrap();
        assert!(text.starts_with("rejected: HTTP 400 (since "), "{text}");
        assert!(text.ends_with("a batch of 3 events)"), "{text}");
        let before = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        other.note_outcome("rejected: HTTP 400", 5, LOCK_WAIT);
        let after = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after, "an unchanged outcome is not written again");
        other.note_outcome("accepted", 5, LOCK_WAIT);
        assert!(last_delivery(dir.path()).unwrap().starts_with("accepted"));
    }

    #[test]
    fn times_implausibly_far_ahead_are_ignored() {
        let (dir, one, _) = delivery_states();
        let write = |retry_at: SystemTime, gone_until: SystemTime| {
            let record = Remembered {
                version: 1,
                failures: 3,
                retry_at: Some(format(retry_at)),
                gone_until: Some(format(gone_until)),
                gone_version: Some("1.0".into()),
                ..Remembered::default()
            };
            std::fs::write(dir.path().join(FILE), serde_json::to_vec(&record).unwrap()).unwrap();
        };
        let now = SystemTime::now();
        let past = now - Duration::from_secs(1);
        let day = Duration::from_secs(24 * 60 * 60);
        // Within what this library writes: believed.
        write(now + backoff::MAX_RETRY_AFTER, past);
        assert!(matches!(one.gate(), Gate::Closed(_)));
        write(past, now + GONE_FOR);
        assert_eq!(one.gate(), Gate::Gone);
        // A clock set years ahead when they were written: ignored.
        write(now + 2 * day, past);
        assert_eq!(one.gate(), Gate::Open);
        write(past, now + GONE_FOR + 2 * day);
        assert_eq!(one.gate(), Gate::Open);
        write(now + 3650 * day, now + 3650 * day);
        assert_eq!(one.gate(), Gate::Open);
    }

    #[test]
    fn each_receiver_has_its_own_record() {
        let dir = tempfile::tempdir().unwrap();
        let at = |key: &str| DeliveryState::new(Some(dir.path().to_path_buf()), "1.0", key);
        let (one, other) = (at("aaaa"), at("bbbb"));
        one.failed(None, LOCK_WAIT);
        assert!(matches!(one.gate(), Gate::Closed(_)));
        assert_eq!(other.gate(), Gate::Open);
        other.gone();
        assert_eq!(other.gate(), Gate::Gone);
        assert!(matches!(one.gate(), Gate::Closed(_)));
        assert!(dir.path().join("delivery-aaaa.json").exists());
        assert!(dir.path().join("delivery-bbbb.json").exists());
    }

    #[test]
    fn without_a_directory_it_remembers_in_memory() {
        let delivery_state = DeliveryState::new(None, "1.0", KEY);
        delivery_state.failed(None, LOCK_WAIT);
        assert!(matches!(delivery_state.gate(), Gate::Closed(_)));
        delivery_state.succeeded();
        assert_eq!(delivery_state.gate(), Gate::Open);
    }

    // Property tests: the delivery record is shared by every process of the app and may
    // be damaged or written by a clock set wrong; whatever it holds must never panic,
    // and never shut the gate longer than this library itself would.

    use proptest::prelude::*;

    /// Timestamps as a record may hold them: well-formed, nearly so (any year, month,
    /// day, time, fraction and offset), around now by any amount, or any text.
    fn timestamp() -> impl Strategy<Value = Option<String>> {
        let year = prop_oneof![1970i64..=2100, 0i64..=99_999, any::<i64>(),];
        let fields = (year, 0u32..=13, 0u32..=32, 0u32..=25, 0u32..=61, 0u32..=61);
        let fraction =
            prop::sample::select(vec!["", ".5", ".123", ".123456789", ".12345678901234"]);
        let offset = prop::sample::select(vec!["Z", "z", "+00:00", "-05:00", "+99:99", "", " "]);
        let shaped = (fields, fraction, offset).prop_map(
            |((year, month, day, hour, minute, second), fraction, offset)| {
                format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{offset}")
            },
        );
        let around_now = (any::<bool>(), any::<u64>(), 0u32..1_000_000_000).prop_map(
            |(ahead, seconds, nanos)| {
                let by = Duration::new(seconds, nanos);
                let now = SystemTime::now();
                let at = if ahead {
                    time::system_after(now, by)
                } else {
                    now.checked_sub(by).unwrap_or(std::time::UNIX_EPOCH)
                };
                format(at)
            },
        );
        // Within the caps, near them and beyond them.
        let near_caps = (0u64..4, -7_200i64..7_200).prop_map(|(which, seconds)| {
            let base = [
                backoff::MAX,
                backoff::MAX_RETRY_AFTER,
                GONE_FOR,
                CLOCK_MARGIN,
            ][which as usize];
            let by = base.saturating_add(CLOCK_MARGIN);
            let by = if seconds >= 0 {
                by.saturating_add(Duration::from_secs(seconds as u64))
            } else {
                by.saturating_sub(Duration::from_secs(seconds.unsigned_abs()))
            };
            format(time::system_after(SystemTime::now(), by))
        });
        prop::option::of(prop_oneof![
            shaped,
            around_now,
            near_caps,
            ".{0,40}",
            "[0-9T:.Z+-]{0,30}",
        ])
    }

    fn write_record(dir: &Path, record: &Remembered) {
        std::fs::write(dir.join(FILE), serde_json::to_vec(record).unwrap()).unwrap();
    }

    proptest! {
        #[test]
        fn prop_delivery_arbitrary_bytes_never_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..512),
        ) {
            let (dir, one, _) = delivery_states();
            std::fs::write(dir.path().join(FILE), &bytes).unwrap();
            let parsed = read(&dir.path().join(FILE));
            let gate = one.gate();
            let last = last_delivery(dir.path());
            if parsed.is_none() {
                prop_assert_eq!(gate, Gate::Open);
                prop_assert_eq!(last, None);
            }
            // Whatever it held, a failure is recorded over it and closes the gate.
            one.failed(None, LOCK_WAIT);
            prop_assert!(matches!(one.gate(), Gate::Closed(_) | Gate::Gone));
            prop_assert!(read(&dir.path().join(FILE)).is_some());
        }

        #[test]
        fn prop_delivery_stored_times_never_shut_the_gate_beyond_the_caps(
            retry_at in timestamp(),
            gone_until in timestamp(),
            same_version in any::<bool>(),
            failures in any::<u32>(),
        ) {
            let (dir, one, _) = delivery_states();
            let record = Remembered {
                version: 1,
                failures,
                retry_at: retry_at.clone(),
                gone_until: gone_until.clone(),
                gone_version: Some(if same_version { "1.0" } else { "0.9" }.to_owned()),
                ..Remembered::default()
            };
            write_record(dir.path(), &record);
            let before = SystemTime::now();
            let gate = one.gate();
            let after = SystemTime::now();
            let longest_pause = backoff::MAX.max(backoff::MAX_RETRY_AFTER);
            let latest = |longest: Duration| time::system_after(after, longest.saturating_add(CLOCK_MARGIN));
            let earliest = |longest: Duration| time::system_after(before, longest.saturating_add(CLOCK_MARGIN));
            let until = parse(&gone_until);
            let at = parse(&retry_at);
            // A believable `410` window of this version must stop delivery...
            let surely_gone = same_version
                && until.is_some_and(|until| until > after && until <= earliest(GONE_FOR));
            // ...and nothing else may.
            let maybe_gone = same_version
                && until.is_some_and(|until| until > before && until <= latest(GONE_FOR));
            let surely_closed = at.is_some_and(|at| at > after && at <= earliest(longest_pause));
            match gate {
                Gate::Gone => prop_assert!(maybe_gone, "{:?}", gone_until),
                Gate::Closed(closed) => {
                    prop_assert!(!surely_gone);
                    prop_assert_eq!(Some(closed), at);
                    prop_assert!(closed > before, "{:?}", retry_at);
                    prop_assert!(closed <= latest(longest_pause), "{:?}", retry_at);
                }
                Gate::Open => {
                    prop_assert!(!surely_gone, "{:?}", gone_until);
                    prop_assert!(!surely_closed, "{:?}", retry_at);
                }
            }
        }

        #[test]
        fn prop_delivery_any_failure_closes_the_gate_within_the_caps(
            failures in any::<u32>(),
            retry_after in prop::option::of(prop_oneof![
                (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
                (0u64..200_000).prop_map(Duration::from_secs),
                Just(Duration::MAX),
            ]),
        ) {
            let (dir, one, _) = delivery_states();
            write_record(dir.path(), &Remembered { version: 1, failures, ..Remembered::default() });
            let before = SystemTime::now();
            one.failed(retry_after, LOCK_WAIT);
            let gate = one.gate();
            let after = SystemTime::now();
            let Gate::Closed(at) = gate else {
                return Err(TestCaseError::fail(format!("{gate:?}")));
            };
            let longest = backoff::MAX.max(backoff::MAX_RETRY_AFTER);
            prop_assert!(at <= time::system_after(after, longest));
            // At least half the window and what the receiver asked (capped), to the
            // millisecond the record is written with.
            let window = backoff::window(failures.saturating_add(1));
            let shortest = (window / 2).max(retry_after.unwrap_or_default().min(backoff::MAX_RETRY_AFTER));
            prop_assert!(
                at + Duration::from_millis(1) >= time::system_after(before, shortest),
                "{:?} < {:?} after {:?}", at, shortest, before
            );
            prop_assert_eq!(one.load().failures, failures.saturating_add(1));
        }

        #[test]
        fn prop_delivery_last_outcome_reads_any_records(
            records in prop::collection::vec(
                (
                    prop::option::of(".{0,20}"),
                    timestamp(),
                    prop::option::of(any::<u64>()),
                    any::<bool>(),
                ),
                0..4,
            ),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut outcomes = Vec::new();
            for (index, (outcome, at, events, damaged)) in records.into_iter().enumerate() {
                let record = Remembered {
                    version: 1,
                    last_outcome: outcome.clone(),
                    last_outcome_at: at,
                    last_batch_events: events,
                    ..Remembered::default()
                };
                let mut bytes = serde_json::to_vec(&record).unwrap();
                if damaged {
                    bytes.truncate(bytes.len() / 2);
                } else if let Some(outcome) = outcome {
                    outcomes.push(outcome);
                }
                std::fs::write(dir.path().join(format!("delivery-{index}.json")), bytes).unwrap();
            }
            match last_delivery(dir.path()) {
                Some(text) => prop_assert!(
                    outcomes.iter().any(|outcome| text.starts_with(outcome.as_str())),
                    "{:?} from {:?}", text, outcomes
                ),
                None => prop_assert!(outcomes.is_empty()),
            }
        }
    }
}
