//! Evaluating a condition expression on an opened (plaintext) item: the
//! filter that removes the false positives of truncated beacons after a
//! query. Port of FilterExpr.dfy's GetParsedExpr / EvalExpr / apply_*
//! (DynamoDbEncryption/dafny/DynamoDbEncryption/src).
//! Spec: dynamodb-encryption-client/ddb-support.md#queryoutputforbeacons
//!
//! The reference turns the tokens into reverse Polish notation and runs a
//! stack machine. Its converter never pushes `(`, so a `)` pops one
//! operator only, and `NOT (a = :x AND b = :y)` runs as `(NOT a = :x) AND
//! b = :y`; `IN` counts its operands as "the strings on top of the stack",
//! which miscounts when one of them is missing. This one parses the tokens
//! into a tree by DynamoDB's grammar and precedence (comparisons, IN,
//! BETWEEN, functions, NOT, AND, OR: the reference's `Precedence`), so the
//! filter keeps exactly the items DynamoDB itself would return. It also
//! follows DynamoDB where the reference fails or disagrees with it on
//! values DynamoDB accepts (the filter runs on what DynamoDB returned):
//! - a missing attribute (or `size` of one) makes a comparison, BETWEEN,
//!   IN, begins_with, contains and attribute_type false, and `<>` true;
//!   the reference fails the whole query ("wrong types for comparison");
//! - `<`, `<=`, `>`, `>=` and BETWEEN on values of different types (or of
//!   a type with no order: BOOL, NULL, sets, L, M) are false; the
//!   reference's `a < b` is `!(b <= a)`, true for any two such values;
//! - `=`, `<>` and IN compare canonical values (numbers by value, sets in
//!   any order, inside lists and maps too), as `=` on N already does in the
//!   reference; the reference's IN and set equality compare as written;
//! - a path's top-level `#name` resolves (`#n.x`), as DynamoDB does.
//!
//! Everything else is the reference's: numbers compare by value (its
//! FloatCompare over normalized numbers), strings by code point (its
//! UnicodeLess, which is DynamoDB's UTF-8 byte order), binaries by byte,
//! `size` counts UTF-16 code units of a string and the characters of a
//! number, `contains` / `begins_with` as its `does_contain` / `begins_with`.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::filter::Token;
use crate::error::{Error, Result};
use crate::item::normalize_number;
use crate::item::serialize::canonicalize;
use crate::item::{AttributeValue, Item};

/// Deepest nesting of parentheses the parser follows; far beyond any real
/// query, and low enough that the recursion cannot exhaust a wasm stack.
const MAX_DEPTH: usize = 100;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An operand: a document path, an expression attribute value, or `size(operand)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// The path as written (`a`, `#n`, `a.b[1]`).
    Attr(String),
    /// The placeholder (`:v`).
    Value(String),
    Size(Box<Operand>),
}

/// A condition, as DynamoDB's grammar has them. AND and OR keep their
/// operands in a list, so long chains stay flat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    Compare(CmpOp, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    AttributeExists(Operand),
    AttributeNotExists(Operand),
    AttributeType(Operand, Operand),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

/// Parse tokens (of an expression DynamoDB accepted) into a condition.
/// `what` names the expression in errors.
pub fn parse_condition(tokens: &[Token], what: &str) -> Result<Condition> {
    let mut p = Parser {
        tokens,
        pos: 0,
        what,
        depth: 0,
    };
    let cond = p.or()?;
    match tokens.get(p.pos) {
        None => Ok(cond),
        Some(t) => Err(p.unexpected(Some(t))),
    }
}

struct Parser<'t, 'w> {
    tokens: &'t [Token],
    pos: usize,
    what: &'w str,
    depth: usize,
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn unexpected(&self, t: Option<&Token>) -> Error {
        match t {
            Some(t) => {
                Error::RequestRefused(format!("{}: unexpected token '{}'", self.what, t.text()))
            }
            None => Error::RequestRefused(format!("{}: unexpected end of expression", self.what)),
        }
    }

    fn expect(&mut self, want: &Token) -> Result<()> {
        let pos = self.pos;
        match self.next() {
            Some(t) if t == want => Ok(()),
            _ => Err(self.unexpected(self.tokens.get(pos))),
        }
    }

