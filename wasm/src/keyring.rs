//! `WasmKeyring`: one JS class for every keyring, so that multi-keyrings and
//! encryptors can take any of them.

use std::sync::Arc;

use fieldseal::keyring::kms::{KmsClient, KmsKeyId};
use fieldseal::keyring::{
    AwsKmsKeyring, AwsKmsMrkKeyring, DiscoveryFilter, MultiKeyring, RawAesKeyring,
    StaticBranchKeyKeyring,
};
use fieldseal::Keyring;
use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::args::Fields;
use crate::custom::JsKeyring;
use crate::error::to_js;
use crate::kms::JsKmsClient;

/// A keyring (key provider). Cheap to share: handles are reference counted.
#[wasm_bindgen]
pub struct WasmKeyring {
    inner: Arc<dyn Keyring>,
}

impl WasmKeyring {
    pub(crate) fn new(keyring: impl Keyring + 'static) -> WasmKeyring {
        WasmKeyring {
            inner: Arc::new(keyring),
        }
    }

    pub(crate) fn shared(&self) -> Arc<dyn Keyring> {
        self.inner.clone()
    }
}

#[wasm_bindgen(typescript_custom_section)]
const KEYRING_OPTIONS: &'static str = r#"
/** RSA padding schemes, named as in the AWS Material Providers Library. */
export type RsaPaddingName = "PKCS1" | "OAEP_SHA1_MGF1" | "OAEP_SHA256_MGF1" | "OAEP_SHA384_MGF1" | "OAEP_SHA512_MGF1";
export interface RawAesOptions { keyNamespace: string; keyName: string; wrappingKey: Uint8Array }
/** At least one PEM; without the private key the keyring encrypts only. */
export interface RawRsaOptions { keyNamespace: string; keyName: string; padding: RsaPaddingName; publicKeyPem?: string | null; privateKeyPem?: string | null }
/** The raw ECDH keyring, flattened by the package: the key agreement schema's name and its key bytes (PEM text or DER). */
export interface RawEcdhOptions { curve: string; scheme: "staticPrivateKeyToStaticPublicKey" | "ephemeralPrivateKeyToStaticPublicKey" | "publicKeyDiscovery"; privateKey?: Uint8Array | null; publicKey?: Uint8Array | null }
export interface StaticBranchKeyOptions { branchKeyId: string; branchKeyVersion: string; branchKey: Uint8Array }
/** Callbacks as described in wasm/README.md ("Custom keyrings"). */
export interface CustomKeyringOptions { providerId: string; wrapKey: Function; unwrapKey: Function }
/** Runs one KMS command with the user's client and resolves to its output. */
export type KmsCall = (region: string, operation: "GenerateDataKey" | "Decrypt" | "GetPublicKey" | "DeriveSharedSecret", input: object) => Promise<unknown>;
/** KMS's RSA encryption algorithms (EncryptionAlgorithmSpec) for the AWS KMS RSA keyring. */
export type KmsRsaEncryptionAlgorithm = "RSAES_OAEP_SHA_256" | "RSAES_OAEP_SHA_1";
/** `kmsKeyId` a key ARN. Without `publicKeyPem` it only opens; without `kmsCall` it only seals (no KMS call ever). */
export interface AwsKmsRsaOptions { kmsKeyId: string; encryptionAlgorithm: KmsRsaEncryptionAlgorithm; publicKeyPem?: string | null; grantTokens?: string[] | null; kmsCall?: KmsCall | null }
/** `kmsKeyId` an ARN (its region is where GetPublicKey is sent). */
export interface AwsKmsEcdhOptions { curve: string; scheme: "kmsPrivateKeyToStaticPublicKey" | "kmsPublicKeyDiscovery"; kmsKeyId: string; senderPublicKey?: Uint8Array | null; recipientPublicKey?: Uint8Array | null; grantTokens?: string[] | null; kmsCall: KmsCall }
export interface KmsPublicKeyOptions { kmsKeyId: string; grantTokens?: string[] | null; kmsCall: KmsCall }
/** "strict": only the exact key; "mrk": any replica of a multi-Region key. */
export type KmsKeyringKind = "strict" | "mrk";
/** `region` only for key ids that are not ARNs. */
export interface AwsKmsOptions { kind: KmsKeyringKind; kmsKeyId: string; region?: string | null; grantTokens?: string[] | null; kmsCall: KmsCall }
export interface AwsKmsMrkMultiOptions { generator?: string | null; kmsKeyIds?: string[] | null; grantTokens?: string[] | null; kmsCall: KmsCall }
export interface DiscoveryFilterOptions { partition: string; accountIds: string[] }
export interface AwsKmsMrkDiscoveryOptions { region: string; discoveryFilter?: DiscoveryFilterOptions | null; grantTokens?: string[] | null; kmsCall: KmsCall }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "RawAesOptions")]
    pub type RawAesOptions;
    #[wasm_bindgen(typescript_type = "RawRsaOptions")]
    pub type RawRsaOptions;
    #[wasm_bindgen(typescript_type = "RawEcdhOptions")]
    pub type RawEcdhOptions;
    #[wasm_bindgen(typescript_type = "StaticBranchKeyOptions")]
    pub type StaticBranchKeyOptions;
    #[wasm_bindgen(typescript_type = "CustomKeyringOptions")]
    pub type CustomKeyringOptions;
    #[wasm_bindgen(typescript_type = "AwsKmsOptions")]
    pub type AwsKmsOptions;
    #[wasm_bindgen(typescript_type = "AwsKmsMrkMultiOptions")]
    pub type AwsKmsMrkMultiOptions;
    #[wasm_bindgen(typescript_type = "AwsKmsMrkDiscoveryOptions")]
    pub type AwsKmsMrkDiscoveryOptions;
    #[wasm_bindgen(typescript_type = "AwsKmsRsaOptions")]
    pub type AwsKmsRsaOptions;
    #[wasm_bindgen(typescript_type = "AwsKmsEcdhOptions")]
    pub type AwsKmsEcdhOptions;
    #[wasm_bindgen(typescript_type = "KmsPublicKeyOptions")]
    pub type KmsPublicKeyOptions;
}

