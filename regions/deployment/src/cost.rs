//! What an environment costs a month, read from its two templates and the environment: each
//! component in each region, in the steady state (us-east-1 serving, us-east-2 a warm standby)
//! and after a failover (us-east-2 serving at full capacity, us-east-1's resources still
//! billed). Prices come from the vendored table `prices.toml` (list prices, each row with its
//! source and the date it was read); usage no template says comes from the environment's
//! `[cost]` section. Offline: nothing here calls AWS.
//!
//! A resource type is priced by a function here, declared free in the table (with why), or
//! listed as not priced (with why) — never silently free: a type none of these knows is listed
//! as not priced with the reason "no price".
//!
//! Conditions are read as deployed: an `Fn::If` takes its first branch (the linked state, after
//! the primary-link phase). Task counts are the services' auto scaling floors in the templates
//! (a parameter's default where the floor is one), the environment's counts when a template has
//! none; so pricing a deployed template prices what it deployed.

use std::collections::BTreeMap;

use environment::{Environment, RegionRole};
use serde::Deserialize;
use serde_json::{Value, json};

/// Hours in a month, as AWS's pricing pages count them.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The vendored price table.
pub const PRICES: &str = include_str!("../prices.toml");

/// The currency of every figure.
pub const CURRENCY: &str = "USD";

/// A price row: the price of one unit of one thing, in some regions.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceRow {
    /// What the model asks for (`nat_gateway_hour`, …).
    pub key: String,
    /// The price of one unit.
    pub usd: f64,
    /// What one unit is.
    pub unit: String,
    /// Where the price holds.
    pub regions: Vec<String>,
    /// The AWS pricing page it comes from.
    #[serde(default)]
    pub source: String,
    /// The date it was read (YYYY-MM-DD).
    #[serde(default)]
    pub read: String,
}

/// Resource types AWS charges nothing for by themselves.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FreeRow {
    /// The types.
    pub types: Vec<String>,
    /// Where their usage, if any, is priced.
    pub note: String,
    /// The AWS page that says so.
    #[serde(default)]
    pub source: String,
    /// The date it was read.
    #[serde(default)]
    pub read: String,
}

/// Resource types the model does not price, and why.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UnpricedRow {
    /// The types.
    pub types: Vec<String>,
    /// Why they are not priced.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    price: Vec<PriceRow>,
    free: Vec<FreeRow>,
    unpriced: Vec<UnpricedRow>,
}

/// The price table, checked.
#[derive(Clone, Debug)]
pub struct Prices {
    rows: BTreeMap<String, PriceRow>,
    free: BTreeMap<String, FreeRow>,
    unpriced: BTreeMap<String, String>,
}

/// What is wrong with a price table or a lookup.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// The table does not parse or breaks a rule.
    #[error("prices.toml: {0}")]
    Table(String),
    /// The model asked for a price the table lacks.
    #[error("prices.toml has no price {key:?} for {region}")]
    Missing {
        /// The key.
        key: String,
        /// The region.
        region: String,
    },
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

impl Prices {
    /// The vendored table.
    pub fn vendored() -> Result<Prices, CostError> {
        Prices::parse(PRICES)
    }

    /// A table from its text: every price and free row names its source and the date it was
    /// read, no key or type appears twice, prices are finite and not negative.
    pub fn parse(text: &str) -> Result<Prices, CostError> {
        let t: Table = toml::from_str(text).map_err(|e| CostError::Table(e.to_string()))?;
        let mut problems = Vec::new();
        let mut rows = BTreeMap::new();
        for r in t.price {
            if r.source.trim().is_empty() {
                problems.push(format!("price {:?} names no source", r.key));
            }
            if !is_date(&r.read) {
                problems.push(format!(
                    "price {:?} has no date it was read (read = \"YYYY-MM-DD\")",
                    r.key
                ));
            }
            if !(r.usd.is_finite() && r.usd >= 0.0) {
                problems.push(format!("price {:?}: {} is not a price", r.key, r.usd));
            }
            if let Some(old) = rows.insert(r.key.clone(), r) {
                problems.push(format!("price {:?} appears twice", old.key));
            }
        }
        let mut free = BTreeMap::new();
        for f in t.free {
            if f.source.trim().is_empty() || !is_date(&f.read) {
                problems.push(format!(
                    "free {:?} names no source or date read",
                    f.types.join(", ")
                ));
            }
            for ty in &f.types {
                if free.insert(ty.clone(), f.clone()).is_some() {
                    problems.push(format!("{ty} is declared free twice"));
                }
            }
        }
        let mut unpriced = BTreeMap::new();
        for u in t.unpriced {
            for ty in &u.types {
                if free.contains_key(ty) || unpriced.insert(ty.clone(), u.reason.clone()).is_some()
                {
                    problems.push(format!("{ty} is declared twice"));
                }
            }
        }
        if problems.is_empty() {
            Ok(Prices {
                rows,
                free,
                unpriced,
            })
        } else {
            Err(CostError::Table(problems.join("; ")))
        }
    }

