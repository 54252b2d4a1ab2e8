//! Sealed SQL rows (`fieldseal/sql`, issue 16) against the official item
//! encryptor (`tests/sql.rs`): one description of a sealed table, turned into
//! the official side's [`TableSpec`] and into the input of the Node tool
//! `tests/js/tools/sql-interop.mjs`, which seals rows into a live PostgreSQL
//! and reads them back as DynamoDB items (and inserts the official's items as
//! rows and opens them).

use base64::Engine;
use fieldseal::{AlgorithmSuiteId, CryptoAction, Item};
use serde_json::{json, Map, Value};

use crate::manifest::item_to_json;
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
        json!({
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
        })
    }
}

/// Whether a PostgreSQL server is named by the environment (the PG* variables
/// `scripts/pg.sh run` sets, or `DATABASE_URL`), as node-postgres reads it.
pub fn server_named() -> bool {
    ["PGHOST", "DATABASE_URL"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}
