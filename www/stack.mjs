// The demo's stack, as a module: the patched moto (tools/moto: a local KMS +
// DynamoDB) on 127.0.0.1 (a free port or the one given), provisioned with a
// multi-Region KMS key in us-east-1, its replica in eu-west-1, the DynamoDB
// table FieldsealDemoOrders and the (empty) branch key store table
// FieldsealDemoBranchKeys (both us-east-1), and for the page's search the
// table FieldsealDemoSearchOrders with two global secondary indexes on beacon
// attributes and a branch key (its beacon key computes the beacons); and the
// Vite dev server over www/,
// which serves /demo-config.json (the ARNs, the table) and proxies /aws to
// moto, so the page's AWS SDK clients stay same-origin (no CORS).
//
// Two users: the `make demo` command (www/serve.mjs) and the demo's end-to-end
// test (tests/js/demo.e2e.test.mjs), which starts the same stack in-process.
// `startDemo(options)` resolves to { url, motoEndpoint, config, close }.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { CREDENTIALS, startMoto } from "../tools/moto/start.mjs";

export const wwwRoot = dirname(fileURLToPath(import.meta.url));
export const repoRoot = dirname(wwwRoot);

/** Where things live in the demo's local AWS. */
export const DEMO_AWS = {
  home: "us-east-1",
  replica: "eu-west-1",
  table: "FieldsealDemoOrders",
  partitionKey: "order_id",
  keyStoreTable: "FieldsealDemoBranchKeys",
  proxyPath: "/aws",
  /** Searchable encryption: the orders' table whose beacons two GSIs index (www/lib/search.js). */
  search: {
    table: "FieldsealDemoSearchOrders",
    indexes: { email: "email-index", card_status: "card-status-index" },
  },
};

/**
 * Create the multi-Region key (us-east-1 + replica in eu-west-1), the items'
 * DynamoDB table, the branch key store's table and the search's table and
 * branch key on a fresh moto at `endpoint`. Returns the page's `kms` config.
 *
 * The key store table is made here, with fieldseal's own
 * `KeyStore.createKeyStore()` (the official schema), and not by the page:
 * createKeyStore first asks DescribeTable, whose 400 ResourceNotFound on a
 * fresh moto the browser would log as a console error. The page still calls
 * createKeyStore() (which then only checks the schema) and creates the
 * branch key itself on first use.
 */
