//! The local log: `sent.jsonl` in the cache directory, one JSON line per event the sink
//! accepted (`sent`), gave up on (`dropped`, with the reason) or, in local-only mode,
//! only recorded (`local`). What `<tool> telemetry log` and
//! [`sent_log`](crate::sent_log) show.
//!
//! - **Written by the worker only**, after the sink answered: never on a caller's thread,
//!   and never by the exit path (which only spools; a spooled event is logged when a
//!   later run sends it).
//! - **Owner-only** (0600, in a 0700 directory), like every file of the library.
//! - **Bounded.** Past [`MAX_BYTES`] the newest half is kept: a rewrite of the whole
//!   file (a temporary renamed over it) under the lock `.sent.lock`. Appends are single
//!   `O_APPEND` writes, so parallel processes never interleave inside a line; when the
//!   lock stays busy, the rotation is left to the next writer.
//! - **Best effort.** A log that cannot be written never affects delivery or the host.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::event::{Batch, Event};
use crate::fs as private_fs;
use crate::sink::{Sink, SinkError};
use crate::transparency::{LastSent, LogOutcome, LoggedEvent};

/// The log's file name in the cache directory.
pub(crate) const FILE: &str = "sent.jsonl";
/// The most the log may hold; past it, the oldest half goes.
pub(crate) const MAX_BYTES: u64 = 256 * 1024;
const LOCK: &str = ".sent.lock";
/// How long a writer waits for another's rotation.
const LOCK_WAIT: Duration = Duration::from_millis(20);

/// The local log of one cache directory.
#[derive(Debug)]
pub(crate) struct LocalLog {
    dir: PathBuf,
    max_bytes: u64,
}

#[derive(Serialize)]
struct Line<'a> {
    at: &'a str,
    outcome: LogOutcome,
    reason: Option<&'a str>,
    event: &'a Event,
}

impl LocalLog {
    /// The log in `cache_dir`.
    pub(crate) fn new(cache_dir: &Path) -> LocalLog {
        LocalLog {
            dir: cache_dir.to_path_buf(),
            max_bytes: MAX_BYTES,
        }
    }

    #[cfg(test)]
    fn with_max(cache_dir: &Path, max_bytes: u64) -> LocalLog {
        LocalLog {
            max_bytes,
            ..LocalLog::new(cache_dir)
        }
    }

    /// Appends one line per event. Errors are reported in debug mode only.
    pub(crate) fn record(&self, outcome: LogOutcome, reason: Option<&str>, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        if let Err(error) = self.write(outcome, reason, events) {
            crate::diag::debug(format_args!(
                "cannot write the local log in {}: {error}",
                self.dir.display()
            ));
        }
    }

    fn write(&self, outcome: LogOutcome, reason: Option<&str>, events: &[Event]) -> io::Result<()> {
        let at = super::timestamp(SystemTime::now());
        let mut lines = Vec::with_capacity(events.len() * 900 + 1);
        for event in events {
            let line = Line {
                at: &at,
                outcome,
                reason,
                event,
            };
            serde_json::to_writer(&mut lines, &line).map_err(io::Error::other)?;
            lines.push(b'\n');
        }
        private_fs::create_private_dir(&self.dir)?;
        let path = self.dir.join(FILE);
        let size = std::fs::metadata(&path).map_or(0, |meta| meta.len());
        if size + lines.len() as u64 > self.max_bytes {
            let lock = private_fs::LockFile::acquire(&self.dir, LOCK, LOCK_WAIT)?;
            if lock.is_ok() {
                return self.rotate(&path, lines);
            }
        }
        let mut file = private_fs::owner_only()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        if !ends_a_line(&mut file)? {
            // A writer killed in the middle of its append (a write of several pages can
            // stop part-way) left a torn last line. Starting on a line of our own keeps
            // the torn one alone, where the reader skips it; written straight after it,
            // our first line would be glued to it and skipped too.
            lines.insert(0, b'\n');
        }
        file.write_all(&lines)
    }

    /// Rewrites the log as its newest part plus `lines`, at most half the bound.
    fn rotate(&self, path: &Path, lines: Vec<u8>) -> io::Result<()> {
        let mut all = private_fs::read_if_present(path)?.unwrap_or_default();
        if all.last().is_some_and(|byte| *byte != b'\n') {
            all.push(b'\n');
        }
        all.extend_from_slice(&lines);
        let keep = (self.max_bytes / 2) as usize;
        if all.len() > keep {
            let mut cut = all.len() - keep;
            // Start at a line: after the first newline at or past the cut.
            match all[cut - 1..].iter().position(|byte| *byte == b'\n') {
                Some(offset) => cut += offset,
                None => cut = all.len(),
            }
            all.drain(..cut);
        }
        private_fs::write_atomic(&self.dir, FILE, &all)
    }
}

