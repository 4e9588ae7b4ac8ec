//! `cargo xtask status`: would failover work now? Every readiness check, read from both regions
//! (read-only), each with a status (`ok`, `action-required`, `unknown`), what was seen and the
//! fix. A region that does not answer within seconds is named and its checks are `unknown`; the
//! other region is still read. `drill` evaluates the same checks before and after a drill.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use aws_sdk_cloudformation::types::TemplateStage;
use deployment::Synthesis;
use environment::{Environment, RegionRole};
use serde_json::{Value, json};

use crate::aws;
use crate::stack::{Deployed, Stack};
pub use xtask::online::StatusArgs as Args;
use xtask::online::Target;

/// The checks, by name: what `--json` and the output call them.
pub mod check {
    /// Both stacks complete and deployed from the templates `synth` makes now.
    pub const STACKS: &str = "stacks";
    /// The failover flag, the active-region parameter and the global database's writer agree.
    pub const ACTIVE_REGION: &str = "active-region";
    /// The global database is available, both clusters are members, replication lag is low.
    pub const GLOBAL_DATABASE: &str = "global-database";
    /// The sessions table is active in both regions, each listing the other as an active
    /// replica; its replication-latency alarms are OK.
    pub const SESSIONS: &str = "sessions-replicas";
    /// Both buckets replicate with Replication Time Control and metrics; no failed operations
    /// and no latency over the threshold.
    pub const S3: &str = "s3-replication";
    /// The shared parameters are identical in both regions (the runbook-owned ones aside), and
    /// their replication has not failed.
    pub const CONFIGURATION: &str = "configuration";
    /// The standby runs at least its warm count; the active region its full count.
    pub const CAPACITY: &str = "capacity";
    /// The canary, failover and traffic-switch alarms are in the state that means healthy.
    pub const ALARMS: &str = "alarms";
    /// No runbook holds the single-flight lock.
    pub const LOCK: &str = "failover-lock";
    /// The last backup and the last cross-region copy are recent enough for the schedule.
    pub const BACKUPS: &str = "backups";

    /// Every check, in the order they are printed.
    pub const ALL: [&str; 10] = [
        STACKS,
        ACTIVE_REGION,
        GLOBAL_DATABASE,
        SESSIONS,
        S3,
        CONFIGURATION,
        CAPACITY,
        ALARMS,
        LOCK,
        BACKUPS,
    ];
}

/// How old the newest recovery point (and its copy) may be: the daily schedule plus a start
/// window and the time a backup and its copy take.
pub const BACKUP_MAX_AGE: Duration = Duration::from_secs(28 * 3600);

/// A check's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// As it should be.
    Ok,
    /// Could not be read (a region did not answer, a call failed).
    Unknown,
    /// Failover would not work as designed until this is fixed.
    ActionRequired,
}

impl Status {
    /// `ok`, `unknown` or `action-required`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Unknown => "unknown",
            Status::ActionRequired => "action-required",
        }
    }
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Its name ([`check`]).
    pub name: &'static str,
    /// Its outcome.
    pub status: Status,
    /// What was seen.
    pub detail: String,
    /// What to do (empty when ok).
    pub fix: String,
}

/// What one check finds, part by part (a part per region or resource).
#[derive(Default)]
struct Finding {
    status: Option<Status>,
    details: Vec<String>,
    fixes: Vec<String>,
}

impl Finding {
    fn ok(&mut self, detail: impl Into<String>) {
        self.add(Status::Ok, detail, "");
    }

    fn action(&mut self, detail: impl Into<String>, fix: impl Into<String>) {
        self.add(Status::ActionRequired, detail, fix);
    }

    fn unknown(&mut self, detail: impl Into<String>) {
        self.add(Status::Unknown, detail, "");
    }

    fn add(&mut self, status: Status, detail: impl Into<String>, fix: impl Into<String>) {
        self.status = Some(self.status.map_or(status, |s| s.max(status)));
        let detail = detail.into();
        if !detail.is_empty() {
            self.details.push(detail);
        }
        let fix = fix.into();
        if !fix.is_empty() && !self.fixes.contains(&fix) {
            self.fixes.push(fix);
        }
    }

    fn into_check(self, name: &'static str) -> Check {
        Check {
            name,
            status: self.status.unwrap_or(Status::Unknown),
            detail: self.details.join("; "),
            fix: self.fixes.join("; "),
        }
    }
}

/// Every check's outcome.
#[derive(Clone, Debug)]
pub struct Report {
    /// The environment.
    pub suffix: String,
    /// The region serving, as the writer and the runbooks' record say (when they agree or
    /// only one could be read).
    pub active_region: Option<String>,
    /// Every check, in [`check::ALL`]'s order.
    pub checks: Vec<Check>,
    /// How long reading took.
    pub elapsed: Duration,
}

impl Report {
    /// Whether every check is ok.
    pub fn ready(&self) -> bool {
        self.checks.iter().all(|c| c.status == Status::Ok)
    }

