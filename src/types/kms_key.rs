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

    #[test]
    fn kms_key_shapes() {
        let arn =
            "arn:aws:kms:ap-southeast-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert!(KmsKey::parse(arn).is_ok());
        assert!(KmsKey::parse_arn(arn).is_ok());
        assert_eq!(
            KmsKey::parse(arn).unwrap().arn_region(),
            Some("ap-southeast-1")
        );
        assert!(KmsKey::parse("1234abcd-12ab-34cd-56ef-1234567890ab").is_ok());
        assert!(KmsKey::parse("alias/platform-images").is_ok());
        assert!(KmsKey::parse_arn("alias/platform-images").is_err());
        assert!(KmsKey::parse("my key").is_err());
    }
}
