//! AWS KMS keyrings for the DB-ESDK suites.
//!
//! Spec: framework/aws-kms/ (aws-kms-keyring.md, aws-kms-mrk-keyring.md,
//! aws-kms-mrk-discovery-keyring.md, aws-kms-mrk-multi-keyrings.md); reference
//! code: the MPL's `Keyrings/AwsKms/*.dfy`, which wins where the two differ.
//!
//! # The EDK under intermediate key wrapping
//!
//! Both DB-ESDK suites (0x6700, 0x6701) use intermediate key wrapping. In the
//! MPL, `EdkWrapping.WrapEdkMaterial` sends both the "generate" case (no data
//! key yet) and the "wrap" case (a data key from an earlier keyring) to
//! `IntermediateKeyWrapping`, and `IntermediateWrap` always calls the
//! keyring's `generateAndWrap`, which for KMS is `KmsGenerateAndWrapKeyMaterial`
//! (GenerateDataKey). So, for every KMS EDK:
//! - the data key is local randomness (`IntermediateGenerateAndWrap`), or the
//!   one already in the materials; it never comes from KMS;
//! - GenerateDataKey(KeyId = the configured identifier, NumberOfBytes = 32,
//!   EncryptionContext = the materials' context, GrantTokens) gives the
//!   *intermediate key* (its `Plaintext`) and its `CiphertextBlob`;
//! - the EDK is provider id `aws-kms`, provider info the response `KeyId`
//!   (the key ARN, UTF-8), and ciphertext
//!   `AES-256-GCM(key derived from the intermediate key, data key) (48 bytes) || CiphertextBlob`.
//!
//! KMS Encrypt is never called. On decrypt, the bytes after the first 48 go to
//! KMS Decrypt, whose plaintext is the intermediate key that opens the first 48.

pub mod arn;
pub mod client;
pub mod ecdh_keyring;
#[cfg(feature = "rsa")]
pub mod rsa_keyring;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

pub use arn::{
    assert_mrks_are_unique, mrk_match_for_decrypt, KmsArn, KmsKeyId, ResourceType,
    MAX_IDENTIFIER_LEN,
};
pub use client::{
    CachingClientSupplier, DecryptRequest, DecryptResponse, DeriveSharedSecretRequest,
    DeriveSharedSecretResponse, EncryptionAlgorithm, GenerateDataKeyRequest,
    GenerateDataKeyResponse, GenerateDataKeyWithoutPlaintextResponse, GetPublicKeyRequest,
    GetPublicKeyResponse, KmsClient, KmsClientSupplier, KmsError, ReEncryptRequest,
    ReEncryptResponse,
};
pub use ecdh_keyring::{AwsKmsEcdhKeyring, AwsKmsEcdhScheme};
#[cfg(feature = "rsa")]
pub use rsa_keyring::{get_public_key_pem, AwsKmsRsaKeyring, MIN_RSA_KEY_BITS, RSA_PROVIDER_ID};

use crate::error::{Error, Result};
use crate::keyring::intermediate::ProviderWrapped;
use crate::keyring::provider::{
    BrokenEdks, Claim, KeyProvider, UnwrapRequest, Unwrapped, WrapRequest, Wrapped,
};
use crate::keyring::{Keyring, MultiKeyring};
use crate::materials::EncryptedDataKey;
use crate::suite::KEY_LEN;

/// The provider id of every AWS KMS EDK.
pub const PROVIDER_ID: &str = "aws-kms";
/// KMS accepts at most this many grant tokens (MPL `GetValidGrantTokens`).
pub const MAX_GRANT_TOKENS: usize = 10;
const MAX_GRANT_TOKEN_LEN: usize = 8192;
/// KMS's `CiphertextType` length bounds (MPL `KMS.IsValid_CiphertextType`).
pub(crate) const CIPHERTEXT_BLOB_LEN: std::ops::RangeInclusive<usize> = 1..=6144;

