//! Secure sharing: key grants, the AWS-managed key, re-encryption, public sharing,
//! organizations, revocation and the sharing report.
//!
//! moto records no KMS key on snapshots and has no AMI block public access, so tests of
//! those paths are mock tests. An `aws-smithy-mocks` rule adds the missing fact, for example
//! a DescribeImages response with the snapshot's KMS key. Where the emulator can respond to
//! the rest, every other request passes through to it, so the test still checks the
//! emulator's state.

use aws_sdk_ec2::types::{
    ArchitectureValues, BlockDeviceMapping, EbsBlockDevice, Image, ImageState, LaunchPermission,
    PermissionGroup,
};
use aws_sdk_kms::operation::create_grant::CreateGrantError;
use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeyState};
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::error::ErrorMetadata;

use crate::support::fixtures::{OWNER_ACCOUNT, SOURCE_REGION};
use crate::support::mocks::{mocked_aws, Backend, MockRules, Session};
use crate::support::sharing_state::TestImage;
use crate::support::{block_on, World};

const PARTNER: &str = "123456789012";
const OTHER_PARTNER: &str = "123456789013";
const AWS_MANAGED_KEY: &str =
    "arn:aws:kms:ap-south-1:210987654321:key/0a1b2c3d-1111-2222-3333-444455556666";
const ORGANIZATION: &str = "arn:aws:organizations::210987654321:organization/o-abcde12345";

/// Returns a rule with the DescribeImages response AWS gives for an available image whose one snapshot is encrypted
/// under `key`.
fn encrypted_image_rule(image: &TestImage, key: &str) -> Rule {
    let image = image.clone();
    let key = key.to_owned();
    let id = image.image_id.clone();
    mock!(aws_sdk_ec2::Client::describe_images)
        .match_requests(move |request| request.image_ids() == [id.clone()])
        .then_output(move || {
            let ebs = EbsBlockDevice::builder()
                .snapshot_id(&image.snapshots[0])
                .encrypted(true)
                .kms_key_id(&key)
                .volume_size(8)
                .delete_on_termination(true)
                .build();
            let mapping = BlockDeviceMapping::builder()
                .device_name("/dev/xvda")
                .ebs(ebs)
                .build();
            let described = Image::builder()
                .image_id(&image.image_id)
                .name(&image.name)
                .state(ImageState::Available)
                .owner_id(OWNER_ACCOUNT)
                .creation_date("2024-05-01T10:00:00.000Z")
                .architecture(ArchitectureValues::X8664)
                .block_device_mappings(mapping)
                .build();
            aws_sdk_ec2::operation::describe_images::DescribeImagesOutput::builder()
                .images(described)
                .build()
        })
}

/// Returns a rule with the DescribeKey response AWS gives for the AWS-managed EBS key.
fn aws_managed_key_rule() -> Rule {
    mock!(aws_sdk_kms::Client::describe_key)
        .match_requests(|request| request.key_id() == Some(AWS_MANAGED_KEY))
        .then_output(|| {
            let metadata = KeyMetadata::builder()
                .key_id("0a1b2c3d-1111-2222-3333-444455556666")
                .arn(AWS_MANAGED_KEY)
                .aws_account_id(OWNER_ACCOUNT)
                .key_manager(KeyManagerType::Aws)
                .key_state(KeyState::Enabled)
                .description(
                    "Default key that protects my EBS volumes when no other key is defined",
                )
                .build()
                .expect("key metadata");
            aws_sdk_kms::operation::describe_key::DescribeKeyOutput::builder()
                .key_metadata(metadata)
                .build()
        })
}

/// Starts a session in this process whose EC2 and KMS rules come first. Every other request
/// goes to the world's proxy and on to the emulator.
fn passthrough_session(world: &World, ec2: Vec<&Rule>, kms: Vec<&Rule>) -> Session {
    let url = world.proxy.url();
    let rules = MockRules {
        ec2,
        kms,
        sts: vec![],
    };
    Session::new(
        mocked_aws(Backend::Emulator(&url), SOURCE_REGION, &rules),
        false,
    )
}

