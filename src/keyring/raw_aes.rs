//! Raw AES keyring. Spec: framework/raw-aes-keyring.md
use crate::error::Result;

pub struct RawAesKeyring {}

impl RawAesKeyring {
    /// `wrapping_key` must be 16, 24 or 32 bytes.
    pub fn new(key_namespace: &str, key_name: &str, wrapping_key: &[u8]) -> Result<Self> {
        let _ = (key_namespace, key_name, wrapping_key);
        todo!()
    }
}
