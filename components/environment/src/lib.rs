//! Typed environment configuration: `env/default.toml` overlaid by `env/<suffix>.toml`.
//!
//! The caller (xtask) reads the files; this crate parses, overlays and validates them. Every
//! problem is collected before failing, and each names the file, the key, the bad value and
//! what is allowed.
//!
//! ```
//! let default = environment::Source::new("env/default.toml", include_str!("../../../env/default.toml"));
//! let env = environment::load("pr42", default, None).unwrap();
//! assert_eq!(env.suffix.as_str(), "pr42");
//! assert_eq!(env.config.regions.primary.name, "us-east-1");
//! ```

mod validate;

pub use validate::check_region_name;

use cfn::naming::Suffix;
use serde::{Deserialize, Serialize};

/// A configuration file's display path and text.
#[derive(Clone, Debug)]
pub struct Source {
    /// The path as shown in error messages, e.g. `env/qa.toml`.
    pub path: String,
    /// The file's text.
    pub text: String,
}

impl Source {
    /// A source named `path` holding `text`.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// A validated environment: its suffix and its configuration.
#[derive(Clone, Debug)]
pub struct Environment {
    /// The environment suffix that goes into every name.
    pub suffix: Suffix,
    /// The merged configuration.
    pub config: Config,
}

/// The whole configuration of one environment.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Application name, used in parameter paths and tags. Default: `trading`.
    pub app: String,
    /// Cost centre tag value. Default: `trading-platform`.
    pub cost_centre: String,
    /// The two regions.
    pub regions: Regions,
    /// Where the environment's data may live.
    pub residency: Residency,
    /// Network settings shared by both regions.
    pub network: Network,
    /// Customer-managed key settings.
    pub keys: Keys,
    /// Bucket settings.
    pub storage: Storage,
    /// The audit trail.
    pub audit: Audit,
    /// The web application firewall on both load balancers.
    pub firewall: Firewall,
    /// Sessions table settings.
    pub sessions: Sessions,
    /// Aurora global database settings.
    pub aurora: Aurora,
    /// AWS Backup settings.
    pub backup: Backup,
    /// Application events.
    pub events: Events,
    /// Canaries, alarms and notifications.
    pub monitoring: Monitoring,
    /// DNS settings.
    pub dns: Dns,
    /// The application service.
    pub service: Service,
    /// Usage a template cannot say, for `cargo xtask cost`.
    pub cost: Cost,
    /// Feature flags: `/<app>/<suffix>/shared/flags/<name>` in both regions, replicated from
    /// the primary at run time. Default: `trading-enabled = "true"`.
    pub flags: std::collections::BTreeMap<String, String>,
}

/// Monthly usage that no template says (data stored, requests, traffic), which `cargo xtask
/// cost` prices; change them to the environment's own figures. "Serving" is the region that
/// takes traffic: us-east-1 in the steady state, us-east-2 after a failover.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    /// Millions of requests a month to the serving region (the web ACL inspects each).
    pub requests_millions: f64,
    /// Average Load Balancer Capacity Units of the serving region's load balancer.
    pub alb_lcus: f64,
    /// GB a month through each region's NAT gateways (image pulls, external APIs).
    pub nat_gb: f64,
    /// GB a month through each interface endpoint.
    pub endpoint_gb: f64,
    /// The database's size in GB (each region's cluster stores a copy).
    pub aurora_storage_gb: f64,
    /// Millions of I/O requests a month on the serving writer (Aurora Standard).
    pub aurora_io_millions: f64,
    /// Millions of write I/Os a month the global database replicates to the other region.
    pub aurora_replicated_write_io_millions: f64,
    /// The sessions table's size in GB (each replica stores it).
    pub sessions_storage_gb: f64,
    /// Millions of session writes a month in the serving region (each replicated once).
    pub sessions_write_millions: f64,
    /// GB stored in each region's data bucket.
    pub bucket_gb: f64,
    /// GB of new bucket data replicated to the other region each month.
    pub replicated_gb: f64,
    /// GB a month ingested into each log group.
    pub log_gb_per_group: f64,
    /// Millions of application events a month published to the serving region's bus.
    pub events_millions: f64,
    /// Thousands of state transitions a month per state machine.
    pub state_transitions_thousands: f64,
    /// GB a month crossing the peering connection.
    pub peering_gb: f64,
}

