//! AWS Backup in one region: a vault encrypted with the region's key (vault lock available,
//! off by default so the environment stays destroyable), a role, and two plans:
//! - `aurora`: continuous backup (point-in-time recovery) plus a daily recovery point;
//! - `daily`: a daily recovery point of the sessions table and the configuration bucket.
//!
//! Daily recovery points are copied to the other region's vault. AWS Backup does not cover ECS:
//! the configuration bucket it backs up holds every deployed template and task definition.
//!
//! ```
//! use cfn::Expr;
//! use cfn::naming::{Namer, Suffix};
//!
//! let props = backup::BackupProps::new(
//!     Namer::new(Suffix::parse("qa").unwrap(), "us-east-2"),
//!     Expr::from("arn:aws:kms:us-east-2:111122223333:key/1"),
//! );
//! let (fragment, vault) = backup::build(&props)?;
//! assert_eq!(fragment.resources().len(), 2); // vault and role: no plan without resources
//! # let _ = vault;
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::arn::Arn;
use cfn::aws::{backup, iam};
use cfn::iam::assume_role_by;
use cfn::naming::{self, Namer};
use cfn::{Error, Expr, Fragment, Handle, LogicalId, Pseudo};

/// Vault lock: recovery points cannot be deleted before `min_days`. In governance mode
/// (`compliance_after_days` none) a user with the right IAM permission can still remove the lock;
/// in compliance mode, once the grace period of `compliance_after_days` (at least 3) has passed,
/// nobody can — not the account's administrators, not AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VaultLock {
    /// Shortest retention a recovery point may have.
    pub min_days: u32,
    /// Longest retention a recovery point may have.
    pub max_days: u32,
    /// Compliance mode, immutable after this many days (`ChangeableForDays`). Default: none
    /// (governance mode).
    pub compliance_after_days: Option<u32>,
}

/// Restore tests: AWS Backup restores the latest recovery point of each protected resource on a
/// schedule, keeps it for validation, then deletes it; a failed restore is a failed job.
#[derive(Clone, Debug)]
pub struct RestoreTests {
    /// When tests run (AWS cron, UTC).
    pub schedule: String,
    /// The Aurora cluster (ARN), restored into its subnet group with its security group.
    pub aurora: Option<AuroraRestore>,
    /// DynamoDB tables, by ARN.
    pub tables: Vec<Expr>,
}

/// Where an Aurora restore test lands.
#[derive(Clone, Debug)]
pub struct AuroraRestore {
    /// The cluster's ARN.
    pub cluster_arn: Expr,
    /// Its DB subnet group (name).
    pub subnet_group: Expr,
    /// Its security group (id).
    pub security_group: Expr,
}

/// Where daily recovery points are copied.
#[derive(Clone, Debug)]
pub struct CopyTo {
    /// The other region's vault ARN.
    pub vault_arn: Expr,
    /// The condition under which the copy is configured (the vault exists), if any.
    pub condition: Option<LogicalId>,
}

/// Copies of the daily recovery points to a vault in another account, in the same region.
#[derive(Clone, Debug)]
pub struct AccountCopy {
    /// The other account (12 digits).
    pub account_id: String,
    /// The vault's name there (its team creates it, with an access policy that lets this
    /// account copy into it: [`recovery_vault_access_policy`]).
    pub vault_name: String,
}

/// A logically air-gapped vault: compliance-locked by AWS, encrypted with an AWS-owned key (so
/// no key of this account can be scheduled for deletion to make its copies unreadable), its
/// recovery points kept between `min_days` and `max_days`.
#[derive(Clone, Debug)]
pub struct AirGappedVault {
    /// The shortest retention a copy may have, at least 7.
    pub min_days: u32,
    /// The longest.
    pub max_days: u32,
}

/// The ARN of the air-gapped vault `namer` names in its region (for the other region's copy
/// actions).
pub fn air_gapped_vault_arn(namer: &Namer) -> Expr {
    Arn::new(
        "backup",
        format!(
            "backup-vault:{}",
            namer.name(&naming::AIR_GAPPED_VAULT, None)
        ),
    )
    .in_region(namer.region())
    .expr()
}

