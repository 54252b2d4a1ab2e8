use std::collections::BTreeMap;
use std::sync::Arc;

use crate::beacon::{SearchConfig, SearchInfo};
use crate::error::{Error, Result};
use crate::format::header::Version;
use crate::format::RESERVED_PREFIX;
use crate::keyring::Keyring;
use crate::primitives::provider::CryptoProvider;
use crate::suite::AlgorithmSuiteId;

/// Default for [`ItemEncryptorConfig::max_encrypted_data_keys`].
///
/// Each wrapped key in a header costs an unwrap attempt (an RSA decryption, a
/// KMS `Decrypt` call, a custom keyring call) before anything is verified, so
/// a planted header with 255 of them multiplies the work of opening one item.
/// Ten covers a generator plus nine children (e.g. a multi-Region key in ten
/// regions), more than typical deployments use; every official DB-ESDK
/// vector has one. Callers with more recipients raise it.
pub const DEFAULT_MAX_ENCRYPTED_DATA_KEYS: usize = 10;

/// The header stores the wrapped-key count in one byte.
/// Spec: structured-encryption/header.md#encrypted-data-keys
const HEADER_MAX_ENCRYPTED_DATA_KEYS: usize = u8::MAX as usize;

/// What happens to one attribute on encrypt. Names follow the DB-ESDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoAction {
    EncryptAndSign,
    SignOnly,
    SignAndIncludeInEncryptionContext,
    DoNothing,
}

impl CryptoAction {
    pub fn name(self) -> &'static str {
        match self {
            CryptoAction::EncryptAndSign => "ENCRYPT_AND_SIGN",
            CryptoAction::SignOnly => "SIGN_ONLY",
            CryptoAction::SignAndIncludeInEncryptionContext => {
                "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT"
            }
            CryptoAction::DoNothing => "DO_NOTHING",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "ENCRYPT_AND_SIGN" => Ok(CryptoAction::EncryptAndSign),
            "SIGN_ONLY" => Ok(CryptoAction::SignOnly),
            "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT" => {
                Ok(CryptoAction::SignAndIncludeInEncryptionContext)
            }
            "DO_NOTHING" => Ok(CryptoAction::DoNothing),
            other => Err(Error::InvalidConfig(format!(
                "unknown crypto action {other:?}; expected ENCRYPT_AND_SIGN, SIGN_ONLY, \
                 SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT or DO_NOTHING"
            ))),
        }
    }

    pub fn is_signed(self) -> bool {
        !matches!(self, CryptoAction::DoNothing)
    }
}

/// Whether plaintext items may be written and read: the DB-ESDK's
/// `PlaintextOverride`, for migrating a table that holds plaintext items.
/// Spec: ddb-table-encryption-config.md#plaintext-override
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlaintextOverride {
    /// Step 1 of a migration: write plaintext, read both (deploy everywhere first).
    ForcePlaintextWriteAllowPlaintextRead,
    /// Step 2: write sealed items, still read plaintext ones.
    ForbidPlaintextWriteAllowPlaintextRead,
    /// The default, and step 3 once every item is sealed: only sealed items.
    #[default]
    ForbidPlaintextWriteForbidPlaintextRead,
}

impl PlaintextOverride {
    /// The DB-ESDK's names.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ" => Ok(Self::ForcePlaintextWriteAllowPlaintextRead),
            "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ" => Ok(Self::ForbidPlaintextWriteAllowPlaintextRead),
            "FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ" => Ok(Self::ForbidPlaintextWriteForbidPlaintextRead),
            other => Err(Error::InvalidConfig(format!(
                "unknown plaintextOverride {other:?}: FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ, FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ or FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ"
            ))),
        }
    }

    pub(crate) fn allows_plaintext_read(self) -> bool {
        self != Self::ForbidPlaintextWriteForbidPlaintextRead
    }
}

