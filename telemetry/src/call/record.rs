//! What travels through the channel: small, fixed-size records built on the caller's
//! thread, turned into JSON only on the worker.
//!
//! A record may carry the encoding of a short hashed argument rather than its hash (see
//! [`ArgSlots`]): the worker hashes it first thing when it builds the event, so the raw
//! bytes exist only in this in-memory channel and never reach the spool or a sink.

use std::time::SystemTime;

use crossbeam_channel::Sender;

use super::invocation::CommandContext;
use crate::callsite::Callsite;

use super::capture::{self, Refused};

/// One message from a caller to the runtime (see [`send`](super::send); a finished call
/// goes through [`send`](super::channel::send)).
pub(crate) enum Message {
    /// An event sent with [`track`](crate::track).
    Custom(CustomEvent),
}

/// What travels through the channel: a [`Message`] with the rare, large custom event
/// boxed, so that a slot is as small as a call's record.
pub(crate) enum Envelope {
    Call(CallRecord),
    Custom(Box<CustomEvent>),
}

/// A finished call of a tracked function: the callsite, the end, the elapsed
/// time, the command's context, the inline argument bytes (see [`ArgSlots`]: two digests,
/// or the encoding of one short string for the worker to hash, or a short recorded
/// value), and one pointer to what is rarer (a failure, its kind and message, values
/// too long to be inline), boxed in a [`Cold`] part, `None` for most calls.
///
/// The size is what a send costs beyond its instructions: the channel's slots were last
/// written by the worker, so every cache line a sender writes into comes from the other
/// core. With the arguments inline a call without arguments writes one more line than
/// a record without them would, but a call with a short hashed argument writes no box
/// and takes none from the spares channel: several lines fewer. The measured trade is
/// in `docs/performance.md`.
pub(crate) struct CallRecord {
    pub(crate) callsite: &'static Callsite,
    /// When the call ended: a reading of [`clock::now_ns`](super::clock::now_ns), which
    /// the worker's event builder turns into wall-clock time.
    pub(crate) end_ns: u64,
    pub(crate) elapsed_ns: u64,
    /// For a command its own context; for a step its command's.
    pub(crate) command: Option<CommandContext>,
    /// Present for a failed call, or one with values too long to be inline.
    pub(crate) cold: Option<Box<Cold>>,
    /// The call's inline argument values.
    inline: InlineArgs,
}

/// The parts of a [`CallRecord`] that a successful call with short arguments does not have.
///
/// Boxed, and reused: the worker empties a box it is done with and hands it back
/// ([`recycle`](Cold::recycle)), and a caller takes one from there
/// ([`take_cold`](super::channel::take_cold)) before it allocates one, so the box is neither
/// allocated on a caller's thread nor freed on the worker's (which would make the
/// allocator's per-thread cache miss on every call). Its spill keeps its memory too.
pub(crate) struct Cold {
    pub(crate) failed: bool,
    pub(crate) error_kind: Option<&'static str>,
    /// The error message, when the host opted in and the call failed; the worker scrubs
    /// it before it goes anywhere.
    pub(crate) message: Option<String>,
    /// Argument values that did not fit inline, back to back: a digest beyond the inline
    /// room, or a recorded value's tagged bytes (see [`capture`]). Each entry is the
    /// argument's index, its kind ([`SPILLED_DIGEST`] or [`SPILLED_RECORDED`]), its
    /// length as a little-endian `u32`, and its bytes.
    spill: Vec<u8>,
}

const SPILLED_DIGEST: u8 = b'h';
const SPILLED_RECORDED: u8 = b'r';
const SPILL_HEADER: usize = 6;

impl Cold {
    /// A spill grown past this many bytes is freed when its box is recycled rather than
    /// kept, so that one large recorded value does not hold its memory for good.
    pub(crate) const KEPT_SPILL: usize = 1024;
    /// The room a box made ahead of the calls (by the worker, or by a caller that found
    /// no spare) has for spilled values: a recorded struct of a few short fields.
    const SPILL_ROOM: usize = 256;

    /// An empty cold part, with room for a few spilled values.
    pub(crate) fn with_room() -> Self {
        Cold {
            failed: false,
            error_kind: None,
            message: None,
            spill: Vec::with_capacity(Self::SPILL_ROOM),
        }
    }

