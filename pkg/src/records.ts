// Plain JS values <-> DynamoDB attribute values, the way
// @aws-sdk/util-dynamodb's marshall/unmarshall do it, so that a record (a SQL
// row) goes through the same sealing as an item and comes back as it went in.
import { FieldsealError } from "./errors.js";
import { copyBytes, defineField, ownKeys, reading } from "./hostile.js";
import type { AttributeValue, Item, PlainRecord, RecordValue } from "./types.js";

/** DynamoDB's nesting limit; also stops runaway recursion on cycles. */
const MAX_DEPTH = 32;

function invalid(path: string, why: string): FieldsealError {
  return new FieldsealError("INVALID_ITEM", `${path}: ${why}`);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Binary values as a Uint8Array copy of their real bytes: the record is read
 * when the call is made, later changes to it do not matter.
 */
function bytesOf(value: unknown, path: string): Uint8Array | undefined {
  const bytes = copyBytes(value);
  if (bytes === "detached") throw invalid(path, "a view of a detached ArrayBuffer has no bytes to store");
  return bytes;
}

/** Plain objects' entries, refusing Symbol keys (which would be dropped). */
function entriesOf(value: object, path: string): [string, unknown][] {
  return ownKeys(value, (why) => invalid(path, why)).map((k) => [k, (value as Record<string, unknown>)[k]]);
}

/** Holes are refused at the first one: a sparse array may claim 2^32-1 elements. */
function listOf(value: unknown[], path: string, depth: number): AttributeValue {
  const out: AttributeValue[] = [];
  for (let i = 0; i < value.length; i++) {
    if (!(i in value)) throw invalid(`${path}[${i}]`, "a hole in a sparse array cannot be stored");
    out.push(marshallValue(value[i], `${path}[${i}]`, depth + 1));
  }
  return { L: out };
}

function numberText(value: number | bigint, path: string): string {
  if (typeof value === "bigint") return value.toString();
  if (!Number.isFinite(value)) throw invalid(path, `${value} is not a number DynamoDB can store`);
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    throw invalid(path, "an integer beyond Number.MAX_SAFE_INTEGER has lost precision already; pass it as a bigint");
  }
  return plainDecimal(String(value));
}

function marshallSet(set: Set<unknown>, path: string): AttributeValue {
  const members = [...set];
  if (members.length === 0) throw invalid(path, "an empty Set has no DynamoDB type (SS, NS or BS)");
  if (members.every((m) => typeof m === "string")) return { SS: members as string[] };
  if (members.every((m) => typeof m === "number" || typeof m === "bigint")) {
    return { NS: members.map((m) => numberText(m as number | bigint, path)) };
  }
  const bytes = members.map((m) => bytesOf(m, path));
  if (bytes.every((b) => b !== undefined)) return { BS: bytes as Uint8Array[] };
  throw invalid(path, "a Set must hold only strings, only numbers/bigints, or only binary values");
}

/** @internal One plain value as an attribute value. */
export function marshallValue(value: unknown, path: string, depth = 0): AttributeValue {
  if (depth >= MAX_DEPTH) throw invalid(path, `nested deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case "string":
      return { S: value };
    case "number":
    case "bigint":
      return { N: numberText(value, path) };
    case "boolean":
      return { BOOL: value };
    case "object": {
      if (value === null) return { NULL: true };
      const bytes = bytesOf(value, path);
      if (bytes) return { B: bytes };
      if (Array.isArray(value)) return listOf(value, path, depth);
      if (value instanceof Set) return marshallSet(value, path);
      // lib-dynamodb's NumberValue (its unmarshall with wrapNumbers): the number's exact text.
      if ((value as object).constructor?.name === "NumberValue" && typeof (value as { value?: unknown }).value === "string") {
        return { N: (value as { value: string }).value };
      }
      if (isPlainObject(value)) {
        const m: Item = {};
        for (const [k, v] of entriesOf(value, path)) defineField(m, k, marshallValue(v, `${path}.${k}`, depth + 1));
        return { M: m };
      }
      const kind = (value as object).constructor?.name ?? "object";
      throw invalid(path, `a ${kind} cannot be stored; use a string, number, bigint, boolean, null, Uint8Array, array, Set or plain object`);
    }
    default:
      throw invalid(path, `${typeof value} cannot be stored`);
  }
}

/** @internal A record as an item. Getters and Proxy traps that throw give INVALID_ITEM. */
export function marshallRecord(record: PlainRecord, what = "record"): Item {
  return reading("INVALID_ITEM", what, () => {
    if (typeof record !== "object" || record === null || Array.isArray(record) || !isPlainObject(record)) {
      throw new FieldsealError("INVALID_ITEM", `${what} must be a plain object`);
    }
    const item: Item = {};
    for (const [k, v] of entriesOf(record, what)) defineField(item, k, marshallValue(v, k));
    return item;
  });
}

/**
 * A DynamoDB number as JS: a `number` when that is exact, else a `bigint`
 * for integers. Anything else would lose digits, so it is refused.
 */
function unmarshallNumber(text: string, path: string): number | bigint {
  const n = Number(text);
  // Integers beyond the safe range can only have come from a bigint (marshalling refuses such numbers).
  if (/^-?\d+$/.test(text) && !Number.isSafeInteger(n)) return BigInt(text);
  if (Number.isFinite(n) && plainDecimal(String(n)) === text) return n;
  throw invalid(path, "the number has more precision than a JS number holds, and is not an integer (no bigint either); read it with decryptItem, where N stays a string with every digit");
}

/** JS's exponent form (1e-7, 1.5e+21) as DynamoDB's plain decimal. */
function plainDecimal(js: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(js);
  if (!match) return js;
  const [, sign, int, frac = "", expText] = match;
  const exp = Number(expText);
  const digits = int + frac;
  const point = int.length + exp;
  let out: string;
  if (point <= 0) out = "0." + "0".repeat(-point) + digits;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = digits.slice(0, point) + "." + digits.slice(point);
  out = out.replace(/^0+(?=\d)/, "");
  if (out.includes(".")) out = out.replace(/\.?0+$/, "");
  return sign + out;
}

/** @internal An attribute value as a plain value. */
export function unmarshallValue(value: AttributeValue, path: string): RecordValue {
  const v = value as Partial<Record<string, unknown>>;
  if (v.S !== undefined) return v.S as string;
  if (v.N !== undefined) return unmarshallNumber(v.N as string, path);
  if (v.B !== undefined) return v.B as Uint8Array;
  if (v.BOOL !== undefined) return v.BOOL as boolean;
  if (v.NULL !== undefined) return null;
  if (v.L !== undefined) return (v.L as AttributeValue[]).map((e, i) => unmarshallValue(e, `${path}[${i}]`));
  if (v.M !== undefined) return unmarshallItem(v.M as Item, path + ".");
  if (v.SS !== undefined) return new Set(v.SS as string[]);
  if (v.NS !== undefined) return new Set((v.NS as string[]).map((n) => unmarshallNumber(n, path))) as Set<number | bigint>;
  if (v.BS !== undefined) return new Set(v.BS as Uint8Array[]);
  throw invalid(path, "unknown attribute value");
}

/** @internal An item as a record. */
export function unmarshallItem(item: Item, prefix = ""): PlainRecord {
  const record: PlainRecord = {};
  for (const [k, v] of Object.entries(item)) defineField(record, k, unmarshallValue(v, prefix + k));
  return record;
}
