//! The OTLP sink: events as OpenTelemetry spans, OTLP/HTTP with JSON encoding.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::post::{self, Poster, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TOTAL_TIMEOUT};
use super::{Sink, SinkError};
use crate::event::{Batch, Context, Event};

/// `SPAN_KIND_INTERNAL`: a CLI's own work (OpenTelemetry's CLI conventions).
const SPAN_KIND_INTERNAL: u8 = 1;
/// `STATUS_CODE_ERROR`. Successful spans leave the status unset, as instrumentation
/// libraries should.
const STATUS_CODE_ERROR: u8 = 2;
/// The key derivation contexts of trace and span ids (BLAKE3 `derive_key`).
const TRACE_ID_CONTEXT: &str =
    "telemetry crate 2026 OTLP trace id from an invocation or message id";
const SPAN_ID_CONTEXT: &str = "telemetry crate 2026 OTLP span id from an invocation or message id";

/// Sends each batch to an OpenTelemetry collector as traces: OTLP/HTTP, JSON encoding,
/// `POST <endpoint>/v1/traces` (OpenTelemetry Collector, Grafana Alloy, rotel, Jaeger,
/// or any vendor's OTLP intake).
///
/// # What is sent
///
/// One span per event, in the JSON encoding of OTLP's `ExportTraceServiceRequest`
/// (lowerCamelCase fields, trace and span ids as lowercase hex, 64-bit integers as
/// strings, enums as integers):
///
/// - a **command** is a span named `<app> <command>` (such as `minietl init`, after the
///   CLI conventions' executable-named span); its trace id is derived from the
///   command's `invocation_id`, so every step it runs lands in the same trace;
/// - a **step** is a child span of its command: same trace id, `parentSpanId` the
///   command span's id; its own span id is derived from its `messageId`;
/// - an **aggregate** event (calls folded past the budget) is a span whose duration is
///   the folded calls' total time, with `telemetry.aggregate.count`, `.failures`,
///   `.total_elapsed`, `.min_elapsed`, `.max_elapsed`; a step aggregate is a child of
///   the last command it ran under;
/// - a **custom** event ([`track`](crate::track)) is a span of zero duration in its own
///   trace, its properties as `telemetry.properties.<key>`.
///
/// Ids are derived with BLAKE3 (key derivation mode) from the event's own ids: the same
/// event always gets the same ids (a batch sent twice is de-duplicable), and nothing
/// else goes into them. Times: the span ends at the event's `timestamp` and starts
/// `elapsed` seconds earlier (nanoseconds since the Unix epoch).
///
/// Attributes, after OpenTelemetry's semantic conventions where one exists:
///
/// | where | attribute | from |
/// |---|---|---|
/// | resource | `service.name`, `service.version` | the app name and version ([`Config::new`](crate::Config::new)) |
/// | resource | `process.executable.name` | the app name (the executable's file name is not recorded) |
/// | resource | `os.type`, `os.version` | `context.os` (`macos` as `darwin`) |
/// | resource | `host.arch` | `context.arch` (`x86_64` as `amd64`, `aarch64` as `arm64`, ...) |
/// | resource | `service.instance.id` | `context.session_id` (new for each process) |
/// | resource | `enduser.pseudo.id` | `anonymousId` (random, per installation) |
/// | resource | `telemetry.sdk.name`, `.language`, `.version` | this library, `rust` |
/// | resource | `telemetry.ci_run`, `telemetry.exec_info`, `telemetry.cpu` | `context` |
/// | span | `process.exit.code` (commands) | `0` on success, `1` on failure: the library records success, not the process's real exit code |
/// | span | `error.type`, status `ERROR` (2) | on failure: `error.kind` (`_OTHER` if none); status message: the opt-in scrubbed `error.message` |
/// | span | `telemetry.args.<name>` | `args`: hashed (or recorded) values, as sent to any sink |
/// | span | `telemetry.event_category`, `telemetry.event_name`, `telemetry.success` | `properties` |
/// | span | `telemetry.message_id`, `telemetry.invocation_id`, `telemetry.command` | the event's ids; a step's command |
///
/// The CLI conventions' `process.pid` and `process.command_args` are not sent: the
/// first identifies nothing useful across runs, the second is exactly what the library
/// hashes.
///
/// # Delivery
///
/// Like [`HttpSink`](super::HttpSink): connect and total timeouts (1 s and 5 s by
/// default), no redirects, one pooled connection, a loopback endpoint never sent through
/// a proxy, TLS verified. The endpoint must be `https://`, or `http://` to a loopback
/// address (a collector on the same machine); any other endpoint delivers nothing and
/// says so in debug mode. Answers follow OTLP/HTTP's rules: `2xx` (a partial success
/// included) is delivered; `429`, `502`, `503` and `504` are retried after a back-off,
/// honouring `Retry-After`; every other status drops the batch; a network error or a
/// timeout is retried. It is durable ([`Sink::durable`]): undelivered batches wait in
/// the spool for a later run.
///
/// ```
/// let sink = telemetry::sink::OtlpSink::new("https://otel.example.com:4318")
///     .header("Authorization", "Bearer TOKEN");
/// assert_eq!(sink.endpoint(), "https://otel.example.com:4318/v1/traces");
/// let config = telemetry::Config::new("minietl", "1.2.3").sink(sink);
/// # let _ = config;
/// ```
pub struct OtlpSink {
    poster: Poster,
    headers: Vec<(String, String)>,
}

