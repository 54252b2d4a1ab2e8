// What the benchmark's measurements mean: ratios between rows, the large-field
// crossover and platform ratios, the issue's targets met or not, and the same
// tables rendered for the terminal and for BENCHMARKS.md. Pure functions of
// the collected results (see run.mjs for their shape); nothing here measures.

/** The issue's package budget: 150 KB gzipped, KB = 1000 bytes. */
import { dynamodbLines, dynamodbStubTable, dynamodbTargets } from "./dynamodb.mjs";
import { hierarchyLines } from "./hierarchy.mjs";
import { keyringsLines, keyringsTable } from "./keyrings.mjs";
import { searchLines, searchTable } from "./search.mjs";
import { sqlCpuTable, sqlLines, sqlLiveTable } from "./sql.mjs";

const SIZE_BUDGET_BYTES = 150 * 1000;
/** Sizes from which sealing a field is held to the platform-throughput target. */
const LARGE_TARGET_MIN_BYTES = 64 * 1024;

const roundTrip = (r) => 1 / (1 / r.encrypt.itemsPerSec + 1 / r.decrypt.itemsPerSec);
const ORDER = ["fieldseal|native", "aws-db-esdk|native", "fieldseal|wasm, Node", "fieldseal|wasm, Chromium", "ESDK-JS|"];
const rank = (r) => ORDER.findIndex((o) => { const [i, rt] = o.split("|"); return r.impl === i && r.runtime.startsWith(rt); });

/**
 * Adds round trip/s (1 / (1/encrypt + 1/decrypt)) and the ratios against
 * aws-db-esdk native and ESDK-JS of the same suite to each row; sorts by suite
 * then implementation.
 */
export function compareRows(rows) {
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
  rows.sort((a, b) => a.suite.localeCompare(b.suite) || rank(a) - rank(b));
  return rows;
}

// ------------------------------------------------------------------ formats

const num = (x) => Math.round(x).toLocaleString("en-US");
const ratio = (x) => (x == null ? "-" : x >= 10 ? `${x.toFixed(1)}×` : x >= 0.1 ? `${x.toFixed(2)}×` : `${x.toFixed(3)}×`);
const mbps = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const percent = (x) => `${Math.round(x * 100)}%`;
export const sizeLabel = (bytes) => (bytes >= 1 << 20 ? `${bytes / (1 << 20)} MiB` : `${bytes / 1024} KiB`);
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** A table { header, rows, left } as aligned plain text (the first `left` columns left-aligned, default 1). */
export function textTable({ header, rows, left = 1 }) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((t) => t[i].length)));
  const line = (cells) => cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The same table as GitHub Markdown. */
function markdownTable({ header, rows, left = 1 }) {
  const cell = (c) => c.replace(/\|/g, "\\|");
  const rule = header.map((_, i) => (i < left ? "---" : "---:"));
  return [header, rule, ...rows].map((cells) => `| ${cells.map(cell).join(" | ")} |`).join("\n");
}

// ------------------------------------------------------------------ items/s

export function mainTable(rows) {
  return {
    header: ["implementation", "suite", "encrypt/s", "decrypt/s", "round trip/s", "vs aws-db-esdk", "vs ESDK-JS"],
    left: 2,
    rows: rows.map((r) => [
      `${r.impl} (${r.runtime})`,
      r.suite,
      num(r.encrypt.itemsPerSec),
      num(r.decrypt.itemsPerSec),
      num(r.roundTripPerSec),
      ratio(r.vsAwsDbEsdkNative?.roundTrip),
      ratio(r.vsEsdkJs?.roundTrip),
    ]),
  };
}

// ------------------------------------------------------------------ large fields

/**
 * The smallest measured size from which WebCrypto for every size
 * ({ bulkMinBytes: 0 }) beats pure wasm at that size and every larger one,
 * for `op` ("encrypt" | "decrypt"); null if wasm is faster at the largest.
 */
