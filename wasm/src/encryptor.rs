//! `WasmItemEncryptor`: the core's item encryptor behind promises.

use std::collections::BTreeMap;
use std::sync::Arc;

use fieldseal::encryptor::query::{QueryConditions, QueryValue};
use fieldseal::{AlgorithmSuiteId, CryptoAction, Error, Item, ItemEncryptor, ItemEncryptorConfig};
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

use crate::args::{self, config_error, Fields, Result};
use crate::convert::{attribute_to_js, item_from_js, item_to_js};
use crate::error::{to_js, to_js_item};
use crate::keyring::WasmKeyring;
use crate::search::SearchOptions;
use crate::webcrypto::{default_bulk_min_len, WebCrypto};

#[wasm_bindgen(typescript_custom_section)]
const CONFIG_TS: &'static str = r#"
/** What happens to an attribute on encrypt (the DB-ESDK's names). */
export type CryptoActionName = "ENCRYPT_AND_SIGN" | "SIGN_ONLY" | "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT" | "DO_NOTHING";
/** The DB-ESDK's item encryptor config, without the keyring (the constructor's
 *  second argument; a `keyring` key is accepted and ignored). Unknown keys are refused.
 *  algorithmSuiteId: "0x6700", "0x6701" (the default), the numbers 26368 / 26369, or the DB-ESDK's long names. */
export interface ItemEncryptorOptions {
  logicalTableName: string; partitionKeyName: string; sortKeyName?: string | null;
  attributeActionsOnEncrypt: { [attribute: string]: CryptoActionName };
  allowedUnsignedAttributes?: string[] | null; allowedUnsignedAttributePrefix?: string | null;
  algorithmSuiteId?: string | number | null;
  platformCrypto?: boolean | { bulkMinBytes?: number } | null; maxEncryptedDataKeys?: number | null;
  onKeyUse?: ((event: KeyUseEvent) => void) | null;
  plaintextOverride?: "FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ" | "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ" | "FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ" | null;
  /** The DB-ESDK's SearchConfig in camelCase (see wasm/src/search.rs); each version's keyStore a WasmKeyStore the encryptor takes. */
  search?: unknown;
  keyring?: unknown;
}
/** Which keys one operation used: never key bytes, never plaintext. */
export interface KeyUseEvent {
  operation: "encrypt" | "decrypt";
  /** The logical table name. */
  table: string;
  /** The item's partition and sort key attributes (AttributeValue objects, as items). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  itemKey: { [attribute: string]: any };
  /** On encrypt, one entry per wrapped copy of the data key; on decrypt, the key that opened it. */
  keys: { keyProviderId: string; key: string; branchKeyVersion?: string; cacheHit: boolean }[];
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "ItemEncryptorOptions")]
    pub type ItemEncryptorOptions;
}

/// The config keys, with the DB-ESDK's names. `keyring` is accepted and
/// ignored: the keyring is the constructor's second argument.
const CONFIG_KEYS: &[&str] = &[
    "logicalTableName",
    "partitionKeyName",
    "sortKeyName",
    "attributeActionsOnEncrypt",
    "allowedUnsignedAttributes",
    "allowedUnsignedAttributePrefix",
    "algorithmSuiteId",
    "platformCrypto",
    "maxEncryptedDataKeys",
    "onKeyUse",
    "plaintextOverride",
    "search",
    "keyring",
];

/// The config as read from JS, before the keyring is attached: every key,
/// name and number checked by the core's parsers. The rules that need the
/// whole config (key attributes signed, reserved names...) are checked when
/// the core builds the encryptor.
struct ConfigOptions {
    table: String,
    partition_key: String,
    sort_key: Option<String>,
    actions: BTreeMap<String, CryptoAction>,
    unsigned: Option<Vec<String>>,
    unsigned_prefix: Option<String>,
    suite: Option<AlgorithmSuiteId>,
    max_edks: Option<usize>,
    platform_min_len: Option<usize>,
    on_key_use: Option<js_sys::Function>,
    plaintext_override: Option<fieldseal::encryptor::PlaintextOverride>,
    search: Option<SearchOptions>,
}

