// Every official DB-ESDK decrypt manifest, through fieldseal's JS API.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { vectorsDir } from "./helpers/common.mjs";
import { runDecryptManifest } from "./helpers/manifest.mjs";

const present = existsSync(vectorsDir);
if (!present) {
  const bar = "!".repeat(72);
  console.error(`${bar}\n!! Official DB-ESDK test vectors not found at ${vectorsDir}\n!! Set FIELDSEAL_VECTORS or check out ../shared beside the repository.\n${bar}`);
}

test("official vectors are present", { skip: !present && !process.env.CI && "vectors folder missing (not CI)" }, () => {
  assert.ok(present, `official vectors missing at ${vectorsDir}`);
});

const manifests = present ? readdirSync(vectorsDir).filter((f) => /^decrypt_.*\.json$/.test(f)).sort() : [];

test("there are decrypt manifests to run", { skip: !present }, () => {
  assert.ok(manifests.length >= 4, `expected the four decrypt manifests, found ${manifests.join(", ")}`);
});

for (const file of manifests) {
  test(`official manifest ${file} through the JS API`, async () => {
    const results = await runDecryptManifest(join(vectorsDir, file));
    for (const r of results) console.log(`${r.ok ? "PASS" : "FAIL"} ${r.id} ${r.description}${r.ok ? "" : `: ${r.why}`}`);
    const failed = results.filter((r) => !r.ok);
    console.log(`${file}: ${results.length - failed.length} passed, ${failed.length} failed`);
    assert.ok(results.length > 0, "the manifest has tests");
    assert.deepEqual(failed.map((r) => `${r.id}: ${r.why}`), []);
  });
}
