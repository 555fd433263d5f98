//! Compile-pass and compile-fail cases of `#[tracked_command]` and `#[tracked_step]`,
//! in `trybuild/` at the workspace root.
//!
//! The expected `.stderr` files are rustc's own output, which changes between compiler
//! releases, so the cases run only on the stable release they were written for (1.95);
//! on any other compiler the test is reported as ignored, with the reason. Refresh the
//! expected output with `TRYBUILD=overwrite cargo test -p cli-telemetry --test ui`.
//!
//! Without the `enabled` feature the macros expand to the function as written, so these
//! cases (which test the expansion) do not apply.
#![cfg(feature = "enabled")]

// Before `#[test]`, which reads `#[ignore]` when it expands.
#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the expected compiler output in trybuild/ is rustc 1.95's"
)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("../trybuild/pass/*.rs");
    cases.compile_fail("../trybuild/fail/*.rs");
}
