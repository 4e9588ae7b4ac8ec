"""Exercises the emulator's items 45-48 against a running patched moto server; prints one JSON
line with every check's result and exits 1 if any failed (2 on a usage error).

Usage: python emulator_selftest.py ENDPOINT

It starts nothing. The server is `moto_server.py`, started with the same environment as this
script: TRADING_DR_CLOCK_SCALE (the waits here are scaled by it too; 0.01 keeps the run near 30 s),
TRADING_DR_FAILOVER_SECONDS, TRADING_DR_SWITCHOVER_SECONDS and TRADING_DR_REBUILD_SECONDS (their
defaults are the server's), and TRADING_DR_FAULTS: when it names a file, the HTTPS health check is
also shown failing while the file names its endpoint (the file is restored after); otherwise
that check is reported as skipped.

    TRADING_DR_CLOCK_SCALE=0.01 TRADING_DR_FAULTS=/tmp/f.json python moto_server.py -H 127.0.0.1 -p 5077 &
    TRADING_DR_CLOCK_SCALE=0.01 TRADING_DR_FAULTS=/tmp/f.json python emulator_selftest.py http://127.0.0.1:5077

What it checks:
- 45: a CloudWatch alarm in us-east-2 (Period 60, EvaluationPeriods 5: a window of 300 s on the
  emulator's clock) and, from a CloudFormation change set in us-east-1, three CLOUDWATCH_METRIC
  health checks naming it (InsufficientDataHealthStatus Healthy, Unhealthy, LastKnownStatus), an
  HTTPS check and a CALCULATED one; GetHealthCheck keeps AlarmIdentifier and
  InsufficientDataHealthStatus and answers CloudWatchAlarmConfiguration; with no data each check
  follows its setting (LastKnownStatus of a new check: healthy); a breaching datum makes all three
  Failure, and SetAlarmState does not change that; past the window Healthy/Unhealthy/
  LastKnownStatus give Success/Failure/Failure; a datum within the threshold makes them Success,
  and past the window LastKnownStatus stays Success; observations come from the eight checker
  regions; the calculated check is refused with InvalidInput.
- 46, 47: a global cluster with a writer in us-east-1 and a secondary in us-east-2 (moto's RDS
  API); a failover with data loss takes the failover time, then the old primary is
  pending-resync; switchover, and failover without AllowDataLoss, are refused with
  InvalidGlobalClusterStateFault until the rebuild time passes; then every member is connected,
  the switchover is accepted, takes the switchover time, and leaves the old primary connected.
- 48: a state machine whose task calls rds:switchoverGlobalCluster on a missing global cluster
  fails with Rds.GlobalClusterNotFoundException, its Cause naming the service Rds, and a Catch on
  that name catches it.
"""

import json
import os
import sys
import time
import uuid

import boto3
from botocore.exceptions import ClientError

if len(sys.argv) != 2:
    sys.stderr.write(__doc__)
    sys.exit(2)

ENDPOINT = sys.argv[1]
SCALE = float(os.environ.get("TRADING_DR_CLOCK_SCALE", "1"))
FAILOVER = float(os.environ.get("TRADING_DR_FAILOVER_SECONDS", "150")) * SCALE
SWITCHOVER = float(os.environ.get("TRADING_DR_SWITCHOVER_SECONDS", "150")) * SCALE
REBUILD = float(os.environ.get("TRADING_DR_REBUILD_SECONDS", "900")) * SCALE
FAULTS = os.environ.get("TRADING_DR_FAULTS")
NONCE = uuid.uuid4().hex[:8]
ACCOUNT = "123456789012"

PERIOD, EVALUATION_PERIODS = 60, 5
WINDOW = PERIOD * EVALUATION_PERIODS * SCALE

checks = []


def check(item, name, ok, detail=None):
    checks.append({"item": item, "check": name, "ok": bool(ok), "detail": detail})
    return ok


