"""Self-check of the patched moto (launch.py): multi-Region keys decrypt across
regions, the encryption context is enforced, and asymmetric keys work (RSA
decryption of what the public key sealed, ECDH). Exits non-zero on any failure.
tests/js/moto-asymmetric.test.mjs checks the asymmetric keys in depth.

    python check.py              start launch.py on a free loopback port, check, stop it
    python check.py PORT         check a server already running on 127.0.0.1:PORT

Run it with the venv's python: "$(tools/moto/setup_venv.sh)" tools/moto/check.py
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

HERE = os.path.dirname(os.path.abspath(__file__))
CONTEXT = {"aws-crypto-table-name": "Orders", "purpose": "check"}
failures = []


def check(ok, what):
    print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)


def refused(call, codes):
    """The error code if `call` fails with one of `codes`, else None."""
    try:
        call()
    except ClientError as e:
        code = e.response["Error"]["Code"]
        return code if code in codes else None
    return None


def run_checks(endpoint):
    def kms(region):
        return boto3.client(
            "kms",
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    east, west, sydney = kms("us-east-1"), kms("eu-west-1"), kms("ap-southeast-2")
    key = east.create_key(MultiRegion=True, Description="fieldseal check")["KeyMetadata"]
    check(key["KeyId"].startswith("mrk-"), f"CreateKey MultiRegion in us-east-1: {key['Arn']}")
    replicas = {}
    for region in ["eu-west-1", "ap-southeast-2"]:
        out = east.replicate_key(KeyId=key["KeyId"], ReplicaRegion=region)
        replicas[region] = out["ReplicaKeyMetadata"]["Arn"]
        check(replicas[region] == key["Arn"].replace("us-east-1", region), f"ReplicateKey to {region}: {replicas[region]}")

    blob = east.encrypt(KeyId=key["Arn"], Plaintext=b"secret", EncryptionContext=CONTEXT)["CiphertextBlob"]
    check(True, f"Encrypt in us-east-1 with an encryption context ({len(blob)}-byte blob)")
    out = west.decrypt(KeyId=replicas["eu-west-1"], CiphertextBlob=blob, EncryptionContext=CONTEXT)
    check(out["Plaintext"] == b"secret" and out["KeyId"] == replicas["eu-west-1"], "Decrypt in eu-west-1 with the replica ARN; KeyId is the replica ARN")
    out = sydney.decrypt(KeyId=replicas["ap-southeast-2"], CiphertextBlob=blob, EncryptionContext=CONTEXT)
    check(out["Plaintext"] == b"secret", "Decrypt in ap-southeast-2 with the replica ARN")
    out = east.decrypt(KeyId=key["Arn"], CiphertextBlob=blob, EncryptionContext=CONTEXT)
    check(out["Plaintext"] == b"secret", "Decrypt in us-east-1 (its own region)")

    # What fieldseal does: GenerateDataKey in one region, Decrypt of the blob in another.
    data_key = east.generate_data_key(KeyId=key["Arn"], NumberOfBytes=32, EncryptionContext=CONTEXT)
    out = west.decrypt(KeyId=replicas["eu-west-1"], CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext=CONTEXT)
    check(
        data_key["KeyId"] == key["Arn"] and len(data_key["Plaintext"]) == 32 and out["Plaintext"] == data_key["Plaintext"],
        "GenerateDataKey (32 bytes) in us-east-1 opens in eu-west-1",
    )

    bad = "InvalidCiphertextException"
    for label, context in [
        ("a wrong encryption context", {**CONTEXT, "purpose": "other"}),
        ("a missing encryption context", {}),
        ("an extra encryption context entry", {**CONTEXT, "extra": "x"}),
    ]:
        code = refused(lambda: west.decrypt(KeyId=replicas["eu-west-1"], CiphertextBlob=blob, EncryptionContext=context), {bad})
        check(code == bad, f"{label} is refused ({code})")
    # Same concatenation, different context: only the patched serializer tells them apart.
    ab = east.encrypt(KeyId=key["Arn"], Plaintext=b"secret", EncryptionContext={"ab": "c"})["CiphertextBlob"]
    code = refused(lambda: east.decrypt(KeyId=key["Arn"], CiphertextBlob=ab, EncryptionContext={"a": "bc"}), {bad})
    check(code == bad, f'{{"a": "bc"}} does not open what {{"ab": "c"}} sealed ({code})')

    other = east.create_key(Description="fieldseal check, single-Region")["KeyMetadata"]
    out = east.decrypt(KeyId=other["Arn"], CiphertextBlob=east.encrypt(KeyId=other["Arn"], Plaintext=b"s")["CiphertextBlob"])
    check(out["Plaintext"] == b"s" and not other["KeyId"].startswith("mrk-"), "a single-Region key still round-trips")
    code = refused(
        lambda: east.decrypt(KeyId=other["Arn"], CiphertextBlob=blob, EncryptionContext=CONTEXT),
        {"AccessDeniedException", "IncorrectKeyException"},
    )
    check(code is not None, f"Decrypt naming another key is refused ({code})")
    code = refused(lambda: west.decrypt(KeyId=other["Arn"], CiphertextBlob=blob, EncryptionContext=CONTEXT), {"NotFoundException", "AccessDeniedException"})
    check(code is not None, f"a single-Region key is not usable from another region ({code})")

    check_asymmetric(east)


def check_asymmetric(kms):
    """An RSA key opens what its public key sealed outside KMS; an ECC key agrees on ECDH secrets."""
    rsa_key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    public = kms.get_public_key(KeyId=rsa_key["KeyId"])
    check(public["KeyId"] == rsa_key["Arn"] and public["KeySpec"] == "RSA_2048", "GetPublicKey answers the key ARN and KeySpec")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    blob = serialization.load_der_public_key(public["PublicKey"]).encrypt(b"sealed outside KMS", oaep)
    out = kms.decrypt(KeyId=rsa_key["Arn"], CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    check(out["Plaintext"] == b"sealed outside KMS", "Decrypt RSAES_OAEP_SHA_256 opens what the public key sealed")
    code = refused(
        lambda: kms.decrypt(KeyId=rsa_key["Arn"], CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_1"),
        {"InvalidCiphertextException"},
    )
    check(code is not None, f"the other OAEP hash is refused ({code})")

    ecc_key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    kms_public = serialization.load_der_public_key(kms.get_public_key(KeyId=ecc_key["Arn"])["PublicKey"])
    peer = ec.generate_private_key(ec.SECP256R1())
    peer_der = peer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    out = kms.derive_shared_secret(KeyId=ecc_key["Arn"], KeyAgreementAlgorithm="ECDH", PublicKey=peer_der)
    check(out["SharedSecret"] == peer.exchange(ec.ECDH(), kms_public), "DeriveSharedSecret equals the peer's ECDH secret")
    other_curve = ec.generate_private_key(ec.SECP384R1()).public_key()
    other_der = other_curve.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    code = refused(
        lambda: kms.derive_shared_secret(KeyId=ecc_key["Arn"], KeyAgreementAlgorithm="ECDH", PublicKey=other_der),
        {"ValidationException"},
    )
    check(code is not None, f"a public key on another curve is refused ({code})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "launch.py"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if server.poll() is not None:
            raise SystemExit(f"launch.py exited early:\n{server.stdout.read()}")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise SystemExit("moto did not start within 30 s")
            time.sleep(0.2)
    return server, endpoint


def main():
    server = None
    if len(sys.argv) > 1:
        endpoint = f"http://127.0.0.1:{int(sys.argv[1])}"
    else:
        server, endpoint = start_server()
    print(f"moto check against {endpoint}", flush=True)
    try:
        run_checks(endpoint)
    except Exception as e:  # any unexpected error is a failed check
        check(False, f"unexpected {type(e).__name__}: {e}")
    finally:
        if server is not None:
            server.terminate()
            try:
                out, _ = server.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                out, _ = server.communicate()
            banner = [line for line in out.splitlines() if line.startswith("[moto]")]
            print("\n".join(banner), flush=True)
    if failures:
        print(f"moto check FAILED: {len(failures)} check(s) failed", flush=True)
        sys.exit(1)
    print(
        "moto check passed: multi-Region keys decrypt across regions; the encryption context is enforced; "
        "RSA keys and ECDH work",
        flush=True,
    )


if __name__ == "__main__":
    main()
