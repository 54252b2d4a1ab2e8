"""Start moto's server (a local KMS + DynamoDB) on loopback, patched so that
multi-Region keys work.

    python launch.py [--port PORT]    (default: $MOTO_PORT or 5000)

Why the patch: moto 5.2.5 packs its fake ciphertext blob as
``struct.pack(">36s12s16s", key_id, iv, tag) + ciphertext``. moto's
multi-Region key ids are ``mrk-`` + a 36-character UUID, 40 characters, and
struct silently truncates them to 36. Decrypt then looks up a key id that does
not exist and fails with AccessDeniedException: nothing encrypted under a
multi-Region key can be decrypted, even in the same region.

We replace moto's blob (de)serializers (``moto.kms.utils._serialize_ciphertext_blob``
and ``_deserialize_ciphertext_blob``, which moto's own ``encrypt``/``decrypt``
look up at call time) with a length-prefixed key id:

    u16 key id length || key id || iv (12) || tag (16) || ciphertext

Everything else is moto's: the replica of an MRK shares its key id and key
material, so a blob made in us-east-1 decrypts in eu-west-1 under the
replica's ARN, and the encryption context is still the AES-GCM AAD, so a wrong
context fails with InvalidCiphertextException.
"""

import argparse
import os
import struct
import sys

from moto.kms import utils as kms_utils
from moto.kms.utils import IV_LEN, TAG_LEN, Ciphertext


def _serialize_ciphertext_blob(ciphertext: Ciphertext) -> bytes:
    key_id = ciphertext.key_id.encode("utf-8")
    return (
        struct.pack(">H", len(key_id))
        + key_id
        + ciphertext.iv
        + ciphertext.tag
        + ciphertext.ciphertext
    )


def _deserialize_ciphertext_blob(ciphertext_blob: bytes) -> Ciphertext:
    (length,) = struct.unpack(">H", ciphertext_blob[:2])
    end = 2 + length
    if len(ciphertext_blob) < end + IV_LEN + TAG_LEN:
        raise ValueError("ciphertext blob too short")
    key_id = ciphertext_blob[2:end].decode("utf-8")
    iv = ciphertext_blob[end : end + IV_LEN]
    tag = ciphertext_blob[end + IV_LEN : end + IV_LEN + TAG_LEN]
    return Ciphertext(
        key_id=key_id, iv=iv, tag=tag, ciphertext=ciphertext_blob[end + IV_LEN + TAG_LEN :]
    )


def patch() -> None:
    kms_utils._serialize_ciphertext_blob = _serialize_ciphertext_blob
    kms_utils._deserialize_ciphertext_blob = _deserialize_ciphertext_blob


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    args = parser.parse_args()
    patch()
    from moto.server import main as moto_main

    print(f"[moto] patched KMS ciphertext blobs; serving on http://127.0.0.1:{args.port}", flush=True)
    moto_main(["-H", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
