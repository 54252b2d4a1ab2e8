// Searchable encryption through fieldseal/dynamodb, against moto's DynamoDB
// and KMS on loopback (real @aws-sdk v3 clients; beacon keys from a branch key
// store in moto). Items are put and queried by standard, compound, virtual and
// asSet beacons through the plug-in; a recorder at finalizeRequest (below the
// plug-in, right before the wire) sees what is sent and what DynamoDB
// answered before the plug-in opened and filtered it. Stored items are read
// with a client without the plug-in.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateTableCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, QueryCommand as DocQueryCommand } from "@aws-sdk/lib-dynamodb";
import { ItemEncryptor } from "fieldseal";
import { getDynamoDbEncryptionPlugin } from "fieldseal/dynamodb";
import { AwsKmsHierarchicalKeyring, KeyStore } from "fieldseal/kms";
import { aesKeyring, expectFieldsealError } from "./helpers/common.mjs";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

let moto;
let admin; // no plug-in: what DynamoDB stores
let keyStore;
let branchKeyId; // the single key source's beacon key

const clientOptions = () => ({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });

// Customers: standard beacons (email; zip with 1 bit, so most items collide),
// a virtual field beaconized (the zip's first digit and the email's domain, lower-cased), an asSet beacon
// (tags), and a compound beacon of an encrypted part and a signed one.
const CUSTOMER_ACTIONS = {
  id: "SIGN_ONLY",
  email: "ENCRYPT_AND_SIGN",
  zip: "ENCRYPT_AND_SIGN",
  tags: "ENCRYPT_AND_SIGN",
  last4: "ENCRYPT_AND_SIGN",
  card: "ENCRYPT_AND_SIGN",
  status: "SIGN_ONLY",
};

const customerSearch = () => ({
  writeVersion: 1,
  versions: [
    {
      version: 1,
      keyStore,
      keySource: { single: { keyId: branchKeyId, cacheTTL: 600 } },
      standardBeacons: [
        { name: "email", length: 24 },
        { name: "zip", length: 1 },
        { name: "emailDomain", length: 16 },
        { name: "tags", length: 16, style: { asSet: {} } },
        { name: "last4", length: 12 },
      ],
      compoundBeacons: [{ name: "cardStatus", split: ".", encrypted: [{ name: "last4", prefix: "L-" }], signed: [{ name: "status", prefix: "S-" }] }],
      // Two locations: a virtual field on email alone would clash with the email beacon (virtual.md).
      virtualFields: [{ name: "emailDomain", parts: [{ loc: "zip", trans: [{ prefix: { length: 1 } }] }, { loc: "email", trans: [{ segment: { split: "@", index: 1 } }, { lower: {} }] }] }],
    },
  ],
});

const customerConfig = (search = customerSearch()) => ({
  logicalTableName: "Clients",
  partitionKeyName: "id",
  attributeActionsOnEncrypt: { ...CUSTOMER_ACTIONS },
  keyring: aesKeyring(3, "customers"),
  search,
});

const customer = (i) => ({
  id: { S: `customer-${i}` },
  email: { S: `person.${i}@Example${i % 3}.com` },
  zip: { S: String(10000 + i) },
  // Sorted: sets come back in DynamoDB's canonical order.
  tags: { SS: ["all", `tag-${i}`, `tag-${i % 4}-mod`].sort() },
  last4: { S: String(1000 + i) },
  card: { S: `4111-0000-0000-${1000 + i}` },
  status: { S: i % 2 ? "shipped" : "pending" },
});
const CUSTOMERS = Array.from({ length: 16 }, (_, i) => customer(i));
const byId = (a, b) => (a.id.S < b.id.S ? -1 : a.id.S > b.id.S ? 1 : 0);

/**
 * A client with the plug-in and a recorder at finalizeRequest: `wire` lists
 * every request about to be sent ({ name, input }) and what DynamoDB answered
 * before the plug-in saw it ({ output }).
 */
