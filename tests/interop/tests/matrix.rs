//! The interop matrix: fieldseal against the official aws-db-esdk, both directions.
//!
//! suite {0x6700, 0x6701} x keyring {raw AES-128/192/256, raw RSA with each
//! padding, multi (AES generator + RSA child)} x item shape (every type, v2
//! context attributes, UTF-16 ordered names), and:
//! - official: the official SDK's own round trip gives the hand-written expectation;
//! - canonical: fieldseal's canonical form of every input equals that expectation;
//! - a: the official SDK decrypts what fieldseal sealed, to the canonicalized input;
//! - b: fieldseal decrypts what the official SDK sealed, to the same;
//! - layout: both sealed forms have the same attributes, plaintext values and sizes;
//! - multi child/generator only: a multi-keyring record opened by one of its keyrings;
//! - tamper: one flipped byte makes the other side refuse the record.
//!
//! Runs without libtest (`harness = false`): one line per case, then
//! `N passed, M failed`. Arguments: substrings that case labels must contain
//! (`^x`: labels starting with `x`), e.g. `^official` for the official SDK alone.
//! A case that panics (e.g. a fieldseal `todo!()`) is a failure, not an abort.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use fieldseal::{AttributeValue as V, CryptoAction, Item};
use fieldseal_interop::convert::show;
use fieldseal_interop::convert::show_item;
use fieldseal_interop::shapes::{all_shapes, all_types, Shape};
use fieldseal_interop::spec::{
    aes_spec, fieldseal_encryptor, padding_label, rsa_spec, KeySpec, ALL_PADDINGS, BOTH_SUITES,
};
use fieldseal_interop::{block_on, canonical, ddb_equal, diff_items, expected_plaintext, official};

const HEADER: &str = "aws_dbe_head";
const FOOTER: &str = "aws_dbe_foot";

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

struct Runner {
    filters: Vec<String>,
    passed: usize,
    failed: Vec<String>,
}

impl Runner {
    fn case(&mut self, label: &str, f: impl FnOnce() -> Result<(), String>) {
        let matches = |x: &String| match x.strip_prefix('^') {
            Some(prefix) => label.starts_with(prefix),
            None => label.contains(x.as_str()),
        };
        if !self.filters.is_empty() && !self.filters.iter().any(matches) {
            return;
        }
        let outcome = match catch_unwind(AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(_) => Err(format!(
                "panicked: {}",
                LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| "(no message)".into())
            )),
        };
        match outcome {
            Ok(()) => {
                self.passed += 1;
                println!("ok    {label}");
            }
            Err(e) => {
                println!("FAIL  {label}: {e}");
                self.failed.push(label.to_string());
            }
        }
    }
}

fn keyrings() -> Vec<KeySpec> {
    let mut v = vec![aes_spec(128), aes_spec(192), aes_spec(256)];
    v.extend(ALL_PADDINGS.iter().map(|p| rsa_spec(*p)));
    v.push(multi_spec());
    v
}

fn multi_child() -> KeySpec {
    rsa_spec(fieldseal::keyring::RsaPadding::OaepSha256Mgf1)
}

fn multi_spec() -> KeySpec {
    KeySpec::Multi {
        generator: Some(Box::new(aes_spec(256))),
        children: vec![multi_child()],
    }
}

fn suite_label(s: fieldseal::AlgorithmSuiteId) -> String {
    format!("0x{:04x}", s.id())
}

fn fs_encrypt(shape: &Shape, keys: &KeySpec) -> Result<Item, String> {
    let enc =
        fieldseal_encryptor(&shape.table, keys).map_err(|e| format!("fieldseal config: {e}"))?;
    block_on(enc.encrypt_item(&shape.input)).map_err(|e| format!("fieldseal encrypt: {e}"))
}

