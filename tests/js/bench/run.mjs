// `npm run bench` (repo root): items/s for the reference item
// (tests/fixtures/reference-item.json) under both suites with a raw AES-256
// keyring, encrypt and decrypt, one item per call, single thread:
//
//   native     fieldseal and aws-db-esdk 1.3, Rust (tests/interop bench_native)
//   node       fieldseal wasm in Node, via import "fieldseal"
//   chromium   fieldseal wasm in headless Chromium (Vite build of tests/js/browser/)
//   esdk-js    @aws-crypto/client-node, one ESDK message per ENCRYPT_AND_SIGN attribute
//   large      MB/s of one 1 KiB..1 MiB field under each platformCrypto setting,
//              next to the platform's AES-256-GCM, in Node and in Chromium (large.mjs)
//   dynamodb   the fieldseal/dynamodb plug-in (dynamodb.mjs): its CPU cost per item on
//              PutItem/GetItem/Query against an in-process stub transport, and a
//              1,000-item Query through it against moto next to the same in plaintext
//   search     searchable encryption (search.mjs): beacon cost per sealed item (2 standard +
//              1 compound beacon), Query rewriting per query, beaconized PutItem items/s,
//              each against the same config without search (beacon keys from moto)
//   sql        fieldseal/sql (sql.mjs): rows/s of sealRow/openRow for a 10-column row (4 encrypted)
//              next to encryptItem/decryptItem of the same item, and 10,000 rows inserted and
//              selected against a live PostgreSQL, sealed and plaintext (PG* env, else a
//              throw-away cluster from scripts/pg.sh; skipped with the reason if neither)
//   keyrings   issue 17's keyrings (keyrings.mjs): seal/open items/s, suite 0x6700, of raw ECDH
//              (P-256/384/521, static and ephemeral, opened by the recipient) and AWS KMS RSA
//              (sealed with the PEM only; opened with Decrypt answered in-process, calls counted)
//              next to raw AES, in Node and in headless Chromium (tests/js/browser-keyrings/)
//
// Also measures the package size (pkg/scripts/size.mjs). Each measurement warms
// up, then runs for a fixed wall time. Prints the tables and the issue's
// targets, and writes artifacts/bench.json, BENCHMARKS.md and
// docs/bench-chart.svg (the last two are committed). Environment:
//   BENCH_SECONDS=2.5          measured seconds per (implementation, suite, op)
//   BENCH_WARMUP_SECONDS       warm-up per measurement (default seconds/4, 0.3..1)
//   BENCH_LARGE_SECONDS=0.5    measured seconds per large-field measurement (warm-up a quarter)
//   BENCH_ONLY=native,esdk-js  run only these rows (native, node, chromium, esdk-js, large, hierarchy, dynamodb, search, sql, keyrings)
//   BENCH_SQL_ROUNDS=3         timed rounds of the sql row's 10,000-row INSERT and SELECT
//   BENCH_HIERARCHY_ITEMS=10000 items sealed and opened for the hierarchy row's call counts
//   CHROMIUM_PATH              default /usr/bin/chromium; if missing the browser rows
//                              are skipped with a note, or fail when CI is set
// Exits 1 if a row failed (the others are still measured and printed).

import { constants, createCipheriv, createDecipheriv, generateKeyPairSync, privateDecrypt, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

import { buildPage, callPage, chromiumPath, launchChromium, openHarnessPage, servePreview } from "../browser/harness.mjs";
import { fromWire, makeEncryptor, toWire } from "../browser/shared.mjs";
import { packageSize } from "../../../pkg/scripts/size.mjs";
import { roundTripChart } from "./chart.mjs";
import { esdkItemEncryptor } from "./esdk-js.mjs";
import { benchDynamoDbMoto, benchDynamoDbStub, dynamodbLines, dynamodbStubTable } from "./dynamodb.mjs";
import { benchHierarchy, hierarchyLines } from "./hierarchy.mjs";
import { benchSearch, searchLines, searchTable } from "./search.mjs";
import { benchKeyrings, CURVES, keyringsLines, keyringsTable } from "./keyrings.mjs";
import { benchSqlCpu, benchSqlLive, postgresServer, sqlCpuTable, sqlLines, sqlLiveTable } from "./sql.mjs";
import { LARGE_SIZES, measureLargeField, webCryptoAesGcm } from "./large.mjs";
import { measure, measureEncryptor } from "./measure.mjs";
import { runNative } from "./native.mjs";
import {
  benchmarksMarkdown, compareRows, crossoverLines, largeTable, mainTable, packageSizeLine, ROW_NAMES, sizeLabel,
  targets, targetsTable, textTable,
} from "./report.mjs";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const fixturePath = join(repoRoot, "tests/fixtures/reference-item.json");
const outPath = join(repoRoot, "artifacts/bench.json");
const markdownPath = join(repoRoot, "BENCHMARKS.md");
const chartPath = join(repoRoot, "docs/bench-chart.svg");
const require = createRequire(import.meta.url);

const ROWS = ["native", "node", "chromium", "esdk-js", "large", "hierarchy", "dynamodb", "search", "sql", "keyrings"];
const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());

