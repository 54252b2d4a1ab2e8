//! Searchable encryption (beacons): fieldseal's DynamoDB plug-in
//! (`fieldseal/dynamodb`, npm package, in Node) against the official
//! `aws_db_esdk` `DbEsdkInterceptor` and transforms client, both over one
//! moto (DynamoDB + KMS) started here through the project's launcher
//! (tools/moto). Issue 15's interop proof:
//!
//! - one branch key store (made by the official SDK) with two branch keys;
//!   three searchable tables, each configured alike on both sides from one
//!   description (`fieldseal_interop::search`), each with a twin (same
//!   logical name and config, another physical table):
//!   - `search-single`: a single key store; standard beacons (one of 2 bits,
//!     so that false positives are certain), a beacon on a map path (`loc`),
//!     shared, asSet, sharedSet and partOnly styles, virtual fields using
//!     all eight transforms, a compound beacon with a signed and two
//!     encrypted parts and two constructors, a signed-only compound beacon
//!     (a signed beacon, with a `loc` part), and one built only from the
//!     version's `signedParts` / `encryptedParts`; six GSIs on beacons;
//!   - `search-part`: bucket beacons (maximumNumberOfPartitions 3, beacons
//!     constrained to 1 and 2 partitions, compound beacons over them) with a
//!     partition selector that reads the item's `part` attribute on both
//!     sides, so every item's partition is known;
//!   - `search-multi`: a multi key store (`keyFieldName` tenant), items of
//!     two tenants sealed by the hierarchical keyring under each tenant's
//!     branch key, beacons under each tenant's beacon key;
//! - the official interceptor writes items; its queries (Query on the GSIs,
//!   every partition as its `GetNumberOfQueries` says; Scan with filters) are
//!   checked against the plaintext (where the query is exact) and are then
//!   the reference result sets;
//! - the Node tool (tests/js/tools/search-interop.mjs, run once) runs the
//!   same queries through the plug-in (`queryAllPartitions` on the
//!   partitioned table), `getNumberOfQueries` and `resolveAttributes`, then
//!   writes its own items and the official items into the twins, and queries
//!   again; queries the official client refuses must be refused by the
//!   plug-in (REQUEST_REFUSED);
//! - here: every result set compared item for item with the official one;
//!   the official queries find the plug-in's items; every item's stored
//!   beacons (`aws_dbe_b_*`, signed beacons, and every other stored attribute
//!   but the ciphertext, header and footer) are byte-equal between the
//!   official's and fieldseal's write of the same plaintext. (The version
//!   tag `aws_dbe_v_1` that AddSignedBeacons adds is not stored by
//!   aws-db-esdk 1.3: the comparison covers its absence on both sides.)
//!
//! Runs without libtest (`harness = false`), as tests/plugin.rs: one line
//! per case, then `search interop: N passed, M failed`. Without moto, or
//! without the npm package built with the plug-in: a loud skip, or a failure
//! under CI (env `CI`).

use std::collections::BTreeMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use fieldseal::{AlgorithmSuiteId, AttributeValue as V, CryptoAction, Item};
use fieldseal_interop::aws_clients::{create_kms_key, dynamodb_client, Endpoint};
use fieldseal_interop::convert::{item_from_ddb, item_to_ddb, show};
use fieldseal_interop::ddb_equal;
use fieldseal_interop::hierarchy::{official_key_store, StoreSpec};
use fieldseal_interop::intercept::plugin_ready;
use fieldseal_interop::manifest::{item_from_json, item_to_json};
use fieldseal_interop::moto::Moto;
use fieldseal_interop::npm;
use fieldseal_interop::runner::{ensure, need, run_with_moto, sdk_setup, Runner};
use fieldseal_interop::search::{
    create_search_table, official_number_of_queries, official_resolve, official_search_clients,
    official_search_items, Index, OfficialSearch, SearchFailure, SearchKey, SearchRequest,
    SearchTable, TTL_SECONDS,
};
use fieldseal_interop::spec::{aes_key_bytes, TableSpec};
use serde_json::{json, Map, Value};

const REGION: &str = "us-west-2";
const PK: &str = "pk";
const KEY_STORE_TABLE: &str = "search-branch-keys";
const LOGICAL_KEY_STORE: &str = "search-key-store";
const NODE_TOOL: &str = "search-interop.mjs";

/// The statuses of `search-single`'s items (its status beacon has 2 bits).
const STATUSES: [&str; 5] = ["open", "shipped", "closed", "returned", "lost"];

const SINGLE: usize = 0;
const PART: usize = 1;
const MULTI: usize = 2;

// ------------------------------------------------------------------ tables

fn actions(list: &[(&str, CryptoAction)]) -> BTreeMap<String, CryptoAction> {
    list.iter().map(|(k, a)| (k.to_string(), *a)).collect()
}

fn spec(logical: &str, actions: BTreeMap<String, CryptoAction>) -> TableSpec {
    TableSpec {
        logical_table_name: logical.to_owned(),
        partition_key_name: PK.to_owned(),
        sort_key_name: None,
        actions,
        allowed_unsigned_attributes: Vec::new(),
        allowed_unsigned_attribute_prefix: None,
        suite: AlgorithmSuiteId::default(),
    }
}

fn index(name: &str, hash: &str, range: Option<&str>) -> Index {
    Index {
        name: name.to_owned(),
        hash: hash.to_owned(),
        range: range.map(str::to_owned),
    }
}

fn aes(name: &str) -> SearchKey {
    SearchKey::Aes {
        namespace: "fieldseal-search-interop".into(),
        name: name.into(),
        key: aes_key_bytes(32),
    }
}

