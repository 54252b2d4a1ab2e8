// A strict TypeScript consumer of the package: compiles with `tsc --noEmit --strict`.
// Lines marked @ts-expect-error must NOT compile: wrong config shapes are type errors.
import {
  CustomKeyring,
  FieldsealError,
  ItemEncryptor,
  MultiKeyring,
  RawAesKeyring,
  RawEcdhKeyring,
  RawRsaKeyring,
  StaticBranchKeyKeyring,
  wasmMemoryBytes,
  type AttributeValue,
  type EcdhCurve,
  type RawEcdhKeyringOptions,
  type ErrorCode,
  type Item,
  type ItemEncryptorConfig,
  type Keyring,
  type PlainRecord,
} from "fieldseal";

const wrappingKey = new Uint8Array(32);
const aes = new RawAesKeyring({ keyNamespace: "app", keyName: "k1", wrappingKey });
const rsa = new RawRsaKeyring({ keyNamespace: "app", keyName: "r1", publicKeyPem: "...", padding: "OAEP_SHA256_MGF1" });
const custom = new CustomKeyring({
  providerId: "my-hsm",
  wrapKey: async ({ plaintextDataKey, encryptionContext }) => ({ providerInfo: encryptionContext["aws-crypto-table-name"], ciphertext: plaintextDataKey }),
  unwrapKey: async ({ ciphertext }) => (ciphertext.length === 32 ? ciphertext : null),
});
// Raw ECDH: public keys as DER SPKI bytes or PEM, private keys as PKCS#8 PEM or DER bytes.
const curve: EcdhCurve = "ECC_NIST_P384";
const ecdhSealer = new RawEcdhKeyring({ curve, scheme: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: new Uint8Array(120) } } });
const ecdhOpener = new RawEcdhKeyring({ curve: "ECC_NIST_P256", scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: "-----BEGIN PRIVATE KEY-----..." } } });
const ecdhOptions: RawEcdhKeyringOptions = {
  curve: "ECC_NIST_P521",
  scheme: { staticPrivateKeyToStaticPublicKey: { senderStaticPrivateKey: new Uint8Array(0), recipientPublicKey: "-----BEGIN PUBLIC KEY-----..." } },
};
const ecdhBoth: Keyring = new RawEcdhKeyring(ecdhOptions);
const multi: Keyring = new MultiKeyring({ generator: aes, children: [rsa, custom, ecdhSealer, ecdhOpener, ecdhBoth] });

