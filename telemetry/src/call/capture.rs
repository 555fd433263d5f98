//! Recorded values (`record(..)`), taken from the caller as tagged bytes and turned into
//! JSON by the worker, so that no JSON is built on the caller's thread.
//!
//! A recorded argument is only borrowed by the call, so the caller has to take what it
//! sends from it. [`encode`] writes the value's serde data model as a compact byte
//! string: a tag per value, fixed-width little-endian numbers, length-prefixed strings,
//! and an end byte after the items of a sequence or a map. That is a copy of the value,
//! not a serialization into the wire format: no key is stringified, no number formatted,
//! nothing allocated unless the output grows (a reused buffer, see
//! [`ArgSlots`](super::record::ArgSlots)).
//!
//! On the worker, [`decode`] replays those bytes into `serde_json`'s own value
//! serializer, making the same calls the value made (but for names, which
//! `serde_json::Value` does not keep), so what is sent is exactly what
//! `serde_json::to_value` of the value gives, down to map keys, 128-bit integers and
//! errors: a value that `serde_json` cannot represent (a map with a non-string key that
//! serde_json refuses, say) is sent as `null`.
//!
//! Structs are written as maps with string keys, a newtype variant as a one-entry map,
//! a tuple variant as a one-entry map holding a sequence, a struct variant as a one-entry
//! map holding a map, and a unit variant as its name: that is what `serde_json::Value`
//! makes of them.

use std::fmt;

use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

const UNIT: u8 = b'n';
const NONE: u8 = b'N';
const SOME: u8 = b'S';
const UNIT_STRUCT: u8 = b'U';
const NEWTYPE: u8 = b'x';
const TRUE: u8 = b't';
const FALSE: u8 = b'f';
const SIGNED: u8 = b'i';
const UNSIGNED: u8 = b'u';
const SIGNED_128: u8 = b'I';
const UNSIGNED_128: u8 = b'W';
const SINGLE: u8 = b'F';
const DOUBLE: u8 = b'd';
const STRING: u8 = b's';
const BYTES: u8 = b'b';
const SEQ: u8 = b'q';
const MAP: u8 = b'm';
const END: u8 = b'e';

/// The bytes of a `null`: what a value that failed to serialize is sent as.
pub(crate) const NULL_BYTES: &[u8] = &[UNIT];

/// Nesting deeper than this is refused (and sent as `null`), so that neither the
/// caller's encoding nor the worker's replay can recurse without bound.
const MAX_DEPTH: usize = 128;

/// Why a value was not encoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// It does not fit the fixed buffer: encode it again into a growable one.
    TooLong,
    /// Its `Serialize` failed, or it nests deeper than [`MAX_DEPTH`]: send `null`.
    Failed,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refused::TooLong => "the value does not fit the buffer",
            Refused::Failed => "the value failed to serialize",
        })
    }
}

impl std::error::Error for Refused {}

impl ser::Error for Refused {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        Refused::Failed
    }
}

/// Where encoded bytes go: a fixed buffer (the record's inline bytes) or a vector.
trait Output {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Refused>;
}

struct Fixed<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl Output for Fixed<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<(), Refused> {
        let end = self.len + bytes.len();
        self.out
            .get_mut(self.len..end)
            .ok_or(Refused::TooLong)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

impl Output for &mut Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<(), Refused> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// Writes the tagged bytes of `value` into `out` and returns how many.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, out: &mut [u8]) -> Result<usize, Refused> {
    let mut writer = Writer {
        out: Fixed { out, len: 0 },
        depth: 0,
    };
    value.serialize(&mut writer)?;
    Ok(writer.out.len)
}

/// Appends the tagged bytes of `value` to `out`. On failure `out` is left as it was.
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), Refused> {
    let start = out.len();
    let mut writer = Writer { out, depth: 0 };
    let result = value.serialize(&mut writer);
    if result.is_err() {
        writer.out.truncate(start);
    }
    result
}

