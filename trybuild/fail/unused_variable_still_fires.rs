#![deny(unused_variables)]

use telemetry::tracked_step;

#[tracked_step(skip(rows))]
fn load(table: &str, rows: Vec<u8>) -> usize {
    let unused = 1;
    table.len()
}

fn main() {
    load("t", vec![]);
}