/// A key ARN (not an alias, not a bare id) for the asymmetric KMS keyrings:
/// their EDKs or KMS answers name it, and its region goes into messages.
pub(crate) fn parse_key_arn(key_arn: &str, keyring: &str) -> Result<KmsArn> {
    let refuse = |why: String| {
        Error::InvalidConfig(format!(
            "the {keyring} keyring needs the ARN of a KMS key \
             (arn:aws:kms:REGION:ACCOUNT:key/ID), got {key_arn:?}: {why}"
        ))
    };
    if !key_arn.starts_with("arn:") {
        return Err(refuse("not an ARN".into()));
    }
    let arn = KmsArn::parse(key_arn).map_err(|e| refuse(e.to_string()))?;
    if arn.resource_type != ResourceType::Key {
        return Err(refuse("an alias cannot be used".into()));
    }
    Ok(arn)
}

pub(crate) fn validate_grant_tokens(tokens: &[String]) -> Result<()> {
    if tokens.len() > MAX_GRANT_TOKENS {
        return Err(Error::InvalidConfig(format!(
            "at most {MAX_GRANT_TOKENS} grant tokens are allowed, got {}",
            tokens.len()
        )));
    }
    if tokens
        .iter()
        .any(|t| t.is_empty() || t.len() > MAX_GRANT_TOKEN_LEN)
    {
        return Err(Error::InvalidConfig(format!(
            "every grant token must be 1 to {MAX_GRANT_TOKEN_LEN} characters"
        )));
    }
    Ok(())
}

/// Limits a discovery keyring to keys of one partition and some accounts.
/// Spec: aws-kms-mrk-discovery-keyring.md#initialization
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryFilter {
    pub partition: String,
    pub account_ids: Vec<String>,
}

impl DiscoveryFilter {
    pub fn new(partition: &str, account_ids: Vec<String>) -> Result<Self> {
        let filter = DiscoveryFilter {
            partition: partition.to_string(),
            account_ids,
        };
        filter.validate()?;
        Ok(filter)
    }

    /// MPL `ValidateDiscoveryFilter`; the fields are public, so keyrings check again.
    fn validate(&self) -> Result<()> {
        if self.partition.is_empty()
            || self.account_ids.is_empty()
            || self.account_ids.iter().any(String::is_empty)
        {
            return Err(Error::InvalidConfig(
                "a discovery filter needs a partition and at least one non-empty account id".into(),
            ));
        }
        Ok(())
    }

    fn allows(&self, arn: &KmsArn) -> bool {
        arn.partition == self.partition && self.account_ids.contains(&arn.account)
    }
}

/// Which EDKs a KMS keyring may open, and with which key id it calls Decrypt.
#[derive(Debug, Clone)]
enum DecryptScope {
    /// Only EDKs whose provider info is exactly the configured identifier.
    /// Spec: aws-kms-keyring.md#ondecrypt
    Exact(String),
    /// EDKs whose ARN MRK-matches the configured key; Decrypt uses the
    /// configured identifier, so KMS is called only in its region.
    /// Spec: aws-kms-mrk-keyring.md#ondecrypt
    MrkMatch(String),
    /// EDKs of key ARNs within the filter; an MRK's ARN is rewritten to this
    /// region, any other key must already be in it.
    /// Spec: aws-kms-mrk-discovery-keyring.md#ondecrypt
    Discovery {
        region: String,
        filter: Option<DiscoveryFilter>,
    },
}

/// What the decrypt filter says about one `aws-kms` EDK.
enum Verdict {
    /// Call Decrypt with this key id.
    Try(String),
    /// Not for this keyring, and why.
    Decline(String),
}

