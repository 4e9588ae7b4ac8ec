//! The worst-case recovery-time budget and the recovery-point bounds, read from the
//! synthesized templates (alarm periods, canary schedule, health checks, the runbook's bounded
//! waits, replication settings), not from constants that could drift from them. `cargo xtask
//! rto` prints it.

use runbook::contract::{PollState, Runbook, poll, state};
use serde_json::Value;

/// A template lacks what the budget reads.
#[derive(Debug, thiserror::Error)]
#[error("recovery budget: {0}")]
pub struct Error(String);

type Result<T> = std::result::Result<T, Error>;

/// Turns an absent value into an [`Error`] that says what is missing.
trait Needed<T> {
    fn context(self, what: &str) -> Result<T>;
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Needed<T> for Option<T> {
    fn context(self, what: &str) -> Result<T> {
        self.ok_or_else(|| Error(what.to_string()))
    }
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.ok_or_else(|| Error(what()))
    }
}

/// AWS-side latencies no template states: EventBridge delivering the alarm event and starting
/// the execution, and one API call of a task state.
const TRIGGER_SECONDS: u64 = 10;
const TASK_SECONDS: u64 = 2;
/// TTL of Route 53 alias answers to a load balancer (AWS sets 60 s).
const ALIAS_TTL_SECONDS: u64 = 60;
/// The RTO we promise.
pub const RTO_LIMIT_SECONDS: u64 = 15 * 60;
/// The RTO we aim for.
pub const RTO_GOAL_SECONDS: u64 = 5 * 60;
/// How long a promotion typically takes, as AWS publishes it: a secondary region "can be
/// promoted to full read/write capabilities in less than 1 minute" (Amazon Aurora Global
/// Database product page); the user guide says a failover completes "typically … within a few
/// minutes", which is what the runbook's bound (not this figure) covers.
pub const TYPICAL_PROMOTION_SECONDS: u64 = 60;

/// One line of the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What takes the time.
    pub step: String,
    /// Worst case, in seconds.
    pub seconds: u64,
    /// Where the figure comes from.
    pub source: String,
}

/// The budget: the critical path to restored service, and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// Steps until the database writes in us-east-2 and traffic goes there.
    pub critical: Vec<Line>,
    /// Steps after service is restored (full capacity, notification).
    pub after: Vec<Line>,
    /// Recovery point bound per store.
    pub rpo: Vec<(String, String)>,
    /// Restore from backup (data corruption, not a region loss): what bounds it, per line.
    pub restore: Vec<(String, String)>,
    /// The most back-off one task's Retry can add under throttling (not in the totals).
    pub retry_seconds: u64,
}

impl Budget {
    /// Seconds until service is restored.
    pub fn restored(&self) -> u64 {
        self.critical.iter().map(|l| l.seconds).sum()
    }

    /// Service restored with everything as in the worst case but the promotion as AWS says it
    /// typically is ([`TYPICAL_PROMOTION_SECONDS`]).
    pub fn typical(&self) -> u64 {
        self.critical
            .iter()
            .map(|l| {
                if l.step.starts_with("promotion") {
                    TYPICAL_PROMOTION_SECONDS + TASK_SECONDS
                } else {
                    l.seconds
                }
            })
            .sum()
    }
}

fn resources<'a>(t: &'a Value, ty: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"]
        .as_object()
        .map(|m| m.iter().filter(|(_, r)| r["Type"] == ty).collect())
        .unwrap_or_default()
}

