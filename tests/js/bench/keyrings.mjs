// The keyrings row of the benchmark (issue 17): items/s of sealing and
// opening the reference item under suite 0x6700 with each new keyring, next
// to raw AES-256 (the reference), in Node and in headless Chromium. Runs
// unchanged in both (no Node or DOM APIs but performance.now): the caller
// brings the key material as plain data and the RSA private-key decrypt of
// its runtime (node:crypto in Node, WebCrypto in the page).
//   - raw AES: seal and open with the reference keyring;
//   - RawEcdhKeyring per curve (P-256, P-384, P-521), sealed with the static
//     scheme (sender's private key + recipient's public key) and with the
//     ephemeral scheme (recipient's public key), each opened by the recipient
//     (publicKeyDiscovery with the recipient's private key);
//   - AwsKmsRsaKeyring sealed with the public key PEM only (no client: no KMS
//     call is possible), opened with a clientProvider whose Decrypt is answered
//     in-process by the RSA private key, so there is no network time; its
//     Decrypt calls are counted (expect 1 per item opened) and the time spent
//     answering them (the RSA decryption KMS would do) is reported apart.
// All keyrings of one operation take interleaved turns; each keyring's ratio
// to raw AES is the median over rounds of the ratio of its turn's items/s to
// raw AES's in the same round (quartiles show the machine's noise).
import { makeKeyring, toWire } from "../browser/shared.mjs";

export const CURVES = { ECC_NIST_P256: "P-256", ECC_NIST_P384: "P-384", ECC_NIST_P521: "P-521" };
export const KMS_RSA_ALGORITHM = "RSAES_OAEP_SHA_256";
const REFERENCE = "raw AES";

/** Calls `op` for `seconds` of wall time (at least once): { items, ms }. */
async function timed(op, seconds) {
  const start = performance.now();
  let n = 0;
  let ms;
  do {
    await op();
    n++;
    ms = performance.now() - start;
  } while (ms < seconds * 1000);
  return { items: n, ms };
}

/** Interleaved turns of every op (the order rotating each round) for `seconds`, at least `minRounds` rounds. */
async function interleave(ops, { seconds, turnSeconds, warmupSeconds, minRounds = 3 }) {
  const names = Object.keys(ops);
  for (const name of names) await timed(ops[name], warmupSeconds);
  const sums = Object.fromEntries(names.map((n) => [n, { items: 0, ms: 0, perRound: [] }]));
  const end = performance.now() + seconds * 1000;
  let rounds = 0;
  while (rounds < minRounds || performance.now() < end) {
    for (const name of names.map((_, i) => names[(i + rounds) % names.length])) {
      const t = await timed(ops[name], turnSeconds);
      sums[name].items += t.items;
      sums[name].ms += t.ms;
      sums[name].perRound.push(t.items / (t.ms / 1000));
    }
    rounds++;
  }
  return Object.fromEntries(names.map((n) => {
    const { items, ms, perRound } = sums[n];
    return [n, { itemsPerSec: items / (ms / 1000), items, seconds: ms / 1000, rounds, perRound }];
  }));
}

/** Wire form with sets sorted (they come back in canonical order), for comparing round trips. */
function canonical(item) {
  const norm = (v) => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, ["SS", "NS", "BS"].includes(k) ? [...v[k]].sort() : norm(v[k])]));
    }
    return v;
  };
  return JSON.stringify(norm(toWire(item)));
}

/**
 * @param fieldseal the package; kms its "fieldseal/kms" module
 * @param keys { rawAes: keyring description (shared.mjs), ecdh: { [curve]: { sender, recipient } } with
 *   { privatePem (PKCS#8), publicPem (SPKI) } each, rsa: { arn, publicKeyPem } }
 * @param rsaDecrypt async (ciphertext: Uint8Array) => plaintext: Uint8Array, RSA-OAEP SHA-256 with the KMS key's private key
 * @param config the reference config (algorithmSuiteId is set to 0x6700 here); item the reference item
 * @param opts { seconds, warmupSeconds }: measured seconds per keyring and operation
 */
