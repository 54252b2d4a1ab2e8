//! The branch key store and the hierarchical keyring in the core, over an
//! in-memory DynamoDB table (conditional transactions included) and an
//! in-memory KMS that binds the encryption context as AES-GCM AAD, so that
//! any change to a stored item's attributes makes KMS refuse it. Every call
//! is counted. (tests/js/keystore.test.mjs runs the same stories against
//! moto through the npm package; tests/interop against the official SDK.)

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use fieldseal::cache::{Clock, MaterialsCache};
use fieldseal::encryptor::{
    ddb_key_from_context, DynamoDbBranchKeyIdSupplier, DynamoDbKeyBranchKeyIdSupplier,
};
use fieldseal::keyring::hierarchy::stored::{BranchKeyIdSource, BranchKeyIdSupplier};
use fieldseal::keyring::hierarchy::{AwsKmsHierarchicalKeyring, HierarchicalKeyringConfig};
use fieldseal::keyring::kms::{
    DecryptRequest, DecryptResponse, GenerateDataKeyRequest, GenerateDataKeyResponse,
    GenerateDataKeyWithoutPlaintextResponse, KmsClient, KmsError, ReEncryptRequest,
    ReEncryptResponse,
};
use fieldseal::keystore::record::{ENC, KMS_ARN, TYPE};
use fieldseal::keystore::{
    ConditionalPut, DynamoDbError, KeyStore, KeyStoreConfig, KeyStoreStorage, KmsConfiguration,
    TableDescription,
};
use fieldseal::materials::{serialize_encryption_context, SecretBytes};
use fieldseal::primitives::provider::{system_random, SecureRandom, SystemRandom};
use fieldseal::primitives::{aes_gcm_decrypt, aes_gcm_encrypt};
use fieldseal::{
    AlgorithmSuiteId, AttributeValue, CryptoAction, Item, ItemEncryptor, ItemEncryptorConfig,
};

const KEY_ARN: &str = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const OTHER_ARN: &str =
    "arn:aws:kms:us-west-2:111122223333:key/9999abcd-12ab-34cd-56ef-1234567890ab";
const TABLE: &str = "KeyStoreTable";
const LOGICAL: &str = "KeyStoreLogical";

/// Calls by operation name, for both fakes.
#[derive(Default)]
struct Calls(Mutex<BTreeMap<String, usize>>);

impl Calls {
    fn add(&self, op: &str) {
        *self.0.lock().unwrap().entry(op.into()).or_default() += 1;
    }
    fn get(&self, op: &str) -> usize {
        self.0.lock().unwrap().get(op).copied().unwrap_or(0)
    }
}

/// A DynamoDB table keyed by (branch-key-id, type), with the two condition
/// expressions the key store sends, and an injectable failure.
#[derive(Default)]
struct Table {
    items: Mutex<BTreeMap<(String, String), Item>>,
    exists: Mutex<bool>,
    calls: Calls,
    fail_with: Mutex<Option<String>>,
    /// Replaces the ACTIVE item's `enc` between a versionKey's read and write.
    race: Mutex<bool>,
}

fn s(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => s.clone(),
        _ => panic!("not S"),
    }
}

impl Table {
    fn key(item: &Item) -> (String, String) {
        (s(&item["branch-key-id"]), s(&item[TYPE]))
    }
    fn fail(&self, op: &str) -> Result<(), DynamoDbError> {
        self.calls.add(op);
        match self.fail_with.lock().unwrap().clone() {
            Some(name) => Err(DynamoDbError {
                name,
                message: "simulated".into(),
                cancellation_reasons: vec![],
            }),
            None => Ok(()),
        }
    }
    fn tamper(&self, id: &str, type_: &str, f: impl FnOnce(&mut Item)) {
        let mut items = self.items.lock().unwrap();
        let item = items
            .get_mut(&(id.to_string(), type_.to_string()))
            .expect("item to tamper");
        f(item);
    }
}

#[async_trait(?Send)]
impl KeyStoreStorage for Table {
    async fn get_item(&self, table_name: &str, key: Item) -> Result<Option<Item>, DynamoDbError> {
        assert_eq!(table_name, TABLE);
        self.fail("GetItem")?;
        Ok(self.items.lock().unwrap().get(&Table::key(&key)).cloned())
    }

