// fieldseal/sql without a database: how a row maps to stored column values
// and back from what `pg` returns (Buffers, numeric strings, bigints, jsonb
// objects, Dates), the DDL text, the where builder and the plaintext filter,
// the tampers a SQL user could make, and the errors naming the column. The
// beacon cases read their beacon key from a key store in moto (the live
// PostgreSQL test is tests/js/sql.test.mjs).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { defineSealedTable } from "fieldseal/sql";
import { KeyStore } from "fieldseal/kms";
import { aesKeyring, expectFieldsealError } from "./helpers/common.mjs";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const COLUMNS = {
  id: "SIGN_ONLY",
  email: "ENCRYPT_AND_SIGN",
  card: "ENCRYPT_AND_SIGN",
  total: { action: "SIGN_ONLY", type: "numeric" },
  qty: { action: "ENCRYPT_AND_SIGN", type: "numeric" },
  paid: { action: "SIGN_ONLY", type: "boolean" },
  prefs: { action: "ENCRYPT_AND_SIGN", type: "jsonb" },
  tags: { action: "SIGN_ONLY", type: "jsonb" },
  placed: { action: "SIGN_ONLY", type: "timestamptz" },
  due: { action: "ENCRYPT_AND_SIGN", type: "date" },
  shipped: { action: "SIGN_ONLY", type: "date" },
  photo: { action: "ENCRYPT_AND_SIGN", type: "bytea" },
  note: "DO_NOTHING",
};

const orders = (extra = {}) => defineSealedTable({ name: "orders", primaryKey: ["id"], columns: COLUMNS, keyring: aesKeyring(5), algorithmSuiteId: "0x6700", ...extra });

const sampleRow = (id = 1) => ({
  id,
  email: `buyer${id}@example.com`,
  card: null,
  total: 12.5,
  qty: 3n,
  paid: true,
  prefs: { theme: "dark", sizes: [1, 2.5], nested: { on: false, none: null } },
  tags: ["a", "b"],
  placed: new Date("2026-11-30T10:20:30.456Z"),
  due: new Date("2026-12-24T00:00:00.000Z"),
  shipped: "2026-12-01",
  photo: new Uint8Array([0, 1, 2, 255]),
  note: "left alone",
});

/** What node-postgres hands back for a stored row: bytea as Buffer, numeric as text, jsonb parsed, date as local midnight. */
function asPgReturns(stored) {
  const out = {};
  for (const [k, v] of Object.entries(stored)) {
    if (v instanceof Uint8Array) out[k] = Buffer.from(v);
    else if (k === "total") out[k] = v === null ? null : Number(v).toFixed(2); // numeric(10,2): "12.50"
    else if (k === "tags") out[k] = v === null ? null : JSON.parse(v);
    else if (k === "shipped" && v !== null) {
      const [y, m, d] = v.split("-").map(Number);
      out[k] = new Date(y, m - 1, d);
    } else out[k] = v;
  }
  return out;
}

