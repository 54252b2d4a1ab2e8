//! ECDSA P-384 through the platform's WebCrypto (`crypto.subtle`, in browsers
//! and Node), which is several times faster than P-384 compiled to wasm. The
//! core keeps the wire format (DER, the 103-byte rule); this only signs,
//! verifies and generates keys. Private keys are generated non-extractable.

use async_trait::async_trait;
use fieldseal::primitives::signature::{
    decompress_public_key, EcdsaP384Provider, EcdsaP384SigningKey, P1363Signature,
};
use fieldseal::{Error, Result};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `crypto.subtle`, when the platform has it.
pub struct WebCryptoEcdsa {
    subtle: JsValue,
}

impl WebCryptoEcdsa {
    pub fn detect() -> Option<Self> {
        let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
        let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).ok()?;
        subtle.is_object().then_some(WebCryptoEcdsa { subtle })
    }

    async fn call(&self, method: &str, args: &[JsValue]) -> Result<JsValue> {
        let failed = |e: &JsValue| {
            let why = e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "an unknown error".into());
            Error::KeyProviderFailure(format!("WebCrypto {method} (ECDSA P-384) failed: {why}"))
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
    provider: WebCryptoEcdsa,
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

#[async_trait(?Send)]
impl EcdsaP384Provider for WebCryptoEcdsa {
    async fn generate_key(&self) -> Result<Box<dyn EcdsaP384SigningKey>> {
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
            provider: WebCryptoEcdsa {
                subtle: self.subtle.clone(),
            },
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
        let point = decompress_public_key(compressed_public_key)?;
        let key = self
            .call(
                "importKey",
                &[
                    JsValue::from_str("raw"),
                    Uint8Array::from(point.as_slice()).into(),
                    key_params(),
                    JsValue::FALSE,
                    strings(&["verify"]),
                ],
            )
            .await?;
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
