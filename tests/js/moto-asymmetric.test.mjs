// The local KMS (patched moto, tools/moto/launch.py) behaves like real KMS for
// the asymmetric keys of issue 17: KMS RSA keys open what was sealed OUTSIDE
// KMS with their public key, and KMS ECC keys do ECDH key agreement. Every
// check uses real crypto on the Node side (node:crypto publicEncrypt,
// diffieHellman, createECDH), so a faked operation cannot pass. Error codes are
// the ones real KMS answers (sources in launch.py's comments and
// NOTES-17-moto.md).
//
// Skipped with a note when moto cannot start (no python3-venv, no network for
// the first pip install), unless CI is set: then it fails.
import assert from "node:assert/strict";
import { constants, createECDH, createPublicKey, diffieHellman, generateKeyPairSync, publicEncrypt, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  CreateKeyCommand,
  DecryptCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ReplicateKeyCommand,
} from "@aws-sdk/client-kms";
import { CREDENTIALS, startMoto } from "./helpers/moto.mjs";

const inCI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());

// Started here, not in before(): a moto that cannot start skips the suite (loudly) outside CI.
let moto;
let skip = false;
try {
  moto = await startMoto();
} catch (e) {
  if (inCI) throw e;
  skip = `moto could not start (${e.message.split("\n")[0]}); not skipped when CI is set`;
  console.warn(`# SKIP moto-asymmetric: ${skip}`);
}

const client = (region = "us-east-1") => new KMSClient({ region, endpoint: moto.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
let kms;

const RSA = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };
const OAEP = { RSAES_OAEP_SHA_256: "sha256", RSAES_OAEP_SHA_1: "sha1" };
// KMS key spec -> node:crypto curve name and field size in bytes (the length of the raw ECDH secret).
const CURVES = {
  ECC_NIST_P256: { curve: "prime256v1", bytes: 32 },
  ECC_NIST_P384: { curve: "secp384r1", bytes: 48 },
  ECC_NIST_P521: { curve: "secp521r1", bytes: 66 },
};

/** Resolves to the AWS error name (e.name) the promise rejects with; fails if it resolves. */
async function errorName(promise) {
  try {
    await promise;
  } catch (e) {
    return e.name;
  }
  assert.fail("expected KMS to refuse the request");
}

async function createKey(KeySpec, KeyUsage, extra = {}) {
  return (await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage, ...extra }))).KeyMetadata;
}

/** The DER SubjectPublicKeyInfo of `keyObject`. */
const spki = (keyObject) => keyObject.export({ format: "der", type: "spki" });

/** The uncompressed SEC1 point (04 || x || y) of an EC public KeyObject, for createECDH().computeSecret. */
function rawPoint(publicKey) {
  const { x, y } = publicKey.export({ format: "jwk" });
  return Buffer.concat([Buffer.from([4]), Buffer.from(x, "base64url"), Buffer.from(y, "base64url")]);
}

/** The SPKI of the public half of a createECDH() key pair. */
function ecdhSpki(ecdh, curve, bytes) {
  const point = ecdh.getPublicKey();
  const crv = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" }[curve];
  const jwk = { kty: "EC", crv, x: point.subarray(1, 1 + bytes).toString("base64url"), y: point.subarray(1 + bytes).toString("base64url") };
  return spki(createPublicKey({ key: jwk, format: "jwk" }));
}

