//! Static checks over the runbook definitions that are in the secondary template: every state
//! reachable, every path ends, every task retries and catches, no call to a control plane that
//! lives in us-east-1, and every resource named exists in the stack.

use std::collections::{BTreeMap, BTreeSet};

use cfn::testing::resources_of;
use serde_json::Value;

/// The definitions in the template, by logical id.
fn definitions(template: &Value) -> BTreeMap<String, Value> {
    resources_of(template, "AWS::StepFunctions::StateMachine")
        .into_iter()
        .filter(|(id, _)| id.starts_with("Fail"))
        .map(|(id, r)| {
            let text = r["Properties"]["DefinitionString"]["Fn::Sub"]
                .as_str()
                .expect("runbook definitions are Fn::Sub strings");
            (
                id.clone(),
                serde_json::from_str(text).expect("definitions are JSON"),
            )
        })
        .collect()
}

/// The states a state can go to next.
fn exits(state: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |v: &Value| {
        if let Some(s) = v.as_str() {
            out.push(s.to_string());
        }
    };
    push(&state["Next"]);
    push(&state["Default"]);
    for c in state["Choices"].as_array().into_iter().flatten() {
        push(&c["Next"]);
    }
    for c in state["Catch"].as_array().into_iter().flatten() {
        push(&c["Next"]);
    }
    out
}

fn terminal(state: &Value) -> bool {
    state["End"] == true || state["Type"] == "Succeed" || state["Type"] == "Fail"
}

/// Every state name of a machine, branches included (Step Functions wants them unique).
fn all_names(machine: &Value, names: &mut Vec<String>) {
    for (k, st) in machine["States"].as_object().into_iter().flatten() {
        names.push(k.clone());
        for branch in st["Branches"].as_array().into_iter().flatten() {
            all_names(branch, names);
        }
    }
}

/// Checks one state machine (or branch) and its branches; returns the problems.
fn check_machine(name: &str, machine: &Value, problems: &mut Vec<String>) {
    let states = machine["States"].as_object().expect("States");
    let start = machine["StartAt"].as_str().expect("StartAt");
    // Reachable from StartAt.
    let mut seen = BTreeSet::new();
    let mut todo = vec![start.to_string()];
    while let Some(s) = todo.pop() {
        if !seen.insert(s.clone()) {
            continue;
        }
        match states.get(&s) {
            None => problems.push(format!("{name}: {s} is named but not defined")),
            Some(state) => todo.extend(exits(state)),
        }
    }
    for s in states.keys() {
        if !seen.contains(s) {
            problems.push(format!("{name}: {s} is unreachable"));
        }
    }
    // Every state can reach an end.
    let mut ends: BTreeSet<String> = states
        .iter()
        .filter(|(_, st)| terminal(st))
        .map(|(k, _)| k.clone())
        .collect();
    loop {
        let before = ends.len();
        for (k, st) in states {
            if exits(st).iter().any(|e| ends.contains(e)) {
                ends.insert(k.clone());
            }
        }
        if ends.len() == before {
            break;
        }
    }
    for s in states.keys() {
        if !ends.contains(s) {
            problems.push(format!("{name}: no path from {s} ends"));
        }
    }
    for (k, st) in states {
        if st["Type"] == "Task" {
            if !st["Retry"].is_array() {
                problems.push(format!("{name}: task {k} has no Retry"));
            }
            if !st["Catch"].is_array() {
                problems.push(format!("{name}: task {k} has no Catch"));
            }
            let resource = st["Resource"].as_str().unwrap_or_default();
            for banned in ["route53", ":iam:", "organizations", "us-east-1"] {
                if resource.contains(banned) {
                    problems.push(format!("{name}: task {k} calls {resource}"));
                }
            }
        }
        if st["Type"] == "Wait" && st["Seconds"].as_u64().is_none() {
            problems.push(format!("{name}: wait {k} is not bounded"));
        }
        for (i, branch) in st["Branches"].as_array().into_iter().flatten().enumerate() {
            check_machine(&format!("{name}/{k}[{i}]"), branch, problems);
        }
    }
}

#[test]
fn runbook_definitions_pass_the_static_checks() {
    for suffix in tests::ENVIRONMENTS {
        let s = tests::synth(suffix);
        let secondary = tests::json(&s.secondary);
        let machines = definitions(&secondary);
        assert_eq!(
            machines.keys().collect::<Vec<_>>(),
            ["FailbackStateMachine", "FailoverStateMachine"]
        );
        let mut problems = Vec::new();
        for (name, def) in &machines {
            check_machine(name, def, &mut problems);
            let mut names = Vec::new();
            all_names(def, &mut names);
            let unique: BTreeSet<&String> = names.iter().collect();
            if unique.len() != names.len() {
                problems.push(format!("{name}: state names repeat across branches"));
            }
        }
        assert!(problems.is_empty(), "{suffix}:\n{}", problems.join("\n"));
        // Neither runbook is in the primary: Step Functions cannot call another region's APIs,
        // and the recovery region must not depend on the failed one.
        let primary = tests::json(&s.primary);
        assert!(definitions(&primary).is_empty());
    }
}

