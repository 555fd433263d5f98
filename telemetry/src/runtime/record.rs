//! What travels through the channel: small, fixed-size records built on the caller's
//! thread, turned into JSON only on the worker.
//!
//! A record may carry the encoding of a short hashed argument rather than its hash (see
//! [`ArgSlots`]): the worker hashes it first thing when it builds the event, so the raw
//! bytes exist only in this in-memory channel and never reach the spool or a sink.

use std::time::SystemTime;

use crate::callsite::Callsite;
use crate::invocation::CommandContext;

/// One message from a caller to the runtime (see [`send`](super::send); a finished call
/// goes through [`send_call`](super::send_call)).
pub(crate) enum Message {
    /// An event sent with [`track`](crate::track).
    Custom(CustomEvent),
}

/// What travels through the channel: a [`Message`] with the rare, large custom event
/// boxed, so that a slot is as small as a call's record (48 bytes).
pub(crate) enum Envelope {
    Call(Record),
    Custom(Box<CustomEvent>),
}

/// A finished call of a tracked function: 48 bytes (the callsite, the end, the elapsed
/// time, the command's context and one pointer), the floor benchmark's record size.
/// What a successful call without arguments does not have (a failure, its kind and
/// message, argument values) is in one boxed [`Cold`] part, `None` for such a call.
///
/// The size is what a send costs beyond its instructions: the channel's slots were last
/// written by the worker, so every cache line a sender writes into comes from the other
/// core. A 96-byte record with inline arguments (two lines per slot, most of the time)
/// cost a call without arguments 3 ns more than this one (see `docs/performance.md`).
pub(crate) struct Record {
    pub(crate) callsite: &'static Callsite,
    /// When the call ended: a reading of [`clock::now_ns`](crate::clock::now_ns), which
    /// the worker's event builder turns into wall-clock time.
    pub(crate) end_ns: u64,
    pub(crate) elapsed_ns: u64,
    /// For a command its own context; for a step its command's.
    pub(crate) command: Option<CommandContext>,
    /// Present for a failed call, or one with arguments.
    pub(crate) cold: Option<Box<Cold>>,
}

/// The parts of a [`Record`] that a successful call without arguments does not have.
#[derive(Default)]
pub(crate) struct Cold {
    pub(crate) failed: bool,
    pub(crate) error_kind: Option<&'static str>,
    /// The error message, when the host opted in and the call failed; the worker scrubs
    /// it before it goes anywhere.
    pub(crate) message: Option<String>,
    /// The argument values, as the call collected them.
    pub(crate) args: ArgSlots,
}

impl Cold {
    /// Drops what the cold part owns (a message, spilled values), keeping the box.
    pub(crate) fn clear(&mut self) {
        self.message = None;
        self.args = ArgSlots::new();
    }
}

impl Record {
    /// A record of a call; the rare parts are boxed only when present (the arguments are
    /// then moved out of `args`).
    #[inline(always)]
    pub(crate) fn new(
        callsite: &'static Callsite,
        end_ns: u64,
        elapsed_ns: u64,
        finish: (bool, Option<&'static str>, Option<String>),
        command: Option<CommandContext>,
        args: &mut ArgSlots,
        box_cold: impl FnOnce(Cold) -> Box<Cold>,
    ) -> Self {
        let (success, error_kind, message) = finish;
        let cold = if !success || message.is_some() || !args.is_empty() {
            // Taken only here: a call without arguments copies none of their bytes.
            Some(box_cold(Cold {
                failed: !success,
                error_kind,
                message,
                args: std::mem::take(args),
            }))
        } else {
            None
        };
        Record {
            callsite,
            end_ns,
            elapsed_ns,
            command,
            cold,
        }
    }

    /// Whether the call succeeded.
    pub(crate) fn success(&self) -> bool {
        self.cold.as_ref().is_none_or(|cold| !cold.failed)
    }

    /// The failure's kind, if any.
    pub(crate) fn error_kind(&self) -> Option<&'static str> {
        self.cold.as_ref().and_then(|cold| cold.error_kind)
    }

    /// Every argument value with its index: the inline ones, then the spilled ones.
    pub(crate) fn args(&self) -> impl Iterator<Item = (usize, ArgValueRef<'_>)> {
        self.cold.iter().flat_map(|cold| cold.args.iter())
    }
}

/// A custom event: already JSON, since it comes from a cold path.
pub(crate) struct CustomEvent {
    pub(crate) name: String,
    pub(crate) at: SystemTime,
    pub(crate) properties: serde_json::Map<String, serde_json::Value>,
}

/// One argument's value as it will be sent.
pub(crate) enum ArgValue {
    Hash([u8; 16]),
    Json(Box<serde_json::Value>),
}

