//! Keyrings: round trips, failure modes, EDK layouts, and unwrapping real
//! records sealed by the official Java/.NET DB-ESDK under the static branch key.
//! (The raw RSA keyring is behind the default `rsa` feature: its tests are
//! gated one module at a time, so the rest runs without it.)

use std::path::{Path, PathBuf};
use std::sync::Arc;
#[cfg(feature = "rsa")]
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fieldseal::keyring::intermediate;
use fieldseal::keyring::provider::{
    BrokenEdks, Claim, KeyProvider, UnwrapRequest, Unwrapped, WrapRequest, Wrapped,
};
use fieldseal::keyring::{Keyring, MultiKeyring, RawAesKeyring, StaticBranchKeyKeyring};
#[cfg(feature = "rsa")]
use fieldseal::keyring::{RawRsaKeyring, RsaPadding};
use fieldseal::materials::{
    serialize_encryption_context, DecryptionMaterials, EncryptedDataKey, EncryptionContext,
    EncryptionMaterials, SecretBytes,
};
#[cfg(feature = "rsa")]
use fieldseal::primitives::provider::{SecureRandom, SystemRandom};
use fieldseal::{primitives, AlgorithmSuiteId, Error};
use pollster::block_on;
#[cfg(feature = "rsa")]
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
#[cfg(feature = "rsa")]
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
#[cfg(feature = "rsa")]
use rsa::RsaPrivateKey;
use serde_json::Value;

const SUITES: [AlgorithmSuiteId; 2] = [
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
];
const SUITE: AlgorithmSuiteId =
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384;

const BRANCH_KEY_ID: &str = "bd3842ff-3076-4092-9918-4395730050b8";
const BRANCH_KEY_VERSION: &str = "e9ce18a3-edb5-4272-9f86-1cacb7997ff6";

// ---------------------------------------------------------------- helpers

fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sample_ec() -> EncryptionContext {
    ec(&[
        ("aws-crypto-table-name", "Orders"),
        ("aws-crypto-partition-name", "pk"),
        ("aws-crypto-attr.pk", "AAFvcmRlciMx"),
    ])
}

fn encrypt(
    keyring: &dyn Keyring,
    suite: AlgorithmSuiteId,
    ec: &EncryptionContext,
) -> EncryptionMaterials {
    block_on(keyring.on_encrypt(EncryptionMaterials::new(suite, ec.clone()))).expect("on_encrypt")
}

fn decrypt(
    keyring: &dyn Keyring,
    suite: AlgorithmSuiteId,
    ec: &EncryptionContext,
    edks: &[EncryptedDataKey],
) -> fieldseal::Result<DecryptionMaterials> {
    block_on(keyring.on_decrypt(DecryptionMaterials::new(suite, ec.clone()), edks))
}

/// Encrypt with `enc`, decrypt with `dec`, and check that the same data key
/// and the EDK's own signing key come back.
fn round_trip(enc: &dyn Keyring, dec: &dyn Keyring) -> EncryptionMaterials {
    let mut last = None;
    for suite in SUITES {
        let ec = sample_ec();
        let m = encrypt(enc, suite, &ec);
        let data_key = m
            .plaintext_data_key
            .as_ref()
            .expect("a data key was generated");
        assert_eq!(data_key.len(), 32);
        assert_eq!(m.encrypted_data_keys.len(), 1);
        assert_eq!(m.symmetric_signing_keys.len(), 1);
        assert_eq!(
            m.symmetric_signing_keys[0].len(),
            intermediate::SYMMETRIC_SIGNING_KEY_LEN
        );
        let d = decrypt(dec, suite, &ec, &m.encrypted_data_keys).expect("on_decrypt");
        assert_eq!(d.plaintext_data_key.as_ref(), Some(data_key));
        assert_eq!(
            d.symmetric_signing_key.as_ref(),
            Some(&m.symmetric_signing_keys[0])
        );
        assert_eq!(d.suite, suite);
        last = Some(m);
    }
    last.unwrap()
}

/// A raw AES keyring whose key name matches and whose tag fails: the
/// record did not verify (raw_aes.rs, broken_edks); the detail.
fn expect_integrity_failure(r: fieldseal::Result<DecryptionMaterials>) -> String {
    match r {
        Err(Error::IntegrityFailure(detail)) => detail,
        Err(other) => panic!("expected IntegrityFailure, got {other:?}"),
        Ok(_) => panic!("expected IntegrityFailure, but decryption succeeded"),
    }
}

fn expect_no_matching_key(r: fieldseal::Result<DecryptionMaterials>) -> (Vec<String>, String) {
    match r {
        Err(Error::NoMatchingKey {
            providers_seen,
            detail,
        }) => (providers_seen, detail),
        Err(other) => panic!("expected NoMatchingKey, got {other:?}"),
        Ok(_) => panic!("expected NoMatchingKey, but decryption succeeded"),
    }
}

fn aes(key_byte: u8) -> RawAesKeyring {
    RawAesKeyring::new("ns", "k1", &[key_byte; 32]).unwrap()
}

fn branch(key_byte: u8) -> StaticBranchKeyKeyring {
    StaticBranchKeyKeyring::new(BRANCH_KEY_ID, BRANCH_KEY_VERSION, &[key_byte; 32]).unwrap()
}

/// RSA key generation is slow in debug builds: one key for the whole file.
#[cfg(feature = "rsa")]
fn rsa_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("RSA keygen"))
}

#[cfg(feature = "rsa")]
fn rsa_pems() -> (String, String) {
    let key = rsa_key();
    let private = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    (public, private)
}

#[cfg(feature = "rsa")]
fn rsa(padding: RsaPadding) -> RawRsaKeyring {
    let (public, private) = rsa_pems();
    RawRsaKeyring::new("rsa-ns", "rsa-key", padding, Some(&public), Some(&private)).unwrap()
}

// ------------------------------------------- official vectors (static branch key)

/// `../shared/vectors/dbesdk/` next to the crate, or `None` (after a loud SKIP
/// message) when it is absent. With `CI` set, absence is a failure.
fn vectors_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/dbesdk");
    if dir.join("keys.json").is_file() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "test vectors not found at {} (CI is set, so this is a failure)",
            dir.display()
        );
    }
    eprintln!(
        "\n==================== SKIP ====================\n\
         DB-ESDK test vectors not found at {}\n\
         the interop keyring tests did NOT run\n\
         ==============================================\n",
        dir.display()
    );
    None
}

fn read_json(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn static_branch_keyring(dir: &Path) -> StaticBranchKeyKeyring {
    let keys = read_json(dir.join("keys.json"));
    let k = &keys["keys"]["static-branch-key-1"];
    let id = k["key-id"].as_str().unwrap();
    let version = k["branchKeyVersion"].as_str().unwrap();
    let key = B64.decode(k["branchKey"].as_str().unwrap()).unwrap();
    assert_eq!(id, BRANCH_KEY_ID);
    StaticBranchKeyKeyring::new(id, version, &key).unwrap()
}

/// What the keyring needs from a DB-ESDK header.
struct ParsedHeader {
    version: u8,
    suite: AlgorithmSuiteId,
    legend: Vec<u8>,
    stored_ec: EncryptionContext,
    edks: Vec<EncryptedDataKey>,
}

/// version(1) flavor(1) message id(32) legend(u16 len + bytes)
/// EC(u16 count, then u16-len key, u16-len value) EDK count(u8), then per EDK
/// u16-len provider id, u16-len provider info, u16-len ciphertext; commitment(32).
fn parse_header(bytes: &[u8]) -> ParsedHeader {
    struct Reader<'a>(&'a [u8]);
    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize) -> &'a [u8] {
            let (a, b) = self.0.split_at(n);
            self.0 = b;
            a
        }
        fn u16(&mut self) -> usize {
            u16::from_be_bytes(self.take(2).try_into().unwrap()) as usize
        }
        fn prefixed(&mut self) -> &'a [u8] {
            let n = self.u16();
            self.take(n)
        }
        fn string(&mut self) -> String {
            String::from_utf8(self.prefixed().to_vec()).unwrap()
        }
    }
    let mut r = Reader(bytes);
    let version = r.take(1)[0];
    let suite = AlgorithmSuiteId::from_flavor(r.take(1)[0]).unwrap();
    r.take(32);
    let legend = r.prefixed().to_vec();
    let mut stored_ec = EncryptionContext::new();
    for _ in 0..r.u16() {
        let k = r.string();
        let v = r.string();
        stored_ec.insert(k, v);
    }
    let mut edks = Vec::new();
    for _ in 0..r.take(1)[0] {
        edks.push(EncryptedDataKey {
            key_provider_id: r.string(),
            key_provider_info: r.prefixed().to_vec(),
            ciphertext: r.prefixed().to_vec(),
        });
    }
    assert_eq!(r.0.len(), 32, "32-byte commitment after the EDKs");
    ParsedHeader {
        version,
        suite,
        legend,
        stored_ec,
        edks,
    }
}

