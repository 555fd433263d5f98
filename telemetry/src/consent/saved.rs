//! The user's saved choice: `enable`, `disable`, `set_local` and `set_level` write it
//! into the state file (its fields beyond `enabled` are read and written by `level`).

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::level::{self, Mode};
use super::state::{self, Change, Loaded, State};
use crate::config::Config;
use crate::level::Level;
use crate::status::Status;

/// How long `enable`/`disable` wait for another process's state lock.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// See [`crate::enable`].
pub(crate) fn enable(config: &Config) -> io::Result<Status> {
    save_over_valid(config, |state| {
        level::choose(state, Mode::On, None);
    })
}

/// Applies `choose` to the saved state (created if missing) and writes it; refuses to
/// replace a state file that cannot be read, since it may hold an opt-out. For every
/// choice but `disable`.
fn save_over_valid(config: &Config, choose: impl Fn(&mut State)) -> io::Result<Status> {
    let dir = state_dir(config)?;
    state::update(&dir, LOCK_WAIT, |loaded| {
        let mut state = match loaded {
            Loaded::Missing => State::generate()?,
            Loaded::Valid(state) => state,
            Loaded::Unreadable(reason) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{reason}; the file was left as it is (it may hold an opt-out): \
                         delete it, or disable telemetry to replace it, then enable again"
                    ),
                ))
            }
        };
        choose(&mut state);
        Ok(Change::Write(state))
    })?;
    Ok(super::status(config))
}

/// See [`crate::disable`].
pub(crate) fn disable(config: &Config) -> io::Result<Status> {
    let dir = state_dir(config)?;
    let change = |loaded: Loaded| {
        let mut state = match loaded {
            Loaded::Valid(state) => state,
            Loaded::Missing | Loaded::Unreadable(_) => State::generate()?,
        };
        level::choose(&mut state, Mode::Off, None);
        Ok(Change::Write(state))
    };
    match state::update(&dir, LOCK_WAIT, change) {
        // A user's opt-out must not depend on another process letting go of the lock.
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
            state::update_unlocked(&dir, change)?;
        }
        other => {
            other?;
        }
    }
    forget_undelivered(&dir, state::cache_dir(config).as_deref());
    // What was recorded goes with the choice.
    if let Some(cache_dir) = state::cache_dir(config) {
        crate::delivery::remove_local_log(&cache_dir);
    }
    Ok(super::status(config))
}

/// See [`crate::set_local`].
pub(crate) fn set_local(config: &Config) -> io::Result<Status> {
    save_over_valid(config, |state| level::choose(state, Mode::Local, None))
}

/// See [`crate::set_level`].
pub(crate) fn set_level(config: &Config, level: Level) -> io::Result<Status> {
    if level == Level::Off {
        return disable(config);
    }
    save_over_valid(config, |state| {
        let mode = match level::saved(state).mode {
            Some(Mode::Local) => Mode::Local,
            _ => Mode::On,
        };
        level::choose(state, mode, Some(level));
    })
}

/// An opt-out also deletes what would have been sent: every receiver's spool, and the
/// delivery records (their counts of lost events included). Best effort: what cannot be
/// deleted is never sent anyway, since nothing is sent once the opt-out is saved.
fn forget_undelivered(state_dir: &Path, cache_dir: Option<&Path>) {
    if let Some(cache_dir) = cache_dir {
        // Never follows a link: a planted one is removed, not what it points to.
        let _ = std::fs::remove_dir_all(cache_dir.join(crate::delivery::SPOOL_DIR));
    }
    for dir in std::iter::once(state_dir).chain(cache_dir) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("delivery") && name.ends_with(".json") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

fn state_dir(config: &Config) -> io::Result<PathBuf> {
    state::state_dir(config).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "no home or config directory to keep the telemetry choice in",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::io;

    fn config(dir: &std::path::Path) -> Config {
        Config::new("choice-test", "1.0").state_dir(dir)
    }

    #[test]
    fn disable_then_enable_keeps_the_id() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let off = disable(&config).unwrap();
        assert_eq!(off.saved_choice, Some(false));
        let id = off.anonymous_id.clone().unwrap();
        let on = enable(&config).unwrap();
        assert_eq!(on.saved_choice, Some(true));
        assert_eq!(on.anonymous_id.as_deref(), Some(id.as_str()));
    }

    #[test]
    fn disable_replaces_a_corrupt_file_and_enable_refuses_to() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let path = dir.path().join(state::STATE_FILE);
        std::fs::write(&path, b"{\"enabled\": fal").unwrap();
        let error = enable(&config).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"enabled\": fal");
        disable(&config).unwrap();
        match state::load(dir.path()) {
            Loaded::Valid(state) => assert_eq!(state.enabled, Some(false)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn disable_deletes_the_spool_and_the_delivery_records() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let cache = state::cache_dir(&config).unwrap();
        let spool = cache.join("spool").join("0123456789abcdef");
        std::fs::create_dir_all(&spool).unwrap();
        std::fs::write(spool.join("0000000000001-1-1-1-1.jsonl"), b"{}\n").unwrap();
        std::fs::write(dir.path().join("delivery-0123456789abcdef.json"), b"{}").unwrap();
        std::fs::write(cache.join("delivery.json"), b"{}").unwrap();
        disable(&config).unwrap();
        assert!(!cache.join("spool").exists());
        assert!(!dir.path().join("delivery-0123456789abcdef.json").exists());
        assert!(!cache.join("delivery.json").exists());
        assert!(dir.path().join(state::STATE_FILE).exists());
    }

    #[test]
    fn no_writable_directory_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        let config = Config::new("x", "1").state_dir(file.join("sub"));
        assert!(disable(&config).is_err());
        assert!(enable(&config).is_err());
    }
}