def client(service, region):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def error_of(call, *args, **kwargs):
    """(code, message) of the ClientError `call` raises, or (None, result)."""
    try:
        return None, call(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", "")


# --- 45 ------------------------------------------------------------------------------------------

cloudwatch = client("cloudwatch", "us-east-2")
route53 = client("route53", "us-east-1")
cfn = client("cloudformation", "us-east-1")

ALARM = f"selftest-switch-{NONCE}"
NAMESPACE = "TradingDRSelfTest"
METRIC = "FailoverActive"
DIMENSIONS = [{"Name": "Environment", "Value": NONCE}]
FQDN = f"primary-{NONCE}.selftest.example.com"


def put(value):
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE, MetricData=[{"MetricName": METRIC, "Dimensions": DIMENSIONS, "Value": value}]
    )


def status(health_check_id):
    """'Success', 'Failure' or 'Mixed' over the observations, and the observations."""
    observations = route53.get_health_check_status(HealthCheckId=health_check_id)["HealthCheckObservations"]
    kinds = {o["StatusReport"]["Status"].split(":", 1)[0] for o in observations}
    return (kinds.pop() if len(kinds) == 1 else "Mixed"), observations


def statuses(ids):
    return {name: status(hc)[0] for name, hc in ids.items()}


def test_health_checks():
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        Namespace=NAMESPACE,
        MetricName=METRIC,
        Dimensions=DIMENSIONS,
        Statistic="Maximum",
        Period=PERIOD,
        EvaluationPeriods=EVALUATION_PERIODS,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="ignore",
        ActionsEnabled=False,
    )
    resources = {}
    outputs = {}
    for name, setting in [("Healthy", "Healthy"), ("Unhealthy", "Unhealthy"), ("LastKnown", "LastKnownStatus")]:
        resources[f"Switch{name}"] = {
            "Type": "AWS::Route53::HealthCheck",
            "Properties": {
                "HealthCheckConfig": {
                    "Type": "CLOUDWATCH_METRIC",
                    "AlarmIdentifier": {"Name": ALARM, "Region": "us-east-2"},
                    "InsufficientDataHealthStatus": setting,
                }
            },
        }
    resources["Endpoint"] = {
        "Type": "AWS::Route53::HealthCheck",
        "Properties": {
            "HealthCheckConfig": {
                "Type": "HTTPS",
                "FullyQualifiedDomainName": FQDN,
                "Port": 443,
                "ResourcePath": "/",
                "RequestInterval": 10,
                "FailureThreshold": 3,
                "EnableSNI": True,
            }
        },
    }
    resources["Serving"] = {
        "Type": "AWS::Route53::HealthCheck",
        "Properties": {
            "HealthCheckConfig": {
                "Type": "CALCULATED",
                "ChildHealthChecks": [{"Ref": "Endpoint"}, {"Ref": "SwitchHealthy"}],
                "HealthThreshold": 2,
            }
        },
    }
    for logical in resources:
        outputs[logical] = {"Value": {"Ref": logical}}
    stack = f"selftest-health-{NONCE}"
    change = cfn.create_change_set(
        StackName=stack,
        ChangeSetName=f"c{NONCE}",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps({"Resources": resources, "Outputs": outputs}),
    )
    cfn.execute_change_set(ChangeSetName=change["Id"], StackName=stack)
    for _ in range(200):
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not described["StackStatus"].endswith("_IN_PROGRESS"):
            break
        time.sleep(0.1)
    if not check(45, "the health checks' stack is created", described["StackStatus"] == "CREATE_COMPLETE", described["StackStatus"]):
        return
    ids = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    metric = {k: ids[f"Switch{k}"] for k in ("Healthy", "Unhealthy", "LastKnown")}

    got = route53.get_health_check(HealthCheckId=metric["Unhealthy"])["HealthCheck"]
    config = got["HealthCheckConfig"]
    check(
        45,
        "GetHealthCheck keeps AlarmIdentifier and InsufficientDataHealthStatus (from the template)",
        config.get("AlarmIdentifier") == {"Name": ALARM, "Region": "us-east-2"}
        and config.get("InsufficientDataHealthStatus") == "Unhealthy",
        config,
    )
    alarm_config = got.get("CloudWatchAlarmConfiguration") or {}
    check(
        45,
        "GetHealthCheck answers the alarm's CloudWatchAlarmConfiguration",
        alarm_config.get("MetricName") == METRIC
        and alarm_config.get("EvaluationPeriods") == EVALUATION_PERIODS
        and alarm_config.get("Statistic") == "Maximum",
        alarm_config,
    )
    serving = route53.get_health_check(HealthCheckId=ids["Serving"])["HealthCheck"]["HealthCheckConfig"]
    check(
        45,
        "a calculated check keeps its children and threshold (from the template)",
        sorted(serving.get("ChildHealthChecks") or []) == sorted([ids["Endpoint"], metric["Healthy"]])
        and serving.get("HealthThreshold") == 2,
        serving,
    )

    initial = statuses(metric)
    check(
        45,
        "no data: Healthy/Unhealthy/LastKnownStatus (new check) give Success/Failure/Success",
        initial == {"Healthy": "Success", "Unhealthy": "Failure", "LastKnown": "Success"},
        initial,
    )
    kind, observations = status(metric["Healthy"])
    regions = sorted(o["Region"] for o in observations)
    check(
        45,
        "observations from the eight default checker regions",
        len(regions) == 8 and "us-east-1" in regions and "sa-east-1" in regions
        and all(o["StatusReport"]["Status"].startswith(("Success: ", "Failure: ")) for o in observations),
        regions,
    )

    put(1.0)
    breached = statuses(metric)
    check(45, "a breaching datum: all three Failure", set(breached.values()) == {"Failure"}, breached)
    alarm_state = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["StateValue"]
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="selftest")
    forced = statuses(metric)
    check(
        45,
        "SetAlarmState does not change the status (the data stream decides, not the alarm's state)",
        set(forced.values()) == {"Failure"},
        {"alarm_state_after_datum": alarm_state, "statuses": forced},
    )

    time.sleep(WINDOW + 1.0)
    expired = statuses(metric)
    check(
        45,
        "past the window: Healthy/Unhealthy/LastKnownStatus give Success/Failure/Failure",
        expired == {"Healthy": "Success", "Unhealthy": "Failure", "LastKnown": "Failure"},
        expired,
    )

    put(0.0)
    within = statuses(metric)
    check(45, "a datum within the threshold: all three Success", set(within.values()) == {"Success"}, within)
    time.sleep(WINDOW + 1.0)
    later = statuses(metric)
    check(
        45,
        "past the window again: LastKnownStatus keeps Success",
        later == {"Healthy": "Success", "Unhealthy": "Failure", "LastKnown": "Success"},
        later,
    )

    code, message = error_of(route53.get_health_check_status, HealthCheckId=ids["Serving"])
    check(45, "GetHealthCheckStatus refuses a calculated check with InvalidInput", code == "InvalidInput", [code, message])

    endpoint_before = status(ids["Endpoint"])[0]
    if FAULTS:
        saved = open(FAULTS, encoding="utf-8").read() if os.path.exists(FAULTS) else None
        try:
            with open(FAULTS, "w", encoding="utf-8") as f:
                json.dump({"unhealthy_endpoints": [FQDN + "."]}, f)
            endpoint_down = status(ids["Endpoint"])[0]
        finally:
            if saved is None:
                os.remove(FAULTS)
            else:
                with open(FAULTS, "w", encoding="utf-8") as f:
                    f.write(saved)
        endpoint_after = status(ids["Endpoint"])[0]
        check(
            45,
            "an HTTPS check fails while the fault file names its endpoint",
            (endpoint_before, endpoint_down, endpoint_after) == ("Success", "Failure", "Success"),
            [endpoint_before, endpoint_down, endpoint_after],
        )
    else:
        check(45, "an HTTPS check is healthy (unhealthy_endpoints skipped: no TRADING_DR_FAULTS)", endpoint_before == "Success", endpoint_before)


