//! AWS KMS keyrings against an in-memory KMS that behaves like the real one
//! where it matters: per-key secrets (AES-GCM), the encryption context bound
//! as AAD, keys living in regions, multi-Region replicas sharing material,
//! aliases, key states, `KeyId` in responses, and injectable failures. Every
//! call is counted per operation and region, and every request recorded.
//! (tests/js/kms.test.mjs runs the same stories against moto through JS.)

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use fieldseal::keyring::intermediate::{derive_keys, open_data_key, ENCRYPTED_PDK_LEN};
use fieldseal::keyring::kms::{
    assert_mrks_are_unique, mrk_match_for_decrypt, DecryptRequest, DecryptResponse,
    GenerateDataKeyRequest, GenerateDataKeyResponse, KmsArn, KmsClient, KmsError, KmsKeyId,
    ResourceType, PROVIDER_ID,
};
use fieldseal::keyring::{
    AwsKmsKeyring, AwsKmsMrkDiscoveryKeyring, AwsKmsMrkKeyring, CachingClientSupplier,
    DiscoveryFilter, KmsClientSupplier, MultiKeyring, RawAesKeyring,
};
use fieldseal::materials::{
    serialize_encryption_context, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials,
    SecretBytes,
};
use fieldseal::primitives::provider::{SecureRandom, SystemRandom};
use fieldseal::primitives::{aes_gcm_decrypt, aes_gcm_encrypt};
use fieldseal::{
    AlgorithmSuiteId, AttributeValue, CryptoAction, Error, Item, ItemEncryptor,
    ItemEncryptorConfig, Keyring,
};

const ACCOUNT: &str = "111122223333";
/// A multi-Region key in us-east-1, eu-west-1 and ap-southeast-2.
const MRK: &str = "mrk-1234567890abcdef1234567890abcdef";
/// Another multi-Region key, only in ap-southeast-2.
const MRK2: &str = "mrk-fedcba0987654321fedcba0987654321";
/// A single-Region key in us-east-1.
const SRK: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
/// Single-Region keys in us-east-1 that are disabled / pending deletion.
const DISABLED: &str = "0000abcd-12ab-34cd-56ef-1234567890ab";
const PENDING: &str = "1111abcd-12ab-34cd-56ef-1234567890ab";

fn arn(region: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}")
}

// ---------------------------------------------------------------------------
// The fake KMS

#[derive(Clone, Copy, PartialEq)]
enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

struct Key {
    secret: [u8; 32],
    regions: Vec<&'static str>,
    state: KeyState,
}

/// What a call does instead of answering correctly.
#[derive(Clone)]
enum Fault {
    /// The call fails with this error name.
    Error(&'static str),
    /// The response names this key id instead of the key used.
    KeyId(String),
    /// The response plaintext has this many bytes.
    PlaintextLen(usize),
    /// GenerateDataKey answers with an empty ciphertext blob.
    EmptyBlob,
}

#[derive(Default)]
struct World {
    /// Key id -> key; the replicas of a multi-Region key share one entry, so
    /// they share key material, as in KMS.
    keys: HashMap<&'static str, Key>,
    /// (region, alias name) -> key id.
    aliases: HashMap<(&'static str, &'static str), &'static str>,
    /// "Operation region" -> number of calls.
    calls: BTreeMap<String, usize>,
    fault: Option<Fault>,
    generate_requests: Vec<GenerateDataKeyRequest>,
    decrypt_requests: Vec<DecryptRequest>,
    /// The last GenerateDataKey's plaintext and blob (test-only insight).
    last_generated: Option<(Vec<u8>, Vec<u8>)>,
}

type Shared = Arc<Mutex<World>>;

fn random_array<const N: usize>() -> [u8; N] {
    let random: &dyn SecureRandom = &SystemRandom;
    random.array().unwrap()
}

fn world() -> Shared {
    let mut w = World::default();
    let mut key = |id, regions, state| {
        w.keys.insert(
            id,
            Key {
                secret: random_array(),
                regions,
                state,
            },
        );
    };
    key(
        MRK,
        vec!["us-east-1", "eu-west-1", "ap-southeast-2"],
        KeyState::Enabled,
    );
    key(MRK2, vec!["ap-southeast-2"], KeyState::Enabled);
    key(SRK, vec!["us-east-1"], KeyState::Enabled);
    key(DISABLED, vec!["us-east-1"], KeyState::Disabled);
    key(PENDING, vec!["us-east-1"], KeyState::PendingDeletion);
    w.aliases.insert(("us-east-1", "alias/orders"), SRK);
    Arc::new(Mutex::new(w))
}

struct FakeKms {
    region: &'static str,
    world: Shared,
}

fn err(name: &str, message: impl Into<String>) -> KmsError {
    KmsError {
        name: name.into(),
        message: message.into(),
    }
}

fn aad(ec: &BTreeMap<String, String>) -> Vec<u8> {
    serialize_encryption_context(ec).unwrap()
}

impl FakeKms {
    /// Resolve a `KeyId` in this region to (key id, key ARN), as KMS does.
    fn resolve(&self, key_id: &str) -> Result<(&'static str, String), KmsError> {
        let w = self.world.lock().unwrap();
        let not_found = || {
            err(
                "NotFoundException",
                format!("Key '{key_id}' does not exist"),
            )
        };
        let id: String = match KmsKeyId::parse(key_id).map_err(|_| not_found())? {
            KmsKeyId::Arn(a) => {
                if a.region != self.region {
                    return Err(not_found());
                }
                if a.account != ACCOUNT {
                    return Err(err(
                        "AccessDeniedException",
                        format!("not authorized to use {key_id}"),
                    ));
                }
                match a.resource_type {
                    ResourceType::Key => a.resource_id,
                    ResourceType::Alias => {
                        let name = format!("alias/{}", a.resource_id);
                        w.aliases
                            .iter()
                            .find(|((r, n), _)| *r == self.region && *n == name)
                            .map(|(_, id)| id.to_string())
                            .ok_or_else(not_found)?
                    }
                }
            }
            KmsKeyId::AliasName(name) => w
                .aliases
                .iter()
                .find(|((r, n), _)| *r == self.region && *n == name)
                .map(|(_, id)| id.to_string())
                .ok_or_else(not_found)?,
            KmsKeyId::RawId(id) => id,
        };
        let (&id, key) = w.keys.get_key_value(id.as_str()).ok_or_else(not_found)?;
        if !key.regions.contains(&self.region) {
            return Err(not_found());
        }
        let full = arn(self.region, id);
        match key.state {
            KeyState::Enabled => Ok((id, full)),
            KeyState::Disabled => Err(err("DisabledException", format!("{full} is disabled."))),
            KeyState::PendingDeletion => Err(err(
                "KMSInvalidStateException",
                format!("{full} is pending deletion."),
            )),
        }
    }

    /// Count the call; an injected error fails it here.
    fn count(&self, op: &str) -> Result<Option<Fault>, KmsError> {
        let mut w = self.world.lock().unwrap();
        *w.calls.entry(format!("{op} {}", self.region)).or_default() += 1;
        match w.fault.clone() {
            Some(Fault::Error(name)) => Err(err(name, format!("simulated {name}"))),
            other => Ok(other),
        }
    }

