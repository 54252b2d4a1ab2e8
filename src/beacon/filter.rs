//! Condition expressions and beacons: rewriting a query's key condition and
//! filter to beacon names and values, and applying the original expression
//! to the opened items. Port of FilterExpr.dfy (and DDBSupport.dfy's
//! ExtractPartition, Transforms' GetNumberOfQueries.dfy).
//! Spec: dynamodb-encryption-client/ddb-support.md#queryinputforbeacons,
//! #queryoutputforbeacons, #scaninputforbeacons; searchable-encryption/beacons.md,
//! search-config.md#get-beacon-key-for-query, changes/2025-08-25-beacon-partitions.
//!
//! Tokens, and the rewrite that walks them, are the reference's. The
//! tokenizer is not (it is [`crate::ddb::expr`]'s, which every DynamoDB
//! expression goes through): the reference's (FindIndexToken) reads keywords as
//! prefixes (`inventory` is IN + `ventory`, `order` OR + `der`), stops
//! reading at the first tab or newline, and splits `#n.x` in two. The
//! rewrite puts the tokens back together into the expression sent, so such
//! a misreading would send another query than the caller's. Here keywords
//! are whole words (any case), all whitespace separates, a path (`a.b[1]`,
//! `#n.x`) is one token, function names are DynamoDB's (case-sensitive,
//! followed by `(`), and a character DynamoDB's grammar has no use for is
//! refused.
//!
//! Refusals are [`Error::RequestRefused`]; their messages name attributes,
//! beacons and placeholders, never a value.

use std::collections::BTreeMap;
use std::fmt;

use super::eval::{parse_condition, Condition, Context};
use super::info::{lcm_partition, Beacon, BeaconVersion, CompoundBeacon};
use super::keys::{KeyLocation, MaybeKeyId, MaybeKeyMap};
use crate::ddb::expr::{self, Grammar, Tok};
use crate::encryptor::CryptoAction;
use crate::error::{Error, Result};
use crate::item::{AttributeValue, Item};

pub use super::info::BEACON_PREFIX;
pub use crate::ddb::expr::validate_expression_length;

/// A token of a condition expression (FilterExpr.dfy's `Token`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// A document path as written, without whitespace: `a`, `#n`, `a.b[1]`.
    Attr(String),
    /// An expression attribute value placeholder: `:v`.
    Value(String),
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Between,
    In,
    Open,
    Close,
    Comma,
    Not,
    And,
    Or,
    AttributeExists,
    AttributeNotExists,
    AttributeType,
    BeginsWith,
    Contains,
    Size,
}

impl Token {
    /// The token as it is written back (TokenToString).
    pub fn text(&self) -> &str {
        match self {
            Token::Attr(s) | Token::Value(s) => s,
            Token::Eq => "=",
            Token::Ne => "<>",
            Token::Lt => "<",
            Token::Gt => ">",
            Token::Le => "<=",
            Token::Ge => ">=",
            Token::Between => "BETWEEN",
            Token::In => "IN",
            Token::Open => "(",
            Token::Close => ")",
            Token::Comma => ",",
            Token::Not => "NOT",
            Token::And => "AND",
            Token::Or => "OR",
            Token::AttributeExists => "attribute_exists",
            Token::AttributeNotExists => "attribute_not_exists",
            Token::AttributeType => "attribute_type",
            Token::BeginsWith => "begins_with",
            Token::Contains => "contains",
            Token::Size => "size",
        }
    }

    /// IsComp: `= <> < > <= >=`.
    pub fn is_comp(&self) -> bool {
        matches!(
            self,
            Token::Eq | Token::Ne | Token::Lt | Token::Gt | Token::Le | Token::Ge
        )
    }

    /// IsEquality: `=`, `<>`, IN.
    pub fn is_equality(&self) -> bool {
        matches!(self, Token::Eq | Token::Ne | Token::In)
    }

