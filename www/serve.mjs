#!/usr/bin/env node
// The demo stack behind `make demo` (and the demo's end-to-end test):
//
//   1. the patched moto (tests/support/moto: a local KMS + DynamoDB) on
//      127.0.0.1, a free port or $MOTO_PORT;
//   2. provisioning: a multi-Region KMS key in us-east-1, its replica in
//      eu-west-1, and the DynamoDB table FieldsealDemoOrders (us-east-1);
//   3. the Vite dev server over www/ on http://127.0.0.1:${PORT:-5173}, which
//      serves /demo-config.json (the ARNs, the table) and proxies /aws to moto,
//      so the page's AWS SDK clients stay same-origin (no CORS).
//
// As a command (`node www/serve.mjs`, what `make demo` runs after
// scripts/setup.sh): rebuilds the npm package first if pkg/dist is missing or
// older than its sources (`npm --prefix pkg run build`; --no-build skips
// that), prints the URL, and on Ctrl-C (SIGINT), SIGTERM or SIGHUP stops
// everything it started. moto cannot outlive this process: it exits when its
// stdin pipe closes (tests/support/moto/start.mjs), even if this process is
// killed. FIELDSEAL_DEMO_MOTO=0 serves the page without moto (embedded mode only).
//
// As a module: `startDemo(options)` starts the same stack in-process and
// resolves to { url, motoEndpoint, config, close }.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { CREDENTIALS, startMoto } from "../tests/support/moto/start.mjs";

export const wwwRoot = dirname(fileURLToPath(import.meta.url));
export const repoRoot = dirname(wwwRoot);

/** Where things live in the demo's local AWS. */
export const DEMO_AWS = {
  home: "us-east-1",
  replica: "eu-west-1",
  table: "FieldsealDemoOrders",
  partitionKey: "order_id",
  proxyPath: "/aws",
};

/**
 * Create the multi-Region key (us-east-1 + replica in eu-west-1) and the
 * DynamoDB table on a fresh moto at `endpoint`. Returns the page's `kms` config.
 */
export async function provisionAws(endpoint) {
  const { CreateKeyCommand, KMSClient, ReplicateKeyCommand } = await import("@aws-sdk/client-kms");
  const { CreateTableCommand, DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const { home, replica, table, partitionKey, proxyPath } = DEMO_AWS;
  const kms = new KMSClient({ region: home, endpoint, credentials: CREDENTIALS });
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ MultiRegion: true, Description: "fieldseal demo: multi-Region key" }));
  const { ReplicaKeyMetadata } = await kms.send(new ReplicateKeyCommand({ KeyId: KeyMetadata.KeyId, ReplicaRegion: replica }));
  const ddb = new DynamoDBClient({ region: home, endpoint, credentials: CREDENTIALS });
  await ddb.send(new CreateTableCommand({
    TableName: table,
    KeySchema: [{ AttributeName: partitionKey, KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  }));
  kms.destroy();
  ddb.destroy();
  return {
    endpointPath: proxyPath,
    home,
    replica,
    account: KeyMetadata.AWSAccountId,
    keyArns: { [home]: KeyMetadata.Arn, [replica]: ReplicaKeyMetadata.Arn },
    table: { name: table, region: home, partitionKey },
  };
}

/**
 * Start moto (unless `moto: false`), provision it, and serve www/ with Vite.
 *
 * Options: host (127.0.0.1), port (5173; 0 = a free one), motoPort (free if
 * unset), moto (true), and for Vite: cacheDir, customLogger, logLevel, watch.
 * Resolves to { url, motoEndpoint, motoPid, config, server, close }.
 */
export async function startDemo({
  host = "127.0.0.1",
  port = 5173,
  motoPort,
  moto = true,
  cacheDir,
  customLogger,
  logLevel = "info",
  watch,
} = {}) {
  let motoHandle = null;
  let server = null;
  const close = async () => {
    await server?.close().catch(() => {});
    await motoHandle?.stop();
  };
  try {
    const config = { kms: null };
    if (moto) {
      motoHandle = await startMoto({ port: motoPort });
      config.kms = await provisionAws(motoHandle.endpoint);
    } else {
      config.kmsUnavailable = "Not available: the demo was started without moto (FIELDSEAL_DEMO_MOTO=0).";
    }
    const { createServer } = await import("vite");
    const body = JSON.stringify(config);
    server = await createServer({
      root: wwwRoot,
      configFile: false,
      clearScreen: false,
      logLevel,
      ...(customLogger ? { customLogger } : {}),
      ...(cacheDir ? { cacheDir } : {}),
      plugins: [{
        name: "fieldseal-demo-config",
        configureServer(dev) {
          dev.middlewares.use("/demo-config.json", (req, res) => {
            res.setHeader("content-type", "application/json");
            res.setHeader("cache-control", "no-store");
            res.end(body);
          });
        },
      }],
      // Pre-bundled at startup, so the first switch to KMS mode does not make
      // Vite discover them and reload the page.
      optimizeDeps: { include: ["@aws-sdk/client-kms", "@aws-sdk/client-dynamodb"] },
      server: {
        host,
        port,
        strictPort: true,
        open: false,
        ...(watch !== undefined ? { watch } : {}),
        proxy: motoHandle
          ? {
            [DEMO_AWS.proxyPath]: {
              target: motoHandle.endpoint,
              changeOrigin: true,
              rewrite: (path) => path.slice(DEMO_AWS.proxyPath.length) || "/",
            },
          }
          : {},
      },
    });
    try {
      await server.listen();
    } catch (e) {
      if (e?.code === "EADDRINUSE" || /already in use/i.test(e?.message ?? "")) {
        throw new Error(`port ${port} on ${host} is already in use: stop what runs there, or pick another with PORT=...`, { cause: e });
      }
      throw e;
    }
    const url = server.resolvedUrls?.local?.[0];
    if (!url) throw new Error("the Vite dev server did not report a URL");
    return { url, motoEndpoint: motoHandle?.endpoint ?? null, motoPid: motoHandle?.pid ?? null, config, server, close };
  } catch (e) {
    await close();
    throw e;
  }
}

// ------------------------------------------------------------ the command

/** Newest mtime under `path` (a file or a directory), skipping `skip` paths. */
function newest(path, skip) {
  if (!existsSync(path) || skip.includes(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry), skip));
  return max;
}

