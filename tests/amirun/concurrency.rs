//! Batches that run at once: the copies of a rollout, the shares of its regions and its
//! agreement records. Each test delays one reply at the proxy and checks that the batch's
//! other calls still arrive, then that the run finishes as an uninterrupted one does.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::rollout_state::assert_complete_rollout;
use crate::support::{fixtures, send_ctrl_c, World};

/// Holds the first reply to `operation`, and returns how many `operation` calls reached the
/// proxy while it was held (waiting up to 20 s for `expected` of them).
fn calls_while_first_is_held(world: &World, operation: &str, expected: usize) -> usize {
    let hold = world.proxy.hold_reply(operation, 1);
    let mut child = world
        .eduglobal(&[])
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn failed");
    assert!(
        hold.wait_held(Duration::from_secs(60)),
        "amirun never sent {operation}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while world.proxy.count(operation) < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let seen = world.proxy.count(operation);
    hold.release();
    let status = child.wait().expect("wait failed");
    assert!(
        status.success(),
        "the run failed after the reply was released"
    );
    seen
}

/// Runs `amirun eval SCRIPT` and expects it to fail.
fn eval_fails(world: &World, script: &str) -> crate::support::Finished {
    world
        .amirun()
        .env(
            "AMIRUN_STATE_DIR",
            world
                .state
                .path()
                .to_str()
                .expect("state path is not UTF-8"),
        )
        .args(["eval", script])
        .run()
        .failure(1)
}

#[test]
fn copies_into_two_regions_start_together() {
    let world = World::new();
    let seen = calls_while_first_is_held(&world, "CopyImage", 2);
    assert_eq!(seen, 2, "the second copy waited for the first copy's reply");
    assert_eq!(world.proxy.count("CopyImage"), 2);
    assert_complete_rollout(&world);
}

#[test]
fn regions_are_shared_together() {
    let world = World::new();
    let seen = calls_while_first_is_held(&world, "ModifyImageAttribute", 2);
    assert_eq!(
        seen, 2,
        "the second region's share waited for the first region's"
    );
    assert_complete_rollout(&world);
}

#[test]
fn agreement_records_are_written_together() {
    let world = World::new();
    let seen = calls_while_first_is_held(&world, "PutObject", 4);
    assert_eq!(seen, 4, "records were written one after another");
    assert_complete_rollout(&world);
}

/// A copy that AWS refuses fails the run, the other copy of the batch is recorded as done,
/// and the next attempt starts only the refused one.
#[test]
fn resume_after_refused_copy() {
    let world = World::new();
    world
        .proxy
        .reject("CopyImage", 2, 400, "InvalidParameterValue");
    let finished = world.run_eduglobal(&[]).failure(1);
    assert!(
        finished.stderr.contains("InvalidParameterValue"),
        "{}",
        finished.stderr
    );
    assert_eq!(world.proxy.count("CopyImage"), 2);
    assert_eq!(
        world.proxy.count("ModifyImageAttribute"),
        0,
        "an image was shared after a copy failed"
    );

    world.proxy.clear_calls();
    world
        .run_eduglobal(&[])
        .success()
        .stderr_contains("resuming run");
    assert_eq!(
        world.proxy.count("CopyImage"),
        1,
        "the copy that succeeded was started again"
    );
    assert_complete_rollout(&world);
}

/// Every request of a batch is checked before the first copy starts.
#[test]
fn copy_images_checks_every_request_before_copying() {
    let world = World::new();
    let image = world.make_image("batch-source").image_id;
    let script = format!(
        r#"copy_images("{image}", [#{{ region: "ap-southeast-1", name: "batch-copy" }}, #{{ region: "ap-nowhere", name: "batch-copy" }}])"#
    );
    let finished = eval_fails(&world, &script);
    assert!(
        finished.stderr.contains("invalid region `ap-nowhere`"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("(copy_images item 1)"),
        "{}",
        finished.stderr
    );
    assert_eq!(world.proxy.count("CopyImage"), 0);
    assert!(world
        .owned_images()
        .iter()
        .all(|image| image.name != "batch-copy"));
}

/// Every entry of a batch is checked before the first record is written.
#[test]
fn put_agreements_checks_every_entry_before_writing() {
    let world = World::new();
    let script = format!(
        r#"put_agreements("{}", [#{{ key: "ok.json", record: #{{ n: 1 }} }}, #{{ key: "no-record.json" }}])"#,
        fixtures::RECORDS_BUCKET
    );
    let finished = eval_fails(&world, &script);
    assert!(
        finished
            .stderr
            .contains("put_agreements: item 1 needs `key` (a string) and `record` (a map)"),
        "{}",
        finished.stderr
    );
    assert_eq!(world.proxy.count("PutObject"), 0);
    assert!(world.records().is_empty());
}

/// Two items with the same region and name would become one copy, the second item's
/// options lost; they are rejected before any copy starts.
#[test]
fn copy_images_rejects_duplicate_destinations() {
    let world = World::new();
    let image = world.make_image("batch-source").image_id;
    let script = format!(
        r#"copy_images("{image}", [#{{ region: "ap-southeast-1", name: "batch-copy" }}, #{{ region: "ap-southeast-1", name: "batch-copy", description: "other" }}])"#
    );
    let finished = eval_fails(&world, &script);
    assert!(
        finished
            .stderr
            .contains("copy_images: items 0 and 1 both copy into ap-southeast-1 as \"batch-copy\""),
        "{}",
        finished.stderr
    );
    assert_eq!(world.proxy.count("CopyImage"), 0);
}

/// Two records under one key would leave only the second in S3.
#[test]
fn put_agreements_rejects_duplicate_keys() {
    let world = World::new();
    let script = format!(
        r#"put_agreements("{}", [#{{ key: "dup.json", record: #{{ n: 1 }} }}, #{{ key: "dup.json", record: #{{ n: 2 }} }}])"#,
        fixtures::RECORDS_BUCKET
    );
    let finished = eval_fails(&world, &script);
    assert!(
        finished
            .stderr
            .contains("put_agreements: items 0 and 1 both write `dup.json`"),
        "{}",
        finished.stderr
    );
    assert_eq!(world.proxy.count("PutObject"), 0);
    assert!(world.records().is_empty());
}

/// Outside a run there is no preflight, so each copy checks its region before the batch
/// starts any copy.
#[test]
fn copy_images_checks_region_outside_run() {
    let world = World::new();
    let image = world.make_image("batch-source").image_id;
    let script = format!(
        r#"copy_images("{image}", [#{{ region: "ap-southeast-1", name: "batch-copy" }}, #{{ region: "ap-nowhere-9", name: "batch-copy" }}])"#
    );
    let finished = eval_fails(&world, &script);
    assert!(
        finished
            .stderr
            .contains("region `ap-nowhere-9` is not enabled for this account, or does not exist"),
        "{}",
        finished.stderr
    );
    assert_eq!(world.proxy.count("CopyImage"), 0);
    assert_eq!(world.proxy.count("DescribeRegions"), 1);
}

/// A rejected region stays rejected: the same batch again starts no copy either.
#[test]
fn rejected_region_is_checked_again() {
    let world = World::new();
    let image = world.make_image("batch-source").image_id;
    let batch = format!(
        r#"copy_images("{image}", [#{{ region: "ap-southeast-1", name: "batch-copy" }}, #{{ region: "ap-nowhere-9", name: "batch-copy" }}])"#
    );
    let script = format!("try {{ {batch} }} catch (e) {{ }}\n{batch}");
    let finished = eval_fails(&world, &script);
    assert!(
        finished
            .stderr
            .contains("region `ap-nowhere-9` is not enabled for this account, or does not exist"),
        "{}",
        finished.stderr
    );
    assert_eq!(world.proxy.count("CopyImage"), 0);
}

/// After a resume, a copy that the journal records as started still takes its region's
/// only slot until it is available.
#[test]
fn cap_counts_copies_of_earlier_attempt() {
    let pending = Duration::from_secs(3);
    let world = World::with_options(|mut options| {
        options.pending_for = pending;
        options
    });
    let runbook = std::path::Path::new("tests/fixtures/runbooks/copy_batch.rhai");
    let cap = ["--max-copies-per-region", "1"];
    let child = world
        .runbook(runbook, &cap)
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn failed");
    let deadline = Instant::now() + Duration::from_secs(60);
    while world.proxy.count("CopyImage") < 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The first copy's result is in the journal; the run now waits for a slot.
    std::thread::sleep(Duration::from_millis(300));
    send_ctrl_c(&child);
    let stopped = child.wait_with_output().expect("wait failed");
    assert_eq!(stopped.status.code(), Some(1));
    assert_eq!(world.proxy.count("CopyImage"), 1);

    world.runbook(runbook, &cap).run().success();
    let times = world.proxy.call_times("CopyImage");
    assert_eq!(times.len(), 3);
    let gap = times[1].duration_since(times[0]);
    assert!(
        gap >= pending - Duration::from_millis(200),
        "the resumed run started a copy {gap:?} after the earlier attempt's, before it was available"
    );
}
