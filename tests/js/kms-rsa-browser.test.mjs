// The AWS KMS RSA keyring in the browser (issue 17): a Vite-built page
// (tests/js/browser-kms-rsa/) in headless Chromium seals items with
// AwsKmsRsaKeyring given ONLY a key ARN and its public key PEM: no AWS
// credentials, no endpoint, no @aws-sdk import in the page. Node opens each
// item through moto with exactly one KMS Decrypt.
//
// Node creates an RSA_2048 ENCRYPT_DECRYPT key in (patched) moto and fetches
// its PEM with getPublicKeyPem; the private key exists only in moto, so an
// item opens only if KMS really decrypted its EDK. Playwright's request log
// of the page's browser context must hold only the page's own assets (same
// origin, nothing to moto), and never the chunk that holds the lazily
// imported @aws-sdk/client-kms. The page must also get INVALID_CONFIG for
// suite 0x6701. Any console error, page error, failed request or HTTP error fails.
//
// Skipped with a note when Chromium is missing or moto cannot start, unless
// CI is set: then it fails.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { ItemEncryptor } from "fieldseal";
import { AwsKmsRsaKeyring, getPublicKeyPem } from "fieldseal/kms";

import { buildPage, callPage, chromiumPath, launchChromium, openHarnessPage, servePreview } from "./browser/harness.mjs";
import { fromWire, toWire } from "./browser/shared.mjs";
import { ACTIONS, sampleItem } from "./helpers/common.mjs";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());
const root = fileURLToPath(new URL("./browser-kms-rsa/", import.meta.url));

// Started here, not in before(): a missing Chromium or a moto that cannot start skips the suite (loudly) outside CI.
let moto;
let skip = false;
if (!chromiumPath()) {
  skip = `Chromium not found at ${process.env.CHROMIUM_PATH || "/usr/bin/chromium"} (set CHROMIUM_PATH); not skipped when CI is set`;
  if (inCI) throw new Error(skip);
} else {
  try {
    moto = await startMoto();
  } catch (e) {
    if (inCI) throw e;
    skip = `moto could not start (${e.message.split("\n")[0]}); not skipped when CI is set`;
  }
}
if (skip) console.warn(`# SKIP kms-rsa-browser: ${skip}`);

const REGION = "us-east-1";
const ALGORITHMS = ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"];
// Plain data, so that it crosses into the page as it is; the keyring is made on each side.
const CONFIG = {
  logicalTableName: "Orders",
  partitionKeyName: "pk",
  sortKeyName: "sk",
  attributeActionsOnEncrypt: ACTIONS,
  allowedUnsignedAttributePrefix: ":",
};
const ITEMS = [1, 2, 3].map(sampleItem);

