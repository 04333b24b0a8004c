//! Partner scripts in the sandbox, and the runbook engine's own limits, through `amirun run`.

use std::time::{Duration, Instant};

use crate::support::World;

const PARTNERS: &str = "tests/fixtures/runbooks/../partners";

/// Runs the `partners.rhai` fixture with `script` from `tests/fixtures/partners/`.
fn run_partners(world: &World, script: &str) -> crate::support::Finished {
    world.run_fixture(
        "partners.rhai",
        &[&format!("partners=../partners/{script}")],
        &[],
    )
}

#[track_caller]
fn assert_no_call(world: &World) {
    let calls = world.proxy.calls();
    assert!(calls.is_empty(), "AWS calls: {calls:?}");
    world.assert_no_change();
}

#[test]
fn partner_loop_fails_fast() {
    let world = World::new();
    let started = Instant::now();
    run_partners(&world, "loop.rhai")
        .failure(2)
        .stderr_contains(&format!(
            "error: partner script {PARTNERS}/loop.rhai failed: exceeded the limit of 1000000 operations\n"
        ))
        .stderr_contains(&format!("  --> {PARTNERS}/loop.rhai:1:6\n"));
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_no_call(&world);
}

/// Copies of a large value through map-index assignment pass Rhai's size limits; the
/// memory limit stops them long before the machine runs out.
#[test]
fn partner_memory_growth_is_stopped() {
    let world = World::new();
    let started = Instant::now();
    run_partners(&world, "memory.rhai")
        .failure(2)
        .stderr_contains(&format!(
        "error: partner script {PARTNERS}/memory.rhai failed: exceeded the memory limit of 256 MiB"
    ));
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_no_call(&world);
}

/// The runbook catches the partner script's failure and goes on computing in its own engine,
/// whose operation budget the partner script did not use up.
#[test]
fn runbook_survives_partner_loop() {
    let world = World::new();
    let finished = world
        .amirun()
        .args([
            "--output",
            "json",
            "run",
            "tests/fixtures/runbooks/partners_caught.rhai",
        ])
        .args(["--state-dir"])
        .arg_path(world.state.path())
        .args(["--param", "partners=../partners/loop.rhai"])
        .run()
        .success();
    let value = finished.json();
    assert_eq!(value["total"], 4_999_950_000_i64);
    let caught = value["caught"].as_str().unwrap_or_default();
    assert!(
        caught.starts_with(&format!(
            "partner script {PARTNERS}/loop.rhai failed: exceeded the limit of 1000000 operations"
        )),
        "{caught}"
    );
    assert_no_call(&world);
}

#[test]
fn partner_cannot_call_host_functions() {
    let world = World::new();
    run_partners(&world, "create_image.rhai")
        .failure(2)
        .stderr_contains(&format!(
            "error: partner script {PARTNERS}/create_image.rhai failed: Function not found: create_image (&str | ImmutableString | String, &str | ImmutableString | String)\n  --> {PARTNERS}/create_image.rhai:1:1\n"
        ));
    assert_no_call(&world);
}

#[test]
fn partner_cannot_eval() {
    let world = World::new();
    run_partners(&world, "eval.rhai")
        .failure(2)
        .stderr_contains(&format!(
            "error: partner script {PARTNERS}/eval.rhai failed: Syntax error: reserved keyword 'eval' is disabled\n  --> {PARTNERS}/eval.rhai:1:16\n"
        ));
    assert_no_call(&world);
}

#[test]
fn partner_cannot_import() {
    let world = World::new();
    run_partners(&world, "import.rhai")
        .failure(2)
        .stderr_contains(&format!(
            "error: partner script {PARTNERS}/import.rhai failed: partner scripts cannot import modules; define the helpers in the script itself\n"
        ))
        .stderr_contains(&format!("  --> {PARTNERS}/import.rhai:1:1\n"));
    assert_no_call(&world);
}

#[test]
fn partner_integer_account_is_rejected() {
    let world = World::new();
    run_partners(&world, "integer_account.rhai")
        .failure(2)
        .stderr_contains(&format!(
            "error: partner script {PARTNERS}/integer_account.rhai, entry #2 (Acme Asia), field `account`: invalid account ID `12345678901`: pass account IDs as strings (\"012345678901\"), because a number loses its leading zeros\n"
        ));
    assert_no_call(&world);
}

#[test]
fn partner_duplicate_account_is_rejected() {
    let world = World::new();
    run_partners(&world, "duplicate_account.rhai")
        .failure(2)
        .stderr_contains(&format!(
            "error: partner script {PARTNERS}/duplicate_account.rhai, entry #2 (Acme Asia), field `account`: invalid account ID `123456789012`: each account appears once; merge the duplicate entries\n"
        ));
    assert_no_call(&world);
}

/// The good script's partners are shared with: the sandbox hands its result to the runbook.
#[test]
fn partner_accounts_reach_share() {
    let world = World::new();
    run_partners(&world, "good.rhai").success();
    let images = world.owned_images();
    assert_eq!(images.len(), 1, "{images:?}");
    assert_eq!(images[0].launch, ["012345678901", "123456789012"]);
}

/// Each call level nests 40 more calls, and the function expression-depth limit stops 60, so
/// this builds close to the deepest stack the runbook limits allow. It must end in the
/// call-depth error, not a crash, in the debug build too.
#[test]
fn runbook_recursion_is_script_error() {
    let world = World::new();
    world
        .run_fixture("recursion.rhai", &[], &[])
        .failure(2)
        .stderr_contains("error: the runbook exceeded the limit of 96 nested function calls\nfunction calls nested too deeply\n");
    world.assert_no_change();
}

#[test]
fn runbook_loop_stops_at_operation_limit() {
    let world = World::new();
    world
        .run_fixture("endless_loop.rhai", &[], &[])
        .failure(2)
        .stderr_contains("error: the runbook exceeded the limit of 50000000 operations\nToo many operations\n  --> tests/fixtures/runbooks/endless_loop.rhai:7:6\n");
    world.assert_no_change();
}
