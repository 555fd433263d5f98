//! Recorded values (`record(..)`) that are scalars, carried as a few tagged bytes and
//! turned into JSON by the worker, so that a call allocates no JSON on the caller's
//! thread.
//!
//! A recorded argument is only borrowed by the call, so the caller has to take what it
//! sends from it. For the values `record(..)` is meant for (an enum's unit variant, a
//! flag, a count, a short name) that is a tag and at most a few dozen bytes, written into
//! the record's inline argument bytes by [`encode`]; the worker's [`decode`] gives exactly
//! the `serde_json::Value` that `serde_json::to_value` would have given. Anything else
//! (sequences, maps, structs, data-carrying variants, 128-bit integers, bytes, a string
//! that does not fit) is reported as unsupported, and the caller serializes it to JSON as
//! before.

use std::fmt;

use serde::ser::{self, Impossible, Serialize};
use serde_json::Value;

const NULL: u8 = b'n';
const TRUE: u8 = b't';
const FALSE: u8 = b'f';
const SIGNED: u8 = b'i';
const UNSIGNED: u8 = b'u';
const SINGLE: u8 = b'F';
const DOUBLE: u8 = b'd';
const STRING: u8 = b's';

/// Writes the tagged bytes of `value` into `out` and returns how many, or `None` when
/// `value` is not a scalar this module carries or does not fit.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, out: &mut [u8]) -> Option<usize> {
    let mut writer = Writer { out, len: 0 };
    value.serialize(&mut writer).ok()?;
    Some(writer.len)
}

/// The JSON value of bytes written by [`encode`] (`null` for bytes it did not write).
pub(crate) fn decode(bytes: &[u8]) -> Value {
    let Some((&tag, payload)) = bytes.split_first() else {
        return Value::Null;
    };
    match tag {
        TRUE => Value::Bool(true),
        FALSE => Value::Bool(false),
        SIGNED => payload
            .try_into()
            .map_or(Value::Null, |le| Value::from(i64::from_le_bytes(le))),
        UNSIGNED => payload
            .try_into()
            .map_or(Value::Null, |le| Value::from(u64::from_le_bytes(le))),
        SINGLE => payload
            .try_into()
            .map_or(Value::Null, |le| Value::from(f32::from_le_bytes(le))),
        DOUBLE => payload
            .try_into()
            .map_or(Value::Null, |le| Value::from(f64::from_le_bytes(le))),
        STRING => std::str::from_utf8(payload).map_or(Value::Null, Value::from),
        _ => Value::Null,
    }
}

/// Not a scalar this module carries, or too long for the buffer.
#[derive(Debug)]
struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a short scalar")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        Unsupported
    }
}

struct Writer<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl Writer<'_> {
    /// Writes one scalar: a tag and its payload. A second scalar (which only a compound
    /// value would write) is unsupported.
    fn put(&mut self, tag: u8, payload: &[u8]) -> Result<(), Unsupported> {
        if self.len != 0 {
            return Err(Unsupported);
        }
        let end = 1 + payload.len();
        let out = self.out.get_mut(..end).ok_or(Unsupported)?;
        out[0] = tag;
        out[1..].copy_from_slice(payload);
        self.len = end;
        Ok(())
    }
}

type Compound = Impossible<(), Unsupported>;

impl ser::Serializer for &mut Writer<'_> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound;
    type SerializeTuple = Compound;
    type SerializeTupleStruct = Compound;
    type SerializeTupleVariant = Compound;
    type SerializeMap = Compound;
    type SerializeStruct = Compound;
    type SerializeStructVariant = Compound;

    fn serialize_bool(self, value: bool) -> Result<(), Unsupported> {
        self.put(if value { TRUE } else { FALSE }, &[])
    }
    fn serialize_i8(self, value: i8) -> Result<(), Unsupported> {
        self.serialize_i64(value.into())
    }
    fn serialize_i16(self, value: i16) -> Result<(), Unsupported> {
        self.serialize_i64(value.into())
    }
    fn serialize_i32(self, value: i32) -> Result<(), Unsupported> {
        self.serialize_i64(value.into())
    }
    fn serialize_i64(self, value: i64) -> Result<(), Unsupported> {
        self.put(SIGNED, &value.to_le_bytes())
    }
    fn serialize_u8(self, value: u8) -> Result<(), Unsupported> {
        self.serialize_u64(value.into())
    }
    fn serialize_u16(self, value: u16) -> Result<(), Unsupported> {
        self.serialize_u64(value.into())
    }
    fn serialize_u32(self, value: u32) -> Result<(), Unsupported> {
        self.serialize_u64(value.into())
    }
    fn serialize_u64(self, value: u64) -> Result<(), Unsupported> {
        self.put(UNSIGNED, &value.to_le_bytes())
    }
    fn serialize_f32(self, value: f32) -> Result<(), Unsupported> {
        self.put(SINGLE, &value.to_le_bytes())
    }
    fn serialize_f64(self, value: f64) -> Result<(), Unsupported> {
        self.put(DOUBLE, &value.to_le_bytes())
    }
    fn serialize_char(self, value: char) -> Result<(), Unsupported> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, value: &str) -> Result<(), Unsupported> {
        self.put(STRING, value.as_bytes())
    }
    fn serialize_bytes(self, _value: &[u8]) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.put(NULL, &[])
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Compound, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Compound, Unsupported> {
        Err(Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde_json::json;

    use super::{decode, encode};

    /// What the worker makes of `value`, or `None` if the caller has to serialize it.
    fn carried<T: Serialize + ?Sized>(value: &T) -> Option<serde_json::Value> {
        let mut buffer = [0u8; 45];
        encode(value, &mut buffer).map(|len| decode(&buffer[..len]))
    }

    /// Carried, and exactly what `serde_json::to_value` gives.
    fn same<T: Serialize + ?Sized + std::fmt::Debug>(value: &T) {
        let expected = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        assert_eq!(carried(value), Some(expected), "{value:?}");
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
        },
    }

    #[derive(Serialize, Debug)]
    struct Rows(u32);

    #[derive(Serialize, Debug)]
    struct Marker;

    #[derive(Serialize, Debug)]
    struct Point {
        x: u8,
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
        same(&"a".repeat(44));
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
    fn everything_else_is_left_to_the_caller() {
        assert_eq!(carried(&"a".repeat(45)), None, "too long for the buffer");
        assert_eq!(carried(&u128::MAX), None);
        assert_eq!(carried(&1i128), None);
        assert_eq!(carried(&vec![1u8, 2]), None);
        assert_eq!(carried(&(1u8, 2u8)), None);
        assert_eq!(carried(&Point { x: 1 }), None);
        assert_eq!(carried(&Destination::Other("x".into())), None);
        assert_eq!(carried(&Destination::Pair(1, 2)), None);
        assert_eq!(carried(&Destination::Named { port: 1 }), None);
        assert_eq!(
            carried(&std::collections::BTreeMap::from([(1u8, 2u8)])),
            None
        );
        assert_eq!(carried(serde_bytes_like()), None);
    }

    /// A value that serializes as bytes.
    fn serde_bytes_like() -> &'static impl Serialize {
        struct Bytes;
        impl Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(b"raw")
            }
        }
        &Bytes
    }

    #[test]
    fn bytes_it_did_not_write_decode_to_null() {
        assert_eq!(decode(&[]), json!(null));
        assert_eq!(decode(b"i\x01"), json!(null));
        assert_eq!(decode(b"s\xff"), json!(null));
        assert_eq!(decode(b"?"), json!(null));
    }
}
