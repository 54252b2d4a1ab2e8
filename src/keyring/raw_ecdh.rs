//! Raw ECDH keyring. Spec: framework/raw-ecdh-keyring.md and
//! key-agreement-schemas.md; reference code: MPL `Keyrings/RawECDHKeyring.dfy`
//! and `KeyWrapping/EcdhEdkWrapping.dfy` (compiled into the `aws-db-esdk`
//! crate). Where the two disagree the reference code wins; each case is
//! marked "MPL:" below and listed in NOTES-17-ecdh.md.
//!
//! EDK (with intermediate key wrapping, see [`super::intermediate`]):
//! - key provider id: `raw-ecdh`
//! - key provider info: `0x01 || u32 BE len || recipient public key ||
//!   u32 BE len || sender public key`, both SEC1 compressed (75, 107 or 143 bytes)
//! - ciphertext: `encrypted data key (48) || salt (32) || commitment key (32)
//!   || AES-256-GCM(wrapping key, IV = 12 zero bytes, AAD = FixedInfo,
//!   intermediate key (32)) || tag (16)`
//!
//! Keys: `Z` = ECDH(sender private, recipient public);
//! `FixedInfo = "ecdh-key-derivation" 0x00 "p256" 0x00 "HMAC_SHA384" 0x00
//! sender || recipient 0x00 0x01 0x00 serialized EC`;
//! `KDF-CTR-HMAC-SHA384(Z, label = FixedInfo, context = salt, 64 bytes)
//! = commitment key (32) || wrapping key (32)`.

use std::sync::Arc;

use async_trait::async_trait;

use crate::base::SecretBytes;
use crate::error::{Error, Result};
use crate::keyring::intermediate::{ProviderWrapped, INTERMEDIATE_KEY_LEN};
use crate::keyring::provider::{
    BrokenEdks, Claim, KeyProvider, UnwrapRequest, Unwrapped, WrapRequest, Wrapped,
};
use crate::materials::{EncryptedDataKey, KeyUse};
use crate::primitives::ecdh::{EcPrivateKey, EcPublicKey, EcdhCurve, RustCryptoEcdh};
use crate::primitives::provider::EcdhProvider;
use crate::primitives::{self, ct_eq};
use crate::suite::{NONCE_LEN, TAG_LEN};

/// Provider id of the raw ECDH keyring's EDKs.
pub const RAW_ECDH_PROVIDER_ID: &str = "raw-ecdh";
/// Provider id of the AWS KMS ECDH keyring's EDKs, which have the same
/// layout; MPL: the raw keyring claims them too (`OnDecryptEcdhDataKeyFilter`).
pub const KMS_ECDH_PROVIDER_ID: &str = "aws-kms-ecdh";
/// The key provider info's version byte (`RAW_ECDH_KEYRING_VERSION`).
const KEYRING_VERSION: u8 = 0x01;
/// The KDF salt, first in the provider's ciphertext.
const SALT_LEN: usize = 32;
const COMMITMENT_KEY_LEN: usize = 32;
/// KDF output: commitment key || wrapping key (L = 512 bits).
const KDF_LEN: usize = 64;
/// What the provider appends after the encrypted data key: 112 bytes.
const WRAPPED_LEN: usize = SALT_LEN + COMMITMENT_KEY_LEN + INTERMEDIATE_KEY_LEN + TAG_LEN;
/// FixedInfo's first field. MPL: lower case (`ECDH_KDF_UTF8`); the spec's
/// serialization line writes `"ECDH-KEY-DERIVATION"`, its prose the MPL's.
const KDF_PURPOSE: &[u8] = b"ecdh-key-derivation";
/// FixedInfo's PRF name (`ECDH_KDF_PRF_NAME`).
const KDF_PRF_NAME: &[u8] = b"HMAC_SHA384";

