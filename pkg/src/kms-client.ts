// The KMS transport shared by the KMS keyrings (kms.ts) and the branch key
// store (keystore.ts): the function the wasm layer calls for each KMS
// command, sent through the user's own @aws-sdk/client-kms clients. Internal:
// not an entry point.
import type { KMSClient } from "@aws-sdk/client-kms";
import { FieldsealError } from "./errors.js";
import { copyArray } from "./hostile.js";

/** Returns the KMS client for a region, e.g. `(region) => new KMSClient({ region, credentials })`. */
export type KmsClientProvider = (region: string) => Pick<KMSClient, "send">;

/**
 * The KMS commands fieldseal sends: the keyrings need the first two, the key
 * store's createKey and versionKey the next two, getPublicKeyPem (and
 * AwsKmsEcdhKeyring without a public key) GetPublicKey, AwsKmsEcdhKeyring
 * DeriveSharedSecret.
 */
export type KmsOperation = "GenerateDataKey" | "Decrypt" | "GenerateDataKeyWithoutPlaintext" | "ReEncrypt" | "GetPublicKey" | "DeriveSharedSecret";

/**
 * An optional peer dependency, imported on its first use, so that what does
 * not need it loads without it; a failed import is retried on the next call.
 * `load` keeps its literal `import("...")` so bundlers still see the module.
 */
export function optionalPeer<M>(load: () => Promise<M>, needs: string): () => Promise<M> {
  let loaded: Promise<M> | undefined;
  return () =>
    (loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      const why = error instanceof Error ? error.message : String(error);
      throw Object.assign(new Error(`${needs}, which could not be loaded: ${why}`), { name: "MissingDependency" });
    }));
}

/**
 * @aws-sdk/client-kms, on the first KMS call: a page that only seals with a
 * KMS RSA public key (no client, no credentials) loads "fieldseal/kms"
 * without it.
 */
const kmsCommands = optionalPeer(() => import("@aws-sdk/client-kms"), "KMS calls need @aws-sdk/client-kms v3");

const clientCaches = new WeakMap<KmsClientProvider, Map<string, Pick<KMSClient, "send">>>();

/** @internal The function the wasm layer calls: one KMS command with the cached client for `region`. */
export function kmsCall(provider: KmsClientProvider): (region: string, operation: KmsOperation, input: object) => Promise<unknown> {
  return async (region, operation, input) => {
    let cache = clientCaches.get(provider);
    if (!cache) clientCaches.set(provider, (cache = new Map()));
    let client = cache.get(region);
    if (!client) {
      client = provider(region);
      if (!client || typeof client.send !== "function") {
        throw Object.assign(new Error(`clientProvider("${region}") did not return a KMS client`), { name: "InvalidClient" });
      }
      cache.set(region, client);
    }
    const m = await kmsCommands();
    const commands = {
      GenerateDataKey: m.GenerateDataKeyCommand,
      Decrypt: m.DecryptCommand,
      GenerateDataKeyWithoutPlaintext: m.GenerateDataKeyWithoutPlaintextCommand,
      ReEncrypt: m.ReEncryptCommand,
      GetPublicKey: m.GetPublicKeyCommand,
      DeriveSharedSecret: m.DeriveSharedSecretCommand,
    };
    const Command = commands[operation] as new (input: never) => unknown;
    return client.send(new Command(input as never) as never);
  };
}

/** @internal */
export function checkProvider(provider: unknown): KmsClientProvider {
  if (typeof provider !== "function") {
    throw new FieldsealError("INVALID_CONFIG", "clientProvider must be a function (region) => KMSClient");
  }
  return provider as KmsClientProvider;
}

/** @internal Grant tokens as a copied array (the wasm layer checks that each is a string). */
export function grantTokens(value: unknown): unknown[] {
  if (value === undefined) return [];
  const tokens = copyArray(value, "grantTokens");
  if (!tokens) throw new FieldsealError("INVALID_CONFIG", "grantTokens must be an array of strings");
  return tokens;
}

/** @internal */
export function checkString(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) throw new FieldsealError("INVALID_CONFIG", `${what} must be a non-empty string`);
  return value;
}
