// The SQL rows row of the benchmark (issue 16), in Node: fieldseal/sql's
// sealed rows, raw AES-256 keyring (the reference keyring), a 10-column row
// of which 4 columns are ENCRYPT_AND_SIGN:
//   (1) CPU, per suite (0x6700, 0x6701): rows/s of sealRow and openRow next to
//       ItemEncryptor.encryptItem / decryptItem of the same data as a
//       DynamoDB item (same actions, table name and key), interleaved in
//       short turns as dynamodb.mjs's stub row, so the difference is what the
//       SQL value mapping costs;
//   (2) live PostgreSQL: 10,000 rows inserted (multi-row parameterized
//       INSERTs, BATCH rows each; the sealed side runs sealRows per batch) and
//       read back (SELECT * ... ORDER BY id; the sealed side runs openRows),
//       sealed and plaintext tables side by side, rounds alternating which
//       goes first, each round starting from empty tables; per suite.
// The server is the one the PG* environment names (PGHOST or DATABASE_URL);
// without one the row starts its own throw-away cluster through
// scripts/pg.sh start (and stops it), and if that is not possible the live
// part is skipped with the reason printed (a failure under CI).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

import { makeKeyring } from "../browser/shared.mjs";
import { interleavedOps, overhead, quartiles } from "./dynamodb.mjs";

const TABLE = "bench_orders";
export const SQL_ROWS = 10_000;
export const BATCH = 500;
const pgScript = fileURLToPath(new URL("../../../scripts/pg.sh", import.meta.url));

/** The 10 columns: 4 encrypted, 5 signed (the key among them), 1 DO_NOTHING; each column's SQL type for the tables. */
const COLUMNS = {
  id: { action: "SIGN_ONLY", type: "numeric", sql: "numeric PRIMARY KEY" },
  email: { action: "ENCRYPT_AND_SIGN", type: "text", sql: "text" },
  full_name: { action: "ENCRYPT_AND_SIGN", type: "text", sql: "text" },
  ssn: { action: "ENCRYPT_AND_SIGN", type: "text", sql: "text" },
  profile: { action: "ENCRYPT_AND_SIGN", type: "jsonb", sql: "jsonb" },
  total: { action: "SIGN_ONLY", type: "numeric", sql: "numeric(12,2)" },
  status: { action: "SIGN_ONLY", type: "text", sql: "text" },
  active: { action: "SIGN_ONLY", type: "boolean", sql: "boolean" },
  placed: { action: "SIGN_ONLY", type: "timestamptz", sql: "timestamptz" },
  hint: { action: "DO_NOTHING", type: "text", sql: "text" },
};
const NAMES = Object.keys(COLUMNS);

/** Row i: about 330 bytes of values, distinct per row. */
export function benchRow(i) {
  return {
    id: i,
    email: `customer${i}@example.com`,
    full_name: `Customer Number ${i} Example-Lastname`,
    ssn: `${String(100 + (i % 900)).padStart(3, "0")}-${String(10 + (i % 90))}-${String(1000 + (i % 9000))}`,
    profile: { city: ["Lisbon", "Oslo", "Lima"][i % 3], tier: i % 5, tags: ["a", "b"], since: 2000 + (i % 25) },
    total: Math.round(i * 137.31) / 100,
    status: ["placed", "shipped", "delivered"][i % 3],
    active: i % 2 === 0,
    placed: new Date(Date.UTC(2025, 0, 1) + i * 60_000),
    hint: `cache-${i % 17}`,
  };
}

/** The same data as a DynamoDB item, as fieldseal/sql seals it (a Date as ISO-8601 text, jsonb as a map). */
function benchItem(row) {
  return {
    id: { N: String(row.id) },
    email: { S: row.email },
    full_name: { S: row.full_name },
    ssn: { S: row.ssn },
    profile: { M: { city: { S: row.profile.city }, tier: { N: String(row.profile.tier) }, tags: { L: row.profile.tags.map((S) => ({ S })) }, since: { N: String(row.profile.since) } } },
    total: { N: String(row.total) },
    status: { S: row.status },
    active: { BOOL: row.active },
    placed: { S: row.placed.toISOString() },
    hint: { S: row.hint },
  };
}

const tableConfig = (keyring, suite) => ({
  name: TABLE,
  primaryKey: ["id"],
  columns: Object.fromEntries(NAMES.map((c) => [c, { action: COLUMNS[c].action, type: COLUMNS[c].type }])),
  keyring,
  algorithmSuiteId: suite,
});
const itemConfig = (keyring, suite) => ({
  logicalTableName: TABLE,
  partitionKeyName: "id",
  attributeActionsOnEncrypt: Object.fromEntries(NAMES.map((c) => [c, COLUMNS[c].action])),
  allowedUnsignedAttributes: ["hint"],
  keyring,
  algorithmSuiteId: suite,
});

