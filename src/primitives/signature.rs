//! ECDSA P-384 with SHA-384 for the footer signature (suite 0x6701).
//! Spec: framework/algorithm-suites.md (signature), structured-encryption/footer.md#signature

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use p384::ecdsa::signature::{RandomizedSigner, Verifier};
use p384::ecdsa::{Signature, SigningKey, VerifyingKey};
use rand_core::OsRng;

use crate::error::{Error, Result};
use crate::suite::SIGNATURE_LEN;

/// Encryption context key under which the verification key travels.
pub const PUBLIC_KEY_CONTEXT_KEY: &str = "aws-crypto-public-key";

/// Attempts before giving up on a 103-byte signature; each succeeds with
/// probability about 1/2, so running out means the RNG is broken.
const MAX_SIGN_ATTEMPTS: usize = 64;

/// A fresh per-record signing key. The inner key zeroizes itself on drop.
pub struct RecordSigner(SigningKey);

impl std::fmt::Debug for RecordSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordSigner(<redacted>)")
    }
}

impl RecordSigner {
    pub fn generate() -> Self {
        RecordSigner(SigningKey::random(&mut OsRng))
    }

    /// The verification key as stored in the encryption context:
    /// base64 of the compressed SEC1 point.
    pub fn public_key_base64(&self) -> String {
        let point = self.0.verifying_key().to_encoded_point(true);
        B64.encode(point.as_bytes())
    }

    /// DER signature over `message` (hashed with SHA-384), exactly 103 bytes:
    /// the format reserves that length, so we re-sign until it fits.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        for _ in 0..MAX_SIGN_ATTEMPTS {
            let sig: Signature = self
                .0
                .try_sign_with_rng(&mut OsRng, message)
                .map_err(|_| Error::KeyProviderFailure("ECDSA signing failed".into()))?;
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

/// The other valid signature with the same `r`: `(r, n - s)`.
fn negate_s(sig: &Signature) -> Option<Signature> {
    let (r, s) = sig.split_scalars();
    Signature::from_scalars(r, -s).ok()
}

/// Verify a footer signature against the base64 verification key from the context.
pub fn verify(public_key_base64: &str, message: &[u8], der_signature: &[u8]) -> Result<()> {
    let point = B64
        .decode(public_key_base64)
        .map_err(|_| Error::malformed("aws-crypto-public-key is not valid base64"))?;
    let key = VerifyingKey::from_sec1_bytes(&point)
        .map_err(|_| Error::malformed("aws-crypto-public-key is not a P-384 point"))?;
    let sig = Signature::from_der(der_signature)
        .map_err(|_| Error::integrity("footer signature is not a valid DER ECDSA signature"))?;
    key.verify(message, &sig)
        .map_err(|_| Error::integrity("footer signature does not verify (the item was modified)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_exactly_103_bytes_and_verifies() {
        let signer = RecordSigner::generate();
        let pk = signer.public_key_base64();
        assert_eq!(B64.decode(&pk).unwrap().len(), 49);
        for i in 0..20u8 {
            let sig = signer.sign(&[i; 48]).unwrap();
            assert_eq!(sig.len(), SIGNATURE_LEN);
            verify(&pk, &[i; 48], &sig).unwrap();
            let err = verify(&pk, &[i ^ 1; 48], &sig).unwrap_err();
            assert_eq!(err.code(), "INTEGRITY_FAILURE");
        }
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", RecordSigner::generate()),
            "RecordSigner(<redacted>)"
        );
    }
}
