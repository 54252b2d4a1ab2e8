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
// - the stored item (IndexedDB through page.evaluate in embedded mode, the
//   DynamoDB API from Node in KMS mode) has aws_dbe_head/aws_dbe_foot, every
//   ENCRYPT_AND_SIGN attribute as binary, and no plaintext of any of them;
// - Tamper changes one byte of the stored item, and Load & open then fails
//   with INTEGRITY_FAILURE, shown in the page (opened panel, error panel);
//   uploading again restores it;
// - KMS mode seals with GenerateDataKey in us-east-1 and opens with Decrypt
//   in eu-west-1 only (replica and discovery keyrings).
// Then the throughput chart renders for both suites. Any console error, page
// error, failed request or HTTP error fails. Screenshots go to artifacts/demo/.
//
// Skipped with a note when Chromium is missing, unless CI is set.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";

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

describe("demo page (www/) end to end: embedded key and KMS multi-Region modes", { skip, timeout: 120_000 }, () => {
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
    console.log(`demo e2e run time: ${((performance.now() - t0) / 1000).toFixed(1)} s (both modes, startup included)`);
  });

  /** Click a button and wait for its operation to finish; returns "op:ok" or "op:error". */
  async function act(selector) {
    const before = await page.evaluate(() => Number(document.body.dataset.ops ?? 0));
    await page.click(selector);
    await page.waitForFunction((n) => Number(document.body.dataset.ops ?? 0) > n && !document.body.dataset.busy, before, { timeout: 60_000 });
    return page.evaluate(() => document.body.dataset.last);
  }

  async function screenshot(name) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  }

  const errorCodes = () => page.$$eval("#error-list li", (lis) => lis.map((li) => li.dataset.code));
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

    assert.equal(await act("#upload"), "upload:ok");
    assert.equal(await act("#open"), "open:ok");
    assert.equal(await page.getAttribute("#opened", "data-state"), "opened");
    assert.deepEqual(await openedValues(), values, "the opened values are not the values entered");
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
    const calls = () =>
      page.$$eval("#kms-calls tbody tr", (rows) =>
        Object.fromEntries(rows.map((r) => [r.dataset.region, Object.fromEntries([...r.querySelectorAll("td")].map((td) => [td.dataset.op, Number(td.textContent)]))])));

    await sealUploadOpen("kms");
    // Seal: one GenerateDataKey per item and per SQL row, in us-east-1; open: one Decrypt, in eu-west-1.
    assert.deepEqual(await calls(), { "us-east-1": { GenerateDataKey: 2, Decrypt: 0 }, "eu-west-1": { GenerateDataKey: 0, Decrypt: 1 } });
    assert.match(await page.innerText("#kms-answer"), new RegExp(`Decrypt in eu-west-1 by ${keyArns["eu-west-1"]}`));

    await page.selectOption("#open-with", "discovery");
    assert.equal(await act("#open"), "open:ok");
    assert.deepEqual(await openedValues(), INPUT.kms.values);
    assert.deepEqual(await calls(), { "us-east-1": { GenerateDataKey: 2, Decrypt: 0 }, "eu-west-1": { GenerateDataKey: 0, Decrypt: 2 } });
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
