//! A ready `telemetry` subcommand for [clap](https://docs.rs/clap) hosts (feature `clap`):
//! `<tool> telemetry status | enable | disable | local | level | log | events`.
//!
//! Two ways to add it. Flatten [`Telemetry`] into the host's subcommand enum:
//!
//! ```
//! use clap::{Parser, Subcommand};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(subcommand)]
//!     command: Command,
//! }
//!
//! #[derive(Subcommand)]
//! enum Command {
//!     /// Load data.
//!     Load,
//!     #[command(flatten)]
//!     Telemetry(telemetry::cli::Telemetry),
//! }
//!
//! let config = || telemetry::Config::new("demo", "1.0").enabled(false);
//! let cli = Cli::parse_from(["demo", "telemetry", "status"]);
//! let code = match cli.command {
//!     Command::Load => std::process::ExitCode::SUCCESS,
//!     Command::Telemetry(command) => command.run(&config()),
//! };
//! # let _ = code;
//! ```
//!
//! Or name the variant yourself and hold [`TelemetryArgs`]:
//!
//! ```
//! use clap::{Parser, Subcommand};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(subcommand)]
//!     command: Command,
//! }
//!
//! #[derive(Subcommand)]
//! enum Command {
//!     /// Show or change anonymous usage telemetry.
//!     Telemetry(telemetry::cli::TelemetryArgs),
//! }
//!
//! let cli = Cli::parse_from(["demo", "telemetry"]); // no subcommand: `status`
//! let Command::Telemetry(args) = cli.command;
//! let code = args.run(&telemetry::Config::new("demo", "1.0").enabled(false));
//! # let _ = code;
//! ```
//!
//! [`DisableFlag`] adds a global `--disable-telemetry` flag the same way.
//!
//! The output goes to stdout: the user asked for it. Failures (the choice could not be
//! saved) go to stderr with exit code 1.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::config::Config;
use crate::source::Source;
use crate::status::Status;

/// The `telemetry` subcommand, for `#[command(flatten)]` in the host's subcommand enum.
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(subcommand)]
///     command: telemetry::cli::Telemetry,
/// }
///
/// let cli = Cli::parse_from(["demo", "telemetry", "disable"]);
/// let telemetry::cli::Telemetry::Telemetry(args) = cli.command;
/// assert_eq!(args.command, Some(telemetry::cli::TelemetryCommand::Disable));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, clap::Subcommand)]
// Doc comments of a clap type become the help of the command it is flattened into when
// that command has none of its own: these say so explicitly (tests/help.rs).
#[command(about = None, long_about = None)]
pub enum Telemetry {
    /// Show or change anonymous usage telemetry.
    Telemetry(TelemetryArgs),
}

impl Telemetry {
    /// Runs the subcommand: prints to stdout and returns the exit code.
    ///
    /// ```
    /// let command = telemetry::cli::Telemetry::Telemetry(telemetry::cli::TelemetryArgs::default());
    /// let code = command.run(&telemetry::Config::new("demo", "1.0").enabled(false));
    /// # let _ = code;
    /// ```
    pub fn run(&self, config: &Config) -> ExitCode {
        match self {
            Telemetry::Telemetry(args) => args.run(config),
        }
    }
}

/// A global `--disable-telemetry` flag, for `#[command(flatten)]` in the host's top-level
/// arguments: it turns telemetry off for one run (the host's source in the precedence).
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     telemetry: telemetry::cli::DisableFlag,
/// }
///
/// let cli = Cli::parse_from(["demo", "--disable-telemetry"]);
/// assert!(cli.telemetry.disable_telemetry);
/// let config = cli.telemetry.apply(telemetry::Config::new("demo", "1.0"));
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::Args)]
#[command(about = None, long_about = None)]
pub struct DisableFlag {
    /// Send no anonymous usage data for this run.
    #[arg(long = "disable-telemetry", global = true)]
    pub disable_telemetry: bool,
}

impl DisableFlag {
    /// `config`, turned off with [`Config::enabled(false)`](Config::enabled) when the
    /// flag was given, unchanged otherwise.
    ///
    /// ```
    /// let flag = telemetry::cli::DisableFlag { disable_telemetry: true };
    /// let status = telemetry::status(&flag.apply(telemetry::Config::new("demo", "1.0")));
    /// assert!(!status.enabled);
    /// ```
    pub fn apply(&self, config: Config) -> Config {
        if self.disable_telemetry {
            config.enabled(false)
        } else {
            config
        }
    }
}

/// The arguments of `<tool> telemetry`: an optional [`TelemetryCommand`], `status` when
/// none is given.
///
/// ```
/// let args = telemetry::cli::TelemetryArgs::default();
/// assert_eq!(args.command, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, clap::Args)]
#[command(about = "Show or change anonymous usage telemetry", long_about = None)]
pub struct TelemetryArgs {
    /// What to do (default: `status`).
    #[command(subcommand)]
    pub command: Option<TelemetryCommand>,
}

