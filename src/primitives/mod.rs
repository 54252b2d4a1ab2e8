//! The cryptographic primitives the format uses, as small functions over the
//! RustCrypto crates. Nothing here knows about items or headers.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha384, Sha512};
use subtle::ConstantTimeEq;

use crate::base::SecretBytes;
use crate::error::{Error, Result};

pub mod ecdh;
pub mod provider;
pub mod signature;

type Aes192Gcm = AesGcm<aes::Aes192, aes_gcm::aead::consts::U12>;

/// HKDF-SHA512 extract-and-expand. `salt = None` means the RFC 5869 default (zeros).
pub fn hkdf_sha512(ikm: &[u8], salt: Option<&[u8]>, info: &[&[u8]], len: usize) -> SecretBytes {
    let hk = hkdf::Hkdf::<Sha512>::new(salt, ikm);
    let mut out = vec![0u8; len];
    hk.expand_multi_info(info, &mut out)
        .expect("HKDF-SHA512 output lengths used by the format are far below 255*64");
    SecretBytes::new(out)
}

/// HMAC-SHA384 over the concatenation of `parts`.
pub fn hmac_sha384(key: &[u8], parts: &[&[u8]]) -> [u8; 48] {
    let mut mac = <Hmac<Sha384> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA512 over the concatenation of `parts`.
pub fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> [u8; 64] {
    let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 over the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// SHA-384 of `data`.
pub fn sha384(data: &[u8]) -> [u8; 48] {
    Sha384::digest(data).into()
}

/// Constant-time equality, for MACs, tags and commitments.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// AES-GCM encryption with a 12-byte nonce and 16-byte tag; returns `ciphertext || tag`.
/// The key length (16, 24 or 32 bytes) selects AES-128/192/256.
pub fn aes_gcm_encrypt(key: &[u8], nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let nonce = gcm_nonce(nonce)?;
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    let out = match key.len() {
        16 => Aes128Gcm::new_from_slice(key).map(|c| c.encrypt(nonce, payload)),
        24 => Aes192Gcm::new_from_slice(key).map(|c| c.encrypt(nonce, payload)),
        32 => Aes256Gcm::new_from_slice(key).map(|c| c.encrypt(nonce, payload)),
        n => {
            return Err(Error::InvalidKey(format!(
                "AES key must be 16, 24 or 32 bytes, got {n}"
            )))
        }
    };
    out.map_err(|_| Error::InvalidKey("AES key setup failed".into()))?
        .map_err(|_| Error::LimitExceeded("AES-GCM plaintext too long".into()))
}

/// AES-GCM decryption of `ciphertext || tag`; a bad tag is an [`Error::IntegrityFailure`].
pub fn aes_gcm_decrypt(key: &[u8], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
    let nonce = gcm_nonce(nonce)?;
    let payload = Payload { msg: sealed, aad };
    let out = match key.len() {
        16 => Aes128Gcm::new_from_slice(key).map(|c| c.decrypt(nonce, payload)),
        24 => Aes192Gcm::new_from_slice(key).map(|c| c.decrypt(nonce, payload)),
        32 => Aes256Gcm::new_from_slice(key).map(|c| c.decrypt(nonce, payload)),
        n => {
            return Err(Error::InvalidKey(format!(
                "AES key must be 16, 24 or 32 bytes, got {n}"
            )))
        }
    };
    out.map_err(|_| Error::InvalidKey("AES key setup failed".into()))?
        .map_err(|_| Error::integrity("AES-GCM authentication tag did not verify"))
}

fn gcm_nonce(nonce: &[u8]) -> Result<&Nonce<aes_gcm::aead::consts::U12>> {
    if nonce.len() != 12 {
        return Err(Error::malformed(format!(
            "AES-GCM nonce must be 12 bytes, got {}",
            nonce.len()
        )));
    }
    Ok(Nonce::from_slice(nonce))
}

/// The AES-256-CTR keystream for `key` and a 16-byte initial counter block.
pub fn aes256_ctr_stream(key: &[u8; 32], counter_block: &[u8; 16], len: usize) -> SecretBytes {
    use ctr::cipher::{KeyIvInit, StreamCipher};
    let mut out = vec![0u8; len];
    let mut cipher = ctr::Ctr128BE::<aes::Aes256>::new(key.into(), counter_block.into());
    cipher.apply_keystream(&mut out);
    SecretBytes::new(out)
}

/// NIST SP 800-108 KDF in counter mode with HMAC-SHA256 as the PRF, exactly as
/// the MPL implements it (`KdfCtr.dfy`): block `i` (counting from 1) is
/// `HMAC-SHA256(key, [i]_32BE || label || 0x00 || context || [L]_32BE)`, where
/// `L` is the output length in bits; the blocks are concatenated and truncated.
/// The hierarchical keyring uses it with label `"aws-kms-hierarchy"` and the
/// 16-byte EDK salt as context to derive its 32-byte wrapping key.
pub fn kdf_ctr_hmac_sha256(key: &[u8], label: &[u8], context: &[u8], len: usize) -> SecretBytes {
    kdf_ctr::<Hmac<sha2::Sha256>>(key, label, context, len)
}

/// [`kdf_ctr_hmac_sha256`] with HMAC-SHA384 as the PRF (the MPL's
/// `KdfCounterMode` with `SHA_384`). The ECDH keyrings use it with their
/// FixedInfo as the label and the EDK's 32-byte salt as the context
/// (the MPL's `purpose` and `nonce`) to derive 64 bytes.
pub fn kdf_ctr_hmac_sha384(key: &[u8], label: &[u8], context: &[u8], len: usize) -> SecretBytes {
    kdf_ctr::<Hmac<Sha384>>(key, label, context, len)
}

fn kdf_ctr<M: Mac + hmac::digest::KeyInit>(
    key: &[u8],
    label: &[u8],
    context: &[u8],
    len: usize,
) -> SecretBytes {
    let length_bits = u32::try_from(len * 8).expect("KDF output length fits in 32 bits");
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(len + 64));
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(&counter.to_be_bytes());
        mac.update(label);
        mac.update(&[0x00]);
        mac.update(context);
        mac.update(&length_bits.to_be_bytes());
        let block = zeroize::Zeroizing::new(mac.finalize().into_bytes().to_vec());
        out.extend_from_slice(&block);
        counter += 1;
    }
    out.truncate(len);
    SecretBytes::new(std::mem::take(&mut *out))
}
