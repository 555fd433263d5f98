//! What travels through the channel: small, fixed-size records built on the caller's
//! thread, turned into JSON only on the worker.

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

const INLINE_HASHES: usize = 3;

/// The argument values of one call. Up to three hashes live inline, so the common case
/// allocates nothing; recorded values and further hashes go to a spill vector.
///
/// The spill vector is boxed: a null pointer when unused, so that dropping the slots of
/// a call without recorded values is a single inlined check (and the record that
/// carries them through the channel is 16 bytes smaller).
#[derive(Default)]
pub(crate) struct ArgSlots {
    hashes: [(u8, [u8; 16]); INLINE_HASHES],
    hash_count: u8,
    #[allow(clippy::box_collection)]
    spill: Option<Box<Vec<(u8, ArgValue)>>>,
}

impl ArgSlots {
    #[inline]
    pub(crate) fn new() -> Self {
        ArgSlots {
            hashes: [(0, [0; 16]); INLINE_HASHES],
            hash_count: 0,
            spill: None,
        }
    }

    /// Moves the values out, leaving no spilled values behind (the inline hashes are
    /// copied, not cleared: `hash_count` is what says which are set).
    #[inline]
    pub(crate) fn take(&mut self) -> ArgSlots {
        ArgSlots {
            hashes: self.hashes,
            hash_count: std::mem::replace(&mut self.hash_count, 0),
            spill: self.spill.take(),
        }
    }

    /// Stores the value of the callsite argument at `index`.
    #[inline]
    pub(crate) fn push(&mut self, index: usize, value: ArgValue) {
        let index = u8::try_from(index).unwrap_or(u8::MAX);
        match value {
            ArgValue::Hash(digest) if usize::from(self.hash_count) < INLINE_HASHES => {
                self.hashes[usize::from(self.hash_count)] = (index, digest);
                self.hash_count += 1;
            }
            other => self.spill.get_or_insert_default().push((index, other)),
        }
    }

    /// Every stored value with its argument index.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, ArgValueRef<'_>)> {
        let inline = self.hashes[..usize::from(self.hash_count)]
            .iter()
            .map(|(index, digest)| (usize::from(*index), ArgValueRef::Hash(digest)));
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

/// A borrowed [`ArgValue`].
pub(crate) enum ArgValueRef<'a> {
    Hash(&'a [u8; 16]),
    Json(&'a serde_json::Value),
}
