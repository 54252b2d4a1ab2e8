//! fieldseal's DynamoDB plug-in (`fieldseal/dynamodb`, npm package, in Node)
//! against the official `aws_db_esdk::intercept::DbEsdkInterceptor` on an
//! `aws_sdk_dynamodb::Client`, both over one moto (DynamoDB + KMS) started
//! here through the project's launcher (tools/moto). Issue 14's interop proof:
//!
//! - four encrypted tables, each configured alike on both sides: raw AES and
//!   KMS (a symmetric key created in moto) keyrings, with and without a sort
//!   key, suites 0x6700 and 0x6701, a logical name unlike the physical one;
//!   items carry all ten attribute types both ENCRYPT_AND_SIGN and SIGN_ONLY,
//!   SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT keys and attribute (the tables
//!   with a sort key), a DO_NOTHING attribute under the allowed prefix `:`
//!   and, on one item per table, a `:` attribute with no action at all;
//!   a fifth table is configured on neither side;
//! - the official interceptor writes items (PutItem); the stored items are
//!   checked to be sealed; the official interceptor reads them back (a
//!   self-check of this side);
//! - the plug-in (tests/js/tools/plugin-interop.mjs, run once) reads them with
//!   GetItem, Query (paged on the tables with a sort key), Scan (pages of 2)
//!   and one BatchGetItem over all five tables, and writes new items with
//!   PutItem (with a condition on the partition key), one BatchWriteItem over
//!   all five tables and one TransactWriteItems over the four encrypted ones;
//! - every item read by the plug-in is compared here, attribute by attribute,
//!   with the plaintext the official interceptor wrote; pages end on the key
//!   of their last item; the plug-in's items are checked to be sealed, and
//!   the official interceptor reads each (GetItem, and a Query per table) to
//!   the plaintext the plug-in was given.
//!
//! Runs without libtest (`harness = false`), as tests/keystore.rs: one line
//! per case, then `plugin interop: N passed, M failed`. Without moto, or
//! without the npm package built with the plug-in (`pkg/dist/dynamodb.js`):
//! a loud skip, or a failure under CI (env `CI`).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue as Ddb, ScalarAttributeType};
use fieldseal::{AlgorithmSuiteId, AttributeValue as V, CryptoAction, Item};
use fieldseal_interop::aws_clients::{create_kms_key, dynamodb_client, Endpoint};
use fieldseal_interop::convert::{item_from_ddb, item_to_ddb, show, to_ddb};
use fieldseal_interop::ddb_equal;
use fieldseal_interop::intercept::{
    create_table, intercepted_client, plugin_ready, PluginTable, TableKey,
};
use fieldseal_interop::manifest::{item_from_json, item_to_json, value_to_json};
use fieldseal_interop::moto::Moto;
use fieldseal_interop::npm;
use fieldseal_interop::runner::{ensure, need, run_with_moto, sdk_setup, Runner};
use fieldseal_interop::spec::{aes_key_bytes, TableSpec};
use serde_json::{json, Map, Value};

const REGION: &str = "us-west-2";
const PK: &str = "pk";
const SK: &str = "sk";
/// The SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute of the tables with a sort key.
const CONTEXT_ATTR: &str = "tenant";
/// The table neither side configures.
const PLAIN_TABLE: &str = "plugin-plain";
const NODE_TOOL: &str = "plugin-interop.mjs";
/// The Scan page size (`Limit`): the tables hold 3 items when scanned.
const SCAN_PAGE: u32 = 2;
/// The ten types, as attribute name stems: `<stem>_enc` is ENCRYPT_AND_SIGN,
/// `<stem>_sign` SIGN_ONLY.
const TYPES: [&str; 10] = ["s", "n", "b", "bool", "null", "l", "m", "ss", "ns", "bs"];
/// The official interceptor's items, by index; the first two share a
/// partition key on the tables with a sort key.
const OFFICIAL_ITEMS: [u32; 3] = [1, 2, 3];

// ------------------------------------------------------------------ tables

fn suite_hex(suite: AlgorithmSuiteId) -> &'static str {
    match suite {
        AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384 => "0x6700",
        AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => "0x6701",
    }
}

fn composite(table: &PluginTable) -> bool {
    table.spec.sort_key_name.is_some()
}

/// `name (keyring, key schema, suite)`.
fn describe(table: &PluginTable) -> String {
    format!(
        "{} ({}, {}, {})",
        table.name,
        table.key.label(),
        if composite(table) { "pk+sk" } else { "pk only" },
        suite_hex(table.spec.suite)
    )
}

