// The page side of the DynamoDB plug-in's browser test: @aws-sdk/client-dynamodb
// and fieldseal/dynamodb as an app bundles them (Vite's browser build), the
// client calling moto on another origin (CORS). A page of its own, so that
// the main harness page (tests/js/browser/) does not carry the AWS SDK.
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { FieldsealError, RawAesKeyring } from "fieldseal";
import { getDynamoDbEncryptionPlugin } from "fieldseal/dynamodb";
import { base64ToBytes, fromWire, toWire } from "../browser/shared.mjs";

/**
 * A DynamoDBClient talking to `endpoint`, with the plug-in for `table` and a
 * recorder just before the wire (finalizeRequest, below the plug-in) that
 * notes each request actually sent: its operation, and how many of the
 * items it carries are sealed (have aws_dbe_head).
 */
function encryptingClient(endpoint, credentials, table, tableConfig, key) {
  const client = new DynamoDBClient({ region: "us-east-1", endpoint, credentials, maxAttempts: 1 });
  const keyring = new RawAesKeyring({ keyNamespace: key.keyNamespace, keyName: key.keyName, wrappingKey: base64ToBytes(key.wrappingKey) });
  client.middlewareStack.use(getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: { [table]: { ...tableConfig, keyring } } }));
  const wire = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input ?? {};
      const items = [
        input.Item,
        ...Object.values(input.RequestItems ?? {}).flatMap((requests) => (Array.isArray(requests) ? requests.map((r) => r?.PutRequest?.Item) : [])),
      ].filter(Boolean);
      wire.push({ op: context.commandName.replace(/Command$/, ""), items: items.length, sealed: items.filter((i) => i.aws_dbe_head?.B instanceof Uint8Array).length });
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "fieldsealPageWire" },
  );
  return { client, wire };
}

const keyOf = (item) => ({ pk: item.pk, sk: item.sk });

window.fieldsealPage = {
  /**
   * Through the plug-in: PutItem items[0] and GetItem it; BatchWriteItem the
   * rest; then Query the partition and BatchGetItem the batch's keys. Returns
   * what each read gave back (wire form), the requests sent, and a refused
   * request's error (a condition on an encrypted attribute: no request sent).
   */
  async pluginRoundTrip(endpoint, credentials, table, tableConfig, key, wireItems) {
    const { client, wire } = encryptingClient(endpoint, credentials, table, tableConfig, key);
    const items = wireItems.map(fromWire);
    const [first, ...rest] = items;
    try {
      await client.send(new PutItemCommand({ TableName: table, Item: first }));
      const got = await client.send(new GetItemCommand({ TableName: table, Key: keyOf(first), ConsistentRead: true }));
      const written = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: rest.map((Item) => ({ PutRequest: { Item } })) } }));
      const queried = await client.send(new QueryCommand({
        TableName: table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": first.pk },
        ConsistentRead: true,
      }));
      const batchGot = await client.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: rest.map(keyOf), ConsistentRead: true } } }));

      const sentBeforeRefusal = wire.length;
      let refused = null;
      try {
        // attribute_exists / attribute_not_exists would pass (they do not read the value); a comparison may not.
        await client.send(new PutItemCommand({ TableName: table, Item: first, ConditionExpression: "card = :card", ExpressionAttributeValues: { ":card": first.card } }));
      } catch (e) {
        refused = { name: e?.name, code: e?.code, instanceOfFieldsealError: e instanceof FieldsealError, message: String(e?.message) };
      }
      return {
        origin: location.origin,
        got: got.Item ? toWire(got.Item) : null,
        unprocessed: Object.keys(written.UnprocessedItems ?? {}).length,
        queried: (queried.Items ?? []).map(toWire),
        batchGot: (batchGot.Responses?.[table] ?? []).map(toWire),
        unprocessedKeys: Object.keys(batchGot.UnprocessedKeys ?? {}).length,
        wire,
        refused,
        sentByRefusal: wire.length - sentBeforeRefusal,
      };
    } finally {
      client.destroy();
    }
  },
};
