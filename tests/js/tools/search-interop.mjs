// The npm package's half of the searchable encryption interop
// (tests/interop/tests/search.rs, which starts moto, makes the branch key
// store and the tables, writes items with beacons through the official
// aws-db-esdk DbEsdkInterceptor, runs this while moto is up, and then
// compares what this tool found and wrote with the official side).
// As an app would: DynamoDBClients pointed at that moto, each with a
// getDynamoDbEncryptionPlugin from "fieldseal/dynamodb" whose tables carry a
// `search` config (the DB-ESDK's names in camelCase) reading beacon keys from
// one KeyStore ("fieldseal/kms"); keyrings from the package's own API
// (RawAesKeyring, or AwsKmsHierarchicalKeyring choosing each item's branch
// key from its tenant attribute).
//
//   node tests/js/tools/search-interop.mjs IN.json OUT.json
//
// IN.json (items and expression values in typed DynamoDB JSON: B as base64, N as a string):
//   { endpoint, region, accessKeyId, secretAccessKey,
//     keyStore: { ddbTableName, logicalKeyStoreName, kmsKeyArn },
//     tenants: [branch key id],           // the hierarchical keyrings' branch keys (tenant value = id)
//     clients: [{ tables: { <physical name>: { config: <table config with search, without keyring;
//                                                    a version's keyStore is added here, its
//                                                    partitionSelector is { attribute }>,
//                                             keyring: { aes: { keyNamespace, keyName, wrappingKey (base64) } }
//                                                    | { hierarchy: { tenantField, ttlSeconds } } } } }],
//     operations: [OP] }
//   OP = { label, op: "put", table, item }
//      | { label, op: "query", table, indexName?, keyConditionExpression, filterExpression?, names, values,
//          limit?, allPartitions?, expectRefusal? }
//      | { label, op: "scan", table, filterExpression?, names, values, limit?, expectRefusal? }
//      | { label, op: "numberOfQueries", table, indexName?, keyConditionExpression, filterExpression?, names, values }
//      | { label, op: "resolve", table, item, version? }
//   Each client is one plug-in: a logical table has one physical table per client.
//   A query follows LastEvaluatedKey to the end, or with allPartitions runs
//   plugin.queryAllPartitions (every partition, pages merged).
// OUT.json: { results: [RESULT] }, in input order, RESULT = { label, ok, why, ... } with
//   query, scan: items; numberOfQueries: count; resolve: virtualFields, compoundBeacons;
//   with expectRefusal: ok if the plug-in refused it with a FieldsealError, refused: { code, message }.
//
// Exits 1 if an operation fails (or is not refused as expected), 2 on bad usage.
import { readFileSync, writeFileSync } from "node:fs";
import { DynamoDBClient, PutItemCommand, QueryCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { FieldsealError, RawAesKeyring } from "fieldseal";
import { getDynamoDbEncryptionPlugin } from "fieldseal/dynamodb";
import { AwsKmsHierarchicalKeyring, KeyStore } from "fieldseal/kms";

import { itemFromJson, itemToJson } from "../helpers/manifest.mjs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: search-interop.mjs IN.json OUT.json");
  process.exit(2);
}
const request = JSON.parse(readFileSync(input, "utf8"));
const { endpoint, region } = request;
const credentials = { accessKeyId: request.accessKeyId, secretAccessKey: request.secretAccessKey };
const clientOptions = { region, endpoint, credentials, maxAttempts: 1 };

const keyStore = new KeyStore({
  ddbTableName: request.keyStore.ddbTableName,
  logicalKeyStoreName: request.keyStore.logicalKeyStoreName,
  kmsConfiguration: { kmsKeyArn: request.keyStore.kmsKeyArn },
  ddbClient: new DynamoDBClient(clientOptions),
  kmsClient: new KMSClient(clientOptions),
});

/** A keyring from its description, with the package's API. */
function keyring(description) {
  if (description.aes) {
    const { keyNamespace, keyName, wrappingKey } = description.aes;
    return new RawAesKeyring({ keyNamespace, keyName, wrappingKey: new Uint8Array(Buffer.from(wrappingKey, "base64")) });
  }
  if (description.hierarchy) {
    const { tenantField, ttlSeconds } = description.hierarchy;
    // The tenant attribute's value is the branch key id (and the beacon key id).
    const branchKeyIdSupplier = (ddbKey) => {
      const tenant = ddbKey[tenantField]?.S;
      if (!request.tenants.includes(tenant)) throw new Error(`no branch key for tenant ${JSON.stringify(tenant)}`);
      return tenant;
    };
    return new AwsKmsHierarchicalKeyring({ keyStore, branchKeyIdSupplier, ttlSeconds });
  }
  throw new Error(`unknown keyring description ${JSON.stringify(Object.keys(description))}`);
}

