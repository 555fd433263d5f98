//! The HTTP sink: Segment's batch API over `ureq`.

use std::time::Duration;

use super::{Sink, SinkError};
use crate::event::Batch;

/// POSTs each batch as `{"batch": [...], "sentAt": ...}` to a Segment-compatible endpoint
/// (Segment, RudderStack, Jitsu, or your own receiver).
///
/// Sends `Content-Type: application/json` and, with a write key,
/// `Authorization: Basic base64(write_key + ":")`. Every request has a connect timeout
/// and a total timeout, name resolution included. One connection is reused across
/// batches.
///
/// ```
/// let sink = telemetry::sink::HttpSink::new("https://collector.example.com/v1/batch", Some("KEY".into()));
/// let config = telemetry::Config::new("demo", "1.0.0").sink(sink);
/// # let _ = config;
/// ```
pub struct HttpSink {
    endpoint: String,
    authorization: Option<String>,
    agent: ureq::Agent,
}

impl HttpSink {
    /// A sink posting to `endpoint`, authenticated with `write_key` if given.
    pub fn new(endpoint: impl Into<String>, write_key: Option<String>) -> Self {
        Self::with_timeouts(
            endpoint,
            write_key,
            Duration::from_millis(500),
            Duration::from_secs(3),
        )
    }

    /// Like [`new`](HttpSink::new), with explicit connect and total timeouts.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sink = telemetry::sink::HttpSink::with_timeouts(
    ///     "http://127.0.0.1:9/v1/batch", None, Duration::from_millis(100), Duration::from_secs(1));
    /// # let _ = sink;
    /// ```
    pub fn with_timeouts(
        endpoint: impl Into<String>,
        write_key: Option<String>,
        connect: Duration,
        total: Duration,
    ) -> Self {
        use base64::Engine as _;
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(connect))
            .timeout_resolve(Some(connect))
            .timeout_global(Some(total))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        let authorization = write_key.map(|key| {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
            format!("Basic {token}")
        });
        HttpSink {
            endpoint: endpoint.into(),
            authorization,
            agent,
        }
    }
}

impl Sink for HttpSink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let body = serde_json::to_vec(batch).map_err(|error| SinkError::drop(error.to_string()))?;
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/json");
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization);
        }
        let response = request
            .send(&body[..])
            .map_err(|error| SinkError::retry(error.to_string()))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => Ok(()),
            410 => Err(SinkError::stop("410 Gone")),
            429 | 500..=599 => {
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                match retry_after {
                    Some(delay) => Err(SinkError::retry_after(format!("HTTP {status}"), delay)),
                    None => Err(SinkError::retry(format!("HTTP {status}"))),
                }
            }
            _ => Err(SinkError::drop(format!("HTTP {status}"))),
        }
    }

    fn durable(&self) -> bool {
        true
    }
}
