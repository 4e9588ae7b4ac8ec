"""WAFv2: web ACLs, their associations and logging through CloudFormation.

33. Web ACLs through CloudFormation. moto 5.2 has WAFv2's API but none of AWS::WAFv2::WebACL,
    WebACLAssociation or LoggingConfiguration in CloudFormation (stand-ins, item 11), so no load
    balancer had a firewall. They are made on moto's WAFv2 backend as WAF makes them: an
    association needs the load balancer to exist in the region, a logging destination must be a
    log group that exists and is named `aws-waf-logs-…` (else WAFInvalidParameterException), and
    a web ACL still associated with a resource cannot be deleted (WAFAssociatedItemException), so
    a stack that deleted them in the wrong order fails here as it would in AWS.

The models' shared behaviour on update and deletion is `Harnessed`, in `cloudformation.py`.
"""

from moto.elbv2 import models as elbv2_models
from moto.logs.models import logs_backends
from moto.wafv2 import models as wafv2_models
from moto.wafv2.exceptions import WAFNonexistentItemException, WAFv2ClientError

from .cloudformation import Harnessed
from .patch import register


class _WafError(WAFv2ClientError):
    def __init__(self, code, message):
        super().__init__(code, message)


def _waf(account_id, region_name):
    return wafv2_models.wafv2_backends[account_id][region_name]


class _WebAclResource(Harnessed):
    """AWS::WAFv2::WebACL on moto's WAFv2 backend."""

    def __init__(self, acl):
        self.acl = acl

    @staticmethod
    def cloudformation_type():
        return "AWS::WAFv2::WebACL"

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        acl = _waf(account_id, region_name).create_web_acl(
            p.get("Name", resource_name),
            p["VisibilityConfig"],
            p["DefaultAction"],
            p["Scope"],
            p.get("Description", ""),
            [],
            p.get("Rules", []),
            None,
            None,
            None,
            None,
            None,
        )
        return cls(acl)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        acl = original_resource.acl
        p = cloudformation_json["Properties"]
        acl.rules = [
            wafv2_models.FakeRule(**{wafv2_models.camelcase_to_underscores(k): v for k, v in r.items()})
            for r in p.get("Rules", [])
        ]
        acl.default_action = p["DefaultAction"]
        return original_resource

    def delete(self, account_id, region_name):
        if self.acl.associated_resources:
            raise _WafError(
                "WAFAssociatedItemException",
                "AWS WAF couldn’t perform the operation because your resource is being used by another resource or it’s associated with another resource.",
            )
        _waf(account_id, region_name).wacls.pop(self.acl.arn, None)

    @property
    def physical_resource_id(self):
        return f"{self.acl.name}|{self.acl.id}|REGIONAL"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("Arn", "Id", "Capacity", "LabelNamespace")

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "Arn":
            return self.acl.arn
        if attribute_name == "Id":
            return self.acl.id
        if attribute_name == "Capacity":
            return 0
        return f"awswaf:{self.acl.arn.split(':')[4]}:webacl:{self.acl.name}:"


class _WebAclAssociationResource(Harnessed):
    """AWS::WAFv2::WebACLAssociation: the load balancer must exist in the region."""

    def __init__(self, acl_arn, resource_arn):
        self.acl_arn = acl_arn
        self.resource_arn = resource_arn

    @staticmethod
    def cloudformation_type():
        return "AWS::WAFv2::WebACLAssociation"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        resource_arn, acl_arn = p["ResourceArn"], p["WebACLArn"]
        if ":elasticloadbalancing:" in resource_arn:
            lbs = elbv2_models.elbv2_backends[account_id][region_name].load_balancers
            if resource_arn not in lbs:
                raise WAFNonexistentItemException()
        _waf(account_id, region_name).associate_web_acl(acl_arn, resource_arn)
        return cls(acl_arn, resource_arn)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id, region_name):
        _waf(account_id, region_name).disassociate_web_acl(self.resource_arn)

    @property
    def physical_resource_id(self):
        return f"{self.acl_arn}|{self.resource_arn}"


class _WafLoggingResource(Harnessed):
    """AWS::WAFv2::LoggingConfiguration: to an existing `aws-waf-logs-` log group."""

    def __init__(self, acl_arn):
        self.acl_arn = acl_arn

    @staticmethod
    def cloudformation_type():
        return "AWS::WAFv2::LoggingConfiguration"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        groups = logs_backends[account_id][region_name].groups
        for destination in p["LogDestinationConfigs"]:
            name = destination.split(":log-group:", 1)[-1]
            if not name.startswith("aws-waf-logs-") or destination.endswith(":*"):
                raise _WafError(
                    "WAFInvalidParameterException",
                    f"Error reason: The ARN isn't valid. A valid ARN begins with arn: and includes other information separated by colons or slashes., field: LOG_DESTINATION, parameter: {destination}",
                )
            if name not in groups:
                raise _WafError(
                    "WAFLogDestinationPermissionIssueException",
                    f"Unable to deliver logs to the configured destination: {destination} does not exist.",
                )
        _waf(account_id, region_name).put_logging_configuration(
            p["ResourceArn"],
            p["LogDestinationConfigs"],
            p.get("RedactedFields"),
            False,
            p.get("LoggingFilter"),
        )
        return cls(p["ResourceArn"])

    def delete(self, account_id, region_name):
        _waf(account_id, region_name).logging_configurations.pop(self.acl_arn, None)

    @property
    def physical_resource_id(self):
        return self.acl_arn


def install():
    register(_WebAclResource, "moto.wafv2.harness")
    register(_WebAclAssociationResource, "moto.wafv2.harness")
    register(_WafLoggingResource, "moto.wafv2.harness")
