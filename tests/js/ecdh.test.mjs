// The raw ECDH keyring through the package (issue 17): every schema on every
// curve with keys as Node's crypto exports them (DER SPKI and PKCS#8 PEM, as
// the MPL takes them), and the typed errors of bad configurations.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";

import { FieldsealError, ItemEncryptor, RawEcdhKeyring } from "fieldseal";

const CURVES = { ECC_NIST_P256: "P-256", ECC_NIST_P384: "P-384", ECC_NIST_P521: "P-521" };
const ITEM = { pk: { S: "order#1" }, card: { S: "4111 1111 1111 1111" } };

function pair(namedCurve) {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve });
  return {
    spki: new Uint8Array(publicKey.export({ type: "spki", format: "der" })),
    spkiPem: publicKey.export({ type: "spki", format: "pem" }),
    pkcs8: privateKey.export({ type: "pkcs8", format: "pem" }),
  };
}

function encryptor(keyring, algorithmSuiteId = "0x6700") {
  return new ItemEncryptor({
    logicalTableName: "Orders",
    partitionKeyName: "pk",
    attributeActionsOnEncrypt: { pk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN" },
    algorithmSuiteId,
    keyring,
  });
}

async function codeOf(promiseOrFn) {
  try {
    await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    assert.ok(e instanceof FieldsealError, `a FieldsealError, got ${e}`);
    return [e.code, e.message];
  }
  assert.fail("expected a FieldsealError");
}

for (const [curve, namedCurve] of Object.entries(CURVES)) {
  test(`${curve}: every schema round trips, both suites`, async () => {
    const sender = pair(namedCurve);
    const recipient = pair(namedCurve);
    const staticSender = new RawEcdhKeyring({
      curve,
      scheme: { staticPrivateKeyToStaticPublicKey: { senderStaticPrivateKey: sender.pkcs8, recipientPublicKey: recipient.spki } },
    });
    const staticRecipient = new RawEcdhKeyring({
      curve,
      scheme: { staticPrivateKeyToStaticPublicKey: { senderStaticPrivateKey: recipient.pkcs8, recipientPublicKey: sender.spkiPem } },
    });
    const ephemeral = new RawEcdhKeyring({ curve, scheme: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: recipient.spki } } });
    const discovery = new RawEcdhKeyring({ curve, scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: recipient.pkcs8 } } });
    assert.equal(ephemeral.canDecrypt, false);
    assert.equal(discovery.canEncrypt, false);
    for (const suite of ["0x6700", "0x6701"]) {
      const fromStatic = await encryptor(staticSender, suite).encryptItem(ITEM);
      assert.ok(fromStatic.card.B instanceof Uint8Array, "card is sealed");
      for (const opener of [staticSender, staticRecipient, discovery]) {
        assert.deepEqual(await encryptor(opener, suite).decryptItem(fromStatic), ITEM);
      }
      const fromEphemeral = await encryptor(ephemeral, suite).encryptItem(ITEM);
      assert.deepEqual(await encryptor(discovery, suite).decryptItem(fromEphemeral), ITEM);
      const [code, message] = await codeOf(encryptor(ephemeral, suite).decryptItem(fromEphemeral));
      assert.equal(code, "NO_MATCHING_KEY", message);
      // Another recipient's private key does not open it.
      const stranger = new RawEcdhKeyring({ curve, scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: sender.pkcs8 } } });
      assert.equal((await codeOf(encryptor(stranger, suite).decryptItem(fromEphemeral)))[0], "NO_MATCHING_KEY");
    }
  });
}

test("a discovery keyring refuses to encrypt", async () => {
  const { pkcs8 } = pair("P-384");
  const discovery = new RawEcdhKeyring({ curve: "ECC_NIST_P384", scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: pkcs8 } } });
  const [code, message] = await codeOf(encryptor(discovery).encryptItem(ITEM));
  assert.equal(code, "INVALID_CONFIG");
  assert.match(message, /publicKeyDiscovery/);
  assert.match(message, /P-384/);
});

test("a key of another curve is an INVALID_KEY curve mismatch", async () => {
  const p384 = pair("P-384");
  const [code, message] = await codeOf(async () =>
    encryptor(new RawEcdhKeyring({ curve: "ECC_NIST_P256", scheme: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: p384.spki } } })).encryptItem(ITEM),
  );
  assert.equal(code, "INVALID_KEY");
  assert.match(message, /curve mismatch/);
  assert.match(message, /P-384/);
});

test("a public key off the curve is refused", async () => {
  const { spki } = pair("P-256");
  const off = spki.slice();
  // x = y = 1: field elements, not a point of P-256.
  off.fill(0, off.length - 64);
  off[off.length - 33] = 1;
  off[off.length - 1] = 1;
  const [code, message] = await codeOf(async () =>
    encryptor(new RawEcdhKeyring({ curve: "P256", scheme: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: off } } })).encryptItem(ITEM),
  );
  assert.equal(code, "INVALID_KEY");
  assert.match(message, /not a point of P-256/);
});

