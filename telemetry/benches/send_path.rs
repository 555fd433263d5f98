//! Calls that are sent one by one (within the event budget), against the floor and
//! `tracing`'s `#[instrument]`, in one run. The budget is set high so every call is
//! sent; the channel is emptied by a flush between timed chunks of 4,096 calls (outside
//! the timing), so no call meets a full channel and no sender has to wake the worker:
//! the same conditions as the floor's. A call that records a struct is compared with
//! `serde_json::to_value` of it, which is what recording it cost before it was taken as
//! tagged bytes. After criterion's figures, the same pairs are timed interleaved (see
//! `common/paired.rs`), for ratios that a drifting machine does not blur.
//!
//! `cargo bench -p cli-telemetry --bench send_path`

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

/// `tracing`'s answer, with a span per call (as in `hot_path`).
#[inline(never)]
#[tracing::instrument]
fn traced(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

fn setup() {
    common::clear_environment("BENCH_SEND_PATH");
    let guard = telemetry::init(
        common::config("bench-send-path")
            .event_budget(u32::MAX)
            .channel_capacity(4 * common::CHUNK as usize)
            .batching(1 << 14, Duration::from_secs(3600))
            .flush_timeout(Duration::from_secs(60)),
    );
    assert!(
        guard.is_enabled(),
        "telemetry must be on: {:?}",
        guard.status()
    );
    std::mem::forget(guard);

    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
}

fn send_path(c: &mut Criterion) {
    setup();
    let floor = common::Floor::new();
    let mut group = c.benchmark_group("send_path");
    // Every timed call costs the worker an event to build: keep the run short.
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    group.bench_function("plain", |b| b.iter(|| common::plain(black_box(1))));
    group.bench_function("floor", |b| b.iter_custom(|iters| floor.measure(iters)));
    group.bench_function("tracked_sent", |b| {
        b.iter_custom(|iters| {
            common::chunked(
                iters,
                || {
                    black_box(common::tracked(black_box(1)));
                },
                telemetry::flush,
            )
        })
    });
    group.bench_function("tracked_hashed_str_sent", |b| {
        b.iter_custom(|iters| {
            common::chunked(
                iters,
                || {
                    black_box(common::tracked_hashed(
                        black_box(common::TABLE),
                        black_box(1),
                    ));
                },
                telemetry::flush,
            )
        })
    });
    let plan = common::plan();
    group.bench_function("tracked_recorded_struct_sent", |b| {
        b.iter_custom(|iters| {
            common::chunked(
                iters,
                || {
                    black_box(common::tracked_recorded(black_box(&plan), black_box(1)));
                },
                telemetry::flush,
            )
        })
    });
    // What recording the same value cost on the caller's thread when it was made JSON
    // there, for comparison with the row above.
    group.bench_function("serde_json_to_value_struct", |b| {
        b.iter(|| serde_json::to_value(black_box(&plan)).ok())
    });
    group.bench_function("tracing_instrument", |b| b.iter(|| traced(black_box(1))));
    group.finish();
    paired(&floor, &plan);
}

/// The ratios of the targets again, each pair timed interleaved (see
/// `common/paired.rs`): 100 rounds of a chunk of 4,096 calls of each side.
fn paired(floor: &common::Floor, plan: &common::Plan) {
    use common::paired::{consume, nothing, pair, Side};
    const ROUNDS: usize = 100;
    let floor_side = || {
        Side::new(
            || consume(black_box(floor.call(black_box(1)))),
            || floor.drain(),
        )
    };
    let tracked_side = || {
        Side::new(
            || consume(black_box(common::tracked(black_box(1)))),
            telemetry::flush,
        )
    };
    pair(ROUNDS, common::CHUNK, floor_side(), tracked_side()).report(
        "send_path",
        "floor",
        "tracked_sent",
    );
    pair(
        ROUNDS,
        common::CHUNK,
        floor_side(),
        Side::new(
            || {
                consume(black_box(common::tracked_hashed(
                    black_box(common::TABLE),
                    black_box(1),
                )))
            },
            telemetry::flush,
        ),
    )
    .report("send_path", "floor", "tracked_hashed_str_sent");
    pair(
        ROUNDS,
        common::CHUNK,
        Side::new(|| consume(black_box(traced(black_box(1)))), nothing),
        tracked_side(),
    )
    .report("send_path", "tracing_instrument", "tracked_sent");
    pair(
        ROUNDS,
        common::CHUNK,
        Side::new(
            || consume(black_box(serde_json::to_value(black_box(plan)).ok())),
            nothing,
        ),
        Side::new(
            || {
                consume(black_box(common::tracked_recorded(
                    black_box(plan),
                    black_box(1),
                )))
            },
            telemetry::flush,
        ),
    )
    .report(
        "send_path",
        "serde_json_to_value_struct",
        "tracked_recorded_struct_sent",
    );
}

criterion_group!(benches, send_path);
criterion_main!(benches);