    /// IsInequality: `< <= > >=`.
    pub fn is_inequality(&self) -> bool {
        matches!(self, Token::Lt | Token::Le | Token::Gt | Token::Ge)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// The tokens written back, one space apart (ParsedExprToString).
pub fn tokens_to_string(tokens: &[Token]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(t.text());
    }
    out
}

/// Split a condition expression into tokens (ParseExpr), read by the
/// tokenizer of every DynamoDB expression ([`crate::ddb::expr`]). `what`
/// names the expression in errors ("FilterExpression").
pub fn parse_expr(expr: &str, what: &str) -> Result<Vec<Token>> {
    let toks = expr::tokenize(expr, what, Grammar::Condition)?;
    toks.iter()
        .enumerate()
        .map(|(i, t)| token(*t, toks.get(i + 1), what))
        .collect()
}

/// [`parse_expr`] of an optional expression (ParseExprOpt).
pub fn parse_expr_opt(expr: Option<&str>, what: &str) -> Result<Vec<Token>> {
    expr.map_or(Ok(Vec::new()), |e| parse_expr(e, what))
}

/// A token of the condition grammar; `next` tells a function call (`(`
/// follows) from an attribute of the same name.
fn token(t: Tok<'_>, next: Option<&Tok<'_>>, what: &str) -> Result<Token> {
    Ok(match t {
        Tok::Value(v) => Token::Value(v.to_owned()),
        Tok::Punct(p) => match p {
            "(" => Token::Open,
            ")" => Token::Close,
            "," => Token::Comma,
            "=" => Token::Eq,
            "<>" => Token::Ne,
            "<" => Token::Lt,
            "<=" => Token::Le,
            ">" => Token::Gt,
            ">=" => Token::Ge,
            // The condition grammar has no arithmetic; the tokenizer refuses it first.
            _ => return Err(expr::refuse(what, "unexpected character", p)),
        },
        Tok::Path(path) => {
            let keyword = match path.text.to_ascii_lowercase().as_str() {
                _ if path.text != path.top => None,
                "and" => Some(Token::And),
                "or" => Some(Token::Or),
                "not" => Some(Token::Not),
                "between" => Some(Token::Between),
                "in" => Some(Token::In),
                _ => None,
            };
            // DynamoDB's function names are case-sensitive, and call with '('.
            let function = match path.text {
                _ if next != Some(&Tok::Punct("(")) => None,
                "attribute_exists" => Some(Token::AttributeExists),
                "attribute_not_exists" => Some(Token::AttributeNotExists),
                "attribute_type" => Some(Token::AttributeType),
                "begins_with" => Some(Token::BeginsWith),
                "contains" => Some(Token::Contains),
                "size" => Some(Token::Size),
                _ => None,
            };
            // The path written without the whitespace DynamoDB allows around `.`, `[` and `]`.
            keyword
                .or(function)
                .unwrap_or_else(|| Token::Attr(path.text.split_whitespace().collect()))
        }
    })
}

/// RealName: a beacon's attribute name (`aws_dbe_b_X`) read as the beacon's name (`X`).
pub fn real_name(s: &str) -> &str {
    match s.strip_prefix(BEACON_PREFIX) {
        Some(rest) if !rest.is_empty() => rest,
        _ => s,
    }
}

/// GetAttrName: a token's attribute name, a `#name` resolved (unresolved if unknown).
pub fn attr_name<'a>(token: &'a str, names: &'a BTreeMap<String, String>) -> &'a str {
    names.get(token).map_or(token, String::as_str)
}

/// The top-level attribute a path token reads: `a` of `a.b[1]`, the
/// resolved name of `#n` in `#n.x`.
pub fn top_level_name<'a>(token: &'a str, names: &'a BTreeMap<String, String>) -> &'a str {
    if let Some(name) = names.get(token) {
        return name;
    }
    let end = token.find(['.', '[']).unwrap_or(token.len());
    attr_name(&token[..end], names)
}

// ---------------------------------------------------------------------------
// Beacons in an expression.

/// The names a query's expressions use: ExpressionAttributeNames.
pub type Names = BTreeMap<String, String>;

/// A query's key condition, filter, names and values (ExprContext). An
/// empty map stands for an absent one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExprContext {
    pub key_expr: Option<String>,
    pub filter_expr: Option<String>,
    pub values: Item,
    pub names: Names,
}

/// A beacon, if any, that an expression attribute value is compared with,
/// and how (EqualityBeacon).
#[derive(Clone, Copy, Debug)]
pub struct EqualityBeacon<'b> {
    pub beacon: Option<&'b Beacon>,
    pub for_equality: bool,
    pub for_contains: bool,
}

impl EqualityBeacon<'_> {
    const NONE: EqualityBeacon<'static> = EqualityBeacon {
        beacon: None,
        for_equality: true,
        for_contains: false,
    };
}

fn refuse(message: String) -> Error {
    Error::RequestRefused(message)
}

/// HasBeacon: the token is an attribute with a beacon, or one that needs
/// one (an encrypted attribute). A path into an encrypted attribute needs
/// one too (the reference does not see those).
pub fn has_beacon(bv: &BeaconVersion, t: &Token, names: &Names) -> bool {
    let Token::Attr(s) = t else {
        return false;
    };
    let name = real_name(s);
    let indirect = names.get(name).map(|n| real_name(n));
    bv.beacons.contains_key(name)
        || indirect.is_some_and(|n| bv.beacons.contains_key(n))
        || bv.encrypted_fields.contains(name)
        || indirect.is_some_and(|n| bv.encrypted_fields.contains(n))
        || (is_path(s) && bv.encrypted_fields.contains(top_level_name(s, names)))
}

/// Whether a token is a path into an attribute rather than the attribute itself.
fn is_path(token: &str) -> bool {
    token.contains(['.', '['])
}

/// GetBeacon2: the beacon of a token for which [`has_beacon`] holds.
/// Spec: beacons.md#partonly-initialization (a PartOnly beacon is never searched directly)
pub fn get_beacon2<'b>(bv: &'b BeaconVersion, t: &Token, names: &Names) -> Result<&'b Beacon> {
    let s = match t {
        Token::Attr(s) => s.as_str(),
        other => return Err(Error::Internal(format!("no beacon for token {other}"))),
    };
    let name = real_name(s);
    let part_only = |name: &str| {
        refuse(format!(
            "Field {name} is encrypted, and has a PartOnly beacon, and so can only be used as part of a compound beacon."
        ))
    };
    let no_beacon = |name: &str| {
        refuse(format!(
            "Field {name} is encrypted, and cannot be searched without a beacon."
        ))
    };
    if let Some(b) = bv.beacons.get(name) {
        return if b.is_part_only() {
            Err(part_only(name))
        } else {
            Ok(b)
        };
    }
    if let Some(indirect) = names.get(name).map(|n| real_name(n)) {
        if let Some(b) = bv.beacons.get(indirect) {
            // The reference returns a PartOnly beacon reached through a #name;
            // the spec's rule holds whatever the spelling.
            return if b.is_part_only() {
                Err(part_only(indirect))
            } else {
                Ok(b)
            };
        }
    }
    if bv.encrypted_fields.contains(name) {
        return Err(no_beacon(name));
    }
    if let Some(indirect) = names.get(name) {
        return Err(no_beacon(real_name(indirect)));
    }
    Err(no_beacon(top_level_name(s, names)))
}

/// GetStringFromValue: a compound beacon's query value, which must be a string.
fn get_string_from_value<'v>(value: &str, values: &'v Item, b: &CompoundBeacon) -> Result<&'v str> {
    match values.get(value) {
        Some(AttributeValue::S(s)) => Ok(s),
        Some(other) => Err(refuse(format!(
            "Value {value} supplied for compound beacon {} is of type {} but must be of type S (string).",
            b.base.name,
            other.type_name()
        ))),
        None => Err(refuse(format!(
            "Value {value} used in query string, but not supplied in value map."
        ))),
    }
}

