//! AWS KMS RSA keyring: seals with the public key of a KMS RSA key, locally
//! (RSA-OAEP, no KMS call, no credentials: a browser form can seal), and
//! opens with KMS Decrypt, where the private key stays.
//!
//! Spec: framework/aws-kms/aws-kms-rsa-keyring.md; reference code: the MPL's
//! `Keyrings/AwsKms/AwsKmsRsaKeyring.dfy` and `CreateAwsKmsRsaKeyring`, which
//! win where the two differ.
//!
//! # The EDK under intermediate key wrapping
//!
//! Both DB-ESDK suites wrap an intermediate key ([`crate::keyring::intermediate`]):
//! the MPL's `KmsRsaGenerateAndWrapKeyMaterial` draws it at random and
//! `KmsRsaWrapKeyMaterial` seals it. So, for every KMS RSA EDK:
//! - key provider id: `aws-kms-rsa`;
//! - key provider info: the configured key ARN (UTF-8; no KMS call names it);
//! - ciphertext: `encrypted data key (48) || RSA-OAEP(public key,
//!   SHA-384(serialized encryption context) (48) || intermediate key (32))`,
//!   the RSA part the modulus size.
//!
//! On decrypt the RSA part goes to KMS Decrypt (`KeyId` the configured ARN,
//! `EncryptionAlgorithm`, `GrantTokens`, no encryption context); the answer
//! must be this item's context digest followed by the 32-byte intermediate key.
//!
//! # Where the spec and the MPL differ (fieldseal follows the MPL unless noted)
//! - The spec RSA-encrypts "the plaintext data key"; under intermediate key
//!   wrapping the MPL RSA-encrypts the intermediate key, and the EDK
//!   ciphertext starts with the encrypted data key (as every keyring's).
//! - The spec takes any identifier but an alias; the MPL requires an ARN
//!   ("Kms Key ID must be a KMS Key ARN"). The MPL accepts an alias ARN there
//!   but refuses it on decrypt ("Alias cannot be used for Decrypt"), and no
//!   RSA keyring could open what it sealed: fieldseal refuses alias ARNs at
//!   construction, as the spec's "MUST NOT be an alias" says.
//! - The spec's decrypt filter wants the EDK's ARN to be of resource type
//!   `key`; the MPL (`OnDecryptMrkAwareEncryptedDataKeyFilter`) only parses it
//!   and MRK-matches it with the configured ARN. fieldseal does as the MPL.
//! - The MPL also requires the Decrypt plaintext to be exactly 48 + 32 bytes.
//! - The spec makes both the public key and the client optional; the MPL
//!   requires one of them ("A publicKey or a kmsClient is required").
//! - With decryption materials that already hold a data key, the spec (and
//!   the MPL) fail; fieldseal's keyring joint returns them unchanged, as for
//!   every keyring inside a multi-keyring.

use std::sync::Arc;

use async_trait::async_trait;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use zeroize::Zeroizing;

use super::client::{
    DecryptRequest, EncryptionAlgorithm, GetPublicKeyRequest, KmsClient, KmsError,
};
use super::{
    mrk_match_for_decrypt, parse_key_arn, validate_grant_tokens, KmsArn, CIPHERTEXT_BLOB_LEN,
};
use crate::base::SecretBytes;
use crate::error::{Error, Result};
use crate::keyring::intermediate::{ProviderWrapped, INTERMEDIATE_KEY_LEN};
use crate::keyring::provider::{
    BrokenEdks, Claim, KeyProvider, UnwrapRequest, Unwrapped, WrapRequest, Wrapped,
};
use crate::keyring::raw_rsa::{parse_public_key, RsaPadding};
use crate::materials::EncryptedDataKey;
use crate::primitives::{ct_eq, sha384};
use crate::suite::AlgorithmSuiteId;

/// The provider id of every AWS KMS RSA EDK (MPL `Constants.RSA_PROVIDER_ID`).
pub const RSA_PROVIDER_ID: &str = "aws-kms-rsa";
/// The smallest RSA modulus the keyring accepts, in bits: the SHA-384 digest
/// and the key must fit under OAEP (MPL `MIN_KMS_RSA_KEY_LEN`).
pub const MIN_RSA_KEY_BITS: usize = 2048;
/// SHA-384 of the serialized encryption context, first in the RSA plaintext.
const DIGEST_LEN: usize = 48;

