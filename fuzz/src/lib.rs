//! Shared pieces of the fuzz targets: the sealed baselines that
//! `decrypt_mutated` mutates, the mutation language it reads from the fuzz
//! input, and the property checks. The seed generator (`gen_seeds`) uses the
//! same encoding, so seeds and targets cannot drift apart.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use fieldseal::format::{FOOTER_FIELD, HEADER_FIELD};
use fieldseal::item::serialize;
use fieldseal::keyring::{MultiKeyring, RawAesKeyring};
use fieldseal::suite::RECIPIENT_TAG_LEN;
use fieldseal::{
    AlgorithmSuiteId, AttributeValue, CryptoAction, Error, Item, ItemEncryptor,
    ItemEncryptorConfig, Keyring,
};

/// Planted in the plaintext; no error message may ever contain it.
pub const SECRET_MARKER: &str = "FIELDSEAL-FUZZ-SECRET-5f3c";

/// The error codes the core documents; any other code is a finding, and so
/// is `INTERNAL_ERROR` (a bug by definition).
pub fn is_known_code(code: &str) -> bool {
    code != "INTERNAL_ERROR" && fieldseal::error::ERROR_CODES.contains(&code)
}

/// A typed error with a documented code that leaks no plaintext.
pub fn check_error(e: &Error) {
    assert!(
        is_known_code(e.code()),
        "undocumented code {}",
        e.code()
    );
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(SECRET_MARKER), "an error shows plaintext");
}

/// How a baseline item is sealed and opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyringMode {
    /// One raw AES keyring seals and opens.
    Single,
    /// Raw AES generator + a second raw AES child seal (two EDKs); the same multi-keyring opens.
    Multi,
    /// Sealed by the multi-keyring, opened by the child alone (its EDK is the second one).
    MultiOpenedByChild,
}

/// One sealed baseline and the encryptor that opens it.
pub struct Scenario {
    pub suite: AlgorithmSuiteId,
    pub keyring: KeyringMode,
    /// Whether the item has a SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute (header v2).
    pub v2: bool,
    pub decryptor: ItemEncryptor,
    pub plaintext: Item,
    pub sealed: Item,
}

const SUITES: [AlgorithmSuiteId; 2] = [
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
];
const MODES: [KeyringMode; 3] = [
    KeyringMode::Single,
    KeyringMode::Multi,
    KeyringMode::MultiOpenedByChild,
];
/// Every (suite, keyring, version) combination; the first input byte picks one.
pub const SCENARIO_COUNT: usize = SUITES.len() * MODES.len() * 2;

/// Fixed wrapping keys: the fuzzer explores the format, not the keys.
const GENERATOR_KEY: [u8; 32] = [0x11; 32];
const CHILD_KEY: [u8; 32] = [0x22; 32];

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.into())
}

/// Every action and most types: encrypted scalars and nested documents,
/// signed binary and sets, a context attribute (v2), and unsigned attributes
/// allowed by name and by prefix.
fn plaintext(v2: bool) -> (Item, BTreeMap<String, CryptoAction>) {
    use AttributeValue as V;
    use CryptoAction as A;
    let doc = V::M(BTreeMap::from([
        ("a".into(), V::L(vec![n("1.5"), V::Bool(true), V::Null])),
        ("b".into(), V::Ss(vec!["x".into(), "y".into()])),
        ("c".into(), V::Bs(vec![vec![1, 2], vec![3]])),
        ("d".into(), V::M(BTreeMap::from([("e".into(), n("-0.25"))]))),
    ]));
    // With a context attribute, the keys must be in the context too.
    let key_action = if v2 {
        A::SignAndIncludeInEncryptionContext
    } else {
        A::SignOnly
    };
    let attrs: Vec<(&str, V, Option<A>)> = vec![
        ("pk", s("fuzz#1"), Some(key_action)),
        ("sk", n("42"), Some(key_action)),
        ("secret", s(SECRET_MARKER), Some(A::EncryptAndSign)),
        ("doc", doc, Some(A::EncryptAndSign)),
        ("count", n("7"), Some(A::EncryptAndSign)),
        ("tag", V::B(vec![0xde, 0xad, 0xbe, 0xef]), Some(A::SignOnly)),
        (
            "nums",
            V::Ns(vec!["1".into(), "2.5".into()]),
            Some(A::SignOnly),
        ),
        ("ctx", s("tenant-7"), Some(key_action)),
        ("note", s("unsigned by name"), None),
        ("u_extra", V::B(vec![1, 2, 3]), None),
    ];
    let mut item = Item::new();
    let mut actions = BTreeMap::new();
    for (name, value, action) in attrs {
        item.insert(name.to_owned(), value);
        if let Some(a) = action {
            actions.insert(name.to_owned(), a);
        }
    }
    (item, actions)
}

