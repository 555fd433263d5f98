//! How a tracked call's return value becomes `success` and `error.kind`.

use std::process::ExitCode;

/// Decides whether a tracked call succeeded, from the value it returned.
///
/// `#[tracked_command]` and `#[tracked_step]` call this on the return value. It is
/// implemented for `Result` (`Ok` is success), `Option` (`Some`), `bool`, `()` (always
/// success), [`ExitCode`] and the integer exit codes `i32` and `u8` (zero is success).
/// A return type that implements nothing here still works: the call counts as a success
/// when it returns (only a panic or a cancellation is a failure then).
///
/// Implement it for your own types to say what failure means for them. `error_kind`
/// must name a *kind* of failure, never carry data from the failure itself: it is sent
/// as it is.
///
/// ```
/// use telemetry::Outcome;
///
/// enum Sync { Done, Conflict, Offline }
///
/// impl Outcome for Sync {
///     fn is_success(&self) -> bool {
///         matches!(self, Sync::Done)
///     }
///     fn error_kind(&self) -> Option<&'static str> {
///         match self {
///             Sync::Done => None,
///             Sync::Conflict => Some("conflict"),
///             Sync::Offline => Some("offline"),
///         }
///     }
/// }
///
/// assert!(Sync::Done.is_success());
/// assert_eq!(Sync::Offline.error_kind(), Some("offline"));
/// ```
pub trait Outcome {
    /// `true` when the call that returned `self` succeeded.
    fn is_success(&self) -> bool;

    /// On failure, a short, static name for the kind of failure (sent as `error.kind`).
    ///
    /// The default is `None`, which sends no kind.
    fn error_kind(&self) -> Option<&'static str> {
        None
    }
}

/// `Ok` is success; on `Err`, `error.kind` is the error's type name
/// (`std::any::type_name`), never its message.
///
/// ```
/// use telemetry::Outcome;
/// let failed: Result<(), std::fmt::Error> = Err(std::fmt::Error);
/// assert!(!failed.is_success());
/// assert_eq!(failed.error_kind(), Some("core::fmt::Error"));
/// ```
impl<T, E> Outcome for Result<T, E> {
    fn is_success(&self) -> bool {
        self.is_ok()
    }

    fn error_kind(&self) -> Option<&'static str> {
        match self {
            Ok(_) => None,
            Err(_) => Some(std::any::type_name::<E>()),
        }
    }
}

/// `Some` is success; `None` is a failure of kind `"none"`.
///
/// ```
/// use telemetry::Outcome;
/// assert!(Some(3).is_success());
/// assert_eq!(None::<u8>.error_kind(), Some("none"));
/// ```
impl<T> Outcome for Option<T> {
    fn is_success(&self) -> bool {
        self.is_some()
    }

    fn error_kind(&self) -> Option<&'static str> {
        self.is_none().then_some("none")
    }
}

/// `true` is success; `false` is a failure of kind `"false"`.
///
/// ```
/// use telemetry::Outcome;
/// assert!(true.is_success());
/// assert_eq!(false.error_kind(), Some("false"));
/// ```
impl Outcome for bool {
    fn is_success(&self) -> bool {
        *self
    }

    fn error_kind(&self) -> Option<&'static str> {
        (!*self).then_some("false")
    }
}

/// A function returning `()` succeeds whenever it returns.
///
/// ```
/// use telemetry::Outcome;
/// assert!(().is_success());
/// ```
impl Outcome for () {
    fn is_success(&self) -> bool {
        true
    }
}

/// `ExitCode::SUCCESS` is success; any other code is a failure of kind `"exit_code"`.
///
/// ```
/// use std::process::ExitCode;
/// use telemetry::Outcome;
/// assert!(ExitCode::SUCCESS.is_success());
/// assert!(!ExitCode::from(2).is_success());
/// ```
impl Outcome for ExitCode {
    fn is_success(&self) -> bool {
        *self == ExitCode::SUCCESS
    }

    fn error_kind(&self) -> Option<&'static str> {
        (!self.is_success()).then_some("exit_code")
    }
}

macro_rules! exit_code_outcome {
    ($($int:ty),*) => {$(
        /// An integer exit code: zero is success, anything else a failure of kind `"exit_code"`.
        ///
        /// ```
        /// use telemetry::Outcome;
        #[doc = concat!("assert!((0 as ", stringify!($int), ").is_success());")]
        #[doc = concat!("assert!(!(3 as ", stringify!($int), ").is_success());")]
        /// ```
        impl Outcome for $int {
            fn is_success(&self) -> bool {
                *self == 0
            }

            fn error_kind(&self) -> Option<&'static str> {
                (*self != 0).then_some("exit_code")
            }
        }
    )*};
}

exit_code_outcome!(i32, u8);

/// A reference succeeds exactly when what it points to does.
impl<T: Outcome + ?Sized> Outcome for &T {
    fn is_success(&self) -> bool {
        (**self).is_success()
    }

    fn error_kind(&self) -> Option<&'static str> {
        (**self).error_kind()
    }
}

/// A boxed value succeeds exactly when what it holds does.
impl<T: Outcome + ?Sized> Outcome for Box<T> {
    fn is_success(&self) -> bool {
        (**self).is_success()
    }

    fn error_kind(&self) -> Option<&'static str> {
        (**self).error_kind()
    }
}
