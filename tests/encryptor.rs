//! Item encryptor behaviour: round trips, config rules, tampering, malformed input.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use common::{actions, orders_config};
use fieldseal::encryptor::DEFAULT_MAX_ENCRYPTED_DATA_KEYS;
use fieldseal::format::header::PartialHeader;
use fieldseal::keyring::{MultiKeyring, RawAesKeyring};
use fieldseal::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use fieldseal::{
    AlgorithmSuiteId, AttributeValue as V, CryptoAction as A, Item, ItemEncryptor,
    ItemEncryptorConfig, Keyring,
};
use pollster::block_on;
use proptest::prelude::*;

const SUITES: [AlgorithmSuiteId; 2] = [
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
];

fn aes(key_byte: u8) -> Arc<RawAesKeyring> {
    Arc::new(RawAesKeyring::new("ns", "k1", &[key_byte; 32]).unwrap())
}

fn config(suite: AlgorithmSuiteId) -> ItemEncryptorConfig {
    let mut c = orders_config(
        &[
            ("pk", A::SignOnly),
            ("sk", A::SignOnly),
            ("card", A::EncryptAndSign),
            ("name", A::EncryptAndSign),
            ("tags", A::EncryptAndSign),
            ("amount", A::SignOnly),
            ("note", A::DoNothing),
        ],
        aes(7),
    );
    c.allowed_unsigned_attribute_prefix = Some(":".into());
    c.algorithm_suite_id = suite;
    c
}

