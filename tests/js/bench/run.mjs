// `npm run bench` (repo root): items/s for the reference item
// (tests/fixtures/reference-item.json) under both suites with a raw AES-256
// keyring, encrypt and decrypt, one item per call, single thread:
//
//   native     fieldseal and aws-db-esdk 1.3, Rust (tests/interop bench_native)
//   node       fieldseal wasm in Node, via import "fieldseal"
//   chromium   fieldseal wasm in headless Chromium (Vite build of tests/js/browser/)
//   esdk-js    @aws-crypto/client-node, one ESDK message per ENCRYPT_AND_SIGN attribute
//
// Each measurement warms up, then runs for a fixed wall time. Prints one table
// and writes artifacts/bench.json. Environment:
//   BENCH_SECONDS=2.5          measured seconds per (implementation, suite, op)
//   BENCH_WARMUP_SECONDS       warm-up per measurement (default seconds/4, 0.3..1)
//   BENCH_ONLY=native,esdk-js  run only these rows (native, node, chromium, esdk-js)
//   CHROMIUM_PATH              default /usr/bin/chromium; if missing the row is
//                              skipped with a note, or fails when CI is set
// Exits 1 if a row failed (the others are still measured and printed).

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

import { buildPage, callPage, chromiumPath, launchChromium, openHarnessPage, servePreview } from "../browser/harness.mjs";
import { fromWire, makeEncryptor, toWire } from "../browser/shared.mjs";
import { esdkItemEncryptor } from "./esdk-js.mjs";
import { measure, measureEncryptor } from "./measure.mjs";
import { runNative } from "./native.mjs";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const fixturePath = join(repoRoot, "tests/fixtures/reference-item.json");
const outPath = join(repoRoot, "artifacts/bench.json");
const require = createRequire(import.meta.url);

const ROWS = ["native", "node", "chromium", "esdk-js"];
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
const skipped = []; // { row, reason }
const errors = []; // { row, error }
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

