//! Searchable encryption (beacons) on both sides, for the search interop
//! test (`tests/search.rs`). Each searchable table is described once
//! ([`SearchTable`]): its item encryptor config, its keyring, and its
//! `search` config as the npm package takes it (the DB-ESDK's builder names
//! in camelCase). The official side is built from that same JSON, key for
//! key ([`official_search`], which refuses any name it does not know), so
//! the two configurations cannot drift apart; the Node tool
//! (`tests/js/tools/search-interop.mjs`) adds only the `KeyStore` object and
//! turns the partition selector's description into a function.
//!
//! Also here: the official side's Query/Scan loops (every page, and every
//! partition as `GetNumberOfQueries` says, with `:aws_dbe_partition`), and
//! one description of a Query/Scan ([`SearchRequest`]) sent by both sides.

use std::collections::{BTreeMap, HashMap};

use aws_db_esdk::dynamodb::operation::get_partition_number::{
    GetPartitionNumberInput, GetPartitionNumberOutput,
};
use aws_db_esdk::dynamodb::types::error::Error as DbEsdkError;
use aws_db_esdk::dynamodb::types::{
    AsSet, BeaconKeySource, BeaconStyle, BeaconVersion, CompoundBeacon, Constructor,
    ConstructorPart, DynamoDbTableEncryptionConfig, EncryptedPart, GetPrefix, GetSegment,
    GetSegments, GetSubstring, GetSuffix, Insert, Lower, MultiKeyStore, PartOnly,
    PartitionSelector, SearchConfig, Shared, SharedSet, SignedPart, SingleKeyStore, StandardBeacon,
    Upper, VirtualField, VirtualPart, VirtualTransform,
};
use aws_db_esdk::intercept::DbEsdkInterceptor;
use aws_db_esdk::key_store::client::Client as OfficialKeyStore;
use aws_db_esdk::material_providers::types::keyring::KeyringRef;
use aws_db_esdk::types::dynamo_db_tables_encryption_config::DynamoDbTablesEncryptionConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as Ddb, BillingMode, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use fieldseal::{AttributeValue as V, Item};
use serde_json::{json, Map, Value};

use crate::aws_clients::{dynamodb_client, Endpoint};
use crate::convert::{item_from_ddb, item_to_ddb};
use crate::hierarchy::{official_keyring as official_hierarchical_keyring, TenantSupplier};
use crate::manifest::item_to_json;
use crate::npm;
use crate::official;
use crate::spec::{KeySpec, TableSpec};

/// The expression value that names a query's partition (aws-db-esdk 1.3).
pub const PARTITION_VALUE: &str = ":aws_dbe_partition";

/// The hierarchical keyring's and the beacon key sources' TTL (seconds).
pub const TTL_SECONDS: u64 = crate::hierarchy::TTL_SECONDS;

/// How a table's items are wrapped.
#[derive(Clone, Debug)]
pub enum SearchKey {
    /// A raw AES keyring (the key bytes travel to the Node tool as base64).
    Aes {
        namespace: String,
        name: String,
        key: Vec<u8>,
    },
    /// The hierarchical keyring on the shared branch key store, choosing
    /// each item's branch key from its `tenant_field` (an S attribute in the
    /// encryption context) whose value is the branch key id itself, as a
    /// multi-tenant beacon key source wants it (the beacon key id is the
    /// header's one hierarchical EDK's branch key id).
    Hierarchy { tenant_field: String },
}

/// A global secondary index on beacon attributes (S), projecting all.
#[derive(Clone, Debug)]
pub struct Index {
    pub name: String,
    pub hash: String,
    pub range: Option<String>,
}

/// One searchable table, described once for both sides.
#[derive(Clone, Debug)]
pub struct SearchTable {
    /// The physical table name.
    pub name: String,
    pub spec: TableSpec,
    pub key: SearchKey,
    /// The `search` config as the npm package takes it, without the
    /// versions' `keyStore`; a version's `partitionSelector` is described
    /// as `{ "attribute": NAME }`: the item's N attribute NAME, modulo the
    /// number of partitions ([`AttributePartition`]).
    pub search: Value,
    pub indexes: Vec<Index>,
}

