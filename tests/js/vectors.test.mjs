// Every official DB-ESDK decrypt manifest, through fieldseal's JS API.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { vectorsDir } from "./helpers/common.mjs";
import { runDecryptManifest } from "./helpers/manifest.mjs";

const present = existsSync(vectorsDir);
// CI=0 or CI=false means not CI (as in cross-runtime.test.mjs).
const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());
if (!present) {
  const bar = "!".repeat(72);
  console.error(`${bar}\n!! Official DB-ESDK test vectors not found at ${vectorsDir}\n!! Set FIELDSEAL_VECTORS or check out ../shared beside the repository.\n${bar}`);
}

test("official vectors are present", { skip: !present && !inCI && `vectors folder missing at ${vectorsDir} (set FIELDSEAL_VECTORS; not skipped when CI is set)` }, () => {
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

// The runner itself must be able to fail: a manifest whose expected plaintext
// was changed, and a negative test turned positive, are reported as failures.
test("the runner reports a wrong plaintext and an unexpected failure", { skip: manifests.length === 0 && "no manifests" }, async () => {
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const source = join(vectorsDir, manifests[0]);
  const manifest = JSON.parse(readFileSync(source, "utf8"));
  const ids = Object.keys(manifest.tests);
  const positive = ids.find((id) => manifest.tests[id].type === "positive-decrypt");
  const negative = ids.find((id) => manifest.tests[id].type === "negative-decrypt");
  const [name] = Object.keys(manifest.tests[positive].plaintext).filter((k) => typeof manifest.tests[positive].plaintext[k] === "string");
  manifest.tests[positive].plaintext[name] += "x";
  if (negative) manifest.tests[negative].type = "positive-decrypt";
  manifest.keys = "file://" + join(vectorsDir, "keys.json");
  const dir = mkdtempSync(join(tmpdir(), "fieldseal-manifest-"));
  try {
    writeFileSync(join(dir, "decrypt_altered.json"), JSON.stringify(manifest));
    const results = await runDecryptManifest(join(dir, "decrypt_altered.json"));
    const failed = results.filter((r) => !r.ok).map((r) => r.id).sort();
    assert.deepEqual(failed, [positive, negative].filter(Boolean).sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
