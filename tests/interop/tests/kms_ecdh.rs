//! The AWS KMS ECDH keyring against the official aws-db-esdk, both through
//! moto's KMS (tools/moto/launch.py: real DeriveSharedSecret and GetPublicKey
//! for ECC KEY_AGREEMENT keys). For P-256, P-384 and P-521 (the official's
//! Rust build has no SM2) and both suites, with KMS keys A (sender), B
//! (recipient), C (a stranger) and a local key pair L (the MPL's ECC test
//! recipient key, ../shared/vectors/dbesdk/keys.json), under
//! kmsPrivateKeyToStaticPublicKey:
//! - fieldseal seals A -> B: the official opens with its KMS ECDH keyring in
//!   discovery (B), as the sender (A -> B) and as the recipient's static
//!   keyring (B -> A); its discovery with C does not open it;
//! - fieldseal seals A -> L: the official opens with its raw ECDH keyring
//!   (discovery with L's private key, and static L -> A) and its KMS keyring
//!   as the sender; its raw discovery with another local key does not;
//! - the same records sealed by the official open in fieldseal the same ways.
//!
//! KMS calls are counted on both sides (fieldseal's through a counting
//! `KmsClient`, the official's through an SDK interceptor), split into the
//! keyring's construction and the item operation; every sealed or opened
//! item must take exactly one DeriveSharedSecret and no other KMS call.
//! The private keys of A, B and C live only in moto, so a record opens only
//! if KMS really agreed on the key the other implementation used.
//! The same through the npm package in Node (`AwsKmsEcdhKeyring` from
//! "fieldseal/kms" over @aws-sdk/client-kms at this moto, `RawEcdhKeyring`
//! for the local key; tests/js/tools/ecdh-interop.mjs, one run for every
//! case): it seals A -> B and A -> L, which the official opens the same ways,
//! and opens the official's records the same ways; its KMS calls and
//! WebCrypto deriveBits calls are counted per item.
//! Without moto: a loud skip, a failure under CI (runner::run_with_moto);
//! without keys.json the local-key cases skip loudly (fail under CI), and
//! without pkg/dist or node the npm package's cases.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_db_esdk::material_providers::types::keyring::KeyringRef;
use aws_db_esdk::material_providers::types::{
    CreateAwsKmsEcdhKeyringInput, CreateRawEcdhKeyringInput, KmsEcdhStaticConfigurations,
    KmsPrivateKeyToStaticPublicKeyInput, KmsPublicKeyDiscoveryInput, PublicKeyDiscoveryInput,
    RawEcdhStaticConfigurations, RawPrivateKeyToStaticPublicKeyInput,
};
use aws_sdk_kms::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_kms::config::{ConfigBag, Intercept};
use aws_sdk_kms::error::BoxError;
use aws_sdk_kms::operation::derive_shared_secret::DeriveSharedSecretInput;
use aws_sdk_kms::operation::get_public_key::GetPublicKeyInput;
use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use aws_smithy_types::Blob;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fieldseal::keyring::kms::{
    AwsKmsEcdhKeyring, AwsKmsEcdhScheme, DecryptRequest, DecryptResponse,
    DeriveSharedSecretRequest, DeriveSharedSecretResponse, GenerateDataKeyRequest,
    GenerateDataKeyResponse, GetPublicKeyRequest, GetPublicKeyResponse, KmsClient, KmsError,
};
use fieldseal::keyring::{Keyring, RawEcdhKeyring, RawEcdhScheme};
use fieldseal::primitives::ecdh::EcdhCurve;
use fieldseal::{CryptoAction, Item, ItemEncryptor};
use fieldseal_interop::aws_clients::{kms_client, Endpoint, SdkKms};
use fieldseal_interop::convert::show;
use fieldseal_interop::manifest::{item_from_json, item_to_json};
use fieldseal_interop::moto::{Moto, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use fieldseal_interop::official::official_curve;
use fieldseal_interop::runner::{ensure, run_with_moto, Runner};
use fieldseal_interop::shapes::{all_types, Shape};
use fieldseal_interop::spec::BOTH_SUITES;
use fieldseal_interop::{block_on, canonical, ddb_equal, npm, official};
use serde_json::{json, Value};

const REGION: &str = "us-east-1";
const DERIVE: &str = "DeriveSharedSecret";
const GET_PUBLIC_KEY: &str = "GetPublicKey";

/// The KMS operations one side called, in order.
#[derive(Debug, Clone, Default)]
struct Calls(Arc<Mutex<Vec<&'static str>>>);

impl Calls {
    fn push(&self, op: &'static str) {
        self.0.lock().unwrap().push(op);
    }

    /// The calls since the last take.
    fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// fieldseal's side: an [`SdkKms`] that records each call.
struct Counting {
    inner: SdkKms,
    calls: Calls,
}

#[async_trait(?Send)]
impl KmsClient for Counting {
    async fn generate_data_key(
        &self,
        request: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        self.calls.push("GenerateDataKey");
        self.inner.generate_data_key(request).await
    }

    async fn decrypt(&self, request: DecryptRequest) -> Result<DecryptResponse, KmsError> {
        self.calls.push("Decrypt");
        self.inner.decrypt(request).await
    }

    async fn get_public_key(
        &self,
        request: GetPublicKeyRequest,
    ) -> Result<GetPublicKeyResponse, KmsError> {
        self.calls.push(GET_PUBLIC_KEY);
        self.inner.get_public_key(request).await
    }

    async fn derive_shared_secret(
        &self,
        request: DeriveSharedSecretRequest,
    ) -> Result<DeriveSharedSecretResponse, KmsError> {
        self.calls.push(DERIVE);
        self.inner.derive_shared_secret(request).await
    }
}

/// The official's side: an interceptor on its KMS client recording each
/// operation (by its input's type) before it is sent.
#[derive(Debug)]
struct CountOps(Calls);

impl Intercept for CountOps {
    fn name(&self) -> &'static str {
        "fieldseal-interop CountOps"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        self.0.push(
            if input.downcast_ref::<DeriveSharedSecretInput>().is_some() {
                DERIVE
            } else if input.downcast_ref::<GetPublicKeyInput>().is_some() {
                GET_PUBLIC_KEY
            } else {
                "other"
            },
        );
        Ok(())
    }
}

fn counted_sdk_client(endpoint: &Endpoint, calls: &Calls) -> aws_sdk_kms::Client {
    let config = kms_client(endpoint, REGION)
        .config()
        .to_builder()
        .interceptor(CountOps(calls.clone()))
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// A KMS key of one curve: its ARN and DER public key.
#[derive(Debug, Clone)]
struct KmsKey {
    arn: String,
    public: Vec<u8>,
}

/// A local key pair: PEM private key and DER public key.
#[derive(Clone)]
struct LocalKey {
    private: String,
    public: Vec<u8>,
}

/// One keyring, described for both sides.
#[derive(Clone, Copy)]
enum Side<'a> {
    /// kmsPrivateKeyToStaticPublicKey; when the sender's public key is not
    /// given (`given_sender_public` false) both sides fetch it with
    /// GetPublicKey at construction.
    KmsStatic {
        sender: &'a KmsKey,
        given_sender_public: bool,
        recipient_public: &'a [u8],
    },
    /// kmsPublicKeyDiscovery (the official always fetches the public key;
    /// fieldseal too when it is not given, as here).
    KmsDiscovery { recipient: &'a KmsKey },
    /// Raw ECDH, static: a local private key and the other party's public key.
    RawStatic {
        private: &'a str,
        recipient_public: &'a [u8],
    },
    /// Raw ECDH, publicKeyDiscovery with a local private key.
    RawDiscovery { private: &'a str },
}

impl Side<'_> {
    fn is_kms(&self) -> bool {
        matches!(self, Side::KmsStatic { .. } | Side::KmsDiscovery { .. })
    }

    async fn fieldseal(
        &self,
        curve: EcdhCurve,
        client: Arc<dyn KmsClient>,
    ) -> Result<Arc<dyn Keyring>, String> {
        let keyring: Arc<dyn Keyring> = match *self {
            Side::KmsStatic {
                sender,
                given_sender_public,
                recipient_public,
            } => Arc::new(
                AwsKmsEcdhKeyring::new(
                    curve,
                    AwsKmsEcdhScheme::KmsPrivateKeyToStaticPublicKey {
                        sender_kms_key_id: &sender.arn,
                        sender_public_key: given_sender_public.then_some(&sender.public[..]),
                        recipient_public_key: recipient_public,
                    },
                    client,
                    vec![],
                )
                .await
                .map_err(|e| format!("fieldseal AwsKmsEcdhKeyring: {e}"))?,
            ),
            Side::KmsDiscovery { recipient } => Arc::new(
                AwsKmsEcdhKeyring::new(
                    curve,
                    AwsKmsEcdhScheme::KmsPublicKeyDiscovery {
                        recipient_kms_key_id: &recipient.arn,
                        recipient_public_key: None,
                    },
                    client,
                    vec![],
                )
                .await
                .map_err(|e| format!("fieldseal AwsKmsEcdhKeyring: {e}"))?,
            ),
            Side::RawStatic {
                private,
                recipient_public,
            } => Arc::new(
                RawEcdhKeyring::new(
                    curve,
                    RawEcdhScheme::StaticPrivateKeyToStaticPublicKey {
                        sender_static_private_key: private.as_bytes(),
                        recipient_public_key: recipient_public,
                    },
                )
                .map_err(|e| format!("fieldseal RawEcdhKeyring: {e}"))?,
            ),
            Side::RawDiscovery { private } => Arc::new(
                RawEcdhKeyring::new(
                    curve,
                    RawEcdhScheme::PublicKeyDiscovery {
                        recipient_static_private_key: private.as_bytes(),
                    },
                )
                .map_err(|e| format!("fieldseal RawEcdhKeyring: {e}"))?,
            ),
        };
        Ok(keyring)
    }

    async fn official(
        &self,
        curve: EcdhCurve,
        client: aws_sdk_kms::Client,
    ) -> Result<KeyringRef, String> {
        let mpl = official::mpl()?;
        let kms_scheme = match *self {
            Side::KmsStatic {
                sender,
                given_sender_public,
                recipient_public,
            } => KmsEcdhStaticConfigurations::KmsPrivateKeyToStaticPublicKey(
                KmsPrivateKeyToStaticPublicKeyInput::builder()
                    .sender_kms_identifier(&sender.arn)
                    .set_sender_public_key(
                        given_sender_public.then(|| Blob::new(sender.public.clone())),
                    )
                    .recipient_public_key(Blob::new(recipient_public.to_vec()))
                    .build()
                    .map_err(|e| format!("{e:?}"))?,
            ),
            Side::KmsDiscovery { recipient } => KmsEcdhStaticConfigurations::KmsPublicKeyDiscovery(
                KmsPublicKeyDiscoveryInput::builder()
                    .recipient_kms_identifier(&recipient.arn)
                    .build()
                    .map_err(|e| format!("{e:?}"))?,
            ),
            Side::RawStatic {
                private,
                recipient_public,
            } => {
                return mpl
                    .create_raw_ecdh_keyring()
                    .curve_spec(official_curve(CreateRawEcdhKeyringInput::curve_spec, curve))
                    .key_agreement_scheme(
                        RawEcdhStaticConfigurations::RawPrivateKeyToStaticPublicKey(
                            RawPrivateKeyToStaticPublicKeyInput::builder()
                                .sender_static_private_key(Blob::new(private.as_bytes().to_vec()))
                                .recipient_public_key(Blob::new(recipient_public.to_vec()))
                                .build()
                                .map_err(|e| format!("{e:?}"))?,
                        ),
                    )
                    .send()
                    .await
                    .map_err(|e| format!("create_raw_ecdh_keyring: {e:?}"))
            }
            Side::RawDiscovery { private } => {
                return mpl
                    .create_raw_ecdh_keyring()
                    .curve_spec(official_curve(CreateRawEcdhKeyringInput::curve_spec, curve))
                    .key_agreement_scheme(RawEcdhStaticConfigurations::PublicKeyDiscovery(
                        PublicKeyDiscoveryInput::builder()
                            .recipient_static_private_key(Blob::new(private.as_bytes().to_vec()))
                            .build()
                            .map_err(|e| format!("{e:?}"))?,
                    ))
                    .send()
                    .await
                    .map_err(|e| format!("create_raw_ecdh_keyring: {e:?}"))
            }
        };
        mpl.create_aws_kms_ecdh_keyring()
            .curve_spec(official_curve(
                CreateAwsKmsEcdhKeyringInput::curve_spec,
                curve,
            ))
            .key_agreement_scheme(kms_scheme)
            .kms_client(client)
            .send()
            .await
            .map_err(|e| format!("create_aws_kms_ecdh_keyring: {e:?}"))
    }
}

/// Where a case runs: moto, the item (and its suite), the curve.
#[derive(Clone, Copy)]
struct At<'a> {
    endpoint: &'a Endpoint,
    shape: &'a Shape,
    curve: EcdhCurve,
}

/// Which implementation runs a keyring.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    Fieldseal,
    Official,
}

/// The KMS calls of one sealed or opened item.
struct Observed<T> {
    result: Result<T, String>,
    /// Calls made while building the keyring.
    construction: Vec<&'static str>,
    /// Calls made by the item operation.
    item: Vec<&'static str>,
}

/// Seals (`sealed` None) or opens one item with `side` run by `who`,
/// counting KMS calls. A keyring that cannot be built is an `Err` of the
/// outer result (never mistaken for a refusal to open).
fn run_side(
    who: Impl,
    at: &At,
    side: Side,
    sealed: Option<&Item>,
) -> Result<Observed<Item>, String> {
    let At {
        endpoint,
        shape,
        curve,
    } = *at;
    let calls = Calls::default();
    block_on(async {
        match who {
            Impl::Fieldseal => {
                let client = Arc::new(Counting {
                    inner: SdkKms {
                        client: kms_client(endpoint, REGION),
                    },
                    calls: calls.clone(),
                });
                let keyring = side.fieldseal(curve, client).await?;
                let construction = calls.take();
                let enc = ItemEncryptor::new(shape.table.encryptor_config(keyring))
                    .map_err(|e| format!("fieldseal config: {e}"))?;
                let result = match sealed {
                    None => enc
                        .encrypt_item(&shape.input)
                        .await
                        .map_err(|e| format!("fieldseal encrypt: {}: {e}", e.code())),
                    Some(s) => enc
                        .decrypt_item(s)
                        .await
                        .map_err(|e| format!("fieldseal decrypt: {}: {e}", e.code())),
                };
                Ok(Observed {
                    result,
                    construction,
                    item: calls.take(),
                })
            }
            Impl::Official => {
                let keyring = side
                    .official(curve, counted_sdk_client(endpoint, &calls))
                    .await?;
                let construction = calls.take();
                let c = official::encryptor_with_keyring(&shape.table, keyring)?;
                let result = match sealed {
                    None => official::encrypt(&c, &shape.input).await,
                    Some(s) => official::decrypt(&c, s).await,
                };
                Ok(Observed {
                    result,
                    construction,
                    item: calls.take(),
                })
            }
        }
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

/// The calls a keyring may make at construction: GetPublicKey once when it
/// needs its KMS key's public key and was not given it (discovery is never
/// given it here); none otherwise.
fn check_construction(side: &Side, calls: &[&'static str]) -> Result<(), String> {
    let fetches = match side {
        Side::KmsStatic {
            given_sender_public,
            ..
        } => !given_sender_public,
        Side::KmsDiscovery { .. } => true,
        Side::RawStatic { .. } | Side::RawDiscovery { .. } => false,
    };
    let want: &[&str] = if fetches { &[GET_PUBLIC_KEY] } else { &[] };
    ensure(calls == want, || {
        format!("construction KMS calls {calls:?}, expected {want:?}")
    })
}

/// Per-item KMS calls, summed over the cases that checked them.
#[derive(Default)]
struct PerItem {
    items: usize,
    derives: usize,
    other: usize,
}

impl PerItem {
    fn add(&mut self, calls: &[&'static str]) {
        self.items += 1;
        self.derives += calls.iter().filter(|c| **c == DERIVE).count();
        self.other += calls.iter().filter(|c| **c != DERIVE).count();
    }

    fn line(&self, what: &str) -> String {
        format!(
            "{what}: {} items, {} DeriveSharedSecret ({:.3}/item), {} other KMS calls",
            self.items,
            self.derives,
            self.derives as f64 / self.items.max(1) as f64,
            self.other
        )
    }
}

#[derive(Default)]
struct Stats {
    /// [fieldseal, official] x [seal, open] (KMS keyrings only).
    kms: [[PerItem; 2]; 2],
    /// The npm package in Node: [seal, open] (KMS keyrings only).
    npm: [PerItem; 2],
}

impl Stats {
    fn slot(&mut self, who: Impl, open: bool) -> &mut PerItem {
        &mut self.kms[usize::from(who == Impl::Official)][usize::from(open)]
    }
}

/// A seal with `side` (a KMS static keyring): exactly one DeriveSharedSecret.
fn seal_case(
    r: &mut Runner,
    stats: &mut Stats,
    at: &At,
    label: &str,
    who: Impl,
    side: Side,
) -> Option<Item> {
    r.case(label, || {
        let o = run_side(who, at, side, None)?;
        let sealed = o.result?;
        check_construction(&side, &o.construction)?;
        ensure(o.item == [DERIVE], || {
            format!("sealing made KMS calls {:?}, expected one {DERIVE}", o.item)
        })?;
        stats.slot(who, false).add(&o.item);
        Ok(sealed)
    })
}

/// An open with `side`: the plaintext, and one DeriveSharedSecret for a KMS
/// keyring (none for a raw one).
fn open_case(
    r: &mut Runner,
    stats: &mut Stats,
    at: &At,
    label: &str,
    who: Impl,
    side: Side,
    sealed: &Item,
) {
    r.case(label, || {
        let o = run_side(who, at, side, Some(sealed))?;
        check(at.shape, &o.result?)?;
        check_construction(&side, &o.construction)?;
        let want: &[&str] = if side.is_kms() { &[DERIVE] } else { &[] };
        ensure(o.item == want, || {
            format!("opening made KMS calls {:?}, expected {want:?}", o.item)
        })?;
        if side.is_kms() {
            stats.slot(who, true).add(&o.item);
        }
        Ok(())
    });
}

/// Another recipient must not open it. The keyring must build (so the
/// refusal is the decrypt's); a KMS stranger must not even ask KMS.
fn negative_case(r: &mut Runner, at: &At, label: &str, who: Impl, side: Side, sealed: &Item) {
    r.case(label, || {
        let o = run_side(who, at, side, Some(sealed))?;
        check_construction(&side, &o.construction)?;
        match o.result {
            Ok(_) => Err(format!("{who:?} opened it for another recipient")),
            Err(e) => {
                println!("      (refused: {})", first_line(&e));
                ensure(o.item.is_empty(), || {
                    format!("refused, but after KMS calls {:?}", o.item)
                })?;
                // Refused because no EDK was for it, not for another reason.
                // The official's no-match error (MPL ErrorMessages.dfy
                // IncorrectDataKeys) decodes each EDK's provider info as
                // UTF-8 to list it, which fails on ECDH's binary info: it
                // reports "invalid utf-8 sequence …" instead.
                let no_match = match who {
                    Impl::Fieldseal => e.contains("NO_MATCHING_KEY"),
                    Impl::Official => {
                        e.contains("invalid utf-8 sequence")
                            || e.contains("No Encrypted Data Keys found to match")
                    }
                };
                ensure(no_match, || format!("refused for another reason: {e}"))
            }
        }
    });
}

/// The refusal's message: the official's innermost `message: "…"` if any
/// (its errors nest several types deep), else the first line; cut short.
fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    let line = line.rfind("message: ").map_or(line, |i| &line[i..]);
    line.chars().take(240).collect()
}

async fn create_ecc_key(endpoint: &Endpoint, spec: KeySpec, role: &str) -> Result<KmsKey, String> {
    let client = kms_client(endpoint, REGION);
    let out = client
        .create_key()
        .key_spec(spec.clone())
        .key_usage(KeyUsageType::KeyAgreement)
        .description(format!(
            "fieldseal kms ecdh interop {} {role}",
            spec.as_str()
        ))
        .send()
        .await
        .map_err(|e| format!("CreateKey: {}", aws_sdk_kms::error::DisplayErrorContext(&e)))?;
    let arn = out
        .key_metadata
        .and_then(|m| m.arn)
        .ok_or("CreateKey returned no ARN")?;
    let public = client
        .get_public_key()
        .key_id(&arn)
        .send()
        .await
        .map_err(|e| {
            format!(
                "GetPublicKey: {}",
                aws_sdk_kms::error::DisplayErrorContext(&e)
            )
        })?
        .public_key
        .ok_or("GetPublicKey returned no PublicKey")?
        .into_inner();
    Ok(KmsKey { arn, public })
}

/// The MPL's ECC test keys of `curve`: (recipient, stranger) local pairs,
/// `recipient-material` and `sender-material` of keys.json.
fn local_keys(curve: EcdhCurve) -> Result<(LocalKey, LocalKey), String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/dbesdk/keys.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("MPL test keys {}: {e}", path.display()))?;
    let keys: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let name = match curve {
        EcdhCurve::P256 => "ecc-256-private",
        EcdhCurve::P384 => "ecc-384-private",
        EcdhCurve::P521 => "ecc-521-private",
    };
    let k = &keys["keys"][name];
    let s = |f: &str| {
        k[f].as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{name}.{f} missing"))
    };
    let b = |f: &str| -> Result<Vec<u8>, String> { B64.decode(s(f)?).map_err(|e| e.to_string()) };
    Ok((
        LocalKey {
            private: s("recipient-material")?,
            public: b("recipient-material-public-key")?,
        },
        LocalKey {
            private: s("sender-material")?,
            public: b("sender-material-public-key")?,
        },
    ))
}

fn main() {
    run_with_moto(
        "kms ecdh interop",
        "The KMS ECDH keyring interop test",
        cases,
        |t| format!("{} passed, {} failed{}", t.passed, t.failed, t.skipped),
    )
}

fn cases(r: &mut Runner, moto: &Moto) {
    let endpoint = Endpoint {
        url: moto.endpoint.clone(),
        access_key_id: ACCESS_KEY_ID.into(),
        secret_access_key: SECRET_ACCESS_KEY.into(),
    };
    let mut stats = Stats::default();
    let mut local_skipped = false;
    let mut node_work = Vec::new();
    for (curve, spec) in [
        (EcdhCurve::P256, KeySpec::EccNistP256),
        (EcdhCurve::P384, KeySpec::EccNistP384),
        (EcdhCurve::P521, KeySpec::EccNistP521),
    ] {
        let mut kms_keys = Vec::new();
        for role in ["A (sender)", "B (recipient)", "C (stranger)"] {
            kms_keys.push(r.case(
                &format!("setup: {curve} KEY_AGREEMENT key {role} in moto"),
                || block_on(create_ecc_key(&endpoint, spec.clone(), role)),
            ));
        }
        let [Some(a), Some(b), Some(c)] = <[Option<KmsKey>; 3]>::try_from(kms_keys).unwrap() else {
            continue;
        };
        let local = match local_keys(curve) {
            Ok(l) => Some(l),
            Err(why) => {
                if !local_skipped {
                    local_skipped = true;
                    r.cannot_run(
                        why,
                        "The local-key cases (KMS sender -> local recipient, raw ECDH openers)",
                        "setup: the MPL test keys (keys.json) are here",
                        "local-key cases",
                    );
                }
                None
            }
        };
        for suite in BOTH_SUITES {
            let shape = all_types().with_suite(suite);
            let mut work = NodeWork {
                curve,
                shape: shape.clone(),
                a: a.clone(),
                b: b.clone(),
                c: c.clone(),
                local: local.clone(),
                official_a_to_b: None,
                official_a_to_l: None,
            };
            let at = At {
                endpoint: &endpoint,
                shape: &shape,
                curve,
            };
            let tag = format!("{curve} {:#06x}", suite.id());
            let kms_a_to_b = Side::KmsStatic {
                sender: &a,
                given_sender_public: false,
                recipient_public: &b.public,
            };
            let kms_a_to_b_given = Side::KmsStatic {
                sender: &a,
                given_sender_public: true,
                recipient_public: &b.public,
            };
            let kms_b_to_a = Side::KmsStatic {
                sender: &b,
                given_sender_public: false,
                recipient_public: &a.public,
            };
            let discovery_b = Side::KmsDiscovery { recipient: &b };
            let discovery_c = Side::KmsDiscovery { recipient: &c };
            for (sealer, opener) in [
                (Impl::Fieldseal, Impl::Official),
                (Impl::Official, Impl::Fieldseal),
            ] {
                let dir = format!("{sealer:?} -> {opener:?}").to_lowercase();
                // KMS sender A -> KMS recipient B.
                if let Some(sealed) = seal_case(
                    r,
                    &mut stats,
                    &at,
                    &format!("{tag} {dir}: {sealer:?} seals KMS A -> KMS B"),
                    sealer,
                    kms_a_to_b,
                ) {
                    if sealer == Impl::Official {
                        work.official_a_to_b = Some(sealed.clone());
                    }
                    for (what, side) in [
                        ("KMS discovery B", discovery_b),
                        ("KMS static A -> B (the sender)", kms_a_to_b),
                        (
                            "KMS static A -> B (the sender, its public key given)",
                            kms_a_to_b_given,
                        ),
                        ("KMS static B -> A (the recipient)", kms_b_to_a),
                    ] {
                        open_case(
                            r,
                            &mut stats,
                            &at,
                            &format!("{tag} {dir} (A -> B): opened by {what}"),
                            opener,
                            side,
                            &sealed,
                        );
                    }
                    negative_case(
                        r,
                        &at,
                        &format!("{tag} {dir} (A -> B): KMS discovery C does not open it"),
                        opener,
                        discovery_c,
                        &sealed,
                    );
                }
                // KMS sender A -> local recipient L.
                let Some((l, stranger)) = &local else {
                    continue;
                };
                let kms_a_to_l = Side::KmsStatic {
                    sender: &a,
                    given_sender_public: false,
                    recipient_public: &l.public,
                };
                if let Some(sealed) = seal_case(
                    r,
                    &mut stats,
                    &at,
                    &format!("{tag} {dir}: {sealer:?} seals KMS A -> local L"),
                    sealer,
                    kms_a_to_l,
                ) {
                    if sealer == Impl::Official {
                        work.official_a_to_l = Some(sealed.clone());
                    }
                    for (what, side) in [
                        (
                            "raw ECDH discovery (L's private key)",
                            Side::RawDiscovery {
                                private: &l.private,
                            },
                        ),
                        (
                            "raw ECDH static L -> A",
                            Side::RawStatic {
                                private: &l.private,
                                recipient_public: &a.public,
                            },
                        ),
                        ("KMS static A -> L (the sender)", kms_a_to_l),
                    ] {
                        open_case(
                            r,
                            &mut stats,
                            &at,
                            &format!("{tag} {dir} (A -> L): opened by {what}"),
                            opener,
                            side,
                            &sealed,
                        );
                    }
                    negative_case(
                        r,
                        &at,
                        &format!(
                            "{tag} {dir} (A -> L): raw ECDH discovery with another local key \
                             does not open it"
                        ),
                        opener,
                        Side::RawDiscovery {
                            private: &stranger.private,
                        },
                        &sealed,
                    );
                }
            }
            node_work.push(work);
        }
    }
    npm_package_cases(r, &endpoint, &mut stats, &node_work);
    println!();
    for (who, row) in [(Impl::Fieldseal, 0), (Impl::Official, 1)] {
        for (op, col) in [("seal", 0), ("open", 1)] {
            println!(
                "kms calls per item, {}",
                stats.kms[row][col].line(&format!("{who:?} KMS ECDH {op}"))
            );
        }
    }
    for (op, col) in [("seal", 0), ("open", 1)] {
        println!(
            "kms calls per item, {}",
            stats.npm[col].line(&format!("npm package (Node) KMS ECDH {op}"))
        );
    }
}

/// One curve and suite for the npm package's cases: the keys, and what the
/// official sealed in the cases above (None: it failed, reported there).
struct NodeWork {
    curve: EcdhCurve,
    shape: Shape,
    a: KmsKey,
    b: KmsKey,
    c: KmsKey,
    /// (L, another local key); None without keys.json (skipped above).
    local: Option<(LocalKey, LocalKey)>,
    official_a_to_b: Option<Item>,
    official_a_to_l: Option<Item>,
}

impl Side<'_> {
    /// The npm package's keyring options (`AwsKmsEcdhKeyring` from
    /// "fieldseal/kms", `RawEcdhKeyring` from "fieldseal"), for
    /// tests/js/tools/ecdh-interop.mjs.
    fn npm(&self, curve: EcdhCurve) -> Value {
        let (kind, scheme) = match *self {
            Side::KmsStatic {
                sender,
                given_sender_public,
                recipient_public,
            } => {
                let mut s = json!({
                    "senderKmsIdentifier": sender.arn,
                    "recipientPublicKey": npm::bytes_json(recipient_public),
                });
                if given_sender_public {
                    s["senderPublicKey"] = npm::bytes_json(&sender.public);
                }
                ("kms", json!({ "kmsPrivateKeyToStaticPublicKey": s }))
            }
            Side::KmsDiscovery { recipient } => (
                "kms",
                json!({ "kmsPublicKeyDiscovery": { "recipientKmsIdentifier": recipient.arn } }),
            ),
            Side::RawStatic {
                private,
                recipient_public,
            } => (
                "raw",
                json!({ "staticPrivateKeyToStaticPublicKey": {
                    "senderStaticPrivateKey": private,
                    "recipientPublicKey": npm::bytes_json(recipient_public),
                }}),
            ),
            Side::RawDiscovery { private } => (
                "raw",
                json!({ "publicKeyDiscovery": { "recipientStaticPrivateKey": private } }),
            ),
        };
        json!({ "type": kind, "curve": curve.mpl_name(), "scheme": scheme })
    }
}

/// What the Rust side does with one Node case's result.
enum Then<'a> {
    /// The package sealed it with a KMS keyring: the official opens it with
    /// each of `openers`, and not with `stranger`.
    Sealed {
        openers: Vec<(&'static str, Side<'a>)>,
        stranger: (&'static str, Side<'a>),
    },
    /// The package opened the official's record: the plaintext.
    Opened,
    /// Another recipient: the package refuses it, NO_MATCHING_KEY, without
    /// asking KMS to agree.
    Refused,
}

struct NodeCase<'a> {
    label: String,
    /// Labels of the official's cases on a sealed item start with this.
    tag: String,
    work: &'a NodeWork,
    op: &'static str,
    /// What it seals or opens.
    item: &'a Item,
    side: Side<'a>,
    then: Then<'a>,
}

