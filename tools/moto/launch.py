"""Start moto's server (a local AWS KMS + DynamoDB) on loopback, patched so
that multi-Region keys work and the encryption context is bound strictly.

    python launch.py [--port PORT] [--host HOST]
        PORT: default $MOTO_PORT, else 5000; HOST: default 127.0.0.1

Prints "[moto] ... serving on http://HOST:PORT" once patched, then serves
until SIGINT/SIGTERM. Use the venv from setup_venv.sh (moto[server]==5.2.5).

Why the first patch (multi-Region keys)
---------------------------------------
moto 5.2.5 (moto/kms/utils.py) packs its fake ciphertext blob as

    struct.pack(">36s12s16s", key_id, iv, tag) + ciphertext

(KEY_ID_LEN = 36, CIPHERTEXT_HEADER_FORMAT). moto's `generate_key_id` makes
a multi-Region key id "mrk-" + a 36-character UUID: 40 characters (real KMS
uses "mrk-" + 32 hex digits). struct's "36s" silently truncates it to 36,
so Decrypt looks up a key id that does not exist and raises
AccessDeniedException ("The ciphertext refers to a customer master key that
does not exist..."). Nothing encrypted under a multi-Region key can be
decrypted, not even in its own region.

We replace moto's two blob functions with a length-prefixed key id:

    u16 BE key id length || key id (UTF-8) || iv (12) || tag (16) || ciphertext

What is patched, and why patching the module is enough: the functions live in
`moto.kms.utils` (`_serialize_ciphertext_blob`, `_deserialize_ciphertext_blob`).
Their only callers are `moto.kms.utils.encrypt` and `moto.kms.utils.decrypt`,
which look them up in that module's globals at call time. `moto/kms/models.py`
imports `encrypt` and `decrypt` by name (`from .utils import (... decrypt,
encrypt, ...)`), not the serializers, and `KmsBackend.encrypt / decrypt /
generate_data_key / re_encrypt` all go through those two. No other moto module
imports the serializers (grep of moto 5.2.5). `patch()` still rebinds any
loaded `moto.kms.*` module attribute of the same name, so a future moto that
imports them by name is covered, and it fails loudly if they are gone.

Why the second patch (encryption context)
-----------------------------------------
moto binds the encryption context as AES-GCM AAD, serialized as the sorted
keys and values concatenated with no separator
(`_serialize_encryption_context`), so {"ab": "c"} and {"a": "bc"} give the
same AAD and decrypt each other's ciphertexts. Real KMS refuses that; we
length-prefix every key and value so a different context always fails with
InvalidCiphertextException.

Everything else is moto's own behaviour: ReplicateKey copies the key (same key
id, same key material) into the replica region's backend under an ARN with
that region, so a blob made in us-east-1 decrypts in eu-west-1 with the
replica's ARN as KeyId, and Decrypt answers with the replica's ARN. Decrypt
with a KeyId that names another key fails (AccessDeniedException in moto).

Why the third patch (DynamoDB writes are isolated)
--------------------------------------------------
Real DynamoDB applies a conditional write and a TransactWriteItems
atomically: the condition is checked and the write made as one step, so of
two writers that both read version A and both write "if still A", exactly one
wins and the other gets ConditionalCheckFailedException /
TransactionCanceledException. moto's server answers each request on its own
thread (werkzeug, threaded=True) and `DynamoDBBackend.put_item / update_item /
delete_item / transact_write_items` check the condition and then write with no
lock, so two such requests can both pass the check and both write. fieldseal's
key store relies on the real behaviour (versionKey's race check); a CI run saw
both racing versionKey calls succeed against unpatched moto. We run those four
methods under one process-wide lock, which is what DynamoDB's per-item
serialization gives a single test table.

check.py exercises all of this against a running server.
"""

import argparse
import io
import os
import struct
import sys

import functools
import threading

import moto
import moto.dynamodb.models
import moto.kms.models  # noqa: F401  (loads every moto.kms module that could hold references)
import moto.kms.responses  # noqa: F401
from moto.kms import utils as kms_utils

IV_LEN = kms_utils.IV_LEN
TAG_LEN = kms_utils.TAG_LEN
Ciphertext = kms_utils.Ciphertext
TESTED_MOTO_VERSION = "5.2.5"