/// The three searchable tables (their twins are made from them).
/// `key_id`: the single key store's beacon key (a branch key id).
fn search_tables(key_id: &str) -> Vec<SearchTable> {
    use CryptoAction::{EncryptAndSign as ENC, SignAndIncludeInEncryptionContext as CTX, SignOnly};
    let single = SearchTable {
        name: "search-single".into(),
        spec: spec(
            "search-single-logical",
            actions(&[
                (PK, SignOnly),
                ("created", SignOnly),
                ("kind", SignOnly),
                ("meta", SignOnly),
                ("email", ENC),
                ("backup", ENC),
                ("status", ENC),
                ("card", ENC),
                ("name", ENC),
                ("sku", ENC),
                ("tags", ENC),
                ("favorite", ENC),
                ("wishlist", ENC),
                ("region", ENC),
                ("address", ENC),
                ("note", ENC),
            ]),
        ),
        key: aes("search-single-aes"),
        search: json!({
            "writeVersion": 1,
            "versions": [{
                "version": 1,
                "keySource": { "single": { "keyId": key_id, "cacheTTL": TTL_SECONDS } },
                "standardBeacons": [
                    { "name": "email", "length": 24 },
                    { "name": "backup", "length": 24, "style": { "shared": { "other": "email" } } },
                    // 2 bits for 5 statuses: false positives are certain.
                    { "name": "status", "length": 2 },
                    { "name": "last4", "length": 12 },
                    { "name": "nameKey", "length": 16 },
                    { "name": "skuKey", "length": 16 },
                    { "name": "tags", "length": 10, "style": { "asSet": {} } },
                    { "name": "favorite", "length": 10 },
                    { "name": "wishlist", "length": 10, "style": { "sharedSet": { "other": "favorite" } } },
                    { "name": "region", "length": 8, "style": { "partOnly": {} } },
                    { "name": "city", "length": 10, "loc": "address.city" },
                ],
                "compoundBeacons": [
                    {
                        "name": "lookup",
                        "split": ".",
                        "signed": [{ "name": "created", "prefix": "D-" }],
                        "encrypted": [{ "name": "region", "prefix": "R-" }, { "name": "status", "prefix": "S-" }],
                        "constructors": [
                            { "parts": [
                                { "name": "created", "required": true },
                                { "name": "region", "required": true },
                                { "name": "status", "required": true },
                            ] },
                            { "parts": [
                                { "name": "created", "required": true },
                                { "name": "region", "required": true },
                            ] },
                        ],
                    },
                    {
                        "name": "period",
                        "split": "#",
                        "signed": [
                            { "name": "kind", "prefix": "K-" },
                            { "name": "month", "prefix": "M-", "loc": "meta.month" },
                        ],
                    },
                    {
                        "name": "byChannel",
                        "split": "|",
                        "constructors": [{ "parts": [
                            { "name": "channel", "required": true },
                            { "name": "favorite", "required": true },
                        ] }],
                    },
                ],
                "virtualFields": [
                    { "name": "last4", "parts": [{ "loc": "card", "trans": [{ "suffix": { "length": 4 } }] }] },
                    { "name": "nameKey", "parts": [
                        { "loc": "name", "trans": [{ "lower": {} }, { "prefix": { "length": 3 } }] },
                        { "loc": "sku", "trans": [{ "upper": {} }, { "segment": { "split": "-", "index": 0 } }] },
                        { "loc": "email", "trans": [
                            { "segments": { "split": "@", "low": 1, "high": 2 } },
                            { "insert": { "literal": "!" } },
                        ] },
                    ] },
                    { "name": "skuKey", "parts": [
                        { "loc": "sku", "trans": [{ "lower": {} }, { "substring": { "low": 2, "high": -1 } }] },
                        { "loc": "region", "trans": [{ "suffix": { "length": -1 } }] },
                    ] },
                ],
                "signedParts": [{ "name": "channel", "prefix": "C-", "loc": "meta.channel" }],
                "encryptedParts": [{ "name": "favorite", "prefix": "F-" }],
            }],
        }),
        indexes: vec![
            index("by-email", "aws_dbe_b_email", None),
            index("by-status", "aws_dbe_b_status", None),
            index(
                "by-status-lookup",
                "aws_dbe_b_status",
                Some("aws_dbe_b_lookup"),
            ),
            index("by-city-period", "aws_dbe_b_city", Some("period")),
            index("by-last4", "aws_dbe_b_last4", None),
            index("by-channel", "aws_dbe_b_byChannel", None),
        ],
    };
    let part = SearchTable {
        name: "search-part".into(),
        spec: spec(
            "search-part-logical",
            actions(&[
                (PK, SignOnly),
                ("part", SignOnly),
                ("created", SignOnly),
                ("email", ENC),
                ("status", ENC),
                ("region", ENC),
            ]),
        ),
        key: aes("search-part-aes"),
        search: json!({
            "writeVersion": 1,
            "versions": [{
                "version": 1,
                "keySource": { "single": { "keyId": key_id, "cacheTTL": TTL_SECONDS } },
                "maximumNumberOfPartitions": 3,
                "partitionSelector": { "attribute": "part" },
                "standardBeacons": [
                    { "name": "email", "length": 20 },
                    { "name": "status", "length": 4, "numberOfPartitions": 1 },
                    { "name": "region", "length": 6, "numberOfPartitions": 2 },
                ],
                "compoundBeacons": [
                    {
                        "name": "where",
                        "split": ".",
                        "encrypted": [{ "name": "region", "prefix": "R-" }, { "name": "status", "prefix": "S-" }],
                    },
                    {
                        "name": "when",
                        "split": "~",
                        "signed": [{ "name": "created", "prefix": "D-" }],
                        "encrypted": [{ "name": "email", "prefix": "E-" }],
                    },
                ],
            }],
        }),
        indexes: vec![
            index("by-email", "aws_dbe_b_email", None),
            index("by-status", "aws_dbe_b_status", None),
            index("by-region", "aws_dbe_b_region", None),
            index("by-where", "aws_dbe_b_where", None),
            index("by-when", "aws_dbe_b_when", None),
        ],
    };
    let multi = SearchTable {
        name: "search-multi".into(),
        spec: spec(
            "search-multi-logical",
            actions(&[
                (PK, CTX),
                ("tenant", CTX),
                ("created", SignOnly),
                ("email", ENC),
                ("status", ENC),
            ]),
        ),
        key: SearchKey::Hierarchy {
            tenant_field: "tenant".into(),
        },
        search: json!({
            "writeVersion": 1,
            "versions": [{
                "version": 1,
                "keySource": { "multi": { "keyFieldName": "tenant", "cacheTTL": TTL_SECONDS } },
                "standardBeacons": [
                    { "name": "email", "length": 16 },
                    { "name": "status", "length": 3 },
                ],
                "compoundBeacons": [{
                    "name": "tenantEmail",
                    "split": "|",
                    "signed": [{ "name": "tenant", "prefix": "T-" }],
                    "encrypted": [{ "name": "email", "prefix": "E-" }],
                }],
            }],
        }),
        indexes: vec![
            index("by-email", "aws_dbe_b_email", None),
            index("by-tenant-email", "aws_dbe_b_tenantEmail", None),
        ],
    };
    vec![single, part, multi]
}

fn twin_name(table: &SearchTable) -> String {
    format!("{}-twin", table.name)
}

// ------------------------------------------------------------------- items

fn s(v: &str) -> V {
    V::S(v.to_owned())
}

fn set(values: &[&str]) -> V {
    V::Ss(values.iter().map(|v| v.to_string()).collect())
}

fn item(pairs: Vec<(&str, V)>) -> Item {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// An order of `search-single`; an empty string or set leaves the attribute out.
#[derive(Default)]
struct Order {
    pk: &'static str,
    email: &'static str,
    backup: &'static str,
    status: &'static str,
    card: &'static str,
    name: &'static str,
    sku: &'static str,
    tags: &'static [&'static str],
    favorite: &'static str,
    wishlist: &'static [&'static str],
    region: &'static str,
    city: &'static str,
    created: &'static str,
    kind: &'static str,
    channel: &'static str,
}

impl Order {
    fn item(&self) -> Item {
        let mut i = item(vec![
            (PK, s(self.pk)),
            ("created", s(self.created)),
            ("kind", s(self.kind)),
            (
                "meta",
                V::M(item(vec![
                    ("month", s(&self.created[..7])),
                    ("channel", s(self.channel)),
                ])),
            ),
            (
                "address",
                V::M(item(vec![
                    ("city", s(self.city)),
                    ("street", s(&format!("{} Main St", self.pk.len()))),
                ])),
            ),
            ("note", s(&format!("note for {}", self.pk))),
        ]);
        for (name, value) in [
            ("email", self.email),
            ("backup", self.backup),
            ("status", self.status),
            ("card", self.card),
            ("name", self.name),
            ("sku", self.sku),
            ("favorite", self.favorite),
            ("region", self.region),
        ] {
            if !value.is_empty() {
                i.insert(name.to_owned(), s(value));
            }
        }
        for (name, values) in [("tags", self.tags), ("wishlist", self.wishlist)] {
            if !values.is_empty() {
                i.insert(name.to_owned(), set(values));
            }
        }
        i
    }
}

