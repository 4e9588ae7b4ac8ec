//! The failover and failback runbooks, executed: the state machines in the deployed secondary
//! template run in the emulator's Step Functions engine against emulated RDS (with the global
//! database's failover and switchover modelled, see the emulator's item 17, `emulator/rds.py`),
//! CloudWatch (alarms evaluated, composite alarm, state-change events), ECS, SSM, DynamoDB, SNS
//! and EventBridge, with faults injected. Each scenario asserts the path taken and the final
//! state of the emulated resources. The emulator's clock runs 100 times fast: the definitions'
//! bounded waits (minutes) pass in seconds, unchanged.

mod support;

use std::time::Instant;

use serde_json::{Value, json};
use support::{Moto, Run};

const SUFFIX: &str = "e2e";
const OUTSIDE_IN: &str = "alarm-canary-oi-success-e2e";
const LAG: &str = "alarm-replication-lag-e2e";
const SWITCH: &str = "failover-active-e2e";
const TRIGGER: &str = "alarm-primary-failure-e2e";

/// A deployed e2e environment with a queue tapping the alert topic.
fn deployed(clock: f64) -> Moto {
    let moto = Moto::start_with_clock(clock);
    moto.xtask("deploy", SUFFIX, &["--yes"]).expect_code(0);
    moto.runbook(SUFFIX, "tap", &[]);
    moto
}

fn state(moto: &Moto) -> Value {
    moto.runbook(SUFFIX, "state", &[])
}

fn run(moto: &Moto, command: &str, extra: &[&str]) -> Run {
    let r = moto.xtask(command, SUFFIX, extra);
    moto.assert_no_server_errors();
    r
}

/// The states an xtask run entered, from its printed path (failures) or the execution list.
fn executions(moto: &Moto, key: &str, count: usize) -> Vec<Value> {
    moto.runbook(SUFFIX, "wait-execution", &[key, &count.to_string()])
        .as_array()
        .unwrap()
        .clone()
}

