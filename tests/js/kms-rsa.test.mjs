// The AWS KMS RSA keyring through the npm package, with a fake clientProvider
// whose KMS really holds the RSA private keys: Decrypt runs node:crypto's
// privateDecrypt with the requested EncryptionAlgorithm and fails as KMS does
// (InvalidCiphertextException); GetPublicKey returns the DER SPKI. Sealing
// uses only the PEM: the sealing keyrings have no clientProvider at all.
// (Live moto and interop with the official SDK come in later steps.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { constants, generateKeyPairSync, privateDecrypt } from "node:crypto";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { FieldsealError, MultiKeyring } from "fieldseal";
import { AwsKmsRsaKeyring, getPublicKeyPem } from "fieldseal/kms";
import { aesKeyring, encryptor, sampleItem } from "./helpers/common.mjs";

const ACCOUNT = "111122223333";
const arn = (id, region = "us-west-2") => `arn:aws:kms:${region}:${ACCOUNT}:key/${id}`;
const KEY_A = arn("aaaa1111-12ab-34cd-56ef-1234567890ab");
const KEY_B = arn("bbbb2222-12ab-34cd-56ef-1234567890ab");
const KEY_SIGN = arn("cccc3333-12ab-34cd-56ef-1234567890ab");

const rsa = (modulusLength) => generateKeyPairSync("rsa", { modulusLength });
const keyA = rsa(2048);
const keyB = rsa(3072);
const small = rsa(1024);
const pemOf = (pair) => pair.publicKey.export({ type: "spki", format: "pem" });

/** KMS in memory: key ARN -> { pair, usage }. */
const KEYS = new Map([
  [KEY_A, { pair: keyA, usage: "ENCRYPT_DECRYPT" }],
  [KEY_B, { pair: keyB, usage: "ENCRYPT_DECRYPT" }],
  [KEY_SIGN, { pair: keyA, usage: "SIGN_VERIFY" }],
]);

const kmsError = (name) => Object.assign(new Error(`fake KMS says ${name}`), { name });

/** A clientProvider (region) => { send } recording every command; `fault` makes the next sends fail with that error name. */
function fakeKms() {
  const calls = [];
  const state = { fault: undefined };
  const provider = (region) => ({
    async send(command) {
      const op = command.constructor.name.replace(/Command$/, "");
      const input = command.input;
      calls.push({ op, region, input });
      if (state.fault) throw kmsError(state.fault);
      const key = KEYS.get(input.KeyId);
      if (!key) throw kmsError("NotFoundException");
      if (op === "GetPublicKey") {
        return {
          KeyId: input.KeyId,
          PublicKey: new Uint8Array(key.pair.publicKey.export({ type: "spki", format: "der" })),
          KeyUsage: key.usage,
          KeySpec: `RSA_${key.pair.publicKey.asymmetricKeyDetails.modulusLength}`,
        };
      }
      if (op !== "Decrypt") throw kmsError("UnsupportedOperationException");
      const oaepHash = { RSAES_OAEP_SHA_256: "sha256", RSAES_OAEP_SHA_1: "sha1" }[input.EncryptionAlgorithm];
      if (!oaepHash || input.EncryptionContext !== undefined) throw kmsError("InvalidCiphertextException");
      let plaintext;
      try {
        plaintext = privateDecrypt({ key: key.pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, input.CiphertextBlob);
      } catch {
        throw kmsError("InvalidCiphertextException");
      }
      return { KeyId: input.KeyId, Plaintext: new Uint8Array(plaintext), EncryptionAlgorithm: input.EncryptionAlgorithm };
    },
  });
  return { provider, calls, state, take: () => calls.splice(0, calls.length) };
}

const sealer = (encryptionAlgorithm, kmsKeyId = KEY_A, pair = keyA) =>
  new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm, publicKeyPem: pemOf(pair) });
const opener = (encryptionAlgorithm, clientProvider, kmsKeyId = KEY_A) => new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm, clientProvider });