const config: ItemEncryptorConfig = {
  logicalTableName: "Orders",
  partitionKeyName: "pk",
  sortKeyName: "sk",
  attributeActionsOnEncrypt: { pk: "SIGN_ONLY", sk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN", note: "DO_NOTHING" },
  allowedUnsignedAttributePrefix: ":",
  algorithmSuiteId: "0x6700",
  keyring: multi,
};
const enc = new ItemEncryptor(config);
new ItemEncryptor({ ...config, platformCrypto: false });
new ItemEncryptor({ ...config, platformCrypto: { bulkMinBytes: 65536 } });
// @ts-expect-error platformCrypto is a boolean or { bulkMinBytes }
new ItemEncryptor({ ...config, platformCrypto: "auto" });
new ItemEncryptor({ ...config, maxEncryptedDataKeys: 3 });
// @ts-expect-error maxEncryptedDataKeys is a number
new ItemEncryptor({ ...config, maxEncryptedDataKeys: "3" });

async function use(): Promise<void> {
  const item: Item = { pk: { S: "o1" }, sk: { N: "1" }, card: { S: "4111" }, tags: { SS: ["a"] }, raw: { B: new Uint8Array(2) } };
  const sealed: Item = await enc.encryptItem(item);
  const head: AttributeValue | undefined = sealed["aws_dbe_head"];
  const opened: Item = await enc.decryptItem(sealed);
  const many: Item[] = await enc.encryptItems([item, opened]);
  await enc.decryptItems(many);
  void head;

  const row: PlainRecord = { pk: "o1", sk: 1, card: "4111", big: 10n, tags: new Set(["a"]), when: null, nested: { a: [1, "b"] } };
  const sealedRow = await enc.encryptRecord(row);
  const back: PlainRecord = await enc.decryptRecord(sealedRow);
  void back;

  try {
    await enc.decryptItem(sealed);
  } catch (e) {
    if (e instanceof FieldsealError) {
      const code: ErrorCode = e.code;
      if (code === "INTEGRITY_FAILURE") console.log(e.message);
    }
  }
  const bytes: number = await wasmMemoryBytes();
  void bytes;
  {
    using disposable = new ItemEncryptor(config);
    void disposable;
  }
  enc.free();
}
void use;

// Items straight from @aws-sdk/client-dynamodb's types are accepted (their union has an $unknown member).
type SdkAttributeValue = { S: string; N?: never; $unknown?: never } | { N: string; S?: never; $unknown?: never } | { $unknown: [string, any]; S?: never; N?: never };
declare const fromSdk: Record<string, SdkAttributeValue>;
void enc.decryptItem(fromSdk);

// ---- wrong shapes ----
// @ts-expect-error unknown crypto action
new ItemEncryptor({ ...config, attributeActionsOnEncrypt: { pk: "ENCRYPT" } });
// @ts-expect-error missing partitionKeyName
new ItemEncryptor({ logicalTableName: "t", attributeActionsOnEncrypt: {}, keyring: aes });
// @ts-expect-error missing keyring
new ItemEncryptor({ logicalTableName: "t", partitionKeyName: "pk", attributeActionsOnEncrypt: {} });
// @ts-expect-error unknown algorithm suite
new ItemEncryptor({ ...config, algorithmSuiteId: "0x6702" });
// @ts-expect-error wrapping key as a string
new RawAesKeyring({ keyNamespace: "app", keyName: "k", wrappingKey: "00112233" });
// @ts-expect-error unknown RSA padding
new RawRsaKeyring({ keyNamespace: "a", keyName: "b", padding: "OAEP_MD5", publicKeyPem: "..." });
// @ts-expect-error not an ECDH curve name (the MPL's ECC_NIST_P256, ...)
new RawEcdhKeyring({ curve: "P-256", scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: "..." } } });
// @ts-expect-error the ephemeral scheme needs the recipient's public key
new RawEcdhKeyring({ curve: "ECC_NIST_P384", scheme: { ephemeralPrivateKeyToStaticPublicKey: {} } });
// @ts-expect-error a scheme is required
new RawEcdhKeyring({ curve: "ECC_NIST_P384" });
// @ts-expect-error wrapKey must be async (return a Promise)
new CustomKeyring({ providerId: "p", wrapKey: ({ plaintextDataKey }) => ({ ciphertext: plaintextDataKey }), unwrapKey: async () => null });
// @ts-expect-error children must be keyrings
new MultiKeyring({ generator: aes, children: ["k1"] });
// @ts-expect-error an attribute value needs a DynamoDB type key
void enc.encryptItem({ pk: { STRING: "x" } });
// @ts-expect-error numbers are strings in attribute values
void enc.encryptItem({ pk: { N: 1 } });
// @ts-expect-error records hold no functions
void enc.encryptRecord({ pk: "x", f: () => 1 });
// @ts-expect-error not an error code
const notACode: ErrorCode = "OOPS";
void notACode;
// @ts-expect-error the branch key is bytes
new StaticBranchKeyKeyring({ branchKeyId: "b", branchKeyVersion: "v", branchKey: "base64..." });
new StaticBranchKeyKeyring({ branchKeyId: "b", branchKeyVersion: "v", branchKey: new Uint8Array(32) });
// @ts-expect-error sortKeyName is a string
new ItemEncryptor({ ...config, sortKeyName: 1 });
// @ts-expect-error unwrapKey resolves to bytes or null
new CustomKeyring({ providerId: "p", wrapKey: async ({ plaintextDataKey }) => ({ ciphertext: plaintextDataKey }), unwrapKey: async () => "key" });
// @ts-expect-error the keyring is a fieldseal keyring, not key bytes
new ItemEncryptor({ ...config, keyring: wrappingKey });

// fieldseal/dynamodb: the plug-in for an AWS SDK v3 DynamoDB client (its
// types need no SDK: the stack is structural).
import { getDynamoDbEncryptionPlugin, type DynamoDbEncryptionConfig } from "fieldseal/dynamodb";
const ddbConfig: DynamoDbEncryptionConfig = {
  tableEncryptionConfigs: { Orders: { ...config, plaintextOverride: "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ" } },
};
const plugin = getDynamoDbEncryptionPlugin(ddbConfig);
plugin.applyToStack({ addRelativeTo: () => undefined });
void plugin.ready();
const refused = new FieldsealError("REQUEST_REFUSED", "x");
const refusedTable: string | undefined = refused.table;
const refusedKey: Item | undefined = refused.itemKey;
void refusedTable;
void refusedKey;
// @ts-expect-error tableEncryptionConfigs is required
getDynamoDbEncryptionPlugin({});
// @ts-expect-error not a plaintext override
getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: { Orders: { ...config, plaintextOverride: "ALLOW" } } });

