//! The two AWS KMS operations fieldseal needs, behind a small trait. fieldseal
//! never signs requests or touches credentials: the implementation (in the
//! wasm layer, the user's `@aws-sdk/client-kms` client) does.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;
use crate::keyring::MaybeSendSync;
use crate::materials::SecretBytes;

/// GenerateDataKey. Spec: aws-kms-keyring.md#onencrypt
#[derive(Debug, Clone)]
pub struct GenerateDataKeyRequest {
    pub key_id: String,
    pub number_of_bytes: u32,
    pub encryption_context: BTreeMap<String, String>,
    pub grant_tokens: Vec<String>,
}

pub struct GenerateDataKeyResponse {
    /// The ARN of the key KMS used.
    pub key_id: String,
    pub plaintext: SecretBytes,
    pub ciphertext_blob: Vec<u8>,
}

/// Decrypt. Spec: aws-kms-keyring.md#ondecrypt
#[derive(Debug, Clone)]
pub struct DecryptRequest {
    pub key_id: String,
    pub ciphertext_blob: Vec<u8>,
    pub encryption_context: BTreeMap<String, String>,
    pub grant_tokens: Vec<String>,
}

pub struct DecryptResponse {
    pub key_id: String,
    pub plaintext: SecretBytes,
}

/// A failed KMS call: the service's error name (`AccessDeniedException`,
/// `DisabledException`, `KMSInvalidStateException`, `NotFoundException`,
/// `ThrottlingException`, a network error's name...) and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsError {
    pub name: String,
    pub message: String,
}

/// An AWS KMS client for one region.
#[async_trait(?Send)]
pub trait KmsClient: MaybeSendSync {
    async fn generate_data_key(
        &self,
        request: GenerateDataKeyRequest,
    ) -> std::result::Result<GenerateDataKeyResponse, KmsError>;

    async fn decrypt(
        &self,
        request: DecryptRequest,
    ) -> std::result::Result<DecryptResponse, KmsError>;
}

/// Gives the client for a region; the MRK keyrings call KMS in several regions.
pub trait KmsClientSupplier: MaybeSendSync {
    fn client(&self, region: &str) -> Result<Arc<dyn KmsClient>>;
}