/// The full encryption context a vector record was sealed with: the header's
/// stored context plus the DynamoDB "required" context (table defaults:
/// GazelleVectorTable, partition key RecNum, no sort key).
fn record_context(
    header: &ParsedHeader,
    record: &serde_json::Map<String, Value>,
) -> EncryptionContext {
    let mut ec = header.stored_ec.clone();
    ec.insert("aws-crypto-table-name".into(), "GazelleVectorTable".into());
    ec.insert("aws-crypto-partition-name".into(), "RecNum".into());
    let number = |v: &Value| v["N"].as_str().expect("RecNum is N").to_owned();
    match header.version {
        1 => {
            // v1: the partition key's value is base64(type id || serialized value); N is 0x0002.
            let mut bytes = vec![0x00, 0x02];
            bytes.extend_from_slice(number(&record["RecNum"]).as_bytes());
            ec.insert("aws-crypto-attr.RecNum".into(), B64.encode(bytes));
        }
        2 => {
            // v2: each SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT ('c' in the legend)
            // attribute, raw for S and N, plus a legend of their types in key order.
            // The legend follows canonical-path order: name length, then bytes.
            let mut names: Vec<&String> = record
                .keys()
                .filter(|k| !k.starts_with("aws_dbe_"))
                .collect();
            names.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            assert_eq!(names.len(), header.legend.len());
            let mut typed = Vec::new();
            for (name, action) in names.iter().zip(&header.legend) {
                if *action != b'c' {
                    continue;
                }
                let v = &record[name.as_str()];
                let (value, t) = match (v.get("S"), v.get("N")) {
                    (Some(s), _) => (s.as_str().unwrap().to_owned(), 'S'),
                    (_, Some(_)) => (number(v), 'N'),
                    _ => panic!("context attribute {name} is neither S nor N"),
                };
                typed.push((format!("aws-crypto-attr.{name}"), value, t));
            }
            typed.sort();
            ec.insert(
                "aws-crypto-legend".into(),
                typed.iter().map(|(_, _, t)| *t).collect(),
            );
            for (k, v, _) in typed {
                ec.insert(k, v);
            }
        }
        v => panic!("unknown header version {v}"),
    }
    ec
}

fn unwrap_vector(keyring: &StaticBranchKeyKeyring, test: &Value) -> DecryptionMaterials {
    let record = test["encrypted"].as_object().unwrap();
    let header_bytes = B64
        .decode(record["aws_dbe_head"]["B"].as_str().unwrap())
        .unwrap();
    let header = parse_header(&header_bytes);
    assert_eq!(header.edks.len(), 1);
    let edk = &header.edks[0];
    assert_eq!(edk.key_provider_id, "aws-kms-hierarchy");
    assert_eq!(edk.key_provider_info, BRANCH_KEY_ID.as_bytes());
    assert_eq!(edk.ciphertext.len(), 140);
    let ec = record_context(&header, record);
    decrypt(keyring, header.suite, &ec, &header.edks).expect("the static branch key unwraps it")
}

#[test]
fn static_branch_key_unwraps_java_33_test_7() {
    let Some(dir) = vectors_dir() else { return };
    let keyring = static_branch_keyring(&dir);
    let manifest = read_json(dir.join("decrypt_java_33.json"));
    let test = &manifest["tests"]["7"];
    let header_bytes = B64
        .decode(test["encrypted"]["aws_dbe_head"]["B"].as_str().unwrap())
        .unwrap();
    let header = parse_header(&header_bytes);
    assert_eq!(header.version, 1);
    assert_eq!(header.suite.id(), 0x6700);
    assert!(
        header.stored_ec.is_empty(),
        "suite 0x6700 stores no context"
    );

    let m = unwrap_vector(&keyring, test);
    assert_eq!(m.plaintext_data_key.as_ref().unwrap().len(), 32);
    assert_eq!(m.symmetric_signing_key.as_ref().unwrap().len(), 32);

    // The footer of an unsigned record is exactly one 48-byte recipient tag.
    let footer = B64
        .decode(test["encrypted"]["aws_dbe_foot"]["B"].as_str().unwrap())
        .unwrap();
    assert_eq!(footer.len(), 48);

    // The wrong context must not open it.
    let record = test["encrypted"].as_object().unwrap();
    let mut wrong = record_context(&header, record);
    wrong.insert("aws-crypto-table-name".into(), "OtherTable".into());
    expect_no_matching_key(decrypt(&keyring, header.suite, &wrong, &header.edks));

    // Nor a different branch key.
    let other = branch(9);
    let ec = record_context(&header, record);
    let (seen, _) = expect_no_matching_key(decrypt(&other, header.suite, &ec, &header.edks));
    assert_eq!(seen, vec!["aws-kms-hierarchy".to_string()]);
}

#[test]
fn static_branch_key_unwraps_every_vector_record() {
    let Some(dir) = vectors_dir() else { return };
    let keyring = static_branch_keyring(&dir);
    let mut opened = 0;
    for file in [
        "decrypt_java_32.json",
        "decrypt_java_33.json",
        "decrypt_dotnet_32.json",
        "decrypt_dotnet_33.json",
    ] {
        let manifest = read_json(dir.join(file));
        for (name, test) in manifest["tests"].as_object().unwrap() {
            if test["type"] != "positive-decrypt" {
                continue;
            }
            let m = unwrap_vector(&keyring, test);
            assert!(m.plaintext_data_key.is_some(), "{file} test {name}");
            opened += 1;
        }
    }
    assert!(opened >= 38, "only {opened} vector records were tried");
}

#[test]
fn static_branch_key_round_trips_and_interops_with_its_own_edks() {
    let Some(dir) = vectors_dir() else { return };
    let keyring = static_branch_keyring(&dir);
    round_trip(&keyring, &keyring);
}

// ------------------------------------------------ encryption context & primitives

#[test]
fn encryption_context_serialization() {
    assert_eq!(
        serialize_encryption_context(&EncryptionContext::new()).unwrap(),
        Vec::<u8>::new()
    );
    let bytes = serialize_encryption_context(&ec(&[("b", "2"), ("a", "xy")])).unwrap();
    assert_eq!(
        bytes,
        vec![0, 2, 0, 1, b'a', 0, 2, b'x', b'y', 0, 1, b'b', 0, 1, b'2']
    );
    // Keys sort by UTF-8 bytes: "Z" (0x5a) < "a" < "é" (0xc3 0xa9).
    let bytes = serialize_encryption_context(&ec(&[("é", ""), ("a", ""), ("Z", "")])).unwrap();
    assert_eq!(
        bytes,
        vec![0, 3, 0, 1, b'Z', 0, 0, 0, 1, b'a', 0, 0, 0, 2, 0xc3, 0xa9, 0, 0]
    );
    let max = "v".repeat(65535);
    assert!(serialize_encryption_context(&ec(&[("k", &max)])).is_ok());
    let too_long = "v".repeat(65536);
    for bad in [ec(&[("k", &too_long)]), ec(&[(&too_long, "v")])] {
        assert!(matches!(
            serialize_encryption_context(&bad),
            Err(Error::LimitExceeded(_))
        ));
    }
    let huge: EncryptionContext = (0..65536).map(|i| (i.to_string(), String::new())).collect();
    assert!(matches!(
        serialize_encryption_context(&huge),
        Err(Error::LimitExceeded(_))
    ));
}

#[test]
fn kdf_counter_mode_known_answers() {
    // Computed independently with Python's hmac module.
    let key: Vec<u8> = (0..32).collect();
    let salt: Vec<u8> = (100..116).collect();
    let out = primitives::kdf_ctr_hmac_sha256(&key, b"aws-kms-hierarchy", &salt, 32);
    assert_eq!(
        hex(out.expose()),
        "158fc6a614fd99d6004e1fe18a50b033eebdf21f70d63f2b8af9a1def888d927"
    );
    let out = primitives::kdf_ctr_hmac_sha256(&key, b"lbl", b"ctx", 64);
    assert_eq!(
        hex(out.expose()),
        "bd52e7a666187ebc046e5bebb2c76f7ae3c5b9c99f4e08eb1fc264feb5d0c9c7\
         31236cc13b72b0d2c65260559ee1e410bf3ca8287bcbbf11afa6c1ccf6017274"
    );
}

