//! put_agreement and the small utilities that agreement records need.

use std::rc::Rc;

use rhai::{Dynamic, Map};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::super::convert::Options;
use super::super::plan::PlannedChange;
use super::super::registry::{register, Registrar};
use super::super::{HostContext, HostError};
use super::no_options;
use crate::types::{BucketName, ObjectKey};

pub fn register(registrar: &mut Registrar, ctx: &Rc<HostContext>) {
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "put_agreement",
        &["bucket: &str", "key: &str", "record: Map", "String"],
        move |bucket: &str, key: &str, record: Map| {
            put_agreement(&c, bucket, key, record, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "put_agreement",
        &[
            "bucket: &str",
            "key: &str",
            "record: Map",
            "options: Map",
            "String"
        ],
        move |bucket: &str, key: &str, record: Map, options: Map| put_agreement(
            &c, bucket, key, record, &options
        )
        .map_err(HostError::into_rhai),
    );
    register!(
        registrar,
        "sha256",
        &["text: &str", "String"],
        |text: &str| hex::encode(Sha256::digest(text.as_bytes()))
    );
    register!(
        registrar,
        "to_json",
        &["value: Dynamic", "String"],
        |value: Dynamic| -> Result<String, Box<rhai::EvalAltResult>> {
            Ok(canonical_json(&value)?)
        }
    );
    let c = Rc::clone(ctx);
    register!(registrar, "utc_date", &["String"], move || {
        match c.run.borrow().as_ref() {
            Some(run) => run.started[..10].replace('-', "."),
            None => crate::clock::today_label(),
        }
    });
}

/// JSON with sorted map keys. Rhai maps are ordered by key, so serialization is canonical.
pub fn canonical_json(value: &Dynamic) -> Result<String, HostError> {
    let json: serde_json::Value = rhai::serde::from_dynamic(value).map_err(|error| {
        HostError::failed(
            "ConversionError",
            format!("value cannot be written as JSON: {error}"),
        )
    })?;
    Ok(json.to_string())
}

fn put_agreement(
    ctx: &HostContext,
    bucket: &str,
    key: &str,
    record: Map,
    options: &Map,
) -> Result<String, HostError> {
    let options = Options::new("put_agreement", options, &["kms_key", "region"])?;
    let bucket = BucketName::parse(bucket)?;
    let key = ObjectKey::parse(key)?;
    let kms_key = options.kms_key("kms_key")?;
    let region = ctx.region_or_default(options.region()?)?;
    let json: serde_json::Value =
        rhai::serde::from_dynamic(&Dynamic::from_map(record)).map_err(|error| {
            HostError::failed(
                "ConversionError",
                format!("the agreement record cannot be written as JSON: {error}"),
            )
        })?;
    let mut body = serde_json::to_vec_pretty(&json).unwrap_or_default();
    body.push(b'\n');
    let uri = format!("s3://{bucket}/{}", key.as_str());

    if ctx.is_plan() {
        let (check_region, check_name) = (region.clone(), bucket.clone());
        ctx.defer(move |ctx| check_bucket(ctx, &check_region, &check_name));
        ctx.record_change(PlannedChange {
            operation: "put_agreement".into(),
            region: region.to_string(),
            resource: uri.clone(),
            targets: vec![],
            diff: vec![],
            detail: format!(
                "{} bytes of JSON, SSE-KMS{}",
                body.len(),
                kms_key
                    .as_ref()
                    .map(|k| format!(" with {k}"))
                    .unwrap_or_default()
            ),
        });
        return Ok(uri);
    }

    let digest = hex::encode(Sha256::digest(&body));
    let arguments =
        json!({ "region": region, "bucket": bucket, "key": key, "body_sha256": digest });
    let partner = json
        .get("partner")
        .and_then(|p| p.get("account"))
        .and_then(|a| a.as_str())
        .unwrap_or("")
        .to_owned();
    ctx.step("put_agreement", arguments, |_| {
        let aws = ctx.aws()?;
        let metadata = [
            ("agreement-type", "ami-sharing"),
            ("partner-account", partner.as_str()),
            ("created-by", "amirun"),
        ];
        ctx.block_on(async {
            Ok(aws
                .put_json(
                    &region,
                    &bucket,
                    &key,
                    body.clone(),
                    kms_key.as_ref(),
                    &metadata,
                )
                .await?)
        })?;
        tracing::info!(%uri, "wrote agreement record");
        Ok(uri.clone())
    })
}

/// Checks each bucket once in the preflight, because a missing bucket would stop a run
/// after its images are shared.
fn check_bucket(
    ctx: &HostContext,
    region: &crate::types::Region,
    bucket: &BucketName,
) -> Result<(), HostError> {
    if !ctx.first_check(format!("bucket {bucket}")) {
        return Ok(());
    }
    let aws = ctx.aws()?;
    match ctx.block_on(async { Ok(aws.head_bucket(region, bucket).await?) }) {
        Err(HostError::Aws(error)) if matches!(error.status, Some(403 | 404)) || error.is_not_found() => {
            Err(HostError::Rejected(format!(
                "S3 bucket `{bucket}` does not exist or this account may not use it ({}); create it, or name another bucket",
                error.script_code()
            )))
        }
        other => other,
    }
}
