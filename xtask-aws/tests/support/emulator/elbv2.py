"""Elastic Load Balancing: the attributes moto leaves out.

12. Attributes moto leaves out. A load balancer's CanonicalHostedZoneID and
    LoadBalancerFullName, a target group's TargetGroupFullName and a hosted zone's NameServers
    are answered as AWS answers them (the ALB hosted-zone ids are AWS's published ones).

39. Access logs need the bucket's permission first. Elastic Load Balancing checks, when a load
    balancer's `access_logs.s3.enabled` is set, that the bucket exists and that its policy lets
    the region's Elastic Load Balancing account (or the log delivery service) write
    `<prefix>/AWSLogs/<account>/…`, and otherwise refuses the attribute: "Access Denied for
    bucket: <bucket>. Please check S3bucket permission" (InvalidConfigurationRequest;
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
    moto 5.2 accepts the attribute whatever the bucket. Checked here against the policy item 38
    puts on the bucket, so a load balancer made before its bucket's policy (item 35's order,
    no declared dependency) fails.

A hosted zone's NameServers (the last of item 12's attributes) is answered in `route53.py`.
"""

from moto.elbv2 import models as elbv2_models

from moto.elbv2.exceptions import ELBClientError

from . import iam, s3
from .patch import original, patch

ALB_HOSTED_ZONES = {"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-2": "Z1H1FL5HABSF5"}


def _lb_attribute_complete(self, attribute_name):
    if attribute_name == "CanonicalHostedZoneID":
        return ALB_HOSTED_ZONES.get(self.arn.split(":")[3], "Z35SXDOTRQ7X7K")
    if attribute_name == "LoadBalancerFullName":
        return self.arn.split(":loadbalancer/", 1)[1]
    return original(elbv2_models.FakeLoadBalancer, "get_cfn_attribute")(self, attribute_name)


def _target_group_attribute(self, attribute_name):
    if attribute_name == "TargetGroupFullName":
        return self.arn.split(":", 5)[5]
    if attribute_name == "TargetGroupArn":
        return self.arn
    raise AttributeError(attribute_name)


# --- 39. Access logs need the bucket's permission first ------------------------------------------

# The Elastic Load Balancing account of each region that has one (regions before August 2022).
ELB_ACCOUNTS = {"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-2": "797873946194"}


class InvalidConfigurationRequest(ELBClientError):
    def __init__(self, message):
        super().__init__("InvalidConfigurationRequest", message)


def _check_access_logs(attributes, account_id, region_name):
    values = {a.get("Key"): a.get("Value") for a in attributes or []}
    if str(values.get("access_logs.s3.enabled", "false")).lower() != "true":
        return
    bucket = values.get("access_logs.s3.bucket") or ""
    prefix = values.get("access_logs.s3.prefix")
    key = f"{prefix}/AWSLogs/{account_id}/elasticloadbalancing/{region_name}/test" if prefix else f"AWSLogs/{account_id}/elasticloadbalancing/{region_name}/test"
    policy = s3.bucket_policy(account_id, bucket)
    writers = [("account", ELB_ACCOUNTS.get(region_name, "")), ("service", "logdelivery.elasticloadbalancing.amazonaws.com")]
    if policy is None or not any(
        iam.allows(policy, who, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}") for who in writers
    ):
        raise InvalidConfigurationRequest(f"Access Denied for bucket: {bucket}. Please check S3bucket permission")


def _create_load_balancer_checking_logs(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    _check_access_logs(cloudformation_json.get("Properties", {}).get("LoadBalancerAttributes"), account_id, region_name)
    return original(elbv2_models.FakeLoadBalancer, "create_from_cloudformation_json").__func__(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )


def install():
    patch(
        elbv2_models.FakeLoadBalancer,
        "create_from_cloudformation_json",
        classmethod(_create_load_balancer_checking_logs),
    )
    patch(elbv2_models.FakeLoadBalancer, "get_cfn_attribute", _lb_attribute_complete)
    patch(elbv2_models.FakeTargetGroup, "get_cfn_attribute", _target_group_attribute)
