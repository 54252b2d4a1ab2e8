//! AWS KMS key identifiers and ARNs.
//!
//! Spec: framework/aws-kms/aws-kms-key-arn.md, aws-kms-mrk-match-for-decrypt.md,
//! aws-kms-mrk-are-unique.md. Where the spec is loose, this follows the MPL's
//! `AwsArnParsing.dfy`, `AwsKmsMrkMatchForDecrypt.dfy` and `AwsKmsMrkAreUnique.dfy`,
//! so that an identifier fieldseal accepts is one the DB-ESDK accepts too.

use std::fmt;

use crate::error::{Error, Result};

/// KMS's own limit on a `KeyId` (MPL `MAX_AWS_KMS_IDENTIFIER_LENGTH`).
pub const MAX_IDENTIFIER_LEN: usize = 2048;

/// A parsed AWS KMS ARN: `arn:partition:kms:region:account:key/id` or `...:alias/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KmsArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub resource_type: ResourceType,
    /// Everything after the first `/` of the resource (it may contain more `/`).
    pub resource_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    Key,
    Alias,
}

impl ResourceType {
    fn as_str(self) -> &'static str {
        match self {
            ResourceType::Key => "key",
            ResourceType::Alias => "alias",
        }
    }
}

/// `key/ID` or `alias/NAME`. Spec: aws-kms-key-arn.md#a-valid-aws-kms-arn
/// (split on the first `/`; any later `/` belongs to the id).
fn parse_resource(resource: &str) -> std::result::Result<(ResourceType, String), &'static str> {
    let Some((kind, id)) = resource.split_once('/') else {
        return Err("the resource must be key/ID or alias/NAME");
    };
    let kind = match kind {
        "key" => ResourceType::Key,
        "alias" => ResourceType::Alias,
        _ => return Err("the resource type must be \"key\" or \"alias\""),
    };
    if id.is_empty() {
        return Err("the resource id must not be empty");
    }
    Ok((kind, id.to_string()))
}

impl KmsArn {
    /// Spec: aws-kms-key-arn.md#a-valid-aws-kms-arn (MPL `ParseAwsKmsArn`:
    /// exactly six `:`-separated parts, so a colon in the resource is invalid).
    pub fn parse(s: &str) -> Result<Self> {
        let bad =
            |why: &str| Error::InvalidConfig(format!("{s:?} is not a valid AWS KMS ARN: {why}"));
        let parts: Vec<&str> = s.split(':').collect();
        let [literal, partition, service, region, account, resource] = parts.as_slice() else {
            return Err(bad("it needs exactly six colon-separated parts"));
        };
        if *literal != "arn" {
            return Err(bad("it must start with \"arn:\""));
        }
        if partition.is_empty() {
            return Err(bad("the partition is empty"));
        }
        if *service != "kms" {
            return Err(bad("the service must be \"kms\""));
        }
        if region.is_empty() {
            return Err(bad("the region is empty"));
        }
        if account.is_empty() {
            return Err(bad("the account is empty"));
        }
        let (resource_type, resource_id) = parse_resource(resource).map_err(bad)?;
        Ok(KmsArn {
            partition: partition.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource_type,
            resource_id,
        })
    }

    /// Spec: aws-kms-key-arn.md#identifying-an-an-aws-kms-multi-region-arn —
    /// aliases never are, whatever their name.
    pub fn is_multi_region_key(&self) -> bool {
        self.resource_type == ResourceType::Key && self.resource_id.starts_with("mrk-")
    }

    /// The same ARN with another region: how the MRK keyrings address a
    /// replica (MPL `ToArnString(Some(region))`).
    pub fn in_region(&self, region: &str) -> KmsArn {
        KmsArn {
            region: region.to_string(),
            ..self.clone()
        }
    }
}

impl fmt::Display for KmsArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:kms:{}:{}:{}/{}",
            self.partition,
            self.region,
            self.account,
            self.resource_type.as_str(),
            self.resource_id
        )
    }
}

/// A key identifier as a keyring accepts it: an ARN, an alias name or a raw key id.
/// Spec: aws-kms-key-arn.md#a-valid-aws-kms-identifier
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KmsKeyId {
    Arn(KmsArn),
    /// `alias/NAME`, resolved by KMS in the client's region.
    AliasName(String),
    /// A bare key id (`1234abcd-...` or `mrk-...`), in the client's region.
    RawId(String),
}

