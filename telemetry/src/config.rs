//! [`Config`]: what the host tells the library at `init`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[cfg(feature = "json")]
use crate::sink::Sink;

/// The default bound on how long the exit flush may hold the process.
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_millis(200);
/// The default number of calls of one tracked function sent one by one per process,
/// before further calls are folded into aggregate events.
pub const DEFAULT_EVENT_BUDGET: u32 = 8;

/// How the host configures telemetry. Built with [`Config::new`] and builder methods,
/// then passed to [`init`](crate::init).
///
/// ```
/// use std::time::Duration;
///
/// let config = telemetry::Config::new("minietl", "1.2.3")
///     .endpoint("https://collector.example.com/v1/batch")
///     .write_key("WRITE_KEY")
///     .flush_timeout(Duration::from_millis(150));
/// assert_eq!(config.app_name(), "minietl");
/// ```
pub struct Config {
    pub(crate) app_name: String,
    pub(crate) app_version: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) write_key: Option<String>,
    pub(crate) host_enabled: Option<bool>,
    pub(crate) flush_timeout: Duration,
    #[cfg(feature = "json")]
    pub(crate) sink: Option<Box<dyn Sink>>,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) error_messages: bool,
    pub(crate) event_budget: u32,
    pub(crate) notice: Option<String>,
    pub(crate) channel_capacity: usize,
    pub(crate) batch_size: usize,
    pub(crate) batch_linger: Duration,
    /// The host's level (`None`: not set, `usage`).
    pub(crate) level: Option<crate::level::Level>,
    /// The fraction of installations that send (`None`: all of them).
    pub(crate) sample_rate: Option<f64>,
}

impl Config {
    /// A configuration for the application `app_name` at version `app_version` (sent as
    /// `context.library`). The name also names the environment variables
    /// (`<APP>_TELEMETRY_DISABLED`, ...) and the state directory.
    ///
    /// ```
    /// let config = telemetry::Config::new("mini-etl", env!("CARGO_PKG_VERSION"));
    /// assert_eq!(config.env_prefix(), "MINI_ETL");
    /// ```
    pub fn new(app_name: impl Into<String>, app_version: impl Into<String>) -> Self {
        Config {
            app_name: app_name.into(),
            app_version: app_version.into(),
            endpoint: None,
            write_key: None,
            host_enabled: None,
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
            #[cfg(feature = "json")]
            sink: None,
            state_dir: None,
            cache_dir: None,
            error_messages: false,
            event_budget: DEFAULT_EVENT_BUDGET,
            notice: None,
            channel_capacity: 1024,
            batch_size: 100,
            batch_linger: Duration::from_millis(500),
            level: None,
            sample_rate: None,
        }
    }

    /// Where the HTTP sink posts batches. Must be `https://`, except for loopback
    /// addresses. `<APP>_TELEMETRY_ENDPOINT` overrides it.
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").endpoint("https://collector.example.com/v1/batch");
    /// # let _ = config;
    /// ```
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The write key sent as `Authorization: Basic base64(write_key + ":")`.
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").write_key("WRITE_KEY");
    /// # let _ = config;
    /// ```
    pub fn write_key(mut self, key: impl Into<String>) -> Self {
        self.write_key = Some(key.into());
        self
    }