/// Configuration of an [`crate::ItemEncryptor`], with the DB-ESDK's names.
#[derive(Clone)]
pub struct ItemEncryptorConfig {
    pub logical_table_name: String,
    pub partition_key_name: String,
    pub sort_key_name: Option<String>,
    pub attribute_actions_on_encrypt: BTreeMap<String, CryptoAction>,
    pub allowed_unsigned_attributes: Vec<String>,
    pub allowed_unsigned_attribute_prefix: Option<String>,
    pub algorithm_suite_id: AlgorithmSuiteId,
    pub keyring: Arc<dyn Keyring>,
    /// Who computes ECDSA, and AES-GCM and SHA-384 on large inputs:
    /// RustCrypto by default; the wasm layer plugs in the platform's
    /// WebCrypto. The bytes are the same either way.
    pub crypto: CryptoProvider,
    /// The most wrapped data keys an item may carry, 1 to 255 (default
    /// [`DEFAULT_MAX_ENCRYPTED_DATA_KEYS`]). Decrypt refuses an item with more
    /// before any keyring is called; encrypt refuses a keyring that produced
    /// more. Both fail with [`Error::LimitExceeded`]. The AWS Encryption SDK's
    /// `maxEncryptedDataKeys`, which the DB-ESDK lacks.
    pub max_encrypted_data_keys: usize,
    /// Told which keys each operation used ([`super::KeyUseEvent`]).
    pub on_key_use: Option<Arc<dyn super::KeyUseObserver>>,
    /// Plaintext items during a migration; by default none are written or read.
    pub plaintext_override: PlaintextOverride,
    /// Searchable encryption: with it, sealing adds the item's beacons and
    /// opening removes them. Built by [`crate::beacon::SearchInfo::new`] from
    /// this config (before the signed beacons' SIGN_ONLY actions, which
    /// [`crate::ItemEncryptor::new`] adds). `None` by default.
    pub search: Option<Arc<SearchInfo>>,
}

impl std::fmt::Debug for ItemEncryptorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemEncryptorConfig")
            .field("logical_table_name", &self.logical_table_name)
            .field("partition_key_name", &self.partition_key_name)
            .field("sort_key_name", &self.sort_key_name)
            .field(
                "attribute_actions_on_encrypt",
                &self.attribute_actions_on_encrypt,
            )
            .field(
                "allowed_unsigned_attributes",
                &self.allowed_unsigned_attributes,
            )
            .field(
                "allowed_unsigned_attribute_prefix",
                &self.allowed_unsigned_attribute_prefix,
            )
            .field("algorithm_suite_id", &self.algorithm_suite_id)
            .field("max_encrypted_data_keys", &self.max_encrypted_data_keys)
            .field("on_key_use", &self.on_key_use.is_some())
            .field("plaintext_override", &self.plaintext_override)
            .field("search", &self.search)
            .finish_non_exhaustive()
    }
}

impl ItemEncryptorConfig {
    /// A config with no optional parts: default suite (0x6701), no sort key, nothing unsigned.
    pub fn new(
        logical_table_name: impl Into<String>,
        partition_key_name: impl Into<String>,
        attribute_actions_on_encrypt: BTreeMap<String, CryptoAction>,
        keyring: Arc<dyn Keyring>,
    ) -> Self {
        ItemEncryptorConfig {
            logical_table_name: logical_table_name.into(),
            partition_key_name: partition_key_name.into(),
            sort_key_name: None,
            attribute_actions_on_encrypt,
            allowed_unsigned_attributes: Vec::new(),
            allowed_unsigned_attribute_prefix: None,
            algorithm_suite_id: AlgorithmSuiteId::default(),
            keyring,
            crypto: CryptoProvider::default(),
            max_encrypted_data_keys: DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
            on_key_use: None,
            plaintext_override: PlaintextOverride::default(),
            search: None,
        }
    }

    /// This config with searchable encryption: `search` validated against
    /// it ([`SearchInfo::new`]).
    pub fn with_search(mut self, search: SearchConfig) -> Result<Self> {
        self.search = Some(Arc::new(SearchInfo::new(search, &self)?));
        Ok(self)
    }

    /// Refuse `count` wrapped data keys over the configured maximum;
    /// `whose` says where they came from.
    pub(crate) fn check_encrypted_data_key_count(&self, count: usize, whose: &str) -> Result<()> {
        if count > self.max_encrypted_data_keys {
            return Err(Error::LimitExceeded(format!(
                "{whose} {count} encrypted data keys, more than maxEncryptedDataKeys ({})",
                self.max_encrypted_data_keys
            )));
        }
        Ok(())
    }

