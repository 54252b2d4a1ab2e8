// Start the patched moto (launch.py: a local KMS + DynamoDB) on loopback from
// Node, for the JS tests (tests/js/helpers/moto.mjs re-exports this) and the
// demo (www/stack.mjs). No dependencies beyond Node. It sits in tools/, not
// under tests/ or www/, because the demo, the tests and `make moto` all use it.
//
// The server is a child process that cannot outlive its parent: it is started
// through a small Python wrapper that exits as soon as its stdin (a pipe held
// by this process) reaches EOF, which the kernel guarantees when the parent
// dies, even by SIGKILL. stop() ends it with SIGTERM and waits for it.
import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

const here = dirname(fileURLToPath(import.meta.url));

// python -c WATCHDOG launch.py --port N: runs launch.py as __main__, with a
// daemon thread that exits the process once stdin is closed.
const WATCHDOG = [
  "import os, runpy, sys, threading",
  "def _watch():",
  "    try:",
  "        sys.stdin.buffer.read()",
  "    finally:",
  "        os._exit(0)",
  "threading.Thread(target=_watch, daemon=True).start()",
  "sys.argv = sys.argv[1:]",
  "runpy.run_path(sys.argv[0], run_name='__main__')",
].join("\n");

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Rejects with a clear message if `port` on 127.0.0.1 is taken. */
function checkPortFree(port) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (e) =>
      reject(e.code === "EADDRINUSE" ? new Error(`port ${port} on 127.0.0.1 is already in use (MOTO_PORT); pick another or unset it`) : e),
    );
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

/**
 * Start moto; resolves to { endpoint, port, pid, stop }. Installs the venv on
 * first use (setup_venv.sh). `port`: a fixed port (fails if it is taken),
 * else a free one.
 */
export async function startMoto({ port, timeoutMs = 30_000 } = {}) {
  const python = execFileSync(join(here, "setup_venv.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  if (port) await checkPortFree(port);
  else port = await freePort();
  const child = spawn(python, ["-c", WATCHDOG, join(here, "launch.py"), "--port", String(port)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  child.stdin.on("error", () => {}); // EPIPE if it already exited
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`moto exited early:\n${log}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      // Ours, not some other server that took the port in between: it printed its banner.
      if (response.status < 500 && log.includes("serving on")) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto did not start within ${timeoutMs / 1000} s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { endpoint, port, pid: child.pid, stop, log: () => log };
}
