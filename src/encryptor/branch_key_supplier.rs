//! The DB-ESDK's branch key id supplier: picks a tenant's branch key from
//! the item's key (`ddbKey`), as the official `DynamoDbKeyBranchKeyIdSupplier`
//! does. Spec: dynamodb-encryption-client/ddb-encryption-branch-key-id-supplier.md

use std::sync::Arc;

use async_trait::async_trait;

use crate::base::MaybeSendSync;
use crate::encryptor::context::ddb_key_from_context;
use crate::error::Result;
use crate::item::Item;
use crate::keyring::hierarchy::BranchKeyIdSupplier;
use crate::materials::EncryptionContext;

/// Chooses a branch key id from an item's key attributes (and, for
/// version 2 items, its SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attributes).
#[async_trait(?Send)]
pub trait DynamoDbKeyBranchKeyIdSupplier: MaybeSendSync {
    async fn branch_key_id_from_ddb_key(&self, ddb_key: &Item) -> Result<String>;
}

/// A [`DynamoDbKeyBranchKeyIdSupplier`] as the hierarchical keyring's
/// supplier: the encryption context is turned back into the item key.
pub struct DynamoDbBranchKeyIdSupplier(pub Arc<dyn DynamoDbKeyBranchKeyIdSupplier>);

#[async_trait(?Send)]
impl BranchKeyIdSupplier for DynamoDbBranchKeyIdSupplier {
    async fn branch_key_id(&self, encryption_context: &EncryptionContext) -> Result<String> {
        let ddb_key = ddb_key_from_context(encryption_context)?;
        self.0.branch_key_id_from_ddb_key(&ddb_key).await
    }
}
