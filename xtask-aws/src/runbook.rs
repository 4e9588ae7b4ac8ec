//! `cargo xtask failover` and `cargo xtask failback`: start a runbook state machine in the
//! recovery region through the Step Functions API and stream its state transitions until it
//! ends. `--dry-run` runs the same machine with `{"dryRun": true}`: it reads the preconditions
//! (alarms, the global database's writer, the lock, the service) from the recovery region with
//! the runbook's own permissions, prints them with a verdict, and changes nothing.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use environment::RegionRole;
use serde_json::{Value, json};

use crate::aws;
use crate::phases::confirm;
use crate::stack::Stack;
pub use runbook::contract::Runbook;
use runbook::contract::{PollState, state};
use runbook::preflight::Preflight;
pub use xtask::online::RunbookArgs as Args;

/// Runs `failover` or `failback`; the exit code is 0 when the execution succeeded, 1 when it
/// failed, 3 when a failover found the outage unconfirmed and changed nothing.
pub fn run(runbook: Runbook, args: &Args, out: &mut dyn Write) -> Result<u8> {
    if args.force && runbook == Runbook::Failback {
        bail!("--force is for failover only: failback always requires the primary to be healthy");
    }
    let (env, synthesis) = xtask::synth::synthesize(&args.synth.env_dir, &args.synth.suffix)?;
    let entry = synthesis
        .manifest
        .stacks
        .get(&RegionRole::Secondary)
        .context("the manifest has no secondary stack")?
        .clone();
    if !args.dry_run {
        let question = match runbook {
            Runbook::Failover => format!(
                "fail {} over to {}: promote its database there with data loss allowed, and move traffic?",
                env.suffix, entry.region
            ),
            Runbook::Failback => format!(
                "fail {} back: switch the database over to the primary region and move traffic back?",
                env.suffix
            ),
        };
        if !confirm(args.yes, &question, env.suffix.as_str())? {
            bail!("nothing started: the suffix was not typed");
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let stack = Stack::of(&entry, &args.target).await;
        let deployed = stack.describe().await?.with_context(|| {
            format!(
                "stack {} in {} is not deployed: run `cargo xtask deploy --suffix {}` first",
                entry.name, entry.region, env.suffix
            )
        })?;
        let arn = deployed.outputs.get(runbook.output()).with_context(|| {
            format!(
                "stack {} in {} has no output {}: it was deployed without the runbook feature",
                entry.name,
                entry.region,
                runbook.output()
            )
        })?;
        let sfn = aws_sdk_sfn::Client::new(&aws::sdk_config(&entry.region, &args.target).await);
        let execution = Execution {
            sfn,
            regions: (
                env.region(RegionRole::Primary).name.clone(),
                env.region(RegionRole::Secondary).name.clone(),
            ),
            poll: args.target.poll_interval(),
            watch: Duration::from_secs(args.watch_minutes * 60),
        };
        execution.run(runbook, arn, args, out).await
    })
}

struct Execution {
    sfn: aws_sdk_sfn::Client,
    /// The primary and recovery regions.
    regions: (String, String),
    poll: Duration,
    watch: Duration,
}

/// What the stream saw.
#[derive(Debug, Default)]
struct Seen {
    /// Every state entered, in order.
    path: Vec<String>,
    /// Events already printed.
    events: usize,
}

impl Execution {
    fn regions(&self) -> (&str, &str) {
        (&self.regions.0, &self.regions.1)
    }

    async fn run(
        &self,
        runbook: Runbook,
        arn: &str,
        args: &Args,
        out: &mut dyn Write,
    ) -> Result<u8> {
        let mut input = json!({});
        if args.dry_run {
            input["dryRun"] = json!(true);
        }
        if args.force {
            input["force"] = json!(true);
        }
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
        let mode = if args.dry_run {
            "dry-run"
        } else {
            runbook.name()
        };
        let started = self
            .sfn
            .start_execution()
            .state_machine_arn(arn)
            .name(format!("xtask-{mode}-{stamp}"))
            .input(input.to_string())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot start {arn}: {}", aws::describe_error(&e)))?;
        let execution_arn = started.execution_arn().to_string();
        writeln!(out, "{} started: {execution_arn}", runbook.name())?;
        writeln!(out, "input: {input}")?;
        let clock = Instant::now();
        let mut seen = Seen::default();
        let description = loop {
            self.stream(&execution_arn, clock, &mut seen, out).await?;
            let d = self
                .sfn
                .describe_execution()
                .execution_arn(&execution_arn)
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot describe {execution_arn}: {}",
                        aws::describe_error(&e)
                    )
                })?;
            if d.status() != &ExecutionStatus::Running {
                // Events written just before the end.
                self.stream(&execution_arn, clock, &mut seen, out).await?;
                break d;
            }
            if clock.elapsed() > self.watch {
                writeln!(
                    out,
                    "still running after {} min; it goes on: follow it in the Step Functions console or with `aws stepfunctions describe-execution --execution-arn {execution_arn}`",
                    self.watch.as_secs() / 60
                )?;
                return Ok(xtask::exit::FAILURE);
            }
            tokio::time::sleep(self.poll).await;
        };
        let status = description.status().as_str().to_string();
        writeln!(
            out,
            "{} {status} after {:.1} s",
            runbook.name(),
            clock.elapsed().as_secs_f64()
        )?;
        if description.status() != &ExecutionStatus::Succeeded {
            writeln!(
                out,
                "  {}: {}",
                description.error().unwrap_or("error"),
                description.cause().unwrap_or("no cause given")
            )?;
            writeln!(out, "  path: {}", seen.path.join(" → "))?;
            return Ok(xtask::exit::FAILURE);
        }
        let output: Value = description
            .output()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or(Value::Null);
        if args.dry_run {
            report(runbook, &output, args.force, self.regions(), out)?;
        } else if seen.path.last().map(String::as_str) == Some(state::NO_OUTAGE) {
            writeln!(
                out,
                "the two outage signals did not both say ALARM: nothing changed (--force fails over anyway)"
            )?;
            return Ok(xtask::exit::NOT_CONFIRMED);
        } else {
            writeln!(out, "{} complete", runbook.name())?;
        }
        Ok(xtask::exit::SUCCESS)
    }

    /// Prints the events after those already seen.
    async fn stream(
        &self,
        execution_arn: &str,
        clock: Instant,
        seen: &mut Seen,
        out: &mut dyn Write,
    ) -> Result<()> {
        let events = history(&self.sfn, execution_arn).await?;
        let elapsed = clock.elapsed().as_secs_f64();
        for event in events.iter().skip(seen.events) {
            if let Some(line) = describe_event(event, &mut seen.path) {
                writeln!(out, "  {elapsed:>7.1} s  {line}")?;
            }
        }
        seen.events = events.len();
        Ok(())
    }
}

