//! Sealed SQL rows (`fieldseal/sql`, issue 16) against the official
//! `aws_db_esdk` item encryptor, through a live PostgreSQL: the promise that a
//! row and an item are the same sealed record.
//!
//! - the Node tool (tests/js/tools/sql-interop.mjs, run once per table) seals
//!   plaintext rows with `fieldseal/sql`, inserts them, selects them back with
//!   `pg`, and hands each row's columns back as the DynamoDB item they are
//!   (bytea B, text S, numeric N, boolean BOOL, jsonb M/L, date S, SQL NULL
//!   absent); here every item opens with the official `DynamoDbItemEncryptor`
//!   configured alike (same logical table name, the primary key column as
//!   partition key, the same actions, a raw AES keyring with the same key
//!   namespace, name and bytes), and its plaintext is what was sealed;
//! - the other way round: the official encryptor seals the same plaintexts
//!   (under other primary keys), the tool inserts each sealed item as a row,
//!   selects it back and opens it with `openRow`, and the opened row is the
//!   plaintext.
//!
//! Two tables: every column type under ENCRYPT_AND_SIGN, SIGN_ONLY and
//! DO_NOTHING with the default suite (0x6701, ECDSA); and
//! SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT columns with 0x6700.
//!
//! Runs without libtest (`harness = false`): one line per case, then
//! `sql interop: N passed, M failed`. Without a PostgreSQL server in the
//! environment (scripts/pg.sh run sets it), or without the npm package: a
//! loud skip, or a failure under CI (env `CI`).

use fieldseal::{AlgorithmSuiteId, AttributeValue as V, CryptoAction, Item};
use fieldseal_interop::manifest::item_from_json;
use fieldseal_interop::npm::{package_ready, repo_root, run_tool, tool_result};
use fieldseal_interop::spec::{aes_key_bytes, KeySpec};
use fieldseal_interop::sql::{server_named, SqlColumn, SqlTable};
use fieldseal_interop::{block_on, convert::show, ddb_equal, official};

const BAR: &str = "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!";
const NODE_TOOL: &str = "sql-interop.mjs";

fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

fn col(
    name: &'static str,
    action: CryptoAction,
    sql_type: &'static str,
    definition: Option<&'static str>,
) -> SqlColumn {
    SqlColumn {
        name,
        action,
        sql_type,
        definition,
    }
}

fn key(name: &str) -> KeySpec {
    KeySpec::Aes {
        namespace: "fieldseal-sql-interop".into(),
        name: name.into(),
        key: aes_key_bytes(32),
    }
}

