use telemetry::{tracked_command, tracked_step};

#[tracked_command]
#[tracked_step]
fn init(source: &str) -> usize {
    source.len()
}

fn main() {
    init("s");
}
