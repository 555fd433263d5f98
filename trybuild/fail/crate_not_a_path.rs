use telemetry::tracked_step;

#[tracked_step(crate = 5)]
fn load(table: &str) -> usize {
    table.len()
}

#[tracked_step(crate = "my telemetry")]
fn transform(table: &str) -> usize {
    table.len()
}

#[tracked_step(crate)]
fn export(table: &str) -> usize {
    table.len()
}

fn main() {
    load("t");
    transform("t");
    export("t");
}
