//! Queries with beacons: the condition-expression tokenizer, evaluating the
//! original expression on opened items, rewriting a Query or Scan to beacon
//! names and values, the queries the reference refuses, partitions and
//! multi-tenant key ids. Cases ported from the reference's
//! DynamoDbEncryption/dafny/DynamoDbEncryption/test/FilterExpr.dfy (with its
//! BeaconTestFixtures.dfy configuration) say so; beacon values are checked
//! against the spec's formulas computed here with the `hmac`, `hkdf` and
//! `sha2` crates. The key store runs over an in-memory table whose `enc` is
//! the key itself and a KMS that hands it back, so beacon keys are known.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::search::{
    beacon_key_of, compound, constructor, enc_part, run, signed_part, single_key_source,
    spec_hmac_key, std_beacon, world, World,
};
use fieldseal::beacon::eval::{parse_condition, Context};
use fieldseal::beacon::filter::{parse_expr, tokens_to_string};
use fieldseal::beacon::{
    BeaconKeySourceConfig, BeaconStyle, BeaconVersionConfig, CompoundBeaconConfig, SearchConfig,
    SignedPartConfig, StandardBeaconConfig, VirtualFieldConfig, VirtualPartConfig,
    VirtualTransform,
};
use fieldseal::cache::MaterialsCache;
use fieldseal::ddb::{sealed_under_key_id, EncryptedTables, Operation, QueryParts, RequestPart};
use fieldseal::keyring::hierarchy::stored::BranchKeyIdSource;
use fieldseal::keyring::hierarchy::{AwsKmsHierarchicalKeyring, HierarchicalKeyringConfig};
use fieldseal::keyring::{MultiKeyring, RawAesKeyring};
use fieldseal::{
    AttributeValue as V, CryptoAction as A, Error, Item, ItemEncryptor, ItemEncryptorConfig,
};
use hmac::{Hmac, Mac};
use sha2::Sha384;

const TABLE: &str = "Gazelle";

// ---------------------------------------------------------------------------
// The spec's formulas, written out independently of fieldseal.

/// Spec: beacons.md#basichash, with the partition byte of
/// beacons.md#beacon-partition-encoding (none for partition 0).
fn spec_hash(key_id: &str, beacon: &str, length: u32, data: &[u8], partition: u8) -> String {
    let key = spec_hmac_key(&beacon_key_of(key_id), beacon);
    let mut mac = Hmac::<Sha384>::new_from_slice(&key).expect("any key length");
    mac.update(data);
    if partition != 0 {
        mac.update(&[partition]);
    }
    let digest = mac.finalize().into_bytes();
    let first8 = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let kept = first8 & ((1u64 << length) - 1);
    format!("{kept:0width$x}", width = length.div_ceil(4) as usize)
}

/// A standard beacon of a string (its serialization is its UTF-8) with the default key.
fn h(beacon: &str, length: u32, value: &str) -> String {
    spec_hash("beacon-key", beacon, length, value.as_bytes(), 0)
}

// ---------------------------------------------------------------------------
// The reference's fixtures (BeaconTestFixtures.dfy): FullTableConfig and
// GetLotsaBeacons, with a partition key and a DO_NOTHING attribute added.

fn table_config() -> ItemEncryptorConfig {
    let actions: BTreeMap<String, A> = [
        ("RecNum", A::SignOnly),
        ("std2", A::EncryptAndSign),
        ("std4", A::EncryptAndSign),
        ("std6", A::EncryptAndSign),
        ("Name", A::EncryptAndSign),
        ("Title", A::EncryptAndSign),
        ("TooBad", A::EncryptAndSign),
        ("Year", A::SignOnly),
        ("Date", A::SignOnly),
        ("TheKeyField", A::SignOnly),
        ("Plain", A::DoNothing),
    ]
    .into_iter()
    .map(|(k, a)| (k.to_string(), a))
    .collect();
    let mut c = ItemEncryptorConfig::new(
        "GazelleLogical",
        "RecNum",
        actions,
        Arc::new(RawAesKeyring::new("ns", "k", &[7; 32]).unwrap()),
    );
    c.allowed_unsigned_attributes = vec!["Plain".into()];
    c
}

/// GetLotsaBeacons: std2, std4, std6 (on std6[0]), NameTitleField (a
/// virtual field: Name + "__" + lower(Title)), Name, Title, TooBadPart
/// (PartOnly, in TooBadCmp); compound NameTitle, YearName, Mixed (with
/// constructors), JustSigned (signed parts only).
fn lotsa_beacons(w: &World) -> BeaconVersionConfig {
    let mut too_bad = std_beacon("TooBadPart", 32);
    too_bad.loc = Some("TooBad".into());
    too_bad.style = Some(BeaconStyle::PartOnly);
    let at = |mut b: StandardBeaconConfig, loc: &str| {
        b.loc = Some(loc.into());
        b
    };
    let month = SignedPartConfig {
        loc: Some("Date.Month".into()),
        ..signed_part("Month", "M_")
    };
    BeaconVersionConfig {
        version: 1,
        key_store: w.store.clone(),
        key_source: single_key_source(),
        standard_beacons: vec![
            std_beacon("std2", 24),
            at(std_beacon("std4", 24), "std4"),
            at(std_beacon("std6", 26), "std6[0]"),
            std_beacon("NameTitleField", 28),
            std_beacon("Name", 32),
            std_beacon("Title", 32),
            too_bad,
        ],
        compound_beacons: vec![
            compound(
                "NameTitle",
                vec![enc_part("Name", "N_"), enc_part("Title", "T_")],
                vec![],
            ),
            compound(
                "YearName",
                vec![enc_part("Name", "N_")],
                vec![signed_part("Year", "Y_")],
            ),
            CompoundBeaconConfig {
                constructors: vec![
                    constructor(&[("Name", true), ("Year", true)]),
                    constructor(&[("Title", true), ("Month", false)]),
                ],
                ..compound(
                    "Mixed",
                    vec![enc_part("Name", "N_"), enc_part("Title", "T_")],
                    vec![signed_part("Year", "Y_"), month.clone()],
                )
            },
            compound("JustSigned", vec![], vec![signed_part("Year", "Y_"), month]),
            compound("TooBadCmp", vec![enc_part("TooBadPart", "B_")], vec![]),
        ],
        virtual_fields: vec![VirtualFieldConfig {
            name: "NameTitleField".into(),
            parts: vec![
                VirtualPartConfig {
                    loc: "Name".into(),
                    trans: vec![VirtualTransform::Insert {
                        literal: "__".into(),
                    }],
                },
                VirtualPartConfig {
                    loc: "Title".into(),
                    trans: vec![VirtualTransform::Lower],
                },
            ],
        }],
        signed_parts: vec![],
        encrypted_parts: vec![],
        maximum_number_of_partitions: None,
        default_number_of_partitions: None,
        partition_selector: None,
    }
}

fn tables_with(config: ItemEncryptorConfig) -> EncryptedTables {
    let mut t = EncryptedTables::new();
    t.add(TABLE, Arc::new(ItemEncryptor::new(config).unwrap()))
        .unwrap();
    t
}

fn lotsa(w: &World) -> EncryptedTables {
    tables_with(
        table_config()
            .with_search(SearchConfig {
                versions: vec![lotsa_beacons(w)],
                write_version: 1,
            })
            .unwrap(),
    )
}

/// The reference's SimpleItem.
fn simple_item() -> Item {
    Item::from([
        ("RecNum".into(), V::N("1".into())),
        ("std2".into(), V::N("1.23".into())),
        ("std4".into(), V::S("abc".into())),
        ("std6".into(), V::L(vec![V::S("666".into())])),
        (
            "Date".into(),
            V::M(BTreeMap::from([
                ("Month".into(), V::S("May".into())),
                ("Year".into(), V::N("1984".into())),
            ])),
        ),
        ("Year".into(), V::N("1984".into())),
        ("Name".into(), V::S("MyName".into())),
        ("Title".into(), V::S("MyTitle".into())),
    ])
}

fn s(v: &str) -> V {
    V::S(v.into())
}

fn n(v: &str) -> V {
    V::N(v.into())
}