impl SearchTable {
    /// The same table under another physical name and without indexes:
    /// same logical name and config, so the same plaintext gets the same
    /// beacons in both.
    pub fn twin(&self, name: &str) -> SearchTable {
        SearchTable {
            name: name.to_owned(),
            indexes: Vec::new(),
            ..self.clone()
        }
    }

    /// `{ config, keyring }` for the Node tool: the plug-in's per-table
    /// config (with `search`) without the keyring and key store objects.
    pub fn node_json(&self) -> Value {
        let mut config = npm::encryptor_config_json(&self.spec);
        config["search"] = self.search.clone();
        let keyring = match &self.key {
            SearchKey::Aes {
                namespace,
                name,
                key,
            } => json!({ "aes": {
                "keyNamespace": namespace,
                "keyName": name,
                "wrappingKey": B64.encode(key),
            }}),
            SearchKey::Hierarchy { tenant_field } => json!({ "hierarchy": {
                "tenantField": tenant_field,
                "ttlSeconds": TTL_SECONDS,
            }}),
        };
        json!({ "config": config, "keyring": keyring })
    }

    /// The official interceptor's config for this table.
    pub async fn official_config(
        &self,
        store: &OfficialKeyStore,
        tenants: &[String],
    ) -> Result<DynamoDbTableEncryptionConfig, String> {
        let spec = &self.spec;
        let keyring: KeyringRef = match &self.key {
            SearchKey::Aes {
                namespace,
                name,
                key,
            } => {
                official::keyring(&KeySpec::Aes {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    key: key.clone(),
                })
                .await?
            }
            SearchKey::Hierarchy { tenant_field } => {
                let pairs: Vec<(&str, &str)> =
                    tenants.iter().map(|t| (t.as_str(), t.as_str())).collect();
                let supplier = TenantSupplier::new(tenant_field, &pairs);
                official_hierarchical_keyring(store, &supplier).await?
            }
        };
        let search = official_search(&self.search, store)?;
        crate::intercept::official_table_config(&self.name, spec, keyring, Some(search))
    }

    /// The number of partitions of the write version
    /// (`maximumNumberOfPartitions`, default 1).
    pub fn partitions(&self) -> u32 {
        let write = self.search.get("writeVersion").and_then(Value::as_i64);
        self.search
            .get("versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|v| v.get("version").and_then(Value::as_i64) == write)
            .and_then(|v| v.get("maximumNumberOfPartitions"))
            .and_then(Value::as_u64)
            .map_or(1, |n| n as u32)
    }

    /// The names of the compound beacons with no encrypted part (signed
    /// beacons): written in plaintext under their own name, and left in what
    /// a read returns (only `aws_dbe_*` attributes are removed).
    pub fn signed_beacons(&self) -> Vec<String> {
        let mut out = Vec::new();
        for version in self
            .search
            .get("versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let global_encrypted: Vec<&str> = names(version.get("encryptedParts"));
            for beacon in version
                .get("compoundBeacons")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let own_encrypted = names(beacon.get("encrypted"));
                let constructed: Vec<&str> = beacon
                    .get("constructors")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .flat_map(|c| names(c.get("parts")))
                    .collect();
                let encrypted = !own_encrypted.is_empty()
                    || constructed.iter().any(|p| global_encrypted.contains(p));
                if !encrypted {
                    if let Some(name) = beacon.get("name").and_then(Value::as_str) {
                        out.push(name.to_owned());
                    }
                }
            }
        }
        out
    }
}

fn names(list: Option<&Value>) -> Vec<&str> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect()
}

// ------------------------------------------------ JSON -> official config

/// The object at `path`, refusing any key not in `allowed` (so a name the
/// official builders do not have cannot pass unnoticed).
fn object<'a>(
    v: &'a Value,
    path: &str,
    allowed: &[&str],
) -> Result<&'a Map<String, Value>, String> {
    let m = v
        .as_object()
        .ok_or_else(|| format!("{path}: not an object"))?;
    if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("{path}: unknown key {k:?}"));
    }
    Ok(m)
}

fn string(m: &Map<String, Value>, key: &str, path: &str) -> Result<String, String> {
    m.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("{path}.{key}: not a string"))
}

