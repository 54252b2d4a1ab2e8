//! The encryption context a sealed item is bound to.
//! Spec: dynamodb-encryption-client/encrypt-item.md#dynamodb-item-base-context
//! and structured-encryption/encrypt-structure.md#create-new-encryption-context-and-cmm

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::base::sorted_by;
use crate::encryptor::ItemEncryptorConfig;
use crate::error::{Error, Result};
use crate::format::header::Version;
use crate::item::serialize::Terminal;
use crate::item::AttributeValue;
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