fn fs_decrypt(shape: &Shape, keys: &KeySpec, sealed: &Item) -> Result<Item, String> {
    let enc =
        fieldseal_encryptor(&shape.table, keys).map_err(|e| format!("fieldseal config: {e}"))?;
    block_on(enc.decrypt_item(sealed)).map_err(|e| format!("fieldseal decrypt: {e}"))
}

fn off_encrypt(shape: &Shape, keys: &KeySpec) -> Result<Item, String> {
    block_on(async {
        let c = official::encryptor(&shape.table, keys).await?;
        official::encrypt(&c, &shape.input).await
    })
}

fn off_decrypt(shape: &Shape, keys: &KeySpec, sealed: &Item) -> Result<Item, String> {
    block_on(async {
        let c = official::encryptor(&shape.table, keys).await?;
        official::decrypt(&c, sealed).await
    })
}

fn expect_items(got: &Item, want: &Item) -> Result<(), String> {
    let d = diff_items(got, want);
    if d.is_empty() {
        Ok(())
    } else {
        Err(format!("{} difference(s): {}", d.len(), d.join("; ")))
    }
}

fn expected(shape: &Shape) -> Result<Item, String> {
    expected_plaintext(&shape.table, &shape.input).map_err(|e| format!("canonicalize: {e}"))
}

/// A decrypted item against its plaintext `input`: ENCRYPT_AND_SIGN attributes
/// exactly fieldseal's canonical form of the input; every other attribute
/// equal to the input as a DynamoDB value (numbers by value, sets unordered),
/// since each implementation returns those as they were stored.
fn check_decrypted(shape: &Shape, input: &Item, got: &Item) -> Result<(), String> {
    let mut d = Vec::new();
    for (k, v) in input {
        let Some(g) = got.get(k) else {
            d.push(format!("missing {k:?}"));
            continue;
        };
        if shape.table.actions.get(k) == Some(&CryptoAction::EncryptAndSign) {
            let want = canonical(v).map_err(|e| format!("canonicalize {k:?}: {e}"))?;
            if *g != want {
                d.push(format!("{k:?}: got {} want {}", show(g), show(&want)));
            }
        } else if !ddb_equal(g, v) {
            d.push(format!(
                "{k:?}: got {} want (as a DynamoDB value) {}",
                show(g),
                show(v)
            ));
        }
    }
    for k in got.keys() {
        if !input.contains_key(k) {
            d.push(format!("unexpected {k:?}"));
        }
    }
    if d.is_empty() {
        Ok(())
    } else {
        Err(format!("{} difference(s): {}", d.len(), d.join("; ")))
    }
}

/// Sealed-form checks common to both implementations' output.
fn check_sealed(shape: &Shape, sealed: &Item) -> Result<(), String> {
    for name in [HEADER, FOOTER] {
        if !matches!(sealed.get(name), Some(V::B(_))) {
            return Err(format!("sealed item has no binary {name}"));
        }
    }
    for (name, action) in &shape.table.actions {
        if *action == CryptoAction::EncryptAndSign && !matches!(sealed.get(name), Some(V::B(_))) {
            return Err(format!(
                "{name:?} is ENCRYPT_AND_SIGN but not sealed as binary"
            ));
        }
    }
    if sealed.len() != shape.input.len() + 2 {
        return Err(format!(
            "sealed item has {} attributes, input {} (+2 expected)",
            sealed.len(),
            shape.input.len()
        ));
    }
    Ok(())
}