/** Rows compare by value: dates by instant, numbers as numbers (pg gives numeric as text). */
function same(a, b) {
  const norm = (r) => Object.fromEntries(NAMES.map((c) => {
    const v = r[c];
    return [c, v instanceof Date ? v.toISOString() : typeof v === "string" && COLUMNS[c].type === "numeric" ? Number(v) : v];
  }));
  return isDeepStrictEqual(norm(a), norm(b));
}

/** Row sql (1): CPU per row, per suite, sealRow/openRow next to encryptItem/decryptItem. */
export async function benchSqlCpu({ fieldseal, sql, reference, suites, opts }) {
  const timing = { seconds: opts.seconds, turnSeconds: opts.seconds / 25, warmupSeconds: opts.warmupSeconds / 4 };
  const row = benchRow(4273);
  const item = benchItem(row);
  const out = { timing, columns: NAMES.length, encrypted: NAMES.filter((c) => COLUMNS[c].action === "ENCRYPT_AND_SIGN").length, suites: {} };
  for (const suite of suites) {
    const table = sql.defineSealedTable(tableConfig(makeKeyring(fieldseal, reference.keyring), suite));
    const enc = new fieldseal.ItemEncryptor(itemConfig(makeKeyring(fieldseal, reference.keyring), suite));
    try {
      const stored = await table.sealRow(row);
      for (const c of NAMES) {
        const encrypted = COLUMNS[c].action === "ENCRYPT_AND_SIGN";
        if (encrypted !== (stored[c] instanceof Uint8Array)) throw new Error(`sql ${suite}: sealRow stored column ${c} as ${typeof stored[c]}`);
      }
      if (!(stored.aws_dbe_head instanceof Uint8Array) || !(stored.aws_dbe_foot instanceof Uint8Array)) throw new Error(`sql ${suite}: no header/footer bytes`);
      if (!same(await table.openRow(stored), row)) throw new Error(`sql ${suite}: openRow does not give back the row`);
      const sealed = await enc.encryptItem(item);
      if (!isDeepStrictEqual(await enc.decryptItem(sealed), item)) throw new Error(`sql ${suite}: decryptItem does not give back the item`);
      // The row's sealed columns are the item's attributes (same names, same kinds), so the work compared is alike.
      const storedNames = Object.keys(stored).sort();
      if (!isDeepStrictEqual(storedNames, Object.keys(sealed).sort())) throw new Error(`sql ${suite}: row columns ${storedNames} vs item attributes ${Object.keys(sealed).sort()}`);
      const one = (f) => async () => (await f(), 1);
      out.suites[suite] = {
        seal: await interleavedOps({ sql: one(() => table.sealRow(row)), item: one(() => enc.encryptItem(item)) }, timing),
        open: await interleavedOps({ sql: one(() => table.openRow(stored)), item: one(() => enc.decryptItem(sealed)) }, timing),
      };
    } finally {
      table.free();
      enc.free();
    }
  }
  return out;
}

/**
 * A PostgreSQL to use: the one the environment names, else a throw-away
 * cluster from scripts/pg.sh start. Returns { connection, origin, stop } or
 * { skipped } with the reason.
 */
