//! fieldseal's two I/O traits over the AWS SDK for Rust, as the wasm layer
//! implements them over the JS SDK v3: [`DynamoDbStorage`] is a
//! [`KeyStoreStorage`] over an `aws_sdk_dynamodb::Client`, and [`SdkKms`] a
//! [`KmsClient`] over an `aws_sdk_kms::Client`. Each is a field-for-field
//! mapping of fieldseal's request shapes (DynamoDB's and KMS's own) onto the
//! SDK's, and of the SDK's errors onto fieldseal's (`name` = the service's
//! error code, as the JS SDK's `error.name`).
//!
//! [`dynamodb_client`] and [`kms_client`] point the SDKs at one endpoint
//! (moto) with static test credentials, for fieldseal's adapters and the
//! official SDK alike.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, Put, ScalarAttributeType,
    TransactWriteItem,
};
use aws_sdk_kms::types::{EncryptionAlgorithmSpec, KeyAgreementAlgorithmSpec};
use aws_smithy_types::Blob;
use fieldseal::keyring::kms::{
    CachingClientSupplier, DecryptRequest, DecryptResponse, DeriveSharedSecretRequest,
    DeriveSharedSecretResponse, GenerateDataKeyRequest, GenerateDataKeyResponse,
    GenerateDataKeyWithoutPlaintextResponse, GetPublicKeyRequest, GetPublicKeyResponse, KmsClient,
    KmsClientSupplier, KmsError, ReEncryptRequest, ReEncryptResponse,
};
use fieldseal::keystore::{
    ConditionalPut, DynamoDbError, KeyStoreStorage, TableDescription, KEY_SCHEMA,
};
use fieldseal::materials::SecretBytes;
use fieldseal::Item;

use crate::convert::{item_from_ddb, item_to_ddb};

/// Where the SDK clients send their requests, and as whom.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// e.g. `http://127.0.0.1:5000` (moto).
    pub url: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

pub fn dynamodb_client(endpoint: &Endpoint, region: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{Builder, Credentials, Region};
    let config = Builder::new()
        .behavior_version_latest()
        .endpoint_url(&endpoint.url)
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(
            &endpoint.access_key_id,
            &endpoint.secret_access_key,
            None,
            None,
            "fieldseal-interop",
        ))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

pub fn kms_client(endpoint: &Endpoint, region: &str) -> aws_sdk_kms::Client {
    use aws_sdk_kms::config::{Builder, Credentials, Region};
    let config = Builder::new()
        .behavior_version_latest()
        .endpoint_url(&endpoint.url)
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(
            &endpoint.access_key_id,
            &endpoint.secret_access_key,
            None,
            None,
            "fieldseal-interop",
        ))
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// Creates a symmetric KMS key (in moto) and returns its ARN; `description`
/// names the test that uses it.
pub async fn create_kms_key(
    endpoint: &Endpoint,
    region: &str,
    description: &str,
) -> Result<String, String> {
    let out = kms_client(endpoint, region)
        .create_key()
        .description(description)
        .send()
        .await
        .map_err(|e| format!("CreateKey: {}", aws_sdk_kms::error::DisplayErrorContext(&e)))?;
    out.key_metadata
        .and_then(|m| m.arn)
        .ok_or_else(|| "CreateKey returned no ARN".to_string())
}

// ------------------------------------------------------------------ DynamoDB

/// fieldseal's [`KeyStoreStorage`] over the AWS SDK's DynamoDB client.
#[derive(Debug, Clone)]
pub struct DynamoDbStorage {
    pub client: aws_sdk_dynamodb::Client,
}

/// An SDK error's name and message, for both clients' errors: the error code
/// of a service error, else the SDK's kind of failure (as the JS SDK names
/// network errors by their own class); the service's message, else the SDK's.
fn sdk_error<E, R>(e: &SdkError<E, R>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let name = e.code().unwrap_or(match e {
        SdkError::ConstructionFailure(_) => "ConstructionFailure",
        SdkError::TimeoutError(_) => "TimeoutError",
        SdkError::DispatchFailure(_) => "DispatchFailure",
        SdkError::ResponseError(_) => "ResponseError",
        SdkError::ServiceError(_) => "UnknownServiceError",
        _ => "SdkError",
    });
    let message = e
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| DisplayErrorContext(e).to_string());
    (name.to_owned(), message)
}

