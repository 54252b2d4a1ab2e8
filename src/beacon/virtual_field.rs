//! Terminal locations (`a.b[2].c`) and virtual fields (values built from
//! other attributes through transforms).
//! Spec: searchable-encryption/virtual.md; reference code: TermLoc.dfy, Virtual.dfy.
//!
//! Strings are the DB-ESDK's: sequences of UTF-16 code units (its Dafny is
//! compiled with `unicode-char false`), so lengths, positions and the split
//! character of the transforms count UTF-16 code units, as aws-db-esdk does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::config::{VirtualFieldConfig, VirtualTransform};
use crate::error::{Error, Result};
use crate::item::serialize;
use crate::item::{AttributeValue, Item};

/// One step of a terminal location. Spec: virtual.md#segments
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Selector {
    List(u64),
    Map(String),
}

/// A parsed terminal location: one or more selectors, the first a map key
/// (the top-level attribute name). Spec: virtual.md#terminal-location
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TermLoc(Vec<Selector>);

impl TermLoc {
    /// `[Map(attr)]`: the location of a top-level attribute (TermLocMap).
    pub fn attr(name: &str) -> TermLoc {
        TermLoc(vec![Selector::Map(name.to_owned())])
    }

    /// Parse a terminal location, as MakeTermLoc.
    pub fn parse(s: &str) -> Result<TermLoc> {
        if s.is_empty() {
            return Err(Error::InvalidConfig(
                "a terminal location must not be empty".into(),
            ));
        }
        match find_start_of_next(s) {
            None => Ok(TermLoc::attr(s)),
            Some(pos) => {
                let mut sels = vec![Selector::Map(s[..pos].to_owned())];
                get_selectors(&s[pos..], &mut sels)?;
                Ok(TermLoc(sels))
            }
        }
    }

    pub fn selectors(&self) -> &[Selector] {
        &self.0
    }

    /// The top-level attribute name (`loc[0].key`).
    pub fn key(&self) -> &str {
        match self.0.first() {
            Some(Selector::Map(k)) => k,
            // `parse` and `attr` always start with a map key.
            _ => "",
        }
    }

    /// Number of selectors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value at this location (TermToAttr): `None` if the attribute is
    /// missing or the path does not lead anywhere. `names` (a query's
    /// ExpressionAttributeNames) may map a map key to its real name.
    pub fn term_to_attr(
        &self,
        item: &Item,
        names: Option<&BTreeMap<String, String>>,
    ) -> Option<AttributeValue> {
        let top = item.get(self.key())?;
        get_terminal(top, &self.0[1..], names).cloned()
    }

    /// The value at this location as a string (TermToString).
    pub fn term_to_string(&self, item: &Item) -> Result<Option<String>> {
        match self.term_to_attr(item, None) {
            None => Ok(None),
            Some(v) => attr_value_to_string(&v).map(Some),
        }
    }

    /// The value at this location, serialized (TermToBytes).
    /// Spec: ddb-attribute-serialization.md
    pub fn term_to_bytes(&self, item: &Item) -> Result<Option<Vec<u8>>> {
        match self.term_to_attr(item, None) {
            None => Ok(None),
            Some(v) => Ok(Some(serialize::serialize(&v)?.value)),
        }
    }
}

