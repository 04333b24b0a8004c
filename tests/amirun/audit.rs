//! The audit trail.

use crate::support::World;

#[test]
fn audit_has_one_line_per_call() {
    let world = World::new();
    world.run_eduglobal(&[]).success();
    let dir = world.state.path().join("audit");
    let files: Vec<_> = std::fs::read_dir(&dir).expect("no audit folder").collect();
    assert_eq!(files.len(), 1, "one run, one audit file");
    let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is not JSON"))
        .collect();

    assert_eq!(
        lines.len(),
        world.proxy.calls().len(),
        "audit lines and calls seen by the proxy differ"
    );
    for line in &lines {
        for field in [
            "time",
            "run_id",
            "runbook",
            "version",
            "hash",
            "operation",
            "region",
            "parameters",
            "outcome",
        ] {
            assert!(
                line.get(field).is_some(),
                "audit line lacks {field}: {line}"
            );
        }
        assert_eq!(line["runbook"], "eduglobal");
        assert_eq!(line["version"], "2023.09.2");
        assert_eq!(line["outcome"], "ok");
        assert_eq!(line["hash"].as_str().map(str::len), Some(64));
    }
    let operations: Vec<&str> = lines
        .iter()
        .map(|l| l["operation"].as_str().unwrap())
        .collect();
    assert_eq!(operations.iter().filter(|o| **o == "CopyImage").count(), 2);
    assert!(
        !text.contains("emulator"),
        "the audit trail holds the access key"
    );
}
