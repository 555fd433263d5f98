//! A sink that keeps every event it is given, for tests that start telemetry in their
//! own process and read back what the worker delivered.

use std::sync::{Arc, Mutex};

use telemetry::{Batch, Event, Sink, SinkError};

/// Keeps every delivered event in the shared vector.
pub struct Capture(pub Arc<Mutex<Vec<Event>>>);

impl Sink for Capture {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.0.lock().unwrap().extend(batch.batch.iter().cloned());
        Ok(())
    }
}
