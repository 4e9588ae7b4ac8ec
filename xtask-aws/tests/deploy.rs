//! The deployer end to end against a local AWS emulator (moto): all three phases, outputs wired
//! into parameters, resources really created in the right regions, a no-op redeploy, a Modify
//! diff after a configuration change, destroy, and the fault paths. Nothing here reaches AWS.

mod support;

use serde_json::{Value, json};
use support::Moto;

const PRIMARY: &str = "trading-dr-primary-e2e";
const SECONDARY: &str = "trading-dr-secondary-e2e";

fn stack<'a>(state: &'a Value, name: &str) -> Option<&'a Value> {
    state["stacks"].get(name)
}

#[test]
fn deploy_redeploy_diff_and_destroy() {
    let moto = Moto::start();

    // Before anything exists, diff shows every resource as an addition.
    let before = moto.xtask("diff", "e2e", &[]);
    before.expect_code(2);
    assert!(
        before.stdout.contains("does not exist yet"),
        "{}",
        before.stdout
    );
    // Next to the change sets, what they do to the bill: nothing is deployed yet.
    assert!(
        before
            .stdout
            .contains("monthly cost of us-east-1, steady: $0.00 now, $"),
        "{}",
        before.stdout
    );

    // Deploy all three phases.
    let deploy = moto.xtask("deploy", "e2e", &["--yes"]);
    deploy.expect_code(0);
    for phase in [
        "phase 1/3 primary",
        "phase 2/3 secondary",
        "phase 3/3 primary-link",
    ] {
        assert!(
            deploy.stdout.contains(phase),
            "{phase} missing:\n{}",
            deploy.stdout
        );
    }
    assert!(
        deploy.stdout.contains("CREATE_COMPLETE"),
        "{}",
        deploy.stdout
    );
    println!("first deploy: {:.1} s", deploy.elapsed.as_secs_f64());

    let east1 = moto.inspect("us-east-1");
    let east2 = moto.inspect("us-east-2");
    let primary = stack(&east1, PRIMARY).expect("primary stack exists in us-east-1");
    let secondary = stack(&east2, SECONDARY).expect("secondary stack exists in us-east-2");
    assert!(stack(&east2, PRIMARY).is_none() && stack(&east1, SECONDARY).is_none());
    assert_eq!(
        primary["status"], "UPDATE_COMPLETE",
        "primary-link updated the primary"
    );
    assert_eq!(secondary["status"], "CREATE_COMPLETE");

    // Outputs of one phase arrive as the next phase's parameters.
    let primary_vpc = primary["outputs"]["VpcId"].as_str().expect("VpcId output");
    assert_eq!(secondary["parameters"]["PrimaryVpcId"], primary_vpc);
    let pcx = secondary["outputs"]["PeeringConnectionId"]
        .as_str()
        .expect("PeeringConnectionId output");
    assert_eq!(primary["parameters"]["PeeringConnectionId"], pcx);

    // The resources exist, each in its region.
    let vpc_cidrs = |s: &Value| -> Vec<String> {
        s["vpcs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["cidr"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(vpc_cidrs(&east1), ["10.10.0.0/16"]);
    assert_eq!(vpc_cidrs(&east2), ["10.20.0.0/16"]);
    assert_eq!(east1["vpcs"][0]["id"], primary_vpc);
    assert_eq!(east1["vpcs"][0]["tags"]["environment"], "e2e");
    for (state, region) in [(&east1, "us-east-1"), (&east2, "us-east-2")] {
        let subnets = state["subnets"].as_array().unwrap();
        assert_eq!(subnets.len(), 9, "{region}: {subnets:?}");
        assert!(
            subnets
                .iter()
                .all(|s| s["az"].as_str().unwrap().starts_with(region))
        );
    }
    // The audit trail records every region from the primary, into its own bucket.
    assert_eq!(
        east1["trails"],
        serde_json::json!([{"name": "audit-e2e", "bucket": format!("audit-e2e-us-east-1-{}", support::ACCOUNT),
            "multi_region": true, "validation": true, "logging": true}])
    );
    assert_eq!(east2["trails"], serde_json::json!([]));
    // Both load balancers sit behind the same rules, each logging to its region's group.
    for (state, region) in [(&east1, "us-east-1"), (&east2, "us-east-2")] {
        let firewalls = state["firewalls"].as_object().unwrap();
        assert_eq!(firewalls.len(), 1, "{region}: {firewalls:?}");
        let acl = firewalls.values().next().unwrap();
        assert_eq!(
            acl,
            &serde_json::json!({"name": "trading-waf-e2e",
                "rules": ["ip-reputation", "rate-limit", "known-bad-inputs", "common"],
                "logs": ["aws-waf-logs-trading-e2e"]}),
            "{region}"
        );
    }
    // The master secret rotates in us-east-1, knows its cluster, and is replicated to us-east-2.
    let secret = |state: &Value| {
        state["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "trading/aurora-master-e2e")
            .cloned()
            .expect("the master secret exists")
    };
    let master = secret(&east1);
    assert_eq!(master["primary_region"], "us-east-1");
    assert_eq!(master["replicas"], serde_json::json!(["us-east-2"]));
    assert_eq!(master["rotation"], true);
    assert_eq!(master["rotation_days"], 30);
    assert_eq!(master["function"], "aurora-rotation-e2e");
    assert_eq!(
        master["keys"],
        serde_json::json!([
            "dbClusterIdentifier",
            "engine",
            "host",
            "password",
            "port",
            "username"
        ])
    );
    assert_eq!(secret(&east2)["primary_region"], "us-east-1");
    let peering = east2["peerings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == pcx)
        .expect("the peering connection exists in us-east-2");
    assert_eq!(peering["accepter"], primary_vpc);
    assert_eq!(peering["requester"], east2["vpcs"][0]["id"]);
    // Routes through the connection on both sides: 3 private tables and the isolated one.
    let peering_routes = |s: &Value, cidr: &str| {
        s["routes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["destination"] == cidr && r["peering"] == pcx)
            .count()
    };
    assert_eq!(peering_routes(&east2, "10.10.0.0/16"), 4);
    assert_eq!(peering_routes(&east1, "10.20.0.0/16"), 4);

    // The global database: the primary cluster writes, the secondary joined with an instance.
    let global = &east1["global_clusters"][0];
    assert_eq!(global["id"], "aurora-global-e2e-us-east-1", "{global}");
    assert_eq!(
        secondary["parameters"]["AuroraGlobalClusterIdentifier"],
        "aurora-global-e2e-us-east-1"
    );
    let member = |region_state: &Value| region_state["db_clusters"][0]["arn"].clone();
    assert_eq!(
        global["members"],
        serde_json::json!([
            {"arn": member(&east1), "writer": true},
            {"arn": member(&east2), "writer": false}
        ])
    );
    assert_eq!(
        east1["db_clusters"][0]["instances"],
        serde_json::json!(["aurora-1-e2e", "aurora-2-e2e"])
    );
    assert_eq!(
        east2["db_clusters"][0]["instances"],
        serde_json::json!(["aurora-1-e2e"])
    );

    // The service runs in both regions: full capacity in the primary, warm in the secondary,
    // each behind its load balancer; the zone answers app.<zone> with PRIMARY and SECONDARY.
    assert_eq!(
        east1["ecs_services"],
        serde_json::json!([{"name": "trading-app-e2e", "desired": 2}])
    );
    assert_eq!(
        east2["ecs_services"],
        serde_json::json!([{"name": "trading-app-e2e", "desired": 1}])
    );
    assert_eq!(east1["load_balancers"], serde_json::json!(["alb-e2e"]));
    assert_eq!(east2["load_balancers"], serde_json::json!(["alb-e2e"]));
    let failover: Vec<&str> = east1["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "app.e2e.trading-dr.example.com")
        .filter_map(|r| r["failover"].as_str())
        .collect();
    assert_eq!(failover, ["PRIMARY", "SECONDARY"], "{}", east1["records"]);

    // The buckets exist in both regions; the primary's replicate to the secondary's, with
    // Replication Time Control and the secondary's key, once the link phase ran.
    let replication = moto.s3_fixture("replication", "data-e2e-us-east-1-123456789012");
    let rule = &replication["Rules"][0];
    assert_eq!(
        rule["Destination"]["Bucket"], "arn:aws:s3:::data-e2e-us-east-2-123456789012",
        "{replication}"
    );
    assert_eq!(
        rule["Destination"]["ReplicationTime"]["Time"]["Minutes"], 15,
        "{replication}"
    );
    assert_eq!(
        rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"],
        secondary["outputs"]["RegionKeyArn"],
        "{replication}"
    );
    assert_eq!(
        primary["parameters"]["SecondaryKeyArn"],
        secondary["outputs"]["RegionKeyArn"]
    );
    // What was deployed is kept in the versioned, replicated configuration bucket.
    assert!(
        deploy.stdout.contains("stored the deployed templates and manifest in s3://config-e2e-us-east-1-123456789012/deployments/e2e/"),
        "{}",
        deploy.stdout
    );
    let stored = moto.s3_fixture("list", "config-e2e-us-east-1-123456789012");
    for name in [
        "manifest.json",
        "primary.template.json",
        "secondary.template.json",
    ] {
        assert!(
            stored["versions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == &format!("deployments/e2e/{name}")),
            "{name} not stored: {stored}"
        );
    }

    // Objects and old versions in a bucket must not stop destroy.
    moto.s3_fixture("fill", "data-e2e-us-east-2-123456789012");

    // A second deploy changes nothing.
    let again = moto.xtask("deploy", "e2e", &["--yes"]);
    again.expect_code(0);
    assert_eq!(
        again.stdout.matches("no changes").count(),
        3,
        "{}",
        again.stdout
    );
    println!("no-op redeploy: {:.1} s", again.elapsed.as_secs_f64());
    let same = moto.xtask("diff", "e2e", &[]);
    same.expect_code(0);
    // The deployed templates price as the proposed ones: no change, no delta.
    for region in ["us-east-1", "us-east-2"] {
        let line = same
            .stdout
            .lines()
            .find(|l| l.contains(&format!("monthly cost of {region}, steady:")))
            .unwrap_or_else(|| panic!("no cost line for {region}: {}", same.stdout));
        assert!(line.ends_with("(±$0.00)"), "{line}");
    }

    // A configuration change shows as a modification, with what it does to the bill: canaries
    // every 5 minutes instead of every minute (8,760 runs a month instead of 43,800 at $0.0012).
    std::fs::write(
        moto.env_dir().join("e2e.toml"),
        "[network]\nflow_log_retention_days = 90\n[monitoring]\nschedule = \"rate(5 minutes)\"\n",
    )
    .unwrap();
    let changed = moto.xtask("diff", "e2e", &[]);
    changed.expect_code(2);
    assert!(
        changed.stdout.contains("~ Modify  FlowLogGroup"),
        "{}",
        changed.stdout
    );
    assert!(
        changed.stdout.contains("after this change (-$42.05)"),
        "one canary in us-east-1: {}",
        changed.stdout
    );
    assert!(
        changed.stdout.contains("after this change (-$84.10)"),
        "two canaries in us-east-2: {}",
        changed.stdout
    );
    // diff leaves no change set behind and deploys nothing.
    moto.xtask("diff", "e2e", &[]).expect_code(2);

    // Destroy removes every stack.
    let destroy = moto.xtask("destroy", "e2e", &["--yes"]);
    destroy.expect_code(0);
    assert!(
        destroy.stdout.contains("pending deletion for 7 days"),
        "{}",
        destroy.stdout
    );
    // The emulator's log writers deliver after destroy emptied their buckets (item 42): each
    // logging bucket refuses deletion once, destroy empties it again and finishes in one run.
    for bucket in [
        "access-logs-e2e-us-east-1",
        "alb-logs-e2e-us-east-2",
        "canary-artifacts-e2e-us-east-2",
    ] {
        assert!(
            destroy
                .stdout
                .lines()
                .any(|l| l.contains(bucket) && l.contains("after it was emptied")),
            "{bucket}: {}",
            destroy.stdout
        );
    }
    assert!(
        destroy
            .stdout
            .contains("deleting the stack again (attempt 2 of at most 5)")
    );
    for region in ["us-east-1", "us-east-2"] {
        let state = moto.inspect(region);
        assert_eq!(state["stacks"], serde_json::json!({}), "{region}: {state}");
    }
    // Destroying again finds nothing to do.
    let twice = moto.xtask("destroy", "e2e", &["--yes"]);
    twice.expect_code(0);
    assert_eq!(
        twice.stdout.matches("not deployed").count(),
        3,
        "{}",
        twice.stdout
    );
}

#[test]
fn a_rejected_change_set_stops_the_deploy_before_the_secondary() {
    let moto = Moto::start();
    moto.reject_change_set(Some((
        PRIMARY,
        "Template format error: injected by the test",
    )));
    let run = moto.xtask("deploy", "e2e", &["--yes"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("CloudFormation rejected the change set for stack trading-dr-primary-e2e in us-east-1: ValidationError: Template format error: injected by the test"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("phase 2/3"), "{}", run.stdout);
    assert_eq!(moto.inspect("us-east-2")["stacks"], serde_json::json!({}));
}

#[test]
fn an_interrupted_deploy_converges_when_run_again() {
    let moto = Moto::start();
    moto.reject_change_set(Some((SECONDARY, "Rate exceeded: injected by the test")));
    let first = moto.xtask("deploy", "e2e", &["--yes"]);
    first.expect_code(1);
    assert!(
        first.stdout.contains("phase 2/3 secondary"),
        "{}",
        first.stdout
    );
    assert!(!first.stdout.contains("phase 3/3"), "{}", first.stdout);
    assert!(stack(&moto.inspect("us-east-1"), PRIMARY).is_some());

    moto.reject_change_set(None);
    let second = moto.xtask("deploy", "e2e", &["--yes"]);
    second.expect_code(0);
    let phase1 = second.stdout.split("phase 2/3").next().unwrap();
    assert!(
        phase1.contains("no changes"),
        "the primary is already deployed:\n{}",
        second.stdout
    );
    let east2 = moto.inspect("us-east-2");
    assert_eq!(
        stack(&east2, SECONDARY).unwrap()["status"],
        "CREATE_COMPLETE"
    );
    let east1 = moto.inspect("us-east-1");
    assert_eq!(
        stack(&east1, PRIMARY).unwrap()["parameters"]["PeeringConnectionId"],
        stack(&east2, SECONDARY).unwrap()["outputs"]["PeeringConnectionId"]
    );
    moto.assert_no_server_errors();
}

#[test]
fn without_yes_and_without_a_terminal_nothing_is_deployed() {
    let moto = Moto::start();
    let run = moto.xtask("deploy", "e2e", &[]);
    run.expect_code(1);
    assert!(run.stderr.contains("pass --yes"), "{}", run.stderr);
    assert_eq!(moto.inspect("us-east-1")["stacks"], serde_json::json!({}));
    let destroy = moto.xtask("destroy", "e2e", &[]);
    destroy.expect_code(1);
    assert!(destroy.stderr.contains("pass --yes"), "{}", destroy.stderr);
}

#[test]
fn diff_says_when_a_phase_waits_for_another_stack() {
    let moto = Moto::start();
    moto.reject_change_set(Some((SECONDARY, "injected")));
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(1);
    let diff = moto.xtask("diff", "e2e", &[]);
    diff.expect_code(2);
    assert!(
        diff.stdout
            .contains("stack trading-dr-secondary-e2e does not exist yet"),
        "{}",
        diff.stdout
    );
}

#[test]
fn templates_deploy_from_the_staging_bucket_of_their_own_region() {
    let moto = Moto::start();
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(0);
    let uploaded = |region: &str| -> Vec<String> {
        let listing = moto.s3_fixture("list", &support::staging_bucket(region));
        listing["versions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .filter(|k| k.starts_with("trading-dr/e2e/"))
            .map(String::from)
            .collect()
    };
    // The primary twice (primary and primary-link phases, same content) in us-east-1, the
    // secondary in us-east-2: a region's deploy never reads the other region's bucket.
    let east1 = uploaded("us-east-1");
    let east2 = uploaded("us-east-2");
    assert_eq!(east1.len(), 2, "{east1:?}");
    assert!(
        east1
            .iter()
            .all(|k| k.starts_with("trading-dr/e2e/primary-"))
    );
    assert_eq!(east2.len(), 1, "{east2:?}");
    assert!(east2[0].starts_with("trading-dr/e2e/secondary-"));
}

#[test]
fn bootstrap_makes_private_versioned_tls_only_buckets_and_a_second_run_changes_nothing() {
    let moto = Moto::start_bare(1.0);
    let first = moto.bootstrap(&[]);
    first.expect_code(0).expect_stdout("account 123456789012");
    let describe = |region: &str| moto.s3_fixture("describe", &support::staging_bucket(region));
    for region in ["us-east-1", "us-east-2"] {
        first.expect_stdout(&format!(
            "s3://{}  created: versioned",
            support::staging_bucket(region)
        ));
        let b = describe(region);
        // S3 names no location constraint for us-east-1.
        let location = if region == "us-east-1" {
            json!(null)
        } else {
            json!(region)
        };
        assert_eq!(b["location"], location, "{b}");
        assert_eq!(
            b["ownership"]["Rules"][0]["ObjectOwnership"],
            "BucketOwnerEnforced"
        );
        assert_eq!(b["versioning"], "Enabled", "{b}");
        assert_eq!(
            b["encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
            "AES256"
        );
        for block in [
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(b["public_access_block"][block], true, "{block}: {b}");
        }
        let tls = &b["policy"]["Statement"][0];
        assert_eq!(tls["Effect"], "Deny");
        assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
        let rules = b["lifecycle"].as_array().unwrap();
        assert!(
            rules.iter().any(|r| r["Expiration"]["Days"] == 30
                && r["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30),
            "{b}"
        );
    }
    let before = (describe("us-east-1"), describe("us-east-2"));
    let second = moto.bootstrap(&[]);
    second.expect_code(0);
    assert_eq!(
        second
            .stdout
            .matches("already exists with every setting: nothing changed")
            .count(),
        2,
        "{}",
        second.stdout
    );
    assert_eq!((describe("us-east-1"), describe("us-east-2")), before);

    // A hand-made change is put back, and only what was missing; a script reads --json.
    moto.s3_fixture("tamper", &support::staging_bucket("us-east-2"));
    let repaired = moto.bootstrap(&["--json"]);
    repaired.expect_code(0);
    let lines: Vec<Value> = repaired
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["outcome"], "exists");
    assert_eq!(lines[1]["outcome"], "repaired");
    assert_eq!(
        lines[1]["repaired"],
        json!(["versioning", "TLS-only policy"])
    );
    assert_eq!(describe("us-east-2"), before.1);
}

#[test]
fn without_bootstrap_deploy_and_diff_stop_before_touching_any_stack() {
    let moto = Moto::start_bare(1.0);
    for (command, flags) in [("deploy", &["--yes"][..]), ("diff", &[][..])] {
        let run = moto.xtask(command, "e2e", flags);
        run.expect_code(1).expect_stderr(&format!(
            "the staging bucket s3://{} does not exist in us-east-1 (account 123456789012): run `cargo xtask bootstrap` first",
            support::staging_bucket("us-east-1")
        ));
        for region in ["us-east-1", "us-east-2"] {
            assert_eq!(moto.inspect(region)["stacks"], json!({}), "{command}");
        }
    }
    // Bootstrap, and the same deploy goes through.
    moto.bootstrap(&[]).expect_code(0);
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(0);
    // Destroy never deletes the account's staging buckets: other environments use them.
    moto.xtask("destroy", "e2e", &["--yes"]).expect_code(0);
    for region in ["us-east-1", "us-east-2"] {
        let b = moto.s3_fixture("describe", &support::staging_bucket(region));
        assert_eq!(b["versioning"], "Enabled", "{region}: {b}");
    }
}

#[test]
fn configuration_changes_in_the_primary_replicate_to_the_secondary() {
    let moto = Moto::start();
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(0);
    let flag = "/trading/e2e/shared/flags/trading-enabled";
    assert_eq!(
        moto.ssm("us-east-2", "get", flag, None).as_deref(),
        Some("true")
    );

    // Update: the new value reaches the secondary.
    moto.ssm("us-east-1", "put", flag, Some("false"));
    let took = moto.wait_for_parameter("us-east-2", flag, Some("false"));
    println!("update replicated in {:.1} s", took.as_secs_f64());

    // Parameters are created and deleted by the stacks, never by replication (see
    // `a_new_shared_parameter_is_created_by_the_stack_never_by_replication`): one made by
    // hand in the primary alone stays there, and deleting a copy's original leaves the copy.
    let by_hand = "/trading/e2e/shared/flags/by-hand";
    moto.ssm("us-east-1", "put", by_hand, Some("on"));
    let applied = moto.runbook("e2e", "wait-applied", &[by_hand]);
    assert_eq!(
        applied["path"].as_array().unwrap().last().unwrap(),
        "LeftToTheStack"
    );
    assert_eq!(moto.ssm("us-east-2", "get", by_hand, None), None);
    moto.ssm("us-east-1", "delete", flag, None);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        moto.ssm("us-east-2", "get", flag, None).as_deref(),
        Some("false")
    );

    // Regional parameters are not replicated: the secondary keeps its own.
    let regional = "/trading/e2e/region/buckets/data";
    let secondary_value = moto.ssm("us-east-2", "get", regional, None);
    assert_eq!(
        secondary_value.as_deref(),
        Some("data-e2e-us-east-2-123456789012")
    );
    moto.ssm("us-east-1", "put", regional, Some("changed-in-primary"));
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        moto.ssm("us-east-2", "get", regional, None),
        secondary_value
    );
    moto.assert_no_server_errors();
}

/// Issue: deploying a new shared parameter failed in phase 2 with `ParameterAlreadyExists`:
/// phase 1 created it in the primary, its change replicated to the secondary and created it
/// there, and then the secondary stack's own create collided. The stacks own the parameters
/// they declare; replication only carries values to those that exist.
#[test]
fn a_new_shared_parameter_is_created_by_the_stack_never_by_replication() {
    let moto = Moto::start();
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(0);
    let flag = "/trading/e2e/shared/flags/maintenance";

    // A new flag; the secondary's phase is held back, so replication surely runs first.
    std::fs::write(
        moto.env_dir().join("e2e.toml"),
        "[flags]\nmaintenance = \"off\"\n",
    )
    .unwrap();
    moto.reject_change_set(Some(("trading-dr-secondary-e2e", "held back by the test")));
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(1);
    assert_eq!(
        moto.ssm("us-east-1", "get", flag, None).as_deref(),
        Some("off")
    );
    let applied = moto.runbook("e2e", "wait-applied", &[flag]);
    assert_eq!(applied["status"], "SUCCEEDED", "{applied}");
    assert_eq!(
        applied["path"],
        serde_json::json!(["Operation", "Exists", "LeftToTheStack"]),
        "a parameter the secondary stack has not created yet is left to it"
    );
    assert_eq!(moto.ssm("us-east-2", "get", flag, None), None);

    // The secondary's phase now creates it, in one try.
    moto.reject_change_set(None);
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(0);
    assert_eq!(
        moto.ssm("us-east-2", "get", flag, None).as_deref(),
        Some("off")
    );
    // And changes to it replicate as before.
    moto.ssm("us-east-1", "put", flag, Some("on"));
    moto.wait_for_parameter("us-east-2", flag, Some("on"));
    moto.assert_no_server_errors();
}

/// Environments in one account: fresh ones deploy one after another, each in one try; a change
/// in one reaches its own secondary only, and none of another's replication runs; destroying
/// one leaves the others as deployed.
#[test]
fn environments_side_by_side_do_not_touch_each_other() {
    let moto = Moto::start();
    for suffix in ["e2e", "e2f", "e2g"] {
        moto.xtask("deploy", suffix, &["--yes"]).expect_code(0);
    }
    let flag = |suffix: &str| format!("/trading/{suffix}/shared/flags/trading-enabled");
    // Whatever each environment's own deploy started has ended.
    std::thread::sleep(std::time::Duration::from_secs(3));
    // The other environment's replication machines (names from cfn::naming).
    let runs = |region: &str, name: &str| moto.runbook("e2f", "executions", &[region, name]);
    let machines = [
        ("us-east-1", "config-replicator-source-e2f"),
        ("us-east-2", "config-replicator-target-e2f"),
    ];
    let before: Vec<_> = machines.iter().map(|(r, n)| runs(r, n)).collect();

    moto.ssm("us-east-1", "put", &flag("e2e"), Some("false"));
    moto.wait_for_parameter("us-east-2", &flag("e2e"), Some("false"));
    let applied = moto.runbook("e2e", "wait-applied", &[&flag("e2e")]);
    assert_eq!(applied["status"], "SUCCEEDED", "{applied}");
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        moto.ssm("us-east-2", "get", &flag("e2f"), None).as_deref(),
        Some("true"),
        "the other environment's secondary is unchanged"
    );
    let after: Vec<_> = machines.iter().map(|(r, n)| runs(r, n)).collect();
    assert_eq!(
        before, after,
        "none of the other environment's state machines ran"
    );

    moto.xtask("destroy", "e2e", &["--yes"]).expect_code(0);
    moto.xtask("diff", "e2f", &[]).expect_code(0);
    moto.assert_no_server_errors();
}

/// A deploy (or destroy) while another one of the same environment runs is refused before it
/// changes anything: not only at the busy stack, which would leave the primary half-updated by
/// the second deploy while the first still works on the secondary.
#[test]
fn a_deploy_while_another_runs_is_refused_before_anything_changes() {
    let moto = Moto::start();
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(0);
    let flag = "/trading/e2e/shared/flags/trading-enabled";
    std::fs::write(
        moto.env_dir().join("e2e.toml"),
        "[flags]\ntrading-enabled = \"false\"\n",
    )
    .unwrap();

    // Another deploy is working on the secondary stack.
    moto.faults(
        serde_json::json!({"stack_busy": {"trading-dr-secondary-e2e": "UPDATE_IN_PROGRESS"}}),
    );
    let refused = moto.xtask("deploy", "e2e", &["--yes"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains(
            "stack trading-dr-secondary-e2e in us-east-2 is UPDATE_IN_PROGRESS: another deploy or destroy of e2e is running. Nothing was changed"
        ),
        "{}",
        refused.stderr
    );
    assert!(!refused.stdout.contains("phase 1/3"), "{}", refused.stdout);
    assert_eq!(
        moto.ssm("us-east-1", "get", flag, None).as_deref(),
        Some("true"),
        "the primary was not touched"
    );
    moto.xtask("destroy", "e2e", &["--yes"])
        .expect_code(1)
        .expect_stderr("Nothing was deleted");

    // Once it has ended, the deploy goes through.
    moto.faults(serde_json::json!({}));
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(0);
    assert_eq!(
        moto.ssm("us-east-1", "get", flag, None).as_deref(),
        Some("false")
    );
    moto.assert_no_server_errors();
}

const ZONE: &str = "e2e.trading-dr.example.com";
const VAULT: &str = "backup-vault-e2e";

/// Nothing of the environment is left in either region: no stack, zone, bucket of the suffix or
/// vault (but `kept`, a vault destroy said it keeps).
#[track_caller]
fn nothing_left(moto: &Moto, kept: Option<(&str, usize)>) {
    for region in ["us-east-1", "us-east-2"] {
        let state = moto.inspect(region);
        assert_eq!(state["stacks"], json!({}), "{region}: {state}");
        assert_eq!(state["zones"], json!([]), "{region}: {state}");
        let buckets: Vec<&str> = state["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b.as_str())
            .filter(|b| b.contains("-e2e-"))
            .collect();
        assert!(buckets.is_empty(), "{region}: {buckets:?}");
        let vaults = state["vaults"].as_array().unwrap();
        match kept {
            Some((kept_region, points)) if kept_region == region => {
                assert_eq!(vaults.len(), 1, "{region}: {state}");
                assert_eq!(vaults[0]["points"], points, "{region}: {state}");
            }
            _ => assert_eq!(vaults, &Vec::<Value>::new(), "{region}: {state}"),
        }
    }
}

/// The state a real account reaches: certificates validated in the zone (ACM's records stay
/// behind), a day of backups in the primary's vault, and a locked vault in the secondary. One
/// destroy removes everything but the locked vault, and says what stays.
#[test]
fn destroy_finishes_with_validation_records_recovery_points_and_a_locked_vault() {
    let moto = Moto::start();
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(0);
    let validation = moto.inspect("us-east-1")["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "CNAME" && r["name"].as_str().unwrap().starts_with('_'))
        .count();
    assert_eq!(
        validation, 3,
        "the emulator writes ACM's validation records"
    );
    for _ in 0..2 {
        moto.dr("recovery-point", &["us-east-1", VAULT]);
    }
    moto.dr("lock", &["us-east-2", VAULT, "7"]);
    moto.dr("recovery-point", &["us-east-2", VAULT]);

    let run = moto.xtask("destroy", "e2e", &["--yes"]);
    run.expect_code(0)
        .expect_stdout("backup vault backup-vault-e2e in us-east-1: its 2 recovery points will be deleted")
        .expect_stdout("backup vault backup-vault-e2e in us-east-2: locked (Vault Lock, minimum retention 7 days), so its 1 recovery points stay")
        .expect_stdout(&format!("zone {ZONE}: 3 ACM certificate validation records will be deleted"))
        .expect_stdout("deleted 2 recovery points of backup vault backup-vault-e2e")
        // AWS Backup deletes asynchronously (the emulator's item 49): destroy waits for the
        // vault to empty before deleting the stack around it.
        .expect_stdout("backup vault backup-vault-e2e: 2 recovery points still being deleted")
        .expect_stdout(&format!("deleted 3 ACM validation records from zone {ZONE}"))
        .expect_stdout("locked backup vault backup-vault-e2e in us-east-2 with its 1 recovery points: Vault Lock forbids deleting them");
    nothing_left(&moto, Some(("us-east-2", 1)));
}

/// After a failover us-east-2 writes; AWS refuses to delete that writer while the primary's
/// cluster is a member, so destroy refuses before deleting anything and names failback. After
/// the failback, the same destroy finishes.
#[test]
fn destroy_after_a_failover_refuses_until_failback() {
    let moto = Moto::start_with_clock(0.01);
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(0);
    let global = moto.inspect("us-east-1")["global_clusters"][0].clone();
    let id = global["id"].as_str().unwrap().to_string();
    let arn_in = |region: &str| {
        global["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["arn"].as_str().unwrap().to_string())
            .find(|a| a.contains(&format!(":{region}:")))
            .unwrap()
    };
    moto.dr("promote", &["us-east-2", &id, &arn_in("us-east-2")]);

    let refused = moto.xtask("destroy", "e2e", &["--yes"]);
    refused
        .expect_code(1)
        .expect_stderr("writes in us-east-2")
        .expect_stderr("Run `cargo xtask failback --suffix e2e` first")
        .expect_stderr("Nothing was deleted");
    for (region, name) in [("us-east-1", PRIMARY), ("us-east-2", SECONDARY)] {
        let state = moto.inspect(region);
        let status = stack(&state, name).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(status.ends_with("_COMPLETE"), "{name}: {status}");
    }

    moto.dr("promote", &["us-east-1", &id, &arn_in("us-east-1")]);
    moto.xtask("destroy", "e2e", &["--yes"]).expect_code(0);
    nothing_left(&moto, None);
}

/// A record someone added to the zone is not destroy's to delete: it refuses before deleting
/// anything. A stack left in DELETE_FAILED (here by a DeleteStack from outside while the vault
/// held a recovery point) is retried with what blocked it named, and the destroy finishes.
#[test]
fn destroy_refuses_foreign_records_and_retries_a_failed_deletion() {
    let moto = Moto::start();
    moto.xtask("deploy", "e2e", &["--yes"]).expect_code(0);
    let foreign = format!("www.{ZONE}");
    moto.dr("record", &[ZONE, &foreign]);
    let refused = moto.xtask("destroy", "e2e", &["--yes"]);
    refused
        .expect_code(1)
        .expect_stderr(&format!("holds records no stack of e2e made: {foreign}. A"))
        .expect_stderr("Nothing was deleted");
    assert!(stack(&moto.inspect("us-east-2"), SECONDARY).is_some());
    moto.dr("unrecord", &[ZONE, &foreign]);

    moto.dr("recovery-point", &["us-east-2", VAULT]);
    let failed = moto.dr("delete-stack", &["us-east-2", SECONDARY]);
    assert_eq!(failed["status"], "DELETE_FAILED", "{failed}");
    // A deploy does not build on a half-deleted stack.
    moto.xtask("deploy", "e2e", &["--yes"])
        .expect_code(1)
        .expect_stderr(
            "is DELETE_FAILED: a destroy did not finish. Run `cargo xtask destroy --suffix e2e`",
        );
    let retried = moto.xtask("destroy", "e2e", &["--yes"]);
    retried
        .expect_code(0)
        .expect_stdout("stack trading-dr-secondary-e2e in us-east-2: DELETE_FAILED")
        .expect_stdout("the last deletion of the secondary stack stopped at: ")
        // The deletion from outside emptied nothing: the buckets refused too, as S3 does.
        .expect_stdout("AccessLogsBucket (AWS::S3::Bucket): The bucket you tried to delete is not empty")
        .expect_stdout("BackupVault (AWS::Backup::BackupVault): Backup vault cannot be deleted (contains 1 recovery points)")
        .expect_stdout("deleted 1 recovery points of backup vault backup-vault-e2e");
    nothing_left(&moto, None);
}

/// Without credentials every AWS command stops at once with one line saying what to set, not
/// the SDK's dispatch failure; credentials AWS calls expired are said to be expired.
#[test]
fn missing_or_expired_credentials_are_said_in_one_line() {
    let moto = Moto::start_bare(1.0);
    for (command, extra) in [
        ("deploy", &["--yes"][..]),
        ("diff", &[][..]),
        ("destroy", &["--yes"][..]),
        ("failover", &["--dry-run"][..]),
    ] {
        let mut c = moto.xtask_command(command, "e2e", extra);
        let empty = moto.dir.path().join("no-such-file");
        c.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_CONFIG_FILE", &empty)
            .env("AWS_SHARED_CREDENTIALS_FILE", &empty);
        let out = c.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{command}: {stderr}");
        assert!(
            stderr.contains("no AWS credentials found: set AWS_PROFILE"),
            "{command}: {stderr}"
        );
        assert!(!stderr.contains("dispatch failure"), "{command}: {stderr}");
    }
    moto.faults(json!({"fail": {"GetCallerIdentity": ["ExpiredToken", "The security token included in the request is expired"]}}));
    moto.bootstrap(&[]).expect_code(1).expect_stderr(
        "the AWS credentials have expired (ExpiredToken): run `aws sso login` again",
    );
}
