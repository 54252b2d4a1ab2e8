//! Fixtures of the searchable-encryption tests: an in-memory branch key
//! store whose `enc` is the key itself and a KMS that hands it back, so the
//! tests know every beacon and branch key; the spec's beacon key
//! derivation, written out with the `hkdf` and `sha2` crates (not through
//! fieldseal); and builders of beacon configurations.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use fieldseal::beacon::{
    BeaconKeySourceConfig, CompoundBeaconConfig, ConstructorConfig, ConstructorPartConfig,
    EncryptedPartConfig, SignedPartConfig, StandardBeaconConfig,
};
use fieldseal::cache::Clock;
use fieldseal::keyring::kms::{
    DecryptRequest, DecryptResponse, GenerateDataKeyRequest, GenerateDataKeyResponse, KmsClient,
    KmsError,
};
use fieldseal::keystore::{
    ConditionalPut, DynamoDbError, KeyStore, KeyStoreConfig, KeyStoreStorage, KmsConfiguration,
    TableDescription,
};
use fieldseal::materials::SecretBytes;
use fieldseal::primitives::provider::system_random;
use fieldseal::{AttributeValue as V, Item};
use hkdf::Hkdf;
use sha2::Sha512;

pub const KEY_ARN: &str =
    "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
pub const LOGICAL_STORE: &str = "BeaconStore";
pub const BRANCH_VERSION: &str = "0f1e2d3c-4b5a-4697-8877-665544332211";

/// Spec: search-config.md#hmac-key-generation
pub fn spec_hmac_key(beacon_key: &[u8], name: &str) -> Vec<u8> {
    let hk = Hkdf::<Sha512>::new(None, beacon_key);
    let mut info = b"AWS_DBE_SCAN_BEACON".to_vec();
    info.extend_from_slice(name.as_bytes());
    let mut out = vec![0u8; 64];
    hk.expand(&info, &mut out).expect("64 bytes");
    out
}

/// The beacon key stored for a branch key id.
pub fn beacon_key_of(id: &str) -> [u8; 32] {
    let b = id
        .bytes()
        .fold(0x5au8, |a, c| a.wrapping_mul(31).wrapping_add(c));
    [b; 32]
}

/// The (active) branch key stored for a branch key id.
pub fn branch_key_of(id: &str) -> [u8; 32] {
    beacon_key_of(id).map(|b| b ^ 0xff)
}

/// Answers every key read; counts them all (`gets`) and the beacon key
/// reads alone (`beacon_gets`).
#[derive(Default)]
pub struct Storage {
    pub gets: AtomicUsize,
    pub beacon_gets: AtomicUsize,
}

#[async_trait(?Send)]
impl KeyStoreStorage for Storage {
    async fn get_item(&self, _table: &str, key: Item) -> Result<Option<Item>, DynamoDbError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let (Some(V::S(id)), Some(V::S(ty))) = (key.get("branch-key-id"), key.get("type")) else {
            return Ok(None);
        };
        let enc = if ty == "beacon:ACTIVE" {
            self.beacon_gets.fetch_add(1, Ordering::SeqCst);
            beacon_key_of(id)
        } else {
            branch_key_of(id)
        };
        let mut item = Item::from([
            ("branch-key-id".to_string(), V::S(id.clone())),
            ("type".to_string(), V::S(ty.clone())),
            ("enc".to_string(), V::B(enc.to_vec())),
            ("kms-arn".to_string(), V::S(KEY_ARN.into())),
            (
                "create-time".to_string(),
                V::S("2024-01-01T00:00:00.000000Z".into()),
            ),
            ("hierarchy-version".to_string(), V::N("1".into())),
        ]);
        if ty == "branch:ACTIVE" {
            item.insert(
                "version".into(),
                V::S(format!("branch:version:{BRANCH_VERSION}")),
            );
        }
        Ok(Some(item))
    }
    async fn transact_write(&self, _puts: Vec<ConditionalPut>) -> Result<(), DynamoDbError> {
        unreachable!("these tests never write keys")
    }
    async fn describe_table(&self, _t: &str) -> Result<Option<TableDescription>, DynamoDbError> {
        unreachable!("these tests never describe the table")
    }
    async fn create_table(&self, _t: &str) -> Result<String, DynamoDbError> {
        unreachable!("these tests never create the table")
    }
}