/// The four encrypted tables: each keyring with and without a sort key,
/// and each suite once per keyring.
fn plugin_tables(kms_key_arn: &str) -> Vec<PluginTable> {
    use AlgorithmSuiteId::{
        AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 as ECDSA,
        AesGcmHkdfSha512CommitKeySymsigHmacSha384 as NO_ECDSA,
    };
    let aes = TableKey::Aes {
        namespace: "fieldseal-interop".into(),
        name: "plugin-aes-256".into(),
        key: aes_key_bytes(32),
    };
    let kms = TableKey::Kms {
        arn: kms_key_arn.to_owned(),
    };
    [
        ("plugin-aes-composite", aes.clone(), true, NO_ECDSA),
        ("plugin-aes-simple", aes, false, ECDSA),
        ("plugin-kms-composite", kms.clone(), true, ECDSA),
        ("plugin-kms-simple", kms, false, NO_ECDSA),
    ]
    .into_iter()
    .map(|(name, key, with_sort_key, suite)| PluginTable {
        name: name.to_owned(),
        spec: table_spec(name, with_sort_key, suite),
        key,
    })
    .collect()
}

/// With a sort key: keys and [`CONTEXT_ATTR`] are
/// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT (context v2); without one, the
/// partition key is SIGN_ONLY (v1).
fn table_spec(name: &str, with_sort_key: bool, suite: AlgorithmSuiteId) -> TableSpec {
    let mut actions = BTreeMap::new();
    if with_sort_key {
        for key in [PK, SK, CONTEXT_ATTR] {
            actions.insert(
                key.to_owned(),
                CryptoAction::SignAndIncludeInEncryptionContext,
            );
        }
    } else {
        actions.insert(PK.to_owned(), CryptoAction::SignOnly);
    }
    for stem in TYPES {
        actions.insert(format!("{stem}_enc"), CryptoAction::EncryptAndSign);
        actions.insert(format!("{stem}_sign"), CryptoAction::SignOnly);
    }
    actions.insert(":note".to_owned(), CryptoAction::DoNothing);
    TableSpec {
        logical_table_name: format!("logical-{name}"),
        partition_key_name: PK.to_owned(),
        sort_key_name: with_sort_key.then(|| SK.to_owned()),
        actions,
        allowed_unsigned_attributes: Vec::new(),
        allowed_unsigned_attribute_prefix: Some(":".to_owned()),
        suite,
    }
}

// ------------------------------------------------------------------- items

/// Item `i` of `group`'s key: `(group, i)` with a sort key, `group#i` without.
fn item_key(table: &PluginTable, group: &str, i: u32) -> Item {
    let mut key = Item::new();
    if composite(table) {
        key.insert(PK.into(), V::S(group.into()));
        key.insert(SK.into(), V::N(i.to_string()));
    } else {
        key.insert(PK.into(), V::S(format!("{group}#{i}")));
    }
    key
}

/// The partition key of the official interceptor's item `i`.
fn official_group(i: u32) -> &'static str {
    if i <= 2 {
        "off-a"
    } else {
        "off-b"
    }
}

/// One value of type `stem`, varying with `n` and with `enc` (so the
/// encrypted and the signed-only attribute of a type differ).
fn typed_value(stem: &str, n: u32, enc: bool) -> V {
    let tag = if enc { "enc" } else { "sign" };
    let byte = n as u8;
    match stem {
        "s" => V::S(format!("{tag} {n}: ünïcødé ✓ 🔐")),
        "n" => V::N(if enc {
            format!("{n}{n}.25")
        } else {
            format!("-{n}00")
        }),
        "b" => V::B(vec![byte, 0, 255, if enc { 1 } else { 2 }]),
        "bool" => V::Bool(n.is_multiple_of(2) == enc),
        "null" => V::Null,
        "l" => V::L(vec![
            V::S(format!("{tag}-{n}")),
            V::N(format!("{n}.5")),
            V::Bool(enc),
            V::Null,
            V::B(vec![byte, 7]),
            V::M([("k".to_string(), V::S("v".into()))].into()),
            V::L(vec![V::N("0".into()), V::L(Vec::new())]),
            V::Ss(vec!["y".into(), "x".into()]),
        ]),
        "m" => V::M(
            [
                ("name".to_string(), V::S(format!("{tag} map {n}"))),
                ("count".to_string(), V::N(n.to_string())),
                ("bin".to_string(), V::B(vec![9, byte])),
                ("empty".to_string(), V::M(Item::new())),
                (
                    "nested".to_string(),
                    V::M(
                        [(
                            "deep".to_string(),
                            V::L(vec![V::Bool(true), V::Ns(vec!["2".into(), "1".into()])]),
                        )]
                        .into(),
                    ),
                ),
            ]
            .into(),
        ),
        "ss" => V::Ss(vec!["zeta".into(), "alpha".into(), format!("{tag}-{n}")]),
        "ns" => V::Ns(vec!["10".into(), "-2.5".into(), n.to_string()]),
        "bs" => V::Bs(vec![
            vec![byte],
            vec![0, 1],
            vec![255, 254, if enc { 1 } else { 2 }],
        ]),
        other => unreachable!("no type stem {other}"),
    }
}