fn opt_string(m: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, String> {
    match m.get(key) {
        None => Ok(None),
        Some(_) => string(m, key, path).map(Some),
    }
}

fn int(m: &Map<String, Value>, key: &str, path: &str) -> Result<i32, String> {
    m.get(key)
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| format!("{path}.{key}: not an integer"))
}

fn opt_int(m: &Map<String, Value>, key: &str, path: &str) -> Result<Option<i32>, String> {
    match m.get(key) {
        None => Ok(None),
        Some(_) => int(m, key, path).map(Some),
    }
}

/// The list at `m[key]` (absent: empty), each element converted by `f`.
fn list<T>(
    m: &Map<String, Value>,
    key: &str,
    path: &str,
    f: impl Fn(&Value, &str) -> Result<T, String>,
) -> Result<Option<Vec<T>>, String> {
    match m.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_array()
            .ok_or_else(|| format!("{path}.{key}: not a list"))?
            .iter()
            .enumerate()
            .map(|(i, e)| f(e, &format!("{path}.{key}[{i}]")))
            .collect::<Result<Vec<T>, String>>()
            .map(Some),
    }
}

fn built<T, E: std::fmt::Debug>(r: Result<T, E>, path: &str) -> Result<T, String> {
    r.map_err(|e| format!("{path}: {e:?}"))
}

/// The one-key object `{ variant: body }` at `path`.
fn variant<'a>(v: &'a Value, path: &str) -> Result<(&'a str, &'a Value), String> {
    let m = v
        .as_object()
        .ok_or_else(|| format!("{path}: not an object"))?;
    match m.iter().next() {
        Some((k, body)) if m.len() == 1 => Ok((k.as_str(), body)),
        _ => Err(format!("{path}: want exactly one key")),
    }
}

/// The official `SearchConfig` for `search` (the npm package's shape), its
/// versions reading beacon keys from `store`.
pub fn official_search(search: &Value, store: &OfficialKeyStore) -> Result<SearchConfig, String> {
    let m = object(search, "search", &["writeVersion", "versions"])?;
    let versions = list(m, "versions", "search", |v, p| {
        official_version(v, p, store)
    })?
    .ok_or("search.versions: missing")?;
    built(
        SearchConfig::builder()
            .write_version(int(m, "writeVersion", "search")?)
            .versions(versions)
            .build(),
        "search",
    )
}

fn official_version(
    v: &Value,
    path: &str,
    store: &OfficialKeyStore,
) -> Result<BeaconVersion, String> {
    let m = object(
        v,
        path,
        &[
            "version",
            "keySource",
            "standardBeacons",
            "compoundBeacons",
            "virtualFields",
            "signedParts",
            "encryptedParts",
            "maximumNumberOfPartitions",
            "defaultNumberOfPartitions",
            "partitionSelector",
        ],
    )?;
    let key_source = m
        .get("keySource")
        .ok_or_else(|| format!("{path}.keySource: missing"))?;
    let mut b = BeaconVersion::builder()
        .version(int(m, "version", path)?)
        .key_store(store.clone())
        .key_source(official_key_source(
            key_source,
            &format!("{path}.keySource"),
        )?)
        .set_standard_beacons(list(m, "standardBeacons", path, official_standard)?)
        .set_compound_beacons(list(m, "compoundBeacons", path, official_compound)?)
        .set_virtual_fields(list(m, "virtualFields", path, official_virtual_field)?)
        .set_signed_parts(list(m, "signedParts", path, official_signed_part)?)
        .set_encrypted_parts(list(m, "encryptedParts", path, official_encrypted_part)?)
        .set_maximum_number_of_partitions(opt_int(m, "maximumNumberOfPartitions", path)?)
        .set_default_number_of_partitions(opt_int(m, "defaultNumberOfPartitions", path)?);
    if let Some(selector) = m.get("partitionSelector") {
        let p = format!("{path}.partitionSelector");
        let s = object(selector, &p, &["attribute"])?;
        b = b.partition_selector(AttributePartition {
            attribute: string(s, "attribute", &p)?,
        });
    }
    built(b.build(), path)
}

