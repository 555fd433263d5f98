//! The HTTP sink: Segment's batch API over `ureq`.

use std::time::Duration;

use super::post::{self, Poster, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TOTAL_TIMEOUT};
use super::{Sink, SinkError};
use crate::event::Batch;

pub(crate) use super::post::tls_problem;

/// POSTs each batch as `{"batch": [...], "sentAt": ...}` to a Segment-compatible endpoint
/// (Segment, RudderStack, Jitsu, or your own receiver).
///
/// - Sends `Content-Type: application/json` and, with a write key,
///   `Authorization: Basic base64(write_key + ":")`.
/// - Every request is bounded: name resolution and connecting by a connect timeout
///   (default 1 s), the whole request by a total timeout (default 5 s). Name resolution runs on a helper thread that
///   is abandoned when it overruns, so a resolver that never answers holds nothing past
///   the bound. (These bound the worker thread; the host's exit is bounded separately,
///   by `flush_timeout`.)
/// - TLS certificates and host names are always verified: rustls with ring and the
///   Mozilla root store (the default `tls` cargo feature), the platform's TLS library and
///   roots (`native-tls`), or rustls with the host's installed crypto provider
///   (`rustls-no-provider`). A build without any of them can only reach `http://`
///   loopback endpoints; an `https://` endpoint then delivers nothing and says so in
///   debug mode.
/// - One connection is kept alive and reused across batches.
/// - Redirects are not followed (a `3xx` is a rejection).
/// - A loopback endpoint is always reached directly, never through a proxy named in
///   the environment (`HTTP_PROXY`, `ALL_PROXY`, ...).
/// - It is *durable* ([`Sink::durable`]): batches it cannot deliver are kept in the
///   spool and sent by a later attempt.
///
/// - A loopback endpoint is always reached directly; any other goes through the proxy
///   named by `ALL_PROXY`, `HTTPS_PROXY` or `HTTP_PROXY` (lower case too), unless
///   `NO_PROXY` exempts it.
///
/// How answers are treated: `2xx` delivered; `410 Gone` stops this installation from
/// sending for a long period; `413` sends the batch again in halves; `429` and `5xx` are retried after a back-off, honouring
/// `Retry-After`; any other status drops the batch (counted); a network error, a timeout
/// or an answer that is not HTTP is retried.
///
/// ```
/// let sink = telemetry::sink::HttpSink::new("https://collector.example.com/v1/batch", Some("KEY".into()));
/// let config = telemetry::Config::new("demo", "1.0.0").sink(sink);
/// # let _ = config;
/// ```
pub struct HttpSink {
    poster: Poster,
    authorization: Option<String>,
}

impl std::fmt::Debug for HttpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSink")
            .field(
                "endpoint",
                &crate::config::redact_userinfo(self.poster.endpoint()),
            )
            .field(
                "write_key",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl HttpSink {
    /// A sink posting to `endpoint`, authenticated with `write_key` if given, with the
    /// default timeouts.
    pub fn new(endpoint: impl Into<String>, write_key: Option<String>) -> Self {
        Self::with_timeouts(
            endpoint,
            write_key,
            DEFAULT_CONNECT_TIMEOUT,
            DEFAULT_TOTAL_TIMEOUT,
        )
    }

    /// Like [`new`](HttpSink::new), with explicit timeouts: `connect` bounds name
    /// resolution and the TCP connection, `total` the whole request.
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
        let authorization = write_key.map(|key| {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
            format!("Basic {token}")
        });
        HttpSink {
            poster: Poster::new(endpoint.into(), connect, total, false),
            authorization,
        }
    }

    /// The endpoint batches are posted to.
    ///
    /// ```
    /// let sink = telemetry::sink::HttpSink::new(" https://collector.example.com/v1/batch ", None);
    /// assert_eq!(sink.endpoint(), "https://collector.example.com/v1/batch");
    /// ```
    pub fn endpoint(&self) -> &str {
        self.poster.endpoint()
    }
}

impl Sink for HttpSink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let body = serde_json::to_vec(batch).map_err(|error| SinkError::drop(error.to_string()))?;
        let authorization = self.authorization.as_deref();
        let headers: &[(&str, &str)] = match &authorization {
            Some(value) => &[("Authorization", value)],
            None => &[],
        };
        post::segment_rules(&self.poster.post(&body, headers)?)
    }

    fn durable(&self) -> bool {
        self.poster.reachable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_credential() {
        let sink = HttpSink::new(
            "http://user:hunter2@127.0.0.1:9/v1/batch",
            Some("WRITE-KEY-42".into()),
        );
        let printed = format!("{sink:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("WRITE-KEY-42"), "{printed}");
        assert!(
            printed.contains("http://<redacted>@127.0.0.1:9/v1/batch"),
            "{printed}"
        );
        assert!(
            printed.contains(r#"write_key: Some("<redacted>")"#),
            "{printed}"
        );
    }
}
