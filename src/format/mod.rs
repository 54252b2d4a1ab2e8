//! The structured-encryption wire format: header, footer, encrypted fields.
//! Spec: aws-database-encryption-sdk-dynamodb specification/structured-encryption/