    /// The price of one unit of `key` in `region`.
    pub fn usd(&self, key: &str, region: &str) -> Result<f64, CostError> {
        self.rows
            .get(key)
            .filter(|r| r.regions.iter().any(|x| x == region))
            .map(|r| r.usd)
            .ok_or_else(|| CostError::Missing {
                key: key.into(),
                region: region.into(),
            })
    }

    /// The rows, by key.
    pub fn rows(&self) -> &BTreeMap<String, PriceRow> {
        &self.rows
    }

    /// Whether AWS charges nothing for the type itself.
    pub fn is_free(&self, resource_type: &str) -> bool {
        self.free.contains_key(resource_type)
    }

    /// Why the type is not priced, when the table says.
    pub fn unpriced_reason(&self, resource_type: &str) -> Option<&str> {
        self.unpriced.get(resource_type).map(String::as_str)
    }
}

/// One line of the estimate: a resource type of a component in a region, both states.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The region billed.
    pub region: String,
    /// The component (its crate's name).
    pub component: String,
    /// The resource type.
    pub resource_type: String,
    /// Resources of this type on the line.
    pub count: u32,
    /// Monthly, steady state.
    pub standby: f64,
    /// Monthly, after a failover.
    pub failover: f64,
}

/// A resource type the estimate does not price.
#[derive(Clone, Debug, PartialEq)]
pub struct NotPriced {
    /// The type.
    pub resource_type: String,
    /// The region whose template holds it.
    pub region: String,
    /// How many.
    pub count: u32,
    /// Why.
    pub reason: String,
}

/// The estimate of one environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// The environment.
    pub suffix: String,
    /// The lines, by region, component and type.
    pub lines: Vec<Line>,
    /// What is not priced.
    pub not_priced: Vec<NotPriced>,
}

/// `$1,234.56`.
pub fn usd(v: f64) -> String {
    let cents = (v * 100.0).round() as i64;
    let (sign, cents) = if cents < 0 {
        ("-", -cents)
    } else {
        ("", cents)
    };
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{:02}", cents % 100)
}

/// `+$12.00`, `-$3.50`, `±$0.00`.
pub fn delta(v: f64) -> String {
    if (v * 100.0).round() == 0.0 {
        "±$0.00".into()
    } else if v > 0.0 {
        format!("+{}", usd(v))
    } else {
        usd(v)
    }
}

fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

impl Estimate {
    /// The steady monthly total.
    pub fn standby_total(&self) -> f64 {
        self.lines.iter().map(|l| l.standby).sum()
    }

    /// The monthly total after a failover.
    pub fn failover_total(&self) -> f64 {
        self.lines.iter().map(|l| l.failover).sum()
    }

    /// A region's steady monthly total.
    pub fn region_standby(&self, region: &str) -> f64 {
        self.region_totals(region).0
    }

    /// A region's monthly totals: (steady, after a failover).
    pub fn region_totals(&self, region: &str) -> (f64, f64) {
        self.lines
            .iter()
            .filter(|l| l.region == region)
            .fold((0.0, 0.0), |(a, b), l| (a + l.standby, b + l.failover))
    }

