// Hostile input at the JS boundary (issue 11, defects 1, 5, 6, 7 and 8): lying
// typed arrays, Proxies, throwing getters, detached buffers, `__proto__`
// names, Symbols, huge and deep values. Every case ends in a FieldsealError
// with an exact code, or in a correct result; nothing traps, no byte the
// caller did not pass is stored, and no unhandled rejection ever fires.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, test } from "node:test";
import { CustomKeyring, FieldsealError, ItemEncryptor, MultiKeyring, RawAesKeyring, RawRsaKeyring, StaticBranchKeyKeyring } from "fieldseal";
import { AwsKmsKeyring } from "fieldseal/kms";
import { aesKeyring, encryptor, expectFieldsealError, sampleItem } from "../helpers/common.mjs";

const unhandled = [];
process.on("unhandledRejection", (reason) => unhandled.push(reason));
after(() => assert.deepEqual(unhandled, [], "an unhandled rejection fired"));

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

async function expectCode(code, action) {
  const error = await expectFieldsealError(code, action);
  assert.doesNotMatch(error.message, /internal error/);
  return error;
}

const ACTIONS = { pk: "SIGN_ONLY", blob: "SIGN_ONLY", set: "SIGN_ONLY", secret: "ENCRYPT_AND_SIGN", doc: "ENCRYPT_AND_SIGN" };
const table = (keyring, extra = {}) =>
  new ItemEncryptor({ logicalTableName: "T", partitionKeyName: "pk", attributeActionsOnEncrypt: ACTIONS, algorithmSuiteId: "0x6700", keyring, ...extra });

/** A Uint8Array whose `length` lies. */
class LyingLength extends Uint8Array {
  static claim = 65_536;
  get length() {
    return LyingLength.claim;
  }
}
/** A Uint8Array whose every view getter lies. */
class LyingView extends Uint8Array {
  get length() { return 4096; }
  get byteLength() { return 4096; }
  get byteOffset() { return 0; }
  get buffer() { return new ArrayBuffer(4096); }
}
const detached = () => {
  const bytes = new Uint8Array(8).fill(7);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  return bytes;
};
const MARKER = "PLAINTEXT-MARKER-7f3a9c".repeat(40);

/** Every byte array in a sealed item, as one buffer, to search for leaked bytes. */
function allBytes(item) {
  const parts = [];
  const walk = (v) => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v));
    else if (typeof v === "string") parts.push(Buffer.from(v));
    else if (v && typeof v === "object") for (const k of Reflect.ownKeys(v)) walk(v[k]);
  };
  walk(item);
  return Buffer.concat(parts);
}

test("defect 1: B and BS values are copied by their real bytes, never by a lying length", async () => {
  const enc = table(aesKeyring(3));
  // Leave a decrypted plaintext in wasm memory first, as a real app would.
  const plain = { pk: { S: "p" }, secret: { S: MARKER } };
  assert.deepEqual(await enc.decryptItem(await enc.encryptItem(plain)), plain);

  for (const claim of [65_536, -1, 2 ** 32 - 1, 0, NaN]) {
    LyingLength.claim = claim;
    const one = new LyingLength([0x41]);
    const members = [new LyingLength([1, 2]), new LyingLength([3])];
    const sealed = await enc.encryptItem({ pk: { S: "p" }, blob: { B: one }, set: { BS: members } });
    assert.deepEqual([...sealed.blob.B], [0x41], `B with length ${claim}`);
    assert.deepEqual(sealed.set.BS.map((b) => [...b]), [[1, 2], [3]], `BS with length ${claim}`);
    assert.ok(!allBytes(sealed).includes("PLAINTEXT-MARKER"), "the sealed item carries another item's plaintext");
    const opened = await enc.decryptItem(sealed);
    assert.deepEqual([...opened.blob.B], [0x41]);
  }
  LyingLength.claim = 65_536;

  const own = new Uint8Array([9, 8]);
  Object.defineProperty(own, "length", { value: 4096 });
  assert.deepEqual([...(await enc.encryptItem({ pk: { S: "p" }, blob: { B: own } })).blob.B], [9, 8]);
  const view = new LyingView([5, 6, 7]);
  assert.deepEqual([...(await enc.encryptItem({ pk: { S: "p" }, blob: { B: view } })).blob.B], [5, 6, 7]);
  // Node's Buffer is a Uint8Array over a shared pool: only its own bytes count.
  const pooled = Buffer.from("ab");
  assert.deepEqual([...(await enc.encryptItem({ pk: { S: "p" }, blob: { B: pooled } })).blob.B], [0x61, 0x62]);
});

