"""CloudWatch: alarms (created from templates, evaluated, state-change events) and the RPC v2
CBOR protocol.

18. Alarms. moto 5.2 creates no AWS::CloudWatch::Alarm or CompositeAlarm from a template, never
    evaluates an alarm, and sends no state-change events. Here: both types are created on moto's
    CloudWatch backend; a metric alarm is evaluated against each datum PutMetricData receives
    for its metric and dimensions (threshold and comparison operator; one datum decides, as with
    one evaluation period); a composite alarm's rule (ALARM/OK/INSUFFICIENT_DATA("name"), AND,
    OR, NOT, parentheses) is evaluated whenever an alarm changes state; and every change sends
    "CloudWatch Alarm State Change" to the region's default bus, as CloudWatch does, so the rule
    that starts the failover runbook fires from the alarms alone.

31. CloudWatch's CBOR protocol. The AWS SDK for Rust calls CloudWatch with the Smithy RPC v2
    CBOR protocol (`POST /service/GraniteServiceVersion20100801/operation/<Operation>`, CBOR in
    and out), which CloudWatch serves beside its query protocol; moto 5.2 routes only the query
    protocol and answers 404. DescribeAlarms (names, name prefix, alarm types) and
    GetMetricStatistics are answered in CBOR from moto's CloudWatch backend, errors as the
    protocol shapes them (`__type`, `message`). Note that moto starts a new alarm in OK, where
    CloudWatch starts it in INSUFFICIENT_DATA until its first evaluation; the tests that need an
    alarm's state put the metric data that decides it.

37. Composite alarms and the alarms they name. CloudWatch refuses a composite alarm whose rule
    names an alarm that does not exist ("Could not save the composite alarm as alarms [..] in
    the alarm rule do not exist"; PutCompositeAlarm,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html),
    and refuses to delete an alarm that a composite alarm's rule still names ("Cannot delete
    alarm(s) [..] as there are composite alarm(s) depending on it"). moto 5.2 checks neither.
    With item 35's order a composite alarm that names its alarms only by string is made before
    them and fails, as it may in AWS.

The faults of item 20 (`faults.py`) apply to the CBOR protocol too; its dispatch consults them
itself, since it does not go through moto's responses.
"""

import datetime as _datetime
import json
import re
import time as _time

import cbor2
from moto.cloudwatch import models as cloudwatch_models
from moto.cloudwatch import urls as cloudwatch_urls
from moto.cloudwatch.exceptions import ValidationError as _CloudWatchValidation
from moto.core.exceptions import ServiceException
from moto.events import models as events_models

from . import faults
from .patch import original, patch, register

# --- 18. Alarms -----------------------------------------------------------------------------------

_COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


class _Alarm:
    """AWS::CloudWatch::Alarm and AWS::CloudWatch::CompositeAlarm on moto's CloudWatch backend."""

    def __init__(self, alarm):
        self.alarm = alarm

    @classmethod
    def cloudformation_type(cls):
        return cls.TYPE

    @staticmethod
    def cloudformation_name_type():
        return "AlarmName"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        backend = cloudwatch_models.cloudwatch_backends[account_id][region_name]
        alarm = backend.put_metric_alarm(
            name=p.get("AlarmName", resource_name),
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p.get("ComparisonOperator"),
            evaluation_periods=int(p.get("EvaluationPeriods", 1)),
            period=int(p.get("Period", 60)),
            threshold=float(p["Threshold"]) if "Threshold" in p else None,
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=p.get("Dimensions", []),
            alarm_actions=p.get("AlarmActions", []),
            ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            treat_missing_data=p.get("TreatMissingData"),
            rule=p.get("AlarmRule"),
        )
        return cls(alarm)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        backend = cloudwatch_models.cloudwatch_backends[account_id][region_name]
        backend.delete_alarms([resource_name])

    def delete(self, account_id, region_name):
        backend = cloudwatch_models.cloudwatch_backends[account_id][region_name]
        backend.delete_alarms([self.alarm.name])

    @property
    def physical_resource_id(self):
        return self.alarm.name

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name):
        return self.alarm.alarm_arn


class _AlarmResource(_Alarm):
    TYPE = "AWS::CloudWatch::Alarm"


class _CompositeAlarmResource(_Alarm):
    TYPE = "AWS::CloudWatch::CompositeAlarm"