    /// The blob names the key (not the region), as KMS's does, so any replica opens it.
    fn seal(&self, id: &str, plaintext: &[u8], ec: &BTreeMap<String, String>) -> Vec<u8> {
        let secret = self.world.lock().unwrap().keys[id].secret;
        let nonce: [u8; 12] = random_array();
        let mut blob = vec![id.len() as u8];
        blob.extend_from_slice(id.as_bytes());
        blob.extend_from_slice(&nonce);
        blob.extend(aes_gcm_encrypt(&secret, &nonce, &aad(ec), plaintext).unwrap());
        blob
    }
}

fn faulty_key_id(fault: &Option<Fault>, real: String) -> String {
    match fault {
        Some(Fault::KeyId(other)) => other.clone(),
        _ => real,
    }
}

fn faulty_plaintext(fault: &Option<Fault>, real: &[u8]) -> SecretBytes {
    match fault {
        Some(Fault::PlaintextLen(n)) => {
            SecretBytes::new(real.iter().copied().cycle().take(*n).collect())
        }
        _ => SecretBytes::from_slice(real),
    }
}

#[async_trait(?Send)]
impl KmsClient for FakeKms {
    async fn generate_data_key(
        &self,
        request: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        self.world
            .lock()
            .unwrap()
            .generate_requests
            .push(request.clone());
        let fault = self.count("GenerateDataKey")?;
        let (id, full) = self.resolve(&request.key_id)?;
        let plaintext = SystemRandom
            .secret_bytes(request.number_of_bytes as usize)
            .unwrap()
            .expose()
            .to_vec();
        let mut blob = self.seal(id, &plaintext, &request.encryption_context);
        if let Some(Fault::EmptyBlob) = fault {
            blob.clear();
        }
        self.world.lock().unwrap().last_generated = Some((plaintext.clone(), blob.clone()));
        Ok(GenerateDataKeyResponse {
            key_id: faulty_key_id(&fault, full),
            plaintext: faulty_plaintext(&fault, &plaintext),
            ciphertext_blob: blob,
        })
    }

    async fn decrypt(&self, request: DecryptRequest) -> Result<DecryptResponse, KmsError> {
        self.world
            .lock()
            .unwrap()
            .decrypt_requests
            .push(request.clone());
        let fault = self.count("Decrypt")?;
        let (id, full) = self.resolve(&request.key_id)?;
        let blob = &request.ciphertext_blob;
        let invalid = || err("InvalidCiphertextException", "");
        let n = *blob.first().ok_or_else(invalid)? as usize;
        if blob.len() < 1 + n + 12 + 16 {
            return Err(invalid());
        }
        if &blob[1..1 + n] != id.as_bytes() {
            return Err(err(
                "IncorrectKeyException",
                "The key ID in the request does not identify the key that encrypted the ciphertext.",
            ));
        }
        let secret = self.world.lock().unwrap().keys[id].secret;
        let plaintext = aes_gcm_decrypt(
            &secret,
            &blob[1 + n..1 + n + 12],
            &aad(&request.encryption_context),
            &blob[1 + n + 12..],
        )
        .map_err(|_| invalid())?;
        Ok(DecryptResponse {
            key_id: faulty_key_id(&fault, full),
            plaintext: faulty_plaintext(&fault, &plaintext),
        })
    }
}

fn client(w: &Shared, region: &'static str) -> Arc<dyn KmsClient> {
    Arc::new(FakeKms {
        region,
        world: w.clone(),
    })
}

fn region_name(region: &str) -> &'static str {
    ["us-east-1", "eu-west-1", "ap-southeast-2"]
        .into_iter()
        .find(|r| *r == region)
        .unwrap_or("unknown-region")
}

/// A supplier that counts how many clients it made.
fn supplier(w: &Shared) -> (impl KmsClientSupplier, Arc<AtomicUsize>) {
    let made = Arc::new(AtomicUsize::new(0));
    let (w, counter) = (w.clone(), made.clone());
    let supplier = move |region: &str| -> fieldseal::Result<Arc<dyn KmsClient>> {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(client(&w, region_name(region)))
    };
    (supplier, made)
}

fn calls(w: &Shared) -> BTreeMap<String, usize> {
    std::mem::take(&mut w.lock().unwrap().calls)
}

fn expect_calls(w: &Shared, expected: &[(&str, usize)]) {
    let expected: BTreeMap<String, usize> =
        expected.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(calls(w), expected);
}

fn set_fault(w: &Shared, fault: Option<Fault>) {
    w.lock().unwrap().fault = fault;
}

// ---------------------------------------------------------------------------
// Keyrings and items

fn strict(w: &Shared, region: &'static str, id: &str) -> AwsKmsKeyring {
    AwsKmsKeyring::new(&arn(region, id), None, client(w, region), vec![]).unwrap()
}

fn mrk(w: &Shared, region: &'static str, id: &str) -> AwsKmsMrkKeyring {
    AwsKmsMrkKeyring::new(&arn(region, id), None, client(w, region), vec![]).unwrap()
}

fn discovery(
    w: &Shared,
    region: &'static str,
    filter: Option<DiscoveryFilter>,
) -> AwsKmsMrkDiscoveryKeyring {
    AwsKmsMrkDiscoveryKeyring::new(region, filter, client(w, region), vec![]).unwrap()
}

const SUITES: [AlgorithmSuiteId; 2] = [
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
];

fn encryptor_for(table: &str, keyring: Arc<dyn Keyring>, suite: AlgorithmSuiteId) -> ItemEncryptor {
    let actions = BTreeMap::from([
        ("pk".to_string(), CryptoAction::SignOnly),
        ("secret".to_string(), CryptoAction::EncryptAndSign),
    ]);
    let mut config = ItemEncryptorConfig::new(table, "pk", actions, keyring);
    config.algorithm_suite_id = suite;
    ItemEncryptor::new(config).unwrap()
}

fn item() -> Item {
    Item::from([
        ("pk".to_string(), AttributeValue::S("order#1".into())),
        (
            "secret".to_string(),
            AttributeValue::S("4111 1111 1111 1111".into()),
        ),
    ])
}

fn seal(keyring: impl Keyring + 'static, suite: AlgorithmSuiteId) -> Item {
    pollster::block_on(encryptor_for("Orders", Arc::new(keyring), suite).encrypt_item(&item()))
        .unwrap()
}

fn try_seal(keyring: impl Keyring + 'static) -> fieldseal::Result<Item> {
    pollster::block_on(encryptor_for("Orders", Arc::new(keyring), SUITES[0]).encrypt_item(&item()))
}

fn open(keyring: impl Keyring + 'static, sealed: &Item) -> fieldseal::Result<Item> {
    pollster::block_on(encryptor_for("Orders", Arc::new(keyring), SUITES[0]).decrypt_item(sealed))
}

fn sample_ec() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("aws-crypto-table-name".to_string(), "Orders".to_string()),
        ("tenant".to_string(), "acme".to_string()),
    ])
}

fn keyring_encrypt(
    keyring: &dyn Keyring,
    materials: EncryptionMaterials,
) -> fieldseal::Result<EncryptionMaterials> {
    pollster::block_on(keyring.on_encrypt(materials))
}

