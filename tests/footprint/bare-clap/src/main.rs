//! csvtool: count the rows or print the header of a CSV file. A stand-in for a small
//! clap CLI, with and without telemetry (see `../Cargo.toml`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Small CSV utilities.
#[derive(Parser)]
#[command(name = "csvtool", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Count the data rows of a file.
    Count {
        /// The CSV file.
        path: String,
    },
    /// Print the header line of a file.
    Header {
        /// The CSV file.
        path: String,
    },
}

#[cfg_attr(feature = "off", telemetry::tracked_command(hash(path)))]
fn count(path: &str) -> Result<usize, std::io::Error> {
    let text = std::fs::read_to_string(path)?;
    Ok(text.lines().count().saturating_sub(1))
}

#[cfg_attr(feature = "off", telemetry::tracked_command(skip_all))]
fn header(path: &str) -> Result<String, std::io::Error> {
    let text = std::fs::read_to_string(path)?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

fn main() -> ExitCode {
    #[cfg(feature = "off")]
    let _telemetry = telemetry::init(
        telemetry::Config::new("csvtool", env!("CARGO_PKG_VERSION"))
            .endpoint("https://collector.example.com/v1/batch"),
    );
    let result = match Cli::parse().command {
        Command::Count { path } => count(&path).map(|rows| rows.to_string()),
        Command::Header { path } => header(&path),
    };
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("csvtool: {error}");
            ExitCode::FAILURE
        }
    }
}