/// The JSON value of bytes written by [`encode`] or [`encode_into`]: exactly what
/// `serde_json::to_value` gives for the value they were written from (`null` where it
/// fails, and for bytes this module did not write).
pub(crate) fn decode(bytes: &[u8]) -> Value {
    match extent(bytes, 0) {
        Some(len) if len == bytes.len() => {
            serde_json::to_value(Replay(bytes)).unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

struct Writer<O> {
    out: O,
    depth: usize,
}

impl<O: Output> Writer<O> {
    #[inline]
    fn tag(&mut self, tag: u8) -> Result<(), Refused> {
        self.out.put(&[tag])
    }

    #[inline]
    fn tagged(&mut self, tag: u8, payload: &[u8]) -> Result<(), Refused> {
        self.tag(tag)?;
        self.out.put(payload)
    }

    /// A tag, the length as a LEB128 varint, and the bytes.
    #[inline]
    fn sized(&mut self, tag: u8, bytes: &[u8]) -> Result<(), Refused> {
        match u8::try_from(bytes.len()) {
            // One byte of length: what names and short strings take.
            Ok(len) if len < 0x80 => {
                self.out.put(&[tag, len])?;
                self.out.put(bytes)
            }
            _ => self.sized_long(tag, bytes),
        }
    }

    #[cold]
    fn sized_long(&mut self, tag: u8, bytes: &[u8]) -> Result<(), Refused> {
        let mut varint = [0u8; 10];
        let mut len = bytes.len();
        let mut used = 0;
        loop {
            let low = (len & 0x7f) as u8;
            len >>= 7;
            varint[used] = if len == 0 { low } else { low | 0x80 };
            used += 1;
            if len == 0 {
                break;
            }
        }
        self.tag(tag)?;
        self.out.put(&varint[..used])?;
        self.out.put(bytes)
    }

    /// Opens a sequence or a map (`tag`), or the one-entry map of a variant.
    fn open(&mut self, tag: u8) -> Result<(), Refused> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Refused::Failed);
        }
        self.tag(tag)
    }

    fn close(&mut self) -> Result<(), Refused> {
        self.depth -= 1;
        self.tag(END)
    }

    /// A variant's one-entry map, open, with its key written.
    fn variant(&mut self, variant: &str) -> Result<(), Refused> {
        self.open(MAP)?;
        self.sized(STRING, variant.as_bytes())
    }

    /// A value wrapped in a one-byte tag (`Some`, a newtype struct).
    fn wrapped<T: Serialize + ?Sized>(&mut self, tag: u8, value: &T) -> Result<(), Refused> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Refused::Failed);
        }
        self.tag(tag)?;
        value.serialize(&mut *self)?;
        self.depth -= 1;
        Ok(())
    }
}

impl<O: Output> Serializer for &mut Writer<O> {
    type Ok = ();
    type Error = Refused;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Variant<Self>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Variant<Self>;