function encrypting(tableEncryptionConfigs) {
  const client = new DynamoDBClient(clientOptions());
  const plugin = getDynamoDbEncryptionPlugin({ tableEncryptionConfigs });
  client.middlewareStack.use(plugin);
  const wire = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const entry = { name: context.commandName.replace(/Command$/, ""), input: args.input };
      wire.push(entry);
      const result = await next(args);
      entry.output = result.output;
      return result;
    },
    { step: "finalizeRequest", priority: "low", name: "fieldsealSearchWire" },
  );
  return { client, plugin, wire, send: (command) => client.send(command) };
}

async function createTable(TableName, key, indexes) {
  const names = [key, ...indexes];
  await admin.send(
    new CreateTableCommand({
      TableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: names.map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
      KeySchema: [{ AttributeName: key, KeyType: "HASH" }],
      GlobalSecondaryIndexes: indexes.length
        ? indexes.map((AttributeName) => ({ IndexName: `${AttributeName}-index`, KeySchema: [{ AttributeName, KeyType: "HASH" }], Projection: { ProjectionType: "ALL" } }))
        : undefined,
    }),
  );
}

/** A key store in moto, its KMS key created there. */
async function makeKeyStore() {
  const kms = new KMSClient(clientOptions());
  const kmsKeyArn = (await kms.send(new CreateKeyCommand({ Description: "fieldseal search test" }))).KeyMetadata.Arn;
  const store = new KeyStore({
    ddbTableName: "SearchKeyStore",
    logicalKeyStoreName: "SearchKeyStore",
    kmsConfiguration: { kmsKeyArn },
    ddbClient: new DynamoDBClient(clientOptions()),
    kmsClient: kms,
  });
  await store.createKeyStore();
  return store;
}

let customers; // the Customers client, items written once

before(async () => {
  moto = await startMoto();
  admin = new DynamoDBClient(clientOptions());
  keyStore = await makeKeyStore();
  ({ branchKeyIdentifier: branchKeyId } = await keyStore.createKey());
  await createTable("Clients", "id", ["aws_dbe_b_email", "aws_dbe_b_zip", "aws_dbe_b_emailDomain", "aws_dbe_b_cardStatus"]);
  customers = encrypting({ Clients: customerConfig() });
  for (const Item of CUSTOMERS) await customers.send(new PutItemCommand({ TableName: "Clients", Item }));
});

after(async () => {
  await moto?.stop();
});

/** Query `index` through the plug-in; returns the opened items and the raw page DynamoDB answered. */
async function query(c, input) {
  c.wire.length = 0;
  const out = await c.send(new QueryCommand({ TableName: "Clients", ...input }));
  const sent = c.wire.filter((w) => w.name === "Query");
  assert.equal(sent.length, 1, "one Query reached the wire");
  return { out, sent: sent[0] };
}

