"""Step Functions: AWS SDK integrations (PascalCase in and out), JSONPath results, the error
names of SDK integrations.

21. Step Functions' AWS SDK integrations. A state machine names an API's parameters in
    PascalCase ("Cluster", "DesiredCount") and reads PascalCase results ("$.Services[0].
    RunningCount") for every service, and Step Functions maps them onto the API's own members
    (ECS's are camelCase). moto 5.2 passes the names through unchanged, so an ECS call fails
    with a KeyError. The request and the response are mapped through the API's model, as Step
    Functions does.

22. JSONPath results. Step Functions returns the value itself for a definite path
    ("$.Services[0].RunningCount" is 1) and a list for a path with a filter, wildcard or slice
    ("$.Members[?(@.IsWriter == true)].Arn"), an empty one when nothing matches. moto 5.2 wraps
    any value read below an array index in a list ([1]) and fails on a filter matching nothing.
    Both are answered as Step Functions answers.

23. Error names of AWS SDK integrations. Step Functions names a failed SDK call
    `ServiceName.ErrorNameException`, both PascalCase, "Exception" added when the service's
    error code lacks it (`Ssm.ParameterNotFoundException`, `S3.BucketAlreadyExistsException`;
    "Learning to use AWS service SDK integrations", Step Functions developer guide). moto 5.2
    keeps the service's name in lower case unless it knows it (it knows two), and so names it
    `ssm.ParameterNotFoundException`, which no Catch written for AWS matches: the
    configuration replication's "the parameter does not exist yet here" path then retried and
    failed instead of leaving the parameter to the stack. The name is made as AWS makes it.

Also here, parts of items whose text is elsewhere:
- item 9 (Configuration replication, end to end; `events.py`):

   - State machines made by CloudFormation run: moto executes state machines only from its
     parser backend, so execution is switched on and CloudFormation creates them there.

- item 27 (Service updates and auto scaling; `ecs.py`): "A runbook reaches it [Application Auto
  Scaling] through `arn:aws:states:::aws-sdk:applicationautoscaling:…`; Step Functions maps
  that name to the API (`application-autoscaling`), which moto 5.2 does only for
  `sfn`/`states`."

The clock of Wait states and retries (item 19) is in `clock.py`.
"""

import re
import sys

import botocore.session
from botocore.exceptions import ClientError
from jsonpath_ng.ext import parse as _parse_json_path
from moto.core.config import default_user_config
from moto.stepfunctions import models as sfn_models
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk as aws_sdk_task,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.utils import json_path as _json_path
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from .patch import original, patch

# --- 21. Step Functions' AWS SDK integrations: PascalCase in and out ------------------------------

_models = botocore.session.get_session()


def _operation(task, boto_service_name=None, service_action_name=None):
    service = task._get_boto_service_name(boto_service_name)
    action = service_action_name or task.resource.api_action
    model = _models.get_service_model(service)
    return model.operation_model(action[0].upper() + action[1:])


def _sdk_parameters(self, parameters, boto_service_name=None, service_action_name=None):
    self._to_boto_request(parameters, _operation(self, boto_service_name, service_action_name).input_shape)


def _sdk_response(self, response, boto_service_name=None, service_action_name=None):
    shape = _operation(self, boto_service_name, service_action_name).output_shape
    if shape is not None:
        self._from_boto_response(response, shape)


# --- 22. JSONPath results -------------------------------------------------------------------------

_INDEFINITE = re.compile(r"\[\s*(\*|\?|-?\d*\s*:)|\.\.")


def _extract_json(path, data):
    matches = _parse_json_path(path).find(data)
    indefinite = _INDEFINITE.search(path) is not None
    if indefinite:
        return [m.value for m in matches]
    if not matches:
        raise _json_path.NoSuchJsonPathError(json_path=path, data=data)
    return matches[0].value


# --- 23. Error names of AWS SDK integrations ------------------------------------------------------

# The PascalCase service names Step Functions uses where capitalising the first letter is not it.
_SDK_SERVICE_NAMES = {"dynamodb": "DynamoDb", "cloudwatch": "CloudWatch", "acmpca": "AcmPca"}


def _sdk_error_name(service, code):
    service = _SDK_SERVICE_NAMES.get(service.lower(), service[:1].upper() + service[1:])
    return f"{service}.{code if code.endswith('Exception') else code + 'Exception'}"


def _from_error_named_as_aws(self, env, ex):
    if not isinstance(ex, ClientError):
        return original(aws_sdk_task.StateTaskServiceAwsSdk, "_from_error")(self, env, ex)
    event = original(aws_sdk_task.StateTaskServiceAwsSdk, "_from_error")(self, env, ex)
    # In `arn:aws:states:::aws-sdk:ssm:getParameter` moto's api_name is the service, `ssm`.
    name = _sdk_error_name(self.resource.api_name, ex.response["Error"]["Code"])
    event.error_name = aws_sdk_task.ErrorName(error_name=name)
    details = event.event_details["taskFailedEventDetails"]
    details["error"] = name
    return event


def install():
    # Item 9 (events.py): state machines run, CloudFormation's too.
    patch(sfn_models, "stepfunctions_backends", stepfunctions_parser_backends)
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    # Item 21.
    patch(aws_sdk_task.StateTaskServiceAwsSdk, "_normalise_parameters", _sdk_parameters)
    patch(aws_sdk_task.StateTaskServiceAwsSdk, "_normalise_response", _sdk_response)
    # Item 22, in json_path and in every parser module that imported extract_json from it.
    patch(_json_path, "extract_json", _extract_json)
    for _module in list(sys.modules.values()):
        if (getattr(_module, "__name__", "") or "").startswith("moto.stepfunctions.parser") and getattr(
            _module, "extract_json", None
        ) is original(_json_path, "extract_json"):
            patch(_module, "extract_json", _extract_json)
    # Item 23.
    patch(aws_sdk_task.StateTaskServiceAwsSdk, "_from_error", _from_error_named_as_aws)
    # Item 27 (ecs.py): the name Step Functions maps to Application Auto Scaling's API.
    StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES["applicationautoscaling"] = (
        "application-autoscaling"
    )