fn item() -> Item {
    let mut m = BTreeMap::new();
    m.insert("street".to_string(), V::S("1 Main St".into()));
    m.insert("zip".to_string(), V::N("01234".into()));
    [
        ("pk", V::S("order#1".into())),
        ("sk", V::N("42".into())),
        ("card", V::S("4111 1111 1111 1111".into())),
        ("name", V::M(m)),
        ("tags", V::Ss(vec!["b".into(), "a".into()])),
        ("amount", V::N("19.990".into())),
        ("note", V::S("unsigned".into())),
        (":ttl", V::N("1700000000".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// What decrypt gives back: encrypted attributes in canonical form (numbers
/// normalized, sets sorted), everything else exactly as it went in.
fn opened_form(item: &Item, config: &ItemEncryptorConfig) -> Item {
    item.iter()
        .map(|(k, v)| {
            let v = match config.attribute_actions_on_encrypt.get(k) {
                Some(A::EncryptAndSign) => fieldseal::item::serialize::canonicalize(v).unwrap(),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn seal(suite: AlgorithmSuiteId) -> (ItemEncryptor, Item) {
    let enc = ItemEncryptor::new(config(suite)).unwrap();
    let sealed = block_on(enc.encrypt_item(&item())).unwrap();
    (enc, sealed)
}

#[test]
fn round_trip_both_suites() {
    for suite in SUITES {
        let (enc, sealed) = seal(suite);
        assert!(matches!(sealed["card"], V::B(_)), "card must be encrypted");
        assert!(matches!(sealed["name"], V::B(_)));
        assert!(matches!(sealed["tags"], V::B(_)));
        assert_eq!(sealed["pk"], V::S("order#1".into()));
        assert_eq!(sealed["note"], V::S("unsigned".into()));
        assert!(sealed.contains_key("aws_dbe_head") && sealed.contains_key("aws_dbe_foot"));
        let V::B(foot) = &sealed["aws_dbe_foot"] else {
            panic!("footer not binary")
        };
        assert_eq!(foot.len(), if suite.is_signing() { 48 + 103 } else { 48 });
        let V::B(card) = &sealed["card"] else {
            unreachable!()
        };
        assert!(!card.windows(4).any(|w| w == b"4111"), "plaintext leaked");
        let opened = block_on(enc.decrypt_item(&sealed)).unwrap();
        assert_eq!(opened, opened_form(&item(), enc.config()));
    }
}

#[test]
fn encryptor_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ItemEncryptor>();
    let (enc, sealed) = seal(SUITES[0]);
    let enc = Arc::new(enc);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (enc, sealed) = (enc.clone(), sealed.clone());
            std::thread::spawn(move || block_on(enc.decrypt_item(&sealed)).unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), opened_form(&item(), enc.config()));
    }
}

#[test]
fn every_seal_is_fresh() {
    let (enc, a) = seal(SUITES[0]);
    let b = block_on(enc.encrypt_item(&item())).unwrap();
    assert_ne!(a["aws_dbe_head"], b["aws_dbe_head"]);
    assert_ne!(a["card"], b["card"]);
}

#[test]
fn v2_context_attributes_round_trip() {
    for suite in SUITES {
        let mut c = config(suite);
        c.attribute_actions_on_encrypt = actions(&[
            ("pk", A::SignAndIncludeInEncryptionContext),
            ("sk", A::SignAndIncludeInEncryptionContext),
            ("card", A::EncryptAndSign),
            ("name", A::SignAndIncludeInEncryptionContext),
            ("tags", A::SignAndIncludeInEncryptionContext),
            ("amount", A::SignAndIncludeInEncryptionContext),
            ("note", A::DoNothing),
        ]);
        let enc = ItemEncryptor::new(c).unwrap();
        let sealed = block_on(enc.encrypt_item(&item())).unwrap();
        let V::B(head) = &sealed["aws_dbe_head"] else {
            panic!()
        };
        assert_eq!(
            head[0], 2,
            "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT needs header v2"
        );
        assert_eq!(
            block_on(enc.decrypt_item(&sealed)).unwrap(),
            opened_form(&item(), enc.config())
        );
        // The context binds the value: a changed amount must not open.
        let mut bad = sealed.clone();
        bad.insert("amount".into(), V::N("20".into()));
        assert!(block_on(enc.decrypt_item(&bad)).is_err());
    }
}

/// aws-db-esdk's EncryptItem refuses an item that lacks a
/// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute (ContextAttrsExist); an
/// item it would not write must not be sealed here either.
#[test]
fn missing_context_attribute_is_refused_on_encrypt() {
    let mut c = config(SUITES[0]);
    for name in ["pk", "sk", "amount", "region"] {
        c.attribute_actions_on_encrypt
            .insert(name.into(), A::SignAndIncludeInEncryptionContext);
    }
    let enc = ItemEncryptor::new(c).unwrap();

    let mut one_missing = item();
    one_missing.insert("region".into(), V::S("eu".into()));
    one_missing.remove("amount");
    let e = block_on(enc.encrypt_item(&one_missing)).unwrap_err();
    assert_eq!(e.code(), "INVALID_ITEM", "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("\"amount\"") && msg.contains("SIGN_AND_INCLUDE"),
        "{msg}"
    );
    assert!(!msg.contains("region"), "{msg}");

    // Both missing: both named, sorted.
    let mut both_missing = item();
    both_missing.remove("amount");
    let e = block_on(enc.encrypt_item(&both_missing)).unwrap_err();
    assert_eq!(e.code(), "INVALID_ITEM", "{e}");
    assert!(e.to_string().contains(r#"["amount", "region"]"#), "{e}");

    // With the attributes present the item seals and opens.
    let mut full = item();
    full.insert("region".into(), V::S("eu".into()));
    let sealed = block_on(enc.encrypt_item(&full)).unwrap();
    assert_eq!(
        block_on(enc.decrypt_item(&sealed)).unwrap(),
        opened_form(&full, enc.config())
    );
}

fn expect_failure(enc: &ItemEncryptor, item: &Item, what: &str) -> fieldseal::Error {
    match block_on(enc.decrypt_item(item)) {
        Ok(_) => panic!("decrypt succeeded after {what}"),
        Err(e) => e,
    }
}

#[test]
fn flipping_any_header_or_footer_byte_fails() {
    for suite in SUITES {
        let (enc, sealed) = seal(suite);
        for field in ["aws_dbe_head", "aws_dbe_foot"] {
            let V::B(bytes) = &sealed[field] else {
                panic!()
            };
            for i in 0..bytes.len() {
                let mut t = bytes.clone();
                t[i] ^= 0x01;
                let mut bad = sealed.clone();
                bad.insert(field.into(), V::B(t));
                expect_failure(&enc, &bad, &format!("flipping byte {i} of {field}"));
            }
        }
    }
}

#[test]
fn flipping_any_field_byte_fails_with_integrity_error() {
    let (enc, sealed) = seal(SUITES[1]);
    for field in ["card", "name", "tags"] {
        let V::B(bytes) = &sealed[field] else {
            panic!()
        };
        for i in 0..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x80;
            let mut bad = sealed.clone();
            bad.insert(field.into(), V::B(t));
            let e = expect_failure(&enc, &bad, &format!("flipping byte {i} of {field}"));
            assert_eq!(e.code(), "INTEGRITY_FAILURE", "{field}[{i}]: {e}");
        }
    }
}

#[test]
fn changing_signed_plaintext_fails() {
    let (enc, sealed) = seal(SUITES[0]);
    for (field, v) in [
        ("amount", V::N("19.98".into())),
        ("pk", V::S("order#2".into())),
        ("sk", V::N("43".into())),
        ("amount", V::S("19.99".into())),
    ] {
        let mut bad = sealed.clone();
        bad.insert(field.into(), v);
        expect_failure(&enc, &bad, &format!("changing {field}"));
    }
}

#[test]
fn swapping_encrypted_fields_fails() {
    let (enc, sealed) = seal(SUITES[0]);
    let mut bad = sealed.clone();
    bad.insert("card".into(), sealed["name"].clone());
    bad.insert("name".into(), sealed["card"].clone());
    expect_failure(&enc, &bad, "swapping card and name");
    // A field from another sealed item of the same key does not fit either.
    let other = block_on(enc.encrypt_item(&item())).unwrap();
    let mut bad = sealed.clone();
    bad.insert("card".into(), other["card"].clone());
    expect_failure(&enc, &bad, "splicing a field from another record");
}

#[test]
fn dropping_or_adding_signed_attributes_fails_but_unsigned_is_free() {
    let (enc, sealed) = seal(SUITES[1]);
    for drop in ["card", "amount", "aws_dbe_foot", "aws_dbe_head"] {
        let mut bad = sealed.clone();
        bad.remove(drop);
        expect_failure(&enc, &bad, &format!("dropping {drop}"));
    }
    let mut bad = sealed.clone();
    bad.insert("extra".into(), V::S("x".into()));
    let e = expect_failure(&enc, &bad, "adding a signed-scope attribute");
    assert_eq!(e.code(), "INTEGRITY_FAILURE");

    let mut ok = sealed.clone();
    ok.insert(":added".into(), V::Bool(true));
    ok.remove("note");
    let opened = block_on(enc.decrypt_item(&ok)).unwrap();
    assert_eq!(opened[":added"], V::Bool(true));
    assert!(!opened.contains_key("note"));
}

#[test]
fn wrong_key_or_table_fails() {
    let (_, sealed) = seal(SUITES[0]);
    let mut c = config(SUITES[0]);
    c.keyring = aes(8);
    // The same key name with other bytes: the wrapped key does not verify,
    // and the raw AES keyring cannot tell that from a moved item.
    let e = expect_failure(&ItemEncryptor::new(c).unwrap(), &sealed, "wrong key");
    assert_eq!(e.code(), "INTEGRITY_FAILURE", "{e}");
    assert!(e.to_string().contains("other key material"), "{e}");

    let mut c = config(SUITES[0]);
    c.logical_table_name = "Other".into();
    let e = expect_failure(&ItemEncryptor::new(c).unwrap(), &sealed, "wrong table name");
    assert_eq!(e.code(), "INTEGRITY_FAILURE", "{e}");

    // Moved under another partition key: the key is in the encryption
    // context, which the header does not store, and the keyring refuses it.
    let mut moved = sealed.clone();
    moved.insert("pk".into(), V::S("another-key".into()));
    let e = expect_failure(
        &ItemEncryptor::new(config(SUITES[0])).unwrap(),
        &moved,
        "moved",
    );
    assert_eq!(e.code(), "INTEGRITY_FAILURE", "{e}");
    assert!(e.to_string().contains("altered or moved"), "{e}");
}

#[test]
fn suite_is_read_from_the_header() {
    let (_, sealed) = seal(SUITES[1]);
    // A decryptor configured for the other suite still opens it, as the DB-ESDK does.
    let enc = ItemEncryptor::new(config(SUITES[0])).unwrap();
    assert_eq!(
        block_on(enc.decrypt_item(&sealed)).unwrap(),
        opened_form(&item(), enc.config())
    );
}

#[test]
fn truncated_or_mangled_headers_give_errors_not_panics() {
    let (enc, sealed) = seal(SUITES[1]);
    let V::B(head) = &sealed["aws_dbe_head"] else {
        panic!()
    };
    for len in 0..head.len() {
        let mut bad = sealed.clone();
        bad.insert("aws_dbe_head".into(), V::B(head[..len].to_vec()));
        expect_failure(&enc, &bad, &format!("truncating the header to {len}"));
    }
    let mut longer = head.clone();
    longer.push(0);
    let mut bad = sealed.clone();
    bad.insert("aws_dbe_head".into(), V::B(longer));
    assert_eq!(
        expect_failure(&enc, &bad, "extending").code(),
        "MALFORMED_CIPHERTEXT"
    );
    for junk in [vec![0xffu8; 40], vec![1, 1], vec![], vec![9; 300]] {
        let mut bad = sealed.clone();
        bad.insert("aws_dbe_head".into(), V::B(junk));
        expect_failure(&enc, &bad, "junk header");
    }
    let mut bad = sealed.clone();
    bad.insert("aws_dbe_head".into(), V::S("not binary".into()));
    assert_eq!(
        expect_failure(&enc, &bad, "string header").code(),
        "MALFORMED_CIPHERTEXT"
    );
    let mut bad = sealed.clone();
    bad.insert("card".into(), V::B(vec![0, 1, 2]));
    expect_failure(&enc, &bad, "short encrypted field");
    let mut bad = sealed.clone();
    bad.insert("card".into(), V::S("plain".into()));
    expect_failure(&enc, &bad, "encrypted field replaced by a string");
}

#[test]
fn plaintext_item_is_refused_on_decrypt() {
    let enc = ItemEncryptor::new(config(SUITES[0])).unwrap();
    let e = block_on(enc.decrypt_item(&item())).unwrap_err();
    assert_eq!(e.code(), "INVALID_ITEM");
}

#[test]
fn encrypt_input_rules() {
    let enc = ItemEncryptor::new(config(SUITES[0])).unwrap();
    let cases: Vec<(&str, Item)> = vec![
        ("missing partition key", {
            let mut i = item();
            i.remove("pk");
            i
        }),
        ("missing sort key", {
            let mut i = item();
            i.remove("sk");
            i
        }),
        ("unconfigured attribute", {
            let mut i = item();
            i.insert("surprise".into(), V::S("x".into()));
            i
        }),
        ("reserved attribute name", {
            let mut i = item();
            i.insert("aws_dbe_head".into(), V::B(vec![1]));
            i
        }),
        ("invalid number", {
            let mut i = item();
            i.insert("amount".into(), V::N("12abc".into()));
            i
        }),
    ];
    for (what, bad) in cases {
        let e = block_on(enc.encrypt_item(&bad)).unwrap_err();
        assert_eq!(e.code(), "INVALID_ITEM", "{what}: {e}");
    }
}

#[test]
fn config_rules() {
    let base = config(SUITES[0]);
    let mut cases: Vec<(&str, ItemEncryptorConfig)> = Vec::new();
    let mut c = base.clone();
    c.attribute_actions_on_encrypt
        .insert("pk".into(), A::EncryptAndSign);
    cases.push(("partition key encrypted", c));
    let mut c = base.clone();
    c.attribute_actions_on_encrypt.remove("sk");
    cases.push(("sort key without action", c));
    let mut c = base.clone();
    c.attribute_actions_on_encrypt
        .insert("aws_dbe_x".into(), A::SignOnly);
    cases.push(("reserved prefix", c));
    let mut c = base.clone();
    c.attribute_actions_on_encrypt
        .insert("loose".into(), A::DoNothing);
    cases.push(("DO_NOTHING not allowed unsigned", c));
    let mut c = base.clone();
    c.attribute_actions_on_encrypt
        .insert(":signed".into(), A::SignOnly);
    cases.push(("signed attribute under the unsigned prefix", c));
    let mut c = base.clone();
    c.attribute_actions_on_encrypt
        .insert("ctx".into(), A::SignAndIncludeInEncryptionContext);
    cases.push(("v2 attribute while keys are SIGN_ONLY", c));
    let mut c = base.clone();
    c.logical_table_name = String::new();
    cases.push(("empty table name", c));
    for max in [0, 256, usize::MAX] {
        let mut c = base.clone();
        c.max_encrypted_data_keys = max;
        cases.push(("maxEncryptedDataKeys out of 1..=255", c));
    }
    for (what, c) in cases {
        let e = ItemEncryptor::new(c)
            .err()
            .unwrap_or_else(|| panic!("{what} accepted"));
        assert_eq!(e.code(), "INVALID_CONFIG", "{what}: {e}");
    }
}

#[test]
fn debug_output_has_no_secrets() {
    let enc = ItemEncryptor::new(config(SUITES[0])).unwrap();
    let dbg = format!("{:?} {:?}", enc.config(), item());
    assert!(!dbg.contains("4111"), "{dbg}");
    assert!(!dbg.contains("Main St"), "{dbg}");
}

/// A keyring that hands the inner keyring one EDK at a time and counts the
/// attempts: what an RSA, KMS or custom keyring would pay per wrapped key.
struct CountingKeyring {
    inner: Arc<dyn Keyring>,
    attempts: AtomicUsize,
}

impl CountingKeyring {
    fn new(inner: Arc<dyn Keyring>) -> Arc<Self> {
        Arc::new(CountingKeyring {
            inner,
            attempts: AtomicUsize::new(0),
        })
    }

    fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
}

#[async_trait(?Send)]
impl Keyring for CountingKeyring {
    async fn on_encrypt(
        &self,
        materials: EncryptionMaterials,
    ) -> fieldseal::Result<EncryptionMaterials> {
        self.inner.on_encrypt(materials).await
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> fieldseal::Result<DecryptionMaterials> {
        let mut last = None;
        for edk in encrypted_data_keys {
            self.attempts.fetch_add(1, Ordering::SeqCst);
            match self
                .inner
                .on_decrypt(materials.clone(), std::slice::from_ref(edk))
                .await
            {
                Ok(m) => return Ok(m),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("the header has at least one EDK"))
    }
}

/// `sealed` with its header carrying `count` copies of its EDK, each
/// corrupted so that none unwraps: every one costs the keyring an attempt.
fn plant_edks(sealed: &Item, count: usize) -> Item {
    let V::B(head) = &sealed["aws_dbe_head"] else {
        panic!("header not binary")
    };
    let mut header = PartialHeader::parse(head).unwrap();
    let mut edk = header.encrypted_data_keys[0].clone();
    *edk.ciphertext.last_mut().unwrap() ^= 1;
    header.encrypted_data_keys = vec![edk; count];
    // The commitment is never reached, so any key will do.
    let mut planted = sealed.clone();
    planted.insert("aws_dbe_head".into(), V::B(header.seal(&[0; 32]).unwrap()));
    planted
}

#[test]
fn planted_edks_are_refused_before_any_keyring_call() {
    let keyring = CountingKeyring::new(aes(7));
    let mut c = config(SUITES[0]);
    c.keyring = keyring.clone();
    assert_eq!(c.max_encrypted_data_keys, DEFAULT_MAX_ENCRYPTED_DATA_KEYS);
    let enc = ItemEncryptor::new(c.clone()).unwrap();
    let planted = plant_edks(&block_on(enc.encrypt_item(&item())).unwrap(), 255);

    let e = expect_failure(&enc, &planted, "planting 255 EDKs");
    assert_eq!(e.code(), "LIMIT_EXCEEDED", "{e}");
    assert!(
        e.to_string().contains("255") && e.to_string().contains("maxEncryptedDataKeys (10)"),
        "{e}"
    );
    assert_eq!(keyring.attempts(), 0, "the keyring was called");

    // Control: without the limit, the same item costs 255 unwrap attempts.
    c.max_encrypted_data_keys = 255;
    let unlimited = ItemEncryptor::new(c).unwrap();
    let e = expect_failure(&unlimited, &planted, "planting 255 EDKs, no limit");
    assert_eq!(e.code(), "INTEGRITY_FAILURE", "{e}");
    assert_eq!(keyring.attempts(), 255);
}

#[test]
fn edk_limit_boundaries_on_decrypt_and_encrypt() {
    // A generator and one child: two EDKs.
    let two =
        || -> Arc<dyn Keyring> { Arc::new(MultiKeyring::new(Some(aes(7)), vec![aes(8)]).unwrap()) };
    let with = |keyring: Arc<dyn Keyring>, max: usize| {
        let mut c = config(SUITES[1]);
        c.keyring = keyring;
        c.max_encrypted_data_keys = max;
        ItemEncryptor::new(c).unwrap()
    };
    let sealed = block_on(with(two(), 2).encrypt_item(&item())).unwrap();
    let opened = block_on(with(two(), 2).decrypt_item(&sealed)).unwrap();
    assert_eq!(opened, opened_form(&item(), &config(SUITES[1])));

    let counting = CountingKeyring::new(two());
    let e = expect_failure(&with(counting.clone(), 1), &sealed, "2 EDKs, limit 1");
    assert_eq!(e.code(), "LIMIT_EXCEEDED", "{e}");
    assert_eq!(counting.attempts(), 0);

    // Encrypt refuses what the config would refuse to open.
    let e = block_on(with(two(), 1).encrypt_item(&item())).unwrap_err();
    assert_eq!(e.code(), "LIMIT_EXCEEDED", "{e}");
    assert!(e.to_string().contains("keyring produced 2"), "{e}");

    // The default admits a generator and nine children, not ten.
    let many = |children: u8| -> Arc<dyn Keyring> {
        Arc::new(
            MultiKeyring::new(
                Some(aes(7)),
                (0..children).map(|i| aes(20 + i) as _).collect(),
            )
            .unwrap(),
        )
    };
    let default = |keyring| with(keyring, DEFAULT_MAX_ENCRYPTED_DATA_KEYS);
    let sealed = block_on(default(many(9)).encrypt_item(&item())).unwrap();
    assert!(block_on(default(many(9)).decrypt_item(&sealed)).is_ok());
    let e = block_on(default(many(10)).encrypt_item(&item())).unwrap_err();
    assert_eq!(e.code(), "LIMIT_EXCEEDED", "{e}");
}

/// Field keys, data keys and wrapping keys all pass through these ciphers;
/// with the crates' `zeroize` feature their key schedules are wiped on drop.
/// (A compile-time check: without the feature this test does not build.)
#[test]
fn aes_key_schedules_are_wiped_on_drop() {
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<aes::Aes128>();
    wiped_on_drop::<aes::Aes192>();
    wiped_on_drop::<aes::Aes256>();
    wiped_on_drop::<ctr::Ctr128BE<aes::Aes256>>();
}

#[test]
fn added_reserved_attributes_are_dropped_on_decrypt() {
    // The DB-ESDK leaves every `aws_dbe_` attribute outside the signature
    // scope and out of the decrypted item: beacons and attacker additions alike.
    for suite in SUITES {
        let (enc, sealed) = seal(suite);
        let mut added = sealed.clone();
        added.insert("aws_dbe_x".into(), V::S("planted".into()));
        added.insert("aws_dbe_b_card".into(), V::S("beacon".into()));
        added.insert("aws_dbe_v_1".into(), V::B(vec![1, 2, 3]));
        let opened = block_on(enc.decrypt_item(&added)).unwrap();
        assert_eq!(opened, opened_form(&item(), enc.config()));
        assert!(
            opened.keys().all(|k| !k.starts_with("aws_dbe_")),
            "{opened:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_items_round_trip(
        extra in common::arb::arb_item(),
        encrypt_mask in any::<u64>(),
        suite_bit in any::<bool>(),
    ) {
        let suite = SUITES[suite_bit as usize];
        let mut actions = BTreeMap::new();
        actions.insert("pk".to_string(), A::SignOnly);
        let mut it = Item::new();
        it.insert("pk".into(), V::S("p".into()));
        for (i, (name, value)) in extra.into_iter().enumerate() {
            if name == "pk" || name.starts_with("aws_dbe_") {
                continue;
            }
            let action = if encrypt_mask >> (i % 64) & 1 == 1 { A::EncryptAndSign } else { A::SignOnly };
            actions.insert(name.clone(), action);
            it.insert(name, value);
        }
        let mut c = ItemEncryptorConfig::new("T", "pk", actions, aes(3));
        c.algorithm_suite_id = suite;
        let enc = ItemEncryptor::new(c).unwrap();
        let sealed = block_on(enc.encrypt_item(&it)).unwrap();
        let opened = block_on(enc.decrypt_item(&sealed)).unwrap();
        prop_assert_eq!(opened, opened_form(&it, enc.config()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Arbitrary bytes in the header, footer or an encrypted field never open
    /// and never panic.
    #[test]
    fn arbitrary_sealed_bytes_are_rejected(
        which in 0usize..3,
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let (enc, sealed) = SEALED.with(|s| s.clone());
        let field = ["aws_dbe_head", "aws_dbe_foot", "card"][which];
        let mut bad = sealed;
        bad.insert(field.into(), V::B(bytes));
        prop_assert!(block_on(enc.decrypt_item(&bad)).is_err());
    }
}

thread_local! {
    static SEALED: (Arc<ItemEncryptor>, Item) = {
        let (enc, sealed) = seal(SUITES[1]);
        (Arc::new(enc), sealed)
    };
}

/// The DB-ESDK's plaintext override, its three migration steps.
/// Spec: ddb-table-encryption-config.md#plaintext-override
#[test]
fn plaintext_override_migration_steps() {
    use fieldseal::encryptor::PlaintextOverride as P;
    let with = |o: P| {
        let mut c = config(AlgorithmSuiteId::default());
        c.plaintext_override = o;
        ItemEncryptor::new(c).unwrap()
    };
    let plain = item();
    let sealed = block_on(with(P::default()).encrypt_item(&plain)).unwrap();

    // Step 1: writes as given, opens both.
    let step1 = with(P::ForcePlaintextWriteAllowPlaintextRead);
    assert_eq!(block_on(step1.encrypt_item(&plain)).unwrap(), plain);
    assert_eq!(block_on(step1.decrypt_item(&plain)).unwrap(), plain);
    let opened = block_on(step1.decrypt_item(&sealed)).unwrap();
    assert_eq!(
        opened,
        block_on(with(P::default()).decrypt_item(&sealed)).unwrap()
    );

    // Step 2: seals, still opens plaintext items.
    let step2 = with(P::ForbidPlaintextWriteAllowPlaintextRead);
    let written = block_on(step2.encrypt_item(&plain)).unwrap();
    assert!(written.contains_key("aws_dbe_head") && written.contains_key("aws_dbe_foot"));
    assert_eq!(block_on(step2.decrypt_item(&plain)).unwrap(), plain);
    // An item with only one of head and foot is not plaintext: it must verify.
    let mut half = sealed.clone();
    half.remove("aws_dbe_foot");
    assert!(block_on(step2.decrypt_item(&half)).is_err());
    // A plaintext item still needs its key attributes.
    let mut keyless = plain.clone();
    keyless.remove("pk");
    assert_eq!(
        block_on(step2.decrypt_item(&keyless)).unwrap_err().code(),
        "INVALID_ITEM"
    );

    // Step 3 (the default): plaintext items are refused.
    assert!(block_on(with(P::default()).decrypt_item(&plain)).is_err());
    assert_eq!(
        P::parse("FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ").unwrap(),
        P::ForcePlaintextWriteAllowPlaintextRead
    );
    assert_eq!(P::parse("nope").unwrap_err().code(), "INVALID_CONFIG");
}
