//! Per-field encryption of terminal values.
//! Spec: structured-encryption/encrypt-structure.md#terminal-data-encryption

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::item::serialize::Terminal;
use crate::materials::SecretBytes;
use crate::primitives;
use crate::primitives::provider::CryptoProvider;
use crate::suite::{KEY_LEN, NONCE_LEN, TAG_LEN};

const FIELD_ROOT_KEY_LABEL: &[u8] = b"AWS_DBE_DERIVE_KEY";
const FIELD_KEY_NONCE_LABEL: &[u8] = b"AwsDbeField";

/// The key all field keys of one record derive from.
/// Spec: encrypt-structure.md#calculate-cipherkey-and-nonce
pub struct FieldRootKey(SecretBytes);

impl FieldRootKey {
    pub fn derive(data_key: &[u8], message_id: &[u8]) -> Self {
        FieldRootKey(primitives::hkdf_sha512(
            data_key,
            None,
            &[FIELD_ROOT_KEY_LABEL, message_id],
            KEY_LEN,
        ))
    }

    /// Cipher key and nonce of the `offset`-th encrypted field (canonical order):
    /// the first 44 bytes of AES-256-CTR keyed by the root key, starting at the
    /// counter block `"AwsDbeField" || 44 || u32(offset * 3)`.
    fn field_key(&self, offset: usize) -> Result<Zeroizing<[u8; KEY_LEN + NONCE_LEN]>> {
        let counter = u32::try_from(offset)
            .ok()
            .and_then(|o| o.checked_mul(3))
            .ok_or_else(|| Error::LimitExceeded("too many encrypted fields".into()))?;
        let mut block = [0u8; 16];
        block[..11].copy_from_slice(FIELD_KEY_NONCE_LABEL);
        block[11] = (KEY_LEN + NONCE_LEN) as u8;
        block[12..].copy_from_slice(&counter.to_be_bytes());
        let root: &[u8; KEY_LEN] = self.0.expose().try_into().expect("root key is 32 bytes");
        let stream = primitives::aes256_ctr_stream(root, &block, KEY_LEN + NONCE_LEN);
        let mut out = Zeroizing::new([0u8; KEY_LEN + NONCE_LEN]);
        out.copy_from_slice(stream.expose());
        Ok(out)
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
        let fk = self.field_key(offset)?;
        let (key, nonce) = split_field_key(&fk);
        let sealed = crypto
            .aes256_gcm_seal(key, nonce, path, &terminal.value)
            .await?;
        let mut out = Vec::with_capacity(2 + sealed.len());
        out.extend_from_slice(&terminal.type_id);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypt a stored value produced by [`FieldRootKey::encrypt`].
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
        let fk = self.field_key(offset)?;
        let (key, nonce) = split_field_key(&fk);
        let value = crypto
            .aes256_gcm_open(key, nonce, path, &stored[2..])
            .await?;
        Ok(Terminal {
            type_id: [stored[0], stored[1]],
            value,
        })
    }
}

fn split_field_key(fk: &[u8; KEY_LEN + NONCE_LEN]) -> (&[u8; KEY_LEN], &[u8; NONCE_LEN]) {
    let (key, nonce) = fk.split_at(KEY_LEN);
    (
        key.try_into().expect("KEY_LEN bytes"),
        nonce.try_into().expect("NONCE_LEN bytes"),
    )
}
