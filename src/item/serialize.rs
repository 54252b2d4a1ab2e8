//! Attribute value <-> terminal (type id + value bytes): the form the format
//! encrypts and signs. Spec: dynamodb-encryption-client/ddb-attribute-serialization.md
//!
//! Sets and map keys are written in canonical order (UTF-16 code unit order for
//! strings, byte order for binary), so equal values always give equal bytes.
//!
//! Where the prose and the reference implementation (`DynamoToStruct.dfy`)
//! differ, this follows the reference:
//! - sets with duplicate members are refused when written (for number sets,
//!   also duplicates after normalization) and when read;
//! - empty sets are written and read (count 0), as the reference does;
//! - map keys may be empty but not longer than 65535 UTF-16 code units
//!   (the SDK's `AttributeName` constraint);
//! - the top-level value is level 1 and no value may sit deeper than level 32;
//! - reading keeps the stored member order (it is not re-sorted or checked).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::base::{sorted_by, sorted_order};
use crate::error::{Error, Result};
use crate::item::{normalize_number, AttributeValue};

/// Type ids. Spec: ddb-attribute-serialization.md#type-id
pub mod type_id {
    pub const NULL: [u8; 2] = [0x00, 0x00];
    pub const STRING: [u8; 2] = [0x00, 0x01];
    pub const NUMBER: [u8; 2] = [0x00, 0x02];
    pub const BOOLEAN: [u8; 2] = [0x00, 0x04];
    pub const BINARY: [u8; 2] = [0xFF, 0xFF];
    pub const STRING_SET: [u8; 2] = [0x01, 0x01];
    pub const NUMBER_SET: [u8; 2] = [0x01, 0x02];
    pub const BINARY_SET: [u8; 2] = [0x01, 0xFF];
    pub const MAP: [u8; 2] = [0x02, 0x00];
    pub const LIST: [u8; 2] = [0x03, 0x00];
}

/// Type id of an encrypted terminal (and of a `B` value).
pub const BYTES_TYPE_ID: [u8; 2] = type_id::BINARY;

/// DynamoDB allows 32 levels of nesting, counting the top-level value as the
/// first (the reference's `MAX_STRUCTURE_DEPTH`); deeper input is refused
/// rather than recursed into. Internally depth counts from 0 at the top level,
/// so a value at depth `d` is allowed when `d < MAX_DEPTH`.
pub const MAX_DEPTH: usize = 32;

/// Longest map key, in UTF-16 code units (DynamoDB's `AttributeName`).
pub const MAX_KEY_UTF16_LEN: usize = 65535;

/// A serialized top-level attribute.
#[derive(Clone, PartialEq, Eq)]
pub struct Terminal {
    pub type_id: [u8; 2],
    pub value: Vec<u8>,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Terminal(type 0x{:02x}{:02x}, {} bytes)",
            self.type_id[0],
            self.type_id[1],
            self.value.len()
        )
    }
}

/// Serialize an attribute (numbers normalized, sets and maps in canonical order).
pub fn serialize(value: &AttributeValue) -> Result<Terminal> {
    let mut out = Vec::new();
    let type_id = write_value(value, &mut out, 0)?;
    Ok(Terminal {
        type_id,
        value: out,
    })
}

/// Parse a terminal back into an attribute; malformed bytes are `MalformedCiphertext`.
pub fn deserialize(type_id: [u8; 2], value: &[u8]) -> Result<AttributeValue> {
    read_value(type_id, value, 0)
}

/// The value exactly as a serialize/deserialize round trip gives it back:
/// numbers normalized, sets sorted.
pub fn canonicalize(value: &AttributeValue) -> Result<AttributeValue> {
    let t = serialize(value)?;
    deserialize(t.type_id, &t.value)
}

/// Ascending UTF-16 code unit order. Spec: string-ordering.md#utf-16-binary-order
pub fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn invalid(what: String) -> Error {
    Error::InvalidItem(what)
}

/// Whether a map key of `utf16_units` UTF-16 code units is too long to store.
pub fn key_len_too_long(utf16_units: usize) -> bool {
    utf16_units > MAX_KEY_UTF16_LEN
}

pub fn key_too_long(key: &str) -> bool {
    // UTF-8 is never shorter than UTF-16 in code units, so short keys skip the count.
    key.len() > MAX_KEY_UTF16_LEN && key_len_too_long(key.encode_utf16().count())
}

