//! The npm package (`pkg/dist`) from the interop tests, through the project's
//! Node tools (`tests/js/tools/*.mjs`): whether it can run here, and one run
//! of a tool on a JSON hand-off (`node TOOL IN.json OUT.json`, as
//! `encrypt-manifest.mjs` is run). Items cross as typed DynamoDB JSON with B
//! as base64 ([`crate::manifest::item_to_json`]), the form the JS tools read.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::spec::TableSpec;

/// The repository root: two levels above this crate's manifest directory
/// (tests/interop).
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

/// `Ok` if the package is built and `node` runs; else what is missing, and
/// how to get it.
pub fn package_ready() -> Result<(), String> {
    let entry = repo_root().join("pkg/dist/index.js");
    if !entry.is_file() {
        return Err(format!(
            "the npm package is not built ({} is missing): run `npm --prefix pkg run build` \
             (scripts/test.sh interop builds it)",
            entry.display()
        ));
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("`node --version` failed ({})", out.status)),
        Err(e) => Err(format!(
            "cannot run node: {e} (scripts/setup.sh web installs it)"
        )),
    }
}

/// What one tool run produced.
pub struct ToolRun {
    /// Whether the tool exited 0 (its own verdict on every item).
    pub success: bool,
    /// OUT.json.
    pub output: Value,
    /// What it printed (stdout, then stderr), for failure messages.
    pub log: String,
}

/// Runs `node tests/js/tools/<tool> IN.json OUT.json` from the repository
/// root with `input` as IN.json, in a temporary folder removed afterwards.
/// An error means the tool wrote no readable OUT.json; a tool that reports
/// failed items still returns its output, with `success` false.
pub fn run_tool(tool: &str, input: &Value) -> Result<ToolRun, String> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "fieldseal-interop-node-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let outcome = run_in(&dir, tool, input);
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn run_in(dir: &Path, tool: &str, input: &Value) -> Result<ToolRun, String> {
    let (in_path, out_path) = (dir.join("in.json"), dir.join("out.json"));
    let text = serde_json::to_string(input).map_err(|e| format!("IN.json: {e}"))?;
    std::fs::write(&in_path, text).map_err(|e| format!("write {}: {e}", in_path.display()))?;
    let root = repo_root();
    let script = root.join("tests/js/tools").join(tool);
    let out = Command::new("node")
        .arg(&script)
        .arg(&in_path)
        .arg(&out_path)
        .current_dir(&root)
        .output()
        .map_err(|e| format!("cannot run node {}: {e}", script.display()))?;
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let output = std::fs::read_to_string(&out_path)
        .map_err(|e| format!("no OUT.json ({e})"))
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("OUT.json: {e}")))
        .map_err(|why| {
            format!(
                "node {tool} exited {}: {why}; it printed:\n{log}",
                out.status
            )
        })?;
    Ok(ToolRun {
        success: out.status.success(),
        output,
        log,
    })
}

/// Entry `index` of a tool's OUT.json list `list`, if it is the case
/// `label` and the tool says it succeeded (`ok`); else why not, naming
/// `who` (the plug-in, the npm package) as what failed.
pub fn tool_result<'a>(
    output: &'a Value,
    list: &str,
    index: usize,
    label: &str,
    who: &str,
) -> Result<&'a Value, String> {
    let result = output
        .get(list)
        .and_then(|l| l.get(index))
        .ok_or_else(|| format!("OUT.json has no {list}[{index}]"))?;
    let got = result.get("label").and_then(Value::as_str);
    if got != Some(label) {
        return Err(format!("OUT.json's {list}[{index}] is {got:?}"));
    }
    if result.get("ok") != Some(&Value::Bool(true)) {
        return Err(format!(
            "{who} failed: {}",
            result
                .get("why")
                .and_then(Value::as_str)
                .unwrap_or("(no reason given)")
        ));
    }
    Ok(result)
}

/// Key bytes (a DER public key) for a tool's keyring options: `{ base64 }`,
/// which `tests/js/tools/ecdh-interop.mjs` turns back into a `Uint8Array`.
pub fn bytes_json(bytes: &[u8]) -> Value {
    json!({ "base64": B64.encode(bytes) })
}

/// `table` as the npm package's `ItemEncryptor` config (the DB-ESDK's names,
/// as a manifest's `config` has them), without the keyring.
pub fn encryptor_config_json(table: &TableSpec) -> Value {
    let actions: Map<String, Value> = table
        .actions
        .iter()
        .map(|(name, action)| (name.clone(), json!(action.name())))
        .collect();
    let mut config = json!({
        "logicalTableName": table.logical_table_name,
        "partitionKeyName": table.partition_key_name,
        "attributeActionsOnEncrypt": actions,
        "allowedUnsignedAttributes": table.allowed_unsigned_attributes,
        "algorithmSuiteId": table.suite.name(),
    });
    if let Some(sort_key) = &table.sort_key_name {
        config["sortKeyName"] = json!(sort_key);
    }
    if let Some(prefix) = &table.allowed_unsigned_attribute_prefix {
        config["allowedUnsignedAttributePrefix"] = json!(prefix);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use fieldseal::{AlgorithmSuiteId, CryptoAction};

    /// The config written for Node reads back (through the manifest reader,
    /// which refuses unknown names) as the same table.
    #[test]
    fn encryptor_config_json_reads_back() {
        for (sort_key, prefix) in [(Some("sk"), Some(":")), (None, None)] {
            let table = TableSpec {
                logical_table_name: "T".into(),
                partition_key_name: "pk".into(),
                sort_key_name: sort_key.map(str::to_owned),
                actions: [
                    (
                        "pk".to_string(),
                        CryptoAction::SignAndIncludeInEncryptionContext,
                    ),
                    ("secret".to_string(), CryptoAction::EncryptAndSign),
                    ("loose".to_string(), CryptoAction::DoNothing),
                ]
                .into(),
                allowed_unsigned_attributes: vec!["loose".into()],
                allowed_unsigned_attribute_prefix: prefix.map(str::to_owned),
                suite: AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
            };
            let (back, key) = TableSpec::parse(&encryptor_config_json(&table)).unwrap();
            assert!(key.is_none());
            assert_eq!(back.logical_table_name, table.logical_table_name);
            assert_eq!(back.partition_key_name, table.partition_key_name);
            assert_eq!(back.sort_key_name, table.sort_key_name);
            assert_eq!(back.actions, table.actions);
            assert_eq!(
                back.allowed_unsigned_attributes,
                table.allowed_unsigned_attributes
            );
            assert_eq!(
                back.allowed_unsigned_attribute_prefix,
                table.allowed_unsigned_attribute_prefix
            );
            assert_eq!(back.suite, table.suite);
        }
    }
}
