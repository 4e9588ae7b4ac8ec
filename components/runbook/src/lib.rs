//! The failover and failback runbooks: Step Functions state machines in the recovery region
//! (us-east-2) that call only us-east-2 APIs.
//!
//! Failover: take the single-flight lock (a conditional write), confirm the outage from two
//! independent signals, check which cluster writes (when us-east-2 already does, an earlier run
//! promoted it: re-assert the switch and capacity and continue after promotion), flip the
//! data-plane traffic switch and request full capacity (tasks start while the database
//! promotes), fail the global database over to the us-east-2 cluster with `AllowDataLoss` and
//! wait (bounded) until it writes, mark us-east-2 active, wait (bounded) until the switch's
//! alarm reflects the flip, raise the `failover-active` flag, wait (bounded) for full capacity,
//! notify, release the lock.
//! Every task retries transient errors with back-off and has a catch: before anything changed,
//! the lock is released and nothing undone; before promotion, the switch and capacity are
//! undone; after promotion nothing is demoted, and the alert says how far it got.
//!
//! Failback (planned, primary healthy): switch the global database back over (no data loss),
//! wait, turn the switch off, mark us-east-1 active, scale us-east-2 back to warm.
//!
//! ```
//! let inputs = runbook::Inputs::example();
//! let failover = runbook::failover_definition(&inputs);
//! assert_eq!(failover["StartAt"], "Mode");
//! ```

use std::collections::BTreeMap;

use cfn::arn::Arn;
use cfn::aws::{cloudwatch, dynamodb, events, iam, logs, stepfunctions};
use cfn::iam::{Statement, assume_role_by, policy};
use cfn::naming::{self, Namer};
use cfn::states::{Catch, Retry, Then};
use cfn::{Error, Expr, Fragment, Handle, LogicalId};
use serde_json::{Value, json};

pub mod contract;
pub mod preflight;

pub use contract::Runbook;
use contract::{PollState, poll, state};

/// What the definitions refer to. ARNs and names here are `${…}` placeholders resolved by
/// `Fn::Sub` in the template, so the definitions stay plain JSON that tests can walk.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// The lock table's name.
    pub lock_table: String,
    /// The global cluster's identifier.
    pub global_cluster: String,
    /// ARN of the us-east-2 (recovery) cluster.
    pub recovery_cluster_arn: String,
    /// ARN of the us-east-1 (primary) cluster, the failback target.
    pub primary_cluster_arn: String,
    /// The alarms that must agree before failover: the outside-in canary, replication lag.
    pub outage_alarms: [String; 2],
    /// The `failover-active` switch alarm.
    pub switch_alarm: String,
    /// Namespace, metric and environment dimension of the switch.
    pub switch_metric: (String, String, String),
    /// The parameter naming the active region.
    pub active_region_parameter: String,
    /// The `failover-active` flag parameter.
    pub failover_flag_parameter: String,
    /// The two regions: (primary, recovery).
    pub regions: (String, String),
    /// The ECS cluster and service in us-east-2.
    pub ecs: (String, String),
    /// Tasks at full capacity and when warm.
    pub counts: (u32, u32),
    /// The alert topic ARN.
    pub topic_arn: String,
    /// The event bus name.
    pub bus: String,
    /// The event source of runbook events.
    pub source: String,
}

impl Inputs {
    /// Plausible inputs, for examples and tests.
    pub fn example() -> Self {
        Inputs {
            lock_table: "runbook-lock-qa".into(),
            global_cluster: "aurora-global-qa-us-east-1".into(),
            recovery_cluster_arn: Arn::new("rds", "cluster:aurora-qa")
                .in_region("us-east-2")
                .to_sub(),
            primary_cluster_arn: Arn::new("rds", "cluster:aurora-qa")
                .in_region("us-east-1")
                .to_sub(),
            outage_alarms: [
                "alarm-canary-oi-success-qa".into(),
                "alarm-replication-lag-qa".into(),
            ],
            switch_alarm: "failover-active-qa".into(),
            switch_metric: ("TradingDR".into(), "FailoverActive".into(), "qa".into()),
            active_region_parameter: "/trading/qa/shared/active-region".into(),
            failover_flag_parameter: "/trading/qa/shared/flags/failover-active".into(),
            regions: ("us-east-1".into(), "us-east-2".into()),
            ecs: ("trading-qa".into(), "trading-app-qa".into()),
            counts: (2, 1),
            topic_arn: Arn::new("sns", "trading-alerts-qa")
                .in_region("us-east-2")
                .to_sub(),
            bus: "trading-events-qa".into(),
            source: "trading.runbook".into(),
        }
    }
}

/// The writers among a `DescribeGlobalClusters` result's members. Step Functions' SDK
/// integrations name result members as the AWS SDKs do, so RDS's `DBClusterArn` reads
/// `DbClusterArn` here (the execution tests caught this).
const WRITERS: &str =
    "$.GlobalClusters[0].GlobalClusterMembers[?(@.IsWriter == true)].DbClusterArn";

/// The members of a `DescribeGlobalClusters` result that are not synchronized: a rebuilt old
/// primary is `pending-resync` until it rejoins (the API's only other value is `connected`).
const UNSYNCHRONIZED: &str = "$.GlobalClusters[0].GlobalClusterMembers[?(@.SynchronizationStatus == 'pending-resync')].DbClusterArn";

/// After the switch is off: Route 53's checkers evaluate the switch's data about every minute,
/// and resolvers keep the SECONDARY answer for the alias TTL (60 s).
pub const TRAFFIC_LEAVES_SECONDS: u32 = 120;

/// Retry with back-off for throttling and transient errors.
fn retry() -> Retry {
    Retry::on(["States.TaskFailed", "States.Timeout"])
        .every(2)
        .attempts(5)
        .backoff(2.0)
        .full_jitter()
}

/// Retry for an RDS call that changes the global database: only what is transient. RDS's
/// throttling and internal errors are not in its API model, so Step Functions names them
/// `Rds.RdsException`; refusals (`Rds.InvalidGlobalClusterStateException`, a missing member)
/// are not retried.
fn transient_rds() -> Retry {
    Retry::on(["Rds.RdsException", "States.Timeout"])
        .every(2)
        .attempts(5)
        .backoff(2.0)
        .full_jitter()
}

/// `state` going to `next`, with retry and a catch to `on_error`.
fn guarded(state: Value, next: &str, on_error: &str) -> Value {
    cfn::states::guarded(
        state,
        &[retry()],
        &[Catch::on(["States.ALL"], on_error).keep_error_at("$.error")],
        Then::Next(next),
    )
}

/// A task state calling `resource` with `parameters`, with retry and a catch to `on_error`.
fn task(
    resource: &str,
    parameters: Value,
    result_path: Value,
    next: &str,
    on_error: &str,
) -> Value {
    guarded(
        json!({"Type": "Task", "Resource": resource, "Parameters": parameters, "ResultPath": result_path}),
        next,
        on_error,
    )
}

