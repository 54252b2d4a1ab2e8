// The raw RSA keyring against hostile items, through the package (issue 11,
// defects 2, 3 and 9b): no padding oracle (every bad RSA part fails with one
// code and one message, for PKCS1 and every OAEP hash), RSA-OAEP decryption on
// WebCrypto where it exists and interchangeable with the Rust path, and key
// bytes handed to WebCrypto's importKey zeroed once it settles.
import assert from "node:assert/strict";
import { constants, generateKeyPairSync, publicEncrypt } from "node:crypto";
import { afterEach, test } from "node:test";

import { FieldsealError, ItemEncryptor, RawAesKeyring, RawRsaKeyring } from "fieldseal";

const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PUBLIC_PEM = publicKey.export({ type: "spki", format: "pem" });
const PRIVATE_PEM = privateKey.export({ type: "pkcs8", format: "pem" });
const K = 256; // modulus size in bytes
const OAEP = { OAEP_SHA1_MGF1: "sha1", OAEP_SHA256_MGF1: "sha256", OAEP_SHA384_MGF1: "sha384", OAEP_SHA512_MGF1: "sha512" };
const PADDINGS = ["PKCS1", ...Object.keys(OAEP)];
const subtle = globalThis.crypto.subtle;

function rsaKeyring(padding) {
  return new RawRsaKeyring({ keyNamespace: "rsa-ns", keyName: "rsa-key", padding, publicKeyPem: PUBLIC_PEM, privateKeyPem: PRIVATE_PEM });
}

function encryptorFor(keyring, extra = {}) {
  return new ItemEncryptor({
    logicalTableName: "Orders",
    partitionKeyName: "pk",
    attributeActionsOnEncrypt: { pk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN" },
    algorithmSuiteId: "0x6700",
    keyring,
    ...extra,
  });
}

const ITEM = { pk: { S: "order#1" }, card: { S: "4111 1111 1111 1111" } };

/** `message` encrypted under the public key with the keyring's padding (Node's OpenSSL). */
function encryptWith(padding, message) {
  return padding === "PKCS1"
    ? publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, message)
    : publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP[padding] }, message);
}

/** Textbook RSA of a full-size block (no padding). */
const textbook = (block) => publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, block);

/** RSA parts that must all fail alike; the 32-byte payload is a well-formed block holding the wrong key. */
function hostileParts(padding) {
  const nonConforming = Buffer.alloc(K, 0x5a);
  nonConforming[0] = 0;
  nonConforming[1] = 3;
  const pkcs1Block = (len) => {
    const em = Buffer.alloc(K, 0x11);
    em[0] = 0;
    em[1] = 2;
    em[K - len - 1] = 0;
    return em;
  };
  const parts = {
    "32-byte payload": encryptWith(padding, Buffer.alloc(32, 7)),
    "non-conforming block": textbook(nonConforming),
    "31-byte payload": encryptWith(padding, Buffer.alloc(31, 7)),
    "33-byte payload": encryptWith(padding, Buffer.alloc(33, 7)),
    "one byte short": encryptWith(padding, Buffer.alloc(32, 7)).subarray(1),
    "not below the modulus": Buffer.alloc(K, 0xff),
  };
  if (padding === "PKCS1") {
    parts["hand-made 31-byte block"] = textbook(pkcs1Block(31));
    parts["hand-made 32-byte block"] = textbook(pkcs1Block(32));
  }
  return parts;
}

/**
 * A copy of `sealed` whose only EDK has its RSA part (after the 48-byte
 * encrypted data key) replaced. Header layout: version(1) flavor(1)
 * message id(32) legend(u16 len) EC(u16 count; u16-len key, value)
 * EDK count(u8); per EDK u16-len provider id, info, ciphertext; commitment(32).
 */
