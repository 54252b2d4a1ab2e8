// The page side of the cross-runtime test and of the browser benchmark row.
// It imports the package the way an app does (bare "fieldseal", no init call)
// and exposes async functions on window.fieldsealPage; Node calls them through
// playwright's page.evaluate with items in wire form (see shared.mjs).
import * as fieldseal from "fieldseal";
import { ItemEncryptor, RawAesKeyring, RawRsaKeyring, FieldsealError } from "fieldseal";
import { errorInfo, fromWire, makeEncryptor, toWire } from "./shared.mjs";
import { measureEncryptor } from "../bench/measure.mjs";
import { measureLargeField, webCryptoAesGcm } from "../bench/large.mjs";

for (const [name, value] of Object.entries({ ItemEncryptor, RawAesKeyring, RawRsaKeyring, FieldsealError })) {
  if (typeof value !== "function") throw new Error(`fieldseal does not export ${name}`);
}

async function run(config, keyringDesc, wireItems, op, batch) {
  const enc = makeEncryptor(fieldseal, config, keyringDesc);
  const items = wireItems.map(fromWire);
  const out = batch
    ? await enc[`${op}Items`](items)
    : await Promise.all(items.map((item) => enc[`${op}Item`](item)));
  return out.map(toWire);
}

window.fieldsealPage = {
  /** Seal wire items; `batch` uses encryptItems instead of encryptItem per item. */
  encrypt: (config, keyringDesc, wireItems, { batch = false } = {}) =>
    run(config, keyringDesc, wireItems, "encrypt", batch),
  decrypt: (config, keyringDesc, wireItems, { batch = false } = {}) =>
    run(config, keyringDesc, wireItems, "decrypt", batch),

  /** Decrypt one item that must fail: what was thrown, or null if it opened. */
  async decryptFailure(config, keyringDesc, wireItem) {
    const enc = makeEncryptor(fieldseal, config, keyringDesc);
    try {
      await enc.decryptItem(fromWire(wireItem));
      return null;
    } catch (e) {
      return { ...errorInfo(e), instanceOfFieldsealError: e instanceof FieldsealError };
    }
  },

  /** The benchmark loop in the page; also returns one round trip for checking. */
  async bench(config, keyringDesc, wireItem, opts) {
    const enc = makeEncryptor(fieldseal, config, keyringDesc);
    const item = fromWire(wireItem);
    const roundTrip = toWire(await enc.decryptItem(await enc.encryptItem(item)));
    const { encrypt, decrypt } = await measureEncryptor(enc, item, opts);
    return { encrypt, decrypt, roundTrip };
  },

  /** The large-fields measurements for one field size, against WebCrypto's AES-256-GCM (see bench/large.mjs). */
  benchLarge: (keyringDesc, bytes, opts) =>
    measureLargeField(fieldseal, keyringDesc, bytes, opts, { WebCrypto: webCryptoAesGcm }),

  info: () => ({ userAgent: navigator.userAgent, crossOriginIsolated: globalThis.crossOriginIsolated }),
};
