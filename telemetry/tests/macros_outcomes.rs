//! What a tracked call records as its outcome: success, `error.kind` and `elapsed`, for
//! every return kind, early `return`, `?` and panics.
#![cfg(feature = "enabled")]

mod macros_support;

use std::process::ExitCode;
use std::time::Duration;

use macros_support::{elapsed, error_kind, events, single, start, success};
use telemetry::{tracked_command, tracked_step, Outcome};

#[derive(Debug)]
struct LoadError;

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("load failed")
    }
}

impl From<std::num::ParseIntError> for LoadError {
    fn from(_: std::num::ParseIntError) -> Self {
        LoadError
    }
}

#[tracked_step]
fn outcome_result(fail: bool) -> Result<u32, LoadError> {
    if fail {
        Err(LoadError)
    } else {
        Ok(1)
    }
}

#[test]
fn result_ok_is_success_and_err_names_the_error_type() {
    let _serial = start();
    assert!(outcome_result(false).is_ok());
    assert!(outcome_result(true).is_err());
    let found = events("step_outcome_result");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(success(&found[0]));
    assert_eq!(error_kind(&found[0]), None);
    assert!(!success(&found[1]));
    assert_eq!(
        error_kind(&found[1]).as_deref(),
        Some(std::any::type_name::<LoadError>())
    );
}

#[tracked_step]
fn outcome_option(some: bool) -> Option<u8> {
    some.then_some(1)
}

#[tracked_step]
fn outcome_bool(value: bool) -> bool {
    value
}

#[tracked_step]
fn outcome_unit() {}

#[tracked_command]
fn outcome_exit_code(code: u8) -> ExitCode {
    ExitCode::from(code)
}

#[tracked_command]
fn outcome_i32(code: i32) -> i32 {
    code
}

#[test]
fn option_bool_unit_and_exit_codes() {
    let _serial = start();
    let _ = (outcome_option(true), outcome_option(false));
    let _ = (outcome_bool(true), outcome_bool(false));
    outcome_unit();
    let _ = (outcome_exit_code(0), outcome_exit_code(3));
    let _ = (outcome_i32(0), outcome_i32(2));

    let option = events("step_outcome_option");
    assert!(success(&option[0]));
    assert!(!success(&option[1]));
    assert_eq!(error_kind(&option[1]).as_deref(), Some("none"));

    let boolean = events("step_outcome_bool");
    assert!(success(&boolean[0]));
    assert!(!success(&boolean[1]));
    assert_eq!(error_kind(&boolean[1]).as_deref(), Some("false"));

    assert!(success(&single("step_outcome_unit")));

    let exit = events("command_outcome_exit_code");
    assert!(success(&exit[0]));
    assert!(!success(&exit[1]));
    assert_eq!(error_kind(&exit[1]).as_deref(), Some("exit_code"));

    let code = events("command_outcome_i32");
    assert!(success(&code[0]));
    assert!(!success(&code[1]));
}

enum Sync {
    Done,
    Conflict,
}

impl Outcome for Sync {
    fn is_success(&self) -> bool {
        matches!(self, Sync::Done)
    }

    fn error_kind(&self) -> Option<&'static str> {
        match self {
            Sync::Done => None,
            Sync::Conflict => Some("conflict"),
        }
    }
}

#[tracked_step]
fn outcome_user_impl(conflict: bool) -> Sync {
    if conflict {
        Sync::Conflict
    } else {
        Sync::Done
    }
}

struct Report {
    rows: usize,
}

#[tracked_step]
fn outcome_unknown_type(rows: usize) -> Report {
    Report { rows }
}