    fn serialize_bool(self, value: bool) -> Result<(), Refused> {
        self.tag(if value { TRUE } else { FALSE })
    }
    fn serialize_i8(self, value: i8) -> Result<(), Refused> {
        self.serialize_i64(value.into())
    }
    fn serialize_i16(self, value: i16) -> Result<(), Refused> {
        self.serialize_i64(value.into())
    }
    fn serialize_i32(self, value: i32) -> Result<(), Refused> {
        self.serialize_i64(value.into())
    }
    fn serialize_i64(self, value: i64) -> Result<(), Refused> {
        self.tagged(SIGNED, &value.to_le_bytes())
    }
    fn serialize_i128(self, value: i128) -> Result<(), Refused> {
        self.tagged(SIGNED_128, &value.to_le_bytes())
    }
    fn serialize_u8(self, value: u8) -> Result<(), Refused> {
        self.serialize_u64(value.into())
    }
    fn serialize_u16(self, value: u16) -> Result<(), Refused> {
        self.serialize_u64(value.into())
    }
    fn serialize_u32(self, value: u32) -> Result<(), Refused> {
        self.serialize_u64(value.into())
    }
    fn serialize_u64(self, value: u64) -> Result<(), Refused> {
        self.tagged(UNSIGNED, &value.to_le_bytes())
    }
    fn serialize_u128(self, value: u128) -> Result<(), Refused> {
        self.tagged(UNSIGNED_128, &value.to_le_bytes())
    }
    fn serialize_f32(self, value: f32) -> Result<(), Refused> {
        self.tagged(SINGLE, &value.to_le_bytes())
    }
    fn serialize_f64(self, value: f64) -> Result<(), Refused> {
        self.tagged(DOUBLE, &value.to_le_bytes())
    }
    fn serialize_char(self, value: char) -> Result<(), Refused> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, value: &str) -> Result<(), Refused> {
        self.sized(STRING, value.as_bytes())
    }
    fn serialize_bytes(self, value: &[u8]) -> Result<(), Refused> {
        self.sized(BYTES, value)
    }
    fn serialize_none(self) -> Result<(), Refused> {
        self.tag(NONE)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Refused> {
        self.wrapped(SOME, value)
    }
    fn serialize_unit(self) -> Result<(), Refused> {
        self.tag(UNIT)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Refused> {
        self.tag(UNIT_STRUCT)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Refused> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.wrapped(NEWTYPE, value)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.variant(variant)?;
        value.serialize(&mut *self)?;
        self.close()
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self, Refused> {
        self.open(SEQ)?;
        Ok(self)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self, Refused> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Self, Refused> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Variant<Self>, Refused> {
        self.variant(variant)?;
        self.open(SEQ)?;
        Ok(Variant(self))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self, Refused> {
        self.open(MAP)?;
        Ok(self)
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Self, Refused> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Variant<Self>, Refused> {
        self.variant(variant)?;
        self.open(MAP)?;
        Ok(Variant(self))
    }
}

/// A sequence, tuple or tuple struct: its items one after the other, then the end byte.
macro_rules! serialize_items {
    ($($trait:ident::$method:ident),*) => {$(
        impl<O: Output> ser::$trait for &mut Writer<O> {
            type Ok = ();
            type Error = Refused;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), Refused> {
                self.close()
            }
        }
    )*};
}

serialize_items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl<O: Output> ser::SerializeMap for &mut Writer<O> {
    type Ok = ();
    type Error = Refused;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Refused> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        self.close()
    }
}

impl<O: Output> ser::SerializeStruct for &mut Writer<O> {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.sized(STRING, key.as_bytes())?;
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        self.close()
    }
}

/// A tuple or struct variant: its items inside the variant's one-entry map, both closed
/// at the end.
pub(crate) struct Variant<W>(W);

impl<O: Output> ser::SerializeTupleVariant for Variant<&mut Writer<O>> {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut *self.0)
    }
    fn end(self) -> Result<(), Refused> {
        self.0.close()?;
        self.0.close()
    }
}

impl<O: Output> ser::SerializeStructVariant for Variant<&mut Writer<O>> {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.0.sized(STRING, key.as_bytes())?;
        value.serialize(&mut *self.0)
    }
    fn end(self) -> Result<(), Refused> {
        self.0.close()?;
        self.0.close()
    }
}

/// A varint length and what follows it.
fn sized_payload(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut len: usize = 0;
    for (used, &byte) in bytes.iter().enumerate().take(10) {
        len |= usize::from(byte & 0x7f).checked_shl(7 * used as u32)?;
        if byte & 0x80 == 0 {
            return bytes[used + 1..].split_at_checked(len);
        }
    }
    None
}

/// How many bytes the value at the start of `bytes` takes, if it is well formed.
fn extent(bytes: &[u8], depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (&tag, body) = bytes.split_first()?;
    let len = match tag {
        UNIT | NONE | UNIT_STRUCT | TRUE | FALSE => 1,
        SIGNED | UNSIGNED | DOUBLE => 9,
        SINGLE => 5,
        SIGNED_128 | UNSIGNED_128 => 17,
        STRING | BYTES => {
            let (_, rest) = sized_payload(body)?;
            bytes.len() - rest.len()
        }
        SOME | NEWTYPE => 1 + extent(body, depth + 1)?,
        SEQ | MAP => {
            let mut at = 0;
            while *body.get(at)? != END {
                at += extent(&body[at..], depth + 1)?;
            }
            1 + at + 1
        }
        _ => return None,
    };
    (len <= bytes.len()).then_some(len)
}

/// The values in a sequence's or map's body, up to (not including) its end byte.
fn items(mut body: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if body.first() == Some(&END) {
            return None;
        }
        let len = extent(body, 0)?;
        let (item, rest) = body.split_at(len);
        body = rest;
        Some(item)
    })
}

