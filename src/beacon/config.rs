//! The search configuration as the caller gives it: the DB-ESDK's
//! `SearchConfig` and its parts, with the official builder names (snake_case
//! here, camelCase in JS). Plain data, unchecked: [`super::SearchInfo::new`]
//! validates it against the table's attribute actions.
//! Spec: searchable-encryption/search-config.md#initialization

use std::sync::Arc;

use super::keys::BeaconKeyCache;
use crate::base::MaybeSendSync;
use crate::error::Result;
use crate::item::Item;
use crate::keystore::KeyStore;

/// `SearchConfig`: the beacon versions and which one writes.
#[derive(Clone, Debug)]
pub struct SearchConfig {
    pub versions: Vec<BeaconVersionConfig>,
    pub write_version: u32,
}

/// `BeaconVersion`: everything one version of the beacons needs.
/// Spec: search-config.md#beacon-version-initialization
#[derive(Clone, Debug)]
pub struct BeaconVersionConfig {
    pub version: u32,
    pub key_store: Arc<KeyStore>,
    pub key_source: BeaconKeySourceConfig,
    pub standard_beacons: Vec<StandardBeaconConfig>,
    pub compound_beacons: Vec<CompoundBeaconConfig>,
    pub virtual_fields: Vec<VirtualFieldConfig>,
    /// The global parts list. Spec: search-config.md#global-parts-list
    pub signed_parts: Vec<SignedPartConfig>,
    pub encrypted_parts: Vec<EncryptedPartConfig>,
    /// Spec: search-config.md#max-partitions (default 1: no partitions)
    pub maximum_number_of_partitions: Option<u32>,
    /// Spec: search-config.md#default-partitions (default: the maximum)
    pub default_number_of_partitions: Option<u32>,
    /// Spec: search-config.md#partition-selector (default: random)
    pub partition_selector: Option<Arc<dyn PartitionSelector>>,
}

/// Picks the partition an item is written to.
/// Spec: search-config.md#partition-selector
pub trait PartitionSelector: MaybeSendSync {
    /// A number below `number_of_partitions`; anything else fails the write.
    fn partition_number(
        &self,
        item: &Item,
        number_of_partitions: u32,
        logical_table_name: &str,
    ) -> Result<u32>;
}

impl std::fmt::Debug for dyn PartitionSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PartitionSelector")
    }
}

/// `BeaconKeySource`: where the beacon key comes from.
/// Spec: search-config.md#beacon-key-source
#[derive(Clone, Debug)]
pub enum BeaconKeySourceConfig {
    /// `SingleKeyStore`: one beacon key for the whole table.
    Single {
        key_id: String,
        cache_ttl_seconds: u32,
        cache: Option<Arc<BeaconKeyCache>>,
        partition_id: Option<String>,
    },
    /// `MultiKeyStore`: the beacon key id is read from `key_field_name`.
    Multi {
        key_field_name: String,
        cache_ttl_seconds: u32,
        cache: Option<Arc<BeaconKeyCache>>,
        partition_id: Option<String>,
    },
}

/// `StandardBeacon`. Spec: beacons.md#standard-beacon-initialization
#[derive(Clone, Debug)]
pub struct StandardBeaconConfig {
    pub name: String,
    /// Bits kept, 1 to 63.
    pub length: u32,
    /// Terminal location; the name when absent.
    pub loc: Option<String>,
    pub style: Option<BeaconStyle>,
    /// Spec: beacons.md#beacon-constraint
    pub number_of_partitions: Option<u32>,
}

/// `BeaconStyle`. Spec: beacons.md#beacon-style-initialization
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BeaconStyle {
    PartOnly,
    Shared { other: String },
    AsSet,
    SharedSet { other: String },
}

/// `CompoundBeacon`. Spec: beacons.md#compound-beacon-initialization
#[derive(Clone, Debug)]
pub struct CompoundBeaconConfig {
    pub name: String,
    /// One character.
    pub split: String,
    pub encrypted: Vec<EncryptedPartConfig>,
    pub signed: Vec<SignedPartConfig>,
    pub constructors: Vec<ConstructorConfig>,
    pub number_of_partitions: Option<u32>,
}

/// `EncryptedPart`: a standard beacon inside a compound one.
#[derive(Clone, Debug)]
pub struct EncryptedPartConfig {
    pub name: String,
    pub prefix: String,
}

/// `SignedPart`: a plaintext SIGN_ONLY value inside a compound one.
#[derive(Clone, Debug)]
pub struct SignedPartConfig {
    pub name: String,
    pub prefix: String,
    pub loc: Option<String>,
}

/// `Constructor`. Spec: beacons.md#constructor-initialization
#[derive(Clone, Debug)]
pub struct ConstructorConfig {
    pub parts: Vec<ConstructorPartConfig>,
}

#[derive(Clone, Debug)]
pub struct ConstructorPartConfig {
    pub name: String,
    pub required: bool,
}

/// `VirtualField`. Spec: virtual.md#virtual-field-initialization
#[derive(Clone, Debug)]
pub struct VirtualFieldConfig {
    pub name: String,
    pub parts: Vec<VirtualPartConfig>,
}

/// `VirtualPart`: a terminal location and its transforms.
#[derive(Clone, Debug)]
pub struct VirtualPartConfig {
    pub loc: String,
    pub trans: Vec<VirtualTransform>,
}

/// `VirtualTransform`. Spec: virtual.md#virtual-transform-initialization
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VirtualTransform {
    Upper,
    Lower,
    Insert { literal: String },
    Prefix { length: i32 },
    Suffix { length: i32 },
    Substring { low: i32, high: i32 },
    Segment { split: String, index: i32 },
    Segments { split: String, low: i32, high: i32 },
}
