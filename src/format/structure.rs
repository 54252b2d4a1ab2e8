//! Structured encryption over canonical fields, apart from any DynamoDB rule:
//! the DB-ESDK's StructuredEncryption EncryptStructure / DecryptStructure.
//! Spec: structured-encryption/encrypt-structure.md, decrypt-structure.md
//!
//! This module owns the legend, canonical order, field keys, canonical hash,
//! footer (recipient tags and signature) and key commitment. The caller maps
//! its records onto [`SignedField`]s and runs the keyring between
//! [`encryption_materials`] and [`encrypt_structure`] (or between
//! [`decryption_materials`] and [`decrypt_structure`]).

use futures_util::future::join;

use crate::base::{sorted_by, sorted_order};
use crate::error::{Error, Result};
use crate::format::field::FieldKeys;
use crate::format::footer::{self, CanonicalField, Footer};
use crate::format::header::{self, LegendEntry, PartialHeader, Version, MESSAGE_ID_LEN};
use crate::item::serialize::Terminal;
use crate::materials::{DecryptionMaterials, EncryptionContext, EncryptionMaterials};
use crate::primitives::provider::CryptoProvider;
use crate::primitives::signature::{self, RecordSigner, PUBLIC_KEY_CONTEXT_KEY};
use crate::suite::AlgorithmSuiteId;

/// One signed field of a structure. On encrypt `terminal` is the plaintext;
/// on decrypt it is the stored terminal (for an encrypted field: type id
/// `0xFFFF` and the sealed bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedField {
    /// The field's canonical path. Spec: header.md#canonical-path
    pub path: Vec<u8>,
    pub entry: LegendEntry,
    pub terminal: Terminal,
}

/// A sealed structure: the header and footer values, and per input field (in
/// the caller's order) the stored bytes of an encrypted field, or `None` for
/// a field that stays plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedStructure {
    pub header: Vec<u8>,
    pub footer: Vec<u8>,
    pub sealed: Vec<Option<Vec<u8>>>,
}

/// Version 2 exactly when a field is bound into the encryption context.
/// Spec: header.md#format-version
pub fn header_version(entries: impl IntoIterator<Item = LegendEntry>) -> Version {
    let v2 = entries
        .into_iter()
        .any(|e| e == LegendEntry::SignAndIncludeInEncryptionContext);
    if v2 {
        Version::V2
    } else {
        Version::V1
    }
}

/// Sort `(canonical path, caller data)` pairs into canonical order and pair
/// each with its legend entry. Spec: decrypt-structure.md#calculate-signed-and-encrypted-field-lists
pub fn legend_order<T>(
    fields: Vec<(Vec<u8>, T)>,
    legend: &[LegendEntry],
) -> Result<Vec<(Vec<u8>, LegendEntry, T)>> {
    if fields.len() != legend.len() {
        return Err(Error::integrity(format!(
            "the record has {} signed field(s) but its header lists {}",
            fields.len(),
            legend.len()
        )));
    }
    let fields = sorted_by(fields, |a, b| a.0.cmp(&b.0));
    Ok(fields
        .into_iter()
        .zip(legend)
        .map(|((path, data), &entry)| (path, entry, data))
        .collect())
}

/// The materials to hand to the keyring: the context, its required keys and,
/// for a signing suite, a fresh record signer whose public key joins the
/// context. Spec: encrypt-structure.md#create-new-encryption-context-and-cmm
pub async fn encryption_materials(
    crypto: &CryptoProvider,
    suite: AlgorithmSuiteId,
    mut encryption_context: EncryptionContext,
    required_keys: Vec<String>,
) -> Result<(EncryptionMaterials, Option<RecordSigner>)> {
    let signer = match suite.is_signing() {
        true => Some(RecordSigner::generate(crypto.ecdsa.as_ref(), crypto.random.as_ref()).await?),
        false => None,
    };
    if let Some(s) = &signer {
        encryption_context.insert(PUBLIC_KEY_CONTEXT_KEY.into(), s.public_key_base64());
    }
    let mut materials =
        EncryptionMaterials::new(suite, encryption_context).with_random(crypto.random.clone());
    materials.required_encryption_context_keys = required_keys;
    Ok((materials, signer))
}