    /// `ready` or `action-required` (an unknown check is not ready).
    pub fn verdict(&self) -> &'static str {
        if self.ready() {
            "ready"
        } else {
            "action-required"
        }
    }

    /// The checks that are not ok.
    pub fn failing(&self) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| c.status != Status::Ok)
            .collect()
    }

    /// The JSON `status --json` prints.
    pub fn to_json(&self) -> Value {
        json!({
            "suffix": self.suffix,
            "active_region": self.active_region,
            "verdict": self.verdict(),
            "checks": self.checks.iter().map(|c| json!({
                "name": c.name,
                "status": c.status.as_str(),
                "detail": c.detail,
                "fix": c.fix,
            })).collect::<Vec<_>>(),
        })
    }

    /// The text `status` prints.
    pub fn print(&self, out: &mut dyn Write) -> Result<()> {
        writeln!(
            out,
            "status of {} (active region {}), read in {:.1} s:",
            self.suffix,
            self.active_region.as_deref().unwrap_or("unknown"),
            self.elapsed.as_secs_f64()
        )?;
        for c in &self.checks {
            writeln!(
                out,
                "  {:<16} {:<18} {}",
                c.status.as_str(),
                c.name,
                c.detail
            )?;
            if !c.fix.is_empty() {
                writeln!(out, "  {:<16} {:<18} fix: {}", "", "", c.fix)?;
            }
        }
        let failing = self.failing();
        if failing.is_empty() {
            writeln!(out, "verdict: ready")?;
        } else {
            writeln!(
                out,
                "verdict: action-required ({})",
                failing
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        Ok(())
    }
}

/// Runs `status`: 0 when ready, 2 when a check needs action or could not be read.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<u8> {
    let (env, synthesis) = xtask::synth::synthesize(&args.synth.env_dir, &args.synth.suffix)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(evaluate(&env, &synthesis, &args.target))?;
    if args.json {
        writeln!(out, "{}", report.to_json())?;
    } else {
        report.print(out)?;
    }
    Ok(if report.ready() {
        xtask::exit::SUCCESS
    } else {
        xtask::exit::DIFFERENCES
    })
}

/// One region as read: whether it answered, its stack, the stack's alarms.
struct Side {
    role: RegionRole,
    region: String,
    stack_name: String,
    /// Why it could not be read, when it could not.
    unreachable: Option<String>,
    deployed: Option<Deployed>,
    /// Alarm name → (state, namespace, metric); composites have an empty namespace.
    alarms: BTreeMap<String, (String, String, String)>,
    /// Why the alarms could not be read, when they could not.
    alarms_error: Option<String>,
}

impl Side {
    fn output(&self, key: &str) -> Option<&str> {
        self.deployed
            .as_ref()
            .and_then(|d| d.outputs.get(key))
            .map(String::as_str)
    }

    /// Why nothing can be read here, if so.
    fn blocked(&self) -> Option<String> {
        if let Some(why) = &self.unreachable {
            return Some(format!("{} unreachable ({why})", self.region));
        }
        if self.deployed.is_none() {
            return Some(format!("{} has no stack {}", self.region, self.stack_name));
        }
        None
    }

    fn alarms_of(&self, namespace: &str, metric: &str) -> Vec<(&str, &str)> {
        self.alarms
            .iter()
            .filter(|(_, (_, ns, m))| ns == namespace && (metric.is_empty() || m == metric))
            .map(|(name, (state, _, _))| (name.as_str(), state.as_str()))
            .collect()
    }
}

/// What the checks read from.
struct Reader<'a> {
    env: &'a Environment,
    synthesis: &'a Synthesis,
    target: &'a Target,
    primary: Side,
    secondary: Side,
}

/// Reads both regions and evaluates every check.
pub async fn evaluate(env: &Environment, synthesis: &Synthesis, target: &Target) -> Result<Report> {
    let clock = Instant::now();
    let (primary, secondary) = tokio::join!(
        side(synthesis, RegionRole::Primary, target),
        side(synthesis, RegionRole::Secondary, target)
    );
    let r = Reader {
        env,
        synthesis,
        target,
        primary,
        secondary,
    };
    // Read once: both the active-region and the global-database checks judge it.
    let writer = r.writer().await;
    let (active, active_region) = r.active_region(&writer).await;
    let full_active = active_region
        .clone()
        .unwrap_or_else(|| r.primary.region.clone());
    let (stacks, database, sessions, s3, configuration, capacity, alarms, lock, backups) = tokio::join!(
        r.stacks(),
        r.global_database(&full_active, &writer),
        r.sessions(),
        r.s3(),
        r.configuration(),
        r.capacity(&full_active),
        r.alarms(&full_active),
        r.lock(),
        r.backups()
    );
    Ok(Report {
        suffix: env.suffix.to_string(),
        active_region,
        checks: vec![
            stacks.into_check(check::STACKS),
            active.into_check(check::ACTIVE_REGION),
            database.into_check(check::GLOBAL_DATABASE),
            sessions.into_check(check::SESSIONS),
            s3.into_check(check::S3),
            configuration.into_check(check::CONFIGURATION),
            capacity.into_check(check::CAPACITY),
            alarms.into_check(check::ALARMS),
            lock.into_check(check::LOCK),
            backups.into_check(check::BACKUPS),
        ],
        elapsed: clock.elapsed(),
    })
}

async fn side(synthesis: &Synthesis, role: RegionRole, target: &Target) -> Side {
    let entry = &synthesis.manifest.stacks[&role];
    let mut side = Side {
        role,
        region: entry.region.clone(),
        stack_name: entry.name.clone(),
        unreachable: None,
        deployed: None,
        alarms: BTreeMap::new(),
        alarms_error: None,
    };
    if let Err(why) = aws::probe(&entry.region, &entry.name, target).await {
        side.unreachable = Some(why);
        return side;
    }
    let stack = Stack::of(entry, target).await;
    match stack.describe().await {
        Ok(d) => side.deployed = d,
        Err(e) => {
            side.unreachable = Some(format!("{e:#}"));
            return side;
        }
    }
    if side.deployed.is_none() {
        return side;
    }
    match read_alarms(&stack, target).await {
        Ok(a) => side.alarms = a,
        Err(e) => side.alarms_error = Some(format!("{e:#}")),
    }
    side
}

