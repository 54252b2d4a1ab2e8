// The branch key store and the AWS KMS hierarchical keyring, exported from
// "fieldseal/kms" (kms.ts re-exports this module). The store's format is the
// AWS Material Providers Library's, so a store written by the official SDKs
// and one written here are the same store.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KMSClient } from "@aws-sdk/client-kms";
import { FieldsealError, guarded, toFieldsealError } from "./errors.js";
import { defineField, ownKeys, readOptions, reading } from "./hostile.js";
import { freedError, freeQuietly, Keyring } from "./keyrings.js";
import { checkProvider, checkString, grantTokens, kmsCall, optionalPeer, type KmsClientProvider } from "./kms-client.js";
import type { Item } from "./types.js";
import { loadedWasm, loadWasm, type Bindings } from "./wasm.js";
import type { WasmBranchKeyCache, WasmKeyring, WasmKeyStore } from "./wasm/fieldseal_wasm.js";

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for("Symbol.dispose");

/** Your `@aws-sdk/client-dynamodb` v3 client (or anything with its `send`). */
export type DynamoDbClient = Pick<DynamoDBClient, "send">;

/**
 * Which KMS key wraps the store's branch keys, with the MPL's names; exactly one of:
 * - `{ kmsKeyArn }`: one key, compared exactly with each item's `kms-arn`;
 * - `{ kmsMRKeyArn }`: a multi-Region key; any replica's items are accepted, and KMS is called with this ARN;
 * - `{ discovery: {} }`: whatever key each item names (reads only);
 * - `{ mrDiscovery: { region } }`: as discovery, with multi-Region keys called through their replica in `region` (reads only).
 */
export type KmsConfiguration =
  | { kmsKeyArn: string }
  | { kmsMRKeyArn: string }
  | { discovery: Record<string, never> }
  | { mrDiscovery: { region: string } };

export interface KeyStoreConfig {
  /** The DynamoDB table that holds the branch keys. */
  ddbTableName: string;
  /** Bound into every branch key's KMS encryption context, so a restored or renamed table keeps working. Must be the same for every reader of the store. */
  logicalKeyStoreName: string;
  kmsConfiguration: KmsConfiguration;
  /** Your DynamoDB client; fieldseal sends GetItem, TransactWriteItems, DescribeTable and CreateTable through it. */
  ddbClient: DynamoDbClient;
  /** Your KMS client, used for every KMS call. Give this or `clientProvider`. */
  kmsClient?: Pick<KMSClient, "send">;
  /** A KMS client per region (discovery configurations may call several). Give this or `kmsClient`. */
  clientProvider?: KmsClientProvider;
  /** Passed to every KMS call. */
  grantTokens?: string[];
}

export interface CreateKeyInput {
  /** A custom id; by default a random UUID. A custom id needs an `encryptionContext`. */
  branchKeyIdentifier?: string;
  /** Stored with the key (as `aws-crypto-ec:` attributes) and bound into its KMS encryption context: scope IAM policies with it. */
  encryptionContext?: { [key: string]: string };
}

/** A branch key as the official `GetActiveBranchKey` / `GetBranchKeyVersion` return it. */
export interface BranchKeyMaterials {
  branchKeyIdentifier: string;
  /** The version UUID. */
  branchKeyVersion: string;
  /** The custom encryption context given to `createKey`, without its prefix. */
  encryptionContext: { [key: string]: string };
  /** The 32-byte key in plaintext: keep it out of logs. */
  branchKey: Uint8Array;
}

/** A beacon key as the official `GetBeaconKey` returns it (the root of searchable-encryption keys). */
export interface BeaconKeyMaterials {
  beaconKeyIdentifier: string;
  beaconKey: Uint8Array;
  encryptionContext: { [key: string]: string };
}

function configError(message: string): FieldsealError {
  return new FieldsealError("INVALID_CONFIG", message);
}

/**
 * `readOptions`, refusing keys it does not know (as the wasm layer does): a
 * misspelt `branchKeyIdentifier` must not quietly create a key under a random id.
 */