/// The engine behind every AWS KMS keyring: strict, MRK-aware strict, or
/// MRK-aware discovery. [`AwsKmsKeyring::new`] is the strict keyring;
/// [`AwsKmsMrkKeyring`] and [`AwsKmsMrkDiscoveryKeyring`] are the other two as
/// their own types. [`AwsKmsKeyring::new_mrk`] and
/// [`AwsKmsKeyring::new_mrk_discovery`] build the same keyrings as this type,
/// for callers that choose the kind at run time.
pub struct AwsKmsKeyring {
    kind: &'static str,
    /// The identifier GenerateDataKey uses; `None` for discovery keyrings,
    /// which cannot encrypt.
    encrypt_key: Option<String>,
    scope: DecryptScope,
    /// The client's region, for messages.
    region: String,
    client: Arc<dyn KmsClient>,
    grant_tokens: Vec<String>,
}

/// Grant tokens are bearer credentials: Debug leaves them out.
impl std::fmt::Debug for AwsKmsKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKmsKeyring")
            .field("kind", &self.kind)
            .field("key", &self.encrypt_key)
            .field("region", &self.region)
            .field("grant_tokens", &self.grant_tokens.len())
            .finish_non_exhaustive()
    }
}

/// The parsed identifier and the region its client is in: the ARN's region,
/// or `region` for an alias name or raw key id (KMS resolves those in the
/// client's region, which fieldseal cannot see).
fn key_id_and_region(key_id: &str, region: Option<&str>) -> Result<(KmsKeyId, String)> {
    let parsed = KmsKeyId::parse(key_id)?;
    let region = match (parsed.region(), region) {
        (Some(r), _) => r.to_string(),
        (None, Some(r)) if !r.is_empty() => r.to_string(),
        _ => {
            return Err(Error::InvalidConfig(format!(
                "{key_id:?} is not an ARN, so the keyring needs a region"
            )))
        }
    };
    Ok((parsed, region))
}

/// One client per region for the keyrings of one multi-keyring, whatever the
/// supplier does.
fn client_for(
    clients: &dyn KmsClientSupplier,
    made: &mut BTreeMap<String, Arc<dyn KmsClient>>,
    region: &str,
) -> Result<Arc<dyn KmsClient>> {
    if let Some(client) = made.get(region) {
        return Ok(client.clone());
    }
    let client = clients.client(region)?;
    made.insert(region.to_string(), client.clone());
    Ok(client)
}

impl AwsKmsKeyring {
    /// Strict keyring for one key: encrypts with it and opens only EDKs whose
    /// provider info is exactly `key_id`. `region` is needed only when
    /// `key_id` is not an ARN. Spec: aws-kms-keyring.md#initialization
    pub fn new(
        key_id: &str,
        region: Option<&str>,
        client: Arc<dyn KmsClient>,
        grant_tokens: Vec<String>,
    ) -> Result<Self> {
        Self::for_key(false, key_id, region, client, grant_tokens)
    }

    /// The keyring of [`AwsKmsMrkKeyring::new`], as this type.
    pub fn new_mrk(
        key_id: &str,
        region: Option<&str>,
        client: Arc<dyn KmsClient>,
        grant_tokens: Vec<String>,
    ) -> Result<Self> {
        Self::for_key(true, key_id, region, client, grant_tokens)
    }

    fn for_key(
        mrk_aware: bool,
        key_id: &str,
        region: Option<&str>,
        client: Arc<dyn KmsClient>,
        grant_tokens: Vec<String>,
    ) -> Result<Self> {
        let (_, region) = key_id_and_region(key_id, region)?;
        validate_grant_tokens(&grant_tokens)?;
        let (kind, scope) = if mrk_aware {
            (
                "AWS KMS MRK keyring",
                DecryptScope::MrkMatch(key_id.to_string()),
            )
        } else {
            ("AWS KMS keyring", DecryptScope::Exact(key_id.to_string()))
        };
        Ok(AwsKmsKeyring {
            kind,
            encrypt_key: Some(key_id.to_string()),
            scope,
            region,
            client,
            grant_tokens,
        })
    }

