//! The validated search configuration and the beacon computations: Dafny's
//! SearchInfo, with its standard (Beacon.dfy) and compound (CompoundBeacon.dfy)
//! beacons. Built by [`SearchInfo::new`] (ConfigToInfo.dfy, in `convert.rs`).
//! Spec: searchable-encryption/beacons.md, search-config.md.
//!
//! Names follow the Dafny in snake_case, so the port can be read side by side.
//! Error messages name beacons and parts, never a plaintext value or a key.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::config::PartitionSelector;
use super::keys::{BeaconKeys, KeySource, MaybeKeyId, MaybeKeyMap};
use super::virtual_field::{virt_to_attr, virt_to_bytes, virt_to_string, TermLoc, VirtualFieldMap};
use crate::base::sorted_by;
use crate::error::{Error, Result};
use crate::item::serialize;
use crate::item::{AttributeValue, Item};
use crate::primitives::hmac_sha384;
use crate::primitives::provider::SecureRandom;

/// Every `aws_dbe_` attribute is the DB-ESDK's.
pub const RESERVED_PREFIX: &str = "aws_dbe_";
/// Encrypted beacons are stored as `aws_dbe_b_<name>`.
pub const BEACON_PREFIX: &str = "aws_dbe_b_";
/// `aws_dbe_v_` + version. Spec: search-config.md#version-tag
pub const VERSION_PREFIX: &str = "aws_dbe_v_";
/// The version tag AddSignedBeacons writes (VersionPrefix + "1"), value " ".
pub const VERSION_TAG: &str = "aws_dbe_v_1";
/// Partition counts are below this. Spec: search-config.md#max-partitions
pub const MAX_PARTITION_COUNT: u32 = 255;

/// The validated `SearchConfig`: one beacon version (the only one the
/// DB-ESDK supports) and which one writes.
#[derive(Debug)]
pub struct SearchInfo {
    pub versions: Vec<BeaconVersion>,
    /// Index into `versions` of the version that writes.
    pub curr_write: usize,
    /// The table's logical name, given to a partition selector.
    pub logical_table_name: String,
    /// For the default partition selector.
    pub(crate) random: Arc<dyn SecureRandom>,
}

impl SearchInfo {
    /// The version that writes (and, with one version, reads).
    pub fn curr(&self) -> &BeaconVersion {
        &self.versions[self.curr_write]
    }

    pub fn is_beacon(&self, field: &str) -> bool {
        self.curr().is_beacon(field)
    }

    pub fn is_virtual_field(&self, field: &str) -> bool {
        self.curr().is_virtual_field(field)
    }

    /// The partition an item is written to: 0 without partitions, else the
    /// selector's (default: random) answer. DdbMiddlewareConfig.dfy GetRandomPartition.
    /// Spec: search-config.md#partition-selector
    pub fn choose_partition(&self, item: &Item) -> Result<u32> {
        let bv = self.curr();
        let n = bv.num_partitions;
        if n <= 1 {
            return Ok(0);
        }
        let chosen = match &bv.partition_selector {
            Some(selector) => selector.partition_number(item, n, &self.logical_table_name)?,
            None => {
                // The reference's default: one random byte modulo the count.
                let mut byte = [0u8; 1];
                self.random.fill(&mut byte)?;
                u32::from(byte[0]) % n
            }
        };
        if chosen != 0 && n <= chosen {
            return Err(Error::InvalidConfig(format!(
                "the partition selector returned {chosen}, which should have been less than {n}"
            )));
        }
        Ok(chosen)
    }

    /// The signed beacons' names: attributes the item encryptor signs (SIGN_ONLY).
    pub fn signed_beacon_names(&self) -> Vec<String> {
        self.curr().list_signed_beacons()
    }
}

/// `BeaconVersion`: the beacons, virtual fields and key source of one version.
pub struct BeaconVersion {
    pub version: u32,
    pub key_source: KeySource,
    pub virtual_fields: VirtualFieldMap,
    pub beacons: BTreeMap<String, Beacon>,
    /// The beacon names, in order (no meaning is attached to it).
    pub beacon_names: Vec<String>,
    /// The standard beacons' names: one HMAC key each.
    pub std_names: Vec<String>,
    /// The table's ENCRYPT_AND_SIGN attributes.
    pub encrypted_fields: BTreeSet<String>,
    /// `None`: the default (random) selector.
    pub partition_selector: Option<Arc<dyn PartitionSelector>>,
    /// maximumNumberOfPartitions (1: no partitions).
    pub num_partitions: u32,
}

impl std::fmt::Debug for BeaconVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeaconVersion")
            .field("version", &self.version)
            .field("key_source", &self.key_source)
            .field("beacon_names", &self.beacon_names)
            .field(
                "virtual_fields",
                &self.virtual_fields.keys().collect::<Vec<_>>(),
            )
            .field("num_partitions", &self.num_partitions)
            .finish_non_exhaustive()
    }
}

