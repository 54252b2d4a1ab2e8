// maxEncryptedDataKeys: a header with planted wrapped keys is refused before
// any keyring runs, through the npm package (issue 11, defect 4).
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import { CustomKeyring, FieldsealError, MultiKeyring } from "fieldseal";
import { aesKeyring, encryptor, sampleItem } from "../helpers/common.mjs";

/** A custom keyring that "wraps" by XOR with a fixed pad and counts unwrap calls. */
function countingKeyring() {
  const pad = new Uint8Array(32).fill(0x5c);
  const xor = (bytes) => bytes.map((b, i) => b ^ pad[i % pad.length]);
  const calls = { unwrap: 0 };
  const keyring = new CustomKeyring({
    providerId: "counting",
    wrapKey: async ({ plaintextDataKey }) => ({ providerInfo: "pad-1", ciphertext: xor(plaintextDataKey) }),
    unwrapKey: async ({ ciphertext }) => {
      calls.unwrap++;
      return xor(ciphertext);
    },
  });
  return { keyring, calls };
}

/**
 * `sealed` with `count` copies of its first wrapped key in the header, each
 * with its last byte flipped so that none opens (every one costs an unwrap
 * attempt). Spec: structured-encryption/header.md (version, flavor, message
 * id, legend, context, EDK count and EDKs, commitment).
 */
function plantEdks(sealed, count) {
  const head = sealed.aws_dbe_head.B;
  const u16 = (at) => (head[at] << 8) | head[at + 1];
  let at = 2 + 32;
  at += 2 + u16(at); // legend
  const pairs = u16(at);
  at += 2;
  for (let i = 0; i < 2 * pairs; i++) at += 2 + u16(at); // context keys and values
  const edksAt = at;
  at += 1;
  for (let i = 0; i < 3; i++) at += 2 + u16(at); // provider id, provider info, ciphertext
  const edk = head.slice(edksAt + 1, at);
  edk[edk.length - 1] ^= 1;
  const planted = new Uint8Array(edksAt + 1 + count * edk.length + 32);
  planted.set(head.subarray(0, edksAt));
  planted[edksAt] = count;
  for (let i = 0; i < count; i++) planted.set(edk, edksAt + 1 + i * edk.length);
  // The commitment (last 32 bytes) is never reached: zeros will do.
  return { ...sealed, aws_dbe_head: { B: planted } };
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("the call succeeded");
}

test("a planted 255-EDK item is refused with LIMIT_EXCEEDED, no keyring call, in under 50 ms", async () => {
  const { keyring, calls } = countingKeyring();
  const enc = encryptor(keyring, "0x6701");
  const sealed = await enc.encryptItem(sampleItem());
  assert.deepEqual(await enc.decryptItem(sealed), sampleItem());
  assert.equal(calls.unwrap, 1);
  const planted = plantEdks(sealed, 255);

  // Warm-up: the module is loaded and the refusal path has run once.
  await rejection(enc.decryptItem(planted));
  calls.unwrap = 0;
  const start = performance.now();
  const error = await rejection(enc.decryptItem(planted));
  const elapsed = performance.now() - start;

  assert.ok(error instanceof FieldsealError, String(error));
  assert.equal(error.code, "LIMIT_EXCEEDED", error.message);
  assert.match(error.message, /255 encrypted data keys, more than maxEncryptedDataKeys \(10\)/);
  assert.equal(calls.unwrap, 0, "the keyring was called");
  assert.ok(elapsed < 50, `refusal took ${elapsed.toFixed(1)} ms`);

  // Control: with the limit at its maximum the same item costs 255 callback calls.
  const unlimited = encryptor(keyring, "0x6701", { maxEncryptedDataKeys: 255 });
  const failed = await rejection(unlimited.decryptItem(planted));
  assert.notEqual(failed.code, "LIMIT_EXCEEDED", failed.message);
  assert.equal(calls.unwrap, 255);
});

test("the limit is inclusive, and encrypt refuses a keyring that produces more", async () => {
  // A generator and one child: two wrapped keys.
  const two = () => new MultiKeyring({ generator: aesKeyring(7), children: [aesKeyring(8, "k2")] });
  const sealed = await encryptor(two(), "0x6700", { maxEncryptedDataKeys: 2 }).encryptItem(sampleItem());
  assert.deepEqual(await encryptor(two(), "0x6700", { maxEncryptedDataKeys: 2 }).decryptItem(sealed), sampleItem());
  const refused = await rejection(encryptor(two(), "0x6700", { maxEncryptedDataKeys: 1 }).decryptItem(sealed));
  assert.equal(refused.code, "LIMIT_EXCEEDED", refused.message);

  // The default (10) admits a generator and nine children, not ten.
  const many = (children) =>
    new MultiKeyring({ generator: aesKeyring(1), children: Array.from({ length: children }, (_, i) => aesKeyring(i + 2, `k${i + 2}`)) });
  const nine = await encryptor(many(9)).encryptItem(sampleItem());
  assert.deepEqual(await encryptor(many(9)).decryptItem(nine), sampleItem());
  const tooMany = await rejection(encryptor(many(10)).encryptItem(sampleItem()));
  assert.ok(tooMany instanceof FieldsealError);
  assert.equal(tooMany.code, "LIMIT_EXCEEDED", tooMany.message);
  assert.match(tooMany.message, /keyring produced 11 encrypted data keys/);
});

test("maxEncryptedDataKeys outside 1 to 255, or not an integer, is INVALID_CONFIG", async () => {
  for (const max of [0, -1, 256, 2 ** 40, 1.5, NaN, Infinity, "3", null, true]) {
    const error = await rejection(
      (async () => {
        const enc = encryptor(aesKeyring(), "0x6700", { maxEncryptedDataKeys: max });
        await enc.encryptItem(sampleItem());
      })(),
    );
    assert.ok(error instanceof FieldsealError, `${String(max)}: ${error}`);
    assert.equal(error.code, "INVALID_CONFIG", `${String(max)}: ${error.message}`);
    assert.match(error.message, /maxEncryptedDataKeys/);
  }
  for (const max of [1, 255]) {
    const enc = encryptor(aesKeyring(), "0x6700", { maxEncryptedDataKeys: max });
    assert.deepEqual(await enc.decryptItem(await enc.encryptItem(sampleItem())), sampleItem());
  }
});
