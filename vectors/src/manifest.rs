//! The DB-ESDK test manifest formats (`aws-dbesdk-decrypt`, `aws-dbesdk-encrypt`)
//! and the item encryptor configs they carry, read as the official runner
//! reads them (TestVectors/dafny/DDBEncryption/src/JsonConfig.dfy and friends).

use std::path::{Path, PathBuf};

use fieldseal::{AlgorithmSuiteId, CryptoAction, ItemEncryptorConfig};
use serde_json::Value;

use crate::keys::KeyStore;

pub const DECRYPT_TYPE: &str = "aws-dbesdk-decrypt";
pub const ENCRYPT_TYPE: &str = "aws-dbesdk-encrypt";

/// Table defaults of the official vectors.
const DEFAULT_TABLE: &str = "GazelleVectorTable";
const DEFAULT_PARTITION_KEY: &str = "RecNum";

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

/// Build an encryptor config from a test's `config` object.
pub fn encryptor_config(config: &Value, keys: &KeyStore) -> Result<ItemEncryptorConfig, String> {
    let obj = config.as_object().ok_or("config must be an object")?;
    let mut actions = std::collections::BTreeMap::new();
    let mut cfg_key = None;
    let mut table = DEFAULT_TABLE.to_string();
    let mut partition_key = DEFAULT_PARTITION_KEY.to_string();
    let mut sort_key = None;
    let mut allowed = Vec::new();
    let mut prefix = None;
    let mut suite = AlgorithmSuiteId::default();
    let string = |k: &str, v: &Value| -> Result<String, String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("config {k:?} must be a string"))
    };
    for (k, v) in obj {
        match k.as_str() {
            "attributeActionsOnEncrypt" => {
                for (name, action) in v
                    .as_object()
                    .ok_or("attributeActionsOnEncrypt must be an object")?
                {
                    let action =
                        CryptoAction::parse(&string(name, action)?).map_err(|e| e.to_string())?;
                    actions.insert(name.clone(), action);
                }
            }
            "allowedUnsignedAttributes" => {
                allowed = v
                    .as_array()
                    .ok_or("allowedUnsignedAttributes must be an array")?
                    .iter()
                    .map(|a| string(k, a))
                    .collect::<Result<_, _>>()?;
            }
            "allowedUnsignedAttributePrefix" => prefix = Some(string(k, v)?),
            "algorithmSuiteId" => {
                suite = AlgorithmSuiteId::parse(&string(k, v)?).map_err(|e| e.to_string())?
            }
            "logicalTableName" => table = string(k, v)?,
            "partitionKeyName" => partition_key = string(k, v)?,
            "sortKeyName" => sort_key = Some(string(k, v)?),
            "key" => cfg_key = Some(v),
            other => return Err(format!("unsupported config member {other:?}")),
        }
    }
    let keyring = keys.keyring(cfg_key)?;
    let mut cfg = ItemEncryptorConfig::new(table, partition_key, actions, keyring);
    cfg.sort_key_name = sort_key;
    cfg.allowed_unsigned_attributes = allowed;
    cfg.allowed_unsigned_attribute_prefix = prefix;
    cfg.algorithm_suite_id = suite;
    Ok(cfg)
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
