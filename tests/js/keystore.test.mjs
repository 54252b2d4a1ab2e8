// The branch key store and the AWS KMS hierarchical keyring (fieldseal/kms)
// against a live local KMS and DynamoDB (patched moto on loopback), through
// real @aws-sdk v3 clients. Calls are counted, and faults injected, with
// middleware on those clients: the way a user would observe them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { DeleteItemCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { ItemEncryptor } from "fieldseal";
import { AwsKmsHierarchicalKeyring, BranchKeyCache, KeyStore } from "fieldseal/kms";
import { expectFieldsealError } from "./helpers/common.mjs";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const TABLE = "BranchKeyStore";
const LOGICAL = "fieldseal-test-store";
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let moto;
let keyArn; // the store's KMS key
let otherKeyArn; // another key, for the kms-arn swap
let admin; // an uncounted DynamoDB client for looking at and tampering with the table

/**
 * The user's clients, with middleware that records every command (name and
 * input) and can throw an injected error instead of sending one.
 */
function clients() {
  const options = { region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 };
  const ddb = new DynamoDBClient(options);
  const kms = new KMSClient(options);
  const calls = { ddb: [], kms: [] };
  const faults = { ddb: undefined, kms: undefined };
  for (const [which, client] of [["ddb", ddb], ["kms", kms]]) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName.replace(/Command$/, "");
        calls[which].push({ name, input: args.input });
        const fault = faults[which]?.(name, args.input);
        if (fault) throw Object.assign(new Error(`injected ${fault}`), { name: fault, $fault: "client", $metadata: {} });
        return next(args);
      },
      { step: "initialize", name: "fieldsealTestCounter" },
    );
  }
  const count = (which, name) => calls[which].filter((c) => c.name === name).length;
  const reset = () => {
    calls.ddb.length = 0;
    calls.kms.length = 0;
  };
  return { ddb, kms, calls, faults, count, reset };
}

function keyStoreFor(c, kmsConfiguration = { kmsKeyArn: keyArn }) {
  return new KeyStore({ ddbTableName: TABLE, logicalKeyStoreName: LOGICAL, kmsConfiguration, ddbClient: c.ddb, kmsClient: c.kms });
}

const ACTIONS = { pk: "SIGN_ONLY", sk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN", note: "ENCRYPT_AND_SIGN", total: "SIGN_ONLY" };
const orders = (keyring, suite = "0x6701") =>
  new ItemEncryptor({ logicalTableName: "Orders", partitionKeyName: "pk", sortKeyName: "sk", attributeActionsOnEncrypt: ACTIONS, algorithmSuiteId: suite, keyring });
const order = (i, pk = "customer#7") => ({ pk: { S: pk }, sk: { S: `order#${i}` }, card: { S: `4111-0000-0000-${1000 + i}` }, note: { S: `gift ${i}` }, total: { N: `${i}.5` } });

/** The stored item of a branch key (`type` is its sort key). */
async function stored(id, type) {
  const { Item } = await admin.send(new GetItemCommand({ TableName: TABLE, Key: { "branch-key-id": { S: id }, type: { S: type } }, ConsistentRead: true }));
  return Item;
}

/** The version (UUID) each GetItem of a branch key version asked for, in order. */
const versionsRead = (c) =>
  c.calls.ddb.filter((x) => x.name === "GetItem" && x.input.Key.type.S.startsWith("branch:version:")).map((x) => x.input.Key.type.S.slice("branch:version:".length));

before(async () => {
  moto = await startMoto();
  const kms = new KMSClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS });
  keyArn = (await kms.send(new CreateKeyCommand({ Description: "fieldseal key store key" }))).KeyMetadata.Arn;
  otherKeyArn = (await kms.send(new CreateKeyCommand({ Description: "another key" }))).KeyMetadata.Arn;
  admin = new DynamoDBClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS });
});

after(async () => {
  await moto?.stop();
});

