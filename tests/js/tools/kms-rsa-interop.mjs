// The npm package's half of the KMS RSA keyring interop
// (tests/interop/tests/kms_rsa.rs, which starts moto, creates the RSA keys,
// seals items with the official aws-db-esdk's KMS RSA keyring, runs this while
// moto is up, and opens this tool's items with the official keyring).
// As an app would: getPublicKeyPem and AwsKmsRsaKeyring from "fieldseal/kms"
// over @aws-sdk/client-kms pointed at that moto. Every KMS command is counted.
//
//   node tests/js/tools/kms-rsa-interop.mjs IN.json OUT.json
//
// IN.json (items in typed DynamoDB JSON: B as base64, N as a string):
//   { endpoint, region, accessKeyId, secretAccessKey,
//     config: <ItemEncryptor config without keyring>,
//     cases: [CASE] }
//   CASE = { label, op: "seal", kmsKeyArn, encryptionAlgorithm, item }
//            getPublicKeyPem, then a keyring with ONLY that PEM (no clientProvider) seals;
//        | { label, op: "open", kmsKeyArn, encryptionAlgorithm, item }
//            a keyring with ONLY a clientProvider opens.
// OUT.json: { results: [RESULT] }, in input order, RESULT = { label, ok, why, item,
//   fetchCalls (seal: the commands getPublicKeyPem sent), kmsCalls (the commands sent while
//   sealing or opening, as "Op EncryptionAlgorithm?") }. A failed case has `code` (FieldsealError).
//
// Exits 1 if a case fails, 2 on bad usage.
import { readFileSync, writeFileSync } from "node:fs";
import { KMSClient } from "@aws-sdk/client-kms";
import { ItemEncryptor } from "fieldseal";
import { AwsKmsRsaKeyring, getPublicKeyPem } from "fieldseal/kms";

import { itemFromJson, itemToJson, parseJson } from "../helpers/manifest.mjs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: kms-rsa-interop.mjs IN.json OUT.json");
  process.exit(2);
}
const request = parseJson(readFileSync(input, "utf8"));
const { endpoint, config } = request;
const credentials = { accessKeyId: request.accessKeyId, secretAccessKey: request.secretAccessKey };

/** A clientProvider whose clients record every command they send. */
function countingProvider() {
  const calls = [];
  const provider = (region) => {
    const client = new KMSClient({ region, endpoint, credentials, maxAttempts: 1 });
    const send = client.send.bind(client);
    client.send = (command, ...rest) => {
      const name = command.constructor.name.replace(/Command$/, "");
      calls.push([name, command.input.EncryptionAlgorithm].filter(Boolean).join(" "));
      return send(command, ...rest);
    };
    return client;
  };
  return { provider, calls };
}

const encryptor = (keyring) => new ItemEncryptor({ ...config, keyring });

async function run({ op, kmsKeyArn: kmsKeyId, encryptionAlgorithm, item }) {
  if (op === "seal") {
    const fetcher = countingProvider();
    const publicKeyPem = await getPublicKeyPem({ kmsKeyId, clientProvider: fetcher.provider });
    const fetchCalls = fetcher.calls.splice(0);
    const keyring = new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm, publicKeyPem });
    const sealed = await encryptor(keyring).encryptItem(itemFromJson(item));
    return { item: itemToJson(sealed), fetchCalls, kmsCalls: fetcher.calls };
  }
  if (op === "open") {
    const { provider, calls } = countingProvider();
    const keyring = new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm, clientProvider: provider });
    const opened = await encryptor(keyring).decryptItem(itemFromJson(item));
    return { item: itemToJson(opened), kmsCalls: calls };
  }
  throw new Error(`unknown op ${op}`);
}

const results = [];
let failed = 0;
for (const c of request.cases) {
  try {
    results.push({ label: c.label, ok: true, ...(await run(c)) });
  } catch (e) {
    failed++;
    results.push({ label: c.label, ok: false, why: `${e.code ?? e.name}: ${e.message}`, code: e.code ?? null });
  }
}
writeFileSync(output, JSON.stringify({ results }, null, 1));
process.exit(failed ? 1 : 0);
