// fieldseal/dynamodb: the DynamoDB client plug-in, against moto's DynamoDB on
// loopback, through real @aws-sdk v3 clients (and lib-dynamodb's Document
// client on top). What reaches the network is recorded, and fake responses
// are injected, by a middleware at the finalizeRequest step of the same
// client: it runs only for a request that is about to be sent, below the
// plug-in. Stored items are read back with a second client without the plug-in.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  BatchExecuteStatementCommand,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ExecuteStatementCommand,
  ExecuteTransactionCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand as DocQueryCommand } from "@aws-sdk/lib-dynamodb";
import { getDynamoDbEncryptionPlugin } from "fieldseal/dynamodb";
import { aesKeyring, expectFieldsealError } from "./helpers/common.mjs";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

let moto;
let admin; // a client without the plug-in, for reading and tampering with stored items

// Attribute names avoid DynamoDB's reserved words (moto checks them too).
const ORDERS_ACTIONS = {
  pk: "SIGN_ONLY",
  sk: "SIGN_ONLY",
  card: "ENCRYPT_AND_SIGN",
  email: "ENCRYPT_AND_SIGN",
  photo: "ENCRYPT_AND_SIGN",
  amount: "SIGN_ONLY",
  hits: "DO_NOTHING",
};
const ENCRYPTED = ["card", "email", "photo"];
const KEYS_ACTIONS = { id: "SIGN_ONLY", secret: "ENCRYPT_AND_SIGN", label: "SIGN_ONLY" };

/** Orders (partition + sort key, suite 0x6701 by default) and Keys (partition key only, 0x6700); Plain is not configured. */
const tableConfigs = () => ({
  Orders: {
    logicalTableName: "Orders",
    partitionKeyName: "pk",
    sortKeyName: "sk",
    attributeActionsOnEncrypt: { ...ORDERS_ACTIONS },
    allowedUnsignedAttributes: ["hits"],
    keyring: aesKeyring(7, "orders"),
  },
  Keys: {
    logicalTableName: "KeysLogical",
    partitionKeyName: "id",
    attributeActionsOnEncrypt: { ...KEYS_ACTIONS },
    algorithmSuiteId: "0x6700",
    keyring: aesKeyring(9, "keys"),
  },
});

const clientOptions = () => ({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });

/**
 * A client with a recorder at finalizeRequest (lowest priority: just before
 * the wire). `wire` lists { name, input } of every request about to be sent
 * (input as the plug-in left it); `fake(name, input)` may return an output
 * to answer with instead of sending.
 */
function watched(client, plugin) {
  const c = { client, plugin, wire: [], fake: undefined, send: (command) => client.send(command) };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName.replace(/Command$/, "");
      c.wire.push({ name, input: args.input });
      const output = c.fake?.(name, args.input);
      if (output) return { output: { $metadata: {}, ...output }, response: {} };
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "fieldsealTestWire" },
  );
  return c;
}

function encrypting(config = { tableEncryptionConfigs: tableConfigs() }) {
  const client = new DynamoDBClient(clientOptions());
  const plugin = getDynamoDbEncryptionPlugin(config);
  client.middlewareStack.use(plugin);
  return watched(client, plugin);
}

const plain = () => watched(new DynamoDBClient(clientOptions()));

const order = (pk, i) => ({
  pk: { S: pk },
  sk: { S: `order#${i}` },
  card: { S: `4111-0000-0000-${1000 + i}` },
  email: { S: `buyer-${i}@example.com` },
  photo: { B: new Uint8Array([0xca, 0xfe, i, 0xba, 0xbe, 0x42, 0x42, 0x42]) },
  amount: { N: `${i}.5` },
});
const keyOf = (item) => ({ pk: item.pk, sk: item.sk });
const plainItem = (pk, i) => ({ pk: { S: pk }, sk: { S: `row#${i}` }, note: { S: `plain ${i}` }, blob: { B: new Uint8Array([i, 9, 9]) }, n: { N: String(i) } });
const bySk = (a, b) => (a.sk.S < b.sk.S ? -1 : a.sk.S > b.sk.S ? 1 : 0);

async function stored(TableName, Key) {
  return (await admin.send(new GetItemCommand({ TableName, Key, ConsistentRead: true }))).Item;
}

/** The plaintext bytes of an attribute value, to look for in a ciphertext. */
const plaintextBytes = (value) => (value.S !== undefined ? Buffer.from(value.S) : Buffer.from(value.B));

/** A stored (or about-to-be-sent) item is the DB-ESDK's: header, footer, encrypted attributes binary, signed ones as they were. */
function assertSealed(sealed, item, encrypted) {
  assert.ok(sealed, "the item is there");
  assert.deepEqual(Object.keys(sealed).sort(), [...Object.keys(item), "aws_dbe_foot", "aws_dbe_head"].sort());
  for (const name of ["aws_dbe_head", "aws_dbe_foot"]) {
    assert.deepEqual(Object.keys(sealed[name]), ["B"], name);
    assert.ok(sealed[name].B instanceof Uint8Array && sealed[name].B.length > 0, name);
  }
  for (const [name, value] of Object.entries(item)) {
    if (encrypted.includes(name)) {
      assert.deepEqual(Object.keys(sealed[name]), ["B"], `${name} is stored as binary`);
      assert.ok(sealed[name].B.length > plaintextBytes(value).length, `${name} is longer than its plaintext`);
      assert.equal(Buffer.from(sealed[name].B).indexOf(plaintextBytes(value)), -1, `${name}'s plaintext is not in its stored bytes`);
    } else {
      assert.deepEqual(sealed[name], value, `${name} is stored as it was`);
    }
  }
}

/** Expect `command` on `c` to be refused with `code`, the message naming `table`, nothing sent. */
async function refused(c, code, command, table = "Orders") {
  c.wire.length = 0;
  const e = await expectFieldsealError(code, () => c.send(command));
  assert.ok(e.message.includes(`"${table}"`), `the message names table ${table}: ${e.message}`);
  assert.deepEqual(c.wire, [], `nothing was sent (${e.message})`);
  return e;
}

const withoutMetadata = (output) => {
  const { $metadata, ...rest } = output;
  assert.equal(typeof $metadata, "object");
  return rest;
};

before(async () => {
  moto = await startMoto();
  admin = new DynamoDBClient(clientOptions());
  const create = (TableName, keys) =>
    admin.send(
      new CreateTableCommand({
        TableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: keys.map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
        KeySchema: keys.map((AttributeName, i) => ({ AttributeName, KeyType: i === 0 ? "HASH" : "RANGE" })),
      }),
    );
  await Promise.all([create("Orders", ["pk", "sk"]), create("Keys", ["id"]), create("Plain", ["pk", "sk"])]);
});

