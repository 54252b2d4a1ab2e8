// The AWS KMS ECDH keyring through the npm package, with a fake
// clientProvider whose KMS really holds EC private keys: DeriveSharedSecret
// runs node:crypto's diffieHellman with the request's PublicKey (DER SPKI),
// GetPublicKey returns the DER SPKI. Round trips for both schemes, each
// curve and both suites; interchange with RawEcdhKeyring; call counts; errors.
// (Live moto and interop with the official SDK are later steps.)
import assert from "node:assert/strict";
import { createPublicKey, diffieHellman, generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import { FieldsealError, ItemEncryptor, RawEcdhKeyring } from "fieldseal";
import { AwsKmsEcdhKeyring } from "fieldseal/kms";

const CURVES = { ECC_NIST_P256: "P-256", ECC_NIST_P384: "P-384", ECC_NIST_P521: "P-521" };
const ITEM = { pk: { S: "order#1" }, card: { S: "4111 1111 1111 1111" } };
const arn = (id) => `arn:aws:kms:us-west-2:111122223333:key/${id}`;
const KEY_S = arn("aaaa1111-12ab-34cd-56ef-1234567890ab");
const KEY_R = arn("bbbb2222-12ab-34cd-56ef-1234567890ab");

function pair(namedCurve) {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve });
  return {
    publicKey,
    privateKey,
    spki: new Uint8Array(publicKey.export({ type: "spki", format: "der" })),
    pkcs8: privateKey.export({ type: "pkcs8", format: "pem" }),
  };
}

const kmsError = (name) => Object.assign(new Error(`fake KMS says ${name}`), { name });

/** KMS in memory: ARN -> key pair (KEY_AGREEMENT, `curve`). */
function fakeKms(curve) {
  const keys = new Map([
    [KEY_S, pair(CURVES[curve])],
    [KEY_R, pair(CURVES[curve])],
  ]);
  const calls = [];
  const state = { fault: undefined };
  const provider = (region) => ({
    async send(command) {
      const op = command.constructor.name.replace(/Command$/, "");
      const input = command.input;
      calls.push({ op, region, input });
      if (state.fault) throw kmsError(state.fault);
      const key = keys.get(input.KeyId);
      if (!key) throw kmsError("NotFoundException");
      if (op === "GetPublicKey") return { KeyId: input.KeyId, PublicKey: key.spki, KeyUsage: "KEY_AGREEMENT", KeySpec: curve };
      if (op !== "DeriveSharedSecret") throw kmsError("UnsupportedOperationException");
      if (input.KeyAgreementAlgorithm !== "ECDH") throw kmsError("ValidationException");
      let secret;
      try {
        const peer = createPublicKey({ key: Buffer.from(input.PublicKey), format: "der", type: "spki" });
        secret = diffieHellman({ privateKey: key.privateKey, publicKey: peer });
      } catch {
        throw kmsError("ValidationException");
      }
      return { KeyId: input.KeyId, SharedSecret: new Uint8Array(secret), KeyAgreementAlgorithm: "ECDH", KeyOrigin: "AWS_KMS" };
    },
  });
  const count = (op) => calls.filter((c) => c.op === op).length;
  return { keys, provider, calls, state, count };
}

function encryptor(keyring, algorithmSuiteId = "0x6700") {
  return new ItemEncryptor({
    logicalTableName: "Orders",
    partitionKeyName: "pk",
    attributeActionsOnEncrypt: { pk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN" },
    algorithmSuiteId,
    keyring,
  });
}

async function codeOf(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof FieldsealError, `a FieldsealError, got ${e}`);
    return [e.code, e.message];
  }
  assert.fail("expected a FieldsealError");
}