    async fn transact_write(&self, puts: Vec<ConditionalPut>) -> Result<(), DynamoDbError> {
        self.fail("TransactWriteItems")?;
        if std::mem::take(&mut *self.race.lock().unwrap()) {
            self.tamper(&s(&puts[0].item["branch-key-id"]), "branch:ACTIVE", |i| {
                i.insert(ENC.into(), AttributeValue::B(vec![0xee; 8]));
            });
        }
        let mut items = self.items.lock().unwrap();
        let mut reasons = Vec::new();
        for put in &puts {
            assert_eq!(
                put.expression_attribute_names["#BranchKeyIdentifierField"],
                "branch-key-id"
            );
            let existing = items.get(&Table::key(&put.item));
            let holds = match put.condition_expression.as_str() {
                "attribute_not_exists(#BranchKeyIdentifierField)" => existing.is_none(),
                "attribute_exists(#BranchKeyIdentifierField) AND #enc = :encOld" => existing
                    .is_some_and(|e| {
                        Some(&e[ENC]) == put.expression_attribute_values.get(":encOld")
                    }),
                other => panic!("unexpected condition {other}"),
            };
            reasons.push(
                if holds {
                    "None"
                } else {
                    "ConditionalCheckFailed"
                }
                .to_string(),
            );
        }
        if reasons.iter().any(|r| r != "None") {
            return Err(DynamoDbError {
                name: "TransactionCanceledException".into(),
                message: "Transaction cancelled".into(),
                cancellation_reasons: reasons,
            });
        }
        for put in puts {
            items.insert(Table::key(&put.item), put.item);
        }
        Ok(())
    }

    async fn describe_table(&self, _: &str) -> Result<Option<TableDescription>, DynamoDbError> {
        self.fail("DescribeTable")?;
        Ok(self.exists.lock().unwrap().then(|| TableDescription {
            table_arn: format!("arn:aws:dynamodb:us-west-2:111122223333:table/{TABLE}"),
            key_schema: vec![
                ("branch-key-id".into(), "HASH".into()),
                ("type".into(), "RANGE".into()),
            ],
        }))
    }

    async fn create_table(&self, table_name: &str) -> Result<String, DynamoDbError> {
        self.fail("CreateTable")?;
        *self.exists.lock().unwrap() = true;
        Ok(format!(
            "arn:aws:dynamodb:us-west-2:111122223333:table/{table_name}"
        ))
    }
}

/// One KMS key; blobs are `nonce || AES-GCM(secret, AAD = context)`.
struct Kms {
    secret: [u8; 32],
    calls: Calls,
    disabled: Mutex<bool>,
}

impl Kms {
    fn new() -> Kms {
        let random: &dyn SecureRandom = &SystemRandom;
        Kms {
            secret: random.array().unwrap(),
            calls: Calls::default(),
            disabled: Mutex::new(false),
        }
    }
    fn check(&self, op: &str, key_id: &str) -> Result<(), KmsError> {
        self.calls.add(op);
        if key_id != KEY_ARN {
            return Err(KmsError {
                name: "NotFoundException".into(),
                message: format!("{key_id} not found"),
            });
        }
        if *self.disabled.lock().unwrap() {
            return Err(KmsError {
                name: "DisabledException".into(),
                message: format!("{key_id} is disabled"),
            });
        }
        Ok(())
    }
    fn seal(&self, plaintext: &[u8], ec: &BTreeMap<String, String>) -> Vec<u8> {
        let random: &dyn SecureRandom = &SystemRandom;
        let nonce: [u8; 12] = random.array().unwrap();
        let mut blob = nonce.to_vec();
        blob.extend(
            aes_gcm_encrypt(
                &self.secret,
                &nonce,
                &serialize_encryption_context(ec).unwrap(),
                plaintext,
            )
            .unwrap(),
        );
        blob
    }
    fn open(&self, blob: &[u8], ec: &BTreeMap<String, String>) -> Result<Vec<u8>, KmsError> {
        let invalid = || KmsError {
            name: "InvalidCiphertextException".into(),
            message: String::new(),
        };
        if blob.len() < 28 {
            return Err(invalid());
        }
        aes_gcm_decrypt(
            &self.secret,
            &blob[..12],
            &serialize_encryption_context(ec).unwrap(),
            &blob[12..],
        )
        .map_err(|_| invalid())
    }
}

