use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::keyring::Keyring;
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
}

impl std::fmt::Debug for ItemEncryptorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemEncryptorConfig")
            .field("logical_table_name", &self.logical_table_name)
            .field("partition_key_name", &self.partition_key_name)
            .field("sort_key_name", &self.sort_key_name)
            .field("attribute_actions_on_encrypt", &self.attribute_actions_on_encrypt)
            .field("allowed_unsigned_attributes", &self.allowed_unsigned_attributes)
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
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        Ok(())
    }
}