impl std::fmt::Debug for OtlpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("OtlpSink")
            .field("endpoint", &self.poster.endpoint())
            .field("headers", &names)
            .finish_non_exhaustive()
    }
}

impl OtlpSink {
    /// A sink posting to the collector at `endpoint`, with the default timeouts.
    ///
    /// `endpoint` is the collector's base URL, as in `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// (`https://otel.example.com:4318`): `/v1/traces` is appended. A URL that already
    /// ends in `/v1/traces` is used as it is.
    ///
    /// ```
    /// let sink = telemetry::sink::OtlpSink::new("http://127.0.0.1:4318/v1/traces");
    /// assert_eq!(sink.endpoint(), "http://127.0.0.1:4318/v1/traces");
    /// ```
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self::with_timeouts(endpoint, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TOTAL_TIMEOUT)
    }

    /// Like [`new`](OtlpSink::new), with explicit timeouts: `connect` bounds name
    /// resolution and the TCP connection, `total` the whole request.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sink = telemetry::sink::OtlpSink::with_timeouts(
    ///     "http://localhost:4318", Duration::from_millis(200), Duration::from_secs(2));
    /// let config = telemetry::Config::new("demo", "1.0.0").sink(sink);
    /// # let _ = config;
    /// ```
    pub fn with_timeouts(endpoint: impl Into<String>, connect: Duration, total: Duration) -> Self {
        let endpoint = endpoint.into();
        let trimmed = endpoint.trim().trim_end_matches('/');
        let endpoint = if trimmed.ends_with("/v1/traces") {
            trimmed.to_owned()
        } else {
            post::join(trimmed, "/v1/traces")
        };
        OtlpSink {
            poster: Poster::new(endpoint, connect, total, true),
            headers: Vec::new(),
        }
    }

    /// Adds a header to every request: the collector's or vendor's credentials, say
    /// (`Authorization`, `x-honeycomb-team`, ...). Its value is never printed.
    ///
    /// ```
    /// let sink = telemetry::sink::OtlpSink::new("https://api.honeycomb.io")
    ///     .header("x-honeycomb-team", "KEY");
    /// assert!(!format!("{sink:?}").contains("KEY"));
    /// ```
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The URL batches are posted to.
    ///
    /// ```
    /// let sink = telemetry::sink::OtlpSink::new("https://otel.example.com/");
    /// assert_eq!(sink.endpoint(), "https://otel.example.com/v1/traces");
    /// ```
    pub fn endpoint(&self) -> &str {
        self.poster.endpoint()
    }
}

impl Sink for OtlpSink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if batch.batch.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_vec(&traces_request(batch))
            .map_err(|error| SinkError::drop(error.to_string()))?;
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        post::otlp_rules(&self.poster.post(&body, &headers)?)
    }

    fn durable(&self) -> bool {
        self.poster.reachable()
    }
}

