// Builds the npm package in place: `npm --prefix pkg run build`.
//   1. the binding crate for wasm32 (cargo, profile wasm-release)
//   2. JS glue with wasm-bindgen --target web (the CLI version pinned in wasm/Cargo.toml)
//   3. wasm-opt -O3 from npm's binaryen (wasm-pack cannot download binaryen here);
//      -Oz gave the same size and 2-5% fewer round trips
//   4. the TypeScript wrapper with tsc, to dist/ with .d.ts files
// Idempotent; every step runs again, cargo and tsc skip what is up to date.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const root = dirname(pkg);
const bin = (name) => {
  for (const dir of [join(pkg, "node_modules/.bin"), join(root, "node_modules/.bin")]) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return name;
};

function run(command, args, options = {}) {
  console.log(`[build] ${command} ${args.join(" ")}`);
  try {
    execFileSync(command, args, { stdio: "inherit", cwd: root, ...options });
  } catch (error) {
    if (error.code === "ENOENT") {
      console.error(`[build] ${command} is not installed. Run scripts/setup.sh web (make test-js does) or npm install at the repository root.`);
    }
    process.exit(typeof error.status === "number" && error.status !== 0 ? error.status : 1);
  }
}

function output(command, args) {
  try {
    return execFileSync(command, args, { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

// The CLI must match the library version exactly, or the glue is wrong.
const pinned = /^wasm-bindgen = "=([0-9.]+)"/m.exec(readFileSync(join(root, "wasm/Cargo.toml"), "utf8"))?.[1];
const installed = output("wasm-bindgen", ["--version"]).split(" ")[1];
if (!pinned) throw new Error("cannot read the pinned wasm-bindgen version from wasm/Cargo.toml");
if (installed !== pinned) {
  console.error(`[build] wasm-bindgen ${pinned} is needed, found ${installed ?? "none"}. Run: scripts/setup.sh web`);
  process.exit(1);
}

// FIELDSEAL_WASM_FEATURES picks the binding crate's features instead of its
// defaults: "" leaves out RSA (RawRsaKeyring then fails with INVALID_CONFIG),
// which the package's users cannot do after the fact. Unset: the defaults.
const chosen = process.env.FIELDSEAL_WASM_FEATURES;
const featureArgs = chosen === undefined ? [] : ["--no-default-features", ...(chosen.trim() ? ["--features", chosen] : [])];
if (chosen !== undefined) console.log(`[build] FIELDSEAL_WASM_FEATURES=${JSON.stringify(chosen)}: default features off`);
run("cargo", ["build", "--profile", "wasm-release", "--target", "wasm32-unknown-unknown", "-p", "fieldseal-wasm", ...featureArgs]);
const wasm = join(root, "target/wasm32-unknown-unknown/wasm-release/fieldseal_wasm.wasm");

const glue = join(pkg, "src/wasm");
rmSync(glue, { recursive: true, force: true });
run("wasm-bindgen", ["--target", "web", "--out-dir", glue, wasm]);

// rustc's default wasm32 features; wasm-opt must accept them.
const features = ["bulk-memory", "reference-types", "multivalue", "sign-ext", "nontrapping-float-to-int", "mutable-globals"];
const bg = join(glue, "fieldseal_wasm_bg.wasm");
const before = statSync(bg).size;
run(bin("wasm-opt"), ["-O3", ...features.map((f) => `--enable-${f}`), bg, "-o", bg]);
console.log(`[build] wasm-opt -O3: ${before} -> ${statSync(bg).size} bytes`);

rmSync(join(pkg, "dist"), { recursive: true, force: true });
run(bin("tsc"), ["-p", join(pkg, "tsconfig.json")]);
mkdirSync(join(pkg, "dist/wasm"), { recursive: true });
for (const file of ["fieldseal_wasm.js", "fieldseal_wasm.d.ts", "fieldseal_wasm_bg.wasm"]) {
  cpSync(join(glue, file), join(pkg, "dist/wasm", file));
}
console.log(`[build] done: ${join(pkg, "dist")}`);
