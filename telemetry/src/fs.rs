//! Every file the library writes goes through here: the state file, the delivery
//! state, spool segments and their locks. One set of rules for all of them:
//!
//! - **Owner-only.** Directories are created 0700 and files 0600 on Unix: they hold the
//!   installation's id and hash key, or events not yet sent.
//! - **Whole or not at all.** A file is written to a temporary beside it (named
//!   `.<name>.<random>.tmp`), synced, then renamed over the target, so a reader sees the
//!   old content or the new, never a part. A first file is created only if absent (no
//!   clobbering rename), so of several processes racing to create it exactly one wins.
//!   Temporaries a crash left behind are removed by [`remove_stale_temporaries`].
//! - **One kind of lock.** An exclusive advisory lock ([`std::fs::File::try_lock`]),
//!   tried with a bounded wait and never blocking past it; released when dropped or when
//!   the process dies, so a crash never leaves a stale lock. A file system without locks
//!   (some network mounts) is reported as such and each caller says what it does then.
//! - **Nothing planted is trusted.** A directory that exists already is used only if it
//!   belongs to this user and no one else may write to it ([`check_private_dir`]).
//!   Files are opened without following a final symbolic link, read only if they are
//!   regular files, and never read past a bound ([`read_capped`]): a link to
//!   `/dev/zero` or to another user's file is an error, not a hang or a write elsewhere.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

/// Creates `dir` and its parents, owner-only on Unix.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Why an existing `dir` must not be used: owned by another user, or writable by group
/// or others (a shared or planted directory, where someone else could swap files).
/// A directory that does not exist yet is fine: it will be created owner-only.
pub(crate) fn check_private_dir(dir: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let meta = match fs::metadata(dir) {
            Ok(meta) => meta,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(format!("{}: {error}", dir.display())),
        };
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", dir.display()));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        #[allow(unsafe_code)]
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(format!(
                "{} belongs to another user (uid {}), not this one (uid {me})",
                dir.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "{} is writable by other users (mode {:o})",
                dir.display(),
                meta.mode() & 0o7777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Open options that create files readable and writable by their owner only, and never
/// follow a symbolic link in the last component.
pub(crate) fn owner_only() -> OpenOptions {
    let mut options = no_follow();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

/// Open options that refuse a symbolic link in the last component (`O_NOFOLLOW`).
pub(crate) fn no_follow() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// The most any of the library's own files is read: far more than a state file, the
/// delivery state or a spool segment ever holds.
pub(crate) const MAX_READ: u64 = 1024 * 1024;

/// Reads `path` whole if it is a regular file (not a link, a device or a pipe) of at
/// most `cap` bytes.
pub(crate) fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let file = no_follow().read(true).open(path)?;
    read_open_capped(file, cap)
}

/// [`read_capped`] with [`MAX_READ`], where a file that does not exist (or whose parent is
/// not a directory, so it cannot exist) is `None` rather than an error: the library's
/// files are all optional, created on first use.
pub(crate) fn read_if_present(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match read_capped(path, MAX_READ) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// Reads an opened file whole if it is a regular file of at most `cap` bytes.
pub(crate) fn read_open_capped(file: File, cap: u64) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {cap} bytes"),
        ));
    }
    Ok(bytes)
}

/// Replaces `dir/name` with `bytes`: a synced temporary, then a rename.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let temporary = temporary_with(dir, name, bytes)?;
    temporary
        .persist(dir.join(name))
        .map(drop)
        .map_err(|error| error.error)
}

