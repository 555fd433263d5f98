//! Anonymous usage telemetry done right, for Rust command-line tools and data pipelines.
//!
//! Annotate handlers with [`#[tracked_command]`](tracked_command) and pipeline steps with
//! [`#[tracked_step]`](tracked_step); call [`init`] at the top of `main`. Each call then
//! records its elapsed time, whether it succeeded, and its arguments as keyed one-way
//! hashes. Events go through one bounded channel to a background worker that batches and
//! delivers them (Segment-compatible HTTP by default), without ever blocking the caller
//! or holding the exit longer than a small bound. Users opt out with `DO_NOT_TRACK`,
//! `<APP>_TELEMETRY_DISABLED`, the host's own flag, or a saved choice; and a build
//! without the `enabled` feature contains no telemetry code at all.
//!
//! ```no_run
//! use telemetry::{tracked_command, tracked_step};
//!
//! #[derive(Debug)]
//! struct Error;
//! impl std::fmt::Display for Error {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("error") }
//! }
//!
//! #[tracked_command(record(destination), hash(source))]
//! fn init(source: &str, destination: &str) -> Result<(), Error> {
//!     load_rows("events", vec![1, 2, 3])?;
//!     Ok(())
//! }
//!
//! #[tracked_step(name = "load", skip(rows))]
//! fn load_rows(table: &str, rows: Vec<u32>) -> Result<usize, Error> {
//!     Ok(rows.len())
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let _telemetry = telemetry::init(
//!         telemetry::Config::new("minietl", env!("CARGO_PKG_VERSION"))
//!             .endpoint("https://collector.example.com/v1/batch")
//!             .write_key("WRITE_KEY"),
//!     );
//!     match init("s3://bucket/data", "duckdb") {
//!         Ok(()) => std::process::ExitCode::SUCCESS,
//!         Err(_) => std::process::ExitCode::FAILURE,
//!     }
//! }
//! ```
//!
//! # Walkthrough
//!
//! **Initialise.** [`init`] takes a [`Config`] (app name and version, endpoint, write key,
//! the host's own opt-out through [`Config::enabled`], [`Config::flush_timeout`], a
//! custom [`Sink`], a state directory) and returns a [`Guard`]. It never fails and never
//! waits on the network; a problem turns telemetry off and shows in [`Guard::status`].
//!
//! **Annotate.** [`#[tracked_command]`](tracked_command) and
//! [`#[tracked_step]`](tracked_step) record `elapsed`, `success` (through [`Outcome`]),
//! `error.kind`, and the arguments: hashed by default, left out with `skip(..)` or
//! `skip_all`, sent as they are with `record(..)`. Panics, early returns, `?` and
//! cancelled futures are all recorded. Steps carry their command's invocation id. A step
//! called more than [`Config::event_budget`] times is folded into aggregate events. Code
//! that cannot take an attribute uses [`command!`] and [`step!`]; rare one-off events use
//! [`track`].
//!
//! **Consent.** `DO_NOT_TRACK`, `<APP>_TELEMETRY_DISABLED`, the host's
//! [`Config::enabled`], and the user's saved choice ([`enable`], [`disable`]) are checked
//! first, in that order; [`status()`] tells which one decided. A disabled run creates no
//! file, starts no thread, hashes nothing and opens no socket. The first enabled run
//! prints a notice on stderr. With the `clap` feature, `cli` has a ready
//! `telemetry status | enable | disable | local | level | log | events` subcommand.
//!
//! **Local first.** [`sent_log`] shows what was sent (or dropped, and why);
//! [`set_local`] records without sending until the user opts in; [`Level`] (`off <
//! errors < usage`) limits what is sent; [`Config::sample_rate`] sends from a fraction of
//! installations.
//!
//! **Privacy.** The anonymous id and session id are random UUIDs. Arguments are hashed
//! with a keyed BLAKE3 whose key never leaves the machine (encoding: [`ArgHasher`]).
//! Opt-in error messages ([`Config::error_messages`]) are scrubbed of paths, names, URLs
//! with credentials and tokens. Endpoints must be `https://` (loopback excepted).
//!
//! **Delivery.** One bounded channel, one worker, batches to a Segment-compatible
//! endpoint ([`sink::HttpSink`]), or to [`sink::DebugSink`] (`<APP>_TELEMETRY_DEBUG`),
//! [`sink::FileSink`], an OpenTelemetry collector ([`sink::OtlpSink`]), PostHog
//! ([`sink::PostHogSink`]) or your own [`Sink`]. Retries with back-off, a cross-process
//! back-off when offline, `410 Gone` honoured, and at exit a wait of at most
//! `flush_timeout`, after which undelivered events go to a disk spool that the next run
//! sends. [`flush`] does the same for programs that leave through `std::process::exit`.
//!
//! **Transparency.** [`catalog()`] lists every event the program can send; its Markdown
//! form is a ready "what we collect" page.
//!
//! **Compile it out.** With `default-features = false` the attributes return the function
//! as written and this API becomes no-ops with the same signatures.
//!
//! See the README for the event format field by field, every environment variable, and
//! how to send events to your own receiver.

// The sink API is behind `json` (part of `enabled`): a build without it (compiled out)
// documents the links above as links to the full documentation.
#![cfg_attr(
    not(feature = "json"),
    doc = "",
    doc = "[`Sink`]: https://docs.rs/cli-telemetry/latest/telemetry/trait.Sink.html",
    doc = "[`sink::HttpSink`]: https://docs.rs/cli-telemetry/latest/telemetry/sink/struct.HttpSink.html",
    doc = "[`sink::DebugSink`]: https://docs.rs/cli-telemetry/latest/telemetry/sink/struct.DebugSink.html",
    doc = "[`sink::FileSink`]: https://docs.rs/cli-telemetry/latest/telemetry/sink/struct.FileSink.html",
    doc = "[`sink::OtlpSink`]: https://docs.rs/cli-telemetry/latest/telemetry/sink/struct.OtlpSink.html",
    doc = "[`sink::PostHogSink`]: https://docs.rs/cli-telemetry/latest/telemetry/sink/struct.PostHogSink.html",
    doc = "[`sent_log`]: https://docs.rs/cli-telemetry/latest/telemetry/fn.sent_log.html"
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
// Without `enabled`, the internals that only keep public signatures alive go unused.
#![cfg_attr(not(feature = "enabled"), allow(dead_code, unused_imports))]

// The public surface: the same items, with the same signatures, whether telemetry is
// compiled in or out.
mod callsite;
mod catalog;
mod choice;
mod config;
mod error_kind;
#[cfg(feature = "json")]
mod event;
mod guard;
mod hash;
mod manual;
mod outcome;
mod source;
mod status;
// Local-first transparency: levels, the local log, local-only mode.
mod level;
mod transparency;

#[cfg(feature = "json")]
pub mod sink;

#[cfg(feature = "clap")]
pub mod cli;

/// The one switch between the real private API and its no-op twin.
mod imp;

// What runs only when telemetry is compiled in, in the order a record flows: consent
// decides, the caller's thread records, the worker builds events, the delivery sends
// them; `fs` and `diag` serve all of them.
#[cfg(feature = "enabled")]
mod call;
#[cfg(feature = "enabled")]
mod consent;
#[cfg(feature = "enabled")]
mod delivery;
#[cfg(feature = "enabled")]
mod diag;
#[cfg(feature = "enabled")]
mod fs;
#[cfg(feature = "enabled")]
mod time;
#[cfg(feature = "enabled")]
mod worker;

#[doc(hidden)]
#[cfg(feature = "enabled")]
#[path = "private.rs"]
pub mod __private;

pub use callsite::{ArgMode, ArgSpec, Callsite, Category};
pub use catalog::{catalog, Catalog, CONTEXT_FIELDS};
pub use choice::{
    disable, disable_flag, enable, set_level, set_local, take_disable_flag, DISABLE_FLAG,
};
pub use config::{Config, DEFAULT_EVENT_BUDGET, DEFAULT_FLUSH_TIMEOUT};
pub use error_kind::{io_error_kind, io_kind_name, ErrorKind};
#[cfg(feature = "json")]
pub use event::{Batch, Context, Event, NameVersion};
pub use guard::Guard;
pub use hash::{ArgHasher, HashArg};
pub use manual::Call;
pub use outcome::Outcome;
#[cfg(feature = "json")]
pub use sink::{Sink, SinkError};
pub use source::{parse_bool, Source};
pub use status::Status;
// Local-first transparency.
pub use level::Level;
#[cfg(feature = "json")]
pub use transparency::{sent_log, LoggedEvent};
pub use transparency::{LastSent, LogOutcome};

pub use telemetry_macros::tracked_command;

pub use telemetry_macros::tracked_step;

/// Starts telemetry for this process and returns the [`Guard`] that flushes it at exit.
///
/// Decides consent first (see the README's precedence table): when telemetry is off,
/// nothing else happens: no file, no thread, no hashing, no socket. When it is on, it
/// reads or creates the state file, prints the one-time notice on stderr, and starts
/// the background worker. It never fails, never panics and never waits on the network;
/// a bad configuration turns telemetry off and is reported by
/// [`Guard::status`] (and on stderr in debug mode).
///
/// Call it once, at the top of `main`. A second call changes nothing.
///
/// ```
/// let guard = telemetry::init(
///     telemetry::Config::new("demo", "1.0.0")
///         .endpoint("https://collector.example.com/v1/batch")
///         .enabled(false), // e.g. the host's --disable-telemetry flag
/// );
/// assert!(!guard.is_enabled());
/// ```
pub fn init(config: Config) -> Guard {
    imp::init(config)
}

/// Waits, at most the configured `flush_timeout`, until everything recorded so far is
/// delivered. For programs that leave through `std::process::exit`, which skips the
/// guard's drop.
///
/// ```
/// telemetry::flush(); // returns at once when telemetry is off
/// ```
pub fn flush() {
    imp::flush();
}

/// Sends a custom event through the same pipeline: `properties` is any serializable
/// value (an object's fields become the event's properties; anything else is sent under
/// `value`). The event's `event_category` is `custom`.
///
/// Unlike tracked calls, this serializes on the caller's thread: it is for rare events,
/// not hot loops. Send only what identifies nobody.
///
/// ```
/// telemetry::track("export_finished", serde_json::json!({"format": "parquet", "files": 3}));
/// ```
pub fn track<P: serde::Serialize>(event: &str, properties: P) {
    imp::track(event, properties);
}

/// What [`init`] would decide for `config`, without starting anything or writing any
/// file: whether telemetry is on, which source decided, where the state lives, the
/// anonymous id and the user's saved choice. For `<tool> telemetry status`.
///
/// Unlike `init`, it reads the state file even when the environment or the host already
/// said no, so the user sees their saved choice and id; it never creates or changes it.
/// A missing state file shows as no anonymous id yet (the first enabled run creates it).
///
/// ```
/// std::env::set_var("DO_NOT_TRACK", "1");
/// let status = telemetry::status(&telemetry::Config::new("demo", "1.0"));
/// assert!(!status.enabled);
/// # #[cfg(feature = "enabled")]
/// assert_eq!(status.source, telemetry::Source::DoNotTrack);
/// # std::env::remove_var("DO_NOT_TRACK");
/// ```
pub fn status(config: &Config) -> Status {
    imp::status(config)
}