def _serialize_ciphertext_blob(ciphertext: Ciphertext) -> bytes:
    key_id = ciphertext.key_id.encode("utf-8")
    if len(ciphertext.iv) != IV_LEN or len(ciphertext.tag) != TAG_LEN:
        raise ValueError("unexpected IV or tag length")
    return struct.pack(">H", len(key_id)) + key_id + ciphertext.iv + ciphertext.tag + ciphertext.ciphertext


def _deserialize_ciphertext_blob(ciphertext_blob: bytes) -> Ciphertext:
    # Any exception here becomes InvalidCiphertextException in moto's decrypt().
    (length,) = struct.unpack(">H", ciphertext_blob[:2])
    end = 2 + length
    if len(ciphertext_blob) < end + IV_LEN + TAG_LEN:
        raise ValueError("ciphertext blob too short")
    return Ciphertext(
        key_id=ciphertext_blob[2:end].decode("utf-8"),
        iv=ciphertext_blob[end : end + IV_LEN],
        tag=ciphertext_blob[end + IV_LEN : end + IV_LEN + TAG_LEN],
        ciphertext=ciphertext_blob[end + IV_LEN + TAG_LEN :],
    )


def _serialize_encryption_context(encryption_context: dict[str, str]) -> bytes:
    aad = io.BytesIO()
    for key, value in sorted(encryption_context.items()):
        for part in (key.encode("utf-8"), value.encode("utf-8")):
            aad.write(struct.pack(">I", len(part)))
            aad.write(part)
    return aad.getvalue()


REPLACEMENTS = {
    "_serialize_ciphertext_blob": _serialize_ciphertext_blob,
    "_deserialize_ciphertext_blob": _deserialize_ciphertext_blob,
    "_serialize_encryption_context": _serialize_encryption_context,
}


def patch() -> list[str]:
    """Install the replacements; returns the "module.name" rebound."""
    if moto.__version__ != TESTED_MOTO_VERSION:
        print(
            f"[moto] warning: patch written for moto {TESTED_MOTO_VERSION}, running {moto.__version__}",
            file=sys.stderr,
            flush=True,
        )
    for name in REPLACEMENTS:
        if not callable(getattr(kms_utils, name, None)):
            raise SystemExit(f"[moto] moto.kms.utils.{name} is gone: the patch needs updating")
    rebound = []
    for module_name, module in sorted(sys.modules.items()):
        if module is None or not (module_name == "moto.kms" or module_name.startswith("moto.kms.")):
            continue
        for name, replacement in REPLACEMENTS.items():
            if hasattr(module, name):
                setattr(module, name, replacement)
                rebound.append(f"{module_name}.{name}")
    # The 40-character key id of a multi-Region key must survive the round trip.
    key_id = "mrk-" + "0" * 36
    blob = kms_utils._serialize_ciphertext_blob(Ciphertext(key_id=key_id, iv=b"\0" * IV_LEN, ciphertext=b"x", tag=b"\0" * TAG_LEN))
    assert kms_utils._deserialize_ciphertext_blob(blob).key_id == key_id
    assert kms_utils._serialize_encryption_context({"ab": "c"}) != kms_utils._serialize_encryption_context({"a": "bc"})
    return rebound


# The DynamoDB writes that check a condition and then write (third patch).
ISOLATED_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_dynamodb_write_lock = threading.RLock()


def _isolated(write):
    @functools.wraps(write)
    def isolated(self, *args, **kwargs):
        with _dynamodb_write_lock:
            return write(self, *args, **kwargs)

    return isolated


def patch_dynamodb_isolation() -> list[str]:
    """Run moto's conditional DynamoDB writes one at a time; returns what was wrapped."""
    backend = moto.dynamodb.models.DynamoDBBackend
    wrapped = []
    for name in ISOLATED_DYNAMODB_WRITES:
        original = getattr(backend, name, None)
        if not callable(original):
            raise SystemExit(f"[moto] moto.dynamodb.models.DynamoDBBackend.{name} is gone: the patch needs updating")

        setattr(backend, name, _isolated(original))
        wrapped.append(f"DynamoDBBackend.{name}")
    return wrapped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    parser.add_argument("--host", default="127.0.0.1", help="bind address (keep it on loopback)")
    args = parser.parse_args(argv)
    rebound = patch() + patch_dynamodb_isolation()
    from moto.server import main as moto_main

    print(f"[moto] moto {moto.__version__}; patched {', '.join(rebound)}", flush=True)
    print(f"[moto] serving on http://{args.host}:{args.port}", flush=True)
    moto_main(["-H", args.host, "-p", str(args.port)])


if __name__ == "__main__":
    main()