#[tracked_step]
fn outcome_impl_trait(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[test]
fn user_outcome_impls_and_unknown_types() {
    let _serial = start();
    let _ = (outcome_user_impl(false), outcome_user_impl(true));
    let user = events("step_outcome_user_impl");
    assert!(success(&user[0]));
    assert!(!success(&user[1]));
    assert_eq!(error_kind(&user[1]).as_deref(), Some("conflict"));

    assert_eq!(outcome_unknown_type(3).rows, 3);
    assert!(success(&single("step_outcome_unknown_type")));

    assert_eq!(outcome_impl_trait(2).count(), 2);
    assert!(success(&single("step_outcome_impl_trait")));
}

#[tracked_step]
fn early_return(stop: bool) -> Result<u32, LoadError> {
    if stop {
        return Err(LoadError);
    }
    Ok(2)
}

#[tracked_step]
fn question_mark(text: &str) -> Result<u32, LoadError> {
    let value: u32 = text.parse()?;
    Ok(value)
}

#[tracked_step]
fn question_mark_option(values: &[u32]) -> Option<u32> {
    let first = values.first()?;
    Some(*first + 1)
}

#[test]
fn early_return_and_question_mark_are_recorded_once() {
    let _serial = start();
    assert!(early_return(true).is_err());
    assert!(early_return(false).is_ok());
    let found = events("step_early_return");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(!success(&found[0]));
    assert_eq!(
        error_kind(&found[0]).as_deref(),
        Some(std::any::type_name::<LoadError>())
    );
    assert!(success(&found[1]));

    assert!(question_mark("x").is_err());
    assert_eq!(question_mark("4").ok(), Some(4));
    let found = events("step_question_mark");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(!success(&found[0]));
    // `?` converted the error: the kind is the function's error type.
    assert_eq!(
        error_kind(&found[0]).as_deref(),
        Some(std::any::type_name::<LoadError>())
    );
    assert!(success(&found[1]));

    assert_eq!(question_mark_option(&[]), None);
    let found = events("step_question_mark_option");
    assert_eq!(found.len(), 1);
    assert_eq!(error_kind(&found[0]).as_deref(), Some("none"));
}

#[tracked_step]
fn panics(message: &str) -> u32 {
    panic!("{message}")
}

#[test]
fn a_panic_is_recorded_and_keeps_unwinding() {
    let _serial = start();
    let caught = std::panic::catch_unwind(|| panics("boom"));
    let payload = caught.expect_err("the panic propagates");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("boom")
    );
    let event = single("step_panics");
    assert!(!success(&event));
    assert_eq!(error_kind(&event).as_deref(), Some("panic"));
}

#[tracked_step]
fn sleeps(millis: u64) {
    std::thread::sleep(Duration::from_millis(millis));
}

#[test]
fn elapsed_is_the_wall_time_of_the_call() {
    let _serial = start();
    sleeps(60);
    let seconds = elapsed(&single("step_sleeps"));
    assert!((0.06..5.0).contains(&seconds), "elapsed {seconds}");
}

#[tracked_step(name = "renamed_step")]
fn original_name() {}

#[tracked_command(name = "renamed_command")]
fn original_command() {}

#[test]
fn name_overrides_the_event_name() {
    let _serial = start();
    original_name();
    original_command();
    let step = single("step_renamed_step");
    assert_eq!(step.properties["event_category"], "step");
    assert_eq!(step.properties["event_name"], "renamed_step");
    let command = single("command_renamed_command");
    assert_eq!(command.properties["event_category"], "command");
    assert!(events("step_original_name").is_empty());
}

struct Counter {
    count: u32,
}

impl Counter {
    #[tracked_step]
    fn bump(&mut self) -> &mut u32 {
        self.count += 1;
        &mut self.count
    }

    #[tracked_step]
    fn boxed(self: Box<Self>) -> u32 {
        self.count
    }
}

#[test]
fn methods_are_recorded() {
    let _serial = start();
    let mut counter = Counter { count: 0 };
    *counter.bump() += 1;
    assert_eq!(counter.count, 2);
    assert_eq!(Box::new(counter).boxed(), 2);
    assert!(success(&single("step_bump")));
    assert!(success(&single("step_boxed")));
}
