import { FieldsealError, guarded, toFieldsealError } from "./errors.js";
import { copyArray, defineField, ownKeys, reading } from "./hostile.js";
import { freedError, freeQuietly, Keyring } from "./keyrings.js";
import { marshallRecord, unmarshallItem, unmarshallValue } from "./records.js";
import { checkSearch, searchForWasm, snapshotSearch, type SearchConfig } from "./search.js";
import type { AlgorithmSuiteId, CryptoAction, Item, ItemInput, PlainRecord, RecordValue } from "./types.js";
import { loadedWasm, loadWasm } from "./wasm.js";
import type { WasmItemEncryptor } from "./wasm/fieldseal_wasm.js";

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for("Symbol.dispose");

/** How items of one table are sealed. The names are the DB-ESDK's. */
export interface ItemEncryptorConfig {
  /** Bound into every item's encryption context; items only open under the same name. */
  logicalTableName: string;
  partitionKeyName: string;
  sortKeyName?: string;
  /** Every attribute an item may have, and what happens to it. Key attributes must be signed. */
  attributeActionsOnEncrypt: { [attribute: string]: CryptoAction };
  /** Attributes that may appear unsigned (DO_NOTHING) on decrypt. */
  allowedUnsignedAttributes?: string[];
  /** Attributes with this prefix may appear unsigned on decrypt. */
  allowedUnsignedAttributePrefix?: string;
  /** Defaults to `"0x6701"` (ECDSA P-384 signatures), as in the DB-ESDK. */
  algorithmSuiteId?: AlgorithmSuiteId;
  /** The key provider. */
  keyring: Keyring;
  /**
   * Whether the platform's WebCrypto computes ECDSA P-384 (suite 0x6701) and
   * AES-GCM / SHA-384 for values of at least `bulkMinBytes` (default: the
   * measured crossover, 4 KiB in browsers and 16 KiB in Node; see BENCHMARKS.md). Default `true`; it is used only
   * where `crypto.subtle` exists (Node, and browsers in secure contexts).
   * `false` keeps everything in WebAssembly. The stored bytes are the same.
   */
  platformCrypto?: boolean | { bulkMinBytes?: number };
  /**
   * The most wrapped data keys an item may carry, 1 to 255; default 10 (a
   * generator and nine children). Every wrapped key can cost an unwrap attempt
   * (an RSA decryption, a KMS call, your keyring's callback) before anything
   * is verified, so `decryptItem` refuses an item with more, before calling
   * any keyring, and `encryptItem` refuses a keyring that produced more: both
   * reject with `LIMIT_EXCEEDED`. The AWS Encryption SDK's setting of the same name.
   */
  maxEncryptedDataKeys?: number;
  /**
   * Told which keys each operation used, once the keyring has answered: the
   * operation, the logical table, the item's key attributes, and per key its
   * provider id, the key (KMS key ARN, branch key id, raw key name), the
   * branch key version and whether it came from a cache. Never key bytes or
   * plaintext. The client-side half of what CloudTrail records for KMS, and
   * the only record of keys served from a cache. Exceptions it throws are ignored.
   */
  onKeyUse?: (event: KeyUseEvent) => void;
  /**
   * Plaintext items while a table that holds them is migrated (the DB-ESDK's
   * `PlaintextOverride`): `"FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ"`
   * writes items as given and opens both kinds, `"FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ"`
   * seals what it writes and still opens plaintext items (an item with
   * neither `aws_dbe_head` nor `aws_dbe_foot`, returned as stored, unverified), and the default
   * `"FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ"` refuses plaintext items.
   */
  plaintextOverride?: "FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ" | "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ" | "FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ";
  /**
   * Searchable encryption (the DB-ESDK's beacons): on encrypt, each
   * configured beacon is computed from the plaintext with the version's
   * beacon key and added as `aws_dbe_b_<name>` (signed beacons are signed,
   * the beacons of encrypted attributes are not);
   * on decrypt, every `aws_dbe_` attribute is removed. Queries on beacons go
   * through `fieldseal/dynamodb`. The rules (a beacon on an ENCRYPT_AND_SIGN
   * attribute, lengths 1 to 63, names, prefixes, constructors, `writeVersion`)
   * are checked when the encryptor is built: `INVALID_CONFIG` naming the beacon.
   */
  search?: SearchConfig;
}

/** What `onKeyUse` receives. */
export interface KeyUseEvent {
  operation: "encrypt" | "decrypt";
  table: string;
  itemKey: Item;
  keys: { keyProviderId: string; key: string; branchKeyVersion?: string; cacheHit: boolean }[];
}

