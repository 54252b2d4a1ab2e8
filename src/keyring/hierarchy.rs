//! The hierarchical keyring: its EDK format ([`BranchKey`]), with a static
//! branch key ([`StaticBranchKeyKeyring`]) or a branch key store
//! ([`AwsKmsHierarchicalKeyring`], in [`stored`]).
//! Spec: framework/aws-kms/aws-kms-hierarchical-keyring.md; reference code:
//! MPL `Keyrings/AwsKms/AwsKmsHierarchicalKeyring.dfy`, `KDF/KdfCtr.dfy`.
//!
//! EDK (with intermediate key wrapping, see [`super::intermediate`]):
//! - key provider id: `"aws-kms-hierarchy"`
//! - key provider info: the branch key id, UTF-8
//! - ciphertext (140 bytes): `encrypted data key (48) || salt (16) || IV (12) ||
//!   branch key version as 16 raw UUID bytes || wrapped intermediate key (32) || tag (16)`
//!
//! Wrapping key: `KDF-CTR-HMAC-SHA256(branch key, label "aws-kms-hierarchy",
//! context = salt, 32 bytes)`, i.e. `HMAC-SHA256(branch key, 00000001 ||
//! "aws-kms-hierarchy" || 00 || salt || 00000100)`.
//! AES-256-GCM AAD: `"aws-kms-hierarchy" || branch key id (UTF-8) ||
//! version (16 raw bytes) || serialized encryption context`.

pub mod stored;

pub use stored::{AwsKmsHierarchicalKeyring, BranchKeyIdSupplier, HierarchicalKeyringConfig};

use async_trait::async_trait;

use crate::base::SecretBytes;
use crate::error::{Error, Result};
use crate::keyring::intermediate::{self, ProviderWrapped};
use crate::keyring::provider::{
    Claim, KeyProvider, UnwrapRequest, Unwrapped, WrapRequest, Wrapped,
};
use crate::materials::EncryptedDataKey;
use crate::primitives;
use crate::suite::{KEY_LEN, NONCE_LEN, TAG_LEN};

/// Key provider id of hierarchical keyring EDKs; also the KDF label and AAD prefix.
pub const PROVIDER_ID_HIERARCHY: &str = "aws-kms-hierarchy";
const SALT_LEN: usize = 16;
const VERSION_LEN: usize = 16;
const VERSION_START: usize = SALT_LEN + NONCE_LEN;
const WRAPPED_START: usize = VERSION_START + VERSION_LEN;
/// Length of the provider-wrapped part: salt, IV, version, wrapped key, tag.
const PROVIDER_WRAPPED_LEN: usize = WRAPPED_START + KEY_LEN + TAG_LEN;

/// One branch key (id, version, key): the hierarchical keyring's wrapping
/// of intermediate keys. Every hierarchical keyring wraps through this, the
/// static one and the key store's. Spec: aws-kms-hierarchical-keyring.md#branch-key-wrapping
pub struct BranchKey {
    branch_key_id: String,
    branch_key_version: String,
    version_bytes: [u8; VERSION_LEN],
    branch_key: SecretBytes,
}

impl BranchKey {
    /// `branch_key_version` is the version UUID string; `branch_key` is 32 bytes.
    pub fn new(branch_key_id: &str, branch_key_version: &str, branch_key: &[u8]) -> Result<Self> {
        // The key first: a key of the wrong length is INVALID_KEY whatever
        // else is wrong, as the npm package has always reported it.
        if branch_key.len() != KEY_LEN {
            return Err(Error::InvalidKey(format!(
                "branch key must be {KEY_LEN} bytes, got {}",
                branch_key.len()
            )));
        }
        if branch_key_id.is_empty() || branch_key_id.len() > u16::MAX as usize {
            return Err(Error::InvalidConfig(
                "branch key id must be 1 to 65535 bytes".into(),
            ));
        }
        let version_bytes = parse_uuid(branch_key_version).ok_or_else(|| {
            Error::InvalidConfig(format!(
                "branch key version {branch_key_version:?} is not a UUID string \
                 (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
            ))
        })?;
        Ok(BranchKey {
            branch_key_id: branch_key_id.to_owned(),
            branch_key_version: branch_key_version.to_ascii_lowercase(),
            version_bytes,
            branch_key: SecretBytes::from_slice(branch_key),
        })
    }

    pub fn id(&self) -> &str {
        &self.branch_key_id
    }

    /// The version UUID, lowercase.
    pub fn version(&self) -> &str {
        &self.branch_key_version
    }

    fn derive_wrapping_key(&self, salt: &[u8]) -> SecretBytes {
        primitives::kdf_ctr_hmac_sha256(
            self.branch_key.expose(),
            PROVIDER_ID_HIERARCHY.as_bytes(),
            salt,
            KEY_LEN,
        )
    }

    fn wrapping_aad(&self, serialized_ec: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(
            PROVIDER_ID_HIERARCHY.len()
                + self.branch_key_id.len()
                + VERSION_LEN
                + serialized_ec.len(),
        );
        aad.extend_from_slice(PROVIDER_ID_HIERARCHY.as_bytes());
        aad.extend_from_slice(self.branch_key_id.as_bytes());
        aad.extend_from_slice(&self.version_bytes);
        aad.extend_from_slice(serialized_ec);
        aad
    }

