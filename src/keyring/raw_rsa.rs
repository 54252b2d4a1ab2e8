//! Raw RSA keyring. Spec: framework/raw-rsa-keyring.md; reference code: MPL
//! `Keyrings/RawRSAKeyring.dfy`.
//!
//! EDK (with intermediate key wrapping, see [`super::intermediate`]):
//! - key provider id: the key namespace (UTF-8)
//! - key provider info: the key name (UTF-8)
//! - ciphertext: `encrypted data key (48) || RSA-encrypt(public key, intermediate key (32))`
//!   (the RSA part is the modulus size). RSA does not bind the encryption
//!   context; the encrypted data key's AES-GCM AAD does.
//!
//! OAEP uses MGF1 with the same hash as the label hash, and an empty label.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use rand_core::OsRng;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, Oaep, Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use sha2::digest::{Digest, DynDigest};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::base::SecretBytes;
use crate::error::{Error, Result};
use crate::keyring::intermediate::{ProviderWrapped, INTERMEDIATE_KEY_LEN};
use crate::keyring::provider::{
    Claim, KeyProvider, UnwrapRequest, Unwrapped, WrapRequest, Wrapped,
};
use crate::keyring::raw_aes::check_namespace_and_name;
use crate::materials::EncryptedDataKey;
use crate::primitives::hmac_sha256;
use crate::primitives::provider::{OaepHash, RsaOaepPrivateKey, RsaOaepProvider};

/// RSA padding schemes of the MPL raw RSA keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaPadding {
    Pkcs1,
    OaepSha1Mgf1,
    OaepSha256Mgf1,
    OaepSha384Mgf1,
    OaepSha512Mgf1,
}

impl RsaPadding {
    /// All padding schemes.
    pub const ALL: [RsaPadding; 5] = [
        RsaPadding::Pkcs1,
        RsaPadding::OaepSha1Mgf1,
        RsaPadding::OaepSha256Mgf1,
        RsaPadding::OaepSha384Mgf1,
        RsaPadding::OaepSha512Mgf1,
    ];

    /// The MPL's name for the scheme (`PaddingScheme` enum), e.g. `"OAEP_SHA256_MGF1"`.
    pub fn name(self) -> &'static str {
        match self {
            RsaPadding::Pkcs1 => "PKCS1",
            RsaPadding::OaepSha1Mgf1 => "OAEP_SHA1_MGF1",
            RsaPadding::OaepSha256Mgf1 => "OAEP_SHA256_MGF1",
            RsaPadding::OaepSha384Mgf1 => "OAEP_SHA384_MGF1",
            RsaPadding::OaepSha512Mgf1 => "OAEP_SHA512_MGF1",
        }
    }

    /// Parse a padding name. Accepts the MPL names (`"PKCS1"`,
    /// `"OAEP_SHA256_MGF1"`, ...), case-insensitively, with `-` or `_`
    /// separators, the `_MGF1` suffix optional (`"oaep-sha256"`), and
    /// `"PKCS1_V1_5"` / `"PKCS1v15"` for PKCS #1 v1.5.
    pub fn parse(s: &str) -> Result<Self> {
        let norm = s.trim().to_ascii_uppercase().replace('-', "_");
        let norm = norm.strip_suffix("_MGF1").unwrap_or(&norm);
        let norm = norm.strip_suffix("_PADDING").unwrap_or(norm);
        Ok(match norm {
            "PKCS1" | "PKCS1_V1_5" | "PKCS1V15" | "PKCS1_V15" => RsaPadding::Pkcs1,
            "OAEP_SHA1" | "OAEP_SHA_1" | "OAEP_MGF1_SHA1" => RsaPadding::OaepSha1Mgf1,
            "OAEP_SHA256" | "OAEP_SHA_256" | "OAEP_MGF1_SHA256" => RsaPadding::OaepSha256Mgf1,
            "OAEP_SHA384" | "OAEP_SHA_384" | "OAEP_MGF1_SHA384" => RsaPadding::OaepSha384Mgf1,
            "OAEP_SHA512" | "OAEP_SHA_512" | "OAEP_MGF1_SHA512" => RsaPadding::OaepSha512Mgf1,
            _ => {
                return Err(Error::InvalidConfig(format!(
                    "unknown RSA padding {s:?} (use PKCS1, OAEP_SHA1_MGF1, OAEP_SHA256_MGF1, \
                     OAEP_SHA384_MGF1 or OAEP_SHA512_MGF1)"
                )))
            }
        })
    }

    /// RSA-encrypt `msg` (also the KMS RSA keyring's local sealing).
    pub(crate) fn encrypt(self, key: &RsaPublicKey, msg: &[u8]) -> rsa::Result<Vec<u8>> {
        let mut rng = OsRng;
        match self {
            RsaPadding::Pkcs1 => key.encrypt(&mut rng, Pkcs1v15Encrypt, msg),
            RsaPadding::OaepSha1Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), msg),
            RsaPadding::OaepSha256Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha2::Sha256>(), msg),
            RsaPadding::OaepSha384Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha2::Sha384>(), msg),
            RsaPadding::OaepSha512Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha2::Sha512>(), msg),
        }
    }

    /// The OAEP hash; `None` for PKCS #1 v1.5.
    pub fn oaep_hash(self) -> Option<OaepHash> {
        match self {
            RsaPadding::Pkcs1 => None,
            RsaPadding::OaepSha1Mgf1 => Some(OaepHash::Sha1),
            RsaPadding::OaepSha256Mgf1 => Some(OaepHash::Sha256),
            RsaPadding::OaepSha384Mgf1 => Some(OaepHash::Sha384),
            RsaPadding::OaepSha512Mgf1 => Some(OaepHash::Sha512),
        }
    }
}

