//! `cargo xtask status` and `cargo xtask drill` against the emulator: status says ready on a
//! healthy deployment and names each broken check (exit 2) when it is not, still answers with a
//! region unreachable; a drill measures a forced failover and a failback and writes its report;
//! a drill with a fault says where it stopped and leaves the system safe. The emulator's clock
//! runs 100 times fast for the drills.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Moto, Run};

const SUFFIX: &str = "e2e";

fn status(moto: &Moto) -> (Run, Value) {
    let r = moto.xtask("status", SUFFIX, &["--json"]);
    moto.assert_no_server_errors();
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "status --json printed no JSON ({e})\nstdout:\n{}\nstderr:\n{}",
            r.stdout, r.stderr
        )
    });
    (r, v)
}

/// The names of the checks that are not ok.
fn failing(v: &Value) -> Vec<String> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "ok")
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn detail<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {v}"))
}

/// A deployed environment whose first backup and its copy exist.
fn ready(clock: f64) -> Moto {
    let moto = Moto::start_with_clock(clock);
    moto.xtask("deploy", SUFFIX, &["--yes"]).expect_code(0);
    moto.readiness(SUFFIX, "backups", &[]);
    moto
}

#[test]
fn status_is_ready_when_healthy_and_names_each_broken_check() {
    let moto = Moto::start();
    moto.xtask("deploy", SUFFIX, &["--yes"]).expect_code(0);

    // A new deployment has no backup yet: everything else is ready.
    let (r, v) = status(&moto);
    r.expect_code(2);
    assert_eq!(failing(&v), ["backups"], "{v:#}");
    assert_eq!(v["verdict"], "action-required");
    assert!(
        detail(&v, "backups")["detail"]
            .as_str()
            .unwrap()
            .contains("no completed backup"),
        "{v:#}"
    );

    moto.readiness(SUFFIX, "backups", &[]);
    let (r, v) = status(&moto);
    r.expect_code(0);
    assert_eq!(v["suffix"], SUFFIX);
    assert_eq!(v["active_region"], "us-east-1");
    assert_eq!(v["verdict"], "ready");
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "stacks",
            "active-region",
            "global-database",
            "sessions-replicas",
            "s3-replication",
            "configuration",
            "capacity",
            "alarms",
            "failover-lock",
            "backups"
        ]
    );
    // The text form says the same.
    moto.xtask("status", SUFFIX, &[])
        .expect_code(0)
        .expect_stdout("verdict: ready");

    for check in [
        "active-region",
        "global-database",
        "s3-replication",
        "configuration",
        "capacity",
        "alarms",
        "failover-lock",
    ] {
        moto.readiness(SUFFIX, "break", &[check]);
        let (r, v) = status(&moto);
        r.expect_code(2);
        assert_eq!(failing(&v), [check], "breaking {check}: {v:#}");
        assert!(
            !detail(&v, check)["fix"].as_str().unwrap().is_empty(),
            "{check} says no fix: {v:#}"
        );
        moto.readiness(SUFFIX, "repair", &[check]);
        let (r, v) = status(&moto);
        r.expect_code(0);
        assert_eq!(
            failing(&v),
            Vec::<String>::new(),
            "repairing {check}: {v:#}"
        );
    }

    // Templates that changed since the deploy: the stacks are not what synth makes now.
    let overlay = moto.env_dir().join(format!("{SUFFIX}.toml"));
    std::fs::write(&overlay, "[flags]\nnew-screen = \"off\"\n").unwrap();
    let (r, v) = status(&moto);
    r.expect_code(2);
    assert_eq!(failing(&v), ["stacks"], "{v:#}");
    assert!(
        detail(&v, "stacks")["detail"]
            .as_str()
            .unwrap()
            .contains("other templates than synth makes now"),
        "{v:#}"
    );
    std::fs::remove_file(&overlay).unwrap();
    status(&moto).0.expect_code(0);

    // A replica lost.
    moto.readiness(SUFFIX, "break", &["sessions-replicas"]);
    let (r, v) = status(&moto);
    r.expect_code(2);
    assert_eq!(failing(&v), ["sessions-replicas"], "{v:#}");
    assert!(
        detail(&v, "sessions-replicas")["detail"]
            .as_str()
            .unwrap()
            .contains("lists no replica in us-east-2"),
        "{v:#}"
    );

    // The primary region unreachable: named, its checks unknown, the recovery region still read.
    moto.faults(serde_json::json!({"unreachable": ["us-east-1"]}));
    let r = moto.xtask("status", SUFFIX, &["--json"]);
    r.expect_code(2);
    assert!(
        r.elapsed < Duration::from_secs(25),
        "status took {:?} with a region down",
        r.elapsed
    );
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(detail(&v, "stacks")["status"], "unknown", "{v:#}");
    assert!(
        detail(&v, "stacks")["detail"]
            .as_str()
            .unwrap()
            .contains("us-east-1 unreachable"),
        "{v:#}"
    );
    assert_eq!(detail(&v, "failover-lock")["status"], "ok", "{v:#}");
    assert_eq!(detail(&v, "active-region")["status"], "ok", "{v:#}");
    moto.faults(serde_json::json!({}));
}