    /// The JSON form: totals, lines (in cents, summing to the totals) and what is not priced.
    pub fn to_json(&self) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                json!({
                    "region": l.region,
                    "component": l.component,
                    "resource_type": l.resource_type,
                    "count": l.count,
                    "standby_monthly_usd": cents(l.standby),
                    "failover_monthly_usd": cents(l.failover),
                })
            })
            .collect();
        // The totals are the sums of the lines (in cents), so a script adding them gets these.
        let sum = |key: &str| {
            cents(
                lines
                    .iter()
                    .map(|l| l[key].as_f64().unwrap_or_default())
                    .sum(),
            )
        };
        json!({
            "suffix": self.suffix,
            "currency": CURRENCY,
            "standby_monthly_usd": sum("standby_monthly_usd"),
            "failover_monthly_usd": sum("failover_monthly_usd"),
            "lines": lines,
            "not_priced": self.not_priced.iter().map(|n| json!({
                "resource_type": n.resource_type,
                "region": n.region,
                "count": n.count,
                "reason": n.reason,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Which component made a resource: by type, refined by its logical id where one type serves
/// several components (log groups, buckets, state machines).
pub fn component(id: &str, resource_type: &str) -> &'static str {
    if resource_type == "AWS::StepFunctions::StateMachine" && id.starts_with("Fail") {
        return "runbook";
    }
    let by_id: &[(&str, &str)] = &[
        ("AppLogGroup", "service"),
        ("AlbLogs", "service"),
        ("AuroraRotation", "aurora"),
        ("ConfigReplication", "configuration"),
        ("ConfigBucket", "storage"),
        ("EventLog", "events"),
        ("FlowLog", "network"),
        ("WebAcl", "firewall"),
        ("Runbook", "runbook"),
        ("FailoverSwitch", "dns"),
        ("AuditBucket", "audit"),
        ("CanaryArtifacts", "canaries"),
        ("AccessLogs", "storage"),
        ("DataBucket", "storage"),
    ];
    if let Some((_, c)) = by_id.iter().find(|(p, _)| id.starts_with(p)) {
        return c;
    }
    let service = resource_type.split("::").nth(1).unwrap_or_default();
    match (service, resource_type) {
        (_, "AWS::EC2::VPCPeeringConnection") => "peering",
        ("EC2", _) => "network",
        ("KMS", _) => "keys",
        ("RDS" | "SecretsManager", _) => "aurora",
        ("DynamoDB", _) => "sessions",
        ("S3", _) => "storage",
        ("CloudTrail", _) => "audit",
        ("Backup", _) => "backup",
        ("SSM", _) => "configuration",
        ("ECS" | "ElasticLoadBalancingV2" | "ApplicationAutoScaling", _) => "service",
        ("WAFv2", _) => "firewall",
        ("Route53" | "CertificateManager", _) => "dns",
        ("Events", _) => "events",
        ("CloudWatch" | "Synthetics" | "SNS", _) => "canaries",
        ("StepFunctions", _) => "configuration",
        _ => "other",
    }
}

/// A property as deployed: `Fn::If` takes its first branch (the linked state).
fn deployed(v: &Value) -> &Value {
    match v.get("Fn::If").and_then(Value::as_array) {
        Some(branches) if branches.len() == 3 => deployed(&branches[1]),
        _ => v,
    }
}

fn list(v: &Value) -> Vec<&Value> {
    deployed(v)
        .as_array()
        .map(|a| a.iter().map(deployed).collect())
        .unwrap_or_default()
}

fn number(v: &Value) -> Option<f64> {
    let v = deployed(v);
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// The resource a `Ref` points at.
fn referenced<'t>(template: &'t Value, v: &Value) -> Option<&'t Value> {
    v.get("Ref")
        .and_then(Value::as_str)
        .and_then(|id| template["Resources"].get(id))
}

/// Minutes between a canary's runs, from `rate(N minute[s])` / `rate(N hour[s])`.
fn schedule_minutes(expression: &str) -> Option<f64> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.split_once(' ')?;
    let n: f64 = n.parse().ok()?;
    match unit {
        "minute" | "minutes" => Some(n),
        "hour" | "hours" => Some(n * 60.0),
        _ => None,
    }
}

/// One stack as the model reads it.
struct Stack<'a> {
    template: &'a Value,
    role: RegionRole,
    region: &'a str,
}

/// Prices of one resource: (region billed, standby, failover) parts.
type Parts = Vec<(String, f64, f64)>;

struct Model<'a> {
    env: &'a Environment,
    prices: &'a Prices,
    /// The tasks each region runs in the steady state: (primary, secondary).
    floors: (f64, f64),
}

