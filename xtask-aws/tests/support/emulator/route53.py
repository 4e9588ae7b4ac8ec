"""Route 53: failover records, a hosted zone's NameServers, a hosted zone's deletion, health
checks' status.

15. Failover records. moto 5.2 deletes a record set by name and type alone, so replacing the
    PRIMARY failover record also deleted SECONDARY (same name and type). Route 53 tells them
    apart by SetIdentifier, and so does this deletion.

45. Health checks' status as Route 53 computes it. moto 5.2 answers GetHealthCheckStatus with
    one fixed "Success" for every health check, keeps no AlarmIdentifier or
    InsufficientDataHealthStatus (neither from the API nor from CloudFormation, whose
    AWS::Route53::HealthCheck also drops ChildHealthChecks, HealthThreshold, Inverted, Disabled,
    EnableSNI, MeasureLatency and Regions). Here every HealthCheckConfig member is kept (created
    through the API or a template; UpdateHealthCheck's AlarmIdentifier and
    InsufficientDataHealthStatus too), GetHealthCheck returns them, and a health check's status
    is computed as Route 53 computes it ("How Amazon Route 53 determines whether a health check
    is healthy", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html):
    - CLOUDWATCH_METRIC: "Route 53 monitors the data stream for the corresponding alarm instead
      of monitoring the alarm state" (so SetAlarmState cannot change it). The alarm is
      AlarmIdentifier.Name in moto's CloudWatch backend of AlarmIdentifier.Region, same account.
      The data stream is the alarm's metric (namespace, name, exact dimensions); it gives enough
      information when a datum lies within the alarm's evaluation window, Period ×
      EvaluationPeriods seconds, multiplied by the emulator's clock scale (item 19). Then the
      latest datum (its value, or the alarm's statistic of a statistic set) against the alarm's
      threshold and comparison operator decides: a breach is unhealthy, otherwise healthy.
      Without enough data (no datum in the window, the alarm missing, an operator not
      modelled) the status is InsufficientDataHealthStatus: Healthy, Unhealthy, or
      LastKnownStatus, "the status of the health check from the last time that CloudWatch had
      sufficient data to determine the alarm state. For new health checks that have no last
      known status, the default status for the health check is healthy" (HealthCheckConfig,
      https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html): the
      latest datum that was within the window at some time since the check was created decides
      it. An absent InsufficientDataHealthStatus is LastKnownStatus ("By default, Route 53 uses
      the status of the health check from the last time CloudWatch had sufficient data",
      https://docs.aws.amazon.com/Route53/latest/APIReference/API_UpdateHealthCheck.html).
      GetHealthCheck also answers CloudWatchAlarmConfiguration, the alarm's settings, as
      Route 53 does.
    - HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP: healthy unless the fault file (item 20)
      names the check's FullyQualifiedDomainName (or IPAddress) in "unhealthy_endpoints" (a
      trailing dot and case are ignored).
    - CALCULATED: "Route 53 adds up the number of child health checks that are considered to be
      healthy" and compares it with HealthThreshold: healthy when at least that many children
      are (a child that does not exist counts as unhealthy).
    - Every type: a Disabled check counts as healthy ("After you disable a health check, Route
      53 considers the status of the health check to always be healthy ... If you want to stop
      routing traffic to a resource, change the value of Inverted", HealthCheckConfig), and
      Inverted then inverts the status.
    GetHealthCheckStatus answers one HealthCheckObservation per checker region (the check's
    Regions, else the eight Route 53 uses by default: us-east-1, us-west-1, us-west-2,
    eu-west-1, ap-southeast-1, ap-southeast-2, ap-northeast-1, sa-east-1), each with a
    StatusReport whose Status starts "Success: " when the check is healthy and "Failure: " when
    not, as Route 53's checkers report (the rest of each text is the emulator's own words). A
    CALCULATED check is refused with InvalidInput (HTTP 400): "You can't use
    GetHealthCheckStatus to get the status of a calculated health check"
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHealthCheckStatus.html;
    InvalidInput is the operation's documented error for a request that is not valid; the
    message is the emulator's, AWS's is not documented). `health_check_healthy(account_id,
    health_check_id)` answers any check's health, calculated ones included, for the other
    modules and the fixtures.

Also here, parts of items whose text is elsewhere:
- item 12 (Attributes moto leaves out; `elbv2.py`): a hosted zone's NameServers (and its Id);
- item 26 (Deletion as AWS refuses it; `cloudformation.py`), a stack's zone deleted through
  Route 53's API, which refuses so:

    - Route 53 refuses to delete a hosted zone holding records other than SOA and NS
      (HostedZoneNotEmpty); moto's CloudFormation never deleted the zone at all.
"""

