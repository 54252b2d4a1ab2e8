// The native rows: `cargo run --release --bin bench_native` in tests/interop
// (fieldseal and the official aws-db-esdk 1.3, same reference fixture). cargo
// only rebuilds when something changed; a cold build takes several minutes.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const interopDir = fileURLToPath(new URL("../../interop/", import.meta.url));

/**
 * Returns { results: [{impl, suite, op, itemsPerSec, iterations, seconds}] }
 * or { skipped: reason } when cargo is not installed.
 */
export function runNative({ seconds, warmupSeconds }) {
  const args = [
    "run", "--release", "--quiet", "--bin", "bench_native", "--",
    "--seconds", String(seconds), "--warmup", String(warmupSeconds),
  ];
  return new Promise((resolve, reject) => {
    // stderr (cargo's progress, the bin's per-measurement lines) goes to ours.
    const child = spawn("cargo", args, { cwd: interopDir, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => (stdout += d));
    child.on("error", (e) => {
      if (e.code === "ENOENT") resolve({ skipped: "cargo not found on PATH" });
      else reject(e);
    });
    child.on("close", (code, signal) => {
      if (code !== 0) {
        reject(new Error(`cargo run --bin bench_native (in tests/interop) exited with ${signal ?? code}`));
        return;
      }
      try {
        resolve({ results: JSON.parse(stdout) });
      } catch (e) {
        reject(new Error(`bench_native printed something that is not JSON: ${e.message}\n${stdout.slice(0, 500)}`));
      }
    });
  });
}
