//! A keyring whose provider is a pair of JS callbacks. The format work (data
//! key generation, intermediate key wrapping, EDK layout) stays in the core;
//! JS only wraps and unwraps the 32-byte intermediate key.

use async_trait::async_trait;
use fieldseal::keyring::intermediate::{self, ProviderWrapped};
use fieldseal::materials::{
    serialize_encryption_context, DecryptionMaterials, EncryptedDataKey, EncryptionContext,
    EncryptionMaterials, SecretBytes,
};
use fieldseal::suite::KEY_LEN;
use fieldseal::{Error, Keyring, Result};
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::args::{self, define};

/// Longest part of a thrown JS value quoted in an error message.
const MAX_QUOTED: usize = 200;

pub struct JsKeyring {
    provider_id: String,
    wrap_key: Function,
    unwrap_key: Function,
}

impl JsKeyring {
    pub fn new(provider_id: String, wrap_key: JsValue, unwrap_key: JsValue) -> Result<Self> {
        if provider_id.is_empty() {
            return Err(Error::InvalidConfig(
                "a custom keyring needs a non-empty providerId".into(),
            ));
        }
        if provider_id.starts_with("aws-kms") {
            return Err(Error::InvalidConfig(format!(
                "providerId {provider_id:?} is reserved for AWS KMS keyrings"
            )));
        }
        let function = |v: JsValue, what: &str| {
            v.dyn_into::<Function>().map_err(|_| {
                Error::InvalidConfig(format!("custom keyring: {what} must be a function"))
            })
        };
        Ok(JsKeyring {
            wrap_key: function(wrap_key, "wrapKey")?,
            unwrap_key: function(unwrap_key, "unwrapKey")?,
            provider_id,
        })
    }

    fn failure(&self, what: String) -> Error {
        Error::KeyProviderFailure(format!("custom keyring {:?}: {what}", self.provider_id))
    }

    /// Call `callback(argument)`, which must return a Promise (or thenable),
    /// and await it. Throws, rejections and non-promises become messages.
    async fn call(
        &self,
        callback: &Function,
        name: &str,
        argument: &Object,
    ) -> Result<JsValue, String> {
        let returned = callback
            .call1(&JsValue::UNDEFINED, argument)
            .map_err(|e| format!("{name} threw: {}", describe(&e)))?;
        if !is_thenable(&returned) {
            return Err(format!(
                "{name} must return a Promise (declare it async), got {}",
                type_of(&returned)
            ));
        }
        args::settle(&returned)
            .await
            .map_err(|e| format!("{name} rejected: {}", describe(&e)))
    }
}

fn is_thenable(value: &JsValue) -> bool {
    value.is_instance_of::<Promise>()
        || (value.is_object()
            && Reflect::get(value, &JsValue::from_str("then")).is_ok_and(|t| t.is_function()))
}