test("defect 1: what is not a genuine Uint8Array is refused with INVALID_ITEM", async () => {
  const enc = table(aesKeyring(3));
  const u16 = new Uint16Array([0x4142, 0x4344]);
  Object.setPrototypeOf(u16, Uint8Array.prototype);
  const { proxy: revoked, revoke } = Proxy.revocable(new Uint8Array(4), {});
  revoke();
  for (const bad of [detached(), new Proxy(new Uint8Array(4), {}), revoked, u16, new Int8Array(2), new DataView(new ArrayBuffer(2)), new ArrayBuffer(2), [1, 2], { length: 2, 0: 1, 1: 2 }, "AQI=", 5, null]) {
    const e = await expectCode("INVALID_ITEM", () => enc.encryptItem({ pk: { S: "p" }, blob: { B: bad } }));
    assert.match(e.message, /blob: B needs a Uint8Array/);
    await expectCode("INVALID_ITEM", () => enc.encryptItem({ pk: { S: "p" }, set: { BS: [new Uint8Array(1), bad] } }));
  }
  const e = await expectCode("INVALID_ITEM", () => enc.encryptItem({ pk: { S: "p" }, blob: { B: detached() } }));
  assert.match(e.message, /detached/);
});

test("defect 1: keyring keys are taken by their real bytes", async () => {
  const key = new Uint8Array(32).map((_, i) => i + 1);
  class ClaimsShort extends Uint8Array {
    get length() { return 16; }
  }
  const liar = new RawAesKeyring({ keyNamespace: "app", keyName: "k", wrappingKey: new ClaimsShort(key) });
  const honest = new RawAesKeyring({ keyNamespace: "app", keyName: "k", wrappingKey: key });
  const sealed = await table(liar).encryptItem({ pk: { S: "p" } });
  assert.deepEqual(await table(honest).decryptItem(sealed), { pk: { S: "p" } });
  class ClaimsLong extends Uint8Array {
    get length() { return 32; }
  }
  await expectCode("INVALID_KEY", () => new StaticBranchKeyKeyring({ branchKeyId: "b", branchKeyVersion: "v", branchKey: new ClaimsLong(8) }));
  await expectCode("INVALID_KEY", () => new RawAesKeyring({ keyNamespace: "a", keyName: "k", wrappingKey: detached() }));
  await expectCode("INVALID_KEY", () => new RawAesKeyring({ keyNamespace: "a", keyName: "k", wrappingKey: new Proxy(new Uint8Array(32), {}) }));
});

/** A custom keyring that stores wrapped keys in a map; `shape` decides what its callbacks return. */
function mapKeyring(shape = (bytes) => bytes) {
  const store = new Map();
  const seen = [];
  let n = 0;
  const keyring = new CustomKeyring({
    providerId: "map",
    wrapKey: async ({ plaintextDataKey }) => {
      const id = new Uint8Array([++n, 0xee, 0xee]);
      store.set(id.join(), plaintextDataKey.slice());
      return { providerInfo: shape(new Uint8Array([0x70, 0x69])), ciphertext: shape(id) };
    },
    unwrapKey: async ({ providerInfo, ciphertext }) => {
      seen.push({ providerInfo: [...providerInfo], ciphertext: [...ciphertext] });
      const key = store.get(ciphertext.join());
      return key ? shape(key.slice()) : null;
    },
  });
  return { keyring, seen };
}

test("defect 1: custom keyring return values are copied by their real bytes", async () => {
  const { keyring, seen } = mapKeyring((bytes) => new LyingLength(bytes));
  const enc = table(keyring);
  const sealed = await enc.encryptItem({ pk: { S: "p" }, secret: { S: "s" } });
  assert.ok(sealed.aws_dbe_head.B.length < 1024, `header of ${sealed.aws_dbe_head.B.length} bytes`);
  assert.deepEqual(await enc.decryptItem(sealed), { pk: { S: "p" }, secret: { S: "s" } });
  assert.deepEqual(seen, [{ providerInfo: [0x70, 0x69], ciphertext: [1, 0xee, 0xee] }]);
});

