//! A tracked `main` that calls `init` itself could never send its event.
use telemetry::tracked_command;

#[tracked_command]
fn main() {
    let _telemetry = telemetry::init(telemetry::Config::new("demo", "1.0"));
}