/// (official's items, fieldseal's items) of `search-single`.
fn single_items() -> (Vec<Item>, Vec<Item>) {
    let official = [
        Order {
            pk: "o1",
            email: "alice@example.com",
            backup: "alice@example.com",
            status: "open",
            card: "4111111111111111",
            name: "Alice Smith",
            sku: "ab-1234-x",
            tags: &["gift", "red"],
            favorite: "apple",
            wishlist: &["apple", "pear"],
            region: "west",
            city: "Seattle",
            created: "2024-03-15",
            kind: "retail",
            channel: "web",
        },
        Order {
            pk: "o2",
            email: "bob@example.org",
            backup: "alice@example.com",
            status: "shipped",
            card: "5500000000000004",
            name: "Bob Jones",
            sku: "cd-5678-y",
            tags: &["blue"],
            favorite: "pear",
            wishlist: &["plum"],
            region: "east",
            city: "Boston",
            created: "2024-02-01",
            kind: "retail",
            channel: "store",
        },
        Order {
            pk: "o3",
            email: "alice@example.com",
            backup: "carol@example.net",
            status: "closed",
            card: "4000000000001111",
            name: "Alicia Keys",
            sku: "ab-9999-z",
            tags: &["gift"],
            favorite: "plum",
            wishlist: &["plum", "fig"],
            region: "west",
            city: "Seattle",
            created: "2024-03-20",
            kind: "wholesale",
            channel: "web",
        },
        Order {
            pk: "o4",
            email: "dave@example.com",
            backup: "dave@example.com",
            card: "6011000000000012",
            name: "Dave Brown",
            sku: "ef-0001-q",
            favorite: "fig",
            wishlist: &["apple"],
            region: "north",
            city: "Portland",
            created: "2024-04-02",
            kind: "retail",
            channel: "app",
            ..Order::default()
        },
        Order {
            pk: "o5",
            email: "erin@example.com",
            status: "returned",
            card: "4111111111112222",
            name: "Erin Stone",
            sku: "gh-4242-w",
            tags: &["red", "sale"],
            favorite: "apple",
            wishlist: &["fig", "apple"],
            city: "Seattle",
            created: "2024-03-01",
            kind: "retail",
            channel: "web",
            ..Order::default()
        },
        Order {
            pk: "o6",
            email: "frank@example.com",
            backup: "frank@example.com",
            status: "lost",
            card: "3400000000000009",
            name: "Frank Ocean",
            sku: "ij-1111-v",
            tags: &["sale"],
            favorite: "kiwi",
            wishlist: &["kiwi"],
            region: "south",
            city: "Austin",
            created: "2024-01-10",
            kind: "wholesale",
            channel: "store",
        },
    ];
    let fieldseal = [
        Order {
            pk: "f1",
            email: "alice@example.com",
            backup: "alice@example.com",
            status: "open",
            card: "4222222222221111",
            name: "Alina Park",
            sku: "ab-1234-y",
            tags: &["gift"],
            favorite: "pear",
            wishlist: &["pear"],
            region: "west",
            city: "Seattle",
            created: "2024-03-18",
            kind: "retail",
            channel: "web",
        },
        Order {
            pk: "f2",
            email: "bob@example.org",
            backup: "bob@example.org",
            status: "shipped",
            card: "5500000000001234",
            name: "Bobby Tables",
            sku: "cd-0000-a",
            tags: &["blue", "sale"],
            favorite: "fig",
            wishlist: &["fig"],
            region: "east",
            city: "Boston",
            created: "2024-02-14",
            kind: "retail",
            channel: "store",
        },
        Order {
            pk: "f3",
            email: "gina@example.com",
            status: "open",
            card: "4000000000003333",
            name: "Gina Lee",
            sku: "kl-2020-b",
            tags: &["red"],
            favorite: "apple",
            wishlist: &["plum"],
            region: "west",
            city: "Seattle",
            created: "2024-03-05",
            kind: "wholesale",
            channel: "web",
            ..Order::default()
        },
        Order {
            pk: "f4",
            email: "hank@example.com",
            backup: "hank@example.com",
            card: "4000000000004444",
            name: "Hank Hill",
            sku: "mn-3030-c",
            tags: &["gift", "blue"],
            favorite: "plum",
            wishlist: &["plum"],
            region: "west",
            city: "Seattle",
            created: "2024-03-09",
            kind: "retail",
            channel: "app",
            ..Order::default()
        },
        Order {
            pk: "f5",
            email: "alice@example.com",
            status: "closed",
            card: "4000000000005555",
            name: "Ivy Chen",
            sku: "op-4040-d",
            favorite: "apple",
            city: "Portland",
            created: "2024-02-20",
            kind: "retail",
            channel: "store",
            ..Order::default()
        },
        Order {
            pk: "f6",
            email: "jack@example.com",
            backup: "alice@example.com",
            status: "lost",
            card: "4000000000006666",
            name: "Jack Frost",
            sku: "qr-5050-e",
            tags: &["sale"],
            favorite: "kiwi",
            wishlist: &["apple", "kiwi"],
            region: "south",
            city: "Austin",
            created: "2024-01-25",
            kind: "wholesale",
            channel: "store",
        },
    ];
    (
        official.iter().map(Order::item).collect(),
        fieldseal.iter().map(Order::item).collect(),
    )
}

/// (official's items, fieldseal's items) of `search-part`: each in the
/// partition its `part` names.
fn part_items() -> (Vec<Item>, Vec<Item>) {
    let row = |pk: &str, part: u32, email: &str, status: &str, region: &str, created: &str| {
        item(vec![
            (PK, s(pk)),
            ("part", V::N(part.to_string())),
            ("email", s(email)),
            ("status", s(status)),
            ("region", s(region)),
            ("created", s(created)),
        ])
    };
    let zed = "zed@example.com";
    let amy = "amy@example.com";
    (
        vec![
            row("po1", 0, zed, "open", "west", "2024-05-01"),
            row("po2", 1, zed, "open", "west", "2024-05-01"),
            row("po3", 2, zed, "closed", "west", "2024-05-02"),
            row("po4", 0, amy, "open", "west", "2024-05-03"),
            row("po5", 1, amy, "closed", "north", "2024-05-01"),
            row("po6", 2, zed, "open", "west", "2024-05-01"),
        ],
        vec![
            row("pf1", 0, zed, "open", "west", "2024-05-01"),
            row("pf2", 1, amy, "open", "west", "2024-05-02"),
            row("pf3", 2, amy, "closed", "east", "2024-05-01"),
            row("pf4", 1, zed, "closed", "west", "2024-05-03"),
            row("pf5", 2, zed, "open", "north", "2024-05-01"),
            row("pf6", 0, amy, "shipped", "west", "2024-05-04"),
        ],
    )
}

/// (official's items, fieldseal's items) of `search-multi`; `tenants` are
/// the two branch key ids (the tenant attribute's values).
fn multi_items(tenants: &[String]) -> (Vec<Item>, Vec<Item>) {
    let row = |pk: &str, tenant: &str, email: &str, status: &str| {
        item(vec![
            (PK, s(pk)),
            ("tenant", s(tenant)),
            ("email", s(email)),
            ("status", s(status)),
            ("created", s("2024-06-01")),
        ])
    };
    let (a, b) = (&tenants[0], &tenants[1]);
    (
        vec![
            row("mo1", a, "same@example.com", "open"),
            row("mo2", a, "other@example.com", "closed"),
            row("mo3", b, "same@example.com", "open"),
            row("mo4", b, "same@example.com", "shipped"),
        ],
        vec![
            row("mf1", a, "same@example.com", "shipped"),
            row("mf2", b, "same@example.com", "open"),
            row("mf3", a, "third@example.com", "open"),
        ],
    )
}