test("defect 1: KMS client outputs are copied by their real bytes", async () => {
  const arn = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555";
  const keys = new Map();
  const blobs = [];
  const send = async (command) => {
    const input = command.input;
    if (input.NumberOfBytes) {
      const plaintext = new Uint8Array(32).map((_, i) => i * 3);
      const blob = new Uint8Array([keys.size + 1, 0xcc]);
      keys.set(blob.join(), plaintext.slice());
      return { KeyId: arn, Plaintext: new LyingLength(plaintext), CiphertextBlob: new LyingLength(blob) };
    }
    blobs.push([...input.CiphertextBlob]);
    return { KeyId: arn, Plaintext: new LyingLength(keys.get(input.CiphertextBlob.join())) };
  };
  const enc = table(new AwsKmsKeyring({ kmsKeyId: arn, clientProvider: () => ({ send }) }));
  const sealed = await enc.encryptItem({ pk: { S: "p" }, secret: { S: "s" } });
  assert.deepEqual(await enc.decryptItem(sealed), { pk: { S: "p" }, secret: { S: "s" } });
  assert.deepEqual(blobs, [[1, 0xcc]]);
  const bad = () => ({ send: async () => ({ KeyId: arn, Plaintext: new Proxy(new Uint8Array(32), {}), CiphertextBlob: detached() }) });
  await expectCode("KEY_PROVIDER_FAILURE", () => table(new AwsKmsKeyring({ kmsKeyId: arn, clientProvider: bad })).encryptItem({ pk: { S: "p" } }));
});

