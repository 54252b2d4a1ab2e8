//! DynamoDB items between JS (the `@aws-sdk/client-dynamodb` AttributeValue
//! shape: `{S}`, `{N}`, `{B: Uint8Array}`, `{BOOL}`, `{NULL: true}`, `{L}`,
//! `{M}`, `{SS}`, `{NS}`, `{BS}`) and the core's [`Item`].
//!
//! Traversal uses js-sys directly: one pass, no intermediate serde model.
//! Every read goes through [`crate::args`]'s checked accessors, so hostile
//! objects (Proxies, throwing getters, lying typed arrays) are refused with
//! `INVALID_ITEM`; error paths are rendered only when an error is raised.

use std::collections::BTreeMap;

use fieldseal::item::path::Path;
use fieldseal::item::serialize::MAX_DEPTH;
use fieldseal::{AttributeValue, Error, Item};
use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::JsValue;

use crate::args::{self, define, List, Result};

/// Parse a JS item (`{name: AttributeValue}`). `what` names it in errors.
pub fn item_from_js(value: &JsValue, what: &str) -> Result<Item> {
    let root = Path::Root(what);
    if !value.is_object() || args::is_array(value) != Ok(false) {
        return Err(Error::InvalidItem(format!(
            "{what} must be an object of attribute values"
        )));
    }
    entries(value, &root, None)
}

/// The entries of an item (`depth` None) or of an `M` value at `depth`.
/// Each name's length is checked before it is copied out of JS or recursed
/// into, so an over-long name costs nothing.
fn entries(
    object: &JsValue,
    path: &Path<'_>,
    depth: Option<usize>,
) -> Result<BTreeMap<String, AttributeValue>> {
    let keys = args::own_keys(object).map_err(|why| path.invalid(why))?;
    let mut out = BTreeMap::new();
    for key in keys {
        // Named by its parent: the name itself is what is too long.
        path.check_key_len(args::key_units(&key).map_err(|why| path.invalid(why))?)?;
        let name = args::key_string(&key).map_err(|why| path.invalid(why))?;
        let (child, child_depth) = match depth {
            None => (Path::Root(&name), 0),
            Some(d) => (path.key(&name), d + 1),
        };
        let value = args::get(object, &key).map_err(|why| child.invalid(why))?;
        let parsed = attribute_from_js(&value, &child, child_depth)?;
        out.insert(name, parsed);
    }
    Ok(out)
}

fn string(value: &JsValue, path: &Path<'_>, tag: &str) -> Result<String> {
    value
        .as_string()
        .ok_or_else(|| path.invalid(format_args!("{tag} needs a string")))
}

fn bytes(value: &JsValue, path: &Path<'_>, tag: &str) -> Result<Vec<u8>> {
    args::bytes(value).map_err(|why| path.invalid(format_args!("{tag} needs a Uint8Array ({why})")))
}

/// The members of an `L`, `SS`, `NS` or `BS` array, each parsed by `member`.
fn members<T>(
    value: &JsValue,
    path: &Path<'_>,
    tag: &str,
    mut member: impl FnMut(&JsValue, usize) -> Result<T>,
) -> Result<Vec<T>> {
    let list = List::of(value)
        .map_err(|why| path.invalid(why))?
        .ok_or_else(|| path.invalid(format_args!("{tag} needs an array")))?;
    // No capacity from `length`: a sparse array may claim 2^32-1 elements.
    let mut out = Vec::new();
    for (i, v) in list.items().enumerate() {
        let v = v.map_err(|why| path.index(i).invalid(why))?;
        out.push(member(&v, i)?);
    }
    Ok(out)
}

/// `depth` is 0 for a top-level value, as in the core's serializer.
fn attribute_from_js(value: &JsValue, path: &Path<'_>, depth: usize) -> Result<AttributeValue> {
    if depth >= MAX_DEPTH {
        return Err(path.invalid(format_args!("nested deeper than {MAX_DEPTH} levels")));
    }
    if !value.is_object() || args::is_array(value) != Ok(false) {
        return Err(path.invalid("expected an attribute value like {S: \"text\"} or {N: \"1\"}"));
    }
    let keys = args::own_keys(value).map_err(|why| path.invalid(why))?;
    let [tag_js] = keys.as_slice() else {
        return Err(path.invalid(format_args!(
            "an attribute value has exactly one type key (S, N, B, ...), found {}",
            keys.len()
        )));
    };
    let inner = args::get(value, tag_js).map_err(|why| path.invalid(why))?;
    let tag = args::key_string(tag_js).map_err(|why| path.invalid(why))?;
    let tag = tag.as_str();
    Ok(match tag {
        "S" => AttributeValue::S(string(&inner, path, tag)?),
        "N" => AttributeValue::N(string(&inner, path, tag)?),
        "B" => AttributeValue::B(bytes(&inner, path, tag)?),
        "BOOL" => AttributeValue::Bool(
            inner
                .as_bool()
                .ok_or_else(|| path.invalid("BOOL needs true or false"))?,
        ),
        "NULL" => {
            if inner.as_bool() != Some(true) {
                return Err(path.invalid("NULL must be true"));
            }
            AttributeValue::Null
        }
        "SS" => AttributeValue::Ss(members(&inner, path, tag, |m, _| string(m, path, tag))?),
        "NS" => AttributeValue::Ns(members(&inner, path, tag, |m, _| string(m, path, tag))?),
        "BS" => AttributeValue::Bs(members(&inner, path, tag, |m, _| bytes(m, path, tag))?),
        "L" => AttributeValue::L(members(&inner, path, tag, |v, i| {
            attribute_from_js(v, &path.index(i), depth + 1)
        })?),
        "M" => {
            if !inner.is_object() || args::is_array(&inner) != Ok(false) {
                return Err(path.invalid("M needs an object"));
            }
            AttributeValue::M(entries(&inner, path, Some(depth))?)
        }
        other => {
            return Err(path.invalid(format_args!(
                "unknown attribute type {other:?} (use S, N, B, BOOL, NULL, L, M, SS, NS or BS)"
            )))
        }
    })
}

/// Print an item as a JS object of attribute values.
pub fn item_to_js(item: &Item) -> JsValue {
    let object = Object::new();
    for (name, value) in item {
        define(&object, name, &attribute_to_js(value));
    }
    object.into()
}

fn strings(members: &[String]) -> JsValue {
    members
        .iter()
        .map(|m| JsValue::from_str(m))
        .collect::<Array>()
        .into()
}

/// Print one attribute value as JS (`{S: ...}`, ...).
pub fn attribute_to_js(value: &AttributeValue) -> JsValue {
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
    define(&object, tag, &inner);
    object.into()
}
