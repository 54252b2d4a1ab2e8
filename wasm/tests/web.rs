//! The binding layer in a real JS engine: `wasm-pack test --node` and, with
//! `WASM_BINDGEN_USE_BROWSER=1`, `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use fieldseal_wasm::{WasmItemEncryptor, WasmKeyring};
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// Evaluate a JS expression.
fn js(expression: &str) -> JsValue {
    Function::new_no_args(&format!("return ({expression});"))
        .call0(&JsValue::NULL)
        .expect("test JS evaluates")
}

/// A canonical text form of a JS value (Uint8Arrays as arrays, keys sorted).
fn canonical(value: &JsValue) -> String {
    let f = Function::new_with_args(
        "v",
        "const norm = (x) => x instanceof Uint8Array ? { bytes: Array.from(x) }
            : Array.isArray(x) ? x.map(norm)
            : x && typeof x === 'object' ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, norm(x[k])]))
            : x;
         return JSON.stringify(norm(v));",
    );
    f.call1(&JsValue::NULL, value).unwrap().as_string().unwrap()
}

fn code_of(error: &JsValue) -> String {
    assert_eq!(
        Reflect::get(error, &"name".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some("FieldsealError"),
        "not a FieldsealError: {error:?}"
    );
    Reflect::get(error, &"code".into())
        .unwrap()
        .as_string()
        .expect("a string code")
}

async fn settle(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

/// An options object `{ key: value, ... }` built in Rust (values are JS values).
fn options<T: JsCast>(fields: &[(&str, JsValue)]) -> T {
    let object = js_sys::Object::new();
    for (key, value) in fields {
        Reflect::set(&object, &JsValue::from_str(key), value).unwrap();
    }
    object.unchecked_into()
}

fn raw_aes(namespace: &str, name: &str, key: JsValue) -> Result<WasmKeyring, JsValue> {
    WasmKeyring::raw_aes(&options(&[
        ("keyNamespace", namespace.into()),
        ("keyName", name.into()),
        ("wrappingKey", key),
    ]))
}

fn custom(provider_id: &str, wrap: JsValue, unwrap: JsValue) -> Result<WasmKeyring, JsValue> {
    WasmKeyring::custom(&options(&[
        ("providerId", provider_id.into()),
        ("wrapKey", wrap),
        ("unwrapKey", unwrap),
    ]))
}

fn new_encryptor(config: JsValue, keyring: &WasmKeyring) -> Result<WasmItemEncryptor, JsValue> {
    WasmItemEncryptor::new(config.unchecked_ref(), keyring)
}

fn aes_keyring(byte: u8) -> WasmKeyring {
    raw_aes("ns", "k1", js_sys::Uint8Array::from(&[byte; 32][..]).into()).unwrap()
}

fn config(suite: &str) -> JsValue {
    js(&format!(
        "{{ logicalTableName: 'T', partitionKeyName: 'pk', sortKeyName: 'sk',
            attributeActionsOnEncrypt: {{ pk: 'SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT', sk: 'SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT', secret: 'ENCRYPT_AND_SIGN',
              nested: 'ENCRYPT_AND_SIGN', tags: 'SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT', note: 'DO_NOTHING' }},
            allowedUnsignedAttributes: ['note'], algorithmSuiteId: '{suite}' }}"
    ))
}

const ITEM: &str = "{ nested: { M: { b: { B: new Uint8Array([0, 1, 255]) }, l: { L: [ { N: '1' }, { NULL: true }, { BOOL: false } ] },
      ns: { NS: ['1', '2'] }, bs: { BS: [ new Uint8Array([1]) ] }, ss: { SS: ['x', 'ÿ', '😀'] } } },
    note: { S: 'unsigned' }, pk: { S: 'p1' }, secret: { S: 'card 4111' }, sk: { N: '7' }, tags: { S: 'v2 context' } }";

#[wasm_bindgen_test]
async fn round_trip_both_suites() {
    for suite in ["0x6700", "0x6701"] {
        let encryptor = new_encryptor(config(suite), &aes_keyring(7)).unwrap();
        let item = js(ITEM);
        let sealed = settle(encryptor.encrypt_item(item.clone())).await.unwrap();
        let secret = Reflect::get(&sealed, &"secret".into()).unwrap();
        assert!(
            Reflect::get(&secret, &"B".into())
                .unwrap()
                .is_instance_of::<js_sys::Uint8Array>(),
            "an encrypted attribute is stored as B"
        );
        assert!(Reflect::has(&sealed, &"aws_dbe_head".into()).unwrap());
        assert!(Reflect::has(&sealed, &"aws_dbe_foot".into()).unwrap());
        let opened = settle(encryptor.decrypt_item(sealed)).await.unwrap();
        assert_eq!(canonical(&opened), canonical(&item), "suite {suite}");
    }
}

