// A strict TypeScript consumer of fieldseal/kms's KMS RSA keyring: a program of
// its own (tsc -p tests/types/kms), since fieldseal/kms's types pull in
// @aws-sdk/client-kms's and tests/types/consumer.ts must compile without them.
// Lines marked @ts-expect-error must NOT compile.
import { ItemEncryptor, type Keyring } from "fieldseal";
import { AwsKmsRsaKeyring, getPublicKeyPem, type KmsClientProvider } from "fieldseal/kms";
import { KMSClient } from "@aws-sdk/client-kms";

const kmsKeyId = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const clientProvider: KmsClientProvider = (region) => new KMSClient({ region });

// The server (or a build step) fetches the PEM, once.
const pem: Promise<string> = getPublicKeyPem({ kmsKeyId, clientProvider });

// The page: ARN and PEM only, no client.
async function page(publicKeyPem: string) {
  const sealer: Keyring = new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm: "RSAES_OAEP_SHA_256", publicKeyPem });
  const encryptor = new ItemEncryptor({
    logicalTableName: "Orders",
    partitionKeyName: "pk",
    attributeActionsOnEncrypt: { pk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN" },
    algorithmSuiteId: "0x6700",
    keyring: sealer,
  });
  return encryptor.encryptItem({ pk: { S: "order#1" }, card: { S: "4111" } });
}
void pem.then(page);

// The server: a client provider, no PEM needed to open.
const opener: Keyring = new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm: "RSAES_OAEP_SHA_1", clientProvider, grantTokens: ["t"] });
void opener;

// @ts-expect-error encryptionAlgorithm is required
new AwsKmsRsaKeyring({ kmsKeyId, publicKeyPem: "..." });
// @ts-expect-error not a KMS RSA encryption algorithm
new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm: "RSAES_PKCS1_V1_5", publicKeyPem: "..." });
// @ts-expect-error getPublicKeyPem needs a client provider
void getPublicKeyPem({ kmsKeyId });
