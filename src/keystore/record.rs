//! Key store items: their attributes, checks, and the KMS encryption
//! context each binds. Pure: no I/O.
//! Spec: branch-key-store.md#record-format, #encryption-context

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::item::{AttributeValue, Item};

pub const BRANCH_KEY_ID: &str = "branch-key-id";
pub const TYPE: &str = "type";
pub const VERSION: &str = "version";
pub const ENC: &str = "enc";
pub const KMS_ARN: &str = "kms-arn";
pub const CREATE_TIME: &str = "create-time";
pub const HIERARCHY_VERSION: &str = "hierarchy-version";
/// The encryption-context key that carries the logical key store name.
pub const TABLE_NAME_CONTEXT_KEY: &str = "tablename";
/// Prefix of the custom encryption context's attributes and context keys.
pub const CUSTOM_PREFIX: &str = "aws-crypto-ec:";

pub const TYPE_ACTIVE: &str = "branch:ACTIVE";
pub const TYPE_BEACON: &str = "beacon:ACTIVE";
pub const VERSION_PREFIX: &str = "branch:version:";
/// The only hierarchy version there is.
pub const HIERARCHY_VERSION_1: &str = "1";
/// KMS's bounds on a ciphertext blob and on a key ARN.
const MAX_ENC_LEN: usize = 6144;
const MAX_KMS_ARN_LEN: usize = 2048;

/// Which of a branch key's items: the active branch key, one version of
/// it (DECRYPT_ONLY), or the beacon key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    Active,
    Version(String),
    Beacon,
}

impl KeyKind {
    /// The item's `type` (its sort key).
    pub fn type_value(&self) -> String {
        match self {
            KeyKind::Active => TYPE_ACTIVE.to_owned(),
            KeyKind::Version(v) => format!("{VERSION_PREFIX}{v}"),
            KeyKind::Beacon => TYPE_BEACON.to_owned(),
        }
    }

    /// What the item is, for messages.
    pub fn describe(&self) -> String {
        match self {
            KeyKind::Active => "active branch key".into(),
            KeyKind::Version(v) => format!("branch key version {v}"),
            KeyKind::Beacon => "beacon key".into(),
        }
    }
}

/// The primary key of one item.
pub fn item_key(branch_key_id: &str, kind: &KeyKind) -> Item {
    let mut key = Item::new();
    key.insert(
        BRANCH_KEY_ID.into(),
        AttributeValue::S(branch_key_id.into()),
    );
    key.insert(TYPE.into(), AttributeValue::S(kind.type_value()));
    key
}

/// One key store item, with every attribute the format requires.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub branch_key_id: String,
    pub kind: KeyKind,
    /// The wrapped key (`enc`).
    pub enc: Vec<u8>,
    pub kms_arn: String,
    pub create_time: String,
    /// The `hierarchy-version` number as stored (always `1` when written;
    /// read as given, as the reference code does, and bound as given).
    pub hierarchy_version: String,
    /// Every other attribute: the custom encryption context
    /// (`aws-crypto-ec:` + key), string values, under their attribute names.
    pub extra: BTreeMap<String, String>,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("branch_key_id", &self.branch_key_id)
            .field("kind", &self.kind)
            .field("enc", &format_args!("<{} bytes>", self.enc.len()))
            .field("kms_arn", &self.kms_arn)
            .field("create_time", &self.create_time)
            .field("hierarchy_version", &self.hierarchy_version)
            .field("extra", &self.extra)
            .finish()
    }
}

