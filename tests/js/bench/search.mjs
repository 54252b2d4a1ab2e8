// The searchable-encryption row of the benchmark (issue 15), in Node. The
// reference item and its config (raw AES-256 keyring) with a `search` of two
// standard beacons and one compound beacon, against the same config without
// `search`, each pair measured interleaved in the same process (turns of
// BENCH_SECONDS/25, as dynamodb.mjs's stub row):
//   (a) beacon cost per item: ItemEncryptor.encryptItem with beacons vs
//       without, per suite: µs/item and share of one sealed item;
//   (b) query rewriting per query: a Query through the fieldseal/dynamodb
//       plug-in on beacons (rewritten to aws_dbe_b_* names and beacon values)
//       vs the same-shaped Query on signed attributes through the plug-in
//       without search (checked, not rewritten), and the bare client; a stub
//       transport answers an empty page, so only the request side is timed;
//   (c) PutItem through the plug-in, items/s, with beacons vs without, per suite.
// Beacon keys come from a branch key store on moto (KMS + DynamoDB): the
// first beacon computation loads the key (one GetItem, one KMS Decrypt) and it
// is cached for cacheTTL, so the timed loops make no key store or KMS call
// (counted, and checked to be zero).
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";

import { makeKeyring, toWire } from "../browser/shared.mjs";
import { interleavedOps, overhead, quartiles, stubTransport } from "./dynamodb.mjs";

const TABLE = "BenchTable";
const REGION = "us-east-1";
const STUB_CREDENTIALS = { accessKeyId: "bench", secretAccessKey: "bench" };
const CACHE_TTL = 3600;

/** The beacons on the reference item: 2 standard (one on a nested path) and 1 compound (an encrypted part, a signed part). */
export const BEACONS = {
  standardBeacons: [
    { name: "address", length: 16 },
    { name: "city", loc: "profile.city", length: 8 },
  ],
  compoundBeacons: [
    { name: "city_day", split: ".", encrypted: [{ name: "city", prefix: "C-" }], signed: [{ name: "sk", prefix: "T-" }] },
  ],
};

const searchFor = (keyStore, keyId) => ({
  writeVersion: 1,
  versions: [{ version: 1, keyStore, keySource: { single: { keyId, cacheTTL: CACHE_TTL } }, ...structuredClone(BEACONS) }],
});

/** Counts every command sent through `client`. */
function countCommands(client) {
  const counter = { n: 0 };
  client.middlewareStack.add((next) => (args) => {
    counter.n++;
    return next(args);
  }, { step: "initialize", name: "fieldsealBenchSearchCounter" });
  return counter;
}

const isSealed = (item) => item && "aws_dbe_head" in item && "aws_dbe_foot" in item;
const beaconNames = (item) => Object.keys(item).filter((k) => k.startsWith("aws_dbe_b_")).sort();

function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v instanceof Uint8Array) return Array.from(v);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = ["SS", "NS", "BS"].includes(k) ? canonical(x).map((m) => JSON.stringify(m)).sort() : canonical(x);
    return out;
  }
  return v;
}
function expectSame(label, got, want) {
  if (!isDeepStrictEqual(canonical(got), canonical(want))) throw new Error(`${label}: got ${JSON.stringify(toWire(got)).slice(0, 300)}...`);
}

/** The sealed item's beacons are what the config says: hex of `length` bits, the compound's parts. */
function checkBeacons(label, sealed, item) {
  const want = ["aws_dbe_b_address", "aws_dbe_b_city", "aws_dbe_b_city_day"];
  if (!isDeepStrictEqual(beaconNames(sealed), want)) throw new Error(`${label}: beacon attributes ${beaconNames(sealed)}, expected ${want}`);
  const hex = (bits) => new RegExp(`^[0-9a-f]{${Math.ceil(bits / 4)}}$`);
  if (!hex(16).test(sealed.aws_dbe_b_address.S)) throw new Error(`${label}: aws_dbe_b_address ${sealed.aws_dbe_b_address.S} is not 16 bits of hex`);
  if (!hex(8).test(sealed.aws_dbe_b_city.S)) throw new Error(`${label}: aws_dbe_b_city ${sealed.aws_dbe_b_city.S} is not 8 bits of hex`);
  // The default constructor: the signed parts, then the encrypted ones (beacons.md#default-construction).
  const compound = `T-${item.sk.N}.C-${sealed.aws_dbe_b_city.S}`;
  if (sealed.aws_dbe_b_city_day.S !== compound) throw new Error(`${label}: aws_dbe_b_city_day ${sealed.aws_dbe_b_city_day.S}, expected ${compound}`);
}