describe("rows without beacons", () => {
  test("sealRow: encrypted columns are bytes, the header and footer bytes, signed columns stored as pg takes them", async () => {
    const table = orders();
    const stored = await table.sealRow(sampleRow());
    for (const c of ["email", "card", "qty", "prefs", "due", "photo", "aws_dbe_head", "aws_dbe_foot"]) assert.ok(stored[c] instanceof Uint8Array, c);
    assert.equal(stored.id, 1);
    assert.equal(stored.total, 12.5);
    assert.equal(stored.paid, true);
    assert.equal(stored.tags, '["a","b"]', "jsonb is stored as its JSON text (pg would write a JS array as a SQL array)");
    assert.deepEqual(stored.placed, new Date("2026-11-30T10:20:30.456Z"));
    assert.equal(stored.shipped, "2026-12-01");
    assert.equal(stored.note, "left alone");
    table.free();
  });

  test("openRow takes what pg returns (Buffer, numeric strings, bigint, jsonb objects, Date) and gives the row back", async () => {
    const table = orders();
    const row = sampleRow(7);
    const opened = await table.openRow(asPgReturns(await table.sealRow(row)));
    assert.deepEqual(opened, {
      ...row,
      qty: 3,
      due: new Date("2026-12-24T00:00:00.000Z"),
      shipped: new Date("2026-12-01T00:00:00.000Z"),
    });
    // int8 read as bigint (pg's type parser set to BigInt) opens as the same number.
    const stored = await table.sealRow({ id: 8, total: 9007199254740993n });
    const back = await table.openRow({ ...stored, total: 9007199254740993n });
    assert.equal(back.total, 9007199254740993n);
    table.free();
  });

  test("null of an encrypted column is sealed; an absent column stays absent; a signed NULL reads as absent", async () => {
    const table = orders();
    const stored = await table.sealRow({ id: 2, email: null, paid: null });
    assert.ok(stored.email instanceof Uint8Array, "a sealed NULL is bytes");
    assert.equal(stored.paid, null);
    assert.ok(!("card" in stored));
    const opened = await table.openRow({ ...asPgReturns(stored), card: null, total: null });
    assert.deepEqual(opened, { id: 2, email: null, paid: null, card: null, total: null });
    table.free();
  });

  test("sealRows / openRows round trip a batch", async () => {
    const table = orders();
    const rows = [1, 2, 3].map(sampleRow);
    const opened = await table.openRows((await table.sealRows(rows)).map(asPgReturns));
    assert.deepEqual(opened.map((r) => r.email), rows.map((r) => r.email));
    assert.deepEqual(opened.map((r) => r.prefs), rows.map((r) => r.prefs));
    table.free();
  });

  test("tampers are INTEGRITY_FAILURE", async () => {
    const table = orders();
    const [a, b] = (await table.sealRows([sampleRow(1), sampleRow(2)])).map(asPgReturns);
    const tampers = {
      "a sealed column copied from another row": { ...a, email: b.email },
      "aws_dbe_foot with a byte changed": { ...a, aws_dbe_foot: Buffer.from(a.aws_dbe_foot).fill(7, 3, 4) },
      "a SIGN_ONLY column updated": { ...a, total: "13.50" },
      "a SIGN_ONLY date updated": { ...a, shipped: new Date(2026, 11, 2) },
      "an encrypted column set to NULL": { ...a, email: null },
      "a SIGN_ONLY column set to NULL": { ...a, paid: null },
      "a column absent when sealed set later": { ...(await table.sealRow({ id: 3 })), paid: false },
    };
    for (const [what, row] of Object.entries(tampers)) {
      const error = await expectFieldsealError("INTEGRITY_FAILURE", () => table.openRow(row)).catch((e) => assert.fail(`${what}: ${e.message}`));
      assert.ok(error, what);
    }
    // aws_dbe_foot truncated: the header fixes its length (48 bytes per data key with suite 0x6700).
    await expectFieldsealError("INTEGRITY_FAILURE", () => table.openRow({ ...a, aws_dbe_foot: a.aws_dbe_foot.subarray(0, a.aws_dbe_foot.length - 1) }));
    // A whole row copied under another primary key: the key is bound into the
    // data key's encryption context, under which the wrapped key then does not
    // verify (as for a DynamoDB item moved to another key).
    const moved = await expectFieldsealError("INTEGRITY_FAILURE", () => table.openRow({ ...a, id: 2 }));
    assert.match(moved.message, /altered or moved/);
    // DO_NOTHING is not signed: changing it is allowed.
    assert.equal((await table.openRow({ ...a, note: "changed" })).note, "changed");
    table.free();
  });

  test("errors name the column", async () => {
    const table = orders();
    const missing = await expectFieldsealError("INVALID_ITEM", () => table.sealRow({ email: "x@y.z" }));
    assert.match(missing.message, /primary key column "id"/);
    const noAction = await expectFieldsealError("INVALID_ITEM", () => table.sealRow({ id: 1, colour: "red" }));
    assert.match(noAction.message, /"colour"/);
    const unsupported = await expectFieldsealError("INVALID_ITEM", () => table.sealRow({ id: 1, email: new Map() }));
    assert.match(unsupported.message, /email/);
    const undef = await expectFieldsealError("INVALID_ITEM", () => table.sealRow({ id: 1, card: undefined }));
    assert.match(undef.message, /"card"/);
    const wrongType = await expectFieldsealError("INVALID_ITEM", () => table.sealRow({ id: 1, total: "twelve" }));
    assert.match(wrongType.message, /"total"/);
    const never = await expectFieldsealError("INVALID_ITEM", () => table.openRow({ id: 1, email: null, total: "1.00" }));
    assert.match(never.message, /never sealed.*aws_dbe_head/);
    const notBytes = await expectFieldsealError("INVALID_ITEM", () => table.openRow({ id: 1, email: "plain", aws_dbe_head: Buffer.alloc(1), aws_dbe_foot: Buffer.alloc(1) }));
    assert.match(notBytes.message, /"email"/);
    const noBeacon = await expectFieldsealError("REQUEST_REFUSED", () => table.where({ email: "x@y.z" }));
    assert.match(noBeacon.message, /email/);
    const noBeaconValue = await expectFieldsealError("REQUEST_REFUSED", () => table.beaconValue("total", 5));
    assert.match(noBeaconValue.message, /"total"/);
    await expectFieldsealError("INVALID_CONFIG", async () => defineSealedTable({ name: "t", primaryKey: ["id"], columns: { id: "SIGN_ONLY", bad: "ENCRYPT" }, keyring: aesKeyring() })).then((e) =>
      assert.match(e.message, /"bad"/),
    );
    await expectFieldsealError("INVALID_CONFIG", async () => defineSealedTable({ name: "t", primaryKey: ["id"], columns: { id: "SIGN_ONLY", x: { action: "SIGN_ONLY", type: "money" } }, keyring: aesKeyring() })).then((e) =>
      assert.match(e.message, /"x"/),
    );
    await expectFieldsealError("INVALID_CONFIG", async () => defineSealedTable({ name: "t", primaryKey: [], columns: {}, keyring: aesKeyring() }));
    table.free();
  });

  test("a NULL or absent SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT column is INVALID_ITEM naming it, as the DB-ESDK refuses it", async () => {
    const table = defineSealedTable({
      name: "orders",
      primaryKey: ["id"],
      columns: { id: "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT", region: "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT", email: "ENCRYPT_AND_SIGN" },
      keyring: aesKeyring(5),
    });
    for (const row of [{ id: 1, region: null, email: "x@y.z" }, { id: 1, email: "x@y.z" }]) {
      const e = await expectFieldsealError("INVALID_ITEM", () => table.sealRow(row));
      assert.match(e.message, /"region".*SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT/);
    }
    const stored = await table.sealRow({ id: 1, region: "eu", email: "x@y.z" });
    assert.deepEqual(await table.openRow(stored), { id: 1, region: "eu", email: "x@y.z" });
    table.free();
  });

  test("ddl: the encrypted columns, header and footer, no beacons", () => {
    assert.deepEqual(orders().ddl(), {
      columns: [
        '"email" bytea',
        '"card" bytea',
        '"qty" bytea',
        '"prefs" bytea',
        '"due" bytea',
        '"photo" bytea',
        '"aws_dbe_head" bytea',
        '"aws_dbe_foot" bytea',
      ].join(",\n"),
      indexes: [],
    });
  });

  test("where on signed columns without beacons: parameterized, from startAt", async () => {
    const table = orders();
    assert.deepEqual(await table.where({ total: 12.5, shipped: "2026-12-01" }, { startAt: 3 }), { sql: '"shipped" = $3 AND "total" = $4', values: ["2026-12-01", 12.5] });
    const rows = [sampleRow(1), { ...sampleRow(2), total: 3 }];
    await table.openRow(asPgReturns(await table.sealRow(rows[0]))); // builds the encryptor filter() uses
    assert.deepEqual(table.filter(rows, { total: 12.5 }), [rows[0]]);
    table.free();
  });
});

