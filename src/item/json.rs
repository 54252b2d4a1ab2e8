//! DynamoDB JSON (`{"S":"x"}`, binary as base64) and the official test
//! manifests' shorthand (a bare string is S, a bare number is N), as the
//! official runner's `JsonItem.dfy` reads it: the shorthand is accepted at the
//! top level and inside `L` and `M`, and `NS` members may be JSON numbers.
//! Unlike that runner, a bare number keeps its exact text (serde_json's
//! `arbitrary_precision`), `{"N": 1}` is accepted, and `NULL` must be `true`.
//! Printing always gives typed JSON with standard, padded base64.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::item::path::Path;
use crate::item::serialize::{key_too_long, MAX_DEPTH};
use crate::item::{AttributeValue, Item};

/// Parse a JSON object of attributes into an item.
pub fn item_from_json(json: &Value) -> Result<Item> {
    let obj = json
        .as_object()
        .ok_or_else(|| Error::InvalidItem("an item must be a JSON object".into()))?;
    obj.iter()
        .map(|(k, v)| {
            let path = Path::Root(k);
            check_name(k, &path)?;
            Ok((k.clone(), parse(v, &path, 0)?))
        })
        .collect()
}

/// Parse one attribute value (typed DynamoDB JSON or manifest shorthand).
pub fn value_from_json(json: &Value) -> Result<AttributeValue> {
    parse(json, &Path::Root("value"), 0)
}

/// Print an item as typed DynamoDB JSON.
pub fn item_to_json(item: &Item) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect(),
    )
}

/// Print one value as typed DynamoDB JSON.
pub fn value_to_json(value: &AttributeValue) -> Value {
    let strings = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
    let (tag, inner) = match value {
        AttributeValue::S(s) => ("S", Value::String(s.clone())),
        AttributeValue::N(n) => ("N", Value::String(n.clone())),
        AttributeValue::B(b) => ("B", Value::String(B64.encode(b))),
        AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
        AttributeValue::Null => ("NULL", Value::Bool(true)),
        AttributeValue::L(l) => ("L", Value::Array(l.iter().map(value_to_json).collect())),
        AttributeValue::M(m) => (
            "M",
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), value_to_json(v)))
                    .collect(),
            ),
        ),
        AttributeValue::Ss(v) => ("SS", strings(v)),
        AttributeValue::Ns(v) => ("NS", strings(v)),
        AttributeValue::Bs(v) => (
            "BS",
            Value::Array(v.iter().map(|b| Value::String(B64.encode(b))).collect()),
        ),
    };
    let mut obj = Map::new();
    obj.insert(tag.into(), inner);
    Value::Object(obj)
}

/// Checked before anything is built from the name; `path` names the value
/// under it (long names are cut when the path is rendered).
fn check_name(name: &str, path: &Path<'_>) -> Result<()> {
    if key_too_long(name) {
        return path.check_key_len(name.encode_utf16().count());
    }
    Ok(())
}

/// `depth` is 0 for a top-level value; like the serializer, values at depth
/// `MAX_DEPTH` (the 33rd level) and below are refused.
fn parse(json: &Value, path: &Path<'_>, depth: usize) -> Result<AttributeValue> {
    let bad = |why: &str| path.invalid(why);
    if depth >= MAX_DEPTH {
        return Err(bad(&format!("nested deeper than {MAX_DEPTH} levels")));
    }
    let obj = match json {
        Value::String(s) => return Ok(AttributeValue::S(s.clone())),
        // With serde_json's `arbitrary_precision` this is the number's exact text.
        Value::Number(n) => return Ok(AttributeValue::N(n.to_string())),
        Value::Object(obj) => obj,
        _ => {
            return Err(bad(
                "expected a typed value like {\"S\": ...}, a string or a number",
            ))
        }
    };
    let mut entries = obj.iter();
    let (tag, inner) = match (entries.next(), entries.next()) {
        (Some(e), None) => e,
        _ => return Err(bad("a typed value has exactly one type key")),
    };
    Typed { tag, inner, path }.parse(depth)
}

/// One typed value `{tag: inner}`; its readers name the tag in errors.
struct Typed<'a> {
    tag: &'a str,
    inner: &'a Value,
    path: &'a Path<'a>,
}

