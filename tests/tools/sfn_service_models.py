#!/usr/bin/env python3
"""Checks the Task states of a template's state machines against the AWS API models botocore ships.

    python tests/tools/sfn_service_models.py [--json] TEMPLATE.json [TEMPLATE.json ...]

For every AWS::StepFunctions::StateMachine of each template (DefinitionString as a plain string,
an Fn::Sub or an Fn::Join, or Definition with DefinitionSubstitutions), every Task state, in
branches and Map processors too, whose Resource is a service integration is checked:

1. the operation exists in the service's model;
2. every key of Parameters (JSONPath) or Arguments (JSONata) is a member of the operation's input
   shape, recursing into literal objects and lists (structures, lists, maps);
3. every required member is given, at the top and in every literal nested structure;
4. every literal value has the member's type (string, integer, long, double, float, boolean,
   timestamp, blob, list, structure, map) and an enum-constrained string one of the allowed
   values; a value given by a path (a key ending in `.$`: a path, a context path or an intrinsic
   such as States.Format) or by a JSONata `{% %}` expression is counted but not typed;
5. every name in the ErrorEquals of the task's Retry and Catch is a Step Functions built-in or an
   error the called service can raise, named as Step Functions names it.

It prints one line per defect, `<template>: <state machine>/<state>: <what is wrong>; allowed:
...`, and exits 1 when there is any; otherwise one summary line and exit 0. `--json` prints a
report instead (defects; every task with its integration and the basis each of its error names
was accepted on; every integration with all the error names it accepts; what was skipped; the
counts); the exit code is the same.

What it does not check: the shape of the state machine (StartAt, Next/Default targets,
reachability, every path ending), which tests/tests/runbooks.rs (`check_machine`) and the pinned
asl-validator (`every_state_machine_passes_asl_validator`) already check; nor value constraints
beyond type and enum (lengths, ranges, patterns); nor what is only known at run time (a
Parameters that is absent passes the whole state input; a path-valued member).

How Step Functions names things, and where each rule comes from
================================================================

Step Functions' AWS SDK integrations are built on the AWS SDK for Java 2.x; the names a
definition uses are that SDK's generated names. The rules below reimplement its code generator
(aws/aws-sdk-java-v2: codegen/.../naming/DefaultNamingStrategy.java, getServiceName and
getExceptionName; utils/.../internal/CodegenNamingUtils.java, splitOnWordBoundaries and
pascalCase; codegen/.../internal/Utils.java, unCapitalize and capitalize).

* Service. The `<service>` of `arn:aws:states:::aws-sdk:<service>:<action>` is the Java SDK's
  service name in lower case: pascalCase(serviceId) without a leading "Amazon"/"Aws" or a
  trailing "Service". The checker builds the map from every botocore model's serviceId, so
  `applicationautoscaling` is botocore `application-autoscaling` ("Application Auto Scaling"),
  `sfn` is `stepfunctions` ("SFN"), `cloudwatchlogs` is `logs`, `databasemigration` is `dms`,
  `eventbridge` is `events`; nothing is hand-listed. (The Step Functions developer guide,
  "Learning to use AWS service SDK integrations": "You can also see the service name in
  lowercase in the Resource field".)
* Action. The operation name with its leading capitals lowered as Java does (unCapitalize:
  `FailoverGlobalCluster` -> `failoverGlobalCluster`, `DescribeDBClusters` ->
  `describeDBClusters`).
* Members. The developer guide: "Parameters in Step Functions are expressed in PascalCase, even
  if the native service API is in camelCase". Precisely, the name is capitalize(unCapitalize(
  member)) -- the Java field name with its first letter upper-cased -- which for a member that
  starts with an acronym is not just the member with its first letter upper-cased: RDS's
  `DBClusterIdentifier` is `DbClusterIdentifier` in a definition (this project's runbooks already
  read `DbClusterArn` from describeGlobalClusters), ECS's `desiredCount` is `DesiredCount`.
  Optimized integrations (no `aws-sdk:`) take the API's own member names (the guide's
  connect-ddb, connect-sns and connect-eventbridge pages list them as in the API references).
* Errors of an SDK integration. The guide: "the resulting Error field will be composed of the
  service name and error name, separated by a period character: ServiceName.ErrorName. Both the
  service name and error name are in Pascal case", with the examples
  AcmPca.ResourceNotFoundException and, since Step Functions always adds the Exception suffix,
  S3.BucketAlreadyExistsException for S3's BucketAlreadyExists. The Pascal case is, again, the
  Java SDK's: ServiceName is the Java service name (Rds, Ssm, Ecs, CloudWatch, DynamoDb,
  ApplicationAutoScaling, Sfn, EventBridge) and ErrorName is the Java exception class generated
  from the error shape's *name*: a trailing "Fault" is replaced by "Exception", a name already
  ending in "Exception" keeps it, any other gets "Exception" appended, and the words are
  pascal-cased (acronyms become words). So RDS's InvalidGlobalClusterStateFault is
  `Rds.InvalidGlobalClusterStateException` -- not `Rds.InvalidGlobalClusterStateFaultException`,
  which the literal "append Exception" reading gives and which Step Functions never raises --
  and DBClusterNotFoundFault is `Rds.DbClusterNotFoundException`; SSM's ParameterNotFound is
  `Ssm.ParameterNotFoundException`; CloudWatch's InternalServiceFault is
  `CloudWatch.InternalServiceException`. Observed names that confirm it: sqlxpert/
  step-stay-stopped-aws-rds-aurora (README, "Inconsistent error names"): StopDBInstance's
  InvalidDBInstanceStateFault arrives as `Rds.InvalidDbInstanceStateException`; the sfnx project's
  tests (names "Step Functions reported in TestState"): `DynamoDb.DynamoDbException`,
  `Sqs.QueueDoesNotExistException` (shape QueueDoesNotExist, whose error code is
  AWS.SimpleQueueService.NonExistentQueue: the shape name counts, not the code),
  `CloudWatchLogs.AccessDeniedException`, `Sfn.InvalidArnException`.
  The Java SDK maps an error code to the exception of *any* error shape of the service, not only
  those the operation declares, so both are accepted (the JSON report says which: "operation" or
  "service"). Limitation: the Java SDK renames a few shapes through per-service customizations
  (e.g. Elastic Load Balancing's AccessPointNotFound is LoadBalancerNotFoundException); those
  renames are not in botocore and are not known here.
* Errors every service can return. An error the model does not declare (throttling --
  Throttling, ThrottlingException, RequestLimitExceeded -- AccessDenied, ValidationError,
  InvalidParameterCombination, ...) has no exception class of its own in the Java SDK: it is
  thrown as the service's base exception, and Step Functions names it `<Svc>.<Svc>Exception`
  (observed: StopDBInstance's InvalidParameterCombination arrives as `Rds.RdsException`, sqlxpert
  as above; `Ec2.Ec2Exception`, `Rds.RdsException`, `Lambda.LambdaException` in sfnx's tests).
  That is the one generic name accepted ("generic"). So `Rds.ThrottlingException` is a defect
  (RDS models no ThrottlingException: its throttling arrives as Rds.RdsException, or
  States.TaskFailed/States.ALL catches it), while `DynamoDb.ThrottlingException` is accepted,
  because DynamoDB models ThrottlingException.
* Optimized integrations run on the older SDK and name errors `<Prefix>.<Exception>`:
  DynamoDB: `DynamoDB.<shape>` with Exception appended when missing
  (`DynamoDB.ConditionalCheckFailedException`, `DynamoDB.ProvisionedThroughputExceededException`,
  `DynamoDB.ThrottlingException`), the shape's error code as is, and
  `DynamoDB.AmazonDynamoDBException` for anything unmodelled (the retrier of the developer guide's
  sample project "Invoke Synchronous Express Workflows"; LocalStack's Step Functions provider,
  state_task_service_dynamodb.py, names the others DynamoDB.<error code>). SNS: `SNS.<error code>Exception` (LocalStack,
  state_task_service_sns.py, whose names are snapshot-tested against AWS; they equal botocore's
  shape names, e.g. SNS.NotFoundException, SNS.AuthorizationErrorException) and
  `SNS.AmazonSNSException`. EventBridge: `EventBridge.FailedEntry` when FailedEntryCount is not
  zero (the guide's connect-eventbridge page, "Error handling"), `EventBridge.<shape>Exception`
  for a modelled error and `EventBridge.AmazonEventBridgeException` (the SDK's base exception;
  by analogy, not observed). The optimized integrations also take only the parameters the guide
  lists for them (connect-ddb: GetItem, PutItem, UpdateItem, DeleteItem; connect-sns: Publish;
  connect-eventbridge: PutEvents, Entries only) and serialize a JSON object given for SNS's
  Message and for an entry's Detail (LocalStack's providers do the same), so those two take any
  JSON. Other optimized integrations are reported as skipped, not as defects.
* Built-in errors. The guide's "Error names" (concepts-error-handling): States.ALL,
  States.DataLimitExceeded, States.ExceedToleratedFailureThreshold, States.HeartbeatTimeout,
  States.Http.Socket, States.IntrinsicFailure, States.ItemReaderFailed, States.NoChoiceMatched,
  States.ParameterPathFailure, States.Permissions, States.QueryEvaluationError,
  States.ResultPathMatchFailure, States.ResultWriterFailed, States.Runtime, States.TaskFailed,
  States.Timeout, States.BranchFailed. States.Runtime and States.DataLimitExceeded are not caught
  by States.ALL but may be named. Any other `States.` name is a defect.

Fn::Sub placeholders are replaced before the definition is parsed: pseudo parameters by
plausible values (AWS::Region us-east-2, AWS::AccountId 123456789012, AWS::Partition aws,
AWS::URLSuffix amazonaws.com), a variable of Fn::Sub's list form by its value when that is a
literal string, anything else by SUB_<Name> inside a JSON string and by 0 where the placeholder
stands for a JSON number; `${!x}` is the literal `${x}`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

import botocore.session

# ---------------------------------------------------------------------------------------------
# The AWS SDK for Java 2.x naming rules (see the module docstring for the sources).


def split_on_word_boundaries(text: str) -> list[str]:
    """CodegenNamingUtils.splitOnWordBoundaries."""
    result = re.sub(r"[^A-Za-z0-9]+", " ", text)
    result = re.sub(r"([^a-z]{2,})v([0-9]+)", r"\1 v\2 ", result)
    result = re.sub(r"([^A-Z]{2,})V([0-9]+)", r"\1 V\2 ", result)
    result = " ".join(re.split(r"(?<=[a-z])(?=[A-Z](?:[a-zA-Z]|[0-9]))", result))
    result = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", result)
    result = re.sub(r"([0-9])([a-zA-Z])", r"\1 \2", result)
    result = re.sub(r" +", " ", result).strip()
    return result.split(" ") if result else []


def _capitalize(word: str) -> str:
    return word[:1].upper() + word[1:]


def pascal_case(text: str) -> str:
    """CodegenNamingUtils.pascalCase."""
    return "".join(_capitalize(w.lower()) for w in split_on_word_boundaries(text))


def java_uncapitalize(name: str) -> str:
    """codegen Utils.unCapitalize: lowers the leading capitals, keeping the last one of a run
    that a lower-case letter follows (DBClusterIdentifier -> dbClusterIdentifier)."""
    out = []
    i = 0
    while True:
        out.append(name[i].lower())
        i += 1
        if not (
            i < len(name)
            and name[i].isupper()
            and not (i < len(name) - 1 and name[i + 1].islower())
        ):
            break
    return "".join(out) + name[i:]


def java_service_name(service_id: str) -> str:
    """DefaultNamingStrategy.getServiceName, from a model's serviceId."""
    name = pascal_case(service_id)
    for prefix in ("Amazon", "Aws"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if name.endswith("Service"):
        name = name[: -len("Service")]
    return name


def java_exception_name(shape_name: str) -> str:
    """DefaultNamingStrategy.getExceptionName, from an error shape's name."""
    if shape_name.endswith("Fault"):
        return pascal_case(shape_name[: -len("Fault")]) + "Exception"
    if shape_name.endswith("Exception"):
        return pascal_case(shape_name)
    return pascal_case(shape_name) + "Exception"


def sfn_member_name(member: str) -> str:
    """The name an SDK integration's Parameters use for a model member."""
    return _capitalize(java_uncapitalize(member))


def sfn_action_name(operation: str) -> str:
    """The `<action>` of an SDK integration's Resource for a model operation."""
    return java_uncapitalize(operation)


# ---------------------------------------------------------------------------------------------
# Step Functions facts.

BUILTIN_ERRORS = frozenset(
    {
        "States.ALL",
        "States.BranchFailed",
        "States.DataLimitExceeded",
        "States.ExceedToleratedFailureThreshold",
        "States.HeartbeatTimeout",
        "States.Http.Socket",
        "States.IntrinsicFailure",
        "States.ItemReaderFailed",
        "States.NoChoiceMatched",
        "States.ParameterPathFailure",
        "States.Permissions",
        "States.QueryEvaluationError",
        "States.ResultPathMatchFailure",
        "States.ResultWriterFailed",
        "States.Runtime",
        "States.TaskFailed",
        "States.Timeout",
    }
)


@dataclass(frozen=True)
class Optimized:
    """An optimized integration: its botocore service, error prefix, documented errors, the
    parameters the developer guide lists per action (lower-cased action -> members), and the
    (shape, member) pairs that take any JSON because Step Functions serializes them."""

    botocore: str
    prefix: str
    generic: tuple[str, ...]
    documented: tuple[str, ...]
    actions: dict[str, frozenset[str]]
    any_json: frozenset[tuple[str, str]] = frozenset()
    patterns: frozenset[str] = frozenset({"waitForTaskToken"})


_DDB_WRITE = frozenset(
    {
        "TableName",
        "ConditionalOperator",
        "ConditionExpression",
        "Expected",
        "ExpressionAttributeNames",
        "ExpressionAttributeValues",
        "ReturnConsumedCapacity",
        "ReturnItemCollectionMetrics",
        "ReturnValues",
    }
)

OPTIMIZED: dict[str, Optimized] = {
    "dynamodb": Optimized(
        botocore="dynamodb",
        prefix="DynamoDB",
        generic=("DynamoDB.AmazonDynamoDBException",),
        documented=(),
        actions={
            "getitem": frozenset(
                {
                    "Key",
                    "TableName",
                    "AttributesToGet",
                    "ConsistentRead",
                    "ExpressionAttributeNames",
                    "ProjectionExpression",
                    "ReturnConsumedCapacity",
                }
            ),
            "putitem": _DDB_WRITE | {"Item"},
            "deleteitem": _DDB_WRITE | {"Key"},
            "updateitem": _DDB_WRITE | {"Key", "AttributeUpdates", "UpdateExpression"},
        },
        patterns=frozenset(),  # connect-ddb: no .waitForTaskToken, no .sync
    ),
    "sns": Optimized(
        botocore="sns",
        prefix="SNS",
        generic=("SNS.AmazonSNSException",),
        documented=(),
        actions={
            "publish": frozenset(
                {
                    "Message",
                    "MessageAttributes",
                    "MessageStructure",
                    "MessageDeduplicationId",
                    "MessageGroupId",
                    "PhoneNumber",
                    "Subject",
                    "TargetArn",
                    "TopicArn",
                }
            )
        },
        any_json=frozenset({("PublishInput", "Message")}),
    ),
    "events": Optimized(
        botocore="events",
        prefix="EventBridge",
        generic=("EventBridge.AmazonEventBridgeException",),
        documented=("EventBridge.FailedEntry",),
        actions={"putevents": frozenset({"Entries"})},
        any_json=frozenset({("PutEventsRequestEntry", "Detail")}),
    ),
}

RESOURCE = re.compile(
    r"^arn:[^:]*:states:[^:]*:[^:]*:(?P<sdk>aws-sdk:)?(?P<service>[A-Za-z0-9-]+):"
    r"(?P<action>[A-Za-z0-9]+)(?:\.(?P<pattern>sync(?::2)?|waitForTaskToken))?$"
)

PSEUDO = {
    "AWS::Region": "us-east-2",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "SUB_StackName",
    "AWS::StackId": "SUB_StackId",
    "AWS::NoValue": "",
}


# ---------------------------------------------------------------------------------------------
# Definitions out of templates.


def _placeholder(name: str) -> str:
    return "SUB_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def render_sub(text: str, variables: dict[str, Any] | None = None) -> str:
    """Replaces Fn::Sub's ${...} in a JSON text: inside a JSON string by a string (the
    variable's literal value, a pseudo parameter's plausible value, or SUB_<Name>), outside one
    -- where it stands for a number -- by 0. ${!x} is the literal ${x}."""
    variables = variables or {}
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("${", i):
            end = text.find("}", i)
            if end < 0:
                out.append(text[i:])
                break
            name = text[i + 2 : end]
            i = end + 1
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
                continue
            value = variables.get(name)
            if not isinstance(value, str):
                value = PSEUDO.get(name, _placeholder(name))
            if in_string:
                out.append(json.dumps(value)[1:-1])
            else:
                out.append(value if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value) else "0")
            continue
        if in_string and ch == "\\":
            out.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"':
            in_string = not in_string
        out.append(ch)
        i += 1
    return "".join(out)


