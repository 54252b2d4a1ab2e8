//! From the search configuration as given to the validated [`SearchInfo`]:
//! every initialization check of the reference. Spec: search-config.md#initialization,
//! #beacon-version-initialization, beacons.md#initialization-failure,
//! virtual.md#virtual-field-initialization; reference code: ConfigToInfo.dfy.
//!
//! Each error is an [`Error::InvalidConfig`] naming the beacon, part or
//! virtual field, e.g. `standard beacon "Foo": ...`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::config::{
    BeaconKeySourceConfig, BeaconStyle, BeaconVersionConfig, CompoundBeaconConfig,
    ConstructorConfig, EncryptedPartConfig, SearchConfig, SignedPartConfig, StandardBeaconConfig,
    VirtualFieldConfig,
};
use super::info::{
    Beacon, BeaconBase, BeaconPart, BeaconVersion, CompoundBeacon, Constructor, ConstructorPart,
    SearchInfo, StandardBeacon, BEACON_PREFIX, MAX_PARTITION_COUNT, RESERVED_PREFIX,
};
use super::keys::{
    BeaconKeyCache, KeyLocation, KeySource, MULTI_CACHE_ENTRIES, SINGLE_CACHE_ENTRIES,
};
use super::virtual_field::{TermLoc, VirtualField, VirtualFieldMap};
use crate::encryptor::{CryptoAction, ItemEncryptorConfig};
use crate::error::{Error, Result};
use crate::item::serialize::key_too_long;

fn invalid(msg: String) -> Error {
    Error::InvalidConfig(msg)
}

/// What the search configuration is checked against: the table's item
/// encryptor configuration, before signed beacons are added to its actions.
struct Outer<'a> {
    actions: &'a BTreeMap<String, CryptoAction>,
    unsigned: &'a [String],
    unsigned_prefix: Option<&'a str>,
}

impl Outer<'_> {
    fn action(&self, name: &str) -> Option<CryptoAction> {
        self.actions.get(name).copied()
    }

    /// IsSigned: the location's attribute is configured and not DO_NOTHING.
    fn is_signed(&self, loc: &TermLoc) -> bool {
        self.action(loc.key())
            .is_some_and(|a| a != CryptoAction::DoNothing)
    }

    /// IsSignOnly: SIGN_ONLY or SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT.
    fn is_sign_only(&self, loc: &TermLoc) -> bool {
        matches!(
            self.action(loc.key()),
            Some(CryptoAction::SignOnly | CryptoAction::SignAndIncludeInEncryptionContext)
        )
    }

    /// IsEncrypted: ENCRYPT_AND_SIGN.
    fn is_encrypted(&self, loc: &TermLoc) -> bool {
        self.action(loc.key()) == Some(CryptoAction::EncryptAndSign)
    }

    /// IsEncryptedV: encrypted, or a virtual field with an encrypted part.
    fn is_encrypted_v(&self, vf: &VirtualFieldMap, loc: &TermLoc) -> bool {
        self.is_encrypted(loc)
            || vf
                .get(loc.key())
                .is_some_and(|f| f.examine(|t| self.is_encrypted(t)))
    }

    fn is_allowed_unsigned(&self, name: &str) -> bool {
        self.unsigned.iter().any(|u| u == name)
    }

    fn under_unsigned_prefix(&self, name: &str) -> bool {
        self.unsigned_prefix.is_some_and(|p| name.starts_with(p))
    }

    /// BeaconNameAllowed. `what` is e.g. `standard beacon "Foo"`.
    fn beacon_name_allowed(&self, name: &str, what: &str, is_signed_beacon: bool) -> Result<()> {
        let why = match self.action(name) {
            Some(a) if a != CryptoAction::EncryptAndSign => {
                Some("the name is already an unencrypted attribute")
            }
            Some(_) if is_signed_beacon => {
                Some("a fully signed beacon cannot have the name of a configured attribute")
            }
            _ if self.is_allowed_unsigned(name) => {
                Some("the name is already an allowed unauthenticated attribute")
            }
            _ if self.under_unsigned_prefix(name) => {
                Some("the name begins with the allowed unauthenticated prefix")
            }
            _ if name.starts_with(RESERVED_PREFIX) => {
                Some("the name begins with the reserved prefix aws_dbe_")
            }
            _ => None,
        };
        match why {
            Some(why) => Err(invalid(format!("{what}: {why}"))),
            None => Ok(()),
        }
    }

    /// VirtualFieldNameAllowed.
    fn virtual_field_name_allowed(&self, name: &str) -> Result<()> {
        let why = if self.actions.contains_key(name) {
            Some("the name is already a configured attribute")
        } else if self.is_allowed_unsigned(name) {
            Some("the name is already an allowed unauthenticated attribute")
        } else if self.under_unsigned_prefix(name) {
            Some("the name begins with the allowed unauthenticated prefix")
        } else if name.starts_with(RESERVED_PREFIX) {
            Some("the name begins with the reserved prefix aws_dbe_")
        } else {
            None
        };
        match why {
            Some(why) => Err(invalid(format!("virtual field {name:?}: {why}"))),
            None => Ok(()),
        }
    }
}

