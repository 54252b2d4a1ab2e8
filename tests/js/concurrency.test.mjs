// Many operations in flight at once: all complete, none interfere.
import assert from "node:assert/strict";
import { test } from "node:test";
import { aesKeyring, encryptor, sampleItem } from "./helpers/common.mjs";

test("1,000 concurrent encryptItem calls, then 1,000 concurrent decrypts", async () => {
  const enc = encryptor(aesKeyring(5), "0x6700");
  const started = performance.now();
  const sealed = await Promise.all(Array.from({ length: 1000 }, (_, i) => enc.encryptItem(sampleItem(i))));
  const opened = await Promise.all(sealed.map((s) => enc.decryptItem(s)));
  const seconds = (performance.now() - started) / 1000;
  assert.equal(opened.length, 1000);
  opened.forEach((item, i) => assert.deepEqual(item, sampleItem(i)));
  const heads = new Set(sealed.map((s) => Buffer.from(s.aws_dbe_head.B).toString("hex")));
  assert.equal(heads.size, 1000, "every item has its own header (message id, data key)");
  console.log(`2,000 concurrent operations in ${seconds.toFixed(2)} s`);
});

test("concurrent first calls share one wasm load and one encryptor build", async () => {
  const encryptors = Array.from({ length: 20 }, (_, i) => encryptor(aesKeyring(i), i % 2 ? "0x6701" : "0x6700"));
  const results = await Promise.all(encryptors.flatMap((enc, i) => [enc.encryptItem(sampleItem(i)), enc.encryptItem(sampleItem(i + 100))]));
  const opened = await Promise.all(results.map((s, k) => encryptors[Math.floor(k / 2)].decryptItem(s)));
  opened.forEach((item, k) => assert.deepEqual(item, sampleItem(Math.floor(k / 2) + (k % 2 ? 100 : 0))));
});
