//! Encryption and decryption materials: what keyrings read and fill in.
//! Spec: aws-encryption-sdk-specification framework/structures.md

use std::collections::BTreeMap;
use std::sync::Arc;

pub use crate::base::SecretBytes;
use crate::error::{Error, Result};
use crate::primitives::provider::{system_random, SecureRandom};
use crate::suite::{AlgorithmSuiteId, KEY_LEN};

/// Encryption context. A `BTreeMap` keeps keys in UTF-8 byte order, which is
/// the order the wire format serializes them in.
pub type EncryptionContext = BTreeMap<String, String>;

/// One wrapped copy of the data key, as stored in the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedDataKey {
    pub key_provider_id: String,
    pub key_provider_info: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// Which key an operation used, for audit events (the client-side half of
/// what CloudTrail records for KMS): never key bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUse {
    /// The EDK's key provider id (`aws-kms`, `aws-kms-hierarchy`, a raw
    /// keyring's namespace...).
    pub key_provider_id: String,
    /// The key: the KMS key ARN, the branch key id, a raw key's name.
    pub key: String,
    /// The branch key version, for the hierarchical keyring.
    pub version: Option<String>,
    /// Whether the key came from a cache instead of its provider.
    pub cache_hit: bool,
}

impl KeyUse {
    /// What an EDK alone says of its key.
    pub fn of(edk: &EncryptedDataKey) -> KeyUse {
        KeyUse {
            key_provider_id: edk.key_provider_id.clone(),
            key: String::from_utf8_lossy(&edk.key_provider_info).into_owned(),
            version: None,
            cache_hit: false,
        }
    }
}

/// What a keyring receives and extends on encrypt.
#[derive(Debug, Clone)]
pub struct EncryptionMaterials {
    pub suite: AlgorithmSuiteId,
    pub encryption_context: EncryptionContext,
    /// Keys of `encryption_context` that are authenticated but not stored in the header.
    pub required_encryption_context_keys: Vec<String>,
    /// Set by the first (generator) keyring.
    pub plaintext_data_key: Option<SecretBytes>,
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// One HMAC-SHA384 key per EDK, same order: each recipient's footer tag key.
    pub symmetric_signing_keys: Vec<SecretBytes>,
    /// Where keyrings draw the data key, intermediate keys and IVs from: the
    /// encryptor's [`crate::primitives::provider::CryptoProvider::random`].
    /// Carried here because keyrings are built before (and apart from) the
    /// encryptor and nest inside multi-keyrings: the materials are the one
    /// thing that reaches every keyring of an operation.
    pub random: Arc<dyn SecureRandom>,
    /// One entry per EDK added, for audit events.
    pub key_uses: Vec<KeyUse>,
}

impl EncryptionMaterials {
    pub fn new(suite: AlgorithmSuiteId, encryption_context: EncryptionContext) -> Self {
        EncryptionMaterials {
            suite,
            encryption_context,
            required_encryption_context_keys: Vec::new(),
            plaintext_data_key: None,
            encrypted_data_keys: Vec::new(),
            symmetric_signing_keys: Vec::new(),
            random: system_random(),
            key_uses: Vec::new(),
        }
    }

    /// The same materials, drawing randomness from `random`.
    pub fn with_random(mut self, random: Arc<dyn SecureRandom>) -> Self {
        self.random = random;
        self
    }

    /// Record the data key a generator produced; refuses to replace one.
    pub fn set_plaintext_data_key(&mut self, key: SecretBytes) -> Result<()> {
        if self.plaintext_data_key.is_some() {
            return Err(Error::InvalidConfig(
                "a generator keyring was given materials that already hold a data key".into(),
            ));
        }
        check_data_key_len(&key)?;
        self.plaintext_data_key = Some(key);
        Ok(())
    }

    /// Add one recipient: its EDK and the HMAC key for its footer tag.
    pub fn add_recipient(&mut self, edk: EncryptedDataKey, symmetric_signing_key: SecretBytes) {
        self.encrypted_data_keys.push(edk);
        self.symmetric_signing_keys.push(symmetric_signing_key);
    }
}

/// What a keyring receives and completes on decrypt.
#[derive(Debug, Clone)]
pub struct DecryptionMaterials {
    pub suite: AlgorithmSuiteId,
    pub encryption_context: EncryptionContext,
    pub required_encryption_context_keys: Vec<String>,
    pub plaintext_data_key: Option<SecretBytes>,
    /// The HMAC key of the recipient whose EDK was decrypted.
    pub symmetric_signing_key: Option<SecretBytes>,
    /// The key that opened the data key, for audit events.
    pub key_uses: Vec<KeyUse>,
}

impl DecryptionMaterials {
    pub fn new(suite: AlgorithmSuiteId, encryption_context: EncryptionContext) -> Self {
        DecryptionMaterials {
            suite,
            encryption_context,
            required_encryption_context_keys: Vec::new(),
            plaintext_data_key: None,
            symmetric_signing_key: None,
            key_uses: Vec::new(),
        }
    }

    /// Record the unwrapped data key; refuses to replace one.
    pub fn set_keys(
        &mut self,
        data_key: SecretBytes,
        symmetric_signing_key: SecretBytes,
    ) -> Result<()> {
        if self.plaintext_data_key.is_some() {
            return Err(Error::InvalidConfig(
                "decryption materials already hold a data key".into(),
            ));
        }
        check_data_key_len(&data_key)?;
        self.plaintext_data_key = Some(data_key);
        self.symmetric_signing_key = Some(symmetric_signing_key);
        Ok(())
    }
}

fn check_data_key_len(key: &SecretBytes) -> Result<()> {
    if key.len() != KEY_LEN {
        return Err(Error::InvalidKey(format!(
            "data key must be {KEY_LEN} bytes, got {}",
            key.len()
        )));
    }
    Ok(())
}

/// The MPL's canonical encryption context serialization, used as AES-GCM AAD by
/// every keyring (`CanonicalEncryptionContext.EncryptionContextToAAD`): an
/// empty context is **zero bytes**. The one codec: [`crate::codec::serialize_context`].
pub fn serialize_encryption_context(ec: &EncryptionContext) -> Result<Vec<u8>> {
    crate::codec::serialize_context(ec, crate::codec::EmptyContext::NoBytes)
}
