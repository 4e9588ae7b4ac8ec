"""ECS and Application Auto Scaling: service updates and scalable targets as AWS applies
them, task definitions updated in the API's case, and services whose tasks run (or never do).

27. Service updates and auto scaling, as AWS applies them. moto 5.2 compares a resource's
    template text, not its resolved values, so a service whose task definition was replaced (a
    new image) is never updated, and AWS::ApplicationAutoScaling::ScalableTarget is a stand-in.
    Here, as CloudFormation and Application Auto Scaling do: after a change set, a service whose
    resolved task definition changed is updated (UpdateService) with the new task definition and
    the template's DesiredCount when the property is present — the documented reason a
    CloudFormation update scales a service back (aws/containers-roadmap #493) — and left at its
    count when absent; a scalable target is registered (and updated, and deregistered) with the
    template's values; and registering a scalable target, from a template or from a runbook,
    brings an ECS service's desired count into [MinCapacity, MaxCapacity] at once
    (RegisterScalableTarget, Application Auto Scaling API reference). A runbook reaches it
    through `arn:aws:states:::aws-sdk:applicationautoscaling:…`; Step Functions maps that name to
    the API (`application-autoscaling`), which moto 5.2 does only for `sfn`/`states`. And
    moto 5.2 registers an updated AWS::ECS::TaskDefinition with its container definitions in
    CloudFormation's PascalCase, which its ECS API then drops (the new revision had no image);
    they are converted as on creation.

44. A service's target group must already have a load balancer. ECS refuses a service whose
    target group no listener forwards to yet: "The target group with targetGroupArn … does not
    have an associated load balancer" (InvalidParameterException;
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html).
    moto 5.2 ignores a service's LoadBalancers. Checked here when the service is made from a
    template, against the target group's load balancers in moto's ELBv2.

Item 27's other parts: ChangeSet.apply (`cloudformation.py`) calls
`update_services_after_change_set` once item 1's outputs are rebuilt; the Step Functions name
`applicationautoscaling` is mapped in `stepfunctions.py`.

Also here, this part of item 20 (`faults.py`):

    - {"service_never_steady": true}: an ECS service's running count stays where it was when
      its desired count changes (tasks that never become healthy).
    Without that fault a service's running count follows its desired count, from creation on
    (moto starts every service with none running).
"""

from moto.applicationautoscaling import models as aas_models
from moto.cloudformation import parsing
from moto.core.utils import pascal_to_camelcase as _camel
from moto.core.utils import remap_nested_keys as _remap
from moto.ecs import models as ecs_models
from moto.ecs.models import TaskDefinition as _TaskDefinition
from moto.ecs.models import ecs_backends as _ecs_backends

from . import faults
from .patch import original, patch, register

# --- 27. Service updates and auto scaling ---------------------------------------------------------


def _register_and_bring_into_range(self, namespace, r_id, dimension, min_capacity, max_capacity, *args, **kwargs):
    register_target = original(aas_models.ApplicationAutoscalingBackend, "register_scalable_target")
    target = register_target(
        self, namespace, r_id, dimension, min_capacity, max_capacity, *args, **kwargs
    )
    if namespace == "ecs" and dimension == "ecs:service:DesiredCount":
        _, cluster, name = r_id.split("/")
        backend = _ecs_backends[self.account_id][self.region_name]
        service = backend._get_service(cluster, name)
        low = target.min_capacity if target.min_capacity is not None else service.desired_count
        high = target.max_capacity if target.max_capacity is not None else service.desired_count
        wanted = min(max(service.desired_count, low), high)
        if wanted != service.desired_count:
            backend.update_service({"cluster": cluster, "service": name, "desired_count": wanted})
    return target


class _ScalableTargetResource:
    """AWS::ApplicationAutoScaling::ScalableTarget on moto's Application Auto Scaling backend."""

    def __init__(self, target):
        self.target = target

    @staticmethod
    def cloudformation_type():
        return "AWS::ApplicationAutoScaling::ScalableTarget"

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def _register(cloudformation_json, account_id, region_name):
        p = cloudformation_json["Properties"]
        backend = aas_models.applicationautoscaling_backends[account_id][region_name]
        return backend.register_scalable_target(
            p["ServiceNamespace"],
            p["ResourceId"],
            p["ScalableDimension"],
            int(p["MinCapacity"]),
            int(p["MaxCapacity"]),
            p.get("RoleARN"),
            None,
        )

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        return cls(cls._register(cloudformation_json, account_id, region_name))

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return cls(cls._register(cloudformation_json, account_id, region_name))

    def delete(self, account_id, region_name):
        backend = aas_models.applicationautoscaling_backends[account_id][region_name]
        t = self.target
        try:
            backend.deregister_scalable_target(t.service_namespace, t.resource_id, t.scalable_dimension)
        except Exception:  # noqa: BLE001 - already gone with its service
            pass

    @property
    def physical_resource_id(self):
        t = self.target
        return f"{t.resource_id}|{t.scalable_dimension}|{t.service_namespace}"


