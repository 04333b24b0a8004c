//! `amirun plan` and `amirun describe`.

use crate::support::World;

#[test]
fn plan_makes_no_mutating_call() {
    let world = World::new();
    let finished = world
        .amirun()
        .args([
            "plan",
            "runbooks/eduglobal.rhai",
            "--param",
            &format!("source_instance={}", world.instance),
        ])
        .run()
        .success();
    assert_eq!(
        world.proxy.mutating_calls(),
        vec![],
        "plan changed something"
    );
    assert!(world.owned_images().is_empty(), "plan created an image");
    let plan = finished.stdout;
    assert!(
        plan.contains("create_image in ap-south-1: (new image 1: ap-south-1)"),
        "{plan}"
    );
    assert!(plan.contains("copy_image in ap-southeast-1"), "{plan}");
    assert!(plan.contains("copy_image in ap-southeast-3"), "{plan}");
    assert!(plan.contains("+ 123456789015"), "{plan}");
    assert_eq!(plan.matches("put_agreement").count(), 4, "{plan}");
    assert_eq!(
        plan.matches("the record names an image known only after the run, so its key and content will differ")
            .count(),
        4,
        "{plan}"
    );
}

#[test]
fn plan_diffs_existing_launch_permissions() {
    let world = World::new();
    world.run_eduglobal(&[]).success();
    let copy = world
        .owned_images()
        .into_iter()
        .find(|i| i.region == "ap-southeast-1")
        .unwrap();
    world.proxy.clear_calls();

    let finished = world
        .amirun()
        .args([
            "--output",
            "json",
            "plan",
            "tests/fixtures/runbooks/share_with.rhai",
        ])
        .args([
            "--param",
            &format!("image={}", copy.image_id),
            "--param",
            "region=ap-southeast-1",
        ])
        .args(["--param", "accounts=123456789012,111122223333"])
        .run()
        .success();
    assert_eq!(world.proxy.mutating_calls(), vec![]);
    let plan = finished.json();
    let share = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["operation"] == "share")
        .expect("no share change");
    let diff: Vec<&str> = share["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(diff.contains(&"= 123456789012"), "{diff:?}");
    assert!(diff.contains(&"+ 111122223333"), "{diff:?}");
    assert!(!diff.contains(&"+ 123456789012"), "{diff:?}");
}

#[test]
fn describe_prints_header() {
    let world = World::new();
    let finished = world
        .amirun()
        .args(["describe", "runbooks/eduglobal.rhai"])
        .run()
        .success();
    assert!(
        finished.stdout.starts_with("eduglobal (version 2023.09.2)"),
        "{}",
        finished.stdout
    );
    assert!(finished.stdout.contains("source_instance"));
    assert!(finished.stdout.contains("(required)"));
    assert!(finished
        .stdout
        .contains("(default \"mylearning-compliance-records\")"));
    assert!(world.proxy.calls().is_empty(), "describe called AWS");
}

#[test]
fn unknown_and_missing_parameters_exit_2() {
    let world = World::new();
    world
        .amirun()
        .args([
            "run",
            "runbooks/eduglobal.rhai",
            "--param",
            "source_instanse=i-0123456789abcdef0",
        ])
        .run()
        .failure(2)
        .stderr_contains("unknown parameter `source_instanse`");
    world
        .amirun()
        .args(["run", "runbooks/eduglobal.rhai"])
        .run()
        .failure(2)
        .stderr_contains("missing required parameter `source_instance`");
    assert!(world.proxy.calls().is_empty(), "a rejected run called AWS");
}

#[test]
fn headerless_runbook_runs_unversioned() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adhoc.rhai");
    std::fs::write(&path, "caller_account()\n").unwrap();
    let finished = world
        .amirun()
        .args(["--output", "json", "run"])
        .arg_path(&path)
        .args(["--state-dir"])
        .arg_path(world.state.path())
        .run()
        .success()
        .stderr_contains("runbook has no header");
    assert_eq!(finished.json(), "210987654321");
}
