//! Errors shown with file:line:col, the source line and a caret; exit status 2 for errors
//! found before any change, 1 for failures after one.

use crate::support::World;

const PARTNERS: &str = "tests/fixtures/runbooks/../partners";

#[test]
fn runbook_syntax_error_shows_caret() {
    let world = World::new();
    world
        .run_fixture("syntax_error.rhai", &[], &[])
        .failure(2)
        .stderr_contains(concat!(
            "error: Syntax error: Expecting ',' to separate the arguments to function call 'create_image'\n",
            "  --> tests/fixtures/runbooks/syntax_error.rhai:6:49\n",
            "   |\n",
            " 6 | let image = create_image(params.source_instance \"amirun-display-test\");\n",
            "   |                                                 ^\n",
        ));
    world.assert_no_change();
}

/// The failure comes after the image was made, so the status is 1 and the run can resume.
#[test]
fn runbook_runtime_error_exits_one() {
    let world = World::new();
    let finished = world
        .run_fixture("fail_after_change.rhai", &[], &[])
        .failure(1)
        .stderr_contains("  --> tests/fixtures/runbooks/fail_after_change.rhai:10:")
        .stderr_contains(" 10 | let size = sizes[info.state] + 1;\n")
        .stderr_contains("run the same command again to resume it");
    let caret_line = finished
        .stderr
        .lines()
        .find(|line| line.trim_end().ends_with('^'))
        .unwrap_or_else(|| panic!("no caret:\n{}", finished.stderr));
    assert!(caret_line.starts_with("    | "), "{caret_line}");
    assert_eq!(world.owned_images().len(), 1);
}

#[test]
fn partner_syntax_error_shows_caret() {
    let world = World::new();
    world
        .run_fixture("partners.rhai", &["partners=../partners/syntax_error.rhai"], &[])
        .failure(2)
        .stderr_contains(&format!(
            "error: partner script {PARTNERS}/syntax_error.rhai failed: Syntax error: Expecting ',' to separate the items of this object map literal\n"
        ))
        .stderr_contains(&format!(
            concat!(
                "  --> {}/syntax_error.rhai:2:46\n",
                "   |\n",
                " 2 |     #{{ name: \"Acme\", account: \"123456789012\" region: \"ap-southeast-1\" }},\n",
                "   |                                              ^\n",
            ),
            PARTNERS
        ))
        .stderr_contains(" 9 | let partners = load_partners(params.partners);\n");
    world.assert_no_change();
}

/// A partner script fails before any change, so even its runtime errors exit with 2.
#[test]
fn partner_runtime_error_shows_caret() {
    let world = World::new();
    world
        .run_fixture("partners.rhai", &["partners=../partners/runtime_error.rhai"], &[])
        .failure(2)
        .stderr_contains(&format!(
            concat!(
                "error: partner script {}/runtime_error.rhai failed: Array index 1 out of bounds: only 1 element in array\n",
                "  --> {}/runtime_error.rhai:3:63\n",
                "   |\n",
                " 3 |     #{{ name: \"Acme\", account: \"123456789012\", region: regions[1] }},\n",
                "   |                                                               ^\n",
            ),
            PARTNERS, PARTNERS
        ));
    world.assert_no_change();
}
