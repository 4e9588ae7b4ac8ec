"""Route 53: failover records, a hosted zone's NameServers, a hosted zone's deletion.

15. Failover records. moto 5.2 deletes a record set by name and type alone, so replacing the
    PRIMARY failover record also deleted SECONDARY (same name and type). Route 53 tells them
    apart by SetIdentifier, and so does this deletion.

Also here, parts of items whose text is elsewhere:
- item 12 (Attributes moto leaves out; `elbv2.py`): a hosted zone's NameServers (and its Id);
- item 26 (Deletion as AWS refuses it; `cloudformation.py`), a stack's zone deleted through
  Route 53's API, which refuses so:

    - Route 53 refuses to delete a hosted zone holding records other than SOA and NS
      (HostedZoneNotEmpty); moto's CloudFormation never deleted the zone at all.
"""

from moto.route53 import models as route53_models
from moto.utilities.utils import get_partition

from .patch import patch

# --- 12 (elbv2.py). A hosted zone's NameServers ---------------------------------------------------


def _zone_attribute(self, attribute_name):
    if attribute_name == "NameServers":
        if self.delegation_set is not None:
            return self.delegation_set.name_servers
        return [f"ns-{i}.awsdns-{i}.org" for i in range(4)]
    if attribute_name == "Id":
        return self.id
    raise AttributeError(attribute_name)


# --- 15. Failover records -------------------------------------------------------------------------


def _delete_rrset_by_identity(self, rrset):
    identifier = rrset.get("SetIdentifier")
    self.rrsets = [
        r
        for r in self.rrsets
        if r.name != rrset["Name"]
        or (rrset.get("Type") is not None and r.type != rrset["Type"])
        or (identifier is not None and r.set_identifier != identifier)
    ]


def _zone_of(properties, account_id, region_name):
    backend = route53_models.route53_backends[account_id][get_partition(region_name)]
    zone_name = properties.get("HostedZoneName")
    zone = backend.get_hosted_zone_by_name(zone_name) if zone_name else None
    return zone or backend.get_hosted_zone(properties["HostedZoneId"])


def _delete_record_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name):
    p = cloudformation_json["Properties"]
    _zone_of(p, account_id, region_name).delete_rrset(
        {"Name": p.get("Name", resource_name), "Type": p.get("Type"), "SetIdentifier": p.get("SetIdentifier")}
    )


def _delete_record(self, account_id, region):
    properties = {"HostedZoneName": self.hosted_zone_name, "HostedZoneId": self.hosted_zone_id}
    _zone_of(properties, account_id, region).delete_rrset(
        {"Name": self.name, "Type": self.type, "SetIdentifier": self.set_identifier}
    )


# --- 26 (cloudformation.py). A hosted zone's deletion ---------------------------------------------


def _delete_zone(self, account_id, region):
    backend = route53_models.route53_backends[account_id][get_partition(region)]
    if self.resource_id in backend.zones:
        backend.delete_hosted_zone(self.resource_id)


def install():
    zone = route53_models.FakeZone
    patch(zone, "get_cfn_attribute", _zone_attribute)
    patch(zone, "delete_rrset", _delete_rrset_by_identity)
    patch(
        route53_models.RecordSet,
        "delete_from_cloudformation_json",
        classmethod(_delete_record_from_cloudformation),
    )
    patch(route53_models.RecordSet, "delete", _delete_record)
    patch(zone, "delete", _delete_zone)