/// Every alarm of the stack of `role`: name → (state, namespace, metric); a composite alarm
/// has an empty namespace and metric.
pub async fn stack_alarms(
    synthesis: &Synthesis,
    role: RegionRole,
    target: &Target,
) -> Result<BTreeMap<String, (String, String, String)>> {
    let stack = Stack::of(&synthesis.manifest.stacks[&role], target).await;
    read_alarms(&stack, target).await
}

/// Every alarm's state, per region (an unreadable region maps to an empty list), for reports.
pub async fn alarm_states(
    synthesis: &Synthesis,
    target: &Target,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut states = BTreeMap::new();
    for role in RegionRole::ALL {
        let alarms = stack_alarms(synthesis, role, target)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(name, (state, _, _))| (name, state))
            .collect();
        states.insert(synthesis.manifest.stacks[&role].region.clone(), alarms);
    }
    states
}

/// The state, namespace and metric of every alarm of the stack.
async fn read_alarms(
    stack: &Stack,
    target: &Target,
) -> Result<BTreeMap<String, (String, String, String)>> {
    let names: Vec<String> = stack
        .resources()
        .await?
        .into_iter()
        .filter(|(_, physical, kind)| {
            !physical.is_empty()
                && matches!(
                    kind.as_str(),
                    "AWS::CloudWatch::Alarm" | "AWS::CloudWatch::CompositeAlarm"
                )
        })
        .map(|(_, physical, _)| physical)
        .collect();
    let cw = aws::cloudwatch(&stack.region, target).await;
    let mut alarms = BTreeMap::new();
    for chunk in names.chunks(100) {
        let page = cw
            .describe_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .alarm_types(aws_sdk_cloudwatch::types::AlarmType::MetricAlarm)
            .alarm_types(aws_sdk_cloudwatch::types::AlarmType::CompositeAlarm)
            .max_records(100)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot read the alarms in {}: {}",
                    stack.region,
                    aws::describe_error(&e)
                )
            })?;
        for a in page.metric_alarms() {
            alarms.insert(
                a.alarm_name().unwrap_or_default().to_string(),
                (
                    a.state_value()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    a.namespace().unwrap_or_default().to_string(),
                    a.metric_name().unwrap_or_default().to_string(),
                ),
            );
        }
        for a in page.composite_alarms() {
            alarms.insert(
                a.alarm_name().unwrap_or_default().to_string(),
                (
                    a.state_value()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    String::new(),
                    String::new(),
                ),
            );
        }
    }
    Ok(alarms)
}

/// Alarms (name, state) not OK, as a phrase, or `None` when all are OK.
fn not_ok(alarms: &[(&str, &str)]) -> Option<String> {
    let bad: Vec<String> = alarms
        .iter()
        .filter(|(_, state)| *state != "OK")
        .map(|(name, state)| format!("{name} {state}"))
        .collect();
    (!bad.is_empty()).then(|| bad.join(", "))
}

/// The global database's status, its writer's ARN and its members that are not synchronized,
/// or why they could not be read.
type Writer = std::result::Result<(String, Option<String>, Vec<String>), String>;

/// The status of global database `id` and its writer's ARN, as RDS in `rds`'s region sees
/// them; `None` when there is no such global database.
pub(crate) async fn global_writer(
    rds: &aws_sdk_rds::Client,
    id: &str,
) -> std::result::Result<Option<(String, Option<String>, Vec<String>)>, String> {
    let r = rds
        .describe_global_clusters()
        .global_cluster_identifier(id)
        .send()
        .await
        .map_err(|e| aws::describe_error(&e))?;
    Ok(r.global_clusters().first().map(|g| {
        let writer = g
            .global_cluster_members()
            .iter()
            .find(|m| m.is_writer() == Some(true))
            .and_then(|m| m.db_cluster_arn())
            .map(String::from);
        // A member AWS is still rebuilding (after a failover with data loss) is not
        // `connected` until it rejoins; a switchover is refused until then.
        let unsynchronized = g
            .global_cluster_members()
            .iter()
            .filter(|m| {
                m.synchronization_status().is_some_and(|s| {
                    *s != aws_sdk_rds::types::GlobalClusterMemberSynchronizationStatus::Connected
                })
            })
            .filter_map(|m| m.db_cluster_arn().map(String::from))
            .collect();
        (
            g.status().unwrap_or("unknown").to_string(),
            writer,
            unsynchronized,
        )
    }))
}