export async function provisionAws(endpoint) {
  const { CreateKeyCommand, KMSClient, ReplicateKeyCommand } = await import("@aws-sdk/client-kms");
  const { CreateTableCommand, DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const { KeyStore } = await import("fieldseal/kms");
  const { home, replica, table, partitionKey, keyStoreTable, proxyPath } = DEMO_AWS;
  const kms = new KMSClient({ region: home, endpoint, credentials: CREDENTIALS });
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ MultiRegion: true, Description: "fieldseal demo: multi-Region key" }));
  const { ReplicaKeyMetadata } = await kms.send(new ReplicateKeyCommand({ KeyId: KeyMetadata.KeyId, ReplicaRegion: replica }));
  const ddb = new DynamoDBClient({ region: home, endpoint, credentials: CREDENTIALS });
  await ddb.send(new CreateTableCommand({
    TableName: table,
    KeySchema: [{ AttributeName: partitionKey, KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  }));
  // Branch keys are wrapped by the same multi-Region key (any replica's ARN is accepted on read).
  const kmsConfiguration = { kmsMRKeyArn: KeyMetadata.Arn };
  const keyStore = new KeyStore({ ddbTableName: keyStoreTable, logicalKeyStoreName: keyStoreTable, kmsConfiguration, ddbClient: ddb, kmsClient: kms });
  await keyStore.createKeyStore();
  // The search's branch key is made here, not by the page, so that every page
  // of this stack computes the same beacons and opens every order (a page
  // with a key of its own would get the others' orders back from a GSI and
  // fail to open them). Its beacon key computes the beacons; its branch key
  // wraps the orders' data keys (one hierarchical keyring).
  const { branchKeyIdentifier: searchKeyId } = await keyStore.createKey();
  keyStore.free();
  const searchTable = DEMO_AWS.search.table;
  const gsis = Object.entries(DEMO_AWS.search.indexes).map(([beacon, IndexName]) => ({
    IndexName,
    KeySchema: [{ AttributeName: `aws_dbe_b_${beacon}`, KeyType: "HASH" }],
    Projection: { ProjectionType: "ALL" }, // the whole sealed item: the plug-in opens and filters it
  }));
  await ddb.send(new CreateTableCommand({
    TableName: searchTable,
    KeySchema: [{ AttributeName: partitionKey, KeyType: "HASH" }],
    AttributeDefinitions: [partitionKey, ...gsis.map((g) => g.KeySchema[0].AttributeName)].map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
    GlobalSecondaryIndexes: gsis,
    BillingMode: "PAY_PER_REQUEST",
  }));
  kms.destroy();
  ddb.destroy();
  return {
    endpointPath: proxyPath,
    home,
    replica,
    account: KeyMetadata.AWSAccountId,
    keyArns: { [home]: KeyMetadata.Arn, [replica]: ReplicaKeyMetadata.Arn },
    table: { name: table, region: home, partitionKey },
    keyStore: { table: keyStoreTable, logicalKeyStoreName: keyStoreTable, region: home, kmsConfiguration, ttlSeconds: 600 },
    search: { table: searchTable, region: home, partitionKey, indexes: { ...DEMO_AWS.search.indexes }, branchKeyId: searchKeyId, cacheTTL: 600 },
  };
}

/**
 * Start moto (unless `moto: false`), provision it, and serve www/ with Vite.
 *
 * Options: host (127.0.0.1), port (5173; 0 = a free one), motoPort (free if
 * unset), moto (true), and for Vite: cacheDir, customLogger, logLevel, watch.
 * Resolves to { url, motoEndpoint, motoPid, config, server, close }.
 */
export async function startDemo({
  host = "127.0.0.1",
  port = 5173,
  motoPort,
  moto = true,
  cacheDir,
  customLogger,
  logLevel = "info",
  watch,
} = {}) {
  let motoHandle = null;
  let server = null;
  const close = async () => {
    await server?.close().catch(() => {});
    await motoHandle?.stop();
  };
  try {
    const config = { kms: null };
    if (moto) {
      motoHandle = await startMoto({ port: motoPort });
      config.kms = await provisionAws(motoHandle.endpoint);
    } else {
      config.kmsUnavailable = "Not available: the demo was started without moto (FIELDSEAL_DEMO_MOTO=0).";
    }
    const { createServer } = await import("vite");
    const body = JSON.stringify(config);
    server = await createServer({
      root: wwwRoot,
      configFile: false,
      clearScreen: false,
      logLevel,
      ...(customLogger ? { customLogger } : {}),
      ...(cacheDir ? { cacheDir } : {}),
      plugins: [{
        name: "fieldseal-demo-config",
        configureServer(dev) {
          dev.middlewares.use("/demo-config.json", (req, res) => {
            res.setHeader("content-type", "application/json");
            res.setHeader("cache-control", "no-store");
            res.end(body);
          });
        },
      }],
      // Pre-bundled at startup, so the first switch to KMS mode does not make
      // Vite discover them and reload the page.
      optimizeDeps: { include: ["@aws-sdk/client-kms", "@aws-sdk/client-dynamodb"] },
      server: {
        host,
        port,
        strictPort: true,
        open: false,
        ...(watch !== undefined ? { watch } : {}),
        proxy: motoHandle
          ? {
            [DEMO_AWS.proxyPath]: {
              target: motoHandle.endpoint,
              changeOrigin: true,
              rewrite: (path) => path.slice(DEMO_AWS.proxyPath.length) || "/",
            },
          }
          : {},
      },
    });
    try {
      await server.listen();
    } catch (e) {
      if (e?.code === "EADDRINUSE" || /already in use/i.test(e?.message ?? "")) {
        throw new Error(`port ${port} on ${host} is already in use: stop what runs there, or pick another with PORT=...`, { cause: e });
      }
      throw e;
    }
    const url = server.resolvedUrls?.local?.[0];
    if (!url) throw new Error("the Vite dev server did not report a URL");
    return { url, motoEndpoint: motoHandle?.endpoint ?? null, motoPid: motoHandle?.pid ?? null, config, server, close };
  } catch (e) {
    await close();
    throw e;
  }
}