/// Bytes of inline argument storage in a record: room for two digests, or for the
/// encoding of one short value (a string of up to 36 bytes).
const INLINE_BYTES: usize = 47;
/// Each inline entry starts with the argument's index and a byte holding its length
/// ([`LENGTH`]), with [`ENCODING`] set for a hashed value's encoding or [`RECORDED`] for
/// a recorded scalar's tagged bytes (a digest is 16 bytes with neither).
const HEADER: usize = 2;
const ENCODING: u8 = 0x80;
const RECORDED: u8 = 0x40;
const LENGTH: u8 = 0x3f;
/// The most bytes one inline entry's value can have.
pub(crate) const INLINE_VALUE_MAX: usize = INLINE_BYTES - HEADER;
const DIGEST_LEN: usize = 16;

/// The argument values of one call, as the call collects them (in the call's guard, on
/// the caller's stack) and as they travel (in the record's boxed [`Cold`] part, a box
/// the worker hands back for reuse). Digests, the encodings of short values whose keyed
/// hash is left to the worker, and the tagged bytes of recorded scalars live inline, so
/// the common case allocates nothing; recorded values that are not scalars, and what
/// does not fit, go to a spill vector.
///
/// An encoding held here is the exact byte string `ArgHasher` feeds BLAKE3 after the
/// domain tag and the argument's name (see [`hash`](crate::hash)): the raw value, so it
/// only ever travels through the in-memory channel. The worker hashes it before it builds
/// the event (`builder::args`); the spool and the sinks only ever see built events.
///
/// The spill vector is boxed: a null pointer when unused, so that dropping the slots of
/// a call without recorded values is a single inlined check.
pub(crate) struct ArgSlots {
    inline: InlineArgs,
    #[allow(clippy::box_collection)]
    spill: Option<Box<Vec<(u8, ArgValue)>>>,
}

/// The inline part of [`ArgSlots`]: entries back to back (index, length with
/// [`ENCODING`] for an encoding, bytes).
#[derive(Clone, Copy)]
pub(crate) struct InlineArgs {
    bytes: [u8; INLINE_BYTES],
    used: u8,
}

impl InlineArgs {
    const fn new() -> Self {
        InlineArgs {
            bytes: [0; INLINE_BYTES],
            used: 0,
        }
    }

    /// Every inline value with its argument index.
    fn iter(&self) -> impl Iterator<Item = (usize, ArgValueRef<'_>)> {
        let mut inline = &self.bytes[..usize::from(self.used)];
        std::iter::from_fn(move || {
            let (&[index, tag], rest) = inline.split_first_chunk::<HEADER>()?;
            let len = usize::from(tag & LENGTH);
            let (bytes, rest) = rest.split_at_checked(len)?;
            inline = rest;
            let value = if tag & ENCODING != 0 {
                ArgValueRef::Encoding(bytes)
            } else if tag & RECORDED != 0 {
                ArgValueRef::Recorded(bytes)
            } else {
                ArgValueRef::Hash(bytes.first_chunk::<DIGEST_LEN>()?)
            };
            Some((usize::from(index), value))
        })
    }
}

fn spilled(spill: &[(u8, ArgValue)]) -> impl Iterator<Item = (usize, ArgValueRef<'_>)> {
    spill.iter().map(|(index, value)| {
        let value = match value {
            ArgValue::Hash(digest) => ArgValueRef::Hash(digest),
            ArgValue::Json(json) => ArgValueRef::Json(json),
        };
        (usize::from(*index), value)
    })
}

impl Default for ArgSlots {
    fn default() -> Self {
        ArgSlots::new()
    }
}

impl ArgSlots {
    #[inline]
    pub(crate) fn new() -> Self {
        ArgSlots {
            inline: InlineArgs::new(),
            spill: None,
        }
    }

