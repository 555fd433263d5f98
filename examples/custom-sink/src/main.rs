//! Manual instrumentation and a custom sink.
//!
//! `telemetry::command!` and `telemetry::step!` time a call without the attribute
//! macros; a custom [`Sink`] receives each batch. This one writes a one-line summary of
//! every event to stderr (a real one might forward to an internal queue).
//!
//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the events go to that OpenTelemetry collector
//! as traces instead ([`telemetry::sink::OtlpSink`]); with `POSTHOG_HOST` and
//! `POSTHOG_API_KEY`, to PostHog ([`telemetry::sink::PostHogSink`]). A second argument
//! `fail` makes the last file's conversion, and so the command, fail.
//!
//! ```text
//! cargo run -p custom-sink -- 3
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 cargo run -p custom-sink -- 3 fail
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

/// Where the events go: an OpenTelemetry collector, PostHog, or the summary on stderr.
fn sink() -> Box<dyn Sink> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    if let Some(endpoint) = var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        return Box::new(telemetry::sink::OtlpSink::new(endpoint));
    }
    if let (Some(host), Some(key)) = (var("POSTHOG_HOST"), var("POSTHOG_API_KEY")) {
        return Box::new(telemetry::sink::PostHogSink::new(host, key));
    }
    Box::new(SummarySink)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let files: u32 = args.next().and_then(|arg| arg.parse().ok()).unwrap_or(2);
    let fail = args.next().as_deref() == Some("fail");
    let _telemetry = telemetry::init(telemetry::Config::new("custom-sink", "0.1.0").sink(sink()));

    let command = telemetry::command!("convert");
    let mut converted = 0;
    let mut result: Result<u32, std::io::Error> = Ok(0);
    for file in 0..files {
        let step = telemetry::step!("convert_file");
        if fail && file + 1 == files {
            step.failure("unreadable");
            result = Err(std::io::Error::other("the last file is unreadable"));
            break;
        }
        converted += file + 1;
        step.success();
    }
    telemetry::track("conversion_summary", serde_json::json!({ "files": files }));
    let result = result.map(|_| converted);
    command.finish(&result);

    match result {
        Ok(_) => {
            println!("converted {files} files");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("conversion failed: {error}");
            ExitCode::FAILURE
        }
    }
}
