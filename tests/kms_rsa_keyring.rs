//! The AWS KMS RSA keyring against an in-memory KMS that really holds RSA
//! private keys: Decrypt runs RSA-OAEP with the requested EncryptionAlgorithm
//! (SHA-1 or SHA-256) and fails as KMS does (InvalidCiphertextException for
//! a ciphertext that does not decrypt), GetPublicKey returns the DER SPKI.
//! Every call is counted and every Decrypt request recorded.
#![cfg(feature = "rsa")]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use fieldseal::keyring::intermediate::{open_data_key, ENCRYPTED_PDK_LEN};
use fieldseal::keyring::kms::{
    get_public_key_pem, AwsKmsRsaKeyring, DecryptRequest, DecryptResponse, EncryptionAlgorithm,
    GenerateDataKeyRequest, GenerateDataKeyResponse, GetPublicKeyRequest, GetPublicKeyResponse,
    KmsClient, KmsError, RSA_PROVIDER_ID,
};
use fieldseal::keyring::{MultiKeyring, RawAesKeyring};
use fieldseal::materials::{
    serialize_encryption_context, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials,
    SecretBytes,
};
use fieldseal::primitives::sha384;
use fieldseal::{
    AlgorithmSuiteId, AttributeValue, CryptoAction, Error, Item, ItemEncryptor,
    ItemEncryptorConfig, Keyring,
};
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::{Oaep, RsaPrivateKey};

const ALGORITHMS: [EncryptionAlgorithm; 2] = [
    EncryptionAlgorithm::RsaesOaepSha256,
    EncryptionAlgorithm::RsaesOaepSha1,
];
const UNSIGNED: AlgorithmSuiteId = AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384;
const SIGNED: AlgorithmSuiteId =
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384;

/// An RSA key of the fake KMS, in us-west-2.
const KEY_A: &str = "arn:aws:kms:us-west-2:111122223333:key/aaaa1111-12ab-34cd-56ef-1234567890ab";
/// Another RSA key.
const KEY_B: &str = "arn:aws:kms:us-west-2:111122223333:key/bbbb2222-12ab-34cd-56ef-1234567890ab";
/// An RSA key for signing only (GetPublicKey says SIGN_VERIFY).
const KEY_SIGN: &str =
    "arn:aws:kms:us-west-2:111122223333:key/cccc3333-12ab-34cd-56ef-1234567890ab";
/// A multi-Region RSA key and its replica.
const MRK_WEST: &str =
    "arn:aws:kms:us-west-2:111122223333:key/mrk-1234567890abcdef1234567890abcdef";
const MRK_EAST: &str =
    "arn:aws:kms:us-east-1:111122223333:key/mrk-1234567890abcdef1234567890abcdef";

/// A P-256 public key: a valid SPKI PEM that is not RSA.
const EC_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEtW6cVoCiBmTmdTKVS6pfpR7gkrcH
S+RKBGMj0rnsnCk76VoQA419Obrv5fj+sMCKZgfBb4cy9Lq15huNhj1RQg==
-----END PUBLIC KEY-----
";

struct Keys {
    a: RsaPrivateKey,
    b: RsaPrivateKey,
    mrk: RsaPrivateKey,
    small: RsaPrivateKey,
}

/// Generated once per test binary (RSA key generation is slow).
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        a: RsaPrivateKey::new(&mut OsRng, 2048).unwrap(),
        b: RsaPrivateKey::new(&mut OsRng, 3072).unwrap(),
        mrk: RsaPrivateKey::new(&mut OsRng, 2048).unwrap(),
        small: RsaPrivateKey::new(&mut OsRng, 1024).unwrap(),
    })
}

fn pem(key: &RsaPrivateKey) -> String {
    key.to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
}

// ---------------------------------------------------------------------------
// The fake KMS

