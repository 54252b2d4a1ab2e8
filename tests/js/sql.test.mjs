// fieldseal/sql against a live PostgreSQL through pg (node-postgres): sealed
// rows written with plain parameterized SQL, read back as pg returns them
// (Buffers, numeric strings, jsonb objects, Dates) and opened; searched by
// beacon; tampered with in SQL by someone without the key. Beacon keys come
// from a branch key store in moto (KMS + DynamoDB on loopback), as do the KMS
// and hierarchical keyrings.
//
// The server is the one the PG* environment names (PGHOST, PGPORT, PGUSER,
// PGDATABASE, or DATABASE_URL): `scripts/test.sh sql` starts a throw-away
// cluster for this file (scripts/pg.sh run). Without one the file skips,
// loudly, except under CI, where it fails; the js step, which starts no
// server, sets FIELDSEAL_SQL_STEP=separate to skip it because the sql step runs it.
// Everything is created in a schema of its own, dropped at the end.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { FieldsealError } from "fieldseal";
import { AwsKmsHierarchicalKeyring, AwsKmsKeyring, KeyStore } from "fieldseal/kms";
import { defineSealedTable } from "fieldseal/sql";
import { aesKeyring, expectFieldsealError } from "./helpers/common.mjs";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());
const haveServer = !!(process.env.PGHOST || process.env.DATABASE_URL);
const skip = haveServer
  ? false
  : process.env.FIELDSEAL_SQL_STEP === "separate"
    ? "the SQL tests run in their own step, against the server it starts: scripts/test.sh sql"
    : inCI
      ? false
      : "no PostgreSQL: PGHOST (or DATABASE_URL) is not set. Run scripts/test.sh sql, or scripts/pg.sh run node --test sql.test.mjs in tests/js. Not skipped when CI is set";
if (skip && process.env.FIELDSEAL_SQL_STEP !== "separate") {
  console.error(`\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!! tests/js/sql.test.mjs SKIPPED: ${skip}\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`);
}

/** A quoted SQL identifier (camelCase names stay camelCase). */
const q = (name) => `"${String(name).replaceAll('"', '""')}"`;

const schema = `fieldseal_sql_${process.pid}`;
let pool;
let moto;
let keyStore;
let branchKeyId;
let kmsKeyArn;

const clientOptions = () => ({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });

/**
 * CREATE TABLE from the plaintext columns' definitions (their SQL types are
 * the application's) and the sealed table's ddl() for the rest, then its
 * beacon indexes.
 */
async function createTable(table, name, plainColumns) {
  const ddl = table.ddl();
  assert.equal(typeof ddl.columns, "string");
  assert.ok(Array.isArray(ddl.indexes));
  await pool.query(`CREATE TABLE ${q(name)} (${plainColumns}, ${ddl.columns})`);
  for (const index of ddl.indexes) await pool.query(index);
  return ddl;
}

/** Rows as multi-row INSERTs of `batchSize` rows each, every value a parameter; a column a row lacks is NULL. */
async function insertRows(name, rows, batchSize = 500) {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  for (let i = 0; i < rows.length; i += batchSize) {
    const values = [];
    const tuples = rows.slice(i, i + batchSize).map((row) => `(${columns.map((c) => (values.push(row[c] ?? null), `$${values.length}`)).join(", ")})`);
    await pool.query(`INSERT INTO ${q(name)} (${columns.map(q).join(", ")}) VALUES ${tuples.join(", ")}`, values);
  }
}

/** The rows a sealed table's where() selects, as pg returns them. */
async function selectWhere(table, name, conditions) {
  const { sql, values } = await table.where(conditions);
  assert.equal(typeof sql, "string");
  for (const v of values) assert.ok(!/@|shipped-secret/.test(String(v)), `a plaintext value reached the SQL: ${v}`);
  return (await pool.query(`SELECT * FROM ${q(name)} WHERE ${sql} ORDER BY id`, values)).rows;
}

const selectAll = async (name) => (await pool.query(`SELECT * FROM ${q(name)} ORDER BY id`)).rows;
const selectOne = async (name, id) => (await pool.query(`SELECT * FROM ${q(name)} WHERE id = $1`, [id])).rows[0];

/** Byte values as plain arrays, so that Buffers and Uint8Arrays compare by content. */
function normalized(value) {
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (value instanceof Date) return { date: value.toISOString() };
  if (Array.isArray(value)) return value.map(normalized);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalized(v)]));
  return value;
}