/// A [`DynamoDbError`] without cancellation reasons (the caller fills them).
fn ddb_failure(name: impl Into<String>, message: String) -> DynamoDbError {
    DynamoDbError {
        name: name.into(),
        message,
        cancellation_reasons: Vec::new(),
    }
}

/// An SDK error as fieldseal's [`DynamoDbError`].
fn ddb_error<E, R>(e: &SdkError<E, R>) -> DynamoDbError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (name, message) = sdk_error(e);
    ddb_failure(name, message)
}

/// A response the SDK accepted but fieldseal cannot use.
fn bad_ddb_response(operation: &str, what: &str) -> DynamoDbError {
    ddb_failure(
        "InvalidResponse",
        format!("DynamoDB {operation} response: {what}"),
    )
}

fn non_empty<K, V>(map: HashMap<K, V>) -> Option<HashMap<K, V>> {
    (!map.is_empty()).then_some(map)
}

#[async_trait(?Send)]
impl KeyStoreStorage for DynamoDbStorage {
    async fn get_item(&self, table_name: &str, key: Item) -> Result<Option<Item>, DynamoDbError> {
        let out = self
            .client
            .get_item()
            .table_name(table_name)
            .set_key(Some(item_to_ddb(&key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ddb_error(&e))?;
        out.item
            .map(|item| item_from_ddb(&item).map_err(|e| bad_ddb_response("GetItem", &e)))
            .transpose()
    }

    async fn transact_write(&self, puts: Vec<ConditionalPut>) -> Result<(), DynamoDbError> {
        let mut items = Vec::with_capacity(puts.len());
        for put in puts {
            let put = Put::builder()
                .table_name(put.table_name)
                .set_item(Some(item_to_ddb(&put.item)))
                .condition_expression(put.condition_expression)
                .set_expression_attribute_names(non_empty(
                    put.expression_attribute_names.into_iter().collect(),
                ))
                .set_expression_attribute_values(non_empty(item_to_ddb(
                    &put.expression_attribute_values,
                )))
                .build()
                .map_err(|e| ddb_failure("ConstructionFailure", e.to_string()))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let mut error = ddb_error(&e);
                if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                    e.as_service_error()
                {
                    // In request order; an item that did not fail has code "None".
                    error.cancellation_reasons = cancelled
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().unwrap_or("None").to_owned())
                        .collect();
                }
                Err(error)
            }
        }
    }

    async fn describe_table(
        &self,
        table_name: &str,
    ) -> Result<Option<TableDescription>, DynamoDbError> {
        let out = match self
            .client
            .describe_table()
            .table_name(table_name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                if let Some(DescribeTableError::ResourceNotFoundException(_)) = e.as_service_error()
                {
                    return Ok(None);
                }
                return Err(ddb_error(&e));
            }
        };
        let table = out
            .table
            .ok_or_else(|| bad_ddb_response("DescribeTable", "no Table"))?;
        let table_arn = table
            .table_arn()
            .ok_or_else(|| bad_ddb_response("DescribeTable", "no TableArn"))?
            .to_owned();
        let key_schema = table
            .key_schema()
            .iter()
            .map(|k| {
                (
                    k.attribute_name().to_owned(),
                    k.key_type().as_str().to_owned(),
                )
            })
            .collect();
        Ok(Some(TableDescription {
            table_arn,
            key_schema,
        }))
    }

    async fn create_table(&self, table_name: &str) -> Result<String, DynamoDbError> {
        let build = |e: aws_smithy_types::error::operation::BuildError| {
            ddb_failure("ConstructionFailure", e.to_string())
        };
        let mut definitions = Vec::new();
        let mut schema = Vec::new();
        for (name, key_type) in KEY_SCHEMA {
            definitions.push(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(build)?,
            );
            schema.push(
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(KeyType::from(key_type))
                    .build()
                    .map_err(build)?,
            );
        }
        let out = self
            .client
            .create_table()
            .table_name(table_name)
            .set_attribute_definitions(Some(definitions))
            .set_key_schema(Some(schema))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map_err(|e| ddb_error(&e))?;
        out.table_description()
            .and_then(|t| t.table_arn())
            .map(str::to_owned)
            .ok_or_else(|| bad_ddb_response("CreateTable", "no TableArn"))
    }
}