fn official_key_source(v: &Value, path: &str) -> Result<BeaconKeySource, String> {
    let (kind, body) = variant(v, path)?;
    let p = format!("{path}.{kind}");
    match kind {
        "single" => {
            let m = object(body, &p, &["keyId", "cacheTTL"])?;
            Ok(BeaconKeySource::Single(built(
                SingleKeyStore::builder()
                    .key_id(string(m, "keyId", &p)?)
                    .cache_ttl(int(m, "cacheTTL", &p)?)
                    .build(),
                &p,
            )?))
        }
        "multi" => {
            let m = object(body, &p, &["keyFieldName", "cacheTTL"])?;
            Ok(BeaconKeySource::Multi(built(
                MultiKeyStore::builder()
                    .key_field_name(string(m, "keyFieldName", &p)?)
                    .cache_ttl(int(m, "cacheTTL", &p)?)
                    .build(),
                &p,
            )?))
        }
        other => Err(format!("{path}: unknown key source {other:?}")),
    }
}

fn official_standard(v: &Value, path: &str) -> Result<StandardBeacon, String> {
    let m = object(
        v,
        path,
        &["name", "length", "loc", "style", "numberOfPartitions"],
    )?;
    let style = match m.get("style") {
        None => None,
        Some(style) => {
            let p = format!("{path}.style");
            let (kind, body) = variant(style, &p)?;
            let p = format!("{p}.{kind}");
            Some(match kind {
                "partOnly" => {
                    object(body, &p, &[])?;
                    BeaconStyle::PartOnly(built(PartOnly::builder().build(), &p)?)
                }
                "asSet" => {
                    object(body, &p, &[])?;
                    BeaconStyle::AsSet(built(AsSet::builder().build(), &p)?)
                }
                "shared" => {
                    let o = object(body, &p, &["other"])?;
                    BeaconStyle::Shared(built(
                        Shared::builder().other(string(o, "other", &p)?).build(),
                        &p,
                    )?)
                }
                "sharedSet" => {
                    let o = object(body, &p, &["other"])?;
                    BeaconStyle::SharedSet(built(
                        SharedSet::builder().other(string(o, "other", &p)?).build(),
                        &p,
                    )?)
                }
                other => return Err(format!("{path}.style: unknown style {other:?}")),
            })
        }
    };
    built(
        StandardBeacon::builder()
            .name(string(m, "name", path)?)
            .length(int(m, "length", path)?)
            .set_loc(opt_string(m, "loc", path)?)
            .set_style(style)
            .set_number_of_partitions(opt_int(m, "numberOfPartitions", path)?)
            .build(),
        path,
    )
}

fn official_signed_part(v: &Value, path: &str) -> Result<SignedPart, String> {
    let m = object(v, path, &["name", "prefix", "loc"])?;
    built(
        SignedPart::builder()
            .name(string(m, "name", path)?)
            .prefix(string(m, "prefix", path)?)
            .set_loc(opt_string(m, "loc", path)?)
            .build(),
        path,
    )
}

fn official_encrypted_part(v: &Value, path: &str) -> Result<EncryptedPart, String> {
    let m = object(v, path, &["name", "prefix"])?;
    built(
        EncryptedPart::builder()
            .name(string(m, "name", path)?)
            .prefix(string(m, "prefix", path)?)
            .build(),
        path,
    )
}

fn official_constructor(v: &Value, path: &str) -> Result<Constructor, String> {
    let m = object(v, path, &["parts"])?;
    let parts = list(m, "parts", path, |p, pp| {
        let o = object(p, pp, &["name", "required"])?;
        let required = o
            .get("required")
            .and_then(Value::as_bool)
            .ok_or_else(|| format!("{pp}.required: not a boolean"))?;
        built(
            ConstructorPart::builder()
                .name(string(o, "name", pp)?)
                .required(required)
                .build(),
            pp,
        )
    })?;
    built(Constructor::builder().set_parts(parts).build(), path)
}

