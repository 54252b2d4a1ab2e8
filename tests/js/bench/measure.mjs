// The measuring loop, shared by every JS row of the benchmark (Node, the
// browser page, ESDK-JS): warm up, then call `op` (one item per call, awaited)
// until a fixed wall time has passed, and report items/s = calls / elapsed.
// Runs unchanged in Node and in the browser (performance.now() only).

/**
 * @param {() => Promise<unknown>} op
 * @param {{ seconds: number, warmupSeconds: number }} opts
 * @returns {Promise<{ itemsPerSec: number, iterations: number, seconds: number }>}
 */
export async function measure(op, { seconds, warmupSeconds }) {
  const now = () => performance.now();
  const warmEnd = now() + warmupSeconds * 1000;
  do {
    await op();
  } while (now() < warmEnd);
  const budget = seconds * 1000;
  const start = now();
  let n = 0;
  let elapsed;
  do {
    await op();
    n++;
    elapsed = now() - start;
  } while (elapsed < budget);
  return { itemsPerSec: n / (elapsed / 1000), iterations: n, seconds: elapsed / 1000 };
}

/** Encrypt then decrypt throughput of one ItemEncryptor on one item. */
export async function measureEncryptor(enc, item, opts) {
  const sealed = await enc.encryptItem(item);
  const encrypt = await measure(() => enc.encryptItem(item), opts);
  const decrypt = await measure(() => enc.decryptItem(sealed), opts);
  return { encrypt, decrypt };
}

const roundTrip = (m) => 1 / (1 / m.encrypt.itemsPerSec + 1 / m.decrypt.itemsPerSec);

/**
 * Several encryptors on one item, measured in `rounds` interleaved rounds
 * (the order rotating each round), each at the round whose round trips/s is
 * the median: a shared machine moves one measurement after another by 25%
 * or more, and interleaving spreads that over all of them.
 * @returns { [name]: { encrypt, decrypt } }
 */
export async function interleaved(encryptors, item, opts, rounds) {
  const names = Object.keys(encryptors);
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) runs[name].push(await measureEncryptor(encryptors[name], item, opts));
  }
  return Object.fromEntries(
    names.map((n) => [n, [...runs[n]].sort((a, b) => roundTrip(a) - roundTrip(b))[Math.floor(rounds / 2)]]),
  );
}
