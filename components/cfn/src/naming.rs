//! The one naming function for every physical name, and the suffix rules derived from it.
//!
//! Every name is `<stem>[-<qualifier>]-<suffix>`; names whose scope is wider than a region
//! (IAM roles, the global cluster) also carry the region, and S3 bucket names, which are unique
//! across all AWS accounts, carry the region and the account id. The longest suffix allowed is
//! derived from the table below, so that every generated name fits AWS's limit for it.

use std::fmt;

use crate::Expr;

/// How far a name must be unique.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Unique within one region of one account: `<stem>-<suffix>`.
    Regional,
    /// Unique within the account across regions: `<stem>-<suffix>-<region>`.
    Account,
    /// Unique across every AWS account: `<stem>-<suffix>-<region>-<account id>`.
    Global,
}

/// One kind of physical name: its stem, its scope and AWS's limit for it.
#[derive(Debug, PartialEq, Eq)]
pub struct NameRule {
    /// The fixed start of the name.
    pub stem: &'static str,
    /// The longest qualifier used with this rule (`public-a`, …), 0 when there is none.
    pub max_qualifier: usize,
    /// How far the name must be unique.
    pub scope: Scope,
    /// AWS's maximum length for this kind of name.
    pub max_len: usize,
    /// What AWS resource the name is for, as said in error messages.
    pub what: &'static str,
}

/// The longest region name we accept (`us-east-1`, see the environment crate).
pub const MAX_REGION_LEN: usize = 9;

/// The feature flag the runbooks set (`shared/flags/failover-active`): `"true"` while the
/// recovery region serves after a failover, `"false"` otherwise. Reserved: configuration may not
/// define a flag of this name.
pub const FAILOVER_FLAG: &str = "failover-active";
const ACCOUNT_ID_LEN: usize = 12;

macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident = $stem:literal, $q:literal, $scope:ident, $max:literal, $what:literal;)*) => {
        $( $(#[$doc])* pub const $name: NameRule = NameRule {
            stem: $stem, max_qualifier: $q, scope: Scope::$scope, max_len: $max, what: $what,
        }; )*
        /// Every name rule, in table order.
        pub const ALL: &[&NameRule] = &[$(&$name),*];
    };
}