function withRsaPart(sealed, part) {
  const head = sealed.aws_dbe_head.B;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let at = 34;
  const skip = () => (at += 2 + view.getUint16(at));
  skip(); // legend
  const pairs = view.getUint16(at);
  at += 2;
  for (let i = 0; i < 2 * pairs; i++) skip();
  assert.equal(head[at], 1, "one EDK");
  at += 1;
  skip(); // provider id
  skip(); // provider info
  const ctLen = view.getUint16(at);
  const ctStart = at + 2;
  const ciphertext = Buffer.concat([head.subarray(ctStart, ctStart + 48), part]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(ciphertext.length);
  const rebuilt = Buffer.concat([head.subarray(0, at), length, ciphertext, head.subarray(ctStart + ctLen)]);
  return { ...sealed, aws_dbe_head: { B: new Uint8Array(rebuilt) } };
}

async function failureOf(action) {
  try {
    await action();
  } catch (e) {
    assert.ok(e instanceof FieldsealError, `not a FieldsealError: ${e}`);
    return [e.code, e.message];
  }
  assert.fail("the hostile item opened");
}

for (const padding of PADDINGS) {
  test(`${padding}: every bad RSA part fails with the same code and message (no padding oracle)`, async () => {
    const enc = encryptorFor(rsaKeyring(padding));
    const sealed = await enc.encryptItem(ITEM);
    assert.deepEqual(await enc.decryptItem(sealed), ITEM);
    const failures = {};
    for (const [name, part] of Object.entries(hostileParts(padding))) {
      failures[name] = await failureOf(() => enc.decryptItem(withRsaPart(sealed, part)));
    }
    const [code, message] = failures["32-byte payload"];
    assert.equal(code, "NO_MATCHING_KEY");
    assert.match(message, /did not verify/);
    for (const [name, failure] of Object.entries(failures)) {
      assert.deepEqual(failure, [code, message], `${padding}: ${name}`);
    }
  });
}

// ------------------------------------------------ WebCrypto spies

const calls = { decrypt: [], importKey: [] };

/** Record WebCrypto calls (algorithm name, key format, a copy of the key bytes and the buffer itself). */
function spyOnWebCrypto({ failImport = false } = {}) {
  const { decrypt, importKey } = Object.getPrototypeOf(subtle);
  subtle.decrypt = function (algorithm, ...rest) {
    calls.decrypt.push(algorithm.name ?? algorithm);
    return decrypt.call(this, algorithm, ...rest);
  };
  subtle.importKey = function (format, keyData, algorithm, ...rest) {
    const bytes = keyData instanceof Uint8Array ? keyData : new Uint8Array(keyData);
    calls.importKey.push({ format, algorithm: algorithm.name ?? algorithm, buffer: bytes, atCall: Uint8Array.from(bytes) });
    if (failImport) return Promise.reject(new DOMException("refused by the test", "DataError"));
    return importKey.call(this, format, keyData, algorithm, ...rest);
  };
}

afterEach(() => {
  delete subtle.decrypt;
  delete subtle.importKey;
  calls.decrypt.length = calls.importKey.length = 0;
});

/** A keyring built (on first use) where `crypto.subtle` is missing, as in an insecure browser context. */
async function rustOnlyEncryptor(padding) {
  Object.defineProperty(globalThis.crypto, "subtle", { value: undefined, configurable: true });
  try {
    const enc = encryptorFor(rsaKeyring(padding), { platformCrypto: false });
    await enc.encryptItem(ITEM); // builds the keyring without WebCrypto
    return enc;
  } finally {
    delete globalThis.crypto.subtle;
  }
}

const isZero = (bytes) => bytes.every((b) => b === 0);

test("RSA-OAEP decryption runs on WebCrypto (all four hashes) and opens what the Rust path opens, and the other way round", async () => {
  for (const padding of Object.keys(OAEP)) {
    spyOnWebCrypto();
    const inRust = await rustOnlyEncryptor(padding);
    assert.equal(globalThis.crypto.subtle, subtle, "crypto.subtle is back");
    const onPlatform = encryptorFor(rsaKeyring(padding));
    for (const [sealer, seal] of [["rust", inRust], ["platform", onPlatform]]) {
      const sealed = await seal.encryptItem(ITEM);
      for (const [opener, open] of [["rust", inRust], ["platform", onPlatform]]) {
        const before = calls.decrypt.filter((n) => n === "RSA-OAEP").length;
        assert.deepEqual(await open.decryptItem(sealed), ITEM, `${padding}: ${sealer} -> ${opener}`);
        const used = calls.decrypt.filter((n) => n === "RSA-OAEP").length - before;
        assert.equal(used, opener === "platform" ? 1 : 0, `${padding}: ${sealer} -> ${opener}: WebCrypto RSA-OAEP calls`);
      }
    }
    // The private key went in once, as PKCS#8, and the JS copy is zero now.
    const imports = calls.importKey.filter((c) => c.algorithm === "RSA-OAEP");
    assert.equal(imports.length, 1, padding);
    assert.equal(imports[0].format, "pkcs8");
    assert.ok(!isZero(imports[0].atCall), "a real key was passed");
    assert.ok(isZero(imports[0].buffer), `${padding}: the PKCS#8 copy was zeroed`);
    delete subtle.decrypt;
    delete subtle.importKey;
    calls.decrypt.length = calls.importKey.length = 0;
  }
});

test("PKCS1 never reaches WebCrypto (it has no RSAES-PKCS1-v1_5)", async () => {
  spyOnWebCrypto();
  const enc = encryptorFor(rsaKeyring("PKCS1"));
  assert.deepEqual(await enc.decryptItem(await enc.encryptItem(ITEM)), ITEM);
  assert.deepEqual(calls.decrypt.filter((n) => n === "RSA-OAEP"), []);
  assert.deepEqual(calls.importKey.filter((c) => c.algorithm === "RSA-OAEP"), []);
});

test("a platform that refuses the RSA key: Rust decrypts, and the PKCS#8 copy is still zeroed", async () => {
  spyOnWebCrypto({ failImport: true });
  const enc = encryptorFor(rsaKeyring("OAEP_SHA256_MGF1"), { platformCrypto: false });
  assert.deepEqual(await enc.decryptItem(await enc.encryptItem(ITEM)), ITEM);
  const imports = calls.importKey.filter((c) => c.algorithm === "RSA-OAEP");
  assert.equal(imports.length, 1);
  assert.ok(!isZero(imports[0].atCall) && isZero(imports[0].buffer));
  assert.deepEqual(calls.decrypt, []);
});

test("AES-GCM field keys handed to WebCrypto importKey are zeroed once it settles, resolved or rejected", async () => {
  const keyring = new RawAesKeyring({ keyNamespace: "app", keyName: "k", wrappingKey: new Uint8Array(32).fill(5) });
  const large = { pk: { S: "file#1" }, card: { B: new Uint8Array(100_000).fill(1) } };
  const enc = encryptorFor(keyring, { platformCrypto: { bulkMinBytes: 0 } });
  spyOnWebCrypto();
  assert.deepEqual(await enc.decryptItem(await enc.encryptItem(large)), large);
  const aesKeys = calls.importKey.filter((c) => c.algorithm === "AES-GCM");
  assert.ok(aesKeys.length >= 2, `field keys went through importKey (${aesKeys.length})`);
  for (const { format, buffer, atCall } of aesKeys) {
    assert.equal(format, "raw");
    assert.equal(atCall.length, 32);
    assert.ok(!isZero(atCall), "a real key was passed");
    assert.ok(isZero(buffer), "the JS copy of the key was zeroed");
  }
  // The failure path: importKey rejects, the operation fails, the copy is zero all the same.
  delete subtle.importKey;
  calls.importKey.length = 0;
  spyOnWebCrypto({ failImport: true });
  const [code] = await failureOf(() => enc.encryptItem(large));
  assert.equal(code, "KEY_PROVIDER_FAILURE");
  const refused = calls.importKey.filter((c) => c.algorithm === "AES-GCM");
  assert.ok(refused.length >= 1);
  for (const { buffer, atCall } of refused) assert.ok(!isZero(atCall) && isZero(buffer));
});
