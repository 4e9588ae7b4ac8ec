"""EC2: inter-region peering and route tables.

3. Inter-region peering. moto 5.2's AWS::EC2::VPCPeeringConnection ignores `PeerRegion` and
   looks the peer VPC up in the stack's own region, so a peering to another region fails with
   InvalidVpcID.NotFound (its EC2 API, CreateVpcPeeringConnection, does honour PeerRegion). The
   resource is created the way the API does it, and, as CloudFormation does within one account,
   accepted.

5. Route tables on stack deletion. moto 5.2's AWS::EC2::RouteTable cannot be deleted through
   CloudFormation (the model has no delete), so deleting a stack leaves its route tables behind
   and the VPC then refuses deletion with DependencyViolation. The route table is deleted the
   way the EC2 API deletes it.
"""

from moto.ec2.models import ec2_backends
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.vpc_peering_connections import VPCPeeringConnection

from .patch import patch

# --- 3. Inter-region peering ----------------------------------------------------------------------


def _create_peering(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json["Properties"]
    backend = ec2_backends[account_id][region_name]
    peer_account = properties.get("PeerOwnerId") or account_id
    peer_region = properties.get("PeerRegion") or region_name
    vpc = backend.get_vpc(properties["VpcId"])
    peer_vpc = ec2_backends[peer_account][peer_region].get_vpc(properties["PeerVpcId"])
    connection = backend.create_vpc_peering_connection(vpc, peer_vpc)
    if peer_account == account_id:
        connection._status.accept()
    return connection


# --- 5. Route tables on stack deletion ------------------------------------------------------------


def _delete_route_table(cls, resource_name, cloudformation_json, account_id, region_name):
    ec2_backends[account_id][region_name].delete_route_table(resource_name)


def install():
    patch(VPCPeeringConnection, "create_from_cloudformation_json", classmethod(_create_peering))
    patch(RouteTable, "delete_from_cloudformation_json", classmethod(_delete_route_table))