/// The key agreement schema of a raw ECDH keyring, with its keys. Public
/// keys are DER SubjectPublicKeyInfo (as the MPL takes them) or the same as
/// `BEGIN PUBLIC KEY` PEM; private keys are PEM PKCS#8 (`BEGIN PRIVATE KEY`,
/// as the MPL takes them), SEC1 PEM (`BEGIN EC PRIVATE KEY`) or PKCS#8 DER.
#[derive(Clone, Copy)]
pub enum RawEcdhScheme<'a> {
    /// Encrypt and decrypt between two static key pairs: ours (the private
    /// key) and the other party's public key. The MPL calls it
    /// `RawPrivateKeyToStaticPublicKey`. Either party opens the EDKs (the
    /// MPL matches them with the two public keys in either order).
    StaticPrivateKeyToStaticPublicKey {
        sender_static_private_key: &'a [u8],
        recipient_public_key: &'a [u8],
    },
    /// Encrypt only, under a fresh ephemeral key pair per EDK: only the
    /// recipient's private key opens it (key-agreement-schemas.md: "MUST NOT
    /// be used for decryption").
    EphemeralPrivateKeyToStaticPublicKey { recipient_public_key: &'a [u8] },
    /// Decrypt only: opens every EDK for our public key, whoever sent it.
    PublicKeyDiscovery {
        recipient_static_private_key: &'a [u8],
    },
}

impl RawEcdhScheme<'_> {
    /// The schema's name as the brief's JS API spells it.
    pub fn name(&self) -> &'static str {
        match self {
            RawEcdhScheme::StaticPrivateKeyToStaticPublicKey { .. } => {
                "staticPrivateKeyToStaticPublicKey"
            }
            RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey { .. } => {
                "ephemeralPrivateKeyToStaticPublicKey"
            }
            RawEcdhScheme::PublicKeyDiscovery { .. } => "publicKeyDiscovery",
        }
    }
}

/// The keys of a configured keyring.
enum Keys {
    Static {
        private: EcPrivateKey,
        peer: EcPublicKey,
    },
    Ephemeral {
        recipient: EcPublicKey,
    },
    Discovery {
        private: EcPrivateKey,
    },
}

/// Wraps data keys under a key agreed by ECDH, on P-256, P-384 or P-521.
pub struct RawEcdhKeyring {
    curve: EcdhCurve,
    keys: Keys,
    agreement: Arc<dyn EcdhProvider>,
}

impl std::fmt::Debug for RawEcdhKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawEcdhKeyring")
            .field("curve", &self.curve)
            .field("scheme", &self.scheme_name())
            .field("recipient", &self.recipient_public_key())
            .finish_non_exhaustive()
    }
}

/// The DER of a key given as DER or as PEM text (also the KMS ECDH keyring's).
pub(crate) fn der_of(key: &[u8], what: &str) -> Result<Vec<u8>> {
    let text = key.trim_ascii_start();
    if !text.starts_with(b"-----BEGIN") {
        return Ok(key.to_vec());
    }
    let (label, der) = p384::elliptic_curve::pkcs8::der::pem::decode_vec(text.trim_ascii_end())
        .map_err(|_| Error::InvalidKey(format!("the {what} is not valid PEM")))?;
    if label != "PUBLIC KEY" {
        return Err(Error::InvalidKey(format!(
            "the {what} PEM is a {label:?}, not a PUBLIC KEY"
        )));
    }
    Ok(der)
}

fn public_key(key: &[u8], curve: EcdhCurve, what: &str) -> Result<EcPublicKey> {
    EcPublicKey::from_spki_der(&der_of(key, what)?, curve).map_err(|e| name_key(e, what))
}

fn private_key(key: &[u8], curve: EcdhCurve, what: &str) -> Result<EcPrivateKey> {
    EcPrivateKey::parse(key, curve).map_err(|e| name_key(e, what))
}

/// The error `e`, naming which key it is about.
fn name_key(e: Error, what: &str) -> Error {
    match e {
        Error::InvalidKey(m) => Error::InvalidKey(format!("raw ECDH keyring {what}: {m}")),
        other => other,
    }
}

