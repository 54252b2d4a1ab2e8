//! Structured encryption: the wire format (header, footer, encrypted fields)
//! and, in [`structure`], EncryptStructure / DecryptStructure over it.
//! Spec: aws-database-encryption-sdk-dynamodb specification/structured-encryption/
//!
//! These modules take keys, materials and terminals (type id and bytes) and
//! know nothing of keyrings or DynamoDB item rules.

pub mod field;
pub mod footer;
pub mod header;
pub mod path;
pub mod structure;
#[cfg(test)]
mod test_vector;

/// Attribute holding the serialized header.
pub const HEADER_FIELD: &str = "aws_dbe_head";
/// Attribute holding the serialized footer.
pub const FOOTER_FIELD: &str = "aws_dbe_foot";
/// Prefix reserved for the format's own attributes.
pub const RESERVED_PREFIX: &str = "aws_dbe_";
