// The error codes are listed twice, necessarily: in the core (src/error.rs,
// `ERROR_CODES`, what `Error::code` can return) and in the package's
// `ErrorCode` type and `CODES` set (pkg/src/errors.ts), which add the codes
// only the package raises. This test ties the two lists together.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { repoRoot } from "./helpers/common.mjs";

const PACKAGE_ONLY = ["WASM_LOAD_FAILED", "OBJECT_FREED"];
const quoted = (text) => [...text.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]);

test("pkg's error codes are the core's plus the package's own", () => {
  const rust = readFileSync(`${repoRoot}/src/error.rs`, "utf8");
  const core = quoted(/pub const ERROR_CODES: &\[&str\] = &\[([^\]]*)\]/.exec(rust)?.[1] ?? "");
  assert.ok(core.length >= 10, `could not read ERROR_CODES from src/error.rs: ${core}`);
  const ts = readFileSync(`${repoRoot}/pkg/src/errors.ts`, "utf8");
  const typeCodes = quoted(/export type ErrorCode =([^;]*);/.exec(ts)?.[1] ?? "");
  const setCodes = quoted(/const CODES[^[]*\[([^\]]*)\]/.exec(ts)?.[1] ?? "");
  const expected = [...core, ...PACKAGE_ONLY].sort();
  assert.deepEqual([...typeCodes].sort(), expected, "the ErrorCode type");
  assert.deepEqual([...setCodes].sort(), expected, "the CODES set");
});
