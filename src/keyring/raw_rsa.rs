//! Raw RSA keyring. Spec: framework/raw-rsa-keyring.md
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaPadding {
    Pkcs1,
    OaepSha1Mgf1,
    OaepSha256Mgf1,
    OaepSha384Mgf1,
    OaepSha512Mgf1,
}

pub struct RawRsaKeyring {}

impl RawRsaKeyring {
    /// PEM SPKI public key and/or PEM PKCS#8 private key. Without a private key
    /// the keyring can encrypt but not decrypt.
    pub fn new(
        key_namespace: &str,
        key_name: &str,
        padding: RsaPadding,
        public_key_pem: Option<&str>,
        private_key_pem: Option<&str>,
    ) -> Result<Self> {
        let _ = (key_namespace, key_name, padding, public_key_pem, private_key_pem);
        todo!()
    }
}
