"""CloudFormation: outputs after a change set, change sets that only change parameters,
stand-ins, fault injection on change sets and busy stacks, deletion as AWS refuses it, conditions
that change on an update, and transforms and capabilities.

1. Stack outputs after a change set. moto 5.2 builds a stack's output map when a stack is made
   with CreateStack but not when a change set is executed, so DescribeStacks returns no outputs
   after `cargo xtask deploy` (which only uses change sets). Real CloudFormation returns them
   either way, and the deployer passes outputs from one phase to the next, so the tests need
   them: after `ChangeSet.apply` the output map is rebuilt from the applied template.

   An output whose value refers to a resource type moto accepts but does not create (a global
   table, an Aurora cluster, …) cannot be evaluated; it is left out of DescribeStacks, as moto
   already does for stacks made with CreateStack, instead of failing the whole call.

4. Change sets that only change parameters. moto 5.2 computes a change set's changes from the
   template alone, so a change set whose template is the same but whose parameters differ (the
   primary-link phase) lists no change, where CloudFormation lists the resources that use the
   changed parameters. The changes are computed with the parameters, as moto's own stack
   update already does (those resources show as Modify), against the values the stack runs
   with, defaults included; the update that applies the change set compares the same way (moto
   compares with the values given at creation only, so a parameter left at its default and then
   passed with UsePreviousValue looked changed, and the subnets that use the zone parameters were
   updated out of the stack, which then could not delete its VPC).

11. Stand-ins for types moto does not create. moto accepts some types without creating them
    (global tables, secrets, backup vaults and plans, alarms, canaries, …); a `Ref` or
    `Fn::GetAtt` to one then fails the whole stack ("references undefined resource"). Such a
    resource becomes a stand-in that answers `Ref` and `Fn::GetAtt` with identifiers in the
    usual shape, so templates that wire them deploy; the tests assert only on what moto
    really creates.

16. Fault injection. On every CreateChangeSet the JSON file named by TRADING_DR_FAULTS is read
    (when it exists); {"reject_change_set": {"<stack name>": "<message>"}} makes CreateChangeSet
    for that stack fail with a ValidationError carrying the message, as CloudFormation does for a
    template it rejects. {"stack_busy": {"<stack name>": "<status>"}} makes DescribeStacks show
    that stack in that status (UPDATE_IN_PROGRESS: another deploy is running) and, as
    CloudFormation refuses to change a stack in the middle of an operation, CreateChangeSet for
    it fail with "… is in UPDATE_IN_PROGRESS state and can not be updated".

26. Deletion as AWS refuses it. moto 5.2 deletes whatever it can of a stack, raises the last
    failure after removing the stack from the list, and refuses nothing that AWS refuses, so a
    destroy that fails in AWS reports DELETE_COMPLETE here. Modelled from the AWS documentation:
    - A stack whose resources fail to delete ends in DELETE_FAILED, stays listed with the
      resources left, and has a DELETE_FAILED event per resource with the service's reason and
      one for the stack ("The following resource(s) failed to delete: [..]"). DeleteStack on a
      DELETE_FAILED stack tries again; RetainResources (only then, as in CloudFormation) leaves
      those resources out.
    - Certificate validation records: for each DomainValidationOptions entry with a
      HostedZoneId, CloudFormation writes ACM's CNAME (`_<hash>.<domain>.` →
      `_<hash>.<hash>.acm-validations.aws.`) into that zone, and deleting the certificate leaves
      it there (cloudformation-coverage-roadmap #837).
    - Route 53 refuses to delete a hosted zone holding records other than SOA and NS
      (HostedZoneNotEmpty); moto's CloudFormation never deleted the zone at all.
    - Backup vaults are created on moto's Backup backend (no longer stand-ins), with recovery
      points: StartBackupJob makes one at once; ListRecoveryPointsByBackupVault and
      DeleteRecoveryPoint work on them; a locked vault refuses to delete a recovery point younger
      than its minimum retention; a vault with recovery points refuses deletion
      ("Backup vault cannot be deleted (contains N recovery points)").
    - RDS refuses to delete the writer of a global database that has other members
      (InvalidGlobalClusterStateFault).

30. Conditions that change on an update. moto 5.2 creates a resource with a `Condition` only
    when the stack is created: a resource whose condition becomes true on an update (the primary's
    replication alarms and peering routes in the primary-link phase, whose condition depends on a
    parameter) is listed but never made. Here, as CloudFormation does, after an update every
    resource whose condition now holds and that does not exist is created (in template order,
    retried while what it refers to is still missing), and one whose condition no longer holds
    is deleted.

35. CloudFormation's order, not the template's: creation and deletion respect only declared
    dependencies, in an adversarial order (the order functions and the item's text are in
    `order.py`). A CREATE or UPDATE change set makes its new resources in that order, a stack
    deleted deletes them in the reverse one, in one pass: a resource that fails to delete stops
    the deletion of what it depends on, and nothing is retried.

36. Execution that fails. moto 5.2 raises out of ExecuteChangeSet when a resource cannot be
    made. CloudFormation accepts the request, then reports the resource CREATE_FAILED (or
    UPDATE_FAILED) with the service's message and ends the stack in ROLLBACK_COMPLETE (a new
    stack) or UPDATE_ROLLBACK_COMPLETE; the deployer reads that from the events. Here the same
    is reported (the resources made before the failure are not rolled back: the tests that reach
    this stop there).

Item 26's other parts are with their services: certificate validation records in `acm.py`, a
hosted zone's deletion in `route53.py`, backup vaults and their recovery points in `backup.py`,
the refusal to delete a global database's writer in `rds.py`.

Also here, from items whose text is with another service:
- item 27 (`ecs.py`): after a change set, a service whose resolved task definition changed is
  updated. ChangeSet.apply does that (`ecs.update_services_after_change_set`) after item 1's
  outputs are rebuilt: one wrapper, both steps, in that order.
- item 34 (`secretsmanager.py`): CreateChangeSet refuses a template that declares a transform
  unless CAPABILITY_AUTO_EXPAND is acknowledged (InsufficientCapabilitiesException), and a
  `HostedRotationLambda` without the `AWS::SecretsManager` transform.
- `Harnessed`: what the resource models of items 33 (`wafv2.py`) and 34 share.
The fault file of item 16 is read through `faults.read` (`faults.py`).
"""