impl SearchInfo {
    /// Validate `config` against the table `table` (its actions, unsigned
    /// attributes, logical name and randomness), as the reference does at
    /// client construction. `table` is the configuration as the caller
    /// wrote it: [`crate::ItemEncryptor::new`] then adds the signed beacons
    /// to its actions as SIGN_ONLY.
    /// Spec: search-config.md#initialization
    pub fn new(config: SearchConfig, table: &ItemEncryptorConfig) -> Result<SearchInfo> {
        // Spec: search-config.md#initialization (version 1, exactly one version)
        if config.write_version != 1 {
            return Err(invalid(format!(
                "search config: writeVersion must be 1, not {}",
                config.write_version
            )));
        }
        if !config
            .versions
            .iter()
            .any(|v| v.version == config.write_version)
        {
            return Err(invalid(format!(
                "search config: writeVersion {} is not one of the configured versions",
                config.write_version
            )));
        }
        if config.versions.len() != 1 {
            return Err(invalid(
                "search config: exactly one beacon version must be configured".into(),
            ));
        }
        let outer = Outer {
            actions: &table.attribute_actions_on_encrypt,
            unsigned: &table.allowed_unsigned_attributes,
            unsigned_prefix: table.allowed_unsigned_attribute_prefix.as_deref(),
        };
        let random = table.crypto.random.clone();
        let mut versions = Vec::with_capacity(1);
        for v in config.versions {
            versions.push(convert_version(&outer, v, &*random)?);
        }
        Ok(SearchInfo {
            versions,
            curr_write: 0,
            logical_table_name: table.logical_table_name.clone(),
            random,
        })
    }
}

/// ShouldDeleteKeyField: the multi key store's key field is dropped before
/// encryption unless it is signed; it must not be encrypted.
fn should_delete_key_field(outer: &Outer<'_>, key_field_name: &str) -> Result<bool> {
    match outer.action(key_field_name) {
        None | Some(CryptoAction::DoNothing) => Ok(true),
        Some(CryptoAction::SignOnly | CryptoAction::SignAndIncludeInEncryptionContext) => Ok(false),
        Some(CryptoAction::EncryptAndSign) => Err(invalid(format!(
            "beacon key field {key_field_name:?} is ENCRYPT_AND_SIGN, which is not allowed"
        ))),
    }
}

