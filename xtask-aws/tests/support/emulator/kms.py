"""KMS.

2. KMS key tags. moto 5.2 hands an AWS::KMS::Key's `Tags` ([{"Key", "Value"}], CloudFormation's
   shape) to its KMS tagger, which wants the KMS API's shape ([{"TagKey", "TagValue"}]), fails
   with a KeyError, and the stack then reports that the key does not exist. The tags are
   converted before moto sees them.
"""

from moto.kms import models as kms_models

from .patch import original, patch


def _create_key_with_kms_tags(cls, resource_name, cloudformation_json, *args, **kwargs):
    properties = cloudformation_json.get("Properties", {})
    properties["Tags"] = [
        {"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])
    ]
    create = original(kms_models.Key, "create_from_cloudformation_json").__func__
    return create(cls, resource_name, cloudformation_json, *args, **kwargs)


def install():
    patch(
        kms_models.Key,
        "create_from_cloudformation_json",
        classmethod(_create_key_with_kms_tags),
    )
