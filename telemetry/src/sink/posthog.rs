//! The PostHog sink: events through PostHog's batch capture API.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::post::{self, Poster, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TOTAL_TIMEOUT};
use super::{Sink, SinkError};
use crate::event::{Batch, Event};

/// Sends each batch to PostHog (PostHog Cloud or self-hosted): `POST <host>/batch/` with
/// `{"api_key": ..., "batch": [...]}`, PostHog's batch capture API.
///
/// Each event becomes one capture:
///
/// ```json
/// {"event": "command_init", "distinct_id": "<anonymousId>", "uuid": "<messageId>",
///  "timestamp": "2026-11-22T01:02:03.456Z",
///  "properties": {
///    "event_category": "command", "event_name": "init", "elapsed": 0.0123,
///    "success": true, "args": {"source": "<hash>"},
///    "$lib": "telemetry", "$lib_version": "0.1.0", "$os": "Linux", "$os_version": "6.1.0",
///    "$process_person_profile": false,
///    "app_name": "minietl", "app_version": "1.2.3", "arch": "x86_64", "cpu": 8,
///    "ci_run": false, "exec_info": ["docker"], "session_id": "<uuid>"}}
/// ```
///
/// - `distinct_id` is the installation's random `anonymousId`, and every event says
///   `$process_person_profile: false`: PostHog keeps no person profile for it (anonymous
///   events, as the library promises).
/// - `uuid` is the `messageId`, so PostHog de-duplicates a batch sent twice.
/// - The properties are the event's own (the same as every sink receives), plus the
///   context flattened as above; `$os` uses PostHog's names (`Linux`, `Mac OS X`,
///   `Windows`).
///
/// Delivery is the [`HttpSink`](super::HttpSink)'s: connect and total timeouts (1 s and
/// 5 s by default), no redirects, one pooled connection, a loopback host never sent
/// through a proxy, TLS verified; `2xx` delivered, `410 Gone` stops this installation
/// from sending for a long period, `429` and `5xx` are retried after a back-off
/// honouring `Retry-After`, any other status drops the batch, a network error or a
/// timeout is retried. The host must be `https://`, or `http://` on a loopback address;
/// any other host delivers nothing and says so in debug mode. It is durable
/// ([`Sink::durable`]).
///
/// ```
/// let sink = telemetry::sink::PostHogSink::new("https://us.i.posthog.com", "phc_PROJECT_KEY");
/// assert_eq!(sink.endpoint(), "https://us.i.posthog.com/batch/");
/// let config = telemetry::Config::new("minietl", "1.2.3").sink(sink);
/// # let _ = config;
/// ```
pub struct PostHogSink {
    poster: Poster,
    api_key: String,
}

impl std::fmt::Debug for PostHogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostHogSink")
            .field("endpoint", &self.poster.endpoint())
            .field("api_key", &"<set>")
            .finish_non_exhaustive()
    }
}

impl PostHogSink {
    /// A sink posting to the PostHog instance at `host` (`https://us.i.posthog.com`,
    /// `https://eu.i.posthog.com`, or your own), for the project whose API key (`phc_...`)
    /// is `api_key`, with the default timeouts.
    ///
    /// ```
    /// let sink = telemetry::sink::PostHogSink::new("https://eu.i.posthog.com/", "phc_KEY");
    /// assert_eq!(sink.endpoint(), "https://eu.i.posthog.com/batch/");
    /// ```
    pub fn new(host: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self::with_timeouts(
            host,
            api_key,
            DEFAULT_CONNECT_TIMEOUT,
            DEFAULT_TOTAL_TIMEOUT,
        )
    }

    /// Like [`new`](PostHogSink::new), with explicit timeouts: `connect` bounds name
    /// resolution and the TCP connection, `total` the whole request.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sink = telemetry::sink::PostHogSink::with_timeouts(
    ///     "http://127.0.0.1:8000", "phc_KEY", Duration::from_millis(200), Duration::from_secs(2));
    /// let config = telemetry::Config::new("demo", "1.0.0").sink(sink);
    /// # let _ = config;
    /// ```
    pub fn with_timeouts(
        host: impl Into<String>,
        api_key: impl Into<String>,
        connect: Duration,
        total: Duration,
    ) -> Self {
        PostHogSink {
            poster: Poster::new(post::join(&host.into(), "/batch/"), connect, total, true),
            api_key: api_key.into(),
        }
    }

