// The "large fields" section of the benchmark, shared by Node and the browser
// page (Web APIs only: crypto.getRandomValues, crypto.subtle, performance.now).
// One item { pk, v } whose binary value v grows from 1 KiB to 1 MiB, sealed
// and opened under each platformCrypto setting, next to the runtime's own
// AES-256-GCM on the same bytes: the platform cipher alone is the ceiling, so
// fieldseal's MB/s against it shows what the format, the signature and the
// hops between JS, wasm and WebCrypto cost on large values.

import { measure } from "./measure.mjs";
import { makeEncryptor } from "../browser/shared.mjs";

export const LARGE_SIZES = [1, 4, 8, 16, 32, 64, 256, 1024].map((kib) => kib * 1024);

/**
 * The platformCrypto settings compared, by the name used in results:
 * the default (WebCrypto from 16 KiB), pure wasm, and WebCrypto at every size.
 */
export const SETTINGS = {
  default: undefined,
  wasm: false,
  platform: { bulkMinBytes: 0 },
};

/** The table of the large-fields item; `platformCrypto` undefined leaves the default. */
export function largeConfig(platformCrypto) {
  return {
    logicalTableName: "BenchLarge",
    partitionKeyName: "pk",
    attributeActionsOnEncrypt: { pk: "SIGN_ONLY", v: "ENCRYPT_AND_SIGN" },
    algorithmSuiteId: "0x6700",
    ...(platformCrypto === undefined ? {} : { platformCrypto }),
  };
}

/** Random bytes of any length (getRandomValues fills at most 64 KiB per call). */
export function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

function assertSameBytes(label, got, want) {
  const same = got instanceof Uint8Array && got.length === want.length && got.every((b, i) => b === want[i]);
  if (!same) throw new Error(`${label}: round trip does not give back the ${want.length}-byte value`);
}

/** MB/s (10^6 bytes of the field value per second) of a measurement of one value per call. */
function throughput(bytes, m) {
  return { MBps: (bytes * m.itemsPerSec) / 1e6, iterations: m.iterations, seconds: m.seconds };
}

/**
 * AES-256-GCM through WebCrypto: the key imported once, a fresh 12-byte IV
 * per message (as a real sealer must), one awaited call per message.
 */
export async function webCryptoAesGcm(rawKey) {
  const key = await crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  return {
    seal: async (data) => {
      const iv = randomBytes(12);
      return { iv, ct: await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, data) };
    },
    open: async ({ iv, ct }) => new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, ct)),
  };
}

/** One platform cipher on one value: checks it opens what it sealed, then its sealing MB/s. */
async function measureCipher(name, makeCipher, value, opts) {
  const cipher = await makeCipher(randomBytes(32));
  assertSameBytes(`${name} ${value.length} B`, await cipher.open(await cipher.seal(value)), value);
  return throughput(value.length, await measure(() => cipher.seal(value), opts));
}

/** One platformCrypto setting on one value: checks a round trip, then encryptItem and decryptItem MB/s. */
async function measureSetting(fieldseal, name, keyringDesc, value, opts) {
  const enc = makeEncryptor(fieldseal, largeConfig(SETTINGS[name]), keyringDesc);
  const item = { pk: { S: "p" }, v: { B: value } };
  const sealed = await enc.encryptItem(item);
  assertSameBytes(`fieldseal (${name}) ${value.length} B`, (await enc.decryptItem(sealed)).v?.B, value);
  const encrypt = await measure(() => enc.encryptItem(item), opts);
  const decrypt = await measure(() => enc.decryptItem(sealed), opts);
  enc.free();
  return { encrypt: throughput(value.length, encrypt), decrypt: throughput(value.length, decrypt) };
}

/**
 * Everything measured for one field size in this runtime:
 * { bytes, fieldseal: { default|wasm|platform: { encrypt, decrypt } }, aesGcm: { <cipher>: sealing } },
 * each measurement { MBps, iterations, seconds }. `ciphers` maps a name to
 * `async (rawKey) => ({ seal(data), open(sealed) })`.
 */
export async function measureLargeField(fieldseal, keyringDesc, bytes, opts, ciphers) {
  const value = randomBytes(bytes);
  const out = { bytes, fieldseal: {}, aesGcm: {} };
  for (const name of Object.keys(SETTINGS)) out.fieldseal[name] = await measureSetting(fieldseal, name, keyringDesc, value, opts);
  for (const [name, make] of Object.entries(ciphers)) out.aesGcm[name] = await measureCipher(name, make, value, opts);
  return out;
}