impl Cost {
    /// Every figure with its key, for validation and documentation.
    pub fn figures(&self) -> [(&'static str, f64); 15] {
        [
            ("requests_millions", self.requests_millions),
            ("alb_lcus", self.alb_lcus),
            ("nat_gb", self.nat_gb),
            ("endpoint_gb", self.endpoint_gb),
            ("aurora_storage_gb", self.aurora_storage_gb),
            ("aurora_io_millions", self.aurora_io_millions),
            (
                "aurora_replicated_write_io_millions",
                self.aurora_replicated_write_io_millions,
            ),
            ("sessions_storage_gb", self.sessions_storage_gb),
            ("sessions_write_millions", self.sessions_write_millions),
            ("bucket_gb", self.bucket_gb),
            ("replicated_gb", self.replicated_gb),
            ("log_gb_per_group", self.log_gb_per_group),
            ("events_millions", self.events_millions),
            (
                "state_transitions_thousands",
                self.state_transitions_thousands,
            ),
            ("peering_gb", self.peering_gb),
        ]
    }
}

/// Data residency: the regions an environment may use.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Residency {
    /// The regions the primary and the secondary may be placed in: every store, replica,
    /// backup copy and log of the environment stays in them. Default: us-east-1, us-east-2.
    pub allowed_regions: Vec<String>,
}

/// The primary and the secondary region.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Regions {
    /// The primary region. Default: us-east-1, 10.10.0.0/16.
    pub primary: Region,
    /// The secondary (recovery) region. Default: us-east-2, 10.20.0.0/16.
    pub secondary: Region,
}

/// One region's placement.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// The AWS region name, e.g. `us-east-1`.
    pub name: String,
    /// The VPC's IPv4 block, /16 to /20, private (RFC 1918), not overlapping the other region.
    pub vpc_cidr: String,
    /// Exactly three availability zones of this region, named explicitly.
    pub availability_zones: Vec<String>,
}

/// How many NAT gateways a region gets.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NatGateways {
    /// One per availability zone: an AZ outage does not cut the others off. For production.
    PerAz,
    /// One per region, to save cost. For test environments.
    Single,
}

/// Network settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// NAT gateway policy. Default: `per-az`.
    pub nat_gateways: NatGateways,
    /// Retention of the VPC flow-log group, in days (a CloudWatch Logs value). Default: 365.
    pub flow_log_retention_days: u32,
}

/// Customer-managed key settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// Days a deleted key waits before AWS removes it, 7 to 30. Default: 7.
    pub pending_window_days: u32,
}

/// Bucket settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Days a replaced or deleted object version is kept, 1 to 3650. Default: 30.
    pub noncurrent_version_days: u32,
    /// Days the data and configuration buckets' server access logs are kept, 1 to 3650.
    /// Default: 365.
    pub access_log_retention_days: u32,
}

/// The audit trail of API activity.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    /// The organisation's trail already records this account (an AWS Organizations trail, or
    /// one the account team runs): the environment adds none. Default: false, a multi-region
    /// trail per environment.
    pub organization_trail: bool,
    /// Days the trail's log files are kept, 1 to 3650. Default: 365.
    pub retention_days: u32,
}

/// The web application firewall (AWS WAF) in front of both regions' load balancers.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Firewall {
    /// Requests one client address may make in any five minutes before WAF blocks it, 100 to
    /// 2,000,000,000. Default: 2000.
    pub rate_limit: u32,
    /// Days the request log is kept (a CloudWatch Logs retention). Default: 90.
    pub log_retention_days: u32,
}

/// Sessions table settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// The attribute holding each session's expiry in epoch seconds. Default: `expires_at`.
    pub ttl_attribute: String,
}

/// Aurora global database settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Aurora {
    /// Aurora PostgreSQL version, 14.x with x ≥ 3, the same in both regions. Default: `14.18`.
    pub engine_version: String,
    /// Serverless v2 minimum capacity in ACUs, 0.5 to 256 in steps of 0.5. Default: 0.5.
    pub min_capacity_acu: f64,
    /// Serverless v2 maximum capacity in ACUs, at least the minimum, at most 256. Default: 16.
    pub max_capacity_acu: f64,
    /// Readers beside the writer in the primary, 1 to 15. Default: 1.
    pub primary_readers: u32,
    /// Instances in the secondary cluster, 1 to 16 (a secondary without one cannot take over).
    /// Default: 1.
    pub secondary_instances: u32,
    /// Managed RPO in seconds (`rds.global_db_rpo`): 0 for off, else 20 or more. Default: 20.
    pub managed_rpo_seconds: u32,
    /// Days of continuous backups, 1 to 35. Default: 35.
    pub backup_retention_days: u32,
    /// Performance Insights retention: 7 (free) or a multiple of 31 up to 713, or 731. Default: 7.
    pub performance_insights_retention_days: u32,
    /// Seconds between enhanced monitoring's OS metrics: 1, 5, 10, 15, 30, 60, or 0 (off).
    /// Default: 60.
    pub monitoring_interval_seconds: u32,
    /// The database created in the cluster. Default: `trading`.
    pub database_name: String,
    /// The master user, whose password is generated into Secrets Manager. Default: `trading_admin`.
    pub master_username: String,
    /// Days between rotations of the master password, 1 to 365. Default: 30.
    pub rotation_days: u32,
}

