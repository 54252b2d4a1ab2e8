//! Searchable encryption in the core: the search configuration's checks,
//! beacon values against the spec's formulas computed here with the `hmac`,
//! `hkdf` and `sha2` crates (not through fieldseal), virtual field
//! transforms, compound beacons for queries, the item encryptor's beacon
//! wiring, and the beacon key cache. The key store runs over an in-memory
//! table whose `enc` is the key itself and a KMS that hands it back, so the
//! beacon and branch keys are known here.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::orders_config;
use common::search::{
    beacon_key_of, compound, constructor, enc_part, run, signed_part, single_key_source,
    spec_hmac_key, std_beacon, world, World,
};
use fieldseal::beacon::info::{bytes_to_hex, lcm_seq, VERSION_TAG};
use fieldseal::beacon::keys::beacon_cache_id;
use fieldseal::beacon::virtual_field::{
    get_pos, get_prefix, get_segment, get_segments, get_substring, get_suffix, TermLoc, Transform,
    VirtualField,
};
use fieldseal::beacon::{
    basic_hash, standard_beacon_value, Beacon, BeaconKeyCache, BeaconKeySourceConfig, BeaconKeys,
    BeaconStyle, BeaconVersionConfig, MaybeKeyMap, PartitionSelector, SearchConfig, SearchInfo,
    StandardBeaconConfig, VirtualFieldConfig, VirtualPartConfig, VirtualTransform as VT,
};
use fieldseal::keyring::hierarchy::stored::BranchKeyIdSource;
use fieldseal::keyring::hierarchy::{AwsKmsHierarchicalKeyring, HierarchicalKeyringConfig};
use fieldseal::keyring::RawAesKeyring;
use fieldseal::{AttributeValue as V, CryptoAction as A, Item, ItemEncryptor, ItemEncryptorConfig};
use hmac::{Hmac, Mac};
use sha2::Sha384;

// ---------------------------------------------------------------------------
// The spec's formulas, written out independently of fieldseal.

/// Spec: beacons.md#basichash: the rightmost `length` bits of the first 8
/// bytes of HMAC-SHA384, as (length+3)/4 hex digits.
fn spec_basic_hash(hmac_key: &[u8], length: u32, data: &[u8]) -> String {
    let mut mac = Hmac::<Sha384>::new_from_slice(hmac_key).expect("any key length");
    mac.update(data);
    let digest = mac.finalize().into_bytes();
    let first8 = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let kept = first8 & ((1u64 << length) - 1);
    format!("{kept:0width$x}", width = length.div_ceil(4) as usize)
}

/// A standard beacon of a string value (its serialization is its UTF-8), with a partition byte.
fn spec_beacon(beacon_key: &[u8], name: &str, length: u32, value: &str, partition: u8) -> String {
    let mut data = value.as_bytes().to_vec();
    if partition != 0 {
        // Spec: beacons.md#beacon-partition-encoding
        data.push(partition);
    }
    spec_basic_hash(&spec_hmac_key(beacon_key, name), length, &data)
}

// ---------------------------------------------------------------------------
// Configurations.

fn table() -> ItemEncryptorConfig {
    orders_config(
        &[
            ("pk", A::SignOnly),
            ("sk", A::SignOnly),
            ("email", A::EncryptAndSign),
            ("card", A::EncryptAndSign),
            ("tags", A::EncryptAndSign),
            ("first", A::EncryptAndSign),
            ("last", A::EncryptAndSign),
            ("status", A::SignOnly),
            ("kind", A::SignOnly),
            ("note", A::DoNothing),
        ],
        Arc::new(RawAesKeyring::new("ns", "k1", &[7; 32]).unwrap()),
    )
}

fn version(w: &World, standard: Vec<StandardBeaconConfig>) -> BeaconVersionConfig {
    BeaconVersionConfig {
        version: 1,
        key_store: w.store.clone(),
        key_source: single_key_source(),
        standard_beacons: standard,
        compound_beacons: vec![],
        virtual_fields: vec![],
        signed_parts: vec![],
        encrypted_parts: vec![],
        maximum_number_of_partitions: None,
        default_number_of_partitions: None,
        partition_selector: None,
    }
}

fn search(v: BeaconVersionConfig) -> SearchConfig {
    SearchConfig {
        versions: vec![v],
        write_version: 1,
    }
}

