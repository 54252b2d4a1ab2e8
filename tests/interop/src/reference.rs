//! The reference item the benchmarks seal: 12 attributes, about 1 KB.
//!
//! - `pk` (S) and `sk` (N): SIGN_ONLY keys;
//! - 8 ENCRYPT_AND_SIGN: a nested map, a list, a string set, and S/N/B values;
//! - `audit` (S): SIGN_ONLY; `cache_hint` (S): DO_NOTHING (allowed unsigned).

use std::collections::BTreeMap;

use fieldseal::{AlgorithmSuiteId, AttributeValue as V, CryptoAction, Item};

use crate::spec::{aes_spec, KeySpec, TableSpec};

pub const REFERENCE_TABLE: &str = "BenchTable";

fn text(len: usize, seed: u8) -> String {
    const WORDS: &[&str] = &[
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "adipiscing",
        "elit",
        "sed",
        "do",
        "eiusmod",
        "tempor",
        "incididunt",
        "ut",
        "labore",
        "et",
        "dolore",
        "magna",
    ];
    let mut s = String::new();
    let mut i = seed as usize;
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[i % WORDS.len()]);
        i = i * 7 + 3;
    }
    s.truncate(len);
    s
}

/// The reference item (about 1 KB of names and values).
pub fn reference_item() -> Item {
    let mut item = Item::new();
    let mut put = |k: &str, v: V| {
        item.insert(k.to_string(), v);
    };
    put("pk", V::S("customer#00042731".into()));
    put("sk", V::N("1718236800".into()));
    // ENCRYPT_AND_SIGN
    put(
        "profile",
        V::M(BTreeMap::from([
            ("name".to_string(), V::S("Ada Lovelace".into())),
            ("age".to_string(), V::N("36".into())),
            ("verified".to_string(), V::Bool(true)),
            ("city".to_string(), V::S("London".into())),
            ("score".to_string(), V::N("98.25".into())),
        ])),
    );
    put(
        "history",
        V::L(vec![
            V::N("1718236800".into()),
            V::S("login".into()),
            V::N("1718240400".into()),
            V::S("purchase".into()),
            V::N("1718244000".into()),
            V::S("logout".into()),
        ]),
    );
    put(
        "tags",
        V::Ss(
            ["premium", "newsletter", "beta-tester", "eu-west", "mobile"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
    );
    put("note", V::S(text(300, 1)));
    put("address", V::S(text(120, 5)));
    put("balance", V::N("12345.6789".into()));
    put("visits", V::N("4821".into()));
    put(
        "avatar",
        V::B((0..200u32).map(|i| (i * 31 % 251) as u8).collect()),
    );
    // SIGN_ONLY and DO_NOTHING
    put("audit", V::S(text(80, 9)));
    put("cache_hint", V::S("warm:eu-west-1:shard-7".into()));
    item
}

/// The reference item's actions.
pub fn reference_actions() -> BTreeMap<String, CryptoAction> {
    use CryptoAction::*;
    let mut a = BTreeMap::new();
    for k in ["pk", "sk", "audit"] {
        a.insert(k.to_string(), SignOnly);
    }
    for k in [
        "profile", "history", "tags", "note", "address", "balance", "visits", "avatar",
    ] {
        a.insert(k.to_string(), EncryptAndSign);
    }
    a.insert("cache_hint".to_string(), DoNothing);
    a
}

/// The reference table: `pk`/`sk`, `cache_hint` allowed unsigned.
pub fn reference_table(suite: AlgorithmSuiteId) -> TableSpec {
    TableSpec {
        logical_table_name: REFERENCE_TABLE.into(),
        partition_key_name: "pk".into(),
        sort_key_name: Some("sk".into()),
        actions: reference_actions(),
        allowed_unsigned_attributes: vec!["cache_hint".into()],
        allowed_unsigned_attribute_prefix: None,
        suite,
    }
}

/// The benchmarks' keyring: raw AES-256.
pub fn reference_keys() -> KeySpec {
    aes_spec(256)
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
    }
}
