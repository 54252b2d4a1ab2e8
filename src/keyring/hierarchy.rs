//! Hierarchical keyring EDK format, with a static branch key.
//! Spec: framework/aws-kms/aws-kms-hierarchical-keyring.md
use crate::error::Result;

pub struct StaticBranchKeyKeyring {}

impl StaticBranchKeyKeyring {
    /// `branch_key_version` is the version UUID string; `branch_key` is 32 bytes.
    pub fn new(branch_key_id: &str, branch_key_version: &str, branch_key: &[u8]) -> Result<Self> {
        let _ = (branch_key_id, branch_key_version, branch_key);
        todo!()
    }
}
