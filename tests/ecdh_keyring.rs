//! The raw ECDH keyring (issue 17): round trips through the item encryptor
//! for every scheme, curve and suite; the EDK's shape; bad keys and bad EDKs
//! (curve mismatch, points off the curve refused before any agreement,
//! malformed keys, discovery used to encrypt); tampering; and the MPL's own
//! ECC test keys (../shared/vectors/dbesdk/keys.json).

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::orders_config;
use fieldseal::keyring::{Keyring, RawEcdhKeyring, RawEcdhScheme};
use fieldseal::materials::{
    DecryptionMaterials, EncryptedDataKey, EncryptionContext, EncryptionMaterials, SecretBytes,
};
use fieldseal::primitives::ecdh::{EcPrivateKey, EcPublicKey, EcdhCurve, RustCryptoEcdh};
use fieldseal::primitives::provider::{EcdhProvider, SecureRandom};
use fieldseal::{
    AlgorithmSuiteId, AttributeValue as V, CryptoAction as A, Error, Item, ItemEncryptor,
};
use p384::elliptic_curve::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use pollster::block_on;
use rand_core::OsRng;
use serde_json::Value;

const SUITES: [AlgorithmSuiteId; 2] = [
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
];

// ---------------------------------------------------------------- keys

/// A fresh key pair of `curve`: (PKCS#8 PEM private key, DER SPKI public key).
fn key_pair(curve: EcdhCurve) -> (String, Vec<u8>) {
    macro_rules! pair {
        ($krate:ident) => {{
            let sk = $krate::SecretKey::random(&mut OsRng);
            (
                sk.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
                sk.public_key().to_public_key_der().unwrap().into_vec(),
            )
        }};
    }
    match curve {
        EcdhCurve::P256 => pair!(p256),
        EcdhCurve::P384 => pair!(p384),
        EcdhCurve::P521 => pair!(p521),
    }
}

/// The DER SPKI header of a named-curve key with an uncompressed point, to
/// build SPKIs around points of our choice.
fn spki_with_point(curve: EcdhCurve, point: &[u8]) -> Vec<u8> {
    let (_, der) = key_pair(curve);
    let header = der.len() - (1 + 2 * curve.field_len());
    let mut out = der[..header].to_vec();
    out.extend_from_slice(point);
    out
}

/// An uncompressed point (x = 1, y = 1): within the field, not on any of the curves.
fn off_curve_point(curve: EcdhCurve) -> Vec<u8> {
    let n = curve.field_len();
    let mut p = vec![4u8];
    p.extend(std::iter::repeat(0).take(n - 1));
    p.push(1);
    p.extend(std::iter::repeat(0).take(n - 1));
    p.push(1);
    p
}

/// A compressed encoding whose x has no y on the curve (found by search).
fn off_curve_compressed(curve: EcdhCurve) -> Vec<u8> {
    for x in 1u8..=255 {
        let mut p = vec![0x02];
        p.extend(std::iter::repeat(0).take(curve.field_len() - 1));
        p.push(x);
        if EcPublicKey::from_sec1(curve, &p).is_err() {
            return p;
        }
    }
    panic!("no x without a point on {curve} among 1..=255");
}

fn static_keyring(private: &str, peer: &[u8], curve: EcdhCurve) -> RawEcdhKeyring {
    RawEcdhKeyring::new(
        curve,
        RawEcdhScheme::StaticPrivateKeyToStaticPublicKey {
            sender_static_private_key: private.as_bytes(),
            recipient_public_key: peer,
        },
    )
    .unwrap()
}

fn ephemeral_keyring(recipient: &[u8], curve: EcdhCurve) -> RawEcdhKeyring {
    RawEcdhKeyring::new(
        curve,
        RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
            recipient_public_key: recipient,
        },
    )
    .unwrap()
}