function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!(n > 0)) {
    console.error(`${name}=${JSON.stringify(raw)}: expected a positive number of seconds`);
    process.exit(2);
  }
  return n;
}
const seconds = envNumber("BENCH_SECONDS", 2.5);
const warmupSeconds = envNumber("BENCH_WARMUP_SECONDS", Math.min(1, Math.max(0.3, seconds / 4)));
const opts = { seconds, warmupSeconds };
const largeSeconds = envNumber("BENCH_LARGE_SECONDS", 0.5);
const largeOpts = { seconds: largeSeconds, warmupSeconds: largeSeconds / 4 };
const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(",").map((s) => s.trim()).filter(Boolean) : ROWS;
for (const r of only) {
  if (!ROWS.includes(r)) {
    console.error(`BENCH_ONLY: unknown row ${JSON.stringify(r)} (known: ${ROWS.join(", ")})`);
    process.exit(2);
  }
}

const reference = JSON.parse(readFileSync(fixturePath, "utf8"));
const wireItem = reference.item;
const item = fromWire(wireItem);
const suites = reference.suites;
const configFor = (suite) => ({ ...reference.config, algorithmSuiteId: suite });

const rows = []; // { impl, runtime, suite, encrypt, decrypt }
const large = []; // { runtime, ciphers, sizes: measureLargeField results }
let hierarchy = null; // benchHierarchy's result
const dynamodb = { stub: null, moto: null }; // benchDynamoDbStub's and benchDynamoDbMoto's results
let search = null; // benchSearch's result
const sql = { cpu: null, live: null, liveSkipped: null }; // benchSqlCpu's and benchSqlLive's results
const keyrings = { results: {}, skipped: {} }; // runtime label -> benchKeyrings's result, or why not measured
const skipped = []; // { row, reason }
const errors = []; // { row, error }
/** Per ROW_NAMES entry: null once measured, else why there are no numbers. */
const status = Object.fromEntries(ROW_NAMES.map((r) => [r, "not run (BENCH_ONLY)"]));
const env = { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model };
const log = (msg) => process.stderr.write(`${msg}\n`);

const version = (pkg) => {
  try {
    return require(`${pkg}/package.json`).version;
  } catch {
    return "?";
  }
};

// A round trip must give back the reference item: numbers in it are already
// canonical; sets come back in canonical order, so they compare unordered.
function normalized(v) {
  if (Array.isArray(v)) return v.map(normalized);
  if (v instanceof Uint8Array) return Array.from(v);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = ["SS", "NS", "BS"].includes(k) ? normalized(x).map((m) => JSON.stringify(m)).sort() : normalized(x);
    }
    return out;
  }
  return v;
}
function checkRoundTrip(label, got) {
  if (!isDeepStrictEqual(normalized(got), normalized(item))) {
    throw new Error(`${label}: round trip does not give back the reference item:\n${JSON.stringify(toWire(got))}`);
  }
}

function push(impl, runtime, suite, encrypt, decrypt) {
  rows.push({ impl, runtime, suite, encrypt, decrypt });
  const f = (m) => `${Math.round(m.itemsPerSec)} items/s (${m.iterations} in ${m.seconds.toFixed(2)}s)`;
  log(`  ${impl} [${runtime}] ${suite}: encrypt ${f(encrypt)}, decrypt ${f(decrypt)}`);
}

/** A row that cannot run here (no cargo, no Chromium): noted, not failed. */
class Skip extends Error {}
/** Skips a row, except in CI, where a missing tool is a failure. */
function skip(reason) {
  throw inCI ? new Error(reason) : new Skip(reason);
}

