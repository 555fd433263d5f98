//! The per-installation state file: anonymous id, hash key, the user's saved choice.
//!
//! One JSON file, `state.json`, in the platform's config directory under the app's name
//! (or [`Config::state_dir`](crate::Config::state_dir)). Written atomically (a temporary
//! file, then a link or rename), created only if absent so parallel first runs agree on
//! one id, readable by its owner only.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;

/// The name of the state file inside the state directory.
pub(crate) const STATE_FILE: &str = "state.json";

/// What the state file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct State {
    /// Format version of the file.
    pub(crate) version: u32,
    /// The random UUID v4 sent as `anonymousId`.
    pub(crate) anonymous_id: String,
    /// The 256-bit hash key, hex-encoded. Never sent.
    pub(crate) hash_key: String,
    /// The user's saved choice: `Some(false)` after `disable`, `Some(true)` after `enable`.
    #[serde(default)]
    pub(crate) enabled: Option<bool>,
    /// Whether the first-run notice has been shown.
    #[serde(default)]
    pub(crate) notice_shown: bool,
}

/// The outcome of reading the state file.
pub(crate) enum Loaded {
    /// No state file yet: a first run.
    Missing,
    Valid(State),
    /// The file exists but cannot be read or parsed; it is left as it is.
    Unreadable(String),
}

/// The directory holding the state file, for `config`.
pub(crate) fn state_dir(config: &Config) -> Option<PathBuf> {
    if let Some(dir) = &config.state_dir {
        return Some(dir.clone());
    }
    dirs::config_dir().map(|base| base.join(dir_name(config)))
}

/// The directory for the spool and other disposable files.
pub(crate) fn cache_dir(config: &Config) -> Option<PathBuf> {
    if let Some(dir) = &config.cache_dir {
        return Some(dir.clone());
    }
    if let Some(dir) = &config.state_dir {
        return Some(dir.join("cache"));
    }
    dirs::cache_dir().map(|base| base.join(dir_name(config)).join("telemetry"))
}

/// The app's own folder name: `<app>/telemetry` would mix with the app's files, so the
/// state lives in `<config dir>/<app>-telemetry`.
fn dir_name(config: &Config) -> String {
    let name: String = config
        .app_name
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '-' || character == '_' {
                character
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}-telemetry")
}

impl State {
    /// Fresh state: a new anonymous id and hash key from the OS's random source.
    pub(crate) fn generate() -> io::Result<State> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|error| io::Error::other(error.to_string()))?;
        Ok(State {
            version: 1,
            anonymous_id: uuid::Uuid::new_v4().to_string(),
            hash_key: hex(&key),
            enabled: None,
            notice_shown: false,
        })
    }

    /// The decoded hash key, if the stored one is well formed.
    pub(crate) fn key(&self) -> Option<[u8; 32]> {
        let text = self.hash_key.as_bytes();
        if text.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (index, pair) in text.chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).ok()?;
            key[index] = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(key)
    }

    fn is_valid(&self) -> bool {
        self.key().is_some() && uuid::Uuid::parse_str(&self.anonymous_id).is_ok()
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// Reads the state file in `dir`.
pub(crate) fn load(dir: &Path) -> Loaded {
    let path = dir.join(STATE_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Loaded::Missing,
        Err(error) => return Loaded::Unreadable(format!("{}: {error}", path.display())),
    };
    match serde_json::from_slice::<State>(&bytes) {
        Ok(state) if state.is_valid() => Loaded::Valid(state),
        Ok(_) => Loaded::Unreadable(format!("{}: invalid id or key", path.display())),
        Err(error) => Loaded::Unreadable(format!("{}: {error}", path.display())),
    }
}

/// Creates the state file with `state` unless one exists; returns the state that won
/// (ours, or the one a parallel first run wrote first).
pub(crate) fn create(dir: &Path, state: &State) -> io::Result<State> {
    fs::create_dir_all(dir)?;
    let path = dir.join(STATE_FILE);
    let temporary = write_temporary(dir, state)?;
    // A hard link fails if the target exists: exactly "create only if absent", atomically.
    let linked = fs::hard_link(&temporary, &path);
    let _ = fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(state.clone()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => match load(dir) {
            Loaded::Valid(winner) => Ok(winner),
            Loaded::Missing => Err(io::Error::other("state file vanished")),
            Loaded::Unreadable(reason) => Err(io::Error::other(reason)),
        },
        Err(error) => Err(error),
    }
}

/// Replaces the state file with `state` (temporary file, then rename).
pub(crate) fn store(dir: &Path, state: &State) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let temporary = write_temporary(dir, state)?;
    fs::rename(&temporary, dir.join(STATE_FILE)).inspect_err(|_| {
        let _ = fs::remove_file(&temporary);
    })
}

fn write_temporary(dir: &Path, state: &State) -> io::Result<PathBuf> {
    let temporary = dir.join(format!(
        ".{STATE_FILE}.{}.{}.tmp",
        std::process::id(),
        unique()
    ));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    let mut bytes = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
    bytes.push(b'\n');
    let written = file.write_all(&bytes).and_then(|()| file.sync_all());
    if let Err(error) = written {
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    Ok(temporary)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}
