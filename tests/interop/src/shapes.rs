//! Item shapes for the interop matrix: each is a table configuration plus an
//! item, with the value every attribute must decrypt to written down by hand
//! (an oracle independent of both implementations' canonicalization).

use std::collections::BTreeMap;

use fieldseal::{AlgorithmSuiteId, AttributeValue as V, CryptoAction, Item};

use crate::spec::TableSpec;

use CryptoAction::{
    DoNothing, EncryptAndSign as Eas, SignAndIncludeInEncryptionContext as Ctx, SignOnly,
};

/// A table config and an item for it.
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: &'static str,
    pub table: TableSpec,
    pub input: Item,
    /// Every attribute's canonical form (unsigned attributes: as given),
    /// written by hand.
    pub canonical: Item,
    /// What the official SDK's own round trip returns: ENCRYPT_AND_SIGN
    /// attributes canonicalized, every other attribute exactly as given
    /// (it keeps non-encrypted values as written in the sealed item).
    pub expected: Item,
}

impl Shape {
    pub fn with_suite(&self, suite: AlgorithmSuiteId) -> Shape {
        let mut s = self.clone();
        s.table.suite = suite;
        s
    }
}

struct Builder {
    table: TableSpec,
    input: Item,
    canonical: Item,
    expected: Item,
}

impl Builder {
    fn new(table: &str, pk: &str, sk: Option<&str>) -> Self {
        Builder {
            table: TableSpec {
                logical_table_name: table.into(),
                partition_key_name: pk.into(),
                sort_key_name: sk.map(Into::into),
                actions: BTreeMap::new(),
                allowed_unsigned_attributes: Vec::new(),
                allowed_unsigned_attribute_prefix: None,
                suite: AlgorithmSuiteId::default(),
            },
            input: Item::new(),
            canonical: Item::new(),
            expected: Item::new(),
        }
    }

    /// An attribute whose canonical form is itself.
    fn a(self, name: &str, action: CryptoAction, v: V) -> Self {
        let c = v.clone();
        self.ac(name, action, v, c)
    }

    /// An attribute with its canonical (decrypted) form.
    fn ac(mut self, name: &str, action: CryptoAction, v: V, canonical: V) -> Self {
        if action != DoNothing || !self.table.is_unsigned(name) {
            self.table.actions.insert(name.into(), action);
        }
        if action == DoNothing
            && !self
                .table
                .allowed_unsigned_attribute_prefix
                .as_deref()
                .is_some_and(|p| name.starts_with(p))
        {
            self.table.allowed_unsigned_attributes.push(name.into());
        }
        let decrypted = if action == Eas {
            canonical.clone()
        } else {
            v.clone()
        };
        self.input.insert(name.into(), v);
        self.canonical.insert(name.into(), canonical);
        self.expected.insert(name.into(), decrypted);
        self
    }

    /// An attribute outside the config (only allowed under the unsigned prefix).
    fn unconfigured(mut self, name: &str, v: V) -> Self {
        self.input.insert(name.into(), v.clone());
        self.canonical.insert(name.into(), v.clone());
        self.expected.insert(name.into(), v);
        self
    }

    fn prefix(mut self, p: &str) -> Self {
        self.table.allowed_unsigned_attribute_prefix = Some(p.into());
        self
    }

    fn build(self, name: &'static str) -> Shape {
        Shape {
            name,
            table: self.table,
            input: self.input,
            canonical: self.canonical,
            expected: self.expected,
        }
    }
}