/// The `ExportTraceServiceRequest` (OTLP JSON encoding) for `batch`: one
/// `resourceSpans` entry per distinct source (app, process, installation), in order.
pub(crate) fn traces_request(batch: &Batch) -> Value {
    let mut groups: Vec<(&Context, &str, Vec<Value>)> = Vec::new();
    for event in &batch.batch {
        let source = (&event.context, event.anonymous_id.as_str());
        let span = span(event);
        match groups
            .iter_mut()
            .find(|(context, anonymous_id, _)| (*context, *anonymous_id) == source)
        {
            Some((_, _, spans)) => spans.push(span),
            None => groups.push((source.0, source.1, vec![span])),
        }
    }
    let resource_spans: Vec<Value> = groups
        .into_iter()
        .map(|(context, anonymous_id, spans)| {
            json!({
                "resource": {"attributes": resource_attributes(context, anonymous_id)},
                "scopeSpans": [{
                    "scope": {"name": context.telemetry.name, "version": context.telemetry.version},
                    "spans": spans,
                }],
            })
        })
        .collect();
    json!({ "resourceSpans": resource_spans })
}

fn resource_attributes(context: &Context, anonymous_id: &str) -> Vec<Value> {
    let mut attributes = Vec::new();
    let mut add = |key: &str, value: Value| attributes.push(json!({"key": key, "value": value}));
    add("service.name", string(&context.library.name));
    add("service.version", string(&context.library.version));
    add("service.instance.id", string(&context.session_id));
    add("process.executable.name", string(&context.library.name));
    add("os.type", string(os_type(&context.os.name)));
    if !context.os.version.is_empty() {
        add("os.version", string(&context.os.version));
    }
    add("host.arch", string(host_arch(&context.arch)));
    add("enduser.pseudo.id", string(anonymous_id));
    add("telemetry.sdk.name", string(&context.telemetry.name));
    add("telemetry.sdk.language", string("rust"));
    add("telemetry.sdk.version", string(&context.telemetry.version));
    add("telemetry.ci_run", json!({"boolValue": context.ci_run}));
    add(
        "telemetry.exec_info",
        json!({"arrayValue": {"values": context.exec_info.iter().map(|name| string(name)).collect::<Vec<_>>()}}),
    );
    add("telemetry.cpu", int(i64::from(context.cpu)));
    attributes
}

/// How one event becomes one span.
fn span(event: &Event) -> Value {
    let properties = &event.properties;
    let text = |key: &str| properties.get(key).and_then(Value::as_str);
    let category = text("event_category").unwrap_or("custom");
    let name = text("event_name").unwrap_or(&event.event);
    let aggregate = properties.get("aggregate").and_then(Value::as_object);
    let invocation = text("invocation_id").filter(|_| category != "custom");
    let success = properties
        .get("success")
        .and_then(Value::as_bool)
        .unwrap_or(true);

    // Ids: a command's from its invocation, so its steps can name it as their parent.
    let (trace_id, span_id, parent) = match (category, invocation, aggregate) {
        ("command", Some(invocation), None) => (trace_id(invocation), span_id(invocation), None),
        ("step", Some(invocation), _) => (
            trace_id(invocation),
            span_id(&event.message_id),
            Some(span_id(invocation)),
        ),
        _ => (
            trace_id(&event.message_id),
            span_id(&event.message_id),
            None,
        ),
    };

    let end = end_nanos(event);
    let elapsed = properties
        .get("elapsed")
        .and_then(Value::as_f64)
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .map_or(0, |seconds| (seconds * 1e9).round() as u64);
    let start = end.saturating_sub(elapsed);

    let mut attributes = Vec::new();
    let mut add = |key: String, value: Value| attributes.push(json!({"key": key, "value": value}));
    add("telemetry.event_category".into(), string(category));
    add("telemetry.event_name".into(), string(name));
    add("telemetry.message_id".into(), string(&event.message_id));
    add("telemetry.success".into(), json!({"boolValue": success}));
    if let Some(invocation) = invocation {
        add("telemetry.invocation_id".into(), string(invocation));
    }
    if let Some(command) = text("command") {
        add("telemetry.command".into(), string(command));
    }
    if category == "command" && aggregate.is_none() {
        add("process.exit.code".into(), int(if success { 0 } else { 1 }));
    }
    let error = properties.get("error").and_then(Value::as_object);
    if !success {
        let kind = error
            .and_then(|error| error.get("kind"))
            .and_then(Value::as_str)
            .unwrap_or("_OTHER");
        add("error.type".into(), string(kind));
    }
    if let Some(args) = properties.get("args").and_then(Value::as_object) {
        for (arg, value) in args {
            if !value.is_null() {
                add(format!("telemetry.args.{arg}"), any_value(value));
            }
        }
    }
    if let Some(aggregate) = aggregate {
        for (key, value) in aggregate {
            add(format!("telemetry.aggregate.{key}"), any_value(value));
        }
    }
    if category == "custom" {
        for (key, value) in properties {
            if !matches!(key.as_str(), "event_category" | "event_name") && !value.is_null() {
                add(format!("telemetry.properties.{key}"), any_value(value));
            }
        }
    }

    let span_name = match category {
        "command" => format!("{} {name}", event.context.library.name),
        _ => name.to_owned(),
    };
    let mut span = Map::new();
    span.insert("traceId".into(), Value::String(hex(&trace_id)));
    span.insert("spanId".into(), Value::String(hex(&span_id)));
    if let Some(parent) = parent {
        span.insert("parentSpanId".into(), Value::String(hex(&parent)));
    }
    span.insert("name".into(), Value::String(span_name));
    span.insert("kind".into(), json!(SPAN_KIND_INTERNAL));
    span.insert("startTimeUnixNano".into(), Value::String(start.to_string()));
    span.insert("endTimeUnixNano".into(), Value::String(end.to_string()));
    span.insert("attributes".into(), Value::Array(attributes));
    if !success {
        let mut status = Map::new();
        status.insert("code".into(), json!(STATUS_CODE_ERROR));
        if let Some(message) = error
            .and_then(|error| error.get("message"))
            .and_then(Value::as_str)
        {
            status.insert("message".into(), Value::String(message.to_owned()));
        }
        span.insert("status".into(), Value::Object(status));
    }
    Value::Object(span)
}

