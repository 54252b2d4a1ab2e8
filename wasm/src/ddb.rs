//! `WasmEncryptedTables`: the core's DynamoDB request rules
//! ([`fieldseal::ddb`]) for the package's plug-in, which finds the parts of
//! each AWS SDK v3 input and seals and opens items with each table's
//! `WasmItemEncryptor`. Plain strings in, a refusal (`REQUEST_REFUSED`) out.

use std::collections::BTreeMap;
use std::rc::Rc;

use fieldseal::ddb::{sealed_under_key_id, EncryptedTables, Operation, QueryParts, RequestPart};
use fieldseal::{Error, Item};
use js_sys::{Array, Object, Promise};
use wasm_bindgen::prelude::*;

use crate::args;
use crate::convert::{item_from_js, item_to_js};
use crate::encryptor::WasmItemEncryptor;
use crate::error::{to_js, to_js_item};

type Result<T> = std::result::Result<T, JsValue>;

/// The encrypted tables of one DynamoDB client, added while the plug-in is
/// set up, before its first request.
#[wasm_bindgen]
pub struct WasmEncryptedTables {
    inner: Rc<EncryptedTables>,
}

#[wasm_bindgen]
impl WasmEncryptedTables {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> WasmEncryptedTables {
        WasmEncryptedTables {
            inner: Rc::new(EncryptedTables::new()),
        }
    }

    /// Encrypt the physical table `table` with `encryptor` (shared, not consumed).
    #[wasm_bindgen(js_name = addTable)]
    pub fn add_table(&mut self, table: &str, encryptor: &WasmItemEncryptor) -> Result<()> {
        let tables = Rc::get_mut(&mut self.inner).ok_or_else(|| {
            to_js(Error::Internal(
                "tables can only be added before the first request".into(),
            ))
        })?;
        tables.add(table, encryptor.shared()).map_err(to_js)
    }

    /// Check one table-addressed part of a request (see the core's
    /// [`RequestPart`]); `names` is ExpressionAttributeNames flattened to
    /// `[#n, name, ...]`. Parts on tables that are not encrypted pass.
    #[wasm_bindgen(js_name = checkRequest)]
    #[allow(clippy::too_many_arguments)]
    pub fn check_request(
        &self,
        operation: &str,
        table: String,
        parameters: Vec<String>,
        condition_expression: Option<String>,
        update_expression: Option<String>,
        key_condition_expression: Option<String>,
        filter_expression: Option<String>,
        projection_expression: Option<String>,
        attributes_to_get: Option<Vec<String>>,
        names: Vec<String>,
    ) -> Result<()> {
        let operation = Operation::parse(operation).map_err(to_js)?;
        let mut pairs = names.into_iter();
        let mut expression_attribute_names = fieldseal::ddb::ExpressionNames::new();
        while let (Some(key), Some(name)) = (pairs.next(), pairs.next()) {
            expression_attribute_names.insert(key, name);
        }
        let part = RequestPart {
            table,
            parameters,
            condition_expression,
            update_expression,
            key_condition_expression,
            filter_expression,
            projection_expression,
            attributes_to_get,
            expression_attribute_names,
        };
        self.inner.check(operation, &part).map_err(to_js)
    }

    /// Refuse a PartiQL statement that names an encrypted table (or whose
    /// table cannot be found). `api` names the operation in the message.
    #[wasm_bindgen(js_name = checkStatement)]
    pub fn check_statement(&self, api: &str, statement: &str) -> Result<()> {
        self.inner.check_statement(api, statement).map_err(to_js)
    }