function crossover(sizes, op) {
  let from = null;
  for (const s of [...sizes].sort((a, b) => b.bytes - a.bytes)) {
    if (s.fieldseal.platform[op].MBps > s.fieldseal.wasm[op].MBps) from = s.bytes;
    else break;
  }
  return from;
}

/** fieldseal-default encrypt MB/s ÷ the cipher's sealing MB/s, per size. */
function platformRatios(sizes, cipher) {
  return sizes.map((s) => ({ bytes: s.bytes, ratio: s.fieldseal.default.encrypt.MBps / s.aesGcm[cipher].MBps }));
}

export function largeTable(run) {
  const settings = ["default", "wasm", "platform"];
  return {
    header: [
      "field",
      ...settings.map((s) => `enc ${s}`),
      ...settings.map((s) => `dec ${s}`),
      ...run.ciphers.map((c) => `AES-GCM ${c}`),
      ...run.ciphers.map((c) => `enc default ÷ ${c}`),
    ],
    rows: run.sizes.map((s) => [
      sizeLabel(s.bytes),
      ...settings.map((k) => mbps(s.fieldseal[k].encrypt.MBps)),
      ...settings.map((k) => mbps(s.fieldseal[k].decrypt.MBps)),
      ...run.ciphers.map((c) => mbps(s.aesGcm[c].MBps)),
      ...run.ciphers.map((c) => percent(s.fieldseal.default.encrypt.MBps / s.aesGcm[c].MBps)),
    ]),
  };
}

/** One line per op: where { bulkMinBytes: 0 } starts to beat platformCrypto: false. */
export function crossoverLines(run) {
  return ["encrypt", "decrypt"].map((op) => {
    const from = crossover(run.sizes, op);
    return from === null
      ? `${op}: pure wasm is as fast or faster at ${sizeLabel(Math.max(...run.sizes.map((s) => s.bytes)))}; no crossover measured`
      : `${op}: { bulkMinBytes: 0 } beats platformCrypto: false from ${sizeLabel(from)} up`;
  });
}

// ------------------------------------------------------------------ targets

const WASM_ROWS = [{ runtime: "Node", row: "node" }, { runtime: "Chromium", row: "chromium" }];
const NATIVE = { impl: "aws-db-esdk", runtime: "native", row: "native" };
const ESDK_JS = { impl: "ESDK-JS", runtime: "", row: "esdk-js" };

/** The first reason one of `rowNames` has no numbers (not run, skipped, failed). */
const unmeasured = (missing, ...rowNames) => rowNames.map((n) => missing(n) && `${n}: ${missing(n)}`).find(Boolean) ?? "not measured";

/** fieldseal wasm in one runtime against a baseline row, round trip/s of one suite. */
function roundTripTarget(rows, missing, { target, suite, wasm, base, min }) {
  const find = (impl, runtime) => rows.find((r) => r.impl === impl && r.runtime.startsWith(runtime) && r.suite === suite);
  const r = find("fieldseal", `wasm, ${wasm.runtime}`);
  const b = find(base.impl, base.runtime);
  const x = r && b ? r.roundTripPerSec / b.roundTripPerSec : null;
  return {
    target,
    scope: `${suite}, ${r?.runtime ?? `wasm, ${wasm.runtime}`}`,
    measured: x === null ? unmeasured(missing, wasm.row, base.row) : `${ratio(x)} (${num(r.roundTripPerSec)} vs ${num(b.roundTripPerSec)} round trips/s)`,
    required: `≥ ${min}×`,
    met: x === null ? null : x >= min,
  };
}

