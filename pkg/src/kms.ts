/**
 * AWS KMS keyrings and the branch key store behind the hierarchical keyring:
 * `import { AwsKmsKeyring, KeyStore, AwsKmsHierarchicalKeyring, ... } from "fieldseal/kms"`.
 *
 * A separate entry point so that apps which do not use KMS never load the
 * AWS SDK: `@aws-sdk/client-kms` v3 is an optional peer dependency, and so is
 * `@aws-sdk/client-dynamodb` v3, which only the key store needs (it is loaded
 * on the store's first DynamoDB call). fieldseal never handles credentials or
 * signs requests: it sends commands through the clients you give it (for
 * KMS, the `KMSClient`s your `clientProvider` returns, one per region,
 * created on first use and cached).
 * @packageDocumentation
 */
import { FieldsealError } from "./errors.js";
import { copyArray, readOptions } from "./hostile.js";
import { Keyring } from "./keyrings.js";
import { checkProvider, checkString, grantTokens, kmsCall, type KmsClientProvider } from "./kms-client.js";
import type { Bindings } from "./wasm.js";
import type { WasmKeyring } from "./wasm/fieldseal_wasm.js";

export type { KmsClientProvider } from "./kms-client.js";
export {
  KeyStore,
  AwsKmsHierarchicalKeyring,
  BranchKeyCache,
  type KeyStoreConfig,
  type KmsConfiguration,
  type DynamoDbClient,
  type CreateKeyInput,
  type BranchKeyMaterials,
  type BeaconKeyMaterials,
  type AwsKmsHierarchicalKeyringOptions,
  type BranchKeyIdSupplier,
  type BranchKeyCacheOptions,
} from "./keystore.js";

export interface AwsKmsKeyringOptions {
  /** A key ARN or alias ARN (or a key id / alias name together with `region`). */
  kmsKeyId: string;
  clientProvider: KmsClientProvider;
  /** Passed to every KMS call. */
  grantTokens?: string[];
  /** Only when `kmsKeyId` is not an ARN. */
  region?: string;
}

export interface DiscoveryFilter {
  partition: string;
  accountIds: string[];
}

export interface AwsKmsMrkDiscoveryKeyringOptions {
  /** The region whose KMS is called; multi-Region keys are opened through their replica here. */
  region: string;
  clientProvider: KmsClientProvider;
  /** Only keys of this partition and these accounts are used. */
  discoveryFilter?: DiscoveryFilter;
  grantTokens?: string[];
}

export interface AwsKmsMrkMultiOptions {
  /** Generates the data key (GenerateDataKey) and wraps it. */
  generator?: string;
  /** Each also wraps the data key: one per region you want to open items in. */
  kmsKeyIds?: string[];
  clientProvider: KmsClientProvider;
  grantTokens?: string[];
}

/**
 * Wraps data keys with one AWS KMS key (GenerateDataKey on encrypt, Decrypt on
 * decrypt), and opens only what that exact key wrapped.
 *
 * @example
 * const keyring = new AwsKmsKeyring({ kmsKeyId: keyArn, clientProvider: (region) => new KMSClient({ region }) });
 */
export class AwsKmsKeyring extends Keyring {
  readonly kmsKeyId: string;
  readonly #options: AwsKmsKeyringOptions;
  /** @internal */
  protected readonly kind: "strict" | "mrk" = "strict";

  constructor(options: AwsKmsKeyringOptions) {
    super();
    const o = readOptions(options, "AwsKmsKeyring", ["kmsKeyId", "clientProvider", "grantTokens", "region"]);
    this.kmsKeyId = checkString(o.kmsKeyId, "kmsKeyId");
    checkProvider(o.clientProvider);
    this.#options = { ...o, grantTokens: grantTokens(o.grantTokens) } as AwsKmsKeyringOptions;
  }

  /** @internal */
  protected build(wasm: Bindings): WasmKeyring {
    const o = this.#options;
    return wasm.WasmKeyring.awsKms({ kind: this.kind, kmsKeyId: o.kmsKeyId, region: o.region, grantTokens: o.grantTokens, kmsCall: kmsCall(o.clientProvider) });
  }
}

/**
 * Multi-Region-key aware: opens items wrapped by any replica of its key,
 * calling KMS only in its own key's region. Seal in us-east-1, open in
 * eu-west-1 with the replica's ARN, with no call to us-east-1.
 */
