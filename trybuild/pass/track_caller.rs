//! `#[track_caller]` keeps reporting the caller's location through a tracked function.
#![deny(warnings)]

use std::panic::Location;
use telemetry::{tracked_command, tracked_step};

#[tracked_step]
#[track_caller]
fn where_called(label: &str) -> &'static Location<'static> {
    let _ = label;
    Location::caller()
}

#[track_caller]
#[tracked_step]
fn where_called_result(fail: bool) -> Result<u32, std::num::ParseIntError> {
    if fail {
        let n: u32 = "x".parse()?;
        return Ok(n);
    }
    let _ = Location::caller();
    Ok(1)
}

#[tracked_command]
#[track_caller]
fn unwraps(value: Option<u32>) -> u32 {
    value.unwrap()
}

pub fn main() {
    let line = line!() + 1;
    let location = where_called("x");
    assert_eq!(location.line(), line);
    assert_eq!(location.file(), file!());
    assert!(where_called_result(true).is_err());
    assert_eq!(where_called_result(false).ok(), Some(1));
    assert_eq!(unwraps(Some(2)), 2);
}
