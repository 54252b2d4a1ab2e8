//! The base layer: types every other module may use, importing nothing of
//! the crate, so that primitives, materials and keyrings depend on it and
//! never on each other for these.

use std::cmp::Ordering;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// The positions `0..len` in the order `cmp` gives them, stably.
///
/// Every sort of the core goes through here, so the standard library's sort
/// is compiled once, over indices. Each `sort_by` on another element type or
/// closure is a separate copy of it: ten of them were 75 KB of wasm.
pub fn sorted_order(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

/// `items` sorted stably by `cmp`, through [`sorted_order`].
pub fn sorted_by<T>(items: Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    let order = sorted_order(items.len(), &|a, b| cmp(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    // `order` is a permutation: each slot is taken exactly once.
    order.iter().filter_map(|&i| slots[i].take()).collect()
}

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
    use super::{sorted_by, sorted_order, SecretBytes};

    #[test]
    fn sorted_order_is_stable() {
        let keys = [3, 1, 3, 0, 1];
        assert_eq!(
            sorted_order(5, &|a, b| keys[a].cmp(&keys[b])),
            [3, 1, 4, 0, 2]
        );
        assert_eq!(sorted_order(0, &|_, _| unreachable!()), Vec::<usize>::new());
    }

    #[test]
    fn sorted_by_moves_every_element_once() {
        let words = vec![
            "pear".to_string(),
            "fig".into(),
            "apple".into(),
            "fig".into(),
        ];
        let sorted = sorted_by(words, |a, b| a.len().cmp(&b.len()));
        assert_eq!(sorted, ["fig", "fig", "pear", "apple"]);
    }

    #[test]
    fn debug_redacts_the_bytes() {
        let secret = SecretBytes::from_slice(&[0x41; 5]);
        assert_eq!(format!("{secret:?}"), "SecretBytes(<5 bytes redacted>)");
    }
}