    /// A Query or Scan on a table with beacons, as it is sent: resolves to
    /// `{ KeyConditionExpression?, FilterExpression?, ExpressionAttributeNames?,
    /// ExpressionAttributeValues? }` (absent when none or empty); what the
    /// spec refuses rejects with `REQUEST_REFUSED`. `names` as in
    /// [`Self::check_request`]; `values` the request's ExpressionAttributeValues.
    #[wasm_bindgen(
        js_name = rewriteQuery,
        unchecked_return_type = "Promise<{ KeyConditionExpression?: string; FilterExpression?: string; ExpressionAttributeNames?: { [key: string]: string }; ExpressionAttributeValues?: { [key: string]: any } }>"
    )]
    #[allow(clippy::too_many_arguments)]
    pub fn rewrite_query(
        &self,
        operation: &str,
        table: String,
        key_condition_expression: Option<String>,
        filter_expression: Option<String>,
        projection_expression: Option<String>,
        names: Vec<String>,
        values: JsValue,
    ) -> Promise {
        let read = query_request(
            operation,
            table,
            key_condition_expression,
            filter_expression,
            projection_expression,
            names,
            &values,
        );
        let tables = self.inner.clone();
        crate::promise(async move {
            let (operation, parts) = read.map_err(to_js)?;
            let sent = tables
                .rewrite_query(operation, &parts)
                .await
                .map_err(to_js)?;
            let out = Object::new();
            let set = |key: &str, value: JsValue| args::define(&out, key, &value);
            if let Some(k) = &sent.key_condition_expression {
                set("KeyConditionExpression", JsValue::from_str(k));
            }
            if let Some(f) = &sent.filter_expression {
                set("FilterExpression", JsValue::from_str(f));
            }
            if !sent.expression_attribute_names.is_empty() {
                set(
                    "ExpressionAttributeNames",
                    names_to_js(&sent.expression_attribute_names),
                );
            }
            if !sent.expression_attribute_values.is_empty() {
                set(
                    "ExpressionAttributeValues",
                    item_to_js(&sent.expression_attribute_values),
                );
            }
            Ok(out.into())
        })
    }

    /// The items a Query or Scan on a table with beacons returns to the
    /// caller: each sealed item opened (the first failure rejects, with
    /// `itemIndex`), on a multi-tenant table only those sealed under the
    /// query's beacon key (QueryTransform.dfy's Output), then filtered by the
    /// caller's original expressions, beacons removed.
    #[wasm_bindgen(js_name = openQueryItems, unchecked_return_type = "Promise<any[]>")]
    #[allow(clippy::too_many_arguments)]
    pub fn open_query_items(
        &self,
        operation: &str,
        table: String,
        key_condition_expression: Option<String>,
        filter_expression: Option<String>,
        projection_expression: Option<String>,
        names: Vec<String>,
        values: JsValue,
        items: JsValue,
    ) -> Promise {
        let read = query_request(
            operation,
            table,
            key_condition_expression,
            filter_expression,
            projection_expression,
            names,
            &values,
        )
        .and_then(|(op, parts)| Ok((op, parts, items_from_js(&items)?)));
        let tables = self.inner.clone();
        crate::promise(async move {
            let (operation, parts, sealed) = read.map_err(to_js)?;
            let encryptor = tables.get(&parts.table).ok_or_else(|| {
                to_js(Error::Internal(format!(
                    "table {:?} is not encrypted",
                    parts.table
                )))
            })?;
            let key_id = tables
                .query_beacon_key_id(operation, &parts)
                .map_err(to_js)?;
            let mut opened = Vec::with_capacity(sealed.len());
            for (i, item) in sealed.iter().enumerate() {
                let plain = encryptor
                    .decrypt_item(item)
                    .await
                    .map_err(|e| to_js_item(e, i))?;
                // Spec: ddb-sdk-integration.md#decrypt-after-query (the reference keeps a
                // multi-tenant query's own tenant's items, after opening every one).
                let keep = match &key_id {
                    Some(id) => sealed_under_key_id(item, id).map_err(|e| to_js_item(e, i))?,
                    None => true,
                };
                if keep {
                    opened.push(plain);
                }
            }
            let items = tables
                .filter_results(operation, &parts, opened)
                .map_err(to_js)?;
            let out = Array::new_with_length(items.len() as u32);
            for (i, item) in items.iter().enumerate() {
                out.set(i as u32, item_to_js(item));
            }
            Ok(out.into())
        })
    }

    /// GetNumberOfQueries: how many partitions a Query must be run on (1
    /// for a table without beacons or partitions).
    #[wasm_bindgen(js_name = numberOfQueries)]
    pub fn number_of_queries(
        &self,
        table: String,
        key_condition_expression: Option<String>,
        names: Vec<String>,
        values: JsValue,
    ) -> Result<u32> {
        let parts = query_parts(table, key_condition_expression, None, None, names, &values)
            .map_err(to_js)?;
        self.inner.number_of_queries(&parts).map_err(to_js)
    }

    /// The write version's `maximumNumberOfPartitions` (1: none, or no beacons).
    #[wasm_bindgen(js_name = partitionCount)]
    pub fn partition_count(&self, table: &str) -> u32 {
        self.inner
            .get(table)
            .and_then(|e| e.config().search.as_ref())
            .map_or(1, |search| search.curr().num_partitions)
    }

    /// UpdateItem's `UPDATED_OLD` / `UPDATED_NEW` attributes must not be signed ones.
    #[wasm_bindgen(js_name = checkUpdatedAttributes)]
    pub fn check_updated_attributes(&self, table: &str, attributes: Vec<String>) -> Result<()> {
        self.inner
            .check_updated_attributes(table, &attributes)
            .map_err(to_js)
    }
}