def _intrinsic_text(value: Any, variables: dict[str, Any], counter: list[int]) -> str:
    """Text for one part of an Fn::Join: a string as is, an intrinsic as a ${placeholder}."""
    if isinstance(value, str):
        return value
    counter[0] += 1
    if isinstance(value, dict) and "Ref" in value and isinstance(value["Ref"], str):
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        att = value["Fn::GetAtt"]
        name = ".".join(att) if isinstance(att, list) else str(att)
        return "${" + name + "}"
    return "${Intrinsic" + str(counter[0]) + "}"


def definition_text(value: Any) -> tuple[str, dict[str, Any]]:
    """The JSON text of a DefinitionString and the Fn::Sub variables that go with it."""
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        if isinstance(sub, str):
            return sub, {}
        if isinstance(sub, list) and sub and isinstance(sub[0], str):
            variables = sub[1] if len(sub) > 1 and isinstance(sub[1], dict) else {}
            return sub[0], variables
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        counter = [0]
        return sep.join(_intrinsic_text(p, {}, counter) for p in parts), {}
    raise ValueError(f"DefinitionString is neither a string, an Fn::Sub nor an Fn::Join: {value!r:.80}")


def _substitute_definition(value: Any, substitutions: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return re.sub(
            r"\$\{([^}]*)\}",
            lambda m: substitutions[m.group(1)]
            if isinstance(substitutions.get(m.group(1)), str)
            else _placeholder(m.group(1)),
            value,
        )
    if isinstance(value, list):
        return [_substitute_definition(v, substitutions) for v in value]
    if isinstance(value, dict):
        return {k: _substitute_definition(v, substitutions) for k, v in value.items()}
    return value


def state_machines(template: dict) -> Iterator[tuple[str, Any]]:
    """(logical id, parsed definition or the ValueError that stopped it) for each machine."""
    for logical_id, resource in sorted((template.get("Resources") or {}).items()):
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::StepFunctions::StateMachine":
            continue
        props = resource.get("Properties") or {}
        try:
            if "Definition" in props:
                subs = props.get("DefinitionSubstitutions") or {}
                yield logical_id, _substitute_definition(props["Definition"], subs)
            elif "DefinitionString" in props:
                text, variables = definition_text(props["DefinitionString"])
                yield logical_id, json.loads(render_sub(text, variables))
            else:
                yield logical_id, ValueError("no Definition or DefinitionString (DefinitionS3Location is not read)")
        except (ValueError, TypeError) as err:
            yield logical_id, ValueError(f"definition not readable: {err}")


def iter_states(machine: dict, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, dict, str]]:
    """(path of enclosing states, name, state, query language) for every state, nested too."""
    default_language = machine.get("QueryLanguage", "JSONPath")
    yield from _iter_states(machine, path, default_language)


