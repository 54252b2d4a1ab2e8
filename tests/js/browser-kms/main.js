// The page side of the hierarchical keyring's browser test: fieldseal/kms
// and the AWS SDK v3 clients, as an app bundles them. A page of its own, so
// that the main harness page (tests/js/browser/, also the benchmark's) does
// not carry the AWS SDK.
import { KMSClient } from "@aws-sdk/client-kms";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ItemEncryptor } from "fieldseal";
import { AwsKmsHierarchicalKeyring, KeyStore } from "fieldseal/kms";
import * as fieldseal from "fieldseal";
import { fromWire, makeKeyring, toWire } from "../browser/shared.mjs";
import { interleaved } from "../bench/measure.mjs";

/** A KeyStore over clients talking to `endpoint` from this page. */
function keyStoreAt(endpoint, credentials, store) {
  const clientConfig = { region: store.region, endpoint, credentials };
  return new KeyStore({
    ddbTableName: store.ddbTableName,
    logicalKeyStoreName: store.logicalKeyStoreName,
    kmsConfiguration: { kmsKeyArn: store.kmsKeyArn },
    ddbClient: new DynamoDBClient(clientConfig),
    kmsClient: new KMSClient(clientConfig),
  });
}

window.fieldsealPage = {
  /**
   * A KeyStore over clients talking to `endpoint` (moto, another origin:
   * every call is a CORS request); one item sealed and opened.
   */
  async hierarchyRoundTrip(endpoint, credentials, store, branchKeyId, config, wireItem) {
    const keyring = new AwsKmsHierarchicalKeyring({ keyStore: keyStoreAt(endpoint, credentials, store), branchKeyId, ttlSeconds: 600 });
    const enc = new ItemEncryptor({ ...config, keyring });
    const sealed = await enc.encryptItem(fromWire(wireItem));
    const opened = await enc.decryptItem(sealed);
    return { sealed: toWire(sealed), opened: toWire(opened), origin: location.origin };
  },

  /** The benchmark's hierarchy row in the page: warm round trips, hierarchical against raw AES, interleaved. */
  async benchHierarchy(endpoint, credentials, store, branchKeyId, config, rawKeyringDesc, wireItem, opts, rounds) {
    const keyring = new AwsKmsHierarchicalKeyring({ keyStore: keyStoreAt(endpoint, credentials, store), branchKeyId, ttlSeconds: 600 });
    const hierarchical = new ItemEncryptor({ ...config, keyring });
    const rawAes = new ItemEncryptor({ ...config, keyring: makeKeyring(fieldseal, rawKeyringDesc) });
    return interleaved({ hierarchical, rawAes }, fromWire(wireItem), opts, rounds);
  },
};
