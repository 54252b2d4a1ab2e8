//! The branch key store: branch keys and beacon keys in a DynamoDB table,
//! wrapped by AWS KMS, in the MPL's format, so that a store written by the
//! official SDKs and one written by fieldseal are the same store.
//!
//! Spec: framework/branch-key-store.md (0.9.0); reference: the MPL's
//! `AwsCryptographyKeyStoreOperations.dfy`, as shipped in aws-db-esdk 1.3.0.
//! fieldseal reaches DynamoDB through [`KeyStoreStorage`] and KMS through
//! [`KmsClientSupplier`]: the caller's clients, never its credentials.

pub mod record;
pub mod storage;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::base::SecretBytes;
use crate::cache::Clock;
use crate::error::{Error, Result};
use crate::keyring::kms::{
    mrk_match_for_decrypt, DecryptRequest, GenerateDataKeyRequest, KmsArn, KmsClient,
    KmsClientSupplier, KmsError, ReEncryptRequest, ResourceType,
};
use crate::primitives::provider::SecureRandom;
use record::{item_key, KeyKind, KeyRecord, BRANCH_KEY_ID, CUSTOM_PREFIX, ENC, TYPE};
pub use storage::{ConditionalPut, DynamoDbError, KeyStoreStorage, TableDescription};

/// The key schema every key store table has. Spec: branch-key-store.md#keyschema
pub const KEY_SCHEMA: [(&str, &str); 2] = [(BRANCH_KEY_ID, "HASH"), (TYPE, "RANGE")];
/// The condition of every new item (the reference code's expression and name).
const NOT_EXISTS: &str = "attribute_not_exists(#BranchKeyIdentifierField)";
/// Branch keys and beacon keys are AES-256 keys.
pub const BRANCH_KEY_LEN: usize = 32;

/// Which KMS keys the store uses. Spec: branch-key-store.md#aws-kms-configuration
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsConfiguration {
    /// One key, compared exactly with each item's `kms-arn`.
    KmsKeyArn(KmsArn),
    /// One key, compared with each item's `kms-arn` in every part but the
    /// region (a multi-Region key's replica opens what another wrapped).
    KmsMrKeyArn(KmsArn),
    /// Whatever key each item names (read-only).
    Discovery,
    /// Whatever key each item names, moved to this region (read-only).
    MrDiscovery { region: String },
}

impl KmsConfiguration {
    /// `kmsKeyArn` / `kmsMRKeyArn`: a key ARN, never an alias.
    pub fn key_arn(arn: &str, multi_region: bool) -> Result<KmsConfiguration> {
        let parsed = KmsArn::parse(arn)?;
        if parsed.resource_type != ResourceType::Key {
            return Err(Error::InvalidConfig(format!(
                "the key store's KMS key must be a key ARN, not an alias: {arn}"
            )));
        }
        Ok(match multi_region {
            true => KmsConfiguration::KmsMrKeyArn(parsed),
            false => KmsConfiguration::KmsKeyArn(parsed),
        })
    }

    fn configured_arn(&self) -> Option<&KmsArn> {
        match self {
            KmsConfiguration::KmsKeyArn(a) | KmsConfiguration::KmsMrKeyArn(a) => Some(a),
            _ => None,
        }
    }

    /// Whether an item's `kms-arn` may be used. Spec: branch-key-store.md#aws-key-arn-compatibility
    fn accepts(&self, stored: &str) -> bool {
        match self {
            KmsConfiguration::KmsKeyArn(a) => a.to_string() == stored,
            KmsConfiguration::KmsMrKeyArn(a) => mrk_match_for_decrypt(&a.to_string(), stored),
            KmsConfiguration::Discovery | KmsConfiguration::MrDiscovery { .. } => {
                KmsArn::parse(stored).is_ok_and(|a| a.resource_type == ResourceType::Key)
            }
        }
    }

    /// The key (and so the region) to call KMS with for an item whose
    /// `kms-arn` is `stored`. Spec: branch-key-store.md#aws-kms-branch-key-decryption
    fn key_for(&self, stored: &str) -> Result<KmsArn> {
        match self {
            KmsConfiguration::KmsKeyArn(a) | KmsConfiguration::KmsMrKeyArn(a) => Ok(a.clone()),
            KmsConfiguration::Discovery => KmsArn::parse(stored),
            KmsConfiguration::MrDiscovery { region } => {
                let arn = KmsArn::parse(stored)?;
                Ok(match arn.is_multi_region_key() {
                    true => arn.in_region(region),
                    false => arn,
                })
            }
        }
    }
}

