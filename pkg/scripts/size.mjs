// Prints what a browser user downloads: the wasm and the JS glue, raw and
// gzipped (level 9). Exits non-zero over the budget.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET = Number(process.env.FIELDSEAL_SIZE_BUDGET ?? 250 * 1024);
const dist = join(dirname(dirname(fileURLToPath(import.meta.url))), "dist");

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

// A browser loads every .js except the Node-only wasm source, and the .wasm.
const shipped = files(dist).filter((f) => (f.endsWith(".js") && !f.endsWith("wasm-source.node.js")) || f.endsWith(".wasm"));
let raw = 0;
let gz = 0;
const rows = shipped.map((f) => {
  const bytes = readFileSync(f);
  const zipped = gzipSync(bytes, { level: 9 }).length;
  raw += bytes.length;
  gz += zipped;
  return [relative(dist, f), bytes.length, zipped];
});
const wasm = rows.filter(([f]) => f.endsWith(".wasm")).reduce((a, r) => a + r[2], 0);
console.log("file".padEnd(40), "bytes".padStart(10), "gzipped".padStart(10));
for (const [f, b, z] of rows.sort((a, b) => b[2] - a[2])) console.log(f.padEnd(40), String(b).padStart(10), String(z).padStart(10));
console.log("total".padEnd(40), String(raw).padStart(10), String(gz).padStart(10));
console.log(`wasm ${wasm} B gzipped, JS ${gz - wasm} B gzipped; total ${(gz / 1024).toFixed(1)} KiB of ${(BUDGET / 1024).toFixed(0)} KiB budget`);
if (gz > BUDGET) {
  console.error(`over budget by ${gz - BUDGET} bytes`);
  process.exit(1);
}
