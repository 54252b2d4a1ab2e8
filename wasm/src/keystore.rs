//! The branch key store and the AWS KMS hierarchical keyring for JS.
//!
//! DynamoDB is reached through one JS function that calls the user's
//! `@aws-sdk/client-dynamodb` client, `ddbCall(operation, input)`, as KMS is
//! through `kmsCall(region, operation, input)` (see [`crate::kms`]): fieldseal
//! never signs a request. Items cross as the SDK's AttributeValue objects
//! ([`crate::convert`]). The classes here only read options and call the
//! core's [`KeyStore`] and [`AwsKmsHierarchicalKeyring`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use fieldseal::encryptor::{DynamoDbBranchKeyIdSupplier, DynamoDbKeyBranchKeyIdSupplier};
use fieldseal::keyring::hierarchy::stored::{
    BranchKeyCache, BranchKeyIdSource, DEFAULT_CACHE_ENTRIES,
};
use fieldseal::keyring::hierarchy::{AwsKmsHierarchicalKeyring, HierarchicalKeyringConfig};
use fieldseal::keyring::kms::KmsClient;
use fieldseal::keystore::{
    BeaconKeyMaterials, BranchKeyMaterials, ConditionalPut, DynamoDbError, KeyStore,
    KeyStoreConfig, KeyStoreStorage, KmsConfiguration, TableDescription, KEY_SCHEMA,
};
use fieldseal::{Error, Item};
use js_sys::{Array, Function, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::args::{self, config_error, define, Fields, List, Result};
use crate::clock::JsClock;
use crate::convert::{item_from_js, item_to_js};
use crate::custom::{describe, type_of};
use crate::error::to_js;
use crate::keyring::WasmKeyring;
use crate::kms::{object, sdk_error, JsKmsClient};

#[wasm_bindgen(typescript_custom_section)]
const KEY_STORE_OPTIONS: &'static str = r#"
/** Runs one DynamoDB command with the user's client and resolves to its output. */
export type DdbCall = (operation: "GetItem" | "TransactWriteItems" | "DescribeTable" | "CreateTable", input: object) => Promise<unknown>;
/** Runs one KMS command for the key store: reads need Decrypt, createKey and versionKey the other two. */
export type KeyStoreKmsCall = (region: string, operation: "Decrypt" | "GenerateDataKeyWithoutPlaintext" | "ReEncrypt", input: object) => Promise<unknown>;
/** Exactly one key, as the MPL's KMSConfiguration union. Discovery configurations only read. */
export type KmsConfigurationOptions = { kmsKeyArn: string } | { kmsMRKeyArn: string } | { discovery: {} } | { mrDiscovery: { region: string } };
export interface KeyStoreOptions { ddbTableName: string; logicalKeyStoreName: string; kmsConfiguration: KmsConfigurationOptions; grantTokens?: string[] | null; ddbCall: DdbCall; kmsCall: KeyStoreKmsCall }
/** `entryCapacity`: branch keys kept (least recently used evicted first), default 1000. */
export interface BranchKeyCacheOptions { entryCapacity?: number | null }
/** Chooses a branch key id from the item's key (and SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT) attributes, as AttributeValues. */
export type BranchKeyIdSupplierFunction = (ddbKey: { [attribute: string]: object }) => string | Promise<string>;
/** `branchKeyId` or `branchKeyIdSupplier`, not both. `partitionId`: default 16 random bytes. `supplierTimeoutMs`: default 10,000; Infinity waits forever. */
export interface AwsKmsHierarchicalOptions { branchKeyId?: string | null; branchKeyIdSupplier?: BranchKeyIdSupplierFunction | null; ttlSeconds: number; partitionId?: string | null; supplierTimeoutMs?: number | null }
export interface CreateKeyInput { branchKeyIdentifier?: string | null; encryptionContext?: { [key: string]: string } | null }
export interface BranchKeyIdentifierInput { branchKeyIdentifier: string }
export interface GetBranchKeyVersionInput { branchKeyIdentifier: string; branchKeyVersion: string }
export interface BranchKeyMaterials { branchKeyIdentifier: string; branchKeyVersion: string; encryptionContext: { [key: string]: string }; branchKey: Uint8Array }
export interface BeaconKeyMaterials { beaconKeyIdentifier: string; beaconKey: Uint8Array; encryptionContext: { [key: string]: string } }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "KeyStoreOptions")]
    pub type KeyStoreOptions;
    #[wasm_bindgen(typescript_type = "BranchKeyCacheOptions")]
    pub type BranchKeyCacheOptions;
    #[wasm_bindgen(typescript_type = "AwsKmsHierarchicalOptions")]
    pub type AwsKmsHierarchicalOptions;
    #[wasm_bindgen(typescript_type = "CreateKeyInput")]
    pub type CreateKeyInput;
    #[wasm_bindgen(typescript_type = "BranchKeyIdentifierInput")]
    pub type BranchKeyIdentifierInput;
    #[wasm_bindgen(typescript_type = "GetBranchKeyVersionInput")]
    pub type GetBranchKeyVersionInput;

    /// `catch`: an engine without timers waits without a deadline instead of trapping.
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout(callback: &JsValue, ms: u32) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = clearTimeout)]
    fn clear_timeout(timer: &JsValue) -> std::result::Result<(), JsValue>;
}