after(async () => {
  await moto?.stop();
});

test("PutItem / GetItem round trip with and without a sort key; the stored item is sealed", async () => {
  const c = encrypting();
  await c.plugin.ready();
  const item = order("round-trip", 1);
  const put = await c.send(new PutItemCommand({ TableName: "Orders", Item: item }));
  assert.equal(put.Attributes, undefined);
  assert.equal(c.wire.length, 1);
  assertSealed(c.wire[0].input.Item, item, ENCRYPTED);
  const got = await c.send(new GetItemCommand({ TableName: "Orders", Key: keyOf(item), ConsistentRead: true }));
  assert.deepEqual(got.Item, item);
  assert.ok(got.Item.photo.B instanceof Uint8Array);
  assertSealed(await stored("Orders", keyOf(item)), item, ENCRYPTED);
  const missing = await c.send(new GetItemCommand({ TableName: "Orders", Key: { pk: { S: "round-trip" }, sk: { S: "nothing" } } }));
  assert.equal(missing.Item, undefined);

  const key = { id: { S: "api-key-1" }, secret: { S: "s3cr3t-value" }, label: { S: "production" } };
  await c.send(new PutItemCommand({ TableName: "Keys", Item: key }));
  assert.deepEqual((await c.send(new GetItemCommand({ TableName: "Keys", Key: { id: key.id }, ConsistentRead: true }))).Item, key);
  const storedKey = await stored("Keys", { id: key.id });
  assertSealed(storedKey, key, ["secret"]);
  // The logical table name is bound: the Orders encryptor's items do not open as Keys' and vice versa.
  assert.notDeepEqual(storedKey.aws_dbe_head.B, (await stored("Orders", keyOf(item))).aws_dbe_head.B);
});

test("Query and Scan: pages of Limit items, LastEvaluatedKey untouched and usable, Count, Select COUNT", async () => {
  const c = encrypting();
  const p = plain();
  const items = [0, 1, 2, 3, 4].map((i) => order("paged", i));
  for (const Item of items) await c.send(new PutItemCommand({ TableName: "Orders", Item }));

  const pages = async (client, make) => {
    const out = [];
    let ExclusiveStartKey;
    do {
      const page = await client.send(make(ExclusiveStartKey));
      out.push(page);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && out.length < 20);
    return out;
  };
  const query = (ExclusiveStartKey) =>
    new QueryCommand({ TableName: "Orders", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "paged" } }, Limit: 2, ExclusiveStartKey, ConsistentRead: true });
  const queried = await pages(c, query);
  const queriedPlain = await pages(p, query);
  assert.ok(queried.length >= 3, `${queried.length} pages`);
  assert.deepEqual(queried.flatMap((page) => page.Items), items);
  assert.deepEqual(queried[0].LastEvaluatedKey, keyOf(items[1]));
  assert.deepEqual(queried.map((page) => page.LastEvaluatedKey), queriedPlain.map((page) => page.LastEvaluatedKey));
  assert.deepEqual(queried.map((page) => page.Count), queriedPlain.map((page) => page.Count));
  assert.deepEqual(queried.map((page) => page.Count), queried.map((page) => page.Items.length));
  assert.deepEqual(queried.map((page) => page.ScannedCount), queriedPlain.map((page) => page.ScannedCount));
  // What the plain client got is sealed, page by page.
  queriedPlain.flatMap((page) => page.Items).forEach((sealed, i) => assertSealed(sealed, items[i], ENCRYPTED));

  const reversed = await c.send(new QueryCommand({ TableName: "Orders", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "paged" } }, ScanIndexForward: false }));
  assert.deepEqual(reversed.Items, [...items].reverse());
  assert.equal(reversed.Count, 5);

  // A filter on a signed (not encrypted) attribute is allowed; Count counts what matched.
  const filtered = await c.send(
    new QueryCommand({
      TableName: "Orders",
      KeyConditionExpression: "pk = :p AND begins_with(sk, :o)",
      FilterExpression: "amount >= :a",
      ExpressionAttributeValues: { ":p": { S: "paged" }, ":o": { S: "order#" }, ":a": { N: "2" } },
    }),
  );
  assert.deepEqual(filtered.Items, items.slice(2));
  assert.equal(filtered.Count, 3);
  assert.equal(filtered.ScannedCount, 5);
  const counted = await c.send(new QueryCommand({ TableName: "Orders", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "paged" } }, Select: "COUNT" }));
  assert.equal(counted.Count, 5);
  assert.equal(counted.Items, undefined);

  const scan = (ExclusiveStartKey) =>
    new ScanCommand({ TableName: "Orders", FilterExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "paged" } }, Limit: 3, ExclusiveStartKey, ConsistentRead: true });
  const scanned = await pages(c, scan);
  const scannedPlain = await pages(p, scan);
  assert.ok(scanned.length >= 2, `${scanned.length} pages`);
  assert.deepEqual(scanned.flatMap((page) => page.Items).sort(bySk), items);
  assert.deepEqual(scanned.map((page) => page.LastEvaluatedKey), scannedPlain.map((page) => page.LastEvaluatedKey));
  assert.deepEqual(scanned.map((page) => [page.Count, page.ScannedCount]), scannedPlain.map((page) => [page.Count, page.ScannedCount]));
  const scanCount = await c.send(new ScanCommand({ TableName: "Orders", FilterExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "paged" } }, Select: "COUNT" }));
  assert.equal(scanCount.Count, 5);
});