/// When the event ended, in nanoseconds since the Unix epoch (now if its timestamp
/// cannot be read).
fn end_nanos(event: &Event) -> u64 {
    let at = humantime::parse_rfc3339_weak(&event.timestamp).unwrap_or_else(|_| SystemTime::now());
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
    })
}

fn trace_id(source: &str) -> [u8; 16] {
    derive_id(TRACE_ID_CONTEXT, source)
}

fn span_id(source: &str) -> [u8; 8] {
    derive_id(SPAN_ID_CONTEXT, source)
}

/// The first `N` bytes of a BLAKE3-derived key of `source`, never all zero (an
/// all-zero id is invalid in OTLP).
fn derive_id<const N: usize>(context: &str, source: &str) -> [u8; N] {
    let key = blake3::derive_key(context, source.as_bytes());
    let mut id = [0u8; N];
    id.copy_from_slice(&key[..N]);
    if id.iter().all(|byte| *byte == 0) {
        id[N - 1] = 1;
    }
    id
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

fn string(value: &str) -> Value {
    json!({ "stringValue": value })
}

/// An `intValue`: a decimal string, as OTLP JSON writes 64-bit integers.
fn int(value: i64) -> Value {
    json!({ "intValue": value.to_string() })
}

/// A JSON value as an OTLP `AnyValue`.
fn any_value(value: &Value) -> Value {
    match value {
        Value::Null => json!({}),
        Value::Bool(flag) => json!({ "boolValue": flag }),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => int(integer),
            None => json!({ "doubleValue": number.as_f64().unwrap_or(0.0) }),
        },
        Value::String(text) => string(text),
        Value::Array(items) => {
            json!({ "arrayValue": { "values": items.iter().map(any_value).collect::<Vec<_>>() } })
        }
        Value::Object(entries) => {
            let values: Vec<Value> = entries
                .iter()
                .map(|(key, value)| json!({ "key": key, "value": any_value(value) }))
                .collect();
            json!({ "kvlistValue": { "values": values } })
        }
    }
}

/// OpenTelemetry's `os.type` values.
fn os_type(name: &str) -> &str {
    match name {
        "macos" => "darwin",
        other => other,
    }
}

