//! Elliptic-curve keys for ECDH on the NIST curves P-256, P-384 and P-521,
//! as the MPL's raw ECDH keyring takes them, and the RustCrypto key
//! agreement ([`RustCryptoEcdh`], the default [`EcdhProvider`]).
//!
//! Every public key the core accepts, from a caller or from an EDK, becomes
//! an [`EcPublicKey`] first, and that checks it is a point of the named
//! curve other than the identity. So an invalid-curve point never reaches
//! an agreement, whoever computes it.
//!
//! Formats (MPL `ECDH.rs` over aws-lc): public keys are DER
//! SubjectPublicKeyInfo with a named curve and an uncompressed point;
//! private keys are PKCS#8 (`BEGIN PRIVATE KEY`) PEM. EDKs carry SEC1
//! compressed points.

use async_trait::async_trait;
use der_pem::pem;
use fieldseal_ec::Curve;
use p384::elliptic_curve::pkcs8::der as der_pem;
use zeroize::Zeroizing;

use crate::base::SecretBytes;
use crate::error::{Error, Result};
use crate::primitives::provider::{EcdhProvider, SecureRandom};

/// A curve of the raw ECDH keyring (the MPL's `ECDHCurveSpec` without SM2,
/// which the MPL's Rust build does not have either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcdhCurve {
    P256,
    P384,
    P521,
}

impl EcdhCurve {
    pub const ALL: [EcdhCurve; 3] = [EcdhCurve::P256, EcdhCurve::P384, EcdhCurve::P521];

    /// The MPL's name (`ECDHCurveSpec`), e.g. `"ECC_NIST_P256"`.
    pub fn mpl_name(self) -> &'static str {
        match self {
            EcdhCurve::P256 => "ECC_NIST_P256",
            EcdhCurve::P384 => "ECC_NIST_P384",
            EcdhCurve::P521 => "ECC_NIST_P521",
        }
    }

    /// The usual name, e.g. `"P-256"` (also WebCrypto's `namedCurve`).
    pub fn name(self) -> &'static str {
        match self {
            EcdhCurve::P256 => "P-256",
            EcdhCurve::P384 => "P-384",
            EcdhCurve::P521 => "P-521",
        }
    }

    /// The curve's name in the KDF's FixedInfo. The MPL writes `"p256"`
    /// (`CurveSpecTypeToString` in `RawECDHKeyring.dfy` / `EcdhEdkWrapping.dfy`);
    /// key-agreement-schemas.md only says "the configured curve specification".
    pub fn kdf_name(self) -> &'static str {
        match self {
            EcdhCurve::P256 => "p256",
            EcdhCurve::P384 => "p384",
            EcdhCurve::P521 => "p521",
        }
    }

    /// Bytes of a field element, and of the shared secret Z.
    pub fn field_len(self) -> usize {
        match self {
            EcdhCurve::P256 => 32,
            EcdhCurve::P384 => 48,
            EcdhCurve::P521 => 66,
        }
    }

    /// Bytes of a SEC1 compressed point: 33, 49 or 67.
    pub fn compressed_len(self) -> usize {
        1 + self.field_len()
    }

    /// Parse a curve name: the MPL's (`"ECC_NIST_P256"`), or `"P256"`,
    /// `"P-256"`, `"secp256r1"`..., case-insensitively.
    pub fn parse(s: &str) -> Result<Self> {
        let norm = s.trim().to_ascii_uppercase().replace(['-', '_'], "");
        let norm = norm.strip_prefix("ECCNIST").unwrap_or(&norm);
        Ok(match norm {
            "P256" | "SECP256R1" | "PRIME256V1" => EcdhCurve::P256,
            "P384" | "SECP384R1" => EcdhCurve::P384,
            "P521" | "SECP521R1" => EcdhCurve::P521,
            _ => {
                return Err(Error::InvalidConfig(format!(
                    "unknown ECDH curve {s:?} (use ECC_NIST_P256, ECC_NIST_P384 or ECC_NIST_P521)"
                )))
            }
        })
    }

    fn from_oid(oid: &[u8]) -> Option<Self> {
        EcdhCurve::ALL.into_iter().find(|c| c.oid() == oid)
    }

    /// The named curve's OID, DER contents (RFC 5480: secp256r1, secp384r1, secp521r1).
    fn oid(self) -> &'static [u8] {
        match self {
            EcdhCurve::P256 => &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            EcdhCurve::P384 => &[0x2b, 0x81, 0x04, 0x00, 0x22],
            EcdhCurve::P521 => &[0x2b, 0x81, 0x04, 0x00, 0x23],
        }
    }
}