    /// The keyring of [`AwsKmsMrkDiscoveryKeyring::new`], as this type.
    pub fn new_mrk_discovery(
        region: &str,
        filter: Option<DiscoveryFilter>,
        client: Arc<dyn KmsClient>,
        grant_tokens: Vec<String>,
    ) -> Result<Self> {
        if region.is_empty() {
            return Err(Error::InvalidConfig(
                "an AWS KMS MRK discovery keyring needs a region".into(),
            ));
        }
        if let Some(filter) = &filter {
            filter.validate()?;
        }
        validate_grant_tokens(&grant_tokens)?;
        Ok(AwsKmsKeyring {
            kind: "AWS KMS MRK discovery keyring",
            encrypt_key: None,
            scope: DecryptScope::Discovery {
                region: region.to_string(),
                filter,
            },
            region: region.to_string(),
            client,
            grant_tokens,
        })
    }

    fn failure(&self, operation: &str, key: &str, error: &KmsError) -> String {
        format!(
            "KMS {operation} with key {key} in {} failed: {}: {}",
            self.region, error.name, error.message
        )
    }

    /// The decrypt filter for one `aws-kms` EDK's provider info. An
    /// error (not a decline) fails the whole OnDecrypt before any KMS call,
    /// as the MPL's filters do (`OnDecryptEncryptedDataKeyFilter`,
    /// `OnDecryptMrkAwareEncryptedDataKeyFilter`, `AwsKmsEncryptedDataKeyFilterTransform`).
    fn verdict(&self, index: usize, provider_info: &[u8]) -> Result<Verdict> {
        let malformed = |why: String| {
            Error::MalformedCiphertext(format!("{}: EDK #{index}: {why}", self.describe()))
        };
        let info = std::str::from_utf8(provider_info)
            .map_err(|_| malformed("its aws-kms provider info is not UTF-8".into()))?;
        // Spec: aws-kms-keyring.md#ondecrypt — the provider info MUST be a valid AWS KMS ARN.
        let edk_arn = KmsArn::parse(info).map_err(|e| malformed(e.to_string()))?;
        Ok(match &self.scope {
            DecryptScope::Exact(key) => {
                if info == key {
                    Verdict::Try(key.clone())
                } else {
                    Verdict::Decline(format!("it is for {info}"))
                }
            }
            DecryptScope::MrkMatch(key) => {
                if mrk_match_for_decrypt(key, info) {
                    Verdict::Try(key.clone())
                } else {
                    Verdict::Decline(format!("{info} is not {key} nor a replica of it"))
                }
            }
            DecryptScope::Discovery { region, filter } => {
                // Spec: aws-kms-mrk-discovery-keyring.md#ondecrypt — resource type `key` or fail.
                if edk_arn.resource_type != ResourceType::Key {
                    return Err(malformed(format!("{info} is not a key ARN")));
                }
                match filter {
                    Some(f) if !f.allows(&edk_arn) => Verdict::Decline(format!(
                        "{info} is outside the discovery filter (partition {}, accounts [{}])",
                        f.partition,
                        f.account_ids.join(", ")
                    )),
                    _ if edk_arn.is_multi_region_key() => {
                        Verdict::Try(edk_arn.in_region(region).to_string())
                    }
                    _ if &edk_arn.region == region => Verdict::Try(info.to_string()),
                    _ => Verdict::Decline(format!(
                        "{info} is a single-Region key in another region than {region}"
                    )),
                }
            }
        })
    }

