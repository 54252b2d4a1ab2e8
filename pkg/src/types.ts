/**
 * A DynamoDB attribute value, in the shape `@aws-sdk/client-dynamodb` uses.
 * Numbers are decimal strings, as in DynamoDB.
 */
export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: Uint8Array }
  | { BOOL: boolean }
  | { NULL: true }
  | { L: AttributeValue[] }
  | { M: Item }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: Uint8Array[] };

/** A DynamoDB item: attribute name to value. */
export type Item = { [name: string]: AttributeValue };

/**
 * What items may be given as: fieldseal's own {@link Item}, or the
 * `Record<string, AttributeValue>` that `@aws-sdk/client-dynamodb` returns
 * (whose union also has an `$unknown` member; such values are refused at run time).
 */
export type ItemInput = { [name: string]: AttributeValue | { $unknown: [string, unknown] } };

/** What happens to one attribute when an item is sealed. The DB-ESDK's names. */
export type CryptoAction =
  /** Encrypted, and covered by the signature. */
  | "ENCRYPT_AND_SIGN"
  /** Left readable, covered by the signature (tampering is detected). */
  | "SIGN_ONLY"
  /** Left readable, signed, and bound into the encryption context (configuration version 2). */
  | "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT"
  /** Left alone: not signed. Must be allowed unsigned on decrypt. */
  | "DO_NOTHING";

/**
 * The algorithm suite: `"0x6701"` (the default, as in the DB-ESDK) adds an
 * ECDSA P-384 signature to the symmetric MACs of `"0x6700"`; the long DB-ESDK
 * names are accepted too.
 */
export type AlgorithmSuiteId =
  | "0x6700"
  | "0x6701"
  | "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384"
  | "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384";

/** A plain value of a record (a SQL row): see {@link ItemEncryptor.encryptRecord}. */
export type RecordValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | RecordValue[]
  | Set<string>
  | Set<number | bigint>
  | Set<Uint8Array>
  | { [key: string]: RecordValue };

/** A record: column (attribute) name to plain value. */
export type PlainRecord = { [name: string]: RecordValue };
