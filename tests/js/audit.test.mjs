// Audit events (issue 13): `onKeyUse` on the encryptor reports, per
// operation, the table, the item key and the keys used, never key bytes or
// plaintext. The hierarchical keyring's versions and cache hits are covered
// against moto in keystore.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MultiKeyring } from "fieldseal";
import { aesKeyring, encryptor, expectFieldsealError, sampleItem } from "./helpers/common.mjs";

test("onKeyUse reports each operation's keys, table and item key", async () => {
  const events = [];
  const enc = encryptor(new MultiKeyring({ generator: aesKeyring(7, "k1"), children: [aesKeyring(8, "k2")] }), "0x6700", {
    onKeyUse: (e) => events.push(e),
  });
  const sealed = await enc.encryptItem(sampleItem(3));
  await enc.decryptItem(sealed);
  assert.equal(events.length, 2);
  const [encrypted, decrypted] = events;
  assert.equal(encrypted.operation, "encrypt");
  assert.equal(decrypted.operation, "decrypt");
  for (const e of events) {
    assert.equal(e.table, "Orders");
    assert.deepEqual(Object.keys(e.itemKey).sort(), ["pk", "sk"]);
    assert.deepEqual(e.itemKey.pk, { S: "order#3" });
    const shown = JSON.stringify(e);
    assert.ok(!shown.includes("4111") && !shown.includes("example.com"), "no plaintext in events");
  }
  // Raw AES keys are named by their key name (their provider info also holds the IV).
  assert.deepEqual(encrypted.keys.map((k) => [k.keyProviderId, k.cacheHit, k.branchKeyVersion]), [
    ["app", false, undefined],
    ["app", false, undefined],
  ]);
  assert.deepEqual(encrypted.keys.map((k) => k.key), ["k1", "k2"]);
  assert.equal(decrypted.keys.length, 1);
  assert.equal(decrypted.keys[0].key, "k1");
});

test("a throwing onKeyUse does not fail the operation", async () => {
  let calls = 0;
  const enc = encryptor(aesKeyring(), "0x6700", {
    onKeyUse: () => {
      calls++;
      throw new Error("logger down");
    },
  });
  const sealed = await enc.encryptItem(sampleItem(1));
  assert.deepEqual((await enc.decryptItem(sealed)).pk, { S: "order#1" });
  assert.equal(calls, 2);
});

test("onKeyUse must be a function", async () => {
  await expectFieldsealError("INVALID_CONFIG", () => encryptor(aesKeyring(), "0x6700", { onKeyUse: "log" }));
});