/// Seal `fields` (any order) under `materials`, which the keyring completed
/// from [`encryption_materials`] for `suite`.
/// Spec: encrypt-structure.md#behavior
pub async fn encrypt_structure(
    crypto: &CryptoProvider,
    suite: AlgorithmSuiteId,
    materials: &EncryptionMaterials,
    signer: Option<&RecordSigner>,
    message_id: [u8; MESSAGE_ID_LEN],
    fields: &[SignedField],
) -> Result<EncryptedStructure> {
    let data_key = check_encryption_materials(materials, suite)?;
    let order = sorted_order(fields.len(), &|a, b| fields[a].path.cmp(&fields[b].path));
    let canonical: Vec<&SignedField> = order.iter().map(|&i| &fields[i]).collect();
    let partial = PartialHeader {
        version: header_version(canonical.iter().map(|f| f.entry)),
        suite,
        message_id,
        legend: canonical.iter().map(|f| f.entry).collect(),
        encryption_context: stored_context(materials),
        encrypted_data_keys: materials.encrypted_data_keys.clone(),
    };
    let header = partial.seal(data_key)?;
    let canonical_sealed = encrypt_fields(crypto, data_key, &message_id, &canonical).await?;
    let hash = footer::canonical_hash(
        crypto,
        &header,
        &materials.encryption_context,
        canonical
            .iter()
            .zip(&canonical_sealed)
            .map(|(f, sealed)| canonical_field(f, sealed.as_deref())),
    )
    .await?;
    let footer = Footer {
        tags: materials
            .symmetric_signing_keys
            .iter()
            .map(|k| footer::recipient_tag(k.expose(), &hash))
            .collect(),
        signature: match signer {
            Some(s) => Some(s.sign(&hash).await?),
            None => None,
        },
    };
    let mut sealed = vec![None; fields.len()];
    for (i, s) in order.into_iter().zip(canonical_sealed) {
        sealed[i] = s;
    }
    Ok(EncryptedStructure {
        header,
        footer: footer.serialize(),
        sealed,
    })
}

/// Encrypt the ENCRYPT_AND_SIGN fields of `canonical` (in canonical order):
/// the stored bytes of each, `None` for the others.
/// Spec: encrypt-structure.md#terminal-data-encryption — offsets count
/// encrypted fields in canonical order.
async fn encrypt_fields(
    crypto: &CryptoProvider,
    data_key: &[u8],
    message_id: &[u8],
    canonical: &[&SignedField],
) -> Result<Vec<Option<Vec<u8>>>> {
    let field_keys = FieldKeys::derive(
        data_key,
        message_id,
        encrypted_count(canonical.iter().copied()),
    )?;
    let mut sealed = Vec::with_capacity(canonical.len());
    let mut offset = 0;
    for f in canonical {
        if f.entry == LegendEntry::EncryptAndSign {
            sealed.push(Some(
                field_keys
                    .encrypt(crypto, offset, &f.path, &f.terminal)
                    .await?,
            ));
            offset += 1;
        } else {
            sealed.push(None);
        }
    }
    Ok(sealed)
}

/// The materials the keyring sees on decrypt: the header's stored context
/// plus the entries reproduced from the record (`reproduced`, whose keys are
/// the required ones); a reproduced entry must equal a stored one. The
/// context must carry a verification key exactly for a signing suite.
/// Spec: decrypt-structure.md#retrieve-decryption-materials
pub fn decryption_materials(
    header: &PartialHeader,
    reproduced: EncryptionContext,
) -> Result<DecryptionMaterials> {
    let required_keys: Vec<String> = reproduced.keys().cloned().collect();
    let mut ec = header.encryption_context.clone();
    for (k, v) in reproduced {
        match ec.get(&k) {
            Some(stored) if *stored != v => {
                return Err(Error::integrity(format!(
                    "encryption context entry {k:?} stored in the header differs from the item's"
                )))
            }
            _ => {
                ec.insert(k, v);
            }
        }
    }
    match (
        header.suite.is_signing(),
        ec.contains_key(PUBLIC_KEY_CONTEXT_KEY),
    ) {
        (true, false) => Err(Error::malformed(
            "signed suite but no aws-crypto-public-key in the header",
        )),
        (false, true) => Err(Error::malformed(
            "unsigned suite but the header carries aws-crypto-public-key",
        )),
        _ => {
            let mut materials = DecryptionMaterials::new(header.suite, ec);
            materials.required_encryption_context_keys = required_keys;
            Ok(materials)
        }
    }
}