/// The plaintext item `i` of `group`: its key, every type encrypted and
/// signed-only, the context attribute on the tables with a sort key, a
/// DO_NOTHING `:note` and, for item 1, `:extra` (no action; under the prefix).
fn plaintext(table: &PluginTable, group: &str, i: u32) -> Item {
    let mut item = item_key(table, group, i);
    if composite(table) {
        item.insert(CONTEXT_ATTR.into(), V::S(format!("tenant of {group}")));
    }
    for stem in TYPES {
        item.insert(format!("{stem}_enc"), typed_value(stem, i, true));
        item.insert(format!("{stem}_sign"), typed_value(stem, i, false));
    }
    item.insert(":note".into(), V::S(format!("unsigned note {group} {i}")));
    if i == 1 {
        item.insert(
            ":extra".into(),
            V::M([("free".to_string(), V::S("no action configured".into()))].into()),
        );
    }
    item
}

fn plain_item(id: &str) -> Item {
    [
        (PK.to_string(), V::S(id.into())),
        ("text".to_string(), V::S(format!("plaintext {id}"))),
        ("bytes".to_string(), V::B(vec![1, 2, 3])),
        ("set".to_string(), V::Ns(vec!["1".into(), "2".into()])),
    ]
    .into()
}

/// The key attributes of `item` under `table`'s key schema.
fn key_of(spec: &TableSpec, item: &Item) -> Item {
    std::iter::once(&spec.partition_key_name)
        .chain(spec.sort_key_name.as_ref())
        .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
        .collect()
}

