//! Host-function arguments checked before any change. Each fixture runbook makes one bad
//! call after at least one would-be change. The run must stop in its preflight with exit
//! status 2 and the exact message, and the emulator must have received no mutating call.

use crate::support::fixtures::{ec2, kms, OWNER_ACCOUNT, SOURCE_REGION};
use crate::support::{block_on, World};

/// Runs `runbook` with `params` and checks the failure: status 2, `message` right after
/// `error: `, the location of the bad call, and no change made.
#[track_caller]
fn assert_rejected(world: &World, runbook: &str, params: &[&str], message: &str, line: usize) {
    let location = format!("  --> tests/fixtures/runbooks/{runbook}:{line}:1");
    world
        .run_fixture(runbook, params, &[])
        .failure(2)
        .stderr_contains(&format!("error: {message}\n{location}\n"));
    world.assert_no_change();
}

#[test]
fn account_ids_must_be_strings() {
    let world = World::new();
    assert_rejected(
        &world,
        "share_integer.rhai",
        &[],
        "invalid account ID `12345678901`: pass account IDs as strings (\"012345678901\"), because a number loses its leading zeros",
        8,
    );
}

#[test]
fn account_ids_are_twelve_digits() {
    let world = World::new();
    for target in [
        "1234-5678-9012",
        "1234 5678 9012",
        "12345678901",
        "1234567890123",
    ] {
        assert_rejected(
            &world,
            "share_target.rhai",
            &[&format!("target={target}")],
            &format!("invalid account ID `{target}`: an account ID is a string of exactly 12 digits, without dashes or spaces"),
            9,
        );
    }
}

#[test]
fn organization_arns_need_exact_shape() {
    let world = World::new();
    let expected = "expected a 12-digit account ID string, \
`arn:aws:organizations::<account>:organization/o-<id>`, \
`arn:aws:organizations::<account>:ou/o-<id>/ou-<root>-<id>` or \"all\"";
    for target in [
        "arn:aws:organizations::123456789012:organization/abc",
        "arn:aws:organizations::123456789012:ou/o-abcde12345",
        "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12",
        "o-abcde12345",
    ] {
        assert_rejected(
            &world,
            "share_target.rhai",
            &[&format!("target={target}")],
            &format!("invalid share target `{target}`: {expected}"),
            9,
        );
    }
}

#[test]
fn owner_account_share_is_rejected() {
    let world = World::new();
    assert_rejected(
        &world,
        "share_target.rhai",
        &[&format!("target={OWNER_ACCOUNT}")],
        &format!("share of (new image 1: ap-south-1) with {OWNER_ACCOUNT} rejected: that is the owner account itself, which can always launch its images; remove it from the targets"),
        9,
    );
}

#[test]
fn public_share_needs_allow_public() {
    let world = World::new();
    assert_rejected(
        &world,
        "share_target.rhai",
        &["target=all"],
        "share of (new image 1: ap-south-1) with \"all\" rejected: that makes the image public; start the run with --allow-public if that is intended",
        9,
    );

    // With the flag, amirun reads the account's AMI block public access state first, in the
    // preflight pass. The emulator does not implement that call, so the run stops before any
    // change; the mock tests in `secure_sharing` cover the states AWS returns.
    world
        .run_fixture("share_target.rhai", &["target=all"], &["--allow-public"])
        .failure(1)
        .stderr_contains("AMI block public access state in ap-south-1 could not be read")
        .stderr_contains("only after confirming that the block is off");
    world.assert_no_change();
}

#[test]
fn ami_names_are_checked() {
    let world = World::new();
    let long = "a".repeat(130);
    let cases = [
        (
            "ab".to_owned(),
            "an AMI name has 3 to 128 characters, this one has 2".to_owned(),
        ),
        (
            long.clone(),
            "an AMI name has 3 to 128 characters, this one has 130".to_owned(),
        ),
        (
            "Centos 7 + Stuff".to_owned(),
            "character `+` is not allowed; use letters, digits, space and ( ) [ ] . / - ' @ _"
                .to_owned(),
        ),
    ];
    for (name, fix) in cases {
        assert_rejected(
            &world,
            "copy_options.rhai",
            &[&format!("name={name}")],
            &format!("invalid AMI name `{name}`: {fix}"),
            23,
        );
    }
    assert_rejected(
        &world,
        "second_image.rhai",
        &["instance=i-0123456789abcdef0", "name=Centos 7 + Stuff"],
        "invalid AMI name `Centos 7 + Stuff`: character `+` is not allowed; use letters, digits, space and ( ) [ ] . / - ' @ _",
        9,
    );
}

