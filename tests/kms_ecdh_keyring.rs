//! The AWS KMS ECDH keyring (issue 17) against an in-memory KMS that really
//! holds P-256/P-384/P-521 private keys: DeriveSharedSecret computes ECDH
//! with the RustCrypto curve crates (not fieldseal's code), GetPublicKey
//! returns the DER SPKI. Round trips through the item encryptor for both
//! schemes, every curve and both suites; interchange with the raw ECDH
//! keyring both ways; KMS call counts; every bad input.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::orders_config;
use fieldseal::keyring::kms::{
    AwsKmsEcdhKeyring, AwsKmsEcdhScheme, DecryptRequest, DecryptResponse,
    DeriveSharedSecretRequest, DeriveSharedSecretResponse, GenerateDataKeyRequest,
    GenerateDataKeyResponse, GetPublicKeyRequest, GetPublicKeyResponse, KmsClient, KmsError,
};
use fieldseal::keyring::{Keyring, RawEcdhKeyring, RawEcdhScheme};
use fieldseal::materials::{
    DecryptionMaterials, EncryptedDataKey, EncryptionContext, EncryptionMaterials, SecretBytes,
};
use fieldseal::primitives::ecdh::{EcPublicKey, EcdhCurve};
use fieldseal::{AlgorithmSuiteId, AttributeValue as V, CryptoAction as A, Item, ItemEncryptor};
use p384::elliptic_curve::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use pollster::block_on;
use rand_core::OsRng;

const SUITES: [AlgorithmSuiteId; 2] = [
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
];

/// The sender's KMS key (KEY_AGREEMENT), and another one (the recipient's).
const KEY_S: &str = "arn:aws:kms:us-west-2:111122223333:key/aaaa1111-12ab-34cd-56ef-1234567890ab";
const KEY_R: &str = "arn:aws:kms:us-west-2:111122223333:key/bbbb2222-12ab-34cd-56ef-1234567890ab";
/// A key of the same curve whose usage is SIGN_VERIFY.
const KEY_SIGN: &str =
    "arn:aws:kms:us-west-2:111122223333:key/cccc3333-12ab-34cd-56ef-1234567890ab";

// ---------------------------------------------------------------- keys

#[derive(Clone)]
enum Sk {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
}

impl Sk {
    fn random(curve: EcdhCurve) -> Sk {
        match curve {
            EcdhCurve::P256 => Sk::P256(p256::SecretKey::random(&mut OsRng)),
            EcdhCurve::P384 => Sk::P384(p384::SecretKey::random(&mut OsRng)),
            EcdhCurve::P521 => Sk::P521(p521::SecretKey::random(&mut OsRng)),
        }
    }

    fn curve(&self) -> EcdhCurve {
        match self {
            Sk::P256(_) => EcdhCurve::P256,
            Sk::P384(_) => EcdhCurve::P384,
            Sk::P521(_) => EcdhCurve::P521,
        }
    }

    fn spki(&self) -> Vec<u8> {
        match self {
            Sk::P256(k) => k.public_key().to_public_key_der().unwrap().into_vec(),
            Sk::P384(k) => k.public_key().to_public_key_der().unwrap().into_vec(),
            Sk::P521(k) => k.public_key().to_public_key_der().unwrap().into_vec(),
        }
    }

    fn pem(&self) -> String {
        match self {
            Sk::P256(k) => k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            Sk::P384(k) => k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            Sk::P521(k) => k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        }
    }

    /// ECDH with a DER SPKI as KMS does it: the x-coordinate; `None` if the
    /// SPKI is not a valid point of this key's curve.
    fn derive(&self, spki: &[u8]) -> Option<Vec<u8>> {
        macro_rules! dh {
            ($krate:ident, $k:expr) => {{
                let pk = $krate::PublicKey::from_public_key_der(spki).ok()?;
                let shared = $krate::ecdh::diffie_hellman($k.to_nonzero_scalar(), pk.as_affine());
                Some(shared.raw_secret_bytes().to_vec())
            }};
        }
        match self {
            Sk::P256(k) => dh!(p256, k),
            Sk::P384(k) => dh!(p384, k),
            Sk::P521(k) => dh!(p521, k),
        }
    }
}