    /// The URL batches are posted to: `<host>/batch/`.
    ///
    /// ```
    /// let sink = telemetry::sink::PostHogSink::new("http://localhost:8000", "phc_KEY");
    /// assert_eq!(sink.endpoint(), "http://localhost:8000/batch/");
    /// ```
    pub fn endpoint(&self) -> &str {
        self.poster.endpoint()
    }
}

impl Sink for PostHogSink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if batch.batch.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_vec(&batch_body(&self.api_key, batch))
            .map_err(|error| SinkError::drop(error.to_string()))?;
        post::segment_rules(&self.poster.post(&body, &[])?)
    }

    fn durable(&self) -> bool {
        self.poster.reachable()
    }
}

/// The `/batch/` request body for `batch`.
pub(crate) fn batch_body(api_key: &str, batch: &Batch) -> Value {
    let events: Vec<Value> = batch.batch.iter().map(capture).collect();
    json!({ "api_key": api_key, "batch": events })
}

fn capture(event: &Event) -> Value {
    let context = &event.context;
    let mut properties: Map<String, Value> = event.properties.clone();
    let mut set = |key: &str, value: Value| {
        properties.insert(key.to_owned(), value);
    };
    set("$lib", json!(context.telemetry.name));
    set("$lib_version", json!(context.telemetry.version));
    set("$os", json!(posthog_os(&context.os.name)));
    set("$os_version", json!(context.os.version));
    set("$process_person_profile", json!(false));
    set("app_name", json!(context.library.name));
    set("app_version", json!(context.library.version));
    set("arch", json!(context.arch));
    set("cpu", json!(context.cpu));
    set("ci_run", json!(context.ci_run));
    set("exec_info", json!(context.exec_info));
    set("session_id", json!(context.session_id));
    json!({
        "event": event.event,
        "distinct_id": event.anonymous_id,
        "uuid": event.message_id,
        "timestamp": event.timestamp,
        "properties": properties,
    })
}

/// PostHog's `$os` names, as its own libraries send them.
fn posthog_os(name: &str) -> &str {
    match name {
        "linux" => "Linux",
        "macos" => "Mac OS X",
        "windows" => "Windows",
        "freebsd" => "FreeBSD",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Context, NameVersion};

    #[test]
    fn events_become_captures() {
        let name_version = |name: &str, version: &str| NameVersion {
            name: name.into(),
            version: version.into(),
        };
        let event = Event {
            kind: "track".into(),
            event: "command_init".into(),
            message_id: "m-1".into(),
            anonymous_id: "a-1".into(),
            timestamp: "2026-11-22T01:02:03.456Z".into(),
            context: Context {
                library: name_version("minietl", "1.2.3"),
                telemetry: name_version("telemetry", "0.1.0"),
                os: name_version("linux", "6.1.0"),
                arch: "x86_64".into(),
                cpu: 8,
                ci_run: true,
                exec_info: vec!["github_actions".into()],
                session_id: "s-1".into(),
            },
            properties: json!({
                "event_category": "command", "event_name": "init", "elapsed": 0.5,
                "success": true, "args": {"source": "hash"}
            })
            .as_object()
            .cloned()
            .unwrap(),
        };
        let batch = Batch {
            batch: vec![event],
            sent_at: "2026-11-22T01:02:04.000Z".into(),
        };
        let body = batch_body("phc_KEY", &batch);
        assert_eq!(
            body,
            json!({"api_key": "phc_KEY", "batch": [{
                "event": "command_init", "distinct_id": "a-1", "uuid": "m-1",
                "timestamp": "2026-11-22T01:02:03.456Z",
                "properties": {
                    "event_category": "command", "event_name": "init", "elapsed": 0.5,
                    "success": true, "args": {"source": "hash"},
                    "$lib": "telemetry", "$lib_version": "0.1.0", "$os": "Linux",
                    "$os_version": "6.1.0", "$process_person_profile": false,
                    "app_name": "minietl", "app_version": "1.2.3", "arch": "x86_64",
                    "cpu": 8, "ci_run": true, "exec_info": ["github_actions"],
                    "session_id": "s-1"
                }
            }]})
        );
    }

    #[test]
    fn hosts_get_the_batch_path_and_the_endpoint_rule() {
        let sink = PostHogSink::new("http://127.0.0.1:8000/", "k");
        assert_eq!(sink.endpoint(), "http://127.0.0.1:8000/batch/");
        assert!(sink.durable());
        assert!(!PostHogSink::new("http://posthog.example.com", "k").durable());
        assert!(!format!("{sink:?}").contains("\"k\""));
    }
}
