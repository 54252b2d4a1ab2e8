//! Arbitrary bytes as a header (`aws_dbe_head`) and as a footer
//! (`aws_dbe_foot`): never a panic; a parsed value serializes back to the
//! exact input bytes (the format has one encoding per value).
//! Input: a selector byte, then the bytes to parse.
#![no_main]

use fieldseal::format::footer::Footer;
use fieldseal::format::header::{PartialHeader, COMMITMENT_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    if selector & 1 == 0 {
        match PartialHeader::parse(bytes) {
            Ok(header) => {
                // Spec: header.md — partial header, then the 32-byte commitment.
                let mut again = header.serialize().expect("a parsed header serializes");
                again.extend_from_slice(&bytes[bytes.len() - COMMITMENT_LEN..]);
                assert_eq!(again, bytes, "header does not round-trip");
                assert_eq!(PartialHeader::parse(&again).as_ref(), Ok(&header));
            }
            Err(e) => {
                fieldseal_fuzz::check_error(&e);
                assert_eq!(e.code(), "MALFORMED_CIPHERTEXT");
            }
        }
    } else {
        // Selector bit 1: signed suite; the next byte: the EDK count.
        let signed = selector & 2 != 0;
        let Some((&edk_count, bytes)) = bytes.split_first() else {
            return;
        };
        match Footer::parse(bytes, signed, edk_count as usize) {
            Ok(footer) => {
                assert_eq!(footer.tags.len(), edk_count as usize);
                assert_eq!(footer.signature.is_some(), signed);
                assert_eq!(footer.serialize(), bytes, "footer does not round-trip");
            }
            Err(e) => {
                // The header fixes the footer's length: another length is an
                // altered footer (format/footer.rs).
                fieldseal_fuzz::check_error(&e);
                assert_eq!(e.code(), "INTEGRITY_FAILURE");
            }
        }
    }
});
