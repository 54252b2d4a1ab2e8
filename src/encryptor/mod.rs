//! The item encryptor: DynamoDB items in, sealed items out, and back.
//! Spec: dynamodb-encryption-client/ddb-item-encryptor.md, encrypt-item.md, decrypt-item.md

mod config;

pub use config::{CryptoAction, ItemEncryptorConfig};

use crate::error::Result;
use crate::item::Item;

/// Encrypts and decrypts single items under one table configuration.
pub struct ItemEncryptor {
    config: ItemEncryptorConfig,
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

    /// Seal `item`: encrypt its ENCRYPT_AND_SIGN attributes, add `aws_dbe_head` and `aws_dbe_foot`.
    pub async fn encrypt_item(&self, item: &Item) -> Result<Item> {
        let _ = item;
        todo!("encrypt_item")
    }

    /// Verify and open a sealed item; returns exactly the plaintext item.
    pub async fn decrypt_item(&self, item: &Item) -> Result<Item> {
        let _ = item;
        todo!("decrypt_item")
    }
}
