//! ECDSA P-384 with SHA-384 for the footer signature (suite 0x6701).
//! Spec: framework/algorithm-suites.md (signature), structured-encryption/footer.md#signature

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use p384::ecdsa::signature::{RandomizedSigner, Verifier};
use p384::ecdsa::{Signature, SigningKey, VerifyingKey};
use rand_core::OsRng;

use crate::base::MaybeSendSync;
use crate::error::{Error, Result};
use crate::primitives::provider::SecureRandom;
use crate::suite::SIGNATURE_LEN;

/// Encryption context key under which the verification key travels.
pub const PUBLIC_KEY_CONTEXT_KEY: &str = "aws-crypto-public-key";

/// Draws before giving up on a P-384 private key: a 48-byte draw is a valid
/// scalar (nonzero, below the group order) with probability 1 - 2^-190.
const MAX_KEYGEN_ATTEMPTS: usize = 4;

/// Attempts before giving up on a 103-byte signature; each succeeds with
/// probability about 1/2, so running out means the RNG is broken.
const MAX_SIGN_ATTEMPTS: usize = 64;

/// An ECDSA signature as `r || s`, 48 bytes each (IEEE P1363, WebCrypto's form).
pub type P1363Signature = [u8; 96];

/// ECDSA P-384 with SHA-384, behind a small provider trait (as rustls'
/// `CryptoProvider`), so the wasm build can use the platform's WebCrypto,
/// which is several times faster than P-384 compiled to wasm. The wire bytes
/// do not depend on the provider: DER encoding and the 103-byte rule are here.
#[async_trait(?Send)]
pub trait EcdsaP384Provider: MaybeSendSync {
    /// A fresh key pair for one record. `random` is the operation's
    /// randomness; a platform that generates keys itself may ignore it.
    async fn generate_key(&self, random: &dyn SecureRandom)
        -> Result<Box<dyn EcdsaP384SigningKey>>;

    /// Whether `signature` is valid for `message` under the key given as a
    /// compressed SEC1 point (49 bytes). A malformed key is an error.
    async fn verify(
        &self,
        compressed_public_key: &[u8],
        message: &[u8],
        signature: &P1363Signature,
    ) -> Result<bool>;
}

/// A per-record signing key held by a provider.
#[async_trait(?Send)]
pub trait EcdsaP384SigningKey {
    /// The compressed SEC1 point (49 bytes).
    fn compressed_public_key(&self) -> Vec<u8>;

    /// A randomized signature over `message` (hashed with SHA-384).
    async fn sign(&self, message: &[u8]) -> Result<P1363Signature>;
}

/// The pure-Rust provider (RustCrypto `p384`): native builds, and the
/// fallback where no platform crypto exists.
#[derive(Debug, Default, Clone, Copy)]
pub struct RustCryptoEcdsa;

struct RustCryptoKey(SigningKey);

#[async_trait(?Send)]
impl EcdsaP384SigningKey for RustCryptoKey {
    fn compressed_public_key(&self) -> Vec<u8> {
        self.0
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec()
    }

    async fn sign(&self, message: &[u8]) -> Result<P1363Signature> {
        let sig: Signature = self
            .0
            .try_sign_with_rng(&mut OsRng, message)
            .map_err(|_| Error::KeyProviderFailure("ECDSA signing failed".into()))?;
        Ok(p1363(&sig))
    }
}

#[async_trait(?Send)]
impl EcdsaP384Provider for RustCryptoEcdsa {
    /// Rejection sampling over 48-byte draws (FIPS 186-5 A.2.2), so a
    /// failing source fails the operation instead of panicking.
    async fn generate_key(
        &self,
        random: &dyn SecureRandom,
    ) -> Result<Box<dyn EcdsaP384SigningKey>> {
        for _ in 0..MAX_KEYGEN_ATTEMPTS {
            let candidate = random.secret_bytes(48)?;
            if let Ok(key) = SigningKey::from_slice(candidate.expose()) {
                return Ok(Box::new(RustCryptoKey(key)));
            }
        }
        Err(Error::KeyProviderFailure(
            "could not draw an ECDSA P-384 key; the random number generator looks broken".into(),
        ))
    }

    async fn verify(
        &self,
        compressed_public_key: &[u8],
        message: &[u8],
        signature: &P1363Signature,
    ) -> Result<bool> {
        let key = VerifyingKey::from_sec1_bytes(compressed_public_key)
            .map_err(|_| Error::malformed("aws-crypto-public-key is not a P-384 point"))?;
        let Ok(sig) = Signature::from_slice(signature) else {
            return Ok(false);
        };
        Ok(key.verify(message, &sig).is_ok())
    }
}

