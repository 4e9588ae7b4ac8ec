//! `cargo xtask drill`: a game day in one command. It refuses unless `status` says ready, then
//! runs the failover runbook forced (a practice: the primary is healthy) and the failback
//! runbook, the same state machines an outage would start, and measures each: the time from
//! the start until service is restored in the target region (the writer there, the traffic
//! switch confirmed, the service at full capacity, the region's canary alarms OK), next to the
//! budget `cargo xtask rto` computes. The report (JSON and Markdown) goes to
//! `out/<suffix>/drills/<timestamp>/` and to the primary's configuration bucket under
//! `drills/<timestamp>/` (versioned and replicated); a drill that fails writes it too, saying
//! where it stopped and what state it left.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use aws_sdk_sfn::types::ExecutionStatus;
use deployment::Synthesis;
use environment::{Environment, RegionRole};
use runbook::contract::Runbook;
use serde_json::{Value, json};
use sha2::Digest;

use crate::aws;
use crate::phases::confirm;
use crate::status::{self, Report};
pub use xtask::online::DrillArgs as Args;
use xtask::online::{DrillMode, Target};

/// One stage of the drill: a runbook execution, measured.
#[derive(Debug, Clone, Default)]
pub struct Stage {
    /// `failover` or `failback`.
    pub name: String,
    /// The region that serves once it is done.
    pub target_region: String,
    /// The execution.
    pub execution_arn: String,
    /// How it ended (`SUCCEEDED`, `FAILED`, …; `RUNNING` when the watch ran out).
    pub status: String,
    /// Seconds from the start until every restored condition held at once.
    pub restored_seconds: Option<f64>,
    /// Seconds from the start until the execution ended.
    pub completed_seconds: Option<f64>,
    /// Seconds from the start until each condition first held.
    pub conditions: BTreeMap<&'static str, Option<f64>>,
    /// Every state entered, with its time from the start.
    pub timeline: Vec<(f64, String)>,
    /// The error and cause of a failed execution.
    pub error: Option<(String, String)>,
}

impl Stage {
    /// Whether the execution succeeded and service was restored.
    pub fn passed(&self) -> bool {
        self.status == "SUCCEEDED" && self.restored_seconds.is_some()
    }

    /// The last state entered.
    pub fn stopped_at(&self) -> Option<&str> {
        self.timeline.last().map(|(_, s)| s.as_str())
    }

