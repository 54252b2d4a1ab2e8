// Searchable encryption's configuration (the DB-ESDK's `SearchConfig`, its
// builder names in camelCase) and how pkg hands it to the WebAssembly side:
// a snapshot of the caller's objects, the few shape checks that need JS
// (a fieldseal KeyStore, a function), and the key stores' handles. Every other
// rule (unknown keys, types, beacon lengths, names, parts) is the wasm
// layer's and the core's, so it lives once.
import { FieldsealError } from "./errors.js";
import { copyArray, defineField, ownKeys } from "./hostile.js";
import { freeQuietly } from "./keyrings.js";
import type { Item } from "./types.js";
import type { WasmKeyStore } from "./wasm/fieldseal_wasm.js";

/**
 * Beacons for one table: which versions exist and which one writes. A
 * Java or Rust `SearchConfig` translates key for key (the builder names in camelCase).
 */
export interface SearchConfig {
  /** The version that writes beacons; one of `versions`. */
  writeVersion: number;
  versions: BeaconVersion[];
}

/**
 * A `KeyStore` of `fieldseal/kms`, as far as these types need it (so that
 * the main entry's types do not pull in the AWS SDK's). Only a real
 * `KeyStore` is accepted at run time.
 */
export interface SearchKeyStore {
  readonly ddbTableName: string;
  readonly logicalKeyStoreName: string;
  getBeaconKey(input: { branchKeyIdentifier: string }): Promise<unknown>;
}

/** One version of a table's beacons (the DB-ESDK's `BeaconVersion`). */
export interface BeaconVersion {
  version: number;
  /** Where beacon keys come from: a branch key store (`KeyStore` of `fieldseal/kms`), read through `GetBeaconKey`. */
  keyStore: SearchKeyStore;
  keySource: BeaconKeySource;
  standardBeacons: StandardBeacon[];
  compoundBeacons?: CompoundBeacon[];
  virtualFields?: VirtualField[];
  /** Parts that compound beacons may name without listing them. */
  signedParts?: SignedPart[];
  encryptedParts?: EncryptedPart[];
  /** Bucket beacons (aws-db-esdk 1.3): at most this many partitions per beacon; default 1 (none). */
  maximumNumberOfPartitions?: number;
  /** The partitions of a beacon that does not give `numberOfPartitions`; default: the maximum. */
  defaultNumberOfPartitions?: number;
  /** Picks an item's partition on write; default: random. */
  partitionSelector?: PartitionSelector;
}

/**
 * `single`: one beacon key (a branch key id) for the table. `multi`: each
 * item names its beacon key in `keyFieldName`, and each query in the
 * expression value of that name, so one table serves many tenants.
 */
export type BeaconKeySource = { single: SingleKeyStore } | { multi: MultiKeyStore };

export interface SingleKeyStore {
  keyId: string;
  /** Seconds a beacon key is used from the cache before the store (and KMS) is read again. */
  cacheTTL: number;
  cache?: BeaconKeyCacheType;
  /** Key sources with the same partition id share cache entries (with a shared cache). */
  partitionId?: string;
}

export interface MultiKeyStore {
  keyFieldName: string;
  cacheTTL: number;
  cache?: BeaconKeyCacheType;
  partitionId?: string;
}

/** The MPL's `CacheType`: the key source's own cache of `entryCapacity` beacon keys. */
export type BeaconKeyCacheType = { default: { entryCapacity: number } };

export interface StandardBeacon {
  name: string;
  /** Bits kept of the HMAC, 1 to 63: fewer bits, more false positives (filtered out on read). */
  length: number;
  /** The attribute (or `a.b[2]` path) whose value is beaconized; default `name`. */
  loc?: string;
  style?: BeaconStyle;
  numberOfPartitions?: number;
}

export type BeaconStyle =
  | { partOnly: Record<string, never> }
  | { shared: { other: string } }
  | { asSet: Record<string, never> }
  | { sharedSet: { other: string } };

export interface CompoundBeacon {
  name: string;
  /** One character between the parts. */
  split: string;
  encrypted?: EncryptedPart[];
  signed?: SignedPart[];
  constructors?: CompoundBeaconConstructor[];
  numberOfPartitions?: number;
}

/** A standard beacon as a part of compound beacons. */
export interface EncryptedPart {
  name: string;
  prefix: string;
}

