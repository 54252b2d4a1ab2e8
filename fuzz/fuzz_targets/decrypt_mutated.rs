//! Open mutated sealed items (both suites; one raw AES keyring, a multi-keyring,
//! and a multi-keyring item opened by its child). Whatever the mutation, the
//! result is a documented error, or an item whose header, footer and signed
//! values are the baseline's (only unsigned attributes may differ).
//! Input: scenario byte, mode byte, then raw bytes or mutation ops (src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fieldseal_fuzz::run_decrypt_mutated(data));