#[derive(Clone)]
enum Fault {
    /// Decrypt / GetPublicKey fail with this error name.
    Error(&'static str),
    /// Decrypt answers for this key id.
    KeyId(&'static str),
    /// Decrypt answers with this plaintext instead.
    Plaintext(Vec<u8>),
}

#[derive(Default)]
struct World {
    /// "Operation" -> number of calls.
    calls: BTreeMap<&'static str, usize>,
    decrypts: Vec<DecryptRequest>,
    fault: Option<Fault>,
}

#[derive(Clone)]
struct FakeKms {
    keys: Arc<HashMap<&'static str, (&'static RsaPrivateKey, &'static str)>>,
    world: Arc<Mutex<World>>,
}

fn kms_err(name: &str) -> KmsError {
    KmsError {
        name: name.into(),
        message: format!("fake KMS says {name}"),
    }
}

impl FakeKms {
    fn new() -> Self {
        let k = keys();
        let mut map: HashMap<&'static str, (&'static RsaPrivateKey, &'static str)> = HashMap::new();
        map.insert(KEY_A, (&k.a, "ENCRYPT_DECRYPT"));
        map.insert(KEY_B, (&k.b, "ENCRYPT_DECRYPT"));
        map.insert(KEY_SIGN, (&k.a, "SIGN_VERIFY"));
        // A replica shares its key material, as in KMS.
        map.insert(MRK_WEST, (&k.mrk, "ENCRYPT_DECRYPT"));
        map.insert(MRK_EAST, (&k.mrk, "ENCRYPT_DECRYPT"));
        FakeKms {
            keys: Arc::new(map),
            world: Arc::default(),
        }
    }

    fn client(&self) -> Option<Arc<dyn KmsClient>> {
        Some(Arc::new(self.clone()))
    }

    fn calls(&self) -> BTreeMap<&'static str, usize> {
        self.world.lock().unwrap().calls.clone()
    }

    fn total_calls(&self) -> usize {
        self.calls().values().sum()
    }

    fn decrypts(&self) -> Vec<DecryptRequest> {
        self.world.lock().unwrap().decrypts.clone()
    }

    fn fault(&self, fault: Option<Fault>) {
        self.world.lock().unwrap().fault = fault;
    }

    fn count(&self, op: &'static str) -> Option<Fault> {
        let mut w = self.world.lock().unwrap();
        *w.calls.entry(op).or_default() += 1;
        w.fault.clone()
    }
}

#[async_trait(?Send)]
impl KmsClient for FakeKms {
    async fn generate_data_key(
        &self,
        _request: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        self.count("GenerateDataKey");
        Err(kms_err("UnsupportedOperationException"))
    }

    /// Asymmetric Decrypt: RSA-OAEP with the requested algorithm; KMS takes
    /// no encryption context for it.
    async fn decrypt(&self, request: DecryptRequest) -> Result<DecryptResponse, KmsError> {
        let fault = self.count("Decrypt");
        self.world.lock().unwrap().decrypts.push(request.clone());
        if let Some(Fault::Error(name)) = fault {
            return Err(kms_err(name));
        }
        let (key, _) = self
            .keys
            .get(request.key_id.as_str())
            .ok_or_else(|| kms_err("NotFoundException"))?;
        if !request.encryption_context.is_empty() {
            return Err(kms_err("InvalidCiphertextException"));
        }
        let padding = match request.encryption_algorithm {
            Some(EncryptionAlgorithm::RsaesOaepSha256) => Oaep::new::<sha2::Sha256>(),
            Some(EncryptionAlgorithm::RsaesOaepSha1) => Oaep::new::<sha1::Sha1>(),
            None => return Err(kms_err("InvalidKeyUsageException")),
        };
        let plaintext = key
            .decrypt(padding, &request.ciphertext_blob)
            .map_err(|_| kms_err("InvalidCiphertextException"))?;
        Ok(DecryptResponse {
            key_id: match fault {
                Some(Fault::KeyId(id)) => id.to_string(),
                _ => request.key_id,
            },
            plaintext: match fault {
                Some(Fault::Plaintext(p)) => SecretBytes::new(p),
                _ => SecretBytes::new(plaintext),
            },
        })
    }