// ---------------------------------------------------------------------------
// DynamoDB through `ddbCall`.

/// The core's [`KeyStoreStorage`] over the user's DynamoDB client.
pub struct JsKeyStoreStorage {
    call: Function,
}

/// A reply the SDK would never give (no output object, a missing field).
fn invalid_response(message: String) -> DynamoDbError {
    DynamoDbError {
        name: "InvalidResponse".into(),
        message,
        cancellation_reasons: Vec::new(),
    }
}

/// An SDK error as DynamoDB's: name, message and, for a cancelled
/// transaction, `CancellationReasons: [{ Code }]` in request order.
fn ddb_error(value: &JsValue) -> DynamoDbError {
    let (name, message) = sdk_error(value);
    DynamoDbError {
        name,
        message,
        cancellation_reasons: cancellation_reasons(value),
    }
}

/// A transaction has at most 100 items, so at most 100 reasons are read.
const MAX_REASONS: usize = 100;

fn cancellation_reasons(error: &JsValue) -> Vec<String> {
    let Ok(reasons) = args::get(error, &JsValue::from_str("CancellationReasons")) else {
        return Vec::new();
    };
    let Ok(Some(list)) = List::of(&reasons) else {
        return Vec::new();
    };
    list.items()
        .take(MAX_REASONS)
        .map(|reason| {
            reason
                .ok()
                .and_then(|r| args::get(&r, &JsValue::from_str("Code")).ok())
                .and_then(|code| code.as_string())
                .unwrap_or_else(|| "None".into())
        })
        .collect()
}

/// `output[key]`, as a checked read; a missing parent reads as a missing field.
fn output_field(
    output: &JsValue,
    key: &str,
    operation: &str,
) -> std::result::Result<JsValue, DynamoDbError> {
    if !output.is_object() {
        return Err(invalid_response(format!("{operation} output has no {key}")));
    }
    args::get(output, &JsValue::from_str(key)).map_err(|why| {
        invalid_response(format!("{operation} output: reading {key} failed ({why})"))
    })
}

fn output_string(
    output: &JsValue,
    key: &str,
    operation: &str,
) -> std::result::Result<String, DynamoDbError> {
    output_field(output, key, operation)?
        .as_string()
        .ok_or_else(|| invalid_response(format!("{operation} output has no {key} string")))
}