describe("patched moto: asymmetric KMS keys", { skip }, () => {
  before(() => {
    kms = client();
  });
  after(async () => {
    await moto?.stop();
  });

  describe("RSA keys (ENCRYPT_DECRYPT)", () => {
    for (const [spec, bits] of Object.entries(RSA)) {
      test(`${spec}: GetPublicKey gives the DER SPKI; Decrypt opens what node:crypto sealed with it (OAEP SHA-256 and SHA-1)`, async () => {
        const key = await createKey(spec, "ENCRYPT_DECRYPT");
        assert.equal(key.KeySpec, spec);
        assert.equal(key.KeyUsage, "ENCRYPT_DECRYPT");
        assert.deepEqual([...key.EncryptionAlgorithms].sort(), ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
        assert.equal(key.SigningAlgorithms, undefined);

        const pub = await kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId }));
        assert.equal(pub.KeyId, key.Arn, "GetPublicKey answers the key ARN, even when asked by key id");
        assert.equal(pub.KeySpec, spec);
        assert.equal(pub.KeyUsage, "ENCRYPT_DECRYPT");
        assert.deepEqual([...pub.EncryptionAlgorithms].sort(), ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
        const publicKey = createPublicKey({ key: Buffer.from(pub.PublicKey), format: "der", type: "spki" });
        assert.equal(publicKey.asymmetricKeyType, "rsa");
        assert.equal(publicKey.asymmetricKeyDetails.modulusLength, bits);
        assert.deepEqual(spki(publicKey), Buffer.from(pub.PublicKey), "PublicKey is exactly the DER SPKI");

        for (const [algorithm, oaepHash] of Object.entries(OAEP)) {
          // What the KMS RSA keyring seals: a 48-byte digest and a 32-byte data key.
          const plaintext = randomBytes(80);
          const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, plaintext);
          const out = await kms.send(new DecryptCommand({ KeyId: key.Arn, CiphertextBlob: ciphertext, EncryptionAlgorithm: algorithm }));
          assert.deepEqual(Buffer.from(out.Plaintext), plaintext, `${algorithm} opens`);
          assert.equal(out.KeyId, key.Arn);
          assert.equal(out.EncryptionAlgorithm, algorithm);
        }
      });
    }

    test("Decrypt refuses: the other OAEP hash, an encryption context, no algorithm, a tampered blob, another key", async () => {
      const key = await createKey("RSA_2048", "ENCRYPT_DECRYPT");
      const other = await createKey("RSA_2048", "ENCRYPT_DECRYPT");
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: key.Arn }));
      const publicKey = createPublicKey({ key: Buffer.from(pub.PublicKey), format: "der", type: "spki" });
      const seal = (oaepHash) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, randomBytes(80));
      const decrypt = (input) => kms.send(new DecryptCommand({ KeyId: key.Arn, EncryptionAlgorithm: "RSAES_OAEP_SHA_256", ...input }));

      const sha256 = seal("sha256");
      assert.equal(await errorName(decrypt({ CiphertextBlob: sha256, EncryptionAlgorithm: "RSAES_OAEP_SHA_1" })), "InvalidCiphertextException");
      assert.equal(await errorName(decrypt({ CiphertextBlob: seal("sha1") })), "InvalidCiphertextException", "SHA-1 blob, SHA-256 asked");
      assert.equal(await errorName(decrypt({ CiphertextBlob: sha256, EncryptionContext: { purpose: "x" } })), "ValidationException");
      assert.equal(await errorName(decrypt({ CiphertextBlob: sha256, EncryptionAlgorithm: undefined })), "InvalidKeyUsageException");
      assert.equal(await errorName(decrypt({ CiphertextBlob: sha256, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" })), "InvalidKeyUsageException");
      const tampered = Buffer.from(sha256);
      tampered[100] ^= 1;
      assert.equal(await errorName(decrypt({ CiphertextBlob: tampered })), "InvalidCiphertextException");
      assert.equal(await errorName(decrypt({ CiphertextBlob: sha256, KeyId: other.Arn })), "InvalidCiphertextException");
      // The untouched blob still opens: the refusals were about the request, not the key.
      assert.equal((await decrypt({ CiphertextBlob: sha256 })).Plaintext.length, 80);
    });

    test("Encrypt under an RSA key is RSAES-OAEP (modulus-sized blob, size limit); a symmetric key refuses RSAES", async () => {
      const key = await createKey("RSA_2048", "ENCRYPT_DECRYPT");
      const plaintext = randomBytes(190);
      const sealed = await kms.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: plaintext, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }));
      assert.equal(sealed.CiphertextBlob.length, 256, "one RSA block, not moto's AES-GCM blob");
      assert.equal(sealed.EncryptionAlgorithm, "RSAES_OAEP_SHA_256");
      const out = await kms.send(new DecryptCommand({ KeyId: key.Arn, CiphertextBlob: sealed.CiphertextBlob, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }));
      assert.deepEqual(Buffer.from(out.Plaintext), plaintext);
      // k - 2*hLen - 2: 190 bytes for RSA_2048 with SHA-256, 214 with SHA-1.
      const tooLong = (n, alg) => kms.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: randomBytes(n), EncryptionAlgorithm: alg }));
      assert.equal(await errorName(tooLong(191, "RSAES_OAEP_SHA_256")), "ValidationException");
      assert.equal((await tooLong(214, "RSAES_OAEP_SHA_1")).CiphertextBlob.length, 256);
      assert.equal(await errorName(tooLong(215, "RSAES_OAEP_SHA_1")), "ValidationException");

      const symmetric = await kms.send(new CreateKeyCommand({}));
      assert.equal(symmetric.KeyMetadata.KeyUsage, "ENCRYPT_DECRYPT", "KeyUsage defaults to ENCRYPT_DECRYPT");
      const blob = await kms.send(new EncryptCommand({ KeyId: symmetric.KeyMetadata.Arn, Plaintext: plaintext, EncryptionContext: { a: "b" } }));
      assert.equal(blob.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
      const opened = await kms.send(new DecryptCommand({ KeyId: symmetric.KeyMetadata.Arn, CiphertextBlob: blob.CiphertextBlob, EncryptionContext: { a: "b" } }));
      assert.deepEqual(Buffer.from(opened.Plaintext), plaintext, "symmetric keys still round-trip");
      assert.equal(opened.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
      assert.equal(
        await errorName(kms.send(new DecryptCommand({ KeyId: symmetric.KeyMetadata.Arn, CiphertextBlob: blob.CiphertextBlob, EncryptionContext: { a: "b" }, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }))),
        "InvalidKeyUsageException",
      );
      assert.equal(await errorName(kms.send(new GenerateDataKeyCommand({ KeyId: key.Arn, NumberOfBytes: 32 }))), "InvalidKeyUsageException");
      assert.equal(await errorName(kms.send(new GetPublicKeyCommand({ KeyId: symmetric.KeyMetadata.Arn }))), "UnsupportedOperationException");
    });

    test("a multi-Region RSA key replicated to eu-west-1: same public key, the replica ARN opens in its region", async () => {
      const key = await createKey("RSA_2048", "ENCRYPT_DECRYPT", { MultiRegion: true });
      await kms.send(new ReplicateKeyCommand({ KeyId: key.KeyId, ReplicaRegion: "eu-west-1" }));
      const west = client("eu-west-1");
      const replicaArn = key.Arn.replace("us-east-1", "eu-west-1");
      const pub = await west.send(new GetPublicKeyCommand({ KeyId: replicaArn }));
      assert.equal(pub.KeyId, replicaArn);
      assert.deepEqual(Buffer.from(pub.PublicKey), Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: key.Arn }))).PublicKey));
      const plaintext = randomBytes(80);
      const publicKey = createPublicKey({ key: Buffer.from(pub.PublicKey), format: "der", type: "spki" });
      const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, plaintext);
      const out = await west.send(new DecryptCommand({ KeyId: replicaArn, CiphertextBlob: ciphertext, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }));
      assert.deepEqual(Buffer.from(out.Plaintext), plaintext);
      assert.equal(out.KeyId, replicaArn);
    });
  });

  describe("ECC keys (KEY_AGREEMENT): DeriveSharedSecret", () => {
    for (const [spec, { curve, bytes }] of Object.entries(CURVES)) {
      test(`${spec}: GetPublicKey, and DeriveSharedSecret equals node:crypto's ECDH secret both ways`, async () => {
        const key = await createKey(spec, "KEY_AGREEMENT");
        const described = (await kms.send(new DescribeKeyCommand({ KeyId: key.Arn }))).KeyMetadata;
        for (const metadata of [key, described]) {
          assert.equal(metadata.KeySpec, spec);
          assert.equal(metadata.KeyUsage, "KEY_AGREEMENT");
          assert.deepEqual(metadata.KeyAgreementAlgorithms, ["ECDH"]);
          assert.equal(metadata.EncryptionAlgorithms, undefined);
          assert.equal(metadata.SigningAlgorithms, undefined);
        }
        const pub = await kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId }));
        assert.equal(pub.KeyId, key.Arn);
        assert.equal(pub.KeySpec, spec);
        assert.equal(pub.KeyUsage, "KEY_AGREEMENT");
        assert.deepEqual(pub.KeyAgreementAlgorithms, ["ECDH"]);
        const kmsPublic = createPublicKey({ key: Buffer.from(pub.PublicKey), format: "der", type: "spki" });
        assert.equal(kmsPublic.asymmetricKeyType, "ec");
        assert.equal(kmsPublic.asymmetricKeyDetails.namedCurve, curve);
        assert.deepEqual(spki(kmsPublic), Buffer.from(pub.PublicKey));

        // The other party with KeyObjects: diffieHellman({ privateKey, publicKey }).
        const peer = generateKeyPairSync("ec", { namedCurve: curve });
        const derived = await kms.send(new DeriveSharedSecretCommand({ KeyId: key.Arn, KeyAgreementAlgorithm: "ECDH", PublicKey: spki(peer.publicKey) }));
        const expected = diffieHellman({ privateKey: peer.privateKey, publicKey: kmsPublic });
        assert.equal(expected.length, bytes);
        assert.deepEqual(Buffer.from(derived.SharedSecret), expected, "the raw shared secret (x-coordinate)");
        assert.equal(derived.KeyId, key.Arn);
        assert.equal(derived.KeyAgreementAlgorithm, "ECDH");
        assert.equal(derived.KeyOrigin, "AWS_KMS");

        // The other party with createECDH: computeSecret of the KMS key's raw point.
        const ecdh = createECDH(curve);
        ecdh.generateKeys();
        const viaEcdh = await kms.send(new DeriveSharedSecretCommand({ KeyId: key.KeyId, KeyAgreementAlgorithm: "ECDH", PublicKey: ecdhSpki(ecdh, curve, bytes) }));
        assert.deepEqual(Buffer.from(viaEcdh.SharedSecret), ecdh.computeSecret(rawPoint(kmsPublic)));
        assert.notDeepEqual(Buffer.from(viaEcdh.SharedSecret), expected, "another peer, another secret");
      });
    }

    test("two KMS keys agree on the same secret", async () => {
      const a = await createKey("ECC_NIST_P384", "KEY_AGREEMENT");
      const b = await createKey("ECC_NIST_P384", "KEY_AGREEMENT");
      const pubA = (await kms.send(new GetPublicKeyCommand({ KeyId: a.Arn }))).PublicKey;
      const pubB = (await kms.send(new GetPublicKeyCommand({ KeyId: b.Arn }))).PublicKey;
      const ab = await kms.send(new DeriveSharedSecretCommand({ KeyId: a.Arn, KeyAgreementAlgorithm: "ECDH", PublicKey: pubB }));
      const ba = await kms.send(new DeriveSharedSecretCommand({ KeyId: b.Arn, KeyAgreementAlgorithm: "ECDH", PublicKey: pubA }));
      assert.deepEqual(Buffer.from(ab.SharedSecret), Buffer.from(ba.SharedSecret));
      assert.equal(ab.SharedSecret.length, 48);
    });

    test("DeriveSharedSecret refuses: another curve, a point not on the curve, not an SPKI, another algorithm, a key of another usage", async () => {
      const key = await createKey("ECC_NIST_P256", "KEY_AGREEMENT");
      const derive = (PublicKey, input = {}) => kms.send(new DeriveSharedSecretCommand({ KeyId: key.Arn, KeyAgreementAlgorithm: "ECDH", PublicKey, ...input }));
      const good = spki(generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey);

      assert.equal(await errorName(derive(spki(generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey))), "ValidationException", "P-384 key, P-256 KMS key");
      assert.equal(await errorName(derive(spki(generateKeyPairSync("ec", { namedCurve: "secp521r1" }).publicKey))), "ValidationException", "P-521 key, P-256 KMS key");
      assert.equal(await errorName(derive(spki(generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey))), "ValidationException", "an RSA key");
      // The same SPKI with the last byte of y flipped: a point off the curve (node:crypto refuses it too).
      const offCurve = Buffer.from(good);
      offCurve[offCurve.length - 1] ^= 1;
      assert.throws(() => createPublicKey({ key: offCurve, format: "der", type: "spki" }), "the flipped point is really off the curve");
      assert.equal(await errorName(derive(offCurve)), "ValidationException", "a point not on the curve");
      assert.equal(await errorName(derive(Buffer.from("InvalidPublicKey"))), "ValidationException", "not DER");
      assert.equal(await errorName(derive(good, { KeyAgreementAlgorithm: "ECDHE" })), "ValidationException", "an algorithm other than ECDH");

      const rsa = await createKey("RSA_2048", "ENCRYPT_DECRYPT");
      const signing = await createKey("ECC_NIST_P256", "SIGN_VERIFY");
      const symmetric = (await kms.send(new CreateKeyCommand({}))).KeyMetadata;
      for (const other of [rsa, signing, symmetric]) {
        assert.equal(await errorName(derive(good, { KeyId: other.Arn })), "InvalidKeyUsageException", `${other.KeySpec} ${other.KeyUsage}`);
      }
      // A KEY_AGREEMENT key does nothing else.
      assert.equal(
        await errorName(kms.send(new DecryptCommand({ KeyId: key.Arn, CiphertextBlob: randomBytes(64), EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }))),
        "InvalidKeyUsageException",
      );
      assert.equal((await derive(good)).SharedSecret.length, 32, "the key still agrees after the refusals");
    });

    test("CreateKey refuses a KeyUsage the KeySpec cannot have", async () => {
      assert.equal(await errorName(createKey("RSA_2048", "KEY_AGREEMENT")), "ValidationException");
      assert.equal(await errorName(createKey("ECC_NIST_P256", "ENCRYPT_DECRYPT")), "ValidationException");
      assert.equal(await errorName(createKey("SYMMETRIC_DEFAULT", "KEY_AGREEMENT")), "ValidationException");
      assert.equal(await errorName(createKey("ECC_SECG_P256K1", "KEY_AGREEMENT")), "ValidationException");
    });
  });
});