function readKnown(value: unknown, what: string, keys: readonly string[]): Record<string, unknown> {
  const snapshot = readOptions(value, what, keys);
  const given = reading("INVALID_CONFIG", what, () => ownKeys(value as object, (why) => configError(`${what}: ${why}`)));
  const unknown = given.find((key) => !keys.includes(key));
  if (unknown !== undefined) throw configError(`unknown key ${JSON.stringify(unknown)} in ${what} (expected one of ${keys.join(", ")})`);
  return snapshot;
}

type DdbOperation = "GetItem" | "TransactWriteItems" | "DescribeTable" | "CreateTable";
/**
 * @aws-sdk/client-dynamodb, on the key store's first DynamoDB call: importing
 * "fieldseal/kms" for the KMS keyrings alone must not need it.
 */
const ddbCommands = optionalPeer(() => import("@aws-sdk/client-dynamodb"), "the key store needs @aws-sdk/client-dynamodb v3");

/** The function the wasm layer calls: one DynamoDB command sent with the user's client. */
function ddbCall(client: DynamoDbClient): (operation: DdbOperation, input: object) => Promise<unknown> {
  return async (operation, input) => {
    const m = await ddbCommands();
    const commands = {
      GetItem: m.GetItemCommand,
      TransactWriteItems: m.TransactWriteItemsCommand,
      DescribeTable: m.DescribeTableCommand,
      CreateTable: m.CreateTableCommand,
    };
    const Command = commands[operation] as new (input: never) => unknown;
    return client.send(new Command(input as never) as never);
  };
}

function checkClient(value: unknown, what: string): void {
  if (typeof value !== "object" || value === null || typeof (value as { send?: unknown }).send !== "function") {
    throw configError(`${what} must be an AWS SDK v3 client (an object with send)`);
  }
}

/** A copy of `kmsConfiguration`, so later changes to the caller's object cannot reach the store. */
function copyKmsConfiguration(value: unknown): Record<string, unknown> {
  const c = readKnown(value, "kmsConfiguration", ["kmsKeyArn", "kmsMRKeyArn", "discovery", "mrDiscovery"]);
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(c)) {
    if (v === undefined) continue;
    copy[key] = key === "mrDiscovery" ? readKnown(v, "kmsConfiguration.mrDiscovery", ["region"]) : key === "discovery" ? readKnown(v, "kmsConfiguration.discovery", []) : v;
  }
  return copy;
}

const ID = ["branchKeyIdentifier"] as const;

/** createKey's input as a snapshot, with its own copy of the encryption context. */
function createKeyRequest(input: unknown): object {
  const o = readKnown(input, "createKey input", ["branchKeyIdentifier", "encryptionContext"]);
  const context = o.encryptionContext;
  if (typeof context !== "object" || context === null) return o;
  const copy: Record<string, unknown> = {};
  for (const key of ownKeys(context, (why) => configError(`encryptionContext: ${why}`))) {
    defineField(copy, key, (context as Record<string, unknown>)[key]);
  }
  return { ...o, encryptionContext: copy };
}

/**
 * A branch key store: branch keys (and beacon keys) in a DynamoDB table,
 * each wrapped by AWS KMS, in the official format. Reads serve the
 * hierarchical keyring; `createKeyStore`, `createKey` and `versionKey` are the
 * admin operations. Every failure is a `FieldsealError`: `KEY_STORE_FAILURE`
 * for DynamoDB errors and missing, malformed or mismatched items (naming the
 * branch key and the table), `KEY_PROVIDER_FAILURE` for KMS errors,
 * `INVALID_CONFIG` for bad input.
 *
 * @example
 * const keyStore = new KeyStore({
 *   ddbTableName: "KeyStore", logicalKeyStoreName: "KeyStore",
 *   kmsConfiguration: { kmsKeyArn }, ddbClient: new DynamoDBClient({}), kmsClient: new KMSClient({}),
 * });
 * const { branchKeyIdentifier } = await keyStore.createKey();
 */
