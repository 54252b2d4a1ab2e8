// The test command's selectable steps (scripts/test.sh, the Makefile's
// test-STEP targets, scripts/setup.sh's parts): the names, the order of a
// full run, and the refusal of an unknown name before anything runs; what a
// step leaves on disk (scripts/disk.sh).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

// Not helpers/common.mjs: that loads the package, which these checks do not need.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const STEPS = ["rust", "fuzz", "vectors", "interop", "wasm", "js", "sql"];

// A short timeout: none of these may start a real step. Without the make
// variables of an enclosing `make test` (MAKELEVEL makes a nested make print
// "Entering directory" lines).
const { MAKEFLAGS, MAKELEVEL, MFLAGS, ...env } = process.env;
function run(command, args) {
  const r = spawnSync(command, args, { cwd: repoRoot, encoding: "utf8", timeout: 20_000, env });
  assert.equal(r.error, undefined, `${command} ${args.join(" ")}: ${r.error?.message}`);
  return r;
}

test("scripts/test.sh --list names every step, in the order of a full run", () => {
  const r = run(join(repoRoot, "scripts/test.sh"), ["--list"]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), STEPS);
  for (const line of lines) assert.match(line, /^\S+\s+\S.*/, `a step without a description: ${line}`);
});

test("scripts/test.sh refuses an unknown step with exit 2, before running any step", () => {
  const r = run(join(repoRoot, "scripts/test.sh"), ["rust", "no-such-step"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown step "no-such-step"/);
  assert.match(r.stderr, new RegExp(STEPS.join(" ")));
  assert.doesNotMatch(r.stdout + r.stderr, /==> step/);
});

test("make test runs every step; make test-STEP runs one", () => {
  const all = run("make", ["-n", "test"]);
  assert.equal(all.status, 0, all.stderr);
  assert.equal(all.stdout.trim(), "scripts/test.sh");
  for (const step of STEPS) {
    const r = run("make", ["-n", `test-${step}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `scripts/test.sh ${step}`);
  }
});

test("scripts/setup.sh refuses an unknown part with exit 2, before installing anything", () => {
  const r = run(join(repoRoot, "scripts/setup.sh"), ["no-such-part"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown part "no-such-part" \(known: web wasm-pack browser moto postgres all\)/);
  assert.doesNotMatch(r.stdout, /\[setup\]/);
});

// scripts/pg.sh: the throw-away PostgreSQL cluster of the sql step. Skipped
// with a note where Debian's server is not installed (scripts/setup.sh
// postgres), unless CI is set.
const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());
const havePostgres = spawnSync("sh", ["-c", "ls /usr/lib/postgresql/*/bin/initdb"], { encoding: "utf8" }).status === 0;
test(
  "scripts/pg.sh run: a live server for the command, its env set; stopped and deleted afterwards, the command's status kept",
  { skip: havePostgres || inCI ? false : "no PostgreSQL server installed (scripts/setup.sh postgres); not skipped when CI is set" },
  () => {
    const script = 'psql -qAt -c "SELECT current_user || \' \' || current_database()" && echo "dir=$FIELDSEAL_PG_DIR port=$PGPORT" && exit 7';
    const r = spawnSync(join(repoRoot, "scripts/pg.sh"), ["run", "sh", "-c", script], { cwd: repoRoot, encoding: "utf8", timeout: 120_000, env });
    assert.equal(r.status, 7, r.stderr);
    const [who, where] = r.stdout.trim().split("\n");
    assert.equal(who, "fieldseal fieldseal");
    const [, dir, port] = /^dir=(\S+) port=(\d+)$/.exec(where);
    assert.ok(!existsSync(dir), `${dir} deleted`);
    const probe = spawnSync("psql", ["-h", "127.0.0.1", "-p", port, "-U", "fieldseal", "-d", "fieldseal", "-c", "SELECT 1"], { encoding: "utf8" });
    assert.notEqual(probe.status, 0, "nothing listens on the port any more");
  },
);

test("scripts/disk.sh: a step's private output goes after it only when frugal (FIELDSEAL_FREE_DISK=1, or auto under 10 GiB free); .ci/run sets 1", () => {
  assert.match(readFileSync(join(repoRoot, ".ci/run"), "utf8"), /^export FIELDSEAL_FREE_DISK=1$/m);
  const outputs = ["target/debug", "target/release", "fuzz/target", "tests/interop/target"];
  // After each step in turn, in a folder shaped like the repository; prints what is left.
  const afterEveryStep = (setting, freeMib) => {
    const dir = mkdtempSync(join(tmpdir(), "fieldseal-disk-"));
    try {
      for (const o of outputs) mkdirSync(join(dir, o), { recursive: true });
      const fake = freeMib === undefined ? "" : `free_mib() { echo ${freeMib}; };`;
      const script = `set -euo pipefail; . "${join(repoRoot, "scripts/disk.sh")}"; ${fake} for s in ${STEPS.join(" ")}; do release_outputs "$s"; done; echo "left:"; for o in ${outputs.join(" ")}; do [ -d "$o" ] && echo "$o"; done; true`;
      const r = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8", env: { ...env, FIELDSEAL_FREE_DISK: setting } });
      assert.equal(r.status, 0, r.stderr);
      const [said, left] = r.stdout.split("left:\n");
      return { said, left: left.trim().split("\n").filter(Boolean) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const freed = afterEveryStep("1");
  assert.deepEqual(freed.left, ["target/release"], "vectors, interop and js read target/release");
  for (const o of ["target/debug", "fuzz/target", "tests/interop/target"]) assert.match(freed.said, new RegExp(`disk: removing ${o} \\(\\d+ MiB\\)`));
  assert.deepEqual(afterEveryStep("0").left, outputs, "FIELDSEAL_FREE_DISK=0 keeps everything");
  assert.deepEqual(afterEveryStep("auto", 50_000).left, outputs, "auto with room keeps everything");
  assert.deepEqual(afterEveryStep("auto", 5_000).left, ["target/release"], "auto under 10 GiB frees");
});
