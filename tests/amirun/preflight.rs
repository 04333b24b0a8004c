//! Problems the preflight pass finds before any change: name conflicts with images from
//! other sources, missing buckets, keys in the wrong region, out-of-range options.

use crate::support::{block_on, fixtures, World};

#[test]
fn same_name_from_other_instance_is_rejected() {
    let world = World::new();
    world.run_eduglobal(&[]).success();
    let other =
        block_on(fixtures::provision_instance(&world.emulator.url())).expect("no second instance");
    world.proxy.clear_calls();

    let finished = world
        .amirun()
        .args(["run", "runbooks/eduglobal.rhai", "--state-dir"])
        .arg_path(world.state.path())
        .args([
            "--param",
            &format!("source_instance={other}"),
            "--param",
            "version=2023.09.1",
        ])
        .run()
        .failure(2);
    let expected = format!(
        "an image named \"MyLearning-Platform-v2023.09.1\" already exists in ap-south-1 ({}, made from instance {})",
        world.owned_images().iter().find(|i| i.region == "ap-south-1").unwrap().image_id,
        world.instance
    );
    assert!(finished.stderr.contains(&expected), "{}", finished.stderr);
    assert_eq!(
        world.proxy.mutating_calls(),
        vec![],
        "the rejected run changed something"
    );
}

#[test]
fn same_name_from_unknown_source_is_rejected() {
    let world = World::new();
    block_on(async {
        fixtures::ec2(&world.emulator.url(), fixtures::SOURCE_REGION)
            .register_image()
            .name("MyLearning-Platform-v2023.09.1")
            .send()
            .await
            .expect("RegisterImage failed")
    });
    world
        .run_eduglobal(&[])
        .failure(2)
        .stderr_contains("made from an unknown source");
    assert_eq!(world.proxy.mutating_calls(), vec![]);
}

#[test]
fn missing_records_bucket_is_found_first() {
    let world = World::new();
    world
        .run_eduglobal(&["--param", "records_bucket=no-such-records-bucket"])
        .failure(2)
        .stderr_contains(
            "S3 bucket `no-such-records-bucket` does not exist or this account may not use it",
        );
    world.assert_no_change();
}

#[test]
fn copy_key_from_other_region_is_rejected() {
    let world = World::new();
    let key = "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    world
        .run_eduglobal(&["--param", &format!("kms_keys=ap-southeast-1={key}")])
        .failure(2)
        .stderr_contains("so its key must be in ap-southeast-1, not us-east-1");
    world.assert_no_change();
}

#[test]
fn huge_timeout_is_rejected() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wait.rhai");
    std::fs::write(
        &path,
        "wait_available(\"ami-0123456789abcdef0\", #{ timeout: 1e300 })\n",
    )
    .unwrap();
    world
        .amirun()
        .args(["run"])
        .arg_path(&path)
        .args(["--state-dir"])
        .arg_path(world.state.path())
        .run()
        .failure(2)
        .stderr_contains("needs `timeout` above 0 and at most 2592000 seconds (30 days)");
}

/// AWS rejects a copy into an opt-in region the account never enabled, or into a region that
/// does not exist, only after the source image is made. The preflight finds it first.
#[test]
fn partner_region_not_enabled_is_rejected() {
    let world = World::new();
    let partners = std::fs::canonicalize("tests/fixtures/partners/unknown_region.rhai")
        .expect("fixture is missing");
    let partners = format!("partners={}", partners.display());
    let finished = world.run_eduglobal(&["--param", &partners]).failure(2);
    assert!(
        finished
            .stderr
            .contains("region `ap-nowhere-9` is not enabled for this account, or does not exist"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("ap-southeast-1"),
        "the error does not list the enabled regions: {}",
        finished.stderr
    );
    assert_eq!(world.proxy.mutating_calls(), vec![]);
    assert_eq!(world.proxy.count("DescribeRegions"), 1);
}

/// A mistyped instance ID fails the preflight, before the clean-up commands run on anything.
#[test]
fn missing_instance_is_rejected() {
    let world = World::new();
    let finished = world
        .amirun()
        .args(["run", "runbooks/eduglobal.rhai", "--state-dir"])
        .arg_path(world.state.path())
        .args([
            "--param",
            "source_instance=i-0123456789abcdef0",
            "--param",
            "version=2023.09.1",
        ])
        .run()
        .failure(2);
    assert!(
        finished.stderr.contains(
            "instance i-0123456789abcdef0 was not found in ap-south-1, or it is terminated"
        ),
        "{}",
        finished.stderr
    );
    assert_eq!(world.proxy.mutating_calls(), vec![]);
    assert_eq!(world.proxy.count("DescribeInstances"), 1);
}
