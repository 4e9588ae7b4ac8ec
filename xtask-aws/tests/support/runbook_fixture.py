"""Drives and reads the recovery region for the runbook execution tests, as JSON.

Usage: python runbook_fixture.py ENDPOINT SUFFIX COMMAND [ARGS]
  alarm NAME STATE        set an alarm's state (as CloudWatch would on its metric)
  switch VALUE            put the traffic switch metric (TradingDR/FailoverActive)
  tap                     subscribe a queue to the alert topic, to read what the runbooks send
  wait-lock               wait (≤ 30 s) until the runbook lock is held; print the item
  wait-execution KEY N    wait (≤ 60 s) until the state machine of output KEY has N executions,
                          all ended; print them, each with the states it entered
  state                   the recovery region's state (service count, floor and image,
                          alarms, parameters, lock, alerts), and the global database's
  wait-applied NAME       wait (≤ 60 s) until the configuration replication machine has run,
                          and ended, for a change of parameter NAME; print that execution
  executions REGION NAME  the executions (name, status) of the state machine named NAME

Names come from the secondary stack (outputs and resources), never from the test.
"""

import json
import sys
import time

import boto3

endpoint, suffix, command = sys.argv[1:4]
args = sys.argv[4:]
REGION = "us-east-2"
STACK = f"trading-dr-secondary-{suffix}"
TAP = f"alerts-tap-{suffix}"


def client(service, region=REGION):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


cfn = client("cloudformation")
outputs = {
    o["OutputKey"]: o["OutputValue"]
    for o in cfn.describe_stacks(StackName=STACK)["Stacks"][0].get("Outputs", [])
}


def physical(logical):
    resource = cfn.describe_stack_resource(StackName=STACK, LogicalResourceId=logical)
    return resource["StackResourceDetail"]["PhysicalResourceId"]


def lock_item():
    item = client("dynamodb").get_item(
        TableName=physical("RunbookLockTable"), Key={"lock": {"S": "runbook"}}, ConsistentRead=True
    )
    return item.get("Item")


def executions(key):
    sfn = client("stepfunctions")
    found = []
    for e in sfn.list_executions(stateMachineArn=outputs[key])["executions"]:
        entry = {"name": e["name"], "status": e["status"]}
        if e["status"] != "RUNNING":
            history = sfn.get_execution_history(executionArn=e["executionArn"], maxResults=1000)
            entry["path"] = [
                ev["stateEnteredEventDetails"]["name"]
                for ev in history["events"]
                if ev["type"].endswith("StateEntered")
            ]
            entry["retried"] = [
                ev["taskFailedEventDetails"].get("resource", "")
                for ev in history["events"]
                if ev["type"] == "TaskFailed"
            ]
            described = sfn.describe_execution(executionArn=e["executionArn"])
            entry["error"] = described.get("error")
        found.append(entry)
    return found


def state():
    rds = client("rds")
    cluster = rds.describe_global_clusters()["GlobalClusters"][0]
    writers = [m["DBClusterArn"] for m in cluster["GlobalClusterMembers"] if m["IsWriter"]]
    cw = client("cloudwatch")
    alarms = cw.describe_alarms()
    ecs = client("ecs")
    service = ecs.describe_services(
        cluster=outputs["EcsClusterName"], services=[outputs["EcsServiceName"]]
    )["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    container = definition["taskDefinition"]["containerDefinitions"][0]
    # moto keeps the definition as CloudFormation gave it (PascalCase).
    image = container.get("image", container.get("Image"))
    targets = client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs",
        ResourceIds=[f"service/{outputs['EcsClusterName']}/{outputs['EcsServiceName']}"],
    )["ScalableTargets"]
    ssm = client("ssm")
    shared = f"/trading/{suffix}/shared"
    active = ssm.get_parameter(Name=f"{shared}/active-region")["Parameter"]["Value"]
    flag = ssm.get_parameter(Name=f"{shared}/flags/failover-active")["Parameter"]["Value"]
    alerts = []
    sqs = client("sqs")
    queue = sqs.get_queue_url(QueueName=TAP)["QueueUrl"] if TAP in str(sqs.list_queues()) else None
    while queue:
        batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        for m in batch:
            alerts.append(json.loads(m["Body"]).get("Subject"))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return {
        "writer_region": writers[0].split(":")[3] if writers else None,
        "global_status": cluster["Status"],
        "failover_state": cluster.get("FailoverState"),
        "alarms": {
            a["AlarmName"]: a["StateValue"]
            for a in alarms["MetricAlarms"] + alarms["CompositeAlarms"]
        },
        "desired": service["desiredCount"],
        "floor": targets[0]["MinCapacity"] if targets else None,
        "image": image,
        "running": service["runningCount"],
        "active_region": active,
        "failover_flag": flag,
        "lock": lock_item(),
        "alerts": alerts,
    }


def wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            sys.exit(f"{what}: not within {seconds} s")
        time.sleep(0.1)


if command == "alarm":
    client("cloudwatch").set_alarm_state(
        AlarmName=args[0], StateValue=args[1], StateReason="set by the test"
    )
    result = {"ok": True}
elif command == "switch":
    client("cloudwatch").put_metric_data(
        Namespace="TradingDR",
        MetricData=[
            {
                "MetricName": "FailoverActive",
                "Dimensions": [{"Name": "Environment", "Value": suffix}],
                "Value": float(args[0]),
            }
        ],
    )
    result = {"ok": True}
elif command == "tap":
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=TAP)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=outputs["AlertTopicArn"], Protocol="sqs", Endpoint=arn)
    result = {"queue": url}
elif command == "wait-lock":
    result = wait(lock_item, 30, "the lock was not taken")
elif command == "wait-execution":
    key, count = args[0], int(args[1])

    def ended():
        found = executions(key)
        done = len(found) >= count and all(e["status"] != "RUNNING" for e in found)
        return found if done else None

    result = wait(ended, 60, f"{count} ended execution(s) of {key}")
elif command == "stop-running":
    # Stops every running execution of the failover state machine, as someone would by hand.
    sfn = client("stepfunctions")
    machine = physical("FailoverStateMachine")
    stopped = []
    for e in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
        sfn.stop_execution(executionArn=e["executionArn"], error="Stopped", cause="stopped by hand")
        stopped.append(e["executionArn"])
    result = {"stopped": stopped}
elif command == "start-failover":
    # A failover with data loss requested outside the runbook (the console), left running.
    rds = client("rds")
    g = rds.describe_global_clusters()["GlobalClusters"][0]
    target = next(m["DBClusterArn"] for m in g["GlobalClusterMembers"] if ":us-east-2:" in m["DBClusterArn"])
    rds.failover_global_cluster(
        GlobalClusterIdentifier=g["GlobalClusterIdentifier"], TargetDbClusterIdentifier=target, AllowDataLoss=True
    )
    result = {"target": target}
elif command == "wait-rejoined":
    # Until every member of the global database is synchronized again (the emulator rebuilds
    # an old primary after a failover with data loss, item 47).
    rds = client("rds")

    def rejoined():
        g = rds.describe_global_clusters()["GlobalClusters"][0]
        members = g.get("GlobalClusterMembers", [])
        synced = all(m.get("SynchronizationStatus", "connected") == "connected" for m in members)
        return g if synced and g.get("Status") == "available" else None

    result = {"status": wait(rejoined, 60, "the old primary to rejoin")["Status"]}
elif command == "state":
    result = state()
elif command == "executions":
    region, name = args
    sfn = client("stepfunctions", region)
    machines = sfn.list_state_machines()["stateMachines"]
    arn = next(m["stateMachineArn"] for m in machines if m["name"] == name)
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    result = [{"name": e["name"], "status": e["status"]} for e in listed]
elif command == "wait-applied":
    name = args[0]
    sfn = client("stepfunctions")
    machine = physical("ConfigReplicationTarget")

    def applied():
        for e in sfn.list_executions(stateMachineArn=machine)["executions"]:
            described = sfn.describe_execution(executionArn=e["executionArn"])
            detail = json.loads(described.get("input", "{}")).get("detail", {})
            if detail.get("name") == name and e["status"] != "RUNNING":
                history = sfn.get_execution_history(executionArn=e["executionArn"], maxResults=1000)
                path = [
                    ev["stateEnteredEventDetails"]["name"]
                    for ev in history["events"]
                    if ev["type"].endswith("StateEntered")
                ]
                return {"status": e["status"], "path": path}
        return None

    result = wait(applied, 60, f"a replicated change of {name}")
else:
    sys.exit(f"unknown command {command}")

print(json.dumps(result))
