//! Copy limits and throttling: retried with backoff, and copies into one region capped.

use std::path::Path;
use std::time::Duration;

use crate::rollout_state::assert_complete_rollout;
use crate::support::World;

#[test]
fn copy_limit_exceeded_is_retried() {
    let world = World::new();
    world
        .proxy
        .reject("CopyImage", 1, 400, "ResourceLimitExceeded");
    world.run_eduglobal(&[]).success();
    assert_complete_rollout(&world);
    assert_eq!(
        world.proxy.count("CopyImage"),
        3,
        "the rejected copy was not sent again"
    );
}

#[test]
fn request_limit_on_share_is_retried() {
    let world = World::new();
    world
        .proxy
        .reject("ModifyImageAttribute", 1, 503, "RequestLimitExceeded");
    world.run_eduglobal(&[]).success();
    assert_complete_rollout(&world);
    assert_eq!(world.proxy.count("ModifyImageAttribute"), 3);
}

#[test]
fn copies_per_region_are_capped() {
    assert_copies_capped("copy_many.rhai");
}

#[test]
fn copy_images_batch_is_capped() {
    assert_copies_capped("copy_batch.rhai");
}

/// Runs a fixture that makes three copies into one region with a cap of one copy at a
/// time, and checks that each copy started only after the previous one was available.
#[track_caller]
fn assert_copies_capped(fixture: &str) {
    let pending = Duration::from_millis(1500);
    let world = World::with_options(|mut options| {
        options.pending_for = pending;
        options
    });
    world
        .runbook(
            &Path::new("tests/fixtures/runbooks").join(fixture),
            &["--max-copies-per-region", "1"],
        )
        .run()
        .success();
    let times = world.proxy.call_times("CopyImage");
    assert_eq!(times.len(), 3);
    for pair in times.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= pending,
            "a copy started {gap:?} after the previous one, before it was available"
        );
    }
}

#[test]
fn copies_start_together_without_cap() {
    let world = World::with_options(|mut options| {
        options.pending_for = Duration::from_millis(1500);
        options
    });
    world
        .runbook(Path::new("tests/fixtures/runbooks/copy_many.rhai"), &[])
        .run()
        .success();
    let times = world.proxy.call_times("CopyImage");
    assert_eq!(times.len(), 3);
    let spread = times[2].duration_since(times[0]);
    assert!(
        spread < Duration::from_millis(1500),
        "copies waited for each other: {spread:?}"
    );
}