impl JsKeyStoreStorage {
    async fn send(
        &self,
        operation: &str,
        input: Object,
    ) -> std::result::Result<JsValue, DynamoDbError> {
        let returned = self
            .call
            .call2(&JsValue::UNDEFINED, &JsValue::from_str(operation), &input)
            .map_err(|e| ddb_error(&e))?;
        let output = args::settle(&returned).await.map_err(|e| ddb_error(&e))?;
        if !output.is_object() {
            return Err(invalid_response(format!(
                "{operation} returned no output object"
            )));
        }
        Ok(output)
    }
}

fn names_to_js(names: &BTreeMap<String, String>) -> JsValue {
    object(
        &names
            .iter()
            .map(|(k, v)| (k.as_str(), JsValue::from_str(v)))
            .collect::<Vec<_>>(),
    )
    .into()
}

/// One `{ Put }` of TransactWriteItems. DynamoDB refuses an empty
/// ExpressionAttributeValues map, so it is left out when there is none.
fn put_to_js(put: &ConditionalPut) -> JsValue {
    let request = object(&[
        ("TableName", JsValue::from_str(&put.table_name)),
        ("Item", item_to_js(&put.item)),
        (
            "ConditionExpression",
            JsValue::from_str(&put.condition_expression),
        ),
        (
            "ExpressionAttributeNames",
            names_to_js(&put.expression_attribute_names),
        ),
    ]);
    if !put.expression_attribute_values.is_empty() {
        define(
            &request,
            "ExpressionAttributeValues",
            &item_to_js(&put.expression_attribute_values),
        );
    }
    object(&[("Put", request.into())]).into()
}

/// `[{ AttributeName, <kind> }]`, e.g. a KeySchema or AttributeDefinitions.
fn attribute_pairs(pairs: &[(&str, &str)], kind: &str) -> JsValue {
    pairs
        .iter()
        .map(|(name, value)| {
            JsValue::from(object(&[
                ("AttributeName", JsValue::from_str(name)),
                (kind, JsValue::from_str(value)),
            ]))
        })
        .collect::<Array>()
        .into()
}

#[async_trait(?Send)]
impl KeyStoreStorage for JsKeyStoreStorage {
    /// Eventually consistent, as the reference code reads (keystore facts §4:
    /// ConsistentRead is not set).
    async fn get_item(
        &self,
        table_name: &str,
        key: Item,
    ) -> std::result::Result<Option<Item>, DynamoDbError> {
        let op = "GetItem";
        let input = object(&[
            ("TableName", JsValue::from_str(table_name)),
            ("Key", item_to_js(&key)),
        ]);
        let output = self.send(op, input).await?;
        let item = output_field(&output, "Item", op)?;
        if item.is_undefined() || item.is_null() {
            return Ok(None);
        }
        let item = item_from_js(&item, "the GetItem output's Item")
            .map_err(|e| invalid_response(e.to_string()))?;
        // The reference treats an empty item as no item.
        Ok((!item.is_empty()).then_some(item))
    }

    async fn transact_write(
        &self,
        puts: Vec<ConditionalPut>,
    ) -> std::result::Result<(), DynamoDbError> {
        let items: Array = puts.iter().map(put_to_js).collect();
        self.send(
            "TransactWriteItems",
            object(&[("TransactItems", items.into())]),
        )
        .await
        .map(drop)
    }

    async fn describe_table(
        &self,
        table_name: &str,
    ) -> std::result::Result<Option<TableDescription>, DynamoDbError> {
        let op = "DescribeTable";
        let output = match self
            .send(op, object(&[("TableName", JsValue::from_str(table_name))]))
            .await
        {
            Err(e) if e.name == "ResourceNotFoundException" => return Ok(None),
            other => other?,
        };
        let table = output_field(&output, "Table", op)?;
        let table_arn = output_string(&table, "TableArn", op)?;
        let schema = output_field(&table, "KeySchema", op)?;
        let list = List::of(&schema)
            .ok()
            .flatten()
            .ok_or_else(|| invalid_response(format!("{op} output has no KeySchema array")))?;
        let mut key_schema = Vec::new();
        // A key schema has one or two elements; more is not a key store's.
        for element in list.items().take(KEY_SCHEMA.len() + 1) {
            let element = element
                .map_err(|why| invalid_response(format!("{op} output: KeySchema ({why})")))?;
            key_schema.push((
                output_string(&element, "AttributeName", op)?,
                output_string(&element, "KeyType", op)?,
            ));
        }
        Ok(Some(TableDescription {
            table_arn,
            key_schema,
        }))
    }