/// Both sealed forms must agree on everything that is not random: attribute
/// names and types, stored plaintext values (as DynamoDB values), ciphertext
/// and header/footer sizes.
fn compare_layout(shape: &Shape, fs: &Item, off: &Item) -> Result<(), String> {
    let mut diffs = Vec::new();
    let fk: Vec<_> = fs.keys().collect();
    let ok: Vec<_> = off.keys().collect();
    if fk != ok {
        diffs.push(format!(
            "attribute names differ: fieldseal {fk:?} official {ok:?}"
        ));
    }
    for (name, fv) in fs {
        let Some(ov) = off.get(name) else { continue };
        let encrypted = shape.table.actions.get(name) == Some(&CryptoAction::EncryptAndSign);
        match (fv, ov) {
            (V::B(a), V::B(b)) if encrypted || name == HEADER || name == FOOTER => {
                if a.len() != b.len() {
                    diffs.push(format!(
                        "{name:?}: fieldseal {} bytes, official {} bytes",
                        a.len(),
                        b.len()
                    ));
                }
                if encrypted && a.get(..2) != b.get(..2) {
                    diffs.push(format!("{name:?}: sealed type id differs"));
                }
            }
            _ if !ddb_equal(fv, ov) => diffs.push(format!(
                "{name:?}: stored value differs: fieldseal {} official {}",
                show(fv),
                show(ov)
            )),
            _ => {}
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("; "))
    }
}

fn flip(item: &Item, name: &str) -> Result<Item, String> {
    let mut t = item.clone();
    match t.get_mut(name) {
        Some(V::B(b)) if !b.is_empty() => {
            let i = b.len() / 2;
            b[i] ^= 0x01;
        }
        Some(V::S(s)) => s.push('!'),
        other => return Err(format!("cannot tamper {name:?}: {other:?}")),
    }
    Ok(t)
}