const RAW_RSA: &str = "the raw RSA keyring options";
const RAW_RSA_KEYS: &[&str] = &[
    "keyNamespace",
    "keyName",
    "padding",
    "publicKeyPem",
    "privateKeyPem",
];

/// Build a keyring from an options object, every error typed for JS.
fn build<K: Keyring + 'static>(
    options: &JsValue,
    what: &str,
    known: &[&'static str],
    make: impl FnOnce(&Fields) -> fieldseal::Result<K>,
) -> Result<WasmKeyring, JsValue> {
    Fields::read(options, what, known)
        .and_then(|fields| make(&fields))
        .map(WasmKeyring::new)
        .map_err(to_js)
}

/// `KmsKeyringKind` in the `.d.ts`: which KMS keyring `awsKms` builds.
enum KmsKind {
    Strict,
    Mrk,
}

impl KmsKind {
    fn parse(name: &str) -> fieldseal::Result<KmsKind> {
        match name {
            "strict" => Ok(KmsKind::Strict),
            "mrk" => Ok(KmsKind::Mrk),
            other => Err(fieldseal::Error::InvalidConfig(format!(
                "unknown KMS keyring kind {other:?}"
            ))),
        }
    }
}

/// The KMS client for one region, calling back into JS.
fn kms_client(region: String, call: &Function) -> Arc<dyn KmsClient> {
    Arc::new(JsKmsClient::new(region, call.clone()))
}

#[wasm_bindgen]
impl WasmKeyring {
    /// Raw AES keyring; `wrappingKey` is 16, 24 or 32 bytes.
    #[wasm_bindgen(js_name = rawAes)]
    pub fn raw_aes(options: &RawAesOptions) -> Result<WasmKeyring, JsValue> {
        const KEYS: &[&str] = &["keyNamespace", "keyName", "wrappingKey"];
        build(options, "the raw AES keyring options", KEYS, |o| {
            let key = o.key_bytes("wrappingKey")?;
            RawAesKeyring::new(&o.string("keyNamespace")?, &o.string("keyName")?, &key)
        })
    }

    /// Raw RSA keyring. Without `privateKeyPem` it can only encrypt.
    #[wasm_bindgen(js_name = rawRsa)]
    pub fn raw_rsa(options: &RawRsaOptions) -> Result<WasmKeyring, JsValue> {
        build(options, RAW_RSA, RAW_RSA_KEYS, raw_rsa)
    }

    /// Read and check raw RSA options as [`WasmKeyring::raw_rsa`] does,
    /// except the PEM keys (parsed on first use): lets the package refuse
    /// a bad padding from its constructor once the module is loaded.
    #[wasm_bindgen(js_name = checkRawRsa)]
    pub fn check_raw_rsa(options: &RawRsaOptions) -> Result<(), JsValue> {
        Fields::read(options, RAW_RSA, RAW_RSA_KEYS)
            .and_then(|o| check_raw_rsa(&o))
            .map_err(to_js)
    }

