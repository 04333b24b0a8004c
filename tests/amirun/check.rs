//! `amirun check`: every check that needs no AWS call, aimed at the proxy to prove it makes
//! none.

use crate::support::{Finished, World};

fn check(world: &World, runbook: &str, params: &[&str]) -> Finished {
    let mut command = world.amirun().args(["check", runbook]);
    for param in params {
        command = command.args(["--param", param]);
    }
    command.run()
}

#[track_caller]
fn assert_no_call(world: &World) {
    let calls = world.proxy.calls();
    assert!(calls.is_empty(), "AWS calls: {calls:?}");
}

#[test]
fn check_passes_eduglobal() {
    let world = World::new();
    check(&world, "runbooks/eduglobal.rhai", &[])
        .success()
        .stdout_contains("eduglobal@2023.09.2: ok (4 partner entries checked)");
    assert_no_call(&world);
}

#[test]
fn check_catches_bad_partner() {
    let world = World::new();
    check(
        &world,
        "tests/fixtures/runbooks/partners.rhai",
        &["partners=../partners/integer_account.rhai"],
    )
    .failure(2)
    .stderr_contains("error: partner script tests/fixtures/runbooks/../partners/integer_account.rhai, entry #2 (Acme Asia), field `account`: invalid account ID `12345678901`: pass account IDs as strings (\"012345678901\"), because a number loses its leading zeros");
    check(
        &world,
        "tests/fixtures/runbooks/partners.rhai",
        &["partners=../partners/loop.rhai"],
    )
    .failure(2)
    .stderr_contains("error: partner script tests/fixtures/runbooks/../partners/loop.rhai failed: exceeded the limit of 1000000 operations\n");
    assert_no_call(&world);
}

#[test]
fn check_catches_syntax_error() {
    let world = World::new();
    check(&world, "tests/fixtures/runbooks/syntax_error.rhai", &[])
        .failure(2)
        .stderr_contains(concat!(
            "error: Syntax error: Expecting ',' to separate the arguments to function call 'create_image'\n",
            "  --> tests/fixtures/runbooks/syntax_error.rhai:6:49\n",
        ))
        .stderr_contains("   |                                                 ^\n");
    assert_no_call(&world);
}

#[test]
fn check_catches_bad_param() {
    let world = World::new();
    check(&world, "runbooks/eduglobal.rhai", &["nonsense=1"]).failure(2);
    assert_no_call(&world);
}
