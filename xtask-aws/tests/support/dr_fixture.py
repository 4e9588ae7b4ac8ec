"""Puts an environment into the states that make a real destroy hard, as AWS would, for the
destroy tests; prints JSON.

Usage: python dr_fixture.py ENDPOINT COMMAND [ARGS]
  recovery-point REGION VAULT     a backup job into VAULT (a recovery point at once)
  lock REGION VAULT DAYS          Vault Lock on VAULT, minimum retention DAYS
  record ZONE NAME                an A record NAME in zone ZONE, as a person would add it
  unrecord ZONE NAME              deletes that record
  promote REGION GLOBAL CLUSTER   fails the global database over to CLUSTER (an ARN) in REGION
                                  with data loss allowed, as the failover runbook does, or, when
                                  CLUSTER is in us-east-1, switches back once every member is
                                  synchronized; waits (≤ 60 s) until CLUSTER writes
  delete-stack REGION NAME        DeleteStack, as someone would outside destroy; waits until the
                                  stack settles and prints its status
"""

import json
import sys
import time

import boto3

endpoint, command = sys.argv[1:3]
args = sys.argv[3:]


def client(service, region="us-east-1"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def zone_id(name):
    for z in client("route53").list_hosted_zones()["HostedZones"]:
        if z["Name"].rstrip(".") == name.rstrip("."):
            return z["Id"]
    raise SystemExit(f"no zone {name}")


def change(action, zone, name):
    client("route53").change_resource_record_sets(
        HostedZoneId=zone_id(zone),
        ChangeBatch={
            "Changes": [
                {
                    "Action": action,
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "A",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "192.0.2.10"}],
                    },
                }
            ]
        },
    )


if command == "recovery-point":
    region, vault = args
    answer = client("backup", region).start_backup_job(
        BackupVaultName=vault,
        ResourceArn=f"arn:aws:dynamodb:{region}:123456789012:table/sessions",
        IamRoleArn="arn:aws:iam::123456789012:role/backup",
    )
    print(json.dumps({"arn": answer["RecoveryPointArn"]}))
elif command == "lock":
    region, vault, days = args
    client("backup", region).put_backup_vault_lock_configuration(
        BackupVaultName=vault, MinRetentionDays=int(days)
    )
    print(json.dumps({"locked": vault}))
elif command in ("record", "unrecord"):
    zone, name = args
    change("CREATE" if command == "record" else "DELETE", zone, name)
    print(json.dumps({command: name}))
elif command == "promote":
    region, global_id, cluster = args
    rds = client("rds", region)
    if ":us-east-1:" in cluster:
        # A switchover needs every member synchronized: after a failover with data loss AWS
        # rebuilds the old primary first (the emulator's item 47).
        deadline = time.monotonic() + 60
        while any(
            m.get("SynchronizationStatus", "connected") != "connected"
            for m in rds.describe_global_clusters(GlobalClusterIdentifier=global_id)["GlobalClusters"][0][
                "GlobalClusterMembers"
            ]
        ):
            if time.monotonic() > deadline:
                raise SystemExit("the old primary did not rejoin within 60 s")
            time.sleep(0.2)
        rds.switchover_global_cluster(
            GlobalClusterIdentifier=global_id, TargetDbClusterIdentifier=cluster
        )
    else:
        rds.failover_global_cluster(
            GlobalClusterIdentifier=global_id, TargetDbClusterIdentifier=cluster, AllowDataLoss=True
        )
    deadline = time.monotonic() + 60
    while True:
        members = rds.describe_global_clusters(GlobalClusterIdentifier=global_id)[
            "GlobalClusters"
        ][0]["GlobalClusterMembers"]
        writer = next((m["DBClusterArn"] for m in members if m["IsWriter"]), None)
        if writer == cluster:
            print(json.dumps({"writer": writer}))
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"{cluster} does not write after 60 s: {members}")
        time.sleep(0.2)
elif command == "delete-stack":
    region, name = args
    cfn = client("cloudformation", region)
    cfn.delete_stack(StackName=name)
    try:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except cfn.exceptions.ClientError:
        status = "DELETE_COMPLETE"
    print(json.dumps({"status": status}))
else:
    raise SystemExit(f"unknown command {command}")
