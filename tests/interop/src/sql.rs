//! Sealed SQL rows (`fieldseal/sql`, issue 16) against the official item
//! encryptor (`tests/sql.rs`): one description of a sealed table, turned into
//! the official side's [`TableSpec`] and into the input of the Node tool
//! `tests/js/tools/sql-interop.mjs`, which seals rows into a live PostgreSQL
//! and reads them back as DynamoDB items (and inserts the official's items as
//! rows and opens them). A table with beacons (`search`) is the search
//! interop's [`SearchTable`] on the official side ([`SqlTable::search_table`]),
//! sealed and opened by the official transforms client
//! ([`official_seal`], [`official_open`]).

use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use base64::Engine;
use fieldseal::{AlgorithmSuiteId, CryptoAction, Item};
use serde_json::{json, Map, Value};

use crate::convert::{item_from_ddb, item_to_ddb};
use crate::manifest::item_to_json;
use crate::search::{OfficialSearch, SearchKey, SearchTable};
use crate::spec::{KeySpec, TableSpec};

/// One column: its action, its `fieldseal/sql` type (how its value maps to an
/// attribute value), and, for a column that is not encrypted, the
/// application's SQL definition of it (`ddl()` prints only the sealed ones).
pub struct SqlColumn {
    pub name: &'static str,
    pub action: CryptoAction,
    /// `text`, `numeric`, `boolean`, `jsonb`, `date` or `bytea`.
    pub sql_type: &'static str,
    /// E.g. `text PRIMARY KEY`; `None` for an encrypted column (a `bytea` from `ddl()`).
    pub definition: Option<&'static str>,
}

/// A sealed table as both sides configure it: the logical table name is the
/// SQL table's `name`, the partition key its primary key column.
pub struct SqlTable {
    pub name: &'static str,
    pub primary_key: &'static str,
    pub columns: Vec<SqlColumn>,
    pub suite: AlgorithmSuiteId,
    /// A raw AES keyring (the Node tool builds only that one).
    pub key: KeySpec,
    /// The `search` config as the npm package takes it, without the
    /// versions' `keyStore` (the search interop's shape, see
    /// [`SearchTable::search`]): beacons, each a column `aws_dbe_b_<name>`.
    pub search: Option<Value>,
}

impl SqlTable {
    /// The official item encryptor's configuration: `fieldseal/sql`'s
    /// (DO_NOTHING columns are its allowed unsigned attributes).
    pub fn spec(&self) -> TableSpec {
        TableSpec {
            logical_table_name: self.name.to_owned(),
            partition_key_name: self.primary_key.to_owned(),
            sort_key_name: None,
            actions: self
                .columns
                .iter()
                .map(|c| (c.name.to_owned(), c.action))
                .collect(),
            allowed_unsigned_attributes: self
                .columns
                .iter()
                .filter(|c| c.action == CryptoAction::DoNothing)
                .map(|c| c.name.to_owned())
                .collect(),
            allowed_unsigned_attribute_prefix: None,
            suite: self.suite,
        }
    }

    /// The official side of a table with beacons: the same config as a
    /// searchable DynamoDB table whose physical and logical name is the SQL
    /// table's, for [`crate::search::official_search_clients`]; `None`
    /// without `search`.
    pub fn search_table(&self) -> Option<SearchTable> {
        let KeySpec::Aes {
            namespace,
            name,
            key,
        } = &self.key
        else {
            panic!("sql-interop.mjs builds a raw AES keyring only");
        };
        Some(SearchTable {
            name: self.name.to_owned(),
            spec: self.spec(),
            key: SearchKey::Aes {
                namespace: namespace.clone(),
                name: name.clone(),
                key: key.clone(),
            },
            search: self.search.clone()?,
            indexes: Vec::new(),
        })
    }

