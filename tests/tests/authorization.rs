//! Every runtime call of both stacks is allowed as AWS evaluates it: identity policy, the
//! resource's policy and, for encrypted resources, the key policy for the KMS calls the service
//! makes on the caller's behalf (see `tests::authz`).

use serde_json::Value;
use tests::authz::{Principal, World};

fn world(suffix: &str) -> World {
    let s = tests::synth(suffix);
    World::new(
        tests::json(&s.primary),
        tests::json(&s.secondary),
        tests::json(&s.manifest),
    )
}

#[test]
fn every_runtime_call_is_allowed_in_qa_and_prod() {
    for suffix in tests::ENVIRONMENTS {
        let w = world(suffix);
        let calls = w.calls();
        // The derivation sees what acts: both runbooks' steps, the replication machines, the
        // rules, the alarms, the log groups, the trail, the buckets' replication, the canaries.
        let runbook = calls
            .iter()
            .filter(|c| matches!(&c.principal, Principal::Role { id, .. } if id == "RunbookRole"))
            .count();
        assert!(
            runbook > 40,
            "{suffix}: the runbooks' calls were derived ({runbook})"
        );
        for action in [
            "rds:FailoverGlobalCluster",
            "rds:SwitchoverGlobalCluster",
            "sns:Publish",
            "kms:GenerateDataKey",
            "states:StartExecution",
            "events:PutEvents",
            "s3:ReplicateObject",
            "ssm:PutParameter",
            "dynamodb:PutItem",
        ] {
            assert!(
                calls.iter().any(|c| c.action == action),
                "{suffix}: no {action} derived"
            );
        }
        for through in [
            "through sns",
            "through s3",
            "through dynamodb",
            "CloudWatch Logs encrypting",
            "EventBridge encrypting",
        ] {
            assert!(
                calls
                    .iter()
                    .any(|c| c.action.starts_with("kms:") && c.why.contains(through)),
                "{suffix}: no key use {through} derived"
            );
        }
        let denied: Vec<String> = w.denials().iter().map(ToString::to_string).collect();
        assert!(
            denied.is_empty(),
            "{suffix}: {} of {} runtime calls would be denied by AWS:\n{}",
            denied.len(),
            calls.len(),
            denied.join("\n")
        );
    }
}

/// Removes `via` from every `kms:ViaService` list of `template`'s key policies.
fn without_via_service(template: &mut Value, via: &str) {
    let key = template["Resources"]["RegionKey"]["Properties"]["KeyPolicy"]["Statement"]
        .as_array_mut()
        .unwrap();
    for s in key {
        if let Some(list) = s
            .pointer_mut("/Condition/StringEquals/kms:ViaService")
            .and_then(Value::as_array_mut)
        {
            list.retain(|v| !v.to_string().contains(via));
        }
    }
}

#[test]
fn a_key_policy_without_sns_denies_the_runbooks_their_alerts() {
    let s = tests::synth("qa");
    let mut secondary = tests::json(&s.secondary);
    without_via_service(&mut secondary, "sns.");
    let w = World::new(tests::json(&s.primary), secondary, tests::json(&s.manifest));
    let denied = w.denials();
    let alert = denied
        .iter()
        .find(|d| {
            d.call.why.contains("AlertRolledBackPublish") && d.call.action == "kms:GenerateDataKey"
        })
        .unwrap_or_else(|| panic!("the alert's key use is denied: {denied:#?}"));
    let text = alert.to_string();
    assert!(text.contains("role RunbookRole (secondary)"), "{text}");
    assert!(
        text.contains("kms:ViaService=sns.us-east-2.amazonaws.com"),
        "{text}"
    );
}

#[test]
fn a_missing_grant_or_topic_statement_is_named() {
    let s = tests::synth("qa");
    // The runbook role loses its SNS statement.
    let mut secondary = tests::json(&s.secondary);
    let statements = secondary["Resources"]["RunbookRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap();
    statements.retain(|st| st["Action"] != serde_json::json!(["sns:Publish"]));
    let w = World::new(tests::json(&s.primary), secondary, tests::json(&s.manifest));
    let denied: Vec<String> = w.denials().iter().map(ToString::to_string).collect();
    assert!(
        denied.iter().any(|d| d.contains("role RunbookRole")
            && d.contains(
                "may not sns:Publish on arn:aws:sns:us-east-2:123456789012:trading-alerts-qa"
            )
            && d.contains("no identity-policy statement")),
        "{denied:#?}"
    );
    // The topic's policy loses CloudWatch: the alarms can no longer notify.
    let mut secondary = tests::json(&s.secondary);
    let statements =
        secondary["Resources"]["AlertTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap();
    statements.retain(|st| st["Principal"]["Service"] != "cloudwatch.amazonaws.com");
    let w = World::new(tests::json(&s.primary), secondary, tests::json(&s.manifest));
    let denied: Vec<String> = w.denials().iter().map(ToString::to_string).collect();
    assert!(
        denied.iter().any(
            |d| d.contains("service cloudwatch.amazonaws.com may not sns:Publish")
                && d.contains("PrimaryFailureAlarm")
        ),
        "{denied:#?}"
    );
}
