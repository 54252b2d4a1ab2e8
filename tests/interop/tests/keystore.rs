//! The hierarchical keyring on a real branch key store: fieldseal against the
//! official aws-db-esdk, both over one moto (KMS + DynamoDB), started here
//! through the project's launcher (tools/moto). Issue 13's interop proof:
//!
//! - f: the official CreateKeyStore makes the table; fieldseal's
//!   `create_key_store` returns its ARN, refuses a table with another key
//!   schema (KEY_STORE_FAILURE), and makes a table the official accepts;
//! - the official CreateKey makes tenant1's and tenant2's branch keys (and
//!   tenant5's, with a custom id and encryption context); fieldseal's
//!   `create_key` makes tenant3's and tenant4's (the same two ways);
//! - c: both key stores read every branch key alike (GetActiveBranchKey,
//!   GetBranchKeyVersion, GetBeaconKey: id, version, key bytes, context);
//! - e: fieldseal's items have the official attribute names, types and
//!   value formats (a Scan, shapes not values);
//! - a, b: per tenant and per table config (v1 context, v2 context), items
//!   sealed by one SDK's hierarchical keyring (a DynamoDB branch key id
//!   supplier choosing the tenant's key from the partition key) open in the
//!   other, with the same plaintext; the EDK names the tenant's active
//!   branch key version, and both suppliers receive the same `ddbKey`;
//! - d: the official VersionKey and fieldseal's `version_key` each rotate
//!   keys of both origins; items sealed before still open on both sides,
//!   new items carry the new version and open on both sides; a fieldseal
//!   `version_key` racing an official one fails cleanly, writing nothing;
//! - createKey on a taken id is refused by both, writing nothing; the
//!   DynamoDB adapter maps a cancelled transaction's reasons in order;
//! - g: through the npm package in Node (`fieldseal/kms` over @aws-sdk v3
//!   clients on this moto, run by tests/js/tools/open-hierarchy-items.mjs),
//!   items the official keyring sealed before and after the rotations open
//!   with the same plaintext and the same `ddbKey`, and items the package
//!   seals name the new versions and open in the official SDK.
//!
//! Runs without libtest (`harness = false`), as tests/matrix.rs: one line
//! per case, then `keystore interop: N cases passed, M failed`. Cases build
//! on one another (one store), so a failed step fails those that need it.
//! Without moto, or without the npm package built (`pkg/dist`) for g: a
//! loud skip, or a failure under CI (env `CI`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aws_db_esdk::item_encryptor::client::Client as OfficialEncryptor;
use aws_db_esdk::key_store::client::Client as OfficialKeyStore;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as Ddb, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use fieldseal::keystore::{
    BranchKeyMaterials, ConditionalPut, DynamoDbError, KeyStore, KeyStoreStorage, TableDescription,
};
use fieldseal::{AlgorithmSuiteId, AttributeValue as V, CryptoAction, Item, ItemEncryptor};
use fieldseal_interop::aws_clients::{create_kms_key, dynamodb_client, DynamoDbStorage};
use fieldseal_interop::convert::show;
use fieldseal_interop::hierarchy::{
    fieldseal_key_store, fieldseal_key_store_over, fieldseal_keyring, hierarchy_edks,
    official_active, official_beacon, official_key_store, official_keyring, official_version,
    KeyRead, StoreSpec, TenantSupplier, TTL_SECONDS,
};
use fieldseal_interop::manifest::{item_from_json, item_to_json};
use fieldseal_interop::moto::Moto;
use fieldseal_interop::npm;
use fieldseal_interop::runner::{ensure, need, run_with_moto, sdk_setup, Runner};
use fieldseal_interop::spec::TableSpec;
use fieldseal_interop::{canonical, ddb_equal, official};
use serde_json::{json, Value};

const REGION: &str = "us-west-2";
const KEY_STORE_TABLE: &str = "interop-key-store";
const LOGICAL_KEY_STORE: &str = "interop-logical-key-store";
const PARTITION_KEY: &str = "partition_key";
const SORT_KEY: &str = "sort_key";
/// The custom encryption context keys both SDKs' custom branch keys get
/// (values differ per key; the shapes must not).
const CUSTOM_CONTEXT_KEYS: [&str; 2] = ["department", "cost-center"];

// ----------------------------------------------------------------- context

/// Who created a tenant's branch key, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Official,
    Fieldseal,
}

#[derive(Debug, Clone)]
struct Tenant {
    /// The partition value that selects this tenant.
    name: &'static str,
    origin: Origin,
    branch_key_id: String,
    custom_context: BTreeMap<String, String>,
}

struct Ctx {
    rt: tokio::runtime::Runtime,
    spec: StoreSpec,
    official_store: OfficialKeyStore,
    fieldseal_store: Arc<KeyStore>,
    ddb: aws_sdk_dynamodb::Client,
}

impl Ctx {
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    fn store_spec(&self, table: &str) -> StoreSpec {
        StoreSpec {
            ddb_table_name: table.to_owned(),
            ..self.spec.clone()
        }
    }
}

/// One sealed item, kept to reopen after the rotations (and in Node).
struct Sealed {
    label: String,
    table: usize,
    /// Which SDK sealed it.
    by: Origin,
    input: Item,
    sealed: Item,
    /// What the sealing SDK's supplier was given (one ddbKey).
    ddb_key: Vec<Item>,
}

/// Both SDKs' hierarchical keyrings (fresh caches), as item encryptors for
/// every table config, each with its own recording supplier.
struct Encryptors {
    official: Vec<OfficialEncryptor>,
    fieldseal: Vec<ItemEncryptor>,
    official_supplier: Arc<TenantSupplier>,
    fieldseal_supplier: Arc<TenantSupplier>,
}

fn encryptors(ctx: &Ctx, tenants: &[Tenant], tables: &[TableConfig]) -> Result<Encryptors, String> {
    let pairs: Vec<(&str, &str)> = tenants
        .iter()
        .map(|t| (t.name, t.branch_key_id.as_str()))
        .collect();
    let official_supplier = TenantSupplier::new(PARTITION_KEY, &pairs);
    let fieldseal_supplier = TenantSupplier::new(PARTITION_KEY, &pairs);
    let mut official = Vec::new();
    let mut fieldseal = Vec::new();
    for table in tables {
        // One keyring per encryptor, as an application would configure each table.
        let keyring = ctx.block_on(official_keyring(&ctx.official_store, &official_supplier))?;
        official.push(official::encryptor_with_keyring(&table.spec, keyring)?);
        let keyring = fieldseal_keyring(&ctx.fieldseal_store, &fieldseal_supplier)?;
        fieldseal.push(
            ItemEncryptor::new(table.spec.encryptor_config(keyring))
                .map_err(|e| format!("fieldseal ItemEncryptor: {e}"))?,
        );
    }
    Ok(Encryptors {
        official,
        fieldseal,
        official_supplier,
        fieldseal_supplier,
    })
}

