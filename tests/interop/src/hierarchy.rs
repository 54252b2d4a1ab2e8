//! The hierarchical keyring on a real branch key store, built on both sides
//! over the same DynamoDB table and KMS key: the official `aws-db-esdk` key
//! store client and hierarchical keyring, and fieldseal's [`KeyStore`] and
//! [`AwsKmsHierarchicalKeyring`] over the adapters of [`crate::aws_clients`].
//! One [`TenantSupplier`] (partition value -> branch key id) serves as the
//! DynamoDB branch key id supplier of both.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_db_esdk::dynamodb::client::Client as DbEsdkClient;
use aws_db_esdk::dynamodb::operation::get_branch_key_id_from_ddb_key::{
    GetBranchKeyIdFromDdbKeyInput, GetBranchKeyIdFromDdbKeyOutput,
};
use aws_db_esdk::dynamodb::types::dynamo_db_encryption_config::DynamoDbEncryptionConfig;
use aws_db_esdk::dynamodb::types::error::Error as DbEsdkError;
use aws_db_esdk::dynamodb::types::DynamoDbKeyBranchKeyIdSupplier as OfficialDdbKeySupplier;
use aws_db_esdk::key_store::client::Client as OfficialKeyStore;
use aws_db_esdk::key_store::types::key_store_config::KeyStoreConfig as OfficialKeyStoreConfig;
use aws_db_esdk::key_store::types::KmsConfiguration as OfficialKmsConfiguration;
use aws_db_esdk::material_providers::types::keyring::KeyringRef;
use fieldseal::cache::{MaterialsCache, SystemClock};
use fieldseal::encryptor::{DynamoDbBranchKeyIdSupplier, DynamoDbKeyBranchKeyIdSupplier};
use fieldseal::format::header::PartialHeader;
use fieldseal::keyring::hierarchy::stored::{
    BranchKeyIdSource, HierarchicalKeyringConfig, DEFAULT_CACHE_ENTRIES,
};
use fieldseal::keyring::hierarchy::{edk_version, format_uuid, PROVIDER_ID_HIERARCHY};
use fieldseal::keyring::intermediate::split_ciphertext;
use fieldseal::keyring::AwsKmsHierarchicalKeyring;
use fieldseal::keystore::{KeyStore, KeyStoreConfig, KeyStoreStorage, KmsConfiguration};
use fieldseal::primitives::provider::system_random;
use fieldseal::{AttributeValue, Item, Keyring};

use crate::aws_clients::{dynamodb_client, kms_client, kms_supplier, DynamoDbStorage, Endpoint};
use crate::convert::{from_ddb, show_item};

/// The keyrings' TTL: the official examples' value; long enough that no
/// entry expires during a test (each phase builds fresh keyrings instead).
pub const TTL_SECONDS: u64 = 600;

/// Where one key store lives, as both sides are configured.
#[derive(Debug, Clone)]
pub struct StoreSpec {
    pub endpoint: Endpoint,
    pub region: String,
    pub ddb_table_name: String,
    pub logical_key_store_name: String,
    pub kms_key_arn: String,
}

// ------------------------------------------------------------ the supplier

/// Picks a tenant's branch key from the item's partition value (an S), and
/// records every `ddbKey` it is given, so that the two SDKs' views of the
/// same item can be compared.
#[derive(Debug)]
pub struct TenantSupplier {
    partition_key_name: String,
    branch_key_ids: BTreeMap<String, String>,
    seen: Mutex<Vec<Item>>,
}

impl TenantSupplier {
    /// `tenants`: (partition value, branch key id).
    pub fn new(partition_key_name: &str, tenants: &[(&str, &str)]) -> Arc<TenantSupplier> {
        Arc::new(TenantSupplier {
            partition_key_name: partition_key_name.to_owned(),
            branch_key_ids: tenants
                .iter()
                .map(|(t, id)| (t.to_string(), id.to_string()))
                .collect(),
            seen: Mutex::new(Vec::new()),
        })
    }