describe("rows with beacons", () => {
  let moto;
  let keyStore;
  const BRANCH_KEY = "sql-unit-beacons";

  before(async () => {
    moto = await startMoto();
    const options = { region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 };
    const kms = new KMSClient(options);
    const kmsKeyArn = (await kms.send(new CreateKeyCommand({ Description: "fieldseal sql unit" }))).KeyMetadata.Arn;
    keyStore = new KeyStore({ ddbTableName: "SqlUnitKeyStore", logicalKeyStoreName: "SqlUnitKeyStore", kmsConfiguration: { kmsKeyArn }, ddbClient: new DynamoDBClient(options), kmsClient: kms });
    await keyStore.createKeyStore();
    await keyStore.createKey({ branchKeyIdentifier: BRANCH_KEY, encryptionContext: { purpose: "sql-unit" } });
  });
  after(async () => moto?.stop());

  const searchable = (length = 2, partitions = {}) =>
    defineSealedTable({
      name: "orders",
      primaryKey: ["id"],
      columns: { id: "SIGN_ONLY", email: "ENCRYPT_AND_SIGN", status: "SIGN_ONLY", total: { action: "SIGN_ONLY", type: "numeric" } },
      keyring: aesKeyring(6),
      search: {
        writeVersion: 1,
        versions: [
          {
            version: 1,
            keyStore,
            keySource: { single: { keyId: BRANCH_KEY, cacheTTL: 300 } },
            // 2 bits: four beacon values, so many emails share one (false positives).
            standardBeacons: [{ name: "email", length }],
            compoundBeacons: [{ name: "compoundName", split: "|", signed: [{ name: "status", prefix: "S-" }], encrypted: [{ name: "email", prefix: "E-" }] }],
            ...partitions,
          },
        ],
      },
    });

  test("ddl: beacon columns (text, byte order) and their indexes", () => {
    const { columns, indexes } = searchable().ddl();
    assert.equal(
      columns,
      ['"email" bytea', '"aws_dbe_head" bytea', '"aws_dbe_foot" bytea', '"aws_dbe_b_email" text COLLATE "C"', '"aws_dbe_b_compoundName" text COLLATE "C"'].join(",\n"),
    );
    assert.deepEqual(indexes, [
      'CREATE INDEX "orders_aws_dbe_b_email" ON "orders" ("aws_dbe_b_email")',
      'CREATE INDEX "orders_aws_dbe_b_compoundName" ON "orders" ("aws_dbe_b_compoundName")',
    ]);
  });

  test("sealRow stores the beacons as text; beaconValue and where give the same value; openRow drops them", async () => {
    const table = searchable(16);
    const row = { id: 1, email: "a@b.c", status: "shipped", total: "10.00" };
    const stored = await table.sealRow(row);
    assert.equal(typeof stored.aws_dbe_b_email, "string");
    assert.equal(stored.aws_dbe_b_email, await table.beaconValue("email", "a@b.c"));
    assert.ok(stored.aws_dbe_b_compoundName.startsWith("S-shipped|E-"), stored.aws_dbe_b_compoundName);
    // The version tag is signed but not stored (the DB-ESDK's item encryptor drops it).
    assert.ok(!("aws_dbe_v_1" in stored));
    assert.deepEqual(await table.where({ email: "a@b.c" }), { sql: '"aws_dbe_b_email" = $1', values: [stored.aws_dbe_b_email] });
    assert.deepEqual(await table.where({ beginsWith: { compoundName: "S-shipped" } }, { startAt: 2 }), { sql: '"aws_dbe_b_compoundName" LIKE $2', values: ["S-shipped%"] });
    assert.deepEqual(await table.where({ beginsWith: { compoundName: "S-50%_off" } }), { sql: '"aws_dbe_b_compoundName" LIKE $1', values: ["S-50\\%\\_off%"] });
    assert.deepEqual(await table.openRow(asPgReturns(stored)), { id: 1, email: "a@b.c", status: "shipped", total: 10 });
    // A signed beacon column changed, or the beacon of another row: the signed compound part is checked, the encrypted beacon is not signed.
    await expectFieldsealError("INTEGRITY_FAILURE", () => table.openRow({ ...asPgReturns(stored), status: "returned" }));
    table.free();
  });

  test("filter drops the beacons' false positives, for equality and for a compound prefix", async () => {
    const table = searchable(2);
    const rows = Array.from({ length: 24 }, (_, i) => ({ id: i, email: `user${i}@example.com`, status: i % 3 ? "shipped" : "open", total: i }));
    const stored = await table.sealRows(rows);
    const { values } = await table.where({ email: "user5@example.com" });
    const candidates = stored.filter((s) => s.aws_dbe_b_email === values[0]);
    assert.ok(candidates.length > 1, "a 2-bit beacon matches other emails too");
    const opened = await table.openRows(candidates.map(asPgReturns));
    assert.deepEqual(table.filter(opened, { email: "user5@example.com" }).map((r) => r.id), [5]);
    const prefix = await table.where({ beginsWith: { compoundName: "S-shipped" } });
    const byPrefix = stored.filter((s) => s.aws_dbe_b_compoundName.startsWith(prefix.values[0].slice(0, -1)));
    const shipped = table.filter(await table.openRows(byPrefix.map(asPgReturns)), { beginsWith: { compoundName: "S-shipped" } });
    assert.deepEqual(shipped.map((r) => r.id), rows.filter((r) => r.status === "shipped").map((r) => r.id));
    await expectFieldsealError("REQUEST_REFUSED", () => table.where({ total: 1, beginsWith: { email: "user" } }));
    table.free();
  });

  test("a beacon with partitions: where() matches every partition's value, beaconValue refuses", async () => {
    let next = 0;
    const table = searchable(16, { maximumNumberOfPartitions: 3, partitionSelector: (_item, n) => next++ % n });
    const stored = await table.sealRows([1, 2, 3].map((id) => ({ id, email: "same@example.com", status: "open" })));
    const { sql, values } = await table.where({ email: "same@example.com" }, { startAt: 4 });
    assert.equal(sql, '"aws_dbe_b_email" IN ($4, $5, $6)');
    assert.equal(new Set(values).size, 3);
    assert.deepEqual(new Set(stored.map((s) => s.aws_dbe_b_email)), new Set(values));
    const many = await expectFieldsealError("REQUEST_REFUSED", () => table.beaconValue("email", "same@example.com"));
    assert.match(many.message, /"email"/);
    table.free();
  });
});
