//! The service and traffic tier across both templates: identical task definitions, a canary
//! script that parses, and every piece the acceptance names.

use cfn::testing::{assert_resource_count, resources_of};
use serde_json::Value;

/// Replaces what is region-specific by design (region names and roles) so that the rest can be
/// compared.
fn normalised(v: &Value) -> String {
    v.to_string()
        .replace("us-east-1", "REGION")
        .replace("us-east-2", "REGION")
        .replace("primary", "ROLE")
        .replace("secondary", "ROLE")
}

#[test]
fn both_regions_run_the_same_task_definition() {
    for suffix in tests::ENVIRONMENTS {
        let s = tests::synth(suffix);
        let task = |text: &str| {
            let t = tests::json(text);
            let found = resources_of(&t, "AWS::ECS::TaskDefinition");
            assert_eq!(found.len(), 1);
            found[0].1["Properties"].clone()
        };
        let (primary, secondary) = (task(&s.primary), task(&s.secondary));
        assert_ne!(
            primary, secondary,
            "{suffix}: region references should differ"
        );
        assert_eq!(
            normalised(&primary),
            normalised(&secondary),
            "{suffix}: task definitions differ beyond region-specific references"
        );
        let container = &primary["ContainerDefinitions"][0];
        for key in [
            "Image",
            "PortMappings",
            "HealthCheck",
            "Environment",
            "Secrets",
        ] {
            assert!(!container[key].is_null(), "{suffix}: container lacks {key}");
        }
    }
}

#[test]
fn the_canary_script_parses_as_javascript() {
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is needed to check the canary script: install Node.js (CI installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let s = tests::synth("qa");
    let mut checked = 0;
    for (role, _, text) in s.templates() {
        let t = tests::json(text);
        for (id, canary) in resources_of(&t, "AWS::Synthetics::Canary") {
            let script = canary["Properties"]["Code"]["Script"].as_str().unwrap();
            let path = dir.path().join(format!("{role}-{id}.js"));
            std::fs::write(&path, script).unwrap();
            let out = std::process::Command::new("node")
                .arg("--check")
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{role}/{id}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3, "a canary per region and the outside-in one");
}

#[test]
fn each_template_carries_the_service_tier_and_the_primary_the_dns() {
    let s = tests::synth("qa");
    for (role, _, text) in s.templates() {
        let t = tests::json(text);
        for ty in [
            "AWS::ECS::Cluster",
            "AWS::ECS::Service",
            "AWS::ECS::TaskDefinition",
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "AWS::SNS::Topic",
            "AWS::Events::EventBus",
        ] {
            assert_resource_count(&t, ty, 1);
        }
        let listeners = resources_of(&t, "AWS::ElasticLoadBalancingV2::Listener");
        assert!(
            listeners
                .iter()
                .any(|(_, l)| l["Properties"]["Protocol"] == "HTTPS"),
            "{role}: no HTTPS listener"
        );
        assert!(
            !resources_of(&t, "AWS::Synthetics::Canary").is_empty(),
            "{role}"
        );
        assert!(
            !resources_of(&t, "AWS::CloudWatch::Alarm").is_empty(),
            "{role}"
        );
    }
    let primary = tests::json(&s.primary);
    assert_resource_count(&primary, "AWS::Route53::HostedZone", 1);
    let failovers: Vec<&str> = resources_of(&primary, "AWS::Route53::RecordSet")
        .iter()
        .filter_map(|(_, r)| r["Properties"]["Failover"].as_str())
        .collect();
    assert_eq!(failovers, ["PRIMARY", "SECONDARY"]);
    let https_checks = resources_of(&primary, "AWS::Route53::HealthCheck")
        .iter()
        .filter(|(_, h)| h["Properties"]["HealthCheckConfig"]["Type"] == "HTTPS")
        .count();
    assert_eq!(https_checks, 2, "health checks on both regional endpoints");
    let endpoint = &resources_of(&primary, "AWS::Events::Endpoint")[0].1["Properties"];
    let buses = &endpoint["EventBuses"];
    assert_eq!(
        buses[0]["EventBusArn"],
        serde_json::json!({"Fn::GetAtt": ["EventBus", "Arn"]})
    );
    assert!(
        buses[1].to_string().contains(":events:us-east-2:"),
        "{buses}"
    );
    let secondary = tests::json(&s.secondary);
    assert_resource_count(&secondary, "AWS::CloudWatch::CompositeAlarm", 1);
}
