//! The DynamoDB item model and its canonical byte form.

mod number;
pub mod path;
pub mod serialize;
mod value;

#[cfg(feature = "json")]
pub mod json;

pub use number::normalize_number;
pub use value::{AttributeValue, Item};
