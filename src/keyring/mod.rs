//! Key providers. A keyring wraps the data key for storage (on encrypt) and
//! unwraps one of the stored copies (on decrypt).
//!
//! The trait is async, and its futures are not required to be `Send`, so
//! keyrings that call into JavaScript (KMS clients, custom providers) can
//! implement it in the wasm layer.

use async_trait::async_trait;

use crate::error::Result;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};

pub mod hierarchy;
pub mod intermediate;
pub mod multi;
pub mod raw_aes;
#[cfg(feature = "rsa")]
pub mod raw_rsa;

pub use hierarchy::StaticBranchKeyKeyring;
pub use multi::MultiKeyring;
pub use raw_aes::RawAesKeyring;
#[cfg(feature = "rsa")]
pub use raw_rsa::{RawRsaKeyring, RsaPadding};

/// Keyrings are `Send + Sync` so one encryptor can serve many threads; their
/// futures need not be `Send`, so keyrings that call into JavaScript work in
/// wasm (which is single-threaded; its binding layer wraps JS handles).
#[async_trait(?Send)]
pub trait Keyring: Send + Sync {
    /// Generate the data key if none is set yet, then add this keyring's EDK(s)
    /// and their symmetric signing keys.
    async fn on_encrypt(&self, materials: EncryptionMaterials) -> Result<EncryptionMaterials>;

    /// Unwrap the first EDK this keyring can open. Fails with
    /// [`crate::Error::NoMatchingKey`] when none is for it.
    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials>;
}