#[test]
fn intermediate_key_derivation_known_answer() {
    let ikm: Vec<u8> = (0..32).collect();
    let keys = intermediate::derive_keys(&ikm);
    assert_eq!(
        hex(keys.pdk_encryption_key.expose()),
        "2d169e24b87c98b559eed7756c5d81a0e99fe4fb63f3010497695f1342180ea1"
    );
    assert_eq!(
        hex(keys.symmetric_signing_key.expose()),
        "7bb5e936d6b6e4f1526bc18721ee2ff5065d2539c50be03b3e60a8c825d81592"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ------------------------------------------------------------------ raw AES

#[test]
fn raw_aes_round_trips_for_every_key_size() {
    for len in [16, 24, 32] {
        let keyring = RawAesKeyring::new("my-ns", "my-key", &vec![3u8; len]).unwrap();
        let m = round_trip(&keyring, &keyring);
        let edk = &m.encrypted_data_keys[0];
        assert_eq!(edk.key_provider_id, "my-ns");
        // key name || 128 (u32 BE) || 12 (u32 BE) || IV(12)
        let info = &edk.key_provider_info;
        assert_eq!(info.len(), "my-key".len() + 4 + 4 + 12);
        assert!(info.starts_with(b"my-key"));
        assert_eq!(&info[6..14], &[0, 0, 0, 128, 0, 0, 0, 12]);
        // encrypted data key (48) || wrapped intermediate key (32 + 16)
        assert_eq!(edk.ciphertext.len(), 96);
    }
}

#[test]
fn raw_aes_rejects_bad_configuration() {
    for len in [0, 15, 17, 31, 33, 64] {
        assert!(matches!(
            RawAesKeyring::new("ns", "k", &vec![1u8; len]),
            Err(Error::InvalidKey(_))
        ));
    }
    assert!(matches!(
        RawAesKeyring::new("aws-kms", "k", &[1u8; 32]),
        Err(Error::InvalidConfig(_))
    ));
}

/// Another key name or namespace: not this keyring's EDK, no matching key.
/// The same name with other key bytes: the EDK names this key and does not
/// verify, as a record moved under another primary key does not; reported
/// as an integrity failure that names both causes.
#[test]
fn raw_aes_other_name_is_no_matching_key_other_bytes_do_not_verify() {
    let ec = sample_ec();
    let m = encrypt(&aes(1), SUITE, &ec);
    let edks = &m.encrypted_data_keys;

    let detail = expect_integrity_failure(decrypt(&aes(2), SUITE, &ec, edks));
    assert!(detail.contains("EDK #0"), "{detail}");
    assert!(detail.contains("altered or moved"), "{detail}");
    assert!(detail.contains("other key material"), "{detail}");

    let other_name = RawAesKeyring::new("ns", "k2", &[1u8; 32]).unwrap();
    let (seen, detail) = expect_no_matching_key(decrypt(&other_name, SUITE, &ec, edks));
    assert_eq!(seen, vec!["ns".to_string()]);
    assert!(
        detail.contains("no encrypted data key is for this keyring"),
        "{detail}"
    );

    let other_ns = RawAesKeyring::new("ns2", "k1", &[1u8; 32]).unwrap();
    let (seen, _) = expect_no_matching_key(decrypt(&other_ns, SUITE, &ec, edks));
    assert_eq!(seen, vec!["ns".to_string()]);

    let (seen, detail) = expect_no_matching_key(decrypt(&aes(1), SUITE, &ec, &[]));
    assert!(seen.is_empty());
    assert!(detail.contains("no encrypted data keys"), "{detail}");
}

#[test]
fn raw_aes_tries_every_edk_until_one_opens() {
    let ec = sample_ec();
    let m1 = encrypt(&aes(1), SUITE, &ec);
    let m2 = encrypt(&aes(2), SUITE, &ec);
    let edks = vec![
        m1.encrypted_data_keys[0].clone(),
        m2.encrypted_data_keys[0].clone(),
    ];
    let d = decrypt(&aes(2), SUITE, &ec, &edks).unwrap();
    assert_eq!(d.plaintext_data_key, m2.plaintext_data_key);
    assert_eq!(
        d.symmetric_signing_key.as_ref(),
        Some(&m2.symmetric_signing_keys[0])
    );
}

// ------------------------------------------------------------------ raw RSA

/// The raw RSA keyring, behind the default `rsa` feature: only these tests
/// need it; every other keyring test runs without it.
#[cfg(feature = "rsa")]
mod raw_rsa {
    use super::*;

    #[test]
    fn raw_rsa_round_trips_for_every_padding() {
        for padding in RsaPadding::ALL {
            let keyring = rsa(padding);
            let m = round_trip(&keyring, &keyring);
            let edk = &m.encrypted_data_keys[0];
            assert_eq!(edk.key_provider_id, "rsa-ns");
            assert_eq!(edk.key_provider_info, b"rsa-key");
            // encrypted data key (48) || RSA ciphertext (modulus size)
            assert_eq!(edk.ciphertext.len(), 48 + 256, "{padding}");
        }
    }

    #[test]
    fn raw_rsa_wrong_padding_does_not_open() {
        let ec = sample_ec();
        let m = encrypt(&rsa(RsaPadding::OaepSha256Mgf1), SUITE, &ec);
        for padding in [
            RsaPadding::OaepSha1Mgf1,
            RsaPadding::OaepSha512Mgf1,
            RsaPadding::Pkcs1,
        ] {
            expect_no_matching_key(decrypt(&rsa(padding), SUITE, &ec, &m.encrypted_data_keys));
        }
    }

    #[test]
    fn raw_rsa_public_only_encrypts_but_cannot_decrypt() {
        let (public, private) = rsa_pems();
        let public_only = RawRsaKeyring::new(
            "rsa-ns",
            "rsa-key",
            RsaPadding::OaepSha256Mgf1,
            Some(&public),
            None,
        )
        .unwrap();
        assert!(!public_only.can_decrypt());
        let private_only = RawRsaKeyring::new(
            "rsa-ns",
            "rsa-key",
            RsaPadding::OaepSha256Mgf1,
            None,
            Some(&private),
        )
        .unwrap();
        assert!(private_only.can_decrypt());

        let ec = sample_ec();
        let m = encrypt(&public_only, SUITE, &ec);
        let (seen, detail) =
            expect_no_matching_key(decrypt(&public_only, SUITE, &ec, &m.encrypted_data_keys));
        assert_eq!(seen, vec!["rsa-ns".to_string()]);
        assert!(detail.contains("no private key"), "{detail}");

        // The keyring built from the private key alone decrypts it (and can encrypt too).
        let d = decrypt(&private_only, SUITE, &ec, &m.encrypted_data_keys).unwrap();
        assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
        round_trip(&private_only, &private_only);
    }

    #[test]
    fn raw_rsa_accepts_pkcs1_pem() {
        let key = rsa_key();
        let private = key.to_pkcs1_pem(LineEnding::CRLF).unwrap().to_string();
        let public = key.to_public_key().to_pkcs1_pem(LineEnding::LF).unwrap();
        let keyring = RawRsaKeyring::new(
            "rsa-ns",
            "rsa-key",
            RsaPadding::Pkcs1,
            Some(&public),
            Some(&private),
        )
        .unwrap();
        // Interoperates with the PKCS#8/SPKI keyring of the same key.
        round_trip(&keyring, &rsa(RsaPadding::Pkcs1));
    }

    #[test]
    fn raw_rsa_rejects_bad_keys() {
        let (public, private) = rsa_pems();
        let bad = |public: Option<&str>, private: Option<&str>| {
            RawRsaKeyring::new(
                "rsa-ns",
                "rsa-key",
                RsaPadding::OaepSha1Mgf1,
                public,
                private,
            )
        };
        assert!(matches!(bad(None, None), Err(Error::InvalidConfig(_))));
        assert!(matches!(
            bad(Some("not a pem"), None),
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            bad(None, Some("not a pem")),
            Err(Error::InvalidKey(_))
        ));
        // A public key where the private key goes, and vice versa.
        assert!(matches!(
            bad(None, Some(&public)),
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            bad(Some(&private), None),
            Err(Error::InvalidKey(_))
        ));
        let truncated = &private[..private.len() / 2];
        assert!(matches!(
            bad(None, Some(truncated)),
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            RawRsaKeyring::new("aws-kms", "k", RsaPadding::Pkcs1, Some(&public), None),
            Err(Error::InvalidConfig(_))
        ));
    }

    #[test]
    fn raw_rsa_rejects_a_mismatched_key_pair() {
        let Some(dir) = vectors_dir() else { return };
        let keys = read_json(dir.join("keys.json"));
        let other_public = keys["keys"]["rsa-4096-public"]["material"]
            .as_str()
            .unwrap();
        let (_, private) = rsa_pems();
        assert!(matches!(
            RawRsaKeyring::new(
                "n",
                "k",
                RsaPadding::Pkcs1,
                Some(other_public),
                Some(&private)
            ),
            Err(Error::InvalidKey(_))
        ));
    }

    #[test]
    fn raw_rsa_loads_the_official_4096_bit_pems() {
        let Some(dir) = vectors_dir() else { return };
        let keys = read_json(dir.join("keys.json"));
        let public = keys["keys"]["rsa-4096-public"]["material"]
            .as_str()
            .unwrap();
        let private = keys["keys"]["rsa-4096-private"]["material"]
            .as_str()
            .unwrap();
        // Both given: they must be one pair (checked by the constructor).
        let keyring = RawRsaKeyring::new(
            "rsa",
            "rsa-4096",
            RsaPadding::OaepSha256Mgf1,
            Some(public),
            Some(private),
        )
        .unwrap();
        let public_only = RawRsaKeyring::new(
            "rsa",
            "rsa-4096",
            RsaPadding::OaepSha256Mgf1,
            Some(public),
            None,
        )
        .unwrap();
        let ec = sample_ec();
        let m = encrypt(&public_only, SUITE, &ec);
        assert_eq!(m.encrypted_data_keys[0].ciphertext.len(), 48 + 512);
        let d = decrypt(&keyring, SUITE, &ec, &m.encrypted_data_keys).unwrap();
        assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
    }

    /// `msg` encrypted under the test key with `padding` (any length the padding allows).
    fn rsa_encrypt_raw(padding: RsaPadding, msg: &[u8]) -> Vec<u8> {
        use rsa::{Oaep, Pkcs1v15Encrypt};
        let key = rsa_key().to_public_key();
        let mut rng = rand_core::OsRng;
        match padding {
            RsaPadding::Pkcs1 => key.encrypt(&mut rng, Pkcs1v15Encrypt, msg),
            RsaPadding::OaepSha1Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), msg),
            RsaPadding::OaepSha256Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha2::Sha256>(), msg),
            RsaPadding::OaepSha384Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha2::Sha384>(), msg),
            RsaPadding::OaepSha512Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha2::Sha512>(), msg),
        }
        .unwrap()
    }

    /// Textbook RSA (`em^e mod n`, no padding) of a full-size block, left-padded
    /// to the modulus size.
    fn rsa_textbook(em: &[u8]) -> Vec<u8> {
        use rsa::traits::PublicKeyParts;
        let key = rsa_key();
        let c = rsa::BigUint::from_bytes_be(em)
            .modpow(key.e(), key.n())
            .to_bytes_be();
        let mut out = vec![0u8; key.size()];
        out[key.size() - c.len()..].copy_from_slice(&c);
        out
    }

    /// RSA ciphertexts that must all fail alike under `padding`: a block that
    /// does not conform to the padding, conforming blocks with a 31-, 32- (not
    /// the sealed key) and 33-byte payload, and wrong lengths and ranges.
    fn hostile_rsa_parts(padding: RsaPadding) -> Vec<(&'static str, Vec<u8>)> {
        let k = 256;
        // 00 03 ...: neither PKCS #1 v1.5 (needs 00 02) nor, but for a 2^-hLen
        // chance that the hash fixes, OAEP.
        let mut non_conforming = vec![0x5au8; k];
        non_conforming[0] = 0;
        non_conforming[1] = 3;
        // PKCS #1 v1.5 blocks built by hand: 00 02 PS(nonzero) 00 M.
        let pkcs1_block = |len: usize| {
            let mut em = vec![0x11u8; k];
            em[0] = 0;
            em[1] = 2;
            em[k - len - 1] = 0;
            em
        };
        let mut parts = vec![
            ("non-conforming block", rsa_textbook(&non_conforming)),
            ("31-byte payload", rsa_encrypt_raw(padding, &[7; 31])),
            ("32-byte payload", rsa_encrypt_raw(padding, &[7; 32])),
            ("33-byte payload", rsa_encrypt_raw(padding, &[7; 33])),
            (
                "one byte short",
                rsa_encrypt_raw(padding, &[7; 32])[1..].to_vec(),
            ),
            ("not below the modulus", vec![0xff; k]),
            ("empty", Vec::new()),
        ];
        if padding == RsaPadding::Pkcs1 {
            parts.push(("hand-made 31-byte block", rsa_textbook(&pkcs1_block(31))));
            parts.push(("hand-made 32-byte block", rsa_textbook(&pkcs1_block(32))));
        }
        parts
    }

    /// A sealed EDK with its RSA part replaced, decrypted: (code, message).
    fn rsa_failure(
        keyring: &dyn Keyring,
        padding: RsaPadding,
        rsa_part: &[u8],
    ) -> (String, String) {
        let ec = sample_ec();
        let mut m = encrypt(&rsa(padding), SUITE, &ec);
        let edk = &mut m.encrypted_data_keys[0];
        edk.ciphertext.truncate(intermediate::ENCRYPTED_PDK_LEN);
        edk.ciphertext.extend_from_slice(rsa_part);
        let error = decrypt(keyring, SUITE, &ec, &m.encrypted_data_keys).unwrap_err();
        (error.code().to_string(), error.to_string())
    }

    /// No padding oracle (issue 11, defect 2): every malformed RSA part, whatever
    /// is wrong with it, gives the same code and message as a wrong key.
    #[test]
    fn raw_rsa_failures_are_indistinguishable() {
        for padding in RsaPadding::ALL {
            let keyring = rsa(padding);
            // The reference: a well-formed block holding a key that is not the
            // sealed one, the same as an EDK for another key pair.
            let expected = rsa_failure(&keyring, padding, &rsa_encrypt_raw(padding, &[9; 32]));
            assert_eq!(expected.0, "NO_MATCHING_KEY");
            assert!(expected.1.contains("did not verify"), "{}", expected.1);
            for (case, part) in hostile_rsa_parts(padding) {
                assert_eq!(
                    rsa_failure(&keyring, padding, &part),
                    expected,
                    "{padding}: {case}"
                );
            }
        }
    }

    /// A PKCS #1 v1.5 block built by hand (not by the `rsa` crate) around the
    /// real intermediate key opens: the constant-time decoding accepts every
    /// conforming block, whatever its random padding bytes.
    #[test]
    fn raw_rsa_opens_hand_made_pkcs1_blocks() {
        let keyring = rsa(RsaPadding::Pkcs1);
        let ec = sample_ec();
        let serialized_ec = serialize_encryption_context(&ec).unwrap();
        for filler in [1u8, 0x80, 0xff] {
            let random: &dyn SecureRandom = &SystemRandom;
            let data_key = random.secret_bytes(32).unwrap();
            let pending =
                intermediate::PendingWrap::start(&data_key, &serialized_ec, random).unwrap();
            let mut em = vec![filler; 256];
            em[0] = 0;
            em[1] = 2;
            em[256 - 33] = 0;
            em[256 - 32..].copy_from_slice(pending.intermediate_key().expose());
            let (edk, _) = pending.finish(intermediate::ProviderWrapped {
                key_provider_id: "rsa-ns".into(),
                key_provider_info: b"rsa-key".to_vec(),
                wrapped_intermediate_key: rsa_textbook(&em),
            });
            let d = decrypt(&keyring, SUITE, &ec, &[edk]).unwrap();
            assert_eq!(d.plaintext_data_key.as_ref(), Some(&data_key), "{filler}");
        }
    }

    /// Counts platform calls; decrypts with the `rsa` crate, or fails on demand.
    #[derive(Default)]
    struct FakePlatform {
        imports: std::sync::atomic::AtomicUsize,
        decrypts: Arc<std::sync::atomic::AtomicUsize>,
        refuse_import: bool,
        fail_decrypt: bool,
    }

    struct FakePlatformKey {
        key: RsaPrivateKey,
        hash: primitives::provider::OaepHash,
        decrypts: Arc<std::sync::atomic::AtomicUsize>,
        fail: bool,
    }

    #[async_trait::async_trait(?Send)]
    impl primitives::provider::RsaOaepProvider for FakePlatform {
        async fn import_oaep_private_key(
            &self,
            pkcs8_der: &[u8],
            hash: primitives::provider::OaepHash,
        ) -> fieldseal::Result<Box<dyn primitives::provider::RsaOaepPrivateKey>> {
            use rsa::pkcs8::DecodePrivateKey;
            self.imports
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.refuse_import {
                return Err(Error::KeyProviderFailure("refused".into()));
            }
            Ok(Box::new(FakePlatformKey {
                key: RsaPrivateKey::from_pkcs8_der(pkcs8_der).unwrap(),
                hash,
                decrypts: self.decrypts.clone(),
                fail: self.fail_decrypt,
            }))
        }
    }

    #[async_trait::async_trait(?Send)]
    impl primitives::provider::RsaOaepPrivateKey for FakePlatformKey {
        async fn decrypt(
            &self,
            ciphertext: &[u8],
        ) -> fieldseal::Result<zeroize::Zeroizing<Vec<u8>>> {
            use primitives::provider::OaepHash;
            use rsa::Oaep;
            self.decrypts
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.fail {
                return Err(Error::KeyProviderFailure("platform says no".into()));
            }
            let oaep = match self.hash {
                OaepHash::Sha1 => Oaep::new::<sha1::Sha1>(),
                OaepHash::Sha256 => Oaep::new::<sha2::Sha256>(),
                OaepHash::Sha384 => Oaep::new::<sha2::Sha384>(),
                OaepHash::Sha512 => Oaep::new::<sha2::Sha512>(),
            };
            self.key
                .decrypt(oaep, ciphertext)
                .map(zeroize::Zeroizing::new)
                .map_err(|_| Error::IntegrityFailure("OAEP".into()))
        }
    }

    /// OAEP goes to the platform's provider when given one (one import, one call
    /// per EDK), PKCS #1 v1.5 never does, a refused import falls back to Rust,
    /// and a platform failure is the same failure as any other.
    #[test]
    fn raw_rsa_oaep_uses_the_platform_provider() {
        use std::sync::atomic::Ordering::SeqCst;
        let ec = sample_ec();
        for padding in RsaPadding::ALL {
            let platform = Arc::new(FakePlatform::default());
            let keyring = rsa(padding).with_oaep_provider(platform.clone());
            let rust_only = rsa(padding);
            // Sealed by the Rust keyring, opened on the platform, and back.
            round_trip(&rust_only, &keyring);
            round_trip(&keyring, &rust_only);
            let oaep = padding != RsaPadding::Pkcs1;
            assert_eq!(
                platform.imports.load(SeqCst),
                usize::from(oaep),
                "{padding}"
            );
            assert_eq!(
                platform.decrypts.load(SeqCst),
                2 * usize::from(oaep),
                "{padding}"
            );
            let m = encrypt(&rust_only, SUITE, &ec);
            let expected = rsa_failure(&rust_only, padding, &[0xff; 256]);
            for (case, part) in hostile_rsa_parts(padding) {
                assert_eq!(
                    rsa_failure(&keyring, padding, &part),
                    expected,
                    "{padding}: {case}"
                );
            }
            // A platform that refuses the key: Rust decrypts.
            let refusing = Arc::new(FakePlatform {
                refuse_import: true,
                ..Default::default()
            });
            let keyring = rsa(padding).with_oaep_provider(refusing.clone());
            let d = decrypt(&keyring, SUITE, &ec, &m.encrypted_data_keys).unwrap();
            assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
            assert_eq!(refusing.decrypts.load(SeqCst), 0);
            // A platform whose decryption fails: the same error as a bad block.
            let failing = Arc::new(FakePlatform {
                fail_decrypt: true,
                ..Default::default()
            });
            let keyring = rsa(padding).with_oaep_provider(failing.clone());
            let error = decrypt(&keyring, SUITE, &ec, &m.encrypted_data_keys);
            if oaep {
                let error = error.unwrap_err();
                assert_eq!(
                    (error.code().to_string(), error.to_string()),
                    expected,
                    "{padding}"
                );
            } else {
                assert!(error.is_ok());
            }
        }
    }

    /// Debug output names the configuration, never key material.
    #[test]
    fn raw_rsa_debug_shows_no_key() {
        let keyring =
            rsa(RsaPadding::OaepSha256Mgf1).with_oaep_provider(Arc::new(FakePlatform::default()));
        let debug = format!("{keyring:?}");
        assert!(debug.contains("platform_oaep: true"), "{debug}");
        use rsa::traits::PrivateKeyParts;
        let d = format!("{}", rsa_key().d());
        assert!(!debug.contains(&d[..16]), "{debug}");
    }

    #[test]
    fn rsa_padding_names() {
        for p in RsaPadding::ALL {
            assert_eq!(RsaPadding::parse(p.name()).unwrap(), p);
            assert_eq!(p.to_string().parse::<RsaPadding>().unwrap(), p);
        }
        assert_eq!(RsaPadding::parse("PKCS1").unwrap(), RsaPadding::Pkcs1);
        assert_eq!(RsaPadding::parse("pkcs1").unwrap(), RsaPadding::Pkcs1);
        assert_eq!(
            RsaPadding::parse("OAEP_SHA256_MGF1").unwrap(),
            RsaPadding::OaepSha256Mgf1
        );
        assert_eq!(
            RsaPadding::parse("oaep-sha384-mgf1").unwrap(),
            RsaPadding::OaepSha384Mgf1
        );
        assert_eq!(
            RsaPadding::parse("OAEP-SHA512").unwrap(),
            RsaPadding::OaepSha512Mgf1
        );
        assert_eq!(
            RsaPadding::parse("OAEP_SHA1").unwrap(),
            RsaPadding::OaepSha1Mgf1
        );
        for bad in ["", "OAEP", "OAEP_SHA224_MGF1", "RSA", "PKCS2"] {
            assert!(
                matches!(RsaPadding::parse(bad), Err(Error::InvalidConfig(_))),
                "{bad}"
            );
        }
    }

    // ------------------------------------------------------- hierarchical keyring
}

