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
//! first, in that order; [`status`] tells which one decided. A disabled run creates no
//! file, starts no thread, hashes nothing and opens no socket. The first enabled run
//! prints a notice on stderr. With the `clap` feature, `cli` has a ready
//! `telemetry status | enable | disable | events` subcommand.
//!
//! **Privacy.** The anonymous id and session id are random UUIDs. Arguments are hashed
//! with a keyed BLAKE3 whose key never leaves the machine (encoding: [`ArgHasher`]).
//! Opt-in error messages ([`Config::error_messages`]) are scrubbed of paths, names, URLs
//! with credentials and tokens. Endpoints must be `https://` (loopback excepted).
//!
//! **Delivery.** One bounded channel, one worker, batches to a Segment-compatible
//! endpoint ([`sink::HttpSink`]), or to [`sink::DebugSink`] (`<APP>_TELEMETRY_DEBUG`),
//! [`sink::FileSink`] or your own [`Sink`]. Retries with back-off, a cross-process
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
    doc = "[`sink::FileSink`]: https://docs.rs/cli-telemetry/latest/telemetry/sink/struct.FileSink.html"
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
// Without `enabled`, the internals that only keep public signatures alive go unused.
#![cfg_attr(not(feature = "enabled"), allow(dead_code, unused_imports))]

mod callsite;
mod catalog;
mod choice;
mod config;
mod consent;
#[cfg(feature = "json")]
mod event;
mod guard;
mod hash;
mod manual;
mod outcome;
mod status;

#[cfg(feature = "json")]
pub mod sink;

#[cfg(feature = "clap")]
pub mod cli;

#[cfg(feature = "enabled")]
mod clock;
#[cfg(feature = "enabled")]
mod context;
#[cfg(feature = "enabled")]
mod diag;
#[cfg(feature = "enabled")]
mod endpoint;
#[cfg(feature = "enabled")]
mod init;
#[cfg(feature = "enabled")]
mod invocation;
#[cfg(feature = "enabled")]
mod notice;
#[cfg(feature = "enabled")]
mod owner_only;
#[cfg(feature = "enabled")]
mod recorder;
#[cfg(feature = "enabled")]
mod runtime;
#[cfg(feature = "enabled")]
mod scrub;
#[cfg(feature = "enabled")]
mod state;

#[doc(hidden)]
#[cfg(feature = "enabled")]
#[path = "private.rs"]
pub mod __private;

pub use callsite::{ArgMode, ArgSpec, Callsite, Category};
pub use catalog::{catalog, Catalog, CONTEXT_FIELDS};
pub use choice::{disable, disable_flag, enable, take_disable_flag, DISABLE_FLAG};
pub use config::{Config, DEFAULT_EVENT_BUDGET, DEFAULT_FLUSH_TIMEOUT};
pub use consent::{parse_bool, Source};
#[cfg(feature = "json")]
pub use event::{Batch, Context, Event, NameVersion};
pub use guard::Guard;
pub use hash::{ArgHasher, HashArg};
pub use manual::Call;
pub use outcome::Outcome;
#[cfg(feature = "json")]
pub use sink::{Sink, SinkError};
pub use status::Status;

/// A runnable example, compiled and run as a doctest of this crate:
///
/// ```
/// use telemetry::tracked_command;
///
/// #[derive(Debug)]
/// struct InitError;
///
/// #[tracked_command(hash(source), record(destination))]
/// fn init(source: &str, destination: &str) -> Result<(), InitError> {
///     if destination == "oracle" {
///         return Err(InitError); // recorded: success false, error.kind "…::InitError"
///     }
///     Ok(())
/// }
///
/// let _telemetry = telemetry::init(telemetry::Config::new("demo", "1.0").enabled(false));
/// assert!(init("s3://bucket/raw", "duckdb").is_ok());
/// assert!(init("s3://bucket/raw", "oracle").is_err());
/// ```
pub use telemetry_macros::tracked_command;

/// A runnable example, compiled and run as a doctest of this crate:
///
/// ```
/// use telemetry::{tracked_command, tracked_step};
///
/// #[tracked_step(name = "load", skip(rows))]
/// fn load_rows(table: &str, rows: Vec<u32>) -> Option<usize> {
///     (!rows.is_empty()).then(|| rows.len())
/// }
///
/// #[tracked_step(skip_all)]
/// async fn fetch(url: &str) -> Result<Vec<u32>, std::io::Error> {
///     let _ = url;
///     Ok(vec![1, 2, 3])
/// }
///
/// #[tracked_command]
/// fn run() -> bool {
///     // Steps called here carry this command's invocation id.
///     load_rows("events", vec![1, 2, 3]) == Some(3)
/// }
///
/// let _telemetry = telemetry::init(telemetry::Config::new("demo", "1.0").enabled(false));
/// assert!(run());
/// let _future = fetch("https://example.com/data"); // timed across its .awaits when polled
/// ```
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
    #[cfg(feature = "enabled")]
    {
        init::init(config)
    }
    #[cfg(not(feature = "enabled"))]
    {
        Guard::new(
            Status::off(Source::CompiledOut),
            config.flush_timeout,
            false,
        )
    }
}

/// Waits, at most the configured `flush_timeout`, until everything recorded so far is
/// delivered. For programs that leave through `std::process::exit`, which skips the
/// guard's drop.
///
/// ```
/// telemetry::flush(); // returns at once when telemetry is off
/// ```
pub fn flush() {
    #[cfg(feature = "enabled")]
    runtime::flush(init::flush_timeout());
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
    #[cfg(feature = "enabled")]
    {
        if !runtime::is_recording() {
            return;
        }
        let properties = match serde_json::to_value(properties) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(serde_json::Value::Null) | Err(_) => serde_json::Map::new(),
            Ok(other) => std::iter::once(("value".to_owned(), other)).collect(),
        };
        runtime::send(runtime::Message::Custom(runtime::CustomEvent {
            name: event.to_owned(),
            at: std::time::SystemTime::now(),
            properties,
        }));
    }
    #[cfg(not(feature = "enabled"))]
    let _ = (event, properties);
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
    #[cfg(feature = "enabled")]
    {
        init::status(config)
    }
    #[cfg(not(feature = "enabled"))]
    {
        let _ = config;
        Status::off(Source::CompiledOut)
    }
}
