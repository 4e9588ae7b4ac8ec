"""Puts a deployed environment into the states `cargo xtask status` must see, as AWS would show
them, and back; prints JSON.

Usage: python readiness_fixture.py ENDPOINT SUFFIX COMMAND [CHECK]
  backups         a backup job in the primary's vault and its copy into the secondary's
                  vault, as the daily plan and its copy action make them
  break CHECK     puts the environment into a state the check CHECK must report:
                    active-region      the runbooks' record says us-east-2 serves (it does not)
                    global-database    replication lag into us-east-2 over its threshold
                    s3-replication     objects of the data bucket failed to replicate
                    configuration      a shared flag changed in us-east-2 only
                    capacity           the standby service scaled to 0 tasks
                    alarms             the primary's canary fails
                    failover-lock      a runbook execution holds the lock
                    sessions-replicas  the sessions table's replica in us-east-2 deleted
  repair CHECK    puts it back (not sessions-replicas: a deleted replica needs a deploy)
"""

import json
import sys

import boto3

endpoint, suffix, command = sys.argv[1:4]
check = sys.argv[4] if len(sys.argv) > 4 else None
PRIMARY, SECONDARY = "us-east-1", "us-east-2"
ACCOUNT = "123456789012"


def client(service, region):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def outputs(region, role):
    stack = client("cloudformation", region).describe_stacks(
        StackName=f"trading-dr-{role}-{suffix}"
    )["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def datum(region, alarm, value):
    """Puts `value` on the metric (and dimensions) alarm `alarm` watches, as the service would."""
    cw = client("cloudwatch", region)
    a = cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]
    cw.put_metric_data(
        Namespace=a["Namespace"],
        MetricData=[
            {"MetricName": a["MetricName"], "Dimensions": a["Dimensions"], "Value": value}
        ],
    )
    return cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]


def parameter(region, key, value):
    client("ssm", region).put_parameter(
        Name=f"/trading/{suffix}/shared/{key}", Value=value, Type="String", Overwrite=True
    )
    return value


def standby(count):
    o = outputs(SECONDARY, "secondary")
    service = client("ecs", SECONDARY).update_service(
        cluster=o["EcsClusterName"], service=o["EcsServiceName"], desiredCount=count
    )["service"]
    return service["runningCount"]


LOCK = {"lock": {"S": "runbook"}}


def lock(held):
    table = f"runbook-lock-{suffix}"
    ddb = client("dynamodb", SECONDARY)
    if held:
        ddb.put_item(
            TableName=table,
            Item=dict(
                LOCK,
                owner={"S": f"arn:aws:states:{SECONDARY}:{ACCOUNT}:execution:runbook-failover-{suffix}:stuck"},
                operation={"S": "failover"},
            ),
        )
    else:
        ddb.delete_item(TableName=table, Key=LOCK)
    return held


BREAK = {
    "active-region": lambda: parameter(SECONDARY, "active-region", SECONDARY),
    "global-database": lambda: datum(SECONDARY, f"alarm-replication-lag-{suffix}", 120000),
    "s3-replication": lambda: datum(PRIMARY, f"alarm-s3-data-failed-{suffix}", 5),
    "configuration": lambda: parameter(SECONDARY, "flags/trading-enabled", "false"),
    "capacity": lambda: standby(0),
    "alarms": lambda: datum(PRIMARY, f"alarm-canary-success-{suffix}", 0),
    "failover-lock": lambda: lock(True),
    "sessions-replicas": lambda: client("dynamodb", SECONDARY).delete_table(
        TableName=f"sessions-{suffix}"
    )["TableDescription"]["TableName"],
}
REPAIR = {
    "active-region": lambda: parameter(SECONDARY, "active-region", PRIMARY),
    "global-database": lambda: datum(SECONDARY, f"alarm-replication-lag-{suffix}", 150),
    "s3-replication": lambda: datum(PRIMARY, f"alarm-s3-data-failed-{suffix}", 0),
    "configuration": lambda: parameter(SECONDARY, "flags/trading-enabled", "true"),
    "capacity": lambda: standby(1),
    "alarms": lambda: datum(PRIMARY, f"alarm-canary-success-{suffix}", 100),
    "failover-lock": lambda: lock(False),
}

if command == "backups":
    source = f"backup-vault-{suffix}"
    backup = client("backup", PRIMARY)
    point = backup.start_backup_job(
        BackupVaultName=source,
        ResourceArn=f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT}:table/sessions-{suffix}",
        IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/backup-{suffix}",
    )["RecoveryPointArn"]
    copy = backup.start_copy_job(
        RecoveryPointArn=point,
        SourceBackupVaultName=source,
        DestinationBackupVaultArn=f"arn:aws:backup:{SECONDARY}:{ACCOUNT}:backup-vault:backup-vault-{suffix}",
        IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/backup-{suffix}",
    )["CopyJobId"]
    print(json.dumps({"recovery_point": point, "copy_job": copy}))
elif command == "break":
    print(json.dumps({"broken": check, "now": BREAK[check]()}))
elif command == "repair":
    print(json.dumps({"repaired": check, "now": REPAIR[check]()}))
else:
    raise SystemExit(f"unknown command {command}")