/** Why pkg/dist must be rebuilt, or null if it is newer than everything it is built from. */
export function packageStaleness() {
  const r = (p) => join(repoRoot, p);
  const outputs = ["pkg/dist/index.js", "pkg/dist/kms.js", "pkg/dist/wasm/fieldseal_wasm.js", "pkg/dist/wasm/fieldseal_wasm_bg.wasm"];
  const missing = outputs.find((p) => !existsSync(r(p)));
  if (missing) return `${missing} is missing`;
  const built = Math.min(...outputs.map((p) => statSync(r(p)).mtimeMs));
  const inputs = ["src", "wasm/src", "wasm/Cargo.toml", "Cargo.toml", "Cargo.lock", "pkg/src", "pkg/scripts/build.mjs", "pkg/tsconfig.json", "pkg/package.json"];
  const skip = [r("pkg/src/wasm")]; // generated by the build itself
  const changed = inputs.find((p) => newest(r(p), skip) > built);
  return changed ? `${changed} changed since the last build` : null;
}

const say = (line) => console.log(`\x1b[1m[demo]\x1b[0m ${line}`);

async function main() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"; // we know; it is Node 20
  const args = process.argv.slice(2);
  const port = Number(process.env.PORT || 5173);
  const motoPort = process.env.MOTO_PORT ? Number(process.env.MOTO_PORT) : undefined;
  const withMoto = !["0", "false", "no"].includes((process.env.FIELDSEAL_DEMO_MOTO ?? "1").toLowerCase());

  let demo = null;
  let build = null;
  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) {
      say(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    if (build) {
      try { process.kill(-build.pid, "SIGTERM"); } catch { /* gone */ }
    }
    if (!demo) process.exit(130); // moto, if starting, exits with us (stdin watchdog)
    say(`${signal}: stopping the page server${demo.motoPid ? " and moto" : ""}…`);
    const timer = setTimeout(() => process.exit(1), 10_000);
    await demo.close();
    clearTimeout(timer);
    say("stopped.");
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => void shutdown(signal));
  process.on("exit", () => {
    if (demo?.motoPid) {
      try { process.kill(demo.motoPid, "SIGTERM"); } catch { /* already gone */ }
    }
  });

  if (!args.includes("--no-build")) {
    const why = packageStaleness();
    if (why) {
      say(`building the npm package (${why}): npm --prefix pkg run build`);
      // Its own process group, so a signal to this process can stop cargo too.
      build = spawn("npm", ["--prefix", "pkg", "run", "build"], { cwd: repoRoot, stdio: "inherit", detached: true });
      const code = await new Promise((resolve) => build.once("exit", (c, s) => resolve(c ?? s)));
      build = null;
      if (code !== 0) throw new Error(`npm --prefix pkg run build failed (${code})`);
    } else {
      say("npm package up to date (pkg/dist)");
    }
  }

  say(withMoto ? `starting moto (KMS + DynamoDB) on ${motoPort ? `127.0.0.1:${motoPort}` : "a free port"} and the page server…` : "starting the page server (no moto)…");
  const t0 = Date.now();
  demo = await startDemo({ port, motoPort, moto: withMoto });
  const { url, motoEndpoint, config } = demo;
  console.log("");
  say(`fieldseal demo ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`
  page     \x1b[1;36m${url}\x1b[0m
  modes    embedded AES key (no cloud; items in the browser's IndexedDB)
           KMS multi-Region key (${motoEndpoint ? "local moto" : "off: FIELDSEAL_DEMO_MOTO=0"})`);
  if (config.kms) {
    console.log(`  moto     ${motoEndpoint} (proxied as ${url.replace(/\/$/, "")}${DEMO_AWS.proxyPath})
  KMS key  ${config.kms.keyArns[config.kms.home]}
  replica  ${config.kms.keyArns[config.kms.replica]}
  table    DynamoDB ${config.kms.table.name} (${config.kms.table.region}), partition key ${config.kms.table.partitionKey}`);
  }
  console.log(`
  Ctrl-C stops the page server${motoEndpoint ? " and moto" : ""}. Page sources: ${relative(process.cwd(), wwwRoot) || "."}/ (Vite reloads on save).
`);
}

const invokedDirectly = process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (invokedDirectly) {
  main().catch((e) => {
    console.error(`\x1b[1;31m[demo] ${e?.message ?? e}\x1b[0m`);
    if (e?.cause) console.error(`  (${e.cause?.message ?? e.cause})`);
    process.exit(1);
  });
}
