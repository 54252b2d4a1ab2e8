//! Attribute names read by DynamoDB expressions. Spec: ddb-support.md#testconditionexpression, #testupdateexpression
//!
//! Mirrors the reference's `FilterExpr.ExtractAttributes` and
//! `UpdateExpr.ExtractAttributes` (DynamoDbEncryption/dafny/DynamoDbEncryption/src),
//! with one hand-written tokenizer ([`tokenize`]) shared by the three readers
//! and by the beacon rewrite and filter ([`crate::beacon::filter::parse_expr`]).
//! Where the reference's tokenizers lose track of a name, this one reports it
//! whole, so that no attribute escapes the rules built on these lists:
//! - a keyword is a whole word: the reference reads `inventory` as `IN` + `ventory`;
//! - tabs and newlines separate tokens: the reference stops reading at the first one;
//! - a path reduces to its top-level name (`a.b[1]` -> `a`, `#n.x` -> `#n` resolved);
//!   the reference's condition reader reports `a.b[1]` verbatim.
//!
//! Refusals (`Error::RequestRefused`) are only for text DynamoDB rejects too:
//! characters its expression grammar has no use for (`+` and `-` outside an
//! UpdateExpression), a lone `#` or `:`, a malformed path, and a
//! ProjectionExpression that is not a list of paths.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// ExpressionAttributeNames: "#n" -> attribute name.
pub type ExpressionNames = BTreeMap<String, String>;

/// DynamoDB's documented 4 KB expression limit; the reference refuses longer expressions before parsing.
pub const MAX_EXPRESSION_LENGTH: usize = 4096;

/// Condition keywords: reserved words, case-insensitive in DynamoDB.
const CONDITION_KEYWORDS: [&str; 5] = ["and", "or", "not", "between", "in"];
/// Condition functions whose operand's value is not read (the reference's `IsSpecial`).
const VALUE_BLIND_FUNCTIONS: [&str; 3] = ["attribute_exists", "attribute_not_exists", "size"];
/// The other condition functions: their operands are reported.
const CONDITION_FUNCTIONS: [&str; 3] = ["attribute_type", "begins_with", "contains"];
/// UpdateExpression clause keywords: reserved words, case-insensitive in DynamoDB.
const UPDATE_CLAUSES: [&str; 4] = ["set", "remove", "add", "delete"];
/// UpdateExpression functions (the reference's `IgnoreAttr`, with the clauses above).
const UPDATE_FUNCTIONS: [&str; 2] = ["list_append", "if_not_exists"];

/// The top-level attribute names a ConditionExpression / FilterExpression / KeyConditionExpression reads,
/// with #names resolved, in order of appearance (duplicates allowed). Mirrors the reference
/// FilterExpr.ExtractAttributes: the operand of attribute_exists / attribute_not_exists / size is NOT reported.
/// `what` names the expression in errors ("ConditionExpression").
pub fn condition_attributes(
    expr: &str,
    names: &ExpressionNames,
    what: &str,
) -> Result<Vec<String>> {
    let tokens = tokenize(expr, what, Grammar::Condition)?;
    let mut attributes = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Tok::Path(path) = tokens[i] {
            let called = tokens.get(i + 1) == Some(&Tok::Punct("("));
            if path.is_word_in(&CONDITION_KEYWORDS) {
                // AND, OR, NOT, BETWEEN, IN
            } else if called && path.is_function(&VALUE_BLIND_FUNCTIONS) {
                // Like the reference's ExtractAttributes2: skip the operand
                // right after the '(' (only its existence or size is read).
                if matches!(tokens.get(i + 2), Some(Tok::Path(_))) {
                    i += 2;
                }
            } else if called && path.is_function(&CONDITION_FUNCTIONS) {
                // its operands follow as ordinary tokens
            } else {
                push_attribute(&mut attributes, path, names);
            }
        }
        i += 1;
    }
    Ok(attributes)
}