/// The uncompressed SEC1 point (97 bytes) of a compressed one, for platform
/// APIs that only import uncompressed keys.
pub fn decompress_public_key(compressed: &[u8]) -> Result<Vec<u8>> {
    let key = VerifyingKey::from_sec1_bytes(compressed)
        .map_err(|_| Error::malformed("aws-crypto-public-key is not a P-384 point"))?;
    Ok(key.to_encoded_point(false).as_bytes().to_vec())
}

/// A fresh per-record signing key.
pub struct RecordSigner(Box<dyn EcdsaP384SigningKey>);

impl std::fmt::Debug for RecordSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordSigner(<redacted>)")
    }
}

impl RecordSigner {
    pub async fn generate(
        provider: &dyn EcdsaP384Provider,
        random: &dyn SecureRandom,
    ) -> Result<Self> {
        Ok(RecordSigner(provider.generate_key(random).await?))
    }

    /// The verification key as stored in the encryption context:
    /// base64 of the compressed SEC1 point.
    pub fn public_key_base64(&self) -> String {
        B64.encode(self.0.compressed_public_key())
    }

    /// DER signature over `message` (hashed with SHA-384), exactly 103 bytes:
    /// the format reserves that length, so we re-sign until it fits.
    pub async fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        for _ in 0..MAX_SIGN_ATTEMPTS {
            let raw = self.0.sign(message).await?;
            let sig = Signature::from_slice(&raw).map_err(|_| {
                Error::KeyProviderFailure("ECDSA signer returned an invalid signature".into())
            })?;
            // (r, s) and (r, n - s) are both valid; exactly one of them usually
            // gives the 103-byte encoding, which saves most re-signing.
            for candidate in [Some(sig), negate_s(&sig)].into_iter().flatten() {
                let der = candidate.to_der();
                if der.as_bytes().len() == SIGNATURE_LEN {
                    return Ok(der.as_bytes().to_vec());
                }
            }
        }
        Err(Error::KeyProviderFailure(
            "could not produce a 103-byte ECDSA signature; the random number generator looks broken"
                .into(),
        ))
    }
}

fn p1363(sig: &Signature) -> P1363Signature {
    let mut out = [0u8; 96];
    out.copy_from_slice(&sig.to_bytes());
    out
}

/// The other valid signature with the same `r`: `(r, n - s)`.
fn negate_s(sig: &Signature) -> Option<Signature> {
    let (r, s) = sig.split_scalars();
    Signature::from_scalars(r, -s).ok()
}

/// Verify a footer signature against the base64 verification key from the context.
pub async fn verify(
    provider: &dyn EcdsaP384Provider,
    public_key_base64: &str,
    message: &[u8],
    der_signature: &[u8],
) -> Result<()> {
    let point = B64
        .decode(public_key_base64)
        .map_err(|_| Error::malformed("aws-crypto-public-key is not valid base64"))?;
    let sig = Signature::from_der(der_signature)
        .map_err(|_| Error::integrity("footer signature is not a valid DER ECDSA signature"))?;
    let raw = p1363(&sig);
    if provider.verify(&point, message, &raw).await? {
        Ok(())
    } else {
        Err(Error::integrity(
            "footer signature does not verify (the item was modified)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::provider::SystemRandom;

    #[test]
    fn signs_exactly_103_bytes_and_verifies() {
        let provider = RustCryptoEcdsa;
        let signer = pollster::block_on(RecordSigner::generate(&provider, &SystemRandom)).unwrap();
        let pk = signer.public_key_base64();
        assert_eq!(B64.decode(&pk).unwrap().len(), 49);
        for i in 0..20u8 {
            let sig = pollster::block_on(signer.sign(&[i; 48])).unwrap();
            assert_eq!(sig.len(), SIGNATURE_LEN);
            pollster::block_on(verify(&provider, &pk, &[i; 48], &sig)).unwrap();
            let err = pollster::block_on(verify(&provider, &pk, &[i ^ 1; 48], &sig)).unwrap_err();
            assert_eq!(err.code(), "INTEGRITY_FAILURE");
        }
        let point = decompress_public_key(&B64.decode(&pk).unwrap()).unwrap();
        assert_eq!(point.len(), 97);
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!(
                "{:?}",
                pollster::block_on(RecordSigner::generate(&RustCryptoEcdsa, &SystemRandom))
                    .unwrap()
            ),
            "RecordSigner(<redacted>)"
        );
    }
}
