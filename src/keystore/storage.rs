//! The DynamoDB operations the branch key store needs, behind a small trait.
//!
//! As with [`crate::keyring::KmsClient`], fieldseal never signs requests: the
//! implementation does (in the wasm layer, the user's
//! `@aws-sdk/client-dynamodb` v3 client; in tests, an in-memory table). The
//! request types are DynamoDB's own shapes, so each implementation is a
//! field-for-field mapping. Spec: branch-key-store.md#operations

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

use crate::base::MaybeSendSync;
use crate::item::Item;

/// One `Put` of a TransactWriteItems call, with its condition.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionalPut {
    pub table_name: String,
    pub item: Item,
    pub condition_expression: String,
    pub expression_attribute_names: BTreeMap<String, String>,
    pub expression_attribute_values: Item,
}

/// The key schema of an existing table, from DescribeTable: attribute name
/// and key type (`HASH` or `RANGE`), in the table's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDescription {
    pub table_arn: String,
    pub key_schema: Vec<(String, String)>,
}

/// A failed DynamoDB call: the service's error name
/// (`ProvisionedThroughputExceededException`, `TransactionCanceledException`,
/// `ResourceNotFoundException`, a network error's name...) and its message.
/// For a cancelled transaction, `cancellation_reasons` holds each item's
/// reason code (`ConditionalCheckFailed`, `None`...), in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoDbError {
    pub name: String,
    pub message: String,
    pub cancellation_reasons: Vec<String>,
}

impl DynamoDbError {
    /// Whether a transaction failed because one of its conditions did not hold.
    pub fn is_condition_failure(&self) -> bool {
        self.name == "ConditionalCheckFailedException"
            || self
                .cancellation_reasons
                .iter()
                .any(|r| r == "ConditionalCheckFailed")
    }
}

impl fmt::Display for DynamoDbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)?;
        if !self.cancellation_reasons.is_empty() {
            write!(f, " (reasons: {})", self.cancellation_reasons.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for DynamoDbError {}

/// A DynamoDB client for the key store's table. Futures are not `Send`, so
/// the implementation may call JavaScript.
#[async_trait(?Send)]
pub trait KeyStoreStorage: MaybeSendSync {
    /// GetItem: `None` when there is no item. (The reference code reads
    /// eventually consistent; a strongly consistent read is as good.)
    async fn get_item(&self, table_name: &str, key: Item) -> Result<Option<Item>, DynamoDbError>;

    /// TransactWriteItems of conditional puts: all are written or none.
    async fn transact_write(&self, puts: Vec<ConditionalPut>) -> Result<(), DynamoDbError>;

    /// DescribeTable: `None` when the table does not exist.
    async fn describe_table(
        &self,
        table_name: &str,
    ) -> Result<Option<TableDescription>, DynamoDbError>;

    /// CreateTable with the key store's key schema
    /// ([`super::KEY_SCHEMA`]); resolves to the table ARN.
    async fn create_table(&self, table_name: &str) -> Result<String, DynamoDbError>;
}
