//! Where a value sits in an item, for error messages only.
//!
//! Parsers (DynamoDB JSON here, JS objects in the wasm layer) recurse with a
//! borrowed chain of segments and render it only when they raise an error:
//! building `"{path}.{key}"` strings eagerly at every level costs memory
//! quadratic in the depth, which a hostile item (1 MiB keys nested 31 deep)
//! turns into gigabytes of wasm memory that is never given back.

use std::fmt;

use crate::error::Error;
use crate::item::serialize::{key_len_too_long, MAX_KEY_UTF16_LEN};

/// Longest name, in chars, quoted in full in a rendered path; longer names are
/// cut and their length given, so a message stays small whatever the input.
pub const MAX_SHOWN_NAME: usize = 64;

/// A path from a root (an attribute name or a label such as `item #3`) down
/// through map keys and list indexes. Borrowed: recursing costs nothing.
#[derive(Clone, Copy, Debug)]
pub enum Path<'a> {
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    pub fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }

    /// An `InvalidItem` error naming this path.
    pub fn invalid(&self, why: impl fmt::Display) -> Error {
        Error::InvalidItem(format!("{self}: {why}"))
    }

    /// Refuses a map key or attribute name of `utf16_units` code units that
    /// DynamoDB cannot store, before the caller copies or recurses into it.
    pub fn check_key_len(&self, utf16_units: usize) -> Result<(), Error> {
        if key_len_too_long(utf16_units) {
            return Err(self.invalid(format_args!(
                "an attribute name is longer than {MAX_KEY_UTF16_LEN} UTF-16 code units"
            )));
        }
        Ok(())
    }
}

fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    match name.char_indices().nth(MAX_SHOWN_NAME) {
        None => f.write_str(name),
        Some((cut, _)) => write!(f, "{}…({} chars)", &name[..cut], name.chars().count()),
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(name) => write_name(f, name),
            Path::Key(parent, key) => {
                write!(f, "{parent}.")?;
                write_name(f, key)
            }
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_keys_and_indexes() {
        let root = Path::Root("meta");
        let tags = root.key("tags");
        let first = tags.index(0);
        assert_eq!(first.to_string(), "meta.tags[0]");
    }

    #[test]
    fn long_names_are_cut() {
        let long = "k".repeat(1 << 20);
        let root = Path::Root("a");
        let mut paths = vec![root];
        for _ in 0..31 {
            let parent: &Path<'_> = Box::leak(Box::new(*paths.last().unwrap()));
            paths.push(parent.key(&long));
        }
        let shown = paths.last().unwrap().to_string();
        assert!(
            shown.len() < 31 * (MAX_SHOWN_NAME + 20) + 1,
            "{}",
            shown.len()
        );
        assert!(shown.contains("…(1048576 chars)"));
    }

    #[test]
    fn key_length_limit() {
        let root = Path::Root("a");
        assert!(root.check_key_len(MAX_KEY_UTF16_LEN).is_ok());
        let err = root.check_key_len(MAX_KEY_UTF16_LEN + 1).unwrap_err();
        assert_eq!(err.code(), "INVALID_ITEM");
    }
}