/// Verify a structure and open its encrypted fields: per field of `fields`
/// (in canonical order, as [`legend_order`] gives them), the plaintext
/// terminal of an encrypted field, `None` for the others. Fails, returning
/// nothing, unless the commitment, the footer tags and the signature verify.
/// Spec: decrypt-structure.md#behavior
pub async fn decrypt_structure(
    crypto: &CryptoProvider,
    full_header: &[u8],
    header: &PartialHeader,
    footer_bytes: &[u8],
    materials: &DecryptionMaterials,
    fields: &[SignedField],
) -> Result<Vec<Option<Terminal>>> {
    let suite = header.suite;
    let (data_key, signing_key) = match (
        &materials.plaintext_data_key,
        &materials.symmetric_signing_key,
    ) {
        (Some(k), Some(s)) if materials.suite == suite => (k.expose(), s.expose()),
        _ => {
            return Err(Error::KeyProviderFailure(
                "keyring returned materials without a data key and signing key".into(),
            ))
        }
    };
    header::verify_commitment(full_header, data_key, &header.message_id)?;
    let footer = Footer::parse(
        footer_bytes,
        suite.is_signing(),
        header.encrypted_data_keys.len(),
    )?;
    // The footer check and the field decryption are independent: with
    // platform crypto they run at once (WebCrypto works off the main
    // thread). Nothing decrypted is returned unless the footer verifies.
    let verify = verify_footer(
        crypto,
        full_header,
        header,
        &footer,
        materials,
        signing_key,
        fields,
    );
    let open = decrypt_fields(crypto, data_key, &header.message_id, fields);
    let (verified, opened) = join(verify, open).await;
    verified?;
    opened
}

/// Spec: decrypt-structure.md#verify-signatures (footer.md#recipient-tag-verification
/// and #signature-verification)
async fn verify_footer(
    crypto: &CryptoProvider,
    full_header: &[u8],
    header: &PartialHeader,
    footer: &Footer,
    materials: &DecryptionMaterials,
    signing_key: &[u8],
    fields: &[SignedField],
) -> Result<()> {
    let hash = footer::canonical_hash(
        crypto,
        full_header,
        &materials.encryption_context,
        fields.iter().map(|f| match f.entry {
            LegendEntry::EncryptAndSign => canonical_field(f, Some(&f.terminal.value)),
            _ => canonical_field(f, None),
        }),
    )
    .await?;
    footer.verify_recipient_tag(signing_key, &hash)?;
    let public_key = header.encryption_context.get(PUBLIC_KEY_CONTEXT_KEY);
    if let (Some(sig), Some(pk)) = (&footer.signature, public_key) {
        signature::verify(crypto.ecdsa.as_ref(), pk, &hash, sig).await?;
    }
    Ok(())
}

/// Spec: decrypt-structure.md#terminal-data-decryption
async fn decrypt_fields(
    crypto: &CryptoProvider,
    data_key: &[u8],
    message_id: &[u8],
    fields: &[SignedField],
) -> Result<Vec<Option<Terminal>>> {
    let field_keys = FieldKeys::derive(data_key, message_id, encrypted_count(fields))?;
    let mut opened = Vec::with_capacity(fields.len());
    let mut offset = 0;
    for f in fields {
        if f.entry == LegendEntry::EncryptAndSign {
            let plain = field_keys
                .decrypt(crypto, offset, &f.path, &f.terminal.value)
                .await?;
            opened.push(Some(plain));
            offset += 1;
        } else {
            opened.push(None);
        }
    }
    Ok(opened)
}

/// A field as it enters the canonical hash: `sealed` for an encrypted one.
fn canonical_field<'a>(f: &'a SignedField, sealed: Option<&'a [u8]>) -> CanonicalField<'a> {
    match sealed {
        Some(sealed) => CanonicalField::Encrypted {
            path: &f.path,
            sealed,
        },
        None => CanonicalField::Plaintext {
            path: &f.path,
            type_id: f.terminal.type_id,
            value: &f.terminal.value,
        },
    }
}

