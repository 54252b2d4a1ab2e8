//! The keyring joint. A key provider does one thing: wrap a fresh
//! intermediate key under its key, or unwrap one EDK. Every provider is a
//! [`Keyring`] through one generic OnEncrypt / OnDecrypt, which holds what
//! all keyrings share: the data key, intermediate key wrapping
//! ([`super::intermediate`]), the EDK loop and the error accounting.
//!
//! Spec: framework/keyring-interface.md; the MPL's `EdkWrapping.dfy` splits
//! keyrings the same way (`GenerateAndWrapMaterial` / `UnwrapMaterial`).
//! The unwrap answer tells "not mine" ([`Claim::Skip`], [`Unwrapped::Declined`])
//! from "mine but broken" (an `Err`), as age's `unwrap_stanza`.

use async_trait::async_trait;

use crate::base::{MaybeSendSync, SecretBytes};
use crate::error::{Error, Result};
use crate::keyring::intermediate::{self, PendingWrap, ProviderWrapped, INTERMEDIATE_KEY_LEN};
use crate::keyring::Keyring;
use crate::materials::{
    serialize_encryption_context, DecryptionMaterials, EncryptedDataKey, EncryptionContext,
    EncryptionMaterials, KeyUse,
};
use crate::primitives::provider::SecureRandom;
use crate::suite::AlgorithmSuiteId;

/// What a provider is given to wrap a new EDK.
pub struct WrapRequest<'a> {
    pub encryption_context: &'a EncryptionContext,
    /// The encryption context as the MPL serializes it for AAD.
    pub serialized_ec: &'a [u8],
    /// The operation's randomness (the encryptor's `CryptoProvider`).
    pub random: &'a dyn SecureRandom,
}

impl WrapRequest<'_> {
    /// A fresh intermediate key, for providers that do not generate their own.
    pub fn fresh_intermediate_key(&self) -> Result<SecretBytes> {
        self.random.secret_bytes(INTERMEDIATE_KEY_LEN)
    }
}

/// A provider's new EDK: the intermediate key, and the EDK fields that carry
/// it wrapped under the provider's key.
pub struct Wrapped {
    pub intermediate_key: SecretBytes,
    pub edk: ProviderWrapped,
    /// What the provider knows of the key it used beyond the EDK (a branch
    /// key version, a cache hit); `None`: the EDK says it all.
    pub key_use: Option<KeyUse>,
}

/// What a provider is given to unwrap one EDK it claimed.
pub struct UnwrapRequest<'a> {
    /// The EDK's position in the item, for messages.
    pub index: usize,
    pub edk: &'a EncryptedDataKey,
    /// The provider's part of the EDK ciphertext: what follows the encrypted data key.
    pub wrapped: &'a [u8],
    pub encryption_context: &'a EncryptionContext,
    pub serialized_ec: &'a [u8],
}

/// A provider's first look at an EDK, before anything is unwrapped.
pub enum Claim {
    /// Another provider's EDK: passed over without a word.
    Skip,
    /// This provider's kind of EDK, but not one it may open; why, for the error.
    Decline(String),
    /// This provider's: unwrap it.
    Mine,
}

/// A provider's answer for one EDK it claimed. An `Err` instead means the
/// EDK is this provider's but broken (malformed, or it did not verify).
pub enum Unwrapped {
    /// The intermediate key, and what the provider knows of the key it used
    /// beyond the EDK (a branch key version, a cache hit); `None`: the EDK
    /// says it all.
    Key(SecretBytes, Option<KeyUse>),
    /// The provider looked and declined (e.g. a custom provider's `null`); why.
    Declined(String),
    /// The provider was asked and failed (a KMS call, a JS callback); why. If
    /// no EDK opens, the keyring fails with `KEY_PROVIDER_FAILURE`.
    Failed(String),
    /// As `Failed`, with the failure's own error: if no EDK opens and the
    /// first failure was the key store's, the keyring fails with
    /// `KEY_STORE_FAILURE` instead.
    Error(Error),
}

/// What the failure of a keyring none of whose EDKs opened says about an
/// EDK that was this provider's but broken, when no provider call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenEdks {
    /// `NO_MATCHING_KEY`: the provider cannot tell a broken EDK from one
    /// under another key of the same name (raw keyrings, custom providers).
    NoMatchingKey,
    /// The first broken EDK's own code (`INTEGRITY_FAILURE`,
    /// `MALFORMED_CIPHERTEXT`): the provider vouched for the EDK, so what
    /// does not open was tampered with (AWS KMS authenticates its blob).
    KeepCode,
}

