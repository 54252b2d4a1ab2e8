//! proptest strategies for attribute values and items: every DynamoDB type,
//! non-ASCII text (including characters whose UTF-8 and UTF-16 orders differ),
//! and numbers that need normalization.

use std::collections::BTreeMap;

use fieldseal::{AttributeValue, Item};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _.-]{0,12}",
        "[\\u{0}-\\u{7f}\\u{e9}\\u{3b1}\\u{ff61}\\u{1f600}\\u{10000}]{0,6}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9_]{0,10}",
        "[a\\u{ff61}\\u{1f600}\\u{e9}]{1,4}",
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (any::<i32>(), 0u32..6).prop_map(|(n, z)| format!("{n}.{}", "0".repeat(z as usize))),
        (any::<u32>(), -20i32..20).prop_map(|(m, e)| format!("{m}E{e}")),
        Just("-0".to_string()),
        Just("00.0011".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        text().prop_map(AttributeValue::S),
        number().prop_map(AttributeValue::N),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(AttributeValue::B),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null),
        proptest::collection::btree_set(text(), 1..4)
            .prop_map(|s| AttributeValue::Ss(s.into_iter().collect())),
        proptest::collection::btree_set(any::<i32>(), 1..4)
            .prop_map(|s| AttributeValue::Ns(s.into_iter().map(|n| n.to_string()).collect())),
        proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 0..6), 1..4)
            .prop_map(|s| AttributeValue::Bs(s.into_iter().collect())),
    ]
}

/// Any attribute value, nested at most three levels.
pub fn arb_attribute_value() -> impl Strategy<Value = AttributeValue> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
            proptest::collection::btree_map(name(), inner, 0..4)
                .prop_map(|m: BTreeMap<String, AttributeValue>| AttributeValue::M(m)),
        ]
    })
}

/// An item of up to eight attributes.
pub fn arb_item() -> impl Strategy<Value = Item> {
    proptest::collection::btree_map(name(), arb_attribute_value(), 0..8)
}
