//! sharing_report: who can launch, copy and decrypt each image, and where those disagree.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use rhai::{Array, Dynamic, Map};
use serde::Serialize;

use super::super::convert::{string_arg, to_dynamic, Options};
use super::super::registry::{register, Registrar};
use super::super::{HostContext, HostError};
use super::images::image_info;
use super::key_access::{image_keys, ImageKey};
use super::key_policy::{key_access_for, KeyAccess, KeyFacts};
use super::no_options;
use crate::aws::{AwsError, ImageInfo};
use crate::sandbox;
use crate::types::{AccountId, ImageId, InputError, Region, ShareTarget};

pub fn register(registrar: &mut Registrar, ctx: &Rc<HostContext>) {
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "sharing_report",
        &["image_ids: Dynamic", "Map"],
        move |images: Dynamic| {
            report_fn(&c, &images, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "sharing_report",
        &["image_ids: Dynamic", "options: Map", "Map"],
        move |images: Dynamic, options: Map| report_fn(&c, &images, &options)
            .map_err(HostError::into_rhai),
    );
}

/// An image to report on: its ID and, when given as `region:ami-...`, its region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    pub image_id: ImageId,
    pub region: Option<Region>,
}

impl ImageSpec {
    /// Parses `ami-...` or `region:ami-...`.
    pub fn parse(text: &str) -> Result<Self, InputError> {
        match text.split_once(':') {
            Some((region, id)) => Ok(Self {
                image_id: ImageId::parse(id)?,
                region: Some(Region::parse(region)?),
            }),
            None => Ok(Self {
                image_id: ImageId::parse(text)?,
                region: None,
            }),
        }
    }
}

/// A partner account as the report names it.
#[derive(Debug, Clone)]
pub struct KnownPartner {
    pub name: String,
    pub account: AccountId,
}