#[test]
fn static_branch_key_edk_layout() {
    let keyring = branch(7);
    let m = round_trip(&keyring, &keyring);
    let edk = &m.encrypted_data_keys[0];
    assert_eq!(edk.key_provider_id, "aws-kms-hierarchy");
    assert_eq!(edk.key_provider_info, BRANCH_KEY_ID.as_bytes());
    // encrypted pdk(48) || salt(16) || iv(12) || version(16) || wrapped(32) || tag(16)
    assert_eq!(edk.ciphertext.len(), 140);
    let version: [u8; 16] = [
        0xe9, 0xce, 0x18, 0xa3, 0xed, 0xb5, 0x42, 0x72, 0x9f, 0x86, 0x1c, 0xac, 0xb7, 0x99, 0x7f,
        0xf6,
    ];
    assert_eq!(&edk.ciphertext[48 + 28..48 + 44], &version);
}

#[test]
fn static_branch_key_rejects_bad_configuration() {
    assert!(matches!(
        StaticBranchKeyKeyring::new(BRANCH_KEY_ID, BRANCH_KEY_VERSION, &[1u8; 31]),
        Err(Error::InvalidKey(_))
    ));
    // A wrong key is INVALID_KEY whatever else is wrong (the npm package's contract).
    assert!(matches!(
        StaticBranchKeyKeyring::new("b", "v", &[1u8; 8]),
        Err(Error::InvalidKey(_))
    ));
    for version in [
        "",
        "e9ce18a3edb542729f861cacb7997ff6",
        "e9ce18a3-edb5-4272-9f86-1cacb7997ffz",
    ] {
        assert!(matches!(
            StaticBranchKeyKeyring::new(BRANCH_KEY_ID, version, &[1u8; 32]),
            Err(Error::InvalidConfig(_))
        ));
    }
    assert!(matches!(
        StaticBranchKeyKeyring::new("", BRANCH_KEY_VERSION, &[1u8; 32]),
        Err(Error::InvalidConfig(_))
    ));
    // Upper-case UUIDs are the same version.
    let upper = StaticBranchKeyKeyring::new(
        BRANCH_KEY_ID,
        &BRANCH_KEY_VERSION.to_ascii_uppercase(),
        &[7u8; 32],
    )
    .unwrap();
    round_trip(&branch(7), &upper);
}

