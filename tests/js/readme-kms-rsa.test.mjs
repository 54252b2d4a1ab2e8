// The package README's "seal in an anonymous browser, open on the server"
// quick start, both blocks pasted as they are into files and run against moto
// (the only change: the endpoint's port, 5000 in the README, is the port this
// test's moto got). The server block runs as its own Node process; the page
// block runs in another one with `fetch` resolving its relative URLs against
// that server (the one thing a browser gives it that Node does not). The page
// block must hold no AWS SDK import and no credentials, and its process must
// never load @aws-sdk/client-kms (checked through a module-load hook).
// tests/js/kms-rsa-browser.test.mjs covers the same flow in headless Chromium.
//
// Skipped with a note when moto cannot start, unless CI is set: then it fails.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CREDENTIALS, freePort, startMoto } from "../../tools/moto/start.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());

let moto;
let skip = false;
try {
  moto = await startMoto();
} catch (e) {
  if (inCI) throw e;
  skip = `moto could not start (${e.message.split("\n")[0]}); not skipped when CI is set`;
  console.error(`\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!! tests/js/readme-kms-rsa.test.mjs SKIPPED: ${skip}\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`);
}

const children = [];
const files = [];
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  for (const file of files) rmSync(file, { force: true });
  await moto?.stop();
});

/** The README's code block that starts with `// <name>`. */
function block(name) {
  const readme = readFileSync(join(here, "../../pkg/README.md"), "utf8");
  const found = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.startsWith(`// ${name}`));
  assert.ok(found, `pkg/README.md has no js block starting with // ${name}`);
  return found;
}

/** Write `code` to a scratch file next to this test (so `fieldseal` resolves). */
function scratch(name, code) {
  const file = join(here, `.readme-${process.pid}-${name}`);
  writeFileSync(file, code);
  files.push(file);
  return file;
}

/** Run a Node process; resolves with its output once `until(stdout)` holds (or rejects when it exits first). */
function run(args, env, until) {
  const child = spawn(process.execPath, args, { cwd: here, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return {
    child,
    output: () => stdout,
    ready: new Promise((resolve, reject) => {
      child.stdout.on("data", (d) => {
        stdout += d;
        if (until?.(stdout)) resolve(stdout);
      });
      if (until) {
        child.once("exit", (code, signal) =>
          until(stdout) ? resolve(stdout) : reject(new Error(`${args.at(-1)} exited (${code ?? signal}) before it was ready:\n${stdout}\n${stderr}`)),
        );
      }
    }),
    exited: new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr }))),
  };
}

describe("pkg/README.md: the KMS RSA browser-to-server quick start runs as pasted", { skip }, () => {
  test("the page seals with the ARN and PEM only; the server opens with KMS Decrypt", async () => {
    const serverCode = block("kms-rsa-server.mjs");
    const pageCode = block("seal-in-browser.mjs");
    assert.equal(serverCode.split("http://127.0.0.1:5000").length, 2, "the server block names make moto's endpoint once");
    for (const needle of ["@aws-sdk", "credentials", "endpoint", "KMSClient", "clientProvider"]) {
      assert.ok(!pageCode.includes(needle), `the page block mentions ${needle}`);
    }

    const port = await freePort();
    const server = run([scratch("server.mjs", serverCode.replace("http://127.0.0.1:5000", moto.endpoint))], { PORT: String(port) }, (out) =>
      out.includes("listening\n"),
    );
    await server.ready;

    // What the page's process loads: fetch relative to the server's origin (as
    // in a page it served), and a record of every module it resolves.
    const base = `http://127.0.0.1:${port}`;
    const loadLog = scratch("loads.txt", "");
    const hooks = scratch(
      "hooks.mjs",
      `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  appendFileSync(${JSON.stringify(loadLog)}, specifier + "\\n");
  return next(specifier, context);
}
`,
    );
    const preload = scratch(
      "preload.mjs",
      `import { register } from "node:module";
register(${JSON.stringify(new URL(`file://${hooks}`).href)});
const f = globalThis.fetch;
globalThis.fetch = (url, init) => f(new URL(url, ${JSON.stringify(base)}), init);
`,
    );
    const page = run(["--import", preload, scratch("page.mjs", pageCode)], { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" });
    const { code, stdout, stderr } = await page.exited;
    assert.equal(code, 0, `the page block failed:\n${stdout}\n${stderr}`);
    assert.equal(stdout.trim(), "201", "the server accepted the sealed order");

    const loads = readFileSync(loadLog, "utf8").split("\n");
    assert.ok(loads.includes("fieldseal/kms"), `the hook saw the page's imports: ${loads.join(" ")}`);
    assert.ok(!loads.some((s) => s.includes("@aws-sdk")), `the page loaded the AWS SDK: ${loads.filter((s) => s.includes("@aws-sdk"))}`);

    // The server opened it: through KMS, so the key is moto's RSA key.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(server.output(), /^listening\nopened order#1: card ending 1111\n$/);

    // A tampered body is refused (400), not opened.
    const sealedAgain = await fetch(`${base}/sealing-key`).then((r) => r.json());
    assert.match(sealedAgain.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    const kms = new KMSClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS });
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: sealedAgain.kmsKeyId }));
    assert.equal(KeyMetadata.KeySpec, "RSA_2048");
    assert.equal(KeyMetadata.KeyUsage, "ENCRYPT_DECRYPT");
    const refused = await fetch(`${base}/orders`, { method: "POST", body: JSON.stringify({ pk: { S: "order#2" }, card: { S: "plain" } }) });
    assert.equal(refused.status, 400, "an unsealed item is refused");
    assert.doesNotMatch(server.output(), /order#2/);
  });
});
