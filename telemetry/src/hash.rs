//! The keyed, one-way hash of argument values.
//!
//! The encoding, stable across runs and library versions, is documented on
//! [`ArgHasher`] (public, so users can check what their values become).

/// A value that can be sent as a keyed one-way hash: the default for every argument of a
/// tracked function.
///
/// Implemented for strings, paths, integers, `bool`, `char`, floats, and `Option`,
/// slices, `Vec`s and smart pointers of those. Implement it for your own types by
/// feeding the hasher the parts that identify the value:
///
/// ```
/// use telemetry::{ArgHasher, HashArg};
///
/// struct TableRef { schema: String, table: String }
///
/// impl HashArg for TableRef {
///     fn hash_arg(&self, hasher: &mut ArgHasher) {
///         hasher.write_str(&self.schema);
///         hasher.write_str(&self.table);
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be hashed for telemetry: add this argument to `skip(..)`",
    label = "add this argument's name to `skip(..)` in the attribute",
    note = "every argument is hashed unless the attribute lists it in `skip(..)` (generic, `impl Trait` and `dyn Trait` arguments are left out unless listed); send it as it is with `record(..)` if it is not identifying, or implement `telemetry::HashArg` for `{Self}`"
)]
pub trait HashArg {
    /// Feeds the value's encoding to `hasher`.
    fn hash_arg(&self, hasher: &mut ArgHasher);
}

/// Receives the encoding of one argument value.
///
/// # Encoding (stable across runs and library versions)
///
/// A hash is the first 16 bytes (128 bits) of BLAKE3 in keyed mode, with the
/// installation's 256-bit random key (kept in the state file, never sent), over the
/// concatenation of:
///
/// 1. the domain tag: the 16 ASCII bytes `telemetry/arg/v1` and one zero byte;
/// 2. the argument's name: its length in bytes as a little-endian `u64`, then its UTF-8
///    bytes (no type tag), so the same value under two argument names gives two
///    unrelated hashes;
/// 3. the value's encoding, where every tag is one ASCII byte:
///    - strings, `char`, paths and `OsStr`: tag `s`, the length in bytes as a
///      little-endian `u64`, then the UTF-8 bytes (paths and `OsStr` converted lossily,
///      invalid sequences becoming U+FFFD);
///    - every integer type: tag `n`, the length of the decimal text as a little-endian
///      `u64`, then the decimal text (ASCII, `-` for negatives), so `5u8` and `5i64`
///      hash alike;
///    - `bool`: tag `b`, then the ASCII byte `1` (true) or `0` (false);
///    - floats: tag `f`, then the value as `f64` bits, little-endian (an `f32` is widened
///      to `f64` first; `0.0` and `-0.0` differ, and so do NaNs with different bits);
///    - `Option`: the ASCII byte `0` for `None`; the byte `1` then the value for `Some`;
///    - slices, arrays and `Vec`: tag `l`, the element count as a little-endian `u64`,
///      then each element's encoding;
///    - references, `Box`, `Rc`, `Arc` and `Cow` encode as what they point to;
///    - a [`HashArg`] implementation of your own writes whatever sequence of the above
///      it calls.
///
/// The 16 bytes are sent as unpadded URL-safe base64: 22 characters.
///
/// For example, with the key of 32 bytes `0x00, 0x01, …, 0x1f`, the string
/// `s3://bucket/data` passed as the argument `source` is sent as
/// `OabFbzWK9WM1bOEvGclYcg`. A test pins this and other vectors, computed independently
/// with the reference BLAKE3 implementation.
///
/// Its methods are the building blocks for [`HashArg`] implementations.
pub struct ArgHasher {
    /// Where the encoding goes: the keyed BLAKE3 state, or nothing when compiled out.
    pub(crate) encoder: crate::imp::Encoder,
}

impl ArgHasher {
    #[inline]
    pub(crate) fn write_raw(&mut self, bytes: &[u8]) {
        self.encoder.write(bytes);
    }

    #[inline]
    pub(crate) fn write_len_prefixed(&mut self, bytes: &[u8]) {
        self.write_raw(&(bytes.len() as u64).to_le_bytes());
        self.write_raw(bytes);
    }

    /// Writes a string (tag `s`).
    ///
    /// ```
    /// # use telemetry::{ArgHasher, HashArg};
    /// struct Name(String);
    /// impl HashArg for Name {
    ///     fn hash_arg(&self, hasher: &mut ArgHasher) { hasher.write_str(&self.0) }
    /// }
    /// ```
    pub fn write_str(&mut self, value: &str) {
        self.write_raw(b"s");
        self.write_len_prefixed(value.as_bytes());
    }