    /// GenerateDataKey's answer, checked: (plaintext, key ARN, ciphertext blob).
    /// Spec: aws-kms-keyring.md#onencrypt
    fn checked_data_key(
        &self,
        key: &str,
        response: GenerateDataKeyResponse,
    ) -> Result<GenerateDataKeyResponse> {
        let fail = |what: String| {
            Error::KeyProviderFailure(format!(
                "KMS GenerateDataKey with key {key} in {} {what}",
                self.region
            ))
        };
        // KeyId MUST be a valid AWS KMS key ARN. (The MPL accepts any
        // identifier here; no KMS keyring could ever decrypt an EDK whose
        // provider info is not a key ARN, so fail now.)
        match KmsArn::parse(&response.key_id) {
            Ok(arn) if arn.resource_type == ResourceType::Key => {}
            _ => {
                return Err(fail(format!(
                    "answered with key id {:?}, not a key ARN",
                    response.key_id
                )))
            }
        }
        if response.key_id.len() >= usize::from(u16::MAX) {
            return Err(fail("answered with a key id too long to store".into()));
        }
        // Plaintext length = key derivation input length.
        if response.plaintext.len() != KEY_LEN {
            return Err(fail(format!(
                "returned {} plaintext bytes, expected {KEY_LEN}",
                response.plaintext.len()
            )));
        }
        if !CIPHERTEXT_BLOB_LEN.contains(&response.ciphertext_blob.len()) {
            return Err(fail(format!(
                "returned a ciphertext of {} bytes, outside KMS's 1 to 6144",
                response.ciphertext_blob.len()
            )));
        }
        Ok(response)
    }

    /// Decrypt's answer, checked. Spec: aws-kms-keyring.md#ondecrypt
    fn checked_plaintext(&self, key: &str, response: DecryptResponse) -> Unwrapped {
        // The response KeyId MUST equal the key asked for.
        if response.key_id != key {
            return Unwrapped::Failed(format!(
                "KMS Decrypt with key {key} in {} answered for key {:?}",
                self.region, response.key_id
            ));
        }
        // Plaintext length = key derivation input length.
        if response.plaintext.len() != KEY_LEN {
            return Unwrapped::Failed(format!(
                "KMS Decrypt with key {key} in {} returned {} plaintext bytes, expected {KEY_LEN}",
                self.region,
                response.plaintext.len()
            ));
        }
        Unwrapped::Key(response.plaintext, None)
    }
}

/// The EDK under intermediate key wrapping (see the module docs): KMS's
/// GenerateDataKey makes the intermediate key, KMS Decrypt unwraps it.
#[async_trait(?Send)]
impl KeyProvider for AwsKmsKeyring {
    /// Kind and key (or region, for discovery).
    fn describe(&self) -> String {
        match &self.encrypt_key {
            Some(key) => format!("{} ({key})", self.kind),
            None => format!("{} ({})", self.kind, self.region),
        }
    }

    /// KMS authenticated the EDK's blob and context: an EDK whose data key
    /// then does not open was tampered with, and says so.
    fn broken_edks(&self) -> BrokenEdks {
        BrokenEdks::KeepCode
    }

    async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped> {
        let Some(key) = &self.encrypt_key else {
            // Spec: aws-kms-mrk-discovery-keyring.md#onencrypt — this function MUST fail.
            return Err(Error::InvalidConfig(format!(
                "an {} cannot encrypt; use a keyring with a key id",
                self.kind
            )));
        };
        // Spec: aws-kms-keyring.md#onencrypt — GenerateDataKey request.
        let response = self
            .client
            .generate_data_key(GenerateDataKeyRequest {
                key_id: key.clone(),
                number_of_bytes: KEY_LEN as u32,
                encryption_context: request.encryption_context.clone(),
                grant_tokens: self.grant_tokens.clone(),
            })
            .await
            .map_err(|e| Error::KeyProviderFailure(self.failure("GenerateDataKey", key, &e)))?;
        let response = self.checked_data_key(key, response)?;
        // IntermediateWrap: GenerateDataKey's plaintext is the intermediate key.
        Ok(Wrapped {
            intermediate_key: response.plaintext,
            edk: ProviderWrapped {
                key_provider_id: PROVIDER_ID.to_string(),
                key_provider_info: response.key_id.into_bytes(),
                wrapped_intermediate_key: response.ciphertext_blob,
            },
            key_use: None,
        })
    }

