//! Beacon keys: the key store's beacon key, one HMAC key derived from it per
//! standard beacon, and the cache that keeps them.
//! Spec: search-config.md#beacon-keys, #hmac-key-generation,
//! #get-beacon-key-materials, #searchable-encryption-cache-identifier;
//! reference code: SearchInfo.dfy (KeySource, getKeysCache, GetHmacKeys).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sha2::{Digest, Sha384};

use crate::base::SecretBytes;
use crate::cache::{CacheId, MaterialsCache};
use crate::error::{Error, Result};
use crate::keystore::KeyStore;
use crate::primitives::hkdf_sha512;

/// Beacon keys as a cache keeps them: shareable between search configs (the
/// MPL's `Shared` cache), entries told apart by partition id, key store and
/// beacon key id.
pub type BeaconKeyCache = MaterialsCache<Arc<BeaconKeys>>;

/// Entries a single key store's own cache keeps. Spec: search-config.md#key-store-cache
pub const SINGLE_CACHE_ENTRIES: usize = 1;
/// Entries a multi key store's own cache keeps. Spec: search-config.md#key-store-cache
pub const MULTI_CACHE_ENTRIES: usize = 1000;

/// "AWS_DBE_SCAN_BEACON", the HKDF info prefix. Spec: search-config.md#hmac-key-generation
const HMAC_INFO_PREFIX: &[u8] = b"AWS_DBE_SCAN_BEACON";
/// Resource id of the hierarchical keyring, scope id of searchable encryption.
/// Spec: search-config.md#searchable-encryption-cache-identifier
const RESOURCE_ID_HIERARCHICAL_KEYRING: u8 = 0x02;
const SCOPE_ID_SEARCHABLE_ENCRYPTION: u8 = 0x03;

/// One beacon key's materials: its id and the HMAC key of every standard
/// beacon (by beacon name). Zeroized on drop (`SecretBytes`); `Debug` shows
/// the beacon names, never a key.
#[derive(Clone)]
pub struct BeaconKeys {
    pub beacon_key_id: String,
    hmac_keys: BTreeMap<String, SecretBytes>,
}

impl std::fmt::Debug for BeaconKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeaconKeys")
            .field("beacon_key_id", &self.beacon_key_id)
            .field("beacons", &self.hmac_keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl BeaconKeys {
    /// Derive the HMAC key of each of `beacon_names` from `beacon_key`.
    /// Spec: search-config.md#get-beacon-key-materials
    pub fn derive<'a>(
        beacon_key_id: impl Into<String>,
        beacon_key: &[u8],
        beacon_names: impl IntoIterator<Item = &'a str>,
    ) -> BeaconKeys {
        // Inserted one by one: collecting a map sorts, one more copy of the sort.
        let mut hmac_keys = BTreeMap::new();
        for name in beacon_names {
            hmac_keys.insert(name.to_owned(), hmac_key(beacon_key, name));
        }
        BeaconKeys {
            beacon_key_id: beacon_key_id.into(),
            hmac_keys,
        }
    }

    /// The HMAC key of standard beacon `name`, if derived.
    pub fn hmac_key(&self, name: &str) -> Option<&[u8]> {
        self.hmac_keys.get(name).map(SecretBytes::expose)
    }

    /// The beacon names with a key.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.hmac_keys.keys().map(String::as_str)
    }
}

/// The HMAC key of one standard beacon: HKDF-SHA512 of the beacon key, no
/// salt, info "AWS_DBE_SCAN_BEACON" + name, 64 bytes.
/// Spec: search-config.md#hmac-key-generation
pub fn hmac_key(beacon_key: &[u8], beacon_name: &str) -> SecretBytes {
    hkdf_sha512(
        beacon_key,
        None,
        &[HMAC_INFO_PREFIX, beacon_name.as_bytes()],
        64,
    )
}

/// Which beacon key a query or write uses, as Dafny's `MaybeKeyId`.
/// `DontUseKeyId`: the single key store's own id; `ShouldHaveKeyId`: a multi
/// key store query that names no key id (fine unless a standard beacon is
/// needed); `KeyId`: the id found in the item's header or in the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaybeKeyId {
    DontUseKeyId,
    ShouldHaveKeyId,
    KeyId(String),
}

impl MaybeKeyId {
    pub fn from_option(id: Option<String>) -> MaybeKeyId {
        match id {
            Some(id) => MaybeKeyId::KeyId(id),
            None => MaybeKeyId::DontUseKeyId,
        }
    }
}

/// The keys a beacon computation gets, as Dafny's `MaybeKeyMap`.
/// `DontUseKeys`: leave values plaintext (signed beacons, the post-query
/// filter, `resolve_attributes`); `ShouldHaveKeys`: no key id in a multi
/// key store query, any standard beacon fails; `Keys`: the HMAC keys.
#[derive(Clone, Debug)]
pub enum MaybeKeyMap {
    DontUseKeys,
    ShouldHaveKeys,
    Keys(Arc<BeaconKeys>),
}

/// Where the beacon key id comes from. Spec: search-config.md#beacon-key-source
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyLocation {
    /// `SingleKeyStore`: this id, always.
    SingleLoc { key_id: String },
    /// `MultiKeyStore`: the id is the value of `key_name` (an item attribute
    /// or a query value). `delete_key`: the attribute is not configured (or
    /// DO_NOTHING), so it is dropped before the item is encrypted.
    MultiLoc { key_name: String, delete_key: bool },
}