impl KeyRecord {
    /// A record for new key material: `custom` is the custom encryption
    /// context without its prefix.
    pub fn new(
        branch_key_id: &str,
        kind: KeyKind,
        kms_arn: &str,
        create_time: &str,
        custom: &BTreeMap<String, String>,
    ) -> KeyRecord {
        // Maps are filled by insert: a collect sorts (crate::base::sorted_order).
        let mut extra = BTreeMap::new();
        for (k, v) in custom {
            extra.insert(format!("{CUSTOM_PREFIX}{k}"), v.clone());
        }
        KeyRecord {
            branch_key_id: branch_key_id.to_owned(),
            kind,
            enc: Vec::new(),
            kms_arn: kms_arn.to_owned(),
            create_time: create_time.to_owned(),
            hierarchy_version: HIERARCHY_VERSION_1.to_owned(),
            extra,
        }
    }

    /// Read and check an item that was asked for as `expected` of
    /// `branch_key_id`. The error names the branch key and the failed check.
    /// Spec: branch-key-store.md#record-format
    pub fn from_item(item: &Item, branch_key_id: &str, expected: &KeyKind) -> Result<KeyRecord> {
        let r = ItemReader {
            item,
            branch_key_id,
            expected,
        };
        let id = r.string(BRANCH_KEY_ID)?;
        if id != branch_key_id {
            return Err(r.bad(format!("its {BRANCH_KEY_ID} is {id:?}")));
        }
        let (kind, active_version) = r.kind()?;
        let kms_arn = r.string(KMS_ARN)?;
        if kms_arn.len() > MAX_KMS_ARN_LEN {
            return Err(r.bad(format!("{KMS_ARN} is longer than {MAX_KMS_ARN_LEN} bytes")));
        }
        let mut record = KeyRecord {
            branch_key_id: id,
            kind,
            enc: r.enc()?,
            kms_arn,
            create_time: r.string(CREATE_TIME)?,
            hierarchy_version: r.hierarchy_version()?,
            extra: r.extra()?,
        };
        if let Some(v) = active_version {
            record
                .extra
                .insert(VERSION.into(), format!("{VERSION_PREFIX}{v}"));
        }
        Ok(record)
    }

    /// The branch key version: the ACTIVE item's `version`, or a
    /// DECRYPT_ONLY item's `type`, without the prefix.
    /// Spec: branch-key-store.md#branch-key-materials-from-authenticated-encryption-context
    pub fn branch_key_version(&self) -> Option<String> {
        match &self.kind {
            KeyKind::Version(v) => Some(v.clone()),
            KeyKind::Active => self
                .extra
                .get(VERSION)
                .and_then(|v| v.strip_prefix(VERSION_PREFIX))
                .map(str::to_owned),
            KeyKind::Beacon => None,
        }
    }

    /// The custom encryption context, without its prefix.
    /// Spec: branch-key-store.md#custom-encryption-context-from-authenticated-encryption-context
    pub fn custom_encryption_context(&self) -> BTreeMap<String, String> {
        let mut custom = BTreeMap::new();
        for (k, v) in &self.extra {
            if let Some(key) = k.strip_prefix(CUSTOM_PREFIX) {
                custom.insert(key.to_owned(), v.clone());
            }
        }
        custom
    }

    /// The encryption context KMS binds to `enc`: every attribute but `enc`,
    /// `hierarchy-version` as its decimal string, and the logical key store
    /// name as `tablename`. Spec: branch-key-store.md#encryption-context
    pub fn kms_encryption_context(&self, logical_key_store_name: &str) -> BTreeMap<String, String> {
        let mut ec = self.extra.clone();
        ec.insert(BRANCH_KEY_ID.into(), self.branch_key_id.clone());
        ec.insert(TYPE.into(), self.kind.type_value());
        ec.insert(CREATE_TIME.into(), self.create_time.clone());
        ec.insert(
            TABLE_NAME_CONTEXT_KEY.into(),
            logical_key_store_name.to_owned(),
        );
        ec.insert(KMS_ARN.into(), self.kms_arn.clone());
        ec.insert(HIERARCHY_VERSION.into(), self.hierarchy_version.clone());
        ec
    }

