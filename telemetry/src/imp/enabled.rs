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
    if !call::is_recording() {
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