fn path(execution: &Value) -> Vec<String> {
    execution["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Panics unless `steps` occur in `path` in this order (other states may come between).
#[track_caller]
fn assert_in_order(path: &[String], steps: &[&str]) {
    let mut rest = path.iter();
    for step in steps {
        assert!(
            rest.any(|s| s == step),
            "{step} missing or out of order in the path:\n{}",
            path.join(" → ")
        );
    }
}

fn count(path: &[String], state: &str) -> usize {
    path.iter().filter(|s| *s == state).count()
}

fn alerts(state: &Value) -> Vec<String> {
    state["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap_or("").to_string())
        .collect()
}

#[track_caller]
fn assert_untouched(s: &Value) {
    assert_eq!(s["writer_region"], "us-east-1", "{s:#}");
    assert_eq!(s["active_region"], "us-east-1", "{s:#}");
    assert_eq!(s["failover_flag"], "false", "{s:#}");
    assert_eq!(s["lock"], Value::Null, "the lock is released: {s:#}");
}

const HAPPY: &[&str] = &[
    "Mode",
    "AcquireLock",
    "CheckOutsideIn",
    "CheckReplication",
    "Confirmed",
    "CheckWriter",
    "AlreadyPromoted",
    "FlipSwitch",
    "ScaleUp",
    "Promote",
    "PromotionCheck",
    "MarkActive",
    "VerifyCheck",
    "SetFailoverFlag",
    "SteadyCheck",
    "NotifyDone",
    "ReleaseLock",
    "Done",
];

#[test]
fn the_alarms_alone_start_failover_and_it_completes() {
    let moto = deployed(0.01);
    // The primary region goes dark: the outside-in canary fails and replication stops. Nobody
    // starts anything: the composite alarm's state change reaches the rule in us-east-2.
    moto.runbook(SUFFIX, "alarm", &[OUTSIDE_IN, "ALARM"]);
    moto.runbook(SUFFIX, "alarm", &[LAG, "ALARM"]);
    let runs = executions(&moto, "FailoverStateMachineArn", 1);
    assert_eq!(runs.len(), 1, "exactly one failover started: {runs:#?}");
    assert_eq!(runs[0]["status"], "SUCCEEDED", "{:#}", runs[0]);
    let p = path(&runs[0]);
    assert_in_order(&p, HAPPY);
    assert!(
        !p.iter()
            .any(|s| s.starts_with("Alert") || s.starts_with("Undo")),
        "{p:?}"
    );

    let s = state(&moto);
    assert_eq!(s["alarms"][TRIGGER], "ALARM");
    assert_eq!(
        s["writer_region"], "us-east-2",
        "the recovery cluster writes: {s:#}"
    );
    assert_eq!(s["global_status"], "available");
    assert_eq!(
        s["alarms"][SWITCH], "ALARM",
        "traffic switched to us-east-2"
    );
    assert_eq!(s["active_region"], "us-east-2");
    assert_eq!(s["failover_flag"], "true");
    assert_eq!(
        (s["desired"].as_u64(), s["running"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(s["lock"], Value::Null);
    assert_eq!(alerts(&s), ["Failover complete: us-east-2 serves"]);
    moto.assert_no_server_errors();
}

#[test]
fn throttled_calls_are_retried_and_failover_completes() {
    let moto = deployed(0.01);
    moto.faults(json!({"throttle": {
        "FailoverGlobalCluster": 2, "DescribeGlobalClusters": 1, "PutMetricData": 1, "UpdateService": 1
    }}));
    let r = run(&moto, "failover", &["--force", "--yes"]);
    // The stream shows each throttled call.
    r.expect_code(0).expect_stdout("Rate exceeded");
    let runs = executions(&moto, "FailoverStateMachineArn", 1);
    let retried: Vec<&str> = runs[0]["retried"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for (call, times) in [
        ("failoverGlobalCluster", 2),
        ("describeGlobalClusters", 1),
        ("putMetricData", 1),
        ("updateService", 1),
    ] {
        let seen = retried.iter().filter(|r| **r == call).count();
        assert_eq!(
            seen, times,
            "{call} throttled {times}×, retried: {retried:?}"
        );
    }
    assert_in_order(&path(&runs[0]), HAPPY);
    let s = state(&moto);
    assert_eq!(s["writer_region"], "us-east-2");
    assert_eq!(s["alarms"][SWITCH], "ALARM");
    assert_eq!(s["lock"], Value::Null);
}

#[test]
fn a_promotion_that_never_completes_is_bounded_and_alerts() {
    let moto = deployed(0.01);
    moto.faults(json!({"promotion_never_completes": true}));
    let r = run(&moto, "failover", &["--force", "--yes"]);
    r.expect_code(1);
    r.expect_stdout("FailoverIncomplete");
    let runs = executions(&moto, "FailoverStateMachineArn", 1);
    let p = path(&runs[0]);
    // Bounded by what AWS may take: 4 minutes, an alert, 4 more (24 checks, 10 s apart, each).
    assert_eq!(count(&p, "PromotionCheck"), 24, "{p:?}");
    assert_eq!(count(&p, "PromotionLateCheck"), 24, "{p:?}");
    assert_in_order(
        &p,
        &[
            "Promote",
            "AlertPromotionSlow",
            "PromotionLateStart",
            "AlertPromotionTimedOut",
            "AfterPromotionLock",
            "Incomplete",
        ],
    );
    assert!(
        !p.contains(&"MarkActive".to_string()),
        "nothing after promotion ran: {p:?}"
    );
    let s = state(&moto);
    // Never demoted, never rolled back: the promotion may still finish; people decide. Traffic
    // and capacity, moved before promotion, stay in us-east-2.
    assert_eq!(s["global_status"], "failing-over");
    assert_eq!(s["failover_state"]["IsDataLossAllowed"], true);
    assert_untouched(&s);
    assert_eq!(s["alarms"][SWITCH], "ALARM");
    assert_eq!(s["desired"], 2);
    assert_eq!(
        alerts(&s),
        [
            "Failover: promotion still running after 4 minutes; still waiting",
            "Failover: promotion did not complete in 8 minutes; finish by hand"
        ]
    );
}

#[test]
fn a_service_that_never_steadies_is_caught_after_promotion() {
    let moto = deployed(0.01);
    moto.faults(json!({"service_never_steady": true}));
    let r = run(&moto, "failover", &["--force", "--yes"]);
    r.expect_code(1);
    let runs = executions(&moto, "FailoverStateMachineArn", 1);
    let p = path(&runs[0]);
    assert_eq!(count(&p, "SteadyCheck"), 12, "bounded: {p:?}");
    assert_in_order(
        &p,
        &[
            "FlipSwitch",
            "ScaleUp",
            "Promote",
            "MarkActive",
            "VerifyCheck",
            "SteadyCheck",
            "AlertAfterPromotion",
            "AfterPromotionLock",
            "Incomplete",
        ],
    );
    assert_eq!(runs[0]["error"], "FailoverIncomplete");
    let s = state(&moto);
    // After promotion nothing is undone: us-east-2 writes and serves with its warm tasks.
    assert_eq!(s["writer_region"], "us-east-2");
    assert_eq!(s["active_region"], "us-east-2");
    assert_eq!(s["failover_flag"], "true");
    assert_eq!(s["alarms"][SWITCH], "ALARM");
    assert_eq!(
        (s["desired"].as_u64(), s["running"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(s["lock"], Value::Null);
    assert_eq!(
        alerts(&s),
        ["Failover stopped after promotion: finish by hand"]
    );
}

#[test]
fn a_second_execution_is_refused_by_the_lock() {
    // A slower clock keeps the first execution inside its promotion wait for seconds.
    let moto = deployed(0.05);
    let started = Instant::now();
    let first = moto.spawn_xtask("failover", SUFFIX, &["--force", "--yes"]);
    let lock = moto.runbook(SUFFIX, "wait-lock", &[]);
    assert_eq!(lock["operation"]["S"], "failover");
    let second = run(&moto, "failover", &["--force", "--yes"]);
    second.expect_code(1);
    second.expect_stdout("LockHeld");
    Run::wait(first, started).expect_code(0);
    let runs = executions(&moto, "FailoverStateMachineArn", 2);
    let refused: Vec<&Value> = runs.iter().filter(|r| r["status"] == "FAILED").collect();
    assert_eq!(refused.len(), 1, "{runs:#?}");
    // The holder still runs: the lock is held, and the refusal says so.
    assert_in_order(
        &path(refused[0]),
        &[
            "AcquireLock",
            "LockHolder",
            "LockHolderRuns",
            "LockStale",
            "AlertLockHeld",
            "AlreadyRunning",
        ],
    );
    let s = state(&moto);
    assert_eq!(s["writer_region"], "us-east-2", "the first one finished");
    assert_eq!(s["lock"], Value::Null);
    let mut said = alerts(&s);
    said.sort();
    assert_eq!(
        said,
        [
            "Failover complete: us-east-2 serves",
            "Failover refused: another runbook execution holds the lock"
        ],
        "one failover, and the refusal pages"
    );
}

/// An execution stopped by hand (or ended by an error no Catch sees) leaves its lock behind:
/// the next failover reads the holder, finds it no longer running, takes the lock over and
/// fails over. Before the lock had an owner and an expiry, that next failover ended LockHeld.
#[test]
fn a_stopped_execution_does_not_block_the_next_failover() {
    // At this clock the promotion takes 7.5 s: the first run waits in it while it is stopped.
    let moto = deployed(0.05);
    let started = Instant::now();
    let first = moto.spawn_xtask("failover", SUFFIX, &["--force", "--yes"]);
    let lock = moto.runbook(SUFFIX, "wait-lock", &[]);
    let holder = lock["owner"]["S"].as_str().unwrap().to_string();
    let stopped = moto.runbook(SUFFIX, "stop-running", &[]);
    assert_eq!(stopped["stopped"], json!([holder]), "{stopped}");
    let _ = Run::wait(first, started);
    assert_eq!(
        state(&moto)["lock"]["owner"]["S"],
        holder,
        "the stopped run left its lock"
    );
    moto.faults(json!({}));
    // The first run's failover request goes on in RDS: the second finds it under way or done.
    let second = run(&moto, "failover", &["--force", "--yes"]);
    second.expect_code(0);
    let runs = executions(&moto, "FailoverStateMachineArn", 2);
    let taken = runs
        .iter()
        .find(|r| r["status"] == "SUCCEEDED")
        .expect("the second run succeeded");
    assert_in_order(
        &path(taken),
        &[
            "AcquireLock",
            "LockHolder",
            "LockHolderRuns",
            "LockStale",
            "TakeOverLock",
            "CheckOutsideIn",
            "MarkActive",
            "Done",
        ],
    );
    let s = state(&moto);
    assert_eq!(s["writer_region"], "us-east-2");
    assert_eq!(s["lock"], Value::Null, "released by its new owner");
}

/// A failover already under way in RDS (started from the console, or by an earlier run) makes
/// the runbook's own request refused; the runbook re-reads the global database, sees the
/// operation, waits for it instead of undoing traffic and capacity, and completes.
#[test]
fn a_promotion_already_under_way_is_waited_for_not_undone() {
    let moto = deployed(0.01);
    moto.runbook(SUFFIX, "start-failover", &[]);
    let r = run(&moto, "failover", &["--force", "--yes"]);
    r.expect_code(0);
    let runs = executions(&moto, "FailoverStateMachineArn", 1);
    let p = path(&runs[0]);
    // Whether RDS finished the console's failover before the refusal was re-read (then
    // us-east-2 writes) or not (then the run waits for it), nothing is undone.
    assert_in_order(
        &p,
        &[
            "Promote",
            "PromotionRefused",
            "PromotionUnderWay",
            "MarkActive",
            "Done",
        ],
    );
    assert!(!p.contains(&"UndoBeforePromotion".to_string()), "{p:?}");
    let s = state(&moto);
    assert_eq!(s["writer_region"], "us-east-2");
    assert_eq!(s["alarms"][SWITCH], "ALARM");
}

#[test]
fn a_failure_before_promotion_rolls_back_the_switch_and_capacity() {
    let moto = deployed(0.01);
    // The run flips the switch and scales up; then RDS refuses the promotion.
    moto.faults(json!({"fail": {"FailoverGlobalCluster": [
        "InvalidDBClusterStateFault", "The DB cluster is not in a valid state for failover."
    ]}}));
    let r = run(&moto, "failover", &["--force", "--yes"]);
    r.expect_code(1);
    r.expect_stdout("FailoverRolledBack");
    let runs = executions(&moto, "FailoverStateMachineArn", 1);
    let p = path(&runs[0]);
    assert_in_order(
        &p,
        &[
            "FlipSwitch",
            "ScaleUp",
            "Promote",
            "PromotionRefused",
            "PromotionUnderWay",
            "UndoBeforePromotion",
            "UndoScale",
            "UndoLock",
            "AlertRolledBack",
            "RolledBack",
        ],
    );
    // A refusal is not retried (only RDS's undeclared, transient errors are): one call.
    assert_eq!(
        runs[0]["retried"].as_array().unwrap().len(),
        1,
        "the refused call was not retried: {:#}",
        runs[0]
    );
    let s = state(&moto);
    assert_untouched(&s);
    assert_eq!(s["global_status"], "available");
    assert_eq!(s["alarms"][SWITCH], "OK", "the switch is off again");
    assert_eq!(s["desired"], 1, "warm capacity");
    assert_eq!(
        alerts(&s),
        ["Failover failed before promotion; rolled back"]
    );
}

#[test]
fn failback_after_failover_returns_everything_to_the_primary() {
    let moto = deployed(0.01);
    run(&moto, "failover", &["--force", "--yes"]).expect_code(0);
    assert_eq!(state(&moto)["writer_region"], "us-east-2");

    // Failover again (the alarm fired twice, or someone re-ran it): idempotent. It sees the
    // recovery cluster writing, re-asserts the switch and capacity, and never calls RDS's
    // failover or moves traffic back.
    run(&moto, "failover", &["--force", "--yes"]).expect_code(0);
    let again = executions(&moto, "FailoverStateMachineArn", 2);
    let second = again
        .iter()
        .map(path)
        .find(|p| p.contains(&"EnsureSwitch".to_string()))
        .expect("the second failover");
    assert_in_order(
        &second,
        &[
            "CheckWriter",
            "AlreadyPromoted",
            "EnsureSwitch",
            "EnsureCapacity",
            "MarkActive",
            "Done",
        ],
    );
    assert!(!second.contains(&"Promote".to_string()), "{second:?}");
    let s = state(&moto);
    assert_eq!(
        (s["writer_region"].as_str(), s["alarms"][SWITCH].as_str()),
        (Some("us-east-2"), Some("ALARM"))
    );

    // Before AWS has rebuilt and rejoined the old primary (a failover with data loss), failback
    // refuses, saying why, and changes nothing; its dry run says the same.
    moto.runbook(SUFFIX, "alarm", &[OUTSIDE_IN, "OK"]);
    let dry = run(&moto, "failback", &["--dry-run"]);
    dry.expect_stdout("not synchronized: arn:aws:rds:us-east-1:");
    dry.expect_stdout("us-east-1 has not rejoined the global database");
    let early = run(&moto, "failback", &["--yes"]);
    early.expect_code(1);
    early.expect_stdout("PrimaryNotRejoined");
    assert_eq!(state(&moto)["writer_region"], "us-east-2");
    moto.runbook(SUFFIX, "wait-rejoined", &[]);

    // While the primary does not answer, failback refuses and changes nothing.
    moto.runbook(SUFFIX, "alarm", &[OUTSIDE_IN, "ALARM"]);
    let refused = run(&moto, "failback", &["--yes"]);
    refused.expect_code(1);
    refused.expect_stdout("PrimaryNotHealthy");
    assert_eq!(state(&moto)["writer_region"], "us-east-2");

    moto.runbook(SUFFIX, "alarm", &[OUTSIDE_IN, "OK"]);
    let dry = run(&moto, "failback", &["--dry-run"]);
    dry.expect_code(0);
    dry.expect_stdout("verdict: failback would proceed");

    let r = run(&moto, "failback", &["--yes"]);
    r.expect_code(0);
    r.expect_stdout("failback complete");
    let runs = executions(&moto, "FailbackStateMachineArn", 4);
    let done = runs
        .iter()
        .find(|r| r["status"] == "SUCCEEDED" && path(r).contains(&"Switchover".to_string()))
        .expect("the failback run");
    assert_in_order(
        &path(done),
        &[
            "AcquireLock",
            "CheckPrimary",
            "PrimaryHealthy",
            "CheckRejoined",
            "Rejoined",
            "Switchover",
            "SwitchoverCheck",
            "SwitchOff",
            "MarkPrimaryActive",
            "ClearFailoverFlag",
            "TrafficBackCheck",
            "TrafficLeaves",
            "ScaleToWarm",
            "NotifyDone",
            "Release",
            "Done",
        ],
    );
    let s = state(&moto);
    assert_eq!(s["writer_region"], "us-east-1", "switched over back: {s:#}");
    assert_eq!(s["global_status"], "available");
    assert_eq!(s["alarms"][SWITCH], "OK", "traffic back to the primary");
    assert_eq!(s["active_region"], "us-east-1");
    assert_eq!(s["failover_flag"], "false");
    assert_eq!(s["desired"], 1, "warm again");
    assert_eq!(s["floor"], 1, "the warm floor is back");
    assert_eq!(s["lock"], Value::Null);
    // (The failover's alert was read after the failover.)
    assert_eq!(alerts(&s), ["Failback complete: us-east-1 serves"]);
}

#[test]
fn dry_runs_and_unconfirmed_outages_change_nothing_and_rds_refuses_wrong_states() {
    let moto = deployed(0.01);
    let dry = run(&moto, "failover", &["--dry-run"]);
    dry.expect_code(0);
    for line in [
        "global database: available, writer arn:aws:rds:us-east-1:",
        "lock: free",
        "service: 1 running of 1 desired",
        "verdict: failover would change nothing",
    ] {
        dry.expect_stdout(line);
    }

    // Without --force, only one signal in ALARM: the runbook confirms nothing and ends.
    moto.runbook(SUFFIX, "alarm", &[OUTSIDE_IN, "ALARM"]);
    let unconfirmed = run(&moto, "failover", &["--yes"]);
    unconfirmed.expect_code(3);
    unconfirmed.expect_stdout("nothing changed");

    // Failback while us-east-1 writes: the runbook reads that us-east-2 is not the writer (no
    // failover happened), asks RDS for nothing, releases the lock and changes nothing.
    moto.runbook(SUFFIX, "alarm", &[OUTSIDE_IN, "OK"]);
    let refused = run(&moto, "failback", &["--yes"]);
    refused.expect_code(1);
    refused.expect_stdout("PrimaryNotRejoined");

    let s = state(&moto);
    assert_untouched(&s);
    assert_eq!(s["global_status"], "available");
    assert_eq!(s["desired"], 1);
    assert_eq!(alerts(&s), Vec::<String>::new());
}

/// Operating through a regional outage, end to end. After a failover us-east-2 has full
/// desired and minimum capacity. A fix shipped then (a new image) reaches us-east-2 first and
/// runs there at full capacity, with the active region and flag as the runbook left them. When
/// us-east-1 stops answering, deploy fails within seconds naming `--impaired-region`; with it,
/// the next fix updates us-east-2 alone and says what was skipped. Once us-east-1 is back,
/// failback restores the warm floor, a deploy converges, and the next has nothing to change.
#[test]
fn operating_through_an_outage_never_undoes_the_failover() {
    let moto = deployed(0.01);
    let before = state(&moto);
    assert_eq!(
        (&before["desired"], &before["floor"]),
        (&json!(1), &json!(1))
    );
    run(&moto, "failover", &["--force", "--yes"]).expect_code(0);
    let s = state(&moto);
    assert_eq!(
        (&s["desired"], &s["floor"]),
        (&json!(2), &json!(2)),
        "{s:#}"
    );

    let ship = |image: &str| {
        std::fs::write(
            moto.env_dir().join(format!("{SUFFIX}.toml")),
            format!("[service]\nimage = \"{image}\"\n"),
        )
        .unwrap();
    };
    // diff knows the failover: the runbooks' changes are expected, and nothing stateful would
    // be replaced or removed.
    let diff = run(&moto, "diff", &[]);
    diff.expect_code(2)
        .expect_stdout("failed over: the recovery region's phases run first")
        .expect_stdout("runbook-owned: ActiveRegion us-east-1 → us-east-2")
        .expect_stdout("runbook-owned: ServiceMinCapacity 1 → 2");
    assert!(
        !["- Remove", "(replacement)", "(may be replaced)"]
            .iter()
            .any(|c| diff.stdout.contains(c)),
        "{}",
        diff.stdout
    );
    let fix = "public.ecr.aws/nginx/nginx:1.27-alpine";
    ship(fix);
    let deployed = run(&moto, "deploy", &["--yes"]);
    deployed
        .expect_code(0)
        .expect_stdout("live state in us-east-2: active region us-east-2, failover flag true, database writer in us-east-2 — failed over")
        .expect_stdout("phase 1/3 secondary");
    let s = state(&moto);
    assert_eq!(s["image"], fix, "the fix runs: {s:#}");
    assert_eq!(s["desired"], 2, "full capacity kept: {s:#}");
    assert_eq!(s["floor"], 2, "full capacity is the floor: {s:#}");
    assert_eq!(s["active_region"], "us-east-2");
    assert_eq!(s["failover_flag"], "true");
    assert_eq!(s["writer_region"], "us-east-2");

    // us-east-1 stops answering.
    moto.faults(json!({"unreachable": ["us-east-1"]}));
    let second = "public.ecr.aws/nginx/nginx:1.28-alpine";
    ship(second);
    let stopped = run(&moto, "deploy", &["--yes"]);
    stopped
        .expect_code(1)
        .expect_stderr("us-east-1 does not answer")
        .expect_stderr("--impaired-region us-east-1");
    assert!(
        stopped.elapsed.as_secs() < 20,
        "an unreachable region stops deploy within seconds, not minutes: {:?}",
        stopped.elapsed
    );
    let impaired = run(
        &moto,
        "deploy",
        &["--yes", "--impaired-region", "us-east-1"],
    );
    impaired
        .expect_code(0)
        .expect_stdout("phase 1/3 secondary")
        .expect_stdout("skipped: us-east-1 is impaired")
        .expect_stdout("skipped phases primary, primary-link (us-east-1 is impaired)");
    println!(
        "deploy with us-east-1 impaired: {:.1} s",
        impaired.elapsed.as_secs_f64()
    );
    let s = state(&moto);
    assert_eq!(s["image"], second, "{s:#}");
    assert_eq!(
        (&s["desired"], &s["floor"]),
        (&json!(2), &json!(2)),
        "{s:#}"
    );
    run(&moto, "diff", &["--impaired-region", "us-east-1"]).expect_code(0);

    // us-east-1 is back: fail back, converge, and nothing is left to change.
    moto.faults(json!({}));
    run(&moto, "failback", &["--yes"]).expect_code(0);
    let s = state(&moto);
    assert_eq!(
        (&s["desired"], &s["floor"]),
        (&json!(1), &json!(1)),
        "{s:#}"
    );
    run(&moto, "deploy", &["--yes"]).expect_code(0);
    let again = run(&moto, "deploy", &["--yes"]);
    again.expect_code(0);
    assert_eq!(
        again.stdout.matches("no changes").count(),
        3,
        "{}",
        again.stdout
    );
    let s = state(&moto);
    assert_eq!(
        (&s["desired"], &s["floor"]),
        (&json!(1), &json!(1)),
        "{s:#}"
    );
    assert_eq!(s["image"], second);
}