#[wasm_bindgen_test]
async fn batches_are_all_or_nothing() {
    let encryptor = new_encryptor(config("0x6700"), &aes_keyring(1)).unwrap();
    let items = js(&format!("[{ITEM}, {ITEM}]"));
    let sealed = settle(encryptor.encrypt_items(items.clone()))
        .await
        .unwrap();
    let opened = settle(encryptor.decrypt_items(sealed.clone()))
        .await
        .unwrap();
    assert_eq!(canonical(&opened), canonical(&items));

    // Tamper with the second item's ciphertext: the whole batch fails, naming it.
    let tamper = Function::new_with_args("s", "s[1].secret.B[5] ^= 1; return s;");
    let tampered = tamper.call1(&JsValue::NULL, &sealed).unwrap();
    let error = settle(encryptor.decrypt_items(tampered)).await.unwrap_err();
    assert_eq!(code_of(&error), "INTEGRITY_FAILURE");
    let message = js_sys::Error::from(error).message().as_string().unwrap();
    assert!(message.starts_with("item #1:"), "{message}");
}

#[wasm_bindgen_test]
async fn wrong_key_and_bad_input_give_codes() {
    let encryptor = new_encryptor(config("0x6700"), &aes_keyring(1)).unwrap();
    let sealed = settle(encryptor.encrypt_item(js(ITEM))).await.unwrap();
    // Another key name: not this keyring's key.
    let other_name = raw_aes("ns", "k2", js_sys::Uint8Array::from(&[1u8; 32][..]).into()).unwrap();
    let other = new_encryptor(config("0x6700"), &other_name).unwrap();
    let error = settle(other.decrypt_item(sealed.clone()))
        .await
        .unwrap_err();
    assert_eq!(code_of(&error), "NO_MATCHING_KEY");
    // The same key name with other bytes: the wrapped key does not verify,
    // which the raw AES keyring cannot tell from a moved item.
    let other = new_encryptor(config("0x6700"), &aes_keyring(2)).unwrap();
    let error = settle(other.decrypt_item(sealed)).await.unwrap_err();
    assert_eq!(code_of(&error), "INTEGRITY_FAILURE");

    for (bad, code) in [
        (
            "{ pk: { S: 'p' }, sk: { N: '1' }, tags: { S: 't' }, secret: { X: 'y' } }",
            "INVALID_ITEM",
        ),
        (
            "{ pk: { S: 'p' }, sk: { N: 'one' }, tags: { S: 't' } }",
            "INVALID_ITEM",
        ),
        (
            "{ pk: { S: 'p' }, sk: { N: '1' }, tags: { S: 't' }, secret: { S: 'a', N: '1' } }",
            "INVALID_ITEM",
        ),
        (
            "{ pk: { S: 'p' }, sk: { N: '1' }, tags: { S: 't' }, stranger: { S: 'a' } }",
            "INVALID_ITEM",
        ),
        ("[1, 2]", "INVALID_ITEM"),
        ("null", "INVALID_ITEM"),
    ] {
        let error = settle(encryptor.encrypt_item(js(bad))).await.unwrap_err();
        assert_eq!(code_of(&error), code, "{bad}");
    }
    // A deeply nested value is refused, not recursed into until the stack runs out.
    let deep = js("(() => { let v = { S: 'x' }; for (let i = 0; i < 100000; i++) v = { L: [v] }; return { pk: { S: 'p' }, sk: { N: '1' }, tags: { S: 't' }, secret: v }; })()");
    let error = settle(encryptor.encrypt_item(deep)).await.unwrap_err();
    assert_eq!(code_of(&error), "INVALID_ITEM");
}