    fn or(&mut self) -> Result<Condition> {
        let mut terms = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Condition::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Condition> {
        let mut terms = vec![self.not()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            terms.push(self.not()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Condition::And(terms)
        })
    }

    fn not(&mut self) -> Result<Condition> {
        // Counted, not recursed: NOT NOT ... of any length.
        let mut nots = 0usize;
        while self.peek() == Some(&Token::Not) {
            self.pos += 1;
            nots += 1;
        }
        let mut cond = self.primary()?;
        for _ in 0..nots {
            cond = Condition::Not(Box::new(cond));
        }
        Ok(cond)
    }

    fn primary(&mut self) -> Result<Condition> {
        let pos = self.pos;
        match self.peek() {
            Some(Token::Open) => {
                self.pos += 1;
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(Error::RequestRefused(format!(
                        "{}: parentheses nested deeper than {MAX_DEPTH}",
                        self.what
                    )));
                }
                let cond = self.or()?;
                self.depth -= 1;
                self.expect(&Token::Close)?;
                Ok(cond)
            }
            Some(Token::AttributeExists) => {
                let [a] = self.call::<1>()?;
                Ok(Condition::AttributeExists(a))
            }
            Some(Token::AttributeNotExists) => {
                let [a] = self.call::<1>()?;
                Ok(Condition::AttributeNotExists(a))
            }
            Some(Token::AttributeType) => {
                let [a, b] = self.call::<2>()?;
                Ok(Condition::AttributeType(a, b))
            }
            Some(Token::BeginsWith) => {
                let [a, b] = self.call::<2>()?;
                Ok(Condition::BeginsWith(a, b))
            }
            Some(Token::Contains) => {
                let [a, b] = self.call::<2>()?;
                Ok(Condition::Contains(a, b))
            }
            Some(Token::Attr(_) | Token::Value(_) | Token::Size) => {
                let left = self.operand()?;
                let op = self.next().cloned();
                match op {
                    Some(Token::Eq) => self.compare(CmpOp::Eq, left),
                    Some(Token::Ne) => self.compare(CmpOp::Ne, left),
                    Some(Token::Lt) => self.compare(CmpOp::Lt, left),
                    Some(Token::Le) => self.compare(CmpOp::Le, left),
                    Some(Token::Gt) => self.compare(CmpOp::Gt, left),
                    Some(Token::Ge) => self.compare(CmpOp::Ge, left),
                    Some(Token::Between) => {
                        let low = self.operand()?;
                        self.expect(&Token::And)?;
                        let high = self.operand()?;
                        Ok(Condition::Between(left, low, high))
                    }
                    Some(Token::In) => {
                        self.expect(&Token::Open)?;
                        let mut list = vec![self.operand()?];
                        while self.peek() == Some(&Token::Comma) {
                            self.pos += 1;
                            list.push(self.operand()?);
                        }
                        self.expect(&Token::Close)?;
                        Ok(Condition::In(left, list))
                    }
                    _ => Err(self.unexpected(self.tokens.get(self.pos - 1))),
                }
            }
            _ => Err(self.unexpected(self.tokens.get(pos))),
        }
    }

    fn compare(&mut self, op: CmpOp, left: Operand) -> Result<Condition> {
        let right = self.operand()?;
        Ok(Condition::Compare(op, left, right))
    }

    /// `name ( operand, ... )` with exactly N operands; `self.pos` is on the name.
    fn call<const N: usize>(&mut self) -> Result<[Operand; N]> {
        self.pos += 1;
        self.expect(&Token::Open)?;
        let mut args = Vec::with_capacity(N);
        for i in 0..N {
            if i > 0 {
                self.expect(&Token::Comma)?;
            }
            args.push(self.operand()?);
        }
        self.expect(&Token::Close)?;
        args.try_into()
            .map_err(|_| Error::Internal("function arity".into()))
    }

