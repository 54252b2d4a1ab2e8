//! The DynamoDB plug-in's request rules (src/ddb), as a table: each request
//! part on an encrypted table, and whether it is refused.
//! Spec: dynamodb-encryption-client/ddb-sdk-integration.md, ddb-support.md

use std::collections::BTreeMap;
use std::sync::Arc;

use fieldseal::ddb::{EncryptedTables, Operation, RequestPart};
use fieldseal::keyring::RawAesKeyring;
use fieldseal::{CryptoAction as A, ItemEncryptor, ItemEncryptorConfig};

/// `Orders`: pk/sk SIGN_ONLY, card ENCRYPT_AND_SIGN, total SIGN_ONLY, hits DO_NOTHING.
fn tables() -> EncryptedTables {
    let actions: BTreeMap<String, A> = [
        ("pk", A::SignOnly),
        ("sk", A::SignOnly),
        ("card", A::EncryptAndSign),
        ("total", A::SignOnly),
        ("hits", A::DoNothing),
    ]
    .into_iter()
    .map(|(k, a)| (k.to_string(), a))
    .collect();
    let keyring = Arc::new(RawAesKeyring::new("ns", "k", &[7; 32]).unwrap());
    let mut config = ItemEncryptorConfig::new("OrdersLogical", "pk", actions, keyring);
    config.sort_key_name = Some("sk".into());
    config.allowed_unsigned_attributes = vec!["hits".into()];
    let mut tables = EncryptedTables::new();
    tables
        .add("Orders", Arc::new(ItemEncryptor::new(config).unwrap()))
        .unwrap();
    tables
}

fn part(table: &str) -> RequestPart {
    RequestPart {
        table: table.into(),
        ..RequestPart::default()
    }
}

fn with(mut p: RequestPart, f: impl FnOnce(&mut RequestPart)) -> RequestPart {
    f(&mut p);
    p
}

