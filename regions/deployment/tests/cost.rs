//! The cost model against hand-computed figures: each priced type alone, the vendored table's
//! rules, the explicit not-priced list, and configuration changes that move the total by exactly
//! what the price table says.

use deployment::cost::{Estimate, HOURS_PER_MONTH, Prices, delta, estimate, usd};
use environment::{Environment, Source};
use serde_json::{Value, json};

fn env(suffix: &str, overlay: Option<&str>) -> Environment {
    environment::load(
        suffix,
        Source::new(
            "env/default.toml",
            include_str!("../../../env/default.toml"),
        ),
        overlay.map(|text| Source::new("env/overlay.toml", text)),
    )
    .unwrap()
}

fn prices() -> Prices {
    Prices::vendored().unwrap()
}

/// The estimate of a primary template holding `resources` (and an empty secondary).
fn alone(resources: Value) -> Estimate {
    estimate(
        &env("qa", None),
        &json!({ "Resources": resources }),
        &json!({ "Resources": {} }),
        &prices(),
    )
    .unwrap()
}

/// Equal to the cent: each line of an estimate is in whole cents.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.0051
}

/// Equal within half a cent per line (each line is rounded on its own).
fn close_lines(e: &Estimate, a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.0051 * e.lines.len() as f64
}

#[track_caller]
fn assert_costs(e: &Estimate, standby: f64, failover: f64) {
    assert!(
        close_lines(e, e.standby_total(), standby) && close_lines(e, e.failover_total(), failover),
        "standby {} (expected {standby}), failover {} (expected {failover}): {:#?}",
        e.standby_total(),
        e.failover_total(),
        e.lines
    );
}