/// OpenTelemetry's `host.arch` values.
fn host_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::NameVersion;

    fn context() -> Context {
        let name_version = |name: &str, version: &str| NameVersion {
            name: name.into(),
            version: version.into(),
        };
        Context {
            library: name_version("minietl", "1.2.3"),
            telemetry: name_version("telemetry", "0.1.0"),
            os: name_version("linux", "6.1.0"),
            arch: "x86_64".into(),
            cpu: 8,
            ci_run: false,
            exec_info: vec!["docker".into()],
            session_id: "7c6f0a43-5b3e-4f43-9d5f-0f1e2d3c4b5a".into(),
        }
    }

    fn event(name: &str, message_id: &str, properties: Value) -> Event {
        Event {
            kind: "track".into(),
            event: name.into(),
            message_id: message_id.into(),
            anonymous_id: "0b5c9a1e-8d7f-4e6a-b3c2-1a0f9e8d7c6b".into(),
            timestamp: "2026-11-22T01:02:03.456Z".into(),
            context: context(),
            properties: properties.as_object().cloned().unwrap(),
        }
    }

    const INVOCATION: &str = "0196a3b4-c5d6-8e7f-8011-223344556677";

    fn sample() -> Batch {
        Batch {
            batch: vec![
                event(
                    "step_load",
                    "11111111-1111-4111-8111-111111111111",
                    json!({
                        "event_category": "step", "event_name": "load",
                        "elapsed": 0.25, "success": false,
                        "args": {"table": "k3Jh2fY", "rows": 12},
                        "error": {"kind": "std::io::Error", "message": "disk full"},
                        "command": "init", "invocation_id": INVOCATION,
                    }),
                ),
                event(
                    "command_init",
                    "22222222-2222-4222-8222-222222222222",
                    json!({
                        "event_category": "command", "event_name": "init",
                        "elapsed": 1.5, "success": false,
                        "args": {"destination": "duckdb"},
                        "error": {"kind": "minietl::Error"},
                        "invocation_id": INVOCATION,
                    }),
                ),
                event(
                    "files_converted",
                    "33333333-3333-4333-8333-333333333333",
                    json!({"event_category": "custom", "event_name": "files_converted", "files": 3}),
                ),
            ],
            sent_at: "2026-11-22T01:02:03.500Z".into(),
        }
    }

    fn attribute<'a>(attributes: &'a Value, key: &str) -> Option<&'a Value> {
        attributes
            .as_array()
            .unwrap()
            .iter()
            .find(|attribute| attribute["key"] == key)
            .map(|attribute| &attribute["value"])
    }

    fn is_lower_hex(text: &str, len: usize) -> bool {
        text.len() == len
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    #[test]
    fn steps_are_children_of_their_command() {
        let request = traces_request(&sample());
        let resource_spans = request["resourceSpans"].as_array().unwrap();
        assert_eq!(resource_spans.len(), 1, "one process, one resource");
        let spans = resource_spans[0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap();
        assert_eq!(spans.len(), 3);
        let (step, command, custom) = (&spans[0], &spans[1], &spans[2]);
        for span in spans {
            assert!(
                is_lower_hex(span["traceId"].as_str().unwrap(), 32),
                "{span}"
            );
            assert!(is_lower_hex(span["spanId"].as_str().unwrap(), 16), "{span}");
            assert_eq!(span["kind"], 1);
        }
        assert_eq!(step["traceId"], command["traceId"]);
        assert_eq!(step["parentSpanId"], command["spanId"]);
        assert_ne!(step["spanId"], command["spanId"]);
        assert!(command.get("parentSpanId").is_none());
        assert_ne!(custom["traceId"], command["traceId"]);
        assert!(custom.get("parentSpanId").is_none());
        assert_eq!(command["name"], "minietl init");
        assert_eq!(step["name"], "load");
        assert_eq!(custom["name"], "files_converted");
        // Deterministic: the same batch maps to the same ids.
        assert_eq!(traces_request(&sample()), request);
    }

    #[test]
    fn times_are_nanosecond_strings_ending_at_the_timestamp() {
        let request = traces_request(&sample());
        let spans = &request["resourceSpans"][0]["scopeSpans"][0]["spans"];
        let end = 1_795_309_323_456_000_000_u64; // 2026-11-22T01:02:03.456Z
        let command = &spans[1];
        assert_eq!(command["endTimeUnixNano"], end.to_string());
        assert_eq!(
            command["startTimeUnixNano"],
            (end - 1_500_000_000).to_string()
        );
        assert_eq!(
            spans[0]["startTimeUnixNano"],
            (end - 250_000_000).to_string()
        );
        assert_eq!(spans[2]["startTimeUnixNano"], spans[2]["endTimeUnixNano"]);
    }

    #[test]
    fn failures_carry_error_type_exit_code_and_status() {
        let request = traces_request(&sample());
        let spans = &request["resourceSpans"][0]["scopeSpans"][0]["spans"];
        let (step, command) = (&spans[0], &spans[1]);
        assert_eq!(
            attribute(&command["attributes"], "process.exit.code"),
            Some(&json!({"intValue": "1"}))
        );
        assert_eq!(
            attribute(&command["attributes"], "error.type"),
            Some(&json!({"stringValue": "minietl::Error"}))
        );
        assert_eq!(command["status"], json!({"code": 2}));
        assert_eq!(step["status"], json!({"code": 2, "message": "disk full"}));
        assert_eq!(attribute(&step["attributes"], "process.exit.code"), None);
        assert_eq!(
            attribute(&step["attributes"], "telemetry.args.table"),
            Some(&json!({"stringValue": "k3Jh2fY"}))
        );
        assert_eq!(
            attribute(&step["attributes"], "telemetry.args.rows"),
            Some(&json!({"intValue": "12"}))
        );
        assert_eq!(
            attribute(&step["attributes"], "telemetry.command"),
            Some(&json!({"stringValue": "init"}))
        );

        let mut ok = sample();
        ok.batch[1].properties.insert("success".into(), json!(true));
        ok.batch[1].properties.remove("error");
        let request = traces_request(&ok);
        let command = &request["resourceSpans"][0]["scopeSpans"][0]["spans"][1];
        assert_eq!(
            attribute(&command["attributes"], "process.exit.code"),
            Some(&json!({"intValue": "0"}))
        );
        assert_eq!(attribute(&command["attributes"], "error.type"), None);
        assert!(command.get("status").is_none());
    }

    #[test]
    fn resource_follows_the_semantic_conventions() {
        let request = traces_request(&sample());
        let resource = &request["resourceSpans"][0]["resource"]["attributes"];
        let text = |key: &str| attribute(resource, key).unwrap()["stringValue"].clone();
        assert_eq!(text("service.name"), "minietl");
        assert_eq!(text("service.version"), "1.2.3");
        assert_eq!(text("process.executable.name"), "minietl");
        assert_eq!(text("os.type"), "linux");
        assert_eq!(text("host.arch"), "amd64");
        assert_eq!(
            text("enduser.pseudo.id"),
            "0b5c9a1e-8d7f-4e6a-b3c2-1a0f9e8d7c6b"
        );
        assert_eq!(
            attribute(resource, "telemetry.cpu"),
            Some(&json!({"intValue": "8"}))
        );
        let scope = &request["resourceSpans"][0]["scopeSpans"][0]["scope"];
        assert_eq!(scope["name"], "telemetry");
    }

    #[test]
    fn aggregates_and_custom_properties_become_attributes() {
        let mut batch = sample();
        batch.batch[0].properties.insert(
            "aggregate".into(),
            json!({"count": 5000, "failures": 2, "total_elapsed": 1.25}),
        );
        batch.batch[2]
            .properties
            .insert("nested".into(), json!({"a": [1, 2.5, "x"]}));
        let request = traces_request(&batch);
        let spans = &request["resourceSpans"][0]["scopeSpans"][0]["spans"];
        assert_eq!(
            attribute(&spans[0]["attributes"], "telemetry.aggregate.count"),
            Some(&json!({"intValue": "5000"}))
        );
        assert_eq!(spans[0]["parentSpanId"], spans[1]["spanId"]);
        assert_eq!(
            attribute(&spans[2]["attributes"], "telemetry.properties.files"),
            Some(&json!({"intValue": "3"}))
        );
        assert_eq!(
            attribute(&spans[2]["attributes"], "telemetry.properties.nested"),
            Some(
                &json!({"kvlistValue": {"values": [{"key": "a", "value": {"arrayValue": {"values": [
                    {"intValue": "1"}, {"doubleValue": 2.5}, {"stringValue": "x"}
                ]}}}]}})
            )
        );
    }

    #[test]
    fn separate_processes_are_separate_resources() {
        let mut batch = sample();
        batch.batch[2].context.session_id = "another-process".into();
        let request = traces_request(&batch);
        assert_eq!(request["resourceSpans"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn endpoints_get_the_traces_path_once() {
        assert_eq!(
            OtlpSink::new("http://127.0.0.1:4318").endpoint(),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            OtlpSink::new(" http://127.0.0.1:4318/v1/traces/ ").endpoint(),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            OtlpSink::new("https://gw.example.com/otlp").endpoint(),
            "https://gw.example.com/otlp/v1/traces"
        );
        assert!(!OtlpSink::new("http://otel.example.com:4318").durable());
        assert!(OtlpSink::new("http://127.0.0.1:4318").durable());
    }
}