    /// The host's own opt-out source (its project file, its `--disable-telemetry` flag).
    /// `false` turns telemetry off for this run; `true` changes nothing (a user's
    /// `DO_NOT_TRACK` or saved opt-out still wins).
    ///
    /// ```
    /// let disable_flag = std::env::args().any(|arg| arg == "--disable-telemetry");
    /// let config = telemetry::Config::new("app", "1.0").enabled(!disable_flag);
    /// # let _ = config;
    /// ```
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.host_enabled = Some(enabled);
        self
    }

    /// The longest the exit flush (dropping the guard, or [`flush`](crate::flush)) may
    /// wait for delivery. Default: 200 ms. What is not delivered by then is kept on disk
    /// and sent by a later run.
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").flush_timeout(std::time::Duration::from_millis(100));
    /// # let _ = config;
    /// ```
    pub fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Sends batches to `sink` instead of the HTTP endpoint. (With the `json` feature,
    /// part of `enabled`.)
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").sink(telemetry::sink::DebugSink::new());
    /// # let _ = config;
    /// ```
    #[cfg(feature = "json")]
    pub fn sink(mut self, sink: impl Sink) -> Self {
        self.sink = Some(Box::new(sink));
        self
    }

    /// Keeps the state file (anonymous id, hash key, saved choice) in `dir` instead of the
    /// platform's config directory. For tests, sandboxes and portable installs.
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").state_dir(std::env::temp_dir().join("app-telemetry"));
    /// # let _ = config;
    /// ```
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Keeps the spool of undelivered events in `dir` instead of the platform's cache
    /// directory (by default, under [`state_dir`](Config::state_dir) when that is set).
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").cache_dir(std::env::temp_dir().join("app-cache"));
    /// # let _ = config;
    /// ```
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Opts in to sending the messages of failed calls' errors, scrubbed of home
    /// directories, user names, paths, URLs with credentials and tokens. Off by default:
    /// then only the error's type name is sent.
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").error_messages(true);
    /// # let _ = config;
    /// ```
    pub fn error_messages(mut self, send: bool) -> Self {
        self.error_messages = send;
        self
    }

    /// How many calls of one tracked function are sent as separate events per process
    /// before further calls are folded into one aggregate event per flush. Default: 8.
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").event_budget(10);
    /// # let _ = config;
    /// ```
    pub fn event_budget(mut self, calls: u32) -> Self {
        self.event_budget = calls;
        self
    }

    /// Replaces the first-run notice printed on stderr. It should say what is collected
    /// and how to opt out. An empty text prints nothing (the notice still counts as shown):
    /// only do that if the host informs its users another way.
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0")
    ///     .notice("app collects anonymous usage data; run `app telemetry disable` to opt out.");
    /// # let _ = config;
    /// ```
    pub fn notice(mut self, text: impl Into<String>) -> Self {
        self.notice = Some(text.into());
        self
    }

    /// The capacity of the channel between callers and the worker (default 1024; at
    /// least 16). When full, events are dropped and counted, never waited for. A slot holds
    /// one call's record with its short argument values inline; a quarter as many boxes
    /// for failed calls and argument values too long to be inline (each with a buffer for
    /// the values, kept up to 1 KiB) are kept for reuse once the worker is done with them.
    /// The sizes are in `docs/performance.md`.
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").channel_capacity(4096);
    /// # let _ = config;
    /// ```
    pub fn channel_capacity(mut self, capacity: usize) -> Self {
        self.channel_capacity = capacity;
        self
    }

    /// Deliver as soon as `events` are waiting (default 100), and at the latest `linger`
    /// after the first of them (default 500 ms).
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").batching(50, std::time::Duration::from_secs(1));
    /// # let _ = config;
    /// ```
    pub fn batching(mut self, events: usize, linger: Duration) -> Self {
        self.batch_size = events.max(1);
        self.batch_linger = linger;
        self
    }

    /// The host's [`Level`](crate::Level): `Errors` sends only failures, `Off` turns
    /// telemetry off for the run. It can only lower the level: the effective one is the
    /// lowest of this, `<APP>_TELEMETRY_LEVEL` and the user's saved level (see
    /// [`Level`](crate::Level)).
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").level(telemetry::Level::Errors);
    /// # let _ = config;
    /// ```
    pub fn level(mut self, level: crate::level::Level) -> Self {
        self.level = Some(level);
        self
    }

    /// Sends from only this fraction of installations (`0.0..=1.0`; default: all). The
    /// decision is made per installation, not per run: the anonymous id is hashed
    /// (BLAKE3 of its text, the first 8 bytes as a big-endian integer divided by
    /// 2<sup>64</sup>) to a number in `[0, 1)`, and the installation sends when that
    /// number is below the rate, run after run. The rate goes out with every event as
    /// `properties.sample_rate` (when below 1), so receivers can scale counts up.
    ///
    /// An installation outside the sample behaves as if telemetry were off for the run
    /// ([`Source::NotSampled`](crate::Source::NotSampled)): no notice, no worker, no local
    /// log; only the state file holding the anonymous id is created, since the decision
    /// needs the id. A rate that is not a number counts as 0; rates are clamped to
    /// `0.0..=1.0`.
    ///
    /// ```
    /// let config = telemetry::Config::new("app", "1.0").sample_rate(0.1);
    /// # let _ = config;
    /// ```
    pub fn sample_rate(mut self, rate: f64) -> Self {
        self.sample_rate = Some(if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        });
        self
    }

    /// The application name given to [`Config::new`].
    pub fn app_name(&self) -> &str {
        &self.app_name
    }

    /// The application version given to [`Config::new`].
    pub fn app_version(&self) -> &str {
        &self.app_version
    }

    /// The prefix of the application's environment variables: the app name upper-cased,
    /// with every character that is not an ASCII letter or digit replaced by `_`.
    ///
    /// ```
    /// assert_eq!(telemetry::Config::new("mini-etl", "1").env_prefix(), "MINI_ETL");
    /// ```
    pub fn env_prefix(&self) -> String {
        env_prefix(&self.app_name)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "json")]
        let custom_sink = self.sink.is_some();
        #[cfg(not(feature = "json"))]
        let custom_sink = false;
        f.debug_struct("Config")
            .field("app_name", &self.app_name)
            .field("app_version", &self.app_version)
            .field("endpoint", &self.endpoint.as_deref().map(redact_userinfo))
            .field("write_key", &self.write_key.as_ref().map(|_| "<redacted>"))
            .field("host_enabled", &self.host_enabled)
            .field("flush_timeout", &self.flush_timeout)
            .field("custom_sink", &custom_sink)
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

/// `url` with the user name and password of its authority replaced, so that a `Debug`
/// print (a log, a panic message) never shows a credential.
pub(crate) fn redact_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    let Some(scheme_end) = url.find("://").map(|at| at + 3) else {
        return url.into();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}<redacted>{}", &url[..scheme_end], &rest[at..]).into(),
        None => url.into(),
    }
}

/// `mini-etl` becomes `MINI_ETL`: see [`Config::env_prefix`].
pub(crate) fn env_prefix(app_name: &str) -> String {
    identifier(app_name).to_ascii_uppercase()
}

/// `text` with every character but ASCII letters and digits replaced by `_`.
pub(crate) fn identifier(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                character
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_credential() {
        let config = Config::new("app", "1")
            .endpoint("https://user:hunter2@collector.example.com/v1/batch?x=a@b")
            .write_key("WRITE-KEY-42");
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("user:"), "{printed}");
        assert!(!printed.contains("WRITE-KEY-42"), "{printed}");
        assert!(
            printed.contains(r#"write_key: Some("<redacted>")"#),
            "{printed}"
        );
        assert!(
            printed.contains("https://<redacted>@collector.example.com/v1/batch?x=a@b"),
            "{printed}"
        );
        assert_eq!(
            redact_userinfo("https://a.example/b@c"),
            "https://a.example/b@c"
        );
        assert_eq!(redact_userinfo("not a url"), "not a url");
    }
}
