//! The AWS KMS hierarchical keyring: branch keys from a [`KeyStore`],
//! cached, so that KMS is called once per branch key version and TTL, not
//! once per item. Spec: aws-kms-hierarchical-keyring.md
//!
//! The wrapping itself is [`BranchKey`]'s; this module only finds the
//! branch key: which one (a fixed id or a supplier), and from where (the
//! cache, else the store).

use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha384};

use crate::base::MaybeSendSync;
use crate::cache::{CacheId, MaterialsCache, Source};
use crate::error::{Error, Result};
use crate::keyring::hierarchy::{edk_version, format_uuid, BranchKey, PROVIDER_ID_HIERARCHY};
use crate::keyring::provider::{
    BrokenEdks, Claim, KeyProvider, UnwrapRequest, Unwrapped, WrapRequest, Wrapped,
};
use crate::keystore::{BranchKeyMaterials, KeyStore};
use crate::materials::{EncryptedDataKey, EncryptionContext, KeyUse};

/// Picks the branch key for an operation from its encryption context: one
/// table serving many tenants, each under its own branch key.
/// Spec: aws-kms-hierarchical-keyring.md#branch-key-supplier
#[async_trait(?Send)]
pub trait BranchKeyIdSupplier: MaybeSendSync {
    async fn branch_key_id(&self, encryption_context: &EncryptionContext) -> Result<String>;
}

/// Which branch key a keyring uses.
#[derive(Clone)]
pub enum BranchKeyIdSource {
    Fixed(String),
    Supplier(Arc<dyn BranchKeyIdSupplier>),
}

/// The branch keys a cache holds. Shareable between keyrings (the MPL's
/// `Shared` cache): entries are told apart by partition id and key store.
pub type BranchKeyCache = MaterialsCache<Arc<BranchKey>>;

/// Entries a keyring's own cache keeps when none is given.
/// Spec: aws-kms-hierarchical-keyring.md#initialization
pub const DEFAULT_CACHE_ENTRIES: usize = 1000;

pub struct HierarchicalKeyringConfig {
    pub key_store: Arc<KeyStore>,
    pub branch_key_id: BranchKeyIdSource,
    /// How long a branch key is used before the store is read again.
    pub ttl_seconds: u64,
    pub cache: Arc<BranchKeyCache>,
    /// Tells this keyring's entries apart in a shared cache; a random UUID
    /// (16 bytes) when not given. Spec: aws-kms-hierarchical-keyring.md#partition-id
    pub partition_id: Vec<u8>,
}

pub struct AwsKmsHierarchicalKeyring {
    config: HierarchicalKeyringConfig,
    ttl_ms: u64,
    /// A fixed branch key's encrypt cache id, computed once (a SHA-384 per
    /// item otherwise).
    fixed_encrypt_id: Option<(String, CacheId)>,
}

impl std::fmt::Debug for AwsKmsHierarchicalKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKmsHierarchicalKeyring")
            .field("key_store", &self.config.key_store)
            .field("ttl_seconds", &self.config.ttl_seconds)
            .finish_non_exhaustive()
    }
}

/// Scope of a cache entry. Spec: aws-kms-hierarchical-keyring.md#scope-identifier
#[derive(Clone, Copy)]
enum Scope {
    Encrypt = 1,
    Decrypt = 2,
}

impl AwsKmsHierarchicalKeyring {
    pub fn new(config: HierarchicalKeyringConfig) -> Result<Self> {
        if config.ttl_seconds == 0 {
            return Err(Error::InvalidConfig(
                "ttlSeconds must be greater than zero".into(),
            ));
        }
        if let BranchKeyIdSource::Fixed(id) = &config.branch_key_id {
            if id.is_empty() {
                return Err(Error::InvalidConfig("branchKeyId must not be empty".into()));
            }
        }
        if config.partition_id.is_empty() {
            return Err(Error::InvalidConfig("partitionId must not be empty".into()));
        }
        let ttl_ms = config.ttl_seconds.saturating_mul(1000);
        let mut keyring = AwsKmsHierarchicalKeyring {
            config,
            ttl_ms,
            fixed_encrypt_id: None,
        };
        if let BranchKeyIdSource::Fixed(id) = &keyring.config.branch_key_id {
            keyring.fixed_encrypt_id =
                Some((id.clone(), keyring.cache_id(Scope::Encrypt, id, None)));
        }
        Ok(keyring)
    }

    /// The branch key id for this operation: the configured one, or the
    /// supplier's answer for this encryption context.
    async fn branch_key_id(&self, encryption_context: &EncryptionContext) -> Result<String> {
        match &self.config.branch_key_id {
            BranchKeyIdSource::Fixed(id) => Ok(id.clone()),
            BranchKeyIdSource::Supplier(supplier) => {
                let id = supplier.branch_key_id(encryption_context).await?;
                if id.is_empty() {
                    return Err(Error::KeyProviderFailure(
                        "the branch key id supplier returned an empty id".into(),
                    ));
                }
                Ok(id)
            }
        }
    }