rules! {
    /// The primary region's stack.
    STACK_PRIMARY = "trading-dr-primary", 0, Regional, 128, "CloudFormation stack names";
    /// The secondary region's stack.
    STACK_SECONDARY = "trading-dr-secondary", 0, Regional, 128, "CloudFormation stack names";
    /// The VPC (its `Name` tag) and its parts (`public-a`, `private-rt-b`, …).
    VPC = "vpc", 16, Regional, 255, "EC2 Name tags";
    /// The security group of the interface endpoints.
    ENDPOINTS_SG = "endpoints", 0, Regional, 255, "EC2 security group names";
    /// The security group of the application's tasks.
    APP_SG = "app", 0, Regional, 255, "EC2 security group names";
    /// The security group of the Aurora cluster.
    DB_SG = "aurora-db", 0, Regional, 255, "EC2 security group names";
    /// The Aurora subnet group.
    DB_SUBNET_GROUP = "aurora-subnets", 0, Regional, 255, "RDS subnet group names";
    /// The Aurora cluster parameter group.
    DB_PARAMETERS = "aurora-params", 0, Regional, 255, "RDS parameter group names";
    /// The Aurora instances (`aurora-1-<suffix>`, …).
    DB_INSTANCE = "aurora", 2, Regional, 63, "Aurora instance identifiers";
    /// The database's master credentials (replicated to the secondary).
    DB_SECRET = "trading/aurora-master", 0, Regional, 512, "Secrets Manager secret names";
    /// The flow-log log group.
    FLOW_LOG_GROUP = "/trading/flow-logs", 0, Regional, 512, "CloudWatch Logs log group names";
    /// The role VPC flow logs assume.
    FLOW_LOG_ROLE = "flow-logs", 0, Account, 64, "IAM role names";
    /// The alias of the region's customer-managed key.
    KEY_ALIAS = "alias/trading-data", 0, Regional, 256, "KMS alias names";
    /// The VPC peering connection (its `Name` tag).
    PEERING = "peering", 0, Regional, 255, "EC2 Name tags";
    /// The role S3 assumes to replicate buckets to the secondary.
    REPLICATION_ROLE = "s3-replication", 0, Account, 64, "IAM role names";
    /// The sessions table (the same name in both regions).
    SESSIONS_TABLE = "sessions", 0, Regional, 255, "DynamoDB table names";
    /// The region's backup vault.
    BACKUP_VAULT = "backup-vault", 0, Regional, 50, "AWS Backup vault names";
    /// The logically air-gapped vault (in the secondary) that keeps copies out of the account's
    /// reach.
    AIR_GAPPED_VAULT = "air-gapped-vault", 0, Regional, 50, "AWS Backup vault names";
    /// The backup plans (`backup-plan-aurora-<suffix>`, `backup-plan-daily-<suffix>`).
    BACKUP_PLAN = "backup-plan", 6, Regional, 50, "AWS Backup plan names";
    /// The restore testing plan and its selections (`restore_test_<suffix>`, underscores: the
    /// names take no hyphens).
    RESTORE_TEST = "restore-test", 8, Regional, 50, "AWS Backup restore testing plan names";
    /// The role AWS Backup assumes.
    BACKUP_ROLE = "backup", 0, Account, 64, "IAM role names";
    /// The configuration replication state machines (`config-replicator-source-<suffix>`, …).
    CONFIG_REPLICATOR = "config-replicator", 6, Regional, 80, "Step Functions state machine names";
    /// Execution logs of state machines.
    STATE_MACHINE_LOGS = "/trading/states", 24, Regional, 512, "CloudWatch Logs log group names";
    /// Roles of configuration replication (`config-source-<suffix>-<region>`, …).
    CONFIG_ROLE = "config", 7, Account, 64, "IAM role names";
    /// Rules of configuration replication.
    CONFIG_RULE = "config", 7, Regional, 64, "EventBridge rule names";
    /// Application data buckets.
    DATA_BUCKET = "data", 0, Global, 63, "S3 bucket names";
    /// Configuration and artifact buckets.
    CONFIG_BUCKET = "config", 0, Global, 63, "S3 bucket names";
    /// The audit trail (CloudTrail).
    AUDIT_TRAIL = "audit", 0, Regional, 128, "CloudTrail trail names";
    /// The web ACL in front of the region's load balancer.
    WEB_ACL = "trading-waf", 0, Regional, 128, "WAF web ACL names";
    /// The web ACL's request log (WAF requires the `aws-waf-logs-` prefix).
    WAF_LOG_GROUP = "aws-waf-logs-trading", 0, Regional, 512, "CloudWatch Logs log group names";
    /// The hosted function that rotates the Aurora master secret.
    DB_ROTATION_FUNCTION = "aurora-rotation", 0, Regional, 64, "Lambda function names";
    /// The rotation function's security group.
    DB_ROTATION_SG = "aurora-rotation", 0, Regional, 255, "EC2 security group names";
    /// The audit trail's log files.
    AUDIT_BUCKET = "audit", 0, Global, 63, "S3 bucket names";
    /// The S3 server access logs of the data and configuration buckets.
    ACCESS_LOGS_BUCKET = "access-logs", 0, Global, 63, "S3 bucket names";
    /// The role RDS enhanced monitoring publishes OS metrics with.
    DB_MONITORING_ROLE = "rds-monitoring", 0, Account, 64, "IAM role names";
    /// The load balancer's access-log bucket.
    ALB_LOGS_BUCKET = "alb-logs", 0, Global, 63, "S3 bucket names";
    /// The load balancer's security group.
    ALB_SG = "alb", 0, Regional, 255, "EC2 security group names";
    /// The task definition family.
    TASK_FAMILY = "trading-app", 0, Regional, 255, "ECS task definition families";
    /// The application's log group.
    APP_LOGS = "/trading/app", 0, Regional, 512, "CloudWatch Logs log group names";
    /// The task and execution roles (`task-execution-<suffix>-<region>`, `task-task-…`).
    TASK_ROLE = "task", 9, Account, 64, "IAM role names";
    /// The ECS cluster.
    ECS_CLUSTER = "trading", 0, Regional, 255, "ECS cluster names";
    /// The ECS service.
    ECS_SERVICE = "trading-app", 0, Regional, 255, "ECS service names";
    /// The auto scaling policies (`scaling-cpu-<suffix>`, `scaling-req-<suffix>`).
    SCALING_POLICY = "scaling", 3, Regional, 256, "Application Auto Scaling policy names";
    /// Route 53 health checks (their `Name` tag: `health-primary-<suffix>`, …).
    HEALTH_CHECK = "health", 9, Regional, 255, "Route 53 health check Name tags";
    /// The data-plane traffic switch alarm in the recovery region.
    SWITCH_ALARM = "failover-active", 0, Regional, 255, "CloudWatch alarm names";
    /// The application event bus (the same name in both regions) and the global endpoint.
    EVENT_BUS = "trading-events", 0, Regional, 64, "EventBridge bus and endpoint names";
    /// The event archive.
    EVENT_ARCHIVE = "trading-events-archive", 0, Regional, 48, "EventBridge archive names";
    /// The log group that keeps application events.
    EVENT_LOGS = "/trading/events", 0, Regional, 512, "CloudWatch Logs log group names";
    /// The Logs resource policy that lets EventBridge write there.
    EVENT_LOGS_POLICY = "trading-events-to-logs", 0, Regional, 255, "Logs resource policy names";
    /// The rule that logs application events.
    EVENT_RULE = "app-events", 0, Regional, 64, "EventBridge rule names";
    /// The role the global endpoint replicates with.
    EVENT_ENDPOINT_ROLE = "events-endpoint", 0, Account, 64, "IAM role names";
    /// The alert topic.
    ALERT_TOPIC = "trading-alerts", 0, Regional, 256, "SNS topic names";
    /// Rules that turn a service's failure events into alerts (`alert-backup-copy-<suffix>`).
    ALERT_RULE = "alert", 11, Regional, 64, "EventBridge rule names";
    /// The canaries' artifacts bucket.
    CANARY_BUCKET = "canary-artifacts", 0, Global, 63, "S3 bucket names";
    /// The canaries' role.
    CANARY_ROLE = "canary", 0, Account, 64, "IAM role names";
    /// Alarms (`alarm-canary-success-<suffix>`, `alarm-primary-failure-<suffix>`, …).
    CANARY_ALARM = "alarm", 24, Regional, 255, "CloudWatch alarm names";
    /// The runbook state machines and their trigger rule (`runbook-failover-<suffix>`, …).
    RUNBOOK = "runbook", 8, Regional, 64, "Step Functions state machine and rule names";
    /// The runbooks' roles.
    RUNBOOK_ROLE = "runbook", 7, Account, 64, "IAM role names";
    /// The runbooks' single-flight lock table.
    RUNBOOK_LOCK = "runbook-lock", 0, Regional, 255, "DynamoDB table names";
    /// The regional Application Load Balancer.
    ALB = "alb", 0, Regional, 32, "Application Load Balancer names";
    /// The regional target group.
    TARGET_GROUP = "tg", 0, Regional, 32, "ELB target group names";
    /// The canary against the region's own endpoint.
    CANARY = "canary", 0, Regional, 21, "Synthetics canary names";
    /// The outside-in canary in the secondary region against the primary endpoint.
    CANARY_OUTSIDE_IN = "canary-oi", 0, Regional, 21, "Synthetics canary names";
    /// The Aurora global cluster.
    GLOBAL_CLUSTER = "aurora-global", 0, Account, 63, "Aurora global cluster identifiers";
    /// The regional Aurora cluster.
    DB_CLUSTER = "aurora", 0, Regional, 63, "Aurora cluster identifiers";
}

