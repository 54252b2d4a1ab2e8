//! The item encryptor: DynamoDB items in, sealed items out, and back.
//! Spec: dynamodb-encryption-client/ddb-item-encryptor.md, encrypt-item.md, decrypt-item.md
//!
//! It keeps the item rules (actions, key attributes, context attributes,
//! reserved names, the wrapped-key limit) and runs the keyring; the legend,
//! field keys, canonical hash, footer and commitment are
//! [`crate::format::structure`]'s.

pub mod audit;
pub mod branch_key_supplier;
mod config;
mod context;
pub mod query;

pub use audit::{KeyUseEvent, KeyUseObserver, Operation};
pub use branch_key_supplier::{DynamoDbBranchKeyIdSupplier, DynamoDbKeyBranchKeyIdSupplier};
pub use config::{
    CryptoAction, ItemEncryptorConfig, PlaintextOverride, DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
};
pub use context::ddb_key_from_context;

use context::ContextAttribute;

use crate::beacon::info::VERSION_TAG;
use crate::beacon::keys::KeyLocation;
use crate::beacon::{Beacon, MaybeKeyId, SearchInfo};
use crate::error::{Error, Result};
use crate::format::header::{LegendEntry, PartialHeader, Version};
use crate::format::path::canonical_path;
use crate::format::structure::{self, SignedField};
use crate::format::{FOOTER_FIELD, HEADER_FIELD, RESERVED_PREFIX};
use crate::item::serialize::{self, Terminal};
use crate::item::{AttributeValue, Item};
use crate::keyring::hierarchy::PROVIDER_ID_HIERARCHY;
use crate::materials::{EncryptedDataKey, EncryptionContext};
use std::collections::BTreeMap;

/// Encrypts and decrypts single items under one table configuration.
pub struct ItemEncryptor {
    config: ItemEncryptorConfig,
}

/// An item to encrypt, split by action: its signed attributes, each beside
/// its field of the structure (same index), and its unsigned ones.
type SplitItem<'a> = (
    Vec<ItemAttribute<'a>>,
    Vec<SignedField>,
    Vec<(&'a String, &'a AttributeValue)>,
);

/// A signed attribute of the item, beside its field in the structure.
struct ItemAttribute<'a> {
    name: &'a str,
    value: &'a AttributeValue,
}

impl ItemEncryptor {
    /// Validates the configuration (key attributes signed, no reserved names, ...).
    ///
    /// With `search`, every signed beacon (a compound beacon of signed parts
    /// only, stored under its own name) becomes a SIGN_ONLY attribute; it
    /// must not be configured otherwise. Spec: beacons.md#signed-beacons
    pub fn new(mut config: ItemEncryptorConfig) -> Result<Self> {
        if let Some(search) = config.search.clone() {
            if search.logical_table_name != config.logical_table_name {
                return Err(Error::InvalidConfig(format!(
                    "the search config was built for table {:?}, not {:?}",
                    search.logical_table_name, config.logical_table_name
                )));
            }
            add_signed_beacon_actions(&mut config, &search)?;
        }
        config.validate()?;
        Ok(ItemEncryptor { config })
    }

    pub fn config(&self) -> &ItemEncryptorConfig {
        &self.config
    }

    /// Seal `item`: encrypt its ENCRYPT_AND_SIGN attributes, sign every signed
    /// attribute, and add `aws_dbe_head` and `aws_dbe_foot`. With `search`,
    /// also its beacons (see [`Self::encrypt_item_with_beacons`]).
    pub async fn encrypt_item(&self, item: &Item) -> Result<Item> {
        match &self.config.search {
            None => Ok(self.seal(item, false).await?.0),
            Some(search) => self.encrypt_item_with_beacons(search, item).await,
        }
    }

