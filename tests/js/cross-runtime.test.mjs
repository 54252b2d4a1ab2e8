// Cross-runtime: the fieldseal package in a Vite-built page in headless
// Chromium and in Node seal and open each other's items.
//
// - tests/js/browser/ (index.html + main.js importing "fieldseal") is built
//   with Vite's JS API into a temp dir and served by `vite preview` on
//   127.0.0.1 (free port); playwright-core drives Debian's Chromium.
// - page -> Node and Node -> page, both suites, raw AES-256 (single and batch
//   calls), a SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT config, and a raw RSA
//   keyring in the page holding only the public key, sealing for a private key
//   that only Node has. Values are compared exactly.
// - The Vite dev server loads the package with no config, both as this
//   workspace links it and as an app that installed it (a real copy in
//   node_modules, which Vite pre-bundles).
// - The hierarchical keyring in a page of its own (tests/js/browser-kms/,
//   fieldseal/kms with the AWS SDK v3 clients): its clients call moto on
//   another origin (CORS); Node opens what the page sealed.
// - Any console error, page error, failed request or HTTP error fails.
//
// Skipped with a note when Chromium is missing, unless CI is set.

import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import * as fieldseal from "fieldseal";

import {
  browserRoot,
  buildPage,
  callPage,
  chromiumPath,
  launchChromium,
  openHarnessPage,
  servePreview,
  startDevServer,
} from "./browser/harness.mjs";
import { bytesToBase64, errorInfo, fromWire, makeEncryptor, toWire } from "./browser/shared.mjs";
import { copyAsPublished } from "./helpers/common.mjs";

const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());
const skip = chromiumPath() || inCI
  ? false
  : `Chromium not found at ${process.env.CHROMIUM_PATH || "/usr/bin/chromium"} (set CHROMIUM_PATH); not skipped when CI is set`;
const SUITES = ["0x6700", "0x6701"];
const pkgDir = fileURLToPath(new URL("../../pkg/", import.meta.url));
const benchDir = fileURLToPath(new URL("./bench/", import.meta.url));

// ------------------------------------------------------------------ fixtures

const bytes = (n, f = (i) => i) => Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);

/** Every attribute type, nested, under every action; already in canonical
 *  form (normalized numbers, sets in order), so a round trip returns it as is. */
const everyType = {
  pk: { S: "tenant#ü-42" },
  sk: { N: "1718236800" },
  s: { S: "héllo wörld ✓ 🌍 \u2028 \"quoted\"" },
  s_empty: { S: "" },
  n: { N: "-12.5" },
  n_big: { N: "12345678901234567890123456789012345678" },
  n_small: { N: "0.000001" },
  b: { B: bytes(256) },
  b_empty: { B: new Uint8Array(0) },
  t: { BOOL: true },
  f: { BOOL: false },
  nul: { NULL: true },
  list: {
    L: [
      { S: "a" }, { N: "1" }, { B: bytes(3, (i) => 250 + i) }, { BOOL: false }, { NULL: true },
      { L: [] }, { M: {} }, { SS: ["x"] }, { NS: ["7"] }, { BS: [bytes(2)] },
      { L: [{ N: "2" }, { L: [{ S: "deep" }] }] }, { M: { k: { S: "v" } } },
    ],
  },
  map: {
    M: {
      nested: { M: { deeper: { L: [{ M: { bin: { B: bytes(17, (i) => i * 13) } } }] } } },
      "ünï 😀": { S: "non-ASCII key" },
      num: { N: "42" },
      flag: { BOOL: true },
      none: { NULL: true },
      set: { SS: ["a", "b"] },
    },
  },
  ss: { SS: ["alpha", "beta", "gamma"] },
  ns: { NS: ["1", "2", "3"] },
  bs: { BS: [bytes(1, () => 1), bytes(2, (i) => 2 + i)] },
  so_s: { S: "signed, not encrypted" },
  so_m: { M: { b: { B: bytes(5) }, n: { N: "5" } } },
  dn: { S: "neither signed nor encrypted" },
  dn_b: { B: bytes(9, (i) => 255 - i) },
};

