// Records (SQL rows of plain JS values) seal to bytes and come back as they went in.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FieldsealError, ItemEncryptor } from "fieldseal";
import { aesKeyring } from "./helpers/common.mjs";

function rowEncryptor(suite = "0x6700") {
  return new ItemEncryptor({
    logicalTableName: "customers",
    partitionKeyName: "id",
    attributeActionsOnEncrypt: {
      id: "SIGN_ONLY",
      name: "ENCRYPT_AND_SIGN",
      ssn: "ENCRYPT_AND_SIGN",
      balance: "ENCRYPT_AND_SIGN",
      big: "ENCRYPT_AND_SIGN",
      tiny: "ENCRYPT_AND_SIGN",
      active: "SIGN_ONLY",
      avatar: "SIGN_ONLY",
      prefs: "ENCRYPT_AND_SIGN",
      tags: "ENCRYPT_AND_SIGN",
      scores: "ENCRYPT_AND_SIGN",
      blobs: "ENCRYPT_AND_SIGN",
      nothing: "ENCRYPT_AND_SIGN",
      note: "DO_NOTHING",
    },
    allowedUnsignedAttributes: ["note"],
    algorithmSuiteId: suite,
    keyring: aesKeyring(3),
  });
}

const row = () => ({
  id: "cust-42",
  name: "Zoë Ünïcode 😀",
  ssn: "078-05-1120",
  balance: -1234.5,
  big: 123456789012345678901234567890n,
  tiny: 1e-7,
  active: true,
  avatar: new Uint8Array([137, 80, 78, 71]),
  prefs: { theme: "dark", nested: { list: [1, "two", null, false, { deep: [3.25] }] } },
  tags: new Set(["a", "b", "ß"]),
  scores: new Set([1, 2.5, 10n ** 30n]),
  blobs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
  nothing: null,
  note: "not signed",
});

for (const suite of ["0x6700", "0x6701"]) {
  test(`a record round trips exactly (${suite})`, async () => {
    const enc = rowEncryptor(suite);
    const sealed = await enc.encryptRecord(row());
    for (const k of ["name", "ssn", "balance", "big", "tiny", "prefs", "tags", "scores", "blobs", "nothing", "aws_dbe_head", "aws_dbe_foot"]) {
      assert.ok(sealed[k] instanceof Uint8Array, `${k} is stored as bytes`);
    }
    assert.equal(sealed.id, "cust-42");
    assert.equal(sealed.active, true);
    assert.deepEqual(sealed.avatar, new Uint8Array([137, 80, 78, 71]));
    assert.equal(sealed.note, "not signed");
    const flat = JSON.stringify(sealed, (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v));
    assert.ok(!flat.includes("078-05-1120") && !flat.includes("Zoë"), "no plaintext of encrypted fields");
    const opened = await enc.decryptRecord(sealed);
    assert.deepEqual(opened, row());
  });
}

test("batches of records are all or nothing", async () => {
  const enc = rowEncryptor();
  const sealed = await enc.encryptRecords([row(), row()]);
  assert.deepEqual(await enc.decryptRecords(sealed), [row(), row()]);
  sealed[1].ssn[3] ^= 1;
  await assert.rejects(enc.decryptRecords(sealed), (e) => e instanceof FieldsealError && e.code === "INTEGRITY_FAILURE" && /record #1|item #1/.test(e.message));
});

test("a tampered sealed record does not open", async () => {
  const enc = rowEncryptor();
  const sealed = await enc.encryptRecord(row());
  for (const mutate of [
    (r) => { r.ssn = new Uint8Array(r.ssn); r.ssn[r.ssn.length - 1] ^= 1; },
    (r) => { r.active = false; },
    // The partition key is in the encryption context, so the data key no longer verifies.
    (r) => { r.id = "cust-43"; },
    (r) => { [r.name, r.ssn] = [r.ssn, r.name]; },
    (r) => { delete r.balance; },
    (r) => { r.extra = "added"; },
  ]) {
    const copy = { ...sealed };
    mutate(copy);
    await assert.rejects(enc.decryptRecord(copy), (e) => e instanceof FieldsealError && ["INTEGRITY_FAILURE", "INVALID_ITEM"].includes(e.code), String(mutate));
  }
});

test("values a record cannot hold are refused with the field's path", async () => {
  const enc = rowEncryptor();
  for (const [value, pattern] of [
    [undefined, /undefined/],
    [() => 1, /function/],
    [Symbol("s"), /symbol/],
    [new Date(0), /Date/],
    [new Map(), /Map/],
    [Number.NaN, /NaN/],
    [Infinity, /Infinity/],
    [2 ** 60, /bigint/],
    [new Set(), /empty Set/],
    [new Set(["a", 1]), /only strings/],
    [{ deep: (() => { let v = 1; for (let i = 0; i < 40; i++) v = [v]; return v; })() }, /nested deeper/],
  ]) {
    await assert.rejects(
      enc.encryptRecord({ ...row(), prefs: value }),
      (e) => e instanceof FieldsealError && e.code === "INVALID_ITEM" && e.message.startsWith("prefs") && pattern.test(e.message),
      `prefs = ${String(value)}`,
    );
  }
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  await assert.rejects(enc.encryptRecord({ ...row(), prefs: cyclic }), (e) => e.code === "INVALID_ITEM");
  await assert.rejects(enc.encryptRecord([1, 2]), (e) => e.code === "INVALID_ITEM");
});

test("binary inputs of every kind are copied at call time and come back as Uint8Array", async () => {
  const enc = new ItemEncryptor({
    logicalTableName: "files",
    partitionKeyName: "id",
    attributeActionsOnEncrypt: { id: "SIGN_ONLY", buf: "ENCRYPT_AND_SIGN", ab: "ENCRYPT_AND_SIGN", view: "ENCRYPT_AND_SIGN", u16: "SIGN_ONLY", part: "ENCRYPT_AND_SIGN" },
    algorithmSuiteId: "0x6700",
    keyring: aesKeyring(4),
  });
  const backing = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]);
  const record = {
    id: "f1",
    buf: Buffer.from("héllo"),
    ab: backing.buffer.slice(0, 3),
    view: new DataView(backing.buffer, 2, 2),
    u16: new Uint16Array([0x0102, 0x0304]),
    part: backing.subarray(5),
  };
  const pending = enc.encryptRecord(record);
  backing.fill(0); // changed after the call: must not matter
  record.buf[0] = 0;
  const opened = await enc.decryptRecord(await pending);
  assert.deepEqual(opened, {
    id: "f1",
    buf: new Uint8Array(Buffer.from("héllo")),
    ab: new Uint8Array([9, 8, 7]),
    view: new Uint8Array([7, 6]),
    u16: new Uint8Array(new Uint16Array([0x0102, 0x0304]).buffer),
    part: new Uint8Array([4, 3, 2]),
  });
  for (const v of Object.values(opened)) if (typeof v !== "string") assert.equal(Object.getPrototypeOf(v), Uint8Array.prototype);
});

