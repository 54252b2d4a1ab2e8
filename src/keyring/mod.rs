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
pub mod kms;
pub mod multi;
pub mod raw_aes;
#[cfg(feature = "rsa")]
pub mod raw_rsa;

pub use hierarchy::StaticBranchKeyKeyring;
pub use kms::{
    AwsKmsKeyring, AwsKmsMrkDiscoveryKeyring, AwsKmsMrkKeyring, CachingClientSupplier,
    DiscoveryFilter, KmsClient, KmsClientSupplier,
};
pub use multi::MultiKeyring;
pub use raw_aes::RawAesKeyring;

/// `Send + Sync` everywhere but wasm32, where JS handles are neither.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}
/// `Send + Sync` everywhere but wasm32, where JS handles are neither.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSendSync for T {}
#[cfg(feature = "rsa")]
pub use raw_rsa::{RawRsaKeyring, RsaPadding};

/// Native keyrings are `Send + Sync` so one encryptor can serve many threads.
/// On wasm32 (single-threaded) the bound is dropped, so keyrings can hold
/// JavaScript handles. Futures are never required to be `Send`.
#[async_trait(?Send)]
pub trait Keyring: MaybeSendSync {
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
