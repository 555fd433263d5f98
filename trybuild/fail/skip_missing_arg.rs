use telemetry::tracked_step;

#[tracked_step(skip(row))]
fn load(table: &str, rows: Vec<u8>) -> usize {
    table.len() + rows.len()
}

fn main() {
    load("t", vec![]);
}
