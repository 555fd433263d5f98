//! Per-callsite counters: calls within the event budget are sent one by one, the rest
//! are folded with relaxed atomics into one aggregate per flush, and callsites that fold
//! are kept in a lock-free list the worker walks.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use crate::callsite::Callsite;

/// Per-callsite counters. Calls up to the budget are sent one by one; the rest are folded
/// here with relaxed atomics and sent as one aggregate event per flush.
///
/// A folded call costs two atomic additions (`folded`, `total_ns`); `min_ns`, `max_ns`,
/// `last_invocation` and `listed` are read first and written only when they change, so
/// the steady state of a hot step dirties nothing else.
pub(crate) struct Counters {
    /// Calls that were given one of the budget's events so far in this process. Stops
    /// growing at the budget, give or take racing threads: it is counted with a plain
    /// load and store, not a locked addition, so racing callers may be sent beyond the
    /// budget; the worker, counting in `emitted`, folds those (see
    /// [`admit_event`](Counters::admit_event)).
    pub(crate) calls: AtomicU64,
    /// Calls the worker built an event of: never more than the budget. Written by the
    /// worker only.
    pub(crate) emitted: AtomicU64,
    pub(crate) folded: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) total_ns: AtomicU64,
    pub(crate) min_ns: AtomicU64,
    pub(crate) max_ns: AtomicU64,
    /// The invocation of the last folded call, to name the command in the aggregate.
    pub(crate) last_invocation: AtomicU64,
    /// Set once the callsite has been pushed onto the list of folding callsites.
    pub(crate) listed: AtomicBool,
    pub(crate) next: AtomicPtr<Callsite>,
}

