use telemetry::tracked_step;

#[tracked_step(skip(rows), skip(batch))]
fn load(table: &str, rows: Vec<u8>, batch: u32) -> usize {
    table.len() + rows.len() + batch as usize
}

fn main() {
    load("t", vec![], 1);
}
