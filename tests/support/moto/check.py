"""Self-check of the patched moto: MRK replicas decrypt across regions and the
encryption context is enforced. Usage: python check.py PORT (moto running)."""

import sys

import boto3
from botocore.exceptions import ClientError

endpoint = f"http://127.0.0.1:{sys.argv[1]}"


def kms(region):
    return boto3.client(
        "kms",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


east = kms("us-east-1")
key = east.create_key(MultiRegion=True, Description="fieldseal check")["KeyMetadata"]
assert key["KeyId"].startswith("mrk-"), key["KeyId"]
for region in ["eu-west-1", "ap-southeast-2"]:
    east.replicate_key(KeyId=key["KeyId"], ReplicaRegion=region)
context = {"purpose": "check"}
blob = east.encrypt(KeyId=key["Arn"], Plaintext=b"secret", EncryptionContext=context)["CiphertextBlob"]
replica_arn = key["Arn"].replace("us-east-1", "eu-west-1")
out = kms("eu-west-1").decrypt(KeyId=replica_arn, CiphertextBlob=blob, EncryptionContext=context)
assert out["Plaintext"] == b"secret" and out["KeyId"] == replica_arn, out
try:
    kms("eu-west-1").decrypt(KeyId=replica_arn, CiphertextBlob=blob, EncryptionContext={"purpose": "other"})
    raise SystemExit("a wrong encryption context decrypted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidCiphertextException", e
print("moto check passed: MRK replica decrypts across regions; wrong context refused")
