//! The platform's WebCrypto (`crypto.subtle`, in browsers and Node) as the
//! core's crypto provider: ECDSA P-384 several times faster than P-384
//! compiled to wasm, and AES-256-GCM and SHA-384 some twenty times faster on
//! large values. The core keeps the wire format (keys, nonces, DER, the
//! 103-byte rule); this only computes. Private keys are non-extractable.
//! It also decrypts RSA-OAEP for the raw RSA keyring: the platform's RSA is
//! constant-time, the `rsa` crate's is not (RUSTSEC-2023-0071); and computes
//! the raw ECDH keyring's key agreements (`deriveBits`).

use async_trait::async_trait;
use fieldseal::base::SecretBytes;
use fieldseal::primitives::ecdh::{EcPrivateKey, EcPublicKey, EcdhCurve, RustCryptoEcdh};
use fieldseal::primitives::provider::{
    BulkCrypto, CryptoProvider, EcdhProvider, OaepHash, RsaOaepPrivateKey, RsaOaepProvider,
    SecureRandom,
};
use fieldseal::primitives::signature::{
    decompress_public_key, EcdsaP384Provider, EcdsaP384SigningKey, P1363Signature,
};
use fieldseal::{Error, Result};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

/// Values from this size up are sealed, opened and hashed by WebCrypto: below
/// it, the call costs more than wasm's slower AES-GCM saves. The crossovers
/// measured by `npm run bench` (BENCHMARKS.md, "large fields"): 4 KiB in
/// Chromium; 16 KiB in Node, whose WebCrypto pays a thread-pool hop per call.
pub fn default_bulk_min_len() -> usize {
    let in_node = Reflect::get(&js_sys::global(), &JsValue::from_str("process"))
        .and_then(|p| Reflect::get(&p, &JsValue::from_str("versions")))
        .and_then(|v| Reflect::get(&v, &JsValue::from_str("node")))
        .is_ok_and(|n| n.is_string());
    if in_node {
        16 * 1024
    } else {
        4 * 1024
    }
}

/// `crypto.subtle`, when the platform has it.
#[derive(Clone)]
pub struct WebCrypto {
    subtle: JsValue,
    bulk_min_len: usize,
    /// Whether this engine imports compressed P-384 points (Node does; the
    /// WebCrypto spec only requires uncompressed ones). Unknown until tried;
    /// when it does, wasm skips decompressing, 5% of a 0x6701 round trip.
    imports_compressed: Cell<Option<bool>>,
}

impl WebCrypto {
    pub fn detect(bulk_min_len: usize) -> Option<Self> {
        let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
        let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).ok()?;
        subtle.is_object().then_some(WebCrypto {
            subtle,
            bulk_min_len,
            imports_compressed: Cell::new(None),
        })
    }

    /// The core's provider: WebCrypto for ECDSA and large values.
    pub fn provider(self) -> CryptoProvider {
        let shared = Arc::new(self);
        CryptoProvider {
            ecdsa: shared.clone(),
            bulk: Some(shared),
            // Randomness stays the default (crypto.getRandomValues through getrandom).
            ..CryptoProvider::default()
        }
    }

    async fn call(&self, method: &str, args: &[JsValue]) -> Result<JsValue> {
        let failed = |e: &JsValue| {
            let why = e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "an unknown error".into());
            Error::KeyProviderFailure(format!("WebCrypto {method} failed: {why}"))
        };
        let function = Reflect::get(&self.subtle, &JsValue::from_str(method))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or_else(|| Error::KeyProviderFailure(format!("WebCrypto has no {method}")))?;
        let promise = function
            .apply(&self.subtle, &args.iter().collect::<Array>())
            .map_err(|e| failed(&e))?;
        JsFuture::from(Promise::resolve(&promise))
            .await
            .map_err(|e| failed(&e))
    }
}

