//! The spool: events not yet delivered, kept on disk until a later attempt gets a 2xx.
//!
//! A directory `spool/<key>/` under the cache directory holds one file per batch, a
//! *segment*, where `<key>` names the receiver (see [`super::endpoint_key`]): events
//! recorded for one endpoint are only ever sent to that endpoint. A segment holds its
//! events as JSON lines, and is named
//! `<created ms, 13 digits>-<sequence>-<pid>-<random>-<event count>.jsonl` so that
//! names sort oldest first and tell their size in events without being read.
//!
//! How it stays correct with several processes of the app at once, and through crashes:
//!
//! - **Written whole or not at all.** A segment is written to a hidden temporary file
//!   and renamed into place: readers see complete segments only. A crash mid-write
//!   leaves a temporary file, removed by a later run once it is an hour old. (No
//!   `fsync`: a power cut may cost the newest segments, never mix up their events.)
//! - **Claimed under a lock.** A process sending a segment holds an exclusive advisory
//!   lock on it ([`File::try_lock`]) from before it reads it until after it deleted it.
//!   Another process skips a locked segment, and after taking a lock checks that the
//!   segment still exists, so a segment deleted by its sender a moment before is never
//!   read again. A process that dies mid-send releases its locks with its last breath,
//!   and the segment is sent by someone else later.
//! - **Deleted only after a 2xx** (or a permanent rejection, which is counted), and right
//!   after it, before any other write: a process killed between the answer and the
//!   deletion leaves the segment to be sent again (at least once, never lost), so that
//!   window is kept to the deletion itself (see `Delivery::attempt`).
//! - **Bounded.** [`MAX_BYTES`] in all and [`MAX_AGE`] per segment: beyond them the
//!   oldest segments are dropped first, and the events in them counted as lost.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::event::Event;
use crate::fs::{self as private_fs, Locked};

/// The most the spool may hold on disk.
pub(crate) const MAX_BYTES: u64 = 1024 * 1024;
/// The oldest a spooled event may get before it is dropped.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Temporary files older than this are left-overs of a crash.
const STALE_TEMPORARY: Duration = Duration::from_secs(60 * 60);
/// Segments sent in one request are kept under this many bytes (Segment accepts 500 KB).
const MAX_CLAIM_BYTES: u64 = 400 * 1024;
const SUFFIX: &str = ".jsonl";
/// The folder of every receiver's spool, under the cache directory.
pub(crate) const DIR: &str = "spool";

/// A spool directory and its bounds.
#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    max_age: Duration,
}

/// One segment as listed in the directory.
#[derive(Debug)]
struct Segment {
    path: PathBuf,
    created_ms: u64,
    events: u64,
}

/// Segments locked by this process for one delivery attempt, and their events.
pub(crate) struct Claim {
    files: Vec<(PathBuf, File)>,
    /// The events of every claimed segment, oldest first.
    pub(crate) events: Vec<Event>,
    /// Lines that could not be parsed (a torn or foreign file): lost, for the count.
    pub(crate) unreadable: u64,
}

impl Spool {
    /// The spool of the receiver named `key` in `<cache_dir>/spool/<key>`, with the
    /// default bounds.
    pub(crate) fn new(cache_dir: &Path, key: &str) -> Spool {
        Spool {
            dir: cache_dir.join(DIR).join(key),
            max_bytes: MAX_BYTES,
            max_age: MAX_AGE,
        }
    }

    #[cfg(test)]
    fn with_bounds(cache_dir: &Path, max_bytes: u64, max_age: Duration) -> Spool {
        Spool {
            max_bytes,
            max_age,
            ..Spool::new(cache_dir, "test")
        }
    }

    /// The spool directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `events` as segments of at most `per_segment` events each, then enforces
    /// the bounds. Returns the paths written and the number of events dropped to stay
    /// within the bounds (possibly some of these, if they alone exceed them). On an I/O
    /// error nothing more is written; the error says how many events were not.
    pub(crate) fn append(
        &self,
        events: &[Event],
        per_segment: usize,
    ) -> Result<(Vec<PathBuf>, u64), (io::Error, u64)> {
        if events.is_empty() {
            return Ok((Vec::new(), 0));
        }
        private_fs::create_private_dir(&self.dir).map_err(|error| (error, events.len() as u64))?;
        let mut written = Vec::new();
        let mut done = 0;
        // Bounded in bytes too, so that one segment always fits in one request.
        for chunk in super::chunks(events, per_segment) {
            match self.write_segment(chunk) {
                Ok(path) => written.push(path),
                Err(error) => return Err((error, (events.len() - done) as u64)),
            }
            done += chunk.len();
        }
        let dropped = self.trim();
        Ok((written, dropped))
    }

