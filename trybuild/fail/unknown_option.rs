use telemetry::tracked_step;

#[tracked_step(nmae = "load")]
fn load(table: &str) -> usize {
    table.len()
}

#[tracked_step(level = "info")]
fn transform(table: &str) -> usize {
    table.len()
}

fn main() {
    load("t");
    transform("t");
}
