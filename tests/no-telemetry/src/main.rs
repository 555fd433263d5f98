//! Runs every compile-pass case of the macros with telemetry compiled out.

#![deny(warnings)]

#[path = "../../../trybuild/pass/async_fns.rs"]
mod async_fns;
#[path = "../../../trybuild/pass/async_trait.rs"]
mod async_trait;
#[path = "../../../trybuild/pass/attributes_kept.rs"]
mod attributes_kept;
#[path = "../../../trybuild/pass/diverging.rs"]
mod diverging;
#[path = "../../../trybuild/pass/free_functions.rs"]
mod free_functions;
#[path = "../../../trybuild/pass/generics.rs"]
mod generics;
#[path = "../../../trybuild/pass/manual_futures.rs"]
mod manual_futures;
#[path = "../../../trybuild/pass/methods.rs"]
mod methods;
#[path = "../../../trybuild/pass/never.rs"]
mod never;
#[path = "../../../trybuild/pass/patterns.rs"]
mod patterns;
#[path = "../../../trybuild/pass/record.rs"]
mod record;
#[path = "../../../trybuild/pass/shadowing.rs"]
mod shadowing;
#[path = "../../../trybuild/pass/track_caller.rs"]
mod track_caller;
#[path = "../../../trybuild/pass/unsafe_fns.rs"]
mod unsafe_fns;

fn main() {
    // Some shapes panic on purpose (and catch it); keep the output quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let status = telemetry::status(&telemetry::Config::new("no-telemetry", "0.0.0"));
    assert_eq!(status.source, telemetry::Source::CompiledOut);
    assert!(telemetry::catalog().is_empty());
    async_fns::main();
    async_trait::main();
    attributes_kept::main();
    diverging::main();
    free_functions::main();
    generics::main();
    manual_futures::main();
    methods::main();
    never::main();
    patterns::main();
    record::main();
    shadowing::main();
    track_caller::main();
    unsafe_fns::main();
    println!("all 14 shapes ran with telemetry compiled out");
}
