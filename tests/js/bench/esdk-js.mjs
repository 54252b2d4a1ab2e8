// The baseline JS users have today: the AWS Encryption SDK for JavaScript
// (@aws-crypto/client-node), one ESDK message per ENCRYPT_AND_SIGN attribute.
// Each such value is serialized as JSON bytes (typed DynamoDB JSON, binary as
// base64) and encrypted under a raw AES-256 keyring, with an encryption context
// binding it to its table, item keys and attribute name; the sealed item keeps
// the other attributes as they are and stores each ciphertext as {B}. The
// attributes of an item are encrypted concurrently (Promise.all), as app code
// would. Nothing signs the non-encrypted attributes: this is less than the
// DB-ESDK format gives, which only makes the baseline faster.
//
// Like-for-like suites (HKDF-SHA512 key commitment, AES-256-GCM, and for 0x6701
// an ECDSA P-384 signature, here one per attribute message):
//   0x6700 <-> ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY            (0x0478)
//   0x6701 <-> ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 (0x0578)

import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from "@aws-crypto/client-node";
import { base64ToBytes, fromWireValue, toWireValue } from "../browser/shared.mjs";

export const ESDK_SUITES = {
  "0x6700": AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
  "0x6701": AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
};

const te = new TextEncoder();
const td = new TextDecoder();

/**
 * An item encryptor with the ESDK-JS per-attribute approach, for the
 * reference fixture's config and key under `suite` ("0x6700" | "0x6701").
 */
export function esdkItemEncryptor(reference, suite) {
  const suiteId = ESDK_SUITES[suite];
  if (suiteId === undefined) throw new Error(`no ESDK-JS suite for ${suite}`);
  const { encrypt, decrypt } = buildClient({
    commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
    maxEncryptedDataKeys: 1,
  });
  const k = reference.keyring;
  const keyring = new RawAesKeyringNode({
    keyNamespace: k.keyNamespace,
    keyName: k.keyName,
    unencryptedMasterKey: base64ToBytes(k.wrappingKey),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  const { logicalTableName, partitionKeyName, sortKeyName, attributeActionsOnEncrypt } = reference.config;
  const encrypted = Object.keys(attributeActionsOnEncrypt).filter(
    (name) => attributeActionsOnEncrypt[name] === "ENCRYPT_AND_SIGN",
  );
  const context = (item, attribute) => {
    const c = { table: logicalTableName, attribute, partitionKey: JSON.stringify(toWireValue(item[partitionKeyName])) };
    if (sortKeyName) c.sortKey = JSON.stringify(toWireValue(item[sortKeyName]));
    return c;
  };

  return {
    async encryptItem(item) {
      const out = { ...item };
      await Promise.all(
        encrypted
          .filter((name) => name in item)
          .map(async (name) => {
            const plaintext = te.encode(JSON.stringify(toWireValue(item[name])));
            const { result } = await encrypt(keyring, plaintext, { suiteId, encryptionContext: context(item, name) });
            out[name] = { B: result };
          }),
      );
      return out;
    },
    async decryptItem(item) {
      const out = { ...item };
      await Promise.all(
        encrypted
          .filter((name) => name in item)
          .map(async (name) => {
            const { plaintext, messageHeader } = await decrypt(keyring, item[name].B);
            if (messageHeader.suiteId !== suiteId) throw new Error(`${name}: unexpected suite ${messageHeader.suiteId}`);
            const got = messageHeader.encryptionContext;
            for (const [key, value] of Object.entries(context(item, name))) {
              if (got[key] !== value) throw new Error(`${name}: encryption context ${key} does not match`);
            }
            out[name] = fromWireValue(JSON.parse(td.decode(plaintext)));
          }),
      );
      return out;
    },
  };
}
