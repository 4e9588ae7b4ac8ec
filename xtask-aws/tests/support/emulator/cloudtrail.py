"""CloudTrail: trails through CloudFormation.

32. Trails through CloudFormation. moto 5.2 has CloudTrail's API but no AWS::CloudTrail::Trail
    in CloudFormation (a stand-in, item 11), so the audit trail existed nowhere. It is created
    on moto's CloudTrail backend as CloudTrail does: the bucket must exist (else
    S3BucketDoesNotExistException fails the stack), `IsLogging` starts logging, and the trail is
    deleted with its stack.
"""

from moto.cloudtrail import models as cloudtrail_models

from .patch import register


class _TrailResource:
    """AWS::CloudTrail::Trail on moto's CloudTrail backend."""

    def __init__(self, trail, region_name):
        self.trail = trail
        self.region_name = region_name

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudTrail::Trail"

    @staticmethod
    def cloudformation_name_type():
        return "TrailName"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        backend = cloudtrail_models.cloudtrail_backends[account_id][region_name]
        flag = lambda key: str(p.get(key, False)).lower() == "true"  # noqa: E731
        trail = backend.create_trail(
            p.get("TrailName", resource_name),
            p["S3BucketName"],
            p.get("S3KeyPrefix"),
            p.get("SnsTopicName"),
            flag("IncludeGlobalServiceEvents"),
            flag("IsMultiRegionTrail"),
            flag("EnableLogFileValidation"),
            flag("IsOrganizationTrail"),
            p.get("CloudWatchLogsLogGroupArn"),
            p.get("CloudWatchLogsRoleArn"),
            p.get("KMSKeyId"),
            [],
        )
        if flag("IsLogging"):
            backend.start_logging(trail.trail_name)
        return cls(trail, region_name)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        cloudtrail_models.cloudtrail_backends[account_id][region_name].delete_trail(resource_name)

    def delete(self, account_id, region_name):
        cloudtrail_models.cloudtrail_backends[account_id][region_name].delete_trail(
            self.trail.trail_name
        )

    @property
    def physical_resource_id(self):
        return self.trail.trail_name

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("Arn", "SnsTopicArn")

    def get_cfn_attribute(self, attribute_name):
        return self.trail.arn


def install():
    register(_TrailResource, "moto.cloudtrail.harness")
