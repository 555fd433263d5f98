//! Manual instrumentation: [`Call`], made by [`command!`](crate::command!) and
//! [`step!`](crate::step!), for code that cannot use the attributes.

use crate::outcome::Outcome;

/// One call of a command or step, timed from its creation until [`finish`](Call::finish).
///
/// Dropped without `finish`, it records a failure: `"panic"` while unwinding, otherwise
/// `"early_return"`.
///
/// ```
/// fn export(rows: &[u32]) -> Result<usize, std::io::Error> {
///     let call = telemetry::step!("export");
///     let result = Ok(rows.len());
///     call.finish(&result);
///     result
/// }
/// assert_eq!(export(&[1, 2]).unwrap(), 2);
/// ```
#[must_use = "a call records when it is finished or dropped"]
pub struct Call {
    guard: crate::imp::CallGuard,
}

impl Call {
    #[doc(hidden)]
    #[inline]
    pub fn __start(callsite: &'static crate::Callsite) -> Self {
        Call {
            guard: crate::imp::start_call(callsite),
        }
    }

    /// Records the call with the outcome of `result` (see [`Outcome`]).
    pub fn finish<R: Outcome + ?Sized>(self, result: &R) {
        let mut call = self;
        crate::imp::finish_call(&mut call.guard, result.is_success(), result.error_kind());
    }

    /// Records the call with the outcome of `result`, the kind of an `Err` named by
    /// `kind` rather than by the error's type (what `error_kind = ..` does for the
    /// attributes). With an error type that implements [`ErrorKind`](crate::ErrorKind),
    /// pass `ErrorKind::error_kind`.
    ///
    /// (A generic function cannot pick an [`ErrorKind`](crate::ErrorKind) impl when
    /// there is one and fall back to the type name otherwise, so
    /// [`finish`](Call::finish) always sends the type name.)
    ///
    /// ```
    /// use telemetry::ErrorKind;
    ///
    /// fn read(path: &str) -> std::io::Result<String> {
    ///     let call = telemetry::step!("read");
    ///     let result = std::fs::read_to_string(path);
    ///     call.finish_with_kind(&result, ErrorKind::error_kind); // "io::NotFound"
    ///     result
    /// }
    /// assert!(read("/no/such/file").is_err());
    /// ```
    pub fn finish_with_kind<T, E>(
        self,
        result: &Result<T, E>,
        kind: impl FnOnce(&E) -> &'static str,
    ) {
        let mut call = self;
        match result {
            Ok(_) => crate::imp::finish_call(&mut call.guard, true, None),
            Err(error) => crate::imp::finish_call(&mut call.guard, false, Some(kind(error))),
        }
    }

    /// Records a success.
    ///
    /// ```
    /// let call = telemetry::command!("sync");
    /// call.success();
    /// ```
    #[inline]
    pub fn success(self) {
        self.finish(&());
    }

    /// Records a failure of the given kind.
    ///
    /// ```
    /// let call = telemetry::command!("sync");
    /// call.failure("offline");
    /// ```
    pub fn failure(self, kind: &'static str) {
        let mut call = self;
        crate::imp::finish_call(&mut call.guard, false, Some(kind));
    }
}

/// Starts a manually instrumented command call: `telemetry::command!("name")` returns a
/// [`Call`]. Sent as `command_<name>`, listed in the catalog.
///
/// ```
/// let call = telemetry::command!("init");
/// call.finish(&Ok::<(), std::io::Error>(()));
/// ```
#[cfg(feature = "enabled")]
#[macro_export]
macro_rules! command {
    ($name:literal) => {{
        $crate::__private::callsite! {
            static __TELEMETRY_CALLSITE = $crate::__private::Callsite::new(
                $crate::Category::Command, $name, &[],
                ::core::module_path!(), ::core::file!(), ::core::line!(),
            );
        }
        $crate::Call::__start(&__TELEMETRY_CALLSITE)
    }};
}

/// Starts a manually instrumented step call: `telemetry::step!("name")` returns a
/// [`Call`]. Sent as `step_<name>`, under the current command.
///
/// ```
/// let call = telemetry::step!("load");
/// call.success();
/// ```
#[cfg(feature = "enabled")]
#[macro_export]
macro_rules! step {
    ($name:literal) => {{
        $crate::__private::callsite! {
            static __TELEMETRY_CALLSITE = $crate::__private::Callsite::new(
                $crate::Category::Step, $name, &[],
                ::core::module_path!(), ::core::file!(), ::core::line!(),
            );
        }
        $crate::Call::__start(&__TELEMETRY_CALLSITE)
    }};
}

/// Starts a manually instrumented command call (no-op: built without `enabled`).
///
/// ```
/// let call = telemetry::command!("init");
/// call.success();
/// ```
#[cfg(not(feature = "enabled"))]
#[macro_export]
macro_rules! command {
    ($name:literal) => {{
        static __TELEMETRY_CALLSITE: $crate::Callsite = $crate::Callsite::new(
            $crate::Category::Command,
            $name,
            &[],
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
        );
        $crate::Call::__start(&__TELEMETRY_CALLSITE)
    }};
}

/// Starts a manually instrumented step call (no-op: built without `enabled`).
///
/// ```
/// let call = telemetry::step!("load");
/// call.success();
/// ```
#[cfg(not(feature = "enabled"))]
#[macro_export]
macro_rules! step {
    ($name:literal) => {{
        static __TELEMETRY_CALLSITE: $crate::Callsite = $crate::Callsite::new(
            $crate::Category::Step,
            $name,
            &[],
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
        );
        $crate::Call::__start(&__TELEMETRY_CALLSITE)
    }};
}