fn config(
    suite: AlgorithmSuiteId,
    actions: &BTreeMap<String, CryptoAction>,
    keyring: Arc<dyn Keyring>,
) -> ItemEncryptorConfig {
    let mut c = ItemEncryptorConfig::new("FuzzTable", "pk", actions.clone(), keyring);
    c.sort_key_name = Some("sk".into());
    c.algorithm_suite_id = suite;
    c.allowed_unsigned_attributes = vec!["note".into()];
    c.allowed_unsigned_attribute_prefix = Some("u_".into());
    c
}

fn build_scenarios() -> Vec<Scenario> {
    let generator: Arc<dyn Keyring> =
        Arc::new(RawAesKeyring::new("fuzz", "generator", &GENERATOR_KEY).expect("valid key"));
    let child: Arc<dyn Keyring> =
        Arc::new(RawAesKeyring::new("fuzz", "child", &CHILD_KEY).expect("valid key"));
    let multi: Arc<dyn Keyring> = Arc::new(
        MultiKeyring::new(Some(generator.clone()), vec![child.clone()]).expect("valid multi"),
    );
    let mut out = Vec::with_capacity(SCENARIO_COUNT);
    for suite in SUITES {
        for mode in MODES {
            for v2 in [false, true] {
                let (plain, actions) = plaintext(v2);
                let (seal_with, open_with) = match mode {
                    KeyringMode::Single => (generator.clone(), generator.clone()),
                    KeyringMode::Multi => (multi.clone(), multi.clone()),
                    KeyringMode::MultiOpenedByChild => (multi.clone(), child.clone()),
                };
                let sealer =
                    ItemEncryptor::new(config(suite, &actions, seal_with)).expect("valid config");
                let sealed =
                    pollster::block_on(sealer.encrypt_item(&plain)).expect("baseline seals");
                let decryptor =
                    ItemEncryptor::new(config(suite, &actions, open_with)).expect("valid config");
                let opened =
                    pollster::block_on(decryptor.decrypt_item(&sealed)).expect("baseline opens");
                assert_eq!(opened, plain, "baseline round trip");
                out.push(Scenario {
                    suite,
                    keyring: mode,
                    v2,
                    decryptor,
                    plaintext: plain,
                    sealed,
                });
            }
        }
    }
    out
}

/// The baselines, sealed once per process (wrapping keys are fixed; data keys
/// and message ids are random, so byte values differ between processes).
pub fn scenarios() -> &'static [Scenario] {
    static SCENARIOS: OnceLock<Vec<Scenario>> = OnceLock::new();
    SCENARIOS.get_or_init(build_scenarios)
}

/// Reads the fuzz input front to back; exhausted input reads as zeros.
pub struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// Up to `max` bytes, length-prefixed by one byte.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = (self.u8() as usize).min(max).min(self.data.len());
        let (head, rest) = self.data.split_at(len);
        self.data = rest;
        head.to_vec()
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// The first byte after the scenario byte: how the rest of the input is read.
pub mod mode {
    /// The rest replaces `aws_dbe_head`.
    pub const RAW_HEADER: u8 = 0;
    /// The rest replaces `aws_dbe_foot`.
    pub const RAW_FOOTER: u8 = 1;
    /// The rest is an item in DynamoDB JSON, opened with the baseline's
    /// header and footer (so the baseline is still what it must match).
    pub const RAW_JSON_ITEM: u8 = 2;
    /// Any other value: the rest is a sequence of mutation ops.
    pub const OPS: u8 = 3;
}

