//! The wire format: Segment's `batch` call, documented field by field in the README.
//!
//! These types are what a [`Sink`](crate::Sink) receives and what the HTTP sink POSTs;
//! they serialize to exactly the JSON documented in the README.

use serde::{Deserialize, Serialize};

/// A batch of events, the body of one delivery: `{"batch": [...], "sentAt": "..."}`.
///
/// ```
/// let body = r#"{"batch": [], "sentAt": "2026-11-22T01:02:03.500Z"}"#;
/// let batch: telemetry::Batch = serde_json::from_str(body).unwrap();
/// assert!(batch.batch.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The events, oldest first.
    pub batch: Vec<Event>,
    /// When the batch was handed to the sink (RFC 3339, UTC, milliseconds).
    #[serde(rename = "sentAt")]
    pub sent_at: String,
}

/// One Segment `track` message.
///
/// ```
/// let json = r#"{
///   "type": "track", "event": "command_init", "messageId": "m", "anonymousId": "a",
///   "timestamp": "2026-11-22T01:02:03.456Z",
///   "context": {
///     "library": {"name": "minietl", "version": "1.2.3"},
///     "telemetry": {"name": "telemetry", "version": "0.1.0"},
///     "os": {"name": "linux", "version": "6.1"}, "arch": "x86_64", "cpu": 8,
///     "ci_run": false, "exec_info": ["docker"], "session_id": "s"
///   },
///   "properties": {"event_category": "command", "event_name": "init", "success": true}
/// }"#;
/// let event: telemetry::Event = serde_json::from_str(json).unwrap();
/// assert_eq!(event.event, "command_init");
/// assert_eq!(event.properties["success"], true);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Always `"track"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `<category>_<name>`, such as `command_init` or `step_load`.
    pub event: String,
    /// A UUID v4 unique to this event, for receivers to de-duplicate.
    #[serde(rename = "messageId")]
    pub message_id: String,
    /// The installation's random UUID v4.
    #[serde(rename = "anonymousId")]
    pub anonymous_id: String,
    /// When the call ended (RFC 3339, UTC, milliseconds).
    pub timestamp: String,
    /// Where the event comes from.
    pub context: Context,
    /// What happened: `event_category`, `event_name`, `elapsed`, `success`, `args`,
    /// `error`, and for steps `command` and `invocation_id` (see the README).
    /// Serialized in that order, then any other key, whatever serde_json's features.
    #[serde(serialize_with = "ordered_properties")]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// The documented properties first, in the README's order; the others after them.
const PROPERTY_ORDER: [&str; 9] = [
    "event_category",
    "event_name",
    "elapsed",
    "success",
    "args",
    "error",
    "aggregate",
    "command",
    "invocation_id",
];

/// Writes `properties` in [`PROPERTY_ORDER`]: the wire order does not depend on
/// serde_json's `preserve_order` feature (which this crate does not turn on, so that a
/// host's own maps keep their behaviour).
fn ordered_properties<S: serde::Serializer>(
    properties: &serde_json::Map<String, serde_json::Value>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(properties.len()))?;
    for key in PROPERTY_ORDER {
        if let Some(value) = properties.get(key) {
            map.serialize_entry(key, value)?;
        }
    }
    for (key, value) in properties {
        if !PROPERTY_ORDER.contains(&key.as_str()) {
            map.serialize_entry(key, value)?;
        }
    }
    map.end()
}

/// The context every event carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The host application: its name and version from [`Config::new`](crate::Config::new).
    pub library: NameVersion,
    /// This library: `telemetry` and its version.
    pub telemetry: NameVersion,
    /// Operating system name (`linux`, `macos`, `windows`, ...) and version.
    pub os: NameVersion,
    /// CPU architecture, as `std::env::consts::ARCH`.
    pub arch: String,
    /// Number of logical CPUs available to the process.
    pub cpu: u32,
    /// Whether the process runs in continuous integration.
    pub ci_run: bool,
    /// Detected execution environments: `docker`, `kubernetes`, `wsl`, CI providers.
    pub exec_info: Vec<String>,
    /// A UUID v4 new for each process.
    pub session_id: String,
}

/// A name and a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameVersion {
    /// The name.
    pub name: String,
    /// The version.
    pub version: String,
}