def _iter_states(machine: dict, path: tuple[str, ...], language: str):
    states = machine.get("States")
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        lang = state.get("QueryLanguage", language)
        yield path, name, state, lang
        for i, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, dict):
                yield from _iter_states(branch, path + (f"{name}[{i}]",), branch.get("QueryLanguage", lang))
        for key in ("Iterator", "ItemProcessor"):
            sub = state.get(key)
            if isinstance(sub, dict):
                yield from _iter_states(sub, path + (name,), sub.get("QueryLanguage", lang))


# ---------------------------------------------------------------------------------------------
# The models.


class Models:
    """botocore's service models, with the SDK integration names of every service."""

    def __init__(self) -> None:
        self.session = botocore.session.get_session()
        self._models: dict[str, Any] = {}
        self._sdk_index: dict[str, str] | None = None

    def model(self, name: str):
        if name not in self._models:
            self._models[name] = self.session.get_service_model(name)
        return self._models[name]

    def sdk_service(self, integration_name: str) -> str | None:
        """The botocore service an `aws-sdk:<name>` integration calls, or None."""
        if integration_name in self.session.get_available_services():
            model = self.model(integration_name)
            if java_service_name(str(model.service_id)).lower() == integration_name:
                return integration_name
        return self.sdk_index().get(integration_name)

    def sdk_index(self) -> dict[str, str]:
        if self._sdk_index is None:
            index: dict[str, str] = {}
            for name in self.session.get_available_services():
                key = java_service_name(str(self.model(name).service_id)).lower()
                index.setdefault(key, name)
            self._sdk_index = index
        return self._sdk_index