/// Mutation opcodes (the op byte modulo their count).
pub mod op {
    /// attr, u16 position, bit: flip one bit of the value's bytes.
    pub const FLIP_BIT: u8 = 0;
    /// attr, u16 position, byte: overwrite one byte.
    pub const SET_BYTE: u8 = 1;
    /// attr, u16 length: cut the value's bytes.
    pub const TRUNCATE: u8 = 2;
    /// attr, bytes: append bytes.
    pub const EXTEND: u8 = 3;
    /// attr: remove the attribute.
    pub const REMOVE: u8 = 4;
    /// name, value: add or overwrite an attribute.
    pub const PUT: u8 = 5;
    /// attr, value: replace a value (possibly with another type).
    pub const REPLACE: u8 = 6;
    /// attr, attr: swap two values.
    pub const SWAP: u8 = 7;
    /// attr, name: rename an attribute.
    pub const RENAME: u8 = 8;
    /// attr, bytes: overwrite a value's bytes from an offset.
    pub const SPLICE: u8 = 9;
    pub const COUNT: u8 = 10;
}

/// Most ops per input; keeps one execution short.
const MAX_OPS: usize = 12;

/// Names the fuzzer can add or rename to: the item's own, unsigned ones, the
/// reserved ones, near-misses, and one read from the input.
const NAME_POOL: &[&str] = &[
    "pk",
    "sk",
    "secret",
    "doc",
    "count",
    "tag",
    "nums",
    "ctx",
    "note",
    "u_extra",
    "u_new",
    "Note",
    "aws_dbe_head",
    "aws_dbe_foot",
    "aws_dbe_x",
    "new_signed",
    "",
];

/// Numbers including other spellings of the baseline's (42, 7, 1, 2.5).
const NUMBER_POOL: &[&str] = &[
    "42", "42.0", "4.2E1", "042", "+42", "7", "7.000", "1", "2.5", "2.50", "-0", "0", "1E126",
    "1e-130", "", "abc", "1e", "NaN",
];

fn pick_name(c: &mut Cursor<'_>, item: &Item) -> String {
    let i = c.u8() as usize;
    let keys: Vec<&String> = item.keys().collect();
    if i < NAME_POOL.len() {
        NAME_POOL[i].to_owned()
    } else if i < 200 && !keys.is_empty() {
        keys[i % keys.len()].clone()
    } else {
        String::from_utf8_lossy(&c.bytes(24)).into_owned()
    }
}

fn pick_attr(c: &mut Cursor<'_>, item: &Item) -> Option<String> {
    let i = c.u8() as usize;
    if item.is_empty() {
        return None;
    }
    item.keys().nth(i % item.len()).cloned()
}

/// A value of any DynamoDB type, small, from the input (depth-limited).
fn gen_value(c: &mut Cursor<'_>, item: &Item, depth: usize) -> AttributeValue {
    use AttributeValue as V;
    let kind = c.u8();
    let nested = depth < 3;
    match kind % 12 {
        0 => V::S(String::from_utf8_lossy(&c.bytes(32)).into_owned()),
        1 => {
            let i = c.u8() as usize;
            match NUMBER_POOL.get(i) {
                Some(s) => n(s),
                None => V::N(String::from_utf8_lossy(&c.bytes(48)).into_owned()),
            }
        }
        2 => V::B(c.bytes(64)),
        3 => V::Bool(c.u8() & 1 == 1),
        4 => V::Null,
        5 if nested => V::L(
            (0..c.u8() % 3)
                .map(|_| gen_value(c, item, depth + 1))
                .collect(),
        ),
        6 if nested => V::M(
            (0..c.u8() % 3)
                .map(|_| (pick_name(c, item), gen_value(c, item, depth + 1)))
                .collect(),
        ),
        7 => V::Ss(
            (0..c.u8() % 4)
                .map(|_| String::from_utf8_lossy(&c.bytes(8)).into_owned())
                .collect(),
        ),
        8 => V::Ns(
            (0..c.u8() % 4)
                .map(|_| NUMBER_POOL[c.u8() as usize % NUMBER_POOL.len()].to_owned())
                .collect(),
        ),
        9 => V::Bs((0..c.u8() % 4).map(|_| c.bytes(8)).collect()),
        // Another attribute's value, e.g. a valid ciphertext moved elsewhere.
        // Only at the top: copies nested in copies grow exponentially over
        // the ops (a 2 GB item from a 500-byte input).
        _ if depth == 0 => match pick_attr(c, item) {
            Some(k) => item[&k].clone(),
            None => V::Null,
        },
        _ => V::Null,
    }
}