impl ConfigOptions {
    fn read(value: &JsValue) -> Result<ConfigOptions> {
        let o = Fields::read(value, "the item encryptor config", CONFIG_KEYS)?;
        let mut actions = BTreeMap::new();
        for (name, action) in o.entries("attributeActionsOnEncrypt")? {
            let what = format!("attributeActionsOnEncrypt[{name:?}]");
            actions.insert(name, CryptoAction::parse(&args::string(&action, &what)?)?);
        }
        Ok(ConfigOptions {
            table: o.string("logicalTableName")?,
            partition_key: o.string("partitionKeyName")?,
            sort_key: o.optional_string("sortKeyName")?,
            actions,
            unsigned: match o.has("allowedUnsignedAttributes") {
                true => Some(o.string_list("allowedUnsignedAttributes")?),
                false => None,
            },
            unsigned_prefix: o.optional_string("allowedUnsignedAttributePrefix")?,
            suite: match o.has("algorithmSuiteId") {
                true => Some(suite_id(&o.value("algorithmSuiteId"))?),
                false => None,
            },
            max_edks: match o.has("maxEncryptedDataKeys") {
                true => Some(max_edks(&o.value("maxEncryptedDataKeys"))?),
                false => None,
            },
            platform_min_len: platform_crypto(&o.value("platformCrypto"))?,
            plaintext_override: match o.optional_string("plaintextOverride")? {
                Some(name) => Some(fieldseal::encryptor::PlaintextOverride::parse(&name)?),
                None => None,
            },
            on_key_use: match o.value("onKeyUse") {
                v if v.is_undefined() || v.is_null() => None,
                _ => Some(o.function("onKeyUse")?),
            },
            search: match o.has("search") {
                true => Some(SearchOptions::read(&o.value("search"))?),
                false => None,
            },
        })
    }

    fn into_config(self, keyring: &WasmKeyring) -> Result<ItemEncryptorConfig> {
        let mut config = ItemEncryptorConfig::new(
            self.table,
            self.partition_key,
            self.actions,
            keyring.shared(),
        );
        config.sort_key_name = self.sort_key;
        if let Some(unsigned) = self.unsigned {
            config.allowed_unsigned_attributes = unsigned;
        }
        config.allowed_unsigned_attribute_prefix = self.unsigned_prefix;
        if let Some(suite) = self.suite {
            config.algorithm_suite_id = suite;
        }
        if let Some(max) = self.max_edks {
            config.max_encrypted_data_keys = max;
        }
        if let Some(platform) = self.platform_min_len.and_then(WebCrypto::detect) {
            config.crypto = platform.provider();
        }
        // Pooled: each draw from the platform is a call into JS.
        config.crypto.random = crate::random::pooled();
        if let Some(plaintext) = self.plaintext_override {
            config.plaintext_override = plaintext;
        }
        if let Some(callback) = self.on_key_use {
            config.on_key_use = Some(std::sync::Arc::new(JsKeyUseObserver(callback)));
        }
        // Last: the search config is checked against the rest of the config.
        match self.search {
            Some(search) => config.with_search(search.into_config()?),
            None => Ok(config),
        }
    }
}

/// `onKeyUse`: the core's audit events as plain JS objects. An exception
/// the callback throws is dropped: the key was used, and the operation's
/// outcome should not depend on its logger.
struct JsKeyUseObserver(js_sys::Function);

impl fieldseal::encryptor::KeyUseObserver for JsKeyUseObserver {
    fn key_used(&self, event: &fieldseal::encryptor::KeyUseEvent) {
        let keys = Array::new();
        for used in &event.key_uses {
            let key = js_sys::Object::new();
            args::define(
                &key,
                "keyProviderId",
                &JsValue::from_str(&used.key_provider_id),
            );
            args::define(&key, "key", &JsValue::from_str(&used.key));
            if let Some(version) = &used.version {
                args::define(&key, "branchKeyVersion", &JsValue::from_str(version));
            }
            args::define(&key, "cacheHit", &JsValue::from_bool(used.cache_hit));
            keys.push(&key);
        }
        let out = js_sys::Object::new();
        args::define(
            &out,
            "operation",
            &JsValue::from_str(event.operation.as_str()),
        );
        args::define(&out, "table", &JsValue::from_str(&event.table));
        args::define(&out, "itemKey", &item_to_js(&event.item_key));
        args::define(&out, "keys", &keys);
        let _ = self.0.call1(&JsValue::UNDEFINED, &out);
    }
}

/// Saturating (a negative number becomes 0): the core refuses anything
/// outside its range with one message.
fn max_edks(value: &JsValue) -> Result<usize> {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 => Ok(n as usize),
        _ => Err(config_error(
            "maxEncryptedDataKeys must be an integer".into(),
        )),
    }
}

/// `algorithmSuiteId` as a number or a name, parsed by the core.
fn suite_id(suite: &JsValue) -> Result<AlgorithmSuiteId> {
    let Some(id) = suite.as_f64() else {
        return AlgorithmSuiteId::parse(&args::string(suite, "algorithmSuiteId")?);
    };
    if id.fract() != 0.0 || !(0.0..=f64::from(u16::MAX)).contains(&id) {
        // JS formats the number: Rust's float formatting costs ~10 KB of wasm.
        let shown = String::from(
            js_sys::Number::from(id)
                .to_string_with_radix(10)
                .unwrap_or_default(),
        );
        return Err(config_error(format!("unknown algorithm suite {shown}")));
    }
    AlgorithmSuiteId::from_id(id as u16)
}