/// Which beacons an item generation covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeaconType {
    AnyBeacon,
    SignedBeacon,
    EncryptedBeacon,
}

/// IsBeaconOfType.
pub fn is_beacon_of_type(b: &Beacon, t: BeaconType) -> bool {
    match t {
        BeaconType::AnyBeacon => true,
        BeaconType::SignedBeacon => !b.is_encrypted(),
        BeaconType::EncryptedBeacon => b.is_encrypted(),
    }
}

impl BeaconVersion {
    pub fn is_beacon(&self, field: &str) -> bool {
        self.beacons.contains_key(field)
    }

    pub fn is_virtual_field(&self, field: &str) -> bool {
        self.virtual_fields.contains_key(field)
    }

    /// The attributes a field stands for: a beacon's sources plus its
    /// stored name `aws_dbe_b_<name>`, else the field itself.
    pub fn get_fields(&self, field: &str) -> Vec<String> {
        match self.beacons.get(field) {
            Some(b) => {
                let mut v = b.get_fields(&self.virtual_fields);
                v.push(format!("{BEACON_PREFIX}{field}"));
                v
            }
            None => vec![field.to_owned()],
        }
    }

    /// The keys for `key_id`. Spec: search-config.md#get-beacon-key-materials
    pub async fn get_key_map(&self, key_id: &MaybeKeyId) -> Result<MaybeKeyMap> {
        self.key_source.get_key_map(&self.std_names, key_id).await
    }

    /// ListSignedBeacons: compound beacons with only signed parts.
    pub fn list_signed_beacons(&self) -> Vec<String> {
        self.beacon_names
            .iter()
            .filter(|n| {
                self.beacons
                    .get(*n)
                    .is_some_and(|b| is_beacon_of_type(b, BeaconType::SignedBeacon))
            })
            .cloned()
            .collect()
    }

    /// Every beacon with plaintext values (for the post-query filter).
    pub fn generate_plain_beacons(&self, item: &Item, partition: u32) -> Result<Item> {
        self.generate_beacons(
            item,
            &MaybeKeyMap::DontUseKeys,
            BeaconType::AnyBeacon,
            partition,
        )
    }

    /// The signed beacons of `item`, stored under their own names.
    /// Spec: ddb-support.md#addsignedbeacons
    pub fn generate_signed_beacons(&self, item: &Item, partition: u32) -> Result<Item> {
        self.generate_beacons(
            item,
            &MaybeKeyMap::DontUseKeys,
            BeaconType::SignedBeacon,
            partition,
        )
    }

    /// The encrypted beacons of `item` (`aws_dbe_b_<name>`) under the beacon
    /// key of `key_id`. Spec: ddb-support.md#getencryptedbeacons
    pub async fn generate_encrypted_beacons(
        &self,
        item: &Item,
        key_id: &MaybeKeyId,
        partition: u32,
    ) -> Result<Item> {
        let keys = self.get_key_map(key_id).await?;
        self.generate_beacons(item, &keys, BeaconType::EncryptedBeacon, partition)
    }

    /// GenerateBeacon.
    pub fn generate_beacon(
        &self,
        name: &str,
        item: &Item,
        keys: &MaybeKeyMap,
        partition: u32,
    ) -> Result<Option<AttributeValue>> {
        match self.beacons.get(name) {
            Some(b) => b.attr_hash(item, &self.virtual_fields, keys, partition),
            None => Err(Error::Internal(format!("no beacon named {name:?}"))),
        }
    }

    /// GenerateBeacons2: every beacon of type `b_type` that the item can
    /// build, except PartOnly ones, under its stored name.
    /// Spec: beacons.md#partonly-initialization (never stored)
    pub fn generate_beacons(
        &self,
        item: &Item,
        keys: &MaybeKeyMap,
        b_type: BeaconType,
        partition: u32,
    ) -> Result<Item> {
        let mut acc = Item::new();
        for name in &self.beacon_names {
            let Some(b) = self.beacons.get(name) else {
                continue;
            };
            if is_beacon_of_type(b, b_type) && !b.is_part_only() {
                if let Some(v) = b.attr_hash(item, &self.virtual_fields, keys, partition)? {
                    acc.insert(b.get_beacon_name().to_owned(), v);
                }
            }
        }
        Ok(acc)
    }
}

/// A beacon: standard or compound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Beacon {
    Standard(StandardBeacon),
    Compound(CompoundBeacon),
}

impl Beacon {
    /// How many queries a value of this beacon needs (one per partition it
    /// may be in). Spec: changes/2025-08-25-beacon-partitions
    pub fn get_num_queries(&self, global_max: u32, value: &str) -> u32 {
        match self {
            Beacon::Standard(std) => std.number_of_partitions.min(global_max),
            Beacon::Compound(cmp) => cmp.get_num_queries(global_max, value),
        }
    }