test("createKeyStore creates the table with the key store's schema, once; a second call returns the same ARN", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const { tableArn } = await store.createKeyStore();
  assert.match(tableArn, new RegExp(`^arn:aws:dynamodb:us-east-1:\\d{12}:table/${TABLE}$`));
  assert.deepEqual(await store.createKeyStore(), { tableArn });
  assert.equal(c.count("ddb", "CreateTable"), 1);
  assert.equal(c.count("ddb", "DescribeTable"), 2);
  const create = c.calls.ddb.find((x) => x.name === "CreateTable").input;
  assert.deepEqual(create, {
    TableName: TABLE,
    AttributeDefinitions: [{ AttributeName: "branch-key-id", AttributeType: "S" }, { AttributeName: "type", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "branch-key-id", KeyType: "HASH" }, { AttributeName: "type", KeyType: "RANGE" }],
    BillingMode: "PAY_PER_REQUEST",
  });
  const { Table } = await admin.send(new DescribeTableCommand({ TableName: TABLE }));
  assert.deepEqual(Table.KeySchema, create.KeySchema);
  assert.equal(c.calls.kms.length, 0, "creating the table calls no KMS");
});

test("createKey (random id), the three reads, versionKey: versions differ and the old one stays readable", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const { branchKeyIdentifier: id } = await store.createKey();
  assert.match(id, UUID_V4);
  assert.deepEqual(c.calls.kms.map((x) => x.name), ["GenerateDataKeyWithoutPlaintext", "ReEncrypt", "GenerateDataKeyWithoutPlaintext"]);
  assert.deepEqual(c.calls.ddb.map((x) => x.name), ["TransactWriteItems"]);

  const active = (await store.getActiveBranchKey({ branchKeyIdentifier: id })).branchKeyMaterials;
  assert.equal(active.branchKeyIdentifier, id);
  assert.match(active.branchKeyVersion, UUID_V4);
  assert.deepEqual(active.encryptionContext, {});
  assert.ok(active.branchKey instanceof Uint8Array && active.branchKey.length === 32);

  // The items as the official format has them.
  const item = await stored(id, "branch:ACTIVE");
  assert.deepEqual(item.version, { S: `branch:version:${active.branchKeyVersion}` });
  assert.deepEqual(item["hierarchy-version"], { N: "1" });
  assert.deepEqual(item["kms-arn"], { S: keyArn });
  assert.ok(item.enc.B.length > 0);
  assert.match(item["create-time"].S, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(item.tablename, undefined, "the logical name is bound, not stored");
  const version = await stored(id, `branch:version:${active.branchKeyVersion}`);
  assert.equal(version.version, undefined);
  assert.ok(await stored(id, "beacon:ACTIVE"));

  const same = (await store.getBranchKeyVersion({ branchKeyIdentifier: id, branchKeyVersion: active.branchKeyVersion })).branchKeyMaterials;
  assert.deepEqual(same, active);
  const beacon = (await store.getBeaconKey({ branchKeyIdentifier: id })).beaconKeyMaterials;
  assert.equal(beacon.beaconKeyIdentifier, id);
  assert.equal(beacon.beaconKey.length, 32);
  assert.notDeepEqual(beacon.beaconKey, active.branchKey);
  assert.deepEqual(beacon.encryptionContext, {});

  c.reset();
  assert.deepEqual(await store.versionKey({ branchKeyIdentifier: id }), {});
  assert.deepEqual(c.calls.kms.map((x) => x.name), ["ReEncrypt", "GenerateDataKeyWithoutPlaintext", "ReEncrypt"]);
  const rotated = (await store.getActiveBranchKey({ branchKeyIdentifier: id })).branchKeyMaterials;
  assert.notEqual(rotated.branchKeyVersion, active.branchKeyVersion);
  assert.notDeepEqual(rotated.branchKey, active.branchKey);
  const old = (await store.getBranchKeyVersion({ branchKeyIdentifier: id, branchKeyVersion: active.branchKeyVersion })).branchKeyMaterials;
  assert.deepEqual(old.branchKey, active.branchKey, "the old version is still readable");
  // The beacon key does not rotate.
  assert.deepEqual((await store.getBeaconKey({ branchKeyIdentifier: id })).beaconKeyMaterials.beaconKey, beacon.beaconKey);
});

