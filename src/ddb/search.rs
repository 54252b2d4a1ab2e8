//! Query and Scan on an encrypted table with beacons: the request rewritten
//! to beacon names and values before it is sent, the opened results
//! filtered by the original expression, and the number of queries a
//! partitioned table needs.
//! Spec: ddb-support.md#queryinputforbeacons, #queryoutputforbeacons,
//! #scaninputforbeacons, #scanoutputforbeacons; reference code:
//! DDBSupport.dfy (QueryInputForBeacons ...), Transforms' QueryTransform.dfy,
//! ScanTransform.dfy, GetNumberOfQueries.dfy.

use std::collections::BTreeMap;

use super::{EncryptedTables, Operation};
use crate::beacon::filter::{self, ExprContext, Names};
use crate::beacon::info::RESERVED_PREFIX;
use crate::beacon::MaybeKeyId;
use crate::error::{Error, Result};
use crate::format::header::PartialHeader;
use crate::format::HEADER_FIELD;
use crate::item::{AttributeValue, Item};

/// The parts of a Query or Scan request that beacons change, as the caller
/// wrote them or as rewritten. An empty map stands for an absent one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryParts {
    pub table: String,
    pub key_condition_expression: Option<String>,
    pub filter_expression: Option<String>,
    /// Read only: the rewrite must not remap a `#name` it uses. Never changed.
    pub projection_expression: Option<String>,
    pub expression_attribute_names: BTreeMap<String, String>,
    /// ExpressionAttributeValues (placeholder to value).
    pub expression_attribute_values: Item,
}

impl EncryptedTables {
    /// The request to send for a Query or Scan (QueryInputForBeacons,
    /// ScanInputForBeacons). On a table with beacons, attributes that have
    /// a beacon become `aws_dbe_b_<name>` and their values beacon values;
    /// ExpressionAttributeValues keeps the values used (without
    /// `:aws_dbe_partition`); a Query names its partition with
    /// `:aws_dbe_partition` (default 0). What the spec refuses is refused
    /// with [`Error::RequestRefused`] before anything is sent. On a table
    /// without beacons the request is unchanged, and an expression reading
    /// an encrypted attribute is refused (as [`EncryptedTables::check`]
    /// does). Other tables pass unchanged.
    pub async fn rewrite_query(
        &self,
        operation: Operation,
        part: &QueryParts,
    ) -> Result<QueryParts> {
        let Some(encryptor) = self.get(&part.table) else {
            return Ok(part.clone());
        };
        let scan = query_or_scan(operation)?;
        let key_expr = if scan {
            None
        } else {
            part.key_condition_expression.as_deref()
        };
        let filter_expr = part.filter_expression.as_deref();
        let names = &part.expression_attribute_names;
        let values = &part.expression_attribute_values;
        let config = encryptor.config();
        let refused = |e| refused_on(operation, &part.table, e);
        filter::validate_expression_length(key_expr, "KeyConditionExpression").map_err(refused)?;
        filter::validate_expression_length(filter_expr, "FilterExpression").map_err(refused)?;
        let Some(search) = &config.search else {
            super::check_query_without_beacons(
                operation,
                &part.table,
                &config.attribute_actions_on_encrypt,
                key_expr,
                filter_expr,
                names,
            )?;
            return Ok(part.clone());
        };
        let bv = search.curr();
        let rewritten = async {
            if scan {
                let key_id = filter::get_beacon_key_id(bv, None, filter_expr, values, names)?;
                filter::test_partition_for_scan(values)?;
                let context = ExprContext {
                    key_expr: None,
                    filter_expr: filter_expr.map(str::to_owned),
                    values: values.clone(),
                    names: names.clone(),
                };
                filter::do_beaconize(bv, &context, &key_id, 0, 1).await
            } else {
                let key_id = filter::get_beacon_key_id(bv, key_expr, filter_expr, values, names)?;
                let (new_values, partition) = filter::extract_partition(
                    bv,
                    key_expr,
                    filter_expr,
                    names,
                    values,
                    &config.attribute_actions_on_encrypt,
                )?;
                let queries = filter::get_num_queries(bv, key_expr, values, names)?;
                if queries <= partition {
                    return Err(Error::RequestRefused(format!(
                        "Partition number was {partition} but should have been less than number of queries : {queries}"
                    )));
                }
                let context = ExprContext {
                    key_expr: key_expr.map(str::to_owned),
                    filter_expr: filter_expr.map(str::to_owned),
                    values: new_values,
                    names: names.clone(),
                };
                filter::do_beaconize(bv, &context, &key_id, partition, queries).await
            }
        }
        .await
        .map_err(refused)?;
        if let Some(projection) = &part.projection_expression {
            check_projection_names(projection, names, &rewritten.names).map_err(refused)?;
        }
        Ok(QueryParts {
            table: part.table.clone(),
            key_condition_expression: if scan {
                part.key_condition_expression.clone()
            } else {
                rewritten.key_expr
            },
            filter_expression: rewritten.filter_expr,
            projection_expression: part.projection_expression.clone(),
            expression_attribute_names: rewritten.names,
            expression_attribute_values: rewritten.values,
        })
    }

