/**
 * AWS KMS keyrings and the branch key store behind the hierarchical keyring:
 * `import { AwsKmsKeyring, AwsKmsRsaKeyring, AwsKmsEcdhKeyring, KeyStore, AwsKmsHierarchicalKeyring, ... } from "fieldseal/kms"`.
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
import { FieldsealError, guarded } from "./errors.js";
import { copyArray, copyBytes, readOptions } from "./hostile.js";
import { Keyring } from "./keyrings.js";
import { checkProvider, checkString, grantTokens, kmsCall, type KmsClientProvider } from "./kms-client.js";
import { loadWasm, type Bindings } from "./wasm.js";
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

/** KMS's RSA encryption algorithms (`EncryptionAlgorithmSpec`) the AWS KMS RSA keyring supports. */
export type KmsRsaEncryptionAlgorithm = "RSAES_OAEP_SHA_256" | "RSAES_OAEP_SHA_1";

export interface AwsKmsRsaKeyringOptions {
  /** The key ARN of a KMS RSA key with key usage ENCRYPT_DECRYPT (not an alias). */
  kmsKeyId: string;
  /** The algorithm KMS Decrypt is asked for; seal and open with the same one. */
  encryptionAlgorithm: KmsRsaEncryptionAlgorithm;
  /**
   * The key's public key, SPKI PEM (`-----BEGIN PUBLIC KEY-----`), as
   * `getPublicKeyPem` returns it. Needed to seal; sealing then never calls
   * KMS and needs no credentials.
   */
  publicKeyPem?: string;
  /** Needed to open: KMS Decrypt runs in the key's region with this provider's client. */
  clientProvider?: KmsClientProvider;
  /** Passed to every KMS call. */
  grantTokens?: string[];
}

/**
 * Seals with the public key of a KMS RSA key, locally (RSA-OAEP: no KMS call,
 * no credentials, so a browser page can seal), and opens with KMS Decrypt,
 * where the private key stays. Give it `publicKeyPem` to seal,
 * `clientProvider` to open, or both. Items are sealed with algorithm suite
 * 0x6700: the signing suite 0x6701 is refused, as anyone may hold the public key.
 * Compatible with the AWS KMS RSA keyring of the AWS SDKs.
 *
 * @example
 * // In the browser: seal only.
 * const sealer = new AwsKmsRsaKeyring({ kmsKeyId: keyArn, encryptionAlgorithm: "RSAES_OAEP_SHA_256", publicKeyPem });
 * // On the server: open.
 * const opener = new AwsKmsRsaKeyring({ kmsKeyId: keyArn, encryptionAlgorithm: "RSAES_OAEP_SHA_256", clientProvider: (region) => new KMSClient({ region }) });
 */
export class AwsKmsRsaKeyring extends Keyring {
  readonly kmsKeyId: string;
  readonly encryptionAlgorithm: KmsRsaEncryptionAlgorithm;
  /** Whether it has a public key and can seal. */
  readonly canEncrypt: boolean;
  /** Whether it has a KMS client provider and can open. */
  readonly canDecrypt: boolean;
  readonly #options: { publicKeyPem?: string; clientProvider?: KmsClientProvider; grantTokens: unknown[] };

  constructor(options: AwsKmsRsaKeyringOptions) {
    super();
    const o = readOptions(options, "AwsKmsRsaKeyring", ["kmsKeyId", "encryptionAlgorithm", "publicKeyPem", "clientProvider", "grantTokens"]);
    this.kmsKeyId = checkString(o.kmsKeyId, "kmsKeyId");
    if (typeof o.encryptionAlgorithm !== "string") {
      throw new FieldsealError("INVALID_CONFIG", 'encryptionAlgorithm must be "RSAES_OAEP_SHA_256" or "RSAES_OAEP_SHA_1"');
    }
    this.encryptionAlgorithm = o.encryptionAlgorithm as KmsRsaEncryptionAlgorithm;
    if (o.publicKeyPem !== undefined && typeof o.publicKeyPem !== "string") {
      throw new FieldsealError("INVALID_KEY", "publicKeyPem must be a PEM string");
    }
    const clientProvider = o.clientProvider === undefined ? undefined : checkProvider(o.clientProvider);
    this.canEncrypt = o.publicKeyPem !== undefined;
    this.canDecrypt = clientProvider !== undefined;
    this.#options = { publicKeyPem: o.publicKeyPem as string | undefined, clientProvider, grantTokens: grantTokens(o.grantTokens) };
    // The core's rules (a key ARN, an RSA public key of 2048 bits or more,
    // the algorithm) throw from here once the module is loaded, else at first use.
    this.buildNow();
  }