fn params<'a>(names: &'a [&'a str]) -> impl FnOnce(&mut RequestPart) + 'a {
    move |p| p.parameters = names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn request_rules_table() {
    use Operation::*;
    let t = tables();
    let names = |p: &mut RequestPart| {
        p.expression_attribute_names = [("#c".to_string(), "card".to_string())].into();
    };
    // (operation, part, refused?, why)
    let cases: Vec<(Operation, RequestPart, bool, &str)> = vec![
        (PutItem, part("Orders"), false, "a plain PutItem"),
        (
            PutItem,
            with(part("Orders"), params(&["Expected"])),
            true,
            "Expected",
        ),
        (
            PutItem,
            with(part("Orders"), params(&["ConditionalOperator"])),
            true,
            "ConditionalOperator",
        ),
        (
            UpdateItem,
            with(part("Orders"), params(&["AttributeUpdates"])),
            true,
            "AttributeUpdates",
        ),
        (
            Query,
            with(part("Orders"), params(&["KeyConditions"])),
            true,
            "KeyConditions",
        ),
        (
            Query,
            with(part("Orders"), params(&["QueryFilter"])),
            true,
            "QueryFilter",
        ),
        (
            Query,
            with(part("Orders"), params(&["AttributesToGet"])),
            true,
            "AttributesToGet on Query",
        ),
        (
            Scan,
            with(part("Orders"), params(&["ScanFilter"])),
            true,
            "ScanFilter",
        ),
        (
            Scan,
            with(part("Orders"), params(&["TableName", "Limit"])),
            false,
            "ordinary parameters",
        ),
        (
            PutItem,
            with(part("Orders"), |p| {
                p.condition_expression = Some("card = :c".into())
            }),
            true,
            "condition on an encrypted attribute",
        ),
        (
            DeleteItem,
            with(with(part("Orders"), names), |p| {
                p.condition_expression = Some("#c = :c".into())
            }),
            true,
            "condition through #name",
        ),
        (
            TransactConditionCheck,
            with(part("Orders"), |p| {
                p.condition_expression = Some("begins_with(card, :c)".into())
            }),
            true,
            "ConditionCheck",
        ),
        (
            UpdateItem,
            with(part("Orders"), |p| {
                p.condition_expression = Some("card <> :c".into())
            }),
            true,
            "UpdateItem's condition (stricter than the reference)",
        ),
        (
            PutItem,
            with(part("Orders"), |p| {
                p.condition_expression = Some("attribute_not_exists(card)".into())
            }),
            false,
            "attribute_not_exists reads no value (reference)",
        ),
        (
            PutItem,
            with(part("Orders"), |p| {
                p.condition_expression = Some("total > :t AND size(card) > :n".into())
            }),
            false,
            "signed-only attribute, size()",
        ),
        (
            UpdateItem,
            with(part("Orders"), |p| {
                p.update_expression = Some("SET hits = hits + :one".into())
            }),
            false,
            "update of a DO_NOTHING attribute",
        ),
        (
            UpdateItem,
            with(part("Orders"), |p| {
                p.update_expression = Some("SET total = :t".into())
            }),
            true,
            "update of a signed-only attribute",
        ),
        (
            TransactUpdate,
            with(with(part("Orders"), names), |p| {
                p.update_expression = Some("REMOVE #c".into())
            }),
            true,
            "update of an encrypted attribute through #name",
        ),
        (
            Query,
            with(part("Orders"), |p| {
                p.key_condition_expression = Some("pk = :p AND begins_with(sk, :s)".into())
            }),
            false,
            "key condition on the keys",
        ),
        (
            Query,
            with(part("Orders"), |p| {
                p.filter_expression = Some("card = :c".into())
            }),
            true,
            "filter on an encrypted attribute",
        ),
        (
            Scan,
            with(part("Orders"), |p| {
                p.filter_expression = Some("attribute_exists(card)".into())
            }),
            false,
            "attribute_exists filter",
        ),
        (
            GetItem,
            with(part("Orders"), |p| {
                p.projection_expression = Some("pk, card".into())
            }),
            true,
            "projection without head, foot, signed attributes",
        ),
        (
            GetItem,
            with(part("Orders"), |p| {
                p.projection_expression =
                    Some("aws_dbe_head, aws_dbe_foot, pk, sk, card, total".into())
            }),
            false,
            "a projection with all it needs",
        ),
        (
            BatchGetItem,
            with(part("Orders"), |p| {
                p.attributes_to_get = Some(vec!["pk".into(), "sk".into()])
            }),
            true,
            "AttributesToGet as a projection",
        ),
        (
            TransactGet,
            with(part("Orders"), |p| {
                p.projection_expression =
                    Some("aws_dbe_head, aws_dbe_foot, pk, sk, card, total, hits".into())
            }),
            false,
            "projection with an unsigned extra",
        ),
        // A table that is not encrypted passes whatever it carries.
        (
            PutItem,
            with(with(part("Plain"), params(&["Expected"])), |p| {
                p.condition_expression = Some("card = :c".into())
            }),
            false,
            "unconfigured table",
        ),
        (
            UpdateItem,
            with(part("Plain"), |p| {
                p.update_expression = Some("SET card = :c".into())
            }),
            false,
            "unconfigured table update",
        ),
    ];
    for (operation, part, refused, why) in cases {
        let result = t.check(operation, &part);
        match (refused, result) {
            (true, Err(e)) => {
                assert_eq!(e.code(), "REQUEST_REFUSED", "{why}: {e}");
                assert!(e.to_string().contains("\"Orders\""), "{why}: {e}");
            }
            (false, Ok(())) => {}
            (true, Ok(())) => panic!("{why}: not refused"),
            (false, Err(e)) => panic!("{why}: refused: {e}"),
        }
    }
}

#[test]
fn partiql_and_returned_attributes() {
    let t = tables();
    for statement in [
        "SELECT * FROM Orders",
        "select card from \"Orders\" where pk = 'a'",
        "INSERT INTO Orders VALUE {'pk': 'a'}",
        "UPDATE Orders SET total = 1 WHERE pk = 'a'",
        "DELETE FROM \"Orders\" WHERE pk = 'a'",
        "EXISTS(SELECT * FROM Orders WHERE pk = 'a')",
        "SELECT * FROM \"Orders\".\"byTotal\"",
    ] {
        let e = t
            .check_statement("ExecuteStatement", statement)
            .unwrap_err();
        assert_eq!(e.code(), "REQUEST_REFUSED", "{statement}: {e}");
    }
    t.check_statement("ExecuteStatement", "SELECT * FROM Plain")
        .unwrap();
    // No table to be found: refused, as the reference does.
    assert_eq!(
        t.check_statement("ExecuteStatement", "DROP everything")
            .unwrap_err()
            .code(),
        "REQUEST_REFUSED"
    );

    t.check_updated_attributes("Orders", &["hits".into()])
        .unwrap();
    let e = t
        .check_updated_attributes("Orders", &["hits".into(), "total".into()])
        .unwrap_err();
    assert_eq!(e.code(), "INTERNAL_ERROR", "{e}");
    t.check_updated_attributes("Plain", &["total".into()])
        .unwrap();
}

#[test]
fn configuration_and_operation_names() {
    let mut t = tables();
    let keyring = Arc::new(RawAesKeyring::new("ns", "k", &[7; 32]).unwrap());
    let config = ItemEncryptorConfig::new(
        "Other",
        "pk",
        [("pk".to_string(), A::SignOnly)].into(),
        keyring,
    );
    let encryptor = Arc::new(ItemEncryptor::new(config).unwrap());
    assert_eq!(
        t.add("Orders", encryptor.clone()).unwrap_err().code(),
        "INVALID_CONFIG"
    );
    assert_eq!(
        t.add("", encryptor.clone()).unwrap_err().code(),
        "INVALID_CONFIG"
    );
    t.add("Other", encryptor).unwrap();
    assert!(t.get("Other").is_some() && t.get("Orders").is_some() && t.get("Plain").is_none());
    for name in [
        "PutItem",
        "GetItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchWriteItem",
        "BatchGetItem",
        "TransactPut",
        "TransactUpdate",
        "TransactDelete",
        "TransactConditionCheck",
        "TransactGet",
    ] {
        let operation = Operation::parse(name).unwrap();
        assert!(name.starts_with(operation.api()) || name.starts_with("Transact"));
    }
    assert_eq!(
        Operation::parse("CreateTable").unwrap_err().code(),
        "INTERNAL_ERROR"
    );
}
