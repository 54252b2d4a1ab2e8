//! DynamoDB items between JS (the `@aws-sdk/client-dynamodb` AttributeValue
//! shape: `{S}`, `{N}`, `{B: Uint8Array}`, `{BOOL}`, `{NULL: true}`, `{L}`,
//! `{M}`, `{SS}`, `{NS}`, `{BS}`) and the core's [`Item`].
//!
//! Traversal uses js-sys directly: one pass, no intermediate serde model.

use std::collections::BTreeMap;

use fieldseal::item::serialize::MAX_DEPTH;
use fieldseal::{AttributeValue, Error, Item};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::args::{own_keys, Result};

fn invalid(path: &str, why: &str) -> Error {
    Error::InvalidItem(format!("{path}: {why}"))
}

/// Parse a JS item (`{name: AttributeValue}`). `what` names it in errors.
pub fn item_from_js(value: &JsValue, what: &str) -> Result<Item> {
    if !value.is_object() || Array::is_array(value) {
        return Err(Error::InvalidItem(format!(
            "{what} must be an object of attribute values"
        )));
    }
    let object = value.unchecked_ref::<Object>();
    own_keys(object)
        .into_iter()
        .map(|name| {
            let v = get(object, &name, &name)?;
            let parsed = attribute_from_js(&v, &name, 0)?;
            Ok((name, parsed))
        })
        .collect()
}

fn get(object: &Object, key: &str, path: &str) -> Result<JsValue> {
    Reflect::get(object, &JsValue::from_str(key)).map_err(|_| invalid(path, "a getter threw"))
}

fn array<'a>(value: &'a JsValue, path: &str, tag: &str) -> Result<&'a Array> {
    value
        .dyn_ref::<Array>()
        .ok_or_else(|| invalid(path, &format!("{tag} needs an array")))
}

fn string(value: &JsValue, path: &str, tag: &str) -> Result<String> {
    value
        .as_string()
        .ok_or_else(|| invalid(path, &format!("{tag} needs a string")))
}

fn bytes(value: &JsValue, path: &str, tag: &str) -> Result<Vec<u8>> {
    value
        .dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| invalid(path, &format!("{tag} needs a Uint8Array")))
}

/// `depth` is 0 for a top-level value, as in the core's serializer.
fn attribute_from_js(value: &JsValue, path: &str, depth: usize) -> Result<AttributeValue> {
    if depth >= MAX_DEPTH {
        return Err(invalid(
            path,
            &format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    if !value.is_object() || Array::is_array(value) {
        return Err(invalid(
            path,
            "expected an attribute value like {S: \"text\"} or {N: \"1\"}",
        ));
    }
    let object = value.unchecked_ref::<Object>();
    let keys = own_keys(object);
    let [tag] = keys.as_slice() else {
        return Err(invalid(
            path,
            &format!(
                "an attribute value has exactly one type key (S, N, B, ...), found {}",
                keys.len()
            ),
        ));
    };
    let inner = get(object, tag, path)?;
    Ok(match tag.as_str() {
        "S" => AttributeValue::S(string(&inner, path, tag)?),
        "N" => AttributeValue::N(string(&inner, path, tag)?),
        "B" => AttributeValue::B(bytes(&inner, path, tag)?),
        "BOOL" => AttributeValue::Bool(
            inner
                .as_bool()
                .ok_or_else(|| invalid(path, "BOOL needs true or false"))?,
        ),
        "NULL" => {
            if inner.as_bool() != Some(true) {
                return Err(invalid(path, "NULL must be true"));
            }
            AttributeValue::Null
        }
        "SS" => AttributeValue::Ss(
            array(&inner, path, tag)?
                .iter()
                .map(|m| string(&m, path, tag))
                .collect::<Result<_>>()?,
        ),
        "NS" => AttributeValue::Ns(
            array(&inner, path, tag)?
                .iter()
                .map(|m| string(&m, path, tag))
                .collect::<Result<_>>()?,
        ),
        "BS" => AttributeValue::Bs(
            array(&inner, path, tag)?
                .iter()
                .map(|m| bytes(&m, path, tag))
                .collect::<Result<_>>()?,
        ),
        "L" => AttributeValue::L(
            array(&inner, path, tag)?
                .iter()
                .enumerate()
                .map(|(i, v)| attribute_from_js(&v, &format!("{path}[{i}]"), depth + 1))
                .collect::<Result<_>>()?,
        ),
        "M" => {
            if !inner.is_object() || Array::is_array(&inner) {
                return Err(invalid(path, "M needs an object"));
            }
            let map = inner.unchecked_ref::<Object>();
            AttributeValue::M(
                own_keys(map)
                    .into_iter()
                    .map(|k| {
                        let child_path = format!("{path}.{k}");
                        let v = get(map, &k, &child_path)?;
                        let parsed = attribute_from_js(&v, &child_path, depth + 1)?;
                        Ok((k, parsed))
                    })
                    .collect::<Result<BTreeMap<_, _>>>()?,
            )
        }
        other => {
            return Err(invalid(
                path,
                &format!(
                    "unknown attribute type {other:?} (use S, N, B, BOOL, NULL, L, M, SS, NS or BS)"
                ),
            ))
        }
    })
}

/// Print an item as a JS object of attribute values.
pub fn item_to_js(item: &Item) -> JsValue {
    let object = Object::new();
    for (name, value) in item {
        set(&object, name, &attribute_to_js(value));
    }
    object.into()
}

fn set(object: &Object, key: &str, value: &JsValue) {
    // Defining a data property on a fresh plain object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

fn strings(members: &[String]) -> JsValue {
    members
        .iter()
        .map(|m| JsValue::from_str(m))
        .collect::<Array>()
        .into()
}

fn attribute_to_js(value: &AttributeValue) -> JsValue {
    let (tag, inner): (&str, JsValue) = match value {
        AttributeValue::S(s) => ("S", JsValue::from_str(s)),
        AttributeValue::N(n) => ("N", JsValue::from_str(n)),
        AttributeValue::B(b) => ("B", Uint8Array::from(b.as_slice()).into()),
        AttributeValue::Bool(b) => ("BOOL", JsValue::from_bool(*b)),
        AttributeValue::Null => ("NULL", JsValue::TRUE),
        AttributeValue::L(l) => ("L", l.iter().map(attribute_to_js).collect::<Array>().into()),
        AttributeValue::M(m) => ("M", item_to_js(m)),
        AttributeValue::Ss(s) => ("SS", strings(s)),
        AttributeValue::Ns(n) => ("NS", strings(n)),
        AttributeValue::Bs(bs) => (
            "BS",
            bs.iter()
                .map(|b| JsValue::from(Uint8Array::from(b.as_slice())))
                .collect::<Array>()
                .into(),
        ),
    };
    let object = Object::new();
    set(&object, tag, &inner);
    object.into()
}