    /// Spec: aws-kms-hierarchical-keyring.md#appendix-a-cache-entry-identifier-formulas
    fn cache_id(&self, scope: Scope, branch_key_id: &str, version: Option<&str>) -> CacheId {
        let mut hash = Sha384::new();
        hash.update([0x02, 0x00, scope as u8, 0x00]);
        hash.update(&self.config.partition_id);
        hash.update([0x00]);
        hash.update(self.config.key_store.logical_key_store_name().as_bytes());
        hash.update([0x00]);
        hash.update(branch_key_id.as_bytes());
        if let Some(version) = version {
            hash.update([0x00]);
            hash.update(version.as_bytes());
        }
        hash.finalize().into()
    }

    /// The active branch key, from the cache or the store.
    pub async fn active_branch_key(&self, branch_key_id: &str) -> Result<(Arc<BranchKey>, KeyUse)> {
        let store = &self.config.key_store;
        let id = match &self.fixed_encrypt_id {
            Some((fixed, id)) if fixed == branch_key_id => *id,
            _ => self.cache_id(Scope::Encrypt, branch_key_id, None),
        };
        let load = || async move { checked(store.get_active_branch_key(branch_key_id).await?) };
        self.lookup(id, load).await
    }

    /// One version of a branch key, from the cache or the store.
    pub async fn branch_key_version(
        &self,
        branch_key_id: &str,
        version: &str,
    ) -> Result<(Arc<BranchKey>, KeyUse)> {
        let store = &self.config.key_store;
        let id = self.cache_id(Scope::Decrypt, branch_key_id, Some(version));
        let load =
            || async move { checked(store.get_branch_key_version(branch_key_id, version).await?) };
        self.lookup(id, load).await
    }

    async fn lookup<F, Fut>(&self, id: CacheId, load: F) -> Result<(Arc<BranchKey>, KeyUse)>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Arc<BranchKey>>>,
    {
        let (key, source) = self.config.cache.get_or_load(id, self.ttl_ms, load).await?;
        let used = KeyUse {
            key_provider_id: PROVIDER_ID_HIERARCHY.to_owned(),
            key: key.id().to_owned(),
            version: Some(key.version().to_owned()),
            cache_hit: !matches!(source, Source::Loaded),
        };
        Ok((key, used))
    }
}

/// The store's answer as a [`BranchKey`] (its checks: 32 bytes, a UUID version).
fn checked(materials: BranchKeyMaterials) -> Result<Arc<BranchKey>> {
    BranchKey::new(
        &materials.branch_key_id,
        &materials.branch_key_version,
        materials.branch_key.expose(),
    )
    .map(Arc::new)
    .map_err(|e| {
        Error::KeyStoreFailure(format!(
            "branch key {:?} version {:?} from the key store is unusable: {e}",
            materials.branch_key_id, materials.branch_key_version
        ))
    })
}

#[async_trait(?Send)]
impl KeyProvider for AwsKmsHierarchicalKeyring {
    fn describe(&self) -> String {
        match &self.config.branch_key_id {
            BranchKeyIdSource::Fixed(id) => format!(
                "hierarchical keyring (branch key id {id:?}, key store {:?})",
                self.config.key_store.table_name()
            ),
            BranchKeyIdSource::Supplier(_) => format!(
                "hierarchical keyring (branch key id supplier, key store {:?})",
                self.config.key_store.table_name()
            ),
        }
    }

    /// A store or KMS failure is the operation's failure, with its own code.
    fn broken_edks(&self) -> BrokenEdks {
        BrokenEdks::KeepCode
    }

    /// Spec: aws-kms-hierarchical-keyring.md#onencrypt
    async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped> {
        let id = self.branch_key_id(request.encryption_context).await?;
        let (branch_key, used) = self.active_branch_key(&id).await?;
        let mut wrapped = branch_key.wrap(&request)?;
        wrapped.key_use = Some(used);
        Ok(wrapped)
    }

    /// Spec: aws-kms-hierarchical-keyring.md#ondecrypt (the provider info
    /// must be the branch key id; with a supplier that is known in `unwrap`).
    fn claim(&self, _index: usize, edk: &EncryptedDataKey) -> Result<Claim> {
        if edk.key_provider_id != PROVIDER_ID_HIERARCHY {
            return Ok(Claim::Skip);
        }
        Ok(match &self.config.branch_key_id {
            BranchKeyIdSource::Fixed(id) if edk.key_provider_info != id.as_bytes() => Claim::Skip,
            _ => Claim::Mine,
        })
    }

    async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped> {
        let id = self.branch_key_id(request.encryption_context).await?;
        if request.edk.key_provider_info != id.as_bytes() {
            return Ok(Unwrapped::Declined(format!(
                "wrapped under branch key {:?}, the supplier chose {id:?}",
                String::from_utf8_lossy(&request.edk.key_provider_info)
            )));
        }
        let version = format_uuid(&edk_version(request.wrapped)?);
        match self.branch_key_version(&id, &version).await {
            Ok((branch_key, used)) => branch_key
                .unwrap(request.wrapped, request.serialized_ec)
                .map(|key| Unwrapped::Key(key, Some(used))),
            Err(e) => Ok(Unwrapped::Error(e)),
        }
    }
}
