// An app without the optional peer dependencies (@aws-sdk/client-kms,
// @aws-sdk/client-dynamodb, pg): the package as npm publishes it, copied into
// an app in a temporary folder whose node_modules holds nothing else, so no
// import can reach this workspace's copies. "fieldseal", "fieldseal/kms" and
// "fieldseal/sql" load (pkg/README: the peers are imported on first use;
// "fieldseal/dynamodb" is the plug-in for @aws-sdk/client-dynamodb and
// imports it); sealing with a KMS RSA public key needs no SDK; the first call
// that needs a missing package fails with a FieldsealError that names it, and
// sends nothing.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { copyAsPublished, repoRoot } from "./helpers/common.mjs";

const KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/aaaa1111-12ab-34cd-56ef-1234567890ab";

// Runs in the app: prints one JSON line of what happened.
const APP_SCRIPT = `
import { FieldsealError, ItemEncryptor } from "fieldseal";
import { AwsKmsKeyring, AwsKmsRsaKeyring, KeyStore } from "fieldseal/kms";
const sql = await import("fieldseal/sql");

const [kmsKeyId, publicKeyPem] = process.argv.slice(2);
const encryptor = (keyring) => new ItemEncryptor({
  logicalTableName: "Orders",
  partitionKeyName: "pk",
  attributeActionsOnEncrypt: { pk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN" },
  algorithmSuiteId: "0x6700",
  keyring,
});
const item = { pk: { S: "order#1" }, card: { S: "4111 1111 1111 1111" } };
let sends = 0;
const client = { send: async () => { sends++; throw new Error("sent"); } };
const failure = async (action) => {
  try {
    await action();
    return { resolved: true };
  } catch (e) {
    return { name: e?.name, code: e?.code, message: e?.message, fieldseal: e instanceof FieldsealError };
  }
};
const resolvable = (name) => { try { import.meta.resolve(name); return true; } catch { return false; } };

const sealed = await encryptor(new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm: "RSAES_OAEP_SHA_256", publicKeyPem })).encryptItem(item);
const out = {
  sqlLoaded: typeof sql.defineSealedTable === "function",
  sdkResolvable: ["@aws-sdk/client-kms", "@aws-sdk/client-dynamodb", "pg"].filter(resolvable),
  sealedWithPem: sealed.card?.B instanceof Uint8Array && sealed.aws_dbe_head?.B instanceof Uint8Array,
  rsaOpen: await failure(() => encryptor(new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm: "RSAES_OAEP_SHA_256", clientProvider: () => client })).decryptItem(sealed)),
  kmsSeal: await failure(() => encryptor(new AwsKmsKeyring({ kmsKeyId, clientProvider: () => client })).encryptItem(item)),
  keyStore: await failure(() => new KeyStore({
    ddbTableName: "KeyStore", logicalKeyStoreName: "KeyStore",
    kmsConfiguration: { kmsKeyArn: kmsKeyId }, ddbClient: client, kmsClient: client,
  }).createKeyStore()),
};
out.sends = sends;
console.log(JSON.stringify(out));
`;

let app;
before(async () => {
  app = await mkdtemp(join(tmpdir(), "fieldseal-no-peers-"));
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module", dependencies: { fieldseal: "*" } }));
  await copyAsPublished(join(repoRoot, "pkg"), join(app, "node_modules/fieldseal"));
  await writeFile(join(app, "main.mjs"), APP_SCRIPT);
});
after(() => rm(app, { recursive: true, force: true }));

test("an app without the optional peers: fieldseal loads, seals with a KMS public key, and names the missing package", (t) => {
  const publicKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" });
  const env = { ...process.env };
  delete env.NODE_PATH;
  const run = spawnSync(process.execPath, ["main.mjs", KEY_ARN, publicKeyPem], { cwd: app, env, encoding: "utf8" });
  assert.equal(run.status, 0, `the app failed:\n${run.stderr}`);
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1));

  assert.deepEqual(out.sdkResolvable, [], "the app must not reach the workspace's copies of the peers");
  assert.equal(out.sqlLoaded, true, "fieldseal/sql loads without pg");
  assert.equal(out.sealedWithPem, true, "sealing with only a PEM needs no AWS SDK");
  const kms = /KMS calls need @aws-sdk\/client-kms v3, which could not be loaded/;
  for (const [label, failure, code, expected] of [
    ["AwsKmsRsaKeyring decrypt", out.rsaOpen, "KEY_PROVIDER_FAILURE", kms],
    ["AwsKmsKeyring encrypt", out.kmsSeal, "KEY_PROVIDER_FAILURE", kms],
    ["KeyStore createKeyStore", out.keyStore, "KEY_STORE_FAILURE", /the key store needs @aws-sdk\/client-dynamodb v3, which could not be loaded/],
  ]) {
    assert.equal(failure.resolved, undefined, `${label} succeeded without its peer`);
    assert.equal(failure.fieldseal, true, `${label}: not a FieldsealError: ${failure.name}: ${failure.message}`);
    assert.equal(failure.code, code, `${label}: ${failure.message}`);
    assert.match(failure.message, expected, `${label}: ${failure.code}: ${failure.message}`);
    t.diagnostic(`${label}: ${failure.code}: ${failure.message}`);
  }
  assert.equal(out.sends, 0, "nothing may be sent when the SDK that builds the command is missing");
});