def _rule_holds(rule, backend):
    def state(match):
        alarm = backend.alarms.get(match.group(2))
        return repr(alarm is not None and alarm.state_value == match.group(1))

    expression = re.sub(r'(ALARM|OK|INSUFFICIENT_DATA)\("([^"]+)"\)', state, rule)
    expression = re.sub(r"\bAND\b", " and ", expression)
    expression = re.sub(r"\bOR\b", " or ", expression)
    expression = re.sub(r"\bNOT\b", " not ", expression)
    if not re.fullmatch(r"[\s()a-zTF]*", expression.replace("True", "").replace("False", "")):
        raise ValueError(f"alarm rule not understood: {rule}")
    return eval(expression, {"__builtins__": {}}, {})  # noqa: S307 - checked above


# --- 37. Composite alarms and the alarms they name ------------------------------------------------

_NAMED = re.compile(r'(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*"?([^")]+?)"?\s*\)')


def named_alarms(rule):
    """The alarm names a composite alarm's rule names."""
    return _NAMED.findall(rule or "")


def _put_alarm_checking_its_rule(self, name, *args, **kwargs):
    rule = kwargs.get("rule")
    if rule:
        missing = [a for a in named_alarms(rule) if a not in self.alarms]
        if missing:
            raise _CloudWatchValidation(
                "Could not save the composite alarm as alarms ["
                + ", ".join(missing)
                + "] in the alarm rule do not exist"
            )
    return original(cloudwatch_models.CloudWatchBackend, "put_metric_alarm")(self, name, *args, **kwargs)


def _delete_alarms_unless_named(self, alarm_names):
    going = set(alarm_names)
    for composite in self.alarms.values():
        if composite.name in going or not getattr(composite, "rule", None):
            continue
        named = [a for a in named_alarms(composite.rule) if a in going]
        if named:
            raise _CloudWatchValidation(
                f"Cannot delete alarm(s) [{', '.join(named)}] as there are composite alarm(s) "
                f"depending on it, please delete or update the composite alarm(s) [{composite.name}] first"
            )
    return original(cloudwatch_models.CloudWatchBackend, "delete_alarms")(self, alarm_names)


def _update_state_and_notify(self, reason, reason_data, state_value):
    previous = self.state_value
    original(cloudwatch_models.Alarm, "update_state")(self, reason, reason_data, state_value)
    if previous == state_value:
        return
    # arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME
    region, account = self.alarm_arn.split(":")[3:5]
    try:
        events_models.events_backends[account][region].put_events(
            [
                {
                    "Source": "aws.cloudwatch",
                    "DetailType": "CloudWatch Alarm State Change",
                    "Resources": [self.alarm_arn],
                    "Detail": json.dumps(
                        {
                            "alarmName": self.name,
                            "state": {"value": state_value, "reason": reason},
                            "previousState": {"value": previous},
                        }
                    ),
                    "EventBusName": "default",
                }
            ]
        )
    except Exception:  # noqa: BLE001 - delivery never fails the alarm
        pass
    backend = cloudwatch_models.cloudwatch_backends[account][region]
    for composite in list(backend.alarms.values()):
        if composite.rule and f'"{self.name}"' in composite.rule:
            holds = _rule_holds(composite.rule, backend)
            composite.update_state(
                f"rule {'true' if holds else 'false'} after {self.name} went {state_value}",
                "{}",
                "ALARM" if holds else "OK",
            )


def _put_metric_data_and_evaluate(self, namespace, metric_data):
    original(cloudwatch_models.CloudWatchBackend, "put_metric_data")(self, namespace, metric_data)
    for datum in metric_data:
        if "Value" not in datum:
            continue
        value = float(datum["Value"])
        dimensions = sorted((d["Name"], d["Value"]) for d in datum.get("Dimensions", []))
        for alarm in list(self.alarms.values()):
            if alarm.rule or alarm.namespace != namespace or alarm.metric_name != datum["MetricName"]:
                continue
            if sorted((d.name, d.value) for d in alarm.dimensions) != dimensions:
                continue
            compare = _COMPARE.get(alarm.comparison_operator)
            if compare is None or alarm.threshold is None:
                continue
            breached = compare(value, float(alarm.threshold))
            alarm.update_state(
                f"datum {value} {'breaches' if breached else 'is within'} threshold {alarm.threshold}",
                "{}",
                "ALARM" if breached else "OK",
            )


# --- 31. CloudWatch's CBOR protocol ---------------------------------------------------------------


