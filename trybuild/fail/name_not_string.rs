use telemetry::tracked_step;

#[tracked_step(name = load)]
fn load_rows(table: &str) -> usize {
    table.len()
}

fn main() {
    load_rows("t");
}