#[test]
fn the_runbooks_call_only_recovery_region_data_and_service_apis() {
    let s = tests::synth("qa");
    let secondary = tests::json(&s.secondary);
    let allowed = [
        "applicationautoscaling:registerScalableTarget",
        "cloudwatch:describeAlarms",
        "cloudwatch:putMetricData",
        "dynamodb:deleteItem",
        "dynamodb:getItem",
        "dynamodb:putItem",
        "ecs:describeServices",
        "ecs:updateService",
        "events:putEvents",
        "rds:describeGlobalClusters",
        "rds:failoverGlobalCluster",
        "rds:switchoverGlobalCluster",
        // The lock's expiry reads the holder's execution in us-east-2.
        "sfn:describeExecution",
        "sns:publish",
        "ssm:putParameter",
    ];
    for (name, def) in definitions(&secondary) {
        for call in runbook::api_calls(&def) {
            assert!(allowed.contains(&call.as_str()), "{name} calls {call}");
        }
    }
}

#[test]
fn every_resource_a_runbook_names_exists_in_the_stack() {
    let s = tests::synth("qa");
    let secondary = tests::json(&s.secondary);
    let text = secondary.to_string();
    let name_of = |ty: &str, property: &str| -> Vec<String> {
        resources_of(&secondary, ty)
            .iter()
            .filter_map(|(_, r)| r["Properties"][property].as_str().map(String::from))
            .collect()
    };
    let failover = &definitions(&secondary)["FailoverStateMachine"];
    let states = &failover["States"];
    assert!(
        name_of("AWS::DynamoDB::Table", "TableName").contains(
            &states["AcquireLock"]["Parameters"]["TableName"]
                .as_str()
                .unwrap()
                .to_string()
        )
    );
    assert!(
        name_of("AWS::ECS::Cluster", "ClusterName").contains(
            &states["ScaleUpTasks"]["Parameters"]["Cluster"]
                .as_str()
                .unwrap()
                .to_string()
        )
    );
    assert!(
        name_of("AWS::ECS::Service", "ServiceName").contains(
            &states["ScaleUpTasks"]["Parameters"]["Service"]
                .as_str()
                .unwrap()
                .to_string()
        )
    );
    // The floor is the scalable target of that service.
    let cluster = states["ScaleUpTasks"]["Parameters"]["Cluster"]
        .as_str()
        .unwrap();
    let service = states["ScaleUpTasks"]["Parameters"]["Service"]
        .as_str()
        .unwrap();
    assert_eq!(
        states["ScaleUp"]["Parameters"]["ResourceId"],
        format!("service/{cluster}/{service}")
    );
    let mut alarms = name_of("AWS::CloudWatch::Alarm", "AlarmName");
    alarms.extend(name_of("AWS::CloudWatch::CompositeAlarm", "AlarmName"));
    for state in ["CheckOutsideIn", "CheckReplication", "VerifyCheck"] {
        let alarm = states[state]["Parameters"]["AlarmNames"][0]
            .as_str()
            .unwrap();
        assert!(
            alarms.contains(&alarm.to_string()),
            "{state}: {alarm} not in the stack"
        );
    }
    // The trigger rule starts failover on the composite alarm.
    let trigger = resources_of(&secondary, "AWS::Events::Rule")
        .into_iter()
        .find(|(id, _)| id.as_str() == "FailoverTrigger")
        .expect("the trigger rule")
        .1;
    assert_eq!(
        trigger["Properties"]["Targets"][0]["Arn"]["Ref"],
        "FailoverStateMachine"
    );
    let composite = &name_of("AWS::CloudWatch::CompositeAlarm", "AlarmName")[0];
    assert_eq!(
        &trigger["Properties"]["EventPattern"]["detail"]["alarmName"][0],
        composite.as_str()
    );
    assert!(text.contains("runbook-lock-qa"));
}