    /// Raw ECDH keyring (the MPL's `CreateRawEcdhKeyring`): `scheme` names
    /// the key agreement schema, `privateKey` / `publicKey` are the keys it
    /// takes (static: both; ephemeral: the recipient's public key;
    /// discovery: the recipient's private key).
    #[wasm_bindgen(js_name = rawEcdh)]
    pub fn raw_ecdh(options: &RawEcdhOptions) -> Result<WasmKeyring, JsValue> {
        const KEYS: &[&str] = &["curve", "scheme", "privateKey", "publicKey"];
        build(options, "the raw ECDH keyring options", KEYS, |o| {
            use fieldseal::keyring::{RawEcdhKeyring, RawEcdhScheme};
            let curve = o.named("curve", fieldseal::primitives::ecdh::EcdhCurve::parse)?;
            let scheme = o.string("scheme")?;
            let key = |k: &str| -> fieldseal::Result<zeroize::Zeroizing<Vec<u8>>> {
                if o.has(k) {
                    o.key_bytes(k)
                } else {
                    Err(fieldseal::Error::InvalidKey(format!(
                        "the raw ECDH keyring's {scheme} needs {k}"
                    )))
                }
            };
            let (private, public);
            let scheme = match scheme.as_str() {
                "staticPrivateKeyToStaticPublicKey" => {
                    (private, public) = (key("privateKey")?, key("publicKey")?);
                    RawEcdhScheme::StaticPrivateKeyToStaticPublicKey {
                        sender_static_private_key: &private,
                        recipient_public_key: &public,
                    }
                }
                "ephemeralPrivateKeyToStaticPublicKey" => {
                    public = key("publicKey")?;
                    RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
                        recipient_public_key: &public,
                    }
                }
                "publicKeyDiscovery" => {
                    private = key("privateKey")?;
                    RawEcdhScheme::PublicKeyDiscovery {
                        recipient_static_private_key: &private,
                    }
                }
                other => {
                    return Err(fieldseal::Error::InvalidConfig(format!(
                        "unknown raw ECDH key agreement schema {other:?} (use \
                         staticPrivateKeyToStaticPublicKey, ephemeralPrivateKeyToStaticPublicKey \
                         or publicKeyDiscovery)"
                    )))
                }
            };
            let keyring = RawEcdhKeyring::new(curve, scheme)?;
            // Keys are parsed and validated in Rust either way; the platform
            // only computes the agreements.
            Ok(match crate::webcrypto::WebCrypto::detect(0) {
                Some(platform) => keyring
                    .with_ecdh_provider(Arc::new(crate::webcrypto::WebCryptoEcdh::new(platform))),
                None => keyring,
            })
        })
    }

    /// The hierarchical keyring's EDK format under a fixed 32-byte branch key.
    #[wasm_bindgen(js_name = staticBranchKey)]
    pub fn static_branch_key(options: &StaticBranchKeyOptions) -> Result<WasmKeyring, JsValue> {
        const KEYS: &[&str] = &["branchKeyId", "branchKeyVersion", "branchKey"];
        build(
            options,
            "the static branch key keyring options",
            KEYS,
            |o| {
                let key = o.key_bytes("branchKey")?;
                StaticBranchKeyKeyring::new(
                    &o.string("branchKeyId")?,
                    &o.string("branchKeyVersion")?,
                    &key,
                )
            },
        )
    }

    /// A multi-keyring. Consumes the handles it is given; pass `share()`d ones.
    pub fn multi(
        generator: Option<WasmKeyring>,
        children: Vec<WasmKeyring>,
    ) -> Result<WasmKeyring, JsValue> {
        MultiKeyring::new(
            generator.map(|g| g.inner),
            children.into_iter().map(|c| c.inner).collect(),
        )
        .map(WasmKeyring::new)
        .map_err(to_js)
    }

    /// A keyring whose provider is a pair of JS callbacks (see wasm/README.md).
    pub fn custom(options: &CustomKeyringOptions) -> Result<WasmKeyring, JsValue> {
        const KEYS: &[&str] = &["providerId", "wrapKey", "unwrapKey"];
        build(options, "the custom keyring options", KEYS, |o| {
            JsKeyring::new(
                o.string("providerId")?,
                o.value("wrapKey"),
                o.value("unwrapKey"),
            )
        })
    }

    /// An AWS KMS keyring, strict or MRK-aware; `kmsCall(region, operation,
    /// input)` runs a KMS command with the user's client.
    #[wasm_bindgen(js_name = awsKms)]
    pub fn aws_kms(options: &AwsKmsOptions) -> Result<WasmKeyring, JsValue> {
        const KEYS: &[&str] = &["kind", "kmsKeyId", "region", "grantTokens", "kmsCall"];
        build(options, "the AWS KMS keyring options", KEYS, |o| {
            let key_id = o.string("kmsKeyId")?;
            let region = o.optional_string("region")?;
            let tokens = o.string_list("grantTokens")?;
            let call = o.function("kmsCall")?;
            let key_region = match KmsKeyId::parse(&key_id)?.region() {
                Some(r) => r.to_string(),
                None => region.clone().unwrap_or_default(),
            };
            let client = kms_client(key_region, &call);
            let region = region.as_deref();
            match o.named("kind", KmsKind::parse)? {
                KmsKind::Strict => AwsKmsKeyring::new(&key_id, region, client, tokens),
                KmsKind::Mrk => AwsKmsKeyring::new_mrk(&key_id, region, client, tokens),
            }
        })
    }

    /// A multi-keyring of MRK-aware KMS keyrings, one per ARN (the generator
    /// first). The core checks the rules (ARNs only, no two replicas of one
    /// multi-Region key), so JS and Rust reject the same configurations.
    #[wasm_bindgen(js_name = awsKmsMrkMulti)]
    pub fn aws_kms_mrk_multi(options: &AwsKmsMrkMultiOptions) -> Result<WasmKeyring, JsValue> {
        const KEYS: &[&str] = &["generator", "kmsKeyIds", "grantTokens", "kmsCall"];
        build(
            options,
            "the AWS KMS MRK multi-keyring options",
            KEYS,
            |o| {
                let generator = o.optional_string("generator")?;
                let key_ids = o.string_list("kmsKeyIds")?;
                let tokens = o.string_list("grantTokens")?;
                let call = o.function("kmsCall")?;
                let clients = move |region: &str| Ok(kms_client(region.to_string(), &call));
                AwsKmsMrkKeyring::multi(generator.as_deref(), &key_ids, &clients, tokens)
            },
        )
    }

    /// An AWS KMS MRK-aware discovery keyring for `region` (decrypt only).
    #[wasm_bindgen(js_name = awsKmsMrkDiscovery)]
    pub fn aws_kms_mrk_discovery(
        options: &AwsKmsMrkDiscoveryOptions,
    ) -> Result<WasmKeyring, JsValue> {
        const KEYS: &[&str] = &["region", "discoveryFilter", "grantTokens", "kmsCall"];
        build(
            options,
            "the AWS KMS MRK discovery keyring options",
            KEYS,
            |o| {
                let region = o.string("region")?;
                let filter = match o.nested("discoveryFilter", &["partition", "accountIds"])? {
                    Some(f) => Some(DiscoveryFilter::new(
                        &f.string("partition")?,
                        f.string_list("accountIds")?,
                    )?),
                    None => None,
                };
                let tokens = o.string_list("grantTokens")?;
                let client = kms_client(region.clone(), &o.function("kmsCall")?);
                AwsKmsKeyring::new_mrk_discovery(&region, filter, client, tokens)
            },
        )
    }

    /// The AWS KMS RSA keyring: seals with `publicKeyPem` (no KMS call),
    /// opens with KMS Decrypt through `kmsCall` in the key's region.
    #[wasm_bindgen(js_name = awsKmsRsa)]
    pub fn aws_kms_rsa(options: &AwsKmsRsaOptions) -> Result<WasmKeyring, JsValue> {
        const KEYS: &[&str] = &[
            "kmsKeyId",
            "encryptionAlgorithm",
            "publicKeyPem",
            "grantTokens",
            "kmsCall",
        ];
        build(
            options,
            "the AWS KMS RSA keyring options",
            KEYS,
            aws_kms_rsa,
        )
    }

    /// The AWS KMS ECDH keyring (the MPL's `CreateAwsKmsEcdhKeyring`):
    /// `kmsKeyId` is the sender's KMS key (kmsPrivateKeyToStaticPublicKey)
    /// or the recipient's (kmsPublicKeyDiscovery); public keys DER SPKI or
    /// PEM bytes. A promise: the KMS key's public key, if not given, is
    /// fetched with GetPublicKey through `kmsCall` in the ARN's region.
    #[wasm_bindgen(js_name = awsKmsEcdh, unchecked_return_type = "Promise<WasmKeyring>")]
    pub fn aws_kms_ecdh(options: &AwsKmsEcdhOptions) -> js_sys::Promise {
        const KEYS: &[&str] = &[
            "curve",
            "scheme",
            "kmsKeyId",
            "senderPublicKey",
            "recipientPublicKey",
            "grantTokens",
            "kmsCall",
        ];
        let read = Fields::read(options, "the AWS KMS ECDH keyring options", KEYS).and_then(|o| {
            let curve = o.named("curve", fieldseal::primitives::ecdh::EcdhCurve::parse)?;
            let scheme = o.string("scheme")?;
            let key_id = o.string("kmsKeyId")?;
            let optional = |k: &str| -> fieldseal::Result<Option<Vec<u8>>> {
                Ok(if o.has(k) {
                    Some(o.key_bytes(k)?.to_vec())
                } else {
                    None
                })
            };
            let sender = optional("senderPublicKey")?;
            let recipient = optional("recipientPublicKey")?;
            let tokens = o.string_list("grantTokens")?;
            let region = key_region(&key_id)?;
            let client = kms_client(region, &o.function("kmsCall")?);
            Ok((curve, scheme, key_id, sender, recipient, tokens, client))
        });
        crate::promise(async move {
            use fieldseal::keyring::{AwsKmsEcdhKeyring, AwsKmsEcdhScheme};
            let (curve, scheme, key_id, sender, recipient, tokens, client) = read.map_err(to_js)?;
            let scheme = match scheme.as_str() {
                "kmsPrivateKeyToStaticPublicKey" => {
                    AwsKmsEcdhScheme::KmsPrivateKeyToStaticPublicKey {
                        sender_kms_key_id: &key_id,
                        sender_public_key: sender.as_deref(),
                        recipient_public_key: recipient.as_deref().ok_or_else(|| {
                            to_js(fieldseal::Error::InvalidKey(
                                "the AWS KMS ECDH keyring's kmsPrivateKeyToStaticPublicKey needs \
                             recipientPublicKey"
                                    .into(),
                            ))
                        })?,
                    }
                }
                "kmsPublicKeyDiscovery" => AwsKmsEcdhScheme::KmsPublicKeyDiscovery {
                    recipient_kms_key_id: &key_id,
                    recipient_public_key: recipient.as_deref(),
                },
                other => {
                    return Err(to_js(fieldseal::Error::InvalidConfig(format!(
                        "unknown AWS KMS ECDH key agreement scheme {other:?} (use \
                         kmsPrivateKeyToStaticPublicKey or kmsPublicKeyDiscovery)"
                    ))))
                }
            };
            AwsKmsEcdhKeyring::new(curve, scheme, client, tokens)
                .await
                .map(|k| JsValue::from(WasmKeyring::new(k)))
                .map_err(to_js)
        })
    }

    /// The SPKI PEM of a KMS RSA key, by GetPublicKey in the ARN's region.
    #[wasm_bindgen(js_name = kmsRsaPublicKeyPem, unchecked_return_type = "Promise<string>")]
    pub fn kms_rsa_public_key_pem(options: &KmsPublicKeyOptions) -> js_sys::Promise {
        let read = Fields::read(
            options,
            "the getPublicKeyPem options",
            &["kmsKeyId", "grantTokens", "kmsCall"],
        )
        .and_then(|o| {
            let key_id = o.string("kmsKeyId")?;
            let region = key_region(&key_id)?;
            Ok((
                key_id,
                o.string_list("grantTokens")?,
                kms_client(region, &o.function("kmsCall")?),
            ))
        });
        crate::promise(async move {
            let (key_id, tokens, client) = read.map_err(to_js)?;
            public_key_pem(client.as_ref(), &key_id, tokens)
                .await
                .map(|pem| JsValue::from_str(&pem))
                .map_err(to_js)
        })
    }

    /// Another handle to the same keyring.
    pub fn share(&self) -> WasmKeyring {
        WasmKeyring {
            inner: self.inner.clone(),
        }
    }
}

