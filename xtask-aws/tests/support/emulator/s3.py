"""S3: bucket versioning and replication from a template, GetBucketVersioning's document,
bucket policy conditions.

6. Bucket versioning and replication. moto 5.2's AWS::S3::Bucket applies only encryption and
   tags; `VersioningConfiguration` and `ReplicationConfiguration` are dropped. Destroy must empty
   versioned buckets, and the link phase must configure replication, so both are applied
   through moto's S3 backend, on creation and on update, as the S3 API would.

24. GetBucketVersioning's document. S3 answers `<VersioningConfiguration>` (with `<Status>` once
    versioning was ever set); moto 5.2 answers `<GetBucketVersioningResponse>`, which the AWS SDK
    for Rust refuses as a malformed answer, so `cargo xtask bootstrap` could not read whether its
    staging bucket is versioned. The document is answered as S3 answers it.

25. Bucket policy conditions. moto 5.2 evaluates a bucket policy's statement with a condition
    operator it does not know (all but StringEquals, so `Bool` too) as if the condition held,
    and a statement whose condition does not hold as a Deny. The staging bucket's TLS-only
    statement (Deny when `aws:SecureTransport` is "false") then refused every upload. Here, as
    IAM evaluates: `Bool` compares as a string, a statement applies only when its condition
    holds, and the request context has `aws:SecureTransport` "true", since the SDK reaches AWS
    over TLS (the loopback endpoint stands in for it).

38. Bucket policies through CloudFormation. moto 5.2 has no AWS::S3::BucketPolicy (a stand-in,
    item 11), so no bucket of a stack had its policy, and nothing that AWS checks against a
    bucket's policy while it is being made (a load balancer's access logs, item 39; a trail,
    item 40) could be checked. The policy is put on the bucket through moto's S3 backend
    (PutBucketPolicy) when the resource is made or updated, and removed when it is deleted.

42. Buckets that are written after they were emptied, and refuse deletion while not empty.
    moto 5.2's CloudFormation deletes a bucket that still holds objects by doing nothing and
    reporting success; S3 refuses (BucketNotEmpty, "The bucket you tried to delete is not
    empty"), so the stack ends DELETE_FAILED. And AWS's log writers keep delivering after destroy
    has emptied their buckets: CloudTrail about every 5 minutes
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/how-cloudtrail-works.html),
    load balancers' access logs every 5 minutes
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html),
    S3 server access logs on a best-effort basis, usually within a few hours
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerAccessLogs.html#LogDeliveryBestEffort),
    canaries with every run. Here, when a stack deletion reaches a bucket that such a writer of
    the same stack wrote to (a trail's S3BucketName, a bucket's LoggingConfiguration, a load
    balancer's access_logs.s3.bucket, a canary's ArtifactS3Location) and that writer existed
    when the deletion began, one late object per writer lands in it first, under the writer's
    prefix, and the bucket's deletion fails as S3 refuses it. A second deletion of the stack
    finds the writers gone and nothing more arrives: destroy must empty the bucket again and
    retry, and it may only empty buckets it can prove are the environment's.
"""

from moto.iam import access_control, policy_conditions
from moto.s3 import models as s3_models
from moto.s3.responses import S3Response

from .patch import original, patch, register

# --- 6. Bucket versioning and replication ---------------------------------------------------------


def _apply_bucket_settings(bucket, cloudformation_json):
    properties = cloudformation_json.get("Properties", {})
    backend = s3_models.s3_backends[bucket.account_id][bucket.partition]
    status = properties.get("VersioningConfiguration", {}).get("Status")
    if status:
        backend.put_bucket_versioning(bucket.name, status)
    replication = properties.get("ReplicationConfiguration")
    if replication:
        rules = [
            {
                "ID": rule.get("Id", "rule"),
                "Priority": rule.get("Priority", 1),
                "Status": rule["Status"],
                "Destination": rule["Destination"],
            }
            for rule in replication["Rules"]
        ]
        backend.put_bucket_replication(bucket.name, {"Role": replication["Role"], "Rule": rules})
    elif getattr(bucket, "replication", None):
        backend.delete_bucket_replication(bucket.name)
    return bucket


