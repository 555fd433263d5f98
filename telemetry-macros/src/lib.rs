//! Attribute macros of the [`telemetry`](https://docs.rs/cli-telemetry) crate (package `cli-telemetry`):
//! `#[tracked_command]` and `#[tracked_step]`.
//!
//! Use them through `telemetry` (`use telemetry::{tracked_command, tracked_step};`), which
//! re-exports them and provides the runtime the expansion calls. Depend on `telemetry`
//! under its own name: the expansion refers to it as `::telemetry`.
//!
//! Without the `telemetry/enabled` feature (which turns on this crate's `enabled`
//! feature) the attributes return the function exactly as it was written, token for
//! token, without parsing it: syn, quote and proc-macro2 are then not built at all.
//!
//! # Layout
//!
//! One phase per module: `args` (the attribute's options), `item` (the annotated
//! function), `params` (its parameters), `validate` (checks that need both, and the plan
//! of what is sent), `expand` (code generation), `async_body` (futures returned by
//! non-`async` functions, as `#[async_trait]` writes them), `track_caller` (the in-place
//! body of `#[track_caller]` functions) and `paths` (the runtime's private paths).

// Without `enabled` nothing below is compiled (and syn, quote, proc-macro2 are not
// dependencies): the attributes hand the item back as it came.
#[cfg(feature = "enabled")]
mod args;
#[cfg(feature = "enabled")]
mod async_body;
#[cfg(feature = "enabled")]
mod expand;
#[cfg(feature = "enabled")]
mod item;
#[cfg(feature = "enabled")]
mod params;
#[cfg(feature = "enabled")]
mod paths;
#[cfg(feature = "enabled")]
mod track_caller;
#[cfg(feature = "enabled")]
mod validate;

#[cfg(all(test, feature = "enabled"))]
mod tests;

use proc_macro::TokenStream;

#[cfg(feature = "enabled")]
use crate::expand::Kind;

/// Records each call of a CLI command handler as a `command_<name>` event.
///
/// Put it on the function that runs one command of your tool. Every call sends one event
/// with how long the call took (`elapsed`, seconds), whether it succeeded (`success`),
/// on failure the kind of error (`error.kind`), and the function's arguments, hashed by
/// default. Steps (`#[tracked_step]`) called while the command runs carry its
/// invocation id, so a dashboard can tell which command they belonged to.
///
/// ```ignore
/// use telemetry::tracked_command;
///
/// /// `minietl init <source> <destination>`
/// #[tracked_command(hash(source), record(destination))]
/// fn init(source: &str, destination: &str) -> Result<(), InitError> {
///     // ...
/// #   Ok(())
/// }
/// ```
///
/// A call of `init("s3://bucket/raw", "duckdb")` sends (with the usual context):
///
/// ```json
/// { "event": "command_init",
///   "properties": { "event_category": "command", "event_name": "init",
///                   "elapsed": 0.0123, "success": true,
///                   "args": { "source": "<keyed hash>", "destination": "duckdb" } } }
/// ```
///
/// # Options
///
/// | Option | Effect |
/// | --- | --- |
/// | *(none)* | every named argument is hashed (a keyed one-way hash); `self` is never sent |
/// | `name = "load"` | the event is `command_load` instead of `command_<fn name>` |
/// | `skip(a, b)` | `a` and `b` are not sent; the others keep the default |
/// | `skip_all` | no argument is sent |
/// | `hash(a, b)` | only `a` and `b` are hashed; the others are not sent (except those in `record`) |
/// | `record(a)` | `a` is sent as it is (its type must implement `serde::Serialize`) |
///
/// `record` is for low-cardinality values that identify nobody, such as the kind of a
/// destination or an output format. Never record paths, names, URLs or free text:
/// hash them or skip them.
///
/// Each option can be given once, and an argument can be in one list only. Options are
/// checked at compile time, on the token to fix: an unknown option, a list naming no
/// parameter, the same parameter in two lists, `skip_all` together with a list, an empty
/// `name`, and an argument whose type cannot be hashed are all compile errors. The last
/// one is fixed with `skip(arg)`, with `record(arg)` for a serializable value, or by
/// implementing `telemetry::HashArg` for the type.
///
/// # What counts as success
///
/// The return value decides, through `telemetry::Outcome`: `Ok`, `Some`, `true`,
/// `()`, `ExitCode::SUCCESS` and a zero `i32`/`u8` exit code are successes. On `Err`,
/// `error.kind` is the error's type name (never its message). A return type that does not
/// implement `Outcome` counts as a success whenever the function returns; implement
/// `Outcome` for your own types to say more.
///
/// Every way out of the call is recorded exactly once: the return value (including an
/// early `return` and `?`), a panic (recorded as `error.kind = "panic"`, after which the
/// panic keeps unwinding; nothing is recorded with `panic = "abort"`), and, for `async`
/// functions, a future dropped before it completes (`error.kind = "cancelled"`; a future
/// dropped before its first poll never started, and sends nothing). A function that
/// ends the process itself (`std::process::exit`) sends nothing for that call.
///
/// # Where it can go
///
/// On any function with a body: free functions and methods (`self`, `&self`,
/// `&mut self`, `self: Box<Self>`, ...), associated functions of inherent and trait
/// `impl` blocks, generic functions with `where` clauses and `impl Trait` arguments,
/// `unsafe fn`, `extern "C" fn`, functions returning `impl Trait`, and `async fn`, which
/// are timed from the first poll to completion, across every `.await`. Methods written
/// for `#[async_trait]` are timed on the future they return (put `#[async_trait]` on the
/// `impl` block as usual, and this attribute on the method). The function's signature,
/// visibility, doc comments and other attributes are kept as written.
///
/// It cannot go on a `const fn` (telemetry is recorded at run time), on a trait method
/// without a body (put it on the method in the `impl` block), or on anything but a
/// function.
///
/// Parameters written as patterns (`(x, y): (u32, u32)`) or as `_` have no name to send
/// them under and are not sent (naming one of their bindings in an option is an error);
/// neither are parameters with a `#[cfg]` attribute, which may not exist in every build.
/// To send part of a structured argument, take it whole (`point: Point`) and implement
/// `telemetry::HashArg` for its type, or destructure it in the body.
///
/// # `#[track_caller]`
///
/// A synchronous function runs its body inside a closure, so that `return` and `?` come
/// back to the wrapper that records the outcome. A closure cannot be `#[track_caller]`
/// on stable Rust, so a `#[track_caller]` function is wrapped differently and keeps
/// reporting its caller's location (in
/// `std::panic::Location::caller()` and in the location of a panic such as `unwrap()`):
/// its body runs in place, with each `return` and `?` rewritten to record the outcome
/// first. Two differences follow: a failure through `?` records the kind of the error
/// before `?` converts it, and an early exit hidden inside a macro invocation (such as
/// `anyhow::bail!`) cannot be seen, so that call is recorded as a failure of kind
/// `"early_return"` by the guard's fallback.
///
/// # Lints and diagnostics
///
/// The generated code raises no rustc warning and no `clippy::all` or `clippy::pedantic`
/// lint in your crate. Your own code keeps its lints: the function's name, signature and
/// body keep their spans, so `dead_code`, `unused_variables`, `unused_must_use` and lint
/// attributes on the function work as before, and a type error in the body points at the
/// body. Clippy lints that judge a whole function from its body (`needless_return`,
/// `unused_async`, `unnecessary_wraps`, `needless_pass_by_value`) do not see through
/// the wrapper.
///
/// The expansion names the runtime as `::telemetry`: depend on the `telemetry` crate
/// under that name (not renamed in `Cargo.toml`). Local modules named `telemetry`,
/// `core` or `std` do not matter.
///
/// # Compile-time removal
///
/// Built without the `telemetry/enabled` feature, the attribute leaves the function
/// exactly as written, token for token: no code, no dependency, no cost. It does not
/// parse anything then (the macro crate builds without syn), so its options are checked
/// only in builds with telemetry enabled.
#[proc_macro_attribute]
pub fn tracked_command(args: TokenStream, item: TokenStream) -> TokenStream {
    #[cfg(not(feature = "enabled"))]
    {
        let _ = args;
        item
    }
    #[cfg(feature = "enabled")]
    expand::tracked(Kind::Command, args.into(), item.into(), true).into()
}