fn official_compound(v: &Value, path: &str) -> Result<CompoundBeacon, String> {
    let m = object(
        v,
        path,
        &["name", "split", "encrypted", "signed", "constructors"],
    )?;
    built(
        CompoundBeacon::builder()
            .name(string(m, "name", path)?)
            .split(string(m, "split", path)?)
            .set_encrypted(list(m, "encrypted", path, official_encrypted_part)?)
            .set_signed(list(m, "signed", path, official_signed_part)?)
            .set_constructors(list(m, "constructors", path, official_constructor)?)
            .build(),
        path,
    )
}

fn official_transform(v: &Value, path: &str) -> Result<VirtualTransform, String> {
    let (kind, body) = variant(v, path)?;
    let p = format!("{path}.{kind}");
    Ok(match kind {
        "upper" => {
            object(body, &p, &[])?;
            VirtualTransform::Upper(built(Upper::builder().build(), &p)?)
        }
        "lower" => {
            object(body, &p, &[])?;
            VirtualTransform::Lower(built(Lower::builder().build(), &p)?)
        }
        "insert" => {
            let o = object(body, &p, &["literal"])?;
            VirtualTransform::Insert(built(
                Insert::builder().literal(string(o, "literal", &p)?).build(),
                &p,
            )?)
        }
        "prefix" => {
            let o = object(body, &p, &["length"])?;
            VirtualTransform::Prefix(built(
                GetPrefix::builder().length(int(o, "length", &p)?).build(),
                &p,
            )?)
        }
        "suffix" => {
            let o = object(body, &p, &["length"])?;
            VirtualTransform::Suffix(built(
                GetSuffix::builder().length(int(o, "length", &p)?).build(),
                &p,
            )?)
        }
        "substring" => {
            let o = object(body, &p, &["low", "high"])?;
            VirtualTransform::Substring(built(
                GetSubstring::builder()
                    .low(int(o, "low", &p)?)
                    .high(int(o, "high", &p)?)
                    .build(),
                &p,
            )?)
        }
        "segment" => {
            let o = object(body, &p, &["split", "index"])?;
            VirtualTransform::Segment(built(
                GetSegment::builder()
                    .split(string(o, "split", &p)?)
                    .index(int(o, "index", &p)?)
                    .build(),
                &p,
            )?)
        }
        "segments" => {
            let o = object(body, &p, &["split", "low", "high"])?;
            VirtualTransform::Segments(built(
                GetSegments::builder()
                    .split(string(o, "split", &p)?)
                    .low(int(o, "low", &p)?)
                    .high(int(o, "high", &p)?)
                    .build(),
                &p,
            )?)
        }
        other => return Err(format!("{path}: unknown transform {other:?}")),
    })
}

fn official_virtual_field(v: &Value, path: &str) -> Result<VirtualField, String> {
    let m = object(v, path, &["name", "parts"])?;
    let parts = list(m, "parts", path, |p, pp| {
        let o = object(p, pp, &["loc", "trans"])?;
        built(
            VirtualPart::builder()
                .loc(string(o, "loc", pp)?)
                .set_trans(list(o, "trans", pp, official_transform)?)
                .build(),
            pp,
        )
    })?;
    built(
        VirtualField::builder()
            .name(string(m, "name", path)?)
            .set_parts(parts)
            .build(),
        path,
    )
}

// ------------------------------------------------------ partition selector

/// A partition selector that puts an item in the partition its N attribute
/// `attribute` names (modulo the number of partitions), so that both sides
/// write an item's beacons to the same partition. The Node tool's selector
/// is the same function.
#[derive(Debug)]
pub struct AttributePartition {
    pub attribute: String,
}

impl AttributePartition {
    /// The partition of `item` among `partitions`.
    pub fn choose(&self, item: &Item, partitions: i32) -> Result<i32, String> {
        let n = match item.get(&self.attribute) {
            Some(V::N(n)) => n
                .parse::<i64>()
                .map_err(|_| format!("{}: not an integer: {n}", self.attribute))?,
            _ => return Err(format!("the item has no N attribute {:?}", self.attribute)),
        };
        if partitions < 1 {
            return Err(format!("{partitions} partitions"));
        }
        i32::try_from(n.rem_euclid(i64::from(partitions))).map_err(|e| e.to_string())
    }
}