/** fieldseal-default sealing against one platform cipher, worst size from 64 KiB. */
function platformTarget(large, missing, { runtime, row, cipher }) {
  const run = large.find((l) => l.runtime.startsWith(runtime));
  const big = run ? platformRatios(run.sizes, cipher).filter((r) => r.bytes >= LARGE_TARGET_MIN_BYTES) : [];
  const worst = big.length ? Math.min(...big.map((r) => r.ratio)) : null;
  return {
    target: "(d) sealing a field ≥ 64 KiB vs platform AES-256-GCM",
    scope: `${run?.runtime ?? runtime}, ${cipher}`,
    measured: worst === null ? unmeasured(missing, row) : `min ${percent(worst)} (${big.map((r) => `${sizeLabel(r.bytes)} ${percent(r.ratio)}`).join(", ")})`,
    required: "≥ 50% at every size",
    met: worst === null ? null : worst >= 0.5,
  };
}

function sizeTarget(packageSize, missing) {
  return {
    target: "(e) package size, gzip -9",
    scope: "pkg/dist: .wasm + browser JS",
    measured: packageSize ? `${num(packageSize.gz)} B (wasm ${num(packageSize.wasmGz)} B + JS ${num(packageSize.jsGz)} B)` : unmeasured(missing, "size"),
    required: `≤ ${num(SIZE_BUDGET_BYTES)} B (150 KB, KB = 1000 B)`,
    met: packageSize ? packageSize.gz <= SIZE_BUDGET_BYTES : null,
  };
}

/**
 * The issue's targets against this run: [{ target, scope, measured, required, met }],
 * met true/false, or null with `measured` saying why there is no number.
 * `missing(row)` is null when a row ran, else why it did not.
 */
/** Issue 13's targets for the hierarchical keyring row. */
function hierarchyTargets(h, missing) {
  const why = unmeasured(missing, "hierarchy");
  const rt = (m) => 1 / (1 / m.encrypt.itemsPerSec + 1 / m.decrypt.itemsPerSec);
  const perItem = h && (h.sealCalls.kms + h.openCalls.kms) / (2 * h.items);
  const overhead = h && 1 - rt(h.hierarchical) / rt(h.rawAes);
  return [
    {
      target: "(f) KMS calls per item, hierarchical keyring",
      scope: h ? `${num(h.items)} sealed + ${num(h.items)} opened, ttlSeconds 600, Node` : "Node",
      measured: h ? `${perItem.toFixed(4)} (${h.sealCalls.kms} + ${h.openCalls.kms} calls)` : why,
      required: "≤ 0.001",
      met: h ? perItem <= 0.001 : null,
    },
    {
      target: "(g) hierarchical keyring warm overhead vs raw AES",
      scope: "round trips/s, 0x6700, Node",
      measured: h ? `${(overhead * 100).toFixed(1)}% (${num(rt(h.hierarchical))} vs ${num(rt(h.rawAes))})` : why,
      required: "< 10%",
      met: h ? overhead < 0.1 : null,
    },
    (() => {
      const c = h?.chromium;
      const o = c && 1 - rt(c.hierarchical) / rt(c.rawAes);
      return {
        target: "(g) hierarchical keyring warm overhead vs raw AES",
        scope: "round trips/s, 0x6700, Chromium",
        measured: c ? `${(o * 100).toFixed(1)}% (${num(rt(c.hierarchical))} vs ${num(rt(c.rawAes))})` : h ? `not measured: ${h.chromiumSkipped ?? "no browser"}` : why,
        required: "< 10%",
        met: c ? o < 0.1 : null,
      };
    })(),
  ];
}

export function targets({ rows, large, packageSize, hierarchy, dynamodb }, missing) {
  const vs = (target, suites, base, min) =>
    suites.flatMap((suite) => WASM_ROWS.map((wasm) => roundTripTarget(rows, missing, { target, suite, wasm, base, min })));
  return [
    ...vs("(a) round trip vs aws-db-esdk native", ["0x6700"], NATIVE, 5),
    ...vs("(b) round trip vs aws-db-esdk native", ["0x6701"], NATIVE, 1),
    ...vs("(c) round trip vs ESDK-JS (in Node), like-for-like suite", ["0x6700", "0x6701"], ESDK_JS, 20),
    platformTarget(large, missing, { runtime: "Node", row: "large/node", cipher: "WebCrypto" }),
    platformTarget(large, missing, { runtime: "Node", row: "large/node", cipher: "node:crypto" }),
    platformTarget(large, missing, { runtime: "Chromium", row: "large/chromium", cipher: "WebCrypto" }),
    sizeTarget(packageSize, missing),
    ...hierarchyTargets(hierarchy, missing),
    ...dynamodbTargets(dynamodb?.stub, unmeasured(missing, "dynamodb/stub")),
  ];
}

