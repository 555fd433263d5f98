use telemetry::tracked_command;

struct Destination;

#[tracked_command(record(destination))]
fn init(destination: Destination) {
    let _ = destination;
}

fn main() {
    init(Destination);
}