import datetime as _datetime
import time as _time

from moto.cloudwatch import models as cloudwatch_models
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.route53 import models as route53_models
from moto.route53.exceptions import InvalidInput
from moto.route53.responses import Route53
from moto.utilities.utils import get_partition

from . import faults
from .clock import CLOCK_SCALE
from .cloudwatch import _COMPARE
from .patch import original, patch

# --- 12 (elbv2.py). A hosted zone's NameServers ---------------------------------------------------


def _zone_attribute(self, attribute_name):
    if attribute_name == "NameServers":
        if self.delegation_set is not None:
            return self.delegation_set.name_servers
        return [f"ns-{i}.awsdns-{i}.org" for i in range(4)]
    if attribute_name == "Id":
        return self.id
    raise AttributeError(attribute_name)


# --- 15. Failover records -------------------------------------------------------------------------


def _delete_rrset_by_identity(self, rrset):
    identifier = rrset.get("SetIdentifier")
    self.rrsets = [
        r
        for r in self.rrsets
        if r.name != rrset["Name"]
        or (rrset.get("Type") is not None and r.type != rrset["Type"])
        or (identifier is not None and r.set_identifier != identifier)
    ]


def _zone_of(properties, account_id, region_name):
    backend = route53_models.route53_backends[account_id][get_partition(region_name)]
    zone_name = properties.get("HostedZoneName")
    zone = backend.get_hosted_zone_by_name(zone_name) if zone_name else None
    return zone or backend.get_hosted_zone(properties["HostedZoneId"])


def _delete_record_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name):
    p = cloudformation_json["Properties"]
    _zone_of(p, account_id, region_name).delete_rrset(
        {"Name": p.get("Name", resource_name), "Type": p.get("Type"), "SetIdentifier": p.get("SetIdentifier")}
    )


def _delete_record(self, account_id, region):
    properties = {"HostedZoneName": self.hosted_zone_name, "HostedZoneId": self.hosted_zone_id}
    _zone_of(properties, account_id, region).delete_rrset(
        {"Name": self.name, "Type": self.type, "SetIdentifier": self.set_identifier}
    )


# --- 26 (cloudformation.py). A hosted zone's deletion ---------------------------------------------


def _delete_zone(self, account_id, region):
    backend = route53_models.route53_backends[account_id][get_partition(region)]
    if self.resource_id in backend.zones:
        backend.delete_hosted_zone(self.resource_id)


# --- 45. Health checks' status -------------------------------------------------------------------

# Where Route 53's health checkers are when a check names no Regions (HealthCheckRegion's values).
CHECKER_REGIONS = (
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
)

# HealthCheckConfig member -> moto's health_check_args key, for every member moto's CloudFormation
# model drops and for the two its API drops (AlarmIdentifier, InsufficientDataHealthStatus).
_CONFIG_ARGS = {
    "IPAddress": "ip_address",
    "Port": "port",
    "Type": "type",
    "ResourcePath": "resource_path",
    "FullyQualifiedDomainName": "fqdn",
    "SearchString": "search_string",
    "RequestInterval": "request_interval",
    "FailureThreshold": "failure_threshold",
    "HealthThreshold": "health_threshold",
    "MeasureLatency": "measure_latency",
    "Inverted": "inverted",
    "Disabled": "disabled",
    "EnableSNI": "enable_sni",
    "ChildHealthChecks": "children",
    "Regions": "regions",
    "AlarmIdentifier": "alarm_identifier",
    "InsufficientDataHealthStatus": "insufficient_data_health_status",
}
_INTEGERS = ("port", "request_interval", "failure_threshold", "health_threshold")
_BOOLEANS = ("measure_latency", "inverted", "disabled", "enable_sni")


def _args_of(config):
    """health_check_args for moto's backend from a HealthCheckConfig (API or template)."""
    args = {}
    for member, key in _CONFIG_ARGS.items():
        value = config.get(member)
        if value is None:
            continue
        if key in _INTEGERS:
            value = int(value)
        elif key in _BOOLEANS:
            value = value if isinstance(value, bool) else str(value).lower() == "true"
        args[key] = value
    return args


def _create_health_check_keeping_config(self, caller_reference, health_check_args):
    health_check = original(route53_models.Route53Backend, "create_health_check")(
        self, caller_reference, health_check_args
    )
    health_check.alarm_identifier = health_check_args.get("alarm_identifier")
    health_check.insufficient_data_health_status = health_check_args.get(
        "insufficient_data_health_status"
    )
    health_check.created_at = _time.time()
    health_check.account_id = self.account_id
    return health_check