/// The validated beacon key source of one beacon version.
pub struct KeySource {
    pub store: Arc<KeyStore>,
    pub key_loc: KeyLocation,
    pub cache: Arc<BeaconKeyCache>,
    pub cache_ttl_seconds: u32,
    /// UTF-8 of the configured partition id, or 16 random bytes.
    pub partition_id: Vec<u8>,
    /// A single key store's cache id, computed once (a SHA-384 per item otherwise).
    pub fixed_cache_id: Option<CacheId>,
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySource")
            .field("store", &self.store)
            .field("key_loc", &self.key_loc)
            .field("cache_ttl_seconds", &self.cache_ttl_seconds)
            .finish_non_exhaustive()
    }
}

impl KeySource {
    /// The keys for `key_id`, as Dafny's `KeySource.getKeyMap`.
    pub async fn get_key_map(
        &self,
        std_names: &[String],
        key_id: &MaybeKeyId,
    ) -> Result<MaybeKeyMap> {
        match (&self.key_loc, key_id) {
            (KeyLocation::SingleLoc { key_id }, MaybeKeyId::DontUseKeyId) => Ok(MaybeKeyMap::Keys(
                self.get_keys_cache(std_names, key_id).await?,
            )),
            (KeyLocation::SingleLoc { .. }, _) => Err(Error::RequestRefused(
                "a beacon key id must not be supplied with a single key store".into(),
            )),
            (KeyLocation::MultiLoc { .. }, MaybeKeyId::DontUseKeyId) => Err(Error::RequestRefused(
                "a multi key store needs the beacon key id of the item or query".into(),
            )),
            (KeyLocation::MultiLoc { .. }, MaybeKeyId::ShouldHaveKeyId) => {
                Ok(MaybeKeyMap::ShouldHaveKeys)
            }
            (KeyLocation::MultiLoc { .. }, MaybeKeyId::KeyId(id)) => {
                Ok(MaybeKeyMap::Keys(self.get_keys_cache(std_names, id).await?))
            }
        }
    }

    /// Spec: search-config.md#searchable-encryption-cache-identifier
    /// SHA-384( 0x02 0x00 0x03 0x00 partition-id 0x00 logical-key-store-name 0x00 beacon-key-id )
    pub fn cache_id(&self, key_id: &str) -> CacheId {
        beacon_cache_id(
            &self.partition_id,
            self.store.logical_key_store_name(),
            key_id,
        )
    }

    /// The HMAC keys of `key_id`, from the cache when an entry is young
    /// enough for this source's TTL (cacheEntryWithinLimits), else from the
    /// key store, then cached for the TTL.
    /// Spec: search-config.md#get-beacon-key-materials
    async fn get_keys_cache(&self, std_names: &[String], key_id: &str) -> Result<Arc<BeaconKeys>> {
        let id = match (&self.key_loc, self.fixed_cache_id) {
            (KeyLocation::SingleLoc { key_id: fixed }, Some(id)) if fixed == key_id => id,
            _ => self.cache_id(key_id),
        };
        let ttl_ms = u64::from(self.cache_ttl_seconds).saturating_mul(1000);
        let load = || -> LoadKeys<'_> { Box::pin(load_keys(&self.store, std_names, key_id)) };
        let (keys, _) = self.cache.get_or_load(id, ttl_ms, load).await?;
        // A shared cache's entry must be this key's (as Dafny checks the
        // materials' beaconKeyIdentifier).
        if keys.beacon_key_id != key_id {
            return Err(Error::KeyStoreFailure(format!(
                "the beacon key cache entry for {key_id:?} holds another key's materials"
            )));
        }
        Ok(keys)
    }
}

/// A cache miss's load, boxed: the key store read (DynamoDB, KMS, record
/// checks) stays one function behind a pointer instead of being inlined into
/// the caller's state machine (20 KB of wasm). Only a miss pays the box.
type LoadKeys<'a> = Pin<Box<dyn Future<Output = Result<Arc<BeaconKeys>>> + 'a>>;

/// The beacon key `key_id` from the key store, with the HMAC key of each of
/// `std_names` derived from it. Spec: search-config.md#get-beacon-key-materials
async fn load_keys(
    store: &KeyStore,
    std_names: &[String],
    key_id: &str,
) -> Result<Arc<BeaconKeys>> {
    let materials = store.get_beacon_key(key_id).await?;
    Ok(Arc::new(BeaconKeys::derive(
        materials.beacon_key_id.clone(),
        materials.beacon_key.expose(),
        std_names.iter().map(String::as_str),
    )))
}

/// The searchable-encryption cache id of a beacon key.
/// Spec: search-config.md#searchable-encryption-cache-identifier
pub fn beacon_cache_id(partition_id: &[u8], logical_key_store_name: &str, key_id: &str) -> CacheId {
    let mut hash = Sha384::new();
    hash.update([
        RESOURCE_ID_HIERARCHICAL_KEYRING,
        0x00,
        SCOPE_ID_SEARCHABLE_ENCRYPTION,
        0x00,
    ]);
    hash.update(partition_id);
    hash.update([0x00]);
    hash.update(logical_key_store_name.as_bytes());
    hash.update([0x00]);
    hash.update(key_id.as_bytes());
    hash.finalize().into()
}