    /// PutItemTransform.dfy's order: refuse `aws_dbe_` names, pick the
    /// partition, AddSignedBeacons (signed beacons, the version tag, the
    /// multi key store's unsigned key field dropped), encrypt, read the
    /// beacon key id from the header (multi key store), then add the
    /// encrypted beacons `aws_dbe_b_<name>` of the plaintext item.
    /// Spec: ddb-support.md#addsignedbeacons, #getencryptedbeacons
    async fn encrypt_item_with_beacons(&self, search: &SearchInfo, item: &Item) -> Result<Item> {
        let cfg = &self.config;
        // Spec: encrypt-item.md (plaintext override): written as given, no beacons (IsPlainWrite).
        if cfg.plaintext_override == PlaintextOverride::ForcePlaintextWriteAllowPlaintextRead {
            self.require_key_attributes(item)?;
            return Ok(item.clone());
        }
        // Spec: ddb-support.md#writable
        if let Some(name) = item.keys().find(|k| k.starts_with(RESERVED_PREFIX)) {
            return Err(Error::InvalidItem(format!(
                "attribute {name:?} uses the reserved prefix {RESERVED_PREFIX:?}"
            )));
        }
        let partition = search.choose_partition(item)?;
        let with_signed = add_signed_beacons(search, item, partition)?;
        let (sealed, edks) = self.seal(&with_signed, true).await?;
        let key_id = key_id_from_header(search, edks.as_deref())?;
        let beacons = search
            .curr()
            .generate_encrypted_beacons(item, &key_id, partition)
            .await?;
        let mut out = sealed;
        out.extend(beacons);
        Ok(out)
    }

    /// The sealed item and the header's wrapped keys (`None` when written as
    /// plaintext). `from_beacons`: the item comes from AddSignedBeacons, and
    /// its `aws_dbe_` attributes (the version tag) are handled as the
    /// reference's item encryptor does: outside the signature scope
    /// (DO_NOTHING), and left out of the sealed item (its
    /// DynamoToStruct.StructuredToItemEncrypt skips reserved names of the
    /// input, aws-db-esdk 1.3.0), so the stored item has no version tag.
    async fn seal(
        &self,
        item: &Item,
        from_beacons: bool,
    ) -> Result<(Item, Option<Vec<EncryptedDataKey>>)> {
        let cfg = &self.config;
        let suite = cfg.algorithm_suite_id;
        self.require_key_attributes(item)?;
        self.require_context_attributes(item)?;
        // Spec: encrypt-item.md (plaintext override): written as given, as the reference does.
        if cfg.plaintext_override == PlaintextOverride::ForcePlaintextWriteAllowPlaintextRead {
            return Ok((item.clone(), None));
        }
        let (attrs, fields, unsigned) = self.fields_to_encrypt(item, from_beacons)?;
        let version = structure::header_version(fields.iter().map(|f| f.entry));
        let (ec, required_keys) = self.context_for(version, &attrs, &fields)?;
        let (materials, signer) =
            structure::encryption_materials(&cfg.crypto, suite, ec, required_keys).await?;
        let materials = cfg.keyring.on_encrypt(materials).await?;
        self.report(Operation::Encrypt, item, &materials.key_uses);
        // A malformed keyring answer is reported as such before its EDK count.
        structure::check_encryption_materials(&materials, suite)?;
        // As the AWS Encryption SDK does: never write an item this config would refuse to open.
        cfg.check_encrypted_data_key_count(
            materials.encrypted_data_keys.len(),
            "the keyring produced",
        )?;
        let message_id = cfg.crypto.random.array()?;
        let sealed = structure::encrypt_structure(
            &cfg.crypto,
            suite,
            &materials,
            signer.as_ref(),
            message_id,
            &fields,
        )
        .await?;

        // Inserted one by one: collecting a map sorts, one more copy of the sort.
        let mut out = Item::new();
        for (name, value) in unsigned {
            out.insert(name.clone(), value.clone());
        }
        for (a, stored) in attrs.iter().zip(sealed.sealed) {
            // Signed plaintext stays exactly as given, as the DB-ESDK keeps it;
            // the signature covers its canonical serialization.
            let stored = match stored {
                Some(bytes) => AttributeValue::B(bytes),
                None => a.value.clone(),
            };
            out.insert(a.name.to_owned(), stored);
        }
        out.insert(HEADER_FIELD.into(), AttributeValue::B(sealed.header));
        out.insert(FOOTER_FIELD.into(), AttributeValue::B(sealed.footer));
        Ok((out, Some(materials.encrypted_data_keys)))
    }