/// The raw RSA keyring's options, read and checked (names, padding) but with
/// the PEM keys not yet parsed: parsing waits for the keyring's first use.
#[cfg(feature = "rsa")]
struct RawRsaOptionsRead {
    key_namespace: String,
    key_name: String,
    padding: fieldseal::keyring::RsaPadding,
    public: Option<String>,
    private: Option<zeroize::Zeroizing<String>>,
}

#[cfg(feature = "rsa")]
impl RawRsaOptionsRead {
    fn read(o: &Fields) -> fieldseal::Result<Self> {
        Ok(RawRsaOptionsRead {
            padding: o.named("padding", fieldseal::keyring::RsaPadding::parse)?,
            public: o.optional_string("publicKeyPem")?,
            private: o.optional_string("privateKeyPem")?.map(Into::into),
            key_namespace: o.string("keyNamespace")?,
            key_name: o.string("keyName")?,
        })
    }
}

/// The raw RSA keyring, with OAEP decryption on the platform's constant-time
/// RSA where there is one.
#[cfg(feature = "rsa")]
fn raw_rsa(o: &Fields) -> fieldseal::Result<fieldseal::keyring::RawRsaKeyring> {
    let o = RawRsaOptionsRead::read(o)?;
    let keyring = fieldseal::keyring::RawRsaKeyring::new(
        &o.key_namespace,
        &o.key_name,
        o.padding,
        o.public.as_deref(),
        o.private.as_deref().map(String::as_str),
    )?;
    Ok(match crate::webcrypto::WebCrypto::detect(0) {
        Some(platform) => keyring.with_oaep_provider(Arc::new(platform)),
        None => keyring,
    })
}

