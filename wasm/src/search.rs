//! The table config's `search` (searchable encryption: beacons) from JS to
//! the core's [`SearchConfig`]: the DB-ESDK's builder names in camelCase,
//! every object read by [`Fields`] (unknown keys and wrong types are
//! `INVALID_CONFIG` naming their path, e.g.
//! `search.versions[0].standardBeacons[1].length`). The rules between the
//! parts (lengths, names, prefixes, constructors, the attribute actions) are
//! the core's, checked when the encryptor is built, naming the beacon.
//! Spec: searchable-encryption/search-config.md#initialization

use std::sync::Arc;

use fieldseal::beacon::config::{
    BeaconKeySourceConfig, BeaconStyle, BeaconVersionConfig, CompoundBeaconConfig,
    ConstructorConfig, ConstructorPartConfig, EncryptedPartConfig, PartitionSelector, SearchConfig,
    SignedPartConfig, StandardBeaconConfig, VirtualFieldConfig, VirtualPartConfig,
    VirtualTransform,
};
use fieldseal::beacon::keys::BeaconKeyCache;
use fieldseal::keystore::KeyStore;
use fieldseal::{Error, Item};
use js_sys::Function;
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::JsValue;

use crate::args::{config_error, Fields, Result};
use crate::clock::JsClock;
use crate::convert::item_to_js;
use crate::keystore::WasmKeyStore;

const SEARCH_KEYS: &[&str] = &["writeVersion", "versions"];
const VERSION_KEYS: &[&str] = &[
    "version",
    "keyStore",
    "keySource",
    "standardBeacons",
    "compoundBeacons",
    "virtualFields",
    "signedParts",
    "encryptedParts",
    "maximumNumberOfPartitions",
    "defaultNumberOfPartitions",
    "partitionSelector",
];

/// The search config as read, before the key stores are taken: the package
/// checks a config (`checkOptions`) while its `keyStore`s are still the
/// package's `KeyStore` objects, and builds it once they are wasm handles.
pub struct SearchOptions {
    write_version: u32,
    versions: Vec<VersionOptions>,
}

struct VersionOptions {
    path: String,
    key_store: JsValue,
    version: u32,
    key_source: BeaconKeySourceConfig,
    standard_beacons: Vec<StandardBeaconConfig>,
    compound_beacons: Vec<CompoundBeaconConfig>,
    virtual_fields: Vec<VirtualFieldConfig>,
    signed_parts: Vec<SignedPartConfig>,
    encrypted_parts: Vec<EncryptedPartConfig>,
    maximum_number_of_partitions: Option<u32>,
    default_number_of_partitions: Option<u32>,
    partition_selector: Option<Arc<dyn PartitionSelector>>,
}

