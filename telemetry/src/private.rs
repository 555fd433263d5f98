//! What `#[tracked_command]` and `#[tracked_step]` expand to. Not public API: the names
//! here may change in any release, together with the macros that use them.
//!
//! The macros spell every path as `::telemetry::__private::...`, so this module also
//! re-exports the `core`/`std` items the expansion needs (a user module named `core` or
//! `std` must not break the expansion).

pub use ::core;
pub use ::std;

pub use crate::call::{CallGuard, Finish, Instrumented};
pub use crate::callsite::{ArgMode, ArgSpec, Callsite, Category};
pub use crate::hash::HashArg;
pub use crate::outcome::Outcome;

pub use ::linkme;

pub use crate::imp::enabled::CALLSITES;

/// Wraps a reference to a returned value so the expansion can pick, by autoref
/// specialization, the most specific way to read its outcome. The expansion calls
/// `(&&&probe).__telemetry_outcome()`, which method resolution tries on
/// `&&Probe` ([`ViaErrorKind`]: a `Result` whose error implements
/// [`ErrorKind`](crate::ErrorKind)), then `&Probe` ([`ViaOutcome`]), then `Probe`
/// ([`ViaFallback`]: success).
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Picked for a `Result<T, E>` with `E: ErrorKind`: `Ok` is success; the kind of an
/// `Err` is the error's own [`ErrorKind::error_kind`](crate::ErrorKind::error_kind).
pub trait ViaErrorKind {
    /// The outcome of the call.
    fn __telemetry_outcome(&self) -> Finish;
}

impl<T, E: crate::ErrorKind> ViaErrorKind for &&Probe<'_, Result<T, E>> {
    #[inline]
    fn __telemetry_outcome(&self) -> Finish {
        match self.0 {
            Ok(_) => Finish::new(true, None),
            Err(error) => Finish::new(false, Some(error.error_kind())),
        }
    }
}

/// Picked when the returned type implements [`Outcome`].
pub trait ViaOutcome {
    /// The outcome of the call.
    fn __telemetry_outcome(&self) -> Finish;
}

impl<T: Outcome + ?Sized> ViaOutcome for &Probe<'_, T> {
    #[inline]
    fn __telemetry_outcome(&self) -> Finish {
        Finish::new(self.0.is_success(), self.0.error_kind())
    }
}

/// Picked when the returned type implements nothing the library knows: a call that
/// returns is a success.
pub trait ViaFallback {
    /// The outcome of the call.
    fn __telemetry_outcome(&self) -> Finish;
}

impl<T: ?Sized> ViaFallback for Probe<'_, T> {
    #[inline]
    fn __telemetry_outcome(&self) -> Finish {
        Finish::new(true, None)
    }
}

/// The outcome of a call whose attribute says `error_kind = path`: `Ok` is success, and
/// the kind of an `Err` is `kind(&error)`.
#[inline]
pub fn with_error_kind<R, F>(value: &R, kind: F) -> Finish
where
    R: ResultReturn + ?Sized,
    F: FnOnce(&R::Error) -> &'static str,
{
    match value.__telemetry_err() {
        None => Finish::new(true, None),
        Some(error) => Finish::new(false, Some(kind(error))),
    }
}

/// The return types `error_kind = ..` applies to: `Result`.
#[diagnostic::on_unimplemented(
    message = "`error_kind = ..` names the kind of a `Result`'s error, and this function returns `{Self}`",
    label = "the function does not return a `Result`",
    note = "remove `error_kind = ..`, or implement `telemetry::Outcome` for `{Self}` to name its failures"
)]
pub trait ResultReturn {
    /// The error type.
    type Error;
    /// The error, if there is one.
    fn __telemetry_err(&self) -> Option<&Self::Error>;
}

impl<T, E> ResultReturn for Result<T, E> {
    type Error = E;
    #[inline]
    fn __telemetry_err(&self) -> Option<&E> {
        self.as_ref().err()
    }
}

/// `success = "always"`: a call that returns is a success, whatever it returned.
#[inline]
pub fn always_success<T: ?Sized>(_value: &T) -> Finish {
    Finish::new(true, None)
}

/// `expr?` in a `#[track_caller]` function, whose body runs in place: records the failure
/// that `?` is about to return, then hands the value to `?` (added for
/// `telemetry-macros`). The call then ends with the kind of the operand's error as
/// [`Outcome`] names it (its type name for a `Result`: the operand's type may not be known
/// yet where the expansion checks it, so no [`ErrorKind`](crate::ErrorKind) is looked
/// for), before `?` converts it; or as a success with `success = "always"`.
#[inline]
pub fn observe_try<T: Outcome>(guard: &mut CallGuard, value: T, always_success: bool) -> T {
    if guard.is_active() && !value.is_success() {
        let finish = if always_success {
            Finish::new(true, None)
        } else {
            Finish::new(false, value.error_kind())
        };
        guard.finish(finish, || None);
    }
    value
}

/// Refuses paths in `record(..)`: `(&&RecordProbe(&value)).__telemetry_record_check()` is
/// [`PathRefused`] for a path, an `OsStr` (and references, boxes, `Option`s and `Vec`s of
/// them), [`Recordable`] for everything else; the expansion hands it to [`recordable`].
pub struct RecordProbe<'a, T: ?Sized>(pub &'a T);

