//! AWS KMS ECDH keyring: the raw ECDH keyring's EDK format (shared code in
//! [`crate::keyring::raw_ecdh`]), with the static private key held by KMS
//! and used through DeriveSharedSecret.
//!
//! Spec: framework/aws-kms/aws-kms-ecdh-keyring.md and key-agreement-schemas.md;
//! reference code: the MPL's `Keyrings/AwsKms/AwsKmsEcdhKeyring.dfy` and
//! `CreateAwsKmsEcdhKeyring` (compiled into the `aws-db-esdk` crate), which
//! win where the two differ ("MPL:" below, listed in NOTES-17-kmsecdh.md).
//!
//! EDK: provider id `aws-kms-ecdh`; provider info and ciphertext exactly as
//! the raw ECDH keyring's (version 1, compressed points, `salt || commitment
//! key || AES-GCM(intermediate key) || tag`), so the raw keyring holding the
//! recipient's private key opens them, and this keyring opens the raw
//! keyring's EDKs made between the same keys (MPL: both filters take both ids).
//!
//! KMS calls: one DeriveSharedSecret per seal and per opened EDK
//! (`KeyAgreementAlgorithm` ECDH, `PublicKey` the peer's DER SPKI, the grant
//! tokens); the answer must name the configured key and ECDH. GetPublicKey
//! once at construction when the keyring needs its KMS key's public key and
//! was not given it (the MPL always fetches it in discovery).

use std::sync::Arc;

use async_trait::async_trait;

use super::client::{DeriveSharedSecretRequest, GetPublicKeyRequest, KmsClient, KmsError};
use super::{parse_key_arn, validate_grant_tokens};
use crate::base::SecretBytes;
use crate::error::{Error, Result};
use crate::keyring::intermediate::ProviderWrapped;
use crate::keyring::provider::{
    BrokenEdks, Claim, KeyProvider, UnwrapRequest, Unwrapped, WrapRequest, Wrapped,
};
use crate::keyring::raw_ecdh::{
    check_wrapped_len, curve_of_info, der_of, ecdh_edk_keys, edk_points, names_pair,
    open_intermediate, parse_provider_info, provider_info, seal_intermediate, KMS_ECDH_PROVIDER_ID,
};
use crate::materials::{EncryptedDataKey, KeyUse};
use crate::primitives::ecdh::{EcPublicKey, EcdhCurve};

/// The key agreement schema of an AWS KMS ECDH keyring. Public keys are DER
/// SubjectPublicKeyInfo (as KMS GetPublicKey returns them and the MPL takes
/// them) or the same as `BEGIN PUBLIC KEY` PEM.
#[derive(Clone, Copy)]
pub enum AwsKmsEcdhScheme<'a> {
    /// Seal and open between a KMS key (ours, `KEY_AGREEMENT`, used through
    /// DeriveSharedSecret) and the other party's static public key.
    /// `sender_public_key`: the KMS key's public key; `None`: fetched once
    /// with GetPublicKey (as the MPL does).
    KmsPrivateKeyToStaticPublicKey {
        sender_kms_key_id: &'a str,
        sender_public_key: Option<&'a [u8]>,
        recipient_public_key: &'a [u8],
    },
    /// Open only: every EDK sealed to the KMS key's public key, whoever sent
    /// it. `recipient_public_key`: the KMS key's public key; `None`: fetched
    /// with GetPublicKey. The spec allows giving it (key-agreement-schemas.md
    /// "MAY provide the recipient's public key"); the MPL's input has no such
    /// field and always fetches it.
    KmsPublicKeyDiscovery {
        recipient_kms_key_id: &'a str,
        recipient_public_key: Option<&'a [u8]>,
    },
}

/// Seals and opens data keys under a key agreed by ECDH with a KMS key, on
/// P-256, P-384 or P-521.
pub struct AwsKmsEcdhKeyring {
    curve: EcdhCurve,
    /// The KMS key: the sender's (static) or the recipient's (discovery).
    key_arn: String,
    region: String,
    /// Static: the KMS key's public key; discovery: `None`.
    sender: Option<EcPublicKey>,
    /// Static: the other party's key; discovery: the KMS key's.
    recipient: EcPublicKey,
    client: Arc<dyn KmsClient>,
    grant_tokens: Vec<String>,
}

