//! ECDSA P-384 signing for the footer (suite 0x6701).
