//! The DynamoDB client integration's rules, apart from any SDK: what each
//! API call may carry on an encrypted table. The plug-in maps the AWS SDK
//! v3's inputs onto [`RequestPart`]s and asks here; items are sealed and
//! opened by each table's [`ItemEncryptor`], whose rules (key attributes
//! present, every attribute configured, no `aws_dbe_` names: spec
//! ddb-support.md#writable) apply to writes as they are.
//! Spec: dynamodb-encryption-client/ddb-sdk-integration.md, ddb-support.md
//!
//! Where this is stricter than the reference interceptor (aws-db-esdk
//! 1.3.0), it refuses a request the reference would send only to get a
//! wrong or failing answer back; each such rule says so where it is.

pub mod expr;
pub mod search;
pub mod statement;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::encryptor::{CryptoAction, ItemEncryptor};
use crate::error::{Error, Result};
use crate::format::{FOOTER_FIELD, HEADER_FIELD};

pub use expr::ExpressionNames;
pub use search::{sealed_under_key_id, QueryParts};

/// The DynamoDB operations the rules know. Any other operation passes
/// through unchanged, as in the reference interceptor (which only touches
/// the operations it names; spec: ddb-sdk-integration.md#allowed-passthrough-dynamodb-apis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    PutItem,
    GetItem,
    UpdateItem,
    DeleteItem,
    Query,
    Scan,
    /// One `PutRequest` or `DeleteRequest` of a `BatchWriteItem`.
    BatchWriteItem,
    /// One table's `KeysAndAttributes` of a `BatchGetItem`.
    BatchGetItem,
    /// One `Put` of a `TransactWriteItems`.
    TransactPut,
    /// One `Update` of a `TransactWriteItems`.
    TransactUpdate,
    /// One `Delete` of a `TransactWriteItems`.
    TransactDelete,
    /// One `ConditionCheck` of a `TransactWriteItems`.
    TransactConditionCheck,
    /// One `Get` of a `TransactGetItems`.
    TransactGet,
}

impl Operation {
    /// The operation by its name: an API's, or `TransactPut`, `TransactUpdate`,
    /// `TransactDelete`, `TransactConditionCheck`, `TransactGet` for a transaction's entries.
    pub fn parse(name: &str) -> Result<Operation> {
        Ok(match name {
            "PutItem" => Operation::PutItem,
            "GetItem" => Operation::GetItem,
            "UpdateItem" => Operation::UpdateItem,
            "DeleteItem" => Operation::DeleteItem,
            "Query" => Operation::Query,
            "Scan" => Operation::Scan,
            "BatchWriteItem" => Operation::BatchWriteItem,
            "BatchGetItem" => Operation::BatchGetItem,
            "TransactPut" => Operation::TransactPut,
            "TransactUpdate" => Operation::TransactUpdate,
            "TransactDelete" => Operation::TransactDelete,
            "TransactConditionCheck" => Operation::TransactConditionCheck,
            "TransactGet" => Operation::TransactGet,
            other => return Err(Error::Internal(format!("no request rules for {other:?}"))),
        })
    }

    /// The DynamoDB API this part belongs to, for messages.
    pub fn api(self) -> &'static str {
        match self {
            Operation::PutItem => "PutItem",
            Operation::GetItem => "GetItem",
            Operation::UpdateItem => "UpdateItem",
            Operation::DeleteItem => "DeleteItem",
            Operation::Query => "Query",
            Operation::Scan => "Scan",
            Operation::BatchWriteItem => "BatchWriteItem",
            Operation::BatchGetItem => "BatchGetItem",
            Operation::TransactPut
            | Operation::TransactUpdate
            | Operation::TransactDelete
            | Operation::TransactConditionCheck => "TransactWriteItems",
            Operation::TransactGet => "TransactGetItems",
        }
    }

    /// The legacy parameters refused on an encrypted table.
    /// Spec: ddb-sdk-integration.md (each operation's "legacy parameters")
    fn legacy_parameters(self) -> &'static [&'static str] {
        match self {
            Operation::PutItem | Operation::DeleteItem => &["Expected", "ConditionalOperator"],
            Operation::UpdateItem => &["Expected", "AttributeUpdates", "ConditionalOperator"],
            Operation::Query => &[
                "AttributesToGet",
                "KeyConditions",
                "QueryFilter",
                "ConditionalOperator",
            ],
            Operation::Scan => &["AttributesToGet", "ScanFilter", "ConditionalOperator"],
            _ => &[],
        }
    }

    /// Whether its ConditionExpression is checked. UpdateItem's is too,
    /// though the reference checks only its UpdateExpression: a condition on
    /// a ciphertext can only compare ciphertexts (the spec checks it for a
    /// transaction's Update).
    fn has_condition(self) -> bool {
        matches!(
            self,
            Operation::PutItem
                | Operation::UpdateItem
                | Operation::DeleteItem
                | Operation::TransactPut
                | Operation::TransactUpdate
                | Operation::TransactDelete
                | Operation::TransactConditionCheck
        )
    }

    /// Whether it reads items back, so that a projection must keep what they need to verify.
    fn reads_items(self) -> bool {
        matches!(
            self,
            Operation::GetItem
                | Operation::Query
                | Operation::Scan
                | Operation::BatchGetItem
                | Operation::TransactGet
        )
    }
}

