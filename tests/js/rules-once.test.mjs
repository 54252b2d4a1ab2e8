// Issue 12: the rules of names and values (known config keys, suite ids, RSA
// paddings, key lengths) live once, in the core. The package's constructors
// check them synchronously once the WebAssembly module is loaded; before it
// loads, the same rule rejects the first operation with the same code, so a
// bad config never passes silently. This file must load nothing before the
// first block: node --test runs it in its own process.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ItemEncryptor, RawAesKeyring, RawRsaKeyring, StaticBranchKeyKeyring, wasmMemoryBytes } from "fieldseal";
import { expectFieldsealError, sampleItem } from "./helpers/common.mjs";

const KEY = new Uint8Array(32).fill(7);
const aes = () => new RawAesKeyring({ keyNamespace: "app", keyName: "k", wrappingKey: KEY });
const table = (extra = {}, keyring = aes()) =>
  new ItemEncryptor({ logicalTableName: "t", partitionKeyName: "pk", sortKeyName: "sk", attributeActionsOnEncrypt: { pk: "SIGN_ONLY", sk: "SIGN_ONLY" }, keyring, ...extra });
const item = () => ({ pk: sampleItem().pk, sk: sampleItem().sk });
const PEM = "-----BEGIN PUBLIC KEY-----\nnot parsed before first use\n-----END PUBLIC KEY-----\n";

/** [code, constructor, first use] for each rule. */
const CASES = [
  ["INVALID_CONFIG", () => table({ algorithmSuiteId: "0x6702" }), (e) => e.encryptItem(item())],
  ["INVALID_CONFIG", () => table({ algorithmSuiteId: 26370 }), (e) => e.encryptItem(item())],
  ["INVALID_CONFIG", () => table({ sortkeyName: "sk" }), (e) => e.encryptItem(item())],
  ["INVALID_CONFIG", () => new RawRsaKeyring({ keyNamespace: "app", keyName: "r", padding: "OAEP", publicKeyPem: PEM }), (k) => table({}, k).encryptItem(item())],
  ["INVALID_KEY", () => new RawAesKeyring({ keyNamespace: "app", keyName: "k", wrappingKey: KEY.subarray(0, 20) }), (k) => table({}, k).encryptItem(item())],
  ["INVALID_KEY", () => new StaticBranchKeyKeyring({ branchKeyId: "b", branchKeyVersion: "v", branchKey: KEY.subarray(0, 31) }), (k) => table({}, k).encryptItem(item())],
];

test("before the module loads, a rule of the core rejects the first use", async () => {
  for (const [code, construct, use] of CASES) {
    const error = await expectFieldsealError(code, async () => use(construct()));
    assert.doesNotMatch(error.message, /internal error/);
  }
});

test("once the module is loaded, the same rule throws from the constructor", async () => {
  await wasmMemoryBytes();
  for (const [code, construct] of CASES) {
    assert.throws(construct, (e) => e.name === "FieldsealError" && e.code === code, String(construct));
  }
  // Only the rules of names and values: a PEM is still parsed on first use,
  // and whole-config rules still reject the first operation.
  const badPem = new RawRsaKeyring({ keyNamespace: "app", keyName: "r", padding: "OAEP_SHA256_MGF1", publicKeyPem: PEM });
  await expectFieldsealError("INVALID_KEY", () => table({}, badPem).encryptItem(item()));
  const unsigned = table({ attributeActionsOnEncrypt: { pk: "DO_NOTHING", sk: "SIGN_ONLY" } });
  await expectFieldsealError("INVALID_CONFIG", () => unsigned.encryptItem(item()));
  // A good config still works after the checks.
  const good = table({ algorithmSuiteId: "0x6700" });
  assert.deepEqual(await good.decryptItem(await good.encryptItem(item())), item());
});
