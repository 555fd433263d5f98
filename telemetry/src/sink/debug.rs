//! The debug sink: every event as one JSON line on stderr, nothing sent.

use std::io::Write as _;

use super::{Sink, SinkError};
use crate::event::Batch;

/// Prints each event as one JSON line on stderr and sends nothing.
///
/// Chosen automatically when `<APP>_TELEMETRY_DEBUG` is true, so a user can see exactly
/// what would be sent. Never writes to stdout.
///
/// ```
/// let config = telemetry::Config::new("demo", "1.0.0").sink(telemetry::sink::DebugSink::new());
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DebugSink {
    _private: (),
}

impl DebugSink {
    /// A debug sink.
    pub fn new() -> Self {
        DebugSink { _private: () }
    }
}

impl Sink for DebugSink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut out = Vec::new();
        for event in &batch.batch {
            if serde_json::to_writer(&mut out, event).is_ok() {
                out.push(b'\n');
            }
        }
        // One write per batch, so lines from other threads do not interleave with ours.
        let mut stderr = std::io::stderr().lock();
        stderr
            .write_all(&out)
            .and_then(|()| stderr.flush())
            .map_err(|error| SinkError::drop(format!("stderr: {error}")))
    }
}
