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
//! Keyrings implement only that last step, as a closure given to
//! [`encrypt_materials`] / [`decrypt_materials`]. The functions are public so
//! that custom keyrings (e.g. in the wasm layer) can produce compatible EDKs.

use crate::error::{Error, Result};
use crate::materials::{
    serialize_encryption_context, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials,
    SecretBytes,
};
use crate::primitives;
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

/// Wrap `data_key` for one recipient. `provider_wrap` receives the fresh
/// intermediate key and the serialized encryption context, and wraps the key
/// with the keyring's own mechanism. Returns the EDK and its symmetric signing key.
pub fn wrap_data_key(
    data_key: &SecretBytes,
    serialized_ec: &[u8],
    provider_wrap: impl FnOnce(&SecretBytes, &[u8]) -> Result<ProviderWrapped>,
) -> Result<(EncryptedDataKey, SecretBytes)> {
    let pending = PendingWrap::start(data_key, serialized_ec)?;
    let wrapped = provider_wrap(pending.intermediate_key(), serialized_ec)?;
    Ok(pending.finish(wrapped))
}

/// The first half of [`wrap_data_key`], for keyrings whose provider is async
/// (JavaScript callbacks, KMS): the data key is already encrypted under a key
/// derived from a fresh intermediate key, which the provider wraps next.
pub struct PendingWrap {
    intermediate: SecretBytes,
    encrypted_pdk: Vec<u8>,
    symmetric_signing_key: SecretBytes,
}

impl PendingWrap {
    pub fn start(data_key: &SecretBytes, serialized_ec: &[u8]) -> Result<Self> {
        Self::start_with(
            data_key,
            SecretBytes::random(INTERMEDIATE_KEY_LEN)?,
            serialized_ec,
        )
    }