  /** @internal */
  protected build(wasm: Bindings): WasmKeyring {
    const o = this.#options;
    return wasm.WasmKeyring.awsKmsRsa({
      kmsKeyId: this.kmsKeyId,
      encryptionAlgorithm: this.encryptionAlgorithm,
      publicKeyPem: o.publicKeyPem,
      grantTokens: o.grantTokens as string[],
      kmsCall: o.clientProvider && kmsCall(o.clientProvider),
    });
  }
}

export interface GetPublicKeyPemOptions {
  /** The ARN of a KMS RSA key; GetPublicKey is sent to its region. */
  kmsKeyId: string;
  clientProvider: KmsClientProvider;
  grantTokens?: string[];
}

/**
 * The public key of a KMS RSA key as an SPKI PEM, by KMS GetPublicKey (needs
 * `kms:GetPublicKey`), for `AwsKmsRsaKeyring`'s `publicKeyPem`. Fetch it once
 * (on the server, or at build time) and ship it: it is public. Rejects with
 * `INVALID_KEY` for a key that is not an RSA encryption key of 2048 bits or
 * more, and `KEY_PROVIDER_FAILURE` when the call fails.
 */
export function getPublicKeyPem(options: GetPublicKeyPemOptions): Promise<string> {
  return guarded(async () => {
    const o = readOptions(options, "getPublicKeyPem", ["kmsKeyId", "clientProvider", "grantTokens"]);
    const kmsKeyId = checkString(o.kmsKeyId, "kmsKeyId");
    const provider = checkProvider(o.clientProvider);
    const tokens = grantTokens(o.grantTokens) as string[];
    const wasm = await loadWasm();
    return wasm.WasmKeyring.kmsRsaPublicKeyPem({ kmsKeyId, grantTokens: tokens, kmsCall: kmsCall(provider) });
  });
}

/** The curves of KMS key agreement keys. */
export type KmsEcdhCurve = "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521";

/** A public key: DER SubjectPublicKeyInfo (as KMS GetPublicKey returns it) or SPKI PEM. */
export type EcdhPublicKey = Uint8Array | string;

/** The key agreement schema of an `AwsKmsEcdhKeyring` (the names are the AWS SDKs'). */
export type AwsKmsEcdhScheme =
  /** Seal and open between your KMS key (KEY_AGREEMENT) and the other party's public key. */
  | { kmsPrivateKeyToStaticPublicKey: { senderKmsIdentifier: string; senderPublicKey?: EcdhPublicKey; recipientPublicKey: EcdhPublicKey } }
  /** Open every item sealed to your KMS key's public key; seals nothing. */
  | { kmsPublicKeyDiscovery: { recipientKmsIdentifier: string; recipientPublicKey?: EcdhPublicKey } };

export interface AwsKmsEcdhKeyringOptions {
  curve: KmsEcdhCurve;
  scheme: AwsKmsEcdhScheme;
  /** KMS DeriveSharedSecret (and GetPublicKey when the KMS key's public key is not given) run in the key's region with this provider's client. */
  clientProvider: KmsClientProvider;
  grantTokens?: string[];
}

const KMS_ECDH_SCHEMES = {
  kmsPrivateKeyToStaticPublicKey: ["senderKmsIdentifier", "senderPublicKey", "recipientPublicKey"],
  kmsPublicKeyDiscovery: ["recipientKmsIdentifier", "recipientPublicKey"],
} as const;
type KmsEcdhSchemeName = keyof typeof KMS_ECDH_SCHEMES;