    async fn get_public_key(
        &self,
        request: GetPublicKeyRequest,
    ) -> Result<GetPublicKeyResponse, KmsError> {
        if let Some(Fault::Error(name)) = self.count("GetPublicKey") {
            return Err(kms_err(name));
        }
        let (key, usage) = self
            .keys
            .get(request.key_id.as_str())
            .ok_or_else(|| kms_err("NotFoundException"))?;
        Ok(GetPublicKeyResponse {
            key_id: request.key_id,
            public_key: key
                .to_public_key()
                .to_public_key_der()
                .unwrap()
                .as_bytes()
                .to_vec(),
            key_usage: Some(usage.to_string()),
            key_spec: Some("RSA_2048".into()),
        })
    }
}

// ---------------------------------------------------------------------------
// Helpers

fn sealer(key: &str, algorithm: EncryptionAlgorithm, public: &RsaPrivateKey) -> AwsKmsRsaKeyring {
    AwsKmsRsaKeyring::new(key, algorithm, Some(&pem(public)), None, vec![]).unwrap()
}

fn opener(key: &str, algorithm: EncryptionAlgorithm, kms: &FakeKms) -> AwsKmsRsaKeyring {
    AwsKmsRsaKeyring::new(key, algorithm, None, kms.client(), vec![]).unwrap()
}

fn encryptor(keyring: Arc<dyn Keyring>, suite: AlgorithmSuiteId) -> ItemEncryptor {
    let actions = BTreeMap::from([
        ("pk".to_string(), CryptoAction::SignOnly),
        ("secret".to_string(), CryptoAction::EncryptAndSign),
    ]);
    let mut config = ItemEncryptorConfig::new("Orders", "pk", actions, keyring);
    config.algorithm_suite_id = suite;
    ItemEncryptor::new(config).unwrap()
}

fn item(i: usize) -> Item {
    Item::from([
        ("pk".to_string(), AttributeValue::S(format!("order#{i}"))),
        (
            "secret".to_string(),
            AttributeValue::S(format!("4111 1111 1111 {i:04}")),
        ),
    ])
}

fn seal(keyring: impl Keyring + 'static, i: usize) -> fieldseal::Result<Item> {
    pollster::block_on(encryptor(Arc::new(keyring), UNSIGNED).encrypt_item(&item(i)))
}

fn open(keyring: impl Keyring + 'static, sealed: &Item) -> fieldseal::Result<Item> {
    pollster::block_on(encryptor(Arc::new(keyring), UNSIGNED).decrypt_item(sealed))
}

fn ec(tenant: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("aws-crypto-table-name".to_string(), "Orders".to_string()),
        ("tenant".to_string(), tenant.to_string()),
    ])
}

fn wrap_edk(keyring: &dyn Keyring, context: &BTreeMap<String, String>) -> EncryptionMaterials {
    pollster::block_on(keyring.on_encrypt(EncryptionMaterials::new(UNSIGNED, context.clone())))
        .unwrap()
}

fn unwrap_edks(
    keyring: &dyn Keyring,
    suite: AlgorithmSuiteId,
    context: &BTreeMap<String, String>,
    edks: &[EncryptedDataKey],
) -> fieldseal::Result<DecryptionMaterials> {
    pollster::block_on(keyring.on_decrypt(DecryptionMaterials::new(suite, context.clone()), edks))
}

