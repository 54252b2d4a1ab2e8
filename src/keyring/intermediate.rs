//! Intermediate key wrapping, the EDK wrapping algorithm of both DB-ESDK suites.
//!
//! Spec: framework/algorithm-suites.md#intermediate-key-wrapping; reference code:
//! MPL `KeyWrapping/IntermediateKeyWrapping.dfy` and `KeyWrapping/EdkWrapping.dfy`.
//!
//! For every EDK a fresh 32-byte *intermediate key* is drawn. From it:
//! - `prk = HKDF-SHA512-Extract(salt = none (64 zero bytes), ikm = intermediate key)`
//! - `pdk encryption key = HKDF-Expand(prk, "AWS_MPL_INTERMEDIATE_KEYWRAP_ENC", 32)`
//! - `symmetric signing key = HKDF-Expand(prk, "AWS_MPL_INTERMEDIATE_KEYWRAP_MAC", 32)`
//!
//! The EDK ciphertext is
//! `AES-256-GCM(pdk encryption key, IV = 12 zero bytes, AAD = serialized EC, data key)`
//! (32 bytes + 16-byte tag = 48 bytes) followed by the intermediate key as wrapped
//! by the keyring's own mechanism (raw AES, RSA, hierarchy, ...).
//!
//! Key providers implement only that last step ([`super::provider::KeyProvider`]);
//! the generic keyring of [`super::provider`] does the rest with the
//! functions here, which are public so that other code can build or check
//! compatible EDKs.

use crate::base::SecretBytes;
use crate::error::{Error, Result};
use crate::materials::EncryptedDataKey;
use crate::primitives;
use crate::primitives::provider::SecureRandom;
use crate::suite::{KEY_LEN, NONCE_LEN, TAG_LEN};

/// HKDF info for the symmetric signing key (the footer recipient-tag key).
pub const KEYWRAP_MAC_INFO: &[u8] = b"AWS_MPL_INTERMEDIATE_KEYWRAP_MAC";
/// HKDF info for the key that encrypts the plaintext data key.
pub const KEYWRAP_ENC_INFO: &[u8] = b"AWS_MPL_INTERMEDIATE_KEYWRAP_ENC";
/// Length of the intermediate key (the suite's encryption key length).
pub const INTERMEDIATE_KEY_LEN: usize = KEY_LEN;
/// Length of the symmetric signing key: the suite KDF's output length (32),
/// even though it keys HMAC-SHA384.
pub const SYMMETRIC_SIGNING_KEY_LEN: usize = 32;
/// Length of the encrypted data key at the start of every EDK ciphertext.
pub const ENCRYPTED_PDK_LEN: usize = KEY_LEN + TAG_LEN;

/// What a keyring's own mechanism produced for one intermediate key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderWrapped {
    pub key_provider_id: String,
    pub key_provider_info: Vec<u8>,
    /// The wrapped intermediate key; appended after the encrypted data key.
    pub wrapped_intermediate_key: Vec<u8>,
}

/// The two keys derived from an intermediate key.
pub struct DerivedKeys {
    pub pdk_encryption_key: SecretBytes,
    pub symmetric_signing_key: SecretBytes,
}

/// Derive the pdk encryption key and the symmetric signing key.
pub fn derive_keys(intermediate_key: &[u8]) -> DerivedKeys {
    DerivedKeys {
        pdk_encryption_key: primitives::hkdf_sha512(
            intermediate_key,
            None,
            &[KEYWRAP_ENC_INFO],
            KEY_LEN,
        ),
        symmetric_signing_key: primitives::hkdf_sha512(
            intermediate_key,
            None,
            &[KEYWRAP_MAC_INFO],
            SYMMETRIC_SIGNING_KEY_LEN,
        ),
    }
}

/// An EDK in the making: the data key is already encrypted under a key
/// derived from the intermediate key, which the provider wraps.
pub struct PendingWrap {
    intermediate: SecretBytes,
    encrypted_pdk: Vec<u8>,
    symmetric_signing_key: SecretBytes,
}

