//! `WasmItemEncryptor`: the core's item encryptor behind promises.

use std::collections::BTreeMap;
use std::rc::Rc;

use fieldseal::{AlgorithmSuiteId, CryptoAction, Error, Item, ItemEncryptor, ItemEncryptorConfig};
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::args::{self, config_error, Result};
use crate::convert::{item_from_js, item_to_js};
use crate::error::{to_js, to_js_at};
use crate::keyring::WasmKeyring;
use crate::webcrypto::{default_bulk_min_len, WebCrypto};

/// The config keys, with the DB-ESDK's names. `keyring` is accepted and
/// ignored: the keyring is the constructor's second argument.
const CONFIG_KEYS: [&str; 10] = [
    "logicalTableName",
    "partitionKeyName",
    "sortKeyName",
    "attributeActionsOnEncrypt",
    "allowedUnsignedAttributes",
    "allowedUnsignedAttributePrefix",
    "algorithmSuiteId",
    "platformCrypto",
    "maxEncryptedDataKeys",
    "keyring",
];

fn config_from_js(value: &JsValue, keyring: &WasmKeyring) -> Result<ItemEncryptorConfig> {
    let object = args::object(value, "the item encryptor config")?;
    for key in args::config_keys(object, "the item encryptor config")? {
        if !CONFIG_KEYS.contains(&key.as_str()) {
            return Err(config_error(format!(
                "unknown config key {key:?} (expected one of {})",
                CONFIG_KEYS[..CONFIG_KEYS.len() - 1].join(", ")
            )));
        }
    }
    let get = |key: &str| args::property(object, key);
    let absent = |v: &JsValue| v.is_undefined() || v.is_null();

    let actions_js = get("attributeActionsOnEncrypt")?;
    let actions_object = args::object(&actions_js, "attributeActionsOnEncrypt")?;
    let mut actions = BTreeMap::new();
    for name in args::config_keys(actions_object, "attributeActionsOnEncrypt")? {
        let action = args::string(
            &args::property(actions_object, &name)?,
            &format!("attributeActionsOnEncrypt[{name:?}]"),
        )?;
        actions.insert(name, CryptoAction::parse(&action)?);
    }

    let mut config = ItemEncryptorConfig::new(
        args::string(&get("logicalTableName")?, "logicalTableName")?,
        args::string(&get("partitionKeyName")?, "partitionKeyName")?,
        actions,
        keyring.shared(),
    );
    config.sort_key_name = args::optional_string(&get("sortKeyName")?, "sortKeyName")?;
    let unsigned = get("allowedUnsignedAttributes")?;
    if !absent(&unsigned) {
        config.allowed_unsigned_attributes =
            args::string_list(&unsigned, "allowedUnsignedAttributes")?;
    }
    config.allowed_unsigned_attribute_prefix = args::optional_string(
        &get("allowedUnsignedAttributePrefix")?,
        "allowedUnsignedAttributePrefix",
    )?;
    let suite = get("algorithmSuiteId")?;
    if !absent(&suite) {
        config.algorithm_suite_id = if let Some(id) = suite.as_f64() {
            if id.fract() != 0.0 || !(0.0..=f64::from(u16::MAX)).contains(&id) {
                // JS formats the number: Rust's float formatting costs ~10 KB of wasm.
                let shown = String::from(
                    js_sys::Number::from(id)
                        .to_string_with_radix(10)
                        .unwrap_or_default(),
                );
                return Err(config_error(format!("unknown algorithm suite {shown}")));
            }
            AlgorithmSuiteId::from_id(id as u16)?
        } else {
            AlgorithmSuiteId::parse(&args::string(&suite, "algorithmSuiteId")?)?
        };
    }
    let max_edks = get("maxEncryptedDataKeys")?;
    if !absent(&max_edks) {
        config.max_encrypted_data_keys = match max_edks.as_f64() {
            // Saturating (a negative number becomes 0): the core refuses
            // anything outside its range with one message.
            Some(n) if n.fract() == 0.0 => n as usize,
            _ => {
                return Err(config_error(
                    "maxEncryptedDataKeys must be an integer".into(),
                ))
            }
        };
    }
    if let Some(min_len) = platform_crypto(&get("platformCrypto")?)? {
        if let Some(platform) = WebCrypto::detect(min_len) {
            config.crypto = platform.provider();
        }
    }
    Ok(config)
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
    // Rc: a pending operation keeps the encryptor alive even if JS frees it.
    inner: Rc<ItemEncryptor>,
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
    /// The item is read now, so later changes to the JS object cannot race
    /// with the operation; errors still arrive as a rejected promise.
    fn one(&self, direction: Direction, item: &JsValue) -> Promise {
        let parsed = item_from_js(item, "item");
        let encryptor = self.inner.clone();
        future_to_promise(async move {
            let item = parsed.map_err(to_js)?;
            let out = run(&encryptor, direction, &item).await.map_err(to_js)?;
            Ok(item_to_js(&out))
        })
    }

    /// All or nothing: the first failure rejects, naming the item's index.
    fn batch(&self, direction: Direction, items: &JsValue) -> Promise {
        let parsed: std::result::Result<Vec<Item>, JsValue> = match args::List::of(items) {
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
        };
        let encryptor = self.inner.clone();
        future_to_promise(async move {
            let items = parsed?;
            let out = Array::new_with_length(items.len() as u32);
            for (i, item) in items.iter().enumerate() {
                let done = run(&encryptor, direction, item)
                    .await
                    .map_err(|e| to_js_at(e, &format!("item #{i}")))?;
                out.set(i as u32, item_to_js(&done));
            }
            Ok(out.into())
        })
    }
}

#[wasm_bindgen]
impl WasmItemEncryptor {
    /// Validates the config (see wasm/README.md); the keyring is shared, not consumed.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: JsValue,
        keyring: &WasmKeyring,
    ) -> std::result::Result<WasmItemEncryptor, JsValue> {
        let config = config_from_js(&config, keyring).map_err(to_js)?;
        let encryptor = ItemEncryptor::new(config).map_err(to_js)?;
        Ok(WasmItemEncryptor {
            inner: Rc::new(encryptor),
        })
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
}
