//! Manual instrumentation and a custom sink.
//!
//! `telemetry::command!` and `telemetry::step!` time a call without the attribute
//! macros; a custom [`Sink`] receives each batch. This one writes a one-line summary of
//! every event to stderr (a real one might forward to an internal queue).
//!
//! ```text
//! cargo run -p custom-sink -- 3
//! ```

use std::io::Write as _;
use std::process::ExitCode;

use telemetry::{Batch, Sink, SinkError};

/// Prints `event success elapsed` for each event on stderr.
struct SummarySink;

impl Sink for SummarySink {
    fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut stderr = std::io::stderr().lock();
        for event in &batch.batch {
            let success = event
                .properties
                .get("success")
                .and_then(|value| value.as_bool());
            let elapsed = event
                .properties
                .get("elapsed")
                .and_then(|value| value.as_f64());
            writeln!(
                stderr,
                "sent {} success={} elapsed={:.6}s command={}",
                event.event,
                success.map_or("-".to_owned(), |success| success.to_string()),
                elapsed.unwrap_or(0.0),
                event
                    .properties
                    .get("command")
                    .and_then(|value| value.as_str())
                    .unwrap_or("-"),
            )
            .map_err(|error| SinkError::retry(error.to_string()))?;
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let files: u32 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(2);
    let _telemetry =
        telemetry::init(telemetry::Config::new("custom-sink", "0.1.0").sink(SummarySink));

    let command = telemetry::command!("convert");
    let mut converted = 0;
    for file in 0..files {
        let step = telemetry::step!("convert_file");
        converted += file + 1;
        step.success();
    }
    telemetry::track("conversion_summary", serde_json::json!({ "files": files }));
    let result: Result<u32, std::io::Error> = Ok(converted);
    command.finish(&result);

    println!("converted {files} files");
    ExitCode::SUCCESS
}
