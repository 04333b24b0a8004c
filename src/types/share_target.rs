//! Whom an image can be shared with.

use std::fmt;

use super::{AccountId, InputError};

/// A launch-permission target: an account, an organization, an organizational unit, or
/// everyone (`"all"`, public sharing).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ShareTarget {
    Account(AccountId),
    Organization(String),
    OrganizationalUnit(String),
    Public,
}

const EXPECTED: &str = "expected a 12-digit account ID string, \
`arn:aws:organizations::<account>:organization/o-<id>`, \
`arn:aws:organizations::<account>:ou/o-<id>/ou-<root>-<id>` or \"all\"";

impl ShareTarget {
    pub fn parse(value: &str) -> Result<Self, InputError> {
        if value == "all" {
            return Ok(Self::Public);
        }
        if let Some(rest) = value.strip_prefix("arn:aws:organizations::") {
            return parse_organizations_arn(value, rest);
        }
        if value
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b' ')
        {
            return AccountId::parse(value).map(Self::Account);
        }
        Err(InputError::new("share target", value, EXPECTED))
    }

    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Self::Account(id) => Some(id),
            _ => None,
        }
    }
}

fn parse_organizations_arn(value: &str, rest: &str) -> Result<ShareTarget, InputError> {
    let invalid = || InputError::new("share target", value, EXPECTED);
    let (account, resource) = rest.split_once(':').ok_or_else(invalid)?;
    AccountId::parse(account).map_err(|_| invalid())?;

    if let Some(org) = resource.strip_prefix("organization/") {
        if is_org_id(org) {
            return Ok(ShareTarget::Organization(value.to_owned()));
        }
    }
    if let Some(path) = resource.strip_prefix("ou/") {
        if let Some((org, ou)) = path.split_once('/') {
            if is_org_id(org) && is_ou_id(ou) {
                return Ok(ShareTarget::OrganizationalUnit(value.to_owned()));
            }
        }
    }
    Err(invalid())
}

fn is_org_id(value: &str) -> bool {
    value.strip_prefix("o-").is_some_and(|id| {
        (10..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// OU IDs are `ou-<root id>-<8 to 32 characters>`, lowercase letters and digits.
fn is_ou_id(value: &str) -> bool {
    let Some((root, id)) = value.strip_prefix("ou-").and_then(|v| v.split_once('-')) else {
        return false;
    };
    let alnum = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    (4..=32).contains(&root.len()) && alnum(root) && (8..=32).contains(&id.len()) && alnum(id)
}

impl fmt::Display for ShareTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Account(id) => write!(f, "{id}"),
            Self::Organization(arn) | Self::OrganizationalUnit(arn) => f.write_str(arn),
            Self::Public => f.write_str("all"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "arn:aws:organizations::123456789012:organization/o-abcde12345";
    const OU: &str = "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-abcdefgh";

    #[test]
    fn share_target_shapes() {
        assert_eq!(
            ShareTarget::parse("123456789012").unwrap(),
            ShareTarget::Account(AccountId::parse("123456789012").unwrap())
        );
        assert_eq!(
            ShareTarget::parse(ORG).unwrap(),
            ShareTarget::Organization(ORG.into())
        );
        assert_eq!(
            ShareTarget::parse(OU).unwrap(),
            ShareTarget::OrganizationalUnit(OU.into())
        );
        assert_eq!(ShareTarget::parse("all").unwrap(), ShareTarget::Public);
    }

    #[test]
    fn account_targets_are_twelve_digits() {
        for bad in ["1234-5678-9012", "1234 5678 9012", "12345678901"] {
            assert_eq!(
                ShareTarget::parse(bad).unwrap_err().to_string(),
                format!("invalid account ID `{bad}`: an account ID is a string of exactly 12 digits, without dashes or spaces"),
            );
        }
    }

    #[test]
    fn organization_arns_have_exact_shape() {
        for bad in [
            "arn:aws:organizations::123456789012:organization/abc",
            "arn:aws:organizations::123456789012:organization/o-abc",
            "arn:aws:organizations::123456789012:organization/o-ABCDE12345",
            "arn:aws:organizations::12345678901:organization/o-abcde12345",
            "arn:aws:organizations:us-east-1:123456789012:organization/o-abcde12345",
            "arn:aws:organizations::123456789012:ou/o-abcde12345",
            "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12",
            "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-abc",
            "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-abcdefgh/extra",
            "arn:aws:iam::123456789012:root",
            "o-abcde12345",
            "everyone",
            "All",
        ] {
            assert_eq!(
                ShareTarget::parse(bad).unwrap_err().to_string(),
                format!("invalid share target `{bad}`: {EXPECTED}"),
            );
        }
    }
}