export function postgresServer() {
  if (process.env.PGHOST || process.env.DATABASE_URL) {
    const connection = process.env.DATABASE_URL && !process.env.PGHOST ? { connectionString: process.env.DATABASE_URL } : {};
    return { connection, origin: `the server of the environment (${process.env.PGHOST ?? "DATABASE_URL"})`, stop: () => {} };
  }
  let printed;
  try {
    printed = execFileSync("bash", [pgScript, "start"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const why = String(e.stderr || e.message).trim().split("\n").pop();
    return { skipped: `no PGHOST or DATABASE_URL, and scripts/pg.sh start could not start a cluster: ${why}` };
  }
  const env = Object.fromEntries([...printed.matchAll(/(\w+)=('[^']*'|\S+)/g)].map(([, k, v]) => [k, v.replace(/^'|'$/g, "")]));
  if (!env.PGPORT || !env.FIELDSEAL_PG_DIR) return { skipped: `scripts/pg.sh start printed no cluster: ${printed.slice(0, 200)}` };
  return {
    connection: { host: env.PGHOST, port: Number(env.PGPORT), user: env.PGUSER, database: env.PGDATABASE },
    origin: "a throw-away cluster from scripts/pg.sh start",
    stop: () => execFileSync("bash", [pgScript, "stop", env.FIELDSEAL_PG_DIR], { stdio: "ignore" }),
  };
}

/** Row sql (2): 10,000 rows inserted and selected, sealed (per suite) and plaintext, against a live server. */
export async function benchSqlLive({ fieldseal, sql, pg, server, reference, suites, rounds }) {
  const schema = `fieldseal_bench_${process.pid}_${Date.now()}`;
  const pool = new pg.Pool({ ...server.connection, max: 1, options: `-c search_path=${schema}` });
  const tables = [];
  try {
    const version = (await pool.query("SELECT current_setting('server_version') AS v")).rows[0].v;
    await pool.query(`CREATE SCHEMA ${schema}`);
    const signed = NAMES.filter((c) => COLUMNS[c].action !== "ENCRYPT_AND_SIGN").map((c) => `${c} ${COLUMNS[c].sql}`);
    await pool.query(`CREATE TABLE plain_orders (${NAMES.map((c) => `${c} ${COLUMNS[c].sql}`).join(", ")})`);
    const rows = Array.from({ length: SQL_ROWS }, (_, i) => benchRow(i + 1));

    /** Multi-row INSERTs of BATCH rows, $n placeholders, columns in a fixed order. */
    const insertAll = async (name, batchOf) => {
      let columns;
      for (let at = 0; at < rows.length; at += BATCH) {
        const batch = await batchOf(rows.slice(at, at + BATCH));
        columns ??= Object.keys(batch[0]);
        const values = [];
        const tuples = batch.map((r) => `(${columns.map((c) => `$${values.push(c === "profile" && !(r[c] instanceof Uint8Array) ? JSON.stringify(r[c]) : r[c])}`).join(", ")})`);
        await pool.query(`INSERT INTO ${name} (${columns.join(", ")}) VALUES ${tuples.join(", ")}`, values);
      }
      return rows.length;
    };
    const selectAll = async (name) => (await pool.query(`SELECT * FROM ${name} ORDER BY id`)).rows;
    const rate = (list) => {
      const n = list.reduce((k, x) => k + x.rows, 0);
      const ms = list.reduce((k, x) => k + x.ms, 0);
      return { itemsPerSec: n / (ms / 1000), items: n, seconds: ms / 1000, rounds: list.length, perRound: list.map((x) => x.rows / (x.ms / 1000)) };
    };
    const checkRows = (label, got) => {
      if (got.length !== SQL_ROWS) throw new Error(`sql/pg ${label}: read ${got.length} rows, expected ${SQL_ROWS}`);
      got.forEach((r, i) => {
        if (!same(r, rows[i])) throw new Error(`sql/pg ${label}: row ${i + 1} differs: ${JSON.stringify(r).slice(0, 300)}`);
      });
    };

    const out = { version, origin: server.origin, rows: SQL_ROWS, batch: BATCH, rounds, suites: {}, tableBytes: {} };
    for (const suite of suites) {
      const table = sql.defineSealedTable(tableConfig(makeKeyring(fieldseal, reference.keyring), suite));
      tables.push(table);
      const name = `${TABLE}_${suite}`;
      await pool.query(`CREATE TABLE ${name} (${signed.join(", ")}, ${table.ddl().columns})`);
      const sealMs = { insert: 0, select: 0 };
      const timedSeal = async (key, f) => {
        const t = performance.now();
        const r = await f();
        sealMs[key] += performance.now() - t;
        return r;
      };
      const last = {};
      const ops = {
        insert: {
          plain: () => insertAll("plain_orders", async (b) => b),
          sealed: () => insertAll(name, (b) => timedSeal("insert", () => table.sealRows(b))),
        },
        select: {
          plain: async () => (last.plain = await selectAll("plain_orders")).length,
          sealed: async () => {
            const got = await selectAll(name);
            last.raw = got;
            return (last.sealed = await timedSeal("select", () => table.openRows(got))).length;
          },
        },
      };
      // Rounds: empty tables, the two INSERTs in turn, then the two SELECTs in turn; the order alternates.
      const per = { insert: { plain: [], sealed: [] }, select: { plain: [], sealed: [] } };
      for (let round = 0; round < rounds; round++) {
        await pool.query(`TRUNCATE plain_orders, ${name}`);
        await pool.query("VACUUM ANALYZE");
        const order = round % 2 ? ["sealed", "plain"] : ["plain", "sealed"];
        for (const op of ["insert", "select"]) {
          for (const side of order) {
            const t = performance.now();
            const n = await ops[op][side]();
            per[op][side].push({ rows: n, ms: performance.now() - t });
          }
        }
      }
      // After timing: the sealed table holds sealed rows (bytes in the encrypted columns), and both sides gave back every row.
      const r0 = last.raw[0];
      if (!(r0.email instanceof Uint8Array) || !(r0.profile instanceof Uint8Array) || !(r0.aws_dbe_head instanceof Uint8Array)) {
        throw new Error(`sql/pg ${suite}: the sealed table does not hold sealed rows`);
      }
      checkRows(`${suite} sealed`, last.sealed);
      checkRows(`${suite} plaintext`, last.plain);
      const bytes = (await pool.query(`SELECT pg_total_relation_size('plain_orders') AS p, pg_total_relation_size('${name}') AS s`)).rows[0];
      out.tableBytes.plain = Number(bytes.p);
      out.tableBytes[suite] = Number(bytes.s);
      out.suites[suite] = {
        insert: { plain: rate(per.insert.plain), sealed: rate(per.insert.sealed) },
        select: { plain: rate(per.select.plain), sealed: rate(per.select.sealed) },
        sealSeconds: { insert: sealMs.insert / 1000, select: sealMs.select / 1000 },
      };
    }
    return out;
  } finally {
    for (const t of tables) t.free();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pool.end();
  }
}

// ------------------------------------------------------------------ report

const num = (x) => Math.round(x).toLocaleString("en-US");
const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
const micros = (m) => 1e6 / m.itemsPerSec;

export function sqlCpuTable(r) {
  const rows = [];
  for (const [suite, s] of Object.entries(r.suites)) {
    for (const [op, label] of [["seal", "sealRow vs encryptItem"], ["open", "openRow vs decryptItem"]]) {
      const m = s[op];
      rows.push([label, suite, num(m.sql.itemsPerSec), num(m.item.itemsPerSec), micros(m.sql).toFixed(1), micros(m.item).toFixed(1), pct(overhead(m.sql, m.item)), quartiles(m.sql, m.item).map(pct).join(" … "), String(m.sql.rounds)]);
    }
  }
  return {
    header: ["measurement", "suite", "rows/s (sql)", "items/s (DynamoDB item)", "µs row", "µs item", "row vs item", "its rounds' quartiles", "rounds"],
    left: 2,
    rows,
  };
}

export function sqlLiveTable(r) {
  const rows = [];
  for (const [suite, x] of Object.entries(r.suites)) {
    for (const [op, label] of [["insert", `INSERT, ${r.batch} rows per statement`], ["select", "SELECT * ORDER BY id (+ openRows)"]]) {
      const { plain, sealed } = x[op];
      const s = x.sealSeconds[op];
      rows.push([label, suite, num(sealed.itemsPerSec), num(plain.itemsPerSec), `${(sealed.itemsPerSec / plain.itemsPerSec).toFixed(3)}×`, `${s.toFixed(2)} of ${sealed.seconds.toFixed(2)}`, sealed.perRound.map(num).join(", "), plain.perRound.map(num).join(", ")]);
    }
  }
  return {
    header: [`${num(r.rows)} rows`, "suite", "sealed rows/s", "plaintext rows/s", "sealed ÷ plaintext", "s in sealRows/openRows", "sealed per round", "plaintext per round"],
    left: 2,
    rows,
  };
}

export function sqlLines(cpu, live, liveSkipped) {
  const out = [];
  if (cpu) {
    out.push(
      `fieldseal/sql, a ${cpu.columns}-column row with ${cpu.encrypted} columns ENCRYPT_AND_SIGN (text ×3, jsonb), 4 SIGN_ONLY besides the key (numeric, text, boolean, timestamptz), 1 DO_NOTHING; raw AES-256 keyring, one row per call, Node.`,
      `Next to ItemEncryptor.encryptItem/decryptItem of the same data as a DynamoDB item; interleaved turns of ${cpu.timing.turnSeconds.toFixed(2)} s for ${cpu.timing.seconds} s per pair; "row vs item" is the median over rounds of the extra time per row.`,
    );
  }
  if (live) {
    out.push(
      `Live PostgreSQL ${live.version} (${live.origin}), one connection (node-postgres): ${num(live.rows)} rows inserted in multi-row parameterized INSERTs of ${live.batch} (sealed: sealRows per batch first) and read back with one SELECT (sealed: openRows), in ${live.rounds} rounds per suite from empty tables, sealed and plaintext in turn, the order alternating; every row read back is checked after timing.`,
      `Table size after the last round (pg_total_relation_size): plaintext ${num(live.tableBytes.plain)} B; sealed ${Object.keys(live.suites).map((s) => `${s} ${num(live.tableBytes[s])} B`).join(", ")}.`,
    );
  } else if (liveSkipped) {
    out.push(`Live PostgreSQL part not measured: ${liveSkipped}`);
  }
  return out;
}