test("createKey with a custom id needs an encryption context; the context is stored, returned and kept by versionKey", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const id = "tenant-custom";
  assert.deepEqual(await store.createKey({ branchKeyIdentifier: id, encryptionContext: { department: "sales", region: "emea" } }), { branchKeyIdentifier: id });
  const item = await stored(id, "branch:ACTIVE");
  assert.deepEqual(item["aws-crypto-ec:department"], { S: "sales" });
  assert.deepEqual(item["aws-crypto-ec:region"], { S: "emea" });
  const first = (await store.getActiveBranchKey({ branchKeyIdentifier: id })).branchKeyMaterials;
  assert.deepEqual(first.encryptionContext, { department: "sales", region: "emea" });
  await store.versionKey({ branchKeyIdentifier: id });
  const second = (await store.getActiveBranchKey({ branchKeyIdentifier: id })).branchKeyMaterials;
  assert.deepEqual(second.encryptionContext, { department: "sales", region: "emea" });
  assert.notEqual(second.branchKeyVersion, first.branchKeyVersion);

  c.reset();
  for (const input of [{ branchKeyIdentifier: "no-context" }, { branchKeyIdentifier: "empty-context", encryptionContext: {} }]) {
    const e = await expectFieldsealError("INVALID_CONFIG", () => store.createKey(input));
    assert.match(e.message, /encryptionContext/);
  }
  await expectFieldsealError("INVALID_CONFIG", () => store.createKey({ encryptionContext: { n: 42 } }));
  assert.deepEqual(c.calls, { ddb: [], kms: [] }, "refused before any call");

  const taken = await expectFieldsealError("KEY_STORE_FAILURE", () => store.createKey({ branchKeyIdentifier: id, encryptionContext: { department: "other" } }));
  assert.ok(taken.message.includes(id) && taken.message.includes(TABLE), taken.message);
  assert.deepEqual((await stored(id, "branch:ACTIVE"))["aws-crypto-ec:department"], { S: "sales" }, "nothing overwritten");
});

test("two versionKey calls racing on one branch key: one wins, the other writes nothing", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const { branchKeyIdentifier: id } = await store.createKey();
  const results = await Promise.allSettled([store.versionKey({ branchKeyIdentifier: id }), store.versionKey({ branchKeyIdentifier: id })]);
  const lost = results.filter((r) => r.status === "rejected");
  assert.equal(lost.length, 1, JSON.stringify(results.map((r) => r.status)));
  assert.equal(lost[0].reason.code, "KEY_STORE_FAILURE");
  assert.match(lost[0].reason.message, /race/);
  // The ACTIVE item names a version that exists.
  const { branchKeyVersion } = (await store.getActiveBranchKey({ branchKeyIdentifier: id })).branchKeyMaterials;
  assert.ok(await stored(id, `branch:version:${branchKeyVersion}`));
});

for (const suite of ["0x6700", "0x6701"]) {
  test(`hierarchical keyring round trip through the item encryptor (suite ${suite}); items sealed before versionKey open after it, new ones use the new version`, async () => {
    const c = clients();
    const store = keyStoreFor(c);
    const { branchKeyIdentifier: id } = await store.createKey();
    const v1 = (await store.getActiveBranchKey({ branchKeyIdentifier: id })).branchKeyMaterials.branchKeyVersion;
    const keyring = () => new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600 });
    const before = await orders(keyring(), suite).encryptItem(order(1));
    assert.ok(Buffer.from(before.aws_dbe_head.B).includes(Buffer.from("aws-kms-hierarchy")));
    assert.ok(Buffer.from(before.aws_dbe_head.B).includes(Buffer.from(id)));
    assert.notEqual(before.card.S, order(1).card.S);

    await store.versionKey({ branchKeyIdentifier: id });
    const v2 = (await store.getActiveBranchKey({ branchKeyIdentifier: id })).branchKeyMaterials.branchKeyVersion;
    const afterItem = await orders(keyring(), suite).encryptItem(order(2));

    c.reset();
    const reader = orders(keyring(), suite);
    assert.deepEqual(await reader.decryptItem(before), order(1));
    assert.deepEqual(await reader.decryptItem(afterItem), order(2));
    assert.deepEqual(versionsRead(c), [v1, v2], "the old item opened under v1, the new one under v2");
  });
}

