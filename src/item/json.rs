//! DynamoDB JSON (`{"S":"x"}`, binary as base64) and the official test
//! manifests' shorthand (a bare string is S, a bare number is N).
use serde_json::Value;

use crate::error::Result;
use crate::item::{AttributeValue, Item};

/// Parse a JSON object of attributes into an item.
pub fn item_from_json(json: &Value) -> Result<Item> {
    let _ = json;
    todo!()
}

/// Parse one attribute value (typed DynamoDB JSON or manifest shorthand).
pub fn value_from_json(json: &Value) -> Result<AttributeValue> {
    let _ = json;
    todo!()
}

/// Print an item as typed DynamoDB JSON.
pub fn item_to_json(item: &Item) -> Value {
    let _ = item;
    todo!()
}

/// Print one value as typed DynamoDB JSON.
pub fn value_to_json(value: &AttributeValue) -> Value {
    let _ = value;
    todo!()
}
