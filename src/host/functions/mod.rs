//! The host functions that runbooks and the REPL call, with their documentation table.

mod images;
mod instances;
mod key_access;
mod key_policy;
mod lifecycle;
mod partners;
mod records;
mod reencrypt;
mod regions;
mod report;
mod share_checks;
mod share_plan;
mod sharing;
mod unshare;
mod wait;

use std::rc::Rc;

use rhai::{Map, Module};

use super::registry::{FnDoc, Registrar};
use super::HostContext;

pub use key_policy::KeyAccess;
pub use report::{
    load_partner_script, sharing_report, AccountReport, ImageReport, ImageSpec, KnownPartner,
    ReportIssue, SharingReport,
};
pub use wait::wait_for_images;

/// Every host function, in the order the reference lists them.
pub static FUNCTIONS: &[FnDoc] = &[
    FnDoc {
        name: "caller_account",
        group: "Identity",
        signature: "caller_account() -> String",
        doc: "Returns the 12-digit account ID of the credentials in use (STS GetCallerIdentity, asked once per session).",
    },
    FnDoc {
        name: "default_region",
        group: "Identity",
        signature: "default_region() -> String",
        doc: "Returns the region set by `--region`, `AWS_REGION` or the profile: where functions act when no `region` option is given.",
    },
    FnDoc {
        name: "prepare_instance",
        group: "Systems Manager",
        signature: "prepare_instance(instance_id: String, commands: Array[, options: Map]) -> Map",
        doc: "Runs shell commands on an instance through SSM SendCommand (AWS-RunShellScript) and waits for them.\n\
              Returns `#{status, stdout, stderr}`. A status other than `Success` is an error naming the instance, the status and stderr.\n\
              Options: `region`, `timeout` (seconds, default 600).",
    },
    FnDoc {
        name: "create_image",
        group: "EC2 images",
        signature: "create_image(instance_id: String, name: String[, options: Map]) -> String",
        doc: "Starts CreateImage from an instance and returns the new AMI ID without waiting.\n\
              The instance reboots for a consistent file system unless `no_reboot` is true. Tags (`tags`, a map) are applied at creation, \
              together with amirun's run tags. An image this run already made is found and returned instead of making a second one.\n\
              Options: `region`, `no_reboot`, `tags`, `description`.",
    },
    FnDoc {
        name: "copy_image",
        group: "EC2 images",
        signature: "copy_image(image_id: String, region: String[, options: Map]) -> String",
        doc: "Starts CopyImage into `region` and returns the new AMI ID at once; use `wait_available` to wait.\n\
              The client token derives from the source, region and name. A copy this run already made is found and returned.\n\
              Encrypted copies need `kms_key`, a customer-managed key: copies under the AWS-managed key cannot be shared.\n\
              Options: `name` (default: the source's name), `description`, `encrypted`, `kms_key`, `copy_tags`, `tags`, `source_region`.",
    },
    FnDoc {
        name: "copy_images",
        group: "EC2 images",
        signature: "copy_images(image_id: String, requests: Array) -> Array",
        doc: "Starts several copies of one image and returns their AMI IDs in the order of `requests`.\n\
              Each request is a map of `copy_image` options plus its `region`. Every request is checked before the first copy starts. \
              Copies into different regions start concurrently, copies into one region one after another within the copy cap. \
              Copies this run already made are found and returned.",
    },
    FnDoc {
        name: "wait_available",
        group: "EC2 images",
        signature: "wait_available(image_or_images: String|Array[, options: Map]) -> Map",
        doc: "Waits until every given image, in any regions, is `available`, polling each region once per round for all its images.\n\
              Fails at once when an image turns `failed`, with its state reason. Gives up after `timeout` seconds (default 7200), naming the images still pending.\n\
              Returns a map from image ID to state. Options: `timeout`, `region`.",
    },
    FnDoc {
        name: "describe_image",
        group: "EC2 images",
        signature: "describe_image(image_id: String[, options: Map]) -> Map",
        doc: "Returns name, state, region, owner, creation date, architecture, tags and EBS snapshots (with encryption flag and KMS key) of an image.\n\
              Options: `region`.",
    },
    FnDoc {
        name: "share",
        group: "Sharing",
        signature: "share(image_id: String, targets: Array[, options: Map]) -> Map",
        doc: "Shares an image with accounts (12-digit strings), organization ARNs or OU ARNs.\n\
              For snapshots under a customer-managed key, each account first gets a KMS grant `amirun-<image>-<account>` \
              (Decrypt, DescribeKey, ReEncryptFrom, ReEncryptTo, GenerateDataKeyWithoutPlaintext, CreateGrant) unless it has one; \
              when the grant is denied, the error prints the key-policy statement the key owner can add instead. \
              Then each EBS snapshot gets create-volume permission for the same accounts, so partners can copy the image, \
              and all launch permissions are added in one ModifyImageAttribute call. \
              Organizations and OUs get launch permission only, because snapshot permissions take account IDs; the result's `warnings` say so.\n\
              Rejected before any change: the owner account; \"all\" without `--allow-public`, or while the account's AMI block public access is on, \
              or for an encrypted image; snapshots under the AWS-managed key, unless `reencrypt_key` names a customer-managed key in the image's region, \
              in which case the image is copied under that key and the copy is shared (`reencrypted_from` names the original).\n\
              Returns `#{image_id, region, added, already_shared, snapshots, grants, warnings}`. Options: `region`, `reencrypt_key`.",
    },
    FnDoc {
        name: "share_images",
        group: "Sharing",
        signature: "share_images(requests: Array) -> Array",
        doc: "Shares several images at once, as `share` does each, and returns their results in order.\n\
              Each request is `#{image_id, targets}` plus the options of `share` (`region`, `reencrypt_key`). \
              Every request is checked before the first change; the images are then shared concurrently.",
    },
    FnDoc {
        name: "unshare",
        group: "Sharing",
        signature: "unshare(image_id: String, targets: Array[, options: Map]) -> Map",
        doc: "Takes back what `share` gave: launch permissions of the targets (one ModifyImageAttribute call), \
              create-volume permissions of their accounts (one ModifySnapshotAttribute call per snapshot), \
              and the KMS grants amirun made for those accounts.\n\
              Only permissions that exist are removed, so a second call changes nothing and succeeds.\n\
              Returns `#{image_id, region, removed, not_shared, snapshots, grants_retired}`. Options: `region`.",
    },
    FnDoc {
        name: "sharing_report",
        group: "Sharing",
        signature: "sharing_report(image_ids: String|Array[, options: Map]) -> Map",
        doc: "Reports, per image, region and account, launch permission, snapshot permission and key access (grant, key policy, none), \
              and lists inconsistencies in `issues`: shared but key not granted; launchable but a snapshot not shared, so the partner cannot copy; \
              shared with an account that is not in the partner list; organizations whose members cannot copy. Makes no change.\n\
              Images are `ami-...` or `region:ami-...`. Options: `region`, `partners` (a partner-script path or the array `load_partners` returns).",
    },
    FnDoc {
        name: "launch_permissions",
        group: "Sharing",
        signature: "launch_permissions(image_id: String[, options: Map]) -> Array",
        doc: "Returns who can launch the image now: account IDs, organization and OU ARNs, or \"all\".\nOptions: `region`.",
    },
    FnDoc {
        name: "deprecate",
        group: "Lifecycle",
        signature: "deprecate(image_id: String, time: String[, options: Map]) -> Map",
        doc: "Sets the time at which an image becomes deprecated (EnableImageDeprecation): an RFC 3339 UTC time or a date (midnight UTC), in the future.\n\
              Returns `#{image_id, region, deprecate_at}`. Options: `region`.",
    },
    FnDoc {
        name: "retire",
        group: "Lifecycle",
        signature: "retire(name_prefix: String, keep: Int[, options: Map]) -> Map",
        doc: "Deregisters this account's images whose names start with `name_prefix`, except the newest `keep` (by creation date, then name), \
              and deletes their snapshots. `keep` is at least 1.\n\
              An image still shared with anyone (launch or snapshot permission) is rejected before any change, unless `force` is true: \
              then its permissions and amirun's key grants are removed first.\n\
              Returns `#{region, kept, retired}`. Options: `region`, `force`.",
    },
    FnDoc {
        name: "put_agreement",
        group: "Records",
        signature: "put_agreement(bucket: String, key: String, record: Map[, options: Map]) -> String",
        doc: "Writes `record` as JSON to S3 with SSE-KMS and returns its `s3://` URI.\n\
              The key is `kms_key` if given, else the AWS-managed S3 key. Options: `kms_key`, `region`.",
    },
    FnDoc {
        name: "put_agreements",
        group: "Records",
        signature: "put_agreements(bucket: String, entries: Array[, options: Map]) -> Array",
        doc: "Writes several records as `put_agreement` does, at once, and returns their `s3://` URIs in order.\n\
              Each entry is `#{key, record}`; every entry is checked before the first write. Options (for all entries): `kms_key`, `region`.",
    },
    FnDoc {
        name: "load_partners",
        group: "Records",
        signature: "load_partners(path: String) -> Array",
        doc: "Evaluates a partner mapping script (path relative to the runbook's folder) in a sandbox without AWS functions, \
              checks each entry and returns an array of `#{name, account, region[, kms_key]}` maps.",
    },
    FnDoc {
        name: "sha256",
        group: "Utilities",
        signature: "sha256(text: String) -> String",
        doc: "Returns the SHA-256 digest of `text` as lowercase hexadecimal.",
    },
    FnDoc {
        name: "to_json",
        group: "Utilities",
        signature: "to_json(value: Dynamic) -> String",
        doc: "Returns `value` as compact JSON with map keys in sorted order, so equal values give equal text.",
    },
    FnDoc {
        name: "utc_date",
        group: "Utilities",
        signature: "utc_date() -> String",
        doc: "Returns the date the run started, in UTC, as `YYYY.MM.DD`. A resumed run keeps its first date.",
    },
];

/// Builds the module of host functions bound to `ctx`.
pub fn host_module(ctx: &Rc<HostContext>) -> Module {
    let mut module = Module::new();
    let mut registrar = Registrar::new(&mut module, FUNCTIONS);
    images::register(&mut registrar, ctx);
    instances::register(&mut registrar, ctx);
    sharing::register(&mut registrar, ctx);
    unshare::register(&mut registrar, ctx);
    report::register(&mut registrar, ctx);
    lifecycle::register(&mut registrar, ctx);
    records::register(&mut registrar, ctx);
    partners::register(&mut registrar, ctx);
    wait::register(&mut registrar, ctx);
    module
}

fn no_options() -> Map {
    Map::new()
}
