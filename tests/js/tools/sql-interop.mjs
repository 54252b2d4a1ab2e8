// Interop tool for tests/interop/tests/sql.rs (issue 16): sealed SQL rows in a
// live PostgreSQL against the official aws-db-esdk item encryptor.
//
//   node tests/js/tools/sql-interop.mjs IN.json OUT.json
//
// The server is the one the PG* environment names (scripts/pg.sh run sets it).
// IN.json (written by the Rust test):
//   { key: { namespace, name, key (base64) },            raw AES keyring
//     table: { name, primaryKey: [pk], columns: { col: { action, type } }, algorithmSuiteId,
//              search? },                                beacons: the search config without the versions' keyStore
//     sqlTypes: { col: "text PRIMARY KEY" | "numeric" | ... },  the application's
//                                                        definitions of the columns ddl() does not print
//     rows: [{ label, item }],       plaintext items (typed DynamoDB JSON, B as base64) to seal as rows
//     official: [{ label, item }],   items sealed by the official SDK, to insert as rows and open
//     with search, the beacon keys' store in moto and the searches to run:
//     aws?: { endpoint, region, accessKeyId, secretAccessKey },
//     keyStore?: { ddbTableName, logicalKeyStoreName, kmsKeyArn },
//     queries?: [{ label, conditions }] }   conditions as where() and filter() take them
// Each row is sealed by fieldseal/sql (sealRow), inserted, selected back with
// pg, and its stored columns are written out as the DynamoDB item they are
// (bytea -> B, text -> S, numeric -> N, boolean -> BOOL, jsonb -> M/L, date ->
// S "YYYY-MM-DD", SQL NULL -> absent); each official item is inserted as a row
// (B -> bytea, ...), selected back, opened with openRow, and the opened row is
// written out as the plaintext item. The table is created with ddl()'s
// columns and indexes (in a schema of its own, on the search path). Then each
// query: where(conditions) run as SQL over every row (the rows sealed by
// either side), the rows found opened (openRows) and filter()ed; its result
// is the primary keys of the rows SQL found (`candidates`) and of those
// filter() kept (`matched`).
// OUT.json: { sealed: [{ label, ok, item | why }], opened: [{ label, ok, item | why }],
//             queries: [{ label, ok, sql, candidates, matched | why }] }.
// Exit 1 if any entry failed.
import { readFileSync, writeFileSync } from "node:fs";
import pg from "pg";
import { RawAesKeyring } from "fieldseal";
import { defineSealedTable } from "fieldseal/sql";
import { itemFromJson, itemToJson } from "../helpers/manifest.mjs";

const [inPath, outPath] = process.argv.slice(2);
if (!inPath || !outPath) {
  console.error("usage: node sql-interop.mjs IN.json OUT.json");
  process.exit(2);
}
const input = JSON.parse(readFileSync(inPath, "utf8"));
const RESERVED = "aws_dbe_";
const columns = input.table.columns;
const typeOf = (column) => columns[column]?.type;
const actionOf = (column) => columns[column]?.action;

/** A plain JSON value (jsonb) as an attribute value, as fieldseal/sql maps it (objects M, arrays L). */
function fromJson(value) {
  if (value === null) return { NULL: true };
  if (Array.isArray(value)) return { L: value.map(fromJson) };
  switch (typeof value) {
    case "string":
      return { S: value };
    case "number":
      return { N: String(value) };
    case "boolean":
      return { BOOL: value };
    case "object":
      return { M: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJson(v)])) };
  }
  throw new Error(`no attribute value for a ${typeof value}`);
}

/** An attribute value as plain JSON (jsonb). */
function toJson(v) {
  if (v.NULL) return null;
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return Number(v.N);
  if (v.BOOL !== undefined) return v.BOOL;
  if (v.L !== undefined) return v.L.map(toJson);
  if (v.M !== undefined) return Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, toJson(x)]));
  throw new Error(`no JSON for ${JSON.stringify(Object.keys(v))}`);
}

const day = (d, local) =>
  local
    ? `${String(d.getFullYear()).padStart(4, "0")}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`
    : d.toISOString().slice(0, 10);

/** A column's JS value (a plain row's, or one pg returned: `local` dates) as the attribute value of its type. */
function attribute(column, value, local) {
  if (value === null) return { NULL: true };
  switch (typeOf(column)) {
    case "text":
      return { S: value };
    case "numeric":
      return { N: String(value) };
    case "boolean":
      return { BOOL: value };
    case "jsonb":
      return fromJson(value);
    case "date":
      return { S: value instanceof Date ? day(value, local) : value };
    case "bytea":
      return { B: new Uint8Array(value) };
  }
  throw new Error(`column ${column} has no type in IN.json`);
}

/** An attribute value as the JS value of its column's type: what a plain row holds, and what pg takes for a column. */
function plainValue(column, v) {
  if (v.NULL) return null;
  switch (typeOf(column)) {
    case "text":
    case "date":
      return v.S;
    case "numeric":
      return v.N;
    case "boolean":
      return v.BOOL;
    case "jsonb":
      return toJson(v);
    case "bytea":
      return Buffer.from(v.B);
  }
  throw new Error(`column ${column} has no type in IN.json`);
}

/** A row pg returned (or a sealed row) as the DynamoDB item it is: SQL NULL is an absent attribute. */
function storedItem(row) {
  const item = {};
  for (const [column, value] of Object.entries(row)) {
    if (value === null) continue;
    if (column.startsWith(RESERVED)) item[column] = typeof value === "string" ? { S: value } : { B: new Uint8Array(value) };
    else if (actionOf(column) === "ENCRYPT_AND_SIGN") item[column] = { B: new Uint8Array(value) };
    else item[column] = attribute(column, value, true);
  }
  return item;
}