/// Grant tokens are bearer credentials: Debug counts them.
impl std::fmt::Debug for AwsKmsEcdhKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKmsEcdhKeyring")
            .field("curve", &self.curve)
            .field("scheme", &self.scheme_name())
            .field("key", &self.key_arn)
            .field("recipient", &self.recipient.fingerprint())
            .field("grant_tokens", &self.grant_tokens.len())
            .finish_non_exhaustive()
    }
}

/// The DER of a public key given as DER or as `PUBLIC KEY` PEM (the raw
/// ECDH keyring's parser), errors naming the KMS key.
fn spki_der(key: &[u8], key_arn: &str, what: &str) -> Result<Vec<u8>> {
    der_of(key, what).map_err(|e| match e {
        Error::InvalidKey(m) => Error::InvalidKey(format!("AWS KMS ECDH keyring ({key_arn}): {m}")),
        other => other,
    })
}

/// A configured or fetched public key, validated (its curve, on the curve,
/// not the identity) before any KMS call that would use it.
fn checked_key(der: &[u8], curve: EcdhCurve, key_arn: &str, what: &str) -> Result<EcPublicKey> {
    EcPublicKey::from_spki_der(der, curve).map_err(|e| match e {
        Error::InvalidKey(m) => {
            Error::InvalidKey(format!("AWS KMS ECDH keyring ({key_arn}): the {what}: {m}"))
        }
        other => other,
    })
}

/// GetPublicKey of a `KEY_AGREEMENT` key of `curve`. MPL
/// (`AwsKmsUtils.GetEcdhPublicKey`): the answer's KeyId must be the
/// identifier asked for and KeyUsage must be `KEY_AGREEMENT`.
async fn fetch_public_key(
    client: &dyn KmsClient,
    curve: EcdhCurve,
    key_arn: &str,
    region: &str,
    grant_tokens: &[String],
) -> Result<EcPublicKey> {
    let response = client
        .get_public_key(GetPublicKeyRequest {
            key_id: key_arn.to_owned(),
            grant_tokens: grant_tokens.to_vec(),
        })
        .await
        .map_err(|e| {
            Error::KeyProviderFailure(format!(
                "KMS GetPublicKey with key {key_arn} in {region} failed: {}: {}",
                e.name, e.message
            ))
        })?;
    if response.key_id != key_arn {
        return Err(Error::KeyProviderFailure(format!(
            "KMS GetPublicKey with key {key_arn} in {region} answered for key {:?}",
            response.key_id
        )));
    }
    if response.key_usage.as_deref() != Some("KEY_AGREEMENT") {
        return Err(Error::InvalidKey(format!(
            "KMS key {key_arn} has key usage {}; the AWS KMS ECDH keyring needs a key with usage \
             KEY_AGREEMENT",
            response.key_usage.as_deref().unwrap_or("(not given)")
        )));
    }
    // Not an MPL check (it leaves it to the SPKI's curve): a clearer message.
    if let Some(spec) = response.key_spec.as_deref() {
        if spec != curve.mpl_name() {
            return Err(Error::InvalidKey(format!(
                "KMS key {key_arn} is a {spec} key; this AWS KMS ECDH keyring is {} ({}): curve \
                 mismatch",
                curve,
                curve.mpl_name()
            )));
        }
    }
    checked_key(&response.public_key, curve, key_arn, "KMS key's public key")
}