    fn operand(&mut self) -> Result<Operand> {
        let pos = self.pos;
        match self.next() {
            Some(Token::Attr(a)) => Ok(Operand::Attr(a.clone())),
            Some(Token::Value(v)) => Ok(Operand::Value(v.clone())),
            Some(Token::Size) => {
                self.expect(&Token::Open)?;
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(Error::RequestRefused(format!(
                        "{}: size() nested deeper than {MAX_DEPTH}",
                        self.what
                    )));
                }
                let inner = self.operand()?;
                self.depth -= 1;
                self.expect(&Token::Close)?;
                Ok(Operand::Size(Box::new(inner)))
            }
            _ => Err(self.unexpected(self.tokens.get(pos))),
        }
    }
}

/// What a condition is evaluated against: one item, the query's names and values.
pub struct Context<'a> {
    pub item: &'a Item,
    pub names: &'a BTreeMap<String, String>,
    pub values: &'a Item,
    /// Names the expression in errors.
    pub what: &'a str,
}

impl Context<'_> {
    /// Whether the item satisfies `cond` (EvalExpr).
    pub fn eval(&self, cond: &Condition) -> Result<bool> {
        Ok(match cond {
            Condition::Compare(op, a, b) => {
                match (self.operand(a)?, self.operand(b)?) {
                    (Some(x), Some(y)) => self.compare(*op, &x, &y)?,
                    // DynamoDB: a missing operand is unequal to anything.
                    _ => *op == CmpOp::Ne,
                }
            }
            Condition::Between(x, low, high) => {
                match (self.operand(x)?, self.operand(low)?, self.operand(high)?) {
                    // is_between: low <= x <= high
                    (Some(x), Some(low), Some(high)) => {
                        self.compare(CmpOp::Le, &low, &x)? && self.compare(CmpOp::Le, &x, &high)?
                    }
                    _ => false,
                }
            }
            Condition::In(target, list) => {
                let Some(target) = self.operand(target)? else {
                    return Ok(false);
                };
                for candidate in list {
                    if let Some(c) = self.operand(candidate)? {
                        if self.compare(CmpOp::Eq, &target, &c)? {
                            return Ok(true);
                        }
                    }
                }
                false
            }
            Condition::AttributeExists(a) => self.operand(a)?.is_some(),
            Condition::AttributeNotExists(a) => self.operand(a)?.is_none(),
            Condition::AttributeType(a, t) => match (self.operand(a)?, self.operand(t)?) {
                // IsAttrType: the type's name against the S (or N) value given.
                (Some(v), Some(t)) => match &*t {
                    AttributeValue::S(name) | AttributeValue::N(name) => v.type_name() == name,
                    _ => false,
                },
                _ => false,
            },
            Condition::BeginsWith(a, b) => match (self.operand(a)?, self.operand(b)?) {
                (Some(h), Some(n)) => begins_with(&h, &n),
                _ => false,
            },
            Condition::Contains(a, b) => match (self.operand(a)?, self.operand(b)?) {
                (Some(h), Some(n)) => does_contain(&h, &n),
                _ => false,
            },
            Condition::Not(c) => !self.eval(c)?,
            Condition::And(cs) => {
                for c in cs {
                    if !self.eval(c)? {
                        return Ok(false);
                    }
                }
                true
            }
            Condition::Or(cs) => {
                for c in cs {
                    if self.eval(c)? {
                        return Ok(true);
                    }
                }
                false
            }
        })
    }

    /// An operand's value; `None` if it does not exist (StackValueFrom*).
    fn operand<'s>(&'s self, o: &Operand) -> Result<Option<Cow<'s, AttributeValue>>> {
        Ok(match o {
            Operand::Value(v) => self.values.get(v).map(Cow::Borrowed),
            Operand::Attr(path) => resolve_path(self.item, path, self.names).map(Cow::Borrowed),
            Operand::Size(inner) => self
                .operand(inner)?
                .map(|v| Cow::Owned(AttributeValue::N(get_size(&v).to_string()))),
        })
    }

    /// apply_binary_comp, for two present values.
    fn compare(&self, op: CmpOp, x: &AttributeValue, y: &AttributeValue) -> Result<bool> {
        let ordered = |want: fn(Ordering) -> bool| -> Result<bool> {
            Ok(self.order(x, y)?.is_some_and(want))
        };
        match op {
            CmpOp::Eq => self.equal(x, y),
            CmpOp::Ne => Ok(!self.equal(x, y)?),
            CmpOp::Lt => ordered(Ordering::is_lt),
            CmpOp::Le => ordered(Ordering::is_le),
            CmpOp::Gt => ordered(Ordering::is_gt),
            CmpOp::Ge => ordered(Ordering::is_ge),
        }
    }

    /// AttributeEQ: numbers by value (CompareFloat), anything else canonically.
    fn equal(&self, x: &AttributeValue, y: &AttributeValue) -> Result<bool> {
        match (x, y) {
            (AttributeValue::N(a), AttributeValue::N(b)) => {
                Ok(compare_numbers(a, b, self.what)? == Ordering::Equal)
            }
            (AttributeValue::S(a), AttributeValue::S(b)) => Ok(a == b),
            (AttributeValue::B(a), AttributeValue::B(b)) => Ok(a == b),
            _ if x.type_name() != y.type_name() => Ok(false),
            // Sets in any order, numbers by value, inside lists and maps too.
            _ => match (canonicalize(x), canonicalize(y)) {
                (Ok(a), Ok(b)) => Ok(a == b),
                _ => Ok(x == y),
            },
        }
    }

    /// The order of two values of one ordered type (AttributeLE), `None` otherwise.
    fn order(&self, x: &AttributeValue, y: &AttributeValue) -> Result<Option<Ordering>> {
        Ok(match (x, y) {
            (AttributeValue::N(a), AttributeValue::N(b)) => Some(compare_numbers(a, b, self.what)?),
            // UnicodeLess: code point order, which is UTF-8 byte order: Rust's.
            (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.cmp(b)),
            (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
            _ => None,
        })
    }
}

