// The page side of the KMS RSA keyring's browser test: a page that seals
// with AwsKmsRsaKeyring given ONLY the key ARN and its public key PEM. It has
// no AWS credentials, no endpoint and imports no @aws-sdk client; fieldseal/kms
// imports @aws-sdk/client-kms lazily on the first KMS call, and sealing with
// the PEM makes none, so the SDK chunk Vite emits is never fetched (the test
// checks the page's request log).
import { FieldsealError, ItemEncryptor } from "fieldseal";
import { AwsKmsRsaKeyring } from "fieldseal/kms";
import { errorInfo, fromWire, toWire } from "../browser/shared.mjs";

window.fieldsealPage = {
  /** Seal every item under `suite` with a PEM-only keyring; the sealed items in wire form. */
  async sealWithPem(kmsKeyId, encryptionAlgorithm, publicKeyPem, config, suite, wireItems) {
    const keyring = new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm, publicKeyPem });
    const enc = new ItemEncryptor({ ...config, algorithmSuiteId: suite, keyring });
    const sealed = [];
    for (const item of wireItems) sealed.push(toWire(await enc.encryptItem(fromWire(item))));
    return { origin: location.origin, canEncrypt: keyring.canEncrypt, canDecrypt: keyring.canDecrypt, sealed };
  },

  /** The same keyring under `suite` (0x6701 must be refused): the error as plain data, or null if it sealed. */
  async sealRefused(kmsKeyId, encryptionAlgorithm, publicKeyPem, config, suite, wireItem) {
    const keyring = new AwsKmsRsaKeyring({ kmsKeyId, encryptionAlgorithm, publicKeyPem });
    try {
      await new ItemEncryptor({ ...config, algorithmSuiteId: suite, keyring }).encryptItem(fromWire(wireItem));
      return null;
    } catch (e) {
      return { ...errorInfo(e), instanceOfFieldsealError: e instanceof FieldsealError };
    }
  },
};