// Searchable encryption: the table config's `search` (the DB-ESDK's names in
// camelCase), and the plug-in's beacon helpers.
// A KeyStore of fieldseal/kms fits SearchKeyStore (not imported here: the
// main entry's types must compile without the AWS SDK's and Node's).
import type { BeaconVersion, CompoundBeacon, SearchConfig, SearchKeyStore, StandardBeacon, VirtualField } from "fieldseal";
declare const keyStore: SearchKeyStore;
const email: StandardBeacon = { name: "email", length: 16 };
const tags: StandardBeacon = { name: "tags", length: 8, style: { asSet: {} }, numberOfPartitions: 2 };
const compound: CompoundBeacon = {
  name: "statusLast4",
  split: ".",
  signed: [{ name: "status", prefix: "S-" }],
  encrypted: [{ name: "last4", prefix: "L-" }],
  constructors: [{ parts: [{ name: "status", required: true }, { name: "last4", required: false }] }],
};
const last4: VirtualField = { name: "last4", parts: [{ loc: "card", trans: [{ suffix: { length: 4 } }, { lower: {} }] }] };
const version: BeaconVersion = {
  version: 1,
  keyStore,
  keySource: { multi: { keyFieldName: "tenant", cacheTTL: 600, cache: { default: { entryCapacity: 100 } } } },
  standardBeacons: [email, tags, { name: "last4", length: 10 }],
  compoundBeacons: [compound],
  virtualFields: [last4],
  maximumNumberOfPartitions: 4,
  partitionSelector: (item, numberOfPartitions, table) => (Object.keys(item).length + table.length) % numberOfPartitions,
};
const search: SearchConfig = { writeVersion: 1, versions: [version] };
new ItemEncryptor({ ...config, search });
const searchPlugin = getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: { Orders: { ...config, search } } });
async function beacons(): Promise<void> {
  const queryInput = { TableName: "Orders", IndexName: "email-index", KeyConditionExpression: "email = :e", ExpressionAttributeValues: { ":e": { S: "a@example.com" } } };
  const n: number = await searchPlugin.getNumberOfQueries(queryInput);
  const client = { send: async (_: unknown) => ({}), middlewareStack: {} };
  const all: { Items: Item[]; Count: number } = await searchPlugin.queryAllPartitions(client, queryInput);
  const resolved = await searchPlugin.resolveAttributes({ TableName: "Orders", Item: { pk: { S: "x" } }, Version: 1 });
  const vf: string | undefined = resolved.VirtualFields["last4"];
  const cb: string | undefined = resolved.CompoundBeacons["statusLast4"];
  void n, all, vf, cb;
}
void beacons;
// @ts-expect-error a beacon length is a number
const badLength: StandardBeacon = { name: "email", length: "16" };
// @ts-expect-error not a beacon style
const badStyle: StandardBeacon = { name: "email", length: 16, style: { set: {} } };
// @ts-expect-error keySource is single or multi
const badSource: BeaconVersion = { ...version, keySource: { keyId: "k", cacheTTL: 1 } };
// @ts-expect-error keyStore is a fieldseal KeyStore
const badStore: BeaconVersion = { ...version, keyStore: "BranchKeyStore" };
// @ts-expect-error writeVersion is required
const noWriteVersion: SearchConfig = { versions: [version] };
void badLength, badStyle, badSource, badStore, noWriteVersion;

// fieldseal/sql: a sealed table's config, rows in and out, the search helpers.
import { defineSealedTable, type PlainRow, type SealedTable, type SealedTableConfig, type SqlColumnType, type SqlFragment, type StoredRow } from "fieldseal/sql";
const sqlConfig: SealedTableConfig = {
  name: "orders",
  primaryKey: ["id"],
  columns: { id: "SIGN_ONLY", email: "ENCRYPT_AND_SIGN", total: { action: "SIGN_ONLY", type: "numeric" }, note: "DO_NOTHING", placed: { action: "SIGN_ONLY", type: "date" } },
  keyring: config.keyring,
  search,
  algorithmSuiteId: "0x6700",
};
const sqlOrders: SealedTable = defineSealedTable(sqlConfig);
async function sqlRows(): Promise<void> {
  const stored: StoredRow = await sqlOrders.sealRow({ id: 1, email: "a@b.c", total: 12.5, placed: new Date() });
  const storedMany: StoredRow[] = await sqlOrders.sealRows([{ id: 2 }]);
  const plain: PlainRow = await sqlOrders.openRow(stored);
  const plains: PlainRow[] = await sqlOrders.openRows(storedMany);
  const { columns, indexes }: { columns: string; indexes: string[] } = sqlOrders.ddl();
  const beacon: string = await sqlOrders.beaconValue("email", "a@b.c");
  const eq: SqlFragment = await sqlOrders.where({ email: "a@b.c" }, { startAt: 1 });
  const prefix: SqlFragment = await sqlOrders.where({ beginsWith: { compoundName: "S-shipped" } });
  const kept: { id: number; email: string }[] = sqlOrders.filter([{ id: 1, email: "a@b.c" }], { email: "a@b.c" });
  const sql: string = eq.sql;
  const values: unknown[] = prefix.values;
  void plain, plains, columns, indexes, beacon, kept, sql, values;
  sqlOrders.free();
}
void sqlRows;
const sqlType: SqlColumnType = "timestamptz";
// @ts-expect-error not a column type
const badSqlType: SqlColumnType = "money";
// @ts-expect-error not an action
const badSqlColumn: SealedTableConfig = { ...sqlConfig, columns: { id: "ENCRYPT" } };
// @ts-expect-error the primary key is one or two columns
const badSqlKey: SealedTableConfig = { ...sqlConfig, primaryKey: ["a", "b", "c"] };
// @ts-expect-error beginsWith takes string prefixes
const badPrefix: Promise<SqlFragment> = sqlOrders.where({ beginsWith: { compoundName: 5 } });
void sqlType, badSqlType, badSqlColumn, badSqlKey, badPrefix;
