use telemetry::tracked_step;

struct Row {
    id: u64,
}

#[tracked_step]
fn load(table: &str, rows: Vec<Row>) -> usize {
    rows.iter().map(|row| row.id as usize).sum::<usize>() + table.len()
}

#[tracked_step(skip(table))]
fn transform(table: &str, callback: impl Fn(u32) -> u32) -> u32 {
    callback(table.len() as u32)
}

fn main() {
    load("t", vec![]);
    transform("t", |x| x);
}