/// CanStandardBeacon: a standard beacon matches only equality (`=`, IN) and contains.
fn can_standard_beacon(b: &str, op: &Token) -> Result<()> {
    match op {
        Token::Ne
        | Token::Lt
        | Token::Gt
        | Token::Le
        | Token::Ge
        | Token::Between
        | Token::BeginsWith => Err(refuse(format!(
            "The operation '{op}' cannot be used with the standard beacon {b}."
        ))),
        _ => Ok(()),
    }
}

/// CanCompoundBeacon: `< <= > >=` need a LessThanComparable value.
/// Spec: beacons.md#lessthancomparable
fn can_compound_beacon(b: &CompoundBeacon, op: &Token, name: &str, value: &str) -> Result<()> {
    if op.is_inequality() && !b.is_less_than_comparable(&b.split_value(value))? {
        // The reference quotes the value; the placeholder says which one.
        return Err(refuse(format!(
            "The operation '{op}' cannot be used with the compound beacon {}, unless the value is LessThanComparable : {name}",
            b.base.name
        )));
    }
    Ok(())
}

/// CanBeacon: can beacon `b` be compared with value `name` by `op`?
fn can_beacon(b: &Beacon, op: &Token, name: &str, values: &Item) -> Result<()> {
    match b {
        Beacon::Standard(s) => can_standard_beacon(&s.base.name, op),
        Beacon::Compound(c) => {
            let value = get_string_from_value(name, values, c)?;
            can_compound_beacon(c, op, name, value)
        }
    }
}

/// RemoveCommonPrefix: drop the leading pieces the two lists share.
fn remove_common_prefix<'a, 'b>(
    x: &'a [&'b str],
    y: &'a [&'b str],
) -> (&'a [&'b str], &'a [&'b str]) {
    let common = x.iter().zip(y).take_while(|(a, b)| a == b).count();
    (&x[common..], &y[common..])
}

/// CanBetween: BETWEEN needs a compound beacon, and what follows the common
/// leading pieces of both limits LessThanComparable.
/// Spec: beacons.md#betweencomparable
fn can_between(b: &Beacon, left: &str, right: &str, values: &Item) -> Result<()> {
    let Beacon::Compound(c) = b else {
        return Err(refuse(format!(
            "The operation BETWEEN cannot be used with the standard beacon {}.",
            b.get_name()
        )));
    };
    let left_val = get_string_from_value(left, values, c)?;
    let right_val = get_string_from_value(right, values, c)?;
    let left_parts = c.split_value(left_val);
    let right_parts = c.split_value(right_val);
    let (new_left, new_right) = remove_common_prefix(&left_parts, &right_parts);
    let left_can_less = c.is_less_than_comparable(new_left)?;
    let right_can_less = c.is_less_than_comparable(new_right)?;
    if !(left_can_less && right_can_less) {
        // The reference quotes the values; the placeholders say which ones.
        return Err(refuse(format!(
            "To use BETWEEN with the compound beacon {}, the part after any common prefix must be LessThanComparable : BETWEEN {left} AND {right}",
            c.base.name
        )));
    }
    Ok(())
}

/// GetBeacon: the beacon of `t` compared with value `value` by `op`.
fn get_beacon<'b>(
    bv: &'b BeaconVersion,
    t: &Token,
    op: &Token,
    value: &str,
    names: &Names,
    values: &Item,
) -> Result<EqualityBeacon<'b>> {
    let b = get_beacon2(bv, t, names)?;
    can_beacon(b, op, value, values)?;
    Ok(EqualityBeacon {
        beacon: Some(b),
        for_equality: op.is_equality(),
        for_contains: *op == Token::Contains,
    })
}

/// GetBetweenBeacon.
fn get_between_beacon<'b>(
    bv: &'b BeaconVersion,
    t: &Token,
    left: &str,
    right: &str,
    names: &Names,
    values: &Item,
) -> Result<EqualityBeacon<'b>> {
    let b = get_beacon2(bv, t, names)?;
    can_between(b, left, right, values)?;
    Ok(EqualityBeacon {
        beacon: Some(b),
        for_equality: false,
        for_contains: false,
    })
}

/// GetInPos: for a value in `ATTR IN ( VAL, VAL, ... )`, the position of the IN.
fn get_in_pos(expr: &[Token], mut pos: usize) -> Option<usize> {
    loop {
        if pos < 3 {
            return None;
        }
        if expr[pos - 1] == Token::Open && expr[pos - 2] == Token::In {
            return Some(pos - 2);
        }
        if expr[pos - 1] == Token::Comma && matches!(expr[pos - 2], Token::Value(_)) {
            pos -= 2;
            continue;
        }
        return None;
    }
}

fn value_name(t: &Token) -> &str {
    match t {
        Token::Value(s) => s,
        _ => "",
    }
}