/// The value at `path` in `item` (StackValueFromAttr): a `#name` written
/// whole is looked up through `names`; otherwise the path is followed from
/// its top-level name (resolved if it is a `#name`), map keys through
/// `names` when the map lacks them (TermLoc.GetTerminal).
pub fn resolve_path<'i>(
    item: &'i Item,
    path: &str,
    names: &BTreeMap<String, String>,
) -> Option<&'i AttributeValue> {
    if let Some(name) = names.get(path) {
        return item.get(name);
    }
    let mut segments = PathSegments::new(path);
    let top = match segments.next()? {
        Segment::Key(k) => k,
        Segment::Index(_) => return None,
    };
    let top = names.get(top).map_or(top, String::as_str);
    let mut v = item.get(top)?;
    for segment in segments {
        v = match (v, segment) {
            (AttributeValue::L(l), Segment::Index(i)) => l.get(i)?,
            (AttributeValue::M(m), Segment::Key(k)) => match m.get(k) {
                Some(x) => x,
                None => m.get(names.get(k)?)?,
            },
            _ => return None,
        };
    }
    Some(v)
}

/// One step of a path: a map key or a list index.
#[derive(Debug, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// The segments of a path as the tokenizer wrote it (`a.b[1]`, no spaces).
struct PathSegments<'a> {
    rest: &'a str,
    first: bool,
}

impl<'a> PathSegments<'a> {
    fn new(path: &'a str) -> Self {
        PathSegments {
            rest: path,
            first: true,
        }
    }
}

impl<'a> Iterator for PathSegments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let first = std::mem::replace(&mut self.first, false);
        if let Some(index) = self.rest.strip_prefix('[') {
            let end = index.find(']')?;
            let n = index[..end].parse().ok();
            self.rest = &index[end + 1..];
            // An index beyond usize is beyond any list: nothing there.
            return Some(n.map_or(Segment::Index(usize::MAX), Segment::Index));
        }
        let body = if first {
            self.rest
        } else {
            self.rest.strip_prefix('.')?
        };
        let end = body.find(['.', '[']).unwrap_or(body.len());
        self.rest = &body[end..];
        Some(Segment::Key(&body[..end]))
    }
}