/// The keyring's answer must fit the record: same suite, a data key, and one
/// signing key per encrypted data key. Returns the data key.
/// [`encrypt_structure`] checks this itself; callers may check it sooner.
pub fn check_encryption_materials(
    materials: &EncryptionMaterials,
    suite: AlgorithmSuiteId,
) -> Result<&[u8]> {
    let fail = |m: &str| Err(Error::KeyProviderFailure(m.into()));
    if materials.suite != suite {
        return fail("keyring changed the algorithm suite");
    }
    let Some(key) = &materials.plaintext_data_key else {
        return fail("keyring produced no data key");
    };
    if materials.encrypted_data_keys.is_empty() {
        return fail("keyring produced no encrypted data key");
    }
    if materials.encrypted_data_keys.len() != materials.symmetric_signing_keys.len() {
        return fail("keyring produced a different number of encrypted data keys and signing keys");
    }
    Ok(key.expose())
}

/// The part of the context the header stores: all but the required keys,
/// which the reader reproduces. Spec: header.md#encryption-context
fn stored_context(materials: &EncryptionMaterials) -> EncryptionContext {
    let mut stored = materials.encryption_context.clone();
    stored.retain(|k, _| !materials.required_encryption_context_keys.contains(k));
    stored
}

/// How many fields the record encrypts: each gets its own key and nonce.
fn encrypted_count<'a>(fields: impl IntoIterator<Item = &'a SignedField>) -> usize {
    fields
        .into_iter()
        .filter(|f| f.entry == LegendEntry::EncryptAndSign)
        .count()
}

#[cfg(test)]
mod tests {
    //! Structures built from canonical paths and terminals only: no item,
    //! no attribute value, no keyring.
    use super::*;
    use crate::base::SecretBytes;
    use crate::format::path::canonical_path;
    use crate::format::test_vector as tv;
    use crate::materials::EncryptedDataKey;
    use pollster::block_on;

    const BYTES: [u8; 2] = [0xFF, 0xFF];

    fn terminal(type_id: [u8; 2], value: &[u8]) -> Terminal {
        Terminal {
            type_id,
            value: value.to_vec(),
        }
    }

    fn field(name: &str, entry: LegendEntry, t: Terminal) -> SignedField {
        SignedField {
            path: canonical_path("T", name),
            entry,
            terminal: t,
        }
    }

    /// Stored terminals by path, in legend order, as a reader builds them.
    fn stored_fields(
        stored: Vec<(Vec<u8>, Terminal)>,
        legend: &[LegendEntry],
    ) -> Result<Vec<SignedField>> {
        Ok(legend_order(stored, legend)?
            .into_iter()
            .map(|(path, entry, terminal)| SignedField {
                path,
                entry,
                terminal,
            })
            .collect())
    }

    fn with_keys(
        mut m: DecryptionMaterials,
        data_key: &[u8],
        signing_key: &[u8],
    ) -> DecryptionMaterials {
        m.set_keys(
            SecretBytes::from_slice(data_key),
            SecretBytes::from_slice(signing_key),
        )
        .unwrap();
        m
    }

    /// Known answer: the official record opens as a structure: its fields in
    /// legend (canonical) order, the reproduced context entries, its keys.
    #[test]
    fn official_record_decrypts_as_a_structure() {
        let full_header = tv::bytes(tv::HEADER);
        let header = PartialHeader::parse(&full_header).unwrap();
        let stored = |name: &str, hex: &str| {
            (
                canonical_path(tv::TABLE, name),
                terminal(BYTES, &tv::bytes(hex)),
            )
        };
        let unordered = vec![
            (canonical_path(tv::TABLE, "RecNum"), terminal([0, 2], b"1")),
            stored("Stuff", tv::STUFF),
            stored("Junk", tv::JUNK),
        ];
        let fields = stored_fields(unordered, &header.legend).unwrap();
        let mut reproduced = tv::encryption_context();
        reproduced.remove(PUBLIC_KEY_CONTEXT_KEY);
        let materials = decryption_materials(&header, reproduced).unwrap();
        assert_eq!(materials.encryption_context, tv::encryption_context());
        let materials = with_keys(
            materials,
            &tv::bytes(tv::DATA_KEY),
            &tv::bytes(tv::SIGNING_KEY),
        );
        let crypto = CryptoProvider::default();
        let footer = tv::bytes(tv::FOOTER);
        let opened = block_on(decrypt_structure(
            &crypto,
            &full_header,
            &header,
            &footer,
            &materials,
            &fields,
        ))
        .unwrap();
        assert_eq!(
            opened,
            [
                Some(terminal([0, 1], b"JunkData")),
                Some(terminal([0, 1], b"StuffData")),
                None
            ]
        );
    }

