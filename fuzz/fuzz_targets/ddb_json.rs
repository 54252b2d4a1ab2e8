//! DynamoDB JSON (src/item/json.rs): never a panic; an item that parses
//! prints as typed JSON that parses to the same item and prints the same.
//! Input: JSON text; the first byte picks item or single-value parsing.
#![no_main]

use fieldseal::item::json::{item_from_json, item_to_json, value_from_json, value_to_json};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let Ok(json) = serde_json::from_slice::<Value>(text) else {
        return;
    };
    if selector & 1 == 0 {
        match item_from_json(&json) {
            Ok(item) => {
                let printed = serde_json::to_string(&item_to_json(&item)).expect("prints");
                let reparsed: Value = serde_json::from_str(&printed).expect("printed JSON parses");
                let again = item_from_json(&reparsed).expect("printed item parses");
                assert_eq!(again, item, "item does not round-trip");
                let reprinted = serde_json::to_string(&item_to_json(&again)).expect("prints");
                assert_eq!(reprinted, printed, "printing is not stable");
            }
            Err(e) => {
                fieldseal_fuzz::check_error(&e);
                assert_eq!(e.code(), "INVALID_ITEM");
            }
        }
    } else {
        match value_from_json(&json) {
            Ok(value) => {
                let printed = serde_json::to_string(&value_to_json(&value)).expect("prints");
                let reparsed: Value = serde_json::from_str(&printed).expect("printed JSON parses");
                let again = value_from_json(&reparsed).expect("printed value parses");
                assert_eq!(again, value, "value does not round-trip");
            }
            Err(e) => {
                fieldseal_fuzz::check_error(&e);
                assert_eq!(e.code(), "INVALID_ITEM");
            }
        }
    }
});