test("an encrypting keyring keeps its cached active version until ttlSeconds pass, then reads the new one", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const { branchKeyIdentifier: id } = await store.createKey();
  const enc = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 1 }));
  await enc.encryptItem(order(1));
  await store.versionKey({ branchKeyIdentifier: id });
  c.reset();
  await enc.encryptItem(order(2));
  assert.equal(c.count("ddb", "GetItem"), 0, "served from the cache within the TTL");
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await enc.encryptItem(order(3));
  assert.equal(c.count("ddb", "GetItem"), 1, "read again after the TTL");
  assert.equal(c.count("kms", "Decrypt"), 1);
});

test("1,000 items sealed and opened with ttlSeconds 600: one KMS call and one GetItem per side", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const { branchKeyIdentifier: id } = await store.createKey();
  const items = Array.from({ length: 1000 }, (_, i) => order(i));
  c.reset();
  const writer = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600 }), "0x6700");
  const sealed = await writer.encryptItems(items);
  const sealKms = c.calls.kms.length;
  const sealDdb = c.calls.ddb.length;
  c.reset();
  const reader = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600 }), "0x6700");
  assert.deepEqual(await reader.decryptItems(sealed), items);
  const openKms = c.calls.kms.length;
  const openDdb = c.calls.ddb.length;
  console.log(`per item: KMS ${sealKms / 1000} sealing, ${openKms / 1000} opening; DynamoDB ${sealDdb / 1000} sealing, ${openDdb / 1000} opening`);
  assert.deepEqual(c.calls.kms.map((x) => x.name), ["Decrypt"]);
  assert.equal(sealKms, 1);
  assert.equal(openKms, 1);
  assert.equal(sealDdb, 1);
  assert.equal(openDdb, 1);
});

test("100 concurrent encryptItem calls on a cold cache make one GetItem and one KMS call (single flight)", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const { branchKeyIdentifier: id } = await store.createKey();
  c.reset();
  const enc = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600 }), "0x6700");
  const sealed = await Promise.all(Array.from({ length: 100 }, (_, i) => enc.encryptItem(order(i))));
  assert.equal(sealed.length, 100);
  assert.deepEqual(c.calls.kms.map((x) => x.name), ["Decrypt"]);
  assert.deepEqual(c.calls.ddb.map((x) => x.name), ["GetItem"]);
  // A failed load is not cached, and every waiter gets the failure.
  c.faults.ddb = (name) => name === "GetItem" && "ProvisionedThroughputExceededException";
  const cold = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600 }), "0x6700");
  c.reset();
  const failed = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => cold.encryptItem(order(i))));
  assert.ok(failed.every((r) => r.status === "rejected" && r.reason.code === "KEY_STORE_FAILURE"));
  assert.equal(c.count("ddb", "GetItem"), 1, "the waiters shared the one failed load");
  c.faults.ddb = undefined;
  assert.ok(await cold.encryptItem(order(1)), "the next call loads again");
});

test("a BranchKeyCache shared by two keyrings with one partitionId loads a branch key once; other partitions do not share", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const { branchKeyIdentifier: id } = await store.createKey();
  const cache = new BranchKeyCache({ entryCapacity: 10 });
  const keyring = (partitionId) => new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600, cache, partitionId });
  c.reset();
  const a = orders(keyring("orders-service"));
  const b = orders(keyring("orders-service"));
  const sealed = await a.encryptItem(order(1));
  await b.encryptItem(order(2));
  assert.equal(c.count("kms", "Decrypt"), 1, "the second keyring used the first one's entry");
  assert.equal(cache.size, 1);
  await orders(keyring(undefined)).encryptItem(order(3));
  assert.equal(c.count("kms", "Decrypt"), 2, "a keyring with its own (random) partition loads its own");
  assert.equal(cache.size, 2);
  assert.deepEqual(await b.decryptItem(sealed), order(1));
  assert.equal(c.count("kms", "Decrypt"), 3, "decrypt entries are their own (per version)");
  await expectFieldsealError("INVALID_CONFIG", () => new BranchKeyCache({ entryCapacity: 0 }));
});

