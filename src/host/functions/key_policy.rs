//! Whether an account may use a KMS key: through a grant, or through the key policy.

use std::collections::HashMap;

use serde::Serialize;

use super::key_access::ImageKey;
use crate::aws::GrantInfo;

/// The report's finding about one account's use of an image's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAccess {
    /// The image has no encrypted snapshot.
    NotNeeded,
    /// A grant for the account allows Decrypt on every key.
    Grant,
    /// The key policy allows the account Decrypt on every key (through a grant for some).
    KeyPolicy,
    /// At least one key gives the account no Decrypt.
    None,
    /// A snapshot uses the AWS-managed key, which other accounts can never use.
    AwsManaged,
    /// Listing grants or reading the policy was denied, so access could not be checked.
    Unknown,
}

impl KeyAccess {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NotNeeded => "not needed",
            Self::Grant => "grant",
            Self::KeyPolicy => "key policy",
            Self::None => "none",
            Self::AwsManaged => "AWS-managed key",
            Self::Unknown => "unknown",
        }
    }
}

/// Grants and policy of one key; `None` where reading them was denied.
#[derive(Debug, Clone)]
pub struct KeyFacts {
    pub grants: Option<Vec<GrantInfo>>,
    pub policy: Option<String>,
}

/// Combines the access of `account` over all keys: the weakest key decides.
pub fn key_access_for(
    account: &str,
    keys: &[ImageKey],
    facts: &HashMap<String, KeyFacts>,
) -> KeyAccess {
    if keys.is_empty() {
        return KeyAccess::NotNeeded;
    }
    if keys.iter().any(|k| k.aws_managed) {
        return KeyAccess::AwsManaged;
    }
    let mut combined = KeyAccess::Grant;
    for key in keys {
        let access = facts
            .get(&key.arn)
            .map_or(KeyAccess::Unknown, |f| access_to_key(account, f));
        combined = match (combined, access) {
            (_, KeyAccess::None) | (KeyAccess::None, _) => KeyAccess::None,
            (_, KeyAccess::Unknown) | (KeyAccess::Unknown, _) => KeyAccess::Unknown,
            (_, KeyAccess::KeyPolicy) | (KeyAccess::KeyPolicy, _) => KeyAccess::KeyPolicy,
            (current, _) => current,
        };
    }
    combined
}

fn access_to_key(account: &str, facts: &KeyFacts) -> KeyAccess {
    let by_grant = facts.grants.as_ref().map(|grants| {
        grants.iter().any(|grant| {
            principal_in_account(&grant.grantee_principal, account)
                && grant.operations.iter().any(|o| o == "Decrypt")
        })
    });
    if by_grant == Some(true) {
        return KeyAccess::Grant;
    }
    let by_policy = facts
        .policy
        .as_deref()
        .map(|policy| policy_allows_decrypt(policy, account));
    match (by_grant, by_policy) {
        (_, Some(true)) => KeyAccess::KeyPolicy,
        (Some(false), Some(false)) => KeyAccess::None,
        _ => KeyAccess::Unknown,
    }
}

/// True for the account ID itself and for ARNs of principals in that account.
fn principal_in_account(principal: &str, account: &str) -> bool {
    principal == account || principal.split(':').nth(4) == Some(account)
}

/// True when an `Allow` statement names the account (or any principal of it) and allows
/// `kms:Decrypt`. Conditions are not evaluated, so a conditional statement counts as access.
pub fn policy_allows_decrypt(policy: &str, account: &str) -> bool {
    let Ok(document) = serde_json::from_str::<serde_json::Value>(policy) else {
        return false;
    };
    let statements = match &document["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        single @ serde_json::Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|statement| {
        statement["Effect"] == "Allow"
            && strings(&statement["Principal"]["AWS"])
                .iter()
                .any(|p| principal_in_account(p, account))
            && strings(&statement["Action"])
                .iter()
                .any(|a| matches!(a.as_str(), "kms:Decrypt" | "kms:*" | "*"))
    })
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(text) => vec![text.clone()],
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_naming_account_root_allows_decrypt() {
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*"}]}"#;
        assert!(policy_allows_decrypt(policy, "123456789012"));
        assert!(!policy_allows_decrypt(policy, "123456789013"));
    }

    #[test]
    fn owner_only_policy_gives_partner_nothing() {
        let policy = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"kms:*","Resource":"*"}}"#;
        assert!(!policy_allows_decrypt(policy, "123456789012"));
        assert!(policy_allows_decrypt(policy, "210987654321"));
    }
}