impl std::fmt::Display for RsaPadding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for RsaPadding {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        RsaPadding::parse(s)
    }
}

/// Wraps data keys with an RSA public key; unwraps with the private key.
///
/// Decryption never tells one failure from another (no padding oracle): a
/// ciphertext that does not decrypt to a 32-byte key, for any reason, yields
/// a pseudo-random key instead (implicit rejection), which then fails the
/// encrypted data key's AES-GCM like a wrong key.
pub struct RawRsaKeyring {
    key_namespace: String,
    key_name: String,
    padding: RsaPadding,
    public_key: RsaPublicKey,
    decryptor: Option<Decryptor>,
}

/// The private key and how it decrypts.
struct Decryptor {
    /// `RsaPrivateKey` zeroizes itself on drop.
    key: RsaPrivateKey,
    /// Keys the implicit-rejection key of each ciphertext.
    rejection_secret: Zeroizing<[u8; 32]>,
    /// OAEP decryption by the platform, when the keyring was given one.
    platform: Option<Arc<dyn RsaOaepProvider>>,
    /// The platform's key, imported on first use. `Some(None)`: the platform
    /// refused the key, so Rust decrypts.
    platform_key: OnceLock<Option<Box<dyn RsaOaepPrivateKey>>>,
}

impl RawRsaKeyring {
    /// PEM SPKI public key and/or PEM PKCS#8 private key. Without a private key
    /// the keyring can encrypt but not decrypt.
    ///
    /// PKCS#1 PEM (`BEGIN RSA PUBLIC KEY` / `BEGIN RSA PRIVATE KEY`) is accepted
    /// too. With only a private key, the public key is derived from it; with
    /// both, they must belong together.
    pub fn new(
        key_namespace: &str,
        key_name: &str,
        padding: RsaPadding,
        public_key_pem: Option<&str>,
        private_key_pem: Option<&str>,
    ) -> Result<Self> {
        check_namespace_and_name(key_namespace, key_name)?;
        let private_key = private_key_pem.map(parse_private_key).transpose()?;
        let public_key = public_key_pem.map(parse_public_key).transpose()?;
        let public_key = match (public_key, &private_key) {
            (Some(public), Some(private)) => {
                if public.n() != private.n() || public.e() != private.e() {
                    return Err(Error::InvalidKey(
                        "the RSA public key does not belong to the private key".into(),
                    ));
                }
                public
            }
            (Some(public), None) => public,
            (None, Some(private)) => private.to_public_key(),
            (None, None) => {
                return Err(Error::InvalidConfig(
                    "a raw RSA keyring needs a public key and/or a private key".into(),
                ))
            }
        };
        Ok(RawRsaKeyring {
            key_namespace: key_namespace.to_owned(),
            key_name: key_name.to_owned(),
            padding,
            public_key,
            decryptor: private_key.map(Decryptor::new),
        })
    }