/** A shape check before the module loads: the action names are the config's type. */
const ACTIONS: readonly string[] = ["ENCRYPT_AND_SIGN", "SIGN_ONLY", "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT", "DO_NOTHING"];

function configError(message: string): FieldsealError {
  return new FieldsealError("INVALID_CONFIG", message);
}

/**
 * The config as a plain object of its own keys (unknown ones are passed on
 * for the core to refuse), each read once (getters and Proxy traps that
 * throw give INVALID_CONFIG), with its own copies of the nested objects and
 * arrays: later changes, or getters answering differently on a second read,
 * cannot reach the checked config.
 */
function snapshotConfig(config: unknown): ItemEncryptorConfig {
  if (typeof config !== "object" || config === null) throw configError("ItemEncryptor needs a config object");
  const snapshot: Record<string, unknown> = {};
  for (const key of Object.keys(config)) {
    const value = (config as Record<string, unknown>)[key];
    if (value !== undefined) defineField(snapshot, key, value);
  }
  const actions = snapshot.attributeActionsOnEncrypt;
  if (typeof actions === "object" && actions !== null && !Array.isArray(actions)) {
    const copy: Record<string, unknown> = {};
    for (const name of ownKeys(actions, (why) => configError(`attributeActionsOnEncrypt: ${why}`))) {
      defineField(copy, name, (actions as Record<string, unknown>)[name]);
    }
    snapshot.attributeActionsOnEncrypt = Object.freeze(copy);
  }
  const unsigned = copyArray(snapshot.allowedUnsignedAttributes, "allowedUnsignedAttributes");
  if (unsigned) snapshot.allowedUnsignedAttributes = unsigned;
  const platform = snapshot.platformCrypto;
  if (typeof platform === "object" && platform !== null) {
    snapshot.platformCrypto = { bulkMinBytes: (platform as { bulkMinBytes?: unknown }).bulkMinBytes };
  }
  if (snapshot.search !== undefined) snapshot.search = snapshotSearch(snapshot.search);
  return snapshot as unknown as ItemEncryptorConfig;
}

/** Checks of the config's shape, before the module loads; the rules (known keys, suites, key attributes signed...) are the core's. */
function checkConfig(config: ItemEncryptorConfig): void {
  for (const k of ["logicalTableName", "partitionKeyName"] as const) {
    if (typeof config[k] !== "string" || config[k].length === 0) throw configError(`${k} must be a non-empty string`);
  }
  if (config.sortKeyName !== undefined && typeof config.sortKeyName !== "string") throw configError("sortKeyName must be a string");
  const actions = config.attributeActionsOnEncrypt;
  if (typeof actions !== "object" || actions === null || Array.isArray(actions)) {
    throw configError("attributeActionsOnEncrypt must be an object of attribute name to action");
  }
  for (const [name, action] of Object.entries(actions)) {
    if (!ACTIONS.includes(action as string)) throw configError(`attributeActionsOnEncrypt[${JSON.stringify(name)}] must be one of ${ACTIONS.join(", ")}`);
  }
  if (!(config.keyring instanceof Keyring)) throw configError("keyring must be a fieldseal keyring (RawAesKeyring, MultiKeyring, ...)");
  const unsigned = config.allowedUnsignedAttributes;
  if (unsigned !== undefined && (!Array.isArray(unsigned) || !unsigned.every((a) => typeof a === "string"))) {
    throw configError("allowedUnsignedAttributes must be an array of strings");
  }
  if (config.allowedUnsignedAttributePrefix !== undefined && typeof config.allowedUnsignedAttributePrefix !== "string") {
    throw configError("allowedUnsignedAttributePrefix must be a string");
  }
  const platform = config.platformCrypto;
  if (platform !== undefined && typeof platform !== "boolean" && (typeof platform !== "object" || platform === null)) {
    throw configError("platformCrypto must be true, false or { bulkMinBytes: a non-negative integer }");
  }
  if (config.onKeyUse !== undefined && typeof config.onKeyUse !== "function") throw configError("onKeyUse must be a function");
  if (config.search !== undefined) checkSearch(config.search);
  // A shape (null is not absent here); the range (1 to 255) is the core's rule.
  if (config.maxEncryptedDataKeys !== undefined && !Number.isInteger(config.maxEncryptedDataKeys)) {
    throw configError("maxEncryptedDataKeys must be an integer");
  }
}