fn keyring_decrypt(
    keyring: &dyn Keyring,
    suite: AlgorithmSuiteId,
    edks: &[EncryptedDataKey],
) -> fieldseal::Result<DecryptionMaterials> {
    pollster::block_on(keyring.on_decrypt(DecryptionMaterials::new(suite, sample_ec()), edks))
}

fn assert_key_provider_failure(error: &Error, needles: &[&str]) {
    assert_eq!(error.code(), "KEY_PROVIDER_FAILURE", "{error}");
    let text = error.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
}

// ---------------------------------------------------------------------------
// The EDK format

#[test]
fn edk_is_aws_kms_with_the_returned_arn_and_pdk_then_kms_blob() {
    let w = world();
    for suite in SUITES {
        // Configured by alias: the provider info is still the key ARN KMS answered with.
        let keyring = AwsKmsKeyring::new(
            "alias/orders",
            Some("us-east-1"),
            client(&w, "us-east-1"),
            vec![],
        )
        .unwrap();
        let m = keyring_encrypt(&keyring, EncryptionMaterials::new(suite, sample_ec())).unwrap();
        let (kms_plaintext, blob) = w.lock().unwrap().last_generated.clone().unwrap();
        let data_key = m.plaintext_data_key.clone().unwrap();
        let [edk] = m.encrypted_data_keys.as_slice() else {
            panic!("one EDK expected")
        };
        assert_eq!(edk.key_provider_id, PROVIDER_ID);
        assert_eq!(edk.key_provider_info, arn("us-east-1", SRK).into_bytes());
        assert_eq!(edk.ciphertext.len(), ENCRYPTED_PDK_LEN + blob.len());
        assert_eq!(&edk.ciphertext[ENCRYPTED_PDK_LEN..], blob.as_slice());
        // GenerateDataKey's plaintext is the intermediate key, not the data key.
        assert_ne!(kms_plaintext.as_slice(), data_key.expose());
        let ec = serialize_encryption_context(&sample_ec()).unwrap();
        let intermediate = SecretBytes::new(kms_plaintext);
        let (opened, signing_key) =
            open_data_key(&edk.ciphertext[..ENCRYPTED_PDK_LEN], &intermediate, &ec).unwrap();
        assert_eq!(opened, data_key);
        assert_eq!(
            signing_key,
            derive_keys(intermediate.expose()).symmetric_signing_key
        );
        assert_eq!(m.symmetric_signing_keys, vec![signing_key]);
        // The request: the configured id, 32 bytes, the materials' context.
        let request = w.lock().unwrap().generate_requests.pop().unwrap();
        assert_eq!(request.key_id, "alias/orders");
        assert_eq!(request.number_of_bytes, 32);
        assert_eq!(request.encryption_context, sample_ec());
        expect_calls(&w, &[("GenerateDataKey us-east-1", 1)]);

        // The MPL's strict filter compares provider info with the configured
        // identifier, so a keyring configured by alias never opens.
        let error = keyring_decrypt(&keyring, suite, &m.encrypted_data_keys).unwrap_err();
        assert_eq!(error.code(), "NO_MATCHING_KEY", "{error}");
        let by_arn = strict(&w, "us-east-1", SRK);
        let d = keyring_decrypt(&by_arn, suite, &m.encrypted_data_keys).unwrap();
        assert_eq!(d.plaintext_data_key, Some(data_key));
        assert_eq!(
            d.symmetric_signing_key,
            Some(m.symmetric_signing_keys[0].clone())
        );
        expect_calls(&w, &[("Decrypt us-east-1", 1)]);
    }
}

#[test]
fn a_child_kms_keyring_wraps_the_existing_data_key_with_generate_data_key_not_encrypt() {
    let w = world();
    let aes = RawAesKeyring::new("app", "k1", &[9; 32]).unwrap();
    let m = keyring_encrypt(&aes, EncryptionMaterials::new(SUITES[1], sample_ec())).unwrap();
    let data_key = m.plaintext_data_key.clone().unwrap();
    let m = keyring_encrypt(&strict(&w, "us-east-1", SRK), m).unwrap();
    assert_eq!(m.plaintext_data_key, Some(data_key.clone()));
    assert_eq!(m.encrypted_data_keys.len(), 2);
    assert_eq!(m.symmetric_signing_keys.len(), 2);
    // Intermediate wrapping: GenerateDataKey even for an existing data key.
    expect_calls(&w, &[("GenerateDataKey us-east-1", 1)]);
    let (kms_plaintext, _) = w.lock().unwrap().last_generated.clone().unwrap();
    let ec = serialize_encryption_context(&sample_ec()).unwrap();
    let (opened, _) = open_data_key(
        &m.encrypted_data_keys[1].ciphertext[..ENCRYPTED_PDK_LEN],
        &SecretBytes::new(kms_plaintext),
        &ec,
    )
    .unwrap();
    assert_eq!(opened, data_key);
}

#[test]
fn requests_carry_the_encryption_context_and_grant_tokens() {
    let w = world();
    let tokens = vec!["grant-1".to_string(), "grant-2".to_string()];
    let key = arn("us-east-1", SRK);
    let keyring = AwsKmsKeyring::new(&key, None, client(&w, "us-east-1"), tokens.clone()).unwrap();
    let m = keyring_encrypt(&keyring, EncryptionMaterials::new(SUITES[0], sample_ec())).unwrap();
    keyring_decrypt(&keyring, SUITES[0], &m.encrypted_data_keys).unwrap();
    let w = w.lock().unwrap();
    let generate = &w.generate_requests[0];
    let decrypt = &w.decrypt_requests[0];
    assert_eq!(generate.grant_tokens, tokens);
    assert_eq!(decrypt.grant_tokens, tokens);
    assert_eq!(generate.encryption_context, sample_ec());
    assert_eq!(decrypt.encryption_context, sample_ec());
    assert_eq!(decrypt.key_id, key);
    assert_eq!(
        decrypt.ciphertext_blob,
        m.encrypted_data_keys[0].ciphertext[ENCRYPTED_PDK_LEN..]
    );
    assert_eq!(w.calls.get("Encrypt us-east-1"), None);
}

// ---------------------------------------------------------------------------
// Round trips