#[test]
fn the_vendored_table_names_a_source_and_a_date_for_every_row() {
    let p = prices();
    assert!(p.rows().len() >= 30);
    for (key, row) in p.rows() {
        assert!(row.source.starts_with("https://aws.amazon.com/"), "{key}");
        assert_eq!(row.read.len(), 10, "{key}");
        assert_eq!(row.regions, ["us-east-1", "us-east-2"], "{key}");
    }
    // A row without a source or a date is refused, naming it.
    let bad = r#"
[[price]]
key = "thing_hour"
usd = 1.0
unit = "hour"
regions = ["us-east-1"]

[[free]]
types = ["AWS::X::Y"]
note = "free"
source = "https://aws.amazon.com/x/"
read = "2026-12-04"

[[unpriced]]
types = []
reason = "none"
"#;
    let err = Prices::parse(bad).unwrap_err().to_string();
    assert!(
        err.contains(r#"price "thing_hour" names no source"#)
            && err.contains(r#"price "thing_hour" has no date it was read"#),
        "{err}"
    );
}

#[test]
fn nat_gateways_and_addresses() {
    // qa: 50 GB through the region's one gateway.
    let e = alone(
        json!({"N": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
                         "E": {"Type": "AWS::EC2::EIP", "Properties": {}}}),
    );
    let nat: f64 = 730.0 * 0.045 + 50.0 * 0.045; // 32.85 + 2.25
    let ip = 730.0 * 0.005; // 3.65
    assert_costs(&e, nat + ip, nat + ip);
    assert!((nat + ip - 38.75).abs() < 1e-9);
}

#[test]
fn interface_endpoints_by_zone_and_gateway_endpoints_free() {
    let e = alone(json!({
        "I": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Interface", "SubnetIds": ["a", "b", "c"]}},
        "G": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
    }));
    // 3 zones × 730 h × $0.01 + 10 GB × $0.01
    assert_costs(&e, 21.9 + 0.1, 22.0);
}

#[test]
fn load_balancer_hours_addresses_and_capacity_units_in_the_serving_region() {
    let lb = json!({"L": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Subnets": ["a", "b", "c"]}}});
    let fixed = 730.0 * 0.0225 + 3.0 * 730.0 * 0.005; // 16.425 + 10.95
    let lcu = 1.0 * 730.0 * 0.008; // 5.84
    // In the primary: serving, then not.
    assert_costs(&alone(lb.clone()), fixed + lcu, fixed);
    // In the secondary: the other way round.
    let e = estimate(
        &env("qa", None),
        &json!({"Resources": {}}),
        &json!({"Resources": lb}),
        &prices(),
    )
    .unwrap();
    assert_costs(&e, fixed, fixed + lcu);
    assert_eq!(e.lines[0].region, "us-east-2");
}

#[test]
fn fargate_tasks_at_their_count_in_each_state() {
    let resources = json!({
        "T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Cpu": "512", "Memory": "1024"}},
        "S": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": {"Ref": "T"}}},
    });
    let per_task: f64 = 730.0 * (0.5 * 0.04048 + 1.0 * 0.004445); // 14.77520 + 3.24485
    assert!((per_task - 18.02005).abs() < 1e-9);
    // qa: 2 tasks in the primary, 1 warm in the secondary, 2 after a failover.
    assert_costs(&alone(resources.clone()), 2.0 * per_task, 2.0 * per_task);
    let e = estimate(
        &env("qa", None),
        &json!({"Resources": {}}),
        &json!({"Resources": resources}),
        &prices(),
    )
    .unwrap();
    assert_costs(&e, per_task, 2.0 * per_task);
}

#[test]
fn aurora_at_its_floor_with_storage_io_and_replicated_writes() {
    let e = alone(json!({
        "G": {"Type": "AWS::RDS::GlobalCluster", "Properties": {}},
        "C": {"Type": "AWS::RDS::DBCluster", "Properties": {"ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 16}}},
        "I1": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBClusterIdentifier": {"Ref": "C"}}},
        "I2": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBClusterIdentifier": {"Ref": "C"}}},
    }));
    let instances = 2.0 * 0.5 * 730.0 * 0.12; // 87.60
    let storage = 20.0 * 0.10;
    let io = 50.0 * 0.20;
    let replicated = 10.0 * 0.20;
    assert_costs(
        &e,
        instances + storage + io + replicated,
        instances + storage + replicated,
    );
}

#[test]
fn the_sessions_table_bills_each_replica_where_it_lives() {
    let e = alone(
        json!({"T": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"Replicas": [
            {"Region": {"Ref": "AWS::Region"}},
            {"Fn::If": ["Linked", {"Region": "us-east-2"}, {"Ref": "AWS::NoValue"}]},
        ]}}}),
    );
    let storage = 1.0 * 0.25;
    let writes = 5.0 * 0.625;
    let replicated = 5.0 * 0.625;
    assert_costs(
        &e,
        2.0 * storage + writes + replicated,
        2.0 * storage + replicated + writes,
    );
    let regions: Vec<_> = e.lines.iter().map(|l| l.region.as_str()).collect();
    assert_eq!(regions, ["us-east-1", "us-east-2"]);
}

#[test]
fn buckets_store_and_replicate() {
    let e = alone(json!({
        "DataBucket": {"Type": "AWS::S3::Bucket", "Properties": {"ReplicationConfiguration": {"Rules": []}}},
        "AccessLogsBucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
    }));
    let data = 10.0 * 0.023 + 5.0 * (0.015 + 0.02);
    let logs = 0.5 * 0.023;
    assert_costs(&e, data + logs, data + logs);
}

#[test]
fn the_web_acl_rules_and_the_serving_regions_requests() {
    let e = alone(
        json!({"W": {"Type": "AWS::WAFv2::WebACL", "Properties": {"Rules": [{}, {}, {}, {}]}}}),
    );
    let fixed = 5.0 + 4.0 * 1.0;
    assert_costs(&e, fixed + 10.0 * 0.60, fixed);
}

#[test]
fn logs_alarms_canaries_dns_keys_secrets_and_state_machines() {
    let e = alone(json!({
        "L": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
        "A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
        "M": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [
            {"Id": "a", "MetricStat": {}}, {"Id": "b", "MetricStat": {}}, {"Id": "e", "Expression": "a+b"}]}},
        "X": {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {}},
        "C": {"Type": "AWS::Synthetics::Canary", "Properties": {"Schedule": {"Expression": "rate(5 minutes)"}}},
        "Z": {"Type": "AWS::Route53::HostedZone", "Properties": {}},
        "H": {"Type": "AWS::Route53::HealthCheck", "Properties": {"HealthCheckConfig": {"Type": "HTTPS_STR_MATCH", "RequestInterval": 10}}},
        "K": {"Type": "AWS::KMS::Key", "Properties": {}},
        "S": {"Type": "AWS::SecretsManager::Secret", "Properties": {"ReplicaRegions": {"Fn::If": ["Linked", [{"Region": "us-east-2"}], {"Ref": "AWS::NoValue"}]}}},
        "F": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {}},
    }));
    let logs = 0.5 * (0.50 + 0.03);
    let alarms = 0.10 + 2.0 * 0.10 + 0.50;
    let canary: f64 = 730.0 * 60.0 / 5.0 * 0.0012; // 8760 runs
    let dns = 0.50 + 0.50 + 3.0 * 1.00; // HTTPS, string match, fast interval
    let keys = 1.0;
    let secrets = 2.0 * 0.40;
    let transitions = 1.0 * 0.025;
    let total = logs + alarms + canary + dns + keys + secrets + transitions;
    assert_costs(&e, total, total);
    assert!((canary - 10.512).abs() < 1e-9);
}

