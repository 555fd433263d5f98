//! Files only their owner may read or write (0600 on Unix): the state file, its lock,
//! the delivery record and spool batches all hold installation data.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;

/// Open options that create files readable and writable by their owner only.
pub(crate) fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

/// Writes `bytes` to the new file `temporary`, then renames it over `path`, so readers
/// see the old content or the new, never a part. The temporary is removed on failure.
pub(crate) fn write_then_rename(temporary: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let written = options()
        .write(true)
        .create_new(true)
        .open(temporary)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| fs::rename(temporary, path));
    if written.is_err() {
        let _ = fs::remove_file(temporary);
    }
    written
}
