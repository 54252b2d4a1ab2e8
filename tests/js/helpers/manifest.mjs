// The DB-ESDK's aws-dbesdk-decrypt manifests, run through fieldseal's JS API.
// Mirrors vectors/src (the Rust runner): the same key descriptions, the same
// shorthand items, the same comparison after number normalization.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import {
  ItemEncryptor,
  MultiKeyring,
  RawAesKeyring,
  RawRsaKeyring,
  StaticBranchKeyKeyring,
} from "fieldseal";

/** Number text kept exactly: JSON.parse would round 38-digit numbers. */
export class JsonNumber {
  constructor(text) {
    this.text = text;
  }
}

/** JSON.parse, but numbers become JsonNumber with their source text. */
export function parseJson(text) {
  let i = 0;
  const ws = () => {
    while (" \t\n\r".includes(text[i]) && i < text.length) i++;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const out = {};
      ws();
      if (text[i] === "}") return i++, out;
      for (;;) {
        ws();
        const k = string();
        ws();
        if (text[i++] !== ":") throw new SyntaxError(`expected : at ${i}`);
        out[k] = value();
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i++] === "}") return out;
        throw new SyntaxError(`expected , or } at ${i}`);
      }
    }
    if (c === "[") {
      i++;
      const out = [];
      ws();
      if (text[i] === "]") return i++, out;
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i++] === "]") return out;
        throw new SyntaxError(`expected , or ] at ${i}`);
      }
    }
    if (c === '"') return string();
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m) return (i += m[0].length), new JsonNumber(m[0]);
    for (const [word, v] of [["true", true], ["false", false], ["null", null]]) {
      if (text.startsWith(word, i)) return (i += word.length), v;
    }
    throw new SyntaxError(`unexpected ${c} at ${i}`);
  };
  const string = () => {
    const start = i;
    if (text[i++] !== '"') throw new SyntaxError(`expected a string at ${start}`);
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const out = value();
  ws();
  if (i !== text.length) throw new SyntaxError(`trailing data at ${i}`);
  return out;
}

const b64 = (s) => new Uint8Array(Buffer.from(s, "base64"));

/** A manifest item (typed DynamoDB JSON, or the shorthand: string = S, number = N) as an item. */
/** An item as the manifests' typed DynamoDB JSON (binary as base64): the inverse of itemFromJson. */
export function itemToJson(item) {
  const value = (v) => {
    const [[tag, x]] = Object.entries(v);
    switch (tag) {
      case "B":
        return { B: Buffer.from(x).toString("base64") };
      case "BS":
        return { BS: x.map((b) => Buffer.from(b).toString("base64")) };
      case "L":
        return { L: x.map(value) };
      case "M":
        return { M: itemToJson(x) };
      default:
        return { [tag]: x };
    }
  };
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, value(v)]));
}

export function itemFromJson(json) {
  return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, valueFromJson(v)]));
}

function numberText(v) {
  return v instanceof JsonNumber ? v.text : String(v);
}

function valueFromJson(v) {
  if (typeof v === "string") return { S: v };
  if (v instanceof JsonNumber) return { N: v.text };
  const [[tag, inner]] = Object.entries(v);
  switch (tag) {
    case "S":
    case "BOOL":
    case "NULL":
      return { [tag]: inner };
    case "N":
      return { N: numberText(inner) };
    case "B":
      return { B: b64(inner) };
    case "SS":
      return { SS: inner };
    case "NS":
      return { NS: inner.map(numberText) };
    case "BS":
      return { BS: inner.map(b64) };
    case "L":
      return { L: inner.map(valueFromJson) };
    case "M":
      return { M: itemFromJson(inner) };
    default:
      throw new Error(`unknown attribute type ${tag}`);
  }
}

/** DynamoDB's number normal form, written independently of the Rust core. */
export function normalizeNumber(text) {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new Error(`not a number: ${text}`);
  const [, sign, int, frac = "", exp = "0"] = m;
  const all = int + frac;
  const leading = all.length - all.replace(/^0+/, "").length;
  // The decimal point's position from the start of the significant digits.
  const point = int.length + Number(exp) - leading;
  let digits = all.slice(leading);
  digits = digits.replace(/0+$/, "");
  if (digits === "") return "0";
  let out;
  if (point <= 0) out = "0." + "0".repeat(-point) + digits;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = digits.slice(0, point) + "." + digits.slice(point);
  return (sign === "-" ? "-" : "") + out;
}

/** An item in a canonical form for comparison: numbers normalized, sets sorted, keys sorted. */
export function canonical(item) {
  return Object.fromEntries(Object.keys(item).sort().map((k) => [k, canonicalValue(item[k])]));
}

const hex = (b) => Buffer.from(b).toString("hex");

