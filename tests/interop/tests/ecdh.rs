//! The raw ECDH keyring against the official aws-db-esdk (issue 17): for each
//! curve the official supports (P-256, P-384, P-521; its SM2 is not in its
//! Rust build) and both suites, records sealed by fieldseal under
//! staticPrivateKeyToStaticPublicKey and ephemeralPrivateKeyToStaticPublicKey
//! open in the official SDK (the recipient's static and discovery keyrings,
//! and for static the sender's own), and the official's open in fieldseal
//! the same ways. Keys: the MPL's own ECC test keys
//! (../shared/vectors/dbesdk/keys.json); without them a loud skip, a failure
//! under CI.
//!
//! The same both ways through the npm package in Node, where WebCrypto's
//! deriveBits does the agreements (tests/js/tools/ecdh-interop.mjs, one run
//! for every case; without pkg/dist or node a loud skip, a failure under CI).

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
use fieldseal_interop::manifest::{item_from_json, item_to_json};
use fieldseal_interop::official::official_curve;
use fieldseal_interop::runner::{self, ensure};
use fieldseal_interop::shapes::{all_types, Shape};
use fieldseal_interop::spec::BOTH_SUITES;
use fieldseal_interop::{block_on, canonical, ddb_equal, npm, official};
use serde_json::{json, Value};

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

    /// The npm package's `RawEcdhKeyring` options, for tests/js/tools/ecdh-interop.mjs.
    fn npm(&self, curve: EcdhCurve) -> Value {
        let scheme = match *self {
            Side::Static { private, public } => json!({"staticPrivateKeyToStaticPublicKey": {
                "senderStaticPrivateKey": private, "recipientPublicKey": npm::bytes_json(public),
            }}),
            Side::Ephemeral { public } => json!({"ephemeralPrivateKeyToStaticPublicKey": {
                "recipientPublicKey": npm::bytes_json(public),
            }}),
            Side::Discovery { private } => json!({"publicKeyDiscovery": {
                "recipientStaticPrivateKey": private,
            }}),
        };
        json!({"type": "raw", "curve": curve.mpl_name(), "scheme": scheme})
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

/// What the Rust side does with one Node case's result.
enum Then<'a> {
    /// The package sealed it: the official opens it with each of `openers`,
    /// and not with `stranger`.
    Sealed {
        openers: &'a [(Side<'a>, &'a str)],
        stranger: Side<'a>,
    },
    /// The package opened the official's record: the plaintext.
    Opened,
    /// Another recipient: the package must refuse it, NO_MATCHING_KEY.
    Refused,
}

struct NodeCase<'a> {
    label: String,
    curve: EcdhCurve,
    shape: &'a Shape,
    then: Then<'a>,
}

/// The official's refusal because no EDK is for its key. Its no-match error
/// (MPL ErrorMessages.dfy IncorrectDataKeys) decodes each EDK's provider
/// info as UTF-8 to list it, which fails on ECDH's binary info, so it may
/// say "invalid utf-8 sequence" instead.
fn official_no_match(e: &str) -> bool {
    e.contains("invalid utf-8 sequence") || e.contains("No Encrypted Data Keys found to match")
}

