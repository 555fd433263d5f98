//! What the benchmark binaries share: the plain call, the floor, the tracked functions,
//! a sink that discards batches, and memory readings.
#![allow(dead_code)] // each binary uses a different part

pub mod paired;

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use telemetry::{tracked_step, Batch, Sink, SinkError};

/// The work every benchmarked function does: next to nothing, so what is measured is the
/// instrumentation.
#[inline(always)]
fn work(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

/// A plain call: the baseline every other figure is compared with.
#[inline(never)]
pub fn plain(x: u64) -> u64 {
    work(x)
}

/// The same plain function, taking a string (the baseline for one-argument calls).
#[inline(never)]
pub fn plain_str(table: &str, x: u64) -> u64 {
    work(x) ^ table.len() as u64
}

/// A plain function that first checks the flag every tracked call checks first (a
/// relaxed load of a static in the `telemetry` crate): the floor of any runtime opt-out.
#[inline(never)]
pub fn flag_checked(x: u64) -> u64 {
    if telemetry::__private::is_recording() {
        return black_box(x);
    }
    work(x)
}

/// A tracked step with no argument sent (every argument is hashed unless skipped).
#[inline(never)]
#[tracked_step(skip_all)]
pub fn tracked(x: u64) -> u64 {
    work(x)
}

/// A tracked step that sends one argument, hashed (the default); `x` is left out.
#[inline(never)]
#[tracked_step(skip(x))]
pub fn tracked_hashed(table: &str, x: u64) -> u64 {
    work(x) ^ table.len() as u64
}

/// The same plain function, taking an integer by value.
#[inline(never)]
pub fn plain_int(id: u64, x: u64) -> u64 {
    work(x) ^ id
}

/// A tracked step that sends one argument passed by value, hashed; `x` is left out.
#[inline(never)]
#[tracked_step(skip(x))]
pub fn tracked_hashed_int(id: u64, x: u64) -> u64 {
    work(x) ^ id
}

/// A value for `record(..)` too large for a record's inline bytes: a struct with a
/// sequence, an enum and an option (70 bytes of tagged bytes).
#[derive(serde::Serialize)]
pub struct Plan {
    pub tables: Vec<&'static str>,
    pub mode: Mode,
    pub batch: Option<u32>,
}

/// How a [`Plan`] loads.
#[derive(serde::Serialize)]
pub enum Mode {
    Append,
    Merge,
}

pub fn plan() -> Plan {
    Plan {
        tables: vec!["events", "sessions", "users"],
        mode: Mode::Merge,
        batch: Some(500),
    }
}

/// A tracked step that records a [`Plan`] as it is; `x` is left out.
#[inline(never)]
#[tracked_step(record(plan), skip(x))]
pub fn tracked_recorded(plan: &Plan, x: u64) -> u64 {
    work(x) ^ plan.tables.len() as u64
}

/// The short string the one-argument benchmarks hash (20 bytes, as in the issue).
pub const TABLE: &str = "analytics.events_v2_";

// ---------------------------------------------------------------------------------------
// The floor: what any design that times a call and hands it to another thread must pay.

/// A small `Copy` record, about what a tracked call carries.
#[derive(Clone, Copy)]
pub struct FloorRecord {
    pub site: &'static str,
    pub end: Instant,
    pub elapsed_ns: u64,
    pub success: bool,
}

/// The floor: two clock reads around the work, a small record, one successful
/// `try_send` into a bounded crossbeam channel whose receiving thread is not blocked in
/// `recv` on it. The receiver drains between timed chunks, never while a send is timed,
/// so no send wakes anybody and none finds the channel full; like the library's worker,
/// it runs on another thread, so the sender pays for slots the receiver last touched.
pub struct Floor {
    sender: Sender<FloorRecord>,
    drain: Sender<()>,
    drained: Receiver<()>,
}

/// Sends timed between two drains; the channels (the floor's and, in `send_path`, the
/// library's) hold four times as many.
pub const CHUNK: u64 = 4096;

impl Floor {
    pub fn new() -> Self {
        let (sender, receiver) = crossbeam_channel::bounded::<FloorRecord>(4 * CHUNK as usize);
        let (drain, drain_requests) = crossbeam_channel::unbounded::<()>();
        let (drained_tx, drained) = crossbeam_channel::unbounded::<()>();
        std::thread::Builder::new()
            .name("floor-receiver".into())
            .spawn(move || {
                while drain_requests.recv().is_ok() {
                    let mut total = 0u64;
                    while let Ok(record) = receiver.try_recv() {
                        total = total.wrapping_add(record.elapsed_ns);
                    }
                    black_box(total);
                    if drained_tx.send(()).is_err() {
                        return;
                    }
                }
            })
            .expect("spawn the floor's receiver");
        Floor {
            sender,
            drain,
            drained,
        }
    }

    /// One floor call.
    #[inline(never)]
    pub fn call(&self, x: u64) -> u64 {
        let start = Instant::now();
        let result = work(x);
        let end = Instant::now();
        let record = FloorRecord {
            site: "floor",
            end,
            elapsed_ns: end.duration_since(start).as_nanos() as u64,
            success: true,
        };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.sender.try_send(record)
        {
            panic!("the floor's channel must never be full");
        }
        result
    }

    /// Waits until the receiver has emptied the channel.
    pub fn drain(&self) {
        self.drain.send(()).expect("the floor's receiver runs");
        self.drained.recv().expect("the floor's receiver runs");
    }

    /// Times `iters` floor calls; the receiver drains (untimed) after each chunk.
    pub fn measure(&self, iters: u64) -> Duration {
        chunked(
            iters,
            || {
                black_box(self.call(black_box(1)));
            },
            || self.drain(),
        )
    }
}

/// Times `iters` calls of `call` in chunks of [`CHUNK`], running `between` (untimed)
/// after each chunk.
pub fn chunked(iters: u64, mut call: impl FnMut(), mut between: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let chunk = left.min(CHUNK);
        let start = Instant::now();
        for _ in 0..chunk {
            call();
        }
        total += start.elapsed();
        left -= chunk;
        between();
    }
    total
}

// ---------------------------------------------------------------------------------------
// Telemetry set-up.

/// Discards every batch: delivery costs nothing, only the worker's own work remains.
pub struct DiscardSink;

impl Sink for DiscardSink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        black_box(batch.batch.len());
        Ok(())
    }
}

/// A configuration for benchmarks: discarding sink, state in a temporary directory
/// (kept for the life of the process).
pub fn config(app: &str) -> telemetry::Config {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("temporary state directory"));
    telemetry::Config::new(app, "1.0.0")
        .sink(DiscardSink)
        .state_dir(dir.path().join("state"))
        .cache_dir(dir.path().join("cache"))
}

/// Clears the environment switches that would turn telemetry off or redirect it.
pub fn clear_environment(app_prefix: &str) {
    for name in [
        "DO_NOT_TRACK".to_owned(),
        format!("{app_prefix}_TELEMETRY_DISABLED"),
        format!("{app_prefix}_TELEMETRY_DEBUG"),
        format!("{app_prefix}_TELEMETRY_ENDPOINT"),
    ] {
        // SAFETY-free in edition 2021; the benches set the environment before any thread.
        std::env::remove_var(name);
    }
}

// ---------------------------------------------------------------------------------------
// Memory.

/// A field of `/proc/self/status` in kB (`VmRSS`, `VmHWM`), where there is one.
pub fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}