fn s(x: &str) -> V {
    V::S(x.into())
}
fn n(x: &str) -> V {
    V::N(x.into())
}
fn b(x: &[u8]) -> V {
    V::B(x.to_vec())
}
fn ss(x: &[&str]) -> V {
    V::Ss(x.iter().map(|s| s.to_string()).collect())
}
fn ns(x: &[&str]) -> V {
    V::Ns(x.iter().map(|s| s.to_string()).collect())
}
fn bs(x: &[&[u8]]) -> V {
    V::Bs(x.iter().map(|b| b.to_vec()).collect())
}
fn m(x: &[(&str, V)]) -> V {
    V::M(x.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

/// Two characters whose UTF-8 and UTF-16 orders differ:
/// U+FF61 < U+1F600 in UTF-8 (and code points), but in UTF-16 the surrogate
/// pair of U+1F600 (D83D DE00) sorts before FF61.
pub const HALFWIDTH: &str = "\u{FF61}";
pub const EMOJI: &str = "\u{1F600}";

/// Every attribute type under every action, v1 header (no context attributes),
/// with a sort key; numbers that need normalization; DO_NOTHING by list and prefix.
pub fn all_types() -> Shape {
    let nested_in = m(&[
        ("num", n("0010.500")),
        ("list", V::L(vec![n("-0"), s("x"), V::Null, V::Bool(false)])),
        ("set", ns(&["3", "1.0", "2"])),
        ("deep", m(&[("k", m(&[("kk", b(&[1, 2, 3]))]))])),
    ]);
    let nested_out = m(&[
        ("num", n("10.5")),
        ("list", V::L(vec![n("0"), s("x"), V::Null, V::Bool(false)])),
        ("set", ns(&["1", "2", "3"])),
        ("deep", m(&[("k", m(&[("kk", b(&[1, 2, 3]))]))])),
    ]);
    let list_in = V::L(vec![
        s("first"),
        n("1.50"),
        b(&[0, 0xff]),
        V::Bool(true),
        V::Null,
        V::L(vec![n("2E3"), V::L(vec![])]),
        m(&[("b", s("B")), ("a", s("A"))]),
        ss(&["z", "y"]),
        ns(&["10", "9"]),
        bs(&[&[2], &[1]]),
    ]);
    let list_out = V::L(vec![
        s("first"),
        n("1.5"),
        b(&[0, 0xff]),
        V::Bool(true),
        V::Null,
        V::L(vec![n("2000"), V::L(vec![])]),
        m(&[("b", s("B")), ("a", s("A"))]),
        ss(&["y", "z"]),
        ns(&["10", "9"]),
        bs(&[&[1], &[2]]),
    ]);
    Builder::new("InteropTable", "pk", Some("sk"))
        .prefix(":")
        .a("pk", SignOnly, s("partition-1"))
        .ac("sk", SignOnly, n("42.50"), n("42.5"))
        // ENCRYPT_AND_SIGN, every type
        .a("e_s", Eas, s("héllo wörld \u{2713}"))
        .a("e_s_empty", Eas, s(""))
        .ac("e_n", Eas, n("1.50"), n("1.5"))
        .ac("e_n_negzero", Eas, n("-0"), n("0"))
        .ac(
            "e_n_big",
            Eas,
            n("-000123456789012345678901234567890123456.000"),
            n("-123456789012345678901234567890123456"),
        )
        .ac(
            "e_n_small",
            Eas,
            n("0.000000000000000000000000000000000000012300"),
            n("0.0000000000000000000000000000000000000123"),
        )
        .a("e_b", Eas, b(&[0, 1, 2, 0xfe, 0xff]))
        .a("e_b_empty", Eas, b(&[]))
        .a("e_bool", Eas, V::Bool(true))
        .a("e_null", Eas, V::Null)
        .ac("e_l", Eas, list_in.clone(), list_out.clone())
        .a("e_l_empty", Eas, V::L(vec![]))
        .ac("e_m", Eas, nested_in.clone(), nested_out.clone())
        .a("e_m_empty", Eas, V::M(BTreeMap::new()))
        .ac(
            "e_ss",
            Eas,
            ss(&["b", "a", HALFWIDTH, EMOJI, "ab"]),
            ss(&["a", "ab", "b", EMOJI, HALFWIDTH]),
        )
        .ac(
            "e_ns",
            Eas,
            ns(&["10", "9", "1.50", "-3", "0.5"]),
            ns(&["-3", "0.5", "1.5", "10", "9"]),
        )
        .ac(
            "e_bs",
            Eas,
            bs(&[&[3], &[1, 2], &[0xff], &[1]]),
            bs(&[&[1], &[1, 2], &[3], &[0xff]]),
        )
        // SIGN_ONLY, every type
        .a("s_s", SignOnly, s("signed only"))
        .ac("s_n", SignOnly, n("-0.0"), n("0"))
        .a("s_b", SignOnly, b(&[9, 8, 7]))
        .a("s_bool", SignOnly, V::Bool(false))
        .a("s_null", SignOnly, V::Null)
        .ac("s_l", SignOnly, list_in, list_out)
        .ac("s_m", SignOnly, nested_in, nested_out)
        .ac(
            "s_ss",
            SignOnly,
            ss(&[EMOJI, HALFWIDTH, "z", "a"]),
            ss(&["a", "z", EMOJI, HALFWIDTH]),
        )
        .ac(
            "s_ns",
            SignOnly,
            ns(&["100", "20", "3.0"]),
            ns(&["100", "20", "3"]),
        )
        .ac(
            "s_bs",
            SignOnly,
            bs(&[&[0xff, 0], &[0]]),
            bs(&[&[0], &[0xff, 0]]),
        )
        // DO_NOTHING: one by allowedUnsignedAttributes, two by the prefix
        .a("unsigned_listed", DoNothing, n("1.50"))
        .a(":unsigned_prefixed", DoNothing, ss(&["b", "a"]))
        .unconfigured(":not_in_config", m(&[("x", n("007"))]))
        .build("all-types/v1/sort-key")
}

/// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attributes (v2 header), no sort key.
pub fn context_v2() -> Shape {
    Builder::new("InteropTableV2", "RecNum", None)
        .prefix("u_")
        .ac("RecNum", Ctx, n("0001.000"), n("1"))
        .a("c_s", Ctx, s("context string \u{FF61}"))
        .ac("c_n", Ctx, n("-12.340"), n("-12.34"))
        .a("c_b", Ctx, b(&[0xde, 0xad, 0xbe, 0xef]))
        .a("c_bool", Ctx, V::Bool(true))
        .a("c_null", Ctx, V::Null)
        .a("e_s", Eas, s("secret"))
        .ac(
            "e_m",
            Eas,
            m(&[("n", n("1.50")), ("s", s("x"))]),
            m(&[("n", n("1.5")), ("s", s("x"))]),
        )
        .ac("e_ss", Eas, ss(&["q", "p"]), ss(&["p", "q"]))
        .ac(
            "s_l",
            SignOnly,
            V::L(vec![n("5.0"), s("y")]),
            V::L(vec![n("5"), s("y")]),
        )
        .a("s_s", SignOnly, s("signed"))
        .a("u_unsigned", DoNothing, s("not signed"))
        .build("context/v2/no-sort-key")
}

/// Attribute names and map keys whose UTF-8 and UTF-16 orders differ, and
/// names that are prefixes of one another; sort key with a non-ASCII name.
pub fn utf16_order() -> Shape {
    let keys = [
        "a",
        "aa",
        "aaa",
        "ab",
        "b",
        "Z",
        "\u{e9}",
        HALFWIDTH,
        EMOJI,
        "a\u{FF61}",
        "a\u{1F600}",
    ];
    let map: Vec<(&str, V)> = keys.iter().map(|k| (*k, s(&format!("v-{k}")))).collect();
    let mut bld = Builder::new("Tab\u{FF61}le\u{1F600}", "pk", Some("sk\u{1F600}"))
        .a("pk", SignOnly, b(&[1, 2, 3]))
        .a("sk\u{1F600}", SignOnly, s("sort"));
    for (i, k) in keys.iter().enumerate() {
        // Alternate actions so the legend order (by UTF-16) matters.
        let action = if i % 2 == 0 { Eas } else { SignOnly };
        bld = bld.a(k, action, n(&format!("{i}")));
        bld = bld.a(
            &format!("x{k}"),
            if i % 2 == 0 { SignOnly } else { Eas },
            s(k),
        );
    }
    bld.a("map_e", Eas, m(&map))
        .a("map_s", SignOnly, m(&map))
        .ac(
            "set_e",
            Eas,
            ss(&[EMOJI, HALFWIDTH, "a", "\u{e9}"]),
            ss(&["a", "\u{e9}", EMOJI, HALFWIDTH]),
        )
        .build("utf16-order/sort-key")
}

pub fn all_shapes() -> Vec<Shape> {
    vec![all_types(), context_v2(), utf16_order()]
}