    fn choose(&self, ddb_key: Item) -> Result<String, String> {
        let tenant = match ddb_key.get(&self.partition_key_name) {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => {
                return Err(format!(
                    "ddbKey {} has no S attribute {:?}",
                    show_item(&ddb_key),
                    self.partition_key_name
                ))
            }
        };
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ddb_key);
        self.branch_key_ids
            .get(&tenant)
            .cloned()
            .ok_or_else(|| format!("no branch key for tenant {tenant:?}"))
    }

    /// The `ddbKey`s received so far, oldest first; clears the record.
    pub fn take_seen(&self) -> Vec<Item> {
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// [`TenantSupplier`] as the official `DynamoDbKeyBranchKeyIdSupplier`.
struct OfficialTenantSupplier(Arc<TenantSupplier>);

impl OfficialDdbKeySupplier for OfficialTenantSupplier {
    fn get_branch_key_id_from_ddb_key(
        &self,
        input: GetBranchKeyIdFromDdbKeyInput,
    ) -> Result<GetBranchKeyIdFromDdbKeyOutput, DbEsdkError> {
        let fail = |message: String| DbEsdkError::DynamoDbEncryptionException { message };
        let ddb_key = input
            .ddb_key
            .ok_or_else(|| fail("no ddbKey".into()))?
            .iter()
            .map(|(k, v)| Ok((k.clone(), from_ddb(v)?)))
            .collect::<Result<Item, String>>()
            .map_err(fail)?;
        let id = self.0.choose(ddb_key).map_err(fail)?;
        GetBranchKeyIdFromDdbKeyOutput::builder()
            .branch_key_id(id)
            .build()
            .map_err(|e| fail(format!("{e:?}")))
    }
}

/// [`TenantSupplier`] as fieldseal's `DynamoDbKeyBranchKeyIdSupplier`.
struct FieldsealTenantSupplier(Arc<TenantSupplier>);

#[async_trait::async_trait(?Send)]
impl DynamoDbKeyBranchKeyIdSupplier for FieldsealTenantSupplier {
    async fn branch_key_id_from_ddb_key(&self, ddb_key: &Item) -> fieldseal::Result<String> {
        self.0
            .choose(ddb_key.clone())
            .map_err(fieldseal::Error::KeyProviderFailure)
    }
}

// ------------------------------------------------------------ official side

/// The official key store client for `spec` (kmsKeyArn configuration).
pub fn official_key_store(spec: &StoreSpec) -> Result<OfficialKeyStore, String> {
    let config = OfficialKeyStoreConfig::builder()
        .kms_client(kms_client(&spec.endpoint, &spec.region))
        .ddb_client(dynamodb_client(&spec.endpoint, &spec.region))
        .ddb_table_name(spec.ddb_table_name.clone())
        .logical_key_store_name(spec.logical_key_store_name.clone())
        .kms_configuration(OfficialKmsConfiguration::KmsKeyArn(
            spec.kms_key_arn.clone(),
        ))
        .build()
        .map_err(|e| format!("official KeyStoreConfig: {e:?}"))?;
    OfficialKeyStore::from_conf(config).map_err(|e| format!("official key store: {e:?}"))
}

/// The official hierarchical keyring (its default, storm-tracking cache),
/// choosing branch keys with `supplier` through the DB-ESDK's
/// `CreateDynamoDbEncryptionBranchKeyIdSupplier`.
pub async fn official_keyring(
    store: &OfficialKeyStore,
    supplier: &Arc<TenantSupplier>,
) -> Result<KeyringRef, String> {
    let dbesdk = DbEsdkClient::from_conf(
        DynamoDbEncryptionConfig::builder()
            .build()
            .map_err(|e| format!("DynamoDbEncryptionConfig: {e:?}"))?,
    )
    .map_err(|e| format!("DB-ESDK client: {e:?}"))?;
    let branch_key_id_supplier = dbesdk
        .create_dynamo_db_encryption_branch_key_id_supplier()
        .ddb_key_branch_key_id_supplier(OfficialTenantSupplier(Arc::clone(supplier)))
        .send()
        .await
        .map_err(|e| format!("CreateDynamoDbEncryptionBranchKeyIdSupplier: {e}"))?
        .branch_key_id_supplier
        .ok_or("CreateDynamoDbEncryptionBranchKeyIdSupplier returned no supplier")?;
    crate::official::mpl()?
        .create_aws_kms_hierarchical_keyring()
        .branch_key_id_supplier(branch_key_id_supplier)
        .key_store(store.clone())
        .ttl_seconds(TTL_SECONDS as i64)
        .send()
        .await
        .map_err(|e| format!("official create_aws_kms_hierarchical_keyring: {e}"))
}

/// A key store read (either SDK's), in one comparable form. `Debug` shows
/// the key's length only.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRead {
    pub id: String,
    /// `None` for a beacon key.
    pub version: Option<String>,
    pub key: Vec<u8>,
    pub encryption_context: BTreeMap<String, String>,
}

impl std::fmt::Debug for KeyRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRead")
            .field("id", &self.id)
            .field("version", &self.version)
            .field("key", &format_args!("<{} bytes redacted>", self.key.len()))
            .field("encryption_context", &self.encryption_context)
            .finish()
    }
}

fn sorted(ec: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    ec.unwrap_or_default().into_iter().collect()
}

pub async fn official_active(store: &OfficialKeyStore, id: &str) -> Result<KeyRead, String> {
    let m = store
        .get_active_branch_key()
        .branch_key_identifier(id)
        .send()
        .await
        .map_err(|e| format!("official GetActiveBranchKey({id}): {e}"))?
        .branch_key_materials
        .ok_or("GetActiveBranchKey returned no materials")?;
    Ok(KeyRead {
        id: m.branch_key_identifier.unwrap_or_default(),
        version: m.branch_key_version,
        key: m.branch_key.map(|b| b.into_inner()).unwrap_or_default(),
        encryption_context: sorted(m.encryption_context),
    })
}

