//! fieldseal's `AttributeValue` <-> the AWS SDK's `aws_sdk_dynamodb::types::AttributeValue`
//! (the type the official item encryptor takes and returns). All ten types, nested.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue as Ddb;
use aws_smithy_types::Blob;
use fieldseal::{AttributeValue as Fs, Item};

/// An item as the official SDK takes it.
pub type DdbItem = HashMap<String, Ddb>;

/// fieldseal -> AWS SDK. Total: every fieldseal value has an SDK form.
pub fn to_ddb(value: &Fs) -> Ddb {
    match value {
        Fs::S(s) => Ddb::S(s.clone()),
        Fs::N(n) => Ddb::N(n.clone()),
        Fs::B(b) => Ddb::B(Blob::new(b.clone())),
        Fs::Bool(b) => Ddb::Bool(*b),
        Fs::Null => Ddb::Null(true),
        Fs::L(l) => Ddb::L(l.iter().map(to_ddb).collect()),
        Fs::M(m) => Ddb::M(m.iter().map(|(k, v)| (k.clone(), to_ddb(v))).collect()),
        Fs::Ss(v) => Ddb::Ss(v.clone()),
        Fs::Ns(v) => Ddb::Ns(v.clone()),
        Fs::Bs(v) => Ddb::Bs(v.iter().map(|b| Blob::new(b.clone())).collect()),
    }
}

/// AWS SDK -> fieldseal. Fails on `Null(false)` (not a DynamoDB value) and on
/// variants this SDK version does not know.
pub fn from_ddb(value: &Ddb) -> Result<Fs, String> {
    Ok(match value {
        Ddb::S(s) => Fs::S(s.clone()),
        Ddb::N(n) => Fs::N(n.clone()),
        Ddb::B(b) => Fs::B(b.as_ref().to_vec()),
        Ddb::Bool(b) => Fs::Bool(*b),
        Ddb::Null(true) => Fs::Null,
        Ddb::Null(false) => return Err("NULL attribute with value false".into()),
        Ddb::L(l) => Fs::L(l.iter().map(from_ddb).collect::<Result<_, _>>()?),
        Ddb::M(m) => Fs::M(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), from_ddb(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Ddb::Ss(v) => Fs::Ss(v.clone()),
        Ddb::Ns(v) => Fs::Ns(v.clone()),
        Ddb::Bs(v) => Fs::Bs(v.iter().map(|b| b.as_ref().to_vec()).collect()),
        other => return Err(format!("unknown AttributeValue variant {other:?}")),
    })
}

pub fn item_to_ddb(item: &Item) -> DdbItem {
    item.iter().map(|(k, v)| (k.clone(), to_ddb(v))).collect()
}

pub fn item_from_ddb(item: &DdbItem) -> Result<Item, String> {
    item.iter()
        .map(|(k, v)| Ok((k.clone(), from_ddb(v).map_err(|e| format!("{k:?}: {e}"))?)))
        .collect()
}

/// A readable rendering of a value, with content (unlike fieldseal's `Debug`,
/// which hides it). For test failure messages only.
pub fn show(value: &Fs) -> String {
    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
    match value {
        Fs::S(s) => format!("S({s:?})"),
        Fs::N(n) => format!("N({n})"),
        Fs::B(b) => format!("B({})", hex(b)),
        Fs::Bool(b) => format!("BOOL({b})"),
        Fs::Null => "NULL".into(),
        Fs::L(l) => format!("L[{}]", l.iter().map(show).collect::<Vec<_>>().join(", ")),
        Fs::M(m) => format!(
            "M{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k:?}: {}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Fs::Ss(v) => format!("SS{v:?}"),
        Fs::Ns(v) => format!("NS{v:?}"),
        Fs::Bs(v) => format!(
            "BS[{}]",
            v.iter().map(|b| hex(b)).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub fn show_item(item: &Item) -> String {
    show(&Fs::M(item.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_types_round_trip() {
        let mut inner = Item::new();
        inner.insert("n".into(), Fs::N("1.50".into()));
        inner.insert(
            "l".into(),
            Fs::L(vec![Fs::Null, Fs::Bool(false), Fs::B(vec![0, 255])]),
        );
        let v = Fs::L(vec![
            Fs::S("x".into()),
            Fs::M(inner),
            Fs::Ss(vec!["b".into(), "a".into()]),
            Fs::Ns(vec!["2".into(), "1".into()]),
            Fs::Bs(vec![vec![2], vec![1]]),
        ]);
        let d = to_ddb(&v);
        assert_eq!(from_ddb(&d).unwrap(), v);
        assert!(from_ddb(&Ddb::Null(false)).is_err());
    }
}