import json

from moto.cloudformation import models, parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import EmptyResult

from . import ecs, faults, order, s3
from .patch import original, patch

# --- 1. Stack outputs after a change set (and item 27's service updates) --------------------------


def _apply_with_outputs_and_service_updates(self):
    original(models.ChangeSet, "apply")(self)
    # Item 1. The output map is built from the stack's template, which moto only replaces after
    # apply returns: give the stack the applied template first.
    self.stack.template = self.template
    self.stack._parse_template()
    self.stack.output_map = self.stack._create_output_map()
    # Item 27 (ecs.py): then a service whose resolved task definition changed is updated.
    ecs.update_services_after_change_set(self)


def _output_or_none(self, key):
    try:
        return original(parsing.OutputMap, "__getitem__")(self, key)
    except Exception:  # noqa: BLE001 - any output moto cannot evaluate is left out
        return None


# --- 4. Change sets that only change parameters ---------------------------------------------------


def _diff_with_parameters(self):
    # Compare with the values the stack runs with, template defaults included (moto compares
    # with the values given at creation only, so an omitted parameter looks changed).
    resource_map = self.stack.resource_map
    given = resource_map.input_parameters
    resource_map.input_parameters = dict(resource_map.resolved_parameters)
    try:
        by_action = resource_map.build_resource_diff(self.template_dict, self.parameters)
    finally:
        resource_map.input_parameters = given
    old = self.stack.resource_map._resource_json_map
    changes = []
    for action, names in by_action.items():
        for name in names:
            source = old if action == "Remove" else self.template_dict["Resources"]
            changes.append(
                models.Change(
                    action=action,
                    logical_resource_id=name,
                    resource_type=source[name]["Type"],
                )
            )
    return changes


# --- 11. Stand-ins for types moto does not create -------------------------------------------------


