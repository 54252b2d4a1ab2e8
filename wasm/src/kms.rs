//! AWS KMS for the core's KMS keyrings and branch key store, through a JS
//! function that calls the user's `@aws-sdk/client-kms` client:
//! `kmsCall(region, operation, input)` resolves to the command's output.
//! fieldseal never sees credentials.

use async_trait::async_trait;
use fieldseal::keyring::kms::{
    DecryptRequest, DecryptResponse, DeriveSharedSecretRequest, DeriveSharedSecretResponse,
    GenerateDataKeyRequest, GenerateDataKeyResponse, GenerateDataKeyWithoutPlaintextResponse,
    GetPublicKeyRequest, GetPublicKeyResponse, KmsClient, KmsError, ReEncryptRequest,
    ReEncryptResponse,
};
use fieldseal::materials::SecretBytes;
use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use std::collections::BTreeMap;
use wasm_bindgen::{JsCast, JsValue};

use crate::args::{self, define};

pub struct JsKmsClient {
    region: String,
    call: Function,
}

impl JsKmsClient {
    pub fn new(region: String, call: Function) -> Self {
        JsKmsClient { region, call }
    }

    async fn send(&self, operation: &str, input: Object) -> Result<Object, KmsError> {
        let returned = self
            .call
            .call3(
                &JsValue::UNDEFINED,
                &JsValue::from_str(&self.region),
                &JsValue::from_str(operation),
                &input,
            )
            .map_err(|e| kms_error(&e))?;
        let output = args::settle(&returned).await.map_err(|e| kms_error(&e))?;
        output.dyn_into::<Object>().map_err(|_| KmsError {
            name: "InvalidResponse".into(),
            message: format!("{operation} returned no output object"),
        })
    }
}

fn kms_error(value: &JsValue) -> KmsError {
    let (name, message) = sdk_error(value);
    KmsError { name, message }
}

/// The AWS SDK's error name (`AccessDeniedException`, `TimeoutError`...), or a
/// Node network error's code (`ECONNREFUSED`), and its message: what a KMS or
/// DynamoDB call that threw or rejected reports.
pub(crate) fn sdk_error(value: &JsValue) -> (String, String) {
    let text = |key: &str| {
        Reflect::get(value, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_string())
    };
    let mut name = text("name").unwrap_or_else(|| "Error".into());
    if name == "Error" || name == "TypeError" {
        if let Some(code) = text("code").or_else(|| {
            Reflect::get(value, &JsValue::from_str("cause"))
                .ok()
                .and_then(|c| Reflect::get(&c, &JsValue::from_str("code")).ok())
                .and_then(|c| c.as_string())
        }) {
            name = code;
        }
    }
    let message = text("message").unwrap_or_else(|| value.as_string().unwrap_or_default());
    (name, message)
}

/// Encryption context keys come from item headers: defined, never assigned.
pub(crate) fn object(entries: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (k, v) in entries {
        define(&object, k, v);
    }
    object
}

fn context(ec: &BTreeMap<String, String>) -> JsValue {
    object(
        &ec.iter()
            .map(|(k, v)| (k.as_str(), JsValue::from_str(v)))
            .collect::<Vec<_>>(),
    )
    .into()
}

pub(crate) fn strings(list: &[String]) -> JsValue {
    list.iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
}

fn invalid(operation: &str, what: &str) -> KmsError {
    KmsError {
        name: "InvalidResponse".into(),
        message: format!("{operation} output has no {what}"),
    }
}

fn key_id(output: &Object, operation: &str) -> Result<String, KmsError> {
    Reflect::get(output, &JsValue::from_str("KeyId"))
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| invalid(operation, "KeyId"))
}

fn field(output: &Object, key: &str, operation: &str) -> Result<JsValue, KmsError> {
    Reflect::get(output, &JsValue::from_str(key)).map_err(|_| invalid(operation, key))
}

fn bytes(output: &Object, key: &str, operation: &str) -> Result<Vec<u8>, KmsError> {
    args::bytes(&field(output, key, operation)?).map_err(|_| invalid(operation, key))
}

/// Copy a plaintext key out of JS and wipe the JS copy.
fn take_secret(output: &Object, operation: &str) -> Result<SecretBytes, KmsError> {
    take_secret_field(output, "Plaintext", operation)
}

fn take_secret_field(output: &Object, key: &str, operation: &str) -> Result<SecretBytes, KmsError> {
    let array = field(output, key, operation)?;
    let secret = args::bytes(&array).map(SecretBytes::new);
    args::wipe(&array);
    secret.map_err(|_| invalid(operation, key))
}

/// The input of GenerateDataKey and of GenerateDataKeyWithoutPlaintext.
fn data_key_input(request: &GenerateDataKeyRequest) -> Object {
    object(&[
        ("KeyId", JsValue::from_str(&request.key_id)),
        ("NumberOfBytes", JsValue::from(request.number_of_bytes)),
        ("EncryptionContext", context(&request.encryption_context)),
        ("GrantTokens", strings(&request.grant_tokens)),
    ])
}

