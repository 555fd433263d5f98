//! `minietl`: a toy ETL tool, instrumented with the `telemetry` crate.
//!
//! ```text
//! minietl init <source> <destination>   register a pipeline
//! minietl run [--rows N] [--fail-at STEP] run extract → normalize → load
//! minietl status                         show the pipeline
//! minietl telemetry status|enable|disable|local|level|log|events
//! ```
//!
//! By default it prints what it would send, as JSON lines on stderr (the debug sink);
//! with `MINIETL_TELEMETRY_ENDPOINT=<url>` it sends to any Segment-compatible receiver.
//! `--disable-telemetry`, `DO_NOT_TRACK=1` or `MINIETL_TELEMETRY_DISABLED=1` turn it off.

mod pipeline;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "minietl",
    version,
    about = "A toy ETL tool (telemetry example)"
)]
struct Cli {
    /// Turn telemetry off for this run.
    #[arg(long, global = true)]
    disable_telemetry: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Register a pipeline from SOURCE to DESTINATION.
    Init {
        /// Where rows come from (a path or URL).
        source: String,
        /// Where rows go: duckdb, postgres or parquet.
        destination: String,
    },
    /// Run the pipeline: extract, normalize and load.
    Run {
        /// How many rows to extract.
        #[arg(long, default_value_t = 1000)]
        rows: usize,
        /// Make a step fail (extract, normalize or load), to see a failure event.
        #[arg(long)]
        fail_at: Option<String>,
    },
    /// Show the pipeline.
    Status,
    /// `minietl telemetry status|enable|disable`: the library's ready subcommand.
    #[command(flatten)]
    Telemetry(telemetry::cli::Telemetry),
}

fn telemetry_config(disable_flag: bool) -> telemetry::Config {
    let config = telemetry::Config::new("minietl", env!("CARGO_PKG_VERSION"))
        .write_key("minietl-example-key");
    // Test hook: the integration tests try the host's sample rate through this variable.
    let config = match std::env::var("MINIETL_EXAMPLE_SAMPLE_RATE").map(|rate| rate.parse()) {
        Ok(Ok(rate)) => config.sample_rate(rate),
        _ => config,
    };
    // Shows what would be sent until an endpoint is configured with
    // MINIETL_TELEMETRY_ENDPOINT (which takes precedence over this sink). Sinks and the
    // wire types are not in a compiled-out build (no serde_json there), hence the cfg.
    #[cfg(feature = "telemetry")]
    let config = config.sink(telemetry::sink::DebugSink::new());
    if disable_flag {
        config.enabled(false)
    } else {
        config
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = telemetry_config(cli.disable_telemetry);

    if let Command::Telemetry(command) = &cli.command {
        return command.run(&config);
    }

    let _telemetry = telemetry::init(config);
    let code = match cli.command {
        Command::Init {
            source,
            destination,
        } => report(pipeline::init(&source, &destination)),
        Command::Run { rows, fail_at } => report(pipeline::run(rows, fail_at.as_deref())),
        Command::Status => report(pipeline::status()),
        Command::Telemetry(_) => unreachable!("handled before init"),
    };
    report_threads();
    code
}

/// Test hook: with `MINIETL_EXAMPLE_REPORT_THREADS` set, prints this process's thread
/// count on stderr while telemetry is still running, so the integration tests can prove
/// that a disabled run starts no thread (Linux only: it reads `/proc/self/task`).
fn report_threads() {
    if std::env::var_os("MINIETL_EXAMPLE_REPORT_THREADS").is_some() {
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            eprintln!("minietl-example: threads={}", tasks.count());
        }
    }
}

fn report(result: Result<(), pipeline::Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("minietl: {error}");
            ExitCode::from(2)
        }
    }
}
