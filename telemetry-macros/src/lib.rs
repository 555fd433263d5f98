//! Attribute macros of the telemetry runtime (the library `telemetry`, published as
//! [`cli-telemetry`](https://docs.rs/cli-telemetry)): `#[tracked_command]` and
//! `#[tracked_step]`.
//!
//! Use them through `telemetry` (`use telemetry::{tracked_command, tracked_step};`), which
//! re-exports them and provides the runtime the expansion calls. The expansion refers to
//! the runtime as `::telemetry`; a host that depends on it under another name passes that
//! name with `crate = "..."` (see [`macro@tracked_command`]).
//!
//! Without the `telemetry/enabled` feature (which turns on this crate's `enabled`
//! feature) the attributes return the function exactly as it was written, token for
//! token, without parsing it: syn, quote and proc-macro2 are then not built at all.
//!
//! # Layout
//!
//! One phase per module, each importing only from the ones before it:
//!
//! - `error`: the error accumulator and the "did you mean" helper;
//! - `kind`: which attribute is being expanded;
//! - `args`: the attribute's options;
//! - `item`: the annotated function;
//! - `params`: its parameters;
//! - `plan`: what each call sends, with the checks that need both the options and the
//!   parameters;
//! - `paths`: the runtime's private paths;
//! - `async_body`: futures returned by non-`async` functions, as `#[async_trait]` writes
//!   them;
//! - `track_caller`: the in-place body of `#[track_caller]` functions;
//! - `expand`: code generation, from all of the above.

// Without `enabled` nothing below is compiled (and syn, quote, proc-macro2 are not
// dependencies): the attributes hand the item back as it came.
#[cfg(feature = "enabled")]
mod args;
#[cfg(feature = "enabled")]
mod async_body;
#[cfg(feature = "enabled")]
mod error;
#[cfg(feature = "enabled")]
mod expand;
#[cfg(feature = "enabled")]
mod item;
#[cfg(feature = "enabled")]
mod kind;
#[cfg(feature = "enabled")]
mod params;
#[cfg(feature = "enabled")]
mod paths;
#[cfg(feature = "enabled")]
mod plan;
#[cfg(feature = "enabled")]
mod track_caller;

#[cfg(all(test, feature = "enabled"))]
mod tests;

use proc_macro::TokenStream;

#[cfg(feature = "enabled")]
use crate::kind::Kind;

