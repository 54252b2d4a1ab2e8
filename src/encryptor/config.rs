use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::format::header::Version;
use crate::format::RESERVED_PREFIX;
use crate::keyring::Keyring;
use crate::primitives::provider::CryptoProvider;
use crate::suite::AlgorithmSuiteId;

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
        }
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