/// `platformCrypto`: absent or `true` uses WebCrypto where it exists, for
/// values from the default crossover up; `{ bulkMinBytes }` moves the
/// crossover; `false` keeps everything in wasm. `None` = off.
fn platform_crypto(value: &JsValue) -> Result<Option<usize>> {
    if value.is_undefined() || value.is_null() || value.as_bool() == Some(true) {
        return Ok(Some(default_bulk_min_len()));
    }
    if value.as_bool() == Some(false) {
        return Ok(None);
    }
    let bad =
        || config_error("platformCrypto must be true, false or { bulkMinBytes: number }".into());
    let object = value.dyn_ref::<js_sys::Object>().ok_or_else(bad)?;
    let min = args::property(object, "bulkMinBytes")?;
    if min.is_undefined() {
        return Ok(Some(default_bulk_min_len()));
    }
    match min.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => {
            Ok(Some(n as usize))
        }
        _ => Err(config_error(
            "platformCrypto.bulkMinBytes must be a non-negative integer".into(),
        )),
    }
}

/// Encrypts and decrypts items under one table configuration.
#[wasm_bindgen]
pub struct WasmItemEncryptor {
    // Shared: a pending operation (or a DynamoDB plug-in) keeps the encryptor alive even if JS frees it.
    inner: Arc<ItemEncryptor>,
}

/// Which way an operation goes.
#[derive(Clone, Copy)]
enum Direction {
    Encrypt,
    Decrypt,
}

async fn run(
    encryptor: &ItemEncryptor,
    direction: Direction,
    item: &Item,
) -> fieldseal::Result<Item> {
    match direction {
        Direction::Encrypt => encryptor.encrypt_item(item).await,
        Direction::Decrypt => encryptor.decrypt_item(item).await,
    }
}

impl WasmItemEncryptor {
    /// The core encryptor, shared (the DynamoDB plug-in's tables hold it).
    pub(crate) fn shared(&self) -> Arc<ItemEncryptor> {
        self.inner.clone()
    }

    /// The item is read now, so later changes to the JS object cannot race
    /// with the operation; errors still arrive as a rejected promise.
    fn one(&self, direction: Direction, item: &JsValue) -> Promise {
        let parsed = item_from_js(item, "item");
        let encryptor = self.inner.clone();
        crate::promise(async move {
            let item = parsed.map_err(to_js)?;
            let out = run(&encryptor, direction, &item).await.map_err(to_js)?;
            Ok(item_to_js(&out))
        })
    }

    /// All or nothing: the first failure rejects, naming the item's index.
    fn batch(&self, direction: Direction, items: &JsValue) -> Promise {
        let parsed = items_from_js(items);
        let encryptor = self.inner.clone();
        crate::promise(async move {
            let items = parsed?;
            let out = Array::new_with_length(items.len() as u32);
            for (i, item) in items.iter().enumerate() {
                let done = run(&encryptor, direction, item)
                    .await
                    .map_err(|e| to_js_item(e, i))?;
                out.set(i as u32, item_to_js(&done));
            }
            Ok(out.into())
        })
    }
}

/// A JS array of items; the first bad one is `INVALID_ITEM` naming its index.
fn items_from_js(items: &JsValue) -> std::result::Result<Vec<Item>, JsValue> {
    match args::List::of(items) {
        Ok(Some(list)) => list
            .items()
            .enumerate()
            .map(|(i, v)| {
                let at = format!("item #{i}");
                let v = v.map_err(|why| to_js(Error::InvalidItem(format!("{at}: {why}"))))?;
                item_from_js(&v, &at).map_err(to_js)
            })
            .collect(),
        Ok(None) => Err(to_js(Error::InvalidItem(
            "expected an array of items".into(),
        ))),
        Err(why) => Err(to_js(Error::InvalidItem(format!(
            "expected an array of items ({why})"
        )))),
    }
}

/// A query's conditions: `equal` and `beginsWith`, each an item of
/// attribute name to plaintext value.
fn conditions_from_js(equal: &JsValue, begins_with: &JsValue) -> Result<QueryConditions> {
    Ok(QueryConditions {
        equal: item_from_js(equal, "equal")?,
        begins_with: item_from_js(begins_with, "beginsWith")?,
    })
}

/// `[{ name, beginsWith, attribute, beacon, values }]`, one per condition.
fn query_values_to_js(values: &[QueryValue]) -> JsValue {
    let out = Array::new();
    for value in values {
        let entry = js_sys::Object::new();
        args::define(&entry, "name", &JsValue::from_str(&value.name));
        args::define(&entry, "beginsWith", &JsValue::from_bool(value.begins_with));
        args::define(&entry, "attribute", &JsValue::from_str(&value.attribute));
        args::define(&entry, "beacon", &JsValue::from_bool(value.beacon));
        let list: Array = value.values.iter().map(attribute_to_js).collect();
        args::define(&entry, "values", &list.into());
        out.push(&entry);
    }
    out.into()
}

