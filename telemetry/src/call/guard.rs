//! The hot path: a guard that times one tracked call and hands a small record to the
//! worker.
//!
//! This is what the macros expand to, and what manual instrumentation uses (see
//! [`command`](crate::command) and [`step`](crate::step)). On the caller's thread a
//! call costs one relaxed atomic load when telemetry is off; when it is on, two clock
//! reads, the encoding of the arguments it sends, and one `try_send` of a fixed-size
//! record; beyond the callsite's event budget, two relaxed atomic additions instead of
//! the encoding and the send. No JSON, no I/O, no lock, and no allocation: a call with
//! arguments or a failure carries them in a box that the worker handed back (see
//! [`take_cold`](super::channel::take_cold)), allocated only when none is waiting.
//!
//! A hashed argument whose encoding is short (up to 45 bytes: a string of up to 36) is
//! not hashed here: its encoding, the exact bytes the keyed BLAKE3 would take after the
//! domain tag and the argument's name, is copied into the record's cold part, and the
//! worker hashes it before it builds the event. That raw encoding lives only in the
//! record, in the in-memory channel, until then: it is never written anywhere (the spool
//! and the sinks only ever see built events, which carry the hash) and never leaves the
//! process. A longer encoding, or one that does not fit beside the call's other
//! arguments, is hashed on the caller's thread. The hash is the same either way.
//!
//! A recorded argument travels the same way, as tagged bytes that the worker turns into
//! JSON (see [`capture`]): inline in the record when short, in
//! a reused spill otherwise.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::capture::{self, Refused};
use super::channel;
use super::clock;
use super::invocation::{self, CommandContext};
use super::record::{ArgSlots, CallRecord};
use crate::callsite::{ArgMode, Callsite, Category};
use crate::hash::{ArgHasher, HashArg};

/// The stack buffer a recorded value is first taken into: values up to this many bytes
/// of tagged bytes (a struct of a few short fields, a list of a few names) are encoded
/// once.
const CAPTURE_BUFFER: usize = 256;

/// The outcome of a tracked call, as decided by [`Outcome`](crate::Outcome).
///
/// Two words (passed in registers): `None` for a success, the failure's kind for a
/// failure, with an empty kind for a failure whose kind is not known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finish {
    failure: Option<&'static str>,
}

impl Finish {
    /// A success or a failure of the given kind.
    #[inline]
    pub fn new(success: bool, error_kind: Option<&'static str>) -> Self {
        Finish {
            failure: if success {
                None
            } else {
                Some(error_kind.unwrap_or(""))
            },
        }
    }

    /// Whether the call succeeded.
    #[inline]
    pub(crate) fn success(self) -> bool {
        self.failure.is_none()
    }

    /// The failure's kind, if the call failed and the kind is known.
    #[inline]
    pub(crate) fn error_kind(self) -> Option<&'static str> {
        self.failure.filter(|kind| !kind.is_empty())
    }
}

/// Times one call of a tracked function and records it when finished or dropped.
///
/// Dropped without [`finish`](CallGuard::finish), it records a failure: `"panic"` when
/// the thread is panicking, `"cancelled"` for an `async` call (a future dropped before it
/// completed), `"early_return"` for a synchronous one.
///
/// Cost, in order of the paths a call can take (see `docs/performance.md`):
///
/// - telemetry off: one relaxed load at the start and a check of the guard's own state
///   at the end; everything else is out of line;
/// - a callsite beyond its event budget (the steady state of a hot step): two clock reads
///   and two relaxed atomic additions on the callsite's counters; its arguments are not
///   hashed, since an aggregate carries none;
/// - within the budget: two clock reads, the arguments' encodings (short ones are hashed
///   later, by the worker; see the module docs), and one `try_send` of a fixed-size
///   record.
#[must_use = "a call guard records when it is finished or dropped"]
pub struct CallGuard {
    /// `None` once recorded (or when telemetry is off). Dropped by hand, in `Drop` and
    /// `finish`, so that the guard's drop glue is only the inlined check in `Drop`: a
    /// call made while telemetry is off then costs no out-of-line drop.
    active: ManuallyDrop<Option<Active>>,
}

struct Active {
    callsite: &'static Callsite,
    /// When the call started, on [`clock::now_ns`]'s clock.
    start_ns: u64,
    /// For a command, its own context; for a step, the enclosing command's, if any.
    context: Option<CommandContext>,
    /// What the thread's current command was before this sync command started.
    restore: Option<Option<CommandContext>>,
    /// Started by [`CallGuard::start`]: a synchronous call, which cannot be cancelled.
    synchronous: bool,
    /// The callsite had spent its event budget when the call started, so the call will be
    /// folded into the aggregate: its arguments are neither hashed nor recorded.
    folding: bool,
    args: ArgSlots,
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