    /// The item's signed attributes with their fields, and its unsigned ones.
    /// Spec: encrypt-item.md#behavior — every attribute needs an action.
    /// `skip_reserved`: `aws_dbe_` attributes are dropped, not refused.
    fn fields_to_encrypt<'a>(&self, item: &'a Item, skip_reserved: bool) -> Result<SplitItem<'a>> {
        let cfg = &self.config;
        let (mut attrs, mut fields, mut unsigned) = (Vec::new(), Vec::new(), Vec::new());
        for (name, value) in item {
            if skip_reserved && name.starts_with(RESERVED_PREFIX) {
                continue;
            }
            if name.starts_with(RESERVED_PREFIX) {
                return Err(Error::InvalidItem(format!(
                    "attribute {name:?} uses the reserved prefix {RESERVED_PREFIX:?}"
                )));
            }
            let action = match cfg.attribute_actions_on_encrypt.get(name) {
                Some(a) => *a,
                None if cfg.is_allowed_unsigned(name) => CryptoAction::DoNothing,
                None => {
                    return Err(Error::InvalidItem(format!(
                        "attribute {name:?} has no action in attributeActionsOnEncrypt \
                         and is not allowed unsigned"
                    )))
                }
            };
            let terminal = serialize::serialize(value).map_err(|e| attribute_error(name, e))?;
            let Some(entry) = legend_entry(action) else {
                unsigned.push((name, value));
                continue;
            };
            attrs.push(ItemAttribute { name, value });
            fields.push(SignedField {
                path: canonical_path(&cfg.logical_table_name, name),
                entry,
                terminal,
            });
        }
        Ok((attrs, fields, unsigned))
    }

    /// Verify and open a sealed item; returns the plaintext item without the
    /// header, the footer or any other `aws_dbe_` attribute. Fails, returning
    /// nothing, on any mismatch, and with [`Error::LimitExceeded`] on more
    /// wrapped keys than `max_encrypted_data_keys`, before any keyring call.
    pub async fn decrypt_item(&self, item: &Item) -> Result<Item> {
        let cfg = &self.config;
        // Spec: decrypt-item.md (plaintext override): an item with neither header nor footer is plaintext.
        if cfg.plaintext_override.allows_plaintext_read()
            && !item.contains_key(HEADER_FIELD)
            && !item.contains_key(FOOTER_FIELD)
        {
            self.require_key_attributes(item)?;
            let mut out = item.clone();
            // Spec: ddb-support.md#removebeacons (after every read with search)
            if cfg.search.is_some() {
                out.retain(|name, _| !name.starts_with(RESERVED_PREFIX));
            }
            return Ok(out);
        }
        let header_bytes = binary_field(item, HEADER_FIELD)?;
        let footer_bytes = binary_field(item, FOOTER_FIELD)?;
        let header = PartialHeader::parse(header_bytes)?;
        // Every wrapped key may cost an unwrap attempt (RSA, a KMS call) before
        // anything is verified: refuse planted ones before any keyring runs.
        cfg.check_encrypted_data_key_count(header.encrypted_data_keys.len(), "the item has")?;
        self.require_key_attributes(item)?;
        let (attrs, fields) = self.fields_to_decrypt(item, &header.legend)?;

        let (reproduced, _) = self.context_for(header.version, &attrs, &fields)?;
        let materials = structure::decryption_materials(&header, reproduced)?;
        let materials = cfg
            .keyring
            .on_decrypt(materials, &header.encrypted_data_keys)
            .await?;
        self.report(Operation::Decrypt, item, &materials.key_uses);
        let opened = structure::decrypt_structure(
            &cfg.crypto,
            header_bytes,
            &header,
            footer_bytes,
            &materials,
            &fields,
        )
        .await?;

        // Every `aws_dbe_`-prefixed attribute is outside the signature scope
        // and left out of the result, not only the header and footer:
        // searchable-encryption beacons (`aws_dbe_b_*`) and anything an
        // attacker added. The spec (decrypt-path-structure.md#construct-
        // decrypted-structured-data) drops only head and foot; the reference
        // code (DynamoToStruct.StructuredToItemDecrypt, aws-db-esdk 1.3.0)
        // drops the whole prefix, and the code wins.
        let mut out = item.clone();
        out.retain(|name, _| !name.starts_with(RESERVED_PREFIX));
        for (a, plain) in attrs.iter().zip(opened) {
            if let Some(plain) = plain {
                let value = serialize::deserialize(plain.type_id, &plain.value)?;
                out.insert(a.name.to_owned(), value);
            }
        }
        Ok(out)
    }

    /// The virtual fields and compound beacon strings (plaintext, not
    /// HMACs) of `item`, for debugging a search configuration: the
    /// DB-ESDK's `ResolveAttributes` (AttributeResolver.dfy). Both maps are
    /// empty without `search`. `version`, if given, must be 1.
    /// Spec: ddb-support.md (GetVirtualFields, GetCompoundBeacons)
    pub fn resolve_attributes(
        &self,
        item: &Item,
        version: Option<u32>,
    ) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>)> {
        let Some(search) = &self.config.search else {
            return Ok((BTreeMap::new(), BTreeMap::new()));
        };
        let partition = search.choose_partition(item)?;
        if let Some(v) = version {
            if v != 1 {
                return Err(Error::RequestRefused(format!(
                    "beacon version number must be 1, not {v}"
                )));
            }
        }
        let bv = search.curr();
        let mut virtual_fields = BTreeMap::new();
        for (name, field) in &bv.virtual_fields {
            if let Some(value) = field.get_value(item)? {
                virtual_fields.insert(name.clone(), value);
            }
        }
        let mut compound = BTreeMap::new();
        for (name, beacon) in &bv.beacons {
            if let Beacon::Compound(cmp) = beacon {
                if let Some(value) = cmp.get_naked(item, &bv.virtual_fields, partition)? {
                    compound.insert(name.clone(), value);
                }
            }
        }
        Ok((virtual_fields, compound))
    }

    /// The item's signed attributes (all but the allowed-unsigned ones), in
    /// canonical order, with their stored fields.
    /// Spec: decrypt-item.md#signature-scope, decrypt-structure.md#calculate-signed-and-encrypted-field-lists
    fn fields_to_decrypt<'a>(
        &self,
        item: &'a Item,
        legend: &[LegendEntry],
    ) -> Result<(Vec<ItemAttribute<'a>>, Vec<SignedField>)> {
        let cfg = &self.config;
        let signed: Vec<(Vec<u8>, (&'a String, &'a AttributeValue))> = item
            .iter()
            .filter(|(name, _)| !cfg.is_allowed_unsigned(name))
            .map(|(name, value)| (canonical_path(&cfg.logical_table_name, name), (name, value)))
            .collect();
        if signed.len() != legend.len() {
            return Err(Error::integrity(format!(
                "the item has {} signed attribute(s) but its header lists {}: attributes were \
                 added or removed, or the allowed-unsigned configuration changed",
                signed.len(),
                legend.len()
            )));
        }
        let mut attrs = Vec::with_capacity(signed.len());
        let mut fields = Vec::with_capacity(signed.len());
        for (path, entry, (name, value)) in structure::legend_order(signed, legend)? {
            fields.push(SignedField {
                path,
                entry,
                terminal: stored_terminal(name, value, entry)?,
            });
            attrs.push(ItemAttribute { name, value });
        }
        Ok((attrs, fields))
    }

    /// Tell the observer, if any, which keys the keyring used for `item`.
    fn report(&self, operation: Operation, item: &Item, key_uses: &[crate::materials::KeyUse]) {
        let cfg = &self.config;
        let Some(observer) = &cfg.on_key_use else {
            return;
        };
        let mut item_key = Item::new();
        for name in std::iter::once(&cfg.partition_key_name).chain(cfg.sort_key_name.iter()) {
            if let Some(value) = item.get(name) {
                item_key.insert(name.clone(), value.clone());
            }
        }
        observer.key_used(&KeyUseEvent {
            operation,
            table: cfg.logical_table_name.clone(),
            item_key,
            key_uses: key_uses.to_vec(),
        });
    }

    fn require_key_attributes(&self, item: &Item) -> Result<()> {
        let cfg = &self.config;
        for key in std::iter::once(&cfg.partition_key_name).chain(cfg.sort_key_name.iter()) {
            if !item.contains_key(key) {
                return Err(Error::InvalidItem(format!(
                    "key attribute {key:?} is missing from the item"
                )));
            }
        }
        Ok(())
    }

    /// Every SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute must be in the
    /// item: aws-db-esdk's EncryptItem refuses it otherwise (ContextAttrsExist,
    /// checked right after the key attributes and before the plaintext
    /// override), so an item it would not write is not written here either.
    /// Names the missing attributes in sorted order, as its ContextMissingMsg.
    fn require_context_attributes(&self, item: &Item) -> Result<()> {
        let missing: Vec<&str> = self
            .config
            .attribute_actions_on_encrypt
            .iter()
            .filter(|(name, action)| {
                **action == CryptoAction::SignAndIncludeInEncryptionContext
                    && !item.contains_key(*name)
            })
            .map(|(name, _)| name.as_str())
            .collect();
        match missing.as_slice() {
            [] => Ok(()),
            [one] => Err(Error::InvalidItem(format!(
                "attribute {one:?} is configured SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT \
                 but is missing from the item"
            ))),
            many => Err(Error::InvalidItem(format!(
                "attributes {many:?} are configured SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT \
                 but are missing from the item"
            ))),
        }
    }

    /// The context this item is bound to, and the keys of it that are
    /// "required" (reproduced from the item, not stored in the header).
    fn context_for(
        &self,
        version: Version,
        attrs: &[ItemAttribute<'_>],
        fields: &[SignedField],
    ) -> Result<(EncryptionContext, Vec<String>)> {
        let cfg = &self.config;
        let terminal_of = |name: &str| -> Result<&Terminal> {
            match attrs.iter().position(|a| a.name == name) {
                Some(i) => Ok(&fields[i].terminal),
                None => Err(Error::InvalidItem(format!(
                    "key attribute {name:?} must be signed"
                ))),
            }
        };
        let pk = terminal_of(&cfg.partition_key_name)?;
        let sk = cfg.sort_key_name.as_deref().map(terminal_of).transpose()?;
        let mut ec = context::base_context(cfg, version, pk, sk);
        if version == Version::V2 {
            let context_attrs: Vec<ContextAttribute<'_>> = attrs
                .iter()
                .zip(fields)
                .filter(|(_, f)| f.entry == LegendEntry::SignAndIncludeInEncryptionContext)
                .map(|(a, f)| ContextAttribute {
                    name: a.name,
                    value: a.value,
                    terminal: &f.terminal,
                })
                .collect();
            context::add_attribute_context(&mut ec, &context_attrs)?;
        }
        let required = ec.keys().cloned().collect();
        Ok((ec, required))
    }
}