impl Counters {
    pub(crate) const fn new() -> Self {
        Counters {
            calls: AtomicU64::new(0),
            emitted: AtomicU64::new(0),
            folded: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            total_ns: AtomicU64::new(0),
            min_ns: AtomicU64::new(u64::MAX),
            max_ns: AtomicU64::new(0),
            last_invocation: AtomicU64::new(0),
            listed: AtomicBool::new(false),
            next: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Whether the budget of `budget` events is spent: a call starting now will be
    /// folded, so its arguments need not be hashed. Only ever turns from `false` to
    /// `true`.
    #[inline]
    pub(crate) fn over_budget(&self, budget: u32) -> bool {
        self.calls.load(Ordering::Relaxed) >= u64::from(budget)
    }

    /// Takes one of the budget's events for a call that is ending: `Some` with the number
    /// of events taken before this one if the call is to be sent to the worker, `None` if
    /// it is to be folded. Once the budget is spent this is a plain load: the counter is
    /// not written again.
    ///
    /// A load and a store rather than a locked addition (the one locked instruction a
    /// sent call would otherwise add to the channel's): two threads racing here may both
    /// send, and the count may even lose an update, so a few calls beyond the budget can
    /// reach the worker. The worker admits exactly the budget
    /// ([`admit_event`](Counters::admit_event)) and folds the others, so every call is
    /// still counted once and no more than the budget's events are built.
    #[inline]
    pub(crate) fn claim_event(&self, budget: u32) -> Option<u64> {
        let calls = self.calls.load(Ordering::Relaxed);
        if calls >= u64::from(budget) {
            return None;
        }
        self.calls.store(calls + 1, Ordering::Relaxed);
        Some(calls)
    }

    /// On the worker, for a call sent to it: `true` if it becomes its own event (one of
    /// the budget's), `false` if the budget was already spent and it is to be folded.
    pub(crate) fn admit_event(&self, budget: u32) -> bool {
        self.emitted
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |emitted| {
                (emitted < u64::from(budget)).then_some(emitted + 1)
            })
            .is_ok()
    }

    /// Folds one call into the aggregate.
    #[inline]
    pub(crate) fn fold(&self, elapsed_ns: u64, success: bool, invocation: u64) {
        // Extremes first, and written only when they move (a locked compare-exchange
        // loop otherwise, on every call): `take` then never sees a count without them.
        if elapsed_ns < self.min_ns.load(Ordering::Relaxed) {
            self.min_ns.fetch_min(elapsed_ns, Ordering::Relaxed);
        }
        if elapsed_ns > self.max_ns.load(Ordering::Relaxed) {
            self.max_ns.fetch_max(elapsed_ns, Ordering::Relaxed);
        }
        if !success {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        if invocation != 0 && self.last_invocation.load(Ordering::Relaxed) != invocation {
            self.last_invocation.store(invocation, Ordering::Relaxed);
        }
        self.total_ns.fetch_add(elapsed_ns, Ordering::Relaxed);
        // The count last, releasing the rest: whoever takes the count (`take`, acquiring
        // it) sees this call's other figures, so none is left behind without its count.
        self.folded.fetch_add(1, Ordering::Release);
    }

    /// Takes what was folded since the last call, leaving the counters empty.
    pub(crate) fn take(&self) -> Option<Folded> {
        let count = self.folded.swap(0, Ordering::Acquire);
        if count == 0 {
            return None;
        }
        let total_ns = self.total_ns.swap(0, Ordering::Relaxed);
        let mut min_ns = self.min_ns.swap(u64::MAX, Ordering::Relaxed);
        let mut max_ns = self.max_ns.swap(0, Ordering::Relaxed);
        // A call folded on another thread while the fields are being taken may land its
        // extremes in one aggregate and its count in the next: keep the figures sane.
        if min_ns == u64::MAX {
            min_ns = total_ns / count;
        }
        if max_ns < min_ns {
            max_ns = min_ns;
        }
        Some(Folded {
            count,
            failures: self.failures.swap(0, Ordering::Relaxed),
            total_ns,
            min_ns,
            max_ns,
            last_invocation: self.last_invocation.load(Ordering::Relaxed),
        })
    }
}

/// A snapshot of folded calls, turned into an aggregate event by the worker.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Folded {
    pub(crate) count: u64,
    pub(crate) failures: u64,
    pub(crate) total_ns: u64,
    pub(crate) min_ns: u64,
    pub(crate) max_ns: u64,
    pub(crate) last_invocation: u64,
}

/// Head of the lock-free list of callsites that have started folding.
static FOLDING: AtomicPtr<Callsite> = AtomicPtr::new(std::ptr::null_mut());

/// Adds `callsite` to the list of folding callsites, once. After the first time, a
/// relaxed load.
#[inline]
pub(crate) fn list_folding(callsite: &'static Callsite) {
    if !callsite.counters().listed.load(Ordering::Relaxed) {
        push_folding(callsite);
    }
}

#[cold]
#[inline(never)]
fn push_folding(callsite: &'static Callsite) {
    let counters = callsite.counters();
    if counters.listed.swap(true, Ordering::AcqRel) {
        return;
    }
    let node = callsite as *const Callsite as *mut Callsite;
    let mut head = FOLDING.load(Ordering::Acquire);
    loop {
        counters.next.store(head, Ordering::Relaxed);
        match FOLDING.compare_exchange_weak(head, node, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(current) => head = current,
        }
    }
}

/// Every callsite that has started folding, newest first.
pub(crate) fn folding() -> impl Iterator<Item = &'static Callsite> {
    let mut next = FOLDING.load(Ordering::Acquire);
    std::iter::from_fn(move || {
        // The list only ever holds `&'static Callsite`s pushed by `list_folding`, and
        // nodes are never removed, so each pointer is a valid `'static` reference.
        let current: &'static Callsite = pointer_to_static(next)?;
        next = current.counters().next.load(Ordering::Acquire);
        Some(current)
    })
}

#[allow(unsafe_code)]
fn pointer_to_static(pointer: *mut Callsite) -> Option<&'static Callsite> {
    // SAFETY: see `folding`: only `&'static Callsite` values are stored, never freed.
    unsafe { pointer.cast_const().as_ref() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_may_overshoot_the_budget_but_the_worker_admits_exactly_it() {
        let counters = Counters::new();
        assert_eq!(counters.claim_event(2), Some(0));
        assert_eq!(counters.claim_event(2), Some(1));
        assert_eq!(counters.claim_event(2), None);
        assert!(counters.over_budget(2));
        // A racing caller's stale store: the count lost updates, a third call is sent.
        counters.calls.store(1, Ordering::Relaxed);
        assert_eq!(counters.claim_event(2), Some(1));
        let admitted: Vec<bool> = (0..3).map(|_| counters.admit_event(2)).collect();
        assert_eq!(admitted, [true, true, false]);
        assert!(!counters.admit_event(2));
    }
}
