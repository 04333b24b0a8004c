//! create_image, copy_image, copy_images and describe_image.

use std::rc::Rc;
use std::time::Duration;

use rhai::{Array, Dynamic, Map};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::super::convert::{
    ami_name, batch_item, image_ref, in_item, instance_id, real_image, to_dynamic, Options,
};
use super::super::plan::{ImageRef, PlannedChange};
use super::super::registry::{register, Registrar};
use super::super::steps::StepJob;
use super::super::throttle::retry_throttled;
use super::super::{HostContext, HostError};
use super::instances::check_instance_exists;
use super::no_options;
use super::regions::check_region_enabled;
use crate::aws::{Aws, CopyRequest, CreateRequest, ImageInfo, ImageState};
use crate::types::{AmiName, ImageId, InstanceId, KmsKey, Region, Tags};

pub fn register(registrar: &mut Registrar, ctx: &Rc<HostContext>) {
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "create_image",
        &["instance_id: &str", "name: &str", "String"],
        move |instance: &str, name: &str| {
            create_image(&c, instance, name, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "create_image",
        &["instance_id: &str", "name: &str", "options: Map", "String"],
        move |instance: &str, name: &str, options: Map| create_image(&c, instance, name, &options)
            .map_err(HostError::into_rhai),
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "copy_image",
        &["image_id: &str", "region: &str", "String"],
        move |image: &str, region: &str| {
            copy_image(&c, image, region, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "copy_image",
        &["image_id: &str", "region: &str", "options: Map", "String"],
        move |image: &str, region: &str, options: Map| copy_image(&c, image, region, &options)
            .map_err(HostError::into_rhai),
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "copy_images",
        &["image_id: &str", "requests: Array", "Array"],
        move |image: &str, requests: Array| {
            copy_images(&c, image, requests).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "describe_image",
        &["image_id: &str", "Map"],
        move |image: &str| {
            describe_image(&c, image, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "describe_image",
        &["image_id: &str", "options: Map", "Map"],
        move |image: &str, options: Map| {
            describe_image(&c, image, &options).map_err(HostError::into_rhai)
        }
    );
}

/// amirun's own tags on everything it creates: which runbook version, which run, which step.
fn run_tags(ctx: &HostContext, user_tags: Tags, step: &str) -> Result<Tags, HostError> {
    let mut tags = user_tags;
    if let Some(run) = ctx.run.borrow().as_ref() {
        tags.insert(
            "amirun:runbook",
            &format!("{}@{}", run.runbook, run.version),
        )?;
        tags.insert("amirun:run-id", &run.run_id)?;
    }
    tags.insert("amirun:step", step)?;
    Ok(tags)
}

fn create_image(
    ctx: &HostContext,
    instance: &str,
    name: &str,
    options: &Map,
) -> Result<String, HostError> {
    let options = Options::new(
        "create_image",
        options,
        &["region", "no_reboot", "tags", "description"],
    )?;
    let instance = instance_id(instance)?;
    let name = ami_name(name)?;
    let no_reboot = options.bool("no_reboot")?.unwrap_or(false);
    let description = options.string("description")?;
    let user_tags = options.tags()?;
    let region = ctx.region_or_default(options.region()?)?;

    let arguments = json!({ "region": region, "instance_id": instance, "name": name });
    let step = ctx.step_tag("create_image", &arguments);
    let tags = run_tags(ctx, user_tags, &step)?;

    if ctx.is_plan() {
        // A same-named image from another source would stop the real run after its first
        // changes, so the preflight looks for one once the script has run through.
        let (check_region, check_instance) = (region.clone(), instance.clone());
        ctx.defer(move |ctx| check_instance_exists(ctx, &check_region, &check_instance));
        let check = (region.clone(), step.clone(), name.clone(), instance.clone());
        ctx.defer(move |ctx| {
            let (region, step, name, instance) = check;
            let aws = ctx.aws()?;
            let origin = Origin::Instance(&instance);
            ctx.block_on(find_made(&aws, &region, &step, &name, origin))
                .map(|_| ())
        });
        let planned = ctx.plan.borrow_mut().new_image(&region, name.as_str());
        ctx.record_change(PlannedChange {
            operation: "create_image".into(),
            region: region.to_string(),
            resource: planned.label.clone(),
            targets: vec![],
            diff: vec![],
            detail: format!(
                "from {instance}, name \"{name}\"{}",
                if no_reboot {
                    ", no reboot"
                } else {
                    ", with reboot"
                }
            ),
        });
        return Ok(planned.label);
    }

    let aws = ctx.aws()?;
    let id: ImageId = ctx.step("create_image", arguments, |_| {
        ctx.block_on(async {
            let origin = Origin::Instance(&instance);
            if let Some(found) = find_made(&aws, &region, &step, &name, origin).await? {
                return Ok(found);
            }
            let request = CreateRequest {
                region: &region,
                instance: &instance,
                name: &name,
                description: description.as_deref(),
                no_reboot,
                tags: &tags,
            };
            let (aws, request) = (&aws, &request);
            let result =
                retry_throttled(|| async move { Ok(aws.create_image(request).await?) }).await;
            recover_lost_reply(aws, result, &region, &step, &name, origin).await
        })
    })?;
    ctx.remember_image(&id, &region, true);
    tracing::info!(image = %id, %region, %name, "image creation started");
    Ok(id.to_string())
}

/// The source of the image a step makes: an instance, or an image to copy.
#[derive(Clone, Copy)]
enum Origin<'a> {
    Instance(&'a InstanceId),
    Image(&'a ImageId),
}

/// Decides whether an existing image of the same name is the one this step makes (adopt it)
/// or belongs to something else (a name conflict). An image is ours when it carries this
/// step's tag, or when EC2 reports the same source. Copies whose source EC2 does not report
/// (older copies, and the local emulator) count as ours unless another step's tag names them.
fn judge(image: &ImageInfo, step: &str, origin: Origin<'_>) -> Result<(), String> {
    let tagged_step = image.tags.get("amirun:step").map(String::as_str);
    if tagged_step == Some(step) {
        return Ok(());
    }
    match origin {
        Origin::Instance(instance) => match image.source_instance.as_deref() {
            Some(source) if source == instance.as_str() => Ok(()),
            Some(source) => Err(format!("made from instance {source}")),
            None => Err("made from an unknown source".to_owned()),
        },
        Origin::Image(source) => match (
            image.source_image.as_deref(),
            image.source_instance.as_deref(),
        ) {
            (Some(copied), _) if copied == source.as_str() => Ok(()),
            (Some(copied), _) => Err(format!("copied from {copied}")),
            (None, Some(instance)) => Err(format!("made from instance {instance}, not copied")),
            (None, None) if tagged_step.is_none() => {
                tracing::warn!(image = %image.image_id, "EC2 does not report the source of this copy; adopting it by its name");
                Ok(())
            }
            (None, None) => Err("made by another amirun step".to_owned()),
        },
    }
}

/// Looks for an image this step already made: one with its name, preferring one that
/// carries its step tag. A same-named image from another source is an error, as AMI names
/// are unique per region.
async fn find_made(
    aws: &Aws,
    region: &Region,
    step: &str,
    name: &AmiName,
    origin: Origin<'_>,
) -> Result<Option<ImageId>, HostError> {
    let found = aws.find_by_name(region, name).await?;
    let tagged = found
        .iter()
        .rev()
        .find(|image| image.tags.get("amirun:step").map(String::as_str) == Some(step));
    let Some(image) = tagged.or(found.last()) else {
        return Ok(None);
    };
    if let Err(why) = judge(image, step, origin) {
        return Err(HostError::Rejected(format!(
            "an image named \"{name}\" already exists in {region} ({}, {why}); AMI names are unique \
             per region, so pass another name or version",
            image.image_id
        )));
    }
    if found.len() > 1 {
        tracing::warn!(%region, %name, count = found.len(), "several images match; adopting the newest");
    }
    tracing::info!(image = %image.image_id, %region, %name, "found the image an earlier attempt made; adopting it");
    Ok(Some(image.image_id.clone()))
}

/// When a create or copy reply was lost, or AWS reports the name as taken, the image may
/// exist: find it (briefly retrying, since it may not be listed at once) before failing.
async fn recover_lost_reply(
    aws: &Aws,
    result: Result<ImageId, HostError>,
    region: &Region,
    step: &str,
    name: &AmiName,
    origin: Origin<'_>,
) -> Result<ImageId, HostError> {
    let error = match result {
        Ok(id) => return Ok(id),
        Err(HostError::Aws(error))
            if error.reply_lost || error.code() == "InvalidAMIName.Duplicate" =>
        {
            error
        }
        Err(other) => return Err(other),
    };
    tracing::warn!(%error, "the reply was lost or the name is taken; looking for the image");
    for attempt in 0..5u32 {
        if let Some(found) = find_made(aws, region, step, name, origin).await? {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt + 1))).await;
    }
    Err(HostError::Aws(error))
}

/// A copy that has passed every check and is ready to start.
struct CopyJob {
    source: ImageId,
    source_region: Region,
    region: Region,
    name: AmiName,
    description: Option<String>,
    encrypted: bool,
    kms_key: Option<KmsKey>,
    copy_tags: bool,
    tags: Tags,
    step: String,
    arguments: serde_json::Value,
}

/// A checked copy request: recorded in a plan, or ready to start.
enum CheckedCopy {
    Planned {
        label: String,
        region: Region,
        name: AmiName,
    },
    Ready(CopyJob),
}

impl CheckedCopy {
    /// Returns where the copy goes and its name, which together must be unique.
    fn destination(&self) -> (&Region, &AmiName) {
        match self {
            CheckedCopy::Planned { region, name, .. } => (region, name),
            CheckedCopy::Ready(job) => (&job.region, &job.name),
        }
    }
}

pub(super) fn copy_image(
    ctx: &HostContext,
    image: &str,
    region: &str,
    options: &Map,
) -> Result<String, HostError> {
    let job = match check_copy(ctx, "copy_image", image, region, options)? {
        CheckedCopy::Planned { label, .. } => return Ok(label),
        CheckedCopy::Ready(job) => job,
    };
    let aws = ctx.aws()?;
    let arguments = job.arguments.clone();
    let id: ImageId = ctx.step("copy_image", arguments, |_| {
        ctx.block_on(start_copy(ctx, &aws, &job))
    })?;
    copy_begun(ctx, &job, &id);
    Ok(id.to_string())
}

/// Starts several copies of one image at once: copies into different regions start
/// concurrently, copies into one region one after another. Every request is checked before
/// the first copy starts. Each request is an options map of `copy_image` with its `region`.
fn copy_images(ctx: &HostContext, image: &str, requests: Array) -> Result<Array, HostError> {
    let mut checked = Vec::with_capacity(requests.len());
    for (index, request) in requests.into_iter().enumerate() {
        let example = r#"#{ region: "ap-southeast-1" }"#;
        let mut options = batch_item("copy_images", index, request, example)?;
        let region = match options.remove("region") {
            Some(region) if region.is_string() => region.to_string(),
            _ => {
                return Err(HostError::Rejected(format!(
                    "copy_images: item {index} has no `region` string; add the destination region, such as region: \"ap-southeast-1\""
                )))
            }
        };
        let copy = check_copy(ctx, "copy_images", image, &region, &options)
            .map_err(|error| in_item("copy_images", index, error))?;
        if let Some(first) = checked
            .iter()
            .position(|other: &CheckedCopy| other.destination() == copy.destination())
        {
            let (region, name) = copy.destination();
            return Err(HostError::Rejected(format!(
                "copy_images: items {first} and {index} both copy into {region} as \"{name}\"; AMI names are unique per region, so give each copy its own name"
            )));
        }
        checked.push(copy);
    }

    let mut jobs = Vec::new();
    for copy in &checked {
        if let CheckedCopy::Ready(job) = copy {
            jobs.push(StepJob {
                arguments: job.arguments.clone(),
                lane: job.region.to_string(),
                input: job,
            });
        }
    }
    let ids: Vec<ImageId> = if jobs.is_empty() {
        Vec::new()
    } else {
        let aws = ctx.aws()?;
        let aws = &aws;
        // Copies that the journal records as started may still be running: they count
        // against the cap before any new copy waits for a slot.
        let recorded = |job: &&CopyJob, id: &ImageId| ctx.copy_started(&job.region, id);
        ctx.steps_replaying("copy_image", jobs, recorded, |job| {
            start_copy(ctx, aws, job)
        })?
    };

    let mut ids = ids.into_iter();
    let mut out = Array::with_capacity(checked.len());
    for copy in &checked {
        match copy {
            CheckedCopy::Planned { label, .. } => out.push(label.clone().into()),
            CheckedCopy::Ready(job) => {
                let id = ids.next().ok_or_else(|| {
                    HostError::failed("InternalError", "a copy returned no image ID")
                })?;
                copy_begun(ctx, job, &id);
                out.push(id.to_string().into());
            }
        }
    }
    Ok(out)
}

/// Checks one copy request before anything changes. In plan mode it records the copy and
/// returns its placeholder.
fn check_copy(
    ctx: &HostContext,
    function: &'static str,
    image: &str,
    region: &str,
    options: &Map,
) -> Result<CheckedCopy, HostError> {
    let known = [
        "name",
        "description",
        "encrypted",
        "kms_key",
        "copy_tags",
        "tags",
        "source_region",
    ];
    let options = Options::new(function, options, &known)?;
    let source = image_ref(ctx, image)?;
    let region = Region::parse(region)?;
    let kms_key = options.kms_key("kms_key")?;
    let encrypted = options.bool("encrypted")?.unwrap_or(kms_key.is_some());
    let copy_tags = options.bool("copy_tags")?.unwrap_or(false);
    let description = options.string("description")?;
    let user_tags = options.tags()?;
    let source_region = match options.string("source_region")? {
        Some(text) => Region::parse(&text)?,
        None => ctx.image_region(&source, None)?,
    };
    if let Some(key) = kms_key.as_ref().filter(|key| key.is_aws_managed_alias()) {
        return Err(HostError::Rejected(format!(
            "copy_image of {} into {region} with kms_key `{key}` rejected: that alias names an AWS-managed key, \
             which AWS does not let you share with other accounts; pass a customer-managed key",
            source.label()
        )));
    }
    check_copy_route(&source_region, &region, kms_key.as_ref())?;
    if encrypted && kms_key.is_none() {
        return Err(HostError::Rejected(format!(
            "copy_image of {} into {region} asks for encryption without `kms_key`: the copy would use the AWS-managed EBS key, \
             which AWS does not let you share with other accounts; pass a customer-managed key as options.kms_key",
            source.label()
        )));
    }
    let name = match options.string("name")? {
        Some(name) => ami_name(&name)?,
        None => ami_name(&source_name(ctx, &source, &source_region)?)?,
    };

    let arguments = json!({ "source": source.label(), "source_region": source_region, "region": region, "name": name });
    let step = ctx.step_tag("copy_image", &arguments);
    let tags = run_tags(ctx, user_tags, &step)?;

    if ctx.is_plan() {
        // The region first: the name check reads images in that region.
        let destination = region.clone();
        ctx.defer(move |ctx| check_region_enabled(ctx, &destination));
        if let ImageRef::Real(source_id) = &source {
            let check = (
                region.clone(),
                step.clone(),
                name.clone(),
                source_id.clone(),
            );
            ctx.defer(move |ctx| {
                let (region, step, name, source_id) = check;
                let aws = ctx.aws()?;
                let origin = Origin::Image(&source_id);
                ctx.block_on(find_made(&aws, &region, &step, &name, origin))
                    .map(|_| ())
            });
        }
        let planned = ctx.plan.borrow_mut().new_image(&region, name.as_str());
        let encryption = match &kms_key {
            Some(key) => format!(", encrypted with {key}"),
            None => String::new(),
        };
        ctx.record_change(PlannedChange {
            operation: "copy_image".into(),
            region: region.to_string(),
            resource: planned.label.clone(),
            targets: vec![],
            diff: vec![],
            detail: format!(
                "copy of {} from {source_region}, name \"{name}\"{encryption}",
                source.label()
            ),
        });
        return Ok(CheckedCopy::Planned {
            label: planned.label,
            region,
            name,
        });
    }

    // A run checked this in its preflight; the REPL and `eval` check it here.
    check_region_enabled(ctx, &region)?;
    Ok(CheckedCopy::Ready(CopyJob {
        source: real_image(&source)?.clone(),
        source_region,
        region,
        name,
        description,
        encrypted,
        kms_key,
        copy_tags,
        tags,
        step,
        arguments,
    }))
}

/// Adopts the copy an earlier attempt made, or starts it once a copy slot in its region is
/// free.
async fn start_copy(ctx: &HostContext, aws: &Aws, job: &CopyJob) -> Result<ImageId, HostError> {
    let origin = Origin::Image(&job.source);
    if let Some(found) = find_made(aws, &job.region, &job.step, &job.name, origin).await? {
        // An earlier attempt's copy may still be running, so it takes a slot too.
        ctx.copy_started(&job.region, &found);
        return Ok(found);
    }
    let token = client_token(&job.source, &job.region, &job.name);
    let request = CopyRequest {
        source: &job.source,
        source_region: &job.source_region,
        region: &job.region,
        name: &job.name,
        description: job.description.as_deref(),
        encrypted: job.encrypted,
        kms_key: job.kms_key.as_ref(),
        copy_tags: job.copy_tags,
        tags: &job.tags,
        client_token: &token,
    };
    ctx.wait_for_copy_slot(aws, &job.region).await?;
    let request = &request;
    let result = retry_throttled(|| async move { Ok(aws.copy_image(request).await?) }).await;
    let id = recover_lost_reply(aws, result, &job.region, &job.step, &job.name, origin).await?;
    // Counted at once, so that the next copy of the same lane waits for a slot.
    ctx.copy_started(&job.region, &id);
    Ok(id)
}

/// Notes a copy that was started or adopted, for the copy cap and later waits.
fn copy_begun(ctx: &HostContext, job: &CopyJob, id: &ImageId) {
    ctx.copy_started(&job.region, id);
    ctx.remember_image(id, &job.region, true);
    tracing::info!(image = %id, source = %job.source, region = %job.region, "copy started");
}

/// Derives the client token from source, destination and name, so the same copy request
/// always sends the same token and AWS can recognise a retry within the token's lifetime.
fn client_token(source: &ImageId, region: &Region, name: &AmiName) -> String {
    let digest = hex::encode(Sha256::digest(
        format!("{source}|{region}|{name}").as_bytes(),
    ));
    format!("amirun-{}", &digest[..40])
}

fn source_name(ctx: &HostContext, source: &ImageRef, region: &Region) -> Result<String, HostError> {
    match source {
        ImageRef::Planned(planned) => Ok(planned.name.clone()),
        ImageRef::Real(id) => Ok(image_info(ctx, id, region)?.name),
    }
}

/// Describes one image, from the cache when it is known to be available.
pub fn image_info(
    ctx: &HostContext,
    id: &ImageId,
    region: &Region,
) -> Result<ImageInfo, HostError> {
    if let Some(info) = ctx.cached_available(id) {
        return Ok(info);
    }
    let aws = ctx.aws()?;
    let ids = [id.clone()];
    let images = describe_fresh(ctx, region, &ids, || {
        ctx.block_on(async { Ok(aws.describe_images(region, &ids).await?) })
    })?;
    let Some(info) = images.into_iter().next() else {
        return Err(HostError::failed(
            "InvalidAMIID.NotFound",
            format!("image {id} was not found in {region}; check the ID, or pass options.region"),
        ));
    };
    ctx.remember_image(id, region, false);
    if info.state == ImageState::Available {
        ctx.cache_available(&info);
    }
    Ok(info)
}

/// Right after CreateImage or CopyImage, DescribeImages may briefly return
/// `InvalidAMIID.NotFound`. Retry that for images this session just made, and only those.
fn describe_fresh<T>(
    ctx: &HostContext,
    region: &Region,
    ids: &[ImageId],
    mut describe: impl FnMut() -> Result<T, HostError>,
) -> Result<T, HostError> {
    let mut delay = Duration::from_millis(250);
    for _ in 0..8 {
        match describe() {
            Err(HostError::Aws(error))
                if error.is_not_found() && ids.iter().all(|id| ctx.is_fresh(id)) =>
            {
                tracing::debug!(%region, "new image not listed yet; describing again");
                ctx.block_on(async move {
                    tokio::time::sleep(delay).await;
                    Ok(())
                })?;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            result => return result,
        }
    }
    describe()
}

fn describe_image(ctx: &HostContext, image: &str, options: &Map) -> Result<Dynamic, HostError> {
    let options = Options::new("describe_image", options, &["region"])?;
    let image = image_ref(ctx, image)?;
    let region = ctx.image_region(&image, options.region()?)?;
    match &image {
        ImageRef::Planned(planned) => to_dynamic(&json!({
            "image_id": planned.label, "region": region, "name": planned.name, "state": "planned",
            "owner": "", "creation_date": "", "architecture": "", "tags": {}, "snapshots": [],
        })),
        ImageRef::Real(id) => to_dynamic(&image_info(ctx, id, &region)?),
    }
}

/// Returns the partition of a region, which a copy cannot leave.
fn partition(region: &Region) -> &'static str {
    let code = region.as_str();
    if code.starts_with("cn-") {
        "aws-cn"
    } else if code.starts_with("us-gov-") {
        "aws-us-gov"
    } else if code.starts_with("us-iso") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// Rejects copies that AWS would refuse only after the run's first changes: across
/// partitions, or under a key ARN from another region.
fn check_copy_route(
    source: &Region,
    destination: &Region,
    key: Option<&KmsKey>,
) -> Result<(), HostError> {
    if partition(source) != partition(destination) {
        return Err(HostError::Rejected(format!(
            "copy from {source} to {destination} rejected: CopyImage cannot cross AWS partitions ({} to {})",
            partition(source),
            partition(destination)
        )));
    }
    if let Some(key_region) = key.and_then(KmsKey::arn_region) {
        if key_region != destination.as_str() {
            return Err(crate::types::InputError::new(
                "KMS key",
                key.map(KmsKey::as_str).unwrap_or_default(),
                format!("a copy into {destination} is encrypted there, so its key must be in {destination}, not {key_region}"),
            )
            .into());
        }
    }
    Ok(())
}