fn sdk(service_action: &str) -> String {
    cfn::arn::states_sdk(service_action)
}

/// Puts the traffic switch metric: 1 sends traffic to us-east-2, 0 back to us-east-1.
fn set_switch(i: &Inputs, value: u32, next: &str, on_error: &str) -> Value {
    let metric = json!({
        "Namespace": i.switch_metric.0,
        "MetricData": [{
            "MetricName": i.switch_metric.1,
            "Dimensions": [{"Name": "Environment", "Value": i.switch_metric.2}],
            "Value": value
        }]
    });
    task(
        &sdk("cloudwatch:putMetricData"),
        metric,
        Value::Null,
        next,
        on_error,
    )
}

/// Sets the us-east-2 service's auto scaling floor (its scalable target's minimum capacity):
/// raised to full capacity on failover, so target tracking never scales the serving region in
/// below it, and lowered back to warm on failback. Application Auto Scaling brings the current
/// count into the new range at once. Deploys pass the same floor from the failover flag, so none
/// reverts it.
fn floor(i: &Inputs, count: u32, next: &str, on_error: &str) -> Value {
    task(
        &sdk("applicationautoscaling:registerScalableTarget"),
        json!({"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
               "ResourceId": format!("service/{}/{}", i.ecs.0, i.ecs.1), "MinCapacity": count}),
        Value::Null,
        next,
        on_error,
    )
}

/// Sets the us-east-2 service's desired count.
fn scale(i: &Inputs, count: u32, next: &str, on_error: &str) -> Value {
    task(
        &sdk("ecs:updateService"),
        json!({"Cluster": i.ecs.0, "Service": i.ecs.1, "DesiredCount": count}),
        Value::Null,
        next,
        on_error,
    )
}

/// Writes the String parameter `name`.
fn put_parameter(name: &str, value: &str, next: &str, on_error: &str) -> Value {
    task(
        &sdk("ssm:putParameter"),
        json!({"Name": name, "Value": value, "Type": "String", "Overwrite": true}),
        Value::Null,
        next,
        on_error,
    )
}

/// Reads the state of `alarm` into `<result_path>.state` (no flow yet: see [`guarded`]).
fn alarm_state(alarm: &str, result_path: &str) -> Value {
    json!({"Type": "Task", "Resource": sdk("cloudwatch:describeAlarms"),
           "Parameters": {"AlarmNames": [alarm]},
           "ResultSelector": {"state.$": "$.MetricAlarms[0].StateValue"},
           "ResultPath": result_path})
}

/// Reads which clusters write into `<result_path>.writers` (no flow yet: see [`guarded`]).
fn writers(i: &Inputs, result_path: &str) -> Value {
    json!({"Type": "Task", "Resource": sdk("rds:describeGlobalClusters"),
           "Parameters": {"GlobalClusterIdentifier": i.global_cluster},
           "ResultSelector": {"writers.$": WRITERS},
           "ResultPath": result_path})
}

/// Notifies by SNS and by an event, in parallel. Notification is best effort: a failure is
/// caught inside its branch and never changes the runbook's course.
fn notify(i: &Inputs, subject: &str, detail_type: &str) -> Value {
    // Best effort: the error is kept aside and the branch ends well.
    let best_effort = |state: Value, unsent: &str| {
        cfn::states::guarded(
            state,
            &[retry()],
            &[Catch::on(["States.ALL"], unsent).keep_error_at("$.notifyError")],
            Then::End,
        )
    };
    json!({
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "Publish", "States": {
                "Publish": best_effort(json!({
                    "Type": "Task", "Resource": cfn::arn::states_integration("sns:publish"),
                    "Parameters": {"TopicArn": i.topic_arn, "Subject": subject, "Message.$": "States.JsonToString($)"}
                }), "PublishUnsent"),
                "PublishUnsent": {"Type": "Succeed"}
            }},
            {"StartAt": "Event", "States": {
                "Event": best_effort(json!({
                    "Type": "Task", "Resource": cfn::arn::states_integration("events:putEvents"),
                    "Parameters": {"Entries": [{"Source": i.source, "DetailType": detail_type, "EventBusName": i.bus, "Detail.$": "States.JsonToString($)"}]}
                }), "EventUnsent"),
                "EventUnsent": {"Type": "Succeed"}
            }}
        ],
        "ResultPath": null
    })
}

/// Step Functions wants state names unique across the whole machine, branches included: every
/// state inside a Parallel branch is renamed `<parallel state><name>`.
fn unique_branch_names(states: &mut serde_json::Map<String, Value>) {
    for (parallel, state) in states.iter_mut() {
        let Some(branches) = state.get_mut("Branches").and_then(Value::as_array_mut) else {
            continue;
        };
        for branch in branches {
            let rename = |name: &str| format!("{parallel}{name}");
            if let Some(start) = branch["StartAt"].as_str().map(rename) {
                branch["StartAt"] = json!(start);
            }
            let Some(inner) = branch["States"].as_object_mut() else {
                continue;
            };
            let renamed: serde_json::Map<String, Value> = std::mem::take(inner)
                .into_iter()
                .map(|(name, mut st)| {
                    if let Some(next) = st["Next"].as_str().map(rename) {
                        st["Next"] = json!(next);
                    }
                    let catches = st.get_mut("Catch").and_then(Value::as_array_mut);
                    for c in catches.into_iter().flatten() {
                        if let Some(next) = c["Next"].as_str().map(rename) {
                            c["Next"] = json!(next);
                        }
                    }
                    (rename(&name), st)
                })
                .collect();
            *inner = renamed;
        }
    }
}

/// A bounded polling loop: `check` (a task whose result is in `$.<field>`), then `decide`
/// (a Choice on it) that goes to `done`, back to `wait` while attempts remain, else `timeout`.
#[allow(clippy::too_many_arguments)]
fn poll(
    states: &mut serde_json::Map<String, Value>,
    name: &str,
    seconds: u32,
    attempts: u32,
    check: Value,
    condition: Value,
    done: &str,
    timeout: &str,
    on_error: &str,
) {
    let counter = format!("$.attempts.{name}");
    states.insert(
        PollState::Start.of(name),
        json!({"Type": "Pass", "Result": 0, "ResultPath": counter, "Next": PollState::Wait.of(name)}),
    );
    states.insert(
        PollState::Wait.of(name),
        json!({"Type": "Wait", "Seconds": seconds, "Next": PollState::Check.of(name)}),
    );
    states.insert(
        PollState::Check.of(name),
        guarded(check, &PollState::Count.of(name), on_error),
    );
    states.insert(
        PollState::Count.of(name),
        json!({"Type": "Pass", "Parameters": {"value.$": format!("States.MathAdd({counter}, 1)")},
               "ResultPath": format!("$.attempts.{name}Next"), "Next": PollState::Store.of(name)}),
    );
    states.insert(
        PollState::Store.of(name),
        json!({"Type": "Pass", "InputPath": format!("$.attempts.{name}Next.value"), "ResultPath": counter, "Next": PollState::Decide.of(name)}),
    );
    // A Choice on a path that is absent fails the whole execution (States.Runtime, which no
    // Catch sees): the writers list is empty while no cluster writes, mid-failover.
    let mut done_choice = json!({"And": [
        {"Variable": condition["Variable"], "IsPresent": true},
        condition
    ]});
    done_choice["Next"] = json!(done);
    states.insert(
        PollState::Decide.of(name),
        json!({"Type": "Choice", "Choices": [
            done_choice,
            {"Variable": counter, "NumericLessThan": attempts, "Next": PollState::Wait.of(name)}
        ], "Default": timeout}),
    );
}

