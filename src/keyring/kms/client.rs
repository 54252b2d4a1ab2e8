//! The AWS KMS operations fieldseal's keyrings need, behind a small trait.
//!
//! fieldseal never signs requests or touches credentials: the implementation
//! does (in the wasm layer, the user's `@aws-sdk/client-kms` v3 client; in
//! tests, an in-memory fake). Keeping the trait this narrow is what lets the
//! core stay pure Rust and compile for wasm32 and native alike.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::base::MaybeSendSync;
use crate::error::{Error, Result};
use crate::materials::SecretBytes;

/// GenerateDataKey (spec: aws-kms-keyring.md#onencrypt), and
/// GenerateDataKeyWithoutPlaintext for a new branch or beacon key, wrapped
/// only (spec: branch-key-store.md#wrapped-branch-key-creation): KMS takes the
/// same input for both.
/// `Debug` counts the grant tokens (bearer credentials) instead of printing them.
#[derive(Clone, PartialEq, Eq)]
pub struct GenerateDataKeyRequest {
    pub key_id: String,
    pub number_of_bytes: u32,
    pub encryption_context: BTreeMap<String, String>,
    pub grant_tokens: Vec<String>,
}

/// `Debug` shows the plaintext's length only ([`SecretBytes`] redacts it),
/// and the ciphertext's.
pub struct GenerateDataKeyResponse {
    /// The ARN of the key KMS used.
    pub key_id: String,
    pub plaintext: SecretBytes,
    pub ciphertext_blob: Vec<u8>,
}

/// KMS's `EncryptionAlgorithmSpec` for an asymmetric Decrypt: the RSA
/// encryption algorithms of the AWS KMS RSA keyring.
/// Spec: aws-kms-rsa-keyring.md#supported-padding-schemes
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptionAlgorithm {
    /// RSAES-OAEP, SHA-1 and MGF1 with SHA-1.
    RsaesOaepSha1,
    /// RSAES-OAEP, SHA-256 and MGF1 with SHA-256.
    RsaesOaepSha256,
}

impl EncryptionAlgorithm {
    /// KMS's name, e.g. `"RSAES_OAEP_SHA_256"`.
    pub fn name(self) -> &'static str {
        match self {
            EncryptionAlgorithm::RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
            EncryptionAlgorithm::RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
        }
    }

    /// KMS's names only: the keyring must not use any other scheme.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "RSAES_OAEP_SHA_1" => Ok(EncryptionAlgorithm::RsaesOaepSha1),
            "RSAES_OAEP_SHA_256" => Ok(EncryptionAlgorithm::RsaesOaepSha256),
            other => Err(Error::InvalidConfig(format!(
                "unsupported KMS RSA encryption algorithm {other:?} \
                 (use RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1)"
            ))),
        }
    }
}

impl fmt::Display for EncryptionAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Decrypt. Spec: aws-kms-keyring.md#ondecrypt, aws-kms-rsa-keyring.md#ondecrypt
/// `Debug` counts the grant tokens and shows the ciphertext's length only.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct DecryptRequest {
    pub key_id: String,
    pub ciphertext_blob: Vec<u8>,
    pub encryption_context: BTreeMap<String, String>,
    pub grant_tokens: Vec<String>,
    /// `EncryptionAlgorithm` for an asymmetric key; `None`: left out
    /// (KMS's `SYMMETRIC_DEFAULT`).
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
}

/// GetPublicKey: the public key of an asymmetric KMS key, to seal without
/// calling KMS. `Debug` counts the grant tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct GetPublicKeyRequest {
    pub key_id: String,
    pub grant_tokens: Vec<String>,
}