/// GetSize: characters (UTF-16 code units) of a string or number, bytes of a
/// binary, elements of a set, list or map; 1 for BOOL and NULL.
fn get_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => s.encode_utf16().count(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(s) | AttributeValue::Ns(s) => s.len(),
        AttributeValue::Bs(s) => s.len(),
        AttributeValue::M(m) => m.len(),
        AttributeValue::L(l) => l.len(),
        AttributeValue::Null | AttributeValue::Bool(_) => 1,
    }
}

/// begins_with: a prefix of a string, number or binary of the same type;
/// a list whose first element is the needle, or that starts with the
/// needle's elements.
fn begins_with(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (haystack, needle) {
        (V::S(h), V::S(n)) | (V::N(h), V::N(n)) => h.starts_with(n.as_str()),
        (V::B(h), V::B(n)) => h.starts_with(n),
        (V::L(list), _) => match list.first() {
            None => false,
            Some(first) if first == needle => true,
            _ => match needle {
                V::L(n) => list.starts_with(n),
                _ => false,
            },
        },
        _ => false,
    }
}

/// does_contain: a substring of a string, number or binary of the same
/// type; a member of a set of the needle's type; an element of a list.
fn does_contain(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (haystack, needle) {
        (V::S(h), V::S(n)) | (V::N(h), V::N(n)) => h.contains(n.as_str()),
        (V::B(h), V::B(n)) => n.is_empty() || h.windows(n.len()).any(|w| w == n.as_slice()),
        (V::Ss(set), V::S(n)) | (V::Ns(set), V::N(n)) => set.contains(n),
        (V::Bs(set), V::B(n)) => set.contains(n),
        (V::L(list), _) => list.contains(needle),
        _ => false,
    }
}

/// Compare two DynamoDB numbers by value (CompareFloat over NormalizeNumber).
/// A malformed number fails the filter, as in the reference.
pub fn compare_numbers(a: &str, b: &str, what: &str) -> Result<Ordering> {
    let norm = |n: &str| {
        normalize_number(n).map_err(|e| match e {
            Error::InvalidItem(m) => Error::RequestRefused(format!("{what}: {m}")),
            other => other,
        })
    };
    let (a, b) = (norm(a)?, norm(b)?);
    Ok(compare_normalized(&a, &b))
}

/// Order of two normalized numbers (plain decimals: no exponent, no
/// redundant zeros, "0" for zero, a leading '-' only when negative).
fn compare_normalized(a: &str, b: &str) -> Ordering {
    let (a_neg, a_mag) = a.strip_prefix('-').map_or((false, a), |m| (true, m));
    let (b_neg, b_mag) = b.strip_prefix('-').map_or((false, b), |m| (true, m));
    match (a_neg, b_neg) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => compare_magnitudes(a_mag, b_mag),
        (true, true) => compare_magnitudes(b_mag, a_mag),
    }
}

fn compare_magnitudes(a: &str, b: &str) -> Ordering {
    let (a_int, a_frac) = int_and_fraction(a);
    let (b_int, b_frac) = int_and_fraction(b);
    // More integer digits is larger; then digit by digit; fractions have no
    // trailing zeros, so they compare as digit strings.
    a_int
        .len()
        .cmp(&b_int.len())
        .then_with(|| a_int.cmp(b_int))
        .then_with(|| a_frac.cmp(b_frac))
}

/// A normalized magnitude's integer digits ("" below 1) and fraction digits.
fn int_and_fraction(s: &str) -> (&str, &str) {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    (if int == "0" { "" } else { int }, frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_order() {
        let ordered = [
            "-1000", "-2.5", "-1", "-0.5", "-0.05", "0", "0.001", "0.01", "0.0101", "0.1", "1",
            "1.5", "2", "9.99", "10", "10.01", "100",
        ];
        for (i, a) in ordered.iter().enumerate() {
            for (j, b) in ordered.iter().enumerate() {
                assert_eq!(compare_normalized(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn path_segments() {
        let segs: Vec<Segment> = PathSegments::new("a.b[12].#c").collect();
        assert_eq!(
            segs,
            [
                Segment::Key("a"),
                Segment::Key("b"),
                Segment::Index(12),
                Segment::Key("#c")
            ]
        );
    }
}