test("the stored item carries the beacons (aws_dbe_b_*), no plaintext of encrypted attributes", async () => {
  const item = CUSTOMERS[5];
  const { Item: stored } = await admin.send(new GetItemCommand({ TableName: "Clients", Key: { id: item.id }, ConsistentRead: true }));
  // The version tag aws_dbe_v_1 is signed but not stored (aws-db-esdk 1.3.0 leaves reserved names out of the sealed item).
  const reserved = Object.keys(stored).filter((k) => k.startsWith("aws_dbe_")).sort();
  assert.deepEqual(reserved, ["aws_dbe_b_cardStatus", "aws_dbe_b_email", "aws_dbe_b_emailDomain", "aws_dbe_b_last4", "aws_dbe_b_tags", "aws_dbe_b_zip", "aws_dbe_foot", "aws_dbe_head"]);
  for (const name of ["email", "zip", "emailDomain", "last4"]) {
    assert.match(stored[`aws_dbe_b_${name}`]?.S ?? "", /^[0-9a-f]+$/, `aws_dbe_b_${name} is a hex beacon`);
  }
  assert.equal(stored.aws_dbe_b_zip.S.length, 1, "a 1-bit beacon is one hex digit");
  assert.equal(stored.aws_dbe_b_email.S.length, 6, "24 bits: six hex digits");
  // asSet: a string set of one beacon per element.
  assert.equal(stored.aws_dbe_b_tags.SS.length, item.tags.SS.length);
  // The compound beacon (default constructor: signed parts, then encrypted ones): the signed part in plaintext, the encrypted part's beacon.
  assert.match(stored.aws_dbe_b_cardStatus.S, /^S-shipped\.L-[0-9a-f]{3}$/);
  assert.equal(stored.aws_dbe_b_cardStatus.S.split(".")[1], `L-${stored.aws_dbe_b_last4.S}`);
  for (const name of ["email", "zip", "tags", "last4", "card"]) assert.ok(stored[name].B instanceof Uint8Array, `${name} is encrypted`);
  const everything = JSON.stringify(stored, (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v));
  assert.ok(!everything.includes(item.email.S) && !everything.includes(item.card.S), "no plaintext stored");
  // Read back through the plug-in: the caller's item, no aws_dbe_ attribute.
  const got = await customers.send(new GetItemCommand({ TableName: "Clients", Key: { id: item.id }, ConsistentRead: true }));
  assert.deepEqual(got.Item, item);
});

test("Query by a standard beacon on a GSI: the value sent is the beacon, the result the one item", async () => {
  const item = CUSTOMERS[7];
  const { out, sent } = await query(customers, {
    IndexName: "aws_dbe_b_email-index",
    KeyConditionExpression: "email = :e",
    ExpressionAttributeValues: { ":e": item.email },
  });
  assert.deepEqual(out.Items, [item]);
  assert.equal(out.Count, 1);
  assert.equal(sent.input.KeyConditionExpression, "aws_dbe_b_email = :e");
  const stored = (await admin.send(new GetItemCommand({ TableName: "Clients", Key: { id: item.id } }))).Item;
  assert.deepEqual(sent.input.ExpressionAttributeValues, { ":e": stored.aws_dbe_b_email });
  assert.ok(!JSON.stringify(sent.input).includes(item.email.S), "the plaintext value never reaches the wire");
});

test("false positives of a 1-bit beacon are filtered out after decryption, and Count is fixed", async () => {
  let raw = 0;
  for (const item of CUSTOMERS) {
    const { out, sent } = await query(customers, {
      IndexName: "aws_dbe_b_zip-index",
      KeyConditionExpression: "zip = :z",
      ExpressionAttributeValues: { ":z": item.zip },
    });
    assert.deepEqual(out.Items, [item], `zip ${item.zip.S}`);
    assert.equal(out.Count, 1);
    assert.equal(sent.output.Count, sent.output.Items.length);
    raw += sent.output.Items.length;
  }
  // 16 items in 2 buckets: DynamoDB returned other items too (pigeonhole), the caller never saw them.
  assert.ok(raw > CUSTOMERS.length, `DynamoDB returned ${raw} items for ${CUSTOMERS.length} queries`);
});

test("Query by a virtual field (zip's first digit + the lower-cased email domain) and a Scan on it", async () => {
  const expected = CUSTOMERS.filter((_, i) => i % 3 === 1).sort(byId);
  const { out } = await query(customers, {
    IndexName: "aws_dbe_b_emailDomain-index",
    KeyConditionExpression: "emailDomain = :d",
    ExpressionAttributeValues: { ":d": { S: "1example1.com" } },
  });
  assert.deepEqual(out.Items.sort(byId), expected);
  const scanned = await customers.send(new ScanCommand({ TableName: "Clients", FilterExpression: "emailDomain = :d", ExpressionAttributeValues: { ":d": { S: "1example1.com" } } }));
  assert.deepEqual(scanned.Items.sort(byId), expected);
  assert.equal(scanned.Count, expected.length);
});

