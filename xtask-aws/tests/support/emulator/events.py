"""EventBridge: rules that start state machines, an event bus's Ref, an archive's pattern.

9. Configuration replication, end to end. Three things moto 5.2 does not do and AWS does:
   - SSM sends "Parameter Store Change" events (Create, Update, Delete) to the region's default
     bus when a parameter changes; here put_parameter and delete_parameter do the same.
   - EventBridge starts a Step Functions state machine that a rule targets (moto raises
     NotImplementedError for that target); here the execution starts with the event as input.
   - State machines made by CloudFormation run: moto executes state machines only from its
     parser backend, so execution is switched on and CloudFormation creates them there.

13. An event bus's `Ref`. moto 5.2's AWS::Events::EventBus has no physical id, so a `Ref` to
    it hands a rule the model object instead of the bus name, and the rule fails. The bus's
    name is its physical id, as in CloudFormation.

14. An archive's event pattern. CloudFormation takes `EventPattern` as JSON; moto 5.2's
    AWS::Events::Archive wants it as a string and fails on an object. It is serialised first.

Item 9's other parts are with their services: the Parameter Store change events in `ssm.py`,
execution switched on (and CloudFormation's state machines on the parser backend) in
`stepfunctions.py`. The alarms' state-change events (item 18) are sent from `cloudwatch.py`.
"""

import json
import uuid

from moto.events import models as events_models
from moto.stepfunctions.parser.models import stepfunctions_parser_backends
from moto.utilities.arns import parse_arn

from .patch import original, patch

# --- 9. EventBridge starts the state machines a rule targets --------------------------------------


def _send_to_targets_and_state_machines(self, original_event, transform_input=True):
    if not self.event_pattern.matches_event(original_event):
        return
    machines = [t for t in self.targets if parse_arn(t["Arn"]).service == "states"]
    others = [t for t in self.targets if t not in machines]
    all_targets = self.targets
    self.targets = others
    try:
        original(events_models.Rule, "send_to_targets")(self, original_event, transform_input)
    finally:
        self.targets = all_targets
    for target in machines:
        arn = parse_arn(target["Arn"])
        # EventBridge names each execution uniquely; the event id serves. A target that cannot
        # be started (being deleted) loses the event, as EventBridge drops undeliverable ones.
        try:
            stepfunctions_parser_backends[arn.account][arn.region].start_execution(
                target["Arn"],
                name=original_event.get("id") or str(uuid.uuid4()),
                execution_input=json.dumps(original_event),
            )
        except Exception:  # noqa: BLE001
            pass


# --- 14. An archive's event pattern ---------------------------------------------------------------


def _create_archive_with_pattern_text(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    properties = cloudformation_json.get("Properties", {})
    if isinstance(properties.get("EventPattern"), dict):
        properties["EventPattern"] = json.dumps(properties["EventPattern"])
    create = original(events_models.Archive, "create_from_cloudformation_json").__func__
    return create(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )


def install():
    patch(events_models.Rule, "send_to_targets", _send_to_targets_and_state_machines)
    # Item 13: the bus's name is its physical id.
    patch(events_models.EventBus, "physical_resource_id", property(lambda self: self.name))
    patch(
        events_models.Archive,
        "create_from_cloudformation_json",
        classmethod(_create_archive_with_pattern_text),
    )