/**
 * Row search.
 * @param fieldseal the package; kms its "fieldseal/kms"; dynamodb its "fieldseal/dynamodb"
 * @param moto { endpoint, credentials } of a running moto (the branch key store)
 * @param opts { seconds, warmupSeconds } of the bench: each pair takes `seconds`
 */
export async function benchSearch({ fieldseal, kms, dynamodb, moto, reference, item, suites, opts }) {
  const ddb = await import("@aws-sdk/client-dynamodb");
  const { KMSClient, CreateKeyCommand } = await import("@aws-sdk/client-kms");
  const sdkRequire = createRequire(createRequire(import.meta.url).resolve("@aws-sdk/client-dynamodb"));
  const { HttpResponse } = sdkRequire("@smithy/core/transport");

  // The branch key store on moto, through counted clients.
  const clientConfig = { region: REGION, endpoint: moto.endpoint, credentials: moto.credentials };
  const kmsClient = new KMSClient(clientConfig);
  const ddbClient = new ddb.DynamoDBClient(clientConfig);
  const kmsCalls = countCommands(kmsClient);
  const storeCalls = countCommands(ddbClient);
  const clients = [];
  try {
    const { KeyMetadata } = await kmsClient.send(new CreateKeyCommand({ Description: "fieldseal bench beacon keys" }));
    const keyStore = new kms.KeyStore({
      ddbTableName: `bench-beacons-${Date.now()}`,
      logicalKeyStoreName: "bench-beacons",
      kmsConfiguration: { kmsKeyArn: KeyMetadata.Arn },
      ddbClient,
      kmsClient,
    });
    await keyStore.createKeyStore();
    const { branchKeyIdentifier } = await keyStore.createKey();
    const search = searchFor(keyStore, branchKeyIdentifier);

    const timing = { seconds: opts.seconds, turnSeconds: opts.seconds / 25, warmupSeconds: opts.warmupSeconds / 4 };
    // Through a client the SDK's own cost per request dwarfs the beacons': shorter turns, more rounds for the median.
    const clientTiming = { ...timing, turnSeconds: opts.seconds / 50 };
    const stubClient = (bodies) => {
      const requestHandler = stubTransport(HttpResponse, bodies);
      const client = new ddb.DynamoDBClient({ region: REGION, credentials: STUB_CREDENTIALS, requestHandler });
      clients.push(client);
      return { requestHandler, client };
    };
    const withPlugin = (tableConfig, bodies) => {
      const c = stubClient(bodies);
      const plugin = dynamodb.getDynamoDbEncryptionPlugin({ tableEncryptionConfigs: { [TABLE]: tableConfig } });
      c.client.middlewareStack.use(plugin);
      return { ...c, plugin };
    };
    const bodies = { PutItem: {}, Query: { Items: [], Count: 0, ScannedCount: 0 } };
    const out = { beacons: BEACONS, cacheTTL: CACHE_TTL, timing, clientTiming, seal: {}, put: {}, query: null, keyCalls: {} };
    const keyCallsNow = () => kmsCalls.n + storeCalls.n;

    let sealedWithBeacons;
    for (const suite of suites) {
      const config = { ...reference.config, algorithmSuiteId: suite, keyring: makeKeyring(fieldseal, reference.keyring) };
      const plain = new fieldseal.ItemEncryptor(config);
      const beaconized = new fieldseal.ItemEncryptor({ ...config, search });
      // Before timing: the beacons are there (this loads the beacon key), they leave on decrypt, and the plain seal has none.
      const before = keyCallsNow();
      const sealed = await beaconized.encryptItem(item);
      out.keyCalls.firstLoad ??= keyCallsNow() - before;
      checkBeacons(`search ${suite} encryptItem`, sealed, item);
      expectSame(`search ${suite} decryptItem`, await beaconized.decryptItem(sealed), item);
      const unbeaconized = await plain.encryptItem(item);
      if (beaconNames(unbeaconized).length) throw new Error(`search ${suite}: the config without search wrote ${beaconNames(unbeaconized)}`);
      sealedWithBeacons ??= sealed;

      // (c)'s clients: the plug-in with and without search; what reaches the transport is sealed, with and without beacons.
      const a = withPlugin({ ...config, search }, bodies);
      const b = withPlugin({ ...config }, bodies);
      await a.plugin.ready();
      await b.plugin.ready();
      const put = (c) => async () => (await c.client.send(new ddb.PutItemCommand({ TableName: TABLE, Item: item })), 1);
      for (const [variant, c, beacons] of [["with beacons", a, 3], ["without", b, 0]]) {
        await put(c)();
        const sent = JSON.parse(c.requestHandler.last).Item;
        if (!isSealed(sent) || beaconNames(sent).length !== beacons) throw new Error(`search ${suite} PutItem ${variant}: sent ${beaconNames(sent)}`);
      }

      const loops = keyCallsNow();
      out.seal[suite] = await interleavedOps({
        search: async () => (await beaconized.encryptItem(item), 1),
        plain: async () => (await plain.encryptItem(item), 1),
      }, timing);
      out.put[suite] = await interleavedOps({ search: put(a), plain: put(b) }, clientTiming);
      out.keyCalls[suite] = keyCallsNow() - loops;
      plain.free();
      beaconized.free();
    }

    // (b) Query rewriting (suite-independent: no item is sealed or opened). The same shape of
    // expression on both sides: a key condition and a filter, two values.
    const config = { ...reference.config, algorithmSuiteId: suites[0], keyring: makeKeyring(fieldseal, reference.keyring) };
    const a = withPlugin({ ...config, search }, bodies);
    const b = withPlugin({ ...config }, bodies);
    const c = stubClient(bodies);
    await a.plugin.ready();
    await b.plugin.ready();
    const compound = `T-${item.sk.N}.C-${item.profile.M.city.S}`;
    const values = { ":a": item.address, ":c": { S: compound } };
    const queries = {
      search: { TableName: TABLE, IndexName: "address-index", KeyConditionExpression: "address = :a", FilterExpression: "city_day = :c", ExpressionAttributeValues: values },
      plain: { TableName: TABLE, KeyConditionExpression: "pk = :a", FilterExpression: "audit = :c", ExpressionAttributeValues: values },
    };
    const query = (x, input) => async () => (await x.client.send(new ddb.QueryCommand(input)), 1);
    // What the plug-in sent: beacon names and the beacon values the sealed item carries.
    await query(a, queries.search)();
    const sent = JSON.parse(a.requestHandler.last);
    const names = sent.ExpressionAttributeNames ?? {};
    const resolved = (expr) => expr.replace(/#[A-Za-z0-9_]+/g, (n) => names[n] ?? n);
    if (!/aws_dbe_b_address\s*=\s*:a/.test(resolved(sent.KeyConditionExpression))) throw new Error(`search Query: key condition sent ${sent.KeyConditionExpression}`);
    if (!/aws_dbe_b_city_day\s*=\s*:c/.test(resolved(sent.FilterExpression))) throw new Error(`search Query: filter sent ${sent.FilterExpression}`);
    if (sent.ExpressionAttributeValues[":a"].S !== sealedWithBeacons.aws_dbe_b_address.S) throw new Error("search Query: :a is not the item's address beacon");
    if (sent.ExpressionAttributeValues[":c"].S !== sealedWithBeacons.aws_dbe_b_city_day.S) throw new Error("search Query: :c is not the item's city_day beacon");
    await query(b, queries.plain)();
    const plainSent = JSON.parse(b.requestHandler.last);
    if (plainSent.KeyConditionExpression !== "pk = :a" || plainSent.ExpressionAttributeValues[":a"].S !== item.address.S) throw new Error("search Query without search: the plug-in changed the request");
    // The plug-in's middleware alone, no SDK around it: what it hands the next step is the rewritten input.
    const rewriteOnly = (plugin, input) => {
      let middleware;
      plugin.applyToStack({ addRelativeTo: (mw) => { middleware = mw; } });
      const answer = { output: { Items: [], Count: 0, ScannedCount: 0 } };
      const handler = middleware((args) => {
        handler.sent = args.input;
        return answer;
      }, { commandName: "QueryCommand" });
      const op = async () => (await handler({ input }), 1);
      op.handler = handler;
      return op;
    };
    const rewrite = { search: rewriteOnly(a.plugin, queries.search), plain: rewriteOnly(b.plugin, queries.plain) };
    await rewrite.search();
    await rewrite.plain();
    if (!isDeepStrictEqual(rewrite.search.handler.sent.ExpressionAttributeValues, sent.ExpressionAttributeValues && {
      ":a": { S: sent.ExpressionAttributeValues[":a"].S }, ":c": { S: sent.ExpressionAttributeValues[":c"].S },
    })) throw new Error("search Query: the middleware alone rewrote other values than the client sent");
    if (rewrite.plain.handler.sent !== queries.plain) throw new Error("search Query without search: the middleware changed the input");
    const loops = keyCallsNow();
    out.rewrite = await interleavedOps(rewrite, timing);
    out.query = await interleavedOps({ search: query(a, queries.search), plain: query(b, queries.plain), bare: query(c, queries.search) }, clientTiming);
    out.keyCalls.query = keyCallsNow() - loops;
    out.sentQuery = { KeyConditionExpression: sent.KeyConditionExpression, FilterExpression: sent.FilterExpression, names };
    return out;
  } finally {
    for (const c of clients) c.destroy();
    kmsClient.destroy();
    ddbClient.destroy();
  }
}

// ------------------------------------------------------------------ report

const num = (x) => Math.round(x).toLocaleString("en-US");
const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
const micros = (m) => 1e6 / m.itemsPerSec;

/** One row: with beacons vs without, rates, extra µs (median-of-rounds share × the plain time) and the share. */
function pairRow(label, suite, withB, without, unit) {
  const share = overhead(withB, without);
  return [
    label,
    suite,
    `${num(withB.itemsPerSec)} ${unit}`,
    `${num(without.itemsPerSec)} ${unit}`,
    micros(withB).toFixed(1),
    micros(without).toFixed(1),
    (share * micros(without)).toFixed(1),
    pct(share),
    quartiles(withB, without).map(pct).join(" … "),
    String(withB.rounds),
  ];
}

export function searchTable(r) {
  const rows = [];
  for (const [suite, m] of Object.entries(r.seal)) rows.push(pairRow("(a) encryptItem", suite, m.search, m.plain, "items/s"));
  rows.push(pairRow("(b) Query rewrite, plug-in middleware alone", "-", r.rewrite.search, r.rewrite.plain, "queries/s"));
  rows.push(pairRow("(b) Query through the client, stub transport", "-", r.query.search, r.query.plain, "queries/s"));
  for (const [suite, m] of Object.entries(r.put)) rows.push(pairRow("(c) PutItem through the plug-in", suite, m.search, m.plain, "items/s"));
  return {
    header: ["measurement", "suite", "with beacons", "without", "µs with", "µs without", "beacon µs", "share", "its rounds' quartiles", "rounds"],
    left: 2,
    rows,
  };
}

export function searchLines(r) {
  const q = r.query;
  const keyCalls = Object.entries(r.keyCalls).filter(([k]) => k !== "firstLoad").reduce((n, [, v]) => n + v, 0);
  const beaconCost = Object.entries(r.seal).map(([suite, m]) => {
    const share = overhead(m.search, m.plain);
    return `${(share * micros(m.plain)).toFixed(1)} µs per item with ${suite} (${pct(share)} of one sealed item)`;
  });
  const rewrite = overhead(r.rewrite.search, r.rewrite.plain) * micros(r.rewrite.plain);
  return [
    `Beacons (2 standard + 1 compound): ${beaconCost.join(", ")}; rewriting a Query to beacons: ${rewrite.toFixed(1)} µs per query.`,
    "",
    `Searchable encryption: the reference item, raw AES keyring, Node; search = 2 standard beacons (address 16 bits, city = profile.city 8 bits)`,
    `and 1 compound beacon (city_day = "T-<sk>.C-<city beacon>", a signed and an encrypted part), single key source, cacheTTL ${r.cacheTTL} s,`,
    `against the same config without search. Each pair takes turns of ${r.timing.turnSeconds.toFixed(2)} s (${r.clientTiming.turnSeconds.toFixed(2)} s through a client) for ${r.timing.seconds.toFixed(1)} s (after ${r.timing.warmupSeconds.toFixed(2)} s warm-up each);`,
    `share = time per item (or query) with beacons ÷ without − 1, the median over the rounds; beacon µs = share × µs without.`,
    `(a) ItemEncryptor.encryptItem: the beacons' cost as a share of one sealed item. (b) a Query with "address = :a" on a GSI and the`,
    `filter "city_day = :c", rewritten to beacons (2 beacon values), against the same-shaped Query on signed attributes through the plug-in`,
    `without search (checked, not rewritten): first the plug-in's middleware called alone (its next step answers an empty page at once),`,
    `then a DynamoDBClient on a stub transport answering an empty page (the bare client without the plug-in: ${num(q.bare.itemsPerSec)} queries/s);`,
    `only the request side is timed (no items to open and filter). (c) PutItem through the plug-in (stub transport), with beacons vs without.`,
    `Through a client (the stub rows of (b) and (c)) the SDK's own cost per request dominates (${micros(q.bare).toFixed(0)} µs a Query on the bare client):`,
    `the beacons' cost is within those rows' quartiles; (a) and the middleware alone measure it.`,
    `Beacon keys come from a branch key store on moto: the first beacon loads the key (${r.keyCalls.firstLoad} key store + KMS calls), then it is cached`,
    `for cacheTTL, so the key store's network calls are outside the timed loops (${keyCalls} calls counted during them).`,
  ];
}