/** One attribute value, by its type tag (so a map key named "N" is just a key). */
function canonicalValue(value) {
  const [[tag, inner]] = Object.entries(value);
  switch (tag) {
    case "N":
      return { N: normalizeNumber(inner) };
    case "NS":
      return { NS: inner.map(normalizeNumber).sort() };
    case "SS":
      return { SS: [...inner].sort() };
    case "B":
      return { B: hex(inner) };
    case "BS":
      return { BS: inner.map(hex).sort() };
    case "L":
      return { L: inner.map(canonicalValue) };
    case "M":
      return { M: canonical(inner) };
    default:
      return { [tag]: inner };
  }
}

/** The keys manifest: name -> entry. */
export function loadKeys(manifestPath, ref) {
  const path = ref.replace(/^file:\/\//, "");
  const full = isAbsolute(path) ? path : join(dirname(manifestPath), path);
  return JSON.parse(readFileSync(full, "utf8")).keys;
}

const PADDINGS = { pkcs1: "PKCS1", sha1: "OAEP_SHA1_MGF1", sha256: "OAEP_SHA256_MGF1", sha384: "OAEP_SHA384_MGF1", sha512: "OAEP_SHA512_MGF1" };

/** A keyring from an MPL key description (default: the static branch key). */
export function keyringFor(description, keys) {
  const d = description ?? { type: "aws-kms-hierarchy", key: "static-branch-key-1" };
  const entry = (name) => {
    if (!(name in keys)) throw new Error(`key ${name} is not in keys.json`);
    return keys[name];
  };
  switch (d.type) {
    case "aws-kms-hierarchy": {
      const e = entry(d.key);
      return new StaticBranchKeyKeyring({ branchKeyId: e["key-id"], branchKeyVersion: e.branchKeyVersion, branchKey: b64(e.branchKey) });
    }
    case "raw": {
      const e = entry(d.key);
      if (d["encryption-algorithm"] === "aes") {
        return new RawAesKeyring({ keyNamespace: d["provider-id"], keyName: e["key-id"], wrappingKey: b64(e.material) });
      }
      const half = (type) => Object.values(keys).find((k) => k.algorithm === "rsa" && k.type === type && k["key-id"] === e["key-id"])?.material;
      const padding = PADDINGS[d["padding-algorithm"] === "pkcs1" ? "pkcs1" : d["padding-hash"]];
      return new RawRsaKeyring({
        keyNamespace: d["provider-id"],
        keyName: e["key-id"],
        padding,
        publicKeyPem: e.type === "public" ? e.material : half("public"),
        privateKeyPem: e.type === "private" ? e.material : undefined,
      });
    }
    case "multi-keyring":
      return new MultiKeyring({
        generator: d.generator ? keyringFor(d.generator, keys) : undefined,
        children: (d.children ?? []).map((c) => keyringFor(c, keys)),
      });
    default:
      throw new Error(`unsupported key description ${d.type}`);
  }
}

/** An ItemEncryptor for a test's config, with the official vectors' table defaults. */
export function encryptorFor(config, keys) {
  const { key, ...rest } = config;
  const plain = JSON.parse(JSON.stringify(rest, (_, v) => (v instanceof JsonNumber ? v.text : v)));
  return new ItemEncryptor({
    logicalTableName: "GazelleVectorTable",
    partitionKeyName: "RecNum",
    ...plain,
    keyring: keyringFor(key, keys),
  });
}

/** Run every test of a decrypt manifest; returns [{ id, ok, why }]. */
export async function runDecryptManifest(path) {
  const manifest = parseJson(readFileSync(path, "utf8"));
  if (manifest.manifest?.type !== "aws-dbesdk-decrypt") throw new Error(`${path} is not an aws-dbesdk-decrypt manifest`);
  const keys = loadKeys(path, manifest.keys);
  const results = [];
  for (const [id, test] of Object.entries(manifest.tests)) {
    const positive = test.type === "positive-decrypt";
    let ok;
    let why = "";
    try {
      const encryptor = encryptorFor(test.config, keys);
      const item = await encryptor.decryptItem(itemFromJson(test.encrypted));
      if (positive) {
        const expected = JSON.stringify(canonical(itemFromJson(test.plaintext)));
        ok = JSON.stringify(canonical(item)) === expected;
        if (!ok) why = "decrypted item differs from the manifest's plaintext";
      } else {
        ok = false;
        why = "decryption succeeded but the test expects it to fail";
      }
    } catch (error) {
      ok = !positive && error?.name === "FieldsealError";
      why = `${error?.code ?? "?"}: ${error?.message}`;
    }
    results.push({ id, description: test.description ?? "", ok, why });
  }
  return results;
}
