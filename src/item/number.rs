//! DynamoDB number validation and normalization.
use crate::error::Result;

/// Validate a DynamoDB number and return its canonical form (`1.50` -> `1.5`).
pub fn normalize_number(n: &str) -> Result<String> {
    let _ = n;
    todo!()
}