/// The report over several images.
#[derive(Debug, Clone, Serialize)]
pub struct SharingReport {
    pub images: Vec<ImageReport>,
    /// Every inconsistency found, across all images.
    pub issues: Vec<ReportIssue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    pub image_id: String,
    pub region: String,
    pub name: String,
    pub public: bool,
    /// Organization and OU ARNs with launch permission.
    pub organizations: Vec<String>,
    pub keys: Vec<KeyReport>,
    /// One row per account with launch or snapshot permission.
    pub accounts: Vec<AccountReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyReport {
    pub key: String,
    pub region: String,
    pub aws_managed: bool,
    pub snapshots: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountReport {
    pub account: String,
    /// The partner's name, when a partner list was given and names the account.
    pub partner: Option<String>,
    pub launch: bool,
    /// True when every snapshot of the image grants this account create-volume permission.
    pub snapshots: bool,
    pub snapshots_missing: Vec<String>,
    pub key_access: KeyAccess,
}

/// One inconsistency, with a short stable `kind` for scripts and a message for people.
#[derive(Debug, Clone, Serialize)]
pub struct ReportIssue {
    pub image_id: String,
    pub region: String,
    pub account: Option<String>,
    pub kind: &'static str,
    pub message: String,
}

fn report_fn(ctx: &HostContext, images: &Dynamic, options: &Map) -> Result<Dynamic, HostError> {
    let options = Options::new("sharing_report", options, &["partners", "region"])?;
    let region = options.region()?;
    let mut specs = Vec::new();
    let items: Array = match images.clone().into_array() {
        Ok(items) => items,
        Err(_) => vec![images.clone()],
    };
    for item in &items {
        let text = string_arg("sharing_report", "image_ids", item)?;
        if ctx.plan.borrow().find(&text).is_some() {
            tracing::info!(image = %text, "not reporting on an image that exists only in the plan");
            continue;
        }
        let mut spec = ImageSpec::parse(&text)?;
        spec.region = spec.region.or_else(|| region.clone());
        specs.push(spec);
    }
    let partners = options_partners(ctx, &options)?;
    to_dynamic(&sharing_report(ctx, &specs, partners.as_deref())?)
}

/// The `partners` option: a partner-script path (relative to the runbook's folder) or an
/// array of partner maps such as `load_partners` returns.
fn options_partners(
    ctx: &HostContext,
    options: &Options<'_>,
) -> Result<Option<Vec<KnownPartner>>, HostError> {
    if let Some(path) = options.string("partners").ok().flatten() {
        let full = ctx.base_dir.borrow().join(path);
        return Ok(Some(load_partner_script(&full)?));
    }
    let Some(value) = options.value("partners") else {
        return Ok(None);
    };
    let Some(items) = value.clone().try_cast::<Array>() else {
        return Err(InputError::new(
            "option",
            format!("partners ({})", value.type_name()),
            "`sharing_report` needs `partners` to be a partner-script path or an array of partner maps",
        )
        .into());
    };
    let mut partners = Vec::new();
    for item in items {
        let map = item.try_cast::<Map>().unwrap_or_default();
        let account = map
            .get("account")
            .and_then(|a| a.clone().into_string().ok())
            .unwrap_or_default();
        let name = map
            .get("name")
            .and_then(|n| n.clone().into_string().ok())
            .unwrap_or_else(|| account.clone());
        partners.push(KnownPartner {
            name,
            account: AccountId::parse(&account)?,
        });
    }
    Ok(Some(partners))
}

/// Loads a partner script in the sandbox and keeps each partner's name and account.
pub fn load_partner_script(path: &std::path::Path) -> Result<Vec<KnownPartner>, HostError> {
    let loaded =
        sandbox::load_partners(path).map_err(|error| HostError::Rejected(error.to_string()))?;
    Ok(loaded
        .partners
        .into_iter()
        .map(|p| KnownPartner {
            name: p.name,
            account: p.account,
        })
        .collect())
}

/// Reads launch permissions, snapshot permissions and key access of each image and lists
/// the inconsistencies. Makes no change.
pub fn sharing_report(
    ctx: &HostContext,
    images: &[ImageSpec],
    partners: Option<&[KnownPartner]>,
) -> Result<SharingReport, HostError> {
    let mut key_facts: HashMap<String, KeyFacts> = HashMap::new();
    let mut report = SharingReport {
        images: Vec::new(),
        issues: Vec::new(),
    };
    for spec in images {
        let region = ctx.region_or_default(spec.region.clone())?;
        let info = image_info(ctx, &spec.image_id, &region)?;
        let keys = image_keys(ctx, &info)?;
        for key in keys.iter().filter(|k| !k.aws_managed) {
            if !key_facts.contains_key(&key.arn) {
                key_facts.insert(key.arn.clone(), read_key_facts(ctx, key)?);
            }
        }
        let image = image_report(ctx, &info, &keys, &key_facts, partners)?;
        report
            .issues
            .extend(image_issues(&image, partners.is_some()));
        report.images.push(image);
    }
    Ok(report)
}

/// Grants and policy of one key. A read that is denied leaves that part unknown.
fn read_key_facts(ctx: &HostContext, key: &ImageKey) -> Result<KeyFacts, HostError> {
    let aws = ctx.aws()?;
    let grants = ctx.block_on(async { Ok(aws.list_grants(&key.region, &key.arn).await?) });
    let policy = ctx.block_on(async { Ok(aws.key_policy(&key.region, &key.arn).await?) });
    Ok(KeyFacts {
        grants: denied_as_none(grants)?,
        policy: denied_as_none(policy)?,
    })
}

fn denied_as_none<T>(result: Result<T, HostError>) -> Result<Option<T>, HostError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(HostError::Aws(AwsError {
            code: Some(code), ..
        })) if code == "AccessDeniedException" || code == "AccessDenied" => Ok(None),
        Err(error) => Err(error),
    }
}