export class KeyStore {
  readonly ddbTableName: string;
  readonly logicalKeyStoreName: string;
  readonly kmsConfiguration: KmsConfiguration;
  readonly #options: object;
  #handle: Promise<WasmKeyStore> | undefined;
  #freed = false;

  constructor(config: KeyStoreConfig) {
    const o = readKnown(config, "KeyStore", ["ddbTableName", "logicalKeyStoreName", "kmsConfiguration", "ddbClient", "kmsClient", "clientProvider", "grantTokens"]);
    this.ddbTableName = checkString(o.ddbTableName, "ddbTableName");
    this.logicalKeyStoreName = checkString(o.logicalKeyStoreName, "logicalKeyStoreName");
    this.kmsConfiguration = Object.freeze(copyKmsConfiguration(o.kmsConfiguration)) as KmsConfiguration;
    checkClient(o.ddbClient, "ddbClient");
    if ((o.kmsClient === undefined) === (o.clientProvider === undefined)) {
      throw configError("KeyStore needs a kmsClient or a clientProvider (one of them)");
    }
    let provider: KmsClientProvider;
    if (o.kmsClient !== undefined) {
      checkClient(o.kmsClient, "kmsClient");
      const client = o.kmsClient as Pick<KMSClient, "send">;
      provider = () => client;
    } else {
      provider = checkProvider(o.clientProvider);
    }
    this.#options = {
      ddbTableName: this.ddbTableName,
      logicalKeyStoreName: this.logicalKeyStoreName,
      kmsConfiguration: this.kmsConfiguration,
      grantTokens: grantTokens(o.grantTokens),
      ddbCall: ddbCall(o.ddbClient as DynamoDbClient),
      kmsCall: kmsCall(provider),
    };
    // The core's rules (a key ARN, not an alias; the configuration's shape)
    // throw from here once the module is loaded, else from the first call.
    const wasm = loadedWasm();
    if (wasm) {
      try {
        this.#handle = Promise.resolve(this.#build(wasm));
      } catch (error) {
        throw toFieldsealError(error);
      }
    }
  }

  #build(wasm: Bindings): WasmKeyStore {
    return new wasm.WasmKeyStore(this.#options as never);
  }

  /** @internal The WebAssembly key store, built on first use. */
  async handle(): Promise<WasmKeyStore> {
    if (this.#freed) throw freedError("KeyStore");
    const wasm = await loadWasm();
    if (this.#freed) throw freedError("KeyStore");
    this.#handle ??= guarded(async () => this.#build(wasm));
    return this.#handle;
  }

  /**
   * Read the caller's input now (a snapshot: later changes to it cannot
   * reach the operation), then run the operation on the WebAssembly store.
   * Every failure, bad input included, is a rejected FieldsealError.
   */
  #run<T>(read: () => object, operation: (store: WasmKeyStore, input: never) => Promise<T>): Promise<T> {
    return guarded(async () => {
      const input = read();
      return operation(await this.handle(), input as never);
    });
  }

  /**
   * Creates the DynamoDB table (key schema `branch-key-id` HASH, `type`
   * RANGE, on-demand billing) unless it exists; an existing table must have
   * that key schema. Resolves to its ARN. Safe to call again.
   */
  createKeyStore(): Promise<{ tableArn: string }> {
    return this.#run(() => ({}), (store) => store.createKeyStore());
  }

  /**
   * Creates a branch key: its first version and its beacon key, written in
   * one transaction that fails if the id exists. Needs a `kmsKeyArn` or
   * `kmsMRKeyArn` configuration (discovery: `INVALID_CONFIG`, nothing written).
   */
  createKey(input: CreateKeyInput = {}): Promise<{ branchKeyIdentifier: string }> {
    return this.#run(() => createKeyRequest(input), (store, request) => store.createKey(request));
  }

  /**
   * Rotates a branch key: a new active version. Items sealed under older
   * versions still open. Resolves to `{}`. A concurrent rotation of the same
   * key makes one of them fail (`KEY_STORE_FAILURE`) with nothing written.
   */
  versionKey(input: { branchKeyIdentifier: string }): Promise<Record<string, never>> {
    return this.#run(() => readKnown(input, "versionKey input", ID), (store, request) => store.versionKey(request));
  }

  /** The active version of a branch key, unwrapped by KMS. */
  getActiveBranchKey(input: { branchKeyIdentifier: string }): Promise<{ branchKeyMaterials: BranchKeyMaterials }> {
    return this.#run(() => readKnown(input, "getActiveBranchKey input", ID), (store, request) => store.getActiveBranchKey(request));
  }

  /** One version of a branch key, unwrapped by KMS. */
  getBranchKeyVersion(input: { branchKeyIdentifier: string; branchKeyVersion: string }): Promise<{ branchKeyMaterials: BranchKeyMaterials }> {
    return this.#run(() => readKnown(input, "getBranchKeyVersion input", [...ID, "branchKeyVersion"]), (store, request) => store.getBranchKeyVersion(request));
  }

  /** The beacon key of a branch key, unwrapped by KMS. */
  getBeaconKey(input: { branchKeyIdentifier: string }): Promise<{ beaconKeyMaterials: BeaconKeyMaterials }> {
    return this.#run(() => readKnown(input, "getBeaconKey input", ID), (store, request) => store.getBeaconKey(request));
  }

  /** Release the WebAssembly side now. Keyrings built on this store keep working. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#handle?.then(freeQuietly, () => undefined);
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
Object.defineProperty(KeyStore.prototype, disposeSymbol, { value: KeyStore.prototype.free });

export interface BranchKeyCacheOptions {
  /** Branch keys kept; the least recently used is evicted first. Default 1000. */
  entryCapacity?: number;
}