test("BatchWriteItem and BatchGetItem across a configured and an unconfigured table in one call", async () => {
  const c = encrypting();
  const orders = [order("batch", 1), order("batch", 2), order("batch", 3)];
  const rows = [plainItem("batch", 1), plainItem("batch", 2)];
  const written = await c.send(
    new BatchWriteItemCommand({
      RequestItems: { Orders: orders.map((Item) => ({ PutRequest: { Item } })), Plain: rows.map((Item) => ({ PutRequest: { Item } })) },
    }),
  );
  assert.deepEqual(written.UnprocessedItems, {});
  const sent = c.wire[0].input.RequestItems;
  sent.Orders.forEach((entry, i) => assertSealed(entry.PutRequest.Item, orders[i], ENCRYPTED));
  assert.deepEqual(sent.Plain, rows.map((Item) => ({ PutRequest: { Item } })));
  for (const item of orders) assertSealed(await stored("Orders", keyOf(item)), item, ENCRYPTED);
  for (const row of rows) assert.deepEqual(await stored("Plain", keyOf(row)), row);

  const read = await c.send(
    new BatchGetItemCommand({ RequestItems: { Orders: { Keys: orders.map(keyOf), ConsistentRead: true }, Plain: { Keys: rows.map(keyOf), ConsistentRead: true } } }),
  );
  assert.deepEqual([...read.Responses.Orders].sort(bySk), orders);
  assert.deepEqual([...read.Responses.Plain].sort(bySk), rows);
  assert.deepEqual(read.UnprocessedKeys ?? {}, {});

  // Deletes pass on both tables (a DeleteRequest carries only a key).
  await c.send(new BatchWriteItemCommand({ RequestItems: { Orders: [{ DeleteRequest: { Key: keyOf(orders[0]) } }], Plain: [{ DeleteRequest: { Key: keyOf(rows[0]) } }] } }));
  const after = await c.send(new BatchGetItemCommand({ RequestItems: { Orders: { Keys: orders.map(keyOf) }, Plain: { Keys: rows.map(keyOf) } } }));
  assert.deepEqual([...after.Responses.Orders].sort(bySk), orders.slice(1));
  assert.deepEqual(after.Responses.Plain, rows.slice(1));
});

test("UnprocessedItems come back as the caller's plaintext items", async () => {
  const c = encrypting();
  const orders = [order("unprocessed", 1), order("unprocessed", 2)];
  const row = plainItem("unprocessed", 1);
  const request = {
    Orders: [...orders.map((Item) => ({ PutRequest: { Item } })), { DeleteRequest: { Key: keyOf(order("unprocessed", 3)) } }],
    Plain: [{ PutRequest: { Item: row } }],
  };
  // DynamoDB sends back what it did not process, as it received it: sealed.
  let sealedBack;
  c.fake = (name, input) => {
    if (name !== "BatchWriteItem") return undefined;
    sealedBack = input.RequestItems;
    return { UnprocessedItems: input.RequestItems };
  };
  const out = await c.send(new BatchWriteItemCommand({ RequestItems: request }));
  sealedBack.Orders.slice(0, 2).forEach((entry, i) => assertSealed(entry.PutRequest.Item, orders[i], ENCRYPTED));
  assert.deepEqual(out.UnprocessedItems, request, "the caller gets its own plaintext requests back");
  assert.equal(out.UnprocessedItems.Orders[0].PutRequest.Item.aws_dbe_head, undefined);
  // Retrying them is the caller's ordinary loop: without the fake they are written, sealed.
  c.fake = undefined;
  const retried = await c.send(new BatchWriteItemCommand({ RequestItems: out.UnprocessedItems }));
  assert.deepEqual(retried.UnprocessedItems, {});
  for (const item of orders) {
    assertSealed(await stored("Orders", keyOf(item)), item, ENCRYPTED);
    assert.deepEqual((await c.send(new GetItemCommand({ TableName: "Orders", Key: keyOf(item) }))).Item, item);
  }
});

test("TransactWriteItems (Put sealed, Update of an unsigned attribute, Delete and ConditionCheck on a signed one) and TransactGetItems", async () => {
  const c = encrypting();
  const [a, b, check, added] = [1, 2, 3, 4].map((i) => order("tx", i));
  const row = plainItem("tx", 1);
  for (const Item of [a, b, check]) await c.send(new PutItemCommand({ TableName: "Orders", Item }));
  c.wire.length = 0;
  await c.send(
    new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: "Orders", Item: added, ConditionExpression: "attribute_not_exists(pk)" } },
        { Update: { TableName: "Orders", Key: keyOf(a), UpdateExpression: "SET hits = :h", ExpressionAttributeValues: { ":h": { N: "7" } } } },
        { Delete: { TableName: "Orders", Key: keyOf(b), ConditionExpression: "amount = :a", ExpressionAttributeValues: { ":a": b.amount } } },
        { ConditionCheck: { TableName: "Orders", Key: keyOf(check), ConditionExpression: "amount = :a AND attribute_exists(card)", ExpressionAttributeValues: { ":a": check.amount } } },
        { Put: { TableName: "Plain", Item: row } },
      ],
    }),
  );
  assert.equal(c.wire.length, 1);
  const sent = c.wire[0].input.TransactItems;
  assertSealed(sent[0].Put.Item, added, ENCRYPTED);
  assert.deepEqual(sent[4].Put.Item, row);
  assertSealed(await stored("Orders", keyOf(added)), added, ENCRYPTED);
  assert.equal(await stored("Orders", keyOf(b)), undefined, "deleted");

  const read = await c.send(
    new TransactGetItemsCommand({
      TransactItems: [
        { Get: { TableName: "Orders", Key: keyOf(a) } },
        { Get: { TableName: "Orders", Key: keyOf(added) } },
        { Get: { TableName: "Plain", Key: keyOf(row) } },
        { Get: { TableName: "Orders", Key: keyOf(b) } },
        { Get: { TableName: "Orders", Key: keyOf(check) } },
      ],
    }),
  );
  assert.equal(read.Responses.length, 5);
  assert.deepEqual(read.Responses[0].Item, { ...a, hits: { N: "7" } }, "the unsigned attribute updated in place, the item still verifies");
  assert.deepEqual(read.Responses[1].Item, added);
  assert.deepEqual(read.Responses[2].Item, row);
  assert.equal(read.Responses[3].Item, undefined);
  assert.deepEqual(read.Responses[4].Item, check);
});

