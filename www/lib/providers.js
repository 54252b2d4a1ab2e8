// The two key providers of the demo, each with its own store:
//
// - embedded: a raw AES-256 key made in this tab with WebCrypto (never
//   stored), items kept in this browser's IndexedDB;
// - kms: the local moto started by `make demo`, items kept in DynamoDB, with
//   one of two keyrings:
//   - the multi-Region keyring: seal with the us-east-1 key
//     (AwsKmsMrkKeyring), open "from" eu-west-1 with the replica
//     (AwsKmsMrkKeyring) or a discovery keyring (AwsKmsMrkDiscoveryKeyring);
//   - the hierarchical keyring (AwsKmsHierarchicalKeyring): a branch key in
//     the branch key store FieldsealDemoBranchKeys, wrapped by the same
//     multi-Region key, created there on first use.
//   Items are uploaded and loaded through fieldseal's DynamoDB plug-in
//   (`fieldseal/dynamodb`) on a DynamoDBClient: the page sends the plaintext
//   item, the plug-in seals it before the wire and opens what GetItem
//   returns. The stored bytes (the sealed view) and Tamper use a second
//   DynamoDBClient without the plug-in, as anyone with table access would.
//   The AWS SDK clients talk to `${location.origin}/aws`, which the demo's
//   Vite server proxies to moto (same origin: no CORS), with dummy
//   credentials (moto does not check signatures). Every KMS call goes through
//   a counting clientProvider, every key store call through a counting
//   middleware on the key store's own DynamoDB client, and every request for
//   the items through a recorder on both items' clients (watchItemRequests).
import { RawAesKeyring } from "fieldseal";
import { toHex } from "./bytes.js";
import * as idb from "./idb.js";

export function embeddedProvider() {
  const wrappingKey = crypto.getRandomValues(new Uint8Array(32));
  const keyName = `embedded-${toHex(crypto.getRandomValues(new Uint8Array(4)))}`;
  const keyring = new RawAesKeyring({ keyNamespace: "fieldseal-demo", keyName, wrappingKey });
  wrappingKey.fill(0); // the keyring keeps its own copy, wiped once in WebAssembly
  return {
    id: "embedded",
    keyName,
    storeName: `IndexedDB ${idb.DB_NAME}/${idb.STORE}`,
    sealKeyring: () => keyring,
    openKeyring: () => keyring,
    put: (key, item) => idb.putItem(key, item),
    get: (key) => idb.getItem(key),
    /** Replace one attribute of the stored item with `value`. */
    async replace(key, name, value) {
      const item = await idb.getItem(key);
      await idb.putItem(key, { ...item, [name]: value });
    },
  };
}

/** What an item looks like in a request: its attribute count, whether it is sealed, and which attributes are binary. */
function itemShape(item) {
  if (!item || typeof item !== "object") return null;
  const names = Object.keys(item);
  return { attributes: names.length, sealed: "aws_dbe_head" in item, binary: names.filter((n) => item[n]?.B !== undefined) };
}

/**
 * Record every items' request of `client` ("plugin": the client with
 * fieldseal's plug-in, "plain": the one without), on both sides of what lies
 * between the caller and the wire: the caller's item and the one handed back
 * at the initialize step (before the plug-in seals, after it opens), the item
 * sent and received at the finalizeRequest step (just before the wire). A
 * plaintext item given and a sealed one sent is the plug-in's work.
 */
function watchItemRequests(client, via, onItemRequest) {
  const wire = new WeakMap(); // handler context -> what the finalizeRequest step saw
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = context.commandName.replace(/Command$/, "");
      const out = await next(args);
      const seen = wire.get(context) ?? {};
      onItemRequest({
        op, via, table: args.input?.TableName,
        given: itemShape(args.input?.Item), sent: seen.sent ?? null,
        received: seen.received ?? null, returned: itemShape(out.output?.Item),
      });
      return out;
    },
    { step: "initialize", priority: "high", name: "fieldsealDemoItemRequests" },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      wire.set(context, { sent: itemShape(args.input?.Item), received: itemShape(out.output?.Item) });
      return out;
    },
    { step: "finalizeRequest", priority: "low", name: "fieldsealDemoItemWire" },
  );
  return client;
}

/**
 * `cfg`: demo-config.json's `kms`; `onCall({ region, op, phase, keyId? })`
 * sees every KMS call, `onKeyStoreCall({ op, phase, branchKeyId?, type? })`
 * every DynamoDB call of the branch key store, `onItemRequest({ op, via,
 * table, given, sent, received, returned })` every request for the items.
 */