/// The top-level attribute names an UpdateExpression mentions (SET/REMOVE/ADD/DELETE targets and operands,
/// inside list_append / if_not_exists too), #names resolved. Mirrors UpdateExpr.ExtractAttributes.
pub fn update_attributes(expr: &str, names: &ExpressionNames) -> Result<Vec<String>> {
    let tokens = tokenize(expr, "UpdateExpression", Grammar::Update)?;
    let mut attributes = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let Tok::Path(path) = *token else { continue };
        let called = tokens.get(i + 1) == Some(&Tok::Punct("("));
        // The reference ignores "SET" etc. in upper case only; DynamoDB takes
        // them in any case ("set a = :v"), and they are reserved words, so
        // never a bare attribute name.
        if path.is_word_in(&UPDATE_CLAUSES) || (called && path.is_function(&UPDATE_FUNCTIONS)) {
            continue;
        }
        push_attribute(&mut attributes, path, names);
    }
    Ok(attributes)
}

/// The top-level attribute names a ProjectionExpression returns ("a.b, #c[2]" -> ["a", <#c resolved>]).
pub fn projection_attributes(expr: &str, names: &ExpressionNames) -> Result<Vec<String>> {
    const WHAT: &str = "ProjectionExpression";
    let tokens = tokenize(expr, WHAT, Grammar::Condition)?;
    let mut attributes = Vec::new();
    // DynamoDB's grammar is `path (',' path)*`; anything else it rejects.
    // The reference has no projection reader (it fails later, decrypting).
    for (i, token) in tokens.iter().enumerate() {
        let expected_path = i % 2 == 0;
        match (*token, expected_path) {
            (Tok::Path(path), true) => push_attribute(&mut attributes, path, names),
            (Tok::Punct(","), false) if i + 1 < tokens.len() => {}
            _ => {
                return Err(refuse(WHAT, "unexpected token", token.text()));
            }
        }
    }
    Ok(attributes)
}

/// Adds a path's top-level name, resolved through `names` like the
/// reference's GetAttrName / Resolve (an unknown name stays as written).
/// A name starting with a digit is no attribute: DynamoDB requires a #name
/// for those (the reference's UpdateExpr `BadStart`).
fn push_attribute(out: &mut Vec<String>, path: Path<'_>, names: &ExpressionNames) {
    if path.top.starts_with(|c: char| c.is_ascii_digit()) {
        return;
    }
    let name = names.get(path.top).map_or(path.top, String::as_str);
    out.push(name.to_owned());
}

/// A document path: `a`, `#n`, `a.b[1].#c` (whitespace allowed around `.`, `[`, `]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Path<'a> {
    /// The whole path as written.
    pub text: &'a str,
    /// The top-level name: `text` up to the first `.` or `[`.
    pub top: &'a str,
}

impl Path<'_> {
    /// A bare word (no `.` or `[`) equal to one of the lower-case keywords, in any case.
    pub fn is_word_in(&self, keywords: &[&str]) -> bool {
        self.text == self.top && keywords.iter().any(|k| self.text.eq_ignore_ascii_case(k))
    }

    /// One of `functions`, spelled exactly: DynamoDB's function names are case-sensitive.
    pub fn is_function(&self, functions: &[&str]) -> bool {
        functions.contains(&self.text)
    }
}

/// A token of a DynamoDB expression, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    Path(Path<'a>),
    /// An expression attribute value, `:v`: never an attribute.
    Value(&'a str),
    /// `( ) , = <> < <= > >= + -`
    Punct(&'a str),
}

impl<'a> Tok<'a> {
    fn text(&self) -> &'a str {
        match *self {
            Tok::Path(p) => p.text,
            Tok::Value(s) | Tok::Punct(s) => s,
        }
    }
}

/// Letters, digits, `_`, and any non-ASCII character that is not whitespace
/// (DynamoDB's own rules for those are unknown here; keeping them in the
/// name never splits a name it accepts).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && !c.is_whitespace())
}

