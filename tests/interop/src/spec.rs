//! One description of a table configuration and of a keyring, turned into
//! both a fieldseal encryptor and an official `aws-db-esdk` item encryptor,
//! so the two sides are configured with the same names, keys and actions.

use std::sync::{Arc, OnceLock};

use fieldseal::keyring::{MultiKeyring, RawAesKeyring, RawRsaKeyring, RsaPadding};
use fieldseal::{AlgorithmSuiteId, ItemEncryptor, ItemEncryptorConfig, Keyring};

/// The table side of an item encryptor configuration: the manifest reader's
/// (`fieldseal-vectors`), so a manifest's `config` and the matrix's tables are
/// one type.
pub use fieldseal_vectors::manifest::TableConfig as TableSpec;

/// A keyring, described so that both implementations can build it.
#[derive(Clone, Debug)]
pub enum KeySpec {
    Aes {
        namespace: String,
        name: String,
        key: Vec<u8>,
    },
    Rsa {
        namespace: String,
        name: String,
        padding: RsaPadding,
        public_pem: Option<String>,
        private_pem: Option<String>,
    },
    Multi {
        generator: Option<Box<KeySpec>>,
        children: Vec<KeySpec>,
    },
}

impl KeySpec {
    /// A short label for test output, e.g. `aes-256`, `rsa-oaep-sha256`, `multi(aes-256+[rsa-pkcs1])`.
    pub fn label(&self) -> String {
        match self {
            KeySpec::Aes { key, .. } => format!("aes-{}", key.len() * 8),
            KeySpec::Rsa {
                padding,
                public_pem,
                private_pem,
                ..
            } => {
                let p = padding_label(*padding);
                match (public_pem.is_some(), private_pem.is_some()) {
                    (true, true) | (false, false) => format!("rsa-{p}"),
                    (true, false) => format!("rsa-{p}(public only)"),
                    (false, true) => format!("rsa-{p}(private only)"),
                }
            }
            KeySpec::Multi {
                generator,
                children,
            } => format!(
                "multi({}+[{}])",
                generator.as_ref().map_or("-".into(), |g| g.label()),
                children
                    .iter()
                    .map(|c| c.label())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

pub fn padding_label(p: RsaPadding) -> &'static str {
    match p {
        RsaPadding::Pkcs1 => "pkcs1",
        RsaPadding::OaepSha1Mgf1 => "oaep-sha1",
        RsaPadding::OaepSha256Mgf1 => "oaep-sha256",
        RsaPadding::OaepSha384Mgf1 => "oaep-sha384",
        RsaPadding::OaepSha512Mgf1 => "oaep-sha512",
    }
}

pub const ALL_PADDINGS: [RsaPadding; 5] = [
    RsaPadding::Pkcs1,
    RsaPadding::OaepSha1Mgf1,
    RsaPadding::OaepSha256Mgf1,
    RsaPadding::OaepSha384Mgf1,
    RsaPadding::OaepSha512Mgf1,
];

pub const BOTH_SUITES: [AlgorithmSuiteId; 2] = [
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
];

/// A PEM key pair: SPKI public key, PKCS#8 private key.
#[derive(Clone, Debug)]
pub struct RsaPems {
    pub public_pem: String,
    pub private_pem: String,
}

/// A 2048-bit RSA key pair generated once per process (tests and benches
/// need a fixed key for both sides, not a particular one).
pub fn fixed_rsa_keys() -> &'static RsaPems {
    static KEYS: OnceLock<RsaPems> = OnceLock::new();
    KEYS.get_or_init(|| {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let private =
            rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key generation");
        let public = rsa::RsaPublicKey::from(&private);
        RsaPems {
            public_pem: public.to_public_key_pem(LineEnding::LF).expect("SPKI PEM"),
            private_pem: private
                .to_pkcs8_pem(LineEnding::LF)
                .expect("PKCS#8 PEM")
                .to_string(),
        }
    })
}

/// Fixed, recognizable AES key bytes of the given length (16, 24 or 32).
pub fn aes_key_bytes(len: usize) -> Vec<u8> {
    (0..len as u8)
        .map(|i| i.wrapping_mul(7).wrapping_add(3))
        .collect()
}

pub fn aes_spec(bits: usize) -> KeySpec {
    KeySpec::Aes {
        namespace: "fieldseal-interop".into(),
        name: format!("aes-{bits}-key"),
        key: aes_key_bytes(bits / 8),
    }
}

pub fn rsa_spec(padding: RsaPadding) -> KeySpec {
    let pems = fixed_rsa_keys();
    KeySpec::Rsa {
        namespace: "fieldseal-interop".into(),
        name: format!("rsa-2048-{}", padding_label(padding)),
        padding,
        public_pem: Some(pems.public_pem.clone()),
        private_pem: Some(pems.private_pem.clone()),
    }
}

// ---------------------------------------------------------------- fieldseal side

pub fn fieldseal_keyring(spec: &KeySpec) -> fieldseal::Result<Arc<dyn Keyring>> {
    Ok(match spec {
        KeySpec::Aes {
            namespace,
            name,
            key,
        } => Arc::new(RawAesKeyring::new(namespace, name, key)?),
        KeySpec::Rsa {
            namespace,
            name,
            padding,
            public_pem,
            private_pem,
        } => Arc::new(RawRsaKeyring::new(
            namespace,
            name,
            *padding,
            public_pem.as_deref(),
            private_pem.as_deref(),
        )?),
        KeySpec::Multi {
            generator,
            children,
        } => {
            let generator = generator.as_deref().map(fieldseal_keyring).transpose()?;
            let children = children
                .iter()
                .map(fieldseal_keyring)
                .collect::<fieldseal::Result<Vec<_>>>()?;
            Arc::new(MultiKeyring::new(generator, children)?)
        }
    })
}

pub fn fieldseal_config(
    table: &TableSpec,
    keys: &KeySpec,
) -> fieldseal::Result<ItemEncryptorConfig> {
    Ok(table.encryptor_config(fieldseal_keyring(keys)?))
}

pub fn fieldseal_encryptor(table: &TableSpec, keys: &KeySpec) -> fieldseal::Result<ItemEncryptor> {
    ItemEncryptor::new(fieldseal_config(table, keys)?)
}