fn discovery_keyring(private: &str, curve: EcdhCurve) -> RawEcdhKeyring {
    RawEcdhKeyring::new(
        curve,
        RawEcdhScheme::PublicKeyDiscovery {
            recipient_static_private_key: private.as_bytes(),
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
            ("note", A::DoNothing),
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
        ("note", V::S("unsigned".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn seal(keyring: RawEcdhKeyring, suite: AlgorithmSuiteId) -> Item {
    let enc = ItemEncryptor::new(config(Arc::new(keyring), suite)).unwrap();
    let sealed = block_on(enc.encrypt_item(&item())).unwrap();
    let V::B(card) = &sealed["card"] else {
        panic!("card not encrypted")
    };
    assert!(!card.windows(4).any(|w| w == b"4111"), "plaintext leaked");
    sealed
}

fn open(
    keyring: RawEcdhKeyring,
    suite: AlgorithmSuiteId,
    sealed: &Item,
) -> fieldseal::Result<Item> {
    let enc = ItemEncryptor::new(config(Arc::new(keyring), suite)).unwrap();
    block_on(enc.decrypt_item(sealed))
}

fn assert_opens(keyring: RawEcdhKeyring, suite: AlgorithmSuiteId, sealed: &Item, who: &str) {
    let opened = open(keyring, suite, sealed).unwrap_or_else(|e| panic!("{who}: {e}"));
    assert_eq!(opened["card"], V::S("4111 1111 1111 1111".into()), "{who}");
    assert_eq!(opened["pk"], V::S("order#1".into()), "{who}");
}

#[test]
fn static_static_round_trips_for_every_curve_and_suite_both_parties_open() {
    for curve in EcdhCurve::ALL {
        let (sender_private, sender_public) = key_pair(curve);
        let (recipient_private, recipient_public) = key_pair(curve);
        for suite in SUITES {
            let sealed = seal(
                static_keyring(&sender_private, &recipient_public, curve),
                suite,
            );
            // The sender itself, the recipient configured the other way
            // round (its private key, the sender's public key), and the
            // recipient's discovery keyring all open it (MPL filter: the
            // two public keys in either order).
            assert_opens(
                static_keyring(&sender_private, &recipient_public, curve),
                suite,
                &sealed,
                "sender",
            );
            assert_opens(
                static_keyring(&recipient_private, &sender_public, curve),
                suite,
                &sealed,
                "recipient (static)",
            );
            assert_opens(
                discovery_keyring(&recipient_private, curve),
                suite,
                &sealed,
                "recipient (discovery)",
            );
            // A third party's discovery keyring does not.
            let (other_private, _) = key_pair(curve);
            let err = open(discovery_keyring(&other_private, curve), suite, &sealed).unwrap_err();
            assert_eq!(err.code(), "NO_MATCHING_KEY", "{curve}: {err}");
        }
    }
}

#[test]
fn ephemeral_static_round_trips_and_only_the_recipient_opens() {
    for curve in EcdhCurve::ALL {
        let (recipient_private, recipient_public) = key_pair(curve);
        for suite in SUITES {
            let sealed = seal(ephemeral_keyring(&recipient_public, curve), suite);
            assert_opens(
                discovery_keyring(&recipient_private, curve),
                suite,
                &sealed,
                "recipient (discovery)",
            );
            // Spec: key-agreement-schemas.md — an ephemeral keyring MUST NOT decrypt.
            let err =
                open(ephemeral_keyring(&recipient_public, curve), suite, &sealed).unwrap_err();
            assert_eq!(err.code(), "NO_MATCHING_KEY", "{err}");
            assert!(err.to_string().contains("cannot decrypt"), "{err}");
        }
    }
}

// ---------------------------------------------------------------- EDK shape

fn ec() -> EncryptionContext {
    [
        ("aws-crypto-table-name", "Orders"),
        ("aws-crypto-partition-name", "pk"),
        ("aws-crypto-attr.pk", "AAFvcmRlciMx"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn encrypt(keyring: &dyn Keyring, suite: AlgorithmSuiteId) -> EncryptionMaterials {
    block_on(keyring.on_encrypt(EncryptionMaterials::new(suite, ec()))).expect("on_encrypt")
}

fn decrypt(
    keyring: &dyn Keyring,
    suite: AlgorithmSuiteId,
    ec: &EncryptionContext,
    edks: &[EncryptedDataKey],
) -> fieldseal::Result<DecryptionMaterials> {
    block_on(keyring.on_decrypt(DecryptionMaterials::new(suite, ec.clone()), edks))
}

/// (recipient, sender) compressed points of a raw ECDH provider info, checking its layout.
fn info_keys(curve: EcdhCurve, info: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let n = curve.compressed_len();
    assert_eq!(info.len(), 1 + 4 + n + 4 + n, "{curve}");
    assert_eq!(info[0], 1, "version");
    assert_eq!(&info[1..5], &(n as u32).to_be_bytes());
    assert_eq!(&info[5 + n..9 + n], &(n as u32).to_be_bytes());
    let recipient = info[5..5 + n].to_vec();
    let sender = info[9 + n..].to_vec();
    for p in [&recipient, &sender] {
        assert!(p[0] == 2 || p[0] == 3, "compressed SEC1 point");
    }
    (recipient, sender)
}

#[test]
fn edk_shape_matches_the_mpl() {
    let expected_info_len = [75, 107, 143];
    for (curve, info_len) in EcdhCurve::ALL.into_iter().zip(expected_info_len) {
        let (sender_private, _) = key_pair(curve);
        let (_, recipient_public) = key_pair(curve);
        let recipient_key = EcPublicKey::from_spki_der(&recipient_public, curve).unwrap();
        let st = static_keyring(&sender_private, &recipient_public, curve);
        let eph = ephemeral_keyring(&recipient_public, curve);
        let sender_compressed = {
            let disc = discovery_keyring(&sender_private, curve);
            disc.recipient_public_key().compressed().to_vec()
        };
        let mut ephemeral_senders = Vec::new();
        let mut salts = Vec::new();
        for (is_static, keyring) in [(true, &st), (false, &eph), (true, &st), (false, &eph)] {
            let m = encrypt(keyring, SUITES[1]);
            assert_eq!(m.encrypted_data_keys.len(), 1);
            let edk = &m.encrypted_data_keys[0];
            assert_eq!(edk.key_provider_id, "raw-ecdh");
            assert_eq!(edk.key_provider_info.len(), info_len, "{curve}");
            let (recipient, sender) = info_keys(curve, &edk.key_provider_info);
            assert_eq!(recipient, recipient_key.compressed(), "{curve}: recipient");
            // encrypted data key (48) || salt (32) || commitment (32) || key (32) || tag (16)
            assert_eq!(edk.ciphertext.len(), 48 + 32 + 32 + 32 + 16);
            salts.push(edk.ciphertext[48..80].to_vec());
            if is_static {
                assert_eq!(sender, sender_compressed, "{curve}: static sender");
            } else {
                assert_ne!(sender, sender_compressed);
                ephemeral_senders.push(sender);
            }
        }
        assert_ne!(
            ephemeral_senders[0], ephemeral_senders[1],
            "a fresh ephemeral key each time"
        );
        salts.sort();
        salts.dedup();
        assert_eq!(salts.len(), 4, "a fresh salt each time");
    }
}

// ---------------------------------------------------------------- bad keys

fn expect_invalid_key(r: fieldseal::Result<RawEcdhKeyring>, needles: &[&str]) -> String {
    match r {
        Err(Error::InvalidKey(m)) => {
            for n in needles {
                assert!(m.contains(n), "{m:?} should mention {n:?}");
            }
            m
        }
        Err(e) => panic!("expected INVALID_KEY, got {e:?}"),
        Ok(k) => panic!("expected INVALID_KEY, got a keyring {k:?}"),
    }
}

#[test]
fn a_key_of_another_curve_is_a_curve_mismatch() {
    let (p384_private, p384_public) = key_pair(EcdhCurve::P384);
    let (p256_private, p256_public) = key_pair(EcdhCurve::P256);
    expect_invalid_key(
        RawEcdhKeyring::new(
            EcdhCurve::P256,
            RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
                recipient_public_key: &p384_public,
            },
        ),
        &["curve mismatch", "P-384", "P-256", "recipient public key"],
    );
    expect_invalid_key(
        RawEcdhKeyring::new(
            EcdhCurve::P256,
            RawEcdhScheme::StaticPrivateKeyToStaticPublicKey {
                sender_static_private_key: p384_private.as_bytes(),
                recipient_public_key: &p256_public,
            },
        ),
        &["curve mismatch", "P-384", "sender private key"],
    );
    expect_invalid_key(
        RawEcdhKeyring::new(
            EcdhCurve::P521,
            RawEcdhScheme::PublicKeyDiscovery {
                recipient_static_private_key: p256_private.as_bytes(),
            },
        ),
        &["curve mismatch", "P-256", "P-521", "recipient private key"],
    );
}

#[test]
fn public_keys_off_the_curve_or_at_infinity_are_refused() {
    for curve in EcdhCurve::ALL {
        // x = y = 1: field elements, but not a point of the curve.
        let off = spki_with_point(curve, &off_curve_point(curve));
        expect_invalid_key(
            RawEcdhKeyring::new(
                curve,
                RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
                    recipient_public_key: &off,
                },
            ),
            &["not a point", curve.name(), "recipient public key"],
        );
        // The MPL's GetOutOfBoundsPublicKey: coordinates all 0xff (>= p).
        let mut ff = vec![4u8];
        ff.extend(std::iter::repeat(0xff).take(2 * curve.field_len()));
        let out_of_bounds = spki_with_point(curve, &ff);
        expect_invalid_key(
            RawEcdhKeyring::new(
                curve,
                RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
                    recipient_public_key: &out_of_bounds,
                },
            ),
            &[curve.name()],
        );
        // The identity (SEC1 0x00) in an SPKI, as the MPL's GetInfinityPublicKey.
        let (_, der) = key_pair(curve);
        let header = der.len() - (1 + 2 * curve.field_len());
        let mut infinity = der[..header].to_vec();
        infinity.push(0);
        expect_invalid_key(
            RawEcdhKeyring::new(
                curve,
                RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
                    recipient_public_key: &infinity,
                },
            ),
            &[],
        );
        // And directly: the validated point type refuses both.
        assert!(EcPublicKey::from_sec1(curve, &off_curve_point(curve)).is_err());
        assert!(EcPublicKey::from_sec1(curve, &[0]).is_err());
    }
}

#[test]
fn malformed_keys_are_invalid_key() {
    let curve = EcdhCurve::P256;
    let (private, public) = key_pair(curve);
    let public_key = EcPublicKey::from_spki_der(&public, curve).unwrap();
    // Not DER at all.
    expect_invalid_key(
        RawEcdhKeyring::new(
            curve,
            RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
                recipient_public_key: b"not a key",
            },
        ),
        &["SubjectPublicKeyInfo"],
    );
    // A compressed point in the SPKI: the MPL refuses it (length check).
    // P-256 SPKI: 30 59 | algorithm (21 bytes) | 03 42 00 04 x y; rebuilt around 02/03 x.
    let algorithm = &public[2..23];
    let mut compressed = vec![0x30, 21 + 2 + 1 + 33];
    compressed.extend_from_slice(algorithm);
    compressed.extend_from_slice(&[0x03, 34, 0x00]);
    compressed.extend_from_slice(public_key.compressed());
    assert!(
        p256::PublicKey::from_public_key_der(&compressed).is_ok(),
        "a valid SPKI"
    );
    expect_invalid_key(
        RawEcdhKeyring::new(
            curve,
            RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
                recipient_public_key: &compressed,
            },
        ),
        &["uncompressed"],
    );
    // The public key where the private key belongs, and garbage PEM.
    let public_pem = p256::PublicKey::from_public_key_der(&public)
        .unwrap()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    for bad in [
        public_pem.as_str(),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "junk",
    ] {
        expect_invalid_key(
            RawEcdhKeyring::new(
                curve,
                RawEcdhScheme::PublicKeyDiscovery {
                    recipient_static_private_key: bad.as_bytes(),
                },
            ),
            &["recipient private key"],
        );
    }
    // A PKCS#8 key of another algorithm (Ed25519, RFC 8410 example).
    let ed25519 = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
    expect_invalid_key(
        RawEcdhKeyring::new(
            curve,
            RawEcdhScheme::PublicKeyDiscovery {
                recipient_static_private_key: ed25519.as_bytes(),
            },
        ),
        &["not an elliptic-curve key"],
    );
    // PEM public keys are accepted as well as DER, and SEC1 private keys as well as PKCS#8.
    let sec1 = p256::SecretKey::from_pkcs8_pem(&private)
        .unwrap()
        .to_sec1_pem(LineEnding::LF)
        .unwrap();
    let a = RawEcdhKeyring::new(
        curve,
        RawEcdhScheme::StaticPrivateKeyToStaticPublicKey {
            sender_static_private_key: sec1.as_bytes(),
            recipient_public_key: public_pem.as_bytes(),
        },
    )
    .unwrap();
    assert_eq!(a.recipient_public_key(), &public_key);
    assert_eq!(
        static_keyring(&private, &public, curve).recipient_public_key(),
        &public_key
    );
}

#[test]
fn a_discovery_keyring_refuses_to_encrypt_naming_its_key() {
    for curve in EcdhCurve::ALL {
        let (private, _) = key_pair(curve);
        let keyring = discovery_keyring(&private, curve);
        let fingerprint = keyring.recipient_public_key().fingerprint();
        let err =
            block_on(keyring.on_encrypt(EncryptionMaterials::new(SUITES[0], ec()))).unwrap_err();
        assert_eq!(err.code(), "INVALID_CONFIG", "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("publicKeyDiscovery") && msg.contains("cannot encrypt"),
            "{msg}"
        );
        assert!(
            msg.contains(&fingerprint) && msg.contains(curve.name()),
            "{msg}"
        );
    }
}

// ---------------------------------------------------------------- bad EDKs

/// Counts the agreements it computes (RustCrypto underneath).
#[derive(Default)]
struct Counting(AtomicUsize);

#[async_trait(?Send)]
impl EcdhProvider for Counting {
    async fn agree(
        &self,
        private: &EcPrivateKey,
        public: &EcPublicKey,
    ) -> fieldseal::Result<SecretBytes> {
        self.0.fetch_add(1, Ordering::SeqCst);
        RustCryptoEcdh.agree(private, public).await
    }
    async fn ephemeral_agree(
        &self,
        public: &EcPublicKey,
        random: &dyn SecureRandom,
    ) -> fieldseal::Result<(Vec<u8>, SecretBytes)> {
        self.0.fetch_add(1, Ordering::SeqCst);
        RustCryptoEcdh.ephemeral_agree(public, random).await
    }
}

/// Replace the sender point of a raw ECDH EDK's provider info.
fn with_sender(curve: EcdhCurve, edk: &EncryptedDataKey, sender: &[u8]) -> EncryptedDataKey {
    let n = curve.compressed_len();
    let mut edk = edk.clone();
    edk.key_provider_info.truncate(9 + n);
    edk.key_provider_info.extend_from_slice(sender);
    edk
}

#[test]
fn an_edk_sender_point_off_the_curve_is_refused_before_any_agreement() {
    for curve in EcdhCurve::ALL {
        let (recipient_private, recipient_public) = key_pair(curve);
        let m = encrypt(&ephemeral_keyring(&recipient_public, curve), SUITES[0]);
        let counting = Arc::new(Counting::default());
        let keyring =
            discovery_keyring(&recipient_private, curve).with_ecdh_provider(counting.clone());
        // The untouched EDK opens, with one agreement.
        decrypt(&keyring, SUITES[0], &ec(), &m.encrypted_data_keys).unwrap();
        assert_eq!(counting.0.load(Ordering::SeqCst), 1);
        // An x with no point on the curve, in the sender's place.
        let bad = with_sender(
            curve,
            &m.encrypted_data_keys[0],
            &off_curve_compressed(curve),
        );
        let err = decrypt(&keyring, SUITES[0], &ec(), &[bad]).unwrap_err();
        assert_eq!(err.code(), "MALFORMED_CIPHERTEXT", "{err}");
        assert!(err.to_string().contains("sender public key"), "{err}");
        assert!(err.to_string().contains(curve.name()), "{err}");
        assert_eq!(
            counting.0.load(Ordering::SeqCst),
            1,
            "no agreement with an invalid point"
        );
    }
}

#[test]
fn an_edk_of_another_curve_is_not_for_this_keyring_and_says_which_curve() {
    let (p256_private, _) = key_pair(EcdhCurve::P256);
    let (_, p384_public) = key_pair(EcdhCurve::P384);
    let m = encrypt(&ephemeral_keyring(&p384_public, EcdhCurve::P384), SUITES[0]);
    let err = decrypt(
        &discovery_keyring(&p256_private, EcdhCurve::P256),
        SUITES[0],
        &ec(),
        &m.encrypted_data_keys,
    )
    .unwrap_err();
    assert_eq!(err.code(), "NO_MATCHING_KEY", "{err}");
    let msg = err.to_string();
    assert!(msg.contains("P-384") && msg.contains("P-256"), "{msg}");
}

#[test]
fn tampered_edks_do_not_open() {
    for curve in EcdhCurve::ALL {
        let (recipient_private, recipient_public) = key_pair(curve);
        let keyring = discovery_keyring(&recipient_private, curve);
        let m = encrypt(&ephemeral_keyring(&recipient_public, curve), SUITES[1]);
        let edk = &m.encrypted_data_keys[0];
        // Salt, commitment key, wrapped key and tag: every byte counts.
        for at in [48, 79, 80, 111, 112, 143, 144, 159] {
            let mut bad = edk.clone();
            bad.ciphertext[at] ^= 1;
            let err = decrypt(&keyring, SUITES[1], &ec(), &[bad]).unwrap_err();
            assert_eq!(err.code(), "INTEGRITY_FAILURE", "{curve} byte {at}: {err}");
        }
        // Another encryption context (a record moved under another key).
        let mut moved = ec();
        moved.insert("aws-crypto-attr.pk".into(), "AAFvcmRlciMy".into());
        let err = decrypt(&keyring, SUITES[1], &moved, &m.encrypted_data_keys).unwrap_err();
        assert_eq!(err.code(), "INTEGRITY_FAILURE", "{err}");
        // Another sender point that is on the curve: another Z, so the commitment fails.
        let (_, other_public) = key_pair(curve);
        let other = EcPublicKey::from_spki_der(&other_public, curve).unwrap();
        let bad = with_sender(curve, edk, other.compressed());
        let err = decrypt(&keyring, SUITES[1], &ec(), &[bad]).unwrap_err();
        assert_eq!(err.code(), "INTEGRITY_FAILURE", "{err}");
        // Truncated: malformed.
        let mut short = edk.clone();
        short.ciphertext.pop();
        let err = decrypt(&keyring, SUITES[1], &ec(), &[short]).unwrap_err();
        assert_eq!(err.code(), "MALFORMED_CIPHERTEXT", "{err}");
        // A provider info of another version or length fails the whole
        // OnDecrypt, as the MPL's filter does.
        let mut version = edk.clone();
        version.key_provider_info[0] = 2;
        let err = decrypt(&keyring, SUITES[1], &ec(), &[version]).unwrap_err();
        assert_eq!(err.code(), "MALFORMED_CIPHERTEXT", "{err}");
        let mut long = edk.clone();
        long.key_provider_info.push(0);
        let err = decrypt(&keyring, SUITES[1], &ec(), &[long]).unwrap_err();
        assert_eq!(err.code(), "MALFORMED_CIPHERTEXT", "{err}");
        // The intact EDK still opens.
        let d = decrypt(&keyring, SUITES[1], &ec(), &m.encrypted_data_keys).unwrap();
        assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
    }
}

#[test]
fn a_tampered_item_does_not_open() {
    let curve = EcdhCurve::P256;
    let (recipient_private, recipient_public) = key_pair(curve);
    let mut sealed = seal(ephemeral_keyring(&recipient_public, curve), SUITES[0]);
    sealed.insert("pk".into(), V::S("order#2".into()));
    let err = open(
        discovery_keyring(&recipient_private, curve),
        SUITES[0],
        &sealed,
    )
    .unwrap_err();
    assert_eq!(err.code(), "INTEGRITY_FAILURE", "{err}");
}

#[test]
fn kms_ecdh_edks_open_with_the_raw_keyring_as_in_the_mpl() {
    let curve = EcdhCurve::P384;
    let (recipient_private, recipient_public) = key_pair(curve);
    let m = encrypt(&ephemeral_keyring(&recipient_public, curve), SUITES[0]);
    let mut edk = m.encrypted_data_keys[0].clone();
    edk.key_provider_id = "aws-kms-ecdh".into();
    let d = decrypt(
        &discovery_keyring(&recipient_private, curve),
        SUITES[0],
        &ec(),
        &[edk],
    )
    .unwrap();
    assert_eq!(d.plaintext_data_key, m.plaintext_data_key);
}

#[test]
fn curve_names_parse() {
    assert_eq!(EcdhCurve::parse("ECC_NIST_P256").unwrap(), EcdhCurve::P256);
    assert_eq!(EcdhCurve::parse("P-384").unwrap(), EcdhCurve::P384);
    assert_eq!(EcdhCurve::parse("p521").unwrap(), EcdhCurve::P521);
    assert_eq!(
        EcdhCurve::parse("SM2").unwrap_err().code(),
        "INVALID_CONFIG"
    );
}

// ---------------------------------------------------------------- MPL test keys

/// `../shared/vectors/dbesdk/keys.json`, or `None` after a loud SKIP (a failure under CI).
fn mpl_keys() -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/dbesdk/keys.json");
    if !path.is_file() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "{} not found (CI is set, so this is a failure)",
                path.display()
            );
        }
        eprintln!(
            "\n==================== SKIP ====================\n\
             MPL test keys not found at {}\n\
             the ECDH test-key checks did NOT run\n\
             ==============================================\n",
            path.display()
        );
        return None;
    }
    Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