#[async_trait(?Send)]
impl KmsClient for JsKmsClient {
    async fn generate_data_key(
        &self,
        request: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        let op = "GenerateDataKey";
        let output = self.send(op, data_key_input(&request)).await?;
        Ok(GenerateDataKeyResponse {
            key_id: key_id(&output, op)?,
            ciphertext_blob: bytes(&output, "CiphertextBlob", op)?,
            plaintext: take_secret(&output, op)?,
        })
    }

    async fn decrypt(&self, request: DecryptRequest) -> Result<DecryptResponse, KmsError> {
        let op = "Decrypt";
        let input = object(&[
            ("KeyId", JsValue::from_str(&request.key_id)),
            (
                "CiphertextBlob",
                Uint8Array::from(request.ciphertext_blob.as_slice()).into(),
            ),
            ("GrantTokens", strings(&request.grant_tokens)),
        ]);
        // An asymmetric key (the KMS RSA keyring) takes an algorithm and no
        // encryption context, not even an empty one; a symmetric key the reverse.
        match request.encryption_algorithm {
            Some(algorithm) => define(
                &input,
                "EncryptionAlgorithm",
                &JsValue::from_str(algorithm.name()),
            ),
            None => define(
                &input,
                "EncryptionContext",
                &context(&request.encryption_context),
            ),
        }
        let output = self.send(op, input).await?;
        Ok(DecryptResponse {
            key_id: key_id(&output, op)?,
            plaintext: take_secret(&output, op)?,
        })
    }

    /// Spec: branch-key-store.md#wrapped-branch-key-creation
    async fn generate_data_key_without_plaintext(
        &self,
        request: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyWithoutPlaintextResponse, KmsError> {
        let op = "GenerateDataKeyWithoutPlaintext";
        let output = self.send(op, data_key_input(&request)).await?;
        Ok(GenerateDataKeyWithoutPlaintextResponse {
            key_id: key_id(&output, op)?,
            ciphertext_blob: bytes(&output, "CiphertextBlob", op)?,
        })
    }

    /// The public key of an asymmetric key (the KMS RSA keyring's helper).
    async fn get_public_key(
        &self,
        request: GetPublicKeyRequest,
    ) -> Result<GetPublicKeyResponse, KmsError> {
        let op = "GetPublicKey";
        let output = self
            .send(
                op,
                object(&[
                    ("KeyId", JsValue::from_str(&request.key_id)),
                    ("GrantTokens", strings(&request.grant_tokens)),
                ]),
            )
            .await?;
        let text = |key: &str| field(&output, key, op).ok().and_then(|v| v.as_string());
        Ok(GetPublicKeyResponse {
            key_id: key_id(&output, op)?,
            public_key: bytes(&output, "PublicKey", op)?,
            key_usage: text("KeyUsage"),
            key_spec: text("KeySpec"),
        })
    }

    /// The AWS KMS ECDH keyring's agreement; the secret is copied out of JS
    /// and the JS copy wiped.
    async fn derive_shared_secret(
        &self,
        request: DeriveSharedSecretRequest,
    ) -> Result<DeriveSharedSecretResponse, KmsError> {
        let op = "DeriveSharedSecret";
        let output = self
            .send(
                op,
                object(&[
                    ("KeyId", JsValue::from_str(&request.key_id)),
                    (
                        "KeyAgreementAlgorithm",
                        JsValue::from_str(DeriveSharedSecretRequest::KEY_AGREEMENT_ALGORITHM),
                    ),
                    (
                        "PublicKey",
                        Uint8Array::from(request.public_key.as_slice()).into(),
                    ),
                    ("GrantTokens", strings(&request.grant_tokens)),
                ]),
            )
            .await?;
        Ok(DeriveSharedSecretResponse {
            key_id: key_id(&output, op)?,
            shared_secret: take_secret_field(&output, "SharedSecret", op)?,
            key_agreement_algorithm: field(&output, "KeyAgreementAlgorithm", op)
                .ok()
                .and_then(|v| v.as_string()),
        })
    }

    /// Spec: branch-key-store.md#authenticating-a-keystore-item
    async fn re_encrypt(&self, request: ReEncryptRequest) -> Result<ReEncryptResponse, KmsError> {
        let op = "ReEncrypt";
        let output = self
            .send(
                op,
                object(&[
                    (
                        "CiphertextBlob",
                        Uint8Array::from(request.ciphertext_blob.as_slice()).into(),
                    ),
                    ("SourceKeyId", JsValue::from_str(&request.source_key_id)),
                    (
                        "SourceEncryptionContext",
                        context(&request.source_encryption_context),
                    ),
                    (
                        "DestinationKeyId",
                        JsValue::from_str(&request.destination_key_id),
                    ),
                    (
                        "DestinationEncryptionContext",
                        context(&request.destination_encryption_context),
                    ),
                    ("GrantTokens", strings(&request.grant_tokens)),
                ]),
            )
            .await?;
        let source_key_id = field(&output, "SourceKeyId", op)?
            .as_string()
            .ok_or_else(|| invalid(op, "SourceKeyId"))?;
        Ok(ReEncryptResponse {
            source_key_id,
            key_id: key_id(&output, op)?,
            ciphertext_blob: bytes(&output, "CiphertextBlob", op)?,
        })
    }
}