test("a branch key id supplier chooses between two tenants by partition key, on encrypt and on decrypt", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  for (const tenant of ["tenant-a", "tenant-b"]) await store.createKey({ branchKeyIdentifier: tenant, encryptionContext: { tenant } });
  const seen = [];
  const branchKeyIdSupplier = async (ddbKey) => {
    seen.push(ddbKey);
    return ddbKey.pk.S.startsWith("a#") ? "tenant-a" : "tenant-b";
  };
  const multiTenant = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyIdSupplier, ttlSeconds: 600 }));
  const itemA = order(1, "a#1");
  const itemB = order(2, "b#1");
  const sealedA = await multiTenant.encryptItem(itemA);
  const sealedB = await multiTenant.encryptItem(itemB);
  assert.deepEqual(seen, [{ pk: itemA.pk, sk: itemA.sk }, { pk: itemB.pk, sk: itemB.sk }], "ddbKey is the item's key as AttributeValues");
  assert.deepEqual(await multiTenant.decryptItem(sealedA), itemA);
  assert.deepEqual(await multiTenant.decryptItem(sealedB), itemB);
  assert.equal(seen.length, 4, "the supplier is asked on decrypt too");

  const onlyA = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: "tenant-a", ttlSeconds: 600 }));
  assert.deepEqual(await onlyA.decryptItem(sealedA), itemA);
  await expectFieldsealError("NO_MATCHING_KEY", () => onlyA.decryptItem(sealedB));
  // A synchronous supplier is fine too.
  const sync = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyIdSupplier: () => "tenant-b", ttlSeconds: 600 }));
  assert.deepEqual(await sync.decryptItem(sealedB), itemB);
});

test("a supplier that throws, rejects, returns a non-string or never settles fails the operation with KEY_PROVIDER_FAILURE", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  await store.createKey({ branchKeyIdentifier: "tenant-s", encryptionContext: { tenant: "s" } });
  const sealed = await orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: "tenant-s", ttlSeconds: 600 })).encryptItem(order(1));
  const cases = [
    [() => { throw new Error("tenant directory unreachable"); }, /branchKeyIdSupplier threw: tenant directory unreachable/],
    [async () => { throw new Error("lookup failed"); }, /branchKeyIdSupplier rejected: lookup failed/],
    [() => 42, /branchKeyIdSupplier resolved to number, expected a branch key id string/],
    [async () => undefined, /resolved to undefined/],
    [() => new Promise(() => {}), /did not settle within 50 ms/],
    [() => "", /empty/],
  ];
  for (const [branchKeyIdSupplier, message] of cases) {
    const enc = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyIdSupplier, ttlSeconds: 600, supplierTimeoutMs: 50 }));
    for (const operation of [() => enc.encryptItem(order(1)), () => enc.decryptItem(sealed)]) {
      const e = await expectFieldsealError("KEY_PROVIDER_FAILURE", operation);
      assert.match(e.message, message);
    }
  }
  // All or nothing: one failing item rejects the whole batch, with no partial result.
  let calls = 0;
  const flaky = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyIdSupplier: () => (++calls === 2 ? 42 : "tenant-s"), ttlSeconds: 600 }));
  let result;
  const e = await expectFieldsealError("KEY_PROVIDER_FAILURE", async () => {
    result = await flaky.encryptItems([order(1), order(2), order(3)]);
  });
  assert.equal(result, undefined);
  assert.match(e.message, /item #1/);
});