async function benchNative() {
  log("native: cargo run --release --bin bench_native (tests/interop)");
  const r = await runNative(opts);
  if (r.skipped) skip(r.skipped);
  const by = new Map();
  for (const x of r.results) {
    const key = `${x.impl}|${x.suite}`;
    if (!by.has(key)) by.set(key, { impl: x.impl, suite: x.suite });
    by.get(key)[x.op] = { itemsPerSec: x.itemsPerSec, iterations: x.iterations, seconds: x.seconds };
  }
  for (const x of by.values()) {
    const impl = x.impl === "aws-db-esdk" ? "aws-db-esdk" : "fieldseal";
    rows.push({ impl, runtime: "native Rust", suite: x.suite, encrypt: x.encrypt, decrypt: x.decrypt });
  }
}

async function importFieldseal() {
  try {
    return await import("fieldseal");
  } catch (e) {
    throw new Error(`cannot import "fieldseal" (is the package built? npm run build): ${e.message}`);
  }
}

async function benchNode() {
  log("node: fieldseal wasm via import \"fieldseal\"");
  const fieldseal = await importFieldseal();
  for (const suite of suites) {
    const enc = makeEncryptor(fieldseal, configFor(suite), reference.keyring);
    checkRoundTrip(`node ${suite}`, await enc.decryptItem(await enc.encryptItem(item)));
    const { encrypt, decrypt } = await measureEncryptor(enc, item, opts);
    push("fieldseal", `wasm, Node ${process.versions.node}`, suite, encrypt, decrypt);
  }
}

// The chromium and large rows share one page: one Vite build and one browser
// launch (~10 s on a small machine) instead of two.
let chromiumSession;

/** The harness page in headless Chromium, opened on first use. */
function chromiumPage() {
  if (!chromiumPath()) skip(`Chromium not found at ${process.env.CHROMIUM_PATH || "/usr/bin/chromium"} (set CHROMIUM_PATH)`);
  chromiumSession ??= openChromium();
  return chromiumSession;
}

