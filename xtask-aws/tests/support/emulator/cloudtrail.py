"""CloudTrail: trails through CloudFormation.

32. Trails through CloudFormation. moto 5.2 has CloudTrail's API but no AWS::CloudTrail::Trail
    in CloudFormation (a stand-in, item 11), so the audit trail existed nowhere. It is created
    on moto's CloudTrail backend as CloudTrail does: the bucket must exist (else
    S3BucketDoesNotExistException fails the stack), `IsLogging` starts logging, and the trail is
    deleted with its stack.

40. A trail needs its bucket's policy and its key's first. CloudTrail refuses to make a trail
    whose bucket policy does not let cloudtrail.amazonaws.com read the bucket's ACL and write
    `[prefix/]AWSLogs/<account>/…` ("Incorrect S3 bucket policy is detected for bucket",
    InsufficientS3BucketPolicyException), or whose KMS key's policy does not let it generate
    data keys (InsufficientEncryptionPolicyException;
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html,
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
    Checked here against the bucket's policy (item 38) and the key's policy in moto's KMS.
"""

from moto.cloudtrail import models as cloudtrail_models

from moto.core.exceptions import JsonRESTError
from moto.kms import models as kms_models

from . import iam, s3
from .patch import register


class InsufficientS3BucketPolicyException(JsonRESTError):
    code = 400

    def __init__(self, message):
        super().__init__("InsufficientS3BucketPolicyException", message)


class InsufficientEncryptionPolicyException(JsonRESTError):
    code = 400

    def __init__(self, message):
        super().__init__("InsufficientEncryptionPolicyException", message)


def _check_trail_can_deliver(p, account_id, region_name, name):
    bucket = p["S3BucketName"]
    prefix = f"{p['S3KeyPrefix']}/" if p.get("S3KeyPrefix") else ""
    trail_arn = f"arn:aws:cloudtrail:{region_name}:{account_id}:trail/{name}"
    context = {"aws:SourceArn": trail_arn, "aws:SourceAccount": account_id, "s3:x-amz-acl": "bucket-owner-full-control"}
    policy = s3.bucket_policy(account_id, bucket) or {}
    cloudtrail = ("service", "cloudtrail.amazonaws.com")
    if not (
        iam.allows(policy, cloudtrail, "s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", context)
        and iam.allows(policy, cloudtrail, "s3:PutObject", f"arn:aws:s3:::{bucket}/{prefix}AWSLogs/{account_id}/CloudTrail/x", context)
    ):
        raise InsufficientS3BucketPolicyException(f"Incorrect S3 bucket policy is detected for bucket: {bucket}")
    key_id = p.get("KMSKeyId")
    if key_id:
        key = kms_models.kms_backends[account_id][region_name].keys.get(key_id.split("/")[-1])
        context = {"aws:SourceArn": trail_arn, "aws:SourceAccount": account_id, "kms:EncryptionContext:aws:cloudtrail:arn": trail_arn}
        if key is None or not iam.allows(key.policy, cloudtrail, "kms:GenerateDataKey", "*", context):
            raise InsufficientEncryptionPolicyException(
                f"Insufficient permissions to access S3 bucket {bucket} or KMS key {key_id}."
            )


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
        _check_trail_can_deliver(p, account_id, region_name, p.get("TrailName", resource_name))
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
