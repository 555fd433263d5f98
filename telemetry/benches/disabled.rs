//! Runtime-disabled (the host's opt-out, `Config::enabled(false)` at `init`) against a
//! plain call, in one run. Its own process: `init` decides once per process.
//!
//! After criterion's figures, each tracked function is timed again interleaved with its
//! plain twin (see `common/paired.rs`), and so is a plain function that only checks the
//! flag: the differences in ns per call, which a drifting machine does not blur.
//!
//! `cargo bench -p cli-telemetry --bench disabled`

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

fn disabled(c: &mut Criterion) {
    common::clear_environment("BENCH_DISABLED");
    let guard = telemetry::init(common::config("bench-disabled").enabled(false));
    assert!(!guard.is_enabled(), "telemetry must be off");

    let mut group = c.benchmark_group("disabled");
    group.bench_function("plain", |b| b.iter(|| common::plain(black_box(1))));
    group.bench_function("flag_check", |b| {
        b.iter(|| common::flag_checked(black_box(1)))
    });
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
    paired();
    drop(guard);
}

/// Each tracked function against its plain twin, and the bare flag check against the
/// plain call, interleaved: 200 rounds of 100,000 calls of each.
fn paired() {
    use common::paired::{consume, nothing, pair, Side};
    const ROUNDS: usize = 200;
    const CALLS: u64 = 100_000;
    pair(
        ROUNDS,
        CALLS,
        Side::new(|| consume(black_box(common::plain(black_box(1)))), nothing),
        Side::new(
            || consume(black_box(common::flag_checked(black_box(1)))),
            nothing,
        ),
    )
    .report("disabled", "plain", "flag_check");
    pair(
        ROUNDS,
        CALLS,
        Side::new(|| consume(black_box(common::plain(black_box(1)))), nothing),
        Side::new(
            || consume(black_box(common::tracked(black_box(1)))),
            nothing,
        ),
    )
    .report("disabled", "plain", "tracked");
    pair(
        ROUNDS,
        CALLS,
        Side::new(
            || {
                consume(black_box(common::plain_str(
                    black_box(common::TABLE),
                    black_box(1),
                )))
            },
            nothing,
        ),
        Side::new(
            || {
                consume(black_box(common::tracked_hashed(
                    black_box(common::TABLE),
                    black_box(1),
                )))
            },
            nothing,
        ),
    )
    .report("disabled", "plain_str", "tracked_hashed_str");
    pair(
        ROUNDS,
        CALLS,
        Side::new(
            || consume(black_box(common::plain_int(black_box(7), black_box(1)))),
            nothing,
        ),
        Side::new(
            || {
                consume(black_box(common::tracked_hashed_int(
                    black_box(7),
                    black_box(1),
                )))
            },
            nothing,
        ),
    )
    .report("disabled", "plain_int", "tracked_hashed_int");
}

criterion_group!(benches, disabled);
criterion_main!(benches);
