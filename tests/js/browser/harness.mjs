// Node side of the browser harness: build tests/js/browser/ with Vite's JS API,
// serve it (Vite preview, or the Vite dev server), launch the system Chromium
// with playwright-core (never a downloaded browser), and open pages that record
// every console error, uncaught page error, failed request and HTTP error.
// Used by cross-runtime.test.mjs and bench/run.mjs.

import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const browserRoot = fileURLToPath(new URL(".", import.meta.url));

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-quic",
  "--disable-sync",
];

/** The Chromium to use (CHROMIUM_PATH, else Debian's), or null if absent. */
export function chromiumPath() {
  const p = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
  return existsSync(p) ? p : null;
}

export async function launchChromium() {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error("Chromium not found (set CHROMIUM_PATH)");
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

/** A Vite logger that keeps warnings and errors (and prints nothing else). */
export function recordingLogger() {
  const messages = [];
  const keep = (level) => (msg) => messages.push({ level, msg: String(msg) });
  return {
    messages,
    info() {},
    warn: keep("warn"),
    warnOnce: keep("warn"),
    error: keep("error"),
    clearScreen() {},
    hasErrorLogged: () => messages.some((m) => m.level === "error"),
    hasWarned: false,
  };
}

/**
 * `vite build` of `root` (default: this directory) into a fresh temp dir.
 * Returns { outDir, warnings, cleanup }.
 */
export async function buildPage({ root = browserRoot } = {}) {
  const { build } = await import("vite");
  const outDir = await mkdtemp(join(tmpdir(), "fieldseal-vite-build-"));
  const logger = recordingLogger();
  try {
    await build({
      root,
      configFile: false,
      customLogger: logger,
      logLevel: "warn",
      build: { outDir, emptyOutDir: true },
    });
  } catch (e) {
    await rm(outDir, { recursive: true, force: true });
    throw e;
  }
  return {
    outDir,
    warnings: logger.messages,
    cleanup: () => rm(outDir, { recursive: true, force: true }),
  };
}

/** Vite preview of a built `outDir` on 127.0.0.1, a free port. Returns { url, close }. */
export async function servePreview(outDir, { root = browserRoot } = {}) {
  const { preview } = await import("vite");
  const server = await preview({
    root,
    configFile: false,
    customLogger: recordingLogger(),
    build: { outDir },
    preview: { host: "127.0.0.1", port: 0, strictPort: true, open: false },
  });
  const url = server.resolvedUrls?.local?.[0];
  if (!url) {
    await closeHttp(server.httpServer);
    throw new Error("vite preview did not report a URL");
  }
  return { url, close: () => closeHttp(server.httpServer) };
}

/**
 * The Vite dev server over `root`, with no Vite config at all (what `vite`
 * does in an app that just installed fieldseal). Returns { url, server, logger, close }.
 */
export async function startDevServer(root, { cacheDir } = {}) {
  const { createServer } = await import("vite");
  const logger = recordingLogger();
  const server = await createServer({
    root,
    configFile: false,
    customLogger: logger,
    ...(cacheDir ? { cacheDir } : {}),
    server: { host: "127.0.0.1", port: 0, strictPort: true, open: false, hmr: true, watch: null },
  });
  await server.listen();
  const url = server.resolvedUrls?.local?.[0];
  if (!url) {
    await server.close();
    throw new Error("vite dev server did not report a URL");
  }
  return { url, server, logger, close: () => server.close() };
}

function closeHttp(httpServer) {
  return new Promise((resolve) => {
    httpServer.closeAllConnections?.();
    httpServer.close(() => resolve());
  });
}

/**
 * Open `url` in a new page of `browser` and wait for `window.fieldsealPage`.
 * `problems` collects console errors, page errors, failed requests and
 * HTTP >= 400 responses for the whole life of the page; `warnings` the
 * console warnings.
 */
export async function openHarnessPage(browser, url, { readyGlobal = "fieldsealPage", timeout = 30_000 } = {}) {
  const page = await browser.newPage();
  const problems = [];
  const warnings = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
    else if (m.type() === "warning") warnings.push(`console.warn: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.stack || e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on("crash", () => problems.push("page crashed"));
  page.setDefaultTimeout(timeout);
  await page.goto(url, { waitUntil: "load" });
  try {
    await page.waitForFunction((g) => globalThis[g] != null, readyGlobal, { timeout });
  } catch (e) {
    throw new Error(`page ${url} never defined window.${readyGlobal}: ${problems.join("; ") || e.message}`);
  }
  return { page, problems, warnings };
}

/** Call window.fieldsealPage[name](...args) in the page. */
export function callPage(page, name, ...args) {
  return page.evaluate(([name, args]) => window.fieldsealPage[name](...args), [name, args]);
}