/// Index.dfy: the signed beacons' names must not be configured (actions,
/// unsigned attributes or prefix); they become SIGN_ONLY.
/// Spec: beacons.md#signed-beacons
fn add_signed_beacon_actions(config: &mut ItemEncryptorConfig, search: &SearchInfo) -> Result<()> {
    let signed = search.signed_beacon_names();
    let bad: Vec<&String> = signed
        .iter()
        .filter(|s| {
            config.attribute_actions_on_encrypt.contains_key(*s)
                || config.allowed_unsigned_attributes.contains(s)
                || config
                    .allowed_unsigned_attribute_prefix
                    .as_deref()
                    .is_some_and(|p| s.starts_with(p))
        })
        .collect();
    if !bad.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "signed beacons cannot be configured with crypto actions or as unauthenticated: {bad:?}"
        )));
    }
    for name in signed {
        config
            .attribute_actions_on_encrypt
            .insert(name, CryptoAction::SignOnly);
    }
    Ok(())
}

/// AddSignedBeacons: `item` with its signed beacons (any already in the
/// item must match), the version tag, and without the multi key store's
/// key field when that field is not signed.
/// Spec: ddb-support.md#addsignedbeacons, search-config.md#versioning
fn add_signed_beacons(search: &SearchInfo, item: &Item, partition: u32) -> Result<Item> {
    let bv = search.curr();
    let new_attrs = bv.generate_signed_beacons(item, partition)?;
    let bad: Vec<&String> = new_attrs
        .iter()
        .filter(|(k, v)| item.get(*k).is_some_and(|old| old != *v))
        .map(|(k, _)| k)
        .collect();
    if !bad.is_empty() {
        return Err(Error::InvalidItem(format!(
            "supplied beacons do not match the calculated beacons: {bad:?}"
        )));
    }
    let mut out = item.clone();
    if let KeyLocation::MultiLoc {
        key_name,
        delete_key: true,
    } = &bv.key_source.key_loc
    {
        out.remove(key_name);
    }
    out.extend(new_attrs);
    out.insert(VERSION_TAG.to_owned(), AttributeValue::S(" ".to_owned()));
    Ok(out)
}