/// One table-addressed part of a request, as the rules see it: the whole
/// of a `PutItem`, or one entry of a batch or a transaction. Expressions
/// are the caller's text; `parameters` names the request's parameters that
/// are set (present, not null, and not an empty list or map: the
/// reference's test for a legacy parameter).
#[derive(Clone, Debug, Default)]
pub struct RequestPart {
    pub table: String,
    pub parameters: Vec<String>,
    pub condition_expression: Option<String>,
    pub update_expression: Option<String>,
    pub key_condition_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub projection_expression: Option<String>,
    /// `AttributesToGet` of a GetItem, BatchGetItem entry (a projection by another name).
    pub attributes_to_get: Option<Vec<String>>,
    pub expression_attribute_names: ExpressionNames,
}

/// The encrypted tables of one client: physical table name to its item
/// encryptor. Spec: ddb-sdk-integration.md#dynamodb-table-encryption-configs
#[derive(Default)]
pub struct EncryptedTables {
    // A list, not a map: a client has a few tables, and a map of a new value
    // type would add its own copy of the B-tree code to the wasm.
    tables: Vec<(String, Arc<ItemEncryptor>)>,
}

impl EncryptedTables {
    pub fn new() -> Self {
        Self::default()
    }

    /// Configure `table` (its physical name, which may differ from the
    /// encryptor's logical table name). A table configured twice is refused.
    pub fn add(&mut self, table: impl Into<String>, encryptor: Arc<ItemEncryptor>) -> Result<()> {
        let table = table.into();
        if table.is_empty() {
            return Err(Error::InvalidConfig(
                "tableEncryptionConfigs: a table name must not be empty".into(),
            ));
        }
        if self.get(&table).is_some() {
            return Err(Error::InvalidConfig(format!(
                "tableEncryptionConfigs: table {table:?} is configured twice"
            )));
        }
        self.tables.push((table, encryptor));
        Ok(())
    }

