// End-to-end test of the demo page (www/, what `make demo` serves), in both
// key-provider modes, in headless Chromium (playwright-core, Debian's
// Chromium, the flags of browser/harness.mjs).
//
// The stack is the demo's own: www/stack.mjs's startDemo() starts the patched
// moto (KMS + DynamoDB), provisions the multi-Region key, its replica and the
// table, and serves www/ with Vite (a free port, a fresh Vite cache).
//
// In each mode the test fills the form (values, actions, suite), presses
// Seal, Upload and Load & open, and checks that:
// - the opened values shown are the values entered;
// - in KMS mode, Upload and Load & open went through the fieldseal/dynamodb
//   plug-in: the page's request log (read from a recorder on the clients'
//   middleware stacks) shows a PutItem on a client with the plug-in, given the
//   item in the clear and sending it sealed, and a GetItem on it receiving a
//   sealed item and handing the page an opened one; and the sealed view shows
//   the stored bytes (those Node reads from DynamoDB), read by a client
//   without the plug-in;
// - the stored item (IndexedDB through page.evaluate in embedded mode, the
//   DynamoDB API from Node in KMS mode) has aws_dbe_head/aws_dbe_foot, every
//   ENCRYPT_AND_SIGN attribute as binary, and no plaintext of any of them;
// - Tamper changes one byte of the stored item, and Load & open then fails
//   with INTEGRITY_FAILURE, shown in the page (opened panel, error panel);
//   uploading again restores it;
// - KMS mode seals with GenerateDataKey in us-east-1 and opens with Decrypt
//   in eu-west-1 only (replica and discovery keyrings); Seal's preview and
//   the plug-in's upload each seal (one data key each).
// - KMS mode's hierarchical keyring creates its branch key in the store on
//   first use (the item is in the key store table, read from Node), seals and
//   opens through it (the stored header names the branch key), then opens
//   again and survives Tamper with no further KMS or key store call; its
//   throughput run of 1,000 items makes one KMS Decrypt and one key store
//   GetItem to seal them and one of each to open them (a keyring with an
//   empty cache), none after the first batch, as the page's own counters
//   show; switching back to the multi-Region keyring works as before.
// - the search card (searchable encryption, KMS mode's moto): 24 sample
//   orders and the form's order go through the plug-in with beacons (stored
//   sealed, with aws_dbe_b_email and aws_dbe_b_card_status, read from Node);
//   a search by an email whose 3-bit beacon another email shares, and one by
//   card digits + status whose compound beacon another card shares, show the
//   typed value, the beacon DynamoDB received (the stored beacon, never the
//   plaintext) with every order the index returned, and only the true matches
//   opened: the false positives are dropped by the plaintext filter.
// Then the throughput chart renders for both suites. Any console error, page
// error, failed request or HTTP error fails. Screenshots go to artifacts/demo/.
//
// Skipped with a note when Chromium is missing, unless CI is set.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DynamoDBClient, GetItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";

import { chromiumPath, launchChromium, openHarnessPage, recordingLogger } from "./browser/harness.mjs";
import { repoRoot } from "./helpers/common.mjs";
import { CREDENTIALS } from "./helpers/moto.mjs";
import { startDemo } from "../../www/stack.mjs";

const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());
const skip = chromiumPath() || inCI
  ? false
  : `Chromium not found at ${process.env.CHROMIUM_PATH || "/usr/bin/chromium"} (set CHROMIUM_PATH); not skipped when CI is set`;
const artifacts = join(repoRoot, "artifacts/demo");

