//! The user's choice, saved in the state file: [`enable`], [`disable`], local-only mode
//! ([`set_local`]) and the level ([`set_level`]); and the `--disable-telemetry` flag
//! helpers for a host's own argument list.

use std::ffi::OsStr;
use std::io;

use crate::config::Config;
use crate::level::Level;
use crate::status::Status;

/// The flag a host documents for turning telemetry off for one run.
///
/// ```
/// assert_eq!(telemetry::DISABLE_FLAG, "--disable-telemetry");
/// ```
pub const DISABLE_FLAG: &str = "--disable-telemetry";

/// Saves the user's choice to turn telemetry **on** and returns the resulting status.
///
/// The choice is kept in the state file (created if absent, with a new anonymous id and
/// hash key). It is the fifth source of the precedence: `DO_NOT_TRACK`,
/// `<APP>_TELEMETRY_DISABLED` and the host's `Config::enabled(false)` still win, and the
/// returned [`Status`] says so.
///
/// A state file that cannot be read or parsed is **not** replaced: `enable` fails with
/// an [`io::ErrorKind::InvalidData`] error naming the file, since the broken file may
/// hold an opt-out. Delete the file (or run [`disable`], which replaces it) first.
/// Built without the `enabled` feature, it does nothing and reports that telemetry is
/// compiled out.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let config = telemetry::Config::new("demo", "1.0").state_dir(dir.path());
/// telemetry::disable(&config)?;
/// let status = telemetry::enable(&config)?;
/// # #[cfg(feature = "enabled")]
/// assert_eq!(status.saved_choice, Some(true));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn enable(config: &Config) -> io::Result<Status> {
    crate::imp::enable(config)
}

/// Saves the user's choice to turn telemetry **off** and returns the resulting status.
///
/// Works in every state: a missing state file is created holding the opt-out, and one
/// that cannot be read or parsed is replaced by a valid file holding the opt-out (with a
/// new anonymous id and key, which a disabled installation never sends). The write is
/// atomic. If another process holds the state lock for more than two seconds, the
/// opt-out is written without the lock rather than not at all.
///
/// It only fails when nothing can be written (no home directory, a read-only file
/// system); the host should then tell the user, who can still set `DO_NOT_TRACK=1`.
/// Built without the `enabled` feature, there is nothing to disable and it does nothing.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let config = telemetry::Config::new("demo", "1.0").state_dir(dir.path());
/// let status = telemetry::disable(&config)?;
/// assert!(!status.enabled);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn disable(config: &Config) -> io::Result<Status> {
    crate::imp::disable(config)
}

/// Saves the user's choice of **local-only** mode and returns the resulting status:
/// events are built and written to the local log (`sent_log`), never sent (no network,
/// no spool), so the user (or their company's policy) can look at what would go out
/// before opting in with [`enable`].
///
/// Events recorded before an opt-in are never sent after it: `enable` saves its date
/// (`chosen_at` in the state file) and delivery drops (and logs as dropped) anything
/// older. Like `enable`, it refuses to replace a state file that cannot be read (it may
/// hold an opt-out). The environment's and the host's opt-outs still win.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let config = telemetry::Config::new("demo", "1.0").state_dir(dir.path());
/// let status = telemetry::set_local(&config)?;
/// # #[cfg(feature = "enabled")]
/// assert!(status.local);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_local(config: &Config) -> io::Result<Status> {
    crate::imp::set_local(config)
}

/// Saves the user's [`Level`] and returns the resulting status. `Level::Off` is
/// [`disable`]. `Errors` or `Usage` keep the saved mode if it is `on`
/// or local-only, and turn telemetry on if it was off (the user asked for it to send
/// something). The effective level is the lowest of this, the host's and
/// `<APP>_TELEMETRY_LEVEL` (see [`Level`]).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let config = telemetry::Config::new("demo", "1.0").state_dir(dir.path());
/// let status = telemetry::set_level(&config, telemetry::Level::Errors)?;
/// # #[cfg(feature = "enabled")]
/// assert_eq!(status.saved_level, Some(telemetry::Level::Errors));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_level(config: &Config, level: Level) -> io::Result<Status> {
    crate::imp::set_level(config, level)
}

/// Whether `--disable-telemetry` is among `args` (before any `--`, after which
/// arguments belong to the program, not to its options).
///
/// Pass the result to [`Config::enabled`](crate::Config::enabled) (as `!disabled`): the
/// flag turns telemetry off for this run only. See [`take_disable_flag`] to also remove
/// it before the host parses its arguments.
///
/// ```
/// let disabled = telemetry::disable_flag(std::env::args_os());
/// let config = telemetry::Config::new("demo", "1.0").enabled(!disabled);
/// # let _ = config;
/// assert!(telemetry::disable_flag(["demo", "run", "--disable-telemetry"]));
/// assert!(!telemetry::disable_flag(["demo", "--", "--disable-telemetry"]));
/// ```
pub fn disable_flag<I>(args: I) -> bool
where
    I: IntoIterator,
    I::Item: AsRef<OsStr>,
{
    args.into_iter()
        .map_while(|arg| (arg.as_ref() != "--").then_some(arg))
        .any(|arg| arg.as_ref() == DISABLE_FLAG)
}

/// Removes every `--disable-telemetry` before any `--` from `args` and says whether
/// there was one, for hosts whose argument parser would reject an unknown flag.
///
/// ```
/// let mut args: Vec<String> = ["demo", "--disable-telemetry", "run", "--", "--disable-telemetry"]
///     .map(String::from)
///     .to_vec();
/// assert!(telemetry::take_disable_flag(&mut args));
/// assert_eq!(args, ["demo", "run", "--", "--disable-telemetry"]);
///
/// let config = telemetry::Config::new("demo", "1.0").enabled(false);
/// # let _ = config;
/// ```
pub fn take_disable_flag<T: AsRef<OsStr>>(args: &mut Vec<T>) -> bool {
    let end = args
        .iter()
        .position(|arg| arg.as_ref() == "--")
        .unwrap_or(args.len());
    let before = args.len();
    let mut index = 0;
    args.retain(|arg| {
        index += 1;
        index > end || arg.as_ref() != DISABLE_FLAG
    });
    args.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_before_separator_only() {
        assert!(disable_flag(["x", "--disable-telemetry"]));
        assert!(!disable_flag(["x", "--disable-telemetry=yes"]));
        assert!(!disable_flag(Vec::<String>::new()));
        let mut args = vec!["x", "--", "--disable-telemetry"];
        assert!(!take_disable_flag(&mut args));
        assert_eq!(args, ["x", "--", "--disable-telemetry"]);
        let mut args = vec!["--disable-telemetry", "a", "--disable-telemetry"];
        assert!(take_disable_flag(&mut args));
        assert_eq!(args, ["a"]);
    }
}
