//! The record footer, stored in `aws_dbe_foot`: one HMAC recipient tag per
//! encrypted data key, then (suite 0x6701) an ECDSA P-384 signature, both over
//! the canonical hash of the record.
//! Spec: structured-encryption/footer.md

use crate::error::{Error, Result};
use crate::format::header;
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
    let aad = header::serialize_context(encryption_context)?;
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