/// The access policy the recovery account sets on its vault so that this account (`${AWS::AccountId}`
/// where the stack runs) can copy recovery points into it; an output of the stack for that
/// account's team.
pub fn recovery_vault_access_policy() -> Expr {
    Expr::join(
        "",
        [
            Expr::from(
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"CopyFromTheTradingAccount","Effect":"Allow","Principal":{"AWS":""#,
            ),
            cfn::iam::account_root(),
            Expr::from(r#""},"Action":"backup:CopyIntoBackupVault","Resource":"*"}]}"#),
        ],
    )
}

/// Properties of the region's backups.
#[derive(Clone, Debug)]
pub struct BackupProps {
    /// Names the vault, role and plans. Required.
    pub namer: Namer,
    /// ARN of the region's key, which encrypts the vault. Required.
    pub key_arn: Expr,
    /// Vault lock. Default: none (destroyable).
    pub vault_lock: Option<VaultLock>,
    /// When daily and continuous backups start. Default: `cron(0 5 ? * * *)` (05:00 UTC).
    pub schedule: String,
    /// Days daily recovery points (and their copies) are kept. Default: 35.
    pub daily_retention_days: u32,
    /// Days of continuous backup for point-in-time recovery, at most 35. Default: 35.
    pub continuous_retention_days: u32,
    /// Aurora clusters, by ARN, for the continuous plan. Default: none.
    pub aurora_clusters: Vec<Expr>,
    /// Other resources (tables, buckets), by ARN, for the daily plan. Default: none.
    pub daily_resources: Vec<Expr>,
    /// Where daily recovery points are copied. Default: nowhere.
    pub copy_to: Option<CopyTo>,
    /// Where else they are copied: the other region's logically air-gapped vault. Default:
    /// nowhere.
    pub air_gapped_copy: Option<CopyTo>,
    /// Copies to another account's vault. Default: none.
    pub account_copy: Option<AccountCopy>,
    /// A logically air-gapped vault in this region, for the other region's copies. Default:
    /// none.
    pub air_gapped_vault: Option<AirGappedVault>,
    /// Scheduled restore tests. Default: none.
    pub restore_tests: Option<RestoreTests>,
}

impl BackupProps {
    /// Every problem of the air-gapped and cross-account settings.
    pub fn copy_problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        if let Some(a) = &self.account_copy {
            p.check("account_copy.account_id", rules::account_id(&a.account_id));
            p.check("account_copy.vault_name", rules::vault_name(&a.vault_name));
        }
        if let Some(l) = &self.air_gapped_vault {
            p.check(
                "air_gapped_vault",
                rules::air_gapped_retention(l.min_days, l.max_days),
            );
        }
        p.into_vec()
    }

    /// Props with the defaults.
    pub fn new(namer: Namer, key_arn: Expr) -> Self {
        BackupProps {
            namer,
            key_arn,
            vault_lock: None,
            schedule: "cron(0 5 ? * * *)".into(),
            daily_retention_days: 35,
            continuous_retention_days: 35,
            aurora_clusters: vec![],
            daily_resources: vec![],
            copy_to: None,
            air_gapped_copy: None,
            account_copy: None,
            air_gapped_vault: None,
            restore_tests: None,
        }
    }
}

/// The ARN of the vault `namer` names in its region (for the other region's copy actions).
pub fn vault_arn(namer: &Namer) -> Expr {
    Arn::new(
        "backup",
        format!("backup-vault:{}", namer.name(&naming::BACKUP_VAULT, None)),
    )
    .in_region(namer.region())
    .expr()
}

fn id(s: &str) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

/// Builds the vault, the role and the plans that have resources.
pub fn build(props: &BackupProps) -> Result<(Fragment, Handle<backup::BackupVault>), Error> {
    cfn::Problems::from(props.problems()).into_result("backup")?;
    let n = &props.namer;
    let mut f = Fragment::new();
    let mut vault = backup::BackupVault::new()
        .backup_vault_name(n.name(&naming::BACKUP_VAULT, None))
        .encryption_key_arn(props.key_arn.clone());
    if let Some(lock) = props.vault_lock {
        let mut config = backup::backup_vault::LockConfigurationType::new()
            .min_retention_days(lock.min_days)
            .max_retention_days(lock.max_days);
        if let Some(days) = lock.compliance_after_days {
            config = config.changeable_for_days(days);
        }
        vault = vault.lock_configuration(config);
    }
    let vault = f.add(id("BackupVault")?, vault)?;
    if let Some(lag) = &props.air_gapped_vault {
        // Encrypted with an AWS-owned key on purpose: a compromised account cannot schedule the
        // deletion of a key it does not own to make the copies unreadable (docs/decisions.md).
        let id_lag = id("AirGappedVault")?;
        f.add(
            id_lag.clone(),
            backup::LogicallyAirGappedBackupVault::new()
                .backup_vault_name(n.name(&naming::AIR_GAPPED_VAULT, None))
                .min_retention_days(lag.min_days)
                .max_retention_days(lag.max_days),
        )?;
        f.suppress(
            &id_lag,
            "encrypted-with-cmk",
            "a logically air-gapped vault uses an AWS-owned key so that no key of this account can make its copies unreadable",
        );
    }
    let managed = |name: &str| {
        Arn::new("iam", format!("policy/{name}"))
            .without_region()
            .in_account("aws")
            .expr()
    };
    let role = f.add(
        id("BackupRole")?,
        iam::Role::new()
            .role_name(n.name(&naming::BACKUP_ROLE, None))
            .description("Lets AWS Backup back up and restore this region's data stores")
            .assume_role_policy_document(assume_role_by("backup.amazonaws.com"))
            .managed_policy_arns(vec![
                managed("service-role/AWSBackupServiceRolePolicyForBackup"),
                managed("service-role/AWSBackupServiceRolePolicyForRestores"),
                managed("AWSBackupServiceRolePolicyForS3Backup"),
                managed("AWSBackupServiceRolePolicyForS3Restore"),
            ]),
    )?;

    let copy_actions = || -> Expr {
        let action = |vault_arn: Expr| -> Expr {
            backup::backup_plan::CopyActionResourceType::new()
                .destination_backup_vault_arn(vault_arn)
                .lifecycle(
                    backup::backup_plan::LifecycleResourceType::new()
                        .delete_after_days(props.daily_retention_days),
                )
                .into()
        };
        let when = |copy: &CopyTo, item: Expr| match &copy.condition {
            Some(c) => Expr::if_(c, item, Expr::pseudo(Pseudo::NoValue)),
            None => item,
        };
        // Only the other region's vault: the whole list under its condition (as before).
        if props.air_gapped_copy.is_none() && props.account_copy.is_none() {
            return match &props.copy_to {
                None => Expr::pseudo(Pseudo::NoValue),
                Some(copy) => when(copy, Expr::List(vec![action(copy.vault_arn.clone())])),
            };
        }
        let mut actions = Vec::new();
        for copy in [&props.copy_to, &props.air_gapped_copy]
            .into_iter()
            .flatten()
        {
            actions.push(when(copy, action(copy.vault_arn.clone())));
        }
        if let Some(a) = &props.account_copy {
            actions.push(action(
                Arn::new("backup", format!("backup-vault:{}", a.vault_name))
                    .in_account(&a.account_id)
                    .expr(),
            ));
        }
        Expr::List(actions)
    };
    let daily_rule = || {
        backup::backup_plan::BackupRuleResourceType::new()
            .rule_name("daily")
            .target_backup_vault(vault.reference())
            .schedule_expression(props.schedule.as_str())
            .start_window_minutes(60)
            .completion_window_minutes(180)
            .lifecycle(
                backup::backup_plan::LifecycleResourceType::new()
                    .delete_after_days(props.daily_retention_days),
            )
            .copy_actions(copy_actions())
    };

    let plans: [(
        &str,
        &str,
        &[Expr],
        Vec<backup::backup_plan::BackupRuleResourceType>,
    ); 2] = [
        (
            "Aurora",
            "aurora",
            &props.aurora_clusters,
            vec![
                backup::backup_plan::BackupRuleResourceType::new()
                    .rule_name("continuous")
                    .target_backup_vault(vault.reference())
                    .schedule_expression(props.schedule.as_str())
                    .enable_continuous_backup(true)
                    .lifecycle(
                        backup::backup_plan::LifecycleResourceType::new()
                            .delete_after_days(props.continuous_retention_days),
                    ),
                daily_rule(),
            ],
        ),
        ("Daily", "daily", &props.daily_resources, vec![daily_rule()]),
    ];
    for (logical, qualifier, resources, rules) in plans {
        if resources.is_empty() {
            continue;
        }
        let plan = f.add(
            id(&format!("{logical}BackupPlan"))?,
            backup::BackupPlan::new().backup_plan(
                backup::backup_plan::BackupPlanResourceType::new()
                    .backup_plan_name(n.name(&naming::BACKUP_PLAN, Some(qualifier)))
                    .backup_plan_rule(rules),
            ),
        )?;
        f.add(
            id(&format!("{logical}BackupSelection"))?,
            backup::BackupSelection::new()
                .backup_plan_id(plan.reference())
                .backup_selection(
                    backup::backup_selection::BackupSelectionResourceType::new()
                        .selection_name(n.name(&naming::BACKUP_PLAN, Some(qualifier)))
                        .iam_role_arn(role.attr_arn())
                        .resources(resources.to_vec()),
                ),
        )?;
    }
    if let Some(a) = &props.account_copy {
        f.output(
            id("RecoveryVaultAccessPolicy")?,
            format!(
                "Set on vault {} in account {} (this region) so this account can copy into it",
                a.vault_name, a.account_id
            ),
            recovery_vault_access_policy(),
        )?;
    }
    if let Some(tests) = &props.restore_tests {
        restore_tests(&mut f, props, tests, &vault, &role)?;
    }
    f.output(
        id("BackupVaultName")?,
        "This region's backup vault",
        vault.reference(),
    )?;
    Ok((f, vault))
}

/// The restore testing plan (latest snapshot of the last week, from this vault) and a
/// selection per resource type.
fn restore_tests(
    f: &mut Fragment,
    props: &BackupProps,
    tests: &RestoreTests,
    vault: &Handle<backup::BackupVault>,
    role: &Handle<iam::Role>,
) -> Result<(), Error> {
    // Plan and selection names take letters, digits and underscores only.
    let name = |qualifier: Option<&str>| {
        props
            .namer
            .name(&naming::RESTORE_TEST, qualifier)
            .replace('-', "_")
    };
    let plan_name = name(None);
    let plan = f.add(
        id("RestoreTestingPlan")?,
        backup::RestoreTestingPlan::new()
            .restore_testing_plan_name(plan_name.as_str())
            .schedule_expression(tests.schedule.as_str())
            .start_window_hours(24)
            .recovery_point_selection(
                backup::restore_testing_plan::RestoreTestingRecoveryPointSelection::new()
                    .algorithm("LATEST_WITHIN_WINDOW")
                    .include_vaults(vec![Expr::get_att(vault.id(), "BackupVaultArn")])
                    .recovery_point_types(vec!["SNAPSHOT"])
                    .selection_window_days(7),
            ),
    )?;
    let mut selections: Vec<(&str, &str, Vec<Expr>, Option<Expr>)> = Vec::new();
    if let Some(a) = &tests.aurora {
        selections.push((
            "Aurora",
            "aurora",
            vec![a.cluster_arn.clone()],
            Some(Expr::map([
                ("dbsubnetgroupname", a.subnet_group.clone()),
                (
                    "vpcsecuritygroupids",
                    Expr::sub_with("[\"${Group}\"]", [("Group", a.security_group.clone())]),
                ),
            ])),
        ));
    }
    if !tests.tables.is_empty() {
        selections.push(("DynamoDB", "dynamodb", tests.tables.clone(), None));
    }
    for (kind, qualifier, arns, overrides) in selections {
        let mut selection = backup::RestoreTestingSelection::new()
            .restore_testing_plan_name(plan_name.as_str())
            .restore_testing_selection_name(name(Some(qualifier)))
            .protected_resource_type(kind)
            .protected_resource_arns(arns)
            .iam_role_arn(role.attr_arn())
            .validation_window_hours(2);
        if let Some(o) = overrides {
            selection = selection.restore_metadata_overrides(o);
        }
        let logical = id(&format!("{kind}RestoreTestingSelection"))?;
        f.add(logical.clone(), selection)?;
        f.depends_on(&logical, plan.id());
    }
    Ok(())
}

/// The rules of the backup props; [`BackupProps::problems`] and the configuration's validation
/// both use them.
pub mod rules {
    /// An AWS account id: 12 digits.
    pub fn account_id(a: &str) -> Option<String> {
        (!(a.len() == 12 && a.chars().all(|c| c.is_ascii_digit())))
            .then(|| format!("{a:?} is not allowed: an AWS account id, 12 digits"))
    }

    /// A backup vault name: 2 to 50 letters, digits, `-` or `_`.
    pub fn vault_name(v: &str) -> Option<String> {
        let ok = (2..=50).contains(&v.len())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        (!ok).then(|| format!("{v:?} is not allowed: 2 to 50 letters, digits, - or _"))
    }

    /// A logically air-gapped vault keeps copies at least 7 days (AWS's floor), and the longest
    /// retention is not shorter than the shortest.
    pub fn air_gapped_retention(min: u32, max: u32) -> Option<String> {
        (min < 7 || max < min).then(|| {
            format!(
                "{min} to {max} days is not allowed: a logically air-gapped vault keeps copies at least 7 days (daily_retention_days must be 7 or more)"
            )
        })
    }

    /// An AWS cron expression with six fields.
    pub fn schedule(s: &str) -> Option<String> {
        let inner = s.strip_prefix("cron(").and_then(|s| s.strip_suffix(')'));
        inner
            .is_none_or(|fields| fields.split_whitespace().count() != 6)
            .then(|| {
                format!(
                    "{s:?} is not allowed: use an AWS cron expression with six fields, e.g. \"cron(0 5 ? * * *)\""
                )
            })
    }

    /// Daily recovery points: 1 to 36,500 days.
    pub fn daily_retention_days(d: u32) -> Option<String> {
        (!(1..=36_500).contains(&d)).then(|| format!("{d} is not allowed: use 1 to 36500 days"))
    }

    /// Continuous backups: 1 to 35 days.
    pub fn continuous_retention_days(d: u32) -> Option<String> {
        (!(1..=35).contains(&d))
            .then(|| format!("{d} is not allowed: continuous backups keep 1 to 35 days"))
    }

    /// The vault lock's minimum: 1 to its maximum.
    pub fn lock_min_retention_days(min: u32, max: u32) -> Option<String> {
        (min == 0 || min > max)
            .then(|| format!("{min} is not allowed: use 1 to lock_max_retention_days ({max})"))
    }

    /// Under a vault lock, recovery points are kept at least the lock's minimum.
    pub fn daily_retention_under_lock(daily: u32, lock_min: u32) -> Option<String> {
        (daily < lock_min).then(|| {
            format!(
                "{daily} is not allowed with vault lock: recovery points must be kept at least lock_min_retention_days ({lock_min})"
            )
        })
    }
}

impl BackupProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        p.check("schedule", rules::schedule(&self.schedule))
            .check(
                "daily_retention_days",
                rules::daily_retention_days(self.daily_retention_days),
            )
            .check(
                "continuous_retention_days",
                rules::continuous_retention_days(self.continuous_retention_days),
            );
        if let Some(lock) = self.vault_lock {
            p.check(
                "vault_lock.min_days",
                rules::lock_min_retention_days(lock.min_days, lock.max_days),
            )
            .check(
                "daily_retention_days",
                rules::daily_retention_under_lock(self.daily_retention_days, lock.min_days),
            );
        }
        let mut all = p.into_vec();
        all.extend(self.copy_problems());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::{assert_has_resource_properties, assert_resource_count};
    use serde_json::json;

    #[test]
    fn props_name_every_broken_rule_and_build_refuses_them() {
        let mut bad = props();
        bad.schedule = "daily".into();
        bad.continuous_retention_days = 36;
        bad.vault_lock = Some(VaultLock {
            min_days: 40,
            max_days: 30,
            compliance_after_days: None,
        });
        let found: Vec<String> = bad.problems().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            found,
            [
                "schedule: \"daily\" is not allowed: use an AWS cron expression with six fields, e.g. \"cron(0 5 ? * * *)\"",
                "continuous_retention_days: 36 is not allowed: continuous backups keep 1 to 35 days",
                "vault_lock.min_days: 40 is not allowed: use 1 to lock_max_retention_days (30)",
                "daily_retention_days: 35 is not allowed with vault lock: recovery points must be kept at least lock_min_retention_days (40)",
            ]
        );
        let refused = build(&bad).unwrap_err().to_string();
        assert!(
            refused.starts_with("backup props: schedule: ")
                && refused.contains("; vault_lock.min_days: 40"),
            "{refused}"
        );
        assert_eq!(props().problems(), Vec::new());
    }

    fn props() -> BackupProps {
        BackupProps {
            aurora_clusters: vec![Expr::from("arn:aws:rds:us-east-1:1:cluster:aurora-qa")],
            daily_resources: vec![Expr::from("arn:aws:dynamodb:us-east-1:1:table/sessions-qa")],
            copy_to: Some(CopyTo {
                vault_arn: vault_arn(&Namer::new(Suffix::parse("qa").unwrap(), "us-east-2")),
                condition: None,
            }),
            ..BackupProps::new(
                Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
                Expr::from("arn:aws:kms:us-east-1:1:key/a"),
            )
        }
    }

    #[test]
    fn aurora_gets_continuous_and_daily_backups_copied_to_the_other_region() {
        let (f, _) = build(&props()).unwrap();
        let t = Template::new("t", f).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::Backup::BackupVault",
            json!({"BackupVaultName": "backup-vault-qa", "EncryptionKeyArn": "arn:aws:kms:us-east-1:1:key/a"}),
        );
        assert!(
            t["Resources"]["BackupVault"]["Properties"]
                .get("LockConfiguration")
                .is_none()
        );
        assert_has_resource_properties(
            &t,
            "AWS::Backup::BackupPlan",
            json!({"BackupPlan": {"BackupPlanName": "backup-plan-aurora-qa", "BackupPlanRule": [
                {"RuleName": "continuous", "EnableContinuousBackup": true, "Lifecycle": {"DeleteAfterDays": 35}},
                {"RuleName": "daily", "CopyActions": [{
                    "DestinationBackupVaultArn": {"Fn::Sub": "arn:${AWS::Partition}:backup:us-east-2:${AWS::AccountId}:backup-vault:backup-vault-qa"},
                    "Lifecycle": {"DeleteAfterDays": 35}
                }]}
            ]}}),
        );
        assert_resource_count(&t, "AWS::Backup::BackupSelection", 2);
        assert_has_resource_properties(
            &t,
            "AWS::Backup::BackupSelection",
            json!({"BackupSelection": {"Resources": ["arn:aws:dynamodb:us-east-1:1:table/sessions-qa"], "IamRoleArn": {"Fn::GetAtt": ["BackupRole", "Arn"]}}}),
        );
    }

    #[test]
    fn copies_leave_the_account_for_an_air_gapped_vault_and_a_recovery_account() {
        let p = BackupProps {
            air_gapped_copy: Some(CopyTo {
                vault_arn: air_gapped_vault_arn(&Namer::new(
                    Suffix::parse("qa").unwrap(),
                    "us-east-2",
                )),
                condition: Some(LogicalId::new("Linked").unwrap()),
            }),
            account_copy: Some(AccountCopy {
                account_id: "210987654321".into(),
                vault_name: "trading-dr-recovery".into(),
            }),
            ..props()
        };
        let (f, _) = build(&p).unwrap();
        let t = Template::new("t", f).to_json();
        let rules =
            &t["Resources"]["DailyBackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"];
        assert_eq!(
            rules[0]["CopyActions"],
            json!([
                {"DestinationBackupVaultArn": {"Fn::Sub": "arn:${AWS::Partition}:backup:us-east-2:${AWS::AccountId}:backup-vault:backup-vault-qa"},
                 "Lifecycle": {"DeleteAfterDays": 35}},
                {"Fn::If": ["Linked",
                    {"DestinationBackupVaultArn": {"Fn::Sub": "arn:${AWS::Partition}:backup:us-east-2:${AWS::AccountId}:backup-vault:air-gapped-vault-qa"},
                     "Lifecycle": {"DeleteAfterDays": 35}},
                    {"Ref": "AWS::NoValue"}]},
                {"DestinationBackupVaultArn": {"Fn::Sub": "arn:${AWS::Partition}:backup:${AWS::Region}:210987654321:backup-vault:trading-dr-recovery"},
                 "Lifecycle": {"DeleteAfterDays": 35}},
            ])
        );
        let parts = &t["Outputs"]["RecoveryVaultAccessPolicy"]["Value"]["Fn::Join"][1];
        let policy = format!(
            "{}{}{}",
            parts[0].as_str().unwrap(),
            "arn:aws:iam::111122223333:root",
            parts[2].as_str().unwrap()
        );
        let policy: serde_json::Value = serde_json::from_str(&policy).unwrap();
        assert_eq!(
            policy["Statement"][0]["Action"],
            "backup:CopyIntoBackupVault"
        );
        assert_eq!(
            parts[1],
            json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"})
        );
        // The air-gapped vault itself, in the region that receives the copies.
        let p = BackupProps {
            air_gapped_vault: Some(AirGappedVault {
                min_days: 7,
                max_days: 35,
            }),
            ..props()
        };
        let (f, _) = build(&p).unwrap();
        let t = Template::new("t", f).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::Backup::LogicallyAirGappedBackupVault",
            json!({"BackupVaultName": "air-gapped-vault-qa", "MinRetentionDays": 7, "MaxRetentionDays": 35}),
        );
        assert!(
            t["Resources"]["AirGappedVault"]["Properties"]
                .get("EncryptionKeyArn")
                .is_none(),
            "an AWS-owned key, not this account's"
        );
        // Bad settings are refused, named.
        let bad = BackupProps {
            account_copy: Some(AccountCopy {
                account_id: "1234".into(),
                vault_name: "a".into(),
            }),
            air_gapped_vault: Some(AirGappedVault {
                min_days: 7,
                max_days: 5,
            }),
            ..props()
        };
        let found: Vec<String> = bad.problems().iter().map(|p| p.to_string()).collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("account_copy.account_id: \"1234\" is not allowed"));
    }

    #[test]
    fn vault_lock_is_available_in_governance_and_compliance_mode() {
        let lock = |compliance_after_days| {
            let (f, _) = build(&BackupProps {
                vault_lock: Some(VaultLock {
                    min_days: 7,
                    max_days: 365,
                    compliance_after_days,
                }),
                ..props()
            })
            .unwrap();
            Template::new("t", f).to_json()["Resources"]["BackupVault"]["Properties"]
                ["LockConfiguration"]
                .clone()
        };
        assert_eq!(
            lock(None),
            json!({"MinRetentionDays": 7, "MaxRetentionDays": 365})
        );
        assert_eq!(
            lock(Some(3)),
            json!({"MinRetentionDays": 7, "MaxRetentionDays": 365, "ChangeableForDays": 3})
        );
    }

    #[test]
    fn restore_tests_restore_aurora_into_its_network_and_the_tables() {
        let (f, _) = build(&BackupProps {
            restore_tests: Some(RestoreTests {
                schedule: "cron(0 6 ? * SUN *)".into(),
                aurora: Some(AuroraRestore {
                    cluster_arn: Expr::from("arn:aws:rds:us-east-1:1:cluster:aurora-qa"),
                    subnet_group: Expr::from("aurora-subnets-qa"),
                    security_group: Expr::from("sg-1"),
                }),
                tables: vec![Expr::from("arn:aws:dynamodb:us-east-1:1:table/sessions-qa")],
            }),
            ..props()
        })
        .unwrap();
        let t = Template::new("t", f).to_json();
        assert_has_resource_properties(
            &t,
            "AWS::Backup::RestoreTestingPlan",
            json!({"RestoreTestingPlanName": "restore_test_qa", "ScheduleExpression": "cron(0 6 ? * SUN *)",
                   "RecoveryPointSelection": {"Algorithm": "LATEST_WITHIN_WINDOW", "RecoveryPointTypes": ["SNAPSHOT"],
                   "IncludeVaults": [{"Fn::GetAtt": ["BackupVault", "BackupVaultArn"]}]}}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::Backup::RestoreTestingSelection",
            json!({"ProtectedResourceType": "Aurora", "RestoreTestingSelectionName": "restore_test_aurora_qa",
                   "RestoreMetadataOverrides": {"dbsubnetgroupname": "aurora-subnets-qa",
                   "vpcsecuritygroupids": {"Fn::Sub": ["[\"${Group}\"]", {"Group": "sg-1"}]}}}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::Backup::RestoreTestingSelection",
            json!({"ProtectedResourceType": "DynamoDB", "ProtectedResourceArns": ["arn:aws:dynamodb:us-east-1:1:table/sessions-qa"]}),
        );
    }
}
