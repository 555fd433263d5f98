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
/// specialization, the [`Outcome`] impl when there is one and "success" otherwise.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Picked when the returned type implements [`Outcome`].
pub trait ViaOutcome {
    /// The outcome of the call.
    fn __telemetry_outcome(&self) -> Finish;
}

impl<T: Outcome + ?Sized> ViaOutcome for Probe<'_, T> {
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

impl<T: ?Sized> ViaFallback for &Probe<'_, T> {
    #[inline]
    fn __telemetry_outcome(&self) -> Finish {
        Finish::new(true, None)
    }
}

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

/// `expr?` in a `#[track_caller]` function, whose body runs in place: records the failure
/// that `?` is about to return, then hands the value to `?` (added for
/// `telemetry-macros`). The call then ends with the kind of the operand's error, before
/// `?` converts it.
#[inline]
pub fn observe_try<T: Outcome>(guard: &mut CallGuard, value: T) -> T {
    if guard.is_active() && !value.is_success() {
        guard.finish(Finish::new(false, value.error_kind()), || None);
    }
    value
}