def _health_check_from_cloudformation(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    config = cloudformation_json["Properties"]["HealthCheckConfig"]
    backend = route53_models.route53_backends[account_id][get_partition(region_name)]
    return backend.create_health_check(
        caller_reference=resource_name, health_check_args=_args_of(config)
    )


def _create_health_check_response(self):
    config = self._get_param("HealthCheckConfig") or {}
    health_check = self.backend.create_health_check(
        self._get_param("CallerReference"), _args_of(config)
    )
    return ActionResult({"HealthCheck": health_check})


def _update_health_check_response(self):
    result = original(Route53, "update_health_check")(self)
    health_check = self.backend.get_health_check(self._get_param("HealthCheckId"))
    alarm = self._get_param("AlarmIdentifier")
    if alarm:
        health_check.alarm_identifier = alarm
    status = self._get_param("InsufficientDataHealthStatus")
    if status:
        health_check.insufficient_data_health_status = status
    return result


_ENDPOINT_ONLY = ("IPAddress", "Port", "RequestInterval", "FailureThreshold", "MeasureLatency")


def _health_check_config(self):
    config = original(route53_models.HealthCheck, "health_check_config").fget(self)
    if self.type_ == "CLOUDWATCH_METRIC":
        for member in _ENDPOINT_ONLY:
            config.pop(member, None)
        config["AlarmIdentifier"] = getattr(self, "alarm_identifier", None)
        config["InsufficientDataHealthStatus"] = getattr(
            self, "insufficient_data_health_status", None
        )
    return config


def _alarm_of(account_id, health_check):
    """(alarm or None, its region), or None when the check names no alarm."""
    identifier = getattr(health_check, "alarm_identifier", None) or {}
    name, region = identifier.get("Name"), identifier.get("Region")
    if not name or not region or account_id is None:
        return None
    return cloudwatch_models.cloudwatch_backends[account_id][region].alarms.get(name), region


def _alarm_configuration(self):
    """CloudWatchAlarmConfiguration: the monitored alarm's settings, as Route 53 answers them."""
    if self.type_ != "CLOUDWATCH_METRIC":
        return None
    found = _alarm_of(getattr(self, "account_id", None), self)
    alarm = found[0] if found else None
    if alarm is None or alarm.rule or not alarm.statistic or alarm.threshold is None:
        return None
    return {
        "EvaluationPeriods": int(alarm.evaluation_periods),
        "Threshold": float(alarm.threshold),
        "ComparisonOperator": alarm.comparison_operator,
        "Period": int(alarm.period),
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "Statistic": alarm.statistic,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
    }


def _epoch(timestamp):
    if isinstance(timestamp, str):
        timestamp = _datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    if isinstance(timestamp, _datetime.datetime):
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=_datetime.timezone.utc)
        return timestamp.timestamp()
    return float(timestamp)


def _datum_value(datum, statistic):
    if isinstance(datum, cloudwatch_models.MetricDatum):
        return float(datum.value)
    return {
        "Maximum": datum.max,
        "Minimum": datum.min,
        "Sum": datum.sum,
        "SampleCount": datum.sample_count,
        "Average": datum.sum / datum.sample_count if datum.sample_count else None,
    }.get(statistic)


def _metric_health(account_id, health_check):
    """(healthy, why) for a CLOUDWATCH_METRIC check: the alarm's data stream decides, else
    InsufficientDataHealthStatus (item 45)."""
    found = _alarm_of(account_id, health_check)
    alarm = found[0] if found else None
    now = _time.time()
    latest = None  # (epoch, value) of the latest datum within the window
    last_known = None  # of the latest datum that was within the window since the check existed
    compare = None
    if alarm is not None and not alarm.rule:
        compare = _COMPARE.get(alarm.comparison_operator)
        window = float(alarm.period or 60) * int(alarm.evaluation_periods or 1) * CLOCK_SCALE
        created = getattr(health_check, "created_at", 0.0)
        wanted = sorted((d.name, d.value) for d in alarm.dimensions)
        backend = cloudwatch_models.cloudwatch_backends[account_id][found[1]]
        for datum in backend.metric_data:
            if datum.namespace != alarm.namespace or datum.name != alarm.metric_name:
                continue
            if sorted((d.name, d.value) for d in datum.dimensions) != wanted:
                continue
            value = _datum_value(datum, alarm.statistic)
            if value is None:
                continue
            at = _epoch(datum.timestamp)
            if at > now + 1 or at + window < created:
                continue
            if last_known is None or at >= last_known[0]:
                last_known = (at, value)
            if at >= now - window and (latest is None or at >= latest[0]):
                latest = (at, value)
    if latest is not None and compare is not None and alarm.threshold is not None:
        breached = compare(latest[1], float(alarm.threshold))
        return not breached, (
            f"datum {latest[1]} {'breaches' if breached else 'is within'} the threshold "
            f"{alarm.threshold} of alarm {alarm.name}"
        )
    setting = getattr(health_check, "insufficient_data_health_status", None) or "LastKnownStatus"
    if setting == "Healthy":
        return True, "insufficient data; InsufficientDataHealthStatus is Healthy"
    if setting == "Unhealthy":
        return False, "insufficient data; InsufficientDataHealthStatus is Unhealthy"
    if last_known is not None and compare is not None and alarm.threshold is not None:
        breached = compare(last_known[1], float(alarm.threshold))
        return not breached, (
            f"insufficient data; last known status from datum {last_known[1]} "
            f"({'breaching' if breached else 'within'} the threshold)"
        )
    return True, "insufficient data and no last known status: healthy"