/// Whether `file` is empty or ends with a line end.
fn ends_a_line(file: &mut std::fs::File) -> io::Result<bool> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    let mut last = [0u8];
    file.seek(SeekFrom::End(-1))?;
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// The lines of the log in `cache_dir`, oldest first; unparsable lines are skipped.
pub(crate) fn read(cache_dir: &Path) -> io::Result<Vec<LoggedEvent>> {
    let Some(text) = crate::fs::read_if_present(&cache_dir.join(FILE))? else {
        return Ok(Vec::new());
    };
    Ok(text
        .split(|byte| *byte == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect())
}

/// The newest line of the log in `cache_dir`, for the status.
pub(crate) fn last(cache_dir: &Path) -> Option<LastSent> {
    let logged = read(cache_dir).ok()?.pop()?;
    Some(LastSent {
        at: logged.at,
        outcome: logged.outcome,
    })
}

/// Deletes the log in `cache_dir` (for `disable`).
pub(crate) fn remove(cache_dir: &Path) {
    let _ = std::fs::remove_file(cache_dir.join(FILE));
    let _ = std::fs::remove_file(cache_dir.join(LOCK));
}

/// The sink of local-only mode: takes every batch and sends nothing. Not durable, so
/// nothing is ever spooled; the delivery logs each batch as `local`.
pub(crate) struct LocalOnly;

impl Sink for LocalOnly {
    fn send(&mut self, _batch: &Batch) -> Result<(), SinkError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Context, NameVersion};

    fn event(name: &str) -> Event {
        let nv = |name: &str| NameVersion {
            name: name.into(),
            version: "1".into(),
        };
        Event {
            kind: "track".into(),
            event: name.into(),
            message_id: "m".into(),
            anonymous_id: "a".into(),
            timestamp: "2026-11-22T01:02:03.456Z".into(),
            context: Context {
                library: nv("app"),
                telemetry: nv("telemetry"),
                os: nv("linux"),
                arch: "x86_64".into(),
                cpu: 1,
                ci_run: false,
                exec_info: Vec::new(),
                session_id: "s".into(),
            },
            properties: serde_json::Map::new(),
        }
    }

    #[test]
    fn lines_round_trip_with_outcome_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let log = LocalLog::new(dir.path());
        log.record(LogOutcome::Sent, None, &[event("a"), event("b")]);
        log.record(LogOutcome::Dropped, Some("rejected"), &[event("c")]);
        let read = read(dir.path()).unwrap();
        let names: Vec<_> = read.iter().map(|l| l.event.event.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(read[2].outcome, LogOutcome::Dropped);
        assert_eq!(read[2].reason.as_deref(), Some("rejected"));
        let last = last(dir.path()).unwrap();
        assert_eq!(last.outcome, LogOutcome::Dropped);
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["outcome"], "sent");
        assert!(first["reason"].is_null());
        assert_eq!(first["event"]["event"], "a");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        remove(dir.path());
        assert!(read_empty(dir.path()));
    }

    fn read_empty(dir: &Path) -> bool {
        read(dir).unwrap().is_empty()
    }

    #[test]
    fn bounded_keeping_the_newest_half() {
        let dir = tempfile::tempdir().unwrap();
        let log = LocalLog::with_max(dir.path(), 8 * 1024);
        for index in 0..200 {
            log.record(LogOutcome::Sent, None, &[event(&format!("e{index}"))]);
            let size = std::fs::metadata(dir.path().join(FILE)).unwrap().len();
            assert!(size <= 8 * 1024, "{size}");
        }
        let read = read(dir.path()).unwrap();
        assert!(!read.is_empty());
        assert_eq!(read.last().unwrap().event.event, "e199");
        // Consecutive, newest kept: no torn or missing line in between.
        let first: usize = read[0].event.event[1..].parse().unwrap();
        assert_eq!(read.len(), 200 - first);
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(text.lines().count(), read.len());
    }

    #[test]
    fn a_torn_last_line_stays_alone() {
        let dir = tempfile::tempdir().unwrap();
        let log = LocalLog::new(dir.path());
        log.record(LogOutcome::Sent, None, &[event("a")]);
        // A writer killed part-way through its append.
        let path = dir.path().join(FILE);
        let mut text = std::fs::read(&path).unwrap();
        let whole = text.len();
        text.extend_from_within(..whole / 2);
        std::fs::write(&path, &text).unwrap();
        log.record(LogOutcome::Sent, None, &[event("b")]);
        let names: Vec<_> = read(dir.path())
            .unwrap()
            .into_iter()
            .map(|line| line.event.event)
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_missing_log_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_empty(&dir.path().join("nowhere")));
        assert!(last(dir.path()).is_none());
    }
}
