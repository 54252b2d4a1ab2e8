//! The record header, stored in `aws_dbe_head`.
//! Spec: structured-encryption/header.md

use crate::codec::{self, Reader, Writer};
use crate::error::{Error, Result};
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
        let mut w = Writer(&mut out);
        w.u8(self.version as u8);
        w.u8(self.suite.flavor());
        w.bytes(&self.message_id);
        // Spec: header.md#encrypt-legend
        w.u16_len(self.legend.len(), "encrypt legend")?;
        for entry in &self.legend {
            w.u8(entry.byte());
        }
        codec::write_context(&mut w, &self.encryption_context)?;
        write_data_keys(&mut w, &self.encrypted_data_keys)?;
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
        let encryption_context = codec::read_context(&mut r)?;
        let encrypted_data_keys = read_data_keys(&mut r)?;
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

/// Spec: header.md#encrypted-data-keys — a u8 count (1 to 255), then per
/// key its provider id, provider info and ciphertext, each u16-prefixed.
fn write_data_keys(w: &mut Writer<'_>, edks: &[EncryptedDataKey]) -> Result<()> {
    let count = edks.len();
    if count == 0 || count > u8::MAX as usize {
        return Err(Error::LimitExceeded(format!(
            "a record needs 1 to 255 encrypted data keys, got {count}"
        )));
    }
    w.u8(count as u8);
    for edk in edks {
        w.u16_prefixed(edk.key_provider_id.as_bytes(), "key provider id")?;
        w.u16_prefixed(&edk.key_provider_info, "key provider info")?;
        w.u16_prefixed(&edk.ciphertext, "encrypted data key")?;
    }
    Ok(())
}

/// Spec: header.md#encrypted-data-keys
fn read_data_keys(r: &mut Reader<'_>) -> Result<Vec<EncryptedDataKey>> {
    let count = r.u8("encrypted data key count")?;
    if count == 0 {
        return Err(Error::malformed("header: no encrypted data keys"));
    }
    let mut edks = Vec::with_capacity(count as usize);
    for _ in 0..count {
        edks.push(EncryptedDataKey {
            key_provider_id: r.u16_prefixed_utf8("key provider id")?.to_owned(),
            key_provider_info: r.u16_prefixed("key provider info")?.to_vec(),
            ciphertext: r.u16_prefixed("encrypted data key")?.to_vec(),
        });
    }
    Ok(edks)
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

    use crate::format::test_vector as tv;

    /// Known answer: the official header parses, and sealing it again with
    /// the record's data key gives the official bytes, commitment included.
    #[test]
    fn official_header_round_trips_with_its_commitment() {
        let official = tv::bytes(tv::HEADER);
        let data_key = tv::bytes(tv::DATA_KEY);
        let header = PartialHeader::parse(&official).unwrap();
        assert_eq!(header.version, Version::V1);
        assert_eq!(
            header.suite,
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384
        );
        use LegendEntry::{EncryptAndSign as E, SignOnly as S};
        assert_eq!(header.legend, [E, E, S]);
        assert_eq!(header.message_id.to_vec(), tv::message_id());
        assert_eq!(header.encrypted_data_keys.len(), 1);
        assert_eq!(
            header.encrypted_data_keys[0].key_provider_id,
            "aws-kms-hierarchy"
        );
        assert_eq!(header.seal(&data_key).unwrap(), official);
        verify_commitment(&official, &data_key, &header.message_id).unwrap();
    }

    #[test]
    fn truncated_or_extended_official_header_is_malformed() {
        let official = tv::bytes(tv::HEADER);
        for cut in 0..official.len() {
            let err = PartialHeader::parse(&official[..cut]).unwrap_err();
            assert_eq!(err.code(), "MALFORMED_CIPHERTEXT", "cut at {cut}: {err}");
        }
        let mut longer = official.clone();
        longer.push(0);
        let err = PartialHeader::parse(&longer).unwrap_err();
        assert!(err.to_string().contains("unexpected bytes"), "{err}");
    }

    /// Every single-bit change either stops the header parsing or fails its
    /// commitment; so does the wrong data key.
    #[test]
    fn tampered_official_header_fails_parse_or_commitment() {
        let official = tv::bytes(tv::HEADER);
        let data_key = tv::bytes(tv::DATA_KEY);
        for i in 0..official.len() {
            let mut tampered = official.clone();
            tampered[i] ^= 0x01;
            match PartialHeader::parse(&tampered) {
                Err(e) => assert_eq!(e.code(), "MALFORMED_CIPHERTEXT", "byte {i}: {e}"),
                Ok(h) => {
                    let err = verify_commitment(&tampered, &data_key, &h.message_id).unwrap_err();
                    assert_eq!(err.code(), "INTEGRITY_FAILURE", "byte {i}: {err}");
                }
            }
        }
        let mut wrong_key = data_key.clone();
        wrong_key[0] ^= 0x80;
        let err = verify_commitment(&official, &wrong_key, &tv::message_id()).unwrap_err();
        assert_eq!(err.code(), "INTEGRITY_FAILURE");
    }

    #[test]
    fn edk_count_outside_1_to_255_does_not_serialize() {
        let mut header = PartialHeader::parse(&tv::bytes(tv::HEADER)).unwrap();
        let edk = header.encrypted_data_keys[0].clone();
        for count in [0, 256] {
            header.encrypted_data_keys = vec![edk.clone(); count];
            let err = header.serialize().unwrap_err();
            assert_eq!(err.code(), "LIMIT_EXCEEDED", "{count}: {err}");
        }
        header.encrypted_data_keys = vec![edk; 255];
        let bytes = header.seal(&[0; 32]).unwrap();
        assert_eq!(PartialHeader::parse(&bytes).unwrap(), header);
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