    /// The reference's request exactly (keystore facts §1): no indexes, no
    /// throughput, on-demand billing.
    async fn create_table(&self, table_name: &str) -> std::result::Result<String, DynamoDbError> {
        let op = "CreateTable";
        let definitions: Vec<(&str, &str)> =
            KEY_SCHEMA.iter().map(|(name, _)| (*name, "S")).collect();
        let input = object(&[
            ("TableName", JsValue::from_str(table_name)),
            (
                "AttributeDefinitions",
                attribute_pairs(&definitions, "AttributeType"),
            ),
            ("KeySchema", attribute_pairs(&KEY_SCHEMA, "KeyType")),
            ("BillingMode", JsValue::from_str("PAY_PER_REQUEST")),
        ]);
        let output = self.send(op, input).await?;
        let description = output_field(&output, "TableDescription", op)?;
        output_string(&description, "TableArn", op)
    }
}

// ---------------------------------------------------------------------------
// The key store.

const KEY_STORE_KEYS: &[&str] = &[
    "ddbTableName",
    "logicalKeyStoreName",
    "kmsConfiguration",
    "grantTokens",
    "ddbCall",
    "kmsCall",
];
const KMS_CONFIGURATIONS: &[&str] = &["kmsKeyArn", "kmsMRKeyArn", "discovery", "mrDiscovery"];

/// `kmsConfiguration`: an object with exactly one of the MPL's four keys.
fn kms_configuration(o: &Fields) -> Result<KmsConfiguration> {
    let c = o
        .nested("kmsConfiguration", KMS_CONFIGURATIONS)?
        .ok_or_else(|| config_error("kmsConfiguration is required".into()))?;
    let given: Vec<&str> = KMS_CONFIGURATIONS
        .iter()
        .copied()
        .filter(|k| c.has(k))
        .collect();
    match given.as_slice() {
        ["kmsKeyArn"] => KmsConfiguration::key_arn(&c.string("kmsKeyArn")?, false),
        ["kmsMRKeyArn"] => KmsConfiguration::key_arn(&c.string("kmsMRKeyArn")?, true),
        ["discovery"] => c
            .nested("discovery", &[])
            .map(|_| KmsConfiguration::Discovery),
        ["mrDiscovery"] => {
            let region = match c.nested("mrDiscovery", &["region"])? {
                Some(m) => m.string("region")?,
                None => String::new(),
            };
            Ok(KmsConfiguration::MrDiscovery { region })
        }
        _ => Err(config_error(format!(
            "kmsConfiguration must have exactly one of {}, got {}",
            KMS_CONFIGURATIONS.join(", "),
            if given.is_empty() {
                "none".to_string()
            } else {
                given.join(" and ")
            }
        ))),
    }
}

/// A branch key store: reads branch and beacon keys, and creates and
/// rotates them. Cheap to share: keyrings hold a reference to it.
#[wasm_bindgen]
pub struct WasmKeyStore {
    inner: Arc<KeyStore>,
}

/// An operation's future, boxed so that every method shares one promise
/// adapter instead of a copy per method.
type Pending = Pin<Box<dyn Future<Output = Result<JsValue>>>>;

/// Run `operation` on the store with an input read now, so later changes to
/// the JS object cannot race with it; every error is a rejection.
fn run<T>(
    store: &Arc<KeyStore>,
    input: Result<T>,
    operation: impl FnOnce(Arc<KeyStore>, T) -> Pending,
) -> Promise {
    let pending = input.map(|input| operation(store.clone(), input));
    crate::promise(async move { pending.map_err(to_js)?.await.map_err(to_js) })
}

