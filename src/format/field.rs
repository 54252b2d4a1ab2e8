//! Per-field encryption of terminal values.
//! Spec: structured-encryption/encrypt-structure.md#terminal-data-encryption

use crate::error::{Error, Result};
use crate::item::serialize::Terminal;
use crate::materials::SecretBytes;
use crate::primitives;
use crate::primitives::provider::CryptoProvider;
use crate::suite::{KEY_LEN, NONCE_LEN, TAG_LEN};

const FIELD_ROOT_KEY_LABEL: &[u8] = b"AWS_DBE_DERIVE_KEY";
const FIELD_KEY_NONCE_LABEL: &[u8] = b"AwsDbeField";

/// The cipher keys and nonces of one record's encrypted fields.
/// Spec: encrypt-structure.md#calculate-cipherkey-and-nonce
pub struct FieldKeys(SecretBytes);

/// Field `k`'s key and nonce are the first 44 bytes of AES-256-CTR from the
/// counter block `"AwsDbeField" || 44 || u32(k * 3)`: three blocks a field.
const BYTES_PER_FIELD: usize = 48;

impl FieldKeys {
    /// The keys of `count` encrypted fields, from the record's data key and
    /// message id. Fields own consecutive runs of three counter blocks, so one
    /// keystream from counter 0 (one AES key schedule) holds every field's
    /// key and nonce, `BYTES_PER_FIELD` apart.
    pub fn derive(data_key: &[u8], message_id: &[u8], count: usize) -> Result<Self> {
        let too_many = || Error::LimitExceeded("too many encrypted fields".into());
        u32::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(3))
            .ok_or_else(too_many)?;
        let root =
            primitives::hkdf_sha512(data_key, None, &[FIELD_ROOT_KEY_LABEL, message_id], KEY_LEN);
        let root: &[u8; KEY_LEN] = root.expose().try_into().expect("root key is 32 bytes");
        let mut block = [0u8; 16];
        block[..11].copy_from_slice(FIELD_KEY_NONCE_LABEL);
        block[11] = (KEY_LEN + NONCE_LEN) as u8;
        let len = count.checked_mul(BYTES_PER_FIELD).ok_or_else(too_many)?;
        Ok(FieldKeys(primitives::aes256_ctr_stream(root, &block, len)))
    }

    /// Key and nonce of the `offset`-th encrypted field (canonical order).
    fn field_key(&self, offset: usize) -> Result<(&[u8; KEY_LEN], &[u8; NONCE_LEN])> {
        let start = offset * BYTES_PER_FIELD;
        let entry = self
            .0
            .expose()
            .get(start..start + KEY_LEN + NONCE_LEN)
            .ok_or_else(|| Error::LimitExceeded(format!("no key for encrypted field {offset}")))?;
        let (key, nonce) = entry.split_at(KEY_LEN);
        Ok((
            key.try_into().expect("KEY_LEN bytes"),
            nonce.try_into().expect("NONCE_LEN bytes"),
        ))
    }

    /// Encrypt one terminal; the result is the stored `B` value:
    /// type id || ciphertext || tag. The canonical path is the AAD.
    pub async fn encrypt(
        &self,
        crypto: &CryptoProvider,
        offset: usize,
        path: &[u8],
        terminal: &Terminal,
    ) -> Result<Vec<u8>> {
        let (key, nonce) = self.field_key(offset)?;
        let sealed = crypto
            .aes256_gcm_seal(key, nonce, path, &terminal.value)
            .await?;
        let mut out = Vec::with_capacity(2 + sealed.len());
        out.extend_from_slice(&terminal.type_id);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypt a stored value produced by [`FieldKeys::encrypt`].
    /// Spec: decrypt-structure.md#terminal-data-decryption
    pub async fn decrypt(
        &self,
        crypto: &CryptoProvider,
        offset: usize,
        path: &[u8],
        stored: &[u8],
    ) -> Result<Terminal> {
        if stored.len() < 2 + TAG_LEN {
            return Err(Error::malformed(format!(
                "encrypted field is {} bytes, shorter than type id and tag",
                stored.len()
            )));
        }
        let (key, nonce) = self.field_key(offset)?;
        let value = crypto
            .aes256_gcm_open(key, nonce, path, &stored[2..])
            .await?;
        Ok(Terminal {
            type_id: [stored[0], stored[1]],
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::path::canonical_path;
    use crate::format::test_vector as tv;

    fn official_keys() -> FieldKeys {
        FieldKeys::derive(&tv::bytes(tv::DATA_KEY), &tv::message_id(), 2).unwrap()
    }

    fn open(keys: &FieldKeys, offset: usize, name: &str, stored: &[u8]) -> Result<Terminal> {
        let crypto = CryptoProvider::default();
        let path = canonical_path(tv::TABLE, name);
        pollster::block_on(keys.decrypt(&crypto, offset, &path, stored))
    }

    /// Known answer for field key and nonce derivation: the keys derived from
    /// the official record's data key and message id open its fields, and
    /// sealing the plaintext again gives the official bytes exactly. Offsets
    /// count encrypted fields in canonical order: Junk (4 letters) before Stuff.
    #[test]
    fn official_fields_open_and_seal_to_the_official_bytes() {
        let keys = official_keys();
        let crypto = CryptoProvider::default();
        for (offset, name, stored, plain) in [
            (0, "Junk", tv::JUNK, "JunkData"),
            (1, "Stuff", tv::STUFF, "StuffData"),
        ] {
            let stored = tv::bytes(stored);
            let terminal = open(&keys, offset, name, &stored).unwrap();
            assert_eq!(terminal.type_id, [0x00, 0x01]);
            assert_eq!(terminal.value, plain.as_bytes());
            let path = canonical_path(tv::TABLE, name);
            let again = pollster::block_on(keys.encrypt(&crypto, offset, &path, &terminal));
            assert_eq!(again.unwrap(), stored);
        }
    }

    /// The AES-GCM tag covers ciphertext, key, nonce and path (the type id is
    /// covered by the footer's canonical hash instead).
    #[test]
    fn tampered_truncated_or_misplaced_fields_do_not_open() {
        let keys = official_keys();
        let junk = tv::bytes(tv::JUNK);
        for i in 2..junk.len() {
            let mut tampered = junk.clone();
            tampered[i] ^= 0x01;
            let err = open(&keys, 0, "Junk", &tampered).unwrap_err();
            assert_eq!(err.code(), "INTEGRITY_FAILURE", "byte {i}");
        }
        for len in 0..junk.len() {
            let code = if len < 2 + TAG_LEN {
                "MALFORMED_CIPHERTEXT"
            } else {
                "INTEGRITY_FAILURE"
            };
            assert_eq!(
                open(&keys, 0, "Junk", &junk[..len]).unwrap_err().code(),
                code,
                "{len}"
            );
        }
        assert_eq!(
            open(&keys, 1, "Junk", &junk).unwrap_err().code(),
            "INTEGRITY_FAILURE"
        );
        assert_eq!(
            open(&keys, 0, "Stuff", &junk).unwrap_err().code(),
            "INTEGRITY_FAILURE"
        );
        assert_eq!(
            open(&keys, 2, "Junk", &junk).unwrap_err().code(),
            "LIMIT_EXCEEDED"
        );
    }
}
