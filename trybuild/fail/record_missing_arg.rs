use telemetry::tracked_command;

#[tracked_command(record(destination))]
fn init(source: &str) -> usize {
    source.len()
}

fn main() {
    init("s");
}