/** What the test types into the form, per mode. Non-ASCII on purpose. */
const INPUT = {
  embedded: {
    values: {
      order_id: "order-e2e-embedded",
      customer_name: "Zoë Ångström",
      email: "zoe+e2e@example.org",
      card_number: "5500 0000 0000 0004",
      address: "1 Rue de l'Église, 75001 Paris",
      amount: "42.5",
      created_at: "2026-11-23T12:00:00Z",
    },
    actions: {}, // the page's defaults
    suite: "0x6701",
  },
  kms: {
    values: {
      order_id: "order-e2e-kms",
      customer_name: "Ngozi Ọkọnjọ-Ìwẹ̀àlà",
      email: "ngozi@example.net",
      card_number: "4000 0566 5566 5556",
      address: "Plot 7, Admiralty Way, Lekki, Lagos",
      amount: "1999.99",
      created_at: "2026-11-24T08:30:00Z",
    },
    actions: { amount: "ENCRYPT_AND_SIGN", created_at: "SIGN_ONLY" },
    suite: "0x6700",
  },
  hierarchy: {
    values: {
      order_id: "order-e2e-hierarchy",
      customer_name: "Þórdís Kolbrún Reykfjörð",
      email: "thordis@example.is",
      card_number: "3782 822463 10005",
      address: "Laugavegur 26, 101 Reykjavík",
      amount: "7.05",
      created_at: "2026-11-25T17:45:00Z",
    },
    // Every action given, so the form's actions left by the previous test do not matter.
    actions: {
      order_id: "SIGN_ONLY",
      customer_name: "ENCRYPT_AND_SIGN",
      email: "ENCRYPT_AND_SIGN",
      card_number: "ENCRYPT_AND_SIGN",
      address: "ENCRYPT_AND_SIGN",
      amount: "SIGN_ONLY",
      created_at: "SIGN_ONLY",
    },
    suite: "0x6700",
  },
};
const DEFAULT_ACTIONS = {
  order_id: "SIGN_ONLY",
  customer_name: "ENCRYPT_AND_SIGN",
  email: "ENCRYPT_AND_SIGN",
  card_number: "ENCRYPT_AND_SIGN",
  address: "ENCRYPT_AND_SIGN",
  amount: "SIGN_ONLY",
  created_at: "DO_NOTHING",
};
const actionsOf = (mode) => ({ ...DEFAULT_ACTIONS, ...INPUT[mode].actions });
const encryptedNames = (mode) => Object.entries(actionsOf(mode)).filter(([, a]) => a === "ENCRYPT_AND_SIGN").map(([n]) => n);
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("demo page (www/) end to end: embedded key, KMS multi-Region and hierarchical keyrings, search", { skip, timeout: 180_000 }, () => {
  const t0 = performance.now();
  let demo;
  let cacheDir;
  let browser;
  let page;
  let problems;
  let warnings;
  let logger;
  let ddb;

  before(async () => {
    await mkdir(artifacts, { recursive: true });
    cacheDir = await mkdtemp(join(tmpdir(), "fieldseal-demo-vite-"));
    logger = recordingLogger();
    demo = await startDemo({ port: 0, cacheDir, customLogger: logger, logLevel: "warn", watch: null });
    ddb = new DynamoDBClient({ region: demo.config.kms.table.region, endpoint: demo.motoEndpoint, credentials: CREDENTIALS });
    browser = await launchChromium();
    ({ page, problems, warnings } = await openHarnessPage(browser, demo.url, { readyGlobal: "fieldsealDemo" }));
    await page.setViewportSize({ width: 1360, height: 960 });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    ddb?.destroy();
    await demo?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
    console.log(`demo e2e run time: ${((performance.now() - t0) / 1000).toFixed(1)} s (every mode, startup included)`);
  });

  /** Click a button (or do `how`) and wait for its operation to finish; returns "op:ok" or "op:error". */
  async function act(selector, how = () => page.click(selector)) {
    const before = await page.evaluate(() => Number(document.body.dataset.ops ?? 0));
    await how();
    await page.waitForFunction((n) => Number(document.body.dataset.ops ?? 0) > n && !document.body.dataset.busy, before, { timeout: 60_000 });
    return page.evaluate(() => document.body.dataset.last);
  }

  async function screenshot(name) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  }

  const errorCodes = () => page.$$eval("#error-list li", (lis) => lis.map((li) => li.dataset.code));
  /** The page's KMS call counts: region -> operation -> count. */
  const kmsCalls = () =>
    page.$$eval("#kms-calls tbody tr", (rows) =>
      Object.fromEntries(rows.map((r) => [r.dataset.region, Object.fromEntries([...r.querySelectorAll("td")].map((td) => [td.dataset.op, Number(td.textContent)]))])));
  /** The page's key store call counts (DynamoDB operation -> count), zeros before the first. */
  const storeCalls = () =>
    page.$$eval("#store-calls tbody td", (tds) => Object.fromEntries(tds.map((td) => [td.dataset.op, Number(td.textContent)])))
      .then((counts) => ({ GetItem: 0, TransactWriteItems: 0, DescribeTable: 0, CreateTable: 0, ...counts }));
  /** `after` minus `before`, per region and operation, leaving out zeros. */
  const kmsDelta = (before, after) =>
    Object.fromEntries(Object.entries(after).flatMap(([region, ops]) => {
      const changed = Object.entries(ops).map(([op, n]) => [op, n - (before[region]?.[op] ?? 0)]).filter(([, n]) => n !== 0);
      return changed.length ? [[region, Object.fromEntries(changed)]] : [];
    }));
  const storeDelta = (before, after) => Object.fromEntries(Object.entries(after).map(([op, n]) => [op, n - before[op]]).filter(([, n]) => n !== 0));
  const noProblems = () => assert.deepEqual(problems, [], "console errors, page errors or failed requests");

  async function fillForm(mode) {
    const { values, actions, suite } = INPUT[mode];
    for (const [name, value] of Object.entries(values)) await page.fill(`#f-${name}`, value);
    for (const [name, action] of Object.entries(actionsOf(mode))) {
      if (name in actions) await page.selectOption(`#a-${name}`, action);
      assert.equal(await page.inputValue(`#a-${name}`), action, `action of ${name}`);
    }
    await page.selectOption("#suite", suite);
  }

  /** The opened panel's values, by attribute. */
  const openedValues = () =>
    page.$$eval("#opened tr[data-attr]", (rows) => Object.fromEntries(rows.map((r) => [r.dataset.attr, r.querySelector("td.value").textContent])));

  /** A stored item's attributes as { type, text } (binary as latin1, so byte strings can be searched). */
  function storedView(item) {
    return Object.fromEntries(Object.entries(item).map(([name, value]) => {
      const [[type, x]] = Object.entries(value);
      return [name, { type, text: x instanceof Uint8Array ? Buffer.from(x).toString("latin1") : String(x), bytes: x instanceof Uint8Array ? x : null }];
    }));
  }

  function assertNoPlaintext(stored, mode, where) {
    const { values } = INPUT[mode];
    assert.ok(stored.aws_dbe_head?.type === "B" && stored.aws_dbe_foot?.type === "B", `${where}: aws_dbe_head/aws_dbe_foot missing`);
    const everything = Object.values(stored).map((v) => v.text).join("\u0000");
    for (const name of encryptedNames(mode)) {
      assert.equal(stored[name]?.type, "B", `${where}: ${name} is not stored as binary`);
      for (const needle of [values[name], Buffer.from(values[name], "utf8").toString("latin1")]) {
        assert.ok(!everything.includes(needle), `${where}: the plaintext of ${name} is stored`);
      }
    }
    for (const [name, action] of Object.entries(actionsOf(mode))) {
      if (action !== "ENCRYPT_AND_SIGN") assert.equal(stored[name].text, values[name], `${where}: ${name} (${action}) is not stored as entered`);
    }
  }

  /** The item Node reads from DynamoDB (no plug-in), as storedView. */
  async function readDynamo(mode) {
    const { Item } = await ddb.send(new GetItemCommand({ TableName: demo.config.kms.table.name, Key: { order_id: { S: INPUT[mode].values.order_id } }, ConsistentRead: true }));
    assert.ok(Item, "the item is not in DynamoDB");
    return storedView(Item);
  }

  /**
   * KMS mode: the last Upload and Load & open went through the plug-in (the
   * page's request log), and the sealed view shows the bytes DynamoDB stores.
   */
  async function assertThroughPlugin(mode) {
    const requests = await page.$$eval("#item-requests li", (lis) => lis.slice(0, 3).map((li) => ({ ...li.dataset })));
    assert.deepEqual(requests.map((r) => `${r.op} ${r.via}`), ["GetItem plugin", "GetItem plain", "PutItem plugin"],
      "Load & open (GetItem, plug-in) after Upload (PutItem, plug-in) and its read of the stored bytes (GetItem, no plug-in)");
    const [load, storedRead, put] = requests;
    assert.equal(put.givenSealed, "false", "the page gave PutItem a sealed item: the plug-in did not seal it");
    assert.equal(put.sentSealed, "true", "PutItem sent an item without aws_dbe_head");
    assert.equal(storedRead.receivedSealed, "true", "the stored item is not sealed");
    assert.equal(storedRead.returnedSealed, "true", "the client without the plug-in opened the item");
    assert.equal(load.receivedSealed, "true", "GetItem received an item without aws_dbe_head");
    assert.equal(load.returnedSealed, "false", "the plug-in did not open what GetItem received");
    assert.match(await page.innerText("#item-requests li:nth-child(3)"), /PutItem fieldseal\/dynamodb plug-in page gave 7 attributes, in the clear → sent 9 attributes, sealed/);

    assert.equal(await page.getAttribute("#sealed", "data-source"), "stored");
    assert.match(await page.innerText("#sealed .source"), /read back by a second DynamoDBClient without the plug-in/);
    const shown = JSON.parse(await page.$eval("#sealed-json", (pre) => pre.textContent)).Item; // inside a closed <details>
    const stored = await readDynamo(mode);
    assert.deepEqual(Object.keys(shown).sort(), Object.keys(stored).sort());
    for (const [name, { type, text, bytes }] of Object.entries(stored)) {
      assert.deepEqual(shown[name], { [type]: bytes ? Buffer.from(bytes).toString("base64") : text }, `sealed view: ${name} is not the stored value`);
    }
  }

  /** Seal, check the sealed and SQL panels, upload, load & open, compare. */
  async function sealUploadOpen(mode) {
    const { values } = INPUT[mode];
    await fillForm(mode);
    assert.equal(await act("#seal"), "seal:ok");
    const sealedText = await page.innerText("#sealed");
    for (const name of ["aws_dbe_head", "aws_dbe_foot"]) assert.ok(await page.$(`#sealed tr[data-attr=${name}] .opaque`), `sealed panel: no ${name}`);
    for (const name of encryptedNames(mode)) {
      assert.ok(await page.$(`#sealed tr[data-attr=${name}] .opaque`), `sealed panel: ${name} is not shown opaque`);
      assert.ok(!sealedText.includes(values[name]), `sealed panel shows the plaintext of ${name}`);
    }
    const sql = await page.innerText("#sql");
    assert.match(sql, /^INSERT INTO orders \(order_id, customer_name, email, card_number, address, amount, created_at, aws_dbe_head, aws_dbe_foot\)/);
    assert.match(sql, /'\\x[0-9a-f]{40,}'/, "SQL row: no bytea hex literal");
    for (const name of encryptedNames(mode)) assert.ok(!sql.includes(values[name].replaceAll("'", "''")), `SQL row shows the plaintext of ${name}`);
    assert.ok(sql.includes(`'${values.order_id}'`), "SQL row: the partition key is not readable");

    assert.equal(await page.getAttribute("#sealed", "data-source"), "preview");
    assert.equal(await act("#upload"), "upload:ok");
    assert.equal(await page.getAttribute("#sealed", "data-source"), "stored");
    assert.equal(await act("#open"), "open:ok");
    assert.equal(await page.getAttribute("#opened", "data-state"), "opened");
    assert.deepEqual(await openedValues(), values, "the opened values are not the values entered");
    if (mode !== "embedded") await assertThroughPlugin(mode);
    noProblems();
  }

  /** Tamper: one byte changes in the store; Load & open fails with INTEGRITY_FAILURE in the page; Upload restores. */
  async function tamperAndRestore(mode, readStored) {
    const { values } = INPUT[mode];
    const beforeTamper = await readStored();
    const integrityErrors = (await errorCodes()).filter((c) => c === "INTEGRITY_FAILURE").length;
    assert.equal(await act("#tamper"), "tamper:ok");
    const tampered = await readStored();
    const changed = Object.keys(beforeTamper).filter((n) => beforeTamper[n].text !== tampered[n]?.text);
    assert.equal(changed.length, 1, `Tamper changed ${changed.join(", ") || "nothing"}`);
    const [name] = changed;
    assert.equal(name, await page.getAttribute("#opened", "data-tampered"));
    const diff = [...beforeTamper[name].bytes].filter((b, i) => b !== tampered[name].bytes[i]).length;
    assert.equal(diff, 1, `Tamper changed ${diff} bytes of ${name}`);

    // Tamper itself tries to open, then Load & open again: both fail the same way.
    for (const step of ["after Tamper", "Load & open"]) {
      if (step === "Load & open") assert.equal(await act("#open"), "open:error");
      assert.equal(await page.getAttribute("#opened", "data-state"), "failed", step);
      const opened = await page.innerText("#opened");
      assert.match(opened, /Opening failed: INTEGRITY_FAILURE \(FieldsealError\)/, step);
      assert.match(opened, new RegExp(`Tamper flipped bit 0 of byte \\d+ of \\d+ .* in ${name} of the stored item ${values.order_id}`), step);
    }
    assert.equal(await page.isVisible("#errors"), true, "the error panel is hidden");
    const codes = await errorCodes();
    assert.equal(codes.filter((c) => c === "INTEGRITY_FAILURE").length, integrityErrors + 2, `error panel: ${codes}`);
    assert.deepEqual([...new Set(codes)], ["INTEGRITY_FAILURE"], "unexpected errors in the error panel");
    assert.match(await page.innerText("#status"), /INTEGRITY_FAILURE/);
    await screenshot(`${mode}-tampered`);

    // Upload the good sealed item again: it opens.
    assert.equal(await act("#upload"), "upload:ok");
    assert.equal(await act("#open"), "open:ok");
    assert.deepEqual(await openedValues(), values);
    noProblems();
  }

  test("embedded key: seal, upload to IndexedDB, load & open, no plaintext stored, tamper detected", async () => {
    assert.equal(await page.evaluate(() => document.body.dataset.mode), "embedded");
    await sealUploadOpen("embedded");
    const readStored = async () =>
      storedView(await page.evaluate(async (key) => {
        const db = await new Promise((resolve, reject) => {
          const r = indexedDB.open("fieldseal-demo");
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        const item = await new Promise((resolve, reject) => {
          const r = db.transaction("items").objectStore("items").get(key);
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        db.close();
        // Uint8Array does not survive page.evaluate's JSON: send bytes as arrays.
        return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.B ? { B: Array.from(v.B) } : v]));
      }, INPUT.embedded.values.order_id).then((item) =>
        Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.B ? { B: Uint8Array.from(v.B) } : v]))));
    assertNoPlaintext(await readStored(), "embedded", "IndexedDB");
    await screenshot("embedded-opened");
    await tamperAndRestore("embedded", readStored);
  });

  test("KMS multi-Region: seal with the us-east-1 key, PutItem, GetItem, open in eu-west-1 (replica, discovery), tamper detected", async () => {
    await page.check("input[name=provider][value=kms]");
    await page.waitForFunction(() => document.body.dataset.mode === "kms" && !document.body.dataset.busy, null, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.last), "provider:ok");
    const { keyArns, table } = demo.config.kms;
    assert.equal(await page.innerText("#kms-seal-arn"), keyArns["us-east-1"]);
    const calls = kmsCalls;

    await sealUploadOpen("kms");
    // Seal: one GenerateDataKey per item and per SQL row, in us-east-1; Upload: one more (the plug-in seals the
    // plaintext item itself); open: one Decrypt, in eu-west-1.
    assert.deepEqual(await calls(), { "us-east-1": { GenerateDataKey: 3, Decrypt: 0 }, "eu-west-1": { GenerateDataKey: 0, Decrypt: 1 } });
    assert.match(await page.innerText("#opened"), /Opened: .*GetItem through the fieldseal\/dynamodb plug-in/);
    assert.match(await page.innerText("#kms-answer"), new RegExp(`Decrypt in eu-west-1 by ${keyArns["eu-west-1"]}`));

    await page.selectOption("#open-with", "discovery");
    assert.equal(await act("#open"), "open:ok");
    assert.deepEqual(await openedValues(), INPUT.kms.values);
    assert.deepEqual(await calls(), { "us-east-1": { GenerateDataKey: 3, Decrypt: 0 }, "eu-west-1": { GenerateDataKey: 0, Decrypt: 2 } });
    await page.selectOption("#open-with", "replica");

    const readStored = async () => {
      const { Item } = await ddb.send(new GetItemCommand({ TableName: table.name, Key: { order_id: { S: INPUT.kms.values.order_id } }, ConsistentRead: true }));
      assert.ok(Item, "the item is not in DynamoDB");
      return storedView(Item);
    };
    assertNoPlaintext(await readStored(), "kms", "DynamoDB");
    await screenshot("kms-opened");
    await tamperAndRestore("kms", readStored);
    const final = await calls();
    assert.equal(final["us-east-1"].Decrypt, 0, "opening called KMS in us-east-1");
  });

  test("KMS hierarchical keyring: branch key created on first use, seal, open, tamper; 1,000 items with flat KMS and key store calls", async () => {
    assert.equal(await page.evaluate(() => document.body.dataset.mode), "kms");
    const { keyArns, keyStore, table } = demo.config.kms;
    const home = keyArns["us-east-1"];
    const readKeyStore = async (id, type) =>
      (await ddb.send(new GetItemCommand({ TableName: keyStore.table, Key: { "branch-key-id": { S: id }, type: { S: type } }, ConsistentRead: true }))).Item;

    // First use: the page creates a branch key in the store (the table itself comes from the stack).
    let kms0 = await kmsCalls();
    let store0 = await storeCalls();
    assert.equal(await act("#kms-keyring", () => page.selectOption("#kms-keyring", "hierarchy")), "keyring:ok");
    assert.equal(await page.evaluate(() => document.body.dataset.keyring), "hierarchy");
    assert.equal(await page.isVisible("#hierarchy-details"), true);
    assert.equal(await page.isVisible("#mrk-details"), false);
    const branchKeyId = await page.innerText("#branch-key-id");
    assert.match(branchKeyId, UUID_V4);
    assert.match(await page.innerText("#branch-key-note"), /created in the store by this page on first use/);
    assert.equal(await page.innerText("#key-store-arn"), home);
    assert.equal(await page.innerText("#key-store-table"), `DynamoDB ${keyStore.table} (us-east-1)`);
    assert.match(await page.innerText("#hierarchy-details .explain"), /once per branch key version and per ttlSeconds \(here 600/);
    // createKeyStore on the existing table: one DescribeTable; createKey: one transaction, and the official KMS calls.
    assert.deepEqual(storeDelta(store0, await storeCalls()), { DescribeTable: 1, TransactWriteItems: 1 });
    assert.deepEqual(kmsDelta(kms0, await kmsCalls()), { "us-east-1": { GenerateDataKeyWithoutPlaintext: 2, ReEncrypt: 1 } });
    assert.match(await page.innerText("#timings tr:first-child"), /Branch key store: createKeyStore \+ createKey \(first use\)\s+KMS hierarchy/);
    const active = await readKeyStore(branchKeyId, "branch:ACTIVE");
    assert.ok(active, "no branch:ACTIVE item in the key store table");
    assert.equal(active["kms-arn"].S, home);
    assert.ok(await readKeyStore(branchKeyId, "beacon:ACTIVE"), "no beacon:ACTIVE item in the key store table");
    const version = active.version.S.replace(/^branch:version:/, "");
    assert.ok(await readKeyStore(branchKeyId, `branch:version:${version}`), "no version item in the key store table");

    // Seal (item + SQL row), upload, open: one branch key load to seal (the active version), one to open (the item's version).
    kms0 = await kmsCalls();
    store0 = await storeCalls();
    await sealUploadOpen("hierarchy");
    assert.deepEqual(kmsDelta(kms0, await kmsCalls()), { "us-east-1": { Decrypt: 2 } }, "KMS calls to seal an item and a row and open the item");
    assert.deepEqual(storeDelta(store0, await storeCalls()), { GetItem: 2 });
    assert.match(await page.innerText("#store-answer"), new RegExp(`GetItem branch:version:${version} of branch key ${branchKeyId}`));
    assert.match(await page.innerText("#opened"), new RegExp(`Opened: .*hierarchical keyring, branch key ${branchKeyId}`));
    const keyUse = await page.innerText("#key-use");
    assert.match(keyUse, new RegExp(`decrypt ${INPUT.hierarchy.values.order_id} · aws-kms-hierarchy ${branchKeyId} version ${version}`));

    const readStored = async () => {
      const { Item } = await ddb.send(new GetItemCommand({ TableName: table.name, Key: { order_id: { S: INPUT.hierarchy.values.order_id } }, ConsistentRead: true }));
      assert.ok(Item, "the item is not in DynamoDB");
      return storedView(Item);
    };
    const stored = await readStored();
    assertNoPlaintext(stored, "hierarchy", "DynamoDB");
    const header = Buffer.from(stored.aws_dbe_head.bytes);
    assert.ok(header.includes(Buffer.from("aws-kms-hierarchy")), "the header names no hierarchical keyring");
    assert.ok(header.includes(Buffer.from(branchKeyId)), "the header does not name the branch key");

    // Within the TTL, opening again (and Tamper, and Upload) reads neither KMS nor the store.
    kms0 = await kmsCalls();
    store0 = await storeCalls();
    assert.equal(await act("#open"), "open:ok");
    assert.match(await page.innerText("#key-use"), /\(from the cache\)/);
    await screenshot("hierarchy-opened");
    await tamperAndRestore("hierarchy", readStored);
    assert.deepEqual(kmsDelta(kms0, await kmsCalls()), {}, "KMS called within the TTL");
    assert.deepEqual(storeDelta(store0, await storeCalls()), {}, "key store read within the TTL");

    // The throughput run: raw AES, then a new hierarchical keyring (empty cache), 1,000 items each.
    await page.fill("#bench-count", "1000");
    assert.match(await page.innerText("#bench-hint"), /new hierarchical keyring/);
    kms0 = await kmsCalls();
    store0 = await storeCalls();
    assert.equal(await act("#bench"), "bench:ok");
    assert.equal(await page.getAttribute("#chart", "data-items"), "1000");
    const bars = await page.$$eval("#chart svg rect[data-keyring]", (rects) => rects.map((r) => `${r.dataset.keyring} ${r.dataset.op} ${Number(r.getAttribute("width")) > 0}`));
    assert.deepEqual(bars, ["raw-aes encrypt true", "raw-aes decrypt true", "hierarchy encrypt true", "hierarchy decrypt true"]);
    const phases = await page.$$eval("#run-calls-table tbody tr", (rows) => rows.map((r) => {
      const cell = (name) => r.querySelector(`td[data-count=${name}]`);
      return {
        phase: r.dataset.phase,
        items: Number(cell("items").textContent.replaceAll(",", "")),
        kms: Number(cell("kms").textContent),
        getItem: Number(cell("getItem").textContent),
        firstKms: Number(cell("first").dataset.kms),
        firstGetItem: Number(cell("first").dataset.getItem),
        cacheHits: cell("cacheHits").textContent,
      };
    }));
    assert.deepEqual(phases.map((p) => p.phase), ["seal", "open"]);
    for (const p of phases) {
      assert.equal(p.items, 1000, `${p.phase}: items`);
      // Flat: one branch key load in the first batch of 50, none in the 950 items after it.
      assert.equal(p.kms, 1, `${p.phase}: KMS calls for 1,000 items`);
      assert.equal(p.getItem, 1, `${p.phase}: key store GetItem calls for 1,000 items`);
      assert.equal(p.firstKms, p.kms, `${p.phase}: KMS called after the first batch`);
      assert.equal(p.firstGetItem, p.getItem, `${p.phase}: key store read after the first batch`);
      const [hits, of] = p.cacheHits.split(" of ").map((x) => Number(x.replaceAll(",", "")));
      assert.equal(of, 1000, `${p.phase}: onKeyUse events`);
      assert.ok(hits >= 950, `${p.phase}: only ${hits} of 1,000 items had their branch key from the cache`);
    }
    // The page's totals agree: two KMS Decrypts (no GenerateDataKey) and two GetItems for 2,000 items.
    assert.deepEqual(kmsDelta(kms0, await kmsCalls()), { "us-east-1": { Decrypt: 2 } });
    assert.deepEqual(storeDelta(store0, await storeCalls()), { GetItem: 2 });
    assert.deepEqual(await page.$$eval("#run-calls svg path[data-series]", (paths) => paths.map((p) => p.dataset.series)), ["kms", "getItem"]);
    const timings = await page.$$eval("#timings tr", (rows) => rows.slice(0, 3).map((r) => [...r.cells].map((c) => c.textContent)));
    assert.deepEqual(timings.map(([op, provider, , calls]) => [op, provider, calls]), [
      ["Throughput hierarchical: open 1000 items", "KMS hierarchy", "GetItem key store, Decrypt us-east-1"],
      ["Throughput hierarchical: seal 1000 items", "KMS hierarchy", "GetItem key store, Decrypt us-east-1"],
      ["Throughput raw AES (1000 sealed + opened)", "embedded", "none"],
    ]);
    await page.evaluate(() => document.querySelector("#timings-card").scrollIntoView());
    await page.locator("#timings-card").screenshot({ path: join(artifacts, "hierarchy-timings.png") });
    await page.locator("#bench-card").screenshot({ path: join(artifacts, "hierarchy-throughput.png") });
    await page.locator("#provider-card").screenshot({ path: join(artifacts, "hierarchy-provider.png") });
    assert.deepEqual([...new Set(await errorCodes())], ["INTEGRITY_FAILURE"], "errors other than Tamper's in the error panel");
    noProblems();

    // Back to the multi-Region keyring: it seals and opens as before, the key store is not read.
    store0 = await storeCalls();
    assert.equal(await act("#kms-keyring", () => page.selectOption("#kms-keyring", "mrk")), "keyring:ok");
    assert.equal(await page.isVisible("#mrk-details"), true);
    kms0 = await kmsCalls();
    await sealUploadOpen("kms");
    assert.deepEqual(kmsDelta(kms0, await kmsCalls()), { "us-east-1": { GenerateDataKey: 3 }, "eu-west-1": { Decrypt: 1 } });
    assert.deepEqual(storeDelta(store0, await storeCalls()), {});
  });

  test("search: orders with beacons through the plug-in, found through GSIs; typed value, beacon on the wire, opened results", async () => {
    const { search } = demo.config.kms;
    assert.equal(await page.getAttribute("#search-card", "data-available"), "true");
    assert.equal(await page.innerText("#search-key"), search.branchKeyId);
    assert.equal(await act("#search-seed"), "search-seed:ok");
    assert.equal(await page.$$eval("#search-orders tbody tr", (rows) => rows.length), 24);

    // What DynamoDB stores (read from Node, no plug-in): sealed orders with their beacons.
    const scan = async () => {
      const items = [];
      let ExclusiveStartKey;
      do {
        const page = await ddb.send(new ScanCommand({ TableName: search.table, ExclusiveStartKey }));
        items.push(...page.Items);
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return items;
    };
    const stored = await scan();
    assert.equal(stored.length, 24);
    const shown = Object.fromEntries(await page.$$eval("#search-orders tbody tr", (rows) => rows.map((r) => [r.dataset.order, { ...r.dataset }])));
    for (const item of stored) {
      const id = item.order_id.S;
      for (const name of ["customer_name", "email", "card_number", "address"]) assert.ok(item[name].B, `${id}: ${name} is not sealed`);
      assert.match(item.aws_dbe_b_email.S, /^[0-7]$/, `${id}: aws_dbe_b_email is not a 3-bit beacon`);
      assert.match(item.aws_dbe_b_card_status.S, new RegExp(`^L-[0-3]\\.S-${item.status.S}$`), `${id}: aws_dbe_b_card_status`);
      assert.equal(item.aws_dbe_b_card_last4, undefined, `${id}: the partOnly beacon was stored`);
      assert.deepEqual([shown[id].emailBeacon, shown[id].cardBeacon], [item.aws_dbe_b_email.S, item.aws_dbe_b_card_status.S], `${id}: the page's beacons are not the stored ones`);
    }
    // The page's sample orders, as the table shows them (plaintext: the page put them).
    const orders = Object.fromEntries(Object.entries(shown).map(([id, o]) => [id, { email: o.email, last4: o.last4, status: o.status }]));
    const beaconOf = Object.fromEntries(stored.map((item) => [item.order_id.S, { email: item.aws_dbe_b_email.S, card: item.aws_dbe_b_card_status.S }]));

    /** Search; check the three columns against what is stored. */
    async function searchFor(kind, fill, matches) {
      await page.selectOption("#search-kind", kind);
      await fill();
      assert.equal(await act("#search"), "search:ok");
      const box = await page.$eval("#search-result", (el) => ({ ...el.dataset }));
      const key = kind === "email" ? "email" : "card";
      const wanted = Object.keys(orders).filter(matches).sort();
      assert.ok(wanted.length > 0, "the search should match an order");
      const beacon = beaconOf[wanted[0]][key];
      const sameBeacon = Object.keys(beaconOf).filter((id) => beaconOf[id][key] === beacon).sort();
      assert.equal(box.kind, kind);
      assert.equal(box.beacon, beacon, "the beacon on the wire is not the stored one");
      assert.equal(Number(box.returned), sameBeacon.length, "DynamoDB returned other than every order with the beacon");
      assert.equal(Number(box.kept), wanted.length);
      assert.equal(Number(box.dropped), sameBeacon.length - wanted.length);
      const wire = await page.$$eval("#search-wire tr[data-order]", (rows) => rows.map((r) => [r.dataset.order, r.dataset.kept]));
      assert.deepEqual(wire.map(([id]) => id).sort(), sameBeacon);
      for (const [id, kept] of wire) assert.equal(kept, String(wanted.includes(id)), `${id}: kept`);
      assert.deepEqual((await page.$$eval("#search-opened tr[data-order]", (rows) => rows.map((r) => r.dataset.order))).sort(), wanted);
      assert.ok((await page.innerText("#search-typed")).includes(box.typed), "the typed value is not shown");
      const wireText = await page.innerText("#search-wire");
      assert.match(wireText, new RegExp(`aws_dbe_b_${kind}`), "the rewritten attribute name is not shown");
      return { box, wireText, sameBeacon, wanted };
    }

    // An email whose beacon another email shares (12 emails, 8 values: there is one).
    const groupBy = (ids, key) => ids.reduce((groups, id) => ({ ...groups, [key(id)]: [...(groups[key(id)] ?? []), id] }), {});
    const byEmailBeacon = groupBy(Object.keys(orders), (id) => beaconOf[id].email);
    const shared = Object.values(byEmailBeacon).find((ids) => new Set(ids.map((id) => orders[id].email)).size > 1);
    assert.ok(shared, "no two emails share a 3-bit beacon among 12");
    const email = orders[shared[0]].email;
    const bySearch = await searchFor("email", () => page.fill("#search-email", email), (id) => orders[id].email === email);
    assert.equal(bySearch.box.typed, email);
    assert.ok(Number(bySearch.box.dropped) >= 2, "the other customer's orders were not returned as false positives");
    assert.ok(!bySearch.wireText.includes(email), "DynamoDB saw the email");
    assert.match(await page.innerText("#search-opened"), /false positives? dropped/);
    await page.locator("#search-card").screenshot({ path: join(artifacts, "search-email.png") });

    // A card (last 4 digits + status) whose compound beacon another card shares (6 cards a status, 4 values).
    const byCardBeacon = groupBy(Object.keys(orders), (id) => beaconOf[id].card);
    const sharedCard = Object.values(byCardBeacon).find((ids) => new Set(ids.map((id) => orders[id].last4)).size > 1);
    assert.ok(sharedCard, "no two cards of a status share a 2-bit beacon");
    const { last4, status } = orders[sharedCard[0]];
    const byCard = await searchFor("card_status", async () => {
      await page.fill("#search-last4", last4);
      await page.selectOption("#search-status", status);
    }, (id) => orders[id].last4 === last4 && orders[id].status === status);
    assert.equal(byCard.box.typed, `L-${last4}.S-${status}`);
    assert.match(byCard.box.beacon, new RegExp(`^L-[0-3]\\.S-${status}$`));
    assert.ok(Number(byCard.box.dropped) >= 1, "no false positive for a shared compound beacon");
    await page.locator("#search-card").screenshot({ path: join(artifacts, "search-card.png") });

    // The keys were read once: searching again makes no KMS or key store call.
    const calls = await page.innerText("#search-calls");
    assert.match(calls, /GetItem key store beacon:ACTIVE/);
    assert.equal(await act("#search"), "search:ok");
    assert.equal(await page.innerText("#search-calls"), calls, "a second search read a key again");

    // The form's order (the KMS test's values) goes in with a status, and is found by its email.
    const { values } = INPUT.kms;
    await page.selectOption("#search-add-status", "paid");
    assert.equal(await act("#search-add"), "search-add:ok");
    const { Item: added } = await ddb.send(new GetItemCommand({ TableName: search.table, Key: { order_id: { S: values.order_id } }, ConsistentRead: true }));
    assert.ok(added?.aws_dbe_b_email && added.email.B, "the form's order is not stored sealed with its beacons");
    assert.match(added.aws_dbe_b_card_status.S, /^L-[0-3]\.S-paid$/);
    const resolved = await page.innerText(`#search-orders tr[data-order="${values.order_id}"]`);
    assert.ok(resolved.includes(`card_status = L-${values.card_number.slice(-4)}.S-paid`), `resolveAttributes: ${resolved}`);
    orders[values.order_id] = { email: values.email, last4: values.card_number.slice(-4), status: "paid" };
    beaconOf[values.order_id] = { email: added.aws_dbe_b_email.S, card: added.aws_dbe_b_card_status.S };
    await searchFor("email", () => page.fill("#search-email", values.email), (id) => orders[id].email === values.email);
    assert.deepEqual([...new Set(await errorCodes())], ["INTEGRITY_FAILURE"], "errors other than Tamper's in the error panel");
    noProblems();
  });

  test("throughput chart: both suites", async () => {
    await page.fill("#bench-count", "100");
    assert.equal(await act("#bench"), "bench:ok");
    assert.equal(await page.getAttribute("#chart", "data-items"), "100");
    const bars = await page.$$eval("#chart svg rect[data-suite]", (rects) => rects.map((r) => `${r.dataset.suite} ${r.dataset.op} ${Number(r.getAttribute("width")) > 0}`));
    assert.deepEqual(bars, ["0x6700 encrypt true", "0x6700 decrypt true", "0x6701 encrypt true", "0x6701 decrypt true"]);
    await page.evaluate(() => document.querySelector("#bench-card").scrollIntoView());
    await page.screenshot({ path: join(artifacts, "throughput.png") });
    await screenshot("full-page");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifacts, "narrow.png") });
    await page.locator("#sealed-card").screenshot({ path: join(artifacts, "narrow-sealed.png") });
    noProblems();
  });

  test("no console errors, page errors, failed requests, or Vite errors", (t) => {
    for (const w of warnings) t.diagnostic(w);
    for (const m of logger.messages) t.diagnostic(`vite ${m.level}: ${m.msg}`);
    noProblems();
    assert.deepEqual(logger.messages.filter((m) => m.level === "error"), []);
  });
});