impl EncryptionAlgorithm {
    /// The RSA padding this KMS algorithm is.
    /// Spec: aws-kms-rsa-keyring.md#onencrypt (determine the padding scheme)
    fn padding(self) -> RsaPadding {
        match self {
            EncryptionAlgorithm::RsaesOaepSha1 => RsaPadding::OaepSha1Mgf1,
            EncryptionAlgorithm::RsaesOaepSha256 => RsaPadding::OaepSha256Mgf1,
        }
    }
}

/// Seals with a KMS RSA key's public key and never calls KMS to do so; opens
/// with KMS Decrypt. Without a public key it only opens; without a client it
/// only seals. Refuses suites with an asymmetric signature (0x6701): anyone
/// may hold the public key, so the signature would prove nothing.
pub struct AwsKmsRsaKeyring {
    key_arn: String,
    /// The key's region, for messages.
    region: String,
    algorithm: EncryptionAlgorithm,
    public_key: Option<RsaPublicKey>,
    client: Option<Arc<dyn KmsClient>>,
    grant_tokens: Vec<String>,
}

/// Grant tokens are bearer credentials: Debug counts them.
impl std::fmt::Debug for AwsKmsRsaKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKmsRsaKeyring")
            .field("key", &self.key_arn)
            .field("encryption_algorithm", &self.algorithm)
            .field("can_encrypt", &self.public_key.is_some())
            .field("can_decrypt", &self.client.is_some())
            .field("grant_tokens", &self.grant_tokens.len())
            .finish_non_exhaustive()
    }
}

impl AwsKmsRsaKeyring {
    /// `key_arn` is the ARN of a KMS key of spec `RSA_*` and usage
    /// `ENCRYPT_DECRYPT`; `public_key_pem` its public key (PEM
    /// SubjectPublicKeyInfo, as [`get_public_key_pem`] returns it), to seal;
    /// `client` a KMS client for the key's region, to open. At least one of
    /// the two. That the public key is the key's is not checked (the spec
    /// says not to call KMS for it).
    /// Spec: aws-kms-rsa-keyring.md#initialization
    pub fn new(
        key_arn: &str,
        algorithm: EncryptionAlgorithm,
        public_key_pem: Option<&str>,
        client: Option<Arc<dyn KmsClient>>,
        grant_tokens: Vec<String>,
    ) -> Result<Self> {
        let arn = parse_key_arn(key_arn, "AWS KMS RSA")?;
        validate_grant_tokens(&grant_tokens)?;
        if public_key_pem.is_none() && client.is_none() {
            return Err(Error::InvalidConfig(format!(
                "an AWS KMS RSA keyring ({key_arn}) needs a public key to seal and/or a KMS \
                 client to open"
            )));
        }
        let public_key = public_key_pem
            .map(|pem| checked_public_key(key_arn, pem))
            .transpose()?;
        Ok(AwsKmsRsaKeyring {
            key_arn: key_arn.to_string(),
            region: arn.region,
            algorithm,
            public_key,
            client,
            grant_tokens,
        })
    }

    /// The configured key ARN.
    pub fn key_arn(&self) -> &str {
        &self.key_arn
    }

    fn failure(&self, error: &KmsError) -> String {
        format!(
            "KMS Decrypt with key {} ({}) in {} failed: {}: {}",
            self.key_arn, self.algorithm, self.region, error.name, error.message
        )
    }

    /// The decrypt filter for one `aws-kms-rsa` EDK: an error (not a
    /// decline) fails the whole OnDecrypt before any KMS call, as the MPL's
    /// `OnDecryptMrkAwareEncryptedDataKeyFilter` does.
    /// Spec: aws-kms-rsa-keyring.md#ondecrypt
    fn filter(&self, index: usize, provider_info: &[u8]) -> Result<Claim> {
        let malformed = |why: String| {
            Error::MalformedCiphertext(format!("{}: EDK #{index}: {why}", self.describe()))
        };
        let info = std::str::from_utf8(provider_info)
            .map_err(|_| malformed("its aws-kms-rsa provider info is not UTF-8".into()))?;
        KmsArn::parse(info).map_err(|e| malformed(e.to_string()))?;
        Ok(if mrk_match_for_decrypt(&self.key_arn, info) {
            Claim::Mine
        } else {
            Claim::Decline(format!("it is for {info}"))
        })
    }
}

