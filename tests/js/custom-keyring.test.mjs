// Custom keyrings: JS code wraps the key; misbehaving code fails cleanly.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { test } from "node:test";
import { CustomKeyring, FieldsealError, MultiKeyring } from "fieldseal";
import { aesKeyring, encryptor, sampleItem } from "./helpers/common.mjs";

const { subtle } = webcrypto;

/** A realistic provider: AES-GCM under a WebCrypto key, the context bound as AAD. */
async function webCryptoKeyring(providerId = "my-hsm") {
  const key = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const aad = (ec) => new TextEncoder().encode(JSON.stringify(Object.entries(ec).sort()));
  const calls = { wrap: 0, unwrap: 0 };
  const keyring = new CustomKeyring({
    providerId,
    wrapKey: async ({ plaintextDataKey, encryptionContext }) => {
      calls.wrap++;
      const iv = webcrypto.getRandomValues(new Uint8Array(12));
      const sealed = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad(encryptionContext) }, key, plaintextDataKey));
      return { providerInfo: "hsm-key-1", ciphertext: new Uint8Array([...iv, ...sealed]) };
    },
    unwrapKey: async ({ providerInfo, ciphertext, encryptionContext }) => {
      calls.unwrap++;
      if (new TextDecoder().decode(providerInfo) !== "hsm-key-1") return null;
      const plain = await subtle.decrypt({ name: "AES-GCM", iv: ciphertext.slice(0, 12), additionalData: aad(encryptionContext) }, key, ciphertext.slice(12));
      return new Uint8Array(plain);
    },
  });
  return { keyring, calls };
}

for (const suite of ["0x6700", "0x6701"]) {
  test(`a WebCrypto-backed custom keyring round trips (${suite})`, async () => {
    const { keyring, calls } = await webCryptoKeyring();
    const enc = encryptor(keyring, suite);
    const sealed = await enc.encryptItem(sampleItem());
    assert.deepEqual(await enc.decryptItem(sealed), sampleItem());
    assert.deepEqual(calls, { wrap: 1, unwrap: 1 });
  });
}

test("a multi-keyring of custom + raw AES opens with either", async () => {
  const { keyring: custom } = await webCryptoKeyring();
  const aes = aesKeyring(9);
  const sealed = await encryptor(new MultiKeyring({ generator: aes, children: [custom] })).encryptItem(sampleItem());
  assert.deepEqual(await encryptor(aes).decryptItem(sealed), sampleItem());
  assert.deepEqual(await encryptor(custom).decryptItem(sealed), sampleItem());
});

const passthroughUnwrap = async ({ ciphertext }) => ciphertext.slice();

test("wrapKey misbehaving gives KEY_PROVIDER_FAILURE, never a hang or panic", async () => {
  for (const [wrapKey, said] of [
    [() => { throw new Error("hsm offline"); }, /wrapKey threw: hsm offline/],
    [async () => { throw new TypeError("denied"); }, /wrapKey rejected: denied/],
    [async () => { throw "a string"; }, /rejected: a string/],
    [({ plaintextDataKey }) => ({ ciphertext: plaintextDataKey.slice() }), /must return a Promise/],
    [async () => undefined, /resolved to undefined/],
    [async () => ({ ciphertext: [1, 2, 3] }), /Uint8Array ciphertext/],
    [async () => ({ ciphertext: new Uint8Array(0) }), /empty ciphertext/],
    [async () => ({ ciphertext: new Uint8Array(8), providerInfo: 42 }), /providerInfo/],
  ]) {
    const enc = encryptor(new CustomKeyring({ providerId: "bad", wrapKey, unwrapKey: passthroughUnwrap }));
    await assert.rejects(enc.encryptItem(sampleItem()), (e) => e instanceof FieldsealError && e.code === "KEY_PROVIDER_FAILURE" && said.test(e.message) && e.message.includes('"bad"'), String(wrapKey));
  }
});

test("unwrapKey misbehaving or declining gives a clear error", async () => {
  const good = new CustomKeyring({ providerId: "p", wrapKey: async ({ plaintextDataKey }) => ({ ciphertext: plaintextDataKey.slice() }), unwrapKey: passthroughUnwrap });
  const sealed = await encryptor(good).encryptItem(sampleItem());
  assert.deepEqual(await encryptor(good).decryptItem(sealed), sampleItem());
  for (const [unwrapKey, code] of [
    [async () => null, "NO_MATCHING_KEY"],
    [async () => new Uint8Array(32), "NO_MATCHING_KEY"],
    [async () => new Uint8Array(31), "KEY_PROVIDER_FAILURE"],
    [async () => "key", "KEY_PROVIDER_FAILURE"],
    [() => new Uint8Array(32), "KEY_PROVIDER_FAILURE"],
    [async () => { throw new Error("boom"); }, "KEY_PROVIDER_FAILURE"],
  ]) {
    const enc = encryptor(new CustomKeyring({ providerId: "p", wrapKey: async () => ({ ciphertext: new Uint8Array(1) }), unwrapKey }));
    await assert.rejects(enc.decryptItem(sealed), (e) => e instanceof FieldsealError && e.code === code, String(unwrapKey));
  }
  const other = new CustomKeyring({ providerId: "someone-else", wrapKey: async () => ({ ciphertext: new Uint8Array(1) }), unwrapKey: passthroughUnwrap });
  await assert.rejects(encryptor(other).decryptItem(sealed), (e) => e.code === "NO_MATCHING_KEY" && /providers seen: \[p\]/.test(e.message));
});

test("the key lent to wrapKey is wiped after the call", async () => {
  let lent;
  const keyring = new CustomKeyring({
    providerId: "p",
    wrapKey: async ({ plaintextDataKey }) => { lent = plaintextDataKey; return { ciphertext: plaintextDataKey.slice() }; },
    unwrapKey: passthroughUnwrap,
  });
  await encryptor(keyring).encryptItem(sampleItem());
  assert.equal(lent.length, 32);
  assert.ok(lent.every((b) => b === 0));
});

test("constructor checks", () => {
  assert.throws(() => new CustomKeyring({ providerId: "", wrapKey: async () => ({}), unwrapKey: async () => null }), (e) => e.code === "INVALID_CONFIG");
  assert.throws(() => new CustomKeyring({ providerId: "p", wrapKey: 1, unwrapKey: async () => null }), (e) => e.code === "INVALID_CONFIG");
});

test("a provider that never answers times out instead of hanging", async () => {
  const never = () => new Promise(() => {});
  const enc = encryptor(new CustomKeyring({ providerId: "slow", wrapKey: never, unwrapKey: never, timeoutMs: 50 }));
  await assert.rejects(enc.encryptItem(sampleItem()), (e) => e.code === "KEY_PROVIDER_FAILURE" && /did not settle within 50 ms/.test(e.message));
  assert.throws(() => new CustomKeyring({ providerId: "p", wrapKey: never, unwrapKey: never, timeoutMs: -1 }), (e) => e.code === "INVALID_CONFIG");
});
