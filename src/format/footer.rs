//! The record footer, stored in `aws_dbe_foot`: one HMAC recipient tag per
//! encrypted data key, then (suite 0x6701) an ECDSA P-384 signature, both over
//! the canonical hash of the record.
//! Spec: structured-encryption/footer.md

use crate::codec::{self, EmptyContext};
use crate::error::{Error, Result};
use crate::materials::EncryptionContext;
use crate::primitives;
use crate::primitives::provider::CryptoProvider;
use crate::suite::{RECIPIENT_TAG_LEN, SIGNATURE_LEN};

/// A signed field as it enters the canonical hash.
pub enum CanonicalField<'a> {
    /// `sealed` is the stored value: type id (2 bytes) || ciphertext || tag.
    Encrypted { path: &'a [u8], sealed: &'a [u8] },
    Plaintext {
        path: &'a [u8],
        type_id: [u8; 2],
        value: &'a [u8],
    },
}

/// SHA-384 of the canonical record: header, context, then every signed field
/// in canonical-path order. Spec: footer.md#canonical-hash
pub async fn canonical_hash<'a>(
    crypto: &CryptoProvider,
    full_header: &[u8],
    encryption_context: &EncryptionContext,
    fields: impl IntoIterator<Item = CanonicalField<'a>>,
) -> Result<[u8; 48]> {
    let aad = codec::serialize_context(encryption_context, EmptyContext::ZeroCount)?;
    let fields: Vec<CanonicalField<'a>> = fields.into_iter().collect();
    let mut lengths: Vec<[u8; 8]> = Vec::with_capacity(fields.len() + 1);
    lengths.push((aad.len() as u64).to_be_bytes());
    for field in &fields {
        let len = match field {
            CanonicalField::Encrypted { sealed, .. } => sealed
                .len()
                .checked_sub(2)
                .ok_or_else(|| Error::malformed("encrypted field shorter than its type id"))?,
            CanonicalField::Plaintext { value, .. } => value.len(),
        };
        lengths.push((len as u64).to_be_bytes());
    }
    let mut parts: Vec<&[u8]> = Vec::with_capacity(3 + 5 * fields.len());
    parts.extend([full_header, &lengths[0], &aad]);
    for (field, len) in fields.iter().zip(&lengths[1..]) {
        match field {
            // Spec: footer.md#canonical-encrypted-field
            CanonicalField::Encrypted { path, sealed } => {
                parts.extend([*path, len, b"ENCRYPTED", *sealed])
            }
            // Spec: footer.md#canonical-plaintext-field
            CanonicalField::Plaintext {
                path,
                type_id,
                value,
            } => parts.extend([*path, len, b"PLAINTEXT", type_id, *value]),
        }
    }
    crypto.sha384(&parts).await
}

/// The recipient tag for one symmetric signing key. Spec: footer.md#recipient-tags
pub fn recipient_tag(
    symmetric_signing_key: &[u8],
    canonical_hash: &[u8],
) -> [u8; RECIPIENT_TAG_LEN] {
    primitives::hmac_sha384(symmetric_signing_key, &[canonical_hash])
}

/// A parsed footer. Spec: footer.md#footer-format
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footer {
    pub tags: Vec<[u8; RECIPIENT_TAG_LEN]>,
    pub signature: Option<Vec<u8>>,
}

impl Footer {
    pub fn serialize(&self) -> Vec<u8> {
        let sig_len = self.signature.as_ref().map_or(0, Vec::len);
        let mut out = Vec::with_capacity(self.tags.len() * RECIPIENT_TAG_LEN + sig_len);
        for tag in &self.tags {
            out.extend_from_slice(tag);
        }
        if let Some(sig) = &self.signature {
            out.extend_from_slice(sig);
        }
        out
    }

    /// Parse a footer for a record with `edk_count` data keys.
    pub fn parse(bytes: &[u8], signed: bool, edk_count: usize) -> Result<Footer> {
        let sig_len = if signed { SIGNATURE_LEN } else { 0 };
        let expected = edk_count * RECIPIENT_TAG_LEN + sig_len;
        // The header, already checked against the commitment key, fixes the
        // footer's length: a footer of another length was altered (cut or
        // padded), so it fails verification rather than parsing.
        if bytes.len() != expected {
            return Err(Error::integrity(format!(
                "footer is {} bytes; {edk_count} data key(s){} need {expected}",
                bytes.len(),
                if signed { " and a signature" } else { "" }
            )));
        }
        let (tags, sig) = bytes.split_at(edk_count * RECIPIENT_TAG_LEN);
        Ok(Footer {
            tags: tags
                .chunks_exact(RECIPIENT_TAG_LEN)
                .map(|c| c.try_into().expect("exact chunk"))
                .collect(),
            signature: signed.then(|| sig.to_vec()),
        })
    }

