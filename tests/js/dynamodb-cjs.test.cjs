// CommonJS consumers: require("fieldseal/dynamodb") works (Node >= 20.19 loads
// ESM without top-level await), and its plug-in seals and opens an item
// against moto's DynamoDB on loopback.
const assert = require("node:assert/strict");
const { after, before, test } = require("node:test");
const { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } = require("@aws-sdk/client-dynamodb");
const { getDynamoDbEncryptionPlugin } = require("fieldseal/dynamodb");
const { FieldsealError, RawAesKeyring } = require("fieldseal");

let moto;
let options;

before(async () => {
  const { startMoto, CREDENTIALS } = require("./helpers/moto.mjs");
  moto = await startMoto();
  options = { region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 };
  await new DynamoDBClient(options).send(
    new CreateTableCommand({
      TableName: "CjsOrders",
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    }),
  );
});

after(async () => {
  await moto?.stop();
});

test("require('fieldseal/dynamodb'): a PutItem / GetItem round trip, stored sealed", async () => {
  assert.equal(typeof getDynamoDbEncryptionPlugin, "function");
  const client = new DynamoDBClient(options);
  client.middlewareStack.use(
    getDynamoDbEncryptionPlugin({
      tableEncryptionConfigs: {
        CjsOrders: {
          logicalTableName: "CjsOrders",
          partitionKeyName: "pk",
          attributeActionsOnEncrypt: { pk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN" },
          keyring: new RawAesKeyring({ keyNamespace: "n", keyName: "k", wrappingKey: new Uint8Array(32).fill(3) }),
        },
      },
    }),
  );
  const item = { pk: { S: "cjs#1" }, card: { S: "4111 1111 1111 1111" } };
  await client.send(new PutItemCommand({ TableName: "CjsOrders", Item: item }));
  const { Item } = await client.send(new GetItemCommand({ TableName: "CjsOrders", Key: { pk: item.pk }, ConsistentRead: true }));
  assert.deepEqual(Item, item);

  const stored = (await new DynamoDBClient(options).send(new GetItemCommand({ TableName: "CjsOrders", Key: { pk: item.pk }, ConsistentRead: true }))).Item;
  assert.ok(stored.aws_dbe_head.B.length > 0 && stored.aws_dbe_foot.B.length > 0);
  assert.ok(stored.card.B instanceof Uint8Array);
  assert.equal(Buffer.from(stored.card.B).indexOf(Buffer.from(item.card.S)), -1);

  await assert.rejects(
    client.send(new PutItemCommand({ TableName: "CjsOrders", Item: { card: { S: "no key" } } })),
    (e) => e instanceof FieldsealError && e.code === "INVALID_ITEM",
  );
});