#[test]
fn vaults_events_trail_and_peering() {
    let e = estimate(
        &env("qa", None),
        &json!({"Resources": {
            "V": {"Type": "AWS::Backup::BackupVault", "Properties": {}},
            "B": {"Type": "AWS::Events::EventBus", "Properties": {}},
            "A": {"Type": "AWS::Events::Archive", "Properties": {}},
            "T": {"Type": "AWS::CloudTrail::Trail", "Properties": {}},
        }}),
        &json!({"Resources": {
            "V": {"Type": "AWS::Backup::BackupVault", "Properties": {}},
            "P": {"Type": "AWS::EC2::VPCPeeringConnection", "Properties": {}},
        }}),
        &prices(),
    )
    .unwrap();
    // qa keeps daily backups 35 days: the table's (1 GB) and the other region's copies of them.
    let days = f64::from(env("qa", None).config.backup.daily_retention_days);
    let sessions = 2.0 * 1.0 * days * 0.10;
    let aurora_copies = 20.0 * 0.021;
    let events = 1.0 * 1.0 + 1.0 * 0.10;
    let peering = 10.0 * 0.02;
    assert_costs(
        &e,
        2.0 * sessions + aurora_copies + events + peering,
        2.0 * sessions + aurora_copies + peering,
    );
}

fn synthesized(env: &Environment) -> Estimate {
    let s = deployment::synth(env).unwrap();
    estimate(env, &s.primary.to_json(), &s.secondary.to_json(), &prices()).unwrap()
}

#[test]
fn what_is_not_priced_is_listed_and_nothing_else() {
    let e = synthesized(&env("qa", None));
    let mut listed: Vec<(String, String)> = e
        .not_priced
        .iter()
        .map(|n| (n.region.clone(), n.resource_type.clone()))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("us-east-1", "AWS::Backup::RestoreTestingPlan"),
            ("us-east-1", "AWS::Backup::RestoreTestingSelection"),
            ("us-east-1", "AWS::Events::Endpoint"),
            ("us-east-1", "AWS::SecretsManager::RotationSchedule"),
            ("us-east-2", "AWS::Backup::RestoreTestingPlan"),
            ("us-east-2", "AWS::Backup::RestoreTestingSelection"),
        ]
        .map(|(r, t)| (r.to_string(), t.to_string())),
        "a resource type is priced, declared free in prices.toml, or listed here with its reason"
    );
    assert!(
        e.not_priced
            .iter()
            .all(|n| !n.reason.starts_with("no price"))
    );
    // An unknown type is never free: it is listed with "no price".
    let e = alone(json!({"X": {"Type": "AWS::Made::Up", "Properties": {}}}));
    assert_eq!(e.standby_total(), 0.0);
    assert!(
        e.not_priced[0].reason.starts_with("no price"),
        "{:?}",
        e.not_priced
    );
}

