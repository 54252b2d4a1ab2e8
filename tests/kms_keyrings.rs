//! AWS KMS keyrings against an in-memory KMS that behaves like the real one
//! where it matters: per-key secrets, multi-Region replicas sharing material,
//! the encryption context bound as AAD, KeyId in responses, and injectable
//! failures (the live tests against moto cover the happy and policy paths).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use fieldseal::keyring::kms::{
    mrk_match_for_decrypt, DecryptRequest, DecryptResponse, GenerateDataKeyRequest,
    GenerateDataKeyResponse, KmsArn, KmsClient, KmsClientSupplier, KmsError, KmsKeyId,
};
use fieldseal::keyring::{AwsKmsKeyring, DiscoveryFilter, MultiKeyring, RawAesKeyring};
use fieldseal::materials::SecretBytes;
use fieldseal::primitives::{aes_gcm_decrypt, aes_gcm_encrypt, random_array};
use fieldseal::{
    AlgorithmSuiteId, AttributeValue, CryptoAction, Error, Item, ItemEncryptor,
    ItemEncryptorConfig, Keyring,
};

const ACCOUNT: &str = "111122223333";
const MRK_ID: &str = "mrk-1234567890abcdef1234567890abcdef";
const SRK_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

fn arn(region: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}")
}

/// What a call to the fake does instead of succeeding.
#[derive(Clone)]
enum Fault {
    Error(&'static str),
    WrongKeyId,
    ShortPlaintext,
}

#[derive(Default)]
struct World {
    /// (account, key id) -> secret; replicas of an MRK share one entry.
    secrets: HashMap<(String, String), [u8; 32]>,
    /// Regions each key exists in.
    regions: HashMap<(String, String), Vec<String>>,
    calls: BTreeMap<String, usize>,
    fault: Option<Fault>,
}

type Shared = Arc<Mutex<World>>;

fn world() -> Shared {
    let w = Arc::new(Mutex::new(World::default()));
    {
        let mut b = w.lock().unwrap();
        for id in [MRK_ID, SRK_ID] {
            b.secrets
                .insert((ACCOUNT.into(), id.into()), random_array().unwrap());
        }
        b.regions.insert(
            (ACCOUNT.into(), MRK_ID.into()),
            vec![
                "us-east-1".into(),
                "eu-west-1".into(),
                "ap-southeast-2".into(),
            ],
        );
        b.regions
            .insert((ACCOUNT.into(), SRK_ID.into()), vec!["us-east-1".into()]);
    }
    w
}

struct FakeKms {
    region: String,
    world: Shared,
}

fn aad(ec: &BTreeMap<String, String>) -> Vec<u8> {
    format!("{ec:?}").into_bytes()
}

fn err(name: &str) -> KmsError {
    KmsError {
        name: name.into(),
        message: format!("simulated {name}"),
    }
}

impl FakeKms {
    /// Resolve a key id in this region to (account, id, ARN), as KMS does.
    fn resolve(&self, key_id: &str) -> Result<(String, String, String), KmsError> {
        let (account, id) = match KmsKeyId::parse(key_id) {
            Ok(KmsKeyId::Arn(a)) if a.region == self.region => (a.account, a.resource_id),
            Ok(KmsKeyId::RawId(id)) => (ACCOUNT.to_string(), id),
            _ => return Err(err("NotFoundException")),
        };
        let w = self.world.lock().unwrap();
        let here = w
            .regions
            .get(&(account.clone(), id.clone()))
            .is_some_and(|r| r.contains(&self.region));
        if !here {
            return Err(err("NotFoundException"));
        }
        let full = format!("arn:aws:kms:{}:{account}:key/{id}", self.region);
        Ok((account, id, full))
    }

    fn count(&self, op: &str) -> Result<Option<Fault>, KmsError> {
        let mut w = self.world.lock().unwrap();
        *w.calls.entry(format!("{op} {}", self.region)).or_default() += 1;
        match w.fault.clone() {
            Some(Fault::Error(name)) => Err(err(name)),
            other => Ok(other),
        }
    }
}

#[async_trait(?Send)]
impl KmsClient for FakeKms {
    async fn generate_data_key(
        &self,
        request: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        let fault = self.count("GenerateDataKey")?;
        let (account, id, full) = self.resolve(&request.key_id)?;
        let secret = self.world.lock().unwrap().secrets[&(account.clone(), id.clone())];
        let plaintext: [u8; 32] = random_array().unwrap();
        let nonce: [u8; 12] = random_array().unwrap();
        // The blob names the key, as KMS's does.
        let mut blob = format!("{account}/{id}|").into_bytes();
        blob.extend_from_slice(&nonce);
        blob.extend(
            aes_gcm_encrypt(
                &secret,
                &nonce,
                &aad(&request.encryption_context),
                &plaintext,
            )
            .unwrap(),
        );
        Ok(GenerateDataKeyResponse {
            key_id: match fault {
                Some(Fault::WrongKeyId) => "not-an-arn".into(),
                _ => full,
            },
            plaintext: SecretBytes::from_slice(match fault {
                Some(Fault::ShortPlaintext) => &plaintext[..16],
                _ => &plaintext,
            }),
            ciphertext_blob: blob,
        })
    }

