//! Sharing an image always shares its snapshots with the same accounts, copies included.

use std::path::Path;

use crate::support::World;

#[test]
fn share_adds_snapshot_permissions() {
    let world = World::new();
    world
        .runbook(
            Path::new("tests/fixtures/runbooks/create_and_share.rhai"),
            &["--param", "accounts=111122223333,444455556666"],
        )
        .run()
        .success();
    let copy = world
        .owned_images()
        .into_iter()
        .find(|i| i.region == "ap-southeast-1")
        .expect("no copy");
    assert_eq!(copy.launch, vec!["111122223333", "444455556666"]);
    assert!(!copy.snapshots.is_empty());
    for (snapshot, accounts) in &copy.snapshots {
        assert_eq!(
            accounts,
            &vec!["111122223333".to_owned(), "444455556666".to_owned()],
            "{snapshot}"
        );
    }
    // Snapshots first, then one launch-permission call for both accounts.
    assert_eq!(world.proxy.count("ModifyImageAttribute"), 1);
}

#[test]
fn share_again_adds_nothing() {
    let world = World::new();
    let runbook = Path::new("tests/fixtures/runbooks/share_with.rhai");
    world.run_eduglobal(&[]).success();
    let copy = world
        .owned_images()
        .into_iter()
        .find(|i| i.region == "ap-southeast-3")
        .unwrap();
    world.proxy.clear_calls();
    let finished = world
        .amirun()
        .args(["--output", "json", "run"])
        .arg_path(runbook)
        .args(["--state-dir"])
        .arg_path(world.state.path())
        .args([
            "--param",
            &format!("image={}", copy.image_id),
            "--param",
            "region=ap-southeast-3",
        ])
        .args(["--param", "accounts=123456789015"])
        .run()
        .success();
    let result = finished.json();
    assert_eq!(result["added"], serde_json::json!([]));
    assert_eq!(
        result["already_shared"],
        serde_json::json!(["123456789015"])
    );
    assert_eq!(
        world.proxy.count("ModifyImageAttribute"),
        0,
        "an already shared image was modified"
    );
}