impl AwsKmsEcdhKeyring {
    /// A keyring for `scheme` on `curve`, calling KMS through `client` (a
    /// client for the KMS key's region). KMS key identifiers must be key ARNs
    /// (DeriveSharedSecret answers with the ARN, and the MPL requires the
    /// answer to name the configured identifier). Configured public keys are
    /// checked before any KMS call; GetPublicKey runs here when a public key
    /// of the KMS key is needed and not given.
    /// Spec: aws-kms-ecdh-keyring.md#initialization
    pub async fn new(
        curve: EcdhCurve,
        scheme: AwsKmsEcdhScheme<'_>,
        client: Arc<dyn KmsClient>,
        grant_tokens: Vec<String>,
    ) -> Result<Self> {
        validate_grant_tokens(&grant_tokens)?;
        match scheme {
            AwsKmsEcdhScheme::KmsPrivateKeyToStaticPublicKey {
                sender_kms_key_id,
                sender_public_key,
                recipient_public_key,
            } => {
                let arn = parse_key_arn(sender_kms_key_id, "AWS KMS ECDH")?;
                let recipient = checked_key(
                    &spki_der(
                        recipient_public_key,
                        sender_kms_key_id,
                        "recipient public key",
                    )?,
                    curve,
                    sender_kms_key_id,
                    "recipient public key",
                )?;
                let sender = match sender_public_key {
                    Some(key) => checked_key(
                        &spki_der(key, sender_kms_key_id, "sender public key")?,
                        curve,
                        sender_kms_key_id,
                        "sender public key",
                    )?,
                    None => {
                        fetch_public_key(
                            client.as_ref(),
                            curve,
                            sender_kms_key_id,
                            &arn.region,
                            &grant_tokens,
                        )
                        .await?
                    }
                };
                Ok(AwsKmsEcdhKeyring {
                    curve,
                    key_arn: sender_kms_key_id.to_owned(),
                    region: arn.region,
                    sender: Some(sender),
                    recipient,
                    client,
                    grant_tokens,
                })
            }
            AwsKmsEcdhScheme::KmsPublicKeyDiscovery {
                recipient_kms_key_id,
                recipient_public_key,
            } => {
                let arn = parse_key_arn(recipient_kms_key_id, "AWS KMS ECDH")?;
                let recipient = match recipient_public_key {
                    Some(key) => checked_key(
                        &spki_der(key, recipient_kms_key_id, "recipient public key")?,
                        curve,
                        recipient_kms_key_id,
                        "recipient public key",
                    )?,
                    None => {
                        fetch_public_key(
                            client.as_ref(),
                            curve,
                            recipient_kms_key_id,
                            &arn.region,
                            &grant_tokens,
                        )
                        .await?
                    }
                };
                Ok(AwsKmsEcdhKeyring {
                    curve,
                    key_arn: recipient_kms_key_id.to_owned(),
                    region: arn.region,
                    sender: None,
                    recipient,
                    client,
                    grant_tokens,
                })
            }
        }
    }

    pub fn curve(&self) -> EcdhCurve {
        self.curve
    }

    /// The KMS key: the sender's (static) or the recipient's (discovery).
    pub fn key_arn(&self) -> &str {
        &self.key_arn
    }

    /// The public key EDKs are sealed to (static) or opened for (discovery).
    pub fn recipient_public_key(&self) -> &EcPublicKey {
        &self.recipient
    }

    /// The KMS key's public key in the static scheme.
    pub fn sender_public_key(&self) -> Option<&EcPublicKey> {
        self.sender.as_ref()
    }

    fn scheme_name(&self) -> &'static str {
        if self.sender.is_some() {
            "kmsPrivateKeyToStaticPublicKey"
        } else {
            "kmsPublicKeyDiscovery"
        }
    }

    fn failure(&self, e: &KmsError) -> String {
        format!(
            "KMS DeriveSharedSecret with key {} in {} failed: {}: {}",
            self.key_arn, self.region, e.name, e.message
        )
    }

    /// One DeriveSharedSecret with the KMS key and `peer`. MPL
    /// (`AwsKmsEcdhKeyring.DeriveSharedSecret`): the answer must name the
    /// configured key and ECDH. `Err(message)`: the call or its answer failed.
    async fn derive(&self, peer: &EcPublicKey) -> std::result::Result<SecretBytes, String> {
        let response = self
            .client
            .derive_shared_secret(DeriveSharedSecretRequest {
                key_id: self.key_arn.clone(),
                public_key: peer.to_spki_der(),
                grant_tokens: self.grant_tokens.clone(),
            })
            .await
            .map_err(|e| self.failure(&e))?;
        if response.key_id != self.key_arn {
            return Err(format!(
                "KMS DeriveSharedSecret with key {} in {} answered for key {:?}",
                self.key_arn, self.region, response.key_id
            ));
        }
        if response.key_agreement_algorithm.as_deref()
            != Some(DeriveSharedSecretRequest::KEY_AGREEMENT_ALGORITHM)
        {
            return Err(format!(
                "KMS DeriveSharedSecret with key {} in {} answered with key agreement algorithm \
                 {:?} (expected ECDH)",
                self.key_arn, self.region, response.key_agreement_algorithm
            ));
        }
        if response.shared_secret.len() != self.curve.field_len() {
            return Err(format!(
                "KMS DeriveSharedSecret with key {} in {} returned a {}-byte secret; {} needs {}",
                self.key_arn,
                self.region,
                response.shared_secret.len(),
                self.curve,
                self.curve.field_len()
            ));
        }
        Ok(response.shared_secret)
    }

    fn key_use(&self) -> KeyUse {
        KeyUse {
            key_provider_id: KMS_ECDH_PROVIDER_ID.to_owned(),
            key: self.key_arn.clone(),
            version: None,
            cache_hit: false,
        }
    }
}

