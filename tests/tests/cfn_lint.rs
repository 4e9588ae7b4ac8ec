//! AWS's own linter over every synthesized template: zero errors and zero warnings (only
//! informational findings are let through).

use std::collections::BTreeMap;

#[test]
fn cfn_lint_reports_no_errors_and_no_warnings() {
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
                if level != "Informational" {
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
fn cfn_lint_warns_of_a_hard_coded_zone() {
    // The zero-warning check can fail: a zone written into a subnet is a warning (W3010).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zone.template.json");
    let template = serde_json::json!({
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.0.0/20", "AvailabilityZone": "us-east-1a"
            }}
        }
    });
    std::fs::write(&path, template.to_string()).unwrap();
    let findings = tests::lint(&path, "us-east-1");
    assert!(
        findings
            .iter()
            .any(|m| m["Level"] == "Warning" && m["Rule"]["Id"] == "W3010"),
        "cfn-lint accepted a hard-coded zone: {findings:?}"
    );
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