fn values(pairs: &[(&str, V)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn names(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn query(
    key: Option<&str>,
    filter: Option<&str>,
    ns: &[(&str, &str)],
    vs: &[(&str, V)],
) -> QueryParts {
    QueryParts {
        table: TABLE.into(),
        key_condition_expression: key.map(str::to_owned),
        filter_expression: filter.map(str::to_owned),
        projection_expression: None,
        expression_attribute_names: names(ns),
        expression_attribute_values: values(vs),
    }
}

fn refusal(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::RequestRefused(m)) => m,
        other => panic!("expected REQUEST_REFUSED, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Tokens.

#[test]
fn tokens_are_read_whole_and_written_back() {
    let cases: &[(&str, &str)] = &[
        // FilterExpr.dfy LowLevelTests
        ("and", "AND"),
        ("  AnD   ", "AND"),
        (" A  AnD  B ", "A AND B"),
        (" A_B  AnD  B_C ", "A_B AND B_C"),
        // operators with or without spaces
        ("a<>:b AND c<=:d AND e>=:f AND g<:h AND i>:j", "a <> :b AND c <= :d AND e >= :f AND g < :h AND i > :j"),
        // keywords in any case, whole words only
        ("inventory = :a oR order = :b AND notes = :c", "inventory = :a OR order = :b AND notes = :c"),
        ("x BeTwEeN :a aNd :b", "x BETWEEN :a AND :b"),
        ("x in(:a,:b)", "x IN ( :a , :b )"),
        ("NOT attribute_exists(#n)", "NOT attribute_exists ( #n )"),
        // function names are case-sensitive and called with '('
        ("SIZE(a) > :v", "SIZE ( a ) > :v"),
        ("size = :v", "size = :v"),
        ("size (a) = :v", "size ( a ) = :v"),
        ("begins_with(a, :p) AND contains(b,:q) AND attribute_type(c, :t) AND attribute_not_exists(d)",
         "begins_with ( a , :p ) AND contains ( b , :q ) AND attribute_type ( c , :t ) AND attribute_not_exists ( d )"),
        // a path is one token, written without its spaces
        ("a . b [ 1 ] = :v", "a.b[1] = :v"),
        ("#n.#m[0].x = :v", "#n.#m[0].x = :v"),
        // all whitespace separates (the reference stops at a tab)
        ("a = :v\tAND\nb = :w\r\nOR c = :x", "a = :v AND b = :w OR c = :x"),
        ("café = :v", "café = :v"),
        ("", ""),
    ];
    for (expr, written) in cases {
        let tokens = parse_expr(expr, "FilterExpression").unwrap();
        assert_eq!(tokens_to_string(&tokens), *written, "{expr:?}");
    }
}

#[test]
fn malformed_expressions_are_refused_naming_the_token() {
    let cases: &[(&str, &str)] = &[
        ("a != :v", "FilterExpression: unexpected character '!='"),
        ("a = :v;", "FilterExpression: unexpected character ';'"),
        (
            "a = \"x\"",
            "FilterExpression: unexpected character '\"x\"'",
        ),
        ("a + :v = :w", "FilterExpression: unexpected character '+'"),
        ("# = :v", "FilterExpression: expected a name at '#'"),
        ("a = :", "FilterExpression: expected a name at ':'"),
        (
            "a[x] = :v",
            "FilterExpression: malformed list index in 'a[x]'",
        ),
        (".a = :v", "FilterExpression: unexpected token '.a'"),
    ];
    for (expr, message) in cases {
        assert_eq!(
            refusal(parse_expr(expr, "FilterExpression")),
            *message,
            "{expr:?}"
        );
    }
    let long = format!("a = :v{}", " ".repeat(4096));
    assert_eq!(
        refusal(parse_expr(&long, "KeyConditionExpression")),
        "KeyConditionExpression exceeds maximum length of 4096 characters"
    );
    assert!(parse_expr(&" ".repeat(4096), "KeyConditionExpression").is_ok());
}

// ---------------------------------------------------------------------------
// Evaluating an expression on a plaintext item (no beacons involved).

fn holds(expr: &str, item: &Item, ns: &BTreeMap<String, String>, vs: &Item) -> Result<bool, Error> {
    let tokens = parse_expr(expr, "FilterExpression")?;
    let cond = parse_condition(&tokens, "FilterExpression")?;
    Context {
        item,
        names: ns,
        values: vs,
        what: "FilterExpression",
    }
    .eval(&cond)
}

fn check_table(item: &Item, ns: &BTreeMap<String, String>, vs: &Item, cases: &[(&str, bool)]) {
    for (expr, want) in cases {
        assert_eq!(holds(expr, item, ns, vs).unwrap(), *want, "{expr:?}");
    }
}

/// FilterExpr.dfy TestFilterCompare, TestFilterIn, TestFilterBetweenAlpha,
/// TestFilterIndirectNames.
#[test]
fn reference_string_comparisons() {
    let item = Item::from([
        ("one".into(), s("abc")),
        ("two".into(), s("cde")),
        ("three".into(), s("cde")),
        ("four".into(), s("bcd")),
    ]);
    let ns = names(&[("#eine", "one"), ("#zwei", "two"), ("#drei", "three")]);
    let vs = values(&[(":uno", s("ab")), (":dos", s("bc"))]);
    check_table(
        &item,
        &ns,
        &vs,
        &[
            ("one < two", true),
            ("one > two", false),
            ("one <= two", true),
            ("one >= two", false),
            ("one <> two", true),
            ("one = two", false),
            ("three < two", false),
            ("three > two", false),
            ("three <= two", true),
            ("three >= two", true),
            ("three <> two", false),
            ("three = two", true),
            ("one in (two, three)", false),
            ("two in (one, three)", true),
            ("three in (two, one)", true),
            ("three in (one, one, one, one, two, one, one)", true),
            ("three in (one, one, one, one, one, one, one)", false),
            ("one between four and three", false),
            ("four between one and three", true),
            ("four between three and one", false),
            ("four between four and three", true),
            ("four between one and four", true),
            ("#eine < #zwei", true),
            ("#eine > #zwei", false),
            ("#eine < :dos", true),
            ("#eine > :dos", false),
        ],
    );
}

/// FilterExpr.dfy TestFilterBetweenNumber, TestFilterSize, TestFilterSizeIn,
/// TestFilterComplex, TestFilterCompareNumeric.
#[test]
fn reference_number_comparisons_and_size() {
    let item = Item::from([
        ("one".into(), n("9")),
        ("two".into(), n("52")),
        ("three".into(), n("185")),
        ("eight".into(), n("800")),
    ]);
    let vs = values(&[
        (":uno", n("1")),
        (":dos", n("2")),
        (":tres", n("3")),
        (":four", n("4")),
        (":five", n("5")),
        (":two", n("0800.000e0")),
    ]);
    check_table(
        &item,
        &BTreeMap::new(),
        &vs,
        &[
            // numbers by value, not as text ("9" > "185" as text)
            ("one between two and three", false),
            ("two between one and three", true),
            ("two between three and one", false),
            ("two between two and three", true),
            ("two between one and two", true),
            ("size(one) = :uno", true),
            ("size(two) between :uno and :tres", true),
            ("size(three) > :dos", true),
            ("size(two) in (:uno, :dos)", true),
            ("size(two) in (:uno, :tres)", false),
            ("size(one) in (:uno, :dos, :tres)", true),
            (":uno in (size(one), :dos, :tres)", true),
            (":uno in (:dos, :tres, size(one))", true),
            (":uno in (:dos, :tres)", false),
            ("one < :four and two < :five", false),
            ("one < :four or two > :five", true),
            // 800 against 0800.000e0
            ("eight < :two", false),
            ("eight > :two", false),
            ("eight <= :two", true),
            ("eight >= :two", true),
            ("eight <> :two", false),
            ("eight = :two", true),
            (":two < eight", false),
            (":two > eight", false),
            (":two <= eight", true),
            (":two >= eight", true),
            (":two <> eight", false),
            (":two = eight", true),
        ],
    );
}

#[test]
fn numbers_compare_by_value() {
    let ordered = [
        "-1E3", "-999.99", "-2.5", "-1", "-0.5", "-0.05", "0", "-0.0", "0.001", "1e-2", "0.0101",
        "0.1", "1", "1.0", "1.5", "2", "9.99", "10", "1.001E1", "100",
    ];
    let value = |i: usize| n(ordered[i]);
    // "0" and "-0.0" are equal, as are "1" and "1.0".
    let rank = |i: usize| match i {
        7 => 6,
        13 => 11,
        i if i > 13 => i - 2,
        i if i > 7 => i - 1,
        i => i,
    };
    let item = Item::from([("x".to_string(), n("0"))]);
    for i in 0..ordered.len() {
        for j in 0..ordered.len() {
            let vs = values(&[(":a", value(i)), (":b", value(j))]);
            let ns = BTreeMap::new();
            let (a, b) = (rank(i), rank(j));
            for (op, want) in [
                ("<", a < b),
                ("<=", a <= b),
                (">", a > b),
                (">=", a >= b),
                ("=", a == b),
                ("<>", a != b),
            ] {
                let expr = format!(":a {op} :b");
                assert_eq!(
                    holds(&expr, &item, &ns, &vs).unwrap(),
                    want,
                    "{} {op} {}",
                    ordered[i],
                    ordered[j]
                );
            }
        }
    }
    // FilterExpr.dfy TestFilterFailNumeric: a malformed number fails the filter.
    let vs = values(&[(":two", n("foo"))]);
    let item = Item::from([("one".to_string(), n("800"))]);
    let message = refusal(holds("one < :two", &item, &BTreeMap::new(), &vs));
    assert!(
        message.starts_with("FilterExpression: invalid number"),
        "{message}"
    );
}

/// FilterExpr.dfy TestFilterContains, TestFilterBegins (numbers as text
/// there, as the reference's tests use them).
#[test]
fn reference_contains_and_begins_with() {
    let item = Item::from([
        ("one".into(), n("abcdef")),
        ("two".into(), n("a")),
        ("three".into(), n("f")),
        ("four".into(), n("cde")),
        ("five".into(), n("efg")),
        ("six".into(), n("abcd")),
        ("seven".into(), n("abcdf")),
        ("set".into(), V::Ss(vec!["x".into(), "y".into()])),
        ("list".into(), V::L(vec![s("x"), n("1")])),
        ("bin".into(), V::B(vec![1, 2, 3])),
    ]);
    let vs = values(&[
        (":x", s("x")),
        (":z", s("z")),
        (":one", n("1")),
        (":b23", V::B(vec![2, 3])),
        (":b12", V::B(vec![1, 2])),
        (":lx", V::L(vec![s("x")])),
    ]);
    check_table(
        &item,
        &BTreeMap::new(),
        &vs,
        &[
            ("contains(one, two)", true),
            ("contains(one, three)", true),
            ("contains(one, four)", true),
            ("contains(one, five)", false),
            ("begins_with(one, two)", true),
            ("begins_with(one, three)", false),
            ("begins_with(one, six)", true),
            ("begins_with(one, seven)", false),
            ("contains(set, :x)", true),
            ("contains(set, :z)", false),
            ("contains(list, :x)", true),
            ("contains(list, :one)", true),
            ("contains(bin, :b23)", true),
            ("begins_with(bin, :b12)", true),
            ("begins_with(bin, :b23)", false),
            ("begins_with(list, :x)", true),
            ("begins_with(list, :lx)", true),
            // a string is not in a number set, nor a prefix of a number
            ("contains(set, :one)", false),
            ("begins_with(two, :x)", false),
        ],
    );
}

/// FilterExpr.dfy TestFilterAttrOps and TestFilterIndirectNamesWithLoc.
#[test]
fn reference_attribute_functions_and_paths() {
    let item = simple_item();
    let ns = names(&[("#fecha", "Date"), ("#zwei", "Month")]);
    let vs = values(&[
        (":m", s("M")),
        (":n", s("N")),
        (":uno", s("ab")),
        (":six", s("666")),
    ]);
    check_table(
        &item,
        &ns,
        &vs,
        &[
            ("attribute_exists(Date)", true),
            ("attribute_exists(Nope)", false),
            ("attribute_not_exists(Date)", false),
            ("attribute_not_exists(Nope)", true),
            ("attribute_type(Date, :m)", true),
            ("attribute_type(std2, :n)", true),
            ("attribute_type(std2, :m)", false),
            ("not attribute_exists(Date)", false),
            ("not attribute_exists(Nope)", true),
            // "May" < "ab": 'M' sorts before 'a'
            ("Date.Month < :uno", true),
            ("Date.Month > :uno", false),
            ("Date.#zwei < :uno", true),
            ("Date.#zwei > :uno", false),
            ("#fecha.Month < :uno", true),
            ("#fecha.#zwei < :uno", true),
            ("attribute_exists(Date.Month)", true),
            ("attribute_exists(Date.Day)", false),
            ("std6[0] = :six", true),
            ("std6[1] = :six", false),
        ],
    );
}

/// DynamoDB's grammar: AND binds tighter than OR, NOT than AND; parentheses
/// group. The reference's RPN never pushes '(' and reads `NOT (a AND b)` as
/// `(NOT a) AND b`.
#[test]
fn precedence_and_parentheses() {
    let item = Item::from([
        ("a".into(), n("1")),
        ("b".into(), n("2")),
        ("c".into(), n("3")),
    ]);
    let vs = values(&[(":one", n("1")), (":two", n("2")), (":nine", n("9"))]);
    check_table(
        &item,
        &BTreeMap::new(),
        &vs,
        &[
            ("NOT (a = :nine AND b = :nine)", true),
            ("NOT (a = :one AND b = :two)", false),
            ("NOT a = :nine AND b = :nine", false),
            ("(a = :one OR b = :nine) AND c = :nine", false),
            ("a = :one OR b = :nine AND c = :nine", true),
            ("(a = :nine OR b = :two) AND (c = :nine OR a = :one)", true),
            ("NOT NOT NOT a = :nine", true),
            ("((((a = :one))))", true),
            ("a BETWEEN :one AND :two AND c = :nine", false),
            ("a BETWEEN :one AND :two OR c = :nine", true),
            ("a IN (:nine, :two) OR b IN (:two)", true),
        ],
    );
    for bad in [
        "a = ",
        "(a = :one",
        "a = :one)",
        "a :one",
        "AND a = :one",
        "a IN :one",
        "size(a)",
    ] {
        let err = holds(bad, &item, &BTreeMap::new(), &vs).unwrap_err();
        assert_eq!(err.code(), "REQUEST_REFUSED", "{bad:?}");
    }
}

/// As DynamoDB: a missing attribute fails a comparison (`<>` holds), and
/// values of different types have no order. The reference fails the whole
/// query on the first, and holds `a < b` and `a > b` on the second.
#[test]
fn missing_attributes_and_mixed_types() {
    let item = Item::from([
        ("str".into(), s("5")),
        ("num".into(), n("5")),
        ("flag".into(), V::Bool(true)),
    ]);
    let vs = values(&[
        (":s", s("5")),
        (":n", n("5")),
        (":null", s("NULL")),
        (":zero", n("0")),
    ]);
    check_table(
        &item,
        &BTreeMap::new(),
        &vs,
        &[
            ("nope = :s", false),
            ("nope <> :s", true),
            ("NOT nope = :s", true),
            ("nope < :s", false),
            ("nope IN (:s, :n)", false),
            ("nope BETWEEN :s AND :s", false),
            ("begins_with(nope, :s)", false),
            ("contains(nope, :s)", false),
            ("attribute_type(nope, :null)", false),
            ("size(nope) > :zero", false),
            ("size(nope) <> :zero", true),
            ("str = :n", false),
            ("str <> :n", true),
            ("str < :n", false),
            ("str > :n", false),
            ("NOT str < :n", true),
            ("flag < :s", false),
            ("flag >= :s", false),
            ("num IN (:s, :n)", true),
            ("str BETWEEN :n AND :n", false),
            (":missing = :s", false),
        ],
    );
}

/// FilterExpr.dfy UnicodeLessTest: strictly increasing by code point,
/// whatever their UTF-16 code units say (U+FE4C is above every surrogate).
#[test]
fn reference_unicode_order() {
    let (a, b, c, d, e, f) = (
        "A",
        "\u{d000}",
        "\u{fe4c}",
        "\u{10001}",
        "\u{10002}",
        "\u{20002}",
    );
    let strs = [
        format!("{a}{b}{c}{d}"),
        format!("{b}{c}"),
        format!("{c}{d}"),
        format!("{d}{c}"),
        format!("{d}{c}{b}{a}"),
        format!("{e}{d}"),
        format!("{f}{d}"),
    ];
    let item = Item::new();
    for i in 0..strs.len() {
        for j in 0..strs.len() {
            let vs = values(&[(":a", s(&strs[i])), (":b", s(&strs[j]))]);
            assert_eq!(
                holds(":a < :b", &item, &BTreeMap::new(), &vs).unwrap(),
                i < j
            );
            assert_eq!(
                holds(":a <= :b", &item, &BTreeMap::new(), &vs).unwrap(),
                i <= j
            );
        }
    }
}

/// data.json "Strings" (the official runner's StringOrdering): every string
/// as a record, queried with each operator against each string; the filter
/// must return what DynamoDB returns, which orders strings by their UTF-8
/// bytes.
#[test]
fn official_strings_order_as_dynamodb() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/dbesdk-search/data.json"
    );
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the official test data"))
            .unwrap();
    let strings: Vec<String> = data["Strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(strings.len(), 14);
    // The data has pairs whose UTF-16 order differs from DynamoDB's.
    let utf16_disagrees = strings.iter().any(|x| {
        strings
            .iter()
            .any(|y| x.encode_utf16().cmp(y.encode_utf16()) != x.as_bytes().cmp(y.as_bytes()))
    });
    assert!(utf16_disagrees);
    let records: Vec<Item> = strings
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Item::from([
                ("RecNum".to_string(), n(&i.to_string())),
                ("StrValue".to_string(), s(v)),
            ])
        })
        .collect();
    let w = world();
    let tables = lotsa(&w);
    for (i, probe) in strings.iter().enumerate() {
        for (op, keep) in [
            (
                "<",
                &(|o: std::cmp::Ordering| o.is_lt()) as &dyn Fn(std::cmp::Ordering) -> bool,
            ),
            ("<=", &|o: std::cmp::Ordering| o.is_le()),
            (">", &|o: std::cmp::Ordering| o.is_gt()),
            (">=", &|o: std::cmp::Ordering| o.is_ge()),
            ("=", &|o: std::cmp::Ordering| o.is_eq()),
            ("<>", &|o: std::cmp::Ordering| o.is_ne()),
        ] {
            let q = query(
                None,
                Some(&format!("StrValue {op} :val")),
                &[],
                &[(":val", s(probe))],
            );
            let got = tables
                .filter_results(Operation::Scan, &q, records.clone())
                .unwrap();
            let want: Vec<Item> = records
                .iter()
                .filter(|r| match &r["StrValue"] {
                    V::S(v) => keep(v.as_bytes().cmp(probe.as_bytes())),
                    _ => false,
                })
                .cloned()
                .collect();
            assert_eq!(got, want, "string {i} with {op}");
        }
    }
}

// ---------------------------------------------------------------------------
// Rewriting queries to beacons.

/// The compound value of NameTitle for a name and title.
fn name_title(name: &str, title: &str) -> String {
    format!("N_{}.T_{}", h("Name", 32, name), h("Title", 32, title))
}

fn rewrite(t: &EncryptedTables, op: Operation, q: &QueryParts) -> Result<QueryParts, Error> {
    run(t.rewrite_query(op, q))
}

/// FilterExpr.dfy TestBasicParse / TestBasicBeacons / TestComparisons and
/// more: each query as rewritten, with beacon values from the spec formulas.
#[test]
fn queries_are_rewritten_to_beacons() {
    let w = world();
    let t = lotsa(&w);
    type Case = (
        QueryParts,
        Option<&'static str>,
        Option<&'static str>,
        BTreeMap<String, String>,
        Item,
    );
    let cases: Vec<Case> = vec![
        // TestBasicBeacons: a #name is remapped to the beacon, the value hashed
        (
            query(
                None,
                Some("std2 = :A AND #Field4 = :B"),
                &[("#Field4", "std4")],
                &[(":A", n("1.23")), (":B", s("abc"))],
            ),
            None,
            Some("aws_dbe_b_std2 = :A AND #Field4 = :B"),
            names(&[("#Field4", "aws_dbe_b_std4")]),
            values(&[
                (":A", s(&h("std2", 24, "1.23"))),
                (":B", s(&h("std4", 24, "abc"))),
            ]),
        ),
        // the key condition too, values shared with the filter
        (
            query(
                Some("std4 = :B"),
                Some("Year > :Y"),
                &[],
                &[(":B", s("abc")), (":Y", n("1900"))],
            ),
            Some("aws_dbe_b_std4 = :B"),
            Some("Year > :Y"),
            names(&[]),
            values(&[(":B", s(&h("std4", 24, "abc"))), (":Y", n("1900"))]),
        ),
        // a compound beacon: each piece's part value; a virtual field's beacon
        (
            query(
                None,
                Some("NameTitle = :v OR NameTitleField = :w"),
                &[],
                &[
                    (":v", s("N_MyName.T_MyTitle")),
                    (":w", s("MyName__mytitle")),
                ],
            ),
            None,
            Some("aws_dbe_b_NameTitle = :v OR aws_dbe_b_NameTitleField = :w"),
            names(&[]),
            values(&[
                (":v", s(&name_title("MyName", "MyTitle"))),
                (":w", s(&h("NameTitleField", 28, "MyName__mytitle"))),
            ]),
        ),
        // TestComparisons: a bare last prefix stays bare for < and begins_with,
        // and is hashed (as the empty string) for =
        (
            query(None, Some("NameTitle < :p"), &[], &[(":p", s("N_"))]),
            None,
            Some("aws_dbe_b_NameTitle < :p"),
            names(&[]),
            values(&[(":p", s("N_"))]),
        ),
        (
            query(None, Some("NameTitle = :p"), &[], &[(":p", s("N_"))]),
            None,
            Some("aws_dbe_b_NameTitle = :p"),
            names(&[]),
            values(&[(":p", s(&format!("N_{}", h("Name", 32, ""))))]),
        ),
        (
            query(
                None,
                Some("begins_with(NameTitle, :p)"),
                &[],
                &[(":p", s("N_MyName.T_"))],
            ),
            None,
            Some("begins_with ( aws_dbe_b_NameTitle , :p )"),
            names(&[]),
            values(&[(":p", s(&format!("N_{}.T_", h("Name", 32, "MyName"))))]),
        ),
        // BETWEEN on a compound beacon: a common prefix, then bare prefixes
        (
            query(
                None,
                Some("NameTitle BETWEEN :lo AND :hi"),
                &[],
                &[(":lo", s("N_MyName.T_")), (":hi", s("N_MyName.T_"))],
            ),
            None,
            Some("aws_dbe_b_NameTitle BETWEEN :lo AND :hi"),
            names(&[]),
            values(&[
                (":lo", s(&format!("N_{}.T_", h("Name", 32, "MyName")))),
                (":hi", s(&format!("N_{}.T_", h("Name", 32, "MyName")))),
            ]),
        ),
        // IN on a standard beacon; a value on the left
        (
            query(
                None,
                Some("std4 IN (:a, :b) AND :c = std2"),
                &[],
                &[(":a", s("x")), (":b", s("y")), (":c", n("7"))],
            ),
            None,
            Some("aws_dbe_b_std4 IN ( :a , :b ) AND :c = aws_dbe_b_std2"),
            names(&[]),
            values(&[
                (":a", s(&h("std4", 24, "x"))),
                (":b", s(&h("std4", 24, "y"))),
                (":c", s(&h("std2", 24, "7"))),
            ]),
        ),
        // a signed compound beacon is stored under its own name, values as given
        (
            query(
                None,
                Some("JustSigned = :v"),
                &[],
                &[(":v", s("Y_1984.M_May"))],
            ),
            None,
            Some("JustSigned = :v"),
            names(&[]),
            values(&[(":v", s("Y_1984.M_May"))]),
        ),
        // a compound beacon with a signed part: its piece stays plaintext
        (
            query(
                None,
                Some("YearName = :v"),
                &[],
                &[(":v", s("Y_1984.N_MyName"))],
            ),
            None,
            Some("aws_dbe_b_YearName = :v"),
            names(&[]),
            values(&[(":v", s(&format!("Y_1984.N_{}", h("Name", 32, "MyName"))))]),
        ),
        // existence of an encrypted attribute is its ciphertext's: unchanged
        (
            query(
                None,
                Some("attribute_exists(std2) AND attribute_not_exists(TooBad)"),
                &[],
                &[],
            ),
            None,
            Some("attribute_exists ( std2 ) AND attribute_not_exists ( TooBad )"),
            names(&[]),
            values(&[]),
        ),
        // TestNoBeacons: nothing to change; unused values are dropped
        (
            query(
                None,
                Some("Year < :A AND Plain = :B"),
                &[],
                &[(":A", n("1.23")), (":B", s("abc")), (":unused", s("x"))],
            ),
            None,
            Some("Year < :A AND Plain = :B"),
            names(&[]),
            values(&[(":A", n("1.23")), (":B", s("abc"))]),
        ),
        // a query on a beacon's stored name reads as the beacon
        (
            query(None, Some("aws_dbe_b_std4 = :B"), &[], &[(":B", s("abc"))]),
            None,
            Some("aws_dbe_b_std4 = :B"),
            names(&[]),
            values(&[(":B", s(&h("std4", 24, "abc")))]),
        ),
    ];
    for (q, key, filter, ns, vs) in cases {
        let out = rewrite(&t, Operation::Query, &q).unwrap_or_else(|e| panic!("{q:?}: {e}"));
        assert_eq!(out.key_condition_expression.as_deref(), key, "{q:?}");
        assert_eq!(out.filter_expression.as_deref(), filter, "{q:?}");
        assert_eq!(out.expression_attribute_names, ns, "{q:?}");
        assert_eq!(out.expression_attribute_values, vs, "{q:?}");
        assert_eq!(out.table, TABLE);
    }
    // A ProjectionExpression keeps its names: one the rewrite would remap is refused.
    let mut q = query(
        None,
        Some("#e = :v"),
        &[("#e", "std4"), ("#y", "Year")],
        &[(":v", s("abc"))],
    );
    q.projection_expression = Some("RecNum, #y, Date.Month".into());
    let out = rewrite(&t, Operation::Query, &q).unwrap();
    assert_eq!(out.projection_expression, q.projection_expression);
    q.projection_expression = Some("RecNum, #e, #y".into());
    assert_eq!(
        refusal(rewrite(&t, Operation::Query, &q)),
        "Query on encrypted table \"Gazelle\": ProjectionExpression uses #e, which the beacon rewrite of the key condition or filter points at aws_dbe_b_std4; use another name in ProjectionExpression"
    );
    // No expression: unchanged, values and all.
    let q = query(None, None, &[("#a", "b")], &[(":x", s("y"))]);
    assert_eq!(rewrite(&t, Operation::Scan, &q).unwrap(), q);
}

#[test]
fn beacon_keys_are_fetched_only_when_a_value_needs_one() {
    let w = world();
    let t = lotsa(&w);
    for q in [
        query(None, Some("Year = :y"), &[], &[(":y", n("1984"))]),
        query(
            None,
            Some("JustSigned = :v"),
            &[],
            &[(":v", s("Y_1984.M_May"))],
        ),
        query(None, Some("attribute_exists(std2)"), &[], &[]),
    ] {
        rewrite(&t, Operation::Scan, &q).unwrap();
    }
    assert_eq!(w.storage.beacon_gets.load(Ordering::SeqCst), 0);
    rewrite(
        &t,
        Operation::Scan,
        &query(None, Some("std2 = :v"), &[], &[(":v", n("1"))]),
    )
    .unwrap();
    rewrite(
        &t,
        Operation::Scan,
        &query(None, Some("std4 = :v"), &[], &[(":v", s("1"))]),
    )
    .unwrap();
    // Fetched once, then cached.
    assert_eq!(w.storage.beacon_gets.load(Ordering::SeqCst), 1);
}

/// Every refusal is REQUEST_REFUSED and names the attribute (or beacon, or
/// placeholder) at fault, never a value.
#[test]
fn queries_the_reference_refuses_are_refused() {
    let w = world();
    let t = lotsa(&w);
    let secret = "MySecretName";
    let cases: Vec<(QueryParts, &str)> = vec![
        // FilterExpr.dfy TestBadStandard
        (query(None, Some("std2 <> :val"), &[], &[(":val", s(secret))]), "The operation '<>' cannot be used with the standard beacon std2."),
        (query(None, Some("std2 < :val"), &[], &[(":val", s(secret))]), "The operation '<' cannot be used with the standard beacon std2."),
        (query(None, Some("std2 > :val"), &[], &[(":val", s(secret))]), "The operation '>' cannot be used with the standard beacon std2."),
        (query(None, Some("std2 <= :val"), &[], &[(":val", s(secret))]), "The operation '<=' cannot be used with the standard beacon std2."),
        (query(None, Some("std2 >= :val"), &[], &[(":val", s(secret))]), "The operation '>=' cannot be used with the standard beacon std2."),
        (query(None, Some("begins_with(std4, :val)"), &[], &[(":val", s(secret))]), "The operation 'begins_with' cannot be used with the standard beacon std4."),
        (query(None, Some("std4 BETWEEN :a AND :b"), &[], &[(":a", s(secret)), (":b", s(secret))]), "The operation BETWEEN cannot be used with the standard beacon std4."),
        // FilterExpr.dfy TestBadBetween, TestComparisons
        (query(None, Some("NameTitle between :val3 and :val4"), &[], &[(":val3", s("T_ATitle")), (":val4", s("T_MyTitle"))]),
         "To use BETWEEN with the compound beacon NameTitle, the part after any common prefix must be LessThanComparable : BETWEEN :val3 AND :val4"),
        (query(None, Some("NameTitle between :val1 and :val2"), &[], &[(":val1", s("N_")), (":val2", s("N_MyName"))]),
         "To use BETWEEN with the compound beacon NameTitle, the part after any common prefix must be LessThanComparable : BETWEEN :val1 AND :val2"),
        (query(None, Some("NameTitle < :val2"), &[], &[(":val2", s("N_MyName"))]),
         "The operation '<' cannot be used with the compound beacon NameTitle, unless the value is LessThanComparable : :val2"),
        (query(None, Some("NameTitle = :v"), &[], &[(":v", n("12"))]),
         "Value :v supplied for compound beacon NameTitle is of type N but must be of type S (string)."),
        // TestMultiContextFailures: in one expression, across key and filter
        (query(None, Some("std2 = :A AND std4 = :A"), &[], &[(":A", n("1.23"))]),
         ":A used in two different contexts (std2 and std4), which is not allowed."),
        (query(Some("std2 = :A"), Some("std4 = :A"), &[], &[(":A", n("1.23"))]),
         ":A used in two different contexts (std2 and std4), which is not allowed."),
        (query(None, Some("std2 = :A AND Year = :A"), &[], &[(":A", n("1.23"))]),
         ":A used in two different contexts (std2 and no beacon), which is not allowed."),
        // TestNoBeaconFail: an encrypted attribute without a beacon
        (query(None, Some("TooBad = :v"), &[], &[(":v", s(secret))]), "Field TooBad is encrypted, and cannot be searched without a beacon."),
        (query(None, Some("#F = :v"), &[("#F", "TooBad")], &[(":v", s(secret))]), "Field TooBad is encrypted, and cannot be searched without a beacon."),
        (query(None, Some("contains(TooBad, :v)"), &[], &[(":v", s(secret))]), "Field TooBad is encrypted, and cannot be searched without a beacon."),
        // stricter than the reference: no ciphertext left to compare
        (query(None, Some("TooBad = Year"), &[], &[]), "Field TooBad is encrypted, and cannot be searched without a beacon."),
        (query(None, Some("TooBad.x = :v"), &[], &[(":v", s(secret))]), "Field TooBad is encrypted, and cannot be searched without a beacon."),
        (query(None, Some("#t[0] = :v"), &[("#t", "TooBad")], &[(":v", s(secret))]), "Field TooBad is encrypted, and cannot be searched without a beacon."),
        (query(None, Some("size(TooBad) > :v"), &[], &[(":v", n("3"))]), "Function size cannot be used on encrypted fields, but it is being used with TooBad"),
        // functions that work neither on ciphertext nor on beacons
        (query(None, Some("size(std2) > :v"), &[], &[(":v", n("3"))]), "Function size cannot be used on encrypted fields, but it is being used with std2"),
        (query(None, Some("attribute_type(std4, :t)"), &[], &[(":t", s("S"))]), "Function attribute_type cannot be used on encrypted fields, but it is being used with std4"),
        // a PartOnly beacon is only searched inside its compound beacon
        (query(None, Some("TooBadPart = :v"), &[], &[(":v", s(secret))]),
         "Field TooBadPart is encrypted, and has a PartOnly beacon, and so can only be used as part of a compound beacon."),
        (query(None, Some("#p = :v"), &[("#p", "TooBadPart")], &[(":v", s(secret))]),
         "Field TooBadPart is encrypted, and has a PartOnly beacon, and so can only be used as part of a compound beacon."),
        // names and values that are not supplied
        (query(None, Some("#nope = :v"), &[], &[(":v", s(secret))]), "Name #nope not in ExpressionAttributeNameMap."),
        (query(None, Some("Date.#nope = :v"), &[], &[(":v", s(secret))]), "Name #nope not in ExpressionAttributeNameMap."),
        (query(None, Some("std2 = :missing"), &[], &[]), ":missing not found in ExpressionAttributeValueMap"),
        // a compound value no constructor builds
        (query(None, Some("Mixed = :v"), &[], &[(":v", s("Y_1984.N_MyName"))]), "compound beacon \"Mixed\" cannot be built"),
        (query(None, Some("NameTitle = :v"), &[], &[(":v", s("X_MySecretName"))]), "compound beacon \"NameTitle\""),
        // a partition on a table without partitions
        (query(Some("std2 = :v"), None, &[], &[(":v", n("1")), (":aws_dbe_partition", n("0"))]),
         "If no partitions are configured, do not specify :aws_dbe_partition"),
    ];
    for (q, expected) in cases {
        let message = refusal(rewrite(&t, Operation::Query, &q));
        assert!(
            message.starts_with(&format!("Query on encrypted table \"{TABLE}\": ")),
            "{message}"
        );
        assert!(
            message.contains(expected),
            "{q:?}\n  got: {message}\n want: {expected}"
        );
        assert!(!message.contains(secret), "{message}");
    }
    // Scan: the same refusals, and no partition.
    let message = refusal(rewrite(
        &t,
        Operation::Scan,
        &query(None, Some("std2 <> :v"), &[], &[(":v", n("1"))]),
    ));
    assert!(message.starts_with("Scan on encrypted table \"Gazelle\": The operation '<>' cannot be used with the standard beacon std2."), "{message}");
    let message = refusal(rewrite(
        &t,
        Operation::Scan,
        &query(
            None,
            Some("Year = :v"),
            &[],
            &[(":v", n("1")), (":aws_dbe_partition", n("0"))],
        ),
    ));
    assert!(
        message
            .ends_with("A value for :aws_dbe_partition must not be specified for Scan operations."),
        "{message}"
    );
    // The filter on opened items refuses the same way.
    let message = refusal(t.filter_results(
        Operation::Query,
        &query(None, Some("std2 <> :v"), &[], &[(":v", n("1"))]),
        vec![simple_item()],
    ));
    assert!(message.contains("standard beacon std2"), "{message}");
}

/// On a table without beacons, issue 14's rule holds for rewrite_query and
/// check: an expression reading an encrypted attribute is refused, naming it.
#[test]
fn tables_without_beacons_refuse_encrypted_attributes() {
    let t = tables_with(table_config());
    let q = query(
        Some("RecNum = :k"),
        Some("Name = :v"),
        &[],
        &[(":k", n("1")), (":v", s("x"))],
    );
    let message = refusal(rewrite(&t, Operation::Query, &q));
    assert_eq!(
        message,
        "Query on encrypted table \"Gazelle\": FilterExpression reads encrypted attributes (Name): DynamoDB only sees their ciphertext, so nothing would match"
    );
    let part = RequestPart {
        table: TABLE.into(),
        filter_expression: Some("#n = :v".into()),
        expression_attribute_names: names(&[("#n", "Title")]),
        ..RequestPart::default()
    };
    assert!(refusal(t.check(Operation::Scan, &part)).contains("(Title)"));
    // Fine without encrypted attributes, or with existence only: unchanged.
    for q in [
        query(
            Some("RecNum = :k"),
            Some("Year > :y"),
            &[],
            &[(":k", n("1")), (":y", n("1"))],
        ),
        query(None, Some("attribute_exists(Name)"), &[], &[]),
    ] {
        assert_eq!(rewrite(&t, Operation::Query, &q).unwrap(), q);
    }
    // Results: aws_dbe_ attributes removed, nothing else filtered.
    let mut item = simple_item();
    item.insert("aws_dbe_b_std2".into(), s("abc"));
    let out = t
        .filter_results(Operation::Query, &q_any(), vec![item])
        .unwrap();
    assert_eq!(out, vec![simple_item()]);
    assert_eq!(t.number_of_queries(&q_any()).unwrap(), 1);
}

fn q_any() -> QueryParts {
    query(
        Some("RecNum = :k"),
        Some("Year = :y"),
        &[],
        &[(":k", n("1")), (":y", n("2"))],
    )
}

/// With beacons, check leaves Query and Scan expressions to rewrite_query.
#[test]
fn check_lets_beaconized_queries_through() {
    let w = world();
    let t = lotsa(&w);
    let part = RequestPart {
        table: TABLE.into(),
        filter_expression: Some("std2 = :v".into()),
        ..RequestPart::default()
    };
    assert!(t.check(Operation::Query, &part).is_ok());
    assert!(t.check(Operation::Scan, &part).is_ok());
    // Other tables: untouched.
    let q = query(None, Some("anything <> :v"), &[], &[(":v", s("x"))]);
    let other = QueryParts {
        table: "Other".into(),
        ..q
    };
    assert_eq!(rewrite(&t, Operation::Query, &other).unwrap(), other);
    assert_eq!(
        t.filter_results(Operation::Query, &other, vec![simple_item()])
            .unwrap(),
        vec![simple_item()]
    );
    assert_eq!(t.number_of_queries(&other).unwrap(), 1);
    let e = rewrite(&t, Operation::GetItem, &query(None, None, &[], &[])).unwrap_err();
    assert_eq!(e.code(), "INTERNAL_ERROR");
}

// ---------------------------------------------------------------------------
// Filtering opened results.

/// FilterExpr.dfy TestFilterBeacons, and false positives: items a truncated
/// beacon matched but whose plaintext does not.
#[test]
fn results_keep_only_what_the_original_expression_matches() {
    let w = world();
    let t = lotsa(&w);
    let item = simple_item();
    let mut other = simple_item();
    other.insert("RecNum".into(), n("2"));
    other.insert("std2".into(), n("4.56"));
    other.insert("Name".into(), s("OtherName"));
    other.insert("Title".into(), s("Other"));
    other.insert("Year".into(), n("1990"));
    let items = vec![item.clone(), other.clone()];
    let (first, second, none) = (vec![item.clone()], vec![other.clone()], vec![]);
    // A filter with one value: (filter, placeholder, value, items kept).
    let filters: Vec<(&str, &str, V, &Vec<Item>)> = vec![
        ("std2 = :val2", ":val2", n("1.230"), &first),
        (
            "NameTitle = :val3",
            ":val3",
            s("N_MyName.T_MyTitle"),
            &first,
        ),
        (
            "contains(NameTitle, :val4)",
            ":val4",
            s("T_MyTitle"),
            &first,
        ),
        (
            "NameTitleField = :val5",
            ":val5",
            s("MyName__mytitle"),
            &first,
        ),
        ("begins_with(NameTitle, :p)", ":p", s("N_Other"), &second),
        // after the signed piece, a bare prefix: LessThanComparable
        ("YearName < :p", ":p", s("Y_1985.N_"), &first),
        ("YearName > :p", ":p", s("Y_1985.N_"), &second),
        ("JustSigned = :v", ":v", s("Y_1984.M_May"), &first),
        ("attribute_type(std2, :n)", ":n", s("N"), &items),
        ("NOT (std2 = :a)", ":a", n("1.23"), &second),
    ];
    let mut cases: Vec<(QueryParts, &Vec<Item>)> = filters
        .into_iter()
        .map(|(filter, p, v, kept)| (query(None, Some(filter), &[], &[(p, v)]), kept))
        .collect();
    // #names, several values, key conditions, no expression at all.
    let year_in = |year: &str| {
        let vs = [(":v", n(year)), (":a", n("4.56")), (":b", n("9"))];
        query(
            None,
            Some("#y = :v AND std2 IN (:a, :b)"),
            &[("#y", "Year")],
            &vs,
        )
    };
    let key_and_filter = query(
        Some("RecNum = :one"),
        Some("std4 = :abc"),
        &[],
        &[(":one", n("1")), (":abc", s("abc"))],
    );
    cases.extend([
        (year_in("1990"), &second),
        (year_in("1984"), &none),
        (key_and_filter, &first),
        (
            query(Some("std4 = :abc"), None, &[], &[(":abc", s("abc"))]),
            &items,
        ),
        (query(None, None, &[], &[]), &items),
    ]);
    for (q, want) in cases {
        let got = t
            .filter_results(Operation::Query, &q, items.clone())
            .unwrap_or_else(|e| panic!("{q:?}: {e}"));
        assert_eq!(&got, want, "{q:?}");
    }
    // Scan ignores a key condition; aws_dbe_ attributes are dropped.
    let mut sealed_looking = item.clone();
    sealed_looking.insert("aws_dbe_b_std2".into(), s("abc"));
    sealed_looking.insert("aws_dbe_v_1".into(), s(" "));
    let q = query(
        Some("RecNum = :two"),
        Some("std4 = :abc"),
        &[],
        &[(":two", n("2")), (":abc", s("abc"))],
    );
    assert_eq!(
        t.filter_results(Operation::Scan, &q, vec![sealed_looking])
            .unwrap(),
        vec![item]
    );
}

// ---------------------------------------------------------------------------
// Partitions.

/// 4 partitions; std4 on 2, std2 on all 4, Name on 3; NameTitle (Name, Title).
fn partitioned(w: &World) -> EncryptedTables {
    let mut v = lotsa_beacons(w);
    v.maximum_number_of_partitions = Some(4);
    for b in &mut v.standard_beacons {
        b.number_of_partitions = match b.name.as_str() {
            "std4" => Some(2),
            "Name" => Some(3),
            "Title" => Some(1),
            _ => None,
        };
    }
    tables_with(
        table_config()
            .with_search(SearchConfig {
                versions: vec![v],
                write_version: 1,
            })
            .unwrap(),
    )
}

fn hp(beacon: &str, length: u32, value: &str, partition: u8) -> String {
    spec_hash("beacon-key", beacon, length, value.as_bytes(), partition)
}

#[test]
fn partitions_number_of_queries_and_rewrites() {
    let w = world();
    let t = partitioned(&w);
    let cases: Vec<(QueryParts, u32)> = vec![
        (query(Some("std4 = :v"), None, &[], &[(":v", s("abc"))]), 2),
        (query(Some("std2 = :v"), None, &[], &[(":v", n("1"))]), 4),
        (
            query(
                Some("#s = :v"),
                None,
                &[("#s", "std4")],
                &[(":v", s("abc"))],
            ),
            2,
        ),
        (query(Some("Name = :v"), None, &[], &[(":v", s("x"))]), 3),
        // compound: the lcm of its encrypted parts' counts (3 and 1), capped at 4
        (
            query(Some("NameTitle = :v"), None, &[], &[(":v", s("N_a.T_b"))]),
            3,
        ),
        (
            query(
                Some("std4 = :a AND Name = :b"),
                None,
                &[],
                &[(":a", s("a")), (":b", s("b"))],
            ),
            4,
        ),
        (query(Some("RecNum = :v"), None, &[], &[(":v", n("1"))]), 1),
        (query(None, Some("std2 = :v"), &[], &[(":v", n("1"))]), 1),
    ];
    for (q, want) in cases {
        assert_eq!(t.number_of_queries(&q).unwrap(), want, "{q:?}");
    }

    // Partition 1 of std4's 2: the value with partition byte 1.
    let q = query(
        Some("std4 = :v"),
        None,
        &[],
        &[(":v", s("abc")), (":aws_dbe_partition", n("1"))],
    );
    let out = rewrite(&t, Operation::Query, &q).unwrap();
    assert_eq!(
        out.key_condition_expression.as_deref(),
        Some("aws_dbe_b_std4 = :v")
    );
    assert_eq!(
        out.expression_attribute_values,
        values(&[(":v", s(&hp("std4", 24, "abc", 1)))])
    );
    // Partition 3 on a beacon of 2: 3 % 2.
    let q = query(
        Some("std2 = :k"),
        Some("std4 = :v"),
        &[],
        &[
            (":k", n("1")),
            (":v", s("abc")),
            (":aws_dbe_partition", n("3")),
        ],
    );
    let out = rewrite(&t, Operation::Query, &q).unwrap();
    assert_eq!(
        out.expression_attribute_values[":v"],
        s(&hp("std4", 24, "abc", 1))
    );
    assert_eq!(
        out.expression_attribute_values[":k"],
        s(&spec_hash("beacon-key", "std2", 24, b"1", 3))
    );

    // Two queries for 4 partitions: query 0 covers partitions 0 and 2, the
    // filter's values for both ORed (DoBeaconize, AddContext).
    let q = query(
        Some("std4 = :k"),
        Some("std2 = :v"),
        &[],
        &[
            (":k", s("abc")),
            (":v", n("5")),
            (":aws_dbe_partition", n("0")),
        ],
    );
    let out = rewrite(&t, Operation::Query, &q).unwrap();
    assert_eq!(
        out.key_condition_expression.as_deref(),
        Some("aws_dbe_b_std4 = :k")
    );
    assert_eq!(
        out.filter_expression.as_deref(),
        Some("(aws_dbe_b_std2 = :v) OR (aws_dbe_b_std2 = :vAA)")
    );
    assert_eq!(
        out.expression_attribute_values,
        values(&[
            (":k", s(&hp("std4", 24, "abc", 0))),
            (":v", s(&spec_hash("beacon-key", "std2", 24, b"5", 0))),
            (":vAA", s(&spec_hash("beacon-key", "std2", 24, b"5", 2))),
        ])
    );
    // Query 1 covers partitions 1 and 3.
    let mut q1 = q.clone();
    q1.expression_attribute_values
        .insert(":aws_dbe_partition".into(), n("1"));
    let out = rewrite(&t, Operation::Query, &q1).unwrap();
    assert_eq!(
        out.expression_attribute_values[":v"],
        s(&spec_hash("beacon-key", "std2", 24, b"5", 1))
    );
    assert_eq!(
        out.expression_attribute_values[":vAA"],
        s(&spec_hash("beacon-key", "std2", 24, b"5", 3))
    );
    assert_eq!(
        out.expression_attribute_values[":k"],
        s(&hp("std4", 24, "abc", 1))
    );

    // A Scan runs over every partition: the filter for all 4, ORed.
    let out = rewrite(
        &t,
        Operation::Scan,
        &query(None, Some("std2 = :v"), &[], &[(":v", n("5"))]),
    )
    .unwrap();
    assert_eq!(
        out.filter_expression.as_deref(),
        Some("(aws_dbe_b_std2 = :v) OR (aws_dbe_b_std2 = :vAA) OR (aws_dbe_b_std2 = :vAB) OR (aws_dbe_b_std2 = :vAC)")
    );
    for (name, p) in [(":v", 0), (":vAA", 1), (":vAB", 2), (":vAC", 3)] {
        assert_eq!(
            out.expression_attribute_values[name],
            s(&spec_hash("beacon-key", "std2", 24, b"5", p)),
            "{name}"
        );
    }

    // Refused: no partition named for an encrypted attribute, one out of
    // range, one beyond the number of queries, a malformed one.
    let cases: Vec<(QueryParts, &str)> = vec![
        (query(Some("std4 = :v"), None, &[], &[(":v", s("abc"))]), "When numberOfPartitions is greater than one, Values must contain :aws_dbe_partition"),
        (query(Some("std4 = :v"), None, &[], &[(":v", s("abc")), (":aws_dbe_partition", n("4"))]), ":aws_dbe_partition specified in FilterExpression was 4 must be less than the number of partitions: 4"),
        (query(Some("std4 = :v"), None, &[], &[(":v", s("abc")), (":aws_dbe_partition", n("2"))]), "Partition number was 2 but should have been less than number of queries : 2"),
        (query(Some("std4 = :v"), None, &[], &[(":v", s("abc")), (":aws_dbe_partition", s("1"))]), "Value of :aws_dbe_partition is not numeric (i.e. 'N')"),
        (query(Some("std4 = :v"), None, &[], &[(":v", s("abc")), (":aws_dbe_partition", n("-1"))]), "Value of :aws_dbe_partition out of range."),
        (query(Some("std4 = :v"), None, &[], &[(":v", s("abc")), (":aws_dbe_partition", n("1.5"))]), "Value of :aws_dbe_partition is not a decimal integer"),
    ];
    for (q, expected) in cases {
        let message = refusal(rewrite(&t, Operation::Query, &q));
        assert!(message.ends_with(expected), "{q:?}\n  got: {message}");
    }
    // A query on plaintext attributes needs no partition.
    let q = query(Some("RecNum = :v"), None, &[], &[(":v", n("1"))]);
    assert_eq!(rewrite(&t, Operation::Query, &q).unwrap(), q);
}

// ---------------------------------------------------------------------------
// Multi-tenant tables.

fn multi_tenant(w: &World, keyring_tenant: Option<&str>) -> EncryptedTables {
    let mut v = lotsa_beacons(w);
    v.key_source = BeaconKeySourceConfig::Multi {
        key_field_name: "TheKeyField".into(),
        cache_ttl_seconds: 60,
        cache: None,
        partition_id: Some("p".into()),
    };
    v.compound_beacons.push(compound(
        "TenantName",
        vec![enc_part("Name", "N_")],
        vec![signed_part("TheKeyField", "K_")],
    ));
    let mut c = table_config();
    if let Some(tenant) = keyring_tenant {
        c.keyring = Arc::new(
            AwsKmsHierarchicalKeyring::new(HierarchicalKeyringConfig {
                key_store: w.store.clone(),
                branch_key_id: BranchKeyIdSource::Fixed(tenant.into()),
                ttl_seconds: 600,
                cache: Arc::new(MaterialsCache::new(10, w.clock.clone()).unwrap()),
                partition_id: b"k".to_vec(),
            })
            .unwrap(),
        );
    }
    tables_with(
        c.with_search(SearchConfig {
            versions: vec![v],
            write_version: 1,
        })
        .unwrap(),
    )
}

#[test]
fn multi_tenant_queries_use_the_tenants_beacon_key() {
    let w = world();
    let t = multi_tenant(&w, None);
    // The key id from the key field, or from a compound beacon's piece.
    let q = query(
        Some("TheKeyField = :t"),
        Some("std4 = :v"),
        &[],
        &[(":t", s("tenant-a")), (":v", s("abc"))],
    );
    assert_eq!(
        t.query_beacon_key_id(Operation::Query, &q)
            .unwrap()
            .as_deref(),
        Some("tenant-a")
    );
    let out = rewrite(&t, Operation::Query, &q).unwrap();
    assert_eq!(
        out.expression_attribute_values,
        values(&[
            (":t", s("tenant-a")),
            (":v", s(&spec_hash("tenant-a", "std4", 24, b"abc", 0)))
        ])
    );
    let q = query(
        None,
        Some("#tn = :c"),
        &[("#tn", "TenantName")],
        &[(":c", s("K_tenant-b.N_Bob"))],
    );
    assert_eq!(
        t.query_beacon_key_id(Operation::Scan, &q)
            .unwrap()
            .as_deref(),
        Some("tenant-b")
    );
    let out = rewrite(&t, Operation::Scan, &q).unwrap();
    assert_eq!(
        out.expression_attribute_values[":c"],
        s(&format!(
            "K_tenant-b.N_{}",
            spec_hash("tenant-b", "Name", 32, b"Bob", 0)
        ))
    );
    // No key id: fine without standard beacons, refused with one.
    let q = query(None, Some("JustSigned = :v"), &[], &[(":v", s("Y_1.M_2"))]);
    assert_eq!(t.query_beacon_key_id(Operation::Scan, &q).unwrap(), None);
    assert!(rewrite(&t, Operation::Scan, &q).is_ok());
    let message = refusal(rewrite(
        &t,
        Operation::Scan,
        &query(None, Some("std2 = :v"), &[], &[(":v", n("1"))]),
    ));
    assert!(message.contains("\"std2\" needs a beacon key"), "{message}");
    // Two tenants in one query.
    let q = query(
        Some("TheKeyField = :a"),
        Some("TheKeyField = :b OR std2 = :v"),
        &[],
        &[(":a", s("tenant-a")), (":b", s("tenant-b")), (":v", n("1"))],
    );
    let message = refusal(rewrite(&t, Operation::Query, &q));
    assert!(
        message.ends_with(
            "Multiple values found for TheKeyField in query : 2 different beacon key ids"
        ),
        "{message}"
    );
    assert!(!message.contains("tenant-"), "{message}");
}

/// The reference keeps only the results sealed under the query's tenant
/// (Query/ScanTransform.dfy Output): the item's one wrapped key names it.
#[test]
fn multi_tenant_results_are_the_tenants() {
    let w = world();
    let a = multi_tenant(&w, Some("tenant-a"));
    let mut item = simple_item();
    item.insert("TheKeyField".into(), s("tenant-a"));
    let sealed = run(a.get(TABLE).unwrap().encrypt_item(&item)).unwrap();
    assert!(sealed_under_key_id(&sealed, "tenant-a").unwrap());
    assert!(!sealed_under_key_id(&sealed, "tenant-b").unwrap());
    // Plaintext (no header) is kept.
    assert!(sealed_under_key_id(&simple_item(), "tenant-b").unwrap());
    // Two wrapped keys: the reference fails the query.
    let mut c = table_config();
    c.keyring = Arc::new(
        MultiKeyring::new(
            Some(Arc::new(RawAesKeyring::new("ns", "k1", &[1; 32]).unwrap())),
            vec![Arc::new(RawAesKeyring::new("ns", "k2", &[2; 32]).unwrap())],
        )
        .unwrap(),
    );
    let two = ItemEncryptor::new(c).unwrap();
    let sealed = run(two.encrypt_item(&simple_item())).unwrap();
    let e = sealed_under_key_id(&sealed, "tenant-a").unwrap_err();
    assert_eq!(e.code(), "INVALID_ITEM");
}

// ---------------------------------------------------------------------------
// The official test data (data.json, configs.json "4" and "5", records.json).

fn vectors(file: &str) -> serde_json::Value {
    let path = format!(
        "{}/../shared/vectors/dbesdk-search/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the official test data")).unwrap()
}

