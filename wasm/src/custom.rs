//! The transport of a key provider made of two JS callbacks: it calls them
//! and converts values. The keyring around it (data key, intermediate key
//! wrapping, EDK layout, the EDK loop, its errors and the provider-id rule)
//! is the core's generic one; JS only wraps and unwraps the 32-byte
//! intermediate key.

use async_trait::async_trait;
use fieldseal::keyring::intermediate::ProviderWrapped;
use fieldseal::keyring::provider::{
    check_custom_provider_id, Claim, KeyProvider, UnwrapRequest, Unwrapped, WrapRequest, Wrapped,
};
use fieldseal::materials::{EncryptedDataKey, EncryptionContext, SecretBytes};
use fieldseal::suite::KEY_LEN;
use fieldseal::{Error, Result};
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
        check_custom_provider_id(&provider_id)?;
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

pub(crate) fn type_of(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

/// A thrown value, for an error message: an Error's message, a string, or its type.
/// The message is read with a checked get: a thrown object's getter may throw too.
pub(crate) fn describe(value: &JsValue) -> String {
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

impl JsKeyring {
    /// `wrapKey`'s answer: `{ providerInfo?, ciphertext }`.
    fn wrapped_from_js(&self, result: &JsValue) -> Result<ProviderWrapped> {
        let junk = |why: &str| self.failure(format!("wrapKey resolved to {why}"));
        if !result.is_object() {
            return Err(junk(&format!(
                "{}, expected {{ providerInfo, ciphertext }}",
                type_of(result)
            )));
        }
        let field = |key: &str| {
            Reflect::get(result, &JsValue::from_str(key))
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
        Ok(ProviderWrapped {
            key_provider_id: self.provider_id.clone(),
            key_provider_info,
            wrapped_intermediate_key: ciphertext,
        })
    }
}

/// `unwrapKey`'s answer: a 32-byte `Uint8Array`, or `null` to decline.
fn unwrapped_from_js(returned: &JsValue) -> Unwrapped {
    if returned.is_null() || returned.is_undefined() {
        return Unwrapped::Declined("unwrapKey returned null".into());
    }
    let key = match args::bytes(returned) {
        Ok(key) => SecretBytes::new(key),
        Err(why) => {
            return Unwrapped::Failed(format!(
                "unwrapKey resolved to {} ({why}), expected a Uint8Array or null",
                type_of(returned)
            ))
        }
    };
    if key.len() != KEY_LEN {
        return Unwrapped::Failed(format!(
            "unwrapKey returned {} bytes, expected {KEY_LEN}",
            key.len()
        ));
    }
    Unwrapped::Key(key, None)
}

#[async_trait(?Send)]
impl KeyProvider for JsKeyring {
    fn describe(&self) -> String {
        format!("custom keyring {:?}", self.provider_id)
    }

    async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped> {
        let intermediate_key = request.fresh_intermediate_key()?;
        let lent = LentKey::new(&intermediate_key);
        let argument = argument(&[
            ("plaintextDataKey", lent.0.clone().into()),
            (
                "encryptionContext",
                context_to_js(request.encryption_context).into(),
            ),
        ]);
        let result = self.call(&self.wrap_key, "wrapKey", &argument).await;
        drop(lent);
        let result = result.map_err(|why| self.failure(why))?;
        Ok(Wrapped {
            intermediate_key,
            edk: self.wrapped_from_js(&result)?,
            key_use: None,
        })
    }

    fn claim(&self, _index: usize, edk: &EncryptedDataKey) -> Result<Claim> {
        Ok(if edk.key_provider_id == self.provider_id {
            Claim::Mine
        } else {
            Claim::Skip
        })
    }

    async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped> {
        let argument = argument(&[
            (
                "providerInfo",
                Uint8Array::from(request.edk.key_provider_info.as_slice()).into(),
            ),
            ("ciphertext", Uint8Array::from(request.wrapped).into()),
            (
                "encryptionContext",
                context_to_js(request.encryption_context).into(),
            ),
        ]);
        Ok(
            match self.call(&self.unwrap_key, "unwrapKey", &argument).await {
                Ok(returned) => unwrapped_from_js(&returned),
                Err(why) => Unwrapped::Failed(why),
            },
        )
    }
}