impl Typed<'_> {
    fn bad(&self, why: &str) -> Error {
        self.path.invalid(why)
    }

    fn string(&self, v: &Value) -> Result<String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.bad(&format!("{} needs a string", self.tag)))
    }

    /// Numbers may be JSON strings or, as in the manifests, JSON numbers.
    fn number_text(&self, v: &Value) -> Result<String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(self.bad(&format!("{} needs numbers as strings", self.tag))),
        }
    }

    fn binary(&self, v: &Value) -> Result<Vec<u8>> {
        let s = v
            .as_str()
            .ok_or_else(|| self.bad(&format!("{} needs base64 strings", self.tag)))?;
        B64.decode(s).map_err(|_| self.bad("invalid base64"))
    }

    /// Every array-valued type has its array in `inner`.
    fn array(&self) -> Result<&[Value]> {
        self.inner
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.bad(&format!("{} needs an array", self.tag)))
    }

    fn flag(&self, v: &Value) -> Result<bool> {
        v.as_bool()
            .ok_or_else(|| self.bad(&format!("{} needs true or false", self.tag)))
    }

    fn parse(&self, depth: usize) -> Result<AttributeValue> {
        let inner = self.inner;
        Ok(match self.tag {
            "S" => AttributeValue::S(self.string(inner)?),
            "N" => AttributeValue::N(self.number_text(inner)?),
            "B" => AttributeValue::B(self.binary(inner)?),
            "BOOL" => AttributeValue::Bool(self.flag(inner)?),
            "NULL" => {
                if !self.flag(inner)? {
                    return Err(self.bad("NULL must be true"));
                }
                AttributeValue::Null
            }
            "SS" => AttributeValue::Ss(self.members(|v| self.string(v))?),
            "NS" => AttributeValue::Ns(self.members(|v| self.number_text(v))?),
            "BS" => AttributeValue::Bs(self.members(|v| self.binary(v))?),
            "L" => AttributeValue::L(
                self.array()?
                    .iter()
                    .enumerate()
                    .map(|(i, v)| parse(v, &self.path.index(i), depth + 1))
                    .collect::<Result<_>>()?,
            ),
            "M" => AttributeValue::M(self.map(depth)?),
            other => return Err(self.bad(&format!("unknown DynamoDB type {other:?}"))),
        })
    }

    fn members<T>(&self, read: impl Fn(&Value) -> Result<T>) -> Result<Vec<T>> {
        self.array()?.iter().map(read).collect()
    }

    fn map(&self, depth: usize) -> Result<BTreeMap<String, AttributeValue>> {
        let m = self
            .inner
            .as_object()
            .ok_or_else(|| self.bad("M needs an object"))?;
        m.iter()
            .map(|(k, v)| {
                let child = self.path.key(k);
                check_name(k, &child)?;
                Ok((k.clone(), parse(v, &child, depth + 1)?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::serialize::MAX_KEY_UTF16_LEN;

    /// `{"a": {"M": {key: {"M": {key: ... {"S": "x"}}}}}}`, `levels` maps deep.
    fn nested(key: &str, levels: usize) -> Value {
        let mut value = serde_json::json!({ "S": "x" });
        for _ in 0..levels {
            let mut map = Map::new();
            map.insert(key.to_owned(), value);
            value = serde_json::json!({ "M": Value::Object(map) });
        }
        serde_json::json!({ "a": value })
    }

    #[test]
    fn over_long_map_key_is_refused_with_a_short_message() {
        let err = item_from_json(&nested(&"k".repeat(1 << 20), 31)).unwrap_err();
        assert_eq!(err.code(), "INVALID_ITEM");
        assert!(
            err.to_string().len() < 4096,
            "{} bytes",
            err.to_string().len()
        );
    }

    #[test]
    fn error_paths_stay_small_under_deep_long_keys() {
        // Keys of the longest allowed length, nested past the depth limit: the
        // error names the path, cut, instead of 40 copies of 65,535 chars.
        let err = item_from_json(&nested(&"k".repeat(MAX_KEY_UTF16_LEN), 40)).unwrap_err();
        assert_eq!(err.code(), "INVALID_ITEM");
        let message = err.to_string();
        assert!(message.len() < 8192, "{} bytes", message.len());
        assert!(
            message.contains("nested deeper than"),
            "{}",
            &message[..200]
        );
    }
}