/// TermLocToString: `a.b[2].c`.
impl fmt::Display for TermLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())?;
        for sel in &self.0[1..] {
            match sel {
                Selector::Map(k) => write!(f, ".{k}")?,
                Selector::List(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Index of the first '.' or '[' (FindStartOfNext).
fn find_start_of_next(s: &str) -> Option<usize> {
    s.find(['.', '['])
}

/// GetSelectors: `s` starts with '.' or '['.
fn get_selectors(mut s: &str, acc: &mut Vec<Selector>) -> Result<()> {
    loop {
        let pos = find_start_of_next(&s[1..]);
        let end = pos.map_or(s.len(), |p| p + 1);
        acc.push(get_selector(&s[..end])?);
        match pos {
            None => return Ok(()),
            Some(_) => s = &s[end..],
        }
    }
}

/// GetSelector: `.name` or `[digits]`.
fn get_selector(s: &str) -> Result<Selector> {
    if let Some(key) = s.strip_prefix('.') {
        return Ok(Selector::Map(key.to_owned()));
    }
    let Some(inner) = s.strip_suffix(']') else {
        return Err(Error::InvalidConfig(
            "terminal location: a list index must end with ]".into(),
        ));
    };
    Ok(Selector::List(get_number(&inner[1..])?))
}

/// GetNumber, as aws-db-esdk 1.3 runs it: every step reads the FIRST digit
/// (`s[0]`, not `s[pos]`), so "12" is 11 and "1x" is 11. The code wins over
/// the spec's "decimal integer": the same locations select the same values.
fn get_number(s: &str) -> Result<u64> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let mut acc: u64 = 0;
    for _ in 0..units.len() {
        let first = units[0];
        if !(u16::from(b'0')..=u16::from(b'9')).contains(&first) {
            return Err(Error::InvalidConfig(
                "terminal location: unexpected character in a list index".into(),
            ));
        }
        if acc >= 0x0fff_ffff_ffff_ffff {
            return Err(Error::InvalidConfig(
                "terminal location: list index too big".into(),
            ));
        }
        acc = acc * 10 + u64::from(first - u16::from(b'0'));
    }
    Ok(acc)
}

/// GetTerminal: follow `parts` into `v`.
fn get_terminal<'a>(
    mut v: &'a AttributeValue,
    parts: &[Selector],
    names: Option<&BTreeMap<String, String>>,
) -> Option<&'a AttributeValue> {
    for part in parts {
        v = match (v, part) {
            (AttributeValue::L(l), Selector::List(i)) => l.get(usize::try_from(*i).ok()?)?,
            (AttributeValue::M(m), Selector::Map(k)) => match m.get(k) {
                Some(x) => x,
                None => m.get(names?.get(k)?)?,
            },
            _ => return None,
        };
    }
    Some(v)
}

/// AttrValueToString: S and N as they are, BOOL and NULL spelled out.
pub fn attr_value_to_string(v: &AttributeValue) -> Result<String> {
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => Ok(s.clone()),
        AttributeValue::Bool(b) => Ok(if *b { "true" } else { "false" }.to_owned()),
        AttributeValue::Null => Ok("null".to_owned()),
        other => Err(Error::InvalidItem(format!(
            "a beacon or virtual field source of type {} cannot be used as a string",
            other.type_name()
        ))),
    }
}

/// One transform, checked. Spec: virtual.md#virtual-transform-initialization
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transform {
    Upper,
    Lower,
    Insert(Vec<u16>),
    Prefix(i32),
    Suffix(i32),
    Substring(i32, i32),
    Segment(u16, i32),
    Segments(u16, i32, i32),
}

/// A virtual part: a location and its transforms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualPart {
    pub loc: TermLoc,
    pub trans: Vec<Transform>,
}

/// A virtual field. Spec: virtual.md#virtual-field-initialization
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualField {
    pub name: String,
    pub parts: Vec<VirtualPart>,
}

/// Virtual fields by name.
pub type VirtualFieldMap = BTreeMap<String, VirtualField>;

impl VirtualField {
    /// ParseVirtualFieldConfig, plus the one-character split the model requires.
    pub fn parse(config: &VirtualFieldConfig) -> Result<VirtualField> {
        let bad =
            |what: String| Error::InvalidConfig(format!("virtual field {:?}: {what}", config.name));
        if config.parts.is_empty() {
            return Err(bad("needs at least one part".into()));
        }
        let mut parts = Vec::with_capacity(config.parts.len());
        for p in &config.parts {
            let loc = TermLoc::parse(&p.loc).map_err(|e| bad(e.to_string()))?;
            let trans = p
                .trans
                .iter()
                .map(|t| Transform::parse(t).map_err(|e| bad(e.to_string())))
                .collect::<Result<Vec<_>>>()?;
            parts.push(VirtualPart { loc, trans });
        }
        Ok(VirtualField {
            name: config.name.clone(),
            parts,
        })
    }