    /// Like [`PendingWrap::start`], with an intermediate key the provider
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

/// Unwrap one EDK ciphertext. `provider_unwrap` receives the provider-wrapped
/// part and the serialized encryption context and returns the intermediate key.
/// Returns (data key, symmetric signing key).
pub fn unwrap_data_key(
    ciphertext: &[u8],
    serialized_ec: &[u8],
    provider_unwrap: impl FnOnce(&[u8], &[u8]) -> Result<SecretBytes>,
) -> Result<(SecretBytes, SecretBytes)> {
    let (encrypted_pdk, provider_part) = split_ciphertext(ciphertext)?;
    let intermediate = provider_unwrap(provider_part, serialized_ec)?;
    open_data_key(encrypted_pdk, &intermediate, serialized_ec)
}

/// The second half of [`unwrap_data_key`], for async providers: decrypt the
/// encrypted data key (the first part of the EDK ciphertext, see
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

/// The standard keyring OnEncrypt: generate the data key if the materials have
/// none, wrap it for this keyring, record the EDK and its signing key.
pub fn encrypt_materials(
    mut materials: EncryptionMaterials,
    provider_wrap: impl FnOnce(&SecretBytes, &[u8]) -> Result<ProviderWrapped>,
) -> Result<EncryptionMaterials> {
    let (pending, serialized_ec) = begin_encrypt(&mut materials)?;
    let wrapped = provider_wrap(pending.intermediate_key(), &serialized_ec)?;
    let (edk, signing_key) = pending.finish(wrapped);
    materials.add_recipient(edk, signing_key);
    Ok(materials)
}

/// The first half of [`encrypt_materials`], for keyrings whose provider is
/// async: sets the data key if the materials have none and starts wrapping it.
/// Returns the pending wrap and the serialized encryption context.
pub fn begin_encrypt(materials: &mut EncryptionMaterials) -> Result<(PendingWrap, Vec<u8>)> {
    let serialized_ec = ensure_data_key(materials)?;
    let pending = PendingWrap::start(data_key(materials)?, &serialized_ec)?;
    Ok((pending, serialized_ec))
}

/// Generate the data key if the materials have none (the MPL generates it
/// locally with intermediate wrapping, whatever the provider). Returns the
/// serialized encryption context.
pub fn ensure_data_key(materials: &mut EncryptionMaterials) -> Result<Vec<u8>> {
    let serialized_ec = serialize_encryption_context(&materials.encryption_context)?;
    if materials.plaintext_data_key.is_none() {
        materials.set_plaintext_data_key(SecretBytes::random(KEY_LEN)?)?;
    }
    Ok(serialized_ec)
}

/// The materials' data key; an error if a keyring runs before one is set.
pub fn data_key(materials: &EncryptionMaterials) -> Result<&SecretBytes> {
    materials
        .plaintext_data_key
        .as_ref()
        .ok_or_else(|| Error::InvalidConfig("encryption materials have no data key yet".into()))
}

/// The standard keyring OnDecrypt. Materials that already hold a data key are
/// returned unchanged. Otherwise each EDK accepted by `is_mine` is tried in
/// order with `provider_unwrap` (which gets the EDK, the provider-wrapped part
/// of its ciphertext and the serialized encryption context); the first that
/// opens completely wins. If none does: [`Error::NoMatchingKey`], naming the
/// providers seen and why each candidate failed. `keyring` describes the
/// keyring for that message (no key bytes).
pub fn decrypt_materials(
    mut materials: DecryptionMaterials,
    encrypted_data_keys: &[EncryptedDataKey],
    keyring: &str,
    is_mine: impl Fn(&EncryptedDataKey) -> bool,
    mut provider_unwrap: impl FnMut(&EncryptedDataKey, &[u8], &[u8]) -> Result<SecretBytes>,
) -> Result<DecryptionMaterials> {
    if materials.plaintext_data_key.is_some() {
        return Ok(materials);
    }
    let serialized_ec = serialize_encryption_context(&materials.encryption_context)?;
    let mut reasons = Vec::new();
    for (i, edk) in encrypted_data_keys.iter().enumerate() {
        if !is_mine(edk) {
            continue;
        }
        match unwrap_data_key(&edk.ciphertext, &serialized_ec, |part, ec| {
            provider_unwrap(edk, part, ec)
        }) {
            Ok((data_key, signing_key)) => {
                materials.set_keys(data_key, signing_key)?;
                return Ok(materials);
            }
            Err(e) => reasons.push(format!("EDK #{i}: {e}")),
        }
    }
    Err(no_matching_key(keyring, encrypted_data_keys, &reasons))
}

/// The error of a keyring whose provider was asked and failed for some EDKs
/// (`failures`) and declined or could not use others (`declined`): a
/// provider failure if any call failed, else "no matching key".
pub fn none_opened(
    keyring: &str,
    encrypted_data_keys: &[EncryptedDataKey],
    mut failures: Vec<String>,
    declined: Vec<String>,
) -> Error {
    if failures.is_empty() {
        return no_matching_key(keyring, encrypted_data_keys, &declined);
    }
    failures.extend(declined);
    Error::KeyProviderFailure(format!(
        "{keyring}: no encrypted data key opened: {}",
        failures.join("; ")
    ))
}

/// The error of a keyring that opened none of `encrypted_data_keys`;
/// `reasons` says why each EDK it tried failed.
pub fn no_matching_key(
    keyring: &str,
    encrypted_data_keys: &[EncryptedDataKey],
    reasons: &[String],
) -> Error {
    let detail = if encrypted_data_keys.is_empty() {
        format!("{keyring}: there are no encrypted data keys")
    } else if reasons.is_empty() {
        format!("{keyring}: no encrypted data key is for this keyring")
    } else {
        format!("{keyring}: {}", reasons.join("; "))
    };
    Error::NoMatchingKey {
        providers_seen: providers_seen(encrypted_data_keys),
        detail,
    }
}

/// The distinct provider ids of `edks`, in order of first appearance.
pub fn providers_seen(edks: &[EncryptedDataKey]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for edk in edks {
        if !seen.contains(&edk.key_provider_id) {
            seen.push(edk.key_provider_id.clone());
        }
    }
    seen
}