export async function kmsProvider(cfg, onCall, onKeyStoreCall, onItemRequest) {
  const [kmsSdk, ddbSdk, kms, { getDynamoDbEncryptionPlugin }] = await Promise.all([
    import("@aws-sdk/client-kms"),
    import("@aws-sdk/client-dynamodb"),
    import("fieldseal/kms"),
    import("fieldseal/dynamodb"),
  ]);
  const { KMSClient, DecryptCommand, GenerateDataKeyCommand } = kmsSdk;
  const { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } = ddbSdk;
  const endpoint = new URL(cfg.endpointPath, location.origin).href;
  const credentials = { accessKeyId: "demo", secretAccessKey: "demo" };

  const opName = (command) =>
    command instanceof GenerateDataKeyCommand ? "GenerateDataKey"
      : command instanceof DecryptCommand ? "Decrypt"
        : command.constructor.name.replace(/Command$/, "");
  const clients = new Map();
  const clientProvider = (region) => {
    if (clients.has(region)) return clients.get(region);
    const client = new KMSClient({ region, endpoint, credentials, maxAttempts: 1 });
    const send = client.send.bind(client);
    client.send = async (command, ...rest) => {
      const op = opName(command);
      onCall({ region, op, phase: "sent" });
      const out = await send(command, ...rest);
      onCall({ region, op, phase: "answered", keyId: out.KeyId });
      return out;
    };
    clients.set(region, client);
    return client;
  };

  const { home, replica } = cfg;
  const sealKeyring = new kms.AwsKmsMrkKeyring({ kmsKeyId: cfg.keyArns[home], clientProvider });
  const openers = {
    replica: new kms.AwsKmsMrkKeyring({ kmsKeyId: cfg.keyArns[replica], clientProvider }),
    discovery: new kms.AwsKmsMrkDiscoveryKeyring({
      region: replica,
      clientProvider,
      discoveryFilter: { partition: "aws", accountIds: [cfg.account] },
    }),
    home: new kms.AwsKmsMrkKeyring({ kmsKeyId: cfg.keyArns[home], clientProvider }),
  };

  const TableName = cfg.table.name;
  const Key = (key) => ({ [cfg.table.partitionKey]: { S: key } });
  const itemsClient = () => new DynamoDBClient({ region: cfg.table.region, endpoint, credentials, maxAttempts: 2 });
  // Without the plug-in: the stored bytes, and Tamper (which the plug-in would refuse: it writes a signed attribute).
  const plain = watchItemRequests(itemsClient(), "plain", onItemRequest);

  /**
   * Send `command` on a DynamoDBClient with fieldseal's plug-in for the items'
   * table; `tableConfig` is the ItemEncryptor config (keyring included) of
   * the form as it is now. A plug-in's table config is fixed when it is made,
   * and the page lets the actions, the suite and the keyring change between
   * clicks, so each Upload and Load makes its client (an app makes one).
   */
  const throughPlugin = async (tableConfig, command) => {
    const client = itemsClient();
    client.middlewareStack.use(getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: { [TableName]: tableConfig } }));
    watchItemRequests(client, "plugin", onItemRequest);
    try {
      return await client.send(command);
    } finally {
      client.destroy();
    }
  };

  // The key store has its own DynamoDB client, so that its calls are counted
  // apart from the items' PutItem / GetItem. Counted with middleware, as the
  // package's tests count them: fieldseal sends each command through `send`.
  const keyStoreDdb = new DynamoDBClient({ region: cfg.keyStore.region, endpoint, credentials, maxAttempts: 1 });
  keyStoreDdb.middlewareStack.add(
    (next, context) => async (args) => {
      const op = context.commandName.replace(/Command$/, "");
      const read = { branchKeyId: args.input?.Key?.["branch-key-id"]?.S, type: args.input?.Key?.type?.S };
      onKeyStoreCall({ op, phase: "sent", ...read });
      const out = await next(args);
      onKeyStoreCall({ op, phase: "answered", ...read });
      return out;
    },
    { step: "initialize", name: "fieldsealDemoKeyStoreCalls" },
  );

  let hierarchy = null; // a promise of the hierarchical keyring, made on first use
  let active = null; // what it resolved to
  let keyringKind = "mrk";
  const hierarchical = () => {
    hierarchy ??= hierarchicalKeyring(kms, cfg, keyStoreDdb, clientProvider).catch((e) => {
      hierarchy = null; // a failed first use is tried again on the next
      throw e;
    });
    return hierarchy;
  };

  return {
    id: "kms",
    storeName: `DynamoDB table ${TableName} (${cfg.table.region})`,
    /** "mrk" (the multi-Region keyring) or "hierarchy" (the hierarchical keyring). */
    get keyringKind() {
      return keyringKind;
    },
    /** Switch keyrings; the first switch to "hierarchy" creates its branch key. Resolves to the hierarchy, if chosen. */
    async useKeyring(kind) {
      if (kind === "hierarchy") active = await hierarchical();
      keyringKind = kind;
      return kind === "hierarchy" ? active : null;
    },
    /** { keyStore, branchKeyId, created, ttlSeconds, table, wrappingKeyArn, keyring, coldKeyring() } once set up, else null. */
    hierarchy: () => active,
    // The hierarchical keyring seals and opens: one keyring, one branch key cache.
    sealKeyring: () => (keyringKind === "hierarchy" ? active.keyring : sealKeyring),
    openKeyring: (how) => (keyringKind === "hierarchy" ? active.keyring : openers[how] ?? openers.replica),
    /** PutItem of the plaintext `item` through the plug-in, which seals it with `tableConfig`. */
    upload: (item, tableConfig) => throughPlugin(tableConfig, new PutItemCommand({ TableName, Item: item })),
    /** GetItem through the plug-in, which opens the item with `tableConfig` (undefined if there is none). */
    load: async (key, tableConfig) =>
      (await throughPlugin(tableConfig, new GetItemCommand({ TableName, Key: Key(key), ConsistentRead: true }))).Item,
    /** The stored bytes, read without the plug-in. */
    get: async (key) => (await plain.send(new GetItemCommand({ TableName, Key: Key(key), ConsistentRead: true }))).Item,
    replace: (key, name, value) =>
      plain.send(new UpdateItemCommand({
        TableName,
        Key: Key(key),
        UpdateExpression: "SET #a = :v",
        ConditionExpression: "attribute_exists(#k)",
        ExpressionAttributeNames: { "#a": name, "#k": cfg.table.partitionKey },
        ExpressionAttributeValues: { ":v": value },
      })),
  };
}