/// BeaconForValue: the beacon, if any, the value at `expr[pos]` is compared with.
pub fn beacon_for_value<'b>(
    bv: &'b BeaconVersion,
    expr: &[Token],
    pos: usize,
    names: &Names,
    values: &Item,
) -> Result<EqualityBeacon<'b>> {
    let value = value_name(&expr[pos]);
    let is_fn = |t: &Token| matches!(t, Token::Contains | Token::BeginsWith);
    let len = expr.len();
    // value < ATTR
    if pos + 2 < len && expr[pos + 1].is_comp() && has_beacon(bv, &expr[pos + 2], names) {
        return get_beacon(bv, &expr[pos + 2], &expr[pos + 1], value, names, values);
    }
    // ATTR < value
    if pos >= 2 && expr[pos - 1].is_comp() && has_beacon(bv, &expr[pos - 2], names) {
        return get_beacon(bv, &expr[pos - 2], &expr[pos - 1], value, names, values);
    }
    // contains(ATTR, value  or  begins_with(ATTR, value
    if pos >= 4
        && is_fn(&expr[pos - 4])
        && expr[pos - 3] == Token::Open
        && has_beacon(bv, &expr[pos - 2], names)
        && expr[pos - 1] == Token::Comma
    {
        return get_beacon(bv, &expr[pos - 2], &expr[pos - 4], value, names, values);
    }
    // contains(value, ATTR  or  begins_with(value, ATTR
    if pos >= 2
        && pos + 2 < len
        && is_fn(&expr[pos - 2])
        && expr[pos - 1] == Token::Open
        && has_beacon(bv, &expr[pos + 2], names)
        && expr[pos + 1] == Token::Comma
    {
        return get_beacon(bv, &expr[pos + 2], &expr[pos - 2], value, names, values);
    }
    // ATTR BETWEEN value AND *
    if pos >= 2
        && pos + 2 < len
        && expr[pos - 1] == Token::Between
        && has_beacon(bv, &expr[pos - 2], names)
        && matches!(expr[pos + 2], Token::Value(_))
    {
        let right = value_name(&expr[pos + 2]);
        return get_between_beacon(bv, &expr[pos - 2], value, right, names, values);
    }
    // ATTR BETWEEN * AND value
    if pos >= 4
        && expr[pos - 1] == Token::And
        && expr[pos - 3] == Token::Between
        && has_beacon(bv, &expr[pos - 4], names)
        && matches!(expr[pos - 2], Token::Value(_))
    {
        let left = value_name(&expr[pos - 2]);
        return get_between_beacon(bv, &expr[pos - 4], left, value, names, values);
    }
    // ATTR IN (value, value, ...)
    match get_in_pos(expr, pos) {
        Some(in_pos) if has_beacon(bv, &expr[in_pos - 1], names) => {
            get_beacon(bv, &expr[in_pos - 1], &expr[in_pos], value, names, values)
        }
        _ => Ok(EqualityBeacon::NONE),
    }
}

/// AttrForValue: the attribute the value at `expr[pos]` is compared with.
pub fn attr_for_value(expr: &[Token], pos: usize) -> Option<&str> {
    fn attr(t: &Token) -> Option<&str> {
        match t {
            Token::Attr(s) => Some(s),
            _ => None,
        }
    }
    let len = expr.len();
    let is_fn = |t: &Token| matches!(t, Token::Contains | Token::BeginsWith);
    if pos + 2 < len && expr[pos + 1].is_comp() {
        if let Some(a) = attr(&expr[pos + 2]) {
            return Some(a);
        }
    }
    if pos >= 2 && expr[pos - 1].is_comp() {
        if let Some(a) = attr(&expr[pos - 2]) {
            return Some(a);
        }
    }
    if pos >= 4
        && is_fn(&expr[pos - 4])
        && expr[pos - 3] == Token::Open
        && expr[pos - 1] == Token::Comma
    {
        if let Some(a) = attr(&expr[pos - 2]) {
            return Some(a);
        }
    }
    if pos >= 2 && expr[pos - 1] == Token::Between {
        if let Some(a) = attr(&expr[pos - 2]) {
            return Some(a);
        }
    }
    if pos >= 4 && expr[pos - 1] == Token::And && expr[pos - 3] == Token::Between {
        if let Some(a) = attr(&expr[pos - 4]) {
            return Some(a);
        }
    }
    let in_pos = get_in_pos(expr, pos)?;
    attr(&expr[in_pos - 1])
}

/// The function an attribute at `expr[pos]` is the (first) argument of.
fn enclosing_function(expr: &[Token], pos: usize) -> Option<&Token> {
    if pos >= 2 && expr[pos - 1] == Token::Open {
        Some(&expr[pos - 2])
    } else {
        None
    }
}

/// OpNeedsBeacon: false for the argument of attribute_exists /
/// attribute_not_exists, which read only the attribute's existence.
pub fn op_needs_beacon(expr: &[Token], pos: usize) -> bool {
    !matches!(
        enclosing_function(expr, pos),
        Some(Token::AttributeExists | Token::AttributeNotExists)
    )
}

/// IsAllowedOnBeaconPred: false for the argument of size / attribute_type,
/// which can work neither on a ciphertext nor on a beacon.
pub fn is_allowed_on_beacon(expr: &[Token], pos: usize) -> bool {
    !matches!(
        enclosing_function(expr, pos),
        Some(Token::AttributeType | Token::Size)
    )
}

/// One expression attribute value to beaconize: its placeholder and the
/// beacon it is compared with.
struct ValueJob<'b> {
    name: String,
    eb: EqualityBeacon<'b>,
}

