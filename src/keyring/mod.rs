//! Key providers. A keyring wraps the data key for storage (on encrypt) and
//! unwraps one of the stored copies (on decrypt).
//!
//! A new keyring implements [`KeyProvider`] (wrap one key, unwrap one EDK)
//! and is a [`Keyring`] through [`provider`]'s generic OnEncrypt/OnDecrypt;
//! only compositions ([`MultiKeyring`]) implement [`Keyring`] directly.
//!
//! The traits are async, and their futures are not required to be `Send`, so
//! providers that call into JavaScript (KMS clients, custom providers) can
//! live in the wasm layer.

use async_trait::async_trait;

use crate::error::Result;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};

pub mod hierarchy;
pub mod intermediate;
pub mod kms;
pub mod multi;
pub mod provider;
pub mod raw_aes;
pub mod raw_ecdh;
#[cfg(feature = "rsa")]
pub mod raw_rsa;

pub use hierarchy::{AwsKmsHierarchicalKeyring, StaticBranchKeyKeyring};
pub use kms::{
    AwsKmsEcdhKeyring, AwsKmsEcdhScheme, AwsKmsKeyring, AwsKmsMrkDiscoveryKeyring,
    AwsKmsMrkKeyring, CachingClientSupplier, DiscoveryFilter, KmsClient, KmsClientSupplier,
};
pub use multi::MultiKeyring;
pub use provider::KeyProvider;
pub use raw_aes::RawAesKeyring;
pub use raw_ecdh::{RawEcdhKeyring, RawEcdhScheme};

pub use crate::base::MaybeSendSync;

#[cfg(feature = "rsa")]
pub use kms::AwsKmsRsaKeyring;
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