/** Where this browser remembers the branch key it created, per store and wrapping key (a new moto has new keys). */
const rememberedKey = (cfg) => `fieldseal-demo/branch-key/${cfg.keyStore.table}/${cfg.keyArns[cfg.home]}`;

function remembered(cfg) {
  try {
    return localStorage.getItem(rememberedKey(cfg));
  } catch {
    return null; // storage blocked: a new branch key per page load
  }
}

function remember(cfg, branchKeyId) {
  try {
    localStorage.setItem(rememberedKey(cfg), branchKeyId);
  } catch {
    // storage blocked: nothing to do
  }
}

/**
 * The key store (cfg.keyStore: the table www/stack.mjs provisioned) and a
 * hierarchical keyring on one branch key: the one this browser created
 * before for this store, else a new one, created now. createKeyStore() only
 * checks the table's key schema when the table exists (one DescribeTable).
 * Creating branch keys is an admin operation: a deployed page would be given
 * a branch key id, and its identity only GetItem and kms:Decrypt.
 */
async function hierarchicalKeyring(kms, cfg, ddbClient, clientProvider) {
  const { table, logicalKeyStoreName, kmsConfiguration, ttlSeconds } = cfg.keyStore;
  const keyStore = new kms.KeyStore({ ddbTableName: table, logicalKeyStoreName, kmsConfiguration, ddbClient, clientProvider });
  await keyStore.createKeyStore();
  let branchKeyId = remembered(cfg);
  const created = !branchKeyId;
  if (created) {
    ({ branchKeyIdentifier: branchKeyId } = await keyStore.createKey());
    remember(cfg, branchKeyId);
  }
  // Without `cache`, each keyring has its own branch key cache.
  const keyring = () => new kms.AwsKmsHierarchicalKeyring({ keyStore, branchKeyId, ttlSeconds });
  return {
    keyStore,
    branchKeyId,
    created,
    ttlSeconds,
    table,
    wrappingKeyArn: kmsConfiguration.kmsMRKeyArn ?? kmsConfiguration.kmsKeyArn,
    keyring: keyring(),
    /** A keyring with its own, empty cache: what a new page or a new server process starts with. */
    coldKeyring: keyring,
  };
}
