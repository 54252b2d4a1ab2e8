// The AWS KMS ECDH keyring against the local KMS (moto through
// tools/moto/launch.py, whose patch gives it a real DeriveSharedSecret), with
// the real @aws-sdk/client-kms: KEY_AGREEMENT keys on each curve, sealed by
// the KMS key and opened by the raw keyring holding the other private key,
// and the other way (raw ephemeral sender -> KMS discovery). Skipped with a
// note when moto cannot start; fails instead when CI is set.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, describe, test } from "node:test";
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { FieldsealError, ItemEncryptor, RawEcdhKeyring } from "fieldseal";
import { AwsKmsEcdhKeyring } from "fieldseal/kms";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());
let moto;
let skip = false;
try {
  moto = await startMoto();
} catch (e) {
  if (inCI) throw e;
  skip = `moto could not start (${e.message.split("\n")[0]}); not skipped when CI is set`;
  console.warn(`# SKIP kms-ecdh-moto: ${skip}`);
}

const REGION = "us-east-1";
const clientProvider = (region) => new KMSClient({ region, endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
const CURVES = { ECC_NIST_P256: "P-256", ECC_NIST_P384: "P-384", ECC_NIST_P521: "P-521" };
const ITEM = { pk: { S: "order#1" }, card: { S: "4111 1111 1111 1111" } };

function encryptor(keyring, algorithmSuiteId) {
  return new ItemEncryptor({
    logicalTableName: "Orders",
    partitionKeyName: "pk",
    attributeActionsOnEncrypt: { pk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN" },
    algorithmSuiteId,
    keyring,
  });
}

describe("AwsKmsEcdhKeyring against moto", { skip }, () => {
  after(async () => {
    await moto?.stop();
  });

  for (const [curve, namedCurve] of Object.entries(CURVES)) {
    test(`${curve}: KMS sender <-> raw recipient, raw sender -> KMS discovery`, async () => {
      const kms = clientProvider(REGION);
      const created = await kms.send(new CreateKeyCommand({ KeySpec: curve, KeyUsage: "KEY_AGREEMENT" }));
      const keyArn = created.KeyMetadata.Arn;
      const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve });
      const recipientSpki = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
      const recipientPem = privateKey.export({ type: "pkcs8", format: "pem" });
      for (const suite of ["0x6700", "0x6701"]) {
        const sender = new AwsKmsEcdhKeyring({ curve, clientProvider, scheme: { kmsPrivateKeyToStaticPublicKey: { senderKmsIdentifier: keyArn, recipientPublicKey: recipientSpki } } });
        const sealed = await encryptor(sender, suite).encryptItem(ITEM);
        assert.deepEqual((await encryptor(sender, suite).decryptItem(sealed)).card, ITEM.card, "the KMS sender opens");
        const raw = new RawEcdhKeyring({ curve, scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: recipientPem } } });
        assert.deepEqual((await encryptor(raw, suite).decryptItem(sealed)).card, ITEM.card, "the raw recipient opens");

        const discovery = new AwsKmsEcdhKeyring({ curve, clientProvider, scheme: { kmsPublicKeyDiscovery: { recipientKmsIdentifier: keyArn } } });
        // Its public key, as KMS GetPublicKey gives it, is what a raw sender seals to.
        const kmsPublic = (await kms.send(new GetPublicKeyCommand({ KeyId: keyArn }))).PublicKey;
        const toKms = await encryptor(new RawEcdhKeyring({ curve, scheme: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: kmsPublic } } }), suite).encryptItem(ITEM);
        assert.deepEqual((await encryptor(discovery, suite).decryptItem(toKms)).card, ITEM.card, "KMS discovery opens");
      }
    });
  }

  test("a SIGN_VERIFY key is refused naming it", async () => {
    const kms = clientProvider(REGION);
    const created = await kms.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }));
    const keyArn = created.KeyMetadata.Arn;
    const discovery = new AwsKmsEcdhKeyring({ curve: "ECC_NIST_P256", clientProvider, scheme: { kmsPublicKeyDiscovery: { recipientKmsIdentifier: keyArn } } });
    await assert.rejects(encryptor(discovery, "0x6700").decryptItem({ ...ITEM }), (e) => {
      assert.ok(e instanceof FieldsealError, String(e));
      assert.equal(e.code, "INVALID_KEY", e.message);
      assert.ok(e.message.includes(keyArn) && e.message.includes("SIGN_VERIFY"), e.message);
      return true;
    });
  });
});
