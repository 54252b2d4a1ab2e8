// The hierarchical keyring row of the benchmark (issue 13): against moto's
// KMS and DynamoDB on loopback, through the user's own AWS SDK v3 clients,
// with every command counted by middleware on those clients.
//   - calls per item: N items sealed, then the N opened, ttlSeconds 600;
//   - items/s: round trips of the reference item, hierarchical against raw
//     AES in the same run (the keyring's warm overhead);
//   - cold start: from a new keyring and store handle to the first sealed item.
import { performance } from "node:perf_hooks";

import { makeKeyring } from "../browser/shared.mjs";
import { interleaved } from "./measure.mjs";

/** Counts every command sent through `client`, by command name. */
function countCommands(client) {
  const counts = new Map();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName, (counts.get(context.commandName) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "fieldsealBenchCounter" },
  );
  const total = () => [...counts.values()].reduce((a, b) => a + b, 0);
  return { counts, total, reset: () => counts.clear() };
}

/**
 * @param fieldseal the package (import "fieldseal")
 * @param kms the package's "fieldseal/kms" module
 * @param moto { endpoint, credentials } of a running moto
 * @param reference the reference fixture ({ config, keyring, item wire })
 * @param item the reference item
 * @param opts measure options; items: how many items for the call counts
 * @param chromiumPage optional: ({ endpoint, credentials, store, branchKeyId,
 *   config, rawKeyring, slice, rounds }) => the page's { hierarchical, rawAes }
 */
export async function benchHierarchy({ fieldseal, kms, moto, reference, item, opts, items, chromiumPage }) {
  const { KMSClient, CreateKeyCommand } = await import("@aws-sdk/client-kms");
  const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const region = "us-west-2";
  const clientConfig = { region, endpoint: moto.endpoint, credentials: moto.credentials };
  const kmsClient = new KMSClient(clientConfig);
  const ddbClient = new DynamoDBClient(clientConfig);
  const kmsCalls = countCommands(kmsClient);
  const ddbCalls = countCommands(ddbClient);
  const { KeyMetadata } = await kmsClient.send(new CreateKeyCommand({ Description: "fieldseal bench branch keys" }));
  const storeConfig = {
    ddbTableName: `bench-keystore-${Date.now()}`,
    logicalKeyStoreName: "bench-keystore",
    kmsConfiguration: { kmsKeyArn: KeyMetadata.Arn },
    ddbClient,
    kmsClient,
  };
  const admin = new kms.KeyStore(storeConfig);
  await admin.createKeyStore();
  const { branchKeyIdentifier } = await admin.createKey();

  const config = (keyring) => ({ ...reference.config, algorithmSuiteId: "0x6700", keyring });
  const coldStart = performance.now();
  const keyring = new kms.AwsKmsHierarchicalKeyring({ keyStore: new kms.KeyStore(storeConfig), branchKeyId: branchKeyIdentifier, ttlSeconds: 600 });
  const encryptor = new fieldseal.ItemEncryptor(config(keyring));
  await encryptor.encryptItem(item);
  const coldStartMs = performance.now() - coldStart;

  // Calls per item: a fresh keyring (empty cache), N sealed, then N opened.
  const counted = new fieldseal.ItemEncryptor(config(new kms.AwsKmsHierarchicalKeyring({ keyStore: new kms.KeyStore(storeConfig), branchKeyId: branchKeyIdentifier, ttlSeconds: 600 })));
  kmsCalls.reset();
  ddbCalls.reset();
  const sealed = [];
  for (let i = 0; i < items; i++) {
    sealed.push(await counted.encryptItem({ ...item, pk: { S: `bench#${i}` } }));
  }
  const sealCalls = { kms: kmsCalls.total(), ddb: ddbCalls.total() };
  kmsCalls.reset();
  ddbCalls.reset();
  for (const s of sealed) await counted.decryptItem(s);
  const openCalls = { kms: kmsCalls.total(), ddb: ddbCalls.total() };
  // The sealed items (tens of MB of JS objects) would stay live through the
  // speed measurement below and tax it with garbage collection.
  sealed.length = 0;

  // Warm items/s: hierarchical against raw AES, same item, interleaved.
  const rawAes = new fieldseal.ItemEncryptor(config(makeKeyring(fieldseal, reference.keyring)));
  const slice = { seconds: opts.seconds / 2, warmupSeconds: opts.warmupSeconds / 2 };
  const { hierarchical, rawAes: rawAesSpeed } = await interleaved({ hierarchical: encryptor, rawAes }, item, slice, ROUNDS);
  // The same in headless Chromium, its clients calling moto across origins.
  const chromium = chromiumPage
    ? await chromiumPage({ endpoint: moto.endpoint, credentials: moto.credentials, store: { region, ddbTableName: storeConfig.ddbTableName, logicalKeyStoreName: storeConfig.logicalKeyStoreName, kmsKeyArn: KeyMetadata.Arn }, branchKeyId: branchKeyIdentifier, config: config(undefined), rawKeyring: reference.keyring, slice, rounds: ROUNDS })
    : null;
  kmsClient.destroy();
  ddbClient.destroy();
  return { items, coldStartMs, sealCalls, openCalls, hierarchical, rawAes: rawAesSpeed, chromium };
}

const roundTrip = (m) => 1 / (1 / m.encrypt.itemsPerSec + 1 / m.decrypt.itemsPerSec);
const ROUNDS = 6;


/** The markdown section (and console lines) for a benchHierarchy result. */
export function hierarchyLines(h) {
  const per = (n) => (n / h.items).toFixed(4);
  const overhead = 1 - roundTrip(h.hierarchical) / roundTrip(h.rawAes);
  return [
    `Hierarchical keyring (moto KMS + DynamoDB on loopback, ttlSeconds 600, suite 0x6700, Node):`,
    `- ${h.items.toLocaleString("en-US")} items sealed: ${h.sealCalls.kms} KMS and ${h.sealCalls.ddb} DynamoDB calls (${per(h.sealCalls.kms)} KMS calls per item);`,
    `- the same ${h.items.toLocaleString("en-US")} opened: ${h.openCalls.kms} KMS and ${h.openCalls.ddb} DynamoDB calls (${per(h.openCalls.kms)} KMS calls per item);`,
    `- round trips/s, warm (median of ${ROUNDS} interleaved rounds): hierarchical ${Math.round(roundTrip(h.hierarchical)).toLocaleString("en-US")}, raw AES ${Math.round(roundTrip(h.rawAes)).toLocaleString("en-US")} (overhead ${(overhead * 100).toFixed(1)}%);`,
    ...(h.chromium
      ? [`- the same in headless Chromium ${h.chromium.version} (its clients calling moto across origins): hierarchical ${Math.round(roundTrip(h.chromium.hierarchical)).toLocaleString("en-US")}, raw AES ${Math.round(roundTrip(h.chromium.rawAes)).toLocaleString("en-US")} round trips/s (overhead ${((1 - roundTrip(h.chromium.hierarchical) / roundTrip(h.chromium.rawAes)) * 100).toFixed(1)}%);`]
      : [`- headless Chromium: not measured (${h.chromiumSkipped ?? "no browser"});`]),
    `- cold start (new keyring and store handle to the first sealed item, one GetItem and one KMS Decrypt): ${h.coldStartMs.toFixed(1)} ms.`,
  ];
}
