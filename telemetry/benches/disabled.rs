//! Runtime-disabled (the host's opt-out, `Config::enabled(false)` at `init`) against a
//! plain call, in one run. Its own process: `init` decides once per process.
//!
//! `cargo bench -p telemetry --bench disabled`

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

fn disabled(c: &mut Criterion) {
    common::clear_environment("BENCH_DISABLED");
    let guard = telemetry::init(common::config("bench-disabled").enabled(false));
    assert!(!guard.is_enabled(), "telemetry must be off");

    let mut group = c.benchmark_group("disabled");
    group.bench_function("plain", |b| b.iter(|| common::plain(black_box(1))));
    group.bench_function("tracked", |b| b.iter(|| common::tracked(black_box(1))));
    group.bench_function("plain_str", |b| {
        b.iter(|| common::plain_str(black_box(common::TABLE), black_box(1)))
    });
    group.bench_function("tracked_hashed_str", |b| {
        b.iter(|| common::tracked_hashed(black_box(common::TABLE), black_box(1)))
    });
    group.bench_function("plain_int", |b| {
        b.iter(|| common::plain_int(black_box(7), black_box(1)))
    });
    group.bench_function("tracked_hashed_int", |b| {
        b.iter(|| common::tracked_hashed_int(black_box(7), black_box(1)))
    });
    group.finish();
    drop(guard);
}

criterion_group!(benches, disabled);
criterion_main!(benches);