impl std::fmt::Display for EcdhCurve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl EcdhCurve {
    /// The curve in fieldseal-ec, where the curve-generic code is instantiated.
    fn ec(self) -> Curve {
        match self {
            EcdhCurve::P256 => Curve::P256,
            EcdhCurve::P384 => Curve::P384,
            EcdhCurve::P521 => Curve::P521,
        }
    }
}

/// A validated public key: a point of `curve` other than the identity.
#[derive(Clone, PartialEq, Eq)]
pub struct EcPublicKey {
    curve: EcdhCurve,
    compressed: Vec<u8>,
    uncompressed: Vec<u8>,
}

impl std::fmt::Debug for EcPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EcPublicKey({}, {})", self.curve, self.fingerprint())
    }
}

impl EcPublicKey {
    /// A SEC1 point (compressed or uncompressed) of `curve`; refused unless
    /// it is on the curve and not the identity.
    pub fn from_sec1(curve: EcdhCurve, sec1: &[u8]) -> Result<Self> {
        let point = fieldseal_ec::sec1_point(curve.ec(), sec1);
        let (compressed, uncompressed) = point.ok_or_else(|| {
            Error::InvalidKey(format!(
                "{} bytes are not a point of {curve} (off the curve, the identity, or not \
                 a SEC1 encoding)",
                sec1.len()
            ))
        })?;
        Ok(EcPublicKey {
            curve,
            compressed,
            uncompressed,
        })
    }

    /// A DER SubjectPublicKeyInfo (id-ecPublicKey, named curve, uncompressed
    /// point), as the MPL takes public keys; `curve` is the keyring's.
    pub fn from_spki_der(der: &[u8], curve: EcdhCurve) -> Result<Self> {
        let not_spki =
            || Error::InvalidKey("not a DER SubjectPublicKeyInfo (BEGIN PUBLIC KEY)".into());
        let mut spki = Der(Der(der).whole(SEQUENCE).ok_or_else(not_spki)?);
        let key_curve = algorithm(&mut spki, "public").ok_or_else(not_spki)??;
        if key_curve != curve {
            return Err(curve_mismatch("public", key_curve, curve));
        }
        let point = spki
            .take(BIT_STRING)
            .filter(|_| spki.0.is_empty())
            .ok_or_else(not_spki)?;
        let point = whole_bytes(point).ok_or_else(|| {
            Error::InvalidKey("the public key's BIT STRING is not whole bytes".into())
        })?;
        // The MPL refuses SPKIs of any other length than the uncompressed
        // point's (`ValidPublicKeyLength`: 91, 120 or 158 bytes).
        if point.first() != Some(&4) || point.len() != 1 + 2 * curve.field_len() {
            return Err(Error::InvalidKey(format!(
                "the {curve} public key must hold an uncompressed point, as the MPL requires"
            )));
        }
        EcPublicKey::from_sec1(curve, point)
    }

    pub fn curve(&self) -> EcdhCurve {
        self.curve
    }

    /// SEC1 compressed: what raw ECDH EDKs carry.
    pub fn compressed(&self) -> &[u8] {
        &self.compressed
    }

    /// SEC1 uncompressed (`04 || x || y`): what agreement providers take.
    pub fn uncompressed(&self) -> &[u8] {
        &self.uncompressed
    }

    /// The DER SubjectPublicKeyInfo, as the MPL serializes public keys
    /// (RFC 5480, fixed lengths per curve: 91, 120 or 158 bytes).
    pub fn to_spki_der(&self) -> Vec<u8> {
        let head: &[u8] = match self.curve {
            EcdhCurve::P256 => &[
                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
            ],
            EcdhCurve::P384 => &[
                0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
            ],
            EcdhCurve::P521 => &[
                0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00,
            ],
        };
        [head, &self.uncompressed].concat()
    }

    /// A short name for messages: the curve's tag byte and the first 8
    /// bytes of x, in hex (a public key is not a secret).
    pub fn fingerprint(&self) -> String {
        let shown = &self.compressed[..self.compressed.len().min(9)];
        let hex: String = shown.iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex}…")
    }
}