    async fn decrypt(&self, request: DecryptRequest) -> Result<DecryptResponse, KmsError> {
        let fault = self.count("Decrypt")?;
        let (account, id, full) = self.resolve(&request.key_id)?;
        let blob = &request.ciphertext_blob;
        let bar = blob
            .iter()
            .position(|&b| b == b'|')
            .ok_or_else(|| err("InvalidCiphertextException"))?;
        if blob[..bar] != *format!("{account}/{id}").as_bytes() {
            return Err(err("IncorrectKeyException"));
        }
        let secret = self.world.lock().unwrap().secrets[&(account, id)];
        let nonce = &blob[bar + 1..bar + 13];
        let plaintext = aes_gcm_decrypt(
            &secret,
            nonce,
            &aad(&request.encryption_context),
            &blob[bar + 13..],
        )
        .map_err(|_| err("InvalidCiphertextException"))?;
        Ok(DecryptResponse {
            key_id: match fault {
                Some(Fault::WrongKeyId) => arn(&self.region, "some-other-key"),
                _ => full,
            },
            plaintext: SecretBytes::new(match fault {
                Some(Fault::ShortPlaintext) => plaintext[..16].to_vec(),
                _ => plaintext,
            }),
        })
    }
}

struct Supplier(Shared);

impl KmsClientSupplier for Supplier {
    fn client(&self, region: &str) -> fieldseal::Result<Arc<dyn KmsClient>> {
        Ok(client(&self.0, region))
    }
}

fn client(w: &Shared, region: &str) -> Arc<dyn KmsClient> {
    Arc::new(FakeKms {
        region: region.into(),
        world: w.clone(),
    })
}

fn encryptor(keyring: Arc<dyn Keyring>, suite: AlgorithmSuiteId) -> ItemEncryptor {
    let actions = BTreeMap::from([
        ("pk".to_string(), CryptoAction::SignOnly),
        ("secret".to_string(), CryptoAction::EncryptAndSign),
    ]);
    let mut config = ItemEncryptorConfig::new("Orders", "pk", actions, keyring);
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

const SUITES: [AlgorithmSuiteId; 2] = [
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
];

fn seal(keyring: AwsKmsKeyring, suite: AlgorithmSuiteId) -> Item {
    pollster::block_on(encryptor(Arc::new(keyring), suite).encrypt_item(&item())).unwrap()
}

fn open(keyring: Arc<dyn Keyring>, sealed: &Item) -> fieldseal::Result<Item> {
    pollster::block_on(encryptor(keyring, SUITES[0]).decrypt_item(sealed))
}

fn calls(w: &Shared) -> BTreeMap<String, usize> {
    std::mem::take(&mut w.lock().unwrap().calls)
}

#[test]
fn strict_keyring_round_trips_with_both_suites_and_one_kms_call_each_way() {
    let w = world();
    for suite in SUITES {
        let key = arn("us-east-1", SRK_ID);
        let sealed = seal(
            AwsKmsKeyring::new(&key, None, client(&w, "us-east-1"), vec!["gt".into()]).unwrap(),
            suite,
        );
        assert_eq!(
            calls(&w),
            BTreeMap::from([("GenerateDataKey us-east-1".into(), 1)])
        );
        let keyring = AwsKmsKeyring::new(&key, None, client(&w, "us-east-1"), vec![]).unwrap();
        let opened =
            pollster::block_on(encryptor(Arc::new(keyring), suite).decrypt_item(&sealed)).unwrap();
        assert_eq!(opened, item());
        assert_eq!(calls(&w), BTreeMap::from([("Decrypt us-east-1".into(), 1)]));
    }
}

#[test]
fn mrk_sealed_in_us_east_1_opens_in_eu_west_1_without_calling_us_east_1() {
    let w = world();
    let sealed = seal(
        AwsKmsKeyring::new_mrk(
            &arn("us-east-1", MRK_ID),
            None,
            client(&w, "us-east-1"),
            vec![],
        )
        .unwrap(),
        SUITES[1],
    );
    calls(&w);
    // Strict MRK keyring with the replica's ARN.
    let replica = AwsKmsKeyring::new_mrk(
        &arn("eu-west-1", MRK_ID),
        None,
        client(&w, "eu-west-1"),
        vec![],
    )
    .unwrap();
    assert_eq!(open(Arc::new(replica), &sealed).unwrap(), item());
    assert_eq!(calls(&w), BTreeMap::from([("Decrypt eu-west-1".into(), 1)]));
    // Discovery keyring in eu-west-1, filtered to the account.
    let filter = DiscoveryFilter::new("aws", vec![ACCOUNT.into()]).unwrap();
    let discovery = AwsKmsKeyring::new_mrk_discovery(
        "eu-west-1",
        Some(filter),
        client(&w, "eu-west-1"),
        vec![],
    )
    .unwrap();
    assert_eq!(open(Arc::new(discovery), &sealed).unwrap(), item());
    assert_eq!(calls(&w), BTreeMap::from([("Decrypt eu-west-1".into(), 1)]));
    // The plain strict keyring does not treat the replica as the same key.
    let strict = AwsKmsKeyring::new(
        &arn("eu-west-1", MRK_ID),
        None,
        client(&w, "eu-west-1"),
        vec![],
    )
    .unwrap();
    assert!(matches!(
        open(Arc::new(strict), &sealed),
        Err(Error::NoMatchingKey { .. })
    ));
    assert!(calls(&w).is_empty(), "a non-matching EDK makes no KMS call");
}

#[test]
fn discovery_filter_for_another_account_refuses() {
    let w = world();
    let sealed = seal(
        AwsKmsKeyring::new_mrk(
            &arn("us-east-1", MRK_ID),
            None,
            client(&w, "us-east-1"),
            vec![],
        )
        .unwrap(),
        SUITES[0],
    );
    calls(&w);
    let filter = DiscoveryFilter::new("aws", vec!["999999999999".into()]).unwrap();
    let discovery = AwsKmsKeyring::new_mrk_discovery(
        "eu-west-1",
        Some(filter),
        client(&w, "eu-west-1"),
        vec![],
    )
    .unwrap();
    let error = open(Arc::new(discovery), &sealed).unwrap_err();
    assert_eq!(error.code(), "NO_MATCHING_KEY");
    assert!(
        error.to_string().contains("outside the discovery filter"),
        "{error}"
    );
    let filter = DiscoveryFilter::new("aws-cn", vec![ACCOUNT.into()]).unwrap();
    let other_partition = AwsKmsKeyring::new_mrk_discovery(
        "eu-west-1",
        Some(filter),
        client(&w, "eu-west-1"),
        vec![],
    )
    .unwrap();
    assert_eq!(
        open(Arc::new(other_partition), &sealed).unwrap_err().code(),
        "NO_MATCHING_KEY"
    );
    assert!(calls(&w).is_empty());
}

#[test]
fn single_region_key_does_not_open_through_another_regions_discovery() {
    let w = world();
    let sealed = seal(
        AwsKmsKeyring::new(
            &arn("us-east-1", SRK_ID),
            None,
            client(&w, "us-east-1"),
            vec![],
        )
        .unwrap(),
        SUITES[0],
    );
    let discovery =
        AwsKmsKeyring::new_mrk_discovery("eu-west-1", None, client(&w, "eu-west-1"), vec![])
            .unwrap();
    let error = open(Arc::new(discovery), &sealed).unwrap_err();
    assert_eq!(error.code(), "NO_MATCHING_KEY");
    assert!(
        error
            .to_string()
            .contains("single-Region key in another region"),
        "{error}"
    );
    // In its own region, discovery opens it.
    let home = AwsKmsKeyring::new_mrk_discovery("us-east-1", None, client(&w, "us-east-1"), vec![])
        .unwrap();
    assert_eq!(open(Arc::new(home), &sealed).unwrap(), item());
}

#[test]
fn wrong_encryption_context_fails() {
    let w = world();
    let sealed = seal(
        AwsKmsKeyring::new(
            &arn("us-east-1", SRK_ID),
            None,
            client(&w, "us-east-1"),
            vec![],
        )
        .unwrap(),
        SUITES[0],
    );
    // Another table name changes the encryption context KMS binds.
    let keyring: Arc<dyn Keyring> = Arc::new(
        AwsKmsKeyring::new(
            &arn("us-east-1", SRK_ID),
            None,
            client(&w, "us-east-1"),
            vec![],
        )
        .unwrap(),
    );
    let actions = BTreeMap::from([
        ("pk".to_string(), CryptoAction::SignOnly),
        ("secret".to_string(), CryptoAction::EncryptAndSign),
    ]);
    let other =
        ItemEncryptor::new(ItemEncryptorConfig::new("Refunds", "pk", actions, keyring)).unwrap();
    let error = pollster::block_on(other.decrypt_item(&sealed)).unwrap_err();
    assert_eq!(error.code(), "KEY_PROVIDER_FAILURE");
    assert!(
        error.to_string().contains("InvalidCiphertextException"),
        "{error}"
    );
}

#[test]
fn multi_keyring_of_kms_and_raw_aes_opens_with_either() {
    let w = world();
    let kms: Arc<dyn Keyring> = Arc::new(
        AwsKmsKeyring::new(
            &arn("us-east-1", SRK_ID),
            None,
            client(&w, "us-east-1"),
            vec![],
        )
        .unwrap(),
    );
    let aes: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("app", "k1", &[9; 32]).unwrap());
    for (generator, child) in [(kms.clone(), aes.clone()), (aes.clone(), kms.clone())] {
        let multi = Arc::new(MultiKeyring::new(Some(generator), vec![child]).unwrap());
        let sealed = pollster::block_on(encryptor(multi, SUITES[1]).encrypt_item(&item())).unwrap();
        assert_eq!(open(kms.clone(), &sealed).unwrap(), item());
        assert_eq!(open(aes.clone(), &sealed).unwrap(), item());
    }
}

#[test]
fn strict_mrk_multi_keyring_wraps_for_every_region() {
    let w = world();
    let supplier = Supplier(w.clone());
    let multi = AwsKmsKeyring::mrk_multi(
        Some(&arn("us-east-1", MRK_ID)),
        &[arn("ap-southeast-2", MRK_ID), arn("us-east-1", SRK_ID)],
        &supplier,
        vec![],
    )
    .unwrap();
    let sealed =
        pollster::block_on(encryptor(Arc::new(multi), SUITES[0]).encrypt_item(&item())).unwrap();
    assert_eq!(
        calls(&w),
        BTreeMap::from([
            ("GenerateDataKey ap-southeast-2".into(), 1),
            ("GenerateDataKey us-east-1".into(), 2)
        ])
    );
    let discovery =
        AwsKmsKeyring::mrk_discovery_multi(&["ap-southeast-2".into()], None, &supplier, vec![])
            .unwrap();
    assert_eq!(open(Arc::new(discovery), &sealed).unwrap(), item());
    assert_eq!(
        calls(&w),
        BTreeMap::from([("Decrypt ap-southeast-2".into(), 1)])
    );
}

#[test]
fn every_kms_failure_is_a_key_provider_failure_naming_arn_region_and_error() {
    let w = world();
    let key = arn("us-east-1", SRK_ID);
    let sealed = seal(
        AwsKmsKeyring::new(&key, None, client(&w, "us-east-1"), vec![]).unwrap(),
        SUITES[0],
    );
    for name in [
        "AccessDeniedException",
        "DisabledException",
        "KMSInvalidStateException",
        "NotFoundException",
        "ThrottlingException",
        "NetworkError",
    ] {
        w.lock().unwrap().fault = Some(Fault::Error(name));
        let keyring = || AwsKmsKeyring::new(&key, None, client(&w, "us-east-1"), vec![]).unwrap();
        let encrypting =
            pollster::block_on(encryptor(Arc::new(keyring()), SUITES[0]).encrypt_item(&item()))
                .unwrap_err();
        let decrypting = open(Arc::new(keyring()), &sealed).unwrap_err();
        for error in [encrypting, decrypting] {
            assert_eq!(error.code(), "KEY_PROVIDER_FAILURE");
            let text = error.to_string();
            assert!(
                text.contains(&key) && text.contains("us-east-1") && text.contains(name),
                "{text}"
            );
        }
    }
    for (fault, said) in [
        (Fault::WrongKeyId, "key id"),
        (Fault::ShortPlaintext, "16 plaintext bytes"),
    ] {
        w.lock().unwrap().fault = Some(fault);
        let keyring = || AwsKmsKeyring::new(&key, None, client(&w, "us-east-1"), vec![]).unwrap();
        let encrypting =
            pollster::block_on(encryptor(Arc::new(keyring()), SUITES[0]).encrypt_item(&item()))
                .unwrap_err();
        let decrypting = open(Arc::new(keyring()), &sealed).unwrap_err();
        for error in [encrypting, decrypting] {
            assert_eq!(error.code(), "KEY_PROVIDER_FAILURE");
            assert!(
                error.to_string().contains(said) || error.to_string().contains("answered"),
                "{error}"
            );
        }
    }
    w.lock().unwrap().fault = None;
}

#[test]
fn every_attempt_is_reported_when_several_edks_fail() {
    let w = world();
    let supplier = Supplier(w.clone());
    let multi = AwsKmsKeyring::mrk_multi(
        Some(&arn("us-east-1", MRK_ID)),
        &[arn("eu-west-1", MRK_ID)],
        &supplier,
        vec![],
    )
    .unwrap();
    let sealed =
        pollster::block_on(encryptor(Arc::new(multi), SUITES[0]).encrypt_item(&item())).unwrap();
    w.lock().unwrap().fault = Some(Fault::Error("ThrottlingException"));
    let discovery =
        AwsKmsKeyring::new_mrk_discovery("eu-west-1", None, client(&w, "eu-west-1"), vec![])
            .unwrap();
    let error = open(Arc::new(discovery), &sealed).unwrap_err();
    w.lock().unwrap().fault = None;
    let text = error.to_string();
    assert_eq!(error.code(), "KEY_PROVIDER_FAILURE");
    assert!(text.contains("EDK #0") && text.contains("EDK #1"), "{text}");
}

#[test]
fn a_discovery_keyring_cannot_encrypt() {
    let w = world();
    let discovery =
        AwsKmsKeyring::new_mrk_discovery("eu-west-1", None, client(&w, "eu-west-1"), vec![])
            .unwrap();
    let error = pollster::block_on(encryptor(Arc::new(discovery), SUITES[0]).encrypt_item(&item()))
        .unwrap_err();
    assert_eq!(error.code(), "INVALID_CONFIG");
}

#[test]
fn arns_and_mrk_matching_follow_the_spec() {
    let a = arn("us-east-1", MRK_ID);
    let b = arn("eu-west-1", MRK_ID);
    assert!(mrk_match_for_decrypt(&a, &b));
    assert!(!mrk_match_for_decrypt(
        &arn("us-east-1", SRK_ID),
        &arn("eu-west-1", SRK_ID)
    ));
    assert!(mrk_match_for_decrypt(
        &arn("us-east-1", SRK_ID),
        &arn("us-east-1", SRK_ID)
    ));
    assert!(!mrk_match_for_decrypt(
        &a,
        &format!("arn:aws:kms:eu-west-1:999999999999:key/{MRK_ID}")
    ));
    assert!(!mrk_match_for_decrypt(
        &a,
        &format!("arn:aws-cn:kms:eu-west-1:{ACCOUNT}:key/{MRK_ID}")
    ));
    // Aliases are never multi-Region keys, even named mrk-.
    let alias = KmsArn::parse(&format!(
        "arn:aws:kms:us-east-1:{ACCOUNT}:alias/mrk-looks-like"
    ))
    .unwrap();
    assert!(!alias.is_multi_region_key());
    assert!(!mrk_match_for_decrypt(
        &alias.to_string(),
        &alias.in_region("eu-west-1").to_string()
    ));
    assert_eq!(KmsArn::parse(&a).unwrap().to_string(), a);
    for bad in [
        "arn:aws:kms:us-east-1:111122223333",
        "arn:aws:s3:us-east-1:111122223333:key/x",
        "arn::kms:us-east-1:111122223333:key/x",
        "arn:aws:kms::111122223333:key/x",
        "arn:aws:kms:us-east-1::key/x",
        "arn:aws:kms:us-east-1:111122223333:key/",
        "arn:aws:kms:us-east-1:111122223333:grant/x",
        "nope:aws:kms:us-east-1:111122223333:key/x",
    ] {
        assert!(KmsArn::parse(bad).is_err(), "{bad}");
    }
    assert!(matches!(
        KmsKeyId::parse("alias/orders"),
        Ok(KmsKeyId::AliasName(_))
    ));
    assert!(KmsKeyId::parse("mrk-abc").unwrap().is_multi_region_key());
    assert!(KmsKeyId::parse("").is_err());
    // A non-ARN key id needs an explicit region.
    let w = world();
    assert!(AwsKmsKeyring::new(SRK_ID, None, client(&w, "us-east-1"), vec![]).is_err());
    assert!(AwsKmsKeyring::new(SRK_ID, Some("us-east-1"), client(&w, "us-east-1"), vec![]).is_ok());
}

#[test]
fn debug_output_names_no_secrets() {
    let w = world();
    let keyring = AwsKmsKeyring::new(
        &arn("us-east-1", SRK_ID),
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
}
