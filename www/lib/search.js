// The demo's searchable encryption (KMS mode's moto; the table, its GSIs and
// the branch key come from www/stack.mjs): orders sealed through the
// fieldseal/dynamodb plug-in carry beacons, truncated HMACs of the plaintext
// that a global secondary index can match:
//
// - `aws_dbe_b_email`: a standard beacon of the customer's email, 3 bits (8
//   values for the 12 sample customers: some share a beacon, by pigeonhole);
// - `aws_dbe_b_card_status`: a compound beacon `L-<beacon>.S-<status>`, the
//   card's last four digits (a virtual field, beaconized in 2 bits) and the
//   order's status (SIGN_ONLY, in plaintext).
//
// A Query names the plaintext (`email = :email`); the plug-in rewrites it to
// the beacon before the wire, then opens what the GSI returned and keeps only
// what the original expression matches on the plaintext. A recorder at the
// finalizeRequest step (after the plug-in, just before the wire) keeps the
// request body DynamoDB received and the items it answered, so the page can
// show both sides.
//
// The orders are sealed with a hierarchical keyring on the stack's branch key,
// whose beacon key (the same branch key id) computes the beacons. This module
// has its own AWS clients, so its KMS and key store calls are counted apart
// from the rest of the page's.

/** The statuses of the sample orders (the compound beacon's signed part). */
export const STATUSES = ["placed", "paid", "shipped", "delivered"];

/** Beacon lengths, in bits: short on purpose, so that false positives happen. */
export const BEACON_BITS = { email: 3, card_last4: 2 };

/** The search table's attribute actions: the beacons' sources are ENCRYPT_AND_SIGN, the compound's signed part SIGN_ONLY. */
export const SEARCH_ACTIONS = {
  order_id: "SIGN_ONLY",
  customer_name: "ENCRYPT_AND_SIGN",
  email: "ENCRYPT_AND_SIGN",
  card_number: "ENCRYPT_AND_SIGN",
  address: "ENCRYPT_AND_SIGN",
  amount: "SIGN_ONLY",
  status: "SIGN_ONLY",
  created_at: "DO_NOTHING",
};

/** The table's `search` (the DB-ESDK's SearchConfig, its builder names in camelCase). */
export function searchConfig(keyStore, branchKeyId, cacheTTL) {
  return {
    writeVersion: 1,
    versions: [{
      version: 1,
      keyStore,
      keySource: { single: { keyId: branchKeyId, cacheTTL } },
      standardBeacons: [
        { name: "email", length: BEACON_BITS.email },
        // Only inside the compound beacon: no aws_dbe_b_card_last4 of its own.
        { name: "card_last4", length: BEACON_BITS.card_last4, style: { partOnly: {} } },
      ],
      // The last four characters of the card number (no attribute of its own).
      virtualFields: [{ name: "card_last4", parts: [{ loc: "card_number", trans: [{ suffix: { length: 4 } }] }] }],
      compoundBeacons: [{
        name: "card_status",
        split: ".",
        encrypted: [{ name: "card_last4", prefix: "L-" }],
        signed: [{ name: "status", prefix: "S-" }],
        // The default would put the signed part first; this writes "L-….S-…".
        constructors: [{ parts: [{ name: "card_last4", required: true }, { name: "status", required: true }] }],
      }],
    }],
  };
}

/** The plug-in's table config for the search table. */
export function searchTableConfig(cfg, keyring, keyStore) {
  return {
    logicalTableName: cfg.table,
    partitionKeyName: cfg.partitionKey,
    attributeActionsOnEncrypt: { ...SEARCH_ACTIONS },
    allowedUnsignedAttributes: Object.keys(SEARCH_ACTIONS).filter((k) => SEARCH_ACTIONS[k] === "DO_NOTHING"),
    algorithmSuiteId: "0x6700",
    keyring,
    search: searchConfig(keyStore, cfg.branchKeyId, cfg.cacheTTL),
  };
}