fn report(moto: &Moto) -> (Value, String) {
    let drills = moto.dir.path().join("out").join(SUFFIX).join("drills");
    let mut runs: Vec<_> = std::fs::read_dir(&drills)
        .unwrap_or_else(|e| panic!("no drills folder {}: {e}", drills.display()))
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    let last = runs.last().expect("a drill report");
    let json = std::fs::read_to_string(last.join("drill.json")).unwrap();
    let markdown = std::fs::read_to_string(last.join("drill.md")).unwrap();
    (serde_json::from_str(&json).unwrap(), markdown)
}

#[test]
fn a_drill_fails_over_and_back_and_measures_the_recovery() {
    let moto = ready(0.01);
    let r = moto.xtask("drill", SUFFIX, &["--yes", "--mode", "graceful"]);
    moto.assert_no_server_errors();
    r.expect_code(0).expect_stdout("drill passed");
    let (v, markdown) = report(&moto);
    assert_eq!(v["result"], "passed", "{v:#}");
    assert_eq!(
        v["mode"], "graceful",
        "a switchover: nothing lost, no rebuild: {v:#}"
    );
    assert_eq!(v["rebuild_seconds"], Value::Null);
    let measured = v["measured_rto_seconds"].as_f64().unwrap();
    let computed = v["computed_rto_seconds"].as_f64().unwrap();
    assert!(measured > 0.0 && measured <= computed, "{v:#}");
    let stages = v["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 2);
    assert_eq!(stages[0]["stage"], "failover");
    assert_eq!(stages[0]["status"], "SUCCEEDED");
    assert_eq!(stages[1]["stage"], "failback");
    assert_eq!(stages[1]["status"], "SUCCEEDED");
    for stage in stages {
        for condition in ["writer", "traffic-switch", "full-capacity", "canaries-ok"] {
            assert!(
                stage["conditions"][condition].as_f64().is_some(),
                "{condition} never held in {stage:#}"
            );
        }
        let timeline: Vec<&str> = stage["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["state"].as_str().unwrap())
            .collect();
        for state in ["AcquireLock", "NotifyDone"] {
            assert!(timeline.contains(&state), "{state} not in {stage:#}");
        }
    }
    // Left as found: the primary serves and status is ready.
    assert_eq!(v["status_after"]["verdict"], "ready", "{v:#}");
    assert_eq!(v["status_after"]["active_region"], "us-east-1");
    assert_eq!(v["templates"].as_array().unwrap().len(), 2);
    assert!(markdown.contains("Measured recovery time"), "{markdown}");
    // Stored in the primary's configuration bucket too.
    let listing = moto.s3_fixture(
        "list",
        &format!("config-{SUFFIX}-us-east-1-{}", support::ACCOUNT),
    );
    let keys = listing.to_string();
    assert!(
        keys.contains("drills/") && keys.contains("drill.json"),
        "{listing:#}"
    );
    status(&moto).0.expect_code(0);
}

#[test]
fn a_drill_with_a_fault_reports_where_it_stopped_and_leaves_the_system_safe() {
    let moto = ready(0.01);

    // Not ready: refused, nothing started.
    moto.readiness(SUFFIX, "break", &["failover-lock"]);
    moto.xtask("drill", SUFFIX, &["--yes", "--mode", "graceful"])
        .expect_code(1)
        .expect_stderr("a drill starts only from a ready deployment: failover-lock")
        .expect_stderr("Nothing was started");
    moto.readiness(SUFFIX, "repair", &["failover-lock"]);

    // A graceful drill switches over: RDS refuses the switchover.
    moto.faults(serde_json::json!({"fail": {"SwitchoverGlobalCluster": [
        "InvalidGlobalClusterStateFault", "the global cluster is being modified"
    ]}}));
    let r = moto.xtask("drill", SUFFIX, &["--yes", "--mode", "graceful"]);
    r.expect_code(1).expect_stdout("drill failed");
    let (v, markdown) = report(&moto);
    assert_eq!(v["result"], "failed", "{v:#}");
    assert_eq!(v["failed_stage"], "failover", "{v:#}");
    let failover = &v["stages"][0];
    assert_eq!(failover["status"], "FAILED", "{v:#}");
    assert_eq!(failover["error"], "FailoverRolledBack", "{v:#}");
    assert_eq!(failover["stopped_at"], "RolledBack", "{v:#}");
    assert!(v["measured_rto_seconds"].is_null(), "{v:#}");
    assert_eq!(
        v["stages"].as_array().unwrap().len(),
        1,
        "failback must not run"
    );
    assert!(markdown.contains("FailoverRolledBack"), "{markdown}");
    // Safe: the runbook undid its steps; the primary serves, the lock is free.
    moto.faults(serde_json::json!({}));
    assert_eq!(v["status_after"]["active_region"], "us-east-1", "{v:#}");
    let (r, after) = status(&moto);
    r.expect_code(0);
    assert_eq!(after["verdict"], "ready", "{after:#}");
}

/// After a failover the switch's one datum ages out of its alarm's window; Route 53 then reads
/// the switch's health check with too little data. It keeps its last known status, so traffic
/// stays in us-east-2 until failback, and status says so from what Route 53 reports (with
/// `InsufficientDataHealthStatus: Healthy`, as before, this reads healthy: DNS back to us-east-1).
#[test]
fn after_a_failover_route53_keeps_traffic_in_the_standby_until_failback() {
    let moto = ready(0.01);
    moto.xtask("failover", SUFFIX, &["--force", "--yes"])
        .expect_code(0);
    // The switch alarm's window is 60 s × 1 on a clock 100 times fast: long gone after 3 s.
    std::thread::sleep(Duration::from_secs(3));
    let (_, v) = status(&moto);
    let alarms = detail(&v, "alarms");
    assert!(
        alarms["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Route 53 reads the traffic switch unhealthy: traffic stays in us-east-2"),
        "{alarms:#}"
    );
    assert_eq!(alarms["status"], "ok", "{alarms:#}");
}

/// An ungraceful drill fails over with data loss, waits for AWS to rebuild the old primary
/// (progress printed), then fails back onto it; the report says which mode and what it proves.
#[test]
fn an_ungraceful_drill_waits_for_the_rebuild_and_fails_back() {
    let moto = ready(0.01);
    let r = moto.xtask("drill", SUFFIX, &["--yes", "--mode", "ungraceful"]);
    moto.assert_no_server_errors();
    r.expect_code(0)
        .expect_stdout("waiting for AWS to rebuild the old primary")
        .expect_stdout("rejoined after")
        .expect_stdout("drill passed");
    let (v, markdown) = report(&moto);
    assert_eq!(v["mode"], "ungraceful", "{v:#}");
    assert!(v["rebuild_seconds"].as_f64().unwrap() > 0.0, "{v:#}");
    assert!(v["proves"].as_str().unwrap().contains("data loss"), "{v:#}");
    assert!(markdown.contains("Mode: **ungraceful**"), "{markdown}");
    assert_eq!(v["stages"][1]["status"], "SUCCEEDED", "{v:#}");
}
