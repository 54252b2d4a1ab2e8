//! MPL key manifests (`keys.json`) and key descriptions (`config.key`).
//!
//! A description is resolved into a [`KeyDescription`], which says what the
//! keyring is without building one, so that each runner builds its own: this
//! crate's runner a fieldseal keyring ([`KeyDescription::keyring`]), the
//! interop oracle (tests/interop) the official SDK's.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fieldseal::keyring::{
    MultiKeyring, RawAesKeyring, RawRsaKeyring, RsaPadding, StaticBranchKeyKeyring,
};
use fieldseal::Keyring;
use serde_json::Value;

/// The key used when a test's config names none, as in the official runner.
pub const DEFAULT_BRANCH_KEY: &str = "static-branch-key-1";

/// A key description resolved against the keys manifest. No `Debug`: it
/// holds key material.
#[derive(Clone)]
pub enum KeyDescription {
    /// `{"type":"raw","encryption-algorithm":"aes",...}`
    RawAes {
        provider_id: String,
        key_id: String,
        key: Vec<u8>,
    },
    /// `{"type":"raw","encryption-algorithm":"rsa","padding-algorithm",
    /// "padding-hash",...}`; an entry holds one half of the pair, the other
    /// half is the entry of the other type with the same `key-id`.
    RawRsa {
        provider_id: String,
        key_id: String,
        padding: RsaPadding,
        public_pem: Option<String>,
        private_pem: Option<String>,
    },
    /// `{"type":"aws-kms-hierarchy","key":NAME}`, or no description at all
    /// (the default key): a `static-branch-key` entry.
    StaticBranchKey {
        key_id: String,
        version: String,
        key: Vec<u8>,
    },
    /// `{"type":"multi-keyring","generator":DESC|null,"children":[DESC...]}`
    Multi {
        generator: Option<Box<KeyDescription>>,
        children: Vec<KeyDescription>,
    },
}

impl KeyDescription {
    /// The fieldseal keyring this description names.
    pub fn keyring(&self) -> Result<Arc<dyn Keyring>, String> {
        let e = |e: fieldseal::Error| e.to_string();
        Ok(match self {
            KeyDescription::RawAes {
                provider_id,
                key_id,
                key,
            } => Arc::new(RawAesKeyring::new(provider_id, key_id, key).map_err(e)?),
            KeyDescription::RawRsa {
                provider_id,
                key_id,
                padding,
                public_pem,
                private_pem,
            } => Arc::new(
                RawRsaKeyring::new(
                    provider_id,
                    key_id,
                    *padding,
                    public_pem.as_deref(),
                    private_pem.as_deref(),
                )
                .map_err(e)?,
            ),
            KeyDescription::StaticBranchKey {
                key_id,
                version,
                key,
            } => Arc::new(StaticBranchKeyKeyring::new(key_id, version, key).map_err(e)?),
            KeyDescription::Multi {
                generator,
                children,
            } => {
                let generator = generator.as_deref().map(Self::keyring).transpose()?;
                let children = children
                    .iter()
                    .map(Self::keyring)
                    .collect::<Result<_, _>>()?;
                Arc::new(MultiKeyring::new(generator, children).map_err(e)?)
            }
        })
    }
}

/// The `keys` object of a keys manifest.
pub struct KeyStore {
    entries: BTreeMap<String, Value>,
}