    pub fn is_encrypted(&self) -> bool {
        match self {
            Beacon::Standard(_) => true,
            Beacon::Compound(cmp) => cmp.is_encrypted(),
        }
    }

    /// IsPartOnly.
    pub fn is_part_only(&self) -> bool {
        matches!(self, Beacon::Standard(s) if s.part_only)
    }

    /// The beacon value of `item` under `keys` (which must not be DontUseKeys).
    pub fn hash(
        &self,
        item: &Item,
        vf: &VirtualFieldMap,
        keys: &MaybeKeyMap,
        partition: u32,
    ) -> Result<Option<AttributeValue>> {
        match self {
            Beacon::Standard(std) => {
                let key = std_key(std, keys, "no beacon key id was found")?;
                std.get_hash(item, vf, key, partition)
            }
            Beacon::Compound(cmp) => {
                Ok(cmp.hash(item, vf, keys, partition)?.map(AttributeValue::S))
            }
        }
    }

    /// The plaintext value the beacon is computed from (for filtering and
    /// `resolve_attributes`).
    pub fn naked(
        &self,
        item: &Item,
        vf: &VirtualFieldMap,
        partition: u32,
    ) -> Result<Option<AttributeValue>> {
        match self {
            Beacon::Standard(std) => std.get_naked(item, vf),
            Beacon::Compound(cmp) => Ok(cmp.get_naked(item, vf, partition)?.map(AttributeValue::S)),
        }
    }

    /// `naked` with DontUseKeys, else `hash`.
    pub fn attr_hash(
        &self,
        item: &Item,
        vf: &VirtualFieldMap,
        keys: &MaybeKeyMap,
        partition: u32,
    ) -> Result<Option<AttributeValue>> {
        match keys {
            MaybeKeyMap::DontUseKeys => self.naked(item, vf, partition),
            _ => self.hash(item, vf, keys, partition),
        }
    }

    /// The configured name.
    pub fn get_name(&self) -> &str {
        match self {
            Beacon::Standard(s) => &s.base.name,
            Beacon::Compound(c) => &c.base.name,
        }
    }

    /// The stored name: `aws_dbe_b_<name>`, or `<name>` for a signed beacon.
    pub fn get_beacon_name(&self) -> &str {
        match self {
            Beacon::Standard(s) => &s.base.beacon_name,
            Beacon::Compound(c) => &c.base.beacon_name,
        }
    }

    /// The top-level attributes it is computed from.
    pub fn get_fields(&self, vf: &VirtualFieldMap) -> Vec<String> {
        match self {
            Beacon::Standard(s) => s.get_fields(vf),
            Beacon::Compound(c) => c.get_fields(vf),
        }
    }

    /// The beacon of a query value. `for_equality`: a compound value ending
    /// in a bare prefix keeps it (for begins_with) unless this is an
    /// equality; `for_contains`: a set value becomes a set of beacons.
    pub fn get_beacon_value(
        &self,
        value: &AttributeValue,
        keys: &MaybeKeyMap,
        for_equality: bool,
        for_contains: bool,
        partition: u32,
    ) -> Result<AttributeValue> {
        match (keys, self) {
            (MaybeKeyMap::DontUseKeys, _) => Ok(value.clone()),
            (_, Beacon::Standard(std)) => {
                let key = std_key(std, keys, "the query has no beacon key id")?;
                std.get_beacon_value(value, key, for_contains, partition)
            }
            (_, Beacon::Compound(cmp)) => {
                cmp.get_beacon_value(value, keys, for_equality, partition)
            }
        }
    }
}

/// The HMAC key of a standard beacon (its `other`'s when shared).
fn std_key<'k>(std: &StandardBeacon, keys: &'k MaybeKeyMap, why: &str) -> Result<&'k [u8]> {
    match keys {
        MaybeKeyMap::Keys(k) => k
            .hmac_key(std.key_name())
            .ok_or_else(|| Error::Internal(format!("beacon {:?} has no HMAC key", std.key_name()))),
        _ => Err(Error::RequestRefused(format!(
            "beacon {:?} needs a beacon key, but {why}",
            std.key_name()
        ))),
    }
}

/// A beacon's names: configured, and as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BeaconBase {
    pub name: String,
    pub beacon_name: String,
}

/// A standard beacon. Spec: beacons.md#standard-beacon-initialization
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StandardBeacon {
    pub base: BeaconBase,
    /// Bits kept, 1 to 63. Spec: beacons.md#beacon-length
    pub length: u32,
    pub loc: TermLoc,
    pub part_only: bool,
    pub as_set: bool,
    /// The beacon whose key this one uses (Shared, SharedSet).
    pub share: Option<String>,
    /// Partitions this beacon is spread over. Spec: beacons.md#beacon-constraint
    pub number_of_partitions: u32,
}

impl StandardBeacon {
    pub fn is_part_only(&self) -> bool {
        self.part_only
    }