// ------------------------------------------------------------ table configs

struct TableConfig {
    label: &'static str,
    spec: TableSpec,
}

/// v1: no SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute (the supplier's
/// ddbKey is the primary key); v2: one, so the ddbKey holds it too.
fn table_configs() -> Vec<TableConfig> {
    use CryptoAction::{EncryptAndSign, SignAndIncludeInEncryptionContext, SignOnly};
    let base = |actions: &[(&str, CryptoAction)], suite| TableSpec {
        logical_table_name: "interop-tenant-table".into(),
        partition_key_name: PARTITION_KEY.into(),
        sort_key_name: Some(SORT_KEY.into()),
        actions: actions.iter().map(|(k, a)| (k.to_string(), *a)).collect(),
        allowed_unsigned_attributes: Vec::new(),
        allowed_unsigned_attribute_prefix: Some(":".into()),
        suite,
    };
    vec![
        TableConfig {
            label: "v1",
            spec: base(
                &[
                    (PARTITION_KEY, SignOnly),
                    (SORT_KEY, SignOnly),
                    ("tenant_sensitive_data", EncryptAndSign),
                    ("blob", EncryptAndSign),
                    ("nested", EncryptAndSign),
                    ("note", SignOnly),
                ],
                AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
            ),
        },
        TableConfig {
            label: "v2",
            spec: base(
                &[
                    (PARTITION_KEY, SignAndIncludeInEncryptionContext),
                    (SORT_KEY, SignAndIncludeInEncryptionContext),
                    ("tier", SignAndIncludeInEncryptionContext),
                    ("tenant_sensitive_data", EncryptAndSign),
                    ("blob", EncryptAndSign),
                    ("nested", EncryptAndSign),
                    ("note", SignOnly),
                ],
                AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
            ),
        },
    ]
}

/// A plaintext item of `tenant` for `table`; `n` tells items apart.
fn plaintext(table: &TableConfig, tenant: &str, n: u32) -> Item {
    let mut nested = Item::new();
    nested.insert(
        "list".into(),
        V::L(vec![V::N("1.50".into()), V::Bool(true), V::Null]),
    );
    nested.insert("s".into(), V::S(format!("{tenant}/{n}")));
    let mut item = Item::new();
    item.insert(PARTITION_KEY.into(), V::S(tenant.into()));
    item.insert(SORT_KEY.into(), V::N(n.to_string()));
    item.insert(
        "tenant_sensitive_data".into(),
        V::S(format!("{tenant}'s secret number {n}")),
    );
    item.insert("blob".into(), V::B(vec![n as u8, 0x00, 0xff, 0x10]));
    item.insert("nested".into(), V::M(nested));
    item.insert("note".into(), V::S("signed, not encrypted".into()));
    if table.spec.actions.contains_key("tier") {
        item.insert("tier".into(), V::S("gold".into()));
    }
    item
}

/// A decrypted item against its plaintext: ENCRYPT_AND_SIGN attributes in
/// fieldseal's canonical form, the others equal as DynamoDB values.
fn check_plaintext(table: &TableSpec, input: &Item, got: &Item) -> Result<(), String> {
    let mut d = Vec::new();
    for (k, v) in input {
        let Some(g) = got.get(k) else {
            d.push(format!("missing {k:?}"));
            continue;
        };
        if table.actions.get(k) == Some(&CryptoAction::EncryptAndSign) {
            let want = canonical(v).map_err(|e| format!("canonicalize {k:?}: {e}"))?;
            if *g != want {
                d.push(format!("{k:?}: got {} want {}", show(g), show(&want)));
            }
        } else if !ddb_equal(g, v) {
            d.push(format!("{k:?}: got {} want {}", show(g), show(v)));
        }
    }
    d.extend(
        got.keys()
            .filter(|k| !input.contains_key(*k))
            .map(|k| format!("unexpected {k:?}")),
    );
    ensure(d.is_empty(), || {
        format!("{} difference(s): {}", d.len(), d.join("; "))
    })
}

/// The sealed item has exactly one hierarchical EDK, naming `branch_key_id`
/// at `version`.
fn check_edk(sealed: &Item, branch_key_id: &str, version: &str) -> Result<(), String> {
    let edks = hierarchy_edks(sealed)?;
    let want = vec![(branch_key_id.to_owned(), version.to_owned())];
    ensure(edks == want, || {
        format!("hierarchical EDKs {edks:?}, want {want:?}")
    })
}