#[wasm_bindgen_test]
fn config_and_key_errors_are_typed() {
    let error = new_encryptor(js("{ logicalTableName: 'T' }"), &aes_keyring(1))
        .err()
        .unwrap();
    assert_eq!(code_of(&error), "INVALID_CONFIG");
    let error = new_encryptor(
        js("{ logicalTableName: 'T', partitionKeyName: 'pk', attributeActionsOnEncrypt: { pk: 'SIGN_ONLY' }, colour: 'blue' }"),
        &aes_keyring(1),
    )
    .err()
    .unwrap();
    assert_eq!(code_of(&error), "INVALID_CONFIG");
    let error = raw_aes("ns", "k", js("new Uint8Array(5)")).err().unwrap();
    assert_eq!(code_of(&error), "INVALID_KEY");
    let error = raw_aes("ns", "k", js("'a string key'")).err().unwrap();
    assert_eq!(code_of(&error), "INVALID_KEY");
    let error = custom("mine", js("42"), js("async () => null"))
        .err()
        .unwrap();
    assert_eq!(code_of(&error), "INVALID_CONFIG");
}

/// A custom keyring that "wraps" by reversing the bytes, and remembers the
/// array it was lent.
fn reversing_keyring() -> WasmKeyring {
    custom(
        "reverser",
        js("async ({ plaintextDataKey, encryptionContext }) => {
              globalThis.__lent = plaintextDataKey;
              if (typeof encryptionContext['aws-crypto-table-name'] !== 'string') throw new Error('no context');
              return { providerInfo: 'rev-1', ciphertext: plaintextDataKey.slice().reverse() };
            }"),
        js("async ({ providerInfo, ciphertext }) =>
              new TextDecoder().decode(providerInfo) === 'rev-1' ? ciphertext.slice().reverse() : null"),
    )
    .unwrap()
}

#[wasm_bindgen_test]
async fn custom_keyring_round_trips_and_mixes_with_raw_aes() {
    let custom = reversing_keyring();
    let encryptor = new_encryptor(config("0x6700"), &custom).unwrap();
    let item = js(ITEM);
    let sealed = settle(encryptor.encrypt_item(item.clone())).await.unwrap();
    assert!(
        js("globalThis.__lent.every((b) => b === 0)")
            .as_bool()
            .unwrap(),
        "the key lent to wrapKey is zeroed afterwards"
    );
    let opened = settle(encryptor.decrypt_item(sealed)).await.unwrap();
    assert_eq!(canonical(&opened), canonical(&item));

    // A multi-keyring of custom + raw AES opens with either.
    let multi = WasmKeyring::multi(Some(aes_keyring(3)), vec![custom.share()]).unwrap();
    let both = new_encryptor(config("0x6701"), &multi).unwrap();
    let sealed = settle(both.encrypt_item(item.clone())).await.unwrap();
    for single in [aes_keyring(3), custom.share()] {
        let encryptor = new_encryptor(config("0x6701"), &single).unwrap();
        let opened = settle(encryptor.decrypt_item(sealed.clone()))
            .await
            .unwrap();
        assert_eq!(canonical(&opened), canonical(&item));
    }
}

#[wasm_bindgen_test]
async fn misbehaving_custom_keyrings_fail_cleanly() {
    let good_unwrap = "async ({ ciphertext }) => ciphertext.slice().reverse()";
    for (wrap, what) in [
        (
            "() => { throw new Error('hsm offline'); }",
            "threw: hsm offline",
        ),
        (
            "async () => { throw new Error('denied'); }",
            "rejected: denied",
        ),
        (
            "({ plaintextDataKey }) => ({ ciphertext: plaintextDataKey })",
            "must return a Promise",
        ),
        ("async () => 42", "resolved to number"),
        (
            "async () => ({ ciphertext: 'text' })",
            "without a Uint8Array ciphertext",
        ),
        (
            "async () => ({ ciphertext: new Uint8Array(4), providerInfo: 7 })",
            "providerInfo",
        ),
    ] {
        let keyring = custom("bad", js(wrap), js(good_unwrap)).unwrap();
        let encryptor = new_encryptor(config("0x6700"), &keyring).unwrap();
        let error = settle(encryptor.encrypt_item(js(ITEM))).await.unwrap_err();
        assert_eq!(code_of(&error), "KEY_PROVIDER_FAILURE", "{wrap}");
        let message = js_sys::Error::from(error).message().as_string().unwrap();
        assert!(message.contains(what), "{message} should say {what}");
    }

    let sealed = {
        let encryptor = new_encryptor(config("0x6700"), &reversing_keyring()).unwrap();
        settle(encryptor.encrypt_item(js(ITEM))).await.unwrap()
    };
    for (unwrap, code) in [
        ("async () => null", "NO_MATCHING_KEY"),
        ("async () => new Uint8Array(32)", "NO_MATCHING_KEY"),
        ("async () => new Uint8Array(3)", "KEY_PROVIDER_FAILURE"),
        ("async () => 'key'", "KEY_PROVIDER_FAILURE"),
        ("() => null", "KEY_PROVIDER_FAILURE"),
        (
            "async () => { throw new Error('boom'); }",
            "KEY_PROVIDER_FAILURE",
        ),
    ] {
        let keyring = custom("reverser", js("async () => ({})"), js(unwrap)).unwrap();
        let encryptor = new_encryptor(config("0x6700"), &keyring).unwrap();
        let error = settle(encryptor.decrypt_item(sealed.clone()))
            .await
            .unwrap_err();
        assert_eq!(code_of(&error), code, "{unwrap}");
    }
}

/// The platform provider and the pure-Rust one produce interchangeable signatures.
#[wasm_bindgen_test]
async fn webcrypto_and_rustcrypto_ecdsa_interoperate() {
    use fieldseal::primitives::provider::SystemRandom;
    use fieldseal::primitives::signature::{self, RecordSigner, RustCryptoEcdsa};
    let platform = platform_provider();
    let message = [7u8; 48];
    for (signer_is_platform, verifier_is_platform) in [(true, false), (false, true), (true, true)] {
        let signer = if signer_is_platform {
            RecordSigner::generate(&platform, &SystemRandom)
                .await
                .unwrap()
        } else {
            RecordSigner::generate(&RustCryptoEcdsa, &SystemRandom)
                .await
                .unwrap()
        };
        let der = signer.sign(&message).await.unwrap();
        assert_eq!(der.len(), 103);
        let pk = signer.public_key_base64();
        let verify = |m: [u8; 48]| {
            let der = der.clone();
            let pk = pk.clone();
            async move {
                if verifier_is_platform {
                    signature::verify(&platform_provider(), &pk, &m, &der).await
                } else {
                    signature::verify(&RustCryptoEcdsa, &pk, &m, &der).await
                }
            }
        };
        verify(message).await.unwrap();
        assert_eq!(
            verify([8u8; 48]).await.unwrap_err().code(),
            "INTEGRITY_FAILURE"
        );
    }
}

fn platform_provider() -> fieldseal_wasm::webcrypto::WebCrypto {
    fieldseal_wasm::webcrypto::WebCrypto::detect(0).expect("crypto.subtle is available")
}

/// A config whose `secret` is sealed with the given `platformCrypto` setting.
fn large_config(suite: &str, platform: &str) -> JsValue {
    js(&format!(
        "{{ logicalTableName: 'T', partitionKeyName: 'pk',
            attributeActionsOnEncrypt: {{ pk: 'SIGN_ONLY', secret: 'ENCRYPT_AND_SIGN', blob: 'SIGN_ONLY' }},
            algorithmSuiteId: '{suite}', platformCrypto: {platform} }}"
    ))
}