/// Releases the single-flight lock if this execution holds it (a conditional delete on the
/// owner), then goes to `next` whether or not that worked: a lock left behind expires with its
/// execution (see [`acquire_lock`]), the smaller harm than a runbook stuck before its end.
fn release_lock(i: &Inputs, next: &str) -> Value {
    task(
        &cfn::arn::states_integration("dynamodb:deleteItem"),
        json!({"TableName": i.lock_table, "Key": {"lock": {"S": "runbook"}},
               "ConditionExpression": "#o = :me",
               "ExpressionAttributeNames": {"#o": "owner"},
               "ExpressionAttributeValues": {":me": {"S.$": "$$.Execution.Id"}}}),
        Value::Null,
        next,
        next,
    )
}

/// How long a runbook execution may run at most (the definitions' `TimeoutSeconds`): past it
/// Step Functions ends the execution (TIMED_OUT), and its lock is free to take. Longer than
/// either runbook's bounded worst case.
pub const EXECUTION_TIMEOUT_SECONDS: u32 = 3600;

/// The lock's expiry: when the lock is held, the holder's execution is read; a holder that is
/// no longer RUNNING (stopped by hand, failed with an uncaught error, timed out at
/// [`EXECUTION_TIMEOUT_SECONDS`]) has left a stale lock, which is taken over with a conditional
/// write on that holder, so two executions that both find it stale cannot both take it. A lock
/// whose holder runs, or cannot be read, is held: the run alerts and ends `LockHeld`.
fn lock_expiry(
    i: &Inputs,
    s: &mut serde_json::Map<String, Value>,
    runbook: Runbook,
    acquired: &str,
) {
    let operation = runbook.name();
    let held = "AlertLockHeld";
    let mut alert = notify(
        i,
        &format!(
            "{} refused: another runbook execution holds the lock",
            runbook.title()
        ),
        &format!("{} Lock Held", runbook.title()),
    );
    alert["Next"] = json!("AlreadyRunning");
    s.insert(held.into(), alert);
    s.insert("AlreadyRunning".into(), json!({"Type": "Fail", "Error": "LockHeld", "Cause": "another runbook execution holds the lock and is still running"}));
    s.insert(
        "LockHolder".into(),
        guarded(
            json!({"Type": "Task", "Resource": cfn::arn::states_integration("dynamodb:getItem"),
                   "Parameters": {"TableName": i.lock_table, "Key": {"lock": {"S": "runbook"}}, "ConsistentRead": true},
                   "ResultSelector": {"owner.$": "$.Item.owner.S"},
                   "ResultPath": "$.lock"}),
            "LockHolderRuns",
            held,
        ),
    );
    s.insert(
        "LockHolderRuns".into(),
        guarded(
            json!({"Type": "Task", "Resource": sdk("sfn:describeExecution"),
                   "Parameters": {"ExecutionArn.$": "$.lock.owner"},
                   "ResultSelector": {"status.$": "$.Status"},
                   "ResultPath": "$.lock.holder"}),
            "LockStale",
            held,
        ),
    );
    s.insert(
        "LockStale".into(),
        json!({"Type": "Choice",
               "Choices": [{"Variable": "$.lock.holder.status", "StringEquals": "RUNNING", "Next": held}],
               "Default": "TakeOverLock"}),
    );
    s.insert(
        "TakeOverLock".into(),
        json!({
            "Type": "Task", "Resource": cfn::arn::states_integration("dynamodb:putItem"),
            "Parameters": {
                "TableName": i.lock_table,
                "Item": {"lock": {"S": "runbook"}, "owner": {"S.$": "$$.Execution.Id"}, "operation": {"S": operation},
                         "tookOverFrom": {"S.$": "$.lock.owner"}},
                "ConditionExpression": "#o = :stale",
                "ExpressionAttributeNames": {"#o": "owner"},
                "ExpressionAttributeValues": {":stale": {"S.$": "$.lock.owner"}}
            },
            "ResultPath": null,
            "Retry": [Retry::on(["DynamoDB.ProvisionedThroughputExceededException", "DynamoDB.ThrottlingException", "States.Timeout"]).every(1).attempts(5).backoff(2.0).to_json()],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": held}],
            "Next": acquired
        }),
    );
}

/// Takes the single-flight lock for `operation` (a conditional write that fails while another
/// execution holds it), retrying `retry_errors`, with `catch` deciding where failures go.
fn acquire_lock(
    i: &Inputs,
    operation: &str,
    retry_errors: &[&str],
    catch: Value,
    next: &str,
) -> Value {
    json!({
        "Type": "Task", "Resource": cfn::arn::states_integration("dynamodb:putItem"),
        "Parameters": {
            "TableName": i.lock_table,
            "Item": {"lock": {"S": "runbook"}, "owner": {"S.$": "$$.Execution.Id"}, "operation": {"S": operation}},
            "ConditionExpression": "attribute_not_exists(#l)",
            "ExpressionAttributeNames": {"#l": "lock"}
        },
        "ResultPath": null,
        "Retry": [Retry::on(retry_errors.iter().copied()).every(1).attempts(5).backoff(2.0).to_json()],
        "Catch": catch,
        "Next": next
    })
}