/// MakeKeySource. Spec: search-config.md#beacon-key-source, #key-store-cache, #partition-id
fn make_key_source(
    outer: &Outer<'_>,
    config: &BeaconVersionConfig,
    random: &dyn crate::primitives::provider::SecureRandom,
) -> Result<KeySource> {
    let store = config.key_store.clone();
    let (cache, partition_id, ttl) = match &config.key_source {
        BeaconKeySourceConfig::Single {
            cache,
            partition_id,
            cache_ttl_seconds,
            ..
        } => (cache, partition_id, *cache_ttl_seconds),
        BeaconKeySourceConfig::Multi {
            cache,
            partition_id,
            cache_ttl_seconds,
            ..
        } => (cache, partition_id, *cache_ttl_seconds),
    };
    let capacity = match &config.key_source {
        BeaconKeySourceConfig::Single { .. } => SINGLE_CACHE_ENTRIES,
        BeaconKeySourceConfig::Multi { .. } => MULTI_CACHE_ENTRIES,
    };
    let cache = match cache {
        Some(c) => c.clone(),
        None => Arc::new(BeaconKeyCache::new(capacity, store.clock())?),
    };
    // The reference's default partition id: a fresh UUID's 16 bytes.
    let partition_id = match partition_id {
        Some(id) => id.as_bytes().to_vec(),
        None => {
            let mut b = [0u8; 16];
            random.fill(&mut b)?;
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            b.to_vec()
        }
    };
    if ttl == 0 {
        return Err(invalid(
            "beacon key source: cacheTTL must be at least 1 second".into(),
        ));
    }
    let key_loc = match &config.key_source {
        BeaconKeySourceConfig::Single { key_id, .. } => {
            if key_id.is_empty() {
                return Err(invalid("beacon key source: keyId must not be empty".into()));
            }
            KeyLocation::SingleLoc {
                key_id: key_id.clone(),
            }
        }
        BeaconKeySourceConfig::Multi { key_field_name, .. } => KeyLocation::MultiLoc {
            key_name: key_field_name.clone(),
            delete_key: should_delete_key_field(outer, key_field_name)?,
        },
    };
    let mut source = KeySource {
        store,
        key_loc,
        cache,
        cache_ttl_seconds: ttl,
        partition_id,
        fixed_cache_id: None,
    };
    if let KeyLocation::SingleLoc { key_id } = &source.key_loc {
        source.fixed_cache_id = Some(source.cache_id(key_id));
    }
    Ok(source)
}

/// ConvertVersion and ConvertVersionWithSource.
fn convert_version(
    outer: &Outer<'_>,
    config: BeaconVersionConfig,
    random: &dyn crate::primitives::provider::SecureRandom,
) -> Result<BeaconVersion> {
    if config.version != 1 {
        return Err(invalid(format!(
            "beacon version: the version number must be 1, not {}",
            config.version
        )));
    }
    if config.standard_beacons.is_empty() {
        return Err(invalid(
            "beacon version: at least one standard beacon must be configured".into(),
        ));
    }
    let source = make_key_source(outer, &config, random)?;

    // Spec: search-config.md#max-partitions; the reference refuses 255 (`< MAX_PARTITION_COUNT`).
    let mut max_partitions = config.maximum_number_of_partitions.unwrap_or(1);
    if max_partitions >= MAX_PARTITION_COUNT {
        return Err(invalid(format!(
            "beacon version: maximumNumberOfPartitions is {max_partitions}, it must be below {MAX_PARTITION_COUNT}"
        )));
    }
    // Zero reads as unset, as the reference does (Java cannot tell them apart).
    if max_partitions == 0 {
        max_partitions = 1;
    }
    // Spec: search-config.md#default-partitions
    let default_partitions = match config.default_number_of_partitions {
        None | Some(0) => max_partitions,
        Some(d) if max_partitions <= d => {
            return Err(invalid(format!(
                "beacon version: defaultNumberOfPartitions is {d}, it must be below \
                 maximumNumberOfPartitions ({max_partitions})"
            )))
        }
        Some(d) => d,
    };

    let virtual_fields = add_virtual_fields(outer, &config.virtual_fields)?;
    let std = add_standard_beacons(
        outer,
        &config.standard_beacons,
        &virtual_fields,
        max_partitions,
        default_partitions,
    )?;
    let global_signed = get_signed_parts(outer, &config.signed_parts, "the global parts list")?;
    let global_encrypted =
        get_encrypted_parts(&config.encrypted_parts, &std, "the global parts list")?;
    let mut beacons = std;
    for cb in &config.compound_beacons {
        let new_beacon =
            create_compound_beacon(outer, cb, &beacons, &global_signed, &global_encrypted)?;
        beacons.insert(cb.name.clone(), Beacon::Compound(new_beacon));
    }
    check_beacons(&beacons)?;

    // Spec: search-config.md#beacon-version-initialization (multi key field name)
    if let KeyLocation::MultiLoc { key_name, .. } = &source.key_loc {
        if beacons.contains_key(key_name) {
            return Err(invalid(format!(
                "beacon key field {key_name:?}: there is also a beacon of that name"
            )));
        }
        if virtual_fields.contains_key(key_name) {
            return Err(invalid(format!(
                "beacon key field {key_name:?}: there is also a virtual field of that name"
            )));
        }
    }

    let beacon_names: Vec<String> = beacons.keys().cloned().collect();
    let std_names = beacon_names
        .iter()
        .filter(|n| matches!(beacons.get(*n), Some(Beacon::Standard(_))))
        .cloned()
        .collect();
    // Inserted one by one: collecting a set sorts, one more copy of the sort.
    let mut encrypted_fields = BTreeSet::new();
    for (name, action) in outer.actions {
        if *action == CryptoAction::EncryptAndSign {
            encrypted_fields.insert(name.clone());
        }
    }
    Ok(BeaconVersion {
        version: config.version,
        key_source: source,
        virtual_fields,
        beacons,
        beacon_names,
        std_names,
        encrypted_fields,
        partition_selector: config.partition_selector.clone(),
        num_partitions: max_partitions,
    })
}