    struct Sealed {
        fields: Vec<SignedField>,
        out: EncryptedStructure,
        reproduced: EncryptionContext,
    }

    const DATA_KEY: [u8; 32] = [7; 32];
    const SIGNING_KEY: [u8; 32] = [8; 32];

    /// Seal three fields, given out of canonical order, under a fixed data key.
    fn seal(suite: AlgorithmSuiteId) -> Sealed {
        use LegendEntry::*;
        let fields = vec![
            field("zz", SignOnly, terminal([0, 1], b"signed")),
            field("a", EncryptAndSign, terminal([0, 1], b"secret a")),
            field("bbb", EncryptAndSign, terminal([0, 2], b"42")),
            field(
                "cc",
                SignAndIncludeInEncryptionContext,
                terminal([0, 1], b"ctx"),
            ),
        ];
        let reproduced: EncryptionContext = [("required".to_string(), "r".to_string())].into();
        let stored = [("stored".to_string(), "s".to_string())];
        let mut ec = reproduced.clone();
        ec.extend(stored);
        let crypto = CryptoProvider::default();
        let required = reproduced.keys().cloned().collect();
        let (mut materials, signer) =
            block_on(encryption_materials(&crypto, suite, ec, required)).unwrap();
        materials
            .set_plaintext_data_key(SecretBytes::from_slice(&DATA_KEY))
            .unwrap();
        let edk = EncryptedDataKey {
            key_provider_id: "p".into(),
            key_provider_info: b"i".to_vec(),
            ciphertext: b"c".to_vec(),
        };
        materials.add_recipient(edk, SecretBytes::from_slice(&SIGNING_KEY));
        let out = block_on(encrypt_structure(
            &crypto,
            suite,
            &materials,
            signer.as_ref(),
            [9; MESSAGE_ID_LEN],
            &fields,
        ))
        .unwrap();
        Sealed {
            fields,
            out,
            reproduced,
        }
    }

    /// Open what `seal` produced, with the stored values given.
    fn open(
        s: &Sealed,
        header_bytes: &[u8],
        footer: &[u8],
        sealed: &[Option<Vec<u8>>],
    ) -> Result<Vec<(Vec<u8>, Option<Terminal>)>> {
        let header = PartialHeader::parse(header_bytes)?;
        let stored: Vec<(Vec<u8>, Terminal)> = s
            .fields
            .iter()
            .zip(sealed)
            .map(|(f, sealed)| match sealed {
                Some(bytes) => (f.path.clone(), terminal(BYTES, bytes)),
                None => (f.path.clone(), f.terminal.clone()),
            })
            .collect();
        let fields = stored_fields(stored, &header.legend)?;
        let materials = decryption_materials(&header, s.reproduced.clone())?;
        let materials = with_keys(materials, &DATA_KEY, &SIGNING_KEY);
        let crypto = CryptoProvider::default();
        let opened = block_on(decrypt_structure(
            &crypto,
            header_bytes,
            &header,
            footer,
            &materials,
            &fields,
        ))?;
        Ok(fields.into_iter().map(|f| f.path).zip(opened).collect())
    }

