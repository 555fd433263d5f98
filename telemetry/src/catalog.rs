//! The transparency catalog: every tracked function in the program, collected at link
//! time (no start-up cost) with `linkme`.

use crate::callsite::Callsite;

/// Every callsite the macros declared, gathered by the linker.
#[cfg(feature = "enabled")]
#[linkme::distributed_slice]
#[linkme(crate = linkme)]
pub static CALLSITES: [Callsite];

/// Lists every event this program can send: one entry per tracked function, with its
/// category, event name and the arguments it hashes or records.
///
/// Collected at link time on Linux, macOS, iOS, Android, Windows, the BSDs and illumos;
/// elsewhere (and in a build without the `enabled` feature) the list is empty.
///
/// ```
/// for callsite in telemetry::catalog() {
///     println!("{}_{}", callsite.category().as_str(), callsite.name());
/// }
/// ```
pub fn catalog() -> &'static [Callsite] {
    #[cfg(feature = "enabled")]
    {
        &CALLSITES
    }
    #[cfg(not(feature = "enabled"))]
    {
        &[]
    }
}
