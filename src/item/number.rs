//! DynamoDB number validation and normalization.
//! Spec: dynamodb-encryption-client/ddb-attribute-serialization.md#number; the
//! rules follow the reference implementation's NormalizeNumber: at most 38
//! significant digits, magnitude from 1E-130 up to (but excluding) 1E126,
//! printed as a plain decimal with no exponent and no redundant zeros.
//!
//! Every input both accept gives the reference's output. This is stricter than
//! the reference in two places, where DynamoDB itself refuses the number:
//! - an exponent with a sign but no digits (`1e+`, `1e-`), which the
//!   reference reads as exponent 0;
//! - magnitude out of range when the decimal point lands inside the digit
//!   string, e.g. `1` followed by 300 zeros then `e-10` (1E290), which the
//!   reference's range checks miss.

use crate::error::{Error, Result};

const MAX_SIGNIFICANT_DIGITS: usize = 38;
/// Largest number of integer digits (values below 1E126).
const MAX_INTEGER_DIGITS: i64 = 126;
/// Smallest decimal-point position (values from 1E-130).
const MIN_POINT: i64 = -129;

/// Validate a DynamoDB number and return its canonical form
/// (`1.50` -> `1.5`, `-0` -> `0`, `1E+3` -> `1000`, `00.0011` -> `0.0011`).
pub fn normalize_number(n: &str) -> Result<String> {
    let bad = |why: &str| Error::InvalidItem(format!("invalid number: {why}"));
    let parts = split_number(n)?;
    // Digits without leading zeros; `point` is where the decimal point falls.
    let digits: Vec<u8> = parts.int.bytes().chain(parts.frac.bytes()).collect();
    let leading = digits.iter().take_while(|&&d| d == b'0').count();
    let trailing = digits[leading..]
        .iter()
        .rev()
        .take_while(|&&d| d == b'0')
        .count();
    let significant = &digits[leading..digits.len() - trailing];
    if significant.is_empty() {
        return Ok("0".into());
    }
    if significant.len() > MAX_SIGNIFICANT_DIGITS {
        return Err(bad("more than 38 significant digits"));
    }
    let point = (parts.int.len() as i64 - leading as i64).saturating_add(parts.exponent);
    if point > MAX_INTEGER_DIGITS {
        return Err(bad(
            "magnitude larger than DynamoDB supports (1E126 and above)",
        ));
    }
    if point < MIN_POINT {
        return Err(bad(
            "magnitude smaller than DynamoDB supports (below 1E-130)",
        ));
    }
    let sig = std::str::from_utf8(significant).expect("ASCII digits");
    Ok(plain_decimal(parts.negative, sig, point))
}

/// A number's text split into sign, integer digits, fraction digits and exponent.
struct NumberParts<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
    exponent: i64,
}

/// Check the syntax (`[+-]digits[.digits][(e|E)[+-]digits]`, digits on at
/// least one side of the point) and split the parts.
fn split_number(n: &str) -> Result<NumberParts<'_>> {
    let bad = |why: &str| Error::InvalidItem(format!("invalid number: {why}"));
    let (negative, rest) = match n.as_bytes().first() {
        None => return Err(bad("empty string")),
        Some(b'-') => (true, &n[1..]),
        Some(b'+') => (false, &n[1..]),
        Some(_) => (false, n),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int, frac) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) {
        return Err(bad("only digits, one '.', and an exponent are allowed"));
    }
    if int.is_empty() && frac.is_empty() {
        return Err(bad("needs digits before or after the decimal point"));
    }
    let exponent = match exponent {
        None => 0i64,
        Some(e) => parse_exponent(e).ok_or_else(|| bad("malformed exponent"))?,
    };
    Ok(NumberParts {
        negative,
        int,
        frac,
        exponent,
    })
}

/// Significant digits `sig` with the decimal point after `point` of them
/// (before them when `point <= 0`), printed without an exponent.
fn plain_decimal(negative: bool, sig: &str, point: i64) -> String {
    let mut out = String::with_capacity(sig.len() + 8);
    if negative {
        out.push('-');
    }
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat('0').take((-point) as usize));
        out.push_str(sig);
    } else if point as usize >= sig.len() {
        out.push_str(sig);
        out.extend(std::iter::repeat('0').take(point as usize - sig.len()));
    } else {
        out.push_str(&sig[..point as usize]);
        out.push('.');
        out.push_str(&sig[point as usize..]);
    }
    out
}

/// An optionally signed decimal exponent; huge values saturate (and are then
/// out of range unless the number is zero).
fn parse_exponent(e: &str) -> Option<i64> {
    let (neg, digits) = match e.as_bytes().first()? {
        b'-' => (true, &e[1..]),
        b'+' => (false, &e[1..]),
        _ => (false, e),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0i64, |acc, d| {
        acc.saturating_mul(10).saturating_add((d - b'0') as i64)
    });
    Some(if neg { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::normalize_number as norm;

    #[test]
    fn canonical_forms() {
        for (input, want) in [
            ("1.50", "1.5"),
            ("-0", "0"),
            ("+0.000", "0"),
            ("1E+3", "1000"),
            ("1e3", "1000"),
            ("00.0011", "0.0011"),
            ("0000", "0"),
            ("2000.000", "2000"),
            ("10.01", "10.01"),
            ("100E-2", "1"),
            ("0.001E2", "0.1"),
            ("-12.3400e1", "-123.4"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1E-130", &format!("0.{}1", "0".repeat(129))),
            (
                "9.9999999999999999999999999999999999999E+125",
                &format!("99999999999999999999999999999999999999{}", "0".repeat(88)),
            ),
            ("0E999999999999999999999", "0"),
        ] {
            assert_eq!(norm(input).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn rejections() {
        for input in [
            "",
            "-",
            "+",
            ".",
            "1e",
            "1e+",
            "+-1",
            "--1",
            "NaN",
            "Infinity",
            "1.2.3",
            "1e1.5",
            " 1",
            "1 ",
            "0x10",
            "1E126",
            "1E-131",
            "123456789012345678901234567890123456789",
            "1E999999999999999999999",
        ] {
            let e = norm(input).unwrap_err();
            assert_eq!(e.code(), "INVALID_ITEM", "{input:?}");
        }
        assert!(norm("12345678901234567890123456789012345678").is_ok());
    }
}