#[test]
fn every_keyring_round_trips_items_with_both_suites() {
    let w = world();
    let (clients, _) = supplier(&w);
    for suite in SUITES {
        // Strict.
        let sealed = seal(strict(&w, "us-east-1", SRK), suite);
        expect_calls(&w, &[("GenerateDataKey us-east-1", 1)]);
        assert_eq!(open(strict(&w, "us-east-1", SRK), &sealed).unwrap(), item());
        expect_calls(&w, &[("Decrypt us-east-1", 1)]);
        // Discovery opens what the strict keyring sealed, in its region.
        assert_eq!(
            open(discovery(&w, "us-east-1", None), &sealed).unwrap(),
            item()
        );
        expect_calls(&w, &[("Decrypt us-east-1", 1)]);

        // MRK-aware strict, and its own key opens.
        let sealed = seal(mrk(&w, "us-east-1", MRK), suite);
        expect_calls(&w, &[("GenerateDataKey us-east-1", 1)]);
        assert_eq!(open(mrk(&w, "us-east-1", MRK), &sealed).unwrap(), item());
        // The plain strict keyring with the same ARN opens it too.
        assert_eq!(open(strict(&w, "us-east-1", MRK), &sealed).unwrap(), item());
        expect_calls(&w, &[("Decrypt us-east-1", 2)]);

        // Strict MRK multi-keyring and discovery multi-keyring.
        let multi = AwsKmsMrkKeyring::multi(
            Some(&arn("us-east-1", MRK)),
            &[arn("us-east-1", SRK), arn("ap-southeast-2", MRK2)],
            &clients,
            vec![],
        )
        .unwrap();
        let sealed = seal(multi, suite);
        expect_calls(
            &w,
            &[
                ("GenerateDataKey ap-southeast-2", 1),
                ("GenerateDataKey us-east-1", 2),
            ],
        );
        let regions = ["eu-west-1".to_string(), "ap-southeast-2".to_string()];
        let multi = AwsKmsMrkDiscoveryKeyring::multi(&regions, None, &clients, vec![]).unwrap();
        assert_eq!(open(multi, &sealed).unwrap(), item());
        // eu-west-1 opens the first EDK (the MRK's, rewritten to eu-west-1).
        expect_calls(&w, &[("Decrypt eu-west-1", 1)]);
    }
}

#[test]
fn mrk_sealed_in_us_east_1_opens_in_eu_west_1_without_calling_us_east_1() {
    let w = world();
    let (clients, _) = supplier(&w);
    for suite in SUITES {
        let sealed = seal(mrk(&w, "us-east-1", MRK), suite);
        expect_calls(&w, &[("GenerateDataKey us-east-1", 1)]);

        // The strict MRK keyring with the replica's ARN.
        assert_eq!(open(mrk(&w, "eu-west-1", MRK), &sealed).unwrap(), item());
        expect_calls(&w, &[("Decrypt eu-west-1", 1)]);
        assert_eq!(
            w.lock().unwrap().decrypt_requests.pop().unwrap().key_id,
            arn("eu-west-1", MRK)
        );

        // The discovery keyring in eu-west-1, filtered to the account.
        let filter = DiscoveryFilter::new("aws", vec![ACCOUNT.into()]).unwrap();
        assert_eq!(
            open(discovery(&w, "eu-west-1", Some(filter)), &sealed).unwrap(),
            item()
        );
        expect_calls(&w, &[("Decrypt eu-west-1", 1)]);
        assert_eq!(
            w.lock().unwrap().decrypt_requests.pop().unwrap().key_id,
            arn("eu-west-1", MRK),
            "the EDK's ARN is rewritten to the keyring's region"
        );

        // The discovery multi-keyring, eu-west-1 first.
        let regions = ["eu-west-1".to_string(), "us-east-1".to_string()];
        let multi = AwsKmsMrkDiscoveryKeyring::multi(&regions, None, &clients, vec![]).unwrap();
        assert_eq!(open(multi, &sealed).unwrap(), item());
        expect_calls(&w, &[("Decrypt eu-west-1", 1)]);

        // The plain strict keyring does not treat a replica as the same key.
        let error = open(strict(&w, "eu-west-1", MRK), &sealed).unwrap_err();
        assert_eq!(error.code(), "NO_MATCHING_KEY", "{error}");
        // Nor does the MRK keyring of another key.
        let error = open(mrk(&w, "ap-southeast-2", MRK2), &sealed).unwrap_err();
        assert_eq!(error.code(), "NO_MATCHING_KEY", "{error}");
        expect_calls(&w, &[]);
    }
}

#[test]
fn a_discovery_filter_for_another_account_or_partition_refuses_without_a_call() {
    let w = world();
    let sealed = seal(mrk(&w, "us-east-1", MRK), SUITES[0]);
    calls(&w);
    for (partition, account) in [("aws", "999999999999"), ("aws-cn", ACCOUNT)] {
        let filter = DiscoveryFilter::new(partition, vec![account.into()]).unwrap();
        let error = open(discovery(&w, "eu-west-1", Some(filter)), &sealed).unwrap_err();
        assert_eq!(error.code(), "NO_MATCHING_KEY", "{error}");
        assert!(error.to_string().contains("discovery filter"), "{error}");
        assert!(
            error.to_string().contains(&arn("us-east-1", MRK)),
            "{error}"
        );
    }
    expect_calls(&w, &[]);
    // Several accounts, one of them right.
    let filter = DiscoveryFilter::new("aws", vec!["999999999999".into(), ACCOUNT.into()]).unwrap();
    assert_eq!(
        open(discovery(&w, "eu-west-1", Some(filter)), &sealed).unwrap(),
        item()
    );
}

/// KMS's InvalidCiphertextException (blob or context changed) is the
/// record's integrity failure, naming the key, region and KMS's answer.
fn assert_integrity_failure_at_kms(error: &Error, parts: &[&str]) {
    assert_eq!(error.code(), "INTEGRITY_FAILURE", "{error}");
    for part in parts
        .iter()
        .chain(&["InvalidCiphertextException", "Decrypt"])
    {
        assert!(error.to_string().contains(part), "{part} missing: {error}");
    }
}

#[test]
fn a_wrong_encryption_context_fails_at_kms() {
    let w = world();
    let key = arn("us-east-1", SRK);
    let sealed = seal(strict(&w, "us-east-1", SRK), SUITES[0]);
    // Another logical table name is another encryption context.
    let other = encryptor_for("Refunds", Arc::new(strict(&w, "us-east-1", SRK)), SUITES[0]);
    let error = pollster::block_on(other.decrypt_item(&sealed)).unwrap_err();
    assert_integrity_failure_at_kms(&error, &[&key, "us-east-1"]);

    // At the keyring level too: same EDK, another context.
    let keyring = strict(&w, "us-east-1", SRK);
    let m = keyring_encrypt(&keyring, EncryptionMaterials::new(SUITES[0], sample_ec())).unwrap();
    let mut ec = sample_ec();
    ec.insert("tenant".into(), "evil".into());
    let error = pollster::block_on(keyring.on_decrypt(
        DecryptionMaterials::new(SUITES[0], ec),
        &m.encrypted_data_keys,
    ))
    .unwrap_err();
    assert_integrity_failure_at_kms(&error, &[]);
}

#[test]
fn a_single_region_key_does_not_open_through_another_regions_discovery() {
    let w = world();
    let sealed = seal(strict(&w, "us-east-1", SRK), SUITES[1]);
    calls(&w);
    let error = open(discovery(&w, "eu-west-1", None), &sealed).unwrap_err();
    assert_eq!(error.code(), "NO_MATCHING_KEY");
    assert!(
        error
            .to_string()
            .contains("single-Region key in another region"),
        "{error}"
    );
    expect_calls(&w, &[]);
    assert_eq!(
        open(discovery(&w, "us-east-1", None), &sealed).unwrap(),
        item()
    );
    expect_calls(&w, &[("Decrypt us-east-1", 1)]);
}