/// The PEM as an RSA public key of at least [`MIN_RSA_KEY_BITS`].
#[inline(never)]
fn checked_public_key(key_arn: &str, pem: &str) -> Result<RsaPublicKey> {
    let key = parse_public_key(pem).map_err(|e| {
        Error::InvalidKey(format!(
            "AWS KMS RSA keyring ({key_arn}): {}",
            match e {
                Error::InvalidKey(why) => why,
                other => other.to_string(),
            }
        ))
    })?;
    let bits = key.n().bits();
    if bits < MIN_RSA_KEY_BITS {
        return Err(Error::InvalidKey(format!(
            "AWS KMS RSA keyring ({key_arn}): the public key has {bits} bits; at least \
             {MIN_RSA_KEY_BITS} are needed"
        )));
    }
    Ok(key)
}

#[async_trait(?Send)]
impl KeyProvider for AwsKmsRsaKeyring {
    fn describe(&self) -> String {
        format!("AWS KMS RSA keyring ({}, {})", self.key_arn, self.algorithm)
    }

    /// Spec: aws-kms-rsa-keyring.md#ondecrypt — MUST fail without a client.
    fn cannot_decrypt(&self) -> Option<String> {
        self.client.is_none().then(|| {
            "has no KMS client, so it can seal but not open: give it a client (clientProvider) \
             allowed kms:Decrypt on the key"
                .to_owned()
        })
    }

    /// Spec: aws-kms-rsa-keyring.md#security-considerations — anyone may hold
    /// the public key, so an asymmetric signature proves nothing here.
    fn check_suite(&self, suite: AlgorithmSuiteId) -> Result<()> {
        if !suite.is_signing() {
            return Ok(());
        }
        let unsigned = AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384;
        Err(Error::InvalidConfig(format!(
            "{} cannot be used with algorithm suite 0x{:04x} ({}), which has an asymmetric \
             signature: anyone may hold the public key, so the signature would prove nothing. \
             Use suite 0x{:04x} ({})",
            self.describe(),
            suite.id(),
            suite.name(),
            unsigned.id(),
            unsigned.name()
        )))
    }

    /// KMS authenticates nothing here (anyone can seal with the public key),
    /// but an EDK that names this key and that KMS opened, yet whose digest
    /// or data key does not verify, was made for another context or altered.
    fn broken_edks(&self) -> BrokenEdks {
        BrokenEdks::KeepCode
    }

    /// Spec: aws-kms-rsa-keyring.md#onencrypt
    async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped> {
        let Some(public_key) = &self.public_key else {
            return Err(Error::InvalidConfig(format!(
                "{} has no public key, so it cannot seal: pass the key's public key \
                 (publicKeyPem; getPublicKeyPem fetches it with kms:GetPublicKey)",
                self.describe()
            )));
        };
        let intermediate_key = request.fresh_intermediate_key()?;
        let mut plaintext = Zeroizing::new(Vec::with_capacity(DIGEST_LEN + INTERMEDIATE_KEY_LEN));
        plaintext.extend_from_slice(&sha384(request.serialized_ec));
        plaintext.extend_from_slice(intermediate_key.expose());
        let wrapped = self
            .algorithm
            .padding()
            .encrypt(public_key, &plaintext)
            .map_err(|e| {
                Error::KeyProviderFailure(format!(
                    "{}: RSA encryption failed: {e}",
                    self.describe()
                ))
            })?;
        Ok(Wrapped {
            intermediate_key,
            edk: ProviderWrapped {
                key_provider_id: RSA_PROVIDER_ID.to_string(),
                key_provider_info: self.key_arn.as_bytes().to_vec(),
                wrapped_intermediate_key: wrapped,
            },
            key_use: None,
        })
    }

    fn claim(&self, index: usize, edk: &EncryptedDataKey) -> Result<Claim> {
        if edk.key_provider_id != RSA_PROVIDER_ID {
            return Ok(Claim::Skip);
        }
        self.filter(index, &edk.key_provider_info)
    }

