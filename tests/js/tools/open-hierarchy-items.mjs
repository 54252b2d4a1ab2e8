// The npm package's half of the hierarchical keyring interop
// (tests/interop/tests/keystore.rs, which starts moto, fills the branch key
// store with the official aws-db-esdk and with fieldseal, and runs this while
// moto is up). Through "fieldseal/kms" (KeyStore + AwsKmsHierarchicalKeyring
// over @aws-sdk v3 clients pointed at that moto), as an app would:
//   - opens every item the official hierarchical keyring sealed, and compares
//     it with its plaintext;
//   - seals new items, for the official SDK to open.
// The keyrings choose each item's branch key from its ddbKey, as the Rust
// side's supplier does (the tenant is the partition value), and record every
// ddbKey they are given, so the caller can compare the two SDKs' views.
//
//   node tests/js/tools/open-hierarchy-items.mjs IN.json OUT.json
//
// IN.json (items in typed DynamoDB JSON: B as base64, N as a string):
//   { store: { endpoint, region, accessKeyId, secretAccessKey, ddbTableName, logicalKeyStoreName, kmsKeyArn },
//     supplier: { partitionKeyName, branchKeyIds: { <partition value>: <branch key id> } },
//     ttlSeconds,
//     tables: { <name>: <ItemEncryptor config without keyring> },
//     open: [{ label, table, sealed, plaintext }],
//     seal: [{ label, table, plaintext }] }
// OUT.json: { opened: [RESULT], sealed: [RESULT] }, in input order, with
//   RESULT = { label, ok, why, item (decrypted or sealed; null on failure), ddbKeys }
//
// Exits 1 if an item does not open to its plaintext or does not seal, 2 on bad usage.
import { readFileSync, writeFileSync } from "node:fs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { ItemEncryptor } from "fieldseal";
import { AwsKmsHierarchicalKeyring, KeyStore } from "fieldseal/kms";

import { canonical, itemFromJson, itemToJson } from "../helpers/manifest.mjs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: open-hierarchy-items.mjs IN.json OUT.json");
  process.exit(2);
}
const request = JSON.parse(readFileSync(input, "utf8"));
const { store, supplier, ttlSeconds, tables } = request;


const clientOptions = {
  region: store.region,
  endpoint: store.endpoint,
  credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
};
const keyStore = new KeyStore({
  ddbTableName: store.ddbTableName,
  logicalKeyStoreName: store.logicalKeyStoreName,
  kmsConfiguration: { kmsKeyArn: store.kmsKeyArn },
  ddbClient: new DynamoDBClient(clientOptions),
  kmsClient: new KMSClient(clientOptions),
});

/** The ddbKeys the suppliers were given since the last `takeSeen()`. */
let seen = [];
const takeSeen = () => {
  const out = seen;
  seen = [];
  return out.map(itemToJson);
};

/** The tenant is the item's partition value (an S); each tenant has its branch key. */
function branchKeyIdSupplier(ddbKey) {
  seen.push(ddbKey);
  const tenant = ddbKey[supplier.partitionKeyName]?.S;
  if (tenant === undefined) throw new Error(`ddbKey has no S attribute ${supplier.partitionKeyName}`);
  const id = supplier.branchKeyIds[tenant];
  if (id === undefined) throw new Error(`no branch key for tenant ${JSON.stringify(tenant)}`);
  return id;
}

// One keyring (with its own cache) per table, as an app configures each table.
const encryptors = Object.fromEntries(
  Object.entries(tables).map(([name, config]) => [
    name,
    new ItemEncryptor({ ...config, keyring: new AwsKmsHierarchicalKeyring({ keyStore, branchKeyIdSupplier, ttlSeconds }) }),
  ]),
);

/** Runs one item's operation; a failure is recorded with its code, not thrown. */
async function attempt(entry, operation) {
  const encryptor = encryptors[entry.table];
  if (!encryptor) return { label: entry.label, ok: false, why: `unknown table ${JSON.stringify(entry.table)}`, item: null, ddbKeys: [] };
  takeSeen();
  try {
    const { item, why } = await operation(encryptor);
    return { label: entry.label, ok: why === undefined, why: why ?? "", item: itemToJson(item), ddbKeys: takeSeen() };
  } catch (error) {
    return { label: entry.label, ok: false, why: `${error?.code ?? error?.name ?? "?"}: ${error?.message}`, item: null, ddbKeys: takeSeen() };
  }
}

const same = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

const opened = [];
for (const entry of request.open) {
  opened.push(
    await attempt(entry, async (encryptor) => {
      const item = await encryptor.decryptItem(itemFromJson(entry.sealed));
      return { item, why: same(item, itemFromJson(entry.plaintext)) ? undefined : "the decrypted item differs from its plaintext" };
    }),
  );
}
const sealed = [];
for (const entry of request.seal) {
  sealed.push(await attempt(entry, async (encryptor) => ({ item: await encryptor.encryptItem(itemFromJson(entry.plaintext)) })));
}

writeFileSync(output, `${JSON.stringify({ opened, sealed }, null, 2)}\n`);
const failed = [...opened, ...sealed].filter((r) => !r.ok);
for (const r of failed) console.log(`FAIL  ${r.label}: ${r.why}`);
console.log(`${opened.length - opened.filter((r) => !r.ok).length} of ${opened.length} opened, ${sealed.length - sealed.filter((r) => !r.ok).length} of ${sealed.length} sealed; wrote ${output}`);
process.exit(failed.length ? 1 : 0);
