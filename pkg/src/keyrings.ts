import { FieldsealError, guarded, toFieldsealError } from "./errors.js";
import { copyArray, copyBytes, readOptions } from "./hostile.js";
import { loadedWasm, loadWasm, type Bindings } from "./wasm.js";
import type { RsaPaddingName, WasmKeyring } from "./wasm/fieldseal_wasm.js";

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for("Symbol.dispose");

/**
 * A key provider: wraps each item's data key for storage and unwraps it to
 * open the item. Keyrings are cheap to share between encryptors and
 * multi-keyrings. Their WebAssembly side is built on first use and freed when
 * the keyring is garbage collected, or at once with `free()` / `using`.
 */
export abstract class Keyring {
  #handle: Promise<WasmKeyring> | undefined;
  #freed = false;

  /** @internal Build the WebAssembly keyring. Called once. */
  protected abstract build(wasm: Bindings): Promise<WasmKeyring> | WasmKeyring;

  /** @internal Build now if loaded, so the core's key rules throw from the constructor. */
  protected buildNow(): void {
    this.now((wasm) => (this.#handle = Promise.resolve(this.build(wasm) as WasmKeyring)));
  }

  /** @internal A check of the core's: now if loaded, else at first use. */
  protected now(check: (wasm: Bindings) => unknown): void {
    const wasm = loadedWasm();
    try {
      if (wasm) check(wasm);
    } catch (error) {
      throw toFieldsealError(error);
    }
  }

  /** @internal A new handle to this keyring's WebAssembly side, for an encryptor or multi-keyring. */
  async share(): Promise<WasmKeyring> {
    if (this.#freed) throw freedError(this.constructor.name);
    // Loading is outside the memo: a failed load (WASM_LOAD_FAILED) is retried
    // on the next use, while a failed build (a bad key) is final.
    const wasm = await loadWasm();
    if (this.#freed) throw freedError(this.constructor.name);
    this.#handle ??= guarded(async () => this.build(wasm));
    const handle = await this.#handle;
    if (this.#freed) throw freedError(this.constructor.name);
    return handle.share();
  }

  /** Release the WebAssembly side now. Encryptors built from it keep working. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#handle?.then(freeQuietly, () => undefined);
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
Object.defineProperty(Keyring.prototype, disposeSymbol, { value: Keyring.prototype.free });

/**
 * @internal Free a wasm-bindgen object without ever throwing: free() runs in
 * `.then()` callbacks and `finally` blocks, where a throw would be an
 * unhandled rejection (which ends a default Node process) or would replace
 * the real error. The object is gone for JS either way.
 */
export function freeQuietly(handle: { free(): void }): void {
  try {
    handle.free();
  } catch {
    // Nothing to report to: the caller asked for the object to be released.
  }
}

/** @internal */
export function freedError(what: string): FieldsealError {
  return new FieldsealError("OBJECT_FREED", `this ${what} was freed and cannot be used`);
}

function configError(message: string): FieldsealError {
  return new FieldsealError("INVALID_CONFIG", message);
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) throw configError(`${what} must be a non-empty string`);
  return value;
}

/** A private copy of the key's real bytes (not what `length` claims), wiped once handed to WebAssembly. */
function copyKey(value: unknown, what: string): Uint8Array {
  const key = copyBytes(value, true);
  if (key === undefined) throw new FieldsealError("INVALID_KEY", `${what} must be a Uint8Array`);
  if (key === "detached") throw new FieldsealError("INVALID_KEY", `${what} is a view of a detached ArrayBuffer`);
  return key;
}

export interface RawAesKeyringOptions {
  /** Stored in each item as the key provider id. Not "aws-kms". */
  keyNamespace: string;
  /** Stored in each item; identifies the key within the namespace. */
  keyName: string;
  /** The AES-128, -192 or -256 wrapping key: 16, 24 or 32 bytes. fieldseal keeps its own copy. */
  wrappingKey: Uint8Array;
}

/**
 * Wraps data keys with a local AES key (AES-GCM), compatible with the raw
 * AES keyring of the AWS SDKs. Keep the key in a secret store.
 *
 * @example
 * const keyring = new RawAesKeyring({ keyNamespace: "app", keyName: "k1", wrappingKey: crypto.getRandomValues(new Uint8Array(32)) });
 */
export class RawAesKeyring extends Keyring {
  readonly keyNamespace: string;
  readonly keyName: string;
  #key: Uint8Array | undefined;

  constructor(options: RawAesKeyringOptions) {
    super();
    const o = readOptions(options, "RawAesKeyring", ["keyNamespace", "keyName", "wrappingKey"]);
    this.keyNamespace = requireString(o.keyNamespace, "keyNamespace");
    this.keyName = requireString(o.keyName, "keyName");
    this.#key = copyKey(o.wrappingKey, "wrappingKey");
    this.buildNow();
  }

  /** @internal */
  protected build(wasm: Bindings): WasmKeyring {
    const key = this.#key!;
    try {
      return wasm.WasmKeyring.rawAes({ keyNamespace: this.keyNamespace, keyName: this.keyName, wrappingKey: key });
    } finally {
      key.fill(0);
      this.#key = undefined;
    }
  }
}

/** RSA padding schemes, named as in the AWS Material Providers Library. */
export type RsaPadding = RsaPaddingName;

export interface RawRsaKeyringOptions {
  keyNamespace: string;
  keyName: string;
  padding: RsaPadding;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). May be omitted when the private key is given. */
  publicKeyPem?: string;
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). Omit it to encrypt only: the browser case, where only the server can decrypt. */
  privateKeyPem?: string;
}

/**
 * Wraps data keys with an RSA public key; unwraps with the private key.
 * Compatible with the raw RSA keyring of the AWS SDKs.
 */
export class RawRsaKeyring extends Keyring {
  readonly keyNamespace: string;
  readonly keyName: string;
  readonly padding: RsaPadding;
  /** Whether this keyring holds a private key and can open items. */
  readonly canDecrypt: boolean;
  // Held until the WebAssembly keyring is built, then dropped (strings cannot be wiped).
  #publicKeyPem: string | undefined;
  #privateKeyPem: string | undefined;

  constructor(options: RawRsaKeyringOptions) {
    super();
    const o = readOptions(options, "RawRsaKeyring", ["keyNamespace", "keyName", "padding", "publicKeyPem", "privateKeyPem"]);
    this.keyNamespace = requireString(o.keyNamespace, "keyNamespace");
    this.keyName = requireString(o.keyName, "keyName");
    if (typeof o.padding !== "string") throw configError("padding must be a string");
    this.padding = o.padding as RsaPadding;
    for (const k of ["publicKeyPem", "privateKeyPem"] as const) {
      if (o[k] !== undefined && typeof o[k] !== "string") throw new FieldsealError("INVALID_KEY", `${k} must be a PEM string`);
    }
    if (o.publicKeyPem === undefined && o.privateKeyPem === undefined) {
      throw new FieldsealError("INVALID_KEY", "RawRsaKeyring needs publicKeyPem, privateKeyPem or both");
    }
    this.#publicKeyPem = o.publicKeyPem as string | undefined;
    this.#privateKeyPem = o.privateKeyPem as string | undefined;
    this.canDecrypt = this.#privateKeyPem !== undefined;
    // The PEMs are parsed on first use.
    this.now((wasm) => wasm.WasmKeyring.checkRawRsa(this.#options()));
  }

  #options() {
    return { keyNamespace: this.keyNamespace, keyName: this.keyName, padding: this.padding, publicKeyPem: this.#publicKeyPem, privateKeyPem: this.#privateKeyPem };
  }

  /** @internal */
  protected build(wasm: Bindings): WasmKeyring {
    try {
      return wasm.WasmKeyring.rawRsa(this.#options());
    } finally {
      this.#publicKeyPem = this.#privateKeyPem = undefined;
    }
  }
}

/** ECDH curves, named as in the AWS Material Providers Library (`ECDHCurveSpec`); `"P256"`... are accepted too. */
export type EcdhCurve = "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" | "P256" | "P384" | "P521";

/** A private key: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as the MPL takes it; SEC1 `BEGIN EC PRIVATE KEY` too), or PKCS#8 DER bytes. */
export type EcdhPrivateKey = string | Uint8Array;
/** A public key: DER SubjectPublicKeyInfo bytes with an uncompressed point (as the MPL takes it), or the same as `-----BEGIN PUBLIC KEY-----` PEM. */
export type EcdhPublicKey = Uint8Array | string;

/** The key agreement schema (the MPL's `RawEcdhStaticConfigurations`), exactly one of: */
export type RawEcdhScheme =
  /** Both parties' static keys: encrypts, and opens for both parties (the MPL's `RawPrivateKeyToStaticPublicKey`). */
  | { staticPrivateKeyToStaticPublicKey: { senderStaticPrivateKey: EcdhPrivateKey; recipientPublicKey: EcdhPublicKey } }
  /** A fresh sender key pair per item: encrypts only, for the recipient's private key. */
  | { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: EcdhPublicKey } }
  /** The recipient's private key: opens every item sealed to it, encrypts nothing. */
  | { publicKeyDiscovery: { recipientStaticPrivateKey: EcdhPrivateKey } };

export interface RawEcdhKeyringOptions {
  curve: EcdhCurve;
  scheme: RawEcdhScheme;
}

const ECDH_SCHEMES = {
  staticPrivateKeyToStaticPublicKey: ["senderStaticPrivateKey", "recipientPublicKey"],
  ephemeralPrivateKeyToStaticPublicKey: ["recipientPublicKey"],
  publicKeyDiscovery: ["recipientStaticPrivateKey"],
} as const;
type EcdhSchemeName = keyof typeof ECDH_SCHEMES;

/** A private copy of a key given as text or bytes. */
function copyKeyInput(value: unknown, what: string): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value === undefined || value === null) throw new FieldsealError("INVALID_KEY", `${what} is required`);
  return copyKey(value, what);
}

/**
 * Wraps data keys under a key agreed by ECDH (P-256, P-384 or P-521),
 * compatible with the raw ECDH keyring of the AWS SDKs: seal to a
 * recipient's public key, open with its private key.
 *
 * @example
 * const seal = new RawEcdhKeyring({ curve: "ECC_NIST_P256", scheme: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: spkiDer } } });
 * const open = new RawEcdhKeyring({ curve: "ECC_NIST_P256", scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: pkcs8Pem } } });
 */
export class RawEcdhKeyring extends Keyring {
  readonly curve: EcdhCurve;
  readonly scheme: EcdhSchemeName;
  /** publicKeyDiscovery cannot encrypt. */
  readonly canEncrypt: boolean;
  /** ephemeralPrivateKeyToStaticPublicKey cannot decrypt. */
  readonly canDecrypt: boolean;
  #privateKey: Uint8Array | undefined;
  #publicKey: Uint8Array | undefined;

  constructor(options: RawEcdhKeyringOptions) {
    super();
    const o = readOptions(options, "RawEcdhKeyring", ["curve", "scheme"]);
    this.curve = requireString(o.curve, "curve") as EcdhCurve;
    const names = Object.keys(ECDH_SCHEMES) as EcdhSchemeName[];
    const union = readOptions(o.scheme, "RawEcdhKeyring scheme", names);
    const given = names.filter((n) => union[n] !== undefined && union[n] !== null);
    if (given.length !== 1) throw configError(`scheme must have exactly one of ${names.join(", ")}`);
    const name = given[0]!;
    this.scheme = name;
    const keys = readOptions(union[name], `RawEcdhKeyring scheme.${name}`, ECDH_SCHEMES[name]);
    const privateName = name === "publicKeyDiscovery" ? "recipientStaticPrivateKey" : "senderStaticPrivateKey";
    if (name !== "ephemeralPrivateKeyToStaticPublicKey") this.#privateKey = copyKeyInput(keys[privateName], `scheme.${name}.${privateName}`);
    if (name !== "publicKeyDiscovery") this.#publicKey = copyKeyInput(keys.recipientPublicKey, `scheme.${name}.recipientPublicKey`);
    this.canEncrypt = name !== "publicKeyDiscovery";
    this.canDecrypt = name !== "ephemeralPrivateKeyToStaticPublicKey";
    this.buildNow();
  }

  /** @internal */
  protected build(wasm: Bindings): WasmKeyring {
    try {
      return wasm.WasmKeyring.rawEcdh({ curve: this.curve, scheme: this.scheme, privateKey: this.#privateKey, publicKey: this.#publicKey });
    } finally {
      this.#privateKey?.fill(0);
      this.#privateKey = this.#publicKey = undefined;
    }
  }
}

export interface StaticBranchKeyKeyringOptions {
  branchKeyId: string;
  branchKeyVersion: string;
  /** The 32-byte branch key. */
  branchKey: Uint8Array;
}

/**
 * The hierarchical keyring's data key format under one fixed branch key, as
 * the DB-ESDK's test vectors use it. The key-store-backed hierarchical keyring
 * (branch keys fetched from DynamoDB and KMS) is `AwsKmsHierarchicalKeyring` in "fieldseal/kms".
 */
export class StaticBranchKeyKeyring extends Keyring {
  readonly branchKeyId: string;
  readonly branchKeyVersion: string;
  #key: Uint8Array | undefined;

  constructor(options: StaticBranchKeyKeyringOptions) {
    super();
    const o = readOptions(options, "StaticBranchKeyKeyring", ["branchKeyId", "branchKeyVersion", "branchKey"]);
    this.branchKeyId = requireString(o.branchKeyId, "branchKeyId");
    this.branchKeyVersion = requireString(o.branchKeyVersion, "branchKeyVersion");
    this.#key = copyKey(o.branchKey, "branchKey");
    this.buildNow();
  }

  /** @internal */
  protected build(wasm: Bindings): WasmKeyring {
    const key = this.#key!;
    try {
      return wasm.WasmKeyring.staticBranchKey({ branchKeyId: this.branchKeyId, branchKeyVersion: this.branchKeyVersion, branchKey: key });
    } finally {
      key.fill(0);
      this.#key = undefined;
    }
  }
}

export interface MultiKeyringOptions {
  /** Generates the data key and wraps it; may be omitted if there are children. */
  generator?: Keyring;
  /** Each also wraps the data key; any one of them can open the item. */
  children?: Keyring[];
}

/**
 * Several keyrings as one: on encrypt every keyring wraps the data key, on
 * decrypt the first that can open it wins.
 *
 * @example
 * const multi = new MultiKeyring({ generator: aesKeyring, children: [rsaPublicKeyring] });
 */
export class MultiKeyring extends Keyring {
  readonly generator: Keyring | undefined;
  readonly children: readonly Keyring[];

  constructor(options: MultiKeyringOptions) {
    super();
    const o = readOptions(options, "MultiKeyring", ["generator", "children"]);
    if (o.generator !== undefined && !(o.generator instanceof Keyring)) throw configError("generator must be a fieldseal keyring");
    const children = o.children === undefined ? [] : copyArray(o.children, "children");
    if (!children || !children.every((c) => c instanceof Keyring)) {
      throw configError("children must be an array of fieldseal keyrings");
    }
    if (o.generator === undefined && children.length === 0) throw configError("a MultiKeyring needs a generator or children");
    this.generator = o.generator as Keyring | undefined;
    this.children = children as Keyring[];
  }

  /** @internal */
  protected async build(wasm: Bindings): Promise<WasmKeyring> {
    const generator = this.generator ? await this.generator.share() : undefined;
    const children = await Promise.all(this.children.map((c) => c.share()));
    return wasm.WasmKeyring.multi(generator, children);
  }
}

/** What a custom keyring's `wrapKey` receives. */
export interface WrapKeyInput {
  /** The 32-byte key to wrap. Zeroed once your promise settles: copy it if you must keep it (you shouldn't). */
  plaintextDataKey: Uint8Array;
  /** The item's encryption context. Bind it (e.g. as AES-GCM AAD) so keys cannot move between items. */
  encryptionContext: { [key: string]: string };
}

/** What a custom keyring's `wrapKey` resolves to. */
export interface WrapKeyOutput {
  /** Stored with the wrapped key and given back to `unwrapKey`, e.g. a key id. */
  providerInfo?: string | Uint8Array;
  /** The wrapped key. */
  ciphertext: Uint8Array;
}

/** What a custom keyring's `unwrapKey` receives. */
export interface UnwrapKeyInput {
  providerInfo: Uint8Array;
  ciphertext: Uint8Array;
  encryptionContext: { [key: string]: string };
}

export interface CustomKeyringOptions {
  /** Stored in each item; selects this keyring on decrypt. Not "aws-kms". */
  providerId: string;
  /** Wrap a key with your provider (an HSM, a key service, ...). Must return a Promise. */
  wrapKey: (input: WrapKeyInput) => Promise<WrapKeyOutput>;
  /** Unwrap a key, or resolve to `null` if this wrapped key is not yours. Must return a Promise. */
  unwrapKey: (input: UnwrapKeyInput) => Promise<Uint8Array | null>;
  /**
   * How long a callback's promise may stay pending before the operation fails
   * with KEY_PROVIDER_FAILURE, so a provider that never answers cannot hang
   * your app. Default 30,000 ms; `Infinity` waits forever.
   */
  timeoutMs?: number;
}

/** A callback whose promise fails after `ms` if it has not settled; other returns pass through for the core to judge. */
function withTimeout<A, R>(callback: (input: A) => R, name: string, ms: number): (input: A) => R {
  if (!Number.isFinite(ms)) return callback;
  return (input: A) => {
    const result = callback(input);
    if (!result || typeof (result as { then?: unknown }).then !== "function") return result;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not settle within ${ms} ms`)), ms);
    });
    return Promise.race([result as unknown as PromiseLike<unknown>, timeout]).finally(() => clearTimeout(timer)) as R;
  };
}

/**
 * A keyring backed by your own code. fieldseal does the format work (data
 * key, key commitment, the DB-ESDK's intermediate key wrapping); your
 * callbacks only wrap and unwrap a 32-byte key. A callback that throws,
 * rejects, does not return a Promise or returns the wrong shape fails the
 * operation with `KEY_PROVIDER_FAILURE`.
 */
export class CustomKeyring extends Keyring {
  readonly providerId: string;
  readonly #wrapKey: CustomKeyringOptions["wrapKey"];
  readonly #unwrapKey: CustomKeyringOptions["unwrapKey"];

  constructor(options: CustomKeyringOptions) {
    super();
    const o = readOptions(options, "CustomKeyring", ["providerId", "wrapKey", "unwrapKey", "timeoutMs"]);
    this.providerId = requireString(o.providerId, "providerId");
    if (typeof o.wrapKey !== "function" || typeof o.unwrapKey !== "function") {
      throw configError("CustomKeyring needs wrapKey and unwrapKey functions");
    }
    const timeoutMs = o.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) throw configError("timeoutMs must be a positive number of milliseconds");
    this.#wrapKey = withTimeout(o.wrapKey as CustomKeyringOptions["wrapKey"], "wrapKey", timeoutMs);
    this.#unwrapKey = withTimeout(o.unwrapKey as CustomKeyringOptions["unwrapKey"], "unwrapKey", timeoutMs);
  }

  /** @internal */
  protected build(wasm: Bindings): WasmKeyring {
    return wasm.WasmKeyring.custom({ providerId: this.providerId, wrapKey: this.#wrapKey, unwrapKey: this.#unwrapKey });
  }
}
