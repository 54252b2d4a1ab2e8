//! The official-SDK manifest runner, on a manifest whose records the official
//! SDK seals here under raw keys (nothing hand-written), and on the shared
//! DB-ESDK vectors when they are present.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fieldseal::keyring::RsaPadding;
use fieldseal::{AlgorithmSuiteId, AttributeValue as V, CryptoAction, Item};
use fieldseal_interop::manifest::{item_to_json, run_manifest, Outcome};
use fieldseal_interop::spec::{fixed_rsa_keys, KeySpec, TableSpec};
use fieldseal_interop::{block_on, official};
use serde_json::{json, Value};

const NS: &str = "manifest-test-ns";

fn aes_key(len: usize) -> Vec<u8> {
    (0..len as u8).map(|i| i ^ 0x5a).collect()
}

fn keys_json() -> Value {
    let rsa = fixed_rsa_keys();
    json!({
        "manifest": { "type": "keys", "version": 3 },
        "keys": {
            "my-aes-256": { "encrypt": true, "decrypt": true, "algorithm": "aes", "type": "symmetric",
                "bits": 256, "encoding": "base64", "material": B64.encode(aes_key(32)), "key-id": "aes-256-id" },
            "my-aes-128": { "encrypt": true, "decrypt": true, "algorithm": "aes", "type": "symmetric",
                "bits": 128, "encoding": "base64", "material": B64.encode(aes_key(16)), "key-id": "aes-128-id" },
            "my-rsa-private": { "encrypt": true, "decrypt": true, "algorithm": "rsa", "type": "private",
                "bits": 2048, "encoding": "pem", "material": rsa.private_pem, "key-id": "rsa-2048-id" },
            "my-rsa-public": { "encrypt": true, "decrypt": false, "algorithm": "rsa", "type": "public",
                "bits": 2048, "encoding": "pem", "material": rsa.public_pem, "key-id": "rsa-2048-id" }
        }
    })
}

fn aes256() -> KeySpec {
    KeySpec::Aes {
        namespace: NS.into(),
        name: "aes-256-id".into(),
        key: aes_key(32),
    }
}
fn aes128() -> KeySpec {
    KeySpec::Aes {
        namespace: NS.into(),
        name: "aes-128-id".into(),
        key: aes_key(16),
    }
}
fn rsa(padding: RsaPadding) -> KeySpec {
    let k = fixed_rsa_keys();
    KeySpec::Rsa {
        namespace: NS.into(),
        name: "rsa-2048-id".into(),
        padding,
        public_pem: Some(k.public_pem.clone()),
        private_pem: None,
    }
}

fn aes_desc(entry: &str) -> Value {
    json!({"type":"raw","encryption-algorithm":"aes","provider-id":NS,"key":entry})
}
fn rsa_desc(entry: &str, alg: &str, hash: &str) -> Value {
    json!({"type":"raw","encryption-algorithm":"rsa","provider-id":NS,"key":entry,
           "padding-algorithm":alg,"padding-hash":hash})
}

fn table(suite: AlgorithmSuiteId, actions: &[(&str, CryptoAction)]) -> TableSpec {
    TableSpec {
        logical_table_name: "GazelleVectorTable".into(),
        partition_key_name: "RecNum".into(),
        sort_key_name: None,
        actions: actions.iter().map(|(k, a)| (k.to_string(), *a)).collect(),
        allowed_unsigned_attributes: vec![],
        allowed_unsigned_attribute_prefix: None,
        suite,
    }
}

fn seal(t: &TableSpec, keys: &KeySpec, item: &Item) -> Item {
    block_on(async {
        let c = official::encryptor(t, keys).await?;
        official::encrypt(&c, item).await
    })
    .expect("official encrypt")
}

