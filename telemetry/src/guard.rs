//! [`Guard`]: returned by `init`; flushes with a bounded deadline when dropped.

use std::time::{Duration, Instant};

use crate::status::Status;

/// Keeps telemetry running; dropping it flushes (waiting at most the configured
/// `flush_timeout`) and stops the worker.
///
/// Keep it alive for the whole of `main`: `let _telemetry = telemetry::init(..)`.
/// (Binding it to `_` would drop it at once.)
///
/// ```
/// let guard = telemetry::init(telemetry::Config::new("demo", "1.0").enabled(false));
/// assert!(!guard.is_enabled());
/// println!("telemetry: {}", guard.status().source);
/// ```
#[must_use = "dropping the guard stops telemetry; bind it with `let _telemetry = ...`"]
#[derive(Debug)]
pub struct Guard {
    status: Status,
    flush_timeout: Duration,
    owns_runtime: bool,
    /// When `init` returned it, for the debug diagnostic of a guard dropped at once.
    created: Instant,
}

impl Guard {
    pub(crate) fn new(status: Status, flush_timeout: Duration, owns_runtime: bool) -> Self {
        Guard {
            status,
            flush_timeout,
            owns_runtime,
            created: Instant::now(),
        }
    }

    /// Whether telemetry is on for this run, which source decided, and any problem with
    /// the configuration or state.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// Whether events are being recorded and sent.
    pub fn is_enabled(&self) -> bool {
        self.status.enabled
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.owns_runtime {
            crate::imp::shutdown(self.flush_timeout);
            crate::imp::guard_dropped(self.created.elapsed());
        }
    }
}