    fn write_segment(&self, events: &[Event]) -> io::Result<PathBuf> {
        let mut body = Vec::with_capacity(events.len() * 800);
        for event in events {
            serde_json::to_writer(&mut body, event).map_err(io::Error::other)?;
            body.push(b'\n');
        }
        use std::sync::atomic::{AtomicU64, Ordering};
        // Orders this process's segments written within the same millisecond.
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let created_ms = now_ms();
        let name = format!(
            "{created_ms:013}-{:010}-{}-{:016x}-{}{SUFFIX}",
            SEQUENCE.fetch_add(1, Ordering::Relaxed),
            std::process::id(),
            random(),
            events.len()
        );
        private_fs::write_atomic(&self.dir, &name, &body)?;
        Ok(self.dir.join(name))
    }

    /// Whether the spool holds at least one segment.
    pub(crate) fn has_segments(&self) -> bool {
        !self.list().is_empty()
    }

    /// Drops segments older than the age bound, then the oldest ones until the spool
    /// fits its size bound, skipping segments another process is sending. Removes
    /// temporary files left by crashes. Returns the number of events dropped.
    pub(crate) fn trim(&self) -> u64 {
        let cutoff = now_ms().saturating_sub(self.max_age.as_millis() as u64);
        let mut dropped = 0;
        let mut kept: Vec<(Segment, u64)> = Vec::new();
        for segment in self.list() {
            if segment.created_ms < cutoff {
                dropped += self.drop_segment(&segment);
                continue;
            }
            let size = fs::metadata(&segment.path).map_or(0, |meta| meta.len());
            kept.push((segment, size));
        }
        let mut total: u64 = kept.iter().map(|(_, size)| size).sum();
        for (segment, size) in &kept {
            if total <= self.max_bytes {
                break;
            }
            let removed = self.drop_segment(segment);
            if removed > 0 || !segment.path.exists() {
                total = total.saturating_sub(*size);
            }
            dropped += removed;
        }
        self.remove_stale_temporaries();
        dropped
    }

    /// Removes a segment unless another process holds it; returns its event count if
    /// this call removed it.
    fn drop_segment(&self, segment: &Segment) -> u64 {
        let Ok(file) = open(&segment.path) else {
            return 0;
        };
        if !matches!(lock(&file), Locked::Yes) {
            return 0;
        }
        match fs::remove_file(&segment.path) {
            Ok(()) => segment.events,
            Err(_) => 0,
        }
    }

    fn remove_stale_temporaries(&self) {
        private_fs::remove_stale_temporaries(&self.dir, STALE_TEMPORARY);
    }

    /// Locks the oldest segments nobody else is sending, up to `max_events` events (at
    /// least one segment) and a request's worth of bytes, and reads them. `None` when
    /// there is nothing to claim.
    pub(crate) fn claim(&self, max_events: usize) -> Option<Claim> {
        let mut claim = Claim {
            files: Vec::new(),
            events: Vec::new(),
            unreadable: 0,
        };
        let mut bytes = 0u64;
        for segment in self.list() {
            if !claim.files.is_empty()
                && claim.events.len() as u64 + segment.events > max_events as u64
            {
                break;
            }
            let Ok(file) = open(&segment.path) else {
                continue;
            };
            if !matches!(lock(&file), Locked::Yes) {
                continue;
            }
            // Locked: but a sender may have deleted it between our open and our lock.
            if fs::symlink_metadata(&segment.path).is_err() {
                continue;
            }
            let size = file.metadata().map_or(0, |meta| meta.len());
            if !claim.files.is_empty() && bytes + size > MAX_CLAIM_BYTES {
                break;
            }
            let body = match file
                .try_clone()
                .and_then(|file| private_fs::read_open_capped(file, private_fs::MAX_READ))
            {
                Ok(body) => body,
                Err(_) => continue,
            };
            bytes += size;
            for line in body.split(|byte| *byte == b'\n') {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match serde_json::from_slice::<Event>(line) {
                    Ok(event) => claim.events.push(event),
                    Err(_) => claim.unreadable += 1,
                }
            }
            claim.files.push((segment.path, file));
        }
        (!claim.files.is_empty()).then_some(claim)
    }