test("numbers: what comes back as number, as bigint, or is refused", async () => {
  const enc = rowEncryptor();
  const cases = {
    name: 0.1 + 0.2,
    balance: -0.000123,
    big: 2n ** 53n, // beyond the safe range: stays a bigint
    tiny: Number.MAX_SAFE_INTEGER,
    prefs: [5n, -7n, 1.5e-100, 123456.789], // small bigints come back as numbers, like util-dynamodb's unmarshall
    scores: new Set([3n, 2 ** 53 - 1]),
  };
  const opened = await enc.decryptRecord(await enc.encryptRecord({ id: "n", ...cases }));
  assert.deepEqual(opened, {
    id: "n",
    name: 0.30000000000000004,
    balance: -0.000123,
    big: 9007199254740992n,
    tiny: 9007199254740991,
    prefs: [5, -7, 1.5e-100, 123456.789],
    scores: new Set([3, 9007199254740991]),
  });
  // Out of DynamoDB's range (1e-130 to 1e126): refused by the core.
  await assert.rejects(enc.encryptRecord({ id: "n", tiny: 1e-200 }), (e) => e instanceof FieldsealError && e.code === "INVALID_ITEM");
  await assert.rejects(enc.encryptRecord({ id: "n", big: 10n ** 130n }), (e) => e instanceof FieldsealError && e.code === "INVALID_ITEM");
});

test("a stored number with more precision than a JS number is refused on decryptRecord, not rounded", async () => {
  const enc = rowEncryptor();
  // Written by another client (e.g. Java with BigDecimal) as a DynamoDB item.
  const sealed = await enc.encryptItem({ id: { S: "p" }, balance: { N: "0.1000000000000000000000000001" } });
  const asRecord = Object.fromEntries(Object.entries(sealed).map(([k, v]) => [k, v.S ?? v.B]));
  await assert.rejects(
    enc.decryptRecord(asRecord),
    (e) => e instanceof FieldsealError && e.code === "INVALID_ITEM" && /^balance: .*more precision/.test(e.message) && !e.message.includes("0.1000000000000000000000000001"),
  );
  // decryptItem gives it exactly.
  assert.equal((await enc.decryptItem(sealed)).balance.N, "0.1000000000000000000000000001");
});

test("a sealed record's plaintext binary column stays a Uint8Array; sealed output is plain data (JSON-able after base64)", async () => {
  const enc = rowEncryptor();
  const sealed = await enc.encryptRecord(row());
  assert.equal(Object.getPrototypeOf(sealed), Object.prototype);
  assert.ok(sealed.avatar instanceof Uint8Array);
  const wire = JSON.stringify(sealed, (_, v) => (v instanceof Uint8Array ? { $b64: Buffer.from(v).toString("base64") } : typeof v === "bigint" ? { $n: String(v) } : v));
  const back = JSON.parse(wire, (_, v) => (v && v.$b64 !== undefined ? new Uint8Array(Buffer.from(v.$b64, "base64")) : v));
  assert.deepEqual(await enc.decryptRecord(back), row());
});