impl KeyStore {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read keys manifest {}: {e}", path.display()))?;
        let json: Value = serde_json::from_str(&text)
            .map_err(|e| format!("keys manifest {} is not JSON: {e}", path.display()))?;
        let entries = json
            .get("keys")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("keys manifest {} has no \"keys\" object", path.display()))?
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(KeyStore { entries })
    }

    fn entry(&self, name: &str) -> Result<&Value, String> {
        self.entries
            .get(name)
            .ok_or_else(|| format!("key {name:?} is not in the keys manifest"))
    }

    /// Build the fieldseal keyring a key description names; `None` means the default.
    pub fn keyring(&self, description: Option<&Value>) -> Result<Arc<dyn Keyring>, String> {
        self.resolve(description)?.keyring()
    }

    /// Resolve a test's key description; `None` means the default key.
    pub fn resolve(&self, description: Option<&Value>) -> Result<KeyDescription, String> {
        match description {
            None => self.branch_key(DEFAULT_BRANCH_KEY),
            Some(d) => self.describe(d),
        }
    }

    fn describe(&self, d: &Value) -> Result<KeyDescription, String> {
        let field = |name: &str| -> Result<&str, String> {
            d.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("key description needs a string {name:?}: {d}"))
        };
        match field("type")? {
            "raw" => self.raw(d, field("key")?, field("provider-id")?),
            "aws-kms-hierarchy" => self.branch_key(field("key")?),
            "multi-keyring" => {
                let generator = match d.get("generator") {
                    None | Some(Value::Null) => None,
                    Some(g) => Some(Box::new(self.describe(g)?)),
                };
                let children = match d.get("children") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(c)) => c
                        .iter()
                        .map(|c| self.describe(c))
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err("multi-keyring \"children\" must be an array".into()),
                };
                Ok(KeyDescription::Multi {
                    generator,
                    children,
                })
            }
            other => Err(format!("unsupported key description type {other:?}")),
        }
    }

    /// A `raw` description of the entry `entry_name`.
    fn raw(
        &self,
        d: &Value,
        entry_name: &str,
        provider_id: &str,
    ) -> Result<KeyDescription, String> {
        let entry = self.entry(entry_name)?;
        let provider_id = provider_id.to_owned();
        let key_id = str_field(entry, "key-id")?.to_owned();
        let algorithm = d.get("encryption-algorithm").and_then(Value::as_str);
        match algorithm {
            Some("aes") => {
                let key = B64
                    .decode(str_field(entry, "material")?)
                    .map_err(|_| format!("key {entry_name:?}: material is not base64"))?;
                Ok(KeyDescription::RawAes {
                    provider_id,
                    key_id,
                    key,
                })
            }
            Some("rsa") => {
                let padding_algorithm = d
                    .get("padding-algorithm")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        format!("key description needs a string \"padding-algorithm\": {d}")
                    })?;
                let padding = rsa_padding(padding_algorithm, d.get("padding-hash"))?;
                let (public_pem, private_pem) = self.rsa_pems(entry_name, entry)?;
                Ok(KeyDescription::RawRsa {
                    provider_id,
                    key_id,
                    padding,
                    public_pem,
                    private_pem,
                })
            }
            Some(other) => Err(format!("unsupported raw encryption-algorithm {other:?}")),
            None => Err(format!(
                "key description needs a string \"encryption-algorithm\": {d}"
            )),
        }
    }

    fn branch_key(&self, name: &str) -> Result<KeyDescription, String> {
        let entry = self.entry(name)?;
        if entry.get("type").and_then(Value::as_str) != Some("static-branch-key") {
            return Err(format!("key {name:?} is not a static-branch-key"));
        }
        let key = B64
            .decode(str_field(entry, "branchKey")?)
            .map_err(|_| format!("key {name:?}: branchKey is not base64"))?;
        Ok(KeyDescription::StaticBranchKey {
            key_id: str_field(entry, "key-id")?.to_owned(),
            version: str_field(entry, "branchKeyVersion")?.to_owned(),
            key,
        })
    }

    /// An RSA entry is either the private or the public half; the other half
    /// is the entry of the other type with the same `key-id`.
    fn rsa_pems(
        &self,
        name: &str,
        entry: &Value,
    ) -> Result<(Option<String>, Option<String>), String> {
        let key_id = str_field(entry, "key-id")?;
        let half = |kind: &str| -> Option<String> {
            self.entries
                .values()
                .find(|e| {
                    e.get("algorithm").and_then(Value::as_str) == Some("rsa")
                        && e.get("type").and_then(Value::as_str) == Some(kind)
                        && e.get("key-id").and_then(Value::as_str) == Some(key_id)
                })
                .and_then(|e| e.get("material").and_then(Value::as_str).map(str::to_owned))
        };
        match str_field(entry, "type")? {
            "private" => Ok((
                half("public"),
                Some(str_field(entry, "material")?.to_owned()),
            )),
            "public" => Ok((Some(str_field(entry, "material")?.to_owned()), None)),
            other => Err(format!(
                "key {name:?} has RSA type {other:?}, expected private or public"
            )),
        }
    }
}

fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("key entry needs a string {name:?}"))
}

