//! The keyed BLAKE3 behind [`ArgHasher`]: the encoding is buffered on the stack while it
//! is short and streamed once it is not, so the digest of a short argument is one
//! one-shot keyed hash. The encoding itself is documented on [`ArgHasher`].

use crate::hash::ArgHasher;

/// Bytes of encoding kept on the stack before switching to the streaming hasher: the
/// prefix plus a string or path of about 200 bytes.
const INLINE_ENCODING: usize = 256;

/// The state of one keyed hash: what [`ArgHasher`] writes into when telemetry is built.
pub(crate) struct Encoder {
    key: [u8; 32],
    /// The encoding so far, while it fits.
    buffer: [u8; INLINE_ENCODING],
    len: usize,
    /// The streaming hasher, once the encoding outgrew `buffer`. The digest is the same
    /// either way: BLAKE3 hashes the concatenation, however it is fed.
    stream: Option<blake3::Hasher>,
}

impl Encoder {
    #[inline]
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if end <= INLINE_ENCODING && self.stream.is_none() {
            self.buffer[self.len..end].copy_from_slice(bytes);
            self.len = end;
        } else {
            self.write_streaming(bytes);
        }
    }

    /// Feeds the streaming hasher, starting it with the buffered encoding the first time.
    #[cold]
    #[inline(never)]
    fn write_streaming(&mut self, bytes: &[u8]) {
        let stream = self.stream.get_or_insert_with(|| {
            let mut stream = blake3::Hasher::new_keyed(&self.key);
            stream.update(&self.buffer[..self.len]);
            stream
        });
        stream.update(bytes);
    }

    /// The 128-bit digest.
    fn finish(&self) -> [u8; 16] {
        let digest = match &self.stream {
            Some(stream) => stream.finalize(),
            None => blake3::keyed_hash(&self.key, &self.buffer[..self.len]),
        };
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest.as_bytes()[..16]);
        out
    }
}

/// Declares `$hasher`, a hasher for the argument called `$name` with its domain tag and
/// name written. Built in place as a `let`, never returned: a move would copy the whole
/// hasher (about 2 KiB with its streaming state, which only long values touch).
macro_rules! let_hasher {
    ($hasher:ident, $key:expr, $name:expr) => {
        let mut $hasher = ArgHasher {
            encoder: Encoder {
                key: *$key,
                buffer: [0; INLINE_ENCODING],
                len: 0,
                stream: None,
            },
        };
        $hasher.write_raw(b"telemetry/arg/v1\0");
        $hasher.write_len_prefixed($name.as_bytes());
    };
}

/// The digest of one argument value (the hot path calls [`digest_or_defer`], from one
/// non-generic function, so tracked functions carry none of this).
#[inline]
pub(crate) fn digest(
    key: &[u8; 32],
    name: &str,
    write: &mut dyn FnMut(&mut ArgHasher),
) -> [u8; 16] {
    let_hasher!(hasher, key, name);
    write(&mut hasher);
    hasher.encoder.finish()
}

/// What the hot path calls for an argument within the budget: the value's encoding
/// (what follows the domain tag and the name) is offered to `defer`, which keeps it for
/// the worker to hash when it is short enough (and returns `true`); otherwise, or when
/// the encoding outgrew the buffer, the digest is computed here and returned.
#[inline]
pub(crate) fn digest_or_defer(
    key: &[u8; 32],
    name: &str,
    write: &mut dyn FnMut(&mut ArgHasher),
    defer: &mut dyn FnMut(&[u8]) -> bool,
) -> Option<[u8; 16]> {
    let_hasher!(hasher, key, name);
    let prefix = hasher.encoder.len;
    write(&mut hasher);
    let encoder = &hasher.encoder;
    if encoder.stream.is_none() && defer(&encoder.buffer[prefix..encoder.len]) {
        return None;
    }
    Some(encoder.finish())
}

/// The digest of a value whose encoding the hot path deferred (see [`digest_or_defer`]):
/// computed on the worker, byte for byte the same as [`digest`] over the value.
pub(crate) fn digest_encoding(key: &[u8; 32], name: &str, encoding: &[u8]) -> [u8; 16] {
    digest(key, name, &mut |hasher| hasher.write_raw(encoding))
}

/// Encodes a digest as sent on the wire: unpadded URL-safe base64.
pub(crate) fn encode(digest: &[u8; 16]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}