export async function benchKeyrings({ fieldseal, kms, keys, rsaDecrypt, config, item, opts }) {
  const enc = (keyring) => new fieldseal.ItemEncryptor({ ...config, algorithmSuiteId: "0x6700", keyring });

  // The in-process KMS: answers Decrypt for the one key, counting calls and the time spent decrypting.
  const kmsStats = { calls: 0, ms: 0, other: 0 };
  const clientProvider = () => ({
    async send(command) {
      const input = command.input ?? {};
      if (input.CiphertextBlob === undefined || input.KeyId !== keys.rsa.arn || input.EncryptionAlgorithm !== KMS_RSA_ALGORITHM) {
        kmsStats.other++;
        throw Object.assign(new Error("in-process KMS: only Decrypt of the bench key"), { name: "UnsupportedOperationException" });
      }
      kmsStats.calls++;
      const start = performance.now();
      const plaintext = await rsaDecrypt(input.CiphertextBlob);
      kmsStats.ms += performance.now() - start;
      return { KeyId: input.KeyId, Plaintext: plaintext, EncryptionAlgorithm: input.EncryptionAlgorithm };
    },
  });

  // name -> { sealer, opener } ItemEncryptors.
  const pairs = { [REFERENCE]: { sealer: enc(makeKeyring(fieldseal, keys.rawAes)) } };
  pairs[REFERENCE].opener = pairs[REFERENCE].sealer;
  for (const [curve, label] of Object.entries(CURVES)) {
    const { sender, recipient } = keys.ecdh[curve];
    const opener = enc(new fieldseal.RawEcdhKeyring({ curve, scheme: { publicKeyDiscovery: { recipientStaticPrivateKey: recipient.privatePem } } }));
    pairs[`ECDH ${label} static`] = {
      sealer: enc(new fieldseal.RawEcdhKeyring({ curve, scheme: { staticPrivateKeyToStaticPublicKey: { senderStaticPrivateKey: sender.privatePem, recipientPublicKey: recipient.publicPem } } })),
      opener,
    };
    pairs[`ECDH ${label} ephemeral`] = {
      sealer: enc(new fieldseal.RawEcdhKeyring({ curve, scheme: { ephemeralPrivateKeyToStaticPublicKey: { recipientPublicKey: recipient.publicPem } } })),
      opener,
    };
  }
  const rsaSealer = new kms.AwsKmsRsaKeyring({ kmsKeyId: keys.rsa.arn, encryptionAlgorithm: KMS_RSA_ALGORITHM, publicKeyPem: keys.rsa.publicKeyPem });
  if (rsaSealer.canDecrypt) throw new Error("the KMS RSA sealer has a client");
  pairs["KMS RSA"] = {
    sealer: enc(rsaSealer),
    opener: enc(new kms.AwsKmsRsaKeyring({ kmsKeyId: keys.rsa.arn, encryptionAlgorithm: KMS_RSA_ALGORITHM, clientProvider })),
  };

  // Each pair round trips the item (and the ephemeral sealers' items open only via the recipient).
  const want = canonical(item);
  const sealed = {};
  for (const [name, { sealer, opener }] of Object.entries(pairs)) {
    sealed[name] = await sealer.encryptItem(item);
    if (canonical(await opener.decryptItem(sealed[name])) !== want) throw new Error(`keyrings ${name}: the round trip does not give back the item`);
  }
  if (kmsStats.calls !== 1 || kmsStats.other !== 0) throw new Error(`keyrings: the KMS RSA round trip made ${kmsStats.calls} Decrypt and ${kmsStats.other} other calls, expected 1 and 0`);

  const names = Object.keys(pairs);
  const timing = { seconds: opts.seconds * names.length, turnSeconds: opts.seconds / 10, warmupSeconds: opts.warmupSeconds / 2 };
  const seal = await interleave(Object.fromEntries(names.map((n) => [n, () => pairs[n].sealer.encryptItem(item)])), timing);
  if (kmsStats.calls !== 1 || kmsStats.other !== 0) throw new Error(`keyrings: sealing called KMS (${kmsStats.calls - 1 + kmsStats.other} calls)`);
  // Opening: the KMS RSA turns count their Decrypt calls against the items they opened.
  const rsaOpens = { n: 0 };
  Object.assign(kmsStats, { calls: 0, ms: 0, other: 0 });
  const open = await interleave(Object.fromEntries(names.map((n) => [n, n === "KMS RSA"
    ? async () => {
      await pairs[n].opener.decryptItem(sealed[n]);
      rsaOpens.n++;
    }
    : () => pairs[n].opener.decryptItem(sealed[n])])), timing);
  for (const { sealer, opener } of Object.values(pairs)) {
    sealer.free?.();
    if (opener !== sealer) opener.free?.();
  }
  return {
    suite: "0x6700",
    timing,
    seal,
    open,
    kms: { opened: rsaOpens.n, decryptCalls: kmsStats.calls, otherCalls: kmsStats.other, decryptMs: kmsStats.ms },
  };
}