test("Query by a compound beacon (encrypted part + signed part); begins_with on it in a Scan filter", async () => {
  const item = CUSTOMERS[9];
  const { out, sent } = await query(customers, {
    IndexName: "aws_dbe_b_cardStatus-index",
    KeyConditionExpression: "cardStatus = :c",
    ExpressionAttributeValues: { ":c": { S: `S-${item.status.S}.L-${item.last4.S}` } },
  });
  assert.deepEqual(out.Items, [item]);
  assert.match(sent.input.ExpressionAttributeValues[":c"].S, /^S-shipped\.L-[0-9a-f]{3}$/);
  // A prefix of the parts: the signed part alone, then with the encrypted one.
  const shipped = CUSTOMERS.filter((_, i) => i % 2 === 1).sort(byId);
  const prefix = await customers.send(
    new ScanCommand({ TableName: "Clients", FilterExpression: "begins_with(cardStatus, :p)", ExpressionAttributeValues: { ":p": { S: "S-shipped" } } }),
  );
  assert.deepEqual(prefix.Items.sort(byId), shipped);
  const both = await customers.send(
    new ScanCommand({ TableName: "Clients", FilterExpression: "begins_with(cardStatus, :p)", ExpressionAttributeValues: { ":p": { S: `S-shipped.L-${item.last4.S}` } } }),
  );
  assert.deepEqual(both.Items, [item]);
});

test("contains() on an asSet beacon, and = / IN / AND / OR combinations in a Scan filter", async () => {
  const withTag = CUSTOMERS.filter((_, i) => i % 4 === 2).sort(byId);
  const scanned = await customers.send(new ScanCommand({ TableName: "Clients", FilterExpression: "contains(tags, :t)", ExpressionAttributeValues: { ":t": { S: "tag-2-mod" } } }));
  assert.deepEqual(scanned.Items.sort(byId), withTag);
  const some = await customers.send(
    new ScanCommand({
      TableName: "Clients",
      FilterExpression: "(email IN (:a, :b) OR zip = :z) AND #s = :s",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":a": CUSTOMERS[1].email, ":b": CUSTOMERS[2].email, ":z": CUSTOMERS[3].zip, ":s": { S: "shipped" } },
    }),
  );
  assert.deepEqual(some.Items.sort(byId), [CUSTOMERS[1], CUSTOMERS[3]]);
  const none = await customers.send(new ScanCommand({ TableName: "Clients", FilterExpression: "email = :e AND zip = :z", ExpressionAttributeValues: { ":e": CUSTOMERS[4].email, ":z": CUSTOMERS[5].zip } }));
  assert.deepEqual(none.Items, []);
  assert.equal(none.Count, 0);
});

test("DynamoDBDocumentClient: put and query by beacon with plain values", async () => {
  const c = encrypting({ Clients: customerConfig() });
  const doc = DynamoDBDocumentClient.from(c.client);
  const record = { id: "doc-1", email: "doc@Example9.com", zip: "99999", tags: new Set(["doc"]), last4: "4242", card: "4000-0000-0000-4242", status: "pending" };
  await doc.send(new PutCommand({ TableName: "Clients", Item: record }));
  const { Items, Count } = await doc.send(new DocQueryCommand({ TableName: "Clients", IndexName: "aws_dbe_b_email-index", KeyConditionExpression: "email = :e", ExpressionAttributeValues: { ":e": record.email } }));
  assert.deepEqual(Items, [record]);
  assert.equal(Count, 1);
  const sent = c.wire.find((w) => w.name === "Query");
  assert.equal(sent.input.KeyConditionExpression, "aws_dbe_b_email = :e");
  assert.match(sent.input.ExpressionAttributeValues[":e"].S, /^[0-9a-f]{6}$/);
});