/// GetKeyIdFromHeader: with a multi key store, the beacon key id is the
/// branch key id of the item's one hierarchical-keyring data key.
/// Spec: ddb-support.md#getencryptedbeacons (DynamoDbMiddlewareSupport.dfy)
fn key_id_from_header(
    search: &SearchInfo,
    edks: Option<&[EncryptedDataKey]>,
) -> Result<MaybeKeyId> {
    if !matches!(
        search.curr().key_source.key_loc,
        KeyLocation::MultiLoc { .. }
    ) {
        return Ok(MaybeKeyId::DontUseKeyId);
    }
    let bad = |why: &str| {
        Err(Error::InvalidConfig(format!(
            "with a multi key store (multi-tenant beacons), {why}"
        )))
    };
    let Some(edks) = edks else {
        return bad("the item must be encrypted (its header names the beacon key)");
    };
    let [edk] = edks else {
        return bad("the item's header must have exactly one encrypted data key");
    };
    if edk.key_provider_id != PROVIDER_ID_HIERARCHY {
        return bad("the keyring must be the hierarchical keyring (provider aws-kms-hierarchy)");
    }
    match String::from_utf8(edk.key_provider_info.clone()) {
        Ok(id) => Ok(MaybeKeyId::KeyId(id)),
        Err(_) => bad("the data key's branch key id must be UTF-8"),
    }
}