fn object(entries: &[(&str, &str)]) -> JsValue {
    let o = Object::new();
    for (k, v) in entries {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o.into()
}

fn strings(list: &[&str]) -> JsValue {
    list.iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
}

fn key_params() -> JsValue {
    object(&[("name", "ECDSA"), ("namedCurve", "P-384")])
}

fn sign_params() -> JsValue {
    object(&[("name", "ECDSA"), ("hash", "SHA-384")])
}

fn bytes(buffer: &JsValue) -> Vec<u8> {
    Uint8Array::new(buffer).to_vec()
}

/// SEC1 compressed form of an uncompressed point `04 || x || y`.
fn compress(uncompressed: &[u8]) -> Result<Vec<u8>> {
    if uncompressed.len() != 97 || uncompressed[0] != 4 {
        return Err(Error::KeyProviderFailure(
            "WebCrypto exported an unexpected P-384 public key".into(),
        ));
    }
    let mut out = Vec::with_capacity(49);
    out.push(2 | (uncompressed[96] & 1));
    out.extend_from_slice(&uncompressed[1..49]);
    Ok(out)
}

struct WebCryptoKey {
    provider: WebCrypto,
    private_key: JsValue,
    compressed: Vec<u8>,
}

#[async_trait(?Send)]
impl EcdsaP384SigningKey for WebCryptoKey {
    fn compressed_public_key(&self) -> Vec<u8> {
        self.compressed.clone()
    }

    async fn sign(&self, message: &[u8]) -> Result<P1363Signature> {
        let signature = self
            .provider
            .call(
                "sign",
                &[
                    sign_params(),
                    self.private_key.clone(),
                    Uint8Array::from(message).into(),
                ],
            )
            .await?;
        bytes(&signature).try_into().map_err(|_| {
            Error::KeyProviderFailure(
                "WebCrypto returned an ECDSA signature of the wrong size".into(),
            )
        })
    }
}

impl WebCrypto {
    async fn import_verifying_key(&self, point: &[u8]) -> Result<JsValue> {
        self.call(
            "importKey",
            &[
                JsValue::from_str("raw"),
                Uint8Array::from(point).into(),
                key_params(),
                JsValue::FALSE,
                strings(&["verify"]),
            ],
        )
        .await
    }

    /// The stored (compressed) key as a CryptoKey: imported as it is where
    /// the engine allows, else decompressed in wasm first. A point that is
    /// not on the curve fails in `decompress_public_key` with a format error.
    async fn verifying_key(&self, compressed: &[u8]) -> Result<JsValue> {
        if self.imports_compressed.get() != Some(false) {
            if let Ok(key) = self.import_verifying_key(compressed).await {
                self.imports_compressed.set(Some(true));
                return Ok(key);
            }
        }
        let point = decompress_public_key(compressed)?;
        let key = self.import_verifying_key(&point).await?;
        // Only a valid point that imports uncompressed proves the engine
        // refuses the compressed form.
        if self.imports_compressed.get().is_none() {
            self.imports_compressed.set(Some(false));
        }
        Ok(key)
    }
}

#[async_trait(?Send)]
impl EcdsaP384Provider for WebCrypto {
    /// WebCrypto draws the key from the platform's own CSPRNG.
    async fn generate_key(
        &self,
        _random: &dyn SecureRandom,
    ) -> Result<Box<dyn EcdsaP384SigningKey>> {
        let pair = self
            .call(
                "generateKey",
                &[key_params(), JsValue::FALSE, strings(&["sign", "verify"])],
            )
            .await?;
        let get =
            |k: &str| Reflect::get(&pair, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
        let raw = self
            .call("exportKey", &[JsValue::from_str("raw"), get("publicKey")])
            .await?;
        Ok(Box::new(WebCryptoKey {
            provider: self.clone(),
            private_key: get("privateKey"),
            compressed: compress(&bytes(&raw))?,
        }))
    }

    async fn verify(
        &self,
        compressed_public_key: &[u8],
        message: &[u8],
        signature: &P1363Signature,
    ) -> Result<bool> {
        let key = self.verifying_key(compressed_public_key).await?;
        let valid = self
            .call(
                "verify",
                &[
                    sign_params(),
                    key,
                    Uint8Array::from(&signature[..]).into(),
                    Uint8Array::from(message).into(),
                ],
            )
            .await?;
        Ok(valid.as_bool() == Some(true))
    }
}

/// A view of wasm memory for a WebCrypto call. Safe here because WebCrypto
/// copies its inputs before the call returns (WebCrypto spec: "get a copy of
/// the bytes held by the data parameter", the first step of every method),
/// and nothing runs in between that could grow or free the memory.
fn borrowed(bytes: &[u8]) -> JsValue {
    // SAFETY: see above; the view is used only within one synchronous call.
    unsafe { Uint8Array::view(bytes) }.into()
}

fn aes_gcm_params(nonce: &[u8; 12], aad: &[u8]) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &"name".into(), &"AES-GCM".into());
    let _ = Reflect::set(&o, &"iv".into(), &Uint8Array::from(&nonce[..]));
    let _ = Reflect::set(&o, &"additionalData".into(), &Uint8Array::from(aad));
    let _ = Reflect::set(&o, &"tagLength".into(), &JsValue::from_f64(128.0));
    o.into()
}

