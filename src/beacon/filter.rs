//! Condition expressions and beacons: rewriting a query's key condition and
//! filter to beacon names and values, and applying the original expression
//! to the opened items. Port of FilterExpr.dfy (and DDBSupport.dfy's
//! ExtractPartition, Transforms' GetNumberOfQueries.dfy).
//! Spec: dynamodb-encryption-client/ddb-support.md#queryinputforbeacons,
//! #queryoutputforbeacons, #scaninputforbeacons; searchable-encryption/beacons.md,
//! search-config.md#get-beacon-key-for-query, changes/2025-08-25-beacon-partitions.
//!
//! Tokens, and the rewrite that walks them, are the reference's. The
//! tokenizer is not: the reference's (FindIndexToken) reads keywords as
//! prefixes (`inventory` is IN + `ventory`, `order` OR + `der`), stops
//! reading at the first tab or newline, and splits `#n.x` in two. The
//! rewrite puts the tokens back together into the expression sent, so such
//! a misreading would send another query than the caller's. Here keywords
//! are whole words (any case), all whitespace separates, a path (`a.b[1]`,
//! `#n.x`) is one token, function names are DynamoDB's (case-sensitive,
//! followed by `(`), and a character DynamoDB's grammar has no use for is
//! refused, as [`crate::ddb::expr`] does.
//!
//! Refusals are [`Error::RequestRefused`]; their messages name attributes,
//! beacons and placeholders, never a value.

use std::collections::BTreeMap;
use std::fmt;

use crate::ddb::expr::MAX_EXPRESSION_LENGTH;
use crate::error::{Error, Result};

/// `aws_dbe_b_`: the prefix of a beacon's attribute name.
pub const BEACON_PREFIX: &str = "aws_dbe_b_";

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

/// Refuse an expression over DynamoDB's 4 KB limit, counted in UTF-16 code
/// units as the reference does. Spec: ddb-support.md (ValidateExpressionLength)
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

/// Split a condition expression into tokens (ParseExpr). `what` names the
/// expression in errors ("FilterExpression").
pub fn parse_expr(expr: &str, what: &str) -> Result<Vec<Token>> {
    validate_expression_length(Some(expr), what)?;
    let mut lexer = Lexer {
        s: expr,
        pos: 0,
        what,
    };
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token()? {
        tokens.push(token);
    }
    Ok(tokens)
}

/// [`parse_expr`] of an optional expression (ParseExprOpt).
pub fn parse_expr_opt(expr: Option<&str>, what: &str) -> Result<Vec<Token>> {
    expr.map_or(Ok(Vec::new()), |e| parse_expr(e, what))
}

/// Letters, digits, `_`, and any non-ASCII character that is not whitespace
/// (as [`crate::ddb::expr`]).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && !c.is_whitespace())
}

struct Lexer<'a, 'w> {
    s: &'a str,
    /// Byte offset of the next character.
    pos: usize,
    what: &'w str,
}

impl Lexer<'_, '_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn bump(&mut self, c: char) {
        self.pos += c.len_utf8();
    }

    fn skip_whitespace(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.bump(c);
        }
    }

    fn skip_name_chars(&mut self) {
        while let Some(c) = self.peek().filter(|&c| is_name_char(c)) {
            self.bump(c);
        }
    }

    fn next_token(&mut self) -> Result<Option<Token>> {
        self.skip_whitespace();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(None);
        };
        self.bump(c);
        let token = match c {
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '=' => Token::Eq,
            '<' => match self.peek() {
                Some('=') => {
                    self.bump('=');
                    Token::Le
                }
                Some('>') => {
                    self.bump('>');
                    Token::Ne
                }
                _ => Token::Lt,
            },
            '>' => match self.peek() {
                Some('=') => {
                    self.bump('=');
                    Token::Ge
                }
                _ => Token::Gt,
            },
            ':' => {
                self.skip_name_chars();
                if self.pos == start + 1 {
                    return Err(self.refuse_at(start, "expected a name at"));
                }
                Token::Value(self.s[start..self.pos].to_owned())
            }
            c if c == '#' || is_name_char(c) => {
                self.pos = start;
                let path = self.path()?;
                self.word(path)
            }
            '.' | '[' | ']' => return Err(self.refuse_at(start, "unexpected token")),
            _ => return Err(self.refuse_at(start, "unexpected character")),
        };
        Ok(Some(token))
    }

    /// A keyword, a function name, or else an attribute path.
    fn word(&mut self, path: String) -> Token {
        let keyword = match path.to_ascii_lowercase().as_str() {
            "and" => Some(Token::And),
            "or" => Some(Token::Or),
            "not" => Some(Token::Not),
            "between" => Some(Token::Between),
            "in" => Some(Token::In),
            _ => None,
        };
        if let Some(k) = keyword {
            return k;
        }
        // DynamoDB's function names are case-sensitive, and call with '('.
        let rest = self.s[self.pos..].trim_start();
        if rest.starts_with('(') {
            let function = match path.as_str() {
                "attribute_exists" => Some(Token::AttributeExists),
                "attribute_not_exists" => Some(Token::AttributeNotExists),
                "attribute_type" => Some(Token::AttributeType),
                "begins_with" => Some(Token::BeginsWith),
                "contains" => Some(Token::Contains),
                "size" => Some(Token::Size),
                _ => None,
            };
            if let Some(f) = function {
                return f;
            }
        }
        Token::Attr(path)
    }

    /// One name: `#` + name characters, or name characters.
    fn name(&mut self, out: &mut String) -> Result<()> {
        let start = self.pos;
        if self.peek() == Some('#') {
            self.bump('#');
        }
        let body = self.pos;
        self.skip_name_chars();
        if self.pos == body {
            return Err(self.refuse_at(start, "expected a name at"));
        }
        out.push_str(&self.s[start..self.pos]);
        Ok(())
    }

    /// A document path, whitespace around `.`, `[` and `]` dropped.
    fn path(&mut self) -> Result<String> {
        let start = self.pos;
        let mut out = String::new();
        self.name(&mut out)?;
        loop {
            let end = self.pos;
            self.skip_whitespace();
            match self.peek() {
                Some('.') => {
                    self.bump('.');
                    self.skip_whitespace();
                    out.push('.');
                    self.name(&mut out)?;
                }
                Some('[') => {
                    self.bump('[');
                    self.skip_whitespace();
                    let digits = self.pos;
                    while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                        self.bump(d);
                    }
                    let number = &self.s[digits..self.pos];
                    self.skip_whitespace();
                    if number.is_empty() || self.peek() != Some(']') {
                        return Err(self.refuse_at(start, "malformed list index in"));
                    }
                    self.bump(']');
                    out.push('[');
                    out.push_str(number);
                    out.push(']');
                }
                _ => {
                    self.pos = end;
                    return Ok(out);
                }
            }
        }
    }

    /// Refuses, naming the expression and the text from `start` to the next whitespace.
    fn refuse_at(&self, start: usize, problem: &str) -> Error {
        // Tokens are names and placeholders, never attribute values; a long one is cut.
        const SHOWN: usize = 40;
        let rest = &self.s[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = &rest[..end];
        let shown: String = token.chars().take(SHOWN).collect();
        let ellipsis = if token.chars().nth(SHOWN).is_some() {
            "..."
        } else {
            ""
        };
        Error::RequestRefused(format!("{}: {problem} '{shown}{ellipsis}'", self.what))
    }
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
