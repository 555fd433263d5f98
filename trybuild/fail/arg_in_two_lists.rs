use telemetry::tracked_command;

#[tracked_command(hash(source), record(source))]
fn init(source: &str, destination: &str) -> usize {
    source.len() + destination.len()
}

fn main() {
    init("s", "d");
}
