use std::collections::BTreeMap;

/// A DynamoDB item: attribute name to value.
pub type Item = BTreeMap<String, AttributeValue>;

/// A DynamoDB attribute value, one variant per DynamoDB type.
///
/// `N` and `NS` hold numbers as decimal strings, exactly as DynamoDB does;
/// they are validated and normalized when an item is serialized for sealing.
#[derive(Clone, PartialEq, Eq)]
pub enum AttributeValue {
    S(String),
    N(String),
    B(Vec<u8>),
    Bool(bool),
    Null,
    L(Vec<AttributeValue>),
    M(BTreeMap<String, AttributeValue>),
    Ss(Vec<String>),
    Ns(Vec<String>),
    Bs(Vec<Vec<u8>>),
}

impl AttributeValue {
    /// The DynamoDB type tag, e.g. `"S"` or `"BOOL"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::L(_) => "L",
            AttributeValue::M(_) => "M",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }
}

/// Values may be secrets, so `Debug` shows only the shape, never the content.
impl std::fmt::Debug for AttributeValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttributeValue::Bool(_) | AttributeValue::Null => write!(f, "{}(..)", self.type_name()),
            AttributeValue::S(s) => write!(f, "S(<{} bytes>)", s.len()),
            AttributeValue::N(_) => write!(f, "N(..)"),
            AttributeValue::B(b) => write!(f, "B(<{} bytes>)", b.len()),
            AttributeValue::L(l) => f.debug_list().entries(l).finish(),
            AttributeValue::M(m) => f.debug_map().entries(m).finish(),
            AttributeValue::Ss(v) => write!(f, "SS(<{} items>)", v.len()),
            AttributeValue::Ns(v) => write!(f, "NS(<{} items>)", v.len()),
            AttributeValue::Bs(v) => write!(f, "BS(<{} items>)", v.len()),
        }
    }
}
