// The platform's WebCrypto (ECDSA P-384; AES-GCM and SHA-384 on large values)
// and pure wasm are interchangeable: every combination opens what the other
// sealed, tampering is caught either way, and the crossover setting decides
// only who computes, never the bytes' format.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";

import { FieldsealError, ItemEncryptor, RawAesKeyring } from "fieldseal";

const keyring = new RawAesKeyring({ keyNamespace: "app", keyName: "k", wrappingKey: randomBytes(32) });
const SETTINGS = { default: undefined, wasm: false, platform: { bulkMinBytes: 0 }, late: { bulkMinBytes: 1 << 30 } };

function encryptors(suite) {
  return Object.entries(SETTINGS).map(([name, platformCrypto]) => [
    name,
    new ItemEncryptor({
      logicalTableName: "Files",
      partitionKeyName: "pk",
      attributeActionsOnEncrypt: { pk: "SIGN_ONLY", body: "ENCRYPT_AND_SIGN", small: "ENCRYPT_AND_SIGN", digest: "SIGN_ONLY" },
      algorithmSuiteId: suite,
      keyring,
      ...(platformCrypto === undefined ? {} : { platformCrypto }),
    }),
  ]);
}

// Values each side of the default crossovers (4 KiB browsers, 16 KiB Node), and a large signed plaintext.
const item = () => ({
  pk: { S: "file#1" },
  body: { B: new Uint8Array(randomBytes(300_000)) },
  small: { S: "a short secret" },
  digest: { B: new Uint8Array(randomBytes(40_000)) },
});

for (const suite of ["0x6700", "0x6701"]) {
  test(`${suite}: every provider setting opens what every other sealed`, async () => {
    const all = encryptors(suite);
    const plain = item();
    for (const [sealer, seal] of all) {
      const sealed = await seal.encryptItem(plain);
      assert.equal(sealed.body.B.length, 2 + 300_000 + 16, "type id + ciphertext + tag");
      for (const [opener, open] of all) {
        assert.deepEqual(await open.decryptItem(sealed), plain, `${sealer} -> ${opener}`);
      }
    }
  });

  test(`${suite}: a flipped bit in a large field or a large signed value fails on every setting`, async () => {
    const all = encryptors(suite);
    const sealed = await all[0][1].encryptItem(item());
    for (const name of ["body", "digest"]) {
      const tampered = { ...sealed, [name]: { B: Uint8Array.from(sealed[name].B) } };
      tampered[name].B[12_345] ^= 0x20;
      for (const [opener, open] of all) {
        await assert.rejects(open.decryptItem(tampered), (e) => e instanceof FieldsealError && e.code === "INTEGRITY_FAILURE", `${name} via ${opener}`);
      }
    }
  });
}