test("queries the spec refuses are refused with REQUEST_REFUSED, nothing sent", async () => {
  const c = encrypting({ Clients: customerConfig() });
  const refusals = [
    // An encrypted attribute without a beacon.
    { KeyConditionExpression: "id = :i", FilterExpression: "card = :c", ExpressionAttributeValues: { ":i": { S: "x" }, ":c": { S: "4111" } } },
    // Ordering on a standard beacon.
    { IndexName: "aws_dbe_b_email-index", KeyConditionExpression: "email = :e", FilterExpression: "zip < :z", ExpressionAttributeValues: { ":e": CUSTOMERS[0].email, ":z": { S: "2" } } },
    // <> on a standard beacon (a collision would drop a true result).
    { IndexName: "aws_dbe_b_email-index", KeyConditionExpression: "email = :e", FilterExpression: "zip <> :z", ExpressionAttributeValues: { ":e": CUSTOMERS[0].email, ":z": { S: "2" } } },
    // begins_with on a standard beacon.
    { KeyConditionExpression: "id = :i", FilterExpression: "begins_with(email, :e)", ExpressionAttributeValues: { ":i": { S: "x" }, ":e": { S: "per" } } },
    // :aws_dbe_partition on a table without partitions.
    { IndexName: "aws_dbe_b_email-index", KeyConditionExpression: "email = :e", ExpressionAttributeValues: { ":e": CUSTOMERS[0].email, ":aws_dbe_partition": { N: "0" } } },
  ];
  for (const input of refusals) {
    c.wire.length = 0;
    const e = await expectFieldsealError("REQUEST_REFUSED", () => c.send(new QueryCommand({ TableName: "Clients", ...input })));
    assert.deepEqual(c.wire, [], `nothing was sent (${e.message})`);
  }
  c.wire.length = 0;
  // size() of an encrypted attribute: no beacon can answer it.
  await expectFieldsealError("REQUEST_REFUSED", () => c.send(new ScanCommand({ TableName: "Clients", FilterExpression: "size(email) > :n", ExpressionAttributeValues: { ":n": { N: "3" } } })));
  assert.deepEqual(c.wire, []);
});

test("an item that fails to open fails the query, naming the table and the item's key", async () => {
  const item = { ...customer(40), id: { S: "customer-tampered" }, email: { S: "tampered@example.com" } };
  await customers.send(new PutItemCommand({ TableName: "Clients", Item: item }));
  const { Item: stored } = await admin.send(new GetItemCommand({ TableName: "Clients", Key: { id: item.id }, ConsistentRead: true }));
  await admin.send(new PutItemCommand({ TableName: "Clients", Item: { ...stored, status: { S: "refunded" } } }));
  try {
    const e = await expectFieldsealError("INTEGRITY_FAILURE", () =>
      customers.send(new QueryCommand({ TableName: "Clients", IndexName: "aws_dbe_b_email-index", KeyConditionExpression: "email = :e", ExpressionAttributeValues: { ":e": item.email } })),
    );
    assert.equal(e.table, "Clients");
    assert.deepEqual(e.itemKey, { id: item.id });
    assert.match(e.message, /table "Clients", item id=S:"customer-tampered"/);
  } finally {
    await admin.send(new DeleteItemCommand({ TableName: "Clients", Key: { id: item.id } }));
  }
});

test("resolveAttributes gives an item's virtual fields and compound beacon strings (not HMACs)", async () => {
  const item = CUSTOMERS[4];
  const out = await customers.plugin.resolveAttributes({ TableName: "Clients", Item: item });
  assert.deepEqual(out, { VirtualFields: { emailDomain: "1example1.com" }, CompoundBeacons: { cardStatus: "S-pending.L-1004" } });
  assert.deepEqual(await customers.plugin.resolveAttributes({ TableName: "Clients", Item: item, Version: 1 }), out);
  // A table without beacons (or not configured): nothing to resolve.
  assert.deepEqual(await customers.plugin.resolveAttributes({ TableName: "Elsewhere", Item: item }), { VirtualFields: {}, CompoundBeacons: {} });
});

