//! The reference item the benchmarks seal: 12 attributes, about 1 KB.
//!
//! It lives in one place, `tests/fixtures/reference-item.json` (typed DynamoDB
//! JSON, its table configuration and the raw AES-256 key), read here at compile
//! time and by the JS benchmark (`tests/js/bench/run.mjs`), so every
//! implementation seals the same item:
//!
//! - `pk` (S) and `sk` (N): SIGN_ONLY keys;
//! - 8 ENCRYPT_AND_SIGN: a nested map, a list, a string set, and S/N/B values;
//! - `audit` (S): SIGN_ONLY; `cache_hint` (S): DO_NOTHING (allowed unsigned).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use fieldseal::{AlgorithmSuiteId, AttributeValue as V, CryptoAction, Item};
use serde_json::Value;

use crate::manifest::{item_from_json, table_spec};
use crate::spec::{KeySpec, TableSpec};

/// The fixture's text, embedded at build time (cargo rebuilds when it changes).
pub const REFERENCE_JSON: &str = include_str!("../../fixtures/reference-item.json");

/// The parsed fixture.
pub struct Reference {
    pub item: Item,
    /// The table configuration; its `suite` is the fixture's default (0x6701),
    /// see [`reference_table`].
    pub table: TableSpec,
    pub keys: KeySpec,
    /// The suites to measure, as listed in the fixture.
    pub suites: Vec<AlgorithmSuiteId>,
}

fn parse(text: &str) -> Result<Reference, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let field = |k: &str| v.get(k).ok_or_else(|| format!("no {k:?}"));
    let item = item_from_json(field("item")?).map_err(|e| format!("item: {e}"))?;
    let (table, key) = table_spec(field("config")?).map_err(|e| format!("config: {e}"))?;
    if key.is_some() {
        return Err("config: the keyring is described by \"keyring\", not config.key".into());
    }
    let k = field("keyring")?;
    let s = |name: &str| -> Result<String, String> {
        k.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("keyring.{name} must be a string"))
    };
    if s("type")? != "raw-aes" {
        return Err("keyring.type must be \"raw-aes\"".into());
    }
    let keys = KeySpec::Aes {
        namespace: s("keyNamespace")?,
        name: s("keyName")?,
        key: B64
            .decode(s("wrappingKey")?)
            .map_err(|e| format!("keyring.wrappingKey: bad base64: {e}"))?,
    };
    let suites = field("suites")?
        .as_array()
        .ok_or("suites must be an array")?
        .iter()
        .map(|s| {
            let s = s.as_str().ok_or("suites must be strings")?;
            AlgorithmSuiteId::parse(s).map_err(|e| format!("suites: {e}"))
        })
        .collect::<Result<_, String>>()?;
    Ok(Reference {
        item,
        table,
        keys,
        suites,
    })
}

/// The reference fixture, parsed once.
pub fn reference() -> &'static Reference {
    static REF: OnceLock<Reference> = OnceLock::new();
    REF.get_or_init(|| {
        parse(REFERENCE_JSON).unwrap_or_else(|e| panic!("tests/fixtures/reference-item.json: {e}"))
    })
}

/// The reference item (about 1 KB of names and values).
pub fn reference_item() -> Item {
    reference().item.clone()
}

/// The reference item's actions.
pub fn reference_actions() -> BTreeMap<String, CryptoAction> {
    reference().table.actions.clone()
}

/// The reference table (`pk`/`sk`, `cache_hint` allowed unsigned) under `suite`.
pub fn reference_table(suite: AlgorithmSuiteId) -> TableSpec {
    TableSpec {
        suite,
        ..reference().table.clone()
    }
}

/// The benchmarks' keyring: raw AES-256.
pub fn reference_keys() -> KeySpec {
    reference().keys.clone()
}

/// The suites the benchmarks measure (0x6700 and 0x6701).
pub fn reference_suites() -> Vec<AlgorithmSuiteId> {
    reference().suites.clone()
}

/// DynamoDB's item size estimate: names plus values (numbers counted as text,
/// a rough upper bound of DynamoDB's packed form).
pub fn item_size(item: &Item) -> usize {
    fn size(v: &V) -> usize {
        match v {
            V::S(s) | V::N(s) => s.len(),
            V::B(b) => b.len(),
            V::Bool(_) | V::Null => 1,
            V::L(l) => 3 + l.iter().map(|v| 1 + size(v)).sum::<usize>(),
            V::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + size(v)).sum::<usize>(),
            V::Ss(x) | V::Ns(x) => x.iter().map(|s| s.len()).sum(),
            V::Bs(x) => x.iter().map(|b| b.len()).sum(),
        }
    }
    item.iter().map(|(k, v)| k.len() + size(v)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::BOTH_SUITES;

    #[test]
    fn reference_item_shape() {
        let item = reference_item();
        assert_eq!(item.len(), 12);
        let size = item_size(&item);
        assert!(
            (900..=1200).contains(&size),
            "reference item is {size} bytes"
        );
        let actions = reference_actions();
        assert_eq!(actions.len(), 12);
        assert!(item.keys().all(|k| actions.contains_key(k)));
        assert_eq!(
            actions
                .values()
                .filter(|a| **a == CryptoAction::EncryptAndSign)
                .count(),
            8
        );
        let table = reference_table(BOTH_SUITES[0]);
        assert_eq!(table.partition_key_name, "pk");
        assert_eq!(table.sort_key_name.as_deref(), Some("sk"));
        assert_eq!(table.allowed_unsigned_attributes, ["cache_hint"]);
        assert_eq!(reference_suites(), BOTH_SUITES);
        match reference_keys() {
            KeySpec::Aes { key, .. } => assert_eq!(key.len(), 32),
            other => panic!("not raw AES: {other:?}"),
        }
        // One of each composite kind the item is meant to cover.
        let has = |f: fn(&V) -> bool| item.values().any(f);
        assert!(has(|v| matches!(v, V::M(_))));
        assert!(has(|v| matches!(v, V::L(_))));
        assert!(has(|v| matches!(v, V::Ss(_))));
    }
}
