//! `cargo run --example demo`: the terminal version of the demo (`make demo`
//! serves the browser one, www/): seal a sample order with a raw AES key
//! generated on the spot, print the item as it would be uploaded, then open it
//! again. Needs no cloud.

use std::collections::BTreeMap;
use std::sync::Arc;

use fieldseal::item::json::{item_from_json, item_to_json};
use fieldseal::keyring::RawAesKeyring;
use fieldseal::primitives::provider::{SecureRandom, SystemRandom};
use fieldseal::{AlgorithmSuiteId, CryptoAction, ItemEncryptor, ItemEncryptorConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wrapping_key = SystemRandom.secret_bytes(32)?;
    let keyring = Arc::new(RawAesKeyring::new(
        "demo",
        "embedded-key",
        wrapping_key.expose(),
    )?);

    let actions: BTreeMap<String, CryptoAction> = [
        ("order_id", CryptoAction::SignOnly),
        ("created_at", CryptoAction::SignOnly),
        ("customer", CryptoAction::EncryptAndSign),
        ("email", CryptoAction::EncryptAndSign),
        ("card_number", CryptoAction::EncryptAndSign),
        ("address", CryptoAction::EncryptAndSign),
        ("amount", CryptoAction::SignOnly),
    ]
    .into_iter()
    .map(|(k, a)| (k.to_string(), a))
    .collect();
    let mut config = ItemEncryptorConfig::new("Orders", "order_id", actions, keyring);
    config.sort_key_name = Some("created_at".into());
    config.algorithm_suite_id = AlgorithmSuiteId::default();
    let encryptor = ItemEncryptor::new(config)?;

    let order = item_from_json(&serde_json::json!({
        "order_id": {"S": "order-1001"},
        "created_at": {"N": "1763856000"},
        "customer": {"S": "Ada Lovelace"},
        "email": {"S": "ada@example.com"},
        "card_number": {"S": "4111 1111 1111 1111"},
        "address": {"M": {"street": {"S": "12 Analytical Row"}, "city": {"S": "London"}}},
        "amount": {"N": "129.50"}
    }))?;

    let sealed = pollster::block_on(encryptor.encrypt_item(&order))?;
    let opened = pollster::block_on(encryptor.decrypt_item(&sealed))?;

    println!("== plaintext order\n{}", pretty(&item_to_json(&order)));
    println!(
        "\n== sealed item, as uploaded (suite {:#06x})\n{}",
        AlgorithmSuiteId::default().id(),
        pretty(&item_to_json(&sealed))
    );
    println!("\n== opened again\n{}", pretty(&item_to_json(&opened)));
    Ok(())
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON values always print")
}