fn main() {
    std::panic::set_hook(Box::new(|info| {
        let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "(non-string panic)".into()
        };
        let loc = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{loc}")));
    }));
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut r = Runner {
        filters,
        passed: 0,
        failed: Vec::new(),
    };

    let _ = fieldseal_interop::spec::fixed_rsa_keys();
    let shapes = all_shapes();

    // fieldseal's canonical forms against the hand-written expectations.
    for shape in &shapes {
        r.case(&format!("canonical {}", shape.name), || {
            expect_items(&expected(shape)?, &shape.canonical)
        });
    }

    for suite in BOTH_SUITES {
        for keys in keyrings() {
            for base in &shapes {
                let shape = base.with_suite(suite);
                let tag = format!("{} {} {}", suite_label(suite), keys.label(), shape.name);
                // The official SDK against itself, and against the hand-written oracle.
                let off_sealed = RefCell::new(None);
                r.case(&format!("official {tag}"), || {
                    let sealed = off_encrypt(&shape, &keys)?;
                    check_sealed(&shape, &sealed)?;
                    let plain = off_decrypt(&shape, &keys, &sealed)?;
                    *off_sealed.borrow_mut() = Some((sealed, plain.clone()));
                    expect_items(&plain, &shape.expected)
                });
                let (off_sealed, off_plain) = off_sealed.into_inner().unzip();

                // a: fieldseal seals, the official SDK opens.
                let fs_sealed = RefCell::new(None);
                r.case(&format!("a: fieldseal->official {tag}"), || {
                    let sealed = fs_encrypt(&shape, &keys)?;
                    *fs_sealed.borrow_mut() = Some(sealed.clone());
                    check_sealed(&shape, &sealed)?;
                    let plain = off_decrypt(&shape, &keys, &sealed)?;
                    check_decrypted(&shape, &shape.input, &plain)
                });
                let fs_sealed = fs_sealed.into_inner();

                // b: the official SDK seals, fieldseal opens, and must return
                // exactly what the official SDK returns for the same record.
                r.case(&format!("b: official->fieldseal {tag}"), || {
                    let (sealed, official_plain) = match (&off_sealed, &off_plain) {
                        (Some(s), Some(p)) => (s.clone(), p.clone()),
                        _ => {
                            let s = off_encrypt(&shape, &keys)?;
                            let p = off_decrypt(&shape, &keys, &s)?;
                            (s, p)
                        }
                    };
                    let plain = fs_decrypt(&shape, &keys, &sealed)?;
                    check_decrypted(&shape, &shape.input, &plain)?;
                    expect_items(&plain, &official_plain)
                        .map_err(|e| format!("differs from the official SDK's decryption: {e}"))
                });

                r.case(&format!("layout {tag}"), || {
                    match (&fs_sealed, &off_sealed) {
                        (Some(f), Some(o)) => compare_layout(&shape, f, o),
                        (None, _) => Err("no fieldseal-sealed item (see case a)".into()),
                        (_, None) => Err("no official-sealed item (see case official)".into()),
                    }
                });

                // The official SDK writes every attribute it does not encrypt
                // exactly as given (numbers as written, sets in input order);
                // fieldseal's sealed item must too. Once per suite and shape.
                if matches!(&keys, KeySpec::Aes { key, .. } if key.len() == 32) {
                    r.case(
                        &format!("stored-form {} {}", suite_label(suite), shape.name),
                        || {
                            let (Some(f), Some(o)) = (&fs_sealed, &off_sealed) else {
                                return Err("missing a sealed item (see cases a / official)".into());
                            };
                            let mut d = Vec::new();
                            for (k, ov) in o {
                                let encrypted = shape.table.actions.get(k)
                                    == Some(&CryptoAction::EncryptAndSign);
                                if encrypted || k == HEADER || k == FOOTER {
                                    continue;
                                }
                                match f.get(k) {
                                    Some(fv) if fv == ov => {}
                                    Some(fv) => d.push(format!(
                                    "{k:?}: fieldseal stores {} where the official SDK keeps {}",
                                    show(fv),
                                    show(ov)
                                )),
                                    None => d.push(format!("{k:?} missing")),
                                }
                            }
                            if d.is_empty() {
                                Ok(())
                            } else {
                                Err(d.join("; "))
                            }
                        },
                    );
                }
            }
        }
    }

    // A multi-keyring record opened by only one of its keyrings.
    for suite in BOTH_SUITES {
        for base in &shapes {
            let shape = base.with_suite(suite);
            for (role, single) in [("child", multi_child()), ("generator", aes_spec(256))] {
                let tag = format!(
                    "{} {} opened by {role} {} {}",
                    suite_label(suite),
                    multi_spec().label(),
                    single.label(),
                    shape.name
                );
                r.case(&format!("a: fieldseal->official {tag}"), || {
                    let sealed = fs_encrypt(&shape, &multi_spec())?;
                    let plain = off_decrypt(&shape, &single, &sealed)?;
                    check_decrypted(&shape, &shape.input, &plain)
                });
                r.case(&format!("b: official->fieldseal {tag}"), || {
                    let sealed = off_encrypt(&shape, &multi_spec())?;
                    let plain = fs_decrypt(&shape, &single, &sealed)?;
                    check_decrypted(&shape, &shape.input, &plain)?;
                    expect_items(&plain, &shape.expected)
                });
            }
        }
    }

    // The wrong key: a record is refused by a keyring with other key bytes.
    for suite in BOTH_SUITES {
        let shape = all_types().with_suite(suite);
        let wrong = KeySpec::Aes {
            namespace: "fieldseal-interop".into(),
            name: "aes-256-key".into(),
            key: vec![0x55; 32],
        };
        let tag = format!(
            "{} aes-256 vs other key bytes {}",
            suite_label(suite),
            shape.name
        );
        r.case(&format!("negative a: fieldseal->official {tag}"), || {
            let sealed = fs_encrypt(&shape, &aes_spec(256))?;
            match off_decrypt(&shape, &wrong, &sealed) {
                Ok(_) => Err("official SDK opened a record under the wrong key".into()),
                Err(_) => Ok(()),
            }
        });
        r.case(&format!("negative b: official->fieldseal {tag}"), || {
            let sealed = off_encrypt(&shape, &aes_spec(256))?;
            match fs_decrypt(&shape, &wrong, &sealed) {
                Ok(_) => Err("fieldseal opened a record under the wrong key".into()),
                Err(_) => Ok(()),
            }
        });
    }

    // Tampering: one flipped byte (or a changed signed value) must be refused.
    for suite in BOTH_SUITES {
        for keys in [
            aes_spec(256),
            rsa_spec(fieldseal::keyring::RsaPadding::Pkcs1),
        ] {
            let shape = all_types().with_suite(suite);
            for target in ["e_s", "e_m", HEADER, FOOTER, "s_s", "pk"] {
                let tag = format!(
                    "{} {} {} tampered {target}",
                    suite_label(suite),
                    keys.label(),
                    shape.name
                );
                r.case(&format!("tamper a: fieldseal->official {tag}"), || {
                    let sealed = fs_encrypt(&shape, &keys)?;
                    // The untampered record opens, so the refusal is the tampering's.
                    off_decrypt(&shape, &keys, &sealed)?;
                    match off_decrypt(&shape, &keys, &flip(&sealed, target)?) {
                        Ok(_) => Err("official SDK accepted a tampered record".into()),
                        Err(_) => Ok(()),
                    }
                });
                // Control: the official SDK refuses its own record tampered the same way.
                r.case(&format!("tamper official->official {tag}"), || {
                    let sealed = off_encrypt(&shape, &keys)?;
                    off_decrypt(&shape, &keys, &sealed)?;
                    match off_decrypt(&shape, &keys, &flip(&sealed, target)?) {
                        Ok(_) => Err("official SDK accepted its own tampered record".into()),
                        Err(_) => Ok(()),
                    }
                });
                r.case(&format!("tamper b: official->fieldseal {tag}"), || {
                    let sealed = off_encrypt(&shape, &keys)?;
                    fs_decrypt(&shape, &keys, &sealed)?;
                    match fs_decrypt(&shape, &keys, &flip(&sealed, target)?) {
                        Ok(_) => Err("fieldseal accepted a tampered record".into()),
                        Err(_) => Ok(()),
                    }
                });
            }
        }
    }

    // The DO_NOTHING attribute may change freely on both sides.
    for suite in BOTH_SUITES {
        let shape = all_types().with_suite(suite);
        let tag = format!(
            "{} aes-256 {} changed unsigned attributes",
            suite_label(suite),
            shape.name
        );
        let change = |sealed: &Item| {
            let mut t = sealed.clone();
            t.insert("unsigned_listed".into(), V::S("changed".into()));
            t.insert(":added_later".into(), V::N("7".into()));
            t
        };
        let mut want = shape.input.clone();
        want.insert("unsigned_listed".into(), V::S("changed".into()));
        want.insert(":added_later".into(), V::N("7".into()));
        r.case(&format!("unsigned a: fieldseal->official {tag}"), || {
            let sealed = fs_encrypt(&shape, &aes_spec(256))?;
            let plain = off_decrypt(&shape, &aes_spec(256), &change(&sealed))?;
            check_decrypted(&shape, &want, &plain)
        });
        r.case(&format!("unsigned official->official {tag}"), || {
            let sealed = off_encrypt(&shape, &aes_spec(256))?;
            let plain = off_decrypt(&shape, &aes_spec(256), &change(&sealed))?;
            let mut want_exact = shape.expected.clone();
            want_exact.insert("unsigned_listed".into(), V::S("changed".into()));
            want_exact.insert(":added_later".into(), V::N("7".into()));
            expect_items(&plain, &want_exact)
        });
        r.case(&format!("unsigned b: official->fieldseal {tag}"), || {
            let sealed = off_encrypt(&shape, &aes_spec(256))?;
            let plain = fs_decrypt(&shape, &aes_spec(256), &change(&sealed))?;
            check_decrypted(&shape, &want, &plain)
        });
    }

    let _ = (show_item, padding_label);
    println!();
    if !r.failed.is_empty() {
        println!("failed cases:");
        for f in &r.failed {
            println!("  {f}");
        }
    }
    println!("{} passed, {} failed", r.passed, r.failed.len());
    std::process::exit(if r.failed.is_empty() { 0 } else { 1 });
}