impl TelemetryArgs {
    /// Runs the command (or `status`): prints to stdout and returns the exit code.
    ///
    /// ```
    /// let code = telemetry::cli::TelemetryArgs::default()
    ///     .run(&telemetry::Config::new("demo", "1.0").enabled(false));
    /// # let _ = code;
    /// ```
    pub fn run(&self, config: &Config) -> ExitCode {
        self.command
            .clone()
            .unwrap_or(TelemetryCommand::Status)
            .run(config)
    }
}

/// `status`, `enable`, `disable`, `local`, `level`, `log` or `events`.
///
/// ```
/// let mut out = Vec::new();
/// let config = telemetry::Config::new("demo", "1.0").enabled(false);
/// let ok = telemetry::cli::TelemetryCommand::Status.run_to(&config, &mut out, &mut std::io::sink());
/// assert!(ok);
/// assert!(String::from_utf8(out).unwrap().starts_with("Telemetry is off"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, clap::Subcommand)]
#[command(about = None, long_about = None)]
#[non_exhaustive]
pub enum TelemetryCommand {
    /// Show whether telemetry is on, which setting decided, and where its state is kept.
    Status,
    /// Turn anonymous usage telemetry on for this user (saved).
    Enable,
    /// Turn anonymous usage telemetry off for this user (saved).
    Disable,
    /// List every event this program can send, with the arguments each one hashes or
    /// records, and the context sent with every event.
    Events {
        /// Print the list as JSON.
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Print a Markdown "what we collect" page, for the host's documentation.
        #[arg(long)]
        markdown: bool,
    },
    /// Show the last events sent (or dropped, with why, or only recorded in local-only
    /// mode), oldest first: time, event, outcome.
    Log {
        /// Print the log's lines as JSON (one object per line, as stored).
        #[arg(long)]
        json: bool,
    },
    /// Record events locally only, never sending them (saved): see them with `log`,
    /// then opt in with `enable`.
    Local,
    /// Set how much is sent (saved): `off`, `errors` (failures only) or `usage` (all).
    Level {
        /// `off`, `errors` or `usage`.
        level: crate::level::Level,
    },
}

