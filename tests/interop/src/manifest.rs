//! Runs an `aws-dbesdk-decrypt` test manifest through the OFFICIAL SDK.
//!
//! Manifest: `{"manifest":{"type":"aws-dbesdk-decrypt","version":"1"}, "keys":"file://keys.json",
//! "tests":{NAME:{"type":"positive-decrypt"|"negative-decrypt","description",
//! "config":{...},"encrypted":RECORD,"plaintext":RECORD}}}`. Records are DynamoDB
//! JSON where a bare string is S and a bare number is N.
//!
//! The manifest, its `config` objects and key descriptions are read by the one
//! reader of the format, the `fieldseal-vectors` library (vectors/src); this
//! module turns what it reads into the official SDK's side ([`TableSpec`],
//! [`KeySpec`]) and parses records independently of fieldseal. A test whose
//! key is the static branch key (no `key`, or `aws-kms-hierarchy`, also inside
//! a multi-keyring) needs the hierarchical keyring, which the official SDK
//! cannot build without a KMS-backed key store: skipped.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fieldseal::{AttributeValue as V, Item};
use fieldseal_vectors::keys::{KeyDescription, KeyStore};
use fieldseal_vectors::manifest::{Manifest, TableConfig, DECRYPT_TYPE};
use serde_json::{json, Value};

use crate::spec::{KeySpec, TableSpec};
use crate::{block_on, official};

/// The outcome of one manifest test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// (test name, description, outcome) in manifest order.
    pub results: Vec<(String, String, Outcome)>,
}

impl Summary {
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.2)).count()
    }
    pub fn passed(&self) -> usize {
        self.count(|o| *o == Outcome::Passed)
    }
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped(_)))
    }
    /// `N passed, M failed` (`, K skipped` when any).
    pub fn closing_line(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed(), self.failed());
        if self.skipped() > 0 {
            s.push_str(&format!(", {} skipped", self.skipped()));
        }
        s
    }
}

// ------------------------------------------------------------------ records

/// DynamoDB JSON (bare string = S, bare number = N) to a value.
pub fn value_from_json(v: &Value) -> Result<V, String> {
    match v {
        Value::String(s) => Ok(V::S(s.clone())),
        Value::Number(n) => Ok(V::N(n.to_string())),
        Value::Object(o) if o.len() == 1 => {
            let (t, x) = o.iter().next().expect("one entry");
            let str_of = |x: &Value| -> Result<String, String> {
                match x {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) if t == "N" || t == "NS" => Ok(n.to_string()),
                    _ => Err(format!("{t} needs a string, got {x}")),
                }
            };
            let arr = |x: &Value| -> Result<Vec<Value>, String> {
                x.as_array()
                    .cloned()
                    .ok_or_else(|| format!("{t} needs an array"))
            };
            let bin = |s: String| B64.decode(s).map_err(|e| format!("{t}: bad base64: {e}"));
            Ok(match t.as_str() {
                "S" => V::S(str_of(x)?),
                "N" => V::N(str_of(x)?),
                "B" => V::B(bin(str_of(x)?)?),
                "BOOL" => V::Bool(x.as_bool().ok_or("BOOL needs true/false")?),
                "NULL" => V::Null,
                "L" => V::L(
                    arr(x)?
                        .iter()
                        .map(value_from_json)
                        .collect::<Result<_, _>>()?,
                ),
                "M" => V::M(item_from_json(x)?),
                "SS" => V::Ss(arr(x)?.iter().map(str_of).collect::<Result<_, _>>()?),
                "NS" => V::Ns(arr(x)?.iter().map(str_of).collect::<Result<_, _>>()?),
                "BS" => V::Bs(
                    arr(x)?
                        .iter()
                        .map(|e| bin(str_of(e)?))
                        .collect::<Result<_, _>>()?,
                ),
                other => return Err(format!("unknown DynamoDB type {other:?}")),
            })
        }
        other => Err(format!("not a DynamoDB JSON value: {other}")),
    }
}

pub fn item_from_json(v: &Value) -> Result<Item, String> {
    v.as_object()
        .ok_or_else(|| format!("a record must be an object, got {v}"))?
        .iter()
        .map(|(k, v)| {
            Ok((
                k.clone(),
                value_from_json(v).map_err(|e| format!("{k:?}: {e}"))?,
            ))
        })
        .collect()
}

