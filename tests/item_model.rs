//! The DynamoDB item model: number normalization, the canonical attribute
//! serialization (ddb-attribute-serialization.md, checked against bytes
//! worked out by hand from the spec and against the official vectors), and
//! DynamoDB JSON.

mod common;

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fieldseal::item::json::{item_from_json, item_to_json, value_from_json, value_to_json};
use fieldseal::item::normalize_number;
use fieldseal::item::serialize::{
    canonicalize, deserialize, serialize, type_id, utf16_cmp, Terminal, BYTES_TYPE_ID, MAX_DEPTH,
};
use fieldseal::{AttributeValue as A, Error, Item};
use proptest::prelude::*;
use serde_json::json;

use common::arb::{arb_attribute_value, arb_item};

// ---------------------------------------------------------------- helpers

fn s(x: &str) -> A {
    A::S(x.into())
}

fn n(x: &str) -> A {
    A::N(x.into())
}

fn ss(xs: &[&str]) -> A {
    A::Ss(xs.iter().map(|x| x.to_string()).collect())
}

fn ns(xs: &[&str]) -> A {
    A::Ns(xs.iter().map(|x| x.to_string()).collect())
}

fn m(entries: &[(&str, A)]) -> A {
    A::M(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// A 4-byte big-endian length or count.
fn be(len: usize) -> Vec<u8> {
    (len as u32).to_be_bytes().to_vec()
}

/// A nested entry: type id, 4-byte length, value.
fn entry(t: [u8; 2], value: &[u8]) -> Vec<u8> {
    [&t[..], &be(value.len()), value].concat()
}

/// A set: count, then length-prefixed members.
fn set_bytes(members: &[&[u8]]) -> Vec<u8> {
    let mut out = be(members.len());
    for mb in members {
        out.extend(be(mb.len()));
        out.extend_from_slice(mb);
    }
    out
}

fn ser(v: &A) -> Terminal {
    serialize(v).unwrap_or_else(|e| panic!("serialize {v:?}: {e}"))
}

fn is_invalid_item(r: &fieldseal::Result<impl std::fmt::Debug>) -> bool {
    matches!(r, Err(Error::InvalidItem(_)))
}

fn assert_malformed(t: [u8; 2], bytes: &[u8], why: &str) {
    match deserialize(t, bytes) {
        Err(Error::MalformedCiphertext(_)) => {}
        other => panic!("{why}: expected MalformedCiphertext, got {other:?}"),
    }
}

/// The canonical form worked out independently of the serializer: numbers
/// normalized, SS and NS in UTF-16 order, BS in byte order, nesting kept.
fn model_canonical(v: &A) -> A {
    match v {
        A::N(x) => A::N(normalize_number(x).unwrap()),
        A::Ss(xs) => {
            let mut xs = xs.clone();
            xs.sort_by(|a, b| utf16_cmp(a, b));
            A::Ss(xs)
        }
        A::Ns(xs) => {
            let mut xs: Vec<String> = xs.iter().map(|x| normalize_number(x).unwrap()).collect();
            xs.sort();
            A::Ns(xs)
        }
        A::Bs(xs) => {
            let mut xs = xs.clone();
            xs.sort();
            A::Bs(xs)
        }
        A::L(l) => A::L(l.iter().map(model_canonical).collect()),
        A::M(mp) => A::M(
            mp.iter()
                .map(|(k, v)| (k.clone(), model_canonical(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `levels` nested lists: the top-level list is level 1, the innermost is empty.
fn nested_list(levels: usize) -> A {
    let mut v = A::L(vec![]);
    for _ in 1..levels {
        v = A::L(vec![v]);
    }
    v
}

/// The serialized value of `nested_list(levels)`, built by hand.
fn nested_list_bytes(levels: usize) -> Vec<u8> {
    let mut bytes = be(0);
    for _ in 1..levels {
        bytes = [be(1), entry(type_id::LIST, &bytes)].concat();
    }
    bytes
}

// ---------------------------------------------------------------- numbers

#[test]
fn number_normalization_table() {
    let tiny = format!("0.{}1", "0".repeat(129));
    let huge = format!("99999999999999999999999999999999999999{}", "0".repeat(88));
    let cases: &[(&str, &str)] = &[
        ("1.50", "1.5"),
        ("-0", "0"),
        ("-0.000e5", "0"),
        ("+0", "0"),
        ("1E+3", "1000"),
        ("1e3", "1000"),
        ("1E-3", "0.001"),
        ("00.0011", "0.0011"),
        ("0000", "0"),
        ("2000.000", "2000"),
        ("10.01", "10.01"),
        ("0", "0"),
        ("7", "7"),
        ("-7", "-7"),
        ("+7", "7"),
        ("007.700", "7.7"),
        ("-007.700", "-7.7"),
        ("100E-2", "1"),
        ("100e-5", "0.001"),
        ("0.001E2", "0.1"),
        ("0.001E10", "10000000"),
        ("-12.3400e1", "-123.4"),
        ("12.34E-1", "1.234"),
        ("1.e5", "100000"),
        (".5", "0.5"),
        ("-.5", "-0.5"),
        ("5.", "5"),
        ("0.0", "0"),
        ("1E0", "1"),
        ("1e+0005", "100000"),
        ("1e-0", "1"),
        (
            "123456789012345678901234567890123456780000",
            "123456789012345678901234567890123456780000",
        ),
        (
            "12345678901234567890123456789012345678",
            "12345678901234567890123456789012345678",
        ),
        (
            "0.00000000000000000000000000000000000000000000012345678901234567890123456789012345678",
            "0.00000000000000000000000000000000000000000000012345678901234567890123456789012345678",
        ),
        ("1E-130", &tiny),
        ("-1E-130", &format!("-{tiny}")),
        ("9.9999999999999999999999999999999999999E+125", &huge),
        ("0E999999999999999999999", "0"),
        ("0E-999999999999999999999", "0"),
        ("0.0E200", "0"),
    ];
    for (input, want) in cases {
        assert_eq!(normalize_number(input).as_deref(), Ok(*want), "{input:?}");
        // A normalized number is its own normal form.
        assert_eq!(normalize_number(want).as_deref(), Ok(*want), "{want:?}");
    }
}

#[test]
fn number_rejections() {
    let rejected = [
        "",
        "-",
        "+",
        ".",
        "-.",
        "e5",
        ".e5",
        "1e",
        "1E",
        // The reference reads a sign-only exponent as 0; DynamoDB refuses it, and so do we.
        "1e+",
        "1e-",
        "1e+-3",
        "1e--3",
        "1e3.0",
        "1e5e3",
        "+-1",
        "-+1",
        "--1",
        "++1",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "1.2.3",
        "1..2",
        " 1",
        "1 ",
        "1_000",
        "1,5",
        "0x10",
        "١",
        "1E126",
        "10E125",
        "1E-131",
        "0.1E-130",
        "123456789012345678901234567890123456789",
        "1.23456789012345678901234567890123456789",
        "1E999999999999999999999",
        "1E-999999999999999999999",
        // Out of range although the point lands inside the digits; the
        // reference's range checks miss these two, DynamoDB refuses them.
        &format!("1{}e-10", "0".repeat(300)),
        &format!("0.{}1e5", "0".repeat(200)),
    ];
    for input in rejected {
        match normalize_number(input) {
            Err(Error::InvalidItem(msg)) => {
                assert!(msg.starts_with("invalid number"), "{input:?}: {msg}")
            }
            other => panic!("{input:?}: expected InvalidItem, got {other:?}"),
        }
    }
}

// ------------------------------------------------------ serialized bytes

#[test]
fn type_ids_match_the_spec() {
    assert_eq!(type_id::NULL, [0x00, 0x00]);
    assert_eq!(type_id::STRING, [0x00, 0x01]);
    assert_eq!(type_id::NUMBER, [0x00, 0x02]);
    assert_eq!(type_id::BOOLEAN, [0x00, 0x04]);
    assert_eq!(type_id::BINARY, [0xFF, 0xFF]);
    assert_eq!(type_id::STRING_SET, [0x01, 0x01]);
    assert_eq!(type_id::NUMBER_SET, [0x01, 0x02]);
    assert_eq!(type_id::BINARY_SET, [0x01, 0xFF]);
    assert_eq!(type_id::MAP, [0x02, 0x00]);
    assert_eq!(type_id::LIST, [0x03, 0x00]);
    assert_eq!(BYTES_TYPE_ID, [0xFF, 0xFF]);
}

#[test]
fn scalar_bytes() {
    let cases: Vec<(A, [u8; 2], Vec<u8>)> = vec![
        (A::Null, [0x00, 0x00], vec![]),
        (s(""), [0x00, 0x01], vec![]),
        (s("abc"), [0x00, 0x01], b"abc".to_vec()),
        (
            s("é😀"),
            [0x00, 0x01],
            vec![0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80],
        ),
        (n("1.50"), [0x00, 0x02], b"1.5".to_vec()),
        (n("-0"), [0x00, 0x02], b"0".to_vec()),
        (n("1E+3"), [0x00, 0x02], b"1000".to_vec()),
        (A::B(vec![]), [0xFF, 0xFF], vec![]),
        (
            A::B(vec![0, 1, 0xFE, 0xFF]),
            [0xFF, 0xFF],
            vec![0, 1, 0xFE, 0xFF],
        ),
        (A::Bool(false), [0x00, 0x04], vec![0x00]),
        (A::Bool(true), [0x00, 0x04], vec![0x01]),
    ];
    for (v, t, bytes) in cases {
        assert_eq!(
            ser(&v),
            Terminal {
                type_id: t,
                value: bytes
            },
            "{v:?}"
        );
    }
}

#[test]
fn set_bytes_are_sorted_and_length_prefixed() {
    // String set: UTF-16 order, UTF-8 bytes.
    assert_eq!(
        ser(&ss(&["b", "a", "ab"])),
        Terminal {
            type_id: [0x01, 0x01],
            value: vec![0, 0, 0, 3, 0, 0, 0, 1, b'a', 0, 0, 0, 2, b'a', b'b', 0, 0, 0, 1, b'b'],
        }
    );
    // Number set: normalized first, then ordered as strings ("1" < "10" < "9").
    assert_eq!(
        ser(&ns(&["10", "9", "1.0", "-2"])),
        Terminal {
            type_id: [0x01, 0x02],
            value: vec![
                0, 0, 0, 4, 0, 0, 0, 2, b'-', b'2', 0, 0, 0, 1, b'1', 0, 0, 0, 2, b'1', b'0', 0, 0,
                0, 1, b'9'
            ],
        }
    );
    // Binary set: byte order, a prefix before its extensions.
    assert_eq!(
        ser(&A::Bs(vec![vec![2], vec![1, 0], vec![1], vec![]])),
        Terminal {
            type_id: [0x01, 0xFF],
            value: vec![0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 2, 1, 0, 0, 0, 0, 1, 2],
        }
    );
}

#[test]
fn list_and_map_bytes() {
    let list = A::L(vec![s("a"), n("01"), A::Null, A::Bool(true), A::B(vec![9])]);
    assert_eq!(
        ser(&list),
        Terminal {
            type_id: [0x03, 0x00],
            value: vec![
                0, 0, 0, 5, // count
                0x00, 0x01, 0, 0, 0, 1, b'a', // S "a"
                0x00, 0x02, 0, 0, 0, 1, b'1', // N "1"
                0x00, 0x00, 0, 0, 0, 0, // NULL
                0x00, 0x04, 0, 0, 0, 1, 1, // BOOL true
                0xFF, 0xFF, 0, 0, 0, 1, 9, // B [9]
            ],
        }
    );

    let map = m(&[("b", s("x")), ("a", n("2.0"))]);
    assert_eq!(
        ser(&map),
        Terminal {
            type_id: [0x02, 0x00],
            value: vec![
                0, 0, 0, 2, // count
                0x00, 0x01, 0, 0, 0, 1, b'a', 0x00, 0x02, 0, 0, 0, 1, b'2', // "a": N "2"
                0x00, 0x01, 0, 0, 0, 1, b'b', 0x00, 0x01, 0, 0, 0, 1, b'x', // "b": S "x"
            ],
        }
    );

    // Empty containers are a bare zero count.
    assert_eq!(ser(&A::L(vec![])).value, vec![0, 0, 0, 0]);
    assert_eq!(ser(&A::M(BTreeMap::new())).value, vec![0, 0, 0, 0]);

    // Nesting: a map holding a list holding a string set.
    let nested = m(&[("k", A::L(vec![ss(&["z", "y"])]))]);
    let set = set_bytes(&[b"y", b"z"]);
    let list = [be(1), entry(type_id::STRING_SET, &set)].concat();
    let want = [
        be(1),
        entry(type_id::STRING, b"k"),
        entry(type_id::LIST, &list),
    ]
    .concat();
    assert_eq!(
        ser(&nested),
        Terminal {
            type_id: type_id::MAP,
            value: want
        }
    );
}

#[test]
fn empty_sets_serialize_like_the_reference() {
    // The reference writes and reads empty sets (count 0) without complaint.
    for (v, t) in [
        (A::Ss(vec![]), type_id::STRING_SET),
        (A::Ns(vec![]), type_id::NUMBER_SET),
        (A::Bs(vec![]), type_id::BINARY_SET),
    ] {
        let term = ser(&v);
        assert_eq!(
            term,
            Terminal {
                type_id: t,
                value: vec![0, 0, 0, 0]
            }
        );
        assert_eq!(deserialize(term.type_id, &term.value).unwrap(), v);
    }
}

#[test]
fn empty_map_keys_are_allowed_like_the_reference() {
    let v = m(&[("", A::Null), ("a", A::Null)]);
    let term = ser(&v);
    let want = [
        be(2),
        entry(type_id::STRING, b""),
        entry(type_id::NULL, b""),
        entry(type_id::STRING, b"a"),
        entry(type_id::NULL, b""),
    ]
    .concat();
    assert_eq!(term.value, want);
    assert_eq!(deserialize(term.type_id, &term.value).unwrap(), v);
}

#[test]
fn overlong_map_keys_are_refused() {
    let ok = "x".repeat(65535);
    assert!(serialize(&m(&[(&ok, A::Null)])).is_ok());
    // 32768 astral characters are 65536 UTF-16 code units.
    let astral = "😀".repeat(32768);
    for key in ["x".repeat(65536), astral] {
        let v = m(&[(&key, A::Null)]);
        assert!(is_invalid_item(&serialize(&v)));
        let bytes = [
            be(1),
            entry(type_id::STRING, key.as_bytes()),
            entry(type_id::NULL, b""),
        ]
        .concat();
        assert_malformed(type_id::MAP, &bytes, "overlong key");
    }
}

#[test]
fn duplicate_set_members_are_refused() {
    for v in [
        ss(&["a", "b", "a"]),
        ns(&["1", "2", "1"]),
        // Distinct as written, equal once normalized.
        ns(&["1", "1.0"]),
        ns(&["10", "1E1"]),
        ns(&["-0", "0"]),
        A::Bs(vec![vec![1], vec![1]]),
    ] {
        assert!(is_invalid_item(&serialize(&v)), "{v:?}");
        assert!(is_invalid_item(&canonicalize(&v)), "{v:?}");
    }
    // Nested duplicates fail the whole value.
    assert!(is_invalid_item(&serialize(&A::L(vec![ns(&["5", "5.00"])]))));
}

#[test]
fn bad_numbers_fail_serialization() {
    for v in [
        n("NaN"),
        n(""),
        ns(&["1", "x"]),
        A::L(vec![n("1e")]),
        m(&[("k", n("1E126"))]),
    ] {
        assert!(is_invalid_item(&serialize(&v)), "{v:?}");
    }
}

// ----------------------------------------------------------- ordering

#[test]
fn string_sets_and_map_keys_use_utf16_order() {
    // UTF-8 / code point order: "a" < U+FF61 < U+1F600.
    // UTF-16 order: "a" (0x0061) < U+1F600 (0xD83D 0xDE00) < U+FF61 (0xFF61).
    let halfwidth = "\u{FF61}";
    let emoji = "\u{1F600}";
    assert!(halfwidth.as_bytes() < emoji.as_bytes());
    assert_eq!(utf16_cmp(emoji, halfwidth), std::cmp::Ordering::Less);
    // The spec's own example: U+FF61 sorts after U+10002.
    assert_eq!(
        utf16_cmp("\u{FF61}", "\u{10002}"),
        std::cmp::Ordering::Greater
    );
    // A prefix sorts first.
    assert_eq!(utf16_cmp("ab", "abc"), std::cmp::Ordering::Less);

    let term = ser(&ss(&[halfwidth, "a", emoji]));
    assert_eq!(
        term.value,
        set_bytes(&[b"a", emoji.as_bytes(), halfwidth.as_bytes()])
    );
    assert_eq!(
        deserialize(term.type_id, &term.value).unwrap(),
        ss(&["a", emoji, halfwidth])
    );

    let map = m(&[(halfwidth, n("1")), (emoji, n("2")), ("a", n("3"))]);
    let want = [
        be(3),
        entry(type_id::STRING, b"a"),
        entry(type_id::NUMBER, b"3"),
        entry(type_id::STRING, emoji.as_bytes()),
        entry(type_id::NUMBER, b"2"),
        entry(type_id::STRING, halfwidth.as_bytes()),
        entry(type_id::NUMBER, b"1"),
    ]
    .concat();
    assert_eq!(ser(&map).value, want);
}

// --------------------------------------------------------- round trips

#[test]
fn round_trips_give_the_canonical_form() {
    let values = vec![
        A::Null,
        s("plain"),
        s("\u{0}\u{FF61}\u{1F600}"),
        n("2000.000"),
        n("-00.0011"),
        A::B(vec![0; 40]),
        A::Bool(true),
        ss(&["\u{FF61}", "\u{1F600}", ""]),
        ns(&["2000.000", "0000", "00.0011", "10.01"]),
        A::Bs(vec![vec![0xFF], vec![], vec![0x00, 0x01]]),
        A::L(vec![]),
        A::M(BTreeMap::new()),
        A::L(vec![
            m(&[("A", s("B")), ("C", s("D"))]),
            ns(&["00.0011", "0000", "2000.000", "10.01"]),
            ss(&["00.0011", "0000", "2000.000", "10.01"]),
        ]),
        m(&[("x", A::L(vec![A::Null, m(&[("y", n("1E2"))])]))]),
    ];
    for v in values {
        let want = model_canonical(&v);
        let term = ser(&v);
        let back = deserialize(term.type_id, &term.value).unwrap();
        assert_eq!(back, want, "{v:?}");
        assert_eq!(canonicalize(&v).unwrap(), want, "{v:?}");
        // The canonical form serializes to the same bytes.
        assert_eq!(ser(&want), term, "{v:?}");
    }
}

#[test]
fn complex_vector_value_matches_the_reference() {
    // Test "10" of the official decrypt manifests: `Stuff` is SIGN_ONLY, so the
    // stored form written by the reference is in the vector next to the plaintext.
    let plaintext = json!({"L": [
        {"M": {"A": "B", "C": "D"}},
        {"NS": ["00.0011", "0000", "2000.000", "10.01"]},
        {"SS": ["00.0011", "0000", "2000.000", "10.01"]}
    ]});
    let stored = json!({"L": [
        {"M": {"A": {"S": "B"}, "C": {"S": "D"}}},
        {"NS": ["0", "0.0011", "10.01", "2000"]},
        {"SS": ["00.0011", "0000", "10.01", "2000.000"]}
    ]});
    let plaintext = value_from_json(&plaintext).unwrap();
    let stored = value_from_json(&stored).unwrap();
    assert_eq!(canonicalize(&plaintext).unwrap(), stored);
    assert_eq!(ser(&plaintext), ser(&stored));
    // And the bytes, by hand.
    let inner_map = [
        be(2),
        entry(type_id::STRING, b"A"),
        entry(type_id::STRING, b"B"),
        entry(type_id::STRING, b"C"),
        entry(type_id::STRING, b"D"),
    ]
    .concat();
    let num_set = set_bytes(&[b"0", b"0.0011", b"10.01", b"2000"]);
    let str_set = set_bytes(&[b"00.0011", b"0000", b"10.01", b"2000.000"]);
    let want = [
        be(3),
        entry(type_id::MAP, &inner_map),
        entry(type_id::NUMBER_SET, &num_set),
        entry(type_id::STRING_SET, &str_set),
    ]
    .concat();
    assert_eq!(
        ser(&plaintext),
        Terminal {
            type_id: type_id::LIST,
            value: want
        }
    );
}

/// Every official decrypt vector: signed plaintext attributes are stored in
/// their canonical form, and every encrypted attribute's stored bytes are
/// the 2-byte type id, then AES-GCM of the serialized value (same length)
/// and a 16-byte tag, so the type id and serialized length can be checked.
#[test]
fn official_vectors_agree_with_the_serializer() {
    let dir = std::env::var("FIELDSEAL_VECTORS")
        .unwrap_or_else(|_| format!("{}/../shared/vectors/dbesdk", env!("CARGO_MANIFEST_DIR")));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("official vectors not found at {dir}; skipping");
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with("decrypt_") && f.ends_with(".json"))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no decrypt_*.json in {dir}");
    let (mut signed, mut encrypted) = (0, 0);
    for file in files {
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for (name, test) in manifest["tests"].as_object().unwrap() {
            if test["type"] != "positive-decrypt" {
                continue;
            }
            let at = format!("{}#{name}", file.display());
            let plaintext = item_from_json(&test["plaintext"]).unwrap();
            let stored = item_from_json(&test["encrypted"]).unwrap();
            // Which attributes were encrypted is read off the stored form: the
            // "Change X to Y" tests decrypt with a different config than wrote them.
            for (attr, plain) in &plaintext {
                match (&stored[attr], plain) {
                    (A::B(ct), p) if !matches!(p, A::B(_)) => {
                        let term = ser(plain);
                        assert_eq!(ct[..2], term.type_id, "{at} {attr}: type id");
                        assert_eq!(ct.len(), 2 + term.value.len() + 16, "{at} {attr}: length");
                        encrypted += 1;
                    }
                    (kept, _) => {
                        assert_eq!(&canonicalize(plain).unwrap(), kept, "{at} {attr}");
                        assert_eq!(ser(plain), ser(kept), "{at} {attr}");
                        signed += 1;
                    }
                }
            }
        }
    }
    assert!(
        signed > 0 && encrypted > 0,
        "{signed} signed, {encrypted} encrypted"
    );
}

#[test]
fn deserialize_keeps_stored_set_order() {
    // Stored data is read as it is; only writing sorts.
    let bytes = set_bytes(&[b"b", b"a"]);
    assert_eq!(
        deserialize(type_id::STRING_SET, &bytes).unwrap(),
        ss(&["b", "a"])
    );
    // Numbers are not re-normalized on the way back.
    assert_eq!(deserialize(type_id::NUMBER, b"1.50").unwrap(), n("1.50"));
}

// ------------------------------------------------------------- depth

#[test]
fn nesting_is_limited_to_32_levels() {
    assert_eq!(MAX_DEPTH, 32);
    // 32 levels (the top-level value counts as one) are fine both ways.
    let ok = nested_list(32);
    let term = ser(&ok);
    assert_eq!(term.value, nested_list_bytes(32));
    assert_eq!(deserialize(term.type_id, &term.value).unwrap(), ok);
    // A scalar at level 32 is fine too; at level 33 it is not.
    let mut scalar_32 = s("leaf");
    let mut scalar_33 = s("leaf");
    for _ in 1..32 {
        scalar_32 = A::L(vec![scalar_32]);
    }
    for _ in 1..33 {
        scalar_33 = A::L(vec![scalar_33]);
    }
    assert!(serialize(&scalar_32).is_ok());
    assert!(is_invalid_item(&serialize(&scalar_33)));

    // 33 levels are refused when writing and when reading.
    let deep = nested_list(33);
    assert!(is_invalid_item(&serialize(&deep)));
    assert!(is_invalid_item(&canonicalize(&deep)));
    assert_malformed(type_id::LIST, &nested_list_bytes(33), "33 levels");

    // Maps count the same way.
    let mut deep_map = A::Null;
    for _ in 0..33 {
        deep_map = m(&[("k", deep_map)]);
    }
    assert!(is_invalid_item(&serialize(&deep_map)));
}

#[test]
fn very_deep_input_fails_without_recursing() {
    // 100,000 levels of nested lists: refused, no stack overflow.
    let bytes = nested_list_bytes(100_000);
    assert_malformed(type_id::LIST, &bytes, "100000 levels");

    let mut json = json!({"NULL": true});
    for _ in 0..100 {
        json = json!({"L": [json]});
    }
    assert!(is_invalid_item(&value_from_json(&json)));
}

// -------------------------------------------------- malformed input

#[test]
fn every_truncation_of_a_compound_value_is_malformed() {
    let values = [
        ss(&["alpha", "\u{1F600}"]),
        ns(&["1", "22"]),
        A::Bs(vec![vec![1, 2], vec![]]),
        A::L(vec![s("x"), A::Null, A::Bool(false), A::L(vec![n("3")])]),
        m(&[("k", s("v")), ("m", m(&[("n", A::Bs(vec![vec![7]]))]))]),
    ];
    for v in values {
        let term = ser(&v);
        for cut in 0..term.value.len() {
            assert_malformed(
                term.type_id,
                &term.value[..cut],
                &format!("{v:?} cut at {cut}"),
            );
        }
        // Trailing bytes are refused too.
        let mut longer = term.value.clone();
        longer.push(0);
        assert_malformed(term.type_id, &longer, &format!("{v:?} plus a byte"));
    }
}

#[test]
fn wrong_lengths_and_absurd_counts_are_malformed() {
    let huge = [0xFF, 0xFF, 0xFF, 0xFF];
    for t in [
        type_id::STRING_SET,
        type_id::NUMBER_SET,
        type_id::BINARY_SET,
        type_id::MAP,
        type_id::LIST,
    ] {
        assert_malformed(t, &huge, "count 2^32-1 with nothing after it");
        assert_malformed(t, &[huge.to_vec(), vec![0; 64]].concat(), "count 2^32-1");
        assert_malformed(t, &[0, 0, 0], "short count");
        assert_malformed(t, &[], "empty");
        assert_malformed(t, &[0, 0, 0, 2, 0, 0, 0, 0], "count 2, one member");
    }
    // A set member length past the end.
    assert_malformed(
        type_id::STRING_SET,
        &[0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, b'a'],
        "member",
    );
    // A list entry length past the end, and one too short for its content.
    assert_malformed(
        type_id::LIST,
        &[be(1), vec![0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF]].concat(),
        "long entry",
    );
    let inner = [be(1), entry(type_id::STRING, b"x")].concat();
    let mut bad = [be(1), entry(type_id::LIST, &inner)].concat();
    bad[9] -= 1; // the nested list's declared length is now one short
    assert_malformed(type_id::LIST, &bad[..bad.len() - 1], "short entry");
    // A nested list whose entry claims more bytes than its declared length holds.
    let over = [be(1), type_id::LIST.to_vec(), be(4), be(1)].concat();
    assert_malformed(type_id::LIST, &over, "nested count overflows its entry");
    // A map whose key or value length is past the end.
    assert_malformed(
        type_id::MAP,
        &[be(1), vec![0x00, 0x01], huge.to_vec(), vec![0; 8]].concat(),
        "key",
    );
    assert_malformed(
        type_id::MAP,
        &[
            be(1),
            entry(type_id::STRING, b"k"),
            vec![0x00, 0x01],
            huge.to_vec(),
        ]
        .concat(),
        "value",
    );
    // A map entry cut after the key.
    assert_malformed(
        type_id::MAP,
        &[be(1), entry(type_id::STRING, b"k")].concat(),
        "no value",
    );
}

#[test]
fn bad_scalars_are_malformed() {
    assert_malformed(type_id::NULL, &[0], "NULL with content");
    assert_malformed(type_id::BOOLEAN, &[], "empty BOOL");
    assert_malformed(type_id::BOOLEAN, &[2], "BOOL 2");
    assert_malformed(type_id::BOOLEAN, &[0, 1], "two-byte BOOL");
    for bad in [
        &[0xFF][..],
        &[0xC3],
        &[0xED, 0xA0, 0x80],
        &[0xC0, 0x80],
        &[b'a', 0x80],
    ] {
        assert_malformed(type_id::STRING, bad, "bad UTF-8 string");
        assert_malformed(type_id::NUMBER, bad, "bad UTF-8 number");
        assert_malformed(
            type_id::STRING_SET,
            &set_bytes(&[b"ok", bad]),
            "bad UTF-8 member",
        );
        assert_malformed(
            type_id::NUMBER_SET,
            &set_bytes(&[bad]),
            "bad UTF-8 number member",
        );
        let map = [
            be(1),
            entry(type_id::STRING, bad),
            entry(type_id::NULL, b""),
        ]
        .concat();
        assert_malformed(type_id::MAP, &map, "bad UTF-8 key");
        let list = [be(1), entry(type_id::STRING, bad)].concat();
        assert_malformed(type_id::LIST, &list, "bad UTF-8 in a list");
    }
}

#[test]
fn unknown_types_and_structural_errors_are_malformed() {
    for t in [
        [0x00, 0x03],
        [0x00, 0x05],
        [0x01, 0x00],
        [0x02, 0x01],
        [0x03, 0x01],
        [0xFF, 0xFE],
    ] {
        assert_malformed(t, &[], "unknown type id");
        assert_malformed(
            type_id::LIST,
            &[be(1), entry(t, b"")].concat(),
            "unknown nested type",
        );
        let map = [be(1), entry(type_id::STRING, b"k"), entry(t, b"")].concat();
        assert_malformed(type_id::MAP, &map, "unknown map value type");
    }
    // Map keys must have the string type id.
    let map = [
        be(1),
        entry(type_id::NUMBER, b"1"),
        entry(type_id::NULL, b""),
    ]
    .concat();
    assert_malformed(type_id::MAP, &map, "numeric key");
    // Duplicate map keys and set members.
    let map = [
        be(2),
        entry(type_id::STRING, b"k"),
        entry(type_id::NULL, b""),
        entry(type_id::STRING, b"k"),
        entry(type_id::BOOLEAN, &[1]),
    ]
    .concat();
    assert_malformed(type_id::MAP, &map, "duplicate key");
    assert_malformed(
        type_id::STRING_SET,
        &set_bytes(&[b"a", b"b", b"a"]),
        "duplicate SS",
    );
    assert_malformed(
        type_id::NUMBER_SET,
        &set_bytes(&[b"1", b"1"]),
        "duplicate NS",
    );
    assert_malformed(type_id::BINARY_SET, &set_bytes(&[b"", b""]), "duplicate BS");
}

// -------------------------------------------------------- no leaks

#[test]
fn debug_output_hides_values() {
    let term = ser(&s("hunter2"));
    let shown = format!("{term:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("104"),
        "{shown}"
    );
    assert!(
        shown.contains("0x0001") && shown.contains("7 bytes"),
        "{shown}"
    );

    let v = m(&[
        ("name", s("hunter2")),
        ("n", n("31337")),
        ("b", A::B(b"hunter2".to_vec())),
    ]);
    let shown = format!("{v:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("31337"),
        "{shown}"
    );
}

#[test]
fn errors_do_not_echo_values() {
    let secret = "hunter2-secret";
    let errors = [
        value_from_json(&json!({"B": secret})).unwrap_err(),
        value_from_json(&json!({"S": secret, "N": "1"})).unwrap_err(),
        serialize(&n(secret)).unwrap_err(),
        serialize(&ss(&[secret, secret])).unwrap_err(),
        deserialize(type_id::STRING, &[secret.as_bytes(), &[0xFF]].concat()).unwrap_err(),
        deserialize(
            type_id::STRING_SET,
            &set_bytes(&[secret.as_bytes(), secret.as_bytes()]),
        )
        .unwrap_err(),
    ];
    for e in errors {
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}

// --------------------------------------------------------------- JSON

#[test]
fn json_typed_values_parse() {
    let item = item_from_json(&json!({
        "s": {"S": "text"},
        "n": {"N": "1.50"},
        "b": {"B": "AAEC/w=="},
        "t": {"BOOL": true},
        "f": {"BOOL": false},
        "z": {"NULL": true},
        "l": {"L": [{"S": "a"}, {"N": "2"}]},
        "m": {"M": {"k": {"BOOL": false}}},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": ["AA==", ""]},
        "empty_l": {"L": []},
        "empty_m": {"M": {}},
    }))
    .unwrap();
    let want: Item = [
        ("s", s("text")),
        ("n", n("1.50")),
        ("b", A::B(vec![0, 1, 2, 0xFF])),
        ("t", A::Bool(true)),
        ("f", A::Bool(false)),
        ("z", A::Null),
        ("l", A::L(vec![s("a"), n("2")])),
        ("m", m(&[("k", A::Bool(false))])),
        ("ss", ss(&["x", "y"])),
        ("ns", ns(&["1", "2.5"])),
        ("bs", A::Bs(vec![vec![0], vec![]])),
        ("empty_l", A::L(vec![])),
        ("empty_m", A::M(BTreeMap::new())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(item, want);
}

#[test]
fn json_shorthand_parses() {
    // Exact number text is kept (serde_json `arbitrary_precision`).
    let item = item_from_json(&json!({"RecNum": 1, "Name": "x"})).unwrap();
    assert_eq!(item["RecNum"], n("1"));
    assert_eq!(item["Name"], s("x"));
    let text = r#"{"a": 1.50, "b": -0, "c": 1E+3, "d": 123456789012345678901234567890123456789012,
                   "e": {"L": ["s", 2.0, {"M": {"k": "v", "n": 00.5e1}}]},
                   "f": {"NS": [1, "2", 3.10]}, "g": {"N": 7}}"#;
    // serde_json refuses leading zeros in JSON numbers, so use a legal spelling.
    let text = text.replace("00.5e1", "0.5e1");
    let item = item_from_json(&serde_json::from_str(&text).unwrap()).unwrap();
    assert_eq!(item["a"], n("1.50"));
    assert_eq!(item["b"], n("-0"));
    // serde_json keeps the digits exactly but spells exponents as `e+` / `e-`.
    assert_eq!(item["c"], n("1e+3"));
    assert_eq!(normalize_number("1e+3").unwrap(), "1000");
    assert_eq!(item["d"], n("123456789012345678901234567890123456789012"));
    assert_eq!(
        item["e"],
        A::L(vec![
            s("s"),
            n("2.0"),
            m(&[("k", s("v")), ("n", n("0.5e+1"))])
        ])
    );
    assert_eq!(item["f"], ns(&["1", "2", "3.10"]));
    assert_eq!(item["g"], n("7"));
    assert_eq!(value_from_json(&json!("bare")).unwrap(), s("bare"));
    assert_eq!(value_from_json(&json!(-12)).unwrap(), n("-12"));
}

#[test]
fn json_prints_typed_values() {
    let item: Item = [
        ("s", s("x")),
        ("n", n("1.50")),
        ("b", A::B(vec![0, 1, 2, 0xFF])),
        ("t", A::Bool(true)),
        ("z", A::Null),
        ("l", A::L(vec![s("a"), A::M(BTreeMap::new())])),
        ("m", m(&[("k", A::Bool(false))])),
        ("ss", ss(&["q", "p"])),
        ("ns", ns(&["3", "1"])),
        ("bs", A::Bs(vec![vec![0xFB, 0xFF], vec![]])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let printed = item_to_json(&item);
    assert_eq!(
        printed,
        json!({
            "b": {"B": "AAEC/w=="},
            "bs": {"BS": ["+/8=", ""]},
            "l": {"L": [{"S": "a"}, {"M": {}}]},
            "m": {"M": {"k": {"BOOL": false}}},
            "n": {"N": "1.50"},
            "ns": {"NS": ["3", "1"]},
            "s": {"S": "x"},
            "ss": {"SS": ["q", "p"]},
            "t": {"BOOL": true},
            "z": {"NULL": true},
        })
    );
    assert_eq!(value_to_json(&s("x")), json!({"S": "x"}));
    assert_eq!(item_from_json(&printed).unwrap(), item);
}

#[test]
fn json_errors_name_the_attribute() {
    let cases = [
        (json!({"a": {"S": 1}}), "a"),
        (json!({"a": {"S": "x", "N": "1"}}), "a"),
        (json!({"a": {}}), "a"),
        (json!({"a": {"X": "1"}}), "a"),
        (json!({"a": {"s": "1"}}), "a"),
        (json!({"a": {"B": "not base64!"}}), "a"),
        (json!({"a": {"B": "AAE"}}), "a"),
        (json!({"a": {"B": 5}}), "a"),
        (json!({"a": {"BS": ["AA==", "*"]}}), "a"),
        (json!({"a": {"BS": "AA=="}}), "a"),
        (json!({"a": {"SS": ["x", 1]}}), "a"),
        (json!({"a": {"NS": [true]}}), "a"),
        (json!({"a": {"N": true}}), "a"),
        (json!({"a": {"BOOL": "true"}}), "a"),
        (json!({"a": {"NULL": false}}), "a"),
        (json!({"a": {"NULL": "yes"}}), "a"),
        (json!({"a": {"L": {}}}), "a"),
        (json!({"a": {"M": []}}), "a"),
        (json!({"a": true}), "a"),
        (json!({"a": null}), "a"),
        (json!({"a": [1]}), "a"),
        (
            json!({"outer": {"M": {"inner": {"L": ["ok", {"S": 1}]}}}}),
            "outer.inner[1]",
        ),
        (
            json!({"outer": {"L": [{"M": {"k": {"BOOL": 1}}}]}}),
            "outer[0].k",
        ),
    ];
    for (input, path) in cases {
        match item_from_json(&input) {
            Err(Error::InvalidItem(msg)) => {
                assert!(msg.starts_with(&format!("{path}: ")), "{input}: {msg}")
            }
            other => panic!("{input}: expected InvalidItem, got {other:?}"),
        }
    }
    for not_an_item in [json!([]), json!("x"), json!(1), json!(null)] {
        assert!(
            is_invalid_item(&item_from_json(&not_an_item)),
            "{not_an_item}"
        );
    }
    // Over-long attribute names.
    let long = "x".repeat(65536);
    assert!(is_invalid_item(&item_from_json(
        &json!({ long.clone(): "v" })
    )));
    assert!(is_invalid_item(&item_from_json(
        &json!({"a": {"M": { long: "v" }}})
    )));
}

#[test]
fn json_depth_matches_the_serializer() {
    let wrap = |levels: usize| {
        let mut j = json!({"L": []});
        for _ in 1..levels {
            j = json!({"L": [j]});
        }
        j
    };
    assert_eq!(value_from_json(&wrap(32)).unwrap(), nested_list(32));
    assert!(is_invalid_item(&value_from_json(&wrap(33))));
}

// ---------------------------------------------------------- proptest

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn serialization_round_trips(v in arb_attribute_value()) {
        let term = serialize(&v).unwrap();
        let back = deserialize(term.type_id, &term.value).unwrap();
        prop_assert_eq!(&back, &model_canonical(&v));
        prop_assert_eq!(&canonicalize(&v).unwrap(), &back);
        // Canonical values are fixed points, with identical bytes.
        prop_assert_eq!(&canonicalize(&back).unwrap(), &back);
        prop_assert_eq!(serialize(&back).unwrap(), term);
    }

    #[test]
    fn json_round_trips(item in arb_item()) {
        let printed = item_to_json(&item);
        prop_assert_eq!(item_from_json(&printed).unwrap(), item.clone());
        // Through text as well.
        let text = serde_json::to_string(&printed).unwrap();
        let reparsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(item_from_json(&reparsed).unwrap(), item);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        t in prop::sample::select(vec![
            type_id::NULL, type_id::STRING, type_id::NUMBER, type_id::BOOLEAN,
            type_id::BINARY, type_id::STRING_SET, type_id::NUMBER_SET,
            type_id::BINARY_SET, type_id::MAP, type_id::LIST, [0x00, 0x03],
        ]),
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        match deserialize(t, &bytes) {
            Ok(v) => {
                // Whatever parses is a well-formed value of the declared type.
                prop_assert_eq!(serialize(&v).map(|t| t.type_id).unwrap_or(t), t);
            }
            Err(e) => prop_assert_eq!(e.code(), "MALFORMED_CIPHERTEXT"),
        }
    }

    #[test]
    fn corrupted_serializations_never_panic(
        v in arb_attribute_value(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let term = serialize(&v).unwrap();
        let mut bytes = term.value.clone();
        if !bytes.is_empty() {
            for (at, x) in flips {
                let i = at.index(bytes.len());
                bytes[i] ^= x;
            }
        }
        let cut = cut.index(bytes.len() + 1);
        for candidate in [&bytes[..], &bytes[..cut]] {
            if let Err(e) = deserialize(term.type_id, candidate) {
                prop_assert_eq!(e.code(), "MALFORMED_CIPHERTEXT");
            }
        }
    }
}

#[test]
fn base64_is_standard_and_padded() {
    // 0xFB 0xFF is "+/8=" in the standard alphabet ("-_8" in the URL-safe one).
    assert_eq!(B64.encode([0xFB, 0xFF]), "+/8=");
    assert_eq!(value_to_json(&A::B(vec![0xFB, 0xFF])), json!({"B": "+/8="}));
    assert!(is_invalid_item(&value_from_json(&json!({"B": "-_8="}))));
    assert!(is_invalid_item(&value_from_json(&json!({"B": "+/8"}))));
}
