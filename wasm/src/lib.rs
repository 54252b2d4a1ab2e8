//! The wasm-bindgen layer of fieldseal. It converts JavaScript values to core
//! types and back, core errors to JS errors with a stable `code`, and Rust
//! futures to promises. Crypto and format logic live in the core crate only.
//!
//! The JS surface is the generated `fieldseal_wasm.d.ts` (option objects
//! typed by `typescript_custom_section`s next to the code that reads them);
//! `wasm/README.md` explains the design. The npm package in `pkg/` wraps it. On targets other than wasm32 this crate is empty.
#![cfg(target_arch = "wasm32")]
// Keyrings are shared through `Arc` so native builds can use them from many
// threads; on wasm32 (single-threaded) they may hold JS handles, which are
// neither Send nor Sync, and that is fine there.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

mod args;
mod clock;
mod convert;
mod custom;
mod ddb;
mod encryptor;
mod error;
mod keyring;
mod keystore;
mod kms;
mod random;
mod search;
pub mod webcrypto;

/// Every async binding's promise, through one instantiation of
/// `future_to_promise`: each future type would otherwise get its own copy of
/// wasm-bindgen-futures' task glue (~3 KB of wasm each, 8 call sites). The
/// cost is one boxed future per call.
pub(crate) fn promise(
    future: impl std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
) -> js_sys::Promise {
    let future: std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, JsValue>>>> =
        Box::pin(future);
    wasm_bindgen_futures::future_to_promise(future)
}

use wasm_bindgen::JsValue;

pub use ddb::WasmEncryptedTables;
pub use encryptor::{ItemEncryptorOptions, WasmItemEncryptor};
pub use keyring::{
    AwsKmsMrkDiscoveryOptions, AwsKmsMrkMultiOptions, AwsKmsOptions, CustomKeyringOptions,
    RawAesOptions, RawRsaOptions, StaticBranchKeyOptions, WasmKeyring,
};
pub use keystore::{
    AwsKmsHierarchicalOptions, BranchKeyCacheOptions, KeyStoreOptions, WasmBranchKeyCache,
    WasmKeyStore,
};
