"""Elastic Load Balancing: the attributes moto leaves out.

12. Attributes moto leaves out. A load balancer's CanonicalHostedZoneID and
    LoadBalancerFullName, a target group's TargetGroupFullName and a hosted zone's NameServers
    are answered as AWS answers them (the ALB hosted-zone ids are AWS's published ones).

A hosted zone's NameServers (the last of item 12's attributes) is answered in `route53.py`.
"""

from moto.elbv2 import models as elbv2_models

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


def install():
    patch(elbv2_models.FakeLoadBalancer, "get_cfn_attribute", _lb_attribute_complete)
    patch(elbv2_models.FakeTargetGroup, "get_cfn_attribute", _target_group_attribute)