/// The region of an ARN, where its KMS calls go.
fn key_region(key_id: &str) -> fieldseal::Result<String> {
    match KmsKeyId::parse(key_id)?.region() {
        Some(region) => Ok(region.to_string()),
        None => Err(fieldseal::Error::InvalidConfig(format!(
            "kmsKeyId must be a KMS key ARN (its region is where KMS is called), got {key_id:?}"
        ))),
    }
}

#[cfg(feature = "rsa")]
fn aws_kms_rsa(o: &Fields) -> fieldseal::Result<fieldseal::keyring::AwsKmsRsaKeyring> {
    use fieldseal::keyring::kms::EncryptionAlgorithm;
    let key_id = o.string("kmsKeyId")?;
    let algorithm = o.named("encryptionAlgorithm", EncryptionAlgorithm::parse)?;
    let public_key = o.optional_string("publicKeyPem")?;
    let tokens = o.string_list("grantTokens")?;
    // The core refuses an identifier that is not a key ARN, naming it.
    let client = match o.has("kmsCall") {
        true => {
            let parsed = KmsKeyId::parse(&key_id).ok();
            let region = parsed
                .as_ref()
                .and_then(KmsKeyId::region)
                .unwrap_or_default();
            let region = region.to_string();
            Some(kms_client(region, &o.function("kmsCall")?))
        }
        false => None,
    };
    fieldseal::keyring::AwsKmsRsaKeyring::new(
        &key_id,
        algorithm,
        public_key.as_deref(),
        client,
        tokens,
    )
}

