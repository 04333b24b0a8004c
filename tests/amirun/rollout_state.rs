//! The state a finished EduGlobal rollout leaves in the emulator, checked the same way by
//! every test that interrupts, resumes or repeats a run.

use crate::support::World;

pub const PARTNERS: &[(&str, &str)] = &[
    ("123456789012", "ap-southeast-1"),
    ("123456789013", "ap-southeast-1"),
    ("123456789014", "ap-southeast-1"),
    ("123456789015", "ap-southeast-3"),
];

/// Asserts what an uninterrupted run leaves: one image per region, each partner able to
/// launch and copy its region's image, one SSE-KMS record per partner naming that image.
#[track_caller]
pub fn assert_complete_rollout(world: &World) {
    let images = world.owned_images();
    for region in ["ap-south-1", "ap-southeast-1", "ap-southeast-3"] {
        let count = images.iter().filter(|i| i.region == region).count();
        assert_eq!(count, 1, "images in {region}: {images:#?}");
    }
    for (account, region) in PARTNERS {
        let image = images
            .iter()
            .find(|i| i.region == *region)
            .expect("no image in the partner's region");
        assert!(
            image.launch.contains(&account.to_string()),
            "{account} cannot launch {image:?}"
        );
        assert!(
            !image.snapshots.is_empty(),
            "{} has no snapshots",
            image.image_id
        );
        for (snapshot, accounts) in &image.snapshots {
            assert!(
                accounts.contains(&account.to_string()),
                "{account} cannot copy snapshot {snapshot}"
            );
        }
    }
    let records = world.records();
    assert_eq!(records.len(), PARTNERS.len(), "records: {records:#?}");
    for (account, region) in PARTNERS {
        let regional = &images
            .iter()
            .find(|i| i.region == *region)
            .unwrap()
            .image_id;
        let (key, record, sse) = records
            .iter()
            .find(|(_, r, _)| r["partner"]["account"] == *account)
            .unwrap_or_else(|| panic!("no record for {account}"));
        assert_eq!(sse, "aws:kms", "{key}");
        assert_eq!(record["image"]["image_id"], regional.as_str(), "{key}");
    }
}