/// How a key store is set up. Spec: branch-key-store.md#initialization
pub struct KeyStoreConfig {
    pub ddb_table_name: String,
    /// Bound into every key: a restored table keeps working under another name.
    pub logical_key_store_name: String,
    pub kms_configuration: KmsConfiguration,
    pub grant_tokens: Vec<String>,
    pub storage: Arc<dyn KeyStoreStorage>,
    pub kms: Arc<dyn KmsClientSupplier>,
    /// For new keys' ids and versions.
    pub random: Arc<dyn SecureRandom>,
    /// For new keys' `create-time`.
    pub clock: Arc<dyn Clock>,
}

/// A branch key as the hierarchical keyring uses it. `Debug` never shows the key.
#[derive(Clone)]
pub struct BranchKeyMaterials {
    pub branch_key_id: String,
    /// The version UUID, as a string.
    pub branch_key_version: String,
    pub branch_key: SecretBytes,
    /// The custom encryption context, without its prefix.
    pub encryption_context: BTreeMap<String, String>,
}

/// A beacon key: the root of a branch key's searchable-encryption keys.
#[derive(Clone)]
pub struct BeaconKeyMaterials {
    pub beacon_key_id: String,
    pub beacon_key: SecretBytes,
    pub encryption_context: BTreeMap<String, String>,
}

impl std::fmt::Debug for BranchKeyMaterials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BranchKeyMaterials")
            .field("branch_key_id", &self.branch_key_id)
            .field("branch_key_version", &self.branch_key_version)
            .field("branch_key", &self.branch_key)
            .field("encryption_context", &self.encryption_context)
            .finish()
    }
}

impl std::fmt::Debug for BeaconKeyMaterials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeaconKeyMaterials")
            .field("beacon_key_id", &self.beacon_key_id)
            .field("beacon_key", &self.beacon_key)
            .field("encryption_context", &self.encryption_context)
            .finish()
    }
}

/// The branch key store.
pub struct KeyStore {
    config: KeyStoreConfig,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("ddb_table_name", &self.config.ddb_table_name)
            .field(
                "logical_key_store_name",
                &self.config.logical_key_store_name,
            )
            .field("kms_configuration", &self.config.kms_configuration)
            .field("grant_tokens", &self.config.grant_tokens.len())
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    pub fn new(config: KeyStoreConfig) -> Result<KeyStore> {
        if config.ddb_table_name.is_empty() || config.ddb_table_name.len() > 255 {
            return Err(Error::InvalidConfig(
                "ddbTableName must be 1 to 255 characters".into(),
            ));
        }
        if config.logical_key_store_name.is_empty() {
            return Err(Error::InvalidConfig(
                "logicalKeyStoreName must not be empty".into(),
            ));
        }
        if let KmsConfiguration::MrDiscovery { region } = &config.kms_configuration {
            if region.is_empty() {
                return Err(Error::InvalidConfig("mrDiscovery needs a region".into()));
            }
        }
        crate::keyring::kms::validate_grant_tokens(&config.grant_tokens)?;
        Ok(KeyStore { config })
    }

    pub fn table_name(&self) -> &str {
        &self.config.ddb_table_name
    }

    pub fn logical_key_store_name(&self) -> &str {
        &self.config.logical_key_store_name
    }