/** The item's N attribute `attribute`, modulo the number of partitions (the Rust side's AttributePartition). */
function attributeSelector({ attribute }) {
  return (item, numberOfPartitions) => {
    const n = item[attribute]?.N;
    if (n === undefined || !/^-?\d+$/.test(n)) throw new Error(`the item has no integer N attribute ${attribute}`);
    return ((Number(n) % numberOfPartitions) + numberOfPartitions) % numberOfPartitions;
  };
}

/** The table config with each search version's KeyStore and partition selector. */
function tableConfig({ config, keyring: description }) {
  const search = config.search && {
    ...config.search,
    versions: config.search.versions.map(({ partitionSelector, ...version }) => ({
      ...version,
      keyStore,
      ...(partitionSelector ? { partitionSelector: attributeSelector(partitionSelector) } : {}),
    })),
  };
  return { ...config, ...(search ? { search } : {}), keyring: keyring(description) };
}

/** Per physical table: the client (with its plug-in) that encrypts it. */
const clients = new Map();
for (const { tables } of request.clients) {
  const tableEncryptionConfigs = Object.fromEntries(Object.entries(tables).map(([name, t]) => [name, tableConfig(t)]));
  const plugin = getDynamoDbEncryptionPlugin({ tableEncryptionConfigs });
  const client = new DynamoDBClient(clientOptions);
  client.middlewareStack.use(plugin);
  for (const name of Object.keys(tables)) clients.set(name, { client, plugin });
}

function clientFor(table) {
  const entry = clients.get(table);
  if (!entry) throw new Error(`table ${table} is in no client`);
  return entry;
}

const items = (list) => (list ?? []).map(itemToJson);

/** A Query/Scan input from an operation's fields. */
function searchInput({ table, indexName, keyConditionExpression, filterExpression, names, values, limit }) {
  const input = { TableName: table };
  if (indexName !== undefined) input.IndexName = indexName;
  if (keyConditionExpression !== undefined) input.KeyConditionExpression = keyConditionExpression;
  if (filterExpression !== undefined) input.FilterExpression = filterExpression;
  if (names && Object.keys(names).length > 0) input.ExpressionAttributeNames = names;
  if (values && Object.keys(values).length > 0) input.ExpressionAttributeValues = itemFromJson(values);
  if (limit !== undefined) input.Limit = limit;
  return input;
}

/** Every page of a Query or Scan, following LastEvaluatedKey. */
async function allPages(client, makeCommand) {
  const out = [];
  let start;
  for (let page = 0; ; page++) {
    if (page === 1000) throw new Error("more than 1000 pages");
    const result = await client.send(makeCommand(start));
    out.push(...(result.Items ?? []));
    start = result.LastEvaluatedKey;
    if (!start || Object.keys(start).length === 0) return out;
  }
}

const operations = {
  async put({ table, item }) {
    await clientFor(table).client.send(new PutItemCommand({ TableName: table, Item: itemFromJson(item) }));
    return {};
  },
  async query(args) {
    const { client, plugin } = clientFor(args.table);
    const input = searchInput(args);
    if (args.allPartitions) return { items: items((await plugin.queryAllPartitions(client, input)).Items) };
    return { items: items(await allPages(client, (start) => new QueryCommand({ ...input, ExclusiveStartKey: start }))) };
  },
  async scan(args) {
    const { client } = clientFor(args.table);
    const input = { ...searchInput(args), ConsistentRead: true };
    return { items: items(await allPages(client, (start) => new ScanCommand({ ...input, ExclusiveStartKey: start }))) };
  },
  async numberOfQueries(args) {
    return { count: await clientFor(args.table).plugin.getNumberOfQueries(searchInput(args)) };
  },
  async resolve({ table, item, version }) {
    const out = await clientFor(table).plugin.resolveAttributes({ TableName: table, Item: itemFromJson(item), ...(version ? { Version: version } : {}) });
    return { virtualFields: out.VirtualFields, compoundBeacons: out.CompoundBeacons };
  },
};

/** A failure as one line: the FieldsealError code (or the SDK error's name) and message. */
function why(error) {
  return `${error?.code ?? error?.name ?? "?"}: ${error?.message}`;
}

const results = [];
for (const { label, op, expectRefusal, ...args } of request.operations) {
  const run = operations[op];
  try {
    if (!run) throw new Error(`unknown operation ${JSON.stringify(op)}`);
    const out = await run(args);
    if (expectRefusal) results.push({ label, ok: false, why: `not refused: ${JSON.stringify(out).slice(0, 300)}` });
    else results.push({ label, ok: true, why: "", ...out });
  } catch (error) {
    if (expectRefusal && error instanceof FieldsealError) {
      results.push({ label, ok: true, why: "", refused: { code: error.code, message: error.message } });
    } else {
      results.push({ label, ok: false, why: why(error) });
    }
  }
}

writeFileSync(output, `${JSON.stringify({ results }, null, 2)}\n`);
const failed = results.filter((r) => !r.ok);
for (const r of failed) console.log(`FAIL  ${r.label}: ${r.why}`);
console.log(`${results.length - failed.length} of ${results.length} operations ran as expected; wrote ${output}`);
process.exit(failed.length ? 1 : 0);
