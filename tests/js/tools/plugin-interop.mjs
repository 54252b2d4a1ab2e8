// The npm package's half of the DynamoDB plug-in interop
// (tests/interop/tests/plugin.rs, which starts moto, writes items through the
// official aws-db-esdk DbEsdkInterceptor, runs this while moto is up, and
// then reads this tool's writes through the official interceptor).
// As an app would: one DynamoDBClient pointed at that moto, with
// getDynamoDbEncryptionPlugin from "fieldseal/dynamodb" configured for every
// table, the keyrings built with the package's own API (RawAesKeyring from
// "fieldseal", AwsKmsKeyring from "fieldseal/kms" over @aws-sdk/client-kms).
// It runs the operations in order and reports what each returned; the
// caller compares the plaintexts.
//
//   node tests/js/tools/plugin-interop.mjs IN.json OUT.json
//
// IN.json (items, keys and expression values in typed DynamoDB JSON: B as base64, N as a string):
//   { endpoint, region, accessKeyId, secretAccessKey,
//     tables: { <physical name>: { config: <ItemEncryptor config without keyring>,
//                                  keyring: { aes: { keyNamespace, keyName, wrappingKey (base64) } }
//                                         | { kms: { kmsKeyArn } } } },
//     operations: [OP] }
//   OP = { label, op: "get", table, key }
//      | { label, op: "query", table, keyConditionExpression, expressionAttributeNames, expressionAttributeValues, limit? }
//      | { label, op: "scan", table, limit? }
//      | { label, op: "batchGet", keys: { <table>: [key] } }
//      | { label, op: "put", table, item, conditionExpression?, expressionAttributeNames? }
//      | { label, op: "batchWrite", items: { <table>: [item] } }
//      | { label, op: "transactWrite", puts: [{ table, item }] }
// OUT.json: { results: [RESULT] }, in input order, RESULT = { label, ok, why, ... } with
//   get: item (null if none); query, scan: pages: [{ items, lastEvaluatedKey }] (every page);
//   batchGet: responses: { <table>: [item] } (UnprocessedKeys retried); writes: nothing more.
//
// Exits 1 if an operation fails, 2 on bad usage.
import { readFileSync, writeFileSync } from "node:fs";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { RawAesKeyring } from "fieldseal";
import { getDynamoDbEncryptionPlugin } from "fieldseal/dynamodb";
import { AwsKmsKeyring } from "fieldseal/kms";

import { itemFromJson, itemToJson } from "../helpers/manifest.mjs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: plugin-interop.mjs IN.json OUT.json");
  process.exit(2);
}
const request = JSON.parse(readFileSync(input, "utf8"));
const { endpoint, region } = request;
const credentials = { accessKeyId: request.accessKeyId, secretAccessKey: request.secretAccessKey };

/** A keyring from its description, with the package's API. */
function keyring(description) {
  if (description.aes) {
    const { keyNamespace, keyName, wrappingKey } = description.aes;
    return new RawAesKeyring({ keyNamespace, keyName, wrappingKey: new Uint8Array(Buffer.from(wrappingKey, "base64")) });
  }
  if (description.kms) {
    return new AwsKmsKeyring({
      kmsKeyId: description.kms.kmsKeyArn,
      clientProvider: (keyRegion) => new KMSClient({ region: keyRegion, endpoint, credentials, maxAttempts: 1 }),
    });
  }
  throw new Error(`unknown keyring description ${JSON.stringify(Object.keys(description))}`);
}

const tableEncryptionConfigs = Object.fromEntries(
  Object.entries(request.tables).map(([name, { config, keyring: description }]) => [name, { ...config, keyring: keyring(description) }]),
);
const client = new DynamoDBClient({ region, endpoint, credentials, maxAttempts: 1 });
client.middlewareStack.use(getDynamoDbEncryptionPlugin({ tableEncryptionConfigs }));

const items = (list) => (list ?? []).map(itemToJson);
const nonEmpty = (o) => o !== undefined && Object.keys(o).length > 0;
/** Batch retries of UnprocessedKeys / UnprocessedItems before giving up. */
const MAX_ROUNDS = 10;

