// The package README's DynamoDB quick start, pasted as it is into a file and
// run against moto (AWS_ENDPOINT_URL points the SDK at it): docs that work.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const here = dirname(fileURLToPath(import.meta.url));
let moto;
before(async () => {
  moto = await startMoto();
});
after(async () => {
  await moto?.stop();
});

/** The README's code block that starts with `// <name>`. */
function block(name) {
  const readme = readFileSync(join(here, "../../pkg/README.md"), "utf8");
  const found = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.startsWith(`// ${name}`));
  assert.ok(found, `pkg/README.md has no js block starting with // ${name}`);
  return found;
}

test("pkg/README.md: the DynamoDB plug-in quick start runs as pasted", async () => {
  const options = { region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS };
  const plain = new DynamoDBClient(options);
  await plain.send(new CreateTableCommand({
    TableName: "Orders",
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  }));
  const file = join(here, ".readme-orders.mjs");
  writeFileSync(file, block("orders.mjs"));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      env: { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" },
    });
    const lines = stdout.trim().split("\n");
    assert.equal(lines[0], "4111 1111 1111 1111");
    assert.equal(lines[1], "4111 1111 1111 1111 99.5");
  } finally {
    rmSync(file, { force: true });
  }
  const { Item } = await plain.send(new GetItemCommand({ TableName: "Orders", Key: { pk: { S: "customer#42" }, sk: { S: "order#1" } } }));
  assert.ok(Item.aws_dbe_head?.B && Item.aws_dbe_foot?.B, "the stored item is sealed");
  assert.ok(Item.card.B instanceof Uint8Array, "card is stored as ciphertext");
});
