//! The record header, stored in `aws_dbe_head`.
//! Spec: structured-encryption/header.md

use crate::error::{Error, Result};
use crate::format::reader::Reader;
use crate::materials::{EncryptedDataKey, EncryptionContext};
use crate::primitives;
use crate::suite::AlgorithmSuiteId;

pub const MESSAGE_ID_LEN: usize = 32;
pub const COMMITMENT_LEN: usize = 32;

const COMMIT_KEY_LABEL: &[u8] = b"AWS_DBE_COMMIT_KEY";

/// Header format version. Spec: header.md#format-version
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// No SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attributes.
    V1 = 1,
    /// Some attributes are bound into the encryption context.
    V2 = 2,
}

/// One byte of the encrypt legend. Spec: header.md#encrypt-legend-bytes
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegendEntry {
    EncryptAndSign,
    SignOnly,
    SignAndIncludeInEncryptionContext,
}

impl LegendEntry {
    pub fn byte(self) -> u8 {
        match self {
            LegendEntry::EncryptAndSign => b'e',
            LegendEntry::SignOnly => b's',
            LegendEntry::SignAndIncludeInEncryptionContext => b'c',
        }
    }

    fn from_byte(b: u8) -> Result<Self> {
        match b {
            b'e' => Ok(LegendEntry::EncryptAndSign),
            b's' => Ok(LegendEntry::SignOnly),
            b'c' => Ok(LegendEntry::SignAndIncludeInEncryptionContext),
            other => Err(Error::malformed(format!(
                "header: legend byte 0x{other:02x} is not e, s or c"
            ))),
        }
    }
}

/// A header without its commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialHeader {
    pub version: Version,
    pub suite: AlgorithmSuiteId,
    pub message_id: [u8; MESSAGE_ID_LEN],
    /// One entry per signed attribute, in canonical-path order.
    pub legend: Vec<LegendEntry>,
    /// The stored part of the encryption context (not the required keys).
    pub encryption_context: EncryptionContext,
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
}

impl PartialHeader {
    /// Spec: header.md#partial-header
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(128);
        out.push(self.version as u8);
        out.push(self.suite.flavor());
        out.extend_from_slice(&self.message_id);
        // Spec: header.md#encrypt-legend
        put_u16_len(&mut out, self.legend.len(), "encrypt legend")?;
        out.extend(self.legend.iter().map(|e| e.byte()));
        serialize_context_into(&mut out, &self.encryption_context)?;
        // Spec: header.md#encrypted-data-keys
        let count = self.encrypted_data_keys.len();
        if count == 0 || count > u8::MAX as usize {
            return Err(Error::LimitExceeded(format!(
                "a record needs 1 to 255 encrypted data keys, got {count}"
            )));
        }
        out.push(count as u8);
        for edk in &self.encrypted_data_keys {
            put_u16_prefixed(&mut out, edk.key_provider_id.as_bytes(), "key provider id")?;
            put_u16_prefixed(&mut out, &edk.key_provider_info, "key provider info")?;
            put_u16_prefixed(&mut out, &edk.ciphertext, "encrypted data key")?;
        }
        Ok(out)
    }

    /// Parse a full header value (partial header plus commitment); the
    /// commitment is checked separately, once the data key is known.
    pub fn parse(bytes: &[u8]) -> Result<PartialHeader> {
        let mut r = Reader::new(bytes, "header");
        let version = match r.u8("version")? {
            1 => Version::V1,
            2 => Version::V2,
            v => return Err(Error::malformed(format!("header: unsupported version {v}"))),
        };
        let suite = AlgorithmSuiteId::from_flavor(r.u8("flavor")?)?;
        let message_id: [u8; MESSAGE_ID_LEN] = r
            .take(MESSAGE_ID_LEN, "message id")?
            .try_into()
            .expect("take returned the requested length");
        let legend = r
            .u16_prefixed("encrypt legend")?
            .iter()
            .map(|&b| LegendEntry::from_byte(b))
            .collect::<Result<Vec<_>>>()?;
        let encryption_context = parse_context(&mut r)?;
        let count = r.u8("encrypted data key count")?;
        if count == 0 {
            return Err(Error::malformed("header: no encrypted data keys"));
        }
        let mut encrypted_data_keys = Vec::with_capacity(count as usize);
        for _ in 0..count {
            encrypted_data_keys.push(EncryptedDataKey {
                key_provider_id: r.u16_prefixed_utf8("key provider id")?.to_owned(),
                key_provider_info: r.u16_prefixed("key provider info")?.to_vec(),
                ciphertext: r.u16_prefixed("encrypted data key")?.to_vec(),
            });
        }
        match r.remaining() {
            COMMITMENT_LEN => {}
            n if n < COMMITMENT_LEN => {
                return Err(Error::malformed("header: commitment is truncated"))
            }
            n => {
                return Err(Error::malformed(format!(
                    "header: {} unexpected bytes after the commitment",
                    n - COMMITMENT_LEN
                )))
            }
        }
        Ok(PartialHeader {
            version,
            suite,
            message_id,
            legend,
            encryption_context,
            encrypted_data_keys,
        })
    }

    /// The full header value: partial header followed by its commitment.
    pub fn seal(&self, data_key: &[u8]) -> Result<Vec<u8>> {
        let mut out = self.serialize()?;
        let commitment = commitment(data_key, &self.message_id, &out);
        out.extend_from_slice(&commitment);
        Ok(out)
    }
}

