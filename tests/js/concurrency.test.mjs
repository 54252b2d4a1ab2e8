// Many operations in flight at once: all complete, none interfere.
// node --test runs each file in its own process, so the first test here sees
// the package before its WebAssembly module is loaded.
import assert from "node:assert/strict";
import { test } from "node:test";
import { aesKeyring, encryptor, sampleItem } from "./helpers/common.mjs";

// Count instantiations: the memoized loader must instantiate the module once
// however many first calls race for it.
let instantiations = 0;
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = function (...args) {
  // Node's own fetch (undici) instantiates its HTTP parser lazily: count only fieldseal's.
  if (/fieldseal_wasm\.js/.test(new Error().stack)) instantiations++;
  return instantiate.apply(this, args);
};

test("concurrent first calls, before the module is loaded, share one load and one build per encryptor", async () => {
  assert.equal(instantiations, 0, "nothing is loaded at import time");
  const encryptors = Array.from({ length: 20 }, (_, i) => encryptor(aesKeyring(i), i % 2 ? "0x6701" : "0x6700"));
  const results = await Promise.all(encryptors.flatMap((enc, i) => [enc.encryptItem(sampleItem(i)), enc.encryptItem(sampleItem(i + 100))]));
  assert.equal(instantiations, 1, "the module was instantiated once");
  const opened = await Promise.all(results.map((s, k) => encryptors[Math.floor(k / 2)].decryptItem(s)));
  opened.forEach((item, k) => assert.deepEqual(item, sampleItem(Math.floor(k / 2) + (k % 2 ? 100 : 0))));
  // One keyring shared by encryptors built concurrently.
  const shared = aesKeyring(42);
  const many = Array.from({ length: 10 }, () => encryptor(shared));
  const sealed = await Promise.all(many.map((enc, i) => enc.encryptItem(sampleItem(i))));
  assert.deepEqual(await Promise.all(sealed.map((s, i) => many[(i + 1) % 10].decryptItem(s))), sealed.map((_, i) => sampleItem(i)));
  assert.equal(instantiations, 1);
});

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

test("1,000 concurrent calls on an encryptor whose first call is among them", async () => {
  const enc = encryptor(aesKeyring(6), "0x6700");
  const sealed = await Promise.all(Array.from({ length: 1000 }, (_, i) => enc.encryptItem(sampleItem(i))));
  const opened = await enc.decryptItems(sealed);
  opened.forEach((item, i) => assert.deepEqual(item, sampleItem(i)));
});

test("an item changed after the call does not change what is sealed (the item is read when the call is made)", async () => {
  const enc = encryptor(aesKeyring(8));
  await enc.encryptItem(sampleItem()); // built
  const item = sampleItem(3);
  const pending = enc.encryptItem(item);
  item.card.S = "changed";
  item.meta.M.raw.B[0] = 99;
  delete item.email;
  assert.deepEqual(await enc.decryptItem(await pending), sampleItem(3));
});
