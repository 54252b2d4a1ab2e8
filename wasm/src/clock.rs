//! The wasm build's clock for the core's caches and key store: `Date.now()`.
//! std's `SystemTime::now` panics on wasm32, so the core takes a
//! [`Clock`] from the platform instead.

use fieldseal::cache::Clock;

/// Milliseconds since the Unix epoch from the JS host's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsClock;

impl Clock for JsClock {
    fn now_millis(&self) -> u64 {
        // `Date.now()` is a non-negative integer in practice; a host clock
        // set before 1970 saturates to 0 rather than wrapping.
        js_sys::Date::now().max(0.0) as u64
    }
}