#[test]
fn the_mpl_ecc_test_keys_load_and_round_trip() {
    let Some(keys) = mpl_keys() else { return };
    for (curve, name) in
        EcdhCurve::ALL
            .into_iter()
            .zip(["ecc-256-private", "ecc-384-private", "ecc-521-private"])
    {
        let k = &keys["keys"][name];
        assert_eq!(k["type"], "ecc-private", "{name}");
        let sender_private = k["sender-material"].as_str().unwrap();
        let recipient_private = k["recipient-material"].as_str().unwrap();
        let sender_public = B64
            .decode(k["sender-material-public-key"].as_str().unwrap())
            .unwrap();
        let recipient_public = B64
            .decode(k["recipient-material-public-key"].as_str().unwrap())
            .unwrap();
        // The public keys are the private keys' (as the MPL derives them).
        let disc = discovery_keyring(recipient_private, curve);
        assert_eq!(
            disc.recipient_public_key().to_spki_der(),
            recipient_public,
            "{name}"
        );
        assert_eq!(
            discovery_keyring(sender_private, curve)
                .recipient_public_key()
                .to_spki_der(),
            sender_public,
            "{name}"
        );
        for suite in SUITES {
            let sealed = seal(
                static_keyring(sender_private, &recipient_public, curve),
                suite,
            );
            assert_opens(
                static_keyring(recipient_private, &sender_public, curve),
                suite,
                &sealed,
                name,
            );
            assert_opens(
                discovery_keyring(recipient_private, curve),
                suite,
                &sealed,
                name,
            );
            let sealed = seal(ephemeral_keyring(&recipient_public, curve), suite);
            assert_opens(
                discovery_keyring(recipient_private, curve),
                suite,
                &sealed,
                name,
            );
        }
    }
}

