"""Secrets Manager: secrets, their target attachments and rotation schedules through
CloudFormation.

34. Secrets, transforms and rotation. moto 5.2 accepts AWS::SecretsManager::Secret,
    SecretTargetAttachment and RotationSchedule without creating them (item 11), and ignores a
    template's `Transform`. Here: CreateChangeSet refuses a template that declares a transform
    unless CAPABILITY_AUTO_EXPAND is acknowledged (InsufficientCapabilitiesException, as
    CloudFormation does), and a `HostedRotationLambda` without the `AWS::SecretsManager`
    transform; the secret is created on moto's Secrets Manager backend (its generated value, key,
    replicas in the other region, which an update adds or removes); an attachment writes the
    cluster's engine, host, port and identifier into the secret's value; a rotation schedule
    turns rotation on with its interval and the hosted function's ARN (the function itself, made
    by the transform's nested stack from AWS's code, is not run here).

The transform check (CreateChangeSet without CAPABILITY_AUTO_EXPAND, a HostedRotationLambda
without the transform) is CloudFormation's, in `cloudformation.py`. The models' shared behaviour
on update and deletion is `Harnessed`, there too.
"""

import json
import random as _random
import string as _string

from moto.cloudformation.exceptions import ValidationError
from moto.rds.models import rds_backends
from moto.secretsmanager.models import secretsmanager_backends

from .cloudformation import Harnessed
from .patch import register


def _secrets(account_id, region_name):
    return secretsmanager_backends[account_id][region_name]


def _generate(spec):
    excluded = set(spec.get("ExcludeCharacters", ""))
    alphabet = [c for c in _string.ascii_letters + _string.digits + _string.punctuation if c not in excluded]
    length = int(spec.get("PasswordLength", 32))
    return "".join(_random.SystemRandom().choice(alphabet) for _ in range(length))


class _SecretResource(Harnessed):
    """AWS::SecretsManager::Secret on moto's backend, with its replicas."""

    def __init__(self, arn, replicas):
        self.arn = arn
        self.replicas = replicas

    @staticmethod
    def cloudformation_type():
        return "AWS::SecretsManager::Secret"

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @staticmethod
    def _replicas(p):
        return [
            {k: v for k, v in (("Region", r["Region"]), ("KmsKeyId", r.get("KmsKeyId"))) if v}
            for r in p.get("ReplicaRegions") or []
        ]

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        generate = p.get("GenerateSecretString")
        value = p.get("SecretString")
        if generate:
            doc = json.loads(generate.get("SecretStringTemplate") or "{}")
            doc[generate.get("GenerateStringKey", "password")] = _generate(generate)
            value = json.dumps(doc)
        replicas = cls._replicas(p)
        secret = json.loads(
            _secrets(account_id, region_name).create_secret(
                p.get("Name", resource_name),
                value,
                None,
                p.get("Description"),
                None,
                p.get("KmsKeyId"),
                None,
                replicas,
                False,
            )
        )
        return cls(secret["ARN"], [r["Region"] for r in replicas])

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        backend = _secrets(account_id, region_name)
        wanted = cls._replicas(cloudformation_json["Properties"])
        have = set(original_resource.replicas)
        added = [r for r in wanted if r["Region"] not in have]
        removed = list(have - {r["Region"] for r in wanted})
        if added:
            backend.replicate_secret_to_regions(original_resource.arn, added, False)
        if removed:
            backend.remove_regions_from_replication(original_resource.arn, removed)
        original_resource.replicas = [r["Region"] for r in wanted]
        return original_resource

    def delete(self, account_id, region_name):
        backend = _secrets(account_id, region_name)
        if self.replicas:
            backend.remove_regions_from_replication(self.arn, self.replicas)
        backend.delete_secret(self.arn, None, True)

    @property
    def physical_resource_id(self):
        return self.arn

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("Id",)

    def get_cfn_attribute(self, attribute_name):
        return self.arn


class _SecretAttachmentResource(Harnessed):
    """AWS::SecretsManager::SecretTargetAttachment: the cluster's connection in the secret."""

    def __init__(self, arn):
        self.arn = arn

    @staticmethod
    def cloudformation_type():
        return "AWS::SecretsManager::SecretTargetAttachment"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        backend = _secrets(account_id, region_name)
        secret_id, target = p["SecretId"], p["TargetId"]
        value = json.loads(backend.get_secret_value(secret_id, None, "AWSCURRENT")["SecretString"])
        cluster = rds_backends[account_id][region_name].clusters.get(target)
        if cluster is None:
            raise ValidationError(message=f"DB cluster {target} not found")
        value.update(
            engine="postgres",
            host=cluster.endpoint,
            port=int(cluster.port or 5432),
            dbClusterIdentifier=target,
        )
        backend.put_secret_value(secret_id, json.dumps(value), None, None, ["AWSCURRENT"])
        return cls(backend.describe_secret(secret_id).arn)

    def delete(self, account_id, region_name):
        pass

    @property
    def physical_resource_id(self):
        return self.arn


class _RotationScheduleResource(Harnessed):
    """AWS::SecretsManager::RotationSchedule: rotation on, every N days, by the hosted function."""

    def __init__(self, arn):
        self.arn = arn

    @staticmethod
    def cloudformation_type():
        return "AWS::SecretsManager::RotationSchedule"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        import time

        p = cloudformation_json["Properties"]
        secret = _secrets(account_id, region_name).describe_secret(p["SecretId"])
        hosted = p.get("HostedRotationLambda") or {}
        function = p.get("RotationLambdaARN") or (
            f"arn:aws:lambda:{region_name}:{account_id}:function:"
            f"{hosted.get('RotationLambdaName', resource_name)}"
        )
        days = int((p.get("RotationRules") or {}).get("AutomaticallyAfterDays", 0))
        secret.rotation_requested = True
        secret.rotation_enabled = True
        secret.rotation_lambda_arn = function
        secret.auto_rotate_after_days = days
        secret.next_rotation_date = int(time.time()) + days * 86400
        return cls(secret.arn)

    def delete(self, account_id, region_name):
        try:
            secret = _secrets(account_id, region_name).describe_secret(self.arn)
        except Exception:  # noqa: BLE001 - deleted with its secret
            return
        secret.rotation_enabled = False

    @property
    def physical_resource_id(self):
        return self.arn


def install():
    register(_SecretResource, "moto.secretsmanager.harness")
    register(_SecretAttachmentResource, "moto.secretsmanager.harness")
    register(_RotationScheduleResource, "moto.secretsmanager.harness")