/// The same records both ways through the npm package in Node
/// (tests/js/tools/ecdh-interop.mjs, one run for every case, with
/// @aws-sdk/client-kms KMSClients at this moto whose commands it counts):
/// it seals KMS A -> B and A -> L, which the official opens as above, and
/// opens the official's A -> B and A -> L records with the same keyrings as
/// fieldseal above. Every KMS keyring's item takes one DeriveSharedSecret
/// (after GetPublicKey once when its key's public key is not given: the
/// package builds its keyrings at their first use) and no WebCrypto
/// deriveBits; every raw keyring's item one deriveBits and no KMS call.
fn npm_package_cases(r: &mut Runner, endpoint: &Endpoint, stats: &mut Stats, work: &[NodeWork]) {
    if let Err(why) = npm::package_ready() {
        r.cannot_run(
            why,
            "The npm package's cases (fieldseal/kms AwsKmsEcdhKeyring in Node <-> official)",
            "npm: the npm package can run here (pkg/dist built, node installed)",
            "npm: the npm package's cases in Node",
        );
        return;
    }
    let mut node: Vec<NodeCase> = Vec::new();
    for w in work {
        let (a, b, c) = (&w.a, &w.b, &w.c);
        let tag = format!("{} {:#06x}", w.curve, w.shape.table.suite.id());
        let kms_a_to_b = Side::KmsStatic {
            sender: a,
            given_sender_public: false,
            recipient_public: &b.public,
        };
        let b_openers = vec![
            ("KMS discovery B", Side::KmsDiscovery { recipient: b }),
            ("KMS static A -> B (the sender)", kms_a_to_b),
            (
                "KMS static A -> B (the sender, its public key given)",
                Side::KmsStatic {
                    sender: a,
                    given_sender_public: true,
                    recipient_public: &b.public,
                },
            ),
            (
                "KMS static B -> A (the recipient)",
                Side::KmsStatic {
                    sender: b,
                    given_sender_public: false,
                    recipient_public: &a.public,
                },
            ),
        ];
        let b_stranger = ("KMS discovery C", Side::KmsDiscovery { recipient: c });
        let mut plan = vec![(
            "A -> B",
            "KMS A -> KMS B",
            kms_a_to_b,
            b_openers,
            b_stranger,
            &w.official_a_to_b,
        )];
        if let Some((l, other)) = &w.local {
            let kms_a_to_l = Side::KmsStatic {
                sender: a,
                given_sender_public: false,
                recipient_public: &l.public,
            };
            plan.push((
                "A -> L",
                "KMS A -> local L",
                kms_a_to_l,
                vec![
                    (
                        "raw ECDH discovery (L's private key)",
                        Side::RawDiscovery {
                            private: &l.private,
                        },
                    ),
                    (
                        "raw ECDH static L -> A",
                        Side::RawStatic {
                            private: &l.private,
                            recipient_public: &a.public,
                        },
                    ),
                    ("KMS static A -> L (the sender)", kms_a_to_l),
                ],
                (
                    "raw ECDH discovery with another local key",
                    Side::RawDiscovery {
                        private: &other.private,
                    },
                ),
                &w.official_a_to_l,
            ));
        }
        for (short, long, sealer, openers, stranger, official_sealed) in plan {
            node.push(NodeCase {
                label: format!("{tag} npm -> official: npm seals {long}"),
                tag: format!("{tag} npm -> official ({short})"),
                work: w,
                op: "seal",
                item: &w.shape.input,
                side: sealer,
                then: Then::Sealed {
                    openers: openers.clone(),
                    stranger,
                },
            });
            let Some(sealed) = official_sealed else {
                continue;
            };
            let open_tag = format!("{tag} official -> npm ({short})");
            let refusal = (
                format!("{} does not open it", stranger.0),
                stranger.1,
                Then::Refused,
            );
            let opens = openers
                .into_iter()
                .map(|(what, side)| (format!("opened by {what}"), side, Then::Opened));
            for (what, side, then) in opens.chain([refusal]) {
                node.push(NodeCase {
                    label: format!("{open_tag}: {what}"),
                    tag: open_tag.clone(),
                    work: w,
                    op: "open",
                    item: sealed,
                    side,
                    then,
                });
            }
        }
    }
    let cases: Vec<Value> = node
        .iter()
        .map(|c| {
            json!({
                "label": c.label, "op": c.op, "config": npm::encryptor_config_json(&c.work.shape.table),
                "keyring": c.side.npm(c.work.curve), "item": item_to_json(c.item),
            })
        })
        .collect();
    let input = json!({
        "endpoint": endpoint.url, "region": REGION,
        "accessKeyId": endpoint.access_key_id, "secretAccessKey": endpoint.secret_access_key,
        "cases": cases,
    });
    let Some(run) = r.case("npm: node tests/js/tools/ecdh-interop.mjs ran", || {
        let run = npm::run_tool("ecdh-interop.mjs", &input)?;
        let web_crypto = run.output.get("webCrypto").cloned().unwrap_or(Value::Null);
        println!("      (WebCrypto in Node: {web_crypto})");
        Ok(run)
    }) else {
        return;
    };
    for (i, c) in node.iter().enumerate() {
        let result = run
            .output
            .get("results")
            .and_then(|l| l.get(i))
            .cloned()
            .unwrap_or(Value::Null);
        let at = At {
            endpoint,
            shape: &c.work.shape,
            curve: c.work.curve,
        };
        // The package's KMS calls and deriveBits calls for this item.
        let counts = || -> Result<(Vec<String>, u64), String> {
            let calls = result
                .get("kmsCalls")
                .and_then(Value::as_array)
                .ok_or("no kmsCalls")?
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or("a call is not a string")
                })
                .collect::<Result<Vec<_>, _>>()?;
            let derive_bits = result
                .get("deriveBits")
                .and_then(Value::as_u64)
                .ok_or("no deriveBits")?;
            Ok((calls, derive_bits))
        };
        // Construction (GetPublicKey once, when the KMS key's public key is
        // not given) then the item's own calls, which are returned.
        let split = |calls: Vec<String>| -> Result<Vec<&'static str>, String> {
            let construction = match c.side {
                Side::KmsStatic {
                    given_sender_public,
                    ..
                } => usize::from(!given_sender_public),
                Side::KmsDiscovery { .. } => 1,
                Side::RawStatic { .. } | Side::RawDiscovery { .. } => 0,
            };
            let item: Vec<&'static str> = calls
                .iter()
                .skip(construction)
                .map(|op| match op.as_str() {
                    DERIVE => DERIVE,
                    GET_PUBLIC_KEY => GET_PUBLIC_KEY,
                    _ => "other",
                })
                .collect();
            ensure(
                calls
                    .iter()
                    .take(construction)
                    .all(|op| op == GET_PUBLIC_KEY)
                    && calls.len() >= construction,
                || format!("KMS calls {calls:?}: expected {construction} GetPublicKey first"),
            )?;
            Ok(item)
        };
        let ok_item = |stats: &mut Stats, open: bool| -> Result<Item, String> {
            let v = npm::tool_result(&run.output, "results", i, &c.label, "the npm package")
                .map_err(|e| format!("{e}\n{}", run.log))?;
            let (calls, derive_bits) = counts()?;
            let item_calls = split(calls)?;
            if c.side.is_kms() {
                ensure(item_calls == [DERIVE] && derive_bits == 0, || {
                    format!(
                        "the item made KMS calls {item_calls:?} and {derive_bits} WebCrypto \
                         deriveBits, expected one {DERIVE} and none"
                    )
                })?;
                stats.npm[usize::from(open)].add(&item_calls);
            } else {
                ensure(item_calls.is_empty() && derive_bits == 1, || {
                    format!(
                        "the item made KMS calls {item_calls:?} and {derive_bits} WebCrypto \
                         deriveBits, expected none and one"
                    )
                })?;
            }
            item_from_json(v.get("item").ok_or("no item")?)
        };
        match &c.then {
            Then::Sealed { openers, stranger } => {
                let Some(sealed) = r.case(&c.label, || ok_item(stats, false)) else {
                    continue;
                };
                for (what, side) in openers {
                    open_case(
                        r,
                        stats,
                        &at,
                        &format!("{}: opened by {what}", c.tag),
                        Impl::Official,
                        *side,
                        &sealed,
                    );
                }
                negative_case(
                    r,
                    &at,
                    &format!("{}: {} does not open it", c.tag, stranger.0),
                    Impl::Official,
                    stranger.1,
                    &sealed,
                );
            }
            Then::Opened => {
                r.case(&c.label, || check(&c.work.shape, &ok_item(stats, true)?));
            }
            Then::Refused => {
                r.case(&c.label, || {
                    ensure(
                        result.get("ok") == Some(&Value::Bool(false))
                            && result.get("code").and_then(Value::as_str)
                                == Some("NO_MATCHING_KEY"),
                        || format!("expected NO_MATCHING_KEY, got {result}"),
                    )?;
                    println!(
                        "      (refused: {})",
                        first_line(result.get("why").and_then(Value::as_str).unwrap_or(""))
                    );
                    let (calls, derive_bits) = counts()?;
                    let item_calls = split(calls)?;
                    ensure(item_calls.is_empty() && derive_bits == 0, || {
                        format!(
                            "refused, but after KMS calls {item_calls:?} and {derive_bits} \
                             WebCrypto deriveBits"
                        )
                    })
                });
            }
        }
    }
}
