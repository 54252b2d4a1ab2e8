//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod arb;
pub mod search;

use std::collections::BTreeMap;
use std::sync::Arc;

use fieldseal::{CryptoAction, ItemEncryptorConfig, Keyring};

/// Attribute actions from (name, action) pairs.
pub fn actions(pairs: &[(&str, CryptoAction)]) -> BTreeMap<String, CryptoAction> {
    pairs.iter().map(|(k, a)| (k.to_string(), *a)).collect()
}

/// The "Orders" table: partition key `pk`, sort key `sk`, `note` allowed
/// unsigned (`actions` says what each attribute gets).
pub fn orders_config(
    actions: &[(&str, CryptoAction)],
    keyring: Arc<dyn Keyring>,
) -> ItemEncryptorConfig {
    let mut c = ItemEncryptorConfig::new("Orders", "pk", self::actions(actions), keyring);
    c.sort_key_name = Some("sk".into());
    c.allowed_unsigned_attributes = vec!["note".into()];
    c
}