#[test]
fn every_state_machine_passes_asl_validator() {
    let validator = xtask::workspace_root().join("tests/asl/node_modules/.bin/asl-validator");
    assert!(
        validator.is_file(),
        "{} not found: run `cargo xtask test`, which installs the pinned asl-validator",
        validator.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for suffix in tests::ENVIRONMENTS {
        let s = tests::synth(suffix);
        for (role, _, text) in s.templates() {
            let t = tests::json(text);
            for (id, machine) in resources_of(&t, "AWS::StepFunctions::StateMachine") {
                let definition = &machine["Properties"]["DefinitionString"];
                let text = definition["Fn::Sub"]
                    .as_str()
                    .or(definition.as_str())
                    .unwrap()
                    .replace("${AWS::Partition}", "aws")
                    .replace("${AWS::AccountId}", "123456789012");
                let path = dir.path().join(format!("{suffix}-{role}-{id}.json"));
                std::fs::write(&path, text).unwrap();
                let out = std::process::Command::new(&validator)
                    .arg("--json-path")
                    .arg(&path)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{suffix}/{role}/{id}: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked, 8,
        "two runbooks and two replication machines, qa and prod"
    );
}

#[test]
fn the_runbook_role_grants_every_call_the_definitions_make() {
    let s = tests::synth("qa");
    let secondary = tests::json(&s.secondary);
    let statements = &secondary["Resources"]["RunbookRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"];
    let granted: BTreeSet<String> = statements
        .as_array()
        .expect("the runbook role has a policy")
        .iter()
        .filter(|st| st["Effect"] == "Allow")
        .flat_map(|st| st["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(String::from))
        .collect();
    for (name, def) in definitions(&secondary) {
        if !name.starts_with("Fail") {
            continue; // the configuration replicators have roles of their own
        }
        for call in runbook::api_calls(&def) {
            let iam = cfn::arn::iam_action(&call);
            assert!(
                granted.contains(&iam),
                "{name} calls {call} but the role lacks {iam}: {granted:?}"
            );
        }
    }
}

/// Every (parameter, value) pair of every task state in a machine, branches included.
fn task_parameters(machine: &Value, out: &mut Vec<(String, String, Value)>) {
    for (name, state) in machine["States"].as_object().into_iter().flatten() {
        if state["Type"] == "Task" {
            for (key, value) in state["Parameters"].as_object().into_iter().flatten() {
                out.push((name.clone(), key.clone(), value.clone()));
            }
        }
        for branch in state["Branches"].as_array().into_iter().flatten() {
            task_parameters(branch, out);
        }
    }
}

#[test]
fn every_name_a_runbook_task_uses_is_made_by_the_stack() {
    for suffix in tests::ENVIRONMENTS {
        let s = tests::synth(suffix);
        let secondary = tests::json(&s.secondary);
        let names = |ty: &str, property: &str| -> BTreeSet<String> {
            resources_of(&secondary, ty)
                .iter()
                .filter_map(|(_, r)| r["Properties"][property].as_str().map(String::from))
                .collect()
        };
        let mut alarms = names("AWS::CloudWatch::Alarm", "AlarmName");
        alarms.extend(names("AWS::CloudWatch::CompositeAlarm", "AlarmName"));
        let known: BTreeMap<&str, BTreeSet<String>> = BTreeMap::from([
            ("TableName", names("AWS::DynamoDB::Table", "TableName")),
            ("Cluster", names("AWS::ECS::Cluster", "ClusterName")),
            ("Service", names("AWS::ECS::Service", "ServiceName")),
            ("Services", names("AWS::ECS::Service", "ServiceName")),
            ("AlarmNames", alarms),
            ("Name", names("AWS::SSM::Parameter", "Name")),
            ("TopicArn", names("AWS::SNS::Topic", "TopicName")),
            ("EventBusName", names("AWS::Events::EventBus", "Name")),
        ]);
        let mut checked = 0;
        for (machine, def) in definitions(&secondary) {
            if !machine.starts_with("Fail") {
                continue;
            }
            let mut params = Vec::new();
            task_parameters(&def, &mut params);
            // Events name their bus inside Entries.
            let entries: Vec<(String, String, Value)> = params
                .iter()
                .filter(|(_, k, _)| k == "Entries")
                .flat_map(|(st, _, v)| {
                    v.as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |e| {
                            (
                                st.clone(),
                                "EventBusName".to_string(),
                                e["EventBusName"].clone(),
                            )
                        })
                })
                .collect();
            params.extend(entries);
            for (state, key, value) in params {
                let Some(made) = known.get(key.as_str()) else {
                    continue;
                };
                let values: Vec<String> = match &value {
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect(),
                    Value::String(v) => vec![v.clone()],
                    _ => vec![],
                };
                for v in values {
                    // An ARN names its resource last (the topic).
                    let name = if key == "TopicArn" {
                        v.rsplit(':').next().unwrap().to_string()
                    } else {
                        v
                    };
                    assert!(
                        made.contains(&name),
                        "{suffix} {machine}/{state}: {key} {name} is not made by the stack ({made:?})"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "only {checked} names checked");
    }
}

/// A rotation of the master secret in flight cannot reach a runbook: no runbook calls Secrets
/// Manager or names the secret, so failover and failback never depend on which password is
/// current (docs/decisions.md, "The master password rotates in us-east-1").
#[test]
fn no_runbook_reads_the_database_credentials() {
    let s = tests::synth("qa");
    let secondary = tests::json(&s.secondary);
    let defs = definitions(&secondary);
    assert!(defs.len() >= 2, "both runbooks are in the template");
    for (name, def) in defs {
        for call in runbook::api_calls(&def) {
            assert!(!call.starts_with("secretsmanager:"), "{name} calls {call}");
        }
        let text = def.to_string();
        assert!(
            !text.contains("aurora-master") && !text.contains("secretsmanager"),
            "{name} names the master secret"
        );
    }
}