fn assert_error(error: &Error, code: &str, needles: &[&str]) {
    assert_eq!(error.code(), code, "{error}");
    let text = error.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn items_round_trip_with_both_algorithms_sealing_without_kms_and_opening_with_one_decrypt_each() {
    let kms = FakeKms::new();
    for algorithm in ALGORITHMS {
        let sealed: Vec<Item> = (0..3)
            .map(|i| seal(sealer(KEY_A, algorithm, &keys().a), i).unwrap())
            .collect();
        // A keyring with both a public key and a client seals without KMS too.
        let both = AwsKmsRsaKeyring::new(
            KEY_A,
            algorithm,
            Some(&pem(&keys().a)),
            kms.client(),
            vec!["grant-1".into()],
        )
        .unwrap();
        let sealed_by_both = seal(both, 3).unwrap();
        assert_eq!(
            kms.total_calls(),
            0,
            "sealing called KMS: {:?}",
            kms.calls()
        );

        for (i, sealed) in sealed.iter().enumerate() {
            assert_eq!(
                open(opener(KEY_A, algorithm, &kms), sealed).unwrap(),
                item(i)
            );
        }
        let both =
            AwsKmsRsaKeyring::new(KEY_A, algorithm, None, kms.client(), vec!["grant-1".into()])
                .unwrap();
        assert_eq!(open(both, &sealed_by_both).unwrap(), item(3));

        let requests = kms.decrypts();
        assert_eq!(kms.calls(), BTreeMap::from([("Decrypt", 4)]));
        for (i, request) in requests.iter().enumerate() {
            assert_eq!(request.key_id, KEY_A);
            assert_eq!(request.encryption_algorithm, Some(algorithm));
            assert!(request.encryption_context.is_empty());
            assert_eq!(request.ciphertext_blob.len(), 256);
            let tokens: Vec<String> = if i == 3 {
                vec!["grant-1".into()]
            } else {
                vec![]
            };
            assert_eq!(request.grant_tokens, tokens);
        }
        kms.world.lock().unwrap().calls.clear();
        kms.world.lock().unwrap().decrypts.clear();
    }
}

#[test]
fn the_edk_is_aws_kms_rsa_the_key_arn_and_pdk_then_rsa_of_context_digest_and_intermediate_key() {
    for algorithm in ALGORITHMS {
        let context = ec("acme");
        let materials = wrap_edk(&sealer(KEY_B, algorithm, &keys().b), &context);
        let [edk] = &materials.encrypted_data_keys[..] else {
            panic!("one EDK expected")
        };
        assert_eq!(edk.key_provider_id, RSA_PROVIDER_ID);
        assert_eq!(edk.key_provider_id, "aws-kms-rsa");
        assert_eq!(edk.key_provider_info, KEY_B.as_bytes());
        // 3072-bit key: 384 bytes of RSA after the 48-byte encrypted data key.
        assert_eq!(edk.ciphertext.len(), ENCRYPTED_PDK_LEN + 384);
        let (encrypted_pdk, rsa_part) = edk.ciphertext.split_at(ENCRYPTED_PDK_LEN);
        let padding = match algorithm {
            EncryptionAlgorithm::RsaesOaepSha256 => Oaep::new::<sha2::Sha256>(),
            EncryptionAlgorithm::RsaesOaepSha1 => Oaep::new::<sha1::Sha1>(),
        };
        let plaintext = keys().b.decrypt(padding, rsa_part).unwrap();
        assert_eq!(plaintext.len(), 48 + 32);
        let serialized = serialize_encryption_context(&context).unwrap();
        assert_eq!(plaintext[..48], sha384(&serialized));
        // The rest is the intermediate key that opens the encrypted data key.
        let (data_key, _) = open_data_key(
            encrypted_pdk,
            &SecretBytes::from_slice(&plaintext[48..]),
            &serialized,
        )
        .unwrap();
        assert_eq!(
            data_key.expose(),
            materials.plaintext_data_key.as_ref().unwrap().expose()
        );
    }
}

#[test]
fn edks_of_other_keys_and_providers_are_skipped_without_a_call() {
    let kms = FakeKms::new();
    let algorithm = EncryptionAlgorithm::RsaesOaepSha256;
    let sealed = seal(sealer(KEY_B, algorithm, &keys().b), 1).unwrap();
    let error = open(opener(KEY_A, algorithm, &kms), &sealed).unwrap_err();
    assert_error(
        &error,
        "NO_MATCHING_KEY",
        &[KEY_A, &format!("it is for {KEY_B}")],
    );
    assert_eq!(kms.total_calls(), 0);

    // A multi-keyring's EDKs: raw AES first, then KMS RSA; only the RSA one
    // is tried, once.
    let aes = || RawAesKeyring::new("ns", "aes", &[7u8; 32]).unwrap();
    let multi = MultiKeyring::new(
        Some(Arc::new(aes())),
        vec![Arc::new(sealer(KEY_A, algorithm, &keys().a))],
    )
    .unwrap();
    let sealed = seal(multi, 2).unwrap();
    assert_eq!(
        open(opener(KEY_A, algorithm, &kms), &sealed).unwrap(),
        item(2)
    );
    assert_eq!(kms.calls(), BTreeMap::from([("Decrypt", 1)]));
    assert_eq!(open(aes(), &sealed).unwrap(), item(2));
    assert_eq!(kms.calls(), BTreeMap::from([("Decrypt", 1)]));
}

#[test]
fn a_replica_of_a_multi_region_key_opens_calling_kms_with_its_own_arn() {
    let kms = FakeKms::new();
    let algorithm = EncryptionAlgorithm::RsaesOaepSha256;
    let sealed = seal(sealer(MRK_EAST, algorithm, &keys().mrk), 1).unwrap();
    assert_eq!(
        open(opener(MRK_WEST, algorithm, &kms), &sealed).unwrap(),
        item(1)
    );
    let requests = kms.decrypts();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].key_id, MRK_WEST);
}