fn context_to_js(context: &BTreeMap<String, String>) -> JsValue {
    names_to_js(context)
}

/// `{ branchKeyMaterials }`, the reference's GetActiveBranchKeyOutput /
/// GetBranchKeyVersionOutput.
fn branch_key_output(m: &BranchKeyMaterials) -> JsValue {
    let materials = object(&[
        ("branchKeyIdentifier", JsValue::from_str(&m.branch_key_id)),
        ("branchKeyVersion", JsValue::from_str(&m.branch_key_version)),
        ("encryptionContext", context_to_js(&m.encryption_context)),
        ("branchKey", Uint8Array::from(m.branch_key.expose()).into()),
    ]);
    object(&[("branchKeyMaterials", materials.into())]).into()
}

/// `{ beaconKeyMaterials }`, the reference's GetBeaconKeyOutput.
fn beacon_key_output(m: &BeaconKeyMaterials) -> JsValue {
    let materials = object(&[
        ("beaconKeyIdentifier", JsValue::from_str(&m.beacon_key_id)),
        ("beaconKey", Uint8Array::from(m.beacon_key.expose()).into()),
        ("encryptionContext", context_to_js(&m.encryption_context)),
    ]);
    object(&[("beaconKeyMaterials", materials.into())]).into()
}

/// createKey's input as read: the custom id and encryption context, if given.
type CreateKeyRequest = (Option<String>, Option<BTreeMap<String, String>>);

fn branch_key_identifier(input: &JsValue, what: &str) -> Result<String> {
    Fields::read(input, what, &["branchKeyIdentifier"])?.string("branchKeyIdentifier")
}

impl WasmKeyStore {
    /// The core store, shared (a table's beacon versions hold it).
    pub(crate) fn store(&self) -> Arc<KeyStore> {
        self.inner.clone()
    }
}

#[wasm_bindgen]
impl WasmKeyStore {
    /// Another handle to the same store, for an owner that takes it (an
    /// item encryptor's search config); this one stays usable.
    pub fn share(&self) -> WasmKeyStore {
        WasmKeyStore {
            inner: self.inner.clone(),
        }
    }