    #[test]
    fn structures_round_trip_in_both_suites() {
        for suite in [
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
        ] {
            let s = seal(suite);
            let header = PartialHeader::parse(&s.out.header).unwrap();
            assert_eq!(header.version, Version::V2);
            assert_eq!(header.suite, suite);
            // Canonical order: a, zz, cc... is length then bytes: a, cc, zz, bbb.
            use LegendEntry::*;
            assert_eq!(
                header.legend,
                [
                    EncryptAndSign,
                    SignAndIncludeInEncryptionContext,
                    SignOnly,
                    EncryptAndSign
                ]
            );
            // Only the non-required entries are stored (and the public key when signing).
            assert_eq!(
                header.encryption_context.get("stored").map(String::as_str),
                Some("s")
            );
            assert!(!header.encryption_context.contains_key("required"));
            assert_eq!(
                header
                    .encryption_context
                    .contains_key(PUBLIC_KEY_CONTEXT_KEY),
                suite.is_signing()
            );
            // Sealed values follow the caller's order; only encrypted fields have one.
            let encrypted: Vec<bool> = s.out.sealed.iter().map(Option::is_some).collect();
            assert_eq!(encrypted, [false, true, true, false]);
            let opened = open(&s, &s.out.header, &s.out.footer, &s.out.sealed).unwrap();
            let by_path = |p: &[u8]| opened.iter().find(|o| o.0 == p).unwrap().1.clone();
            assert_eq!(
                by_path(&s.fields[1].path),
                Some(s.fields[1].terminal.clone())
            );
            assert_eq!(
                by_path(&s.fields[2].path),
                Some(s.fields[2].terminal.clone())
            );
            assert_eq!(by_path(&s.fields[0].path), None);
        }
    }

    /// A changed byte anywhere (header, footer, a sealed field) or a changed
    /// signed plaintext fails the whole structure, with a typed error.
    #[test]
    fn any_tampering_fails_the_structure() {
        let check = |r: Result<_>, what: String| {
            let err = r.err().unwrap_or_else(|| panic!("{what} opened"));
            assert!(
                ["INTEGRITY_FAILURE", "MALFORMED_CIPHERTEXT"].contains(&err.code()),
                "{what}: {err}"
            );
        };
        // The signing suite for the footer (tags and signature); the header
        // and fields with the faster one: the same checks but the signature.
        let signed = seal(AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384);
        let (h, f, sealed) = (&signed.out.header, &signed.out.footer, &signed.out.sealed);
        for i in 0..f.len() {
            let mut t = f.clone();
            t[i] ^= 0x01;
            check(open(&signed, h, &t, sealed), format!("footer byte {i}"));
        }
        let s = seal(AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384);
        let (h, f, sealed) = (&s.out.header, &s.out.footer, &s.out.sealed);
        for i in 0..h.len() {
            let mut t = h.clone();
            t[i] ^= 0x01;
            check(open(&s, &t, f, sealed), format!("header byte {i}"));
        }
        for field in [1, 2] {
            let stored = sealed[field].as_ref().unwrap();
            for i in 0..stored.len() {
                let mut t = sealed.to_vec();
                t[field].as_mut().unwrap()[i] ^= 0x01;
                check(open(&s, h, f, &t), format!("field {field} byte {i}"));
            }
        }
        let mut changed = seal(AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384);
        let (h, f, sealed) = (
            changed.out.header.clone(),
            changed.out.footer.clone(),
            changed.out.sealed.clone(),
        );
        changed.fields[0].terminal.value = b"signeD".to_vec();
        check(open(&changed, &h, &f, &sealed), "signed plaintext".into());
    }

    #[test]
    fn context_and_field_count_mismatches_are_refused() {
        let s = seal(AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384);
        let header = PartialHeader::parse(&s.out.header).unwrap();
        let mut reproduced = s.reproduced.clone();
        reproduced.insert("stored".into(), "other".into());
        let err = decryption_materials(&header, reproduced).unwrap_err();
        assert_eq!(err.code(), "INTEGRITY_FAILURE");
        let mut unsigned_with_key = header.clone();
        unsigned_with_key
            .encryption_context
            .insert(PUBLIC_KEY_CONTEXT_KEY.into(), "k".into());
        let err = decryption_materials(&unsigned_with_key, s.reproduced.clone()).unwrap_err();
        assert_eq!(err.code(), "MALFORMED_CIPHERTEXT");
        let mut signed_without_key = header.clone();
        signed_without_key.suite =
            AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384;
        let err = decryption_materials(&signed_without_key, s.reproduced.clone()).unwrap_err();
        assert_eq!(err.code(), "MALFORMED_CIPHERTEXT");
        let err = legend_order(vec![(b"p".to_vec(), ())], &header.legend).unwrap_err();
        assert_eq!(err.code(), "INTEGRITY_FAILURE");
    }
}
