//! One official record, for the known-answer tests next to the header, footer,
//! field-key and structure code: test "1" ("Basic encrypt") of
//! `decrypt_java_33.json` (written by aws-dbesdk-java 3.2) in the DB-ESDK's
//! test vectors (`../shared/vectors/dbesdk`). Table `GazelleVectorTable`,
//! suite 0x6701, `RecNum` (N "1") SIGN_ONLY, `Stuff` ("StuffData") and
//! `Junk` ("JunkData") ENCRYPT_AND_SIGN, keyring `static-branch-key-1`.
//!
//! The header, footer and field bytes are the vector's. `DATA_KEY` and
//! `SIGNING_KEY` are what fieldseal's static branch key keyring unwrapped from
//! its EDK; the official commitment, recipient tag, signature and AES-GCM tags
//! checking out with them (the tests below) is the cross-check.

pub(crate) const TABLE: &str = "GazelleVectorTable";

pub(crate) const HEADER: &str = "010140815abc8337d7e6c0bff8f30a0b7977d22dace0380ab99908b3ec29f97469de0003656573000100156177732d63727970746f2d7075626c69632d6b65790044416c4652704b66725663523169646a5a2f786b4d6a2b524257474f497263694b2f615a576e646c58374f326a2f374c6a2f6874475135704d76616d665773673549413d3d0100116177732d6b6d732d686965726172636879002462643338343266662d333037362d343039322d393931382d343339353733303035306238008cd632e5e98b82ae301cb00008ee93ee55b78ec93e4fcdd0723cfe8126060c686bebd665da810ced28c483003b19d0582f566becafebf928b7ea1d1537e428204962ec4cf9502cf70c528837a9e9ce18a3edb542729f861cacb7997ff6694ef0a8158a38a15e0309ac32bc186090ea779e7b3cf597bf6e0a6fca2cffaddcd5bb0021fb1c96864e72cba138b6aff2206d2f3d3d2ca3407e1518ddc3487b18804304fcca42e523e61ce727d5e8d5";

pub(crate) const FOOTER: &str = "03f38190367c871c9a4666fae1b460ff70df33f077dde56791df1ec091df395fc0792f495131bee2419cf3024cbed86a3065023100f84d42784517e176c46fd8ce21094a547bb25e54df42ce1c4df28ee7fb3cc247fb24b9f2fce169b7ec0a77d80074f05502307f00c66daa9496a8f3a43e478a0e7a0c8b813274e123affadf4bec4300a3a4816428587d32d63948a076a1b31385fce3";

/// The stored `Junk` and `Stuff` values: type id || ciphertext || tag.
pub(crate) const JUNK: &str = "00010e335c413941dd6fad85386c5e7d7e99ae97bae55ed0ecc3";
pub(crate) const STUFF: &str = "00010b00ee8e8f5dc53878ce24980062d5f290cd500a90a695592d";

pub(crate) const DATA_KEY: &str =
    "dafb7a8ec15b5e71e42f21a386ee34a5a0c837c8532d877d3fb5b4cc3d588f66";
pub(crate) const SIGNING_KEY: &str =
    "5f6e51c1c4617d658520c21914f7b99f6116f019f33b22b2d5156496b2a8df31";

/// The header's stored verification key (`aws-crypto-public-key`).
pub(crate) const PUBLIC_KEY: &str =
    "AlFRpKfrVcR1idjZ/xkMj+RBWGOIrciK/aZWndlX7O2j/7Lj/htGQ5pMvamfWsg5IA==";

pub(crate) fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The message id: header bytes 2 to 34. Spec: header.md#message-id
pub(crate) fn message_id() -> Vec<u8> {
    bytes(HEADER)[2..34].to_vec()
}

/// The record's full encryption context: the stored entry plus the ones the
/// item encryptor reproduces (v1: table, partition key name, and the
/// partition key's base64 type id || value, here N "1").
pub(crate) fn encryption_context() -> crate::materials::EncryptionContext {
    [
        ("aws-crypto-public-key", PUBLIC_KEY),
        ("aws-crypto-table-name", TABLE),
        ("aws-crypto-partition-name", "RecNum"),
        ("aws-crypto-attr.RecNum", "AAIx"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