export class AwsKmsMrkKeyring extends AwsKmsKeyring {
  /** @internal */
  protected override readonly kind = "mrk" as const;

  /**
   * A multi-keyring of MRK-aware keyrings: the generator plus one per other
   * key. Every id must be a key ARN, and no two may be replicas of the same
   * multi-Region key (they share one data key wrap); the first operation
   * fails with `INVALID_CONFIG` otherwise.
   */
  static multi(options: AwsKmsMrkMultiOptions): AwsKmsMrkMultiKeyring {
    return new AwsKmsMrkMultiKeyring(options);
  }
}

/** What `AwsKmsMrkKeyring.multi` returns: one MRK-aware keyring per key ARN. */
export class AwsKmsMrkMultiKeyring extends Keyring {
  readonly generator: string | undefined;
  readonly kmsKeyIds: readonly string[];
  readonly #options: AwsKmsMrkMultiOptions;

  constructor(options: AwsKmsMrkMultiOptions) {
    super();
    const o = readOptions(options ?? {}, "AwsKmsMrkKeyring.multi", ["generator", "kmsKeyIds", "clientProvider", "grantTokens"]);
    checkProvider(o.clientProvider);
    this.generator = o.generator === undefined ? undefined : checkString(o.generator, "generator");
    const ids = o.kmsKeyIds === undefined ? [] : copyArray(o.kmsKeyIds, "kmsKeyIds");
    if (!ids) throw new FieldsealError("INVALID_CONFIG", "kmsKeyIds must be an array of key ARNs");
    this.kmsKeyIds = ids.map((id, i) => checkString(id, `kmsKeyIds[${i}]`));
    if (this.generator === undefined && this.kmsKeyIds.length === 0) {
      throw new FieldsealError("INVALID_CONFIG", "an MRK multi-keyring needs a generator or kmsKeyIds");
    }
    this.#options = { ...o, grantTokens: grantTokens(o.grantTokens) } as AwsKmsMrkMultiOptions;
  }

  /** @internal */
  protected build(wasm: Bindings): WasmKeyring {
    const o = this.#options;
    return wasm.WasmKeyring.awsKmsMrkMulti({ generator: this.generator, kmsKeyIds: [...this.kmsKeyIds], grantTokens: o.grantTokens, kmsCall: kmsCall(o.clientProvider) });
  }
}

/**
 * Opens items wrapped by any KMS key it may use, through its own region:
 * a multi-Region key's wrapped data key is sent to the replica in `region`.
 * Single-Region keys of other regions are skipped. Cannot encrypt.
 */
export class AwsKmsMrkDiscoveryKeyring extends Keyring {
  readonly region: string;
  readonly #options: AwsKmsMrkDiscoveryKeyringOptions;

  constructor(options: AwsKmsMrkDiscoveryKeyringOptions) {
    super();
    const o = readOptions(options, "AwsKmsMrkDiscoveryKeyring", ["region", "clientProvider", "discoveryFilter", "grantTokens"]);
    this.region = checkString(o.region, "region");
    checkProvider(o.clientProvider);
    let filter: DiscoveryFilter | undefined;
    if (o.discoveryFilter !== undefined) {
      const f = readOptions(o.discoveryFilter, "discoveryFilter", ["partition", "accountIds"]);
      checkString(f.partition, "discoveryFilter.partition");
      const accountIds = copyArray(f.accountIds, "discoveryFilter.accountIds");
      if (!accountIds || accountIds.length === 0) {
        throw new FieldsealError("INVALID_CONFIG", "discoveryFilter.accountIds must be a non-empty array");
      }
      filter = { partition: f.partition as string, accountIds: accountIds as string[] };
    }
    this.#options = { ...o, discoveryFilter: filter, grantTokens: grantTokens(o.grantTokens) } as AwsKmsMrkDiscoveryKeyringOptions;
  }

  /** @internal */
  protected build(wasm: Bindings): WasmKeyring {
    const o = this.#options;
    return wasm.WasmKeyring.awsKmsMrkDiscovery({ region: o.region, discoveryFilter: o.discoveryFilter, grantTokens: o.grantTokens, kmsCall: kmsCall(o.clientProvider) });
  }
}
