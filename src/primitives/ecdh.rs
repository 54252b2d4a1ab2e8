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
use elliptic_curve::pkcs8::der::pem;
use fieldseal_ec::Curve;
use fieldseal_ec::ObjectIdentifier;
use p384::elliptic_curve;
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

    fn from_oid(oid: &elliptic_curve::pkcs8::ObjectIdentifier) -> Option<Self> {
        EcdhCurve::ALL.into_iter().find(|c| c.oid() == *oid)
    }

    fn oid(self) -> elliptic_curve::pkcs8::ObjectIdentifier {
        match self {
            EcdhCurve::P256 => ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7"),
            EcdhCurve::P384 => ObjectIdentifier::new_unwrap("1.3.132.0.34"),
            EcdhCurve::P521 => ObjectIdentifier::new_unwrap("1.3.132.0.35"),
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
        let spki = fieldseal_ec::spki(der).ok_or_else(|| {
            Error::InvalidKey("not a DER SubjectPublicKeyInfo (BEGIN PUBLIC KEY)".into())
        })?;
        let key_curve = named_curve(spki.algorithm, spki.parameters, "public")?;
        if key_curve != curve {
            return Err(curve_mismatch("public", key_curve, curve));
        }
        let point = spki.point.ok_or_else(|| {
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

    /// The DER SubjectPublicKeyInfo, as the MPL serializes public keys.
    pub fn to_spki_der(&self) -> Vec<u8> {
        fieldseal_ec::spki_der(self.curve.ec(), &self.uncompressed).unwrap_or_default()
    }

    /// A short name for messages: the curve's tag byte and the first 8
    /// bytes of x, in hex (a public key is not a secret).
    pub fn fingerprint(&self) -> String {
        let shown = &self.compressed[..self.compressed.len().min(9)];
        let hex: String = shown.iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex}…")
    }
}

/// The curve of an id-ecPublicKey algorithm identifier.
fn named_curve(
    algorithm: elliptic_curve::pkcs8::ObjectIdentifier,
    parameters: Option<elliptic_curve::pkcs8::ObjectIdentifier>,
    which: &str,
) -> Result<EcdhCurve> {
    if algorithm != elliptic_curve::ALGORITHM_OID {
        return Err(Error::InvalidKey(format!(
            "the {which} key is not an elliptic-curve key (algorithm {algorithm})"
        )));
    }
    let parameters = parameters
        .ok_or_else(|| Error::InvalidKey(format!("the {which} key does not name its curve")))?;
    EcdhCurve::from_oid(&parameters).ok_or_else(|| {
        Error::InvalidKey(format!(
            "the {which} key is on curve {parameters}, not P-256, P-384 or P-521"
        ))
    })
}

fn curve_mismatch(which: &str, key_curve: EcdhCurve, curve: EcdhCurve) -> Error {
    Error::InvalidKey(format!(
        "curve mismatch: the {which} key is a {key_curve} key, the keyring is {curve}"
    ))
}

/// A private key of a curve, and its public key.
pub struct EcPrivateKey {
    curve: EcdhCurve,
    /// The key as PKCS#8 DER (re-encoded, so always PKCS#8 with its public
    /// key), what agreement providers import.
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
                let parsed = fieldseal_ec::private_key(curve.ec(), &der, false);
                if parsed.is_none() {
                    // A SEC1 key names its curve: another curve's key parses there.
                    for other in EcdhCurve::ALL.into_iter().filter(|c| *c != curve) {
                        if fieldseal_ec::private_key(other.ec(), &der, false).is_some() {
                            return Err(curve_mismatch("private", other, curve));
                        }
                    }
                }
                EcPrivateKey::finish(curve, parsed)
            }
            other => Err(Error::InvalidKey(format!(
                "the private key PEM is a {other:?}, not a PRIVATE KEY"
            ))),
        }
    }

    /// A PKCS#8 DER private key of `curve`.
    pub fn from_pkcs8_der(der: &[u8], curve: EcdhCurve) -> Result<Self> {
        let (algorithm, parameters) = fieldseal_ec::pkcs8_algorithm(der).ok_or_else(|| {
            Error::InvalidKey("the private key is not PKCS#8 (BEGIN PRIVATE KEY)".into())
        })?;
        let key_curve = named_curve(algorithm, parameters, "private")?;
        if key_curve != curve {
            return Err(curve_mismatch("private", key_curve, curve));
        }
        EcPrivateKey::finish(curve, fieldseal_ec::private_key(curve.ec(), der, true))
    }

    fn finish(curve: EcdhCurve, parsed: Option<(Zeroizing<Vec<u8>>, Vec<u8>)>) -> Result<Self> {
        let (pkcs8, public) = parsed.ok_or_else(|| {
            Error::InvalidKey(format!(
                "the {curve} private key does not parse (a scalar out of range, or a public key \
                 that does not belong to it)"
            ))
        })?;
        Ok(EcPrivateKey {
            curve,
            pkcs8: SecretBytes::from_slice(&pkcs8),
            public: EcPublicKey::from_sec1(curve, &public)?,
        })
    }

    pub fn curve(&self) -> EcdhCurve {
        self.curve
    }

    pub fn public_key(&self) -> &EcPublicKey {
        &self.public
    }

    /// PKCS#8 DER, for an [`EcdhProvider`].
    pub fn pkcs8_der(&self) -> &[u8] {
        self.pkcs8.expose()
    }
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

/// A fresh key pair of `curve` from `random`: (PKCS#8 DER, SEC1 uncompressed public key).
fn generate(curve: EcdhCurve, random: &dyn SecureRandom) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>)> {
    // Rejection sampling: a scalar in [1, n). n is within 2^-32 of the
    // masked range for all three curves, so one draw almost always does.
    let top_mask = if curve == EcdhCurve::P521 { 0x01 } else { 0xff };
    for _ in 0..64 {
        let mut scalar = Zeroizing::new(vec![0u8; curve.field_len()]);
        random.fill(&mut scalar)?;
        scalar[0] &= top_mask;
        if let Some(pair) = fieldseal_ec::key_pair(curve.ec(), &scalar) {
            return Ok(pair);
        }
    }
    Err(Error::KeyProviderFailure(
        "the random number generator gave 64 scalars out of range in a row".into(),
    ))
}

/// ECDH by RustCrypto (`p256`, `p384`, `p521`): the default [`EcdhProvider`].
#[derive(Debug, Default, Clone, Copy)]
pub struct RustCryptoEcdh;

#[async_trait(?Send)]
impl EcdhProvider for RustCryptoEcdh {
    async fn agree(
        &self,
        curve: EcdhCurve,
        private_key_pkcs8: &[u8],
        public_key: &[u8],
    ) -> Result<SecretBytes> {
        let z =
            fieldseal_ec::agree(curve.ec(), private_key_pkcs8, public_key).ok_or_else(|| {
                Error::InvalidKey(format!("{curve} key agreement: a key does not parse"))
            })?;
        Ok(SecretBytes::from_slice(&z))
    }

    async fn ephemeral_agree(
        &self,
        curve: EcdhCurve,
        public_key: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<(Vec<u8>, SecretBytes)> {
        let (private, public) = generate(curve, random)?;
        let shared = self.agree(curve, &private, public_key).await?;
        Ok((public, shared))
    }
}