    /// One Decrypt (MPL `KmsRsaUnwrapKeyMaterial`).
    /// Spec: aws-kms-rsa-keyring.md#ondecrypt
    async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped> {
        let Some(client) = &self.client else {
            return Ok(Unwrapped::Declined("no KMS client".into()));
        };
        let blob = request.wrapped;
        if !CIPHERTEXT_BLOB_LEN.contains(&blob.len()) {
            return Err(Error::malformed(format!(
                "its RSA ciphertext is {} bytes, outside KMS's 1 to 6144",
                blob.len()
            )));
        }
        let response = client
            .decrypt(DecryptRequest {
                key_id: self.key_arn.clone(),
                ciphertext_blob: blob.to_vec(),
                encryption_context: Default::default(),
                grant_tokens: self.grant_tokens.clone(),
                encryption_algorithm: Some(self.algorithm),
            })
            .await;
        let response = match response {
            Ok(response) => response,
            // Same rule as the AWS KMS keyring: KMS says the ciphertext does
            // not decrypt under this key and algorithm — altered, or sealed
            // with another key or algorithm.
            Err(e) if e.name == "InvalidCiphertextException" => {
                return Err(Error::integrity(format!(
                    "{} (the RSA ciphertext was altered, or sealed with another key or \
                     encryption algorithm)",
                    self.failure(&e)
                )))
            }
            Err(e) => return Ok(Unwrapped::Failed(self.failure(&e))),
        };
        // The response KeyId MUST equal the configured key.
        if response.key_id != self.key_arn {
            return Ok(Unwrapped::Failed(format!(
                "KMS Decrypt with key {} in {} answered for key {:?}",
                self.key_arn, self.region, response.key_id
            )));
        }
        let plaintext = response.plaintext.expose();
        if plaintext.len() != DIGEST_LEN + INTERMEDIATE_KEY_LEN {
            return Err(Error::integrity(format!(
                "KMS Decrypt with key {} returned {} bytes, expected {} (a context digest and \
                 a key)",
                self.key_arn,
                plaintext.len(),
                DIGEST_LEN + INTERMEDIATE_KEY_LEN
            )));
        }
        let (digest, key) = plaintext.split_at(DIGEST_LEN);
        // The digest binds the EDK to the item's encryption context.
        if !ct_eq(digest, &sha384(request.serialized_ec)) {
            return Err(Error::integrity(format!(
                "the encryption context digest sealed with key {} does not match this item's \
                 encryption context (the item was moved or altered)",
                self.key_arn
            )));
        }
        Ok(Unwrapped::Key(SecretBytes::from_slice(key), None))
    }
}

/// The public key of the KMS RSA key `key_id` (GetPublicKey), as the PEM
/// SubjectPublicKeyInfo [`AwsKmsRsaKeyring::new`] takes. Refuses a key KMS
/// says is not for encryption (`KeyUsage` other than `ENCRYPT_DECRYPT`): what
/// it sealed could never be opened. Call it once and keep the PEM: it is
/// public, and sealing with it needs no credentials.
pub async fn get_public_key_pem(
    client: &dyn KmsClient,
    key_id: &str,
    grant_tokens: Vec<String>,
) -> Result<String> {
    validate_grant_tokens(&grant_tokens)?;
    let response = client
        .get_public_key(GetPublicKeyRequest {
            key_id: key_id.to_string(),
            grant_tokens,
        })
        .await
        .map_err(|e| {
            Error::KeyProviderFailure(format!(
                "KMS GetPublicKey with key {key_id} failed: {}: {}",
                e.name, e.message
            ))
        })?;
    if let Some(usage) = response.key_usage.as_deref() {
        if usage != "ENCRYPT_DECRYPT" {
            return Err(Error::InvalidKey(format!(
                "KMS key {key_id} has key usage {usage}; the AWS KMS RSA keyring needs an RSA \
                 key with usage ENCRYPT_DECRYPT"
            )));
        }
    }
    if let Some(spec) = response.key_spec.as_deref() {
        if !spec.starts_with("RSA_") {
            return Err(Error::InvalidKey(format!(
                "KMS key {key_id} is a {spec} key; the AWS KMS RSA keyring needs an RSA key"
            )));
        }
    }
    // Checked as the keyring will check it (one parser in the binary).
    let pem = spki_pem(&response.public_key);
    checked_public_key(key_id, &pem)?;
    Ok(pem)
}

/// PEM of a DER SubjectPublicKeyInfo: base64 in 64-character lines (RFC 7468).
fn spki_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    pem.push_str("-----BEGIN PUBLIC KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}