    /// Spec: aws-kms-keyring.md#ondecrypt — filter first, then try one at a time.
    fn claim(&self, index: usize, edk: &EncryptedDataKey) -> Result<Claim> {
        if edk.key_provider_id != PROVIDER_ID {
            return Ok(Claim::Skip);
        }
        Ok(match self.verdict(index, &edk.key_provider_info)? {
            Verdict::Try(_) => Claim::Mine,
            Verdict::Decline(why) => Claim::Decline(why),
        })
    }

    /// One Decrypt attempt (MPL `KmsUnwrapKeyMaterial` inside
    /// `EdkWrapping.UnwrapEdkMaterial`).
    async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped> {
        let Verdict::Try(key) = self.verdict(request.index, &request.edk.key_provider_info)? else {
            return Ok(Unwrapped::Declined("not for this keyring".into()));
        };
        let blob = request.wrapped;
        if !CIPHERTEXT_BLOB_LEN.contains(&blob.len()) {
            return Err(Error::malformed(format!(
                "its KMS ciphertext is {} bytes, outside KMS's 1 to 6144",
                blob.len()
            )));
        }
        let response = self
            .client
            .decrypt(DecryptRequest {
                key_id: key.clone(),
                ciphertext_blob: blob.to_vec(),
                encryption_context: request.encryption_context.clone(),
                grant_tokens: self.grant_tokens.clone(),
                encryption_algorithm: None,
            })
            .await;
        Ok(match response {
            Ok(response) => self.checked_plaintext(&key, response),
            // KMS authenticates the blob and the encryption context (the
            // record's table and key attributes) and answers this when either
            // was changed: a record moved or altered, not an outage.
            Err(e) if e.name == "InvalidCiphertextException" => {
                return Err(Error::integrity(self.failure("Decrypt", &key, &e)))
            }
            Err(e) => Unwrapped::Failed(self.failure("Decrypt", &key, &e)),
        })
    }
}

/// The MRK-aware strict keyring: encrypts with its key and opens EDKs of that
/// key or of any replica of it (a multi-Region key), always calling KMS with
/// its own identifier, so only in its own region: an item sealed in
/// us-east-1 opens in eu-west-1 without reaching us-east-1.
/// Spec: aws-kms-mrk-keyring.md
#[derive(Debug)]
pub struct AwsKmsMrkKeyring(AwsKmsKeyring);

impl AwsKmsMrkKeyring {
    /// `region` is needed only when `key_id` is not an ARN.
    pub fn new(
        key_id: &str,
        region: Option<&str>,
        client: Arc<dyn KmsClient>,
        grant_tokens: Vec<String>,
    ) -> Result<Self> {
        AwsKmsKeyring::new_mrk(key_id, region, client, grant_tokens).map(AwsKmsMrkKeyring)
    }

    /// The strict MRK multi-keyring: the generator and each key get an MRK
    /// keyring with their region's client. Every identifier must be an ARN
    /// (fieldseal has no default region to resolve others in), and no
    /// multi-Region key may appear twice.
    /// Spec: aws-kms-mrk-multi-keyrings.md#aws-kms-mrk-multi-keyring
    pub fn multi(
        generator: Option<&str>,
        key_ids: &[String],
        clients: &dyn KmsClientSupplier,
        grant_tokens: Vec<String>,
    ) -> Result<MultiKeyring> {
        validate_grant_tokens(&grant_tokens)?;
        let all: Vec<&str> = generator
            .into_iter()
            .chain(key_ids.iter().map(String::as_str))
            .collect();
        let mut parsed = Vec::with_capacity(all.len());
        for id in &all {
            match KmsKeyId::parse(id)? {
                arn @ KmsKeyId::Arn(_) => parsed.push(arn),
                _ => {
                    return Err(Error::InvalidConfig(format!(
                        "{id:?} is not an ARN; the keys of an MRK multi-keyring must be ARNs"
                    )))
                }
            }
        }
        assert_mrks_are_unique(&parsed)?;
        let mut made = BTreeMap::new();
        let mut build = |id: &str, parsed: &KmsKeyId| -> Result<Arc<dyn Keyring>> {
            let region = parsed.region().unwrap_or_default();
            let client = client_for(clients, &mut made, region)?;
            Ok(Arc::new(AwsKmsMrkKeyring::new(
                id,
                None,
                client,
                grant_tokens.clone(),
            )?))
        };
        let mut keyrings = all
            .iter()
            .zip(&parsed)
            .map(|(id, p)| build(id, p))
            .collect::<Result<Vec<_>>>()?;
        let generator = generator.map(|_| keyrings.remove(0));
        MultiKeyring::new(generator, keyrings)
    }
}