/// BeaconizeParsedExpr, its first half: beacon names for beaconized
/// attributes (`#names` remapped in `names`), and for each value, the
/// beacon it needs. `naked`: the filter on opened items (DontUseKeys).
///
/// Stricter than the reference: an encrypted attribute left in the
/// expression (compared with another attribute, under size or
/// attribute_type, or a path into it) is refused, since DynamoDB would only
/// see its ciphertext; the reference sends such a query.
fn plan_beacons<'b>(
    bv: &'b BeaconVersion,
    expr: &[Token],
    old_values: &Item,
    names: &mut Names,
    naked: bool,
) -> Result<(Vec<Token>, Vec<ValueJob<'b>>)> {
    let mut out = Vec::with_capacity(expr.len());
    let mut jobs = Vec::new();
    for (pos, token) in expr.iter().enumerate() {
        match token {
            Token::Attr(s) => {
                for hash_name in path_names(s) {
                    if !names.contains_key(hash_name) {
                        return Err(refuse(format!(
                            "Name {hash_name} not in ExpressionAttributeNameMap."
                        )));
                    }
                }
                let indirect = s.starts_with('#') && !is_path(s);
                let old_name = if indirect {
                    names.get(s).cloned().unwrap_or_default()
                } else {
                    s.clone()
                };
                let exclude = naked && !is_allowed_on_beacon(expr, pos);
                match bv.beacons.get(&old_name).filter(|_| !exclude) {
                    Some(b) => {
                        if !is_allowed_on_beacon(expr, pos) {
                            return Err(function_on_encrypted(expr, pos, &old_name));
                        }
                        if op_needs_beacon(expr, pos) {
                            if b.is_part_only() {
                                // Spec: beacons.md#partonly-initialization
                                return Err(refuse(format!(
                                    "Field {old_name} is encrypted, and has a PartOnly beacon, and so can only be used as part of a compound beacon."
                                )));
                            }
                            let new_name = b.get_beacon_name().to_owned();
                            if indirect {
                                names.insert(s.clone(), new_name);
                                out.push(token.clone());
                            } else {
                                out.push(Token::Attr(new_name));
                            }
                        } else {
                            out.push(token.clone());
                        }
                    }
                    None => {
                        if !naked && op_needs_beacon(expr, pos) {
                            let top = top_level_name(s, names);
                            if bv.encrypted_fields.contains(top) {
                                if !is_allowed_on_beacon(expr, pos) {
                                    return Err(function_on_encrypted(expr, pos, top));
                                }
                                return Err(refuse(format!(
                                    "Field {top} is encrypted, and cannot be searched without a beacon."
                                )));
                            }
                        }
                        out.push(token.clone());
                    }
                }
            }
            Token::Value(name) => {
                if !old_values.contains_key(name) {
                    return Err(refuse(format!(
                        "{name} not found in ExpressionAttributeValueMap"
                    )));
                }
                let eb = beacon_for_value(bv, expr, pos, names, old_values)?;
                jobs.push(ValueJob {
                    name: name.clone(),
                    eb,
                });
                out.push(token.clone());
            }
            _ => out.push(token.clone()),
        }
    }
    Ok((out, jobs))
}

/// The `#name`s a path token uses (`#a` and `#c` of `#a.b.#c[1]`).
fn path_names(s: &str) -> impl Iterator<Item = &str> {
    s.split(['.', '[']).filter(|seg| seg.starts_with('#'))
}

fn function_on_encrypted(expr: &[Token], pos: usize, name: &str) -> Error {
    let function = enclosing_function(expr, pos).map_or("", Token::text);
    refuse(format!(
        "Function {function} cannot be used on encrypted fields, but it is being used with {name}"
    ))
}

/// BeaconizeParsedExpr, its second half: each value's beacon value under
/// `keys`. A value used with two different beacon values is refused.
/// Spec: ddb-support.md#queryinputforbeacons
fn compute_values(
    jobs: &[ValueJob<'_>],
    old_values: &Item,
    keys: &MaybeKeyMap,
    new_values: &mut Item,
    partition: u32,
) -> Result<()> {
    for (i, job) in jobs.iter().enumerate() {
        let old = old_values.get(&job.name).ok_or_else(|| {
            refuse(format!(
                "{} not found in ExpressionAttributeValueMap",
                job.name
            ))
        })?;
        let new = match job.eb.beacon {
            None => old.clone(),
            Some(b) => b.get_beacon_value(
                old,
                keys,
                job.eb.for_equality,
                job.eb.for_contains,
                partition,
            )?,
        };
        if new_values.get(&job.name).is_some_and(|v| *v != new) {
            fn beacon<'j>(j: &ValueJob<'j>) -> &'j str {
                j.eb.beacon.map_or("no beacon", Beacon::get_name)
            }
            let first = jobs[..i]
                .iter()
                .find(|j| j.name == job.name)
                .map_or("no beacon", beacon);
            return Err(refuse(format!(
                "{} used in two different contexts ({first} and {}), which is not allowed.",
                job.name,
                beacon(job)
            )));
        }
        new_values.insert(job.name.clone(), new);
    }
    Ok(())
}

/// BeaconizeParsedExpr without keys: beacon names, values unchanged (the
/// filter on opened items, whose plaintext beacons are added to each item).
pub fn beaconize_naked(
    bv: &BeaconVersion,
    expr: &[Token],
    old_values: &Item,
    names: &mut Names,
    new_values: &mut Item,
) -> Result<Vec<Token>> {
    let (out, jobs) = plan_beacons(bv, expr, old_values, names, true)?;
    compute_values(&jobs, old_values, &MaybeKeyMap::DontUseKeys, new_values, 0)?;
    Ok(out)
}

/// Beaconize: "A = :b" becomes "aws_dbe_b_A = :b" with `:b` its beacon
/// value, in the key condition and the filter; ExpressionAttributeValues
/// keeps the values used, beaconized. The beacon keys are fetched only when
/// a value needs one (the reference fetches them for any expression).
pub async fn beaconize(
    bv: &BeaconVersion,
    context: &ExprContext,
    key_id: &MaybeKeyId,
    partition: u32,
) -> Result<ExprContext> {
    if context.key_expr.is_none() && context.filter_expr.is_none() {
        return Ok(context.clone());
    }
    let values = &context.values;
    let mut names = context.names.clone();
    let key_tokens = parse_expr_opt(context.key_expr.as_deref(), "KeyConditionExpression")?;
    let filter_tokens = parse_expr_opt(context.filter_expr.as_deref(), "FilterExpression")?;
    let (key_out, key_jobs) = plan_beacons(bv, &key_tokens, values, &mut names, false)?;
    let (filter_out, filter_jobs) = plan_beacons(bv, &filter_tokens, values, &mut names, false)?;
    let needs_keys = key_jobs
        .iter()
        .chain(&filter_jobs)
        .any(|j| j.eb.beacon.is_some_and(Beacon::is_encrypted));
    let keys = if needs_keys {
        bv.get_key_map(key_id).await?
    } else {
        // No beacon here needs a key: signed beacons' values are prefixes
        // and plaintext, computed as with keys.
        MaybeKeyMap::ShouldHaveKeys
    };
    let mut new_values = Item::new();
    let mut jobs = key_jobs;
    jobs.extend(filter_jobs);
    compute_values(&jobs, values, &keys, &mut new_values, partition)?;
    Ok(ExprContext {
        key_expr: context
            .key_expr
            .as_ref()
            .map(|_| tokens_to_string(&key_out)),
        filter_expr: context
            .filter_expr
            .as_ref()
            .map(|_| tokens_to_string(&filter_out)),
        values: new_values,
        names,
    })
}

