//! Free functions of every return kind, with early `return` and `?`.
#![deny(warnings)]

use std::process::ExitCode;
use telemetry::{tracked_command, tracked_step};

#[derive(Debug)]
pub struct Error;

impl From<std::num::ParseIntError> for Error {
    fn from(_: std::num::ParseIntError) -> Self {
        Error
    }
}

#[tracked_command]
fn unit() {}

#[tracked_command(name = "init", hash(source), record(destination))]
fn init(source: &str, destination: &str, verbose: bool) -> Result<(), Error> {
    if verbose {
        return Ok(());
    }
    let _ = (source, destination);
    Ok(())
}

#[tracked_step]
fn parse(text: &str) -> Result<u32, Error> {
    let n: u32 = text.parse()?;
    Ok(n)
}

#[tracked_step(skip_all)]
fn find(items: &[u32], wanted: u32) -> Option<usize> {
    items.iter().position(|item| *item == wanted)
}

#[tracked_step]
fn check(flag: bool) -> bool {
    flag
}

#[tracked_command]
fn exit_code(code: u8) -> ExitCode {
    ExitCode::from(code)
}

#[tracked_command]
fn status(code: i32) -> i32 {
    code
}

#[tracked_step]
fn boxed_error(fail: bool) -> Result<u8, Box<dyn std::error::Error>> {
    if fail {
        return Err("failed".into());
    }
    let value: u8 = "7".parse()?;
    Ok(value)
}

#[tracked_step]
fn owned(name: String, values: Vec<u64>, path: std::path::PathBuf) -> usize {
    name.len() + values.len() + path.as_os_str().len()
}

#[tracked_step]
fn mutable(mut count: u32) -> u32 {
    count += 1;
    count
}

#[tracked_step]
fn diverges_sometimes(fail: bool) -> u32 {
    assert!(!fail, "asked to fail");
    1
}

pub fn main() {
    unit();
    assert!(init("s3://bucket", "duckdb", false).is_ok());
    assert_eq!(parse("12").ok(), Some(12));
    assert!(parse("x").is_err());
    assert_eq!(find(&[1, 2, 3], 2), Some(1));
    assert!(check(true));
    let _ = exit_code(0);
    assert_eq!(status(0), 0);
    assert!(boxed_error(true).is_err());
    assert_eq!(boxed_error(false).ok(), Some(7));
    assert_eq!(owned("a".to_owned(), vec![1], "p".into()), 3);
    assert_eq!(mutable(1), 2);
    assert_eq!(diverges_sometimes(false), 1);
}