// ----------------------------------------------------------------------- KMS

/// fieldseal's [`KmsClient`] over the AWS SDK's KMS client (one region).
#[derive(Debug, Clone)]
pub struct SdkKms {
    pub client: aws_sdk_kms::Client,
}

/// An SDK error as fieldseal's [`KmsError`].
fn kms_error<E, R>(e: &SdkError<E, R>) -> KmsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (name, message) = sdk_error(e);
    KmsError { name, message }
}

fn bad_kms_response(operation: &str, missing: &str) -> KmsError {
    KmsError {
        name: "InvalidResponse".into(),
        message: format!("KMS {operation} response has no {missing}"),
    }
}

fn context(ec: BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    non_empty(ec.into_iter().collect())
}

fn tokens(grant_tokens: Vec<String>) -> Option<Vec<String>> {
    (!grant_tokens.is_empty()).then_some(grant_tokens)
}

fn byte_count(n: u32) -> Result<i32, KmsError> {
    i32::try_from(n).map_err(|_| KmsError {
        name: "ValidationException".into(),
        message: format!("NumberOfBytes {n} is out of range"),
    })
}

#[async_trait(?Send)]
impl KmsClient for SdkKms {
    async fn generate_data_key(
        &self,
        request: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        let op = "GenerateDataKey";
        let out = self
            .client
            .generate_data_key()
            .key_id(request.key_id)
            .number_of_bytes(byte_count(request.number_of_bytes)?)
            .set_encryption_context(context(request.encryption_context))
            .set_grant_tokens(tokens(request.grant_tokens))
            .send()
            .await
            .map_err(|e| kms_error(&e))?;
        Ok(GenerateDataKeyResponse {
            key_id: out.key_id.ok_or_else(|| bad_kms_response(op, "KeyId"))?,
            plaintext: SecretBytes::new(
                out.plaintext
                    .ok_or_else(|| bad_kms_response(op, "Plaintext"))?
                    .into_inner(),
            ),
            ciphertext_blob: out
                .ciphertext_blob
                .ok_or_else(|| bad_kms_response(op, "CiphertextBlob"))?
                .into_inner(),
        })
    }

    async fn decrypt(&self, request: DecryptRequest) -> Result<DecryptResponse, KmsError> {
        let op = "Decrypt";
        // An asymmetric Decrypt names its algorithm and takes no encryption
        // context (the JS transport, wasm/src/kms.rs, does the same).
        let (encryption_context, algorithm) = match request.encryption_algorithm {
            Some(a) => (None, Some(EncryptionAlgorithmSpec::from(a.name()))),
            None => (context(request.encryption_context), None),
        };
        let out = self
            .client
            .decrypt()
            .key_id(request.key_id)
            .ciphertext_blob(Blob::new(request.ciphertext_blob))
            .set_encryption_context(encryption_context)
            .set_encryption_algorithm(algorithm)
            .set_grant_tokens(tokens(request.grant_tokens))
            .send()
            .await
            .map_err(|e| kms_error(&e))?;
        Ok(DecryptResponse {
            key_id: out.key_id.ok_or_else(|| bad_kms_response(op, "KeyId"))?,
            plaintext: SecretBytes::new(
                out.plaintext
                    .ok_or_else(|| bad_kms_response(op, "Plaintext"))?
                    .into_inner(),
            ),
        })
    }