#[wasm_bindgen]
impl WasmItemEncryptor {
    /// Validates the config (see wasm/README.md); the keyring is shared, not consumed.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: &ItemEncryptorOptions,
        keyring: &WasmKeyring,
    ) -> std::result::Result<WasmItemEncryptor, JsValue> {
        let config = ConfigOptions::read(config).map_err(to_js)?;
        let encryptor = config
            .into_config(keyring)
            .and_then(ItemEncryptor::new)
            .map_err(to_js)?;
        Ok(WasmItemEncryptor {
            inner: Arc::new(encryptor),
        })
    }

    /// Read and check a config as the constructor does (its keys, names and
    /// numbers), without a keyring and without building: lets the package
    /// refuse a bad config from its own constructor once the module is loaded.
    #[wasm_bindgen(js_name = checkOptions)]
    pub fn check_options(config: &ItemEncryptorOptions) -> std::result::Result<(), JsValue> {
        ConfigOptions::read(config).map(drop).map_err(to_js)
    }

    #[wasm_bindgen(js_name = encryptItem)]
    pub fn encrypt_item(&self, item: JsValue) -> Promise {
        self.one(Direction::Encrypt, &item)
    }

    #[wasm_bindgen(js_name = decryptItem)]
    pub fn decrypt_item(&self, item: JsValue) -> Promise {
        self.one(Direction::Decrypt, &item)
    }

    #[wasm_bindgen(js_name = encryptItems)]
    pub fn encrypt_items(&self, items: JsValue) -> Promise {
        self.batch(Direction::Encrypt, &items)
    }

    #[wasm_bindgen(js_name = decryptItems)]
    pub fn decrypt_items(&self, items: JsValue) -> Promise {
        self.batch(Direction::Decrypt, &items)
    }

    /// The DB-ESDK's `ResolveAttributes` for this table: the item's virtual
    /// fields and compound beacon strings (plaintext), as
    /// `{ VirtualFields, CompoundBeacons }`; both empty without `search`.
    #[wasm_bindgen(
        js_name = resolveAttributes,
        unchecked_return_type = "{ VirtualFields: { [name: string]: string }; CompoundBeacons: { [name: string]: string } }"
    )]
    pub fn resolve_attributes(
        &self,
        item: JsValue,
        version: Option<u32>,
    ) -> std::result::Result<JsValue, JsValue> {
        let item = item_from_js(&item, "Item").map_err(to_js)?;
        let (virtual_fields, compound) = self
            .inner
            .resolve_attributes(&item, version)
            .map_err(to_js)?;
        let strings = |map: BTreeMap<String, String>| {
            let out = js_sys::Object::new();
            for (name, value) in map {
                args::define(&out, &name, &JsValue::from_str(&value));
            }
            out
        };
        let out = js_sys::Object::new();
        args::define(&out, "VirtualFields", &strings(virtual_fields));
        args::define(&out, "CompoundBeacons", &strings(compound));
        Ok(out.into())
    }

    /// What a query that is not a DynamoDB request (SQL rows) compares:
    /// for each condition of `equal` and `beginsWith` (items of attribute to
    /// plaintext value), the stored attribute (`aws_dbe_b_<name>` for a
    /// beacon) and the values to match, the beacon values over all partitions.
    #[wasm_bindgen(
        js_name = queryValues,
        unchecked_return_type = "Promise<{ name: string; beginsWith: boolean; attribute: string; beacon: boolean; values: any[] }[]>"
    )]
    pub fn query_values(&self, equal: JsValue, begins_with: JsValue) -> Promise {
        let parsed = conditions_from_js(&equal, &begins_with);
        let encryptor = self.inner.clone();
        crate::promise(async move {
            let conditions = parsed.map_err(to_js)?;
            let values = encryptor.query_values(&conditions).await.map_err(to_js)?;
            Ok(query_values_to_js(&values))
        })
    }

    /// For each opened item, whether all the conditions hold (the plaintext
    /// predicate that drops a beacon's false positives).
    #[wasm_bindgen(js_name = conditionsHold)]
    pub fn conditions_hold(
        &self,
        equal: JsValue,
        begins_with: JsValue,
        items: JsValue,
    ) -> std::result::Result<Vec<u8>, JsValue> {
        let conditions = conditions_from_js(&equal, &begins_with).map_err(to_js)?;
        let items = items_from_js(&items)?;
        let holds = self
            .inner
            .conditions_hold(&conditions, &items)
            .map_err(to_js)?;
        Ok(holds.into_iter().map(u8::from).collect())
    }
}
