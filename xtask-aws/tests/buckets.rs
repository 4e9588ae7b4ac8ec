//! Emptying a versioned bucket (what destroy does before deleting a stack that holds one),
//! against the emulator: every version and every delete marker goes.

mod support;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use support::Moto;

#[tokio::test(flavor = "current_thread")]
async fn emptying_removes_every_version_and_delete_marker() {
    let moto = Moto::start();
    let before = moto.s3_fixture("create", "versioned-e2e");
    assert_eq!(before["versions"].as_array().unwrap().len(), 3, "{before}");
    assert_eq!(before["markers"].as_array().unwrap().len(), 1, "{before}");

    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&moto.url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let deleted = xtask_aws::buckets::empty(&s3, "versioned-e2e")
        .await
        .unwrap();
    assert_eq!(deleted, 4);
    let after = moto.s3_fixture("list", "versioned-e2e");
    assert_eq!(after, serde_json::json!({"versions": [], "markers": []}));
    // A bucket that is already gone counts as empty.
    assert_eq!(
        xtask_aws::buckets::empty(&s3, "no-such-bucket-e2e")
            .await
            .unwrap(),
        0
    );
}