export function targetsTable(list) {
  const verdict = (m) => (m === true ? "met" : m === false ? "NOT MET" : "not measured");
  return {
    header: ["target", "scope", "measured", "required", "result"],
    left: 5,
    rows: list.map((t) => [t.target, t.scope, t.measured, t.required, verdict(t.met)]),
  };
}

export function packageSizeLine(p) {
  return `package size (gzip -9): wasm ${num(p.wasmGz)} B, JS ${num(p.jsGz)} B; total ${num(p.gz)} B = ${kib(p.gz)} (raw ${num(p.raw)} B)`;
}

// ------------------------------------------------------------------ BENCHMARKS.md

export const ROW_NAMES = ["native", "node", "chromium", "esdk-js", "large/node", "large/chromium", "hierarchy", "dynamodb/stub", "dynamodb/moto", "search", "sql/cpu", "sql/pg", "keyrings/node", "keyrings/chromium", "size"];

function sizeTable(p) {
  const line = (part, bytes) => [part, num(bytes), (bytes / 1024).toFixed(1)];
  return {
    header: ["part", "gzip -9 bytes", "KiB"],
    rows: [line("wasm", p.wasmGz), line("JS (browser)", p.jsGz), line("total", p.gz)],
  };
}

/**
 * BENCHMARKS.md for one run. `results`: { date, environment, seconds,
 * warmupSeconds, largeSeconds, largeWarmupSeconds, reference: { path,
 * attributes, bytes }, rows, large, packageSize, status }, where `status` maps
 * each of ROW_NAMES to null (measured) or why it has no numbers.
 */
