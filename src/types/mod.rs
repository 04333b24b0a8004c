//! Validated values built at the edge: once a string becomes one of these types, nothing
//! downstream checks it again.

mod account_id;
mod ami_name;
mod input_error;
mod kms_key;
mod region;
mod resource_id;
mod s3_location;
mod share_target;
mod tags;

pub use account_id::AccountId;
pub use ami_name::AmiName;
pub use input_error::InputError;
pub use kms_key::KmsKey;
pub use region::Region;
pub use resource_id::{ImageId, InstanceId, SnapshotId};
pub use s3_location::{BucketName, ObjectKey};
pub use share_target::ShareTarget;
pub use tags::Tags;