/// AddVirtualFields. Spec: virtual.md#virtual-field-initialization
fn add_virtual_fields(
    outer: &Outer<'_>,
    configs: &[VirtualFieldConfig],
) -> Result<VirtualFieldMap> {
    let mut converted = VirtualFieldMap::new();
    for vf in configs {
        if converted.contains_key(&vf.name) {
            return Err(invalid(format!(
                "virtual field {:?}: the name is used twice",
                vf.name
            )));
        }
        outer.virtual_field_name_allowed(&vf.name)?;
        let field = VirtualField::parse(vf)?;
        if field.examine(|t| !outer.is_signed(t)) {
            return Err(invalid(format!(
                "virtual field {:?}: it must be built from signed attributes only",
                vf.name
            )));
        }
        let locs = field.get_locs();
        if let Some(other) = converted.values().find(|f| f.get_locs() == locs) {
            return Err(invalid(format!(
                "virtual field {:?}: it is defined on the same locations as virtual field {:?}",
                vf.name, other.name
            )));
        }
        converted.insert(vf.name.clone(), field);
    }
    Ok(converted)
}

/// AddStandardBeacons and MakeStandardBeacon.
fn add_standard_beacons(
    outer: &Outer<'_>,
    configs: &[StandardBeaconConfig],
    vf: &VirtualFieldMap,
    max_partitions: u32,
    default_partitions: u32,
) -> Result<BTreeMap<String, Beacon>> {
    let mut converted: BTreeMap<String, Beacon> = BTreeMap::new();
    for b in configs {
        let what = format!("standard beacon {:?}", b.name);
        if converted.contains_key(&b.name) {
            return Err(invalid(format!("{what}: the name is used twice")));
        }
        outer.beacon_name_allowed(&b.name, &what, false)?;
        // Spec: beacons.md#beacon-length
        if !(1..=63).contains(&b.length) {
            return Err(invalid(format!(
                "{what}: length {} is outside 1 to 63",
                b.length
            )));
        }
        let (mut part_only, mut as_set, mut share) = (false, false, None);
        match &b.style {
            None => {}
            Some(BeaconStyle::PartOnly) => part_only = true,
            Some(BeaconStyle::Shared { other }) => share = Some(other.clone()),
            Some(BeaconStyle::AsSet) => as_set = true,
            // Spec: beacons.md#sharedset-initialization (Shared and AsSet)
            Some(BeaconStyle::SharedSet { other }) => {
                share = Some(other.clone());
                as_set = true;
            }
        }
        // GetPartitionCount. Spec: beacons.md#standard-beacon-initialization
        let number_of_partitions = match b.number_of_partitions {
            None | Some(0) => default_partitions,
            Some(n) if n < max_partitions => n,
            Some(n) => {
                return Err(invalid(format!(
                    "{what}: numberOfPartitions is {n}, it must be below \
                     maximumNumberOfPartitions ({max_partitions})"
                )))
            }
        };
        let loc_string = b.loc.as_deref().unwrap_or(&b.name);
        let loc = TermLoc::parse(loc_string).map_err(|e| invalid(format!("{what}: {e}")))?;
        let beacon_name = format!("{BEACON_PREFIX}{}", b.name);
        if key_too_long(&beacon_name) {
            return Err(invalid(format!("{what}: the name is too long")));
        }
        // Spec: search-config.md#beacon-version-initialization (standard beacons are on encrypted fields)
        if !outer.is_encrypted_v(vf, &loc) {
            return Err(invalid(format!(
                "{what}: its location {loc} is not an ENCRYPT_AND_SIGN attribute"
            )));
        }
        let same_loc = converted.values().find_map(|x| match x {
            Beacon::Standard(s) if s.loc == loc => Some(s.base.name.clone()),
            _ => None,
        });
        if let Some(other) = same_loc {
            return Err(invalid(format!(
                "{what}: standard beacon {other:?} is already defined on location {loc}"
            )));
        }
        // FindVirtualFieldWithThisLocation: a field whose set of locations is {loc}.
        let mut single = BTreeSet::new();
        single.insert(&loc);
        if let Some(field) = vf.values().find(|f| f.get_locs() == single) {
            return Err(invalid(format!(
                "{what}: virtual field {:?} is already defined on the single location {loc}",
                field.name
            )));
        }
        converted.insert(
            b.name.clone(),
            Beacon::Standard(StandardBeacon {
                base: BeaconBase {
                    name: b.name.clone(),
                    beacon_name,
                },
                length: b.length,
                loc,
                part_only,
                as_set,
                share,
                number_of_partitions,
            }),
        );
    }
    Ok(converted)
}

