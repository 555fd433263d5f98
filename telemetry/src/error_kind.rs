//! [`ErrorKind`]: a short, static name for an error, sent as `error.kind` when a tracked
//! function returns `Err`.

use std::error::Error;
use std::io;

/// Names the kind of an error, for `error.kind` when a tracked function returns
/// `Err(error)`.
///
/// Without it, a failed `Result` is sent with the error's *type* name, which says little
/// for an enum (every variant is the same type) and nothing for a type-erased error.
/// Implement it on your own error type with a `match` that names each variant, without
/// reading anything from the variant's fields: the kind is sent as it is, and must never
/// carry data (a file name, a user's input). It is never the error's message; that is
/// sent only with `Config::error_messages(true)`, scrubbed.
///
/// ```
/// use telemetry::{tracked_step, ErrorKind};
///
/// #[derive(Debug)]
/// enum LoadError {
///     Missing(String), // a path: never sent
///     Corrupt { line: usize },
///     Offline,
/// }
///
/// impl ErrorKind for LoadError {
///     fn error_kind(&self) -> &'static str {
///         match self {
///             LoadError::Missing(_) => "missing",
///             LoadError::Corrupt { .. } => "corrupt",
///             LoadError::Offline => "offline",
///         }
///     }
/// }
///
/// #[tracked_step]
/// fn load(table: &str) -> Result<usize, LoadError> {
///     Err(LoadError::Missing(table.to_owned())) // sent with `error.kind: "missing"`
/// }
/// # assert!(load("t").is_err());
/// assert_eq!(LoadError::Offline.error_kind(), "offline");
/// ```
///
/// The tracked functions find it by the return type as written: `Result<T, E>` with
/// `E: ErrorKind`, `E` itself (not `&E`, not a `Box<E>`). The library implements it for
/// [`std::io::Error`] (its [`io::ErrorKind`], as `"io::NotFound"`: see [`io_kind_name`])
/// and for `Box<dyn Error>` (with or without `+ Send` and `+ Sync`: the kind of the
/// innermost `io::Error` in its [`source`](Error::source) chain, else
/// `"Box<dyn Error>"`). For an error type you cannot implement it on (`anyhow::Error`,
/// another crate's error), give the attribute a function instead: `error_kind = path`
/// (see the README), for example with [`io_error_kind`].
///
/// [`Call::finish_with_kind`](crate::Call::finish_with_kind) uses it for manual
/// instrumentation.
pub trait ErrorKind {
    /// A short, static name for the kind of this error (sent as `error.kind`).
    fn error_kind(&self) -> &'static str;
}

/// `"io::NotFound"`, `"io::PermissionDenied"`, ...: [`io_kind_name`] of its kind.
///
/// ```
/// use telemetry::ErrorKind;
/// let error = std::io::Error::from(std::io::ErrorKind::NotFound);
/// assert_eq!(error.error_kind(), "io::NotFound");
/// ```
impl ErrorKind for io::Error {
    fn error_kind(&self) -> &'static str {
        io_kind_name(self.kind())
    }
}

macro_rules! boxed_error_kind {
    ($($ty:ty),*) => {$(
        /// The kind of the innermost [`io::Error`] in the error's `source()` chain (see
        /// [`io_error_kind`]), else `"Box<dyn Error>"`.
        impl ErrorKind for $ty {
            fn error_kind(&self) -> &'static str {
                io_error_kind(&**self).unwrap_or("Box<dyn Error>")
            }
        }
    )*};
}

boxed_error_kind!(
    Box<dyn Error>,
    Box<dyn Error + Send>,
    Box<dyn Error + Send + Sync>
);

