//! The official `DbEsdkInterceptor` on an `aws_sdk_dynamodb::Client`, for the
//! DynamoDB plug-in interop test (`tests/plugin.rs`). Each encrypted table is
//! described once ([`PluginTable`]) and built on both sides from that one
//! description: here as the interceptor's `DynamoDbTableEncryptionConfig`,
//! and as JSON for `tests/js/tools/plugin-interop.mjs`, which builds the same
//! keyring with the npm package and passes the same config to
//! `getDynamoDbEncryptionPlugin`.

use std::collections::HashMap;

use aws_db_esdk::dynamodb::types::{DynamoDbTableEncryptionConfig, SearchConfig};
use aws_db_esdk::intercept::DbEsdkInterceptor;
use aws_db_esdk::material_providers::types::keyring::KeyringRef;
use aws_db_esdk::types::dynamo_db_tables_encryption_config::DynamoDbTablesEncryptionConfig;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::aws_clients::{dynamodb_client, kms_client, Endpoint};
use crate::npm;
use crate::official;
use crate::spec::{KeySpec, TableSpec};

/// A table's keyring, as data both SDKs can build it from.
#[derive(Clone, Debug)]
pub enum TableKey {
    /// A raw AES keyring (the key bytes travel to the Node tool as base64).
    Aes {
        namespace: String,
        name: String,
        key: Vec<u8>,
    },
    /// A KMS keyring on one symmetric key (in moto).
    Kms { arn: String },
}

impl TableKey {
    pub fn label(&self) -> String {
        match self {
            TableKey::Aes { key, .. } => format!("raw AES-{}", key.len() * 8),
            TableKey::Kms { .. } => "KMS".into(),
        }
    }

    /// The Node tool's keyring description.
    pub fn to_json(&self) -> Value {
        match self {
            TableKey::Aes {
                namespace,
                name,
                key,
            } => json!({ "aes": {
                "keyNamespace": namespace,
                "keyName": name,
                "wrappingKey": B64.encode(key),
            }}),
            TableKey::Kms { arn } => json!({ "kms": { "kmsKeyArn": arn } }),
        }
    }

    /// The official keyring; a KMS keyring calls KMS at `endpoint`.
    pub async fn official_keyring(
        &self,
        endpoint: &Endpoint,
        region: &str,
    ) -> Result<KeyringRef, String> {
        match self {
            TableKey::Aes {
                namespace,
                name,
                key,
            } => {
                official::keyring(&KeySpec::Aes {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    key: key.clone(),
                })
                .await
            }
            TableKey::Kms { arn } => official::mpl()?
                .create_aws_kms_keyring()
                .kms_key_id(arn.clone())
                .kms_client(kms_client(endpoint, region))
                .send()
                .await
                .map_err(|e| format!("official create_aws_kms_keyring: {e}")),
        }
    }
}

/// One encrypted DynamoDB table: its physical name, its item encryptor
/// config and its keyring.
#[derive(Clone, Debug)]
pub struct PluginTable {
    /// The physical table name (the key of `tableEncryptionConfigs`).
    pub name: String,
    pub spec: TableSpec,
    pub key: TableKey,
}

impl PluginTable {
    /// `{ config, keyring }`: the plug-in's per-table config without the
    /// keyring object, and the keyring as data.
    pub fn node_json(&self) -> Value {
        json!({
            "config": npm::encryptor_config_json(&self.spec),
            "keyring": self.key.to_json(),
        })
    }

    /// The official interceptor's config for this table.
    pub async fn official_config(
        &self,
        endpoint: &Endpoint,
        region: &str,
    ) -> Result<DynamoDbTableEncryptionConfig, String> {
        let spec = &self.spec;
        let keyring = self.key.official_keyring(endpoint, region).await?;
        official_table_config(&self.name, spec, keyring, None)
    }
}

