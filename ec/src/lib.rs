//! The curve-generic half of fieldseal's ECDH (src/primitives/ecdh.rs): each
//! function here is instantiated for P-256, P-384 and P-521 in this crate,
//! not in the core, so the npm build compiles the three copies for size
//! (`[profile.wasm-release.package.fieldseal-ec]`) while the core's hot
//! paths stay at opt-level 3. It decides nothing about formats or errors:
//! every function answers `None` when a key does not parse.

use elliptic_curve::pkcs8::{AssociatedOid, DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use elliptic_curve::sec1::{FromEncodedPoint, ModulusSize, ToEncodedPoint};
use elliptic_curve::{
    AffinePoint, CurveArithmetic, FieldBytes, FieldBytesSize, PublicKey, SecretKey,
};
use p384::elliptic_curve;
use zeroize::Zeroizing;

/// The curves, in the order of fieldseal's `EcdhCurve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

/// Runs `$body` with `$c` the RustCrypto curve type of `$curve`.
macro_rules! with_curve {
    ($curve:expr, $c:ident => $body:expr) => {
        match $curve {
            Curve::P256 => {
                type $c = p256::NistP256;
                $body
            }
            Curve::P384 => {
                type $c = p384::NistP384;
                $body
            }
            Curve::P521 => {
                type $c = p521::NistP521;
                $body
            }
        }
    };
}

/// (compressed, uncompressed) encodings of a SEC1 point of `curve`, if it
/// is one: on the curve and not the identity (`PublicKey::from_sec1_bytes`).
pub fn sec1_point(curve: Curve, sec1: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    with_curve!(curve, C => sec1_point_of::<C>(sec1))
}

/// (PKCS#8 DER re-encoded with its public key, SEC1 uncompressed public key)
/// of a PKCS#8 (`pkcs8`) or SEC1 DER private key of `curve`.
pub fn private_key(curve: Curve, der: &[u8], pkcs8: bool) -> Option<(Zeroizing<Vec<u8>>, Vec<u8>)> {
    with_curve!(curve, C => private_key_of::<C>(der, pkcs8))
}

/// Z = x(d·Q) of a PKCS#8 private key and a SEC1 public key of `curve`.
pub fn agree(curve: Curve, private_pkcs8: &[u8], public_sec1: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    with_curve!(curve, C => agree_of::<C>(private_pkcs8, public_sec1))
}

/// A key pair of `curve` from a big-endian scalar candidate (`None` if it is
/// 0 or not below the order: draw again): (PKCS#8 DER, SEC1 uncompressed public key).
pub fn key_pair(curve: Curve, scalar: &[u8]) -> Option<(Zeroizing<Vec<u8>>, Vec<u8>)> {
    with_curve!(curve, C => key_pair_of::<C>(scalar))
}

/// The DER SubjectPublicKeyInfo of a SEC1 point of `curve`.
pub fn spki_der(curve: Curve, sec1: &[u8]) -> Option<Vec<u8>> {
    with_curve!(curve, C => PublicKey::<C>::from_sec1_bytes(sec1)
        .ok()
        .and_then(|k| k.to_public_key_der().ok())
        .map(|d| d.as_bytes().to_vec()))
}

fn sec1_point_of<C>(sec1: &[u8]) -> Option<(Vec<u8>, Vec<u8>)>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let key = PublicKey::<C>::from_sec1_bytes(sec1).ok()?;
    Some((
        key.to_encoded_point(true).as_bytes().to_vec(),
        key.to_encoded_point(false).as_bytes().to_vec(),
    ))
}

fn encode<C>(key: &SecretKey<C>) -> Option<(Zeroizing<Vec<u8>>, Vec<u8>)>
where
    C: CurveArithmetic + AssociatedOid,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let der = key.to_pkcs8_der().ok()?;
    Some((
        Zeroizing::new(der.as_bytes().to_vec()),
        key.public_key().to_encoded_point(false).as_bytes().to_vec(),
    ))
}

fn private_key_of<C>(der: &[u8], pkcs8: bool) -> Option<(Zeroizing<Vec<u8>>, Vec<u8>)>
where
    C: CurveArithmetic + AssociatedOid,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let key = if pkcs8 {
        SecretKey::<C>::from_pkcs8_der(der).ok()?
    } else {
        SecretKey::<C>::from_sec1_der(der).ok()?
    };
    encode(&key)
}

fn key_pair_of<C>(scalar: &[u8]) -> Option<(Zeroizing<Vec<u8>>, Vec<u8>)>
where
    C: CurveArithmetic + AssociatedOid,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    if scalar.len() != FieldBytes::<C>::default().len() {
        return None;
    }
    let key = SecretKey::<C>::from_bytes(FieldBytes::<C>::from_slice(scalar)).ok()?;
    encode(&key)
}

fn agree_of<C>(private_pkcs8: &[u8], public_sec1: &[u8]) -> Option<Zeroizing<Vec<u8>>>
where
    C: CurveArithmetic + AssociatedOid,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let secret = SecretKey::<C>::from_pkcs8_der(private_pkcs8).ok()?;
    let public = PublicKey::<C>::from_sec1_bytes(public_sec1).ok()?;
    let shared =
        elliptic_curve::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
    Some(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
}

pub use elliptic_curve::pkcs8::ObjectIdentifier;

/// The parts of a DER SubjectPublicKeyInfo the core checks.
pub struct Spki<'a> {
    pub algorithm: ObjectIdentifier,
    /// The named curve, when the parameters are an OID.
    pub parameters: Option<ObjectIdentifier>,
    /// The subject public key, when it is whole bytes.
    pub point: Option<&'a [u8]>,
}

/// A DER SubjectPublicKeyInfo's parts.
pub fn spki(der: &[u8]) -> Option<Spki<'_>> {
    use elliptic_curve::pkcs8::der::Decode;
    let spki = elliptic_curve::pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der).ok()?;
    Some(Spki {
        algorithm: spki.algorithm.oid,
        parameters: spki.algorithm.parameters_oid().ok(),
        point: spki.subject_public_key.as_bytes(),
    })
}

/// (algorithm, named-curve parameter) of a PKCS#8 DER private key.
pub fn pkcs8_algorithm(der: &[u8]) -> Option<(ObjectIdentifier, Option<ObjectIdentifier>)> {
    use elliptic_curve::pkcs8::der::Decode;
    let info = elliptic_curve::pkcs8::PrivateKeyInfo::from_der(der).ok()?;
    Some((info.algorithm.oid, info.algorithm.parameters_oid().ok()))
}
