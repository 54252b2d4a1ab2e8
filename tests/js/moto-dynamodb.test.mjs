// The project's moto launcher (tools/moto/launch.py) against what real
// DynamoDB guarantees and fieldseal's key store relies on: a conditional write
// is checked and applied as one step. Of two writers racing on "if still A",
// exactly one wins. Unpatched moto answers each request on its own thread: in
// 120 rounds it let two writers win, or sent a reply the SDK could not parse
// (seen in most runs here; a CI run of the versionKey race test saw both
// racing calls succeed).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const TABLE = "LauncherRace";
const ROUNDS = 120;
const WRITERS = 4;
let moto;
let ddb;

before(async () => {
  moto = await startMoto();
  // One client per writer, so the requests travel on separate connections.
  ddb = () => new DynamoDBClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
  await ddb().send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
});
after(async () => moto?.stop());

/** Writers that all read version `from` race to replace it; returns how many won. */
async function race(clientsOf, write, from, round) {
  const outcomes = await Promise.allSettled(clientsOf.map((client, writer) => client.send(write(writer, from, round))));
  for (const o of outcomes) {
    if (o.status === "rejected") assert.match(o.reason.name, /ConditionalCheckFailed|TransactionCanceled/, String(o.reason));
  }
  return outcomes.filter((o) => o.status === "fulfilled").length;
}

const conditionalPut = (pk) => (writer, from, round) =>
  new PutItemCommand({
    TableName: TABLE,
    Item: { pk: { S: pk }, version: { S: `${round}:${writer}` } },
    ConditionExpression: "attribute_exists(pk) AND version = :from",
    ExpressionAttributeValues: { ":from": { S: from } },
  });

const conditionalTransaction = (pk) => (writer, from, round) =>
  new TransactWriteItemsCommand({
    TransactItems: [
      { Put: { TableName: TABLE, Item: { pk: { S: `${pk}#v${round}:${writer}` } }, ConditionExpression: "attribute_not_exists(pk)" } },
      {
        Put: {
          TableName: TABLE,
          Item: { pk: { S: pk }, version: { S: `${round}:${writer}` } },
          ConditionExpression: "attribute_exists(pk) AND version = :from",
          ExpressionAttributeValues: { ":from": { S: from } },
        },
      },
    ],
  });

for (const [label, write] of [
  ["PutItem", conditionalPut],
  ["TransactWriteItems", conditionalTransaction],
]) {
  test(`${WRITERS} conditional ${label} writers racing on one item: exactly one wins, every round`, async () => {
    const pk = `race-${label}`;
    const writers = Array.from({ length: WRITERS }, ddb);
    await writers[0].send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk }, version: { S: "start" } } }));
    let from = "start";
    const winners = [];
    for (let round = 0; round < ROUNDS; round++) {
      winners.push(await race(writers, write(pk), from, round));
      from = (await writers[0].send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item.version.S;
      assert.match(from, new RegExp(`^${round}:\\d$`), "the item holds one of this round's writes");
    }
    assert.deepEqual(winners, Array(ROUNDS).fill(1), "winners per round");
  });
}