/// The data's attribute values: a plain string is S, else `{"N": ...}` and the like.
fn vector_value(v: &serde_json::Value) -> V {
    match v {
        serde_json::Value::String(x) => s(x),
        other => fieldseal::item::json::value_from_json(other).unwrap(),
    }
}

fn vector_item(v: &serde_json::Value) -> Item {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), vector_value(v)))
        .collect()
}

/// configs.json "4" (no search) or "5" (Stuff, Two, Three beacons; Comp1
/// of F_Four and S_Stuff), as the official runner's JsonConfig reads them.
fn vector_config(w: &World, search: bool) -> EncryptedTables {
    let configs = vectors("configs.json");
    let c = &configs["tableEncryptionConfigs"][if search { "5" } else { "4" }];
    let actions: BTreeMap<String, A> = c["attributeActionsOnEncrypt"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), A::parse(v.as_str().unwrap()).unwrap()))
        .collect();
    let mut config = ItemEncryptorConfig::new(
        "GazelleVectorTable",
        "RecNum",
        actions,
        Arc::new(RawAesKeyring::new("ns", "k", &[7; 32]).unwrap()),
    );
    config.allowed_unsigned_attributes = c["allowedUnsignedAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    if search {
        let v = &c["search"]["versions"][0];
        let mut version = lotsa_beacons(w);
        version.standard_beacons = v["standardBeacons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                std_beacon(
                    b["Name"].as_str().unwrap(),
                    b["Length"].as_u64().unwrap() as u32,
                )
            })
            .collect();
        let part = |p: &serde_json::Value| {
            (
                p["Name"].as_str().unwrap().to_owned(),
                p["Prefix"].as_str().unwrap().to_owned(),
            )
        };
        version.compound_beacons = v["compoundBeacons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| CompoundBeaconConfig {
                name: b["Name"].as_str().unwrap().into(),
                split: b["Split"].as_str().unwrap().into(),
                encrypted: b["Encrypted"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        let (n, x) = part(p);
                        enc_part(&n, &x)
                    })
                    .collect(),
                signed: b["Signed"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        let (n, x) = part(p);
                        signed_part(&n, &x)
                    })
                    .collect(),
                constructors: vec![],
                number_of_partitions: None,
            })
            .collect();
        version.virtual_fields = vec![];
        config = config
            .with_search(SearchConfig {
                versions: vec![version],
                write_version: 1,
            })
            .unwrap();
    }
    tables_with(config)
}