    /// Checks the configuration (names, the KMS key ARN, grant tokens); no call is made.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &KeyStoreOptions) -> std::result::Result<WasmKeyStore, JsValue> {
        let read = || -> Result<KeyStore> {
            let o = Fields::read(options, "the key store options", KEY_STORE_KEYS)?;
            let kms_call = o.function("kmsCall")?;
            let kms = move |region: &str| -> Result<Arc<dyn KmsClient>> {
                Ok(Arc::new(JsKmsClient::new(
                    region.to_string(),
                    kms_call.clone(),
                )))
            };
            KeyStore::new(KeyStoreConfig {
                ddb_table_name: o.string("ddbTableName")?,
                logical_key_store_name: o.string("logicalKeyStoreName")?,
                kms_configuration: kms_configuration(&o)?,
                grant_tokens: o.string_list("grantTokens")?,
                storage: Arc::new(JsKeyStoreStorage {
                    call: o.function("ddbCall")?,
                }),
                kms: Arc::new(kms),
                random: crate::random::pooled(),
                clock: Arc::new(JsClock),
            })
        };
        read()
            .map(|store| WasmKeyStore {
                inner: Arc::new(store),
            })
            .map_err(to_js)
    }

    /// Creates the key store's table unless it exists (an existing one must
    /// have the key store's key schema).
    #[wasm_bindgen(js_name = createKeyStore, unchecked_return_type = "Promise<{ tableArn: string }>")]
    pub fn create_key_store(&self) -> Promise {
        run(&self.inner, Ok(()), |store, ()| {
            Box::pin(async move {
                let arn = store.create_key_store().await?;
                Ok(object(&[("tableArn", JsValue::from_str(&arn))]).into())
            })
        })
    }

    /// A new branch key (first version and beacon key); a custom id needs a
    /// non-empty encryption context.
    #[wasm_bindgen(js_name = createKey, unchecked_return_type = "Promise<{ branchKeyIdentifier: string }>")]
    pub fn create_key(&self, input: &CreateKeyInput) -> Promise {
        let read = || -> Result<CreateKeyRequest> {
            let o = Fields::read(
                input,
                "the createKey input",
                &["branchKeyIdentifier", "encryptionContext"],
            )?;
            let context = match o.has("encryptionContext") {
                false => None,
                true => {
                    // Filled by insert: a collect into a BTreeMap would
                    // instantiate a sort of its own (see base::sorted_order).
                    let mut context = BTreeMap::new();
                    for (key, value) in o.entries("encryptionContext")? {
                        let value = args::string(&value, &format!("encryptionContext[{key:?}]"))?;
                        context.insert(key, value);
                    }
                    Some(context)
                }
            };
            Ok((o.optional_string("branchKeyIdentifier")?, context))
        };
        run(&self.inner, read(), |store, (id, context)| {
            Box::pin(async move {
                let id = store.create_key(id.as_deref(), context.as_ref()).await?;
                Ok(object(&[("branchKeyIdentifier", JsValue::from_str(&id))]).into())
            })
        })
    }

    /// A new active version of a branch key; older versions stay readable.
    #[wasm_bindgen(js_name = versionKey, unchecked_return_type = "Promise<{}>")]
    pub fn version_key(&self, input: &BranchKeyIdentifierInput) -> Promise {
        let id = branch_key_identifier(input, "the versionKey input");
        run(&self.inner, id, |store, id| {
            Box::pin(async move {
                store.version_key(&id).await?;
                Ok(Object::new().into())
            })
        })
    }

    #[wasm_bindgen(js_name = getActiveBranchKey, unchecked_return_type = "Promise<{ branchKeyMaterials: BranchKeyMaterials }>")]
    pub fn get_active_branch_key(&self, input: &BranchKeyIdentifierInput) -> Promise {
        let id = branch_key_identifier(input, "the getActiveBranchKey input");
        run(&self.inner, id, |store, id| {
            Box::pin(async move { Ok(branch_key_output(&store.get_active_branch_key(&id).await?)) })
        })
    }

    #[wasm_bindgen(js_name = getBranchKeyVersion, unchecked_return_type = "Promise<{ branchKeyMaterials: BranchKeyMaterials }>")]
    pub fn get_branch_key_version(&self, input: &GetBranchKeyVersionInput) -> Promise {
        let read = || -> Result<(String, String)> {
            let o = Fields::read(
                input,
                "the getBranchKeyVersion input",
                &["branchKeyIdentifier", "branchKeyVersion"],
            )?;
            Ok((
                o.string("branchKeyIdentifier")?,
                o.string("branchKeyVersion")?,
            ))
        };
        run(&self.inner, read(), |store, (id, version)| {
            Box::pin(async move {
                Ok(branch_key_output(
                    &store.get_branch_key_version(&id, &version).await?,
                ))
            })
        })
    }

    #[wasm_bindgen(js_name = getBeaconKey, unchecked_return_type = "Promise<{ beaconKeyMaterials: BeaconKeyMaterials }>")]
    pub fn get_beacon_key(&self, input: &BranchKeyIdentifierInput) -> Promise {
        let id = branch_key_identifier(input, "the getBeaconKey input");
        run(&self.inner, id, |store, id| {
            Box::pin(async move { Ok(beacon_key_output(&store.get_beacon_key(&id).await?)) })
        })
    }
}

// ---------------------------------------------------------------------------
// The branch key cache.

/// Branch keys cached for hierarchical keyrings; one cache may serve several
/// keyrings (their entries are told apart by partition id and key store).
#[wasm_bindgen]
pub struct WasmBranchKeyCache {
    inner: Arc<BranchKeyCache>,
}

