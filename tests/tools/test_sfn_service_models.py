#!/usr/bin/env python3
"""Self-test of sfn_service_models.py, without pytest:

    .venv/bin/python tests/tools/test_sfn_service_models.py

Builds small state machines in memory, checks that each check fires on a defect made for it and
stays quiet on a correct task, and runs the command line on a temporary template. Prints one line
per test and `N passed, N failed`; exits 1 when any failed.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import traceback

sys.dont_write_bytecode = True  # leave no __pycache__ beside the tools
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sfn_service_models as sm  # noqa: E402

MODELS = sm.Models()  # one botocore session for every test


def machine(*tasks: dict, **states: dict) -> dict:
    """A state machine whose states are the given tasks (named T0, T1, ...) and states."""
    all_states = {f"T{i}": dict(task, End=True) for i, task in enumerate(tasks)}
    all_states.update(states)
    return {"StartAt": next(iter(all_states)), "States": all_states}


def task(resource: str, parameters: dict | None = None, **extra) -> dict:
    state = {"Type": "Task", "Resource": f"arn:aws:states:::{resource}"}
    if parameters is not None:
        state["Parameters"] = parameters
    state.update(extra)
    return state


def check(definition: dict) -> sm.Checker:
    checker = sm.Checker(MODELS)
    checker.check_machine(definition, "Machine", "mem.json")
    return checker


def kinds(checker: sm.Checker) -> list[str]:
    return [d.kind for d in checker.defects]


def one(checker: sm.Checker, kind: str) -> sm.Defect:
    found = [d for d in checker.defects if d.kind == kind]
    assert len(found) == 1, f"expected one {kind} defect, got {[d.line() for d in checker.defects]}"
    return found[0]


def clean(checker: sm.Checker) -> None:
    assert not checker.defects, "\n".join(d.line() for d in checker.defects)


# -- naming ----------------------------------------------------------------------------------


def test_java_service_names():
    cases = {
        "Application Auto Scaling": "ApplicationAutoScaling",
        "DynamoDB": "DynamoDb",
        "CloudWatch Logs": "CloudWatchLogs",
        "SFN": "Sfn",
        "RDS": "Rds",
        "Database Migration Service": "DatabaseMigration",
        "Elastic Load Balancing v2": "ElasticLoadBalancingV2",
        "ACM PCA": "AcmPca",
        "EventBridge": "EventBridge",
        "S3": "S3",
    }
    for service_id, name in cases.items():
        assert sm.java_service_name(service_id) == name, (service_id, sm.java_service_name(service_id))


def test_java_exception_names():
    cases = {
        "InvalidGlobalClusterStateFault": "InvalidGlobalClusterStateException",
        "DBClusterNotFoundFault": "DbClusterNotFoundException",
        "InvalidDBInstanceStateFault": "InvalidDbInstanceStateException",
        "ParameterNotFound": "ParameterNotFoundException",
        "BucketAlreadyExists": "BucketAlreadyExistsException",
        "ConditionalCheckFailedException": "ConditionalCheckFailedException",
        "KMSInvalidStateException": "KmsInvalidStateException",
        "QueueDoesNotExist": "QueueDoesNotExistException",
    }
    for shape, name in cases.items():
        assert sm.java_exception_name(shape) == name, (shape, sm.java_exception_name(shape))


def test_member_and_action_names():
    assert sm.sfn_member_name("DBClusterIdentifier") == "DbClusterIdentifier"
    assert sm.sfn_member_name("desiredCount") == "DesiredCount"
    assert sm.sfn_member_name("RoleARN") == "RoleARN"
    assert sm.sfn_member_name("TargetDbClusterIdentifier") == "TargetDbClusterIdentifier"
    assert sm.sfn_action_name("FailoverGlobalCluster") == "failoverGlobalCluster"
    assert sm.sfn_action_name("DescribeDBClusters") == "describeDBClusters"


def test_sdk_service_map_from_botocore():
    assert MODELS.sdk_service("applicationautoscaling") == "application-autoscaling"
    assert MODELS.sdk_service("sfn") == "stepfunctions"
    assert MODELS.sdk_service("cloudwatchlogs") == "logs"
    assert MODELS.sdk_service("rds") == "rds"
    assert MODELS.sdk_service("states") is None


# -- the checks ------------------------------------------------------------------------------


def test_correct_tasks_pass():
    c = check(
        machine(
            task(
                "aws-sdk:ssm:getParameter",
                {"Name.$": "$.detail.name"},
                Retry=[{"ErrorEquals": ["Ssm.ParameterNotFoundException"], "MaxAttempts": 0}],
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
            ),
            task(
                "aws-sdk:rds:failoverGlobalCluster",
                {"AllowDataLoss": True, "GlobalClusterIdentifier": "g", "TargetDbClusterIdentifier": "arn:aws:rds:x"},
                Retry=[{"ErrorEquals": ["Rds.InvalidGlobalClusterStateException", "Rds.RdsException"]}],
            ),
            task(
                "aws-sdk:applicationautoscaling:registerScalableTarget",
                {"MinCapacity": 2, "ResourceId": "service/c/s", "ScalableDimension": "ecs:service:DesiredCount", "ServiceNamespace": "ecs"},
                Retry=[{"ErrorEquals": ["ApplicationAutoScaling.ConcurrentUpdateException"]}],
            ),
            task(
                "aws-sdk:cloudwatch:putMetricData",
                {"Namespace": "N", "MetricData": [{"MetricName": "M", "Value": 1, "Dimensions": [{"Name": "E", "Value": "qa"}]}]},
            ),
            task("aws-sdk:ecs:updateService", {"Cluster": "c", "Service": "s", "DesiredCount": 2}),
            task(
                "dynamodb:putItem",
                {"TableName": "t", "Item": {"lock": {"S": "x"}, "owner": {"S.$": "$$.Execution.Id"}}, "ConditionExpression": "attribute_not_exists(#l)", "ExpressionAttributeNames": {"#l": "lock"}},
                Catch=[{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "Next": "Done"}],
                Retry=[{"ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException", "DynamoDB.AmazonDynamoDBException"]}],
            ),
            task("sns:publish", {"TopicArn": "arn:aws:sns:us-east-2:1:t", "Message": {"any": ["json"]}, "Subject": "s"}),
            task(
                "events:putEvents",
                {"Entries": [{"Detail": {"k.$": "$.v"}, "DetailType": "d", "Source": "s"}]},
                Retry=[{"ErrorEquals": ["EventBridge.FailedEntry", "States.TaskFailed"]}],
            ),
            Done={"Type": "Succeed"},
        )
    )
    clean(c)
    assert c.counts["tasks"] == 8 and c.counts["integrations"] == 8, c.counts
    assert c.counts["dynamic_values"] == 2, c.counts  # Name.$ and S.$; Detail takes any JSON


def test_misspelt_parameter():
    c = check(machine(task("aws-sdk:ssm:putParameter", {"Name": "n", "Value": "v", "Overwirte": True})))
    d = one(c, "unknown-member")
    assert "Parameters.Overwirte is not a member of PutParameterRequest" in d.message, d.line()
    assert "did you mean Overwrite?" in d.message and "Overwrite" in d.allowed, d.line()
    assert d.line().startswith("mem.json: Machine/T0: "), d.line()


def test_botocore_name_where_step_functions_wants_the_java_one():
    c = check(machine(task("aws-sdk:rds:describeDBClusters", {"DBClusterIdentifier": "c"})))
    d = one(c, "unknown-member")
    assert "names the member DescribeDBClustersMessage.DBClusterIdentifier DbClusterIdentifier" in d.message, d.line()


def test_missing_required_member():
    c = check(machine(task("aws-sdk:ssm:putParameter", {"Name": "n"})))
    d = one(c, "missing-member")
    assert "lacks the required member Value of PutParameterRequest" in d.message, d.line()


def test_missing_required_member_nested():
    c = check(machine(task("aws-sdk:cloudwatch:putMetricData", {"Namespace": "N", "MetricData": [{"Value": 1}]})))
    d = one(c, "missing-member")
    assert "Parameters.MetricData[0] lacks the required member MetricName of MetricDatum" in d.message, d.line()


def test_path_valued_member_counts_as_given():
    c = check(machine(task("aws-sdk:ssm:putParameter", {"Name.$": "$.n", "Value.$": "States.Format('{}', $.v)", "Overwrite.$": "$.o"})))
    clean(c)
    assert c.counts["dynamic_values"] == 3, c.counts


def test_wrong_literal_type():
    c = check(machine(task("aws-sdk:ssm:putParameter", {"Name": "n", "Value": "v", "Overwrite": "true"})))
    d = one(c, "type")
    assert "Parameters.Overwrite must be a boolean" in d.message and 'a string "true"' in d.message, d.line()
    c = check(machine(task("aws-sdk:ecs:updateService", {"Service": "s", "DesiredCount": 1.5})))
    assert "must be an integer" in one(c, "type").message
    c = check(machine(task("aws-sdk:ecs:describeServices", {"Services": "s"})))
    assert "Parameters.Services must be a list" in one(c, "type").message
    c = check(machine(task("aws-sdk:cloudwatch:putMetricData", {"Namespace": "N", "MetricData": [{"MetricName": "M", "Value": "1"}]})))
    assert "Parameters.MetricData[0].Value must be a double" in one(c, "type").message


def test_bad_enum():
    c = check(machine(task("aws-sdk:ssm:putParameter", {"Name": "n", "Value": "v", "Type": "Text"})))
    d = one(c, "enum")
    assert "Parameters.Type is 'Text', not a ParameterType" in d.message, d.line()
    assert set(d.allowed) == {"String", "StringList", "SecureString"}, d.allowed


def test_unknown_operation():
    c = check(machine(task("aws-sdk:ssm:getParameterz", {"Name": "n"})))
    d = one(c, "unknown-operation")
    assert "has no operation 'getParameterz'" in d.message and "getParameter" in d.allowed, d.line()
    c = check(machine(task("aws-sdk:rds:FailoverGlobalCluster", {})))
    assert "failoverGlobalCluster" in one(c, "unknown-operation").allowed
    c = check(machine(task("dynamodb:scan", {"TableName": "t"})))
    assert "optimized dynamodb integration has no action 'scan'" in one(c, "unknown-operation").message


def test_unknown_service():
    c = check(machine(task("aws-sdk:application-autoscaling:registerScalableTarget", {})))
    d = one(c, "unknown-service")
    assert "applicationautoscaling" in d.allowed, d.line()


def test_error_the_service_never_raises():
    c = check(machine(task("events:putEvents", {"Entries": []}, Retry=[{"ErrorEquals": ["Ssm.ParameterNotFoundException"]}])))
    d = one(c, "error-name")
    assert "names Ssm.ParameterNotFoundException, not an error EventBridge raises" in d.message, d.line()
    assert "EventBridge.FailedEntry" in d.allowed, d.allowed
    # The literal "append Exception" reading of a Fault shape is not what Step Functions raises.
    c = check(machine(task(
        "aws-sdk:rds:switchoverGlobalCluster",
        {"GlobalClusterIdentifier": "g", "TargetDbClusterIdentifier": "t"},
        Catch=[{"ErrorEquals": ["Rds.InvalidGlobalClusterStateFaultException"], "Next": "Done"}],
    ), Done={"Type": "Succeed"}))
    d = one(c, "error-name")
    assert "did you mean Rds.InvalidGlobalClusterStateException?" in d.message, d.line()
    # An unmodelled generic name.
    c = check(machine(task("aws-sdk:rds:describeGlobalClusters", {}, Retry=[{"ErrorEquals": ["Rds.ThrottlingException"]}])))
    assert "Rds.RdsException" in one(c, "error-name").allowed
    # A States. name that is not a built-in.
    c = check(machine(task("aws-sdk:rds:describeGlobalClusters", {}, Retry=[{"ErrorEquals": ["States.Throttled"]}])))
    assert "not a Step Functions built-in" in one(c, "error-name").message


def test_service_error_not_declared_by_the_operation_is_accepted():
    c = check(machine(task("aws-sdk:ssm:putParameter", {"Name": "n", "Value": "v"}, Retry=[{"ErrorEquals": ["Ssm.ParameterNotFoundException"]}])))
    clean(c)
    (error,) = c.tasks[0]["errors"]
    assert error["basis"] == "service", error


def test_optimized_integration_limits():
    c = check(machine(task("dynamodb:getItem", {"TableName": "t", "Key": {"k": {"S": "v"}}, "Select": "ALL_ATTRIBUTES"})))
    # Select is not a GetItem member at all; ReturnValuesOnConditionCheckFailure is, but the
    # optimized integration does not take it.
    one(c, "unknown-member")
    c = check(machine(task("dynamodb:putItem", {"TableName": "t", "Item": {}, "ReturnValuesOnConditionCheckFailure": "NONE"})))
    one(c, "unsupported-member")
    c = check(machine(task("events:putEvents", {"Entries": [{"Detail": "x"}], "EndpointId": "e"})))
    one(c, "unsupported-member")


def test_nested_branches_and_jsonata():
    inner = machine(task("aws-sdk:ssm:putParameter", {"Name": "n"}))
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "Branches": [inner], "End": True}},
    }
    c = check(definition)
    d = one(c, "missing-member")
    assert d.state == "T0" and d.path == "P[0]/T0", (d.state, d.path)
    jsonata = {
        "QueryLanguage": "JSONata",
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ssm:putParameter", "Arguments": {"Name": "{% $states.input.n %}", "Value": "v", "Overwrite": "yes"}, "End": True}},
    }
    c = check(jsonata)
    assert kinds(c) == ["type"], kinds(c)


def test_fn_sub_rendering():
    text = '{"a": "arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Topic}", "n": ${Delay}, "l": "${!Literal}", "v": "${Var}"}'
    value = json.loads(sm.render_sub(text, {"Var": "given", "Delay": {"Ref": "D"}}))
    assert value == {"a": "arn:aws:x:us-east-2:123456789012:SUB_Topic", "n": 0, "l": "${Literal}", "v": "given"}, value
    template = {
        "Resources": {
            "M": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "DefinitionString": {
                        "Fn::Sub": [
                            '{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":${Delay},"Next":"T"},'
                            '"T":{"Type":"Task","Resource":"arn:${AWS::Partition}:states:::aws-sdk:ssm:getParameter",'
                            '"Parameters":{"Name":"${Name}"},"End":true}}}',
                            {"Name": "/p"},
                        ]
                    }
                },
            },
            "J": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "DefinitionString": {
                        "Fn::Join": ["", ['{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ssm:getParameter","Parameters":{"Name":"', {"Ref": "P"}, '"},"End":true}}}']]
                    }
                },
            },
        }
    }
    checker = sm.Checker(MODELS)
    checker.check_template(template, "t.json")
    clean(checker)
    assert checker.counts["tasks"] == 2, checker.counts


def test_command_line():
    good = {"Resources": {"M": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": json.dumps(machine(task("aws-sdk:ssm:getParameter", {"Name": "n"})))}}}}
    bad = {"Resources": {"M": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": json.dumps(machine(task("aws-sdk:ssm:getParameter", {"Nam": "n"})))}}}}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, template in (("good", good), ("bad", bad)):
            paths[name] = os.path.join(tmp, f"{name}.json")
            with open(paths[name], "w") as f:
                json.dump(template, f)
        out = io.StringIO()
        assert sm.main([paths["good"]], out) == 0
        assert out.getvalue().startswith("sfn_service_models: 1 templates, 1 state machines, 1 tasks"), out.getvalue()
        assert "no defects" in out.getvalue()
        out = io.StringIO()
        stderr, sys.stderr = sys.stderr, io.StringIO()
        try:
            assert sm.main([paths["bad"]], out) == 1
        finally:
            sys.stderr = stderr
        lines = out.getvalue().splitlines()
        assert len(lines) == 2, lines  # the unknown member and the missing Name
        assert lines[0].startswith(f"{paths['bad']}: M/T0: "), lines
        assert all("; allowed: " in line for line in lines), lines
        out = io.StringIO()
        assert sm.main(["--json", paths["bad"]], out) == 1
        report = json.loads(out.getvalue())
        assert report["counts"]["defects"] == 2 and report["tasks"][0]["botocore_service"] == "ssm", report


def main() -> int:
    tests = [(name, fn) for name, fn in globals().items() if name.startswith("test_") and callable(fn)]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
        except Exception:  # noqa: BLE001 -- report every failure and go on
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