#[test]
fn two_more_standby_tasks_cost_exactly_two_tasks_of_the_price_table() {
    let base = synthesized(&env("qa", None));
    let more = synthesized(&env("qa", Some("[service]\nsecondary_desired_count = 3\n")));
    let task = HOURS_PER_MONTH
        * (0.5 * prices().usd("fargate_vcpu_hour", "us-east-2").unwrap()
            + 1.0 * prices().usd("fargate_gb_hour", "us-east-2").unwrap());
    assert!(close(
        more.standby_total() - base.standby_total(),
        2.0 * task
    ));
    // After a failover the standby runs the primary's count either way.
    assert!(close(more.failover_total(), base.failover_total()));
}

#[test]
fn a_nat_gateway_per_zone_costs_two_more_gateways_and_addresses_in_each_region() {
    let one = synthesized(&env("qa", Some("[network]\nnat_gateways = \"single\"\n")));
    let per_az = synthesized(&env("qa", Some("[network]\nnat_gateways = \"per-az\"\n")));
    let p = prices();
    let gateway = HOURS_PER_MONTH
        * (p.usd("nat_gateway_hour", "us-east-1").unwrap()
            + p.usd("public_ipv4_hour", "us-east-1").unwrap());
    // Traffic is split over the gateways: the same GB cost the same.
    assert!(
        close(
            per_az.standby_total() - one.standby_total(),
            2.0 * 2.0 * gateway
        ),
        "{} vs {}",
        per_az.standby_total() - one.standby_total(),
        4.0 * gateway
    );
}

#[test]
fn the_json_lines_add_up_to_the_totals() {
    let e = synthesized(&env("prod", Some(include_str!("../../../env/prod.toml"))));
    let j = e.to_json();
    assert_eq!(j["suffix"], "prod");
    assert_eq!(j["currency"], "USD");
    for (total, key) in [
        ("standby_monthly_usd", "standby_monthly_usd"),
        ("failover_monthly_usd", "failover_monthly_usd"),
    ] {
        let sum: f64 = j["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l[key].as_f64().unwrap())
            .sum();
        assert!((sum - j[total].as_f64().unwrap()).abs() < 0.005, "{total}");
    }
    let line = &j["lines"][0];
    for key in [
        "region",
        "component",
        "resource_type",
        "standby_monthly_usd",
        "failover_monthly_usd",
    ] {
        assert!(!line[key].is_null(), "{key}");
    }
    assert!(j["not_priced"].is_array());
    // A failover costs more than the steady state (the standby at full count).
    assert!(e.failover_total() > e.standby_total());
}

/// `| qa | $a | $b | $c | $d |` as README.md and docs/architecture.md show it.
fn documented(e: &Estimate, label: &str) -> String {
    format!(
        "| {label} | {} | {} | {} | {} |",
        usd(e.region_standby("us-east-1")),
        usd(e.region_standby("us-east-2")),
        usd(e.standby_total()),
        usd(e.failover_total())
    )
}

#[test]
fn money_is_grouped_and_signed() {
    assert_eq!(usd(1234.5), "$1,234.50");
    assert_eq!(usd(0.004), "$0.00");
    assert_eq!(usd(1_000_000.0), "$1,000,000.00");
    assert_eq!(delta(12.0), "+$12.00");
    assert_eq!(delta(-3.5), "-$3.50");
    assert_eq!(delta(0.001), "±$0.00");
}

#[test]
fn the_documented_figures_are_what_the_command_prints() {
    let qa = synthesized(&env("qa", Some(include_str!("../../../env/qa.toml"))));
    let prod = synthesized(&env("prod", Some(include_str!("../../../env/prod.toml"))));
    let readme = include_str!("../../../README.md");
    let architecture = include_str!("../../../docs/architecture.md");
    for (e, label) in [(&qa, "qa"), (&prod, "prod")] {
        let row = documented(e, label);
        assert!(
            architecture.contains(&row),
            "docs/architecture.md should show {row} (cargo xtask cost --suffix {label})"
        );
        let cells = row.split_once(" | ").unwrap().1;
        assert!(
            readme.contains(cells),
            "README.md should show {row} (cargo xtask cost --suffix {label})"
        );
    }
}
