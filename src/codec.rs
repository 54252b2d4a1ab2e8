//! The one codec of the wire format's length-prefixed fields: a bounds-checked
//! reader for untrusted bytes, a length-checked writer, and on them the
//! encryption context in its two serializations. The header, footer and
//! encrypted data key list (`format`) and the keyrings' AAD (`materials`) all
//! use it. It imports nothing of the crate but the error type, so every layer
//! may use it.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// A bounds-checked cursor for parsing untrusted bytes: every read either
/// succeeds or yields a `MalformedCiphertext` naming what was being read.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, pos: 0, what }
    }

    pub(crate) fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        let remaining = self.data.len() - self.pos;
        if n > remaining {
            return Err(Error::malformed(format!(
                "{}: {field} needs {n} bytes at offset {}, only {remaining} left",
                self.what, self.pos
            )));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &str) -> Result<u8> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &str) -> Result<u16> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A u16 length followed by that many bytes.
    pub(crate) fn u16_prefixed(&mut self, field: &str) -> Result<&'a [u8]> {
        let len = self.u16(field)? as usize;
        self.take(len, field)
    }

    pub(crate) fn u16_prefixed_utf8(&mut self, field: &str) -> Result<&'a str> {
        let bytes = self.u16_prefixed(field)?;
        std::str::from_utf8(bytes)
            .map_err(|_| Error::malformed(format!("{}: {field} is not valid UTF-8", self.what)))
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// What is being read ("header"), for error messages.
    pub(crate) fn what(&self) -> &'static str {
        self.what
    }
}

/// Appends length-prefixed fields; a length that does not fit its prefix is
/// a `LimitExceeded` naming the field.
pub(crate) struct Writer<'a>(pub(crate) &'a mut Vec<u8>);

