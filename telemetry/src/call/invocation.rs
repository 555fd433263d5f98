//! Which command a step runs under.
//!
//! A command invocation gets a process-unique number when it starts. The thread (or the
//! future, through [`Instrumented`](crate::__private::Instrumented)) running it holds it
//! in a thread-local; a step on a thread without one (a thread spawned by the command,
//! a task moved to another executor thread) falls back to the outermost command still
//! running in the process, which is the right answer for a CLI that runs one command.

use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use crate::callsite::Callsite;

/// The command a call runs under: its callsite and its invocation number.
#[derive(Clone, Copy, Debug)]
pub struct CommandContext {
    pub(crate) callsite: &'static Callsite,
    pub(crate) invocation: u64,
}

thread_local! {
    static CURRENT: Cell<Option<CommandContext>> = const { Cell::new(None) };
}

static NEXT_INVOCATION: AtomicU64 = AtomicU64::new(1);
/// The outermost running command (0: none), for threads that have no current command.
static ROOT_INVOCATION: AtomicU64 = AtomicU64::new(0);
static ROOT_CALLSITE: AtomicPtr<Callsite> = AtomicPtr::new(std::ptr::null_mut());

/// Starts a command invocation and returns its context. The first command to start while
/// no other runs becomes the process's root command.
pub(crate) fn begin_command(callsite: &'static Callsite) -> CommandContext {
    let invocation = NEXT_INVOCATION.fetch_add(1, Ordering::Relaxed);
    if ROOT_INVOCATION
        .compare_exchange(0, invocation, Ordering::AcqRel, Ordering::Relaxed)
        .is_ok()
    {
        ROOT_CALLSITE.store(
            callsite as *const Callsite as *mut Callsite,
            Ordering::Release,
        );
    }
    CommandContext {
        callsite,
        invocation,
    }
}

/// Ends a command invocation; the root slot is freed when the root command ends.
pub(crate) fn end_command(context: CommandContext) {
    let _ = ROOT_INVOCATION.compare_exchange(
        context.invocation,
        0,
        Ordering::AcqRel,
        Ordering::Relaxed,
    );
}

/// Sets this thread's current command and returns the previous one.
#[inline]
pub(crate) fn set_current(context: Option<CommandContext>) -> Option<CommandContext> {
    CURRENT.with(|current| current.replace(context))
}

/// The command the calling code runs under, if any.
#[inline]
pub(crate) fn current() -> Option<CommandContext> {
    CURRENT.with(Cell::get).or_else(root)
}

fn root() -> Option<CommandContext> {
    let invocation = ROOT_INVOCATION.load(Ordering::Acquire);
    if invocation == 0 {
        return None;
    }
    let callsite = ROOT_CALLSITE.load(Ordering::Acquire);
    #[allow(unsafe_code)]
    // SAFETY: ROOT_CALLSITE only ever holds a pointer made from a `&'static Callsite`.
    let callsite: &'static Callsite = unsafe { callsite.cast_const().as_ref() }?;
    Some(CommandContext {
        callsite,
        invocation,
    })
}
