//! The encryption context a sealed item is bound to.
//! Spec: dynamodb-encryption-client/encrypt-item.md#dynamodb-item-base-context
//! and structured-encryption/encrypt-structure.md#create-new-encryption-context-and-cmm

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::base::sorted_by;
use crate::encryptor::ItemEncryptorConfig;
use crate::error::{Error, Result};
use crate::format::header::Version;
use crate::item::serialize;
use crate::item::serialize::Terminal;
use crate::item::{AttributeValue, Item};
use crate::materials::EncryptionContext;

const TABLE_NAME: &str = "aws-crypto-table-name";
const PARTITION_NAME: &str = "aws-crypto-partition-name";
const SORT_NAME: &str = "aws-crypto-sort-name";
const ATTR_PREFIX: &str = "aws-crypto-attr.";
const LEGEND: &str = "aws-crypto-legend";

/// An attribute that takes part in the context: its value and its terminal form.
pub(crate) struct ContextAttribute<'a> {
    pub name: &'a str,
    pub value: &'a AttributeValue,
    pub terminal: &'a Terminal,
}

/// The item's base context. Version 1 binds the key values themselves;
/// version 2 binds only the key names (the values arrive through
/// [`add_attribute_context`], since v2 key attributes are
/// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT).
pub(crate) fn base_context(
    config: &ItemEncryptorConfig,
    version: Version,
    partition_key: &Terminal,
    sort_key: Option<&Terminal>,
) -> EncryptionContext {
    let mut ec = EncryptionContext::new();
    ec.insert(TABLE_NAME.into(), config.logical_table_name.clone());
    ec.insert(PARTITION_NAME.into(), config.partition_key_name.clone());
    if version == Version::V1 {
        ec.insert(
            format!("{ATTR_PREFIX}{}", config.partition_key_name),
            encode_terminal(partition_key),
        );
    }
    if let Some(sort_key_name) = &config.sort_key_name {
        ec.insert(SORT_NAME.into(), sort_key_name.clone());
        if let (Version::V1, Some(sk)) = (version, sort_key) {
            ec.insert(format!("{ATTR_PREFIX}{sort_key_name}"), encode_terminal(sk));
        }
    }
    ec
}