fn pk_of(item: &Item) -> String {
    match item.get(PK) {
        Some(V::S(s)) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn key_of(item: &Item) -> Item {
    item.iter()
        .filter(|(k, _)| *k == PK)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

// ----------------------------------------------------------------- queries

/// An item as a query predicate sees it: its plaintext and what the
/// official `ResolveAttributes` makes of it (virtual fields, compound beacons).
struct View<'a> {
    item: &'a Item,
    virt: &'a BTreeMap<String, String>,
    comp: &'a BTreeMap<String, String>,
}

impl View<'_> {
    fn s(&self, name: &str) -> Option<&str> {
        match self.item.get(name) {
            Some(V::S(s)) => Some(s),
            _ => None,
        }
    }
    fn is(&self, name: &str, value: &str) -> bool {
        self.s(name) == Some(value)
    }
    fn set_has(&self, name: &str, value: &str) -> bool {
        matches!(self.item.get(name), Some(V::Ss(v)) if v.iter().any(|x| x == value))
    }
    fn at(&self, map: &str, key: &str) -> Option<&str> {
        match self.item.get(map) {
            Some(V::M(m)) => match m.get(key) {
                Some(V::S(s)) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }
    fn virt(&self, name: &str) -> Option<&str> {
        self.virt.get(name).map(String::as_str)
    }
    fn comp(&self, name: &str) -> Option<&str> {
        self.comp.get(name).map(String::as_str)
    }
    fn part(&self) -> Option<u32> {
        match self.item.get("part") {
            Some(V::N(n)) => n.parse().ok(),
            _ => None,
        }
    }
}

type Predicate = Box<dyn Fn(&View) -> bool>;

enum Expect {
    /// Exactly the items (of those written) this predicate holds for.
    Exact(Predicate),
    /// No plaintext predicate (a beacon NOT can drop items whose beacons
    /// collide): the official result is the reference.
    Official,
    /// The client refuses it (nothing sent).
    Refused,
    /// The official client fails the whole search with this error, where
    /// fieldseal follows DynamoDB's own evaluation (src/beacon/eval.rs):
    /// the plug-in must return exactly the items the predicate holds for.
    OfficialFails(Predicate, &'static str),
}

struct Search {
    table: usize,
    req: SearchRequest,
    expect: Expect,
}

impl Search {
    fn label(&self, tables: &[SearchTable]) -> String {
        format!("{}: {}", tables[self.table].name, self.req.describe())
    }
}

fn exact(table: usize, req: SearchRequest, p: impl Fn(&View) -> bool + 'static) -> Search {
    Search {
        table,
        req,
        expect: Expect::Exact(Box::new(p)),
    }
}

fn refused(table: usize, req: SearchRequest) -> Search {
    Search {
        table,
        req,
        expect: Expect::Refused,
    }
}

fn searches(tables: &[SearchTable], tenants: &[String]) -> Vec<Search> {
    let t = |i: usize| tables[i].name.as_str();
    let alice = "alice@example.com";
    let mut out = vec![
        // ---- search-single: Query on beacon GSIs
        exact(
            SINGLE,
            SearchRequest::query(t(SINGLE), "by-email", "email = :e").s(":e", alice),
            |v| v.is("email", "alice@example.com"),
        ),
        Search {
            table: SINGLE,
            // Every item of bob has a lookup: the reference fails `<>` on
            // a missing one (see the skuKey search below).
            req: SearchRequest::query(t(SINGLE), "by-email", "#e = :e")
                .name("#e", "email")
                .s(":e", "bob@example.org")
                .filter("lookup <> :full")
                .s(":full", "D-2024-02-14.R-east.S-shipped"),
            expect: Expect::Official,
        },
        exact(
            SINGLE,
            SearchRequest::query(
                t(SINGLE),
                "by-status-lookup",
                "status = :s AND begins_with(lookup, :p)",
            )
            .s(":s", "open")
            .s(":p", "D-2024-03"),
            |v| {
                v.is("status", "open")
                    && v.comp("lookup").is_some_and(|c| c.starts_with("D-2024-03"))
            },
        ),
        exact(
            SINGLE,
            SearchRequest::query(
                t(SINGLE),
                "by-status-lookup",
                "status = :s AND lookup BETWEEN :a AND :b",
            )
            .s(":s", "shipped")
            .s(":a", "D-2024-02-01")
            .s(":b", "D-2024-02-28"),
            |v| {
                v.is("status", "shipped")
                    && v.comp("lookup")
                        .is_some_and(|c| ("D-2024-02-01"..="D-2024-02-28").contains(&c))
            },
        ),
        exact(
            SINGLE,
            SearchRequest::query(
                t(SINGLE),
                "by-status-lookup",
                "status = :s AND lookup <= :c",
            )
            .s(":s", "open")
            .s(":c", "D-2024-03-16"),
            |v| v.is("status", "open") && v.comp("lookup").is_some_and(|c| c <= "D-2024-03-16"),
        ),
        exact(
            SINGLE,
            SearchRequest::query(
                t(SINGLE),
                "by-city-period",
                "city = :c AND begins_with(period, :p)",
            )
            .s(":c", "Seattle")
            .s(":p", "K-retail#M-2024-03"),
            |v| {
                v.at("address", "city") == Some("Seattle")
                    && v.comp("period")
                        .is_some_and(|c| c.starts_with("K-retail#M-2024-03"))
            },
        ),
        exact(
            SINGLE,
            SearchRequest::query(t(SINGLE), "by-last4", "last4 = :l").s(":l", "1111"),
            |v| v.virt("last4") == Some("1111"),
        ),
        exact(
            SINGLE,
            SearchRequest::query(t(SINGLE), "by-channel", "byChannel = :bc")
                .s(":bc", "C-web|F-apple"),
            |v| v.comp("byChannel") == Some("C-web|F-apple"),
        ),
        // ---- search-single: Scan filters
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "contains(tags, :t)").s(":t", "gift"),
            |v| v.set_has("tags", "gift"),
        ),
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "favorite IN (:f1, :f2)")
                .s(":f1", "apple")
                .s(":f2", "fig"),
            |v| v.is("favorite", "apple") || v.is("favorite", "fig"),
        ),
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "contains(wishlist, favorite)"),
            |v| v.s("favorite").is_some_and(|f| v.set_has("wishlist", f)),
        ),
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "contains(wishlist, :w)").s(":w", "apple"),
            |v| v.set_has("wishlist", "apple"),
        ),
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "contains(:set, favorite)")
                .value(":set", set(&["plum", "fig"])),
            |v| v.is("favorite", "plum") || v.is("favorite", "fig"),
        ),
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "backup = email"),
            |v| v.s("backup").is_some() && v.s("backup") == v.s("email"),
        ),
        exact(
            SINGLE,
            // "aliAB!", not "aliABexample.com!": the reference clamps a
            // position to the last index, so segments [1, 2) of two is empty
            // (the spec's reading would keep "example.com").
            SearchRequest::scan(t(SINGLE), "nameKey = :nk").s(":nk", "aliAB!"),
            |v| v.virt("nameKey") == Some("aliAB!"),
        ),
        Search {
            table: SINGLE,
            req: SearchRequest::scan(t(SINGLE), "skuKey = :sk OR (city = :c AND NOT status = :s)")
                .s(":sk", "-1234-est")
                .s(":c", "Boston")
                .s(":s", "open"),
            expect: Expect::Official,
        },
        // o5 and f5 have no region, so no skuKey: the reference's evaluator
        // fails the whole Scan on them; DynamoDB (and fieldseal) find `=`
        // on a missing attribute false.
        Search {
            table: SINGLE,
            req: SearchRequest::scan(t(SINGLE), "skuKey = :sk OR favorite = :f")
                .s(":sk", "-1234-est")
                .s(":f", "apple"),
            expect: Expect::OfficialFails(
                Box::new(|v| v.virt("skuKey") == Some("-1234-est") || v.is("favorite", "apple")),
                "wrong types for comparison",
            ),
        },
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "lookup = :full")
                .s(":full", "D-2024-03-15.R-west.S-open"),
            |v| v.comp("lookup") == Some("D-2024-03-15.R-west.S-open"),
        ),
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "begins_with(lookup, :pre)")
                .s(":pre", "D-2024-03-20.R-west"),
            |v| {
                v.comp("lookup")
                    .is_some_and(|c| c.starts_with("D-2024-03-20.R-west"))
            },
        ),
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "attribute_exists(#r) AND kind = :k")
                .name("#r", "region")
                .s(":k", "wholesale"),
            |v| v.s("region").is_some() && v.is("kind", "wholesale"),
        ),
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "email = :e")
                .s(":e", alice)
                .limit(2),
            |v| v.is("email", "alice@example.com"),
        ),
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "period = :pp").s(":pp", "K-retail#M-2024-02"),
            |v| v.comp("period") == Some("K-retail#M-2024-02"),
        ),
        exact(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "#c = :c AND (status = :s1 OR status = :s2)")
                .name("#c", "city")
                .s(":c", "Seattle")
                .s(":s1", "open")
                .s(":s2", "returned"),
            |v| {
                v.at("address", "city") == Some("Seattle")
                    && (v.is("status", "open") || v.is("status", "returned"))
            },
        ),
        // ---- search-single: refused by the client
        refused(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "note = :n").s(":n", "note for o1"),
        ),
        refused(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "email < :e").s(":e", alice),
        ),
        refused(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "status <> :s").s(":s", "open"),
        ),
        refused(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "begins_with(email, :e)").s(":e", "alice"),
        ),
        refused(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "region = :r").s(":r", "west"),
        ),
        refused(
            SINGLE,
            SearchRequest::scan(t(SINGLE), "lookup < :x").s(":x", "D-2024-03-15.R-west"),
        ),
        refused(
            SINGLE,
            SearchRequest::query(t(SINGLE), "by-email", "email BETWEEN :a AND :b")
                .s(":a", "a")
                .s(":b", "b"),
        ),
        // ---- search-part: every partition
        exact(
            PART,
            SearchRequest::query(t(PART), "by-email", "email = :e").s(":e", "zed@example.com"),
            |v| v.is("email", "zed@example.com"),
        ),
        exact(
            PART,
            SearchRequest::query(t(PART), "by-status", "status = :s").s(":s", "open"),
            |v| v.is("status", "open"),
        ),
        exact(
            PART,
            SearchRequest::query(t(PART), "by-region", "region = :r").s(":r", "west"),
            |v| v.is("region", "west"),
        ),
        exact(
            PART,
            SearchRequest::query(t(PART), "by-where", "where = :w").s(":w", "R-west.S-open"),
            |v| v.is("region", "west") && v.is("status", "open"),
        ),
        exact(
            PART,
            SearchRequest::query(t(PART), "by-email", "email = :e")
                .s(":e", "zed@example.com")
                .filter("status = :s")
                .s(":s", "open")
                .limit(1),
            |v| v.is("email", "zed@example.com") && v.is("status", "open"),
        ),
        exact(
            PART,
            SearchRequest::query(t(PART), "by-when", "when = :w")
                .s(":w", "D-2024-05-01~E-zed@example.com"),
            |v| v.is("created", "2024-05-01") && v.is("email", "zed@example.com"),
        ),
        exact(
            PART,
            SearchRequest::scan(t(PART), "email = :e").s(":e", "amy@example.com"),
            |v| v.is("email", "amy@example.com"),
        ),
        exact(
            PART,
            SearchRequest::scan(t(PART), "region = :r OR status = :s")
                .s(":r", "north")
                .s(":s", "shipped"),
            |v| v.is("region", "north") || v.is("status", "shipped"),
        ),
    ];
    // Every status on the 2-bit beacon: five statuses in four values, so
    // some of these queries read false positives (checked on the stored
    // items), which the plaintext filter drops. Pages of one item for one.
    for status in STATUSES {
        let mut req = SearchRequest::query(t(SINGLE), "by-status", "status = :s").s(":s", status);
        if status == "open" {
            req = req.limit(1);
        }
        out.push(exact(SINGLE, req, move |v| v.is("status", status)));
    }
    // One partition at a time: the email beacon (3 partitions) is in the
    // item's partition; the region beacon (2) in the item's partition mod 2.
    for p in 0..3u32 {
        out.push(exact(
            PART,
            SearchRequest::query(t(PART), "by-email", "email = :e")
                .s(":e", "zed@example.com")
                .on_partition(p),
            move |v| v.is("email", "zed@example.com") && v.part().map(|n| n % 3) == Some(p),
        ));
    }
    out.push(exact(
        PART,
        SearchRequest::query(t(PART), "by-region", "region = :r")
            .s(":r", "west")
            .on_partition(1),
        |v| v.is("region", "west") && v.part().map(|n| n % 3 % 2) == Some(1),
    ));
    out.push(refused(
        PART,
        SearchRequest::query(t(PART), "by-email", "email = :e")
            .s(":e", "zed@example.com")
            .on_partition(3),
    ));
    // ---- search-multi: the tenant (beacon key id) named in each query
    let (a, b) = (tenants[0].clone(), tenants[1].clone());
    // An item of `tenant` with `email`.
    let tenant_email = |tenant: &str, email: &'static str| {
        let tenant = tenant.to_owned();
        move |v: &View| v.is("email", email) && v.is("tenant", &tenant)
    };
    for tenant in [&a, &b] {
        out.push(exact(
            MULTI,
            SearchRequest::query(t(MULTI), "by-email", "email = :e")
                .s(":e", "same@example.com")
                .filter("tenant = :t")
                .s(":t", tenant),
            tenant_email(tenant, "same@example.com"),
        ));
    }
    out.push(exact(
        MULTI,
        SearchRequest::query(t(MULTI), "by-email", "email = :e")
            .s(":e", "other@example.com")
            .filter("#t = :t")
            .name("#t", "tenant")
            .s(":t", &a),
        tenant_email(&a, "other@example.com"),
    ));
    out.push(exact(
        MULTI,
        SearchRequest::query(t(MULTI), "by-tenant-email", "tenantEmail = :te")
            .s(":te", &format!("T-{a}|E-same@example.com")),
        tenant_email(&a, "same@example.com"),
    ));
    let b2 = b.clone();
    out.push(exact(
        MULTI,
        SearchRequest::scan(t(MULTI), "tenant = :t AND status = :s")
            .s(":t", &b)
            .s(":s", "open"),
        move |v| v.is("tenant", &b2) && v.is("status", "open"),
    ));
    out.push(refused(
        MULTI,
        SearchRequest::scan(t(MULTI), "email = :e").s(":e", "same@example.com"),
    ));
    out.push(refused(
        MULTI,
        SearchRequest::scan(t(MULTI), "(tenant = :a OR tenant = :b) AND email = :e")
            .s(":a", &a)
            .s(":b", &b)
            .s(":e", "same@example.com"),
    ));
    out
}