/// `/` is allowed in AMI names, so a name with one goes through to a real copy.
#[test]
fn ami_name_with_slash_is_accepted() {
    let world = World::new();
    world
        .run_fixture("copy_options.rhai", &["name=MyLearning/Platform (v1)"], &[])
        .success();
    let names: Vec<String> = world.owned_images().into_iter().map(|i| i.name).collect();
    assert!(
        names.contains(&"MyLearning/Platform (v1)".to_owned()),
        "{names:?}"
    );
}

#[test]
fn regions_are_checked_by_shape() {
    let world = World::new();
    for region in ["Singapore", "ap-southeast", "AP-SOUTHEAST-1"] {
        assert_rejected(
            &world,
            "copy_options.rhai",
            &[&format!("region={region}")],
            &format!("invalid region `{region}`: a region code looks like `ap-southeast-1`: lowercase letters, dashes and a number"),
            23,
        );
    }
}

#[test]
fn tags_are_checked() {
    let world = World::new();
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    let cases = [
        (
            vec![format!("tag_key={long_key}")],
            format!("invalid tag key `{long_key}`: a tag key has 1 to 128 characters"),
        ),
        (
            vec![format!("tag_value={long_value}")],
            format!("invalid tag value `{long_value}`: the value of tag `Purpose` has more than 256 characters; store long lists elsewhere, such as in the agreement record"),
        ),
        (
            vec!["tag_key=aws:owner".to_owned()],
            "invalid tag key `aws:owner`: the `aws:` prefix is reserved by AWS".to_owned(),
        ),
        (
            vec!["extra_tags=50".to_owned()],
            "invalid tag set `51 tags`: a resource takes at most 50 tags".to_owned(),
        ),
        (
            vec!["extra_tags=48".to_owned()],
            "invalid tag set `51 tags`: a resource takes at most 50 tags, amirun's own tags included".to_owned(),
        ),
    ];
    for (params, message) in cases {
        let params: Vec<&str> = params.iter().map(String::as_str).collect();
        assert_rejected(&world, "copy_options.rhai", &params, &message, 23);
    }
}

#[test]
fn resource_ids_are_checked() {
    let world = World::new();
    assert_rejected(
        &world,
        "second_image.rhai",
        &["instance=i-xyz"],
        "invalid instance ID `i-xyz`: expected `i-` followed by 8 or 17 lowercase hexadecimal digits",
        9,
    );
    for image in ["ami-xyz", "ami-0123456789ABCDEF0", "i-0123456789abcdef0"] {
        assert_rejected(
            &world,
            "describe_after_create.rhai",
            &[&format!("image={image}")],
            &format!("invalid image ID `{image}`: expected `ami-` followed by 8 or 17 lowercase hexadecimal digits"),
            8,
        );
    }
}

#[test]
fn bucket_names_and_keys_are_checked() {
    let world = World::new();
    assert_rejected(
        &world,
        "agreement.rhai",
        &["bucket=My_Bucket"],
        "invalid S3 bucket name `My_Bucket`: a bucket name has only lowercase letters, digits, `-` and `.`",
        11,
    );
    assert_rejected(
        &world,
        "agreement.rhai",
        &["bucket=xn--records"],
        "invalid S3 bucket name `xn--records`: the prefix `xn--` is reserved by S3",
        11,
    );
    assert_rejected(
        &world,
        "agreement.rhai",
        &["key="],
        "invalid S3 object key ``: an object key has 1 to 1024 bytes",
        11,
    );
}

#[test]
fn kms_keys_are_checked() {
    let world = World::new();
    let expected = "expected a key ID (1234abcd-12ab-34cd-56ef-1234567890ab), a key ARN \
(arn:aws:kms:<region>:<account>:key/<key id>), an alias (alias/<name>) or an alias ARN";
    assert_rejected(
        &world,
        "agreement.rhai",
        &["kms_key=my key"],
        &format!("invalid KMS key `my key`: {expected}"),
        11,
    );
    assert_rejected(
        &world,
        "copy_options.rhai",
        &["kms_key=arn:aws:kms:ap-southeast-1:210987654321:key/not-a-key"],
        &format!(
            "invalid KMS key `arn:aws:kms:ap-southeast-1:210987654321:key/not-a-key`: {expected}"
        ),
        23,
    );
}

