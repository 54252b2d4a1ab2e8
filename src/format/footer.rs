//! The record footer, stored in `aws_dbe_foot`: one HMAC recipient tag per
//! encrypted data key, then (suite 0x6701) an ECDSA P-384 signature, both over
//! the canonical hash of the record.
//! Spec: structured-encryption/footer.md

use sha2::{Digest, Sha384};

use crate::error::{Error, Result};
use crate::format::header;
use crate::materials::EncryptionContext;
use crate::primitives;
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
pub fn canonical_hash<'a>(
    full_header: &[u8],
    encryption_context: &EncryptionContext,
    fields: impl IntoIterator<Item = CanonicalField<'a>>,
) -> Result<[u8; 48]> {
    let mut h = Sha384::new();
    h.update(full_header);
    let aad = header::serialize_context(encryption_context)?;
    h.update((aad.len() as u64).to_be_bytes());
    h.update(&aad);
    for field in fields {
        match field {
            // Spec: footer.md#canonical-encrypted-field
            CanonicalField::Encrypted { path, sealed } => {
                if sealed.len() < 2 {
                    return Err(Error::malformed("encrypted field shorter than its type id"));
                }
                h.update(path);
                h.update(((sealed.len() - 2) as u64).to_be_bytes());
                h.update(b"ENCRYPTED");
                h.update(sealed);
            }
            // Spec: footer.md#canonical-plaintext-field
            CanonicalField::Plaintext {
                path,
                type_id,
                value,
            } => {
                h.update(path);
                h.update((value.len() as u64).to_be_bytes());
                h.update(b"PLAINTEXT");
                h.update(type_id);
                h.update(value);
            }
        }
    }
    Ok(h.finalize().into())
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
        if bytes.len() != expected {
            return Err(Error::malformed(format!(
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
