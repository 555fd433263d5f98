//! The enabled hot path, in one run: a plain call, the floor, a tracked call with no
//! argument and with one hashed argument, and `tracing`'s `#[instrument]` with a fmt
//! subscriber writing to `io::sink()`.
//!
//! Telemetry runs with the default event budget (8 calls per step sent one by one), so
//! what is measured is the steady state of a hot step: its calls are folded into the
//! aggregate. `send_path` measures calls that are sent one by one.
//!
//! `cargo bench -p cli-telemetry --bench hot_path`

mod common;

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};

/// `tracing`'s answer, with a span per call.
#[inline(never)]
#[tracing::instrument]
fn traced(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

/// The same with one string field recorded on the span.
#[inline(never)]
#[tracing::instrument(skip(x))]
fn traced_str(table: &str, x: u64) -> u64 {
    black_box(x).wrapping_add(1) ^ table.len() as u64
}

fn setup() {
    common::clear_environment("BENCH_HOT_PATH");
    let guard = telemetry::init(common::config("bench-hot-path"));
    assert!(
        guard.is_enabled(),
        "telemetry must be on: {:?}",
        guard.status()
    );
    // Keep telemetry on for the whole process.
    std::mem::forget(guard);

    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
}

fn hot_path(c: &mut Criterion) {
    setup();
    let floor = common::Floor::new();
    let mut group = c.benchmark_group("hot_path");
    group.bench_function("plain", |b| b.iter(|| common::plain(black_box(1))));
    // What most of the floor is made of.
    group.bench_function("two_clock_reads", |b| {
        b.iter(|| {
            let start = Instant::now();
            let result = common::plain(black_box(1));
            result ^ Instant::now().duration_since(start).as_nanos() as u64
        })
    });
    group.bench_function("floor", |b| b.iter_custom(|iters| floor.measure(iters)));
    group.bench_function("tracked", |b| b.iter(|| common::tracked(black_box(1))));
    group.bench_function("tracing_instrument", |b| b.iter(|| traced(black_box(1))));
    group.bench_function("plain_str", |b| {
        b.iter(|| common::plain_str(black_box(common::TABLE), black_box(1)))
    });
    group.bench_function("tracked_hashed_str", |b| {
        b.iter(|| common::tracked_hashed(black_box(common::TABLE), black_box(1)))
    });
    group.bench_function("tracing_instrument_str", |b| {
        b.iter(|| traced_str(black_box(common::TABLE), black_box(1)))
    });
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