/// The legend entry of a signed action; `None` for DO_NOTHING.
fn legend_entry(action: CryptoAction) -> Option<LegendEntry> {
    match action {
        CryptoAction::DoNothing => None,
        CryptoAction::EncryptAndSign => Some(LegendEntry::EncryptAndSign),
        CryptoAction::SignOnly => Some(LegendEntry::SignOnly),
        CryptoAction::SignAndIncludeInEncryptionContext => {
            Some(LegendEntry::SignAndIncludeInEncryptionContext)
        }
    }
}

/// The stored terminal of a signed attribute: an encrypted one must be
/// binary (its bytes are the sealed field); the others serialize as signed.
fn stored_terminal(name: &str, value: &AttributeValue, entry: LegendEntry) -> Result<Terminal> {
    match (entry, value) {
        (LegendEntry::EncryptAndSign, AttributeValue::B(b)) => Ok(Terminal {
            type_id: serialize::BYTES_TYPE_ID,
            value: b.clone(),
        }),
        (LegendEntry::EncryptAndSign, _) => Err(Error::integrity(format!(
            "attribute {name:?} should be encrypted (binary) but is {}",
            value.type_name()
        ))),
        _ => serialize::serialize(value).map_err(|e| attribute_error(name, e)),
    }
}

fn binary_field<'a>(item: &'a Item, name: &str) -> Result<&'a [u8]> {
    match item.get(name) {
        Some(AttributeValue::B(b)) => Ok(b),
        Some(other) => Err(Error::malformed(format!(
            "{name} must be binary, found {}",
            other.type_name()
        ))),
        None => Err(Error::InvalidItem(format!(
            "item is not sealed: attribute {name} is missing"
        ))),
    }
}

/// Prefix an item error with the attribute it concerns.
fn attribute_error(name: &str, e: Error) -> Error {
    match e {
        Error::InvalidItem(m) => Error::InvalidItem(format!("attribute {name:?}: {m}")),
        other => other,
    }
}