def _endpoint_health(health_check):
    named = {str(e).lower().rstrip(".") for e in faults.read().get("unhealthy_endpoints", [])}
    for endpoint in (health_check.fqdn, health_check.ip_address):
        if endpoint and str(endpoint).lower().rstrip(".") in named:
            return False, (
                f"Connection timed out: {endpoint} is named in the fault file's "
                "unhealthy_endpoints"
            )
    if health_check.type_ == "TCP":
        return True, "TCP connection established"
    return True, "HTTP Status Code 200, OK"


def _health(account_id, health_check, seen=()):
    """(healthy, why) as Route 53 computes it, Disabled and Inverted applied."""
    if health_check.disabled:
        healthy, why = True, "disabled: healthy"
    elif health_check.type_ == "CALCULATED":
        backend = route53_models.route53_backends[account_id]["aws"]
        children = health_check.children or []
        healthy_children = 0
        for child_id in children:
            child = backend.health_checks.get(child_id)
            if child is not None and child_id not in seen:
                if _health(account_id, child, seen + (health_check.id,))[0]:
                    healthy_children += 1
        threshold = int(health_check.health_threshold or 0)
        healthy = healthy_children >= threshold
        why = f"{healthy_children} of {len(children)} child health checks healthy, {threshold} needed"
    elif health_check.type_ == "CLOUDWATCH_METRIC":
        healthy, why = _metric_health(account_id, health_check)
    else:
        healthy, why = _endpoint_health(health_check)
    if health_check.inverted:
        return not healthy, f"inverted health check: {why}"
    return healthy, why


def health_check_healthy(account_id, health_check_id):
    """Whether Route 53 considers the health check healthy (item 45), any type. Raises
    moto's NoSuchHealthCheck for an unknown id."""
    backend = route53_models.route53_backends[account_id]["aws"]
    return _health(account_id, backend.get_health_check(health_check_id))[0]


def _get_health_check_status(self):
    health_check = self.backend.get_health_check(self._get_param("HealthCheckId"))
    if health_check.type_ == "CALCULATED":
        raise InvalidInput(
            f"Health check {health_check.id} is a calculated health check: "
            "GetHealthCheckStatus does not report the status of calculated health checks."
        )
    healthy, why = _health(self.current_account, health_check)
    status = f"{'Success' if healthy else 'Failure'}: {why}"
    checked = utcnow()
    observations = [
        {
            "Region": region,
            "IPAddress": f"15.177.{index * 8}.{10 + index}",
            "StatusReport": {"Status": status, "CheckedTime": checked},
        }
        for index, region in enumerate(health_check.regions or CHECKER_REGIONS)
    ]
    return ActionResult({"HealthCheckObservations": observations})


def install():
    zone = route53_models.FakeZone
    patch(zone, "get_cfn_attribute", _zone_attribute)
    patch(zone, "delete_rrset", _delete_rrset_by_identity)
    patch(
        route53_models.RecordSet,
        "delete_from_cloudformation_json",
        classmethod(_delete_record_from_cloudformation),
    )
    patch(route53_models.RecordSet, "delete", _delete_record)
    patch(zone, "delete", _delete_zone)
    # Item 45.
    patch(
        route53_models.Route53Backend, "create_health_check", _create_health_check_keeping_config
    )
    patch(
        route53_models.HealthCheck,
        "create_from_cloudformation_json",
        classmethod(_health_check_from_cloudformation),
    )
    patch(route53_models.HealthCheck, "health_check_config", property(_health_check_config))
    patch(
        route53_models.HealthCheck,
        "cloud_watch_alarm_configuration",
        property(_alarm_configuration),
    )
    patch(Route53, "create_health_check", _create_health_check_response)
    patch(Route53, "update_health_check", _update_health_check_response)
    patch(Route53, "get_health_check_status", _get_health_check_status)