/// The environment suffix, validated so that every name in [`ALL`] fits its AWS limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suffix(String);

/// Why a suffix was rejected; the message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SuffixError(String);

impl NameRule {
    /// The name's length without the suffix.
    fn fixed_len(&self) -> usize {
        let qualifier = if self.max_qualifier > 0 {
            self.max_qualifier + 1
        } else {
            0
        };
        let scope = match self.scope {
            Scope::Regional => 0,
            Scope::Account => 1 + MAX_REGION_LEN,
            Scope::Global => 2 + MAX_REGION_LEN + ACCOUNT_ID_LEN,
        };
        self.stem.len() + qualifier + 1 + scope
    }

    /// The longest suffix this rule leaves room for.
    pub fn room(&self) -> usize {
        self.max_len - self.fixed_len()
    }
}

/// The rule that leaves the least room for the suffix, and that room.
pub fn tightest() -> (&'static NameRule, usize) {
    let rule = ALL
        .iter()
        .copied()
        .min_by_key(|r| r.room())
        .expect("the table is not empty");
    (rule, rule.room())
}

impl Suffix {
    /// Validates a suffix: lowercase letters, digits and single inner hyphens, starting with a
    /// letter, no longer than the tightest name limit allows.
    pub fn parse(s: &str) -> Result<Suffix, SuffixError> {
        let (rule, max) = tightest();
        let charset_ok = s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.ends_with('-')
            && !s.contains("--");
        if !charset_ok {
            return Err(SuffixError(format!(
                "suffix {s:?} is invalid: use lowercase letters, digits and single inner hyphens, starting with a letter (S3 bucket and Synthetics canary names are lowercase; Aurora identifiers start with a letter and cannot end with a hyphen or contain two in a row)"
            )));
        }
        if s.len() > max {
            return Err(SuffixError(format!(
                "suffix {s:?} is {} characters, the longest allowed is {max}: {} are at most {} characters and \"{}\" takes the rest",
                s.len(),
                rule.what,
                rule.max_len,
                example(rule, "SUFFIX"),
            )));
        }
        Ok(Suffix(s.to_string()))
    }

