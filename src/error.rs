//! One error type for the whole core. Each variant maps to a stable string
//! code that the wasm layer exposes to JavaScript as `FieldsealError.code`.
//!
//! Messages never carry key bytes or plaintext values: they name attributes,
//! providers and sizes only.

/// The result type used throughout fieldseal.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The encryptor or keyring configuration is unusable.
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    /// A plaintext item (or DynamoDB JSON) cannot be encrypted as given.
    #[error("invalid item: {0}")]
    InvalidItem(String),
    /// Sealed bytes (header, footer, field, EDK) do not parse.
    #[error("malformed ciphertext: {0}")]
    MalformedCiphertext(String),
    /// A MAC, signature, commitment or AEAD tag did not verify.
    #[error("integrity check failed: {0}")]
    IntegrityFailure(String),
    /// No keyring could decrypt any of the item's encrypted data keys.
    #[error("no matching key: {detail}; providers seen: [{}]", providers_seen.join(", "))]
    NoMatchingKey {
        providers_seen: Vec<String>,
        detail: String,
    },
    /// A key provider (KMS, custom) failed while wrapping or unwrapping.
    #[error("key provider failure: {0}")]
    KeyProviderFailure(String),
    /// The branch key store failed: a DynamoDB call failed, a branch key or
    /// version is not in the store, or a stored item is malformed or does
    /// not match the key store's configuration. Names the table and key.
    #[error("key store failure: {0}")]
    KeyStoreFailure(String),
    /// Key material has the wrong length or cannot be parsed.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A size limit of the format or of DynamoDB is exceeded, or an item
    /// carries more wrapped data keys than `max_encrypted_data_keys`.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// A DynamoDB request that client-side encryption cannot allow on a
    /// configured table (a condition on an encrypted attribute, an update of a
    /// signed one, PartiQL, a legacy parameter...). Refused before any network call.
    #[error("request refused: {0}")]
    RequestRefused(String),
    /// A bug in fieldseal, not the caller's input: report it.
    #[error("internal error in fieldseal: {0}")]
    Internal(String),
}

/// Every code [`Error::code`] can return: the documented list that pkg's
/// `ErrorCode` type extends with the package's own (`WASM_LOAD_FAILED`,
/// `OBJECT_FREED`); the fuzz targets treat any other code as a finding.
pub const ERROR_CODES: &[&str] = &[
    "INVALID_CONFIG",
    "INVALID_ITEM",
    "MALFORMED_CIPHERTEXT",
    "INTEGRITY_FAILURE",
    "NO_MATCHING_KEY",
    "KEY_PROVIDER_FAILURE",
    "KEY_STORE_FAILURE",
    "INVALID_KEY",
    "LIMIT_EXCEEDED",
    "REQUEST_REFUSED",
    "INTERNAL_ERROR",
];

impl Error {
    /// The stable, documented code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidConfig(_) => "INVALID_CONFIG",
            Error::InvalidItem(_) => "INVALID_ITEM",
            Error::MalformedCiphertext(_) => "MALFORMED_CIPHERTEXT",
            Error::IntegrityFailure(_) => "INTEGRITY_FAILURE",
            Error::NoMatchingKey { .. } => "NO_MATCHING_KEY",
            Error::KeyProviderFailure(_) => "KEY_PROVIDER_FAILURE",
            Error::KeyStoreFailure(_) => "KEY_STORE_FAILURE",
            Error::InvalidKey(_) => "INVALID_KEY",
            Error::LimitExceeded(_) => "LIMIT_EXCEEDED",
            Error::RequestRefused(_) => "REQUEST_REFUSED",
            Error::Internal(_) => "INTERNAL_ERROR",
        }
    }

    pub(crate) fn malformed(what: impl Into<String>) -> Self {
        Error::MalformedCiphertext(what.into())
    }

    pub(crate) fn integrity(what: impl Into<String>) -> Self {
        Error::IntegrityFailure(what.into())
    }
}

#[cfg(test)]
mod code_list_tests {
    use super::*;

    #[test]
    fn every_variant_code_is_listed() {
        let samples = [
            Error::InvalidConfig(String::new()),
            Error::InvalidItem(String::new()),
            Error::MalformedCiphertext(String::new()),
            Error::IntegrityFailure(String::new()),
            Error::NoMatchingKey {
                providers_seen: vec![],
                detail: String::new(),
            },
            Error::KeyProviderFailure(String::new()),
            Error::KeyStoreFailure(String::new()),
            Error::InvalidKey(String::new()),
            Error::LimitExceeded(String::new()),
            Error::RequestRefused(String::new()),
            Error::Internal(String::new()),
        ];
        let codes: Vec<&str> = samples.iter().map(Error::code).collect();
        assert_eq!(codes, ERROR_CODES);
    }
}