# --- 46, 47 --------------------------------------------------------------------------------------

rds_east1 = client("rds", "us-east-1")
rds_east2 = client("rds", "us-east-2")
GLOBAL = f"selftest-global-{NONCE}"


def global_cluster():
    return rds_east1.describe_global_clusters(GlobalClusterIdentifier=GLOBAL)["GlobalClusters"][0]


def wait_until_done(limit):
    """Seconds until the global cluster's FailoverState clears (None past `limit`)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if not global_cluster().get("FailoverState"):
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def members():
    return {m["DBClusterArn"]: m for m in global_cluster()["GlobalClusterMembers"]}


def test_global_database():
    rds_east1.create_global_cluster(GlobalClusterIdentifier=GLOBAL, Engine="aurora-postgresql", EngineVersion="15.4")
    primary = rds_east1.create_db_cluster(
        DBClusterIdentifier=f"primary-{NONCE}",
        Engine="aurora-postgresql",
        EngineVersion="15.4",
        GlobalClusterIdentifier=GLOBAL,
        MasterUsername="admin",
        MasterUserPassword="password-1234",
    )["DBCluster"]["DBClusterArn"]
    secondary = rds_east2.create_db_cluster(
        DBClusterIdentifier=f"secondary-{NONCE}",
        Engine="aurora-postgresql",
        EngineVersion="15.4",
        GlobalClusterIdentifier=GLOBAL,
    )["DBCluster"]["DBClusterArn"]
    before = members()
    check(
        47,
        "every member is connected before any failover",
        {a: m.get("SynchronizationStatus") for a, m in before.items()} == {primary: "connected", secondary: "connected"}
        and before[primary]["IsWriter"],
        before,
    )

    started = time.monotonic()
    answered = rds_east2.failover_global_cluster(
        GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=secondary, AllowDataLoss=True
    )["GlobalCluster"]
    check(46, "a failover with data loss starts (failing-over)", answered.get("Status") == "failing-over", answered.get("FailoverState"))
    took = wait_until_done(FAILOVER * 4 + 10)
    took = None if took is None else time.monotonic() - started
    check(
        46,
        "the failover takes TRADING_DR_FAILOVER_SECONDS x the clock scale",
        took is not None and FAILOVER * 0.9 <= took <= FAILOVER + 5,
        {"took": took, "expected": FAILOVER},
    )
    completed = time.monotonic()
    after = members()
    check(
        47,
        "after the failover the old primary is pending-resync, the new primary connected",
        after[secondary]["IsWriter"]
        and after[primary].get("SynchronizationStatus") == "pending-resync"
        and after[secondary].get("SynchronizationStatus") == "connected",
        {a: (m["IsWriter"], m.get("SynchronizationStatus")) for a, m in after.items()},
    )
    code, message = error_of(
        rds_east1.switchover_global_cluster, GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=primary
    )
    check(
        47,
        "SwitchoverGlobalCluster is refused while a member is pending-resync",
        code == "InvalidGlobalClusterStateFault" and "not synchronized" in message,
        [code, message],
    )
    code, message = error_of(
        rds_east1.failover_global_cluster, GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=primary
    )
    check(
        47,
        "FailoverGlobalCluster without AllowDataLoss is refused likewise",
        code == "InvalidGlobalClusterStateFault" and "not synchronized" in message,
        [code, message],
    )

    while time.monotonic() - completed < REBUILD + 20:
        if members()[primary].get("SynchronizationStatus") == "connected":
            break
        time.sleep(0.1)
    rebuilt = time.monotonic() - completed
    check(
        47,
        "the old primary is connected once TRADING_DR_REBUILD_SECONDS x the clock scale has passed",
        members()[primary].get("SynchronizationStatus") == "connected" and rebuilt >= REBUILD * 0.9 - 0.5,
        {"after": rebuilt, "expected": REBUILD},
    )

    started = time.monotonic()
    code, answered = error_of(
        rds_east1.switchover_global_cluster, GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=primary
    )
    check(47, "then the switchover is accepted", code is None, code and answered)
    if code is None:
        took = wait_until_done(SWITCHOVER * 4 + 10)
        took = None if took is None else time.monotonic() - started
        check(
            46,
            "the switchover takes TRADING_DR_SWITCHOVER_SECONDS x the clock scale",
            took is not None and SWITCHOVER * 0.9 <= took <= SWITCHOVER + 5,
            {"took": took, "expected": SWITCHOVER},
        )
        final = members()
        check(
            47,
            "after the switchover the old primary is connected at once",
            final[primary]["IsWriter"]
            and {m.get("SynchronizationStatus") for m in final.values()} == {"connected"},
            {a: (m["IsWriter"], m.get("SynchronizationStatus")) for a, m in final.items()},
        )


# --- 48 ------------------------------------------------------------------------------------------

sfn = client("stepfunctions", "us-east-1")


def test_sdk_error_names():
    missing = f"missing-{NONCE}"
    definition = {
        "StartAt": "Switchover",
        "States": {
            "Switchover": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:rds:switchoverGlobalCluster",
                "Parameters": {"GlobalClusterIdentifier": missing, "TargetDbClusterIdentifier": "nobody"},
                "End": True,
            }
        },
    }
    caught = json.loads(json.dumps(definition))
    caught["States"]["Switchover"].pop("End")
    caught["States"]["Switchover"]["Catch"] = [
        {"ErrorEquals": ["Rds.GlobalClusterNotFoundException"], "ResultPath": "$.error", "Next": "Caught"}
    ]
    caught["States"]["Switchover"]["Next"] = "Caught"
    caught["States"]["Caught"] = {"Type": "Pass", "End": True}
    results = {}
    for name, body in (("uncaught", definition), ("caught", caught)):
        arn = sfn.create_state_machine(
            name=f"selftest-{name}-{NONCE}",
            definition=json.dumps(body),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/selftest",
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        for _ in range(300):
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                break
            time.sleep(0.05)
        results[name] = described
    uncaught = results["uncaught"]
    check(
        48,
        "rds:switchoverGlobalCluster on a missing global cluster fails with Rds.GlobalClusterNotFoundException",
        uncaught["status"] == "FAILED"
        and uncaught.get("error") == "Rds.GlobalClusterNotFoundException"
        and "(Service: Rds, Status Code: " in (uncaught.get("cause") or ""),
        {"status": uncaught["status"], "error": uncaught.get("error"), "cause": uncaught.get("cause")},
    )
    caught_run = results["caught"]
    output = json.loads(caught_run.get("output") or "{}")
    check(
        48,
        "a Catch on Rds.GlobalClusterNotFoundException catches it",
        caught_run["status"] == "SUCCEEDED" and (output.get("error") or {}).get("Error") == "Rds.GlobalClusterNotFoundException",
        {"status": caught_run["status"], "error": output.get("error")},
    )


for test in (test_health_checks, test_global_database, test_sdk_error_names):
    try:
        test()
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check(None, f"{test.__name__} raised", False, f"{type(e).__name__}: {e}")

failed = [c for c in checks if not c["ok"]]
print(
    json.dumps(
        {
            "ok": not failed,
            "clock_scale": SCALE,
            "seconds": {"failover": FAILOVER, "switchover": SWITCHOVER, "rebuild": REBUILD, "alarm_window": WINDOW},
            "passed": len(checks) - len(failed),
            "failed": len(failed),
            "checks": checks,
        }
    )
)
sys.exit(1 if failed else 0)
