//! AWS's own linter over every synthesized template: zero errors, and no warning that has not
//! been reviewed and listed here with its reason.

use std::collections::BTreeMap;

/// Reviewed warnings: rule id → why we accept it.
const REVIEWED_WARNINGS: &[(&str, &str)] = &[(
    "W3010",
    "availability zones are named explicitly by design (SPEC §3.1): the zones come from validated configuration, and both regions' subnets must be placed deterministically",
)];

#[test]
fn cfn_lint_reports_no_errors_and_only_reviewed_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for suffix in tests::ENVIRONMENTS {
        let s = tests::synth(suffix);
        for (role, region, text) in s.templates() {
            let path = dir.path().join(format!("{role}@{suffix}.template.json"));
            std::fs::write(&path, text).unwrap();
            for m in tests::lint(&path, region) {
                let rule = m["Rule"]["Id"].as_str().unwrap_or("?").to_string();
                let level = m["Level"].as_str().unwrap_or("?");
                *counts.entry(format!("{level} {rule}")).or_default() += 1;
                let reviewed =
                    level == "Warning" && REVIEWED_WARNINGS.iter().any(|(id, _)| *id == rule);
                if !reviewed && level != "Informational" {
                    problems.push(format!(
                        "{role}@{suffix}: {level} {rule} at {}: {}",
                        m["Location"]["Path"], m["Message"]
                    ));
                }
            }
        }
    }
    println!("cfn-lint findings by level and rule: {counts:?}");
    assert!(problems.is_empty(), "cfn-lint:\n{}", problems.join("\n"));
}

#[test]
fn cfn_lint_catches_what_the_compiler_cannot() {
    // A wrong enum value compiles (values are not typed) but must not pass the linter.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.template.json");
    let bad = serde_json::json!({
        "Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "BillingMode": "ON_DEMAND",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]
        }}}
    });
    std::fs::write(&path, bad.to_string()).unwrap();
    let findings = tests::lint(&path, "us-east-1");
    assert!(
        findings.iter().any(|m| m["Level"] == "Error"),
        "cfn-lint accepted an invalid billing mode: {findings:?}"
    );
}
