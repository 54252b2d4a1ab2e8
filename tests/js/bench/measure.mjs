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
