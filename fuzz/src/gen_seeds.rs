//! Writes the seed corpora to `<dir>/<target>/seed-NNN` (default dir
//! `fuzz/corpus`), generated from freshly sealed baselines so no binary seed
//! is ever committed. `scripts/fuzz.sh` runs it before fuzzing.

use std::path::{Path, PathBuf};

use fieldseal::format::{FOOTER_FIELD, HEADER_FIELD};
use fieldseal::item::json::item_to_json;
use fieldseal::AttributeValue;
use fieldseal_fuzz::{mode, op, scenarios, Scenario};

fn bytes_of(s: &Scenario, field: &str) -> Vec<u8> {
    match &s.sealed[field] {
        AttributeValue::B(b) => b.clone(),
        _ => unreachable!("sealed items store {field} as binary"),
    }
}

fn write(dir: &Path, target: &str, seeds: &[Vec<u8>]) -> std::io::Result<()> {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir)?;
    for (i, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:03}")), seed)?;
    }
    println!("{target}: {} seeds in {}", seeds.len(), dir.display());
    Ok(())
}

fn prefixed(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    [prefix, rest].concat()
}

fn decrypt_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    // Attribute indexes in the sealed item's (sorted) key order.
    let n_attrs = scenarios()[0].sealed.len() as u8;
    for (i, s) in scenarios().iter().enumerate() {
        let i = i as u8;
        let head = bytes_of(s, HEADER_FIELD);
        let foot = bytes_of(s, FOOTER_FIELD);
        seeds.push(prefixed(&[i, mode::RAW_HEADER], &head));
        seeds.push(prefixed(&[i, mode::RAW_FOOTER], &foot));
        let mut body = s.sealed.clone();
        body.remove(HEADER_FIELD);
        body.remove(FOOTER_FIELD);
        let json = serde_json::to_vec(&item_to_json(&body)).expect("prints");
        seeds.push(prefixed(&[i, mode::RAW_JSON_ITEM], &json));
        // Unmutated: must open.
        seeds.push(vec![i, mode::OPS]);
        for attr in 0..n_attrs {
            seeds.push(vec![i, mode::OPS, op::FLIP_BIT, attr, 0, attr, 3]);
            seeds.push(vec![i, mode::OPS, op::SET_BYTE, attr, 0, 2, 0xff]);
            seeds.push(vec![i, mode::OPS, op::TRUNCATE, attr, 0, 40, 0]);
            seeds.push(vec![i, mode::OPS, op::EXTEND, attr, 0, 0, 0, 2, 0, 1]);
            seeds.push(vec![i, mode::OPS, op::REMOVE, attr]);
            seeds.push(vec![i, mode::OPS, op::REPLACE, attr, 1, 1]);
            seeds.push(vec![i, mode::OPS, op::RENAME, attr, 10]);
            seeds.push(vec![i, mode::OPS, op::SWAP, attr, attr + 1]);
        }
        // Unsigned changes that must still open; a signed number respelled.
        seeds.push(vec![i, mode::OPS, op::PUT, 8, 0, 3, b'n', b'e', b'w']);
        seeds.push(vec![i, mode::OPS, op::PUT, 11, 2, 1, 9]);
        seeds.push(vec![i, mode::OPS, op::PUT, 14, 0, 1, b'x']);
        seeds.push(vec![i, mode::OPS, op::PUT, 1, 1, 1]);
        seeds.push(vec![i, mode::OPS, op::PUT, 15, 4]);
        seeds.push(vec![i, mode::OPS, op::SPLICE, 1, 0, 0, 0, 4, 1, 2, 3, 4]);
    }
    seeds
}

fn header_footer_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for s in scenarios() {
        let edks = if s.keyring == fieldseal_fuzz::KeyringMode::Single {
            1
        } else {
            2
        };
        let signed = if s.suite.is_signing() { 2 } else { 0 };
        seeds.push(prefixed(&[0], &bytes_of(s, HEADER_FIELD)));
        seeds.push(prefixed(&[1 | signed, edks], &bytes_of(s, FOOTER_FIELD)));
    }
    // A minimal header: v1, flavor 0, zero message id, empty legend and
    // context, one EDK with empty fields, zero commitment.
    let mut minimal = vec![0, 1, 0];
    minimal.extend([0u8; 32]);
    minimal.extend([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    minimal.extend([0u8; 32]);
    seeds.push(minimal);
    seeds.push(vec![1, 0]);
    seeds.push(prefixed(&[3, 1], &[0u8; 48 + 103]));
    seeds
}

fn json_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let s = &scenarios()[0];
    for item in [&s.plaintext, &s.sealed] {
        seeds.push(prefixed(
            &[0],
            &serde_json::to_vec(&item_to_json(item)).expect("prints"),
        ));
    }
    let texts = [
        r#"{"a":"str","b":1.50,"c":{"NS":[1,"2.0e3"]},"d":{"L":["x",2,{"NULL":true}]}}"#,
        r#"{"k":{"M":{"x":{"BOOL":false},"y":{"BS":["AQI=",""]},"z":{"SS":["\u00e9","\ud83d\ude00"]}}}}"#,
        r#"{"n":{"N":1e400},"m":{"N":"-0.000"},"b":{"B":"3q2+7w=="}}"#,
        r#"{"":{"S":""},"dup":{"S":"1"},"dup":{"S":"2"}}"#,
        r#"{"deep":{"L":[{"L":[{"L":[{"M":{"a":{"L":[]}}}]}]}]}}"#,
        r#"{"bad":{"S":"x","N":"1"}}"#,
        r#"{"bad":{"NULL":false}}"#,
        r#"{"bad":{"B":"not base64!"}}"#,
    ];
    for t in texts {
        seeds.push(prefixed(&[0], t.as_bytes()));
    }
    for t in [
        r#"{"S":"x"}"#,
        "12.50",
        r#""bare""#,
        r#"{"M":{}}"#,
        r#"{"NS":[]}"#,
    ] {
        seeds.push(prefixed(&[1], t.as_bytes()));
    }
    seeds
}

fn number_seeds() -> Vec<Vec<u8>> {
    let tiny = format!("0.{}1", "0".repeat(129));
    let big = format!("9.{}E+125", "9".repeat(37));
    let long = format!("{}e-10", "1".repeat(45));
    [
        "0",
        "-0",
        "+0.000",
        "1.50",
        "1E+3",
        "1e3",
        "00.0011",
        ".5",
        "5.",
        "-12.3400e1",
        "100E-2",
        "1E-130",
        "1E-131",
        "1E125",
        "1E126",
        "0E999999999999999999999",
        "1E999999999999999999999",
        "1e-9223372036854775808",
        "1e",
        "1e+",
        "NaN",
        "1.2.3",
        " 1",
        "12345678901234567890123456789012345678",
        &tiny,
        &big,
        &long,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    write(&dir, "decrypt_mutated", &decrypt_seeds())?;
    write(&dir, "header_footer_parse", &header_footer_seeds())?;
    write(&dir, "ddb_json", &json_seeds())?;
    write(&dir, "number_normalize", &number_seeds())?;
    Ok(())
}