/** Values DynamoDB accepts but that are not in canonical form: numbers with
 *  extra digits or exponents, unordered sets (UTF-8 and UTF-16 orders differ). */
const nonCanonical = {
  pk: { S: "tenant#7" },
  sk: { N: "0100" },
  n: { N: "1.50" },
  n_exp: { N: "1e3" },
  n_neg: { N: "-0.0500" },
  ss: { SS: ["zeta", "Alpha", "éclair", "\u{1F600}", "\uFF61", "b"] },
  ns: { NS: ["10", "9", "1.0", "-3"] },
  bs: { BS: [bytes(3, () => 9), bytes(1, () => 200), bytes(2)] },
  map: { M: { z: { N: "2.0" }, a: { SS: ["y", "x"] } } },
  so_s: { S: "signed" },
  so_m: { M: { n: { N: "5.00" } } },
  dn: { N: "3.10" },
};

const actions = (item) =>
  Object.fromEntries(
    Object.keys(item).map((k) => [
      k,
      k === "pk" || k === "sk" || k.startsWith("so_") ? "SIGN_ONLY" : k.startsWith("dn") ? "DO_NOTHING" : "ENCRYPT_AND_SIGN",
    ]),
  );
const config = (suite) => ({
  logicalTableName: "CrossRuntime",
  partitionKeyName: "pk",
  sortKeyName: "sk",
  attributeActionsOnEncrypt: { ...actions(everyType), ...actions(nonCanonical) },
  allowedUnsignedAttributes: ["dn", "dn_b"],
  algorithmSuiteId: suite,
});

// A v2 record: SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attributes, no sort key.
const contextItem = {
  tenant: { S: "acme" },
  region: { S: "eu-west-1" },
  secret: { M: { card: { S: "4111 1111 1111 1111" }, cvv: { N: "123" } } },
  meta: { N: "7" },
};
const contextConfig = (suite) => ({
  logicalTableName: "CrossRuntimeV2",
  partitionKeyName: "tenant",
  attributeActionsOnEncrypt: {
    tenant: "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT",
    region: "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT",
    secret: "ENCRYPT_AND_SIGN",
    meta: "SIGN_ONLY",
  },
  algorithmSuiteId: suite,
});

const aesKey = {
  type: "raw-aes",
  keyNamespace: "cross-runtime",
  keyName: "aes-256",
  wrappingKey: bytesToBase64(randomBytes(32)),
};
const otherAesKey = { ...aesKey, wrappingKey: bytesToBase64(randomBytes(32)) };

// ---------------------------------------------------------------- comparison

/** A DynamoDB number as a comparable key (sign, digits, exponent). */
function numberKey(n) {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(n);
  assert.ok(m && (m[2] || m[3]), `not a number: ${n}`);
  const digits = `${m[2]}${m[3] ?? ""}`.replace(/^0+/, "");
  if (!digits) return "0";
  const trimmed = digits.replace(/0+$/, "");
  const exp = Number(m[4] ?? 0) - (m[3] ?? "").length + (digits.length - trimmed.length);
  return `${m[1] === "-" ? "-" : ""}${trimmed}e${exp}`;
}

/** A value with numbers by value and sets unordered: DynamoDB equality. */
function byValue(v) {
  const [[t, x]] = Object.entries(v);
  switch (t) {
    case "N": return { N: numberKey(x) };
    case "NS": return { NS: x.map(numberKey).sort() };
    case "SS": return { SS: [...x].sort() };
    case "BS": return { BS: x.map((b) => bytesToBase64(b)).sort() };
    case "B": return { B: bytesToBase64(x) };
    case "L": return { L: x.map(byValue) };
    case "M": return { M: itemByValue(x) };
    default: return { [t]: x };
  }
}
const itemByValue = (item) => Object.fromEntries(Object.entries(item).map(([k, v]) => [k, byValue(v)]));

