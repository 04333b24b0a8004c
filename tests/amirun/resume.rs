//! Interrupted runs resume without duplicates: killed processes, lost replies, a lost
//! journal, changed runbooks and concurrent runs.

use std::process::Stdio;
use std::time::Duration;

use crate::rollout_state::assert_complete_rollout;
use crate::support::{send_ctrl_c, Amirun, World};

/// Starts `amirun` and kills it while the reply to its first `operation` is held at the
/// proxy, that is after the emulator has done the work.
fn kill_while_held(world: &World, amirun: Amirun, operation: &str) {
    let hold = world.proxy.hold_reply(operation, 1);
    let mut child = amirun
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn failed");
    assert!(
        hold.wait_held(Duration::from_secs(60)),
        "amirun never sent {operation}"
    );
    child.kill().expect("kill failed");
    child.wait().expect("wait failed");
    hold.release();
}

/// Kills a run at `operation`, then runs the same command again.
fn kill_at_then_resume(operation: &str) {
    let world = World::new();
    kill_while_held(&world, world.eduglobal(&[]), operation);

    world
        .run_eduglobal(&[])
        .success()
        .stderr_contains("resuming run");
    assert_complete_rollout(&world);
    assert_eq!(
        world.proxy.count("CreateImage"),
        1,
        "a second image was created"
    );
    assert_eq!(
        world.proxy.count("CopyImage"),
        2,
        "a copy was started twice"
    );
}

/// Loses the reply to the first `operation` on the network; the run either recovers at once
/// or a second run finishes it.
fn lose_reply_then_finish(operation: &str) {
    let world = World::new();
    world.proxy.drop_reply(operation, 1);
    let first = world.run_eduglobal(&[]);
    if first.status != Some(0) {
        world.run_eduglobal(&[]).success();
    }
    assert_complete_rollout(&world);
    assert_eq!(
        world.proxy.count("CreateImage"),
        1,
        "a second image was created"
    );
    assert_eq!(
        world.proxy.count("CopyImage"),
        2,
        "a copy was started twice"
    );
}

macro_rules! interrupt_tests {
    ($($kill:ident, $lose:ident => $operation:literal;)*) => {$(
        #[test]
        fn $kill() {
            kill_at_then_resume($operation);
        }

        #[test]
        fn $lose() {
            lose_reply_then_finish($operation);
        }
    )*};
}

interrupt_tests! {
    kill_at_send_command, lose_send_command_reply => "SendCommand";
    kill_at_create_image, lose_create_image_reply => "CreateImage";
    kill_at_copy_image, lose_copy_image_reply => "CopyImage";
    kill_at_snapshot_share, lose_snapshot_share_reply => "ModifySnapshotAttribute";
    kill_at_launch_share, lose_launch_share_reply => "ModifyImageAttribute";
    kill_at_put_agreement, lose_put_agreement_reply => "PutObject";
}

#[test]
fn lost_journal_adopts_existing_image() {
    let world = World::new();
    kill_while_held(&world, world.eduglobal(&[]), "CreateImage");
    std::fs::remove_dir_all(world.state.path()).expect("cannot remove the state directory");

    world.run_eduglobal(&[]).success();
    assert_complete_rollout(&world);
    assert_eq!(
        world.proxy.count("CreateImage"),
        1,
        "the image made before the journal was lost was not adopted"
    );
}

#[test]
fn finished_run_replays_without_changes() {
    let world = World::new();
    world.run_eduglobal(&[]).success();
    world.proxy.clear_calls();
    world
        .run_eduglobal(&[])
        .success()
        .stderr_contains("already finished");
    assert_eq!(
        world.proxy.mutating_calls(),
        vec![],
        "a replay made changes"
    );
}

#[test]
fn restart_adopts_and_rewrites_same_records() {
    let world = World::new();
    world.run_eduglobal(&[]).success();
    let keys_before: Vec<String> = world.records().into_iter().map(|(key, _, _)| key).collect();
    world.run_eduglobal(&["--restart"]).success();
    assert_complete_rollout(&world);
    assert_eq!(world.proxy.count("CreateImage"), 1);
    assert_eq!(world.proxy.count("CopyImage"), 2);
    let keys_after: Vec<String> = world.records().into_iter().map(|(key, _, _)| key).collect();
    assert_eq!(
        keys_before, keys_after,
        "a re-run wrote new agreement objects"
    );
}

/// Copies the EduGlobal runbook and its partner script into a temporary folder.
fn copied_runbook() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("no temp dir");
    std::fs::create_dir(dir.path().join("partners")).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    std::fs::copy(
        root.join("eduglobal.rhai"),
        dir.path().join("eduglobal.rhai"),
    )
    .unwrap();
    std::fs::copy(
        root.join("partners/eduglobal.rhai"),
        dir.path().join("partners/eduglobal.rhai"),
    )
    .unwrap();
    let path = dir.path().join("eduglobal.rhai");
    (dir, path)
}

#[test]
fn changed_runbook_is_rejected_on_resume() {
    let world = World::new();
    let (_dir, runbook) = copied_runbook();
    kill_while_held(&world, world.runbook(&runbook, &[]), "CopyImage");

    let mut text = std::fs::read_to_string(&runbook).unwrap();
    text.push_str("\n// A change after the run started.\n");
    std::fs::write(&runbook, text).unwrap();
    world.proxy.clear_calls();
    world
        .runbook(&runbook, &[])
        .run()
        .failure(2)
        .stderr_contains("changed since run")
        .stderr_contains("--restart");
    assert_eq!(
        world.proxy.mutating_calls(),
        vec![],
        "a rejected resume made changes"
    );

    world.runbook(&runbook, &["--restart"]).run().success();
    assert_complete_rollout(&world);
}

#[test]
fn second_concurrent_run_is_rejected() {
    let world = World::new();
    let hold = world.proxy.hold_reply("CreateImage", 1);
    let mut first = world
        .eduglobal(&[])
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(hold.wait_held(Duration::from_secs(60)));

    world
        .run_eduglobal(&[])
        .failure(2)
        .stderr_contains("another amirun run holds the state directory");
    hold.release();
    let status = first.wait().unwrap();
    assert!(
        status.success(),
        "the first run failed after the second was rejected"
    );
    assert_complete_rollout(&world);
}

/// Ctrl-C stops a run at its current call with a message, and the same command resumes it.
#[test]
fn ctrl_c_stops_run_for_resume() {
    let world = World::new();
    let hold = world.proxy.hold_reply("CopyImage", 1);
    let child = world
        .eduglobal(&[])
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn failed");
    assert!(
        hold.wait_held(Duration::from_secs(60)),
        "amirun never sent CopyImage"
    );
    send_ctrl_c(&child);
    let output = child.wait_with_output().expect("wait failed");
    hold.release();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cancelled by the operator"), "{stderr}");
    assert!(
        stderr.contains("stopped; run the same command again to resume it"),
        "{stderr}"
    );

    world
        .run_eduglobal(&[])
        .success()
        .stderr_contains("resuming run");
    assert_complete_rollout(&world);
}
