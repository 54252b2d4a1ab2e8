// The branch key store against AWS's own JavaScript stack (issue 13): keys
// created and rotated by fieldseal's KeyStore, on moto, are read by
// @aws-crypto/branch-keystore-node (the same bytes, versions and context) and
// used by its Node-only hierarchical keyring (KmsHierarchicalKeyRingNode) to
// seal and open an Encryption SDK message. branch-keystore-node only reads
// (it has no CreateKey or VersionKey), so the other direction, stores written
// by an official SDK and read here, is the Rust SDK's job in tests/interop.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BranchKeyStoreNode, buildClient, CommitmentPolicy, KmsHierarchicalKeyRingNode } from "@aws-crypto/client-node";
import { KeyStore } from "fieldseal/kms";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const REGION = "us-west-2";
const LOGICAL = "peer-keystore";
let moto;
let kmsClient;
let ddbClient;
let keyArn;
let store;
let peer;

before(async () => {
  moto = await startMoto();
  const config = { region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS };
  kmsClient = new KMSClient(config);
  ddbClient = new DynamoDBClient(config);
  keyArn = (await kmsClient.send(new CreateKeyCommand({ Description: "peer key store" }))).KeyMetadata.Arn;
  const ddbTableName = `peer-keystore-${process.pid}`;
  store = new KeyStore({ ddbTableName, logicalKeyStoreName: LOGICAL, kmsConfiguration: { kmsKeyArn: keyArn }, ddbClient, kmsClient });
  await store.createKeyStore();
  peer = new BranchKeyStoreNode({
    logicalKeyStoreName: LOGICAL,
    storage: { ddbTableName, ddbClient },
    keyManagement: { kmsClient },
    kmsConfiguration: { identifier: keyArn },
  });
});

after(async () => {
  store?.free();
  kmsClient?.destroy();
  ddbClient?.destroy();
  await moto?.stop();
});

const bytes = (b) => Buffer.from(b).toString("hex");

test("branch-keystore-node reads the keys fieldseal created and rotated", async () => {
  const { branchKeyIdentifier } = await store.createKey({ branchKeyIdentifier: "peer-tenant", encryptionContext: { department: "billing" } });
  const first = (await store.getActiveBranchKey({ branchKeyIdentifier })).branchKeyMaterials;
  const theirs = await peer.getActiveBranchKey(branchKeyIdentifier);
  assert.equal(theirs.branchKeyIdentifier, branchKeyIdentifier);
  assert.equal(Buffer.from(theirs.branchKeyVersion).toString("utf8"), first.branchKeyVersion);
  assert.equal(bytes(theirs.branchKey()), bytes(first.branchKey));
  // branch-keystore-node keeps the stored prefix; fieldseal strips it, as the MPL's key store does.
  assert.deepEqual({ ...theirs.encryptionContext }, { "aws-crypto-ec:department": "billing" });
  assert.deepEqual(first.encryptionContext, { department: "billing" });

  await store.versionKey({ branchKeyIdentifier });
  const second = (await store.getActiveBranchKey({ branchKeyIdentifier })).branchKeyMaterials;
  assert.notEqual(second.branchKeyVersion, first.branchKeyVersion);
  const theirsNow = await peer.getActiveBranchKey(branchKeyIdentifier);
  assert.equal(Buffer.from(theirsNow.branchKeyVersion).toString("utf8"), second.branchKeyVersion);
  assert.equal(bytes(theirsNow.branchKey()), bytes(second.branchKey));
  const old = await peer.getBranchKeyVersion(branchKeyIdentifier, first.branchKeyVersion);
  assert.equal(bytes(old.branchKey()), bytes(first.branchKey));
});

test("ESDK-JS's hierarchical keyring seals and opens under a branch key fieldseal created", async () => {
  const { branchKeyIdentifier } = await store.createKey();
  const keyring = new KmsHierarchicalKeyRingNode({ branchKeyId: branchKeyIdentifier, keyStore: peer, cacheLimitTtl: 60 });
  const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const { result } = await encrypt(keyring, "sealed with a fieldseal branch key", { encryptionContext: { purpose: "peer" } });
  const opened = await decrypt(keyring, result);
  assert.equal(opened.plaintext.toString("utf8"), "sealed with a fieldseal branch key");
  assert.equal(opened.messageHeader.encryptedDataKeys[0].providerId, "aws-kms-hierarchy");
  assert.equal(opened.messageHeader.encryptedDataKeys[0].providerInfo, branchKeyIdentifier);
});