/// Large values sealed by WebCrypto (AES-GCM, SHA-384) open in pure wasm and
/// the other way round, and WebCrypto still catches tampering.
#[wasm_bindgen_test]
async fn webcrypto_bulk_and_wasm_are_interchangeable() {
    let item = js("{ pk: { S: 'p' }, secret: { B: new Uint8Array(200000).map((_, i) => i * 7) }, blob: { B: new Uint8Array(70000).fill(3) } }");
    for suite in ["0x6700", "0x6701"] {
        let platform =
            new_encryptor(large_config(suite, "{ bulkMinBytes: 0 }"), &aes_keyring(9)).unwrap();
        let wasm_only = new_encryptor(large_config(suite, "false"), &aes_keyring(9)).unwrap();
        for (seal, open) in [
            (&platform, &wasm_only),
            (&wasm_only, &platform),
            (&platform, &platform),
        ] {
            let sealed = settle(seal.encrypt_item(item.clone())).await.unwrap();
            let opened = settle(open.decrypt_item(sealed.clone())).await.unwrap();
            assert_eq!(canonical(&opened), canonical(&item));
            // Flip one ciphertext byte of the large field, then one byte of
            // the large signed plaintext: both must be refused.
            for (name, at) in [("secret", 100_000), ("blob", 50_000)] {
                let tampered = js("(x) => structuredClone(x)")
                    .dyn_into::<Function>()
                    .unwrap()
                    .call1(&JsValue::NULL, &sealed)
                    .unwrap();
                let bytes =
                    Reflect::get(&Reflect::get(&tampered, &name.into()).unwrap(), &"B".into())
                        .unwrap();
                let bytes: js_sys::Uint8Array = bytes.dyn_into().unwrap();
                bytes.set_index(at, bytes.get_index(at) ^ 1);
                let error = settle(open.decrypt_item(tampered)).await.unwrap_err();
                assert_eq!(code_of(&error), "INTEGRITY_FAILURE", "{suite} {name}");
            }
        }
    }
}