/// The supplier of each side saw exactly one ddbKey, and the same one.
fn check_same_ddb_key(what: &str, a: Vec<Item>, b: Vec<Item>) -> Result<(), String> {
    ensure(a.len() == 1 && b.len() == 1 && a == b, || {
        let render = |v: &Vec<Item>| {
            v.iter()
                .map(|i| show(&V::M(i.clone())))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        format!(
            "{what}: suppliers' ddbKeys differ: {} vs {}",
            render(&a),
            render(&b)
        )
    })
}

// -------------------------------------------------------------- key reads

fn fieldseal_read(m: BranchKeyMaterials) -> KeyRead {
    KeyRead {
        id: m.branch_key_id,
        version: Some(m.branch_key_version),
        key: m.branch_key.expose().to_vec(),
        encryption_context: m.encryption_context,
    }
}

/// Two reads of one key: never prints key bytes.
fn same_read(what: &str, official: &KeyRead, fieldseal: &KeyRead) -> Result<(), String> {
    let mut d = Vec::new();
    if official.id != fieldseal.id {
        d.push(format!("id {:?} vs {:?}", official.id, fieldseal.id));
    }
    if official.version != fieldseal.version {
        d.push(format!(
            "version {:?} vs {:?}",
            official.version, fieldseal.version
        ));
    }
    if official.key.len() != 32 || official.key != fieldseal.key {
        d.push(format!(
            "key bytes differ ({} vs {} bytes)",
            official.key.len(),
            fieldseal.key.len()
        ));
    }
    if official.encryption_context != fieldseal.encryption_context {
        d.push(format!(
            "encryption context {:?} vs {:?}",
            official.encryption_context, fieldseal.encryption_context
        ));
    }
    ensure(d.is_empty(), || {
        format!("{what}: official vs fieldseal: {}", d.join("; "))
    })
}

/// The active branch key as both stores read it (after checking they agree).
fn active_both(ctx: &Ctx, id: &str) -> Result<KeyRead, String> {
    let official = ctx.block_on(official_active(&ctx.official_store, id))?;
    let fieldseal = fieldseal_read(
        ctx.block_on(ctx.fieldseal_store.get_active_branch_key(id))
            .map_err(|e| format!("fieldseal get_active_branch_key({id}): {e}"))?,
    );
    same_read("GetActiveBranchKey", &official, &fieldseal)?;
    Ok(official)
}

/// One version as both stores read it (after checking they agree).
fn version_both(ctx: &Ctx, id: &str, version: &str) -> Result<KeyRead, String> {
    let official = ctx.block_on(official_version(&ctx.official_store, id, version))?;
    let fieldseal = fieldseal_read(
        ctx.block_on(ctx.fieldseal_store.get_branch_key_version(id, version))
            .map_err(|e| format!("fieldseal get_branch_key_version({id}, {version}): {e}"))?,
    );
    same_read("GetBranchKeyVersion", &official, &fieldseal)?;
    Ok(official)
}

/// Every read of a branch key agrees between the stores; returns the active one.
fn reads_agree(ctx: &Ctx, tenant: &Tenant) -> Result<KeyRead, String> {
    let id = &tenant.branch_key_id;
    let active = active_both(ctx, id)?;
    ensure(active.id == *id, || {
        format!("active key names id {:?}", active.id)
    })?;
    ensure(active.encryption_context == tenant.custom_context, || {
        format!(
            "custom encryption context {:?}, created with {:?}",
            active.encryption_context, tenant.custom_context
        )
    })?;
    let version = active
        .version
        .clone()
        .ok_or("active key without a version")?;
    let by_version = version_both(ctx, id, &version)?;
    ensure(by_version.key == active.key, || {
        "the active version's key differs from GetBranchKeyVersion's".into()
    })?;
    let official_beacon = ctx.block_on(official_beacon(&ctx.official_store, id))?;
    let beacon = ctx
        .block_on(ctx.fieldseal_store.get_beacon_key(id))
        .map_err(|e| format!("fieldseal get_beacon_key({id}): {e}"))?;
    let fieldseal_beacon = KeyRead {
        id: beacon.beacon_key_id,
        version: None,
        key: beacon.beacon_key.expose().to_vec(),
        encryption_context: beacon.encryption_context,
    };
    same_read("GetBeaconKey", &official_beacon, &fieldseal_beacon)?;
    ensure(official_beacon.key != active.key, || {
        "the beacon key equals the branch key".into()
    })?;
    Ok(active)
}

// ------------------------------------------------------------------- race

/// fieldseal's DynamoDB client with a rival writer: just before fieldseal's
/// first TransactWriteItems, the official VersionKey rotates the same
/// branch key, so fieldseal's `version_key` writes after its read went stale.
struct RacingStorage {
    inner: DynamoDbStorage,
    rival: OfficialKeyStore,
    branch_key_id: String,
    raced: AtomicBool,
    rival_result: Mutex<Option<Result<(), String>>>,
}

#[async_trait::async_trait(?Send)]
impl KeyStoreStorage for RacingStorage {
    async fn get_item(&self, table_name: &str, key: Item) -> Result<Option<Item>, DynamoDbError> {
        self.inner.get_item(table_name, key).await
    }

    async fn transact_write(&self, puts: Vec<ConditionalPut>) -> Result<(), DynamoDbError> {
        if !self.raced.swap(true, Ordering::SeqCst) {
            let rival = self
                .rival
                .version_key()
                .branch_key_identifier(&self.branch_key_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("the rival's VersionKey: {e}"));
            *self.rival_result.lock().unwrap_or_else(|e| e.into_inner()) = Some(rival);
        }
        self.inner.transact_write(puts).await
    }

    async fn describe_table(
        &self,
        table_name: &str,
    ) -> Result<Option<TableDescription>, DynamoDbError> {
        self.inner.describe_table(table_name).await
    }

    async fn create_table(&self, table_name: &str) -> Result<String, DynamoDbError> {
        self.inner.create_table(table_name).await
    }
}

// ------------------------------------------------------------------ shapes

/// Hex digits masked, for comparing generated ids and versions by format.
fn mask_hex(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_hexdigit() { 'h' } else { c })
        .collect()
}

/// The kind of a key store item by its `type`, for grouping.
fn item_kind(item: &HashMap<String, Ddb>) -> String {
    match item
        .get("type")
        .and_then(|t| t.as_s().ok())
        .map(String::as_str)
    {
        Some("branch:ACTIVE") => "active".into(),
        Some("beacon:ACTIVE") => "beacon".into(),
        Some(t) if t.starts_with("branch:version:") => "version".into(),
        other => format!("unknown type {other:?}"),
    }
}

/// An item's shape: every attribute's name and DynamoDB type, plus the
/// format (not the value) of what is generated (`create-time` with digits
/// masked, version UUIDs with hex masked) and the value of what is fixed
/// (`hierarchy-version`, `kms-arn`).
fn shape(item: &HashMap<String, Ddb>) -> BTreeMap<String, String> {
    item.iter()
        .map(|(name, value)| {
            let ty = match value {
                Ddb::S(_) => "S",
                Ddb::N(_) => "N",
                Ddb::B(_) => "B",
                Ddb::Bool(_) => "BOOL",
                Ddb::Null(_) => "NULL",
                Ddb::L(_) => "L",
                Ddb::M(_) => "M",
                Ddb::Ss(_) => "SS",
                Ddb::Ns(_) => "NS",
                Ddb::Bs(_) => "BS",
                _ => "?",
            };
            let text = match value {
                Ddb::S(s) | Ddb::N(s) => Some(s.as_str()),
                _ => None,
            };
            let detail = match (name.as_str(), text) {
                ("create-time", Some(t)) => Some(
                    t.chars()
                        .map(|c| if c.is_ascii_digit() { '9' } else { c })
                        .collect(),
                ),
                ("type" | "version", Some(t)) => Some(match t.strip_prefix("branch:version:") {
                    Some(v) => format!("branch:version:{}", mask_hex(v)),
                    None => t.to_owned(),
                }),
                ("hierarchy-version" | "kms-arn", Some(t)) => Some(t.to_owned()),
                _ => None,
            };
            let described = match detail {
                Some(d) => format!("{ty} {d}"),
                None => ty.to_owned(),
            };
            (name.clone(), described)
        })
        .collect()
}

fn scan(ctx: &Ctx, table: &str) -> Result<Vec<HashMap<String, Ddb>>, String> {
    ctx.block_on(async {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = ctx
                .ddb
                .scan()
                .table_name(table)
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "Scan {table}: {}",
                        aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                    )
                })?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    })
}

/// Items grouped by (kind, has a custom context), each with its branch key id.
type ShapeGroups = BTreeMap<(String, bool), Vec<(String, BTreeMap<String, String>)>>;

fn shape_groups(items: &[HashMap<String, Ddb>]) -> Result<ShapeGroups, String> {
    let mut groups = ShapeGroups::new();
    for item in items {
        let id = item
            .get("branch-key-id")
            .and_then(|v| v.as_s().ok())
            .ok_or("an item without an S branch-key-id")?
            .clone();
        let custom = item.keys().any(|k| k.starts_with("aws-crypto-ec:"));
        groups
            .entry((item_kind(item), custom))
            .or_default()
            .push((id, shape(item)));
    }
    Ok(groups)
}