    /// Writes an integer (tag `n`, decimal text): all integer types hash alike.
    ///
    /// ```
    /// # use telemetry::{ArgHasher, HashArg};
    /// struct Port(u16);
    /// impl HashArg for Port {
    ///     fn hash_arg(&self, hasher: &mut ArgHasher) { hasher.write_int(i128::from(self.0)) }
    /// }
    /// ```
    pub fn write_int(&mut self, value: i128) {
        let mut digits = itoa::Buffer::new();
        self.write_raw(b"n");
        // Most values fit 64 bits, whose formatting needs no 128-bit division.
        let text = match i64::try_from(value) {
            Ok(small) => digits.format(small),
            Err(_) => digits.format(value),
        };
        self.write_len_prefixed(text.as_bytes());
    }

    fn write_uint(&mut self, value: u128) {
        let mut digits = itoa::Buffer::new();
        self.write_raw(b"n");
        let text = match u64::try_from(value) {
            Ok(small) => digits.format(small),
            Err(_) => digits.format(value),
        };
        self.write_len_prefixed(text.as_bytes());
    }

    /// Writes a boolean (tag `b`).
    ///
    /// ```
    /// # use telemetry::{ArgHasher, HashArg};
    /// struct Flag(bool);
    /// impl HashArg for Flag {
    ///     fn hash_arg(&self, hasher: &mut ArgHasher) { hasher.write_bool(self.0) }
    /// }
    /// ```
    pub fn write_bool(&mut self, value: bool) {
        self.write_raw(if value { b"b1" } else { b"b0" });
    }

    /// Writes a float (tag `f`, the `f64` bits).
    ///
    /// ```
    /// # use telemetry::{ArgHasher, HashArg};
    /// struct Ratio(f32);
    /// impl HashArg for Ratio {
    ///     fn hash_arg(&self, hasher: &mut ArgHasher) { hasher.write_f64(f64::from(self.0)) }
    /// }
    /// ```
    pub fn write_f64(&mut self, value: f64) {
        self.write_raw(b"f");
        self.write_raw(&value.to_bits().to_le_bytes());
    }

    /// Starts a sequence of `count` values (tag `l`); write each element after it.
    ///
    /// ```
    /// # use telemetry::{ArgHasher, HashArg};
    /// struct Tags(Vec<String>);
    /// impl HashArg for Tags {
    ///     fn hash_arg(&self, hasher: &mut ArgHasher) {
    ///         hasher.write_seq_len(self.0.len());
    ///         for tag in &self.0 { hasher.write_str(tag) }
    ///     }
    /// }
    /// ```
    pub fn write_seq_len(&mut self, count: usize) {
        self.write_raw(b"l");
        self.write_raw(&(count as u64).to_le_bytes());
    }

    /// Writes "no value" (tag `0`), as for `None`.
    ///
    /// ```
    /// # use telemetry::{ArgHasher, HashArg};
    /// struct Maybe(Option<String>);
    /// impl HashArg for Maybe {
    ///     fn hash_arg(&self, hasher: &mut ArgHasher) {
    ///         match &self.0 { None => hasher.write_none(), Some(v) => { hasher.write_some(); hasher.write_str(v) } }
    ///     }
    /// }
    /// ```
    pub fn write_none(&mut self) {
        self.write_raw(b"0");
    }

    /// Announces a present value (tag `1`), as for `Some`; write the value after it.
    ///
    /// See [`write_none`](ArgHasher::write_none) for an example.
    pub fn write_some(&mut self) {
        self.write_raw(b"1");
    }
}

impl HashArg for str {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_str(self);
    }
}

impl HashArg for String {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_str(self);
    }
}

impl HashArg for char {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_str(self.encode_utf8(&mut [0; 4]));
    }
}

impl HashArg for std::path::Path {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_str(&self.to_string_lossy());
    }
}

impl HashArg for std::path::PathBuf {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        self.as_path().hash_arg(hasher);
    }
}

impl HashArg for std::ffi::OsStr {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_str(&self.to_string_lossy());
    }
}

impl HashArg for std::ffi::OsString {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        self.as_os_str().hash_arg(hasher);
    }
}

impl HashArg for bool {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_bool(*self);
    }
}

macro_rules! hash_signed {
    ($($int:ty),*) => {$(
        impl HashArg for $int {
            fn hash_arg(&self, hasher: &mut ArgHasher) {
                hasher.write_int(i128::from(*self));
            }
        }
    )*};
}