// ------------------------------------------------------------- comparison

/// The read form of `plaintext` in `table`: itself plus its signed beacons
/// (compound beacons with no encrypted part), which reads keep.
fn read_form(table: &SearchTable, plaintext: &Item, comp: &BTreeMap<String, String>) -> Item {
    let mut out = plaintext.clone();
    for name in table.signed_beacons() {
        if let Some(value) = comp.get(&name) {
            out.insert(name, s(value));
        }
    }
    out
}

/// `got` equals `want` attribute by attribute (numbers by value, sets in any order).
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
        format!("item {}: {}", pk_of(want), diffs.join("; "))
    })
}

fn pks(items: &[Item]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(pk_of).collect();
    v.sort();
    v
}

/// `got` holds exactly `want` (by key, any order, no duplicates), each
/// item equal to its counterpart.
fn same_items(want: &[Item], got: &[Item]) -> Result<(), String> {
    let (w, g) = (pks(want), pks(got));
    let mut dedup = g.clone();
    dedup.dedup();
    ensure(w == g && dedup.len() == g.len(), || {
        format!("items {g:?}, want {w:?}")
    })?;
    let by_key: BTreeMap<String, &Item> = got.iter().map(|i| (pk_of(i), i)).collect();
    for want in want {
        let got = by_key
            .get(&pk_of(want))
            .ok_or_else(|| format!("no item {}", pk_of(want)))?;
        check_item(want, got)?;
    }
    Ok(())
}