/// Picked for the path types.
pub trait RecordPathCheck {
    /// Refused.
    fn __telemetry_record_check(&self) -> PathRefused;
}

impl<T: IsPath + ?Sized> RecordPathCheck for &RecordProbe<'_, T> {
    #[inline(always)]
    fn __telemetry_record_check(&self) -> PathRefused {
        PathRefused
    }
}

/// Picked for every other type.
pub trait RecordAnyCheck {
    /// Accepted.
    fn __telemetry_record_check(&self) -> Recordable;
}

impl<T: ?Sized> RecordAnyCheck for RecordProbe<'_, T> {
    #[inline(always)]
    fn __telemetry_record_check(&self) -> Recordable {
        Recordable
    }
}

/// What [`RecordPathCheck`] says of a path.
pub struct PathRefused;

/// What [`RecordAnyCheck`] says of anything else.
pub struct Recordable;

/// Accepts what a `record(..)` argument may be; a path is a compile error here.
#[diagnostic::on_unimplemented(
    message = "a path cannot be sent with `record(..)`: it would leave the machine in clear",
    label = "this argument is a path (or an `OsStr`)",
    note = "paths name users, projects and machines: leave the argument in the default (hashed), hash it with `hash(..)`, or leave it out with `skip(..)`"
)]
pub trait NotAPath {}

impl NotAPath for Recordable {}

/// Compiles only for [`Recordable`]: see [`RecordProbe`].
#[inline(always)]
pub fn recordable<C: NotAPath>(_check: C) {}

/// The path types `record(..)` refuses.
pub trait IsPath {}

impl IsPath for std::path::Path {}
impl IsPath for std::path::PathBuf {}
impl IsPath for std::ffi::OsStr {}
impl IsPath for std::ffi::OsString {}
impl<T: IsPath + ?Sized> IsPath for &T {}
impl<T: IsPath + ?Sized> IsPath for &mut T {}
impl<T: IsPath + ?Sized> IsPath for Box<T> {}
impl<T: IsPath + ?Sized> IsPath for std::rc::Rc<T> {}
impl<T: IsPath + ?Sized> IsPath for std::sync::Arc<T> {}
impl<T: IsPath + ToOwned + ?Sized> IsPath for std::borrow::Cow<'_, T> {}
impl<T: IsPath> IsPath for Option<T> {}
impl<T: IsPath> IsPath for Vec<T> {}
impl<T: IsPath> IsPath for [T] {}
impl<T: IsPath, const N: usize> IsPath for [T; N] {}

/// Picked for a `Result` whose error implements `Display`: the (scrubbed, opt-in) message.
pub trait MessageViaDisplay {
    /// The error's message, when the call failed.
    fn __telemetry_message(&self) -> Option<std::string::String>;
}

impl<T, E: std::fmt::Display> MessageViaDisplay for Probe<'_, Result<T, E>> {
    fn __telemetry_message(&self) -> Option<std::string::String> {
        self.0.as_ref().err().map(std::string::ToString::to_string)
    }
}

/// Picked for every other type: no message.
pub trait MessageFallback {
    /// No message.
    fn __telemetry_message(&self) -> Option<std::string::String>;
}

impl<T: ?Sized> MessageFallback for &Probe<'_, T> {
    fn __telemetry_message(&self) -> Option<std::string::String> {
        None
    }
}

/// Declares a callsite static and, where link-time collection is supported, adds it to
/// the catalog. The proc macro emits `::telemetry::__private::callsite!{ ... }` so that
/// the platform list lives here, next to the runtime that reads it.
#[doc(hidden)]
#[macro_export]
macro_rules! __telemetry_callsite {
    (static $ident:ident = $init:expr;) => {
        #[cfg_attr(
                    any(
                        target_os = "linux",
                        target_os = "android",
                        target_os = "macos",
                        target_os = "ios",
                        target_os = "windows",
                        target_os = "freebsd",
                        target_os = "openbsd",
                        target_os = "netbsd",
                        target_os = "dragonfly",
                        target_os = "illumos",
                    ),
                    $crate::__private::linkme::distributed_slice($crate::__private::CALLSITES),
                    linkme(crate = $crate::__private::linkme)
                )]
        static $ident: $crate::__private::Callsite = $init;
    };
}

pub use crate::__telemetry_callsite as callsite;

/// Whether tracked calls are being recorded: the relaxed load every tracked call starts
/// with. For the `disabled` benchmark's baseline (the cost of any runtime opt-out check).
#[inline(always)]
pub fn is_recording() -> bool {
    crate::call::is_recording()
}

/// Runs the body of a synchronous tracked function (added for `telemetry-macros`).
///
/// Passing the closure to an `FnOnce` bound makes rustc infer it as `FnOnce`, so a body
/// may return a borrow of a captured `&mut` parameter (`&mut self.field`). (Called as
/// `(move || ..)()` the closure would be `FnMut` and such a body would not compile.)
#[inline]
pub fn call_once<R, F: FnOnce() -> R>(body: F) -> R {
    body()
}

/// The scrubber of opt-in error messages, with this process's identity: for the `scrub`
/// bench only.
pub fn scrub_message(message: &str) -> std::string::String {
    crate::worker::scrub(message)
}
