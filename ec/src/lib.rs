//! The curve-generic half of fieldseal's ECDH (src/primitives/ecdh.rs): each
//! function here is instantiated for P-256, P-384 and P-521 in this crate,
//! not in the core, so the npm build compiles the three copies for size
//! (`[profile.wasm-release.package.fieldseal-ec]`) while the core's hot
//! paths stay at opt-level 3. It takes and gives plain bytes (SEC1 points,
//! big-endian scalars): key formats (DER, PEM) and errors are the core's,
//! which parses the few fixed named-curve layouts itself rather than
//! instantiating the generic DER codecs three times. Every function answers
//! `None` when its input is not a valid point or scalar.

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

/// The SEC1 uncompressed public key of a big-endian scalar of `curve`
/// (exactly the field length), `None` if it is 0 or not below the order.
pub fn public_key(curve: Curve, scalar: &[u8]) -> Option<Vec<u8>> {
    with_curve!(curve, C => secret_of::<C>(scalar)
        .map(|k| k.public_key().to_encoded_point(false).as_bytes().to_vec()))
}

/// Z = x(d·Q) of a big-endian scalar d and a SEC1 public key Q of `curve`.
pub fn agree(curve: Curve, scalar: &[u8], public_sec1: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    with_curve!(curve, C => agree_of::<C>(scalar, public_sec1))
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

fn secret_of<C: CurveArithmetic>(scalar: &[u8]) -> Option<SecretKey<C>> {
    if scalar.len() != FieldBytes::<C>::default().len() {
        return None;
    }
    SecretKey::<C>::from_bytes(FieldBytes::<C>::from_slice(scalar)).ok()
}

fn agree_of<C>(scalar: &[u8], public_sec1: &[u8]) -> Option<Zeroizing<Vec<u8>>>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let secret = secret_of::<C>(scalar)?;
    let public = PublicKey::<C>::from_sec1_bytes(public_sec1).ok()?;
    let shared =
        elliptic_curve::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
    Some(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
}