#[test]
fn the_signing_suite_is_refused_on_encrypt_and_decrypt_naming_the_suite_to_use() {
    let kms = FakeKms::new();
    let algorithm = EncryptionAlgorithm::RsaesOaepSha256;
    let needles = [
        KEY_A,
        "0x6701",
        "0x6700",
        "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384",
    ];
    let signed = encryptor(Arc::new(sealer(KEY_A, algorithm, &keys().a)), SIGNED);
    let error = pollster::block_on(signed.encrypt_item(&item(1))).unwrap_err();
    assert_error(&error, "INVALID_CONFIG", &needles);

    let materials = wrap_edk(&sealer(KEY_A, algorithm, &keys().a), &ec("acme"));
    let error = unwrap_edks(
        &opener(KEY_A, algorithm, &kms),
        SIGNED,
        &ec("acme"),
        &materials.encrypted_data_keys,
    )
    .unwrap_err();
    assert_error(&error, "INVALID_CONFIG", &needles);
    assert_eq!(kms.total_calls(), 0);
    // The same EDKs open under the unsigned suite.
    unwrap_edks(
        &opener(KEY_A, algorithm, &kms),
        UNSIGNED,
        &ec("acme"),
        &materials.encrypted_data_keys,
    )
    .unwrap();
}

#[test]
fn bad_public_keys_are_invalid_key_naming_the_key() {
    let algorithm = EncryptionAlgorithm::RsaesOaepSha256;
    let new = |pem: &str| AwsKmsRsaKeyring::new(KEY_A, algorithm, Some(pem), None, vec![]);
    for not_rsa in ["not a pem", EC_PUBLIC_KEY, ""] {
        assert_error(&new(not_rsa).unwrap_err(), "INVALID_KEY", &[KEY_A, "RSA"]);
    }
    let small = new(&pem(&keys().small)).unwrap_err();
    assert_error(&small, "INVALID_KEY", &[KEY_A, "1024 bits", "2048"]);
    // PKCS#1 PEM is accepted as well (the raw RSA keyring's parser).
    use rsa::pkcs1::EncodeRsaPublicKey;
    let pkcs1 = keys()
        .a
        .to_public_key()
        .to_pkcs1_pem(LineEnding::LF)
        .unwrap();
    new(&pkcs1).unwrap();
}

#[test]
fn constructors_validate_identifiers_and_need_a_public_key_or_a_client() {
    let algorithm = EncryptionAlgorithm::RsaesOaepSha1;
    let pem = pem(&keys().a);
    let new = |id: &str| AwsKmsRsaKeyring::new(id, algorithm, Some(&pem), None, vec![]);
    for (id, why) in [
        ("arn:aws:kms:us-west-2:111122223333:alias/orders", "alias"),
        ("alias/orders", "not an ARN"),
        ("aaaa1111-12ab-34cd-56ef-1234567890ab", "not an ARN"),
        ("arn:aws:kms:us-west-2:111122223333", "ARN"),
        ("", "not an ARN"),
    ] {
        assert_error(&new(id).unwrap_err(), "INVALID_CONFIG", &[why]);
    }
    let neither = AwsKmsRsaKeyring::new(KEY_A, algorithm, None, None, vec![]).unwrap_err();
    assert_error(&neither, "INVALID_CONFIG", &[KEY_A, "public key", "client"]);
    let tokens = vec![String::new()];
    let empty_token =
        AwsKmsRsaKeyring::new(KEY_A, algorithm, Some(&pem), None, tokens).unwrap_err();
    assert_error(&empty_token, "INVALID_CONFIG", &["grant token"]);
    assert_eq!(
        EncryptionAlgorithm::parse("RSAES_OAEP_SHA_256").unwrap(),
        EncryptionAlgorithm::RsaesOaepSha256
    );
    assert_eq!(
        EncryptionAlgorithm::parse("RSAES_OAEP_SHA_1").unwrap(),
        EncryptionAlgorithm::RsaesOaepSha1
    );
    for bad in [
        "SYMMETRIC_DEFAULT",
        "SM2PKE",
        "rsaes_oaep_sha_256",
        "OAEP_SHA256_MGF1",
    ] {
        assert_error(
            &EncryptionAlgorithm::parse(bad).unwrap_err(),
            "INVALID_CONFIG",
            &["RSAES_OAEP_SHA_256"],
        );
    }
}

