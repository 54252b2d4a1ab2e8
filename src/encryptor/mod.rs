//! The item encryptor: DynamoDB items in, sealed items out, and back.
//! Spec: dynamodb-encryption-client/ddb-item-encryptor.md, encrypt-item.md, decrypt-item.md,
//! structured-encryption/encrypt-structure.md, decrypt-structure.md

mod config;
mod context;

pub use config::{CryptoAction, ItemEncryptorConfig, DEFAULT_MAX_ENCRYPTED_DATA_KEYS};

use context::ContextAttribute;

use crate::error::{Error, Result};
use crate::format::field::FieldKeys;
use crate::format::footer::{self, CanonicalField, Footer};
use crate::format::header::{self, LegendEntry, PartialHeader, Version};
use crate::format::path::{canonical_path, sort_canonical};
use crate::format::{FOOTER_FIELD, HEADER_FIELD, RESERVED_PREFIX};
use crate::item::serialize::{self, Terminal};
use crate::item::{AttributeValue, Item};
use crate::materials::{DecryptionMaterials, EncryptionContext, EncryptionMaterials};
use crate::primitives::random_array;
use crate::primitives::signature::{self, RecordSigner, PUBLIC_KEY_CONTEXT_KEY};
use futures_util::future::join;

/// Encrypts and decrypts single items under one table configuration.
pub struct ItemEncryptor {
    config: ItemEncryptorConfig,
}

/// A signed attribute on its way into or out of the format.
struct SignedField<'a> {
    name: &'a str,
    path: Vec<u8>,
    entry: LegendEntry,
    value: &'a AttributeValue,
    /// The plaintext terminal (encrypt), or the stored terminal (decrypt).
    terminal: Terminal,
}

impl ItemEncryptor {
    /// Validates the configuration (key attributes signed, no reserved names, ...).
    pub fn new(config: ItemEncryptorConfig) -> Result<Self> {
        config.validate()?;
        Ok(ItemEncryptor { config })
    }

    pub fn config(&self) -> &ItemEncryptorConfig {
        &self.config
    }