test("ReturnValues: PutItem ALL_OLD, UpdateItem ALL_OLD / ALL_NEW / UPDATED_NEW, DeleteItem ALL_OLD come back decrypted", async () => {
  const c = encrypting();
  const first = order("returns", 1);
  const second = { ...order("returns", 2), sk: first.sk };
  const none = await c.send(new PutItemCommand({ TableName: "Orders", Item: first, ReturnValues: "ALL_OLD" }));
  assert.equal(none.Attributes, undefined);
  const overwritten = await c.send(new PutItemCommand({ TableName: "Orders", Item: second, ReturnValues: "ALL_OLD" }));
  assert.deepEqual(overwritten.Attributes, first);
  assertSealed(await stored("Orders", keyOf(second)), second, ENCRYPTED);

  const update = (ReturnValues, hits) =>
    new UpdateItemCommand({ TableName: "Orders", Key: keyOf(second), UpdateExpression: "SET hits = :h", ExpressionAttributeValues: { ":h": { N: hits } }, ReturnValues });
  assert.deepEqual((await c.send(update("ALL_NEW", "1"))).Attributes, { ...second, hits: { N: "1" } });
  assert.deepEqual((await c.send(update("ALL_OLD", "2"))).Attributes, { ...second, hits: { N: "1" } });
  assert.deepEqual((await c.send(update("UPDATED_NEW", "3"))).Attributes, { hits: { N: "3" } });
  assert.deepEqual((await c.send(update("UPDATED_OLD", "4"))).Attributes, { hits: { N: "3" } });
  const updatedStored = await stored("Orders", keyOf(second));
  assert.deepEqual(updatedStored.hits, { N: "4" });

  const deleted = await c.send(new DeleteItemCommand({ TableName: "Orders", Key: keyOf(second), ReturnValues: "ALL_OLD", ConditionExpression: "attribute_exists(card)" }));
  assert.deepEqual(deleted.Attributes, { ...second, hits: { N: "4" } });
  assert.equal(await stored("Orders", keyOf(second)), undefined);
});

test("items that cannot be written are refused with INVALID_ITEM before anything is sent", async () => {
  const c = encrypting();
  const good = order("invalid", 1);
  const { pk, ...noPartitionKey } = good;
  assert.ok(pk);
  await refused(c, "INVALID_ITEM", new PutItemCommand({ TableName: "Orders", Item: noPartitionKey }));
  await refused(c, "INVALID_ITEM", new PutItemCommand({ TableName: "Orders", Item: { ...good, nickname: { S: "no action configured" } } }));
  const e = await refused(c, "INVALID_ITEM", new PutItemCommand({ TableName: "Orders", Item: { ...good, aws_dbe_extra: { S: "reserved prefix" } } }));
  assert.match(e.message, /aws_dbe_/);
  await refused(c, "INVALID_ITEM", new PutItemCommand({ TableName: "Keys", Item: { secret: { S: "no id" } } }), "Keys");
  // In a batch or a transaction, one bad item stops the whole call (the plain table's item is not sent either).
  await refused(
    c,
    "INVALID_ITEM",
    new BatchWriteItemCommand({ RequestItems: { Plain: [{ PutRequest: { Item: plainItem("invalid", 1) } }], Orders: [{ PutRequest: { Item: good } }, { PutRequest: { Item: noPartitionKey } }] } }),
  );
  await refused(c, "INVALID_ITEM", new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: "Orders", Item: { ...good, nickname: { S: "x" } } } }] }));
  assert.equal(await stored("Plain", keyOf(plainItem("invalid", 1))), undefined);
  assert.equal(await stored("Orders", keyOf(good)), undefined);
});

test("UpdateExpression touching a signed attribute, ConditionExpression on an encrypted one: REQUEST_REFUSED, nothing sent", async () => {
  const c = encrypting();
  const item = order("expr", 1);
  await c.send(new PutItemCommand({ TableName: "Orders", Item: item }));
  const update = (UpdateExpression, extra = {}) =>
    new UpdateItemCommand({ TableName: "Orders", Key: keyOf(item), UpdateExpression, ExpressionAttributeValues: { ":v": { S: "x" } }, ...extra });
  for (const command of [
    update("SET card = :v"),
    update("SET amount = :v"),
    update("SET #a = :v", { ExpressionAttributeNames: { "#a": "amount" } }),
    update("SET #c = :v", { ExpressionAttributeNames: { "#c": "card" } }),
    update("SET hits = :v REMOVE email"),
    update("ADD amount :v"),
  ]) {
    const e = await refused(c, "REQUEST_REFUSED", command);
    assert.match(e.message, /UpdateItem/);
  }
  const e = await refused(
    c,
    "REQUEST_REFUSED",
    new TransactWriteItemsCommand({ TransactItems: [{ Update: { TableName: "Orders", Key: keyOf(item), UpdateExpression: "SET #x = :v", ExpressionAttributeNames: { "#x": "card" }, ExpressionAttributeValues: { ":v": { S: "x" } } } }] }),
  );
  assert.match(e.message, /card/);

  const values = { ":c": item.card };
  for (const command of [
    new PutItemCommand({ TableName: "Orders", Item: item, ConditionExpression: "card = :c", ExpressionAttributeValues: values }),
    new PutItemCommand({ TableName: "Orders", Item: item, ConditionExpression: "#c = :c", ExpressionAttributeNames: { "#c": "card" }, ExpressionAttributeValues: values }),
    new DeleteItemCommand({ TableName: "Orders", Key: keyOf(item), ConditionExpression: "amount = :a OR card = :c", ExpressionAttributeValues: { ...values, ":a": item.amount } }),
    new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: "Plain", Item: plainItem("expr", 1) } },
        { ConditionCheck: { TableName: "Orders", Key: keyOf(item), ConditionExpression: "begins_with(card, :c)", ExpressionAttributeValues: values } },
      ],
    }),
  ]) {
    const e = await refused(c, "REQUEST_REFUSED", command);
    assert.match(e.message, /ConditionExpression/);
    assert.match(e.message, /card/);
  }
  assert.deepEqual((await c.send(new GetItemCommand({ TableName: "Orders", Key: keyOf(item) }))).Item, item, "nothing changed");

  // attribute_exists / attribute_not_exists on an encrypted attribute read no value: allowed, as in the reference.
  c.wire.length = 0;
  const fresh = order("expr", 2);
  await c.send(new PutItemCommand({ TableName: "Orders", Item: fresh, ConditionExpression: "attribute_not_exists(card)" }));
  await c.send(new UpdateItemCommand({ TableName: "Orders", Key: keyOf(fresh), UpdateExpression: "SET hits = :h", ConditionExpression: "attribute_exists(#c)", ExpressionAttributeNames: { "#c": "card" }, ExpressionAttributeValues: { ":h": { N: "1" } } }));
  await c.send(new DeleteItemCommand({ TableName: "Orders", Key: keyOf(fresh), ConditionExpression: "attribute_exists(card) AND attribute_exists(email)" }));
  assert.deepEqual(c.wire.map((w) => w.name), ["PutItem", "UpdateItem", "DeleteItem"]);
  assert.equal(await stored("Orders", keyOf(fresh)), undefined);
});