/** Every page of a Query or Scan, following LastEvaluatedKey. */
async function pages(makeCommand) {
  const out = [];
  let start;
  do {
    const page = await client.send(makeCommand(start));
    out.push({ items: items(page.Items), lastEvaluatedKey: page.LastEvaluatedKey ? itemToJson(page.LastEvaluatedKey) : null });
    start = page.LastEvaluatedKey;
    if (out.length > 100) throw new Error("more than 100 pages");
  } while (start);
  return out;
}

const operations = {
  async get({ table, key }) {
    const out = await client.send(new GetItemCommand({ TableName: table, Key: itemFromJson(key), ConsistentRead: true }));
    return { item: out.Item ? itemToJson(out.Item) : null };
  },
  async query({ table, keyConditionExpression, expressionAttributeNames, expressionAttributeValues, limit }) {
    return {
      pages: await pages(
        (start) =>
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: keyConditionExpression,
            ExpressionAttributeNames: expressionAttributeNames,
            ExpressionAttributeValues: itemFromJson(expressionAttributeValues),
            Limit: limit,
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
      ),
    };
  },
  async scan({ table, limit }) {
    return { pages: await pages((start) => new ScanCommand({ TableName: table, Limit: limit, ExclusiveStartKey: start, ConsistentRead: true })) };
  },
  async batchGet({ keys }) {
    const responses = Object.fromEntries(Object.keys(keys).map((t) => [t, []]));
    let pending = Object.fromEntries(Object.entries(keys).map(([t, list]) => [t, { Keys: list.map(itemFromJson), ConsistentRead: true }]));
    for (let round = 0; nonEmpty(pending); round++) {
      if (round === MAX_ROUNDS) throw new Error(`UnprocessedKeys left after ${MAX_ROUNDS} rounds`);
      const out = await client.send(new BatchGetItemCommand({ RequestItems: pending }));
      for (const [t, list] of Object.entries(out.Responses ?? {})) (responses[t] ??= []).push(...items(list));
      pending = out.UnprocessedKeys;
    }
    return { responses };
  },
  async put({ table, item, conditionExpression, expressionAttributeNames }) {
    await client.send(
      new PutItemCommand({ TableName: table, Item: itemFromJson(item), ConditionExpression: conditionExpression, ExpressionAttributeNames: expressionAttributeNames }),
    );
    return {};
  },
  async batchWrite({ items: byTable }) {
    let pending = Object.fromEntries(Object.entries(byTable).map(([t, list]) => [t, list.map((i) => ({ PutRequest: { Item: itemFromJson(i) } }))]));
    for (let round = 0; nonEmpty(pending); round++) {
      if (round === MAX_ROUNDS) throw new Error(`UnprocessedItems left after ${MAX_ROUNDS} rounds`);
      pending = (await client.send(new BatchWriteItemCommand({ RequestItems: pending }))).UnprocessedItems;
    }
    return {};
  },
  async transactWrite({ puts }) {
    await client.send(new TransactWriteItemsCommand({ TransactItems: puts.map(({ table, item }) => ({ Put: { TableName: table, Item: itemFromJson(item) } })) }));
    return {};
  },
};

/** A failure as one line: the FieldsealError code (or the SDK error's name), message, table and key. */
function why(error) {
  let where = "";
  if (error?.table !== undefined) {
    let key;
    try {
      key = JSON.stringify(itemToJson(error.itemKey));
    } catch {
      key = String(error.itemKey);
    }
    where = ` [table ${error.table}, itemKey ${key}]`;
  }
  return `${error?.code ?? error?.name ?? "?"}: ${error?.message}${where}`;
}

const results = [];
for (const { label, op, ...args } of request.operations) {
  const run = operations[op];
  try {
    if (!run) throw new Error(`unknown operation ${JSON.stringify(op)}`);
    results.push({ label, ok: true, why: "", ...(await run(args)) });
  } catch (error) {
    results.push({ label, ok: false, why: why(error) });
  }
}

writeFileSync(output, `${JSON.stringify({ results }, null, 2)}\n`);
const failed = results.filter((r) => !r.ok);
for (const r of failed) console.log(`FAIL  ${r.label}: ${r.why}`);
console.log(`${results.length - failed.length} of ${results.length} operations ran; wrote ${output}`);
process.exit(failed.length ? 1 : 0);
