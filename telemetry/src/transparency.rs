//! Local-first transparency: the log of what was sent or dropped ([`sent_log`]), and what
//! [`Status`](crate::Status) shows of it. The choices that go with it (local-only mode,
//! the level) are saved like the others, in `choice`.

use std::io;

#[cfg(feature = "json")]
use serde::{Deserialize, Serialize};

use crate::config::Config;
#[cfg(feature = "json")]
use crate::event::Event;

/// What happened to an event in the local log (`sent_log`).
///
/// ```
/// assert_eq!(telemetry::LogOutcome::Local.as_str(), "local");
/// # #[cfg(feature = "json")] {
/// let outcome: telemetry::LogOutcome = serde_json::from_str("\"sent\"").unwrap();
/// assert_eq!(outcome, telemetry::LogOutcome::Sent);
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "json",
    derive(Serialize, Deserialize),
    serde(rename_all = "lowercase")
)]
#[non_exhaustive]
pub enum LogOutcome {
    /// The receiver accepted the batch holding it (a 2xx, or a sink's `Ok`).
    Sent,
    /// It was given up on; `reason` says why (rejected by the receiver, recorded before
    /// the user opted in, below the level, ...).
    Dropped,
    /// Local-only mode: recorded here and never sent.
    Local,
}

impl LogOutcome {
    /// `sent`, `dropped` or `local`, as written in the log.
    ///
    /// ```
    /// assert_eq!(telemetry::LogOutcome::Dropped.as_str(), "dropped");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            LogOutcome::Sent => "sent",
            LogOutcome::Dropped => "dropped",
            LogOutcome::Local => "local",
        }
    }
}

/// One line of the local log: `{"at": ..., "outcome": ..., "reason": ..., "event": {...}}`.
///
/// ```
/// let line = r#"{"at":"2026-11-22T01:02:03.500Z","outcome":"dropped","reason":"rejected by the receiver","event":{
///   "type": "track", "event": "command_init", "messageId": "m", "anonymousId": "a",
///   "timestamp": "2026-11-22T01:02:03.456Z",
///   "context": {"library": {"name": "minietl", "version": "1.2.3"},
///     "telemetry": {"name": "telemetry", "version": "0.1.0"},
///     "os": {"name": "linux", "version": "6.1"}, "arch": "x86_64", "cpu": 8,
///     "ci_run": false, "exec_info": [], "session_id": "s"},
///   "properties": {"event_category": "command", "event_name": "init", "success": true}}}"#;
/// let logged: telemetry::LoggedEvent = serde_json::from_str(line).unwrap();
/// assert_eq!(logged.outcome, telemetry::LogOutcome::Dropped);
/// assert_eq!(logged.event.event, "command_init");
/// ```
#[cfg(feature = "json")]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoggedEvent {
    /// When the outcome happened (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// What happened to the event.
    pub outcome: LogOutcome,
    /// Why, for dropped events.
    pub reason: Option<String>,
    /// The event, exactly as it was (or would have been) sent.
    pub event: Event,
}

/// The newest line of the local log, as [`Status::last_sent`](crate::Status::last_sent) shows it.
///
/// ```
/// let status = telemetry::status(&telemetry::Config::new("demo", "1.0").enabled(false));
/// if let Some(last) = &status.last_sent {
///     println!("{} {}", last.at, last.outcome.as_str());
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LastSent {
    /// When (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// Whether the batch was accepted (`Sent`), given up on (`Dropped`: the reason is in
    /// the log) or only recorded (`Local`).
    pub outcome: LogOutcome,
}

#[cfg(feature = "json")]
/// The local log of the last events delivered, dropped (with why) or, in local-only
/// mode, recorded: oldest first. For hosts without the `clap` subcommand (`<tool>
/// telemetry log`).
///
/// The log is `sent.jsonl` in the cache directory (beside the spool: on Linux
/// `~/.cache/<app>-telemetry/`, or [`Config::cache_dir`]), readable by its owner only,
/// one JSON line per event, written by the worker thread once the sink answered, and
/// bounded to 256 KiB (past that, the oldest half is dropped). [`disable`](crate::disable)
/// deletes it. A missing log is an empty list; lines that cannot be parsed are skipped.
/// Built without the `enabled` feature, it is always empty.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let config = telemetry::Config::new("demo", "1.0").state_dir(dir.path());
/// for logged in telemetry::sent_log(&config)? {
///     println!("{} {} {}", logged.at, logged.event.event, logged.outcome.as_str());
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sent_log(config: &Config) -> io::Result<Vec<LoggedEvent>> {
    crate::imp::sent_log(config)
}
