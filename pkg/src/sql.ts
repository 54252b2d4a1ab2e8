/**
 * Sealed SQL rows: `import { defineSealedTable } from "fieldseal/sql"`.
 *
 * A row is an item: the primary key columns are its partition key (and sort
 * key), ENCRYPT_AND_SIGN columns are stored as `bytea` (the sealed value's
 * bytes), `aws_dbe_head` and `aws_dbe_foot` as `bytea`, each beacon as a
 * `text` column `aws_dbe_b_<name>`, and SIGN_ONLY and DO_NOTHING columns
 * keep their SQL type. The stored bytes are the DB-ESDK's, so a row read
 * back as a DynamoDB item opens with the official SDKs. Driver-agnostic:
 * values in and out are what `pg` (node-postgres) takes and returns.
 *
 * Which attribute is what, and how beacon values and the plaintext
 * predicate are computed, is the core's (the same as for DynamoDB
 * items and queries); this module maps SQL values to attribute values.
 * @packageDocumentation
 */
import { ItemEncryptor, type ItemEncryptorConfig } from "./encryptor.js";
import { FieldsealError, guarded, toFieldsealError } from "./errors.js";
import { defineField, ownKeys, reading } from "./hostile.js";
import type { Keyring } from "./keyrings.js";
import { marshallValue, unmarshallValue } from "./records.js";
import type { SearchConfig } from "./search.js";
import type { AlgorithmSuiteId, AttributeValue, CryptoAction, Item } from "./types.js";
import type { WasmItemEncryptor } from "./wasm/fieldseal_wasm.js";

/**
 * A column's SQL type, where the value `pg` returns differs from the one
 * sealed: `numeric` (pg returns numeric and int8 as strings), `date` and
 * `timestamptz` (opened as a `Date`), `jsonb` (objects and arrays, stored
 * as JSON text), `boolean`, `text`, `bytea`.
 */
export type SqlColumnType = "numeric" | "text" | "boolean" | "jsonb" | "bytea" | "date" | "timestamptz";

/** A column: its action, or its action and SQL type. */
export type SqlColumn = CryptoAction | { action: CryptoAction; type?: SqlColumnType };

export interface SealedTableConfig {
  /** The table: the logical table name bound into every row, and the table `ddl()` indexes. */
  name: string;
  /** The partition key column, and the sort key column if two. Signed, never encrypted (SIGN_ONLY if not listed in `columns`). */
  primaryKey: [string] | [string, string];
  /** Every column a row may have, and what happens to it. */
  columns: { [column: string]: SqlColumn };
  keyring: Keyring;
  /** Beacons (the config of `ItemEncryptorConfig.search`): each becomes a column `aws_dbe_b_<name>`. */
  search?: SearchConfig;
  /** Defaults to `"0x6701"`, as in the DB-ESDK. */
  algorithmSuiteId?: AlgorithmSuiteId;
}

/** A plain row: column to JS value (what you insert, and what {@link SealedTable.openRow} gives back). */
export type PlainRow = { [column: string]: unknown };

/** A sealed row: column to the value to store (bytes for sealed columns and the header/footer, text for beacons). */
export type StoredRow = { [column: string]: unknown };

/** Conditions of a search, all of which must hold: column (or beacon) to its plaintext value, and beacons to a prefix. */
export type SqlConditions = { [column: string]: unknown } & { beginsWith?: { [beacon: string]: string } };

/** A parameterized SQL fragment: `sql` uses `$n` placeholders for `values`. */
export interface SqlFragment {
  sql: string;
  values: unknown[];
}

/** What {@link SealedTable.ddl} prints. */
export interface SealedTableDdl {
  /** Column definitions for `CREATE TABLE` (comma-separated, one a line): the encrypted columns, the header, footer and beacons. The signed and DO_NOTHING columns are yours to define. */
  columns: string;
  /** A `CREATE INDEX` for each beacon column. */
  indexes: string[];
}

