import type { Item } from "./types.js";

/**
 * The stable error codes of fieldseal. Branch on `error.code`, never on the
 * message: messages may be reworded, codes will not change.
 */
export type ErrorCode =
  /** The encryptor or keyring configuration is unusable. */
  | "INVALID_CONFIG"
  /** A plaintext item or record cannot be sealed as given. */
  | "INVALID_ITEM"
  /** Sealed bytes (header, footer, field, data key) do not parse. */
  | "MALFORMED_CIPHERTEXT"
  /** A MAC, signature, commitment or AEAD tag did not verify: tampering or the wrong item. */
  | "INTEGRITY_FAILURE"
  /** No keyring could open any of the item's encrypted data keys. */
  | "NO_MATCHING_KEY"
  /** A key provider (custom keyring, KMS) failed or misbehaved. */
  | "KEY_PROVIDER_FAILURE"
  /** The branch key store failed: a DynamoDB call failed, a branch key or version is not in the store, or a stored item is malformed or does not match the key store's configuration. */
  | "KEY_STORE_FAILURE"
  /** Key material has the wrong length or does not parse. */
  | "INVALID_KEY"
  /** A size limit of the format or of DynamoDB is exceeded, or an item carries more wrapped data keys than `maxEncryptedDataKeys`. */
  | "LIMIT_EXCEEDED"
  /** A DynamoDB request that client-side encryption cannot allow on a configured table (a condition on an encrypted attribute, an update of a signed one, PartiQL, a legacy parameter...). Refused before any network call. */
  | "REQUEST_REFUSED"
  /** The WebAssembly module could not be fetched, compiled or instantiated. */
  | "WASM_LOAD_FAILED"
  /** An encryptor or keyring was used after `free()` (or after `using` disposed it). */
  | "OBJECT_FREED"
  /** A bug in fieldseal, not in your input or configuration: please report it. */
  | "INTERNAL_ERROR";

const CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "INVALID_CONFIG",
  "INVALID_ITEM",
  "MALFORMED_CIPHERTEXT",
  "INTEGRITY_FAILURE",
  "NO_MATCHING_KEY",
  "KEY_PROVIDER_FAILURE",
  "KEY_STORE_FAILURE",
  "INVALID_KEY",
  "LIMIT_EXCEEDED",
  "REQUEST_REFUSED",
  "WASM_LOAD_FAILED",
  "OBJECT_FREED",
  "INTERNAL_ERROR",
]);

/**
 * Every failure of fieldseal is a `FieldsealError`: a real `Error` with a
 * stable {@link ErrorCode} in `code`. Messages name attributes, providers and
 * sizes, never key bytes or plaintext values.
 *
 * @example
 * try { await encryptor.decryptItem(item); }
 * catch (e) { if (e instanceof FieldsealError && e.code === "INTEGRITY_FAILURE") { ... } }
 */
export class FieldsealError extends Error {
  readonly code: ErrorCode;
  /** `fieldseal/dynamodb`: the table of the item that failed to seal or open. */
  readonly table?: string;
  /** `fieldseal/dynamodb`: that item's key attributes (never encrypted), as AttributeValues. */
  readonly itemKey?: Item;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; table?: string; itemKey?: Item }) {
    super(message, options);
    this.name = "FieldsealError";
    this.code = code;
    if (options?.table !== undefined) this.table = options.table;
    if (options?.itemKey !== undefined) this.itemKey = options.itemKey;
  }
}

/** @internal Errors from the wasm layer carry `name` and `code`; give them our class. */
export function toFieldsealError(error: unknown): FieldsealError {
  if (error instanceof FieldsealError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === "string" && CODES.has(code)) {
    const { table, itemKey } = error as { table?: unknown; itemKey?: unknown };
    return new FieldsealError(code as ErrorCode, error.message, {
      table: typeof table === "string" ? table : undefined,
      itemKey: typeof itemKey === "object" && itemKey !== null ? (itemKey as Item) : undefined,
    });
  }
  // wasm-bindgen's refusal of a freed handle; anything else (a trap) is a bug in fieldseal.
  if ((error as Error)?.message === "null pointer passed to rust") {
    return new FieldsealError("OBJECT_FREED", "this object was freed", { cause: error });
  }
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new FieldsealError("INTERNAL_ERROR", `internal error in fieldseal: ${what}`, { cause: error });
}

/** @internal Run `operation`, turning whatever it throws into a FieldsealError. */
export async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toFieldsealError(error);
  }
}