/// MakeNewName: `prev` + two letters, the first not in `values` (or
/// already holding `value`).
fn make_new_name(prev: &str, values: &Item, value: &AttributeValue) -> Result<String> {
    for i in b'A'..=b'Z' {
        for j in b'A'..=b'Z' {
            let candidate = format!("{prev}{}{}", char::from(i), char::from(j));
            if values.get(&candidate).map_or(true, |v| v == value) {
                return Ok(candidate);
            }
        }
    }
    Err(refuse(format!(
        "Could not find a new name for {prev} in ExpressionAttributeValueMap"
    )))
}

/// AddContext: merge the filter and values of another partition's
/// Beaconize into `old_values`: a value whose beacon differs gets a new
/// placeholder (`:x` -> `:xAA`) in that filter.
fn add_context(old_values: &Item, new_filter: &str, new_values: &Item) -> Result<(String, Item)> {
    let all_unchanged = new_values.iter().all(|(k, v)| old_values.get(k) == Some(v));
    if all_unchanged {
        return Ok((new_filter.to_owned(), old_values.clone()));
    }
    let mut result_values = old_values.clone();
    // The filter was written from tokens, so its placeholders are whole tokens.
    let mut tokens = parse_expr(new_filter, "FilterExpression")?;
    for (key, value) in new_values {
        if old_values.get(key).is_some_and(|old| old != value) {
            let new_key = make_new_name(key, &result_values, value)?;
            result_values.insert(new_key.clone(), value.clone());
            for t in &mut tokens {
                if matches!(t, Token::Value(v) if v == key) {
                    *t = Token::Value(new_key.clone());
                }
            }
        }
    }
    Ok((tokens_to_string(&tokens), result_values))
}

/// DoBeaconize: Beaconize for `partition`; when fewer queries than
/// partitions are run, each query also covers partitions `partition +
/// k * queries`, their filters ORed together.
/// Spec: changes/2025-08-25-beacon-partitions
pub async fn do_beaconize(
    bv: &BeaconVersion,
    context: &ExprContext,
    key_id: &MaybeKeyId,
    partition: u32,
    queries: u32,
) -> Result<ExprContext> {
    let n = bv.num_partitions;
    if queries == n
        || n.saturating_sub(partition) <= queries
        || context.filter_expr.is_none()
        || context.values.is_empty()
    {
        return beaconize(bv, context, key_id, partition).await;
    }
    let mut curr = partition;
    let mut exprs: Vec<String> = Vec::new();
    let mut values = Item::new();
    let mut first: Option<ExprContext> = None;
    while curr < n {
        let local = beaconize(bv, context, key_id, curr).await?;
        let filter = local.filter_expr.clone().unwrap_or_default();
        if first.is_none() {
            exprs.push(filter);
            values = local.values.clone();
            first = Some(local);
        } else {
            let (expr, merged) = add_context(&values, &filter, &local.values)?;
            if !exprs.contains(&expr) {
                exprs.push(expr);
            }
            values = merged;
        }
        if n - curr <= queries {
            break;
        }
        curr += queries;
    }
    let first = first.ok_or_else(|| Error::Internal("no partition beaconized".into()))?;
    let filter = if exprs.len() == 1 {
        exprs.remove(0)
    } else {
        exprs
            .iter()
            .map(|e| format!("({e})"))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    Ok(ExprContext {
        key_expr: first.key_expr,
        filter_expr: Some(filter),
        values,
        names: first.names,
    })
}

/// KeyIdFromPart: the beacon key id inside a compound beacon's value, when
/// exactly one signed part reads the key field and exactly one piece has its prefix.
fn key_id_from_part(
    bv: &BeaconVersion,
    key_field: &str,
    attr: &str,
    value: &str,
) -> Option<String> {
    let Some(Beacon::Compound(c)) = bv.beacons.get(attr) else {
        return None;
    };
    let mut parts = c
        .parts
        .iter()
        .filter(|p| p.is_signed() && p.loc().key() == key_field);
    let (Some(part), None) = (parts.next(), parts.next()) else {
        return None;
    };
    let prefix = part.get_prefix();
    let mut pieces = c
        .split_value(value)
        .into_iter()
        .filter(|s| s.starts_with(prefix));
    match (pieces.next(), pieces.next()) {
        (Some(p), None) => Some(p[prefix.len()..].to_owned()),
        _ => None,
    }
}

/// KeyIdFromAttr: the beacon key id a value gives, compared with `attr`:
/// the value itself for the key field, or its piece in a compound beacon.
/// `#names` resolve for the compound beacon too (the reference looks the
/// token up as written there).
fn key_id_from_attr(
    bv: &BeaconVersion,
    key_field: &str,
    attr: Option<&str>,
    value: &str,
    names: &Names,
) -> Option<String> {
    let name = attr_name(attr?, names);
    if name == key_field {
        Some(value.to_owned())
    } else {
        key_id_from_part(bv, key_field, name, value)
    }
}

/// GetBeaconKeyIds2: the distinct key ids named in `expr`, after `so_far`.
fn get_beacon_key_ids(
    bv: &BeaconVersion,
    key_field: &str,
    expr: &[Token],
    values: &Item,
    names: &Names,
    so_far: &mut Vec<String>,
) -> Result<()> {
    for (pos, t) in expr.iter().enumerate() {
        let Token::Value(v) = t else { continue };
        let Some(old) = values.get(v) else {
            return Err(refuse(format!(
                "{v} not found in ExpressionAttributeValueMap"
            )));
        };
        if let AttributeValue::S(s) = old {
            let attr = attr_for_value(expr, pos);
            if let Some(id) = key_id_from_attr(bv, key_field, attr, s, names) {
                if !so_far.contains(&id) {
                    so_far.push(id);
                }
            }
        }
    }
    Ok(())
}

/// GetBeaconKeyId: the beacon key id of a query. A single key store:
/// DontUseKeyId. A multi key store: the one key id the expressions' values
/// give (ShouldHaveKeyId if none); two different ones are refused.
/// Spec: search-config.md#get-beacon-key-for-query
pub fn get_beacon_key_id(
    bv: &BeaconVersion,
    key_expr: Option<&str>,
    filter_expr: Option<&str>,
    values: &Item,
    names: &Names,
) -> Result<MaybeKeyId> {
    let KeyLocation::MultiLoc { key_name, .. } = &bv.key_source.key_loc else {
        return Ok(MaybeKeyId::DontUseKeyId);
    };
    if values.is_empty() {
        return Ok(MaybeKeyId::ShouldHaveKeyId);
    }
    let mut found = Vec::new();
    let key_tokens = parse_expr_opt(key_expr, "KeyConditionExpression")?;
    get_beacon_key_ids(bv, key_name, &key_tokens, values, names, &mut found)?;
    let filter_tokens = parse_expr_opt(filter_expr, "FilterExpression")?;
    get_beacon_key_ids(bv, key_name, &filter_tokens, values, names, &mut found)?;
    match found.len() {
        0 => Ok(MaybeKeyId::ShouldHaveKeyId),
        1 => Ok(MaybeKeyId::KeyId(found.remove(0))),
        // The reference lists the ids; they are values of the key field.
        n => Err(refuse(format!(
            "Multiple values found for {key_name} in query : {n} different beacon key ids"
        ))),
    }
}

/// GetValues: each value of `expr` compared with a beacon, with that
/// beacon, as a string ("" if not one). The attribute's `#name` resolves
/// (the reference looks the token up as written, so `#n = :v` counts as no
/// beacon and one query).
fn get_values<'b>(
    bv: &'b BeaconVersion,
    expr: &[Token],
    values: &Item,
    names: &Names,
) -> Result<Vec<(&'b Beacon, String)>> {
    let mut out = Vec::new();
    for (pos, t) in expr.iter().enumerate() {
        let Token::Value(v) = t else { continue };
        let Some(old) = values.get(v) else {
            return Err(refuse(format!(
                "{v} not found in ExpressionAttributeValueMap"
            )));
        };
        let s = match old {
            AttributeValue::S(s) => s.clone(),
            _ => String::new(),
        };
        if let Some(attr) = attr_for_value(expr, pos) {
            if let Some(b) = bv.beacons.get(attr_name(attr, names)) {
                out.push((b, s));
            }
        }
    }
    Ok(out)
}