test("PartiQL naming a configured table is refused; on an unconfigured table it passes", async () => {
  const c = encrypting();
  await refused(c, "REQUEST_REFUSED", new ExecuteStatementCommand({ Statement: `SELECT * FROM "Orders" WHERE pk = 'x'` }));
  await refused(c, "REQUEST_REFUSED", new ExecuteStatementCommand({ Statement: `INSERT INTO "Keys" VALUE {'id': 'k', 'secret': 'plaintext'}` }), "Keys");
  await refused(
    c,
    "REQUEST_REFUSED",
    new BatchExecuteStatementCommand({ Statements: [{ Statement: `SELECT * FROM "Plain" WHERE pk = 'x'` }, { Statement: `SELECT * FROM "Orders" WHERE pk = 'x'` }] }),
  );
  await refused(c, "REQUEST_REFUSED", new ExecuteTransactionCommand({ TransactStatements: [{ Statement: `UPDATE "Orders" SET hits = 1 WHERE pk = 'x' AND sk = 'y'` }] }));

  const row = plainItem("partiql", 1);
  await admin.send(new PutItemCommand({ TableName: "Plain", Item: row }));
  const statement = { Statement: `SELECT * FROM "Plain" WHERE pk = ?`, Parameters: [{ S: "partiql" }] };
  c.wire.length = 0;
  const viaPlugin = await c.send(new ExecuteStatementCommand(statement));
  assert.equal(c.wire.length, 1);
  assert.deepEqual(viaPlugin.Items, [row]);
  assert.deepEqual(withoutMetadata(viaPlugin), withoutMetadata(await admin.send(new ExecuteStatementCommand(statement))));
});

test("legacy parameters on a configured table are refused", async () => {
  const c = encrypting();
  const item = order("legacy", 1);
  const q = { TableName: "Orders", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": item.pk } };
  for (const [command, parameter] of [
    [new PutItemCommand({ TableName: "Orders", Item: item, Expected: { pk: { Exists: false } } }), "Expected"],
    [new UpdateItemCommand({ TableName: "Orders", Key: keyOf(item), AttributeUpdates: { hits: { Action: "PUT", Value: { N: "1" } } } }), "AttributeUpdates"],
    [new QueryCommand({ ...q, AttributesToGet: ["pk", "sk"] }), "AttributesToGet"],
    [new QueryCommand({ ...q, QueryFilter: { amount: { ComparisonOperator: "GT", AttributeValueList: [{ N: "1" }] } } }), "QueryFilter"],
    [new QueryCommand({ TableName: "Orders", KeyConditions: { pk: { ComparisonOperator: "EQ", AttributeValueList: [item.pk] } } }), "KeyConditions"],
    [new ScanCommand({ TableName: "Orders", ScanFilter: { amount: { ComparisonOperator: "GT", AttributeValueList: [{ N: "1" }] } } }), "ScanFilter"],
  ]) {
    const e = await refused(c, "REQUEST_REFUSED", command);
    assert.ok(e.message.includes(parameter), e.message);
  }
  assert.equal(await stored("Orders", keyOf(item)), undefined);
});

test("a projection leaving out aws_dbe_head or a signed attribute is refused; a FilterExpression on an encrypted attribute too", async () => {
  const c = encrypting();
  const item = order("projection", 1);
  await c.send(new PutItemCommand({ TableName: "Orders", Item: item }));
  const get = (extra) => new GetItemCommand({ TableName: "Orders", Key: keyOf(item), ...extra });
  const query = (extra) => new QueryCommand({ TableName: "Orders", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": item.pk, ...extra.values }, ...extra.rest });
  for (const command of [
    get({ ProjectionExpression: "pk, sk, card, email, photo, amount, aws_dbe_foot" }),
    get({ ProjectionExpression: "pk, sk, card, aws_dbe_head, aws_dbe_foot" }),
    get({ ProjectionExpression: "#h, #f, pk, card", ExpressionAttributeNames: { "#h": "aws_dbe_head", "#f": "aws_dbe_foot" } }),
    get({ AttributesToGet: ["pk", "sk", "card"] }),
    query({ rest: { ProjectionExpression: "pk, sk, card, email, photo, amount, aws_dbe_foot" } }),
    query({ rest: { ProjectionExpression: "pk, card, email, photo, amount, aws_dbe_head, aws_dbe_foot" } }),
    new BatchGetItemCommand({ RequestItems: { Orders: { Keys: [keyOf(item)], ProjectionExpression: "pk, sk, card" } } }),
    new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: "Orders", Key: keyOf(item), ProjectionExpression: "pk, sk" } }] }),
  ]) {
    const e = await refused(c, "REQUEST_REFUSED", command);
    assert.match(e.message, /projection/i);
  }
  // A projection of every signed attribute and the header and footer reads and verifies.
  const full = "#h, #f, pk, sk, card, email, photo, amount";
  const names = { "#h": "aws_dbe_head", "#f": "aws_dbe_foot" };
  assert.deepEqual((await c.send(get({ ProjectionExpression: full, ExpressionAttributeNames: names }))).Item, item);
  assert.deepEqual((await c.send(query({ rest: { ProjectionExpression: full, ExpressionAttributeNames: names } }))).Items, [item]);

  for (const command of [
    new ScanCommand({ TableName: "Orders", FilterExpression: "card = :c", ExpressionAttributeValues: { ":c": item.card } }),
    new ScanCommand({ TableName: "Orders", FilterExpression: "#e = :e", ExpressionAttributeNames: { "#e": "email" }, ExpressionAttributeValues: { ":e": item.email } }),
    query({ values: { ":e": { S: "buyer" } }, rest: { FilterExpression: "amount > :p OR contains(email, :e)" } }),
  ]) {
    const e = await refused(c, "REQUEST_REFUSED", command);
    assert.match(e.message, /FilterExpression/);
  }
});