/// PartSet: parts with unique names and prefixes.
#[derive(Clone, Debug, Default)]
struct PartSet {
    parts: Vec<BeaconPart>,
    names: BTreeSet<String>,
    prefixes: BTreeSet<String>,
}

impl PartSet {
    fn add(&mut self, part: BeaconPart, context: &str) -> Result<()> {
        if self.names.contains(part.get_name()) {
            return Err(invalid(format!(
                "{context}: part {:?} is defined twice",
                part.get_name()
            )));
        }
        if self.prefixes.contains(part.get_prefix()) {
            return Err(invalid(format!(
                "{context}: prefix {:?} is used twice",
                part.get_prefix()
            )));
        }
        self.names.insert(part.get_name().to_owned());
        self.prefixes.insert(part.get_prefix().to_owned());
        self.parts.push(part);
        Ok(())
    }

    fn combine(&self, other: &PartSet, name: &str, other_name: &str) -> Result<PartSet> {
        let dup_names: Vec<&String> = self.names.intersection(&other.names).collect();
        if !dup_names.is_empty() {
            return Err(invalid(format!(
                "{name}: part name(s) {dup_names:?} are also in {other_name}"
            )));
        }
        let dup_prefixes: Vec<&String> = self.prefixes.intersection(&other.prefixes).collect();
        if !dup_prefixes.is_empty() {
            return Err(invalid(format!(
                "{name}: prefix(es) {dup_prefixes:?} are also in {other_name}"
            )));
        }
        let mut out = self.clone();
        out.parts.extend(other.parts.iter().cloned());
        out.names.extend(other.names.iter().cloned());
        out.prefixes.extend(other.prefixes.iter().cloned());
        Ok(out)
    }
}