/// The kind of the innermost [`io::Error`] in `error`'s [`source`](Error::source) chain
/// (`error` itself included), as [`io_kind_name`] names it; `None` when there is none.
///
/// For an `error_kind = ..` function on an error type the library cannot see into, such
/// as `anyhow::Error` (`io_error_kind(error.as_ref())`).
///
/// ```
/// let error: Box<dyn std::error::Error> =
///     Box::new(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
/// assert_eq!(telemetry::io_error_kind(&*error), Some("io::PermissionDenied"));
/// assert_eq!(telemetry::io_error_kind(&std::fmt::Error), None);
/// ```
pub fn io_error_kind(error: &(dyn Error + 'static)) -> Option<&'static str> {
    let mut found = None;
    let mut current = Some(error);
    // Bounded, in case a `source` chain loops.
    for _ in 0..64 {
        let Some(error) = current else {
            break;
        };
        if let Some(io) = error.downcast_ref::<io::Error>() {
            found = Some(io_kind_name(io.kind()));
        }
        current = error.source();
    }
    found
}

/// A static name for an [`io::ErrorKind`]: `"io::"` and the variant's name
/// (`"io::NotFound"`); `"io::Other"` for a kind this list does not know. No allocation,
/// and never the error's message.
///
/// ```
/// use std::io::ErrorKind;
/// assert_eq!(telemetry::io_kind_name(ErrorKind::AlreadyExists), "io::AlreadyExists");
/// assert_eq!(telemetry::io_kind_name(ErrorKind::Other), "io::Other");
/// ```
pub fn io_kind_name(kind: io::ErrorKind) -> &'static str {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => "io::NotFound",
        K::PermissionDenied => "io::PermissionDenied",
        K::ConnectionRefused => "io::ConnectionRefused",
        K::ConnectionReset => "io::ConnectionReset",
        K::HostUnreachable => "io::HostUnreachable",
        K::NetworkUnreachable => "io::NetworkUnreachable",
        K::ConnectionAborted => "io::ConnectionAborted",
        K::NotConnected => "io::NotConnected",
        K::AddrInUse => "io::AddrInUse",
        K::AddrNotAvailable => "io::AddrNotAvailable",
        K::NetworkDown => "io::NetworkDown",
        K::BrokenPipe => "io::BrokenPipe",
        K::AlreadyExists => "io::AlreadyExists",
        K::WouldBlock => "io::WouldBlock",
        K::NotADirectory => "io::NotADirectory",
        K::IsADirectory => "io::IsADirectory",
        K::DirectoryNotEmpty => "io::DirectoryNotEmpty",
        K::ReadOnlyFilesystem => "io::ReadOnlyFilesystem",
        K::StaleNetworkFileHandle => "io::StaleNetworkFileHandle",
        K::InvalidInput => "io::InvalidInput",
        K::InvalidData => "io::InvalidData",
        K::TimedOut => "io::TimedOut",
        K::WriteZero => "io::WriteZero",
        K::StorageFull => "io::StorageFull",
        K::NotSeekable => "io::NotSeekable",
        K::QuotaExceeded => "io::QuotaExceeded",
        K::FileTooLarge => "io::FileTooLarge",
        K::ResourceBusy => "io::ResourceBusy",
        K::ExecutableFileBusy => "io::ExecutableFileBusy",
        K::Deadlock => "io::Deadlock",
        K::CrossesDevices => "io::CrossesDevices",
        K::TooManyLinks => "io::TooManyLinks",
        K::InvalidFilename => "io::InvalidFilename",
        K::ArgumentListTooLong => "io::ArgumentListTooLong",
        K::Interrupted => "io::Interrupted",
        K::Unsupported => "io::Unsupported",
        K::UnexpectedEof => "io::UnexpectedEof",
        K::OutOfMemory => "io::OutOfMemory",
        _ => "io::Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(io::Error);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }

    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn boxed_errors_name_their_innermost_io_error() {
        let boxed: Box<dyn Error + Send + Sync> =
            Box::new(Wrapper(io::Error::from(io::ErrorKind::TimedOut)));
        assert_eq!(boxed.error_kind(), "io::TimedOut");
        let plain: Box<dyn Error> = "no io here".into();
        assert_eq!(plain.error_kind(), "Box<dyn Error>");
        let message = io::Error::other("a message that is never sent");
        assert_eq!(message.error_kind(), "io::Other");
    }
}
