//! AWS KMS key identifiers and ARNs.
//! Spec: framework/aws-kms/aws-kms-key-arn.md and aws-kms-mrk-match-for-decrypt.md

use std::fmt;

use crate::error::{Error, Result};

/// A parsed AWS KMS ARN: `arn:partition:kms:region:account:key/id` or `...:alias/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub resource_type: ResourceType,
    pub resource_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    Key,
    Alias,
}

impl KmsArn {
    /// Spec: aws-kms-key-arn.md#a-valid-aws-kms-arn
    pub fn parse(s: &str) -> Result<Self> {
        let bad =
            |why: &str| Error::InvalidConfig(format!("{s:?} is not a valid AWS KMS ARN: {why}"));
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let [arn, partition, service, region, account, resource] = parts.as_slice() else {
            return Err(bad("it needs six colon-separated parts"));
        };
        if *arn != "arn" {
            return Err(bad("it must start with \"arn:\""));
        }
        if partition.is_empty() || region.is_empty() || account.is_empty() {
            return Err(bad("partition, region and account must not be empty"));
        }
        if *service != "kms" {
            return Err(bad("the service must be \"kms\""));
        }
        let Some((kind, id)) = resource.split_once('/') else {
            return Err(bad("the resource must be key/ID or alias/NAME"));
        };
        let resource_type = match kind {
            "key" => ResourceType::Key,
            "alias" => ResourceType::Alias,
            _ => return Err(bad("the resource type must be \"key\" or \"alias\"")),
        };
        if id.is_empty() {
            return Err(bad("the resource id must not be empty"));
        }
        Ok(KmsArn {
            partition: partition.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource_type,
            resource_id: id.to_string(),
        })
    }

    /// Spec: aws-kms-key-arn.md#identifying-an-aws-kms-multi-region-arn — aliases never are.
    pub fn is_multi_region_key(&self) -> bool {
        self.resource_type == ResourceType::Key && self.resource_id.starts_with("mrk-")
    }

    /// The same key in another region (meaningful for multi-Region keys).
    pub fn in_region(&self, region: &str) -> KmsArn {
        KmsArn {
            region: region.to_string(),
            ..self.clone()
        }
    }
}

impl fmt::Display for KmsArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.resource_type {
            ResourceType::Key => "key",
            ResourceType::Alias => "alias",
        };
        write!(
            f,
            "arn:{}:kms:{}:{}:{kind}/{}",
            self.partition, self.region, self.account, self.resource_id
        )
    }
}

/// A key identifier as a keyring accepts it: an ARN, an alias name or a raw key id.
/// Spec: aws-kms-key-arn.md#a-valid-aws-kms-identifier
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsKeyId {
    Arn(KmsArn),
    /// `alias/NAME`, in the client's region.
    AliasName(String),
    /// A bare key id (`1234abcd-...` or `mrk-...`), in the client's region.
    RawId(String),
}

impl KmsKeyId {
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() || s.len() > 2048 {
            return Err(Error::InvalidConfig(
                "an AWS KMS key identifier must be 1 to 2048 characters".into(),
            ));
        }
        if s.starts_with("arn:") {
            KmsArn::parse(s).map(KmsKeyId::Arn)
        } else if let Some(name) = s.strip_prefix("alias/") {
            if name.is_empty() {
                return Err(Error::InvalidConfig(format!("{s:?} has no alias name")));
            }
            Ok(KmsKeyId::AliasName(s.to_string()))
        } else if s.contains(':') || s.contains('/') {
            Err(Error::InvalidConfig(format!(
                "{s:?} is not an AWS KMS key ARN, alias name or key id"
            )))
        } else {
            Ok(KmsKeyId::RawId(s.to_string()))
        }
    }

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
}

/// Whether two identifiers name the same key for decryption: identical, or
/// both multi-Region keys equal in every part but the region.
/// Spec: aws-kms-mrk-match-for-decrypt.md#implementation
pub fn mrk_match_for_decrypt(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (KmsKeyId::parse(a), KmsKeyId::parse(b)) {
        (Ok(KmsKeyId::Arn(x)), Ok(KmsKeyId::Arn(y))) => {
            x.is_multi_region_key()
                && y.is_multi_region_key()
                && x.partition == y.partition
                && x.account == y.account
                && x.resource_type == y.resource_type
                && x.resource_id == y.resource_id
        }
        (Ok(x), Ok(y)) => {
            // Non-ARN identifiers carry no region: only exact equality matches,
            // which was checked above; an MRK raw id may match the same raw id.
            x.is_multi_region_key() && x == y
        }
        _ => false,
    }
}
