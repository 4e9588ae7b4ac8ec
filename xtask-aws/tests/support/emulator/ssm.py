"""SSM: parameter tags from a template, and Parameter Store change events.

8. Parameter tags. An AWS::SSM::Parameter's `Tags` is a map in CloudFormation; moto 5.2 hands
   it to its PutParameter, which wants a list of {"Key", "Value"}, and fails. The map is
   converted first.

Also here, this part of item 9 (Configuration replication, end to end; `events.py`):

   - SSM sends "Parameter Store Change" events (Create, Update, Delete) to the region's default
     bus when a parameter changes; here put_parameter and delete_parameter do the same.
"""

import json

from moto.events import models as events_models
from moto.ssm import models as ssm_models

from .patch import original, patch

# --- 8. Parameter tags ----------------------------------------------------------------------------


def _with_tag_list(cloudformation_json):
    properties = cloudformation_json.get("Properties", {})
    tags = properties.get("Tags")
    if isinstance(tags, dict):
        properties["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return cloudformation_json


def _create_parameter_with_tag_list(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    create = original(ssm_models.Parameter, "create_from_cloudformation_json").__func__
    return create(
        cls, resource_name, _with_tag_list(cloudformation_json), account_id, region_name, **kwargs
    )


# --- 9 (events.py). Parameter Store change events -------------------------------------------------


def _emit_parameter_change(backend, name, operation):
    # As in AWS, delivering the event is decoupled from the change: a failed delivery (a
    # target being deleted, say) never fails the SSM call.
    try:
        _put_change_event(backend, name, operation)
    except Exception:  # noqa: BLE001
        pass


def _put_change_event(backend, name, operation):
    events_models.events_backends[backend.account_id][backend.region_name].put_events(
        [
            {
                "Source": "aws.ssm",
                "DetailType": "Parameter Store Change",
                "Detail": json.dumps({"name": name, "operation": operation, "type": "String"}),
                "EventBusName": "default",
            }
        ]
    )


def _put_parameter_with_event(self, name, *args, **kwargs):
    existed = self.get_parameter(name) is not None
    put = original(ssm_models.SimpleSystemManagerBackend, "put_parameter")
    parameter = put(self, name, *args, **kwargs)
    _emit_parameter_change(self, parameter.name, "Update" if existed else "Create")
    return parameter


def _delete_parameter_with_event(self, name):
    result = original(ssm_models.SimpleSystemManagerBackend, "delete_parameter")(self, name)
    _emit_parameter_change(self, name, "Delete")
    return result


def install():
    patch(
        ssm_models.Parameter,
        "create_from_cloudformation_json",
        classmethod(_create_parameter_with_tag_list),
    )
    backend = ssm_models.SimpleSystemManagerBackend
    patch(backend, "put_parameter", _put_parameter_with_event)
    patch(backend, "delete_parameter", _delete_parameter_with_event)