/// The service's auto scaling floor in a template (a number, or a parameter's default): the
/// count the service runs, since the template carries no desired count.
fn floor(template: &Value) -> Option<f64> {
    let target = template["Resources"]
        .as_object()?
        .values()
        .find(|r| r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget")?;
    let min = &target["Properties"]["MinCapacity"];
    match min.get("Ref").and_then(Value::as_str) {
        Some(parameter) => number(&template["Parameters"][parameter]["Default"]),
        None => number(min),
    }
}

impl Model<'_> {
    fn p(&self, key: &str, region: &str) -> Result<f64, CostError> {
        self.prices.usd(key, region)
    }

    /// Whether `region` serves in the steady state and after a failover.
    fn serving(&self, role: RegionRole) -> (f64, f64) {
        match role {
            RegionRole::Primary => (1.0, 0.0),
            RegionRole::Secondary => (0.0, 1.0),
        }
    }

    #[allow(clippy::too_many_lines)]
    fn price(&self, s: &Stack, id: &str, r: &Value) -> Result<Option<Parts>, CostError> {
        let u = &self.env.config.cost;
        let p = &r["Properties"];
        let region = s.region;
        let h = HOURS_PER_MONTH;
        let (serve_standby, serve_failover) = self.serving(s.role);
        let same = |v: f64| Some(vec![(region.to_string(), v, v)]);
        let ty = r["Type"].as_str().unwrap_or_default();
        Ok(match ty {
            "AWS::EC2::NatGateway" => {
                let gateways = s.template["Resources"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, x)| x["Type"] == "AWS::EC2::NatGateway")
                    .count()
                    .max(1) as f64;
                same(
                    h * self.p("nat_gateway_hour", region)?
                        + u.nat_gb / gateways * self.p("nat_gateway_gb", region)?,
                )
            }
            "AWS::EC2::EIP" => same(h * self.p("public_ipv4_hour", region)?),
            "AWS::EC2::VPCEndpoint" => {
                if deployed(&p["VpcEndpointType"]) == "Interface" {
                    let zones = list(&p["SubnetIds"]).len() as f64;
                    same(
                        zones * h * self.p("interface_endpoint_hour", region)?
                            + u.endpoint_gb * self.p("interface_endpoint_gb", region)?,
                    )
                } else {
                    // Gateway endpoints (S3, DynamoDB) are free.
                    same(0.0)
                }
            }
            "AWS::EC2::VPCPeeringConnection" => {
                same(u.peering_gb * self.p("inter_region_gb", region)?)
            }
            "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
                // An internet-facing ALB holds a public IPv4 address in each of its subnets.
                let addresses = list(&p["Subnets"]).len() as f64;
                let fixed = h * self.p("alb_hour", region)?
                    + addresses * h * self.p("public_ipv4_hour", region)?;
                let lcu = u.alb_lcus * h * self.p("alb_lcu_hour", region)?;
                Some(vec![(
                    region.to_string(),
                    fixed + serve_standby * lcu,
                    fixed + serve_failover * lcu,
                )])
            }
            "AWS::ECS::Service" => {
                let task = referenced(s.template, &p["TaskDefinition"])
                    .map(|t| &t["Properties"])
                    .unwrap_or(&Value::Null);
                let vcpu = number(&task["Cpu"]).unwrap_or(0.0) / 1024.0;
                let gb = number(&task["Memory"]).unwrap_or(0.0) / 1024.0;
                let per_task = h
                    * (vcpu * self.p("fargate_vcpu_hour", region)?
                        + gb * self.p("fargate_gb_hour", region)?);
                // The floor each template gives the service is the count it runs; after a
                // failover the standby runs the primary's.
                let (standby, failover) = match s.role {
                    RegionRole::Primary => (self.floors.0, self.floors.0),
                    RegionRole::Secondary => (self.floors.1, self.floors.0),
                };
                Some(vec![(
                    region.to_string(),
                    standby * per_task,
                    failover * per_task,
                )])
            }
            "AWS::RDS::DBInstance" => {
                let min = referenced(s.template, &p["DBClusterIdentifier"])
                    .and_then(|c| {
                        number(&c["Properties"]["ServerlessV2ScalingConfiguration"]["MinCapacity"])
                    })
                    .unwrap_or(0.0);
                same(min * h * self.p("aurora_acu_hour", region)?)
            }
            "AWS::RDS::DBCluster" => {
                let storage = u.aurora_storage_gb * self.p("aurora_storage_gb_month", region)?;
                let io = u.aurora_io_millions * self.p("aurora_io_million", region)?;
                Some(vec![(
                    region.to_string(),
                    storage + serve_standby * io,
                    storage + serve_failover * io,
                )])
            }
            "AWS::RDS::GlobalCluster" => same(
                u.aurora_replicated_write_io_millions
                    * self.p("aurora_replicated_write_io_million", region)?,
            ),
            "AWS::DynamoDB::GlobalTable" => {
                let mut parts = Vec::new();
                for replica in list(&p["Replicas"]) {
                    let at = match deployed(&replica["Region"]) {
                        Value::String(name) => name.as_str(),
                        v if v["Ref"] == "AWS::Region" => region,
                        _ => continue,
                    };
                    let storage =
                        u.sessions_storage_gb * self.p("dynamodb_storage_gb_month", at)?;
                    let writes =
                        u.sessions_write_millions * self.p("dynamodb_write_million", at)?;
                    let replicated = u.sessions_write_millions
                        * self.p("dynamodb_replicated_write_million", at)?;
                    // The serving region takes the writes; the other replica receives them.
                    let (standby, failover) = if at == s.region {
                        (writes, replicated)
                    } else {
                        (replicated, writes)
                    };
                    parts.push((at.to_string(), storage + standby, storage + failover));
                }
                Some(parts)
            }
            "AWS::DynamoDB::Table" => {
                // The runbooks' lock table: a few items, a few writes per failover.
                same(0.0 * self.p("dynamodb_storage_gb_month", region)?)
            }
            "AWS::S3::Bucket" => {
                let written = if id.starts_with("DataBucket") {
                    u.bucket_gb
                } else {
                    u.log_gb_per_group
                };
                let replicated = if id.starts_with("DataBucket") {
                    u.replicated_gb
                } else {
                    u.log_gb_per_group
                };
                let replication = if deployed(&p["ReplicationConfiguration"]).is_object() {
                    replicated
                        * (self.p("s3_rtc_gb", region)? + self.p("inter_region_gb", region)?)
                } else {
                    0.0
                };
                same(written * self.p("s3_standard_gb_month", region)? + replication)
            }
            "AWS::WAFv2::WebACL" => {
                let rules = list(&p["Rules"]).len() as f64;
                let fixed = self.p("waf_web_acl_month", region)?
                    + rules * self.p("waf_rule_month", region)?;
                let requests = u.requests_millions * self.p("waf_request_million", region)?;
                Some(vec![(
                    region.to_string(),
                    fixed + serve_standby * requests,
                    fixed + serve_failover * requests,
                )])
            }
            "AWS::Logs::LogGroup" => same(
                u.log_gb_per_group
                    * (self.p("logs_ingest_gb", region)?
                        + self.p("logs_storage_gb_month", region)?),
            ),
            "AWS::CloudWatch::Alarm" => {
                let metrics = list(&p["Metrics"])
                    .iter()
                    .filter(|m| m.get("MetricStat").is_some())
                    .count()
                    .max(1) as f64;
                same(metrics * self.p("alarm_metric_month", region)?)
            }
            "AWS::CloudWatch::CompositeAlarm" => same(self.p("alarm_composite_month", region)?),
            "AWS::Synthetics::Canary" => {
                let minutes = deployed(&p["Schedule"]["Expression"])
                    .as_str()
                    .and_then(schedule_minutes)
                    .unwrap_or(1.0);
                same(h * 60.0 / minutes * self.p("canary_run", region)?)
            }
            "AWS::Route53::HostedZone" => same(self.p("route53_zone_month", region)?),
            "AWS::Route53::HealthCheck" => {
                let c = &p["HealthCheckConfig"];
                let kind = deployed(&c["Type"]).as_str().unwrap_or_default();
                let features = [
                    kind.starts_with("HTTPS"),
                    kind.ends_with("STR_MATCH"),
                    number(&c["RequestInterval"]) == Some(10.0),
                    deployed(&c["MeasureLatency"]) == true,
                ]
                .into_iter()
                .filter(|f| *f)
                .count() as f64;
                same(
                    self.p("route53_health_check_month", region)?
                        + features * self.p("route53_health_check_feature_month", region)?,
                )
            }
            "AWS::KMS::Key" => same(self.p("kms_key_month", region)?),
            "AWS::SecretsManager::Secret" => {
                let own = self.p("secret_month", region)?;
                let mut parts = vec![(region.to_string(), own, own)];
                for replica in list(&p["ReplicaRegions"]) {
                    if let Some(at) = deployed(&replica["Region"]).as_str() {
                        let v = self.p("secret_month", at)?;
                        parts.push((at.to_string(), v, v));
                    }
                }
                Some(parts)
            }
            "AWS::StepFunctions::StateMachine" => {
                same(u.state_transitions_thousands * self.p("state_transition_thousand", region)?)
            }
            "AWS::Events::EventBus" => {
                let events = u.events_millions * self.p("events_million", region)?;
                Some(vec![(
                    region.to_string(),
                    serve_standby * events,
                    serve_failover * events,
                )])
            }
            "AWS::Events::Archive" => {
                // An application event is about 1 KB: a million events, about 1 GB archived.
                let archived = u.events_millions * self.p("events_archive_gb", region)?;
                Some(vec![(
                    region.to_string(),
                    serve_standby * archived,
                    serve_failover * archived,
                )])
            }
            "AWS::Backup::BackupVault" => {
                // Each vault keeps its own region's daily table backups and the other region's
                // copies of them; the secondary's also keeps the copies of Aurora's snapshots
                // (the primary's own are free up to the cluster's size).
                let days = f64::from(self.env.config.backup.daily_retention_days);
                let sessions = 2.0
                    * u.sessions_storage_gb
                    * days
                    * self.p("dynamodb_backup_gb_month", region)?;
                let aurora = match s.role {
                    RegionRole::Primary => 0.0,
                    RegionRole::Secondary => {
                        u.aurora_storage_gb * self.p("aurora_backup_gb_month", region)?
                    }
                };
                same(sessions + aurora)
            }
            "AWS::CloudTrail::Trail" => same(self.p("cloudtrail_management_copy", region)?),
            "AWS::SNS::Topic" => {
                // Alerts are far below the first free million publishes a month.
                same(0.0 * self.p("sns_request_million", region)?)
            }
            _ => None,
        })
    }
}

