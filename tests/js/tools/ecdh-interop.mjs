// The npm package's half of the ECDH keyring interop (tests/interop/tests/ecdh.rs,
// raw ECDH, and tests/interop/tests/kms_ecdh.rs, KMS ECDH on the moto it
// starts): the Rust test seals items with the official aws-db-esdk, runs this
// once for every case, and opens this tool's items with the official keyrings.
// As an app would: RawEcdhKeyring from "fieldseal" (its agreements by
// WebCrypto's deriveBits, which is counted here) and AwsKmsEcdhKeyring from
// "fieldseal/kms" over @aws-sdk/client-kms KMSClients pointed at that moto
// (every command they send counted by a middleware).
//
//   node tests/js/tools/ecdh-interop.mjs IN.json OUT.json
//
// IN.json (items in typed DynamoDB JSON: B as base64, N as a string):
//   { endpoint?, region?, accessKeyId?, secretAccessKey?   (KMS cases only)
//     cases: [CASE] }
//   CASE = { label, op: "seal" | "open", config: <ItemEncryptor config without keyring>,
//            keyring: { type: "raw" | "kms", curve, scheme }, item }
//   scheme: the package's own option object; a value { base64: "..." } becomes
//   its bytes (DER public keys), a string stays a string (PEM private keys).
//   Each case builds a fresh keyring, so its counts include the keyring's setup.
// OUT.json: { webCrypto: { deriveBitsCalls }, results: [RESULT] }, in input order,
//   RESULT = { label, ok, why?, code? (FieldsealError), item?, kmsCalls: ["Op", ...],
//   deriveBits: WebCrypto deriveBits calls during the case }.
//
// Exits 1 if a case fails (a refusal the test expects is a failure here too:
// the Rust side decides), 2 on bad usage.
import { readFileSync, writeFileSync } from "node:fs";
import { KMSClient } from "@aws-sdk/client-kms";
import { ItemEncryptor, RawEcdhKeyring } from "fieldseal";
import { AwsKmsEcdhKeyring } from "fieldseal/kms";

import { itemFromJson, itemToJson, parseJson } from "../helpers/manifest.mjs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: ecdh-interop.mjs IN.json OUT.json");
  process.exit(2);
}
const request = parseJson(readFileSync(input, "utf8"));

// WebCrypto's deriveBits, counted: the package looks the method up on
// crypto.subtle at each call (wasm/src/webcrypto.rs), as tests/js/ecdh.test.mjs
// relies on too.
const subtle = globalThis.crypto?.subtle;
let deriveBitsCalls = 0;
if (subtle) {
  const deriveBits = subtle.deriveBits;
  subtle.deriveBits = function (...args) {
    deriveBitsCalls++;
    return deriveBits.apply(this, args);
  };
}

/** A clientProvider whose KMSClients (at the test's moto) record every command. */
function countingProvider() {
  const calls = [];
  const credentials = { accessKeyId: request.accessKeyId, secretAccessKey: request.secretAccessKey };
  const provider = (region) => {
    const client = new KMSClient({ region, endpoint: request.endpoint, credentials, maxAttempts: 1 });
    client.middlewareStack.add(
      (next, context) => (args) => {
        calls.push(context.commandName.replace(/Command$/, ""));
        return next(args);
      },
      { step: "initialize", name: "fieldsealInteropCountCommands" },
    );
    return client;
  };
  return { provider, calls };
}

/** The scheme with every { base64 } turned into its bytes. */
function decodeKeys(value) {
  if (value && typeof value === "object") {
    if (typeof value.base64 === "string" && Object.keys(value).length === 1) {
      return new Uint8Array(Buffer.from(value.base64, "base64"));
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeKeys(v)]));
  }
  return value;
}

function keyring({ type, curve, scheme }, provider) {
  if (type === "raw") return new RawEcdhKeyring({ curve, scheme: decodeKeys(scheme) });
  if (type === "kms") return new AwsKmsEcdhKeyring({ curve, scheme: decodeKeys(scheme), clientProvider: provider });
  throw new Error(`unknown keyring type ${type}`);
}

async function run(c, calls, provider) {
  const encryptor = new ItemEncryptor({ ...c.config, keyring: keyring(c.keyring, provider) });
  if (c.op === "seal") return { item: itemToJson(await encryptor.encryptItem(itemFromJson(c.item))) };
  if (c.op === "open") return { item: itemToJson(await encryptor.decryptItem(itemFromJson(c.item))) };
  throw new Error(`unknown op ${c.op}`);
}

const results = [];
let failed = 0;
for (const c of request.cases) {
  const { provider, calls } = countingProvider();
  const before = deriveBitsCalls;
  const counts = () => ({ kmsCalls: calls, deriveBits: deriveBitsCalls - before });
  try {
    const out = await run(c, calls, provider);
    results.push({ label: c.label, ok: true, ...out, ...counts() });
  } catch (e) {
    failed++;
    results.push({ label: c.label, ok: false, why: `${e.code ?? e.name}: ${e.message}`, code: e.code ?? null, ...counts() });
  }
}
writeFileSync(output, JSON.stringify({ webCrypto: { present: !!subtle, deriveBitsCalls }, results }, null, 1));
process.exit(failed ? 1 : 0);
