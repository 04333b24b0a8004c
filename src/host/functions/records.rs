//! put_agreement, put_agreements and the small utilities that agreement records need.

use std::collections::HashMap;
use std::rc::Rc;

use rhai::{Array, Dynamic, Map};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::super::convert::{batch_item, in_item, Options};
use super::super::plan::PlannedChange;
use super::super::registry::{register, Registrar};
use super::super::steps::StepJob;
use super::super::{HostContext, HostError};
use super::no_options;
use crate::aws::Aws;
use crate::types::{BucketName, KmsKey, ObjectKey, Region};

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
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "put_agreements",
        &["bucket: &str", "entries: Array", "Array"],
        move |bucket: &str, entries: Array| {
            put_agreements(&c, bucket, entries, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "put_agreements",
        &["bucket: &str", "entries: Array", "options: Map", "Array"],
        move |bucket: &str, entries: Array, options: Map| put_agreements(
            &c, bucket, entries, &options
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

/// An agreement record that has passed its checks and is ready to write.
struct RecordJob {
    region: Region,
    bucket: BucketName,
    key: ObjectKey,
    body: Vec<u8>,
    kms_key: Option<KmsKey>,
    partner: String,
    uri: String,
}

/// Checks one record and turns it into JSON. In plan mode it records the write and returns
/// `None`.
fn check_record(
    ctx: &HostContext,
    bucket: &BucketName,
    key: &str,
    record: Map,
    options: &Options,
) -> Result<Option<RecordJob>, HostError> {
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
        // A record that names a planned image gets its real key and content only in the run.
        let placeholder = String::from_utf8_lossy(&body).contains("(new image ");
        let provisional = if placeholder {
            "; the record names an image known only after the run, so its key and content will differ"
        } else {
            ""
        };
        ctx.record_change(PlannedChange {
            operation: "put_agreement".into(),
            region: region.to_string(),
            resource: uri,
            targets: vec![],
            diff: vec![],
            detail: format!(
                "{} bytes of JSON, SSE-KMS{}{provisional}",
                body.len(),
                kms_key
                    .as_ref()
                    .map(|k| format!(" with {k}"))
                    .unwrap_or_default()
            ),
        });
        return Ok(None);
    }
    let partner = json
        .get("partner")
        .and_then(|p| p.get("account"))
        .and_then(|a| a.as_str())
        .unwrap_or("")
        .to_owned();
    Ok(Some(RecordJob {
        region,
        bucket: bucket.clone(),
        key,
        body,
        kms_key,
        partner,
        uri,
    }))
}

impl RecordJob {
    /// Returns the step's arguments: where the record goes and a digest of its content.
    fn arguments(&self) -> serde_json::Value {
        let digest = hex::encode(Sha256::digest(&self.body));
        json!({ "region": self.region, "bucket": self.bucket, "key": self.key, "body_sha256": digest })
    }

    async fn write(&self, aws: &Aws) -> Result<String, HostError> {
        let metadata = [
            ("agreement-type", "ami-sharing"),
            ("partner-account", self.partner.as_str()),
            ("created-by", "amirun"),
        ];
        aws.put_json(
            &self.region,
            &self.bucket,
            &self.key,
            self.body.clone(),
            self.kms_key.as_ref(),
            &metadata,
        )
        .await?;
        tracing::info!(uri = %self.uri, "wrote agreement record");
        Ok(self.uri.clone())
    }
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
    let Some(job) = check_record(ctx, &bucket, key, record, &options)? else {
        return Ok(format!("s3://{bucket}/{key}"));
    };
    let aws = ctx.aws()?;
    ctx.step("put_agreement", job.arguments(), |_| {
        ctx.block_on(job.write(&aws))
    })
}

/// Writes several agreement records at once and returns their URIs in order. Every entry
/// (`#{ key, record }`) is checked before the first write.
fn put_agreements(
    ctx: &HostContext,
    bucket: &str,
    entries: Array,
    options: &Map,
) -> Result<Array, HostError> {
    let options = Options::new("put_agreements", options, &["kms_key", "region"])?;
    let bucket = BucketName::parse(bucket)?;
    let mut uris = Array::with_capacity(entries.len());
    let mut first_of_key: HashMap<String, usize> = HashMap::new();
    let mut jobs = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let example = r#"#{ key: "agreements/partner.json", record: #{ ... } }"#;
        let mut entry = batch_item("put_agreements", index, entry, example)?;
        let key = entry.remove("key").filter(Dynamic::is_string);
        let record = entry.remove("record").and_then(|r| r.try_cast::<Map>());
        let (Some(key), Some(record)) = (key, record) else {
            return Err(HostError::Rejected(format!(
                "put_agreements: item {index} needs `key` (a string) and `record` (a map)"
            )));
        };
        if let Some(extra) = entry.keys().next() {
            return Err(HostError::Rejected(format!(
                "put_agreements: item {index} has unknown field `{extra}`; items contain only `key` and `record`"
            )));
        }
        let key = key.to_string();
        if let Some(first) = first_of_key.insert(key.clone(), index) {
            return Err(HostError::Rejected(format!(
                "put_agreements: items {first} and {index} both write `{key}`; the second would replace the first, so give each record its own key"
            )));
        }
        uris.push(format!("s3://{bucket}/{key}").into());
        let checked = check_record(ctx, &bucket, &key, record, &options)
            .map_err(|error| in_item("put_agreements", index, error))?;
        if let Some(job) = checked {
            jobs.push(StepJob {
                arguments: job.arguments(),
                lane: key,
                input: job,
            });
        }
    }
    if jobs.is_empty() {
        return Ok(uris);
    }
    let aws = ctx.aws()?;
    let aws = &aws;
    let written = ctx.steps("put_agreement", jobs, |job: RecordJob| async move {
        job.write(aws).await
    })?;
    Ok(written.into_iter().map(Dynamic::from).collect())
}

/// Checks each bucket once in the preflight, because a missing bucket would stop a run
/// after its images are shared.
fn check_bucket(ctx: &HostContext, region: &Region, bucket: &BucketName) -> Result<(), HostError> {
    let key = format!("bucket {bucket}");
    if !ctx.first_check(key.clone()) {
        return Ok(());
    }
    let aws = ctx.aws()?;
    let checked = match ctx.block_on(async { Ok(aws.head_bucket(region, bucket).await?) }) {
        Err(HostError::Aws(error)) if matches!(error.status, Some(403 | 404)) || error.is_not_found() => {
            Err(HostError::Rejected(format!(
                "S3 bucket `{bucket}` does not exist or this account may not use it ({}); create it, or name another bucket",
                error.script_code()
            )))
        }
        other => other,
    };
    if checked.is_err() {
        ctx.forget_check(&key);
    }
    checked
}