/** Checks of a sealed item against its plaintext and config. */
function assertSealed(sealed, plain, cfg, label) {
  const wire = toWire(sealed);
  const plainWire = toWire(plain);
  for (const [name, action] of Object.entries(cfg.attributeActionsOnEncrypt)) {
    if (!(name in plain)) continue;
    if (action === "ENCRYPT_AND_SIGN") {
      assert.ok(sealed[name]?.B instanceof Uint8Array, `${label}: ${name} is not sealed as B`);
      assert.notDeepEqual(wire[name], plainWire[name], `${label}: ${name} is stored in the clear`);
    } else {
      assert.deepEqual(wire[name], plainWire[name], `${label}: ${name} (${action}) is not stored as given`);
    }
  }
  assert.ok(sealed.aws_dbe_head?.B instanceof Uint8Array, `${label}: no aws_dbe_head`);
  assert.ok(sealed.aws_dbe_foot?.B instanceof Uint8Array, `${label}: no aws_dbe_foot`);
  assert.deepEqual(Object.keys(sealed).sort(), [...Object.keys(plain), "aws_dbe_head", "aws_dbe_foot"].sort(), `${label}: attribute names`);
}

async function assertFieldsealError(promise, label) {
  await assert.rejects(promise, (e) => {
    assert.equal(e?.name, "FieldsealError", `${label}: ${e}`);
    assert.ok(e instanceof fieldseal.FieldsealError, `${label}: not an instance of FieldsealError`);
    assert.equal(typeof e.code, "string", `${label}: no code`);
    return true;
  });
}

// --------------------------------------------------------------------- tests

