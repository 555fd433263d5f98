//! [`Status`]: whether telemetry is on for this run, and why.

use std::path::PathBuf;

use crate::consent::Source;

/// Whether telemetry is on for this run, which source decided, and where its state lives.
///
/// Returned by [`Guard::status`](crate::Guard::status) and [`status`](crate::status()).
///
/// ```
/// let status = telemetry::status(&telemetry::Config::new("demo", "1.0").enabled(false));
/// assert!(!status.enabled);
/// assert_eq!(status.source, telemetry::Source::Host);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Whether events are recorded and sent in this run.
    pub enabled: bool,
    /// Which source decided.
    pub source: Source,
    /// The directory of the state file, when known.
    pub state_dir: Option<PathBuf>,
    /// The installation's anonymous id, when a state file exists.
    pub anonymous_id: Option<String>,
    /// What went wrong, if something did (a bad endpoint, an unreadable state file).
    pub problem: Option<String>,
}

impl Status {
    pub(crate) fn off(source: Source) -> Self {
        Status {
            enabled: false,
            source,
            state_dir: None,
            anonymous_id: None,
            problem: None,
        }
    }
}