async function rejectsWith(promise, code, needles = []) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof FieldsealError, `not a FieldsealError: ${e}`);
    assert.equal(e.code, code, e.message);
    for (const needle of needles) assert.ok(e.message.includes(needle), `${needle} not in ${e.message}`);
    return true;
  });
}

for (const algorithm of ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"]) {
  test(`${algorithm}: sealed with only the PEM (no client at all), opened with one Decrypt per item`, async () => {
    const kms = fakeKms();
    const seal = sealer(algorithm);
    assert.equal(seal.canEncrypt, true);
    assert.equal(seal.canDecrypt, false);
    const sealed = [];
    for (let i = 1; i <= 3; i++) sealed.push(await encryptor(seal).encryptItem(sampleItem(i)));
    assert.deepEqual(kms.calls, [], "sealing called KMS");
    for (const item of sealed) assert.notDeepEqual(item.card, sampleItem(1).card);

    const open = encryptor(opener(algorithm, kms.provider));
    for (let i = 1; i <= 3; i++) assert.deepEqual(await open.decryptItem(sealed[i - 1]), sampleItem(i));
    const calls = kms.take();
    assert.equal(calls.length, 3);
    for (const { op, region, input } of calls) {
      assert.equal(op, "Decrypt");
      assert.equal(region, "us-west-2");
      assert.equal(input.KeyId, KEY_A);
      assert.equal(input.EncryptionAlgorithm, algorithm);
      assert.equal(input.EncryptionContext, undefined, "an asymmetric Decrypt takes no encryption context");
      assert.equal(input.CiphertextBlob.length, 256);
    }
  });
}

test("a keyring with both a PEM and a client seals without KMS and opens with it; grant tokens are passed", async () => {
  const kms = fakeKms();
  const both = new AwsKmsRsaKeyring({
    kmsKeyId: KEY_B,
    encryptionAlgorithm: "RSAES_OAEP_SHA_256",
    publicKeyPem: pemOf(keyB),
    clientProvider: kms.provider,
    grantTokens: ["grant-1"],
  });
  const enc = encryptor(both);
  const sealed = await enc.encryptItem(sampleItem(4));
  assert.deepEqual(kms.calls, []);
  assert.deepEqual(await enc.decryptItem(sealed), sampleItem(4));
  const [call] = kms.take();
  assert.deepEqual([call.op, call.input.KeyId, call.input.GrantTokens, call.input.CiphertextBlob.length], ["Decrypt", KEY_B, ["grant-1"], 384]);
});

test("EDKs of other keys are skipped without a call; a multi-keyring's RSA EDK opens with one call", async () => {
  const kms = fakeKms();
  const sealedForB = await encryptor(sealer("RSAES_OAEP_SHA_256", KEY_B, keyB)).encryptItem(sampleItem(5));
  await rejectsWith(encryptor(opener("RSAES_OAEP_SHA_256", kms.provider)).decryptItem(sealedForB), "NO_MATCHING_KEY", [KEY_A, KEY_B]);
  assert.deepEqual(kms.calls, []);

  const multi = new MultiKeyring({ generator: aesKeyring(), children: [sealer("RSAES_OAEP_SHA_256")] });
  const sealed = await encryptor(multi).encryptItem(sampleItem(6));
  assert.deepEqual(await encryptor(opener("RSAES_OAEP_SHA_256", kms.provider)).decryptItem(sealed), sampleItem(6));
  assert.deepEqual(kms.take().map((c) => c.op), ["Decrypt"]);
  assert.deepEqual(await encryptor(aesKeyring()).decryptItem(sealed), sampleItem(6));
});