// ---------------------------------------------------------------- the fake KMS

#[derive(Clone)]
enum Fault {
    /// DeriveSharedSecret / GetPublicKey fail with this error name.
    Error(&'static str),
    /// DeriveSharedSecret answers for this key id.
    KeyId(&'static str),
    /// DeriveSharedSecret leaves KeyAgreementAlgorithm out.
    NoAlgorithm,
}

#[derive(Default)]
struct World {
    calls: BTreeMap<&'static str, usize>,
    derives: Vec<DeriveSharedSecretRequest>,
    fault: Option<Fault>,
}

#[derive(Clone)]
struct FakeKms {
    /// ARN -> (private key, KeyUsage).
    keys: Arc<HashMap<&'static str, (Sk, &'static str)>>,
    world: Arc<Mutex<World>>,
}

fn kms_err(name: &str) -> KmsError {
    KmsError {
        name: name.into(),
        message: format!("fake KMS says {name}"),
    }
}

impl FakeKms {
    /// KEY_S and KEY_R on `curve` (fresh keys), KEY_SIGN a signing key.
    fn new(curve: EcdhCurve) -> Self {
        let mut keys = HashMap::new();
        keys.insert(KEY_S, (Sk::random(curve), "KEY_AGREEMENT"));
        keys.insert(KEY_R, (Sk::random(curve), "KEY_AGREEMENT"));
        keys.insert(KEY_SIGN, (Sk::random(curve), "SIGN_VERIFY"));
        FakeKms {
            keys: Arc::new(keys),
            world: Arc::default(),
        }
    }

    fn client(&self) -> Arc<dyn KmsClient> {
        Arc::new(self.clone())
    }

    fn key(&self, arn: &str) -> &Sk {
        &self.keys[arn].0
    }

    fn calls(&self, op: &str) -> usize {
        self.world
            .lock()
            .unwrap()
            .calls
            .get(op)
            .copied()
            .unwrap_or(0)
    }

    fn total_calls(&self) -> usize {
        self.world.lock().unwrap().calls.values().sum()
    }

    fn derives(&self) -> Vec<DeriveSharedSecretRequest> {
        self.world.lock().unwrap().derives.clone()
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
        Err(kms_err("InvalidKeyUsageException"))
    }

    async fn decrypt(&self, _request: DecryptRequest) -> Result<DecryptResponse, KmsError> {
        self.count("Decrypt");
        Err(kms_err("InvalidKeyUsageException"))
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
            public_key: key.spki(),
            key_usage: Some(usage.to_string()),
            key_spec: Some(key.curve().mpl_name().to_string()),
        })
    }

    async fn derive_shared_secret(
        &self,
        request: DeriveSharedSecretRequest,
    ) -> Result<DeriveSharedSecretResponse, KmsError> {
        let fault = self.count("DeriveSharedSecret");
        self.world.lock().unwrap().derives.push(request.clone());
        if let Some(Fault::Error(name)) = fault {
            return Err(kms_err(name));
        }
        let (key, usage) = self
            .keys
            .get(request.key_id.as_str())
            .ok_or_else(|| kms_err("NotFoundException"))?;
        if *usage != "KEY_AGREEMENT" {
            return Err(kms_err("InvalidKeyUsageException"));
        }
        let secret = key
            .derive(&request.public_key)
            .ok_or_else(|| kms_err("ValidationException"))?;
        Ok(DeriveSharedSecretResponse {
            key_id: match fault {
                Some(Fault::KeyId(id)) => id.to_string(),
                _ => request.key_id,
            },
            shared_secret: SecretBytes::new(secret),
            key_agreement_algorithm: match fault {
                Some(Fault::NoAlgorithm) => None,
                _ => Some("ECDH".into()),
            },
        })
    }
}

// ---------------------------------------------------------------- keyrings

