//! What the worker lets through to batching: the level filter and the sample rate
//! stamped on each event. On the worker thread only: a tracked call costs the caller
//! the same at every level.

use crate::delivery::passes_level;
use crate::event::Event;
use crate::level::Level;

/// The level and sampling the worker applies to every event it builds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Policy {
    pub(crate) level: Level,
    /// Sent as `properties.sample_rate` when below 1.
    pub(crate) sample_rate: Option<f64>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            level: Level::Usage,
            sample_rate: None,
        }
    }
}

impl Policy {
    /// The event as it goes to batching, or `None` when the level filters it out.
    pub(crate) fn admit(&self, mut event: Event) -> Option<Event> {
        if !passes_level(self.level, &event) {
            return None;
        }
        if let Some(rate) = self.sample_rate.filter(|rate| *rate < 1.0) {
            event
                .properties
                .insert("sample_rate".into(), serde_json::Value::from(rate));
        }
        Some(event)
    }
}