    /// Empties the cold part of a record the worker is done with and hands it back to
    /// the callers, its spill's memory kept. What the channel has no room for is dropped.
    ///
    /// Only what the box owns is dropped here (a message, an oversized spill); the
    /// caller that takes the box resets the rest ([`reset`](Cold::reset)), so that the
    /// worker, which only read the box, leaves its cache lines shared rather than
    /// modified, and the caller's writes into them are cheaper.
    pub(crate) fn recycle(mut self: Box<Self>, spares: &Sender<Box<Cold>>) {
        if self.message.is_some() {
            self.message = None;
        }
        if self.spill.capacity() > Self::KEPT_SPILL {
            self.spill = Vec::with_capacity(Self::SPILL_ROOM);
        }
        let _ = spares.try_send(self);
    }

    /// Empties a recycled box's values for the call that takes it.
    #[inline]
    pub(crate) fn reset(&mut self) {
        self.spill.clear();
    }

    /// Every spilled argument value with its index.
    fn args(&self) -> impl Iterator<Item = (usize, ArgValueRef<'_>)> {
        let mut spill = &self.spill[..];
        std::iter::from_fn(move || {
            let (&[index, kind, l0, l1, l2, l3], rest) =
                spill.split_first_chunk::<SPILL_HEADER>()?;
            let len = usize::try_from(u32::from_le_bytes([l0, l1, l2, l3])).ok()?;
            let (bytes, rest) = rest.split_at_checked(len)?;
            spill = rest;
            let value = match kind {
                SPILLED_DIGEST => ArgValueRef::Hash(bytes.first_chunk::<DIGEST_LEN>()?),
                _ => ArgValueRef::Recorded(bytes),
            };
            Some((usize::from(index), value))
        })
    }
}

