//! Parameters without a name (patterns, `_`) and with `#[cfg]` are not sent.
#![deny(warnings)]

use telemetry::tracked_step;

pub struct Point {
    x: i32,
    y: i32,
}

#[tracked_step]
fn tuple((a, b): (u8, u8), label: &str) -> usize {
    usize::from(a + b) + label.len()
}

#[tracked_step]
fn structure(Point { x, y }: Point, _: u32) -> i32 {
    x + y
}

#[tracked_step]
#[allow(
    clippy::toplevel_ref_arg,
    clippy::trivially_copy_pass_by_ref,
    clippy::needless_pass_by_value
)] // the shapes under test
fn reference(&value: &u32, ref name: String) -> usize {
    value as usize + name.len()
}

#[tracked_step]
fn raw_identifier(r#type: &str) -> usize {
    r#type.len()
}

#[tracked_step(skip(r#type))]
fn raw_identifier_skipped(r#type: &str) -> usize {
    r#type.len()
}

#[tracked_step]
fn conditional(#[cfg(unix)] unix_only: u32, always: u32) -> u32 {
    #[cfg(unix)]
    let extra = unix_only;
    #[cfg(not(unix))]
    let extra = 0;
    always + extra
}

pub fn main() {
    assert_eq!(tuple((1, 2), "ab"), 5);
    assert_eq!(structure(Point { x: 1, y: 2 }, 0), 3);
    assert_eq!(reference(&1, String::from("ab")), 3);
    assert_eq!(raw_identifier("ab"), 2);
    assert_eq!(raw_identifier_skipped("ab"), 2);
    #[cfg(unix)]
    assert_eq!(conditional(1, 2), 3);
    #[cfg(not(unix))]
    assert_eq!(conditional(2), 2);
}
