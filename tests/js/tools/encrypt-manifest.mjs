// Seals an aws-dbesdk-encrypt manifest through the npm package, as an app
// would (platform crypto on: WebCrypto ECDSA, and AES-GCM/SHA-384 for large
// values), and writes the aws-dbesdk-decrypt manifest the official SDK opens
// (tests/interop: official_decrypt_manifest). It mirrors `fieldseal-vectors
// encrypt`, and adds cases with values past the platform-crypto crossover.
//
//   node tests/js/tools/encrypt-manifest.mjs ENCRYPT.json OUT.json
//
// Exits non-zero if a test does not behave as its type says.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

import { encryptorFor, itemFromJson, itemToJson, JsonNumber, loadKeys, parseJson } from "../helpers/manifest.mjs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: encrypt-manifest.mjs ENCRYPT.json OUT.json");
  process.exit(2);
}

const manifest = parseJson(readFileSync(input, "utf8"));
if (manifest.manifest?.type !== "aws-dbesdk-encrypt") throw new Error(`${input} is not an aws-dbesdk-encrypt manifest`);
const keys = loadKeys(input, manifest.keys);

/** Values past both crossovers (4 KiB browsers, 16 KiB Node), sealed under both suites. */
function largeTests() {
  const key = { type: "raw", "encryption-algorithm": "aes", "provider-id": "fieldseal-ns", key: "aes-256" };
  return Object.fromEntries(
    ["ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384", "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384"].map((suite, i) => [
      `npm-large-values-${i ? "0x6701" : "0x6700"}`,
      {
        type: "positive-encrypt",
        description: `npm package, ${i ? "0x6701" : "0x6700"}: a 200 KB encrypted value and a 40 KB signed one (WebCrypto AES-GCM and SHA-384)`,
        config: { key, algorithmSuiteId: suite, attributeActionsOnEncrypt: { RecNum: "SIGN_ONLY", Body: "ENCRYPT_AND_SIGN", Digest: "SIGN_ONLY", Note: "ENCRYPT_AND_SIGN" } },
        record: {
          RecNum: new JsonNumber(String(100 + i)),
          Body: { B: randomBytes(200_000).toString("base64") },
          Digest: { B: randomBytes(40_000).toString("base64") },
          Note: "small",
        },
      },
    ]),
  );
}


/** JSON with JsonNumbers written as their exact source text (38-digit numbers survive). */
function stringify(value) {
  const marker = "\u0000number:";
  const text = JSON.stringify(value, (_, v) => (v instanceof JsonNumber ? `${marker}${v.text}` : v), 2);
  return text.replace(/"\\u0000number:([^"]*)"/g, "$1");
}

const tests = {};
let failed = 0;
for (const [id, test] of Object.entries({ ...manifest.tests, ...largeTests() })) {
  const mustFail = test.type === "negative-encrypt";
  let sealed;
  let error;
  try {
    sealed = await encryptorFor(test.config, keys).encryptItem(itemFromJson(test.record));
  } catch (e) {
    error = e;
  }
  if (mustFail !== (error !== undefined)) {
    failed++;
    console.log(`FAIL  ${id}: ${mustFail ? "sealing succeeded but the test expects it to fail" : `${error?.code}: ${error?.message}`}`);
    continue;
  }
  console.log(`ok    ${id}: ${test.description ?? ""}`);
  if (mustFail) continue;
  tests[id] = {
    type: test.type === "negative-decrypt" ? "negative-decrypt" : "positive-decrypt",
    description: test.description ?? null,
    config: test.decryptConfig ?? test.config,
    plaintext: test.record,
    encrypted: itemToJson(sealed),
  };
}

// The keys, referred to from where the output is (as the official runner writes it).
const keysPath = manifest.keys.replace(/^file:\/\//, "");
const keysFromOutput = relative(dirname(resolve(output)), resolve(dirname(input), keysPath));
writeFileSync(output, `${stringify({ manifest: { type: "aws-dbesdk-decrypt", version: "1" }, client: { name: "fieldseal-npm", version: "0" }, keys: `file://${keysFromOutput}`, tests })}\n`);
console.log(`${Object.keys(tests).length} sealed, ${failed} failed; wrote ${output}`);
process.exit(failed ? 1 : 0);