impl WebCrypto {
    /// Import secret key bytes as a non-extractable CryptoKey. The bytes go
    /// to JS in a copy of their own, zeroed as soon as importKey settles,
    /// whatever the outcome: WebCrypto keeps its own copy inside the key, and
    /// the garbage collector would free ours at some unknown time, unwiped.
    async fn import_secret(
        &self,
        format: &str,
        secret: &[u8],
        algorithm: JsValue,
        usage: &str,
    ) -> Result<JsValue> {
        let copy = Uint8Array::from(secret);
        let key = self
            .call(
                "importKey",
                &[
                    JsValue::from_str(format),
                    copy.clone().into(),
                    algorithm,
                    JsValue::FALSE,
                    strings(&[usage]),
                ],
            )
            .await;
        copy.fill(0, 0, copy.length());
        key
    }

    async fn aes_key(&self, key: &[u8; 32], usage: &str) -> Result<JsValue> {
        self.import_secret("raw", key, object(&[("name", "AES-GCM")]), usage)
            .await
    }
}

#[async_trait(?Send)]
impl BulkCrypto for WebCrypto {
    fn min_len(&self) -> usize {
        self.bulk_min_len
    }

    async fn aes256_gcm_seal(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let key = self.aes_key(key, "encrypt").await?;
        let sealed = self
            .call(
                "encrypt",
                &[aes_gcm_params(nonce, aad), key, borrowed(plaintext)],
            )
            .await?;
        Ok(bytes(&sealed))
    }

    async fn aes256_gcm_open(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>> {
        let key = self.aes_key(key, "decrypt").await?;
        match self
            .call(
                "decrypt",
                &[aes_gcm_params(nonce, aad), key, borrowed(sealed)],
            )
            .await
        {
            Ok(plain) => Ok(bytes(&plain)),
            // WebCrypto's only decrypt failure for valid keys: the tag.
            Err(_) => Err(Error::IntegrityFailure(
                "AES-GCM authentication tag did not verify".into(),
            )),
        }
    }

    async fn sha384(&self, data: &[u8]) -> Result<[u8; 48]> {
        let digest = self
            .call("digest", &[JsValue::from_str("SHA-384"), borrowed(data)])
            .await?;
        bytes(&digest).try_into().map_err(|_| {
            Error::KeyProviderFailure(
                "WebCrypto returned a SHA-384 digest of the wrong size".into(),
            )
        })
    }
}

/// The raw RSA keyring's private key inside WebCrypto (non-extractable).
struct WebCryptoRsaKey {
    provider: WebCrypto,
    key: JsValue,
}

#[async_trait(?Send)]
impl RsaOaepProvider for WebCrypto {
    async fn import_oaep_private_key(
        &self,
        pkcs8_der: &[u8],
        hash: OaepHash,
    ) -> Result<Box<dyn RsaOaepPrivateKey>> {
        let algorithm = object(&[("name", "RSA-OAEP"), ("hash", hash.webcrypto_name())]);
        let key = self
            .import_secret("pkcs8", pkcs8_der, algorithm, "decrypt")
            .await?;
        Ok(Box::new(WebCryptoRsaKey {
            provider: self.clone(),
            key,
        }))
    }
}

#[async_trait(?Send)]
impl RsaOaepPrivateKey for WebCryptoRsaKey {
    async fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        // WebCrypto's default label is empty, and its MGF1 uses the key's hash.
        let plain = self
            .provider
            .call(
                "decrypt",
                &[
                    object(&[("name", "RSA-OAEP")]),
                    self.key.clone(),
                    Uint8Array::from(ciphertext).into(),
                ],
            )
            .await?;
        let plain = Uint8Array::new(&plain);
        let message = Zeroizing::new(plain.to_vec());
        plain.fill(0, 0, plain.length());
        Ok(message)
    }
}

