use telemetry::tracked_step;

#[tracked_step(crate = "my_telemetry")]
fn load(table: &str) -> usize {
    table.len()
}

fn main() {
    load("t");
}