fn kms_static(
    kms: &FakeKms,
    curve: EcdhCurve,
    sender_arn: &str,
    sender_public_key: Option<&[u8]>,
    recipient_public_key: &[u8],
) -> fieldseal::Result<AwsKmsEcdhKeyring> {
    block_on(AwsKmsEcdhKeyring::new(
        curve,
        AwsKmsEcdhScheme::KmsPrivateKeyToStaticPublicKey {
            sender_kms_key_id: sender_arn,
            sender_public_key,
            recipient_public_key,
        },
        kms.client(),
        vec!["grant-1".into()],
    ))
}

fn kms_discovery(
    kms: &FakeKms,
    curve: EcdhCurve,
    arn: &str,
) -> fieldseal::Result<AwsKmsEcdhKeyring> {
    block_on(AwsKmsEcdhKeyring::new(
        curve,
        AwsKmsEcdhScheme::KmsPublicKeyDiscovery {
            recipient_kms_key_id: arn,
            recipient_public_key: None,
        },
        kms.client(),
        vec![],
    ))
}

fn raw_discovery(private: &Sk) -> RawEcdhKeyring {
    RawEcdhKeyring::new(
        private.curve(),
        RawEcdhScheme::PublicKeyDiscovery {
            recipient_static_private_key: private.pem().as_bytes(),
        },
    )
    .unwrap()
}

fn raw_static(private: &Sk, peer: &[u8]) -> RawEcdhKeyring {
    RawEcdhKeyring::new(
        private.curve(),
        RawEcdhScheme::StaticPrivateKeyToStaticPublicKey {
            sender_static_private_key: private.pem().as_bytes(),
            recipient_public_key: peer,
        },
    )
    .unwrap()
}

fn raw_ephemeral(curve: EcdhCurve, recipient: &[u8]) -> RawEcdhKeyring {
    RawEcdhKeyring::new(
        curve,
        RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
            recipient_public_key: recipient,
        },
    )
    .unwrap()
}

// ---------------------------------------------------------------- items

fn config(keyring: Arc<dyn Keyring>, suite: AlgorithmSuiteId) -> fieldseal::ItemEncryptorConfig {
    let mut c = orders_config(
        &[
            ("pk", A::SignOnly),
            ("sk", A::SignOnly),
            ("card", A::EncryptAndSign),
        ],
        keyring,
    );
    c.algorithm_suite_id = suite;
    c
}