impl PartitionSelector for AttributePartition {
    fn get_partition_number(
        &self,
        input: GetPartitionNumberInput,
    ) -> Result<GetPartitionNumberOutput, DbEsdkError> {
        let fail = |message: String| DbEsdkError::DynamoDbEncryptionException { message };
        let item = item_from_ddb(&input.item.unwrap_or_default()).map_err(fail)?;
        let partitions = input
            .number_of_partitions
            .ok_or_else(|| fail("no numberOfPartitions".into()))?;
        let n = self.choose(&item, partitions).map_err(fail)?;
        GetPartitionNumberOutput::builder()
            .partition_number(n)
            .build()
            .map_err(|e| fail(format!("{e:?}")))
    }
}

// ---------------------------------------------------------- tables, clients

/// Creates an on-demand table keyed by `partition_key` (S) with `indexes`
/// (their keys S; projection ALL).
pub async fn create_search_table(
    client: &aws_sdk_dynamodb::Client,
    table: &SearchTable,
) -> Result<(), String> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| format!("AttributeDefinition: {e}"))
    };
    let key = |name: &str, ty: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(ty)
            .build()
            .map_err(|e| format!("KeySchemaElement: {e}"))
    };
    let pk = &table.spec.partition_key_name;
    let mut defined = vec![pk.clone()];
    let mut b = client
        .create_table()
        .table_name(&table.name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(pk)?)
        .key_schema(key(pk, KeyType::Hash)?);
    for index in &table.indexes {
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(&index.name)
            .key_schema(key(&index.hash, KeyType::Hash)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            );
        if let Some(range) = &index.range {
            gsi = gsi.key_schema(key(range, KeyType::Range)?);
        }
        for name in std::iter::once(&index.hash).chain(index.range.as_ref()) {
            if !defined.contains(name) {
                b = b.attribute_definitions(attribute(name)?);
                defined.push(name.clone());
            }
        }
        b = b.global_secondary_indexes(
            gsi.build()
                .map_err(|e| format!("GlobalSecondaryIndex {}: {e}", index.name))?,
        );
    }
    b.send()
        .await
        .map_err(|e| format!("CreateTable {}: {}", table.name, DisplayErrorContext(&e)))?;
    Ok(())
}

/// The official side for `tables`: a DynamoDB client with the
/// `DbEsdkInterceptor`, and the transforms client (`GetNumberOfQueries`,
/// `ResolveAttributes`) on the same configs.
pub struct OfficialSearch {
    pub client: aws_sdk_dynamodb::Client,
    pub transforms: aws_db_esdk::Client,
}

pub async fn official_search_clients(
    endpoint: &Endpoint,
    region: &str,
    store: &OfficialKeyStore,
    tenants: &[String],
    tables: &[&SearchTable],
) -> Result<OfficialSearch, String> {
    let mut configs = HashMap::new();
    for table in tables {
        configs.insert(
            table.name.clone(),
            table.official_config(store, tenants).await?,
        );
    }
    let configs = DynamoDbTablesEncryptionConfig::builder()
        .table_encryption_configs(configs)
        .build()
        .map_err(|e| format!("DynamoDbTablesEncryptionConfig: {e:?}"))?;
    let transforms = aws_db_esdk::Client::from_conf(configs.clone())
        .map_err(|e| format!("the official transforms client: {e}"))?;
    let interceptor =
        DbEsdkInterceptor::new(configs).map_err(|e| format!("DbEsdkInterceptor: {e:?}"))?;
    let config = dynamodb_client(endpoint, region)
        .config()
        .to_builder()
        .interceptor(interceptor)
        .build();
    Ok(OfficialSearch {
        client: aws_sdk_dynamodb::Client::from_conf(config),
        transforms,
    })
}

// ----------------------------------------------------------- Query / Scan

/// One Query or Scan, sent alike by both sides.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    pub table: String,
    /// Query (with a key condition) or Scan.
    pub query: bool,
    pub index: Option<String>,
    pub key_condition: Option<String>,
    pub filter: Option<String>,
    pub names: BTreeMap<String, String>,
    pub values: Item,
    /// DynamoDB's `Limit` (items evaluated per page).
    pub limit: Option<i32>,
    /// A Query on one partition (`:aws_dbe_partition`) instead of all of them.
    pub partition: Option<u32>,
}