describe("cross-runtime: Vite-built page in headless Chromium <-> Node", { skip, timeout: 120_000 }, () => {
  let built;
  let server;
  let browser;
  let page;
  let problems;
  let warnings;
  /** Node's own round trip of each test item: what every runtime must return. */
  const expected = new Map();

  const pageCall = async (name, ...args) => {
    const out = await callPage(page, name, ...args);
    assert.deepEqual(problems, [], "the page reported problems");
    return out;
  };
  const nodeEncrypt = (cfg, key, items) => makeEncryptor(fieldseal, cfg, key).encryptItems(items);
  const nodeDecrypt = (cfg, key, items) => makeEncryptor(fieldseal, cfg, key).decryptItems(items);

  before(async () => {
    built = await buildPage();
    const buildWarnings = built.warnings.filter((w) => !/chunks are larger than/.test(w.msg));
    assert.deepEqual(buildWarnings, [], "vite build of a page importing fieldseal warned");
    server = await servePreview(built.outDir);
    browser = await launchChromium();
    ({ page, problems, warnings } = await openHarnessPage(browser, server.url));

    for (const suite of SUITES) {
      for (const [name, item, cfg] of [
        ["everyType", everyType, config(suite)],
        ["nonCanonical", nonCanonical, config(suite)],
        ["contextItem", contextItem, contextConfig(suite)],
      ]) {
        const [back] = await nodeDecrypt(cfg, aesKey, await nodeEncrypt(cfg, aesKey, [item]));
        expected.set(`${name}/${suite}`, back);
      }
    }
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
    await built?.cleanup().catch(() => {});
  });

  test("Node's own round trips give back the items (exactly when canonical, by DynamoDB value otherwise)", () => {
    for (const suite of SUITES) {
      assert.deepEqual(expected.get(`everyType/${suite}`), everyType);
      assert.deepEqual(expected.get(`contextItem/${suite}`), contextItem);
      assert.deepEqual(itemByValue(expected.get(`nonCanonical/${suite}`)), itemByValue(nonCanonical));
      // Stored as given, returned as given: a DO_NOTHING number is not normalized.
      assert.deepEqual(expected.get(`nonCanonical/${suite}`).dn, nonCanonical.dn);
    }
  });

  for (const suite of SUITES) {
    test(`page seals (${suite}, raw AES, single and batch calls), Node opens`, async () => {
      const cfg = config(suite);
      const single = (await pageCall("encrypt", cfg, aesKey, [toWire(everyType), toWire(nonCanonical)])).map(fromWire);
      const batch = (await pageCall("encrypt", cfg, aesKey, [toWire(everyType)], { batch: true })).map(fromWire);
      assertSealed(single[0], everyType, cfg, "page single");
      assertSealed(single[1], nonCanonical, cfg, "page single");
      assertSealed(batch[0], everyType, cfg, "page batch");
      assert.notDeepEqual(toWire(single[0]).aws_dbe_head, toWire(batch[0]).aws_dbe_head, "two seals share a header");

      const opened = await nodeDecrypt(cfg, aesKey, [...single, ...batch]);
      assert.deepEqual(opened[0], expected.get(`everyType/${suite}`));
      assert.deepEqual(opened[0], everyType);
      assert.deepEqual(opened[1], expected.get(`nonCanonical/${suite}`));
      assert.deepEqual(opened[2], everyType);
      // Node single-item API too.
      assert.deepEqual(await makeEncryptor(fieldseal, cfg, aesKey).decryptItem(single[1]), expected.get(`nonCanonical/${suite}`));

      // Node refuses what the page sealed under another key, and a changed byte.
      await assertFieldsealError(nodeDecrypt(cfg, otherAesKey, [single[0]]), "wrong key");
      const tampered = { ...single[0], s: { B: Uint8Array.from(single[0].s.B) } };
      tampered.s.B[tampered.s.B.length - 1] ^= 1;
      await assertFieldsealError(nodeDecrypt(cfg, aesKey, [tampered]), "tampered");
    });

    test(`Node seals (${suite}, raw AES), page opens (single and batch calls)`, async () => {
      const cfg = config(suite);
      const sealed = await nodeEncrypt(cfg, aesKey, [everyType, nonCanonical]);
      assertSealed(sealed[0], everyType, cfg, "node");
      const single = (await pageCall("decrypt", cfg, aesKey, sealed.map(toWire))).map(fromWire);
      const batch = (await pageCall("decrypt", cfg, aesKey, sealed.map(toWire), { batch: true })).map(fromWire);
      for (const got of [single, batch]) {
        assert.deepEqual(got[0], expected.get(`everyType/${suite}`));
        assert.deepEqual(got[0], everyType);
        assert.deepEqual(got[1], expected.get(`nonCanonical/${suite}`));
      }
      // The page refuses the wrong key with a FieldsealError.
      const failure = await pageCall("decryptFailure", cfg, otherAesKey, toWire(sealed[0]));
      assert.ok(failure, "the page opened an item with the wrong key");
      assert.equal(failure.name, "FieldsealError", failure.message);
      assert.ok(failure.instanceOfFieldsealError, "page error is not an instance of FieldsealError");
    });

    test(`SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT record (${suite}): page <-> Node`, async () => {
      const cfg = contextConfig(suite);
      const [fromPage] = (await pageCall("encrypt", cfg, aesKey, [toWire(contextItem)])).map(fromWire);
      assertSealed(fromPage, contextItem, cfg, "page v2");
      assert.deepEqual(await nodeDecrypt(cfg, aesKey, [fromPage]), [contextItem]);
      const fromNode = await nodeEncrypt(cfg, aesKey, [contextItem]);
      assert.deepEqual((await pageCall("decrypt", cfg, aesKey, fromNode.map(toWire))).map(fromWire), [contextItem]);
      // The context attributes are bound: changing one makes it fail.
      await assertFieldsealError(nodeDecrypt(cfg, aesKey, [{ ...fromPage, region: { S: "us-east-1" } }]), "changed context");
    });
  }

  test("raw RSA: the page holds only the public key and seals for Node's private key", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    const rsa = { type: "raw-rsa", keyNamespace: "cross-runtime", keyName: "rsa-2048", padding: "OAEP_SHA256_MGF1" };
    const pagePublic = { ...rsa, publicKeyPem: publicKey };
    const nodePrivate = { ...rsa, privateKeyPem: privateKey };
    for (const suite of SUITES) {
      const cfg = config(suite);
      const sealed = (await pageCall("encrypt", cfg, pagePublic, [toWire(everyType), toWire(nonCanonical)], { batch: true })).map(fromWire);
      assertSealed(sealed[0], everyType, cfg, "page rsa");
      const opened = await nodeDecrypt(cfg, nodePrivate, sealed);
      assert.deepEqual(opened[0], everyType);
      assert.deepEqual(opened[1], expected.get(`nonCanonical/${suite}`));
      // The public-only keyring cannot open what it sealed.
      const failure = await pageCall("decryptFailure", cfg, pagePublic, toWire(sealed[0]));
      assert.ok(failure, "a public-key-only keyring opened an item");
      assert.equal(failure.name, "FieldsealError", failure.message);
      // Nor can an AES keyring with the same names.
      await assertFieldsealError(nodeDecrypt(cfg, aesKey, [sealed[0]]), "aes for rsa");
    }
  });

  test("the page reported no console errors, page errors or failed requests", (t) => {
    for (const w of warnings) t.diagnostic(w);
    assert.deepEqual(problems, []);
  });
});