#[wasm_bindgen]
impl WasmBranchKeyCache {
    #[wasm_bindgen(constructor)]
    pub fn new(
        options: &BranchKeyCacheOptions,
    ) -> std::result::Result<WasmBranchKeyCache, JsValue> {
        let read = || -> Result<BranchKeyCache> {
            let o = Fields::read(options, "the branch key cache options", &["entryCapacity"])?;
            let capacity = match o.has("entryCapacity") {
                false => DEFAULT_CACHE_ENTRIES,
                true => match o.value("entryCapacity").as_f64() {
                    Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => {
                        n as usize
                    }
                    _ => {
                        return Err(config_error(
                            "entryCapacity must be a positive integer".into(),
                        ))
                    }
                },
            };
            BranchKeyCache::new(capacity, Arc::new(JsClock))
        };
        read()
            .map(|cache| WasmBranchKeyCache {
                inner: Arc::new(cache),
            })
            .map_err(to_js)
    }

    /// Branch keys held now (expired ones included until they are pruned).
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }
}

// ---------------------------------------------------------------------------
// The hierarchical keyring and its JS branch key id supplier.

/// How long a supplier may take by default: a tenant lookup that hangs must
/// not hang every operation with it.
const DEFAULT_SUPPLIER_TIMEOUT_MS: u32 = 10_000;
/// `setTimeout` fires at once for longer delays (its limit is a signed
/// 32-bit millisecond count), so anything longer means "no deadline".
const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// Why a promise did not fulfil in time.
enum Unsettled {
    Rejected(JsValue),
    TimedOut,
}

/// `value` (a promise, thenable or plain value) awaited through
/// [`args::settle`], raced against a timer of `timeout_ms` when there is one.
async fn settle_within(
    value: &JsValue,
    timeout_ms: Option<u32>,
) -> std::result::Result<JsValue, Unsettled> {
    let Some(ms) = timeout_ms else {
        return args::settle(value).await.map_err(Unsettled::Rejected);
    };
    // The timer rejects with this object, which no caller's code can hold.
    let marker: JsValue = Object::new().into();
    let mut timer = None;
    let deadline = Promise::new(&mut |_resolve, reject| {
        let reject_late = JsValue::from(reject.bind1(&JsValue::UNDEFINED, &marker));
        timer = set_timeout(&reject_late, ms).ok();
    });
    // Promise.race turns a throwing `then` or constructor getter into a rejection.
    let raced = Promise::race(&Array::of2(value, &deadline));
    let result = args::settle(&raced).await;
    if let Some(timer) = timer {
        let _ = clear_timeout(&timer);
    }
    result.map_err(|e| match e == marker {
        true => Unsettled::TimedOut,
        false => Unsettled::Rejected(e),
    })
}

/// The user's `branchKeyIdSupplier(ddbKey)` as the DB-ESDK's
/// `DynamoDbKeyBranchKeyIdSupplier`. Every way it can fail (a throw, a
/// rejection, a non-string, no answer in time) is KEY_PROVIDER_FAILURE.
struct JsBranchKeyIdSupplier {
    supplier: Function,
    timeout_ms: Option<u32>,
}

#[async_trait(?Send)]
impl DynamoDbKeyBranchKeyIdSupplier for JsBranchKeyIdSupplier {
    async fn branch_key_id_from_ddb_key(&self, ddb_key: &Item) -> fieldseal::Result<String> {
        let failure = |why: String| Error::KeyProviderFailure(format!("branchKeyIdSupplier {why}"));
        let returned = self
            .supplier
            .call1(&JsValue::UNDEFINED, &item_to_js(ddb_key))
            .map_err(|e| failure(format!("threw: {}", describe(&e))))?;
        let id = settle_within(&returned, self.timeout_ms)
            .await
            .map_err(|e| match e {
                Unsettled::TimedOut => failure(format!(
                    "did not settle within {} ms (supplierTimeoutMs)",
                    self.timeout_ms.unwrap_or_default()
                )),
                Unsettled::Rejected(e) => failure(format!("rejected: {}", describe(&e))),
            })?;
        id.as_string().ok_or_else(|| {
            failure(format!(
                "resolved to {}, expected a branch key id string",
                type_of(&id)
            ))
        })
    }
}

