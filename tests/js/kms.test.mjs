// AWS KMS keyrings against a live local KMS and DynamoDB (patched moto on
// loopback), through the @aws-sdk v3 clients users already have. Error paths
// moto cannot produce (disabled keys, throttling...) use an injected client.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from "@aws-sdk/client-kms";
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { FieldsealError, ItemEncryptor, MultiKeyring } from "fieldseal";
import { AwsKmsKeyring, AwsKmsMrkDiscoveryKeyring, AwsKmsMrkKeyring } from "fieldseal/kms";
import { aesKeyring } from "./helpers/common.mjs";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

let moto;
let mrk; // { east, west, sydney } ARNs of one multi-Region key
let srk; // a single-Region key in us-east-1
let srkSydney; // a single-Region key in ap-southeast-2
let account;

/** A clientProvider whose clients count every command by region and name. */
function countingProvider(endpoint = moto.endpoint) {
  const calls = [];
  const provider = (region) => {
    const client = new KMSClient({ region, endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    const send = client.send.bind(client);
    client.send = (command, ...rest) => {
      calls.push(`${command.constructor.name.replace(/Command$/, "")} ${region}`);
      return send(command, ...rest);
    };
    return client;
  };
  return { provider, calls, take: () => calls.splice(0, calls.length) };
}

const ACTIONS = { pk: "SIGN_ONLY", sk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN", email: "ENCRYPT_AND_SIGN", total: "SIGN_ONLY" };
const orders = (keyring, logicalTableName = "Orders") =>
  new ItemEncryptor({ logicalTableName, partitionKeyName: "pk", sortKeyName: "sk", attributeActionsOnEncrypt: ACTIONS, algorithmSuiteId: "0x6701", keyring });
const order = (i) => ({ pk: { S: "customer#7" }, sk: { S: `order#${String(i).padStart(3, "0")}` }, card: { S: `4111-0000-0000-${1000 + i}` }, email: { S: `buyer${i}@example.com` }, total: { N: `${i}.5` } });

before(async () => {
  moto = await startMoto();
  const east = new KMSClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS });
  const created = await east.send(new CreateKeyCommand({ MultiRegion: true, Description: "fieldseal MRK" }));
  const arn = created.KeyMetadata.Arn;
  account = created.KeyMetadata.AWSAccountId;
  for (const region of ["eu-west-1", "ap-southeast-2"]) {
    await east.send(new ReplicateKeyCommand({ KeyId: created.KeyMetadata.KeyId, ReplicaRegion: region }));
  }
  mrk = { east: arn, west: arn.replace("us-east-1", "eu-west-1"), sydney: arn.replace("us-east-1", "ap-southeast-2") };
  srk = (await east.send(new CreateKeyCommand({ Description: "fieldseal single-Region key" }))).KeyMetadata.Arn;
  const sydney = new KMSClient({ region: "ap-southeast-2", endpoint: moto.endpoint, credentials: CREDENTIALS });
  srkSydney = (await sydney.send(new CreateKeyCommand({ Description: "fieldseal Sydney key" }))).KeyMetadata.Arn;
});

after(async () => {
  await moto?.stop();
});

test("an item sealed in us-east-1 under an MRK opens in eu-west-1 (strict replica ARN and discovery) with no call to us-east-1", async () => {
  const { provider, take } = countingProvider();
  const sealed = await orders(new AwsKmsMrkKeyring({ kmsKeyId: mrk.east, clientProvider: provider })).encryptItem(order(1));
  assert.deepEqual(take(), ["GenerateDataKey us-east-1"]);

  const strict = orders(new AwsKmsMrkKeyring({ kmsKeyId: mrk.west, clientProvider: provider }));
  assert.deepEqual(await strict.decryptItem(sealed), order(1));
  assert.deepEqual(take(), ["Decrypt eu-west-1"]);

  const discovery = orders(new AwsKmsMrkDiscoveryKeyring({ region: "eu-west-1", clientProvider: provider, discoveryFilter: { partition: "aws", accountIds: [account] } }));
  assert.deepEqual(await discovery.decryptItem(sealed), order(1));
  assert.deepEqual(take(), ["Decrypt eu-west-1"]);
});

test("a discovery filter for another account refuses", async () => {
  const { provider, take } = countingProvider();
  const sealed = await orders(new AwsKmsMrkKeyring({ kmsKeyId: mrk.east, clientProvider: provider })).encryptItem(order(2));
  take();
  const other = orders(new AwsKmsMrkDiscoveryKeyring({ region: "eu-west-1", clientProvider: provider, discoveryFilter: { partition: "aws", accountIds: ["000000000000"] } }));
  await assert.rejects(other.decryptItem(sealed), (e) => e instanceof FieldsealError && e.code === "NO_MATCHING_KEY" && /discovery filter/.test(e.message));
  assert.deepEqual(take(), [], "no KMS call for a filtered-out key");
});

test("a wrong encryption context fails", async () => {
  const { provider } = countingProvider();
  const keyring = new AwsKmsKeyring({ kmsKeyId: srk, clientProvider: provider });
  const sealed = await orders(keyring).encryptItem(order(3));
  // Another logical table name is another encryption context: KMS refuses the data key.
  await assert.rejects(orders(keyring, "Refunds").decryptItem(sealed), (e) => e.code === "INTEGRITY_FAILURE" && /InvalidCiphertextException/.test(e.message));
});

test("an item sealed under a single-Region key does not open through another region's discovery keyring", async () => {
  const { provider, take } = countingProvider();
  const sealed = await orders(new AwsKmsKeyring({ kmsKeyId: srk, clientProvider: provider })).encryptItem(order(4));
  take();
  const west = orders(new AwsKmsMrkDiscoveryKeyring({ region: "eu-west-1", clientProvider: provider }));
  await assert.rejects(west.decryptItem(sealed), (e) => e.code === "NO_MATCHING_KEY" && /single-Region key in another region/.test(e.message));
  assert.deepEqual(take(), []);
  const east = orders(new AwsKmsMrkDiscoveryKeyring({ region: "us-east-1", clientProvider: provider }));
  assert.deepEqual(await east.decryptItem(sealed), order(4));
});

test("a multi-keyring of KMS + raw AES opens with either", async () => {
  const { provider } = countingProvider();
  const kms = new AwsKmsKeyring({ kmsKeyId: srk, clientProvider: provider });
  const aes = aesKeyring(11);
  const sealed = await orders(new MultiKeyring({ generator: kms, children: [aes] })).encryptItem(order(5));
  assert.deepEqual(await orders(kms).decryptItem(sealed), order(5));
  assert.deepEqual(await orders(aes).decryptItem(sealed), order(5));
});

test("the MRK multi-keyring wraps for each region; each region opens locally", async () => {
  const { provider, take } = countingProvider();
  const multi = AwsKmsMrkKeyring.multi({ generator: mrk.east, kmsKeyIds: [srkSydney], clientProvider: provider });
  const sealed = await orders(multi).encryptItem(order(6));
  assert.deepEqual(take().sort(), ["GenerateDataKey ap-southeast-2", "GenerateDataKey us-east-1"]);
  const sydney = orders(new AwsKmsMrkKeyring({ kmsKeyId: srkSydney, clientProvider: provider }));
  assert.deepEqual(await sydney.decryptItem(sealed), order(6));
  assert.deepEqual(take(), ["Decrypt ap-southeast-2"]);
  const west = orders(new AwsKmsMrkKeyring({ kmsKeyId: mrk.west, clientProvider: provider }));
  assert.deepEqual(await west.decryptItem(sealed), order(6));
  assert.deepEqual(take(), ["Decrypt eu-west-1"]);
});

test("the MRK multi-keyring refuses two replicas of one key and ids that are not ARNs, before any KMS call", async () => {
  const { provider, take } = countingProvider();
  const replicas = AwsKmsMrkKeyring.multi({ generator: mrk.east, kmsKeyIds: [mrk.sydney], clientProvider: provider });
  await assert.rejects(orders(replicas).encryptItem(order(6)), (e) =>
    e instanceof FieldsealError && e.code === "INVALID_CONFIG" && e.message.includes(mrk.east) && e.message.includes(mrk.sydney));
  const alias = AwsKmsMrkKeyring.multi({ generator: "alias/orders", clientProvider: provider });
  await assert.rejects(orders(alias).encryptItem(order(6)), (e) => e.code === "INVALID_CONFIG" && /not an ARN/.test(e.message));
  assert.throws(() => AwsKmsMrkKeyring.multi({ clientProvider: provider }), (e) => e.code === "INVALID_CONFIG");
  assert.deepEqual(take(), []);
});

test("KMS errors from the live peer: unknown key, unreachable endpoint", async () => {
  const { provider } = countingProvider();
  const missing = srk.replace(/key\/.*/, "key/00000000-0000-0000-0000-000000000000");
  await assert.rejects(orders(new AwsKmsKeyring({ kmsKeyId: missing, clientProvider: provider })).encryptItem(order(7)), (e) =>
    e.code === "KEY_PROVIDER_FAILURE" && e.message.includes(missing) && e.message.includes("us-east-1") && /NotFoundException/.test(e.message));
  const { provider: offline } = countingProvider("http://127.0.0.1:9");
  await assert.rejects(orders(new AwsKmsKeyring({ kmsKeyId: srk, clientProvider: offline })).encryptItem(order(7)), (e) =>
    e.code === "KEY_PROVIDER_FAILURE" && e.message.includes(srk) && /ECONNREFUSED|connect/i.test(e.message));
});

test("disabled, pending deletion, throttling, access denied (injected client): KEY_PROVIDER_FAILURE naming ARN, region and error", async () => {
  const { provider } = countingProvider();
  const sealed = await orders(new AwsKmsKeyring({ kmsKeyId: srk, clientProvider: provider })).encryptItem(order(8));
  for (const name of ["AccessDeniedException", "DisabledException", "KMSInvalidStateException", "NotFoundException", "ThrottlingException"]) {
    const failing = () => ({ send: async () => { throw Object.assign(new Error(`simulated ${name}`), { name }); } });
    for (const operation of [
      () => orders(new AwsKmsKeyring({ kmsKeyId: srk, clientProvider: failing })).encryptItem(order(8)),
      () => orders(new AwsKmsKeyring({ kmsKeyId: srk, clientProvider: failing })).decryptItem(sealed),
    ]) {
      await assert.rejects(operation(), (e) => e instanceof FieldsealError && e.code === "KEY_PROVIDER_FAILURE" && e.message.includes(srk) && e.message.includes("us-east-1") && e.message.includes(name), name);
    }
  }
  const liar = () => ({ send: async () => ({ KeyId: srk, Plaintext: new Uint8Array(16), CiphertextBlob: new Uint8Array(10) }) });
  await assert.rejects(orders(new AwsKmsKeyring({ kmsKeyId: srk, clientProvider: liar })).encryptItem(order(8)), (e) => e.code === "KEY_PROVIDER_FAILURE" && /16 plaintext bytes/.test(e.message));
  await assert.rejects(orders(new AwsKmsKeyring({ kmsKeyId: srk, clientProvider: liar })).decryptItem(sealed), (e) => e.code === "KEY_PROVIDER_FAILURE");
});

test("the complete flow through DynamoDB: CreateTable, PutItem, GetItem, Query, decrypt; no plaintext stored", async () => {
  const { provider, take } = countingProvider();
  const ddb = new DynamoDBClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS });
  await ddb.send(new CreateTableCommand({
    TableName: "Orders",
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  }));
  const writer = orders(new AwsKmsMrkKeyring({ kmsKeyId: mrk.east, clientProvider: provider }));
  const items = Array.from({ length: 10 }, (_, i) => order(100 + i));
  take();
  const sealed = [];
  for (const item of items) sealed.push(await writer.encryptItem(item));
  const encryptCalls = take().length;
  for (const item of sealed) await ddb.send(new PutItemCommand({ TableName: "Orders", Item: item }));

  const reader = orders(new AwsKmsMrkKeyring({ kmsKeyId: mrk.west, clientProvider: provider }));
  const got = await ddb.send(new GetItemCommand({ TableName: "Orders", Key: { pk: { S: "customer#7" }, sk: { S: "order#100" } } }));
  assert.deepEqual(await reader.decryptItem(got.Item), items[0]);
  take();
  const queried = await ddb.send(new QueryCommand({ TableName: "Orders", KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": { S: "customer#7" } } }));
  assert.equal(queried.Items.length, 10);
  const opened = await reader.decryptItems(queried.Items);
  const decryptCalls = take().length;
  assert.deepEqual(opened.sort((a, b) => a.sk.S.localeCompare(b.sk.S)), items);

  // What DynamoDB stores holds no plaintext of an ENCRYPT_AND_SIGN field.
  const stored = JSON.stringify(queried.Items, (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v));
  for (const item of items) {
    assert.ok(!stored.includes(item.card.S), "card number stored in plaintext");
    assert.ok(!stored.includes(item.email.S), "email stored in plaintext");
  }
  for (const item of queried.Items) assert.ok(item.card.B instanceof Uint8Array && item.aws_dbe_head && item.aws_dbe_foot);
  console.log(`KMS calls per item: ${encryptCalls / items.length} on encrypt (GenerateDataKey), ${decryptCalls / items.length} on decrypt (Decrypt)`);
  assert.equal(encryptCalls, items.length);
  assert.equal(decryptCalls, items.length);
});

test("grant tokens and the encryption context reach KMS", async () => {
  const seen = [];
  const { provider } = countingProvider();
  const recording = (region) => {
    const real = provider(region);
    return { send: (command) => { seen.push(command.input); return real.send(command); } };
  };
  const keyring = new AwsKmsKeyring({ kmsKeyId: srk, clientProvider: recording, grantTokens: ["token-a", "token-b"] });
  const sealed = await orders(keyring).encryptItem(order(9));
  await orders(keyring).decryptItem(sealed);
  assert.equal(seen.length, 2);
  for (const input of seen) {
    assert.deepEqual(input.GrantTokens, ["token-a", "token-b"]);
    assert.equal(input.EncryptionContext["aws-crypto-table-name"], "Orders");
  }
  assert.equal(seen[0].KeyId, srk);
  assert.equal(seen[0].NumberOfBytes, 32);
});