describe("fieldseal/sql against a live PostgreSQL", { skip }, () => {
  before(async () => {
    if (!haveServer) throw new Error("no PostgreSQL under CI: PGHOST (or DATABASE_URL) is not set; run through scripts/test.sh sql");
    pool = new pg.Pool({ ...(process.env.DATABASE_URL && !process.env.PGHOST ? { connectionString: process.env.DATABASE_URL } : {}), max: 4, options: `-c search_path=${schema}` });
    await pool.query(`DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`);
    await pool.query(`CREATE SCHEMA ${q(schema)}`);
    moto = await startMoto();
    const kms = new KMSClient(clientOptions());
    kmsKeyArn = (await kms.send(new CreateKeyCommand({ Description: "fieldseal sql test" }))).KeyMetadata.Arn;
    keyStore = new KeyStore({
      ddbTableName: "SqlKeyStore",
      logicalKeyStoreName: "SqlKeyStore",
      kmsConfiguration: { kmsKeyArn },
      ddbClient: new DynamoDBClient(clientOptions()),
      kmsClient: kms,
    });
    await keyStore.createKeyStore();
    ({ branchKeyIdentifier: branchKeyId } = await keyStore.createKey());
  });

  after(async () => {
    if (pool) {
      await pool.query(`DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`).catch(() => {});
      await pool.end();
    }
    await moto?.stop();
  });

  // -------------------------------------------------------------- types
  // Every kind of value pg hands back: text, bytea (Buffer), numeric and
  // bigint (strings), integer, boolean, jsonb (objects), date and timestamptz
  // (Dates); sealed (bytea) and plaintext columns alike.
  const TYPES = "types";
  const typesTable = () =>
    defineSealedTable({
      name: TYPES,
      primaryKey: ["id"],
      columns: {
        id: "SIGN_ONLY",
        email: "ENCRYPT_AND_SIGN",
        profile: "ENCRYPT_AND_SIGN",
        photo: "ENCRYPT_AND_SIGN",
        salary: "ENCRYPT_AND_SIGN",
        nothing: "ENCRYPT_AND_SIGN",
        // Declared types: pg returns numeric as strings, date and timestamptz as Dates, jsonb parsed.
        total: { action: "SIGN_ONLY", type: "numeric" },
        big: { action: "SIGN_ONLY", type: "numeric" },
        meta: { action: "SIGN_ONLY", type: "jsonb" },
        placed: { action: "SIGN_ONLY", type: "date" },
        shippedAt: { action: "SIGN_ONLY", type: "timestamptz" },
        // Undeclared: pg's value is the sealed one (integer, boolean, bytea).
        qty: "SIGN_ONLY",
        paid: "SIGN_ONLY",
        raw: "SIGN_ONLY",
        note: "DO_NOTHING",
      },
      keyring: aesKeyring(11, "types"),
    });
  const typesRow = (i) => ({
    id: `order-${i}`,
    email: `ünïcødé-${i}@example.com 😀`,
    profile: { name: `buyer ${i}`, tags: ["a", "b"], nested: { n: i, ok: true, none: null } },
    photo: new Uint8Array([0, 1, 2, 255, i & 255]),
    salary: 1234.5 + i,
    nothing: null,
    total: 12.5 + i,
    big: 2n ** 60n + BigInt(i),
    qty: i,
    paid: i % 2 === 0,
    meta: { source: "web", items: [{ sku: `s-${i}`, n: 2 }], flag: false },
    raw: new Uint8Array([9, 8, 7, i & 255]),
    placed: new Date(Date.UTC(2024, 2, 1 + i)),
    shippedAt: new Date(Date.UTC(2024, 2, 3, 10, 20, 30, 456) + i * 1000),
    note: `left in clear ${i}`,
  });
  // The signed and DO_NOTHING columns: the application's own definitions (ddl() prints the sealed ones).
  const TYPES_PLAIN = 'id text PRIMARY KEY, total numeric, big bigint, meta jsonb, placed date, "shippedAt" timestamptz, qty integer, paid boolean, raw bytea, note text';

  test("ddl() creates the sealed columns: bytea for encrypted columns and aws_dbe_head/foot, beside the application's columns", async () => {
    await createTable(typesTable(), TYPES, TYPES_PLAIN);
    const { rows } = await pool.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
      [schema, TYPES],
    );
    const types = Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
    for (const c of ["email", "profile", "photo", "salary", "nothing", "aws_dbe_head", "aws_dbe_foot"]) assert.equal(types[c], "bytea", c);
    assert.equal(types.big, "bigint", "the application's own definition kept");
    assert.equal(Object.keys(types).length, 17, `every column once: ${Object.keys(types).join(", ")}`);
  });

  test("every column type round-trips: sealRow -> INSERT -> SELECT -> openRow", async () => {
    const table = typesTable();
    const rows = [typesRow(1), typesRow(2)];
    await insertRows(TYPES, await table.sealRows(rows));
    const stored = await selectAll(TYPES);
    assert.equal(stored.length, 2);
    // What pg returns, unconverted: Buffers, numeric and int8 as strings, jsonb parsed, Dates.
    assert.ok(Buffer.isBuffer(stored[0].email) && Buffer.isBuffer(stored[0].aws_dbe_head) && Buffer.isBuffer(stored[0].aws_dbe_foot));
    assert.equal(typeof stored[0].total, "string");
    assert.equal(typeof stored[0].big, "string");
    assert.equal(typeof stored[0].qty, "number");
    assert.ok(stored[0].shippedAt instanceof Date && stored[0].placed instanceof Date);
    assert.deepEqual(stored[0].meta, rows[0].meta);
    assert.ok(!stored[0].email.includes(Buffer.from("example.com")), "no plaintext in the sealed column");
    assert.ok(Buffer.isBuffer(stored[0].nothing) && stored[0].nothing.length > 0, "a null ENCRYPT_AND_SIGN value is sealed, not skipped");
    const opened = await table.openRows(stored);
    assert.deepEqual(normalized(opened), normalized(rows));
    assert.equal(typeof opened[0].big, "bigint");
    assert.ok(opened[0].placed instanceof Date && opened[0].shippedAt instanceof Date, "declared date columns open as Dates");
    assert.equal(opened[0].nothing, null);
    // One row at a time too.
    assert.deepEqual(normalized(await table.openRow(await selectOne(TYPES, "order-2"))), normalized(rows[1]));
  });

  test("a column absent from the row is absent from the signature: stored NULL, opened absent", async () => {
    const table = typesTable();
    const { note, total, profile, ...row } = { ...typesRow(3), id: "order-absent" };
    await insertRows(TYPES, [await table.sealRow(row)]);
    const stored = await selectOne(TYPES, "order-absent");
    assert.equal(stored.total, null);
    assert.equal(stored.profile, null);
    const opened = await table.openRow(stored);
    for (const c of ["note", "total", "profile"]) assert.ok(opened[c] === undefined || opened[c] === null, `${c} opens as absent`);
    assert.deepEqual(normalized({ ...opened, note: undefined, total: undefined, profile: undefined }), normalized({ ...row, note: undefined, total: undefined, profile: undefined }));
  });

  // ------------------------------------------------------- 10,000 rows
  test("10,000 rows: sealed, inserted in batches of 500 (multi-row INSERT, parameters), read back and opened", async () => {
    const name = "bulk";
    const table = defineSealedTable({
      name,
      primaryKey: ["id"],
      columns: { id: "SIGN_ONLY", email: "ENCRYPT_AND_SIGN", card: "ENCRYPT_AND_SIGN", total: { action: "SIGN_ONLY", type: "numeric" }, status: "SIGN_ONLY", note: "DO_NOTHING" },
      keyring: aesKeyring(12, "bulk"),
      // No ECDSA signature: the default 0x6701's P-384 signing is most of a row's cost, and 10,000 rows are about the SQL.
      algorithmSuiteId: "0x6700",
    });
    await createTable(table, name, "id text PRIMARY KEY, total numeric, status text, note text");
    const rows = Array.from({ length: 10_000 }, (_, i) => ({
      id: `row-${String(i).padStart(5, "0")}`,
      email: `person.${i}@example.com`,
      card: `4111-0000-${String(i).padStart(4, "0")}`,
      total: i / 4,
      status: i % 3 ? "shipped" : "pending",
      note: `n${i}`,
    }));
    let t = performance.now();
    const sealed = [];
    for (let i = 0; i < rows.length; i += 1000) sealed.push(...(await table.sealRows(rows.slice(i, i + 1000))));
    const sealMs = performance.now() - t;
    t = performance.now();
    await insertRows(name, sealed, 500);
    const insertMs = performance.now() - t;
    assert.equal(Number((await pool.query(`SELECT count(*) FROM ${q(name)}`)).rows[0].count), 10_000);
    t = performance.now();
    const stored = await selectAll(name);
    const selectMs = performance.now() - t;
    t = performance.now();
    const opened = await table.openRows(stored);
    const openMs = performance.now() - t;
    console.log(`10,000 rows: seal ${sealMs.toFixed(0)} ms, insert ${insertMs.toFixed(0)} ms, select ${selectMs.toFixed(0)} ms, open ${openMs.toFixed(0)} ms`);
    assert.equal(opened.length, 10_000);
    assert.deepEqual(opened, rows);
  });

  // ------------------------------------------------------------ search
  // A 1-bit email beacon: about half the rows share any email's beacon, so
  // SQL returns false positives that filter() must drop. A compound beacon of
  // the signed status and the encrypted last4 (4 bits) for prefix queries.
  const CUSTOMERS = "customers";
  const customersTable = (keyring = aesKeyring(13, "customers")) =>
    defineSealedTable({
      name: CUSTOMERS,
      primaryKey: ["id"],
      columns: { id: "SIGN_ONLY", email: "ENCRYPT_AND_SIGN", last4: "ENCRYPT_AND_SIGN", card: "ENCRYPT_AND_SIGN", status: "SIGN_ONLY" },
      keyring,
      search: {
        writeVersion: 1,
        versions: [
          {
            version: 1,
            keyStore,
            keySource: { single: { keyId: branchKeyId, cacheTTL: 600 } },
            standardBeacons: [
              { name: "email", length: 1 },
              { name: "last4", length: 4 },
            ],
            compoundBeacons: [{ name: "cardStatus", split: ".", encrypted: [{ name: "last4", prefix: "L-" }], signed: [{ name: "status", prefix: "S-" }] }],
          },
        ],
      },
    });
  const STATUSES = ["shipped", "pending", "on_hold", "onXhold"];
  const customer = (i) => ({
    id: `c-${String(i).padStart(3, "0")}`,
    email: `person.${i % 40}@example.com`, // rows 40..63 share an email with rows 0..23
    last4: String(1000 + (i % 20)),
    card: `4111-0000-0000-${1000 + i}`,
    status: STATUSES[i % 4],
  });
  const CUSTOMER_ROWS = Array.from({ length: 64 }, (_, i) => customer(i));

  test("search: the customers table with beacon columns and indexes", async () => {
    const table = customersTable();
    const ddl = await createTable(table, CUSTOMERS, "id text PRIMARY KEY, status text");
    assert.ok(ddl.indexes.length >= 3, `an index per beacon: ${ddl.indexes.join("; ")}`);
    await insertRows(CUSTOMERS, await table.sealRows(CUSTOMER_ROWS), 16);
    const stored = await selectOne(CUSTOMERS, "c-005");
    assert.match(stored.aws_dbe_b_email, /^[01]$/, "a 1-bit beacon is one hex digit");
    assert.equal(stored.aws_dbe_b_email, await table.beaconValue("email", CUSTOMER_ROWS[5].email));
    assert.match(stored.aws_dbe_b_cardStatus, new RegExp(`^S-${CUSTOMER_ROWS[5].status}\\.L-[0-9a-f]$`), "signed part in clear, encrypted part's 4-bit beacon");
    assert.ok(!Object.values(stored).some((v) => typeof v === "string" && v.includes("@")), "no email in clear");
  });

  test("search: equality by a 1-bit beacon returns exactly the matching rows once false positives are filtered", async () => {
    const table = customersTable();
    let falsePositives = 0;
    for (const i of [0, 5, 17, 39, 41]) {
      const email = CUSTOMER_ROWS[i].email;
      const { sql, values } = await table.where({ email });
      assert.match(sql, /\$1/, "a parameter, not a literal");
      assert.ok(!sql.includes(email) && !values.includes(email), "the plaintext never reaches the SQL");
      const raw = await selectWhere(table, CUSTOMERS, { email });
      const opened = table.filter(await table.openRows(raw), { email });
      const expected = CUSTOMER_ROWS.filter((r) => r.email === email);
      assert.deepEqual(opened, expected);
      assert.ok(raw.length >= expected.length);
      falsePositives += raw.length - expected.length;
    }
    assert.ok(falsePositives > 0, "a 1-bit beacon over 64 rows gives false positives, and they were dropped");
    // startAt: the fragment after other parameters of the caller's query.
    const email = CUSTOMER_ROWS[2].email;
    const { sql, values } = await table.where({ email }, { startAt: 2 });
    assert.match(sql, /\$2/);
    assert.doesNotMatch(sql, /\$1\b/);
    const raw = (await pool.query(`SELECT * FROM ${q(CUSTOMERS)} WHERE status = $1 AND ${sql} ORDER BY id`, [CUSTOMER_ROWS[2].status, ...values])).rows;
    assert.deepEqual(table.filter(await table.openRows(raw), { email }), CUSTOMER_ROWS.filter((r) => r.email === email && r.status === CUSTOMER_ROWS[2].status));
  });

  test("search: compound begins_with by the signed part and by signed + encrypted parts", async () => {
    const table = customersTable();
    // The signed part alone: the SQL match is exact; `_` is not a wildcard (on_hold vs onXhold).
    for (const status of ["shipped", "on_hold", "onXhold"]) {
      const prefix = `S-${status}`;
      const raw = await selectWhere(table, CUSTOMERS, { beginsWith: { cardStatus: prefix } });
      assert.deepEqual(raw.map((r) => r.status), raw.map(() => status), `SQL matched only ${status}`);
      const opened = table.filter(await table.openRows(raw), { beginsWith: { cardStatus: prefix } });
      assert.deepEqual(opened, CUSTOMER_ROWS.filter((r) => r.status === status));
    }
    // With the encrypted part: its 4-bit beacon collides, filter() drops the rest.
    const want = CUSTOMER_ROWS.filter((r) => r.status === "pending" && r.last4 === "1005");
    assert.ok(want.length > 0);
    const raw = await selectWhere(table, CUSTOMERS, { beginsWith: { cardStatus: "S-pending.L-1005" } });
    assert.ok(raw.length >= want.length);
    assert.deepEqual(table.filter(await table.openRows(raw), { beginsWith: { cardStatus: "S-pending.L-1005" } }), want);
    // Equality and begins_with together.
    const both = { email: CUSTOMER_ROWS[1].email, beginsWith: { cardStatus: "S-pending" } };
    const rawBoth = await selectWhere(table, CUSTOMERS, both);
    assert.deepEqual(table.filter(await table.openRows(rawBoth), both), CUSTOMER_ROWS.filter((r) => r.email === both.email && r.status === "pending"));
  });

  test("search: where() on a column without a beacon is a typed error naming it", async () => {
    const table = customersTable();
    // The code the DynamoDB plug-in gives a Query it cannot rewrite (the same rule, in Rust).
    const err = await expectFieldsealError("REQUEST_REFUSED", () => table.where({ card: "4111-0000-0000-1000" }));
    assert.match(err.message, /card/);
  });

  // ----------------------------------------------------------- tampers
  // Someone with SQL access and no key changes stored rows; openRow refuses.
  const TAMPER = "tamper";
  const tamperTable = () =>
    defineSealedTable({
      name: TAMPER,
      primaryKey: ["id"],
      columns: { id: "SIGN_ONLY", email: "ENCRYPT_AND_SIGN", card: "ENCRYPT_AND_SIGN", total: { action: "SIGN_ONLY", type: "numeric" }, status: "SIGN_ONLY", note: "DO_NOTHING" },
      keyring: aesKeyring(14, "tamper"),
    });
  const tamperRow = (i) => ({ id: `t-${i}`, email: `victim${i}@example.com`, card: `4111-0000-0000-${1000 + i}`, total: 100 + i, status: "pending", note: "free" });

  // Each is refused with INTEGRITY_FAILURE. A row copied under another
  // primary key fails in the keyring: the key is in the data key's encryption
  // context, which the DB-ESDK does not store, and the wrapped key does not
  // verify under the row's (raw_aes.rs, broken_edks). A footer of another
  // length than the verified header fixes does not verify (footer.rs).
  describe("tampers in SQL are refused", () => {
    before(async () => {
      const table = tamperTable();
      await createTable(table, TAMPER, "id text PRIMARY KEY, total numeric, status text, note text");
      await insertRows(TAMPER, await table.sealRows([1, 2, 3, 4, 5, 6, 7, 8, 9].map(tamperRow)));
      // The untampered row opens, and a DO_NOTHING change is allowed.
      await pool.query(`UPDATE ${q(TAMPER)} SET note = 'changed' WHERE id = 't-8'`);
      assert.deepEqual(await table.openRow(await selectOne(TAMPER, "t-8")), { ...tamperRow(8), note: "changed" });
    });

    test("an encrypted column copied from another row", async () => {
      await pool.query(`UPDATE ${q(TAMPER)} SET email = (SELECT email FROM ${q(TAMPER)} WHERE id = 't-2') WHERE id = 't-1'`);
      await expectFieldsealError("INTEGRITY_FAILURE", async () => tamperTable().openRow(await selectOne(TAMPER, "t-1")));
    });

    test("a whole row copied under another primary key", async () => {
      // Every column in the table's order, the key replaced.
      const { rows } = await pool.query("SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position", [schema, TAMPER]);
      const select = rows.map((r) => (r.column_name === "id" ? "'t-copy'" : q(r.column_name))).join(", ");
      await pool.query(`INSERT INTO ${q(TAMPER)} SELECT ${select} FROM ${q(TAMPER)} WHERE id = 't-3'`);
      const err = await expectFieldsealError("INTEGRITY_FAILURE", async () => tamperTable().openRow(await selectOne(TAMPER, "t-copy")));
      assert.match(err.message, /altered or moved/, "the keyring found its key, and the data key did not verify under this row's key");
      // The original still opens.
      assert.deepEqual(await tamperTable().openRow(await selectOne(TAMPER, "t-3")), tamperRow(3));
    });

    test("aws_dbe_foot truncated", async () => {
      await pool.query(`UPDATE ${q(TAMPER)} SET aws_dbe_foot = substring(aws_dbe_foot from 1 for length(aws_dbe_foot) - 1) WHERE id = 't-4'`);
      const err = await expectFieldsealError("INTEGRITY_FAILURE", async () => tamperTable().openRow(await selectOne(TAMPER, "t-4")));
      assert.match(err.message, /footer/);
      // Its length kept, one bit flipped in the recipient tag, then in the signature: the footer does not verify.
      for (const at of ["0", "length(aws_dbe_foot) - 1"]) {
        const original = (await selectOne(TAMPER, "t-9")).aws_dbe_foot;
        await pool.query(`UPDATE ${q(TAMPER)} SET aws_dbe_foot = set_byte(aws_dbe_foot, ${at}, get_byte(aws_dbe_foot, ${at}) # 1) WHERE id = 't-9'`);
        const stored = await selectOne(TAMPER, "t-9");
        assert.equal(stored.aws_dbe_foot.length, original.length);
        await expectFieldsealError("INTEGRITY_FAILURE", async () => tamperTable().openRow(stored));
        await pool.query(`UPDATE ${q(TAMPER)} SET aws_dbe_foot = $1 WHERE id = 't-9'`, [original]);
      }
      assert.deepEqual(await tamperTable().openRow(await selectOne(TAMPER, "t-9")), tamperRow(9), "restored, it opens");
    });

    test("a row inserted with plain SQL, never sealed", async () => {
      await pool.query(`INSERT INTO ${q(TAMPER)} (id, total, status, note) VALUES ('t-plain', 5, 'pending', 'x')`);
      const err = await expectFieldsealError("INVALID_ITEM", async () => tamperTable().openRow(await selectOne(TAMPER, "t-plain")));
      assert.match(err.message, /never sealed|aws_dbe_head/);
    });

    test("a SIGN_ONLY column updated with plain SQL", async () => {
      await pool.query(`UPDATE ${q(TAMPER)} SET total = total + 1 WHERE id = 't-5'`);
      const err = await expectFieldsealError("INTEGRITY_FAILURE", async () => tamperTable().openRow(await selectOne(TAMPER, "t-5")));
      assert.ok(err instanceof FieldsealError);
      await pool.query(`UPDATE ${q(TAMPER)} SET status = 'shipped' WHERE id = 't-6'`);
      await expectFieldsealError("INTEGRITY_FAILURE", async () => tamperTable().openRow(await selectOne(TAMPER, "t-6")));
    });

    test("a signed column set to NULL (SIGN_ONLY, and ENCRYPT_AND_SIGN)", async () => {
      await pool.query(`UPDATE ${q(TAMPER)} SET total = NULL WHERE id = 't-7'`);
      await expectFieldsealError("INTEGRITY_FAILURE", async () => tamperTable().openRow(await selectOne(TAMPER, "t-7")));
      await pool.query(`UPDATE ${q(TAMPER)} SET card = NULL WHERE id = 't-2'`);
      await expectFieldsealError("INTEGRITY_FAILURE", async () => tamperTable().openRow(await selectOne(TAMPER, "t-2")));
    });

  });

  // ---------------------------------------------------------- keyrings
  test("KMS and hierarchical keyrings (moto) seal rows of the same table; each opens with its keyring, not with the other", async () => {
    const provider = () => new KMSClient(clientOptions());
    const kmsTable = customersTable(new AwsKmsKeyring({ kmsKeyId: kmsKeyArn, clientProvider: provider }));
    const hierTable = customersTable(new AwsKmsHierarchicalKeyring({ keyStore, branchKeyId, ttlSeconds: 600 }));
    const byKms = { ...customer(70), id: "c-kms" };
    const byHier = { ...customer(71), id: "c-hier" };
    await insertRows(CUSTOMERS, [await kmsTable.sealRow(byKms), await hierTable.sealRow(byHier)]);
    const kmsStored = await selectOne(CUSTOMERS, "c-kms");
    const hierStored = await selectOne(CUSTOMERS, "c-hier");
    assert.ok(kmsStored.aws_dbe_head.includes(Buffer.from("aws-kms")), "the KMS row's header names aws-kms");
    assert.ok(hierStored.aws_dbe_head.includes(Buffer.from("aws-kms-hierarchy")), "the hierarchical row's header names aws-kms-hierarchy");
    assert.deepEqual(await kmsTable.openRow(kmsStored), byKms);
    assert.deepEqual(await hierTable.openRow(hierStored), byHier);
    await assert.rejects(kmsTable.openRow(hierStored), FieldsealError);
    await assert.rejects(hierTable.openRow(kmsStored), FieldsealError);
    // A row moved under another primary key is the same INTEGRITY_FAILURE with
    // every keyring: KMS refuses the blob under the row's encryption context
    // (InvalidCiphertextException), the branch key's AES-GCM does not verify.
    const moved = await expectFieldsealError("INTEGRITY_FAILURE", () => kmsTable.openRow({ ...kmsStored, id: "c-moved" }));
    assert.match(moved.message, /InvalidCiphertextException/);
    await expectFieldsealError("INTEGRITY_FAILURE", () => hierTable.openRow({ ...hierStored, id: "c-moved" }));
    // Beacons do not depend on the keyring: both rows are found by email.
    for (const [table, row] of [[kmsTable, byKms], [hierTable, byHier]]) {
      const raw = await selectWhere(table, CUSTOMERS, { email: row.email });
      assert.ok(raw.some((r) => r.id === row.id), `${row.id} found by its email beacon`);
    }
  });

  // ------------------------------------------------------------ README
  test("pkg/README.md: the SQL quick start runs as pasted against this server and moto", async () => {
    const readme = readFileSync(join(here, "../../pkg/README.md"), "utf8");
    const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.startsWith("// sql-quickstart.mjs"));
    assert.ok(block, "pkg/README.md has a js block starting with // sql-quickstart.mjs");
    // A schema of its own (its table is called customers too), through libpq's PGOPTIONS, which pg reads.
    const readmeSchema = `${schema}_readme`;
    await pool.query(`CREATE SCHEMA ${q(readmeSchema)}`);
    const file = join(here, `.readme-sql-${process.pid}.mjs`);
    writeFileSync(file, block);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [file], {
        env: { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1", PGOPTIONS: `-c search_path=${readmeSchema}` },
      });
      assert.deepEqual(stdout.trim().split("\n"), ["[ 'ana@example.com' ]", "1"]);
    } finally {
      rmSync(file, { force: true });
    }
    const { rows } = await pool.query(`SELECT * FROM ${q(readmeSchema)}.customers`);
    assert.equal(rows.length, 1);
    assert.ok(Buffer.isBuffer(rows[0].email) && !rows[0].email.includes(Buffer.from("ana@example.com")), "the email is stored sealed");
    assert.ok(Buffer.isBuffer(rows[0].aws_dbe_head) && Buffer.isBuffer(rows[0].aws_dbe_foot));
    await pool.query(`DROP SCHEMA ${q(readmeSchema)} CASCADE`);
  });
});