/// AWS Backup settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// When backups start, an AWS Backup `cron(…)` expression in UTC. Default: `cron(0 5 ? * * *)`.
    pub schedule: String,
    /// Days daily recovery points and their cross-region copies are kept, 1 to 36500. Default: 35.
    pub daily_retention_days: u32,
    /// Days of continuous backup (point-in-time recovery) for Aurora, 1 to 35. Default: 35.
    pub continuous_retention_days: u32,
    /// Vault lock (governance mode). Default: false, so the environment can be destroyed.
    pub vault_lock: bool,
    /// With vault lock: the shortest retention a recovery point may have. Default: 7.
    pub lock_min_retention_days: u32,
    /// With vault lock: the longest retention a recovery point may have. Default: 365.
    pub lock_max_retention_days: u32,
    /// With vault lock: `governance` (a user with the IAM permission can remove the lock) or
    /// `compliance` (after `lock_grace_days`, nobody can). Default: governance.
    pub vault_lock_mode: LockMode,
    /// Compliance mode's grace period in days (at least 3), during which the lock can still be
    /// removed; then it is immutable. Default: 3.
    pub lock_grace_days: u32,
    /// When AWS Backup restores the latest Aurora and DynamoDB recovery points to test them
    /// (AWS cron, UTC). Default: `cron(0 6 ? * SUN *)`, weekly.
    pub restore_test_schedule: String,
    /// Another account (12 digits) whose vault `copy_vault_name`, in each region, receives
    /// copies of the daily recovery points; empty for none. Default: empty.
    pub copy_account_id: String,
    /// The vault in `copy_account_id` (its team creates it with the access policy the stacks
    /// output as `RecoveryVaultAccessPolicy`). Default: `trading-dr-recovery`.
    pub copy_vault_name: String,
    /// A logically air-gapped vault in the secondary region that receives copies of the
    /// primary's daily recovery points (compliance-locked, AWS-owned key). Default: false.
    pub air_gapped_vault: bool,
}

/// How a vault lock holds.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LockMode {
    /// Removable by a user with the IAM permission.
    Governance,
    /// Immutable after the grace period, even for the account's administrators.
    Compliance,
}

/// Canaries, alarms and notifications.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// E-mail addresses subscribed to the alert topic in both regions. Default: none.
    pub emails: Vec<String>,
    /// The Synthetics runtime: `syn-nodejs-puppeteer-<major>.<minor>`, a version AWS supports
    /// (9.0 or later; 7.0 and older are deprecated). Default: `syn-nodejs-puppeteer-13.1`.
    pub runtime: String,
    /// How often canaries run: `rate(N minute(s))`. Default: `rate(1 minute)`.
    pub schedule: String,
    /// Text the health response must contain. Default: empty (any non-empty body).
    pub expected_body: String,
    /// Alarm below this canary success percent, 1 to 100. Default: 90.
    pub success_threshold_percent: u32,
    /// Alarm above this canary duration in milliseconds. Default: 5000.
    pub duration_threshold_ms: u32,
    /// Aurora global replication lag, in milliseconds, that counts as a primary failure signal
    /// (with the outside-in canary). Default: 60000.
    pub replication_lag_threshold_ms: u32,
}

/// Application events.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Events {
    /// Days the archive keeps events for replay, 1 or more. Default: 30.
    pub archive_retention_days: u32,
}

/// DNS settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// The domain under which each environment gets its zone, `<suffix>.<parent_domain>`, to be
    /// delegated to Route 53 (NS records in the parent). Default: `trading-dr.example.com`.
    pub parent_domain: String,
    /// The Route 53 zone of `parent_domain`, when it is in this account: the primary stack then
    /// adds the delegation itself. Default: none (delegate by hand once).
    #[serde(default)]
    pub parent_zone_id: Option<String>,
    /// Seconds between Route 53 health checks: 10 or 30. Default: 10.
    pub health_check_interval_seconds: u32,
    /// Failed checks before an endpoint is unhealthy, 1 to 10. Default: 3.
    pub health_check_failure_threshold: u32,
}