/// Every event of an execution's history, in order.
pub(crate) async fn history(
    sfn: &aws_sdk_sfn::Client,
    execution_arn: &str,
) -> Result<Vec<HistoryEvent>> {
    let mut events: Vec<HistoryEvent> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(execution_arn)
            .set_next_token(token.clone())
            .max_results(1000)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot read the history of {execution_arn}: {}",
                    aws::describe_error(&e)
                )
            })?;
        events.extend(page.events().iter().cloned());
        token = page.next_token().map(String::from);
        if token.is_none() {
            return Ok(events);
        }
    }
}

/// The state an event enters, when it is a state-entered event.
pub(crate) fn entered(event: &HistoryEvent) -> Option<&str> {
    match event.r#type() {
        HistoryEventType::TaskStateEntered
        | HistoryEventType::ChoiceStateEntered
        | HistoryEventType::PassStateEntered
        | HistoryEventType::WaitStateEntered
        | HistoryEventType::ParallelStateEntered
        | HistoryEventType::SucceedStateEntered
        | HistoryEventType::FailStateEntered => Some(event.state_entered_event_details()?.name()),
        _ => None,
    }
}

/// One line for an event worth showing; records every state entered in `path`.
fn describe_event(event: &HistoryEvent, path: &mut Vec<String>) -> Option<String> {
    if let Some(name) = entered(event) {
        let name = name.to_string();
        path.push(name.clone());
        if PollState::is_bookkeeping(&name) {
            return None;
        }
        let attempt = if PollState::parse(&name).is_some_and(|(_, p)| p == PollState::Check) {
            let n = path.iter().filter(|p| **p == name).count();
            format!(" (check {n})")
        } else {
            String::new()
        };
        return Some(format!("→ {name}{attempt}"));
    }
    match event.r#type() {
        HistoryEventType::TaskFailed => {
            let d = event.task_failed_event_details()?;
            Some(format!(
                "  ! {}: {}",
                d.error().unwrap_or("error"),
                first_line(d.cause().unwrap_or(""))
            ))
        }
        HistoryEventType::ExecutionFailed => {
            let d = event.execution_failed_event_details()?;
            Some(format!(
                "✗ {}: {}",
                d.error().unwrap_or("error"),
                first_line(d.cause().unwrap_or(""))
            ))
        }
        HistoryEventType::ExecutionSucceeded => Some("✓ succeeded".to_string()),
        _ => None,
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Prints the dry run's report and what the runbook would do with it.
fn report(
    runbook: Runbook,
    output: &Value,
    force: bool,
    regions: (&str, &str),
    out: &mut dyn Write,
) -> Result<()> {
    let p = Preflight::from_output(output);
    writeln!(
        out,
        "preconditions (read in the recovery region; nothing changed):"
    )?;
    for (name, state) in &p.alarms {
        writeln!(out, "  alarm {name:<34} {state}")?;
    }
    writeln!(
        out,
        "  global database: {}, writer {}{}",
        p.status,
        p.writer.as_deref().unwrap_or("none"),
        if p.unsynchronized.is_empty() {
            String::new()
        } else {
            format!(", not synchronized: {}", p.unsynchronized.join(", "))
        }
    )?;
    match &p.lock {
        Some((owner, operation)) => writeln!(out, "  lock: held by {owner} ({operation})")?,
        None => writeln!(out, "  lock: free")?,
    }
    writeln!(
        out,
        "  service: {} running of {} desired",
        p.service.0, p.service.1
    )?;
    writeln!(
        out,
        "verdict: {} {}",
        runbook.name(),
        p.verdict(runbook, force, regions)
    )?;
    Ok(())
}
