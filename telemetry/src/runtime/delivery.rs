//! Hands batches to the sink and decides what happens to those it refuses.

use std::time::{Duration, Instant, SystemTime};

use crate::event::{Batch, Event};
use crate::sink::{Action, Sink};

/// First and largest pause after a failed delivery.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Events kept in memory for a retry; older ones are dropped (and counted) beyond it.
const MAX_RETAINED: usize = 1_000;

/// Delivers batches through a sink, keeping refused-but-retryable events for later.
pub(crate) struct Delivery {
    sink: Box<dyn Sink>,
    /// Events waiting for a retry, oldest first.
    retained: Vec<Event>,
    retry_at: Option<Instant>,
    backoff: Duration,
    /// Set by `410 Gone`: nothing more is sent by this process.
    stopped: bool,
    /// Events given up on (rejected, or beyond the retry buffer).
    pub(crate) lost: u64,
}

impl Delivery {
    pub(crate) fn new(sink: Box<dyn Sink>, spool_dir: Option<std::path::PathBuf>) -> Self {
        let _ = spool_dir;
        Delivery {
            sink,
            retained: Vec::new(),
            retry_at: None,
            backoff: FIRST_BACKOFF,
            stopped: false,
            lost: 0,
        }
    }

    /// Delivers `events` (after any retained ones) in batches of `batch_size`.
    pub(crate) fn deliver(&mut self, events: Vec<Event>, batch_size: usize, _at_exit: bool) {
        if self.stopped {
            self.lost += events.len() as u64;
            return;
        }
        self.retained.extend(events);
        self.send_retained(batch_size);
    }

    /// Sends retained events now if their back-off has passed.
    pub(crate) fn retry_now(&mut self, batch_size: usize) {
        if !self.retained.is_empty() {
            self.send_retained(batch_size);
        }
    }

    fn send_retained(&mut self, batch_size: usize) {
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            self.trim();
            return;
        }
        while !self.retained.is_empty() {
            let take = self.retained.len().min(batch_size.max(1));
            let batch = Batch {
                batch: self.retained.drain(..take).collect(),
                sent_at: super::builder::timestamp(SystemTime::now()),
            };
            match self.sink.send(&batch) {
                Ok(()) => {
                    self.retry_at = None;
                    self.backoff = FIRST_BACKOFF;
                }
                Err(error) => {
                    crate::diag::debug(format_args!("delivery failed: {error}"));
                    match error.action() {
                        Action::Retry(after) => {
                            let pause = after.unwrap_or(self.backoff).min(MAX_BACKOFF * 10);
                            self.retry_at = Some(Instant::now() + pause);
                            self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                            let mut kept = batch.batch;
                            kept.append(&mut self.retained);
                            self.retained = kept;
                            self.trim();
                            return;
                        }
                        Action::Drop => self.lost += batch.batch.len() as u64,
                        Action::Stop => {
                            self.lost += (batch.batch.len() + self.retained.len()) as u64;
                            self.retained.clear();
                            self.stopped = true;
                            return;
                        }
                    }
                }
            }
        }
    }

    fn trim(&mut self) {
        if self.retained.len() > MAX_RETAINED {
            let excess = self.retained.len() - MAX_RETAINED;
            self.retained.drain(..excess);
            self.lost += excess as u64;
        }
    }
}
