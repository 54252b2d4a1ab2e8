//! AWS KMS keyrings for the DB-ESDK suites.
//! Spec: framework/aws-kms/ (aws-kms-keyring.md, aws-kms-mrk-keyring.md,
//! aws-kms-mrk-discovery-keyring.md, aws-kms-mrk-multi-keyrings.md).
//!
//! Both DB-ESDK suites use intermediate key wrapping (reference:
//! `KeyWrapping/IntermediateKeyWrapping.dfy`), so a KMS keyring always calls
//! GenerateDataKey, even when the data key already exists: KMS's plaintext is
//! the intermediate key, and the EDK is
//! - provider id `aws-kms`, provider info the key ARN KMS answered with,
//! - ciphertext `encrypted data key (48) || KMS CiphertextBlob`.
//!
//! On decrypt the blob goes back to KMS Decrypt, which yields the intermediate key.

pub mod arn;
pub mod client;

use std::sync::Arc;

use async_trait::async_trait;

pub use arn::{mrk_match_for_decrypt, KmsArn, KmsKeyId};
pub use client::{
    DecryptRequest, DecryptResponse, GenerateDataKeyRequest, GenerateDataKeyResponse, KmsClient,
    KmsClientSupplier, KmsError,
};

use crate::error::{Error, Result};
use crate::keyring::intermediate::{self, PendingWrap};
use crate::keyring::{Keyring, MultiKeyring};
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::suite::KEY_LEN;

/// The provider id of every AWS KMS EDK.
pub const PROVIDER_ID: &str = "aws-kms";

/// Which EDKs a KMS keyring may open, and with which key id it calls Decrypt.
#[derive(Debug, Clone)]
enum DecryptScope {
    /// Only EDKs whose ARN is exactly the keyring's key. Spec: aws-kms-keyring.md#ondecrypt
    Exact(String),
    /// EDKs whose ARN MRK-matches the keyring's key; Decrypt uses the keyring's
    /// own ARN (its region). Spec: aws-kms-mrk-keyring.md#ondecrypt
    MrkMatch(String),
    /// Any EDK of the filter's partition/accounts; MRKs are rewritten to this
    /// region, other keys must be in it. Spec: aws-kms-mrk-discovery-keyring.md#ondecrypt
    Discovery {
        region: String,
        filter: Option<DiscoveryFilter>,
    },
}

/// Limits a discovery keyring to keys of one partition and some accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryFilter {
    pub partition: String,
    pub account_ids: Vec<String>,
}

impl DiscoveryFilter {
    pub fn new(partition: &str, account_ids: Vec<String>) -> Result<Self> {
        if partition.is_empty()
            || account_ids.is_empty()
            || account_ids.iter().any(String::is_empty)
        {
            return Err(Error::InvalidConfig(
                "a discovery filter needs a partition and at least one non-empty account id".into(),
            ));
        }
        Ok(DiscoveryFilter {
            partition: partition.to_string(),
            account_ids,
        })
    }

    fn allows(&self, arn: &KmsArn) -> bool {
        arn.partition == self.partition && self.account_ids.contains(&arn.account)
    }
}

/// An AWS KMS keyring: strict (one key), MRK-aware strict, or MRK-aware discovery.
pub struct AwsKmsKeyring {
    kind: &'static str,
    /// The key GenerateDataKey uses; `None` for discovery keyrings, which cannot encrypt.
    encrypt_key: Option<String>,
    scope: DecryptScope,
    region: String,
    client: Arc<dyn KmsClient>,
    grant_tokens: Vec<String>,
}

impl std::fmt::Debug for AwsKmsKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKmsKeyring")
            .field("kind", &self.kind)
            .field("key", &self.encrypt_key)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

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

impl AwsKmsKeyring {
    /// Strict keyring for one key. `region` is needed only when `key_id` is not an ARN.
    pub fn new(
        key_id: &str,
        region: Option<&str>,
        client: Arc<dyn KmsClient>,
        grant_tokens: Vec<String>,
    ) -> Result<Self> {
        Self::for_key(false, key_id, region, client, grant_tokens)
    }