impl Writer<'_> {
    pub(crate) fn u8(&mut self, b: u8) {
        self.0.push(b);
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// A length as u16 big-endian.
    pub(crate) fn u16_len(&mut self, len: usize, field: &str) -> Result<()> {
        let len = u16::try_from(len)
            .map_err(|_| Error::LimitExceeded(format!("{field} is {len}, more than 65535")))?;
        self.0.extend_from_slice(&len.to_be_bytes());
        Ok(())
    }

    /// A u16 length followed by the bytes.
    pub(crate) fn u16_prefixed(&mut self, bytes: &[u8], field: &str) -> Result<()> {
        self.u16_len(bytes.len(), field)?;
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// How an empty encryption context is written: the one way its two
/// serializations differ. A non-empty context is the same in both: a u16
/// count, then per entry in UTF-8 byte order of the keys
/// `u16 length || key || u16 length || value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyContext {
    /// As the count `0x0000`: the record header's form, also hashed into the
    /// footer. Spec: structured-encryption/header.md#encryption-context
    ZeroCount,
    /// As no bytes at all: the MPL's serialized encryption context, the AAD
    /// every keyring wraps under (`CanonicalEncryptionContext.EncryptionContextToAAD`).
    /// Spec: aws-encryption-sdk-specification framework/structures.md#serialization
    NoBytes,
}

/// Serialize an encryption context; see [`EmptyContext`] for the two forms.
/// More than 65535 entries, or a key or value longer than 65535 bytes, is a
/// `LimitExceeded`.
pub fn serialize_context(ec: &BTreeMap<String, String>, empty: EmptyContext) -> Result<Vec<u8>> {
    if ec.is_empty() && empty == EmptyContext::NoBytes {
        return Ok(Vec::new());
    }
    let mut out =
        Vec::with_capacity(2 + ec.iter().map(|(k, v)| 4 + k.len() + v.len()).sum::<usize>());
    write_context(&mut Writer(&mut out), ec)?;
    Ok(out)
}

/// Write the counted form of a context (an empty one is `0x0000`).
pub(crate) fn write_context(w: &mut Writer<'_>, ec: &BTreeMap<String, String>) -> Result<()> {
    let count = u16::try_from(ec.len()).map_err(|_| {
        Error::LimitExceeded(format!(
            "encryption context has {} entries; at most 65535 can be serialized",
            ec.len()
        ))
    })?;
    w.bytes(&count.to_be_bytes());
    // BTreeMap<String, _> iterates in byte order of the UTF-8 keys.
    for (key, value) in ec {
        for (what, part) in [("key", key), ("value", value)] {
            let too_long = || {
                Error::LimitExceeded(format!(
                    "encryption context {what} of {} bytes (entry {:?}) exceeds 65535 bytes",
                    part.len(),
                    truncate_for_message(key),
                ))
            };
            let len = u16::try_from(part.len()).map_err(|_| too_long())?;
            w.bytes(&len.to_be_bytes());
            w.bytes(part.as_bytes());
        }
    }
    Ok(())
}

/// Read the counted form of a context. Spec: header.md#key-value-pair-entries
/// — sorted by key, ascending. As the reference's GetContext2, each key must
/// be strictly greater (in bytes) than the one before, starting from the
/// empty key: this refuses duplicates, any other order and an empty key, so a
/// context has one encoding. (The spec does not name the empty key; the code wins.)
pub(crate) fn read_context(r: &mut Reader<'_>) -> Result<BTreeMap<String, String>> {
    let count = r.u16("encryption context count")?;
    let mut ec = BTreeMap::new();
    for _ in 0..count {
        let k = r.u16_prefixed_utf8("encryption context key")?.to_owned();
        let v = r.u16_prefixed_utf8("encryption context value")?.to_owned();
        let previous = ec.keys().next_back().map_or("", String::as_str);
        if k.as_str() <= previous {
            return Err(Error::malformed(format!(
                "{}: encryption context keys are not in strictly ascending order",
                r.what()
            )));
        }
        ec.insert(k, v);
    }
    Ok(ec)
}

fn truncate_for_message(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_two_forms_differ_only_for_an_empty_context() {
        let empty = BTreeMap::new();
        assert_eq!(
            serialize_context(&empty, EmptyContext::ZeroCount).unwrap(),
            [0, 0]
        );
        assert_eq!(
            serialize_context(&empty, EmptyContext::NoBytes).unwrap(),
            Vec::<u8>::new()
        );
        let two = ec(&[("b", "2"), ("a", "xy")]);
        let expected = [0, 2, 0, 1, b'a', 0, 2, b'x', b'y', 0, 1, b'b', 0, 1, b'2'];
        for form in [EmptyContext::ZeroCount, EmptyContext::NoBytes] {
            assert_eq!(serialize_context(&two, form).unwrap(), expected);
        }
    }

    #[test]
    fn counted_form_round_trips_through_the_reader() {
        for entries in [
            &[][..],
            &[("a", "")][..],
            &[("Z", "1"), ("a", "2"), ("é", "3")][..],
        ] {
            let context = ec(entries);
            let bytes = serialize_context(&context, EmptyContext::ZeroCount).unwrap();
            let mut r = Reader::new(&bytes, "context");
            assert_eq!(read_context(&mut r).unwrap(), context);
            assert_eq!(r.remaining(), 0);
            // Every truncation is malformed, never a panic or a shorter context.
            for cut in 0..bytes.len() {
                let err = read_context(&mut Reader::new(&bytes[..cut], "context")).unwrap_err();
                assert_eq!(err.code(), "MALFORMED_CIPHERTEXT", "cut at {cut}");
            }
        }
    }

    #[test]
    fn oversized_parts_are_limit_exceeded_in_both_forms() {
        let too_long = "v".repeat(65536);
        for bad in [ec(&[("k", &too_long)]), ec(&[(&too_long, "v")])] {
            for form in [EmptyContext::ZeroCount, EmptyContext::NoBytes] {
                let err = serialize_context(&bad, form).unwrap_err();
                assert_eq!(err.code(), "LIMIT_EXCEEDED");
                assert!(!err.to_string().contains(&too_long), "{err}");
            }
        }
    }
}
