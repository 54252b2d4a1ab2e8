// Before/after: this tree's package against another build of it, in one
// Node process, interleaved, so that the machine's drift (which moves one
// build by up to 25% between separate `npm run bench` runs here) hits both.
//
//   npm --prefix tests/js run ab -- OTHER_REPO [ROUNDS]
//
// OTHER_REPO is a clone at the "before" commit with its package built
// (npm --prefix OTHER_REPO/pkg run build). Each round measures, per suite and
// per operation, this build then the other (the order alternates by round),
// BENCH_SECONDS each (default 1). It prints every round and the median of
// the per-round ratios: after / before, so > 1 means this tree is faster.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { fromWire, makeEncryptor } from "../browser/shared.mjs";
import { measure } from "./measure.mjs";

const [otherArg, roundsArg] = process.argv.slice(2);
if (!otherArg) {
  console.error("usage: node tests/js/bench/ab.mjs OTHER_REPO [ROUNDS]");
  process.exit(2);
}
const rounds = Number(roundsArg ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 1);
if (!(rounds > 0 && seconds > 0)) {
  console.error("ROUNDS and BENCH_SECONDS must be positive numbers");
  process.exit(2);
}
const opts = { seconds, warmupSeconds: Math.min(1, seconds / 4) };

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const reference = JSON.parse(readFileSync(join(repoRoot, "tests/fixtures/reference-item.json"), "utf8"));
const item = fromWire(reference.item);

const builds = {
  after: await import(pathToFileURL(join(repoRoot, "pkg/dist/index.js")).href),
  before: await import(pathToFileURL(join(resolve(otherArg), "pkg/dist/index.js")).href),
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const ratios = {}; // "suite op" -> [after/before per round]
for (const suite of reference.suites) {
  const config = { ...reference.config, algorithmSuiteId: suite };
  const encryptors = {};
  const sealed = {};
  for (const [name, fieldseal] of Object.entries(builds)) {
    encryptors[name] = makeEncryptor(fieldseal, config, reference.keyring);
    sealed[name] = await encryptors[name].encryptItem(item);
  }
  for (const op of ["encrypt", "decrypt", "round trip"]) {
    const run = (name) => {
      const enc = encryptors[name];
      if (op === "encrypt") return measure(() => enc.encryptItem(item), opts);
      if (op === "decrypt") return measure(() => enc.decryptItem(sealed[name]), opts);
      return measure(async () => enc.decryptItem(await enc.encryptItem(item)), opts);
    };
    const key = `${suite} ${op}`;
    ratios[key] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? ["before", "after"] : ["after", "before"];
      const got = {};
      for (const name of order) got[name] = (await run(name)).itemsPerSec;
      ratios[key].push(got.after / got.before);
      console.log(`${key.padEnd(24)} round ${r + 1}: after ${got.after.toFixed(0).padStart(6)}/s, before ${got.before.toFixed(0).padStart(6)}/s, ratio ${(got.after / got.before).toFixed(3)}`);
    }
  }
}
console.log("\nmedian after/before (> 1: this tree is faster)");
for (const [key, rs] of Object.entries(ratios)) {
  console.log(`${key.padEnd(24)} ${median(rs).toFixed(3)}  (rounds: ${rs.map((x) => x.toFixed(3)).join(" ")})`);
}