    /// Removes every segment nobody else is sending (after `410 Gone`); returns the
    /// number of events dropped.
    pub(crate) fn clear(&self) -> u64 {
        self.list()
            .iter()
            .map(|segment| self.drop_segment(segment))
            .sum()
    }

    /// Removes one segment written by this process, unless another process is sending
    /// it already (then it will be delivered twice, which `messageId` lets receivers
    /// notice). Used when a batch that was spooled at a deadline is delivered after all.
    pub(crate) fn remove_written(&self, path: &Path) {
        if let Ok(file) = open(path) {
            if matches!(lock(&file), Locked::Yes) {
                let _ = fs::remove_file(path);
            }
        }
    }

    /// The segments, oldest first.
    fn list(&self) -> Vec<Segment> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut segments: Vec<(String, Segment)> = entries
            .flatten()
            .filter_map(|entry| {
                // Not through a link, not a device or a pipe: only files written here.
                if !entry.file_type().ok()?.is_file() {
                    return None;
                }
                let name = entry.file_name().into_string().ok()?;
                let segment = parse_name(&name, entry.path())?;
                Some((name, segment))
            })
            .collect();
        segments.sort_by(|a, b| a.0.cmp(&b.0));
        segments.into_iter().map(|(_, segment)| segment).collect()
    }
}

impl Claim {
    /// The batch was delivered (or permanently rejected): delete its segments, then
    /// release them.
    pub(crate) fn commit(self) {
        for (path, file) in self.files {
            let _ = fs::remove_file(&path);
            drop(file);
        }
    }

    /// The batch was not delivered: release the segments for a later attempt.
    pub(crate) fn release(self) {
        drop(self.files);
    }
}

/// The most events a segment that can be read at all may hold: each takes at least a
/// byte and its newline.
const MAX_SEGMENT_EVENTS: u64 = private_fs::MAX_READ / 2;

fn parse_name(name: &str, path: PathBuf) -> Option<Segment> {
    // Only names this library writes: ASCII digits (`parse` alone would take a sign), a
    // hex random part, and an event count a readable segment can hold, so that a planted
    // name neither passes for a segment nor overflows the dropped-event counts it is
    // summed into.
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    let stem = name.strip_suffix(SUFFIX)?;
    let mut parts = stem.split('-');
    let created = parts.next()?;
    let sequence = parts.next()?;
    let pid = parts.next()?;
    let random = parts.next()?;
    let events = parts.next()?;
    let well_formed = parts.next().is_none()
        && created.len() == 13
        && digits(created)
        && digits(sequence)
        && digits(pid)
        && !random.is_empty()
        && random.bytes().all(|byte| byte.is_ascii_hexdigit())
        && digits(events);
    if !well_formed {
        return None;
    }
    let events = events
        .parse()
        .ok()
        .filter(|events| *events <= MAX_SEGMENT_EVENTS)?;
    Some(Segment {
        path,
        created_ms: created.parse().ok()?,
        events,
    })
}

/// Opens a segment to lock it: read and write, since some platforms lock exclusively
/// only what may be written; never through a link, and never anything but a file.
fn open(path: &Path) -> io::Result<File> {
    let file = private_fs::no_follow().read(true).write(true).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    Ok(file)
}