    /// Decrypt OAEP with `provider` (the platform's constant-time RSA) instead
    /// of the `rsa` crate, whose big-integer arithmetic is not constant-time
    /// (RUSTSEC-2023-0071). PKCS #1 v1.5 stays in Rust: WebCrypto has no
    /// RSAES-PKCS1-v1_5. If the provider refuses the key, Rust decrypts.
    pub fn with_oaep_provider(mut self, provider: Arc<dyn RsaOaepProvider>) -> Self {
        if let Some(decryptor) = &mut self.decryptor {
            if self.padding.oaep_hash().is_some() {
                decryptor.platform = Some(provider);
            }
        }
        self
    }

    /// Whether this keyring holds a private key and so can decrypt.
    pub fn can_decrypt(&self) -> bool {
        self.decryptor.is_some()
    }
}

fn parse_private_key(pem: &str) -> Result<RsaPrivateKey> {
    let pem = pem.trim();
    let key = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        RsaPrivateKey::from_pkcs1_pem(pem).ok()
    } else {
        RsaPrivateKey::from_pkcs8_pem(pem).ok()
    };
    key.ok_or_else(|| {
        Error::InvalidKey(
            "the RSA private key is not a PEM PKCS#8 (BEGIN PRIVATE KEY) or PKCS#1 \
             (BEGIN RSA PRIVATE KEY) RSA key"
                .into(),
        )
    })
}

/// A PEM SPKI or PKCS#1 RSA public key (also the KMS RSA keyring's).
pub(crate) fn parse_public_key(pem: &str) -> Result<RsaPublicKey> {
    let pem = pem.trim();
    let key = if pem.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
        RsaPublicKey::from_pkcs1_pem(pem).ok()
    } else {
        RsaPublicKey::from_public_key_pem(pem).ok()
    };
    key.ok_or_else(|| {
        Error::InvalidKey(
            "the RSA public key is not a PEM SubjectPublicKeyInfo (BEGIN PUBLIC KEY) or \
             PKCS#1 (BEGIN RSA PUBLIC KEY) RSA key of at most 4096 bits"
                .into(),
        )
    })
}

impl std::fmt::Debug for RawRsaKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawRsaKeyring")
            .field("key_namespace", &self.key_namespace)
            .field("key_name", &self.key_name)
            .field("padding", &self.padding)
            .field("can_decrypt", &self.decryptor.is_some())
            .field(
                "platform_oaep",
                &self
                    .decryptor
                    .as_ref()
                    .is_some_and(|d| d.platform.is_some()),
            )
            .finish_non_exhaustive()
    }
}

#[async_trait(?Send)]
impl KeyProvider for RawRsaKeyring {
    fn describe(&self) -> String {
        format!(
            "raw RSA keyring (namespace {:?}, name {:?}, padding {})",
            self.key_namespace, self.key_name, self.padding
        )
    }

    fn cannot_decrypt(&self) -> Option<String> {
        self.decryptor
            .is_none()
            .then(|| "has no private key, so it can encrypt but not decrypt".to_owned())
    }

    async fn wrap(&self, request: WrapRequest<'_>) -> Result<Wrapped> {
        let intermediate_key = request.fresh_intermediate_key()?;
        let wrapped = self
            .padding
            .encrypt(&self.public_key, intermediate_key.expose())
            .map_err(|e| Error::KeyProviderFailure(format!("RSA encryption failed: {e}")))?;
        Ok(Wrapped {
            intermediate_key,
            edk: ProviderWrapped {
                key_provider_id: self.key_namespace.clone(),
                key_provider_info: self.key_name.as_bytes().to_vec(),
                wrapped_intermediate_key: wrapped,
            },
            key_use: None,
        })
    }

    fn claim(&self, _index: usize, edk: &EncryptedDataKey) -> Result<Claim> {
        let mine = edk.key_provider_id == self.key_namespace
            && edk.key_provider_info == self.key_name.as_bytes()
            && !edk.ciphertext.is_empty();
        Ok(if mine { Claim::Mine } else { Claim::Skip })
    }

    /// Never an error: every failure is the implicit-rejection key, which
    /// then fails the encrypted data key's AES-GCM like a wrong key.
    async fn unwrap(&self, request: UnwrapRequest<'_>) -> Result<Unwrapped> {
        let Some(decryptor) = &self.decryptor else {
            return Ok(Unwrapped::Declined("no private key".into()));
        };
        let key = decryptor
            .unwrap_intermediate(self.padding, request.wrapped)
            .await;
        Ok(Unwrapped::Key(key, None))
    }
}

