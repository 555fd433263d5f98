//! [`Source`]: which source decided whether telemetry is on, and [`parse_bool`], the
//! values its variables take. The decision itself is made in `consent`.

use std::fmt;

/// The source that decided whether telemetry is on, in precedence order.
///
/// # Precedence
///
/// The first source that applies decides:
///
/// | # | source | effect |
/// |---|--------|--------|
/// | 1 | built without the `enabled` feature | nothing exists ([`Source::CompiledOut`]) |
/// | 2 | `DO_NOT_TRACK` set to a true value | off ([`Source::DoNotTrack`]) |
/// | 3 | `<APP>_TELEMETRY_DISABLED` set to a true value | off ([`Source::AppDisabledEnv`]) |
/// | 4 | the host's `Config::enabled(false)` | off ([`Source::Host`]) |
/// | 4b | `<APP>_TELEMETRY_LEVEL` set to `off` or to a value that is not a level, or the host's `Config::level(Level::Off)` | off ([`Source::Level`]) |
/// | 5 | the saved choice (`enable`/`disable`/`set_local`/`set_level`) | as saved: on, local-only, or off ([`Source::Saved`]) |
/// | 6 | nothing said no | on, first-run notice ([`Source::Default`]) |
///
/// Once steps 5–6 say on (or local-only), and the state file gives the anonymous id, an
/// installation outside the host's `Config::sample_rate` is off for the run
/// ([`Source::NotSampled`]): no notice, no thread, no log.
///
/// # Level and local-only mode
///
/// Beside on/off, what is sent is the [`Level`](crate::Level) (`off < errors < usage`):
/// **the lowest** of `Config::level`, `<APP>_TELEMETRY_LEVEL` and the saved level
/// (unset ones count as `usage`). The environment and the host can lower the user's
/// level, never raise it; the user's saved level caps both. `off` from any of them
/// is the same as disabled (rows 4b and 5).
///
/// Local-only mode (`set_local`, `<tool> telemetry local`) is a saved choice (row 5):
/// events are built and written to the local log (`sent_log`), never sent: no sink, no
/// network, no spool. Rows 2–4b still turn it off entirely. `enable` leaves it, and its
/// date is saved: events recorded before an opt-in are never sent after it.
///
/// Steps 1–4 need no file: when one of them says no, `init` reads nothing, writes
/// nothing, starts no thread and opens no socket. At step 5, a state file that cannot
/// be read or parsed turns telemetry off for the run and is left as it is
/// ([`Source::UnreadableState`]), and so does having no config directory at all
/// ([`Source::NoStateDir`]). When steps 5–6 say on, an invalid endpoint
/// ([`Source::InvalidConfig`], checked before anything is written) and then a state file
/// that cannot be created or updated ([`Source::NoStateDir`]) still turn it off for the
/// run, without any effect on the host.
///
/// # Values of the variables
///
/// `1`, `true`, `yes`, `on` (any case, surrounding spaces ignored) are true; `0`,
/// `false`, `no`, `off` and the empty string are false (so `DO_NOT_TRACK=0` and
/// `DO_NOT_TRACK=` leave telemetry on, as the Console Do Not Track convention says).
///
/// Any other value of an **opt-out** variable (`DO_NOT_TRACK`,
/// `<APP>_TELEMETRY_DISABLED`), such as `DO_NOT_TRACK=please` or a value that is not
/// valid Unicode, counts as **true**: someone who set it meant to opt out, and when in
/// doubt privacy wins. Any other value of the **debug** switch
/// (`<APP>_TELEMETRY_DEBUG`) counts as false: debug mode changes where events go, so it
/// is only turned on on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// The `telemetry` crate was built without its `enabled` feature.
    CompiledOut,
    /// `DO_NOT_TRACK` is set to a true value.
    DoNotTrack,
    /// `<APP>_TELEMETRY_DISABLED` is set to a true value.
    AppDisabledEnv,
    /// The host said so: `Config::enabled(false)` (its flag or project file).
    Host,
    /// The user's choice saved by `enable`/`disable`.
    Saved,
    /// The state file exists but cannot be read or parsed: off for this run, so a saved
    /// opt-out is never lost to a corrupted file.
    UnreadableState,
    /// No state directory could be found or created: off, the host is unaffected.
    NoStateDir,
    /// The configuration cannot work (an endpoint that is not `https://` or loopback,
    /// no endpoint and no sink).
    InvalidConfig,
    /// Nothing said no: on by default.
    Default,
    /// The level is `off`: `<APP>_TELEMETRY_LEVEL` is `off` (or not a level at all), or
    /// the host's `Config::level(Level::Off)`. See [`Level`](crate::Level).
    Level,
    /// This installation is outside the host's sample (`Config::sample_rate`): nothing
    /// is recorded or sent from it.
    NotSampled,
}

impl Source {
    /// A short, human-readable explanation.
    ///
    /// ```
    /// assert_eq!(telemetry::Source::DoNotTrack.describe(), "DO_NOT_TRACK is set");
    /// ```
    pub fn describe(self) -> &'static str {
        match self {
            Source::CompiledOut => "built without the `enabled` feature",
            Source::DoNotTrack => "DO_NOT_TRACK is set",
            Source::AppDisabledEnv => "the application's TELEMETRY_DISABLED variable is set",
            Source::Host => "the application turned it off (flag or project setting)",
            Source::Saved => "the saved choice",
            Source::UnreadableState => {
                "the state file cannot be read (off until it is fixed or reset)"
            }
            Source::NoStateDir => "no writable state directory",
            Source::InvalidConfig => "the configuration is invalid",
            Source::Default => "the default",
            Source::Level => {
                "the telemetry level is off (the TELEMETRY_LEVEL variable or the application)"
            }
            Source::NotSampled => "this installation is outside the application's sample",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Parses a boolean environment value: `1`, `true`, `yes`, `on` (any case, surrounding
/// whitespace ignored) are true; `0`, `false`, `no`, `off` and empty are false; anything
/// else is `None`.
///
/// The library reads `None` as true for the opt-out variables (`DO_NOT_TRACK`,
/// `<APP>_TELEMETRY_DISABLED`: privacy wins ties) and as false for
/// `<APP>_TELEMETRY_DEBUG`. Hosts reading their own switches can do the same.
///
/// ```
/// use telemetry::parse_bool;
/// assert_eq!(parse_bool("YES"), Some(true));
/// assert_eq!(parse_bool(""), Some(false));
/// assert_eq!(parse_bool("maybe"), None);
/// ```
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_bool;

    #[test]
    fn design_values() {
        for value in [
            "1", "true", "TRUE", "True", "yes", "YES", "on", "On", " 1 ", "true\n",
        ] {
            assert_eq!(parse_bool(value), Some(true), "{value:?}");
        }
        for value in ["0", "false", "FALSE", "no", "No", "off", "OFF", "", "  "] {
            assert_eq!(parse_bool(value), Some(false), "{value:?}");
        }
        for value in ["2", "please", "y", "t", "enabled", "-1", "truee"] {
            assert_eq!(parse_bool(value), None, "{value:?}");
        }
    }
}
