//! The DB-ESDK test manifest formats (`aws-dbesdk-decrypt`, `aws-dbesdk-encrypt`)
//! and the item encryptor configs they carry, read as the official runner
//! reads them (TestVectors/dafny/DDBEncryption/src/JsonConfig.dfy and friends).
//! The one reader of the format: this crate's runner and the interop oracle
//! (tests/interop, through this library) both use it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fieldseal::{AlgorithmSuiteId, CryptoAction, ItemEncryptorConfig, Keyring};
use serde_json::Value;

use crate::keys::KeyStore;

pub const DECRYPT_TYPE: &str = "aws-dbesdk-decrypt";
pub const ENCRYPT_TYPE: &str = "aws-dbesdk-encrypt";

/// Table defaults of the official vectors.
pub const DEFAULT_TABLE: &str = "GazelleVectorTable";
pub const DEFAULT_PARTITION_KEY: &str = "RecNum";

/// A loaded manifest: its tests in file order, and the keys it points at.
pub struct Manifest {
    pub tests: Vec<(String, Value)>,
    pub keys: KeyStore,
    /// Absolute path of the keys manifest, for writing references to it.
    pub keys_path: PathBuf,
}

impl Manifest {
    pub fn load(path: &Path, expected_type: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read manifest {}: {e}", path.display()))?;
        let json: Value = serde_json::from_str(&text)
            .map_err(|e| format!("manifest {} is not valid JSON: {e}", path.display()))?;
        let kind = json
            .pointer("/manifest/type")
            .and_then(Value::as_str)
            .ok_or("manifest has no manifest.type")?;
        if kind != expected_type {
            return Err(format!(
                "manifest type is {kind:?}, this command needs {expected_type:?}"
            ));
        }
        let keys_ref = json
            .get("keys")
            .and_then(Value::as_str)
            .ok_or("manifest has no \"keys\" reference")?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let keys_path = resolve_file_uri(dir, keys_ref)?;
        let keys = KeyStore::load(&keys_path)?;
        let tests = json
            .get("tests")
            .and_then(Value::as_object)
            .ok_or("manifest has no \"tests\" object")?
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Manifest {
            tests,
            keys,
            keys_path: keys_path.canonicalize().unwrap_or(keys_path),
        })
    }
}

/// `file://relative/or/absolute` resolved against the manifest's folder.
fn resolve_file_uri(dir: &Path, uri: &str) -> Result<PathBuf, String> {
    let path = uri
        .strip_prefix("file://")
        .ok_or_else(|| format!("keys reference {uri:?} is not a file:// URI"))?;
    let path = Path::new(path);
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    })
}

/// The table side of a test's `config` object: everything an item encryptor
/// is configured with besides its keyring. Read once here for every runner
/// (`DDBEncryption/src/JsonConfig.dfy`); the interop oracle configures both
/// SDKs from it.
#[derive(Clone, Debug)]
pub struct TableConfig {
    pub logical_table_name: String,
    pub partition_key_name: String,
    pub sort_key_name: Option<String>,
    pub actions: BTreeMap<String, CryptoAction>,
    pub allowed_unsigned_attributes: Vec<String>,
    pub allowed_unsigned_attribute_prefix: Option<String>,
    pub suite: AlgorithmSuiteId,
}

impl TableConfig {
    /// Read a `config` object: the table, and `config.key` unresolved
    /// (`None`: the default key). An unknown member is an error, as in the
    /// official runner.
    pub fn parse(config: &Value) -> Result<(Self, Option<Value>), String> {
        let obj = config.as_object().ok_or("config must be an object")?;
        let mut t = TableConfig {
            logical_table_name: DEFAULT_TABLE.to_string(),
            partition_key_name: DEFAULT_PARTITION_KEY.to_string(),
            sort_key_name: None,
            actions: BTreeMap::new(),
            allowed_unsigned_attributes: Vec::new(),
            allowed_unsigned_attribute_prefix: None,
            suite: AlgorithmSuiteId::default(),
        };
        let mut key = None;
        for (k, v) in obj {
            match k.as_str() {
                "attributeActionsOnEncrypt" => t.actions = actions(v)?,
                "allowedUnsignedAttributes" => {
                    t.allowed_unsigned_attributes = v
                        .as_array()
                        .ok_or("allowedUnsignedAttributes must be an array")?
                        .iter()
                        .map(|a| string(k, a))
                        .collect::<Result<_, _>>()?;
                }
                "allowedUnsignedAttributePrefix" => {
                    t.allowed_unsigned_attribute_prefix = Some(string(k, v)?)
                }
                "algorithmSuiteId" => {
                    t.suite = AlgorithmSuiteId::parse(&string(k, v)?).map_err(|e| e.to_string())?
                }
                "logicalTableName" => t.logical_table_name = string(k, v)?,
                "partitionKeyName" => t.partition_key_name = string(k, v)?,
                "sortKeyName" => t.sort_key_name = Some(string(k, v)?),
                "key" => key = Some(v.clone()),
                other => return Err(format!("unsupported config member {other:?}")),
            }
        }
        Ok((t, key))
    }

