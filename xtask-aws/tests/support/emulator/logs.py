"""CloudWatch Logs: log groups encrypted with a customer-managed key.

43. A log group's key must let CloudWatch Logs use it. CloudWatch Logs encrypts a group's data
    as itself (logs.<region>.amazonaws.com) with the group's ARN in the encryption context
    (`kms:EncryptionContext:aws:logs:arn`), and refuses a group whose key's policy does not allow
    that when the group is made ("The specified KMS key does not exist or is not allowed to be
    used with Arn …", InvalidParameterException / AccessDeniedException;
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
    moto 5.2 accepts any key. Checked here against the key's policy in moto's KMS.
"""

from moto.kms import models as kms_models
from moto.logs import models as logs_models
from moto.logs.exceptions import InvalidParameterException

from . import iam
from .patch import original, patch


def _check_key(properties, account_id, region_name, name):
    key_id = properties.get("KmsKeyId")
    if not key_id:
        return
    backend = kms_models.kms_backends[account_id][region_name]
    try:
        key = backend.keys.get(backend.any_id_to_key_id(key_id))
    except Exception:  # noqa: BLE001 - an unknown key is refused like a forbidden one
        key = None
    group_arn = f"arn:aws:logs:{region_name}:{account_id}:log-group:{name}"
    context = {"kms:EncryptionContext:aws:logs:arn": group_arn}
    logs = ("service", f"logs.{region_name}.amazonaws.com")
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        if key is None or not iam.allows(key.policy, logs, action, "*", context):
            raise InvalidParameterException(
                f"The specified KMS key does not exist or is not allowed to be used with Arn '{group_arn}'"
            )


def _create_log_group_checking_key(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json.get("Properties", {})
    _check_key(properties, account_id, region_name, properties.get("LogGroupName", resource_name))
    return original(logs_models.LogGroup, "create_from_cloudformation_json").__func__(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )


def install():
    patch(logs_models.LogGroup, "create_from_cloudformation_json", classmethod(_create_log_group_checking_key))
