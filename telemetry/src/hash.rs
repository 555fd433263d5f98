//! The keyed, one-way hash of argument values.
//!
//! # Encoding (stable across runs and library versions)
//!
//! A hash is the first 16 bytes (128 bits) of BLAKE3 in keyed mode, with the
//! installation's 256-bit random key, over:
//!
//! 1. the domain tag `telemetry/arg/v1` followed by a zero byte;
//! 2. the argument's name as a length-prefixed string (see below), so the same value
//!    under two argument names gives two unrelated hashes;
//! 3. the value's encoding:
//!    - strings, `char`, paths and `OsStr`: tag `s`, the length in bytes as a
//!      little-endian `u64`, then the UTF-8 bytes (paths and `OsStr` lossily converted);
//!    - every integer type: tag `n`, then the length-prefixed decimal text, so `5u8` and
//!      `5i64` hash alike;
//!    - `bool`: tag `b`, then `0` or `1`; floats: tag `f`, then the `f64` bits,
//!      little-endian;
//!    - `Option`: tag `0` for `None`; tag `1` then the value for `Some`;
//!    - slices, arrays and `Vec`: tag `l`, the count as a little-endian `u64`, then each
//!      element;
//!    - references, `Box`, `Rc`, `Arc` and `Cow` hash as what they point to.
//!
//! The 16 bytes are sent as unpadded URL-safe base64 (22 characters).

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
    message = "`{Self}` cannot be hashed for telemetry",
    label = "this argument's type does not implement `telemetry::HashArg`",
    note = "leave the argument out with `skip(<name>)`, send it as it is with `record(<name>)` if it is not identifying, or implement `telemetry::HashArg` for `{Self}`"
)]
pub trait HashArg {
    /// Feeds the value's encoding to `hasher`.
    fn hash_arg(&self, hasher: &mut ArgHasher);
}

/// Receives the encoding of one argument value (see the [module docs](self)).
///
/// Its methods are the building blocks for [`HashArg`] implementations.
pub struct ArgHasher {
    #[cfg(feature = "enabled")]
    inner: blake3::Hasher,
}

impl ArgHasher {
    /// A hasher keyed with the installation key, for the argument called `name`.
    #[cfg(feature = "enabled")]
    pub(crate) fn new(key: &[u8; 32], name: &str) -> Self {
        let mut hasher = ArgHasher {
            inner: blake3::Hasher::new_keyed(key),
        };
        hasher.inner.update(b"telemetry/arg/v1\0");
        hasher.write_len_prefixed(name.as_bytes());
        hasher
    }

    /// The 128-bit digest.
    #[cfg(feature = "enabled")]
    pub(crate) fn finish(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out.copy_from_slice(&self.inner.finalize().as_bytes()[..16]);
        out
    }

    #[inline]
    fn write_raw(&mut self, bytes: &[u8]) {
        #[cfg(feature = "enabled")]
        self.inner.update(bytes);
        #[cfg(not(feature = "enabled"))]
        let _ = bytes;
    }

    fn write_len_prefixed(&mut self, bytes: &[u8]) {
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
        self.write_raw(b"n");
        self.write_len_prefixed(value.to_string().as_bytes());
    }

    fn write_uint(&mut self, value: u128) {
        self.write_raw(b"n");
        self.write_len_prefixed(value.to_string().as_bytes());
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

/// Encodes a digest as sent on the wire: unpadded URL-safe base64.
#[cfg(feature = "enabled")]
pub(crate) fn encode(digest: &[u8; 16]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

#[cfg(all(test, feature = "enabled"))]
mod tests {
    use super::*;

    fn hash_of<T: HashArg + ?Sized>(key: &[u8; 32], name: &str, value: &T) -> String {
        let mut hasher = ArgHasher::new(key, name);
        value.hash_arg(&mut hasher);
        encode(&hasher.finish())
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
}
