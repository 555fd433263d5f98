//! `error.kind` beyond the type name: `ErrorKind` on the user's error, `std::io::Error`'s
//! kind, `Box<dyn Error>`'s innermost io error, `error_kind = ..`, `success = "always"`,
//! `Call::finish_with_kind`, and generic arguments left out by default.
#![cfg(feature = "enabled")]

mod macros_support;

use std::error::Error;
use std::io;

use macros_support::{args, error_kind, events, single, start, success};
use telemetry::{tracked_command, tracked_step, ErrorKind};

#[derive(Debug)]
enum SyncError {
    // Never read: a path that must never be sent.
    #[allow(dead_code)]
    Conflict(String),
    Offline,
}

impl ErrorKind for SyncError {
    fn error_kind(&self) -> &'static str {
        match self {
            SyncError::Conflict(_) => "conflict",
            SyncError::Offline => "offline",
        }
    }
}

#[tracked_step]
fn sync_kind(offline: bool) -> Result<(), SyncError> {
    if offline {
        Err(SyncError::Offline)
    } else {
        Err(SyncError::Conflict("/home/someone/file".into()))
    }
}

#[test]
fn an_error_kind_impl_names_the_variant() {
    let _serial = start();
    let _ = (sync_kind(true), sync_kind(false));
    let found = events("step_sync_kind");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(error_kind(&found[0]).as_deref(), Some("offline"));
    assert_eq!(error_kind(&found[1]).as_deref(), Some("conflict"));
    assert!(!format!("{found:?}").contains("someone"));
}

#[tracked_step]
fn io_kind(path: &str) -> io::Result<String> {
    std::fs::read_to_string(path)
}

#[tracked_step]
fn boxed_kind(io: bool) -> Result<(), Box<dyn Error + Send + Sync>> {
    if io {
        std::fs::read("/no/such/file/for/telemetry/tests")?;
    }
    Err("not an io error".into())
}

#[tracked_step]
fn boxed_plain() -> Result<(), Box<dyn Error>> {
    Err(Box::new(io::Error::from(io::ErrorKind::PermissionDenied)))
}

#[test]
fn io_errors_and_boxed_errors_send_the_io_kind() {
    let _serial = start();
    assert!(io_kind("/no/such/file/for/telemetry/tests").is_err());
    assert_eq!(
        error_kind(&single("step_io_kind")).as_deref(),
        Some("io::NotFound")
    );
    let _ = (boxed_kind(true), boxed_kind(false));
    let found = events("step_boxed_kind");
    assert_eq!(error_kind(&found[0]).as_deref(), Some("io::NotFound"));
    assert_eq!(error_kind(&found[1]).as_deref(), Some("Box<dyn Error>"));
    let _ = boxed_plain();
    assert_eq!(
        error_kind(&single("step_boxed_plain")).as_deref(),
        Some("io::PermissionDenied")
    );
}

/// A foreign error type the library knows nothing of (as `anyhow::Error` would be).
#[derive(Debug)]
struct Foreign(io::Error);

fn foreign_kind(error: &Foreign) -> &'static str {
    telemetry::io_error_kind(&error.0).unwrap_or("foreign")
}

#[tracked_command(error_kind = foreign_kind)]
fn with_option() -> Result<u8, Foreign> {
    Err(Foreign(io::Error::from(io::ErrorKind::TimedOut)))
}

#[tracked_step(error_kind = |_: &SyncError| "overridden")]
fn with_closure() -> Result<u8, SyncError> {
    Err(SyncError::Offline)
}

#[test]
fn the_error_kind_option_names_the_error() {
    let _serial = start();
    let _ = (with_option(), with_closure());
    assert_eq!(
        error_kind(&single("command_with_option")).as_deref(),
        Some("io::TimedOut")
    );
    assert_eq!(
        error_kind(&single("step_with_closure")).as_deref(),
        Some("overridden")
    );
}

#[tracked_step]
#[track_caller]
fn in_place(fail: bool) -> Result<u8, SyncError> {
    if fail {
        Err(SyncError::Offline)?;
    }
    Ok(1)
}

/// A `?` in a `#[track_caller]` function records its operand's type name: the operand's
/// type may not be known where the expansion reads it (a documented limit).
#[test]
fn track_caller_question_marks_send_the_operands_type_name() {
    let _serial = start();
    let _ = in_place(true);
    assert_eq!(
        error_kind(&single("step_in_place")).as_deref(),
        Some(std::any::type_name::<SyncError>())
    );
}

#[tracked_step]
fn lookup_default(key: u8) -> Option<u8> {
    (key == 1).then_some(1)
}

#[tracked_step(success = "always")]
fn lookup_always(key: u8) -> Option<u8> {
    (key == 1).then_some(1)
}

#[tracked_step(success = "always")]
#[track_caller]
fn lookup_in_place(key: Option<u8>) -> Option<u8> {
    let value = key?;
    Some(value)
}

#[test]
fn option_none_fails_by_default_and_succeeds_with_success_always() {
    let _serial = start();
    let _ = (lookup_default(2), lookup_always(2), lookup_in_place(None));
    let default = single("step_lookup_default");
    assert!(!success(&default));
    assert_eq!(error_kind(&default).as_deref(), Some("none"));
    let always = single("step_lookup_always");
    assert!(success(&always));
    assert_eq!(error_kind(&always), None);
    assert!(success(&single("step_lookup_in_place")));
}

#[test]
fn manual_calls_name_their_error_with_finish_with_kind() {
    let _serial = start();
    let call = telemetry::step!("manual_kind");
    let result: Result<(), SyncError> = Err(SyncError::Offline);
    call.finish_with_kind(&result, ErrorKind::error_kind);
    assert_eq!(
        error_kind(&single("step_manual_kind")).as_deref(),
        Some("offline")
    );
}

trait Source {
    fn name(&self) -> &str;
}

struct Table;

impl Source for Table {
    fn name(&self) -> &str {
        "table"
    }
}

#[tracked_step]
fn generic_args<T: AsRef<str>>(
    label: &str,
    source: &impl Source,
    by_name: T,
    dynamic: &dyn Source,
) -> usize {
    label.len() + source.name().len() + by_name.as_ref().len() + dynamic.name().len()
}

#[test]
fn generic_impl_trait_and_dyn_arguments_are_left_out_by_default() {
    let _serial = start();
    assert_eq!(generic_args("ab", &Table, "c", &Table), 13);
    let sent = args(&single("step_generic_args"));
    assert_eq!(
        sent.keys().collect::<Vec<_>>(),
        ["label"],
        "only the concrete argument is hashed: {sent:?}"
    );
}