impl PendingWrap {
    /// With a fresh intermediate key drawn from `random`.
    pub fn start(
        data_key: &SecretBytes,
        serialized_ec: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<Self> {
        Self::start_with(
            data_key,
            random.secret_bytes(INTERMEDIATE_KEY_LEN)?,
            serialized_ec,
        )
    }

    /// With a given intermediate key: a fresh random one, or one the provider
    /// generated itself (AWS KMS GenerateDataKey).
    pub fn start_with(
        data_key: &SecretBytes,
        intermediate: SecretBytes,
        serialized_ec: &[u8],
    ) -> Result<Self> {
        if intermediate.len() != INTERMEDIATE_KEY_LEN {
            return Err(Error::InvalidKey(format!(
                "intermediate key must be {INTERMEDIATE_KEY_LEN} bytes, got {}",
                intermediate.len()
            )));
        }
        if data_key.len() != KEY_LEN {
            return Err(Error::InvalidKey(format!(
                "data key must be {KEY_LEN} bytes, got {}",
                data_key.len()
            )));
        }
        let keys = derive_keys(intermediate.expose());
        // A zero IV is safe: the pdk encryption key is fresh for every EDK.
        let encrypted_pdk = primitives::aes_gcm_encrypt(
            keys.pdk_encryption_key.expose(),
            &[0u8; NONCE_LEN],
            serialized_ec,
            data_key.expose(),
        )?;
        debug_assert_eq!(encrypted_pdk.len(), ENCRYPTED_PDK_LEN);
        Ok(PendingWrap {
            intermediate,
            encrypted_pdk,
            symmetric_signing_key: keys.symmetric_signing_key,
        })
    }

    /// The key the provider must wrap.
    pub fn intermediate_key(&self) -> &SecretBytes {
        &self.intermediate
    }

    /// The EDK and its symmetric signing key, once the provider has wrapped
    /// the intermediate key.
    pub fn finish(self, wrapped: ProviderWrapped) -> (EncryptedDataKey, SecretBytes) {
        let mut ciphertext =
            Vec::with_capacity(self.encrypted_pdk.len() + wrapped.wrapped_intermediate_key.len());
        ciphertext.extend_from_slice(&self.encrypted_pdk);
        ciphertext.extend_from_slice(&wrapped.wrapped_intermediate_key);
        let edk = EncryptedDataKey {
            key_provider_id: wrapped.key_provider_id,
            key_provider_info: wrapped.key_provider_info,
            ciphertext,
        };
        (edk, self.symmetric_signing_key)
    }
}

/// Split an EDK ciphertext into (encrypted data key, provider-wrapped intermediate key).
pub fn split_ciphertext(ciphertext: &[u8]) -> Result<(&[u8], &[u8])> {
    if ciphertext.len() < ENCRYPTED_PDK_LEN {
        return Err(Error::malformed(format!(
            "EDK ciphertext of {} bytes is shorter than the {ENCRYPTED_PDK_LEN}-byte encrypted data key",
            ciphertext.len()
        )));
    }
    Ok(ciphertext.split_at(ENCRYPTED_PDK_LEN))
}

/// Decrypt the encrypted data key (the first part of the EDK ciphertext, see
/// [`split_ciphertext`]) with keys derived from the unwrapped intermediate key.
/// Returns (data key, symmetric signing key).
pub fn open_data_key(
    encrypted_pdk: &[u8],
    intermediate: &SecretBytes,
    serialized_ec: &[u8],
) -> Result<(SecretBytes, SecretBytes)> {
    if intermediate.len() != INTERMEDIATE_KEY_LEN {
        return Err(Error::integrity(format!(
            "unwrapped intermediate key has {} bytes, expected {INTERMEDIATE_KEY_LEN}",
            intermediate.len()
        )));
    }
    let keys = derive_keys(intermediate.expose());
    let data_key = SecretBytes::new(
        primitives::aes_gcm_decrypt(
            keys.pdk_encryption_key.expose(),
            &[0u8; NONCE_LEN],
            serialized_ec,
            encrypted_pdk,
        )
        .map_err(|_| {
            Error::integrity(
                "the encrypted data key did not verify under the unwrapped intermediate key \
                 (wrong encryption context?)",
            )
        })?,
    );
    if data_key.len() != KEY_LEN {
        return Err(Error::integrity("unwrapped data key has the wrong length"));
    }
    Ok((data_key, keys.symmetric_signing_key))
}