/// A value as typed DynamoDB JSON (binary as base64).
pub fn value_to_json(v: &V) -> Value {
    match v {
        V::S(s) => json!({ "S": s }),
        V::N(n) => json!({ "N": n }),
        V::B(b) => json!({ "B": B64.encode(b) }),
        V::Bool(b) => json!({ "BOOL": b }),
        V::Null => json!({ "NULL": true }),
        V::L(l) => json!({ "L": l.iter().map(value_to_json).collect::<Vec<_>>() }),
        V::M(m) => json!({ "M": item_to_json(m) }),
        V::Ss(x) => json!({ "SS": x }),
        V::Ns(x) => json!({ "NS": x }),
        V::Bs(x) => json!({ "BS": x.iter().map(|b| B64.encode(b)).collect::<Vec<_>>() }),
    }
}

pub fn item_to_json(item: &Item) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect(),
    )
}

// --------------------------------------------------------------- comparison

/// A DynamoDB number in a comparable form: `None` if it does not parse.
fn number_key(n: &str) -> Option<String> {
    let (neg, rest) = match n.as_bytes().first()? {
        b'-' => (true, &n[1..]),
        b'+' => (false, &n[1..]),
        _ => (false, n),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{int}{frac}");
    let exp = exp - frac.len() as i64;
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        return Some("0".into());
    }
    let significant = trimmed.trim_end_matches('0');
    let exp = exp + (trimmed.len() - significant.len()) as i64;
    Some(format!("{}{significant}e{exp}", if neg { "-" } else { "" }))
}

/// A value with numbers reduced to a comparable form and sets sorted, so that
/// equal DynamoDB values compare equal however they were written.
pub fn normalize_for_compare(v: &V) -> V {
    let num = |n: &String| number_key(n).unwrap_or_else(|| n.clone());
    match v {
        V::N(n) => V::N(num(n)),
        V::L(l) => V::L(l.iter().map(normalize_for_compare).collect()),
        V::M(m) => V::M(
            m.iter()
                .map(|(k, v)| (k.clone(), normalize_for_compare(v)))
                .collect(),
        ),
        V::Ss(x) => {
            let mut x = x.clone();
            x.sort();
            V::Ss(x)
        }
        V::Ns(x) => {
            let mut x: Vec<String> = x.iter().map(num).collect();
            x.sort();
            V::Ns(x)
        }
        V::Bs(x) => {
            let mut x = x.clone();
            x.sort();
            V::Bs(x)
        }
        other => other.clone(),
    }
}

pub fn items_equal(a: &Item, b: &Item) -> bool {
    normalize_for_compare(&V::M(a.clone())) == normalize_for_compare(&V::M(b.clone()))
}

// ----------------------------------------------------------------- configs

/// What a key description turns into.
pub enum KeyChoice {
    Spec(KeySpec),
    /// Keyrings the official SDK cannot build here (static branch key).
    Unsupported(String),
}

/// A resolved key description as a keyring spec for both sides.
pub fn key_spec(desc: &KeyDescription) -> KeyChoice {
    match desc {
        KeyDescription::RawAes {
            provider_id,
            key_id,
            key,
        } => KeyChoice::Spec(KeySpec::Aes {
            namespace: provider_id.clone(),
            name: key_id.clone(),
            key: key.clone(),
        }),
        KeyDescription::RawRsa {
            provider_id,
            key_id,
            padding,
            public_pem,
            private_pem,
        } => KeyChoice::Spec(KeySpec::Rsa {
            namespace: provider_id.clone(),
            name: key_id.clone(),
            padding: *padding,
            public_pem: public_pem.clone(),
            private_pem: private_pem.clone(),
        }),
        KeyDescription::StaticBranchKey { .. } => {
            KeyChoice::Unsupported("needs hierarchy keyring".into())
        }
        KeyDescription::Multi {
            generator,
            children,
        } => {
            let one = |d: &KeyDescription| match key_spec(d) {
                KeyChoice::Spec(s) => Ok(s),
                KeyChoice::Unsupported(why) => Err(why),
            };
            let generator = match generator.as_deref().map(one).transpose() {
                Ok(g) => g.map(Box::new),
                Err(why) => return KeyChoice::Unsupported(why),
            };
            match children.iter().map(one).collect::<Result<_, _>>() {
                Ok(children) => KeyChoice::Spec(KeySpec::Multi {
                    generator,
                    children,
                }),
                Err(why) => KeyChoice::Unsupported(why),
            }
        }
    }
}

/// A test's `config` to a table spec (and its key description, if any).
pub fn table_spec(config: &Value) -> Result<(TableSpec, Option<Value>), String> {
    TableConfig::parse(config)
}

