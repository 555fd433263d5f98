//! What the network sinks share: one bounded HTTP POST and how its answer is read.
//!
//! [`HttpSink`](super::HttpSink), [`OtlpSink`](super::OtlpSink) and
//! [`PostHogSink`](super::PostHogSink) each build their own body; this posts it with the
//! same agent settings (timeouts, no redirects, one pooled connection, no proxy for a
//! loopback endpoint) and hands back the status and any `Retry-After`, which each sink
//! maps to a [`SinkError`] with its receiver's rules ([`segment_rules`], [`otlp_rules`]).

use std::time::{Duration, SystemTime};

use super::SinkError;

/// The default bound on name resolution and on connecting.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The default bound on a whole request: resolution, connection, TLS, sending the batch
/// and reading the answer.
pub(crate) const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(5);
/// Answers are read (so the connection can be reused) up to this size, then dropped.
const MAX_ANSWER: u64 = 64 * 1024;

/// A bounded POST to one endpoint.
pub(crate) struct Poster {
    endpoint: String,
    agent: ureq::Agent,
    /// Why this sink cannot reach the endpoint at all, if it cannot.
    unreachable: Option<String>,
}

/// What the receiver answered.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
}

impl Poster {
    /// A poster for `endpoint`. With `check_endpoint`, the endpoint must pass the
    /// library's endpoint rule (`https://`, or `http://` to a loopback address); a
    /// failing endpoint, like an `https://` one in a build without TLS, makes every
    /// post a dropped batch (said once in debug mode).
    pub(crate) fn new(
        endpoint: String,
        connect: Duration,
        total: Duration,
        check_endpoint: bool,
    ) -> Self {
        let endpoint = endpoint.trim().to_owned();
        let mut config = ureq::Agent::config_builder()
            .timeout_resolve(Some(connect))
            .timeout_connect(Some(connect))
            .timeout_global(Some(total))
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(1)
            .max_idle_connections_per_host(1)
            .max_idle_age(Duration::from_secs(60))
            .user_agent(concat!("telemetry/", env!("CARGO_PKG_VERSION")));
        if super::endpoint::is_loopback_url(&endpoint) {
            // A proxy from the environment must never see (or break) loopback traffic.
            config = config.proxy(None);
        }
        #[cfg(any(
            feature = "tls",
            feature = "native-tls",
            feature = "rustls-no-provider"
        ))]
        let config = config.tls_config(tls_config());
        let agent = config.build().new_agent();
        let unreachable = if check_endpoint {
            super::endpoint::validate(&endpoint)
                .err()
                .map(|problem| format!("cannot send to {endpoint}: {problem}"))
        } else {
            None
        }
        .or_else(|| tls_problem(&endpoint));
        if let Some(problem) = &unreachable {
            crate::diag::debug(format_args!("{problem}"));
        }
        Poster {
            endpoint,
            agent,
            unreachable,
        }
    }

    /// The endpoint, trimmed.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether the endpoint can be reached by this build at all.
    pub(crate) fn reachable(&self) -> bool {
        self.unreachable.is_none()
    }

    /// POSTs `body` as `application/json` with the extra `headers`. A network error, a
    /// timeout or an answer that is not HTTP is a retry; an unreachable endpoint a drop.
    pub(crate) fn post(&self, body: &[u8], headers: &[(&str, &str)]) -> Result<Answer, SinkError> {
        if let Some(problem) = &self.unreachable {
            return Err(SinkError::drop(problem.clone()));
        }
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request
            .send(body)
            .map_err(|error| SinkError::retry(describe(&error)))?;
        let status = response.status().as_u16();
        // Only an answer that asks to come back later has a say in when.
        let retry_after = (status == 429 || status >= 500)
            .then(|| response.headers().get("retry-after"))
            .flatten()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        // Read the (small) answer so the connection goes back to the pool for the next
        // batch. A 2xx whose body cannot be read was still accepted.
        let _ = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec();
        Ok(Answer {
            status,
            retry_after,
        })
    }
}

/// Segment's (and PostHog's) rules: `2xx` delivered; `410 Gone` stops this
/// installation; `429` and `5xx` retried, honouring `Retry-After`; anything else drops
/// the batch.
pub(crate) fn segment_rules(answer: &Answer) -> Result<(), SinkError> {
    match answer.status {
        200..=299 => Ok(()),
        410 => Err(SinkError::stop("HTTP 410 Gone")),
        413 => Err(SinkError::too_large("HTTP 413 Payload Too Large")),
        429 | 500..=599 => Err(retry(answer)),
        status => Err(SinkError::drop(format!("HTTP {status}"))),
    }
}

/// OTLP/HTTP's rules (opentelemetry-proto's specification, "Failures"): `2xx`
/// delivered; only `429`, `502`, `503` and `504` are retryable, honouring
/// `Retry-After`; every other status drops the batch.
pub(crate) fn otlp_rules(answer: &Answer) -> Result<(), SinkError> {
    match answer.status {
        200..=299 => Ok(()),
        429 | 502 | 503 | 504 => Err(retry(answer)),
        status => Err(SinkError::drop(format!("HTTP {status}"))),
    }
}