fn vector_query(expr: &str, key: bool, data: &serde_json::Value) -> QueryParts {
    // The values the expression names (the runner's GetUsed).
    let tokens = parse_expr(expr, "FilterExpression").unwrap();
    let vs: Item = data["Values"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| tokens.iter().any(|t| t.text() == k.as_str()))
        .map(|(k, v)| (k.clone(), vector_value(v)))
        .collect();
    QueryParts {
        table: TABLE.into(),
        key_condition_expression: key.then(|| expr.to_owned()),
        filter_expression: (!key).then(|| expr.to_owned()),
        projection_expression: None,
        expression_attribute_names: BTreeMap::new(),
        expression_attribute_values: vs,
    }
}

/// data.json "Queries": refused under config 4 (no beacons) exactly when
/// the data says so; under config 5 (beacons) every one is rewritten, and
/// the filter keeps the records the plaintext expression matches.
#[test]
fn official_queries() {
    let data = vectors("data.json");
    let records: Vec<Item> = vectors("records.json")["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(vector_item)
        .collect();
    let w = world();
    let plain = vector_config(&w, false);
    let beacons = vector_config(&w, true);
    let queries = data["Queries"].as_array().unwrap();
    assert_eq!(queries.len(), 27);
    for q in queries {
        let (expr, key) = match (q.get("Key"), q.get("Filter")) {
            (Some(k), _) => (k.as_str().unwrap(), true),
            (_, Some(f)) => (f.as_str().unwrap(), false),
            _ => panic!("a query with no expression"),
        };
        let fails_4 = q
            .get("Fail")
            .is_some_and(|f| f.as_array().unwrap().iter().any(|c| c == "4"));
        let parts = vector_query(expr, key, &data);
        let op = if key {
            Operation::Query
        } else {
            Operation::Scan
        };
        match run(plain.rewrite_query(op, &parts)) {
            Ok(out) => {
                assert!(!fails_4, "{expr:?} must fail under config 4");
                assert_eq!(out, parts);
            }
            Err(e) => {
                assert!(fails_4, "{expr:?}: {e}");
                assert_eq!(e.code(), "REQUEST_REFUSED");
            }
        }
        run(beacons.rewrite_query(op, &parts)).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
        let kept = beacons.filter_results(op, &parts, records.clone()).unwrap();
        let want: Vec<Item> = records
            .iter()
            .filter(|r| {
                holds(
                    expr,
                    r,
                    &BTreeMap::new(),
                    &parts.expression_attribute_values,
                )
                .unwrap()
            })
            .cloned()
            .collect();
        assert_eq!(kept, want, "{expr:?}");
    }
}

/// data.json "Complex" (config 5): each query is rewritten, and the filter
/// keeps the records it must Pass and drops those it must Fail.
#[test]
fn official_complex_queries() {
    let data = vectors("data.json");
    let records: Vec<Item> = vectors("records.json")["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(vector_item)
        .collect();
    let w = world();
    let t = vector_config(&w, true);
    let complex = &data["Complex"][0];
    assert_eq!(complex["Config"], "5");
    let mut checked = 0;
    for q in complex["Queries"].as_array().unwrap() {
        let expr = q["Query"].as_str().unwrap();
        let parts = vector_query(expr, false, &data);
        let rewritten = run(t.rewrite_query(Operation::Scan, &parts))
            .unwrap_or_else(|e| panic!("{expr:?}: {e}"));
        assert!(
            rewritten
                .filter_expression
                .unwrap()
                .contains("aws_dbe_b_Comp1"),
            "{expr:?}"
        );
        let kept = t
            .filter_results(Operation::Scan, &parts, records.clone())
            .unwrap();
        let index = |i: &serde_json::Value| &records[i.as_u64().unwrap() as usize];
        for pass in q
            .get("Pass")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
        {
            assert!(
                kept.contains(index(pass)),
                "{expr:?} must keep record {pass}"
            );
            checked += 1;
        }
        for fail in q["Fail"].as_array().unwrap() {
            assert!(
                !kept.contains(index(fail)),
                "{expr:?} must drop record {fail}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 18);
}

/// FilterExpr.dfy TestNoBeaconFail's TestBeaconize and UsesEncryptedField,
/// as the reference words them (every attribute counts, existence too;
/// [`EncryptedTables::check`] leaves existence aside).
#[test]
fn reference_test_beaconize() {
    use fieldseal::beacon::filter::{test_beaconize, uses_encrypted_field};
    let actions = table_config().attribute_actions_on_encrypt;
    let ns = names(&[("#Field4", "std4"), ("#y", "Year")]);
    assert_eq!(
        refusal(test_beaconize(
            &actions,
            None,
            Some("std2 <> :A AND #Field4 = :B"),
            &ns
        )),
        "Query is using encrypted field : std2."
    );
    assert_eq!(
        refusal(test_beaconize(
            &actions,
            Some("std2 = :A AND #Field4 = :B"),
            None,
            &ns
        )),
        "Query is using encrypted field : std2."
    );
    assert_eq!(
        refusal(test_beaconize(
            &actions,
            Some("RecNum = :k"),
            Some("#Field4 = :B"),
            &ns
        )),
        "Query is using encrypted field : std4."
    );
    assert!(test_beaconize(
        &actions,
        Some("RecNum = :k"),
        Some("#y > :y AND Plain = :p"),
        &ns
    )
    .is_ok());
    let tokens = parse_expr(
        "Date.Month = :m OR attribute_exists(Name.x)",
        "FilterExpression",
    )
    .unwrap();
    assert_eq!(
        uses_encrypted_field(&tokens, &actions, &ns).as_deref(),
        Some("Name")
    );
    let tokens = parse_expr("Date.Month = :m", "FilterExpression").unwrap();
    assert_eq!(uses_encrypted_field(&tokens, &actions, &ns), None);
}