    /// At least one tag must match the one computed with our key, compared in
    /// constant time. Spec: footer.md#recipient-tag-verification
    pub fn verify_recipient_tag(
        &self,
        symmetric_signing_key: &[u8],
        canonical_hash: &[u8],
    ) -> Result<()> {
        let expected = recipient_tag(symmetric_signing_key, canonical_hash);
        let mut found = false;
        for tag in &self.tags {
            found |= primitives::ct_eq(tag, &expected);
        }
        if found {
            Ok(())
        } else {
            Err(Error::integrity(
                "no recipient tag in the footer matches (the item was modified)",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::path::canonical_path;
    use crate::format::test_vector as tv;
    use crate::primitives::signature::{self, RustCryptoEcdsa};
    use crate::suite::SIGNATURE_LEN;

    /// The official record's canonical hash: header, context, then Junk,
    /// Stuff (encrypted) and RecNum (plaintext N "1") in canonical order.
    fn official_hash() -> [u8; 48] {
        let (junk, stuff) = (tv::bytes(tv::JUNK), tv::bytes(tv::STUFF));
        let paths: Vec<Vec<u8>> = ["Junk", "Stuff", "RecNum"]
            .iter()
            .map(|n| canonical_path(tv::TABLE, n))
            .collect();
        let fields = [
            CanonicalField::Encrypted {
                path: &paths[0],
                sealed: &junk,
            },
            CanonicalField::Encrypted {
                path: &paths[1],
                sealed: &stuff,
            },
            CanonicalField::Plaintext {
                path: &paths[2],
                type_id: [0x00, 0x02],
                value: b"1",
            },
        ];
        let crypto = CryptoProvider::default();
        let header = tv::bytes(tv::HEADER);
        pollster::block_on(canonical_hash(
            &crypto,
            &header,
            &tv::encryption_context(),
            fields,
        ))
        .unwrap()
    }

    /// Known answer: the canonical hash of the official record matches its
    /// official recipient tag and signature, and the footer round-trips.
    #[test]
    fn official_footer_round_trips_and_verifies() {
        let official = tv::bytes(tv::FOOTER);
        let footer = Footer::parse(&official, true, 1).unwrap();
        assert_eq!(footer.serialize(), official);
        let hash = official_hash();
        let key = tv::bytes(tv::SIGNING_KEY);
        assert_eq!(recipient_tag(&key, &hash), footer.tags[0]);
        footer.verify_recipient_tag(&key, &hash).unwrap();
        let sig = footer.signature.as_deref().unwrap();
        assert_eq!(sig.len(), SIGNATURE_LEN);
        pollster::block_on(signature::verify(
            &RustCryptoEcdsa,
            tv::PUBLIC_KEY,
            &hash,
            sig,
        ))
        .unwrap();
    }

    #[test]
    fn changed_hash_or_key_fails_the_recipient_tag() {
        let footer = Footer::parse(&tv::bytes(tv::FOOTER), true, 1).unwrap();
        let key = tv::bytes(tv::SIGNING_KEY);
        let mut hash = official_hash();
        hash[47] ^= 0x01;
        let err = footer.verify_recipient_tag(&key, &hash).unwrap_err();
        assert_eq!(err.code(), "INTEGRITY_FAILURE");
        let mut other_key = key.clone();
        other_key[0] ^= 0x01;
        let err = footer
            .verify_recipient_tag(&other_key, &official_hash())
            .unwrap_err();
        assert_eq!(err.code(), "INTEGRITY_FAILURE");
    }

    /// Only exactly `tags + signature` bytes parse; any other length,
    /// truncated or extended, fails verification (the verified header fixes
    /// the length).
    #[test]
    fn footer_of_any_other_length_does_not_verify() {
        let official = tv::bytes(tv::FOOTER);
        for signed in [true, false] {
            for edk_count in 0..3 {
                let want = edk_count * RECIPIENT_TAG_LEN + if signed { SIGNATURE_LEN } else { 0 };
                let bytes: Vec<u8> = official.iter().cycle().take(want + 2).copied().collect();
                for len in 0..=want + 2 {
                    match Footer::parse(&bytes[..len], signed, edk_count) {
                        Ok(f) => {
                            assert_eq!(len, want);
                            assert_eq!(f.tags.len(), edk_count);
                            assert_eq!(f.signature.is_some(), signed);
                            assert_eq!(f.serialize(), &bytes[..len]);
                        }
                        Err(e) => {
                            assert_ne!(len, want);
                            assert_eq!(e.code(), "INTEGRITY_FAILURE");
                        }
                    }
                }
            }
        }
    }
}
