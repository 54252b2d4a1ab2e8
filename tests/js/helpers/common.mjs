// Shared by the Node tests: paths, keys and a reference config.
import { existsSync } from "node:fs";
import { cp, readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { FieldsealError, RawAesKeyring, ItemEncryptor } from "fieldseal";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const vectorsDir = process.env.FIELDSEAL_VECTORS ?? join(repoRoot, "../shared/vectors/dbesdk");

export function aesKeyring(fill = 7, name = "k1") {
  return new RawAesKeyring({ keyNamespace: "app", keyName: name, wrappingKey: new Uint8Array(32).fill(fill) });
}

export const ACTIONS = {
  pk: "SIGN_ONLY",
  sk: "SIGN_ONLY",
  card: "ENCRYPT_AND_SIGN",
  email: "ENCRYPT_AND_SIGN",
  meta: "ENCRYPT_AND_SIGN",
  amount: "SIGN_ONLY",
};

export function encryptor(keyring = aesKeyring(), suite = "0x6700", extra = {}) {
  return new ItemEncryptor({
    logicalTableName: "Orders",
    partitionKeyName: "pk",
    sortKeyName: "sk",
    attributeActionsOnEncrypt: ACTIONS,
    allowedUnsignedAttributePrefix: ":",
    algorithmSuiteId: suite,
    keyring,
    ...extra,
  });
}

export function sampleItem(i = 1) {
  return {
    pk: { S: `order#${i}` },
    sk: { N: String(i) },
    card: { S: "4111 1111 1111 1111" },
    email: { S: `ünïcødé-${i}@example.com 😀` },
    meta: { M: { tags: { SS: ["a", "b"] }, n: { NS: ["1", "2.5"] }, raw: { B: new Uint8Array([0, 1, 2]) }, l: { L: [{ BOOL: true }, { NULL: true }] } } },
    amount: { N: "12.5" },
  };
}

/** The FieldsealError that `action` throws or rejects with; fails unless its code is `code`. */
export async function expectFieldsealError(code, action) {
  let error;
  try {
    await action();
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected ${code}, but nothing was thrown`);
  assert.ok(error instanceof FieldsealError, `expected a FieldsealError with ${code}, got ${error?.name}: ${error?.message}`);
  assert.ok(error instanceof Error);
  assert.equal(error.name, "FieldsealError");
  assert.equal(error.code, code, error.message);
  return error;
}

/** Copy the package as npm would publish it: package.json, its `files`
 *  (everything but node_modules without one), README and LICENSE. */
export async function copyAsPublished(from, to) {
  const manifest = JSON.parse(await readFile(join(from, "package.json"), "utf8"));
  const entries = manifest.files && !manifest.files.some((f) => /[*?!]/.test(f))
    ? ["package.json", ...manifest.files, ...(await readdir(from)).filter((f) => /^(README|LICEN[CS]E)/i.test(f))]
    : (await readdir(from)).filter((f) => f !== "node_modules");
  for (const e of new Set(entries)) {
    const src = join(from, e);
    if (existsSync(src)) await cp(src, join(to, e), { recursive: true });
  }
}
