//! Checked reads of JS arguments and properties. wasm-bindgen does not check
//! the types of imported JS values, so every value from JS is checked here
//! and a wrong type becomes a typed error instead of garbage or a trap.

use fieldseal::Error;
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use zeroize::Zeroizing;

pub type Result<T> = fieldseal::Result<T>;

pub fn config_error(what: String) -> Error {
    Error::InvalidConfig(what)
}

pub fn string(value: &JsValue, what: &str) -> Result<String> {
    value
        .as_string()
        .ok_or_else(|| config_error(format!("{what} must be a string")))
}

pub fn optional_string(value: &JsValue, what: &str) -> Result<Option<String>> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        string(value, what).map(Some)
    }
}

/// A copy of a `Uint8Array` holding key material; wiped when dropped.
pub fn key_bytes(value: &JsValue, what: &str) -> Result<Zeroizing<Vec<u8>>> {
    value
        .dyn_ref::<Uint8Array>()
        .map(|bytes| Zeroizing::new(bytes.to_vec()))
        .ok_or_else(|| Error::InvalidKey(format!("{what} must be a Uint8Array")))
}

/// A plain JS object (not null, not an array).
pub fn object<'a>(value: &'a JsValue, what: &str) -> Result<&'a Object> {
    if value.is_object() && !js_sys::Array::is_array(value) {
        Ok(value.unchecked_ref::<Object>())
    } else {
        Err(config_error(format!("{what} must be an object")))
    }
}

/// `object[key]`; reading a property of an object cannot fail except through
/// a throwing getter, which is reported as a config error.
pub fn property(object: &Object, key: &str) -> Result<JsValue> {
    Reflect::get(object, &JsValue::from_str(key))
        .map_err(|_| config_error(format!("reading {key:?} threw")))
}

/// The object's own enumerable string keys, in insertion order.
pub fn own_keys(object: &Object) -> Vec<String> {
    Object::keys(object)
        .iter()
        .filter_map(|k| k.as_string())
        .collect()
}

/// An array of strings; `undefined`/`null` is an empty list.
pub fn string_list(value: &JsValue, what: &str) -> Result<Vec<String>> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    value
        .dyn_ref::<js_sys::Array>()
        .ok_or_else(|| config_error(format!("{what} must be an array of strings")))?
        .iter()
        .map(|v| string(&v, what))
        .collect()
}

pub fn function(value: JsValue, what: &str) -> Result<js_sys::Function> {
    value
        .dyn_into::<js_sys::Function>()
        .map_err(|_| config_error(format!("{what} must be a function")))
}
