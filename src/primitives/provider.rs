//! The crypto the core may hand to the platform, behind small traits, as
//! rustls' `CryptoProvider`: a wasm build runs inside an engine whose native
//! ECDSA, AES-GCM and SHA-384 are many times faster than the same code
//! compiled to wasm, and whose RSA is hardened against timing attacks. The
//! wire format never depends on who computes: keys, nonces, AAD, DER and the
//! canonical bytes are all decided in the core.

use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha384};
use zeroize::Zeroizing;

use crate::base::{MaybeSendSync, SecretBytes};
use crate::error::{Error, Result};
use crate::primitives::signature::{EcdsaP384Provider, RustCryptoEcdsa};

/// Cryptographically secure random bytes: data keys, intermediate keys,
/// IVs, salts, message ids. Fallible, because a platform without a CSPRNG
/// must fail the operation rather than hand out predictable bytes.
pub trait SecureRandom: MaybeSendSync {
    /// Fill `buf` entirely, or fail.
    fn fill(&self, buf: &mut [u8]) -> Result<()>;

    /// `len` fresh secret bytes.
    fn secret_bytes(&self, len: usize) -> Result<SecretBytes> {
        let mut buf = Zeroizing::new(vec![0u8; len]);
        self.fill(&mut buf)?;
        Ok(SecretBytes::new(std::mem::take(&mut *buf)))
    }
}

impl dyn SecureRandom + '_ {
    /// `N` fresh random bytes that are not secret (IVs, salts, message ids).
    pub fn array<const N: usize>(&self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        self.fill(&mut out)?;
        Ok(out)
    }
}

impl std::fmt::Debug for dyn SecureRandom + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecureRandom")
    }
}

/// The operating system's CSPRNG (`getrandom`; `crypto.getRandomValues` in
/// wasm, where the wasm layer plugs in a pooled source instead). Native
/// builds draw directly: a pool would survive `fork` and repeat itself in
/// the child.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl SecureRandom for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<()> {
        getrandom::getrandom(buf)
            .map_err(|e| Error::KeyProviderFailure(format!("random number generator failed: {e}")))
    }
}

thread_local! {
    /// One shared handle, so default materials cost no allocation.
    static SYSTEM_RANDOM: Arc<dyn SecureRandom> = Arc::new(SystemRandom);
}

/// The default randomness: [`SystemRandom`], shared.
pub fn system_random() -> Arc<dyn SecureRandom> {
    SYSTEM_RANDOM.with(Arc::clone)
}

/// AES-256-GCM and SHA-384 for large inputs. Calling the platform costs a
/// round trip (and in a browser a promise), so only inputs of at least
/// [`BulkCrypto::min_len`] bytes go through it; smaller ones stay in Rust.
#[async_trait(?Send)]
pub trait BulkCrypto: MaybeSendSync {
    /// The crossover, in bytes, from which the platform is faster.
    fn min_len(&self) -> usize;

    /// `ciphertext || tag` (16-byte tag).
    async fn aes256_gcm_seal(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>>;

    /// The plaintext of `ciphertext || tag`; a tag that does not verify is an
    /// [`crate::Error::IntegrityFailure`].
    async fn aes256_gcm_open(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>>;

    async fn sha384(&self, data: &[u8]) -> Result<[u8; 48]>;
}

/// Who computes what. The default is pure Rust (RustCrypto) throughout.
#[derive(Clone)]
pub struct CryptoProvider {
    pub ecdsa: Arc<dyn EcdsaP384Provider>,
    /// `None`: every input stays in Rust.
    pub bulk: Option<Arc<dyn BulkCrypto>>,
    /// Every random byte an operation draws: the item encryptor's message
    /// id, and, through the encryption materials, every keyring's.
    pub random: Arc<dyn SecureRandom>,
}

impl Default for CryptoProvider {
    fn default() -> Self {
        CryptoProvider {
            ecdsa: Arc::new(RustCryptoEcdsa),
            bulk: None,
            random: system_random(),
        }
    }
}

impl std::fmt::Debug for CryptoProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CryptoProvider")
            .field("bulk_min_len", &self.bulk.as_ref().map(|b| b.min_len()))
            .finish_non_exhaustive()
    }
}

impl CryptoProvider {
    /// The bulk provider, when an input of `len` bytes is worth sending to it.
    pub fn bulk_for(&self, len: usize) -> Option<&dyn BulkCrypto> {
        self.bulk.as_deref().filter(|b| len >= b.min_len())
    }

