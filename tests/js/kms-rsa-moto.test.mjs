// The AWS KMS RSA keyring through the npm package against a live local KMS
// (patched moto, tools/moto/launch.py: real RSAES-OAEP Decrypt and GetPublicKey
// for RSA ENCRYPT_DECRYPT keys). The key pairs live only in moto: the test
// never sees a private key, so an item opens only if KMS really decrypted it.
//
// Sealing keyrings hold ONLY the PEM fetched by getPublicKeyPem (no
// clientProvider at all, so they have nothing to call KMS with); the counting
// clientProviders of the fetching and the opening side stay at zero calls
// while items are sealed, and the opening side makes exactly one Decrypt per item.
//
// moto does not enforce key policies, and its patched RSA Decrypt does not
// check key state (NOTES-17-moto.md), so "denied" / "disabled" cannot be
// produced here (kms-rsa.test.mjs covers them with an injected client); the
// failure paths here are the wrong algorithm, another key's PEM and a key ARN
// that does not exist.
//
// Skipped with a note when moto cannot start, unless CI is set: then it fails.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { FieldsealError } from "fieldseal";
import { AwsKmsRsaKeyring, getPublicKeyPem } from "fieldseal/kms";
import { encryptor, sampleItem } from "./helpers/common.mjs";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());

// Started here, not in before(): a moto that cannot start skips the suite (loudly) outside CI.
let moto;
let skip = false;
try {
  moto = await startMoto();
} catch (e) {
  if (inCI) throw e;
  skip = `moto could not start (${e.message.split("\n")[0]}); not skipped when CI is set`;
  console.warn(`# SKIP kms-rsa-moto: ${skip}`);
}

after(async () => {
  await moto?.stop();
});

const REGION = "us-east-1";
const ALGORITHMS = ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"];
const MODULUS_BYTES = { RSA_2048: 256, RSA_4096: 512 };

/** A clientProvider whose clients count every command as "Op region KeyId EncryptionAlgorithm". */
function countingProvider() {
  const calls = [];
  const provider = (region) => {
    const client = new KMSClient({ region, endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    const send = client.send.bind(client);
    client.send = (command, ...rest) => {
      const { KeyId, EncryptionAlgorithm, EncryptionContext, CiphertextBlob } = command.input;
      calls.push({ op: command.constructor.name.replace(/Command$/, ""), region, KeyId, EncryptionAlgorithm, EncryptionContext, blobLength: CiphertextBlob?.length });
      return send(command, ...rest);
    };
    return client;
  };
  return { provider, calls, take: () => calls.splice(0, calls.length) };
}

async function createRsaKey(keySpec) {
  const kms = new KMSClient({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS });
  const created = await kms.send(new CreateKeyCommand({ KeySpec: keySpec, KeyUsage: "ENCRYPT_DECRYPT", Description: `fieldseal ${keySpec}` }));
  return created.KeyMetadata.Arn;
}

async function rejectsWith(promise, code, needles = []) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof FieldsealError, `not a FieldsealError: ${e}`);
    assert.equal(e.code, code, e.message);
    for (const needle of needles) assert.ok(e.message.includes(needle), `${needle} not in ${e.message}`);
    return true;
  });
}