    /// The platform clock it was given: beacon key caches read time from it.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.config.clock.clone()
    }

    pub fn kms_configuration(&self) -> &KmsConfiguration {
        &self.config.kms_configuration
    }

    /// The active version of a branch key. Spec: branch-key-store.md#getactivebranchkey
    pub async fn get_active_branch_key(&self, branch_key_id: &str) -> Result<BranchKeyMaterials> {
        let (record, key) = self.read_key(branch_key_id, &KeyKind::Active).await?;
        self.branch_key_materials(&record, key)
    }

    /// One version of a branch key. Spec: branch-key-store.md#getbranchkeyversion
    pub async fn get_branch_key_version(
        &self,
        branch_key_id: &str,
        version: &str,
    ) -> Result<BranchKeyMaterials> {
        if version.is_empty() {
            return Err(Error::InvalidConfig(
                "a branch key version must not be empty".into(),
            ));
        }
        let kind = KeyKind::Version(version.to_owned());
        let (record, key) = self.read_key(branch_key_id, &kind).await?;
        self.branch_key_materials(&record, key)
    }

    /// The beacon key of a branch key. Spec: branch-key-store.md#getbeaconkey
    pub async fn get_beacon_key(&self, branch_key_id: &str) -> Result<BeaconKeyMaterials> {
        let (record, key) = self.read_key(branch_key_id, &KeyKind::Beacon).await?;
        Ok(BeaconKeyMaterials {
            beacon_key_id: record.branch_key_id.clone(),
            beacon_key: key,
            encryption_context: record.custom_encryption_context(),
        })
    }

    /// Creates the table (with the key store's key schema) unless it
    /// exists; an existing table must have that key schema. Resolves to
    /// the table ARN. Spec: branch-key-store.md#createkeystore
    pub async fn create_key_store(&self) -> Result<String> {
        let table = self.table_name();
        let described = self
            .config
            .storage
            .describe_table(table)
            .await
            .map_err(|e| self.ddb_failure("DescribeTable", &e))?;
        match described {
            Some(description) => {
                let expected: Vec<(String, String)> = KEY_SCHEMA
                    .iter()
                    .map(|(a, k)| (a.to_string(), k.to_string()))
                    .collect();
                if description.key_schema != expected {
                    return Err(Error::KeyStoreFailure(format!(
                        "table {table:?} exists with key schema {:?}; a key store needs \
                         branch-key-id (HASH) and type (RANGE)",
                        description.key_schema
                    )));
                }
                Ok(description.table_arn)
            }
            None => self
                .config
                .storage
                .create_table(table)
                .await
                .map_err(|e| self.ddb_failure("CreateTable", &e)),
        }
    }

    /// Creates a branch key: its first version (DECRYPT_ONLY and ACTIVE) and
    /// its beacon key, written in one transaction that fails if the id is
    /// taken. Resolves to the branch key id. Spec: branch-key-store.md#createkey
    pub async fn create_key(
        &self,
        branch_key_id: Option<&str>,
        encryption_context: Option<&BTreeMap<String, String>>,
    ) -> Result<String> {
        let configured = self.writable("createKey")?;
        let custom = check_custom_context(encryption_context)?;
        let id = match branch_key_id {
            Some("") => {
                return Err(Error::InvalidConfig(
                    "branchKeyIdentifier must not be empty".into(),
                ))
            }
            Some(id) if custom.is_empty() => {
                // Spec: a custom id needs an encryption context; the
                // reference code refuses an empty one too.
                return Err(Error::InvalidConfig(format!(
                    "createKey with branchKeyIdentifier {id:?} needs a non-empty encryptionContext"
                )));
            }
            Some(id) => id.to_owned(),
            None => uuid_v4(self.config.random.as_ref())?,
        };
        let version = uuid_v4(self.config.random.as_ref())?;
        let now = timestamp(self.config.clock.now_millis());
        let kms_arn = configured.to_string();
        let decrypt_only = KeyRecord::new(&id, KeyKind::Version(version), &kms_arn, &now, &custom);
        let (decrypt_only, active) = self.wrap_new_version(decrypt_only, &configured).await?;
        let mut beacon = decrypt_only.as_beacon();
        beacon.enc = self.generate_wrapped(&beacon, &configured).await?;
        let not_exists = |r: &KeyRecord| self.put(r, NOT_EXISTS, Vec::new());
        let puts = vec![
            not_exists(&decrypt_only),
            not_exists(&active),
            not_exists(&beacon),
        ];
        self.config
            .storage
            .transact_write(puts)
            .await
            .map_err(|e| {
                if e.is_condition_failure() {
                    Error::KeyStoreFailure(format!(
                    "branch key {id:?} already exists in key store table {:?}; nothing was written",
                    self.table_name()
                ))
                } else {
                    self.ddb_failure("TransactWriteItems", &e)
                }
            })?;
        Ok(id)
    }

    /// Rotates a branch key: a new active version; every older version stays
    /// readable. The ACTIVE item is replaced only if it is still the one read,
    /// so two racing writers cannot leave a version that no ACTIVE names.
    /// Spec: branch-key-store.md#versionkey
    pub async fn version_key(&self, branch_key_id: &str) -> Result<()> {
        let configured = self.writable("versionKey")?;
        let old = self.read_record(branch_key_id, &KeyKind::Active).await?;
        self.check_kms_arn(&old)?;
        self.authenticate(&old, &configured).await?;
        let version = uuid_v4(self.config.random.as_ref())?;
        let now = timestamp(self.config.clock.now_millis());
        // The stored kms-arn, custom context and any other attribute carry over.
        let decrypt_only = old.next_version(version, &now);
        let (decrypt_only, active) = self.wrap_new_version(decrypt_only, &configured).await?;
        let puts = vec![
            self.put(&decrypt_only, NOT_EXISTS, Vec::new()),
            self.put(
                &active,
                // Spec 0.9.0's race check. aws-db-esdk 1.3.0 sends
                // `attribute_exists` only; the items written are the same.
                "attribute_exists(#BranchKeyIdentifierField) AND #enc = :encOld",
                vec![(":encOld", old.enc.clone())],
            ),
        ];
        self.config.storage.transact_write(puts).await.map_err(|e| {
            if e.is_condition_failure() {
                Error::KeyStoreFailure(format!(
                    "versionKey of branch key {branch_key_id:?} lost a race: the ACTIVE item \
                     changed after it was read; nothing was written, try again"
                ))
            } else {
                self.ddb_failure("TransactWriteItems", &e)
            }
        })
    }

    /// The configured key, for the operations a discovery store refuses.
    fn writable(&self, operation: &str) -> Result<KmsArn> {
        self.config
            .kms_configuration
            .configured_arn()
            .cloned()
            .ok_or_else(|| {
                Error::InvalidConfig(format!(
                    "{operation} needs a key store configured with kmsKeyArn or kmsMRKeyArn; \
                     a discovery configuration can only read keys"
                ))
            })
    }

    /// GetItem and the format's checks.
    async fn read_record(&self, branch_key_id: &str, kind: &KeyKind) -> Result<KeyRecord> {
        if branch_key_id.is_empty() {
            return Err(Error::InvalidConfig(
                "a branch key id must not be empty".into(),
            ));
        }
        let item = self
            .config
            .storage
            .get_item(self.table_name(), item_key(branch_key_id, kind))
            .await
            .map_err(|e| self.ddb_failure("GetItem", &e).naming(branch_key_id))?
            .ok_or_else(|| {
                Error::KeyStoreFailure(format!(
                    "no {} for branch key {branch_key_id:?} in key store table {:?}",
                    kind.describe(),
                    self.table_name()
                ))
            })?;
        KeyRecord::from_item(&item, branch_key_id, kind)
    }

    /// An item's key, unwrapped by KMS with every attribute bound.
    /// Spec: branch-key-store.md#aws-kms-branch-key-decryption
    async fn read_key(
        &self,
        branch_key_id: &str,
        kind: &KeyKind,
    ) -> Result<(KeyRecord, SecretBytes)> {
        let record = self.read_record(branch_key_id, kind).await?;
        self.check_kms_arn(&record)?;
        let key_arn = self.config.kms_configuration.key_for(&record.kms_arn)?;
        let client = self.client(&key_arn)?;
        let response = client
            .decrypt(DecryptRequest {
                key_id: key_arn.to_string(),
                ciphertext_blob: record.enc.clone(),
                encryption_context: record.kms_encryption_context(self.logical_key_store_name()),
                grant_tokens: self.config.grant_tokens.clone(),
                encryption_algorithm: None,
            })
            .await
            .map_err(|e| self.kms_failure("Decrypt", &key_arn, &record, &e))?;
        if response.plaintext.len() != BRANCH_KEY_LEN {
            return Err(Error::KeyProviderFailure(format!(
                "KMS Decrypt of the {} of branch key {branch_key_id:?} returned {} bytes, \
                 not {BRANCH_KEY_LEN}",
                kind.describe(),
                response.plaintext.len()
            )));
        }
        Ok((record, response.plaintext))
    }

    fn check_kms_arn(&self, record: &KeyRecord) -> Result<()> {
        if self.config.kms_configuration.accepts(&record.kms_arn) {
            return Ok(());
        }
        Err(Error::KeyStoreFailure(format!(
            "the {} of branch key {:?} names kms-arn {}, which this key store's \
             configuration ({}) does not accept",
            record.kind.describe(),
            record.branch_key_id,
            record.kms_arn,
            match &self.config.kms_configuration {
                KmsConfiguration::KmsKeyArn(a) => format!("kmsKeyArn {a}"),
                KmsConfiguration::KmsMrKeyArn(a) => format!("kmsMRKeyArn {a}"),
                KmsConfiguration::Discovery => "discovery, which needs a key ARN".into(),
                KmsConfiguration::MrDiscovery { .. } => "mrDiscovery, which needs a key ARN".into(),
            }
        )))
    }

    fn branch_key_materials(
        &self,
        record: &KeyRecord,
        key: SecretBytes,
    ) -> Result<BranchKeyMaterials> {
        let version = record.branch_key_version().ok_or_else(|| {
            Error::Internal("a branch key record without a version passed the checks".into())
        })?;
        Ok(BranchKeyMaterials {
            branch_key_id: record.branch_key_id.clone(),
            branch_key_version: version,
            branch_key: key,
            encryption_context: record.custom_encryption_context(),
        })
    }

    /// ReEncrypt an item onto itself: KMS vouches for every attribute
    /// without the key leaving it. Spec: branch-key-store.md#authenticating-a-keystore-item
    async fn authenticate(&self, record: &KeyRecord, configured: &KmsArn) -> Result<()> {
        let ec = record.kms_encryption_context(self.logical_key_store_name());
        let client = self.client(configured)?;
        client
            .re_encrypt(ReEncryptRequest {
                source_key_id: configured.to_string(),
                source_encryption_context: ec.clone(),
                ciphertext_blob: record.enc.clone(),
                destination_key_id: configured.to_string(),
                destination_encryption_context: ec,
                grant_tokens: self.config.grant_tokens.clone(),
            })
            .await
            .map_err(|e| self.kms_failure("ReEncrypt", configured, record, &e))?;
        Ok(())
    }

    /// A new version's DECRYPT_ONLY key (GenerateDataKeyWithoutPlaintext)
    /// and its ACTIVE copy (ReEncrypt to the ACTIVE context).
    /// Spec: branch-key-store.md#wrapped-branch-key-creation
    async fn wrap_new_version(
        &self,
        mut decrypt_only: KeyRecord,
        configured: &KmsArn,
    ) -> Result<(KeyRecord, KeyRecord)> {
        decrypt_only.enc = self.generate_wrapped(&decrypt_only, configured).await?;
        let mut active = decrypt_only.as_active();
        let logical = self.logical_key_store_name();
        let client = self.client(configured)?;
        let response = client
            .re_encrypt(ReEncryptRequest {
                source_key_id: configured.to_string(),
                source_encryption_context: decrypt_only.kms_encryption_context(logical),
                ciphertext_blob: decrypt_only.enc.clone(),
                destination_key_id: configured.to_string(),
                destination_encryption_context: active.kms_encryption_context(logical),
                grant_tokens: self.config.grant_tokens.clone(),
            })
            .await
            .map_err(|e| self.kms_failure("ReEncrypt", configured, &active, &e))?;
        active.enc = response.ciphertext_blob;
        Ok((decrypt_only, active))
    }

    async fn generate_wrapped(&self, record: &KeyRecord, configured: &KmsArn) -> Result<Vec<u8>> {
        let client = self.client(configured)?;
        let response = client
            .generate_data_key_without_plaintext(GenerateDataKeyRequest {
                key_id: configured.to_string(),
                number_of_bytes: BRANCH_KEY_LEN as u32,
                encryption_context: record.kms_encryption_context(self.logical_key_store_name()),
                grant_tokens: self.config.grant_tokens.clone(),
            })
            .await
            .map_err(|e| {
                self.kms_failure("GenerateDataKeyWithoutPlaintext", configured, record, &e)
            })?;
        Ok(response.ciphertext_blob)
    }

    fn put(
        &self,
        record: &KeyRecord,
        condition: &str,
        values: Vec<(&str, Vec<u8>)>,
    ) -> ConditionalPut {
        let mut names = BTreeMap::new();
        names.insert(
            "#BranchKeyIdentifierField".to_string(),
            BRANCH_KEY_ID.to_string(),
        );
        if condition.contains("#enc") {
            names.insert("#enc".into(), ENC.into());
        }
        let mut expression_attribute_values = crate::item::Item::new();
        for (k, v) in values {
            expression_attribute_values.insert(k.to_owned(), crate::item::AttributeValue::B(v));
        }
        ConditionalPut {
            table_name: self.table_name().to_owned(),
            item: record.to_item(),
            condition_expression: condition.to_owned(),
            expression_attribute_names: names,
            expression_attribute_values,
        }
    }

    fn client(&self, key: &KmsArn) -> Result<Arc<dyn KmsClient>> {
        self.config.kms.client(&key.region)
    }

    fn ddb_failure(&self, operation: &str, e: &DynamoDbError) -> Error {
        Error::KeyStoreFailure(format!(
            "DynamoDB {operation} on key store table {:?} failed: {e}",
            self.table_name()
        ))
    }

    fn kms_failure(
        &self,
        operation: &str,
        key: &KmsArn,
        record: &KeyRecord,
        e: &KmsError,
    ) -> Error {
        Error::KeyProviderFailure(format!(
            "KMS {operation} with {key} (region {}) for the {} of branch key {:?} failed: {e}",
            key.region,
            record.kind.describe(),
            record.branch_key_id
        ))
    }
}

