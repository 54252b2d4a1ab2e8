//! The table a PartiQL statement names. Spec: ddb-sdk-integration.md#validate-before-executestatement; reference DdbStatement.dfy
//!
//! A line-for-line port of the reference's `TableFromStatement`
//! (DynamoDbEncryption/dafny/DynamoDbEncryptionTransforms/src/DdbStatement.dfy):
//! the first word picks the statement kind (SELECT, UPDATE, DELETE, INSERT,
//! EXISTS(SELECT ...)), a token is either a double-quoted string or a run of
//! non-whitespace, and the table is the token after FROM / INTO / UPDATE
//! (a SELECT's `Table.Index` gives `Table`), unquoted, 3 to 255 characters long.
//! One deviation, in the safe direction: an unquoted name ends at the first
//! character no DynamoDB table name has (see `table_name`).
//! When no table can be found the caller refuses the statement, as the reference does.

use crate::error::{Error, Result};

/// The table a PartiQL statement (ExecuteStatement, BatchExecuteStatement,
/// ExecuteTransaction) reads or writes.
pub fn statement_table(statement: &str) -> Result<String> {
    table_from_statement(statement)
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::RequestRefused("cannot find the table name in the PartiQL statement".into())
        })
}

/// The reference's `IsWhitespace`: everything from NUL through space.
fn is_whitespace(c: char) -> bool {
    c <= ' '
}

fn strip_leading_whitespace(s: &str) -> &str {
    s.trim_start_matches(is_whitespace)
}

/// Byte length of the token `s` starts with: through the closing quote if
/// it starts with `"` (or to the end, unclosed), else up to the next whitespace.
fn token_len(s: &str) -> usize {
    match s.chars().next() {
        None => 0,
        Some(c) if is_whitespace(c) => 0,
        Some('"') => s[1..].find('"').map_or(s.len(), |i| i + 2),
        Some(_) => s.find(is_whitespace).unwrap_or(s.len()),
    }
}

/// Splits off the first token of `s` (which starts at a non-whitespace character or is empty).
fn first_token(s: &str) -> (&str, &str) {
    s.split_at(token_len(s))
}

/// The reference's `UnQuote`: drops one leading and one trailing `"`, each if present.
fn unquote(s: &str) -> &str {
    let s = s.strip_prefix('"').unwrap_or(s);
    s.strip_suffix('"').unwrap_or(s)
}

/// The reference's `GetTableName`: DynamoDB's TableName is 3 to 255
/// characters (UTF-16 code units in the reference's Dafny strings).
fn table_name(s: &str) -> Option<&str> {
    let s = if s.starts_with('"') {
        unquote(s)
    } else {
        // Unlike the reference, an unquoted name stops at the first character
        // no table name has (DynamoDB's are [A-Za-z0-9_.-]): the reference
        // reads `EXISTS(SELECT * FROM Orders)` as table "Orders)" and so
        // misses a configured Orders.
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .unwrap_or(s.len());
        &s[..end]
    };
    (3..=255).contains(&s.encode_utf16().count()).then_some(s)
}

fn table_from_statement(s: &str) -> Option<&str> {
    let s = strip_leading_whitespace(s);
    // "exists" is matched as a prefix, so "EXISTS(SELECT" needs no space.
    if s.len() > 6 && s.as_bytes()[..6].eq_ignore_ascii_case(b"exists") {
        return table_from_exists(&s[6..]);
    }
    let (command, rest) = first_token(s);
    if command.eq_ignore_ascii_case("select") {
        table_from_select(rest)
    } else if command.eq_ignore_ascii_case("update") {
        table_after_keyword(rest, None)
    } else if command.eq_ignore_ascii_case("delete") {
        table_after_keyword(rest, Some("from"))
    } else if command.eq_ignore_ascii_case("insert") {
        table_after_keyword(rest, Some("into"))
    } else {
        None
    }
}

