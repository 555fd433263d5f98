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
    let _telemetry = telemetry::init(test_hooks::config(
        telemetry::Config::new("custom-sink", "0.1.0").sink(sink()),
    ));
    test_hooks::run();

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

/// Hooks for the integration tests (`tests/`), read from `CUSTOM_SINK_EXAMPLE_*`
/// variables; without them the example runs as documented above.
mod test_hooks {
    use std::time::Duration;

    fn var(name: &str) -> Option<String> {
        std::env::var(format!("CUSTOM_SINK_EXAMPLE_{name}")).ok()
    }

    /// `FLUSH_TIMEOUT=max`: the longest exit bound there is. `FAIL_MESSAGE_BYTES=n`:
    /// error messages on (see [`run`]).
    pub fn config(config: telemetry::Config) -> telemetry::Config {
        let config = match var("FLUSH_TIMEOUT").as_deref() {
            Some("max") => config.flush_timeout(Duration::MAX),
            _ => config,
        };
        if var("FAIL_MESSAGE_BYTES").is_some() {
            config.error_messages(true)
        } else {
            config
        }
    }

    /// `PAYLOAD=<count>x<bytes>`: that many custom events, each with a string property
    /// of that many bytes. `FAIL_MESSAGE_BYTES=n`: a tracked command fails with a
    /// message of `n` bytes.
    pub fn run() {
        if let Some((count, bytes)) = var("PAYLOAD").as_deref().and_then(|payload| {
            let (count, bytes) = payload.split_once('x')?;
            Some((count.parse::<usize>().ok()?, bytes.parse::<usize>().ok()?))
        }) {
            for index in 0..count {
                telemetry::track(
                    "payload",
                    serde_json::json!({ "index": index, "blob": "p".repeat(bytes) }),
                );
            }
        }
        if let Some(bytes) = var("FAIL_MESSAGE_BYTES").and_then(|bytes| bytes.parse().ok()) {
            let _ = fails_with(bytes);
        }
    }

    #[telemetry::tracked_command(skip_all)]
    fn fails_with(bytes: usize) -> Result<(), String> {
        Err("x".repeat(bytes))
    }
}