/// Which expression grammar a text is read by: only an UpdateExpression
/// has arithmetic (`+`, `-`); condition, key condition, filter and
/// projection expressions have none, and DynamoDB rejects both there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grammar {
    Condition,
    Update,
}

/// Refuses an expression over DynamoDB's 4 KB limit. Counted in UTF-16
/// code units, as the reference (Dafny strings) and JavaScript count; more
/// bytes than the limit can still be few enough units.
/// Spec: ddb-support.md (ValidateExpressionLength)
pub fn validate_expression_length(expr: Option<&str>, what: &str) -> Result<()> {
    match expr {
        Some(e)
            if e.len() > MAX_EXPRESSION_LENGTH
                && e.encode_utf16().count() > MAX_EXPRESSION_LENGTH =>
        {
            Err(Error::RequestRefused(format!(
                "{what} exceeds maximum length of {MAX_EXPRESSION_LENGTH} characters"
            )))
        }
        _ => Ok(()),
    }
}

/// Splits an expression into tokens, refusing what DynamoDB rejects outright.
/// `what` names the expression in errors ("FilterExpression").
pub(crate) fn tokenize<'a>(expr: &'a str, what: &str, grammar: Grammar) -> Result<Vec<Tok<'a>>> {
    validate_expression_length(Some(expr), what)?;
    let mut lexer = Lexer {
        s: expr,
        pos: 0,
        what,
        grammar,
    };
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token()? {
        tokens.push(token);
    }
    Ok(tokens)
}

struct Lexer<'a, 'w> {
    s: &'a str,
    /// Byte offset of the next character (always on a char boundary).
    pos: usize,
    what: &'w str,
    grammar: Grammar,
}

impl<'a> Lexer<'a, '_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn bump(&mut self, c: char) {
        self.pos += c.len_utf8();
    }

    fn skip_whitespace(&mut self) {
        // All whitespace separates: DynamoDB takes tabs and newlines
        // (multi-line expressions are common); the reference only skips ' '.
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.bump(c);
        }
    }

    fn skip_name_chars(&mut self) {
        while let Some(c) = self.peek().filter(|&c| is_name_char(c)) {
            self.bump(c);
        }
    }

    fn next_token(&mut self) -> Result<Option<Tok<'a>>> {
        self.skip_whitespace();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(None);
        };
        self.bump(c);
        let token = match c {
            '(' | ')' | ',' | '=' => Tok::Punct(&self.s[start..self.pos]),
            '+' | '-' if self.grammar == Grammar::Update => Tok::Punct(&self.s[start..self.pos]),
            '<' | '>' => {
                if let Some(next) = self.peek().filter(|&n| n == '=' || (c == '<' && n == '>')) {
                    self.bump(next);
                }
                Tok::Punct(&self.s[start..self.pos])
            }
            ':' => {
                self.skip_name_chars();
                if self.pos == start + 1 {
                    // ':' alone: DynamoDB rejects it.
                    return Err(self.refuse_at(start, "expected a name at"));
                }
                Tok::Value(&self.s[start..self.pos])
            }
            c if c == '#' || is_name_char(c) => {
                self.pos = start;
                Tok::Path(self.path()?)
            }
            // A path cannot begin with '.', '[' or ']'.
            '.' | '[' | ']' => return Err(self.refuse_at(start, "unexpected token")),
            // Any other ASCII character ('!', '"', '$', '*', ';', '{', control
            // characters, '+' / '-' outside an UpdateExpression...) has no
            // place in DynamoDB's expression grammar:
            // an attribute name holding one must go through a #name, so
            // DynamoDB rejects the expression too.
            _ => return Err(self.refuse_at(start, "unexpected character")),
        };
        Ok(Some(token))
    }

    /// One name: `#` + name characters, or name characters.
    fn name(&mut self) -> Result<()> {
        let start = self.pos;
        if self.peek() == Some('#') {
            self.bump('#');
        }
        let body = self.pos;
        self.skip_name_chars();
        if self.pos == body {
            // '#' alone, or '.' followed by no name: DynamoDB rejects both.
            return Err(self.refuse_at(start, "expected a name at"));
        }
        Ok(())
    }

    /// A document path starting at `self.pos` (on `#` or a name character).
    fn path(&mut self) -> Result<Path<'a>> {
        let start = self.pos;
        self.name()?;
        let top = &self.s[start..self.pos];
        loop {
            let end = self.pos;
            self.skip_whitespace();
            match self.peek() {
                Some('.') => {
                    self.bump('.');
                    self.skip_whitespace();
                    self.name()?;
                }
                Some('[') => {
                    self.bump('[');
                    self.skip_whitespace();
                    let digits = self.pos;
                    while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                        self.bump(d);
                    }
                    self.skip_whitespace();
                    if self.pos == digits || self.peek() != Some(']') {
                        // A list index is a non-negative integer in brackets.
                        return Err(self.refuse_at(start, "malformed list index in"));
                    }
                    self.bump(']');
                }
                _ => {
                    self.pos = end;
                    return Ok(Path {
                        text: &self.s[start..end],
                        top,
                    });
                }
            }
        }
    }

    /// Refuses, naming the expression and the text from `start` to the next whitespace.
    fn refuse_at(&self, start: usize, problem: &str) -> Error {
        let rest = &self.s[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        refuse(self.what, problem, &rest[..end])
    }
}