/// Apply `f` to a value's bytes: a B value's own bytes, otherwise its
/// canonical serialization, parsed back if it still parses (which is how
/// byte ops reach S, N, nested documents and sets, and change types).
fn edit_bytes(value: &mut AttributeValue, f: impl FnOnce(&mut Vec<u8>)) {
    match value {
        AttributeValue::B(b) => f(b),
        other => {
            let Ok(mut t) = serialize::serialize(other) else {
                return;
            };
            let mut bytes = t.type_id.to_vec();
            bytes.append(&mut t.value);
            f(&mut bytes);
            if bytes.len() >= 2 {
                if let Ok(v) = serialize::deserialize([bytes[0], bytes[1]], &bytes[2..]) {
                    *other = v;
                }
            }
        }
    }
}

/// Apply the op sequence in `c` to `item`.
pub fn apply_ops(c: &mut Cursor<'_>, item: &mut Item) {
    for _ in 0..MAX_OPS {
        if c.is_empty() {
            break;
        }
        let opcode = c.u8() % op::COUNT;
        match opcode {
            op::FLIP_BIT | op::SET_BYTE | op::TRUNCATE | op::EXTEND | op::SPLICE => {
                let Some(name) = pick_attr(c, item) else {
                    continue;
                };
                let pos = c.u16() as usize;
                let arg = c.u8();
                let extra = if matches!(opcode, op::EXTEND | op::SPLICE) {
                    c.bytes(64)
                } else {
                    Vec::new()
                };
                let value = item.get_mut(&name).expect("picked from the item");
                edit_bytes(value, |b| match opcode {
                    op::FLIP_BIT if !b.is_empty() => {
                        let i = pos % b.len();
                        b[i] ^= 1 << (arg % 8);
                    }
                    op::SET_BYTE if !b.is_empty() => {
                        let i = pos % b.len();
                        b[i] = arg;
                    }
                    op::TRUNCATE => b.truncate(pos % (b.len() + 1)),
                    op::EXTEND => b.extend_from_slice(&extra),
                    op::SPLICE => {
                        let at = pos % (b.len() + 1);
                        let end = (at + extra.len()).min(b.len());
                        b.splice(at..end, extra.iter().copied());
                    }
                    _ => {}
                });
            }
            op::REMOVE => {
                if let Some(name) = pick_attr(c, item) {
                    item.remove(&name);
                }
            }
            op::PUT => {
                let name = pick_name(c, item);
                let value = gen_value(c, item, 0);
                item.insert(name, value);
            }
            op::REPLACE => {
                if let Some(name) = pick_attr(c, item) {
                    let value = gen_value(c, item, 0);
                    item.insert(name, value);
                }
            }
            op::SWAP => {
                if let (Some(a), Some(b)) = (pick_attr(c, item), pick_attr(c, item)) {
                    let va = item[&a].clone();
                    let vb = std::mem::replace(item.get_mut(&b).expect("present"), va);
                    item.insert(a, vb);
                }
            }
            _ => {
                if let Some(old) = pick_attr(c, item) {
                    let new = pick_name(c, item);
                    let v = item.remove(&old).expect("present");
                    item.insert(new, v);
                }
            }
        }
    }
}