/// The dry-run path (input `{"dryRun": true}`): reads what the runbook would decide on (the
/// `alarms`, the switch, the global database's writer, the lock, the service) and ends with
/// that report as the output. It changes nothing and does not take the lock.
fn preflight(i: &Inputs, s: &mut serde_json::Map<String, Value>, alarms: &[&str], run: &str) {
    s.insert(
        "Mode".into(),
        json!({
            "Type": "Choice",
            "Comment": "input {\"dryRun\": true}: report the preconditions, change nothing",
            "Choices": [{"And": [
                {"Variable": "$.dryRun", "IsPresent": true},
                {"Variable": "$.dryRun", "BooleanEquals": true}
            ], "Next": "PreflightExpect"}],
            "Default": run
        }),
    );
    s.insert(
        "PreflightExpect".into(),
        json!({"Type": "Pass", "Result": {"signals": alarms, "switch": i.switch_alarm},
               "ResultPath": "$.preflight.expect", "Next": "PreflightAlarms"}),
    );
    let mut names: Vec<&str> = alarms.to_vec();
    names.push(&i.switch_alarm);
    let steps = [
        (
            "PreflightAlarms",
            sdk("cloudwatch:describeAlarms"),
            json!({"AlarmNames": names}),
            json!({"names.$": "$.MetricAlarms[*].AlarmName", "states.$": "$.MetricAlarms[*].StateValue"}),
            "$.preflight.alarms",
            "PreflightDatabase",
        ),
        (
            "PreflightDatabase",
            sdk("rds:describeGlobalClusters"),
            json!({"GlobalClusterIdentifier": i.global_cluster}),
            json!({"status.$": "$.GlobalClusters[0].Status",
                   "writers.$": WRITERS,
                   "unsynchronized.$": UNSYNCHRONIZED}),
            "$.preflight.database",
            "PreflightLock",
        ),
        (
            "PreflightLock",
            cfn::arn::states_integration("dynamodb:getItem"),
            json!({"TableName": i.lock_table, "Key": {"lock": {"S": "runbook"}}, "ConsistentRead": true}),
            Value::Null,
            "$.preflight.lock",
            "PreflightService",
        ),
        (
            "PreflightService",
            sdk("ecs:describeServices"),
            json!({"Cluster": i.ecs.0, "Services": [i.ecs.1]}),
            json!({"desired.$": "$.Services[0].DesiredCount", "running.$": "$.Services[0].RunningCount"}),
            "$.preflight.service",
            "PreflightReport",
        ),
    ];
    for (name, resource, parameters, selector, path, next) in steps {
        let mut t = task(&resource, parameters, json!(path), next, "PreflightFailed");
        if !selector.is_null() {
            t["ResultSelector"] = selector;
        }
        s.insert(name.into(), t);
    }
    s.insert(
        "PreflightReport".into(),
        json!({"Type": "Succeed", "OutputPath": "$.preflight", "Comment": "dry run: nothing changed"}),
    );
    s.insert(
        "PreflightFailed".into(),
        json!({"Type": "Fail", "Error": "PreflightFailed", "Cause": "a precondition could not be read; nothing changed"}),
    );
}