#[test]
fn no_public_key_cannot_seal_and_no_client_cannot_open() {
    let kms = FakeKms::new();
    let algorithm = EncryptionAlgorithm::RsaesOaepSha256;
    let error = seal(opener(KEY_A, algorithm, &kms), 1).unwrap_err();
    assert_error(
        &error,
        "INVALID_CONFIG",
        &[KEY_A, "no public key", "publicKeyPem"],
    );

    let sealed = seal(sealer(KEY_A, algorithm, &keys().a), 1).unwrap();
    let error = open(sealer(KEY_A, algorithm, &keys().a), &sealed).unwrap_err();
    assert_error(
        &error,
        "NO_MATCHING_KEY",
        &[KEY_A, "no KMS client", "kms:Decrypt"],
    );
    assert_eq!(kms.total_calls(), 0);
}

#[test]
fn kms_failures_are_key_provider_failures_naming_arn_region_and_error() {
    let kms = FakeKms::new();
    let algorithm = EncryptionAlgorithm::RsaesOaepSha256;
    let sealed = seal(sealer(KEY_A, algorithm, &keys().a), 1).unwrap();
    for name in [
        "AccessDeniedException",
        "DisabledException",
        "KMSInvalidStateException",
        "ThrottlingException",
    ] {
        kms.fault(Some(Fault::Error(name)));
        let error = open(opener(KEY_A, algorithm, &kms), &sealed).unwrap_err();
        assert_error(
            &error,
            "KEY_PROVIDER_FAILURE",
            &[KEY_A, "us-west-2", name, "Decrypt"],
        );
    }
    kms.fault(Some(Fault::KeyId(KEY_B)));
    let error = open(opener(KEY_A, algorithm, &kms), &sealed).unwrap_err();
    assert_error(
        &error,
        "KEY_PROVIDER_FAILURE",
        &[KEY_A, "answered for key", KEY_B],
    );
    kms.fault(None);
    assert_eq!(
        open(opener(KEY_A, algorithm, &kms), &sealed).unwrap(),
        item(1)
    );
}

#[test]
fn what_kms_cannot_decrypt_or_does_not_match_the_item_is_an_integrity_failure() {
    let kms = FakeKms::new();
    // Sealed with SHA-256, opened with SHA-1: KMS answers
    // InvalidCiphertextException, as it does for an altered ciphertext.
    let sealed = seal(
        sealer(KEY_A, EncryptionAlgorithm::RsaesOaepSha256, &keys().a),
        1,
    )
    .unwrap();
    let error = open(
        opener(KEY_A, EncryptionAlgorithm::RsaesOaepSha1, &kms),
        &sealed,
    )
    .unwrap_err();
    assert_error(
        &error,
        "INTEGRITY_FAILURE",
        &[
            KEY_A,
            "us-west-2",
            "InvalidCiphertextException",
            "RSAES_OAEP_SHA_1",
        ],
    );

    // An EDK sealed for one encryption context, offered with another: the
    // digest does not match (one Decrypt, then refused).
    let algorithm = EncryptionAlgorithm::RsaesOaepSha256;
    let materials = wrap_edk(&sealer(KEY_A, algorithm, &keys().a), &ec("acme"));
    let before = kms.total_calls();
    let error = unwrap_edks(
        &opener(KEY_A, algorithm, &kms),
        UNSIGNED,
        &ec("globex"),
        &materials.encrypted_data_keys,
    )
    .unwrap_err();
    assert_error(&error, "INTEGRITY_FAILURE", &[KEY_A, "digest"]);
    assert_eq!(kms.total_calls(), before + 1);

    // A plaintext of the wrong length.
    kms.fault(Some(Fault::Plaintext(vec![1u8; 32])));
    let error = unwrap_edks(
        &opener(KEY_A, algorithm, &kms),
        UNSIGNED,
        &ec("acme"),
        &materials.encrypted_data_keys,
    )
    .unwrap_err();
    assert_error(&error, "INTEGRITY_FAILURE", &[KEY_A, "32 bytes", "80"]);
    kms.fault(None);
}

