//! Waiting for images: time-based timeouts, failed images, and new images that
//! DescribeImages does not list yet.

use std::path::Path;
use std::time::Duration;

use crate::support::World;

const CREATE_AND_WAIT: &str = "tests/fixtures/runbooks/create_and_wait.rhai";

#[test]
fn wait_timeout_names_pending_images() {
    let world = World::with_options(|mut options| {
        options.pending_for = Duration::from_secs(120);
        options
    });
    let finished = world
        .runbook(Path::new(CREATE_AND_WAIT), &["--param", "timeout=1"])
        .run()
        .failure(1);
    let image = world.owned_images().pop().expect("no image was created");
    assert!(
        finished.stderr.contains("timed out after 1s"),
        "{}",
        finished.stderr
    );
    assert!(
        finished
            .stderr
            .contains(&format!("still pending: {} (ap-south-1)", image.image_id)),
        "{}",
        finished.stderr
    );
    assert!(
        finished
            .stderr
            .contains("run the same command again to resume"),
        "{}",
        finished.stderr
    );
}

#[test]
fn resumed_wait_finishes_without_new_image() {
    let world = World::with_options(|mut options| {
        options.pending_for = Duration::from_secs(2);
        options
    });
    world
        .runbook(Path::new(CREATE_AND_WAIT), &["--param", "timeout=0.2"])
        .run()
        .failure(1);
    std::thread::sleep(Duration::from_secs(2));
    world
        .runbook(Path::new(CREATE_AND_WAIT), &["--param", "timeout=0.2"])
        .run()
        .success();
    assert_eq!(world.proxy.count("CreateImage"), 1);
}

#[test]
fn failed_copy_stops_wait_at_once() {
    let world = World::new();
    world.proxy.fail_next_copy(
        "InvalidSnapshot.NotFound",
        "the source snapshot was deleted",
    );
    let finished = world.run_eduglobal(&[]).failure(1);
    assert!(
        finished
            .stderr
            .contains("turned `failed`: InvalidSnapshot.NotFound: the source snapshot was deleted"),
        "{}",
        finished.stderr
    );
    assert!(
        !finished.stderr.contains("timed out"),
        "{}",
        finished.stderr
    );
    assert_eq!(
        world.proxy.count("ModifyImageAttribute"),
        0,
        "an image was shared after a copy failed"
    );
}

#[test]
fn new_image_not_found_is_retried() {
    let world = World::new();
    world
        .proxy
        .not_found_while_fresh(Duration::from_millis(1500));
    world.run_eduglobal(&[]).success();
    crate::rollout_state::assert_complete_rollout(&world);
    assert_eq!(
        world.proxy.count("CreateTags"),
        0,
        "tags were applied by a later call"
    );
}

#[test]
fn unknown_image_fails_without_retry() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("describe.rhai");
    std::fs::write(&path, "describe_image(\"ami-0123456789abcdef0\")\n").unwrap();
    world.proxy.clear_calls();
    world
        .amirun()
        .args(["run"])
        .arg_path(&path)
        .args(["--state-dir"])
        .arg_path(world.state.path())
        .run()
        .failure(1)
        .stderr_contains("InvalidAMIID.NotFound");
    // The preflight pass describes the image once and stops: no retry for an image this
    // run did not make.
    assert_eq!(world.proxy.count("DescribeImages"), 1);
}

#[test]
fn deregistered_image_fails_wait() {
    let world = World::new();
    let image = crate::support::block_on(async {
        let ec2 = crate::support::fixtures::ec2(&world.emulator.url(), "ap-south-1");
        let registered = ec2
            .register_image()
            .name("gone-image")
            .send()
            .await
            .expect("RegisterImage failed");
        let id = registered.image_id().expect("no image ID").to_owned();
        ec2.deregister_image()
            .image_id(&id)
            .send()
            .await
            .expect("DeregisterImage failed");
        id
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wait.rhai");
    std::fs::write(
        &path,
        format!("wait_available(\"{image}\", #{{ timeout: 60 }})\n"),
    )
    .unwrap();
    world
        .amirun()
        .args(["run"])
        .arg_path(&path)
        .args(["--state-dir"])
        .arg_path(world.state.path())
        .run()
        .failure(1)
        .stderr_contains(&format!("image {image} is not listed in ap-south-1"));
}

#[test]
fn closed_stdout_is_not_a_crash() {
    let world = World::new();
    let mut child = world
        .amirun()
        .args([
            "plan",
            "runbooks/eduglobal.rhai",
            "--param",
            &format!("source_instance={}", world.instance),
        ])
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn failed");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait failed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}