    /// Whether `exam` holds for the location of any part.
    pub fn examine(&self, exam: impl Fn(&TermLoc) -> bool) -> bool {
        self.parts.iter().any(|p| exam(&p.loc))
    }

    /// The top-level attributes it reads, one per part.
    pub fn get_fields(&self) -> Vec<String> {
        self.parts.iter().map(|p| p.loc.key().to_owned()).collect()
    }

    pub fn get_locs(&self) -> BTreeSet<&TermLoc> {
        // Inserted one by one: collecting a set sorts, one more copy of the sort.
        let mut locs = BTreeSet::new();
        for p in &self.parts {
            locs.insert(&p.loc);
        }
        locs
    }

    pub fn has_single_loc(&self, loc: &TermLoc) -> bool {
        self.parts.len() == 1 && self.parts[0].loc == *loc
    }

    /// The field's value for `item` (GetVirtField): the concatenation of its
    /// parts, each the value at its location through its transforms; `None`
    /// if any location is missing. Spec: virtual.md#virtual-part-initialization
    pub fn get_value(&self, item: &Item) -> Result<Option<String>> {
        let mut acc: Vec<u16> = Vec::new();
        for part in &self.parts {
            let Some(value) = part.loc.term_to_string(item)? else {
                return Ok(None);
            };
            let mut s: Vec<u16> = value.encode_utf16().collect();
            for t in &part.trans {
                s = t.apply(&s);
            }
            acc.extend_from_slice(&s);
        }
        // A transform may cut a surrogate pair; the reference then fails to
        // encode the value as UTF-8.
        String::from_utf16(&acc).map(Some).map_err(|_| {
            Error::InvalidItem(format!(
                "virtual field {:?}: its transforms split a character in two",
                self.name
            ))
        })
    }
}

impl Transform {
    pub fn parse(t: &VirtualTransform) -> Result<Transform> {
        let split_unit = |split: &str| -> Result<u16> {
            let mut units = split.encode_utf16();
            match (units.next(), units.next()) {
                (Some(u), None) => Ok(u),
                _ => Err(Error::InvalidConfig(
                    "a segment split must be exactly one character".into(),
                )),
            }
        };
        Ok(match t {
            VirtualTransform::Upper => Transform::Upper,
            VirtualTransform::Lower => Transform::Lower,
            VirtualTransform::Insert { literal } => {
                Transform::Insert(literal.encode_utf16().collect())
            }
            VirtualTransform::Prefix { length } => Transform::Prefix(*length),
            VirtualTransform::Suffix { length } => Transform::Suffix(*length),
            VirtualTransform::Substring { low, high } => Transform::Substring(*low, *high),
            VirtualTransform::Segment { split, index } => {
                Transform::Segment(split_unit(split)?, *index)
            }
            VirtualTransform::Segments { split, low, high } => {
                Transform::Segments(split_unit(split)?, *low, *high)
            }
        })
    }

    /// DoTransform, on UTF-16 code units.
    pub fn apply(&self, s: &[u16]) -> Vec<u16> {
        match self {
            Transform::Upper => s.iter().map(|&c| upper_char(c)).collect(),
            Transform::Lower => s.iter().map(|&c| lower_char(c)).collect(),
            Transform::Insert(lit) => [s, lit.as_slice()].concat(),
            Transform::Prefix(len) => get_prefix(s, i64::from(*len)).to_vec(),
            Transform::Suffix(len) => get_suffix(s, i64::from(*len)).to_vec(),
            Transform::Substring(lo, hi) => {
                get_substring(s, i64::from(*lo), i64::from(*hi)).to_vec()
            }
            Transform::Segment(split, index) => get_segment(s, *split, i64::from(*index)),
            Transform::Segments(split, lo, hi) => {
                get_segments(s, *split, i64::from(*lo), i64::from(*hi))
            }
        }
    }
}

fn upper_char(c: u16) -> u16 {
    if (u16::from(b'a')..=u16::from(b'z')).contains(&c) {
        c - 32
    } else {
        c
    }
}