macro_rules! hash_unsigned {
    ($($int:ty),*) => {$(
        impl HashArg for $int {
            fn hash_arg(&self, hasher: &mut ArgHasher) {
                hasher.write_uint(u128::from(*self));
            }
        }
    )*};
}

hash_signed!(i8, i16, i32, i64, i128);
hash_unsigned!(u8, u16, u32, u64, u128);

impl HashArg for isize {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_int(*self as i128);
    }
}

impl HashArg for usize {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_uint(*self as u128);
    }
}

impl HashArg for f64 {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_f64(*self);
    }
}

impl HashArg for f32 {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_f64(f64::from(*self));
    }
}

impl<T: HashArg> HashArg for Option<T> {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        match self {
            None => hasher.write_none(),
            Some(value) => {
                hasher.write_some();
                value.hash_arg(hasher);
            }
        }
    }
}

impl<T: HashArg> HashArg for [T] {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_seq_len(self.len());
        for item in self {
            item.hash_arg(hasher);
        }
    }
}

impl<T: HashArg, const N: usize> HashArg for [T; N] {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        self.as_slice().hash_arg(hasher);
    }
}

impl<T: HashArg> HashArg for Vec<T> {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        self.as_slice().hash_arg(hasher);
    }
}

impl<T: HashArg + ?Sized> HashArg for &T {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        (**self).hash_arg(hasher);
    }
}

impl<T: HashArg + ?Sized> HashArg for &mut T {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        (**self).hash_arg(hasher);
    }
}

impl<T: HashArg + ?Sized> HashArg for Box<T> {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        (**self).hash_arg(hasher);
    }
}

impl<T: HashArg + ?Sized> HashArg for std::rc::Rc<T> {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        (**self).hash_arg(hasher);
    }
}

impl<T: HashArg + ?Sized> HashArg for std::sync::Arc<T> {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        (**self).hash_arg(hasher);
    }
}

impl<T: HashArg + ToOwned + ?Sized> HashArg for std::borrow::Cow<'_, T> {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        (**self).hash_arg(hasher);
    }
}

#[cfg(all(test, feature = "enabled"))]
mod tests {
    use super::*;
    use crate::call::{digest_encoding, digest_or_defer, encode};

    fn hash_of<T: HashArg + ?Sized>(key: &[u8; 32], name: &str, value: &T) -> String {
        crate::call::encode(&crate::call::digest(key, name, &mut |hasher| {
            value.hash_arg(hasher);
        }))
    }

    #[test]
    fn same_value_same_hash_and_names_separate_domains() {
        let key = [7u8; 32];
        assert_eq!(
            hash_of(&key, "source", "s3://bucket"),
            hash_of(&key, "source", &String::from("s3://bucket"))
        );
        assert_ne!(hash_of(&key, "source", "x"), hash_of(&key, "table", "x"));
        assert_ne!(
            hash_of(&key, "source", "x"),
            hash_of(&[8u8; 32], "source", "x")
        );
        assert_eq!(hash_of(&key, "n", &5u8), hash_of(&key, "n", &5i64));
        assert_ne!(hash_of(&key, "n", &5u8), hash_of(&key, "n", "5"));
        assert_eq!(hash_of(&key, "n", "x").len(), 22);
    }

    fn vector_key() -> [u8; 32] {
        std::array::from_fn(|index| index as u8)
    }

