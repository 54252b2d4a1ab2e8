//! MPL key manifests (`keys.json`) and key descriptions → fieldseal keyrings.

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

    /// Build the keyring a key description names; `None` means the default.
    pub fn keyring(&self, description: Option<&Value>) -> Result<Arc<dyn Keyring>, String> {
        match description {
            None => self.branch_key(DEFAULT_BRANCH_KEY),
            Some(d) => self.describe(d),
        }
    }

    fn describe(&self, d: &Value) -> Result<Arc<dyn Keyring>, String> {
        let field = |name: &str| -> Result<&str, String> {
            d.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("key description needs a string {name:?}: {d}"))
        };
        match field("type")? {
            "raw" => {
                let entry_name = field("key")?;
                let entry = self.entry(entry_name)?;
                let provider_id = field("provider-id")?;
                let key_id = str_field(entry, "key-id")?;
                match field("encryption-algorithm")? {
                    "aes" => {
                        let material = B64
                            .decode(str_field(entry, "material")?)
                            .map_err(|_| format!("key {entry_name:?}: material is not base64"))?;
                        let k = RawAesKeyring::new(provider_id, key_id, &material)
                            .map_err(|e| e.to_string())?;
                        Ok(Arc::new(k))
                    }
                    "rsa" => {
                        let padding =
                            rsa_padding(field("padding-algorithm")?, d.get("padding-hash"))?;
                        let (public, private) = self.rsa_pems(entry_name, entry)?;
                        let k = RawRsaKeyring::new(
                            provider_id,
                            key_id,
                            padding,
                            public.as_deref(),
                            private.as_deref(),
                        )
                        .map_err(|e| e.to_string())?;
                        Ok(Arc::new(k))
                    }
                    other => Err(format!("unsupported raw encryption-algorithm {other:?}")),
                }
            }
            "aws-kms-hierarchy" => self.branch_key(field("key")?),
            "multi-keyring" => {
                let generator = match d.get("generator") {
                    None | Some(Value::Null) => None,
                    Some(g) => Some(self.describe(g)?),
                };
                let children = match d.get("children") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(c)) => c
                        .iter()
                        .map(|c| self.describe(c))
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err("multi-keyring \"children\" must be an array".into()),
                };
                let k = MultiKeyring::new(generator, children).map_err(|e| e.to_string())?;
                Ok(Arc::new(k))
            }
            other => Err(format!("unsupported key description type {other:?}")),
        }
    }

    fn branch_key(&self, name: &str) -> Result<Arc<dyn Keyring>, String> {
        let entry = self.entry(name)?;
        if entry.get("type").and_then(Value::as_str) != Some("static-branch-key") {
            return Err(format!("key {name:?} is not a static-branch-key"));
        }
        let key = B64
            .decode(str_field(entry, "branchKey")?)
            .map_err(|_| format!("key {name:?}: branchKey is not base64"))?;
        let k = StaticBranchKeyKeyring::new(
            str_field(entry, "key-id")?,
            str_field(entry, "branchKeyVersion")?,
            &key,
        )
        .map_err(|e| e.to_string())?;
        Ok(Arc::new(k))
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