#[cfg(feature = "rsa")]
async fn public_key_pem(
    client: &dyn KmsClient,
    key_id: &str,
    tokens: Vec<String>,
) -> fieldseal::Result<String> {
    fieldseal::keyring::kms::get_public_key_pem(client, key_id, tokens).await
}

#[cfg(not(feature = "rsa"))]
fn aws_kms_rsa(_: &Fields) -> fieldseal::Result<RawAesKeyring> {
    Err(no_rsa())
}

#[cfg(not(feature = "rsa"))]
async fn public_key_pem(_: &dyn KmsClient, _: &str, _: Vec<String>) -> fieldseal::Result<String> {
    Err(no_rsa())
}

#[cfg(not(feature = "rsa"))]
fn no_rsa() -> fieldseal::Error {
    fieldseal::Error::InvalidConfig(
        "this build of fieldseal has no RSA support (feature \"rsa\")".into(),
    )
}

#[cfg(feature = "rsa")]
fn check_raw_rsa(o: &Fields) -> fieldseal::Result<()> {
    RawRsaOptionsRead::read(o).map(drop)
}

#[cfg(not(feature = "rsa"))]
fn raw_rsa(_: &Fields) -> fieldseal::Result<RawAesKeyring> {
    Err(fieldseal::Error::InvalidConfig(
        "this build of fieldseal has no RSA support (feature \"rsa\")".into(),
    ))
}

#[cfg(not(feature = "rsa"))]
fn check_raw_rsa(o: &Fields) -> fieldseal::Result<()> {
    raw_rsa(o).map(drop)
}