async function benchNative() {
  log("native: cargo run --release --bin bench_native (tests/interop)");
  const r = await runNative(opts);
  if (r.skipped) {
    if (inCI) throw new Error(r.skipped);
    skipped.push({ row: "native", reason: r.skipped });
    return;
  }
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

async function benchNode() {
  log("node: fieldseal wasm via import \"fieldseal\"");
  let fieldseal;
  try {
    fieldseal = await import("fieldseal");
  } catch (e) {
    throw new Error(`cannot import "fieldseal" (is the package built? npm run build): ${e.message}`);
  }
  for (const suite of suites) {
    const enc = makeEncryptor(fieldseal, configFor(suite), reference.keyring);
    checkRoundTrip(`node ${suite}`, await enc.decryptItem(await enc.encryptItem(item)));
    const { encrypt, decrypt } = await measureEncryptor(enc, item, opts);
    push("fieldseal", `wasm, Node ${process.versions.node}`, suite, encrypt, decrypt);
  }
}

async function benchChromium() {
  if (!chromiumPath()) {
    const why = `Chromium not found at ${process.env.CHROMIUM_PATH || "/usr/bin/chromium"} (set CHROMIUM_PATH)`;
    if (inCI) throw new Error(why);
    log(`chromium: skipped: ${why}`);
    skipped.push({ row: "chromium", reason: why });
    return;
  }
  log("chromium: Vite build of tests/js/browser/, served by vite preview, headless Chromium");
  const built = await buildPage();
  let server;
  let browser;
  try {
    server = await servePreview(built.outDir);
    browser = await launchChromium();
    env.chromium = browser.version();
    const { page, problems } = await openHarnessPage(browser, server.url);
    for (const suite of suites) {
      const r = await callPage(page, "bench", configFor(suite), reference.keyring, wireItem, opts);
      checkRoundTrip(`chromium ${suite}`, fromWire(r.roundTrip));
      push("fieldseal", `wasm, Chromium ${browser.version().split(".")[0]}`, suite, r.encrypt, r.decrypt);
    }
    if (problems.length) throw new Error(`the page reported problems:\n  ${problems.join("\n  ")}`);
  } finally {
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
    await built.cleanup();
  }
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

const runners = { native: benchNative, node: benchNode, chromium: benchChromium, "esdk-js": benchEsdkJs };
log(`reference item: ${relative(repoRoot, fixturePath)}; suites ${suites.join(", ")}; ${seconds}s per measurement after ${warmupSeconds}s warm-up`);
for (const row of only) {
  try {
    await runners[row]();
  } catch (e) {
    log(`${row}: FAILED: ${e?.stack || e}`);
    errors.push({ row, error: String(e?.message ?? e) });
  }
}

// ------------------------------------------------------------------ the table

const roundTrip = (r) => 1 / (1 / r.encrypt.itemsPerSec + 1 / r.decrypt.itemsPerSec);
const base = (impl, suite) => rows.find((r) => r.impl === impl && r.suite === suite);
for (const r of rows) {
  r.roundTripPerSec = roundTrip(r);
  const ratios = (b) =>
    b && {
      encrypt: r.encrypt.itemsPerSec / b.encrypt.itemsPerSec,
      decrypt: r.decrypt.itemsPerSec / b.decrypt.itemsPerSec,
      roundTrip: r.roundTripPerSec / roundTrip(b),
    };
  r.vsAwsDbEsdkNative = ratios(base("aws-db-esdk", r.suite)) ?? null;
  r.vsEsdkJs = ratios(base("ESDK-JS", r.suite)) ?? null;
}
const order = ["fieldseal|native", "aws-db-esdk|native", "fieldseal|wasm, Node", "fieldseal|wasm, Chromium", "ESDK-JS|"];
const rank = (r) => order.findIndex((o) => { const [i, rt] = o.split("|"); return r.impl === i && r.runtime.startsWith(rt); });
rows.sort((a, b) => a.suite.localeCompare(b.suite) || rank(a) - rank(b));

const num = (x) => Math.round(x).toLocaleString("en-US");
const ratio = (x) => (x == null ? "-" : x >= 10 ? `${x.toFixed(1)}×` : x >= 0.1 ? `${x.toFixed(2)}×` : `${x.toFixed(3)}×`);
const header = ["implementation", "suite", "encrypt/s", "decrypt/s", "round trip/s", "vs aws-db-esdk", "vs ESDK-JS"];
const table = rows.map((r) => [
  `${r.impl} (${r.runtime})`,
  r.suite,
  num(r.encrypt.itemsPerSec),
  num(r.decrypt.itemsPerSec),
  num(r.roundTripPerSec),
  ratio(r.vsAwsDbEsdkNative?.roundTrip),
  ratio(r.vsEsdkJs?.roundTrip),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
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
const size = Object.entries(item).reduce((n, [k, v]) => n + utf8(k) + valueSize(v), 0);
console.log();
console.log(`Reference item (${Object.keys(item).length} attributes, ~${size} bytes), raw AES-256 keyring, one item per call, single thread.`);
console.log(`${seconds}s per measurement after ${warmupSeconds}s warm-up; ratios are of round trip/s (1 / (1/encrypt + 1/decrypt)), same suite.`);
console.log(`${env.cpus} × ${env.cpuModel ?? "CPU"}, ${env.platform}, Node ${process.versions.node}${env.chromium ? `, Chromium ${env.chromium}` : ""}`);
console.log();
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const t of table) console.log(line(t));
for (const s of skipped) console.log(`skipped ${s.row}: ${s.reason}`);
for (const e of errors) console.log(`FAILED ${e.row}: ${e.error.replace(/\s*\n\s*/g, " | ").slice(0, 400)}`);

mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(
  outPath,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      reference: relative(repoRoot, fixturePath),
      seconds,
      warmupSeconds,
      environment: { ...env, esdkJs: version("@aws-crypto/client-node"), vite: version("vite") },
      results: rows,
      skipped,
      errors,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote ${relative(repoRoot, outPath)}`);
process.exit(errors.length ? 1 : 0);