const HIERARCHICAL_KEYS: &[&str] = &[
    "branchKeyId",
    "branchKeyIdSupplier",
    "ttlSeconds",
    "partitionId",
    "supplierTimeoutMs",
];

/// `supplierTimeoutMs`: a positive number of milliseconds; `Infinity` or
/// more than a timer can hold waits forever (`None`).
fn supplier_timeout(o: &Fields) -> Result<Option<u32>> {
    if !o.has("supplierTimeoutMs") {
        return Ok(Some(DEFAULT_SUPPLIER_TIMEOUT_MS));
    }
    match o.value("supplierTimeoutMs").as_f64() {
        Some(n) if n > MAX_TIMER_MS => Ok(None),
        Some(n) if n > 0.0 => Ok(Some(n.ceil() as u32)),
        _ => Err(config_error(
            "supplierTimeoutMs must be a positive number of milliseconds".into(),
        )),
    }
}

/// `ttlSeconds`: a whole number of seconds (the core refuses 0).
fn ttl_seconds(o: &Fields) -> Result<u64> {
    match o.value("ttlSeconds").as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(n as u64),
        _ => Err(config_error(
            "ttlSeconds must be a whole number of seconds".into(),
        )),
    }
}

/// The branch key id or the supplier; the reference's messages when both or neither are given.
fn branch_key_source(o: &Fields) -> Result<BranchKeyIdSource> {
    match (o.has("branchKeyId"), o.has("branchKeyIdSupplier")) {
        (true, false) => Ok(BranchKeyIdSource::Fixed(o.string("branchKeyId")?)),
        (false, true) => {
            let supplier = JsBranchKeyIdSupplier {
                supplier: o.function("branchKeyIdSupplier")?,
                timeout_ms: supplier_timeout(o)?,
            };
            Ok(BranchKeyIdSource::Supplier(Arc::new(
                DynamoDbBranchKeyIdSupplier(Arc::new(supplier)),
            )))
        }
        (true, true) => Err(config_error(
            "Cannot initialize keyring with both a branchKeyId and BranchKeyIdSupplier.".into(),
        )),
        (false, false) => Err(config_error(
            "Must initialize keyring with either branchKeyId or BranchKeyIdSupplier.".into(),
        )),
    }
}

#[wasm_bindgen]
impl WasmKeyring {
    /// The AWS KMS hierarchical keyring over `keyStore`, caching branch keys
    /// in `cache` (shared, or one of the keyring's own). Both are shared, not consumed.
    #[wasm_bindgen(js_name = awsKmsHierarchical)]
    pub fn aws_kms_hierarchical(
        options: &AwsKmsHierarchicalOptions,
        key_store: &WasmKeyStore,
        cache: &WasmBranchKeyCache,
    ) -> std::result::Result<WasmKeyring, JsValue> {
        let read = || -> Result<AwsKmsHierarchicalKeyring> {
            let o = Fields::read(
                options,
                "the hierarchical keyring options",
                HIERARCHICAL_KEYS,
            )?;
            // Keyrings sharing a cache must not read each other's entries
            // unless told to: the reference's default is a fresh UUID's 16 bytes.
            let partition_id = match o.optional_string("partitionId")? {
                Some(id) => id.into_bytes(),
                None => crate::random::pooled().array::<16>()?.to_vec(),
            };
            AwsKmsHierarchicalKeyring::new(HierarchicalKeyringConfig {
                key_store: key_store.inner.clone(),
                branch_key_id: branch_key_source(&o)?,
                ttl_seconds: ttl_seconds(&o)?,
                cache: cache.inner.clone(),
                partition_id,
            })
        };
        read().map(WasmKeyring::new).map_err(to_js)
    }
}