impl RawEcdhKeyring {
    /// A keyring for `scheme` on `curve`. Keys are checked here: each must
    /// be of `curve` (`INVALID_KEY` "curve mismatch" otherwise), and every
    /// public key must be a point of it other than the identity.
    pub fn new(curve: EcdhCurve, scheme: RawEcdhScheme<'_>) -> Result<Self> {
        let keys = match scheme {
            RawEcdhScheme::StaticPrivateKeyToStaticPublicKey {
                sender_static_private_key,
                recipient_public_key,
            } => Keys::Static {
                private: private_key(sender_static_private_key, curve, "sender private key")?,
                peer: public_key(recipient_public_key, curve, "recipient public key")?,
            },
            RawEcdhScheme::EphemeralPrivateKeyToStaticPublicKey {
                recipient_public_key,
            } => Keys::Ephemeral {
                recipient: public_key(recipient_public_key, curve, "recipient public key")?,
            },
            RawEcdhScheme::PublicKeyDiscovery {
                recipient_static_private_key,
            } => Keys::Discovery {
                private: private_key(recipient_static_private_key, curve, "recipient private key")?,
            },
        };
        Ok(RawEcdhKeyring {
            curve,
            keys,
            agreement: Arc::new(RustCryptoEcdh),
        })
    }

    /// Compute key agreements with `provider` (the platform's ECDH) instead
    /// of RustCrypto. Keys are still parsed and validated in Rust first.
    pub fn with_ecdh_provider(mut self, provider: Arc<dyn EcdhProvider>) -> Self {
        self.agreement = provider;
        self
    }

    pub fn curve(&self) -> EcdhCurve {
        self.curve
    }

    fn scheme_name(&self) -> &'static str {
        match self.keys {
            Keys::Static { .. } => "staticPrivateKeyToStaticPublicKey",
            Keys::Ephemeral { .. } => "ephemeralPrivateKeyToStaticPublicKey",
            Keys::Discovery { .. } => "publicKeyDiscovery",
        }
    }

    /// The public key EDKs are sealed to (static, ephemeral) or opened for
    /// (discovery).
    pub fn recipient_public_key(&self) -> &EcPublicKey {
        match &self.keys {
            Keys::Static { peer, .. } => peer,
            Keys::Ephemeral { recipient } => recipient,
            Keys::Discovery { private } => private.public_key(),
        }
    }

    fn key_use(recipient: &[u8]) -> KeyUse {
        KeyUse {
            key_provider_id: RAW_ECDH_PROVIDER_ID.to_owned(),
            key: recipient.iter().map(|b| format!("{b:02x}")).collect(),
            version: None,
            cache_hit: false,
        }
    }
}

/// `0x01 || u32 len || recipient || u32 len || sender` (compressed points).
/// Spec: raw-ecdh-keyring.md#key-provider-information. MPL: the keys
/// are 33, 49 or 67 bytes (SEC1 compressed), not "32 or 48 or 56".
pub(crate) fn provider_info(sender: &[u8], recipient: &[u8]) -> Vec<u8> {
    let mut info = Vec::with_capacity(9 + sender.len() + recipient.len());
    info.push(KEYRING_VERSION);
    info.extend_from_slice(&(recipient.len() as u32).to_be_bytes());
    info.extend_from_slice(recipient);
    info.extend_from_slice(&(sender.len() as u32).to_be_bytes());
    info.extend_from_slice(sender);
    info
}

/// Spec: key-agreement-schemas.md#key-derivation (FixedInfo).
fn fixed_info(curve: EcdhCurve, sender: &[u8], recipient: &[u8], serialized_ec: &[u8]) -> Vec<u8> {
    let curve = curve.kdf_name().as_bytes();
    let mut out = Vec::with_capacity(
        KDF_PURPOSE.len()
            + curve.len()
            + KDF_PRF_NAME.len()
            + 6
            + sender.len()
            + recipient.len()
            + serialized_ec.len(),
    );
    for part in [KDF_PURPOSE, b"\0", curve, b"\0", KDF_PRF_NAME, b"\0"] {
        out.extend_from_slice(part);
    }
    out.extend_from_slice(sender);
    out.extend_from_slice(recipient);
    out.extend_from_slice(&[0, KEYRING_VERSION, 0]);
    out.extend_from_slice(serialized_ec);
    out
}

/// (commitment key, wrapping key) for `z`, `fixed_info` and `salt`.
fn derive(
    curve: EcdhCurve,
    z: &SecretBytes,
    fixed_info: &[u8],
    salt: &[u8],
) -> Result<SecretBytes> {
    if z.len() != curve.field_len() {
        return Err(Error::KeyProviderFailure(format!(
            "the ECDH provider returned a {}-byte shared secret for {}, expected {}",
            z.len(),
            curve,
            curve.field_len()
        )));
    }
    Ok(primitives::kdf_ctr_hmac_sha384(
        z.expose(),
        fixed_info,
        salt,
        KDF_LEN,
    ))
}