    /// MRK-aware strict keyring: opens EDKs of any replica of its multi-Region
    /// key, calling KMS only in its own key's region.
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

    /// MRK-aware discovery keyring for `region` (decrypt only).
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

    /// The strict MRK multi-keyring: a generator and more keys, each keyring
    /// with its region's client. Spec: aws-kms-mrk-multi-keyrings.md
    pub fn mrk_multi(
        generator: Option<&str>,
        key_ids: &[String],
        clients: &dyn KmsClientSupplier,
        grant_tokens: Vec<String>,
    ) -> Result<MultiKeyring> {
        let build = |id: &str| -> Result<Arc<dyn Keyring>> {
            let (_, region) = key_id_and_region(id, None)?;
            Ok(Arc::new(AwsKmsKeyring::new_mrk(
                id,
                None,
                clients.client(&region)?,
                grant_tokens.clone(),
            )?))
        };
        let generator = generator.map(build).transpose()?;
        let children = key_ids.iter().map(|id| build(id)).collect::<Result<_>>()?;
        MultiKeyring::new(generator, children)
    }

    /// The MRK discovery multi-keyring: one discovery keyring per region.
    pub fn mrk_discovery_multi(
        regions: &[String],
        filter: Option<DiscoveryFilter>,
        clients: &dyn KmsClientSupplier,
        grant_tokens: Vec<String>,
    ) -> Result<MultiKeyring> {
        let children = regions
            .iter()
            .map(|r| -> Result<Arc<dyn Keyring>> {
                Ok(Arc::new(AwsKmsKeyring::new_mrk_discovery(
                    r,
                    filter.clone(),
                    clients.client(r)?,
                    grant_tokens.clone(),
                )?))
            })
            .collect::<Result<_>>()?;
        MultiKeyring::new(None, children)
    }

    fn failure(&self, operation: &str, key: &str, error: &KmsError) -> String {
        format!(
            "KMS {operation} with key {key} in {} failed: {}: {}",
            self.region, error.name, error.message
        )
    }

    /// The key id to call Decrypt with for this EDK ARN, or why it is not ours.
    fn decrypt_key_for(&self, edk_arn: &str) -> std::result::Result<String, String> {
        match &self.scope {
            DecryptScope::Exact(key) => {
                if edk_arn == key {
                    Ok(key.clone())
                } else {
                    Err(format!("it is for {edk_arn}"))
                }
            }
            DecryptScope::MrkMatch(key) => {
                if mrk_match_for_decrypt(key, edk_arn) {
                    Ok(key.clone())
                } else {
                    Err(format!("{edk_arn} is not a replica of {key}"))
                }
            }
            DecryptScope::Discovery { region, filter } => {
                let arn = KmsArn::parse(edk_arn).map_err(|e| e.to_string())?;
                if arn.resource_type != arn::ResourceType::Key {
                    return Err(format!("{edk_arn} is not a key ARN"));
                }
                if let Some(f) = filter {
                    if !f.allows(&arn) {
                        return Err(format!(
                            "{edk_arn} is outside the discovery filter (partition {}, accounts {:?})",
                            f.partition, f.account_ids
                        ));
                    }
                }
                if arn.is_multi_region_key() {
                    Ok(arn.in_region(region).to_string())
                } else if &arn.region == region {
                    Ok(edk_arn.to_string())
                } else {
                    Err(format!(
                        "{edk_arn} is a single-Region key in another region"
                    ))
                }
            }
        }
    }
}