    /// The suffix text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Suffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn example(rule: &NameRule, suffix: &str) -> String {
    let q = if rule.max_qualifier > 0 {
        "-QUALIFIER"
    } else {
        ""
    };
    match rule.scope {
        Scope::Regional => format!("{}{q}-{suffix}", rule.stem),
        Scope::Account => format!("{}{q}-{suffix}-REGION", rule.stem),
        Scope::Global => format!("{}{q}-{suffix}-REGION-ACCOUNTID", rule.stem),
    }
}

/// The DNS zone of an environment: `<suffix>.<parent_domain>`.
pub fn zone_name(suffix: &Suffix, parent_domain: &str) -> String {
    format!("{suffix}.{parent_domain}")
}

/// The stem of the account's template staging buckets (see [`staging_bucket`]).
pub const STAGING_BUCKET_STEM: &str = "trading-dr-staging";

/// The staging bucket `cargo xtask bootstrap` makes in `region` of account `account`, which
/// `deploy` and `diff` upload templates to: one per account and region, shared by every
/// environment, `trading-dr-staging-<region>-<account id>` (at most 40 of S3's 63 characters).
pub fn staging_bucket(region: &str, account: &str) -> String {
    format!("{STAGING_BUCKET_STEM}-{region}-{account}")
}

/// The SSM parameter paths of one environment: `/<app>/<suffix>/{shared,region}/…`. The shared
/// tree is replicated to the secondary region; the region tree is each region's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterPaths {
    prefix: String,
}

impl ParameterPaths {
    /// The key of the region serving traffic, below `shared/`.
    pub const ACTIVE_REGION: &'static str = "active-region";

    /// The paths of `app` in the environment `suffix`.
    pub fn new(app: &str, suffix: &Suffix) -> Self {
        ParameterPaths {
            prefix: format!("/{app}/{suffix}"),
        }
    }

    /// `/<app>/<suffix>`: every parameter of the environment is below it.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `shared/<key>`, relative to the prefix.
    pub fn shared_key(key: &str) -> String {
        format!("shared/{key}")
    }

    /// `region/<key>`, relative to the prefix.
    pub fn region_key(key: &str) -> String {
        format!("region/{key}")
    }

    /// `flags/<flag>`, relative to `shared/`.
    pub fn flag_key(flag: &str) -> String {
        format!("flags/{flag}")
    }

    /// The full path of `relative` (`shared/active-region`).
    pub fn path(&self, relative: &str) -> String {
        format!("{}/{relative}", self.prefix)
    }

    /// The full path of the shared parameter `key`.
    pub fn shared(&self, key: &str) -> String {
        self.path(&Self::shared_key(key))
    }

    /// `/<app>/<suffix>/shared/`: what replication and its rule match.
    pub fn shared_tree(&self) -> String {
        self.shared("")
    }

    /// The full path of the active-region parameter.
    pub fn active_region(&self) -> String {
        self.shared(Self::ACTIVE_REGION)
    }

    /// The full path of the feature flag `flag`.
    pub fn flag(&self, flag: &str) -> String {
        self.shared(&Self::flag_key(flag))
    }

    /// The ARN of the parameter (or pattern: `shared/*`) `relative` to the prefix, in the
    /// stack's region.
    pub fn arn(&self, relative: &str) -> crate::arn::Arn {
        crate::arn::Arn::new("ssm", format!("parameter{}", self.path(relative)))
    }