fn item() -> Item {
    [
        ("pk", V::S("order#1".into())),
        ("sk", V::N("42".into())),
        ("card", V::S("4111 1111 1111 1111".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn seal(keyring: impl Keyring + 'static, suite: AlgorithmSuiteId) -> Item {
    let enc = ItemEncryptor::new(config(Arc::new(keyring), suite)).unwrap();
    let sealed = block_on(enc.encrypt_item(&item())).unwrap();
    assert!(matches!(sealed["card"], V::B(_)), "card not encrypted");
    sealed
}

fn open(
    keyring: impl Keyring + 'static,
    suite: AlgorithmSuiteId,
    sealed: &Item,
) -> fieldseal::Result<Item> {
    let enc = ItemEncryptor::new(config(Arc::new(keyring), suite)).unwrap();
    block_on(enc.decrypt_item(sealed))
}

fn assert_opens(
    keyring: impl Keyring + 'static,
    suite: AlgorithmSuiteId,
    sealed: &Item,
    who: &str,
) {
    let opened = open(keyring, suite, sealed).unwrap_or_else(|e| panic!("{who}: {e}"));
    assert_eq!(opened["card"], V::S("4111 1111 1111 1111".into()), "{who}");
}

fn ec() -> EncryptionContext {
    [
        ("aws-crypto-table-name", "Orders"),
        ("aws-crypto-partition-name", "pk"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn encrypt(keyring: &dyn Keyring) -> fieldseal::Result<EncryptionMaterials> {
    block_on(keyring.on_encrypt(EncryptionMaterials::new(SUITES[0], ec())))
}

fn decrypt(
    keyring: &dyn Keyring,
    edks: &[EncryptedDataKey],
) -> fieldseal::Result<DecryptionMaterials> {
    block_on(keyring.on_decrypt(DecryptionMaterials::new(SUITES[0], ec()), edks))
}

// ---------------------------------------------------------------- round trips

#[test]
fn kms_static_round_trips_and_the_raw_recipient_opens_for_every_curve_and_suite() {
    for curve in EcdhCurve::ALL {
        let kms = FakeKms::new(curve);
        let recipient = Sk::random(curve);
        let sender_spki = kms.key(KEY_S).spki();
        for suite in SUITES {
            // Sender public key fetched with GetPublicKey (once, at construction).
            let before = kms.calls("GetPublicKey");
            let keyring = kms_static(&kms, curve, KEY_S, None, &recipient.spki()).unwrap();
            assert_eq!(kms.calls("GetPublicKey"), before + 1, "{curve}");
            assert_eq!(
                keyring.sender_public_key().unwrap().to_spki_der(),
                sender_spki,
                "{curve}"
            );
            let derives = kms.calls("DeriveSharedSecret");
            let sealed = seal(keyring, suite);
            assert_eq!(
                kms.calls("DeriveSharedSecret"),
                derives + 1,
                "one derive per seal"
            );
            let req = kms.derives().pop().unwrap();
            assert_eq!(req.key_id, KEY_S);
            assert_eq!(
                req.public_key,
                recipient.spki(),
                "PublicKey = recipient SPKI"
            );
            assert_eq!(req.grant_tokens, vec!["grant-1".to_string()]);

            // The sender opens its own item (public key given: no GetPublicKey).
            let gpk = kms.calls("GetPublicKey");
            let derives = kms.calls("DeriveSharedSecret");
            let sender =
                kms_static(&kms, curve, KEY_S, Some(&sender_spki), &recipient.spki()).unwrap();
            assert_opens(sender, suite, &sealed, "KMS sender");
            assert_eq!(kms.calls("GetPublicKey"), gpk, "{curve}");
            assert_eq!(
                kms.calls("DeriveSharedSecret"),
                derives + 1,
                "one derive per open"
            );

            // The recipient's raw keyrings open it with no KMS at all.
            let total = kms.total_calls();
            assert_opens(raw_discovery(&recipient), suite, &sealed, "raw discovery");
            assert_opens(
                raw_static(&recipient, &sender_spki),
                suite,
                &sealed,
                "raw static (recipient)",
            );
            assert_eq!(kms.total_calls(), total);

            // A third party does not.
            let other = Sk::random(curve);
            let err = open(raw_discovery(&other), suite, &sealed).unwrap_err();
            assert_eq!(err.code(), "NO_MATCHING_KEY", "{err}");
        }
    }
}

#[test]
fn kms_discovery_opens_what_raw_and_kms_senders_sealed_to_its_key() {
    for curve in EcdhCurve::ALL {
        let kms = FakeKms::new(curve);
        let recipient_spki = kms.key(KEY_R).spki();
        for suite in SUITES {
            let gpk = kms.calls("GetPublicKey");
            let discovery = || kms_discovery(&kms, curve, KEY_R).unwrap();
            discovery();
            assert_eq!(
                kms.calls("GetPublicKey"),
                gpk + 1,
                "discovery fetches its key"
            );

            // A raw static sender.
            let raw_sender = Sk::random(curve);
            let sealed = seal(raw_static(&raw_sender, &recipient_spki), suite);
            let derives = kms.calls("DeriveSharedSecret");
            assert_opens(discovery(), suite, &sealed, "KMS discovery <- raw static");
            assert_eq!(kms.calls("DeriveSharedSecret"), derives + 1);
            let req = kms.derives().pop().unwrap();
            assert_eq!(req.key_id, KEY_R);
            assert_eq!(
                req.public_key,
                raw_sender.spki(),
                "agrees with the EDK's sender"
            );
            // ... and the KMS static keyring of the recipient, configured
            // with the raw sender's public key, too (either-order match).
            assert_opens(
                kms_static(
                    &kms,
                    curve,
                    KEY_R,
                    Some(&recipient_spki),
                    &raw_sender.spki(),
                )
                .unwrap(),
                suite,
                &sealed,
                "KMS static (recipient) <- raw static",
            );

            // A raw ephemeral sender.
            let sealed = seal(raw_ephemeral(curve, &recipient_spki), suite);
            assert_opens(
                discovery(),
                suite,
                &sealed,
                "KMS discovery <- raw ephemeral",
            );

            // A KMS sender (KEY_S) to KEY_R: discovery of KEY_R and the
            // static keyring (KEY_R, KEY_S's public key) open it.
            let sealed = seal(
                kms_static(&kms, curve, KEY_S, None, &recipient_spki).unwrap(),
                suite,
            );
            assert_opens(discovery(), suite, &sealed, "KMS discovery <- KMS static");
            assert_opens(
                kms_static(&kms, curve, KEY_R, None, &kms.key(KEY_S).spki()).unwrap(),
                suite,
                &sealed,
                "KMS static (recipient) <- KMS static",
            );
            // Discovery of the sender's key does not (it is not the recipient).
            let err = open(kms_discovery(&kms, curve, KEY_S).unwrap(), suite, &sealed).unwrap_err();
            assert_eq!(err.code(), "NO_MATCHING_KEY", "{err}");
        }
    }
}

#[test]
fn edk_is_the_raw_format_under_the_aws_kms_ecdh_provider_id() {
    for (curve, info_len) in EcdhCurve::ALL.into_iter().zip([75, 107, 143]) {
        let kms = FakeKms::new(curve);
        let recipient = Sk::random(curve);
        let keyring = kms_static(&kms, curve, KEY_S, None, &recipient.spki()).unwrap();
        let m = encrypt(&keyring).unwrap();
        let edk = &m.encrypted_data_keys[0];
        assert_eq!(edk.key_provider_id, "aws-kms-ecdh");
        assert_eq!(edk.key_provider_info.len(), info_len);
        let n = curve.compressed_len();
        let info = &edk.key_provider_info;
        assert_eq!(info[0], 1);
        let recipient_key = EcPublicKey::from_spki_der(&recipient.spki(), curve).unwrap();
        let sender_key = EcPublicKey::from_spki_der(&kms.key(KEY_S).spki(), curve).unwrap();
        assert_eq!(&info[5..5 + n], recipient_key.compressed());
        assert_eq!(&info[9 + n..], sender_key.compressed());
        assert_eq!(edk.ciphertext.len(), 48 + 32 + 32 + 32 + 16);
        // Relabelled raw-ecdh, the same bytes open with the KMS keyring too
        // (MPL: both filters take both ids).
        let mut raw = edk.clone();
        raw.key_provider_id = "raw-ecdh".into();
        decrypt(&keyring, &[raw]).unwrap();
    }
}

// ---------------------------------------------------------------- bad inputs

fn expect(r: fieldseal::Result<AwsKmsEcdhKeyring>, code: &str, needles: &[&str]) -> String {
    let err = r.expect_err("should fail");
    assert_eq!(err.code(), code, "{err}");
    let msg = err.to_string();
    for n in needles {
        assert!(msg.contains(n), "{msg:?} should mention {n:?}");
    }
    msg
}

/// An SPKI of `curve` whose point is (1, 1): not on the curve.
fn off_curve_spki(curve: EcdhCurve) -> Vec<u8> {
    let der = Sk::random(curve).spki();
    let n = curve.field_len();
    let mut out = der[..der.len() - (1 + 2 * n)].to_vec();
    out.push(4);
    for _ in 0..2 {
        out.extend(std::iter::repeat(0).take(n - 1));
        out.push(1);
    }
    out
}

#[test]
fn bad_configurations_fail_typed_naming_the_key_and_before_any_kms_call() {
    let curve = EcdhCurve::P256;
    let kms = FakeKms::new(curve);
    let recipient = Sk::random(curve);
    // A recipient key of another curve: curve mismatch, no KMS call.
    let p384 = Sk::random(EcdhCurve::P384).spki();
    expect(
        kms_static(&kms, curve, KEY_S, None, &p384),
        "INVALID_KEY",
        &[KEY_S, "recipient"],
    );
    // A recipient point off the curve.
    expect(
        kms_static(&kms, curve, KEY_S, None, &off_curve_spki(curve)),
        "INVALID_KEY",
        &[KEY_S, "recipient"],
    );
    // A given sender key of another curve, or off the curve.
    expect(
        kms_static(&kms, curve, KEY_S, Some(&p384), &recipient.spki()),
        "INVALID_KEY",
        &[KEY_S, "sender"],
    );
    expect(
        kms_static(
            &kms,
            curve,
            KEY_S,
            Some(&off_curve_spki(curve)),
            &recipient.spki(),
        ),
        "INVALID_KEY",
        &[KEY_S, "sender"],
    );
    // Not a key ARN.
    for id in [
        "alias/ecdh",
        "aaaa1111-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-west-2:111122223333:alias/ecdh",
    ] {
        expect(
            kms_static(&kms, curve, id, None, &recipient.spki()),
            "INVALID_CONFIG",
            &[id],
        );
        expect(kms_discovery(&kms, curve, id), "INVALID_CONFIG", &[id]);
    }
    assert_eq!(kms.total_calls(), 0, "nothing reached KMS");

    // GetPublicKey: a key of another curve, a signing key, a failure.
    let p384_kms = FakeKms::new(EcdhCurve::P384);
    let msg = expect(
        kms_discovery(&p384_kms, curve, KEY_R),
        "INVALID_KEY",
        &[KEY_R, "ECC_NIST_P384"],
    );
    assert!(msg.contains("curve mismatch"), "{msg}");
    expect(
        kms_discovery(&kms, curve, KEY_SIGN),
        "INVALID_KEY",
        &[KEY_SIGN, "SIGN_VERIFY"],
    );
    expect(
        kms_static(&kms, curve, KEY_SIGN, None, &recipient.spki()),
        "INVALID_KEY",
        &[KEY_SIGN, "KEY_AGREEMENT"],
    );
    kms.fault(Some(Fault::Error("AccessDeniedException")));
    expect(
        kms_discovery(&kms, curve, KEY_R),
        "KEY_PROVIDER_FAILURE",
        &[KEY_R, "us-west-2", "AccessDeniedException"],
    );
    assert_eq!(kms.calls("DeriveSharedSecret"), 0);
}

#[test]
fn discovery_refuses_to_encrypt_naming_its_key() {
    let kms = FakeKms::new(EcdhCurve::P384);
    let keyring = kms_discovery(&kms, EcdhCurve::P384, KEY_R).unwrap();
    let err = encrypt(&keyring).unwrap_err();
    assert_eq!(err.code(), "INVALID_CONFIG", "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(KEY_R) && msg.contains("kmsPublicKeyDiscovery"),
        "{msg}"
    );
    assert_eq!(kms.calls("DeriveSharedSecret"), 0);
}

#[test]
fn kms_failures_are_key_provider_failures_naming_arn_region_and_error() {
    let curve = EcdhCurve::P521;
    let kms = FakeKms::new(curve);
    let recipient = Sk::random(curve);
    let keyring = kms_static(&kms, curve, KEY_S, None, &recipient.spki()).unwrap();
    let m = encrypt(&keyring).unwrap();
    for (fault, needle) in [
        (
            Fault::Error("AccessDeniedException"),
            "AccessDeniedException",
        ),
        (Fault::Error("DisabledException"), "DisabledException"),
        (Fault::KeyId(KEY_R), KEY_R),
        (Fault::NoAlgorithm, "ECDH"),
    ] {
        kms.fault(Some(fault));
        for err in [
            encrypt(&keyring).unwrap_err(),
            decrypt(&keyring, &m.encrypted_data_keys).unwrap_err(),
        ] {
            assert_eq!(err.code(), "KEY_PROVIDER_FAILURE", "{err}");
            let msg = err.to_string();
            assert!(
                msg.contains(KEY_S) && msg.contains("us-west-2") && msg.contains(needle),
                "{msg}"
            );
        }
    }
    kms.fault(None);
    decrypt(&keyring, &m.encrypted_data_keys).unwrap();
}

#[test]
fn bad_edks_are_refused_before_kms_and_tampering_is_an_integrity_failure() {
    let curve = EcdhCurve::P256;
    let kms = FakeKms::new(curve);
    let recipient_spki = kms.key(KEY_R).spki();
    let m = encrypt(&raw_ephemeral(curve, &recipient_spki)).unwrap();
    let keyring = kms_discovery(&kms, curve, KEY_R).unwrap();
    let edk = &m.encrypted_data_keys[0];
    let derives = kms.calls("DeriveSharedSecret");

    // A sender x with no point on the curve: refused with no derive call.
    let n = curve.compressed_len();
    let bad_x = (1u8..=255)
        .map(|x| {
            let mut p = vec![0x02];
            p.extend(std::iter::repeat(0).take(n - 2));
            p.push(x);
            p
        })
        .find(|p| EcPublicKey::from_sec1(curve, p).is_err())
        .unwrap();
    let mut bad = edk.clone();
    bad.key_provider_info.truncate(9 + n);
    bad.key_provider_info.extend_from_slice(&bad_x);
    let err = decrypt(&keyring, &[bad]).unwrap_err();
    assert_eq!(err.code(), "MALFORMED_CIPHERTEXT", "{err}");
    assert!(err.to_string().contains("sender public key"), "{err}");
    // Provider info of a wrong length: the whole OnDecrypt fails (MPL filter).
    let mut bad = edk.clone();
    bad.key_provider_info.pop();
    assert_eq!(
        decrypt(&keyring, &[bad]).unwrap_err().code(),
        "MALFORMED_CIPHERTEXT"
    );
    // A truncated ciphertext.
    let mut bad = edk.clone();
    bad.ciphertext.pop();
    assert_eq!(
        decrypt(&keyring, &[bad]).unwrap_err().code(),
        "MALFORMED_CIPHERTEXT"
    );
    assert_eq!(
        kms.calls("DeriveSharedSecret"),
        derives,
        "no derive for a bad EDK"
    );

    // Tampered commitment key / wrapped key / another context.
    for at in [48 + 40, 48 + 70, 48 + 100] {
        let mut bad = edk.clone();
        bad.ciphertext[at] ^= 1;
        assert_eq!(
            decrypt(&keyring, &[bad]).unwrap_err().code(),
            "INTEGRITY_FAILURE"
        );
    }
    let mut moved = ec();
    moved.insert("aws-crypto-partition-name".into(), "other".into());
    let err = block_on(keyring.on_decrypt(
        DecryptionMaterials::new(SUITES[0], moved),
        &m.encrypted_data_keys,
    ))
    .unwrap_err();
    assert_eq!(err.code(), "INTEGRITY_FAILURE", "{err}");
    decrypt(&keyring, &m.encrypted_data_keys).unwrap();
}

#[test]
fn debug_counts_grant_tokens() {
    let kms = FakeKms::new(EcdhCurve::P256);
    let keyring = kms_static(
        &kms,
        EcdhCurve::P256,
        KEY_S,
        None,
        &Sk::random(EcdhCurve::P256).spki(),
    )
    .unwrap();
    let dbg = format!("{keyring:?}");
    assert!(dbg.contains(KEY_S) && !dbg.contains("grant-1"), "{dbg}");
}

#[test]
fn public_keys_may_be_pem_and_a_private_key_pem_is_refused() {
    let curve = EcdhCurve::P384;
    let kms = FakeKms::new(curve);
    let recipient = Sk::random(curve);
    let pem = match &recipient {
        Sk::P384(k) => k.public_key().to_public_key_pem(LineEnding::LF).unwrap(),
        _ => unreachable!(),
    };
    let keyring = kms_static(&kms, curve, KEY_S, None, pem.as_bytes()).unwrap();
    assert_eq!(
        keyring.recipient_public_key().to_spki_der(),
        recipient.spki()
    );
    expect(
        kms_static(&kms, curve, KEY_S, None, recipient.pem().as_bytes()),
        "INVALID_KEY",
        &[KEY_S, "not a PUBLIC KEY"],
    );
}