#[test]
fn grant_function_is_idempotent() {
    let world = World::new();
    let key = world.make_key();
    let aws = mocked_aws(
        Backend::Emulator(&world.emulator.url()),
        SOURCE_REGION,
        &MockRules::default(),
    );
    let region = amirun::types::Region::parse(SOURCE_REGION).unwrap();
    let partner = amirun::types::AccountId::parse(PARTNER).unwrap();
    let owner = amirun::types::AccountId::parse(OWNER_ACCOUNT).unwrap();
    let name = "amirun-ami-0123456789abcdef0-123456789012";

    let first = block_on(aws.ensure_partner_grant(&region, &key, name, &partner, &owner))
        .expect("first grant failed");
    let second = block_on(aws.ensure_partner_grant(&region, &key, name, &partner, &owner))
        .expect("second grant failed");
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.grant_id, second.grant_id);

    let grants = world.grants(&key);
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0].0, name);
    assert_eq!(grants[0].1, "arn:aws:iam::123456789012:root");
    assert_eq!(
        grants[0].2,
        [
            "Decrypt",
            "DescribeKey",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GenerateDataKeyWithoutPlaintext",
            "CreateGrant"
        ]
    );

    let retired = block_on(aws.retire_grants_where(&region, &key, |g| g.name == name)).unwrap();
    assert_eq!(retired, [first.grant_id]);
    assert!(world.grants(&key).is_empty());
    let again = block_on(aws.retire_grants_where(&region, &key, |g| g.name == name)).unwrap();
    assert!(again.is_empty());
}

/// Mock test: moto does not record the snapshot's KMS key, so a rule returns DescribeImages.
/// The grant, snapshot and launch permissions are made in and read from the emulator.
#[test]
fn share_grants_customer_key_to_partner() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let key = world.make_key();
    let describe = encrypted_image_rule(&image, &key);
    let session = passthrough_session(&world, vec![&describe], vec![]);

    let script = format!(r#"share("{}", ["{PARTNER}"])"#, image.image_id);
    let result = session.eval_ok(&script);
    assert_eq!(result["grants"][0]["created"], true);
    session.eval_ok(&script);

    let grants = world.grants(&key);
    assert_eq!(
        grants.len(),
        1,
        "a repeated share made a second grant: {grants:?}"
    );
    assert_eq!(grants[0].0, format!("amirun-{}-{PARTNER}", image.image_id));
    assert_eq!(grants[0].1, format!("arn:aws:iam::{PARTNER}:root"));
    assert_eq!(world.launch_permissions(&image.image_id), [PARTNER]);
    assert_eq!(world.snapshot_permissions(&image.snapshots[0]), [PARTNER]);
}

