//! The private API with telemetry compiled out: the same items as `enabled.rs`, empty.

use std::io;
use std::time::Duration;

use crate::callsite::Callsite;
use crate::config::Config;
use crate::guard::Guard;
use crate::source::Source;
use crate::status::Status;

/// No counters: a callsite is only its description.
pub(crate) struct Counters;

impl Counters {
    pub(crate) const fn new() -> Self {
        Counters
    }
}

/// No hash state: nothing is ever hashed.
pub(crate) struct Encoder;

impl Encoder {
    #[inline(always)]
    pub(crate) fn write(&mut self, _bytes: &[u8]) {}
}

/// A manual call that records nothing.
pub(crate) struct CallGuard;

pub(crate) fn callsites() -> &'static [Callsite] {
    &[]
}

pub(crate) fn init(config: Config) -> Guard {
    Guard::new(
        Status::off(Source::CompiledOut),
        config.flush_timeout,
        false,
    )
}

pub(crate) fn flush() {}

pub(crate) fn shutdown(_flush_timeout: Duration) {}

pub(crate) fn guard_dropped(_lived: Duration) {}

pub(crate) fn status(_config: &Config) -> Status {
    Status::off(Source::CompiledOut)
}

pub(crate) fn enable(_config: &Config) -> io::Result<Status> {
    Ok(Status::off(Source::CompiledOut))
}

pub(crate) fn disable(_config: &Config) -> io::Result<Status> {
    Ok(Status::off(Source::CompiledOut))
}

pub(crate) fn set_local(_config: &Config) -> io::Result<Status> {
    Ok(Status::off(Source::CompiledOut))
}

pub(crate) fn set_level(_config: &Config, _level: crate::level::Level) -> io::Result<Status> {
    Ok(Status::off(Source::CompiledOut))
}

#[cfg(feature = "json")]
pub(crate) fn sent_log(_config: &Config) -> io::Result<Vec<crate::transparency::LoggedEvent>> {
    Ok(Vec::new())
}

pub(crate) fn track<P: serde::Serialize>(_event: &str, _properties: P) {}

#[inline(always)]
pub(crate) fn start_call(_callsite: &'static Callsite) -> CallGuard {
    CallGuard
}

#[inline(always)]
pub(crate) fn finish_call(_guard: &mut CallGuard, _success: bool, _kind: Option<&'static str>) {}