/// A copy under the AWS-managed EBS key could never be shared with a partner.
#[test]
fn aws_managed_copy_key_is_rejected() {
    let world = World::new();
    assert_rejected(
        &world,
        "copy_options.rhai",
        &["kms_key=alias/aws/ebs"],
        "copy_image of (new image 1: ap-south-1) into ap-southeast-1 with kms_key `alias/aws/ebs` rejected: that alias names an AWS-managed key, which AWS does not let you share with other accounts; pass a customer-managed key",
        23,
    );
}

#[test]
fn unknown_options_are_rejected() {
    let world = World::new();
    assert_rejected(
        &world,
        "unknown_option.rhai",
        &[],
        "invalid option `nmae`: `copy_image` accepts the options name, description, encrypted, kms_key, copy_tags, tags, source_region",
        7,
    );
}

/// Finds the base image the fixtures register, and its one EBS snapshot.
fn base_image(world: &World) -> (String, String) {
    block_on(async {
        let described = ec2(&world.emulator.url(), SOURCE_REGION)
            .describe_images()
            .owners("self")
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("name")
                    .values("amirun-test-base")
                    .build(),
            )
            .send()
            .await
            .expect("DescribeImages failed");
        let image = &described.images()[0];
        let snapshot = image.block_device_mappings()[0]
            .ebs()
            .and_then(|ebs| ebs.snapshot_id())
            .expect("the base image has no snapshot");
        (
            image.image_id().unwrap_or_default().to_owned(),
            snapshot.to_owned(),
        )
    })
}

/// Creates a customer-managed key in the emulator and returns its ARN.
fn emulator_key(world: &World) -> String {
    block_on(async {
        kms(&world.emulator.url(), SOURCE_REGION)
            .create_key()
            .send()
            .await
            .expect("CreateKey failed")
            .key_metadata()
            .map(|m| m.arn().unwrap_or_default().to_owned())
            .expect("CreateKey returned no metadata")
    })
}

/// Lists who may launch the image and who may create volumes from its snapshot, as the
/// emulator stores them.
fn permissions(world: &World, image: &str, snapshot: &str) -> (Vec<String>, Vec<String>) {
    block_on(async {
        let client = ec2(&world.emulator.url(), SOURCE_REGION);
        let launch = client
            .describe_image_attribute()
            .image_id(image)
            .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
            .send()
            .await
            .expect("DescribeImageAttribute failed");
        let volumes = client
            .describe_snapshot_attribute()
            .snapshot_id(snapshot)
            .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
            .send()
            .await
            .expect("DescribeSnapshotAttribute failed");
        (
            launch
                .launch_permissions()
                .iter()
                .filter_map(|p| p.user_id().map(str::to_owned))
                .collect(),
            volumes
                .create_volume_permissions()
                .iter()
                .filter_map(|p| p.user_id().map(str::to_owned))
                .collect(),
        )
    })
}

/// The emulator neither encrypts image snapshots nor has AWS-managed keys. So the proxy shows
/// the base image's snapshot as encrypted with an emulator key and reports that key as
/// AWS-managed, as AWS does for `alias/aws/ebs`.
#[test]
fn aws_managed_snapshot_key_blocks_share() {
    let world = World::new();
    let (image, snapshot) = base_image(&world);
    let key = emulator_key(&world);
    world.proxy.encrypt_snapshots(&image, &key);
    world.proxy.make_aws_managed(&key);

    world
        .run_fixture("share_existing.rhai", &[&format!("image={image}")], &[])
        .failure(2)
        .stderr_contains(&format!(
            "error: share of {image} rejected: its snapshot {snapshot} is encrypted with the AWS-managed key {key} (alias/aws/ebs), \
             which cannot be shared with other accounts. Copy the image with a customer-managed key first \
             (copy_image(id, region, #{{kms_key: \"arn:aws:kms:...\"}})) and share the copy, or pass options.reencrypt_key to let share do that\n"
        ));
    world.assert_no_change();
    assert_eq!(world.proxy.count("DescribeKey"), 1);
    let (launch, volumes) = permissions(&world, &image, &snapshot);
    assert!(launch.is_empty(), "{launch:?}");
    assert!(volumes.is_empty(), "{volumes:?}");
}

/// The same image under a customer-managed key is shared, snapshot included.
#[test]
fn customer_managed_snapshot_key_shares() {
    let world = World::new();
    let (image, snapshot) = base_image(&world);
    let key = emulator_key(&world);
    world.proxy.encrypt_snapshots(&image, &key);

    world
        .run_fixture("share_existing.rhai", &[&format!("image={image}")], &[])
        .success();
    let (launch, volumes) = permissions(&world, &image, &snapshot);
    assert_eq!(launch, ["123456789012"]);
    assert_eq!(volumes, ["123456789012"]);
}