// A minimal DER reader for the fixed layouts of named-curve EC
// keys (RFC 5480 SubjectPublicKeyInfo, RFC 5208 PKCS#8, RFC 5915
// ECPrivateKey): far smaller in the wasm than the generic DER codecs
// instantiated for each curve, and the MPL takes named curves only.
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
/// id-ecPublicKey (1.2.840.10045.2.1), DER contents.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// DER elements, read front to back.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The contents of the next element, if its tag is `tag` and its
    /// definite length fits.
    fn take(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (&t, rest) = self.0.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = match first {
            0..=0x7f => (usize::from(first), rest),
            0x81 => (usize::from(*rest.first()?), rest.get(1..)?),
            0x82 => (
                usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])),
                rest.get(2..)?,
            ),
            _ => return None,
        };
        if t != tag || rest.len() < len {
            return None;
        }
        let (contents, rest) = rest.split_at(len);
        self.0 = rest;
        Some(contents)
    }

    /// The contents of the next element if its tag is `tag`; `Some(None)`
    /// when another element or nothing follows, `None` when it is malformed.
    fn optional(&mut self, tag: u8) -> Option<Option<&'a [u8]>> {
        match self.0.first() {
            Some(&t) if t == tag => self.take(tag).map(Some),
            _ => Some(None),
        }
    }

    /// The contents of the one element of `tag` that is all of the input.
    fn whole(mut self, tag: u8) -> Option<&'a [u8]> {
        self.take(tag).filter(|_| self.0.is_empty())
    }
}

/// The bytes of a BIT STRING's contents with no unused bits.
fn whole_bytes(bits: &[u8]) -> Option<&[u8]> {
    bits.split_first()
        .filter(|(unused, _)| **unused == 0)
        .map(|(_, b)| b)
}

/// The curve of the AlgorithmIdentifier that `der` starts with: `None` if
/// it is not DER, `Some(Err)` if it is not an EC key on a named curve of ours.
fn algorithm(der: &mut Der<'_>, which: &str) -> Option<Result<EcdhCurve>> {
    let mut id = Der(der.take(SEQUENCE)?);
    let algorithm = id.take(OID)?;
    if algorithm != EC_PUBLIC_KEY {
        return Some(Err(Error::InvalidKey(format!(
            "the {which} key is not an elliptic-curve key (algorithm {})",
            oid_text(algorithm)
        ))));
    }
    let Some(parameters) = id.take(OID).filter(|_| id.0.is_empty()) else {
        return Some(Err(Error::InvalidKey(format!(
            "the {which} key does not name its curve"
        ))));
    };
    Some(EcdhCurve::from_oid(parameters).ok_or_else(|| {
        Error::InvalidKey(format!(
            "the {which} key is on curve {}, not P-256, P-384 or P-521",
            oid_text(parameters)
        ))
    }))
}

/// An OID's dotted form, for messages.
fn oid_text(der: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut arc = 0u64;
    for &b in der {
        arc = (arc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (arc / 40).min(2);
                arcs.extend([first, arc - 40 * first]);
            } else {
                arcs.push(arc);
            }
            arc = 0;
        }
    }
    let text: Vec<String> = arcs.iter().map(u64::to_string).collect();
    text.join(".")
}

fn curve_mismatch(which: &str, key_curve: EcdhCurve, curve: EcdhCurve) -> Error {
    Error::InvalidKey(format!(
        "curve mismatch: the {which} key is a {key_curve} key, the keyring is {curve}"
    ))
}

/// A private key of a curve, and its public key.
pub struct EcPrivateKey {
    curve: EcdhCurve,
    /// d, big-endian, the curve's field length.
    scalar: SecretBytes,
    /// The key as PKCS#8 DER (re-encoded, so always PKCS#8 with its public
    /// key), what platform providers import.
    pkcs8: SecretBytes,
    public: EcPublicKey,
}

impl std::fmt::Debug for EcPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcPrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl EcPrivateKey {
    /// A private key as PEM text (see [`EcPrivateKey::from_pem`]) or as
    /// PKCS#8 DER bytes.
    pub fn parse(key: &[u8], curve: EcdhCurve) -> Result<Self> {
        if trim_ascii(key).starts_with(b"-----BEGIN") {
            EcPrivateKey::from_pem(key, curve)
        } else {
            EcPrivateKey::from_pkcs8_der(key, curve)
        }
    }