#[test]
fn a_multi_keyring_of_kms_and_raw_aes_opens_with_either() {
    let w = world();
    let aes = || RawAesKeyring::new("app", "k1", &[9; 32]).unwrap();
    for suite in SUITES {
        let orders: [(Arc<dyn Keyring>, Arc<dyn Keyring>); 2] = [
            (Arc::new(strict(&w, "us-east-1", SRK)), Arc::new(aes())),
            (Arc::new(aes()), Arc::new(strict(&w, "us-east-1", SRK))),
        ];
        for (generator, child) in orders {
            let multi = MultiKeyring::new(Some(generator), vec![child]).unwrap();
            let sealed = seal(multi, suite);
            expect_calls(&w, &[("GenerateDataKey us-east-1", 1)]);
            assert_eq!(open(strict(&w, "us-east-1", SRK), &sealed).unwrap(), item());
            assert_eq!(open(aes(), &sealed).unwrap(), item());
            // The discovery keyring skips the raw AES EDK without a call.
            assert_eq!(
                open(discovery(&w, "us-east-1", None), &sealed).unwrap(),
                item()
            );
            expect_calls(&w, &[("Decrypt us-east-1", 2)]);
        }
    }
}

// ---------------------------------------------------------------------------
// Multi-keyrings

#[test]
fn strict_mrk_multi_keyring_rules() {
    let w = world();
    let (clients, made) = supplier(&w);
    // One client per region even with two keys in us-east-1.
    let multi = AwsKmsMrkKeyring::multi(
        Some(&arn("us-east-1", MRK)),
        &[arn("us-east-1", SRK), arn("ap-southeast-2", MRK2)],
        &clients,
        vec!["g".into()],
    )
    .unwrap();
    assert_eq!(made.load(Ordering::SeqCst), 2);
    let sealed = seal(multi, SUITES[0]);
    calls(&w);
    // Each key opens its own EDK; the MRK's replica too.
    assert_eq!(
        open(mrk(&w, "ap-southeast-2", MRK2), &sealed).unwrap(),
        item()
    );
    assert_eq!(open(mrk(&w, "eu-west-1", MRK), &sealed).unwrap(), item());
    assert_eq!(open(strict(&w, "us-east-1", SRK), &sealed).unwrap(), item());
    expect_calls(
        &w,
        &[
            ("Decrypt ap-southeast-2", 1),
            ("Decrypt eu-west-1", 1),
            ("Decrypt us-east-1", 1),
        ],
    );
    // Children only.
    let children =
        AwsKmsMrkKeyring::multi(None, &[arn("us-east-1", SRK)], &clients, vec![]).unwrap();
    assert_eq!(open(children, &sealed).unwrap(), item());

    // Spec: aws-kms-mrk-are-unique — two replicas of one MRK are refused, naming both.
    let error = AwsKmsMrkKeyring::multi(
        Some(&arn("us-east-1", MRK)),
        &[arn("ap-southeast-2", MRK)],
        &clients,
        vec![],
    )
    .unwrap_err();
    assert_eq!(error.code(), "INVALID_CONFIG");
    let text = error.to_string();
    assert!(
        text.contains(&arn("us-east-1", MRK)) && text.contains(&arn("ap-southeast-2", MRK)),
        "{text}"
    );
    // Identifiers must be ARNs; at least one key; grant tokens within limits.
    for (generator, keys) in [
        (Some("alias/orders"), vec![]),
        (None, vec![SRK.to_string()]),
        (None, vec![]),
        (Some(""), vec![]),
    ] {
        let error = AwsKmsMrkKeyring::multi(generator, &keys, &clients, vec![]).unwrap_err();
        assert_eq!(
            error.code(),
            "INVALID_CONFIG",
            "{generator:?} {keys:?}: {error}"
        );
    }
    let too_many = (0..11).map(|i| format!("g{i}")).collect();
    assert!(
        AwsKmsMrkKeyring::multi(Some(&arn("us-east-1", SRK)), &[], &clients, too_many).is_err()
    );
}

#[test]
fn mrk_discovery_multi_keyring_rules() {
    let w = world();
    let (clients, made) = supplier(&w);
    for regions in [
        vec![],
        vec!["".to_string()],
        vec!["us-east-1".into(), "".into()],
    ] {
        let error = AwsKmsMrkDiscoveryKeyring::multi(&regions, None, &clients, vec![]).unwrap_err();
        assert_eq!(error.code(), "INVALID_CONFIG");
    }
    let bad_filter = DiscoveryFilter {
        partition: "aws".into(),
        account_ids: vec![],
    };
    assert!(AwsKmsMrkDiscoveryKeyring::multi(
        &["us-east-1".into()],
        Some(bad_filter),
        &clients,
        vec![]
    )
    .is_err());
    made.store(0, Ordering::SeqCst);
    let regions = [
        "ap-southeast-2".into(),
        "ap-southeast-2".into(),
        "us-east-1".into(),
    ];
    let multi = AwsKmsMrkDiscoveryKeyring::multi(&regions, None, &clients, vec![]).unwrap();
    assert_eq!(made.load(Ordering::SeqCst), 2, "one client per region");
    // It cannot encrypt.
    assert_eq!(try_seal(multi).unwrap_err().code(), "INVALID_CONFIG");
}

#[test]
fn caching_supplier_makes_one_client_per_region_lazily() {
    let w = world();
    let (inner, made) = supplier(&w);
    let cache = CachingClientSupplier::new(inner);
    assert_eq!(made.load(Ordering::SeqCst), 0);
    let a = cache.client("us-east-1").unwrap();
    let b = cache.client("us-east-1").unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    cache.client("eu-west-1").unwrap();
    assert_eq!(made.load(Ordering::SeqCst), 2);
    assert_eq!(cache.regions(), ["eu-west-1", "us-east-1"]);
    assert_eq!(
        cache.client("").err().map(|e| e.code()),
        Some("INVALID_CONFIG")
    );
    // Shared by two multi-keyrings: still one client per region.
    let regions = ["us-east-1".to_string(), "ap-southeast-2".to_string()];
    AwsKmsMrkDiscoveryKeyring::multi(&regions, None, &cache, vec![]).unwrap();
    AwsKmsMrkKeyring::multi(Some(&arn("ap-southeast-2", MRK2)), &[], &cache, vec![]).unwrap();
    assert_eq!(made.load(Ordering::SeqCst), 3);
    assert!(format!("{cache:?}").contains("ap-southeast-2"));
}

// ---------------------------------------------------------------------------
// Failures