fn vfield(name: &str, parts: Vec<(&str, Vec<VT>)>) -> VirtualFieldConfig {
    VirtualFieldConfig {
        name: name.into(),
        parts: parts
            .into_iter()
            .map(|(loc, trans)| VirtualPartConfig {
                loc: loc.into(),
                trans,
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------
// Configuration checks: each error is INVALID_CONFIG and names what is wrong.

#[test]
fn config_checks_name_the_beacon() {
    let w = world();
    type Edit = Box<dyn Fn(&mut SearchConfig)>;
    fn v0(c: &mut SearchConfig) -> &mut BeaconVersionConfig {
        &mut c.versions[0]
    }
    let cases: Vec<(&str, Edit, &[&str])> = vec![
        (
            "standard beacon on a SIGN_ONLY attribute",
            Box::new(move |c| v0(c).standard_beacons.push(std_beacon("status", 8))),
            &["standard beacon \"status\"", "unencrypted attribute"],
        ),
        (
            "standard beacon on an unconfigured location",
            Box::new(move |c| {
                let mut b = std_beacon("Ghost", 8);
                b.loc = Some("nowhere".into());
                v0(c).standard_beacons.push(b)
            }),
            &["standard beacon \"Ghost\"", "not an ENCRYPT_AND_SIGN"],
        ),
        (
            "length 0",
            Box::new(move |c| v0(c).standard_beacons[0].length = 0),
            &["standard beacon \"email\"", "length 0"],
        ),
        (
            "length 64",
            Box::new(move |c| v0(c).standard_beacons[0].length = 64),
            &["standard beacon \"email\"", "length 64"],
        ),
        (
            "duplicate standard beacon",
            Box::new(move |c| v0(c).standard_beacons.push(std_beacon("email", 8))),
            &["standard beacon \"email\"", "used twice"],
        ),
        (
            "two standard beacons on one location",
            Box::new(move |c| {
                let mut b = std_beacon("Mail2", 8);
                b.loc = Some("email".into());
                v0(c).standard_beacons.push(b)
            }),
            &["standard beacon \"Mail2\"", "\"email\""],
        ),
        (
            "reserved prefix",
            Box::new(move |c| {
                let mut b = std_beacon("aws_dbe_x", 8);
                b.loc = Some("card".into());
                v0(c).standard_beacons.push(b)
            }),
            &["standard beacon \"aws_dbe_x\"", "reserved prefix"],
        ),
        (
            "compound beacon named like a standard beacon",
            Box::new(move |c| {
                v0(c).compound_beacons.push(compound(
                    "email",
                    vec![enc_part("email", "C-")],
                    vec![],
                ))
            }),
            &["compound beacon \"email\"", "already used"],
        ),
        (
            "split character inside a prefix",
            Box::new(move |c| {
                v0(c).compound_beacons.push(compound(
                    "Combo",
                    vec![enc_part("email", "C.")],
                    vec![signed_part("status", "S-")],
                ))
            }),
            &["compound beacon \"Combo\"", "split character"],
        ),
        (
            "split of two characters",
            Box::new(move |c| {
                let mut cb = compound("Combo", vec![enc_part("email", "C-")], vec![]);
                cb.split = "..".into();
                v0(c).compound_beacons.push(cb)
            }),
            &["compound beacon \"Combo\"", "exactly one character"],
        ),
        (
            "constructor naming an unknown part",
            Box::new(move |c| {
                let mut cb = compound("Combo", vec![enc_part("email", "C-")], vec![]);
                cb.constructors = vec![constructor(&[("email", true), ("nope", false)])];
                v0(c).compound_beacons.push(cb)
            }),
            &["compound beacon \"Combo\"", "\"nope\""],
        ),
        (
            "constructor without a required part",
            Box::new(move |c| {
                let mut cb = compound("Combo", vec![enc_part("email", "C-")], vec![]);
                cb.constructors = vec![constructor(&[("email", false)])];
                v0(c).compound_beacons.push(cb)
            }),
            &["compound beacon \"Combo\"", "no required part"],
        ),
        (
            "two constructors with the same required parts",
            Box::new(move |c| {
                let mut cb = compound(
                    "Combo",
                    vec![enc_part("email", "C-")],
                    vec![signed_part("status", "S-")],
                );
                cb.constructors = vec![
                    constructor(&[("email", true), ("status", false)]),
                    constructor(&[("status", false), ("email", true)]),
                ];
                v0(c).compound_beacons.push(cb)
            }),
            &["compound beacon \"Combo\"", "same required parts"],
        ),
        (
            // The reference's GetGlobalParts adds each global part a
            // constructor names to one set, so a second constructor naming
            // it again is refused (aws-db-esdk 1.3.0 does the same).
            "a global part named by two constructors",
            Box::new(move |c| {
                v0(c).signed_parts = vec![signed_part("status", "S-")];
                v0(c).encrypted_parts = vec![enc_part("email", "E-")];
                let mut cb = compound("Combo", vec![], vec![]);
                cb.constructors = vec![
                    constructor(&[("status", true), ("email", true)]),
                    constructor(&[("email", true)]),
                ];
                v0(c).compound_beacons.push(cb)
            }),
            &["part \"email\" is defined twice"],
        ),
        (
            "a prefix that starts another",
            Box::new(move |c| {
                v0(c).compound_beacons.push(compound(
                    "Combo",
                    vec![enc_part("email", "C-")],
                    vec![signed_part("status", "C-x")],
                ))
            }),
            &["compound beacon \"Combo\"", "incompatible"],
        ),
        (
            "signed part on an encrypted attribute",
            Box::new(move |c| {
                v0(c).compound_beacons.push(compound(
                    "Combo",
                    vec![enc_part("email", "C-")],
                    vec![signed_part("card", "E-")],
                ))
            }),
            &[
                "compound beacon \"Combo\"",
                "signed part \"card\"",
                "not SIGN_ONLY",
            ],
        ),
        (
            "encrypted part that is not a standard beacon",
            Box::new(move |c| {
                v0(c)
                    .compound_beacons
                    .push(compound("Combo", vec![enc_part("zzz", "Z-")], vec![]))
            }),
            &["compound beacon \"Combo\"", "\"zzz\""],
        ),
        (
            "AsSet beacon as a part",
            Box::new(move |c| {
                let mut b = std_beacon("tags", 8);
                b.style = Some(BeaconStyle::AsSet);
                v0(c).standard_beacons.push(b);
                v0(c)
                    .compound_beacons
                    .push(compound("Combo", vec![enc_part("tags", "T-")], vec![]))
            }),
            &["compound beacon \"Combo\"", "AsSet"],
        ),
        (
            "PartOnly beacon in no compound beacon",
            Box::new(move |c| {
                let mut b = std_beacon("card", 8);
                b.style = Some(BeaconStyle::PartOnly);
                v0(c).standard_beacons.push(b)
            }),
            &["standard beacon \"card\"", "PartOnly"],
        ),
        (
            "shared with an undefined beacon",
            Box::new(move |c| {
                let mut b = std_beacon("card", 8);
                b.style = Some(BeaconStyle::Shared {
                    other: "nobody".into(),
                });
                v0(c).standard_beacons.push(b)
            }),
            &["standard beacon \"card\"", "\"nobody\""],
        ),
        (
            "shared with a beacon of another length",
            Box::new(move |c| {
                let mut b = std_beacon("card", 8);
                b.style = Some(BeaconStyle::Shared {
                    other: "email".into(),
                });
                v0(c).standard_beacons.push(b)
            }),
            &["standard beacon \"card\"", "length"],
        ),
        (
            "virtual field named like an attribute",
            Box::new(move |c| {
                v0(c)
                    .virtual_fields
                    .push(vfield("status", vec![("first", vec![])]))
            }),
            &["virtual field \"status\"", "configured attribute"],
        ),
        (
            "virtual field on an unsigned attribute",
            Box::new(move |c| {
                v0(c)
                    .virtual_fields
                    .push(vfield("V1", vec![("note", vec![])]))
            }),
            &["virtual field \"V1\"", "signed"],
        ),
        (
            "two virtual fields on the same locations",
            Box::new(move |c| {
                let vf = &mut v0(c).virtual_fields;
                vf.push(vfield("V1", vec![("first", vec![]), ("last", vec![])]));
                vf.push(vfield(
                    "V2",
                    vec![("last", vec![VT::Lower]), ("first", vec![])],
                ));
            }),
            &["virtual field \"V2\"", "\"V1\""],
        ),
        (
            "segment split of two characters",
            Box::new(move |c| {
                v0(c).virtual_fields.push(vfield(
                    "V1",
                    vec![(
                        "first",
                        vec![VT::Segment {
                            split: "ab".into(),
                            index: 0,
                        }],
                    )],
                ))
            }),
            &["virtual field \"V1\"", "one character"],
        ),
        (
            "numberOfPartitions not below the maximum",
            Box::new(move |c| {
                v0(c).maximum_number_of_partitions = Some(4);
                v0(c).standard_beacons[0].number_of_partitions = Some(4);
            }),
            &["standard beacon \"email\"", "numberOfPartitions"],
        ),
        (
            "defaultNumberOfPartitions not below the maximum",
            Box::new(move |c| {
                v0(c).maximum_number_of_partitions = Some(4);
                v0(c).default_number_of_partitions = Some(4);
            }),
            &["defaultNumberOfPartitions"],
        ),
        (
            "maximumNumberOfPartitions 255 (the reference refuses it)",
            Box::new(move |c| v0(c).maximum_number_of_partitions = Some(255)),
            &["maximumNumberOfPartitions"],
        ),
        (
            "no standard beacon",
            Box::new(move |c| v0(c).standard_beacons.clear()),
            &["at least one standard beacon"],
        ),
        (
            "version 2",
            Box::new(move |c| c.write_version = 2),
            &["writeVersion must be 1"],
        ),
        (
            "writeVersion not among the versions",
            Box::new(move |c| v0(c).version = 2),
            &["writeVersion 1 is not one of the configured versions"],
        ),
        (
            "cacheTTL 0",
            Box::new(move |c| {
                v0(c).key_source = BeaconKeySourceConfig::Single {
                    key_id: "k".into(),
                    cache_ttl_seconds: 0,
                    cache: None,
                    partition_id: None,
                }
            }),
            &["cacheTTL"],
        ),
        (
            "multi key field that is encrypted",
            Box::new(move |c| {
                v0(c).key_source = BeaconKeySourceConfig::Multi {
                    key_field_name: "card".into(),
                    cache_ttl_seconds: 60,
                    cache: None,
                    partition_id: None,
                }
            }),
            &["beacon key field \"card\"", "ENCRYPT_AND_SIGN"],
        ),
        (
            "multi key field named like a beacon",
            Box::new(move |c| {
                let mut b = std_beacon("Tenant", 8);
                b.loc = Some("card".into());
                v0(c).standard_beacons.push(b);
                v0(c).key_source = BeaconKeySourceConfig::Multi {
                    key_field_name: "Tenant".into(),
                    cache_ttl_seconds: 60,
                    cache: None,
                    partition_id: None,
                }
            }),
            &["beacon key field \"Tenant\"", "beacon of that name"],
        ),
    ];
    let table = table();
    for (what, edit, needles) in cases {
        let mut cfg = search(version(&w, vec![std_beacon("email", 16)]));
        edit(&mut cfg);
        let err = SearchInfo::new(cfg, &table).expect_err(what);
        assert_eq!(err.code(), "INVALID_CONFIG", "{what}: {err}");
        let msg = err.to_string();
        for n in needles {
            assert!(msg.contains(n), "{what}: {msg:?} lacks {n:?}");
        }
    }
    // The base configuration itself is fine.
    SearchInfo::new(search(version(&w, vec![std_beacon("email", 16)])), &table).unwrap();
}

#[test]
fn signed_beacons_become_sign_only_and_must_not_be_configured() {
    let w = world();
    let mut v = version(&w, vec![std_beacon("email", 16)]);
    v.compound_beacons.push(compound(
        "StatusKind",
        vec![],
        vec![signed_part("status", "S-"), signed_part("kind", "K-")],
    ));
    let table = table();
    let info = Arc::new(SearchInfo::new(search(v), &table).unwrap());
    assert_eq!(info.signed_beacon_names(), vec!["StatusKind".to_string()]);
    let mut with = table.clone();
    with.search = Some(info.clone());
    let enc = ItemEncryptor::new(with).unwrap();
    assert_eq!(
        enc.config().attribute_actions_on_encrypt.get("StatusKind"),
        Some(&A::SignOnly)
    );
    // A name given an action by the caller is refused (after SearchInfo::new).
    let mut clash = table.clone();
    clash
        .attribute_actions_on_encrypt
        .insert("StatusKind".into(), A::SignOnly);
    clash.search = Some(info);
    let Err(err) = ItemEncryptor::new(clash) else {
        panic!("a configured signed beacon name must be refused")
    };
    assert_eq!(err.code(), "INVALID_CONFIG");
    assert!(err.to_string().contains("StatusKind"), "{err}");
}

// ---------------------------------------------------------------------------
// Known answers from the spec's formulas.

#[test]
fn basic_hash_matches_the_spec_formula_for_every_length() {
    let key = spec_hmac_key(&[0x42; 32], "email");
    for length in 1..=63 {
        for data in [&b""[..], b"a", b"alice@example.com", &[0u8, 1, 2, 255]] {
            assert_eq!(
                basic_hash(&key, length, data, None),
                spec_basic_hash(&key, length, data),
                "length {length}"
            );
        }
    }
    // bytes_to_hex on its own: rightmost bits of 8 bytes.
    let b = [0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67];
    assert_eq!(bytes_to_hex(&b, 4), "7");
    assert_eq!(bytes_to_hex(&b, 5), "07");
    assert_eq!(bytes_to_hex(&b, 8), "67");
    assert_eq!(bytes_to_hex(&b, 13), "0567");
    assert_eq!(bytes_to_hex(&b, 63), "5eadbeef01234567");
}

#[test]
fn standard_beacon_value_matches_the_spec_formula() {
    let beacon_key = [0x11u8; 32];
    for (name, length, value) in [("email", 16, "alice@example.com"), ("card", 31, "4111")] {
        assert_eq!(
            standard_beacon_value(&beacon_key, name, length, &V::S(value.into())).unwrap(),
            spec_beacon(&beacon_key, name, length, value, 0)
        );
    }
    // Numbers are serialized normalized: "042.0" as "42".
    assert_eq!(
        standard_beacon_value(&beacon_key, "n", 20, &V::N("042.0".into())).unwrap(),
        spec_beacon(&beacon_key, "n", 20, "42", 0)
    );
    let err = standard_beacon_value(&beacon_key, "n", 64, &V::S("x".into())).unwrap_err();
    assert_eq!(err.code(), "INVALID_CONFIG");
}

/// A partition selector that always answers the same.
struct Fixed(u32);
impl PartitionSelector for Fixed {
    fn partition_number(&self, _item: &Item, _n: u32, table: &str) -> fieldseal::Result<u32> {
        assert_eq!(table, "Orders");
        Ok(self.0)
    }
}

fn rich_version(w: &World) -> BeaconVersionConfig {
    let email = std_beacon("email", 16);
    let mut tags = std_beacon("tags", 12);
    tags.style = Some(BeaconStyle::AsSet);
    let mut card = std_beacon("card", 20);
    card.style = Some(BeaconStyle::PartOnly);
    let mut name_tag = std_beacon("NameTag", 24);
    name_tag.loc = Some("NameTag".into());
    let mut v = version(w, vec![email, tags, card, name_tag]);
    v.virtual_fields.push(vfield(
        "NameTag",
        vec![
            ("first", vec![VT::Prefix { length: 1 }, VT::Lower]),
            ("last", vec![VT::Lower]),
        ],
    ));
    v.compound_beacons.push(compound(
        "CardStatus",
        vec![enc_part("card", "C-")],
        vec![signed_part("status", "S-")],
    ));
    v.compound_beacons.push(compound(
        "StatusKind",
        vec![],
        vec![signed_part("status", "S-"), signed_part("kind", "K-")],
    ));
    v
}

fn order() -> Item {
    Item::from([
        ("pk".to_string(), V::S("order#1".into())),
        ("sk".to_string(), V::N("1".into())),
        ("email".to_string(), V::S("alice@example.com".into())),
        ("card".to_string(), V::S("4111".into())),
        ("tags".to_string(), V::Ss(vec!["blue".into(), "red".into()])),
        ("first".to_string(), V::S("John".into())),
        ("last".to_string(), V::S("Smith".into())),
        ("status".to_string(), V::S("open".into())),
        ("kind".to_string(), V::S("retail".into())),
        ("note".to_string(), V::S("unsigned".into())),
    ])
}

fn encryptor_with(table: &ItemEncryptorConfig, v: BeaconVersionConfig) -> ItemEncryptor {
    let info = SearchInfo::new(search(v), table).unwrap();
    let mut cfg = table.clone();
    cfg.search = Some(Arc::new(info));
    ItemEncryptor::new(cfg).unwrap()
}

#[test]
fn encrypt_item_writes_beacons_equal_to_the_spec_formulas() {
    let w = world();
    let enc = encryptor_with(&table(), rich_version(&w));
    let sealed = run(enc.encrypt_item(&order())).unwrap();
    let bk = beacon_key_of("beacon-key");

    assert_eq!(
        sealed["aws_dbe_b_email"],
        V::S(spec_beacon(&bk, "email", 16, "alice@example.com", 0))
    );
    // AsSet: a set of the elements' beacons.
    assert_eq!(
        sealed["aws_dbe_b_tags"],
        V::Ss(vec![
            spec_beacon(&bk, "tags", 12, "blue", 0),
            spec_beacon(&bk, "tags", 12, "red", 0)
        ])
    );
    // A virtual field beacon: "jsmith" (virtual.md's NameTag example).
    assert_eq!(
        sealed["aws_dbe_b_NameTag"],
        V::S(spec_beacon(&bk, "NameTag", 24, "jsmith", 0))
    );
    // Compound: the default constructor (signed parts, then encrypted), prefixes, split.
    let card = spec_beacon(&bk, "card", 20, "4111", 0);
    assert_eq!(
        sealed["aws_dbe_b_CardStatus"],
        V::S(format!("S-open.C-{card}"))
    );
    // PartOnly: never stored on its own.
    assert!(!sealed.contains_key("aws_dbe_b_card"));
    // A signed beacon: plaintext, under its own name.
    assert_eq!(sealed["StatusKind"], V::S("S-open.K-retail".into()));
    // The version tag goes through the item encryptor, which leaves it out as the reference's does.
    assert!(!sealed.contains_key(VERSION_TAG));
    assert!(matches!(sealed["email"], V::B(_)));

    // Opening drops every aws_dbe_ attribute; the signed beacon stays (it is signed data).
    let opened = run(enc.decrypt_item(&sealed)).unwrap();
    let mut expected = order();
    expected.insert("StatusKind".into(), V::S("S-open.K-retail".into()));
    assert_eq!(opened, expected);

    // The signed beacon is signed: changing it fails verification.
    let mut tampered = sealed.clone();
    tampered.insert("StatusKind".into(), V::S("S-closed.K-retail".into()));
    assert_eq!(
        run(enc.decrypt_item(&tampered)).unwrap_err().code(),
        "INTEGRITY_FAILURE"
    );
    // A supplied signed beacon must match the computed one.
    let mut lying = order();
    lying.insert("StatusKind".into(), V::S("S-x.K-y".into()));
    assert_eq!(
        run(enc.encrypt_item(&lying)).unwrap_err().code(),
        "INVALID_ITEM"
    );
    let mut honest = order();
    honest.insert("StatusKind".into(), V::S("S-open.K-retail".into()));
    run(enc.encrypt_item(&honest)).unwrap();
    // aws_dbe_ names are refused on write.
    let mut reserved = order();
    reserved.insert("aws_dbe_b_email".into(), V::S("x".into()));
    assert_eq!(
        run(enc.encrypt_item(&reserved)).unwrap_err().code(),
        "INVALID_ITEM"
    );
    // One key store read for all of it: the beacon keys are cached.
    assert_eq!(w.storage.gets.load(Ordering::SeqCst), 1);
}

#[test]
fn a_missing_source_means_no_beacon() {
    let w = world();
    let enc = encryptor_with(&table(), rich_version(&w));
    let mut item = order();
    item.remove("card");
    item.remove("last");
    let sealed = run(enc.encrypt_item(&item)).unwrap();
    assert!(!sealed.contains_key("aws_dbe_b_CardStatus"));
    assert!(!sealed.contains_key("aws_dbe_b_NameTag"));
    assert!(sealed.contains_key("aws_dbe_b_email"));
}

#[test]
fn partitions_append_the_constrained_partition_byte() {
    let w = world();
    let mut v = rich_version(&w);
    v.maximum_number_of_partitions = Some(5);
    v.standard_beacons[0].number_of_partitions = Some(2);
    v.partition_selector = Some(Arc::new(Fixed(3)));
    let enc = encryptor_with(&table(), v);
    let sealed = run(enc.encrypt_item(&order())).unwrap();
    let bk = beacon_key_of("beacon-key");
    // email has numberOfPartitions 2: partition 3 % 2 = 1.
    assert_eq!(
        sealed["aws_dbe_b_email"],
        V::S(spec_beacon(&bk, "email", 16, "alice@example.com", 1))
    );
    // NameTag takes the default (the maximum, 5): partition 3.
    assert_eq!(
        sealed["aws_dbe_b_NameTag"],
        V::S(spec_beacon(&bk, "NameTag", 24, "jsmith", 3))
    );

    // A selector answering out of range fails the write.
    let mut v = rich_version(&w);
    v.maximum_number_of_partitions = Some(5);
    v.partition_selector = Some(Arc::new(Fixed(5)));
    let enc = encryptor_with(&table(), v);
    assert_eq!(
        run(enc.encrypt_item(&order())).unwrap_err().code(),
        "INVALID_CONFIG"
    );
}

#[test]
fn shared_and_shared_set_beacons_use_the_other_beacons_key() {
    let w = world();
    let mut card = std_beacon("card", 16);
    card.style = Some(BeaconStyle::Shared {
        other: "email".into(),
    });
    let mut tags = std_beacon("tags", 16);
    tags.style = Some(BeaconStyle::SharedSet {
        other: "email".into(),
    });
    let enc = encryptor_with(
        &table(),
        version(&w, vec![std_beacon("email", 16), card, tags]),
    );
    let mut item = order();
    item.insert("card".into(), V::S("alice@example.com".into()));
    let sealed = run(enc.encrypt_item(&item)).unwrap();
    let bk = beacon_key_of("beacon-key");
    assert_eq!(sealed["aws_dbe_b_card"], sealed["aws_dbe_b_email"]);
    assert_eq!(
        sealed["aws_dbe_b_tags"],
        V::Ss(vec![
            spec_beacon(&bk, "email", 16, "blue", 0),
            spec_beacon(&bk, "email", 16, "red", 0)
        ])
    );
}

#[test]
fn multi_key_store_reads_the_beacon_key_id_from_the_header() {
    let w = world();
    let mut v = version(&w, vec![std_beacon("email", 16)]);
    v.key_source = BeaconKeySourceConfig::Multi {
        key_field_name: "tenant".into(),
        cache_ttl_seconds: 60,
        cache: None,
        partition_id: Some("p".into()),
    };
    let mut t = table();
    t.keyring = Arc::new(
        AwsKmsHierarchicalKeyring::new(HierarchicalKeyringConfig {
            key_store: w.store.clone(),
            branch_key_id: BranchKeyIdSource::Fixed("tenant-a".into()),
            ttl_seconds: 600,
            cache: Arc::new(fieldseal::cache::MaterialsCache::new(10, w.clock.clone()).unwrap()),
            partition_id: b"k".to_vec(),
        })
        .unwrap(),
    );
    let enc = encryptor_with(&t, v.clone());
    let mut item = order();
    item.insert("tenant".into(), V::S("tenant-a".into()));
    let sealed = run(enc.encrypt_item(&item)).unwrap();
    // The key field is not configured, so it is not written.
    assert!(!sealed.contains_key("tenant"));
    assert_eq!(
        sealed["aws_dbe_b_email"],
        V::S(spec_beacon(
            &beacon_key_of("tenant-a"),
            "email",
            16,
            "alice@example.com",
            0
        ))
    );
    let mut expected = item.clone();
    expected.remove("tenant");
    assert_eq!(run(enc.decrypt_item(&sealed)).unwrap(), expected);

    // Without a hierarchical keyring there is no beacon key id to read.
    let enc = encryptor_with(&table(), v);
    let err = run(enc.encrypt_item(&item)).unwrap_err();
    assert_eq!(err.code(), "INVALID_CONFIG");
    assert!(err.to_string().contains("aws-kms-hierarchy"), "{err}");
}

#[test]
fn beacon_key_cache_respects_each_sources_ttl() {
    let w = world();
    let shared = Arc::new(BeaconKeyCache::new(10, w.clock.clone()).unwrap());
    let with_ttl = |ttl: u32| {
        let mut v = version(&w, vec![std_beacon("email", 16)]);
        v.key_source = BeaconKeySourceConfig::Single {
            key_id: "beacon-key".into(),
            cache_ttl_seconds: ttl,
            cache: Some(shared.clone()),
            partition_id: Some("same".into()),
        };
        encryptor_with(&table(), v)
    };
    let long = with_ttl(600);
    let short = with_ttl(10);
    let gets = || w.storage.gets.load(Ordering::SeqCst);
    run(long.encrypt_item(&order())).unwrap();
    assert_eq!(gets(), 1);
    run(short.encrypt_item(&order())).unwrap();
    assert_eq!(gets(), 1, "same partition id: the entry is shared");
    w.clock.0.fetch_add(20_000, Ordering::SeqCst);
    run(long.encrypt_item(&order())).unwrap();
    assert_eq!(gets(), 1, "20 s is within the long TTL");
    // cacheEntryWithinLimits: 20 s exceeds the short source's 10 s TTL.
    run(short.encrypt_item(&order())).unwrap();
    assert_eq!(gets(), 2);
    w.clock.0.fetch_add(601_000, Ordering::SeqCst);
    run(long.encrypt_item(&order())).unwrap();
    assert_eq!(gets(), 3, "past the TTL the key store is read again");
}

#[test]
fn beacon_cache_id_follows_the_spec() {
    use sha2::Digest;
    let mut want = sha2::Sha384::new();
    want.update([0x02, 0x00, 0x03, 0x00]);
    want.update(b"partition");
    want.update([0x00]);
    want.update(b"store");
    want.update([0x00]);
    want.update(b"key-id");
    let want: [u8; 48] = want.finalize().into();
    assert_eq!(beacon_cache_id(b"partition", "store", "key-id"), want);
}

#[test]
fn beacon_keys_never_show_in_debug() {
    let keys = BeaconKeys::derive("id", &[0xab; 32], ["email"]);
    let hk = spec_hmac_key(&[0xab; 32], "email");
    assert_eq!(keys.hmac_key("email"), Some(&hk[..]));
    let shown = format!("{keys:?}");
    assert!(shown.contains("email") && shown.contains("id"), "{shown}");
    let hex: String = hk[..4].iter().map(|b| format!("{b:02x}")).collect();
    assert!(!shown.contains(&hex), "{shown}");
    assert!(!shown.contains(&format!("{:?}", &hk[..4])[1..8]), "{shown}");
}

// ---------------------------------------------------------------------------
// Virtual fields and terminal locations.

fn u(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn s16(v: &[u16]) -> String {
    String::from_utf16(v).unwrap()
}

#[test]
fn positions_follow_the_reference() {
    // Virtual.dfy's GetPosTest lemma.
    for (pos, want) in [
        (0, 0),
        (1, 1),
        (4, 4),
        (5, 4),
        (-1, 4),
        (-2, 3),
        (-5, 0),
        (-6, 0),
    ] {
        assert_eq!(get_pos(pos, 5), want, "GetPos({pos}, 5)");
    }
    assert_eq!(get_pos(3, 0), 0);
}

#[test]
fn transforms_follow_virtual_md_and_the_reference() {
    let s = u("abcdef");
    let cases: Vec<(&str, Vec<u16>, &str)> = vec![
        ("prefix 2", get_prefix(&s, 2).to_vec(), "ab"),
        ("prefix 99", get_prefix(&s, 99).to_vec(), "abcdef"),
        ("prefix -2", get_prefix(&s, -2).to_vec(), "abcd"),
        ("prefix -99", get_prefix(&s, -99).to_vec(), ""),
        ("suffix 2", get_suffix(&s, 2).to_vec(), "ef"),
        ("suffix 99", get_suffix(&s, 99).to_vec(), "abcdef"),
        ("suffix -2", get_suffix(&s, -2).to_vec(), "cdef"),
        ("suffix -99", get_suffix(&s, -99).to_vec(), ""),
        ("substring 1..3", get_substring(&s, 1, 3).to_vec(), "bc"),
        ("substring -3..-1", get_substring(&s, -3, -1).to_vec(), "de"),
        ("substring 3..1", get_substring(&s, 3, 1).to_vec(), ""),
        // The reference clamps high to the last index (virtual.md says "just
        // after"): the code wins, so the last character is dropped.
        (
            "substring 0..99",
            get_substring(&s, 0, 99).to_vec(),
            "abcde",
        ),
        ("segment 1", get_segment(&u("a.b.c"), '.' as u16, 1), "b"),
        ("segment -1", get_segment(&u("a.b.c"), '.' as u16, -1), "c"),
        ("segment 3", get_segment(&u("a.b.c"), '.' as u16, 3), ""),
        ("segment -4", get_segment(&u("a.b.c"), '.' as u16, -4), ""),
        (
            "segments 1..3",
            get_segments(&u("a.b.c.d"), '.' as u16, 1, 3),
            "b.c",
        ),
        (
            "segments 1..99",
            get_segments(&u("a.b.c.d"), '.' as u16, 1, 99),
            "b.c",
        ),
        (
            "segments -3..-1",
            get_segments(&u("a.b.c.d"), '.' as u16, -3, -1),
            "b.c",
        ),
        (
            "segments 2..1",
            get_segments(&u("a.b.c.d"), '.' as u16, 2, 1),
            "",
        ),
        (
            "upper",
            Transform::Upper.apply(&u("straße Ab1")),
            "STRAßE AB1",
        ),
        ("lower", Transform::Lower.apply(&u("ÀB-Cd")), "Àb-cd"),
        ("insert", Transform::Insert(u("!?")).apply(&u("x")), "x!?"),
    ];
    for (what, got, want) in cases {
        assert_eq!(s16(&got), want, "{what}");
    }
    // Lengths count UTF-16 code units, as the DB-ESDK's strings.
    assert_eq!(s16(get_prefix(&u("😀x"), 2)), "😀");
    assert_eq!(s16(get_suffix(&u("a😀"), 2)), "😀");
}

#[test]
fn virtual_field_values() {
    let item = order();
    let field = |parts: Vec<(&str, Vec<VT>)>| VirtualField::parse(&vfield("V", parts)).unwrap();
    // virtual.md's NameTag: first letter of FirstName, then LastName, lowercase.
    let name_tag = field(vec![
        ("first", vec![VT::Prefix { length: 1 }, VT::Lower]),
        ("last", vec![VT::Lower]),
    ]);
    assert_eq!(
        name_tag.get_value(&item).unwrap().as_deref(),
        Some("jsmith")
    );
    // A missing part: no value.
    let mut partial = item.clone();
    partial.remove("last");
    assert_eq!(name_tag.get_value(&partial).unwrap(), None);
    // Numbers as written, BOOL and NULL spelled out.
    let mixed = Item::from([
        ("n".to_string(), V::N("01.50".into())),
        ("b".to_string(), V::Bool(true)),
        ("z".to_string(), V::Null),
    ]);
    let f = field(vec![
        ("n", vec![]),
        (
            "b",
            vec![VT::Insert {
                literal: "/".into(),
            }],
        ),
        ("z", vec![VT::Upper]),
    ]);
    assert_eq!(
        f.get_value(&mixed).unwrap().as_deref(),
        Some("01.50true/NULL")
    );
    // A transform that splits a surrogate pair makes an invalid value.
    let emoji = Item::from([("e".to_string(), V::S("😀".into()))]);
    let cut = field(vec![("e", vec![VT::Prefix { length: 1 }])]);
    assert_eq!(cut.get_value(&emoji).unwrap_err().code(), "INVALID_ITEM");
    // A list is not a string.
    let list = Item::from([("l".to_string(), V::L(vec![]))]);
    assert!(field(vec![("l", vec![])]).get_value(&list).is_err());
}

#[test]
fn terminal_locations() {
    let loc = TermLoc::parse("a.b[2].c").unwrap();
    assert_eq!(loc.to_string(), "a.b[2].c");
    assert_eq!(loc.key(), "a");
    let item = Item::from([(
        "a".to_string(),
        V::M(BTreeMap::from([(
            "b".to_string(),
            V::L(vec![
                V::Null,
                V::Null,
                V::M(BTreeMap::from([("c".to_string(), V::S("deep".into()))])),
            ]),
        )])),
    )]);
    assert_eq!(loc.term_to_attr(&item, None), Some(V::S("deep".into())));
    assert_eq!(
        TermLoc::parse("a.b[7].c")
            .unwrap()
            .term_to_attr(&item, None),
        None
    );
    assert_eq!(
        TermLoc::parse("a[0]").unwrap().term_to_attr(&item, None),
        None
    );
    // The reference reads the first digit at every step: [12] is index 11.
    assert_eq!(TermLoc::parse("x[12]").unwrap().to_string(), "x[11]");
    assert_eq!(TermLoc::parse("x[3]").unwrap().to_string(), "x[3]");
    for bad in ["", "x[1", "x[a]"] {
        assert!(TermLoc::parse(bad).is_err(), "{bad:?}");
    }
    // Query names: #n stands for a map key.
    let names = BTreeMap::from([("#c".to_string(), "c".to_string())]);
    assert_eq!(
        TermLoc::parse("a.b[2].#c")
            .unwrap()
            .term_to_attr(&item, Some(&names)),
        Some(V::S("deep".into()))
    );
}

// ---------------------------------------------------------------------------
// Compound beacons in queries.

fn compound_info(w: &World) -> SearchInfo {
    let mut card = std_beacon("card", 20);
    card.style = Some(BeaconStyle::PartOnly);
    card.number_of_partitions = Some(2);
    let mut email = std_beacon("email", 16);
    email.style = Some(BeaconStyle::PartOnly);
    email.number_of_partitions = Some(3);
    let mut v = version(w, vec![card, email]);
    v.maximum_number_of_partitions = Some(10);
    let mut cb = compound(
        "Combo",
        vec![enc_part("card", "C-"), enc_part("email", "E-")],
        vec![signed_part("status", "S-")],
    );
    cb.constructors = vec![
        constructor(&[("status", true), ("card", true), ("email", false)]),
        constructor(&[("email", true)]),
    ];
    v.compound_beacons.push(cb);
    SearchInfo::new(search(v), &table()).unwrap()
}

fn combo(info: &SearchInfo) -> &fieldseal::beacon::CompoundBeacon {
    match &info.curr().beacons["Combo"] {
        Beacon::Compound(c) => c,
        Beacon::Standard(_) => unreachable!("Combo is compound"),
    }
}

#[test]
fn less_than_comparable_pieces() {
    let w = world();
    let info = compound_info(&w);
    let c = combo(&info);
    for (pieces, want) in [
        (vec!["S-open"], Some(true)),
        (vec!["S-open", "C-"], Some(true)),
        (vec!["S-open", "C-4111"], Some(false)),
        (vec!["C-"], Some(true)),
        (vec!["C-4111"], Some(false)),
        (vec!["C-", "E-"], Some(false)),
        (vec![], Some(true)),
        (vec!["X-1"], None),
    ] {
        let got = c.is_less_than_comparable(&pieces).ok();
        assert_eq!(got, want, "{pieces:?}");
    }
}

#[test]
fn compound_query_values() {
    let w = world();
    let info = compound_info(&w);
    let bv = info.curr();
    let keys = run(bv.get_key_map(&fieldseal::beacon::MaybeKeyId::DontUseKeyId)).unwrap();
    let b = &bv.beacons["Combo"];
    let bk = beacon_key_of("beacon-key");
    let q = |v: &str, eq: bool| b.get_beacon_value(&V::S(v.into()), &keys, eq, false, 0);
    let card = spec_beacon(&bk, "card", 20, "4111", 0);
    assert_eq!(
        q("S-open.C-4111", true).unwrap(),
        V::S(format!("S-open.C-{card}"))
    );
    // begins_with keeps a trailing bare prefix; equality hashes it.
    assert_eq!(q("S-open.C-", false).unwrap(), V::S("S-open.C-".into()));
    assert_eq!(
        q("S-open.C-", true).unwrap(),
        V::S(format!("S-open.C-{}", spec_beacon(&bk, "card", 20, "", 0)))
    );
    // Out of constructor order, unknown prefix, not a string: refused.
    assert!(q("C-4111.S-open", true).is_err());
    assert!(q("Q-1", true).is_err());
    assert!(b
        .get_beacon_value(&V::N("1".into()), &keys, true, false, 0)
        .is_err());
    // A standard beacon needs a key: ShouldHaveKeys fails, DontUseKeys passes values through.
    assert_eq!(
        b.get_beacon_value(
            &V::S("S-open.C-1".into()),
            &MaybeKeyMap::ShouldHaveKeys,
            true,
            false,
            0
        )
        .unwrap_err()
        .code(),
        "REQUEST_REFUSED"
    );
    assert_eq!(
        b.get_beacon_value(&V::S("x".into()), &MaybeKeyMap::DontUseKeys, true, false, 0)
            .unwrap(),
        V::S("x".into())
    );
    // Queries per value: the lcm of its encrypted parts' partition counts.
    assert_eq!(b.get_num_queries(10, "S-open.C-1"), 2);
    assert_eq!(b.get_num_queries(10, "S-open.C-1.E-x"), 6);
    assert_eq!(b.get_num_queries(4, "S-open.C-1.E-x"), 4);
    assert_eq!(b.get_num_queries(10, "E-x"), 3);
    assert_eq!(b.get_num_queries(10, "not a value"), 1);
    assert_eq!(lcm_seq(&[2, 3, 4], 100), 12);
    assert_eq!(lcm_seq(&[6, 10], 20), 20);
}

#[test]
fn resolve_attributes_gives_plaintext_virtual_fields_and_compound_beacons() {
    let w = world();
    let enc = encryptor_with(&table(), rich_version(&w));
    let (vf, cb) = enc.resolve_attributes(&order(), None).unwrap();
    assert_eq!(
        vf,
        BTreeMap::from([("NameTag".to_string(), "jsmith".to_string())])
    );
    assert_eq!(
        cb,
        BTreeMap::from([
            ("CardStatus".to_string(), "S-open.C-4111".to_string()),
            ("StatusKind".to_string(), "S-open.K-retail".to_string()),
        ])
    );
    assert_eq!(
        enc.resolve_attributes(&order(), Some(2))
            .unwrap_err()
            .code(),
        "REQUEST_REFUSED"
    );
    // No key store call: nothing is hashed.
    assert_eq!(w.storage.gets.load(Ordering::SeqCst), 0);
    // Without search: empty.
    let plain = ItemEncryptor::new(table()).unwrap();
    let (vf, cb) = plain.resolve_attributes(&order(), Some(1)).unwrap();
    assert!(vf.is_empty() && cb.is_empty());
}

#[test]
fn split_character_in_a_value_fails_the_write() {
    let w = world();
    let enc = encryptor_with(&table(), rich_version(&w));
    let mut item = order();
    item.insert("status".into(), V::S("open.now".into()));
    let err = run(enc.encrypt_item(&item)).unwrap_err();
    assert_eq!(err.code(), "INVALID_ITEM");
    assert!(
        !err.to_string().contains("open.now"),
        "no plaintext in errors: {err}"
    );
}