test("ItemEncryptor with search: beacons on encrypt, removed on decrypt", async () => {
  const encryptor = new ItemEncryptor(customerConfig());
  const item = CUSTOMERS[11];
  const sealed = await encryptor.encryptItem(item);
  const stored = (await admin.send(new GetItemCommand({ TableName: "Clients", Key: { id: item.id } }))).Item;
  for (const name of ["aws_dbe_b_email", "aws_dbe_b_zip", "aws_dbe_b_emailDomain", "aws_dbe_b_tags", "aws_dbe_b_last4", "aws_dbe_b_cardStatus"]) {
    assert.deepEqual(sealed[name], stored[name], `${name}: the same beacon as the plug-in wrote`);
  }
  assert.deepEqual(await encryptor.decryptItem(sealed), item);
});

test("multi-tenant: each tenant's beacons use its own beacon key, read from the item and from the query", async () => {
  await createTable("Tenants", "id", ["aws_dbe_b_email"]);
  for (const tenant of ["tenant-a", "tenant-b"]) await keyStore.createKey({ branchKeyIdentifier: tenant, encryptionContext: { tenant } });
  const keyring = new AwsKmsHierarchicalKeyring({ keyStore, branchKeyIdSupplier: (key) => key.tenant.S, ttlSeconds: 600 });
  const config = {
    logicalTableName: "Tenants",
    partitionKeyName: "id",
    attributeActionsOnEncrypt: { id: "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT", tenant: "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT", email: "ENCRYPT_AND_SIGN" },
    keyring,
    search: {
      writeVersion: 1,
      versions: [{ version: 1, keyStore, keySource: { multi: { keyFieldName: "tenant", cacheTTL: 600 } }, standardBeacons: [{ name: "email", length: 30 }] }],
    },
  };
  const c = encrypting({ Tenants: config });
  const shared = { S: "same@example.com" };
  const items = ["tenant-a", "tenant-b"].map((tenant) => ({ id: { S: `${tenant}#1` }, tenant: { S: tenant }, email: shared }));
  for (const Item of items) await c.send(new PutItemCommand({ TableName: "Tenants", Item }));
  const stored = await Promise.all(items.map(async (i) => (await admin.send(new GetItemCommand({ TableName: "Tenants", Key: { id: i.id } }))).Item));
  assert.notEqual(stored[0].aws_dbe_b_email.S, stored[1].aws_dbe_b_email.S, "one email, two tenants' beacon keys, two beacons");
  for (const [i, tenant] of ["tenant-a", "tenant-b"].entries()) {
    const out = await c.send(
      new QueryCommand({
        TableName: "Tenants",
        IndexName: "aws_dbe_b_email-index",
        KeyConditionExpression: "email = :e",
        FilterExpression: "tenant = :t",
        ExpressionAttributeValues: { ":e": shared, ":t": { S: tenant } },
      }),
    );
    assert.deepEqual(out.Items, [items[i]], tenant);
  }
  // No tenant named in the query: no beacon key to compute the value with.
  c.wire.length = 0;
  await expectFieldsealError("REQUEST_REFUSED", () =>
    c.send(new QueryCommand({ TableName: "Tenants", IndexName: "aws_dbe_b_email-index", KeyConditionExpression: "email = :e", ExpressionAttributeValues: { ":e": shared } })),
  );
  assert.deepEqual(c.wire, []);
});