/** Twelve customers, each card with its own last four digits. */
const CUSTOMERS = [
  ["Ada Lovelace", "ada@example.com", "4111 1111 1111 1111", "12 St James's Square, London"],
  ["Grace Hopper", "grace@navy.example", "5500 0000 0000 0004", "1 Navy Yard, Arlington"],
  ["Alan Turing", "alan@bletchley.example", "4000 0566 5566 5556", "Bletchley Park, Milton Keynes"],
  ["Katherine Johnson", "katherine@nasa.example", "6011 1111 1111 1117", "Langley Research Center, Hampton"],
  ["Edsger Dijkstra", "edsger@tue.example", "5105 1051 0510 5100", "Den Dolech 2, Eindhoven"],
  ["Barbara Liskov", "barbara@mit.example", "4242 4242 4242 4242", "32 Vassar St, Cambridge"],
  ["Donald Knuth", "don@stanford.example", "4012 8888 8888 1881", "353 Jane Stanford Way, Stanford"],
  ["Margaret Hamilton", "margaret@apollo.example", "5555 5555 5555 4444", "75 Cambridge Pkwy, Cambridge"],
  ["Tim Berners-Lee", "tim@cern.example", "4000 0000 0000 0002", "Espl. des Particules 1, Meyrin"],
  ["Radia Perlman", "radia@dec.example", "2223 0031 2200 3222", "146 Main St, Maynard"],
  ["Frances Allen", "frances@ibm.example", "6011 0009 9013 9424", "1101 Kitchawan Rd, Yorktown Heights"],
  ["Ken Thompson", "ken@bell.example", "4000 0025 0000 3155", "600 Mountain Ave, Murray Hill"],
];

/**
 * 24 orders, two per customer. Order i is customer i mod 12's, with status
 * STATUSES[i div 6]: the six orders of a status are six customers', more
 * than the 4 values of a 2-bit card beacon, so two of them always share
 * `L-<beacon>.S-<status>` (and 12 emails over 8 beacon values share too).
 */
export function sampleOrders() {
  return Array.from({ length: 24 }, (_, i) => {
    const [name, email, card, address] = CUSTOMERS[i % CUSTOMERS.length];
    return {
      order_id: { S: `order-s${String(i + 1).padStart(2, "0")}` },
      customer_name: { S: name },
      email: { S: email },
      card_number: { S: card },
      address: { S: address },
      amount: { N: (19.5 + ((i * 37) % 200) + (i % 4) * 0.25).toFixed(2) },
      status: { S: STATUSES[Math.floor(i / 6)] },
      created_at: { S: new Date(Date.UTC(2026, 10, 1 + i, 9 + (i % 8))).toISOString().replace(/\.\d+Z$/, "Z") },
    };
  });
}

/**
 * The Query for a search as the page writes it: plaintext names and values,
 * an index on the beacon. `kind` "email": `email = :email`; "card_status":
 * `card_status = :card_status` with "L-<last four>.S-<status>", the
 * compound beacon's plaintext form (its prefixes and split character).
 */
export function searchQuery(cfg, kind, { email, last4, status }) {
  if (kind === "email") {
    return {
      TableName: cfg.table,
      IndexName: cfg.indexes.email,
      KeyConditionExpression: "email = :email",
      ExpressionAttributeValues: { ":email": { S: email } },
    };
  }
  return {
    TableName: cfg.table,
    IndexName: cfg.indexes.card_status,
    KeyConditionExpression: "card_status = :card_status",
    ExpressionAttributeValues: { ":card_status": { S: `L-${last4}.S-${status}` } },
  };
}

/**
 * Record what `client` sends and what DynamoDB answers, below every other
 * middleware: the JSON request body (what crossed the wire) and the output
 * before the plug-in opens and filters it. `onWire({ op, body, output })`.
 */
