//! The private API with telemetry compiled in: each item hands over to the module that
//! does the work.

mod start;

use std::io;
use std::time::{Duration, SystemTime};

use crate::call;
use crate::callsite::Callsite;
use crate::config::Config;
use crate::status::Status;

pub(crate) use crate::call::{CallGuard, Counters, Encoder};
pub(crate) use start::init;

/// Every tracked function of the program, collected at link time.
#[linkme::distributed_slice]
#[linkme(crate = linkme)]
pub static CALLSITES: [Callsite];

pub(crate) fn callsites() -> &'static [Callsite] {
    &CALLSITES
}

pub(crate) fn flush() {
    crate::worker::flush(start::flush_timeout());
}

pub(crate) fn shutdown(flush_timeout: Duration) {
    crate::worker::shutdown(flush_timeout);
}

/// In debug mode, after the guard's shutdown: says so when the guard was dropped right
/// after `init` (`let _ = telemetry::init(..)`) or when no tracked call was recorded
/// while it lived, since every call after this point is lost without a trace. Nothing
/// is added to the tracked calls' path: calls made after the shutdown are not counted.
pub(crate) fn guard_dropped(lived: Duration) {
    if !crate::diag::is_debug() {
        return;
    }
    let recorded = callsites().iter().any(|callsite| {
        callsite
            .counters()
            .calls
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    });
    let at_once = lived < Duration::from_millis(1);
    if at_once || !recorded {
        crate::diag::debug(format_args!(
            "the guard returned by init was dropped {lived:.1?} after init{}, and telemetry is now shut down: tracked calls from here on are not recorded. Keep the guard for the whole of main: `let _telemetry = telemetry::init(..)` (`let _ = ..` drops it at once)",
            if recorded { "" } else { " with no tracked call recorded" }
        ));
    }
}

pub(crate) fn status(config: &Config) -> Status {
    crate::consent::status(config)
}

pub(crate) fn enable(config: &Config) -> io::Result<Status> {
    crate::consent::enable(config)
}

pub(crate) fn disable(config: &Config) -> io::Result<Status> {
    crate::consent::disable(config)
}

pub(crate) fn set_local(config: &Config) -> io::Result<Status> {
    crate::consent::set_local(config)
}

pub(crate) fn set_level(config: &Config, level: crate::level::Level) -> io::Result<Status> {
    crate::consent::set_level(config, level)
}

pub(crate) fn sent_log(config: &Config) -> io::Result<Vec<crate::transparency::LoggedEvent>> {
    match crate::consent::cache_dir(config) {
        Some(dir) => crate::delivery::read_local_log(&dir),
        None => Ok(Vec::new()),
    }
}

pub(crate) fn track<P: serde::Serialize>(event: &str, properties: P) {
    if !call::is_accepting() {
        return;
    }
    let properties = match serde_json::to_value(properties) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(serde_json::Value::Null) | Err(_) => serde_json::Map::new(),
        Ok(other) => std::iter::once(("value".to_owned(), other)).collect(),
    };
    call::send(call::Message::Custom(call::CustomEvent {
        name: event.to_owned(),
        at: SystemTime::now(),
        properties,
    }));
}

#[inline]
pub(crate) fn start_call(callsite: &'static Callsite) -> CallGuard {
    CallGuard::start(callsite)
}

pub(crate) fn finish_call(guard: &mut CallGuard, success: bool, kind: Option<&'static str>) {
    guard.finish(call::Finish::new(success, kind), || None);
}
