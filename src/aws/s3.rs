//! Writing agreement records to S3.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use serde_json::json;

use super::{Aws, AwsError};
use crate::types::{BucketName, KmsKey, ObjectKey, Region};

impl Aws {
    /// Checks that the bucket exists and this account may use it (HeadBucket).
    pub async fn head_bucket(&self, region: &Region, bucket: &BucketName) -> Result<(), AwsError> {
        let call = self.s3(region).head_bucket().bucket(bucket.as_str()).send();
        self.call("HeadBucket", region, json!({ "bucket": bucket }), call)
            .await?;
        Ok(())
    }

    /// Writes `body` as JSON with SSE-KMS, under `kms_key` or else the AWS-managed S3 key.
    pub async fn put_json(
        &self,
        region: &Region,
        bucket: &BucketName,
        key: &ObjectKey,
        body: Vec<u8>,
        kms_key: Option<&KmsKey>,
        metadata: &[(&str, &str)],
    ) -> Result<(), AwsError> {
        let mut call = self
            .s3(region)
            .put_object()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .content_type("application/json")
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .set_ssekms_key_id(kms_key.map(|k| k.as_str().to_owned()))
            .body(ByteStream::from(body));
        for (name, value) in metadata {
            call = call.metadata(*name, *value);
        }
        let parameters =
            json!({ "bucket": bucket, "key": key, "sse": "aws:kms", "kms_key_id": kms_key });
        self.call("PutObject", region, parameters, call.send())
            .await?;
        Ok(())
    }
}
