//! The scrubber of opt-in error messages (`Config::error_messages(true)`): what building
//! one failed call's event costs the worker, and so what an exit that takes over from the
//! worker may wait for. Three messages: a typical short one, a message at the 1 KiB cap
//! dense with things to remove, and one at the cap with nothing to remove. The baseline
//! is copying the message, measured in the same run.
//!
//! `cargo bench -p cli-telemetry --bench scrub`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

const SHORT: &str =
    "failed to open /home/alice/data/events.csv: No such file or directory (os error 2)";

fn dense() -> String {
    let unit = "cannot read /home/alice/data/file.csv: token=abcdef0123456789abcdef0123456789 \
                for alice@example.com at https://user:pw@db.example.com/x; ";
    unit.repeat(1024 / unit.len() + 1)[..1024].to_owned()
}

fn plain() -> String {
    let unit = "the input has fewer columns than the schema expects and cannot be loaded ";
    unit.repeat(1024 / unit.len() + 1)[..1024].to_owned()
}

fn bench(c: &mut Criterion) {
    let dense = dense();
    let plain = plain();
    let mut group = c.benchmark_group("scrub");
    for (name, message) in [("short", SHORT), ("dense_1k", &dense), ("plain_1k", &plain)] {
        group.bench_function(format!("copy_{name}"), |b| {
            b.iter(|| black_box(black_box(message).to_owned()))
        });
        group.bench_function(name, |b| {
            b.iter(|| black_box(telemetry::__private::scrub_message(black_box(message))))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