fn write_len(out: &mut Vec<u8>, len: usize) -> Result<()> {
    let len = u32::try_from(len).map_err(|_| {
        Error::LimitExceeded("a value longer than 4 GiB cannot be serialized".into())
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Write a nested entry: type id, u32 length, value.
fn write_entry(value: &AttributeValue, out: &mut Vec<u8>, depth: usize) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; 6]);
    let type_id = write_value(value, out, depth)?;
    let len = u32::try_from(out.len() - start - 6)
        .map_err(|_| Error::LimitExceeded("a nested value longer than 4 GiB".into()))?;
    out[start..start + 2].copy_from_slice(&type_id);
    out[start + 2..start + 6].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn write_set(out: &mut Vec<u8>, members: Vec<&[u8]>, kind: &str) -> Result<()> {
    // Callers pass members already in canonical order; duplicates are adjacent.
    if members.windows(2).any(|w| w[0] == w[1]) {
        return Err(invalid(format!("{kind} contains duplicate members")));
    }
    write_len(out, members.len())?;
    for m in members {
        write_len(out, m.len())?;
        out.extend_from_slice(m);
    }
    Ok(())
}

fn write_value(value: &AttributeValue, out: &mut Vec<u8>, depth: usize) -> Result<[u8; 2]> {
    if depth >= MAX_DEPTH {
        return Err(invalid(format!("nested deeper than {MAX_DEPTH} levels")));
    }
    Ok(match value {
        AttributeValue::Null => type_id::NULL,
        AttributeValue::S(s) => {
            out.extend_from_slice(s.as_bytes());
            type_id::STRING
        }
        AttributeValue::N(n) => {
            out.extend_from_slice(normalize_number(n)?.as_bytes());
            type_id::NUMBER
        }
        AttributeValue::B(b) => {
            out.extend_from_slice(b);
            type_id::BINARY
        }
        AttributeValue::Bool(b) => {
            out.push(u8::from(*b));
            type_id::BOOLEAN
        }
        AttributeValue::Ss(members) => {
            let order = sorted_order(members.len(), &|a, b| utf16_cmp(&members[a], &members[b]));
            write_set(
                out,
                order.iter().map(|&i| members[i].as_bytes()).collect(),
                "string set",
            )?;
            type_id::STRING_SET
        }
        AttributeValue::Ns(members) => {
            let normalized = members
                .iter()
                .map(|n| normalize_number(n))
                .collect::<Result<Vec<_>>>()?;
            // Normalized numbers are ASCII, where UTF-16 order is byte order.
            let order = sorted_order(normalized.len(), &|a, b| normalized[a].cmp(&normalized[b]));
            write_set(
                out,
                order.iter().map(|&i| normalized[i].as_bytes()).collect(),
                "number set",
            )?;
            type_id::NUMBER_SET
        }
        AttributeValue::Bs(members) => {
            let order = sorted_order(members.len(), &|a, b| members[a].cmp(&members[b]));
            write_set(
                out,
                order.iter().map(|&i| members[i].as_slice()).collect(),
                "binary set",
            )?;
            type_id::BINARY_SET
        }
        AttributeValue::M(map) => {
            let entries: Vec<(&String, &AttributeValue)> = map.iter().collect();
            let entries = sorted_by(entries, |a, b| utf16_cmp(a.0, b.0));
            write_len(out, entries.len())?;
            for (k, v) in entries {
                if key_too_long(k) {
                    return Err(invalid(format!(
                        "a map key is longer than {MAX_KEY_UTF16_LEN} UTF-16 code units"
                    )));
                }
                out.extend_from_slice(&type_id::STRING);
                write_len(out, k.len())?;
                out.extend_from_slice(k.as_bytes());
                write_entry(v, out, depth + 1)?;
            }
            type_id::MAP
        }
        AttributeValue::L(list) => {
            write_len(out, list.len())?;
            for v in list {
                write_entry(v, out, depth + 1)?;
            }
            type_id::LIST
        }
    })
}

/// A bounds-checked cursor over untrusted serialized values.
struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.data.len() {
            return Err(Error::malformed(format!(
                "serialized value truncated: needs {n} bytes, {} left",
                self.data.len()
            )));
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<usize> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn type_id(&mut self) -> Result<[u8; 2]> {
        let b = self.take(2)?;
        Ok([b[0], b[1]])
    }

    /// A count of items each at least `min_item` bytes long; a count the
    /// remaining bytes cannot hold is refused before anything is allocated.
    fn count(&mut self, min_item: usize) -> Result<usize> {
        let n = self.u32()?;
        if n.saturating_mul(min_item) > self.data.len() {
            return Err(Error::malformed(format!(
                "serialized value claims {n} entries but only {} bytes follow",
                self.data.len()
            )));
        }
        Ok(n)
    }

    fn finish(&self) -> Result<()> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(Error::malformed(format!(
                "{} unexpected bytes after a serialized value",
                self.data.len()
            )))
        }
    }
}

