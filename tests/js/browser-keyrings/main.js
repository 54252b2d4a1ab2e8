// The page side of the benchmark's keyrings row (issue 17): the same
// measurement as in Node (bench/keyrings.mjs), with the KMS RSA keyring's
// Decrypt answered in the page by WebCrypto RSA-OAEP (no network, no AWS
// credentials; fieldseal/kms still imports @aws-sdk/client-kms for its
// command classes on the first Decrypt).
import * as fieldseal from "fieldseal";
import * as kms from "fieldseal/kms";
import { base64ToBytes, fromWire } from "../browser/shared.mjs";
import { benchKeyrings } from "../bench/keyrings.mjs";

window.fieldsealPage = {
  /** keys as bench/keyrings.mjs takes them, plus rsa.privateKeyPkcs8 (base64 DER) for the in-page KMS. */
  async benchKeyrings(keys, config, wireItem, opts) {
    const privateKey = await crypto.subtle.importKey("pkcs8", base64ToBytes(keys.rsa.privateKeyPkcs8), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["decrypt"]);
    const rsaDecrypt = async (ciphertext) => new Uint8Array(await crypto.subtle.decrypt({ name: "RSA-OAEP" }, privateKey, ciphertext));
    return benchKeyrings({ fieldseal, kms, keys, rsaDecrypt, config, item: fromWire(wireItem), opts });
  },
};