test("getPublicKeyPem returns the key's SPKI PEM, which seals", async () => {
  const kms = fakeKms();
  const pem = await getPublicKeyPem({ kmsKeyId: KEY_A, clientProvider: kms.provider });
  assert.equal(pem, pemOf(keyA));
  assert.deepEqual(kms.take().map((c) => [c.op, c.region, c.input.KeyId]), [["GetPublicKey", "us-west-2", KEY_A]]);
  const sealed = await encryptor(new AwsKmsRsaKeyring({ kmsKeyId: KEY_A, encryptionAlgorithm: "RSAES_OAEP_SHA_1", publicKeyPem: pem })).encryptItem(sampleItem(7));
  assert.deepEqual(kms.calls, []);
  assert.deepEqual(await encryptor(opener("RSAES_OAEP_SHA_1", kms.provider)).decryptItem(sealed), sampleItem(7));

  await rejectsWith(getPublicKeyPem({ kmsKeyId: KEY_SIGN, clientProvider: kms.provider }), "INVALID_KEY", [KEY_SIGN, "SIGN_VERIFY"]);
  kms.state.fault = "AccessDeniedException";
  await rejectsWith(getPublicKeyPem({ kmsKeyId: KEY_A, clientProvider: kms.provider }), "KEY_PROVIDER_FAILURE", [KEY_A, "GetPublicKey", "AccessDeniedException"]);
  await rejectsWith(getPublicKeyPem({ kmsKeyId: "alias/orders", clientProvider: kms.provider }), "INVALID_CONFIG", ["ARN"]);
  await rejectsWith(getPublicKeyPem({ kmsKeyId: KEY_A }), "INVALID_CONFIG", ["clientProvider"]);
});

test("the signing suite 0x6701 is refused with INVALID_CONFIG naming the suite to use", async () => {
  const kms = fakeKms();
  const needles = ["0x6701", "0x6700", "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384", KEY_A];
  await rejectsWith(encryptor(sealer("RSAES_OAEP_SHA_256"), "0x6701").encryptItem(sampleItem(1)), "INVALID_CONFIG", needles);
  // An item sealed under 0x6701 by another keyring of a multi-keyring is refused on open too.
  const multi = new MultiKeyring({ generator: aesKeyring() });
  const signed = await encryptor(multi, "0x6701").encryptItem(sampleItem(1));
  await rejectsWith(encryptor(opener("RSAES_OAEP_SHA_256", kms.provider), "0x6701").decryptItem(signed), "INVALID_CONFIG", needles);
  assert.deepEqual(kms.calls, []);
});

test("bad configurations and keys fail with typed errors naming the key", async () => {
  const kms = fakeKms();
  // Loaded by now (earlier tests ran), so the core's rules throw from the constructor.
  const make = (o) => () => new AwsKmsRsaKeyring({ kmsKeyId: KEY_A, encryptionAlgorithm: "RSAES_OAEP_SHA_256", ...o });
  const throwsWith = (fn, code, needles) =>
    assert.throws(fn, (e) => e instanceof FieldsealError && e.code === code && needles.every((n) => e.message.includes(n)) || assert.fail(`${e.code}: ${e.message}`));
  throwsWith(make({ publicKeyPem: "not a pem" }), "INVALID_KEY", [KEY_A, "RSA"]);
  throwsWith(make({ publicKeyPem: generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }) }), "INVALID_KEY", [KEY_A]);
  throwsWith(make({ publicKeyPem: pemOf(small) }), "INVALID_KEY", [KEY_A, "1024 bits", "2048"]);
  throwsWith(make({ publicKeyPem: 42 }), "INVALID_KEY", ["publicKeyPem"]);
  throwsWith(make({ publicKeyPem: pemOf(keyA), encryptionAlgorithm: "RSAES_OAEP_SHA_512" }), "INVALID_CONFIG", ["RSAES_OAEP_SHA_256"]);
  throwsWith(make({ publicKeyPem: pemOf(keyA), kmsKeyId: `arn:aws:kms:us-west-2:${ACCOUNT}:alias/orders` }), "INVALID_CONFIG", ["alias"]);
  throwsWith(make({ publicKeyPem: pemOf(keyA), kmsKeyId: "aaaa1111-12ab-34cd-56ef-1234567890ab" }), "INVALID_CONFIG", ["ARN"]);
  throwsWith(make({}), "INVALID_CONFIG", [KEY_A, "public key", "client"]);
  throwsWith(make({ clientProvider: "nope" }), "INVALID_CONFIG", ["clientProvider"]);

  // No public key: cannot seal. No client: cannot open.
  await rejectsWith(encryptor(opener("RSAES_OAEP_SHA_256", kms.provider)).encryptItem(sampleItem(1)), "INVALID_CONFIG", [KEY_A, "no public key", "getPublicKeyPem"]);
  const sealed = await encryptor(sealer("RSAES_OAEP_SHA_256")).encryptItem(sampleItem(1));
  await rejectsWith(encryptor(sealer("RSAES_OAEP_SHA_256")).decryptItem(sealed), "NO_MATCHING_KEY", [KEY_A, "no KMS client"]);
  assert.deepEqual(kms.calls, []);
});