#[wasm_bindgen_test]
fn platform_crypto_option_is_checked() {
    for bad in [
        "'yes'",
        "{ bulkMinBytes: -1 }",
        "{ bulkMinBytes: 1.5 }",
        "{ bulkMinBytes: '1' }",
    ] {
        let error = new_encryptor(large_config("0x6700", bad), &aes_keyring(9))
            .err()
            .unwrap();
        assert_eq!(code_of(&error), "INVALID_CONFIG", "{bad}");
    }
}

/// The raw RSA keyring's OAEP decryption on WebCrypto (the default `rsa` feature).
#[cfg(feature = "rsa")]
mod rsa_oaep {
    use super::*;

    /// An RSA key pair made by WebCrypto: (SPKI PEM, PKCS#8 PEM).
    async fn webcrypto_rsa_pems() -> (String, String) {
        let make = Function::new_no_args(
            "return (async () => {
                const { publicKey, privateKey } = await crypto.subtle.generateKey(
                    { name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
                    true, ['encrypt', 'decrypt']);
                const pem = async (format, key, label) => {
                    const der = new Uint8Array(await crypto.subtle.exportKey(format, key));
                    const b64 = btoa(String.fromCharCode(...der)).match(/.{1,64}/g).join('\\n');
                    return `-----BEGIN ${label}-----\\n${b64}\\n-----END ${label}-----\\n`;
                };
                return [await pem('spki', publicKey, 'PUBLIC KEY'), await pem('pkcs8', privateKey, 'PRIVATE KEY')];
            })()",
        );
        let pair = settle(make.call0(&JsValue::NULL).unwrap().into())
            .await
            .unwrap();
        let get = |i: u32| js_sys::Array::from(&pair).get(i).as_string().unwrap();
        (get(0), get(1))
    }

    /// Counts the RSA-OAEP decryptions that reach WebCrypto.
    struct CountingWebCrypto {
        inner: fieldseal_wasm::webcrypto::WebCrypto,
        decrypts: std::rc::Rc<std::cell::Cell<usize>>,
    }

    struct CountingKey {
        inner: Box<dyn fieldseal::primitives::provider::RsaOaepPrivateKey>,
        decrypts: std::rc::Rc<std::cell::Cell<usize>>,
    }

    #[async_trait::async_trait(?Send)]
    impl fieldseal::primitives::provider::RsaOaepProvider for CountingWebCrypto {
        async fn import_oaep_private_key(
            &self,
            pkcs8_der: &[u8],
            hash: fieldseal::primitives::provider::OaepHash,
        ) -> fieldseal::Result<Box<dyn fieldseal::primitives::provider::RsaOaepPrivateKey>>
        {
            Ok(Box::new(CountingKey {
                inner: self.inner.import_oaep_private_key(pkcs8_der, hash).await?,
                decrypts: self.decrypts.clone(),
            }))
        }
    }

    #[async_trait::async_trait(?Send)]
    impl fieldseal::primitives::provider::RsaOaepPrivateKey for CountingKey {
        async fn decrypt(
            &self,
            ciphertext: &[u8],
        ) -> fieldseal::Result<zeroize::Zeroizing<Vec<u8>>> {
            self.decrypts.set(self.decrypts.get() + 1);
            self.inner.decrypt(ciphertext).await
        }
    }

    async fn rsa_open(
        keyring: &fieldseal::keyring::RawRsaKeyring,
        suite: fieldseal::AlgorithmSuiteId,
        ec: &fieldseal::materials::EncryptionContext,
        edks: Vec<fieldseal::materials::EncryptedDataKey>,
    ) -> fieldseal::Result<fieldseal::materials::DecryptionMaterials> {
        use fieldseal::Keyring;
        let materials = fieldseal::materials::DecryptionMaterials::new(suite, ec.clone());
        keyring.on_decrypt(materials, &edks).await
    }

    /// RSA-OAEP (all four hashes) through WebCrypto and through Rust are
    /// interchangeable: EDKs wrapped by the Rust keyring open on WebCrypto, RSA
    /// parts encrypted by WebCrypto open in Rust, and a bad RSA part fails with
    /// the same error on both paths.
    #[wasm_bindgen_test]
    #[allow(clippy::arc_with_non_send_sync)] // wasm is single-threaded; keyrings take an Arc
    async fn webcrypto_rsa_oaep_and_rust_interoperate() {
        use fieldseal::keyring::intermediate::{PendingWrap, ProviderWrapped, ENCRYPTED_PDK_LEN};
        use fieldseal::keyring::{Keyring, RawRsaKeyring, RsaPadding};
        use fieldseal::materials::{
            serialize_encryption_context, EncryptionContext, EncryptionMaterials,
        };
        use fieldseal::primitives::provider::{SecureRandom, SystemRandom};
        use fieldseal::AlgorithmSuiteId;
        use std::sync::Arc;

        let (public_pem, private_pem) = webcrypto_rsa_pems().await;
        let suite = AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384;
        let ec: EncryptionContext = [("aws-crypto-table-name".to_string(), "T".to_string())]
            .into_iter()
            .collect();
        let serialized_ec = serialize_encryption_context(&ec).unwrap();
        let webcrypto_encrypt = Function::new_with_args(
            "spki, hash, data",
            "return (async () => {
                const der = Uint8Array.from(atob(spki.replace(/-----[^-]+-----|\\s/g, '')), (c) => c.charCodeAt(0));
                const key = await crypto.subtle.importKey('spki', der, { name: 'RSA-OAEP', hash }, false, ['encrypt']);
                return new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP' }, key, data));
            })()",
        );
        for padding in RsaPadding::ALL
            .into_iter()
            .filter(|p| *p != RsaPadding::Pkcs1)
        {
            let hash = padding.oaep_hash().unwrap().webcrypto_name();
            let decrypts = std::rc::Rc::new(std::cell::Cell::new(0));
            let keyring = |platform: bool| {
                let k = RawRsaKeyring::new("ns", "rsa", padding, None, Some(&private_pem)).unwrap();
                if platform {
                    k.with_oaep_provider(Arc::new(CountingWebCrypto {
                        inner: platform_provider(),
                        decrypts: decrypts.clone(),
                    }))
                } else {
                    k
                }
            };
            let (on_webcrypto, in_rust) = (&keyring(true), &keyring(false));
            let open = |keyring, edks| rsa_open(keyring, suite, &ec, edks);

            // Wrapped in Rust (the only way fieldseal wraps), opened on WebCrypto.
            let sealed = in_rust
                .on_encrypt(EncryptionMaterials::new(suite, ec.clone()))
                .await
                .unwrap();
            let opened = open(on_webcrypto, sealed.encrypted_data_keys.clone())
                .await
                .unwrap();
            assert_eq!(
                opened.plaintext_data_key, sealed.plaintext_data_key,
                "{padding}"
            );
            assert_eq!(decrypts.get(), 1, "{padding}: WebCrypto decrypted");

            // The RSA part encrypted by WebCrypto, opened in Rust (and on WebCrypto).
            let random: &dyn SecureRandom = &SystemRandom;
            let data_key = random.secret_bytes(32).unwrap();
            let pending = PendingWrap::start(&data_key, &serialized_ec, random).unwrap();
            let wrapped = settle(
                webcrypto_encrypt
                    .call3(
                        &JsValue::NULL,
                        &public_pem.as_str().into(),
                        &hash.into(),
                        &js_sys::Uint8Array::from(pending.intermediate_key().expose()).into(),
                    )
                    .unwrap()
                    .into(),
            )
            .await
            .unwrap();
            let (edk, _) = pending.finish(ProviderWrapped {
                key_provider_id: "ns".into(),
                key_provider_info: b"rsa".to_vec(),
                wrapped_intermediate_key: js_sys::Uint8Array::new(&wrapped).to_vec(),
            });
            for keyring in [in_rust, on_webcrypto] {
                let opened = open(keyring, vec![edk.clone()]).await.unwrap();
                assert_eq!(
                    opened.plaintext_data_key.as_ref(),
                    Some(&data_key),
                    "{padding}"
                );
            }
            assert_eq!(decrypts.get(), 2, "{padding}");

            // A flipped bit in the RSA part: one error, whoever decrypts.
            let mut bad = edk.clone();
            bad.ciphertext[ENCRYPTED_PDK_LEN + 5] ^= 1;
            let mut errors = Vec::new();
            for keyring in [in_rust, on_webcrypto] {
                let refused = open(keyring, vec![bad.clone()]).await.err();
                errors.push(refused.expect("refused").to_string());
            }
            assert_eq!(errors[0], errors[1], "{padding}");
            assert!(errors[0].contains("did not verify"), "{}", errors[0]);
            assert_eq!(decrypts.get(), 3, "{padding}");
        }
    }
}