/// A key as one comparable string (for matching items regardless of order).
fn key_text(key: &Item) -> String {
    key.iter()
        .map(|(k, v)| format!("{k}={}", show(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// `got` equals `want` attribute by attribute (numbers by value, sets in
/// any order); every difference listed.
fn check_item(want: &Item, got: &Item) -> Result<(), String> {
    let mut diffs = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => diffs.push(format!("missing {k:?}")),
            Some(g) if !ddb_equal(g, w) => {
                diffs.push(format!("{k:?}: got {} want {}", show(g), show(w)))
            }
            _ => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        diffs.push(format!("unexpected attribute {k:?}"));
    }
    ensure(diffs.is_empty(), || {
        let key: Item = want
            .iter()
            .filter(|(k, _)| *k == PK || *k == SK)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        format!("item {}: {}", key_text(&key), diffs.join("; "))
    })
}

/// `got` holds exactly the `want` items (matched by key, any order), each
/// equal to its plaintext.
fn check_item_set(spec: &TableSpec, want: &[Item], got: &[Item]) -> Result<(), String> {
    let by_key = |items: &[Item]| -> BTreeMap<String, Item> {
        items
            .iter()
            .map(|i| (key_text(&key_of(spec, i)), i.clone()))
            .collect()
    };
    let (want_map, got_map) = (by_key(want), by_key(got));
    ensure(
        got.len() == want.len() && got_map.len() == got.len(),
        || {
            format!(
                "{} items (keys {:?}), want {} (keys {:?})",
                got.len(),
                got_map.keys().collect::<Vec<_>>(),
                want.len(),
                want_map.keys().collect::<Vec<_>>()
            )
        },
    )?;
    for (key, w) in &want_map {
        let g = got_map
            .get(key)
            .ok_or_else(|| format!("no item {key}; got keys {:?}", got_map.keys()))?;
        check_item(w, g)?;
    }
    Ok(())
}

/// `raw` (the item as DynamoDB stores it) is `plaintext` sealed under
/// `table`: header and footer present, ENCRYPT_AND_SIGN attributes turned
/// into ciphertext (B, not the plaintext), every other attribute as written.
fn check_stored(table: &PluginTable, plaintext: &Item, raw: &Item) -> Result<(), String> {
    for field in ["aws_dbe_head", "aws_dbe_foot"] {
        ensure(
            matches!(raw.get(field), Some(V::B(b)) if !b.is_empty()),
            || format!("stored item has no B {field}"),
        )?;
    }
    for (name, value) in plaintext {
        let stored = raw
            .get(name)
            .ok_or_else(|| format!("stored item lacks {name:?}"))?;
        if table.spec.actions.get(name) == Some(&CryptoAction::EncryptAndSign) {
            ensure(
                matches!(stored, V::B(_)) && !ddb_equal(stored, value),
                || format!("{name:?} is stored as {}, not encrypted", show(stored)),
            )?;
        } else {
            ensure(ddb_equal(stored, value), || {
                format!(
                    "{name:?} is stored as {}, want it as written: {}",
                    show(stored),
                    show(value)
                )
            })?;
        }
    }
    let extra: Vec<&String> = raw
        .keys()
        .filter(|k| !plaintext.contains_key(*k) && !k.starts_with("aws_dbe_"))
        .collect();
    ensure(extra.is_empty(), || {
        format!("stored item has unexpected attributes {extra:?}")
    })
}

// ---------------------------------------------------------- DynamoDB calls

struct Ctx {
    rt: tokio::runtime::Runtime,
    endpoint: Endpoint,
    /// No interceptor: sees what DynamoDB stores.
    plain: aws_sdk_dynamodb::Client,
}

impl Ctx {
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    fn put(
        &self,
        client: &aws_sdk_dynamodb::Client,
        table: &str,
        item: &Item,
    ) -> Result<(), String> {
        self.block_on(
            client
                .put_item()
                .table_name(table)
                .set_item(Some(item_to_ddb(item)))
                .send(),
        )
        .map_err(|e| format!("PutItem {table}: {}", DisplayErrorContext(&e)))?;
        Ok(())
    }

    fn get(
        &self,
        client: &aws_sdk_dynamodb::Client,
        table: &str,
        key: &Item,
    ) -> Result<Item, String> {
        let out = self
            .block_on(
                client
                    .get_item()
                    .table_name(table)
                    .set_key(Some(item_to_ddb(key)))
                    .consistent_read(true)
                    .send(),
            )
            .map_err(|e| format!("GetItem {table}: {}", DisplayErrorContext(&e)))?;
        let item = out
            .item
            .ok_or_else(|| format!("GetItem {table}: no item {}", key_text(key)))?;
        item_from_ddb(&item)
    }

    /// All items of `partition` (every page), in DynamoDB's order.
    fn query(
        &self,
        client: &aws_sdk_dynamodb::Client,
        table: &str,
        partition: &V,
    ) -> Result<Vec<Item>, String> {
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, Ddb>> = None;
        loop {
            let out = self
                .block_on(
                    client
                        .query()
                        .table_name(table)
                        .key_condition_expression("#pk = :pk")
                        .expression_attribute_names("#pk", PK)
                        .expression_attribute_values(":pk", to_ddb(partition))
                        .set_exclusive_start_key(start)
                        .consistent_read(true)
                        .send(),
                )
                .map_err(|e| format!("Query {table}: {}", DisplayErrorContext(&e)))?;
            for item in out.items.unwrap_or_default() {
                items.push(item_from_ddb(&item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }
}

// ------------------------------------------------------------- Node's half

/// What one operation of the Node tool must have produced.
enum Expect {
    /// GetItem: this item.
    Item(Item),
    /// Query: these items, in this order; `paged`: more than one page.
    Ordered { items: Vec<Item>, paged: bool },
    /// Scan: these items in any order, in more than one page.
    Unordered(Vec<Item>),
    /// BatchGetItem: per table, these items in any order.
    PerTable(BTreeMap<String, Vec<Item>>),
    /// A write: checked afterwards through the official interceptor.
    Written,
}

struct Op {
    label: String,
    request: Value,
    /// The table whose key schema orders and matches the result's items.
    table: Option<usize>,
    expect: Expect,
}

/// An item the plug-in writes, for the official interceptor to read.
struct PluginWrite {
    table: usize,
    /// The Node operation that writes it (its index in the request).
    op: usize,
    how: &'static str,
    plaintext: Item,
}

fn items_json(items: &[Item]) -> Value {
    Value::Array(items.iter().map(item_to_json).collect())
}

/// The reads of the official items, then the plug-in's writes.
fn node_operations(
    tables: &[PluginTable],
    official: &[Vec<Item>],
    plain: &Item,
) -> (Vec<Op>, Vec<PluginWrite>) {
    let mut ops = Vec::new();
    for (t, table) in tables.iter().enumerate() {
        for item in &official[t] {
            let key = key_of(&table.spec, item);
            ops.push(Op {
                label: format!(
                    "the plug-in's GetItem reads the official item {} from {}",
                    key_text(&key),
                    describe(table)
                ),
                request: json!({ "op": "get", "table": table.name, "key": item_to_json(&key) }),
                table: Some(t),
                expect: Expect::Item(item.clone()),
            });
        }
    }
    for (t, table) in tables.iter().enumerate() {
        let first = &official[t][0];
        let partition = first[PK].clone();
        let mut request = json!({
            "op": "query",
            "table": table.name,
            "keyConditionExpression": "#pk = :pk",
            "expressionAttributeNames": { "#pk": PK },
            "expressionAttributeValues": { ":pk": value_to_json(&partition) },
        });
        let mut want: Vec<Item> = official[t]
            .iter()
            .filter(|i| i[PK] == partition)
            .cloned()
            .collect();
        // With a sort key: a range condition on it too, one item per page.
        let paged = composite(table);
        if paged {
            request["keyConditionExpression"] = json!("#pk = :pk AND #sk BETWEEN :lo AND :hi");
            request["expressionAttributeNames"]["#sk"] = json!(SK);
            request["expressionAttributeValues"][":lo"] = json!({ "N": "1" });
            request["expressionAttributeValues"][":hi"] = json!({ "N": "2" });
            request["limit"] = json!(1);
            want.retain(|i| matches!(&i[SK], V::N(n) if n == "1" || n == "2"));
        }
        ops.push(Op {
            label: format!(
                "the plug-in's Query{} reads the official items of {} in {}",
                if paged {
                    " (sort key range, Limit 1)"
                } else {
                    ""
                },
                show(&partition),
                describe(table)
            ),
            request,
            table: Some(t),
            expect: Expect::Ordered { items: want, paged },
        });
    }
    for (t, table) in tables.iter().enumerate() {
        ops.push(Op {
            label: format!(
                "the plug-in's Scan (Limit {SCAN_PAGE}) reads every official item of {}",
                describe(table)
            ),
            request: json!({ "op": "scan", "table": table.name, "limit": SCAN_PAGE }),
            table: Some(t),
            expect: Expect::Unordered(official[t].clone()),
        });
    }
    let mut batch_keys = Map::new();
    let mut batch_want = BTreeMap::new();
    for (t, table) in tables.iter().enumerate() {
        let keys: Vec<Item> = official[t].iter().map(|i| key_of(&table.spec, i)).collect();
        batch_keys.insert(table.name.clone(), items_json(&keys));
        batch_want.insert(table.name.clone(), official[t].clone());
    }
    batch_keys.insert(
        PLAIN_TABLE.into(),
        json!([item_to_json(&key_of(&plain_spec(), plain))]),
    );
    batch_want.insert(PLAIN_TABLE.to_string(), vec![plain.clone()]);
    ops.push(Op {
        label: format!(
            "the plug-in's BatchGetItem reads every official item of the four tables and the \
             unconfigured {PLAIN_TABLE}'s item"
        ),
        request: json!({ "op": "batchGet", "keys": batch_keys }),
        table: None,
        expect: Expect::PerTable(batch_want),
    });

    // The plug-in's writes: item 1 by PutItem, 2 and 3 by BatchWriteItem, 4
    // by TransactWriteItems.
    let mut writes = Vec::new();
    for (t, table) in tables.iter().enumerate() {
        let item = plaintext(table, "fs", 1);
        writes.push(PluginWrite {
            table: t,
            op: ops.len(),
            how: "PutItem",
            plaintext: item.clone(),
        });
        ops.push(Op {
            label: format!(
                "the plug-in's PutItem (attribute_not_exists(pk)) into {}",
                describe(table)
            ),
            request: json!({
                "op": "put",
                "table": table.name,
                "item": item_to_json(&item),
                "conditionExpression": "attribute_not_exists(#pk)",
                "expressionAttributeNames": { "#pk": PK },
            }),
            table: Some(t),
            expect: Expect::Written,
        });
    }
    let mut batch = Map::new();
    for (t, table) in tables.iter().enumerate() {
        let items: Vec<Item> = [2, 3].map(|i| plaintext(table, "fs", i)).into();
        for item in &items {
            writes.push(PluginWrite {
                table: t,
                op: ops.len(),
                how: "BatchWriteItem",
                plaintext: item.clone(),
            });
        }
        batch.insert(table.name.clone(), items_json(&items));
    }
    batch.insert(
        PLAIN_TABLE.into(),
        json!([item_to_json(&plain_item("plain-fs"))]),
    );
    ops.push(Op {
        label: format!("the plug-in's BatchWriteItem into the four tables and {PLAIN_TABLE}"),
        request: json!({ "op": "batchWrite", "items": batch }),
        table: None,
        expect: Expect::Written,
    });
    let mut puts = Vec::new();
    for (t, table) in tables.iter().enumerate() {
        let item = plaintext(table, "fs", 4);
        writes.push(PluginWrite {
            table: t,
            op: ops.len(),
            how: "TransactWriteItems",
            plaintext: item.clone(),
        });
        puts.push(json!({ "table": table.name, "item": item_to_json(&item) }));
    }
    ops.push(Op {
        label: "the plug-in's TransactWriteItems (a Put into each of the four tables)".into(),
        request: json!({ "op": "transactWrite", "puts": puts }),
        table: None,
        expect: Expect::Written,
    });
    (ops, writes)
}

fn plain_spec() -> TableSpec {
    TableSpec {
        logical_table_name: PLAIN_TABLE.into(),
        partition_key_name: PK.into(),
        sort_key_name: None,
        actions: BTreeMap::new(),
        allowed_unsigned_attributes: Vec::new(),
        allowed_unsigned_attribute_prefix: None,
        suite: AlgorithmSuiteId::default(),
    }
}

/// Result `index` of OUT.json, if the tool says it succeeded.
fn node_result<'a>(output: &'a Value, index: usize, label: &str) -> Result<&'a Value, String> {
    npm::tool_result(output, "results", index, label, "the plug-in")
}

fn json_items(v: Option<&Value>) -> Result<Vec<Item>, String> {
    v.and_then(Value::as_array)
        .ok_or("OUT.json: not a list of items")?
        .iter()
        .map(item_from_json)
        .collect()
}

/// Query/Scan pages: each but the last ends with a LastEvaluatedKey equal to
/// its last item's key (untouched by the plug-in), the last has none.
fn check_pages(spec: &TableSpec, result: &Value) -> Result<(Vec<Item>, usize), String> {
    let pages = result
        .get("pages")
        .and_then(Value::as_array)
        .ok_or("OUT.json: no pages")?;
    let mut all = Vec::new();
    for (p, page) in pages.iter().enumerate() {
        let items = json_items(page.get("items"))?;
        let lek = page.get("lastEvaluatedKey").filter(|v| !v.is_null());
        if p + 1 == pages.len() {
            ensure(lek.is_none(), || {
                format!("the last page has LastEvaluatedKey {lek:?}")
            })?;
        } else {
            let lek =
                item_from_json(lek.ok_or_else(|| format!("page {p} has no LastEvaluatedKey"))?)?;
            let last = items
                .last()
                .ok_or_else(|| format!("page {p} is empty but not the last"))?;
            ensure(lek == key_of(spec, last), || {
                format!(
                    "page {p}'s LastEvaluatedKey {} is not its last item's key {}",
                    key_text(&lek),
                    key_text(&key_of(spec, last))
                )
            })?;
        }
        all.extend(items);
    }
    Ok((all, pages.len()))
}

fn check_read(tables: &[PluginTable], op: &Op, result: &Value) -> Result<(), String> {
    let spec = |t: Option<usize>| t.map(|t| &tables[t].spec);
    match &op.expect {
        Expect::Item(want) => {
            let item = result
                .get("item")
                .filter(|v| !v.is_null())
                .ok_or("GetItem returned no item")?;
            check_item(want, &item_from_json(item)?)
        }
        Expect::Ordered { items, paged } => {
            let spec = spec(op.table).ok_or("no table")?;
            let (got, pages) = check_pages(spec, result)?;
            ensure(!paged || pages > 1, || {
                format!("{pages} page(s), want more than one")
            })?;
            let keys = |l: &[Item]| {
                l.iter()
                    .map(|i| key_text(&key_of(spec, i)))
                    .collect::<Vec<_>>()
            };
            ensure(keys(&got) == keys(items), || {
                format!(
                    "items {:?}, want {:?} in that order",
                    keys(&got),
                    keys(items)
                )
            })?;
            items
                .iter()
                .zip(&got)
                .try_for_each(|(w, g)| check_item(w, g))
        }
        Expect::Unordered(want) => {
            let spec = spec(op.table).ok_or("no table")?;
            let (got, pages) = check_pages(spec, result)?;
            ensure(pages > 1, || format!("{pages} page(s), want more than one"))?;
            check_item_set(spec, want, &got)
        }
        Expect::PerTable(want) => {
            let responses = result
                .get("responses")
                .and_then(Value::as_object)
                .ok_or("OUT.json: no responses")?;
            let names: Vec<&String> = responses.keys().collect();
            ensure(names.len() == want.len(), || {
                format!("responses for tables {names:?}, want {:?}", want.keys())
            })?;
            for (name, items) in want {
                let spec = tables
                    .iter()
                    .find(|t| &t.name == name)
                    .map_or_else(plain_spec, |t| t.spec.clone());
                let got =
                    json_items(responses.get(name)).map_err(|e| format!("table {name}: {e}"))?;
                check_item_set(&spec, items, &got).map_err(|e| format!("table {name}: {e}"))?;
            }
            Ok(())
        }
        Expect::Written => Ok(()),
    }
}

// ------------------------------------------------------------------- cases

fn cases(r: &mut Runner, moto: &Moto) {
    let Some((rt, endpoint)) = sdk_setup(r, moto) else {
        return;
    };
    let ctx = Ctx {
        plain: dynamodb_client(&endpoint, REGION),
        endpoint,
        rt,
    };
    let Some(kms_key_arn) = r.case("setup: a symmetric KMS key in moto", || {
        ctx.block_on(create_kms_key(
            &ctx.endpoint,
            REGION,
            "fieldseal plug-in interop",
        ))
    }) else {
        return;
    };
    let tables = plugin_tables(&kms_key_arn);
    let Some(()) = r.case(
        &format!("setup: five tables in moto (four encrypted, {PLAIN_TABLE} configured nowhere)"),
        || {
            ctx.block_on(async {
                for table in &tables {
                    let sort_key = composite(table).then_some((SK, ScalarAttributeType::N));
                    create_table(&ctx.plain, &table.name, PK, sort_key).await?;
                }
                create_table(&ctx.plain, PLAIN_TABLE, PK, None).await
            })
        },
    ) else {
        return;
    };
    let Some(official) = r.case(
        "setup: an aws_sdk_dynamodb::Client with the official DbEsdkInterceptor for the four tables",
        || ctx.block_on(intercepted_client(&ctx.endpoint, REGION, &tables)),
    ) else {
        return;
    };

    // The official interceptor writes; the stored items are sealed; it reads
    // them back (a self-check of this side).
    let mut official_items: Vec<Vec<Item>> = Vec::new();
    for table in &tables {
        let items: Vec<Item> = OFFICIAL_ITEMS
            .iter()
            .map(|&i| plaintext(table, official_group(i), i))
            .collect();
        let written = r.case(
            &format!(
                "the official interceptor's PutItem writes {} items into {}",
                items.len(),
                describe(table)
            ),
            || {
                items
                    .iter()
                    .try_for_each(|item| ctx.put(&official, &table.name, item))
            },
        );
        if written.is_some() {
            r.case(
                &format!("the official items in {} are stored sealed (head, footer, ENCRYPT_AND_SIGN as ciphertext)", table.name),
                || {
                    items.iter().try_for_each(|item| {
                        let raw = ctx.get(&ctx.plain, &table.name, &key_of(&table.spec, item))?;
                        check_stored(table, item, &raw)
                    })
                },
            );
            r.case(
                &format!("self-check: the official interceptor reads its own items in {} back (GetItem, Query)", table.name),
                || {
                    for item in &items {
                        let got = ctx.get(&official, &table.name, &key_of(&table.spec, item))?;
                        check_item(item, &got)?;
                    }
                    let partition = &items[0][PK];
                    let want: Vec<Item> = items.iter().filter(|i| &i[PK] == partition).cloned().collect();
                    check_item_set(&table.spec, &want, &ctx.query(&official, &table.name, partition)?)
                },
            );
        }
        official_items.push(items);
    }
    let plain = plain_item("plain-official");
    r.case(
        &format!(
            "the official interceptor passes {PLAIN_TABLE} (not configured) through untouched"
        ),
        || {
            ctx.put(&official, PLAIN_TABLE, &plain)?;
            check_item(
                &plain,
                &ctx.get(&ctx.plain, PLAIN_TABLE, &key_of(&plain_spec(), &plain))?,
            )?;
            check_item(
                &plain,
                &ctx.get(&official, PLAIN_TABLE, &key_of(&plain_spec(), &plain))?,
            )
        },
    );

    plugin_cases(r, &ctx, &official, &tables, &official_items, &plain);
}

/// The plug-in's half: one run of the Node tool, then its reads checked
/// here and its writes read through the official interceptor.
fn plugin_cases(
    r: &mut Runner,
    ctx: &Ctx,
    official: &aws_sdk_dynamodb::Client,
    tables: &[PluginTable],
    official_items: &[Vec<Item>],
    plain: &Item,
) {
    if let Err(why) = plugin_ready() {
        r.cannot_run(
            why,
            "The plug-in's cases (official <-> fieldseal/dynamodb in Node)",
            "the npm package with the plug-in can run here (pkg/dist/dynamodb.js built, node installed)",
            "the plug-in's cases in Node",
        );
        return;
    }
    let (ops, writes) = node_operations(tables, official_items, plain);
    let request = json!({
        "endpoint": ctx.endpoint.url,
        "region": REGION,
        "accessKeyId": ctx.endpoint.access_key_id,
        "secretAccessKey": ctx.endpoint.secret_access_key,
        "tables": tables
            .iter()
            .map(|t| (t.name.clone(), t.node_json()))
            .collect::<Map<_, _>>(),
        "operations": ops
            .iter()
            .map(|op| {
                let mut request = op.request.clone();
                request["label"] = json!(op.label);
                request
            })
            .collect::<Vec<_>>(),
    });
    let run = r.case(
        &format!(
            "node tests/js/tools/{NODE_TOOL} runs {} operations through the plug-in against this moto",
            ops.len()
        ),
        || {
            let run = npm::run_tool(NODE_TOOL, &request)?;
            let results = run.output.get("results").and_then(Value::as_array);
            ensure(results.map(Vec::len) == Some(ops.len()), || {
                format!(
                    "OUT.json has {:?} results, want {}; the tool printed:\n{}",
                    results.map(Vec::len),
                    ops.len(),
                    run.log
                )
            })?;
            let all_ok = results
                .into_iter()
                .flatten()
                .all(|r| r.get("ok") == Some(&Value::Bool(true)));
            // Its exit status is its own verdict on every operation.
            ensure(run.success == all_ok, || {
                format!(
                    "exit status success={} but every operation ok={all_ok}; the tool printed:\n{}",
                    run.success, run.log
                )
            })?;
            Ok(run.output)
        },
    );
    for (i, op) in ops.iter().enumerate() {
        if matches!(op.expect, Expect::Written) {
            continue;
        }
        r.case(&op.label, || {
            let result = node_result(need(&run, "the node tool")?, i, &op.label)?;
            check_read(tables, op, result)
        });
    }
    for write in &writes {
        let table = &tables[write.table];
        let key = key_of(&table.spec, &write.plaintext);
        r.case(
            &format!(
                "the official interceptor's GetItem reads the plug-in's {} item {} from {} (stored sealed)",
                write.how,
                key_text(&key),
                describe(table)
            ),
            || {
                node_result(need(&run, "the node tool")?, write.op, &ops[write.op].label)?;
                let raw = ctx.get(&ctx.plain, &table.name, &key)?;
                check_stored(table, &write.plaintext, &raw)?;
                check_item(&write.plaintext, &ctx.get(official, &table.name, &key)?)
            },
        );
    }
    for (t, table) in tables.iter().enumerate() {
        let mine: Vec<&PluginWrite> = writes.iter().filter(|w| w.table == t).collect();
        let partition = mine[0].plaintext[PK].clone();
        let want: Vec<Item> = mine
            .iter()
            .filter(|w| w.plaintext[PK] == partition)
            .map(|w| w.plaintext.clone())
            .collect();
        r.case(
            &format!(
                "the official interceptor's Query reads the plug-in's {} item(s) of {} in {}",
                want.len(),
                show(&partition),
                describe(table)
            ),
            || {
                for w in &mine {
                    node_result(need(&run, "the node tool")?, w.op, &ops[w.op].label)?;
                }
                let got = ctx.query(official, &table.name, &partition)?;
                let keys = |l: &[Item]| {
                    l.iter()
                        .map(|i| key_text(&key_of(&table.spec, i)))
                        .collect::<Vec<_>>()
                };
                ensure(keys(&got) == keys(&want), || {
                    format!(
                        "items {:?}, want {:?} in that order",
                        keys(&got),
                        keys(&want)
                    )
                })?;
                want.iter()
                    .zip(&got)
                    .try_for_each(|(w, g)| check_item(w, g))
            },
        );
    }
    let batch_op = writes
        .iter()
        .find(|w| w.how == "BatchWriteItem")
        .map(|w| w.op);
    r.case(
        &format!(
            "the plug-in's BatchWriteItem left {PLAIN_TABLE}'s item (not configured) as written"
        ),
        || {
            let op = batch_op.ok_or("no BatchWriteItem operation")?;
            node_result(need(&run, "the node tool")?, op, &ops[op].label)?;
            let item = plain_item("plain-fs");
            check_item(
                &item,
                &ctx.get(&ctx.plain, PLAIN_TABLE, &key_of(&plain_spec(), &item))?,
            )
        },
    );
}

// ------------------------------------------------------------------- main

fn main() {
    run_with_moto(
        "plugin interop",
        "The DynamoDB plug-in interop test",
        cases,
        |t| {
            format!(
                "{} passed, {} failed{} ({:.1} s)",
                t.passed,
                t.failed,
                t.skipped,
                t.elapsed.as_secs_f64()
            )
        },
    )
}