fn s(v: &str) -> V {
    V::S(v.into())
}
fn n(v: &str) -> V {
    V::N(v.into())
}
fn m(entries: &[(&str, V)]) -> V {
    V::M(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}
fn item(entries: &[(&str, V)]) -> Item {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Every column type sealed, signed and left alone; default suite.
fn typed_table() -> (SqlTable, Vec<(String, Item)>) {
    use CryptoAction::{DoNothing, EncryptAndSign as ENC, SignOnly};
    let table = SqlTable {
        name: "sql_interop_orders",
        primary_key: "id",
        columns: vec![
            col("id", SignOnly, "text", Some("text PRIMARY KEY")),
            col("email", ENC, "text", None),
            col("qty", ENC, "numeric", None),
            col("paid", ENC, "boolean", None),
            col("prefs", ENC, "jsonb", None),
            col("born", ENC, "date", None),
            col("photo", ENC, "bytea", None),
            col("total", SignOnly, "numeric", Some("numeric(12,2)")),
            col("active", SignOnly, "boolean", Some("boolean")),
            col("meta", SignOnly, "jsonb", Some("jsonb")),
            col("placed", SignOnly, "date", Some("date")),
            col("thumb", SignOnly, "bytea", Some("bytea")),
            col("city", SignOnly, "text", Some("text")),
            col("note", DoNothing, "text", Some("text")),
        ],
        suite: AlgorithmSuiteId::default(),
        key: key("sql-orders-aes"),
    };
    let rows = vec![
        (
            "every column".to_owned(),
            item(&[
                ("email", s("ana@example.com")),
                ("qty", n("3")),
                ("paid", V::Bool(true)),
                (
                    "prefs",
                    m(&[
                        ("lang", s("pt")),
                        ("n", n("2")),
                        ("tags", V::L(vec![s("a"), V::Bool(false), V::Null])),
                    ]),
                ),
                ("born", s("1990-02-28")),
                ("photo", V::B(vec![0, 1, 2, 254, 255])),
                ("total", n("12.50")),
                ("active", V::Bool(false)),
                ("meta", m(&[("src", s("web")), ("v", n("1.5"))])),
                ("placed", s("2024-02-29")),
                ("thumb", V::B(vec![9, 8, 7])),
                ("city", s("São Paulo ✓")),
                ("note", s("not signed")),
            ]),
        ),
        (
            "NULL encrypted columns, absent signed ones".to_owned(),
            item(&[("email", V::Null), ("qty", V::Null), ("city", s("Lisboa"))]),
        ),
        (
            "numbers: large, negative, fractional; empty text".to_owned(),
            item(&[
                ("email", s("")),
                ("qty", n("123456789012345678901234567890")),
                ("total", n("-0.01")),
                ("prefs", V::L(vec![n("-7"), n("0.25"), s("x")])),
                ("paid", V::Bool(false)),
            ]),
        ),
    ];
    (table, rows)
}

/// Columns in the encryption context; the suite without ECDSA.
fn context_table() -> (SqlTable, Vec<(String, Item)>) {
    use CryptoAction::{EncryptAndSign as ENC, SignAndIncludeInEncryptionContext as CTX, SignOnly};
    let table = SqlTable {
        name: "sql_interop_accounts",
        primary_key: "account",
        columns: vec![
            col("account", CTX, "text", Some("text PRIMARY KEY")),
            col("region", CTX, "text", Some("text")),
            col("tier", CTX, "numeric", Some("numeric")),
            col("kind", SignOnly, "text", Some("text")),
            col("secret", ENC, "text", None),
            col("limits", ENC, "jsonb", None),
        ],
        suite: AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
        key: key("sql-accounts-aes"),
    };
    let rows = vec![
        (
            "context columns".to_owned(),
            item(&[
                ("region", s("eu-west-1")),
                ("tier", n("2")),
                ("kind", s("business")),
                ("secret", s("s3cr3t")),
                (
                    "limits",
                    m(&[
                        ("daily", n("1000")),
                        ("currencies", V::L(vec![s("EUR"), s("USD")])),
                    ]),
                ),
            ]),
        ),
        // Every context column present: the official encryptor refuses an
        // item without one (fieldseal/sql seals it today; reported in the
        // issue, not asserted here).
        (
            "signed and encrypted columns left out".to_owned(),
            item(&[
                ("region", s("us-east-1")),
                ("tier", n("0")),
                ("secret", s("other")),
            ]),
        ),
    ];
    (table, rows)
}

/// Differences between two items by DynamoDB value (numbers by value), one line each.
fn differences(got: &Item, want: &Item) -> Vec<String> {
    let mut out = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => out.push(format!("missing {k:?}")),
            Some(g) if !ddb_equal(g, w) => {
                out.push(format!("{k:?}: got {} want {}", show(g), show(w)))
            }
            _ => {}
        }
    }
    out.extend(
        got.keys()
            .filter(|k| !want.contains_key(*k))
            .map(|k| format!("unexpected {k:?}")),
    );
    out
}

struct Tally {
    passed: usize,
    failed: Vec<String>,
}

impl Tally {
    fn case(&mut self, label: &str, f: impl FnOnce() -> Result<(), String>) {
        match f() {
            Ok(()) => {
                self.passed += 1;
                println!("ok    {label}");
            }
            Err(e) => {
                println!("FAIL  {label}: {e}");
                self.failed.push(label.to_owned());
            }
        }
    }
}

/// The rows of one table, with their primary key set (`prefix`-`index`).
fn keyed(table: &SqlTable, rows: &[(String, Item)], prefix: &str) -> Vec<(String, Item)> {
    rows.iter()
        .enumerate()
        .map(|(i, (label, row))| {
            let mut row = row.clone();
            row.insert(table.primary_key.to_owned(), s(&format!("{prefix}-{i}")));
            (label.clone(), row)
        })
        .collect()
}