/// Every failing KMS call: KEY_PROVIDER_FAILURE naming key ARN, region and error name.
#[test]
fn every_kms_failure_is_a_key_provider_failure_naming_arn_region_and_error() {
    let w = world();
    let key = arn("us-east-1", SRK);
    let sealed = seal(strict(&w, "us-east-1", SRK), SUITES[0]);
    let sealed_mrk = seal(mrk(&w, "us-east-1", MRK), SUITES[0]);
    let replica = arn("eu-west-1", MRK);
    for name in [
        "AccessDeniedException",
        "DisabledException",
        "KMSInvalidStateException",
        "NotFoundException",
        "ThrottlingException",
        "NetworkError",
    ] {
        set_fault(&w, Some(Fault::Error(name)));
        let error = try_seal(strict(&w, "us-east-1", SRK)).unwrap_err();
        assert_key_provider_failure(&error, &[&key, "us-east-1", name, "GenerateDataKey"]);
        let error = open(strict(&w, "us-east-1", SRK), &sealed).unwrap_err();
        assert_key_provider_failure(&error, &[&key, "us-east-1", name, "Decrypt"]);
        let error = open(mrk(&w, "eu-west-1", MRK), &sealed_mrk).unwrap_err();
        assert_key_provider_failure(&error, &[&replica, "eu-west-1", name]);
        let error = open(discovery(&w, "eu-west-1", None), &sealed_mrk).unwrap_err();
        assert_key_provider_failure(&error, &[&replica, "eu-west-1", name]);
        // Through a multi-keyring the code stays KEY_PROVIDER_FAILURE.
        let (clients, _) = supplier(&w);
        let multi = AwsKmsMrkDiscoveryKeyring::multi(&["eu-west-1".into()], None, &clients, vec![])
            .unwrap();
        let error = open(multi, &sealed_mrk).unwrap_err();
        assert_key_provider_failure(&error, &[&replica, "eu-west-1", name]);
    }
    set_fault(&w, None);
    calls(&w);

    // Real key states and a missing key, not injected.
    for (id, name) in [
        (DISABLED, "DisabledException"),
        (PENDING, "KMSInvalidStateException"),
        ("00000000-0000-0000-0000-000000000000", "NotFoundException"),
    ] {
        let error = try_seal(strict(&w, "us-east-1", id)).unwrap_err();
        assert_key_provider_failure(&error, &[&arn("us-east-1", id), "us-east-1", name]);
    }
    // An MRK keyring whose replica region has no replica.
    let error = try_seal(mrk(&w, "eu-west-1", MRK2)).unwrap_err();
    assert_key_provider_failure(
        &error,
        &[&arn("eu-west-1", MRK2), "eu-west-1", "NotFoundException"],
    );
}