# ---------------------------------------------------------------------------------------------
# Checking.


@dataclass
class Defect:
    template: str
    state_machine: str
    state: str
    path: str
    kind: str
    message: str
    allowed: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = f"{self.template}: {self.state_machine}/{self.state}: {self.message}"
        if self.allowed:
            text += "; allowed: " + ", ".join(self.allowed)
        return text


@dataclass
class Integration:
    kind: str  # "aws-sdk" or "optimized"
    resource: str
    arn_service: str
    action: str
    pattern: str | None
    botocore: str
    operation: str
    error_service: str  # the prefix of its error names
    member_name: Any  # model member name -> the name a definition uses
    supported: frozenset[str] | None = None
    any_json: frozenset[tuple[str, str]] = frozenset()
    errors: dict[str, str] = field(default_factory=dict)  # accepted error name -> basis
    operation_errors: list[str] = field(default_factory=list)


def _fmt_list(names: list[str], limit: int = 40) -> list[str]:
    names = sorted(dict.fromkeys(names))
    if len(names) > limit:
        return names[:limit] + [f"... ({len(names) - limit} more)"]
    return names


def _is_jsonata(value: Any) -> bool:
    return isinstance(value, str) and value.strip().startswith("{%") and value.strip().endswith("%}")


class Checker:
    def __init__(self, models: Models | None = None) -> None:
        self.models = models or Models()
        self.defects: list[Defect] = []
        self.tasks: list[dict] = []
        self.skipped: list[dict] = []
        self.counts = {
            "templates": 0,
            "state_machines": 0,
            "tasks": 0,
            "integrations": 0,
            "parameters": 0,
            "dynamic_values": 0,
            "error_names": 0,
        }
        self._integrations: set[tuple[str, str, str]] = set()
        self.integrations: dict[str, dict] = {}  # every error name each one accepts, and why
        # Per task while it is checked.
        self._where: tuple[str, str, str, str] = ("", "", "", "")

    # -- reporting ----------------------------------------------------------------------------

    def _defect(self, kind: str, message: str, allowed: list[str] | None = None, at: str = "") -> None:
        template, machine, state, path = self._where
        self.defects.append(
            Defect(template, machine, state, path + (f" {at}" if at else ""), kind, message, allowed or [])
        )

    # -- entry points -------------------------------------------------------------------------

    def check_template_file(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8") as f:
                template = json.load(f)
        except (OSError, ValueError) as err:
            self._where = (path, "-", "-", "")
            self._defect("template", f"cannot read the template: {err}")
            return
        self.check_template(template, path)

    def check_template(self, template: dict, name: str) -> None:
        self.counts["templates"] += 1
        for logical_id, definition in state_machines(template):
            if isinstance(definition, Exception):
                self._where = (name, logical_id, "-", "")
                self._defect("definition", str(definition))
                continue
            self.check_machine(definition, logical_id, name)

    def check_machine(self, machine: dict, logical_id: str, template: str = "<memory>") -> None:
        self.counts["state_machines"] += 1
        for path, state_name, state, language in iter_states(machine):
            if state.get("Type") != "Task":
                continue
            self._where = (template, logical_id, state_name, "/".join(path + (state_name,)))
            self.check_task(state, language)

    # -- one task -----------------------------------------------------------------------------

    def check_task(self, state: dict, language: str) -> None:
        resource = state.get("Resource")
        record: dict[str, Any] = {
            "template": self._where[0],
            "state_machine": self._where[1],
            "state": self._where[2],
            "path": self._where[3],
            "resource": resource,
        }
        if not isinstance(resource, str):
            record["skipped"] = "Resource is not a string"
            self.skipped.append(record)
            return
        match = RESOURCE.match(resource)
        if not match:
            record["skipped"] = "not a service integration (a Lambda function, an activity, or similar)"
            self.skipped.append(record)
            return
        if not match.group("sdk") and match.group("service") not in OPTIMIZED:
            record["skipped"] = f"optimized integration {match.group('service')}:{match.group('action')} has no table here"
            self.skipped.append(record)
            return
        self.counts["tasks"] += 1
        integration = self.resolve(match, resource)
        if integration is None:
            self.tasks.append(record)
            return
        record.update(
            {
                "integration": integration.kind,
                "service": integration.arn_service,
                "botocore_service": integration.botocore,
                "operation": integration.operation,
                "pattern": integration.pattern,
            }
        )
        key = (integration.kind, integration.botocore, integration.operation)
        if key not in self._integrations:
            self._integrations.add(key)
            self.counts["integrations"] += 1
            self.integrations[f"{integration.kind} {integration.arn_service}:{integration.action}"] = {
                "botocore_service": integration.botocore,
                "operation": integration.operation,
                "error_prefix": integration.error_service,
                "errors": dict(sorted(integration.errors.items())),
            }

        op = self.models.model(integration.botocore).operation_model(integration.operation)
        field_name = "Arguments" if language == "JSONata" else "Parameters"
        if field_name in state:
            args = state[field_name]
            if _is_jsonata(args):
                self.counts["dynamic_values"] += 1
            elif op.input_shape is None:
                if args not in ({}, None):
                    self._defect("unknown-member", f"{integration.operation} takes no input, but {field_name} is given")
            else:
                self.check_value(op.input_shape, args, field_name, integration, language, top=True)
        record["errors"] = self.check_errors(state, integration)
        self.tasks.append(record)

    def resolve(self, match: re.Match, resource: str) -> Integration | None:
        service, action, pattern = match.group("service"), match.group("action"), match.group("pattern")
        if match.group("sdk"):
            botocore_name = self.models.sdk_service(service)
            if botocore_name is None:
                names = sorted(self.models.sdk_index())
                self._defect(
                    "unknown-service",
                    f"no AWS SDK service is named {service!r} in an aws-sdk integration",
                    difflib.get_close_matches(service, names, n=5),
                )
                return None
            model = self.models.model(botocore_name)
            by_action = {sfn_action_name(op): op for op in model.operation_names}
            operation = by_action.get(action)
            if operation is None:
                self._defect(
                    "unknown-operation",
                    f"{botocore_name} (API {model.api_version}) has no operation {action!r}",
                    difflib.get_close_matches(action, list(by_action), n=5, cutoff=0.5),
                )
                return None
            if pattern and pattern.startswith("sync"):
                self._defect("pattern", f"AWS SDK integrations do not support .{pattern} (Run a Job)")
            prefix = java_service_name(str(model.service_id))
            integration = Integration(
                kind="aws-sdk",
                resource=resource,
                arn_service=service,
                action=action,
                pattern=pattern,
                botocore=botocore_name,
                operation=operation,
                error_service=prefix,
                member_name=sfn_member_name,
            )
            op = model.operation_model(operation)
            declared = {f"{prefix}.{java_exception_name(s.name)}" for s in op.error_shapes}
            for shape in model.error_shapes:
                name = f"{prefix}.{java_exception_name(shape.name)}"
                integration.errors[name] = "operation" if name in declared else "service"
            integration.errors.setdefault(f"{prefix}.{prefix}Exception", "generic")
            integration.operation_errors = sorted(declared) + [f"{prefix}.{prefix}Exception"]
            return integration

        table = OPTIMIZED[service]
        model = self.models.model(table.botocore)
        lowered = {op.lower(): op for op in model.operation_names}
        operation = lowered.get(action.lower())
        if action.lower() not in table.actions or operation is None or action != operation[0].lower() + operation[1:]:
            self._defect(
                "unknown-operation",
                f"the optimized {service} integration has no action {action!r}",
                sorted(lowered[a][0].lower() + lowered[a][1:] for a in table.actions if a in lowered),
            )
            return None
        if pattern and pattern not in table.patterns:
            self._defect(
                "pattern",
                f"the optimized {service} integration does not support .{pattern}",
                sorted("." + p for p in table.patterns),
            )
        integration = Integration(
            kind="optimized",
            resource=resource,
            arn_service=service,
            action=action,
            pattern=pattern,
            botocore=table.botocore,
            operation=operation,
            error_service=table.prefix,
            member_name=lambda m: m[:1].upper() + m[1:],
            supported=table.actions[action.lower()],
            any_json=table.any_json,
        )
        op = model.operation_model(operation)
        declared_shapes = {s.name for s in op.error_shapes}
        for name in table.documented:
            integration.errors[name] = "documented"
        for shape in model.error_shapes:
            basis = "operation" if shape.name in declared_shapes else "service"
            names = [shape.name if shape.name.endswith("Exception") else shape.name + "Exception"]
            code = shape.metadata.get("error", {}).get("code")
            if code and "." not in code:
                names.append(code if code.endswith("Exception") else code + "Exception")
                if table.prefix == "DynamoDB":
                    names.append(code)
            if table.prefix == "DynamoDB":
                names.append(shape.name)
            for n in names:
                integration.errors.setdefault(f"{table.prefix}.{n}", basis)
        for name in table.generic:
            integration.errors.setdefault(name, "generic")
        integration.operation_errors = sorted(
            {n for n, b in integration.errors.items() if b in ("operation", "documented", "generic")}
        )
        return integration

    # -- parameters ---------------------------------------------------------------------------

    def check_value(self, shape, value: Any, where: str, integration: Integration, language: str, top: bool = False) -> None:
        """Checks a literal value against a shape (a structure's members, a list's items, a
        map's values, a scalar's type and enum)."""
        if value is None:
            return
        if _is_jsonata(value):
            self.counts["dynamic_values"] += 1
            return
        kind = shape.type_name
        if kind == "structure":
            if shape.metadata.get("document"):
                return
            if not isinstance(value, dict):
                self._defect("type", f"{where} must be an object ({shape.name}), not {_json_type(value)}", at="")
                return
            self.check_structure(shape, value, where, integration, language, top)
        elif kind == "list":
            if not isinstance(value, list):
                self._defect("type", f"{where} must be a list of {shape.member.name}, not {_json_type(value)}")
                return
            for i, item in enumerate(value):
                self.check_value(shape.member, item, f"{where}[{i}]", integration, language)
        elif kind == "map":
            if not isinstance(value, dict):
                self._defect("type", f"{where} must be an object (map {shape.name}), not {_json_type(value)}")
                return
            for key, item in value.items():
                self.counts["parameters"] += 1
                if language != "JSONata" and key.endswith(".$"):
                    self.counts["dynamic_values"] += 1
                    continue
                enum = getattr(shape.key, "enum", None)
                if enum and key not in enum:
                    self._defect("enum", f"{where} key {key!r} is not a {shape.key.name}", list(enum))
                self.check_value(shape.value, item, f"{where}.{key}", integration, language)
        else:
            self.check_scalar(shape, value, where)

    def check_structure(self, shape, value: dict, where: str, integration: Integration, language: str, top: bool) -> None:
        names = {integration.member_name(m): m for m in shape.members}
        given: set[str] = set()
        for key, item in value.items():
            self.counts["parameters"] += 1
            dynamic = language != "JSONata" and key.endswith(".$")
            base = key[:-2] if dynamic else key
            member = names.get(base)
            if member is None:
                hint = ""
                if base in shape.members and integration.kind == "aws-sdk":
                    hint = f" (an SDK integration names the member {shape.name}.{base} {integration.member_name(base)})"
                else:
                    close = difflib.get_close_matches(base, list(names), n=1)
                    if close:
                        hint = f" (did you mean {close[0]}?)"
                self._defect(
                    "unknown-member",
                    f"{where}.{base} is not a member of {shape.name}{hint}",
                    _fmt_list(list(names)),
                )
                continue
            given.add(member)
            if top and integration.supported is not None and base not in integration.supported:
                self._defect(
                    "unsupported-member",
                    f"{where}.{base} is a {integration.operation} member, but the optimized "
                    f"{integration.arn_service}:{integration.action} integration does not take it",
                    sorted(integration.supported),
                )
            if dynamic:
                self.counts["dynamic_values"] += 1
                continue
            if (shape.name, member) in integration.any_json:
                continue
            self.check_value(shape.members[member], item, f"{where}.{base}", integration, language)
        for required in shape.required_members:
            if required not in given:
                self._defect(
                    "missing-member",
                    f"{where} lacks the required member {integration.member_name(required)} of {shape.name}",
                    [integration.member_name(r) for r in shape.required_members],
                )
            elif value.get(integration.member_name(required), 0) is None:
                self._defect("missing-member", f"{where}.{integration.member_name(required)} is required but null")
        if shape.metadata.get("union") and len(value) != 1:
            self._defect(
                "union",
                f"{where} is a union ({shape.name}): exactly one member must be given, not {len(value)}",
                _fmt_list(list(names)),
            )

    def check_scalar(self, shape, value: Any, where: str) -> None:
        kind = shape.type_name
        ok = {
            "string": isinstance(value, str),
            "blob": isinstance(value, str),
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "long": isinstance(value, int) and not isinstance(value, bool),
            "double": isinstance(value, (int, float)) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "timestamp": isinstance(value, (str, int, float)) and not isinstance(value, bool),
        }.get(kind, True)
        if not ok:
            article = "an" if kind[0] in "aeiou" else "a"
            self._defect("type", f"{where} must be {article} {kind} ({shape.name}), not {_json_type(value)} {json.dumps(value)}")
            return
        enum = getattr(shape, "enum", None)
        if kind == "string" and enum and value not in enum:
            self._defect("enum", f"{where} is {value!r}, not a {shape.name}", list(enum))

    # -- errors -------------------------------------------------------------------------------

    def check_errors(self, state: dict, integration: Integration) -> list[dict]:
        seen: list[dict] = []
        for field_name in ("Retry", "Catch"):
            for i, rule in enumerate(state.get(field_name) or []):
                if not isinstance(rule, dict):
                    continue
                for name in rule.get("ErrorEquals") or []:
                    if not isinstance(name, str):
                        continue
                    self.counts["error_names"] += 1
                    at = f"{field_name}[{i}]"
                    if name.startswith("States."):
                        ok = name in BUILTIN_ERRORS
                        seen.append({"name": name, "at": at, "accepted": ok, "basis": "built-in" if ok else None})
                        if not ok:
                            self._defect(
                                "error-name",
                                f"{at} names {name}, which is not a Step Functions built-in error",
                                difflib.get_close_matches(name, sorted(BUILTIN_ERRORS), n=3) or sorted(BUILTIN_ERRORS),
                            )
                        continue
                    basis = integration.errors.get(name)
                    seen.append({"name": name, "at": at, "accepted": basis is not None, "basis": basis})
                    if basis is None:
                        self._defect("error-name", self._error_message(name, at, integration), self._error_allowed(integration))
        return seen

    def _error_message(self, name: str, at: str, integration: Integration) -> str:
        svc = integration.error_service
        message = f"{at} names {name}, not an error {svc} raises"
        prefix, _, rest = name.partition(".")
        if prefix != svc:
            message += f" (the errors of a call to {svc} are named {svc}.<Exception>; {prefix}. names another service's)"
        else:
            close = difflib.get_close_matches(name, list(integration.errors), n=1, cutoff=0.75)
            if close:
                message += f" (did you mean {close[0]}?)"
            elif rest.endswith("Exception"):
                message += f" ({svc} does not model {rest[: -len('Exception')]}; an unmodelled error arrives as the generic name)"
        return message + f"; its errors for {integration.operation}"

    @staticmethod
    def _error_allowed(integration: Integration) -> list[str]:
        others = sum(1 for b in integration.errors.values() if b == "service")
        allowed = list(integration.operation_errors)
        if others:
            allowed.append(f"or any of {others} other {integration.error_service} error shapes (--json lists them)")
        return allowed

    # -- summary ------------------------------------------------------------------------------

    def summary(self) -> str:
        c = self.counts
        return (
            f"sfn_service_models: {c['templates']} templates, {c['state_machines']} state machines, "
            f"{c['tasks']} tasks over {c['integrations']} integrations, {c['parameters']} parameters "
            f"({c['dynamic_values']} given by a path or an expression, not typed), "
            f"{c['error_names']} error names checked against botocore {botocore.__version__}: "
            + ("no defects" if not self.defects else f"{len(self.defects)} defects")
            + (f"; {len(self.skipped)} tasks skipped" if self.skipped else "")
        )

    def report(self) -> dict:
        return {
            "botocore": botocore.__version__,
            "counts": dict(self.counts, defects=len(self.defects), skipped=len(self.skipped)),
            "defects": [asdict(d) for d in self.defects],
            "tasks": self.tasks,
            "integrations": self.integrations,
            "skipped": self.skipped,
        }


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def main(argv: list[str] | None = None, out=None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("templates", nargs="+", metavar="TEMPLATE.json")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    args = parser.parse_args(argv)
    checker = Checker()
    for path in args.templates:
        checker.check_template_file(path)
    if args.json:
        json.dump(checker.report(), out, indent=2)
        out.write("\n")
    else:
        for defect in checker.defects:
            out.write(defect.line() + "\n")
        if checker.defects:
            sys.stderr.write(checker.summary() + "\n")
        else:
            out.write(checker.summary() + "\n")
    return 1 if checker.defects else 0


if __name__ == "__main__":
    sys.exit(main())
