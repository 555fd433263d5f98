//! `#[track_caller]` functions keep reporting their caller's location when tracked, and
//! are recorded like any other.
#![cfg(feature = "enabled")]

mod macros_support;

use std::panic::Location;

use macros_support::{error_kind, events, single, start, success};
use telemetry::tracked_step;

#[tracked_step]
#[track_caller]
fn location(label: &str) -> &'static Location<'static> {
    let _ = label;
    Location::caller()
}

#[test]
fn location_caller_is_the_callers_line() {
    let _serial = start();
    let line = line!() + 1;
    let reported = location("x");
    assert_eq!(reported.line(), line);
    assert_eq!(reported.file(), file!());
    assert!(success(&single("step_location")));
}

#[track_caller]
#[tracked_step]
fn unwraps(value: Option<u32>) -> u32 {
    value.expect("a value")
}

#[test]
fn panics_inside_report_the_callers_line_and_are_recorded() {
    let _serial = start();
    let line = std::sync::Arc::new(std::sync::Mutex::new(0u32));
    let seen = std::sync::Arc::clone(&line);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(location) = info.location() {
            *seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = location.line();
        }
    }));
    let expected = line!() + 1;
    let caught = std::panic::catch_unwind(|| unwraps(None));
    std::panic::set_hook(previous);
    assert!(caught.is_err());
    assert_eq!(
        *line
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        expected
    );
    let event = single("step_unwraps");
    assert!(!success(&event));
    assert_eq!(error_kind(&event).as_deref(), Some("panic"));
}

#[derive(Debug)]
struct Invalid;

impl From<std::num::ParseIntError> for Invalid {
    fn from(_: std::num::ParseIntError) -> Self {
        Invalid
    }
}

#[tracked_step]
#[track_caller]
fn exits(text: &str) -> Result<u32, Invalid> {
    if text.is_empty() {
        return Err(Invalid);
    }
    let value: u32 = text.parse()?;
    // A closure's `?` and `return` are its own, not the function's.
    let double = || -> Option<u32> {
        let doubled = value.checked_mul(2)?;
        if doubled > 1000 {
            return None;
        }
        Some(doubled)
    };
    Ok(double().unwrap_or(0))
}

#[test]
fn early_exits_are_recorded_once() {
    let _serial = start();
    assert!(exits("").is_err());
    assert!(exits("x").is_err());
    assert_eq!(exits("2").ok(), Some(4));
    let found = events("step_exits");
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(!success(&found[0]));
    assert_eq!(
        error_kind(&found[0]).as_deref(),
        Some(std::any::type_name::<Invalid>())
    );
    assert!(!success(&found[1]));
    // In a `#[track_caller]` function `?` records the error before it is converted.
    assert_eq!(
        error_kind(&found[1]).as_deref(),
        Some(std::any::type_name::<std::num::ParseIntError>())
    );
    assert!(success(&found[2]));
}

/// Leaves through a `return` hidden in a macro, which the in-place rewrite of a
/// `#[track_caller]` body cannot see.
macro_rules! bail {
    ($value:expr) => {
        return Err($value)
    };
}

#[tracked_step]
#[track_caller]
fn hidden_exit(fail: bool) -> Result<u32, String> {
    if fail {
        bail!("no".to_owned());
    }
    Ok(1)
}

#[test]
fn an_exit_hidden_in_a_macro_is_recorded_as_an_early_return() {
    let _serial = start();
    assert!(hidden_exit(true).is_err());
    let event = single("step_hidden_exit");
    assert!(!success(&event));
    assert_eq!(error_kind(&event).as_deref(), Some("early_return"));
}

#[test]
fn a_manual_call_dropped_unfinished_is_an_early_return() {
    let _serial = start();
    {
        let _call = telemetry::step!("manual_unfinished");
    }
    let event = single("step_manual_unfinished");
    assert!(!success(&event));
    assert_eq!(error_kind(&event).as_deref(), Some("early_return"));
}