class _StandIn:
    """A resource moto accepts without creating: answers Ref and GetAtt, deletes as a no-op."""

    def __init__(self, logical_id, resource_type, account_id, region_name, properties=None):
        service, kind = resource_type.split("::")[1:3]
        self.logical_resource_id = logical_id
        self.cf_resource_type = resource_type
        # Where the type has a name property, Ref answers the name, as it does in AWS for
        # most named types (a canary's Ref is its name: an alarm's dimension refers to it).
        properties = properties or {}
        name = properties.get("Name") or properties.get(f"{kind}Name")
        self.physical_resource_id = name if isinstance(name, str) and name else f"{logical_id.lower()}-standin"
        self.arn = (
            f"arn:aws:{service.lower()}:{region_name}:{account_id}:{kind.lower()}/{self.physical_resource_id}"
        )

    @classmethod
    def has_cfn_attr(cls, attr):
        return True

    def get_cfn_attribute(self, attribute_name):
        return self.arn if attribute_name.endswith("Arn") else f"{self.physical_resource_id}.{attribute_name}"

    def delete(self, account_id, region_name):
        pass


class ResourceFailed(Exception):
    """A resource AWS would refuse to make (item 36): its logical id, type and the service's
    message."""

    def __init__(self, logical_id, resource_type, reason):
        super().__init__(reason)
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


def _parse_and_create_or_stand_in(logical_id, resource_json, resources_map, account_id, region_name):
    try:
        resource = original(parsing, "parse_and_create_resource")(
            logical_id, resource_json, resources_map, account_id, region_name
        )
    except ResourceFailed:
        raise
    except Exception as e:  # noqa: BLE001 - reported as CloudFormation reports it (item 36)
        raise ResourceFailed(logical_id, resource_json.get("Type", ""), _reason(e)) from e
    if resource is not None:
        return resource
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    return _StandIn(
        logical_id, resource_json["Type"], account_id, region_name, resource_json.get("Properties")
    )


# --- 16. Fault injection --------------------------------------------------------------------------


def _create_change_set_with_faults(self, stack_name, *args, **kwargs):
    message = faults.read().get("reject_change_set", {}).get(stack_name)
    if message:
        raise ValidationError(stack_name, message=message)
    busy = faults.read().get("stack_busy", {}).get(stack_name)
    if busy:
        raise ValidationError(
            stack_name, message=f"Stack:{stack_name} is in {busy} state and can not be updated."
        )
    return original(models.CloudFormationBackend, "create_change_set")(
        self, stack_name, *args, **kwargs
    )


class _BusyStack:
    """A stack as DescribeStacks shows it while another operation runs on it."""

    def __init__(self, stack, status):
        self._stack = stack
        self.status = status

    def __getattr__(self, name):
        return getattr(self._stack, name)


def _describe_stacks_with_busy(self, *args, **kwargs):
    stacks = original(models.CloudFormationBackend, "describe_stacks")(self, *args, **kwargs)
    busy = faults.read().get("stack_busy", {})
    return [_BusyStack(s, busy[s.name]) if s.name in busy else s for s in stacks]


# --- 26. Deletion as AWS refuses it ---------------------------------------------------------------


def _reason(e):
    for attr in ("message", "description"):
        value = getattr(e, attr, None)
        if isinstance(value, str) and value:
            return value
    return str(e) or type(e).__name__