/// The key provider info's (recipient, sender) public keys, or why the
/// EDK is malformed. MPL (`OnDecryptEcdhDataKeyFilter`): the info must be
/// 75, 107 or 143 bytes, the version 1, and the recipient's length must
/// leave room for the sender's; the sender's length field is skipped,
/// the sender's key is the rest.
pub(crate) fn parse_provider_info(info: &[u8]) -> Result<(&[u8], &[u8])> {
    if ![75, 107, 143].contains(&info.len()) {
        return Err(Error::malformed(format!(
            "ECDH key provider info of {} bytes (expected 75, 107 or 143)",
            info.len()
        )));
    }
    if info[0] != KEYRING_VERSION {
        return Err(Error::malformed(format!(
            "ECDH key provider info version {} (expected 1)",
            info[0]
        )));
    }
    let recipient_len = u32::from_be_bytes(info[1..5].try_into().expect("4 bytes")) as usize;
    let recipient_end = 5usize.saturating_add(recipient_len);
    if recipient_end.saturating_add(4) >= info.len() {
        return Err(Error::malformed(
            "ECDH key provider info: the recipient key length overruns it",
        ));
    }
    Ok((&info[5..recipient_end], &info[recipient_end + 4..]))
}

/// An ECDH EDK's stored (recipient, sender) keys; `None` for another
/// provider's EDK.
/// MPL (`OnDecryptEcdhDataKeyFilter`): an EDK of either ECDH provider id
/// whose provider info does not parse fails the whole OnDecrypt, where the
/// spec lists parsing among the filter's conditions.
pub(crate) fn ecdh_edk_keys(
    index: usize,
    edk: &EncryptedDataKey,
) -> Result<Option<(&[u8], &[u8])>> {
    let id = edk.key_provider_id.as_str();
    if id != RAW_ECDH_PROVIDER_ID && id != KMS_ECDH_PROVIDER_ID {
        return Ok(None);
    }
    parse_provider_info(&edk.key_provider_info)
        .map(Some)
        .map_err(|e| Error::malformed(format!("EDK #{index} ({id}): {e}")))
}

/// Whether an EDK's (recipient, sender) are the two static keys `a` and `b`
/// in either order. MPL: either order, so the sender and the recipient both
/// open what a static-static keyring sealed.
pub(crate) fn names_pair((recipient, sender): (&[u8], &[u8]), a: &[u8], b: &[u8]) -> bool {
    (sender == a && recipient == b) || (sender == b && recipient == a)
}

/// The curve whose compressed points fill a provider info of this length.
pub(crate) fn curve_of_info(info_len: usize) -> Option<EcdhCurve> {
    EcdhCurve::ALL
        .into_iter()
        .find(|c| 1 + 2 * (4 + c.compressed_len()) == info_len)
}

// The EDK format both ECDH keyrings share (raw and AWS KMS): only the
// provider id and where Z comes from differ (MPL `EcdhEdkWrapping.dfy`).

/// Seals a fresh intermediate key under Z: returns it and the provider's part
/// of the EDK ciphertext (`salt || commitment key || AES-GCM(...) || tag`).
/// `sender` and `recipient` are SEC1 compressed points.
pub(crate) fn seal_intermediate(
    curve: EcdhCurve,
    z: &SecretBytes,
    sender: &[u8],
    recipient: &[u8],
    request: &WrapRequest<'_>,
) -> Result<(SecretBytes, Vec<u8>)> {
    let fixed_info = fixed_info(curve, sender, recipient, request.serialized_ec);
    // Spec: key-agreement-schemas.md#key-derivation — a 32-byte random salt.
    let salt: [u8; SALT_LEN] = request.random.array()?;
    let okm = derive(curve, z, &fixed_info, &salt)?;
    let (commitment_key, wrapping_key) = okm.expose().split_at(COMMITMENT_KEY_LEN);
    let intermediate_key = request.fresh_intermediate_key()?;
    // Spec: raw-ecdh-keyring.md#data-key-wrapping — zero IV, AAD = FixedInfo.
    let sealed = primitives::aes_gcm_encrypt(
        wrapping_key,
        &[0u8; NONCE_LEN],
        &fixed_info,
        intermediate_key.expose(),
    )?;
    let mut wrapped = Vec::with_capacity(WRAPPED_LEN);
    wrapped.extend_from_slice(&salt);
    wrapped.extend_from_slice(commitment_key);
    wrapped.extend_from_slice(&sealed);
    Ok((intermediate_key, wrapped))
}