#[test]
fn malformed_aws_kms_rsa_edks_fail_before_any_call() {
    let kms = FakeKms::new();
    let algorithm = EncryptionAlgorithm::RsaesOaepSha256;
    let materials = wrap_edk(&sealer(KEY_A, algorithm, &keys().a), &ec("acme"));
    let good = materials.encrypted_data_keys[0].clone();
    let with_info = |info: &[u8]| EncryptedDataKey {
        key_provider_info: info.to_vec(),
        ..good.clone()
    };
    for (edk, needle) in [
        (with_info(b"alias/orders"), "EDK #0"),
        (with_info(&[0xff, 0xfe]), "not UTF-8"),
    ] {
        let error = unwrap_edks(
            &opener(KEY_A, algorithm, &kms),
            UNSIGNED,
            &ec("acme"),
            &[edk],
        )
        .unwrap_err();
        assert_error(&error, "MALFORMED_CIPHERTEXT", &[KEY_A, needle]);
    }
    assert_eq!(kms.total_calls(), 0);
}

#[test]
fn get_public_key_pem_returns_an_spki_pem_that_seals() {
    let kms = FakeKms::new();
    let pem_text = pollster::block_on(get_public_key_pem(&kms, KEY_A, vec![])).unwrap();
    assert!(pem_text.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(pem_text.lines().all(|l| l.len() <= 64));
    assert_eq!(pem_text, pem(&keys().a));
    let algorithm = EncryptionAlgorithm::RsaesOaepSha256;
    let keyring = AwsKmsRsaKeyring::new(KEY_A, algorithm, Some(&pem_text), None, vec![]).unwrap();
    let sealed = seal(keyring, 1).unwrap();
    assert_eq!(kms.calls(), BTreeMap::from([("GetPublicKey", 1)]));
    assert_eq!(
        open(opener(KEY_A, algorithm, &kms), &sealed).unwrap(),
        item(1)
    );

    let error = pollster::block_on(get_public_key_pem(&kms, KEY_SIGN, vec![])).unwrap_err();
    assert_error(
        &error,
        "INVALID_KEY",
        &[KEY_SIGN, "SIGN_VERIFY", "ENCRYPT_DECRYPT"],
    );
    kms.fault(Some(Fault::Error("AccessDeniedException")));
    let error = pollster::block_on(get_public_key_pem(&kms, KEY_A, vec![])).unwrap_err();
    assert_error(
        &error,
        "KEY_PROVIDER_FAILURE",
        &[KEY_A, "GetPublicKey", "AccessDeniedException"],
    );

    // A client without GetPublicKey (the trait's default) says so.
    struct DecryptOnly;
    #[async_trait(?Send)]
    impl KmsClient for DecryptOnly {
        async fn generate_data_key(
            &self,
            _: GenerateDataKeyRequest,
        ) -> Result<GenerateDataKeyResponse, KmsError> {
            Err(kms_err("Unsupported"))
        }
        async fn decrypt(&self, _: DecryptRequest) -> Result<DecryptResponse, KmsError> {
            Err(kms_err("Unsupported"))
        }
    }
    let error = pollster::block_on(get_public_key_pem(&DecryptOnly, KEY_A, vec![])).unwrap_err();
    assert_error(
        &error,
        "KEY_PROVIDER_FAILURE",
        &["UnsupportedOperation", "GetPublicKey"],
    );
}

#[test]
fn debug_output_hides_grant_tokens() {
    let kms = FakeKms::new();
    let keyring = AwsKmsRsaKeyring::new(
        KEY_A,
        EncryptionAlgorithm::RsaesOaepSha256,
        Some(&pem(&keys().a)),
        kms.client(),
        vec!["secret-grant-token".into()],
    )
    .unwrap();
    let debug = format!(
        "{keyring:?} {:?}",
        GetPublicKeyRequest {
            key_id: KEY_A.into(),
            grant_tokens: vec!["secret-grant-token".into()],
        }
    );
    assert!(!debug.contains("secret-grant-token"), "{debug}");
    assert!(debug.contains(KEY_A), "{debug}");
}