/// A key provider: wraps a fresh intermediate key under its key, or unwraps
/// one EDK. Implementing this makes a [`Keyring`]. Futures are not `Send`,
/// so providers may call JavaScript.
#[async_trait(?Send)]
pub trait KeyProvider: MaybeSendSync {
    /// This keyring, for messages, e.g. `raw AES keyring (namespace "a", name "b")`.
    /// Called only when an operation fails. Never key bytes.
    fn describe(&self) -> String;

    /// Why this provider cannot decrypt at all (a public-key-only keyring);
    /// OnDecrypt then fails with `NO_MATCHING_KEY` before looking at EDKs.
    fn cannot_decrypt(&self) -> Option<String> {
        None
    }

    /// Refuse an algorithm suite this provider must not be used with (the
    /// KMS RSA keyring refuses signing suites); checked on encrypt and on
    /// decrypt before anything else is done.
    fn check_suite(&self, _suite: AlgorithmSuiteId) -> Result<()> {
        Ok(())
    }

    /// See [`BrokenEdks`].
    fn broken_edks(&self) -> BrokenEdks {
        BrokenEdks::NoMatchingKey
    }

    /// Wrap a new intermediate key: draw one with
    /// [`WrapRequest::fresh_intermediate_key`], or generate it (KMS GenerateDataKey).
    async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped>;

    /// Whether `edk` is this provider's. An `Err` fails the whole OnDecrypt
    /// before any EDK is unwrapped (the MPL's KMS filters do this).
    fn claim(&self, index: usize, edk: &EncryptedDataKey) -> Result<Claim>;

    /// The intermediate key of an EDK this provider claimed.
    async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped>;
}

/// Every provider is a keyring. The generic methods only forward to one
/// non-generic body per operation (over `&dyn KeyProvider`), so the EDK loop
/// and the accounting exist once in the binary, not once per provider
/// (monomorphized, they cost the wasm ~27 KB).
#[async_trait(?Send)]
impl<P: KeyProvider> Keyring for P {
    async fn on_encrypt(&self, materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        provider_on_encrypt(self, materials).await
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        provider_on_decrypt(self, materials, encrypted_data_keys).await
    }
}

/// Generate the data key if none is set yet (the MPL generates it locally
/// whatever the provider), then add this provider's EDK.
async fn provider_on_encrypt(
    provider: &dyn KeyProvider,
    mut materials: EncryptionMaterials,
) -> Result<EncryptionMaterials> {
    provider.check_suite(materials.suite)?;
    let serialized_ec = serialize_encryption_context(&materials.encryption_context)?;
    if materials.plaintext_data_key.is_none() {
        let data_key = materials.random.secret_bytes(crate::suite::KEY_LEN)?;
        materials.set_plaintext_data_key(data_key)?;
    }
    let wrapped = provider
        .wrap(WrapRequest {
            encryption_context: &materials.encryption_context,
            serialized_ec: &serialized_ec,
            random: materials.random.as_ref(),
        })
        .await?;
    let data_key = materials
        .plaintext_data_key
        .as_ref()
        .ok_or_else(|| Error::InvalidConfig("encryption materials have no data key yet".into()))?;
    let pending = PendingWrap::start_with(data_key, wrapped.intermediate_key, &serialized_ec)?;
    let (edk, signing_key) = pending.finish(wrapped.edk);
    materials
        .key_uses
        .push(wrapped.key_use.unwrap_or_else(|| KeyUse::of(&edk)));
    materials.add_recipient(edk, signing_key);
    Ok(materials)
}