fn type_of(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

/// A thrown value, for an error message: an Error's message, a string, or its type.
/// The message is read with a checked get: a thrown object's getter may throw too.
fn describe(value: &JsValue) -> String {
    let message = || {
        Reflect::get(value, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
    };
    let text = if let Some(text) = value.dyn_ref::<js_sys::Error>().and_then(|_| message()) {
        text
    } else if let Some(s) = value.as_string() {
        s
    } else {
        format!("a non-Error value ({})", type_of(value))
    };
    if text.chars().count() > MAX_QUOTED {
        text.chars().take(MAX_QUOTED).chain("…".chars()).collect()
    } else {
        text
    }
}

/// Keys come from the item's header, so `__proto__` is defined, not assigned.
fn context_to_js(context: &EncryptionContext) -> Object {
    let object = Object::new();
    for (k, v) in context {
        define(&object, k, &JsValue::from_str(v));
    }
    object
}

fn argument(entries: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (k, v) in entries {
        define(&object, k, v);
    }
    object
}

/// A secret handed to JS: a fresh `Uint8Array` that is zeroed once the
/// callback has settled, so a provider that keeps it gets zeros.
struct LentKey(Uint8Array);

impl LentKey {
    fn new(key: &SecretBytes) -> Self {
        LentKey(Uint8Array::from(key.expose()))
    }
}

impl Drop for LentKey {
    fn drop(&mut self) {
        self.0.fill(0, 0, self.0.length());
    }
}

#[async_trait(?Send)]
impl Keyring for JsKeyring {
    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        let (pending, _) = intermediate::begin_encrypt(&mut materials)?;
        let lent = LentKey::new(pending.intermediate_key());
        let result = self
            .call(
                &self.wrap_key,
                "wrapKey",
                &argument(&[
                    ("plaintextDataKey", lent.0.clone().into()),
                    (
                        "encryptionContext",
                        context_to_js(&materials.encryption_context).into(),
                    ),
                ]),
            )
            .await
            .map_err(|why| self.failure(why))?;
        drop(lent);
        let junk = |why: &str| self.failure(format!("wrapKey resolved to {why}"));
        if !result.is_object() {
            return Err(junk(&format!(
                "{}, expected {{ providerInfo, ciphertext }}",
                type_of(&result)
            )));
        }
        let field = |key: &str| {
            Reflect::get(&result, &JsValue::from_str(key))
                .map_err(|_| junk("an object whose getter threw"))
        };
        let ciphertext = args::bytes(&field("ciphertext")?).map_err(|why| {
            junk(&format!(
                "an object without a Uint8Array ciphertext ({why})"
            ))
        })?;
        if ciphertext.is_empty() {
            return Err(junk("an empty ciphertext"));
        }
        let info = field("providerInfo")?;
        let key_provider_info = if info.is_undefined() || info.is_null() {
            Vec::new()
        } else if let Some(text) = info.as_string() {
            text.into_bytes()
        } else {
            args::bytes(&info).map_err(|why| {
                junk(&format!(
                    "a providerInfo that is neither a string nor a Uint8Array ({why})"
                ))
            })?
        };
        let (edk, signing_key) = pending.finish(ProviderWrapped {
            key_provider_id: self.provider_id.clone(),
            key_provider_info,
            wrapped_intermediate_key: ciphertext,
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
        let serialized_ec = serialize_encryption_context(&materials.encryption_context)?;
        let mut declined = Vec::new();
        let mut failures = Vec::new();
        for (i, edk) in encrypted_data_keys.iter().enumerate() {
            if edk.key_provider_id != self.provider_id {
                continue;
            }
            let (encrypted_pdk, wrapped) = match intermediate::split_ciphertext(&edk.ciphertext) {
                Ok(parts) => parts,
                Err(e) => {
                    declined.push(format!("EDK #{i}: {e}"));
                    continue;
                }
            };
            let result = self
                .call(
                    &self.unwrap_key,
                    "unwrapKey",
                    &argument(&[
                        (
                            "providerInfo",
                            Uint8Array::from(edk.key_provider_info.as_slice()).into(),
                        ),
                        ("ciphertext", Uint8Array::from(wrapped).into()),
                        (
                            "encryptionContext",
                            context_to_js(&materials.encryption_context).into(),
                        ),
                    ]),
                )
                .await;
            let returned = match result {
                Ok(v) => v,
                Err(why) => {
                    failures.push(format!("EDK #{i}: {why}"));
                    continue;
                }
            };
            if returned.is_null() || returned.is_undefined() {
                declined.push(format!("EDK #{i}: unwrapKey returned null"));
                continue;
            }
            let intermediate_key = match args::bytes(&returned) {
                Ok(key) => SecretBytes::new(key),
                Err(why) => {
                    failures.push(format!(
                        "EDK #{i}: unwrapKey resolved to {} ({why}), expected a Uint8Array or null",
                        type_of(&returned)
                    ));
                    continue;
                }
            };
            if intermediate_key.len() != KEY_LEN {
                failures.push(format!(
                    "EDK #{i}: unwrapKey returned {} bytes, expected {KEY_LEN}",
                    intermediate_key.len()
                ));
                continue;
            }
            match intermediate::open_data_key(encrypted_pdk, &intermediate_key, &serialized_ec) {
                Ok((data_key, signing_key)) => {
                    materials.set_keys(data_key, signing_key)?;
                    return Ok(materials);
                }
                Err(e) => declined.push(format!("EDK #{i}: {e}")),
            }
        }
        Err(intermediate::none_opened(
            &format!("custom keyring {:?}", self.provider_id),
            encrypted_data_keys,
            failures,
            declined,
        ))
    }
}
