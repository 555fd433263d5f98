//! Compile-pass and compile-fail cases of `#[tracked_command]` and `#[tracked_step]`,
//! in `trybuild/` at the workspace root.
//!
//! The expected `.stderr` files are rustc's own output, which changes between compiler
//! releases, so the cases run only on the toolchain they were written for (rustc 1.95);
//! on any other the test prints why it skipped and passes. Refresh the snapshots with
//! `TRYBUILD=overwrite cargo test -p cli-telemetry --test ui`.
//!
//! Without the `enabled` feature the macros expand to the function as written, so these
//! cases (which test the expansion) do not apply.
#![cfg(feature = "enabled")]

use std::process::Command;

/// The rustc release the `.stderr` snapshots were written with.
const PINNED: &str = "rustc 1.95.";

#[test]
fn ui() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default();
    if !version.starts_with(PINNED) {
        eprintln!(
            "skipping the trybuild cases: they are pinned to `{PINNED}*`, this is `{}`",
            version.trim()
        );
        return;
    }
    let cases = trybuild::TestCases::new();
    cases.pass("../trybuild/pass/*.rs");
    cases.compile_fail("../trybuild/fail/*.rs");
}