    /// The ARN of the prefix itself (`GetParametersByPath` on the whole environment).
    pub fn prefix_arn(&self) -> crate::arn::Arn {
        crate::arn::Arn::new("ssm", format!("parameter{}", self.prefix))
    }
}

/// Makes every physical name of one environment in one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namer {
    suffix: Suffix,
    region: String,
}

impl Namer {
    /// A namer for `suffix` in `region`.
    pub fn new(suffix: Suffix, region: impl Into<String>) -> Self {
        Namer {
            suffix,
            region: region.into(),
        }
    }

    /// The suffix.
    pub fn suffix(&self) -> &Suffix {
        &self.suffix
    }

    /// The region names are made for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The one naming function: `<stem>[-<qualifier>]-<suffix>[-<region>[-<account>]]`.
    /// Global names contain `${AWS::AccountId}` and must be used through [`Namer::expr`].
    pub fn name(&self, rule: &NameRule, qualifier: Option<&str>) -> String {
        let mut name = rule.stem.to_string();
        if let Some(q) = qualifier {
            assert!(
                !q.is_empty() && q.len() <= rule.max_qualifier,
                "qualifier {q:?} does not fit the name rule {:?}",
                rule.stem
            );
            name.push('-');
            name.push_str(q);
        }
        name.push('-');
        name.push_str(self.suffix.as_str());
        match rule.scope {
            Scope::Regional => {}
            Scope::Account => {
                name.push('-');
                name.push_str(&self.region);
            }
            Scope::Global => {
                name.push('-');
                name.push_str(&self.region);
                name.push_str("-${AWS::AccountId}");
            }
        }
        name
    }

    /// The name as a template value (`Fn::Sub` where it carries the account id).
    pub fn expr(&self, rule: &NameRule, qualifier: Option<&str>) -> Expr {
        let name = self.name(rule, qualifier);
        if name.contains("${") {
            Expr::sub(name)
        } else {
            Expr::Str(name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_staging_bucket_is_named_by_region_and_account_within_s3_limits() {
        let name = staging_bucket("us-east-2", "123456789012");
        assert_eq!(name, "trading-dr-staging-us-east-2-123456789012");
        let longest = staging_bucket(&"r".repeat(MAX_REGION_LEN), &"1".repeat(ACCOUNT_ID_LEN));
        assert!(longest.len() <= 63, "{longest}");
    }

    #[test]
    fn the_tightest_limit_is_the_outside_in_canary() {
        let (rule, max) = tightest();
        assert_eq!(rule, &CANARY_OUTSIDE_IN);
        assert_eq!(max, 11);
    }

    #[test]
    fn suffix_rules_name_the_reason() {
        assert!(Suffix::parse("qa").is_ok());
        assert!(Suffix::parse("pr-42").is_ok());
        let long = Suffix::parse("abcdefghijkl").unwrap_err().to_string();
        assert!(
            long.contains("Synthetics canary names are at most 21"),
            "{long}"
        );
        assert!(long.contains("canary-oi-SUFFIX"), "{long}");
        for bad in ["QA", "qa_1", "1qa", "qa-", "q--a", "", "qa!"] {
            let e = Suffix::parse(bad).unwrap_err().to_string();
            assert!(e.contains("lowercase letters, digits"), "{bad}: {e}");
        }
    }

    #[test]
    fn naming_table_fits_every_limit_at_the_longest_suffix() {
        let (_, max) = tightest();
        let namer = Namer::new(Suffix::parse(&"s".repeat(max)).unwrap(), "us-east-2");
        let mut table = String::new();
        for rule in ALL {
            let q = "q".repeat(rule.max_qualifier);
            let name = namer.name(rule, (!q.is_empty()).then_some(q.as_str()));
            let len = name.replace("${AWS::AccountId}", "123456789012").len();
            table.push_str(&format!(
                "{:<22} {:>3}/{:<3} {name}\n",
                rule.what, len, rule.max_len
            ));
            assert!(
                len <= rule.max_len,
                "{name} is longer than {}",
                rule.max_len
            );
        }
        println!("{table}");
        assert_eq!(
            namer.name(&VPC, Some("public-a")),
            format!("vpc-public-a-{}", "s".repeat(max))
        );
        assert_eq!(
            Namer::new(Suffix::parse("qa").unwrap(), "us-east-1").expr(&DATA_BUCKET, None),
            Expr::sub("data-qa-us-east-1-${AWS::AccountId}")
        );
    }
}
