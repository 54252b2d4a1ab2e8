// CommonJS consumers: require("fieldseal") works (Node >= 20.19 loads ESM without top-level await).
const assert = require("node:assert/strict");
const { test } = require("node:test");

test("require('fieldseal') gives the same API", async () => {
  const { ItemEncryptor, RawAesKeyring, FieldsealError } = require("fieldseal");
  assert.equal(typeof ItemEncryptor, "function");
  const enc = new ItemEncryptor({
    logicalTableName: "t",
    partitionKeyName: "pk",
    attributeActionsOnEncrypt: { pk: "SIGN_ONLY", s: "ENCRYPT_AND_SIGN" },
    algorithmSuiteId: "0x6700",
    keyring: new RawAesKeyring({ keyNamespace: "n", keyName: "k", wrappingKey: new Uint8Array(16) }),
  });
  const item = { pk: { S: "a" }, s: { S: "secret" } };
  assert.deepEqual(await enc.decryptItem(await enc.encryptItem(item)), item);
  await assert.rejects(enc.encryptItem({ pk: { S: "a" }, other: { S: "x" } }), (e) => e instanceof FieldsealError);
});
