// Reading values the caller passed without trusting them: the getters a
// subclass or an own property can override (`length`, `byteLength`,
// `buffer`...) are not used, the engine's own ones are; getters and Proxy
// traps that throw become FieldsealErrors; `__proto__` keys are defined, not
// assigned. The wasm layer applies the same rules to what crosses into wasm
// (wasm/src/args.rs); these are for what pkg reads itself.
import { FieldsealError, type ErrorCode } from "./errors.js";

type Getter = (this: unknown) => unknown;

function getter(proto: object, key: PropertyKey): Getter {
  return Object.getOwnPropertyDescriptor(proto, key)!.get as Getter;
}

const typedArray: object = Object.getPrototypeOf(Uint8Array.prototype);
const typed = {
  tag: getter(typedArray, Symbol.toStringTag),
  buffer: getter(typedArray, "buffer"),
  offset: getter(typedArray, "byteOffset"),
  length: getter(typedArray, "byteLength"),
};
const dataView = {
  buffer: getter(DataView.prototype, "buffer"),
  offset: getter(DataView.prototype, "byteOffset"),
  length: getter(DataView.prototype, "byteLength"),
};
const arrayBufferLength = getter(ArrayBuffer.prototype, "byteLength");

/**
 * Whether `value` is a real ArrayBuffer (its internal slot, whatever its
 * prototype or realm). The slot is only testable by a getter that throws, and
 * a thrown TypeError per non-binary object is costly (13% of sealRow on jsonb
 * objects and arrays), so the common shapes are answered first without it:
 * an array is never an ArrayBuffer (Array.isArray reads the slot; it throws
 * only for a revoked Proxy, never an ArrayBuffer either), and an object
 * with Object.prototype or null as prototype and own keys is read as the
 * plain object it is (or poses as: a buffer re-prototyped to Object.prototype
 * and given own keys is read as that object; one without own keys still takes
 * the slot test). That test can run a Proxy's getPrototypeOf/ownKeys traps;
 * whatever they return or throw the answer is right, as no Proxy is an
 * ArrayBuffer, and a trap that throws is reported by the caller's own read.
 */
function isArrayBuffer(value: object): boolean {
  try {
    if (Array.isArray(value)) return false;
    const proto: unknown = Object.getPrototypeOf(value);
    if ((proto === Object.prototype || proto === null) && Reflect.ownKeys(value).length > 0) return false;
  } catch {
    return false;
  }
  try {
    arrayBufferLength.call(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * @internal A copy of the real bytes of binary input: a Uint8Array (only, if
 * `uint8Only`), any typed array or DataView, or an ArrayBuffer. `undefined`
 * if the value is not binary; `"detached"` for a view of a detached buffer.
 */
export function copyBytes(value: unknown, uint8Only = false): Uint8Array | "detached" | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  let view: typeof typed | typeof dataView;
  if (ArrayBuffer.isView(value)) {
    // The tag getter reads an internal slot: undefined for a DataView, never throws.
    const tag = typed.tag.call(value);
    if (uint8Only && tag !== "Uint8Array") return undefined;
    view = tag === undefined ? dataView : typed;
  } else if (!uint8Only && isArrayBuffer(value)) {
    return new Uint8Array(value as ArrayBuffer).slice();
  } else {
    return undefined;
  }
  try {
    const bytes = new Uint8Array(view.buffer.call(value) as ArrayBuffer, view.offset.call(value) as number, view.length.call(value) as number);
    return new Uint8Array(bytes);
  } catch {
    return "detached";
  }
}

/** @internal `object[key] = value` as an own data property, even for `__proto__`. */
export function defineField(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

/**
 * @internal The object's own string keys; a Symbol key is refused (it would
 * otherwise be dropped silently).
 */
export function ownKeys(object: object, refuse: (why: string) => FieldsealError): string[] {
  const keys = Reflect.ownKeys(object);
  for (const key of keys) if (typeof key !== "string") throw refuse(`a Symbol key (${String(key)}) cannot be an attribute name`);
  return keys as string[];
}

/**
 * @internal Run `read` (which reads caller objects); anything it throws that is
 * not a FieldsealError (a getter, a Proxy trap) becomes one with `code`.
 */
export function reading<T>(code: ErrorCode, what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof FieldsealError) throw error;
    throw new FieldsealError(code, `${what}: reading it threw (a getter or Proxy trap)`, { cause: error });
  }
}

/**
 * @internal A snapshot of the options object: each of `keys` read exactly
 * once, so later checks and the wasm layer see the same values.
 */
export function readOptions(options: unknown, what: string, keys: readonly string[]): Record<string, unknown> {
  return reading("INVALID_CONFIG", what, () => {
    if (typeof options !== "object" || options === null) {
      throw new FieldsealError("INVALID_CONFIG", `${what} needs an options object`);
    }
    const snapshot: Record<string, unknown> = {};
    for (const key of keys) snapshot[key] = (options as Record<string, unknown>)[key];
    return snapshot;
  });
}

/** Longest list an option takes (keyrings, key ids, grant tokens, attribute names): far beyond any real use. */
const MAX_OPTION_LIST = 65_536;

/**
 * @internal A copy of an option's array, each element read once; `undefined`
 * if not an array. A (sparse) array longer than any real use is refused
 * instead of walked.
 */
export function copyArray(value: unknown, what: string): unknown[] | undefined {
  return reading("INVALID_CONFIG", what, () => {
    if (!Array.isArray(value)) return undefined;
    const length = (value as unknown[]).length;
    if (length > MAX_OPTION_LIST) throw new FieldsealError("INVALID_CONFIG", `${what} has ${length} entries, more than ${MAX_OPTION_LIST}`);
    const copy: unknown[] = [];
    for (let i = 0; i < length; i++) copy.push((value as unknown[])[i]);
    return copy;
  });
}
