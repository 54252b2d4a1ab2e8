//! The runner end to end: the official manifests, an encrypt→decrypt round
//! trip through our own encrypt manifest, and broken input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn runner(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fieldseal-vectors"))
        .args(args)
        .output()
        .expect("runner starts")
}

/// `../shared/vectors/dbesdk`, or `None` (with a loud message) when absent
/// outside CI. Under CI a missing folder fails the test.
fn vectors_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FIELDSEAL_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/dbesdk")
        });
    if dir.join("keys.json").is_file() {
        return Some(dir);
    }
    let msg = format!("official DB-ESDK vectors not found at {}", dir.display());
    if std::env::var_os("CI").is_some() {
        panic!("{msg}: CI requires them");
    }
    eprintln!("\n!!!!! SKIPPED: {msg} !!!!!\n");
    None
}

fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fieldseal-vectors-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_official_decrypt_manifest_passes() {
    let Some(dir) = vectors_dir() else { return };
    let mut manifests: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("decrypt_") && name.ends_with(".json")
        })
        .collect();
    manifests.sort();
    assert_eq!(
        manifests.len(),
        4,
        "expected the four official decrypt manifests"
    );
    let mut total = 0;
    for m in manifests {
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
        let n = json["tests"].as_object().unwrap().len();
        total += n;
        let out = runner(&[Path::new("decrypt"), &m]);
        assert!(
            out.status.success(),
            "{}: {}",
            m.display(),
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(
            last_line(&out),
            format!("{n} passed, 0 failed"),
            "{}",
            m.display()
        );
    }
    assert_eq!(total, 42, "38 positive and 4 negative official tests");
}

#[test]
fn encrypt_manifest_round_trips() {
    let Some(dir) = vectors_dir() else { return };
    let work = temp_dir("roundtrip");
    std::fs::copy(dir.join("keys.json"), work.join("keys.json")).unwrap();
    let ours =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/manifests/encrypt_interop.json");
    std::fs::copy(&ours, work.join("encrypt.json")).unwrap();
    let out_path = work.join("decrypt.json");

    let out = runner(&[Path::new("encrypt"), &work.join("encrypt.json"), &out_path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(last_line(&out), "8 passed, 0 failed");

    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(written["manifest"]["type"], "aws-dbesdk-decrypt");
    assert_eq!(written["keys"], "file://keys.json");
    // The negative-encrypt test writes nothing; the rest are decrypt tests.
    assert_eq!(written["tests"].as_object().unwrap().len(), 7);
    assert_eq!(written["tests"]["wrong-key"]["type"], "negative-decrypt");

    let out = runner(&[Path::new("decrypt"), &out_path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(last_line(&out), "7 passed, 0 failed");

    // A tampered record in the written manifest is caught.
    let mut tampered = written.clone();
    tampered["tests"]["aes-128-nosig"]["encrypted"]["sk"] = serde_json::json!({"N": "43"});
    let bad = work.join("tampered.json");
    std::fs::write(&bad, tampered.to_string()).unwrap();
    let out = runner(&[Path::new("decrypt"), &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(last_line(&out), "6 passed, 1 failed");
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn broken_manifests_exit_2_with_a_message() {
    let work = temp_dir("broken");
    let cases = [
        ("not-json.json", "{ this is not json"),
        (
            "wrong-type.json",
            r#"{"manifest":{"type":"aws-dbesdk-encrypt","version":"1"},"keys":"file://keys.json","tests":{}}"#,
        ),
        (
            "no-keys.json",
            r#"{"manifest":{"type":"aws-dbesdk-decrypt","version":"1"},"keys":"file://missing.json","tests":{}}"#,
        ),
    ];
    for (name, text) in cases {
        let p = work.join(name);
        std::fs::write(&p, text).unwrap();
        let out = runner(&[Path::new("decrypt"), &p]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(!out.stderr.is_empty(), "{name}: no message");
    }
    let out = runner(&[Path::new("frobnicate")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn unknown_key_types_fail_the_test_not_the_run() {
    let Some(dir) = vectors_dir() else { return };
    let work = temp_dir("unknown-key");
    std::fs::copy(dir.join("keys.json"), work.join("keys.json")).unwrap();
    let manifest = serde_json::json!({
        "manifest": {"type": "aws-dbesdk-encrypt", "version": "1"},
        "keys": "file://keys.json",
        "tests": {
            "kms": {"type": "positive-encrypt", "description": "unsupported here",
                    "config": {"key": {"type": "aws-kms", "key": "us-west-2-decryptable"},
                               "attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY"}},
                    "record": {"RecNum": 1}},
            "ok": {"type": "positive-encrypt", "description": "fine",
                   "config": {"attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY"}},
                   "record": {"RecNum": 1}}
        }
    });
    let p = work.join("m.json");
    std::fs::write(&p, manifest.to_string()).unwrap();
    let out = runner(&[Path::new("encrypt"), &p, &work.join("out.json")]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL kms"), "{stdout}");
    assert!(
        stdout.contains("unsupported key description type"),
        "{stdout}"
    );
    assert_eq!(last_line(&out), "1 passed, 1 failed");
    let _ = std::fs::remove_dir_all(&work);
}
