//! The file sink: every event as one JSON line appended to a file.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::PathBuf;

use super::{Sink, SinkError};
use crate::event::Batch;

/// Appends each event as one JSON line to a file (created if missing).
///
/// Useful for auditing, for air-gapped installs that ship the file elsewhere, and for
/// tests. A batch is written with a single `write` call, so lines from several
/// processes appending to the same file do not interleave within a line.
///
/// ```
/// let path = std::env::temp_dir().join("telemetry-events.jsonl");
/// let config = telemetry::Config::new("demo", "1.0.0").sink(telemetry::sink::FileSink::new(path));
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct FileSink {
    path: PathBuf,
}

impl FileSink {
    /// A sink appending to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileSink { path: path.into() }
    }
}

impl Sink for FileSink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut out = Vec::new();
        for event in &batch.batch {
            serde_json::to_writer(&mut out, event)
                .map_err(|error| SinkError::drop(error.to_string()))?;
            out.push(b'\n');
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|error| SinkError::retry(format!("{}: {error}", self.path.display())))?;
        file.write_all(&out)
            .map_err(|error| SinkError::retry(format!("{}: {error}", self.path.display())))
    }
}