/// `EXISTS ( SELECT ...`
fn table_from_exists(s: &str) -> Option<&str> {
    let s = strip_leading_whitespace(s).strip_prefix('(')?;
    let (command, rest) = first_token(strip_leading_whitespace(s));
    if command.eq_ignore_ascii_case("select") {
        table_from_select(rest)
    } else {
        None
    }
}

/// The token after the first bare FROM (expressions hold no such token);
/// of `Table.Index`, the table.
fn table_from_select(s: &str) -> Option<&str> {
    let mut s = s;
    let name = loop {
        if s.is_empty() {
            return None;
        }
        let (token, rest) = first_token(strip_leading_whitespace(s));
        if token.eq_ignore_ascii_case("from") {
            break first_token(strip_leading_whitespace(rest)).0;
        }
        if token.is_empty() {
            return None;
        }
        s = rest;
    };
    table_name(name.split_once('.').map_or(name, |(table, _index)| table))
}

/// UPDATE `table`, DELETE FROM `table`, INSERT INTO `table`.
fn table_after_keyword<'a>(s: &'a str, keyword: Option<&str>) -> Option<&'a str> {
    let mut s = strip_leading_whitespace(s);
    if let Some(keyword) = keyword {
        let (token, rest) = first_token(s);
        if !token.eq_ignore_ascii_case(keyword) {
            return None;
        }
        s = strip_leading_whitespace(rest);
    }
    match first_token(s).0 {
        "" => None,
        token => table_name(token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(statement: &str) -> Option<String> {
        match statement_table(statement) {
            Ok(table) => Some(table),
            Err(Error::RequestRefused(message)) => {
                assert_eq!(
                    message,
                    "cannot find the table name in the PartiQL statement"
                );
                None
            }
            Err(other) => panic!("{statement:?}: {other:?}"),
        }
    }

    /// Ported from the reference's DynamoDbEncryption/dafny/DynamoDbEncryptionTransforms/test/DdbStatement.dfy
    #[test]
    fn reference_ddb_statement_tests() {
        let cases: &[(&str, Option<&str>)] = &[
            // TestEmptyStatement, TestInvalidStatement, TestStatementInvalidTable
            ("", None),
            ("stuff junk", None),
            ("select blah blah from f where", None),
            // TestSelectStatementCase
            ("SeLeCt blah blah FrOm foo where", Some("foo")),
            // TestInvalidStatements
            ("select", None),
            ("select blah blah blah", None),
            ("select blah blah from", None),
            ("insert", None),
            ("insert blah blah blah", None),
            ("insert into", None),
            ("insert !into blah", None),
            ("delete", None),
            ("delete blah blah blah", None),
            ("delete from", None),
            ("delete !from blah", None),
            ("update", None),
            ("  update        ", None),
            ("update b", None),
            // TestTableQuotes
            ("select * from foo", Some("foo")),
            ("select * from \"foo\"", Some("foo")),
            ("select * from \"f o o\"", Some("f o o")),
            ("insert into foo", Some("foo")),
            ("insert into \"foo\"", Some("foo")),
            ("insert into \" foo \"", Some(" foo ")),
            ("delete from foo", Some("foo")),
            ("delete from \"foo\"", Some("foo")),
            ("delete from \"   fo   o\"", Some("   fo   o")),
            ("update foo", Some("foo")),
            ("update \"foo\"", Some("foo")),
            ("update \"f\to\no\"", Some("f\to\no")),
            // TestExistsStatement
            ("exists(select * from foo", Some("foo")),
            ("\t  ExIsTs \r(\t\n SeLeCt * from foo", Some("foo")),
            ("exists(select * from \"foo\"", Some("foo")),
            ("exists(select * from \"foo.bar\"", Some("foo")),
            // TestExistsStatementErrors
            ("exists", None),
            ("exists()", None),
            ("exists select blah", None),
            ("exists(select)", None),
            ("exists(select * )", None),
            ("exists(select * from)", None),
            ("exists(update blah)", None),
            ("exists(delete from blah)", None),
            ("exists(insert into blah)", None),
            // TestSelectStatement, TestSelectStatementWithIndex
            ("select blah blah from foo where", Some("foo")),
            ("select\nblah\nblah\n\t  from\t\n  \t\n  foo where", Some("foo")),
            ("select * from foo.bar where", Some("foo")),
            // TestUpdateFromDocs
            (
                "UPDATE \"Music\" SET AwardsWon=1 SET AwardDetail={'Grammys':[2020, 2018]}  WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks",
                Some("Music"),
            ),
            (
                "UPDATE \"Music\"\nSET AwardsWon=1\nSET AwardDetail={'Grammys':[2020, 2018]}\nWHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'\nRETURNING ALL OLD *",
                Some("Music"),
            ),
            // TestSelectFromDocs
            (
                "SELECT OrderID, Total\nFROM \"Orders\"\nWHERE OrderID IN [1, 2, 3] ORDER BY OrderID DESC",
                Some("Orders"),
            ),
            (
                "SELECT Devices.FireStick.DateWatched[0]\nFROM WatchList\nWHERE CustomerID= 'C1' AND MovieID= 'M1'",
                Some("WatchList"),
            ),
            ("SELECT *\nFROM \"Orders\"\nWHERE OrderID IN [100, 300, 234]", Some("Orders")),
            // TestDeleteFromDocs
            (
                "DELETE FROM \"Music\" WHERE \"Artist\" = 'Acme Band' AND \"SongTitle\" = 'PartiQL Rocks' RETURNING ALL OLD *\n",
                Some("Music"),
            ),
            // TestExistsFromDocs
            (
                "EXISTS(\n    SELECT * FROM \"Music\"\n    WHERE \"Artist\" = 'Acme Band' AND \"SongTitle\" = 'PartiQL Rocks')\n",
                Some("Music"),
            ),
            // TestInsertFromDocs
            (
                "INSERT INTO \"Music\" value {'Artist' : 'Acme Band','SongTitle' : 'PartiQL Rocks'}\n",
                Some("Music"),
            ),
            (
                "INSERT INTO \"Mu s ic\" value {'Artist' : 'Acme Band','SongTitle' : 'PartiQL Rocks'}\n",
                Some("Mu s ic"),
            ),
        ];
        for (statement, expected) in cases {
            assert_eq!(table(statement).as_deref(), *expected, "{statement:?}");
        }
    }

    #[test]
    fn statement_rules() {
        let long = "t".repeat(255);
        let too_long = "t".repeat(256);
        let cases: &[(&str, Option<&str>)] = &[
            // a quoted token is one token, FROM inside it is not the keyword
            ("select \"a from b\" from Orders", Some("Orders")),
            (
                "SELECT * FROM \"Orders\".\"byCustomer\" WHERE pk = ?",
                Some("Orders"),
            ),
            // an unclosed quote runs to the end
            ("select * from \"Orders", Some("Orders")),
            // control characters are whitespace, like the reference's `ch <= ' '`
            ("select\u{1}*\u{1}from\u{1}Orders", Some("Orders")),
            // non-ASCII names, measured in UTF-16 code units (3..=255)
            ("select * from \"日本語\"", Some("日本語")),
            ("select * from \"日本\"", None),
            ("update \"😀😀\"", Some("😀😀")),
            // the command is a whole token
            ("selected * from Orders", None),
            ("existsé(select * from Orders", None),
            // an unquoted name ends where table-name characters do (the reference keeps "Orders)")
            ("EXISTS (select * from Orders)", Some("Orders")),
            ("update Orders;", Some("Orders")),
            ("update )Orders", None),
            ("upsert into Orders", None),
        ];
        for (statement, expected) in cases {
            assert_eq!(table(statement).as_deref(), *expected, "{statement:?}");
        }
        assert_eq!(
            table(&format!("update {long}")).as_deref(),
            Some(long.as_str())
        );
        assert_eq!(table(&format!("update {too_long}")), None);
    }
}