    fn to_json(&self, computed: Option<(u64, u64)>) -> Value {
        json!({
            "stage": self.name,
            "target_region": self.target_region,
            "execution_arn": self.execution_arn,
            "status": self.status,
            "restored_seconds": self.restored_seconds.map(round1),
            "completed_seconds": self.completed_seconds.map(round1),
            "computed_restored_seconds": computed.map(|c| c.0),
            "computed_complete_seconds": computed.map(|c| c.1),
            "conditions": self.conditions.iter().map(|(k, v)| (k.to_string(), json!(v.map(round1)))).collect::<serde_json::Map<_, _>>(),
            "stopped_at": self.stopped_at(),
            "error": self.error.as_ref().map(|e| e.0.clone()),
            "cause": self.error.as_ref().map(|e| e.1.clone()),
            "timeline": self.timeline.iter().map(|(t, s)| json!({"seconds": round1(*t), "state": s})).collect::<Vec<_>>(),
        })
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The conditions that say service is restored in a region, by name.
pub const CONDITIONS: [&str; 4] = ["writer", "traffic-switch", "full-capacity", "canaries-ok"];

/// Runs `drill`: 0 when it passed, 1 when anything failed or it took longer than the budget.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<u8> {
    let (env, synthesis) = xtask::synth::synthesize(&args.synth.env_dir, &args.synth.suffix)?;
    let budget =
        deployment::rto::budget(&synthesis.primary.to_json(), &synthesis.secondary.to_json())?;
    let computed = (
        budget.restored(),
        budget.restored() + budget.after.iter().map(|l| l.seconds).sum::<u64>(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let before = status::evaluate(&env, &synthesis, &args.target).await?;
        let primary_region = env.region(RegionRole::Primary).name.clone();
        if !before.ready() {
            before.print(out)?;
            bail!(
                "a drill starts only from a ready deployment: {} need action (the fixes are above; `cargo xtask status --suffix {}` checks again). Nothing was started",
                before
                    .failing()
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", "),
                env.suffix
            );
        }
        if before.active_region.as_deref() != Some(primary_region.as_str()) {
            bail!(
                "a drill starts from the primary serving; {} serves now (`cargo xtask failback --suffix {}` first). Nothing was started",
                before.active_region.as_deref().unwrap_or("another region"),
                env.suffix
            );
        }
        writeln!(out, "status: ready ({} checks ok)", before.checks.len())?;
        let question = format!(
            "drill {} ({}): {} to {} and back, now?",
            env.suffix,
            args.mode.as_str(),
            match args.mode {
                DrillMode::Graceful => "switch over (no data loss)",
                DrillMode::Ungraceful => "fail over (forced, data loss allowed), wait for the rebuild,",
            },
            env.region(RegionRole::Secondary).name
        );
        if !confirm(args.yes, &question, env.suffix.as_str())? {
            bail!("nothing started: the suffix was not typed");
        }
        let mut drill = Drill::new(&env, &synthesis, &args.target, args.watch_minutes).await?;
        drill.mode = args.mode;
        let started = SystemTime::now();
        let alarms_before = status::alarm_states(&synthesis, &args.target).await;
        let lag = drill.replication_lag_ms().await;
        let mut stages = Vec::new();
        let failover = drill.stage(Runbook::Failover, out).await?;
        let failover_passed = failover.passed();
        stages.push(failover);
        let mut rebuild = None;
        if failover_passed && args.mode == DrillMode::Ungraceful {
            // AWS rebuilds the old primary before it rejoins; failback is refused until then.
            rebuild = Some(
                drill
                    .wait_for_rejoin(Duration::from_secs(args.rebuild_minutes * 60), out)
                    .await?,
            );
        }
        let rejoined = rebuild.as_ref().is_none_or(|r| r.is_ok());
        if failover_passed && rejoined {
            stages.push(drill.stage(Runbook::Failback, out).await?);
        } else if failover_passed {
            writeln!(
                out,
                "the old primary did not rejoin within {} minutes: failback not started (run it with `cargo xtask failback` once status says global-database ok)",
                args.rebuild_minutes
            )?;
        } else {
            writeln!(
                out,
                "failover did not complete: failback not started; the report says the state left"
            )?;
        }
        let after = status::evaluate(&env, &synthesis, &args.target).await?;
        let alarms_after = status::alarm_states(&synthesis, &args.target).await;
        let measured = stages[0].restored_seconds;
        let mut reasons = Vec::new();
        for s in &stages {
            if !s.passed() {
                reasons.push(format!(
                    "{} {} at {}{}",
                    s.name,
                    s.status.to_lowercase(),
                    s.stopped_at().unwrap_or("its start"),
                    s.error
                        .as_ref()
                        .map(|(e, c)| format!(": {e}: {c}"))
                        .unwrap_or_default()
                ));
            }
        }
        if stages.len() < 2 {
            reasons.push("failback not run".into());
        }
        if let Some(Err(why)) = &rebuild {
            reasons.push(why.clone());
        }
        if let Some(m) = measured
            && m > computed.0 as f64
        {
            reasons.push(format!(
                "measured recovery {m:.0} s is over the computed budget of {} s",
                computed.0
            ));
        }
        if !after.ready() {
            reasons.push(format!(
                "status after the drill: {}",
                after
                    .failing()
                    .iter()
                    .map(|c| format!("{} ({})", c.name, c.detail))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        let report = DrillReport {
            suffix: env.suffix.to_string(),
            started,
            finished: SystemTime::now(),
            stages,
            computed,
            lag_ms: lag,
            alarms_before,
            alarms_after,
            before,
            after,
            reasons,
            mode: args.mode,
            rebuild_seconds: rebuild.and_then(|r| r.ok()),
            templates: [RegionRole::Primary, RegionRole::Secondary]
                .map(|role| {
                    let t = serde_json::to_string(&synthesis.template(role).to_json())
                        .unwrap_or_default();
                    (
                        synthesis.manifest.stacks[&role].name.clone(),
                        hex(&sha2::Sha256::digest(t.as_bytes())),
                    )
                })
                .to_vec(),
            commit: git_commit(),
        };
        let stamp = stamp(report.started);
        let dir = args.synth.out.join(env.suffix.as_str()).join("drills").join(&stamp);
        let written = report.write(&dir)?;
        writeln!(out, "report: {}", written.0.display())?;
        writeln!(out, "        {}", written.1.display())?;
        match drill.store(&stamp, &report).await {
            Ok(place) => writeln!(out, "        {place}")?,
            Err(e) => writeln!(out, "        not stored in the configuration bucket: {e:#}")?,
        }
        let result = report.result();
        writeln!(
            out,
            "drill {result}: measured recovery {} (computed budget {} s)",
            measured.map_or("not reached".into(), |m| format!("{m:.1} s")),
            computed.0
        )?;
        for r in &report.reasons {
            writeln!(out, "  {r}")?;
        }
        Ok(if result == "passed" {
            xtask::exit::SUCCESS
        } else {
            xtask::exit::FAILURE
        })
    })
}

/// What the drill calls.
struct Drill<'a> {
    env: &'a Environment,
    synthesis: &'a Synthesis,
    target: &'a Target,
    regions: (String, String),
    /// The secondary stack's outputs and the primary's.
    outputs: BTreeMap<RegionRole, BTreeMap<String, String>>,
    watch: Duration,
    mode: DrillMode,
}

impl<'a> Drill<'a> {
    async fn new(
        env: &'a Environment,
        synthesis: &'a Synthesis,
        target: &'a Target,
        watch_minutes: u64,
    ) -> Result<Drill<'a>> {
        let mut outputs = BTreeMap::new();
        for role in RegionRole::ALL {
            let entry = &synthesis.manifest.stacks[&role];
            let deployed = crate::stack::Stack::of(entry, target)
                .await
                .describe()
                .await?
                .with_context(|| format!("stack {} is not deployed", entry.name))?;
            outputs.insert(role, deployed.outputs);
        }
        Ok(Drill {
            env,
            synthesis,
            target,
            regions: (
                env.region(RegionRole::Primary).name.clone(),
                env.region(RegionRole::Secondary).name.clone(),
            ),
            outputs,
            watch: Duration::from_secs(watch_minutes * 60),
            mode: DrillMode::Graceful,
        })
    }

    fn output(&self, role: RegionRole, key: &str) -> Result<&str> {
        self.outputs[&role]
            .get(key)
            .map(String::as_str)
            .with_context(|| format!("the {role} stack has no output {key}"))
    }

    fn region(&self, role: RegionRole) -> &str {
        match role {
            RegionRole::Primary => &self.regions.0,
            RegionRole::Secondary => &self.regions.1,
        }
    }

    /// The latest Aurora replication lag into the recovery region, in ms.
    async fn replication_lag_ms(&self) -> Option<f64> {
        let region = self.region(RegionRole::Secondary);
        let cw = aws::cloudwatch(region, self.target).await;
        let cluster = self
            .env
            .namer(RegionRole::Secondary)
            .name(&cfn::naming::DB_CLUSTER, None);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
        let r = cw
            .get_metric_statistics()
            .namespace("AWS/RDS")
            .metric_name("AuroraGlobalDBReplicationLag")
            .dimensions(
                aws_sdk_cloudwatch::types::Dimension::builder()
                    .name("DBClusterIdentifier")
                    .value(cluster)
                    .build(),
            )
            .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                now - 600,
            ))
            .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                now + 60,
            ))
            .period(60)
            .statistics(aws_sdk_cloudwatch::types::Statistic::Maximum)
            .send()
            .await
            .ok()?;
        r.datapoints()
            .iter()
            .filter_map(|d| Some((d.timestamp()?.as_secs_f64(), d.maximum()?)))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, v)| v)
    }

    /// Starts `runbook` and measures it until it ends and service is restored (or the watch
    /// runs out).
    /// Waits until every member of the global database is synchronized again (the old primary
    /// rebuilt and rejoined as a secondary), printing progress every minute; the seconds it
    /// took, or why it gave up after `limit`.
    async fn wait_for_rejoin(
        &self,
        limit: Duration,
        out: &mut dyn Write,
    ) -> Result<std::result::Result<f64, String>> {
        let id = self.output(RegionRole::Primary, "AuroraGlobalClusterIdentifier")?;
        let rds = aws::rds(self.region(RegionRole::Secondary), self.target).await;
        let clock = Instant::now();
        let mut said = Duration::ZERO;
        writeln!(
            out,
            "waiting for AWS to rebuild the old primary and rejoin it (minutes to hours; at most {} min)",
            limit.as_secs() / 60
        )?;
        loop {
            let state = status::global_writer(&rds, id).await;
            let waiting = match &state {
                Ok(Some((status, _, unsynchronized))) => {
                    if unsynchronized.is_empty() && status == "available" {
                        let took = clock.elapsed().as_secs_f64();
                        writeln!(out, "rejoined after {took:.0} s: every member synchronized")?;
                        return Ok(Ok(took));
                    }
                    format!(
                        "global database {status}, not synchronized: {}",
                        unsynchronized.join(", ")
                    )
                }
                Ok(None) => format!("global database {id} not found"),
                Err(e) => e.clone(),
            };
            if clock.elapsed() >= limit {
                return Ok(Err(format!(
                    "the old primary did not rejoin within {} min: {waiting}",
                    limit.as_secs() / 60
                )));
            }
            if clock.elapsed() >= said {
                writeln!(out, "  {:>5.0} s  {waiting}", clock.elapsed().as_secs_f64())?;
                said += Duration::from_secs(60);
            }
            tokio::time::sleep(self.target.poll_interval()).await;
        }
    }

    async fn stage(&self, runbook: Runbook, out: &mut dyn Write) -> Result<Stage> {
        let recovery = self.region(RegionRole::Secondary).to_string();
        let target_role = match runbook {
            Runbook::Failover => RegionRole::Secondary,
            Runbook::Failback => RegionRole::Primary,
        };
        let target_region = self.region(target_role).to_string();
        let sfn = aws::sfn(&recovery, self.target).await;
        let arn = self.output(RegionRole::Secondary, runbook.output())?;
        let input = match (runbook, self.mode) {
            (Runbook::Failover, DrillMode::Graceful) => {
                json!({"force": true, "drill": true, "graceful": true})
            }
            (Runbook::Failover, DrillMode::Ungraceful) => json!({"force": true, "drill": true}),
            (Runbook::Failback, _) => json!({"drill": true}),
        };
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
        let started = sfn
            .start_execution()
            .state_machine_arn(arn)
            .name(format!("drill-{}-{stamp}", runbook.name()))
            .input(input.to_string())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot start {arn}: {}", aws::describe_error(&e)))?;
        let clock = Instant::now();
        let execution = started.execution_arn().to_string();
        writeln!(out, "{} started: {execution}", runbook.name())?;
        let mut stage = Stage {
            name: runbook.name().into(),
            target_region: target_region.clone(),
            execution_arn: execution.clone(),
            status: "RUNNING".into(),
            conditions: CONDITIONS.iter().map(|c| (*c, None)).collect(),
            ..Stage::default()
        };
        let start_date = started.start_date().as_secs_f64();
        let poll = self.target.poll_interval();
        loop {
            let elapsed = clock.elapsed().as_secs_f64();
            let held = self.restored_conditions(target_role).await;
            for (name, holds) in &held {
                let first = stage.conditions.entry(name).or_insert(None);
                if *holds && first.is_none() {
                    *first = Some(elapsed);
                    writeln!(out, "  {elapsed:>7.1} s  ✓ {name}")?;
                }
            }
            if stage.restored_seconds.is_none() && held.iter().all(|(_, h)| *h) {
                stage.restored_seconds = Some(elapsed);
                writeln!(
                    out,
                    "  {elapsed:>7.1} s  service restored in {target_region}"
                )?;
            }
            // DescribeExecution is eventually consistent (ExecutionDoesNotExist just after
            // StartExecution) and may be throttled: a failed read is tried on the next tick, and
            // only the watch limit ends the stage, so the drill still writes its report.
            let d = match sfn
                .describe_execution()
                .execution_arn(&execution)
                .send()
                .await
            {
                Ok(d) => d,
                Err(e) => {
                    writeln!(
                        out,
                        "  {elapsed:>7.1} s  cannot describe the execution yet ({}); reading again",
                        aws::describe_error(&e)
                    )?;
                    if clock.elapsed() > self.watch {
                        break;
                    }
                    tokio::time::sleep(poll).await;
                    continue;
                }
            };
            if d.status() != &ExecutionStatus::Running {
                if stage.completed_seconds.is_none() {
                    // On the same clock as the conditions: this machine's, from the start call
                    // (the timeline is on Step Functions' clock, from the execution's start).
                    stage.completed_seconds = Some(clock.elapsed().as_secs_f64());
                    stage.status = d.status().as_str().to_string();
                    if d.status() != &ExecutionStatus::Succeeded {
                        stage.error = Some((
                            d.error().unwrap_or("error").to_string(),
                            d.cause().unwrap_or("no cause given").to_string(),
                        ));
                    }
                    writeln!(
                        out,
                        "  {:>7.1} s  {} {}",
                        stage.completed_seconds.unwrap_or(elapsed),
                        runbook.name(),
                        stage.status
                    )?;
                }
                if stage.restored_seconds.is_some() || stage.status != "SUCCEEDED" {
                    break;
                }
            }
            if clock.elapsed() > self.watch {
                writeln!(
                    out,
                    "  gave up after {} min: the execution goes on",
                    self.watch.as_secs() / 60
                )?;
                break;
            }
            tokio::time::sleep(poll).await;
        }
        // The timeline is evidence, not the verdict: a history that cannot be read leaves it
        // empty and says why, and the report is still written.
        match timeline(&sfn, &execution, start_date).await {
            Ok(t) => stage.timeline = t,
            Err(e) => writeln!(out, "  the execution's history could not be read: {e:#}")?,
        }
        Ok(stage)
    }

    /// Whether each restored condition holds for the region serving `role`.
    async fn restored_conditions(&self, role: RegionRole) -> Vec<(&'static str, bool)> {
        let region = self.region(role).to_string();
        let full = self.env.config.service.primary_desired_count;
        let writer = self.writer_region().await;
        let switch = self
            .env
            .namer(RegionRole::Secondary)
            .name(&cfn::naming::SWITCH_ALARM, None);
        let recovery_alarms =
            status::stack_alarms(self.synthesis, RegionRole::Secondary, self.target)
                .await
                .unwrap_or_default();
        let switch_state = recovery_alarms.get(&switch).map(|a| a.0.clone());
        let expected_switch = if role == RegionRole::Secondary {
            "ALARM"
        } else {
            "OK"
        };
        let running = match (
            self.output(role, "EcsClusterName"),
            self.output(role, "EcsServiceName"),
        ) {
            (Ok(cluster), Ok(service)) => aws::ecs(&region, self.target)
                .await
                .describe_services()
                .cluster(cluster)
                .services(service)
                .send()
                .await
                .ok()
                .and_then(|d| d.services().first().map(|s| s.running_count()))
                .unwrap_or(0),
            _ => 0,
        };
        let here = if role == RegionRole::Secondary {
            recovery_alarms
        } else {
            status::stack_alarms(self.synthesis, role, self.target)
                .await
                .unwrap_or_default()
        };
        let canary_states: Vec<&str> = here
            .values()
            .filter(|(_, namespace, _)| namespace == "CloudWatchSynthetics")
            .map(|(state, _, _)| state.as_str())
            .collect();
        let canaries = !canary_states.is_empty() && canary_states.iter().all(|s| *s == "OK");
        vec![
            ("writer", writer.as_deref() == Some(region.as_str())),
            (
                "traffic-switch",
                switch_state.as_deref() == Some(expected_switch),
            ),
            ("full-capacity", u32::try_from(running).unwrap_or(0) >= full),
            ("canaries-ok", canaries),
        ]
    }

    /// The region of the global database's writer.
    async fn writer_region(&self) -> Option<String> {
        let id = self
            .output(RegionRole::Primary, "AuroraGlobalClusterIdentifier")
            .ok()?;
        let rds = aws::rds(self.region(RegionRole::Secondary), self.target).await;
        let (state, writer, _) = status::global_writer(&rds, id).await.ok()??;
        (state == "available")
            .then(|| {
                writer
                    .as_deref()
                    .and_then(status::region_of_arn)
                    .map(String::from)
            })
            .flatten()
    }

    /// Stores the report in the primary's configuration bucket; where.
    async fn store(&self, stamp: &str, report: &DrillReport) -> Result<String> {
        let bucket = self.output(RegionRole::Primary, "ConfigBucketName")?;
        let s3 = aws::s3(self.region(RegionRole::Primary), self.target).await;
        for (name, body, kind) in [
            (
                "drill.json",
                serde_json::to_string_pretty(&report.to_json())?,
                "application/json",
            ),
            ("drill.md", report.markdown(), "text/markdown"),
        ] {
            let key = format!("drills/{stamp}/{name}");
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .content_type(kind)
                .body(body.into_bytes().into())
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot write s3://{bucket}/{key}: {}",
                        aws::describe_error(&e)
                    )
                })?;
        }
        Ok(format!(
            "s3://{bucket}/drills/{stamp}/ (versioned, replicated)"
        ))
    }
}