/** A private copy of a public key given as text (PEM) or bytes (DER). */
function publicKeyInput(value: unknown, what: string): Uint8Array | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return new TextEncoder().encode(value);
  const key = copyBytes(value, true);
  if (key === undefined || key === "detached") throw new FieldsealError("INVALID_KEY", `${what} must be a Uint8Array (DER) or a PEM string`);
  return key;
}

/**
 * Wraps data keys under a key agreed by ECDH between a KMS key (key usage
 * KEY_AGREEMENT, P-256/P-384/P-521) and a public key, through KMS
 * DeriveSharedSecret: the private key never leaves KMS. Items are compatible
 * with the AWS KMS ECDH keyring of the AWS SDKs and with `RawEcdhKeyring`
 * (the other party opens with its private key). One DeriveSharedSecret per
 * item sealed or opened.
 *
 * @example
 * const keyring = new AwsKmsEcdhKeyring({ curve: "ECC_NIST_P256", clientProvider: (region) => new KMSClient({ region }),
 *   scheme: { kmsPrivateKeyToStaticPublicKey: { senderKmsIdentifier: keyArn, recipientPublicKey: spkiDer } } });
 */
export class AwsKmsEcdhKeyring extends Keyring {
  readonly curve: KmsEcdhCurve;
  readonly scheme: KmsEcdhSchemeName;
  /** The sender's KMS key (static) or the recipient's (discovery). */
  readonly kmsKeyId: string;
  /** kmsPublicKeyDiscovery cannot encrypt. */
  readonly canEncrypt: boolean;
  readonly #options: { senderPublicKey?: Uint8Array; recipientPublicKey?: Uint8Array; clientProvider: KmsClientProvider; grantTokens: unknown[] };

  constructor(options: AwsKmsEcdhKeyringOptions) {
    super();
    const o = readOptions(options, "AwsKmsEcdhKeyring", ["curve", "scheme", "clientProvider", "grantTokens"]);
    this.curve = checkString(o.curve, "curve") as KmsEcdhCurve;
    const names = Object.keys(KMS_ECDH_SCHEMES) as KmsEcdhSchemeName[];
    const union = readOptions(o.scheme, "AwsKmsEcdhKeyring scheme", names);
    const given = names.filter((n) => union[n] !== undefined && union[n] !== null);
    if (given.length !== 1) throw new FieldsealError("INVALID_CONFIG", `scheme must have exactly one of ${names.join(", ")}`);
    const name = given[0]!;
    this.scheme = name;
    const keys = readOptions(union[name], `AwsKmsEcdhKeyring scheme.${name}`, KMS_ECDH_SCHEMES[name]);
    const idName = name === "kmsPublicKeyDiscovery" ? "recipientKmsIdentifier" : "senderKmsIdentifier";
    this.kmsKeyId = checkString(keys[idName], `scheme.${name}.${idName}`);
    const recipientPublicKey = publicKeyInput(keys.recipientPublicKey, `scheme.${name}.recipientPublicKey`);
    if (name === "kmsPrivateKeyToStaticPublicKey" && !recipientPublicKey) {
      throw new FieldsealError("INVALID_KEY", `scheme.${name}.recipientPublicKey is required`);
    }
    this.canEncrypt = name === "kmsPrivateKeyToStaticPublicKey";
    this.#options = {
      senderPublicKey: publicKeyInput(keys.senderPublicKey, `scheme.${name}.senderPublicKey`),
      recipientPublicKey,
      clientProvider: checkProvider(o.clientProvider),
      grantTokens: grantTokens(o.grantTokens),
    };
  }

  /** @internal Async: GetPublicKey may run first. */
  protected build(wasm: Bindings): Promise<WasmKeyring> {
    const o = this.#options;
    return wasm.WasmKeyring.awsKmsEcdh({
      curve: this.curve,
      scheme: this.scheme,
      kmsKeyId: this.kmsKeyId,
      senderPublicKey: o.senderPublicKey,
      recipientPublicKey: o.recipientPublicKey,
      grantTokens: o.grantTokens as string[],
      kmsCall: kmsCall(o.clientProvider),
    });
  }
}