    #[inline(always)]
    fn begin(callsite: &'static Callsite, set_thread_context: bool) -> Self {
        if !channel::is_recording() {
            return CallGuard {
                active: ManuallyDrop::new(None),
            };
        }
        Self::begin_active(callsite, set_thread_context)
    }

    #[inline(never)]
    fn begin_active(callsite: &'static Callsite, set_thread_context: bool) -> Self {
        if channel::is_closed() {
            channel::report_late_call(callsite);
            return CallGuard {
                active: ManuallyDrop::new(None),
            };
        }
        let (context, restore) = match callsite.category() {
            Category::Command => {
                let context = invocation::begin_command(callsite);
                let restore = set_thread_context.then(|| invocation::set_current(Some(context)));
                (Some(context), restore)
            }
            Category::Step => (invocation::current(), None),
        };
        let folding = callsite.counters().over_budget(channel::budget());
        CallGuard {
            active: ManuallyDrop::new(Some(Active {
                callsite,
                start_ns: clock::now_ns(),
                context,
                restore,
                synchronous: set_thread_context,
                folding,
                args: ArgSlots::new(),
            })),
        }
    }

    /// `true` when this call is being recorded. Arguments are hashed only then (and only
    /// when the call is within its callsite's event budget: see
    /// [`hash_arg`](CallGuard::hash_arg)).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// Whether this call's arguments will be sent: it is recorded and will be sent as its
    /// own event. A call beyond the budget is folded into an aggregate, which carries no
    /// arguments, so they are neither hashed nor recorded.
    #[inline]
    fn wants_args(&self) -> bool {
        matches!(&*self.active, Some(active) if !active.folding)
    }

    /// Hashes the argument at `index` of the callsite's argument list (keyed, one-way),
    /// unless the call is beyond its callsite's event budget. A short encoding is kept in
    /// the record and hashed by the worker (see the module docs).
    ///
    /// Only a check is inlined into the tracked function; the hashing is out of line, so
    /// that a function with arguments costs no more than one without while telemetry is
    /// off (a larger body would need a larger prologue on every call).
    #[inline]
    pub fn hash_arg<T: HashArg + ?Sized>(&mut self, index: usize, value: &T) {
        if self.wants_args() {
            self.hash_arg_active(index, &mut |hasher| value.hash_arg(hasher));
        }
    }

    #[inline(never)]
    fn hash_arg_active(&mut self, index: usize, write: &mut dyn FnMut(&mut ArgHasher)) {
        let Some(active) = &mut *self.active else {
            return;
        };
        let Some(spec) = active.callsite.args().get(index) else {
            return;
        };
        debug_assert_eq!(spec.mode, ArgMode::Hashed);
        if let Some(key) = channel::hash_key() {
            // A short encoding is kept in the record and hashed by the worker (it never
            // leaves the process unhashed); a longer one is hashed here.
            let later = active.callsite.args().len() - index - 1;
            let args = &mut active.args;
            let digest = super::digest::digest_or_defer(key, spec.name, write, &mut |encoding| {
                args.push_encoding(index, encoding, later)
            });
            if let Some(digest) = digest {
                args.push_digest(index, digest);
            }
        }
    }

    /// Records the argument at `index` as it is (`record(..)` only), unless the call is
    /// beyond its callsite's event budget. The value is taken as tagged bytes, which the
    /// worker turns into JSON (see the `capture` module).
    #[inline]
    pub fn record_arg<T: serde::Serialize + ?Sized>(&mut self, index: usize, value: &T) {
        if self.wants_args() {
            self.record_arg_active(index, value);
        }
    }

    #[inline(never)]
    fn record_arg_active<T: serde::Serialize + ?Sized>(&mut self, index: usize, value: &T) {
        let Some(active) = &mut *self.active else {
            return;
        };
        // Inline in the record if it is short (what `record` is meant for: a unit variant,
        // a flag, a count, a short name), in the call's spill otherwise. Taken into a stack
        // buffer first, so that only a value longer than it is encoded a second time.
        let mut buffer = [0u8; CAPTURE_BUFFER];
        match capture::encode(value, &mut buffer) {
            Ok(len) => {
                let bytes = &buffer[..len];
                if !active.args.push_recorded(index, bytes) {
                    active.args.push_captured(index, |spill| {
                        spill.extend_from_slice(bytes);
                        Ok(())
                    });
                }
            }
            Err(Refused::TooLong) => active
                .args
                .push_captured(index, |spill| capture::encode_into(value, spill)),
            // A value that fails to serialize is sent as null rather than lost silently.
            Err(Refused::Failed) => active.args.push_captured(index, |_| Err(Refused::Failed)),
        }
    }