export interface SealedTable {
  readonly name: string;
  /** Seal a row: the values to store (see the module doc). */
  sealRow(row: PlainRow): Promise<StoredRow>;
  /** Seal a batch, all or nothing. */
  sealRows(rows: PlainRow[]): Promise<StoredRow[]>;
  /** Open a row as the driver returns it; `INTEGRITY_FAILURE` if anything signed was changed. */
  openRow(row: StoredRow): Promise<PlainRow>;
  /** Open a batch, all or nothing. */
  openRows(rows: StoredRow[]): Promise<PlainRow[]>;
  /** Column definitions and beacon indexes, for a migration. */
  ddl(): SealedTableDdl;
  /** The text a beacon column stores for `plaintext` (a beacon with partitions has several: use {@link where}). */
  beaconValue(name: string, plaintext: unknown): Promise<string>;
  /** A parameterized condition on the beacon columns (and plain columns): equality, and `beginsWith` on compound beacons. */
  where(conditions: SqlConditions, options?: { startAt?: number }): Promise<SqlFragment>;
  /** The opened rows for which the conditions hold by their plaintext: drops a beacon's false positives. */
  filter<R extends PlainRow>(rows: R[], conditions: SqlConditions): R[];
  /** Release the WebAssembly side now. */
  free(): void;
}

const ACTIONS: readonly string[] = ["ENCRYPT_AND_SIGN", "SIGN_ONLY", "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT", "DO_NOTHING"];
const TYPES: readonly string[] = ["numeric", "text", "boolean", "jsonb", "bytea", "date", "timestamptz"];
const HEAD = "aws_dbe_head";
const FOOT = "aws_dbe_foot";
const RESERVED = "aws_dbe_";
const BEACON = "aws_dbe_b_";

type Column = { action: CryptoAction; type: SqlColumnType | undefined };

function configError(message: string): FieldsealError {
  return new FieldsealError("INVALID_CONFIG", message);
}

function itemError(column: string, why: string): FieldsealError {
  return new FieldsealError("INVALID_ITEM", `column ${JSON.stringify(column)}: ${why}`);
}

/** `"name"`, quoted for SQL. */
function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function validDate(value: Date, column: string): Date {
  if (Number.isNaN(value.getTime())) throw itemError(column, "an invalid Date cannot be stored");
  return value;
}

/** `YYYY-MM-DD` of a date column: a Date's UTC day, or the day pg wrote as a local-midnight Date. */
function dayOf(value: unknown, column: string, local: boolean): string {
  if (value instanceof Date) {
    const d = validDate(value, column);
    const [y, m, day] = local ? [d.getFullYear(), d.getMonth() + 1, d.getDate()] : [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
    return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  }
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  throw itemError(column, "a date column takes a Date or a YYYY-MM-DD string");
}

function instantOf(value: unknown, column: string): Date {
  const d = value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
  if (!d) throw itemError(column, "a timestamptz column takes a Date or an ISO-8601 string");
  return validDate(d, column);
}

/** A jsonb value as pg stores and returns it: its JSON text, read back. */
function jsonOf(value: unknown, column: string): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) throw itemError(column, "the value has no JSON form for a jsonb column");
  return JSON.parse(text);
}

/**
 * A column value (as given, or as the driver returned it for a signed
 * column) as the attribute value sealed, and the value stored in SQL for a
 * column that is not encrypted. `opening`: the value comes from the driver.
 */
function toAttribute(column: string, spec: Column, value: unknown, opening: boolean): { attr: AttributeValue; stored: unknown } {
  if (value === undefined) throw itemError(column, "undefined cannot be stored; leave the column out or pass null");
  if (value === null) return { attr: { NULL: true }, stored: null };
  switch (spec.type) {
    case "numeric": {
      if (typeof value === "string") {
        if (!/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value)) throw itemError(column, "not a number for a numeric column");
        return { attr: { N: value }, stored: value };
      }
      if (typeof value !== "number" && typeof value !== "bigint") throw itemError(column, `a ${typeof value} is not a number for a numeric column`);
      break;
    }
    case "date": {
      const day = dayOf(value, column, opening);
      return { attr: { S: day }, stored: day };
    }
    case "timestamptz": {
      const at = instantOf(value, column);
      return { attr: { S: at.toISOString() }, stored: at };
    }
    case "jsonb": {
      const json = jsonOf(value, column);
      return { attr: marshallValue(json, column), stored: JSON.stringify(json) };
    }
    case "text":
      if (typeof value !== "string") throw itemError(column, `a ${typeof value} is not text`);
      break;
    case "boolean":
      if (typeof value !== "boolean") throw itemError(column, `a ${typeof value} is not a boolean`);
      break;
    case "bytea":
      if (!isBytes(value)) throw itemError(column, "a bytea column takes a Uint8Array or Buffer");
      break;
  }
  if (value instanceof Date) return { attr: { S: validDate(value, column).toISOString() }, stored: value };
  return { attr: marshallValue(value, column), stored: value };
}

