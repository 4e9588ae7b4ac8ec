"""SNS: publishing to a topic encrypted with a customer-managed key.

41. The publisher's use of the topic's key. A publish to a topic encrypted with a KMS key makes
    SNS use the key as the publisher (kms:GenerateDataKey, kms:Decrypt, through SNS): the key's
    policy must allow it, directly or by allowing the account and so delegating to IAM, with
    the request's `kms:ViaService` (sns.<region>.amazonaws.com) and `kms:CallerAccount`;
    otherwise SNS refuses the publish (KMSAccessDenied;
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). moto 5.2 never looks at
    the key. Checked here on the Publish API, which is how the runbooks (an IAM role, through
    Step Functions' SNS integration) publish; CloudWatch's and EventBridge's deliveries use
    their own service principals and are judged by the authorization model
    (`tests::authz`), not here. The identity policy's half is not evaluated here either (the
    authorization model does both halves); the key policy is what the emulator can enforce
    cheaply on the path every runbook end depends on to tell people what happened.
"""

from moto.sns.exceptions import SNSException
from moto.kms import models as kms_models
from moto.sns import models as sns_models
from moto.sns.responses import SNSResponse

from . import iam
from .patch import original, patch


class _KmsAccessDenied(SNSException):
    code = "KMSAccessDenied"


def _key(account_id, region, key_id):
    backend = kms_models.kms_backends[account_id][region]
    try:
        return backend.keys.get(backend.any_id_to_key_id(key_id))
    except Exception:  # noqa: BLE001 - an unknown key is refused below like a denied one
        return None


def _publish_with_the_topics_key(self):
    topic_arn = self._get_param("TopicArn") or self._get_param("TargetArn")
    if topic_arn and topic_arn.startswith("arn:aws:sns:"):
        region, account_id = topic_arn.split(":")[3:5]
        topic = sns_models.sns_backends[account_id][region].topics.get(topic_arn)
        key_id = getattr(topic, "kms_master_key_id", "") if topic else ""
        if key_id and not key_id.startswith("alias/aws/"):
            key = _key(account_id, region, key_id)
            context = {"kms:ViaService": f"sns.{region}.amazonaws.com", "kms:CallerAccount": account_id}
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                if key is None or not iam.allows(key.policy, ("account", account_id), action, "*", context):
                    raise _KmsAccessDenied(
                        f"User is not authorized to perform: {action} on resource {key_id} because no "
                        f"resource-based policy allows the {action} action through sns.{region}.amazonaws.com "
                        "(Service: AWSKMS; Error Code: AccessDeniedException)"
                    )
    return original(SNSResponse, "publish")(self)


def install():
    patch(SNSResponse, "publish", _publish_with_the_topics_key)
