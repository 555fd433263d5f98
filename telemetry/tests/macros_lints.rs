//! The compile-pass cases of `trybuild/pass/`, compiled again as modules of this test
//! and run. Here they are also linted: `cargo clippy --all-targets` checks the code the
//! macros generate in a user's crate against `clippy::all` and `clippy::pedantic` (any
//! lint the expansion triggered would fail the build through the `deny` below), which
//! trybuild, running plain rustc, cannot.
#![cfg(feature = "enabled")]
#![deny(warnings, clippy::all, clippy::pedantic)]

#[path = "../../trybuild/pass/async_fns.rs"]
mod async_fns;
#[path = "../../trybuild/pass/async_trait.rs"]
mod async_trait;
#[path = "../../trybuild/pass/attributes_kept.rs"]
mod attributes_kept;
#[path = "../../trybuild/pass/diverging.rs"]
mod diverging;
#[path = "../../trybuild/pass/free_functions.rs"]
mod free_functions;
#[path = "../../trybuild/pass/generics.rs"]
mod generics;
#[path = "../../trybuild/pass/manual_futures.rs"]
mod manual_futures;
#[path = "../../trybuild/pass/methods.rs"]
mod methods;
#[path = "../../trybuild/pass/never.rs"]
mod never;
#[path = "../../trybuild/pass/patterns.rs"]
mod patterns;
#[path = "../../trybuild/pass/record.rs"]
mod record;
#[path = "../../trybuild/pass/shadowing.rs"]
mod shadowing;
#[path = "../../trybuild/pass/track_caller.rs"]
mod track_caller;
#[path = "../../trybuild/pass/unsafe_fns.rs"]
mod unsafe_fns;

#[test]
fn async_fns() {
    async_fns::main();
}

#[test]
fn async_trait() {
    async_trait::main();
}

#[test]
fn attributes_kept() {
    attributes_kept::main();
}

#[test]
fn diverging() {
    diverging::main();
}

#[test]
fn free_functions() {
    free_functions::main();
}

#[test]
fn generics() {
    generics::main();
}

#[test]
fn manual_futures() {
    manual_futures::main();
}

#[test]
fn methods() {
    methods::main();
}

#[test]
fn never() {
    never::main();
}

#[test]
fn patterns() {
    patterns::main();
}

#[test]
fn record() {
    record::main();
}

#[test]
fn shadowing() {
    shadowing::main();
}

#[test]
fn track_caller() {
    track_caller::main();
}

#[test]
fn unsafe_fns() {
    unsafe_fns::main();
}