for (const curve of Object.keys(CURVES)) {
  test(`${curve}: both schemes round trip with both suites, and interchange with RawEcdhKeyring`, async () => {
    const kms = fakeKms(curve);
    const recipient = pair(CURVES[curve]);
    for (const suite of ["0x6700", "0x6701"]) {
      const sender = new AwsKmsEcdhKeyring({
        curve,
        clientProvider: kms.provider,
        grantTokens: ["g1"],
        scheme: { kmsPrivateKeyToStaticPublicKey: { senderKmsIdentifier: KEY_S, recipientPublicKey: recipient.spki } },
      });
      assert.equal(sender.canEncrypt, true);
      const before = kms.count("DeriveSharedSecret");
      const sealed = await encryptor(sender, suite).encryptItem(ITEM);
      assert.equal(kms.count("DeriveSharedSecret"), before + 1, "one DeriveSharedSecret per seal");
      const req = kms.calls.findLast((c) => c.op === "DeriveSharedSecret");
      assert.equal(req.input.KeyId, KEY_S);
      assert.equal(req.region, "us-west-2");
      assert.deepEqual(new Uint8Array(req.input.PublicKey), recipient.spki);
      assert.deepEqual(req.input.GrantTokens, ["g1"]);
      // The sender opens its own item: one more DeriveSharedSecret.
      assert.deepEqual((await encryptor(sender, suite).decryptItem(sealed)).card, ITEM.card);
      assert.equal(kms.count("DeriveSharedSecret"), before + 2);
      // The recipient opens with its private key, no KMS.
      const raw = new RawEcdhKeyring({ curve, scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: recipient.pkcs8 } } });
      assert.deepEqual((await encryptor(raw, suite).decryptItem(sealed)).card, ITEM.card);
      assert.equal(kms.count("DeriveSharedSecret"), before + 2);

      // The other way: a raw sender seals to KEY_R's public key, KMS discovery opens.
      const discovery = new AwsKmsEcdhKeyring({ curve, clientProvider: kms.provider, scheme: { kmsPublicKeyDiscovery: { recipientKmsIdentifier: KEY_R } } });
      assert.equal(discovery.canEncrypt, false);
      const toKms = await encryptor(
        new RawEcdhKeyring({ curve, scheme: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: kms.keys.get(KEY_R).spki } } }),
        suite,
      ).encryptItem(ITEM);
      assert.deepEqual((await encryptor(discovery, suite).decryptItem(toKms)).card, ITEM.card);
      assert.equal(kms.calls.findLast((c) => c.op === "GetPublicKey").input.KeyId, KEY_R);
    }
  });
}

test("discovery refuses to encrypt, naming its key", async () => {
  const kms = fakeKms("ECC_NIST_P256");
  const discovery = new AwsKmsEcdhKeyring({ curve: "ECC_NIST_P256", clientProvider: kms.provider, scheme: { kmsPublicKeyDiscovery: { recipientKmsIdentifier: KEY_R } } });
  const [code, message] = await codeOf(encryptor(discovery).encryptItem(ITEM));
  assert.equal(code, "INVALID_CONFIG");
  assert.ok(message.includes(KEY_R), message);
  assert.equal(kms.count("DeriveSharedSecret"), 0);
});

test("bad keys and KMS failures are typed and name the key", async () => {
  const kms = fakeKms("ECC_NIST_P256");
  const p384 = pair("P-384");
  // A recipient key of another curve: refused before any KMS call.
  let [code, message] = await codeOf(
    encryptor(
      new AwsKmsEcdhKeyring({ curve: "ECC_NIST_P256", clientProvider: kms.provider, scheme: { kmsPrivateKeyToStaticPublicKey: { senderKmsIdentifier: KEY_S, senderPublicKey: kms.keys.get(KEY_S).spki, recipientPublicKey: p384.spki } } }),
    ).encryptItem(ITEM),
  );
  assert.equal(code, "INVALID_KEY");
  assert.ok(message.includes(KEY_S), message);
  assert.equal(kms.calls.length, 0);
  // Not a key ARN.
  [code, message] = await codeOf(
    encryptor(new AwsKmsEcdhKeyring({ curve: "ECC_NIST_P256", clientProvider: kms.provider, scheme: { kmsPrivateKeyToStaticPublicKey: { senderKmsIdentifier: "alias/x", recipientPublicKey: p384.spki } } })).encryptItem(ITEM),
  );
  assert.equal(code, "INVALID_CONFIG");
  // DeriveSharedSecret denied.
  const recipient = pair("P-256");
  const sender = new AwsKmsEcdhKeyring({ curve: "ECC_NIST_P256", clientProvider: kms.provider, scheme: { kmsPrivateKeyToStaticPublicKey: { senderKmsIdentifier: KEY_S, recipientPublicKey: recipient.spki } } });
  const sealed = await encryptor(sender).encryptItem(ITEM);
  kms.state.fault = "AccessDeniedException";
  for (const p of [encryptor(sender).encryptItem(ITEM), encryptor(sender).decryptItem(sealed)]) {
    [code, message] = await codeOf(p);
    assert.equal(code, "KEY_PROVIDER_FAILURE");
    for (const needle of [KEY_S, "us-west-2", "AccessDeniedException"]) assert.ok(message.includes(needle), message);
  }
  kms.state.fault = undefined;
  assert.deepEqual((await encryptor(sender).decryptItem(sealed)).card, ITEM.card);
});