function recordWire(client, onWire) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const raw = args.request?.body;
      let body = null;
      try {
        body = typeof raw === "string" ? JSON.parse(raw) : raw ? JSON.parse(new TextDecoder().decode(raw)) : null;
      } catch {
        body = null; // not JSON: nothing to show
      }
      onWire({ op: context.commandName.replace(/Command$/, ""), body, output: out.output });
      return out;
    },
    { step: "finalizeRequest", priority: "low", name: "fieldsealDemoSearchWire" },
  );
}

/**
 * Set up the search: its own KMS and DynamoDB clients on the demo's `/aws`
 * proxy, the key store, a hierarchical keyring on the stack's branch key, and
 * a DynamoDBClient with the plug-in for the search table. `cfg`:
 * demo-config.json's `kms`; `onCall({ service, op })` sees every KMS and key
 * store call this makes.
 */
export async function searchProvider(cfg, onCall) {
  const [{ DynamoDBClient, BatchWriteItemCommand, PutItemCommand, QueryCommand }, { KMSClient }, kms, { getDynamoDbEncryptionPlugin }] = await Promise.all([
    import("@aws-sdk/client-dynamodb"),
    import("@aws-sdk/client-kms"),
    import("fieldseal/kms"),
    import("fieldseal/dynamodb"),
  ]);
  const search = cfg.search;
  const endpoint = new URL(cfg.endpointPath, location.origin).href;
  const credentials = { accessKeyId: "demo", secretAccessKey: "demo" };
  const counted = (client, service) => {
    client.middlewareStack.add(
      (next, context) => (args) => {
        onCall({ service, op: context.commandName.replace(/Command$/, ""), type: args.input?.Key?.type?.S });
        return next(args);
      },
      { step: "initialize", name: "fieldsealDemoSearchCalls" },
    );
    return client;
  };
  const kmsClient = counted(new KMSClient({ region: cfg.home, endpoint, credentials, maxAttempts: 1 }), "KMS");
  const ddbClient = counted(new DynamoDBClient({ region: cfg.keyStore.region, endpoint, credentials, maxAttempts: 1 }), "key store");
  const { table, logicalKeyStoreName, kmsConfiguration } = cfg.keyStore;
  const keyStore = new kms.KeyStore({ ddbTableName: table, logicalKeyStoreName, kmsConfiguration, ddbClient, kmsClient });
  const keyring = new kms.AwsKmsHierarchicalKeyring({ keyStore, branchKeyId: search.branchKeyId, ttlSeconds: search.cacheTTL });
  const plugin = getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: { [search.table]: searchTableConfig(search, keyring, keyStore) } });
  const client = new DynamoDBClient({ region: search.region, endpoint, credentials, maxAttempts: 2 });
  client.middlewareStack.use(plugin);
  let wire = [];
  recordWire(client, (w) => wire.push(w));
  await plugin.ready(); // the config's checks (INVALID_CONFIG) now, not on the first request
  /** Run `fn` and return its result with the wire exchanges it made. */
  const watched = async (fn) => {
    wire = [];
    const result = await fn();
    return { result, wire };
  };
  return {
    config: search,
    /** Put `items` (plaintext) through the plug-in, which seals them and adds their beacons: one BatchWriteItem per 25. */
    put: (items) => watched(async () => {
      if (items.length === 1) return client.send(new PutItemCommand({ TableName: search.table, Item: items[0] }));
      for (let i = 0; i < items.length; i += 25) {
        let pending = { [search.table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
        while (pending && Object.keys(pending).length) {
          pending = (await client.send(new BatchWriteItemCommand({ RequestItems: pending }))).UnprocessedItems;
        }
      }
      return null;
    }),
    /** Query through the plug-in: `input` as the page wrote it; resolves to { result: the plug-in's output, wire }. */
    query: (input) => watched(() => client.send(new QueryCommand(input))),
    /** The plug-in's debugging helper: an item's virtual fields and compound beacon strings (plaintext, not HMACs). */
    resolve: (Item) => plugin.resolveAttributes({ TableName: search.table, Item }),
    destroy() {
      client.destroy();
      ddbClient.destroy();
      kmsClient.destroy();
    },
  };
}