trait NamingKey {
    fn naming(self, branch_key_id: &str) -> Self;
}

impl NamingKey for Error {
    /// Adds the branch key to a store-level message.
    fn naming(self, branch_key_id: &str) -> Error {
        match self {
            Error::KeyStoreFailure(m) => {
                Error::KeyStoreFailure(format!("{m} (branch key {branch_key_id:?})"))
            }
            other => other,
        }
    }
}

/// Custom encryption context keys and values: non-empty keys, and no key
/// that already carries the prefix (it is added once, on write).
fn check_custom_context(
    context: Option<&BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>> {
    let Some(context) = context else {
        return Ok(BTreeMap::new());
    };
    for key in context.keys() {
        if key.is_empty() {
            return Err(Error::InvalidConfig(
                "a branch key's encryption context keys must not be empty".into(),
            ));
        }
        if key.starts_with(CUSTOM_PREFIX) {
            return Err(Error::InvalidConfig(format!(
                "encryption context key {key:?}: give keys without the {CUSTOM_PREFIX:?} prefix, \
                 the key store adds it"
            )));
        }
    }
    Ok(context.clone())
}

/// A random (version 4) UUID, lowercase. Spec: branch-key-store.md#branch-key-and-beacon-key-creation
pub fn uuid_v4(random: &dyn SecureRandom) -> Result<String> {
    let mut b: [u8; 16] = random.array()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Ok(crate::keyring::hierarchy::format_uuid(&b))
}

/// ISO 8601 in UTC to the microsecond, e.g. `2023-06-03T19:03:29.358000Z`.
/// Spec: branch-key-store.md#branch-key-and-beacon-key-creation
pub fn timestamp(unix_millis: u64) -> String {
    let secs = unix_millis / 1000;
    let micros = (unix_millis % 1000) * 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's
/// `civil_from_days`, the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso_8601_utc_to_the_microsecond() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(timestamp(1_685_819_009_358), "2023-06-03T19:03:29.358000Z");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29T00:00:00.000000Z");
        assert_eq!(timestamp(4_102_444_799_999), "2099-12-31T23:59:59.999000Z");
    }

    #[test]
    fn uuids_are_version_4() {
        let random = crate::primitives::provider::system_random();
        let a = uuid_v4(random.as_ref()).unwrap();
        let b = uuid_v4(random.as_ref()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert_eq!(a, a.to_ascii_lowercase());
    }

    #[test]
    fn kms_configuration_compatibility() {
        let arn = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234";
        let replica = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234";
        let strict = KmsConfiguration::key_arn(arn, false).unwrap();
        let mrk = KmsConfiguration::key_arn(arn, true).unwrap();
        assert!(strict.accepts(arn) && !strict.accepts(replica));
        assert!(mrk.accepts(arn) && mrk.accepts(replica));
        assert!(KmsConfiguration::Discovery.accepts(replica));
        assert!(!KmsConfiguration::Discovery.accepts("arn:aws:kms:us-east-1:111122223333:alias/a"));
        let mr = KmsConfiguration::MrDiscovery {
            region: "ap-south-1".into(),
        };
        assert_eq!(mr.key_for(replica).unwrap().region, "ap-south-1");
        assert_eq!(
            KmsConfiguration::Discovery.key_for(replica).unwrap().region,
            "eu-west-1"
        );
        let alias = KmsConfiguration::key_arn("arn:aws:kms:us-east-1:111122223333:alias/a", false);
        assert_eq!(alias.unwrap_err().code(), "INVALID_CONFIG");
    }
}