/** A batch of records as items; holes and non-arrays are refused, getters that throw give INVALID_ITEM. */
function recordItems(records: unknown): Item[] {
  return reading("INVALID_ITEM", "records", () => {
    if (!Array.isArray(records)) throw new FieldsealError("INVALID_ITEM", "expected an array of records");
    const items: Item[] = [];
    for (let i = 0; i < records.length; i++) {
      if (!(i in records)) throw new FieldsealError("INVALID_ITEM", `record #${i} is a hole in a sparse array`);
      items.push(marshallRecord(records[i] as PlainRecord, `record #${i}`));
    }
    return items;
  });
}

/**
 * Seals and opens items of one table: encrypts the ENCRYPT_AND_SIGN
 * attributes, signs the signed ones, and adds `aws_dbe_head` and
 * `aws_dbe_foot`, byte-compatible with the AWS Database Encryption SDK for
 * DynamoDB. All methods are async and safe to call concurrently.
 *
 * @example
 * const encryptor = new ItemEncryptor({
 *   logicalTableName: "Orders", partitionKeyName: "pk", sortKeyName: "sk",
 *   attributeActionsOnEncrypt: { pk: "SIGN_ONLY", sk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN" },
 *   keyring,
 * });
 * const sealed = await encryptor.encryptItem({ pk: { S: "order#1" }, sk: { N: "1" }, card: { S: "4111..." } });
 */
export class ItemEncryptor {
  readonly config: Readonly<ItemEncryptorConfig>;
  #inner: Promise<WasmItemEncryptor> | undefined;
  /** Set once built: calls then go straight to WebAssembly, which reads the item synchronously. */
  #ready: WasmItemEncryptor | undefined;
  #freed = false;

  /** Checks the config's shape now (and the core's rules of names, if loaded); the rest rejects the first use with INVALID_CONFIG. */
  constructor(config: ItemEncryptorConfig) {
    this.config = reading("INVALID_CONFIG", "the ItemEncryptor config", () => {
      const snapshot = snapshotConfig(config);
      checkConfig(snapshot);
      return Object.freeze(snapshot);
    });
    try {
      loadedWasm()?.WasmItemEncryptor.checkOptions({ ...this.config, keyring: undefined });
    } catch (error) {
      throw toFieldsealError(error);
    }
  }

  async #encryptor(): Promise<WasmItemEncryptor> {
    // Loading is outside the memo: a failed load (WASM_LOAD_FAILED) is retried
    // on the next call; a failed build (a config rule) is final.
    const wasm = await loadWasm();
    if (this.#freed) throw freedError("ItemEncryptor");
    this.#inner ??= (async () => {
      const keyring = await this.config.keyring.share();
      // Each version's KeyStore as a new handle to its WebAssembly store, which the encryptor takes.
      const stores = this.config.search === undefined ? undefined : await searchForWasm(this.config.search).catch((error) => {
        freeQuietly(keyring);
        throw error;
      });
      try {
        const { keyring: _, ...rest } = this.config;
        const options = stores ? { ...rest, search: stores.search as SearchConfig } : rest;
        return (this.#ready = new wasm.WasmItemEncryptor(options, keyring));
      } finally {
        freeQuietly(keyring);
        stores?.release();
      }
    })();
    const encryptor = await this.#inner;
    if (this.#freed) throw freedError("ItemEncryptor");
    return encryptor;
  }