/// What `raw` (as stored) must share with `other`'s write of the same
/// plaintext: every attribute but the header, footer and ENCRYPT_AND_SIGN
/// ciphertext, byte for byte; and at least one `aws_dbe_b_` beacon.
fn same_beacons(table: &SearchTable, official: &Item, fieldseal: &Item) -> Result<usize, String> {
    let comparable = |raw: &Item| -> BTreeMap<String, V> {
        raw.iter()
            .filter(|(k, _)| {
                *k != "aws_dbe_head"
                    && *k != "aws_dbe_foot"
                    && table.spec.actions.get(*k) != Some(&CryptoAction::EncryptAndSign)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (o, f) = (comparable(official), comparable(fieldseal));
    let mut diffs = Vec::new();
    for k in o.keys().chain(f.keys().filter(|k| !o.contains_key(*k))) {
        match (o.get(k), f.get(k)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => diffs.push(format!(
                "{k:?}: official {} fieldseal {}",
                a.map_or("(none)".into(), show),
                b.map_or("(none)".into(), show)
            )),
        }
    }
    ensure(diffs.is_empty(), || diffs.join("; "))?;
    let beacons = o.keys().filter(|k| k.starts_with("aws_dbe_b_")).count();
    ensure(beacons > 0, || "no aws_dbe_b_ attribute stored".to_string())?;
    Ok(beacons)
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
        .map_err(|e| {
            format!(
                "PutItem {table} {}: {}",
                pk_of(item),
                DisplayErrorContext(&e)
            )
        })?;
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
            .ok_or_else(|| format!("GetItem {table}: no item {}", pk_of(key)))?;
        item_from_ddb(&item)
    }
}

// ------------------------------------------------------------- Node's half

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

fn string_map(v: Option<&Value>) -> Result<BTreeMap<String, String>, String> {
    v.and_then(Value::as_object)
        .ok_or("OUT.json: not an object")?
        .iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_owned()))
                .ok_or_else(|| format!("{k}: not a string"))
        })
        .collect()
}

/// The Node tool's operations, in order, with their labels.
struct NodeOps {
    ops: Vec<Value>,
}

impl NodeOps {
    fn push(&mut self, label: String, op: &str, mut body: Value) -> usize {
        body["label"] = json!(label);
        body["op"] = json!(op);
        self.ops.push(body);
        self.ops.len() - 1
    }
    fn label(&self, i: usize) -> &str {
        self.ops[i]["label"].as_str().unwrap_or("")
    }
}

/// A search's request for the Node tool: on the partitioned table, a Query
/// that names no partition goes through `queryAllPartitions`.
fn node_search(tables: &[SearchTable], search: &Search) -> (&'static str, Value) {
    let mut body = search.req.node_json();
    let op = if search.req.query { "query" } else { "scan" };
    if search.req.query && search.req.partition.is_none() && tables[search.table].partitions() > 1 {
        body["allPartitions"] = json!(true);
    }
    if matches!(search.expect, Expect::Refused) {
        body["expectRefusal"] = json!(true);
    }
    (op, body)
}

// ------------------------------------------------------------------- cases

/// (virtual fields, compound beacons), each name -> its string.
type Resolved = (BTreeMap<String, String>, BTreeMap<String, String>);

/// Every item of every table, and what the official side made of it.
struct Written {
    official: Vec<Vec<Item>>,
    fieldseal: Vec<Vec<Item>>,
    /// Per table: pk -> what the official ResolveAttributes made of the item.
    resolved: Vec<BTreeMap<String, Resolved>>,
}

impl Written {
    fn all(&self, t: usize) -> impl Iterator<Item = &Item> {
        self.official[t].iter().chain(&self.fieldseal[t])
    }

    fn read_form(&self, tables: &[SearchTable], t: usize, item: &Item) -> Item {
        let empty = BTreeMap::new();
        let comp = self.resolved[t].get(&pk_of(item)).map_or(&empty, |r| &r.1);
        read_form(&tables[t], item, comp)
    }

    /// The read forms of the items among `items` that `p` holds for.
    fn matching<'a>(
        &self,
        tables: &[SearchTable],
        t: usize,
        items: impl Iterator<Item = &'a Item>,
        p: &Predicate,
    ) -> Vec<Item> {
        let empty = (BTreeMap::new(), BTreeMap::new());
        items
            .filter(|item| {
                let (virt, comp) = self.resolved[t].get(&pk_of(item)).unwrap_or(&empty);
                p(&View { item, virt, comp })
            })
            .map(|item| self.read_form(tables, t, item))
            .collect()
    }
}

/// The official result of `search`, checked against its expectation over
/// `items` (the items written so far): `Ok(None)` for a refused search.
fn official_run(
    ctx: &Ctx,
    official: &OfficialSearch,
    tables: &[SearchTable],
    written: &Written,
    search: &Search,
    items: &[&Item],
) -> Result<Option<Vec<Item>>, String> {
    let table = &tables[search.table];
    let got = ctx.block_on(official_search_items(
        official,
        &search.req,
        table.partitions() > 1,
    ));
    match (&search.expect, got) {
        (Expect::Refused, Err(SearchFailure::Refused(_))) => Ok(None),
        (Expect::Refused, Err(e)) => Err(format!("not refused by the client but {e}")),
        (Expect::Refused, Ok(items)) => Err(format!(
            "the official client did not refuse it: {} item(s)",
            items.len()
        )),
        (Expect::OfficialFails(_, error), Err(e)) => {
            ensure(e.to_string().contains(error), || {
                format!("failed otherwise than with {error:?}: {e}")
            })?;
            Ok(None)
        }
        (Expect::OfficialFails(_, error), Ok(got)) => Err(format!(
            "the official client no longer fails with {error:?}: {} item(s)",
            got.len()
        )),
        (_, Err(e)) => Err(e.to_string()),
        (Expect::Exact(p), Ok(got)) => {
            let want = written.matching(tables, search.table, items.iter().copied(), p);
            ensure(!want.is_empty(), || {
                "the query matches no item: test data".to_string()
            })?;
            same_items(&want, &got)?;
            Ok(Some(got))
        }
        (Expect::Official, Ok(got)) => {
            // Each item as written, whatever the set.
            for g in &got {
                let w = items
                    .iter()
                    .find(|i| pk_of(i) == pk_of(g))
                    .ok_or_else(|| format!("an item never written: {}", pk_of(g)))?;
                check_item(&written.read_form(tables, search.table, w), g)?;
            }
            ensure(!got.is_empty(), || "no item: test data".to_string())?;
            Ok(Some(got))
        }
    }
}

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
            "fieldseal search interop",
        ))
    }) else {
        return;
    };
    let store_spec = StoreSpec {
        endpoint: ctx.endpoint.clone(),
        region: REGION.into(),
        ddb_table_name: KEY_STORE_TABLE.into(),
        logical_key_store_name: LOGICAL_KEY_STORE.into(),
        kms_key_arn,
    };
    let Some((store, tenants)) = r.case(
        "setup: the official key store (CreateKeyStore) with two branch keys (CreateKey): the beacon keys",
        || {
            let store = official_key_store(&store_spec)?;
            ctx.block_on(store.create_key_store().send())
                .map_err(|e| format!("official CreateKeyStore: {e}"))?;
            let mut ids = Vec::new();
            for _ in 0..2 {
                ids.push(
                    ctx.block_on(store.create_key().send())
                        .map_err(|e| format!("official CreateKey: {e}"))?
                        .branch_key_identifier
                        .ok_or("CreateKey returned no id")?,
                );
            }
            Ok((store, ids))
        },
    ) else {
        return;
    };
    let tables = search_tables(&tenants[0]);
    let twins: Vec<SearchTable> = tables.iter().map(|t| t.twin(&twin_name(t))).collect();
    let Some(()) = r.case(
        "setup: search-single, search-part, search-multi (with their beacon GSIs) and their twins in moto",
        || {
            ctx.block_on(async {
                for table in tables.iter().chain(&twins) {
                    create_search_table(&ctx.plain, table).await?;
                }
                Ok(())
            })
        },
    ) else {
        return;
    };
    // Two clients: the official refuses one logical table on two physical
    // tables in one config (as a table and its backup are configured apart).
    let Some((official, official_twin)) = r.case(
        "setup: the official DbEsdkInterceptor and transforms client for the three tables, and another for their twins (search configs built from the same JSON as the plug-in's)",
        || {
            ctx.block_on(async {
                let main: Vec<&SearchTable> = tables.iter().collect();
                let twin: Vec<&SearchTable> = twins.iter().collect();
                Ok((
                    official_search_clients(&ctx.endpoint, REGION, &store, &tenants, &main).await?,
                    official_search_clients(&ctx.endpoint, REGION, &store, &tenants, &twin).await?,
                ))
            })
        },
    ) else {
        return;
    };

    let (so, sf) = single_items();
    let (po, pf) = part_items();
    let (mo, mf) = multi_items(&tenants);
    let mut written = Written {
        official: vec![so, po, mo],
        fieldseal: vec![sf, pf, mf],
        resolved: vec![BTreeMap::new(); 3],
    };

    // The official ResolveAttributes of every item (the predicates' view of
    // virtual fields and compound beacons).
    for (t, table) in tables.iter().enumerate() {
        let items: Vec<Item> = written.all(t).cloned().collect();
        if let Some(resolved) = r.case(
            &format!(
                "the official ResolveAttributes of the {} items of {}",
                items.len(),
                table.name
            ),
            || {
                let mut out = BTreeMap::new();
                for item in &items {
                    let got = ctx.block_on(official_resolve(&official, &table.name, item))?;
                    out.insert(pk_of(item), got);
                }
                ensure(
                    out.values().any(|(v, c)| !v.is_empty() || !c.is_empty()),
                    || "no virtual field or compound beacon resolved".to_string(),
                )?;
                Ok(out)
            },
        ) {
            written.resolved[t] = resolved;
        }
    }

    // The official interceptor writes; it reads back plaintext + signed beacons.
    for (t, table) in tables.iter().enumerate() {
        let items = written.official[t].clone();
        if r.case(
            &format!(
                "the official interceptor's PutItem writes {} items with beacons into {}",
                items.len(),
                table.name
            ),
            || {
                items
                    .iter()
                    .try_for_each(|i| ctx.put(&official.client, &table.name, i))
            },
        )
        .is_some()
        {
            r.case(
                &format!(
                    "self-check: the official interceptor reads its items in {} back (plaintext + signed beacons)",
                    table.name
                ),
                || {
                    items.iter().try_for_each(|i| {
                        let got = ctx.get(&official.client, &table.name, &key_of(i))?;
                        check_item(&written.read_form(&tables, t, i), &got)
                    })
                },
            );
        }
    }

    let searches = searches(&tables, &tenants);
    // The official queries over the official items: the reference sets.
    let mut before: Vec<Option<Option<Vec<Item>>>> = Vec::new();
    let mut official_counts: Vec<Option<i32>> = Vec::new();
    for search in &searches {
        let items: Vec<&Item> = written.official[search.table].iter().collect();
        let label = search.label(&tables);
        let what = match search.expect {
            Expect::Refused => "refuses",
            Expect::Exact(_) => "finds exactly the matching official items",
            Expect::Official => "runs (no plaintext predicate)",
            Expect::OfficialFails(_, _) => "fails the whole search (a known difference)",
        };
        before.push(r.case(&format!("official {what}: {label}"), || {
            official_run(&ctx, &official, &tables, &written, search, &items)
        }));
        official_counts.push(
            if search.req.query && !matches!(search.expect, Expect::Refused) {
                r.case(&format!("official GetNumberOfQueries: {label}"), || {
                    ctx.block_on(official_number_of_queries(&official, &search.req))
                })
            } else {
                None
            },
        );
    }

    node_cases(
        r,
        &ctx,
        &official,
        &official_twin,
        &store_spec,
        &tenants,
        &tables,
        &twins,
        &written,
        &searches,
        &before,
        &official_counts,
    );
}