export function benchmarksMarkdown(results, chartPath) {
  const { environment: env, status } = results;
  const missing = (row) => status[row];
  const out = [
    "# Benchmarks",
    "",
    "> Generated by `npm run bench` (tests/js/bench/run.mjs): every run overwrites this file and",
    `> [${chartPath}](${chartPath}), including runs of only some rows. Run parts with`,
    "> `BENCH_ONLY=native,node,chromium,esdk-js,large,hierarchy,dynamodb,search,sql,keyrings` (any subset, comma-separated); set the measured",
    "> time with `BENCH_SECONDS` (items/s rows, default 2.5 s per measurement) and `BENCH_LARGE_SECONDS`",
    "> (large fields, default 0.5 s). One run on one machine, possibly shared with other work: compare",
    "> rows of the same run rather than absolute numbers across machines.",
    "",
    `- Date: ${results.date}`,
    `- Machine: ${env.cpus} × ${env.cpuModel ?? "CPU"}, ${env.platform}; Node ${env.node}${env.chromium ? `; Chromium ${env.chromium} (headless)` : ""}; @aws-crypto/client-node ${env.esdkJs}`,
    "- Rows of this run:",
    ...ROW_NAMES.map((r) => `  - ${r}: ${status[r] ?? "measured"}`),
    "",
    "## Items per second",
    "",
    `Reference item (${results.reference.path}: ${results.reference.attributes} attributes, ~${results.reference.bytes} bytes), raw AES-256 keyring,`,
    `one item per call, single thread; ${results.seconds} s per measurement after ${results.warmupSeconds} s warm-up.`,
    "Round trip/s = 1 / (1/encrypt + 1/decrypt); ratios are of round trip/s against the same suite.",
    "",
    results.rows.length ? markdownTable(mainTable(results.rows)) : "_No item measurements in this run._",
    "",
    "## Targets",
    "",
    markdownTable(targetsTable(targets(results, missing))),
    "",
    "## Large fields",
    "",
    "MB/s (10^6 bytes of the field value per second) of `encryptItem` and `decryptItem` on",
    "`{ pk: { S }, v: { B: <size> } }` (pk SIGN_ONLY, v ENCRYPT_AND_SIGN, suite 0x6700, raw AES keyring), one item per call,",
    `${results.largeSeconds} s per measurement after ${results.largeWarmupSeconds} s warm-up, with platformCrypto`,
    "`default` (true: WebCrypto from 16 KiB), `wasm` (false) and `platform` ({ bulkMinBytes: 0 }); next to the runtime's",
    "own AES-256-GCM sealing the same bytes (key imported once, fresh IV per call, sequential awaits). Each setting",
    "and cipher first checks that a round trip gives back the value.",
    "",
  ];
  for (const [runtime, row] of [["Node", "large/node"], ["Chromium", "large/chromium"]]) {
    const run = results.large.find((l) => l.runtime.startsWith(runtime));
    out.push(`### ${run?.runtime ?? runtime}`, "");
    if (!run) {
      out.push(`_Not measured: ${missing(row) ?? "no results"}._`, "");
      continue;
    }
    out.push(markdownTable(largeTable(run)), "", "Crossover (smallest size from which WebCrypto at every size beats pure wasm, at that size and above):", "");
    out.push(...crossoverLines(run).map((l) => `- ${l}`), "");
  }
  out.push("## Hierarchical keyring", "");
  out.push(...(results.hierarchy ? hierarchyLines(results.hierarchy) : [`_Not measured: ${missing("hierarchy") ?? "no results"}._`]), "");
  out.push("## DynamoDB plug-in", "");
  const { stub, moto } = results.dynamodb ?? {};
  if (stub) out.push(...dynamodbLines(stub, null), "", markdownTable(dynamodbStubTable(stub)), "");
  if (moto) out.push(...dynamodbLines(null, moto), "");
  for (const row of ["dynamodb/stub", "dynamodb/moto"]) if (missing(row)) out.push(`_${row} not measured: ${missing(row)}._`, "");
  out.push("## Searchable encryption", "");
  if (results.search) out.push(...searchLines(results.search), "", markdownTable(searchTable(results.search)), "");
  else out.push(`_Not measured: ${missing("search") ?? "no results"}._`, "");
  out.push("## SQL rows", "");
  const { cpu, live, liveSkipped } = results.sql ?? {};
  if (cpu || live || liveSkipped) out.push(...sqlLines(cpu, live, liveSkipped), "");
  if (cpu) out.push(markdownTable(sqlCpuTable(cpu)), "");
  if (live) out.push(markdownTable(sqlLiveTable(live)), "");
  for (const row of ["sql/cpu", "sql/pg"]) if (missing(row) && !(row === "sql/pg" && liveSkipped)) out.push(`_${row} not measured: ${missing(row)}._`, "");
  out.push("## Keyrings", "");
  const kr = results.keyrings ?? { results: {}, skipped: {} };
  if (Object.keys(kr.results).length) out.push(...keyringsLines(kr.results, kr.skipped), "", markdownTable(keyringsTable(kr.results)), "");
  for (const row of ["keyrings/node", "keyrings/chromium"]) if (missing(row)) out.push(`_${row} not measured: ${missing(row)}._`, "");
  out.push("## Package size", "");
  out.push(results.packageSize ? markdownTable(sizeTable(results.packageSize)) : `_Not measured: ${missing("size")}._`, "");
  out.push("What a browser downloads: pkg/dist's .wasm and every .js but the Node-only wasm source (as `npm --prefix pkg run size`).", "");
  out.push("## Chart", "", `![Round trips per second by implementation and suite](${chartPath})`, "");
  return out.join("\n");
}