test("faults: unknown branch key id, DynamoDB throttling, a disabled KMS key", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const missing = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: "no-such-key", ttlSeconds: 600 }));
  for (const e of [
    await expectFieldsealError("KEY_STORE_FAILURE", () => missing.encryptItem(order(1))),
    await expectFieldsealError("KEY_STORE_FAILURE", () => store.getActiveBranchKey({ branchKeyIdentifier: "no-such-key" })),
    await expectFieldsealError("KEY_STORE_FAILURE", () => store.versionKey({ branchKeyIdentifier: "no-such-key" })),
  ]) {
    assert.ok(e.message.includes("no-such-key") && e.message.includes(TABLE), e.message);
  }

  const { branchKeyIdentifier: id } = await store.createKey();
  const enc = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600 }));
  const sealed = await enc.encryptItem(order(1));

  c.faults.ddb = (name) => name === "GetItem" && "ProvisionedThroughputExceededException";
  const fresh = () => orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600 }));
  for (const operation of [() => fresh().encryptItem(order(2)), () => fresh().decryptItem(sealed)]) {
    const e = await expectFieldsealError("KEY_STORE_FAILURE", operation);
    assert.ok(e.message.includes("ProvisionedThroughputExceededException") && e.message.includes(TABLE) && e.message.includes(id), e.message);
  }
  c.faults.ddb = undefined;

  // moto 5.2.5 decrypts under a disabled key (KmsBackend.decrypt ignores the
  // key state), so KMS's DisabledException is injected at the client.
  c.faults.kms = (name) => name === "Decrypt" && "DisabledException";
  for (const operation of [() => fresh().encryptItem(order(3)), () => fresh().decryptItem(sealed), () => store.getActiveBranchKey({ branchKeyIdentifier: id })]) {
    const e = await expectFieldsealError("KEY_PROVIDER_FAILURE", operation);
    assert.ok(e.message.includes("DisabledException") && e.message.includes(keyArn) && e.message.includes(id), e.message);
  }
  c.faults.kms = undefined;
  assert.deepEqual(await enc.decryptItem(sealed), order(1), "a warm keyring is unaffected");
});

test("tampered key store items are refused: enc flipped, kms-arn swapped, a version's type renamed, custom context changed", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const put = (Item) => admin.send(new PutItemCommand({ TableName: TABLE, Item }));
  const fresh = (branchKeyId) => orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId, ttlSeconds: 600 }));

  // enc bytes flipped: KMS refuses the ciphertext.
  const { branchKeyIdentifier: flipped } = await store.createKey();
  const active = await stored(flipped, "branch:ACTIVE");
  active.enc.B[active.enc.B.length - 1] ^= 1;
  await put(active);
  let e = await expectFieldsealError("KEY_PROVIDER_FAILURE", () => fresh(flipped).encryptItem(order(1)));
  assert.ok(e.message.includes(flipped) && /InvalidCiphertextException/.test(e.message), e.message);

  // kms-arn swapped to another key: refused before KMS is called.
  const { branchKeyIdentifier: swapped } = await store.createKey();
  const swappedItem = await stored(swapped, "branch:ACTIVE");
  swappedItem["kms-arn"] = { S: otherKeyArn };
  await put(swappedItem);
  c.reset();
  e = await expectFieldsealError("KEY_STORE_FAILURE", () => store.getActiveBranchKey({ branchKeyIdentifier: swapped }));
  assert.ok(e.message.includes(swapped) && e.message.includes(otherKeyArn), e.message);
  assert.equal(c.calls.kms.length, 0);

  // A version's type renamed: the version an item names is no longer in the store.
  const { branchKeyIdentifier: renamed } = await store.createKey();
  const sealed = await fresh(renamed).encryptItem(order(2));
  const { branchKeyVersion } = (await store.getActiveBranchKey({ branchKeyIdentifier: renamed })).branchKeyMaterials;
  const versionItem = await stored(renamed, `branch:version:${branchKeyVersion}`);
  await admin.send(new DeleteItemCommand({ TableName: TABLE, Key: { "branch-key-id": versionItem["branch-key-id"], type: versionItem.type } }));
  await put({ ...versionItem, type: { S: `branch:version:${branchKeyVersion}-renamed` } });
  e = await expectFieldsealError("KEY_STORE_FAILURE", () => fresh(renamed).decryptItem(sealed));
  assert.ok(e.message.includes(renamed) && e.message.includes(branchKeyVersion) && e.message.includes(TABLE), e.message);
  await expectFieldsealError("KEY_STORE_FAILURE", () => store.getBranchKeyVersion({ branchKeyIdentifier: renamed, branchKeyVersion }));

  // A custom encryption context value changed: it is bound into KMS Decrypt.
  await store.createKey({ branchKeyIdentifier: "tenant-t", encryptionContext: { tenant: "t" } });
  const tenantItem = await stored("tenant-t", "branch:ACTIVE");
  tenantItem["aws-crypto-ec:tenant"] = { S: "someone-else" };
  await put(tenantItem);
  e = await expectFieldsealError("KEY_PROVIDER_FAILURE", () => fresh("tenant-t").encryptItem(order(3)));
  assert.ok(e.message.includes("tenant-t") && /InvalidCiphertextException/.test(e.message), e.message);
});