#[test]
fn wrong_key_id_or_plaintext_length_in_a_response_is_a_key_provider_failure() {
    let w = world();
    let key = arn("us-east-1", SRK);
    let sealed = seal(strict(&w, "us-east-1", SRK), SUITES[0]);
    for (fault, on_encrypt, on_decrypt) in [
        (
            Fault::KeyId("not-an-arn".into()),
            "not a key ARN",
            "answered for key",
        ),
        (
            Fault::KeyId(format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/orders")),
            "not a key ARN",
            "answered for key",
        ),
        (Fault::KeyId(arn("us-east-1", MRK)), "", "answered for key"),
        (
            Fault::PlaintextLen(16),
            "16 plaintext bytes",
            "16 plaintext bytes",
        ),
        (
            Fault::PlaintextLen(33),
            "33 plaintext bytes",
            "33 plaintext bytes",
        ),
    ] {
        set_fault(&w, Some(fault));
        let encrypted = try_seal(strict(&w, "us-east-1", SRK));
        if on_encrypt.is_empty() {
            // Another valid key ARN is not checked on encrypt (nor by the MPL).
            assert!(encrypted.is_ok());
        } else {
            assert_key_provider_failure(&encrypted.unwrap_err(), &[&key, "us-east-1", on_encrypt]);
        }
        let error = open(strict(&w, "us-east-1", SRK), &sealed).unwrap_err();
        assert_key_provider_failure(&error, &[&key, "us-east-1", on_decrypt]);
    }
    set_fault(&w, Some(Fault::EmptyBlob));
    let error = try_seal(strict(&w, "us-east-1", SRK)).unwrap_err();
    assert_key_provider_failure(&error, &[&key, "ciphertext of 0 bytes"]);
    set_fault(&w, None);
}

#[test]
fn when_several_edks_fail_every_attempt_is_reported() {
    let w = world();
    // Two EDKs of one MRK (from us-east-1 and eu-west-1) and one of a single-Region key.
    let multi = MultiKeyring::new(
        Some(Arc::new(mrk(&w, "us-east-1", MRK))),
        vec![
            Arc::new(mrk(&w, "eu-west-1", MRK)),
            Arc::new(strict(&w, "us-east-1", SRK)),
        ],
    )
    .unwrap();
    let sealed = seal(multi, SUITES[0]);
    calls(&w);
    set_fault(&w, Some(Fault::Error("ThrottlingException")));
    let error = open(discovery(&w, "ap-southeast-2", None), &sealed).unwrap_err();
    set_fault(&w, None);
    assert_key_provider_failure(
        &error,
        &[
            "EDK #0",
            "EDK #1",
            "EDK #2",
            "ThrottlingException",
            "single-Region key",
        ],
    );
    expect_calls(&w, &[("Decrypt ap-southeast-2", 2)]);

    // One attempt fails at KMS, the next opens.
    let mut edks = {
        let keyring = mrk(&w, "us-east-1", MRK);
        keyring_encrypt(&keyring, EncryptionMaterials::new(SUITES[0], sample_ec()))
            .unwrap()
            .encrypted_data_keys
    };
    let mut broken = edks[0].clone();
    let last = broken.ciphertext.len() - 1;
    broken.ciphertext[last] ^= 1;
    edks.insert(0, broken);
    let d = keyring_decrypt(&discovery(&w, "eu-west-1", None), SUITES[0], &edks).unwrap();
    assert!(d.plaintext_data_key.is_some());

    // No EDK for this keyring: NO_MATCHING_KEY naming each and the providers seen.
    let error = open(strict(&w, "us-east-1", DISABLED), &sealed).unwrap_err();
    match &error {
        Error::NoMatchingKey {
            providers_seen,
            detail,
        } => {
            assert_eq!(providers_seen, &vec![PROVIDER_ID.to_string()]);
            assert!(
                detail.contains("EDK #0") && detail.contains("EDK #2"),
                "{detail}"
            );
        }
        other => panic!("expected NoMatchingKey, got {other:?}"),
    }
}

#[test]
fn malformed_aws_kms_edks() {
    let w = world();
    let keyring = strict(&w, "us-east-1", SRK);
    let m = keyring_encrypt(&keyring, EncryptionMaterials::new(SUITES[0], sample_ec())).unwrap();
    let good = m.encrypted_data_keys[0].clone();
    calls(&w);
    // Provider info that is not UTF-8 or not an ARN fails OnDecrypt before any
    // KMS call, even when a later EDK would open (as the MPL's filters do).
    for info in [
        vec![0xff, 0xfe],
        b"alias/orders".to_vec(),
        b"arn:aws:kms:us-east-1:111122223333:key/a:b".to_vec(),
    ] {
        let bad = EncryptedDataKey {
            key_provider_info: info,
            ..good.clone()
        };
        for k in [
            &strict(&w, "us-east-1", SRK) as &dyn Keyring,
            &mrk(&w, "us-east-1", MRK),
            &discovery(&w, "us-east-1", None),
        ] {
            let error = keyring_decrypt(k, SUITES[0], &[bad.clone(), good.clone()]).unwrap_err();
            assert_eq!(error.code(), "MALFORMED_CIPHERTEXT", "{error}");
        }
    }
    // The discovery keyring refuses an alias ARN as provider info.
    let alias = EncryptedDataKey {
        key_provider_info: format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/orders").into_bytes(),
        ..good.clone()
    };
    let error =
        keyring_decrypt(&discovery(&w, "us-east-1", None), SUITES[0], &[alias]).unwrap_err();
    assert_eq!(error.code(), "MALFORMED_CIPHERTEXT", "{error}");
    expect_calls(&w, &[]);

    // A truncated EDK fails without a KMS call.
    let short = EncryptedDataKey {
        ciphertext: good.ciphertext[..ENCRYPTED_PDK_LEN].to_vec(),
        ..good.clone()
    };
    let error = keyring_decrypt(&keyring, SUITES[0], &[short]).unwrap_err();
    assert_eq!(error.code(), "MALFORMED_CIPHERTEXT", "{error}");
    expect_calls(&w, &[]);
    // A tampered encrypted data key: KMS answers, the data key does not verify.
    let mut tampered = good.clone();
    tampered.ciphertext[0] ^= 1;
    let error = keyring_decrypt(&keyring, SUITES[0], &[tampered]).unwrap_err();
    assert_eq!(error.code(), "INTEGRITY_FAILURE", "{error}");
    expect_calls(&w, &[("Decrypt us-east-1", 1)]);
    // A tampered KMS blob: KMS refuses it.
    let mut tampered = good.clone();
    let last = tampered.ciphertext.len() - 1;
    tampered.ciphertext[last] ^= 1;
    let error = keyring_decrypt(&keyring, SUITES[0], &[tampered]).unwrap_err();
    assert_integrity_failure_at_kms(&error, &[]);
}

// ---------------------------------------------------------------------------
// Configuration

#[test]
fn constructors_validate_their_inputs() {
    let w = world();
    let c = || client(&w, "us-east-1");
    // A non-ARN identifier needs a region; an ARN does not.
    assert!(AwsKmsKeyring::new(SRK, None, c(), vec![]).is_err());
    assert!(AwsKmsKeyring::new(SRK, Some(""), c(), vec![]).is_err());
    assert!(AwsKmsKeyring::new(SRK, Some("us-east-1"), c(), vec![]).is_ok());
    assert!(AwsKmsMrkKeyring::new("alias/orders", Some("us-east-1"), c(), vec![]).is_ok());
    for bad in [
        "",
        "key/abc",
        "arn:aws:s3:us-east-1:111122223333:key/x",
        "alias/",
    ] {
        let error = AwsKmsKeyring::new(bad, Some("us-east-1"), c(), vec![]).unwrap_err();
        assert_eq!(error.code(), "INVALID_CONFIG", "{bad}");
    }
    // Grant tokens: at most 10, each 1 to 8192 characters.
    let key = arn("us-east-1", SRK);
    let tokens = |n: usize, len: usize| vec!["g".repeat(len); n];
    assert!(AwsKmsKeyring::new(&key, None, c(), tokens(10, 8192)).is_ok());
    assert!(AwsKmsKeyring::new(&key, None, c(), tokens(11, 1)).is_err());
    assert!(AwsKmsKeyring::new(&key, None, c(), tokens(1, 0)).is_err());
    assert!(AwsKmsKeyring::new(&key, None, c(), tokens(1, 8193)).is_err());
    assert!(AwsKmsMrkDiscoveryKeyring::new("us-east-1", None, c(), tokens(11, 1)).is_err());
    // Discovery: a region, and a filter with a partition and accounts.
    assert!(AwsKmsMrkDiscoveryKeyring::new("", None, c(), vec![]).is_err());
    assert!(DiscoveryFilter::new("", vec![ACCOUNT.into()]).is_err());
    assert!(DiscoveryFilter::new("aws", vec![]).is_err());
    assert!(DiscoveryFilter::new("aws", vec!["".into()]).is_err());
    let unchecked = DiscoveryFilter {
        partition: String::new(),
        account_ids: vec![ACCOUNT.into()],
    };
    assert!(AwsKmsMrkDiscoveryKeyring::new("us-east-1", Some(unchecked), c(), vec![]).is_err());
}

#[test]
fn a_discovery_keyring_cannot_encrypt() {
    let w = world();
    let error = try_seal(discovery(&w, "eu-west-1", None)).unwrap_err();
    assert_eq!(error.code(), "INVALID_CONFIG");
    expect_calls(&w, &[]);
}

#[test]
fn debug_output_names_no_secrets() {
    let w = world();
    let keyring = AwsKmsKeyring::new(
        &arn("us-east-1", SRK),
        None,
        client(&w, "us-east-1"),
        vec!["grant-secret".into()],
    )
    .unwrap();
    let debug = format!("{keyring:?}");
    assert!(
        debug.contains("us-east-1") && !debug.contains("grant-secret"),
        "{debug}"
    );
    let debug = format!("{:?}", discovery(&w, "eu-west-1", None));
    assert!(debug.contains("eu-west-1"), "{debug}");
    let response = GenerateDataKeyResponse {
        key_id: arn("us-east-1", SRK),
        plaintext: SecretBytes::from_slice(b"0123456789abcdef0123456789abcdef"),
        ciphertext_blob: vec![1],
    };
    let debug = format!("{response:?}");
    assert!(
        !debug.contains("0123456789abcdef") && debug.contains("32 bytes redacted"),
        "{debug}"
    );
    assert_eq!(
        err("ThrottlingException", "slow down").to_string(),
        "ThrottlingException: slow down"
    );
}

#[test]
fn request_and_response_debug_hides_grant_tokens_and_key_bytes() {
    let token = "AQpAM2Q-grant-token-secret".to_string();
    // 0xA7 prints as 167 in a derived Debug of the bytes.
    let key_bytes = vec![0xA7u8; 32];
    let blob = vec![0xA7u8; 184];
    let generate = GenerateDataKeyRequest {
        key_id: arn("us-east-1", SRK),
        number_of_bytes: 32,
        encryption_context: sample_ec(),
        grant_tokens: vec![token.clone(), "second-token-secret".into()],
    };
    let decrypt = DecryptRequest {
        key_id: arn("us-east-1", SRK),
        ciphertext_blob: blob.clone(),
        encryption_context: sample_ec(),
        grant_tokens: vec![token.clone()],
        encryption_algorithm: None,
    };
    let generated = GenerateDataKeyResponse {
        key_id: arn("us-east-1", SRK),
        plaintext: SecretBytes::new(key_bytes.clone()),
        ciphertext_blob: blob.clone(),
    };
    let decrypted = DecryptResponse {
        key_id: arn("us-east-1", SRK),
        plaintext: SecretBytes::new(key_bytes),
    };
    for debug in [
        format!("{generate:?}"),
        format!("{generate:#?}"),
        format!("{decrypt:?}"),
        format!("{decrypt:#?}"),
        format!("{generated:?}"),
        format!("{decrypted:?}"),
    ] {
        assert!(!debug.contains("secret"), "grant token in {debug}");
        assert!(!debug.contains("167"), "key or ciphertext bytes in {debug}");
        assert!(!debug.contains("a7") && !debug.contains("A7"), "{debug}");
        assert!(debug.contains(SRK), "{debug}");
    }
    assert!(format!("{generate:?}").contains("grant_tokens: <2 redacted>"));
    assert!(format!("{decrypt:?}").contains("grant_tokens: <1 redacted>"));
    assert!(format!("{decrypt:?}").contains("ciphertext_blob: <184 bytes>"));
    assert!(format!("{generated:?}").contains("ciphertext_blob: <184 bytes>"));
    assert!(format!("{decrypted:?}").contains("32 bytes redacted"));
    // The context is not secret (it is stored in the clear): it stays visible.
    let (k, v) = sample_ec().into_iter().next().unwrap();
    assert!(format!("{decrypt:?}").contains(&k) && format!("{decrypt:?}").contains(&v));
}

// ---------------------------------------------------------------------------
// ARNs and identifiers (spec aws-kms-key-arn.md, aws-kms-mrk-match-for-decrypt.md)

#[test]
fn arn_parsing_follows_the_spec_and_the_mpl() {
    let a = KmsArn::parse(&arn("us-east-1", MRK)).unwrap();
    assert_eq!(
        (a.partition.as_str(), a.region.as_str(), a.account.as_str()),
        ("aws", "us-east-1", ACCOUNT)
    );
    assert_eq!(
        (a.resource_type, a.resource_id.as_str()),
        (ResourceType::Key, MRK)
    );
    assert_eq!(a.to_string(), arn("us-east-1", MRK));
    assert_eq!(a.in_region("eu-west-1").to_string(), arn("eu-west-1", MRK));
    // Any further `/` belongs to the resource id.
    let nested = KmsArn::parse("arn:aws:kms:us-east-1:111122223333:alias/team/orders").unwrap();
    assert_eq!(
        (nested.resource_type, nested.resource_id.as_str()),
        (ResourceType::Alias, "team/orders")
    );
    assert_eq!(
        nested.to_string(),
        "arn:aws:kms:us-east-1:111122223333:alias/team/orders"
    );
    // Other partitions are fine.
    assert!(KmsArn::parse("arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/x").is_ok());
    for bad in [
        "",
        "arn:aws:kms:us-east-1:111122223333",
        "arn:aws:kms:us-east-1:111122223333:key/x:y",
        "arn:aws:s3:us-east-1:111122223333:key/x",
        "arn::kms:us-east-1:111122223333:key/x",
        "arn:aws:kms::111122223333:key/x",
        "arn:aws:kms:us-east-1::key/x",
        "arn:aws:kms:us-east-1:111122223333:key/",
        "arn:aws:kms:us-east-1:111122223333:key",
        "arn:aws:kms:us-east-1:111122223333:alias/",
        "arn:aws:kms:us-east-1:111122223333:grant/x",
        "arn:aws:kms:us-east-1:111122223333:",
        "nope:aws:kms:us-east-1:111122223333:key/x",
        "ARN:aws:kms:us-east-1:111122223333:key/x",
    ] {
        assert!(KmsArn::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn identifiers_and_multi_region_detection() {
    use KmsKeyId::*;
    assert!(matches!(KmsKeyId::parse("alias/orders"), Ok(AliasName(n)) if n == "alias/orders"));
    assert!(matches!(
        KmsKeyId::parse("alias/team/orders"),
        Ok(AliasName(_))
    ));
    assert!(matches!(KmsKeyId::parse(SRK), Ok(RawId(_))));
    assert!(matches!(KmsKeyId::parse(MRK), Ok(RawId(_))));
    assert!(matches!(
        KmsKeyId::parse(&arn("us-east-1", SRK)),
        Ok(Arn(_))
    ));
    // A string that does not start with "arn:" is a raw id if it has no `/`.
    assert!(matches!(KmsKeyId::parse("arn"), Ok(RawId(_))));
    for bad in [
        "",
        "key/1234",
        "alias/",
        "foo/bar",
        "arn:aws:kms:us-east-1:111122223333",
        "clé",
    ] {
        assert!(KmsKeyId::parse(bad).is_err(), "{bad:?}");
    }
    assert!(KmsKeyId::parse(&"k".repeat(2048)).is_ok());
    assert!(KmsKeyId::parse(&"k".repeat(2049)).is_err());
    assert_eq!(KmsKeyId::parse("alias/x").unwrap().region(), None);
    assert_eq!(
        KmsKeyId::parse(&arn("eu-west-1", SRK)).unwrap().region(),
        Some("eu-west-1")
    );

    // Spec: identifying an AWS KMS multi-Region key — aliases never are.
    let yes = [arn("us-east-1", MRK), MRK.to_string()];
    let no = [
        arn("us-east-1", SRK),
        SRK.to_string(),
        "alias/mrk-looks-like".to_string(),
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/mrk-looks-like"),
    ];
    for id in yes {
        assert!(KmsKeyId::parse(&id).unwrap().is_multi_region_key(), "{id}");
    }
    for id in no {
        assert!(!KmsKeyId::parse(&id).unwrap().is_multi_region_key(), "{id}");
    }
}

#[test]
fn mrk_match_for_decrypt_follows_the_spec() {
    let east = arn("us-east-1", MRK);
    // Identical identifiers match, MRK or not, ARN or not.
    for id in [
        east.clone(),
        arn("us-east-1", SRK),
        SRK.into(),
        "alias/orders".into(),
    ] {
        assert!(mrk_match_for_decrypt(&id, &id), "{id}");
    }
    // MRK ARNs equal in all but the region match, both ways.
    assert!(mrk_match_for_decrypt(&east, &arn("eu-west-1", MRK)));
    assert!(mrk_match_for_decrypt(&arn("eu-west-1", MRK), &east));
    // Not: single-Region keys in two regions; another account, partition or key.
    for other in [
        format!("arn:aws:kms:eu-west-1:999999999999:key/{MRK}"),
        format!("arn:aws-cn:kms:eu-west-1:{ACCOUNT}:key/{MRK}"),
        arn("eu-west-1", MRK2),
        MRK.to_string(),
        format!("arn:aws:kms:eu-west-1:{ACCOUNT}:alias/{MRK}"),
        "not an identifier/x".to_string(),
    ] {
        assert!(!mrk_match_for_decrypt(&east, &other), "{other}");
    }
    assert!(!mrk_match_for_decrypt(
        &arn("us-east-1", SRK),
        &arn("eu-west-1", SRK)
    ));
    let alias = |region| format!("arn:aws:kms:{region}:{ACCOUNT}:alias/mrk-looks-like");
    assert!(!mrk_match_for_decrypt(
        &alias("us-east-1"),
        &alias("eu-west-1")
    ));
}

#[test]
fn mrks_are_unique_names_every_duplicate() {
    let ids = |list: &[String]| -> Vec<KmsKeyId> {
        list.iter().map(|s| KmsKeyId::parse(s).unwrap()).collect()
    };
    assert!(assert_mrks_are_unique(&[]).is_ok());
    assert!(assert_mrks_are_unique(&ids(&[arn("us-east-1", SRK), arn("eu-west-1", SRK)])).is_ok());
    assert!(assert_mrks_are_unique(&ids(&[arn("us-east-1", MRK), arn("us-east-1", MRK2)])).is_ok());
    let all = [
        arn("us-east-1", MRK),
        arn("us-east-1", SRK),
        arn("eu-west-1", MRK),
        MRK.to_string(),
    ];
    let error = assert_mrks_are_unique(&ids(&all)).unwrap_err();
    let text = error.to_string();
    assert_eq!(error.code(), "INVALID_CONFIG");
    assert!(
        text.contains(&all[0]) && text.contains(&all[2]) && text.contains(&format!(", {MRK}")),
        "{text}"
    );
    assert!(!text.contains(SRK), "{text}");
}
