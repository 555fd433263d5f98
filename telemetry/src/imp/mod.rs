//! The one place where the `enabled` feature switches: `enabled.rs` and `disabled.rs`
//! define the same private items, and the public API (written once, in the crate's
//! root modules) calls whichever was compiled.
//!
//! Compiled out, every function here is an empty body with the same signature and the
//! types are empty, so the optimiser removes the calls and no telemetry code is left.

#[cfg(feature = "enabled")]
pub(crate) mod enabled;
#[cfg(feature = "enabled")]
pub(crate) use enabled::*;

#[cfg(not(feature = "enabled"))]
mod disabled;
#[cfg(not(feature = "enabled"))]
pub(crate) use disabled::*;