/// The restore-from-backup path, read from the primary's backup plans and restore tests: how
/// far back data can be restored, and where the time a restore takes is measured.
fn restore_path(primary: &Value) -> Vec<(String, String)> {
    let rules: Vec<&Value> = resources(primary, "AWS::Backup::BackupPlan")
        .into_iter()
        .flat_map(|(_, p)| {
            p["Properties"]["BackupPlan"]["BackupPlanRule"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .collect();
    let kept_days = |rule: &dyn Fn(&Value) -> bool| {
        rules
            .iter()
            .find(|r| rule(r))
            .and_then(|r| r["Lifecycle"]["DeleteAfterDays"].as_u64())
    };
    let continuous = kept_days(&|r| r["EnableContinuousBackup"] == true);
    let daily = kept_days(&|r| r["RuleName"] == "daily");
    let tests = resources(primary, "AWS::Backup::RestoreTestingPlan")
        .into_iter()
        .next()
        .map(|(_, p)| {
            (
                p["Properties"]["RestoreTestingPlanName"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string(),
                p["Properties"]["ScheduleExpression"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string(),
            )
        });
    let tested: Vec<String> = resources(primary, "AWS::Backup::RestoreTestingSelection")
        .into_iter()
        .filter_map(|(_, s)| s["Properties"]["ProtectedResourceType"].as_str())
        .map(String::from)
        .collect();
    vec![
        (
            "recovery point".into(),
            match continuous {
                Some(d) => format!(
                    "Aurora to any second of the last {d} days (continuous backup; the latest restorable time trails by about 5 min); the sessions table to any second of the last 35 days (point-in-time recovery)"
                ),
                None => "no continuous backup of Aurora".into(),
            },
        ),
        (
            "daily snapshots".into(),
            daily.map_or("none".into(), |d| {
                format!("kept {d} days, copied to the other region")
            }),
        ),
        (
            "restore time".into(),
            match tests {
                Some((name, schedule)) => format!(
                    "not bounded by the templates (it grows with the data): measured by restore test {name} ({}) on {schedule}; read it with `aws backup list-restore-jobs --by-restore-testing-plan-arn …`",
                    tested.join(", ")
                ),
                None => "not bounded and never measured: no restore testing plan".into(),
            },
        ),
    ]
}

/// The threshold of the first alarm on `namespace`/`metric` in either template.
fn alarm_threshold(
    primary: &Value,
    secondary: &Value,
    namespace: &str,
    metric: &str,
) -> Option<f64> {
    [primary, secondary].into_iter().find_map(|t| {
        resources(t, "AWS::CloudWatch::Alarm")
            .into_iter()
            .map(|(_, a)| &a["Properties"])
            .find(|p| p["Namespace"] == namespace && p["MetricName"] == metric)
            .and_then(|p| p["Threshold"].as_f64())
    })
}

fn alarm_seconds(alarm: &Value) -> u64 {
    let p = &alarm["Properties"];
    p["Period"].as_u64().unwrap_or(60) * p["EvaluationPeriods"].as_u64().unwrap_or(1)
}

/// A bounded polling loop named `name`: (seconds between checks, most checks).
fn poll_bounds(definition: &Value, name: &str) -> Option<(u64, u64)> {
    let states = &definition["States"];
    let wait = states[PollState::Wait.of(name)]["Seconds"].as_u64()?;
    let limit = states[PollState::Decide.of(name)]["Choices"]
        .as_array()?
        .iter()
        .find_map(|c| c["NumericLessThan"].as_u64())?;
    Some((wait, limit))
}

/// The cost of a stretch of a definition: seconds, API calls, polling loops passed.
#[derive(Clone, Debug, Default)]
struct Cost {
    seconds: u64,
    calls: u64,
    polls: Vec<String>,
}

impl Cost {
    fn source(&self) -> String {
        let mut s = format!(
            "{} API call{}",
            self.calls,
            if self.calls == 1 { "" } else { "s" }
        );
        for p in &self.polls {
            s.push_str(&format!(" + {p}"));
        }
        s
    }
}

/// The worst case from state `from` to state `until` (exclusive; `None`: to a successful end),
/// over every way through the definition that gets there without failing: a task or a parallel
/// block (its branches run together) costs one API call, a bounded polling loop its limit ×
/// (wait + check), a choice the costliest of its ways. Catch paths are not followed: they end
/// in Fail states.
fn segment(definition: &Value, from: &str, until: Option<&str>) -> Result<(u64, String)> {
    fn walk(
        definition: &Value,
        at: &str,
        until: Option<&str>,
        seen: &mut Vec<String>,
    ) -> Option<Cost> {
        if Some(at) == until {
            return Some(Cost::default());
        }
        if seen.iter().any(|s| s == at) {
            return None; // a cycle that is not a bounded loop
        }
        let states = &definition["States"];
        let state = &states[at];
        let next = |name: &str, seen: &mut Vec<String>| walk(definition, name, until, seen);
        seen.push(at.to_string());
        let result = match state["Type"].as_str() {
            Some("Task") | Some("Parallel") => state["Next"].as_str().and_then(|n| {
                let mut c = next(n, seen)?;
                c.seconds += TASK_SECONDS;
                c.calls += 1;
                Some(c)
            }),
            Some("Pass") => {
                let looped = PollState::parse(at)
                    .filter(|(_, p)| *p == PollState::Start)
                    .and_then(|(l, _)| poll_bounds(definition, l).map(|b| (l.to_string(), b)));
                match looped {
                    Some((name, (wait, limit))) => {
                        // Done at the last attempt, or timed out into a way that still
                        // succeeds (a slow promotion alerts and keeps waiting): the costlier.
                        let decide = &states[PollState::Decide.of(&name)];
                        let done = decide["Choices"][0]["Next"].as_str();
                        let timeout = decide["Default"].as_str();
                        [done, timeout]
                            .into_iter()
                            .flatten()
                            .filter_map(|d| {
                                let mut c = next(d, seen)?;
                                c.seconds += limit * (wait + TASK_SECONDS);
                                c.polls.insert(0, format!("{name} {limit} × {wait} s"));
                                Some(c)
                            })
                            .max_by_key(|c| c.seconds)
                    }
                    None => state["Next"].as_str().and_then(|n| next(n, seen)),
                }
            }
            Some("Choice") => {
                let mut ways: Vec<&str> = state["Choices"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["Next"].as_str())
                    .collect();
                ways.extend(state["Default"].as_str());
                ways.into_iter()
                    .filter_map(|w| next(w, seen))
                    .max_by_key(|c| c.seconds)
            }
            Some("Succeed") if until.is_none() => Some(Cost::default()),
            _ => None,
        };
        seen.pop();
        result
    }
    let cost = walk(definition, from, until, &mut Vec::new()).with_context(|| {
        format!("the failover definition has no way from {from} to {until:?} that succeeds")
    })?;
    Ok((cost.seconds, cost.source()))
}

/// The recovery budget read from the two templates (as JSON).
pub fn budget(primary: &Value, secondary: &Value) -> Result<Budget> {
    // Detection: the composite alarm fires once both of its alarms are in ALARM.
    let alarms: Vec<(&String, &Value)> = resources(secondary, "AWS::CloudWatch::Alarm");
    let named = |name: &str| {
        alarms
            .iter()
            .find(|(_, a)| a["Properties"]["AlarmName"] == name)
            .map(|(_, a)| *a)
    };
    let composite = resources(secondary, "AWS::CloudWatch::CompositeAlarm")
        .into_iter()
        .next()
        .context("the secondary template has no composite alarm")?
        .1;
    // The rule names its alarms literally or, so that they are made first, by `Ref` in an
    // `Fn::Sub` (`ALARM("${ReplicationLagAlarm}")`).
    let rule = &composite["Properties"]["AlarmRule"];
    let rule = rule
        .as_str()
        .or_else(|| rule["Fn::Sub"].as_str())
        .unwrap_or_default();
    let members: Vec<&str> = rule.split('"').skip(1).step_by(2).collect();
    let by_reference = |m: &str| {
        let id = m.strip_prefix("${")?.strip_suffix('}')?;
        alarms
            .iter()
            .find(|(i, _)| i.as_str() == id)
            .map(|(_, a)| *a)
    };
    let detection = members
        .iter()
        .filter_map(|m| by_reference(m).or_else(|| named(m)))
        .map(alarm_seconds)
        .max()
        .context("the composite alarm's members are not in the template")?;
    let schedule = resources(secondary, "AWS::Synthetics::Canary")
        .into_iter()
        .filter_map(|(_, c)| c["Properties"]["Schedule"]["Expression"].as_str())
        .filter_map(|e| {
            e.strip_prefix("rate(")?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(1)
        * 60;

    let failover = resources(secondary, "AWS::StepFunctions::StateMachine")
        .into_iter()
        .find(|(id, _)| id.as_str() == Runbook::Failover.logical_id())
        .context("the secondary template has no failover state machine")?
        .1;
    let definition: Value = serde_json::from_str(
        failover["Properties"]["DefinitionString"]["Fn::Sub"]
            .as_str()
            .context("the failover definition is not a Fn::Sub string")?,
    )
    .map_err(|e| Error(format!("the failover definition is not JSON: {e}")))?;
    let step = |from: &str, until: Option<&str>| segment(&definition, from, until);
    let verify = PollState::Start.of(poll::VERIFY);
    let steady = PollState::Start.of(poll::STEADY);
    // Route 53 moves traffic on its own once the primary endpoint fails its checks.
    let check = resources(primary, "AWS::Route53::HealthCheck")
        .into_iter()
        .find(|(id, _)| id.as_str() == "PrimaryHealthCheck")
        .context("the primary template has no primary health check")?
        .1;
    let config = &check["Properties"]["HealthCheckConfig"];
    let dns = config["RequestInterval"].as_u64().unwrap_or(30)
        * config["FailureThreshold"].as_u64().unwrap_or(3)
        + ALIAS_TTL_SECONDS;

    let line = |step: &str, seconds: u64, source: &str| Line {
        step: step.into(),
        seconds,
        source: source.into(),
    };
    let mut critical = vec![
        line(
            "detection: both failure signals in ALARM",
            schedule.max(detection),
            "alarm Period × EvaluationPeriods, canary schedule",
        ),
        line(
            "trigger: alarm event starts failover",
            TRIGGER_SECONDS,
            "EventBridge delivery (AWS)",
        ),
    ];
    for (what, from, until) in [
        (
            "lock and two-signal confirmation",
            state::ACQUIRE_LOCK,
            state::CHECK_WRITER,
        ),
        (
            "traffic switch and full capacity requested",
            state::CHECK_WRITER,
            state::PROMOTE,
        ),
        ("promotion, worst case", state::PROMOTE, state::MARK_ACTIVE),
        ("mark us-east-2 active", state::MARK_ACTIVE, verify.as_str()),
    ] {
        let (seconds, source) = step(from, Some(until))?;
        critical.push(line(what, seconds, &source));
    }
    // Traffic moves by Route 53 in parallel with the runbook; it only adds if it is slower.
    let runbook: u64 = critical.iter().map(|l| l.seconds).sum();
    let traffic_extra = dns.saturating_sub(runbook);
    critical.push(line(
        "traffic in us-east-2 (Route 53, in parallel)",
        traffic_extra,
        &format!("{dns} s: RequestInterval × FailureThreshold + alias TTL, overlapping the above"),
    ));
    let mut after = Vec::new();
    for (what, from, until) in [
        (
            "switch confirmed, flag raised",
            verify.as_str(),
            Some(steady.as_str()),
        ),
        (
            "full capacity running, worst case",
            steady.as_str(),
            Some(state::NOTIFY_DONE),
        ),
        ("notify and release the lock", state::NOTIFY_DONE, None),
    ] {
        let (seconds, source) = step(from, until)?;
        after.push(line(what, seconds, &source));
    }

    let rpo_param = resources(primary, "AWS::RDS::DBClusterParameterGroup")
        .into_iter()
        .find_map(|(_, g)| {
            g["Properties"]["Parameters"]["rds.global_db_rpo"]
                .as_str()
                .map(String::from)
        });
    let rtc = resources(primary, "AWS::S3::Bucket")
        .into_iter()
        .find_map(|(_, b)| {
            b["Properties"]["ReplicationConfiguration"]["Fn::If"][1]["Rules"][0]["Destination"]
                ["ReplicationTime"]["Time"]["Minutes"]
                .as_u64()
        });
    let watched = |parts: &[(&str, &str, &str)]| -> String {
        let alarms: Vec<String> = parts
            .iter()
            .filter_map(|(namespace, metric, unit)| {
                alarm_threshold(primary, secondary, namespace, metric)
                    .map(|t| format!("{metric} > {t}{unit}"))
            })
            .collect();
        if alarms.is_empty() {
            "; no alarm".into()
        } else {
            format!("; alarms: {}", alarms.join(", "))
        }
    };
    let copy_alert = [primary, secondary].iter().any(|t| {
        resources(t, "AWS::Events::Rule").into_iter().any(|(_, r)| {
            r["Properties"]["EventPattern"]["detail-type"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d == "Copy Job State Change"))
        })
    });
    let rpo = vec![
        (
            "Aurora global database".to_string(),
            match rpo_param {
                Some(s) => format!("≤ {s} s (managed RPO rds.global_db_rpo); typically < 1 s"),
                None => "typically < 1 s (no managed RPO set)".into(),
            } + &watched(&[("AWS/RDS", "AuroraGlobalDBReplicationLag", " ms")]),
        ),
        (
            "DynamoDB global table".to_string(),
            "typically < 1 s (asynchronous, no bound)".to_string()
                + &watched(&[("AWS/DynamoDB", "ReplicationLatency", " ms")]),
        ),
        (
            "S3 buckets".to_string(),
            match rtc {
                Some(m) => format!("≤ {m} min for 99.99 % of objects (Replication Time Control)"),
                None => "not replicated".into(),
            } + &watched(&[
                ("AWS/S3", "ReplicationLatency", " s"),
                ("AWS/S3", "OperationsFailedReplication", ""),
            ]),
        ),
        (
            "shared parameters".to_string(),
            "seconds (event-driven replication)".to_string()
                + &watched(&[("AWS/States", "ExecutionsFailed", "")]),
        ),
        (
            "backup copies".to_string(),
            format!(
                "one day (daily copy to the other region){}",
                if copy_alert {
                    "; failed copies alert (Copy Job State Change)"
                } else {
                    "; failed copies go unnoticed"
                }
            ),
        ),
    ];
    // Under throttling a task retries: IntervalSeconds × BackoffRate^k for each attempt.
    let retrier = &definition["States"][state::PROMOTE]["Retry"][0];
    let interval = retrier["IntervalSeconds"].as_f64().unwrap_or(1.0);
    let rate = retrier["BackoffRate"].as_f64().unwrap_or(2.0);
    let attempts = retrier["MaxAttempts"].as_i64().unwrap_or(3) as i32;
    let retry_seconds = (0..attempts)
        .map(|k| interval * rate.powi(k))
        .sum::<f64>()
        .ceil() as u64;
    let restore = restore_path(primary);
    Ok(Budget {
        retry_seconds,
        critical,
        after,
        rpo,
        restore,
    })
}
