//! Core errors become JS `Error`s named `FieldsealError` with a stable `code`;
//! `pkg/` turns them into instances of its `FieldsealError` class.

use wasm_bindgen::JsValue;

/// A JS `Error` with `name = "FieldsealError"` and the given code.
pub fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name("FieldsealError");
    // Setting a property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
    error.into()
}

pub fn to_js(error: fieldseal::Error) -> JsValue {
    js_error(error.code(), &error.to_string())
}

/// The same error, its message prefixed with where it happened (e.g. `item #3`).
pub fn to_js_at(error: fieldseal::Error, at: &str) -> JsValue {
    js_error(error.code(), &format!("{at}: {error}"))
}
