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
    // The partition key is in the encryption context, so the data key no longer unwraps.
    (r) => { r.id = "cust-43"; },
    (r) => { [r.name, r.ssn] = [r.ssn, r.name]; },
    (r) => { delete r.balance; },
    (r) => { r.extra = "added"; },
  ]) {
    const copy = { ...sealed };
    mutate(copy);
    await assert.rejects(enc.decryptRecord(copy), (e) => e instanceof FieldsealError && ["INTEGRITY_FAILURE", "INVALID_ITEM", "NO_MATCHING_KEY"].includes(e.code), String(mutate));
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