async function openChromium() {
  log("chromium: Vite build of tests/js/browser/, served by vite preview, headless Chromium");
  const built = await buildPage();
  let server;
  let browser;
  const close = async () => {
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
    await built.cleanup();
  };
  try {
    server = await servePreview(built.outDir);
    browser = await launchChromium();
    env.chromium = browser.version();
    const { page, problems } = await openHarnessPage(browser, server.url);
    return { page, problems, major: browser.version().split(".")[0], close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Throws if the page logged an error, a failed request or an exception so far. */
function checkPage({ problems }) {
  if (problems.length) throw new Error(`the page reported problems:\n  ${problems.join("\n  ")}`);
}

async function benchChromium() {
  const session = await chromiumPage();
  for (const suite of suites) {
    const r = await callPage(session.page, "bench", configFor(suite), reference.keyring, wireItem, opts);
    checkRoundTrip(`chromium ${suite}`, fromWire(r.roundTrip));
    push("fieldseal", `wasm, Chromium ${session.major}`, suite, r.encrypt, r.decrypt);
  }
  checkPage(session);
}

async function benchEsdkJs() {
  const v = version("@aws-crypto/client-node");
  log(`esdk-js: @aws-crypto/client-node ${v}, one ESDK message per ENCRYPT_AND_SIGN attribute`);
  for (const suite of suites) {
    const enc = esdkItemEncryptor(reference, suite);
    const sealed = await enc.encryptItem(item);
    const back = await enc.decryptItem(sealed);
    if (!isDeepStrictEqual(normalized(back), normalized(item))) throw new Error(`esdk-js ${suite}: round trip differs`);
    const encrypt = await measure(() => enc.encryptItem(item), opts);
    const decrypt = await measure(() => enc.decryptItem(sealed), opts);
    push("ESDK-JS", `@aws-crypto/client-node ${v}, Node ${process.versions.node}`, suite, encrypt, decrypt);
  }
}

/**
 * AES-256-GCM through node:crypto, in the shape large.mjs measures: a cipher
 * per message (update + final + getAuthTag), a fresh 12-byte IV each time.
 */
function nodeCryptoAesGcm(key) {
  return {
    seal(data) {
      const iv = randomBytes(12);
      const c = createCipheriv("aes-256-gcm", key, iv);
      const ct = Buffer.concat([c.update(data), c.final()]);
      return { iv, ct, tag: c.getAuthTag() };
    },
    open({ iv, ct, tag }) {
      const d = createDecipheriv("aes-256-gcm", key, iv).setAuthTag(tag);
      return new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
    },
  };
}

/** Runs `measureSize(bytes)` for every large-field size, logging each, into a `large` entry. */
async function benchLarge(runtime, ciphers, measureSize) {
  const sizes = [];
  large.push({ runtime, ciphers, sizes });
  for (const bytes of LARGE_SIZES) {
    const s = await measureSize(bytes);
    sizes.push(s);
    const f = (m) => m.MBps.toFixed(1);
    const settings = Object.entries(s.fieldseal).map(([k, m]) => `${k} ${f(m.encrypt)}/${f(m.decrypt)}`).join(", ");
    const platform = Object.entries(s.aesGcm).map(([k, m]) => `${k} ${f(m)}`).join(", ");
    log(`  large [${runtime}] ${sizeLabel(bytes)}: MB/s enc/dec ${settings}; AES-GCM ${platform}`);
  }
}

async function benchLargeNode() {
  log(`large/node: one field of ${LARGE_SIZES.map(sizeLabel).join(", ")}; ${largeSeconds}s per measurement`);
  const fieldseal = await importFieldseal();
  const ciphers = { WebCrypto: webCryptoAesGcm, "node:crypto": nodeCryptoAesGcm };
  await benchLarge(`Node ${process.versions.node}`, Object.keys(ciphers), (bytes) =>
    measureLargeField(fieldseal, reference.keyring, bytes, largeOpts, ciphers));
}

async function benchLargeChromium() {
  const session = await chromiumPage();
  log(`large/chromium: the same in the harness page; ${largeSeconds}s per measurement`);
  await benchLarge(`Chromium ${session.major}`, ["WebCrypto"], (bytes) =>
    callPage(session.page, "benchLarge", reference.keyring, bytes, largeOpts));
  checkPage(session);
}

/** The hierarchy row's page (tests/js/browser-kms, the AWS SDK v3 in the page), built, served and run once. */
async function hierarchyInChromium(a) {
  const root = fileURLToPath(new URL("../browser-kms/", import.meta.url));
  const built = await buildPage({ root });
  let server;
  let browser;
  try {
    server = await servePreview(built.outDir, { root });
    browser = await launchChromium();
    const { page, problems } = await openHarnessPage(browser, server.url);
    const r = await callPage(page, "benchHierarchy", a.endpoint, a.credentials, a.store, a.branchKeyId, a.config, a.rawKeyring, wireItem, a.slice, a.rounds);
    if (problems.length) throw new Error(`the hierarchy page reported problems:\n  ${problems.join("\n  ")}`);
    return { ...r, version: browser.version() };
  } finally {
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
    await built.cleanup();
  }
}

async function benchHierarchyRow() {
  const items = Number(process.env.BENCH_HIERARCHY_ITEMS ?? 10000);
  log(`hierarchy: hierarchical keyring on moto (KMS + DynamoDB), ${items} items sealed and opened, then warm items/s vs raw AES`);
  const fieldseal = await importFieldseal();
  const kms = await import("fieldseal/kms");
  const { startMoto, CREDENTIALS } = await import("../helpers/moto.mjs");
  let moto;
  try {
    moto = await startMoto();
  } catch (e) {
    skip(`moto did not start (scripts/setup.sh moto installs it): ${e.message}`);
  }
  if (!chromiumPath() && inCI) throw new Error("Chromium not found (CI): the hierarchy row measures it too");
  const chromiumPage = chromiumPath() ? hierarchyInChromium : null;
  try {
    hierarchy = await benchHierarchy({ fieldseal, kms, moto: { endpoint: moto.endpoint, credentials: CREDENTIALS }, reference, item, opts, items, chromiumPage });
    if (!chromiumPage) hierarchy.chromiumSkipped = `Chromium not found at ${process.env.CHROMIUM_PATH || "/usr/bin/chromium"}`;
    for (const line of hierarchyLines(hierarchy)) log(`  ${line}`);
  } finally {
    await moto.stop();
  }
}

async function benchDynamoDbStubRow() {
  log("dynamodb/stub: fieldseal/dynamodb's CPU cost per item, a DynamoDBClient on an in-process stub transport");
  const fieldseal = await importFieldseal();
  dynamodb.stub = await benchDynamoDbStub({ fieldseal, dynamodb: await import("fieldseal/dynamodb"), reference, item, suites, opts });
  log(textTable(dynamodbStubTable(dynamodb.stub)).replace(/^/gm, "  "));
}

async function benchDynamoDbMotoRow() {
  log("dynamodb/moto: Query of 1,000 items, 100 a page, through fieldseal/dynamodb on moto, and in plaintext");
  const fieldseal = await importFieldseal();
  const { startMoto, CREDENTIALS } = await import("../helpers/moto.mjs");
  let moto;
  try {
    moto = await startMoto();
  } catch (e) {
    skip(`moto did not start (scripts/setup.sh moto installs it): ${e.message}`);
  }
  try {
    dynamodb.moto = await benchDynamoDbMoto({ fieldseal, dynamodb: await import("fieldseal/dynamodb"), moto: { endpoint: moto.endpoint, credentials: CREDENTIALS }, reference, item, suite: "0x6701", opts });
    for (const line of dynamodbLines(null, dynamodb.moto)) log(`  ${line}`);
  } finally {
    await moto.stop();
  }
}

async function benchSearchRow() {
  log("search: beacons (2 standard + 1 compound) vs none: encryptItem, Query rewriting, PutItem through fieldseal/dynamodb (stub transport); beacon keys from moto");
  const fieldseal = await importFieldseal();
  const { startMoto, CREDENTIALS } = await import("../helpers/moto.mjs");
  let moto;
  try {
    moto = await startMoto();
  } catch (e) {
    skip(`moto did not start (scripts/setup.sh moto installs it): ${e.message}`);
  }
  try {
    search = await benchSearch({
      fieldseal, kms: await import("fieldseal/kms"), dynamodb: await import("fieldseal/dynamodb"),
      moto: { endpoint: moto.endpoint, credentials: CREDENTIALS }, reference, item, suites, opts,
    });
    log(textTable(searchTable(search)).replace(/^/gm, "  "));
  } finally {
    await moto.stop();
  }
}

async function benchSqlCpuRow() {
  log("sql/cpu: fieldseal/sql sealRow/openRow of a 10-column row (4 encrypted) vs encryptItem/decryptItem of the same item");
  const fieldseal = await importFieldseal();
  sql.cpu = await benchSqlCpu({ fieldseal, sql: await import("fieldseal/sql"), reference, suites, opts });
  log(textTable(sqlCpuTable(sql.cpu)).replace(/^/gm, "  "));
}

async function benchSqlLiveRow() {
  const rounds = Number(process.env.BENCH_SQL_ROUNDS ?? 3);
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error(`BENCH_SQL_ROUNDS=${process.env.BENCH_SQL_ROUNDS}: expected a positive integer`);
  log(`sql/pg: 10,000 rows INSERTed and SELECTed against a live PostgreSQL, sealed and plaintext, ${rounds} rounds`);
  const fieldseal = await importFieldseal();
  const server = postgresServer();
  if (server.skipped) {
    sql.liveSkipped = server.skipped;
    skip(server.skipped);
  }
  try {
    const pg = (await import("pg")).default;
    sql.live = await benchSqlLive({ fieldseal, sql: await import("fieldseal/sql"), pg, server, reference, suites, rounds });
    for (const line of sqlLines(null, sql.live)) log(`  ${line}`);
    log(textTable(sqlLiveTable(sql.live)).replace(/^/gm, "  "));
  } finally {
    server.stop();
  }
}

/** Fresh key material for the keyrings row, as plain data (it crosses into the page as it is). */
let keyringKeys;
function keyringsKeys() {
  if (keyringKeys) return keyringKeys;
  const ec = (namedCurve) => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve });
    return { privatePem: privateKey.export({ type: "pkcs8", format: "pem" }), publicPem: publicKey.export({ type: "spki", format: "pem" }) };
  };
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  keyringKeys = {
    rawAes: reference.keyring,
    ecdh: Object.fromEntries(Object.entries(CURVES).map(([curve, namedCurve]) => [curve, { sender: ec(namedCurve), recipient: ec(namedCurve) }])),
    rsa: {
      arn: "arn:aws:kms:us-west-2:111122223333:key/b3537ef1-d8dc-4780-9f5a-55776cbb2f7f",
      publicKeyPem: rsa.publicKey.export({ type: "spki", format: "pem" }),
      privateKeyPkcs8: rsa.privateKey.export({ type: "pkcs8", format: "der" }).toString("base64"),
      privateKey: rsa.privateKey,
    },
  };
  return keyringKeys;
}

