//! What travels through the channel: small, fixed-size records built on the caller's
//! thread, turned into JSON only on the worker.
//!
//! A record may carry the encoding of a short hashed argument rather than its hash (see
//! [`ArgSlots`]): the worker hashes it first thing when it builds the event, so the raw
//! bytes exist only in this in-memory channel and never reach the spool or a sink.

use std::time::{Instant, SystemTime};

use crate::callsite::Callsite;
use crate::invocation::CommandContext;

/// One message from a caller to the worker.
pub(crate) enum Message {
    /// A finished call of a tracked function.
    Call(Record),
    /// An event sent with [`track`](crate::track).
    Custom(CustomEvent),
}

/// A finished call of a tracked function.
pub(crate) struct Record {
    pub(crate) callsite: &'static Callsite,
    pub(crate) end: Instant,
    pub(crate) elapsed_ns: u64,
    pub(crate) success: bool,
    pub(crate) error_kind: Option<&'static str>,
    /// The error message, when the host opted in and the call failed; the worker scrubs
    /// it before it goes anywhere. Boxed:
    /// one pointer in every record instead of a `String`'s three words.
    #[allow(clippy::box_collection)]
    pub(crate) message: Option<Box<String>>,
    /// For a command its own context; for a step its command's.
    pub(crate) command: Option<CommandContext>,
    pub(crate) args: ArgSlots,
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

/// Bytes of inline argument storage in a record: room for three digests, or for the
/// encoding of one short value (a string of up to 44 bytes) and a digest.
const INLINE_BYTES: usize = 55;
/// Each inline entry starts with the argument's index and a byte holding its length,
/// with [`ENCODING`] set for a value's encoding (a digest is 16 bytes without it).
const HEADER: usize = 2;
const ENCODING: u8 = 0x80;
const DIGEST_LEN: usize = 16;

/// The argument values of one call. Digests, and the encodings of short values whose
/// keyed hash is left to the worker, live inline, so the common case allocates nothing;
/// recorded values and what does not fit go to a spill vector.
///
/// An encoding held here is the exact byte string `ArgHasher` feeds BLAKE3 after the
/// domain tag and the argument's name (see [`hash`](crate::hash)): the raw value, so it
/// only ever travels through the in-memory channel. The worker hashes it before it builds
/// the event (`builder::args`); the spool and the sinks only ever see built events.
///
/// The spill vector is boxed: a null pointer when unused, so that dropping the slots of
/// a call without recorded values is a single inlined check (and the record that
/// carries them through the channel is 16 bytes smaller).
pub(crate) struct ArgSlots {
    /// Entries back to back: index, length (with [`ENCODING`] for an encoding), bytes.
    inline: [u8; INLINE_BYTES],
    used: u8,
    #[allow(clippy::box_collection)]
    spill: Option<Box<Vec<(u8, ArgValue)>>>,
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
            inline: [0; INLINE_BYTES],
            used: 0,
            spill: None,
        }
    }

    /// Moves the values out, leaving no spilled values behind (the inline bytes are
    /// copied, not cleared: `used` is what says which are set).
    #[inline]
    pub(crate) fn take(&mut self) -> ArgSlots {
        ArgSlots {
            inline: self.inline,
            used: std::mem::replace(&mut self.used, 0),
            spill: self.spill.take(),
        }
    }

    /// Appends an inline entry if it fits.
    #[inline]
    fn push_inline(&mut self, index: u8, tag: u8, bytes: &[u8]) -> bool {
        let start = usize::from(self.used);
        let end = start + HEADER + bytes.len();
        if end > INLINE_BYTES {
            return false;
        }
        // `bytes` is at most INLINE_BYTES long here, so its length fits the 7 bits.
        self.inline[start] = index;
        self.inline[start + 1] = tag | bytes.len() as u8;
        self.inline[start + HEADER..end].copy_from_slice(bytes);
        self.used = end as u8;
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
        if usize::from(self.used) + HEADER + encoding.len() + reserve > INLINE_BYTES {
            return false;
        }
        match u8::try_from(index) {
            Ok(index) if index != u8::MAX => self.push_inline(index, ENCODING, encoding),
            _ => false,
        }
    }

    /// Every stored value with its argument index.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, ArgValueRef<'_>)> {
        let mut inline = &self.inline[..usize::from(self.used)];
        let inline = std::iter::from_fn(move || {
            let (&[index, tag], rest) = inline.split_first_chunk::<HEADER>()?;
            let len = usize::from(tag & !ENCODING);
            let (bytes, rest) = rest.split_at_checked(len)?;
            inline = rest;
            let value = if tag & ENCODING != 0 {
                ArgValueRef::Encoding(bytes)
            } else {
                ArgValueRef::Hash(bytes.first_chunk::<DIGEST_LEN>()?)
            };
            Some((usize::from(index), value))
        });
        let spilled = self
            .spill
            .iter()
            .flat_map(|spill| spill.iter())
            .map(|(index, value)| {
                let value = match value {
                    ArgValue::Hash(digest) => ArgValueRef::Hash(digest),
                    ArgValue::Json(json) => ArgValueRef::Json(json),
                };
                (usize::from(*index), value)
            });
        inline.chain(spilled)
    }
}

/// A borrowed [`ArgValue`], or the encoding of a value still to be hashed (by the
/// worker, with the installation key, under the argument's name).
pub(crate) enum ArgValueRef<'a> {
    Hash(&'a [u8; 16]),
    Json(&'a serde_json::Value),
    Encoding(&'a [u8]),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_entries_come_back_in_order_and_overflow_spills() {
        let mut slots = ArgSlots::new();
        assert!(slots.push_encoding(0, b"s-encoded", 0));
        slots.push(1, ArgValue::Hash([7; 16]));
        slots.push(2, ArgValue::Hash([8; 16]));
        // 11 + 18 + 18 = 47 bytes used: a third digest spills, so does a long encoding.
        slots.push(3, ArgValue::Hash([9; 16]));
        assert!(!slots.push_encoding(4, &[1; 20], 0));
        assert!(slots.push_encoding(5, b"x", 0));
        let got: Vec<String> = slots
            .iter()
            .map(|(index, value)| match value {
                ArgValueRef::Hash(digest) => format!("{index}:h{}", digest[0]),
                ArgValueRef::Encoding(bytes) => {
                    format!("{index}:e{}", String::from_utf8_lossy(bytes))
                }
                ArgValueRef::Json(_) => format!("{index}:j"),
            })
            .collect();
        assert_eq!(got, ["0:es-encoded", "1:h7", "2:h8", "5:ex", "3:h9"]);
        let taken = slots.take();
        assert_eq!(taken.iter().count(), 5);
        assert_eq!(slots.iter().count(), 0);
    }

    #[test]
    fn three_digests_stay_inline() {
        let mut slots = ArgSlots::new();
        for index in 0..3 {
            slots.push(index, ArgValue::Hash([index as u8; 16]));
        }
        assert!(slots.spill.is_none());
        assert_eq!(slots.iter().count(), 3);
    }

    #[test]
    fn an_encoding_leaves_room_for_the_digests_of_later_arguments() {
        let mut slots = ArgSlots::new();
        // 2 + 29 bytes, and two digests of 18 after it, would not fit in 55.
        assert!(!slots.push_encoding(0, &[0; 29], 2));
        assert!(slots.push_encoding(0, &[0; 29], 1));
        slots.push(1, ArgValue::Hash([1; 16]));
        assert!(slots.spill.is_none());
    }
}