    /// A PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`), as the MPL takes
    /// it; SEC1 (`BEGIN EC PRIVATE KEY`) is accepted too (aws-lc, under the
    /// MPL, parses both). `curve` is the keyring's.
    pub fn from_pem(pem_text: &[u8], curve: EcdhCurve) -> Result<Self> {
        let (label, der) = pem::decode_vec(trim_ascii(pem_text)).map_err(|_| {
            Error::InvalidKey("the private key is not PEM (BEGIN PRIVATE KEY)".into())
        })?;
        let der = Zeroizing::new(der);
        match label {
            "PRIVATE KEY" => EcPrivateKey::from_pkcs8_der(&der, curve),
            "EC PRIVATE KEY" => {
                EcPrivateKey::from_ec_private_key(&der, curve).ok_or_else(|| {
                    Error::InvalidKey("the private key is not a SEC1 EC PRIVATE KEY".into())
                })?
            }
            other => Err(Error::InvalidKey(format!(
                "the private key PEM is a {other:?}, not a PRIVATE KEY"
            ))),
        }
    }

    /// A PKCS#8 DER private key of `curve`.
    pub fn from_pkcs8_der(der: &[u8], curve: EcdhCurve) -> Result<Self> {
        let not_pkcs8 =
            || Error::InvalidKey("the private key is not PKCS#8 (BEGIN PRIVATE KEY)".into());
        // PrivateKeyInfo / OneAsymmetricKey: version, algorithm, key, then
        // optional attributes [0] and (v2) public key [1], not needed here.
        let mut info = Der(Der(der).whole(SEQUENCE).ok_or_else(not_pkcs8)?);
        info.take(INTEGER)
            .filter(|v| *v == [0] || *v == [1])
            .ok_or_else(not_pkcs8)?;
        let key_curve = algorithm(&mut info, "private").ok_or_else(not_pkcs8)??;
        if key_curve != curve {
            return Err(curve_mismatch("private", key_curve, curve));
        }
        let key = info.take(OCTET_STRING).ok_or_else(not_pkcs8)?;
        EcPrivateKey::from_ec_private_key(key, curve).ok_or_else(not_pkcs8)?
    }

    /// An RFC 5915 ECPrivateKey (SEC1 DER, alone or inside PKCS#8): `None`
    /// if it is not one. Its optional curve must be `curve`, its optional
    /// public key d's.
    fn from_ec_private_key(der: &[u8], curve: EcdhCurve) -> Option<Result<Self>> {
        let mut key = Der(Der(der).whole(SEQUENCE)?);
        key.take(INTEGER).filter(|v| *v == [1])?;
        let d = key.take(OCTET_STRING)?;
        if let Some(parameters) = key.optional(0xa0)? {
            let named = Der(parameters).whole(OID)?;
            match EcdhCurve::from_oid(named) {
                Some(c) if c == curve => {}
                Some(other) => return Some(Err(curve_mismatch("private", other, curve))),
                None => {
                    return Some(Err(Error::InvalidKey(format!(
                        "the private key is on curve {}, not P-256, P-384 or P-521",
                        oid_text(named)
                    ))))
                }
            }
        }
        let public = match key.optional(0xa1)? {
            Some(public) => Some(whole_bytes(Der(public).whole(BIT_STRING)?)?),
            None => None,
        };
        if !key.0.is_empty() {
            return None;
        }
        // RFC 5915: d is the field length; like RustCrypto, also take a
        // shorter one (>= 24 bytes) that lost its leading zeros.
        let n = curve.field_len();
        let mut scalar = Zeroizing::new(vec![0u8; n]);
        if d.len() > n || d.len() < 24 {
            return Some(Err(out_of_range(curve)));
        }
        scalar[n - d.len()..].copy_from_slice(d);
        let Some(own) = fieldseal_ec::public_key(curve.ec(), &scalar) else {
            return Some(Err(out_of_range(curve)));
        };
        let own = match EcPublicKey::from_sec1(curve, &own) {
            Ok(own) => own,
            Err(e) => return Some(Err(e)),
        };
        if let Some(public) = public {
            if EcPublicKey::from_sec1(curve, public).ok().as_ref() != Some(&own) {
                return Some(Err(out_of_range(curve)));
            }
        }
        Some(Ok(EcPrivateKey::from_parts(curve, &scalar, own)))
    }

