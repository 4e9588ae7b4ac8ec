"""Reads what the emulator holds, for the deploy tests' assertions, as JSON on stdout.

Usage: python inspect_aws.py ENDPOINT REGION
"""

import json
import sys

import boto3

endpoint, region = sys.argv[1], sys.argv[2]
session = boto3.session.Session(
    aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
)
ec2 = session.client("ec2", endpoint_url=endpoint)
cfn = session.client("cloudformation", endpoint_url=endpoint)
rds = session.client("rds", endpoint_url=endpoint)
ecs = session.client("ecs", endpoint_url=endpoint)
elb = session.client("elbv2", endpoint_url=endpoint)
route53 = session.client("route53", endpoint_url=endpoint)
backup = session.client("backup", endpoint_url=endpoint)
s3 = session.client("s3", endpoint_url=endpoint)
cloudtrail = session.client("cloudtrail", endpoint_url=endpoint)
wafv2 = session.client("wafv2", endpoint_url=endpoint)
secretsmanager = session.client("secretsmanager", endpoint_url=endpoint)


def firewalls():
    """Each load balancer's web ACL: its rules in order and where it logs."""
    found = {}
    for lb in elb.describe_load_balancers()["LoadBalancers"]:
        acl = wafv2.get_web_acl_for_resource(ResourceArn=lb["LoadBalancerArn"]).get("WebACL")
        if not acl:
            found[lb["LoadBalancerName"]] = None
            continue
        try:
            logging = wafv2.get_logging_configuration(ResourceArn=acl["ARN"])["LoggingConfiguration"]
            destinations = [d.split(":log-group:", 1)[-1] for d in logging["LogDestinationConfigs"]]
        except wafv2.exceptions.WAFNonexistentItemException:
            destinations = []
        found[lb["LoadBalancerName"]] = {
            "name": acl["Name"],
            "rules": [r["Name"] for r in sorted(acl.get("Rules", []), key=lambda r: r["Priority"])],
            "logs": destinations,
        }
    return found


def secrets():
    """Each secret: where it is primary, its replicas, its rotation and its value's keys."""
    found = []
    for s in secretsmanager.list_secrets()["SecretList"]:
        d = secretsmanager.describe_secret(SecretId=s["ARN"])
        value = json.loads(secretsmanager.get_secret_value(SecretId=s["ARN"])["SecretString"])
        found.append(
            {
                "name": d["Name"],
                "primary_region": d.get("PrimaryRegion", region),
                "replicas": sorted(r["Region"] for r in d.get("ReplicationStatus", [])),
                "rotation": d.get("RotationEnabled", False),
                "rotation_days": (d.get("RotationRules") or {}).get("AutomaticallyAfterDays"),
                "function": (d.get("RotationLambdaARN") or "").rsplit(":", 1)[-1],
                "keys": sorted(value),
            }
        )
    return found


def services():
    found = []
    for cluster in ecs.list_clusters()["clusterArns"]:
        arns = ecs.list_services(cluster=cluster)["serviceArns"]
        if arns:
            for svc in ecs.describe_services(cluster=cluster, services=arns)["services"]:
                found.append({"name": svc["serviceName"], "desired": svc["desiredCount"]})
    return found


def records():
    found = []
    for zone in route53.list_hosted_zones()["HostedZones"]:
        for r in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]:
            found.append({"zone": zone["Name"], "name": r["Name"], "type": r["Type"], "failover": r.get("Failover")})
    return found


def vaults():
    found = []
    for v in backup.list_backup_vaults()["BackupVaultList"]:
        name = v["BackupVaultName"]
        points = backup.list_recovery_points_by_backup_vault(BackupVaultName=name)
        found.append(
            {"name": name, "locked": v.get("Locked", False), "points": len(points["RecoveryPoints"])}
        )
    return found


def tags(item):
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}


stacks = {}
for s in cfn.describe_stacks().get("Stacks", []):
    stacks[s["StackName"]] = {
        "status": s["StackStatus"],
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in s.get("Outputs", [])},
        "parameters": {p["ParameterKey"]: p.get("ParameterValue") for p in s.get("Parameters", [])},
    }

print(
    json.dumps(
        {
            "stacks": stacks,
            "vpcs": [
                {"id": v["VpcId"], "cidr": v["CidrBlock"], "tags": tags(v)}
                for v in ec2.describe_vpcs()["Vpcs"]
                if not v.get("IsDefault")
            ],
            "subnets": [
                {"id": s["SubnetId"], "vpc": s["VpcId"], "cidr": s["CidrBlock"], "az": s["AvailabilityZone"]}
                for s in ec2.describe_subnets()["Subnets"]
                if not s.get("DefaultForAz")
            ],
            "peerings": [
                {
                    "id": p["VpcPeeringConnectionId"],
                    "requester": p["RequesterVpcInfo"]["VpcId"],
                    "accepter": p["AccepterVpcInfo"]["VpcId"],
                    "status": p["Status"]["Code"],
                }
                for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
            ],
            "db_clusters": [
                {
                    "id": c["DBClusterIdentifier"],
                    "arn": c["DBClusterArn"],
                    "instances": sorted(m["DBInstanceIdentifier"] for m in c["DBClusterMembers"]),
                }
                for c in rds.describe_db_clusters()["DBClusters"]
            ],
            "global_clusters": [
                {
                    "id": g["GlobalClusterIdentifier"],
                    "members": [
                        {"arn": m["DBClusterArn"], "writer": m["IsWriter"]}
                        for m in g.get("GlobalClusterMembers", [])
                    ],
                }
                for g in rds.describe_global_clusters()["GlobalClusters"]
            ],
            "ecs_services": services(),
            "load_balancers": [lb["LoadBalancerName"] for lb in elb.describe_load_balancers()["LoadBalancers"]],
            "records": records(),
            "zones": [z["Name"] for z in route53.list_hosted_zones()["HostedZones"]],
            "vaults": vaults(),
            "buckets": sorted(
                b["Name"]
                for b in s3.list_buckets()["Buckets"]
                if s3.get_bucket_location(Bucket=b["Name"]).get("LocationConstraint")
                == (None if region == "us-east-1" else region)
            ),
            "trails": [
                {
                    "name": t["Name"],
                    "bucket": t["S3BucketName"],
                    "multi_region": t["IsMultiRegionTrail"],
                    "validation": t["LogFileValidationEnabled"],
                    "logging": cloudtrail.get_trail_status(Name=t["Name"])["IsLogging"],
                }
                for t in cloudtrail.describe_trails()["trailList"]
                if t.get("HomeRegion", region) == region
            ],
            "firewalls": firewalls(),
            "secrets": secrets(),
            "routes": [
                {"table": t["RouteTableId"], "destination": r.get("DestinationCidrBlock"), "peering": r.get("VpcPeeringConnectionId")}
                for t in ec2.describe_route_tables()["RouteTables"]
                for r in t["Routes"]
            ],
        },
        sort_keys=True,
    )
)