/** A fresh Node process: wasm memory starts small there and its growth is this input's alone. */
function memoryGrowth(buildItem) {
  const script = `
    import { ItemEncryptor, RawAesKeyring, FieldsealError, wasmMemoryBytes } from "fieldseal";
    const enc = new ItemEncryptor({ logicalTableName: "T", partitionKeyName: "pk", attributeActionsOnEncrypt: { pk: "SIGN_ONLY", doc: "ENCRYPT_AND_SIGN" },
      algorithmSuiteId: "0x6700", keyring: new RawAesKeyring({ keyNamespace: "n", keyName: "k", wrappingKey: new Uint8Array(32) }) });
    await enc.decryptItem(await enc.encryptItem({ pk: { S: "p" }, doc: { S: "x" } }));
    const before = await wasmMemoryBytes();
    const item = (${buildItem})();
    let code, message;
    try { await enc.encryptItem(item); } catch (e) { code = e instanceof FieldsealError ? e.code : String(e); message = e.message; }
    console.log(JSON.stringify({ code, grew: (await wasmMemoryBytes()) - before, messageLength: message?.length }));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", cwd: import.meta.dirname, maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split("\n").pop());
}

const MIB = 1 << 20;

test("defect 5: a 1 MiB map key nested 31 levels is refused with INVALID_ITEM and wasm memory grows less than 16 MiB", () => {
  const result = memoryGrowth(`() => {
    const key = "k".repeat(${MIB});
    let value = { S: "x" };
    for (let i = 0; i < 31; i++) value = { M: { [key]: value } };
    return { pk: { S: "p" }, doc: value };
  }`);
  assert.equal(result.code, "INVALID_ITEM");
  assert.ok(result.grew < 16 * MIB, `wasm memory grew by ${result.grew} bytes`);
  assert.ok(result.messageLength < 4096, `a message of ${result.messageLength} chars`);
});

test("defect 5: error paths are built only on error: maximal keys nested past the depth limit", () => {
  const result = memoryGrowth(`() => {
    const key = "k".repeat(65535);
    let value = { S: "x" };
    for (let i = 0; i < 40; i++) value = { M: { [key]: value } };
    return { pk: { S: "p" }, doc: value };
  }`);
  assert.equal(result.code, "INVALID_ITEM");
  assert.ok(result.grew < 16 * MIB, `wasm memory grew by ${result.grew} bytes`);
  assert.ok(result.messageLength < 8192, `a message of ${result.messageLength} chars`);
});

test("defect 6: Proxies, throwing getters and revoked Proxies give INVALID_ITEM; free() works afterwards", async () => {
  const enc = table(aesKeyring(4));
  await enc.encryptItem({ pk: { S: "p" } }); // built: later calls go straight into wasm
  const boom = () => {
    throw new Error("trap");
  };
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const throwingElement = [{ S: "a" }];
  Object.defineProperty(throwingElement, 0, { get: boom });
  const lyingArray = new Proxy([], { get: (t, k) => (k === "length" ? 2 ** 32 - 1 : boom()) });
  const hostile = [
    new Proxy({}, { ownKeys: boom }),
    new Proxy({ pk: { S: "p" } }, { get: boom }),
    new Proxy({ pk: { S: "p" } }, { ownKeys: () => ["pk", "pk"] }), // breaks an invariant: Reflect.ownKeys throws
    revoked,
    { pk: { S: "p" }, doc: revoked },
    { pk: { S: "p" }, doc: new Proxy({ S: "x" }, { ownKeys: boom }) },
    { pk: { S: "p" }, get doc() { return boom(); } },
    { pk: { S: "p" }, doc: { get S() { return boom(); } } },
    { pk: { S: "p" }, doc: { L: throwingElement } },
    { pk: { S: "p" }, doc: { L: lyingArray } },
    { pk: { S: "p" }, doc: { SS: lyingArray } },
    { pk: { S: "p" }, doc: { M: revoked } },
    { pk: { S: "p" }, doc: { L: revoked } },
  ];
  for (const item of hostile) {
    await expectCode("INVALID_ITEM", () => enc.encryptItem(item));
    await expectCode("INVALID_ITEM", () => enc.decryptItem(item));
    await expectCode("INVALID_ITEM", () => enc.encryptItems([item]));
  }
  await expectCode("INVALID_ITEM", () => enc.encryptItems(revoked));
  await expectCode("INVALID_ITEM", () => enc.encryptItems(lyingArray));
  // The encryptor still works, and frees without throwing.
  assert.deepEqual(await enc.decryptItem(await enc.encryptItem({ pk: { S: "p" } })), { pk: { S: "p" } });
  enc.free();
  enc.config.keyring.free();
  await settle();
  assert.deepEqual(unhandled, []);
});

test("defect 6: free() during an in-flight operation never throws, and the operation settles", async () => {
  let release;
  let slow = false;
  const gate = new Promise((resolve) => (release = resolve));
  const keyring = new CustomKeyring({
    providerId: "slow",
    wrapKey: async ({ plaintextDataKey }) => {
      if (slow) await gate;
      return { ciphertext: plaintextDataKey.slice() };
    },
    unwrapKey: async ({ ciphertext }) => ciphertext.slice(),
  });
  const enc = table(keyring);
  await enc.encryptItem({ pk: { S: "p" } }); // built: the next call runs inside wasm at once
  slow = true;
  const pending = enc.encryptItem({ pk: { S: "p" } });
  await settle();
  enc.free();
  keyring.free();
  enc.free();
  release();
  const outcome = await pending.then((v) => v, (e) => e);
  assert.ok(outcome.aws_dbe_head || outcome instanceof FieldsealError, String(outcome));
  await settle();
  assert.deepEqual(unhandled, []);
});

test("defect 6: hostile custom keyring return values give KEY_PROVIDER_FAILURE", async () => {
  const boom = () => {
    throw new Error("trap");
  };
  const badPromise = Promise.resolve({ ciphertext: new Uint8Array(3) });
  Object.defineProperty(badPromise, "constructor", { get: boom });
  const thenGetter = { get then() { return boom(); } };
  const badError = new Error("x");
  Object.defineProperty(badError, "message", { get: boom });
  const wraps = [
    () => badPromise,
    () => thenGetter,
    () => Promise.reject(badError),
    () => { throw badError; },
    async () => new Proxy({}, { get: boom }),
    async () => ({ get ciphertext() { return boom(); } }),
    async () => ({ ciphertext: new Proxy(new Uint8Array(3), {}) }),
    async () => ({ ciphertext: detached() }),
    async () => ({ ciphertext: new Uint16Array(3) }),
    async () => ({ ciphertext: new Uint8Array(3), providerInfo: Symbol("p") }),
    async () => ({ ciphertext: new Uint8Array(3), providerInfo: detached() }),
    async () => ({ ciphertext: NaN }),
  ];
  for (const wrapKey of wraps) {
    const keyring = new CustomKeyring({ providerId: "bad", wrapKey, unwrapKey: async () => null });
    await expectCode("KEY_PROVIDER_FAILURE", () => table(keyring).encryptItem({ pk: { S: "p" } }));
  }
  const { keyring: good } = mapKeyring();
  const sealed = await table(good).encryptItem({ pk: { S: "p" } });
  for (const returned of [detached(), new Proxy(new Uint8Array(32), {}), new Uint16Array(16), NaN, Infinity, Symbol("k")]) {
    const keyring = new CustomKeyring({ providerId: "map", wrapKey: async () => ({ ciphertext: new Uint8Array(1) }), unwrapKey: async () => returned });
    await expectCode("KEY_PROVIDER_FAILURE", () => table(keyring).decryptItem(sealed));
  }
  await settle();
  assert.deepEqual(unhandled, []);
});

test("defect 7: __proto__ round-trips as an ordinary attribute, at the top level and inside M, and never changes a prototype", async () => {
  const actions = JSON.parse('{"pk": "SIGN_ONLY", "__proto__": "ENCRYPT_AND_SIGN", "doc": "SIGN_ONLY"}');
  const enc = new ItemEncryptor({ logicalTableName: "T", partitionKeyName: "pk", attributeActionsOnEncrypt: actions, algorithmSuiteId: "0x6700", keyring: aesKeyring(5) });
  const item = JSON.parse('{"pk": {"S": "p"}, "__proto__": {"S": "top"}, "doc": {"M": {"__proto__": {"S": "inner"}, "x": {"M": {"__proto__": {"N": "1"}}}}}}');
  const sealed = await enc.encryptItem(item);
  assert.equal(Object.getPrototypeOf(sealed), Object.prototype);
  assert.ok(Object.hasOwn(sealed, "__proto__"), "the encrypted __proto__ attribute is missing");
  assert.ok(sealed.__proto__.B instanceof Uint8Array);
  assert.equal(Object.getPrototypeOf(sealed.doc.M), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(sealed.doc.M, "__proto__").value, { S: "inner" });
  const opened = await enc.decryptItem(sealed);
  assert.equal(Object.getPrototypeOf(opened), Object.prototype);
  assert.equal(Object.getPrototypeOf(opened.doc.M), Object.prototype);
  assert.equal(opened.S, undefined, "the item's prototype was replaced by an attribute value");
  assert.deepEqual(opened, item);

  const record = JSON.parse('{"pk": "p", "__proto__": "top", "doc": {"__proto__": {"S": 1}}}');
  const sealedRecord = await enc.encryptRecord(record);
  assert.ok(Object.hasOwn(sealedRecord, "__proto__"));
  assert.equal(Object.getPrototypeOf(sealedRecord), Object.prototype);
  const back = await enc.decryptRecord(sealedRecord);
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.equal(Object.getPrototypeOf(back.doc), Object.prototype);
  assert.deepEqual(back, record);
});

test("defect 8: Symbol-keyed attributes are refused with INVALID_ITEM, not dropped", async () => {
  const enc = encryptor(aesKeyring(6));
  const s = Symbol("attr");
  await expectCode("INVALID_ITEM", () => enc.encryptItem({ ...sampleItem(), [s]: { S: "dropped?" } }));
  await expectCode("INVALID_ITEM", () => enc.encryptItem({ ...sampleItem(), meta: { M: { [s]: { S: "x" } } } }));
  await expectCode("INVALID_ITEM", () => enc.encryptItem({ ...sampleItem(), card: { S: "x", [s]: 1 } }));
  await expectCode("INVALID_ITEM", () => enc.encryptItems([{ ...sampleItem(), [s]: { S: "x" } }]));
  await expectCode("INVALID_ITEM", () => enc.decryptItem({ ...sampleItem(), [s]: { S: "x" } }));
  await expectCode("INVALID_ITEM", () => enc.encryptRecord({ pk: "p", sk: 1, [s]: "x" }));
  await expectCode("INVALID_ITEM", () => enc.encryptRecord({ pk: "p", sk: 1, meta: { [s]: "x" } }));
});

test("binary is read by the buffer's slot: arrays and plain objects skip the slot test, a buffer of any prototype or realm is still its bytes", async () => {
  const { runInNewContext } = await import("node:vm");
  const enc = table(aesKeyring(6));
  const roundTrip = async (doc) => (await enc.decryptRecord(await enc.encryptRecord({ pk: "p", doc }))).doc;
  const buffer = (...bytes) => new Uint8Array(bytes).buffer;
  const bytesCases = [
    [runInNewContext("new Uint8Array([1, 2, 3]).buffer"), [1, 2, 3]],
    [Object.setPrototypeOf(buffer(4, 5), Object.prototype), [4, 5]],
    [Object.setPrototypeOf(buffer(6), null), [6]],
    [Object.assign(buffer(8), { x: 1 }), [8]],
  ];
  for (const [value, bytes] of bytesCases) assert.deepEqual(await roundTrip(value), new Uint8Array(bytes));
  assert.deepEqual(await roundTrip({ a: 1, b: [2, { c: "x" }] }), { a: 1, b: [2, { c: "x" }] });
  assert.deepEqual(await roundTrip(Object.assign(Object.create(null), { a: 1 })), { a: 1 });
  const { proxy: revoked, revoke } = Proxy.revocable([], {});
  revoke();
  const boom = () => {
    throw new Error("trap");
  };
  for (const bad of [revoked, new Proxy({ a: 1 }, { getPrototypeOf: boom }), new Proxy({ a: 1 }, { ownKeys: boom })]) {
    await expectCode("INVALID_ITEM", () => enc.encryptRecord({ pk: "p", doc: bad }));
  }
});

test("defect 8: every public entry point rejects with a FieldsealError and a code", async () => {
  const boom = () => {
    throw new Error("trap");
  };
  const enc = encryptor(aesKeyring(6));
  for (const records of [{}, null, undefined, "x", 5, new Proxy([], { get: boom }), Object.assign([], { length: 2 ** 32 - 1 })]) {
    await expectCode("INVALID_ITEM", () => enc.encryptRecords(records));
    await expectCode("INVALID_ITEM", () => enc.decryptRecords(records));
  }
  for (const items of [{}, null, "x", 5]) {
    await expectCode("INVALID_ITEM", () => enc.encryptItems(items));
    await expectCode("INVALID_ITEM", () => enc.decryptItems(items));
  }
  for (const record of [new Proxy({}, { ownKeys: boom }), { get pk() { return boom(); } }, { pk: new Proxy({}, { getPrototypeOf: boom }) }, { pk: [1, , 3] }, { pk: detached() }]) {
    await expectCode("INVALID_ITEM", () => enc.encryptRecord(record));
  }
  const trap = new Proxy({}, { get: boom, ownKeys: boom, has: boom });
  const getters = { get keyNamespace() { return boom(); } };
  const base = { logicalTableName: "t", partitionKeyName: "pk", attributeActionsOnEncrypt: { pk: "SIGN_ONLY" }, keyring: aesKeyring() };
  const constructors = [
    () => new RawAesKeyring(trap),
    () => new RawAesKeyring(getters),
    () => new RawRsaKeyring(trap),
    () => new StaticBranchKeyKeyring(trap),
    () => new MultiKeyring(trap),
    () => new MultiKeyring({ children: new Proxy([], { get: boom }) }),
    () => new MultiKeyring({ children: Object.assign([], { length: 2 ** 32 - 1 }) }),
    () => new CustomKeyring(trap),
    () => new AwsKmsKeyring(trap),
    () => new AwsKmsKeyring({ kmsKeyId: "arn:aws:kms:us-east-1:111122223333:key/k", clientProvider: () => ({}), grantTokens: 5 }),
    () => new ItemEncryptor(trap),
    () => new ItemEncryptor({ ...base, get keyring() { return boom(); } }),
    () => new ItemEncryptor({ ...base, attributeActionsOnEncrypt: trap }),
    () => new ItemEncryptor({ ...base, attributeActionsOnEncrypt: { pk: "SIGN_ONLY", [Symbol("x")]: "SIGN_ONLY" } }),
    () => new ItemEncryptor({ ...base, allowedUnsignedAttributes: new Proxy([], { get: boom }) }),
    () => new ItemEncryptor({ ...base, platformCrypto: { get bulkMinBytes() { return boom(); } } }),
    () => new ItemEncryptor({ ...base, platformCrypto: { bulkMinBytes: NaN } }),
    () => new ItemEncryptor({ ...base, algorithmSuiteId: NaN }),
    () => new CustomKeyring({ providerId: "p", wrapKey: async () => null, unwrapKey: async () => null, timeoutMs: NaN }),
  ];
  for (const construct of constructors) await expectCode("INVALID_CONFIG", construct);
});

test("shapes around: wrong types, huge and deep values, sparse arrays, NaN and Infinity, Symbols", async () => {
  const enc = table(aesKeyring(8));
  const sparse = [];
  sparse.length = 2 ** 32 - 1;
  const oneThenHoles = [{ S: "a" }];
  oneThenHoles.length = 2 ** 32 - 1;
  let deep = { S: "x" };
  for (let i = 0; i < 1000; i++) deep = { L: [deep] };
  let deepMap = { S: "x" };
  for (let i = 0; i < 1000; i++) deepMap = { M: { k: deepMap } };
  const values = [
    undefined, null, 1, "S", true, Symbol("v"), 1n, NaN, Infinity, [], () => 1,
    { S: 1 }, { S: Symbol("s") }, { N: 1 }, { N: NaN }, { N: Infinity }, { N: 1n }, { N: "NaN" }, { N: "Infinity" }, { N: "1e400" },
    { BOOL: NaN }, { BOOL: "true" }, { NULL: false }, { NULL: Infinity }, { S: "x", N: "1" }, {}, { X: "y" },
    { L: sparse }, { L: oneThenHoles }, { SS: sparse }, { SS: ["a", , "b"] }, { NS: [NaN] }, { BS: sparse }, { L: {} }, { M: [] }, { M: null },
    deep, deepMap,
  ];
  for (const doc of values) {
    const e = await expectCode("INVALID_ITEM", () => enc.encryptItem({ pk: { S: "p" }, doc }));
    assert.ok(e.message.length < 4096);
  }
  for (const item of [undefined, null, 5, "item", [], [{ pk: { S: "p" } }], () => {}, Symbol("i"), new Proxy([], {})]) {
    await expectCode("INVALID_ITEM", () => enc.encryptItem(item));
    await expectCode("INVALID_ITEM", () => enc.decryptItem(item));
  }
  await expectCode("INVALID_ITEM", () => enc.encryptItems(sparse));
  await expectCode("INVALID_ITEM", () => enc.encryptItems(oneThenHoles));
  // An attribute name past DynamoDB's limit, at the top level and as a map key; the message stays short.
  const long = "n".repeat(70_000);
  for (const item of [{ pk: { S: "p" }, [long]: { S: "x" } }, { pk: { S: "p" }, doc: { M: { [long]: { S: "x" } } } }]) {
    const e = await expectCode("INVALID_ITEM", () => enc.encryptItem(item));
    assert.ok(e.message.length < 4096, `${e.message.length} chars`);
  }
  // Huge but valid strings pass through intact.
  const big = "s".repeat(4 * MIB);
  const sealed = await enc.encryptItem({ pk: { S: "p" }, secret: { S: big } });
  assert.equal((await enc.decryptItem(sealed)).secret.S, big);
  // Records: NaN, Infinity, Symbols and functions as values.
  for (const value of [NaN, Infinity, -Infinity, Symbol("r"), () => 1, undefined, new Date(0), new Map()]) {
    await expectCode("INVALID_ITEM", () => enc.encryptRecord({ pk: "p", doc: value }));
  }
  let deepRecord = "x";
  for (let i = 0; i < 1000; i++) deepRecord = [deepRecord];
  await expectCode("INVALID_ITEM", () => enc.encryptRecord({ pk: "p", doc: deepRecord }));
  await expectCode("INVALID_ITEM", () => enc.encryptRecord({ pk: "p", doc: sparse }));
});
