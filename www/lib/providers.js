// The two key providers of the demo, each with its own store:
//
// - embedded: a raw AES-256 key made in this tab with WebCrypto (never
//   stored), items kept in this browser's IndexedDB;
// - kms: a multi-Region KMS key on the local moto started by `make demo`:
//   seal with the us-east-1 key (AwsKmsMrkKeyring), open "from" eu-west-1
//   with the replica (AwsKmsMrkKeyring) or a discovery keyring
//   (AwsKmsMrkDiscoveryKeyring); items kept in DynamoDB. The AWS SDK clients
//   talk to `${location.origin}/aws`, which the demo's Vite server proxies to
//   moto (same origin: no CORS), with dummy credentials (moto does not check
//   signatures). Every KMS call goes through a counting clientProvider.
import { RawAesKeyring } from "fieldseal";
import { toHex } from "./bytes.js";
import * as idb from "./idb.js";

export function embeddedProvider() {
  const wrappingKey = crypto.getRandomValues(new Uint8Array(32));
  const keyName = `embedded-${toHex(crypto.getRandomValues(new Uint8Array(4)))}`;
  const keyring = new RawAesKeyring({ keyNamespace: "fieldseal-demo", keyName, wrappingKey });
  wrappingKey.fill(0); // the keyring keeps its own copy, wiped once in WebAssembly
  return {
    id: "embedded",
    keyName,
    storeName: `IndexedDB ${idb.DB_NAME}/${idb.STORE}`,
    sealKeyring: () => keyring,
    openKeyring: () => keyring,
    put: (key, item) => idb.putItem(key, item),
    get: (key) => idb.getItem(key),
    /** Replace one attribute of the stored item with `value`. */
    async replace(key, name, value) {
      const item = await idb.getItem(key);
      await idb.putItem(key, { ...item, [name]: value });
    },
  };
}

/** `cfg`: demo-config.json's `kms`; `onCall({ region, op, phase, keyId? })` sees every KMS call. */
export async function kmsProvider(cfg, onCall) {
  const [kmsSdk, ddbSdk, kms] = await Promise.all([
    import("@aws-sdk/client-kms"),
    import("@aws-sdk/client-dynamodb"),
    import("fieldseal/kms"),
  ]);
  const { KMSClient, DecryptCommand, GenerateDataKeyCommand } = kmsSdk;
  const { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } = ddbSdk;
  const endpoint = new URL(cfg.endpointPath, location.origin).href;
  const credentials = { accessKeyId: "demo", secretAccessKey: "demo" };

  const opName = (command) =>
    command instanceof GenerateDataKeyCommand ? "GenerateDataKey"
      : command instanceof DecryptCommand ? "Decrypt"
        : command.constructor.name.replace(/Command$/, "");
  const clients = new Map();
  const clientProvider = (region) => {
    if (clients.has(region)) return clients.get(region);
    const client = new KMSClient({ region, endpoint, credentials, maxAttempts: 1 });
    const send = client.send.bind(client);
    client.send = async (command, ...rest) => {
      const op = opName(command);
      onCall({ region, op, phase: "sent" });
      const out = await send(command, ...rest);
      onCall({ region, op, phase: "answered", keyId: out.KeyId });
      return out;
    };
    clients.set(region, client);
    return client;
  };

  const { home, replica } = cfg;
  const sealKeyring = new kms.AwsKmsMrkKeyring({ kmsKeyId: cfg.keyArns[home], clientProvider });
  const openers = {
    replica: new kms.AwsKmsMrkKeyring({ kmsKeyId: cfg.keyArns[replica], clientProvider }),
    discovery: new kms.AwsKmsMrkDiscoveryKeyring({
      region: replica,
      clientProvider,
      discoveryFilter: { partition: "aws", accountIds: [cfg.account] },
    }),
    home: new kms.AwsKmsMrkKeyring({ kmsKeyId: cfg.keyArns[home], clientProvider }),
  };

  const ddb = new DynamoDBClient({ region: cfg.table.region, endpoint, credentials, maxAttempts: 2 });
  const TableName = cfg.table.name;
  const Key = (key) => ({ [cfg.table.partitionKey]: { S: key } });
  return {
    id: "kms",
    storeName: `DynamoDB table ${TableName} (${cfg.table.region})`,
    sealKeyring: () => sealKeyring,
    openKeyring: (how) => openers[how] ?? openers.replica,
    put: (key, item) => ddb.send(new PutItemCommand({ TableName, Item: item })),
    get: async (key) => (await ddb.send(new GetItemCommand({ TableName, Key: Key(key), ConsistentRead: true }))).Item,
    replace: (key, name, value) =>
      ddb.send(new UpdateItemCommand({
        TableName,
        Key: Key(key),
        UpdateExpression: "SET #a = :v",
        ConditionExpression: "attribute_exists(#k)",
        ExpressionAttributeNames: { "#a": name, "#k": cfg.table.partitionKey },
        ExpressionAttributeValues: { ":v": value },
      })),
  };
}