/// Checks the wrapped part's length before Z is computed (or KMS called).
pub(crate) fn check_wrapped_len(wrapped: &[u8]) -> Result<()> {
    if wrapped.len() != WRAPPED_LEN {
        return Err(Error::malformed(format!(
            "ECDH wrapped key of {} bytes (expected {WRAPPED_LEN})",
            wrapped.len()
        )));
    }
    Ok(())
}

/// Opens the provider's part of an EDK with Z; `sender` and `recipient` are
/// the EDK's own key bytes, in its order (MPL `EcdhUnwrap`).
pub(crate) fn open_intermediate(
    curve: EcdhCurve,
    z: &SecretBytes,
    sender: &[u8],
    recipient: &[u8],
    serialized_ec: &[u8],
    wrapped: &[u8],
) -> Result<SecretBytes> {
    check_wrapped_len(wrapped)?;
    let (salt, rest) = wrapped.split_at(SALT_LEN);
    let (commitment_key, sealed) = rest.split_at(COMMITMENT_KEY_LEN);
    let fixed_info = fixed_info(curve, sender, recipient, serialized_ec);
    let okm = derive(curve, z, &fixed_info, salt)?;
    let (expected_commitment, wrapping_key) = okm.expose().split_at(COMMITMENT_KEY_LEN);
    // Spec: raw-ecdh-keyring.md#ondecrypt — a constant-time check.
    if !ct_eq(expected_commitment, commitment_key) {
        return Err(Error::integrity(
            "the ECDH commitment key does not match: the record was altered or moved \
             (e.g. under another primary key), or the EDK was made with other keys",
        ));
    }
    let key = primitives::aes_gcm_decrypt(wrapping_key, &[0u8; NONCE_LEN], &fixed_info, sealed)
        .map_err(|_| Error::integrity("the ECDH wrapped data key did not verify (altered EDK)"))?;
    Ok(SecretBytes::new(key))
}

/// The EDK's (recipient, sender) keys as validated points (on the curve, not
/// the identity), as the MPL does (`DecompressPublicKey`, `ValidatePublicKey`)
/// before any agreement: in discovery mode the sender's point is the
/// attacker's choice.
pub(crate) fn edk_points(
    curve: EcdhCurve,
    recipient: &[u8],
    sender: &[u8],
) -> Result<(EcPublicKey, EcPublicKey)> {
    let sender = EcPublicKey::from_sec1(curve, sender)
        .map_err(|e| Error::malformed(format!("the EDK's sender public key: {e}")))?;
    let recipient = EcPublicKey::from_sec1(curve, recipient)
        .map_err(|e| Error::malformed(format!("the EDK's recipient public key: {e}")))?;
    Ok((recipient, sender))
}

#[async_trait(?Send)]
impl KeyProvider for RawEcdhKeyring {
    fn describe(&self) -> String {
        format!(
            "raw ECDH keyring ({}, {}, recipient public key {})",
            self.curve,
            self.scheme_name(),
            self.recipient_public_key().fingerprint()
        )
    }

    /// Spec: raw-ecdh-keyring.md#ondecrypt — an ephemeral keyring MUST fail.
    fn cannot_decrypt(&self) -> Option<String> {
        matches!(self.keys, Keys::Ephemeral { .. }).then(|| {
            "cannot decrypt: its ephemeral sender keys are forgotten once used; open with \
             the recipient's private key (publicKeyDiscovery)"
                .to_owned()
        })
    }

    /// The EDK names both public keys, and the commitment key and the AES-GCM
    /// tag cover the record's encryption context: an EDK for our keys that
    /// does not open was altered or moved, as with the raw AES keyring.
    fn broken_edks(&self) -> BrokenEdks {
        BrokenEdks::KeepCode
    }

