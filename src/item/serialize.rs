//! Attribute value <-> (type id, value bytes), the terminal form the format encrypts and signs.
//! Spec: dynamodb-encryption-client/ddb-attribute-serialization.md