/// Try each claimed EDK in order; the first that opens completely wins.
/// Spec: keyring-interface.md#ondecrypt
async fn provider_on_decrypt(
    provider: &dyn KeyProvider,
    mut materials: DecryptionMaterials,
    encrypted_data_keys: &[EncryptedDataKey],
) -> Result<DecryptionMaterials> {
    if materials.plaintext_data_key.is_some() {
        return Ok(materials);
    }
    if let Some(why) = provider.cannot_decrypt() {
        return Err(Error::NoMatchingKey {
            providers_seen: providers_seen(encrypted_data_keys),
            detail: format!("{} {why}", provider.describe()),
        });
    }
    provider.check_suite(materials.suite)?;
    let mut tally = Tally::new(provider.broken_edks());
    for (i, edk) in encrypted_data_keys.iter().enumerate() {
        if let Claim::Decline(why) = provider.claim(i, edk)? {
            tally.declined(i, why);
        }
    }
    let serialized_ec = serialize_encryption_context(&materials.encryption_context)?;
    for (i, edk) in encrypted_data_keys.iter().enumerate() {
        if !matches!(provider.claim(i, edk)?, Claim::Mine) {
            continue;
        }
        let opened = open_one(
            provider,
            i,
            edk,
            &materials.encryption_context,
            &serialized_ec,
        );
        match opened.await {
            Ok((data_key, signing_key, used)) => {
                materials.set_keys(data_key, signing_key)?;
                materials
                    .key_uses
                    .push(used.unwrap_or_else(|| KeyUse::of(edk)));
                return Ok(materials);
            }
            Err(outcome) => tally.record(i, outcome),
        }
    }
    Err(tally.into_error(&provider.describe(), encrypted_data_keys))
}

/// Why one claimed EDK did not open.
enum Outcome {
    Declined(String),
    Failed(String),
    FailedWith(Error),
    Broken(Error),
}

/// Unwrap one EDK with `provider` and open its data key: (data key,
/// symmetric signing key, what the provider said of the key), or why not.
async fn open_one<P: KeyProvider + ?Sized>(
    provider: &P,
    index: usize,
    edk: &EncryptedDataKey,
    encryption_context: &EncryptionContext,
    serialized_ec: &[u8],
) -> std::result::Result<(SecretBytes, SecretBytes, Option<KeyUse>), Outcome> {
    let (encrypted_pdk, wrapped) =
        intermediate::split_ciphertext(&edk.ciphertext).map_err(Outcome::Broken)?;
    let request = UnwrapRequest {
        index,
        edk,
        wrapped,
        encryption_context,
        serialized_ec,
    };
    let (key, used) = match provider.unwrap(request).await.map_err(Outcome::Broken)? {
        Unwrapped::Key(key, used) => (key, used),
        Unwrapped::Declined(why) => return Err(Outcome::Declined(why)),
        Unwrapped::Failed(why) => return Err(Outcome::Failed(why)),
        Unwrapped::Error(e) => return Err(Outcome::FailedWith(e)),
    };
    let (data_key, signing_key) =
        intermediate::open_data_key(encrypted_pdk, &key, serialized_ec).map_err(Outcome::Broken)?;
    Ok((data_key, signing_key, used))
}

/// Which code an OnDecrypt that opened nothing fails with: one rule for a
/// keyring's EDKs and a multi-keyring's children. A provider that was asked
/// and failed wins (an outage to retry or fix, not a missing key; the key
/// store's code if the first such failure was the key store's); then the
/// first record that was found but did not verify or parse, with its own
/// code; else `None`: no matching key.
#[derive(Default)]
pub(crate) struct FailureCode {
    provider_failed: bool,
    /// Whether the first provider failure that came as an error was the key store's.
    key_store_first: Option<bool>,
    /// The first broken record's code.
    first_broken: Option<BrokenCode>,
}

#[derive(Clone, Copy)]
enum BrokenCode {
    Integrity,
    Malformed,
    Other,
}

impl FailureCode {
    /// A provider was asked and failed; `error` if it said more than a message.
    pub(crate) fn provider_failed(&mut self, error: Option<&Error>) {
        self.provider_failed = true;
        if let Some(e) = error {
            self.key_store_first
                .get_or_insert(matches!(e, Error::KeyStoreFailure(_)));
        }
    }

    /// A record that was found but did not verify or parse.
    pub(crate) fn broken(&mut self, error: &Error) {
        self.first_broken.get_or_insert(match error {
            Error::IntegrityFailure(_) => BrokenCode::Integrity,
            Error::MalformedCiphertext(_) => BrokenCode::Malformed,
            _ => BrokenCode::Other,
        });
    }

    /// A child keyring's error, by its code; any other code says no more
    /// than "not mine".
    pub(crate) fn child_failed(&mut self, error: &Error) {
        match error {
            Error::KeyProviderFailure(_) | Error::KeyStoreFailure(_) => {
                self.provider_failed(Some(error))
            }
            Error::IntegrityFailure(_) | Error::MalformedCiphertext(_) => self.broken(error),
            _ => {}
        }
    }