/// A DynamoDB client at `endpoint` with the official `DbEsdkInterceptor`
/// configured for `tables` (other tables pass through it untouched).
pub async fn intercepted_client(
    endpoint: &Endpoint,
    region: &str,
    tables: &[PluginTable],
) -> Result<aws_sdk_dynamodb::Client, String> {
    let mut configs = HashMap::new();
    for table in tables {
        configs.insert(
            table.name.clone(),
            table.official_config(endpoint, region).await?,
        );
    }
    let configs = DynamoDbTablesEncryptionConfig::builder()
        .table_encryption_configs(configs)
        .build()
        .map_err(|e| format!("DynamoDbTablesEncryptionConfig: {e:?}"))?;
    let interceptor =
        DbEsdkInterceptor::new(configs).map_err(|e| format!("DbEsdkInterceptor: {e:?}"))?;
    let config = dynamodb_client(endpoint, region)
        .config()
        .to_builder()
        .interceptor(interceptor)
        .build();
    Ok(aws_sdk_dynamodb::Client::from_conf(config))
}

/// Creates an on-demand table keyed by `partition_key` (S) and, if given,
/// a sort key of the given type.
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    partition_key: &str,
    sort_key: Option<(&str, ScalarAttributeType)>,
) -> Result<(), String> {
    let attribute = |name: &str, ty: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ty)
            .build()
            .map_err(|e| format!("AttributeDefinition: {e}"))
    };
    let key = |name: &str, ty: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(ty)
            .build()
            .map_err(|e| format!("KeySchemaElement: {e}"))
    };
    let mut b = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(partition_key, ScalarAttributeType::S)?)
        .key_schema(key(partition_key, KeyType::Hash)?);
    if let Some((sort_key, ty)) = sort_key {
        b = b
            .attribute_definitions(attribute(sort_key, ty)?)
            .key_schema(key(sort_key, KeyType::Range)?);
    }
    b.send()
        .await
        .map_err(|e| format!("CreateTable {name}: {}", DisplayErrorContext(&e)))?;
    Ok(())
}

/// `Ok` if the npm package is built with the DynamoDB plug-in
/// (`pkg/dist/dynamodb.js`) and `node` runs; else what is missing.
/// The official table config of `spec` (the table `name`, for errors), with
/// `keyring` and, for searchable tables, `search`.
pub fn official_table_config(
    name: &str,
    spec: &TableSpec,
    keyring: KeyringRef,
    search: Option<SearchConfig>,
) -> Result<DynamoDbTableEncryptionConfig, String> {
    let mut b = DynamoDbTableEncryptionConfig::builder()
        .logical_table_name(spec.logical_table_name.clone())
        .partition_key_name(spec.partition_key_name.clone())
        .attribute_actions_on_encrypt(
            spec.actions
                .iter()
                .map(|(k, a)| (k.clone(), official::action(*a)))
                .collect::<HashMap<_, _>>(),
        )
        .algorithm_suite_id(official::suite(spec.suite))
        .keyring(keyring)
        .set_search(search);
    if let Some(sk) = &spec.sort_key_name {
        b = b.sort_key_name(sk.clone());
    }
    if !spec.allowed_unsigned_attributes.is_empty() {
        b = b.allowed_unsigned_attributes(spec.allowed_unsigned_attributes.clone());
    }
    if let Some(p) = &spec.allowed_unsigned_attribute_prefix {
        b = b.allowed_unsigned_attribute_prefix(p.clone());
    }
    b.build()
        .map_err(|e| format!("DynamoDbTableEncryptionConfig {}: {e:?}", name))
}

pub fn plugin_ready() -> Result<(), String> {
    npm::package_ready()?;
    let entry = npm::repo_root().join("pkg/dist/dynamodb.js");
    if !entry.is_file() {
        return Err(format!(
            "the npm package is built without the DynamoDB plug-in ({} is missing): \
             run `npm --prefix pkg run build`",
            entry.display()
        ));
    }
    Ok(())
}
