//! The raw ECDH keyring against the official aws-db-esdk (issue 17): for each
//! curve the official supports (P-256, P-384, P-521; its SM2 is not in its
//! Rust build) and both suites, records sealed by fieldseal under
//! staticPrivateKeyToStaticPublicKey and ephemeralPrivateKeyToStaticPublicKey
//! open in the official SDK (the recipient's static and discovery keyrings,
//! and for static the sender's own), and the official's open in fieldseal
//! the same ways. Keys: the MPL's own ECC test keys
//! (../shared/vectors/dbesdk/keys.json); without them a loud skip, a failure
//! under CI.

use std::path::PathBuf;
use std::sync::Arc;

use aws_db_esdk::material_providers::types::keyring::KeyringRef;
use aws_db_esdk::material_providers::types::{
    CreateRawEcdhKeyringInput, EphemeralPrivateKeyToStaticPublicKeyInput, PublicKeyDiscoveryInput,
    RawEcdhStaticConfigurations, RawPrivateKeyToStaticPublicKeyInput,
};
use aws_smithy_types::Blob;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fieldseal::keyring::{RawEcdhKeyring, RawEcdhScheme};
use fieldseal::primitives::ecdh::EcdhCurve;
use fieldseal::{CryptoAction, Item, ItemEncryptor};
use fieldseal_interop::convert::show;
use fieldseal_interop::official::official_curve;
use fieldseal_interop::shapes::{all_types, Shape};
use fieldseal_interop::spec::BOTH_SUITES;
use fieldseal_interop::{block_on, canonical, ddb_equal, official};

/// The MPL's key pairs of one curve: (sender PEM, sender DER, recipient PEM, recipient DER).
struct Pairs {
    curve: EcdhCurve,
    sender_private: String,
    sender_public: Vec<u8>,
    recipient_private: String,
    recipient_public: Vec<u8>,
}

fn mpl_pairs() -> Option<Vec<Pairs>> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/dbesdk/keys.json");
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
             the raw ECDH interop tests did NOT run\n\
             ==============================================\n",
            path.display()
        );
        return None;
    }
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let names = ["ecc-256-private", "ecc-384-private", "ecc-521-private"];
    Some(
        EcdhCurve::ALL
            .into_iter()
            .zip(names)
            .map(|(curve, name)| {
                let k = &keys["keys"][name];
                let s = |f: &str| {
                    k[f].as_str()
                        .unwrap_or_else(|| panic!("{name}.{f}"))
                        .to_string()
                };
                Pairs {
                    curve,
                    sender_private: s("sender-material"),
                    sender_public: B64.decode(s("sender-material-public-key")).unwrap(),
                    recipient_private: s("recipient-material"),
                    recipient_public: B64.decode(s("recipient-material-public-key")).unwrap(),
                }
            })
            .collect(),
    )
}

/// One keyring, described for both sides.
#[derive(Clone, Copy)]
enum Side<'a> {
    Static { private: &'a str, public: &'a [u8] },
    Ephemeral { public: &'a [u8] },
    Discovery { private: &'a str },
}

impl Side<'_> {
    fn label(&self) -> &'static str {
        match self {
            Side::Static { .. } => "static",
            Side::Ephemeral { .. } => "ephemeral",
            Side::Discovery { .. } => "discovery",
        }
    }

    fn fieldseal(&self, curve: EcdhCurve) -> RawEcdhKeyring {
        let scheme = match *self {
            Side::Static { private, public } => RawEcdhScheme::StaticPrivateKeyToStaticPublicKey {
                sender_static_private_key: private.as_bytes(),
                recipient_public_key: public,
            },
            Side::Ephemeral { public } => RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
                recipient_public_key: public,
            },
            Side::Discovery { private } => RawEcdhScheme::PublicKeyDiscovery {
                recipient_static_private_key: private.as_bytes(),
            },
        };
        RawEcdhKeyring::new(curve, scheme).unwrap()
    }

    async fn official(&self, curve: EcdhCurve) -> Result<KeyringRef, String> {
        let scheme = match *self {
            Side::Static { private, public } => {
                RawEcdhStaticConfigurations::RawPrivateKeyToStaticPublicKey(
                    RawPrivateKeyToStaticPublicKeyInput::builder()
                        .sender_static_private_key(Blob::new(private.as_bytes().to_vec()))
                        .recipient_public_key(Blob::new(public.to_vec()))
                        .build()
                        .map_err(|e| format!("{e:?}"))?,
                )
            }
            Side::Ephemeral { public } => {
                RawEcdhStaticConfigurations::EphemeralPrivateKeyToStaticPublicKey(
                    EphemeralPrivateKeyToStaticPublicKeyInput::builder()
                        .recipient_public_key(Blob::new(public.to_vec()))
                        .build()
                        .map_err(|e| format!("{e:?}"))?,
                )
            }
            Side::Discovery { private } => RawEcdhStaticConfigurations::PublicKeyDiscovery(
                PublicKeyDiscoveryInput::builder()
                    .recipient_static_private_key(Blob::new(private.as_bytes().to_vec()))
                    .build()
                    .map_err(|e| format!("{e:?}"))?,
            ),
        };
        official::mpl()?
            .create_raw_ecdh_keyring()
            .curve_spec(official_curve(CreateRawEcdhKeyringInput::curve_spec, curve))
            .key_agreement_scheme(scheme)
            .send()
            .await
            .map_err(|e| format!("create_raw_ecdh_keyring: {e:?}"))
    }
}

