//! Interop oracle: fieldseal against the official AWS Database Encryption SDK
//! for DynamoDB (`aws-db-esdk`).
//!
//! - [`convert`]: fieldseal `AttributeValue` <-> `aws_sdk_dynamodb` `AttributeValue`;
//! - [`spec`]: one table/keyring description built on both sides;
//! - [`official`]: the official item encryptor;
//! - [`shapes`]: the items of the interop matrix (`tests/matrix.rs`);
//! - [`reference`]: the benchmarks' reference item ([`reference_item`]);
//! - [`moto`]: a local KMS + DynamoDB through the project's launcher;
//! - [`aws_clients`]: fieldseal's `KeyStoreStorage` and `KmsClient` over the AWS SDK;
//! - [`hierarchy`]: the hierarchical keyring and key store on both sides (`tests/keystore.rs`);
//! - [`npm`]: the npm package through the Node tools (`tests/js/tools`), from the tests;
//! - [`intercept`]: the official `DbEsdkInterceptor` and the tables it shares with the
//!   npm package's DynamoDB plug-in (`tests/plugin.rs`);
//! - [`search`]: searchable encryption (beacons) configured alike on both sides, and the
//!   official side's Query/Scan loops (`tests/search.rs`);
//! - [`sql`]: a sealed SQL table (`fieldseal/sql`) described for both sides (`tests/sql.rs`);
//! - [`runner`]: the case runner of the moto-backed tests (`tests/keystore.rs`, `tests/plugin.rs`,
//!   `tests/search.rs`).

pub mod aws_clients;
pub mod convert;
pub mod hierarchy;
pub mod intercept;
pub mod manifest;
pub mod moto;
pub mod npm;
pub mod official;
pub mod reference;
pub mod runner;
pub mod search;
pub mod shapes;
pub mod spec;
pub mod sql;

pub use reference::reference_item;

use std::cell::RefCell;
use std::future::Future;

use fieldseal::{AttributeValue, Item};

use crate::spec::TableSpec;

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Drive a future (fieldseal's are `!Send`, the official SDK's are async) on
/// this thread's current-thread tokio runtime.
pub fn block_on<F: Future>(f: F) -> F::Output {
    RUNTIME.with(|rt| {
        let mut rt = rt.borrow_mut();
        let rt = rt.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime")
        });
        rt.block_on(f)
    })
}

/// fieldseal's canonical form of one attribute value (numbers normalized,
/// sets ordered), as it serializes it for sealing.
pub fn canonical(value: &AttributeValue) -> fieldseal::Result<AttributeValue> {
    fieldseal::item::serialize::canonicalize(value)
}

/// What decrypting a sealed `input` must return under `table`, by fieldseal's
/// canonicalization: signed attributes canonicalized, unsigned ones unchanged.
pub fn expected_plaintext(table: &TableSpec, input: &Item) -> fieldseal::Result<Item> {
    input
        .iter()
        .map(|(k, v)| {
            let signed = !table.is_unsigned(k);
            Ok((k.clone(), if signed { canonical(v)? } else { v.clone() }))
        })
        .collect()
}

/// DynamoDB value equality: numbers by value, sets unordered (recursively).
pub fn ddb_equal(a: &AttributeValue, b: &AttributeValue) -> bool {
    manifest::normalize_for_compare(a) == manifest::normalize_for_compare(b)
}

/// Differences between two items, one line each (empty when equal).
pub fn diff_items(got: &Item, want: &Item) -> Vec<String> {
    let mut out = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => out.push(format!("missing {k:?}")),
            Some(g) if g != w => out.push(format!(
                "{k:?}: got {} want {}",
                convert::show(g),
                convert::show(w)
            )),
            _ => {}
        }
    }
    for k in got.keys() {
        if !want.contains_key(k) {
            out.push(format!("unexpected {k:?}"));
        }
    }
    out
}
