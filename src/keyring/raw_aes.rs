//! Raw AES keyring. Spec: framework/raw-aes-keyring.md; reference code: MPL
//! `Keyrings/RawAESKeyring.dfy`.
//!
//! EDK (with intermediate key wrapping, see [`super::intermediate`]):
//! - key provider id: the key namespace (UTF-8)
//! - key provider info: `key name || 128u32 BE (tag bits) || 12u32 BE (IV bytes) || IV(12)`
//! - ciphertext: `encrypted data key (48) || AES-GCM(wrapping key, IV,
//!   AAD = serialized encryption context, intermediate key (32)) || tag(16)`, 96 bytes.

use async_trait::async_trait;

use crate::base::SecretBytes;
use crate::error::{Error, Result};
use crate::keyring::intermediate::ProviderWrapped;
use crate::keyring::provider::{
    BrokenEdks, Claim, KeyProvider, UnwrapRequest, Unwrapped, WrapRequest, Wrapped,
};
use crate::materials::{EncryptedDataKey, KeyUse};
use crate::primitives;
use crate::suite::{NONCE_LEN, TAG_LEN};

const TAG_LEN_BITS: u32 = (TAG_LEN * 8) as u32;

/// Wraps data keys under a local AES-128/192/256 key with AES-GCM.
pub struct RawAesKeyring {
    key_namespace: String,
    key_name: String,
    wrapping_key: SecretBytes,
}

impl RawAesKeyring {
    /// `wrapping_key` must be 16, 24 or 32 bytes.
    pub fn new(key_namespace: &str, key_name: &str, wrapping_key: &[u8]) -> Result<Self> {
        check_namespace_and_name(key_namespace, key_name)?;
        if !matches!(wrapping_key.len(), 16 | 24 | 32) {
            return Err(Error::InvalidKey(format!(
                "raw AES wrapping key must be 16, 24 or 32 bytes, got {}",
                wrapping_key.len()
            )));
        }
        Ok(RawAesKeyring {
            key_namespace: key_namespace.to_owned(),
            key_name: key_name.to_owned(),
            wrapping_key: SecretBytes::from_slice(wrapping_key),
        })
    }

    /// `key name || tag length in bits (u32 BE) || IV length (u32 BE) || IV`.
    fn provider_info(&self, iv: &[u8; NONCE_LEN]) -> Vec<u8> {
        let mut info = Vec::with_capacity(self.key_name.len() + 8 + NONCE_LEN);
        info.extend_from_slice(self.key_name.as_bytes());
        info.extend_from_slice(&TAG_LEN_BITS.to_be_bytes());
        info.extend_from_slice(&(NONCE_LEN as u32).to_be_bytes());
        info.extend_from_slice(iv);
        info
    }

    /// The IV, if `info` is a well-formed provider info for this keyring's key name.
    fn iv_from_provider_info<'a>(&self, info: &'a [u8]) -> Option<&'a [u8]> {
        let name = self.key_name.as_bytes();
        if info.len() != name.len() + 8 + NONCE_LEN || !info.starts_with(name) {
            return None;
        }
        let rest = &info[name.len()..];
        let tag_bits = u32::from_be_bytes(rest[0..4].try_into().ok()?);
        let iv_len = u32::from_be_bytes(rest[4..8].try_into().ok()?);
        (tag_bits == TAG_LEN_BITS && iv_len == NONCE_LEN as u32).then(|| &rest[8..])
    }
}

impl RawAesKeyring {
    /// The key's name for audit events: the provider info also holds the IV.
    fn key_use(&self) -> KeyUse {
        KeyUse {
            key_provider_id: self.key_namespace.clone(),
            key: self.key_name.clone(),
            version: None,
            cache_hit: false,
        }
    }
}

/// Shared by the raw keyrings: the MPL refuses the namespace "aws-kms" and
/// names or namespaces that do not fit the u16 length prefixes.
pub(crate) fn check_namespace_and_name(key_namespace: &str, key_name: &str) -> Result<()> {
    if key_namespace == "aws-kms" {
        return Err(Error::InvalidConfig(
            "a raw keyring's key namespace must not be \"aws-kms\"".into(),
        ));
    }
    if key_namespace.len() > u16::MAX as usize || key_name.len() > u16::MAX as usize {
        return Err(Error::InvalidConfig(
            "key namespace and key name must each be at most 65535 bytes".into(),
        ));
    }
    Ok(())
}

impl std::fmt::Debug for RawAesKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawAesKeyring")
            .field("key_namespace", &self.key_namespace)
            .field("key_name", &self.key_name)
            .finish_non_exhaustive()
    }
}

#[async_trait(?Send)]
impl KeyProvider for RawAesKeyring {
    fn describe(&self) -> String {
        format!(
            "raw AES keyring (namespace {:?}, name {:?})",
            self.key_namespace, self.key_name
        )
    }

    /// An EDK naming this keyring's namespace and key name is this key's
    /// (raw-aes-keyring.md: the two identify the wrapping key), and its
    /// AES-GCM tag covers the record's encryption context (its table and key
    /// attributes). So a tag that fails means the record was altered or
    /// moved, e.g. a row copied under another primary key, and is reported
    /// as `INTEGRITY_FAILURE`, as the KMS and hierarchical keyrings report
    /// it, not as a missing key; the message also names the other cause, key
    /// material that differs under the same name.
    fn broken_edks(&self) -> BrokenEdks {
        BrokenEdks::KeepCode
    }

    async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped> {
        let intermediate_key = request.fresh_intermediate_key()?;
        let iv: [u8; NONCE_LEN] = request.random.array()?;
        let wrapped = primitives::aes_gcm_encrypt(
            self.wrapping_key.expose(),
            &iv,
            request.serialized_ec,
            intermediate_key.expose(),
        )?;
        Ok(Wrapped {
            intermediate_key,
            edk: ProviderWrapped {
                key_provider_id: self.key_namespace.clone(),
                key_provider_info: self.provider_info(&iv),
                wrapped_intermediate_key: wrapped,
            },
            key_use: Some(self.key_use()),
        })
    }

    fn claim(&self, _index: usize, edk: &EncryptedDataKey) -> Result<Claim> {
        let mine = edk.key_provider_id == self.key_namespace
            && self.iv_from_provider_info(&edk.key_provider_info).is_some();
        Ok(if mine { Claim::Mine } else { Claim::Skip })
    }

    async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped> {
        let iv = self
            .iv_from_provider_info(&request.edk.key_provider_info)
            .ok_or_else(|| Error::malformed("raw AES provider info"))?;
        let wrapped = request.wrapped;
        if wrapped.len() < TAG_LEN {
            return Err(Error::malformed(format!(
                "raw AES wrapped key of {} bytes is shorter than its tag",
                wrapped.len()
            )));
        }
        let key = primitives::aes_gcm_decrypt(
            self.wrapping_key.expose(),
            iv,
            request.serialized_ec,
            wrapped,
        )
        .map_err(|_| {
            Error::integrity(
                "the wrapped data key did not verify under this key and the record's \
                 encryption context: the record was altered or moved (e.g. under another \
                 primary key), or this key name holds other key material",
            )
        })?;
        Ok(Unwrapped::Key(SecretBytes::new(key), Some(self.key_use())))
    }
}