    /// AES-256-GCM seal, by the bulk provider for large inputs.
    pub async fn aes256_gcm_seal(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        match self.bulk_for(plaintext.len()) {
            Some(bulk) => bulk.aes256_gcm_seal(key, nonce, aad, plaintext).await,
            None => super::aes_gcm_encrypt(key, nonce, aad, plaintext),
        }
    }

    /// AES-256-GCM open, by the bulk provider for large inputs.
    pub async fn aes256_gcm_open(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>> {
        match self.bulk_for(sealed.len()) {
            Some(bulk) => bulk.aes256_gcm_open(key, nonce, aad, sealed).await,
            None => super::aes_gcm_decrypt(key, nonce, aad, sealed),
        }
    }

    /// SHA-384 of the concatenation of `parts`. The platform's digest is
    /// one-shot, so large inputs are gathered into one buffer first; small
    /// ones are hashed as they stream.
    pub async fn sha384(&self, parts: &[&[u8]]) -> Result<[u8; 48]> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        match self.bulk_for(total) {
            Some(bulk) => bulk.sha384(&parts.concat()).await,
            None => {
                let mut h = Sha384::new();
                for p in parts {
                    h.update(p);
                }
                Ok(h.finalize().into())
            }
        }
    }
}

/// The hash of RSA-OAEP (MGF1 uses the same hash; the label is empty), as
/// the MPL's raw RSA keyring uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OaepHash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl OaepHash {
    /// The WebCrypto name of the hash, e.g. `"SHA-256"`.
    pub fn webcrypto_name(self) -> &'static str {
        match self {
            OaepHash::Sha1 => "SHA-1",
            OaepHash::Sha256 => "SHA-256",
            OaepHash::Sha384 => "SHA-384",
            OaepHash::Sha512 => "SHA-512",
        }
    }
}

/// RSA-OAEP decryption by the platform: the `rsa` crate's big-integer
/// arithmetic is not constant-time (RUSTSEC-2023-0071), the platform's
/// (BoringSSL, OpenSSL) is. The raw RSA keyring imports its private key once
/// and keeps the returned key.
#[async_trait(?Send)]
pub trait RsaOaepProvider: MaybeSendSync {
    /// Import a PKCS#8 DER RSA private key for OAEP with `hash`. The caller
    /// zeroizes `pkcs8_der`; an implementation must not keep a copy of it.
    async fn import_oaep_private_key(
        &self,
        pkcs8_der: &[u8],
        hash: OaepHash,
    ) -> Result<Box<dyn RsaOaepPrivateKey>>;
}

/// A private key imported by an [`RsaOaepProvider`].
#[async_trait(?Send)]
pub trait RsaOaepPrivateKey: MaybeSendSync {
    /// The OAEP message of `ciphertext`. Any failure is an error; callers
    /// must not let its kind or text reach their own errors (the raw RSA
    /// keyring's implicit rejection hides it).
    async fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
}

/// ECDH key agreement (SP 800-56A: Z is the x-coordinate of d·Q) for the
/// raw ECDH keyring, so the platform's ECDH (WebCrypto `deriveBits`) can do
/// it; [`super::ecdh::RustCryptoEcdh`] is the default.
///
/// Obligations:
/// - Keys come in checked: the private key parsed by the core (its scalar,
///   and PKCS#8 DER re-encoded by the core, for platforms that import), the
///   public key a point that the core has verified is on the key's curve and
///   not the identity. An implementation need not validate again.
/// - Z is returned whole: exactly the curve's field length (32, 48 or 66
///   bytes), big-endian, never hashed or truncated. The core checks the
///   length and fails the operation otherwise.
/// - Nothing secret leaves the provider, and no copy of the key bytes or of
///   Z is kept beyond the call. A provider owned by one keyring may keep a
///   non-extractable platform handle of a key it imported (a WebCrypto
///   `CryptoKey`), dropped with the provider, so it imports each key once.
/// - `ephemeral_agree` draws a fresh key pair for every call and forgets its
///   private key once Z is computed. It may use its own CSPRNG instead of
///   `random`. It returns the ephemeral public key (SEC1, compressed or
///   not), which the core validates and compresses for the EDK.
#[async_trait(?Send)]
pub trait EcdhProvider: MaybeSendSync {
    /// Z of a static private key and a peer's public key (of the same curve).
    async fn agree(
        &self,
        private: &super::ecdh::EcPrivateKey,
        public: &super::ecdh::EcPublicKey,
    ) -> Result<SecretBytes>;

    /// A fresh ephemeral key pair on `public`'s curve: (its public key, Z with `public`).
    async fn ephemeral_agree(
        &self,
        public: &super::ecdh::EcPublicKey,
        random: &dyn SecureRandom,
    ) -> Result<(Vec<u8>, SecretBytes)>;
}