impl SearchOptions {
    /// Read `search` (an object `{ writeVersion, versions }`).
    pub fn read(value: &JsValue) -> Result<SearchOptions> {
        let o = Fields::read_path(value, "search", SEARCH_KEYS)?;
        let versions = o
            .list("versions")?
            .iter()
            .map(|(path, v)| version(v, path))
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchOptions {
            write_version: o.u32("writeVersion")?,
            versions,
        })
    }

    /// The core's config, each `keyStore` taken from its wasm handle (the
    /// package passes a fresh handle per version; the JS object gives it up).
    pub fn into_config(self) -> Result<SearchConfig> {
        let versions = self
            .versions
            .into_iter()
            .map(|v| {
                Ok(BeaconVersionConfig {
                    key_store: key_store(&v.key_store, &v.path)?,
                    version: v.version,
                    key_source: v.key_source,
                    standard_beacons: v.standard_beacons,
                    compound_beacons: v.compound_beacons,
                    virtual_fields: v.virtual_fields,
                    signed_parts: v.signed_parts,
                    encrypted_parts: v.encrypted_parts,
                    maximum_number_of_partitions: v.maximum_number_of_partitions,
                    default_number_of_partitions: v.default_number_of_partitions,
                    partition_selector: v.partition_selector,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchConfig {
            versions,
            write_version: self.write_version,
        })
    }
}

fn key_store(value: &JsValue, path: &str) -> Result<Arc<KeyStore>> {
    WasmKeyStore::try_from_js_value_ref(value)
        .map(|store| store.store())
        .ok_or_else(|| config_error(format!("{path}.keyStore must be a fieldseal KeyStore")))
}

/// Spec: search-config.md#beacon-version-initialization
fn version(value: &JsValue, path: &str) -> Result<VersionOptions> {
    let o = Fields::read_path(value, path, VERSION_KEYS)?;
    if !o.has("keyStore") {
        return Err(config_error(format!("{path}.keyStore is missing")));
    }
    Ok(VersionOptions {
        path: path.to_string(),
        key_store: o.value("keyStore"),
        version: o.u32("version")?,
        key_source: key_source(&o.value("keySource"), &o.path("keySource"))?,
        standard_beacons: each(&o, "standardBeacons", standard_beacon)?,
        compound_beacons: each(&o, "compoundBeacons", compound_beacon)?,
        virtual_fields: each(&o, "virtualFields", virtual_field)?,
        signed_parts: each(&o, "signedParts", signed_part)?,
        encrypted_parts: each(&o, "encryptedParts", encrypted_part)?,
        maximum_number_of_partitions: o.optional_u32("maximumNumberOfPartitions")?,
        default_number_of_partitions: o.optional_u32("defaultNumberOfPartitions")?,
        partition_selector: match o.has("partitionSelector") {
            true => Some(Arc::new(JsPartitionSelector(
                o.function("partitionSelector")?,
            ))),
            false => None,
        },
    })
}

/// Every element of the array `key` (absent: none), read by `read`.
fn each<T>(o: &Fields, key: &str, read: fn(&JsValue, &str) -> Result<T>) -> Result<Vec<T>> {
    o.list(key)?.iter().map(|(path, v)| read(v, path)).collect()
}

/// `{ single: { keyId, cacheTTL, cache?, partitionId? } }` or
/// `{ multi: { keyFieldName, cacheTTL, cache?, partitionId? } }`.
/// Spec: search-config.md#beacon-key-source
fn key_source(value: &JsValue, path: &str) -> Result<BeaconKeySourceConfig> {
    let (kind, inner) = Fields::one_of(value, path, &["single", "multi"])?;
    let path = format!("{path}.{kind}");
    let id = if kind == "single" {
        "keyId"
    } else {
        "keyFieldName"
    };
    let o = Fields::read_path(&inner, &path, &[id, "cacheTTL", "cache", "partitionId"])?;
    let name = o.string(id)?;
    let cache_ttl_seconds = o.u32("cacheTTL")?;
    let cache = match o.has("cache") {
        true => Some(cache(&o.value("cache"), &o.path("cache"))?),
        false => None,
    };
    let partition_id = o.optional_string("partitionId")?;
    Ok(match kind {
        "single" => BeaconKeySourceConfig::Single {
            key_id: name,
            cache_ttl_seconds,
            cache,
            partition_id,
        },
        _ => BeaconKeySourceConfig::Multi {
            key_field_name: name,
            cache_ttl_seconds,
            cache,
            partition_id,
        },
    })
}

/// The MPL's `CacheType`, as far as a key source's own cache goes:
/// `{ default: { entryCapacity } }`.
/// Spec: search-config.md#key-store-cache
fn cache(value: &JsValue, path: &str) -> Result<Arc<BeaconKeyCache>> {
    let (_, inner) = Fields::one_of(value, path, &["default"])?;
    let o = Fields::read_path(&inner, &format!("{path}.default"), &["entryCapacity"])?;
    let capacity = o.u32("entryCapacity")?;
    if capacity == 0 {
        return Err(config_error(format!(
            "{} must be at least 1",
            o.path("entryCapacity")
        )));
    }
    Ok(Arc::new(BeaconKeyCache::new(
        capacity as usize,
        Arc::new(JsClock),
    )?))
}

/// Spec: beacons.md#standard-beacon-initialization
fn standard_beacon(value: &JsValue, path: &str) -> Result<StandardBeaconConfig> {
    let o = Fields::read_path(
        value,
        path,
        &["name", "length", "loc", "style", "numberOfPartitions"],
    )?;
    Ok(StandardBeaconConfig {
        name: o.string("name")?,
        length: o.u32("length")?,
        loc: o.optional_string("loc")?,
        style: match o.has("style") {
            true => Some(style(&o.value("style"), &o.path("style"))?),
            false => None,
        },
        number_of_partitions: o.optional_u32("numberOfPartitions")?,
    })
}

/// Spec: beacons.md#beacon-style-initialization
fn style(value: &JsValue, path: &str) -> Result<BeaconStyle> {
    let (kind, inner) = Fields::one_of(value, path, &["partOnly", "shared", "asSet", "sharedSet"])?;
    let path = format!("{path}.{kind}");
    Ok(match kind {
        "partOnly" => empty(&inner, &path, BeaconStyle::PartOnly)?,
        "asSet" => empty(&inner, &path, BeaconStyle::AsSet)?,
        "shared" => BeaconStyle::Shared {
            other: Fields::read_path(&inner, &path, &["other"])?.string("other")?,
        },
        _ => BeaconStyle::SharedSet {
            other: Fields::read_path(&inner, &path, &["other"])?.string("other")?,
        },
    })
}

/// A union member without fields (`{ partOnly: {} }`): an empty object.
fn empty<T>(value: &JsValue, path: &str, out: T) -> Result<T> {
    Fields::read_path(value, path, &[]).map(|_| out)
}

/// Spec: beacons.md#compound-beacon-initialization
fn compound_beacon(value: &JsValue, path: &str) -> Result<CompoundBeaconConfig> {
    let o = Fields::read_path(
        value,
        path,
        &[
            "name",
            "split",
            "encrypted",
            "signed",
            "constructors",
            "numberOfPartitions",
        ],
    )?;
    Ok(CompoundBeaconConfig {
        name: o.string("name")?,
        split: o.string("split")?,
        encrypted: each(&o, "encrypted", encrypted_part)?,
        signed: each(&o, "signed", signed_part)?,
        constructors: each(&o, "constructors", constructor)?,
        number_of_partitions: o.optional_u32("numberOfPartitions")?,
    })
}

fn encrypted_part(value: &JsValue, path: &str) -> Result<EncryptedPartConfig> {
    let o = Fields::read_path(value, path, &["name", "prefix"])?;
    Ok(EncryptedPartConfig {
        name: o.string("name")?,
        prefix: o.string("prefix")?,
    })
}

fn signed_part(value: &JsValue, path: &str) -> Result<SignedPartConfig> {
    let o = Fields::read_path(value, path, &["name", "prefix", "loc"])?;
    Ok(SignedPartConfig {
        name: o.string("name")?,
        prefix: o.string("prefix")?,
        loc: o.optional_string("loc")?,
    })
}

/// Spec: beacons.md#constructor-initialization
fn constructor(value: &JsValue, path: &str) -> Result<ConstructorConfig> {
    let o = Fields::read_path(value, path, &["parts"])?;
    Ok(ConstructorConfig {
        parts: each(&o, "parts", |value, path| {
            let o = Fields::read_path(value, path, &["name", "required"])?;
            Ok(ConstructorPartConfig {
                name: o.string("name")?,
                required: o.bool("required")?,
            })
        })?,
    })
}

/// Spec: virtual.md#virtual-field-initialization
fn virtual_field(value: &JsValue, path: &str) -> Result<VirtualFieldConfig> {
    let o = Fields::read_path(value, path, &["name", "parts"])?;
    Ok(VirtualFieldConfig {
        name: o.string("name")?,
        parts: each(&o, "parts", |value, path| {
            let o = Fields::read_path(value, path, &["loc", "trans"])?;
            Ok(VirtualPartConfig {
                loc: o.string("loc")?,
                trans: each(&o, "trans", transform)?,
            })
        })?,
    })
}

/// Spec: virtual.md#virtual-transform-initialization
fn transform(value: &JsValue, path: &str) -> Result<VirtualTransform> {
    let kinds = &[
        "upper",
        "lower",
        "insert",
        "prefix",
        "suffix",
        "substring",
        "segment",
        "segments",
    ];
    let (kind, inner) = Fields::one_of(value, path, kinds)?;
    let path = format!("{path}.{kind}");
    let fields = |known: &[&'static str]| Fields::read_path(&inner, &path, known);
    Ok(match kind {
        "upper" => empty(&inner, &path, VirtualTransform::Upper)?,
        "lower" => empty(&inner, &path, VirtualTransform::Lower)?,
        "insert" => VirtualTransform::Insert {
            literal: fields(&["literal"])?.string("literal")?,
        },
        "prefix" => VirtualTransform::Prefix {
            length: fields(&["length"])?.i32("length")?,
        },
        "suffix" => VirtualTransform::Suffix {
            length: fields(&["length"])?.i32("length")?,
        },
        "substring" => {
            let o = fields(&["low", "high"])?;
            VirtualTransform::Substring {
                low: o.i32("low")?,
                high: o.i32("high")?,
            }
        }
        "segment" => {
            let o = fields(&["split", "index"])?;
            VirtualTransform::Segment {
                split: o.string("split")?,
                index: o.i32("index")?,
            }
        }
        _ => {
            let o = fields(&["split", "low", "high"])?;
            VirtualTransform::Segments {
                split: o.string("split")?,
                low: o.i32("low")?,
                high: o.i32("high")?,
            }
        }
    })
}

/// `partitionSelector(item, numberOfPartitions, logicalTableName)`, a
/// synchronous JS function: a throw, or anything but a whole number below
/// `numberOfPartitions`, fails the write. Its exception is not passed on: it
/// may quote the item's plaintext.
/// Spec: search-config.md#partition-selector
struct JsPartitionSelector(Function);

impl PartitionSelector for JsPartitionSelector {
    fn partition_number(
        &self,
        item: &Item,
        number_of_partitions: u32,
        logical_table_name: &str,
    ) -> fieldseal::Result<u32> {
        let out = self
            .0
            .call3(
                &JsValue::UNDEFINED,
                &item_to_js(item),
                &JsValue::from(number_of_partitions),
                &JsValue::from_str(logical_table_name),
            )
            .map_err(|_| Error::InvalidConfig("search partitionSelector threw".into()))?;
        match out.as_f64() {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n < f64::from(number_of_partitions) => {
                Ok(n as u32)
            }
            _ => Err(Error::InvalidConfig(format!(
                "search partitionSelector must return a whole number from 0 to {}",
                number_of_partitions.saturating_sub(1)
            ))),
        }
    }
}