#[async_trait(?Send)]
impl KeyProvider for AwsKmsEcdhKeyring {
    fn describe(&self) -> String {
        format!(
            "AWS KMS ECDH keyring ({}, {}, {}, recipient public key {})",
            self.key_arn,
            self.curve,
            self.scheme_name(),
            self.recipient.fingerprint()
        )
    }

    /// As the raw ECDH keyring: the EDK names both public keys and the
    /// commitment key and tag cover the context, so an EDK for our keys that
    /// does not open was altered or moved.
    fn broken_edks(&self) -> BrokenEdks {
        BrokenEdks::KeepCode
    }

    /// Spec: aws-kms-ecdh-keyring.md#onencrypt
    async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped> {
        let Some(sender) = &self.sender else {
            // MPL: "KmsPublicKeyDiscovery Key Agreement Scheme is forbidden on encrypt."
            return Err(Error::InvalidConfig(format!(
                "an AWS KMS ECDH keyring with kmsPublicKeyDiscovery ({}, {}) cannot encrypt: \
                 use kmsPrivateKeyToStaticPublicKey, or a raw ECDH keyring with the recipient's \
                 public key",
                self.key_arn, self.curve
            )));
        };
        let z = self
            .derive(&self.recipient)
            .await
            .map_err(Error::KeyProviderFailure)?;
        let (intermediate_key, wrapped) = seal_intermediate(
            self.curve,
            &z,
            sender.compressed(),
            self.recipient.compressed(),
            &request,
        )?;
        Ok(Wrapped {
            intermediate_key,
            edk: ProviderWrapped {
                key_provider_id: KMS_ECDH_PROVIDER_ID.to_owned(),
                key_provider_info: provider_info(sender.compressed(), self.recipient.compressed()),
                wrapped_intermediate_key: wrapped,
            },
            key_use: Some(self.key_use()),
        })
    }

    fn claim(&self, index: usize, edk: &EncryptedDataKey) -> Result<Claim> {
        let Some(edk_pair) = ecdh_edk_keys(index, edk)? else {
            return Ok(Claim::Skip);
        };
        let (id, info) = (edk.key_provider_id.as_str(), &edk.key_provider_info);
        let own_recipient = self.recipient.compressed();
        let ours = match &self.sender {
            // Spec: key-agreement-schemas.md#kmspublickeydiscovery
            None => edk_pair.0 == own_recipient,
            Some(own_sender) => names_pair(edk_pair, own_sender.compressed(), own_recipient),
        };
        if ours {
            return Ok(Claim::Mine);
        }
        Ok(Claim::Decline(match curve_of_info(info.len()) {
            Some(c) if c != self.curve => {
                format!("a {c} EDK ({id}); this keyring is {}", self.curve)
            }
            _ => format!("a {id} EDK for other public keys"),
        }))
    }

    /// Spec: aws-kms-ecdh-keyring.md#ondecrypt
    async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped> {
        let (recipient, sender) = parse_provider_info(&request.edk.key_provider_info)?;
        // Both points validated, and the length checked, before KMS is called.
        let (recipient_key, sender_key) = edk_points(self.curve, recipient, sender)?;
        check_wrapped_len(request.wrapped)?;
        // MPL: discovery agrees with the EDK's sender; static with the
        // configured recipient if the EDK's recipient is it, else with the
        // EDK's sender (the keyring opening what it sealed itself, or what
        // the other party sealed to our KMS key).
        let peer = match &self.sender {
            Some(_) if recipient_key.compressed() == self.recipient.compressed() => &recipient_key,
            _ => &sender_key,
        };
        let z = match self.derive(peer).await {
            Ok(z) => z,
            Err(why) => return Ok(Unwrapped::Failed(why)),
        };
        let key = open_intermediate(
            self.curve,
            &z,
            sender,
            recipient,
            request.serialized_ec,
            request.wrapped,
        )?;
        Ok(Unwrapped::Key(key, Some(self.key_use())))
    }
}