fn run_table(t: &mut Tally, table: &SqlTable, rows: &[(String, Item)]) {
    let spec = table.spec();
    let official = match block_on(official::encryptor(&spec, &table.key)) {
        Ok(c) => c,
        Err(e) => {
            t.case(&format!("{}: official encryptor", table.name), || Err(e));
            return;
        }
    };
    let ours = keyed(table, rows, "fieldseal");
    let plain_theirs = keyed(table, rows, "official");
    let mut theirs = Vec::new();
    for (label, row) in &plain_theirs {
        match block_on(official::encrypt(&official, row)) {
            Ok(sealed) => theirs.push((label.clone(), sealed)),
            Err(e) => t.case(&format!("{}: official seals {label}", table.name), || {
                Err(e)
            }),
        }
    }
    let run = match run_tool(NODE_TOOL, &table.tool_input(&ours, &theirs)) {
        Ok(run) => run,
        Err(e) => {
            t.case(&format!("{}: node {NODE_TOOL}", table.name), || Err(e));
            return;
        }
    };
    if !run.success {
        println!("node {NODE_TOOL} reported failures:\n{}", run.log);
    }
    for (i, (label, plain)) in ours.iter().enumerate() {
        t.case(
            &format!(
                "{}: sealed by fieldseal/sql in PostgreSQL, opened by the official SDK: {label}",
                table.name
            ),
            || {
                let result = tool_result(&run.output, "sealed", i, label, "fieldseal/sql")?;
                let stored = item_from_json(&result["item"])?;
                let opened = block_on(official::decrypt(&official, &stored))?;
                let diff = differences(&opened, plain);
                if diff.is_empty() {
                    Ok(())
                } else {
                    Err(diff.join("; "))
                }
            },
        );
    }
    // The oracle is not vacuous: the first row read back from PostgreSQL with
    // a signed column changed (a SIGN_ONLY/context column as SQL would update
    // it) does not open in the official SDK.
    if let Some((label, _)) = ours.first() {
        t.case(
            &format!(
                "{}: a row changed in PostgreSQL does not open in the official SDK: {label}",
                table.name
            ),
            || {
                let result = tool_result(&run.output, "sealed", 0, label, "fieldseal/sql")?;
                let mut stored = item_from_json(&result["item"])?;
                let signed = table
                    .columns
                    .iter()
                    .find(|c| {
                        c.action != CryptoAction::EncryptAndSign
                            && c.action != CryptoAction::DoNothing
                            && c.name != table.primary_key
                            && stored.contains_key(c.name)
                    })
                    .ok_or("the row has no signed column besides the primary key")?;
                let changed = match &stored[signed.name] {
                    V::S(v) => s(&format!("{v}!")),
                    V::N(v) => n(&format!("{v}1")),
                    V::Bool(b) => V::Bool(!b),
                    other => return Err(format!("no change for {}", show(other))),
                };
                stored.insert(signed.name.to_owned(), changed);
                match block_on(official::decrypt(&official, &stored)) {
                    Err(_) => Ok(()),
                    Ok(opened) => Err(format!("opened after {} changed: {opened:?}", signed.name)),
                }
            },
        );
    }
    for (i, (label, _)) in theirs.iter().enumerate() {
        let plain = &plain_theirs
            .iter()
            .find(|(l, _)| l == label)
            .expect("same labels")
            .1;
        t.case(
            &format!(
                "{}: sealed by the official SDK, a PostgreSQL row opened by fieldseal/sql: {label}",
                table.name
            ),
            || {
                let result = tool_result(&run.output, "opened", i, label, "fieldseal/sql")?;
                let opened = item_from_json(&result["item"])?;
                let diff = differences(&opened, plain);
                if diff.is_empty() {
                    Ok(())
                } else {
                    Err(diff.join("; "))
                }
            },
        );
    }
}

fn main() {
    let missing = if !server_named() {
        Some(
            "no PostgreSQL server: PGHOST (or DATABASE_URL) is not set; run \
             `../../scripts/pg.sh run cargo test --release --test sql` in tests/interop \
             (scripts/test.sh interop does)"
                .to_owned(),
        )
    } else if let Err(e) = package_ready() {
        Some(e)
    } else if !repo_root().join("pkg/dist/sql.js").is_file() {
        Some("the npm package is built without fieldseal/sql (pkg/dist/sql.js): rebuild it".into())
    } else {
        None
    };
    if let Some(why) = missing {
        eprintln!("{BAR}");
        eprintln!("!! sql interop: {why}");
        eprintln!("!! tests/interop/tests/sql.rs did NOT run.");
        eprintln!("{BAR}");
        println!("sql interop: 0 passed, {} failed, SKIPPED", u8::from(ci()));
        std::process::exit(i32::from(ci()));
    }
    let mut t = Tally {
        passed: 0,
        failed: Vec::new(),
    };
    for (table, rows) in [typed_table(), context_table()] {
        run_table(&mut t, &table, &rows);
    }
    println!();
    for f in &t.failed {
        println!("failed: {f}");
    }
    println!(
        "sql interop: {} passed, {} failed",
        t.passed,
        t.failed.len()
    );
    std::process::exit(i32::from(!t.failed.is_empty()));
}