/// Domain separation for the implicit-rejection secret.
const REJECTION_LABEL: &[u8] = b"fieldseal raw RSA implicit rejection";

impl Decryptor {
    fn new(key: RsaPrivateKey) -> Self {
        // A secret only the private key determines: SHA-256 of the label and
        // `d` padded to the modulus size (as draft-irtf-cfrg-rsa-guidance's
        // key derivation key, with SHA-256 for HMAC keying).
        let k = key.size();
        let d = Zeroizing::new(key.d().to_bytes_be());
        let mut padded = Zeroizing::new(vec![0u8; k.max(d.len())]);
        let at = padded.len() - d.len();
        padded[at..].copy_from_slice(&d);
        let secret = sha2::Sha256::new()
            .chain_update(REJECTION_LABEL)
            .chain_update(&*padded)
            .finalize();
        Decryptor {
            key,
            rejection_secret: Zeroizing::new(secret.into()),
            platform: None,
            platform_key: OnceLock::new(),
        }
    }

    /// The intermediate key wrapped in `ciphertext`, or, if it does not
    /// decrypt to exactly 32 bytes for any reason, the ciphertext's rejection
    /// key: pseudo-random, the same for the same ciphertext, and chosen in
    /// constant time (implicit rejection, as OpenSSL's RSA PKCS #1 v1.5). So
    /// every failure is the later AES-GCM failure: one code, one message, the
    /// same work. Spec (padding): RFC 8017 7.1.2 and 7.2.2.
    async fn unwrap_intermediate(&self, padding: RsaPadding, ciphertext: &[u8]) -> SecretBytes {
        let rejection = Zeroizing::new(hmac_sha256(&*self.rejection_secret, &[ciphertext]));
        let (valid, message) = match (padding.oaep_hash(), self.platform_key(padding).await) {
            (Some(_), Some(key)) => match key.decrypt(ciphertext).await {
                Ok(m) if m.len() == INTERMEDIATE_KEY_LEN => {
                    let mut message = Zeroizing::new([0u8; INTERMEDIATE_KEY_LEN]);
                    message.copy_from_slice(&m);
                    (Choice::from(1), message)
                }
                _ => (Choice::from(0), Zeroizing::new([0u8; INTERMEDIATE_KEY_LEN])),
            },
            _ => self.decrypt_in_rust(padding, ciphertext),
        };
        let mut key = Zeroizing::new([0u8; INTERMEDIATE_KEY_LEN]);
        for (out, (m, r)) in key.iter_mut().zip(message.iter().zip(rejection.iter())) {
            *out = u8::conditional_select(r, m, valid);
        }
        SecretBytes::from_slice(&*key)
    }

    /// The platform's key for OAEP, imported on first use (PKCS#8 DER, which
    /// is zeroized when dropped here); `None` without a platform, for PKCS #1
    /// v1.5, or if the platform refused the key.
    async fn platform_key(&self, padding: RsaPadding) -> Option<&dyn RsaOaepPrivateKey> {
        let (platform, hash) = (self.platform.as_ref()?, padding.oaep_hash()?);
        if self.platform_key.get().is_none() {
            let imported = match self.key.to_pkcs8_der() {
                Ok(der) => platform
                    .import_oaep_private_key(der.as_bytes(), hash)
                    .await
                    .ok(),
                Err(_) => None,
            };
            // Concurrent first uses may both import; the first one is kept.
            let _ = self.platform_key.set(imported);
        }
        self.platform_key.get()?.as_deref()
    }

    /// Blinded RSA, then the padding checked in constant time for a 32-byte
    /// message. Returns (valid, message); the message is garbage when not
    /// valid. The ciphertext's length and its range are not secret.
    fn decrypt_in_rust(
        &self,
        padding: RsaPadding,
        ciphertext: &[u8],
    ) -> (Choice, Zeroizing<[u8; INTERMEDIATE_KEY_LEN]>) {
        let k = self.key.size();
        let invalid = || (Choice::from(0), Zeroizing::new([0u8; INTERMEDIATE_KEY_LEN]));
        if ciphertext.len() != k {
            return invalid();
        }
        let Ok(m) = rsa::hazmat::rsa_decrypt_and_check(
            &self.key,
            Some(&mut OsRng),
            &BigUint::from_bytes_be(ciphertext),
        ) else {
            return invalid();
        };
        let m = Zeroizing::new(m);
        let bytes = Zeroizing::new(m.to_bytes_be());
        if bytes.len() > k {
            return invalid();
        }
        let mut em = Zeroizing::new(vec![0u8; k]);
        em[k - bytes.len()..].copy_from_slice(&bytes);
        match padding.oaep_hash() {
            None => pkcs1_unpad(&em),
            Some(hash) => oaep_unpad(&em, hash),
        }
    }
}