    async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped> {
        let recipient = self.recipient_public_key();
        // Spec: key-agreement-schemas.md, each schema's "On encrypt".
        let (sender, z) = match &self.keys {
            Keys::Discovery { private } => {
                // Spec: raw-ecdh-keyring.md#onencrypt — MUST fail.
                return Err(Error::InvalidConfig(format!(
                    "a raw ECDH keyring with publicKeyDiscovery cannot encrypt (it has no \
                     sender key; recipient public key {}, {}): use \
                     ephemeralPrivateKeyToStaticPublicKey or staticPrivateKeyToStaticPublicKey",
                    private.public_key().fingerprint(),
                    self.curve
                )));
            }
            Keys::Static { private, peer } => {
                let z = self.agreement.agree(private, peer).await?;
                (private.public_key().clone(), z)
            }
            Keys::Ephemeral { recipient } => {
                let (public, z) = self
                    .agreement
                    .ephemeral_agree(recipient, request.random)
                    .await?;
                let public = EcPublicKey::from_sec1(self.curve, &public).map_err(|e| {
                    Error::KeyProviderFailure(format!(
                        "the ECDH provider's ephemeral public key: {e}"
                    ))
                })?;
                (public, z)
            }
        };
        let (intermediate_key, wrapped) = seal_intermediate(
            self.curve,
            &z,
            sender.compressed(),
            recipient.compressed(),
            &request,
        )?;
        Ok(Wrapped {
            intermediate_key,
            edk: ProviderWrapped {
                key_provider_id: RAW_ECDH_PROVIDER_ID.to_owned(),
                key_provider_info: provider_info(sender.compressed(), recipient.compressed()),
                wrapped_intermediate_key: wrapped,
            },
            key_use: Some(Self::key_use(recipient.compressed())),
        })
    }

    fn claim(&self, index: usize, edk: &EncryptedDataKey) -> Result<Claim> {
        let Some(edk_pair) = ecdh_edk_keys(index, edk)? else {
            return Ok(Claim::Skip);
        };
        let (recipient, sender) = edk_pair;
        let (id, info) = (edk.key_provider_id.as_str(), &edk.key_provider_info);
        let ours = match &self.keys {
            // Spec: key-agreement-schemas.md#publickeydiscovery — the
            // recipient key must be ours.
            Keys::Discovery { private } => recipient == private.public_key().compressed(),
            // Spec: key-agreement-schemas.md#rawprivatekeytostaticpublickey —
            // both keys must be ours. MPL: in either order, so both parties open.
            Keys::Static { private, peer } => names_pair(
                edk_pair,
                private.public_key().compressed(),
                peer.compressed(),
            ),
            Keys::Ephemeral { .. } => false,
        };
        if ours {
            return Ok(Claim::Mine);
        }
        let why = match curve_of_info(info.len()) {
            Some(c) if c != self.curve => format!(
                "a {c} EDK ({id}); this keyring is {}, recipient {}",
                self.curve,
                self.recipient_public_key().fingerprint()
            ),
            _ => format!(
                "a {id} EDK for other public keys (recipient {}, sender {})",
                EcPublicKey::from_sec1(self.curve, recipient)
                    .map(|k| k.fingerprint())
                    .unwrap_or_else(|_| "not a point".into()),
                EcPublicKey::from_sec1(self.curve, sender)
                    .map(|k| k.fingerprint())
                    .unwrap_or_else(|_| "not a point".into()),
            ),
        };
        Ok(Claim::Decline(why))
    }

    async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped> {
        let (recipient, sender) = parse_provider_info(&request.edk.key_provider_info)?;
        let (_, sender_key) = edk_points(self.curve, recipient, sender)?;
        let (private, partner) = match &self.keys {
            Keys::Discovery { private } => (private, &sender_key),
            // MPL: the agreement is with the configured peer, whichever
            // side of the EDK it is on (the claim made sure it is one).
            Keys::Static { private, peer } => (private, peer),
            Keys::Ephemeral { .. } => {
                return Err(Error::Internal(
                    "an ephemeral raw ECDH keyring was asked to unwrap".into(),
                ))
            }
        };
        check_wrapped_len(request.wrapped)?;
        let z = self.agreement.agree(private, partner).await?;
        let key = open_intermediate(
            self.curve,
            &z,
            sender,
            recipient,
            request.serialized_ec,
            request.wrapped,
        )?;
        Ok(Unwrapped::Key(key, Some(Self::key_use(recipient))))
    }
}