// ---------------------------------------------------------------- key formats

/// The core reads and writes the named-curve key formats itself (a small
/// DER reader, src/primitives/ecdh.rs); its encodings must be RustCrypto's
/// byte for byte, and SEC1 / PKCS#8 inputs with and without the optional
/// fields must give the same key.
#[test]
fn key_encodings_match_rustcrypto() {
    use p384::elliptic_curve::sec1::ToEncodedPoint;
    macro_rules! check {
        ($krate:ident, $curve:expr) => {{
            let curve = $curve;
            let sk = $krate::SecretKey::random(&mut OsRng);
            let pkcs8 = sk.to_pkcs8_der().unwrap();
            let spki = sk.public_key().to_public_key_der().unwrap().into_vec();
            let point = sk.public_key().to_encoded_point(false);
            let ours = EcPrivateKey::from_pkcs8_der(pkcs8.as_bytes(), curve).unwrap();
            assert_eq!(ours.pkcs8_der(), pkcs8.as_bytes(), "{curve}: PKCS#8");
            assert_eq!(ours.scalar(), sk.to_bytes().as_slice(), "{curve}: d");
            assert_eq!(ours.public_key().uncompressed(), point.as_bytes());
            assert_eq!(ours.public_key().to_spki_der(), spki, "{curve}: SPKI");
            let public = EcPublicKey::from_spki_der(&spki, curve).unwrap();
            assert_eq!(&public, ours.public_key());
            // SEC1 PEM (with its curve and public key), the same key.
            let sec1 = sk.to_sec1_pem(LineEnding::LF).unwrap();
            let from_sec1 = EcPrivateKey::parse(sec1.as_bytes(), curve).unwrap();
            assert_eq!(from_sec1.pkcs8_der(), pkcs8.as_bytes(), "{curve}: SEC1");
            // PKCS#8 PEM, the same key.
            let pem = sk.to_pkcs8_pem(LineEnding::LF).unwrap();
            let from_pem = EcPrivateKey::parse(pem.as_bytes(), curve).unwrap();
            assert_eq!(from_pem.pkcs8_der(), pkcs8.as_bytes(), "{curve}: PEM");
            // Trailing bytes, a truncated key, another public key: refused.
            let mut long = pkcs8.as_bytes().to_vec();
            long.push(0);
            let err = EcPrivateKey::from_pkcs8_der(&long, curve).unwrap_err();
            assert_eq!(err.code(), "INVALID_KEY");
            let short = &pkcs8.as_bytes()[..pkcs8.as_bytes().len() - 1];
            let err = EcPrivateKey::from_pkcs8_der(short, curve).unwrap_err();
            assert_eq!(err.code(), "INVALID_KEY");
            let other = $krate::SecretKey::random(&mut OsRng);
            let mut mixed = pkcs8.as_bytes().to_vec();
            let n = point.as_bytes().len();
            let at = mixed.len() - n;
            mixed[at..].copy_from_slice(other.public_key().to_encoded_point(false).as_bytes());
            let err = EcPrivateKey::from_pkcs8_der(&mixed, curve).unwrap_err();
            assert!(err.to_string().contains("does not belong"), "{err}");
            // Trailing bytes after an SPKI: refused.
            let mut long = spki.clone();
            long.push(0);
            assert!(EcPublicKey::from_spki_der(&long, curve).is_err());
        }};
    }
    check!(p256, EcdhCurve::P256);
    check!(p384, EcdhCurve::P384);
    check!(p521, EcdhCurve::P521);
}

#[test]
fn a_non_ec_key_names_its_algorithm_oid() {
    // An X25519 SPKI (1.3.101.110): not an elliptic-curve key of ours.
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
    ];
    spki.extend([9u8; 32]);
    let err = EcPublicKey::from_spki_der(&spki, EcdhCurve::P256).unwrap_err();
    assert!(err.to_string().contains("algorithm 1.3.101.110"), "{err}");
    // secp256k1 (1.3.132.0.10): an EC key on a curve we do not take.
    let mut k1 = vec![
        0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    ];
    k1.extend([
        0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00, 0x04,
    ]);
    k1.extend([1u8; 64]);
    let err = EcPublicKey::from_spki_der(&k1, EcdhCurve::P256).unwrap_err();
    assert!(err.to_string().contains("curve 1.3.132.0.10"), "{err}");
}
