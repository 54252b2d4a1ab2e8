// Long loops must not grow wasm memory past its warm-up size, and dropped
// objects must release theirs. Prints the numbers.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { wasmMemoryBytes } from "fieldseal";
import { aesKeyring, encryptor, sampleItem } from "./helpers/common.mjs";

const ITEMS = Number(process.env.FIELDSEAL_MEMORY_ITEMS ?? 100_000);

test(`encrypting and decrypting ${ITEMS.toLocaleString("en")} items does not grow wasm memory`, async () => {
  const enc = encryptor(aesKeyring(1), "0x6700");
  const item = sampleItem(7);
  for (let i = 0; i < 1000; i++) await enc.decryptItem(await enc.encryptItem(item));
  const warm = await wasmMemoryBytes();
  const started = performance.now();
  for (let i = 0; i < ITEMS; i++) {
    const opened = await enc.decryptItem(await enc.encryptItem(item));
    if (i % 10_000 === 0) assert.deepEqual(opened, item);
  }
  const seconds = (performance.now() - started) / 1000;
  const final = await wasmMemoryBytes();
  console.log(`wasm memory: ${warm} bytes after warm-up, ${final} bytes after ${ITEMS} round trips (${(ITEMS / seconds).toFixed(0)} round trips/s)`);
  assert.equal(final, warm, "wasm memory grew during the loop");
});

test("dropped encryptors and keyrings are freed (FinalizationRegistry), and free() releases at once", () => {
  // A child process with --expose-gc, so collection can be forced.
  const script = `
    import { wasmMemoryBytes, ItemEncryptor, RawAesKeyring } from "fieldseal";
    const make = (i) => new ItemEncryptor({ logicalTableName: "t" + i, partitionKeyName: "pk",
      attributeActionsOnEncrypt: { pk: "SIGN_ONLY", a: "ENCRYPT_AND_SIGN", b: "ENCRYPT_AND_SIGN" }, algorithmSuiteId: "0x6700",
      keyring: new RawAesKeyring({ keyNamespace: "n", keyName: "k" + i, wrappingKey: new Uint8Array(32).fill(i & 255) }) });
    const round = async (explicit) => {
      for (let i = 0; i < 2000; i++) {
        const e = make(i);
        await e.decryptItem(await e.encryptItem({ pk: { S: "p" + i }, a: { S: "x".repeat(200) }, b: { N: String(i) } }));
        if (explicit) { e.free(); e.config.keyring.free(); }
      }
      for (let k = 0; k < 5; k++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      return wasmMemoryBytes();
    };
    const first = await round(false);
    const sizes = [first];
    for (let r = 0; r < 4; r++) sizes.push(await round(r % 2 === 0));
    console.log(JSON.stringify(sizes));`;
  const out = execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { encoding: "utf8", cwd: import.meta.dirname });
  const sizes = JSON.parse(out.trim().split("\n").pop());
  console.log(`wasm memory after each round of 2,000 encryptors + keyrings: ${sizes.join(", ")} bytes`);
  assert.ok(sizes.every((s) => s === sizes[0]), `memory grew across rounds: ${sizes}`);
});
