//! Doc comments, other attributes, inner attributes and visibility are kept.
#![deny(warnings, missing_docs)]
//! (The crate docs of this case.)

use telemetry::tracked_step;

/// Documented, inlined and `must_use`: all kept.
#[tracked_step]
#[inline]
#[must_use = "the length is the point"]
pub fn length(text: &str) -> usize {
    text.len()
}

/// Inner attributes at the top of the body still apply to it.
#[tracked_step]
pub fn inner_attributes() -> u32 {
    #![allow(clippy::let_and_return, unused_variables)]
    let unused = 1;
    let value = 2;
    value
}

#[telemetry::tracked_command]
#[cfg(any())]
fn compiled_out() -> u32 {
    this_does_not_exist()
}

/// A lint expectation on the tracked function is still fulfilled (under clippy).
#[tracked_step]
#[expect(clippy::too_many_arguments)]
pub fn expectation(
    first: u8,
    second: u8,
    third: u8,
    fourth: u8,
    fifth: u8,
    sixth: u8,
    seventh: u8,
    eighth: u8,
) -> u32 {
    u32::from(first + second + third + fourth + fifth + sixth + seventh + eighth)
}

pub(crate) mod nested {
    /// Visibility is kept: callable from the parent module.
    #[telemetry::tracked_step(name = "nested_step")]
    pub(crate) fn visible(x: u8) -> u8 {
        x
    }
}

/// Runs the case.
pub fn main() {
    assert_eq!(length("abc"), 3);
    assert_eq!(inner_attributes(), 2);
    assert_eq!(expectation(0, 0, 0, 0, 0, 0, 1, 2), 3);
    assert_eq!(nested::visible(1), 1);
}