/**
 * Branch keys in memory, shared by every hierarchical keyring given it (the
 * MPL's shared cache): keyrings with the same `partitionId`, key store name
 * and branch key id share entries, so the store is read once for all of them.
 * Concurrent misses of one branch key make one KMS call (single flight).
 * Entries hold plaintext branch keys in WebAssembly memory until they expire
 * (each keyring's `ttlSeconds`), are evicted, or the cache is freed.
 */
export class BranchKeyCache {
  readonly entryCapacity: number;
  #handle: WasmBranchKeyCache | undefined;
  #freed = false;

  constructor(options: BranchKeyCacheOptions = {}) {
    const o = readKnown(options, "BranchKeyCache", ["entryCapacity"]);
    const capacity = o.entryCapacity ?? 1000;
    if (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 1) {
      throw configError("entryCapacity must be a positive integer");
    }
    this.entryCapacity = capacity;
  }

  /** @internal The WebAssembly cache, built on first use. */
  async handle(): Promise<WasmBranchKeyCache> {
    if (this.#freed) throw freedError("BranchKeyCache");
    const wasm = await loadWasm();
    if (this.#freed) throw freedError("BranchKeyCache");
    try {
      this.#handle ??= new wasm.WasmBranchKeyCache({ entryCapacity: this.entryCapacity });
    } catch (error) {
      throw toFieldsealError(error);
    }
    return this.#handle;
  }

  /** Branch keys held now (0 before first use). */
  get size(): number {
    return this.#freed || !this.#handle ? 0 : this.#handle.size;
  }

  /**
   * Release this handle's WebAssembly side now. Keyrings already built with
   * the cache keep using it (its entries live as long as they do); keyrings
   * not built yet fail with `OBJECT_FREED`.
   */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    if (this.#handle) freeQuietly(this.#handle);
    this.#handle = undefined;
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
Object.defineProperty(BranchKeyCache.prototype, disposeSymbol, { value: BranchKeyCache.prototype.free });

/**
 * Picks the branch key for an item: `ddbKey` holds the item's key attributes
 * (and its SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attributes) as
 * AttributeValues, as the official `DynamoDbKeyBranchKeyIdSupplier` receives
 * them. Called on encrypt and on decrypt, so one table serves many tenants.
 */
export type BranchKeyIdSupplier = (ddbKey: Item) => string | Promise<string>;

export interface AwsKmsHierarchicalKeyringOptions {
  keyStore: KeyStore;
  /** The branch key every item uses. Give this or `branchKeyIdSupplier`. */
  branchKeyId?: string;
  /** Picks the branch key per item. Give this or `branchKeyId`. */
  branchKeyIdSupplier?: BranchKeyIdSupplier;
  /** How long a branch key is used from the cache before the store (and KMS) is read again. */
  ttlSeconds: number;
  /** A cache shared with other keyrings; by default the keyring has its own of 1000 entries. */
  cache?: BranchKeyCache;
  /** Keyrings sharing a cache share entries only with the same `partitionId`; default: random (no sharing). */
  partitionId?: string;
  /**
   * How long `branchKeyIdSupplier`'s promise may stay pending before the
   * operation fails with `KEY_PROVIDER_FAILURE`. Default 10,000 ms; `Infinity` waits forever.
   */
  supplierTimeoutMs?: number;
}

/**
 * The AWS KMS hierarchical keyring, byte-compatible with the official one:
 * each item's data key is wrapped under a branch key from a {@link KeyStore},
 * which KMS unwraps once per branch key version and `ttlSeconds`, not once
 * per item. A supplier, a store or a KMS failure fails the operation with
 * its own code (`KEY_PROVIDER_FAILURE`, `KEY_STORE_FAILURE`).
 *
 * @example
 * const keyring = new AwsKmsHierarchicalKeyring({ keyStore, branchKeyId, ttlSeconds: 600 });
 */
export class AwsKmsHierarchicalKeyring extends Keyring {
  readonly keyStore: KeyStore;
  readonly branchKeyId: string | undefined;
  readonly ttlSeconds: number;
  /** The cache it reads: the one given, or its own. */
  readonly cache: BranchKeyCache;
  readonly #options: Record<string, unknown>;

  constructor(options: AwsKmsHierarchicalKeyringOptions) {
    super();
    const o = readKnown(options, "AwsKmsHierarchicalKeyring", ["keyStore", "branchKeyId", "branchKeyIdSupplier", "ttlSeconds", "cache", "partitionId", "supplierTimeoutMs"]);
    if (!(o.keyStore instanceof KeyStore)) throw configError("keyStore must be a fieldseal KeyStore");
    if (o.cache !== undefined && !(o.cache instanceof BranchKeyCache)) throw configError("cache must be a fieldseal BranchKeyCache");
    if ((o.branchKeyId === undefined) === (o.branchKeyIdSupplier === undefined)) {
      throw configError("AwsKmsHierarchicalKeyring needs a branchKeyId or a branchKeyIdSupplier (one of them)");
    }
    this.branchKeyId = o.branchKeyId === undefined ? undefined : checkString(o.branchKeyId, "branchKeyId");
    if (o.branchKeyIdSupplier !== undefined && typeof o.branchKeyIdSupplier !== "function") {
      throw configError("branchKeyIdSupplier must be a function (ddbKey) => string | Promise<string>");
    }
    if (typeof o.ttlSeconds !== "number") throw configError("ttlSeconds must be a number of seconds");
    this.ttlSeconds = o.ttlSeconds;
    if (o.partitionId !== undefined) checkString(o.partitionId, "partitionId");
    this.keyStore = o.keyStore;
    this.cache = (o.cache as BranchKeyCache | undefined) ?? new BranchKeyCache();
    this.#options = {
      branchKeyId: this.branchKeyId,
      branchKeyIdSupplier: o.branchKeyIdSupplier,
      ttlSeconds: this.ttlSeconds,
      partitionId: o.partitionId,
      supplierTimeoutMs: o.supplierTimeoutMs,
    };
  }

  /** @internal */
  protected async build(wasm: Bindings): Promise<WasmKeyring> {
    const store = await this.keyStore.handle();
    const cache = await this.cache.handle();
    return wasm.WasmKeyring.awsKmsHierarchical(this.#options as never, store, cache);
  }
}
