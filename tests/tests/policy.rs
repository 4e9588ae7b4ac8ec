//! Every policy rule holds on every synthesized template of every environment.

use tests::policy::{RULES, evaluate};

#[test]
fn synthesized_templates_break_no_rule() {
    let mut findings = Vec::new();
    let mut checked = 0;
    for suffix in tests::ENVIRONMENTS {
        let s = tests::synth(suffix);
        for (role, _, text) in s.templates() {
            let template = tests::json(text);
            checked += template["Resources"].as_object().unwrap().len();
            for f in evaluate(&template, suffix, role) {
                findings.push(format!("{suffix}/{role}: {f}"));
            }
        }
    }
    assert!(
        checked > 150,
        "expected the templates to hold resources, saw {checked}"
    );
    assert!(
        findings.is_empty(),
        "{} of {} rules broken:\n{}",
        findings.len(),
        RULES.len(),
        findings.join("\n")
    );
}

/// An environment that copies to a recovery account: both regions' plans copy to that account's
/// vault, both keys let it read the copies, the stacks output the vault policy its team sets,
/// and every rule holds (cfn-lint too: the lint test covers the shipped environments).
#[test]
fn copies_to_a_recovery_account_hold_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        xtask::workspace_root().join("env/default.toml"),
        dir.path().join("default.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rec.toml"),
        "[backup]\ncopy_account_id = \"210987654321\"\nair_gapped_vault = true\n",
    )
    .unwrap();
    let (_, s) = xtask::synth::synthesize(dir.path(), "rec").unwrap();
    for (role, template) in [("primary", &s.primary), ("secondary", &s.secondary)] {
        let t = template.to_json();
        let findings = evaluate(&t, "rec", role);
        assert!(findings.is_empty(), "{role}: {findings:?}");
        let text = t.to_string();
        assert!(
            text.contains("backup-vault:trading-dr-recovery"),
            "{role} copies to the recovery account"
        );
        assert!(
            text.contains("arn:${AWS::Partition}:iam::210987654321:root"),
            "{role}'s key lets the recovery account read the copies"
        );
        assert!(
            t["Outputs"]["RecoveryVaultAccessPolicy"]["Value"]
                .to_string()
                .contains("backup:CopyIntoBackupVault"),
            "{role} outputs the vault policy"
        );
    }
    let primary = s.primary.to_json().to_string();
    assert!(primary.contains("backup-vault:air-gapped-vault-rec"));
    let secondary = s.secondary.to_json();
    assert_eq!(
        secondary["Resources"]["AirGappedVault"]["Type"],
        "AWS::Backup::LogicallyAirGappedBackupVault"
    );
}
