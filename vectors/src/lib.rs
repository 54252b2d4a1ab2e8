//! The DB-ESDK test-manifest format, read once: the manifests
//! ([`manifest::Manifest`]), their `config` objects ([`manifest::TableConfig`])
//! and key descriptions resolved against `keys.json`
//! ([`keys::KeyDescription`]). The `fieldseal-vectors` binary runs them against
//! fieldseal; the interop oracle (tests/interop) reads them through this
//! library to run them against the official SDK.

pub mod keys;
pub mod manifest;
