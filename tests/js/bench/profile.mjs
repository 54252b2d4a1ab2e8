// `npm --prefix tests/js run profile`: where a round trip of the reference item
// spends its time in Node, per suite, by function (self time). The package's
// wasm is stripped of names by wasm-opt, so this profiles the same build
// before wasm-opt, through the raw bindings (WasmKeyring / WasmItemEncryptor,
// what the TypeScript layer calls), with V8's sampling profiler.
// Writes artifacts/profile/<suite>.cpuprofile (open in Chrome DevTools) and
// artifacts/profile/summary.md. PROFILE_SECONDS (default 5) per suite.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const out = join(root, "artifacts/profile");
const glue = join(out, "wasm");
const seconds = Number(process.env.PROFILE_SECONDS ?? 5);
const TOP = 25;

/** The loop a profiled child runs: round trips for `seconds`, then the rate. */
const LOOP = `
import { readFileSync } from "node:fs";
import { initSync, WasmKeyring, WasmItemEncryptor } from ${JSON.stringify(join(glue, "fieldseal_wasm.js"))};
import { fromWire } from ${JSON.stringify(join(root, "tests/js/browser/shared.mjs"))};
initSync({ module: readFileSync(${JSON.stringify(join(glue, "fieldseal_wasm_bg.wasm"))}) });
const ref = JSON.parse(readFileSync(${JSON.stringify(join(root, "tests/fixtures/reference-item.json"))}, "utf8"));
const [suite, seconds] = [process.argv[2], Number(process.argv[3])];
const key = Uint8Array.from(Buffer.from(ref.keyring.wrappingKey, "base64"));
const encryptor = new WasmItemEncryptor({ ...ref.config, algorithmSuiteId: suite },
  WasmKeyring.rawAes({ keyNamespace: ref.keyring.keyNamespace, keyName: ref.keyring.keyName, wrappingKey: key }));
const item = fromWire(ref.item);
const start = performance.now();
let n = 0;
while (performance.now() - start < seconds * 1000) {
  await encryptor.decryptItem(await encryptor.encryptItem(item));
  n++;
}
console.log(Math.round(n / ((performance.now() - start) / 1000)));
`;

function build() {
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  run("cargo", ["build", "-q", "--profile", "wasm-release", "--target", "wasm32-unknown-unknown", "-p", "fieldseal-wasm"]);
  rmSync(glue, { recursive: true, force: true });
  run("wasm-bindgen", ["--target", "web", "--out-dir", glue, join(root, "target/wasm32-unknown-unknown/wasm-release/fieldseal_wasm.wasm")]);
}

/** Self time per function name, as fractions of all samples, largest first. */
function selfTimes(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byName = new Map();
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id).callFrame;
    const name = (frame.functionName || `(${frame.url.split("/").pop() || "native"})`).replace(/::h[0-9a-f]{16}$/, "").replace(/\[[0-9a-f]{16}\]/g, "");
    byName.set(name, (byName.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  return [...byName.entries()].map(([name, t]) => [name, t / total]).sort((a, b) => b[1] - a[1]);
}

build();
const loop = join(out, "loop.mjs");
writeFileSync(loop, LOOP);
const lines = [`# Round-trip profile (Node ${process.versions.node}, ${seconds} s per suite, self time)`, ""];
for (const suite of ["0x6700", "0x6701"]) {
  const dir = join(out, `cpu-${suite}`);
  rmSync(dir, { recursive: true, force: true });
  const child = spawnSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, loop, suite, String(seconds)], { encoding: "utf8" });
  if (child.status !== 0) throw new Error(`profiling ${suite} failed:\n${child.stderr}`);
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
  writeFileSync(join(out, `${suite}.cpuprofile`), JSON.stringify(profile));
  lines.push(`## ${suite}: ${child.stdout.trim()} round trips/s while profiled`, "", "| self | function |", "|---:|---|");
  for (const [name, share] of selfTimes(profile).slice(0, TOP)) {
    lines.push(`| ${(share * 100).toFixed(1)}% | \`${name.slice(0, 140).replace(/\|/g, "\\|")}\` |`);
  }
  lines.push("");
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "summary.md"), `${lines.join("\n")}\n`);
console.log(lines.join("\n"));
console.log(`wrote ${join("artifacts/profile", "summary.md")} and the .cpuprofile files beside it`);