/** A sealed DynamoDB item as the values to insert: bytes as bytea, jsonb as its JSON text. */
function rowOfItem(item) {
  const row = {};
  for (const [column, v] of Object.entries(item)) {
    if (column.startsWith(RESERVED) || actionOf(column) === "ENCRYPT_AND_SIGN") row[column] = v.B !== undefined ? Buffer.from(v.B) : v.S;
    else if (typeOf(column) === "jsonb") row[column] = JSON.stringify(toJson(v));
    else row[column] = plainValue(column, v);
  }
  return row;
}

const ident = (name) => `"${name.replaceAll('"', '""')}"`;

/** The search config with each version reading its beacon keys from the key store in moto (as an app would). */
async function searchConfig(search) {
  const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const { KMSClient } = await import("@aws-sdk/client-kms");
  const { KeyStore } = await import("fieldseal/kms");
  const { endpoint, region, accessKeyId, secretAccessKey } = input.aws;
  const clientOptions = { region, endpoint, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 };
  const keyStore = new KeyStore({
    ddbTableName: input.keyStore.ddbTableName,
    logicalKeyStoreName: input.keyStore.logicalKeyStoreName,
    kmsConfiguration: { kmsKeyArn: input.keyStore.kmsKeyArn },
    ddbClient: new DynamoDBClient(clientOptions),
    kmsClient: new KMSClient(clientOptions),
  });
  return { ...search, versions: search.versions.map((version) => ({ ...version, keyStore })) };
}

const { key } = input;
const keyring = new RawAesKeyring({ keyNamespace: key.namespace, keyName: key.name, wrappingKey: new Uint8Array(Buffer.from(key.key, "base64")) });
const search = input.table.search ? { search: await searchConfig(input.table.search) } : {};
const table = defineSealedTable({ name: input.table.name, primaryKey: input.table.primaryKey, columns, keyring, algorithmSuiteId: input.table.algorithmSuiteId, ...search });
const pk = input.table.primaryKey[0];

const client = new pg.Client();
await client.connect();
const schema = `sql_interop_${process.pid}`;
// The table under its own name, as ddl()'s indexes name it, in a schema of its own.
const sqlTable = `${ident(schema)}.${ident(input.table.name)}`;
const out = { sealed: [], opened: [], queries: [] };
try {
  await client.query(`CREATE SCHEMA ${ident(schema)}`);
  await client.query(`SET search_path TO ${ident(schema)}`);
  const defined = Object.entries(input.sqlTypes).map(([c, t]) => `${ident(c)} ${t}`);
  const ddl = table.ddl();
  await client.query(`CREATE TABLE ${sqlTable} (${[...defined, ddl.columns].join(",\n")})`);
  for (const index of ddl.indexes) await client.query(index);

  async function insert(row) {
    const names = Object.keys(row);
    await client.query(
      `INSERT INTO ${sqlTable} (${names.map(ident).join(", ")}) VALUES (${names.map((_, i) => `$${i + 1}`).join(", ")})`,
      names.map((n) => row[n]),
    );
  }
  const select = async (id) => (await client.query(`SELECT * FROM ${sqlTable} WHERE ${ident(pk)} = $1`, [id])).rows[0];

  for (const { label, item } of input.rows) {
    try {
      const plain = Object.fromEntries(Object.entries(itemFromJson(item)).map(([c, v]) => [c, plainValue(c, v)]));
      await insert(await table.sealRow(plain));
      const back = await select(plain[pk]);
      if (!back) throw new Error("the inserted row is not found");
      out.sealed.push({ label, ok: true, item: itemToJson(storedItem(back)) });
    } catch (e) {
      out.sealed.push({ label, ok: false, why: `${e?.code ?? ""} ${e?.message ?? e}` });
    }
  }
  for (const { label, item } of input.official) {
    try {
      const sealed = itemFromJson(item);
      await insert(rowOfItem(sealed));
      const back = await select(plainValue(pk, sealed[pk]));
      if (!back) throw new Error("the inserted row is not found");
      // The row's SQL NULL columns the official item has no attribute for are absent attributes, not NULL ones.
      const opened = await table.openRow(back);
      const plain = {};
      for (const [c, v] of Object.entries(opened)) if (v !== null || c in sealed) plain[c] = attribute(c, v, false);
      out.opened.push({ label, ok: true, item: itemToJson(plain) });
    } catch (e) {
      out.opened.push({ label, ok: false, why: `${e?.code ?? ""} ${e?.message ?? e}` });
    }
  }
  for (const { label, conditions } of input.queries ?? []) {
    try {
      const where = await table.where(conditions);
      const found = (await client.query(`SELECT * FROM ${sqlTable} WHERE ${where.sql}`, where.values)).rows;
      const opened = await table.openRows(found);
      const matched = table.filter(opened, conditions);
      out.queries.push({ label, ok: true, sql: where.sql, candidates: found.map((r) => r[pk]), matched: matched.map((r) => r[pk]) });
    } catch (e) {
      out.queries.push({ label, ok: false, why: `${e?.code ?? ""} ${e?.message ?? e}` });
    }
  }
} finally {
  await client.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`).catch(() => {});
  await client.end();
  table.free();
}
writeFileSync(outPath, JSON.stringify(out, null, 1));
const failed = [...out.sealed, ...out.opened, ...out.queries].filter((r) => !r.ok);
for (const f of failed) console.error(`FAIL ${f.label}: ${f.why}`);
process.exit(failed.length ? 1 : 0);