    pub fn is_as_set(&self) -> bool {
        self.as_set
    }

    /// The partition byte, if any, for writing or querying partition `X`:
    /// `X % N` for a beacon constrained to N partitions.
    /// Spec: beacons.md#beacon-constraint, #beacon-partition-encoding
    pub fn constrained_partition(&self, partition: u32) -> Option<u8> {
        let p = if self.number_of_partitions == 0 || partition == 0 {
            partition
        } else {
            partition % self.number_of_partitions
        };
        partition_number_to_byte(p)
    }

    /// basicHash of `val` plus the partition byte.
    /// Spec: beacons.md#value-for-a-non-set-standard-beacon
    pub fn hash(&self, val: &[u8], key: &[u8], partition: u32) -> Result<String> {
        Ok(basic_hash(
            key,
            self.length,
            val,
            self.constrained_partition(partition),
        ))
    }

    /// The name of the HMAC key: `other` when shared. Spec: beacons.md#shared-initialization
    pub fn key_name(&self) -> &str {
        self.share.as_deref().unwrap_or(&self.base.name)
    }

    /// string hash: the hash of the UTF-8 of `val` with this beacon's key.
    /// Spec: beacons.md#string-hash
    pub fn hash_str(&self, val: &str, keys: &BeaconKeys, partition: u32) -> Result<String> {
        let key = keys.hmac_key(self.key_name()).ok_or_else(|| {
            Error::Internal(format!("beacon {:?} has no HMAC key", self.key_name()))
        })?;
        self.hash(val.as_bytes(), key, partition)
    }

    /// A set value as a set of beacons (duplicates dropped, first kept).
    /// Spec: beacons.md#value-for-a-set-standard-beacon
    pub fn value_to_set(
        &self,
        value: &AttributeValue,
        key: &[u8],
        partition: u32,
    ) -> Result<AttributeValue> {
        let terms: Vec<AttributeValue> = match value {
            AttributeValue::Ss(v) => v.iter().cloned().map(AttributeValue::S).collect(),
            AttributeValue::Ns(v) => v.iter().cloned().map(AttributeValue::N).collect(),
            AttributeValue::Bs(v) => v.iter().cloned().map(AttributeValue::B).collect(),
            other => {
                return Err(Error::InvalidItem(format!(
                    "beacon {:?} has style AsSet, but the attribute has type {}",
                    self.base.name,
                    other.type_name()
                )))
            }
        };
        let mut out: Vec<String> = Vec::with_capacity(terms.len());
        for t in &terms {
            let bytes = serialize::serialize(t)?.value;
            let h = self.hash(&bytes, key, partition)?;
            if !out.contains(&h) {
                out.push(h);
            }
        }
        Ok(AttributeValue::Ss(out))
    }

    /// The beacon value of `item`. Spec: beacons.md#value-for-a-standard-beacon
    pub fn get_hash(
        &self,
        item: &Item,
        vf: &VirtualFieldMap,
        key: &[u8],
        partition: u32,
    ) -> Result<Option<AttributeValue>> {
        if self.as_set {
            match self.loc.term_to_attr(item, None) {
                None => Ok(None),
                Some(v) => self.value_to_set(&v, key, partition).map(Some),
            }
        } else {
            match virt_to_bytes(&self.loc, item, vf)? {
                None => Ok(None),
                Some(bytes) => Ok(Some(AttributeValue::S(self.hash(&bytes, key, partition)?))),
            }
        }
    }

    /// The plaintext value at the location (a virtual field's value as S).
    pub fn get_naked(&self, item: &Item, vf: &VirtualFieldMap) -> Result<Option<AttributeValue>> {
        virt_to_attr(&self.loc, item, vf)
    }

    /// The top-level attributes it reads.
    pub fn get_fields(&self, vf: &VirtualFieldMap) -> Vec<String> {
        match vf.get(self.loc.key()) {
            Some(field) => field.get_fields(),
            None => vec![self.loc.key().to_owned()],
        }
    }

    /// The beacon of a query value: a set for an AsSet beacon given a set,
    /// or for `contains` given a set; else the hash of the serialized value.
    pub fn get_beacon_value(
        &self,
        value: &AttributeValue,
        key: &[u8],
        for_contains: bool,
        partition: u32,
    ) -> Result<AttributeValue> {
        let is_terminal = matches!(
            value,
            AttributeValue::S(_) | AttributeValue::N(_) | AttributeValue::B(_)
        );
        let is_set = matches!(
            value,
            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
        );
        if (self.as_set && !is_terminal) || (for_contains && is_set) {
            return self.value_to_set(value, key, partition);
        }
        let bytes = serialize::serialize(value)?.value;
        Ok(AttributeValue::S(self.hash(&bytes, key, partition)?))
    }