impl KmsKeyId {
    /// MPL `IsAwsKmsIdentifierString`: ASCII, 1 to 2048 characters, then
    /// `ParseAwsKmsIdentifier` (an ARN if it starts with `arn:`; otherwise
    /// `alias/NAME`, or a raw key id without `/`; `key/ID` is refused).
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() || s.len() > MAX_IDENTIFIER_LEN {
            return Err(Error::InvalidConfig(format!(
                "an AWS KMS key identifier must be 1 to {MAX_IDENTIFIER_LEN} characters, got {}",
                s.len()
            )));
        }
        if !s.is_ascii() {
            return Err(Error::InvalidConfig(format!(
                "{s:?} is not an AWS KMS key identifier: it is not ASCII"
            )));
        }
        if s.starts_with("arn:") {
            return KmsArn::parse(s).map(KmsKeyId::Arn);
        }
        let bad = |why: &str| {
            Error::InvalidConfig(format!(
                "{s:?} is not an AWS KMS key ARN, alias name or key id: {why}"
            ))
        };
        if s.split('/').next() == Some("key") {
            return Err(bad("a raw key id has no \"key/\" prefix"));
        }
        if !s.contains('/') {
            return Ok(KmsKeyId::RawId(s.to_string()));
        }
        match parse_resource(s).map_err(bad)? {
            (ResourceType::Alias, _) => Ok(KmsKeyId::AliasName(s.to_string())),
            // `key/...` was refused above.
            (ResourceType::Key, _) => Err(bad("a raw key id has no \"key/\" prefix")),
        }
    }

    /// Spec: aws-kms-key-arn.md#identifying-an-an-aws-kms-multi-region-identifier
    pub fn is_multi_region_key(&self) -> bool {
        match self {
            KmsKeyId::Arn(arn) => arn.is_multi_region_key(),
            KmsKeyId::AliasName(_) => false,
            KmsKeyId::RawId(id) => id.starts_with("mrk-"),
        }
    }

    /// The region named in the identifier, if it is an ARN.
    pub fn region(&self) -> Option<&str> {
        match self {
            KmsKeyId::Arn(arn) => Some(&arn.region),
            _ => None,
        }
    }

    /// The key's id without region or account (MPL `AwsKmsMrkAreUnique.GetKeyId`).
    fn resource_id(&self) -> &str {
        match self {
            KmsKeyId::Arn(arn) => &arn.resource_id,
            KmsKeyId::AliasName(name) => name.strip_prefix("alias/").unwrap_or(name),
            KmsKeyId::RawId(id) => id,
        }
    }
}

impl fmt::Display for KmsKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KmsKeyId::Arn(arn) => arn.fmt(f),
            KmsKeyId::AliasName(s) | KmsKeyId::RawId(s) => f.write_str(s),
        }
    }
}

/// Whether an EDK's key (`message`) may be decrypted with the configured key:
/// the same identifier, or both multi-Region key ARNs equal in every part but
/// the region. Identifiers that do not parse never match.
/// Spec: aws-kms-mrk-match-for-decrypt.md#implementation
pub fn mrk_match_for_decrypt(configured: &str, message: &str) -> bool {
    let (Ok(configured), Ok(message)) = (KmsKeyId::parse(configured), KmsKeyId::parse(message))
    else {
        return false;
    };
    if configured == message {
        return true;
    }
    match (&configured, &message) {
        (KmsKeyId::Arn(c), KmsKeyId::Arn(m)) => {
            c.is_multi_region_key()
                && m.is_multi_region_key()
                && c.partition == m.partition
                && c.account == m.account
                && c.resource_type == m.resource_type
                && c.resource_id == m.resource_id
        }
        _ => false,
    }
}

/// Refuse a set of keys that names one multi-Region key twice (two replicas
/// would wrap the same data key under the same key material, and decrypt
/// could not tell which was meant). The error names every identifier involved.
/// Spec: aws-kms-mrk-are-unique.md#implementation
pub fn assert_mrks_are_unique(identifiers: &[KmsKeyId]) -> Result<()> {
    let mrk_ids: Vec<&str> = identifiers
        .iter()
        .filter(|id| id.is_multi_region_key())
        .map(KmsKeyId::resource_id)
        .collect();
    let duplicated = |id: &str| mrk_ids.iter().filter(|other| **other == id).count() > 1;
    let involved: Vec<String> = identifiers
        .iter()
        .filter(|id| duplicated(id.resource_id()))
        .map(ToString::to_string)
        .collect();
    if involved.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidConfig(format!(
        "related multi-Region keys are not allowed together: {}",
        involved.join(", ")
    )))
}