/// The parts of KMS's GetPublicKey answer fieldseal uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetPublicKeyResponse {
    /// The ARN of the key.
    pub key_id: String,
    /// DER SubjectPublicKeyInfo.
    pub public_key: Vec<u8>,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`...; `None` if the client did not say.
    pub key_usage: Option<String>,
    /// `RSA_2048`, `ECC_NIST_P256`...; `None` if the client did not say.
    pub key_spec: Option<String>,
}

/// DeriveSharedSecret: ECDH between a KMS key (`KEY_AGREEMENT`) and a
/// public key, for the AWS KMS ECDH keyring. `KeyAgreementAlgorithm` is
/// always `ECDH` (the only value KMS has). `Debug` counts the grant tokens.
/// Spec: aws-kms-ecdh-keyring.md (the MPL's `DeriveSharedSecret`).
#[derive(Clone, PartialEq, Eq)]
pub struct DeriveSharedSecretRequest {
    pub key_id: String,
    /// The other party's public key, DER SubjectPublicKeyInfo.
    pub public_key: Vec<u8>,
    pub grant_tokens: Vec<String>,
}

impl DeriveSharedSecretRequest {
    /// The request's `KeyAgreementAlgorithm`.
    pub const KEY_AGREEMENT_ALGORITHM: &'static str = "ECDH";
}

/// `Debug` shows the secret's length only ([`SecretBytes`] redacts it).
pub struct DeriveSharedSecretResponse {
    /// The ARN of the key KMS used.
    pub key_id: String,
    /// The raw shared secret (the x-coordinate: 32, 48 or 66 bytes).
    pub shared_secret: SecretBytes,
    /// `ECDH`; `None` if the client did not say (the keyring then refuses
    /// the answer, as the MPL does).
    pub key_agreement_algorithm: Option<String>,
}

impl fmt::Debug for DeriveSharedSecretRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeriveSharedSecretRequest")
            .field("key_id", &self.key_id)
            .field("public_key", &Len(self.public_key.len()))
            .field("grant_tokens", &Count(self.grant_tokens.len()))
            .finish()
    }
}

impl fmt::Debug for DeriveSharedSecretResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeriveSharedSecretResponse")
            .field("key_id", &self.key_id)
            .field("shared_secret", &self.shared_secret)
            .field("key_agreement_algorithm", &self.key_agreement_algorithm)
            .finish()
    }
}

/// `Debug` shows the plaintext's length only ([`SecretBytes`] redacts it).
pub struct DecryptResponse {
    pub key_id: String,
    pub plaintext: SecretBytes,
}

/// How the request and response types print a byte string: its length.
struct Len(usize);

impl fmt::Debug for Len {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

/// How the request types print grant tokens: how many there are.
struct Count(usize);

impl fmt::Debug for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} redacted>", self.0)
    }
}

impl fmt::Debug for GenerateDataKeyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenerateDataKeyRequest")
            .field("key_id", &self.key_id)
            .field("number_of_bytes", &self.number_of_bytes)
            .field("encryption_context", &self.encryption_context)
            .field("grant_tokens", &Count(self.grant_tokens.len()))
            .finish()
    }
}

impl fmt::Debug for GenerateDataKeyResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenerateDataKeyResponse")
            .field("key_id", &self.key_id)
            .field("plaintext", &self.plaintext)
            .field("ciphertext_blob", &Len(self.ciphertext_blob.len()))
            .finish()
    }
}

impl fmt::Debug for DecryptRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptRequest")
            .field("key_id", &self.key_id)
            .field("ciphertext_blob", &Len(self.ciphertext_blob.len()))
            .field("encryption_context", &self.encryption_context)
            .field("grant_tokens", &Count(self.grant_tokens.len()))
            .field("encryption_algorithm", &self.encryption_algorithm)
            .finish()
    }
}

impl fmt::Debug for GetPublicKeyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetPublicKeyRequest")
            .field("key_id", &self.key_id)
            .field("grant_tokens", &Count(self.grant_tokens.len()))
            .finish()
    }
}

impl fmt::Debug for DecryptResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptResponse")
            .field("key_id", &self.key_id)
            .field("plaintext", &self.plaintext)
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct GenerateDataKeyWithoutPlaintextResponse {
    pub key_id: String,
    pub ciphertext_blob: Vec<u8>,
}

/// ReEncrypt: moves a wrapped branch key from one encryption context to
/// another (DECRYPT_ONLY to ACTIVE), and authenticates a stored item without
/// exposing its key. Spec: branch-key-store.md#authenticating-a-keystore-item
#[derive(Clone, PartialEq, Eq)]
pub struct ReEncryptRequest {
    pub source_key_id: String,
    pub source_encryption_context: BTreeMap<String, String>,
    pub ciphertext_blob: Vec<u8>,
    pub destination_key_id: String,
    pub destination_encryption_context: BTreeMap<String, String>,
    pub grant_tokens: Vec<String>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ReEncryptResponse {
    pub source_key_id: String,
    pub key_id: String,
    pub ciphertext_blob: Vec<u8>,
}

impl fmt::Debug for GenerateDataKeyWithoutPlaintextResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenerateDataKeyWithoutPlaintextResponse")
            .field("key_id", &self.key_id)
            .field("ciphertext_blob", &Len(self.ciphertext_blob.len()))
            .finish()
    }
}

impl fmt::Debug for ReEncryptRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReEncryptRequest")
            .field("source_key_id", &self.source_key_id)
            .field("source_encryption_context", &self.source_encryption_context)
            .field("ciphertext_blob", &Len(self.ciphertext_blob.len()))
            .field("destination_key_id", &self.destination_key_id)
            .field(
                "destination_encryption_context",
                &self.destination_encryption_context,
            )
            .field("grant_tokens", &Count(self.grant_tokens.len()))
            .finish()
    }
}

impl fmt::Debug for ReEncryptResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReEncryptResponse")
            .field("source_key_id", &self.source_key_id)
            .field("key_id", &self.key_id)
            .field("ciphertext_blob", &Len(self.ciphertext_blob.len()))
            .finish()
    }
}

/// A failed KMS call: the service's error name (`AccessDeniedException`,
/// `DisabledException`, `KMSInvalidStateException`, `NotFoundException`,
/// `ThrottlingException`, a network error's name...) and its message. The
/// name is kept apart so that the keyrings' errors can always quote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsError {
    pub name: String,
    pub message: String,
}

impl fmt::Display for KmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for KmsError {}

/// An AWS KMS client bound to one region. The keyrings need GenerateDataKey
/// and Decrypt only: both DB-ESDK suites use intermediate key wrapping, under
/// which the MPL calls GenerateDataKey even to add an EDK for an existing data
/// key (`IntermediateKeyWrapping.IntermediateWrap` invokes `generateAndWrap`).
/// The branch key store's admin operations (`createKey`, `versionKey`) also
/// need GenerateDataKeyWithoutPlaintext and ReEncrypt, and the KMS RSA
/// keyring's helper GetPublicKey (also the AWS KMS ECDH keyring's), and the
/// AWS KMS ECDH keyring DeriveSharedSecret; a client that only serves the
/// symmetric keyrings may leave those four out (they then fail, naming the call).
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

    async fn generate_data_key_without_plaintext(
        &self,
        _request: GenerateDataKeyRequest,
    ) -> std::result::Result<GenerateDataKeyWithoutPlaintextResponse, KmsError> {
        Err(KmsError::unsupported("GenerateDataKeyWithoutPlaintext"))
    }

    async fn re_encrypt(
        &self,
        _request: ReEncryptRequest,
    ) -> std::result::Result<ReEncryptResponse, KmsError> {
        Err(KmsError::unsupported("ReEncrypt"))
    }

    /// Spec: aws-kms-rsa-keyring.md (the public key a keyring may be given).
    async fn get_public_key(
        &self,
        _request: GetPublicKeyRequest,
    ) -> std::result::Result<GetPublicKeyResponse, KmsError> {
        Err(KmsError::unsupported("GetPublicKey"))
    }

    /// Spec: aws-kms-ecdh-keyring.md (the AWS KMS ECDH keyring's only call
    /// on seal and on open).
    async fn derive_shared_secret(
        &self,
        _request: DeriveSharedSecretRequest,
    ) -> std::result::Result<DeriveSharedSecretResponse, KmsError> {
        Err(KmsError::unsupported("DeriveSharedSecret"))
    }
}

impl KmsError {
    fn unsupported(operation: &str) -> KmsError {
        KmsError {
            name: "UnsupportedOperation".into(),
            message: format!("this KMS client does not implement {operation}"),
        }
    }
}

/// Gives the client for a region: the multi-Region keyrings call KMS in
/// several regions, and the caller owns how clients are configured.
pub trait KmsClientSupplier: MaybeSendSync {
    fn client(&self, region: &str) -> Result<Arc<dyn KmsClient>>;
}

/// Any `Fn(region) -> client` is a supplier.
impl<F> KmsClientSupplier for F
where
    F: Fn(&str) -> Result<Arc<dyn KmsClient>> + MaybeSendSync,
{
    fn client(&self, region: &str) -> Result<Arc<dyn KmsClient>> {
        self(region)
    }
}

/// Wraps a supplier so that each region gets one client, made on first use
/// and shared afterwards: SDK clients hold connection pools and credential
/// caches that are wasteful to duplicate per keyring.
pub struct CachingClientSupplier<S> {
    inner: S,
    clients: Mutex<BTreeMap<String, Arc<dyn KmsClient>>>,
}

impl<S: KmsClientSupplier> CachingClientSupplier<S> {
    pub fn new(inner: S) -> Self {
        CachingClientSupplier {
            inner,
            clients: Mutex::new(BTreeMap::new()),
        }
    }

    /// The regions that have a client so far.
    pub fn regions(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<dyn KmsClient>>> {
        // A panic elsewhere cannot leave the map half-updated: recover it.
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<S> fmt::Debug for CachingClientSupplier<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let regions: Vec<String> = self
            .clients
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("CachingClientSupplier")
            .field("regions", &regions)
            .finish_non_exhaustive()
    }
}

impl<S: KmsClientSupplier> KmsClientSupplier for CachingClientSupplier<S> {
    fn client(&self, region: &str) -> Result<Arc<dyn KmsClient>> {
        if region.is_empty() {
            return Err(Error::InvalidConfig(
                "a KMS client needs a non-empty region".into(),
            ));
        }
        // Held while the inner supplier runs, so two callers never create two
        // clients for one region.
        let mut clients = self.lock();
        if let Some(client) = clients.get(region) {
            return Ok(client.clone());
        }
        let client = self.inner.client(region)?;
        clients.insert(region.to_string(), client.clone());
        Ok(client)
    }
}