    /// The item as stored. Spec: branch-key-store.md#writing-branch-key-and-beacon-key-to-keystore
    pub fn to_item(&self) -> Item {
        let mut item: Item = Item::new();
        for (k, v) in &self.extra {
            item.insert(k.clone(), AttributeValue::S(v.clone()));
        }
        item.insert(
            BRANCH_KEY_ID.into(),
            AttributeValue::S(self.branch_key_id.clone()),
        );
        item.insert(TYPE.into(), AttributeValue::S(self.kind.type_value()));
        item.insert(ENC.into(), AttributeValue::B(self.enc.clone()));
        item.insert(KMS_ARN.into(), AttributeValue::S(self.kms_arn.clone()));
        item.insert(
            CREATE_TIME.into(),
            AttributeValue::S(self.create_time.clone()),
        );
        item.insert(
            HIERARCHY_VERSION.into(),
            AttributeValue::N(self.hierarchy_version.clone()),
        );
        item
    }

    /// The ACTIVE item for this DECRYPT_ONLY version: the same attributes,
    /// `type` `branch:ACTIVE` and a `version`. Its `enc` is set by the caller.
    pub fn as_active(&self) -> KeyRecord {
        let mut active = self.clone();
        if let KeyKind::Version(v) = &self.kind {
            active
                .extra
                .insert(VERSION.into(), format!("{VERSION_PREFIX}{v}"));
        }
        active.kind = KeyKind::Active;
        active.enc = Vec::new();
        active
    }

    /// A new DECRYPT_ONLY version of this ACTIVE record: every attribute
    /// carried over (custom context, `kms-arn`, extra attributes), a new
    /// `type` and `create-time`, no `version`, no `enc` yet.
    /// Reference: aws-db-esdk 1.3.0 VersionKey (`newDO = oldEC + {type, create-time} - {version}`).
    pub fn next_version(&self, version: String, create_time: &str) -> KeyRecord {
        let mut next = self.clone();
        next.extra.remove(VERSION);
        next.kind = KeyKind::Version(version);
        next.create_time = create_time.to_owned();
        next.enc = Vec::new();
        next
    }

    /// The beacon key item that shares this record's id, time and context.
    pub fn as_beacon(&self) -> KeyRecord {
        let mut beacon = self.clone();
        beacon.extra.remove(VERSION);
        beacon.kind = KeyKind::Beacon;
        beacon.enc = Vec::new();
        beacon
    }
}

/// The checks of [`KeyRecord::from_item`], one attribute at a time.
/// Reference: aws-db-esdk 1.3.0 `_BranchKeyItem_q` and its per-kind checks.
struct ItemReader<'a> {
    item: &'a Item,
    branch_key_id: &'a str,
    expected: &'a KeyKind,
}