/// One well-formed encoded value, replayed into a serializer.
struct Replay<'a>(&'a [u8]);

impl Serialize for Replay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let malformed = || ser::Error::custom("malformed captured value");
        let (&tag, body) = self.0.split_first().ok_or_else(malformed)?;
        match tag {
            UNIT => serializer.serialize_unit(),
            NONE => serializer.serialize_none(),
            UNIT_STRUCT => serializer.serialize_unit_struct(""),
            TRUE => serializer.serialize_bool(true),
            FALSE => serializer.serialize_bool(false),
            SIGNED => {
                serializer.serialize_i64(i64::from_le_bytes(fixed(body).ok_or_else(malformed)?))
            }
            UNSIGNED => {
                serializer.serialize_u64(u64::from_le_bytes(fixed(body).ok_or_else(malformed)?))
            }
            SIGNED_128 => {
                serializer.serialize_i128(i128::from_le_bytes(fixed(body).ok_or_else(malformed)?))
            }
            UNSIGNED_128 => {
                serializer.serialize_u128(u128::from_le_bytes(fixed(body).ok_or_else(malformed)?))
            }
            SINGLE => {
                serializer.serialize_f32(f32::from_le_bytes(fixed(body).ok_or_else(malformed)?))
            }
            DOUBLE => {
                serializer.serialize_f64(f64::from_le_bytes(fixed(body).ok_or_else(malformed)?))
            }
            STRING => {
                let (payload, _) = sized_payload(body).ok_or_else(malformed)?;
                serializer.serialize_str(std::str::from_utf8(payload).map_err(|_| malformed())?)
            }
            BYTES => {
                let (payload, _) = sized_payload(body).ok_or_else(malformed)?;
                serializer.serialize_bytes(payload)
            }
            SOME => serializer.serialize_some(&Replay(body)),
            NEWTYPE => serializer.serialize_newtype_struct("", &Replay(body)),
            SEQ => {
                let mut seq = serializer.serialize_seq(None)?;
                for item in items(body) {
                    seq.serialize_element(&Replay(item))?;
                }
                seq.end()
            }
            MAP => {
                let mut map = serializer.serialize_map(None)?;
                let mut entries = items(body);
                while let Some(key) = entries.next() {
                    let value = entries.next().ok_or_else(malformed)?;
                    map.serialize_entry(&Replay(key), &Replay(value))?;
                }
                map.end()
            }
            _ => Err(malformed()),
        }
    }
}