fn image_report(
    ctx: &HostContext,
    info: &ImageInfo,
    keys: &[ImageKey],
    key_facts: &HashMap<String, KeyFacts>,
    partners: Option<&[KnownPartner]>,
) -> Result<ImageReport, HostError> {
    let aws = ctx.aws()?;
    let region = &info.region;
    let launch =
        ctx.block_on(async { Ok(aws.launch_permissions(region, &info.image_id).await?) })?;
    let mut snapshot_holders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for snapshot in &info.snapshots {
        let id = &snapshot.snapshot_id;
        let holders = ctx.block_on(async { Ok(aws.snapshot_permissions(region, id).await?) })?;
        snapshot_holders.insert(id.to_string(), holders);
    }

    let mut organizations = Vec::new();
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    for target in &launch.targets {
        match ShareTarget::parse(target) {
            Ok(ShareTarget::Account(id)) => {
                accounts.insert(id.to_string());
            }
            Ok(ShareTarget::Organization(arn) | ShareTarget::OrganizationalUnit(arn)) => {
                organizations.push(arn)
            }
            _ => {}
        }
    }
    for holders in snapshot_holders.values() {
        accounts.extend(
            holders
                .iter()
                .filter(|h| AccountId::parse(h).is_ok())
                .cloned(),
        );
    }

    let rows = accounts
        .iter()
        .map(|account| {
            let missing: Vec<String> = snapshot_holders
                .iter()
                .filter(|(_, holders)| !holders.contains(account))
                .map(|(id, _)| id.clone())
                .collect();
            AccountReport {
                account: account.clone(),
                partner: partners.and_then(|list| {
                    list.iter()
                        .find(|p| p.account.as_str() == account)
                        .map(|p| p.name.clone())
                }),
                launch: launch.targets.contains(account),
                snapshots: missing.is_empty(),
                snapshots_missing: missing,
                key_access: key_access_for(account, keys, key_facts),
            }
        })
        .collect();
    Ok(ImageReport {
        image_id: info.image_id.to_string(),
        region: region.to_string(),
        name: info.name.clone(),
        public: launch.targets.contains("all"),
        organizations,
        keys: keys
            .iter()
            .map(|k| KeyReport {
                key: k.arn.clone(),
                region: k.region.to_string(),
                aws_managed: k.aws_managed,
                snapshots: k.snapshots.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        accounts: rows,
    })
}

fn image_issues(image: &ImageReport, check_partners: bool) -> Vec<ReportIssue> {
    let issue = |account: Option<&str>, kind: &'static str, message: String| ReportIssue {
        image_id: image.image_id.clone(),
        region: image.region.clone(),
        account: account.map(str::to_owned),
        kind,
        message,
    };
    let mut issues = Vec::new();
    for row in &image.accounts {
        let account = Some(row.account.as_str());
        if row.launch && !row.snapshots {
            issues.push(issue(account, "snapshot-not-shared", format!(
                "launchable but snapshot {} not shared, so the partner cannot copy the image; share it again to add the snapshot permission",
                row.snapshots_missing.join(", ")
            )));
        }
        match &row.key_access {
            KeyAccess::None => issues.push(issue(account, "key-not-granted", format!(
                "shared, key not granted: the account has no grant or key-policy statement for {}, so its instances stop right after launch; \
                 share again to create the grant, or add the key-policy statement",
                image.keys.iter().filter(|k| !k.aws_managed).map(|k| k.key.as_str()).collect::<Vec<_>>().join(", ")
            ))),
            KeyAccess::AwsManaged => issues.push(issue(account, "aws-managed-key", 
                "shared, but the snapshots use the AWS-managed key, which no other account can use; share a copy under a customer-managed key".to_owned(),
            )),
            _ => {}
        }
        if check_partners && row.partner.is_none() {
            issues.push(issue(account, "not-a-partner", "shared with an account that is not in the partner list; unshare it if the partnership ended".to_owned()));
        }
    }
    for organization in &image.organizations {
        issues.push(issue(None, "organization-cannot-copy", format!(
            "{organization} can launch the image, but its members cannot copy it, because snapshot permissions take account IDs only"
        )));
    }
    issues
}
