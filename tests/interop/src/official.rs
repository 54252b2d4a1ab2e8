//! The official side: `aws-db-esdk`'s item encryptor built from the same
//! [`TableSpec`] / [`KeySpec`] as fieldseal's.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;

use aws_db_esdk::item_encryptor::client::Client;
use aws_db_esdk::item_encryptor::types::dynamo_db_item_encryptor_config::DynamoDbItemEncryptorConfig;
use aws_db_esdk::material_providers::client::Client as MplClient;
use aws_db_esdk::material_providers::types::keyring::KeyringRef;
use aws_db_esdk::material_providers::types::material_providers_config::MaterialProvidersConfig;
use aws_db_esdk::material_providers::types::{AesWrappingAlg, DbeAlgorithmSuiteId, PaddingScheme};
use fieldseal::keyring::RsaPadding;
use fieldseal::primitives::ecdh::EcdhCurve;
use fieldseal::{AlgorithmSuiteId, CryptoAction, Item};

use crate::convert::{item_from_ddb, item_to_ddb, DdbItem};
use crate::spec::{KeySpec, TableSpec};

pub fn suite(s: AlgorithmSuiteId) -> DbeAlgorithmSuiteId {
    match s {
        AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384 => {
            DbeAlgorithmSuiteId::AlgAes256GcmHkdfSha512CommitKeySymsigHmacSha384
        }
        AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => {
            DbeAlgorithmSuiteId::AlgAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384
        }
    }
}

pub fn action(a: CryptoAction) -> aws_db_esdk::CryptoAction {
    match a {
        CryptoAction::EncryptAndSign => aws_db_esdk::CryptoAction::EncryptAndSign,
        CryptoAction::SignOnly => aws_db_esdk::CryptoAction::SignOnly,
        CryptoAction::SignAndIncludeInEncryptionContext => {
            aws_db_esdk::CryptoAction::SignAndIncludeInEncryptionContext
        }
        CryptoAction::DoNothing => aws_db_esdk::CryptoAction::DoNothing,
    }
}

pub fn padding(p: RsaPadding) -> PaddingScheme {
    match p {
        RsaPadding::Pkcs1 => PaddingScheme::Pkcs1,
        RsaPadding::OaepSha1Mgf1 => PaddingScheme::OaepSha1Mgf1,
        RsaPadding::OaepSha256Mgf1 => PaddingScheme::OaepSha256Mgf1,
        RsaPadding::OaepSha384Mgf1 => PaddingScheme::OaepSha384Mgf1,
        RsaPadding::OaepSha512Mgf1 => PaddingScheme::OaepSha512Mgf1,
    }
}

pub fn mpl() -> Result<MplClient, String> {
    let config = MaterialProvidersConfig::builder()
        .build()
        .map_err(|e| format!("MaterialProvidersConfig: {e:?}"))?;
    MplClient::from_conf(config).map_err(|e| format!("material providers client: {e:?}"))
}

/// The official keyring for `spec`.
pub fn keyring(spec: &KeySpec) -> Pin<Box<dyn Future<Output = Result<KeyringRef, String>> + '_>> {
    Box::pin(async move {
        let mpl = mpl()?;
        match spec {
            KeySpec::Aes {
                namespace,
                name,
                key,
            } => {
                let alg = match key.len() {
                    16 => AesWrappingAlg::AlgAes128GcmIv12Tag16,
                    24 => AesWrappingAlg::AlgAes192GcmIv12Tag16,
                    32 => AesWrappingAlg::AlgAes256GcmIv12Tag16,
                    n => return Err(format!("AES wrapping key of {n} bytes")),
                };
                mpl.create_raw_aes_keyring()
                    .key_namespace(namespace.clone())
                    .key_name(name.clone())
                    .wrapping_key(aws_smithy_types::Blob::new(key.clone()))
                    .wrapping_alg(alg)
                    .send()
                    .await
                    .map_err(|e| format!("create_raw_aes_keyring: {e:?}"))
            }
            KeySpec::Rsa {
                namespace,
                name,
                padding: p,
                public_pem,
                private_pem,
            } => {
                let mut b = mpl
                    .create_raw_rsa_keyring()
                    .key_namespace(namespace.clone())
                    .key_name(name.clone())
                    .padding_scheme(padding(*p));
                if let Some(pem) = public_pem {
                    b = b.public_key(aws_smithy_types::Blob::new(pem.as_bytes().to_vec()));
                }
                if let Some(pem) = private_pem {
                    b = b.private_key(aws_smithy_types::Blob::new(pem.as_bytes().to_vec()));
                }
                b.send()
                    .await
                    .map_err(|e| format!("create_raw_rsa_keyring: {e:?}"))
            }
            KeySpec::Multi {
                generator,
                children,
            } => {
                let mut b = mpl.create_multi_keyring();
                if let Some(g) = generator {
                    b = b.generator(keyring(g).await?);
                }
                let mut kids = Vec::new();
                for c in children {
                    kids.push(keyring(c).await?);
                }
                b.child_keyrings(kids)
                    .send()
                    .await
                    .map_err(|e| format!("create_multi_keyring: {e:?}"))
            }
        }
    })
}