fn render_shape(s: &BTreeMap<String, String>) -> String {
    s.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ------------------------------------------------------------- npm package

/// The Node tool that opens and seals items through fieldseal's npm package.
const NODE_TOOL: &str = "open-hierarchy-items.mjs";

/// What the npm package's cases build on: the store after the rotations.
struct NpmInputs<'a> {
    tenants: &'a [Tenant],
    tables: &'a [TableConfig],
    /// The keyrings built after the rotations: their official side opens
    /// what Node seals.
    encryptors: &'a Option<Encryptors>,
    /// Each tenant's active branch key after the rotations.
    active: &'a BTreeMap<String, KeyRead>,
    sealed_before: &'a [Sealed],
}

/// g: fieldseal's npm package in Node (tests/js/tools/open-hierarchy-items.mjs:
/// its `KeyStore` and `AwsKmsHierarchicalKeyring` over @aws-sdk v3 clients
/// pointed at this moto, with a supplier choosing the tenant's branch key
/// from the ddbKey) opens the items the official hierarchical keyring sealed
/// before the rotations (older versions) and after them (the new ones), and
/// seals items that the official SDK opens. Each item is one case, checked
/// here as the Rust-side cases are: the plaintext, the EDK's branch key and
/// version, and the ddbKey both suppliers were given.
fn npm_package_cases(r: &mut Runner, ctx: &Ctx, inputs: &NpmInputs) {
    let NpmInputs {
        tenants,
        tables,
        encryptors,
        active,
        sealed_before,
    } = inputs;
    if let Err(why) = npm::package_ready() {
        r.cannot_run(
            why,
            "The npm package's cases (g: official <-> fieldseal/kms in Node)",
            "g: the npm package can run here (pkg/dist built, node installed)",
            "g: the npm package's cases in Node",
        );
        return;
    }
    let new_version = |tenant: &Tenant| -> Result<String, String> {
        need(&active.get(tenant.name), "the rotation")?
            .version
            .clone()
            .ok_or_else(|| "no active version".to_string())
    };

    let Some(sealed_after) = r.case(
        "g: setup: the official SDK seals an item per table and tenant under the new versions, for the npm package",
        || {
            let enc = need(encryptors, "keyring setup")?;
            ensure(tenants.len() == 5, || {
                format!("only {} of 5 tenants have branch keys", tenants.len())
            })?;
            // Drop what the d cases left in the record.
            enc.official_supplier.take_seen();
            let mut out = Vec::new();
            for (t, table) in tables.iter().enumerate() {
                for tenant in tenants.iter() {
                    let version = new_version(tenant)?;
                    let input = plaintext(table, tenant.name, 5);
                    let sealed = ctx.block_on(official::encrypt(&enc.official[t], &input))?;
                    check_edk(&sealed, &tenant.branch_key_id, &version)?;
                    out.push(Sealed {
                        label: format!(
                            "{} {} sealed by the official SDK after the rotations",
                            table.label, tenant.name
                        ),
                        table: t,
                        by: Origin::Official,
                        input,
                        sealed,
                        ddb_key: enc.official_supplier.take_seen(),
                    });
                }
            }
            Ok(out)
        },
    ) else {
        return;
    };
    // (label, item): the official items sealed before the rotations, then after.
    let to_open: Vec<(String, &Sealed)> = sealed_before
        .iter()
        .filter(|s| s.by == Origin::Official)
        .map(|s| (format!("{} before the rotations", s.label), s))
        .chain(sealed_after.iter().map(|s| (s.label.clone(), s)))
        .collect();
    // (label, table, tenant, plaintext)
    let to_seal: Vec<(String, usize, &Tenant, Item)> = tables
        .iter()
        .enumerate()
        .flat_map(|(t, table)| {
            tenants.iter().map(move |tenant| {
                (
                    format!("{} {}", table.label, tenant.name),
                    t,
                    tenant,
                    plaintext(table, tenant.name, 6),
                )
            })
        })
        .collect();

    let spec = &ctx.spec;
    let request = json!({
        "store": {
            "endpoint": spec.endpoint.url,
            "region": spec.region,
            "accessKeyId": spec.endpoint.access_key_id,
            "secretAccessKey": spec.endpoint.secret_access_key,
            "ddbTableName": spec.ddb_table_name,
            "logicalKeyStoreName": spec.logical_key_store_name,
            "kmsKeyArn": spec.kms_key_arn,
        },
        "supplier": {
            "partitionKeyName": PARTITION_KEY,
            "branchKeyIds": tenants
                .iter()
                .map(|t| (t.name.to_string(), json!(t.branch_key_id)))
                .collect::<serde_json::Map<_, _>>(),
        },
        "ttlSeconds": TTL_SECONDS,
        "tables": tables
            .iter()
            .map(|t| (t.label.to_string(), npm::encryptor_config_json(&t.spec)))
            .collect::<serde_json::Map<_, _>>(),
        "open": to_open
            .iter()
            .map(|(label, s)| json!({
                "label": label,
                "table": tables[s.table].label,
                "sealed": item_to_json(&s.sealed),
                "plaintext": item_to_json(&s.input),
            }))
            .collect::<Vec<_>>(),
        "seal": to_seal
            .iter()
            .map(|(label, t, _, input)| json!({
                "label": label,
                "table": tables[*t].label,
                "plaintext": item_to_json(input),
            }))
            .collect::<Vec<_>>(),
    });
    let run = r.case(
        &format!(
            "g: node tests/js/tools/{NODE_TOOL} runs against this moto: {} items to open, {} to seal",
            to_open.len(),
            to_seal.len()
        ),
        || {
            let run = npm::run_tool(NODE_TOOL, &request)?;
            let mut all_ok = true;
            for (list, want) in [("opened", to_open.len()), ("sealed", to_seal.len())] {
                let results = run.output.get(list).and_then(Value::as_array);
                ensure(results.map(Vec::len) == Some(want), || {
                    format!(
                        "OUT.json has {:?} {list} results, want {want}; the tool printed:\n{}",
                        results.map(Vec::len),
                        run.log
                    )
                })?;
                all_ok &= results
                    .into_iter()
                    .flatten()
                    .all(|r| r.get("ok") == Some(&Value::Bool(true)));
            }
            // Its exit status is its own verdict on every item.
            ensure(run.success == all_ok, || {
                format!(
                    "exit status success={} but every item ok={all_ok}; the tool printed:\n{}",
                    run.success, run.log
                )
            })?;
            Ok(run.output)
        },
    );
    for (i, (label, s)) in to_open.iter().enumerate() {
        r.case(&format!("g: the npm package (Node) opens {label}"), || {
            let output = need(&run, "the node tool")?;
            let (opened, ddb_keys) = node_result(output, "opened", i, label)?;
            check_plaintext(&tables[s.table].spec, &s.input, &opened)?;
            check_same_ddb_key(
                "official encrypt vs npm package decrypt",
                s.ddb_key.clone(),
                ddb_keys,
            )
        });
    }
    for (i, (label, t, tenant, input)) in to_seal.iter().enumerate() {
        r.case(
            &format!("g: the npm package (Node) seals, official opens: {label}"),
            || {
                let output = need(&run, "the node tool")?;
                let enc = need(encryptors, "keyring setup")?;
                let (sealed, ddb_keys) = node_result(output, "sealed", i, label)?;
                check_edk(&sealed, &tenant.branch_key_id, &new_version(tenant)?)?;
                enc.official_supplier.take_seen();
                let opened = ctx.block_on(official::decrypt(&enc.official[*t], &sealed))?;
                check_plaintext(&tables[*t].spec, input, &opened)?;
                check_same_ddb_key(
                    "npm package encrypt vs official decrypt",
                    ddb_keys,
                    enc.official_supplier.take_seen(),
                )
            },
        );
    }
}