    /// Whether `name` is outside the signature scope: listed as allowed
    /// unsigned, under the allowed prefix, or under the reserved `aws_dbe_` prefix.
    /// Spec: decrypt-item.md#signature-scope
    pub fn is_allowed_unsigned(&self, name: &str) -> bool {
        self.allowed_unsigned_attributes.iter().any(|a| a == name)
            || self
                .allowed_unsigned_attribute_prefix
                .as_deref()
                .is_some_and(|p| name.starts_with(p))
            || name.starts_with(RESERVED_PREFIX)
    }

    /// Version 2 binds SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attributes into the context.
    /// Spec: ddb-table-encryption-config.md#configuration-version
    pub(crate) fn version(&self) -> Version {
        if self
            .attribute_actions_on_encrypt
            .values()
            .any(|a| *a == CryptoAction::SignAndIncludeInEncryptionContext)
        {
            Version::V2
        } else {
            Version::V1
        }
    }

    /// The config rules of the DB-ESDK item encryptor.
    /// Spec: ddb-table-encryption-config.md, decrypt-item.md#signature-scope
    pub(crate) fn validate(&self) -> Result<()> {
        self.validate_names()?;
        self.validate_key_actions()?;
        self.validate_attribute_actions()
    }

    /// Names and limits that must be set, and set to something usable.
    fn validate_names(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidConfig(msg));
        if self.logical_table_name.is_empty() {
            return bad("logicalTableName must not be empty".into());
        }
        if self.partition_key_name.is_empty() {
            return bad("partitionKeyName must not be empty".into());
        }
        if self.sort_key_name.as_deref() == Some("") {
            return bad("sortKeyName must not be empty when given".into());
        }
        if self.allowed_unsigned_attribute_prefix.as_deref() == Some("") {
            return bad("allowedUnsignedAttributePrefix must not be empty when given (it would leave every attribute unsigned)".into());
        }
        if !(1..=HEADER_MAX_ENCRYPTED_DATA_KEYS).contains(&self.max_encrypted_data_keys) {
            return bad(format!(
                "maxEncryptedDataKeys must be from 1 to {HEADER_MAX_ENCRYPTED_DATA_KEYS}"
            ));
        }
        Ok(())
    }

    /// Key attributes are SIGN_ONLY (v1) or, once any attribute is bound into
    /// the context, SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT (v2).
    fn validate_key_actions(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidConfig(msg));
        let key_action = match self.version() {
            Version::V1 => CryptoAction::SignOnly,
            Version::V2 => CryptoAction::SignAndIncludeInEncryptionContext,
        };
        let keys = std::iter::once(("partition key", &self.partition_key_name))
            .chain(self.sort_key_name.iter().map(|s| ("sort key", s)));
        for (role, key) in keys {
            match self.attribute_actions_on_encrypt.get(key) {
                Some(a) if *a == key_action => {}
                Some(a) => {
                    return bad(format!(
                        "{role} {key:?} is {} but must be {}{}",
                        a.name(),
                        key_action.name(),
                        if key_action == CryptoAction::SignAndIncludeInEncryptionContext {
                            " because another attribute uses SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT"
                        } else {
                            ""
                        }
                    ))
                }
                None => {
                    return bad(format!(
                        "{role} {key:?} needs an action in attributeActionsOnEncrypt ({})",
                        key_action.name()
                    ))
                }
            }
        }
        Ok(())
    }

    /// No reserved names; an attribute is unsigned exactly when DO_NOTHING.
    fn validate_attribute_actions(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidConfig(msg));
        for (name, action) in &self.attribute_actions_on_encrypt {
            if name.starts_with(RESERVED_PREFIX) {
                return bad(format!(
                    "attribute {name:?} uses the reserved prefix {RESERVED_PREFIX:?}"
                ));
            }
            let unsigned = self.is_allowed_unsigned(name);
            if *action == CryptoAction::DoNothing && !unsigned {
                return bad(format!(
                    "attribute {name:?} is DO_NOTHING, so it must also be in allowedUnsignedAttributes \
                     or start with allowedUnsignedAttributePrefix"
                ));
            }
            if *action != CryptoAction::DoNothing && unsigned {
                return bad(format!(
                    "attribute {name:?} is {} but is also allowed unsigned; \
                     signed attributes must not be in allowedUnsignedAttributes or under the prefix",
                    action.name()
                ));
            }
        }
        Ok(())
    }
}