/// Syncs `dir` itself, so that a rename into it survives a power loss, not only a crash
/// of the process: for the state file, which holds the user's opt-out. Best effort: some
/// file systems refuse to sync a directory, and the file is written whole either way.
pub(crate) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Creates `dir/name` with `bytes` unless it exists. Returns `false` (writing nothing)
/// when it existed.
pub(crate) fn create_if_absent(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<bool> {
    let temporary = temporary_with(dir, name, bytes)?;
    match temporary.persist_noclobber(dir.join(name)) {
        Ok(_) => Ok(true),
        Err(error) if error.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        // A file system that can neither link nor rename without replacing: an exclusive
        // create is still "only if absent", though a reader racing with it may see a
        // partial file (and then stays off for its run, which is safe).
        Err(error) => {
            drop(error.file);
            let created = owner_only()
                .write(true)
                .create_new(true)
                .open(dir.join(name));
            match created {
                Ok(mut file) => {
                    file.write_all(bytes)?;
                    file.sync_all()?;
                    Ok(true)
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                Err(error) => Err(error),
            }
        }
    }
}

/// A synced, owner-only temporary holding `bytes`, beside `dir/name`. Removed when
/// dropped unless persisted.
fn temporary_with(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(TEMPORARY_SUFFIX)
        .tempfile_in(dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    Ok(temporary)
}

const TEMPORARY_SUFFIX: &str = ".tmp";

/// Removes the temporaries in `dir` older than `age`: those of writers that died
/// between writing and renaming. A younger one may belong to a writer at work.
pub(crate) fn remove_stale_temporaries(dir: &Path, age: Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.ends_with(TEMPORARY_SUFFIX)) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|elapsed| elapsed > age);
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The answer to one try of a file's lock.
#[derive(Debug)]
pub(crate) enum Locked {
    /// The lock is ours until the file is closed.
    Yes,
    /// Another process (or another handle of ours) holds it.
    Busy,
    /// The file system does not support locks.
    Unsupported(io::Error),
}

/// Tries `file`'s exclusive lock once, without waiting.
pub(crate) fn try_lock(file: &File) -> Locked {
    match file.try_lock() {
        Ok(()) => Locked::Yes,
        Err(fs::TryLockError::WouldBlock) => Locked::Busy,
        Err(fs::TryLockError::Error(error)) => Locked::Unsupported(error),
    }
}

/// Tries `file`'s lock until it is ours or `wait` has passed, sleeping 1 ms at first and
/// doubling up to 20 ms between tries.
pub(crate) fn lock_within(file: &File, wait: Duration) -> Locked {
    let deadline = crate::time::instant_after(Instant::now(), wait);
    let mut pause = Duration::from_millis(1);
    loop {
        match try_lock(file) {
            Locked::Busy => {}
            other => return other,
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Locked::Busy;
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// A lock file's exclusive lock (`dir/name`, created owner-only), released when dropped.
#[derive(Debug)]
pub(crate) struct LockFile {
    _file: File,
}

impl LockFile {
    /// Takes the lock of `dir/name` within `wait`. `Ok(Err(locked))` says why it is not
    /// held ([`Locked::Busy`] or [`Locked::Unsupported`]); `Err` is a lock file that
    /// cannot be opened.
    pub(crate) fn acquire(
        dir: &Path,
        name: &str,
        wait: Duration,
    ) -> io::Result<Result<LockFile, Locked>> {
        let file = owner_only()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(name))?;
        Ok(match lock_within(&file, wait) {
            Locked::Yes => Ok(LockFile { _file: file }),
            other => Err(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_written_whole_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        assert!(create_if_absent(dir.path(), "a.json", b"first").unwrap());
        assert!(!create_if_absent(dir.path(), "a.json", b"second").unwrap());
        assert_eq!(fs::read(dir.path().join("a.json")).unwrap(), b"first");
        write_atomic(dir.path(), "a.json", b"third").unwrap();
        assert_eq!(fs::read(dir.path().join("a.json")).unwrap(), b"third");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.json"], "no temporary is left behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.path().join("a.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_held_lock_is_busy_within_the_wait_and_free_after_drop() {
        let dir = tempfile::tempdir().unwrap();
        let held = LockFile::acquire(dir.path(), ".x.lock", Duration::ZERO)
            .unwrap()
            .unwrap();
        let started = Instant::now();
        let second = LockFile::acquire(dir.path(), ".x.lock", Duration::from_millis(30)).unwrap();
        assert!(matches!(second, Err(Locked::Busy)));
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(held);
        assert!(LockFile::acquire(dir.path(), ".x.lock", Duration::ZERO)
            .unwrap()
            .is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn links_devices_and_oversized_files_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        fs::write(&file, b"12345").unwrap();
        assert_eq!(read_capped(&file, 5).unwrap(), b"12345");
        assert!(read_capped(&file, 4).is_err());
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(read_capped(&link, MAX_READ).is_err());
        assert!(read_capped(Path::new("/dev/zero"), MAX_READ).is_err());
        // A lock file planted as a link: the link's target is never created.
        let target = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&target, dir.path().join(".x.lock")).unwrap();
        assert!(LockFile::acquire(dir.path(), ".x.lock", Duration::ZERO).is_err());
        assert!(!target.exists());
    }

    #[cfg(unix)]
    #[test]
    fn shared_directories_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check_private_dir(&dir.path().join("absent")), Ok(()));
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(check_private_dir(dir.path()), Ok(()));
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let problem = check_private_dir(dir.path()).unwrap_err();
        assert!(problem.contains("writable by other users"), "{problem}");
    }

    #[test]
    fn only_old_temporaries_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".state.json.abc.tmp"), b"key").unwrap();
        fs::write(dir.path().join("state.json"), b"{}").unwrap();
        remove_stale_temporaries(dir.path(), Duration::from_secs(60));
        assert!(dir.path().join(".state.json.abc.tmp").exists());
        remove_stale_temporaries(dir.path(), Duration::ZERO);
        assert!(!dir.path().join(".state.json.abc.tmp").exists());
        assert!(dir.path().join("state.json").exists());
    }
}