// ------------------------------------------------------------------ running

fn run_one(test: &Value, keys: &KeyStore) -> Outcome {
    let fail = |m: String| Outcome::Failed(m);
    let ty = test.get("type").and_then(Value::as_str).unwrap_or("");
    let positive = match ty {
        "positive-decrypt" => true,
        "negative-decrypt" => false,
        other => return fail(format!("unknown test type {other:?}")),
    };
    let Some(config) = test.get("config") else {
        return fail("no config".into());
    };
    let (table, key) = match table_spec(config) {
        Ok(x) => x,
        Err(e) => return fail(format!("config: {e}")),
    };
    let skip = |why: &str| {
        Outcome::Skipped(format!(
            "{why}: the static branch key needs a KMS-backed key store in the official SDK"
        ))
    };
    // No key: the default static branch key, skipped without looking it up.
    let Some(key) = key else {
        return skip("needs hierarchy keyring");
    };
    let spec = match keys.resolve(Some(&key)).as_ref().map(key_spec) {
        Ok(KeyChoice::Spec(s)) => s,
        Ok(KeyChoice::Unsupported(why)) => return skip(&why),
        Err(e) => return fail(format!("key: {e}")),
    };
    let encrypted = match test.get("encrypted").map(item_from_json) {
        Some(Ok(i)) => i,
        Some(Err(e)) => return fail(format!("encrypted record: {e}")),
        None => return fail("no encrypted record".into()),
    };
    let result = block_on(async {
        let client = official::encryptor(&table, &spec).await?;
        official::decrypt(&client, &encrypted).await
    });
    if !positive {
        return match result {
            Ok(_) => fail("the official SDK decrypted a record that must be refused".into()),
            Err(_) => Outcome::Passed,
        };
    }
    positive_outcome(test, result)
}

/// A positive test's outcome: the official SDK's result against the plaintext.
fn positive_outcome(test: &Value, result: Result<Item, String>) -> Outcome {
    let fail = |m: String| Outcome::Failed(m);
    let plaintext = match test.get("plaintext").map(item_from_json) {
        Some(Ok(i)) => i,
        Some(Err(e)) => return fail(format!("plaintext record: {e}")),
        None => return fail("positive test without plaintext".into()),
    };
    match result {
        Err(e) => fail(e),
        Ok(got) if items_equal(&got, &plaintext) => Outcome::Passed,
        Ok(got) => fail(format!(
            "decrypted item differs from plaintext: {}",
            crate::diff_items(
                &normalize_for_compare(&V::M(got)).into_m(),
                &normalize_for_compare(&V::M(plaintext)).into_m()
            )
            .join("; ")
        )),
    }
}

trait IntoM {
    fn into_m(self) -> Item;
}
impl IntoM for V {
    fn into_m(self) -> Item {
        match self {
            V::M(m) => m,
            _ => Item::new(),
        }
    }
}

/// Run every test of the manifest at `path`, calling `each` after each one.
pub fn run_manifest(
    path: &Path,
    mut each: impl FnMut(&str, &str, &Outcome),
) -> Result<Summary, String> {
    let manifest = Manifest::load(path, DECRYPT_TYPE)?;
    let mut summary = Summary::default();
    for (name, test) in &manifest.tests {
        let description = test
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let outcome = run_one(test, &manifest.keys);
        each(name, &description, &outcome);
        summary.results.push((name.clone(), description, outcome));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value() {
        for (a, b) in [
            ("1.50", "1.5"),
            ("-0", "0"),
            ("0.000", "0"),
            ("1e3", "1000"),
            ("010", "10"),
            ("+2.0E-1", ".2"),
        ] {
            assert_eq!(number_key(a), number_key(b), "{a} vs {b}");
        }
        assert_ne!(number_key("1"), number_key("-1"));
        assert_ne!(number_key("10"), number_key("1"));
        assert_eq!(number_key("abc"), None);
    }

    #[test]
    fn bare_json_values() {
        let v: Value =
            serde_json::from_str(r#"{"a":"x","b":1,"c":{"NS":["1",2]},"d":{"B":"AAE="}}"#).unwrap();
        let item = item_from_json(&v).unwrap();
        assert_eq!(item["a"], V::S("x".into()));
        assert_eq!(item["b"], V::N("1".into()));
        assert_eq!(item["c"], V::Ns(vec!["1".into(), "2".into()]));
        assert_eq!(item["d"], V::B(vec![0, 1]));
        assert_eq!(item_from_json(&item_to_json(&item)).unwrap(), item);
    }
}
