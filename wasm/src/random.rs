//! The wasm build's randomness, plugged into the core's `CryptoProvider`.
//!
//! Each draw from the platform (`crypto.getRandomValues`) is a call into JS
//! that costs more than the bytes (5% of a 0x6700 round trip for three
//! draws), so draws are served from a pool refilled 1 KiB at a time. Served
//! bytes are wiped from the pool and the pool is zeroized on drop. (Native
//! builds draw directly: a pool would survive `fork` and repeat itself.)

use std::cell::RefCell;
use std::sync::Arc;

use fieldseal::primitives::provider::{SecureRandom, SystemRandom};
use fieldseal::Result;
use zeroize::{Zeroize, Zeroizing};

const POOL_LEN: usize = 1024;

struct Pool {
    bytes: Zeroizing<[u8; POOL_LEN]>,
    next: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool {
        bytes: Zeroizing::new([0; POOL_LEN]),
        next: POOL_LEN,
    });
    static POOLED: Arc<dyn SecureRandom> = Arc::new(PooledRandom);
}

/// The platform CSPRNG through one per-thread pool.
#[derive(Debug, Clone, Copy)]
pub struct PooledRandom;

impl SecureRandom for PooledRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<()> {
        if buf.len() > POOL_LEN / 4 {
            return SystemRandom.fill(buf);
        }
        POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            if POOL_LEN - pool.next < buf.len() {
                SystemRandom.fill(&mut pool.bytes[..])?;
                pool.next = 0;
            }
            let start = pool.next;
            let served = &mut pool.bytes[start..start + buf.len()];
            buf.copy_from_slice(served);
            served.zeroize();
            pool.next += buf.len();
            Ok(())
        })
    }
}

/// The shared handle every encryptor's `CryptoProvider` draws from.
pub fn pooled() -> Arc<dyn SecureRandom> {
    POOLED.with(Arc::clone)
}