    /// getPart for a standard beacon: basicHash of the bytes, given partition bytes.
    /// Spec: beacons.md#getpart-for-a-standard-beacon
    pub fn get_part(&self, val: &[u8], key: &[u8], partition: Option<u8>) -> String {
        basic_hash(key, self.length, val, partition)
    }
}

/// PartitionNumberToBytes: nothing for 0, else one byte.
/// Spec: beacons.md#beacon-partition-encoding
pub fn partition_number_to_byte(partition: u32) -> Option<u8> {
    if partition == 0 {
        None
    } else {
        // Partition numbers are below 255 (checked at configuration and query).
        Some(partition.min(254) as u8)
    }
}

/// basicHash: HMAC-SHA384 of `data` (+ the partition byte), first 8 bytes,
/// rightmost `length` bits as lowercase hex, (length+3)/4 characters.
/// Spec: beacons.md#basichash
pub fn basic_hash(key: &[u8], length: u32, data: &[u8], partition: Option<u8>) -> String {
    let mac = match partition {
        Some(p) => hmac_sha384(key, &[data, &[p]]),
        None => hmac_sha384(key, &[data]),
    };
    let mut first8 = [0u8; 8];
    first8.copy_from_slice(&mac[..8]);
    bytes_to_hex(&first8, length)
}

/// BytesToHex: the rightmost `bits` bits of 8 bytes, as hex.
pub fn bytes_to_hex(bytes: &[u8; 8], bits: u32) -> String {
    let bits = bits.clamp(1, 63);
    let num_bytes = bits.div_ceil(8) as usize;
    let num_chars = bits.div_ceil(4) as usize;
    let top_bits = match bits % 4 {
        0 => 4,
        x => x,
    };
    let bytes = &bytes[8 - num_bytes..];
    let mask = (1u8 << top_bits) - 1;
    let mut out = String::with_capacity(num_chars);
    let hex = |n: u8| char::from(b"0123456789abcdef"[usize::from(n)]);
    if num_chars == 2 * num_bytes {
        out.push(hex((bytes[0] >> 4) & mask));
        out.push(hex(bytes[0] & 0x0f));
    } else {
        out.push(hex(bytes[0] & 0x0f & mask));
    }
    for b in &bytes[1..] {
        out.push(hex(b >> 4));
        out.push(hex(b & 0x0f));
    }
    out
}

/// One standard beacon value, as aws-db-esdk computes it for an item
/// attribute on partition 0: the beacon's HMAC key derived from the beacon
/// key (HKDF-SHA512), then basicHash of the attribute's serialization.
/// For interop tests and debugging; the encryptor goes through [`BeaconVersion`].
pub fn standard_beacon_value(
    beacon_key: &[u8],
    beacon_name: &str,
    length: u32,
    value: &AttributeValue,
) -> Result<String> {
    if !(1..=63).contains(&length) {
        return Err(Error::InvalidConfig(format!(
            "standard beacon {beacon_name:?}: length {length} is outside 1 to 63"
        )));
    }
    let key = super::keys::hmac_key(beacon_key, beacon_name);
    let bytes = serialize::serialize(value)?.value;
    Ok(basic_hash(key.expose(), length, &bytes, None))
}

/// A part of a compound beacon. Spec: beacons.md#part
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BeaconPart {
    /// A standard beacon's hash, after a prefix.
    Encrypted {
        prefix: String,
        beacon: StandardBeacon,
    },
    /// A SIGN_ONLY value in plaintext, after a prefix.
    Signed {
        prefix: String,
        name: String,
        loc: TermLoc,
    },
}

impl BeaconPart {
    pub fn get_prefix(&self) -> &str {
        match self {
            BeaconPart::Encrypted { prefix, .. } | BeaconPart::Signed { prefix, .. } => prefix,
        }
    }

    pub fn get_name(&self) -> &str {
        match self {
            BeaconPart::Encrypted { beacon, .. } => &beacon.base.name,
            BeaconPart::Signed { name, .. } => name,
        }
    }

    pub fn is_encrypted(&self) -> bool {
        matches!(self, BeaconPart::Encrypted { .. })
    }

    pub fn is_signed(&self) -> bool {
        matches!(self, BeaconPart::Signed { .. })
    }

    /// Where its plaintext comes from.
    pub fn loc(&self) -> &TermLoc {
        match self {
            BeaconPart::Encrypted { beacon, .. } => &beacon.loc,
            BeaconPart::Signed { loc, .. } => loc,
        }
    }

    /// The plaintext string of this part in `item`.
    pub fn get_string(&self, item: &Item, vf: &VirtualFieldMap) -> Result<Option<String>> {
        virt_to_string(self.loc(), item, vf)
    }

    pub fn get_fields(&self, vf: &VirtualFieldMap) -> Vec<String> {
        match self {
            BeaconPart::Encrypted { beacon, .. } => beacon.get_fields(vf),
            BeaconPart::Signed { loc, .. } => match vf.get(loc.key()) {
                Some(field) => field.get_fields(),
                None => vec![loc.key().to_owned()],
            },
        }
    }
}

