//! A tracked call allocates nothing on the caller's thread: not without arguments, not
//! with short hashed arguments or a failure (their cold part reuses a box the worker
//! made or handed back), not with recorded values of any shape (taken as tagged bytes,
//! inline or in a reused spill), and not beyond the event budget. Counted by a global allocator
//! that tallies the allocations of the thread under test.
#![cfg(feature = "enabled")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use telemetry::{tracked_step, Batch, Sink, SinkError};

/// Counts the allocations of threads that asked to be counted.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

static SEEN: AtomicBool = AtomicBool::new(false);

#[allow(unsafe_code)]
// SAFETY: every call is passed on to the system allocator unchanged; the count only
// reads and writes `const`-initialised thread-locals without destructors, which never
// allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn note() {
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            SEEN.store(true, Ordering::Relaxed);
            let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        }
    });
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The allocations `work` makes on this thread.
fn allocations_of(work: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|count| count.set(0));
    COUNTING.with(|counting| counting.set(true));
    work();
    COUNTING.with(|counting| counting.set(false));
    ALLOCATIONS.with(Cell::get)
}

struct Discard;

impl Sink for Discard {
    fn send(&mut self, _batch: &Batch) -> Result<(), SinkError> {
        Ok(())
    }
}

#[tracked_step]
fn no_arguments() {}

#[tracked_step]
fn hashed(table: &str, rows: u64) -> Result<u64, std::fmt::Error> {
    if rows == 0 {
        // An error that allocates nothing itself.
        return Err(std::fmt::Error);
    }
    Ok(rows + table.len() as u64)
}

#[derive(serde::Serialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Destination {
    Duckdb,
    Postgres,
}

/// Recorded values that are scalars travel as tagged bytes, turned into JSON by the worker.
#[tracked_step(record(destination, batch, dry_run))]
fn recorded(destination: Destination, batch: Option<u32>, dry_run: bool) {
    let _ = (destination, batch, dry_run);
}

#[derive(serde::Serialize)]
struct LoadOptions {
    tables: Vec<&'static str>,
    destination: Destination,
    batch: Option<u32>,
}

/// Recorded values too long for the record's inline bytes: a struct with a sequence, and
/// a long string. No JSON is made on this thread, and the spill they go to is reused.
#[tracked_step(record(options, label))]
fn recorded_compound(options: &LoadOptions, label: &str) {
    let _ = (options, label);
}

#[test]
fn tracked_calls_allocate_nothing_on_the_callers_thread() {
    // The counter itself must work, or a zero below would prove nothing.
    assert_eq!(allocations_of(|| drop(Vec::<u8>::with_capacity(8))), 1);

    let state = tempfile::tempdir().unwrap();
    std::env::remove_var("DO_NOT_TRACK");
    std::env::remove_var("NO_ALLOCATION_TELEMETRY_DISABLED");
    let guard = telemetry::init(
        telemetry::Config::new("no-allocation", "1.0")
            .sink(Discard)
            .state_dir(state.path())
            .cache_dir(state.path().join("cache"))
            .flush_timeout(Duration::from_secs(10)),
    );
    assert!(guard.is_enabled(), "{:?}", guard.status());
    // The worker makes its spare boxes when it starts.
    std::thread::sleep(Duration::from_millis(100));
    // Whatever a thread sets up once (its thread-locals) is not a call's cost.
    no_arguments();

    // Within the budget (8 events per function by default), then beyond it.
    let sent = allocations_of(|| {
        for _ in 0..7 {
            no_arguments();
        }
    });
    assert_eq!(sent, 0, "calls sent as their own events allocated");
    let with_arguments = allocations_of(|| {
        for round in 0..8u64 {
            // Every other call fails: a failure travels in the cold part too.
            let _ = hashed("analytics.events_v2_", round % 2);
        }
    });
    assert_eq!(with_arguments, 0, "calls with hashed arguments allocated");
    let with_recorded = allocations_of(|| {
        for round in 0..8u32 {
            let destination = if round % 2 == 0 {
                Destination::Duckdb
            } else {
                Destination::Postgres
            };
            recorded(destination, Some(round), round > 3);
        }
    });
    assert_eq!(with_recorded, 0, "calls with recorded scalars allocated");
    let options = LoadOptions {
        tables: vec!["events", "sessions", "users", "orders"],
        destination: Destination::Duckdb,
        batch: Some(500),
    };
    let label = "a label longer than the record's inline bytes can hold, by far";
    let with_compound = allocations_of(|| {
        for _ in 0..8 {
            recorded_compound(&options, label);
        }
    });
    assert_eq!(
        with_compound, 0,
        "calls with recorded compound values allocated"
    );
    let folded = allocations_of(|| {
        for round in 0..10_000u64 {
            no_arguments();
            let _ = hashed("analytics.events_v2_", round % 2);
        }
    });
    assert_eq!(folded, 0, "calls beyond the budget allocated");
    assert!(SEEN.load(Ordering::Relaxed));
    drop(guard);
}