/// Check the commitment at the end of a full header value, in constant time.
/// Spec: header.md#commitment-verification
pub fn verify_commitment(full_header: &[u8], data_key: &[u8], message_id: &[u8]) -> Result<()> {
    if full_header.len() < COMMITMENT_LEN {
        return Err(Error::malformed("header: too short for a commitment"));
    }
    let (partial, stored) = full_header.split_at(full_header.len() - COMMITMENT_LEN);
    let expected = commitment(data_key, message_id, partial);
    if primitives::ct_eq(stored, &expected) {
        Ok(())
    } else {
        Err(Error::integrity(
            "header commitment does not match the data key (wrong key or tampered header)",
        ))
    }
}

/// Spec: header.md#commit-key and #commitment-calculation. The reference code
/// uses the suite's commit-KDF hash (SHA-512) for the HMAC, truncated to 32 bytes.
fn commitment(data_key: &[u8], message_id: &[u8], partial_header: &[u8]) -> [u8; COMMITMENT_LEN] {
    let commit_key = primitives::hkdf_sha512(
        data_key,
        None,
        &[COMMIT_KEY_LABEL, message_id],
        crate::suite::KEY_LEN,
    );
    let mac = primitives::hmac_sha512(commit_key.expose(), &[partial_header]);
    mac[..COMMITMENT_LEN]
        .try_into()
        .expect("HMAC-SHA512 is 64 bytes")
}

/// Serialize an encryption context as the header does: a u16 count, then
/// (u16 length, key, u16 length, value) sorted by key bytes. An empty context
/// is just the zero count. Spec: header.md#encryption-context
pub fn serialize_context(ec: &EncryptionContext) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    serialize_context_into(&mut out, ec)?;
    Ok(out)
}

fn serialize_context_into(out: &mut Vec<u8>, ec: &EncryptionContext) -> Result<()> {
    put_u16_len(out, ec.len(), "encryption context entry count")?;
    // BTreeMap<String, _> iterates in UTF-8 byte order, the order the spec requires.
    for (k, v) in ec {
        put_u16_prefixed(out, k.as_bytes(), "encryption context key")?;
        put_u16_prefixed(out, v.as_bytes(), "encryption context value")?;
    }
    Ok(())
}

fn parse_context(r: &mut Reader<'_>) -> Result<EncryptionContext> {
    let count = r.u16("encryption context count")?;
    let mut ec = EncryptionContext::new();
    for _ in 0..count {
        let k = r.u16_prefixed_utf8("encryption context key")?.to_owned();
        let v = r.u16_prefixed_utf8("encryption context value")?.to_owned();
        // Spec: header.md#key-value-pair-entries — sorted by key, ascending. As
        // the reference's GetContext2, each key must be strictly greater (in
        // bytes) than the one before, starting from the empty key: this refuses
        // duplicates, any other order and an empty key, so a header has one
        // encoding. (The spec does not name the empty key; the code wins.)
        let previous = ec.keys().next_back().map_or("", String::as_str);
        if k.as_str() <= previous {
            return Err(Error::malformed(
                "header: encryption context keys are not in strictly ascending order",
            ));
        }
        ec.insert(k, v);
    }
    Ok(ec)
}

fn put_u16_len(out: &mut Vec<u8>, len: usize, what: &str) -> Result<()> {
    let len = u16::try_from(len)
        .map_err(|_| Error::LimitExceeded(format!("{what} is {len}, more than 65535")))?;
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

fn put_u16_prefixed(out: &mut Vec<u8>, bytes: &[u8], what: &str) -> Result<()> {
    put_u16_len(out, bytes.len(), what)?;
    out.extend_from_slice(bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v1 header, suite 0x6700, no legend, the given stored context entries
    /// (in the given order, unsorted if so given), one EDK, zero commitment.
    fn header_with_context(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut bytes = vec![
            1,
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384.flavor(),
        ];
        bytes.extend_from_slice(&[0; MESSAGE_ID_LEN]);
        bytes.extend_from_slice(&[0, 0]); // legend length
        bytes.extend_from_slice(&(entries.len() as u16).to_be_bytes());
        for (k, v) in entries {
            bytes.extend_from_slice(&(k.len() as u16).to_be_bytes());
            bytes.extend_from_slice(k.as_bytes());
            bytes.extend_from_slice(&(v.len() as u16).to_be_bytes());
            bytes.extend_from_slice(v.as_bytes());
        }
        // One EDK: provider id "p", empty provider info, ciphertext "c".
        bytes.extend_from_slice(&[1, 0, 1, b'p', 0, 0, 0, 1, b'c']);
        bytes.extend_from_slice(&[0; COMMITMENT_LEN]);
        bytes
    }

    #[test]
    fn sorted_context_parses_and_round_trips() {
        let bytes = header_with_context(&[("a", "2"), ("b", "1")]);
        let header = PartialHeader::parse(&bytes).expect("a sorted context parses");
        let mut again = header.serialize().unwrap();
        again.extend_from_slice(&[0; COMMITMENT_LEN]);
        assert_eq!(again, bytes);
    }

    /// Found by the header_footer_parse fuzz target: unsorted keys parsed, and
    /// re-serialized sorted, so one header had two encodings; the official SDK
    /// refuses them, as it refuses an empty key.
    #[test]
    fn context_keys_out_of_order_duplicate_or_empty_are_malformed() {
        for entries in [
            &[("b", "1"), ("a", "2")][..],
            &[("a", "1"), ("a", "2")][..],
            &[("", "1")][..],
            &[("", "1"), ("a", "2")][..],
        ] {
            let err = PartialHeader::parse(&header_with_context(entries)).unwrap_err();
            assert_eq!(err.code(), "MALFORMED_CIPHERTEXT", "{entries:?}: {err}");
            assert!(err.to_string().contains("strictly ascending"), "{err}");
        }
    }
}