/// Records each call of a pipeline step as a `step_<name>` event, tagged with the
/// command it runs under.
///
/// Put it on the functions that do the stages of a command's work: extract, load,
/// transform, render. It takes the same options as
/// [`#[tracked_command]`](macro@tracked_command) and records the same fields (`elapsed`,
/// `success`, `error.kind`, `args`). In addition, a step event carries the `command` and
/// `invocation_id` of the tracked command it runs under: on the same thread, in threads
/// and futures the command starts, and across `.await` points.
///
/// ```ignore
/// use telemetry::tracked_step;
///
/// /// Loads rows into a table; the rows themselves are not sent.
/// #[tracked_step(name = "load", skip(rows))]
/// async fn load_rows(table: &str, rows: Vec<Row>) -> Result<usize, LoadError> {
///     // ...
/// #   Ok(rows.len())
/// }
/// ```
///
/// sends `step_load` with `args.table` hashed, `elapsed` covering every `.await` of the
/// call, and `success: false, error.kind: "my_crate::LoadError"` when it returns `Err`.
///
/// A step called many times in one run (once per file, per row batch) does not send one
/// event per call: beyond a per-name budget, calls are folded into one aggregate event
/// (count, failures, total/min/max elapsed).
///
/// On methods, and together with other attributes:
///
/// ```ignore
/// use telemetry::tracked_step;
///
/// impl Warehouse {
///     /// Kept as the method's documentation.
///     #[tracked_step(skip(batch), record(format))]
///     #[must_use = "the number of rows written"]
///     pub fn write(&mut self, batch: &[Row], format: Format) -> usize {
///         // ...
/// #       0
///     }
/// }
///
/// #[async_trait::async_trait]
/// impl Source for Http {
///     #[tracked_step(name = "fetch")]
///     async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
///         // ...
/// #       Ok(vec![])
///     }
/// }
/// ```
///
/// See [`#[tracked_command]`](macro@tracked_command) for the options, what counts as
/// success, where the attribute can go and how it is removed at compile time.
#[proc_macro_attribute]
pub fn tracked_step(args: TokenStream, item: TokenStream) -> TokenStream {
    #[cfg(not(feature = "enabled"))]
    {
        let _ = args;
        item
    }
    #[cfg(feature = "enabled")]
    expand::tracked(Kind::Step, args.into(), item.into(), true).into()
}
