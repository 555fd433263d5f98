//! A clap host whose own types have no doc comment, as many real ones: it flattens the
//! library's `--disable-telemetry` flag into its arguments and its `telemetry`
//! subcommand into its own subcommands. `tests/help.rs` runs its `--help` and checks
//! that none of the library's rustdoc (prose or code fences) shows there.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "docless-host")]
struct Cli {
    #[command(flatten)]
    telemetry: telemetry::cli::DisableFlag,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    Run,
    #[command(flatten)]
    Telemetry(telemetry::cli::Telemetry),
}

// The same, with the library's subcommand type as the whole subcommand field.
#[derive(Parser)]
#[command(name = "docless-host")]
struct Bare {
    #[command(subcommand)]
    command: telemetry::cli::Telemetry,
}

fn main() {
    if std::env::var_os("DOCLESS_BARE").is_some() {
        let _ = Bare::parse();
    } else {
        let cli = Cli::parse();
        let _ = (cli.telemetry, cli.command.is_some());
    }
}
