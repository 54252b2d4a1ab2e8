//! `WasmEncryptedTables`: the core's DynamoDB request rules
//! ([`fieldseal::ddb`]) for the package's plug-in, which finds the parts of
//! each AWS SDK v3 input and seals and opens items with each table's
//! `WasmItemEncryptor`. Plain strings in, a refusal (`REQUEST_REFUSED`) out.

use std::rc::Rc;

use fieldseal::ddb::{EncryptedTables, Operation, RequestPart};
use fieldseal::Error;
use wasm_bindgen::prelude::*;

use crate::encryptor::WasmItemEncryptor;
use crate::error::to_js;

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

    /// UpdateItem's `UPDATED_OLD` / `UPDATED_NEW` attributes must not be signed ones.
    #[wasm_bindgen(js_name = checkUpdatedAttributes)]
    pub fn check_updated_attributes(&self, table: &str, attributes: Vec<String>) -> Result<()> {
        self.inner
            .check_updated_attributes(table, &attributes)
            .map_err(to_js)
    }
}