test("partitions: getNumberOfQueries, one query per partition finds part, queryAllPartitions finds every item", async () => {
  await createTable("Buckets", "id", ["aws_dbe_b_color"]);
  const search = (partitionSelector) => ({
    writeVersion: 1,
    versions: [
      {
        version: 1,
        keyStore,
        keySource: { single: { keyId: branchKeyId, cacheTTL: 600 } },
        standardBeacons: [{ name: "color", length: 20, numberOfPartitions: 3 }, { name: "size", length: 20 }],
        maximumNumberOfPartitions: 4,
        ...(partitionSelector ? { partitionSelector } : {}),
      },
    ],
  });
  const config = (selector) => ({
    logicalTableName: "Buckets",
    partitionKeyName: "id",
    attributeActionsOnEncrypt: { id: "SIGN_ONLY", color: "ENCRYPT_AND_SIGN", size: "ENCRYPT_AND_SIGN", n: "SIGN_ONLY" },
    keyring: aesKeyring(5, "buckets"),
    search: search(selector),
  });
  const calls = [];
  const selector = (item, numberOfPartitions, table) => {
    calls.push([numberOfPartitions, table]);
    return Number(item.n.N) % numberOfPartitions;
  };
  const c = encrypting({ Buckets: config(selector) });
  const items = Array.from({ length: 12 }, (_, i) => ({ id: { S: `b-${String(i).padStart(2, "0")}` }, color: { S: "red" }, size: { S: `s${i % 2}` }, n: { N: String(i) } }));
  for (const Item of items) await c.send(new PutItemCommand({ TableName: "Buckets", Item }));
  assert.deepEqual(calls[0], [4, "Buckets"], "the selector is told the maximum and the logical table name");
  assert.equal(calls.length, items.length);

  const input = { TableName: "Buckets", IndexName: "aws_dbe_b_color-index", KeyConditionExpression: "color = :c", ExpressionAttributeValues: { ":c": { S: "red" } } };
  assert.equal(await c.plugin.getNumberOfQueries(input), 3);
  assert.equal(await c.plugin.getNumberOfQueries({ ...input, KeyConditionExpression: "size = :c" }), 4, "a beacon without numberOfPartitions: the maximum");
  assert.equal(await c.plugin.getNumberOfQueries({ TableName: "Elsewhere" }), 1);

  // Each partition holds the items the selector put there (partition n % 4, folded to n % 4 % 3 for a 3-partition beacon).
  const seen = [];
  for (let p = 0; p < 3; p++) {
    const out = await c.send(new QueryCommand({ ...input, ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ":aws_dbe_partition": { N: String(p) } } }));
    const expected = items.filter((it) => (Number(it.n.N) % 4) % 3 === p);
    assert.deepEqual(out.Items.sort(byId), expected, `partition ${p}`);
    seen.push(...out.Items);
  }
  assert.equal(seen.length, items.length);
  const all = await c.plugin.queryAllPartitions(c.client, input);
  assert.deepEqual(all.Items.sort(byId), items);
  assert.equal(all.Count, items.length);

  c.wire.length = 0;
  // On a partitioned table the partition must be named, and be below the number of queries.
  await expectFieldsealError("REQUEST_REFUSED", () => c.send(new QueryCommand(input)));
  await expectFieldsealError("REQUEST_REFUSED", () => c.send(new QueryCommand({ ...input, ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ":aws_dbe_partition": { N: "3" } } })));
  assert.deepEqual(c.wire, [], "refused before the wire");
  // A client without this plug-in is refused before anything is sent.
  await expectFieldsealError("INVALID_CONFIG", () => c.plugin.queryAllPartitions(admin, input));

  // A selector that throws, or answers out of range, fails the write before the wire.
  for (const bad of [() => { throw new Error("no partition for you"); }, () => 4, () => 1.5, () => "0"]) {
    const b = encrypting({ Buckets: config(bad) });
    await expectFieldsealError("INVALID_CONFIG", () => b.send(new PutItemCommand({ TableName: "Buckets", Item: items[0] })));
    assert.deepEqual(b.wire, []);
  }
});