/// A Query or Scan's expressions as the core takes them; `names` flattened
/// to `[#n, name, ...]`, `values` an item (absent: none).
/// A Query or Scan as `rewriteQuery` and `openQueryItems` receive it: the
/// operation ("Query" / "Scan") and its parts.
fn query_request(
    operation: &str,
    table: String,
    key_condition_expression: Option<String>,
    filter_expression: Option<String>,
    projection_expression: Option<String>,
    names: Vec<String>,
    values: &JsValue,
) -> fieldseal::Result<(Operation, QueryParts)> {
    let operation = Operation::parse(operation)?;
    let parts = query_parts(
        table,
        key_condition_expression,
        filter_expression,
        projection_expression,
        names,
        values,
    )?;
    Ok((operation, parts))
}

fn query_parts(
    table: String,
    key_condition_expression: Option<String>,
    filter_expression: Option<String>,
    projection_expression: Option<String>,
    names: Vec<String>,
    values: &JsValue,
) -> fieldseal::Result<QueryParts> {
    let mut pairs = names.into_iter();
    let mut expression_attribute_names = BTreeMap::new();
    while let (Some(key), Some(name)) = (pairs.next(), pairs.next()) {
        expression_attribute_names.insert(key, name);
    }
    let expression_attribute_values = if values.is_undefined() || values.is_null() {
        Item::new()
    } else {
        item_from_js(values, "ExpressionAttributeValues")?
    };
    Ok(QueryParts {
        table,
        key_condition_expression,
        filter_expression,
        projection_expression,
        expression_attribute_names,
        expression_attribute_values,
    })
}

/// The items of a response page, as an array of items.
fn items_from_js(items: &JsValue) -> fieldseal::Result<Vec<Item>> {
    let bad = |why: &str| Error::InvalidItem(format!("Items must be an array of items ({why})"));
    let list = args::List::of(items)
        .map_err(bad)?
        .ok_or_else(|| bad("not an array"))?;
    list.items()
        .enumerate()
        .map(|(i, v)| item_from_js(&v.map_err(bad)?, &format!("item #{i}")))
        .collect()
}

fn names_to_js(names: &BTreeMap<String, String>) -> JsValue {
    let out = Object::new();
    for (key, name) in names {
        args::define(&out, key, &JsValue::from_str(name));
    }
    out.into()
}