/// Records each call of a CLI command handler as a `command_<name>` event.
///
/// Put it on the function that runs one command of your tool. Every call sends one event
/// with how long the call took (`elapsed`, seconds), whether it succeeded (`success`),
/// on failure the kind of error (`error.kind`), and the function's arguments, hashed by
/// default. Steps (`#[tracked_step]`) called while the command runs carry its
/// invocation id, so a dashboard can tell which command they belonged to.
///
/// ```
/// use telemetry::tracked_command;
///
/// #[derive(Debug)]
/// struct InitError;
///
/// /// `minietl init <source> <destination>`
/// #[tracked_command(hash(source), record(destination))]
/// fn init(source: &str, destination: &str) -> Result<(), InitError> {
///     if destination == "oracle" {
///         return Err(InitError); // success: false, error.kind: the type's name
///     }
///     Ok(())
/// }
///
/// // Telemetry is off here (`enabled(false)`): the calls run, nothing is sent.
/// let _telemetry = telemetry::init(telemetry::Config::new("minietl", "1.0").enabled(false));
/// assert!(init("s3://bucket/raw", "duckdb").is_ok());
/// assert!(init("s3://bucket/raw", "oracle").is_err());
/// ```
///
/// With telemetry on, a call of `init("s3://bucket/raw", "duckdb")` sends (with the
/// usual context):
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
/// | `crate = "my_telemetry"` | the runtime is reached as `my_telemetry`, not `::telemetry` (see [below](#a-renamed-dependency)) |
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
/// function:
///
/// ```compile_fail
/// #[telemetry::tracked_step] // error: `#[tracked_step]` cannot be used on a `const fn`
/// const fn answer() -> u32 {
///     42
/// }
/// ```
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
/// # A renamed dependency
///
/// The expansion reaches the runtime as `::telemetry`, the name of its library, so local
/// modules named `telemetry`, `core` or `std` do not matter. A host that depends on it
/// under another key in `Cargo.toml` (`my_telemetry = { package = "cli-telemetry", .. }`),
/// or reaches it through a crate that re-exports it, says where it is on each attribute:
///
/// ```
/// # extern crate telemetry as my_telemetry;
/// // Cargo.toml: my_telemetry = { package = "cli-telemetry", version = "0.1" }
/// use my_telemetry::{tracked_command, tracked_step};
///
/// #[tracked_command(crate = "my_telemetry", hash(source))]
/// fn init(source: &str) -> bool {
///     !source.is_empty()
/// }
///
/// #[tracked_step(crate = "my_telemetry", skip(rows))]
/// fn load(table: &str, rows: Vec<u32>) -> usize {
///     table.len() + rows.len()
/// }
///
/// let _telemetry = my_telemetry::init(my_telemetry::Config::new("demo", "1.0").enabled(false));
/// assert!(init("s3://bucket/raw"));
/// assert_eq!(load("t", vec![1]), 2);
/// ```
///
/// The value is a path, written as a string (as in serde's `#[serde(crate = "...")]`) or
/// bare (`crate = my_telemetry`). It is used as written, from the module of the tracked
/// function: a dependency's name works in every module, a `use` alias only where it is
/// imported, and a crate that re-exports the runtime (`pub use cli_telemetry as
/// telemetry;` in `my_sdk`) is reached through the re-export
/// (`crate = "my_sdk::telemetry"`). Write `crate = "::my_telemetry"` if a local item
/// could have the dependency's name too.
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
/// ```
/// use telemetry::{tracked_command, tracked_step};
///
/// #[derive(Debug)]
/// struct LoadError;
///
/// /// Loads rows into a table; the rows themselves are not sent.
/// #[tracked_step(name = "load", skip(rows))]
/// async fn load_rows(table: &str, rows: Vec<u32>) -> Result<usize, LoadError> {
///     if table.is_empty() {
///         return Err(LoadError);
///     }
///     Ok(rows.len())
/// }
///
/// /// `minietl load <table>`: the step carries this command's invocation id.
/// #[tracked_command]
/// fn load(table: &str) -> Result<usize, LoadError> {
///     block_on(load_rows(table, vec![1, 2, 3]))
/// }
///
/// let _telemetry = telemetry::init(telemetry::Config::new("minietl", "1.0").enabled(false));
/// assert_eq!(load("events").unwrap(), 3);
/// assert!(load("").is_err());
/// # /// Any executor does; this one polls until the future completes.
/// # fn block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     use std::future::Future as _;
/// #     let mut future = std::pin::pin!(future);
/// #     let mut context = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop {
/// #         if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
/// #             return output;
/// #         }
/// #     }
/// # }
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
/// ```
/// use telemetry::tracked_step;
///
/// # #[derive(Debug)]
/// # struct FetchError;
/// # struct Row;
/// pub struct Warehouse {
///     rows: usize,
/// }
///
/// impl Warehouse {
///     /// Kept as the method's documentation.
///     #[tracked_step(skip(batch), record(format))]
///     #[must_use = "the number of rows written"]
///     pub fn write(&mut self, batch: &[Row], format: &str) -> usize {
///         self.rows += batch.len();
///         batch.len()
///     }
/// }
///
/// #[async_trait::async_trait]
/// pub trait Source {
///     async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError>;
/// }
///
/// pub struct Http;
///
/// #[async_trait::async_trait]
/// impl Source for Http {
///     #[tracked_step(name = "fetch")]
///     async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
///         Ok(url.as_bytes().to_vec())
///     }
/// }
///
/// let _telemetry = telemetry::init(telemetry::Config::new("demo", "1.0").enabled(false));
/// let mut warehouse = Warehouse { rows: 0 };
/// assert_eq!(warehouse.write(&[Row, Row], "parquet"), 2);
/// let _future = Http.fetch("https://example.com/data"); // timed when polled
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
