//! The EduGlobal rollout end to end.

use std::collections::BTreeMap;

use crate::rollout_state::{assert_complete_rollout, PARTNERS};
use crate::support::World;

#[test]
fn eduglobal_serves_every_partner() {
    let world = World::new();
    world
        .run_eduglobal(&[])
        .success()
        .stdout_contains("Agreement");
    assert_complete_rollout(&world);

    // The source image in ap-south-1 is not shared: partners use their regional copy.
    let images = world.owned_images();
    let source = images.iter().find(|i| i.region == "ap-south-1").unwrap();
    assert!(source.launch.is_empty(), "source image shared: {source:?}");
}

#[test]
fn eduglobal_copies_once_per_region() {
    let world = World::new();
    world.run_eduglobal(&[]).success();
    assert_eq!(world.proxy.count("CreateImage"), 1);
    assert_eq!(world.proxy.count("CopyImage"), 2);
    assert_eq!(world.proxy.count_in("ap-southeast-1", "CopyImage"), 1);
    assert_eq!(world.proxy.count_in("ap-southeast-3", "CopyImage"), 1);
    // One launch-permission call per image covers all of its accounts.
    assert_eq!(world.proxy.count("ModifyImageAttribute"), 2);
    assert_eq!(world.proxy.count("ModifySnapshotAttribute"), 2);
}

#[test]
fn eduglobal_writes_one_record_per_partner() {
    let world = World::new();
    world.run_eduglobal(&[]).success();
    let images = world.owned_images();
    let image_in: BTreeMap<String, String> = images
        .iter()
        .map(|i| (i.region.clone(), i.image_id.clone()))
        .collect();
    let records = world.records();
    assert_eq!(records.len(), PARTNERS.len(), "{records:#?}");

    for (account, region) in PARTNERS {
        let (key, record, sse) = records
            .iter()
            .find(|(_, r, _)| r["partner"]["account"] == *account)
            .unwrap_or_else(|| panic!("no record for {account}"));
        assert_eq!(sse, "aws:kms", "{key} is not SSE-KMS");
        assert_eq!(record["image"]["image_id"], image_in[*region], "{key}");
        assert_eq!(record["image"]["region"], *region);
        assert_eq!(record["owner_account"], "210987654321");
        assert_eq!(record["runbook"]["name"], "eduglobal");
        assert_eq!(record["runbook"]["version"], "2023.09.2");
        assert_eq!(record["runbook"]["hash"].as_str().map(str::len), Some(64));
        assert_eq!(record["terms"]["support_level"], "Premium");
        let id = record["agreement_id"].as_str().unwrap();
        assert!(
            key.ends_with(&format!("{id}.json")),
            "{key} does not name {id}"
        );
    }
}

#[test]
fn eduglobal_tags_images_with_the_run() {
    let world = World::new();
    world.run_eduglobal(&[]).success();
    let source = world
        .owned_images()
        .into_iter()
        .find(|i| i.region == "ap-south-1")
        .unwrap();
    let tag = |key: &str| {
        source
            .tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        tag("amirun:runbook").as_deref(),
        Some("eduglobal@2023.09.2")
    );
    assert_eq!(tag("amirun:run-id").map(|v| v.len()), Some(12));
    assert_eq!(tag("Purpose").as_deref(), Some("PartnerSharing"));
    // No tag packs the partner accounts into one value.
    assert!(source.tags.iter().all(|(_, v)| v.len() <= 256));
}

#[test]
fn region_key_encrypts_only_that_copy() {
    let world = World::new();
    let key = crate::support::block_on(async {
        let kms = crate::support::fixtures::kms(&world.emulator.url(), "ap-southeast-3");
        let created = kms.create_key().send().await.expect("CreateKey failed");
        created
            .key_metadata()
            .and_then(|m| m.arn())
            .expect("no key ARN")
            .to_owned()
    });
    world
        .run_eduglobal(&["--param", &format!("kms_keys=ap-southeast-3={key}")])
        .success();

    let audit_dir = world.state.path().join("audit");
    let file = std::fs::read_dir(&audit_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let copies: Vec<serde_json::Value> = std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|line| line["operation"] == "CopyImage")
        .collect();
    assert_eq!(copies.len(), 2);
    let in_region = |region: &str| {
        copies
            .iter()
            .find(|c| c["region"] == region)
            .expect("no copy")
            .clone()
    };
    assert_eq!(in_region("ap-southeast-3")["parameters"]["encrypted"], true);
    assert_eq!(
        in_region("ap-southeast-3")["parameters"]["kms_key_id"],
        key.as_str()
    );
    assert_eq!(
        in_region("ap-southeast-1")["parameters"]["encrypted"],
        false
    );
    assert_eq!(
        in_region("ap-southeast-1")["parameters"]["kms_key_id"],
        serde_json::Value::Null
    );
}