test("bad configurations are typed", async () => {
  const { spki } = pair("P-256");
  const bad = [
    [{ curve: "SM2", scheme: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: spki } } }, "INVALID_CONFIG"],
    [{ curve: "P256", scheme: {} }, "INVALID_CONFIG"],
    [{ curve: "P256", scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: "x" }, ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: spki } } }, "INVALID_CONFIG"],
    [{ curve: "P256", scheme: { ephemeralPrivateKeyToStaticPublicKey: {} } }, "INVALID_KEY"],
    [{ curve: "P256", scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: "not a key" } } }, "INVALID_KEY"],
  ];
  for (const [options, expected] of bad) {
    const [code, message] = await codeOf(async () => encryptor(new RawEcdhKeyring(options)).encryptItem(ITEM));
    assert.equal(code, expected, `${JSON.stringify(options, (_, v) => (v instanceof Uint8Array ? "<bytes>" : v))}: ${message}`);
  }
});

/** `make()` with WebCrypto hidden, so the keyring it builds computes in wasm (RustCrypto). */
function withoutWebCrypto(make) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  const real = globalThis.crypto;
  Object.defineProperty(globalThis, "crypto", { value: { getRandomValues: (a) => real.getRandomValues(a) }, configurable: true, writable: true });
  try {
    return make();
  } finally {
    Object.defineProperty(globalThis, "crypto", descriptor);
  }
}

test("WebCrypto's agreements and RustCrypto's are interchangeable, and WebCrypto is used where present", async () => {
  const subtle = globalThis.crypto.subtle;
  const deriveBits = subtle.deriveBits;
  let platformCalls = 0;
  subtle.deriveBits = function (...args) {
    platformCalls++;
    return deriveBits.apply(this, args);
  };
  try {
    // Load the module, so keyrings are built in their constructors.
    await encryptor(new RawEcdhKeyring({ curve: "P256", scheme: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: pair("P-256").spki } } })).encryptItem(ITEM);
    for (const [curve, namedCurve] of Object.entries(CURVES)) {
      const sender = pair(namedCurve);
      const recipient = pair(namedCurve);
      const schemes = {
        static: { staticPrivateKeyToStaticPublicKey: { senderStaticPrivateKey: sender.pkcs8, recipientPublicKey: recipient.spki } },
        ephemeral: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: recipient.spki } },
        discovery: { publicKeyDiscovery: { recipientStaticPrivateKey: recipient.pkcs8 } },
      };
      const platform = Object.fromEntries(Object.entries(schemes).map(([k, scheme]) => [k, new RawEcdhKeyring({ curve, scheme })]));
      const wasm = withoutWebCrypto(() => Object.fromEntries(Object.entries(schemes).map(([k, scheme]) => [k, new RawEcdhKeyring({ curve, scheme })])));
      for (const sealer of ["static", "ephemeral"]) {
        let before = platformCalls;
        const byPlatform = await encryptor(platform[sealer]).encryptItem(ITEM);
        assert.ok(platformCalls > before, `${curve} ${sealer}: WebCrypto computed the agreement`);
        before = platformCalls;
        const byWasm = await encryptor(wasm[sealer]).encryptItem(ITEM);
        assert.equal(platformCalls, before, `${curve} ${sealer}: the wasm keyring did not call WebCrypto`);
        assert.deepEqual(await encryptor(wasm.discovery).decryptItem(byPlatform), ITEM, `${curve} ${sealer}: WebCrypto -> wasm`);
        assert.deepEqual(await encryptor(platform.discovery).decryptItem(byWasm), ITEM, `${curve} ${sealer}: wasm -> WebCrypto`);
      }
    }
  } finally {
    subtle.deriveBits = deriveBits;
  }
});

test("a keyring times WebCrypto against RustCrypto on its first agreements, then keeps the faster; either opens the other's items", async () => {
  const subtle = globalThis.crypto.subtle;
  const deriveBits = subtle.deriveBits;
  let platformCalls = 0;
  subtle.deriveBits = function (...args) {
    platformCalls++;
    return deriveBits.apply(this, args);
  };
  try {
    for (const [curve, namedCurve] of Object.entries(CURVES)) {
      const sender = pair(namedCurve);
      const recipient = pair(namedCurve);
      const sealer = encryptor(new RawEcdhKeyring({ curve, scheme: { staticPrivateKeyToStaticPublicKey: { senderStaticPrivateKey: sender.pkcs8, recipientPublicKey: recipient.spki } } }));
      const opener = encryptor(withoutWebCrypto(() => new RawEcdhKeyring({ curve, scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: recipient.pkcs8 } } })));
      const before = platformCalls;
      const sealed = [];
      for (let i = 0; i < 14; i++) sealed.push(await sealer.encryptItem(ITEM));
      // Calls 0, 1, 3, 5, 7, 9 on the platform, 2, 4, 6, 8, 10 in wasm, then 11-13 all on the faster side.
      const calls = platformCalls - before;
      assert.ok(calls === 6 || calls === 9, `${curve}: ${calls} WebCrypto agreements in 14 (expected 6 or 9)`);
      for (const item of sealed) assert.deepEqual(await opener.decryptItem(item), ITEM, curve);
    }
  } finally {
    subtle.deriveBits = deriveBits;
  }
});