test("a tampered item fails the whole Query page with its table and key; GetItem of it too, the others still read", async () => {
  const c = encrypting();
  const items = [0, 1, 2].map((i) => order("tamper", i));
  for (const Item of items) await c.send(new PutItemCommand({ TableName: "Orders", Item }));
  const sealed = await stored("Orders", keyOf(items[1]));
  sealed.card.B[sealed.card.B.length - 1] ^= 1;
  await admin.send(new PutItemCommand({ TableName: "Orders", Item: sealed }));

  const check = (e) => {
    assert.ok(e.message.startsWith(`table "Orders", item pk=S:"tamper" sk=S:"order#1": `), e.message);
    assert.equal(e.table, "Orders");
    assert.deepEqual(e.itemKey, keyOf(items[1]));
  };
  c.wire.length = 0;
  check(await expectFieldsealError("INTEGRITY_FAILURE", () => c.send(new QueryCommand({ TableName: "Orders", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "tamper" } } }))));
  assert.deepEqual(c.wire.map((w) => w.name), ["Query"], "the query was sent; its answer is refused");
  check(await expectFieldsealError("INTEGRITY_FAILURE", () => c.send(new GetItemCommand({ TableName: "Orders", Key: keyOf(items[1]) }))));
  check(await expectFieldsealError("INTEGRITY_FAILURE", () => c.send(new ScanCommand({ TableName: "Orders", FilterExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "tamper" } } }))));
  assert.deepEqual((await c.send(new GetItemCommand({ TableName: "Orders", Key: keyOf(items[2]) }))).Item, items[2]);
  // The page without the tampered item reads.
  const rest = await c.send(new QueryCommand({ TableName: "Orders", KeyConditionExpression: "pk = :p AND sk > :s", ExpressionAttributeValues: { ":p": { S: "tamper" }, ":s": items[1].sk } }));
  assert.deepEqual(rest.Items, [items[2]]);
});

test("an unconfigured table behaves exactly as without the plug-in: same stored bytes, same outputs", async () => {
  /** Every item operation on Plain, through `c`; the outputs (without $metadata) and what was stored. */
  async function scenario(c) {
    const rows = [1, 2, 3].map((i) => plainItem("passthrough", i));
    // Attribute names the configured tables would refuse mean nothing here.
    const odd = { ...plainItem("passthrough", 4), aws_dbe_head: { S: "not a header" }, card: { S: "4111 plaintext" } };
    const outputs = [];
    const run = async (command) => {
      const before = c.wire.length;
      try {
        outputs.push(withoutMetadata(await c.send(command)));
      } catch (e) {
        outputs.push({ error: e.name });
      }
      // The plug-in hands the caller's own input object to the wire when it changes nothing.
      assert.equal(c.wire[before].input, command.input, `${c.wire[before].name}: the input object is passed on as it is`);
    };
    await run(new PutItemCommand({ TableName: "Plain", Item: rows[0], ReturnValues: "ALL_OLD" }));
    await run(new PutItemCommand({ TableName: "Plain", Item: { ...rows[0], note: { S: "again" } }, ReturnValues: "ALL_OLD" }));
    await run(new PutItemCommand({ TableName: "Plain", Item: odd, ConditionExpression: "attribute_not_exists(pk)" }));
    await run(new PutItemCommand({ TableName: "Plain", Item: odd, ConditionExpression: "attribute_not_exists(pk)" }));
    await run(new BatchWriteItemCommand({ RequestItems: { Plain: rows.slice(1).map((Item) => ({ PutRequest: { Item } })) } }));
    await run(new GetItemCommand({ TableName: "Plain", Key: keyOf(rows[1]), ProjectionExpression: "pk, note" }));
    await run(new QueryCommand({ TableName: "Plain", KeyConditionExpression: "pk = :p", FilterExpression: "card = :c OR n > :n", ExpressionAttributeValues: { ":p": rows[0].pk, ":c": odd.card, ":n": { N: "1" } }, Limit: 3, ConsistentRead: true }));
    await run(new ScanCommand({ TableName: "Plain", FilterExpression: "pk = :p", ExpressionAttributeValues: { ":p": rows[0].pk }, ConsistentRead: true }));
    await run(new UpdateItemCommand({ TableName: "Plain", Key: keyOf(rows[2]), UpdateExpression: "SET note = :v", ExpressionAttributeValues: { ":v": { S: "updated" } }, ReturnValues: "ALL_NEW" }));
    await run(new UpdateItemCommand({ TableName: "Plain", Key: keyOf(rows[2]), AttributeUpdates: { n: { Action: "ADD", Value: { N: "5" } } }, ReturnValues: "UPDATED_NEW" }));
    await run(new QueryCommand({ TableName: "Plain", KeyConditions: { pk: { ComparisonOperator: "EQ", AttributeValueList: [rows[0].pk] } }, AttributesToGet: ["sk"] }));
    await run(new BatchGetItemCommand({ RequestItems: { Plain: { Keys: rows.map(keyOf), ConsistentRead: true } } }));
    await run(new TransactWriteItemsCommand({ TransactItems: [{ Update: { TableName: "Plain", Key: keyOf(rows[1]), UpdateExpression: "SET card = :c", ConditionExpression: "note = :n", ExpressionAttributeValues: { ":c": { S: "4000" }, ":n": rows[1].note } } }] }));
    await run(new TransactGetItemsCommand({ TransactItems: rows.map((row) => ({ Get: { TableName: "Plain", Key: keyOf(row) } })) }));
    await run(new ExecuteStatementCommand({ Statement: `SELECT * FROM "Plain" WHERE pk = ?`, Parameters: [rows[0].pk] }));
    await run(new DescribeTableCommand({ TableName: "Plain" }));
    const storedItems = (await admin.send(new ScanCommand({ TableName: "Plain", FilterExpression: "pk = :p", ExpressionAttributeValues: { ":p": rows[0].pk }, ConsistentRead: true }))).Items.sort(bySk);
    await run(new DeleteItemCommand({ TableName: "Plain", Key: keyOf(rows[0]), ReturnValues: "ALL_OLD" }));
    for (const item of storedItems) await admin.send(new DeleteItemCommand({ TableName: "Plain", Key: keyOf(item) }));
    return { outputs, stored: storedItems };
  }
  const without = await scenario(plain());
  const withPlugin = await scenario(encrypting());
  assert.equal(without.stored.length, 4);
  assert.deepEqual(without.outputs.filter((o) => o.error).map((o) => o.error), ["ConditionalCheckFailedException"]);
  // DescribeTable's output carries live counters and a creation time: compared apart.
  const describeAt = without.outputs.findIndex((o) => o.Table);
  assert.ok(describeAt > 0);
  assert.deepEqual(withPlugin.outputs[describeAt].Table.KeySchema, without.outputs[describeAt].Table.KeySchema);
  const rest = (o) => o.outputs.filter((_, i) => i !== describeAt);
  assert.deepEqual(rest(withPlugin), rest(without));
  assert.deepEqual(withPlugin.stored, without.stored);
});

