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
    /// Key material has the wrong length or cannot be parsed.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A size limit of the format or of DynamoDB is exceeded, or an item
    /// carries more wrapped data keys than `max_encrypted_data_keys`.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// A bug in fieldseal, not the caller's input: report it.
    #[error("internal error in fieldseal: {0}")]
    Internal(String),
}

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
            Error::InvalidKey(_) => "INVALID_KEY",
            Error::LimitExceeded(_) => "LIMIT_EXCEEDED",
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
