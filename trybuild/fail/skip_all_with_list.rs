use telemetry::tracked_command;

#[tracked_command(skip_all, record(destination))]
fn init(source: &str, destination: &str) -> usize {
    source.len() + destination.len()
}

fn main() {
    init("s", "d");
}