describe("AWS KMS RSA keyring against moto", { skip }, () => {
  for (const keySpec of ["RSA_2048", "RSA_4096"]) {
    for (const algorithm of ALGORITHMS) {
      test(`${keySpec} ${algorithm}: getPublicKeyPem, seal with only the PEM (0 calls), open with one Decrypt per item`, async () => {
        const arn = await createRsaKey(keySpec);
        const fetcher = countingProvider();
        const pem = await getPublicKeyPem({ kmsKeyId: arn, clientProvider: fetcher.provider });
        assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/);
        assert.deepEqual(fetcher.take().map((c) => [c.op, c.region, c.KeyId]), [["GetPublicKey", REGION, arn]]);

        const opening = countingProvider();
        const seal = new AwsKmsRsaKeyring({ kmsKeyId: arn, encryptionAlgorithm: algorithm, publicKeyPem: pem });
        assert.equal(seal.canEncrypt, true);
        assert.equal(seal.canDecrypt, false);
        const sealed = [];
        for (let i = 1; i <= 3; i++) sealed.push(await encryptor(seal, "0x6700").encryptItem(sampleItem(i)));
        assert.deepEqual(opening.calls, [], "sealing made a KMS call");
        assert.deepEqual(fetcher.calls, [], "sealing made a KMS call");
        for (const item of sealed) assert.notDeepEqual(item.card, sampleItem(1).card, "card was not encrypted");

        const open = encryptor(new AwsKmsRsaKeyring({ kmsKeyId: arn, encryptionAlgorithm: algorithm, clientProvider: opening.provider }), "0x6700");
        for (let i = 1; i <= 3; i++) assert.deepEqual(await open.decryptItem(sealed[i - 1]), sampleItem(i));
        const calls = opening.take();
        assert.equal(calls.length, 3, `expected one Decrypt per item, got ${JSON.stringify(calls)}`);
        for (const call of calls) {
          assert.deepEqual(
            [call.op, call.region, call.KeyId, call.EncryptionAlgorithm, call.EncryptionContext, call.blobLength],
            ["Decrypt", REGION, arn, algorithm, undefined, MODULUS_BYTES[keySpec]],
          );
        }
      });
    }
  }

  test("the wrong encryption algorithm on open is INTEGRITY_FAILURE (moto's RSA Decrypt fails); the right one then opens", async () => {
    const arn = await createRsaKey("RSA_2048");
    const { provider, take } = countingProvider();
    const pem = await getPublicKeyPem({ kmsKeyId: arn, clientProvider: provider });
    take();
    const sealed = await encryptor(new AwsKmsRsaKeyring({ kmsKeyId: arn, encryptionAlgorithm: "RSAES_OAEP_SHA_256", publicKeyPem: pem })).encryptItem(sampleItem(4));
    const wrong = encryptor(new AwsKmsRsaKeyring({ kmsKeyId: arn, encryptionAlgorithm: "RSAES_OAEP_SHA_1", clientProvider: provider }));
    await rejectsWith(wrong.decryptItem(sealed), "INTEGRITY_FAILURE", [arn, "InvalidCiphertextException", "RSAES_OAEP_SHA_1"]);
    assert.deepEqual(take().map((c) => [c.op, c.EncryptionAlgorithm]), [["Decrypt", "RSAES_OAEP_SHA_1"]]);
    const right = encryptor(new AwsKmsRsaKeyring({ kmsKeyId: arn, encryptionAlgorithm: "RSAES_OAEP_SHA_256", clientProvider: provider }));
    assert.deepEqual(await right.decryptItem(sealed), sampleItem(4));
  });

  test("an item sealed under another key's PEM does not open (INTEGRITY_FAILURE from KMS)", async () => {
    const [a, b] = [await createRsaKey("RSA_2048"), await createRsaKey("RSA_2048")];
    const { provider } = countingProvider();
    // Key b's public key under key a's ARN: KMS holds a's private key, so its RSA Decrypt fails.
    const pemB = await getPublicKeyPem({ kmsKeyId: b, clientProvider: provider });
    const sealed = await encryptor(new AwsKmsRsaKeyring({ kmsKeyId: a, encryptionAlgorithm: "RSAES_OAEP_SHA_256", publicKeyPem: pemB })).encryptItem(sampleItem(5));
    const open = encryptor(new AwsKmsRsaKeyring({ kmsKeyId: a, encryptionAlgorithm: "RSAES_OAEP_SHA_256", clientProvider: provider }));
    await rejectsWith(open.decryptItem(sealed), "INTEGRITY_FAILURE", [a, "InvalidCiphertextException"]);
  });

  test("a key ARN that does not exist in KMS is KEY_PROVIDER_FAILURE naming it", async () => {
    const real = await createRsaKey("RSA_2048");
    const { provider, take } = countingProvider();
    const pem = await getPublicKeyPem({ kmsKeyId: real, clientProvider: provider });
    take();
    const missing = real.replace(/key\/.*$/, "key/0000dead-0000-4000-8000-00000000beef");
    const sealed = await encryptor(new AwsKmsRsaKeyring({ kmsKeyId: missing, encryptionAlgorithm: "RSAES_OAEP_SHA_256", publicKeyPem: pem })).encryptItem(sampleItem(6));
    assert.deepEqual(take(), []);
    const open = encryptor(new AwsKmsRsaKeyring({ kmsKeyId: missing, encryptionAlgorithm: "RSAES_OAEP_SHA_256", clientProvider: provider }));
    await rejectsWith(open.decryptItem(sealed), "KEY_PROVIDER_FAILURE", [missing, REGION, "NotFoundException"]);
    assert.deepEqual(take().map((c) => [c.op, c.KeyId]), [["Decrypt", missing]]);
    await rejectsWith(getPublicKeyPem({ kmsKeyId: missing, clientProvider: provider }), "KEY_PROVIDER_FAILURE", [missing, "GetPublicKey", "NotFoundException"]);
  });

  test("0x6701 is refused with INVALID_CONFIG, without a KMS call", async () => {
    const arn = await createRsaKey("RSA_2048");
    const { provider, take } = countingProvider();
    const pem = await getPublicKeyPem({ kmsKeyId: arn, clientProvider: provider });
    take();
    const both = new AwsKmsRsaKeyring({ kmsKeyId: arn, encryptionAlgorithm: "RSAES_OAEP_SHA_256", publicKeyPem: pem, clientProvider: provider });
    await rejectsWith(encryptor(both, "0x6701").encryptItem(sampleItem(8)), "INVALID_CONFIG", ["0x6701", "0x6700", arn]);
    assert.deepEqual(take(), []);
  });
});