/** A decimal as DynamoDB stores it: `12.50` (pg's numeric(10,2)) is `12.5`, `-0.0` is `0`. */
function plainNumber(text: string): string {
  const match = /^(-?)0*(\d+?)(?:\.(\d*?)0*)?$/.exec(text);
  if (!match) return text;
  const [, sign, int, frac] = match;
  const out = frac ? `${int}.${frac}` : int!;
  return out === "0" ? out : sign + out;
}

/** An opened attribute value as the column's JS value. */
function fromAttribute(column: string, spec: Column, value: AttributeValue): unknown {
  const v = value as { S?: string; N?: string };
  if ((spec.type === "date" || spec.type === "timestamptz") && v.S !== undefined) return new Date(v.S);
  if (spec.type === "numeric" && v.N !== undefined) {
    try {
      return unmarshallValue({ N: plainNumber(v.N) }, column);
    } catch {
      // More digits than a number holds, not an integer: the exact decimal text.
      return v.N;
    }
  }
  return unmarshallValue(value, column);
}

function readColumns(config: SealedTableConfig): Map<string, Column> {
  const columns = config.columns;
  if (typeof columns !== "object" || columns === null || Array.isArray(columns)) throw configError("columns must be an object of column name to action");
  const out = new Map<string, Column>();
  for (const name of ownKeys(columns, (why) => configError(`columns: ${why}`))) {
    const given = (columns as Record<string, unknown>)[name];
    const spec = typeof given === "string" ? { action: given, type: undefined } : given;
    if (typeof spec !== "object" || spec === null) throw configError(`column ${JSON.stringify(name)} has no action (one of ${ACTIONS.join(", ")})`);
    const { action, type } = spec as { action?: unknown; type?: unknown };
    if (!ACTIONS.includes(action as string)) throw configError(`column ${JSON.stringify(name)} has no action: ${JSON.stringify(action)} is not one of ${ACTIONS.join(", ")}`);
    if (type !== undefined && !TYPES.includes(type as string)) throw configError(`column ${JSON.stringify(name)}: type must be one of ${TYPES.join(", ")}`);
    out.set(name, { action: action as CryptoAction, type: type as SqlColumnType | undefined });
  }
  return out;
}

function readConfig(config: SealedTableConfig): { columns: Map<string, Column>; encryptor: ItemEncryptorConfig } {
  if (typeof config !== "object" || config === null) throw configError("defineSealedTable needs a config object");
  const { name, primaryKey } = config;
  if (typeof name !== "string" || name.length === 0) throw configError("name must be a non-empty string");
  if (!Array.isArray(primaryKey) || primaryKey.length < 1 || primaryKey.length > 2 || !primaryKey.every((k) => typeof k === "string" && k.length > 0)) {
    throw configError("primaryKey must be one or two column names (partition key, sort key)");
  }
  const columns = readColumns(config);
  for (const key of primaryKey) if (!columns.has(key)) columns.set(key, { action: "SIGN_ONLY", type: undefined });
  const actions: { [column: string]: CryptoAction } = {};
  const unsigned: string[] = [];
  for (const [column, spec] of columns) {
    defineField(actions, column, spec.action);
    if (spec.action === "DO_NOTHING") unsigned.push(column);
  }
  const encryptor: ItemEncryptorConfig = {
    logicalTableName: name,
    partitionKeyName: primaryKey[0],
    ...(primaryKey[1] === undefined ? {} : { sortKeyName: primaryKey[1] }),
    attributeActionsOnEncrypt: actions,
    ...(unsigned.length ? { allowedUnsignedAttributes: unsigned } : {}),
    keyring: config.keyring,
    ...(config.search === undefined ? {} : { search: config.search }),
    ...(config.algorithmSuiteId === undefined ? {} : { algorithmSuiteId: config.algorithmSuiteId }),
  };
  return { columns, encryptor };
}