/// RSAES-PKCS1-v1_5 decoding of a 32-byte message, in constant time.
/// Spec: RFC 8017 7.2.2 step 3: `EM = 0x00 || 0x02 || PS || 0x00 || M`, PS at
/// least 8 nonzero bytes. With |M| fixed, "the first zero after PS is at
/// k - 33" is the whole check.
fn pkcs1_unpad(em: &[u8]) -> (Choice, Zeroizing<[u8; INTERMEDIATE_KEY_LEN]>) {
    let mut message = Zeroizing::new([0u8; INTERMEDIATE_KEY_LEN]);
    let k = em.len();
    if k < INTERMEDIATE_KEY_LEN + 11 {
        return (Choice::from(0), message);
    }
    let separator = k - INTERMEDIATE_KEY_LEN - 1;
    let mut valid = em[0].ct_eq(&0) & em[1].ct_eq(&2) & em[separator].ct_eq(&0);
    for b in &em[2..separator] {
        valid &= !b.ct_eq(&0);
    }
    message.copy_from_slice(&em[separator + 1..]);
    (valid, message)
}

/// RSAES-OAEP decoding (MGF1 with the same hash, empty label) of a 32-byte
/// message, in constant time. Spec: RFC 8017 7.1.2 step 3:
/// `EM = 0x00 || maskedSeed || maskedDB`, `DB = lHash || PS (zeros) || 0x01 || M`.
/// The hash is a `dyn DynDigest`: one copy of this code for the four hashes
/// (it is off the hot path, and four monomorphized copies cost the wasm ~8 KB).
#[inline(never)]
fn oaep_unpad(em: &[u8], hash: OaepHash) -> (Choice, Zeroizing<[u8; INTERMEDIATE_KEY_LEN]>) {
    let mut message = Zeroizing::new([0u8; INTERMEDIATE_KEY_LEN]);
    let mut digest = new_digest(hash);
    let (k, h) = (em.len(), digest.output_size());
    if k < 2 * h + 2 + INTERMEDIATE_KEY_LEN {
        return (Choice::from(0), message);
    }
    let mut seed = Zeroizing::new(em[1..1 + h].to_vec());
    let mut db = Zeroizing::new(em[1 + h..].to_vec());
    mgf1_xor(digest.as_mut(), &mut seed, &db);
    mgf1_xor(digest.as_mut(), &mut db, &seed);
    let one = db.len() - INTERMEDIATE_KEY_LEN - 1;
    let label_hash = digest.finalize_reset();
    let mut valid = em[0].ct_eq(&0) & db[..h].ct_eq(&label_hash[..]) & db[one].ct_eq(&1);
    for b in &db[h..one] {
        valid &= b.ct_eq(&0);
    }
    message.copy_from_slice(&db[one + 1..]);
    (valid, message)
}

fn new_digest(hash: OaepHash) -> Box<dyn DynDigest> {
    match hash {
        OaepHash::Sha1 => Box::new(sha1::Sha1::default()),
        OaepHash::Sha256 => Box::new(sha2::Sha256::default()),
        OaepHash::Sha384 => Box::new(sha2::Sha384::default()),
        OaepHash::Sha512 => Box::new(sha2::Sha512::default()),
    }
}

/// `out ^= MGF1(seed, out.len())`. Spec: RFC 8017 B.2.1.
fn mgf1_xor(digest: &mut dyn DynDigest, out: &mut [u8], seed: &[u8]) {
    let h = digest.output_size();
    for (counter, chunk) in out.chunks_mut(h).enumerate() {
        digest.update(seed);
        digest.update(&(counter as u32).to_be_bytes());
        let mask = Zeroizing::new(digest.finalize_reset());
        for (o, m) in chunk.iter_mut().zip(mask.iter()) {
            *o ^= m;
        }
    }
}
