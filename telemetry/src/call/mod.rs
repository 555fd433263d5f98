//! The caller's thread: everything a tracked call does before its record is in the
//! channel.
//!
//! A call is timed by a [`CallGuard`] (`guard`), counted against its callsite's event
//! budget (`counters`), tied to the command it runs under (`invocation`), timed with
//! the monotonic clock (`clock`), its arguments hashed (`digest`) or taken as tagged
//! bytes (`capture`), and packed into a fixed-size [`CallRecord`] (`record`) that is handed
//! to the worker through the one bounded channel (`channel`). Nothing here allocates in
//! the steady state, blocks, locks, serializes or does I/O; the worker ([`crate::worker`])
//! does the rest.

mod capture;
mod channel;
mod clock;
mod counters;
mod digest;
mod guard;
mod invocation;
mod record;

pub(crate) use capture::decode as decode_captured;
pub(crate) use channel::{
    budget, hash_key, is_accepting, is_open, is_recording, open, send, stop_recording,
    take_dropped, Channel,
};
pub(crate) use clock::now_ns;
pub(crate) use counters::{folding, list_folding, Counters, Folded};
pub(crate) use digest::{digest_encoding, encode, Encoder};
pub use guard::{CallGuard, Finish, Instrumented};
#[cfg(test)]
pub(crate) use invocation::CommandContext;
pub(crate) use record::{ArgValueRef, CallRecord, Cold, CustomEvent, Envelope, Message};

#[cfg(test)]
pub(crate) use capture::encode_into as capture_into;
#[cfg(test)]
pub(crate) use digest::{digest, digest_or_defer};
#[cfg(test)]
pub(crate) use record::ArgSlots;