/// The first `N` bytes of `body` (a fixed-width number's payload).
fn fixed<const N: usize>(body: &[u8]) -> Option<[u8; N]> {
    body.first_chunk::<N>().copied()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;
    use serde_json::json;

    use super::{decode, encode, encode_into, Refused};

    /// What the worker makes of `value` carried in a buffer of `inline` bytes, or the
    /// reason it was not.
    fn carried<T: Serialize + ?Sized>(
        value: &T,
        inline: usize,
    ) -> Result<serde_json::Value, Refused> {
        let mut buffer = vec![0u8; inline];
        encode(value, &mut buffer).map(|len| decode(&buffer[..len]))
    }

    /// Carried inline and in a vector, and exactly what `serde_json::to_value` gives.
    fn same<T: Serialize + ?Sized + std::fmt::Debug>(value: &T) {
        let expected = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        let mut bytes = b"kept".to_vec();
        encode_into(value, &mut bytes).unwrap();
        assert_eq!(&bytes[..4], b"kept", "{value:?}");
        assert_eq!(decode(&bytes[4..]), expected, "{value:?} in a vector");
        assert_eq!(carried(value, 4096).unwrap(), expected, "{value:?} inline");
    }

    #[derive(Serialize, Debug)]
    #[serde(rename_all = "lowercase")]
    enum Destination {
        Duckdb,
        #[serde(rename = "pg")]
        Postgres,
        Other(String),
        Pair(u8, u8),
        Named {
            port: u16,
            #[serde(skip_serializing_if = "Option::is_none")]
            schema: Option<&'static str>,
        },
    }

    #[derive(Serialize, Debug, PartialEq, Eq, Hash)]
    struct Rows(u32);

    #[derive(Serialize, Debug)]
    struct Marker;

    #[derive(Serialize, Debug)]
    struct Pair(u8, i8);

    #[derive(Serialize, Debug)]
    struct Point {
        x: u8,
        label: Option<String>,
        #[serde(skip)]
        _hidden: u8,
    }

    #[derive(Serialize, Debug)]
    struct Flattened {
        id: u8,
        #[serde(flatten)]
        extra: BTreeMap<String, u8>,
    }

    #[derive(Serialize, Debug)]
    #[serde(tag = "kind")]
    enum Tagged {
        Source { url_kind: &'static str },
        Sink,
    }

    #[derive(Serialize, Debug)]
    #[serde(untagged)]
    enum Untagged {
        Number(u8),
        Text(&'static str),
    }

    #[derive(Serialize, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    enum Key {
        Alpha,
        Beta,
    }

    #[test]
    fn scalars_come_out_as_serde_json_makes_them() {
        same(&true);
        same(&false);
        for value in [0i64, 1, -1, i64::MIN, i64::MAX] {
            same(&value);
        }
        same(&i8::MIN);
        same(&i16::MAX);
        same(&-7i32);
        for value in [0u64, 1, u64::MAX] {
            same(&value);
        }
        same(&u8::MAX);
        same(&u16::MAX);
        same(&u32::MAX);
        same(&usize::MAX);
        same(&isize::MIN);
        for value in [0i128, -1, i128::from(i64::MIN), i128::MIN, i128::MAX] {
            same(&value);
        }
        for value in [0u128, u128::from(u64::MAX), u128::MAX] {
            same(&value);
        }
        for value in [
            0.0f64,
            -0.0,
            1.5,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
        ] {
            same(&value);
        }
        for value in [0.1f32, -3.25, f32::NAN, f32::NEG_INFINITY] {
            same(&value);
        }
        same(&'x');
        same(&'é');
        same("");
        same("duckdb");
        same(&"a".repeat(43));
        same(&"ü".repeat(300));
        same(&String::from("owned"));
        same(&());
        same(&None::<u8>);
        same(&Some(3u8));
        same(&Some(Some("nested")));
        same(&Destination::Duckdb);
        same(&Destination::Postgres);
        same(&Rows(12));
        same(&Marker);
        same(&&&7u8);
    }

    #[test]
    fn compound_values_come_out_as_serde_json_makes_them() {
        same(&vec![1u8, 2, 3]);
        same(&Vec::<u8>::new());
        same(&(1u8, "two", 3.0f32));
        same(&Pair(1, -1));
        same(&Point {
            x: 1,
            label: Some("a".into()),
            _hidden: 9,
        });
        same(&Point {
            x: 2,
            label: None,
            _hidden: 0,
        });
        same(&Destination::Other("x".into()));
        same(&Destination::Pair(1, 2));
        same(&Destination::Named {
            port: 5432,
            schema: None,
        });
        same(&Destination::Named {
            port: 1,
            schema: Some("public"),
        });
        same(&vec![Destination::Duckdb, Destination::Other("y".into())]);
        same(&Flattened {
            id: 1,
            extra: BTreeMap::from([("b".into(), 2), ("a".into(), 1)]),
        });
        same(&Tagged::Source { url_kind: "s3" });
        same(&Tagged::Sink);
        same(&[Untagged::Number(1), Untagged::Text("t")]);
        same(&vec![vec![vec![Some(1u8), None]]]);
        same(&HashMap::from([("only", vec![(); 2])]));
        // The bytes of serde's `serialize_bytes` are a JSON array of numbers.
        same(&BytesLike(b"raw"));
    }

    #[test]
    fn map_keys_are_stringified_exactly_as_serde_json_does() {
        same(&BTreeMap::from([(1u8, "one"), (200, "two hundred")]));
        same(&BTreeMap::from([(-5i64, 1u8)]));
        same(&BTreeMap::from([(u128::MAX, 1u8)]));
        same(&BTreeMap::from([('c', 1u8)]));
        same(&BTreeMap::from([(true, 1u8), (false, 0)]));
        same(&BTreeMap::from([(Key::Alpha, 1u8), (Key::Beta, 2)]));
        same(&HashMap::from([(Rows(3), 1u8)]));
        same(&F32Key(1.1));
        same(&F64Key(1.1));
        // Keys serde_json refuses: the whole value is null, as `to_value` fails.
        same(&BTreeMap::from([((1u8, 2u8), 3u8)]));
        same(&BTreeMap::from([(Some(1u8), 3u8)]));
        same(&BTreeMap::from([(vec![1u8], 3u8)]));
        same(&F32Key(f32::NAN));
        assert_eq!(
            serde_json::to_value(BTreeMap::from([((1u8, 2u8), 3u8)])).ok(),
            None,
            "the refused-key cases above must stay refused by serde_json"
        );
    }

    /// A map with one `f32` key, which serde_json formats as an `f32`, not an `f64`.
    #[derive(Debug)]
    struct F32Key(f32);

    impl Serialize for F32Key {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry(&self.0, &0u8)?;
            map.end()
        }
    }

    #[derive(Debug)]
    struct F64Key(f64);

    impl Serialize for F64Key {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry(&self.0, &0u8)?;
            map.end()
        }
    }

    /// A value that serializes as bytes.
    #[derive(Debug)]
    struct BytesLike(&'static [u8]);

    impl Serialize for BytesLike {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(self.0)
        }
    }

    /// A value whose `Serialize` fails partway through.
    #[derive(Debug)]
    struct Failing;

    impl Serialize for Failing {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{Error, SerializeSeq};
            let mut seq = serializer.serialize_seq(None)?;
            seq.serialize_element("written before the failure")?;
            Err(S::Error::custom("no"))
        }
    }

    /// `depth` nested one-element sequences around a `0`.
    struct Nested(usize);

    impl Serialize for Nested {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            if self.0 == 0 {
                return serializer.serialize_u8(0);
            }
            let mut seq = serializer.serialize_seq(Some(1))?;
            seq.serialize_element(&Nested(self.0 - 1))?;
            seq.end()
        }
    }

    #[test]
    fn what_does_not_fit_inline_says_so_and_fits_a_vector() {
        assert_eq!(carried(&"a".repeat(43), 45), Ok(json!("a".repeat(43))));
        assert_eq!(carried(&"a".repeat(44), 45), Err(Refused::TooLong));
        assert_eq!(carried(&vec![7u64; 5], 45), Err(Refused::TooLong));
        let mut bytes = Vec::new();
        encode_into(&vec![7u64; 5], &mut bytes).unwrap();
        assert_eq!(decode(&bytes), json!([7, 7, 7, 7, 7]));
    }

    #[test]
    fn a_failing_or_bottomless_value_is_refused_and_leaves_the_vector_as_it_was() {
        assert_eq!(carried(&Failing, 4096), Err(Refused::Failed));
        let mut bytes = b"kept".to_vec();
        assert_eq!(encode_into(&Failing, &mut bytes), Err(Refused::Failed));
        assert_eq!(bytes, b"kept");
        assert_eq!(
            encode_into(&Nested(100_000), &mut bytes),
            Err(Refused::Failed)
        );
        assert_eq!(bytes, b"kept");
        // Within the limit it is carried.
        let mut deep = Vec::new();
        encode_into(&Nested(100), &mut deep).unwrap();
        assert_eq!(decode(&deep), serde_json::to_value(Nested(100)).unwrap());
    }

    #[test]
    fn bytes_it_did_not_write_decode_to_null() {
        assert_eq!(decode(&[]), json!(null));
        assert_eq!(decode(b"i\x01"), json!(null));
        assert_eq!(decode(b"s\x05ab"), json!(null));
        assert_eq!(decode(b"s\x01\xff"), json!(null));
        assert_eq!(decode(b"q"), json!(null));
        assert_eq!(decode(b"qn"), json!(null));
        assert_eq!(decode(b"mne"), json!(null), "a key without a value");
        assert_eq!(decode(b"nn"), json!(null), "trailing bytes");
        assert_eq!(decode(b"?"), json!(null));
    }

    impl std::fmt::Debug for Nested {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Nested({})", self.0)
        }
    }
}