/** A clientProvider whose clients (at moto) record every command as { op, region, KeyId, EncryptionAlgorithm, ... }. */
function countingProvider() {
  const calls = [];
  const provider = (region) => {
    const client = new KMSClient({ region, endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    const send = client.send.bind(client);
    client.send = (command, ...rest) => {
      const { KeyId, EncryptionAlgorithm, EncryptionContext, CiphertextBlob } = command.input;
      calls.push({ op: command.constructor.name.replace(/Command$/, ""), region, KeyId, EncryptionAlgorithm, EncryptionContext, blobLength: CiphertextBlob?.length });
      return send(command, ...rest);
    };
    return client;
  };
  return { provider, calls, take: () => calls.splice(0, calls.length) };
}

describe("AWS KMS RSA keyring: seal in headless Chromium with only the PEM, open in Node through moto", { skip, timeout: 180_000 }, () => {
  let built;
  let server;
  let browser;
  let context;
  let page;
  let problems;
  let warnings;
  const requests = []; // every request of the page's browser context, from before navigation on
  let arn;
  let pem;
  const fetched = countingProvider();
  const sealedBy = {}; // algorithm -> page result
  let refused;

  before(async () => {
    const kms = new KMSClient({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS });
    arn = (await kms.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT", Description: "fieldseal page RSA" }))).KeyMetadata.Arn;
    kms.destroy();
    pem = await getPublicKeyPem({ kmsKeyId: arn, clientProvider: fetched.provider });

    built = await buildPage({ root });
    const buildWarnings = built.warnings.filter((w) => !/chunks are larger than/.test(w.msg));
    assert.deepEqual(buildWarnings, [], "vite build of a page importing fieldseal and fieldseal/kms warned");
    server = await servePreview(built.outDir, { root });
    browser = await launchChromium();
    context = await browser.newContext();
    context.on("request", (r) => requests.push(r.url()));
    // openHarnessPage only calls .newPage() on what it is given: a context, so its request log covers the navigation.
    ({ page, problems, warnings } = await openHarnessPage(context, server.url));
    for (const algorithm of ALGORITHMS) {
      sealedBy[algorithm] = await callPage(page, "sealWithPem", arn, algorithm, pem, CONFIG, "0x6700", ITEMS.map(toWire));
    }
    refused = await callPage(page, "sealRefused", arn, "RSAES_OAEP_SHA_256", pem, CONFIG, "0x6701", toWire(ITEMS[0]));
    // Let any request the calls started reach the log before it is checked.
    await page.waitForLoadState("networkidle");
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
    await built?.cleanup().catch(() => {});
  });

  after(async () => {
    await moto?.stop();
  });

  test("Node fetched the PEM with exactly one GetPublicKey; the page got only the ARN and the PEM", () => {
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/);
    assert.deepEqual(fetched.calls.map((c) => [c.op, c.region, c.KeyId]), [["GetPublicKey", REGION, arn]]);
  });

  test("the page's keyring can encrypt but not decrypt, and sealed every item", () => {
    for (const algorithm of ALGORITHMS) {
      const r = sealedBy[algorithm];
      assert.equal(r.canEncrypt, true, algorithm);
      assert.equal(r.canDecrypt, false, algorithm);
      assert.equal(r.sealed.length, ITEMS.length, algorithm);
      for (const [i, wire] of r.sealed.entries()) {
        const sealed = fromWire(wire);
        assert.ok(sealed.aws_dbe_head?.B instanceof Uint8Array, `${algorithm} item ${i}: no aws_dbe_head`);
        assert.ok(sealed.card.B instanceof Uint8Array, `${algorithm} item ${i}: card not encrypted`);
        assert.ok(!Buffer.from(sealed.card.B).includes(Buffer.from(ITEMS[i].card.S)), `${algorithm} item ${i}: card plaintext in the sealed item`);
        assert.deepEqual(sealed.pk, ITEMS[i].pk, "SIGN_ONLY attribute changed");
      }
    }
  });

  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: Node opens each page-sealed item through moto with exactly one Decrypt, plaintext as sent`, async () => {
      const opening = countingProvider();
      const keyring = new AwsKmsRsaKeyring({ kmsKeyId: arn, encryptionAlgorithm: algorithm, clientProvider: opening.provider });
      const enc = new ItemEncryptor({ ...CONFIG, algorithmSuiteId: "0x6700", keyring });
      for (const [i, wire] of sealedBy[algorithm].sealed.entries()) {
        assert.deepEqual(await enc.decryptItem(fromWire(wire)), ITEMS[i], `item ${i}`);
        const calls = opening.take();
        assert.equal(calls.length, 1, `item ${i}: expected one Decrypt, got ${JSON.stringify(calls)}`);
        assert.deepEqual(
          [calls[0].op, calls[0].region, calls[0].KeyId, calls[0].EncryptionAlgorithm, calls[0].EncryptionContext, calls[0].blobLength],
          ["Decrypt", REGION, arn, algorithm, undefined, 256],
        );
      }
    });
  }

  test("the page gets INVALID_CONFIG for suite 0x6701, naming the ARN and 0x6700", () => {
    assert.ok(refused, "the page sealed under 0x6701");
    assert.equal(refused.name, "FieldsealError", refused.message);
    assert.ok(refused.instanceOfFieldsealError, "not an instance of the page's FieldsealError");
    assert.equal(refused.code, "INVALID_CONFIG", refused.message);
    for (const needle of ["0x6701", "0x6700", arn]) assert.ok(refused.message.includes(needle), `${needle} not in ${refused.message}`);
  });

  test("the page requested only its own assets: nothing to moto or any other origin, never the AWS SDK chunk", async () => {
    const origin = new URL(server.url).origin;
    assert.notEqual(new URL(moto.endpoint).origin, origin, "the page and moto are different origins");
    assert.ok(requests.length > 0, "the request log is empty");
    const foreign = requests.filter((u) => !u.startsWith("data:") && new URL(u).origin !== origin);
    assert.deepEqual(foreign, [], "the page made requests outside its own origin");
    assert.ok(!requests.some((u) => u.startsWith(moto.endpoint)), "the page called moto");
    // The chunk(s) holding @aws-sdk/client-kms (KMS's service name is TrentService in every KMS call's X-Amz-Target).
    const assets = join(built.outDir, "assets");
    const sdkChunks = [];
    for (const f of await readdir(assets)) {
      if (f.endsWith(".js") && (await readFile(join(assets, f), "utf8")).includes("TrentService")) sdkChunks.push(f);
    }
    assert.ok(sdkChunks.length > 0, "no built chunk holds the KMS client: the marker is stale, this check proves nothing");
    const pageScripts = requests.filter((u) => u.endsWith(".js")).map((u) => new URL(u).pathname.split("/").pop());
    for (const chunk of sdkChunks) assert.ok(!pageScripts.includes(chunk), `the page loaded the AWS SDK chunk ${chunk}`);
  });

  test("the page reported no console errors, page errors or failed requests", (t) => {
    for (const w of warnings) t.diagnostic(w);
    for (const u of requests) t.diagnostic(`request: ${u}`);
    assert.deepEqual(problems, []);
  });
});