impl SearchRequest {
    pub fn query(table: &str, index: &str, key_condition: &str) -> SearchRequest {
        SearchRequest {
            table: table.to_owned(),
            query: true,
            index: Some(index.to_owned()),
            key_condition: Some(key_condition.to_owned()),
            filter: None,
            names: BTreeMap::new(),
            values: Item::new(),
            limit: None,
            partition: None,
        }
    }

    pub fn scan(table: &str, filter: &str) -> SearchRequest {
        SearchRequest {
            table: table.to_owned(),
            query: false,
            index: None,
            key_condition: None,
            filter: Some(filter.to_owned()),
            names: BTreeMap::new(),
            values: Item::new(),
            limit: None,
            partition: None,
        }
    }

    pub fn filter(mut self, filter: &str) -> Self {
        self.filter = Some(filter.to_owned());
        self
    }

    pub fn value(mut self, name: &str, value: V) -> Self {
        self.values.insert(name.to_owned(), value);
        self
    }

    pub fn s(self, name: &str, value: &str) -> Self {
        self.value(name, V::S(value.to_owned()))
    }

    pub fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.to_owned(), name.to_owned());
        self
    }

    pub fn limit(mut self, limit: i32) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn on_partition(mut self, partition: u32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// The expression values sent: with `:aws_dbe_partition` on a one-partition Query.
    fn sent_values(&self) -> Item {
        let mut values = self.values.clone();
        if let Some(p) = self.partition {
            values.insert(PARTITION_VALUE.to_owned(), V::N(p.to_string()));
        }
        values
    }

    /// One line: `Query idx: KEY [filter F]` or `Scan: F`.
    pub fn describe(&self) -> String {
        let mut s = if self.query {
            format!(
                "Query {}: {}",
                self.index.as_deref().unwrap_or("(table)"),
                self.key_condition.as_deref().unwrap_or("")
            )
        } else {
            "Scan".to_owned()
        };
        if let Some(f) = &self.filter {
            s.push_str(if self.query { " filter " } else { ": " });
            s.push_str(f);
        }
        if let Some(l) = self.limit {
            s.push_str(&format!(" (Limit {l})"));
        }
        if let Some(p) = self.partition {
            s.push_str(&format!(" [{PARTITION_VALUE} = {p}]"));
        }
        s
    }

    /// The Node tool's request fields (`op` is added by the caller).
    pub fn node_json(&self) -> Value {
        let mut v = json!({
            "table": self.table,
            "names": self.names,
            "values": item_to_json(&self.sent_values()),
        });
        for (key, value) in [
            ("indexName", &self.index),
            ("keyConditionExpression", &self.key_condition),
            ("filterExpression", &self.filter),
        ] {
            if let Some(value) = value {
                v[key] = json!(value);
            }
        }
        if let Some(l) = self.limit {
            v["limit"] = json!(l);
        }
        v
    }

    fn ddb_values(&self) -> Option<HashMap<String, Ddb>> {
        let values = self.sent_values();
        (!values.is_empty()).then(|| item_to_ddb(&values))
    }

    fn ddb_names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| {
            self.names
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
    }

    /// The request as the official `GetNumberOfQueries` takes it.
    pub fn query_input(&self) -> Result<QueryInput, String> {
        QueryInput::builder()
            .table_name(&self.table)
            .set_index_name(self.index.clone())
            .set_key_condition_expression(self.key_condition.clone())
            .set_filter_expression(self.filter.clone())
            .set_expression_attribute_names(self.ddb_names())
            .set_expression_attribute_values(self.ddb_values())
            .set_limit(self.limit)
            .build()
            .map_err(|e| format!("QueryInput: {e}"))
    }
}

/// Why a search returned no items.
#[derive(Debug)]
pub enum SearchFailure {
    /// The client did not send it (the interceptor or the transforms
    /// client refused it).
    Refused(String),
    /// DynamoDB failed it, or its answer could not be read.
    Failed(String),
}

impl std::fmt::Display for SearchFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SearchFailure::Refused(m) => write!(f, "refused by the client: {m}"),
            SearchFailure::Failed(m) => write!(f, "failed: {m}"),
        }
    }
}