test("config validation: INVALID_CONFIG naming the beacon, the path, or the version", async () => {
  const base = customerSearch();
  const v = base.versions[0];
  const withVersion = (patch) => ({ ...base, versions: [{ ...v, ...patch }] });
  const cases = [
    // A beacon on an attribute that is not ENCRYPT_AND_SIGN.
    [withVersion({ standardBeacons: [...v.standardBeacons, { name: "status", length: 8 }] }), /status/],
    // Lengths outside 1 to 63.
    [withVersion({ standardBeacons: [{ ...v.standardBeacons[0], length: 64 }, ...v.standardBeacons.slice(1)] }), /email/],
    [withVersion({ standardBeacons: [{ ...v.standardBeacons[0], length: 0 }, ...v.standardBeacons.slice(1)] }), /email/],
    // A name collision: a compound beacon named as a standard one.
    [withVersion({ compoundBeacons: [{ ...v.compoundBeacons[0], name: "email" }] }), /email/],
    // A split character inside a prefix.
    [withVersion({ compoundBeacons: [{ ...v.compoundBeacons[0], encrypted: [{ name: "last4", prefix: "L." }] }] }), /cardStatus/],
    // A constructor naming an unknown part.
    [withVersion({ compoundBeacons: [{ ...v.compoundBeacons[0], constructors: [{ parts: [{ name: "nothing", required: true }] }] }] }), /cardStatus|nothing/],
    // writeVersion not among the versions.
    [{ ...base, writeVersion: 2 }, /writeVersion|version/],
  ];
  for (const [search, names] of cases) {
    const plugin = getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: { Clients: customerConfig(search) } });
    const e = await expectFieldsealError("INVALID_CONFIG", () => plugin.ready());
    assert.match(e.message, names);
    assert.match(e.message, /Clients/, "the table is named");
  }
  // Shapes, named by their path, from the constructor or the first use.
  const shapes = [
    [withVersion({ standardBeacons: [{ name: "email", lenght: 8 }] }), /search\.versions\[0\]\.standardBeacons\[0\]/],
    [withVersion({ standardBeacons: [{ name: "email", length: "8" }] }), /search\.versions\[0\]\.standardBeacons\[0\]\.length/],
    [withVersion({ keySource: { single: { keyId: "x", cacheTTL: 1 }, multi: { keyFieldName: "t", cacheTTL: 1 } } }), /search\.versions\[0\]\.keySource/],
    [withVersion({ virtualFields: [{ name: "emailDomain", parts: [{ loc: "email", trans: [{ segment: { split: "@" } }] }] }] }), /search\.versions\[0\]\.virtualFields\[0\]\.parts\[0\]\.trans\[0\]\.segment\.index/],
    [withVersion({ keyStore: {} }), /keyStore/],
    [withVersion({ partitionSelector: 3 }), /partitionSelector/],
  ];
  for (const [search, path] of shapes) {
    const e = await expectFieldsealError("INVALID_CONFIG", async () => {
      const plugin = getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: { Clients: customerConfig(search) } });
      await plugin.ready();
    });
    assert.match(e.message, path);
  }
});

test("pkg/README.md: the searchable-encryption example runs as pasted", async () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const readme = readFileSync(join(here, "../../pkg/README.md"), "utf8");
  const code = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((c) => c.startsWith("// search.mjs"));
  assert.ok(code, "pkg/README.md has a js block starting with // search.mjs");
  await admin.send(
    new CreateTableCommand({
      TableName: "Customers",
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }, { AttributeName: "aws_dbe_b_email", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      GlobalSecondaryIndexes: [{ IndexName: "email-index", KeySchema: [{ AttributeName: "aws_dbe_b_email", KeyType: "HASH" }], Projection: { ProjectionType: "ALL" } }],
    }),
  );
  const file = join(here, ".readme-search.mjs");
  writeFileSync(file, code);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      env: { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" },
    });
    assert.deepEqual(stdout.trim().split("\n"), ["c1", "c2", '{"VirtualFields":{"last4":"1111"},"CompoundBeacons":{"statusLast4":"S-active.L-1111"}}']);
  } finally {
    rmSync(file, { force: true });
  }
  const { Item } = await admin.send(new GetItemCommand({ TableName: "Customers", Key: { id: { S: "c1" } } }));
  assert.match(Item.aws_dbe_b_email.S, /^[0-9a-f]{2}$/);
  assert.match(Item.aws_dbe_b_statusLast4.S, /^S-active\.L-[0-9a-f]{3}$/);
});