/// Build the item to open from the fuzz input; `None` if the input does not
/// make one (e.g. raw JSON that does not parse).
pub fn mutated_item(data: &[u8]) -> Option<(&'static Scenario, Item)> {
    let all = scenarios();
    let mut c = Cursor::new(data);
    let scenario = &all[c.u8() as usize % all.len()];
    let mut item = scenario.sealed.clone();
    match c.u8() {
        mode::RAW_HEADER => {
            item.insert(HEADER_FIELD.into(), AttributeValue::B(c.rest().to_vec()));
        }
        mode::RAW_FOOTER => {
            item.insert(FOOTER_FIELD.into(), AttributeValue::B(c.rest().to_vec()));
        }
        mode::RAW_JSON_ITEM => {
            let json: serde_json::Value = serde_json::from_slice(c.rest()).ok()?;
            let mut raw = fieldseal::item::json::item_from_json(&json).ok()?;
            for field in [HEADER_FIELD, FOOTER_FIELD] {
                raw.insert(field.into(), item[field].clone());
            }
            item = raw;
        }
        _ => apply_ops(&mut c, &mut item),
    }
    Some((scenario, item))
}

/// A value's signed identity: its canonical serialization (so `42` and
/// `42.0`, or a reordered set, count as the same signed value).
fn signed_form(v: &AttributeValue) -> Option<serialize::Terminal> {
    serialize::serialize(v).ok()
}

fn binary(item: &Item, field: &str) -> Vec<u8> {
    match item.get(field) {
        Some(AttributeValue::B(b)) => b.clone(),
        other => panic!("{field} is {other:?} but the item opened"),
    }
}

/// The footer of an item that opened: same length and signature as the
/// baseline's, and still carrying the tag of a recipient the decryptor holds.
/// Other recipients' tags are outside what a reader can check (one HMAC key
/// per data key; spec: footer.md#recipient-tag-verification, "at least one").
fn check_footer(scenario: &Scenario, mutated: &Item) {
    let base = binary(&scenario.sealed, FOOTER_FIELD);
    let got = binary(mutated, FOOTER_FIELD);
    assert_eq!(
        got.len(),
        base.len(),
        "footer length changed but the item opened"
    );
    let edks = match scenario.keyring {
        KeyringMode::Single => 1,
        _ => 2,
    };
    let tags_len = edks * RECIPIENT_TAG_LEN;
    assert_eq!(
        got[tags_len..],
        base[tags_len..],
        "signature changed but the item opened"
    );
    let held: &[usize] = match scenario.keyring {
        KeyringMode::Single => &[0],
        KeyringMode::Multi => &[0, 1],
        KeyringMode::MultiOpenedByChild => &[1],
    };
    let tag = |b: &[u8], i: usize| b[i * RECIPIENT_TAG_LEN..(i + 1) * RECIPIENT_TAG_LEN].to_vec();
    assert!(
        held.iter()
            .any(|&h| (0..edks).any(|i| tag(&got, i) == tag(&base, h))),
        "no recipient tag the decryptor holds is left, but the item opened"
    );
}

/// On a successful decrypt of `mutated`: the header and every signed value
/// are unchanged from the baseline, the footer passes [`check_footer`], the
/// opened item is the baseline plaintext on every signed attribute, and it
/// carries nothing else signed. Only unsigned attributes may differ, and
/// those pass through as given.
pub fn check_opened(scenario: &Scenario, mutated: &Item, opened: &Item) {
    let cfg = scenario.decryptor.config();
    assert_eq!(
        binary(mutated, HEADER_FIELD),
        binary(&scenario.sealed, HEADER_FIELD),
        "header changed but the item opened"
    );
    check_footer(scenario, mutated);
    for field in [HEADER_FIELD, FOOTER_FIELD] {
        assert!(!opened.contains_key(field), "opened item carries {field}");
    }
    let signed = |item: &Item| -> Vec<String> {
        item.keys()
            .filter(|k| !cfg.is_allowed_unsigned(k))
            .cloned()
            .collect()
    };
    assert_eq!(
        signed(mutated),
        signed(&scenario.sealed),
        "signed attributes were added or removed but the item opened"
    );
    for name in signed(&scenario.sealed) {
        assert_eq!(
            signed_form(&mutated[&name]),
            signed_form(&scenario.sealed[&name]),
            "signed attribute {name:?} changed but the item opened"
        );
    }
    assert_eq!(
        signed(opened),
        signed(&scenario.plaintext),
        "opened item has other signed attributes than the plaintext"
    );
    for name in signed(&scenario.plaintext) {
        assert_eq!(
            signed_form(&opened[&name]),
            signed_form(&scenario.plaintext[&name]),
            "opened {name:?} differs from the plaintext"
        );
    }
    for (name, value) in opened {
        if cfg.is_allowed_unsigned(name) {
            assert_eq!(
                mutated.get(name),
                Some(value),
                "unsigned {name:?} did not pass through unchanged"
            );
        }
    }
}

