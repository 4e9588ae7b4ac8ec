"""ACM: certificates through CloudFormation, and their validation records.

10. Certificates. moto 5.2 has ACM's API but no AWS::CertificateManager::Certificate in
    CloudFormation, so the HTTPS listener got no certificate ARN and failed. The certificate is
    requested from moto's ACM backend (which, like AWS for a delegated zone, issues it).

Also here, this part of item 26 (Deletion as AWS refuses it; `cloudformation.py`), written
when the certificate is created (`_write_validation_records`):

    - Certificate validation records: for each DomainValidationOptions entry with a
      HostedZoneId, CloudFormation writes ACM's CNAME (`_<hash>.<domain>.` →
      `_<hash>.<hash>.acm-validations.aws.`) into that zone, and deleting the certificate leaves
      it there (cloudformation-coverage-roadmap #837).
"""

import hashlib

from moto.acm.models import acm_backends
from moto.route53 import models as route53_models
from moto.utilities.utils import get_partition

from .patch import register

# --- 10. Certificates -----------------------------------------------------------------------------


class _CertificateResource:
    """AWS::CertificateManager::Certificate on moto's ACM backend."""

    def __init__(self, arn):
        self.arn = arn

    @staticmethod
    def cloudformation_type():
        return "AWS::CertificateManager::Certificate"

    @staticmethod
    def cloudformation_name_type():
        return "DomainName"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        arn = acm_backends[account_id][region_name].request_certificate(
            domain_name=p["DomainName"],
            idempotency_token=None,
            subject_alt_names=p.get("SubjectAlternativeNames", []),
            tags=[],
        )
        certificate = cls(arn)
        # Item 26: CloudFormation writes the validation records, and never removes them.
        _write_validation_records(certificate, cloudformation_json, account_id, region_name)
        return certificate

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        acm_backends[account_id][region_name].delete_certificate(resource_name)

    @property
    def physical_resource_id(self):
        return self.arn


# --- 26 (cloudformation.py). Validation records, which CloudFormation writes and never removes ----


def _validation_record(arn, domain):
    digest = hashlib.md5(f"{arn}|{domain}".encode()).hexdigest()
    name = f"_{hashlib.md5(domain.encode()).hexdigest()}.{domain.rstrip('.')}."
    value = f"_{digest}.{digest[:10]}.acm-validations.aws."
    return name, value


def _write_validation_records(certificate, cloudformation_json, account_id, region_name):
    """Writes ACM's validation CNAME for each of the certificate's DomainValidationOptions
    with a HostedZoneId into that zone."""
    backend = route53_models.route53_backends[account_id][get_partition(region_name)]
    for option in cloudformation_json["Properties"].get("DomainValidationOptions", []):
        zone_id = option.get("HostedZoneId")
        if not zone_id:
            continue
        zone = backend.get_hosted_zone(zone_id)
        name, value = _validation_record(certificate.arn, option["DomainName"])
        if not any(r.name.rstrip(".") == name.rstrip(".") for r in zone.rrsets):
            # Through Route 53's API, as CloudFormation writes it.
            record = {
                "Name": name.rstrip("."),
                "Type": "CNAME",
                "TTL": 300,
                "ResourceRecords": [{"Value": value}],
            }
            backend.change_resource_record_sets(
                zone.resource_id, [{"Action": "CREATE", "ResourceRecordSet": record}]
            )


def install():
    register(_CertificateResource, "moto.acm.harness")