/// Issue 11 defects 1 and 6 at the wasm boundary itself (pkg copies keys
/// before they get here, so only this suite reaches `args::key_bytes` with
/// the caller's own object): bytes are taken by their real length, and
/// objects that throw are refused with a code, leaving nothing borrowed.
#[wasm_bindgen_test]
async fn hostile_bytes_and_objects_at_the_boundary() {
    let lying = |bytes: &str| {
        js(&format!(
            "(() => {{ class L extends Uint8Array {{ get length() {{ return 65536; }} }} return new L({bytes}); }})()"
        ))
    };
    // A wrapping key whose `length` lies opens what the honest key sealed.
    let liar = raw_aes("ns", "k1", lying("new Array(32).fill(7)")).unwrap();
    let sealed = settle(
        new_encryptor(config("0x6700"), &aes_keyring(7))
            .unwrap()
            .encrypt_item(js(ITEM)),
    )
    .await
    .unwrap();
    let opened = settle(
        new_encryptor(config("0x6700"), &liar)
            .unwrap()
            .decrypt_item(sealed),
    )
    .await
    .unwrap();
    assert_eq!(canonical(&opened), canonical(&js(ITEM)));
    for key in [
        "new Proxy(new Uint8Array(32), {})",
        "(() => { const u = new Uint8Array(32); structuredClone(u.buffer, { transfer: [u.buffer] }); return u; })()",
        "new Uint16Array(16)",
    ] {
        let error = raw_aes("ns", "k1", js(key))
            .err()
            .expect("refused");
        assert_eq!(code_of(&error), "INVALID_KEY", "{key}");
    }

    // A B value whose `length` lies is stored by its real bytes.
    let encryptor = new_encryptor(config("0x6700"), &aes_keyring(7)).unwrap();
    let item = js("{ pk: { S: 'p' }, sk: { N: '1' }, tags: { S: 't' }, note: { S: 'n' } }");
    Reflect::set(&item, &"secret".into(), &js("{ B: null }")).unwrap();
    Reflect::set(
        &Reflect::get(&item, &"secret".into()).unwrap(),
        &"B".into(),
        &lying("[0x41]"),
    )
    .unwrap();
    let sealed = settle(encryptor.encrypt_item(item)).await.unwrap();
    let opened = settle(encryptor.decrypt_item(sealed)).await.unwrap();
    let b = Reflect::get(
        &Reflect::get(&opened, &"secret".into()).unwrap(),
        &"B".into(),
    )
    .unwrap();
    assert_eq!(js_sys::Uint8Array::new(&b).to_vec(), vec![0x41]);

    // Throwing Proxies give INVALID_ITEM, and the encryptor can still be
    // used and freed (a held borrow would make `free` throw).
    for hostile in [
        "new Proxy({}, { ownKeys() { throw new Error('trap'); } })",
        "{ pk: { S: 'p' }, sk: { N: '1' }, secret: { L: new Proxy([], { get() { throw new Error('trap'); } }) } }",
        "{ pk: { S: 'p' }, sk: { N: '1' }, [Symbol('s')]: { S: 'x' } }",
    ] {
        let error = settle(encryptor.encrypt_item(js(hostile)))
            .await
            .unwrap_err();
        assert_eq!(code_of(&error), "INVALID_ITEM", "{hostile}");
    }
    let again = settle(encryptor.encrypt_item(js(ITEM))).await;
    assert!(again.is_ok());
    drop(encryptor);
}

