//! Queries that are not DynamoDB requests (SQL rows, issue 16): the beacon
//! values to compare stored `aws_dbe_b_<name>` columns with, and the
//! plaintext predicate that drops a truncated beacon's false positives.
//!
//! The conditions are written as the filter expression a DynamoDB Scan
//! would carry (`#e0 = :e0 AND begins_with(#b0, :b0)`), so they go through
//! the same rewrite ([`filter::beaconize`]) and the same check of opened
//! items ([`filter::expression_holds`]) as the DynamoDB plug-in's: the rules
//! (which attribute has a beacon, compound parts, PartOnly, encrypted
//! attributes without a beacon, the multi key store's key id) stay there.

use super::ItemEncryptor;
use crate::beacon::filter::{self, ExprContext, Names};
use crate::error::{Error, Result};
use crate::item::{AttributeValue, Item};

/// The conditions of one query, all of which must hold: attribute name to
/// the plaintext value it equals, and to the prefix it begins with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryConditions {
    pub equal: Item,
    pub begins_with: Item,
}

/// What one condition compares in storage.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryValue {
    /// The condition's attribute (a column, a compound beacon, a virtual field).
    pub name: String,
    /// Whether the condition is `begins_with` (else equality).
    pub begins_with: bool,
    /// The stored attribute: `aws_dbe_b_<name>` for a beacon, else the name.
    pub attribute: String,
    /// Whether `attribute` is a beacon (its values are beacon strings).
    pub beacon: bool,
    /// The values to match, any of them: one per distinct beacon value over
    /// the table's partitions (a beacon with partitions has several); the
    /// plaintext value itself for an attribute without a beacon.
    pub values: Vec<AttributeValue>,
}

/// The `#name` and `:value` placeholders of each condition, equalities
/// first, each side in its map's order.
fn placeholders(conditions: &QueryConditions) -> Vec<(String, String)> {
    let equal = (0..conditions.equal.len()).map(|i| (format!("#e{i}"), format!(":e{i}")));
    let begins = (0..conditions.begins_with.len()).map(|i| (format!("#b{i}"), format!(":b{i}")));
    equal.chain(begins).collect()
}

/// The conditions as a filter expression.
struct Expression {
    expr: String,
    names: Names,
    values: Item,
    /// Each condition's `#name` and `:value`, in [`placeholders`]' order.
    placeholders: Vec<(String, String)>,
}

/// The conditions as a filter expression, its names and its values. Names
/// and values are placeholders, so no attribute name or value is parsed as
/// expression syntax.
fn expression(conditions: &QueryConditions) -> Result<Expression> {
    let mut terms = Vec::new();
    let mut names = Names::new();
    let mut values = Item::new();
    let placeholders = placeholders(conditions);
    let all = conditions.equal.iter().chain(&conditions.begins_with);
    for (i, ((n, v), (name, value))) in placeholders.iter().zip(all).enumerate() {
        terms.push(match i < conditions.equal.len() {
            true => format!("{n} = {v}"),
            false => format!("begins_with({n}, {v})"),
        });
        names.insert(n.clone(), name.clone());
        values.insert(v.clone(), value.clone());
    }
    if terms.is_empty() {
        return Err(Error::RequestRefused(
            "a query needs at least one condition".into(),
        ));
    }
    Ok(Expression {
        expr: terms.join(" AND "),
        names,
        values,
        placeholders,
    })
}

impl ItemEncryptor {
    /// The stored attribute and values each condition compares (see
    /// [`QueryValue`]), one per condition. An ENCRYPT_AND_SIGN attribute without a beacon, or a
    /// condition the DynamoDB plug-in would refuse, is
    /// [`Error::RequestRefused`] naming the attribute.
    /// Spec: ddb-support.md#scaninputforbeacons (the same rewrite)
    pub async fn query_values(&self, conditions: &QueryConditions) -> Result<Vec<QueryValue>> {
        let Expression {
            expr,
            names,
            values,
            placeholders,
        } = expression(conditions)?;
        // One entry per condition, equalities first, in the order of `expression`.
        let mut out: Vec<QueryValue> =
            [(&conditions.equal, false), (&conditions.begins_with, true)]
                .into_iter()
                .flat_map(|(map, begins_with)| {
                    map.iter().map(move |(name, value)| QueryValue {
                        name: name.clone(),
                        begins_with,
                        attribute: name.clone(),
                        beacon: false,
                        values: vec![value.clone()],
                    })
                })
                .collect();
        let Some(search) = &self.config.search else {
            filter::test_beaconize(
                &self.config.attribute_actions_on_encrypt,
                None,
                Some(&expr),
                &names,
            )?;
            return Ok(out);
        };
        let bv = search.curr();
        let key_id = filter::get_beacon_key_id(bv, None, Some(&expr), &values, &names)?;
        let context = ExprContext {
            key_expr: None,
            filter_expr: Some(expr),
            values,
            names,
        };
        // Every partition's value: a row may be stored under any of them.
        for partition in 0..bv.num_partitions.max(1) {
            // Boxed: the rewrite's state machine stays out of this one (size).
            let rewritten = Box::pin(filter::beaconize(bv, &context, &key_id, partition)).await?;
            for (q, (n, v)) in out.iter_mut().zip(&placeholders) {
                let (Some(attribute), Some(value)) =
                    (rewritten.names.get(n), rewritten.values.get(v))
                else {
                    return Err(Error::Internal(format!("the rewrite lost {n}")));
                };
                if partition == 0 {
                    q.beacon = *attribute != q.name;
                    q.attribute = attribute.clone();
                    q.values.clear();
                }
                if !q.values.contains(value) {
                    q.values.push(value.clone());
                }
            }
        }
        Ok(out)
    }

    /// For each opened (plaintext) item, whether every condition holds, by
    /// the rule the DynamoDB plug-in drops a query's false positives with.
    /// Spec: ddb-support.md#queryoutputforbeacons
    pub fn conditions_hold(
        &self,
        conditions: &QueryConditions,
        items: &[Item],
    ) -> Result<Vec<bool>> {
        let e = expression(conditions)?;
        let bv = self.config.search.as_ref().map(|search| search.curr());
        filter::expression_holds(bv, &e.expr, &e.names, &e.values, items)
    }
}