test("discovery configurations read but cannot create or rotate keys: INVALID_CONFIG, nothing written", async () => {
  const c = clients();
  const writer = keyStoreFor(c);
  const { branchKeyIdentifier: id } = await writer.createKey();
  const expected = (await writer.getActiveBranchKey({ branchKeyIdentifier: id })).branchKeyMaterials;
  for (const kmsConfiguration of [{ discovery: {} }, { mrDiscovery: { region: "us-east-1" } }]) {
    const reader = keyStoreFor(c, kmsConfiguration);
    assert.deepEqual((await reader.getActiveBranchKey({ branchKeyIdentifier: id })).branchKeyMaterials, expected);
    c.reset();
    const e = await expectFieldsealError("INVALID_CONFIG", () => reader.createKey());
    assert.match(e.message, /kmsKeyArn or kmsMRKeyArn/);
    await expectFieldsealError("INVALID_CONFIG", () => reader.versionKey({ branchKeyIdentifier: id }));
    assert.deepEqual(c.calls, { ddb: [], kms: [] }, "no DynamoDB write, no KMS call");
  }
});

test("bad configurations are refused with INVALID_CONFIG", async () => {
  const c = clients();
  const base = { ddbTableName: TABLE, logicalKeyStoreName: LOGICAL, ddbClient: c.ddb, kmsClient: c.kms };
  const bad = [
    { ...base, kmsConfiguration: { kmsKeyArn: keyArn, discovery: {} } },
    { ...base, kmsConfiguration: {} },
    { ...base, kmsConfiguration: { kmsKeyArn: "arn:aws:kms:us-east-1:111122223333:alias/store" } },
    { ...base, kmsConfiguration: { kmsKeyArn: keyArn }, ddbTableName: "" },
    { ...base, kmsConfiguration: { kmsKeyArn: keyArn }, ddbClient: {} },
    { ...base, kmsConfiguration: { kmsKeyArn: keyArn }, clientProvider: () => c.kms },
  ];
  for (const config of bad) await expectFieldsealError("INVALID_CONFIG", () => new KeyStore(config).createKeyStore());
  const store = keyStoreFor(c);
  const keyring = (options) => () => orders(new AwsKmsHierarchicalKeyring({ keyStore: store, ttlSeconds: 600, ...options })).encryptItem(order(1));
  await expectFieldsealError("INVALID_CONFIG", keyring({}));
  await expectFieldsealError("INVALID_CONFIG", keyring({ branchKeyId: "a", branchKeyIdSupplier: () => "a" }));
  await expectFieldsealError("INVALID_CONFIG", keyring({ branchKeyId: "a", ttlSeconds: 0 }));
  await expectFieldsealError("INVALID_CONFIG", keyring({ branchKeyId: "a", ttlSeconds: 1.5 }));
  await expectFieldsealError("INVALID_CONFIG", keyring({ branchKeyIdSupplier: () => "a", supplierTimeoutMs: -1 }));
  await expectFieldsealError("INVALID_CONFIG", () => new AwsKmsHierarchicalKeyring({ keyStore: {}, branchKeyId: "a", ttlSeconds: 1 }));
  // A misspelt input key is refused, not ignored (here it would create a key under a random id).
  const typo = await expectFieldsealError("INVALID_CONFIG", () => store.createKey({ branchKeyIdentifer: "tenant-x", encryptionContext: { tenant: "x" } }));
  assert.match(typo.message, /branchKeyIdentifer/);
  await expectFieldsealError("INVALID_CONFIG", () => store.getActiveBranchKey({}));
  assert.deepEqual(c.calls, { ddb: [], kms: [] });
});

