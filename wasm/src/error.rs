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

/// The error of item `index` of a batch: its message prefixed `item #N: `,
/// and the index in `itemIndex` (the DynamoDB plug-in names the item's key).
pub fn to_js_item(error: fieldseal::Error, index: usize) -> JsValue {
    let out = js_error(error.code(), &format!("item #{index}: {error}"));
    let _ = js_sys::Reflect::set(
        &out,
        &JsValue::from_str("itemIndex"),
        &JsValue::from_f64(index as f64),
    );
    out
}