    /// The table's encryptor, if it is an encrypted table.
    /// Spec: ddb-sdk-integration.md#encrypted-table
    pub fn get(&self, table: &str) -> Option<&ItemEncryptor> {
        self.tables
            .iter()
            .find(|(name, _)| name == table)
            .map(|(_, e)| &**e)
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Check one part of a request before anything is sent: on an
    /// encrypted table, no legacy parameters, no condition on an encrypted
    /// attribute, no update of a signed one, no projection that leaves out
    /// what the items need to verify. Parts on other tables pass.
    pub fn check(&self, operation: Operation, part: &RequestPart) -> Result<()> {
        let Some(encryptor) = self.get(&part.table) else {
            return Ok(());
        };
        let refuse = |why: String| {
            Error::RequestRefused(format!(
                "{} on encrypted table {:?}: {why}",
                operation.api(),
                part.table
            ))
        };
        let actions = &encryptor.config().attribute_actions_on_encrypt;
        let names = &part.expression_attribute_names;
        if let Some(legacy) = operation
            .legacy_parameters()
            .iter()
            .find(|p| part.parameters.iter().any(|set| set == *p))
        {
            return Err(refuse(format!(
                "the legacy parameter {legacy} is not supported with client-side encryption; use expressions"
            )));
        }
        if operation.has_condition() {
            if let Some(condition) = &part.condition_expression {
                // Spec: ddb-support.md#testconditionexpression
                let encrypted = encrypted_attributes(
                    actions,
                    expr::condition_attributes(condition, names, "ConditionExpression")?,
                );
                if !encrypted.is_empty() {
                    return Err(refuse(format!(
                        "ConditionExpression reads encrypted attributes ({}): DynamoDB only sees their ciphertext",
                        encrypted.join(", ")
                    )));
                }
            }
        }
        if matches!(operation, Operation::UpdateItem | Operation::TransactUpdate) {
            if let Some(update) = &part.update_expression {
                // Spec: ddb-support.md#testupdateexpression
                let mut signed: Vec<String> = expr::update_attributes(update, names)?
                    .into_iter()
                    .filter(|a| actions.get(a).is_some_and(|action| action.is_signed()))
                    .collect();
                signed.dedup();
                if !signed.is_empty() {
                    return Err(refuse(format!(
                        "UpdateExpression touches signed attributes ({}): the item's signature would no longer verify; read, change and put the whole item instead",
                        signed.join(", ")
                    )));
                }
            }
        }
        // With beacons, [`EncryptedTables::rewrite_query`] decides what a
        // Query or Scan may read (Dafny's Beaconize).
        if matches!(operation, Operation::Query | Operation::Scan)
            && encryptor.config().search.is_none()
        {
            check_query_without_beacons(
                operation,
                &part.table,
                actions,
                part.key_condition_expression.as_deref(),
                part.filter_expression.as_deref(),
                names,
            )?;
        }
        if operation.reads_items() {
            self.check_projection(encryptor, part, &refuse)?;
        }
        Ok(())
    }

    /// A projection must return the header, the footer and every signed
    /// attribute, or no item can be verified. Stricter than the reference,
    /// which sends the request and then fails to decrypt what comes back.
    fn check_projection(
        &self,
        encryptor: &ItemEncryptor,
        part: &RequestPart,
        refuse: &dyn Fn(String) -> Error,
    ) -> Result<()> {
        let projected = match (&part.projection_expression, &part.attributes_to_get) {
            (Some(text), _) => expr::projection_attributes(text, &part.expression_attribute_names)?,
            (None, Some(list)) => list.clone(),
            (None, None) => return Ok(()),
        };
        let actions = &encryptor.config().attribute_actions_on_encrypt;
        let needed = [HEADER_FIELD, FOOTER_FIELD].into_iter().chain(
            actions
                .iter()
                .filter(|(_, action)| action.is_signed())
                .map(|(name, _)| name.as_str()),
        );
        let missing: Vec<&str> = needed
            .filter(|n| !projected.iter().any(|p| p == n))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(refuse(format!(
            "the projection leaves out attributes every item needs to be verified ({}); project them too, or read the whole item",
            missing.join(", ")
        )))
    }

    /// UpdateItem with `ReturnValues` `UPDATED_OLD` / `UPDATED_NEW` returns
    /// only the updated attributes, which are never signed (the update was
    /// checked): a signed one means a bug here or in DynamoDB.
    /// Spec: ddb-sdk-integration.md#decrypt-after-updateitem
    pub fn check_updated_attributes(&self, table: &str, attributes: &[String]) -> Result<()> {
        let Some(encryptor) = self.get(table) else {
            return Ok(());
        };
        let actions = &encryptor.config().attribute_actions_on_encrypt;
        let signed: Vec<&str> = attributes
            .iter()
            .filter(|name| actions.get(*name).is_some_and(|a| a.is_signed()))
            .map(String::as_str)
            .collect();
        if signed.is_empty() {
            return Ok(());
        }
        Err(Error::Internal(format!(
            "UpdateItem on encrypted table {table:?} returned updated signed attributes ({}), which the request could not have updated",
            signed.join(", ")
        )))
    }

    /// The table a PartiQL statement names must not be encrypted: the
    /// statement would read or write ciphertext as if it were plaintext.
    /// Spec: ddb-sdk-integration.md#validate-before-executestatement
    pub fn check_statement(&self, api: &str, statement: &str) -> Result<()> {
        let table = statement::statement_table(statement)?;
        if self.get(&table).is_some() {
            return Err(Error::RequestRefused(format!(
                "{api} on encrypted table {table:?}: PartiQL is not supported with client-side encryption; use PutItem, GetItem, Query, Scan and their batch and transaction forms"
            )));
        }
        Ok(())
    }
}

/// A Query or Scan on a table without beacons reads no encrypted attribute
/// (the reference's TestBeaconize). Stricter than the reference, which
/// sends these and gets no match back: DynamoDB compares the ciphertext.
/// Searchable encryption (beacons) is what makes such a query possible.
/// Like the reference's ExtractAttributes, the operand of attribute_exists,
/// attribute_not_exists and size is not read (its existence is the same).
fn check_query_without_beacons(
    operation: Operation,
    table: &str,
    actions: &BTreeMap<String, CryptoAction>,
    key_condition_expression: Option<&str>,
    filter_expression: Option<&str>,
    names: &ExpressionNames,
) -> Result<()> {
    for (what, text) in [
        ("KeyConditionExpression", key_condition_expression),
        ("FilterExpression", filter_expression),
    ] {
        let Some(text) = text else { continue };
        let encrypted =
            encrypted_attributes(actions, expr::condition_attributes(text, names, what)?);
        if !encrypted.is_empty() {
            return Err(Error::RequestRefused(format!(
                "{} on encrypted table {table:?}: {what} reads encrypted attributes ({}): DynamoDB only sees their ciphertext, so nothing would match",
                operation.api(),
                encrypted.join(", ")
            )));
        }
    }
    Ok(())
}

/// The attributes of `names` that are ENCRYPT_AND_SIGN, each once.
fn encrypted_attributes(
    actions: &BTreeMap<String, CryptoAction>,
    names: Vec<String>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        if actions.get(&name) == Some(&CryptoAction::EncryptAndSign) && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}