    /// The encoding spelled out byte by byte, as the module docs describe it.
    fn by_hand(name: &str, value_encoding: &[u8]) -> String {
        let mut message = b"telemetry/arg/v1\0".to_vec();
        message.extend_from_slice(&(name.len() as u64).to_le_bytes());
        message.extend_from_slice(name.as_bytes());
        message.extend_from_slice(value_encoding);
        let digest = blake3::keyed_hash(&vector_key(), &message);
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest.as_bytes()[..16]);
        encode(&out)
    }

    fn tagged(tag: &[u8], text: &[u8]) -> Vec<u8> {
        let mut out = tag.to_vec();
        out.extend_from_slice(&(text.len() as u64).to_le_bytes());
        out.extend_from_slice(text);
        out
    }

    /// Pinned vectors: changing any of these changes every hash ever sent, which breaks
    /// every receiver's history. Do not update them; add a new domain tag instead.
    #[test]
    fn fixed_vectors() {
        let key = vector_key();
        assert_eq!(
            hash_of(&key, "source", "s3://bucket/data"),
            "OabFbzWK9WM1bOEvGclYcg"
        );
        assert_eq!(hash_of(&key, "rows", &-42i32), "_lr6d6odnmKriEYSmOnmOQ");
        assert_eq!(hash_of(&key, "dry_run", &true), "oa0rNfNcAoinJ2jGL3I7Bg");
        assert_eq!(
            hash_of(&key, "tags", &vec!["a", "b"]),
            "mWtqme6Hbz7iFVrD9x3OSQ"
        );
        assert_eq!(
            hash_of(&key, "limit", &None::<u32>),
            "vNiFdgTJNrienDXLvKM5bQ"
        );
        assert_eq!(hash_of(&key, "ratio", &0.5f64), "EgXz65YvJEKI6p2TGpoNdw");
    }

    /// The hot path's deferred form: the encoding kept on the caller's thread and hashed
    /// on the worker gives the pinned vectors too, deferred or not.
    fn deferred<T: HashArg + ?Sized>(key: &[u8; 32], name: &str, value: &T, keep: bool) -> String {
        let mut kept = Vec::new();
        let digest = digest_or_defer(
            key,
            name,
            &mut |hasher| value.hash_arg(hasher),
            &mut |bytes| {
                kept.extend_from_slice(bytes);
                keep
            },
        );
        match digest {
            Some(digest) => encode(&digest),
            None => encode(&digest_encoding(key, name, &kept)),
        }
    }

    #[test]
    fn deferred_hashing_gives_the_fixed_vectors() {
        let key = vector_key();
        for keep in [true, false] {
            assert_eq!(
                deferred(&key, "source", "s3://bucket/data", keep),
                "OabFbzWK9WM1bOEvGclYcg"
            );
            assert_eq!(
                deferred(&key, "rows", &-42i32, keep),
                "_lr6d6odnmKriEYSmOnmOQ"
            );
            assert_eq!(
                deferred(&key, "dry_run", &true, keep),
                "oa0rNfNcAoinJ2jGL3I7Bg"
            );
            assert_eq!(
                deferred(&key, "tags", &vec!["a", "b"], keep),
                "mWtqme6Hbz7iFVrD9x3OSQ"
            );
            assert_eq!(
                deferred(&key, "limit", &None::<u32>, keep),
                "vNiFdgTJNrienDXLvKM5bQ"
            );
            assert_eq!(
                deferred(&key, "ratio", &0.5f64, keep),
                "EgXz65YvJEKI6p2TGpoNdw"
            );
        }
        for len in [0, 1, 20, 44, 45, 200, 300, 5000] {
            let value = "v".repeat(len);
            assert_eq!(
                deferred(&key, "table", value.as_str(), true),
                hash_of(&key, "table", value.as_str()),
                "{len} bytes"
            );
        }
    }

    /// The implementation matches the documented encoding, byte for byte.
    #[test]
    fn encoding_matches_the_documentation() {
        let key = vector_key();
        assert_eq!(
            hash_of(&key, "source", "s3://bucket/data"),
            by_hand("source", &tagged(b"s", b"s3://bucket/data"))
        );
        assert_eq!(
            hash_of(&key, "rows", &-42i32),
            by_hand("rows", &tagged(b"n", b"-42"))
        );
        assert_eq!(hash_of(&key, "dry_run", &true), by_hand("dry_run", b"b1"));
        assert_eq!(hash_of(&key, "dry_run", &false), by_hand("dry_run", b"b0"));
        let mut list = b"l".to_vec();
        list.extend_from_slice(&2u64.to_le_bytes());
        list.extend(tagged(b"s", b"a"));
        list.extend(tagged(b"s", b"b"));
        assert_eq!(
            hash_of(&key, "tags", &vec!["a", "b"]),
            by_hand("tags", &list)
        );
        assert_eq!(hash_of(&key, "limit", &None::<u32>), by_hand("limit", b"0"));
        let mut some = b"1".to_vec();
        some.extend(tagged(b"n", b"7"));
        assert_eq!(hash_of(&key, "limit", &Some(7u32)), by_hand("limit", &some));
        let mut float = b"f".to_vec();
        float.extend_from_slice(&0.5f64.to_bits().to_le_bytes());
        assert_eq!(hash_of(&key, "ratio", &0.5f64), by_hand("ratio", &float));
        assert_eq!(hash_of(&key, "ratio", &0.5f32), by_hand("ratio", &float));
        assert_eq!(
            hash_of(&key, "path", std::path::Path::new("/tmp/x")),
            by_hand("path", &tagged(b"s", b"/tmp/x"))
        );
        assert_eq!(
            hash_of(&key, "c", &'é'),
            by_hand("c", &tagged(b"s", "é".as_bytes()))
        );
    }
}