def _cbor_alarm(alarm):
    when = alarm.state_updated_timestamp
    if alarm.rule:
        return {
            "AlarmName": alarm.name,
            "AlarmArn": alarm.alarm_arn,
            "AlarmRule": alarm.rule,
            "StateValue": alarm.state_value,
            "StateUpdatedTimestamp": when,
        }
    return {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.alarm_arn,
        "Namespace": alarm.namespace,
        "MetricName": alarm.metric_name,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
        "Threshold": alarm.threshold,
        "ComparisonOperator": alarm.comparison_operator,
        "StateValue": alarm.state_value,
        "StateUpdatedTimestamp": when,
    }


def _cbor_describe_alarms(backend, params):
    if params.get("AlarmNames"):
        alarms = backend.get_alarms_by_alarm_names(params["AlarmNames"])
    elif params.get("AlarmNamePrefix"):
        alarms = backend.get_alarms_by_alarm_name_prefix(params["AlarmNamePrefix"])
    else:
        alarms = backend.describe_alarms()
    alarms = list(alarms)
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    return {
        "MetricAlarms": [
            _cbor_alarm(a) for a in alarms if not a.rule and "MetricAlarm" in types
        ],
        "CompositeAlarms": [
            _cbor_alarm(a) for a in alarms if a.rule and "CompositeAlarm" in types
        ],
    }


def _utc(value):
    if isinstance(value, _datetime.datetime):
        return value.astimezone(_datetime.timezone.utc).replace(tzinfo=None)
    return _datetime.datetime.utcfromtimestamp(float(value))


def _cbor_get_metric_statistics(backend, params):
    points = backend.get_metric_statistics(
        params["Namespace"],
        params["MetricName"],
        _utc(params["StartTime"]),
        _utc(params["EndTime"]),
        int(params["Period"]),
        params.get("Statistics", []),
        dimensions=params.get("Dimensions", []),
        unit=params.get("Unit"),
    )
    datapoints = []
    for p in points:
        d = {"Timestamp": p.timestamp.replace(tzinfo=_datetime.timezone.utc)}
        for stat in p.stats:
            value = p.get_statistics_for_type(stat)
            if value is not None:
                d[stat] = float(value)
        datapoints.append(d)
    return {"Label": params["MetricName"], "Datapoints": datapoints}


_CBOR_OPERATIONS = {
    "DescribeAlarms": _cbor_describe_alarms,
    "GetMetricStatistics": _cbor_get_metric_statistics,
}


def _cbor_dispatch(request, full_url, headers):
    operation = full_url.split("/operation/", 1)[1].split("?")[0]
    # Credential=KEY/DATE/REGION/monitoring/aws4_request
    scope = request.headers.get("Authorization", "").split("Credential=", 1)[-1].split("/")
    region = scope[2] if len(scope) > 2 else "us-east-1"
    body = request.get_data()
    params = cbor2.loads(body) if body else {}
    reply = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
    handler = _CBOR_OPERATIONS.get(operation)
    if handler is None:
        error = {"__type": "UnknownOperationException", "message": f"{operation} is not modelled"}
        return 400, reply, cbor2.dumps(error)
    if region in faults.read().get("unreachable", []):
        _time.sleep(30)
        return 503, reply, cbor2.dumps({"__type": "ServiceUnavailable", "message": "unreachable"})
    fault = faults.injected_error(operation)
    if fault is not None:
        return 400, reply, cbor2.dumps({"__type": fault[0], "message": fault[1]})
    backend = cloudwatch_models.cloudwatch_backends[default_account()][region]
    try:
        result = handler(backend, params)
    except ServiceException as e:
        return 400, reply, cbor2.dumps({"__type": e.code, "message": e.message})
    return 200, reply, cbor2.dumps(result, datetime_as_timestamp=True, timezone=_datetime.timezone.utc)


def default_account():
    from moto.core import DEFAULT_ACCOUNT_ID

    return DEFAULT_ACCOUNT_ID


def install():
    register(_AlarmResource, "moto.cloudwatch.harness")
    register(_CompositeAlarmResource, "moto.cloudwatch.harness")
    patch(cloudwatch_models.Alarm, "update_state", _update_state_and_notify)
    patch(cloudwatch_models.CloudWatchBackend, "put_metric_data", _put_metric_data_and_evaluate)
    patch(cloudwatch_models.CloudWatchBackend, "put_metric_alarm", _put_alarm_checking_its_rule)
    patch(cloudwatch_models.CloudWatchBackend, "delete_alarms", _delete_alarms_unless_named)
    cloudwatch_urls.url_paths[
        "{0}/service/GraniteServiceVersion20100801/operation/(?P<operation>[^/]+)$"
    ] = _cbor_dispatch