/// Issue 12: every factory and the encryptor config take one options object,
/// read by `args::Fields`: each key once, through checked accesses; unknown
/// and Symbol keys refused, nested objects held to their own keys.
#[wasm_bindgen_test]
fn option_objects_are_read_once_and_strictly() {
    let aes = |object: &str| WasmKeyring::raw_aes(js(object).unchecked_ref());
    let key = "wrappingKey: new Uint8Array(32)";
    for bad in [
        format!("{{ keyNamespace: 'ns', keyName: 'k', {key}, colour: 'blue' }}"),
        format!("{{ keyNamespace: 'ns', keyName: 'k', {key}, [Symbol('x')]: 1 }}"),
        format!("{{ keyNamespace: 'ns', get keyName() {{ throw new Error('boom'); }}, {key} }}"),
        format!("new Proxy({{ keyNamespace: 'ns', keyName: 'k', {key} }}, {{ ownKeys() {{ throw new Error('trap'); }} }})"),
        format!("{{ keyNamespace: 7, keyName: 'k', {key} }}"),
        "[]".into(),
        "'ns'".into(),
    ] {
        let error = aes(&bad).err().expect("refused");
        assert_eq!(code_of(&error), "INVALID_CONFIG", "{bad}");
    }
    // Each key is read exactly once, even one that is read through a getter.
    js("globalThis.__reads = 0");
    aes(&format!(
        "{{ keyNamespace: 'ns', get keyName() {{ globalThis.__reads++; return 'k'; }}, {key} }}"
    ))
    .unwrap();
    assert_eq!(js("globalThis.__reads").as_f64(), Some(1.0));
    // A nested object is held to its own keys.
    let discovery = |filter: &str| {
        WasmKeyring::aws_kms_mrk_discovery(
            js(&format!(
                "{{ region: 'us-west-2', kmsCall: async () => ({{}}), discoveryFilter: {filter} }}"
            ))
            .unchecked_ref(),
        )
    };
    discovery("{ partition: 'aws', accountIds: ['111122223333'] }").unwrap();
    let error = discovery("{ partition: 'aws', accountIds: ['111122223333'], region: 'x' }")
        .err()
        .expect("refused");
    assert_eq!(code_of(&error), "INVALID_CONFIG");
    let error = discovery("{ partition: 'aws', accountIds: 'x' }")
        .err()
        .unwrap();
    assert_eq!(code_of(&error), "INVALID_CONFIG");
    // The KMS kind is a name the factory knows.
    let error = WasmKeyring::aws_kms(
        js("{ kind: 'loose', kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k', kmsCall: async () => ({}) }")
            .unchecked_ref(),
    )
    .err()
    .unwrap();
    assert_eq!(code_of(&error), "INVALID_CONFIG");
}

