use telemetry::tracked_step;

#[tracked_step(name = "")]
fn load(table: &str) -> usize {
    table.len()
}

fn main() {
    load("t");
}