/// Add one entry per SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute plus the
/// `aws-crypto-legend` entry that records each one's original type.
/// Spec: encrypt-item.md#base-context-value-version-2
pub(crate) fn add_attribute_context(
    ec: &mut EncryptionContext,
    attributes: &[ContextAttribute<'_>],
) -> Result<()> {
    if attributes.is_empty() {
        return Ok(());
    }
    let entries: Vec<(String, String, char)> = attributes
        .iter()
        .map(|a| {
            let (value, legend) = context_value(a)?;
            Ok((format!("{ATTR_PREFIX}{}", a.name), value, legend))
        })
        .collect::<Result<_>>()?;
    // The legend follows the entries' keys in UTF-8 byte order.
    let entries = sorted_by(entries, |a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let legend: String = entries.iter().map(|e| e.2).collect();
    for (key, value, _) in entries {
        if ec.insert(key, value).is_some() {
            return Err(Error::InvalidConfig(
                "an attribute's context entry collides with the item's base context".into(),
            ));
        }
    }
    ec.insert(LEGEND.into(), legend);
    Ok(())
}

fn context_value(a: &ContextAttribute<'_>) -> Result<(String, char)> {
    Ok(match a.value {
        AttributeValue::S(s) => (s.clone(), 'S'),
        AttributeValue::N(_) => (
            String::from_utf8(a.terminal.value.clone())
                .map_err(|_| Error::InvalidItem(format!("number in {:?} is not UTF-8", a.name)))?,
            'N',
        ),
        AttributeValue::Null => ("null".into(), 'L'),
        AttributeValue::Bool(b) => ((if *b { "true" } else { "false" }).into(), 'L'),
        _ => (encode_terminal(a.terminal), 'B'),
    })
}

/// base64(type id || serialized value). Spec: encrypt-item.md#base-context-value-version-1
fn encode_terminal(t: &Terminal) -> String {
    let mut bytes = Vec::with_capacity(2 + t.value.len());
    bytes.extend_from_slice(&t.type_id);
    bytes.extend_from_slice(&t.value);
    B64.encode(bytes)
}

/// The item key a DynamoDB branch key id supplier is given (its `ddbKey`),
/// rebuilt from an item's encryption context, so that it is the same on
/// encrypt and on decrypt. Version 1 contexts hold the key values; version 2
/// contexts hold every SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute (the
/// keys among them) plus `aws_dbe_table_name`, `aws_dbe_partition_name` and
/// `aws_dbe_sort_name`.
/// Reference: aws-db-esdk 1.3.0 `ConvertContextForSelector` (the spec's
/// ddb-encryption-branch-key-id-supplier.md is silent on version 2).
pub fn ddb_key_from_context(ec: &EncryptionContext) -> Result<Item> {
    let pk_name = ec
        .get(PARTITION_NAME)
        .ok_or_else(|| invalid_context("missing partition name"))?;
    if !ec.contains_key(&format!("{ATTR_PREFIX}{pk_name}")) {
        return Err(invalid_context("missing partition value"));
    }
    let sk_name = ec.get(SORT_NAME);
    if let Some(sk) = sk_name {
        if !ec.contains_key(&format!("{ATTR_PREFIX}{sk}")) {
            return Err(invalid_context("missing sort value"));
        }
    }
    let Some(legend) = ec.get(LEGEND) else {
        // Version 1: the key values, as terminals.
        let mut key = Item::new();
        for name in std::iter::once(pk_name).chain(sk_name) {
            let value = decode_terminal(&ec[&format!("{ATTR_PREFIX}{name}")])?;
            key.insert(name.clone(), value);
        }
        return Ok(key);
    };
    let mut key = context_attributes(ec, legend)?;
    let table = ec
        .get(TABLE_NAME)
        .ok_or_else(|| invalid_context("missing table name"))?;
    key.insert(
        "aws_dbe_table_name".into(),
        AttributeValue::S(table.clone()),
    );
    key.insert(
        "aws_dbe_partition_name".into(),
        AttributeValue::S(pk_name.clone()),
    );
    if let Some(sk) = sk_name {
        key.insert("aws_dbe_sort_name".into(), AttributeValue::S(sk.clone()));
    }
    Ok(key)
}

fn invalid_context(what: &str) -> Error {
    Error::malformed(format!("invalid encryption context: {what}"))
}

/// A version 2 context's attributes, typed by their legend entries (the
/// inverse of [`context_value`]).
fn context_attributes(ec: &EncryptionContext, legend: &str) -> Result<Item> {
    let attributes: Vec<(&String, &String)> = ec
        .iter()
        .filter(|(k, _)| k.starts_with(ATTR_PREFIX))
        .collect();
    let entries = legend.chars().count();
    if entries != attributes.len() {
        return Err(invalid_context(if entries < attributes.len() {
            "the legend is too short"
        } else {
            "the legend is too long"
        }));
    }
    let mut key = Item::new();
    // The context map is in UTF-8 byte order, the legend's order.
    for ((name, value), kind) in attributes.into_iter().zip(legend.chars()) {
        let value = match (kind, value.as_str()) {
            ('S', _) => AttributeValue::S(value.clone()),
            ('N', _) => AttributeValue::N(value.clone()),
            ('L', "true") => AttributeValue::Bool(true),
            ('L', "false") => AttributeValue::Bool(false),
            ('L', "null") => AttributeValue::Null,
            ('B', _) => decode_terminal(value)?,
            (other, _) => {
                return Err(invalid_context(&format!(
                    "unexpected legend entry {other:?} for {value:?}"
                )))
            }
        };
        key.insert(name[ATTR_PREFIX.len()..].to_owned(), value);
    }
    Ok(key)
}

/// The inverse of [`encode_terminal`].
fn decode_terminal(encoded: &str) -> Result<AttributeValue> {
    let bytes = B64
        .decode(encoded)
        .map_err(|_| Error::malformed("an encryption context attribute is not base64"))?;
    if bytes.len() < 2 {
        return Err(Error::malformed(
            "an encryption context attribute is shorter than its type id",
        ));
    }
    serialize::deserialize([bytes[0], bytes[1]], &bytes[2..])
}