/// The region of an ARN.
pub(crate) fn region_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl Reader<'_> {
    fn sides(&self) -> [&Side; 2] {
        [&self.primary, &self.secondary]
    }

    fn side(&self, role: RegionRole) -> &Side {
        match role {
            RegionRole::Primary => &self.primary,
            RegionRole::Secondary => &self.secondary,
        }
    }

    fn suffix(&self) -> &str {
        self.env.suffix.as_str()
    }

    fn deploy_fix(&self) -> String {
        format!(
            "`cargo xtask diff --suffix {0}` shows what differs; `cargo xtask deploy --suffix {0}` applies it",
            self.suffix()
        )
    }

    async fn stacks(&self) -> Finding {
        let mut f = Finding::default();
        for side in self.sides() {
            if let Some(why) = &side.unreachable {
                f.unknown(format!("{} unreachable ({why})", side.region));
                continue;
            }
            let Some(deployed) = &side.deployed else {
                f.action(
                    format!("{} is not deployed in {}", side.stack_name, side.region),
                    format!("`cargo xtask deploy --suffix {}`", self.suffix()),
                );
                continue;
            };
            if !matches!(
                deployed.status.as_str(),
                "CREATE_COMPLETE" | "UPDATE_COMPLETE"
            ) {
                f.action(
                    format!("{} is {}", side.stack_name, deployed.status),
                    self.deploy_fix(),
                );
                continue;
            }
            let client = aws::cloudformation(&side.region, self.target).await;
            let body = client
                .get_template()
                .stack_name(&side.stack_name)
                .template_stage(TemplateStage::Original)
                .send()
                .await;
            let deployed_template: Option<Value> = match body {
                Ok(b) => b.template_body().and_then(|t| serde_json::from_str(t).ok()),
                Err(e) => {
                    f.unknown(format!(
                        "cannot read the template of {}: {}",
                        side.stack_name,
                        aws::describe_error(&e)
                    ));
                    continue;
                }
            };
            let now = self.synthesis.template(side.role).to_json();
            match deployed_template {
                Some(t) if t == now => f.ok(format!("{} {}", side.stack_name, deployed.status)),
                Some(t) => f.action(
                    format!(
                        "{} was deployed from other templates than synth makes now ({})",
                        side.stack_name,
                        differing_resources(&t, &now)
                    ),
                    self.deploy_fix(),
                ),
                None => f.action(
                    format!("{} has a template that is not JSON", side.stack_name),
                    self.deploy_fix(),
                ),
            }
        }
        f
    }

    /// The active-region check, and the region serving when it can be told.
    async fn active_region(&self, writer: &Writer) -> (Finding, Option<String>) {
        let mut f = Finding::default();
        let recovery = &self.secondary;
        let paths = self.env.parameter_paths();
        let primary_region = self.primary.region.clone();
        let recovery_region = recovery.region.clone();
        // What the runbooks recorded, in the recovery region.
        let recorded = if let Some(why) = &recovery.unreachable {
            f.unknown(format!(
                "the runbooks' record in {recovery_region} cannot be read: unreachable ({why})"
            ));
            None
        } else {
            let ssm = aws::ssm(&recovery_region, self.target).await;
            let read = |name: String| {
                let ssm = ssm.clone();
                async move {
                    match ssm.get_parameter().name(&name).send().await {
                        Ok(p) => Ok(p.parameter().and_then(|p| p.value()).map(String::from)),
                        Err(e) => {
                            let message = aws::describe_error(&e);
                            if message.contains("ParameterNotFound") {
                                Ok(None)
                            } else {
                                Err(format!("cannot read {name}: {message}"))
                            }
                        }
                    }
                }
            };
            match (
                read(paths.active_region()).await,
                read(paths.flag(cfn::naming::FAILOVER_FLAG)).await,
            ) {
                (Ok(active), Ok(flag)) => Some((active, flag)),
                (Err(e), _) | (_, Err(e)) => {
                    f.unknown(e);
                    None
                }
            }
        };
        // Which cluster writes.
        let writer_region = match writer {
            Ok((_, Some(arn), _)) => region_of_arn(arn).map(String::from),
            Ok((_, None, _)) => {
                f.action(
                    "no cluster of the global database writes",
                    "see the global database in the RDS console; a failover or switchover may be stuck",
                );
                None
            }
            Err(e) => {
                f.unknown(e.clone());
                None
            }
        };
        let Some((active, flag)) = recorded else {
            return (f, writer_region);
        };
        let active = active.unwrap_or_else(|| primary_region.clone());
        let flag = flag.unwrap_or_else(|| "false".into());
        let flag_says = if flag == "true" {
            recovery_region.clone()
        } else {
            primary_region.clone()
        };
        let writer_says = writer_region.clone().unwrap_or_else(|| active.clone());
        if active == flag_says && active == writer_says {
            f.ok(format!(
                "{active} serves: active-region {active}, failover-active {flag}, writer in {writer_says}"
            ));
            (f, Some(active))
        } else {
            f.action(
                format!(
                    "they disagree: active-region {active}, failover-active {flag} (means {flag_says}), writer in {}",
                    writer_region.as_deref().unwrap_or("unknown")
                ),
                format!(
                    "a runbook stopped halfway: if {recovery_region} should serve, `cargo xtask failover --suffix {0} --force`; to return to {primary_region}, `cargo xtask failback --suffix {0}`",
                    self.suffix()
                ),
            );
            (f, writer_region)
        }
    }

    /// The global database's status and its writer's ARN.
    async fn writer(&self) -> Writer {
        let id = self
            .primary
            .output("AuroraGlobalClusterIdentifier")
            .map(String::from)
            .unwrap_or_else(|| {
                self.env
                    .namer(RegionRole::Primary)
                    .name(&cfn::naming::GLOBAL_CLUSTER, None)
            });
        let mut last = String::from("no region answered");
        for side in [&self.secondary, &self.primary] {
            if side.unreachable.is_some() {
                continue;
            }
            match global_writer(&aws::rds(&side.region, self.target).await, &id).await {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => return Err(format!("global database {id} not found")),
                Err(e) => {
                    last = format!("cannot read global database {id} in {}: {e}", side.region)
                }
            }
        }
        Err(last)
    }

    async fn global_database(&self, active: &str, writer: &Writer) -> Finding {
        let mut f = Finding::default();
        match writer.clone() {
            Ok((status, writer, unsynchronized)) => {
                if !unsynchronized.is_empty() {
                    f.action(
                        format!(
                            "not every member is synchronized: {} (AWS rebuilds an old primary after a failover with data loss)",
                            unsynchronized
                                .iter()
                                .map(|a| region_of_arn(a).unwrap_or(a))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        "wait until the member rejoins as a synchronized secondary (minutes to hours); failback and a standby in that region are not available until then",
                    );
                } else if status == "available" && writer.is_some() {
                    f.ok(format!(
                        "available, writer in {}",
                        writer.as_deref().and_then(region_of_arn).unwrap_or("?")
                    ));
                } else {
                    f.action(
                        format!("global database {status}, writer {}", writer.as_deref().unwrap_or("none")),
                        "wait for the operation under way to finish; if it does not, see the global database in the RDS console",
                    );
                }
            }
            Err(e) => f.unknown(e),
        }
        // Replication into the recovery region, while the primary writes.
        if active == self.primary.region {
            let lag = self
                .secondary
                .alarms_of("AWS/RDS", "AuroraGlobalDBReplicationLag");
            if let Some(why) = self.secondary.blocked() {
                f.unknown(format!("replication lag: {why}"));
            } else if lag.is_empty() {
                f.action(
                    format!("no replication-lag alarm in {}", self.secondary.region),
                    self.deploy_fix(),
                );
            } else if let Some(bad) = not_ok(&lag) {
                f.action(
                    format!("replication lag: {bad}"),
                    "see AuroraGlobalDBReplicationLag of the us-east-2 cluster in CloudWatch: a lag over the threshold means data written in the primary is not reaching the standby",
                );
            } else {
                f.ok("replication lag under its threshold");
            }
        } else {
            f.ok(format!(
                "failed over: {active} writes; the lag alarm watches replication into {} and reads again after failback",
                self.secondary.region
            ));
        }
        f
    }

    async fn sessions(&self) -> Finding {
        let mut f = Finding::default();
        let table = self
            .primary
            .output("SessionsTableName")
            .map(String::from)
            .unwrap_or_else(|| {
                self.env
                    .namer(RegionRole::Primary)
                    .name(&cfn::naming::SESSIONS_TABLE, None)
            });
        for side in self.sides() {
            let other = &self.side(side.role.other()).region;
            if let Some(why) = &side.unreachable {
                f.unknown(format!("{} unreachable ({why})", side.region));
                continue;
            }
            let dynamodb = aws::dynamodb(&side.region, self.target).await;
            match dynamodb.describe_table().table_name(&table).send().await {
                Ok(d) => {
                    let Some(t) = d.table() else {
                        f.unknown(format!("{table} in {}: no description", side.region));
                        continue;
                    };
                    let status = t.table_status().map(|s| s.as_str()).unwrap_or("?");
                    let replica = t
                        .replicas()
                        .iter()
                        .find(|r| r.region_name() == Some(other.as_str()))
                        .map(|r| r.replica_status().map(|s| s.as_str()).unwrap_or("?"));
                    match (status, replica) {
                        ("ACTIVE", Some("ACTIVE")) => f.ok(format!(
                            "{table} in {} ACTIVE, replica in {other} ACTIVE",
                            side.region
                        )),
                        (_, None) => f.action(
                            format!("{table} in {} lists no replica in {other}", side.region),
                            format!(
                                "the global table lost its replica: `cargo xtask deploy --suffix {}` adds it again (primary-link phase)",
                                self.suffix()
                            ),
                        ),
                        (status, Some(replica)) => f.action(
                            format!(
                                "{table} in {} {status}, replica in {other} {replica}",
                                side.region
                            ),
                            "see the table's replicas in the DynamoDB console (a replica whose key is unreachable shows INACCESSIBLE_ENCRYPTION_CREDENTIALS)",
                        ),
                    }
                }
                Err(e) => {
                    let message = aws::describe_error(&e);
                    if message.contains("ResourceNotFound") || message.contains("not found") {
                        f.action(
                            format!("no table {table} in {}", side.region),
                            format!("`cargo xtask deploy --suffix {}`", self.suffix()),
                        );
                    } else {
                        f.unknown(format!(
                            "cannot describe {table} in {}: {message}",
                            side.region
                        ));
                    }
                }
            }
            if side.deployed.is_some() {
                let latency = side.alarms_of("AWS/DynamoDB", "ReplicationLatency");
                if let Some(bad) = not_ok(&latency) {
                    f.action(
                        format!("replication latency: {bad}"),
                        "see ReplicationLatency of the sessions table in CloudWatch",
                    );
                }
            }
        }
        f
    }

    async fn s3(&self) -> Finding {
        let mut f = Finding::default();
        let side = &self.primary;
        if let Some(why) = side.blocked() {
            f.unknown(format!("bucket replication: {why}"));
            return f;
        }
        let s3 = aws::s3(&side.region, self.target).await;
        for key in ["DataBucketName", "ConfigBucketName"] {
            let Some(bucket) = side.output(key) else {
                f.action(
                    format!("the primary stack has no output {key}"),
                    self.deploy_fix(),
                );
                continue;
            };
            match s3.get_bucket_replication().bucket(bucket).send().await {
                Ok(r) => {
                    let rules = r
                        .replication_configuration()
                        .map(|c| c.rules().to_vec())
                        .unwrap_or_default();
                    let good = rules.iter().any(|rule| {
                        rule.status().as_str() == "Enabled"
                            && rule.destination().is_some_and(|d| {
                                d.replication_time()
                                    .is_some_and(|t| t.status().as_str() == "Enabled")
                                    && d.metrics()
                                        .is_some_and(|m| m.status().as_str() == "Enabled")
                            })
                    });
                    if good {
                        f.ok(format!("{bucket} replicates with RTC"));
                    } else {
                        f.action(
                            format!("{bucket} has no enabled rule with Replication Time Control and metrics"),
                            self.deploy_fix(),
                        );
                    }
                }
                Err(e) => {
                    let message = aws::describe_error(&e);
                    if message.contains("ReplicationConfigurationNotFound") {
                        f.action(format!("{bucket} does not replicate"), self.deploy_fix());
                    } else {
                        f.unknown(format!(
                            "cannot read the replication of {bucket}: {message}"
                        ));
                    }
                }
            }
        }
        let alarms: Vec<(&str, &str)> = side.alarms_of("AWS/S3", "");
        if alarms.is_empty() {
            f.action("no replication alarms on the buckets", self.deploy_fix());
        } else if let Some(bad) = not_ok(&alarms) {
            f.action(
                format!("replication alarms: {bad}"),
                "see OperationsFailedReplication and ReplicationLatency of the buckets in CloudWatch; failed objects must be written again or copied with S3 Batch Replication",
            );
        }
        f
    }

    async fn configuration(&self) -> Finding {
        let mut f = Finding::default();
        let paths = self.env.parameter_paths();
        let tree = paths.shared_tree();
        let owned: BTreeSet<String> = [
            paths.active_region(),
            paths.flag(cfn::naming::FAILOVER_FLAG),
        ]
        .into_iter()
        .collect();
        let mut trees = Vec::new();
        for side in self.sides() {
            if let Some(why) = &side.unreachable {
                f.unknown(format!("{} unreachable ({why})", side.region));
                continue;
            }
            match read_tree(&aws::ssm(&side.region, self.target).await, &tree).await {
                Ok(t) => trees.push((side.region.as_str(), t)),
                Err(e) => f.unknown(format!("{} in {}: {e}", tree, side.region)),
            }
            let failed = side.alarms_of("AWS/States", "ExecutionsFailed");
            if let Some(bad) = not_ok(&failed) {
                f.action(
                    format!("replication failed: {bad}"),
                    "see the failed executions of the configuration replication state machines in Step Functions",
                );
            }
        }
        if let [(a, left), (b, right)] = trees.as_slice() {
            let keys: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
            let differing: Vec<String> = keys
                .into_iter()
                .filter(|k| !owned.contains(*k) && left.get(*k) != right.get(*k))
                .map(|k| {
                    let short = k.strip_prefix(&tree).unwrap_or(k);
                    match (left.get(k), right.get(k)) {
                        (Some(_), None) => format!("{short} (missing in {b})"),
                        (None, Some(_)) => format!("{short} (missing in {a})"),
                        _ => short.to_string(),
                    }
                })
                .collect();
            if differing.is_empty() {
                f.ok(format!(
                    "{} shared parameters identical in {a} and {b}",
                    left.len()
                ));
            } else {
                f.action(
                    format!("shared parameters differ: {}", differing.join(", ")),
                    format!(
                        "put the value again in {a} (replication copies it to {b}), or `cargo xtask deploy --suffix {}`",
                        self.suffix()
                    ),
                );
            }
        }
        f
    }

    async fn capacity(&self, active: &str) -> Finding {
        let mut f = Finding::default();
        let service = &self.env.config.service;
        for side in self.sides() {
            if let Some(why) = side.blocked() {
                f.unknown(format!("service: {why}"));
                continue;
            }
            let (Some(cluster), Some(name)) =
                (side.output("EcsClusterName"), side.output("EcsServiceName"))
            else {
                f.action(
                    format!("the {} stack has no service outputs", side.role),
                    self.deploy_fix(),
                );
                continue;
            };
            let serving = side.region == active;
            let floor = if serving {
                service.primary_desired_count
            } else {
                service.secondary_desired_count
            };
            let what = if serving { "serving" } else { "standby" };
            let ecs = aws::ecs(&side.region, self.target).await;
            match ecs
                .describe_services()
                .cluster(cluster)
                .services(name)
                .send()
                .await
            {
                Ok(d) => match d.services().first() {
                    Some(s) => {
                        let running = u32::try_from(s.running_count()).unwrap_or(0);
                        let desired = u32::try_from(s.desired_count()).unwrap_or(0);
                        if running >= floor && desired >= floor {
                            f.ok(format!(
                                "{} ({what}) runs {running} of {desired}, at least {floor}",
                                side.region
                            ));
                        } else {
                            f.action(
                                format!(
                                    "{} ({what}) runs {running} of {desired} tasks, fewer than {floor}",
                                    side.region
                                ),
                                "see the service's events in the ECS console (tasks failing health checks, capacity, image pulls)",
                            );
                        }
                    }
                    None => f.action(
                        format!("no service {name} in {}", side.region),
                        self.deploy_fix(),
                    ),
                },
                Err(e) => f.unknown(format!(
                    "cannot describe {name} in {}: {}",
                    side.region,
                    aws::describe_error(&e)
                )),
            }
        }
        f
    }

    async fn alarms(&self, active: &str) -> Finding {
        let mut f = Finding::default();
        let failed_over = active == self.secondary.region;
        let switch = self
            .env
            .namer(RegionRole::Secondary)
            .name(&cfn::naming::SWITCH_ALARM, None);
        for side in self.sides() {
            if let Some(why) = side.blocked() {
                f.unknown(format!("alarms: {why}"));
                continue;
            }
            if let Some(why) = &side.alarms_error {
                f.unknown(why.clone());
                continue;
            }
            let mut watched: Vec<(&str, &str)> = side.alarms_of("CloudWatchSynthetics", "");
            // Composite alarms: the one that starts failover.
            watched.extend(side.alarms_of("", ""));
            let mut bad: Vec<String> = watched
                .iter()
                .filter(|(_, state)| *state != "OK")
                .map(|(name, state)| format!("{name} {state}"))
                .collect();
            if let Some((state, _, _)) = side.alarms.get(&switch) {
                let expected = if failed_over { "ALARM" } else { "OK" };
                if state != expected {
                    bad.push(format!("{switch} {state} (expected {expected})"));
                }
            }
            if watched.is_empty() {
                f.action(
                    format!("no canary alarms in {}", side.region),
                    self.deploy_fix(),
                );
            } else if bad.is_empty() {
                f.ok(format!("{} alarms OK in {}", watched.len(), side.region));
            } else {
                f.action(
                    format!("in {}: {}", side.region, bad.join(", ")),
                    "ALARM: the canary or the health path fails (see the canary's runs in CloudWatch Synthetics); INSUFFICIENT_DATA: the canary is not running (start it)",
                );
            }
        }
        // The traffic switch as Route 53 reads it: its health check follows the switch's data,
        // not the alarm, so the alarm in ALARM does not prove traffic stays in us-east-2.
        match self.switch_health().await {
            Ok(None) => {}
            Ok(Some(healthy)) if healthy != failed_over => f.ok(format!(
                "Route 53 reads the traffic switch {}: traffic {}",
                if healthy { "healthy" } else { "unhealthy" },
                if failed_over { "stays in us-east-2" } else { "goes to us-east-1" }
            )),
            Ok(Some(healthy)) => f.action(
                format!(
                    "Route 53 reads the traffic switch {} while {active} is active: DNS sends traders to {}",
                    if healthy { "healthy" } else { "unhealthy" },
                    if healthy { self.primary.region.as_str() } else { self.secondary.region.as_str() }
                ),
                if failed_over {
                    format!(
                        "put the switch back up: `cargo xtask failover --suffix {} --force` re-asserts it (the runbook is idempotent after promotion)",
                        self.suffix()
                    )
                } else {
                    "the switch still says failed over: finish the failback (`cargo xtask failback`) or put FailoverActive 0".to_string()
                },
            ),
            Err(e) => f.unknown(e),
        }
        f
    }

    /// Whether Route 53's checkers find the traffic switch's health check healthy (most of
    /// them say Success); `None` when the stack has none (not linked yet). GetHealthCheckStatus
    /// is served by Route 53 from us-east-1: unreachable with that region.
    async fn switch_health(&self) -> std::result::Result<Option<bool>, String> {
        if let Some(why) = self.primary.blocked() {
            return Err(format!("the traffic switch's health check: {why}"));
        }
        let cfn = aws::cloudformation(&self.primary.region, self.target).await;
        let id = match cfn
            .describe_stack_resource()
            .stack_name(&self.primary.stack_name)
            .logical_resource_id("FailoverSwitchHealthCheck")
            .send()
            .await
        {
            Ok(r) => match r
                .stack_resource_detail()
                .and_then(|d| d.physical_resource_id())
                .filter(|p| !p.is_empty())
            {
                Some(id) => id.to_string(),
                None => return Ok(None),
            },
            Err(e) => {
                let message = aws::describe_error(&e);
                return if message.contains("does not exist") {
                    Ok(None)
                } else {
                    Err(format!(
                        "cannot find the traffic switch's health check: {message}"
                    ))
                };
            }
        };
        let route53 = aws::route53(self.target).await;
        let status = route53
            .get_health_check_status()
            .health_check_id(&id)
            .send()
            .await
            .map_err(|e| format!("cannot read health check {id}: {}", aws::describe_error(&e)))?;
        let reports: Vec<&str> = status
            .health_check_observations()
            .iter()
            .filter_map(|o| o.status_report().and_then(|r| r.status()))
            .collect();
        if reports.is_empty() {
            return Err(format!("health check {id}: no checker reported"));
        }
        let healthy = reports.iter().filter(|r| r.starts_with("Success")).count();
        Ok(Some(healthy * 2 > reports.len()))
    }

    async fn lock(&self) -> Finding {
        let mut f = Finding::default();
        let side = &self.secondary;
        if let Some(why) = &side.unreachable {
            f.unknown(format!("{} unreachable ({why})", side.region));
            return f;
        }
        let table = self
            .env
            .namer(RegionRole::Secondary)
            .name(&cfn::naming::RUNBOOK_LOCK, None);
        let dynamodb = aws::dynamodb(&side.region, self.target).await;
        match dynamodb
            .get_item()
            .table_name(&table)
            .key(
                "lock",
                aws_sdk_dynamodb::types::AttributeValue::S("runbook".into()),
            )
            .consistent_read(true)
            .send()
            .await
        {
            Ok(r) => match r.item() {
                None => f.ok("free"),
                Some(item) => {
                    let text = |k: &str| {
                        item.get(k)
                            .and_then(|v| v.as_s().ok())
                            .cloned()
                            .unwrap_or_else(|| "?".into())
                    };
                    f.action(
                        format!(
                            "held by {} ({})",
                            text("owner"),
                            text("operation")
                        ),
                        format!(
                            "a runbook is running: let it finish; if that execution has ended, release the lock: `aws dynamodb delete-item --region {} --table-name {table} --key '{{\"lock\":{{\"S\":\"runbook\"}}}}'`",
                            side.region
                        ),
                    );
                }
            },
            Err(e) => f.unknown(format!(
                "cannot read {table} in {}: {}",
                side.region,
                aws::describe_error(&e)
            )),
        }
        f
    }

    async fn backups(&self) -> Finding {
        let mut f = Finding::default();
        let vault = |role: RegionRole| {
            self.side(role)
                .output("BackupVaultName")
                .map(String::from)
                .unwrap_or_else(|| self.env.namer(role).name(&cfn::naming::BACKUP_VAULT, None))
        };
        let source = vault(RegionRole::Primary);
        let copies = vault(RegionRole::Secondary);
        let max_hours = BACKUP_MAX_AGE.as_secs() / 3600;
        let schedule = &self.env.config.backup.schedule;
        for (side, name, what) in [
            (&self.primary, &source, "backup"),
            (&self.secondary, &copies, "cross-region copy"),
        ] {
            if let Some(why) = &side.unreachable {
                f.unknown(format!("{what}: {} unreachable ({why})", side.region));
                continue;
            }
            let backup = aws::backup(&side.region, self.target).await;
            let points = match list_points(&backup, name).await {
                Ok(p) => p,
                Err(e) => {
                    f.unknown(format!("cannot list the recovery points of {name}: {e}"));
                    continue;
                }
            };
            let newest = points
                .iter()
                .filter(|p| p.completed)
                .filter(|p| {
                    what == "backup"
                        || p.source
                            .as_deref()
                            .is_some_and(|s| s.ends_with(&format!(":backup-vault:{source}")))
                })
                .map(|p| p.created)
                .fold(None, |a: Option<f64>, c| Some(a.map_or(c, |a| a.max(c))));
            match newest {
                Some(created) => {
                    let hours = (now_secs() - created) / 3600.0;
                    if hours <= BACKUP_MAX_AGE.as_secs_f64() / 3600.0 {
                        f.ok(format!("last {what} in {name} {hours:.1} h ago"));
                    } else {
                        f.action(
                            format!("last {what} in {name} {hours:.0} h ago (more than {max_hours} h)"),
                            format!(
                                "see the failed {}s in the AWS Backup console of {} (`aws backup list-{}-jobs --by-state FAILED`)",
                                if what == "backup" { "backup job" } else { "copy job" },
                                self.primary.region,
                                if what == "backup" { "backup" } else { "copy" },
                            ),
                        );
                    }
                }
                None => f.action(
                    format!("no completed {what} in {name} yet"),
                    format!("backups run on {schedule}; the first copy follows the first backup"),
                ),
            }
        }
        f
    }
}

