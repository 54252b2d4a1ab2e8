//! Audit events: which key each operation used, reported to the caller as
//! it happens. The client-side half of what CloudTrail records on the KMS
//! side, and the only record at all for cached keys, which KMS never sees.

use crate::base::MaybeSendSync;
use crate::item::Item;
use crate::materials::KeyUse;

/// Which way an item went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Encrypt,
    Decrypt,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Encrypt => "encrypt",
            Operation::Decrypt => "decrypt",
        }
    }
}

/// One operation's use of keys: never key bytes, never plaintext (the item
/// key holds the key attributes, which are signed, never encrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUseEvent {
    pub operation: Operation,
    /// The logical table name.
    pub table: String,
    /// The item's partition and sort key attributes.
    pub item_key: Item,
    /// On encrypt, one entry per wrapped copy of the data key; on decrypt,
    /// the key that opened it.
    pub key_uses: Vec<KeyUse>,
}

/// Receives a [`KeyUseEvent`] once the keyring has answered, whether or not
/// the rest of the operation succeeds (the key was used either way).
pub trait KeyUseObserver: MaybeSendSync {
    fn key_used(&self, event: &KeyUseEvent);
}

/// Any `Fn(&KeyUseEvent)` is an observer.
impl<F: Fn(&KeyUseEvent) + MaybeSendSync> KeyUseObserver for F {
    fn key_used(&self, event: &KeyUseEvent) {
        self(event)
    }
}