fn lock(file: &File) -> Locked {
    let locked = private_fs::try_lock(file);
    if let Locked::Unsupported(error) = &locked {
        crate::diag::debug(format_args!("cannot lock a spool segment: {error}"));
    }
    locked
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

fn random() -> u64 {
    getrandom::u64().unwrap_or_else(|_| now_ms().rotate_left(17))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Context, NameVersion};

    fn event(id: usize) -> Event {
        let name_version = |name: &str| NameVersion {
            name: name.to_owned(),
            version: "1".to_owned(),
        };
        Event {
            kind: "track".to_owned(),
            event: "command_test".to_owned(),
            message_id: format!("message-{id}"),
            anonymous_id: "anonymous".to_owned(),
            timestamp: "2026-11-22T01:02:03.456Z".to_owned(),
            context: Context {
                library: name_version("app"),
                telemetry: name_version("telemetry"),
                os: name_version("linux"),
                arch: "x86_64".to_owned(),
                cpu: 2,
                ci_run: false,
                exec_info: Vec::new(),
                session_id: "session".to_owned(),
            },
            properties: serde_json::Map::new(),
        }
    }

    fn ids(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|event| event.message_id.clone())
            .collect()
    }

    #[test]
    fn appends_claims_and_commits_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "test");
        let events: Vec<Event> = (0..5).map(event).collect();
        let (paths, dropped) = spool.append(&events, 2).unwrap();
        assert_eq!((paths.len(), dropped), (3, 0));
        assert!(spool.has_segments());

        let claim = spool.claim(4).unwrap();
        assert_eq!(ids(&claim.events), ids(&events[..4]));
        // While claimed, another claimer only gets what is left.
        let other = spool.claim(100).unwrap();
        assert_eq!(ids(&other.events), ids(&events[4..]));
        other.release();
        claim.commit();

        let rest = spool.claim(100).unwrap();
        assert_eq!(ids(&rest.events), ids(&events[4..]));
        rest.commit();
        assert!(!spool.has_segments());
        assert!(spool.claim(100).is_none());
    }

    #[test]
    fn a_released_claim_is_claimed_again() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "test");
        spool.append(&[event(1)], 10).unwrap();
        spool.claim(10).unwrap().release();
        let again = spool.claim(10).unwrap();
        assert_eq!(ids(&again.events), vec!["message-1"]);
    }

    #[test]
    fn a_segment_deleted_by_its_sender_is_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "test");
        let (paths, _) = spool.append(&[event(1)], 10).unwrap();
        // A second process opened the segment before the first one deleted it.
        let late = File::open(&paths[0]).unwrap();
        spool.claim(10).unwrap().commit();
        assert!(matches!(lock(&late), Locked::Yes));
        assert!(fs::symlink_metadata(&paths[0]).is_err());
        assert!(spool.claim(10).is_none());
    }

    #[test]
    fn torn_and_temporary_files_never_become_events() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "test");
        spool.append(&[event(1)], 10).unwrap();
        // A crash mid-write leaves a temporary file; a torn segment has a partial line.
        fs::write(
            spool.dir().join(".0000000000001-1-1-1-1.jsonl.tmp"),
            "{\"type\"",
        )
        .unwrap();
        let good = serde_json::to_string(&event(2)).unwrap();
        fs::write(
            spool.dir().join("0000000000002-1-1-2-2.jsonl"),
            format!("{good}\n{}", &good[..good.len() / 2]),
        )
        .unwrap();
        let claim = spool.claim(100).unwrap();
        let mut got = ids(&claim.events);
        got.sort();
        assert_eq!(got, vec!["message-1", "message-2"]);
        assert_eq!(claim.unreadable, 1);
    }

    #[test]
    fn bounds_drop_the_oldest_and_count_them() {
        let dir = tempfile::tempdir().unwrap();
        let one = serde_json::to_vec(&event(0)).unwrap().len() as u64 + 1;
        let spool = Spool::with_bounds(dir.path(), one * 3, MAX_AGE);
        let events: Vec<Event> = (0..5).map(event).collect();
        for event in &events {
            let (_, dropped) = spool.append(std::slice::from_ref(event), 1).unwrap();
            let _ = dropped;
        }
        let claim = spool.claim(100).unwrap();
        assert_eq!(ids(&claim.events), ids(&events[2..]));
        claim.release();

        // Too old: dropped and counted.
        fs::write(spool.dir().join("0000000000001-1-1-1-4.jsonl"), "").unwrap();
        assert_eq!(spool.trim(), 4);
        let aged = Spool::with_bounds(dir.path(), MAX_BYTES, Duration::ZERO);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(aged.trim(), 3);
        assert!(!spool.has_segments());
    }

    #[cfg(unix)]
    #[test]
    fn links_and_devices_in_the_spool_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "test");
        spool.append(&[event(1)], 10).unwrap();
        std::os::unix::fs::symlink("/dev/zero", spool.dir().join("0000000000001-1-1-1-1.jsonl"))
            .unwrap();
        let claim = spool.claim(100).unwrap();
        assert_eq!(ids(&claim.events), vec!["message-1"]);
        assert_eq!(claim.unreadable, 0);
    }

    #[test]
    fn segments_stay_within_a_request() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "test");
        let mut big = event(0);
        big.properties
            .insert("blob".into(), "x".repeat(10 * 1024).into());
        let (paths, _) = spool.append(&vec![big; 60], 100).unwrap();
        assert!(paths.len() >= 2, "{paths:?}");
        for path in paths {
            let size = fs::metadata(path).unwrap().len();
            assert!(size <= super::super::MAX_BATCH_BYTES as u64, "{size}");
        }
    }

    #[test]
    fn clear_skips_what_another_process_is_sending() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "test");
        spool.append(&[event(1), event(2), event(3)], 1).unwrap();
        let busy = spool.claim(1).unwrap();
        assert_eq!(spool.clear(), 2);
        busy.commit();
        assert!(!spool.has_segments());
    }

    /// Found by `prop_spool_names_parse_only_when_well_formed` (seed in
    /// `proptest-regressions/delivery/spool.txt`): only the created time and the count
    /// were checked, and those with `parse`, which takes a sign.
    #[test]
    fn only_names_this_library_writes_are_segments() {
        let parse = |name: &str| parse_name(name, PathBuf::from(name)).map(|s| s.events);
        assert_eq!(
            parse("0000000000000-aa000000000aaa0a-0000000000000-0000000000000-0.jsonl"),
            None
        );
        assert_eq!(parse("0000000000001-1-1-1-+4.jsonl"), None);
        assert_eq!(parse("+000000000001-1-1-1-4.jsonl"), None);
        assert_eq!(parse("0000000000001-1-1-xyz-4.jsonl"), None);
        assert_eq!(
            parse("0000000000001-0000000007-4242-00ff00ff00ff00ff-4.jsonl"),
            Some(4)
        );
    }

    /// Found by `prop_spool_any_names_counts_and_contents_never_panic` (seed in
    /// `proptest-regressions/delivery/spool.txt`): two planted names whose event counts
    /// added past `u64::MAX` panicked (debug) or wrapped (release) when the dropped
    /// events were summed.
    #[test]
    fn planted_event_counts_cannot_overflow_the_dropped_count() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "test");
        spool.append(&[event(1)], 10).unwrap();
        for name in [
            "1795801584727-1-1-1-6227886482974133145.jsonl",
            "2757721251293-1-1-1-18250060995866683641.jsonl",
        ] {
            fs::write(spool.dir().join(name), "").unwrap();
        }
        let claim = spool.claim(6).unwrap();
        assert_eq!(ids(&claim.events), vec!["message-1"]);
        claim.release();
        assert_eq!(spool.trim(), 0);
        assert_eq!(spool.clear(), 1);
    }

    #[test]
    fn an_oversized_segment_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "test");
        fs::create_dir_all(spool.dir()).unwrap();
        let line = serde_json::to_string(&event(1)).unwrap() + "\n";
        let copies = private_fs::MAX_READ as usize / line.len() + 1;
        fs::write(
            spool.dir().join("0000000000001-1-1-1-1.jsonl"),
            line.repeat(copies),
        )
        .unwrap();
        assert!(spool.claim(usize::MAX).is_none());
        // One line fewer is within the cap, and read.
        fs::write(
            spool.dir().join("0000000000001-1-1-1-1.jsonl"),
            line.repeat(copies - 1),
        )
        .unwrap();
        assert_eq!(spool.claim(usize::MAX).unwrap().events.len(), copies - 1);
    }

    // Property tests: the spool directory lives in the cache directory, where other
    // programs, crashes and cleaners leave what they like; names and contents from there
    // must never panic, never become events they do not hold, and never be read whole
    // past the cap.

    use proptest::prelude::*;

    /// The segment name's format, written out independently of `parse_name`: the created
    /// time (13 digits), sequence, pid, random (hex) and event count, `-` apart.
    fn well_formed(name: &str) -> Option<(u64, u64)> {
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let stem = name.strip_suffix(".jsonl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        let [created, sequence, pid, random, events] = parts.as_slice() else {
            return None;
        };
        let ok = created.len() == 13
            && digits(created)
            && digits(sequence)
            && digits(pid)
            && !random.is_empty()
            && random.bytes().all(|b| b.is_ascii_hexdigit())
            && digits(events);
        let (created, events) = (created.parse().ok()?, events.parse().ok()?);
        // No more events than a segment of at most `MAX_READ` bytes can hold.
        (ok && events <= private_fs::MAX_READ / 2).then_some((created, events))
    }

    fn name_part() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{13}",
            "[0-9]{1,10}",
            "[0-9]{19,25}",
            "[0-9a-f]{16}",
            "[+-]?[0-9]{1,5}",
            "[0-9a-fA-FxX+ ]{0,4}",
            // Digits of other scripts, which `is_ascii_digit` does not take either.
            "[٠-٩０-９]{1,13}",
            ".{0,6}",
        ]
    }

    fn segment_name() -> impl Strategy<Value = String> {
        prop_oneof![
            (
                prop::collection::vec(name_part(), 3..7),
                prop::sample::select(vec![".jsonl", ".json", ".jsonl.tmp", "", ".JSONL"]),
            )
                .prop_map(|(parts, suffix)| parts.join("-") + suffix),
            ".{0,40}",
            // Well formed but for the event count, which may be anything.
            (0u64..10_000_000_000_000, any::<u64>())
                .prop_map(|(created, events)| format!("{created:013}-1-1-1-{events}.jsonl")),
        ]
    }

    /// One line of a segment as a crash, a disk or another program may leave it.
    #[derive(Clone, Debug)]
    enum Line {
        Event(usize),
        /// An event's JSON cut short.
        Torn(usize, prop::sample::Index),
        Bytes(Vec<u8>),
        Blank(String),
    }

    fn line() -> impl Strategy<Value = Line> {
        prop_oneof![
            (0usize..1000).prop_map(Line::Event),
            (0usize..1000, any::<prop::sample::Index>()).prop_map(|(id, cut)| Line::Torn(id, cut)),
            prop::collection::vec(any::<u8>(), 0..64).prop_map(|bytes| {
                Line::Bytes(bytes.into_iter().filter(|byte| *byte != b'\n').collect())
            }),
            "[ \t\r]{0,4}".prop_map(Line::Blank),
        ]
    }

    /// A segment's bytes, the message ids of its events and the number of lines that
    /// are neither events nor blank.
    fn segment_body(
        lines: &[Line],
        crlf: bool,
        final_newline: bool,
    ) -> (Vec<u8>, Vec<String>, u64) {
        let mut body = Vec::new();
        let mut ids = Vec::new();
        let mut unreadable = 0;
        for (index, line) in lines.iter().enumerate() {
            let bytes = match line {
                Line::Event(id) => {
                    ids.push(format!("message-{id}"));
                    serde_json::to_vec(&event(*id)).unwrap()
                }
                Line::Torn(id, cut) => {
                    let whole = serde_json::to_vec(&event(*id)).unwrap();
                    whole[..cut.index(whole.len())].to_vec()
                }
                Line::Bytes(bytes) => bytes.clone(),
                Line::Blank(blank) => blank.clone().into_bytes(),
            };
            let blank = bytes.iter().all(u8::is_ascii_whitespace);
            if !blank && !matches!(line, Line::Event(_)) {
                unreadable += 1;
            }
            body.extend_from_slice(&bytes);
            if index + 1 < lines.len() || final_newline {
                body.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
        }
        (body, ids, unreadable)
    }

    proptest! {
        #[test]
        fn prop_spool_names_parse_only_when_well_formed(name in segment_name()) {
            let parsed = parse_name(&name, PathBuf::from(&name))
                .map(|segment| (segment.created_ms, segment.events));
            prop_assert_eq!(parsed, well_formed(&name), "{:?}", name);
        }

        #[test]
        fn prop_spool_contents_yield_exactly_their_events(
            lines in prop::collection::vec(line(), 0..12),
            crlf in any::<bool>(),
            final_newline in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let spool = Spool::new(dir.path(), "test");
            fs::create_dir_all(spool.dir()).unwrap();
            let (body, expected, unreadable) = segment_body(&lines, crlf, final_newline);
            fs::write(spool.dir().join("0000000000001-1-1-1-1.jsonl"), &body).unwrap();
            let claim = spool.claim(usize::MAX).unwrap();
            prop_assert_eq!(ids(&claim.events), expected);
            prop_assert_eq!(claim.unreadable, unreadable);
            claim.commit();
            prop_assert!(!spool.has_segments());
        }

        #[test]
        fn prop_spool_any_names_counts_and_contents_never_panic(
            segments in prop::collection::vec(
                (segment_name(), prop::collection::vec(line(), 0..4)),
                1..6,
            ),
            max_events in prop_oneof![0usize..10, Just(usize::MAX)],
        ) {
            let dir = tempfile::tempdir().unwrap();
            let spool = Spool::new(dir.path(), "test");
            fs::create_dir_all(spool.dir()).unwrap();
            let mut lines_written = 0;
            for (name, lines) in &segments {
                if name.is_empty() || name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
                    continue;
                }
                let (body, _, _) = segment_body(lines, false, true);
                if fs::write(spool.dir().join(name), &body).is_ok() {
                    lines_written += lines.len();
                }
            }
            if let Some(claim) = spool.claim(max_events) {
                prop_assert!(claim.events.len() + claim.unreadable as usize <= lines_written);
                claim.release();
            }
            // Counts come from names and may be anything: summed without overflow.
            let _ = spool.trim();
            let _ = spool.clear();
            prop_assert!(!spool.has_segments());
        }
    }
}