    /// IN.json of `sql-interop.mjs`: `rows` (plaintext items) for
    /// `fieldseal/sql` to seal into PostgreSQL, `official` (items the
    /// official SDK sealed) to insert as rows and open.
    pub fn tool_input(&self, rows: &[(String, Item)], official: &[(String, Item)]) -> Value {
        let KeySpec::Aes {
            namespace,
            name,
            key,
        } = &self.key
        else {
            panic!("sql-interop.mjs builds a raw AES keyring only");
        };
        let columns: Map<String, Value> = self
            .columns
            .iter()
            .map(|c| {
                (
                    c.name.to_owned(),
                    json!({ "action": c.action.name(), "type": c.sql_type }),
                )
            })
            .collect();
        let sql_types: Map<String, Value> = self
            .columns
            .iter()
            .filter_map(|c| c.definition.map(|d| (c.name.to_owned(), json!(d))))
            .collect();
        let list = |items: &[(String, Item)]| -> Vec<Value> {
            items
                .iter()
                .map(|(label, item)| json!({ "label": label, "item": item_to_json(item) }))
                .collect()
        };
        let mut input = json!({
            "key": {
                "namespace": namespace,
                "name": name,
                "key": base64::engine::general_purpose::STANDARD.encode(key),
            },
            "table": {
                "name": self.name,
                "primaryKey": [self.primary_key],
                "columns": columns,
                "algorithmSuiteId": format!("0x{:04x}", self.suite.id()),
            },
            "sqlTypes": sql_types,
            "rows": list(rows),
            "official": list(official),
        });
        if let Some(search) = &self.search {
            input["table"]["search"] = search.clone();
        }
        input
    }
}

/// `item` sealed by the official client for `table` (one of `official`'s
/// tables): the item of its `PutItemInputTransform`, with the beacon
/// attributes the `DbEsdkInterceptor` would write to DynamoDB.
pub async fn official_seal(
    official: &OfficialSearch,
    table: &str,
    item: &Item,
) -> Result<Item, String> {
    let input = PutItemInput::builder()
        .table_name(table)
        .set_item(Some(item_to_ddb(item)))
        .build()
        .map_err(|e| format!("PutItemInput: {e}"))?;
    let out = official
        .transforms
        .put_item_input_transform()
        .sdk_input(input)
        .send()
        .await
        .map_err(|e| format!("official PutItemInputTransform: {e}"))?;
    let sealed = out
        .transformed_input
        .and_then(|i| i.item)
        .ok_or("PutItemInputTransform returned no item")?;
    item_from_ddb(&sealed)
}

/// A stored item (header, footer, beacons) as the official client opens
/// it when GetItem returns it from `table`, keyed by `partition_key`: the
/// `GetItemOutputTransform`'s item (beacon attributes removed).
pub async fn official_open(
    official: &OfficialSearch,
    table: &str,
    partition_key: &str,
    stored: &Item,
) -> Result<Item, String> {
    let key = stored
        .get(partition_key)
        .ok_or_else(|| format!("the item has no partition key {partition_key:?}"))?;
    let key: Item = [(partition_key.to_owned(), key.clone())].into();
    let input = GetItemInput::builder()
        .table_name(table)
        .set_key(Some(item_to_ddb(&key)))
        .build()
        .map_err(|e| format!("GetItemInput: {e}"))?;
    let output = GetItemOutput::builder()
        .set_item(Some(item_to_ddb(stored)))
        .build();
    let out = official
        .transforms
        .get_item_output_transform()
        .original_input(input)
        .sdk_output(output)
        .send()
        .await
        .map_err(|e| format!("official GetItemOutputTransform: {e}"))?;
    let opened = out
        .transformed_output
        .and_then(|o| o.item)
        .ok_or("GetItemOutputTransform returned no item")?;
    item_from_ddb(&opened)
}

/// Whether a PostgreSQL server is named by the environment (the PG* variables
/// `scripts/pg.sh run` sets, or `DATABASE_URL`), as node-postgres reads it.
pub fn server_named() -> bool {
    ["PGHOST", "DATABASE_URL"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}
