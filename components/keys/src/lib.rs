//! The region's customer-managed KMS key: rotation on, a short pending window, and a key policy
//! that grants only what the stack's services need.
//!
//! ```
//! use cfn::naming::{Namer, Suffix};
//!
//! let props = keys::KeysProps {
//!     namer: Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
//!     pending_window_days: 7,
//!     via_services: vec!["rds".into()],
//!     cloudwatch_logs: true,
//!     service_principals: vec![], recovery_account: None,
//! };
//! let (fragment, key) = keys::build(&props)?;
//! assert_eq!(fragment.resources().len(), 2);
//! let _arn = key.arn();
//! # Ok::<(), cfn::Error>(())
//! ```
//!
//! The key policy has three kinds of statement:
//! - the account may administer the key (never use it directly), so that IAM stays in control
//!   and the key can never become unmanageable;
//! - principals of the account may use the key only through the AWS services listed in
//!   [`KeysProps::via_services`] in this region (`kms:ViaService`), which is how RDS, Secrets
//!   Manager, S3 and DynamoDB use a customer-managed key on a caller's behalf;
//! - CloudWatch Logs may use it for this account's log groups in this region only.

use cfn::aws::kms;
use cfn::iam::{self, Statement};
use cfn::naming::{self, Namer};
use cfn::{Error, Expr, Fragment, Handle, LogicalId, Pseudo};

/// The actions that administer a key without using it.
const ADMIN_ACTIONS: &[&str] = &[
    "kms:CancelKeyDeletion",
    "kms:Create*",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
];

/// The actions a service needs to encrypt and decrypt data with the key.
const USE_ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
];

/// Properties of the region's key.
#[derive(Clone, Debug)]
pub struct KeysProps {
    /// Names the key's alias (`alias/trading-data-<suffix>`). Required.
    pub namer: Namer,
    /// Days a scheduled deletion waits, 7 to 30. Default: 7.
    pub pending_window_days: u32,
    /// Services (`rds`, `secretsmanager`, `s3`, `dynamodb`, …) through which principals of the
    /// account may use the key, in this region. Default: none.
    pub via_services: Vec<String>,
    /// Whether CloudWatch Logs may encrypt this account's log groups with the key. Default: false.
    pub cloudwatch_logs: bool,
    /// Service principals (`events.amazonaws.com`, …) that use the key themselves, for this
    /// account's resources only. Default: none.
    pub service_principals: Vec<String>,
    /// Another account (12 digits) that receives copies of this region's recovery points: it
    /// must be able to decrypt and re-encrypt them (AWS Backup's cross-account copy). Default:
    /// none.
    pub recovery_account: Option<String>,
}

/// The key, for components that encrypt with it.
#[derive(Clone, Debug)]
pub struct RegionKey {
    key: Handle<kms::Key>,
}

impl RegionKey {
    /// The key's ARN.
    pub fn arn(&self) -> Expr {
        self.key.attr_arn()
    }

    /// The key's id.
    pub fn key_id(&self) -> Expr {
        self.key.reference()
    }
}

/// Builds the key and its alias.
pub fn build(props: &KeysProps) -> Result<(Fragment, RegionKey), Error> {
    cfn::Problems::from(props.problems()).into_result("keys")?;
    let mut statements = vec![
        Statement::allow(ADMIN_ACTIONS.iter().copied(), [Expr::from("*")])
            .sid("AccountAdministersTheKey")
            .this_account(),
    ];
    if !props.via_services.is_empty() {
        let via: Vec<Expr> = props
            .via_services
            .iter()
            .map(|s| Expr::sub(format!("{s}.${{AWS::Region}}.amazonaws.com")))
            .collect();
        statements.push(
            Statement::allow(
                USE_ACTIONS
                    .iter()
                    .copied()
                    .chain(["kms:CreateGrant", "kms:ListGrants"]),
                [Expr::from("*")],
            )
            .sid("AccountUsesTheKeyThroughServices")
            .this_account()
            .condition(
                "StringEquals",
                "kms:CallerAccount",
                Expr::pseudo(Pseudo::AccountId),
            )
            .condition("StringEquals", "kms:ViaService", Expr::List(via)),
        );
    }
    if props.cloudwatch_logs {
        statements.push(
            Statement::allow(USE_ACTIONS.iter().copied(), [Expr::from("*")])
                .sid("CloudWatchLogsEncryptsThisAccountsLogGroups")
                .service(Expr::sub("logs.${AWS::Region}.amazonaws.com"))
                .condition(
                    "ArnLike",
                    "kms:EncryptionContext:aws:logs:arn",
                    cfn::arn::Arn::new("logs", "log-group:*").expr(),
                ),
        );
    }

    for service in &props.service_principals {
        statements.push(
            Statement::allow(
                ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*"],
                [Expr::from("*")],
            )
            .sid(&format!(
                "{}UsesTheKeyForThisAccount",
                service
                    .split('.')
                    .next()
                    .unwrap_or(service)
                    .replace('-', "")
            ))
            .service(service.as_str())
            .condition(
                "StringEquals",
                "aws:SourceAccount",
                Expr::pseudo(Pseudo::AccountId),
            ),
        );
    }

    if let Some(account) = &props.recovery_account {
        // As AWS Backup documents for cross-account copies of encrypted recovery points: the
        // destination account uses the source key to read the copy and write its own.
        statements.push(
            Statement::allow(
                USE_ACTIONS.iter().copied().chain([
                    "kms:CreateGrant",
                    "kms:ListGrants",
                    "kms:RevokeGrant",
                ]),
                [Expr::from("*")],
            )
            .sid("RecoveryAccountCopiesRecoveryPoints")
            .aws_principal(
                cfn::arn::Arn::new("iam", "root")
                    .without_region()
                    .in_account(account)
                    .expr(),
            ),
        );
    }

    let mut f = Fragment::new();
    let key = f.add(
        LogicalId::new("RegionKey")?,
        kms::Key::new()
            .description(format!(
                // not a name: the key's description
                "Customer-managed key for every data store and log group of {} in this region",
                props.namer.suffix()
            ))
            .enable_key_rotation(true)
            .key_spec("SYMMETRIC_DEFAULT")
            .key_usage("ENCRYPT_DECRYPT")
            .pending_window_in_days(props.pending_window_days)
            .key_policy(iam::policy(statements)),
    )?;
    f.add(
        LogicalId::new("RegionKeyAlias")?,
        kms::Alias::new()
            .alias_name(props.namer.name(&naming::KEY_ALIAS, None))
            .target_key_id(key.reference()),
    )?;
    f.output(
        LogicalId::new("RegionKeyArn")?,
        "ARN of the region's customer-managed key",
        key.attr_arn(),
    )?;
    Ok((f, RegionKey { key }))
}