// ------------------------------------------------------------------ report

const num = (x) => Math.round(x).toLocaleString("en-US");
const x2 = (r) => `${r.toFixed(r >= 10 ? 1 : r >= 0.1 ? 2 : 3)}×`;
function quantile(sorted, q) {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (at - lo);
}
/** Per round, a's items/s ÷ raw AES's in the same round; sorted. */
const roundRatios = (a, ref) => a.perRound.map((x, i) => x / ref.perRound[i]).sort((p, q) => p - q);
/** [q1, median, q3] of the per-round ratios. */
export const ratioQuartiles = (a, ref) => [0.25, 0.5, 0.75].map((q) => quantile(roundRatios(a, ref), q));

/** One table per runtime: { runtime: result } -> rows of keyring, seal and open items/s and their ratios to raw AES. */
export function keyringsTable(byRuntime) {
  const rows = [];
  for (const [runtime, r] of Object.entries(byRuntime)) {
    for (const name of Object.keys(r.seal)) {
      const cell = (op) => {
        const m = r[op][name];
        const [q1, med, q3] = ratioQuartiles(m, r[op][REFERENCE]);
        return [num(m.itemsPerSec), name === REFERENCE ? "1" : x2(med), name === REFERENCE ? "-" : `${x2(q1)} … ${x2(q3)}`];
      };
      rows.push([runtime, name, ...cell("seal"), ...cell("open"), `${r.seal[name].rounds}/${r.open[name].rounds}`]);
    }
  }
  return {
    header: ["runtime", "keyring (0x6700)", "seal items/s", "seal vs raw AES", "its rounds' quartiles", "open items/s", "open vs raw AES", "its rounds' quartiles", "rounds seal/open"],
    left: 2,
    rows,
  };
}

/** Lines describing the row (console and BENCHMARKS.md); `skipped` maps a runtime not measured to why. */
export function keyringsLines(byRuntime, skipped = {}) {
  const first = Object.values(byRuntime)[0];
  const lines = [
    `New keyrings (issue 17) next to raw AES-256: the reference item, suite 0x6700, one item per call; the keyrings of one operation take interleaved turns of ${first ? first.timing.turnSeconds.toFixed(2) : "?"} s`,
    `(${first ? `${first.timing.seconds.toFixed(1)} s per operation` : "?"}); "vs raw AES" is the median over rounds of items/s ÷ raw AES's in the same round.`,
    `ECDH: sealed with the static scheme (sender's private key + recipient's public key) or the ephemeral one (recipient's public key), opened by the recipient (publicKeyDiscovery).`,
    `KMS RSA (${KMS_RSA_ALGORITHM}, 2048-bit key): sealed with the public key PEM only (no client, so no KMS call); opened through a clientProvider whose Decrypt is answered in-process`,
    `by the RSA private key (node:crypto in Node, WebCrypto in Chromium), so no network time is in these numbers.`,
  ];
  for (const [runtime, r] of Object.entries(byRuntime)) {
    const k = r.kms;
    lines.push(`- ${runtime}: KMS RSA opening made ${num(k.decryptCalls)} Decrypt calls for ${num(k.opened)} items opened (${(k.decryptCalls / k.opened).toFixed(3)} KMS calls per item, ${k.otherCalls} other calls); answering them (the RSA decryption KMS would do) took ${((k.decryptMs * 1000) / k.decryptCalls).toFixed(0)} µs per call, included in the open items/s.`);
  }
  for (const [runtime, why] of Object.entries(skipped)) lines.push(`- ${runtime}: not measured (${why}).`);
  return lines;
}