/// One `decrypt_mutated` execution.
pub fn run_decrypt_mutated(data: &[u8]) {
    let Some((scenario, item)) = mutated_item(data) else {
        return;
    };
    match pollster::block_on(scenario.decryptor.decrypt_item(&item)) {
        Ok(opened) => check_opened(scenario, &item, &opened),
        Err(e) => check_error(&e),
    }
}

/// Checks for `number_normalize`, written apart from fieldseal's own parser.
pub mod number {
    use std::str::FromStr;

    use bigdecimal::num_bigint::BigInt;
    use bigdecimal::{BigDecimal, Zero};

    /// Plain decimal, no exponent or `+`, no leading zeros (but a lone `0`
    /// before a fraction), no trailing fraction zeros, and never `-0`.
    pub fn assert_canonical(out: &str) {
        let body = out.strip_prefix('-').unwrap_or(out);
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        assert!(digits(int), "{out:?}: integer part");
        assert!(int == "0" || !int.starts_with('0'), "{out:?}: leading zero");
        if let Some(f) = frac {
            assert!(digits(f) && !f.ends_with('0'), "{out:?}: fraction");
        } else if int == "0" {
            assert_eq!(out, "0", "zero is spelled 0");
        }
    }

    /// DynamoDB's range: zero, or 1E-130 <= |v| < 1E126 with at most 38 significant digits.
    pub fn assert_in_range(v: &BigDecimal) {
        if v.is_zero() {
            return;
        }
        let abs = v.abs();
        assert!(
            abs >= BigDecimal::from_str("1E-130").expect("literal"),
            "{v}: too small"
        );
        assert!(
            abs < BigDecimal::from_str("1E126").expect("literal"),
            "{v}: too large"
        );
        let (significand, _) = abs.normalized().as_bigint_and_exponent();
        assert!(significand.to_string().len() <= 38, "{v}: too many digits");
    }

    /// The exact value of an accepted input, read by the grammar
    /// `[+-] digits [. digits] [(e|E) [+-] digits]` as digits × 10^(exponent −
    /// fraction length). `None` when the exponent does not fit an i64; panics
    /// if the input is not in that grammar (it was accepted as a number).
    pub fn exact_value(input: &str) -> Option<BigDecimal> {
        let (negative, rest) = match input.as_bytes().first() {
            Some(b'-') => (true, &input[1..]),
            Some(b'+') => (false, &input[1..]),
            _ => (false, input),
        };
        let (mantissa, exponent) = match rest.split_once(['e', 'E']) {
            Some((m, e)) => (m, Some(e)),
            None => (rest, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        assert!(
            all_digits(int) && all_digits(frac) && !(int.is_empty() && frac.is_empty()),
            "accepted a non-number mantissa: {input:?}"
        );
        let exponent: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                assert!(
                    !digits.is_empty() && all_digits(digits),
                    "accepted a non-number exponent: {input:?}"
                );
                e.parse().ok()?
            }
        };
        let significand = BigInt::from_str(&format!("{int}{frac}")).expect("digits");
        let scale = (frac.len() as i64).checked_sub(exponent)?;
        let v = BigDecimal::new(significand, scale);
        Some(if negative { -v } else { v })
    }
}

