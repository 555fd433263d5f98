//! The hot path: a guard that times one tracked call and hands a small record to the
//! worker.
//!
//! This is what the macros expand to, and what manual instrumentation uses (see
//! [`command`](crate::command) and [`step`](crate::step)). On the caller's thread a
//! call costs one relaxed atomic load when telemetry is off; when it is on, two clock
//! reads, the hashing of the arguments it sends, and one `try_send` of a fixed-size
//! record. No JSON, no I/O, no lock, and no allocation for a call without arguments.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use crate::callsite::{ArgMode, Callsite, Category};
use crate::hash::{ArgHasher, HashArg};
use crate::invocation::{self, CommandContext};
use crate::runtime::{self, ArgValue, Message, Record};

/// The outcome of a tracked call, as decided by [`Outcome`](crate::Outcome).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finish {
    pub(crate) success: bool,
    pub(crate) error_kind: Option<&'static str>,
}

impl Finish {
    /// A success or a failure of the given kind.
    #[inline]
    pub fn new(success: bool, error_kind: Option<&'static str>) -> Self {
        Finish {
            success,
            error_kind: if success { None } else { error_kind },
        }
    }
}

/// Times one call of a tracked function and records it when finished or dropped.
///
/// Dropped without [`finish`](CallGuard::finish), it records a failure: `"panic"` when
/// the thread is panicking, otherwise `"cancelled"` (a future dropped before it
/// completed).
#[must_use = "a call guard records when it is finished or dropped"]
pub struct CallGuard {
    active: Option<Active>,
}

struct Active {
    callsite: &'static Callsite,
    start: Instant,
    /// For a command, its own context; for a step, the enclosing command's, if any.
    context: Option<CommandContext>,
    /// What the thread's current command was before this sync command started.
    restore: Option<Option<CommandContext>>,
    args: runtime::ArgSlots,
}

impl CallGuard {
    /// Starts timing a call of a synchronous function. A command becomes the current
    /// command of this thread until the guard is dropped.
    #[inline]
    pub fn start(callsite: &'static Callsite) -> Self {
        Self::begin(callsite, true)
    }

    /// Starts timing a call of an `async fn`. The command's context is set on the thread
    /// only while its future is polled, by [`Instrumented`].
    #[inline]
    pub fn start_async(callsite: &'static Callsite) -> Self {
        Self::begin(callsite, false)
    }

    #[inline]
    fn begin(callsite: &'static Callsite, set_thread_context: bool) -> Self {
        if !runtime::is_recording() {
            return CallGuard { active: None };
        }
        Self::begin_active(callsite, set_thread_context)
    }

    #[inline(never)]
    fn begin_active(callsite: &'static Callsite, set_thread_context: bool) -> Self {
        let (context, restore) = match callsite.category() {
            Category::Command => {
                let context = invocation::begin_command(callsite);
                let restore = set_thread_context.then(|| invocation::set_current(Some(context)));
                (Some(context), restore)
            }
            Category::Step => (invocation::current(), None),
        };
        CallGuard {
            active: Some(Active {
                callsite,
                start: Instant::now(),
                context,
                restore,
                args: runtime::ArgSlots::new(),
            }),
        }
    }

    /// `true` when this call is being recorded. Arguments are hashed only then.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// Hashes the argument at `index` of the callsite's argument list (keyed, one-way).
    #[inline]
    pub fn hash_arg<T: HashArg + ?Sized>(&mut self, index: usize, value: &T) {
        let Some(active) = &mut self.active else {
            return;
        };
        let Some(spec) = active.callsite.args().get(index) else {
            return;
        };
        debug_assert_eq!(spec.mode, ArgMode::Hashed);
        if let Some(key) = runtime::hash_key() {
            let mut hasher = ArgHasher::new(key, spec.name);
            value.hash_arg(&mut hasher);
            active.args.push(index, ArgValue::Hash(hasher.finish()));
        }
    }

    /// Records the argument at `index` as it is (serialized to JSON; `record(..)` only).
    pub fn record_arg<T: serde::Serialize + ?Sized>(&mut self, index: usize, value: &T) {
        let Some(active) = &mut self.active else {
            return;
        };
        // A value that fails to serialize is sent as null rather than lost silently.
        let json = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        active.args.push(index, ArgValue::Json(Box::new(json)));
    }

    /// The command context to set while the call's future is polled.
    #[inline]
    pub fn context(&self) -> Option<CommandContext> {
        let active = self.active.as_ref()?;
        match active.callsite.category() {
            Category::Command => active.context,
            Category::Step => None,
        }
    }

    /// Records the call's outcome. `message` is asked for only when the call failed and
    /// the host opted in to scrubbed error messages.
    #[inline]
    pub fn finish(&mut self, outcome: Finish, message: impl FnOnce() -> Option<String>) {
        if let Some(active) = self.active.take() {
            let message = if !outcome.success && runtime::wants_error_messages() {
                message().map(|text| Box::new(crate::scrub::scrub(&text)))
            } else {
                None
            };
            active.submit(outcome, message);
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some(active) = self.active.take() {
            let kind = if std::thread::panicking() {
                "panic"
            } else {
                "cancelled"
            };
            active.submit(Finish::new(false, Some(kind)), None);
        }
    }
}

impl Active {
    #[inline]
    fn submit(mut self, outcome: Finish, message: Option<Box<String>>) {
        if let Some(previous) = self.restore.take() {
            invocation::set_current(previous);
        }
        if self.callsite.category() == Category::Command {
            if let Some(context) = self.context {
                invocation::end_command(context);
            }
        }
        let end = Instant::now();
        let elapsed_ns =
            u64::try_from(end.duration_since(self.start).as_nanos()).unwrap_or(u64::MAX);
        let invocation = self.context.map_or(0, |context| context.invocation);
        let counters = self.callsite.counters();
        let previous_calls = counters
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if previous_calls >= runtime::budget() {
            counters.fold(elapsed_ns, outcome.success, invocation);
            crate::callsite::list_folding(self.callsite);
            return;
        }
        runtime::send(Message::Call(Record {
            callsite: self.callsite,
            end,
            elapsed_ns,
            success: outcome.success,
            error_kind: outcome.error_kind,
            message,
            command: self.context,
            args: std::mem::take(&mut self.args),
        }));
    }
}

pin_project_lite::pin_project! {
    /// Runs a command's future with the command set as the current command of whichever
    /// thread polls it, so steps awaited inside it know their command.
    pub struct Instrumented<F> {
        #[pin]
        inner: F,
        context: Option<CommandContext>,
    }
}

impl<F: Future> Instrumented<F> {
    /// Wraps `inner`; `context` comes from [`CallGuard::context`].
    #[inline]
    pub fn new(inner: F, context: Option<CommandContext>) -> Self {
        Instrumented { inner, context }
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match *this.context {
            None => this.inner.poll(cx),
            Some(context) => {
                let previous = invocation::set_current(Some(context));
                let result = this.inner.poll(cx);
                invocation::set_current(previous);
                result
            }
        }
    }
}