/// The algorithm of an ECDH key on `curve`.
fn ecdh_params(curve: EcdhCurve) -> JsValue {
    object(&[("name", "ECDH"), ("namedCurve", curve.name())])
}

impl WebCrypto {
    /// A peer's public key (validated by the core) as a CryptoKey.
    async fn ecdh_public_key(&self, curve: EcdhCurve, point: &[u8]) -> Result<JsValue> {
        self.call(
            "importKey",
            &[
                JsValue::from_str("raw"),
                Uint8Array::from(point).into(),
                ecdh_params(curve),
                JsValue::TRUE,
                strings(&[]),
            ],
        )
        .await
    }

    /// Z of two CryptoKeys: the whole x-coordinate, wiped from JS once copied.
    async fn derive_z(
        &self,
        curve: EcdhCurve,
        private: &JsValue,
        public: JsValue,
    ) -> Result<SecretBytes> {
        let params = Object::new();
        let _ = Reflect::set(&params, &"name".into(), &"ECDH".into());
        let _ = Reflect::set(&params, &"public".into(), &public);
        let bits = self
            .call(
                "deriveBits",
                &[
                    params.into(),
                    private.clone(),
                    JsValue::from_f64((curve.field_len() * 8) as f64),
                ],
            )
            .await?;
        let z = Uint8Array::new(&bits);
        let out = SecretBytes::new(z.to_vec());
        z.fill(0, 0, z.length());
        Ok(out)
    }
}

/// A CryptoKey kept by [`WebCryptoEcdh`]: the key's point (its identity:
/// a private key is named by its public point) and the handle.
type Slot = RefCell<Option<(Vec<u8>, JsValue)>>;

/// The CryptoKey in `slot` if it is `id`'s, else `import`'s (then kept there).
async fn cached<F: std::future::Future<Output = Result<JsValue>>>(
    slot: &Slot,
    id: &[u8],
    import: impl FnOnce() -> F,
) -> Result<JsValue> {
    if let Some((kept, key)) = &*slot.borrow() {
        if kept == id {
            return Ok(key.clone());
        }
    }
    let key = import().await?;
    *slot.borrow_mut() = Some((id.to_vec(), key.clone()));
    Ok(key)
}

/// `performance.now()` in ms, where the platform has it.
fn now() -> Option<f64> {
    let performance = Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).ok()?;
    let now = Reflect::get(&performance, &JsValue::from_str("now")).ok()?;
    now.dyn_into::<js_sys::Function>()
        .ok()?
        .call0(&performance)
        .ok()?
        .as_f64()
}

/// Which side computes one kind of agreement (static or ephemeral) for a
/// keyring: the faster one, as measured on its first calls. Call 0 goes to
/// the platform untimed (it imports the keys), calls 1-10 alternate platform
/// and RustCrypto, timed; then RustCrypto wins for good if its best time is
/// under 80% of the platform's (the platform keeps near-ties: its calls are
/// constant-time and off the main thread), else the platform. Best, not
/// mean: a loaded machine delays single calls by milliseconds. The engines
/// differ too much to decide by curve: Node's WebCrypto (OpenSSL) is slower
/// than this wasm on P-521, Chromium's (BoringSSL) faster.
struct Race {
    calls: Cell<u8>,
    /// Best ms of [platform, RustCrypto].
    best: [Cell<f64>; 2],
}

impl Race {
    const TIMED: u8 = 10;

    fn new() -> Self {
        Race {
            calls: Cell::new(0),
            best: [Cell::new(f64::INFINITY), Cell::new(f64::INFINITY)],
        }
    }

    /// (whether the next call goes to the platform, its start time if timed).
    fn next(&self) -> (bool, Option<f64>) {
        match self.calls.get() {
            0 => (true, None),
            n @ 1..=Self::TIMED => (n % 2 == 1, now()),
            // Ties (no clock: both infinite) go to the platform.
            _ => (self.best[1].get() >= 0.8 * self.best[0].get(), None),
        }
    }