/// GetSignedParts. Spec: beacons.md#signed-part-initialization
fn get_signed_parts(
    outer: &Outer<'_>,
    parts: &[SignedPartConfig],
    context: &str,
) -> Result<PartSet> {
    let mut set = PartSet::default();
    for p in parts {
        check_prefix(&p.prefix, &p.name, context)?;
        let loc = match &p.loc {
            None => TermLoc::attr(&p.name),
            Some(l) => TermLoc::parse(l)
                .map_err(|e| invalid(format!("{context}: signed part {:?}: {e}", p.name)))?,
        };
        // Spec: beacons.md#initialization-failure (signed parts are SIGN_ONLY)
        if !outer.is_sign_only(&loc) {
            return Err(invalid(format!(
                "{context}: signed part {:?} is built from {loc}, which is not SIGN_ONLY \
                 (or SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT)",
                p.name
            )));
        }
        set.add(
            BeaconPart::Signed {
                prefix: p.prefix.clone(),
                name: p.name.clone(),
                loc,
            },
            context,
        )?;
    }
    Ok(set)
}

/// GetEncryptedParts. Spec: beacons.md#encrypted-part-initialization
fn get_encrypted_parts(
    parts: &[EncryptedPartConfig],
    std: &BTreeMap<String, Beacon>,
    context: &str,
) -> Result<PartSet> {
    let mut set = PartSet::default();
    for p in parts {
        check_prefix(&p.prefix, &p.name, context)?;
        match std.get(&p.name) {
            // Spec: beacons.md#asset-initialization (no AsSet beacon in a compound beacon)
            Some(Beacon::Standard(s)) if s.as_set => {
                return Err(invalid(format!(
                    "{context}: uses standard beacon {:?}, which is AsSet and cannot be a part",
                    p.name
                )))
            }
            Some(Beacon::Standard(s)) => set.add(
                BeaconPart::Encrypted {
                    prefix: p.prefix.clone(),
                    beacon: s.clone(),
                },
                context,
            )?,
            _ => {
                return Err(invalid(format!(
                    "{context}: encrypted part {:?} is not a configured standard beacon",
                    p.name
                )))
            }
        }
    }
    Ok(set)
}

/// A prefix is at least one character (the model's `Prefix`).
fn check_prefix(prefix: &str, part: &str, context: &str) -> Result<()> {
    if prefix.is_empty() {
        return Err(invalid(format!(
            "{context}: part {part:?} has an empty prefix"
        )));
    }
    Ok(())
}

/// GetGlobalParts: the global parts (signed or encrypted) that the
/// constructors name, in order of first mention; a global part named twice
/// is refused, as the reference's PartSet.add does.
fn get_global_parts(
    cons: &[ConstructorConfig],
    globals: &PartSet,
    signed: bool,
) -> Result<PartSet> {
    let mut set = PartSet::default();
    for c in cons {
        for cp in &c.parts {
            let found = globals
                .parts
                .iter()
                .find(|g| g.is_signed() == signed && g.get_name() == cp.name);
            if let Some(g) = found {
                set.add(g.clone(), "the global parts list")?;
            }
        }
    }
    Ok(set)
}

