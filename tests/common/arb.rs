//! proptest strategies for attribute values and items: every DynamoDB type,
//! non-ASCII text (including characters whose UTF-8 and UTF-16 orders differ),
//! and numbers that need normalization. Values nest at most three levels
//! (a top-level `L`/`M`, one inner `L`/`M`, then a scalar or set) and hold a
//! few elements each, so they stay cheap to encrypt. Sets are never empty and
//! never hold duplicates (DynamoDB refuses both).

use std::collections::BTreeMap;

use fieldseal::{AttributeValue, Item};
use proptest::prelude::*;

/// Short text, ASCII or not. The non-ASCII picks include U+FF61 and the
/// astral U+1F600 / U+10000, whose UTF-8 and UTF-16 orders differ.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _.-]{0,12}",
        "[\\u{0}-\\u{7f}\\u{e9}\\u{3b1}\\u{ff61}\\u{1f600}\\u{10000}]{0,6}",
    ]
}

/// An attribute or map key name (never empty).
pub fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9_]{0,10}",
        "[a\\u{ff61}\\u{1f600}\\u{e9}]{1,4}",
    ]
}

/// A valid DynamoDB number, often spelled non-canonically.
pub fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (any::<i32>(), 0u32..6).prop_map(|(n, z)| format!("{n}.{}", "0".repeat(z as usize))),
        (any::<u32>(), -20i32..20).prop_map(|(m, e)| format!("{m}E{e}")),
        (any::<i32>(), 0u8..4).prop_map(|(n, style)| spelled(n, style)),
        prop::sample::select(vec![
            "-0",
            "00.0011",
            "0000",
            "2000.000",
            "1.50",
            "+12.3400e-2",
            ".5",
            "5.",
            "1E-130",
            "-9.9999999999999999999999999999999999999E+125",
            "12345678901234567890123456789012345678",
        ])
        .prop_map(str::to_owned),
    ]
}

/// `n` spelled one of four ways that all normalize to `n`.
fn spelled(n: i32, style: u8) -> String {
    match style % 4 {
        0 => n.to_string(),
        1 => format!("{n}.000"),
        2 => format!("{n}0E-1"),
        _ if n < 0 => format!("-00{}", -i64::from(n)),
        _ => format!("+00{n}"),
    }
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
        // Distinct integers, each spelled in its own (often non-canonical) way,
        // so members stay distinct after normalization.
        (
            proptest::collection::btree_set(any::<i32>(), 1..4),
            any::<[u8; 4]>()
        )
            .prop_map(|(s, styles)| AttributeValue::Ns(
                s.into_iter()
                    .zip(styles.iter().cycle())
                    .map(|(n, &style)| spelled(n, style))
                    .collect()
            )),
        proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 0..6), 1..4)
            .prop_map(|s| AttributeValue::Bs(s.into_iter().collect())),
    ]
}

/// Any attribute value, at most three levels deep.
pub fn arb_attribute_value() -> impl Strategy<Value = AttributeValue> {
    leaf().prop_recursive(2, 16, 4, |inner| {
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