pub(crate) fn refuse(what: &str, problem: &str, token: &str) -> Error {
    // Tokens are names and placeholders, never attribute values; a long one is cut.
    const SHOWN: usize = 40;
    let shown: String = token.chars().take(SHOWN).collect();
    let ellipsis = if token.chars().nth(SHOWN).is_some() {
        "..."
    } else {
        ""
    };
    Error::RequestRefused(format!("{what}: {problem} '{shown}{ellipsis}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(pairs: &[(&str, &str)]) -> ExpressionNames {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn condition(expr: &str, map: &ExpressionNames) -> Vec<String> {
        condition_attributes(expr, map, "ConditionExpression").unwrap()
    }

    fn refusal(r: Result<Vec<String>>) -> String {
        match r {
            Err(Error::RequestRefused(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// Ported from the reference's TestExtractAttributes
    /// (DynamoDbEncryption/dafny/DynamoDbEncryption/test/FilterExpr.dfy).
    #[test]
    fn reference_filter_expr_extract_attributes() {
        let map = names(&[("#one", "two"), ("#three", "four")]);
        let none = ExpressionNames::new();
        let cases: &[(&str, &ExpressionNames, &[&str])] = &[
            ("", &none, &[]),
            ("", &map, &[]),
            ("A < :b", &none, &["A"]),
            ("A <= :b", &map, &["A"]),
            ("A < B", &none, &["A", "B"]),
            ("A < B", &map, &["A", "B"]),
            (":a >= B", &none, &["B"]),
            (":a = B", &map, &["B"]),
            ("#one <> B", &map, &["two", "B"]),
            ("A < #three", &map, &["A", "four"]),
            ("#one < #three", &map, &["two", "four"]),
            ("A in :a, :b, :c", &map, &["A"]),
            ("A between B and C", &map, &["A", "B", "C"]),
            ("not begins_with(A, :b)", &map, &["A"]),
            ("A < B or C <> D", &map, &["A", "B", "C", "D"]),
            ("contains(A, :b)", &map, &["A"]),
            ("begins_with(A, :b)", &map, &["A"]),
            // ignored: these functions do not read the value
            ("attribute_exists(A)", &map, &[]),
            ("attribute_not_exists(A)", &map, &[]),
            ("size(A)", &map, &[]),
            (
                "A < B or size(C) or D between E and F",
                &map,
                &["A", "B", "D", "E", "F"],
            ),
        ];
        for (expr, map, expected) in cases {
            assert_eq!(condition(expr, map), *expected, "{expr:?}");
        }
    }

    #[test]
    fn condition_rules() {
        let map = names(&[("#n", "card"), ("#m", "notes")]);
        let cases: &[(&str, &[&str])] = &[
            // keywords in any case
            ("a = :x aNd b = :y oR NoT c In (:z, :w)", &["a", "b", "c"]),
            ("a BETWEEN :lo AND :hi", &["a"]),
            // paths reduce to their top-level name, #names resolved
            ("a.b[1].c = :v", &["a"]),
            ("#n.number[2] = :v AND #m[0] <> :w", &["card", "notes"]),
            ("a [ 1 ] . b = :v", &["a"]),
            // an unknown #name stays as written
            ("#unknown = :v", &["#unknown"]),
            // value-blind functions: their operand is skipped, with spaces and #names too
            (
                "attribute_exists (#n) AND size(#m.x) > :v AND c = :w",
                &["c"],
            ),
            ("attribute_not_exists(a.b[3]) OR d = :d", &["d"]),
            ("attribute_type(a, :t) AND contains(b, c)", &["a", "b", "c"]),
            // whole words: the reference would read IN+ventory, OR+der, NOT+es, SIZE+s
            (
                "inventory = :a AND order_id = :b AND notes = :c AND sizes = :d",
                &["inventory", "order_id", "notes", "sizes"],
            ),
            // tabs and newlines separate (the reference stops at the first one)
            ("a = :v\nAND\tb = :w\r\nOR c = :x", &["a", "b", "c"]),
            // function names are case-sensitive in DynamoDB, and need a '('
            ("SIZE(a) > :v", &["SIZE", "a"]),
            ("size = :v", &["size"]),
            // duplicates kept, in order
            ("b = :x OR a = :y OR b = :z", &["b", "a", "b"]),
            // :values are not attributes, whatever follows the ':'
            (":a = :b", &[]),
            // non-ASCII names are names
            ("café = :v AND 日本 = :w", &["café", "日本"]),
            // operators without spaces
            (
                "a<>b AND c<=:v AND d>=e AND (f<g) AND h>i",
                &["a", "b", "c", "d", "e", "f", "g", "h", "i"],
            ),
        ];
        for (expr, expected) in cases {
            assert_eq!(condition(expr, &map), *expected, "{expr:?}");
        }
    }

    /// Ported from the reference's TestExamples
    /// (DynamoDbEncryption/dafny/DynamoDbEncryption/test/UpdateExpr.dfy).
    #[test]
    fn reference_update_expr_examples() {
        let none = ExpressionNames::new();
        let cases: &[(&str, &[&str])] = &[
            (
                "SET ProductCategory = :c, Price = :p",
                &["ProductCategory", "Price"],
            ),
            ("SET RelatedItems[1] = :ri", &["RelatedItems"]),
            ("SET #pr.#5star[1] = :r5, #pr.#3star = :r3", &["#pr", "#pr"]),
            ("SET Price = Price - :p", &["Price", "Price"]),
            ("SET #ri = list_append(#ri, :vals)", &["#ri", "#ri"]),
            ("SET #ri = list_append(:vals, #ri)", &["#ri", "#ri"]),
            ("SET Price = if_not_exists(Price, :p)", &["Price", "Price"]),
            (
                "REMOVE Brand, InStock, QuantityOnHand",
                &["Brand", "InStock", "QuantityOnHand"],
            ),
            (
                "REMOVE RelatedItems[1], RelatedItems[2]",
                &["RelatedItems", "RelatedItems"],
            ),
            ("ADD QuantityOnHand :q", &["QuantityOnHand"]),
            ("DELETE Color :p", &["Color"]),
        ];
        for (expr, expected) in cases {
            assert_eq!(
                update_attributes(expr, &none).unwrap(),
                *expected,
                "{expr:?}"
            );
        }
        let map = names(&[("#pr", "foo")]);
        assert_eq!(
            update_attributes("SET #pr.#5star[1] = :r5, #pr.#3star = :r3", &map).unwrap(),
            ["foo", "foo"]
        );
    }

    #[test]
    fn update_rules() {
        let map = names(&[("#c", "card")]);
        let cases: &[(&str, &[&str])] = &[
            // clause keywords in any case
            ("set a = :v remove b", &["a", "b"]),
            (
                "Set a = :v, b = :w Remove c add d :n delete e :s",
                &["a", "b", "c", "d", "e"],
            ),
            (
                "SET a = list_append(b, :v), c = if_not_exists(d, :z) ADD e :n DELETE f :s",
                &["a", "b", "c", "d", "e", "f"],
            ),
            ("SET a = b + :x, c = d - :y", &["a", "b", "c", "d"]),
            ("SET #c.number = :v", &["card"]),
            ("SET a.b[0] = :v\nREMOVE\tc[1]", &["a", "c"]),
            // a function name with no '(' is an attribute (the reference ignores it)
            ("SET list_append = :v", &["list_append"]),
            // function names are case-sensitive
            ("SET a = LIST_APPEND(b, :v)", &["a", "LIST_APPEND", "b"]),
            // whole words: "settings" is not SET
            ("SET settings = :v, address = :w", &["settings", "address"]),
            ("", &[]),
        ];
        for (expr, expected) in cases {
            assert_eq!(
                update_attributes(expr, &map).unwrap(),
                *expected,
                "{expr:?}"
            );
        }
    }

    #[test]
    fn projection_rules() {
        let map = names(&[("#c", "comment")]);
        let cases: &[(&str, &[&str])] = &[
            ("a.b, #c[2]", &["a", "comment"]),
            ("a,b ,  c", &["a", "b", "c"]),
            (
                "aws_dbe_head, aws_dbe_foot, pk",
                &["aws_dbe_head", "aws_dbe_foot", "pk"],
            ),
            ("a . b [ 0 ], #unknown", &["a", "#unknown"]),
            ("", &[]),
        ];
        for (expr, expected) in cases {
            assert_eq!(
                projection_attributes(expr, &map).unwrap(),
                *expected,
                "{expr:?}"
            );
        }
        for bad in [
            "a = :v",
            "a,,b",
            ",a",
            "a,",
            "a b",
            ":v",
            "a, size(b)",
            "(a)",
        ] {
            let message = refusal(projection_attributes(bad, &map));
            assert!(
                message.starts_with("ProjectionExpression: unexpected token '"),
                "{bad:?}: {message}"
            );
        }
    }

    #[test]
    fn malformed_text_is_refused_with_kind_and_token() {
        let map = ExpressionNames::new();
        let cases: &[(&str, &str)] = &[
            ("a != :v", "ConditionExpression: unexpected character '!='"),
            (
                "a = \"x\"",
                "ConditionExpression: unexpected character '\"x\"'",
            ),
            ("a = :v;", "ConditionExpression: unexpected character ';'"),
            // arithmetic is an UpdateExpression's only
            (
                "a + :v = :w",
                "ConditionExpression: unexpected character '+'",
            ),
            ("a = :", "ConditionExpression: expected a name at ':'"),
            ("# = :v", "ConditionExpression: expected a name at '#'"),
            ("a.#", "ConditionExpression: expected a name at '#'"),
            ("a. = :v", "ConditionExpression: expected a name at '='"),
            (
                "a[x] = :v",
                "ConditionExpression: malformed list index in 'a[x]'",
            ),
            (
                "a[1 = :v",
                "ConditionExpression: malformed list index in 'a[1'",
            ),
            (
                "a[-1]",
                "ConditionExpression: malformed list index in 'a[-1]'",
            ),
            ("[1] = :v", "ConditionExpression: unexpected token '[1]'"),
            (".a = :v", "ConditionExpression: unexpected token '.a'"),
        ];
        for (expr, expected) in cases {
            assert_eq!(
                refusal(condition_attributes(expr, &map, "ConditionExpression")),
                *expected
            );
        }
        assert_eq!(
            refusal(update_attributes("SET a = :v & b", &map)),
            "UpdateExpression: unexpected character '&'"
        );
        let long = format!("SET {}[x] = :v", "x".repeat(100));
        assert_eq!(
            refusal(update_attributes(&long, &map)),
            format!(
                "UpdateExpression: malformed list index in '{}...'",
                "x".repeat(40)
            )
        );
    }

    /// The length check of the reference's TestValidateExpressionLength
    /// (DynamoDbEncryption/dafny/DynamoDbEncryption/test/DDBSupport.dfy), for all three readers.
    #[test]
    fn length_limit() {
        let map = ExpressionNames::new();
        let at_limit = " ".repeat(MAX_EXPRESSION_LENGTH);
        let over = " ".repeat(MAX_EXPRESSION_LENGTH + 1);
        assert_eq!(
            condition_attributes(&at_limit, &map, "KeyConditionExpression"),
            Ok(vec![])
        );
        assert_eq!(update_attributes(&at_limit, &map), Ok(vec![]));
        assert_eq!(projection_attributes(&at_limit, &map), Ok(vec![]));
        assert_eq!(
            refusal(condition_attributes(&over, &map, "KeyConditionExpression")),
            "KeyConditionExpression exceeds maximum length of 4096 characters"
        );
        assert!(refusal(update_attributes(&over, &map)).starts_with("UpdateExpression exceeds"));
        assert!(
            refusal(projection_attributes(&over, &map)).starts_with("ProjectionExpression exceeds")
        );
        // UTF-16 code units, like the reference: 'é' is one unit (two bytes), '😀' two (four bytes).
        let accented = "é".repeat(MAX_EXPRESSION_LENGTH);
        assert_eq!(projection_attributes(&accented, &map), Ok(vec![accented]));
        let emoji = "😀".repeat(MAX_EXPRESSION_LENGTH / 2);
        assert_eq!(projection_attributes(&emoji, &map), Ok(vec![emoji.clone()]));
        assert!(projection_attributes(&format!("{emoji}a"), &map).is_err());
    }

    /// No input makes a reader panic: odd fragments, alone and in pairs.
    #[test]
    fn odd_inputs_never_panic() {
        let fragments = [
            "",
            " ",
            "(",
            ")",
            "((a",
            "a))",
            "#",
            "##",
            "#a",
            ":",
            "::",
            ".",
            "[",
            "]",
            "[1",
            "a.",
            "a[",
            "a[1",
            "a [ 1 ]",
            "a . b",
            "é",
            "日本語",
            "😀",
            "\u{0}",
            "\u{FEFF}",
            "\u{A0}",
            "\t",
            "\n",
            "size(",
            "attribute_exists(",
            "attribute_exists",
            "between",
            "AND",
            "<",
            "<>",
            ">=",
            "=",
            ",",
            "a[99999999999999999999999]",
            "SET",
            "list_append(",
            "\"",
            "!",
            "\\",
            "#😀",
            ":😀",
            "a.#b[0].c",
            "exists(",
            "select",
            "from",
        ];
        let map = names(&[("#a", "x"), ("#😀", "y")]);
        let mut checked = 0;
        for first in fragments {
            for second in fragments {
                for input in [format!("{first}{second}"), format!("{first} {second}")] {
                    let results = [
                        condition_attributes(&input, &map, "FilterExpression"),
                        update_attributes(&input, &map),
                        projection_attributes(&input, &map),
                        crate::ddb::statement::statement_table(&input).map(|t| vec![t]),
                    ];
                    for result in results {
                        assert!(
                            matches!(result, Ok(_) | Err(Error::RequestRefused(_))),
                            "{input:?}: {result:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, fragments.len() * fragments.len() * 2 * 4);
    }
}