    async fn generate_data_key_without_plaintext(
        &self,
        request: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyWithoutPlaintextResponse, KmsError> {
        let op = "GenerateDataKeyWithoutPlaintext";
        let out = self
            .client
            .generate_data_key_without_plaintext()
            .key_id(request.key_id)
            .number_of_bytes(byte_count(request.number_of_bytes)?)
            .set_encryption_context(context(request.encryption_context))
            .set_grant_tokens(tokens(request.grant_tokens))
            .send()
            .await
            .map_err(|e| kms_error(&e))?;
        Ok(GenerateDataKeyWithoutPlaintextResponse {
            key_id: out.key_id.ok_or_else(|| bad_kms_response(op, "KeyId"))?,
            ciphertext_blob: out
                .ciphertext_blob
                .ok_or_else(|| bad_kms_response(op, "CiphertextBlob"))?
                .into_inner(),
        })
    }

    async fn get_public_key(
        &self,
        request: GetPublicKeyRequest,
    ) -> Result<GetPublicKeyResponse, KmsError> {
        let op = "GetPublicKey";
        let out = self
            .client
            .get_public_key()
            .key_id(request.key_id)
            .set_grant_tokens(tokens(request.grant_tokens))
            .send()
            .await
            .map_err(|e| kms_error(&e))?;
        Ok(GetPublicKeyResponse {
            key_id: out.key_id.ok_or_else(|| bad_kms_response(op, "KeyId"))?,
            public_key: out
                .public_key
                .ok_or_else(|| bad_kms_response(op, "PublicKey"))?
                .into_inner(),
            key_usage: out.key_usage.map(|u| u.as_str().to_owned()),
            key_spec: out.key_spec.map(|s| s.as_str().to_owned()),
        })
    }

    async fn derive_shared_secret(
        &self,
        request: DeriveSharedSecretRequest,
    ) -> Result<DeriveSharedSecretResponse, KmsError> {
        let op = "DeriveSharedSecret";
        let out = self
            .client
            .derive_shared_secret()
            .key_id(request.key_id)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::from(
                DeriveSharedSecretRequest::KEY_AGREEMENT_ALGORITHM,
            ))
            .public_key(Blob::new(request.public_key))
            .set_grant_tokens(tokens(request.grant_tokens))
            .send()
            .await
            .map_err(|e| kms_error(&e))?;
        Ok(DeriveSharedSecretResponse {
            key_id: out.key_id.ok_or_else(|| bad_kms_response(op, "KeyId"))?,
            shared_secret: SecretBytes::new(
                out.shared_secret
                    .ok_or_else(|| bad_kms_response(op, "SharedSecret"))?
                    .into_inner(),
            ),
            key_agreement_algorithm: out.key_agreement_algorithm.map(|a| a.as_str().to_owned()),
        })
    }

    async fn re_encrypt(&self, request: ReEncryptRequest) -> Result<ReEncryptResponse, KmsError> {
        let op = "ReEncrypt";
        let out = self
            .client
            .re_encrypt()
            .source_key_id(request.source_key_id)
            .set_source_encryption_context(context(request.source_encryption_context))
            .ciphertext_blob(Blob::new(request.ciphertext_blob))
            .destination_key_id(request.destination_key_id)
            .set_destination_encryption_context(context(request.destination_encryption_context))
            .set_grant_tokens(tokens(request.grant_tokens))
            .send()
            .await
            .map_err(|e| kms_error(&e))?;
        Ok(ReEncryptResponse {
            source_key_id: out
                .source_key_id
                .ok_or_else(|| bad_kms_response(op, "SourceKeyId"))?,
            key_id: out.key_id.ok_or_else(|| bad_kms_response(op, "KeyId"))?,
            ciphertext_blob: out
                .ciphertext_blob
                .ok_or_else(|| bad_kms_response(op, "CiphertextBlob"))?
                .into_inner(),
        })
    }
}

/// A KMS client per region, all at one endpoint (moto serves every region),
/// each made on first use and then shared.
pub fn kms_supplier(endpoint: &Endpoint) -> Arc<dyn KmsClientSupplier> {
    let endpoint = endpoint.clone();
    Arc::new(CachingClientSupplier::new(
        move |region: &str| -> fieldseal::Result<Arc<dyn KmsClient>> {
            Ok(Arc::new(SdkKms {
                client: kms_client(&endpoint, region),
            }))
        },
    ))
}