    /// Whether no value was stored.
    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.inline.used == 0 && self.spill.is_none()
    }

    /// Appends an inline entry if it fits.
    #[inline]
    fn push_inline(&mut self, index: u8, tag: u8, bytes: &[u8]) -> bool {
        let inline = &mut self.inline;
        let start = usize::from(inline.used);
        let end = start + HEADER + bytes.len();
        if end > INLINE_BYTES {
            return false;
        }
        // `bytes` is at most INLINE_BYTES long here, so its length fits the 7 bits.
        inline.bytes[start] = index;
        inline.bytes[start + 1] = tag | bytes.len() as u8;
        inline.bytes[start + HEADER..end].copy_from_slice(bytes);
        inline.used = end as u8;
        true
    }

    /// Stores the value of the callsite argument at `index`.
    #[inline]
    pub(crate) fn push(&mut self, index: usize, value: ArgValue) {
        let index = u8::try_from(index).unwrap_or(u8::MAX);
        match value {
            ArgValue::Hash(digest) if self.push_inline(index, 0, &digest) => {}
            other => self.spill.get_or_insert_default().push((index, other)),
        }
    }

    /// Stores the encoding of the hashed argument at `index`, for the worker to hash, if
    /// it fits inline with room left for the digests of `later` arguments: `false`
    /// (nothing stored) when it does not, and the caller hashes it.
    #[inline]
    pub(crate) fn push_encoding(&mut self, index: usize, encoding: &[u8], later: usize) -> bool {
        let reserve = later.saturating_mul(HEADER + DIGEST_LEN);
        if usize::from(self.inline.used) + HEADER + encoding.len() + reserve > INLINE_BYTES {
            return false;
        }
        match u8::try_from(index) {
            Ok(index) if index != u8::MAX => self.push_inline(index, ENCODING, encoding),
            _ => false,
        }
    }

    /// Stores the tagged bytes of a recorded scalar (see
    /// [`scalar`](super::scalar)) for the argument at `index`, if they fit inline:
    /// `false` (nothing stored) when they do not, and the caller serializes the value.
    #[inline]
    pub(crate) fn push_recorded(&mut self, index: usize, bytes: &[u8]) -> bool {
        match u8::try_from(index) {
            Ok(index) if index != u8::MAX => self.push_inline(index, RECORDED, bytes),
            _ => false,
        }
    }

    /// Every stored value with its argument index: the inline ones, then the spilled ones.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, ArgValueRef<'_>)> {
        let spill = self.spill.as_deref().map_or(&[][..], |spill| &spill[..]);
        self.inline.iter().chain(spilled(spill))
    }
}

/// A borrowed [`ArgValue`], or the encoding of a value still to be hashed (by the
/// worker, with the installation key, under the argument's name).
pub(crate) enum ArgValueRef<'a> {
    Hash(&'a [u8; 16]),
    Json(&'a serde_json::Value),
    Encoding(&'a [u8]),
    /// A recorded scalar's tagged bytes, which the worker turns into JSON.
    Recorded(&'a [u8]),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_entries_come_back_in_order_and_overflow_spills() {
        let mut slots = ArgSlots::new();
        assert!(slots.push_encoding(0, b"s-encoded", 0));
        slots.push(1, ArgValue::Hash([7; 16]));
        // 11 + 18 = 29 bytes used: a long encoding does not fit, a short one does.
        assert!(!slots.push_encoding(4, &[1; 20], 0));
        assert!(slots.push_encoding(5, b"x", 0));
        // 32 used: a digest no longer fits, it spills; a recorded scalar of 6 does.
        slots.push(2, ArgValue::Hash([8; 16]));
        slots.push(3, ArgValue::Hash([9; 16]));
        assert!(slots.push_recorded(6, b"sdb"));
        assert!(!slots.push_recorded(7, b"s-too-long-now"));
        let got: Vec<String> = slots
            .iter()
            .map(|(index, value)| match value {
                ArgValueRef::Hash(digest) => format!("{index}:h{}", digest[0]),
                ArgValueRef::Encoding(bytes) => {
                    format!("{index}:e{}", String::from_utf8_lossy(bytes))
                }
                ArgValueRef::Recorded(bytes) => {
                    format!("{index}:r{}", String::from_utf8_lossy(bytes))
                }
                ArgValueRef::Json(_) => format!("{index}:j"),
            })
            .collect();
        assert_eq!(
            got,
            ["0:es-encoded", "1:h7", "5:ex", "6:rsdb", "2:h8", "3:h9"]
        );
        assert!(!slots.is_empty());
        assert!(ArgSlots::new().is_empty());
    }

    #[test]
    fn two_digests_stay_inline() {
        let mut slots = ArgSlots::new();
        for index in 0..2 {
            slots.push(index, ArgValue::Hash([index as u8; 16]));
        }
        assert!(slots.spill.is_none());
        assert_eq!(slots.iter().count(), 2);
    }

    #[test]
    fn an_encoding_leaves_room_for_the_digests_of_later_arguments() {
        let mut slots = ArgSlots::new();
        // 2 + 29 bytes, and a digest of 18 after it, would not fit in 47.
        assert!(!slots.push_encoding(0, &[0; 29], 1));
        assert!(slots.push_encoding(0, &[0; 26], 1));
        slots.push(1, ArgValue::Hash([1; 16]));
        assert!(slots.spill.is_none());
    }

    #[test]
    fn a_channel_slot_holds_a_small_record() {
        assert_eq!(std::mem::size_of::<Record>(), 48);
        // What `Config::channel_capacity` says of the boxes kept for reuse.
        assert!(
            std::mem::size_of::<Cold>() <= 112,
            "{}",
            std::mem::size_of::<Cold>()
        );
        assert_eq!(
            std::mem::size_of::<Envelope>(),
            std::mem::size_of::<Record>()
        );
    }
}