function logKeyrings(runtime) {
  const one = { [runtime]: keyrings.results[runtime] };
  for (const line of keyringsLines(one).slice(-1)) log(`  ${line}`);
  log(textTable(keyringsTable(one)).replace(/^/gm, "  "));
}

async function benchKeyringsNode() {
  log("keyrings/node: raw ECDH and KMS RSA keyrings vs raw AES, suite 0x6700, Node (KMS Decrypt answered by node:crypto)");
  const fieldseal = await importFieldseal();
  const keys = keyringsKeys();
  const rsaDecrypt = async (ciphertext) =>
    new Uint8Array(privateDecrypt({ key: keys.rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, ciphertext));
  const runtime = `Node ${process.versions.node}`;
  keyrings.results[runtime] = await benchKeyrings({ fieldseal, kms: await import("fieldseal/kms"), keys, rsaDecrypt, config: reference.config, item, opts });
  logKeyrings(runtime);
}

async function benchKeyringsChromium() {
  if (!chromiumPath()) {
    keyrings.skipped.Chromium = `Chromium not found at ${process.env.CHROMIUM_PATH || "/usr/bin/chromium"}`;
    skip(keyrings.skipped.Chromium);
  }
  log("keyrings/chromium: the same in headless Chromium (Vite build of tests/js/browser-keyrings/, KMS Decrypt answered by WebCrypto)");
  const root = fileURLToPath(new URL("../browser-keyrings/", import.meta.url));
  const { privateKey, ...rsa } = keyringsKeys().rsa;
  const keys = { ...keyringsKeys(), rsa };
  const built = await buildPage({ root });
  let server;
  let browser;
  try {
    server = await servePreview(built.outDir, { root });
    browser = await launchChromium();
    env.chromium = browser.version();
    const { page, problems } = await openHarnessPage(browser, server.url);
    const r = await callPage(page, "benchKeyrings", keys, reference.config, wireItem, opts);
    if (problems.length) throw new Error(`the keyrings page reported problems:\n  ${problems.join("\n  ")}`);
    const runtime = `Chromium ${browser.version().split(".")[0]}`;
    keyrings.results[runtime] = r;
    logKeyrings(runtime);
  } finally {
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
    await built.cleanup();
  }
}

/** Runs one row, recording in `status` whether it measured, was skipped or failed. */
async function runRow(name, runner) {
  try {
    await runner();
    status[name] = null;
  } catch (e) {
    if (e instanceof Skip) {
      log(`${name}: skipped: ${e.message}`);
      skipped.push({ row: name, reason: e.message });
      status[name] = `skipped: ${e.message}`;
    } else {
      log(`${name}: FAILED: ${e?.stack || e}`);
      errors.push({ row: name, error: String(e?.message ?? e) });
      status[name] = `FAILED: ${String(e?.message ?? e).split("\n")[0]}`;
    }
  }
}

const runners = {
  native: { native: benchNative },
  node: { node: benchNode },
  chromium: { chromium: benchChromium },
  "esdk-js": { "esdk-js": benchEsdkJs },
  large: { "large/node": benchLargeNode, "large/chromium": benchLargeChromium },
  hierarchy: { hierarchy: benchHierarchyRow },
  dynamodb: { "dynamodb/stub": benchDynamoDbStubRow, "dynamodb/moto": benchDynamoDbMotoRow },
  search: { search: benchSearchRow },
  sql: { "sql/cpu": benchSqlCpuRow, "sql/pg": benchSqlLiveRow },
  keyrings: { "keyrings/node": benchKeyringsNode, "keyrings/chromium": benchKeyringsChromium },
};
log(`reference item: ${relative(repoRoot, fixturePath)}; suites ${suites.join(", ")}; ${seconds}s per measurement after ${warmupSeconds}s warm-up`);
try {
  for (const row of only) {
    for (const [name, runner] of Object.entries(runners[row])) await runRow(name, runner);
  }
} finally {
  if (chromiumSession) await chromiumSession.then((s) => s.close(), () => {});
}
let size = null;
await runRow("size", () => {
  size = packageSize();
});

// ------------------------------------------------------------------ report

compareRows(rows);
// DynamoDB's item size estimate, as tests/interop/src/reference.rs computes it.
const utf8 = (s) => new TextEncoder().encode(s).length;
const valueSize = (v) => {
  const [t, x] = Object.entries(v)[0];
  if (t === "S" || t === "N") return utf8(x);
  if (t === "B") return x.length;
  if (t === "BOOL" || t === "NULL") return 1;
  if (t === "L") return 3 + x.reduce((n, e) => n + 1 + valueSize(e), 0);
  if (t === "M") return 3 + Object.entries(x).reduce((n, [k, e]) => n + 1 + utf8(k) + valueSize(e), 0);
  if (t === "BS") return x.reduce((n, e) => n + e.length, 0);
  return x.reduce((n, e) => n + utf8(e), 0); // SS, NS
};
const itemBytes = Object.entries(item).reduce((n, [k, v]) => n + utf8(k) + valueSize(v), 0);
const environment = { ...env, esdkJs: version("@aws-crypto/client-node"), vite: version("vite") };
const results = {
  date: new Date().toISOString(),
  reference: { path: relative(repoRoot, fixturePath), attributes: Object.keys(item).length, bytes: itemBytes },
  seconds,
  warmupSeconds,
  largeSeconds,
  largeWarmupSeconds: largeOpts.warmupSeconds,
  environment,
  rows,
  large,
  hierarchy,
  dynamodb,
  search,
  sql,
  keyrings,
  packageSize: size,
  status,
};
const targetList = targets(results, (row) => status[row]);

console.log();
console.log(`Reference item (${results.reference.attributes} attributes, ~${itemBytes} bytes), raw AES-256 keyring, one item per call, single thread.`);
console.log(`${seconds}s per measurement after ${warmupSeconds}s warm-up; ratios are of round trip/s (1 / (1/encrypt + 1/decrypt)), same suite.`);
console.log(`${env.cpus} × ${env.cpuModel ?? "CPU"}, ${env.platform}, Node ${process.versions.node}${env.chromium ? `, Chromium ${env.chromium}` : ""}`);
console.log();
console.log(rows.length ? textTable(mainTable(rows)) : "(no items/s rows measured in this run)");
for (const l of large) {
  console.log(`\nLarge fields, ${l.runtime}: MB/s of the field value (${largeSeconds}s per measurement)`);
  console.log(textTable(largeTable(l)));
  for (const c of crossoverLines(l)) console.log(`crossover ${c}`);
}
if (hierarchy) console.log(`\n${hierarchyLines(hierarchy).join("\n")}`);
if (dynamodb.stub) console.log(`\n${dynamodbLines(dynamodb.stub, null).join("\n")}\n${textTable(dynamodbStubTable(dynamodb.stub))}`);
if (dynamodb.moto) console.log(`\n${dynamodbLines(null, dynamodb.moto).join("\n")}`);
if (search) console.log(`\n${searchLines(search).join("\n")}\n${textTable(searchTable(search))}`);
if (sql.cpu || sql.live || sql.liveSkipped) {
  console.log(`\n${sqlLines(sql.cpu, sql.live, sql.liveSkipped).join("\n")}`);
  if (sql.cpu) console.log(textTable(sqlCpuTable(sql.cpu)));
  if (sql.live) console.log(textTable(sqlLiveTable(sql.live)));
}
if (Object.keys(keyrings.results).length) {
  console.log(`\n${keyringsLines(keyrings.results, keyrings.skipped).join("\n")}\n${textTable(keyringsTable(keyrings.results))}`);
}
if (size) console.log(`\n${packageSizeLine(size)}`);
console.log("\nTargets");
console.log(textTable(targetsTable(targetList)));
for (const s of skipped) console.log(`skipped ${s.row}: ${s.reason}`);
for (const e of errors) console.log(`FAILED ${e.row}: ${e.error.replace(/\s*\n\s*/g, " | ").slice(0, 400)}`);

const chartRel = relative(repoRoot, chartPath);
mkdirSync(dirname(outPath), { recursive: true });
mkdirSync(dirname(chartPath), { recursive: true });
writeFileSync(outPath, `${JSON.stringify({ ...results, targets: targetList, skipped, errors }, null, 2)}\n`);
writeFileSync(markdownPath, benchmarksMarkdown(results, chartRel));
const machine = `${env.cpus} × ${env.cpuModel ?? "CPU"}, ${env.platform}; ${results.date.slice(0, 10)}`;
writeFileSync(chartPath, roundTripChart(rows, machine));
console.log(`\nwrote ${relative(repoRoot, outPath)}, ${relative(repoRoot, markdownPath)}, ${chartRel}`);
process.exit(errors.length ? 1 : 0);
