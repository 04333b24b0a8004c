//! deprecate and retire: the end of an image's life.

use std::time::Duration;

use aws_sdk_ec2::types::{Image, ImageState};
use aws_smithy_mocks::mock;

use crate::support::fixtures::{OWNER_ACCOUNT, SOURCE_REGION};
use crate::support::mocks::{mocked_aws, Backend, MockRules, Session};
use crate::support::sharing_state::TestImage;
use crate::support::World;

const PARTNER: &str = "123456789012";

/// Three versions of `MyApp-` one second apart, so that their creation dates differ, and one
/// image of another name.
fn versions(world: &World) -> (Vec<TestImage>, TestImage) {
    let mut made = Vec::new();
    for version in 1..=3 {
        if version > 1 {
            std::thread::sleep(Duration::from_millis(1100));
        }
        made.push(world.make_image(&format!("MyApp-v{version}")));
    }
    (made, world.make_image("Other-v1"))
}

#[test]
fn retire_keeps_newest_versions() {
    let world = World::new();
    let (made, other) = versions(&world);
    let runbook = world.write_runbook("retire.rhai", r#"retire("MyApp-", 1)"#);
    let result = world
        .run_runbook(&runbook, &["--output", "json"])
        .success()
        .json();

    assert_eq!(result["kept"], serde_json::json!([made[2].image_id]));
    let retired: Vec<&str> = result["retired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["image_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        retired,
        [made[0].image_id.as_str(), made[1].image_id.as_str()]
    );
    assert_eq!(world.image_ids_named("MyApp-"), [made[2].image_id.clone()]);
    assert_eq!(world.image_ids_named("Other-"), vec![other.image_id]);
    for image in &made[..2] {
        for snapshot in &image.snapshots {
            assert!(!world.snapshot_exists(snapshot), "{snapshot} not deleted");
        }
    }
    for snapshot in &made[2].snapshots {
        assert!(
            world.snapshot_exists(snapshot),
            "{snapshot} of the kept image deleted"
        );
    }
}

#[test]
fn retire_rejects_shared_version() {
    let world = World::new();
    let (made, _) = versions(&world);
    world.grant_launch(&made[0].image_id, PARTNER);
    let runbook = world.write_runbook("retire.rhai", r#"retire("MyApp-", 1)"#);
    world
        .run_runbook(&runbook, &[])
        .failure(2)
        .stderr_contains(&format!(
            "retire of {} (MyApp-v1) rejected: it is still shared with {PARTNER}. \
             Unshare it first, or pass options.force to unshare and retire it",
            made[0].image_id
        ));
    let mut all: Vec<String> = made.iter().map(|i| i.image_id.clone()).collect();
    all.sort();
    assert_eq!(world.image_ids_named("MyApp-"), all);
    assert_eq!(world.proxy.count("DeregisterImage"), 0);
}

#[test]
fn retire_force_unshares_first() {
    let world = World::new();
    let (made, _) = versions(&world);
    world.grant_launch(&made[0].image_id, PARTNER);
    world.grant_snapshot(&made[0].snapshots[0], PARTNER);
    let runbook = world.write_runbook("retire.rhai", r#"retire("MyApp-", 2, #{ force: true })"#);
    let result = world
        .run_runbook(&runbook, &["--output", "json"])
        .success()
        .json();

    let retired = &result["retired"][0];
    assert_eq!(retired["image_id"], made[0].image_id.as_str());
    assert_eq!(retired["unshared"]["removed"][0], PARTNER);
    assert_eq!(retired["unshared"]["snapshots"][0]["removed"][0], PARTNER);
    let mut kept = vec![made[1].image_id.clone(), made[2].image_id.clone()];
    kept.sort();
    assert_eq!(world.image_ids_named("MyApp-"), kept);
    assert!(!world.snapshot_exists(&made[0].snapshots[0]));

    let order: Vec<String> = world
        .proxy
        .mutating_calls()
        .into_iter()
        .map(|c| c.operation)
        .filter(|o| o != "RunInstances")
        .collect();
    let position = |op: &str| order.iter().position(|o| o == op).unwrap();
    assert!(
        position("ModifyImageAttribute") < position("DeregisterImage"),
        "{order:?}"
    );
    assert!(
        position("DeregisterImage") < position("DeleteSnapshot"),
        "{order:?}"
    );
}

#[test]
fn retire_rejects_bad_arguments() {
    let world = World::new();
    let runbook = world.write_runbook("retire.rhai", r#"retire("MyApp-", 0)"#);
    world.run_runbook(&runbook, &[]).failure(2).stderr_contains(
        "invalid keep `0`: retire keeps at least the newest image; pass 1 or more",
    );
    let runbook = world.write_runbook("retire.rhai", r#"retire("MyApp-*", 1)"#);
    world
        .run_runbook(&runbook, &[])
        .failure(2)
        .stderr_contains("invalid name prefix `MyApp-*`");
    assert_eq!(world.proxy.count("DescribeImages"), 0);
}

#[test]
fn retire_plan_changes_nothing() {
    let world = World::new();
    let (made, _) = versions(&world);
    let runbook = world.write_runbook("retire.rhai", r#"retire("MyApp-", 2)"#);
    world
        .amirun()
        .args(["plan"])
        .arg_path(&runbook)
        .run()
        .success()
        .stdout_contains(&format!(
            "deregister_image in ap-south-1: {}",
            made[0].image_id
        ))
        .stdout_contains(&format!(
            "delete_snapshot in ap-south-1: {}",
            made[0].snapshots[0]
        ));
    assert_eq!(world.image_ids_named("MyApp-").len(), 3);
    assert_eq!(world.proxy.count("DeregisterImage"), 0);
}

/// Mock test: moto has no EnableImageDeprecation, so a rule with AWS's response shape
/// returns its output and checks the request.
#[test]
fn deprecate_sends_time() {
    let image_id = "ami-0123456789abcdef0";
    let caller = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
        aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
            .account(OWNER_ACCOUNT)
            .build()
    });
    let describe = mock!(aws_sdk_ec2::Client::describe_images).then_output(move || {
        aws_sdk_ec2::operation::describe_images::DescribeImagesOutput::builder()
            .images(
                Image::builder()
                    .image_id(image_id)
                    .name("MyApp-v1")
                    .state(ImageState::Available)
                    .owner_id(OWNER_ACCOUNT)
                    .build(),
            )
            .build()
    });
    let deprecate = mock!(aws_sdk_ec2::Client::enable_image_deprecation)
        .match_requests(move |request| {
            request.image_id() == Some(image_id)
                && request.deprecate_at().map(|t| t.secs()) == Some(4_102_444_800)
        })
        .then_output(|| {
            aws_sdk_ec2::operation::enable_image_deprecation::EnableImageDeprecationOutput::builder(
            )
            .r#return(true)
            .build()
        });
    let rules = MockRules {
        ec2: vec![&describe, &deprecate],
        kms: vec![],
        sts: vec![&caller],
    };
    let session = Session::new(mocked_aws(Backend::MocksOnly, SOURCE_REGION, &rules), false);

    let result = session.eval_ok(&format!(r#"deprecate("{image_id}", "2100-01-01")"#));
    assert_eq!(result["deprecate_at"], "2100-01-01T00:00:00Z");
    assert_eq!(deprecate.num_calls(), 1);
}

#[test]
fn deprecate_rejects_past_time() {
    let session = Session::new(
        mocked_aws(Backend::MocksOnly, SOURCE_REGION, &MockRules::default()),
        false,
    );
    let error = session.eval_err(r#"deprecate("ami-0123456789abcdef0", "2001-01-01")"#);
    assert_eq!(
        error,
        "invalid deprecation time `2001-01-01`: the time must lie in the future, because AWS accepts no past deprecation time"
    );
    let error = session.eval_err(r#"deprecate("ami-0123456789abcdef0", "next week")"#);
    assert!(
        error.starts_with("invalid deprecation time `next week`"),
        "{error}"
    );
}