/// The plug-in's half: one run of the Node tool, then its results compared
/// here, the stored beacons compared, and its items searched by the official
/// client.
#[allow(clippy::too_many_arguments)]
fn node_cases(
    r: &mut Runner,
    ctx: &Ctx,
    official: &OfficialSearch,
    official_twin: &OfficialSearch,
    store_spec: &StoreSpec,
    tenants: &[String],
    tables: &[SearchTable],
    twins: &[SearchTable],
    written: &Written,
    searches: &[Search],
    before: &[Option<Option<Vec<Item>>>],
    official_counts: &[Option<i32>],
) {
    if let Err(why) = plugin_ready() {
        r.cannot_run(
            why,
            "The plug-in's search cases (official <-> fieldseal/dynamodb in Node)",
            "the npm package with the plug-in can run here (pkg/dist/dynamodb.js built, node installed)",
            "the plug-in's search cases in Node",
        );
        return;
    }
    let mut node = NodeOps { ops: Vec::new() };
    let counts: Vec<Option<usize>> = searches
        .iter()
        .map(|search| {
            (search.req.query && !matches!(search.expect, Expect::Refused)).then(|| {
                let mut body = search.req.node_json();
                body.as_object_mut().map(|o| o.remove("limit"));
                node.push(
                    format!("fieldseal getNumberOfQueries: {}", search.label(tables)),
                    "numberOfQueries",
                    body,
                )
            })
        })
        .collect();
    let mut resolves = Vec::new();
    for (t, table) in tables.iter().enumerate() {
        for item in written.all(t) {
            resolves.push((
                t,
                pk_of(item),
                node.push(
                    format!(
                        "fieldseal resolveAttributes: {} in {}",
                        pk_of(item),
                        table.name
                    ),
                    "resolve",
                    json!({ "table": table.name, "item": item_to_json(item) }),
                ),
            ));
        }
    }
    let node_before: Vec<usize> = searches
        .iter()
        .map(|search| {
            let (op, body) = node_search(tables, search);
            node.push(
                format!("fieldseal (before its writes): {}", search.label(tables)),
                op,
                body,
            )
        })
        .collect();
    let mut puts = Vec::new();
    for (t, table) in tables.iter().enumerate() {
        for (items, target) in [
            (&written.fieldseal[t], &table.name),
            (&written.official[t], &twins[t].name),
        ] {
            for item in items {
                puts.push((
                    t,
                    target.clone(),
                    pk_of(item),
                    node.push(
                        format!("fieldseal PutItem {} into {target}", pk_of(item)),
                        "put",
                        json!({ "table": target, "item": item_to_json(item) }),
                    ),
                ));
            }
        }
    }
    let node_after: Vec<Option<usize>> = searches
        .iter()
        .map(|search| {
            (!matches!(search.expect, Expect::Refused)).then(|| {
                let (op, body) = node_search(tables, search);
                node.push(
                    format!("fieldseal (after its writes): {}", search.label(tables)),
                    op,
                    body,
                )
            })
        })
        .collect();

    let clients: Vec<Value> = [tables, twins]
        .iter()
        .map(|group| {
            json!({ "tables": group
                .iter()
                .map(|t| (t.name.clone(), t.node_json()))
                .collect::<Map<_, _>>() })
        })
        .collect();
    let request = json!({
        "endpoint": ctx.endpoint.url,
        "region": REGION,
        "accessKeyId": ctx.endpoint.access_key_id,
        "secretAccessKey": ctx.endpoint.secret_access_key,
        "keyStore": {
            "ddbTableName": store_spec.ddb_table_name,
            "logicalKeyStoreName": store_spec.logical_key_store_name,
            "kmsKeyArn": store_spec.kms_key_arn,
        },
        "tenants": tenants,
        // One plug-in (and client) for the tables, one for their twins.
        "clients": clients,
        "operations": node.ops,
    });
    let total = node.ops.len();
    let run = r.case(
        &format!(
            "node tests/js/tools/{NODE_TOOL} runs {total} operations through the plug-in against this moto"
        ),
        || {
            let run = npm::run_tool(NODE_TOOL, &request)?;
            let results = run.output.get("results").and_then(Value::as_array);
            ensure(results.map(Vec::len) == Some(total), || {
                format!(
                    "OUT.json has {:?} results, want {total}; the tool printed:\n{}",
                    results.map(Vec::len),
                    run.log
                )
            })?;
            let all_ok = results
                .into_iter()
                .flatten()
                .all(|r| r.get("ok") == Some(&Value::Bool(true)));
            ensure(run.success == all_ok, || {
                format!(
                    "exit status success={} but every operation ok={all_ok}; the tool printed:\n{}",
                    run.success, run.log
                )
            })?;
            Ok(run.output)
        },
    );
    let result = |i: usize| -> Result<&Value, String> {
        node_result(need(&run, "the node tool")?, i, node.label(i))
    };

    // GetNumberOfQueries, ResolveAttributes.
    for (s, search) in searches.iter().enumerate() {
        let Some(i) = counts[s] else { continue };
        r.case(
            &format!(
                "getNumberOfQueries agrees with the official: {}",
                search.label(tables)
            ),
            || {
                let want = *need(&official_counts[s], "the official GetNumberOfQueries")?;
                let got = result(i)?.get("count").and_then(Value::as_i64);
                ensure(got == Some(i64::from(want)), || {
                    format!("fieldseal {got:?}, official {want}")
                })
            },
        );
    }
    for (t, table) in tables.iter().enumerate() {
        r.case(
            &format!(
                "resolveAttributes agrees with the official ResolveAttributes on every item of {} (virtual fields, compound beacons)",
                table.name
            ),
            || {
                ensure(!written.resolved[t].is_empty(), || {
                    "not run: the official ResolveAttributes failed earlier".to_string()
                })?;
                for (_, pk, i) in resolves.iter().filter(|(rt, _, _)| *rt == t) {
                    let got = result(*i)?;
                    let virt = string_map(got.get("virtualFields"))?;
                    let comp = string_map(got.get("compoundBeacons"))?;
                    let (want_virt, want_comp) = written.resolved[t]
                        .get(pk)
                        .ok_or_else(|| format!("no official resolution of {pk}"))?;
                    ensure(&virt == want_virt && &comp == want_comp, || {
                        format!(
                            "{pk}: fieldseal {virt:?} / {comp:?}, official {want_virt:?} / {want_comp:?}"
                        )
                    })?;
                }
                Ok(())
            },
        );
    }

    // The plug-in's searches over the official items.
    for (s, search) in searches.iter().enumerate() {
        let label = search.label(tables);
        match search.expect {
            Expect::Refused => r.case(
                &format!("the plug-in refuses as the official does (REQUEST_REFUSED): {label}"),
                || {
                    need(&before[s], "the official refusal")?;
                    let got = result(node_before[s])?;
                    let code = got.pointer("/refused/code").and_then(Value::as_str);
                    ensure(code == Some("REQUEST_REFUSED"), || {
                        format!(
                            "refused with {code:?}: {:?}",
                            got.pointer("/refused/message")
                        )
                    })
                },
            ),
            Expect::OfficialFails(ref p, error) => r.case(
                &format!(
                    "where the official fails ({error:?}), the plug-in returns the items DynamoDB's evaluation keeps: {label}"
                ),
                || {
                    let want = written.matching(
                        tables,
                        search.table,
                        written.official[search.table].iter(),
                        p,
                    );
                    let got = json_items(result(node_before[s])?.get("items"))?;
                    same_items(&want, &got)
                },
            ),
            _ => r.case(
                &format!(
                    "the plug-in finds the official items, the same set as the official: {label}"
                ),
                || {
                    let want = need(&before[s], "the official search")?
                        .as_ref()
                        .ok_or("the official result is missing")?;
                    let got = json_items(result(node_before[s])?.get("items"))?;
                    same_items(want, &got)
                },
            ),
        };
    }

    // The plug-in's writes: read back by the official interceptor.
    for (t, table) in tables.iter().enumerate() {
        r.case(
            &format!(
                "the official interceptor's GetItem reads the plug-in's {} items in {} (plaintext + signed beacons)",
                written.fieldseal[t].len(),
                table.name
            ),
            || {
                for (_, target, pk, i) in puts.iter().filter(|p| p.0 == t && p.1 == table.name) {
                    result(*i)?;
                    let item = written.fieldseal[t]
                        .iter()
                        .find(|x| &pk_of(x) == pk)
                        .ok_or("unknown item")?;
                    let got = ctx.get(&official.client, target, &key_of(item))?;
                    check_item(&written.read_form(tables, t, item), &got)?;
                }
                Ok(())
            },
        );
    }
    // The official interceptor writes the plug-in's items into the twins.
    for (t, twin) in twins.iter().enumerate() {
        r.case(
            &format!(
                "the official interceptor's PutItem writes the plug-in's {} items into {}",
                written.fieldseal[t].len(),
                twin.name
            ),
            || {
                written.fieldseal[t]
                    .iter()
                    .try_for_each(|i| ctx.put(&official_twin.client, &twin.name, i))
            },
        );
    }
    // Byte-equal beacons: each item written by both, one in the table and
    // one in its twin.
    for (t, table) in tables.iter().enumerate() {
        for (item, official_in, fieldseal_in) in written.official[t]
            .iter()
            .map(|i| (i, &table.name, &twins[t].name))
            .chain(
                written.fieldseal[t]
                    .iter()
                    .map(|i| (i, &twins[t].name, &table.name)),
            )
        {
            r.case(
                &format!(
                    "stored beacons byte-equal: {} as the official wrote it (in {official_in}) and as fieldseal did (in {fieldseal_in})",
                    pk_of(item)
                ),
                || {
                    if let Some((_, _, _, i)) = puts
                        .iter()
                        .find(|p| p.0 == t && &p.1 == fieldseal_in && p.2 == pk_of(item))
                    {
                        result(*i)?;
                    }
                    let o = ctx.get(&ctx.plain, official_in, &key_of(item))?;
                    let f = ctx.get(&ctx.plain, fieldseal_in, &key_of(item))?;
                    same_beacons(table, &o, &f).map(|_| ())
                },
            );
        }
    }

    r.case(
        "the test data has false positives: a stored status beacon (2 bits) stands for two statuses in search-single",
        || {
            let raw = ctx.block_on(ctx.plain.scan().table_name(&tables[SINGLE].name).send())
                .map_err(|e| format!("Scan: {}", DisplayErrorContext(&e)))?;
            let mut buckets: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
            for stored in raw.items.unwrap_or_default() {
                let stored = item_from_ddb(&stored)?;
                let (Some(V::S(beacon)), Some(plain)) = (
                    stored.get("aws_dbe_b_status"),
                    written.all(SINGLE).find(|i| pk_of(i) == pk_of(&stored)),
                ) else {
                    continue;
                };
                if let Some(V::S(status)) = plain.get("status") {
                    buckets.entry(beacon.clone()).or_default().insert(status.clone());
                }
            }
            let statuses: usize = buckets.values().map(|s| s.len()).sum();
            ensure(statuses == STATUSES.len(), || format!("statuses by beacon: {buckets:?}"))?;
            ensure(buckets.values().any(|s| s.len() > 1), || {
                format!("no two statuses share a beacon: {buckets:?}")
            })
        },
    );

    // After the plug-in's writes: the official finds them; both agree.
    for (s, search) in searches.iter().enumerate() {
        let Some(node_i) = node_after[s] else {
            continue;
        };
        let label = search.label(tables);
        let items: Vec<&Item> = written.all(search.table).collect();
        let after = r.case(
            &format!(
                "official (after the plug-in's writes) finds the plug-in's items too: {label}"
            ),
            || {
                for (_, _, _, i) in puts
                    .iter()
                    .filter(|p| p.0 == search.table && p.1 == tables[p.0].name)
                {
                    result(*i)?;
                }
                official_run(ctx, official, tables, written, search, &items)
            },
        );
        r.case(
            &format!(
                "the plug-in (after its writes) returns the same set as the official: {label}"
            ),
            || {
                let got = json_items(result(node_i)?.get("items"))?;
                match (&search.expect, need(&after, "the official search")?) {
                    (_, Some(want)) => same_items(want, &got),
                    (Expect::OfficialFails(p, _), None) => same_items(
                        &written.matching(tables, search.table, items.iter().copied(), p),
                        &got,
                    ),
                    (_, None) => Err("the official result is missing".into()),
                }
            },
        );
    }
}

// ------------------------------------------------------------------- main

fn main() {
    run_with_moto(
        "search interop",
        "The searchable encryption interop test",
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
