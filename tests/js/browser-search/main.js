// The page side of the searchable-encryption browser test: fieldseal/dynamodb
// with a table config's `search` (beacon keys from a fieldseal/kms KeyStore),
// @aws-sdk/client-dynamodb and client-kms as an app bundles them (Vite's
// browser build), every client calling moto on another origin (CORS). A page
// of its own, so that the other harness pages do not carry the AWS SDK.
import { DynamoDBClient, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { FieldsealError, RawAesKeyring } from "fieldseal";
import { getDynamoDbEncryptionPlugin } from "fieldseal/dynamodb";
import { KeyStore } from "fieldseal/kms";
import { base64ToBytes, fromWire, toWire } from "../browser/shared.mjs";

window.fieldsealPage = {
  /**
   * Through the plug-in: PutItem every item, then Query the email GSI by
   * beacon for `email` (and a refused query: ordering on a standard beacon).
   * Returns what came back (wire form), and per request sent (below the
   * plug-in) its key condition and values.
   */
  async beaconRoundTrip(endpoint, credentials, store, branchKeyId, table, tableConfig, key, wireItems, email) {
    const clientConfig = { region: "us-east-1", endpoint, credentials, maxAttempts: 1 };
    const keyStore = new KeyStore({
      ddbTableName: store.ddbTableName,
      logicalKeyStoreName: store.logicalKeyStoreName,
      kmsConfiguration: { kmsKeyArn: store.kmsKeyArn },
      ddbClient: new DynamoDBClient(clientConfig),
      kmsClient: new KMSClient(clientConfig),
    });
    const keyring = new RawAesKeyring({ keyNamespace: key.keyNamespace, keyName: key.keyName, wrappingKey: base64ToBytes(key.wrappingKey) });
    const search = {
      writeVersion: 1,
      versions: [{ version: 1, keyStore, keySource: { single: { keyId: branchKeyId, cacheTTL: 600 } }, standardBeacons: tableConfig.standardBeacons }],
    };
    const client = new DynamoDBClient(clientConfig);
    const plugin = getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: { [table]: { ...tableConfig.encryption, keyring, search } } });
    client.middlewareStack.use(plugin);
    const wire = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        wire.push({ op: context.commandName.replace(/Command$/, ""), key: args.input.KeyConditionExpression ?? null, values: args.input.ExpressionAttributeValues ? toWire(args.input.ExpressionAttributeValues) : null });
        return next(args);
      },
      { step: "finalizeRequest", priority: "low", name: "fieldsealPageWire" },
    );
    try {
      for (const Item of wireItems.map(fromWire)) await client.send(new PutItemCommand({ TableName: table, Item }));
      const queried = await client.send(new QueryCommand({
        TableName: table,
        IndexName: "email-index",
        KeyConditionExpression: "email = :e",
        ExpressionAttributeValues: { ":e": { S: email } },
      }));
      const sentBeforeRefusal = wire.length;
      let refused = null;
      try {
        await client.send(new QueryCommand({ TableName: table, IndexName: "email-index", KeyConditionExpression: "email = :e", FilterExpression: "email < :f", ExpressionAttributeValues: { ":e": { S: email }, ":f": { S: "z" } } }));
      } catch (e) {
        refused = { name: e?.name, code: e?.code, instanceOfFieldsealError: e instanceof FieldsealError, message: String(e?.message) };
      }
      return {
        origin: location.origin,
        queried: (queried.Items ?? []).map(toWire),
        count: queried.Count,
        wire,
        refused,
        sentByRefusal: wire.length - sentBeforeRefusal,
      };
    } finally {
      client.destroy();
    }
  },
};