fn utf8(bytes: &[u8], what: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Error::malformed(format!("{what} is not valid UTF-8")))
}

/// Members of a serialized set, in stored order; duplicates are refused.
fn read_set<'a>(value: &'a [u8], kind: &str) -> Result<Vec<&'a [u8]>> {
    let mut c = Cursor { data: value };
    // `count` has checked that n members of at least 4 bytes fit in `value`.
    let n = c.count(4)?;
    let mut members = Vec::with_capacity(n);
    let mut seen = BTreeSet::new();
    for _ in 0..n {
        let len = c.u32()?;
        let member = c.take(len)?;
        if !seen.insert(member) {
            return Err(Error::malformed(format!("{kind} has duplicate members")));
        }
        members.push(member);
    }
    c.finish()?;
    Ok(members)
}

fn read_value(type_id: [u8; 2], value: &[u8], depth: usize) -> Result<AttributeValue> {
    if depth >= MAX_DEPTH {
        return Err(Error::malformed(format!(
            "serialized value nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(match type_id {
        type_id::NULL if value.is_empty() => AttributeValue::Null,
        type_id::NULL => return Err(Error::malformed("NULL value with content")),
        type_id::STRING => AttributeValue::S(utf8(value, "string")?),
        type_id::NUMBER => AttributeValue::N(utf8(value, "number")?),
        type_id::BINARY => AttributeValue::B(value.to_vec()),
        type_id::BOOLEAN => match value {
            [0] => AttributeValue::Bool(false),
            [1] => AttributeValue::Bool(true),
            _ => return Err(Error::malformed("boolean must be one byte, 0 or 1")),
        },
        type_id::STRING_SET => AttributeValue::Ss(
            read_set(value, "string set")?
                .into_iter()
                .map(|m| utf8(m, "string set member"))
                .collect::<Result<_>>()?,
        ),
        type_id::NUMBER_SET => AttributeValue::Ns(
            read_set(value, "number set")?
                .into_iter()
                .map(|m| utf8(m, "number set member"))
                .collect::<Result<_>>()?,
        ),
        type_id::BINARY_SET => AttributeValue::Bs(
            read_set(value, "binary set")?
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect(),
        ),
        type_id::MAP => {
            let mut c = Cursor { data: value };
            let n = c.count(12)?;
            let mut map = BTreeMap::new();
            for _ in 0..n {
                if c.type_id()? != type_id::STRING {
                    return Err(Error::malformed("map key is not a string"));
                }
                let klen = c.u32()?;
                let key = utf8(c.take(klen)?, "map key")?;
                if key_too_long(&key) {
                    return Err(Error::malformed(format!(
                        "map key longer than {MAX_KEY_UTF16_LEN} UTF-16 code units"
                    )));
                }
                let vt = c.type_id()?;
                let vlen = c.u32()?;
                let v = read_value(vt, c.take(vlen)?, depth + 1)?;
                if map.insert(key, v).is_some() {
                    return Err(Error::malformed("map has a duplicate key"));
                }
            }
            c.finish()?;
            AttributeValue::M(map)
        }
        type_id::LIST => {
            let mut c = Cursor { data: value };
            let n = c.count(6)?;
            let mut list = Vec::with_capacity(n);
            for _ in 0..n {
                let vt = c.type_id()?;
                let vlen = c.u32()?;
                list.push(read_value(vt, c.take(vlen)?, depth + 1)?);
            }
            c.finish()?;
            AttributeValue::L(list)
        }
        [a, b] => {
            return Err(Error::malformed(format!(
                "unknown attribute type id 0x{a:02x}{b:02x}"
            )))
        }
    })
}
