//! One reviewed snapshot per stack and environment, plus the manifest. In CI (`CI=true`) a
//! difference fails instead of writing a new snapshot; review changes with `cargo insta review`.

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

#[test]
fn templates_and_manifests_match_their_snapshots() {
    settings().bind(|| {
        for suffix in tests::ENVIRONMENTS {
            let s = tests::synth(suffix);
            insta::assert_snapshot!(format!("primary@{suffix}"), s.primary);
            insta::assert_snapshot!(format!("secondary@{suffix}"), s.secondary);
            insta::assert_snapshot!(format!("manifest@{suffix}"), s.manifest);
        }
    });
}