/** A signed (plaintext) attribute as a part of compound beacons. */
export interface SignedPart {
  name: string;
  prefix: string;
  loc?: string;
}

/** The DB-ESDK's `Constructor`: which parts, in order, make a compound beacon. */
export interface CompoundBeaconConstructor {
  parts: { name: string; required: boolean }[];
}

export interface VirtualField {
  name: string;
  parts: { loc: string; trans?: VirtualTransform[] }[];
}

export type VirtualTransform =
  | { upper: Record<string, never> }
  | { lower: Record<string, never> }
  | { insert: { literal: string } }
  | { prefix: { length: number } }
  | { suffix: { length: number } }
  | { substring: { low: number; high: number } }
  | { segment: { split: string; index: number } }
  | { segments: { split: string; low: number; high: number } };

/**
 * Picks the partition (0 to `numberOfPartitions - 1`) an item's beacons are
 * written to, from the plaintext item. Synchronous; a throw or any other
 * number fails the write.
 */
export type PartitionSelector = (item: Item, numberOfPartitions: number, logicalTableName: string) => number;

function configError(message: string): FieldsealError {
  return new FieldsealError("INVALID_CONFIG", message);
}

/**
 * @internal A deep copy of the caller's search config: plain objects and
 * arrays copied (each value read once, Symbol keys refused), anything else
 * (the KeyStore, the selector function) kept as it is. Unknown keys and
 * wrong types are left for the wasm layer, which names their path.
 */
export function snapshotSearch(value: unknown, path = "search"): unknown {
  if (typeof value !== "object" || value === null) return value;
  const array = copyArray(value, path);
  if (array) return array.map((v, i) => snapshotSearch(v, `${path}[${i}]`));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const key of ownKeys(value, (why) => configError(`${path}: ${why}`))) {
    defineField(copy, key, snapshotSearch((value as Record<string, unknown>)[key], `${path}.${key}`));
  }
  return copy;
}

/** What pkg uses of a fieldseal KeyStore (fieldseal/kms is not imported: the main entry stays without it). */
type KeyStoreLike = { handle(): Promise<WasmKeyStore> };

/** A fieldseal KeyStore, as far as JS can tell; the wasm layer then takes only a real store's handle. */
function isKeyStore(value: unknown): value is KeyStoreLike {
  return typeof value === "object" && value !== null && typeof (value as { handle?: unknown }).handle === "function";
}

type Versions = { keyStore?: unknown; partitionSelector?: unknown }[];

function versionsOf(search: unknown): Versions {
  const versions = (search as { versions?: unknown } | null)?.versions;
  return Array.isArray(versions) ? (versions as Versions) : [];
}

/** @internal The checks only JS can make: each version's keyStore a KeyStore, its selector a function. */
export function checkSearch(search: unknown): void {
  if (typeof search !== "object" || search === null || Array.isArray(search)) throw configError("search must be an object { writeVersion, versions }");
  versionsOf(search).forEach((version, i) => {
    if (typeof version !== "object" || version === null) return;
    if (!isKeyStore(version.keyStore)) throw configError(`search.versions[${i}].keyStore must be a fieldseal KeyStore (from "fieldseal/kms")`);
    const selector = version.partitionSelector;
    if (selector !== undefined && selector !== null && typeof selector !== "function") {
      throw configError(`search.versions[${i}].partitionSelector must be a function (item, numberOfPartitions, logicalTableName) => number`);
    }
  });
}

/**
 * @internal The search config for the WebAssembly encryptor: each version's
 * KeyStore replaced by a new handle to its WebAssembly store, which the
 * encryptor takes. `release()` frees the handles it did not take.
 */
export async function searchForWasm(search: unknown): Promise<{ search: unknown; release: () => void }> {
  const handles: WasmKeyStore[] = [];
  const release = () => handles.forEach(freeQuietly);
  if (!Array.isArray((search as { versions?: unknown } | null)?.versions)) return { search, release };
  try {
    const versions = await Promise.all(
      versionsOf(search).map(async (version) => {
        if (!isKeyStore(version?.keyStore)) return version;
        const handle = (await version.keyStore.handle()).share();
        handles.push(handle);
        return { ...version, keyStore: handle };
      }),
    );
    return { search: { ...(search as object), versions }, release };
  } catch (error) {
    release();
    throw error;
  }
}