/// A part of a constructor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstructorPart {
    pub part: BeaconPart,
    pub required: bool,
}

/// A way to build a compound beacon. Spec: beacons.md#constructor-initialization
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constructor {
    pub parts: Vec<ConstructorPart>,
}

impl Constructor {
    /// The names of its required parts (getReqParts, compared by part).
    pub fn get_req_parts(&self) -> Vec<&BeaconPart> {
        let v: Vec<&BeaconPart> = self
            .parts
            .iter()
            .filter(|p| p.required)
            .map(|p| &p.part)
            .collect();
        // Through the crate's one sort (a `sort_by` here was another copy of it).
        let mut v = sorted_by(v, |a, b| {
            a.get_name()
                .cmp(b.get_name())
                .then(a.get_prefix().cmp(b.get_prefix()))
        });
        v.dedup();
        v
    }
}

/// A compound beacon. Spec: beacons.md#compound-beacon-initialization
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompoundBeacon {
    pub base: BeaconBase,
    pub split: char,
    /// The signed parts, then the encrypted parts.
    pub parts: Vec<BeaconPart>,
    pub num_signed: usize,
    pub construct: Vec<Constructor>,
}

impl CompoundBeacon {
    /// Whether any part is encrypted (else it is a signed beacon).
    pub fn is_encrypted(&self) -> bool {
        self.num_signed < self.parts.len()
    }

    /// HasBeacon: whether a part is named `name`.
    pub fn has_beacon(&self, name: &str) -> bool {
        self.parts.iter().any(|p| p.get_name() == name)
    }