/** The stored beacon columns of the writing version: its standard beacons but PartOnly ones, and its compound beacons. */
function beaconColumns(search: SearchConfig | undefined): string[] {
  if (!search || !Array.isArray(search.versions)) return [];
  const version = search.versions.find((v) => v?.version === search.writeVersion) ?? search.versions[0];
  if (!version) return [];
  const standard = (version.standardBeacons ?? []).filter((b) => !(b.style && "partOnly" in b.style)).map((b) => b.name);
  const compound = (version.compoundBeacons ?? []).map((b) => b.name);
  return [...standard, ...compound].map((n) => BEACON + n);
}

/** `LIKE` pattern of a prefix: `\`, `%` and `_` escaped (PostgreSQL's and MySQL's default escape is `\`). */
function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => "\\" + c) + "%";
}

function plainRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new FieldsealError("INVALID_ITEM", `${what} must be an object of column values`);
  return value as Record<string, unknown>;
}

/**
 * Define how one table's rows are sealed. The config is checked now
 * (`INVALID_CONFIG` naming the column); the keyring's and beacons' rules
 * when the first row is sealed or opened.
 *
 * @example
 * const orders = defineSealedTable({
 *   name: "orders", primaryKey: ["id"],
 *   columns: { id: "SIGN_ONLY", email: "ENCRYPT_AND_SIGN", total: { action: "SIGN_ONLY", type: "numeric" } },
 *   keyring,
 * });
 * const stored = await orders.sealRow({ id: 1, email: "a@b.c", total: 12.5 });
 */
