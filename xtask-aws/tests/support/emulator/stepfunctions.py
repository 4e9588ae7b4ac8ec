"""Step Functions: AWS SDK integrations (PascalCase in and out), JSONPath results, the error
names of SDK integrations (as the AWS SDK for Java 2.x names its exceptions).

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
    (Item 48 corrects how: this item appended "Exception" to the error code and capitalised
    the service's name, which gave `Rds.InvalidGlobalClusterStateFaultException`, a name Step
    Functions never raises.)

48. Error names of AWS SDK integrations, as Step Functions makes them (correcting item 23).
    Step Functions' SDK integrations run on the AWS SDK for Java 2.x, and the error is
    `<Service>.<Exception>` where both are that SDK's generated names ("Learning to use AWS
    service SDK integrations", https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html:
    "ServiceName.ErrorName ... Both the service name and error name are in Pascal case"). The
    service is the Java service name of the API model's serviceId (`Rds`, `Ssm`, `Ecs`,
    `DynamoDb`, `CloudWatch`, `ApplicationAutoScaling`, `Sfn`); the exception is the Java
    exception class of the model's error shape that the error code names (its shape name, or
    its declared code), with a trailing "Fault" replaced by "Exception", "Exception" kept, or
    "Exception" appended, acronyms pascal-cased as Java names them: RDS's
    InvalidGlobalClusterStateFault is `Rds.InvalidGlobalClusterStateException`,
    GlobalClusterNotFoundFault `Rds.GlobalClusterNotFoundException`, DBClusterNotFoundFault
    `Rds.DbClusterNotFoundException`; SSM's ParameterNotFound `Ssm.ParameterNotFoundException`.
    An error code the service's model does not declare (RDS's throttling, Throttling; an
    injected InvalidParameterCombination is declared nowhere in RDS's model either) is thrown as
    the service's base exception, `<Service>.<Service>Exception` (`Rds.RdsException`). The rules
    and their sources (the Java SDK's code generator, observed names) are written out, and
    implemented, in tests/tools/sfn_service_models.py, the checker of the templates' Retry and
    Catch names; this module imports its naming functions (java_service_name,
    java_exception_name), so the emulator raises exactly the names the checker accepts. The
    Cause reads "<message> (Service: Rds, Status Code: 404, Request ID: ...)", the Java SDK's
    wording, with the same service name.

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

import importlib.util
import re
import sys
from pathlib import Path

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


# --- 23, 48. Error names of AWS SDK integrations --------------------------------------------------

# tests/tools/sfn_service_models.py, from the workspace's root (this file is
# xtask-aws/tests/support/emulator/stepfunctions.py). It needs only the standard library and
# botocore; it is loaded under a private name, without touching sys.path.
_NAMING_PATH = Path(__file__).resolve().parents[4] / "tests" / "tools" / "sfn_service_models.py"


def _load_naming():
    """tests/tools/sfn_service_models.py as a module, loaded once (by install())."""
    name = "_trading_dr_sfn_service_models"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _NAMING_PATH)
    if spec is None or spec.loader is None:
        raise ImportError(f"the Step Functions naming rules are not at {_NAMING_PATH}")
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up in sys.modules while the module executes.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


# botocore service name -> (Java service name, {error code or shape name: shape name}).
_error_tables = {}


def _error_table(boto_service):
    table = _error_tables.get(boto_service)
    if table is None:
        model = _models.get_service_model(boto_service)
        codes = {}
        for shape in model.error_shapes:
            codes.setdefault(shape.name, shape.name)
            code = (shape.metadata.get("error") or {}).get("code")
            if code:
                codes.setdefault(code, shape.name)
        table = (_load_naming().java_service_name(str(model.service_id)), codes)
        _error_tables[boto_service] = table
    return table


def _sdk_error_name(boto_service, code):
    """The error name Step Functions gives a failed call of `boto_service` (a botocore service
    name) that returned error `code` (item 48)."""
    service, codes = _error_table(boto_service)
    shape = codes.get(code)
    if shape is None:
        return f"{service}.{service}Exception"
    return f"{service}.{_load_naming().java_exception_name(shape)}"


def _from_error_named_as_aws(self, env, ex):
    if not isinstance(ex, ClientError):
        return original(aws_sdk_task.StateTaskServiceAwsSdk, "_from_error")(self, env, ex)
    # In `arn:aws:states:::aws-sdk:ssm:getParameter` moto's api_name is the service, `ssm`;
    # _get_boto_service_name maps it to botocore's (applicationautoscaling ->
    # application-autoscaling).
    boto_service = self._get_boto_service_name()
    name = _sdk_error_name(boto_service, ex.response["Error"]["Code"])
    # The Cause as the Java SDK words it: the message, then the service's Java name.
    metadata = ex.response.get("ResponseMetadata", {})
    details = [
        f"Service: {_error_table(boto_service)[0]}",
        f"Status Code: {metadata.get('HTTPStatusCode')}",
        f"Request ID: {metadata.get('RequestId')}",
    ]
    if "HostId" in metadata:
        details.append(f"Extended Request ID: {metadata['HostId']}")
    cause = f"{ex.response['Error'].get('Message', '')} ({', '.join(details)})"
    return self._get_task_failure_event(env=env, error=name, cause=cause)


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
    # Items 23 and 48 (the naming rules are loaded now, so a missing file fails the start).
    _load_naming()
    patch(aws_sdk_task.StateTaskServiceAwsSdk, "_from_error", _from_error_named_as_aws)
    # Item 27 (ecs.py): the name Step Functions maps to Application Auto Scaling's API.
    StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES["applicationautoscaling"] = (
        "application-autoscaling"
    )