fn rsa_padding(algorithm: &str, hash: Option<&Value>) -> Result<RsaPadding, String> {
    match (algorithm, hash.and_then(Value::as_str)) {
        ("pkcs1", _) => Ok(RsaPadding::Pkcs1),
        ("oaep-mgf1", Some("sha1")) => Ok(RsaPadding::OaepSha1Mgf1),
        ("oaep-mgf1", Some("sha256")) => Ok(RsaPadding::OaepSha256Mgf1),
        ("oaep-mgf1", Some("sha384")) => Ok(RsaPadding::OaepSha384Mgf1),
        ("oaep-mgf1", Some("sha512")) => Ok(RsaPadding::OaepSha512Mgf1),
        (a, h) => Err(format!("unsupported RSA padding {a:?} with hash {h:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> KeyStore {
        let entries = json!({
            "aes": {"type": "symmetric", "algorithm": "aes", "key-id": "aes-id", "material": B64.encode([7u8; 32])},
            "rsa-private": {"type": "private", "algorithm": "rsa", "key-id": "rsa-id", "material": "PRIVATE PEM"},
            "rsa-public": {"type": "public", "algorithm": "rsa", "key-id": "rsa-id", "material": "PUBLIC PEM"},
            DEFAULT_BRANCH_KEY: {"type": "static-branch-key", "key-id": "bk", "branchKeyVersion": "v1", "branchKey": B64.encode([9u8; 32])}
        });
        KeyStore {
            entries: entries
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn an_rsa_private_entry_brings_its_public_half() {
        let d = json!({"type": "raw", "encryption-algorithm": "rsa", "provider-id": "ns",
                       "key": "rsa-private", "padding-algorithm": "oaep-mgf1", "padding-hash": "sha256"});
        let Ok(KeyDescription::RawRsa {
            provider_id,
            key_id,
            padding,
            public_pem,
            private_pem,
        }) = store().resolve(Some(&d))
        else {
            panic!("not a raw RSA description")
        };
        assert_eq!((provider_id.as_str(), key_id.as_str()), ("ns", "rsa-id"));
        assert_eq!(padding, RsaPadding::OaepSha256Mgf1);
        assert_eq!(public_pem.as_deref(), Some("PUBLIC PEM"));
        assert_eq!(private_pem.as_deref(), Some("PRIVATE PEM"));
    }

    #[test]
    fn no_description_is_the_default_branch_key_and_multi_nests() {
        let Ok(KeyDescription::StaticBranchKey {
            key_id,
            version,
            key,
        }) = store().resolve(None)
        else {
            panic!("not the static branch key")
        };
        assert_eq!((key_id.as_str(), version.as_str()), ("bk", "v1"));
        assert_eq!(key, [9u8; 32]);
        let aes = json!({"type": "raw", "encryption-algorithm": "aes", "provider-id": "ns", "key": "aes"});
        let d = json!({"type": "multi-keyring", "generator": null, "children": [aes]});
        let Ok(KeyDescription::Multi {
            generator: None,
            children,
        }) = store().resolve(Some(&d))
        else {
            panic!("not a multi-keyring without generator")
        };
        assert!(matches!(&children[..], [KeyDescription::RawAes { key, .. }] if *key == [7u8; 32]));
    }

    #[test]
    fn bad_descriptions_say_what_is_wrong() {
        let s = store();
        for (d, want) in [
            (
                json!({"type": "aws-kms"}),
                "unsupported key description type",
            ),
            (
                json!({"type": "raw", "provider-id": "ns", "key": "nope", "encryption-algorithm": "aes"}),
                "not in the keys manifest",
            ),
            (
                json!({"type": "raw", "provider-id": "ns", "key": "aes", "encryption-algorithm": "des"}),
                "unsupported raw encryption-algorithm",
            ),
            (
                json!({"type": "raw", "provider-id": "ns", "key": "rsa-public", "encryption-algorithm": "rsa", "padding-algorithm": "oaep-mgf1"}),
                "unsupported RSA padding",
            ),
            (
                json!({"type": "aws-kms-hierarchy", "key": "aes"}),
                "is not a static-branch-key",
            ),
            (
                json!({"type": "multi-keyring", "children": {}}),
                "must be an array",
            ),
        ] {
            let e = s
                .resolve(Some(&d))
                .err()
                .unwrap_or_else(|| panic!("{d} resolved"));
            assert!(e.contains(want), "{d}: {e}");
        }
    }
}
