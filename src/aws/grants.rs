//! KMS grants that let partner accounts use the customer-managed key of a shared image.

use aws_sdk_kms::types::GrantOperation;
use serde::Serialize;
use serde_json::json;

use super::{Aws, AwsError};
use crate::types::{AccountId, Region};

/// The KMS operations a partner account needs to launch a shared encrypted image and to
/// copy it (re-encrypting under a key of its own).
pub const PARTNER_OPERATIONS: [&str; 6] = [
    "Decrypt",
    "DescribeKey",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKeyWithoutPlaintext",
    "CreateGrant",
];

/// One grant on a key, as ListGrants returns it.
#[derive(Debug, Clone, Serialize)]
pub struct GrantInfo {
    pub grant_id: String,
    pub name: String,
    pub grantee_principal: String,
    pub operations: Vec<String>,
}

/// A grant that amirun looked for and either found or created.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct PartnerGrant {
    pub key: String,
    pub account: String,
    pub grant_name: String,
    pub grant_id: String,
    /// False when a grant of that name already existed.
    pub created: bool,
}

/// Returns the partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`), `aws` when it is not
/// an ARN.
pub fn partition_of(arn: &str) -> &str {
    arn.strip_prefix("arn:")
        .and_then(|rest| rest.split(':').next())
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

/// Returns the IAM principal that is a whole account.
pub fn account_principal(partition: &str, account: &AccountId) -> String {
    format!("arn:{partition}:iam::{account}:root")
}

/// Returns the grant name that ties a grant to one image and one partner account.
pub fn grant_name(image: &str, account: &AccountId) -> String {
    format!("amirun-{image}-{account}")
}

/// Builds the key-policy statement that gives `accounts` the [`PARTNER_OPERATIONS`], for a
/// key owner who does not let amirun create grants.
pub fn partner_policy_statement(key_arn: &str, accounts: &[AccountId]) -> serde_json::Value {
    let partition = partition_of(key_arn);
    let principals: Vec<String> = accounts
        .iter()
        .map(|account| account_principal(partition, account))
        .collect();
    let actions: Vec<String> = PARTNER_OPERATIONS
        .iter()
        .map(|operation| format!("kms:{operation}"))
        .collect();
    json!({
        "Sid": "AllowPartnersToUseSharedImages",
        "Effect": "Allow",
        "Principal": { "AWS": principals },
        "Action": actions,
        "Resource": "*",
    })
}

impl Aws {
    /// Lists every grant on `key`, following ListGrants pages.
    pub async fn list_grants(
        &self,
        region: &Region,
        key: &str,
    ) -> Result<Vec<GrantInfo>, AwsError> {
        let mut grants = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let call = self
                .kms(region)
                .list_grants()
                .key_id(key)
                .set_marker(marker.clone())
                .send();
            let output = self
                .call("ListGrants", region, json!({ "key_id": key }), call)
                .await?;
            grants.extend(output.grants().iter().map(|grant| {
                GrantInfo {
                    grant_id: grant.grant_id().unwrap_or_default().to_owned(),
                    name: grant.name().unwrap_or_default().to_owned(),
                    grantee_principal: grant.grantee_principal().unwrap_or_default().to_owned(),
                    operations: grant
                        .operations()
                        .iter()
                        .map(|o| o.as_str().to_owned())
                        .collect(),
                }
            }));
            match output.next_marker() {
                Some(next) if output.truncated() => marker = Some(next.to_owned()),
                _ => return Ok(grants),
            }
        }
    }

    /// Gives `account` the [`PARTNER_OPERATIONS`] on `key` through a grant named `name`,
    /// unless a grant of that name for that account exists already. The owner account is the
    /// retiring principal, so that `unshare` can retire the grant.
    pub async fn ensure_partner_grant(
        &self,
        region: &Region,
        key: &str,
        name: &str,
        account: &AccountId,
        owner: &AccountId,
    ) -> Result<PartnerGrant, AwsError> {
        let partition = partition_of(key);
        let grantee = account_principal(partition, account);
        let existing = self.list_grants(region, key).await?;
        let found = existing
            .iter()
            .find(|grant| grant.name == name && grant.grantee_principal == grantee);
        if let Some(grant) = found {
            return Ok(PartnerGrant {
                key: key.to_owned(),
                account: account.to_string(),
                grant_name: name.to_owned(),
                grant_id: grant.grant_id.clone(),
                created: false,
            });
        }

        let operations: Vec<GrantOperation> = PARTNER_OPERATIONS
            .iter()
            .map(|o| GrantOperation::from(*o))
            .collect();
        let call = self
            .kms(region)
            .create_grant()
            .key_id(key)
            .grantee_principal(&grantee)
            .retiring_principal(account_principal(partition, owner))
            .name(name)
            .set_operations(Some(operations))
            .send();
        let parameters = json!({
            "key_id": key, "grantee_principal": grantee, "name": name,
            "operations": PARTNER_OPERATIONS,
        });
        let output = self.call("CreateGrant", region, parameters, call).await?;
        Ok(PartnerGrant {
            key: key.to_owned(),
            account: account.to_string(),
            grant_name: name.to_owned(),
            grant_id: output.grant_id().unwrap_or_default().to_owned(),
            created: true,
        })
    }

    /// Retires every grant on `key` that `matches` selects. Returns the IDs of the retired
    /// grants, none when no grant matched.
    pub async fn retire_grants_where(
        &self,
        region: &Region,
        key: &str,
        matches: impl Fn(&GrantInfo) -> bool,
    ) -> Result<Vec<String>, AwsError> {
        let grants = self.list_grants(region, key).await?;
        let mut retired = Vec::new();
        for grant in grants.iter().filter(|grant| matches(grant)) {
            let call = self
                .kms(region)
                .retire_grant()
                .key_id(key)
                .grant_id(&grant.grant_id)
                .send();
            let parameters =
                json!({ "key_id": key, "grant_id": grant.grant_id, "name": grant.name });
            self.call("RetireGrant", region, parameters, call).await?;
            retired.push(grant.grant_id.clone());
        }
        Ok(retired)
    }

    /// Reads the key's `default` policy document, as JSON text.
    pub async fn key_policy(&self, region: &Region, key: &str) -> Result<String, AwsError> {
        let call = self
            .kms(region)
            .get_key_policy()
            .key_id(key)
            .policy_name("default")
            .send();
        let output = self
            .call("GetKeyPolicy", region, json!({ "key_id": key }), call)
            .await?;
        Ok(output.policy().unwrap_or_default().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_statement_names_accounts_and_actions() {
        let key = "arn:aws-cn:kms:cn-north-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let account = AccountId::parse("123456789012").unwrap();
        let statement = partner_policy_statement(key, &[account]);
        assert_eq!(
            statement["Principal"]["AWS"][0],
            "arn:aws-cn:iam::123456789012:root"
        );
        assert_eq!(statement["Action"][0], "kms:Decrypt");
        assert_eq!(statement["Action"].as_array().map(Vec::len), Some(6));
    }

    #[test]
    fn grant_name_ties_image_and_account() {
        let account = AccountId::parse("123456789012").unwrap();
        assert_eq!(
            grant_name("ami-0123456789abcdef0", &account),
            "amirun-ami-0123456789abcdef0-123456789012"
        );
    }
}
