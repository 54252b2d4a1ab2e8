//! `fieldseal-vectors`: runs the DB-ESDK's JSON test manifests against fieldseal.
//!
//! ```text
//! fieldseal-vectors decrypt MANIFEST.json          # an aws-dbesdk-decrypt manifest
//! fieldseal-vectors encrypt MANIFEST.json OUT.json # aws-dbesdk-encrypt in, aws-dbesdk-decrypt out
//! ```
//! One line per test, then `N passed, M failed`; the exit code is 0 only if
//! every test passed, 1 if one failed, 2 if the manifest could not be run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::ExitCode;

use fieldseal::item::json::{item_from_json, item_to_json};
use fieldseal::item::serialize::canonicalize;
use fieldseal::{Item, ItemEncryptor};
use serde_json::{json, Map, Value};

use fieldseal_vectors::manifest::{
    encryptor_config, test_obj, test_str, Manifest, DECRYPT_TYPE, ENCRYPT_TYPE,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["decrypt", manifest] => run_decrypt(Path::new(manifest)),
        ["encrypt", manifest, out] => run_encrypt(Path::new(manifest), Path::new(out)),
        _ => Err("usage: fieldseal-vectors decrypt MANIFEST.json\n       \
                  fieldseal-vectors encrypt MANIFEST.json OUT.json"
            .to_string()),
    };
    match result {
        Ok(tally) => tally.finish(),
        Err(e) => {
            eprintln!("fieldseal-vectors: {e}");
            ExitCode::from(2)
        }
    }
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

impl Tally {
    fn record(&mut self, id: &str, description: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                self.passed += 1;
                println!("PASS {id} {description}");
            }
            Err(e) => {
                self.failed += 1;
                println!("FAIL {id} {description}: {e}");
            }
        }
    }

    fn finish(self) -> ExitCode {
        println!("{} passed, {} failed", self.passed, self.failed);
        if self.failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// Run one test body, turning a panic into a loud failure instead of an abort.
fn guarded(f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("PANIC (a bug in fieldseal): {msg}"))
    })
}

fn error_text(e: fieldseal::Error) -> String {
    format!("{}: {e}", e.code())
}

fn canonical(item: &Item) -> Result<Item, String> {
    item.iter()
        .map(|(k, v)| Ok((k.clone(), canonicalize(v).map_err(error_text)?)))
        .collect()
}

fn run_decrypt(path: &Path) -> Result<Tally, String> {
    let manifest = Manifest::load(path, DECRYPT_TYPE)?;
    let mut tally = Tally::default();
    for (id, test) in &manifest.tests {
        let description = test
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let outcome = guarded(|| decrypt_test(&manifest, test));
        tally.record(id, description, outcome);
    }
    Ok(tally)
}

fn decrypt_test(manifest: &Manifest, test: &Value) -> Result<(), String> {
    let positive = match test_str(test, "type")? {
        "positive-decrypt" => true,
        "negative-decrypt" => false,
        other => return Err(format!("unknown decrypt test type {other:?}")),
    };
    let config = encryptor_config(test_obj(test, "config")?, &manifest.keys)?;
    let encrypted = item_from_json(test_obj(test, "encrypted")?).map_err(error_text)?;
    let result =
        ItemEncryptor::new(config).and_then(|enc| pollster::block_on(enc.decrypt_item(&encrypted)));
    match (positive, result) {
        (true, Ok(item)) => {
            let expected = item_from_json(test_obj(test, "plaintext")?).map_err(error_text)?;
            if canonical(&item)? == canonical(&expected)? {
                Ok(())
            } else {
                Err("decrypted item differs from the manifest's plaintext".into())
            }
        }
        (true, Err(e)) => Err(error_text(e)),
        (false, Ok(_)) => Err("decryption succeeded but the test expects it to fail".into()),
        (false, Err(_)) => Ok(()),
    }
}

fn run_encrypt(path: &Path, out: &Path) -> Result<Tally, String> {
    let manifest = Manifest::load(path, ENCRYPT_TYPE)?;
    let mut tally = Tally::default();
    let mut written = Map::new();
    for (id, test) in &manifest.tests {
        let description = test
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let outcome = guarded(|| {
            if let Some(t) = encrypt_test(&manifest, test)? {
                written.insert(id.clone(), t);
            }
            Ok(())
        });
        tally.record(id, description, outcome);
    }
    let decrypt_manifest = json!({
        "manifest": {"type": DECRYPT_TYPE, "version": "1"},
        "client": {"name": "fieldseal", "version": env!("CARGO_PKG_VERSION")},
        "keys": keys_reference(&manifest.keys_path, out),
        "tests": Value::Object(written),
    });
    let text = serde_json::to_string_pretty(&decrypt_manifest).expect("JSON values always print");
    std::fs::write(out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(tally)
}

/// Encrypt one test's record; returns the decrypt test to write, if any.
/// Mirrors the official EncryptManifest: `positive-encrypt` becomes a
/// `positive-decrypt`, `negative-decrypt` is sealed and written as such, and
/// `negative-encrypt` must fail and writes nothing.
fn encrypt_test(manifest: &Manifest, test: &Value) -> Result<Option<Value>, String> {
    let (kind, must_fail) = match test_str(test, "type")? {
        "positive-encrypt" => ("positive-decrypt", false),
        "negative-decrypt" => ("negative-decrypt", false),
        "negative-encrypt" => ("", true),
        other => return Err(format!("unknown encrypt test type {other:?}")),
    };
    let config = test_obj(test, "config")?;
    let record = test_obj(test, "record")?;
    let plaintext = item_from_json(record).map_err(error_text);
    let sealed = plaintext.and_then(|item| {
        let enc =
            ItemEncryptor::new(encryptor_config(config, &manifest.keys)?).map_err(error_text)?;
        pollster::block_on(enc.encrypt_item(&item)).map_err(error_text)
    });
    match (must_fail, sealed) {
        (true, Err(_)) => Ok(None),
        (true, Ok(_)) => Err("encryption succeeded but the test expects it to fail".into()),
        (false, Err(e)) => Err(e),
        (false, Ok(sealed)) => Ok(Some(json!({
            "type": kind,
            "description": test.get("description").cloned().unwrap_or(Value::Null),
            "config": test.get("decryptConfig").unwrap_or(config),
            "plaintext": record,
            "encrypted": item_to_json(&sealed),
        }))),
    }
}

/// `file://keys.json` when the keys sit beside the output (as the official
/// runner writes it), otherwise the absolute path.
fn keys_reference(keys_path: &Path, out: &Path) -> String {
    let out_dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let out_dir = out_dir.canonicalize().unwrap_or(out_dir.to_path_buf());
    match keys_path.strip_prefix(&out_dir) {
        Ok(rel) => format!("file://{}", rel.display()),
        Err(_) => format!("file://{}", keys_path.display()),
    }
}