    /// Ends a guard that was not active when its call started (telemetry off): such a
    /// guard never becomes active, so its drop would only check that again. Used by the
    /// macros, whose expansion decides on a copy of [`is_active`](CallGuard::is_active)
    /// taken at the start, so that a call made while telemetry is off never reads the
    /// guard back after its body.
    #[inline(always)]
    pub fn forget_inactive(self) {
        debug_assert!(!self.is_active(), "an active guard must be finished");
        std::mem::forget(self);
    }

    /// The command context to set while the call's future is polled.
    #[inline]
    pub fn context(&self) -> Option<CommandContext> {
        let active = (*self.active).as_ref()?;
        match active.callsite.category() {
            Category::Command => active.context,
            Category::Step => None,
        }
    }

    /// Records the call's outcome. `message` is asked for only when the call failed, is
    /// to be sent as its own event, and the host opted in to scrubbed error messages.
    #[inline]
    pub fn finish(&mut self, outcome: Finish, message: impl FnOnce() -> Option<String>) {
        if let Some(active) = &*self.active {
            let end_ns = clock::now_ns();
            // Asked for here rather than out of line: `message` borrows the call's return
            // value, and handing the borrow to a function the compiler cannot see into
            // would keep that value in memory even on the path that never records.
            let message =
                if !outcome.success() && !active.folding && channel::wants_error_messages() {
                    message()
                } else {
                    None
                };
            self.finish_active(end_ns, outcome, message);
        }
    }

    /// The recording part of [`finish`](CallGuard::finish), out of line so that a call
    /// made while telemetry is off inlines to a check of the guard.
    #[inline(never)]
    fn finish_active(&mut self, end_ns: u64, outcome: Finish, message: Option<String>) {
        let message = message.map(truncate_message);
        // Worked on in place, not moved out: a move would copy the whole guard state
        // (the argument bytes included) for a call that has no arguments.
        let Some(active) = &mut *self.active else {
            return;
        };
        active.end_context();
        let elapsed_ns = end_ns.saturating_sub(active.start_ns);
        let counters = active.callsite.counters();
        let claimed = if active.folding {
            None
        } else {
            counters.claim_event(channel::budget())
        };
        if let Some(claimed) = claimed {
            // A message is scrubbed on the worker: the caller's thread only takes the text.
            channel::send_call(claimed, || {
                CallRecord::new(
                    active.callsite,
                    end_ns,
                    elapsed_ns,
                    (outcome.success(), outcome.error_kind(), message),
                    active.context,
                    &mut active.args,
                    channel::take_cold,
                )
            });
        } else {
            let invocation = active.context.map_or(0, |context| context.invocation);
            counters.fold(elapsed_ns, outcome.success(), invocation);
            super::counters::list_folding(active.callsite);
        }
        // Drops what is left (recorded values of a call folded after all).
        *self.active = None;
    }

    /// A guard dropped while still active: the call panicked, its future was dropped
    /// (cancelled), or a synchronous call left without reaching `finish` (an exit the
    /// expansion cannot see, such as a `return` hidden in a macro of a `#[track_caller]`
    /// function, or a manual [`Call`](crate::Call) dropped unfinished).
    #[cold]
    #[inline(never)]
    fn abandon(&mut self) {
        let kind = if std::thread::panicking() {
            "panic"
        } else if self
            .active
            .as_ref()
            .is_some_and(|active| active.synchronous)
        {
            "early_return"
        } else {
            "cancelled"
        };
        if kind == "early_return" {
            if let Some(active) = &*self.active {
                explain_early_return(active.callsite);
            }
        }
        self.finish_active(clock::now_ns(), Finish::new(false, Some(kind)), None);
    }
}

/// Debug mode: why a synchronous call was recorded as `early_return`. The attribute only
/// sees the tokens the user wrote; a `return` produced by a macro (`bail!`) is not among
/// them, and a `#[track_caller]` body runs in place (a closure would lose the caller's
/// location), so that exit leaves the function before the outcome is read.
#[cold]
fn explain_early_return(callsite: &Callsite) {
    crate::diag::debug(format_args!(
        "{}_{} ended without its outcome and is recorded as a failure of kind `early_return`: \
         an exit the attribute cannot see, such as a `return` inside a macro (`bail!`, `ensure!`) \
         in a `#[track_caller]` function, or a manual `Call` dropped unfinished. Write that exit \
         out (`return Err(..)` or `Err(..)?`), or remove `#[track_caller]`",
        callsite.category().as_str(),
        callsite.name(),
    ));
}