/// CreateCompoundBeacon.
fn create_compound_beacon(
    outer: &Outer<'_>,
    beacon: &CompoundBeaconConfig,
    converted: &BTreeMap<String, Beacon>,
    global_signed: &PartSet,
    global_encrypted: &PartSet,
) -> Result<CompoundBeacon> {
    let name = &beacon.name;
    let what = format!("compound beacon {name:?}");
    let global_parts = global_signed.combine(
        global_encrypted,
        "the global signed parts list",
        "the global encrypted parts list",
    )?;
    for p in &beacon.signed {
        if global_parts.names.contains(&p.name) {
            return Err(invalid(format!(
                "{what}: signed part {:?} is already a global part",
                p.name
            )));
        }
        if global_parts.prefixes.contains(&p.prefix) {
            return Err(invalid(format!(
                "{what}: signed part {:?} has prefix {:?}, already the prefix of a global part",
                p.name, p.prefix
            )));
        }
    }
    for p in &beacon.encrypted {
        if global_parts.names.contains(&p.name) {
            return Err(invalid(format!(
                "{what}: encrypted part {:?} is already a global part",
                p.name
            )));
        }
        if global_parts.prefixes.contains(&p.prefix) {
            return Err(invalid(format!(
                "{what}: encrypted part {:?} has prefix {:?}, already the prefix of a global part",
                p.name, p.prefix
            )));
        }
    }
    let signed = get_signed_parts(outer, &beacon.signed, &what)?.combine(
        &get_global_parts(&beacon.constructors, global_signed, true)?,
        &what,
        "the global parts list",
    )?;
    let encrypted = get_encrypted_parts(&beacon.encrypted, converted, &what)?.combine(
        &get_global_parts(&beacon.constructors, global_encrypted, false)?,
        &what,
        "the global parts list",
    )?;
    if converted.contains_key(name) {
        return Err(invalid(format!(
            "{what}: the name is already used by another beacon"
        )));
    }
    // Spec: beacons.md#default-construction
    if beacon.constructors.is_empty() && beacon.signed.is_empty() && beacon.encrypted.is_empty() {
        return Err(invalid(format!(
            "{what}: it defines no constructors and no local parts; a default constructor \
             cannot be made from global parts"
        )));
    }
    let num_signed = signed.parts.len();
    let mut all_parts = signed.parts;
    all_parts.extend(encrypted.parts);
    let is_signed_beacon = num_signed == all_parts.len();
    outer.beacon_name_allowed(name, &what, is_signed_beacon)?;
    if all_parts.is_empty() {
        return Err(invalid(format!("{what}: no parts were supplied")));
    }
    // The model's `Char`: one UTF-16 code unit.
    let split = {
        let mut chars = beacon.split.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.len_utf16() == 1 => c,
            _ => {
                return Err(invalid(format!(
                    "{what}: split must be exactly one character"
                )))
            }
        }
    };
    let construct = add_constructors(&beacon.constructors, &what, &all_parts)?;
    let beacon_name = if is_signed_beacon {
        name.clone()
    } else {
        format!("{BEACON_PREFIX}{name}")
    };
    if beacon_name.is_empty() || key_too_long(&beacon_name) {
        return Err(invalid(format!(
            "{what}: {beacon_name:?} is not a valid attribute name"
        )));
    }
    let cb = CompoundBeacon {
        base: BeaconBase {
            name: name.clone(),
            beacon_name,
        },
        split,
        parts: all_parts,
        num_signed,
        construct,
    };
    valid_prefix_set(&cb)?;
    // Not in the reference: a prefix holding the split character makes its
    // values unparseable in queries (each query value is split first), so
    // the issue asks for it to be refused at construction.
    if let Some(p) = cb.parts.iter().find(|p| p.get_prefix().contains(split)) {
        return Err(invalid(format!(
            "{what}: the prefix {:?} of part {:?} contains the split character {split:?}",
            p.get_prefix(),
            p.get_name()
        )));
    }
    Ok(cb)
}

/// ValidPrefixSetResult: no part's prefix starts another's (equal ones included).
/// Spec: beacons.md#initialization-failure
fn valid_prefix_set(cb: &CompoundBeacon) -> Result<()> {
    for (i, x) in cb.parts.iter().enumerate() {
        for (j, y) in cb.parts.iter().enumerate() {
            if i == j {
                continue;
            }
            let (px, py) = (x.get_prefix(), y.get_prefix());
            if px.starts_with(py) || py.starts_with(px) {
                return Err(invalid(format!(
                    "compound beacon {:?}: part {:?} has prefix {px:?}, which is incompatible \
                     with part {:?} and its prefix {py:?}",
                    cb.base.name,
                    x.get_name(),
                    y.get_name()
                )));
            }
        }
    }
    Ok(())
}

