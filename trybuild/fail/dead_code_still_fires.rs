#![deny(dead_code)]

use telemetry::tracked_step;

#[tracked_step]
fn never_called(table: &str) -> usize {
    table.len()
}

fn main() {}