#[test]
fn raw_ecdh_items_open_both_ways_through_the_npm_package() {
    let Some(pairs) = mpl_pairs() else { return };
    if let Err(why) = npm::package_ready() {
        assert!(!runner::ci(), "{why} (CI is set, so this is a failure)");
        eprintln!(
            "\n==================== SKIP ====================\n\
             {why}\n\
             the raw ECDH interop through the npm package did NOT run\n\
             ==============================================\n"
        );
        return;
    }
    let shapes: Vec<Shape> = BOTH_SUITES
        .into_iter()
        .map(|suite| all_types().with_suite(suite))
        .collect();
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut run = |label: String, r: Result<(), String>| match r {
        Ok(()) => passed += 1,
        Err(e) => failures.push(format!("{label}: {e}")),
    };
    // Every side of every curve, kept for the cases that borrow them:
    // [sender static, recipient static, discovery, ephemeral, stranger (the
    // sender's private key in discovery)].
    let sides: Vec<[(Side, &str); 5]> = pairs
        .iter()
        .map(|p| {
            [
                (
                    Side::Static {
                        private: &p.sender_private,
                        public: &p.recipient_public,
                    },
                    "the sender's static",
                ),
                (
                    Side::Static {
                        private: &p.recipient_private,
                        public: &p.sender_public,
                    },
                    "the recipient's static",
                ),
                (
                    Side::Discovery {
                        private: &p.recipient_private,
                    },
                    "discovery",
                ),
                (
                    Side::Ephemeral {
                        public: &p.recipient_public,
                    },
                    "ephemeral",
                ),
                (
                    Side::Discovery {
                        private: &p.sender_private,
                    },
                    "another recipient's discovery",
                ),
            ]
        })
        .collect();
    let mut cases = Vec::new();
    let mut node = Vec::new();
    for (p, s) in pairs.iter().zip(&sides) {
        let curve = p.curve;
        let stranger = s[4].0;
        // Who may open what each sealer makes (as in the Rust-core test).
        let plan: [(Side, &[(Side, &str)]); 2] = [(s[0].0, &s[..3]), (s[3].0, &s[2..3])];
        for shape in &shapes {
            let config = npm::encryptor_config_json(&shape.table);
            let tag = format!("{curve} {:#06x}", shape.table.suite.id());
            for (sealer, openers) in plan {
                let what = sealer.label();
                let mut push = |label: String, op: &str, keyring: Value, item: &Item, then| {
                    cases.push(json!({
                        "label": label, "op": op, "config": config,
                        "keyring": keyring, "item": item_to_json(item),
                    }));
                    node.push(NodeCase {
                        label,
                        curve,
                        shape,
                        then,
                    });
                };
                push(
                    format!("npm->official {tag} {what}: npm seals"),
                    "seal",
                    sealer.npm(curve),
                    &shape.input,
                    Then::Sealed { openers, stranger },
                );
                match off_seal(shape, sealer, curve) {
                    Err(e) => run(
                        format!("official->npm {tag} {what}: official seals"),
                        Err(e),
                    ),
                    Ok(sealed) => {
                        for (opener, name) in openers {
                            push(
                                format!("official->npm {tag} {what}: opened by {name}"),
                                "open",
                                opener.npm(curve),
                                &sealed,
                                Then::Opened,
                            );
                        }
                        push(
                            format!(
                                "official->npm {tag} {what}: another recipient does not open it"
                            ),
                            "open",
                            stranger.npm(curve),
                            &sealed,
                            Then::Refused,
                        );
                    }
                }
            }
        }
    }
    let output = match npm::run_tool("ecdh-interop.mjs", &json!({ "cases": cases })) {
        Ok(run) => run,
        Err(e) => panic!("node tests/js/tools/ecdh-interop.mjs: {e}"),
    };
    // WebCrypto deriveBits calls per item the package sealed or opened.
    let (mut items, mut derives, mut fewest, mut most) = (0, 0, u64::MAX, 0);
    let mut refusal_derives = 0;
    for (i, c) in node.iter().enumerate() {
        let result = output
            .output
            .get("results")
            .and_then(|l| l.get(i))
            .cloned()
            .unwrap_or(Value::Null);
        let derive_bits = result.get("deriveBits").and_then(Value::as_u64);
        let mut used_webcrypto = || -> Result<(), String> {
            let n = derive_bits.ok_or("no deriveBits count")?;
            (items, derives, fewest, most) = (items + 1, derives + n, fewest.min(n), most.max(n));
            ensure(n >= 1, || {
                "the package did not call WebCrypto's deriveBits".to_string()
            })
        };
        let (shape, curve) = (c.shape, c.curve);
        match &c.then {
            Then::Sealed { openers, stranger } => {
                let sealed =
                    npm::tool_result(&output.output, "results", i, &c.label, "the npm package")
                        .and_then(|v| {
                            used_webcrypto()?;
                            item_from_json(v.get("item").ok_or("no item")?)
                        });
                let sealed = match sealed {
                    Ok(s) => {
                        run(c.label.clone(), Ok(()));
                        s
                    }
                    Err(e) => {
                        run(c.label.clone(), Err(format!("{e}\n{}", output.log)));
                        continue;
                    }
                };
                let base = c.label.trim_end_matches(": npm seals");
                for (opener, name) in *openers {
                    run(
                        format!("{base}: opened by {name}"),
                        off_open(shape, *opener, curve, &sealed).and_then(|got| check(shape, &got)),
                    );
                }
                run(
                    format!("{base}: another recipient does not open it"),
                    match off_open(shape, *stranger, curve, &sealed) {
                        Ok(_) => Err("the official SDK opened it for another recipient".into()),
                        Err(e) if official_no_match(&e) => Ok(()),
                        Err(e) => Err(format!("refused for another reason: {e}")),
                    },
                );
            }
            Then::Opened => run(
                c.label.clone(),
                npm::tool_result(&output.output, "results", i, &c.label, "the npm package")
                    .and_then(|v| {
                        used_webcrypto()?;
                        check(shape, &item_from_json(v.get("item").ok_or("no item")?)?)
                    }),
            ),
            Then::Refused => {
                refusal_derives += derive_bits.unwrap_or(0);
                run(
                    c.label.clone(),
                    ensure(
                        result.get("ok") == Some(&Value::Bool(false))
                            && result.get("code").and_then(Value::as_str)
                                == Some("NO_MATCHING_KEY"),
                        || format!("expected NO_MATCHING_KEY, got {result}"),
                    ),
                )
            }
        }
    }
    eprintln!(
        "raw ECDH npm interop: {passed} passed, {} failed; WebCrypto deriveBits: {derives} calls \
         over {items} items sealed or opened in Node ({fewest}..{most} per item), \
         {refusal_derives} on refusals",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Per curve and suite: the package seals static and ephemeral (2); the
    // official opens them (static: 3 openers, ephemeral: discovery) and its
    // stranger refuses both (6); the package opens the official's the same
    // ways and refuses the same (6).
    let per_suite = 2 + 6 + 6;
    assert_eq!(passed, 3 * 2 * per_suite, "every case ran");
    assert_eq!(
        items,
        3 * 2 * (2 + 4),
        "every item the package sealed or opened was counted"
    );
    // Each case builds a fresh keyring: one agreement per item, by WebCrypto;
    // a refusal (no EDK for its key) agrees on nothing.
    assert_eq!(
        (fewest, most),
        (1, 1),
        "WebCrypto deriveBits calls per item"
    );
    assert_eq!(refusal_derives, 0, "deriveBits calls on refusals");
}
