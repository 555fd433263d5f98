//! `error_kind = ..` and `success = ".."`: misuse is reported on the option.
use telemetry::{tracked_command, tracked_step};

fn kind(_: &std::io::Error) -> &'static str {
    "io"
}

#[tracked_step(error_kind = "kind")]
fn quoted() -> std::io::Result<()> {
    Ok(())
}

#[tracked_step(error_kind = 3 + 4)]
fn not_a_function() -> std::io::Result<()> {
    Ok(())
}

#[tracked_step(success = "some")]
fn unknown_success() -> Option<u8> {
    None
}

#[tracked_step(error_kind = kind, success = "always")]
fn both() -> std::io::Result<()> {
    Ok(())
}

#[tracked_command(error_kind = kind)]
fn not_a_result() -> bool {
    true
}

#[tracked_command(error_kind = kind)]
fn other_error() -> Result<(), std::fmt::Error> {
    Ok(())
}

fn main() {
    let _ = (quoted(), not_a_function(), unknown_success(), both(), not_a_result(), other_error());
}