    /// A fresh intermediate key, wrapped under this branch key.
    pub fn wrap(&self, request: &WrapRequest<'_>) -> Result<Wrapped> {
        let intermediate_key = request.fresh_intermediate_key()?;
        let salt: [u8; SALT_LEN] = request.random.array()?;
        let iv: [u8; NONCE_LEN] = request.random.array()?;
        let key = self.derive_wrapping_key(&salt);
        let sealed = primitives::aes_gcm_encrypt(
            key.expose(),
            &iv,
            &self.wrapping_aad(request.serialized_ec),
            intermediate_key.expose(),
        )?;
        let mut wrapped = Vec::with_capacity(PROVIDER_WRAPPED_LEN);
        wrapped.extend_from_slice(&salt);
        wrapped.extend_from_slice(&iv);
        wrapped.extend_from_slice(&self.version_bytes);
        wrapped.extend_from_slice(&sealed);
        Ok(Wrapped {
            intermediate_key,
            edk: ProviderWrapped {
                key_provider_id: PROVIDER_ID_HIERARCHY.to_owned(),
                key_provider_info: self.branch_key_id.as_bytes().to_vec(),
                wrapped_intermediate_key: wrapped,
            },
            key_use: None,
        })
    }

    /// The intermediate key of an EDK wrapped under this branch key.
    /// Spec: aws-kms-hierarchical-keyring.md#branch-key-unwrapping
    pub fn unwrap(&self, wrapped: &[u8], serialized_ec: &[u8]) -> Result<SecretBytes> {
        let version = edk_version(wrapped)?;
        if version != self.version_bytes {
            return Err(Error::KeyProviderFailure(format!(
                "EDK was wrapped under branch key version {}, this keyring holds version {}",
                format_uuid(&version),
                self.branch_key_version
            )));
        }
        let salt = &wrapped[..SALT_LEN];
        let iv = &wrapped[SALT_LEN..VERSION_START];
        let key = self.derive_wrapping_key(salt);
        let intermediate = primitives::aes_gcm_decrypt(
            key.expose(),
            iv,
            &self.wrapping_aad(serialized_ec),
            &wrapped[WRAPPED_START..],
        )
        .map_err(|_| {
            Error::integrity("AES-GCM did not verify (wrong branch key or encryption context)")
        })?;
        Ok(SecretBytes::new(intermediate))
    }
}

/// The branch key version an EDK names (16 bytes), after checking the
/// provider-wrapped part's length. Spec: aws-kms-hierarchical-keyring.md#ciphertext
pub fn edk_version(wrapped: &[u8]) -> Result<[u8; VERSION_LEN]> {
    if wrapped.len() != PROVIDER_WRAPPED_LEN {
        return Err(Error::malformed(format!(
            "hierarchical EDK ciphertext must be {} bytes, got {}",
            intermediate::ENCRYPTED_PDK_LEN + PROVIDER_WRAPPED_LEN,
            intermediate::ENCRYPTED_PDK_LEN + wrapped.len()
        )));
    }
    let mut version = [0u8; VERSION_LEN];
    version.copy_from_slice(&wrapped[VERSION_START..WRAPPED_START]);
    Ok(version)
}

impl std::fmt::Debug for BranchKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BranchKey")
            .field("branch_key_id", &self.branch_key_id)
            .field("branch_key_version", &self.branch_key_version)
            .finish_non_exhaustive()
    }
}

/// The hierarchical keyring with one fixed branch key instead of a key
/// store, as the official test vectors use it.
#[derive(Debug)]
pub struct StaticBranchKeyKeyring {
    branch_key: BranchKey,
}

impl StaticBranchKeyKeyring {
    /// `branch_key_version` is the version UUID string; `branch_key` is 32 bytes.
    pub fn new(branch_key_id: &str, branch_key_version: &str, branch_key: &[u8]) -> Result<Self> {
        Ok(StaticBranchKeyKeyring {
            branch_key: BranchKey::new(branch_key_id, branch_key_version, branch_key)?,
        })
    }
}

#[async_trait(?Send)]
impl KeyProvider for StaticBranchKeyKeyring {
    fn describe(&self) -> String {
        format!(
            "hierarchical keyring (branch key id {:?}, version {})",
            self.branch_key.id(),
            self.branch_key.version()
        )
    }

    async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped> {
        self.branch_key.wrap(&request)
    }

    fn claim(&self, _index: usize, edk: &EncryptedDataKey) -> Result<Claim> {
        let mine = edk.key_provider_id == PROVIDER_ID_HIERARCHY
            && edk.key_provider_info == self.branch_key.id().as_bytes();
        Ok(if mine { Claim::Mine } else { Claim::Skip })
    }

    async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped> {
        self.branch_key
            .unwrap(request.wrapped, request.serialized_ec)
            .map(|key| Unwrapped::Key(key, None))
    }
}

/// Parse the canonical 36-character UUID form into its 16 bytes.
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let hex: Vec<u8> = b.iter().copied().filter(|&c| c != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

pub fn format_uuid(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        s.push(char::from(HEX[usize::from(byte >> 4)]));
        s.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_round_trip() {
        let s = "e9ce18a3-edb5-4272-9f86-1cacb7997ff6";
        let b = parse_uuid(s).unwrap();
        assert_eq!(b[0], 0xe9);
        assert_eq!(b[15], 0xf6);
        assert_eq!(format_uuid(&b), s);
        assert!(parse_uuid("e9ce18a3edb542729f861cacb7997ff6").is_none());
        assert!(parse_uuid("e9ce18a3-edb5-4272-9f86-1cacb7997ffg").is_none());
        assert!(parse_uuid("e9ce18a3-edb5-4272-9f86+1cacb7997ff6").is_none());
    }
}