impl Drop for CallGuard {
    #[inline]
    fn drop(&mut self) {
        if self.active.is_some() {
            self.abandon();
        }
    }
}

impl Active {
    /// Restores the thread's previous command and ends a command's invocation.
    #[inline]
    fn end_context(&mut self) {
        if let Some(previous) = self.restore.take() {
            invocation::set_current(previous);
        }
        if self.callsite.category() == Category::Command {
            if let Some(context) = self.context {
                invocation::end_command(context);
            }
        }
    }
}

/// The most of an error message that is kept, in bytes. The worker scrubs messages
/// with the lock the exit path needs held, so the work per message must stay small
/// whatever the host's error says; and a first kilobyte tells what went wrong.
pub(crate) const MAX_MESSAGE: usize = 1024;

/// `message` cut to [`MAX_MESSAGE`] bytes on a character boundary, its memory given
/// back.
pub(crate) fn truncate_message(mut message: String) -> String {
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.shrink_to_fit();
    }
    message
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
                let _restore = Restore(invocation::set_current(Some(context)));
                this.inner.poll(cx)
            }
        }
    }
}

/// Puts the thread's previous current command back when dropped, so a poll that panics
/// (and is caught further up) leaves the thread as it found it.
struct Restore(Option<CommandContext>);

impl Drop for Restore {
    #[inline]
    fn drop(&mut self) {
        invocation::set_current(self.0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_are_cut_on_a_character_boundary() {
        let short = "short".to_owned();
        assert_eq!(super::truncate_message(short.clone()), short);
        let long = "é".repeat(super::MAX_MESSAGE);
        let cut = super::truncate_message(long);
        assert!(cut.len() <= super::MAX_MESSAGE && cut.len() >= super::MAX_MESSAGE - 1);
        assert!(cut.chars().all(|character| character == 'é'));
    }

    use crate::hash::HashArg;

    const KEY: [u8; 32] = [42; 32];

    fn fast<T: HashArg + ?Sized>(name: &str, value: &T) -> [u8; 16] {
        crate::call::digest(&KEY, name, &mut |hasher| value.hash_arg(hasher))
    }

    /// The documented encoding fed to a streaming BLAKE3 hasher piece by piece, as the
    /// hot path did before it buffered short encodings.
    fn streamed(name: &str, tag: &[u8], text: &[u8]) -> [u8; 16] {
        let mut hasher = blake3::Hasher::new_keyed(&KEY);
        hasher.update(b"telemetry/arg/v1\0");
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update(tag);
        hasher.update(&(text.len() as u64).to_le_bytes());
        hasher.update(text);
        let mut out = [0; 16];
        out.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        out
    }

    #[test]
    fn buffered_and_streamed_encodings_hash_alike_at_every_length() {
        for len in (0..300).chain([511, 512, 1023, 1024, 1025, 5000]) {
            let value: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            assert_eq!(
                fast("source", value.as_str()),
                streamed("source", b"s", value.as_bytes()),
                "string of {len} bytes"
            );
        }
        // A long argument name alone fills the buffer.
        let name = "n".repeat(400);
        assert_eq!(fast(&name, "x"), streamed(&name, b"s", b"x"));
    }

    #[test]
    fn integers_encode_as_their_decimal_text() {
        for value in [
            0i128,
            1,
            -1,
            9,
            10,
            -42,
            1_000_000,
            i128::from(i64::MIN),
            i128::from(i64::MAX),
            i128::MIN,
            i128::MAX,
        ] {
            assert_eq!(
                fast("n", &value),
                streamed("n", b"n", value.to_string().as_bytes()),
                "{value}"
            );
        }
        for value in [
            0u128,
            7,
            u128::from(u64::MAX),
            u128::from(u64::MAX) + 1,
            u128::MAX,
        ] {
            assert_eq!(
                fast("n", &value),
                streamed("n", b"n", value.to_string().as_bytes()),
                "{value}"
            );
        }
        assert_eq!(
            fast("n", &usize::MAX),
            streamed("n", b"n", usize::MAX.to_string().as_bytes())
        );
        assert_eq!(
            fast("n", &isize::MIN),
            streamed("n", b"n", isize::MIN.to_string().as_bytes())
        );
        assert_eq!(fast("n", &-5i8), streamed("n", b"n", b"-5"));
    }
}
