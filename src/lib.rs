//! fieldseal: field-level encryption for DynamoDB items and SQL rows,
//! byte-compatible with the AWS Database Encryption SDK for DynamoDB (DB-ESDK).
//!
//! The crate is a pure Rust core with no knowledge of JavaScript. Its layers:
//! - [`base`]: `SecretBytes` and the `MaybeSendSync` bound, which everything may use;
//! - [`cache`]: the materials cache (TTL, LRU, single-flight loads) that branch keys and KMS data keys share;
//! - [`codec`]: the wire format's reader and writer, and both encryption-context serializations;
//! - [`item`]: the DynamoDB attribute model and its canonical serialization;
//! - [`suite`] and [`primitives`]: the two DB-ESDK algorithm suites and the crypto they use;
//! - [`materials`] and [`keyring`]: data keys and the pluggable providers that wrap them
//!   (each a [`keyring::KeyProvider`]: wrap a key, unwrap one EDK), among them the AWS KMS keyrings of [`keyring::kms`] ([`keyring::AwsKmsKeyring`],
//!   [`keyring::AwsKmsMrkKeyring`], [`keyring::AwsKmsMrkDiscoveryKeyring`] and their
//!   multi-keyrings), which reach KMS through a caller-supplied [`keyring::KmsClient`];
//! - [`keystore`]: the branch key store (branch and beacon keys in DynamoDB, wrapped by
//!   AWS KMS) behind the hierarchical keyring, through caller-supplied DynamoDB and KMS clients;
//! - [`format`](mod@format): structured encryption apart from items: the wire format (header,
//!   footer, fields) and `encrypt_structure` / `decrypt_structure` over canonical fields;
//! - [`encryptor`]: the item encryptor: DynamoDB item rules, mapped onto a structure;
//! - [`beacon`]: searchable encryption: beacons (truncated HMACs of plaintext) and the
//!   rewriting of queries to them;
//! - [`ddb`]: the DynamoDB client integration's rules (what each API call may carry on an
//!   encrypted table, what is sealed before it is sent and opened after), apart from any SDK.

// Keyrings are shared through `Arc` so native builds can use them from many
// threads; on wasm32 (single-threaded) they may hold JS handles, which are
// neither Send nor Sync, and that is fine there.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

pub mod base;
pub mod beacon;
pub mod cache;
pub mod codec;
pub mod ddb;
pub mod encryptor;
pub mod error;
pub mod format;
pub mod item;
pub mod keyring;
pub mod keystore;
pub mod materials;
pub mod primitives;
pub mod suite;

pub use encryptor::{CryptoAction, ItemEncryptor, ItemEncryptorConfig};
pub use error::{Error, Result};
pub use item::{AttributeValue, Item};
pub use keyring::Keyring;
pub use suite::AlgorithmSuiteId;

/// The README's code blocks run as doctests, so the quick start stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme_doctests {}
