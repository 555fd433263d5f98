//! Where batches go: the [`Sink`] trait and the sinks that come with the library.
//!
//! - [`HttpSink`]: Segment-compatible HTTP batch delivery (the default when an endpoint
//!   is configured);
//! - [`OtlpSink`]: OpenTelemetry traces over OTLP/HTTP (JSON), to your own collector;
//! - [`PostHogSink`]: PostHog's batch capture API;
//! - [`DebugSink`]: one JSON line per event on stderr, nothing sent (`<APP>_TELEMETRY_DEBUG`);
//! - [`FileSink`]: one JSON line per event appended to a file;
//! - your own: implement [`Sink`].
//!
//! A sink other than the default is given to [`Config::sink`](crate::Config::sink):
//!
//! ```
//! # #[cfg(feature = "enabled")] {
//! use telemetry::sink::{OtlpSink, PostHogSink};
//!
//! let config = telemetry::Config::new("minietl", "1.2.3");
//! let config = match std::env::var("POSTHOG_API_KEY") {
//!     // PostHog: its batch capture API, <host>/batch/, with the project API key.
//!     Ok(key) => config.sink(PostHogSink::new("https://eu.i.posthog.com", key)),
//!     // OpenTelemetry: traces over OTLP/HTTP (JSON), POSTed to <endpoint>/v1/traces.
//!     Err(_) => config.sink(
//!         OtlpSink::new("https://otel-collector.example.com:4318")
//!             .header("Authorization", "Bearer COLLECTOR_TOKEN"),
//!     ),
//! };
//! // let _telemetry = telemetry::init(config);
//! # let _ = config;
//! # }
//! ```

mod debug;
#[cfg(feature = "enabled")]
pub(crate) mod endpoint;
mod file;
#[cfg(feature = "enabled")]
mod http;
#[cfg(feature = "enabled")]
mod otlp;
#[cfg(feature = "enabled")]
mod post;
#[cfg(feature = "enabled")]
mod posthog;

pub use debug::DebugSink;
pub use file::FileSink;
#[cfg(feature = "enabled")]
pub(crate) use http::tls_problem;
#[cfg(feature = "enabled")]
pub use http::HttpSink;
#[cfg(feature = "enabled")]
pub use otlp::OtlpSink;
#[cfg(feature = "enabled")]
pub use posthog::PostHogSink;

use std::fmt;
use std::time::Duration;

use crate::event::Batch;

/// A destination for batches of events.
///
/// The worker thread calls [`send`](Sink::send) with each batch; it may block (the
/// caller's threads never wait on it), but should bound its own time. Return an error
/// to say whether the batch may be retried.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use telemetry::{Batch, Event, Sink, SinkError};
///
/// /// Keeps every event in memory, for a test or an in-process dashboard.
/// #[derive(Clone, Default)]
/// struct Memory(Arc<Mutex<Vec<Event>>>);
///
/// impl Sink for Memory {
///     fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
///         self.0.lock().unwrap().extend(batch.batch.iter().cloned());
///         Ok(())
///     }
/// }
///
/// let memory = Memory::default();
/// let config = telemetry::Config::new("demo", "1.0.0").sink(memory.clone());
/// # let _ = config;
/// ```
pub trait Sink: Send + 'static {
    /// Delivers one batch.
    ///
    /// ```
    /// use telemetry::{Batch, Sink};
    /// let mut sink = telemetry::sink::DebugSink::new();
    /// let empty = Batch { batch: Vec::new(), sent_at: "2026-11-22T01:02:03.500Z".into() };
    /// assert!(sink.send(&empty).is_ok());
    /// ```
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError>;

    /// Whether batches this sink fails to deliver should be kept on disk and sent by a
    /// later run (the spool). `true` for network sinks; the default is `false`.
    ///
    /// ```
    /// use telemetry::Sink;
    /// assert!(!telemetry::sink::DebugSink::new().durable());
    /// ```
    fn durable(&self) -> bool {
        false
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        (**self).send(batch)
    }

    fn durable(&self) -> bool {
        (**self).durable()
    }
}

/// Why a sink could not deliver a batch, and what to do about it.
///
/// ```
/// use telemetry::sink::Action;
/// let error = telemetry::SinkError::retry("connection reset");
/// assert_eq!(error.action(), Action::Retry(None));
/// assert_eq!(error.to_string(), "connection reset");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkError {
    action: Action,
    message: String,
}

/// What the worker does with a batch its sink refused.
///
/// ```
/// use telemetry::sink::Action;
/// assert_eq!(telemetry::SinkError::stop("410 Gone").action(), Action::Stop);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Try again later (network errors, 5xx, 429), after at least the given delay if any.
    Retry(Option<Duration>),
    /// Drop the batch (the receiver rejected it: other 4xx).
    Drop,
    /// The receiver is gone for good (`410 Gone`): stop sending from this installation.
    Stop,
    /// The batch is too large for the receiver (`413`): send it again in halves; a
    /// single event still too large is dropped.
    Split,
}

impl SinkError {
    /// A transient failure: the batch is retried later.
    ///
    /// ```
    /// let error = telemetry::SinkError::retry("connection refused");
    /// assert_eq!(error.action(), telemetry::sink::Action::Retry(None));
    /// ```
    pub fn retry(message: impl Into<String>) -> Self {
        SinkError {
            action: Action::Retry(None),
            message: message.into(),
        }
    }

    /// A transient failure with a delay asked for by the receiver (`Retry-After`).
    ///
    /// ```
    /// use std::time::Duration;
    /// let error = telemetry::SinkError::retry_after("429", Duration::from_secs(3));
    /// assert_eq!(error.action(), telemetry::sink::Action::Retry(Some(Duration::from_secs(3))));
    /// ```
    pub fn retry_after(message: impl Into<String>, delay: Duration) -> Self {
        SinkError {
            action: Action::Retry(Some(delay)),
            message: message.into(),
        }
    }

    /// A permanent rejection of this batch: it is dropped and counted.
    ///
    /// ```
    /// let error = telemetry::SinkError::drop("400 Bad Request");
    /// assert_eq!(error.action(), telemetry::sink::Action::Drop);
    /// ```
    pub fn drop(message: impl Into<String>) -> Self {
        SinkError {
            action: Action::Drop,
            message: message.into(),
        }
    }

    /// The batch is too large for the receiver: it is sent again in halves.
    ///
    /// ```
    /// let error = telemetry::SinkError::too_large("413 Payload Too Large");
    /// assert_eq!(error.action(), telemetry::sink::Action::Split);
    /// ```
    pub fn too_large(message: impl Into<String>) -> Self {
        SinkError {
            action: Action::Split,
            message: message.into(),
        }
    }

    /// The receiver retired this endpoint: stop sending from this installation.
    ///
    /// ```
    /// let error = telemetry::SinkError::stop("410 Gone");
    /// assert_eq!(error.action(), telemetry::sink::Action::Stop);
    /// ```
    pub fn stop(message: impl Into<String>) -> Self {
        SinkError {
            action: Action::Stop,
            message: message.into(),
        }
    }

    /// What the worker should do with the batch.
    ///
    /// ```
    /// use telemetry::sink::Action;
    /// assert_eq!(telemetry::SinkError::drop("400").action(), Action::Drop);
    /// ```
    pub fn action(&self) -> Action {
        self.action
    }

    /// A short description, printed in debug mode only.
    ///
    /// ```
    /// assert_eq!(telemetry::SinkError::drop("HTTP 400").message(), "HTTP 400");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SinkError {}