/// Every state entered, with its time from `start` (epoch seconds).
async fn timeline(
    sfn: &aws_sdk_sfn::Client,
    execution: &str,
    start: f64,
) -> Result<Vec<(f64, String)>> {
    Ok(crate::runbook::history(sfn, execution)
        .await?
        .iter()
        .filter_map(|e| {
            crate::runbook::entered(e)
                .map(|name| (e.timestamp().as_secs_f64() - start, name.to_string()))
        })
        .collect())
}

/// Everything the report holds.
struct DrillReport {
    suffix: String,
    started: SystemTime,
    finished: SystemTime,
    stages: Vec<Stage>,
    /// (restored, runbook complete) from `rto`.
    computed: (u64, u64),
    lag_ms: Option<f64>,
    alarms_before: BTreeMap<String, BTreeMap<String, String>>,
    alarms_after: BTreeMap<String, BTreeMap<String, String>>,
    before: Report,
    after: Report,
    reasons: Vec<String>,
    /// How the primary was left.
    mode: DrillMode,
    /// Ungraceful: how long the old primary took to rejoin.
    rebuild_seconds: Option<f64>,
    /// (stack, SHA-256 of the template synth makes).
    templates: Vec<(String, String)>,
    commit: Option<String>,
}

impl DrillReport {
    fn result(&self) -> &'static str {
        if self.reasons.is_empty() {
            "passed"
        } else {
            "failed"
        }
    }

    /// What a drill of this mode proves.
    fn proves(&self) -> &'static str {
        match self.mode {
            DrillMode::Graceful => {
                "the runbooks move traffic, capacity and the writer to us-east-2 and back, with no data loss (a switchover): the planned path and the failback"
            }
            DrillMode::Ungraceful => {
                "the outage path: a failover that allows data loss, the rebuild of the old primary before it can serve again, and the failback onto it"
            }
        }
    }

    fn measured(&self) -> Option<f64> {
        self.stages.first().and_then(|s| s.restored_seconds)
    }

    fn to_json(&self) -> Value {
        json!({
            "suffix": self.suffix,
            "result": self.result(),
            "mode": self.mode.as_str(),
            "proves": self.proves(),
            "rebuild_seconds": self.rebuild_seconds.map(round1),
            "measured_rto_seconds": self.measured().map(round1),
            "computed_rto_seconds": self.computed.0,
            "started_at": iso(self.started),
            "finished_at": iso(self.finished),
            "reasons": self.reasons,
            "failed_stage": self.stages.iter().find(|s| !s.passed()).map(|s| s.name.clone()),
            "stages": self.stages.iter().map(|s| s.to_json((s.name == "failover").then_some(self.computed))).collect::<Vec<_>>(),
            "replication_lag_ms_at_start": self.lag_ms,
            "alarms_before": self.alarms_before,
            "alarms_after": self.alarms_after,
            "status_before": self.before.to_json(),
            "status_after": self.after.to_json(),
            "templates": self.templates.iter().map(|(stack, sha)| json!({"stack": stack, "sha256": sha})).collect::<Vec<_>>(),
            "git_commit": self.commit,
        })
    }

    fn markdown(&self) -> String {
        let mut m = String::new();
        let seconds = |x: Option<f64>| x.map_or("—".to_string(), |x| format!("{x:.1} s"));
        m += &format!("# Drill of `{}`: {}\n\n", self.suffix, self.result());
        m += &format!(
            "Mode: **{}**. It proves {}.{}\n\n",
            self.mode.as_str(),
            self.proves(),
            self.rebuild_seconds
                .map(|r| format!(" The old primary rejoined after {r:.0} s."))
                .unwrap_or_default()
        );
        m += &format!(
            "Started {}, finished {}. Git commit `{}`.\n\n",
            iso(self.started),
            iso(self.finished),
            self.commit.as_deref().unwrap_or("unknown")
        );
        m += &format!(
            "**Measured recovery time: {}** (computed worst case from the templates: {} s; limit 900 s).\n\n",
            seconds(self.measured()),
            self.computed.0
        );
        if !self.reasons.is_empty() {
            m += "## Why it failed\n\n";
            for r in &self.reasons {
                m += &format!("- {r}\n");
            }
            m += "\n";
        }
        m += "## Stages\n\n| stage | status | restored | complete | computed restored | stopped at |\n|---|---|---|---|---|---|\n";
        for s in &self.stages {
            m += &format!(
                "| {} → {} | {} | {} | {} | {} | {} |\n",
                s.name,
                s.target_region,
                s.status,
                seconds(s.restored_seconds),
                seconds(s.completed_seconds),
                if s.name == "failover" {
                    format!("{} s", self.computed.0)
                } else {
                    "—".into()
                },
                s.stopped_at().unwrap_or("—")
            );
        }
        for s in &self.stages {
            m += &format!("\n### {} conditions\n\n", s.name);
            for (c, t) in &s.conditions {
                m += &format!("- {c}: {}\n", seconds(*t));
            }
            m += &format!("\n### {} timeline\n\n| s | state |\n|---|---|\n", s.name);
            for (t, state) in &s.timeline {
                m += &format!("| {t:.1} | {state} |\n");
            }
            if let Some((e, c)) = &s.error {
                m += &format!("\nError `{e}`: {c}\n");
            }
        }
        m += &format!(
            "\n## At the start\n\nAurora replication lag: {}.\n\n",
            self.lag_ms
                .map_or("no datapoint in the last 10 min".into(), |l| format!(
                    "{l:.0} ms"
                ))
        );
        for (title, alarms) in [
            ("Alarms before", &self.alarms_before),
            ("Alarms after", &self.alarms_after),
        ] {
            m += &format!("## {title}\n\n| region | alarm | state |\n|---|---|---|\n");
            for (region, states) in alarms {
                for (name, state) in states {
                    m += &format!("| {region} | {name} | {state} |\n");
                }
            }
            m += "\n";
        }
        m += &format!("## Status after\n\nVerdict: {}.\n\n", self.after.verdict());
        for c in &self.after.checks {
            m += &format!("- `{}` {}: {}\n", c.name, c.status.as_str(), c.detail);
        }
        m += "\n## Templates\n\n";
        for (stack, sha) in &self.templates {
            m += &format!("- {stack}: sha256 `{sha}`\n");
        }
        m
    }

    /// Writes drill.json and drill.md into `dir`; their paths.
    fn write(&self, dir: &std::path::Path) -> Result<(PathBuf, PathBuf)> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let json_path = dir.join("drill.json");
        let md_path = dir.join("drill.md");
        std::fs::write(
            &json_path,
            serde_json::to_string_pretty(&self.to_json())? + "\n",
        )
        .with_context(|| format!("cannot write {}", json_path.display()))?;
        std::fs::write(&md_path, self.markdown())
            .with_context(|| format!("cannot write {}", md_path.display()))?;
        Ok((json_path, md_path))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn iso(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    aws_sdk_s3::primitives::DateTime::from_secs(secs as i64)
        .fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime)
        .unwrap_or_default()
}

/// `20261203T234500Z`: the drill's folder.
fn stamp(t: SystemTime) -> String {
    iso(t).replace(['-', ':'], "")
}

/// The commit the drill ran from, when this is a git checkout.
fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(xtask::workspace_root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_is_a_compact_utc_stamp() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_341_500);
        assert_eq!(iso(t), "2026-12-03T23:45:00Z");
        assert_eq!(stamp(t), "20261203T234500Z");
    }

    #[test]
    fn a_stage_passes_only_when_it_succeeded_and_service_was_restored() {
        let mut s = Stage {
            status: "SUCCEEDED".into(),
            restored_seconds: Some(40.0),
            timeline: vec![(0.0, "AcquireLock".into()), (40.0, "NotifyDone".into())],
            ..Stage::default()
        };
        assert!(s.passed());
        assert_eq!(s.stopped_at(), Some("NotifyDone"));
        s.restored_seconds = None;
        assert!(!s.passed());
        s.restored_seconds = Some(1.0);
        s.status = "FAILED".into();
        assert!(!s.passed());
    }
}