/// GetNumQueries: how many queries (one per partition) a key condition
/// needs: the lcm of its beacon values' partition counts, capped at the
/// version's maximum. Spec: changes/2025-08-25-beacon-partitions
pub fn get_num_queries(
    bv: &BeaconVersion,
    key_expr: Option<&str>,
    values: &Item,
    names: &Names,
) -> Result<u32> {
    let Some(key_expr) = key_expr else {
        return Ok(1);
    };
    if values.is_empty() {
        return Ok(1);
    }
    let tokens = parse_expr(key_expr, "KeyConditionExpression")?;
    let mut result = 1;
    for (b, s) in get_values(bv, &tokens, values, names)? {
        let partitions = b.get_num_queries(bv.num_partitions, &s);
        if partitions == 1 || partitions == result {
            continue;
        }
        result = lcm_partition(result, partitions, bv.num_partitions);
    }
    Ok(result)
}

/// UsesEncryptedField: the first attribute of `expr` (its top-level name,
/// `#names` resolved) that is ENCRYPT_AND_SIGN.
pub fn uses_encrypted_field(
    expr: &[Token],
    actions: &BTreeMap<String, CryptoAction>,
    names: &Names,
) -> Option<String> {
    expr.iter().find_map(|t| match t {
        Token::Attr(s) => {
            let name = top_level_name(s, names);
            (actions.get(name) == Some(&CryptoAction::EncryptAndSign)).then(|| name.to_owned())
        }
        _ => None,
    })
}

/// The placeholder of the partition a query runs on. Spec: changes/2025-08-25-beacon-partitions
pub const PARTITION_NAME: &str = ":aws_dbe_partition";

/// GetNumber: `:aws_dbe_partition` as a non-negative integer below 2^31.
fn get_partition_number(v: &AttributeValue) -> Result<u32> {
    let AttributeValue::N(n) = v else {
        return Err(refuse(format!(
            "Value of {PARTITION_NAME} is not numeric (i.e. 'N')"
        )));
    };
    // StrToInt: an optional '-', then decimal digits only.
    let (negative, digits) = n
        .strip_prefix('-')
        .map_or((false, n.as_str()), |d| (true, d));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(format!(
            "Value of {PARTITION_NAME} is not a decimal integer"
        )));
    }
    let magnitude = digits.trim_start_matches('0');
    let in_range = !negative || magnitude.is_empty();
    match magnitude.parse::<u32>() {
        _ if magnitude.is_empty() => Ok(0),
        Ok(v) if in_range && v < i32::MAX as u32 => Ok(v),
        _ => Err(refuse(format!("Value of {PARTITION_NAME} out of range."))),
    }
}