export function defineSealedTable(config: SealedTableConfig): SealedTable {
  const { columns, encryptor: encryptorConfig } = reading("INVALID_CONFIG", "the sealed table config", () => readConfig(config));
  const encryptor = new ItemEncryptor(encryptorConfig);
  const table = encryptorConfig.logicalTableName;
  const primaryKey = [encryptorConfig.partitionKeyName, ...(encryptorConfig.sortKeyName === undefined ? [] : [encryptorConfig.sortKeyName])];
  const beacons = beaconColumns(encryptorConfig.search);
  let wasm: WasmItemEncryptor | undefined;
  const built = async () => (wasm ??= await ItemEncryptor.wasmOf(encryptor));

  const spec = (column: string): Column => {
    const found = columns.get(column);
    if (!found) throw itemError(column, `has no action in table ${JSON.stringify(table)}`);
    return found;
  };

  /** A row as the item to seal, and the stored values of its columns that are not encrypted. */
  function rowItem(row: PlainRow, what: string): { item: Item; stored: StoredRow } {
    return reading("INVALID_ITEM", what, () => {
      const record = plainRecord(row, what);
      for (const key of primaryKey) {
        if (record[key] === undefined || record[key] === null) throw itemError(key, `${what} is missing primary key column ${JSON.stringify(key)}`);
      }
      const item: Item = {};
      const stored: StoredRow = {};
      for (const column of ownKeys(record, (why) => new FieldsealError("INVALID_ITEM", `${what}: ${why}`))) {
        const s = spec(column);
        const { attr, stored: value } = toAttribute(column, s, record[column], false);
        if (s.action === "DO_NOTHING") {
          defineField(stored, column, value);
          continue;
        }
        // A NULL column that is not encrypted is stored as SQL NULL, which reads back as absent: it is left out of the signature.
        if (s.action !== "ENCRYPT_AND_SIGN" && value === null) {
          defineField(stored, column, null);
          continue;
        }
        defineField(item, column, attr);
        if (s.action !== "ENCRYPT_AND_SIGN") defineField(stored, column, value);
      }
      return { item, stored };
    });
  }

  /** The sealed item as column values: bytes for encrypted columns, header and footer; text for beacons. */
  function storedRow(sealed: Item, stored: StoredRow): StoredRow {
    const out: StoredRow = { ...stored };
    for (const [name, value] of Object.entries(sealed)) {
      const v = value as { B?: Uint8Array; S?: string };
      if (name.startsWith(RESERVED)) defineField(out, name, v.B ?? v.S ?? null);
      else if (columns.get(name)?.action === "ENCRYPT_AND_SIGN") defineField(out, name, v.B);
    }
    return out;
  }

  /** A row from the driver as the sealed item, and its DO_NOTHING and NULL columns as they are. */
  function openItem(row: StoredRow, what: string): { item: Item; plain: PlainRow } {
    return reading("INVALID_ITEM", what, () => {
      const record = plainRecord(row, what);
      if ((record[HEAD] ?? null) === null && (record[FOOT] ?? null) === null) {
        throw new FieldsealError("INVALID_ITEM", `${what} was never sealed: it has no ${HEAD} and no ${FOOT} column`);
      }
      const item: Item = {};
      const plain: PlainRow = {};
      for (const column of ownKeys(record, (why) => new FieldsealError("INVALID_ITEM", `${what}: ${why}`))) {
        const value = record[column];
        if (column.startsWith(RESERVED)) {
          if (value === null || value === undefined) continue;
          if (isBytes(value)) defineField(item, column, { B: value });
          else if (typeof value === "string") defineField(item, column, { S: value });
          else throw itemError(column, "a header, footer or beacon column holds bytes or text");
          continue;
        }
        const s = spec(column);
        if (s.action === "DO_NOTHING") {
          defineField(plain, column, value);
          continue;
        }
        if (value === null || value === undefined) {
          // Absent when sealed (a sealed NULL is bytes), or set to NULL since: the signature tells.
          defineField(plain, column, null);
          continue;
        }
        if (s.action === "ENCRYPT_AND_SIGN") {
          if (!isBytes(value)) throw itemError(column, "an encrypted column holds the sealed bytes (bytea)");
          defineField(item, column, { B: value });
        } else {
          defineField(item, column, toAttribute(column, s, value, true).attr);
        }
      }
      return { item, plain };
    });
  }

  function plainRow(opened: Item, plain: PlainRow): PlainRow {
    const out: PlainRow = { ...plain };
    for (const [name, value] of Object.entries(opened)) {
      if (!name.startsWith(RESERVED)) defineField(out, name, fromAttribute(name, spec(name), value));
    }
    return out;
  }

  /** Conditions as the core's items: equality values by the column's type, prefixes as text. */
  function conditionItems(conditions: SqlConditions): { equal: Item; beginsWith: Item; given: Map<string, unknown> } {
    return reading("INVALID_ITEM", "the conditions", () => {
      const record = plainRecord(conditions, "the conditions");
      const equal: Item = {};
      const beginsWith: Item = {};
      const given = new Map<string, unknown>();
      for (const name of ownKeys(record, (why) => new FieldsealError("INVALID_ITEM", `conditions: ${why}`))) {
        if (name === "beginsWith") {
          const prefixes = plainRecord(record[name], "beginsWith");
          for (const beacon of ownKeys(prefixes, (why) => new FieldsealError("INVALID_ITEM", `beginsWith: ${why}`))) {
            const prefix = prefixes[beacon];
            if (typeof prefix !== "string") throw itemError(beacon, "beginsWith takes a string prefix");
            defineField(beginsWith, beacon, { S: prefix });
          }
          continue;
        }
        const s = columns.get(name);
        const value = record[name];
        const { attr, stored } = s ? toAttribute(name, s, value, false) : { attr: marshallValue(value, name), stored: value };
        defineField(equal, name, attr);
        given.set(name, stored);
      }
      return { equal, beginsWith, given };
    });
  }

  type QueryValue = { name: string; beginsWith: boolean; attribute: string; beacon: boolean; values: { S?: string }[] };
  const queryValues = async (equal: Item, beginsWith: Item) => (await (await built()).queryValues(equal, beginsWith)) as QueryValue[];

  return Object.freeze({
    name: table,

    sealRow(row: PlainRow): Promise<StoredRow> {
      return guarded(async () => {
        const { item, stored } = rowItem(row, "row");
        await built();
        return storedRow(await encryptor.encryptItem(item), stored);
      });
    },

    sealRows(rows: PlainRow[]): Promise<StoredRow[]> {
      return guarded(async () => {
        if (!Array.isArray(rows)) throw new FieldsealError("INVALID_ITEM", "expected an array of rows");
        const parts = rows.map((row, i) => rowItem(row, `row #${i}`));
        await built();
        const sealed = await encryptor.encryptItems(parts.map((p) => p.item));
        return sealed.map((item, i) => storedRow(item, parts[i]!.stored));
      });
    },

    openRow(row: StoredRow): Promise<PlainRow> {
      return guarded(async () => {
        const { item, plain } = openItem(row, "row");
        await built();
        return plainRow(await encryptor.decryptItem(item), plain);
      });
    },

    openRows(rows: StoredRow[]): Promise<PlainRow[]> {
      return guarded(async () => {
        if (!Array.isArray(rows)) throw new FieldsealError("INVALID_ITEM", "expected an array of rows");
        const parts = rows.map((row, i) => openItem(row, `row #${i}`));
        await built();
        const opened = await encryptor.decryptItems(parts.map((p) => p.item));
        return opened.map((item, i) => plainRow(item, parts[i]!.plain));
      });
    },

    ddl(): SealedTableDdl {
      const lines: string[] = [];
      // The signed and DO_NOTHING columns keep the definitions you give them (keys, constraints, defaults).
      for (const [column, s] of columns) if (s.action === "ENCRYPT_AND_SIGN") lines.push(`${ident(column)} bytea`);
      lines.push(`${ident(HEAD)} bytea`, `${ident(FOOT)} bytea`);
      // COLLATE "C": byte order, so the btree index serves both = and a LIKE prefix.
      for (const beacon of beacons) lines.push(`${ident(beacon)} text COLLATE "C"`);
      const indexes = beacons.map((beacon) => `CREATE INDEX ${ident(`${table}_${beacon}`)} ON ${ident(table)} (${ident(beacon)})`);
      return { columns: lines.join(",\n"), indexes };
    },

    beaconValue(name: string, plaintext: unknown): Promise<string> {
      return guarded(async () => {
        const { equal } = conditionItems({ [name]: plaintext });
        const found = (await queryValues(equal, {}))[0];
        if (!found?.beacon) throw new FieldsealError("REQUEST_REFUSED", `column ${JSON.stringify(name)} has no beacon in table ${JSON.stringify(table)}`);
        if (found.values.length !== 1) {
          throw new FieldsealError("REQUEST_REFUSED", `beacon ${JSON.stringify(name)} has ${found.values.length} values (one per partition): use where()`);
        }
        return found.values[0]!.S!;
      });
    },

    where(conditions: SqlConditions, options: { startAt?: number } = {}): Promise<SqlFragment> {
      return guarded(async () => {
        const startAt = options.startAt ?? 1;
        if (!Number.isSafeInteger(startAt) || startAt < 1) throw new FieldsealError("INVALID_CONFIG", "startAt must be a positive integer");
        const { equal, beginsWith, given } = conditionItems(conditions);
        const values: unknown[] = [];
        const param = (value: unknown) => `$${startAt + values.push(value) - 1}`;
        const terms: string[] = [];
        for (const q of await queryValues(equal, beginsWith)) {
          const column = ident(q.attribute);
          if (q.beginsWith) {
            // A beacon's prefix is beacon text; a plain column's is the prefix given.
            const likes = q.values.map((v) => `${column} LIKE ${param(likePrefix(v.S ?? ""))}`);
            terms.push(likes.length === 1 ? likes[0]! : `(${likes.join(" OR ")})`);
          } else if (!q.beacon) {
            const value = given.get(q.name);
            terms.push(value === null ? `${column} IS NULL` : `${column} = ${param(value)}`);
          } else if (q.values.length === 1) {
            terms.push(`${column} = ${param(q.values[0]!.S)}`);
          } else {
            terms.push(`${column} IN (${q.values.map((v) => param(v.S)).join(", ")})`);
          }
        }
        return { sql: terms.join(" AND "), values };
      });
    },

    filter<R extends PlainRow>(rows: R[], conditions: SqlConditions): R[] {
      try {
        if (!wasm) throw new FieldsealError("INVALID_CONFIG", "filter() works on opened rows: call openRow or openRows first");
        if (!Array.isArray(rows)) throw new FieldsealError("INVALID_ITEM", "expected an array of rows");
        const { equal, beginsWith } = conditionItems(conditions);
        const items = rows.map((row, i) =>
          reading("INVALID_ITEM", `row #${i}`, () => {
            const record = plainRecord(row, `row #${i}`);
            const item: Item = {};
            for (const column of Object.keys(record)) {
              const s = columns.get(column);
              if (s && record[column] !== undefined) defineField(item, column, toAttribute(column, s, record[column], false).attr);
            }
            return item;
          }),
        );
        const holds = wasm.conditionsHold(equal, beginsWith, items);
        return rows.filter((_, i) => holds[i] === 1);
      } catch (error) {
        throw toFieldsealError(error);
      }
    },

    free(): void {
      wasm = undefined;
      encryptor.free();
    },
  });
}