  #run<T>(operation: (encryptor: WasmItemEncryptor) => Promise<T>): Promise<T> {
    const ready = this.#ready;
    if (this.#freed) return Promise.reject(freedError("ItemEncryptor"));
    // Built: call now, so the item is read before this method returns.
    if (ready) return guarded(() => operation(ready));
    return guarded(async () => operation(await this.#encryptor()));
  }

  /**
   * Seal one item (`@aws-sdk/client-dynamodb` AttributeValue shape): encrypt
   * its ENCRYPT_AND_SIGN attributes, sign, and add `aws_dbe_head` and
   * `aws_dbe_foot`. The result is a new item; pass it to PutItem.
   *
   * The item is read when the call is made (after the first call, which
   * loads the module first), so it is safe to reuse the object afterwards;
   * to be safe on the first call too, don't change it before the promise
   * settles.
   *
   * @example
   * const sealed = await encryptor.encryptItem({ pk: { S: "order#1" }, sk: { N: "1" }, card: { S: "4111 1111 1111 1111" } });
   * await client.send(new PutItemCommand({ TableName: "Orders", Item: sealed }));
   */
  encryptItem(item: ItemInput): Promise<Item> {
    return this.#run((e) => e.encryptItem(item));
  }

  /**
   * Open one sealed item: verify its signatures and decrypt its encrypted
   * attributes. Rejects with `INTEGRITY_FAILURE` if anything signed was
   * changed, `NO_MATCHING_KEY` if the keyring cannot unwrap its data key,
   * `LIMIT_EXCEEDED` if it carries more wrapped keys than `maxEncryptedDataKeys`.
   * Numbers come back normalized, as DynamoDB stores them (`"1.50"` → `"1.5"`).
   * Attributes under the reserved `aws_dbe_` prefix (header, footer,
   * beacons, anything added) are left out, as the DB-ESDK does.
   *
   * @example
   * const { Item } = await client.send(new GetItemCommand({ TableName: "Orders", Key: { pk: { S: "order#1" }, sk: { N: "1" } } }));
   * const item = await encryptor.decryptItem(Item!);
   */
  decryptItem(item: ItemInput): Promise<Item> {
    return this.#run((e) => e.decryptItem(item));
  }

  /** Seal a batch in one call. All or nothing: the first failure rejects, naming the item's index. */
  encryptItems(items: ItemInput[]): Promise<Item[]> {
    return this.#run((e) => e.encryptItems(items));
  }

  /** Open a batch in one call. All or nothing. */
  decryptItems(items: ItemInput[]): Promise<Item[]> {
    return this.#run((e) => e.decryptItems(items));
  }

  /**
   * Seal a record (a SQL row) of plain JS values. Values are mapped like
   * `@aws-sdk/util-dynamodb`'s `marshall`. The result is a plain object in
   * which every encrypted field, `aws_dbe_head` and `aws_dbe_foot` are
   * `Uint8Array`s (for `bytea`/`varbinary` columns), and the other fields are
   * as given.
   *
   * string → S, number → N (finite; integers within ±2^53, else pass a
   * bigint), bigint → N, boolean → BOOL, null → NULL, Uint8Array / typed array /
   * ArrayBuffer → B (copied), array → L, plain object → M, Set of strings /
   * numbers and bigints / Uint8Arrays → SS / NS / BS. Anything else (undefined,
   * Date, Map, class instances, functions) rejects with `INVALID_ITEM` naming
   * the field. On the way back N becomes a `number` when exact, else a
   * `bigint` (so `5n` comes back as `5`).
   *
   * @example
   * const sealed = await encryptor.encryptRecord({ pk: "customer#42", sk: "order#2", card: "5500 0000 0000 0004", total: 12.5 });
   * sealed.card instanceof Uint8Array; // true: store it in a bytea column
   * await encryptor.decryptRecord(sealed); // { pk: "customer#42", sk: "order#2", card: "5500 0000 0000 0004", total: 12.5 }
   */
  encryptRecord(record: PlainRecord): Promise<SealedRecord> {
    return guarded(async () => toSealedRecord(await this.encryptItem(marshallRecord(record))));
  }

  /** Open a sealed record: gives back the record that was sealed. */
  decryptRecord(record: SealedRecord): Promise<PlainRecord> {
    return guarded(async () => unmarshallItem(await this.decryptItem(marshallRecord(record as PlainRecord))));
  }

  /** {@link encryptRecord} for a batch, all or nothing. */
  encryptRecords(records: PlainRecord[]): Promise<SealedRecord[]> {
    return guarded(async () => (await this.encryptItems(recordItems(records))).map(toSealedRecord));
  }

  /** {@link decryptRecord} for a batch, all or nothing. */
  decryptRecords(records: SealedRecord[]): Promise<PlainRecord[]> {
    return guarded(async () => (await this.decryptItems(recordItems(records))).map((item) => unmarshallItem(item)));
  }

  /** @internal The encryptor's WebAssembly side, built on first use (the DynamoDB plug-in shares it). */
  static wasmOf(encryptor: ItemEncryptor): Promise<WasmItemEncryptor> {
    return guarded(() => encryptor.#encryptor());
  }

  /** Release the WebAssembly side now (it is also released when this object is garbage collected). */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#ready = undefined;
    this.#inner?.then(freeQuietly, () => undefined);
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
Object.defineProperty(ItemEncryptor.prototype, disposeSymbol, { value: ItemEncryptor.prototype.free });

/** A sealed record: encrypted fields and `aws_dbe_head`/`aws_dbe_foot` are bytes. */
export type SealedRecord = { [name: string]: RecordValue };

function toSealedRecord(item: Item): SealedRecord {
  const out: SealedRecord = {};
  for (const [k, v] of Object.entries(item)) defineField(out, k, unmarshallValue(v, k));
  return out;
}
