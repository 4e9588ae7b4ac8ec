"""Drives small stacks through the emulator, to show each of its AWS preconditions (items 35-42)
refusing what AWS refuses; prints JSON.

Usage: python emulator_fixture.py ENDPOINT COMMAND [ARGS]
  apply REGION STACK TEMPLATE-JSON   creates or updates STACK with a change set; prints its status
                                     and the reasons of every FAILED event
  delete REGION STACK                deletes STACK; prints its status and the failed reasons
  put REGION BUCKET KEY              puts an object
  empty REGION BUCKET                deletes every object; prints their keys
  publish REGION TOPIC-ARN           publishes to the topic; prints the error code or "ok"
"""

import json
import sys
import time

import boto3
from botocore.exceptions import ClientError

endpoint, command = sys.argv[1:3]
args = sys.argv[3:]


def client(service, region):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def settle(cfn, name):
    for _ in range(100):
        try:
            stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        except ClientError:
            return {"status": "GONE", "failed": []}
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            events = cfn.describe_stack_events(StackName=name)["StackEvents"]
            failed = [
                f'{e["LogicalResourceId"]}: {e.get("ResourceStatusReason", "")}'
                for e in events
                if e["ResourceStatus"].endswith("_FAILED")
            ]
            return {"status": stack["StackStatus"], "failed": failed}
        time.sleep(0.1)
    raise SystemExit(f"{name} did not settle")


if command == "apply":
    region, name, template = args
    cfn = client("cloudformation", region)
    try:
        cfn.describe_stacks(StackName=name)
        kind = "UPDATE"
    except ClientError:
        kind = "CREATE"
    change = cfn.create_change_set(
        StackName=name, ChangeSetName=f"c{int(time.time() * 1000)}", TemplateBody=template, ChangeSetType=kind
    )
    cfn.execute_change_set(ChangeSetName=change["Id"], StackName=name)
    result = settle(cfn, name)
elif command == "delete":
    region, name = args
    cfn = client("cloudformation", region)
    cfn.delete_stack(StackName=name)
    result = settle(cfn, name)
elif command == "put":
    region, bucket, key = args
    client("s3", region).put_object(Bucket=bucket, Key=key, Body=b"x")
    result = {"ok": True}
elif command == "empty":
    region, bucket = args
    s3 = client("s3", region)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    for key in keys:
        s3.delete_object(Bucket=bucket, Key=key)
    result = {"keys": keys}
elif command == "publish":
    region, topic = args
    try:
        client("sns", region).publish(TopicArn=topic, Message="m")
        result = {"error": None}
    except ClientError as e:
        result = {"error": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}
else:
    sys.exit(f"unknown command {command}")

print(json.dumps(result))