    /// The pieces of a value: split on the split character.
    pub fn split_value<'a>(&self, value: &'a str) -> Vec<&'a str> {
        value.split(self.split).collect()
    }

    /// partFromPrefix: the first part whose prefix starts `value`.
    pub fn get_part_from_prefix(&self, value: &str) -> Result<&BeaconPart> {
        self.parts
            .iter()
            .find(|p| value.starts_with(p.get_prefix()))
            .ok_or_else(|| {
                Error::RequestRefused(format!(
                    "a value for compound beacon {:?} does not start with the prefix of any of its parts",
                    self.base.name
                ))
            })
    }

    /// CanConstruct: parts may be skipped before the first match, and
    /// optional ones after it; required ones after a match may not.
    pub fn can_construct(con: &[ConstructorPart], in_parts: &[&BeaconPart]) -> bool {
        let (mut ci, mut pi, mut matched) = (0, 0, false);
        loop {
            if pi == in_parts.len() {
                return true;
            }
            if ci == con.len() {
                return false;
            }
            if con[ci].part == *in_parts[pi] {
                ci += 1;
                pi += 1;
                matched = true;
            } else if !con[ci].required || !matched {
                ci += 1;
            } else {
                return false;
            }
        }
    }

    /// IsValidPartOrder: some constructor can produce these parts in this order.
    pub fn is_valid_part_order(&self, in_parts: &[&BeaconPart]) -> bool {
        self.construct
            .iter()
            .any(|c| Self::can_construct(&c.parts, in_parts))
    }

    /// ValidatePartOrder.
    pub fn validate_part_order(&self, in_parts: &[&BeaconPart]) -> Result<()> {
        if self.is_valid_part_order(in_parts) {
            return Ok(());
        }
        let parsed: String = in_parts.iter().map(|p| p.get_prefix()).collect();
        let available: Vec<String> = self
            .construct
            .iter()
            .map(|c| {
                c.parts
                    .iter()
                    .map(|p| {
                        if p.required {
                            p.part.get_prefix().to_owned()
                        } else {
                            format!("[{}]", p.part.get_prefix())
                        }
                    })
                    .collect::<String>()
            })
            .collect();
        Err(Error::RequestRefused(format!(
            "a value for compound beacon {:?} cannot be built by any of its constructors: \
             parsed as {parsed}, available constructors are {}",
            self.base.name,
            available.join(", ")
        )))
    }

    /// SkipSignedPieces: drop leading pieces of signed parts.
    pub fn skip_signed_pieces<'a, S: AsRef<str>>(&self, pieces: &'a [S]) -> Result<&'a [S]> {
        let mut rest = pieces;
        while let Some(first) = rest.first() {
            if self.get_part_from_prefix(first.as_ref())?.is_encrypted() {
                break;
            }
            rest = &rest[1..];
        }
        Ok(rest)
    }

    /// IsLessThanComparable: after the leading signed pieces, nothing, or
    /// one bare prefix. Spec: beacons.md (BETWEEN and < on compound beacons)
    pub fn is_less_than_comparable<S: AsRef<str>>(&self, pieces: &[S]) -> Result<bool> {
        let rest = self.skip_signed_pieces(pieces)?;
        match rest {
            [] => Ok(true),
            [one] => {
                let p = self.get_part_from_prefix(one.as_ref())?;
                Ok(p.get_prefix() == one.as_ref())
            }
            _ => Ok(false),
        }
    }

    /// The top-level attributes of all parts.
    pub fn get_fields(&self, vf: &VirtualFieldMap) -> Vec<String> {
        self.parts.iter().flat_map(|p| p.get_fields(vf)).collect()
    }

    /// FindAndCalcPart: the part value of one query piece.
    pub fn find_and_calc_part(
        &self,
        value: &str,
        keys: &MaybeKeyMap,
        partition: u32,
    ) -> Result<String> {
        let part = self.get_part_from_prefix(value)?;
        self.part_value_calc(&value[part.get_prefix().len()..], keys, part, partition)
    }

    /// justPrefix: the piece is a bare prefix.
    pub fn just_prefix(&self, value: &str) -> Result<bool> {
        Ok(value == self.get_part_from_prefix(value)?.get_prefix())
    }

    /// The beacon of a query value (a string).
    pub fn get_beacon_value(
        &self,
        value: &AttributeValue,
        keys: &MaybeKeyMap,
        for_equality: bool,
        partition: u32,
    ) -> Result<AttributeValue> {
        let (pieces, _) = self.query_pieces(value)?;
        let beacon_parts = pieces
            .iter()
            .map(|p| self.find_and_calc_part(p, keys, partition))
            .collect::<Result<Vec<_>>>()?;
        let last = pieces.last().copied().unwrap_or_default();
        let last_is_prefix = self.just_prefix(last)?;
        let split = self.split.to_string();
        if !for_equality && last_is_prefix {
            let mut v: Vec<&str> = beacon_parts[..beacon_parts.len() - 1]
                .iter()
                .map(String::as_str)
                .collect();
            v.push(last);
            Ok(AttributeValue::S(v.join(&split)))
        } else {
            Ok(AttributeValue::S(beacon_parts.join(&split)))
        }
    }

    /// A query value's pieces and the part each names, in a valid order;
    /// a value that is not a string is refused.
    fn query_pieces<'v>(
        &self,
        value: &'v AttributeValue,
    ) -> Result<(Vec<&'v str>, Vec<&BeaconPart>)> {
        let AttributeValue::S(s) = value else {
            return Err(Error::RequestRefused(format!(
                "compound beacon {:?} can only be queried as a string, not as {}",
                self.base.name,
                value.type_name()
            )));
        };
        let pieces = self.split_value(s);
        let parts_used = pieces
            .iter()
            .map(|p| self.get_part_from_prefix(p))
            .collect::<Result<Vec<_>>>()?;
        self.validate_part_order(&parts_used)?;
        Ok((pieces, parts_used))
    }

    /// The partition counts of the encrypted parts of these parts.
    pub fn get_partition_counts_from_parts(in_parts: &[&BeaconPart]) -> Vec<u32> {
        in_parts
            .iter()
            .filter_map(|p| match p {
                BeaconPart::Encrypted { beacon, .. } => Some(beacon.number_of_partitions),
                BeaconPart::Signed { .. } => None,
            })
            .collect()
    }

    /// The partition counts of the encrypted parts of a query value.
    pub fn get_partition_counts_from_value(&self, value: &AttributeValue) -> Result<Vec<u32>> {
        let (_, parts_used) = self.query_pieces(value)?;
        Ok(Self::get_partition_counts_from_parts(&parts_used))
    }

    /// getNumQueries: the lcm of its encrypted parts' partition counts
    /// (capped), or 1 if the value does not parse.
    pub fn get_num_queries(&self, global_max: u32, value: &str) -> u32 {
        match self.get_partition_counts_from_value(&AttributeValue::S(value.to_owned())) {
            Err(_) => 1,
            Ok(counts) => lcm_seq(&counts, global_max),
        }
    }

    /// TryConstructor: this constructor's value, `None` if a required part
    /// is missing. Spec: beacons.md#value-for-a-compound-beacon
    fn try_constructor(
        &self,
        cons: &[ConstructorPart],
        item: &Item,
        vf: &VirtualFieldMap,
        keys: &MaybeKeyMap,
        partition: u32,
    ) -> Result<Option<String>> {
        let mut acc = String::new();
        for cp in cons {
            let part = &cp.part;
            match part.get_string(item, vf)? {
                Some(s) => {
                    if s.contains(self.split) {
                        return Err(Error::InvalidItem(format!(
                            "part {:?} of compound beacon {:?} has a value containing the split character {:?}",
                            part.get_name(),
                            self.base.name,
                            self.split
                        )));
                    }
                    let val = match keys {
                        MaybeKeyMap::DontUseKeys => format!("{}{s}", part.get_prefix()),
                        _ => self.part_value_calc(&s, keys, part, partition)?,
                    };
                    if !acc.is_empty() {
                        acc.push(self.split);
                    }
                    acc.push_str(&val);
                }
                None if cp.required => return Ok(None),
                None => {}
            }
        }
        if acc.is_empty() {
            return Err(Error::Internal(format!(
                "compound beacon {:?}: an empty beacon was built",
                self.base.name
            )));
        }
        Ok(Some(acc))
    }

    /// TryConstructors: the first constructor that succeeds.
    fn try_constructors(
        &self,
        item: &Item,
        vf: &VirtualFieldMap,
        keys: &MaybeKeyMap,
        partition: u32,
    ) -> Result<Option<String>> {
        for c in &self.construct {
            if let Some(v) = self.try_constructor(&c.parts, item, vf, keys, partition)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// The beacon value of `item` under `keys`. Spec: beacons.md#value-for-a-compound-beacon
    pub fn hash(
        &self,
        item: &Item,
        vf: &VirtualFieldMap,
        keys: &MaybeKeyMap,
        partition: u32,
    ) -> Result<Option<String>> {
        self.try_constructors(item, vf, keys, partition)
    }

    /// The unhashed value (prefixes and plaintext), for filtering and
    /// `resolve_attributes`.
    pub fn get_naked(
        &self,
        item: &Item,
        vf: &VirtualFieldMap,
        partition: u32,
    ) -> Result<Option<String>> {
        self.try_constructors(item, vf, &MaybeKeyMap::DontUseKeys, partition)
    }

    /// findPart: the one part whose prefix starts `val`.
    pub fn find_part(&self, val: &str) -> Result<&BeaconPart> {
        let mut found = self
            .parts
            .iter()
            .filter(|p| val.starts_with(p.get_prefix()));
        match (found.next(), found.next()) {
            (Some(p), None) => Ok(p),
            (None, _) => Err(Error::RequestRefused(format!(
                "no part of compound beacon {:?} matches the prefix of a piece",
                self.base.name
            ))),
            (Some(_), Some(_)) => Err(Error::Internal(format!(
                "several parts of compound beacon {:?} match the prefix of a piece",
                self.base.name
            ))),
        }
    }

    /// getPart: each piece's part value, joined on the split character.
    /// Spec: beacons.md#getpart-for-a-compound-beacon
    pub fn get_part(&self, val: &str, keys: &Arc<BeaconKeys>, partition: u32) -> Result<String> {
        let keys = MaybeKeyMap::Keys(keys.clone());
        let mut out = Vec::new();
        for piece in self.split_value(val) {
            out.push(self.calc_part(piece, &keys, partition)?);
        }
        Ok(out.join(&self.split.to_string()))
    }

    /// calcPart: the part value of one piece (prefix included in the data,
    /// as the reference passes the whole piece).
    pub fn calc_part(&self, piece: &str, keys: &MaybeKeyMap, partition: u32) -> Result<String> {
        let part = self.find_part(piece)?;
        self.part_value_calc(piece, keys, part, partition)
    }

    /// Part Value Calculation: prefix + plaintext for a signed part, prefix +
    /// string hash for an encrypted one. Spec: beacons.md#part-value-calculation
    pub fn part_value_calc(
        &self,
        data: &str,
        keys: &MaybeKeyMap,
        part: &BeaconPart,
        partition: u32,
    ) -> Result<String> {
        if data.contains(self.split) {
            return Err(Error::InvalidItem(format!(
                "a value for part {:?} of compound beacon {:?} contains the split character {:?}",
                part.get_name(),
                self.base.name,
                self.split
            )));
        }
        match part {
            BeaconPart::Encrypted { prefix, beacon } => {
                let MaybeKeyMap::Keys(keys) = keys else {
                    return Err(Error::RequestRefused(format!(
                        "beacon {:?} needs a beacon key, but the query has no beacon key id",
                        beacon.base.name
                    )));
                };
                Ok(format!(
                    "{prefix}{}",
                    beacon.hash_str(data, keys, partition)?
                ))
            }
            BeaconPart::Signed { prefix, .. } => Ok(format!("{prefix}{data}")),
        }
    }
}

/// gcd, as the reference's.
fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// lcmPartition: the lcm of two partition counts, capped at `max`.
pub fn lcm_partition(a: u32, b: u32, max: u32) -> u32 {
    if a == 1 || b == max || a == b {
        b.min(max)
    } else if b == 1 || a == max {
        a.min(max)
    } else {
        let (a64, b64) = (u64::from(a), u64::from(b));
        let l = a64 / gcd(a64, b64) * b64;
        if l < u64::from(max) {
            l as u32
        } else {
            max
        }
    }
}

/// lcmSeq: the lcm of all counts, capped at `max`.
pub fn lcm_seq(values: &[u32], max: u32) -> u32 {
    let mut result = 1;
    for &p in values {
        if p == 1 || p == result {
            continue;
        }
        result = lcm_partition(result, p, max);
    }
    result
}