/// Result `index` of OUT.json's `list`, if the tool says it succeeded: its
/// item (decrypted or sealed) and the ddbKeys its supplier was given.
fn node_result(
    output: &Value,
    list: &str,
    index: usize,
    label: &str,
) -> Result<(Item, Vec<Item>), String> {
    let result = npm::tool_result(output, list, index, label, "the npm package")?;
    let item = item_from_json(result.get("item").ok_or("OUT.json: no item")?)?;
    let ddb_keys = result
        .get("ddbKeys")
        .and_then(Value::as_array)
        .ok_or("OUT.json: no ddbKeys")?
        .iter()
        .map(item_from_json)
        .collect::<Result<_, _>>()?;
    Ok((item, ddb_keys))
}

// ------------------------------------------------------------------- main

fn main() {
    run_with_moto(
        "keystore interop",
        "The branch key store interop test",
        cases,
        |t| {
            format!(
                "{} cases passed, {} failed{}",
                t.passed, t.failed, t.skipped
            )
        },
    )
}

fn cases(r: &mut Runner, moto: &Moto) {
    let Some((rt, endpoint)) = sdk_setup(r, moto) else {
        return;
    };
    let Some(kms_key_arn) = r.case("setup: a KMS key in moto", || {
        rt.block_on(create_kms_key(
            &endpoint,
            REGION,
            "fieldseal keystore interop",
        ))
    }) else {
        return;
    };
    let spec = StoreSpec {
        endpoint: endpoint.clone(),
        region: REGION.into(),
        ddb_table_name: KEY_STORE_TABLE.into(),
        logical_key_store_name: LOGICAL_KEY_STORE.into(),
        kms_key_arn,
    };
    let Some(ctx) = r.case("setup: both key stores configured", || {
        Ok(Ctx {
            official_store: official_key_store(&spec)?,
            fieldseal_store: fieldseal_key_store(&spec)?,
            ddb: dynamodb_client(&endpoint, REGION),
            rt,
            spec: spec.clone(),
        })
    }) else {
        return;
    };
    let ctx = &ctx;

    // ---------------------------------------------------------------- f
    let table_arn = r.case("f: official CreateKeyStore creates the table", || {
        let arn = ctx
            .block_on(ctx.official_store.create_key_store().send())
            .map_err(|e| format!("official CreateKeyStore: {e}"))?
            .table_arn
            .ok_or("CreateKeyStore returned no table ARN")?;
        ensure(arn.ends_with(&format!(":table/{KEY_STORE_TABLE}")), || {
            format!("table ARN {arn}")
        })?;
        Ok(arn)
    });
    r.case(
        "f: fieldseal create_key_store on the official table returns its ARN",
        || {
            let want = need(&table_arn, "CreateKeyStore")?;
            let got = ctx
                .block_on(ctx.fieldseal_store.create_key_store())
                .map_err(|e| format!("fieldseal create_key_store: {e}"))?;
            ensure(got == *want, || format!("ARN {got}, official {want}"))
        },
    );
    r.case(
        "f: create_key_store on a table with another key schema: fieldseal KEY_STORE_FAILURE, official refuses too",
        || {
            let table = "interop-not-a-key-store";
            ctx.block_on(async {
                ctx.ddb
                    .create_table()
                    .table_name(table)
                    .attribute_definitions(
                        AttributeDefinition::builder()
                            .attribute_name("id")
                            .attribute_type(ScalarAttributeType::S)
                            .build()
                            .map_err(|e| e.to_string())?,
                    )
                    .key_schema(
                        KeySchemaElement::builder()
                            .attribute_name("id")
                            .key_type(KeyType::Hash)
                            .build()
                            .map_err(|e| e.to_string())?,
                    )
                    .billing_mode(BillingMode::PayPerRequest)
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "CreateTable: {}",
                            aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                        )
                    })
            })?;
            let spec = ctx.store_spec(table);
            match ctx.block_on(fieldseal_key_store(&spec)?.create_key_store()) {
                Ok(arn) => return Err(format!("fieldseal accepted it: {arn}")),
                Err(e) => ensure(e.code() == "KEY_STORE_FAILURE", || {
                    format!("fieldseal failed with {}: {e}", e.code())
                })?,
            }
            let official = official_key_store(&spec)?;
            match ctx.block_on(official.create_key_store().send()) {
                Ok(out) => Err(format!("the official accepted it: {:?}", out.table_arn)),
                Err(_) => Ok(()),
            }
        },
    );
    r.case(
        "f: fieldseal create_key_store makes a table the official CreateKeyStore accepts and uses",
        || {
            let spec = ctx.store_spec("interop-key-store-made-by-fieldseal");
            let store = fieldseal_key_store(&spec)?;
            let arn = ctx
                .block_on(store.create_key_store())
                .map_err(|e| format!("fieldseal create_key_store: {e}"))?;
            let official = official_key_store(&spec)?;
            let official_arn = ctx
                .block_on(official.create_key_store().send())
                .map_err(|e| format!("official CreateKeyStore on it: {e}"))?
                .table_arn;
            ensure(official_arn.as_deref() == Some(arn.as_str()), || {
                format!("official ARN {official_arn:?}, fieldseal's {arn}")
            })?;
            let id = ctx
                .block_on(official.create_key().send())
                .map_err(|e| format!("official CreateKey on it: {e}"))?
                .branch_key_identifier
                .ok_or("CreateKey returned no id")?;
            let official_read = ctx.block_on(official_active(&official, &id))?;
            let fieldseal_read = fieldseal_read(
                ctx.block_on(store.get_active_branch_key(&id))
                    .map_err(|e| format!("fieldseal get_active_branch_key: {e}"))?,
            );
            same_read("GetActiveBranchKey", &official_read, &fieldseal_read)
        },
    );

    // ----------------------------------------------------- creating keys
    let custom_context = |values: [&str; 2]| -> BTreeMap<String, String> {
        CUSTOM_CONTEXT_KEYS
            .iter()
            .zip(values)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut tenants: Vec<Tenant> = Vec::new();
    if let Some(created) = r.case(
        "official CreateKey: tenant1 and tenant2 (generated ids), tenant5 (custom id + encryption context)",
        || {
            need(&table_arn, "CreateKeyStore")?;
            let mut out = Vec::new();
            for name in ["tenant1Id", "tenant2Id"] {
                let id = ctx
                    .block_on(ctx.official_store.create_key().send())
                    .map_err(|e| format!("official CreateKey: {e}"))?
                    .branch_key_identifier
                    .ok_or("CreateKey returned no id")?;
                out.push(Tenant {
                    name,
                    origin: Origin::Official,
                    branch_key_id: id,
                    custom_context: BTreeMap::new(),
                });
            }
            let context = custom_context(["official-dept", "cc-5"]);
            let custom_id = "official-custom-branch-key";
            let id = ctx
                .block_on(
                    ctx.official_store
                        .create_key()
                        .branch_key_identifier(custom_id)
                        .encryption_context(context.clone().into_iter().collect::<HashMap<_, _>>())
                        .send(),
                )
                .map_err(|e| format!("official CreateKey with a custom id: {e}"))?
                .branch_key_identifier
                .ok_or("CreateKey returned no id")?;
            ensure(id == custom_id, || format!("CreateKey returned id {id:?}"))?;
            out.push(Tenant {
                name: "tenant5Id",
                origin: Origin::Official,
                branch_key_id: id,
                custom_context: context,
            });
            Ok(out)
        },
    ) {
        tenants.extend(created);
    }
    if let Some(t) = r.case("c: fieldseal create_key: tenant3 (generated id)", || {
        need(&table_arn, "CreateKeyStore")?;
        let id = ctx
            .block_on(ctx.fieldseal_store.create_key(None, None))
            .map_err(|e| format!("fieldseal create_key: {e}"))?;
        // Generated ids look like the official's (lowercase UUID v4).
        if let Some(official) = tenants.iter().find(|t| t.origin == Origin::Official) {
            ensure(mask_hex(&id) == mask_hex(&official.branch_key_id), || {
                format!(
                    "generated id {id:?} has another format than the official {:?}",
                    official.branch_key_id
                )
            })?;
        }
        Ok(Tenant {
            name: "tenant3Id",
            origin: Origin::Fieldseal,
            branch_key_id: id,
            custom_context: BTreeMap::new(),
        })
    }) {
        tenants.push(t);
    }
    if let Some(t) = r.case(
        "c: fieldseal create_key: tenant4 (custom id + encryption context)",
        || {
            need(&table_arn, "CreateKeyStore")?;
            let context = custom_context(["fieldseal-dept", "cc-4"]);
            let custom_id = "fieldseal-custom-branch-key";
            let id = ctx
                .block_on(
                    ctx.fieldseal_store
                        .create_key(Some(custom_id), Some(&context)),
                )
                .map_err(|e| format!("fieldseal create_key: {e}"))?;
            ensure(id == custom_id, || format!("create_key returned id {id:?}"))?;
            Ok(Tenant {
                name: "tenant4Id",
                origin: Origin::Fieldseal,
                branch_key_id: id,
                custom_context: context,
            })
        },
    ) {
        tenants.push(t);
    }
    r.case(
        "c: both refuse createKey with a custom id and no encryption context",
        || {
            need(&table_arn, "CreateKeyStore")?;
            let id = "custom-id-without-context";
            let official = ctx.block_on(
                ctx.official_store
                    .create_key()
                    .branch_key_identifier(id)
                    .send(),
            );
            ensure(official.is_err(), || "the official accepted it".into())?;
            match ctx.block_on(ctx.fieldseal_store.create_key(Some(id), None)) {
                Ok(id) => Err(format!("fieldseal created {id:?}")),
                Err(e) => ensure(e.code() == "INVALID_CONFIG", || {
                    format!("fieldseal failed with {}: {e}", e.code())
                }),
            }
        },
    );
    tenants.sort_by_key(|t| t.name);

    // Every key, read by both stores.
    let mut active_before: BTreeMap<String, KeyRead> = BTreeMap::new();
    for tenant in &tenants {
        let origin = match tenant.origin {
            Origin::Official => "official",
            Origin::Fieldseal => "fieldseal",
        };
        let label = format!(
            "c: both stores read {}'s keys (created by the {origin} SDK) alike: active, version, beacon",
            tenant.name
        );
        if let Some(read) = r.case(&label, || reads_agree(ctx, tenant)) {
            active_before.insert(tenant.name.to_string(), read);
        }
    }

    r.case(
        "adapter: a cancelled transaction maps to TransactionCanceledException with each item's reason, in order",
        || {
            let taken = tenants.first().ok_or("no branch key created")?;
            let storage = DynamoDbStorage {
                client: ctx.ddb.clone(),
            };
            let put = |id: &str| {
                let mut item = Item::new();
                item.insert("branch-key-id".into(), V::S(id.into()));
                item.insert("type".into(), V::S("branch:ACTIVE".into()));
                ConditionalPut {
                    table_name: KEY_STORE_TABLE.into(),
                    item,
                    condition_expression: "attribute_not_exists(#id)".into(),
                    expression_attribute_names: BTreeMap::from([(
                        "#id".to_string(),
                        "branch-key-id".to_string(),
                    )]),
                    expression_attribute_values: Item::new(),
                }
            };
            let puts = vec![put("adapter-check-free-id"), put(&taken.branch_key_id)];
            match ctx.block_on(storage.transact_write(puts)) {
                Ok(()) => Err("the transaction overwrote an existing item".into()),
                Err(e) => ensure(
                    e.name == "TransactionCanceledException"
                        && e.cancellation_reasons == ["None", "ConditionalCheckFailed"]
                        && e.is_condition_failure(),
                    || format!("got {e}"),
                ),
            }
        },
    );
    r.case(
        "c: createKey with an id already in the store: both refuse, fieldseal with KEY_STORE_FAILURE, nothing written",
        || {
            let taken: Vec<&Tenant> = tenants
                .iter()
                .filter(|t| !t.custom_context.is_empty())
                .collect();
            ensure(taken.len() == 2, || {
                format!("{} keys with a custom id, want 2", taken.len())
            })?;
            for tenant in taken {
                let id = tenant.branch_key_id.as_str();
                let context = custom_context(["someone-else", "cc-0"]);
                match ctx.block_on(ctx.fieldseal_store.create_key(Some(id), Some(&context))) {
                    Ok(_) => return Err(format!("fieldseal created {id:?} again")),
                    Err(e) => ensure(e.code() == "KEY_STORE_FAILURE", || {
                        format!("fieldseal failed with {}: {e}", e.code())
                    })?,
                }
                let official = ctx.block_on(
                    ctx.official_store
                        .create_key()
                        .branch_key_identifier(id)
                        .encryption_context(context.clone().into_iter().collect::<HashMap<_, _>>())
                        .send(),
                );
                ensure(official.is_err(), || {
                    format!("the official created {id:?} again")
                })?;
                // The transaction wrote nothing: the key reads as before.
                let before = need(&active_before.get(tenant.name).cloned(), "reading the key")?
                    .clone();
                let now = active_both(ctx, id)?;
                ensure(now == before && now.encryption_context == tenant.custom_context, || {
                    format!("{id:?} changed: {before:?} -> {now:?}")
                })?;
            }
            Ok(())
        },
    );

    // ---------------------------------------------------------------- e
    r.case(
        "e: fieldseal create_key writes the official attribute names, types and formats",
        || {
            let by_origin: BTreeMap<&str, Origin> = tenants
                .iter()
                .map(|t| (t.branch_key_id.as_str(), t.origin))
                .collect();
            let items = scan(ctx, KEY_STORE_TABLE)?;
            let groups = shape_groups(&items)?;
            let mut checked = 0;
            for ((kind, custom), members) in &groups {
                let shapes_of = |origin: Origin| -> BTreeSet<&BTreeMap<String, String>> {
                    members
                        .iter()
                        .filter(|(id, _)| by_origin.get(id.as_str()) == Some(&origin))
                        .map(|(_, s)| s)
                        .collect()
                };
                let official = shapes_of(Origin::Official);
                let fieldseal = shapes_of(Origin::Fieldseal);
                ensure(official.len() == 1 && fieldseal.len() == 1, || {
                    format!(
                        "{kind} items (custom context: {custom}): {} official and {} fieldseal shapes",
                        official.len(),
                        fieldseal.len()
                    )
                })?;
                ensure(official == fieldseal, || {
                    format!(
                        "{kind} items (custom context: {custom}): official {{{}}} fieldseal {{{}}}",
                        official.iter().map(|s| render_shape(s)).collect::<Vec<_>>().join(" | "),
                        fieldseal.iter().map(|s| render_shape(s)).collect::<Vec<_>>().join(" | ")
                    )
                })?;
                checked += 1;
            }
            // active, version, beacon; each with and without a custom context.
            ensure(checked == 6, || format!("{checked} item kinds compared, want 6"))?;
            for tenant in &tenants {
                let n = items
                    .iter()
                    .filter(|i| {
                        i.get("branch-key-id").and_then(|v| v.as_s().ok())
                            == Some(&tenant.branch_key_id)
                    })
                    .count();
                ensure(n == 3, || format!("{}: {n} items, want 3", tenant.name))?;
            }
            Ok(())
        },
    );

    // ------------------------------------------------------------- a, b
    let tables = table_configs();
    let before = r.case(
        "setup: both hierarchical keyrings with a DynamoDB branch key id supplier",
        || {
            ensure(tenants.len() == 5, || {
                format!("only {} of 5 tenants have branch keys", tenants.len())
            })?;
            encryptors(ctx, &tenants, &tables)
        },
    );
    let mut sealed_before: Vec<Sealed> = Vec::new();
    for (t, table) in tables.iter().enumerate() {
        for tenant in &tenants {
            let active = active_before.get(tenant.name);
            let tag = format!("{} {}", table.label, tenant.name);
            let label = format!("a: official seals, fieldseal opens: {tag}");
            if let Some(s) = r.case(&label, || {
                let enc = need(&before, "keyring setup")?;
                let version = active
                    .and_then(|a| a.version.clone())
                    .ok_or("not run: reading the key failed earlier")?;
                let input = plaintext(table, tenant.name, 1);
                let sealed = ctx.block_on(official::encrypt(&enc.official[t], &input))?;
                check_edk(&sealed, &tenant.branch_key_id, &version)?;
                let sealed_ddb_key = enc.official_supplier.take_seen();
                let opened = ctx
                    .block_on(enc.fieldseal[t].decrypt_item(&sealed))
                    .map_err(|e| format!("fieldseal decrypt_item: {e}"))?;
                check_plaintext(&table.spec, &input, &opened)?;
                check_same_ddb_key(
                    "official encrypt vs fieldseal decrypt",
                    sealed_ddb_key.clone(),
                    enc.fieldseal_supplier.take_seen(),
                )?;
                Ok(Sealed {
                    label: format!("{tag} sealed by the official SDK"),
                    table: t,
                    by: Origin::Official,
                    input,
                    sealed,
                    ddb_key: sealed_ddb_key,
                })
            }) {
                sealed_before.push(s);
            }
            let label = format!("b: fieldseal seals, official opens: {tag}");
            if let Some(s) = r.case(&label, || {
                let enc = need(&before, "keyring setup")?;
                let version = active
                    .and_then(|a| a.version.clone())
                    .ok_or("not run: reading the key failed earlier")?;
                let input = plaintext(table, tenant.name, 2);
                let sealed = ctx
                    .block_on(enc.fieldseal[t].encrypt_item(&input))
                    .map_err(|e| format!("fieldseal encrypt_item: {e}"))?;
                check_edk(&sealed, &tenant.branch_key_id, &version)?;
                let sealed_ddb_key = enc.fieldseal_supplier.take_seen();
                let opened = ctx.block_on(official::decrypt(&enc.official[t], &sealed))?;
                check_plaintext(&table.spec, &input, &opened)?;
                check_same_ddb_key(
                    "fieldseal encrypt vs official decrypt",
                    sealed_ddb_key.clone(),
                    enc.official_supplier.take_seen(),
                )?;
                Ok(Sealed {
                    label: format!("{tag} sealed by fieldseal"),
                    table: t,
                    by: Origin::Fieldseal,
                    input,
                    sealed,
                    ddb_key: sealed_ddb_key,
                })
            }) {
                sealed_before.push(s);
            }
        }
    }

    // ---------------------------------------------------------------- d
    // Who rotates which key: each SDK rotates keys of both origins.
    let rotated_by_official = ["tenant1Id", "tenant4Id"];
    let mut active_after: BTreeMap<String, KeyRead> = BTreeMap::new();
    for tenant in &tenants {
        let by_official = rotated_by_official.contains(&tenant.name);
        let label = format!(
            "d: {} rotates {} ({} key): both stores read the new version, the old one is still readable",
            if by_official { "official VersionKey" } else { "fieldseal version_key" },
            tenant.name,
            match tenant.origin {
                Origin::Official => "an official",
                Origin::Fieldseal => "a fieldseal",
            }
        );
        if let Some(read) = r.case(&label, || {
            let old = need(&active_before.get(tenant.name).cloned(), "reading the key")?.clone();
            let id = &tenant.branch_key_id;
            if by_official {
                ctx.block_on(
                    ctx.official_store
                        .version_key()
                        .branch_key_identifier(id)
                        .send(),
                )
                .map_err(|e| format!("official VersionKey({id}): {e}"))?;
            } else {
                ctx.block_on(ctx.fieldseal_store.version_key(id))
                    .map_err(|e| format!("fieldseal version_key({id}): {e}"))?;
            }
            let new = reads_agree(ctx, tenant)?;
            ensure(new.version != old.version, || {
                format!("the active version is still {:?}", old.version)
            })?;
            ensure(new.key != old.key, || {
                "the new version has the old key".into()
            })?;
            let old_version = old.version.clone().ok_or("no old version")?;
            let still = version_both(ctx, id, &old_version)?;
            ensure(still.key == old.key, || {
                "the old version's key changed".into()
            })?;
            Ok(new)
        }) {
            active_after.insert(tenant.name.to_string(), read);
        }
    }

    let after = r.case(
        "setup: fresh keyrings (empty caches) after the rotations",
        || encryptors(ctx, &tenants, &tables),
    );
    for s in &sealed_before {
        let table = &tables[s.table];
        r.case(
            &format!("d: after rotation, fieldseal opens {}", s.label),
            || {
                let enc = need(&after, "keyring setup")?;
                let opened = ctx
                    .block_on(enc.fieldseal[s.table].decrypt_item(&s.sealed))
                    .map_err(|e| format!("fieldseal decrypt_item: {e}"))?;
                check_plaintext(&table.spec, &s.input, &opened)
            },
        );
        r.case(
            &format!("d: after rotation, the official SDK opens {}", s.label),
            || {
                let enc = need(&after, "keyring setup")?;
                let opened = ctx.block_on(official::decrypt(&enc.official[s.table], &s.sealed))?;
                check_plaintext(&table.spec, &s.input, &opened)
            },
        );
    }
    for (t, table) in tables.iter().enumerate() {
        for tenant in &tenants {
            let tag = format!("{} {}", table.label, tenant.name);
            let new_version = || -> Result<String, String> {
                need(&active_after.get(tenant.name), "the rotation")?
                    .version
                    .clone()
                    .ok_or_else(|| "no active version".to_string())
            };
            r.case(
                &format!("d: after rotation, official seals with the new version, fieldseal opens: {tag}"),
                || {
                    let enc = need(&after, "keyring setup")?;
                    let version = new_version()?;
                    let input = plaintext(table, tenant.name, 3);
                    let sealed = ctx.block_on(official::encrypt(&enc.official[t], &input))?;
                    check_edk(&sealed, &tenant.branch_key_id, &version)?;
                    let opened = ctx
                        .block_on(enc.fieldseal[t].decrypt_item(&sealed))
                        .map_err(|e| format!("fieldseal decrypt_item: {e}"))?;
                    check_plaintext(&table.spec, &input, &opened)
                },
            );
            r.case(
                &format!("d: after rotation, fieldseal seals with the new version, official opens: {tag}"),
                || {
                    let enc = need(&after, "keyring setup")?;
                    let version = new_version()?;
                    let input = plaintext(table, tenant.name, 4);
                    let sealed = ctx
                        .block_on(enc.fieldseal[t].encrypt_item(&input))
                        .map_err(|e| format!("fieldseal encrypt_item: {e}"))?;
                    check_edk(&sealed, &tenant.branch_key_id, &version)?;
                    let opened = ctx.block_on(official::decrypt(&enc.official[t], &sealed))?;
                    check_plaintext(&table.spec, &input, &opened)
                },
            );
        }
    }

    // ------------------------------------------------- e, after rotation
    r.case(
        "e: after rotations by both SDKs, every item of a kind has one shape",
        || {
            let items = scan(ctx, KEY_STORE_TABLE)?;
            let groups = shape_groups(&items)?;
            for ((kind, custom), members) in &groups {
                let shapes: BTreeSet<&BTreeMap<String, String>> =
                    members.iter().map(|(_, s)| s).collect();
                ensure(shapes.len() == 1, || {
                    format!(
                        "{kind} items (custom context: {custom}): {} shapes: {}",
                        shapes.len(),
                        shapes
                            .iter()
                            .map(|s| render_shape(s))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    )
                })?;
            }
            for tenant in &tenants {
                let versions = items
                    .iter()
                    .filter(|i| {
                        i.get("branch-key-id").and_then(|v| v.as_s().ok())
                            == Some(&tenant.branch_key_id)
                            && item_kind(i) == "version"
                    })
                    .count();
                ensure(versions == 2, || {
                    format!("{}: {versions} version items, want 2", tenant.name)
                })?;
            }
            Ok(())
        },
    );

    r.case(
        "d: fieldseal version_key racing the official VersionKey loses cleanly: KEY_STORE_FAILURE, the rival's version active, nothing half-written",
        || {
            need(&table_arn, "CreateKeyStore")?;
            let id = ctx
                .block_on(ctx.fieldseal_store.create_key(None, None))
                .map_err(|e| format!("fieldseal create_key: {e}"))?;
            let original = active_both(ctx, &id)?;
            let racing = Arc::new(RacingStorage {
                inner: DynamoDbStorage {
                    client: ctx.ddb.clone(),
                },
                rival: ctx.official_store.clone(),
                branch_key_id: id.clone(),
                raced: AtomicBool::new(false),
                rival_result: Mutex::new(None),
            });
            let store = fieldseal_key_store_over(&ctx.spec, racing.clone())?;
            match ctx.block_on(store.version_key(&id)) {
                Ok(()) => return Err("fieldseal's stale version_key succeeded".into()),
                Err(e) => ensure(e.code() == "KEY_STORE_FAILURE", || {
                    format!("fieldseal failed with {}: {e}", e.code())
                })?,
            }
            racing
                .rival_result
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .ok_or("the rival never ran")??;
            let active = active_both(ctx, &id)?;
            ensure(active.version != original.version, || {
                "the rival's rotation is not active".into()
            })?;
            let items = scan(ctx, KEY_STORE_TABLE)?;
            let versions: BTreeSet<String> = items
                .iter()
                .filter(|i| {
                    i.get("branch-key-id").and_then(|v| v.as_s().ok()) == Some(&id)
                        && item_kind(i) == "version"
                })
                .filter_map(|i| i.get("type").and_then(|t| t.as_s().ok()).cloned())
                .collect();
            let want: BTreeSet<String> = [&original, &active]
                .iter()
                .filter_map(|r| r.version.as_ref())
                .map(|v| format!("branch:version:{v}"))
                .collect();
            ensure(versions == want, || {
                format!("version items {versions:?}, want exactly {want:?}")
            })
        },
    );

    // ---------------------------------------------------------------- g
    npm_package_cases(
        r,
        ctx,
        &NpmInputs {
            tenants: &tenants,
            tables: &tables,
            encryptors: &after,
            active: &active_after,
            sealed_before: &sealed_before,
        },
    );
}
