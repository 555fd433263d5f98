#![deny(unused_must_use)]

use telemetry::tracked_step;

#[tracked_step]
#[must_use = "the row count tells whether anything was loaded"]
fn load(table: &str) -> usize {
    table.len()
}

fn main() {
    load("t");
}
