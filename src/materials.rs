//! Encryption and decryption materials: what keyrings read and fill in.
//! Spec: aws-encryption-sdk-specification framework/structures.md

use std::collections::BTreeMap;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};
use crate::suite::{AlgorithmSuiteId, KEY_LEN};

/// Encryption context. A `BTreeMap` keeps keys in UTF-8 byte order, which is
/// the order the wire format serializes them in.
pub type EncryptionContext = BTreeMap<String, String>;

/// Secret key bytes that are wiped on drop and never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }
    pub fn from_slice(bytes: &[u8]) -> Self {
        SecretBytes(bytes.to_vec())
    }
    /// Fresh random bytes from the OS / platform CSPRNG.
    pub fn random(len: usize) -> Result<Self> {
        let mut buf = Zeroizing::new(vec![0u8; len]);
        crate::primitives::fill_random(&mut buf)?;
        Ok(SecretBytes(std::mem::take(&mut *buf)))
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

/// One wrapped copy of the data key, as stored in the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedDataKey {
    pub key_provider_id: String,
    pub key_provider_info: Vec<u8>,
    pub ciphertext: Vec<u8>,
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
        }
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
}

impl DecryptionMaterials {
    pub fn new(suite: AlgorithmSuiteId, encryption_context: EncryptionContext) -> Self {
        DecryptionMaterials {
            suite,
            encryption_context,
            required_encryption_context_keys: Vec::new(),
            plaintext_data_key: None,
            symmetric_signing_key: None,
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
/// every keyring (`CanonicalEncryptionContext.EncryptionContextToAAD`; spec
/// framework/structures.md#serialization):
/// `count: u16 BE`, then per entry in UTF-8 byte order of the keys
/// `key_len: u16 BE || key || value_len: u16 BE || value`.
/// An empty context serializes to **zero bytes** (not `0x0000`).
/// More than 65535 entries, or a key or value longer than 65535 bytes, is an error.
pub fn serialize_encryption_context(ec: &EncryptionContext) -> Result<Vec<u8>> {
    if ec.is_empty() {
        return Ok(Vec::new());
    }
    let count = u16::try_from(ec.len()).map_err(|_| {
        Error::LimitExceeded(format!(
            "encryption context has {} entries; at most 65535 can be serialized",
            ec.len()
        ))
    })?;
    let mut out =
        Vec::with_capacity(2 + ec.iter().map(|(k, v)| 4 + k.len() + v.len()).sum::<usize>());
    out.extend_from_slice(&count.to_be_bytes());
    // BTreeMap<String, _> iterates in byte order of the UTF-8 keys.
    for (key, value) in ec {
        for (what, part) in [("key", key), ("value", value)] {
            let len = u16::try_from(part.len()).map_err(|_| {
                Error::LimitExceeded(format!(
                    "encryption context {what} of {} bytes (entry {key_name:?}) exceeds 65535 bytes",
                    part.len(),
                    key_name = truncate_for_message(key),
                ))
            })?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
    Ok(out)
}

fn truncate_for_message(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