test("DynamoDBDocumentClient.from(client): plain JS objects in and out, numbers and binary as the Document client gives them, stored sealed", async () => {
  const c = encrypting();
  const doc = DynamoDBDocumentClient.from(c.client);
  const items = [1, 2].map((i) => ({ pk: "doc", sk: `order#${i}`, card: `4111 2222 3333 ${4440 + i}`, email: `doc-${i}@example.com`, photo: new Uint8Array([i, 2, 3, 4]), amount: 12.5 + i }));
  const input = { TableName: "Orders", Item: items[0] };
  const snapshot = structuredClone(input);
  for (const Item of items) await doc.send(new PutCommand({ TableName: "Orders", Item }));
  assert.deepEqual(input, snapshot);
  const got = await doc.send(new GetCommand({ TableName: "Orders", Key: { pk: "doc", sk: "order#1" }, ConsistentRead: true }));
  assert.deepEqual(got.Item, items[0]);
  assert.equal(typeof got.Item.amount, "number");
  assert.ok(got.Item.photo instanceof Uint8Array);
  const queried = await doc.send(new DocQueryCommand({ TableName: "Orders", KeyConditionExpression: "pk = :p", FilterExpression: "amount > :a", ExpressionAttributeValues: { ":p": "doc", ":a": 0 }, ConsistentRead: true }));
  assert.deepEqual(queried.Items, items);
  assert.equal(queried.Count, 2);
  // What the Document client would give for the same item unencrypted: the same JS types.
  const plainDoc = DynamoDBDocumentClient.from(plain().client);
  await plainDoc.send(new PutCommand({ TableName: "Plain", Item: { ...items[0], pk: "doc-plain" } }));
  const reference = (await plainDoc.send(new GetCommand({ TableName: "Plain", Key: { pk: "doc-plain", sk: "order#1" } }))).Item;
  assert.deepEqual({ ...reference, pk: "doc" }, got.Item);
  for (const item of items) {
    const { pk, sk, card, email, photo, amount } = item;
    assertSealed(await stored("Orders", { pk: { S: pk }, sk: { S: sk } }), { pk: { S: pk }, sk: { S: sk }, card: { S: card }, email: { S: email }, photo: { B: photo }, amount: { N: String(amount) } }, ENCRYPTED);
  }
  // A refusal through the Document client is the same refusal, nothing sent.
  c.wire.length = 0;
  const e = await expectFieldsealError("REQUEST_REFUSED", () => doc.send(new PutCommand({ TableName: "Orders", Item: items[0], ConditionExpression: "card = :c", ExpressionAttributeValues: { ":c": items[0].card } })));
  assert.ok(e.message.includes(`"Orders"`), e.message);
  assert.deepEqual(c.wire, []);
});