#[async_trait(?Send)]
impl KmsClient for Kms {
    async fn generate_data_key(
        &self,
        _: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        unreachable!("the key store never calls GenerateDataKey")
    }

    async fn decrypt(&self, request: DecryptRequest) -> Result<DecryptResponse, KmsError> {
        self.check("Decrypt", &request.key_id)?;
        let plaintext = self.open(&request.ciphertext_blob, &request.encryption_context)?;
        Ok(DecryptResponse {
            key_id: KEY_ARN.into(),
            plaintext: SecretBytes::new(plaintext),
        })
    }

    async fn generate_data_key_without_plaintext(
        &self,
        request: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyWithoutPlaintextResponse, KmsError> {
        self.check("GenerateDataKeyWithoutPlaintext", &request.key_id)?;
        let key = SystemRandom
            .secret_bytes(request.number_of_bytes as usize)
            .unwrap();
        Ok(GenerateDataKeyWithoutPlaintextResponse {
            key_id: KEY_ARN.into(),
            ciphertext_blob: self.seal(key.expose(), &request.encryption_context),
        })
    }

    async fn re_encrypt(&self, request: ReEncryptRequest) -> Result<ReEncryptResponse, KmsError> {
        self.check("ReEncrypt", &request.source_key_id)?;
        let plaintext = self.open(&request.ciphertext_blob, &request.source_encryption_context)?;
        Ok(ReEncryptResponse {
            source_key_id: KEY_ARN.into(),
            key_id: KEY_ARN.into(),
            ciphertext_blob: self.seal(&plaintext, &request.destination_encryption_context),
        })
    }
}

struct ManualClock(AtomicU64);

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

struct World {
    table: Arc<Table>,
    kms: Arc<Kms>,
    clock: Arc<ManualClock>,
    store: Arc<KeyStore>,
}

fn world_with(kms_configuration: KmsConfiguration) -> World {
    let table = Arc::new(Table::default());
    let kms = Arc::new(Kms::new());
    let clock = Arc::new(ManualClock(AtomicU64::new(1_700_000_000_000)));
    let client: Arc<dyn KmsClient> = kms.clone();
    let store = KeyStore::new(KeyStoreConfig {
        ddb_table_name: TABLE.into(),
        logical_key_store_name: LOGICAL.into(),
        kms_configuration,
        grant_tokens: vec![],
        storage: table.clone(),
        kms: Arc::new(move |_: &str| Ok(client.clone())),
        random: system_random(),
        clock: clock.clone(),
    })
    .unwrap();
    World {
        table,
        kms,
        clock,
        store: Arc::new(store),
    }
}

fn world() -> World {
    world_with(KmsConfiguration::key_arn(KEY_ARN, false).unwrap())
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(f)
}

fn ec(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn keyring(w: &World, source: BranchKeyIdSource) -> AwsKmsHierarchicalKeyring {
    let cache = Arc::new(MaterialsCache::new(1000, w.clock.clone()).unwrap());
    keyring_with_cache(w, source, cache)
}

fn keyring_with_cache(
    w: &World,
    source: BranchKeyIdSource,
    cache: Arc<fieldseal::keyring::hierarchy::stored::BranchKeyCache>,
) -> AwsKmsHierarchicalKeyring {
    AwsKmsHierarchicalKeyring::new(HierarchicalKeyringConfig {
        key_store: w.store.clone(),
        branch_key_id: source,
        ttl_seconds: 600,
        cache,
        partition_id: b"partition".to_vec(),
    })
    .unwrap()
}

fn encryptor(keyring: AwsKmsHierarchicalKeyring, suite: AlgorithmSuiteId) -> ItemEncryptor {
    let actions = BTreeMap::from([
        ("tenant".to_string(), CryptoAction::SignOnly),
        ("sk".to_string(), CryptoAction::SignOnly),
        ("secret".to_string(), CryptoAction::EncryptAndSign),
    ]);
    let mut config = ItemEncryptorConfig::new("Orders", "tenant", actions, Arc::new(keyring));
    config.sort_key_name = Some("sk".into());
    config.algorithm_suite_id = suite;
    ItemEncryptor::new(config).unwrap()
}

fn item(tenant: &str, n: u32) -> Item {
    Item::from([
        ("tenant".to_string(), AttributeValue::S(tenant.into())),
        ("sk".to_string(), AttributeValue::N(n.to_string())),
        ("secret".to_string(), AttributeValue::S(format!("card {n}"))),
    ])
}

const SUITES: [AlgorithmSuiteId; 2] = [
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384,
    AlgorithmSuiteId::AesGcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384,
];

#[test]
fn create_key_writes_three_items_that_read_back() {
    let w = world();
    let arn = run(w.store.create_key_store()).unwrap();
    assert!(arn.ends_with(&format!("table/{TABLE}")));
    assert_eq!(run(w.store.create_key_store()).unwrap(), arn, "idempotent");
    assert_eq!(w.table.calls.get("CreateTable"), 1);

    let id = run(w.store.create_key(None, None)).unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(w.table.items.lock().unwrap().len(), 3);
    assert_eq!(w.kms.calls.get("GenerateDataKeyWithoutPlaintext"), 2);
    assert_eq!(w.kms.calls.get("ReEncrypt"), 1);

    let active = run(w.store.get_active_branch_key(&id)).unwrap();
    let version = run(w
        .store
        .get_branch_key_version(&id, &active.branch_key_version))
    .unwrap();
    assert_eq!(active.branch_key.expose(), version.branch_key.expose());
    assert_eq!(active.branch_key.len(), 32);
    let beacon = run(w.store.get_beacon_key(&id)).unwrap();
    assert_ne!(beacon.beacon_key.expose(), active.branch_key.expose());
    assert!(!format!("{active:?} {beacon:?}")
        .contains(&format!("{:?}", &active.branch_key.expose()[..4])));

    let items = w.table.items.lock().unwrap();
    let active_item = &items[&(id.clone(), "branch:ACTIVE".to_string())];
    assert_eq!(
        active_item["version"],
        AttributeValue::S(format!("branch:version:{}", active.branch_key_version))
    );
    assert_eq!(
        active_item["hierarchy-version"],
        AttributeValue::N("1".into())
    );
    assert_eq!(active_item[KMS_ARN], AttributeValue::S(KEY_ARN.into()));
    let create_time = s(&active_item["create-time"]);
    assert_eq!(create_time, "2023-11-14T22:13:20.000000Z");
}

#[test]
fn custom_ids_need_a_context_and_ids_are_never_overwritten() {
    let w = world();
    let err = run(w.store.create_key(Some("tenant-a"), None)).unwrap_err();
    assert_eq!(err.code(), "INVALID_CONFIG", "{err}");
    let context = ec(&[("department", "admin")]);
    assert_eq!(
        run(w.store.create_key(Some("tenant-a"), Some(&context))).unwrap(),
        "tenant-a"
    );
    let active = run(w.store.get_active_branch_key("tenant-a")).unwrap();
    assert_eq!(active.encryption_context, context);
    let writes = w.table.calls.get("TransactWriteItems");
    let err = run(w.store.create_key(Some("tenant-a"), Some(&context))).unwrap_err();
    assert_eq!(err.code(), "KEY_STORE_FAILURE");
    assert!(
        err.to_string().contains("\"tenant-a\" already exists"),
        "{err}"
    );
    assert_eq!(w.table.calls.get("TransactWriteItems"), writes + 1);
    assert_eq!(
        w.table.items.lock().unwrap().len(),
        3,
        "nothing was written"
    );
    let err = run(w
        .store
        .create_key(None, Some(&ec(&[("aws-crypto-ec:x", "y")]))))
    .unwrap_err();
    assert_eq!(err.code(), "INVALID_CONFIG");
}

#[test]
fn version_key_rotates_and_keeps_old_versions_readable() {
    let w = world();
    let context = ec(&[("tenant", "acme")]);
    let id = run(w.store.create_key(Some("acme"), Some(&context))).unwrap();
    let v1 = run(w.store.get_active_branch_key(&id)).unwrap();
    run(w.store.version_key(&id)).unwrap();
    let v2 = run(w.store.get_active_branch_key(&id)).unwrap();
    assert_ne!(v1.branch_key_version, v2.branch_key_version);
    assert_ne!(v1.branch_key.expose(), v2.branch_key.expose());
    assert_eq!(
        v2.encryption_context, context,
        "the custom context carries over"
    );
    let old = run(w.store.get_branch_key_version(&id, &v1.branch_key_version)).unwrap();
    assert_eq!(old.branch_key.expose(), v1.branch_key.expose());
    assert_eq!(w.table.items.lock().unwrap().len(), 4);
}

#[test]
fn a_racing_version_key_writes_nothing() {
    let w = world();
    let id = run(w.store.create_key(None, None)).unwrap();
    *w.table.race.lock().unwrap() = true;
    let err = run(w.store.version_key(&id)).unwrap_err();
    assert_eq!(err.code(), "KEY_STORE_FAILURE");
    assert!(err.to_string().contains("lost a race"), "{err}");
    assert_eq!(
        w.table.items.lock().unwrap().len(),
        3,
        "no new version was written"
    );
}

#[test]
fn discovery_stores_read_but_never_write() {
    let w = world();
    let id = run(w.store.create_key(None, None)).unwrap();
    let reader = world_with(KmsConfiguration::Discovery);
    // Share the writer's table and KMS.
    let client: Arc<dyn KmsClient> = w.kms.clone();
    let store = KeyStore::new(KeyStoreConfig {
        ddb_table_name: TABLE.into(),
        logical_key_store_name: LOGICAL.into(),
        kms_configuration: KmsConfiguration::Discovery,
        grant_tokens: vec![],
        storage: w.table.clone(),
        kms: Arc::new(move |_: &str| Ok(client.clone())),
        random: system_random(),
        clock: reader.clock.clone(),
    })
    .unwrap();
    assert_eq!(
        run(store.get_active_branch_key(&id))
            .unwrap()
            .branch_key
            .expose(),
        run(w.store.get_active_branch_key(&id))
            .unwrap()
            .branch_key
            .expose()
    );
    let writes = w.table.calls.get("TransactWriteItems");
    for err in [
        run(store.create_key(None, None)).unwrap_err(),
        run(store.version_key(&id)).unwrap_err(),
    ] {
        assert_eq!(err.code(), "INVALID_CONFIG");
        assert!(err.to_string().contains("discovery"), "{err}");
    }
    assert_eq!(
        w.table.calls.get("TransactWriteItems"),
        writes,
        "no write was attempted"
    );
}

#[test]
fn tampered_items_and_failures_are_typed_and_named() {
    let w = world();
    let id = run(w.store.create_key(None, None)).unwrap();
    let version = run(w.store.get_active_branch_key(&id))
        .unwrap()
        .branch_key_version;
    let version_type = format!("branch:version:{version}");

    let err = run(w.store.get_active_branch_key("nope")).unwrap_err();
    assert_eq!(err.code(), "KEY_STORE_FAILURE");
    assert!(
        err.to_string().contains("\"nope\"") && err.to_string().contains(TABLE),
        "{err}"
    );

    w.table.tamper(&id, "branch:ACTIVE", |i| {
        if let Some(AttributeValue::B(b)) = i.get_mut(ENC) {
            b[20] ^= 1;
        }
    });
    let err = run(w.store.get_active_branch_key(&id)).unwrap_err();
    assert_eq!(err.code(), "KEY_PROVIDER_FAILURE", "{err}");
    assert!(
        err.to_string().contains("InvalidCiphertextException") && err.to_string().contains(&id),
        "{err}"
    );

    w.table.tamper(&id, &version_type, |i| {
        i.insert(KMS_ARN.into(), AttributeValue::S(OTHER_ARN.into()));
    });
    let err = run(w.store.get_branch_key_version(&id, &version)).unwrap_err();
    assert_eq!(err.code(), "KEY_STORE_FAILURE");
    assert!(err.to_string().contains(OTHER_ARN), "{err}");

    w.table.tamper(&id, "beacon:ACTIVE", |i| {
        i.insert("aws-crypto-ec:added".into(), AttributeValue::S("x".into()));
    });
    let err = run(w.store.get_beacon_key(&id)).unwrap_err();
    assert_eq!(
        err.code(),
        "KEY_PROVIDER_FAILURE",
        "an added attribute is bound: {err}"
    );

    *w.table.fail_with.lock().unwrap() = Some("ProvisionedThroughputExceededException".into());
    let err = run(w.store.get_beacon_key(&id)).unwrap_err();
    assert_eq!(err.code(), "KEY_STORE_FAILURE");
    assert!(
        err.to_string()
            .contains("ProvisionedThroughputExceededException")
            && err.to_string().contains(TABLE),
        "{err}"
    );
    *w.table.fail_with.lock().unwrap() = None;

    *w.kms.disabled.lock().unwrap() = true;
    let err = run(w.store.create_key(None, None)).unwrap_err();
    assert_eq!(err.code(), "KEY_PROVIDER_FAILURE");
    assert!(err.to_string().contains("DisabledException"), "{err}");
}

#[test]
fn hierarchical_keyring_round_trips_and_calls_kms_once_per_ttl() {
    for suite in SUITES {
        let w = world();
        let id = run(w.store.create_key(None, None)).unwrap();
        let decrypts_before = w.kms.calls.get("Decrypt");
        let enc = encryptor(keyring(&w, BranchKeyIdSource::Fixed(id.clone())), suite);
        let sealed: Vec<Item> = (0..200)
            .map(|n| run(enc.encrypt_item(&item("acme", n))).unwrap())
            .collect();
        for (n, s) in sealed.iter().enumerate() {
            assert_eq!(run(enc.decrypt_item(s)).unwrap(), item("acme", n as u32));
        }
        // One Decrypt for the active key (encrypt) and one for its version (decrypt).
        assert_eq!(w.kms.calls.get("Decrypt") - decrypts_before, 2);
        assert_eq!(w.table.calls.get("GetItem"), 2);

        // Past the TTL the store is read again.
        w.clock.0.fetch_add(601_000, Ordering::SeqCst);
        run(enc.encrypt_item(&item("acme", 1))).unwrap();
        assert_eq!(w.kms.calls.get("Decrypt") - decrypts_before, 3);
    }
}

#[test]
fn single_flight_and_a_shared_cache() {
    let w = world();
    let id = run(w.store.create_key(None, None)).unwrap();
    let cache = Arc::new(MaterialsCache::new(10, w.clock.clone()).unwrap());
    let a = encryptor(
        keyring_with_cache(&w, BranchKeyIdSource::Fixed(id.clone()), cache.clone()),
        SUITES[0],
    );
    let items: Vec<Item> = (0..100).map(|n| item("acme", n)).collect();
    let sealed = run(futures_join_all(items.iter().map(|i| a.encrypt_item(i))));
    assert!(sealed.iter().all(Result::is_ok));
    assert_eq!(
        w.kms.calls.get("Decrypt"),
        1,
        "100 concurrent encrypts on a cold cache: one KMS call"
    );
    // Another keyring on the same cache, same partition: no new call.
    let b = encryptor(
        keyring_with_cache(&w, BranchKeyIdSource::Fixed(id), cache),
        SUITES[0],
    );
    run(b.encrypt_item(&item("acme", 1))).unwrap();
    assert_eq!(w.kms.calls.get("Decrypt"), 1);
}

/// Polls every future to completion on one thread, interleaved.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, f) in pending.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

/// Tenants by partition key, as the official `DynamoDbKeyBranchKeyIdSupplier` example.
struct ByTenant {
    seen: Mutex<Vec<Item>>,
}

#[async_trait(?Send)]
impl DynamoDbKeyBranchKeyIdSupplier for ByTenant {
    async fn branch_key_id_from_ddb_key(&self, ddb_key: &Item) -> fieldseal::Result<String> {
        self.seen.lock().unwrap().push(ddb_key.clone());
        match ddb_key.get("tenant") {
            Some(AttributeValue::S(t)) if t == "acme" || t == "globex" => Ok(format!("key-{t}")),
            other => Err(fieldseal::Error::KeyProviderFailure(format!(
                "unknown tenant {other:?}"
            ))),
        }
    }
}

#[test]
fn a_supplier_serves_two_tenants_from_one_table() {
    let w = world();
    for t in ["acme", "globex"] {
        run(w
            .store
            .create_key(Some(&format!("key-{t}")), Some(&ec(&[("tenant", t)]))))
        .unwrap();
    }
    let supplier = Arc::new(ByTenant {
        seen: Mutex::new(vec![]),
    });
    let source =
        BranchKeyIdSource::Supplier(Arc::new(DynamoDbBranchKeyIdSupplier(supplier.clone())));
    let enc = encryptor(keyring(&w, source), SUITES[0]);
    let a = run(enc.encrypt_item(&item("acme", 1))).unwrap();
    let g = run(enc.encrypt_item(&item("globex", 2))).unwrap();
    assert_eq!(run(enc.decrypt_item(&a)).unwrap(), item("acme", 1));
    assert_eq!(run(enc.decrypt_item(&g)).unwrap(), item("globex", 2));
    // Each tenant's item names its own branch key.
    let header = |i: &Item| match &i["aws_dbe_head"] {
        AttributeValue::B(b) => b.clone(),
        _ => panic!("no header"),
    };
    assert!(header(&a).windows(8).any(|w| w == b"key-acme"));
    assert!(header(&g).windows(10).any(|w| w == b"key-globex"));
    // The supplier saw the same key on encrypt and decrypt (v1: key attributes only).
    let seen = supplier.seen.lock().unwrap();
    assert_eq!(seen[0], seen[2]);
    assert_eq!(seen[0].keys().collect::<Vec<_>>(), ["sk", "tenant"]);
    assert_eq!(seen[0]["sk"], AttributeValue::N("1".into()));
    drop(seen);
    let err = run(enc.encrypt_item(&item("initech", 3))).unwrap_err();
    assert_eq!(err.code(), "KEY_PROVIDER_FAILURE");
    assert!(err.to_string().contains("unknown tenant"), "{err}");
}

#[test]
fn ddb_key_from_a_version_2_context() {
    let context = ec(&[
        ("aws-crypto-table-name", "Orders"),
        ("aws-crypto-partition-name", "tenant"),
        ("aws-crypto-sort-name", "sk"),
        ("aws-crypto-attr.tenant", "acme"),
        ("aws-crypto-attr.sk", "12"),
        ("aws-crypto-attr.flag", "true"),
        ("aws-crypto-legend", "LNS"),
    ]);
    let key = ddb_key_from_context(&context).unwrap();
    assert_eq!(key["tenant"], AttributeValue::S("acme".into()));
    assert_eq!(key["sk"], AttributeValue::N("12".into()));
    assert_eq!(key["flag"], AttributeValue::Bool(true));
    assert_eq!(
        key["aws_dbe_table_name"],
        AttributeValue::S("Orders".into())
    );
    assert_eq!(
        key["aws_dbe_partition_name"],
        AttributeValue::S("tenant".into())
    );
    assert_eq!(key["aws_dbe_sort_name"], AttributeValue::S("sk".into()));
    let mut short = context.clone();
    short.insert("aws-crypto-legend".into(), "LN".into());
    assert!(ddb_key_from_context(&short)
        .unwrap_err()
        .to_string()
        .contains("too short"));
    let mut no_pk = context;
    no_pk.remove("aws-crypto-attr.tenant");
    assert!(ddb_key_from_context(&no_pk)
        .unwrap_err()
        .to_string()
        .contains("missing partition value"));
}

#[test]
fn a_missing_branch_key_fails_the_item_with_the_store_code() {
    let w = world();
    let enc = encryptor(
        keyring(&w, BranchKeyIdSource::Fixed("absent".into())),
        SUITES[0],
    );
    let err = run(enc.encrypt_item(&item("acme", 1))).unwrap_err();
    assert_eq!(err.code(), "KEY_STORE_FAILURE");
    assert!(err.to_string().contains("\"absent\""), "{err}");

    // Sealed under a version that is later deleted: decrypt names the store.
    let id = run(w.store.create_key(None, None)).unwrap();
    let enc = encryptor(keyring(&w, BranchKeyIdSource::Fixed(id.clone())), SUITES[0]);
    let sealed = run(enc.encrypt_item(&item("acme", 1))).unwrap();
    let version = run(w.store.get_active_branch_key(&id))
        .unwrap()
        .branch_key_version;
    w.table
        .items
        .lock()
        .unwrap()
        .remove(&(id.clone(), format!("branch:version:{version}")));
    let fresh = encryptor(keyring(&w, BranchKeyIdSource::Fixed(id)), SUITES[0]);
    let err = run(fresh.decrypt_item(&sealed)).unwrap_err();
    assert_eq!(err.code(), "KEY_STORE_FAILURE", "{err}");
}

/// A supplier used directly (not the DynamoDB adapter) gets the context.
struct Fixed;

#[async_trait(?Send)]
impl BranchKeyIdSupplier for Fixed {
    async fn branch_key_id(&self, context: &BTreeMap<String, String>) -> fieldseal::Result<String> {
        assert_eq!(context["aws-crypto-table-name"], "Orders");
        Ok("key-acme".into())
    }
}

#[test]
fn keyring_config_is_checked() {
    let w = world();
    let cache = Arc::new(MaterialsCache::new(1, w.clock.clone()).unwrap());
    let config = |ttl_seconds, id: &str, partition_id: &[u8]| HierarchicalKeyringConfig {
        key_store: w.store.clone(),
        branch_key_id: BranchKeyIdSource::Fixed(id.into()),
        ttl_seconds,
        cache: cache.clone(),
        partition_id: partition_id.to_vec(),
    };
    for (c, what) in [
        (config(0, "a", b"p"), "ttlSeconds"),
        (config(1, "", b"p"), "branchKeyId"),
        (config(1, "a", b""), "partitionId"),
    ] {
        let err = AwsKmsHierarchicalKeyring::new(c).unwrap_err();
        assert_eq!(err.code(), "INVALID_CONFIG");
        assert!(err.to_string().contains(what), "{err}");
    }
    run(w
        .store
        .create_key(Some("key-acme"), Some(&ec(&[("t", "a")]))))
    .unwrap();
    let enc = encryptor(
        keyring(&w, BranchKeyIdSource::Supplier(Arc::new(Fixed))),
        SUITES[0],
    );
    let sealed = run(enc.encrypt_item(&item("acme", 5))).unwrap();
    assert_eq!(run(enc.decrypt_item(&sealed)).unwrap(), item("acme", 5));
}

#[test]
fn audit_events_name_the_branch_key_version_and_cache_hits() {
    use fieldseal::encryptor::{KeyUseEvent, Operation};
    let w = world();
    let id = run(w.store.create_key(None, None)).unwrap();
    let version = run(w.store.get_active_branch_key(&id))
        .unwrap()
        .branch_key_version;
    let events: Arc<Mutex<Vec<KeyUseEvent>>> = Arc::default();
    let sink = events.clone();
    let actions = BTreeMap::from([
        ("tenant".to_string(), CryptoAction::SignOnly),
        ("sk".to_string(), CryptoAction::SignOnly),
        ("secret".to_string(), CryptoAction::EncryptAndSign),
    ]);
    let mut config = ItemEncryptorConfig::new(
        "Orders",
        "tenant",
        actions,
        Arc::new(keyring(&w, BranchKeyIdSource::Fixed(id.clone()))),
    );
    config.sort_key_name = Some("sk".into());
    config.on_key_use = Some(Arc::new(move |e: &KeyUseEvent| {
        sink.lock().unwrap().push(e.clone())
    }));
    let enc = ItemEncryptor::new(config).unwrap();
    let first = run(enc.encrypt_item(&item("acme", 1))).unwrap();
    run(enc.encrypt_item(&item("acme", 2))).unwrap();
    run(enc.decrypt_item(&first)).unwrap();
    let events = events.lock().unwrap();
    let ops: Vec<(Operation, bool)> = events
        .iter()
        .map(|e| (e.operation, e.key_uses[0].cache_hit))
        .collect();
    assert_eq!(
        ops,
        [
            (Operation::Encrypt, false),
            (Operation::Encrypt, true),
            (Operation::Decrypt, false)
        ]
    );
    for e in events.iter() {
        assert_eq!(e.table, "Orders");
        assert_eq!(e.key_uses.len(), 1);
        assert_eq!(e.key_uses[0].key_provider_id, "aws-kms-hierarchy");
        assert_eq!(e.key_uses[0].key, id);
        assert_eq!(e.key_uses[0].version.as_deref(), Some(version.as_str()));
        assert_eq!(e.item_key.keys().collect::<Vec<_>>(), ["sk", "tenant"]);
        assert!(!format!("{e:?}").contains("card"), "no plaintext in events");
    }
}