    /// Seal `item`: encrypt its ENCRYPT_AND_SIGN attributes, sign every signed
    /// attribute, and add `aws_dbe_head` and `aws_dbe_foot`.
    pub async fn encrypt_item(&self, item: &Item) -> Result<Item> {
        let cfg = &self.config;
        let suite = cfg.algorithm_suite_id;
        let table = cfg.logical_table_name.as_str();
        self.require_key_attributes(item)?;

        // Spec: encrypt-item.md#behavior — every attribute needs an action.
        let mut signed = Vec::new();
        let mut unsigned = Vec::new();
        for (name, value) in item {
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
            let entry = match action {
                CryptoAction::DoNothing => {
                    unsigned.push((name, value));
                    continue;
                }
                CryptoAction::EncryptAndSign => LegendEntry::EncryptAndSign,
                CryptoAction::SignOnly => LegendEntry::SignOnly,
                CryptoAction::SignAndIncludeInEncryptionContext => {
                    LegendEntry::SignAndIncludeInEncryptionContext
                }
            };
            signed.push(SignedField {
                name,
                path: canonical_path(table, name),
                entry,
                value,
                terminal,
            });
        }
        signed.sort_by(|a, b| a.path.cmp(&b.path));
        let version = header_version(signed.iter().map(|f| f.entry));

        let (mut ec, required_keys) = self.context_for(version, &signed)?;
        let signer = match suite.is_signing() {
            true => Some(RecordSigner::generate(cfg.crypto.ecdsa.as_ref()).await?),
            false => None,
        };
        if let Some(s) = &signer {
            ec.insert(PUBLIC_KEY_CONTEXT_KEY.into(), s.public_key_base64());
        }
        let mut materials = EncryptionMaterials::new(suite, ec);
        materials.required_encryption_context_keys = required_keys;
        let materials = cfg.keyring.on_encrypt(materials).await?;
        let data_key = check_encryption_materials(&materials, suite)?;
        // As the AWS Encryption SDK does: never write an item this config would refuse to open.
        cfg.check_encrypted_data_key_count(
            materials.encrypted_data_keys.len(),
            "the keyring produced",
        )?;

        let stored_ec: EncryptionContext = materials
            .encryption_context
            .iter()
            .filter(|(k, _)| !materials.required_encryption_context_keys.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let partial = PartialHeader {
            version,
            suite,
            message_id: random_array()?,
            legend: signed.iter().map(|f| f.entry).collect(),
            encryption_context: stored_ec,
            encrypted_data_keys: materials.encrypted_data_keys.clone(),
        };
        let full_header = partial.seal(data_key)?;

        // Spec: encrypt-structure.md#terminal-data-encryption — offsets count
        // encrypted fields in canonical order.
        let field_keys =
            FieldKeys::derive(data_key, &partial.message_id, encrypted_count(&signed))?;
        let mut sealed_values: Vec<Option<Vec<u8>>> = Vec::with_capacity(signed.len());
        let mut offset = 0;
        for f in &signed {
            if f.entry == LegendEntry::EncryptAndSign {
                sealed_values.push(Some(
                    field_keys
                        .encrypt(&cfg.crypto, offset, &f.path, &f.terminal)
                        .await?,
                ));
                offset += 1;
            } else {
                sealed_values.push(None);
            }
        }

        let hash = footer::canonical_hash(
            &cfg.crypto,
            &full_header,
            &materials.encryption_context,
            signed
                .iter()
                .zip(&sealed_values)
                .map(|(f, sealed)| match sealed {
                    Some(s) => CanonicalField::Encrypted {
                        path: &f.path,
                        sealed: s,
                    },
                    None => CanonicalField::Plaintext {
                        path: &f.path,
                        type_id: f.terminal.type_id,
                        value: &f.terminal.value,
                    },
                }),
        )
        .await?;
        let footer = Footer {
            tags: materials
                .symmetric_signing_keys
                .iter()
                .map(|k| footer::recipient_tag(k.expose(), &hash))
                .collect(),
            signature: match &signer {
                Some(s) => Some(s.sign(&hash).await?),
                None => None,
            },
        };

        let mut out = Item::new();
        for (name, value) in unsigned {
            out.insert(name.clone(), value.clone());
        }
        for (f, sealed) in signed.iter().zip(sealed_values) {
            // Signed plaintext stays exactly as given, as the DB-ESDK keeps it;
            // the signature covers its canonical serialization.
            let stored = match sealed {
                Some(bytes) => AttributeValue::B(bytes),
                None => f.value.clone(),
            };
            out.insert(f.name.to_owned(), stored);
        }
        out.insert(HEADER_FIELD.into(), AttributeValue::B(full_header));
        out.insert(FOOTER_FIELD.into(), AttributeValue::B(footer.serialize()));
        Ok(out)
    }

    /// Verify and open a sealed item; returns the plaintext item without the
    /// header, the footer or any other `aws_dbe_` attribute. Fails, returning
    /// nothing, on any mismatch, and with [`Error::LimitExceeded`] on more
    /// wrapped keys than `max_encrypted_data_keys`, before any keyring call.
    pub async fn decrypt_item(&self, item: &Item) -> Result<Item> {
        let cfg = &self.config;
        let table = cfg.logical_table_name.as_str();
        let header_bytes = binary_field(item, HEADER_FIELD)?;
        let footer_bytes = binary_field(item, FOOTER_FIELD)?;
        let header = PartialHeader::parse(header_bytes)?;
        // Every wrapped key may cost an unwrap attempt (RSA, a KMS call) before
        // anything is verified: refuse planted ones before any keyring runs.
        cfg.check_encrypted_data_key_count(header.encrypted_data_keys.len(), "the item has")?;
        self.require_key_attributes(item)?;

        // Spec: decrypt-structure.md#calculate-signed-and-encrypted-field-lists
        let mut names: Vec<&String> = item
            .keys()
            .filter(|n| !cfg.is_allowed_unsigned(n))
            .collect();
        if names.len() != header.legend.len() {
            return Err(Error::integrity(format!(
                "the item has {} signed attribute(s) but its header lists {}: attributes were \
                 added or removed, or the allowed-unsigned configuration changed",
                names.len(),
                header.legend.len()
            )));
        }
        sort_canonical(&mut names);
        let signed = names
            .into_iter()
            .zip(&header.legend)
            .map(|(name, &entry)| {
                let value = &item[name];
                let terminal = match (entry, value) {
                    (LegendEntry::EncryptAndSign, AttributeValue::B(b)) => Terminal {
                        type_id: serialize::BYTES_TYPE_ID,
                        value: b.clone(),
                    },
                    (LegendEntry::EncryptAndSign, _) => {
                        return Err(Error::integrity(format!(
                            "attribute {name:?} should be encrypted (binary) but is {}",
                            value.type_name()
                        )))
                    }
                    _ => serialize::serialize(value).map_err(|e| attribute_error(name, e))?,
                };
                Ok(SignedField {
                    name,
                    path: canonical_path(table, name),
                    entry,
                    value,
                    terminal,
                })
            })
            .collect::<Result<Vec<_>>>()?;

        let suite = header.suite;
        let (reproduced, required_keys) = self.context_for(header.version, &signed)?;
        let mut ec = header.encryption_context.clone();
        for (k, v) in reproduced {
            match ec.get(&k) {
                Some(stored) if *stored != v => {
                    return Err(Error::integrity(format!(
                    "encryption context entry {k:?} stored in the header differs from the item's"
                )))
                }
                _ => {
                    ec.insert(k, v);
                }
            }
        }
        let public_key = ec.get(PUBLIC_KEY_CONTEXT_KEY).cloned();
        match (suite.is_signing(), &public_key) {
            (true, None) => {
                return Err(Error::malformed(
                    "signed suite but no aws-crypto-public-key in the header",
                ))
            }
            (false, Some(_)) => {
                return Err(Error::malformed(
                    "unsigned suite but the header carries aws-crypto-public-key",
                ))
            }
            _ => {}
        }
        let mut materials = DecryptionMaterials::new(suite, ec);
        materials.required_encryption_context_keys = required_keys;
        let materials = cfg
            .keyring
            .on_decrypt(materials, &header.encrypted_data_keys)
            .await?;
        let (data_key, signing_key) = match (
            &materials.plaintext_data_key,
            &materials.symmetric_signing_key,
        ) {
            (Some(k), Some(s)) if materials.suite == suite => (k.expose(), s.expose()),
            _ => {
                return Err(Error::KeyProviderFailure(
                    "keyring returned materials without a data key and signing key".into(),
                ))
            }
        };

        header::verify_commitment(header_bytes, data_key, &header.message_id)?;
        let footer = Footer::parse(
            footer_bytes,
            suite.is_signing(),
            header.encrypted_data_keys.len(),
        )?;
        // The footer check and the field decryption are independent: with
        // platform crypto they run at once (WebCrypto works off the main
        // thread). Nothing decrypted is returned unless the footer verifies.
        let verify_footer = async {
            let hash = footer::canonical_hash(
                &cfg.crypto,
                header_bytes,
                &materials.encryption_context,
                signed.iter().map(|f| match f.entry {
                    LegendEntry::EncryptAndSign => CanonicalField::Encrypted {
                        path: &f.path,
                        sealed: &f.terminal.value,
                    },
                    _ => CanonicalField::Plaintext {
                        path: &f.path,
                        type_id: f.terminal.type_id,
                        value: &f.terminal.value,
                    },
                }),
            )
            .await?;
            footer.verify_recipient_tag(signing_key, &hash)?;
            if let (Some(sig), Some(pk)) = (&footer.signature, &public_key) {
                signature::verify(cfg.crypto.ecdsa.as_ref(), pk, &hash, sig).await?;
            }
            Ok::<(), Error>(())
        };
        let open_fields = async {
            let field_keys =
                FieldKeys::derive(data_key, &header.message_id, encrypted_count(&signed))?;
            let encrypted = signed
                .iter()
                .filter(|f| f.entry == LegendEntry::EncryptAndSign);
            let mut opened = Vec::new();
            for (offset, f) in encrypted.enumerate() {
                let plain = field_keys
                    .decrypt(&cfg.crypto, offset, &f.path, &f.terminal.value)
                    .await?;
                opened.push((f.name, serialize::deserialize(plain.type_id, &plain.value)?));
            }
            Ok::<_, Error>(opened)
        };
        let (verified, opened) = join(verify_footer, open_fields).await;
        verified?;
        let opened = opened?;

        // Every `aws_dbe_`-prefixed attribute is outside the signature scope
        // and left out of the result, not only the header and footer:
        // searchable-encryption beacons (`aws_dbe_b_*`) and anything an
        // attacker added. The spec (decrypt-path-structure.md#construct-
        // decrypted-structured-data) drops only head and foot; the reference
        // code (DynamoToStruct.StructuredToItemDecrypt, aws-db-esdk 1.3.0)
        // drops the whole prefix, and the code wins.
        let mut out = Item::new();
        for (name, value) in item {
            if !name.starts_with(RESERVED_PREFIX) {
                out.insert(name.clone(), value.clone());
            }
        }
        for (name, value) in opened {
            out.insert(name.to_owned(), value);
        }
        Ok(out)
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

    /// The context this item is bound to, and the keys of it that are
    /// "required" (reproduced from the item, not stored in the header).
    fn context_for(
        &self,
        version: Version,
        signed: &[SignedField<'_>],
    ) -> Result<(EncryptionContext, Vec<String>)> {
        let cfg = &self.config;
        let terminal_of = |name: &str| -> Result<Terminal> {
            match signed.iter().find(|f| f.name == name) {
                Some(f) => Ok(f.terminal.clone()),
                None => Err(Error::InvalidItem(format!(
                    "key attribute {name:?} must be signed"
                ))),
            }
        };
        let pk = terminal_of(&cfg.partition_key_name)?;
        let sk = cfg.sort_key_name.as_deref().map(terminal_of).transpose()?;
        let mut ec = context::base_context(cfg, version, &pk, sk.as_ref());
        if version == Version::V2 {
            let attrs: Vec<ContextAttribute<'_>> = signed
                .iter()
                .filter(|f| f.entry == LegendEntry::SignAndIncludeInEncryptionContext)
                .map(|f| ContextAttribute {
                    name: f.name,
                    value: f.value,
                    terminal: &f.terminal,
                })
                .collect();
            context::add_attribute_context(&mut ec, &attrs)?;
        }
        let required = ec.keys().cloned().collect();
        Ok((ec, required))
    }
}

/// Spec: header.md#format-version
fn header_version(entries: impl Iterator<Item = LegendEntry>) -> Version {
    let mut version = Version::V1;
    for e in entries {
        if e == LegendEntry::SignAndIncludeInEncryptionContext {
            version = Version::V2;
        }
    }
    version
}

fn check_encryption_materials(
    materials: &EncryptionMaterials,
    suite: crate::AlgorithmSuiteId,
) -> Result<&[u8]> {
    let fail = |m: &str| Err(Error::KeyProviderFailure(m.into()));
    if materials.suite != suite {
        return fail("keyring changed the algorithm suite");
    }
    let Some(key) = &materials.plaintext_data_key else {
        return fail("keyring produced no data key");
    };
    if materials.encrypted_data_keys.is_empty() {
        return fail("keyring produced no encrypted data key");
    }
    if materials.encrypted_data_keys.len() != materials.symmetric_signing_keys.len() {
        return fail("keyring produced a different number of encrypted data keys and signing keys");
    }
    Ok(key.expose())
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

/// How many fields the record encrypts: each gets its own key and nonce.
fn encrypted_count(signed: &[SignedField]) -> usize {
    signed
        .iter()
        .filter(|f| f.entry == LegendEntry::EncryptAndSign)
        .count()
}