impl TelemetryCommand {
    /// Runs the command, printing to stdout (errors to stderr), and returns the exit
    /// code: success, or 1 when the choice could not be saved.
    ///
    /// ```
    /// let code = telemetry::cli::TelemetryCommand::Status
    ///     .run(&telemetry::Config::new("demo", "1.0").enabled(false));
    /// assert_eq!(code, std::process::ExitCode::SUCCESS);
    /// ```
    pub fn run(&self, config: &Config) -> ExitCode {
        let ok = self.run_to(config, &mut io::stdout().lock(), &mut io::stderr().lock());
        if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// Runs the command, writing its report to `out` and errors to `err`; `true` on
    /// success. For hosts that print elsewhere, and for tests.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let config = telemetry::Config::new("demo", "1.0").state_dir(dir.path());
    /// let mut out = Vec::new();
    /// assert!(telemetry::cli::TelemetryCommand::Disable.run_to(&config, &mut out, &mut std::io::sink()));
    /// let text = String::from_utf8(out).unwrap();
    /// # #[cfg(feature = "enabled")]
    /// assert!(text.contains("is disabled"), "{text}");
    /// ```
    pub fn run_to(&self, config: &Config, out: &mut dyn Write, err: &mut dyn Write) -> bool {
        let app = config.app_name();
        let result = match self {
            TelemetryCommand::Status => {
                let status = crate::status(config);
                write!(out, "{status}")
                    .and_then(|()| write_hint(out, config, &status))
                    .map(|()| true)
            }
            TelemetryCommand::Events { json, markdown } => {
                let catalog = crate::catalog();
                let text = if *json {
                    #[cfg(feature = "json")]
                    let mut text =
                        serde_json::to_string_pretty(&catalog.to_json()).unwrap_or_default();
                    #[cfg(not(feature = "json"))]
                    let mut text = compiled_out_json();
                    text.push('\n');
                    text
                } else if *markdown {
                    catalog.to_markdown(app)
                } else {
                    catalog.to_table()
                };
                out.write_all(text.as_bytes()).map(|()| true)
            }
            #[cfg(feature = "json")]
            TelemetryCommand::Log { json } => match crate::sent_log(config) {
                Ok(lines) => write_log(out, config, &lines, *json).map(|()| true),
                Err(error) => {
                    let _ = writeln!(
                        err,
                        "error: could not read the telemetry log of {app}: {error}"
                    );
                    Ok(false)
                }
            },
            // No wire types in this build: telemetry is compiled out, nothing is logged.
            #[cfg(not(feature = "json"))]
            TelemetryCommand::Log { json } => {
                let text = if *json {
                    ""
                } else {
                    "Nothing is recorded: telemetry is compiled out of this build.\n"
                };
                out.write_all(text.as_bytes()).map(|()| true)
            }
            TelemetryCommand::Local | TelemetryCommand::Level { .. } => {
                let saved = match self {
                    TelemetryCommand::Level { level } => crate::set_level(config, *level),
                    _ => crate::set_local(config),
                };
                match saved {
                    Ok(status) => write!(out, "{status}")
                        .and_then(|()| write_hint(out, config, &status))
                        .map(|()| true),
                    Err(error) => {
                        let _ = writeln!(
                            err,
                            "error: could not save the telemetry choice of {app}: {error}"
                        );
                        Ok(false)
                    }
                }
            }
            TelemetryCommand::Enable | TelemetryCommand::Disable => {
                let enable = matches!(self, TelemetryCommand::Enable);
                let saved = if enable {
                    crate::enable(config)
                } else {
                    crate::disable(config)
                };
                match saved {
                    Ok(status) => report_choice(out, config, enable, &status).map(|()| true),
                    Err(error) => {
                        let verb = if enable { "enable" } else { "disable" };
                        let _ =
                            writeln!(err, "error: could not {verb} telemetry for {app}: {error}");
                        if !enable {
                            let _ = writeln!(
                                err,
                                "To turn it off anyway, set DO_NOT_TRACK=1 or {}_TELEMETRY_DISABLED=1 in your environment.",
                                config.env_prefix()
                            );
                        }
                        Ok(false)
                    }
                }
            }
        };
        // A closed stdout (`| head`) is not the user's failure to save a choice.
        result.unwrap_or(true)
    }
}

#[cfg(feature = "json")]
fn write_log(
    out: &mut dyn Write,
    config: &Config,
    lines: &[crate::transparency::LoggedEvent],
    json: bool,
) -> io::Result<()> {
    if json {
        for line in lines {
            serde_json::to_writer(&mut *out, line).map_err(io::Error::other)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    if lines.is_empty() {
        return writeln!(
            out,
            "Nothing sent or recorded yet by {} (or the log was cleared by `disable`).",
            config.app_name()
        );
    }
    for line in lines {
        write!(
            out,
            "{}  {:<24} {}",
            line.at,
            line.event.event,
            line.outcome.as_str()
        )?;
        match &line.reason {
            Some(reason) => writeln!(out, " ({reason})")?,
            None => writeln!(out)?,
        }
    }
    Ok(())
}

fn write_hint(out: &mut dyn Write, config: &Config, status: &Status) -> io::Result<()> {
    let app = config.app_name();
    let prefix = config.env_prefix();
    if status.source == Source::CompiledOut {
        return Ok(());
    }
    if status.enabled && status.local {
        writeln!(
            out,
            "\nEvents are recorded locally and never sent: run `{app} telemetry log` to see them, \
             `{app} telemetry enable` to start sending, `{app} telemetry disable` to stop recording."
        )
    } else if status.enabled {
        writeln!(
            out,
            "\nTo opt out, run `{app} telemetry disable`, or set DO_NOT_TRACK=1 or {prefix}_TELEMETRY_DISABLED=1.\n\
             To see exactly what is sent, set {prefix}_TELEMETRY_DEBUG=1."
        )
    } else {
        writeln!(out, "\nTo opt in, run `{app} telemetry enable`.")
    }
}

fn report_choice(
    out: &mut dyn Write,
    config: &Config,
    enable: bool,
    status: &Status,
) -> io::Result<()> {
    let app = config.app_name();
    if status.source == Source::CompiledOut {
        return writeln!(
            out,
            "This build of {app} contains no telemetry: there is nothing to {}.",
            if enable { "enable" } else { "disable" }
        );
    }
    let file = status
        .state_file()
        .map(|path| format!(" (saved in {})", path.display()))
        .unwrap_or_default();
    if enable {
        writeln!(out, "Anonymous usage telemetry for {app} is enabled{file}.")?;
        if !status.enabled {
            writeln!(out, "It stays off for now: {}.", status.reason())?;
        }
    } else {
        writeln!(
            out,
            "Anonymous usage telemetry for {app} is disabled{file}."
        )?;
    }
    Ok(())
}

/// `events --json` of a build without serde_json (compiled out, without the `json`
/// feature): no event can be sent, so the list is empty; the context fields are written
/// as serde_json would write them (static ASCII text, which `{:?}` quotes as JSON does).
#[cfg(not(feature = "json"))]
fn compiled_out_json() -> String {
    let context: Vec<String> = crate::CONTEXT_FIELDS
        .iter()
        .map(|(field, description)| {
            format!("    {{\n      \"description\": {description:?},\n      \"field\": {field:?}\n    }}")
        })
        .collect();
    format!(
        "{{\n  \"context\": [\n{}\n  ],\n  \"events\": []\n}}",
        context.join(",\n")
    )
}