impl ItemReader<'_> {
    fn bad(&self, what: String) -> Error {
        Error::KeyStoreFailure(format!(
            "the {} item of branch key {:?} is malformed: {what}",
            self.expected.describe(),
            self.branch_key_id
        ))
    }

    /// A non-empty S attribute.
    fn string(&self, name: &str) -> Result<String> {
        match self.item.get(name) {
            Some(AttributeValue::S(s)) if !s.is_empty() => Ok(s.clone()),
            Some(AttributeValue::S(_)) => Err(self.bad(format!("{name} is empty"))),
            Some(other) => Err(self.bad(format!("{name} is {}, not S", other.type_name()))),
            None => Err(self.bad(format!("{name} is missing"))),
        }
    }

    /// The item's kind, which must be the one asked for, and the ACTIVE
    /// item's version (only the ACTIVE item has a `version`).
    fn kind(&self) -> Result<(KeyKind, Option<String>)> {
        let type_value = self.string(TYPE)?;
        let wrong_type = || self.bad(format!("its {TYPE} is {type_value:?}"));
        if type_value == TYPE_ACTIVE {
            let version = self.string(VERSION)?;
            let Some(v) = version
                .strip_prefix(VERSION_PREFIX)
                .filter(|v| !v.is_empty())
            else {
                return Err(self.bad(format!("{VERSION} does not start with {VERSION_PREFIX:?}")));
            };
            if *self.expected != KeyKind::Active {
                return Err(wrong_type());
            }
            return Ok((KeyKind::Active, Some(v.to_owned())));
        }
        if type_value != self.expected.type_value() {
            return Err(wrong_type());
        }
        if self.item.contains_key(VERSION) {
            return Err(self.bad(format!("only the ACTIVE item has a {VERSION}")));
        }
        Ok((self.expected.clone(), None))
    }

    fn enc(&self) -> Result<Vec<u8>> {
        match self.item.get(ENC) {
            Some(AttributeValue::B(b)) if (1..=MAX_ENC_LEN).contains(&b.len()) => Ok(b.clone()),
            Some(AttributeValue::B(b)) => Err(self.bad(format!(
                "{ENC} is {} bytes, not 1 to {MAX_ENC_LEN}",
                b.len()
            ))),
            Some(other) => Err(self.bad(format!("{ENC} is {}, not B", other.type_name()))),
            None => Err(self.bad(format!("{ENC} is missing"))),
        }
    }

    /// The reference code checks the type only; the value is bound into the
    /// KMS context as it is stored.
    fn hierarchy_version(&self) -> Result<String> {
        match self.item.get(HIERARCHY_VERSION) {
            Some(AttributeValue::N(n)) => Ok(n.clone()),
            Some(other) => Err(self.bad(format!(
                "{HIERARCHY_VERSION} is {}, not N",
                other.type_name()
            ))),
            None => Err(self.bad(format!("{HIERARCHY_VERSION} is missing"))),
        }
    }

    /// Every other attribute: S values only (each is bound into the KMS
    /// context), and never `tablename` (the context's own key).
    fn extra(&self) -> Result<BTreeMap<String, String>> {
        const FORMAT: [&str; 7] = [
            BRANCH_KEY_ID,
            TYPE,
            VERSION,
            ENC,
            KMS_ARN,
            CREATE_TIME,
            HIERARCHY_VERSION,
        ];
        let mut extra = BTreeMap::new();
        for (name, value) in self.item {
            if FORMAT.contains(&name.as_str()) {
                continue;
            }
            if name == TABLE_NAME_CONTEXT_KEY {
                return Err(self.bad(format!("it has a {TABLE_NAME_CONTEXT_KEY} attribute")));
            }
            let AttributeValue::S(s) = value else {
                return Err(self.bad(format!(
                    "attribute {name:?} is {}; every attribute but {ENC} is bound \
                     into the KMS encryption context and must be S",
                    value.type_name()
                )));
            };
            extra.insert(name.clone(), s.clone());
        }
        Ok(extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const VERSION_ID: &str = "83eec007-5659-4554-bf11-699b90f41ac6";

    fn decrypt_only() -> KeyRecord {
        let custom = BTreeMap::from([("department".to_string(), "admin".to_string())]);
        let mut r = KeyRecord::new(
            "bbb9baf1",
            KeyKind::Version(VERSION_ID.into()),
            ARN,
            "2023-06-03T19:03:29.358000Z",
            &custom,
        );
        r.enc = vec![7; 184];
        r
    }

    #[test]
    fn items_round_trip_and_bind_the_spec_example_context() {
        let r = decrypt_only();
        let item = r.to_item();
        assert_eq!(
            item.get("aws-crypto-ec:department"),
            Some(&AttributeValue::S("admin".into()))
        );
        assert_eq!(
            item.get(HIERARCHY_VERSION),
            Some(&AttributeValue::N("1".into()))
        );
        let kind = KeyKind::Version(VERSION_ID.into());
        assert_eq!(KeyRecord::from_item(&item, "bbb9baf1", &kind).unwrap(), r);

        let ec = r.kms_encryption_context("logical");
        let keys: Vec<&str> = ec.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "aws-crypto-ec:department",
                "branch-key-id",
                "create-time",
                "hierarchy-version",
                "kms-arn",
                "tablename",
                "type"
            ]
        );
        assert_eq!(ec["type"], format!("branch:version:{VERSION_ID}"));
        assert_eq!(ec["tablename"], "logical");

        let mut active = r.as_active();
        active.enc = vec![8; 184];
        let parsed = KeyRecord::from_item(&active.to_item(), "bbb9baf1", &KeyKind::Active).unwrap();
        assert_eq!(parsed.branch_key_version().as_deref(), Some(VERSION_ID));
        assert_eq!(
            parsed.kms_encryption_context("logical")["version"],
            format!("branch:version:{VERSION_ID}")
        );
        assert_eq!(
            parsed.custom_encryption_context(),
            BTreeMap::from([("department".into(), "admin".into())])
        );
        let beacon = r.as_beacon();
        assert!(!beacon.to_item().contains_key(VERSION));
        assert_eq!(beacon.kms_encryption_context("l")["type"], "beacon:ACTIVE");
    }

    #[test]
    fn malformed_items_are_refused_naming_the_key_and_the_check() {
        let kind = KeyKind::Version(VERSION_ID.into());
        let good = decrypt_only().to_item();
        use AttributeValue::{B, N, S};
        // (what the message says, the attribute, its new value or None to remove it)
        let cases: [(&str, &str, Option<AttributeValue>); 12] = [
            ("enc is missing", ENC, None),
            ("enc is S, not B", ENC, Some(S("x".into()))),
            ("enc is 0 bytes", ENC, Some(B(vec![]))),
            ("kms-arn is missing", KMS_ARN, None),
            ("create-time is missing", CREATE_TIME, None),
            (
                "hierarchy-version is S, not N",
                HIERARCHY_VERSION,
                Some(S("1".into())),
            ),
            (
                "its type is \"branch:version:other\"",
                TYPE,
                Some(S("branch:version:other".into())),
            ),
            (
                "its branch-key-id is \"other\"",
                BRANCH_KEY_ID,
                Some(S("other".into())),
            ),
            ("attribute \"extra\" is N", "extra", Some(N("1".into()))),
            (
                "only the ACTIVE item has a version",
                VERSION,
                Some(S("branch:version:x".into())),
            ),
            (
                "it has a tablename attribute",
                TABLE_NAME_CONTEXT_KEY,
                Some(S("t".into())),
            ),
            (
                "branch-key-id is empty",
                BRANCH_KEY_ID,
                Some(S(String::new())),
            ),
        ];
        for (want, name, value) in cases {
            let mut item = good.clone();
            match value {
                Some(v) => item.insert(name.into(), v),
                None => item.remove(name),
            };
            let err = KeyRecord::from_item(&item, "bbb9baf1", &kind).unwrap_err();
            assert_eq!(err.code(), "KEY_STORE_FAILURE", "{want}");
            let msg = err.to_string();
            assert!(
                msg.contains("\"bbb9baf1\"") && msg.contains(want),
                "{want}: {msg}"
            );
        }
    }

    #[test]
    fn an_active_item_needs_a_prefixed_version() {
        let mut active = decrypt_only().as_active();
        active.enc = vec![1];
        let mut item = active.to_item();
        item.insert(VERSION.into(), AttributeValue::S(VERSION_ID.into()));
        let err = KeyRecord::from_item(&item, "bbb9baf1", &KeyKind::Active).unwrap_err();
        assert!(
            err.to_string().contains("version does not start with"),
            "{err}"
        );
    }

    #[test]
    fn debug_does_not_print_the_wrapped_key() {
        let shown = format!("{:?}", decrypt_only());
        assert!(
            shown.contains("<184 bytes>") && !shown.contains("7, 7"),
            "{shown}"
        );
    }
}