fn lower_char(c: u16) -> u16 {
    if (u16::from(b'A')..=u16::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// GetPrefix. Spec: virtual.md#getprefix-transform-initialization
pub fn get_prefix(s: &[u16], length: i64) -> &[u16] {
    let n = s.len() as i64;
    if length >= 0 {
        &s[..length.min(n) as usize]
    } else {
        &s[..(n - (-length).min(n)) as usize]
    }
}

/// GetSuffix. Spec: virtual.md#getsuffix-transform-initialization
pub fn get_suffix(s: &[u16], length: i64) -> &[u16] {
    let n = s.len() as i64;
    if length >= 0 {
        &s[(n - length.min(n)) as usize..]
    } else {
        &s[(-length).min(n) as usize..]
    }
}

/// GetPos: a position as an inclusive index into `limit` items; negative
/// counts from the end (-1 is the last). Spec: virtual.md#position-definition
pub fn get_pos(pos: i64, limit: usize) -> usize {
    let limit = limit as i64;
    let r = if limit == 0 {
        0
    } else if pos >= 0 {
        pos.min(limit - 1)
    } else if limit + pos < 0 {
        0
    } else {
        limit + pos
    };
    r as usize
}

/// GetSubstring: low inclusive, high exclusive, both through GetPos (so a
/// high past the end stops BEFORE the last character, as the reference does).
/// Spec: virtual.md#getsubstring-transform-initialization
pub fn get_substring(s: &[u16], low: i64, high: i64) -> &[u16] {
    let lo = get_pos(low, s.len());
    let hi = get_pos(high, s.len());
    if lo < hi {
        &s[lo..hi]
    } else {
        &[]
    }
}

/// GetSegment. Spec: virtual.md#getsegment-transform-initialization
pub fn get_segment(s: &[u16], split: u16, index: i64) -> Vec<u16> {
    let parts: Vec<&[u16]> = s.split(|&c| c == split).collect();
    let n = parts.len() as i64;
    if index >= n || -index > n {
        Vec::new()
    } else {
        parts[get_pos(index, parts.len())].to_vec()
    }
}

/// GetSegments. Spec: virtual.md#getsegments-transform-initialization
pub fn get_segments(s: &[u16], split: u16, low: i64, high: i64) -> Vec<u16> {
    let parts: Vec<&[u16]> = s.split(|&c| c == split).collect();
    let lo = get_pos(low, parts.len());
    let hi = get_pos(high, parts.len());
    if lo < hi {
        parts[lo..hi].join(&split)
    } else {
        Vec::new()
    }
}

/// VirtToAttr: a one-selector location naming a virtual field is that
/// field's value (as S); anything else is read from the item.
pub fn virt_to_attr(
    loc: &TermLoc,
    item: &Item,
    vf: &VirtualFieldMap,
) -> Result<Option<AttributeValue>> {
    match single_virtual(loc, vf) {
        Some(field) => Ok(field.get_value(item)?.map(AttributeValue::S)),
        None => Ok(loc.term_to_attr(item, None)),
    }
}

/// VirtToBytes: a virtual field's value as UTF-8 (no serialization
/// header), else the serialized value at the location.
pub fn virt_to_bytes(loc: &TermLoc, item: &Item, vf: &VirtualFieldMap) -> Result<Option<Vec<u8>>> {
    match single_virtual(loc, vf) {
        Some(field) => Ok(field.get_value(item)?.map(String::into_bytes)),
        None => loc.term_to_bytes(item),
    }
}

/// VirtToString.
pub fn virt_to_string(loc: &TermLoc, item: &Item, vf: &VirtualFieldMap) -> Result<Option<String>> {
    match single_virtual(loc, vf) {
        Some(field) => field.get_value(item),
        None => loc.term_to_string(item),
    }
}

fn single_virtual<'a>(loc: &TermLoc, vf: &'a VirtualFieldMap) -> Option<&'a VirtualField> {
    if loc.len() == 1 {
        vf.get(loc.key())
    } else {
        None
    }
}