/// An SDK error as a [`SearchFailure`]: a service error is DynamoDB's,
/// any other kind means the request was not sent.
fn sdk_failure<E, R>(what: &str, e: &SdkError<E, R>) -> SearchFailure
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let message = format!("{what}: {}", DisplayErrorContext(e));
    match e {
        SdkError::ServiceError(_) => SearchFailure::Failed(message),
        _ => SearchFailure::Refused(message),
    }
}

/// Every page of one Query or Scan through `client`.
async fn pages(
    client: &aws_sdk_dynamodb::Client,
    req: &SearchRequest,
    values: Option<HashMap<String, Ddb>>,
) -> Result<Vec<Item>, SearchFailure> {
    let mut items = Vec::new();
    let mut start: Option<HashMap<String, Ddb>> = None;
    for _ in 0..1000 {
        let (page, last) = if req.query {
            let out = client
                .query()
                .table_name(&req.table)
                .set_index_name(req.index.clone())
                .set_key_condition_expression(req.key_condition.clone())
                .set_filter_expression(req.filter.clone())
                .set_expression_attribute_names(req.ddb_names())
                .set_expression_attribute_values(values.clone())
                .set_limit(req.limit)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_failure("Query", &e))?;
            (out.items, out.last_evaluated_key)
        } else {
            let out = client
                .scan()
                .table_name(&req.table)
                .set_filter_expression(req.filter.clone())
                .set_expression_attribute_names(req.ddb_names())
                .set_expression_attribute_values(values.clone())
                .set_limit(req.limit)
                .set_exclusive_start_key(start.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| sdk_failure("Scan", &e))?;
            (out.items, out.last_evaluated_key)
        };
        for item in page.unwrap_or_default() {
            items.push(item_from_ddb(&item).map_err(SearchFailure::Failed)?);
        }
        match last {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(items),
        }
    }
    Err(SearchFailure::Failed("more than 1000 pages".into()))
}

/// The official `GetNumberOfQueries` for `req` (a Query).
pub async fn official_number_of_queries(
    official: &OfficialSearch,
    req: &SearchRequest,
) -> Result<i32, String> {
    official
        .transforms
        .get_number_of_queries()
        .input(req.query_input()?)
        .send()
        .await
        .map_err(|e| format!("GetNumberOfQueries: {e}"))?
        .number_of_queries
        .ok_or_else(|| "GetNumberOfQueries returned no number".to_string())
}

/// What the official client returns for `req`, every page: a Scan once; a
/// Query on its one partition if it names one, else on a partitioned table
/// once per partition (`GetNumberOfQueries` of them, each naming its
/// `:aws_dbe_partition`, as aws-db-esdk 1.3's docs loop), else once.
pub async fn official_search_items(
    official: &OfficialSearch,
    req: &SearchRequest,
    partitioned: bool,
) -> Result<Vec<Item>, SearchFailure> {
    if !req.query || req.partition.is_some() || !partitioned {
        return pages(&official.client, req, req.ddb_values()).await;
    }
    let n = official_number_of_queries(official, req)
        .await
        .map_err(SearchFailure::Refused)?;
    let mut items = Vec::new();
    for partition in 0..n {
        let mut values = req.values.clone();
        values.insert(PARTITION_VALUE.to_owned(), V::N(partition.to_string()));
        items.extend(pages(&official.client, req, Some(item_to_ddb(&values))).await?);
    }
    Ok(items)
}

/// The official `ResolveAttributes` of `item` in `table`: (virtual fields,
/// compound beacons), each name -> string.
pub async fn official_resolve(
    official: &OfficialSearch,
    table: &str,
    item: &Item,
) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>), String> {
    let out = official
        .transforms
        .resolve_attributes()
        .table_name(table)
        .set_item(Some(item_to_ddb(item)))
        .send()
        .await
        .map_err(|e| format!("ResolveAttributes: {e}"))?;
    let sorted = |m: Option<HashMap<String, String>>| m.unwrap_or_default().into_iter().collect();
    Ok((sorted(out.virtual_fields), sorted(out.compound_beacons)))
}
