//! Searchable encryption: beacons, the DB-ESDK's truncated HMACs of
//! plaintext values that a DynamoDB index can match.
//! Spec: searchable-encryption/{beacons,search-config,virtual}.md,
//! changes/2025-08-25-beacon-partitions; reference code: the Dafny of
//! DynamoDbEncryption/src/{ConfigToInfo,SearchInfo,Beacon,CompoundBeacon,
//! Virtual,TermLoc,FilterExpr}.dfy.
//!
//! - [`config`]: the search configuration as given (official names);
//! - [`info`]: the validated form, one [`info::BeaconVersion`] per version,
//!   and the beacon computations; [`convert`] builds it (every initialization check);
//! - [`virtual_field`]: terminal locations and virtual fields;
//! - [`keys`]: beacon keys from the key store, per-beacon HMAC keys, their cache;
//! - [`filter`]: condition expressions: rewriting a query to beacons, and
//!   applying the original expression to the opened items.

pub mod config;
pub mod convert;
pub mod eval;
pub mod filter;
pub mod info;
pub mod keys;
pub mod virtual_field;

pub use config::{
    BeaconKeySourceConfig, BeaconStyle, BeaconVersionConfig, CompoundBeaconConfig,
    ConstructorConfig, ConstructorPartConfig, EncryptedPartConfig, PartitionSelector, SearchConfig,
    SignedPartConfig, StandardBeaconConfig, VirtualFieldConfig, VirtualPartConfig,
    VirtualTransform,
};
pub use info::{
    basic_hash, standard_beacon_value, Beacon, BeaconVersion, CompoundBeacon, SearchInfo,
    StandardBeacon,
};
pub use keys::{BeaconKeyCache, BeaconKeys, MaybeKeyId, MaybeKeyMap};