describe("Vite dev server loads fieldseal with no config", { skip, timeout: 120_000 }, () => {
  let browser;
  const cleanups = [];

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  /** Serve `root` with `vite` (createServer), round-trip through the page. */
  async function roundTripOnDevServer(root, opts) {
    const dev = await startDevServer(root, opts);
    cleanups.push(dev.close);
    const { page, problems, warnings } = await openHarnessPage(browser, dev.url);
    try {
      const cfg = config("0x6700");
      const [sealed] = (await callPage(page, "encrypt", cfg, aesKey, [toWire(everyType)])).map(fromWire);
      assert.deepEqual(await nodeDecryptOne(cfg, sealed), everyType);
      const fromNode = await makeEncryptor(fieldseal, cfg, aesKey).encryptItem(everyType);
      const [opened] = (await callPage(page, "decrypt", cfg, aesKey, [toWire(fromNode)])).map(fromWire);
      assert.deepEqual(opened, everyType);
      assert.deepEqual(problems, [], "the page reported problems");
      dev.pageWarnings = warnings;
      const errors = dev.logger.messages.filter((m) => m.level === "error");
      assert.deepEqual(errors, [], "vite logged errors");
      return dev;
    } finally {
      await page.close();
    }
  }
  const nodeDecryptOne = (cfg, item) => makeEncryptor(fieldseal, cfg, aesKey).decryptItem(item);

  test("this workspace (node_modules/fieldseal links to pkg/)", async (t) => {
    const cacheDir = await mkdtemp(join(tmpdir(), "fieldseal-vite-cache-"));
    cleanups.push(() => rm(cacheDir, { recursive: true, force: true }));
    const dev = await roundTripOnDevServer(browserRoot, { cacheDir });
    for (const w of dev.logger.messages) t.diagnostic(`vite ${w.level}: ${w.msg}`);
    for (const w of dev.pageWarnings) t.diagnostic(w);
  });

  test("an app that installed the package (a copy in node_modules, pre-bundled by Vite)", async (t) => {
    // <tmp>/package.json, <tmp>/node_modules/fieldseal (copy of pkg/ without its
    // node_modules), <tmp>/browser (this page), <tmp>/bench/ (what the page imports).
    const app = await mkdtemp(join(tmpdir(), "fieldseal-vite-app-"));
    cleanups.push(() => rm(app, { recursive: true, force: true }));
    await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module", dependencies: { fieldseal: "*" } }));
    await copyAsPublished(pkgDir, join(app, "node_modules/fieldseal"));
    await mkdir(join(app, "browser"));
    await mkdir(join(app, "bench"));
    for (const f of ["index.html", "main.js", "shared.mjs"]) await cp(join(browserRoot, f), join(app, "browser", f));
    for (const f of ["measure.mjs", "large.mjs"]) await cp(join(benchDir, f), join(app, "bench", f));

    const dev = await roundTripOnDevServer(join(app, "browser"));
    for (const w of dev.logger.messages) t.diagnostic(`vite ${w.level}: ${w.msg}`);
    for (const w of dev.pageWarnings) t.diagnostic(w);
    // Make sure this exercised Vite's dependency optimizer (the path that
    // breaks packages whose wasm URL is relative to import.meta.url).
    const metadata = JSON.parse(await readFile(join(app, "node_modules/.vite/deps/_metadata.json"), "utf8"));
    assert.ok(metadata.optimized?.fieldseal, `Vite did not pre-bundle fieldseal: ${JSON.stringify(Object.keys(metadata.optimized ?? {}))}`);
  });
});