/// Decrypt returns the ciphertext: `enc` is the key.
pub struct Kms;

#[async_trait(?Send)]
impl KmsClient for Kms {
    async fn generate_data_key(
        &self,
        _r: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        Err(KmsError {
            name: "Unsupported".into(),
            message: "not in these tests".into(),
        })
    }
    async fn decrypt(&self, r: DecryptRequest) -> Result<DecryptResponse, KmsError> {
        Ok(DecryptResponse {
            key_id: r.key_id,
            plaintext: SecretBytes::new(r.ciphertext_blob),
        })
    }
}

/// A clock the test moves (milliseconds).
pub struct ManualClock(pub AtomicU64);

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct World {
    pub storage: Arc<Storage>,
    pub clock: Arc<ManualClock>,
    pub store: Arc<KeyStore>,
}

/// A key store over [`Storage`] and [`Kms`], its clock at 2023-11-14.
pub fn world() -> World {
    let storage = Arc::new(Storage::default());
    let clock = Arc::new(ManualClock(AtomicU64::new(1_700_000_000_000)));
    let client: Arc<dyn KmsClient> = Arc::new(Kms);
    let store = KeyStore::new(KeyStoreConfig {
        ddb_table_name: "KeyStoreTable".into(),
        logical_key_store_name: LOGICAL_STORE.into(),
        kms_configuration: KmsConfiguration::key_arn(KEY_ARN, false).unwrap(),
        grant_tokens: vec![],
        storage: storage.clone(),
        kms: Arc::new(move |_: &str| Ok(client.clone())),
        random: system_random(),
        clock: clock.clone(),
    })
    .unwrap();
    World {
        storage,
        clock,
        store: Arc::new(store),
    }
}

pub fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(f)
}

/// The beacon key source of most searches here: one beacon key, "beacon-key".
pub fn single_key_source() -> BeaconKeySourceConfig {
    BeaconKeySourceConfig::Single {
        key_id: "beacon-key".into(),
        cache_ttl_seconds: 600,
        cache: None,
        partition_id: Some("p1".into()),
    }
}

/// A standard beacon on the attribute of its name.
pub fn std_beacon(name: &str, length: u32) -> StandardBeaconConfig {
    StandardBeaconConfig {
        name: name.into(),
        length,
        loc: None,
        style: None,
        number_of_partitions: None,
    }
}

pub fn enc_part(name: &str, prefix: &str) -> EncryptedPartConfig {
    EncryptedPartConfig {
        name: name.into(),
        prefix: prefix.into(),
    }
}

/// A signed part on the attribute of its name.
pub fn signed_part(name: &str, prefix: &str) -> SignedPartConfig {
    SignedPartConfig {
        name: name.into(),
        prefix: prefix.into(),
        loc: None,
    }
}

/// A compound beacon split by `.`, with no constructors.
pub fn compound(
    name: &str,
    encrypted: Vec<EncryptedPartConfig>,
    signed: Vec<SignedPartConfig>,
) -> CompoundBeaconConfig {
    CompoundBeaconConfig {
        name: name.into(),
        split: ".".into(),
        encrypted,
        signed,
        constructors: vec![],
        number_of_partitions: None,
    }
}

/// A constructor of (part name, required) pairs.
pub fn constructor(parts: &[(&str, bool)]) -> ConstructorConfig {
    ConstructorConfig {
        parts: parts
            .iter()
            .map(|(n, r)| ConstructorPartConfig {
                name: n.to_string(),
                required: *r,
            })
            .collect(),
    }
}
