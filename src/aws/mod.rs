//! The AWS side: one SDK configuration, per-region clients, and typed operations that the
//! Rhai host calls. Every call goes through [`Aws::call`], which writes the audit trail.

mod audit;
mod clients;
mod error;
mod grants;
mod images;
mod instances;
mod kms;
mod lifecycle;
mod public_access;
mod regions;
mod s3;
mod sharing;
mod ssm;

pub use audit::{AuditLog, AuditRun};
pub use clients::{Aws, AwsOptions};
pub use error::AwsError;
pub use grants::{
    account_principal, grant_name, partition_of, partner_policy_statement, GrantInfo, PartnerGrant,
    PARTNER_OPERATIONS,
};
pub use images::{CopyRequest, CreateRequest, ImageInfo, ImageState, SnapshotInfo};
pub use kms::KeyInfo;
pub use public_access::BlockPublicAccess;
pub use sharing::{Change, LaunchPermissions};
pub use ssm::CommandResult;
