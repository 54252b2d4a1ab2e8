//! The base layer: types every other module may use, importing nothing of
//! the crate, so that primitives, materials and keyrings depend on it and
//! never on each other for these.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// `Send + Sync` everywhere but wasm32, where JS handles are neither.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}
/// `Send + Sync` everywhere but wasm32, where JS handles are neither.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSendSync for T {}

/// Secret key bytes that are wiped on drop and never printed. Fresh ones
/// come from a [`crate::primitives::provider::SecureRandom`].
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }
    pub fn from_slice(bytes: &[u8]) -> Self {
        SecretBytes(bytes.to_vec())
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::SecretBytes;

    #[test]
    fn debug_redacts_the_bytes() {
        let secret = SecretBytes::from_slice(&[0x41; 5]);
        assert_eq!(format!("{secret:?}"), "SecretBytes(<5 bytes redacted>)");
    }
}