    fn done(&self, platform: bool, start: Option<f64>) {
        if let (Some(start), Some(end)) = (start, now()) {
            let best = &self.best[usize::from(!platform)];
            best.set(best.get().min(end - start));
        }
        let calls = self.calls.get();
        if calls <= Self::TIMED {
            self.calls.set(calls + 1);
        }
    }
}

/// ECDH for one raw ECDH keyring by WebCrypto (`deriveBits`) or RustCrypto,
/// whichever is faster on this engine and curve ([`Race`]), and RustCrypto
/// where the platform fails (an engine without a curve): the same Z either
/// way. Importing a PKCS#8 key costs more than the agreement in Node (a
/// P-256 import ~1.1 ms against ~0.2 ms for `deriveBits`: it checks the key
/// with a scalar multiplication), so the keyring's private key is imported
/// once, non-extractable, and kept with the last peer public key (the static
/// or ephemeral scheme's recipient) as CryptoKeys for the keyring's life:
/// dropped with it. No key bytes are kept.
pub struct WebCryptoEcdh {
    platform: WebCrypto,
    private: Slot,
    peer: Slot,
    static_race: Race,
    ephemeral_race: Race,
}

impl WebCryptoEcdh {
    pub fn new(platform: WebCrypto) -> Self {
        WebCryptoEcdh {
            platform,
            private: RefCell::new(None),
            peer: RefCell::new(None),
            static_race: Race::new(),
            ephemeral_race: Race::new(),
        }
    }

    async fn peer_key(&self, public: &EcPublicKey) -> Result<JsValue> {
        cached(&self.peer, public.uncompressed(), || {
            self.platform
                .ecdh_public_key(public.curve(), public.uncompressed())
        })
        .await
    }
}

#[async_trait(?Send)]
impl EcdhProvider for WebCryptoEcdh {
    async fn agree(&self, private: &EcPrivateKey, public: &EcPublicKey) -> Result<SecretBytes> {
        let curve = private.curve();
        let platform = async {
            let id = private.public_key().uncompressed();
            let private_key = cached(&self.private, id, || {
                self.platform.import_secret(
                    "pkcs8",
                    private.pkcs8_der(),
                    ecdh_params(curve),
                    "deriveBits",
                )
            })
            .await?;
            let public_key = self.peer_key(public).await?;
            self.platform
                .derive_z(curve, &private_key, public_key)
                .await
        };
        let (on_platform, start) = self.static_race.next();
        let z = match on_platform {
            true => match platform.await {
                Ok(z) => Ok(z),
                Err(_) => RustCryptoEcdh.agree(private, public).await,
            },
            false => RustCryptoEcdh.agree(private, public).await,
        };
        self.static_race.done(on_platform, start);
        z
    }

    /// The ephemeral key pair is the platform's (its own CSPRNG), never extractable.
    async fn ephemeral_agree(
        &self,
        public: &EcPublicKey,
        random: &dyn SecureRandom,
    ) -> Result<(Vec<u8>, SecretBytes)> {
        let curve = public.curve();
        let platform = async {
            let pair = self
                .platform
                .call(
                    "generateKey",
                    &[ecdh_params(curve), JsValue::FALSE, strings(&["deriveBits"])],
                )
                .await?;
            let get =
                |k: &str| Reflect::get(&pair, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
            let raw = self
                .platform
                .call("exportKey", &[JsValue::from_str("raw"), get("publicKey")])
                .await?;
            let peer = self.peer_key(public).await?;
            let z = self
                .platform
                .derive_z(curve, &get("privateKey"), peer)
                .await?;
            Ok::<_, Error>((bytes(&raw), z))
        };
        let (on_platform, start) = self.ephemeral_race.next();
        let out = match on_platform {
            true => match platform.await {
                Ok(out) => Ok(out),
                Err(_) => RustCryptoEcdh.ephemeral_agree(public, random).await,
            },
            false => RustCryptoEcdh.ephemeral_agree(public, random).await,
        };
        self.ephemeral_race.done(on_platform, start);
        out
    }
}