/// A recovery point as the backups check reads it.
struct Point {
    created: f64,
    completed: bool,
    source: Option<String>,
}

async fn list_points(backup: &aws_sdk_backup::Client, vault: &str) -> Result<Vec<Point>, String> {
    let mut points = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = backup
            .list_recovery_points_by_backup_vault()
            .backup_vault_name(vault)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| aws::describe_error(&e))?;
        for p in page.recovery_points() {
            points.push(Point {
                created: p.creation_date().map(|d| d.as_secs_f64()).unwrap_or(0.0),
                completed: p.status().map(|s| s.as_str()) == Some("COMPLETED"),
                source: p.source_backup_vault_arn().map(String::from),
            });
        }
        token = page.next_token().map(String::from);
        if token.is_none() {
            return Ok(points);
        }
    }
}

/// Every parameter below `tree` and its value.
async fn read_tree(
    ssm: &aws_sdk_ssm::Client,
    tree: &str,
) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = ssm
            .get_parameters_by_path()
            .path(tree)
            .recursive(true)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| aws::describe_error(&e))?;
        for p in page.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                values.insert(name.to_string(), value.to_string());
            }
        }
        token = page.next_token().map(String::from);
        if token.is_none() {
            return Ok(values);
        }
    }
}

/// Which resources differ between two templates, briefly.
fn differing_resources(deployed: &Value, now: &Value) -> String {
    let empty = serde_json::Map::new();
    let old = deployed["Resources"].as_object().unwrap_or(&empty);
    let new = now["Resources"].as_object().unwrap_or(&empty);
    let mut changed: Vec<String> = new
        .iter()
        .filter(|(id, body)| old.get(*id) != Some(*body))
        .map(|(id, _)| {
            if old.contains_key(id) {
                format!("{id} changed")
            } else {
                format!("{id} added")
            }
        })
        .chain(
            old.keys()
                .filter(|id| !new.contains_key(*id))
                .map(|id| format!("{id} removed")),
        )
        .collect();
    if changed.is_empty() {
        return "parameters, outputs or conditions differ".into();
    }
    let more = changed.len().saturating_sub(5);
    changed.truncate(5);
    if more > 0 {
        changed.push(format!("{more} more"));
    }
    changed.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_part_decides_a_check() {
        let mut f = Finding::default();
        f.ok("us-east-1 fine");
        f.unknown("us-east-2 unreachable");
        assert_eq!(f.into_check("x").status, Status::Unknown);
        let mut f = Finding::default();
        f.unknown("a");
        f.action("b", "do c");
        f.ok("d");
        let c = f.into_check("x");
        assert_eq!(c.status, Status::ActionRequired);
        assert_eq!(c.detail, "a; b; d");
        assert_eq!(c.fix, "do c");
        assert_eq!(Finding::default().into_check("x").status, Status::Unknown);
    }

    #[test]
    fn the_report_is_ready_only_when_every_check_is_ok() {
        let check = |name, status| Check {
            name,
            status,
            detail: String::new(),
            fix: String::new(),
        };
        let mut r = Report {
            suffix: "qa".into(),
            active_region: Some("us-east-1".into()),
            checks: vec![
                check(check::STACKS, Status::Ok),
                check(check::LOCK, Status::Ok),
            ],
            elapsed: Duration::ZERO,
        };
        assert_eq!(r.verdict(), "ready");
        r.checks[1].status = Status::Unknown;
        assert_eq!(r.verdict(), "action-required");
        let j = r.to_json();
        assert_eq!(j["verdict"], "action-required");
        assert_eq!(j["checks"][1]["name"], "failover-lock");
        assert_eq!(j["checks"][1]["status"], "unknown");
    }

    #[test]
    fn differing_resources_are_named() {
        let a = json!({"Resources": {"A": {"Type": "x"}, "B": {"Type": "y"}}});
        let b = json!({"Resources": {"A": {"Type": "x2"}, "C": {"Type": "z"}}});
        assert_eq!(differing_resources(&a, &b), "A changed, C added, B removed");
        assert_eq!(
            differing_resources(&a, &a),
            "parameters, outputs or conditions differ"
        );
    }
}