/// The failover definition.
pub fn failover_definition(i: &Inputs) -> Value {
    let mut s = serde_json::Map::new();
    preflight(
        i,
        &mut s,
        &[&i.outage_alarms[0], &i.outage_alarms[1]],
        state::ACQUIRE_LOCK,
    );
    s.insert(
        state::ACQUIRE_LOCK.into(),
        acquire_lock(
            i,
            "failover",
            &[
                "DynamoDB.ProvisionedThroughputExceededException",
                "DynamoDB.ThrottlingException",
                "States.Timeout",
            ],
            json!([
                {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.error", "Next": "LockHolder"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "AlertNotStarted"}
            ]),
            "CheckOutsideIn",
        ),
    );
    lock_expiry(i, &mut s, Runbook::Failover, "CheckOutsideIn");
    s.insert(
        "AlertNotStarted".into(),
        notify(i, "Failover could not start", "Failover Not Started"),
    );
    s.get_mut("AlertNotStarted").unwrap()["Next"] = json!("NotStarted");
    s.insert("NotStarted".into(), json!({"Type": "Fail", "Error": "LockUnavailable", "Cause": "the lock table could not be written"}));
    for (state, alarm, field, next) in [
        (
            "CheckOutsideIn",
            &i.outage_alarms[0],
            "outsideIn",
            "CheckReplication",
        ),
        (
            "CheckReplication",
            &i.outage_alarms[1],
            "replication",
            "Confirmed",
        ),
    ] {
        s.insert(
            state.into(),
            guarded(
                alarm_state(alarm, &format!("$.signals.{field}")),
                next,
                "NotChecked",
            ),
        );
    }
    s.insert(
        "Confirmed".into(),
        json!({
            "Type": "Choice",
            "Choices": [
                {"And": [
                    {"Variable": "$.signals.outsideIn.state", "StringEquals": "ALARM"},
                    {"Variable": "$.signals.replication.state", "StringEquals": "ALARM"}
                ], "Next": state::CHECK_WRITER},
                {"And": [
                    {"Variable": "$.force", "IsPresent": true},
                    {"Variable": "$.force", "BooleanEquals": true}
                ], "Next": state::CHECK_WRITER}
            ],
            "Default": "NotConfirmed"
        }),
    );
    s.insert("NotConfirmed".into(), release_lock(i, state::NO_OUTAGE));
    s.insert(
        state::NO_OUTAGE.into(),
        json!({"Type": "Succeed", "Comment": "the two signals did not agree: nothing changed"}),
    );
    // Nothing changed yet: a failure here releases the lock and alerts, and undoes nothing (a
    // run after a completed failover must not move traffic back).
    s.insert("NotChecked".into(), release_lock(i, "AlertNotChecked"));
    let mut not_checked = notify(
        i,
        "Failover could not check the outage: nothing changed",
        "Failover Not Checked",
    );
    not_checked["Next"] = json!("OutageNotChecked");
    s.insert("AlertNotChecked".into(), not_checked);
    s.insert("OutageNotChecked".into(), json!({"Type": "Fail", "Error": "OutageNotChecked", "Cause": "the signals or the global database could not be read; nothing changed"}));
    // Idempotent: when the recovery cluster already writes (an earlier run promoted it), the
    // run re-asserts what follows promotion instead of failing over again.
    s.insert(
        state::CHECK_WRITER.into(),
        guarded(writers(i, "$.before"), "AlreadyPromoted", "NotChecked"),
    );
    s.insert(
        "AlreadyPromoted".into(),
        json!({
            "Type": "Choice",
            "Choices": [{"And": [
                {"Variable": "$.before.writers[0]", "IsPresent": true},
                {"Variable": "$.before.writers[0]", "StringEquals": i.recovery_cluster_arn}
            ], "Next": "EnsureSwitch"}],
            "Default": "FlipSwitch"
        }),
    );
    // Before promotion, traffic and capacity move first: the primary is confirmed down, the
    // warm tasks serve reads at once, and new tasks start while the database promotes. A
    // failure before promotion undoes both.
    s.insert(
        "FlipSwitch".into(),
        set_switch(i, 1, "ScaleUp", "UndoBeforePromotion"),
    );
    s.insert(
        "ScaleUp".into(),
        floor(i, i.counts.0, "ScaleUpTasks", "UndoBeforePromotion"),
    );
    s.insert(
        "ScaleUpTasks".into(),
        scale(i, i.counts.0, "PromoteHow", "UndoBeforePromotion"),
    );
    s.insert(
        "EnsureSwitch".into(),
        set_switch(i, 1, "EnsureCapacity", "AlertAfterPromotion"),
    );
    s.insert(
        "EnsureCapacity".into(),
        floor(i, i.counts.0, "EnsureTasks", "AlertAfterPromotion"),
    );
    s.insert(
        "EnsureTasks".into(),
        scale(i, i.counts.0, state::MARK_ACTIVE, "AlertAfterPromotion"),
    );
    // A graceful run (input {"graceful": true}: a drill, a planned move) switches over with no
    // data loss; otherwise the failover allows it. Only transient errors are retried: a refusal
    // (the global database in another operation, a member missing) is not, and is re-read
    // before anything is undone.
    s.insert(
        "PromoteHow".into(),
        json!({"Type": "Choice", "Choices": [{"And": [
            {"Variable": "$.graceful", "IsPresent": true},
            {"Variable": "$.graceful", "BooleanEquals": true}
        ], "Next": "PromoteGracefully"}], "Default": state::PROMOTE}),
    );
    for (name, action, parameters) in [
        (
            state::PROMOTE,
            "rds:failoverGlobalCluster",
            json!({"GlobalClusterIdentifier": i.global_cluster, "TargetDbClusterIdentifier": i.recovery_cluster_arn, "AllowDataLoss": true}),
        ),
        (
            "PromoteGracefully",
            "rds:switchoverGlobalCluster",
            json!({"GlobalClusterIdentifier": i.global_cluster, "TargetDbClusterIdentifier": i.recovery_cluster_arn}),
        ),
    ] {
        s.insert(
            name.into(),
            cfn::states::guarded(
                json!({"Type": "Task", "Resource": sdk(action), "Parameters": parameters, "ResultPath": null}),
                &[transient_rds()],
                &[Catch::on(["States.ALL"], "PromotionRefused").keep_error_at("$.error")],
                Then::Next(&PollState::Start.of(poll::PROMOTION)),
            ),
        );
    }
    // Undo only what is still true: a refused promotion re-reads the global database. A
    // promotion under way (this run's, an earlier run's, the console's) or done is never
    // undone: the run waits for it. One that cannot be read is not undone either.
    s.insert(
        "PromotionRefused".into(),
        guarded(
            json!({"Type": "Task", "Resource": sdk("rds:describeGlobalClusters"),
                   "Parameters": {"GlobalClusterIdentifier": i.global_cluster},
                   "ResultSelector": {"cluster.$": "$.GlobalClusters[0]", "writers.$": WRITERS},
                   "ResultPath": "$.refused"}),
            "PromotionUnderWay",
            "AlertAfterPromotion",
        ),
    );
    s.insert(
        "PromotionUnderWay".into(),
        json!({"Type": "Choice", "Choices": [
            {"And": [
                {"Variable": "$.refused.writers[0]", "IsPresent": true},
                {"Variable": "$.refused.writers[0]", "StringEquals": i.recovery_cluster_arn}
            ], "Next": state::MARK_ACTIVE},
            {"Variable": "$.refused.cluster.FailoverState", "IsPresent": true, "Next": PollState::Start.of(poll::PROMOTION)}
        ], "Default": "UndoBeforePromotion"}),
    );
    // AWS: after FailoverGlobalCluster the secondary "typically" becomes the primary "within a
    // few minutes" (Aurora User Guide, "Using failover in an Amazon Aurora global database").
    // Four minutes, then an alert and four more: the run records the state whenever the
    // promotion completes within eight, and the worst case stays inside the 15-minute
    // objective with room for throttling (`cargo xtask rto`).
    poll(
        &mut s,
        poll::PROMOTION,
        10,
        24,
        writers(i, "$.promotion"),
        json!({"Variable": "$.promotion.writers[0]", "StringEquals": i.recovery_cluster_arn}),
        state::MARK_ACTIVE,
        "AlertPromotionSlow",
        "AlertAfterPromotion",
    );
    let mut slow = notify(
        i,
        "Failover: promotion still running after 4 minutes; still waiting",
        "Failover Promotion Slow",
    );
    slow["Next"] = json!(PollState::Start.of(poll::PROMOTION_LATE));
    s.insert("AlertPromotionSlow".into(), slow);
    poll(
        &mut s,
        poll::PROMOTION_LATE,
        10,
        24,
        writers(i, "$.promotion"),
        json!({"Variable": "$.promotion.writers[0]", "StringEquals": i.recovery_cluster_arn}),
        state::MARK_ACTIVE,
        "AlertPromotionTimedOut",
        "AlertAfterPromotion",
    );
    s.insert(
        state::MARK_ACTIVE.into(),
        put_parameter(
            &i.active_region_parameter,
            &i.regions.1,
            &PollState::Start.of(poll::VERIFY),
            "AlertAfterPromotion",
        ),
    );
    // The application learns it runs after a failover once traffic is confirmed in us-east-2.
    s.insert(
        "SetFailoverFlag".into(),
        put_parameter(
            &i.failover_flag_parameter,
            "true",
            &PollState::Start.of(poll::STEADY),
            "AlertAfterPromotion",
        ),
    );
    poll(
        &mut s,
        poll::STEADY,
        15,
        12,
        json!({"Type": "Task", "Resource": sdk("ecs:describeServices"),
               "Parameters": {"Cluster": i.ecs.0, "Services": [i.ecs.1]},
               "ResultSelector": {"running.$": "$.Services[0].RunningCount"},
               "ResultPath": "$.service"}),
        json!({"Variable": "$.service.running", "NumericGreaterThanEquals": i.counts.0}),
        state::NOTIFY_DONE,
        "AlertAfterPromotion",
        "AlertAfterPromotion",
    );
    poll(
        &mut s,
        poll::VERIFY,
        15,
        8,
        alarm_state(&i.switch_alarm, "$.switch"),
        json!({"Variable": "$.switch.state", "StringEquals": "ALARM"}),
        "SetFailoverFlag",
        "AlertAfterPromotion",
        "AlertAfterPromotion",
    );
    let mut done = notify(
        i,
        "Failover complete: us-east-2 serves",
        "Failover Completed",
    );
    done["Next"] = json!("ReleaseLock");
    s.insert(state::NOTIFY_DONE.into(), done);
    s.insert("ReleaseLock".into(), release_lock(i, "Done"));
    s.insert("Done".into(), json!({"Type": "Succeed"}));

    // Before promotion: undo the switch and the capacity, release the lock, alert.
    s.insert(
        "UndoBeforePromotion".into(),
        set_switch(i, 0, "UndoScale", "UndoScale"),
    );
    s.insert(
        "UndoScale".into(),
        floor(i, i.counts.1, "UndoTasks", "UndoTasks"),
    );
    s.insert(
        "UndoTasks".into(),
        scale(i, i.counts.1, "UndoLock", "UndoLock"),
    );
    s.insert("UndoLock".into(), release_lock(i, "AlertRolledBack"));
    let mut rolled_back = notify(
        i,
        "Failover failed before promotion; rolled back",
        "Failover Rolled Back",
    );
    rolled_back["Next"] = json!("RolledBack");
    s.insert("AlertRolledBack".into(), rolled_back);
    s.insert("RolledBack".into(), json!({"Type": "Fail", "Error": "FailoverRolledBack", "Cause": "a step failed before promotion; the switch and capacity were restored"}));

    // After promotion: never demote; say how far it got.
    let mut timed_out = notify(
        i,
        "Failover: promotion did not complete in 8 minutes; finish by hand",
        "Failover Promotion Timed Out",
    );
    timed_out["Next"] = json!("AfterPromotionLock");
    s.insert("AlertPromotionTimedOut".into(), timed_out);
    let mut after = notify(
        i,
        "Failover stopped after promotion: finish by hand",
        "Failover Incomplete",
    );
    after["Next"] = json!("AfterPromotionLock");
    s.insert("AlertAfterPromotion".into(), after);
    s.insert("AfterPromotionLock".into(), release_lock(i, "Incomplete"));
    s.insert("Incomplete".into(), json!({"Type": "Fail", "Error": "FailoverIncomplete", "Cause": "the database was promoted but a later step failed; see the alert for the state reached"}));

    unique_branch_names(&mut s);
    json!({
        "Comment": "Fail over from us-east-1 to us-east-2, calling only us-east-2 APIs",
        "TimeoutSeconds": EXECUTION_TIMEOUT_SECONDS,
        "StartAt": "Mode",
        "States": Value::Object(s)
    })
}

/// The failback definition (planned, no data loss).
pub fn failback_definition(i: &Inputs) -> Value {
    let mut s = serde_json::Map::new();
    preflight(i, &mut s, &[&i.outage_alarms[0]], state::ACQUIRE_LOCK);
    s.insert(
        state::ACQUIRE_LOCK.into(),
        acquire_lock(
            i,
            "failback",
            &["DynamoDB.ThrottlingException", "States.Timeout"],
            json!([
                {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.error", "Next": "LockHolder"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotStarted"}
            ]),
            "CheckPrimary",
        ),
    );
    lock_expiry(i, &mut s, Runbook::Failback, "CheckPrimary");
    s.insert("NotStarted".into(), json!({"Type": "Fail", "Error": "LockUnavailable", "Cause": "the lock table could not be written: nothing changed"}));
    s.insert(
        "CheckPrimary".into(),
        guarded(
            alarm_state(&i.outage_alarms[0], "$.primary"),
            "PrimaryHealthy",
            "Alert",
        ),
    );
    s.insert("PrimaryHealthy".into(), json!({
        "Type": "Choice",
        "Choices": [{"Variable": "$.primary.state", "StringEquals": "OK", "Next": "CheckRejoined"}],
        "Default": "NotHealthy"
    }));
    // Only onto a rejoined primary: after a failover with data loss AWS rebuilds the old
    // primary's storage before it rejoins as a secondary ("a few minutes to several hours"),
    // and SwitchoverGlobalCluster is refused until every member is synchronized. The global
    // database must be available, us-east-2 its writer, and no member unsynchronized.
    s.insert(
        "CheckRejoined".into(),
        guarded(
            json!({"Type": "Task", "Resource": sdk("rds:describeGlobalClusters"),
                   "Parameters": {"GlobalClusterIdentifier": i.global_cluster},
                   "ResultSelector": {
                       "status.$": "$.GlobalClusters[0].Status",
                       "writers.$": WRITERS,
                       "unsynchronized.$": UNSYNCHRONIZED
                   },
                   "ResultPath": "$.rejoin"}),
            "Rejoined",
            "Alert",
        ),
    );
    s.insert(
        "Rejoined".into(),
        json!({
            "Type": "Choice",
            "Choices": [{"And": [
                {"Variable": "$.rejoin.status", "StringEquals": "available"},
                {"Variable": "$.rejoin.writers[0]", "IsPresent": true},
                {"Variable": "$.rejoin.writers[0]", "StringEquals": i.recovery_cluster_arn},
                {"Not": {"Variable": "$.rejoin.unsynchronized[0]", "IsPresent": true}}
            ], "Next": "Switchover"}],
            "Default": "NotRejoined"
        }),
    );
    s.insert("NotRejoined".into(), release_lock(i, "PrimaryNotRejoined"));
    s.insert("PrimaryNotRejoined".into(), json!({"Type": "Fail", "Error": "PrimaryNotRejoined", "Cause": "us-east-1 is not a synchronized secondary of an available global database yet (after a failover with data loss AWS rebuilds it first: minutes to hours): nothing changed. Run failback again once status says global-database ok"}));
    s.insert("NotHealthy".into(), release_lock(i, "PrimaryNotHealthy"));
    s.insert("PrimaryNotHealthy".into(), json!({"Type": "Fail", "Error": "PrimaryNotHealthy", "Cause": "the outside-in canary does not say the primary region serves (OK): nothing changed"}));
    s.insert(
        "Switchover".into(),
        cfn::states::guarded(
            json!({"Type": "Task", "Resource": sdk("rds:switchoverGlobalCluster"),
                   "Parameters": {"GlobalClusterIdentifier": i.global_cluster, "TargetDbClusterIdentifier": i.primary_cluster_arn},
                   "ResultPath": null}),
            &[transient_rds()],
            &[Catch::on(["States.ALL"], "Alert").keep_error_at("$.error")],
            Then::Next(&PollState::Start.of(poll::SWITCHOVER)),
        ),
    );
    poll(
        &mut s,
        poll::SWITCHOVER,
        10,
        60,
        writers(i, "$.switchover"),
        json!({"Variable": "$.switchover.writers[0]", "StringEquals": i.primary_cluster_arn}),
        "SwitchOff",
        "Alert",
        "Alert",
    );
    s.insert(
        "SwitchOff".into(),
        set_switch(i, 0, "MarkPrimaryActive", "Alert"),
    );
    s.insert(
        "MarkPrimaryActive".into(),
        put_parameter(
            &i.active_region_parameter,
            &i.regions.0,
            "ClearFailoverFlag",
            "Alert",
        ),
    );
    s.insert(
        "ClearFailoverFlag".into(),
        put_parameter(
            &i.failover_flag_parameter,
            "false",
            &PollState::Start.of(poll::TRAFFIC_BACK),
            "Alert",
        ),
    );
    // us-east-2 keeps its capacity until traffic has left: the switch's alarm back to OK, then
    // Route 53's health checkers and the answers' TTL (TRAFFIC_LEAVES_SECONDS).
    poll(
        &mut s,
        poll::TRAFFIC_BACK,
        15,
        8,
        alarm_state(&i.switch_alarm, "$.switch"),
        json!({"Variable": "$.switch.state", "StringEquals": "OK"}),
        "TrafficLeaves",
        "Alert",
        "Alert",
    );
    s.insert(
        "TrafficLeaves".into(),
        json!({"Type": "Wait", "Seconds": TRAFFIC_LEAVES_SECONDS, "Next": "ScaleToWarm",
               "Comment": "Route 53 sees the switch healthy and clients' answers expire before capacity is lowered"}),
    );
    s.insert(
        "ScaleToWarm".into(),
        floor(i, i.counts.1, "ScaleToWarmTasks", "Alert"),
    );
    s.insert(
        "ScaleToWarmTasks".into(),
        scale(i, i.counts.1, state::NOTIFY_DONE, "Alert"),
    );
    let mut done = notify(
        i,
        "Failback complete: us-east-1 serves",
        "Failback Completed",
    );
    done["Next"] = json!("Release");
    s.insert(state::NOTIFY_DONE.into(), done);
    let mut alert = notify(
        i,
        "Failback stopped: see the state reached",
        "Failback Incomplete",
    );
    alert["Next"] = json!("AlertRelease");
    s.insert("Alert".into(), alert);
    s.insert("AlertRelease".into(), release_lock(i, "Incomplete"));
    s.insert("Incomplete".into(), json!({"Type": "Fail", "Error": "FailbackIncomplete", "Cause": "a failback step failed; see the alert for the state reached"}));
    s.insert("Release".into(), release_lock(i, "Done"));
    s.insert("Done".into(), json!({"Type": "Succeed"}));
    unique_branch_names(&mut s);
    json!({
        "Comment": "Fail back from us-east-2 to us-east-1 (planned switchover, no data loss)",
        "TimeoutSeconds": EXECUTION_TIMEOUT_SECONDS,
        "StartAt": "Mode",
        "States": Value::Object(s)
    })
}

fn id(s: &str) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

/// Properties of the runbooks.
#[derive(Clone, Debug)]
pub struct RunbookProps {
    /// Names the machines, roles, table and rule (in the recovery region). Required.
    pub namer: Namer,
    /// The definitions' inputs. Required.
    pub inputs: Inputs,
    /// ARN of the region's key (lock table, logs). Required.
    pub key_arn: Expr,
    /// Days execution logs are kept. Required.
    pub log_retention_days: u32,
    /// The composite alarm that starts failover. Required.
    pub trigger_alarm: String,
    /// The alert topic (its `Ref`): the alarms on failed executions notify it.
    pub topic: Expr,
    /// What the trigger is made after: the composite alarm (whose state changes it reacts to,
    /// by name only), so that it never sees the alarm judge a stack whose sources do not exist
    /// yet. Empty: nothing more than its own references.
    pub trigger_after: Vec<cfn::LogicalId>,
}

/// What the state machines may do besides using their lock table and logging: exactly the
/// calls the definitions make, on the resources `i` names in the recovery region, and the
/// region's key (`key_arn`) for the topic and the bus.
pub fn grants(i: &Inputs, key_arn: &Expr) -> Vec<Statement> {
    let here = i.regions.1.as_str();
    let in_here =
        |service: &str, resource: String| Arn::new(service, resource).in_region(here).expr();
    let alarms = [&i.outage_alarms[0], &i.outage_alarms[1], &i.switch_alarm]
        .map(|a| in_here("cloudwatch", format!("alarm:{a}")));
    vec![
        Statement::allow(["cloudwatch:DescribeAlarms"], alarms),
        // PutMetricData has no resource-level permissions; the namespace condition limits it.
        Statement::allow(["cloudwatch:PutMetricData"], [Expr::from("*")]).condition(
            "StringEquals",
            "cloudwatch:namespace",
            i.switch_metric.0.as_str(),
        ),
        Statement::allow(
            [
                "rds:DescribeGlobalClusters",
                "rds:FailoverGlobalCluster",
                "rds:SwitchoverGlobalCluster",
            ],
            [
                Arn::new("rds", format!("global-cluster:{}", i.global_cluster))
                    .without_region()
                    .expr(),
                Expr::sub(i.recovery_cluster_arn.clone()),
                Expr::sub(i.primary_cluster_arn.clone()),
            ],
        ),
        Statement::allow(
            ["ssm:PutParameter"],
            [&i.active_region_parameter, &i.failover_flag_parameter]
                .map(|name| in_here("ssm", format!("parameter{name}"))),
        ),
        Statement::allow(
            ["ecs:DescribeServices", "ecs:UpdateService"],
            [in_here("ecs", format!("service/{}/{}", i.ecs.0, i.ecs.1))],
        ),
        // A scalable target's ARN ends in an id Application Auto Scaling generates, so the
        // region and account are as narrow as it gets.
        Statement::allow(
            ["application-autoscaling:RegisterScalableTarget"],
            [in_here(
                "application-autoscaling",
                "scalable-target/*".to_string(),
            )],
        ),
        Statement::allow(["sns:Publish"], [Expr::sub(i.topic_arn.clone())]),
        Statement::allow(["kms:Decrypt", "kms:GenerateDataKey"], [key_arn.clone()]),
        Statement::allow(
            ["events:PutEvents"],
            [in_here("events", format!("event-bus/{}", i.bus))],
        ),
    ]
}

/// The runbooks' resources: the lock table, both state machines, and the trigger.
pub struct Runbooks {
    /// The lock table.
    pub lock_table: Handle<dynamodb::Table>,
    /// The failover state machine.
    pub failover: Handle<stepfunctions::StateMachine>,
    /// The failback state machine.
    pub failback: Handle<stepfunctions::StateMachine>,
}

/// Builds the lock table, both state machines (logged, traced), and the rule that starts
/// failover from the composite alarm.
pub fn build(props: &RunbookProps) -> Result<(Fragment, Runbooks), Error> {
    let n = &props.namer;
    let mut f = Fragment::new();
    let table = f.add(
        id("RunbookLockTable")?,
        dynamodb::Table::new()
            .table_name(props.inputs.lock_table.as_str())
            .billing_mode("PAY_PER_REQUEST")
            .attribute_definitions(vec![
                dynamodb::table::AttributeDefinition::new()
                    .attribute_name("lock")
                    .attribute_type("S"),
            ])
            .key_schema(vec![
                dynamodb::table::KeySchema::new()
                    .attribute_name("lock")
                    .key_type("HASH"),
            ])
            .sse_specification(
                dynamodb::table::SseSpecification::new()
                    .sse_enabled(true)
                    .sse_type("KMS")
                    .kms_master_key_id(props.key_arn.clone()),
            )
            .point_in_time_recovery_specification(
                dynamodb::table::PointInTimeRecoverySpecification::new()
                    .point_in_time_recovery_enabled(true),
            ),
    )?;
    let group = f.add(
        id("RunbookLogs")?,
        logs::LogGroup::new()
            .log_group_name(n.name(&naming::STATE_MACHINE_LOGS, Some("runbook")))
            .kms_key_id(props.key_arn.clone())
            .retention_in_days(props.log_retention_days),
    )?;
    let mut statements = grants(&props.inputs, &props.key_arn);
    statements.push(Statement::allow(
        [
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
        ],
        [table.attr_arn()],
    ));
    // The lock's expiry reads the holder's execution: an execution of either runbook.
    statements.push(Statement::allow(
        ["states:DescribeExecution"],
        [Runbook::Failover, Runbook::Failback].map(|r| {
            Arn::new(
                "states",
                format!("execution:{}:*", n.name(&naming::RUNBOOK, Some(r.name()))),
            )
            .in_region(props.inputs.regions.1.as_str())
            .expr()
        }),
    ));
    statements.push(cfn::iam::state_machine_observability());
    let role = f.add(
        id("RunbookRole")?,
        iam::Role::new()
            .role_name(n.name(&naming::RUNBOOK_ROLE, None))
            .description("Runs the failover and failback state machines")
            .assume_role_policy_document(assume_role_by("states.amazonaws.com"))
            .policies(vec![
                iam::role::Policy::new()
                    .policy_name("run-runbooks")
                    .policy_document(policy(statements)),
            ]),
    )?;
    let machine = |f: &mut Fragment, runbook: Runbook, definition: Value| {
        f.add(
            id(runbook.logical_id())?,
            cfn::states::machine(
                n.name(&naming::RUNBOOK, Some(runbook.name())),
                role.attr_arn(),
                // ARNs in the definitions carry ${AWS::AccountId} and ${AWS::Partition}.
                Expr::sub(serde_json::to_string(&definition).expect("JSON")),
                group.attr_arn(),
                cfn::states::Logging::Everything,
            ),
        )
    };
    let failover = machine(
        &mut f,
        Runbook::Failover,
        failover_definition(&props.inputs),
    )?;
    let failback = machine(
        &mut f,
        Runbook::Failback,
        failback_definition(&props.inputs),
    )?;

    let trigger_role = f.add(
        id("FailoverTriggerRole")?,
        iam::Role::new()
            .role_name(n.name(&naming::RUNBOOK_ROLE, Some("trigger")))
            .description("Lets EventBridge start failover when the primary-failure alarm fires")
            .assume_role_policy_document(assume_role_by("events.amazonaws.com"))
            .policies(vec![
                iam::role::Policy::new()
                    .policy_name("start-failover")
                    .policy_document(policy([Statement::allow(
                        ["states:StartExecution"],
                        [failover.reference()],
                    )])),
            ]),
    )?;
    let pattern: BTreeMap<&str, Expr> = BTreeMap::from([
        ("source", Expr::list(["aws.cloudwatch"])),
        ("detail-type", Expr::list(["CloudWatch Alarm State Change"])),
        (
            "detail",
            Expr::map([
                ("alarmName", Expr::list([props.trigger_alarm.as_str()])),
                ("state", Expr::map([("value", Expr::list(["ALARM"]))])),
            ]),
        ),
    ]);
    let trigger = f.add(
        id("FailoverTrigger")?,
        events::Rule::new()
            .name(n.name(&naming::RUNBOOK, Some("trigger")))
            .description("Starts failover when the primary-failure composite alarm fires")
            .event_bus_name("default")
            .state("ENABLED")
            .event_pattern(Expr::map(pattern))
            .targets(vec![
                events::rule::Target::new()
                    .id("failover")
                    .arn(failover.reference())
                    .role_arn(trigger_role.attr_arn()),
            ]),
    )?;
    for after in &props.trigger_after {
        f.depends_on(trigger.id(), after);
    }
    // An execution of either runbook that fails, times out or is stopped pages through the
    // alert topic, whichever way it ended (an uncaught States.Runtime, a stop by hand, LockHeld).
    for (machine, runbook) in [
        (&failover, Runbook::Failover),
        (&failback, Runbook::Failback),
    ] {
        let metric = |id: &str, name: &str| {
            cloudwatch::alarm::MetricDataQuery::new()
                .id(id)
                .return_data(false)
                .metric_stat(
                    cloudwatch::alarm::MetricStat::new()
                        .metric(
                            cloudwatch::alarm::Metric::new()
                                .namespace("AWS/States")
                                .metric_name(name)
                                .dimensions(vec![
                                    cloudwatch::alarm::Dimension::new()
                                        .name("StateMachineArn")
                                        .value(machine.reference()),
                                ]),
                        )
                        .period(60)
                        .stat("Sum"),
                )
        };
        f.add(
            id(&format!("{}EndedBadlyAlarm", runbook.title()))?,
            cloudwatch::Alarm::new()
                .alarm_name(n.name(&naming::CANARY_ALARM, Some(&format!("{}-ended-badly", runbook.name()))))
                .alarm_description(format!(
                    "An execution of the {} runbook failed, timed out or was stopped: read its history",
                    runbook.name()
                ))
                .metrics(vec![
                    metric("failed", "ExecutionsFailed"),
                    metric("timedout", "ExecutionsTimedOut"),
                    metric("aborted", "ExecutionsAborted"),
                    cloudwatch::alarm::MetricDataQuery::new()
                        .id("ended")
                        .expression("failed + timedout + aborted")
                        .label("executions that ended badly")
                        .return_data(true),
                ])
                .evaluation_periods(1)
                .threshold(1.0)
                .comparison_operator("GreaterThanOrEqualToThreshold")
                .treat_missing_data("notBreaching")
                .alarm_actions(vec![props.topic.clone()]),
        )?;
    }
    f.output(
        id(Runbook::Failover.output())?,
        "Starts failover",
        failover.reference(),
    )?;
    f.output(
        id(Runbook::Failback.output())?,
        "Starts failback",
        failback.reference(),
    )?;
    Ok((
        f,
        Runbooks {
            lock_table: table,
            failover,
            failback,
        },
    ))
}

/// The AWS API calls of a definition (`service:action`), every state included.
pub fn api_calls(definition: &Value) -> Vec<String> {
    let mut calls = Vec::new();
    fn walk(states: &Value, calls: &mut Vec<String>) {
        for state in states.as_object().into_iter().flat_map(|m| m.values()) {
            if let Some(resource) = state["Resource"].as_str() {
                let call = cfn::arn::states_api(resource)
                    .unwrap_or(resource)
                    .to_string();
                calls.push(call);
            }
            for branch in state["Branches"].as_array().into_iter().flatten() {
                walk(&branch["States"], calls);
            }
        }
    }
    walk(&definition["States"], &mut calls);
    calls
}