def _create_bucket_with_settings(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    create = original(s3_models.FakeBucket, "create_from_cloudformation_json").__func__
    bucket = create(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    return _apply_bucket_settings(bucket, cloudformation_json)


def _update_bucket_with_settings(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    update = original(s3_models.FakeBucket, "update_from_cloudformation_json").__func__
    bucket = update(
        cls,
        original_resource=original_resource,
        new_resource_name=new_resource_name,
        cloudformation_json=cloudformation_json,
        account_id=account_id,
        region_name=region_name,
    )
    return _apply_bucket_settings(bucket, cloudformation_json)


# --- 24. GetBucketVersioning's document -----------------------------------------------------------


def _get_bucket_versioning_as_s3(self):
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{status}</Status>" if status else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"{inner}</VersioningConfiguration>"
    )
    return 200, {"content-type": "application/xml"}, body


# --- 25. Bucket policy conditions -----------------------------------------------------------------


def _bool_condition(expected, actual):
    values = expected if isinstance(expected, list) else [expected]
    return str(actual).lower() in [str(v).lower() for v in values]


def _statement_applies_when_its_condition_holds(
    self, action, resource="*", principal=None, incoming_condition_values=None
):
    if self._statement.get("Condition") and not self._check_conditions(
        incoming_condition_values
    ):
        return access_control.PermissionResult.NEUTRAL
    permitted = original(access_control.IAMPolicyStatement, "is_action_permitted")
    return permitted(self, action, resource, principal, incoming_condition_values)


def _bucket_permission_over_tls(self, action, resource):
    if self.policy is None:
        return access_control.PermissionResult.NEUTRAL
    return access_control.IAMPolicy(self.policy.decode()).is_action_permitted(
        action, resource, incoming_condition_values={"aws:SecureTransport": "true"}
    )


# --- 42. Late deliveries, and buckets that refuse deletion while not empty -------------------------


def _target(value):
    """The logical id a Ref, GetAtt or `s3://${X}/…` Fn::Sub names."""
    import re

    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
        sub = value.get("Fn::Sub")
        if isinstance(sub, str):
            m = re.match(r"s3://\$\{([A-Za-z0-9]+)\}/?(.*)", sub)
            return m.group(1) if m else None
    return None


def log_writers(resources):
    """{bucket logical id: [(writer logical id, key prefix)]}: who writes logs into which bucket
    of the template."""
    out = {}
    for logical, body in resources.items():
        p = body.get("Properties", {})
        kind = body.get("Type")
        if kind == "AWS::CloudTrail::Trail":
            prefix = f"{p['S3KeyPrefix']}/" if p.get("S3KeyPrefix") else ""
            out.setdefault(_target(p.get("S3BucketName")), []).append((logical, f"{prefix}AWSLogs/late/CloudTrail/"))
        elif kind == "AWS::S3::Bucket" and p.get("LoggingConfiguration"):
            config = p["LoggingConfiguration"]
            out.setdefault(_target(config.get("DestinationBucketName")), []).append((logical, config.get("LogFilePrefix", "")))
        elif kind == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            attrs = {a.get("Key"): a.get("Value") for a in p.get("LoadBalancerAttributes", [])}
            if str(attrs.get("access_logs.s3.enabled")).lower() == "true":
                prefix = attrs.get("access_logs.s3.prefix")
                out.setdefault(_target(attrs.get("access_logs.s3.bucket")), []).append(
                    (logical, f"{prefix}/AWSLogs/late/" if prefix else "AWSLogs/late/")
                )
        elif kind == "AWS::Synthetics::Canary":
            location = p.get("ArtifactS3Location")
            out.setdefault(_target(location), []).append((logical, f"{logical.lower()}/"))
    out.pop(None, None)
    return out


def deliver_late(account_id, bucket_name, writers):
    """One late object per writer into `bucket_name`; returns how many landed."""
    backend = s3_models.s3_backends[account_id]["aws"]
    if bucket_name not in backend.buckets:
        return 0
    for n, (writer, prefix) in enumerate(writers):
        backend.put_object(bucket_name, f"{prefix}late-delivery-{writer}-{n}.log", b"delivered after the bucket was emptied")
    return len(writers)


def _delete_bucket_unless_it_holds_objects(cls, resource_name, cloudformation_json, account_id, region_name):
    from moto.s3.exceptions import BucketNotEmpty

    backend = s3_models.s3_backends[account_id]["aws"]
    bucket = backend.buckets.get(resource_name)
    if bucket is not None and bucket.keys:
        raise BucketNotEmpty(resource_name)
    return original(s3_models.FakeBucket, "delete_from_cloudformation_json").__func__(
        cls, resource_name, cloudformation_json, account_id, region_name
    )


# --- 38. Bucket policies through CloudFormation --------------------------------------------------


def bucket_policy(account_id, name):
    """The policy document of bucket `name`, or None (no bucket, or no policy)."""
    import json

    backend = s3_models.s3_backends[account_id]["aws"]
    bucket = backend.buckets.get(name)
    if bucket is None or not bucket.policy:
        return None
    policy = bucket.policy
    return json.loads(policy.decode() if isinstance(policy, bytes) else policy)


class _BucketPolicyResource:
    """AWS::S3::BucketPolicy on moto's S3 backend."""

    def __init__(self, bucket, account_id):
        self.bucket = bucket
        self.account_id = account_id

    @staticmethod
    def cloudformation_type():
        return "AWS::S3::BucketPolicy"

    @staticmethod
    def cloudformation_name_type():
        return None

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        import json

        p = cloudformation_json["Properties"]
        backend = s3_models.s3_backends[account_id]["aws"]
        backend.put_bucket_policy(p["Bucket"], json.dumps(p["PolicyDocument"]).encode())
        return cls(p["Bucket"], account_id)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        cls(cloudformation_json["Properties"]["Bucket"], account_id).delete(account_id, region_name)

    def delete(self, account_id, region_name):
        backend = s3_models.s3_backends[account_id]["aws"]
        if self.bucket in backend.buckets:
            backend.delete_bucket_policy(self.bucket)

    @property
    def physical_resource_id(self):
        return f"{self.bucket}-policy"

    @classmethod
    def has_cfn_attr(cls, attr):
        return False


def install():
    register(_BucketPolicyResource, "moto.s3.harness")
    patch(
        s3_models.FakeBucket,
        "delete_from_cloudformation_json",
        classmethod(_delete_bucket_unless_it_holds_objects),
    )
    bucket = s3_models.FakeBucket
    patch(bucket, "create_from_cloudformation_json", classmethod(_create_bucket_with_settings))
    patch(bucket, "update_from_cloudformation_json", classmethod(_update_bucket_with_settings))
    patch(S3Response, "get_bucket_versioning", _get_bucket_versioning_as_s3)
    patch(
        access_control.IAMPolicyStatement,
        "is_action_permitted",
        _statement_applies_when_its_condition_holds,
    )
    patch(bucket, "get_permission", _bucket_permission_over_tls)
    policy_conditions.CONDITION_OPERATIONS["Bool"] = _bool_condition