/// The application service, the same in both regions but for the task counts.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The container image. Default: a placeholder web server; set the application's image.
    pub image: String,
    /// Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384. Default: 512.
    pub cpu: u32,
    /// Task memory in MiB, a size Fargate allows for the CPU. Default: 1024.
    pub memory: u32,
    /// The container's HTTP port. Default: 80.
    pub port: u16,
    /// The deep health path (load balancer, health checks, canaries). Default: `/`.
    pub health_path: String,
    /// Tasks in the primary. Default: 2.
    pub primary_desired_count: u32,
    /// Tasks in the secondary: the warm minimum, at least 1. Default: 1.
    pub secondary_desired_count: u32,
    /// The auto scaling ceiling in each region. Default: 6.
    pub max_count: u32,
    /// Target CPU utilisation percent, 10 to 90. Default: 60.
    pub cpu_target_percent: u32,
    /// Target requests per task per minute. Default: 1000.
    pub requests_per_target: u32,
    /// The HTTPS listener's TLS policy (TLS 1.2 or newer). Default:
    /// `ELBSecurityPolicy-TLS13-1-2-2021-06`.
    pub tls_policy: String,
}

/// One configuration problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or `--suffix`) where the bad value comes from.
    pub file: String,
    /// The dotted key.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.key, self.message)
    }
}

/// Every problem found in one load.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} configuration problem{}",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Loads the environment `suffix`: `default` overlaid by `overlay` (the suffix's own file, when
/// it exists), then validated. Returns every problem found, or the environment.
pub fn load(
    suffix: &str,
    default: Source,
    overlay: Option<Source>,
) -> Result<Environment, ConfigErrors> {
    validate::load(suffix, default, overlay)
}

/// Which of the two regions a stack serves (`primary`, `secondary` in files).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionRole {
    /// The active region in normal operation.
    Primary,
    /// The warm-standby recovery region.
    Secondary,
}

impl RegionRole {
    /// `primary` or `secondary`.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionRole::Primary => "primary",
            RegionRole::Secondary => "secondary",
        }
    }

    /// The other region's role.
    pub fn other(self) -> RegionRole {
        match self {
            RegionRole::Primary => RegionRole::Secondary,
            RegionRole::Secondary => RegionRole::Primary,
        }
    }

    /// Both roles, primary first.
    pub const ALL: [RegionRole; 2] = [RegionRole::Primary, RegionRole::Secondary];
}

impl std::fmt::Display for RegionRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Environment {
    /// The placement of the region serving `role`.
    pub fn region(&self, role: RegionRole) -> &Region {
        match role {
            RegionRole::Primary => &self.config.regions.primary,
            RegionRole::Secondary => &self.config.regions.secondary,
        }
    }

    /// The namer for the region serving `role`.
    pub fn namer(&self, role: RegionRole) -> cfn::naming::Namer {
        cfn::naming::Namer::new(self.suffix.clone(), self.region(role).name.clone())
    }

    /// The environment's SSM parameter paths (`/<app>/<suffix>/…`).
    pub fn parameter_paths(&self) -> cfn::naming::ParameterPaths {
        cfn::naming::ParameterPaths::new(&self.config.app, &self.suffix)
    }

    /// The tags every taggable resource of the `role` stack carries.
    pub fn tags(&self, role: RegionRole) -> cfn::Tags {
        cfn::Tags::new()
            .with("app", self.config.app.as_str())
            .with("environment", self.suffix.as_str())
            .with("region-role", role.as_str())
            .with("cost-centre", self.config.cost_centre.as_str())
    }

    /// The VPC block of the region serving `role` (validated at load).
    pub fn vpc_cidr(&self, role: RegionRole) -> cfn::net::Cidr {
        self.region(role)
            .vpc_cidr
            .parse()
            .expect("vpc_cidr was validated when the environment was loaded")
    }

    /// The three availability zones of the region serving `role` (validated at load).
    pub fn availability_zones(&self, role: RegionRole) -> [String; 3] {
        self.region(role)
            .availability_zones
            .clone()
            .try_into()
            .expect("exactly three zones were validated when the environment was loaded")
    }
}