    /// The key of scalar `d` (valid for `curve`) and its public key.
    fn from_parts(curve: EcdhCurve, d: &[u8], public: EcPublicKey) -> Self {
        // RFC 5915 inside RFC 5208, as RustCrypto and OpenSSL write it:
        // { 0, { id-ecPublicKey, curve }, { 1, d, [1] public key } }, no
        // curve in the inner key. Fixed lengths per curve, so a template
        // (the test key_encodings_match_rustcrypto checks it byte for byte).
        let (head, middle): (&[u8], &[u8]) = match curve {
            EcdhCurve::P256 => (
                &[
                    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
                    0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20,
                ],
                &[0xa1, 0x44, 0x03, 0x42, 0x00],
            ),
            EcdhCurve::P384 => (
                &[
                    0x30, 0x81, 0xb6, 0x02, 0x01, 0x00, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48,
                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x04, 0x81,
                    0x9e, 0x30, 0x81, 0x9b, 0x02, 0x01, 0x01, 0x04, 0x30,
                ],
                &[0xa1, 0x64, 0x03, 0x62, 0x00],
            ),
            EcdhCurve::P521 => (
                &[
                    0x30, 0x81, 0xee, 0x02, 0x01, 0x00, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48,
                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x04, 0x81,
                    0xd6, 0x30, 0x81, 0xd3, 0x02, 0x01, 0x01, 0x04, 0x42,
                ],
                &[0xa1, 0x81, 0x89, 0x03, 0x81, 0x86, 0x00],
            ),
        };
        let pkcs8 = [head, d, middle, public.uncompressed()].concat();
        EcPrivateKey {
            curve,
            scalar: SecretBytes::from_slice(d),
            pkcs8: SecretBytes::new(pkcs8),
            public,
        }
    }

    pub fn curve(&self) -> EcdhCurve {
        self.curve
    }

    pub fn public_key(&self) -> &EcPublicKey {
        &self.public
    }

    /// PKCS#8 DER, for an [`EcdhProvider`] that imports keys.
    pub fn pkcs8_der(&self) -> &[u8] {
        self.pkcs8.expose()
    }

    /// d, big-endian, the curve's field length.
    pub fn scalar(&self) -> &[u8] {
        self.scalar.expose()
    }
}

fn out_of_range(curve: EcdhCurve) -> Error {
    Error::InvalidKey(format!(
        "the {curve} private key does not parse (a scalar out of range, or a public key \
         that does not belong to it)"
    ))
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// A fresh scalar of `curve` from `random` and its SEC1 uncompressed public key.
fn generate(curve: EcdhCurve, random: &dyn SecureRandom) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>)> {
    // Rejection sampling: a scalar in [1, n). n is within 2^-32 of the
    // masked range for all three curves, so one draw almost always does.
    let top_mask = if curve == EcdhCurve::P521 { 0x01 } else { 0xff };
    for _ in 0..64 {
        let mut scalar = Zeroizing::new(vec![0u8; curve.field_len()]);
        random.fill(&mut scalar)?;
        scalar[0] &= top_mask;
        if let Some(public) = fieldseal_ec::public_key(curve.ec(), &scalar) {
            return Ok((scalar, public));
        }
    }
    Err(Error::KeyProviderFailure(
        "the random number generator gave 64 scalars out of range in a row".into(),
    ))
}

/// ECDH by RustCrypto (`p256`, `p384`, `p521`): the default [`EcdhProvider`].
#[derive(Debug, Default, Clone, Copy)]
pub struct RustCryptoEcdh;

fn z(curve: EcdhCurve, scalar: &[u8], public: &EcPublicKey) -> Result<SecretBytes> {
    let z = fieldseal_ec::agree(curve.ec(), scalar, public.uncompressed())
        .ok_or_else(|| Error::InvalidKey(format!("{curve} key agreement: a key does not parse")))?;
    Ok(SecretBytes::from_slice(&z))
}

#[async_trait(?Send)]
impl EcdhProvider for RustCryptoEcdh {
    async fn agree(&self, private: &EcPrivateKey, public: &EcPublicKey) -> Result<SecretBytes> {
        z(private.curve(), private.scalar(), public)
    }

    async fn ephemeral_agree(
        &self,
        public: &EcPublicKey,
        random: &dyn SecureRandom,
    ) -> Result<(Vec<u8>, SecretBytes)> {
        let (scalar, own) = generate(public.curve(), random)?;
        Ok((own, z(public.curve(), &scalar, public)?))
    }
}