/// ExtractPartition: the partition a query names with `:aws_dbe_partition`
/// (removed from the values), or 0. On a table with partitions, a query on
/// an encrypted attribute must name one.
pub fn extract_partition(
    bv: &BeaconVersion,
    key_expr: Option<&str>,
    filter_expr: Option<&str>,
    names: &Names,
    values: &Item,
    actions: &BTreeMap<String, CryptoAction>,
) -> Result<(Item, u32)> {
    validate_expression_length(key_expr, "KeyConditionExpression")?;
    validate_expression_length(filter_expr, "FilterExpression")?;
    if bv.num_partitions <= 1 {
        if values.contains_key(PARTITION_NAME) {
            return Err(refuse(format!(
                "If no partitions are configured, do not specify {PARTITION_NAME}"
            )));
        }
        return Ok((values.clone(), 0));
    }
    if let Some(v) = values.get(PARTITION_NAME) {
        let partition = get_partition_number(v)?;
        if partition >= bv.num_partitions {
            return Err(refuse(format!(
                "{PARTITION_NAME} specified in FilterExpression was {partition} must be less than the number of partitions: {}",
                bv.num_partitions
            )));
        }
        let mut rest = values.clone();
        rest.remove(PARTITION_NAME);
        return Ok((rest, partition));
    }
    let filter_enc = uses_encrypted_field(
        &parse_expr_opt(filter_expr, "FilterExpression")?,
        actions,
        names,
    );
    let key_enc = uses_encrypted_field(
        &parse_expr_opt(key_expr, "KeyConditionExpression")?,
        actions,
        names,
    );
    if key_enc.is_some() || filter_enc.is_some() {
        return Err(refuse(format!(
            "When numberOfPartitions is greater than one, Values must contain {PARTITION_NAME}"
        )));
    }
    Ok((values.clone(), 0))
}

/// TestPartitionForScan: a Scan names no partition.
pub fn test_partition_for_scan(values: &Item) -> Result<()> {
    if values.contains_key(PARTITION_NAME) {
        return Err(refuse(format!(
            "A value for {PARTITION_NAME} must not be specified for Scan operations."
        )));
    }
    Ok(())
}

/// One expression ready to run on opened items: beaconized without keys
/// (beacon names, values unchanged) where the table has beacons, parsed,
/// with its names and values.
struct ItemFilter {
    condition: Condition,
    names: Names,
    values: Item,
    what: &'static str,
}

impl ItemFilter {
    fn new(
        bv: Option<&BeaconVersion>,
        expr: &str,
        what: &'static str,
        names: &Names,
        values: &Item,
    ) -> Result<ItemFilter> {
        let tokens = parse_expr(expr, what)?;
        let (tokens, names, values) = match bv {
            Some(bv) => {
                let mut new_names = names.clone();
                let mut new_values = Item::new();
                let tokens = beaconize_naked(bv, &tokens, values, &mut new_names, &mut new_values)?;
                (tokens, new_names, new_values)
            }
            None => (tokens, names.clone(), values.clone()),
        };
        Ok(ItemFilter {
            condition: parse_condition(&tokens, what)?,
            names,
            values,
            what,
        })
    }

    fn holds(&self, item: &Item) -> Result<bool> {
        Context {
            item,
            names: &self.names,
            values: &self.values,
            what: self.what,
        }
        .eval(&self.condition)
    }
}

/// FilterResults: the opened items for which the original key condition
/// and filter hold, the false positives of truncated beacons dropped. Each
/// item is evaluated with its plaintext beacons added (FilterItems'
/// GeneratePlainBeacons), computed once for both expressions.
/// Spec: ddb-support.md#queryoutputforbeacons
pub fn filter_results(
    bv: &BeaconVersion,
    items: Vec<Item>,
    key_expr: Option<&str>,
    filter_expr: Option<&str>,
    names: &Names,
    values: &Item,
) -> Result<Vec<Item>> {
    if items.is_empty() || (key_expr.is_none() && filter_expr.is_none()) {
        return Ok(items);
    }
    let mut filters = Vec::with_capacity(2);
    if let Some(k) = key_expr {
        filters.push(ItemFilter::new(
            Some(bv),
            k,
            "KeyConditionExpression",
            names,
            values,
        )?);
    }
    if let Some(f) = filter_expr {
        filters.push(ItemFilter::new(
            Some(bv),
            f,
            "FilterExpression",
            names,
            values,
        )?);
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if all_hold(Some(bv), &filters, &item)? {
            out.push(item);
        }
    }
    Ok(out)
}

/// For each opened item, whether the filter expression `expr` holds, by
/// [`filter_results`]' rule (plaintext beacons added where the table has
/// beacons): the false positives of a query that is not a DynamoDB request
/// (SQL rows) dropped the same way.
pub fn expression_holds(
    bv: Option<&BeaconVersion>,
    expr: &str,
    names: &Names,
    values: &Item,
    items: &[Item],
) -> Result<Vec<bool>> {
    let filter = [ItemFilter::new(
        bv,
        expr,
        "FilterExpression",
        names,
        values,
    )?];
    items
        .iter()
        .map(|item| all_hold(bv, &filter, item))
        .collect()
}

/// Whether every filter holds for `item`, evaluated with its plaintext
/// beacons added (FilterItems' GeneratePlainBeacons), computed once for all
/// filters.
fn all_hold(bv: Option<&BeaconVersion>, filters: &[ItemFilter], item: &Item) -> Result<bool> {
    let plain = match bv {
        Some(bv) => bv.generate_plain_beacons(item, 0)?,
        None => Item::new(),
    };
    let with_beacons;
    let item = if plain.is_empty() {
        item
    } else {
        let mut copy = item.clone();
        copy.extend(plain);
        with_beacons = copy;
        &with_beacons
    };
    for f in filters {
        if !f.holds(item)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// TestBeaconize, for a table without beacons: no expression may read an
/// encrypted attribute. [`crate::ddb::EncryptedTables::check`] applies the
/// same rule (the value-blind functions aside), naming every such attribute.
pub fn test_beaconize(
    actions: &BTreeMap<String, CryptoAction>,
    key_expr: Option<&str>,
    filter_expr: Option<&str>,
    names: &Names,
) -> Result<()> {
    for (what, expr) in [
        ("KeyConditionExpression", key_expr),
        ("FilterExpression", filter_expr),
    ] {
        let tokens = parse_expr_opt(expr, what)?;
        if let Some(name) = uses_encrypted_field(&tokens, actions, names) {
            return Err(refuse(format!("Query is using encrypted field : {name}.")));
        }
    }
    Ok(())
}
