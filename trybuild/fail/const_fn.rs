use telemetry::tracked_step;

#[tracked_step]
const fn answer() -> u32 {
    42
}

fn main() {
    let _ = answer();
}
