//! Canonical paths of top-level attributes.
//! Spec: structured-encryption/header.md#canonical-path
//!
//! `table name || depth (u64 BE = 1) || '$' || key length (u64 BE) || key (UTF-8)`.
//! The reference implementation measures the key length in UTF-16 code units
//! (its strings are UTF-16), so that is what we write. Because the length comes
//! before the name, paths sort by name length first.

/// The canonical path of the top-level attribute `name` in table `table`.
pub fn canonical_path(table: &str, name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(table.len() + 17 + name.len());
    out.extend_from_slice(table.as_bytes());
    out.extend_from_slice(&1u64.to_be_bytes());
    out.push(b'$');
    out.extend_from_slice(&(name.encode_utf16().count() as u64).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out
}

/// Sort attribute names in canonical-path order (the legend and footer order).
pub fn sort_canonical<S: AsRef<str>>(names: &mut [S]) {
    names.sort_by(|a, b| {
        let (a, b) = (a.as_ref(), b.as_ref());
        a.encode_utf16()
            .count()
            .cmp(&b.encode_utf16().count())
            .then_with(|| a.as_bytes().cmp(b.as_bytes()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_spec() {
        let p = canonical_path("T", "ab");
        let mut expected = b"T".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, b'$', 0, 0, 0, 0, 0, 0, 0, 2]);
        expected.extend_from_slice(b"ab");
        assert_eq!(p, expected);
    }

    #[test]
    fn length_is_utf16_units() {
        // U+1F600 is 4 UTF-8 bytes and 2 UTF-16 units.
        let p = canonical_path("", "\u{1F600}");
        assert_eq!(&p[9..17], &2u64.to_be_bytes());
    }

    #[test]
    fn order_is_length_then_bytes_and_agrees_with_paths() {
        let mut names = vec!["Stuff", "RecNum", "Junk", "\u{1F600}", "\u{FF61}", "a"];
        sort_canonical(&mut names);
        assert_eq!(
            names,
            vec!["a", "\u{FF61}", "\u{1F600}", "Junk", "Stuff", "RecNum"]
        );
        let paths: Vec<_> = names.iter().map(|n| canonical_path("t", n)).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
    }
}