/// Issue 12: the checks the package runs from its constructors once the
/// module is loaded are the core's, and check what the factories check.
#[wasm_bindgen_test]
fn check_options_apply_the_core_rules_without_building() {
    let check = |extra: &str| {
        WasmItemEncryptor::check_options(
            js(&format!(
                "{{ logicalTableName: 'T', partitionKeyName: 'pk', attributeActionsOnEncrypt: {{ pk: 'SIGN_ONLY' }} {extra} }}"
            ))
            .unchecked_ref(),
        )
    };
    check("").unwrap();
    check(", algorithmSuiteId: 26368").unwrap();
    for bad in [
        ", algorithmSuiteId: '0x6702'",
        ", algorithmSuiteId: 1.5",
        ", sortkeyName: 'sk'",
        ", maxEncryptedDataKeys: 'ten'",
        ", platformCrypto: { bulkMinBytes: -1 }",
    ] {
        let error = check(bad).expect_err("refused");
        assert_eq!(code_of(&error), "INVALID_CONFIG", "{bad}");
    }
    let error = WasmItemEncryptor::check_options(
        js("{ logicalTableName: 'T', partitionKeyName: 'pk', attributeActionsOnEncrypt: { pk: 'ENCRYPT' } }")
            .unchecked_ref(),
    )
    .err()
    .unwrap();
    assert_eq!(code_of(&error), "INVALID_CONFIG");
    // Whole-config rules wait for the constructor (here: the key unsigned).
    check(", attributeActionsOnEncrypt: { pk: 'DO_NOTHING' }").unwrap();

    let rsa = |padding: &str| {
        WasmKeyring::check_raw_rsa(
            js(&format!(
                "{{ keyNamespace: 'ns', keyName: 'r', padding: '{padding}', publicKeyPem: 'not parsed here' }}"
            ))
            .unchecked_ref(),
        )
    };
    rsa("OAEP_SHA256_MGF1").unwrap();
    let error = rsa("OAEP").expect_err("refused");
    assert_eq!(code_of(&error), "INVALID_CONFIG");
}