pub async fn official_version(
    store: &OfficialKeyStore,
    id: &str,
    version: &str,
) -> Result<KeyRead, String> {
    let m = store
        .get_branch_key_version()
        .branch_key_identifier(id)
        .branch_key_version(version)
        .send()
        .await
        .map_err(|e| format!("official GetBranchKeyVersion({id}, {version}): {e}"))?
        .branch_key_materials
        .ok_or("GetBranchKeyVersion returned no materials")?;
    Ok(KeyRead {
        id: m.branch_key_identifier.unwrap_or_default(),
        version: m.branch_key_version,
        key: m.branch_key.map(|b| b.into_inner()).unwrap_or_default(),
        encryption_context: sorted(m.encryption_context),
    })
}

pub async fn official_beacon(store: &OfficialKeyStore, id: &str) -> Result<KeyRead, String> {
    let m = store
        .get_beacon_key()
        .branch_key_identifier(id)
        .send()
        .await
        .map_err(|e| format!("official GetBeaconKey({id}): {e}"))?
        .beacon_key_materials
        .ok_or("GetBeaconKey returned no materials")?;
    Ok(KeyRead {
        id: m.beacon_key_identifier.unwrap_or_default(),
        version: None,
        key: m.beacon_key.map(|b| b.into_inner()).unwrap_or_default(),
        encryption_context: sorted(m.encryption_context),
    })
}

// ----------------------------------------------------------- fieldseal side

/// fieldseal's key store for `spec` (kmsKeyArn configuration) over the SDK
/// adapters.
pub fn fieldseal_key_store(spec: &StoreSpec) -> Result<Arc<KeyStore>, String> {
    let storage = DynamoDbStorage {
        client: dynamodb_client(&spec.endpoint, &spec.region),
    };
    fieldseal_key_store_over(spec, Arc::new(storage))
}

/// [`fieldseal_key_store`] over another DynamoDB client (e.g. one that
/// injects a concurrent writer).
pub fn fieldseal_key_store_over(
    spec: &StoreSpec,
    storage: Arc<dyn KeyStoreStorage>,
) -> Result<Arc<KeyStore>, String> {
    let kms_configuration = KmsConfiguration::key_arn(&spec.kms_key_arn, false)
        .map_err(|e| format!("fieldseal kmsKeyArn: {e}"))?;
    KeyStore::new(KeyStoreConfig {
        ddb_table_name: spec.ddb_table_name.clone(),
        logical_key_store_name: spec.logical_key_store_name.clone(),
        kms_configuration,
        grant_tokens: Vec::new(),
        storage,
        kms: kms_supplier(&spec.endpoint),
        random: system_random(),
        clock: Arc::new(SystemClock),
    })
    .map(Arc::new)
    .map_err(|e| format!("fieldseal KeyStore: {e}"))
}

/// fieldseal's hierarchical keyring over `store`, with a cache of its own
/// and `supplier` as its DynamoDB branch key id supplier.
pub fn fieldseal_keyring(
    store: &Arc<KeyStore>,
    supplier: &Arc<TenantSupplier>,
) -> Result<Arc<dyn Keyring>, String> {
    let cache = MaterialsCache::new(DEFAULT_CACHE_ENTRIES, Arc::new(SystemClock))
        .map_err(|e| format!("branch key cache: {e}"))?;
    let partition_id = system_random()
        .array::<16>()
        .map_err(|e| format!("partition id: {e}"))?
        .to_vec();
    let supplier =
        DynamoDbBranchKeyIdSupplier(Arc::new(FieldsealTenantSupplier(Arc::clone(supplier))));
    let keyring = AwsKmsHierarchicalKeyring::new(HierarchicalKeyringConfig {
        key_store: Arc::clone(store),
        branch_key_id: BranchKeyIdSource::Supplier(Arc::new(supplier)),
        ttl_seconds: TTL_SECONDS,
        cache: Arc::new(cache),
        partition_id,
    })
    .map_err(|e| format!("fieldseal AwsKmsHierarchicalKeyring: {e}"))?;
    Ok(Arc::new(keyring))
}

// --------------------------------------------------------------- inspection

/// The hierarchical EDKs of a sealed item, as (branch key id, branch key
/// version): the version is bytes 28..44 of the provider-wrapped part.
/// Spec: aws-kms-hierarchical-keyring.md#ciphertext
pub fn hierarchy_edks(sealed: &Item) -> Result<Vec<(String, String)>, String> {
    let Some(AttributeValue::B(header)) = sealed.get("aws_dbe_head") else {
        return Err("sealed item has no B attribute aws_dbe_head".into());
    };
    let header = PartialHeader::parse(header).map_err(|e| format!("header: {e}"))?;
    header
        .encrypted_data_keys
        .iter()
        .filter(|edk| edk.key_provider_id == PROVIDER_ID_HIERARCHY)
        .map(|edk| {
            let id = String::from_utf8(edk.key_provider_info.clone())
                .map_err(|_| "EDK provider info is not UTF-8".to_string())?;
            let (_, wrapped) = split_ciphertext(&edk.ciphertext).map_err(|e| e.to_string())?;
            let version = edk_version(wrapped).map_err(|e| e.to_string())?;
            Ok((id, format_uuid(&version)))
        })
        .collect()
}
