//! Multi-keyring. Spec: framework/multi-keyring.md
use std::sync::Arc;

use crate::error::Result;
use crate::keyring::Keyring;

pub struct MultiKeyring {}

impl MultiKeyring {
    pub fn new(generator: Option<Arc<dyn Keyring>>, children: Vec<Arc<dyn Keyring>>) -> Result<Self> {
        let _ = (generator, children);
        todo!()
    }
}