#[async_trait(?Send)]
impl Keyring for AwsKmsKeyring {
    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        let Some(key) = &self.encrypt_key else {
            return Err(Error::InvalidConfig(format!(
                "an {} cannot encrypt; use a keyring with a key id",
                self.kind
            )));
        };
        let serialized_ec = intermediate::ensure_data_key(&mut materials)?;
        let response = self
            .client
            .generate_data_key(GenerateDataKeyRequest {
                key_id: key.clone(),
                number_of_bytes: KEY_LEN as u32,
                encryption_context: materials.encryption_context.clone(),
                grant_tokens: self.grant_tokens.clone(),
            })
            .await
            .map_err(|e| Error::KeyProviderFailure(self.failure("GenerateDataKey", key, &e)))?;
        // Spec: aws-kms-keyring.md#onencrypt — the key id must be an ARN, the plaintext the right length.
        KmsArn::parse(&response.key_id).map_err(|_| {
            Error::KeyProviderFailure(format!(
                "KMS GenerateDataKey with key {key} in {} answered with key id {:?}, not a key ARN",
                self.region, response.key_id
            ))
        })?;
        if response.plaintext.len() != KEY_LEN {
            return Err(Error::KeyProviderFailure(format!(
                "KMS GenerateDataKey with key {key} in {} returned {} plaintext bytes, expected {KEY_LEN}",
                self.region,
                response.plaintext.len()
            )));
        }
        if response.ciphertext_blob.is_empty() {
            return Err(Error::KeyProviderFailure(format!(
                "KMS GenerateDataKey with key {key} in {} returned no ciphertext",
                self.region
            )));
        }
        let pending = PendingWrap::start_with(
            intermediate::data_key(&materials)?,
            response.plaintext,
            &serialized_ec,
        )?;
        let (edk, signing_key) = pending.finish(intermediate::ProviderWrapped {
            key_provider_id: PROVIDER_ID.to_string(),
            key_provider_info: response.key_id.into_bytes(),
            wrapped_intermediate_key: response.ciphertext_blob,
        });
        materials.add_recipient(edk, signing_key);
        Ok(materials)
    }

    async fn on_decrypt(
        &self,
        mut materials: DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        if materials.plaintext_data_key.is_some() {
            return Ok(materials);
        }
        let serialized_ec =
            crate::materials::serialize_encryption_context(&materials.encryption_context)?;
        let mut skipped = Vec::new();
        let mut failures = Vec::new();
        for (i, edk) in encrypted_data_keys.iter().enumerate() {
            if edk.key_provider_id != PROVIDER_ID {
                continue;
            }
            let Ok(edk_arn) = std::str::from_utf8(&edk.key_provider_info) else {
                skipped.push(format!("EDK #{i}: its key id is not UTF-8"));
                continue;
            };
            let key = match self.decrypt_key_for(edk_arn) {
                Ok(key) => key,
                Err(why) => {
                    skipped.push(format!("EDK #{i}: {why}"));
                    continue;
                }
            };
            let (encrypted_pdk, blob) = match intermediate::split_ciphertext(&edk.ciphertext) {
                Ok(parts) => parts,
                Err(e) => {
                    skipped.push(format!("EDK #{i}: {e}"));
                    continue;
                }
            };
            let response = match self
                .client
                .decrypt(DecryptRequest {
                    key_id: key.clone(),
                    ciphertext_blob: blob.to_vec(),
                    encryption_context: materials.encryption_context.clone(),
                    grant_tokens: self.grant_tokens.clone(),
                })
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("EDK #{i}: {}", self.failure("Decrypt", &key, &e)));
                    continue;
                }
            };
            // Spec: aws-kms-keyring.md#ondecrypt — KeyId must be the key asked for; length checked.
            if response.key_id != key {
                failures.push(format!(
                    "EDK #{i}: KMS Decrypt in {} answered for key {:?}, not {key}",
                    self.region, response.key_id
                ));
                continue;
            }
            if response.plaintext.len() != KEY_LEN {
                failures.push(format!(
                    "EDK #{i}: KMS Decrypt with key {key} in {} returned {} plaintext bytes, expected {KEY_LEN}",
                    self.region,
                    response.plaintext.len()
                ));
                continue;
            }
            match intermediate::open_data_key(encrypted_pdk, &response.plaintext, &serialized_ec) {
                Ok((data_key, signing_key)) => {
                    materials.set_keys(data_key, signing_key)?;
                    return Ok(materials);
                }
                Err(e) => failures.push(format!("EDK #{i}: {e}")),
            }
        }
        let who = match &self.encrypt_key {
            Some(key) => format!("{} ({key})", self.kind),
            None => format!("{} ({})", self.kind, self.region),
        };
        Err(intermediate::none_opened(
            &who,
            encrypted_data_keys,
            failures,
            skipped,
        ))
    }
}
