//! The vendored schemas are exactly what `cargo xtask schemas` makes from the pinned cfn-lint.

#[test]
fn vendored_schemas_match_the_pinned_cfn_lint() {
    let dir = xtask::schemas::schema_dir();
    let source = xtask::schemas::cfn_lint_schemas().unwrap_or_else(|e| panic!("{e:#}"));
    let types = xtask::schemas::listed_types(&dir).unwrap();
    let wanted = xtask::schemas::vendored_form(&source, &types).unwrap();
    assert_eq!(wanted.len(), types.len());
    let drift = xtask::schemas::drift(&dir, &wanted).unwrap();
    assert!(
        drift.is_empty(),
        "{}\nrun `cargo xtask schemas` locally and commit the result",
        drift.join("\n")
    );
}
