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

use async_trait::async_trait;
use rand_core::OsRng;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keyring::intermediate::{self, ProviderWrapped};
use crate::keyring::raw_aes::check_namespace_and_name;
use crate::keyring::Keyring;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, SecretBytes};

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

    fn encrypt(self, key: &RsaPublicKey, msg: &[u8]) -> rsa::Result<Vec<u8>> {
        let mut rng = OsRng;
        match self {
            RsaPadding::Pkcs1 => key.encrypt(&mut rng, Pkcs1v15Encrypt, msg),
            RsaPadding::OaepSha1Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), msg),
            RsaPadding::OaepSha256Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha2::Sha256>(), msg),
            RsaPadding::OaepSha384Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha2::Sha384>(), msg),
            RsaPadding::OaepSha512Mgf1 => key.encrypt(&mut rng, Oaep::new::<sha2::Sha512>(), msg),
        }
    }

    fn decrypt(self, key: &RsaPrivateKey, ct: &[u8]) -> rsa::Result<Vec<u8>> {
        // Blinded, so the private-key operation's timing does not depend on the ciphertext.
        let mut rng = OsRng;
        match self {
            RsaPadding::Pkcs1 => key.decrypt_blinded(&mut rng, Pkcs1v15Encrypt, ct),
            RsaPadding::OaepSha1Mgf1 => {
                key.decrypt_blinded(&mut rng, Oaep::new::<sha1::Sha1>(), ct)
            }
            RsaPadding::OaepSha256Mgf1 => {
                key.decrypt_blinded(&mut rng, Oaep::new::<sha2::Sha256>(), ct)
            }
            RsaPadding::OaepSha384Mgf1 => {
                key.decrypt_blinded(&mut rng, Oaep::new::<sha2::Sha384>(), ct)
            }
            RsaPadding::OaepSha512Mgf1 => {
                key.decrypt_blinded(&mut rng, Oaep::new::<sha2::Sha512>(), ct)
            }
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
pub struct RawRsaKeyring {
    key_namespace: String,
    key_name: String,
    padding: RsaPadding,
    public_key: RsaPublicKey,
    /// `RsaPrivateKey` zeroizes itself on drop.
    private_key: Option<RsaPrivateKey>,
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
            private_key,
        })
    }

    /// Whether this keyring holds a private key and so can decrypt.
    pub fn can_decrypt(&self) -> bool {
        self.private_key.is_some()
    }

    fn is_mine(&self, edk: &EncryptedDataKey) -> bool {
        edk.key_provider_id == self.key_namespace
            && edk.key_provider_info == self.key_name.as_bytes()
    }

    fn describe(&self) -> String {
        format!(
            "raw RSA keyring (namespace {:?}, name {:?}, padding {})",
            self.key_namespace, self.key_name, self.padding
        )
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

fn parse_public_key(pem: &str) -> Result<RsaPublicKey> {
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
            .field("can_decrypt", &self.private_key.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait(?Send)]
impl Keyring for RawRsaKeyring {
    async fn on_encrypt(&self, materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        intermediate::encrypt_materials(materials, |intermediate_key, _serialized_ec| {
            let wrapped = self
                .padding
                .encrypt(&self.public_key, intermediate_key.expose())
                .map_err(|e| Error::KeyProviderFailure(format!("RSA encryption failed: {e}")))?;
            Ok(ProviderWrapped {
                key_provider_id: self.key_namespace.clone(),
                key_provider_info: self.key_name.as_bytes().to_vec(),
                wrapped_intermediate_key: wrapped,
            })
        })
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        if materials.plaintext_data_key.is_some() {
            return Ok(materials);
        }
        let Some(private_key) = &self.private_key else {
            return Err(Error::NoMatchingKey {
                providers_seen: intermediate::providers_seen(encrypted_data_keys),
                detail: format!(
                    "{} has no private key, so it can encrypt but not decrypt",
                    self.describe()
                ),
            });
        };
        intermediate::decrypt_materials(
            materials,
            encrypted_data_keys,
            &self.describe(),
            |edk| self.is_mine(edk) && !edk.ciphertext.is_empty(),
            |_, wrapped, _serialized_ec| {
                // One message for every RSA failure: no padding oracle.
                let key = Zeroizing::new(
                    self.padding
                        .decrypt(private_key, wrapped)
                        .map_err(|_| Error::integrity("RSA decryption failed"))?,
                );
                Ok(SecretBytes::from_slice(&key))
            },
        )
    }
}