def _update_task_definition_in_api_case(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    properties = dict(cloudformation_json["Properties"])
    properties["ContainerDefinitions"] = _remap(properties.get("ContainerDefinitions", []), _camel)
    if properties.get("Volumes") is not None:
        properties["Volumes"] = _remap(properties["Volumes"], _camel)
    update = original(_TaskDefinition, "update_from_cloudformation_json").__func__
    return update(
        cls,
        original_resource,
        new_resource_name,
        {**cloudformation_json, "Properties": properties},
        account_id,
        region_name,
    )


def update_services_after_change_set(change_set):
    """After a change set is applied, as CloudFormation does: a service whose resolved task
    definition changed is updated with it, and with the template's DesiredCount when the
    property is present."""
    resources = change_set.stack.resource_map
    for logical, resource_json in list(resources._resource_json_map.items()):
        if resource_json.get("Type") != "AWS::ECS::Service":
            continue
        service = resources._parsed_resources.get(logical)
        if service is None or isinstance(service, str):
            continue
        properties = parsing.clean_json(resource_json.get("Properties", {}), resources)
        definition = properties.get("TaskDefinition")
        arn = getattr(definition, "arn", definition)
        if arn == service.task_definition:
            continue
        count = properties.get("DesiredCount")
        backend = _ecs_backends[change_set.stack.account_id][change_set.stack.region_name]
        backend.update_service(
            {
                "cluster": service.cluster_name,
                "service": service.name,
                "task_definition": arn,
                "desired_count": int(count) if count is not None else None,
            }
        )


# --- 20 (faults.py). ECS tasks that never become healthy ------------------------------------------


def _update_service_with_faults(self, service_properties):
    cluster = service_properties.get("cluster", "default")
    name = service_properties["service"].split("/")[-1]
    before = self._get_service(cluster, name).running_count
    service = original(ecs_models.EC2ContainerServiceBackend, "update_service")(
        self, service_properties
    )
    if faults.read().get("service_never_steady"):
        service.running_count = before
        service.pending_count = service.desired_count - before
    return service


def _service_with_tasks_running(self, *args, **kwargs):
    # A new service's tasks start and become healthy, as they do in ECS once the image pulls.
    original(ecs_models.Service, "__init__")(self, *args, **kwargs)
    self.running_count = self.desired_count
    self.pending_count = 0


# --- 44. A service's target group must already have a load balancer -------------------------------


def _create_service_checking_target_groups(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    from moto.ecs.exceptions import InvalidParameterException
    from moto.elbv2.models import elbv2_backends

    elbv2 = elbv2_backends[account_id][region_name]
    for lb in cloudformation_json.get("Properties", {}).get("LoadBalancers", []):
        arn = lb.get("TargetGroupArn")
        group = elbv2.target_groups.get(arn) if isinstance(arn, str) else None
        if group is not None and not group.load_balancer_arns:
            raise InvalidParameterException(
                f"The target group with targetGroupArn {arn} does not have an associated load balancer."
            )
    return original(ecs_models.Service, "create_from_cloudformation_json").__func__(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )


def install():
    patch(
        ecs_models.Service,
        "create_from_cloudformation_json",
        classmethod(_create_service_checking_target_groups),
    )
    patch(
        aas_models.ApplicationAutoscalingBackend,
        "register_scalable_target",
        _register_and_bring_into_range,
    )
    register(_ScalableTargetResource, "moto.applicationautoscaling.harness")
    patch(
        _TaskDefinition,
        "update_from_cloudformation_json",
        classmethod(_update_task_definition_in_api_case),
    )
    # Item 20.
    patch(ecs_models.EC2ContainerServiceBackend, "update_service", _update_service_with_faults)
    patch(ecs_models.Service, "__init__", _service_with_tasks_running)
