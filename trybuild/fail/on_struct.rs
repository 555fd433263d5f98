use telemetry::tracked_command;

#[tracked_command]
struct Init {
    source: String,
}

fn main() {}