def _resource_event(stack, logical, resource_type, physical, status, reason):
    stack.events.append(
        models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical,
            physical_resource_id=physical,
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _delete_stack_resources(self):
    """Deletes the stack's resources in CloudFormation's order (item 35), in one pass; the stack
    ends in DELETE_COMPLETE, or in DELETE_FAILED with the resources left and the reasons of
    those that failed. What a failed resource depends on is not attempted."""
    self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    resources = self.resource_map
    # The stack's own copy: resources leave it as they are deleted; the template keeps them.
    resources._resource_json_map = dict(resources._resource_json_map)
    template = dict(resources._resource_json_map)
    retained = getattr(self, "retain_resources", set())
    remaining = [
        key
        for key, value in resources._resource_json_map.items()
        if value.get("DeletionPolicy") != "Retain"
        and key not in retained
        and key in resources._parsed_resources
    ]
    failures = {}
    blocked = set()
    # Item 42 (s3.py): log writers that exist as the deletion begins deliver once more into
    # their buckets, after destroy emptied them.
    writers = {
        bucket: [w for w in found if w[0] in resources._parsed_resources]
        for bucket, found in s3.log_writers(template).items()
    }
    for logical in order.deletion_order(template, remaining):
        if logical in blocked:
            continue
        parsed = resources._parsed_resources.get(logical)
        if parsed is None or isinstance(parsed, str):
            continue
        if writers.get(logical):
            s3.deliver_late(self.account_id, getattr(parsed, "name", ""), writers[logical])
        try:
            resources._delete_resource(parsed, resources._resource_json_map[logical])
        except Exception as e:  # noqa: BLE001
            failures[logical] = e
            # CloudFormation does not delete what a resource it could not delete depends on.
            blocked |= order.needed_by(template, logical)
        else:
            # Gone from the stack: moto's resource map would create it again when read.
            resources._parsed_resources.pop(logical, None)
            resources._resource_json_map.pop(logical, None)
    for logical in retained:
        resources._parsed_resources.pop(logical, None)
        resources._resource_json_map.pop(logical, None)
    if failures:
        for logical in sorted(failures):
            parsed = resources._parsed_resources.get(logical)
            _resource_event(
                self,
                logical,
                resources._resource_json_map[logical]["Type"],
                getattr(parsed, "physical_resource_id", "") or "",
                "DELETE_FAILED",
                _reason(failures[logical]),
            )
        self._add_stack_event(
            "DELETE_FAILED",
            resource_status_reason="The following resource(s) failed to delete: ["
            + ", ".join(sorted(failures))
            + "]. ",
        )
        self.status = "DELETE_FAILED"
        return False
    self._add_stack_event("DELETE_COMPLETE")
    self.status = "DELETE_COMPLETE"
    return True


def _delete_stack_unless_it_fails(self, name_or_stack_id, retain_resources=None):
    stack = self.stacks.get(name_or_stack_id) or next(
        (s for s in self.stacks.values() if s.name == name_or_stack_id), None
    )
    if stack is None:
        return
    if retain_resources and stack.status != "DELETE_FAILED":
        raise ValidationError(
            stack.name,
            message=f"Invalid operation on stack [{stack.stack_id}]. RetainResources can only "
            "be specified when the stack is in the DELETE_FAILED state",
        )
    stack.retain_resources = set(retain_resources or [])
    if stack.delete():
        self.stacks.pop(stack.stack_id, None)
        self.deleted_stacks[stack.stack_id] = stack
        for export in stack.exports:
            self.exports.pop(export.name, None)


def _delete_stack_response(self):
    retain = self._get_param("RetainResources", [])
    self.cloudformation_backend.delete_stack(self._get_param("StackName"), retain)
    return EmptyResult()


# --- 35. CloudFormation's order, not the template's (order.py) -------------------------------------


def _diff_in_cloudformation_order(self, other_template, parameters=None):
    by_action = original(parsing.ResourceMap, "build_resource_diff")(self, other_template, parameters)
    new = other_template["Resources"]
    old = self._resource_json_map
    by_action["Add"] = order.creation_order(new, by_action["Add"])
    by_action["Modify"] = order.creation_order(new, by_action["Modify"])
    by_action["Remove"] = order.deletion_order(old, by_action["Remove"])
    return by_action


def _resources_in_cloudformation_order(self):
    return order.creation_order(self._resource_json_map)


# --- 36. Execution that fails ---------------------------------------------------------------------


def _execute_change_set_reporting_failures(self, change_set_name, stack_name=None):
    change_set = self.change_sets.get(change_set_name) or next(
        (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None
    )
    try:
        return original(models.CloudFormationBackend, "execute_change_set")(
            self, change_set_name, stack_name
        )
    except ResourceFailed as failure:
        if change_set is None:
            raise
        stack = self.stacks[change_set.stack_id]
        creating = change_set.change_set_type == "CREATE"
        _resource_event(
            stack,
            failure.logical_id,
            failure.resource_type,
            "",
            "CREATE_FAILED",
            f"Resource handler returned message: \"{failure.reason}\"",
        )
        status = "ROLLBACK_COMPLETE" if creating else "UPDATE_ROLLBACK_COMPLETE"
        stack._add_stack_event(
            status,
            resource_status_reason="The following resource(s) failed to create: ["
            + failure.logical_id
            + "]. ",
        )
        stack.status = status
        change_set.execution_status = "EXECUTE_FAILED"


# --- 30. Conditions that change on an update ------------------------------------------------------


def _update_with_conditions(self, template, parameters=None):
    # As for the change set's listing (item 4), the update compares with the values the stack
    # runs with, defaults included: a parameter left at its default and then passed with
    # UsePreviousValue has not changed, and what refers to it is not updated.
    self.input_parameters = dict(self.resolved_parameters)
    original(parsing.ResourceMap, "update")(self, template, parameters)
    pending = []
    for logical, resource_json in self._resource_json_map.items():
        condition = resource_json.get("Condition")
        if not condition:
            continue
        holds = self.lazy_condition_map[condition]
        exists = logical in self._parsed_resources
        if holds and not exists:
            pending.append(logical)
        elif not holds and exists:
            resource = self._parsed_resources.pop(logical)
            self._delete_resource(resource, resource_json)
    pending = order.creation_order(self._resource_json_map, pending)
    for _ in range(len(pending) + 1):
        if not pending:
            break
        failed = []
        for logical in pending:
            try:
                _ = self[logical]
            except Exception:  # noqa: BLE001 - what it refers to comes later in this pass
                failed.append(logical)
        pending = failed
    for logical in pending:
        _ = self[logical]


# --- 34 (secretsmanager.py). Transforms and capabilities ------------------------------------------


class _InsufficientCapabilities(ValidationError):
    code = "InsufficientCapabilitiesException"


def _create_change_set_acknowledged(self):
    body = self._get_param("TemplateBody")
    url = self._get_param("TemplateURL")
    if url:
        body = self._get_stack_from_s3_url(url)
    elif self._get_bool_param("UsePreviousTemplate", False):
        body = self.cloudformation_backend.get_stack(self._get_param("StackName")).template
    try:
        template = json.loads(body) if body else {}
    except ValueError:
        template = {}
    transforms = template.get("Transform") or []
    transforms = [transforms] if isinstance(transforms, str) else transforms
    capabilities = self._get_param("Capabilities", []) or []
    if transforms and "CAPABILITY_AUTO_EXPAND" not in capabilities:
        raise _InsufficientCapabilities(
            message="Requires capabilities : [CAPABILITY_AUTO_EXPAND]"
        )
    hosted = [
        logical
        for logical, r in (template.get("Resources") or {}).items()
        if r.get("Type") == "AWS::SecretsManager::RotationSchedule"
        and "HostedRotationLambda" in (r.get("Properties") or {})
    ]
    if hosted and not any(t.startswith("AWS::SecretsManager-") for t in transforms):
        raise ValidationError(
            message=f"Template format error: {hosted[0]}: HostedRotationLambda needs the AWS::SecretsManager transform declared at the template's top level"
        )
    return original(CloudFormationResponse, "create_change_set")(self)


# --- What the models of items 33 and 34 share -----------------------------------------------------


class Harnessed:
    """What the harness's models of items 33 and 34 share: an update makes the resource again
    from its new properties, and deletion goes through the instance's `delete` (moto calls both)."""

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        pass


def install():
    patch(models.ChangeSet, "apply", _apply_with_outputs_and_service_updates)
    patch(parsing.OutputMap, "__getitem__", _output_or_none)
    patch(models.ChangeSet, "diff", _diff_with_parameters)
    patch(parsing, "parse_and_create_resource", _parse_and_create_or_stand_in)
    patch(models.CloudFormationBackend, "create_change_set", _create_change_set_with_faults)
    patch(models.CloudFormationBackend, "describe_stacks", _describe_stacks_with_busy)
    patch(models.Stack, "delete", _delete_stack_resources)
    patch(models.CloudFormationBackend, "delete_stack", _delete_stack_unless_it_fails)
    patch(CloudFormationResponse, "delete_stack", _delete_stack_response)
    patch(parsing.ResourceMap, "update", _update_with_conditions)
    patch(parsing.ResourceMap, "build_resource_diff", _diff_in_cloudformation_order)
    patch(
        parsing.ResourceMap,
        "_ResourceMap__get_resources_in_dependency_order",
        _resources_in_cloudformation_order,
    )
    patch(models.CloudFormationBackend, "execute_change_set", _execute_change_set_reporting_failures)
    patch(CloudFormationResponse, "create_change_set", _create_change_set_acknowledged)