    /// The opened items of a Query or Scan, as the caller gets them
    /// (QueryOutputForBeacons, ScanOutputForBeacons): on a table with
    /// beacons, only those for which the `original` key condition and
    /// filter hold (a truncated beacon also matches other values); every
    /// `aws_dbe_` attribute removed. `items` are already decrypted.
    pub fn filter_results(
        &self,
        operation: Operation,
        original: &QueryParts,
        items: Vec<Item>,
    ) -> Result<Vec<Item>> {
        let Some(encryptor) = self.get(&original.table) else {
            return Ok(items);
        };
        let scan = query_or_scan(operation)?;
        let filter_expr = original.filter_expression.as_deref();
        let refused = |e| refused_on(operation, &original.table, e);
        let items = match &encryptor.config().search {
            None => items,
            Some(search) => {
                let key_expr = if scan {
                    None
                } else {
                    original.key_condition_expression.as_deref()
                };
                filter::validate_expression_length(key_expr, "KeyConditionExpression")
                    .map_err(refused)?;
                filter::validate_expression_length(filter_expr, "FilterExpression")
                    .map_err(refused)?;
                filter::filter_results(
                    search.curr(),
                    items,
                    key_expr,
                    filter_expr,
                    &original.expression_attribute_names,
                    &original.expression_attribute_values,
                )
                .map_err(refused)?
            }
        };
        Ok(items.into_iter().map(remove_beacons).collect())
    }

    /// How many queries (one per partition, `:aws_dbe_partition` 0 to N-1)
    /// a Query needs to find every match (GetNumberOfQueries): 1 for a table
    /// without beacons or partitions, or that is not encrypted.
    /// Spec: changes/2025-08-25-beacon-partitions
    pub fn number_of_queries(&self, original: &QueryParts) -> Result<u32> {
        let Some(search) = self
            .get(&original.table)
            .and_then(|e| e.config().search.as_ref())
        else {
            return Ok(1);
        };
        let key_expr = original.key_condition_expression.as_deref();
        let refused = |e| refused_on(Operation::Query, &original.table, e);
        filter::validate_expression_length(key_expr, "KeyConditionExpression").map_err(refused)?;
        filter::get_num_queries(
            search.curr(),
            key_expr,
            &original.expression_attribute_values,
            &original.expression_attribute_names,
        )
        .map_err(refused)
    }

    /// The beacon key id a Query or Scan on a multi-tenant table (a multi
    /// key store) names in its values, if any. The reference keeps only the
    /// result items sealed under that tenant's branch key (its single
    /// wrapped key's provider info is the id): see [`sealed_under_key_id`].
    /// `None` for any other table or query.
    pub fn query_beacon_key_id(
        &self,
        operation: Operation,
        original: &QueryParts,
    ) -> Result<Option<String>> {
        let Some(search) = self
            .get(&original.table)
            .and_then(|e| e.config().search.as_ref())
        else {
            return Ok(None);
        };
        let scan = query_or_scan(operation)?;
        let key_expr = if scan {
            None
        } else {
            original.key_condition_expression.as_deref()
        };
        let names: &Names = &original.expression_attribute_names;
        let id = filter::get_beacon_key_id(
            search.curr(),
            key_expr,
            original.filter_expression.as_deref(),
            &original.expression_attribute_values,
            names,
        )
        .map_err(|e| refused_on(operation, &original.table, e))?;
        Ok(match id {
            MaybeKeyId::KeyId(id) => Some(id),
            MaybeKeyId::DontUseKeyId | MaybeKeyId::ShouldHaveKeyId => None,
        })
    }
}

/// Whether a sealed result item of a multi-tenant query belongs to the
/// query's tenant: its one wrapped data key's provider info is `key_id`
/// (QueryTransform.dfy / ScanTransform.dfy Output). An item without a
/// header (plaintext, under a plaintext override) is kept; an item with
/// more than one wrapped key fails the query, as in the reference.
pub fn sealed_under_key_id(sealed: &Item, key_id: &str) -> Result<bool> {
    let Some(AttributeValue::B(header)) = sealed.get(HEADER_FIELD) else {
        return Ok(true);
    };
    let header = PartialHeader::parse(header)?;
    match header.encrypted_data_keys.as_slice() {
        [edk] => Ok(edk.key_provider_info == key_id.as_bytes()),
        edks => Err(Error::InvalidItem(format!(
            "a result of a multi-tenant query has {} encrypted data keys, not one",
            edks.len()
        ))),
    }
}

/// The rewrite points a `#name` of a beaconized attribute at its beacon
/// (`#e` -> `aws_dbe_b_email`); a ProjectionExpression using that `#name`
/// would then return the beacon instead of the attribute, and the items
/// could not be verified. The reference sends it and fails to decrypt;
/// this refuses it first.
fn check_projection_names(projection: &str, before: &Names, after: &Names) -> Result<()> {
    for token in filter::parse_expr(projection, "ProjectionExpression")? {
        let filter::Token::Attr(path) = token else {
            continue;
        };
        for name in path.split(['.', '[']).filter(|n| n.starts_with('#')) {
            if before.get(name) != after.get(name) {
                return Err(Error::RequestRefused(format!(
                    "ProjectionExpression uses {name}, which the beacon rewrite of the key condition or filter points at {}; use another name in ProjectionExpression",
                    after.get(name).map_or("", String::as_str)
                )));
            }
        }
    }
    Ok(())
}

/// Query (false) or Scan (true); the rewrite knows no other operation.
fn query_or_scan(operation: Operation) -> Result<bool> {
    match operation {
        Operation::Query => Ok(false),
        Operation::Scan => Ok(true),
        other => Err(Error::Internal(format!(
            "beacons rewrite Query and Scan, not {}",
            other.api()
        ))),
    }
}

/// A refusal, prefixed with the API and the table as [`EncryptedTables::check`] words them.
fn refused_on(operation: Operation, table: &str, e: Error) -> Error {
    match e {
        Error::RequestRefused(why) => Error::RequestRefused(format!(
            "{} on encrypted table {table:?}: {why}",
            operation.api()
        )),
        other => other,
    }
}

/// RemoveBeacons: every `aws_dbe_` attribute dropped. Spec: ddb-support.md#removebeacons
fn remove_beacons(mut item: Item) -> Item {
    item.retain(|name, _| !name.starts_with(RESERVED_PREFIX));
    item
}