// The hierarchical keyring in the page, its clients talking to moto on
// another origin (CORS), the branch key store created from Node; the item the
// page seals opens in Node through the same store, and the other way round.
describe("cross-runtime: the hierarchical keyring in headless Chromium over CORS", { skip, timeout: 120_000 }, () => {
  test("a page seals and opens through a branch key store on moto, and Node opens what it sealed", async () => {
    const [{ CreateKeyCommand, KMSClient }, { DynamoDBClient }, kms, { startMoto, CREDENTIALS }] = await Promise.all([
      import("@aws-sdk/client-kms"),
      import("@aws-sdk/client-dynamodb"),
      import("fieldseal/kms"),
      import("./helpers/moto.mjs"),
    ]);
    const moto = await startMoto();
    const root = fileURLToPath(new URL("./browser-kms/", import.meta.url));
    const built = await buildPage({ root });
    let server;
    let browser;
    try {
      const region = "us-west-2";
      const clientConfig = { region, endpoint: moto.endpoint, credentials: CREDENTIALS };
      const kmsClient = new KMSClient(clientConfig);
      const ddbClient = new DynamoDBClient(clientConfig);
      const store = { region, ddbTableName: `page-keystore-${process.pid}`, logicalKeyStoreName: "page-keystore" };
      store.kmsKeyArn = (await kmsClient.send(new CreateKeyCommand({}))).KeyMetadata.Arn;
      const keyStore = new kms.KeyStore({ ddbTableName: store.ddbTableName, logicalKeyStoreName: store.logicalKeyStoreName, kmsConfiguration: { kmsKeyArn: store.kmsKeyArn }, ddbClient, kmsClient });
      await keyStore.createKeyStore();
      const { branchKeyIdentifier } = await keyStore.createKey();

      server = await servePreview(built.outDir, { root });
      browser = await launchChromium();
      const { page, problems } = await openHarnessPage(browser, server.url);
      const cfg = config("0x6701");
      const r = await callPage(page, "hierarchyRoundTrip", moto.endpoint, CREDENTIALS, store, branchKeyIdentifier, cfg, toWire(everyType));
      assert.deepEqual(problems, [], "the page reported problems (a refused CORS request among them)");
      assert.notEqual(new URL(r.origin).port, new URL(moto.endpoint).port, "the page and moto are different origins");
      assert.deepEqual(fromWire(r.opened), everyType);

      const node = new fieldseal.ItemEncryptor({ ...cfg, keyring: new kms.AwsKmsHierarchicalKeyring({ keyStore, branchKeyId: branchKeyIdentifier, ttlSeconds: 600 }) });
      assert.deepEqual(await node.decryptItem(fromWire(r.sealed)), everyType);
      const header = fromWire(r.sealed).aws_dbe_head.B;
      assert.ok(Buffer.from(header).includes(Buffer.from("aws-kms-hierarchy")), "the page's item names the hierarchical keyring");
      kmsClient.destroy();
      ddbClient.destroy();
      keyStore.free();
    } finally {
      await browser?.close().catch(() => {});
      await server?.close().catch(() => {});
      await built.cleanup();
      await moto.stop();
    }
  });
});