    /// Whether `name` is outside the signature scope under this config.
    pub fn is_unsigned(&self, name: &str) -> bool {
        self.allowed_unsigned_attributes.iter().any(|a| a == name)
            || self
                .allowed_unsigned_attribute_prefix
                .as_deref()
                .is_some_and(|p| name.starts_with(p))
    }

    /// The fieldseal item encryptor config, with `keyring`.
    pub fn encryptor_config(&self, keyring: Arc<dyn Keyring>) -> ItemEncryptorConfig {
        let mut cfg = ItemEncryptorConfig::new(
            self.logical_table_name.clone(),
            self.partition_key_name.clone(),
            self.actions.clone(),
            keyring,
        );
        cfg.sort_key_name = self.sort_key_name.clone();
        cfg.allowed_unsigned_attributes = self.allowed_unsigned_attributes.clone();
        cfg.allowed_unsigned_attribute_prefix = self.allowed_unsigned_attribute_prefix.clone();
        cfg.algorithm_suite_id = self.suite;
        cfg
    }
}

fn string(k: &str, v: &Value) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("config {k:?} must be a string"))
}

/// `attributeActionsOnEncrypt`: attribute name to action name.
fn actions(v: &Value) -> Result<BTreeMap<String, CryptoAction>, String> {
    v.as_object()
        .ok_or("attributeActionsOnEncrypt must be an object")?
        .iter()
        .map(|(name, action)| {
            let action = CryptoAction::parse(&string(name, action)?).map_err(|e| e.to_string())?;
            Ok((name.clone(), action))
        })
        .collect()
}

/// Build a fieldseal encryptor config from a test's `config` object.
pub fn encryptor_config(config: &Value, keys: &KeyStore) -> Result<ItemEncryptorConfig, String> {
    let (table, key) = TableConfig::parse(config)?;
    let keyring = keys.keyring(key.as_ref())?;
    Ok(table.encryptor_config(keyring))
}

/// A string member of a test object.
pub fn test_str<'a>(test: &'a Value, name: &str) -> Result<&'a str, String> {
    test.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("test needs a string {name:?}"))
}

/// An object member of a test object.
pub fn test_obj<'a>(test: &'a Value, name: &str) -> Result<&'a Value, String> {
    test.get(name)
        .filter(|v| v.is_object())
        .ok_or_else(|| format!("test needs an object {name:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_defaults_are_the_official_vectors_table() {
        let (t, key) =
            TableConfig::parse(&json!({"attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY"}}))
                .unwrap();
        assert_eq!(t.logical_table_name, "GazelleVectorTable");
        assert_eq!(t.partition_key_name, "RecNum");
        assert_eq!(t.sort_key_name, None);
        assert_eq!(t.actions["RecNum"], CryptoAction::SignOnly);
        assert_eq!(
            t.suite,
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384
        );
        assert!(key.is_none());
    }

    #[test]
    fn config_members_are_read_and_unknown_ones_refused() {
        let (t, key) = TableConfig::parse(&json!({
            "logicalTableName": "T", "partitionKeyName": "P", "sortKeyName": "S",
            "allowedUnsignedAttributes": ["a"], "allowedUnsignedAttributePrefix": "u:",
            "algorithmSuiteId": "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384",
            "key": {"type": "raw"}
        }))
        .unwrap();
        assert_eq!(
            (t.logical_table_name.as_str(), t.partition_key_name.as_str()),
            ("T", "P")
        );
        assert_eq!(t.sort_key_name.as_deref(), Some("S"));
        assert_eq!(t.allowed_unsigned_attributes, ["a"]);
        assert_eq!(t.allowed_unsigned_attribute_prefix.as_deref(), Some("u:"));
        assert_eq!(
            t.suite,
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384
        );
        assert_eq!(key, Some(json!({"type": "raw"})));
        assert!(t.is_unsigned("a") && t.is_unsigned("u:x"));
        assert!(!t.is_unsigned("b") && !t.is_unsigned("u"));
        let e = TableConfig::parse(&json!({"beacons": []})).err().unwrap();
        assert!(e.contains("unsupported config member \"beacons\""), "{e}");
        let e = TableConfig::parse(&json!({"sortKeyName": 1}))
            .err()
            .unwrap();
        assert!(e.contains("must be a string"), "{e}");
    }
}