/// The checks must be able to fail: each is shown a violation it must catch.
/// `cargo test --manifest-path fuzz/Cargo.toml --lib`
#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::catch_unwind;

    fn panics(f: impl FnOnce()) -> bool {
        catch_unwind(std::panic::AssertUnwindSafe(f)).is_err()
    }

    #[test]
    fn canonical_numbers() {
        for ok in ["0", "-0.5", "10", "1.25", "-7"] {
            number::assert_canonical(ok);
        }
        for bad in ["01", "1.50", "-0", "1e3", "+1", ".5", "0.0", "1.", ""] {
            assert!(panics(|| number::assert_canonical(bad)), "{bad:?}");
        }
    }

    #[test]
    fn exact_values() {
        use bigdecimal::BigDecimal;
        use std::str::FromStr;
        let v = |s: &str| BigDecimal::from_str(s).unwrap();
        assert_eq!(number::exact_value("1.5e1"), Some(v("15")));
        assert_eq!(number::exact_value("-.5"), Some(v("-0.5")));
        assert_eq!(number::exact_value("+00.0011E+2"), Some(v("0.11")));
        assert_eq!(number::exact_value("1e99999999999999999999"), None);
        assert!(panics(|| {
            number::exact_value("1x");
        }));
        assert!(panics(|| number::assert_in_range(&v("1E126"))));
        assert!(panics(|| number::assert_in_range(&v("1E-131"))));
        assert!(panics(|| number::assert_in_range(&v(&"1".repeat(39)))));
        number::assert_in_range(&v("9.9E125"));
    }

    #[test]
    fn every_baseline_opens_unmutated() {
        for (i, s) in scenarios().iter().enumerate() {
            let (scenario, item) = mutated_item(&[i as u8, mode::OPS]).unwrap();
            assert!(std::ptr::eq(scenario, s));
            let opened = pollster::block_on(s.decryptor.decrypt_item(&item)).unwrap();
            check_opened(s, &item, &opened);
        }
    }

    #[test]
    fn check_opened_catches_changes() {
        let s = &scenarios()[1];
        // The same change in the sealed item and in what a decrypt returned.
        let changed = |f: fn(&mut Item)| {
            let (mut item, mut opened) = (s.sealed.clone(), s.plaintext.clone());
            f(&mut item);
            f(&mut opened);
            panics(|| check_opened(s, &item, &opened))
        };
        assert!(!changed(|_| {}));
        // Unsigned attributes may change; a respelled signed number is the same value.
        assert!(!changed(|i| {
            i.insert("note".into(), AttributeValue::Null);
        }));
        assert!(!changed(|i| {
            i.insert("sk".into(), n("4.20E1"));
        }));
        assert!(changed(|i| {
            i.insert("sk".into(), n("43"));
        }));
        assert!(changed(|i| {
            i.insert("tag".into(), AttributeValue::B(vec![0]));
        }));
        assert!(changed(|i| {
            i.remove("nums");
        }));
        assert!(changed(|i| {
            i.insert("new_signed".into(), AttributeValue::Null);
        }));
        for field in [HEADER_FIELD, FOOTER_FIELD] {
            let mut item = s.sealed.clone();
            if let Some(AttributeValue::B(b)) = item.get_mut(field) {
                *b.last_mut().unwrap() ^= 1;
            }
            assert!(panics(|| check_opened(s, &item, &s.plaintext)), "{field}");
        }
        // An opened item that differs from the plaintext on a signed attribute.
        let mut wrong = s.plaintext.clone();
        wrong.insert("secret".into(), AttributeValue::S("other".into()));
        assert!(panics(|| check_opened(s, &s.sealed, &wrong)));
    }

    #[test]
    fn errors_must_not_show_plaintext() {
        check_error(&Error::InvalidItem("fine".into()));
        assert!(panics(|| check_error(&Error::InvalidItem(
            SECRET_MARKER.into()
        ))));
    }
}