fn actions_json(t: &TableSpec) -> Value {
    Value::Object(
        t.actions
            .iter()
            .map(|(k, a)| (k.clone(), json!(a.name())))
            .collect(),
    )
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fieldseal-interop-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_manifest(dir: &Path, tests: Value) -> PathBuf {
    std::fs::write(
        dir.join("keys.json"),
        serde_json::to_string_pretty(&keys_json()).unwrap(),
    )
    .unwrap();
    let m = json!({
        "manifest": { "type": "aws-dbesdk-decrypt", "version": "1" },
        "client": { "name": "fieldseal-interop/official", "version": "1" },
        "keys": "file://keys.json",
        "tests": tests
    });
    let p = dir.join("manifest.json");
    std::fs::write(&p, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    p
}

fn run_bin(manifest: &Path) -> (i32, Vec<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_official_decrypt_manifest"))
        .arg(manifest)
        .output()
        .expect("run official_decrypt_manifest");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    print!("{stdout}");
    (
        out.status.code().unwrap_or(-1),
        stdout.lines().map(str::to_string).collect(),
    )
}

fn plain_item() -> Item {
    Item::from([
        ("RecNum".to_string(), V::N("1".into())),
        ("Stuff".to_string(), V::S("StuffData".into())),
        ("Junk".to_string(), V::Ss(vec!["b".into(), "a".into()])),
        ("Num".to_string(), V::N("1.50".into())),
    ])
}

#[test]
fn manifest_of_official_records() {
    use CryptoAction::*;
    let s6700 = AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384;
    let s6701 = AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384;
    let basic = [
        ("RecNum", SignOnly),
        ("Stuff", EncryptAndSign),
        ("Junk", EncryptAndSign),
        ("Num", SignOnly),
    ];
    let item = plain_item();
    // The plaintext as a manifest writes it: bare string = S, bare number = N.
    let plaintext =
        json!({"RecNum": 1, "Stuff": "StuffData", "Junk": {"SS": ["a", "b"]}, "Num": {"N": "1.5"}});

    let mut tests = serde_json::Map::new();
    let mut add = |name: &str, ty: &str, config: Value, encrypted: &Item| {
        tests.insert(
            name.into(),
            json!({
                "type": ty, "description": name, "config": config,
                "encrypted": item_to_json(encrypted), "plaintext": plaintext,
            }),
        );
    };

    // 1. raw AES-256, default table and partition key, default suite.
    let t = table(s6701, &basic);
    let sealed = seal(&t, &aes256(), &item);
    add(
        "aes-256",
        "positive-decrypt",
        json!({"attributeActionsOnEncrypt": actions_json(&t), "key": aes_desc("my-aes-256")}),
        &sealed,
    );

    // 2. raw AES-128, suite 0x6700, own table, sort key, unsigned attributes by list and prefix.
    let mut t2 = table(s6700, &basic);
    t2.logical_table_name = "OtherTable".into();
    t2.partition_key_name = "Stuff".into();
    t2.sort_key_name = Some("RecNum".into());
    t2.actions.insert("Stuff".into(), SignOnly);
    t2.actions.insert("Extra".into(), DoNothing);
    t2.allowed_unsigned_attributes = vec!["Extra".into()];
    t2.allowed_unsigned_attribute_prefix = Some("u:".into());
    let mut item2 = item.clone();
    item2.insert("Extra".into(), V::S("x".into()));
    item2.insert("u:free".into(), V::Bool(true));
    let sealed2 = seal(&t2, &aes128(), &item2);
    tests.insert("aes-128".into(), json!({
        "type": "positive-decrypt", "description": "aes-128 0x6700 sort key unsigned",
        "config": {
            "logicalTableName": "OtherTable", "partitionKeyName": "Stuff", "sortKeyName": "RecNum",
            "algorithmSuiteId": "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384",
            "attributeActionsOnEncrypt": actions_json(&t2),
            "allowedUnsignedAttributes": ["Extra"], "allowedUnsignedAttributePrefix": "u:",
            "key": aes_desc("my-aes-128")
        },
        "encrypted": item_to_json(&sealed2),
        "plaintext": {"RecNum": 1, "Stuff": "StuffData", "Junk": {"SS": ["b", "a"]}, "Num": 1.5, "Extra": "x", "u:free": {"BOOL": true}},
    }));

    // 3-4. raw RSA (sealed with the public key only), opened from the private entry.
    let mut add = |name: &str, ty: &str, config: Value, encrypted: &Item| {
        tests.insert(
            name.into(),
            json!({
                "type": ty, "description": name, "config": config,
                "encrypted": item_to_json(encrypted), "plaintext": plaintext,
            }),
        );
    };
    let cfg = |key: Value| json!({"attributeActionsOnEncrypt": actions_json(&t), "key": key});
    let sealed_oaep = seal(&t, &rsa(RsaPadding::OaepSha256Mgf1), &item);
    add(
        "rsa-oaep-sha256",
        "positive-decrypt",
        cfg(rsa_desc("my-rsa-private", "oaep-mgf1", "sha256")),
        &sealed_oaep,
    );
    let sealed_pkcs1 = seal(&t, &rsa(RsaPadding::Pkcs1), &item);
    add(
        "rsa-pkcs1",
        "positive-decrypt",
        cfg(rsa_desc("my-rsa-private", "pkcs1", "sha1")),
        &sealed_pkcs1,
    );
    // The wrong padding must not open it.
    add(
        "rsa-wrong-padding",
        "negative-decrypt",
        cfg(rsa_desc("my-rsa-private", "oaep-mgf1", "sha512")),
        &sealed_oaep,
    );
    // A public key alone cannot decrypt.
    add(
        "rsa-public-only",
        "negative-decrypt",
        cfg(rsa_desc("my-rsa-public", "oaep-mgf1", "sha256")),
        &sealed_oaep,
    );

    // 5-6. multi-keyring: AES-256 generator + RSA child; opened by the multi and by the child alone.
    let multi = KeySpec::Multi {
        generator: Some(Box::new(aes256())),
        children: vec![rsa(RsaPadding::OaepSha1Mgf1)],
    };
    let sealed_multi = seal(&t, &multi, &item);
    let multi_desc = json!({"type":"multi-keyring","generator":aes_desc("my-aes-256"),
                            "children":[rsa_desc("my-rsa-private","oaep-mgf1","sha1")]});
    add("multi", "positive-decrypt", cfg(multi_desc), &sealed_multi);
    add(
        "multi-child-only",
        "positive-decrypt",
        cfg(
            json!({"type":"multi-keyring","generator":null,"children":[rsa_desc("my-rsa-private","oaep-mgf1","sha1")]}),
        ),
        &sealed_multi,
    );
    add(
        "multi-generator-only",
        "positive-decrypt",
        cfg(aes_desc("my-aes-256")),
        &sealed_multi,
    );

    // 7. tampered ciphertext must be refused.
    let mut tampered = sealed.clone();
    if let Some(V::B(b)) = tampered.get_mut("Stuff") {
        let i = b.len() / 2;
        b[i] ^= 1;
    }
    add(
        "tampered",
        "negative-decrypt",
        cfg(aes_desc("my-aes-256")),
        &tampered,
    );
    // The wrong AES key must be refused.
    add(
        "wrong-key",
        "negative-decrypt",
        cfg(aes_desc("my-aes-128")),
        &sealed,
    );

    // 8. no key: the static branch key, skipped.
    add(
        "hierarchy",
        "positive-decrypt",
        json!({"attributeActionsOnEncrypt": actions_json(&t)}),
        &sealed,
    );

    let dir = temp_dir("manifest");
    let path = write_manifest(&dir, Value::Object(tests));

    let summary = run_manifest(&path, |n, _, o| println!("{n}: {o:?}")).unwrap();
    for (name, _, outcome) in &summary.results {
        let want_skip = name == "hierarchy";
        assert_eq!(
            matches!(outcome, Outcome::Skipped(_)),
            want_skip,
            "{name}: {outcome:?}"
        );
        if !want_skip {
            assert_eq!(*outcome, Outcome::Passed, "{name}");
        }
    }
    assert_eq!(summary.closing_line(), "11 passed, 0 failed, 1 skipped");

    let (code, lines) = run_bin(&path);
    assert_eq!(code, 0);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("11 passed, 0 failed, 1 skipped")
    );
    assert!(lines
        .iter()
        .any(|l| l.contains("hierarchy") && l.contains("skipped (needs hierarchy keyring")));
    assert_eq!(lines.len(), 12 + 1);

    // A wrong expectation and a negative test that decrypts both fail, and the exit code says so.
    let mut wrong = item_to_json(&sealed);
    let _ = &mut wrong;
    let tests = json!({
        "wrong-plaintext": {"type":"positive-decrypt","description":"plaintext differs",
            "config": cfg(aes_desc("my-aes-256")), "encrypted": item_to_json(&sealed),
            "plaintext": {"RecNum": 1, "Stuff": "OtherData", "Junk": {"SS": ["a", "b"]}, "Num": 1.5}},
        "not-negative": {"type":"negative-decrypt","description":"decrypts fine",
            "config": cfg(aes_desc("my-aes-256")), "encrypted": item_to_json(&sealed)},
        "fine": {"type":"positive-decrypt","description":"decrypts fine",
            "config": cfg(aes_desc("my-aes-256")), "encrypted": item_to_json(&sealed), "plaintext": plaintext}
    });
    let dir = temp_dir("manifest-failing");
    let path = write_manifest(&dir, tests);
    let (code, lines) = run_bin(&path);
    assert_eq!(code, 1);
    assert_eq!(lines.last().map(String::as_str), Some("1 passed, 2 failed"));
}

/// The shared DB-ESDK vectors all use the static branch key: every test is
/// reported as skipped, none fails.
#[test]
fn shared_vectors_are_skipped_not_failed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/dbesdk");
    let path = dir.join("decrypt_java_33.json");
    if !path.exists() {
        println!("{} not present; nothing to check", path.display());
        return;
    }
    let (code, lines) = run_bin(&path);
    assert_eq!(code, 0);
    let last = lines.last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("0 passed, 0 failed, ") && last.ends_with(" skipped"),
        "{last}"
    );
}
