// fieldseal/dynamodb in the browser: a Vite-built page (tests/js/browser-ddb/)
// in headless Chromium puts, gets, batch-writes, queries and batch-gets
// through the plug-in on an AWS SDK v3 DynamoDBClient, the client calling
// moto on another origin (CORS: moto's server allows every origin unless
// MOTO_DISABLE_GLOBAL_CORS is set; tools/moto/launch.py leaves that alone).
//
// Node creates the table, then checks what the page got back (the plaintext
// items), what it sent (every written item sealed in the page before the
// wire), what moto stored (read with a client without the plug-in: the
// DB-ESDK's format, no plaintext of an encrypted attribute), and that Node's
// own plug-in opens what the page wrote. Any console error, page error,
// failed request or HTTP error fails.
//
// Skipped with a note when Chromium is missing, unless CI is set.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CreateTableCommand, DynamoDBClient, GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { RawAesKeyring } from "fieldseal";
import { getDynamoDbEncryptionPlugin } from "fieldseal/dynamodb";

import { buildPage, callPage, chromiumPath, launchChromium, openHarnessPage, servePreview } from "./browser/harness.mjs";
import { bytesToBase64, fromWire, toWire } from "./browser/shared.mjs";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());
const skip = chromiumPath() || inCI
  ? false
  : `Chromium not found at ${process.env.CHROMIUM_PATH || "/usr/bin/chromium"} (set CHROMIUM_PATH); not skipped when CI is set`;
const root = fileURLToPath(new URL("./browser-ddb/", import.meta.url));

const TABLE = `PageOrders-${process.pid}`;
// Plain data, so that it crosses into the page as it is; the keyring is made on each side.
const TABLE_CONFIG = {
  logicalTableName: "PageOrders",
  partitionKeyName: "pk",
  sortKeyName: "sk",
  attributeActionsOnEncrypt: {
    pk: "SIGN_ONLY",
    sk: "SIGN_ONLY",
    card: "ENCRYPT_AND_SIGN",
    email: "ENCRYPT_AND_SIGN",
    photo: "ENCRYPT_AND_SIGN",
    amount: "SIGN_ONLY",
    note: "DO_NOTHING",
  },
  allowedUnsignedAttributes: ["note"],
  algorithmSuiteId: "0x6701",
};
const ENCRYPTED = ["card", "email", "photo"];
const KEY = { keyNamespace: "browser-ddb", keyName: "aes-256", wrappingKey: bytesToBase64(randomBytes(32)) };

const order = (i) => ({
  pk: { S: "customer#ü-7" },
  sk: { S: `order#${i}` },
  card: { S: `4111-2222-3333-${4440 + i}` },
  email: { S: `zoë-${i}@example.com 😀` },
  photo: { B: Uint8Array.from([0xca, 0xfe, i, 0xba, 0xbe, 0x51, 0x52, 0x53, 0x54]) },
  amount: { N: `${i}9.95` },
  note: { S: `left as it is ${i}` },
});
const ITEMS = [0, 1, 2, 3].map(order);
const bySk = (a, b) => (a.sk.S < b.sk.S ? -1 : a.sk.S > b.sk.S ? 1 : 0);

/** The plaintext bytes of an encrypted attribute, to look for in what is stored. */
const plaintextBytes = (value) => (value.S !== undefined ? Buffer.from(value.S) : Buffer.from(value.B));