    /// The error carrying `detail`; `no_match` makes it when nothing failed
    /// or broke.
    pub(crate) fn error(self, detail: String, no_match: impl FnOnce(String) -> Error) -> Error {
        if !self.provider_failed {
            match self.first_broken {
                None => return no_match(detail),
                Some(BrokenCode::Integrity) => return Error::IntegrityFailure(detail),
                Some(BrokenCode::Malformed) => return Error::MalformedCiphertext(detail),
                Some(BrokenCode::Other) => {}
            }
        }
        match self.key_store_first {
            Some(true) => Error::KeyStoreFailure(detail),
            _ => Error::KeyProviderFailure(detail),
        }
    }
}

/// The per-EDK error accounting of one OnDecrypt (no allocation until an
/// EDK fails).
struct Tally {
    policy: BrokenEdks,
    /// Provider failures and, under [`BrokenEdks::KeepCode`], broken EDKs.
    failures: Vec<String>,
    declined: Vec<String>,
    code: FailureCode,
}

impl Tally {
    fn new(policy: BrokenEdks) -> Self {
        Tally {
            policy,
            failures: Vec::new(),
            declined: Vec::new(),
            code: FailureCode::default(),
        }
    }

    fn declined(&mut self, index: usize, why: String) {
        self.declined.push(format!("EDK #{index}: {why}"));
    }

    fn record(&mut self, index: usize, outcome: Outcome) {
        match outcome {
            Outcome::Declined(why) => self.declined(index, why),
            Outcome::Failed(why) => {
                self.code.provider_failed(None);
                self.failures.push(format!("EDK #{index}: {why}"));
            }
            Outcome::FailedWith(e) => {
                self.code.provider_failed(Some(&e));
                self.failures.push(format!("EDK #{index}: {e}"));
            }
            Outcome::Broken(e) => match self.policy {
                BrokenEdks::NoMatchingKey => self.declined(index, e.to_string()),
                BrokenEdks::KeepCode => {
                    self.code.broken(&e);
                    self.failures.push(format!("EDK #{index}: {e}"));
                }
            },
        }
    }

    /// [`FailureCode`]'s rule; a broken EDK counts under
    /// [`BrokenEdks::KeepCode`] only.
    fn into_error(mut self, keyring: &str, encrypted_data_keys: &[EncryptedDataKey]) -> Error {
        if self.failures.is_empty() {
            return no_matching_key(keyring, encrypted_data_keys, &self.declined);
        }
        self.failures.append(&mut self.declined);
        let detail = format!(
            "{keyring}: no encrypted data key opened: {}",
            self.failures.join("; ")
        );
        self.code.error(detail, |detail| Error::NoMatchingKey {
            providers_seen: providers_seen(encrypted_data_keys),
            detail,
        })
    }
}

/// The rule for a custom (user-written, e.g. JavaScript) provider's id:
/// non-empty, and not under `aws-kms`, which names the AWS KMS keyrings'
/// EDKs (other SDKs send those to KMS).
pub fn check_custom_provider_id(provider_id: &str) -> Result<()> {
    if provider_id.is_empty() {
        return Err(Error::InvalidConfig(
            "a custom keyring needs a non-empty providerId".into(),
        ));
    }
    if provider_id.starts_with("aws-kms") {
        return Err(Error::InvalidConfig(format!(
            "providerId {provider_id:?} is reserved for AWS KMS keyrings"
        )));
    }
    Ok(())
}

/// The error of a keyring that opened none of `encrypted_data_keys`;
/// `reasons` says why each EDK it tried failed.
pub fn no_matching_key(
    keyring: &str,
    encrypted_data_keys: &[EncryptedDataKey],
    reasons: &[String],
) -> Error {
    let detail = if encrypted_data_keys.is_empty() {
        format!("{keyring}: there are no encrypted data keys")
    } else if reasons.is_empty() {
        format!("{keyring}: no encrypted data key is for this keyring")
    } else {
        format!("{keyring}: {}", reasons.join("; "))
    };
    Error::NoMatchingKey {
        providers_seen: providers_seen(encrypted_data_keys),
        detail,
    }
}

/// The distinct provider ids of `edks`, in order of first appearance.
pub fn providers_seen(edks: &[EncryptedDataKey]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for edk in edks {
        if !seen.contains(&edk.key_provider_id) {
            seen.push(edk.key_provider_id.clone());
        }
    }
    seen
}