/// AddConstructors: the configured constructors, else the default one (all
/// parts, signed then encrypted, all required).
/// Spec: beacons.md#default-construction, #constructor-initialization
fn add_constructors(
    constructors: &[ConstructorConfig],
    what: &str,
    parts: &[BeaconPart],
) -> Result<Vec<Constructor>> {
    if constructors.is_empty() {
        return Ok(vec![Constructor {
            parts: parts
                .iter()
                .map(|p| ConstructorPart {
                    part: p.clone(),
                    required: true,
                })
                .collect(),
        }]);
    }
    let mut converted: Vec<Constructor> = Vec::with_capacity(constructors.len());
    for c in constructors {
        if c.parts.is_empty() {
            return Err(invalid(format!(
                "{what}: every constructor must have at least one part"
            )));
        }
        if !c.parts.iter().any(|p| p.required) {
            return Err(invalid(format!(
                "{what}: a constructor has no required part"
            )));
        }
        let mut cparts = Vec::with_capacity(c.parts.len());
        for cp in &c.parts {
            let Some(part) = parts.iter().find(|p| p.get_name() == cp.name) else {
                return Err(invalid(format!(
                    "{what}: a constructor names part {:?}, but there is no part by that name",
                    cp.name
                )));
            };
            cparts.push(ConstructorPart {
                part: part.clone(),
                required: cp.required,
            });
        }
        let new = Constructor { parts: cparts };
        let req = new.get_req_parts();
        if converted.iter().any(|c| c.get_req_parts() == req) {
            let names: Vec<&str> = req.iter().map(|p| p.get_name()).collect();
            return Err(invalid(format!(
                "{what}: two constructors have the same required parts ({})",
                names.join(", ")
            )));
        }
        converted.push(new);
    }
    Ok(converted)
}

/// CheckBeacons: every PartOnly beacon is in a compound beacon; every
/// shared beacon names a standard beacon of its length that is not shared.
fn check_beacons(beacons: &BTreeMap<String, Beacon>) -> Result<()> {
    for (name, b) in beacons {
        let Beacon::Standard(s) = b else { continue };
        if s.part_only {
            let used = beacons
                .values()
                .any(|x| matches!(x, Beacon::Compound(c) if c.has_beacon(name)));
            // Spec: beacons.md#partonly-initialization
            if !used {
                return Err(invalid(format!(
                    "standard beacon {name:?}: it is PartOnly, so it must be used in a compound beacon"
                )));
            }
        } else if let Some(share) = &s.share {
            is_valid_share(beacons, name, s.length, share)?;
        }
    }
    Ok(())
}

/// IsValidShare. Spec: beacons.md#shared-initialization
fn is_valid_share(
    beacons: &BTreeMap<String, Beacon>,
    name: &str,
    length: u32,
    share: &str,
) -> Result<()> {
    let what = format!("standard beacon {name:?}");
    match beacons.get(share) {
        None => Err(invalid(format!(
            "{what}: it is shared with {share:?}, which is not defined"
        ))),
        Some(Beacon::Compound(_)) => Err(invalid(format!(
            "{what}: it is shared with {share:?}, which is a compound beacon"
        ))),
        Some(Beacon::Standard(t)) => {
            if let Some(next) = &t.share {
                if name == share {
                    Err(invalid(format!("{what}: it is shared with itself")))
                } else {
                    Err(invalid(format!(
                        "{what}: it is shared with {share:?}, which is in turn shared with \
                         {next:?}; share chains are not allowed"
                    )))
                }
            } else if t.length != length {
                Err(invalid(format!(
                    "{what}: it is shared with {share:?}, but its length is {length} and \
                     {share:?}'s is {}",
                    t.length
                )))
            } else {
                Ok(())
            }
        }
    }
}
