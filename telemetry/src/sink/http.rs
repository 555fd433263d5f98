//! The HTTP sink: Segment's batch API over `ureq`.

use std::time::{Duration, SystemTime};

use super::{Sink, SinkError};
use crate::event::Batch;

/// The default bound on name resolution and on connecting.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The default bound on a whole request: resolution, connection, TLS, sending the batch
/// and reading the answer.
const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(5);
/// Answers are read (so the connection can be reused) up to this size, then dropped.
const MAX_ANSWER: u64 = 64 * 1024;

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
/// - It is *durable* ([`Sink::durable`]): batches it cannot deliver are kept in the
///   spool and sent by a later attempt.
///
/// How answers are treated: `2xx` delivered; `410 Gone` stops this installation from
/// sending for a long period; `429` and `5xx` are retried after a back-off, honouring
/// `Retry-After`; any other status drops the batch (counted); a network error, a timeout
/// or an answer that is not HTTP is retried.
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
    /// Why this build cannot reach the endpoint at all, if it cannot.
    unreachable: Option<String>,
}

impl std::fmt::Debug for HttpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSink")
            .field("endpoint", &self.endpoint)
            .field("write_key", &self.authorization.as_ref().map(|_| "<set>"))
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
        let endpoint = endpoint.into().trim().to_owned();
        let builder = ureq::Agent::config_builder()
            .timeout_resolve(Some(connect))
            .timeout_connect(Some(connect))
            .timeout_global(Some(total))
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(1)
            .max_idle_connections_per_host(1)
            .max_idle_age(Duration::from_secs(60))
            .user_agent(concat!("telemetry/", env!("CARGO_PKG_VERSION")));
        #[cfg(any(
            feature = "tls",
            feature = "native-tls",
            feature = "rustls-no-provider"
        ))]
        let builder = builder.tls_config(tls_config());
        let agent = builder.build().new_agent();
        let authorization = write_key.map(|key| {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
            format!("Basic {token}")
        });
        let unreachable = tls_problem(&endpoint);
        if let Some(problem) = &unreachable {
            crate::diag::debug(format_args!("{problem}"));
        }
        HttpSink {
            endpoint,
            authorization,
            agent,
            unreachable,
        }
    }

    /// The endpoint batches are posted to.
    ///
    /// ```
    /// let sink = telemetry::sink::HttpSink::new(" https://collector.example.com/v1/batch ", None);
    /// assert_eq!(sink.endpoint(), "https://collector.example.com/v1/batch");
    /// ```
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

/// The TLS stack chosen by cargo feature: `native-tls` (the platform's library and its
/// root certificates) when it is on, else rustls (`tls`, or `rustls-no-provider` with the
/// host's crypto provider) with the Mozilla roots.
#[cfg(any(
    feature = "tls",
    feature = "native-tls",
    feature = "rustls-no-provider"
))]
fn tls_config() -> ureq::tls::TlsConfig {
    let builder = ureq::tls::TlsConfig::builder();
    #[cfg(feature = "native-tls")]
    let builder = builder
        .provider(ureq::tls::TlsProvider::NativeTls)
        .root_certs(ureq::tls::RootCerts::PlatformVerifier);
    builder.build()
}

/// Why this build cannot send to `url`: an `https://` endpoint in a build without any
/// TLS feature, or with `rustls-no-provider` alone while the host has not installed a
/// process-default crypto provider (ureq would panic on the worker thread).
pub(crate) fn tls_problem(url: &str) -> Option<String> {
    let https = url
        .trim()
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if !https {
        return None;
    }
    if !cfg!(any(
        feature = "tls",
        feature = "native-tls",
        feature = "rustls-no-provider"
    )) {
        return Some(format!(
            "cannot send to {url}: this build of the telemetry crate has no TLS support \
             (its `tls`, `native-tls` and `rustls-no-provider` cargo features are off); \
             enable one, or use an http:// loopback endpoint"
        ));
    }
    #[cfg(all(
        feature = "rustls-no-provider",
        not(any(feature = "tls", feature = "native-tls"))
    ))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        return Some(format!(
            "cannot send to {url}: the telemetry crate was built with `rustls-no-provider` \
             and no rustls crypto provider is installed; call \
             `CryptoProvider::install_default` before `telemetry::init`"
        ));
    }
    None
}

impl Sink for HttpSink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if let Some(problem) = &self.unreachable {
            return Err(SinkError::drop(problem.clone()));
        }
        let body = serde_json::to_vec(batch).map_err(|error| SinkError::drop(error.to_string()))?;
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/json");
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization);
        }
        let mut response = request
            .send(&body[..])
            .map_err(|error| SinkError::retry(describe(&error)))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| crate::runtime::backoff::parse_retry_after(value, SystemTime::now()));
        // Read the (small) answer so the connection goes back to the pool for the next
        // batch. A 2xx whose body cannot be read was still accepted.
        let _ = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec();
        classify(status, retry_after)
    }

    fn durable(&self) -> bool {
        self.unreachable.is_none()
    }
}

/// What a status code means for the batch.
fn classify(status: u16, retry_after: Option<Duration>) -> Result<(), SinkError> {
    match status {
        200..=299 => Ok(()),
        410 => Err(SinkError::stop("HTTP 410 Gone")),
        429 | 500..=599 => {
            let message = format!("HTTP {status}");
            match retry_after {
                Some(delay) => Err(SinkError::retry_after(message, delay)),
                None => Err(SinkError::retry(message)),
            }
        }
        _ => Err(SinkError::drop(format!("HTTP {status}"))),
    }
}

fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(reason) => format!("timed out ({reason})"),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::Action;

    #[test]
    fn statuses_map_to_actions() {
        assert_eq!(classify(200, None), Ok(()));
        assert_eq!(classify(204, None), Ok(()));
        assert_eq!(classify(410, None).unwrap_err().action(), Action::Stop);
        assert_eq!(
            classify(429, Some(Duration::from_secs(7)))
                .unwrap_err()
                .action(),
            Action::Retry(Some(Duration::from_secs(7)))
        );
        assert_eq!(
            classify(503, None).unwrap_err().action(),
            Action::Retry(None)
        );
        for status in [301, 400, 401, 403, 404, 413, 422] {
            assert_eq!(classify(status, None).unwrap_err().action(), Action::Drop);
        }
    }

    #[test]
    fn https_needs_the_tls_feature() {
        assert_eq!(tls_problem("http://127.0.0.1:8080/v1/batch"), None);
        let problem = tls_problem("HTTPS://collector.example.com/v1/batch");
        assert_eq!(
            problem.is_some(),
            !cfg!(any(feature = "tls", feature = "native-tls"))
        );
    }
}