fn fs_seal(shape: &Shape, side: Side, curve: EcdhCurve) -> Result<Item, String> {
    let enc = ItemEncryptor::new(
        shape
            .table
            .encryptor_config(Arc::new(side.fieldseal(curve))),
    )
    .map_err(|e| format!("fieldseal config: {e}"))?;
    block_on(enc.encrypt_item(&shape.input)).map_err(|e| format!("fieldseal encrypt: {e}"))
}

fn fs_open(shape: &Shape, side: Side, curve: EcdhCurve, sealed: &Item) -> Result<Item, String> {
    let enc = ItemEncryptor::new(
        shape
            .table
            .encryptor_config(Arc::new(side.fieldseal(curve))),
    )
    .map_err(|e| format!("fieldseal config: {e}"))?;
    block_on(enc.decrypt_item(sealed)).map_err(|e| format!("fieldseal decrypt: {e}"))
}

fn off_seal(shape: &Shape, side: Side, curve: EcdhCurve) -> Result<Item, String> {
    block_on(async {
        let c = official::encryptor_with_keyring(&shape.table, side.official(curve).await?)?;
        official::encrypt(&c, &shape.input).await
    })
}

fn off_open(shape: &Shape, side: Side, curve: EcdhCurve, sealed: &Item) -> Result<Item, String> {
    block_on(async {
        let c = official::encryptor_with_keyring(&shape.table, side.official(curve).await?)?;
        official::decrypt(&c, sealed).await
    })
}

/// A decrypted item against the plaintext: ENCRYPT_AND_SIGN values in
/// canonical form, the rest equal as DynamoDB values.
fn check(shape: &Shape, got: &Item) -> Result<(), String> {
    for (k, v) in &shape.input {
        let g = got.get(k).ok_or_else(|| format!("missing {k:?}"))?;
        let ok = if shape.table.actions.get(k) == Some(&CryptoAction::EncryptAndSign) {
            *g == canonical(v).map_err(|e| e.to_string())?
        } else {
            ddb_equal(g, v)
        };
        if !ok {
            return Err(format!("{k:?}: got {} want {}", show(g), show(v)));
        }
    }
    Ok(())
}

#[test]
fn raw_ecdh_items_open_both_ways_for_every_scheme_and_curve() {
    let Some(pairs) = mpl_pairs() else { return };
    let mut failures = Vec::new();
    let mut passed = 0;
    for p in &pairs {
        let curve = p.curve;
        let sender_static = Side::Static {
            private: &p.sender_private,
            public: &p.recipient_public,
        };
        // The recipient's view of the same pair of static keys.
        let recipient_static = Side::Static {
            private: &p.recipient_private,
            public: &p.sender_public,
        };
        let ephemeral = Side::Ephemeral {
            public: &p.recipient_public,
        };
        let discovery = Side::Discovery {
            private: &p.recipient_private,
        };
        // Who may open what each sealer makes.
        let cases: [(Side, &[Side]); 2] = [
            (sender_static, &[sender_static, recipient_static, discovery]),
            (ephemeral, &[discovery]),
        ];
        for suite in BOTH_SUITES {
            let shape = all_types().with_suite(suite);
            for (sealer, openers) in &cases {
                let mut run = |label: String, r: Result<(), String>| match r {
                    Ok(()) => passed += 1,
                    Err(e) => failures.push(format!("{label}: {e}")),
                };
                let tag = format!("{curve} {:#06x} {}", suite.id(), sealer.label());
                let fs = fs_seal(&shape, *sealer, curve);
                let off = off_seal(&shape, *sealer, curve);
                for opener in *openers {
                    run(
                        format!("fieldseal->official {tag} opened by {}", opener.label()),
                        fs.clone()
                            .and_then(|s| off_open(&shape, *opener, curve, &s))
                            .and_then(|got| check(&shape, &got)),
                    );
                    run(
                        format!("official->fieldseal {tag} opened by {}", opener.label()),
                        off.clone()
                            .and_then(|s| fs_open(&shape, *opener, curve, &s))
                            .and_then(|got| check(&shape, &got)),
                    );
                }
                // Another recipient (the sender's own private key in
                // discovery) opens neither side's record.
                let stranger = Side::Discovery {
                    private: &p.sender_private,
                };
                if matches!(sealer, Side::Ephemeral { .. }) {
                    run(
                        format!("negative fieldseal->official {tag}"),
                        match fs
                            .clone()
                            .and_then(|s| off_open(&shape, stranger, curve, &s))
                        {
                            Ok(_) => Err("the official SDK opened it for another recipient".into()),
                            Err(_) => Ok(()),
                        },
                    );
                    run(
                        format!("negative official->fieldseal {tag}"),
                        match off
                            .clone()
                            .and_then(|s| fs_open(&shape, stranger, curve, &s))
                        {
                            Ok(_) => Err("fieldseal opened it for another recipient".into()),
                            Err(_) => Ok(()),
                        },
                    );
                }
            }
        }
    }
    eprintln!(
        "raw ECDH interop: {passed} passed, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Per curve and suite: static sealed both ways x 3 openers, ephemeral both
    // ways x discovery, and the 2 negatives.
    let per_suite = 2 * 3 + 2 + 2;
    assert_eq!(passed, 3 * 2 * per_suite, "every case ran");
}