/// The MRK keyrings are [`AwsKmsKeyring`]s built with other rules; as their
/// own types they keep those rules visible in signatures, and behave as the
/// keyring they wrap.
macro_rules! kms_keyring_newtype {
    ($name:ident) => {
        impl From<$name> for AwsKmsKeyring {
            fn from(keyring: $name) -> Self {
                keyring.0
            }
        }

        #[async_trait(?Send)]
        impl KeyProvider for $name {
            fn describe(&self) -> String {
                self.0.describe()
            }

            fn broken_edks(&self) -> BrokenEdks {
                self.0.broken_edks()
            }

            async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped> {
                self.0.wrap(request).await
            }

            fn claim(&self, index: usize, edk: &EncryptedDataKey) -> Result<Claim> {
                self.0.claim(index, edk)
            }

            async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped> {
                self.0.unwrap(request).await
            }
        }
    };
}

kms_keyring_newtype!(AwsKmsMrkKeyring);

/// The MRK-aware discovery keyring: opens any `aws-kms` EDK it can reach from
/// its region (within the optional filter), rewriting a multi-Region key's
/// ARN to its own region, so a replica answers locally. Single-Region keys of
/// other regions are skipped without a call. It cannot encrypt.
/// Spec: aws-kms-mrk-discovery-keyring.md
#[derive(Debug)]
pub struct AwsKmsMrkDiscoveryKeyring(AwsKmsKeyring);

impl AwsKmsMrkDiscoveryKeyring {
    /// `client` must be for `region`.
    pub fn new(
        region: &str,
        filter: Option<DiscoveryFilter>,
        client: Arc<dyn KmsClient>,
        grant_tokens: Vec<String>,
    ) -> Result<Self> {
        AwsKmsKeyring::new_mrk_discovery(region, filter, client, grant_tokens)
            .map(AwsKmsMrkDiscoveryKeyring)
    }

    /// The MRK discovery multi-keyring: one discovery keyring per region, tried in order.
    /// Spec: aws-kms-mrk-multi-keyrings.md#aws-kms-mrk-discovery-multi-keyring
    pub fn multi(
        regions: &[String],
        filter: Option<DiscoveryFilter>,
        clients: &dyn KmsClientSupplier,
        grant_tokens: Vec<String>,
    ) -> Result<MultiKeyring> {
        if regions.is_empty() || regions.iter().any(String::is_empty) {
            return Err(Error::InvalidConfig(
                "an MRK discovery multi-keyring needs at least one region, none empty".into(),
            ));
        }
        let mut made = BTreeMap::new();
        let children = regions
            .iter()
            .map(|region| -> Result<Arc<dyn Keyring>> {
                let client = client_for(clients, &mut made, region)?;
                Ok(Arc::new(AwsKmsMrkDiscoveryKeyring::new(
                    region,
                    filter.clone(),
                    client,
                    grant_tokens.clone(),
                )?))
            })
            .collect::<Result<_>>()?;
        MultiKeyring::new(None, children)
    }
}

kms_keyring_newtype!(AwsKmsMrkDiscoveryKeyring);
