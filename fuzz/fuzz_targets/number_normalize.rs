//! Number normalization (src/item/number.rs): never a panic; an accepted
//! number comes out canonical, in DynamoDB's range, unchanged by a second
//! normalization, and equal in value to the input (checked as exact decimals
//! with the `bigdecimal` crate, independently of fieldseal's digit handling).
#![no_main]

use std::str::FromStr;

use bigdecimal::BigDecimal;
use fieldseal::item::normalize_number;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let out = match normalize_number(input) {
        Ok(out) => out,
        Err(e) => {
            fieldseal_fuzz::check_error(&e);
            assert_eq!(e.code(), "INVALID_ITEM");
            return;
        }
    };
    fieldseal_fuzz::number::assert_canonical(&out);
    assert_eq!(
        normalize_number(&out).as_deref(),
        Ok(out.as_str()),
        "not idempotent"
    );
    let value = BigDecimal::from_str(&out).expect("canonical output is a decimal");
    fieldseal_fuzz::number::assert_in_range(&value);
    match fieldseal_fuzz::number::exact_value(input) {
        Some(expected) => assert_eq!(value, expected, "normalization changed the value"),
        // Only an exponent beyond i64 makes the input unreadable to bigdecimal;
        // with finitely many digits only zero can then be in range.
        None => assert_eq!(out, "0", "huge exponent accepted for a non-zero value"),
    }
});