test("a configured logger never sees an encrypted attribute's plaintext, nor expression values (bare and Document client, success and refusal)", async () => {
  const logs = [];
  const logger = { trace() {}, debug() {}, info: (entry) => logs.push(entry), warn() {}, error: (entry) => logs.push(entry) };
  const client = new DynamoDBClient({ ...clientOptions(), logger });
  client.middlewareStack.use(getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: tableConfigs() }));
  const item = order("logged", 1);
  await client.send(new PutItemCommand({ TableName: "Orders", Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
  await client.send(new GetItemCommand({ TableName: "Orders", Key: keyOf(item), ConsistentRead: true }));
  await client.send(new QueryCommand({ TableName: "Orders", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": item.pk }, ConsistentRead: true }));
  await expectFieldsealError("REQUEST_REFUSED", () =>
    client.send(new PutItemCommand({ TableName: "Orders", Item: item, ConditionExpression: "card = :c", ExpressionAttributeValues: { ":c": item.card } })),
  );
  const doc = DynamoDBDocumentClient.from(client);
  await doc.send(new PutCommand({ TableName: "Orders", Item: { pk: "logged", sk: "order#2", card: "5500-doc-card", email: "doc@example.com" } }));
  await doc.send(new GetCommand({ TableName: "Orders", Key: { pk: "logged", sk: "order#2" }, ConsistentRead: true }));
  const text = JSON.stringify(logs, (_, v) => (v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString("hex")}` : v));
  assert.equal(logs.length, 6, "five successes and one refusal logged");
  for (const secret of [item.card.S, item.email.S, Buffer.from(item.photo.B).toString("hex"), "5500-doc-card", "doc@example.com"]) {
    assert.ok(!text.includes(secret), `the logs hold ${secret}`);
  }
  assert.ok(text.includes("***SensitiveInformation***"));
  assert.ok(text.includes("order#1") && text.includes(item.amount.N), "key and signed-only attributes are still logged");
});

test("a failed condition with ReturnValuesOnConditionCheckFailure ALL_OLD carries the stored item opened", async () => {
  const c = encrypting();
  const item = order("condfail", 1);
  await c.send(new PutItemCommand({ TableName: "Orders", Item: item }));
  const error = await c
    .send(new PutItemCommand({ TableName: "Orders", Item: { ...item, amount: { N: "2" } }, ConditionExpression: "attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure: "ALL_OLD" }))
    .then(() => assert.fail("the condition should fail"), (e) => e);
  assert.equal(error.name, "ConditionalCheckFailedException");
  assert.ok(error.Item, "moto returned the stored item");
  assert.deepEqual(error.Item.card, item.card);
  assert.deepEqual(error.Item.email, item.email);
  assert.equal(error.Item.aws_dbe_head, undefined);
});

test("a TransactWriteItems entry with none of Put, Update, Delete and ConditionCheck is refused, nothing sent", async () => {
  const c = encrypting();
  c.wire.length = 0;
  const e = await expectFieldsealError("REQUEST_REFUSED", () =>
    c.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: "Orders", Item: order("fifth", 1) } }, {}] })),
  );
  assert.ok(e.message.includes("TransactItems[1]"), e.message);
  assert.deepEqual(c.wire, []);
});

test("plaintextOverride through the plug-in: the three migration steps on a table holding a plaintext item", async () => {
  const withOverride = (plaintextOverride) => {
    const configs = tableConfigs();
    if (plaintextOverride) configs.Orders.plaintextOverride = plaintextOverride;
    return encrypting({ tableEncryptionConfigs: configs });
  };
  const old = { pk: { S: "migrating" }, sk: { S: "order#old" }, card: { S: "4111-old" }, amount: { N: "3" } };
  await admin.send(new PutItemCommand({ TableName: "Orders", Item: old }));
  const key = keyOf(old);
  // Step 1: written as given, both kinds read.
  const step1 = withOverride("FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ");
  const fresh = { ...old, sk: { S: "order#step1" }, card: { S: "4111-step1" } };
  await step1.send(new PutItemCommand({ TableName: "Orders", Item: fresh }));
  assert.deepEqual(await stored("Orders", keyOf(fresh)), fresh);
  assert.deepEqual((await step1.send(new GetItemCommand({ TableName: "Orders", Key: key, ConsistentRead: true }))).Item, old);
  // Step 2: sealed on write, plaintext still read.
  const step2 = withOverride("FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ");
  const sealedNew = { ...old, sk: { S: "order#step2" }, card: { S: "4111-step2" } };
  await step2.send(new PutItemCommand({ TableName: "Orders", Item: sealedNew }));
  assertSealed(await stored("Orders", keyOf(sealedNew)), sealedNew, ["card"]);
  assert.deepEqual((await step2.send(new GetItemCommand({ TableName: "Orders", Key: key, ConsistentRead: true }))).Item, old);
  assert.deepEqual((await step1.send(new GetItemCommand({ TableName: "Orders", Key: keyOf(sealedNew), ConsistentRead: true }))).Item, sealedNew);
  // Step 3 (the default): a plaintext item no longer opens.
  const e = await expectFieldsealError("INVALID_ITEM", () => withOverride(undefined).send(new GetItemCommand({ TableName: "Orders", Key: key, ConsistentRead: true })));
  assert.ok(e.message.includes(`"Orders"`), e.message);
});

test("the caller's inputs are not changed", async () => {
  const c = encrypting();
  const items = [1, 2].map((i) => order("mutation", i));
  const inputs = [
    [PutItemCommand, { TableName: "Orders", Item: items[0], ReturnValues: "ALL_OLD" }],
    [BatchWriteItemCommand, { RequestItems: { Orders: [{ PutRequest: { Item: items[1] } }], Plain: [{ PutRequest: { Item: plainItem("mutation", 1) } }] } }],
    [TransactWriteItemsCommand, { TransactItems: [{ Put: { TableName: "Orders", Item: { ...items[0], sk: { S: "order#9" } } } }, { Update: { TableName: "Orders", Key: keyOf(items[1]), UpdateExpression: "SET hits = :h", ExpressionAttributeValues: { ":h": { N: "1" } } } }] }],
    [GetItemCommand, { TableName: "Orders", Key: keyOf(items[0]) }],
    [QueryCommand, { TableName: "Orders", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": items[0].pk } }],
    [BatchGetItemCommand, { RequestItems: { Orders: { Keys: items.map(keyOf) }, Plain: { Keys: [keyOf(plainItem("mutation", 1))] } } }],
    [TransactGetItemsCommand, { TransactItems: items.map((item) => ({ Get: { TableName: "Orders", Key: keyOf(item) } })) }],
    [UpdateItemCommand, { TableName: "Orders", Key: keyOf(items[0]), UpdateExpression: "SET hits = :h", ExpressionAttributeValues: { ":h": { N: "2" } }, ReturnValues: "ALL_NEW" }],
    [DeleteItemCommand, { TableName: "Orders", Key: keyOf(items[1]), ReturnValues: "ALL_OLD" }],
  ];
  for (const [Command, input] of inputs) {
    const snapshot = structuredClone(input);
    const output = await c.send(new Command(input));
    assert.deepEqual(input, snapshot, Command.name);
    assert.ok(output.$metadata, Command.name);
  }
  // A refused input is not changed either.
  const refusedInput = { TableName: "Orders", Item: { ...items[0], nickname: { S: "x" } } };
  const snapshot = structuredClone(refusedInput);
  await refused(c, "INVALID_ITEM", new PutItemCommand(refusedInput));
  assert.deepEqual(refusedInput, snapshot);
  // Outputs the plug-in opened are fresh objects: changing one does not change the next read.
  const first = await c.send(new GetItemCommand({ TableName: "Orders", Key: keyOf(items[0]) }));
  first.Item.card.S = "changed";
  assert.deepEqual((await c.send(new GetItemCommand({ TableName: "Orders", Key: keyOf(items[0]) }))).Item, { ...items[0], hits: { N: "2" } });
});

test("config errors: INVALID_CONFIG, and a table config breaking a rule rejects ready() and the first request, sending nothing", async () => {
  const good = tableConfigs();
  /** Builds the plug-in and waits for it to be ready: a shape error may throw at once or reject ready(). */
  const build = (config) => () => getDynamoDbEncryptionPlugin(config).ready();
  let e = await expectFieldsealError("INVALID_CONFIG", build({ tableEncryptionConfigs: good, searchConfig: {} }));
  assert.match(e.message, /searchConfig/);
  await expectFieldsealError("INVALID_CONFIG", build({ tableEncryptionConfigs: {} }));
  await expectFieldsealError("INVALID_CONFIG", build({}));
  await expectFieldsealError("INVALID_CONFIG", build(null));
  e = await expectFieldsealError("INVALID_CONFIG", build({ tableEncryptionConfigs: { ...good, Orders: { ...good.Orders, search: { versions: [], writeVersion: 1 } } } }));
  assert.match(e.message, /search/);
  e = await expectFieldsealError("INVALID_CONFIG", build({ tableEncryptionConfigs: { Orders: { ...good.Orders, sortKey: "sk" } } }));
  assert.match(e.message, /sortKey/);

  // Partition key encrypted: a rule of the encryptor, checked when it is built.
  const breaking = () => ({ tableEncryptionConfigs: { ...tableConfigs(), Orders: { ...tableConfigs().Orders, attributeActionsOnEncrypt: { ...ORDERS_ACTIONS, pk: "ENCRYPT_AND_SIGN" } } } });
  const c = encrypting(breaking());
  e = await expectFieldsealError("INVALID_CONFIG", () => c.send(new GetItemCommand({ TableName: "Plain", Key: keyOf(plainItem("config", 1)) })));
  assert.ok(e.message.includes(`"Orders"`), e.message);
  await expectFieldsealError("INVALID_CONFIG", () => c.send(new PutItemCommand({ TableName: "Orders", Item: order("config", 1) })));
  await expectFieldsealError("INVALID_CONFIG", () => c.plugin.ready());
  assert.deepEqual(c.wire, [], "nothing sent");
  const readyFirst = getDynamoDbEncryptionPlugin(breaking());
  e = await expectFieldsealError("INVALID_CONFIG", () => readyFirst.ready());
  assert.ok(e.message.includes(`"Orders"`), e.message);
  assert.equal(await stored("Orders", keyOf(order("config", 1))), undefined);

  // The good config is ready.
  await getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: tableConfigs() }).ready();
});