/// The estimate of an environment from its two templates.
pub fn estimate(
    env: &Environment,
    primary: &Value,
    secondary: &Value,
    prices: &Prices,
) -> Result<Estimate, CostError> {
    let svc = &env.config.service;
    let model = Model {
        env,
        prices,
        floors: (
            floor(primary).unwrap_or(f64::from(svc.primary_desired_count)),
            floor(secondary).unwrap_or(f64::from(svc.secondary_desired_count)),
        ),
    };
    let mut lines: BTreeMap<(String, String, String), Line> = BTreeMap::new();
    let mut not_priced: BTreeMap<(String, String), NotPriced> = BTreeMap::new();
    for (role, template) in [
        (RegionRole::Primary, primary),
        (RegionRole::Secondary, secondary),
    ] {
        let stack = Stack {
            template,
            role,
            region: &env.region(role).name,
        };
        for (id, r) in template["Resources"].as_object().into_iter().flatten() {
            let ty = r["Type"].as_str().unwrap_or_default();
            if prices.is_free(ty) {
                continue;
            }
            match model.price(&stack, id, r)? {
                Some(parts) => {
                    let component = component(id, ty);
                    for (region, standby, failover) in parts {
                        let line = lines
                            .entry((region.clone(), component.to_string(), ty.to_string()))
                            .or_insert_with(|| Line {
                                region,
                                component: component.to_string(),
                                resource_type: ty.to_string(),
                                count: 0,
                                standby: 0.0,
                                failover: 0.0,
                            });
                        line.count += 1;
                        line.standby += standby;
                        line.failover += failover;
                    }
                }
                None => {
                    let entry = not_priced
                        .entry((ty.to_string(), stack.region.to_string()))
                        .or_insert_with(|| NotPriced {
                            resource_type: ty.to_string(),
                            region: stack.region.to_string(),
                            count: 0,
                            reason: prices
                                .unpriced_reason(ty)
                                .unwrap_or("no price: the model has no price for this type (add one to prices.toml and deployment::cost, or list it under [[unpriced]] with the reason)")
                                .to_string(),
                        });
                    entry.count += 1;
                }
            }
        }
    }
    // Each line in whole cents: the totals are the sums of the lines as shown.
    let lines = lines
        .into_values()
        .map(|l| Line {
            standby: cents(l.standby),
            failover: cents(l.failover),
            ..l
        })
        .collect();
    Ok(Estimate {
        suffix: env.suffix.as_str().to_string(),
        lines,
        not_priced: not_priced.into_values().collect(),
    })
}