test("grant tokens reach every KMS call of the store and the keyring", async () => {
  const c = clients();
  const store = new KeyStore({ ddbTableName: TABLE, logicalKeyStoreName: LOGICAL, kmsConfiguration: { kmsKeyArn: keyArn }, ddbClient: c.ddb, clientProvider: () => c.kms, grantTokens: ["grant-a"] });
  const { branchKeyIdentifier: id } = await store.createKey();
  await store.versionKey({ branchKeyIdentifier: id });
  await orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600 })).encryptItem(order(1));
  assert.deepEqual([...new Set(c.calls.kms.map((x) => x.name))].sort(), ["Decrypt", "GenerateDataKeyWithoutPlaintext", "ReEncrypt"]);
  for (const { name, input } of c.calls.kms) assert.deepEqual(input.GrantTokens, ["grant-a"], name);
  // The encryption context KMS binds holds the logical store name, not the table name.
  const decrypt = c.calls.kms.find((x) => x.name === "Decrypt").input;
  assert.equal(decrypt.EncryptionContext.tablename, LOGICAL);
  assert.equal(decrypt.EncryptionContext["branch-key-id"], id);
  assert.equal(decrypt.KeyId, keyArn);
});

test("free(): a freed KeyStore or BranchKeyCache refuses new work; keyrings built on them keep working", async () => {
  const c = clients();
  const store = keyStoreFor(c);
  const cache = new BranchKeyCache();
  const { branchKeyIdentifier: id } = await store.createKey();
  const built = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600, cache }));
  const sealed = await built.encryptItem(order(1));
  const notBuilt = orders(new AwsKmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 600 }));
  store.free();
  cache.free();
  store.free(); // twice is fine
  await expectFieldsealError("OBJECT_FREED", () => store.getActiveBranchKey({ branchKeyIdentifier: id }));
  await expectFieldsealError("OBJECT_FREED", () => notBuilt.encryptItem(order(2)));
  assert.equal(cache.size, 0);
  assert.deepEqual(await built.decryptItem(sealed), order(1));
  assert.ok(await built.encryptItem(order(3)));
});

test("a DynamoDB client that answers what the SDK never would: KEY_STORE_FAILURE, never a crash", async () => {
  const c = clients();
  const answers = [
    [42, /GetItem returned no output object/],
    [{ Item: { "branch-key-id": "not an attribute value" } }, /InvalidResponse/],
    [{ Item: { "branch-key-id": { S: "x" }, type: { S: "branch:ACTIVE" } } }, /x/],
  ];
  for (const [answer, message] of answers) {
    const ddbClient = { send: async () => answer };
    const store = new KeyStore({ ddbTableName: TABLE, logicalKeyStoreName: LOGICAL, kmsConfiguration: { kmsKeyArn: keyArn }, ddbClient, kmsClient: c.kms });
    const e = await expectFieldsealError("KEY_STORE_FAILURE", () => store.getActiveBranchKey({ branchKeyIdentifier: "x" }));
    assert.match(e.message, message);
  }
  const describing = new KeyStore({ ddbTableName: TABLE, logicalKeyStoreName: LOGICAL, kmsConfiguration: { kmsKeyArn: keyArn }, ddbClient: { send: async () => ({ Table: { TableArn: "arn", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }] } }) }, kmsClient: c.kms });
  const e = await expectFieldsealError("KEY_STORE_FAILURE", () => describing.createKeyStore());
  assert.match(e.message, /key schema/);
  assert.equal(c.calls.kms.length, 0);
});
