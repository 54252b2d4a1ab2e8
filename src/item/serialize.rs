//! Attribute value <-> terminal (type id + value bytes): the form the format encrypts and signs.
//! Spec: dynamodb-encryption-client/ddb-attribute-serialization.md
use crate::error::Result;
use crate::item::AttributeValue;

/// Type id of an encrypted terminal (and of a `B` value).
pub const BYTES_TYPE_ID: [u8; 2] = [0xFF, 0xFF];

/// A serialized top-level attribute.
#[derive(Clone, PartialEq, Eq)]
pub struct Terminal {
    pub type_id: [u8; 2],
    pub value: Vec<u8>,
}

/// Serialize an attribute (numbers normalized, sets and maps in canonical order).
pub fn serialize(value: &AttributeValue) -> Result<Terminal> {
    let _ = value;
    todo!()
}

/// Parse a terminal back into an attribute; malformed bytes are `MalformedCiphertext`.
pub fn deserialize(type_id: [u8; 2], value: &[u8]) -> Result<AttributeValue> {
    let _ = (type_id, value);
    todo!()
}