test("KMS failures: denied is KEY_PROVIDER_FAILURE naming ARN, region and error; the wrong algorithm is INTEGRITY_FAILURE", async () => {
  const kms = fakeKms();
  const sealed = await encryptor(sealer("RSAES_OAEP_SHA_256")).encryptItem(sampleItem(8));
  kms.state.fault = "AccessDeniedException";
  await rejectsWith(encryptor(opener("RSAES_OAEP_SHA_256", kms.provider)).decryptItem(sealed), "KEY_PROVIDER_FAILURE", [KEY_A, "us-west-2", "AccessDeniedException"]);
  kms.state.fault = undefined;
  await rejectsWith(encryptor(opener("RSAES_OAEP_SHA_1", kms.provider)).decryptItem(sealed), "INTEGRITY_FAILURE", [KEY_A, "InvalidCiphertextException", "RSAES_OAEP_SHA_1"]);
  assert.deepEqual(await encryptor(opener("RSAES_OAEP_SHA_256", kms.provider)).decryptItem(sealed), sampleItem(8));
});

test("sealing with only the PEM never loads @aws-sdk/client-kms (an optional peer dependency)", () => {
  // A child Node whose module resolution refuses the AWS SDK: fieldseal/kms
  // must load and seal without it, and only a KMS call may ask for it.
  const hooks = `export async function resolve(specifier, context, next) {
    if (specifier.startsWith("@aws-sdk/")) throw new Error("refused: " + specifier);
    return next(specifier, context);
  }`;
  const script = `
    import { register } from "node:module";
    register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hooks)}));
    const { ItemEncryptor } = await import("fieldseal");
    const { AwsKmsRsaKeyring } = await import("fieldseal/kms");
    const keyring = new AwsKmsRsaKeyring({ kmsKeyId: ${JSON.stringify(KEY_A)}, encryptionAlgorithm: "RSAES_OAEP_SHA_256", publicKeyPem: ${JSON.stringify(pemOf(keyA))} });
    const enc = new ItemEncryptor({ logicalTableName: "Orders", partitionKeyName: "pk", attributeActionsOnEncrypt: { pk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN" }, algorithmSuiteId: "0x6700", keyring });
    const sealed = await enc.encryptItem({ pk: { S: "order#1" }, card: { S: "4111" } });
    const opener = new AwsKmsRsaKeyring({ kmsKeyId: ${JSON.stringify(KEY_A)}, encryptionAlgorithm: "RSAES_OAEP_SHA_256", clientProvider: () => ({ send: async () => ({}) }) });
    const failure = await new ItemEncryptor({ logicalTableName: "Orders", partitionKeyName: "pk", attributeActionsOnEncrypt: { pk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN" }, algorithmSuiteId: "0x6700", keyring: opener }).decryptItem(sealed).catch((e) => e);
    console.log(JSON.stringify({ sealed: Object.keys(sealed).sort(), code: failure.code, message: failure.message }));
  `;
  const cwd = fileURLToPath(new URL(".", import.meta.url));
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd, encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout.trim().split("\n").pop());
  assert.ok(out.sealed.includes("aws_dbe_head") && out.sealed.includes("card"), child.stdout);
  // Opening needs a KMS call, and so the SDK: the refusal shows where it loads.
  assert.equal(out.code, "KEY_PROVIDER_FAILURE", out.message);
  assert.match(out.message, /@aws-sdk\/client-kms/);
});
