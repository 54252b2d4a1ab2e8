//! The two algorithm suites the DB-ESDK supports.
//! Spec: aws-encryption-sdk-specification framework/algorithm-suites.md, "DBE" suites.

use crate::error::{Error, Result};

/// A DB-ESDK algorithm suite identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AlgorithmSuiteId {
    /// 0x6700: AES-256-GCM, HKDF-SHA512, key commitment, HMAC-SHA384 recipient tags.
    AesGcmHkdfSha512CommitKeySymsigHmacSha384,
    /// 0x6701: as 0x6700, plus an ECDSA P-384 signature. The DB-ESDK default.
    #[default]
    AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
}

impl AlgorithmSuiteId {
    /// The two-byte suite id, e.g. `0x6701`.
    pub fn id(self) -> u16 {
        match self {
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384 => 0x6700,
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => 0x6701,
        }
    }

    /// The id as big-endian bytes, as used in KDF labels.
    pub fn id_bytes(self) -> [u8; 2] {
        self.id().to_be_bytes()
    }

    pub fn from_id(id: u16) -> Result<Self> {
        match id {
            0x6700 => Ok(AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384),
            0x6701 => Ok(AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384),
            other => Err(Error::InvalidConfig(format!(
                "algorithm suite 0x{other:04x} is not a DB-ESDK suite (use 0x6700 or 0x6701)"
            ))),
        }
    }

    /// The header's format flavor byte: the low byte of the suite id.
    /// Spec: structured-encryption/header.md#format-flavor
    pub fn flavor(self) -> u8 {
        self.id_bytes()[1]
    }

    /// Spec: structured-encryption/header.md#format-flavor
    pub fn from_flavor(flavor: u8) -> Result<Self> {
        match flavor {
            0x00 => Ok(AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384),
            0x01 => Ok(AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384),
            other => Err(Error::malformed(format!(
                "header flavor 0x{other:02x} names no DB-ESDK algorithm suite"
            ))),
        }
    }

    /// Whether records carry an ECDSA P-384 signature in the footer.
    pub fn is_signing(self) -> bool {
        matches!(
            self,
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384
        )
    }

    /// The official enum name, as used by the DB-ESDK and its test manifests.
    pub fn name(self) -> &'static str {
        match self {
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384 => {
                "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384"
            }
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384 => {
                "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384"
            }
        }
    }

    /// Accepts the official enum name, `0x6700`/`6700` hex forms, and is case-insensitive for hex.
    pub fn parse(s: &str) -> Result<Self> {
        for suite in [
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
        ] {
            if s == suite.name() {
                return Ok(suite);
            }
        }
        let hex = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(s);
        match u16::from_str_radix(hex, 16) {
            Ok(id) if hex.len() == 4 => Self::from_id(id),
            _ => Err(Error::InvalidConfig(format!(
                "unknown algorithm suite {s:?} (use 0x6700 or 0x6701)"
            ))),
        }
    }
}

/// Data key, field key and commitment key length for both suites (AES-256).
pub const KEY_LEN: usize = 32;
/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// HMAC-SHA384 recipient tag length in the footer.
pub const RECIPIENT_TAG_LEN: usize = 48;
/// ECDSA P-384 DER signature length in the footer (re-signed until it is exactly this).
pub const SIGNATURE_LEN: usize = 103;
