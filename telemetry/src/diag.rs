//! Diagnostics for the people debugging telemetry itself: printed on stderr in debug
//! mode (`<APP>_TELEMETRY_DEBUG`), silent otherwise. Never stdout.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);
/// `<APP>_TELEMETRY_DEBUG=send`: events are printed and still sent.
static SEND: AtomicBool = AtomicBool::new(false);

/// Turns debug diagnostics on or off for the process.
pub(crate) fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

/// Debug mode that prints every event and still sends it (`<APP>_TELEMETRY_DEBUG=send`).
pub(crate) fn set_debug_send(on: bool) {
    SEND.store(on, Ordering::Relaxed);
}

/// Whether debug mode also sends (`<APP>_TELEMETRY_DEBUG=send`).
pub(crate) fn debug_sends() -> bool {
    SEND.load(Ordering::Relaxed)
}

/// Whether debug diagnostics are on.
pub(crate) fn is_debug() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// Prints `[telemetry] <message>` on stderr in debug mode.
pub(crate) fn debug(message: std::fmt::Arguments<'_>) {
    if is_debug() {
        let _ = writeln!(std::io::stderr().lock(), "[telemetry] {message}");
    }
}