/// The official item encryptor for `table` under `keys`.
pub async fn encryptor(table: &TableSpec, keys: &KeySpec) -> Result<Client, String> {
    encryptor_with_keyring(table, keyring(keys).await?)
}

/// The official item encryptor for `table` under an already built keyring
/// (one a [`KeySpec`] cannot describe, e.g. the hierarchical keyring).
pub fn encryptor_with_keyring(table: &TableSpec, keyring: KeyringRef) -> Result<Client, String> {
    let mut b = DynamoDbItemEncryptorConfig::builder()
        .logical_table_name(table.logical_table_name.clone())
        .partition_key_name(table.partition_key_name.clone())
        .attribute_actions_on_encrypt(
            table
                .actions
                .iter()
                .map(|(k, a)| (k.clone(), action(*a)))
                .collect::<std::collections::HashMap<_, _>>(),
        )
        .algorithm_suite_id(suite(table.suite))
        .keyring(keyring);
    if let Some(sk) = &table.sort_key_name {
        b = b.sort_key_name(sk.clone());
    }
    if !table.allowed_unsigned_attributes.is_empty() {
        b = b.allowed_unsigned_attributes(table.allowed_unsigned_attributes.clone());
    }
    if let Some(p) = &table.allowed_unsigned_attribute_prefix {
        b = b.allowed_unsigned_attribute_prefix(p.clone());
    }
    let config = b
        .build()
        .map_err(|e| format!("DynamoDbItemEncryptorConfig: {e:?}"))?;
    Client::from_conf(config).map_err(|e| format!("item encryptor: {e:?}"))
}

/// Encrypt in SDK types.
pub async fn encrypt_ddb(client: &Client, item: DdbItem) -> Result<DdbItem, String> {
    client
        .encrypt_item()
        .plaintext_item(item)
        .send()
        .await
        .map_err(|e| format!("official encrypt_item: {e}"))?
        .encrypted_item
        .ok_or_else(|| "official encrypt_item returned no item".to_string())
}

/// Decrypt in SDK types.
pub async fn decrypt_ddb(client: &Client, item: DdbItem) -> Result<DdbItem, String> {
    client
        .decrypt_item()
        .encrypted_item(item)
        .send()
        .await
        .map_err(|e| format!("official decrypt_item: {e}"))?
        .plaintext_item
        .ok_or_else(|| "official decrypt_item returned no item".to_string())
}

/// Encrypt a fieldseal item with the official SDK.
pub async fn encrypt(client: &Client, item: &Item) -> Result<Item, String> {
    item_from_ddb(&encrypt_ddb(client, item_to_ddb(item)).await?)
}

/// Decrypt a fieldseal item with the official SDK.
pub async fn decrypt(client: &Client, item: &Item) -> Result<Item, String> {
    item_from_ddb(&decrypt_ddb(client, item_to_ddb(item)).await?)
}

/// The official `EcdhCurveSpec` for `curve`. aws-db-esdk 1.3.0 takes it in
/// `curve_spec` but does not export it (it lives in a private module), so
/// the type is inferred from a public getter's signature and the value made
/// from its discriminant (declaration order: P256, P384, P521, SM2), then
/// checked by the type's own `Display` (`ECC_NIST_P256`...). Usage:
/// `official_curve(CreateRawEcdhKeyringInput::curve_spec, curve)` (any
/// input with a `curve_spec` getter).
pub fn official_curve<I, T: Copy + Display>(_getter: fn(&I) -> &Option<T>, curve: EcdhCurve) -> T {
    assert_eq!(
        std::mem::size_of::<T>(),
        1,
        "EcdhCurveSpec is a one-byte enum"
    );
    let index = EcdhCurve::ALL.iter().position(|c| *c == curve).unwrap() as u8;
    // SAFETY: T is a fieldless enum of one byte with at least four variants
    // (checked above and by the Display below), and `index` < 3.
    let value: T = unsafe { std::mem::transmute_copy(&index) };
    assert_eq!(
        value.to_string(),
        curve.mpl_name(),
        "EcdhCurveSpec discriminant"
    );
    value
}