impl CallRecord {
    /// A record of a call, with its inline arguments; the rare parts are boxed only when
    /// present (in the box the call spilled into, or in a spare).
    #[inline(always)]
    pub(crate) fn new(
        callsite: &'static Callsite,
        end_ns: u64,
        elapsed_ns: u64,
        finish: (bool, Option<&'static str>, Option<String>),
        command: Option<CommandContext>,
        args: &mut ArgSlots,
        take_cold: impl FnOnce() -> Box<Cold>,
    ) -> Self {
        let (success, error_kind, message) = finish;
        // Taken from the slots, which keep no value of this call.
        let inline = args.inline;
        args.inline.used = 0;
        let cold = if !success || message.is_some() || args.spilled.is_some() {
            let mut cold = args.spilled.take().unwrap_or_else(take_cold);
            cold.failed = !success;
            cold.error_kind = error_kind;
            cold.message = message;
            Some(cold)
        } else {
            None
        };
        CallRecord {
            callsite,
            end_ns,
            elapsed_ns,
            command,
            cold,
            inline,
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
        self.inline
            .iter()
            .chain(self.cold.iter().flat_map(|cold| cold.args()))
    }
}

/// A custom event: already JSON, since it comes from a cold path.
pub(crate) struct CustomEvent {
    pub(crate) name: String,
    pub(crate) at: SystemTime,
    pub(crate) properties: serde_json::Map<String, serde_json::Value>,
}

/// Bytes of inline argument storage in a record: room for two digests, or for the
/// encoding of one short value (a string of up to 36 bytes).
const INLINE_BYTES: usize = 47;
/// Each inline entry starts with the argument's index and a byte holding its length
/// ([`LENGTH`]), with [`ENCODING`] set for a hashed value's encoding or [`RECORDED`] for
/// a recorded value's tagged bytes (a digest is 16 bytes with neither).
const HEADER: usize = 2;
const ENCODING: u8 = 0x80;
const RECORDED: u8 = 0x40;
const LENGTH: u8 = 0x3f;
const DIGEST_LEN: usize = 16;

/// The argument values of one call, as the call collects them (in the call's guard, on
/// the caller's stack). Digests, the encodings of short values whose keyed hash is left
/// to the worker, and the tagged bytes of short recorded values live inline, and travel
/// in the [`CallRecord`] itself; what does not fit goes to the spill of the call's [`Cold`]
/// part, taken (from the worker's spares) as soon as a value needs it. Either way a call
/// allocates nothing once the worker's spares are there.
///
/// An encoding held here is the exact byte string `ArgHasher` feeds BLAKE3 after the
/// domain tag and the argument's name (see [`hash`](crate::hash)): the raw value, so it
/// only ever travels through the in-memory channel. The worker hashes it before it builds
/// the event (`builder::args`); the spool and the sinks only ever see built events.
///
/// The cold part is a null pointer until a value spills, so that dropping the slots of a
/// call without spilled values is a single inlined check.
pub(crate) struct ArgSlots {
    inline: InlineArgs,
    spilled: Option<Box<Cold>>,
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

impl ArgSlots {
    #[inline]
    pub(crate) fn new() -> Self {
        ArgSlots {
            inline: InlineArgs::new(),
            spilled: None,
        }
    }

    /// Whether no value was stored.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.inline.used == 0 && self.spilled.is_none()
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

    /// Appends a spilled entry of `kind` for the argument at `index`, its bytes appended
    /// by `write`. The call's cold part is taken from the worker's spares (or made) on
    /// first use.
    #[inline]
    fn push_spilled(&mut self, index: u8, kind: u8, write: impl FnOnce(&mut Vec<u8>)) {
        let spill = &mut self
            .spilled
            .get_or_insert_with(super::channel::take_cold)
            .spill;
        let header = spill.len();
        spill.extend_from_slice(&[index, kind, 0, 0, 0, 0]);
        let start = spill.len();
        write(spill);
        let len = u32::try_from(spill.len() - start).unwrap_or(u32::MAX);
        spill[header + 2..start].copy_from_slice(&len.to_le_bytes());
    }

    /// Stores the digest of the hashed argument at `index`.
    #[inline]
    pub(crate) fn push_digest(&mut self, index: usize, digest: [u8; DIGEST_LEN]) {
        let index = u8::try_from(index).unwrap_or(u8::MAX);
        if !self.push_inline(index, 0, &digest) {
            self.push_spilled(index, SPILLED_DIGEST, |spill| {
                spill.extend_from_slice(&digest);
            });
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

    /// Stores the tagged bytes of a recorded value (see [`capture`]) for the argument at
    /// `index`, if they fit inline: `false` (nothing stored) when they do not, and the
    /// caller [captures](ArgSlots::push_captured) the value into the spill instead.
    #[inline]
    pub(crate) fn push_recorded(&mut self, index: usize, bytes: &[u8]) -> bool {
        match u8::try_from(index) {
            Ok(index) if index != u8::MAX => self.push_inline(index, RECORDED, bytes),
            _ => false,
        }
    }

    /// Stores a recorded value for the argument at `index` in the spill: `write` appends
    /// its tagged bytes (see [`capture::encode_into`]); a value it refuses is sent as
    /// `null`.
    pub(crate) fn push_captured(
        &mut self,
        index: usize,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), Refused>,
    ) {
        let index = u8::try_from(index).unwrap_or(u8::MAX);
        self.push_spilled(index, SPILLED_RECORDED, |spill| {
            let start = spill.len();
            if write(spill).is_err() {
                spill.truncate(start);
                spill.extend_from_slice(capture::NULL_BYTES);
            }
        });
    }

    /// Every stored value with its argument index, as a record made from these slots
    /// will carry them.
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = (usize, ArgValueRef<'_>)> {
        let spilled = self.spilled.iter().flat_map(|cold| cold.args());
        self.inline.iter().chain(spilled)
    }
}

/// One stored argument value: a digest, the encoding of a value still to be hashed (by
/// the worker, with the installation key, under the argument's name), or a recorded
/// value's tagged bytes, which the worker turns into JSON ([`capture::decode`]).
pub(crate) enum ArgValueRef<'a> {
    Hash(&'a [u8; 16]),
    Encoding(&'a [u8]),
    Recorded(&'a [u8]),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_entries_come_back_in_order_and_overflow_spills() {
        let mut slots = ArgSlots::new();
        assert!(slots.push_encoding(0, b"s-encoded", 0));
        slots.push_digest(1, [7; 16]);
        // 11 + 18 = 29 bytes used: a long encoding does not fit, a short one does.
        assert!(!slots.push_encoding(4, &[1; 20], 0));
        assert!(slots.push_encoding(5, b"x", 0));
        // 32 used: a digest no longer fits, it spills; a recorded scalar of 6 does.
        slots.push_digest(2, [8; 16]);
        slots.push_digest(3, [9; 16]);
        assert!(slots.push_recorded(6, b"sdb"));
        assert!(!slots.push_recorded(7, b"s-too-long-now"));
        slots.push_captured(7, |bytes| {
            bytes.extend_from_slice(b"s-too-long-now");
            Ok(())
        });
        slots.push_captured(8, |bytes| {
            bytes.extend_from_slice(b"half-written");
            Err(Refused::Failed)
        });
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
            })
            .collect();
        assert_eq!(
            got,
            [
                "0:es-encoded",
                "1:h7",
                "5:ex",
                "6:rsdb",
                "2:h8",
                "3:h9",
                "7:rs-too-long-now",
                "8:rn"
            ]
        );
        assert!(!slots.is_empty());
        assert!(ArgSlots::new().is_empty());
    }

    #[test]
    fn a_record_carries_the_inline_and_the_spilled_values_and_its_box_is_reused() {
        let (spares, spare_boxes) = crossbeam_channel::bounded::<Box<Cold>>(1);
        let mut args = ArgSlots::new();
        assert!(args.push_recorded(0, b"inline"));
        args.push_captured(1, |bytes| {
            bytes.extend_from_slice(&[b'x'; 300]);
            Ok(())
        });
        let record = CallRecord::new(
            &SITE,
            1,
            1,
            (false, Some("E"), Some("message".into())),
            None,
            &mut args,
            || panic!("the spilled call's cold part is used"),
        );
        assert!(args.is_empty(), "the slots are taken by the record");
        let got: Vec<(usize, usize)> = record
            .args()
            .map(|(index, value)| match value {
                ArgValueRef::Recorded(bytes) => (index, bytes.len()),
                _ => panic!("recorded values only"),
            })
            .collect();
        assert_eq!(got, [(0, 6), (1, 300)]);
        assert!(!record.success());

        record.cold.unwrap().recycle(&spares);
        let mut cold = spare_boxes.try_recv().unwrap();
        assert!(
            cold.message.is_none(),
            "what the box owns is dropped by the worker"
        );
        cold.reset();
        assert_eq!(cold.args().count(), 0, "the caller empties it");
        assert!(cold.spill.capacity() >= 300, "its memory is kept for reuse");

        // A spill grown past the limit is freed instead.
        let mut cold = Box::new(Cold::with_room());
        cold.spill.resize(Cold::KEPT_SPILL + 1, b'x');
        cold.recycle(&spares);
        let cold = spare_boxes.try_recv().unwrap();
        assert!(cold.spill.capacity() <= Cold::KEPT_SPILL);
    }

    static SITE: Callsite = Callsite::new(
        crate::callsite::Category::Step,
        "site",
        &[],
        "module",
        "file.rs",
        1,
    );

    #[test]
    fn two_digests_stay_inline() {
        let mut slots = ArgSlots::new();
        for index in 0..2 {
            slots.push_digest(index, [index as u8; 16]);
        }
        assert!(slots.spilled.is_none());
        assert_eq!(slots.iter().count(), 2);
    }

    #[test]
    fn an_encoding_leaves_room_for_the_digests_of_later_arguments() {
        let mut slots = ArgSlots::new();
        // 2 + 29 bytes, and a digest of 18 after it, would not fit in 47.
        assert!(!slots.push_encoding(0, &[0; 29], 1));
        assert!(slots.push_encoding(0, &[0; 26], 1));
        slots.push_digest(1, [1; 16]);
        assert!(slots.spilled.is_none());
    }

    #[test]
    fn a_channel_slot_holds_a_small_record() {
        assert_eq!(std::mem::size_of::<CallRecord>(), 96);
        // What `Config::channel_capacity` says of the boxes kept for reuse.
        assert!(
            std::mem::size_of::<Cold>() <= 72,
            "{}",
            std::mem::size_of::<Cold>()
        );
        assert_eq!(
            std::mem::size_of::<Envelope>(),
            std::mem::size_of::<CallRecord>()
        );
    }
}