/// The rules of the key props; [`KeysProps::problems`] and the configuration's validation both
/// use them.
pub mod rules {
    /// KMS waits 7 to 30 days before deleting a key.
    pub fn pending_window_days(d: u32) -> Option<String> {
        (!(7..=30).contains(&d)).then(|| format!("{d} is not allowed: KMS accepts 7 to 30 days"))
    }
}

impl KeysProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        p.check(
            "pending_window_days",
            rules::pending_window_days(self.pending_window_days),
        );
        p.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::assert_has_resource_properties;
    use serde_json::json;

    fn props() -> KeysProps {
        KeysProps {
            namer: Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
            pending_window_days: 7,
            via_services: vec!["rds".into(), "secretsmanager".into()],
            cloudwatch_logs: true,
            service_principals: vec![],
            recovery_account: None,
        }
    }

    #[test]
    fn key_rotates_and_waits_seven_days() {
        // GIVEN the defaults WHEN the key is built
        let (f, _) = build(&props()).unwrap();
        let t = Template::new("t", f).to_json();
        // THEN rotation is on, the window is 7 days and the alias carries the suffix
        assert_has_resource_properties(
            &t,
            "AWS::KMS::Key",
            json!({"EnableKeyRotation": true, "PendingWindowInDays": 7, "KeySpec": "SYMMETRIC_DEFAULT"}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::KMS::Alias",
            json!({"AliasName": "alias/trading-data-qa", "TargetKeyId": {"Ref": "RegionKey"}}),
        );
    }

    #[test]
    fn a_recovery_account_may_read_and_re_encrypt_the_copies_and_no_one_else() {
        let (f, _) = build(&props()).unwrap();
        let t = Template::new("t", f).to_json();
        assert!(!t.to_string().contains("RecoveryAccount"));
        let (f, _) = build(&KeysProps {
            recovery_account: Some("210987654321".into()),
            ..props()
        })
        .unwrap();
        let t = Template::new("t", f).to_json();
        let statements = t["Resources"]["RegionKey"]["Properties"]["KeyPolicy"]["Statement"]
            .as_array()
            .unwrap();
        let s = statements
            .iter()
            .find(|s| s["Sid"] == "RecoveryAccountCopiesRecoveryPoints")
            .expect("the recovery account's statement");
        assert_eq!(
            s["Principal"],
            json!({"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::210987654321:root"}})
        );
        let actions: Vec<&str> = s["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(actions.contains(&"kms:Decrypt") && actions.contains(&"kms:CreateGrant"));
        assert!(
            !actions
                .iter()
                .any(|a| a.contains("Delete") || a.contains("Disable"))
        );
    }

    #[test]
    fn account_uses_the_key_only_through_listed_services() {
        let (f, _) = build(&props()).unwrap();
        let t = Template::new("t", f).to_json();
        let statements = &t["Resources"]["RegionKey"]["Properties"]["KeyPolicy"]["Statement"];
        let admin = &statements[0];
        assert!(
            !admin["Action"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "kms:Decrypt" || a == "kms:*"),
            "administration must not include use: {admin}"
        );
        assert_eq!(
            statements[1]["Condition"]["StringEquals"]["kms:ViaService"],
            json!([
                {"Fn::Sub": "rds.${AWS::Region}.amazonaws.com"},
                {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}
            ])
        );
        assert_eq!(
            statements[2]["Principal"]["Service"],
            json!({"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"})
        );
    }

    #[test]
    fn statements_are_left_out_when_not_needed() {
        let (f, _) = build(&KeysProps {
            via_services: vec![],
            cloudwatch_logs: false,
            ..props()
        })
        .unwrap();
        let t = Template::new("t", f).to_json();
        let statements = t["Resources"]["RegionKey"]["Properties"]["KeyPolicy"]["Statement"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(statements, 1);
    }
}
