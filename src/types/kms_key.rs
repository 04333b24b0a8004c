//! KMS key references.

use std::fmt;

use super::InputError;

/// A KMS key as a key ID (UUID or `mrk-` multi-Region ID), a key ARN, an alias name or an
/// alias ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct KmsKey(String);

const EXPECTED: &str = "expected a key ID (1234abcd-12ab-34cd-56ef-1234567890ab), a key ARN \
(arn:aws:kms:<region>:<account>:key/<key id>), an alias (alias/<name>) or an alias ARN";

impl KmsKey {
    pub fn parse(value: &str) -> Result<Self, InputError> {
        if is_key_id(value) || is_alias(value) || is_arn(value) {
            return Ok(Self(value.to_owned()));
        }
        Err(InputError::new("KMS key", value, EXPECTED))
    }

    /// Accepts only a key ARN, which partner data must use because a bare ID or alias is
    /// ambiguous across regions and accounts.
    pub fn parse_arn(value: &str) -> Result<Self, InputError> {
        if value
            .split(':')
            .nth(5)
            .is_some_and(|r| r.starts_with("key/"))
            && is_arn(value)
        {
            return Ok(Self(value.to_owned()));
        }
        Err(InputError::new(
            "KMS key ARN",
            value,
            "expected arn:aws:kms:<region>:<12-digit account>:key/<key id>",
        ))
    }

    /// True for an alias of an AWS-managed key (`alias/aws/ebs` and the like), which no other
    /// account can be granted. A key ID or key ARN may also be AWS-managed, which only KMS DescribeKey shows.
    pub fn is_aws_managed_alias(&self) -> bool {
        let alias = match self.0.split_once(":alias/") {
            Some((_, name)) => name,
            None => self.0.strip_prefix("alias/").unwrap_or(""),
        };
        alias.starts_with("aws/")
    }

    /// Returns the region named in a key ARN, or `None` for IDs and aliases.
    pub fn arn_region(&self) -> Option<&str> {
        self.0
            .strip_prefix("arn:")
            .and_then(|rest| rest.split(':').nth(2))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_key_id(value: &str) -> bool {
    let id = value.strip_prefix("mrk-").unwrap_or(value);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if value.starts_with("mrk-") {
        return hex(id, 32);
    }
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 5 && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| hex(p, *n))
}

fn is_alias(value: &str) -> bool {
    value.strip_prefix("alias/").is_some_and(|name| {
        !name.is_empty()
            && name.len() <= 250
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b))
    })
}

fn is_arn(value: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || !parts[1].starts_with("aws") || parts[2] != "kms" {
        return false;
    }
    let region_ok = super::Region::parse(parts[3]).is_ok();
    let account_ok = super::AccountId::parse(parts[4]).is_ok();
    let resource_ok = match parts[5].split_once('/') {
        Some(("key", id)) => is_key_id(id),
        Some(("alias", _)) => is_alias(parts[5]),
        _ => false,
    };
    region_ok && account_ok && resource_ok
}

impl fmt::Display for KmsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str =
        "arn:aws:kms:ap-southeast-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn kms_key_shapes() {
        for good in [
            ARN,
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/platform-images",
            "alias/team/images_2023",
            "arn:aws:kms:ap-southeast-1:210987654321:alias/platform-images",
            "arn:aws-us-gov:kms:us-gov-west-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ] {
            assert!(KmsKey::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "my key",
            "alias/",
            "alias/with space",
            "1234abcd-12ab-34cd-56ef",
            "arn:aws:kms:ap-southeast-1:2109876543:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:singapore:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:s3:ap-southeast-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:ap-southeast-1:210987654321:key/not-a-key",
        ] {
            assert_eq!(
                KmsKey::parse(bad).unwrap_err().to_string(),
                format!("invalid KMS key `{bad}`: {EXPECTED}"),
            );
        }
    }

    #[test]
    fn kms_key_arn_only() {
        assert!(KmsKey::parse_arn(ARN).is_ok());
        assert_eq!(
            KmsKey::parse(ARN).unwrap().arn_region(),
            Some("ap-southeast-1")
        );
        assert_eq!(KmsKey::parse("alias/a").unwrap().arn_region(), None);
        for bad in [
            "alias/platform-images",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:ap-southeast-1:210987654321:alias/platform-images",
        ] {
            assert_eq!(
                KmsKey::parse_arn(bad).unwrap_err().to_string(),
                format!("invalid KMS key ARN `{bad}`: expected arn:aws:kms:<region>:<12-digit account>:key/<key id>"),
            );
        }
    }

    #[test]
    fn aws_managed_aliases() {
        assert!(KmsKey::parse("alias/aws/ebs")
            .unwrap()
            .is_aws_managed_alias());
        assert!(
            KmsKey::parse("arn:aws:kms:ap-south-1:210987654321:alias/aws/ebs")
                .unwrap()
                .is_aws_managed_alias()
        );
        assert!(!KmsKey::parse("alias/awsome")
            .unwrap()
            .is_aws_managed_alias());
        assert!(!KmsKey::parse(ARN).unwrap().is_aws_managed_alias());
    }
}