#[test]
fn static_branch_key_other_id_or_version_does_not_open() {
    let ec = sample_ec();
    let m = encrypt(&branch(7), SUITE, &ec);
    let other_id =
        StaticBranchKeyKeyring::new("another-branch-key", BRANCH_KEY_VERSION, &[7u8; 32]).unwrap();
    let (seen, detail) =
        expect_no_matching_key(decrypt(&other_id, SUITE, &ec, &m.encrypted_data_keys));
    assert_eq!(seen, vec!["aws-kms-hierarchy".to_string()]);
    assert!(
        detail.contains("no encrypted data key is for this keyring"),
        "{detail}"
    );

    let other_version = StaticBranchKeyKeyring::new(
        BRANCH_KEY_ID,
        "00000000-0000-4000-8000-000000000000",
        &[7u8; 32],
    )
    .unwrap();
    let (_, detail) =
        expect_no_matching_key(decrypt(&other_version, SUITE, &ec, &m.encrypted_data_keys));
    assert!(
        detail.contains("e9ce18a3-edb5-4272-9f86-1cacb7997ff6"),
        "{detail}"
    );
}

// ------------------------------------------- behaviour shared by all keyrings

fn all_keyrings() -> Vec<(&'static str, Arc<dyn Keyring>)> {
    let mut all: Vec<(&'static str, Arc<dyn Keyring>)> = vec![("aes", Arc::new(aes(1)))];
    #[cfg(feature = "rsa")]
    all.push(("rsa", Arc::new(rsa(RsaPadding::OaepSha256Mgf1))));
    all.push(("hierarchy", Arc::new(branch(1))));
    all
}

#[test]
fn wrong_encryption_context_fails_for_every_keyring() {
    for (name, keyring) in all_keyrings() {
        let ec = sample_ec();
        let m = encrypt(keyring.as_ref(), SUITE, &ec);
        let mut variants = Vec::new();
        let mut changed = ec.clone();
        changed.insert("aws-crypto-table-name".into(), "Orderz".into());
        variants.push(changed);
        let mut extra = ec.clone();
        extra.insert("aws-crypto-public-key".into(), "x".into());
        variants.push(extra);
        let mut fewer = ec.clone();
        fewer.remove("aws-crypto-attr.pk");
        variants.push(fewer);
        variants.push(EncryptionContext::new());
        for wrong in variants {
            let opened = decrypt(keyring.as_ref(), SUITE, &wrong, &m.encrypted_data_keys);
            if name == "aes" {
                expect_integrity_failure(opened);
            } else {
                let (seen, _) = expect_no_matching_key(opened);
                assert_eq!(seen.len(), 1, "{name}");
            }
        }
    }
}

#[test]
fn empty_encryption_context_round_trips() {
    for (_, keyring) in all_keyrings() {
        let empty = EncryptionContext::new();
        let m = encrypt(keyring.as_ref(), SUITE, &empty);
        let d = decrypt(keyring.as_ref(), SUITE, &empty, &m.encrypted_data_keys).unwrap();
        assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
    }
}

#[test]
fn existing_data_key_is_wrapped_not_replaced() {
    for (_, keyring) in all_keyrings() {
        let ec = sample_ec();
        let mut m = EncryptionMaterials::new(SUITE, ec.clone());
        let key = SecretBytes::from_slice(&[42u8; 32]);
        m.set_plaintext_data_key(key.clone()).unwrap();
        let m = block_on(keyring.on_encrypt(m)).unwrap();
        assert_eq!(m.plaintext_data_key.as_ref(), Some(&key));
        let d = decrypt(keyring.as_ref(), SUITE, &ec, &m.encrypted_data_keys).unwrap();
        assert_eq!(d.plaintext_data_key.as_ref(), Some(&key));
    }
}

#[test]
fn decryption_materials_with_a_key_are_returned_unchanged() {
    for (_, keyring) in all_keyrings() {
        let mut d = DecryptionMaterials::new(SUITE, sample_ec());
        d.set_keys(
            SecretBytes::from_slice(&[5u8; 32]),
            SecretBytes::from_slice(&[6u8; 32]),
        )
        .unwrap();
        let out = block_on(keyring.on_decrypt(d, &[])).unwrap();
        assert_eq!(out.plaintext_data_key.unwrap().expose(), &[5u8; 32]);
        assert_eq!(out.symmetric_signing_key.unwrap().expose(), &[6u8; 32]);
    }
}

#[test]
fn malformed_edks_are_errors_not_panics() {
    for (name, keyring) in all_keyrings() {
        let ec = sample_ec();
        let m = encrypt(keyring.as_ref(), SUITE, &ec);
        let good = m.encrypted_data_keys[0].clone();
        let mut bad_edks = Vec::new();
        // Every truncation, and a few extensions.
        for len in 0..good.ciphertext.len() {
            let mut e = good.clone();
            e.ciphertext.truncate(len);
            bad_edks.push(e);
        }
        for extra in [1, 16, 300] {
            let mut e = good.clone();
            e.ciphertext.extend(std::iter::repeat(0u8).take(extra));
            bad_edks.push(e);
        }
        // Bit flips in every region.
        for i in (0..good.ciphertext.len()).step_by(7) {
            let mut e = good.clone();
            e.ciphertext[i] ^= 0x01;
            bad_edks.push(e);
        }
        // Provider info variants.
        for info in [
            vec![],
            good.key_provider_info[..good.key_provider_info.len() / 2].to_vec(),
            [good.key_provider_info.clone(), vec![0]].concat(),
            vec![0xff, 0xfe],
        ] {
            let mut e = good.clone();
            e.key_provider_info = info;
            bad_edks.push(e);
        }
        for bad in &bad_edks {
            let r = decrypt(keyring.as_ref(), SUITE, &ec, std::slice::from_ref(bad));
            assert!(r.is_err(), "{name}: a malformed EDK opened: {bad:?}");
        }
        // All the bad ones together, then the good one: the good one still opens.
        bad_edks.push(good);
        let d = decrypt(keyring.as_ref(), SUITE, &ec, &bad_edks).unwrap();
        assert_eq!(d.plaintext_data_key, m.plaintext_data_key, "{name}");
    }
}

#[test]
fn raw_aes_tampered_provider_info_fields_do_not_open() {
    let ec = sample_ec();
    let m = encrypt(&aes(1), SUITE, &ec);
    let good = &m.encrypted_data_keys[0];
    // Tag length 96 bits, IV length 16: not for this keyring.
    for (offset, value) in [(2 + 4 - 1, 96u8), (2 + 8 - 1, 16u8)] {
        let mut e = good.clone();
        e.key_provider_info[offset] = value;
        let (_, detail) = expect_no_matching_key(decrypt(&aes(1), SUITE, &ec, &[e]));
        assert!(
            detail.contains("no encrypted data key is for this keyring"),
            "{detail}"
        );
    }
    // A different IV: AES-GCM fails.
    let mut e = good.clone();
    let last = e.key_provider_info.len() - 1;
    e.key_provider_info[last] ^= 1;
    expect_integrity_failure(decrypt(&aes(1), SUITE, &ec, &[e]));
}

#[test]
fn debug_output_has_no_key_bytes() {
    let key = [0xa7u8; 32];
    let aes = RawAesKeyring::new("dbg-ns", "dbg-name", &key).unwrap();
    let hier = StaticBranchKeyKeyring::new(BRANCH_KEY_ID, BRANCH_KEY_VERSION, &key).unwrap();
    let inner = RawAesKeyring::new("dbg-ns", "dbg-name", &key).unwrap();
    let multi = MultiKeyring::new(Some(Arc::new(inner)), vec![]).unwrap();
    let forbidden = [
        "167".to_string(),
        "a7a7".to_string(),
        "A7A7".to_string(),
        B64.encode(key),
        B64.encode(&key[..3]),
    ];
    #[allow(unused_mut)] // without the `rsa` feature nothing is pushed
    let mut outputs = vec![
        format!("{aes:?}"),
        format!("{aes:#?}"),
        format!("{hier:?}"),
        format!("{multi:?}"),
    ];
    #[cfg(feature = "rsa")]
    {
        let (public, private) = rsa_pems();
        let rsa = RawRsaKeyring::new(
            "rsa-ns",
            "rsa-key",
            RsaPadding::OaepSha384Mgf1,
            Some(&public),
            Some(&private),
        )
        .unwrap();
        let out = format!("{rsa:?}");
        assert!(out.contains("OaepSha384Mgf1"));
        outputs.push(out);
    }
    for out in &outputs {
        for f in &forbidden {
            assert!(!out.contains(f.as_str()), "{out} contains {f}");
        }
        // RSA key material would show up as long digit or base64 runs.
        assert!(out.len() < 300, "{out}");
        assert!(!out.contains("MII"), "{out}");
    }
    assert!(outputs[0].contains("dbg-ns") && outputs[0].contains("dbg-name"));
    assert!(outputs[2].contains(BRANCH_KEY_ID) && outputs[2].contains(BRANCH_KEY_VERSION));
}

// ------------------------------------------------------------- multi-keyring

#[test]
fn multi_keyring_needs_a_generator_or_children() {
    assert!(matches!(
        MultiKeyring::new(None, vec![]),
        Err(Error::InvalidConfig(_))
    ));
    assert!(MultiKeyring::new(None, vec![Arc::new(aes(1))]).is_ok());
    assert!(MultiKeyring::new(Some(Arc::new(aes(1))), vec![]).is_ok());
}

#[test]
fn multi_keyring_wraps_once_per_keyring_and_any_child_opens() {
    let generator: Arc<dyn Keyring> = Arc::new(aes(1));
    let children: Vec<Arc<dyn Keyring>> = vec![
        #[cfg(feature = "rsa")]
        Arc::new(rsa(RsaPadding::OaepSha1Mgf1)),
        Arc::new(branch(3)),
    ];
    let expected_ids: &[&str] = if cfg!(feature = "rsa") {
        &["ns", "rsa-ns", "aws-kms-hierarchy"]
    } else {
        &["ns", "aws-kms-hierarchy"]
    };
    let multi = MultiKeyring::new(Some(generator.clone()), children.clone()).unwrap();
    let ec = sample_ec();
    let m = encrypt(&multi, SUITE, &ec);
    assert_eq!(m.encrypted_data_keys.len(), expected_ids.len());
    assert_eq!(m.symmetric_signing_keys.len(), expected_ids.len());
    let ids: Vec<&str> = m
        .encrypted_data_keys
        .iter()
        .map(|e| e.key_provider_id.as_str())
        .collect();
    assert_eq!(ids, expected_ids);
    // Each recipient has its own signing key.
    for pair in m.symmetric_signing_keys.windows(2) {
        assert_ne!(pair[0], pair[1]);
    }

    let all = [generator].into_iter().chain(children).collect::<Vec<_>>();
    for (i, keyring) in all.iter().enumerate() {
        let d = decrypt(keyring.as_ref(), SUITE, &ec, &m.encrypted_data_keys).unwrap();
        assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
        assert_eq!(
            d.symmetric_signing_key.as_ref(),
            Some(&m.symmetric_signing_keys[i])
        );
    }
    // The multi-keyring itself, and one made only of the last child.
    let d = decrypt(&multi, SUITE, &ec, &m.encrypted_data_keys).unwrap();
    assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
    let last = all.len() - 1;
    let only_last = MultiKeyring::new(None, vec![all[last].clone()]).unwrap();
    let d = decrypt(&only_last, SUITE, &ec, &m.encrypted_data_keys).unwrap();
    assert_eq!(
        d.symmetric_signing_key.as_ref(),
        Some(&m.symmetric_signing_keys[last])
    );
}

#[test]
fn multi_keyring_decrypt_failure_aggregates_children() {
    let ec = sample_ec();
    let m = encrypt(&aes(1), SUITE, &ec);
    let other_name = || RawAesKeyring::new("ns", "k9", &[1u8; 32]).unwrap();
    let multi = MultiKeyring::new(
        Some(Arc::new(other_name())),
        vec![Arc::new(branch(1)), Arc::new(other_name())],
    )
    .unwrap();
    let (seen, detail) =
        expect_no_matching_key(decrypt(&multi, SUITE, &ec, &m.encrypted_data_keys));
    assert_eq!(seen, vec!["ns".to_string()]);
    for part in [
        "generator",
        "child #0",
        "child #1",
        "raw AES keyring",
        "hierarchical keyring",
    ] {
        assert!(detail.contains(part), "{part} missing from {detail}");
    }
    // A child whose key the EDK names and that does not verify under it: the
    // multi-keyring says what that keyring alone says.
    let multi = MultiKeyring::new(
        Some(Arc::new(other_name())),
        vec![Arc::new(branch(1)), Arc::new(aes(3))],
    )
    .unwrap();
    let detail = expect_integrity_failure(decrypt(&multi, SUITE, &ec, &m.encrypted_data_keys));
    for part in ["generator", "child #0", "child #1", "altered or moved"] {
        assert!(detail.contains(part), "{part} missing from {detail}");
    }
}

/// A child keyring that fails every OnDecrypt with one error.
struct FailingChild(fn() -> Error);

#[async_trait::async_trait(?Send)]
impl Keyring for FailingChild {
    async fn on_encrypt(
        &self,
        materials: EncryptionMaterials,
    ) -> fieldseal::Result<EncryptionMaterials> {
        Ok(materials)
    }
    async fn on_decrypt(
        &self,
        _materials: DecryptionMaterials,
        _encrypted_data_keys: &[EncryptedDataKey],
    ) -> fieldseal::Result<DecryptionMaterials> {
        Err((self.0)())
    }
}

#[test]
fn multi_keyring_failure_codes_follow_the_keyrings_rule() {
    // One rule for a keyring's EDKs and a multi-keyring's children: a
    // provider outage (the key store's code if it came first), then a record
    // that did not verify or parse, else no matching key.
    let ec = sample_ec();
    let m = encrypt(&aes(1), SUITE, &ec);
    let other_name = || RawAesKeyring::new("ns", "k9", &[1u8; 32]).unwrap();
    let child = |f: fn() -> Error| -> Arc<dyn Keyring> { Arc::new(FailingChild(f)) };
    let store_down = || Error::KeyStoreFailure("GetItem failed: throttled".into());
    let kms_down = || Error::KeyProviderFailure("KMS Decrypt failed: throttled".into());
    let moved = || Error::IntegrityFailure("altered or moved".into());
    let truncated = || Error::MalformedCiphertext("EDK too short".into());
    type Children = Vec<Arc<dyn Keyring>>;
    let cases: [(&str, Children, &str); 6] = [
        (
            "key store down",
            vec![child(store_down)],
            "KEY_STORE_FAILURE",
        ),
        ("KMS down", vec![child(kms_down)], "KEY_PROVIDER_FAILURE"),
        (
            "key store first",
            vec![child(store_down), child(kms_down)],
            "KEY_STORE_FAILURE",
        ),
        (
            "outage over a moved record",
            vec![child(moved), child(kms_down)],
            "KEY_PROVIDER_FAILURE",
        ),
        (
            "moved record",
            vec![child(moved), child(truncated)],
            "INTEGRITY_FAILURE",
        ),
        (
            "malformed record",
            vec![child(truncated)],
            "MALFORMED_CIPHERTEXT",
        ),
    ];
    for (label, children, code) in cases {
        let multi = MultiKeyring::new(Some(Arc::new(other_name())), children).unwrap();
        let err = decrypt(&multi, SUITE, &ec, &m.encrypted_data_keys).unwrap_err();
        assert_eq!(err.code(), code, "{label}: {err}");
        assert!(err.to_string().contains("child #0"), "{label}: {err}");
    }
}

#[test]
fn multi_keyring_encrypt_rules() {
    let ec = sample_ec();
    // No generator and no data key yet: nothing can make one.
    let children_only = MultiKeyring::new(None, vec![Arc::new(aes(1))]).unwrap();
    assert!(matches!(
        block_on(children_only.on_encrypt(EncryptionMaterials::new(SUITE, ec.clone()))),
        Err(Error::InvalidConfig(_))
    ));
    // ...but with a data key already present the children wrap it.
    let mut with_key = EncryptionMaterials::new(SUITE, ec.clone());
    with_key
        .set_plaintext_data_key(SecretBytes::from_slice(&[9u8; 32]))
        .unwrap();
    let out = block_on(children_only.on_encrypt(with_key.clone())).unwrap();
    assert_eq!(out.encrypted_data_keys.len(), 1);
    // A generator given materials that already hold a key fails.
    let with_generator = MultiKeyring::new(Some(Arc::new(aes(1))), vec![]).unwrap();
    assert!(block_on(with_generator.on_encrypt(with_key)).is_err());
    // Nested multi-keyrings work.
    let inner: Arc<dyn Keyring> =
        Arc::new(MultiKeyring::new(Some(Arc::new(aes(1))), vec![Arc::new(aes(2))]).unwrap());
    let outer = MultiKeyring::new(Some(inner), vec![Arc::new(branch(4))]).unwrap();
    let m = encrypt(&outer, SUITE, &ec);
    assert_eq!(m.encrypted_data_keys.len(), 3);
    let d = decrypt(&branch(4), SUITE, &ec, &m.encrypted_data_keys).unwrap();
    assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
    let d = decrypt(&outer, SUITE, &ec, &m.encrypted_data_keys).unwrap();
    assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
}

// ------------------------------------------------ randomness from the provider

/// A predictable byte stream standing in for a CSPRNG: two encryptions
/// given fresh copies of it must produce the same bytes if, and only if,
/// every random byte they use comes from it.
#[derive(Default)]
struct CountingRandom(std::sync::Mutex<u64>);

impl fieldseal::primitives::provider::SecureRandom for CountingRandom {
    fn fill(&self, buf: &mut [u8]) -> fieldseal::Result<()> {
        let mut next = self.0.lock().unwrap();
        for b in buf.iter_mut() {
            *next += 1;
            *b = (next.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8;
        }
        Ok(())
    }
}

/// A source that always fails, as a platform without a CSPRNG.
struct BrokenRandom;

impl fieldseal::primitives::provider::SecureRandom for BrokenRandom {
    fn fill(&self, _: &mut [u8]) -> fieldseal::Result<()> {
        Err(Error::KeyProviderFailure("no entropy here".into()))
    }
}

fn encryptor_drawing_from(
    suite: AlgorithmSuiteId,
    random: Arc<dyn fieldseal::primitives::provider::SecureRandom>,
) -> fieldseal::ItemEncryptor {
    use fieldseal::CryptoAction;
    let actions = [
        ("pk".to_string(), CryptoAction::SignOnly),
        ("secret".to_string(), CryptoAction::EncryptAndSign),
    ]
    .into();
    let keyring = MultiKeyring::new(Some(Arc::new(aes(1))), vec![Arc::new(branch(2))]).unwrap();
    let mut config = fieldseal::ItemEncryptorConfig::new("T", "pk", actions, Arc::new(keyring));
    config.algorithm_suite_id = suite;
    config.crypto.random = random;
    fieldseal::ItemEncryptor::new(config).unwrap()
}

fn sample_item() -> fieldseal::Item {
    use fieldseal::AttributeValue;
    [
        ("pk".to_string(), AttributeValue::S("p#1".into())),
        ("secret".to_string(), AttributeValue::S("s3cret".into())),
    ]
    .into()
}

/// The data key, every intermediate key, IV and salt, the message id and
/// the ECDSA key come from `CryptoProvider::random`: with the same source,
/// the whole item (0x6700) or its header (0x6701, whose signature is
/// randomized by the signer) comes out byte for byte the same.
#[test]
fn every_random_byte_comes_from_the_crypto_provider() {
    for suite in SUITES {
        let seal = || {
            let random = Arc::new(CountingRandom::default());
            let encryptor = encryptor_drawing_from(suite, random.clone());
            let sealed = block_on(encryptor.encrypt_item(&sample_item())).unwrap();
            assert!(
                *random.0.lock().unwrap() > 0,
                "{suite:?}: the source was used"
            );
            let opened = block_on(encryptor.decrypt_item(&sealed)).unwrap();
            assert_eq!(opened, sample_item());
            sealed
        };
        let (first, second) = (seal(), seal());
        assert_eq!(first["aws_dbe_head"], second["aws_dbe_head"], "{suite:?}");
        if !suite.is_signing() {
            assert_eq!(first, second, "{suite:?}");
        }
    }
}

/// A failing source fails the encryption with a typed error (no panic, no
/// weak key): at the ECDSA key for 0x6701, at the data key for 0x6700.
#[test]
fn a_failing_random_source_fails_encryption() {
    for suite in SUITES {
        let encryptor = encryptor_drawing_from(suite, Arc::new(BrokenRandom));
        match block_on(encryptor.encrypt_item(&sample_item())) {
            Err(Error::KeyProviderFailure(m)) => assert!(m.contains("no entropy"), "{m}"),
            other => panic!("{suite:?}: expected a key provider failure, got {other:?}"),
        }
    }
}

// --------------------------------------------------------- the keyring joint

/// A whole keyring in a few lines: the provider XORs the intermediate key
/// with a pad (never do this for real) and answers unwraps as told.
struct PadProvider {
    pad: [u8; 32],
    answer: fn(&[u8]) -> fieldseal::Result<Unwrapped>,
    broken: BrokenEdks,
    claim_fails: bool,
    unwraps: std::sync::atomic::AtomicUsize,
}

fn pad_provider(answer: fn(&[u8]) -> fieldseal::Result<Unwrapped>) -> PadProvider {
    PadProvider {
        pad: [0x5a; 32],
        answer,
        broken: BrokenEdks::NoMatchingKey,
        claim_fails: false,
        unwraps: Default::default(),
    }
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

#[async_trait::async_trait(?Send)]
impl KeyProvider for PadProvider {
    fn describe(&self) -> String {
        "pad keyring".into()
    }
    fn broken_edks(&self) -> BrokenEdks {
        self.broken
    }
    async fn wrap(&self, request: WrapRequest<'_>) -> fieldseal::Result<Wrapped> {
        let intermediate_key = request.fresh_intermediate_key()?;
        let wrapped = xor(intermediate_key.expose(), &self.pad);
        Ok(Wrapped {
            intermediate_key,
            edk: intermediate::ProviderWrapped {
                key_provider_id: "pad".into(),
                key_provider_info: Vec::new(),
                wrapped_intermediate_key: wrapped,
            },
            key_use: None,
        })
    }
    fn claim(&self, _index: usize, edk: &EncryptedDataKey) -> fieldseal::Result<Claim> {
        if self.claim_fails {
            return Err(Error::MalformedCiphertext(
                "unreadable provider info".into(),
            ));
        }
        Ok(match edk.key_provider_id.as_str() {
            "pad" => Claim::Mine,
            "pad-elsewhere" => Claim::Decline("it is for another pad".into()),
            _ => Claim::Skip,
        })
    }
    async fn unwrap(&self, request: UnwrapRequest<'_>) -> fieldseal::Result<Unwrapped> {
        self.unwraps
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = xor(request.wrapped, &self.pad);
        (self.answer)(&key)
    }
}

fn pad_key(key: &[u8]) -> fieldseal::Result<Unwrapped> {
    Ok(Unwrapped::Key(SecretBytes::from_slice(key), None))
}

#[test]
fn a_key_provider_is_a_keyring() {
    let ec = sample_ec();
    let provider = pad_provider(pad_key);
    let m = encrypt(&provider, SUITE, &ec);
    let d = decrypt(&provider, SUITE, &ec, &m.encrypted_data_keys).unwrap();
    assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
    assert_eq!(
        d.symmetric_signing_key.as_ref(),
        Some(&m.symmetric_signing_keys[0])
    );
    // In a multi-keyring, next to a built-in one.
    let multi = MultiKeyring::new(
        Some(Arc::new(aes(1))),
        vec![Arc::new(pad_provider(pad_key))],
    )
    .unwrap();
    let m = encrypt(&multi, SUITE, &ec);
    let d = decrypt(&provider, SUITE, &ec, &m.encrypted_data_keys).unwrap();
    assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
}

/// The generic OnDecrypt's accounting: a declined or skipped EDK is "no
/// matching key", a provider that failed makes it a provider failure, a
/// broken EDK keeps its code only for providers that vouch for their EDKs,
/// and a claim that fails stops everything before any unwrap.
#[test]
fn the_joint_accounts_for_every_edk() {
    let ec = sample_ec();
    let m = encrypt(&pad_provider(pad_key), SUITE, &ec);
    let mut edks = m.encrypted_data_keys.clone();
    let mut elsewhere = edks[0].clone();
    elsewhere.key_provider_id = "pad-elsewhere".into();
    edks.insert(0, elsewhere);

    let declining = pad_provider(|_| Ok(Unwrapped::Declined("not today".into())));
    let (seen, detail) = expect_no_matching_key(decrypt(&declining, SUITE, &ec, &edks));
    assert_eq!(seen, ["pad-elsewhere", "pad"]);
    assert_eq!(
        detail,
        "pad keyring: EDK #0: it is for another pad; EDK #1: not today"
    );

    let failing = pad_provider(|_| Ok(Unwrapped::Failed("the service is down".into())));
    match decrypt(&failing, SUITE, &ec, &edks) {
        Err(Error::KeyProviderFailure(m)) => assert_eq!(
            m,
            "pad keyring: no encrypted data key opened: EDK #1: the service is down; \
             EDK #0: it is for another pad"
        ),
        other => panic!("expected a provider failure, got {other:?}"),
    }

    // A wrong key does not open the encrypted data key.
    let wrong = pad_provider(|_| pad_key(&[7; 32]));
    let (_, detail) = expect_no_matching_key(decrypt(&wrong, SUITE, &ec, &edks));
    assert!(
        detail.contains("EDK #1: integrity check failed"),
        "{detail}"
    );
    let vouching = PadProvider {
        broken: BrokenEdks::KeepCode,
        ..pad_provider(|_| pad_key(&[7; 32]))
    };
    assert!(matches!(
        decrypt(&vouching, SUITE, &ec, &edks),
        Err(Error::IntegrityFailure(_))
    ));

    let unreadable = PadProvider {
        claim_fails: true,
        ..pad_provider(pad_key)
    };
    assert!(matches!(
        decrypt(&unreadable, SUITE, &ec, &edks),
        Err(Error::MalformedCiphertext(_))
    ));
    assert_eq!(
        unreadable
            .unwraps
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}