/// Mock test: the image is shared by hand and its customer-managed key policy names only the
/// owner. The report flags it, and share makes the missing grant.
#[test]
fn report_flags_key_not_granted() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let key = world.make_key();
    world.grant_launch(&image.image_id, PARTNER);
    world.grant_snapshot(&image.snapshots[0], PARTNER);
    let describe = encrypted_image_rule(&image, &key);
    let session = passthrough_session(&world, vec![&describe], vec![]);

    let report = session.eval_ok(&format!(r#"sharing_report("{}")"#, image.image_id));
    let row = &report["images"][0]["accounts"][0];
    assert_eq!(row["account"], PARTNER);
    assert_eq!(row["launch"], true);
    assert_eq!(row["snapshots"], true);
    assert_eq!(row["key_access"], "none");
    let issues = report["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0]["kind"], "key-not-granted");
    assert_eq!(
        issues[0]["message"],
        format!(
            "shared, key not granted: the account has no grant or key-policy statement for {key}, so its instances stop right after launch; \
             share again to create the grant, or add the key-policy statement"
        )
    );

    session.eval_ok(&format!(r#"share("{}", ["{PARTNER}"])"#, image.image_id));
    let report = session.eval_ok(&format!(r#"sharing_report("{}")"#, image.image_id));
    assert_eq!(report["images"][0]["accounts"][0]["key_access"], "grant");
    assert_eq!(report["issues"].as_array().map(Vec::len), Some(0));
}

/// Mock test: DescribeImages and DescribeKey show the AWS-managed EBS key,
/// which moto cannot; the emulator shows that nothing was shared.
#[test]
fn share_rejects_aws_managed_key() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let describe = encrypted_image_rule(&image, AWS_MANAGED_KEY);
    let key = aws_managed_key_rule();
    let session = passthrough_session(&world, vec![&describe], vec![&key]);

    let error = session.eval_err(&format!(
        r#"share("{}", ["{PARTNER}", "{OTHER_PARTNER}"])"#,
        image.image_id
    ));
    assert_eq!(
        error,
        format!(
            "share of {} rejected: its snapshot {} is encrypted with the AWS-managed key {AWS_MANAGED_KEY} (alias/aws/ebs), \
             which cannot be shared with other accounts. Copy the image with a customer-managed key first \
             (copy_image(id, region, #{{kms_key: \"arn:aws:kms:...\"}})) and share the copy, or pass options.reencrypt_key to let share do that",
            image.image_id, image.snapshots[0]
        )
    );
    assert!(world.launch_permissions(&image.image_id).is_empty());
    assert!(world.snapshot_permissions(&image.snapshots[0]).is_empty());
    assert_eq!(world.proxy.count("ModifyImageAttribute"), 0);
    assert_eq!(world.proxy.count("ModifySnapshotAttribute"), 0);
    assert_eq!(world.proxy.count("CreateGrant"), 0);
}

/// Mock test: as above, but with `reencrypt_key` the image is copied under a moto key and the
/// copy is shared; the original stays unshared.
#[test]
fn share_reencrypts_aws_managed_image() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let customer_key = world.make_key();
    let describe = encrypted_image_rule(&image, AWS_MANAGED_KEY);
    let key = aws_managed_key_rule();
    let session = passthrough_session(&world, vec![&describe], vec![&key]);

    let result = session.eval_ok(&format!(
        r#"share("{}", ["{PARTNER}"], #{{ reencrypt_key: "{customer_key}" }})"#,
        image.image_id
    ));
    let copy = result["image_id"].as_str().unwrap().to_owned();
    assert_ne!(copy, image.image_id);
    assert_eq!(result["reencrypted_from"], image.image_id.as_str());
    assert_eq!(world.proxy.count("CopyImage"), 1);
    assert_eq!(world.launch_permissions(&copy), [PARTNER]);
    assert!(world.launch_permissions(&image.image_id).is_empty());
    let names = world.image_ids_named("Secure-v1 (re-encrypted)");
    assert_eq!(names, [copy]);
}

/// Mock test: a batch whose second image needs re-encryption under a key from another
/// region is rejected before the first image is shared.
#[test]
fn share_images_checks_reencrypt_key_first() {
    let world = World::new();
    let plain = world.make_image("Plain-v1");
    let image = world.make_image("Secure-v1");
    let describe = encrypted_image_rule(&image, AWS_MANAGED_KEY);
    let key = aws_managed_key_rule();
    let session = passthrough_session(&world, vec![&describe], vec![&key]);

    let error = session.eval_err(&format!(
        r#"share_images([#{{ image_id: "{}", targets: ["{PARTNER}"] }}, #{{ image_id: "{}", targets: ["{PARTNER}"], reencrypt_key: "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab" }}])"#,
        plain.image_id, image.image_id
    ));
    assert!(error.contains("us-east-1"), "{error}");
    assert!(world.launch_permissions(&plain.image_id).is_empty());
    assert!(world.snapshot_permissions(&plain.snapshots[0]).is_empty());
    assert_eq!(world.proxy.count("ModifyImageAttribute"), 0);
    assert_eq!(world.proxy.count("CopyImage"), 0);
}

/// Mock test: CreateGrant fails with AWS's error code and message for a caller without
/// kms:CreateGrant, which moto never denies. The error prints the key-policy statement, and
/// no permission changes in the emulator.
#[test]
fn denied_grant_prints_policy_statement() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let key = world.make_key();
    let describe = encrypted_image_rule(&image, &key);
    // The error is given as parsed metadata: a raw HTTP reply from a rule reaches the client
    // only through the mock HTTP client, and this session passes other calls to the emulator.
    let denied = mock!(aws_sdk_kms::Client::create_grant).then_error(|| {
        CreateGrantError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message(
                    "User: arn:aws:iam::210987654321:user/deployer is not authorized to perform: kms:CreateGrant on this resource \
                     because no resource-based policy allows the kms:CreateGrant action",
                )
                .build(),
        )
    });
    let session = passthrough_session(&world, vec![&describe], vec![&denied]);

    let error = session.eval_err(&format!(r#"share("{}", ["{PARTNER}"])"#, image.image_id));
    assert!(
        error.starts_with(&format!(
            "cannot give the partner accounts access to key {key} of image {}: CreateGrant was denied (User: arn:aws:iam::210987654321:user/deployer is not authorized",
            image.image_id
        )),
        "{error}"
    );
    let statement_start = error.find('{').expect("no statement in the error");
    let statement: serde_json::Value = serde_json::from_str(&error[statement_start..]).unwrap();
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(
        statement["Principal"]["AWS"][0],
        format!("arn:aws:iam::{PARTNER}:root")
    );
    assert_eq!(statement["Action"][0], "kms:Decrypt");
    assert_eq!(statement["Action"][5], "kms:CreateGrant");
    assert_eq!(denied.num_calls(), 1);
    assert!(world.launch_permissions(&image.image_id).is_empty());
    assert!(world.snapshot_permissions(&image.snapshots[0]).is_empty());
}

#[test]
fn public_share_needs_allow_public() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let runbook = world.write_runbook(
        "public.rhai",
        &format!(r#"share("{}", ["all"])"#, image.image_id),
    );
    world
        .run_runbook(&runbook, &[])
        .failure(2)
        .stderr_contains(&format!(
            "share of {} with \"all\" rejected: that makes the image public; start the run with --allow-public if that is intended",
            image.image_id
        ));
    assert!(world.launch_permissions(&image.image_id).is_empty());
    assert_eq!(world.proxy.count("ModifyImageAttribute"), 0);
}

/// The rules of a mocks-only session for an unencrypted, unshared image and public sharing:
/// GetImageBlockPublicAccessState answers `state`.
struct PublicMocks {
    caller: Rule,
    describe: Rule,
    block_state: Rule,
    current: Rule,
    modify: Rule,
}

const PUBLIC_IMAGE: &str = "ami-0123456789abcdef0";

impl PublicMocks {
    fn new(state: &'static str) -> PublicMocks {
        let caller = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
                .account(OWNER_ACCOUNT)
                .arn("arn:aws:iam::210987654321:user/deployer")
                .user_id("AIDAEXAMPLEUSERID0001")
                .build()
        });
        let describe = mock!(aws_sdk_ec2::Client::describe_images).then_output(|| {
            let ebs = EbsBlockDevice::builder()
                .snapshot_id("snap-0123456789abcdef0")
                .encrypted(false)
                .volume_size(8)
                .build();
            let image = Image::builder()
                .image_id(PUBLIC_IMAGE)
                .name("Public-v1")
                .state(ImageState::Available)
                .owner_id(OWNER_ACCOUNT)
                .creation_date("2024-05-01T10:00:00.000Z")
                .block_device_mappings(
                    BlockDeviceMapping::builder()
                        .device_name("/dev/xvda")
                        .ebs(ebs)
                        .build(),
                )
                .build();
            aws_sdk_ec2::operation::describe_images::DescribeImagesOutput::builder()
                .images(image)
                .build()
        });
        let block_state = mock!(aws_sdk_ec2::Client::get_image_block_public_access_state)
            .then_output(move || {
                aws_sdk_ec2::operation::get_image_block_public_access_state::GetImageBlockPublicAccessStateOutput::builder()
                    .image_block_public_access_state(state)
                    .managed_by(aws_sdk_ec2::types::ManagedBy::Account)
                    .build()
            });
        let current = mock!(aws_sdk_ec2::Client::describe_image_attribute).then_output(|| {
            aws_sdk_ec2::operation::describe_image_attribute::DescribeImageAttributeOutput::builder(
            )
            .image_id(PUBLIC_IMAGE)
            .build()
        });
        let modify = mock!(aws_sdk_ec2::Client::modify_image_attribute)
            .match_requests(|request| {
                request
                    .launch_permission()
                    .map(|m| {
                        m.add()
                            == [LaunchPermission::builder()
                                .group(PermissionGroup::All)
                                .build()]
                    })
                    .unwrap_or(false)
            })
            .then_output(|| {
                aws_sdk_ec2::operation::modify_image_attribute::ModifyImageAttributeOutput::builder(
                )
                .build()
            });
        PublicMocks {
            caller,
            describe,
            block_state,
            current,
            modify,
        }
    }

    fn session(&self) -> Session {
        let rules = MockRules {
            ec2: vec![
                &self.describe,
                &self.block_state,
                &self.current,
                &self.modify,
            ],
            kms: vec![],
            sts: vec![&self.caller],
        };
        Session::new(mocked_aws(Backend::MocksOnly, SOURCE_REGION, &rules), true)
    }
}

/// Mock test: moto responds to GetImageBlockPublicAccessState with an error 500, so the state
/// comes from a rule with AWS's response shape.
#[test]
fn public_share_checks_block_state() {
    let mocks = PublicMocks::new("block-new-sharing");
    let error = mocks
        .session()
        .eval_err(&format!(r#"share("{PUBLIC_IMAGE}", ["all"])"#));
    assert_eq!(
        error,
        format!(
            "share of {PUBLIC_IMAGE} with \"all\" rejected: AMI block public access is on for this account in ap-south-1 \
             (state `block-new-sharing`), so AWS refuses to make images public there. amirun never turns that block off. \
             An administrator of the account can review it and disable it (EC2 DisableImageBlockPublicAccess, or the EC2 console's \
             data protection settings) if the image must be public; otherwise share with account IDs"
        )
    );
    assert_eq!(mocks.block_state.num_calls(), 1);
    assert_eq!(mocks.modify.num_calls(), 0);
}

/// Mock test: with the block off, `--allow-public` shares with the group "all" in one call.
#[test]
fn public_share_proceeds_when_unblocked() {
    let mocks = PublicMocks::new("unblocked");
    let result = mocks
        .session()
        .eval_ok(&format!(r#"share("{PUBLIC_IMAGE}", ["all"])"#));
    assert_eq!(result["added"][0], "all");
    assert_eq!(mocks.block_state.num_calls(), 1);
    assert_eq!(mocks.modify.num_calls(), 1);
}

#[test]
fn organization_share_warns_about_copies() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let runbook = world.write_runbook(
        "organization.rhai",
        &format!(
            r#"share("{}", ["{ORGANIZATION}", "{PARTNER}"])"#,
            image.image_id
        ),
    );
    let finished = world.run_runbook(&runbook, &["--output", "json"]).success();
    let result = finished.json();
    assert_eq!(
        result["warnings"][0],
        format!(
            "organization {ORGANIZATION} can launch {}, but its member accounts cannot copy it: snapshot permissions take account IDs only. \
             Add the accounts that need to copy the image to the targets as well",
            image.image_id
        )
    );
    assert!(finished
        .stderr
        .contains("its member accounts cannot copy it"));
    assert_eq!(
        world.launch_permissions(&image.image_id),
        [PARTNER, ORGANIZATION]
    );
    assert_eq!(world.snapshot_permissions(&image.snapshots[0]), [PARTNER]);
}

#[test]
fn unshare_removes_permissions_once() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let id = &image.image_id;
    let share = world.write_runbook(
        "share.rhai",
        &format!(r#"share("{id}", ["{PARTNER}", "{OTHER_PARTNER}"])"#),
    );
    world.run_runbook(&share, &[]).success();
    let unshare = world.write_runbook(
        "unshare.rhai",
        &format!(r#"unshare("{id}", ["{PARTNER}"])"#),
    );

    world.proxy.clear_calls();
    let first = world.run_runbook(&unshare, &["--output", "json"]).success();
    assert_eq!(first.json()["removed"][0], PARTNER);
    assert_eq!(world.proxy.count("ModifyImageAttribute"), 1);
    assert_eq!(world.proxy.count("ModifySnapshotAttribute"), 1);
    assert_eq!(world.launch_permissions(id), [OTHER_PARTNER]);
    assert_eq!(
        world.snapshot_permissions(&image.snapshots[0]),
        [OTHER_PARTNER]
    );

    world.proxy.clear_calls();
    let second = world.run_runbook(&unshare, &["--output", "json"]).success();
    assert_eq!(second.json()["not_shared"][0], PARTNER);
    assert_eq!(world.proxy.count("ModifyImageAttribute"), 0);
    assert_eq!(world.proxy.count("ModifySnapshotAttribute"), 0);
    assert_eq!(world.launch_permissions(id), [OTHER_PARTNER]);
}

#[test]
fn unshare_plan_shows_removals() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let id = &image.image_id;
    world.grant_launch(id, PARTNER);
    world.grant_snapshot(&image.snapshots[0], PARTNER);
    let unshare = world.write_runbook(
        "unshare.rhai",
        &format!(r#"unshare("{id}", ["{PARTNER}"])"#),
    );
    world
        .amirun()
        .args(["plan"])
        .arg_path(&unshare)
        .run()
        .success()
        .stdout_contains(&format!("unshare in ap-south-1: {id}"))
        .stdout_contains(&format!("- {PARTNER}"))
        .stdout_contains(&format!(
            "unshare_snapshots in ap-south-1: {}",
            image.snapshots[0]
        ));
    assert_eq!(world.launch_permissions(id), [PARTNER]);
    assert_eq!(world.snapshot_permissions(&image.snapshots[0]), [PARTNER]);
}

/// Mock test: grants are made only through a snapshot's key, which moto does not record.
/// The grant itself is in the emulator, and unshare retires it there.
#[test]
fn unshare_retires_partner_grants() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let key = world.make_key();
    let describe = encrypted_image_rule(&image, &key);
    let session = passthrough_session(&world, vec![&describe], vec![]);
    let id = &image.image_id;
    session.eval_ok(&format!(
        r#"share("{id}", ["{PARTNER}", "{OTHER_PARTNER}"])"#
    ));
    assert_eq!(world.grants(&key).len(), 2);

    let result = session.eval_ok(&format!(r#"unshare("{id}", ["{PARTNER}"])"#));
    assert_eq!(result["grants_retired"].as_array().map(Vec::len), Some(1));
    let grants = world.grants(&key);
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0].0, format!("amirun-{id}-{OTHER_PARTNER}"));
    assert_eq!(world.launch_permissions(id), [OTHER_PARTNER]);

    let again = session.eval_ok(&format!(r#"unshare("{id}", ["{PARTNER}"])"#));
    assert_eq!(again["grants_retired"].as_array().map(Vec::len), Some(0));
    assert_eq!(world.grants(&key).len(), 1);
}

#[test]
fn report_flags_launch_without_snapshot() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    world.grant_launch(&image.image_id, PARTNER);
    let finished = world
        .amirun()
        .args(["report", &image.image_id, "--output", "json"])
        .run()
        .success();
    let report = finished.json();
    let row = &report["images"][0]["accounts"][0];
    assert_eq!(row["account"], PARTNER);
    assert_eq!(row["launch"], true);
    assert_eq!(row["snapshots"], false);
    assert_eq!(row["key_access"], "not_needed");
    assert_eq!(report["issues"][0]["kind"], "snapshot-not-shared");
    assert_eq!(
        report["issues"][0]["message"],
        format!(
            "launchable but snapshot {} not shared, so the partner cannot copy the image; share it again to add the snapshot permission",
            image.snapshots[0]
        )
    );

    world
        .amirun()
        .args(["report", &format!("ap-south-1:{}", image.image_id)])
        .run()
        .success()
        .stdout_contains("IMAGE")
        .stdout_contains(&format!("{}  ap-south-1  {PARTNER}", image.image_id))
        .stdout_contains("1 issue(s):");
}

/// Images given as `region:ami-...` need no default region.
#[test]
fn report_needs_no_region_for_qualified_images() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    world.grant_launch(&image.image_id, PARTNER);
    world
        .amirun()
        .env_remove("AWS_REGION")
        .args(["report", &format!("ap-south-1:{}", image.image_id)])
        .run()
        .success()
        .stdout_contains(&format!("{}  ap-south-1  {PARTNER}", image.image_id))
        .stdout_contains("Accounts were not compared with a partner list; pass --partners SCRIPT");
}

#[test]
fn report_flags_unknown_account() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let stranger = "999988887777";
    world.grant_launch(&image.image_id, stranger);
    world.grant_snapshot(&image.snapshots[0], stranger);
    world.grant_launch(&image.image_id, PARTNER);
    world.grant_snapshot(&image.snapshots[0], PARTNER);
    let report = world
        .amirun()
        .args(["report", &image.image_id, "--output", "json", "--partners"])
        .args(["runbooks/partners/eduglobal.rhai"])
        .run()
        .success()
        .json();
    let issues = report["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0]["kind"], "not-a-partner");
    assert_eq!(issues[0]["account"], stranger);
    let partner_row = report["images"][0]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["account"] == PARTNER)
        .cloned()
        .unwrap();
    assert!(partner_row["partner"].is_string(), "{partner_row}");
}

#[test]
fn report_rejects_bad_image_argument() {
    let world = World::new();
    world
        .amirun()
        .args(["report", "ap-south-1:ami-xyz"])
        .run()
        .failure(2)
        .stderr_contains("invalid image ID `ami-xyz`");
    assert!(world.proxy.calls().is_empty());
}

/// Mock test: the rollout policy's `reencrypt_keys` option reaches `share`, which copies the
/// AWS-managed image of the partners' region under the given key and shares the copy.
#[test]
fn rollout_reencrypts_with_policy_option() {
    let world = World::new();
    let image = world.make_image("Secure-v1");
    let customer_key = world.make_key();
    let describe = encrypted_image_rule(&image, AWS_MANAGED_KEY);
    let key = aws_managed_key_rule();
    let session = passthrough_session(&world, vec![&describe], vec![&key]);

    let result = session.eval_ok(&format!(
        r#"
        import "std/rollout" as rollout;
        let partners = [#{{ name: "Partner A", account: "{PARTNER}", region: "ap-south-1" }}];
        rollout::distribute("{}", "ap-south-1", partners, #{{
            name: "Secure-v1",
            reencrypt_keys: #{{ "ap-south-1": "{customer_key}" }},
        }})
        "#,
        image.image_id
    ));
    let shared = result["ap-south-1"]["image_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(shared, image.image_id);
    assert_eq!(
        result["ap-south-1"]["granted"]["reencrypted_from"],
        image.image_id.as_str()
    );
    assert_eq!(world.launch_permissions(&shared), [PARTNER]);
    assert!(world.launch_permissions(&image.image_id).is_empty());
}