fn retry(answer: &Answer) -> SinkError {
    let message = format!("HTTP {}", answer.status);
    match answer.retry_after {
        Some(delay) => SinkError::retry_after(message, delay),
        None => SinkError::retry(message),
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

/// `base` with `path` appended, without doubling or losing the `/` between them.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(reason) => format!("timed out ({reason})"),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        other => other.to_string(),
    }
}

/// Parses a `Retry-After` header: a number of seconds, or an HTTP date, which becomes
/// the time left until it. Anything else, a date too far out to represent included, is
/// `None`: a header never makes delivery fail.
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    // delay-seconds is digits only (RFC 9110), without the sign `parse` would take; a
    // number too large for a u64 still asks for a long wait, which the back-off caps,
    // rather than for none at all.
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::Action;

    fn answer(status: u16, retry_after: Option<u64>) -> Answer {
        Answer {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn segment_statuses_map_to_actions() {
        assert_eq!(segment_rules(&answer(200, None)), Ok(()));
        assert_eq!(segment_rules(&answer(204, None)), Ok(()));
        assert_eq!(
            segment_rules(&answer(410, None)).unwrap_err().action(),
            Action::Stop
        );
        assert_eq!(
            segment_rules(&answer(429, Some(7))).unwrap_err().action(),
            Action::Retry(Some(Duration::from_secs(7)))
        );
        for status in [500, 501, 503] {
            assert_eq!(
                segment_rules(&answer(status, None)).unwrap_err().action(),
                Action::Retry(None)
            );
        }
        assert_eq!(
            segment_rules(&answer(413, None)).unwrap_err().action(),
            Action::Split
        );
        for status in [301, 400, 401, 403, 404, 422] {
            assert_eq!(
                segment_rules(&answer(status, None)).unwrap_err().action(),
                Action::Drop
            );
        }
    }

    #[test]
    fn otlp_retries_only_429_502_503_504() {
        assert_eq!(otlp_rules(&answer(200, None)), Ok(()));
        assert_eq!(
            otlp_rules(&answer(503, Some(3))).unwrap_err().action(),
            Action::Retry(Some(Duration::from_secs(3)))
        );
        for status in [429, 502, 504] {
            assert_eq!(
                otlp_rules(&answer(status, None)).unwrap_err().action(),
                Action::Retry(None)
            );
        }
        for status in [400, 401, 404, 410, 413, 500, 501] {
            assert_eq!(
                otlp_rules(&answer(status, None)).unwrap_err().action(),
                Action::Drop
            );
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

    #[test]
    fn loopback_endpoints_bypass_proxies() {
        assert!(super::super::endpoint::is_loopback_url(
            "http://127.0.0.1:4318/v1/traces"
        ));
        assert!(super::super::endpoint::is_loopback_url("http://[::1]:4318"));
        assert!(super::super::endpoint::is_loopback_url(
            "http://LOCALHOST:8000/batch/"
        ));
        assert!(!super::super::endpoint::is_loopback_url(
            "https://otel.example.com/v1/traces"
        ));
        assert!(!super::super::endpoint::is_loopback_url("not a url"));
    }

    #[test]
    fn bad_endpoints_drop_without_a_request() {
        let poster = Poster::new(
            "http://collector.example.com/v1/traces".into(),
            DEFAULT_CONNECT_TIMEOUT,
            DEFAULT_TOTAL_TIMEOUT,
            true,
        );
        assert!(!poster.reachable());
        let error = poster.post(b"{}", &[]).err().unwrap();
        assert_eq!(error.action(), Action::Drop);
        assert!(error.message().contains("https://"), "{}", error.message());
    }

    #[test]
    fn joins_paths() {
        assert_eq!(
            join("https://h:4318", "/v1/traces"),
            "https://h:4318/v1/traces"
        );
        assert_eq!(
            join("https://h:4318/", "v1/traces"),
            "https://h:4318/v1/traces"
        );
        assert_eq!(join(" https://h/ph/ ", "/batch/"), "https://h/ph/batch/");
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        use std::time::UNIX_EPOCH;
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06T08:49:37Z
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Tue, 29 Feb 2028 00:00:00 GMT", UNIX_EPOCH),
            Some(Duration::from_secs(1_835_395_200))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 25:00:00 GMT", now),
            None
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 400000000000 08:49:37 GMT", now),
            None,
            "a date beyond any clock is ignored, not a panic"
        );
    }

    /// Found by `prop_retry_after_any_value_is_read_within_the_caps` (seed in
    /// `proptest-regressions/sink/post.txt`): more seconds than a u64 holds were ignored,
    /// so a receiver asking for a very long wait was retried after the first back-off
    /// instead of the longest `Retry-After` honoured; and a sign was taken.
    #[test]
    fn retry_after_beyond_a_u64_asks_for_the_longest_wait() {
        let now = std::time::UNIX_EPOCH;
        let asked = parse_retry_after("20000000000000000000", now);
        assert_eq!(asked, Some(Duration::from_secs(u64::MAX)));
        assert_eq!(
            crate::delivery::backoff::pause(1, asked),
            crate::delivery::backoff::MAX_RETRY_AFTER
        );
        assert_eq!(parse_retry_after("+5", now), None);
    }

    // Property tests: `Retry-After` is whatever a receiver (or anything between it and
    // us) sends; no value may panic, and none may hold delivery back longer than the
    // caps of `backoff`, whatever the clock says.

    use crate::delivery::backoff;
    use proptest::prelude::*;
    use std::time::UNIX_EPOCH;

    fn http_date() -> impl Strategy<Value = String> {
        let weekday = prop::sample::select(vec!["Sun", "Mon", "Sat", "Sunday", "Xyz", ""]);
        let month = prop::sample::select(vec!["Jan", "Feb", "Nov", "Dec", "nov", "Foo", ""]);
        let year = prop_oneof![1900u64..=2100, 0u64..=99_999, any::<u64>()];
        let zone = prop::sample::select(vec!["GMT", "UTC", "+0000", "", "GMT GMT"]);
        let fields = (
            weekday,
            0u32..=40,
            month,
            year,
            0u32..=30,
            0u32..=70,
            0u32..=70,
            zone,
        );
        prop_oneof![
            // IMF-fixdate, the form receivers send.
            fields.clone().prop_map(|(w, d, mo, y, h, mi, s, z)| {
                format!("{w}, {d:02} {mo} {y} {h:02}:{mi:02}:{s:02} {z}")
            }),
            // RFC 850 and asctime, the obsolete forms a recipient must still read.
            fields.clone().prop_map(|(w, d, mo, y, h, mi, s, z)| {
                format!(
                    "{w}day, {d:02}-{mo}-{:02} {h:02}:{mi:02}:{s:02} {z}",
                    y % 100
                )
            }),
            fields.prop_map(|(w, d, mo, y, h, mi, s, _)| {
                format!("{w} {mo} {d:>2} {h:02}:{mi:02}:{s:02} {y}")
            }),
        ]
    }

    fn retry_after_value() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,40}",
            "[0-9]{1,30}",
            "[ \t]{0,2}[+-]?[0-9]{1,25}[ \t]{0,2}",
            "[0-9é🙂٣ ,:.GMTNov-]{0,32}",
            http_date(),
            // Well-formed dates, from the epoch to the last one the format can write.
            (0u64..=253_402_300_799).prop_map(|seconds| {
                httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(seconds))
            }),
            (any::<u64>()).prop_map(|seconds| seconds.to_string()),
        ]
    }

    /// Any wall-clock time, around today or anywhere from the epoch on.
    fn now() -> impl Strategy<Value = SystemTime> {
        prop_oneof![
            (0u64..=1 << 40).prop_map(|seconds| UNIX_EPOCH + Duration::from_secs(seconds)),
            (any::<bool>(), 0u64..=1 << 31).prop_map(|(ahead, seconds)| {
                let by = Duration::from_secs(seconds);
                let today = SystemTime::now();
                if ahead {
                    today + by
                } else {
                    today.checked_sub(by).unwrap_or(UNIX_EPOCH)
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn prop_retry_after_any_value_is_read_within_the_caps(
            value in retry_after_value(),
            now in now(),
            failures in any::<u32>(),
        ) {
            let parsed = parse_retry_after(&value, now);
            let trimmed = value.trim();
            if !trimmed.is_empty() && trimmed.bytes().all(|byte| byte.is_ascii_digit()) {
                // delay-seconds (RFC 9110): any number of digits, however large, asks
                // for at least that long.
                let seconds = trimmed.parse().unwrap_or(u64::MAX);
                prop_assert_eq!(parsed, Some(Duration::from_secs(seconds)), "{:?}", value);
            } else if let Ok(at) = httpdate::parse_http_date(trimmed) {
                prop_assert_eq!(parsed, Some(at.duration_since(now).unwrap_or(Duration::ZERO)));
            } else {
                prop_assert_eq!(parsed, None, "{:?}", value);
            }
            // Applied the way a failed delivery applies it: never past the caps.
            let pause = backoff::pause(failures, parsed);
            let longest = backoff::MAX.max(backoff::MAX_RETRY_AFTER);
            prop_assert!(pause <= longest, "{:?} from {:?}", pause, value);
            prop_assert!(pause >= parsed.unwrap_or_default().min(backoff::MAX_RETRY_AFTER));
            let retry_at = crate::time::system_after(now, pause);
            prop_assert!(retry_at >= now && retry_at <= now + longest);
        }
    }
}