describe("fieldseal/dynamodb in headless Chromium, against moto over CORS", { skip, timeout: 120_000 }, () => {
  let moto;
  let built;
  let server;
  let browser;
  let admin; // no plug-in: sees what DynamoDB stores
  let result;
  let problems;
  let warnings;

  before(async () => {
    moto = await startMoto();
    admin = new DynamoDBClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS });
    // From Node: a table the page would create would first need DescribeTable, whose 400 is a console error.
    await admin.send(new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }));
    built = await buildPage({ root });
    const buildWarnings = built.warnings.filter((w) => !/chunks are larger than/.test(w.msg));
    assert.deepEqual(buildWarnings, [], "vite build of a page importing fieldseal/dynamodb warned");
    server = await servePreview(built.outDir, { root });
    browser = await launchChromium();
    let page;
    ({ page, problems, warnings } = await openHarnessPage(browser, server.url));
    result = await callPage(page, "pluginRoundTrip", moto.endpoint, CREDENTIALS, TABLE, TABLE_CONFIG, KEY, ITEMS.map(toWire));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
    await built?.cleanup().catch(() => {});
    admin?.destroy();
    await moto?.stop();
  });

  test("the page and moto are different origins, and every call was a network request from the page", () => {
    assert.notEqual(new URL(result.origin).port, new URL(moto.endpoint).port);
    // What the client sent, as seen below the plug-in: each written item sealed in the page.
    assert.deepEqual(result.wire, [
      { op: "PutItem", items: 1, sealed: 1 },
      { op: "GetItem", items: 0, sealed: 0 },
      { op: "BatchWriteItem", items: 3, sealed: 3 },
      { op: "Query", items: 0, sealed: 0 },
      { op: "BatchGetItem", items: 0, sealed: 0 },
    ]);
  });

  test("GetItem, Query and BatchGetItem give the page back its plaintext items", () => {
    assert.deepEqual(fromWire(result.got), ITEMS[0], "GetItem");
    assert.equal(result.unprocessed, 0, "BatchWriteItem left items unprocessed");
    assert.deepEqual(result.queried.map(fromWire).sort(bySk), ITEMS, "Query");
    assert.equal(result.unprocessedKeys, 0, "BatchGetItem left keys unprocessed");
    assert.deepEqual(result.batchGot.map(fromWire).sort(bySk), ITEMS.slice(1), "BatchGetItem");
  });

  test("a request the plug-in refuses fails in the page with a typed FieldsealError, and is not sent", () => {
    assert.ok(result.refused, "a condition on an encrypted attribute was accepted");
    assert.equal(result.refused.name, "FieldsealError", result.refused.message);
    assert.equal(result.refused.code, "REQUEST_REFUSED", result.refused.message);
    assert.ok(result.refused.instanceOfFieldsealError, "not an instance of the page's FieldsealError");
    assert.equal(result.sentByRefusal, 0, "the refused request reached the wire");
  });

  test("moto stores the DB-ESDK's sealed items: header and footer, encrypted attributes as B, no plaintext", async () => {
    for (const item of ITEMS) {
      const { Item: stored } = await admin.send(new GetItemCommand({ TableName: TABLE, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }));
      const label = item.sk.S;
      assert.ok(stored, `${label}: not stored`);
      assert.ok(stored.aws_dbe_head?.B instanceof Uint8Array && stored.aws_dbe_head.B.length > 0, `${label}: no aws_dbe_head`);
      assert.ok(stored.aws_dbe_foot?.B instanceof Uint8Array && stored.aws_dbe_foot.B.length > 0, `${label}: no aws_dbe_foot`);
      assert.deepEqual(Object.keys(stored).sort(), [...Object.keys(item), "aws_dbe_head", "aws_dbe_foot"].sort(), `${label}: attribute names`);
      const everything = Buffer.concat(Object.values(stored).map((v) => (v.B ? Buffer.from(v.B) : Buffer.from(JSON.stringify(v)))));
      for (const name of ENCRYPTED) {
        assert.ok(stored[name].B instanceof Uint8Array, `${label}: ${name} is not stored as B`);
        assert.ok(!everything.includes(plaintextBytes(item[name])), `${label}: the plaintext of ${name} is stored`);
      }
      for (const name of ["pk", "sk", "amount", "note"]) assert.deepEqual(stored[name], item[name], `${label}: ${name} is not stored as given`);
    }
  });

  test("Node's plug-in, with the same key, opens what the page wrote", async () => {
    const client = new DynamoDBClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS });
    const keyring = new RawAesKeyring({ keyNamespace: KEY.keyNamespace, keyName: KEY.keyName, wrappingKey: new Uint8Array(Buffer.from(KEY.wrappingKey, "base64")) });
    client.middlewareStack.use(getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: { [TABLE]: { ...TABLE_CONFIG, keyring } } }));
    try {
      const { Items } = await client.send(new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": ITEMS[0].pk },
        ConsistentRead: true,
      }));
      assert.deepEqual(Items.sort(bySk), ITEMS);
    } finally {
      client.destroy();
    }
  });

  test("the page reported no console errors, page errors or failed requests (no refused CORS request)", (t) => {
    for (const w of warnings) t.diagnostic(w);
    assert.deepEqual(problems, []);
  });
});
