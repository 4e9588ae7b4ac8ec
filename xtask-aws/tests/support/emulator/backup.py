"""AWS Backup: vaults through CloudFormation, recovery points, copy jobs.

49. Recovery points are deleted asynchronously. DeleteRecoveryPoint starts the deletion: the
    point is listed with Status DELETING until AWS has removed it, a second deletion of it is
    refused (InvalidResourceStateException), and the vault still counts it, so deleting the
    vault right after deleting its points fails ("contains N recovery points")
    (https://docs.aws.amazon.com/aws-backup/latest/devguide/deleting-backups.html: "the
    recovery point … status changes to DELETING"). Here a point is DELETING for
    TRADING_DR_BACKUP_DELETE_SECONDS (default 3) × the clock scale. moto 5.2 deleted at once.

29. Backup copy jobs. moto 5.2 has no StartCopyJob. Here it copies a recovery point into the
    destination vault (in its region) at once, and the copy's listing carries
    `SourceBackupVaultArn`, as ListRecoveryPointsByBackupVault answers for a copy.

Also here, this part of item 26 (Deletion as AWS refuses it; `cloudformation.py`):

    - Backup vaults are created on moto's Backup backend (no longer stand-ins), with recovery
      points: StartBackupJob makes one at once; ListRecoveryPointsByBackupVault and
      DeleteRecoveryPoint work on them; a locked vault refuses to delete a recovery point younger
      than its minimum retention; a vault with recovery points refuses deletion
      ("Backup vault cannot be deleted (contains N recovery points)").
"""

import json
import time as _time
import uuid
from urllib.parse import unquote

from moto.backup import models as backup_models
from moto.backup import urls as backup_urls
from moto.backup.exceptions import InvalidRequestException, ResourceNotFoundException
from moto.backup.responses import BackupResponse

import os

from moto.core.exceptions import JsonRESTError

from .clock import CLOCK_SCALE
from .patch import patch, register

DELETE_SECONDS = float(os.environ.get("TRADING_DR_BACKUP_DELETE_SECONDS", "3")) * CLOCK_SCALE


class _InvalidResourceState(JsonRESTError):
    code = 400

    def __init__(self, message):
        super().__init__("InvalidResourceStateException", message)

# --- 26 (cloudformation.py). Backup vaults and their recovery points ------------------------------


def _points(vault):
    if vault.recovery_points is None:
        vault.recovery_points = {}
    # Item 49: a point whose deletion AWS has finished is gone.
    now = _time.time()
    for arn in [a for a, p in vault.recovery_points.items() if p.get("DeletedAt", now + 1) <= now]:
        del vault.recovery_points[arn]
    vault.num_of_recovery_points = len(vault.recovery_points)
    return vault.recovery_points


def _vault(backend, name):
    vault = backend.vaults.get(name)
    if vault is None:
        raise ResourceNotFoundException(msg=f"Backup vault {name} not found")
    return vault


class _BackupVaultResource:
    """AWS::Backup::BackupVault on moto's Backup backend."""

    def __init__(self, vault):
        self.vault = vault

    @staticmethod
    def cloudformation_type():
        return "AWS::Backup::BackupVault"

    @staticmethod
    def cloudformation_name_type():
        return "BackupVaultName"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        backend = backup_models.backup_backends[account_id][region_name]
        name = p.get("BackupVaultName", resource_name)
        vault = backend.create_backup_vault(
            backup_vault_name=name,
            backup_vault_tags=p.get("BackupVaultTags"),
            encryption_key_arn=p.get("EncryptionKeyArn"),
            creator_request_id=None,
        )
        lock = p.get("LockConfiguration")
        if lock:
            backend.put_backup_vault_lock_configuration(
                name,
                lock.get("MinRetentionDays"),
                lock.get("MaxRetentionDays"),
                lock.get("ChangeableForDays"),
            )
        return cls(vault)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        backend = backup_models.backup_backends[account_id][region_name]
        vault = backend.vaults.get(resource_name)
        if vault is None:
            return
        count = len(_points(vault))
        if count:
            raise InvalidRequestException(
                msg=f"Backup vault cannot be deleted (contains {count} recovery points)"
            )
        backend.delete_backup_vault(resource_name)

    def delete(self, account_id, region_name):
        self.delete_from_cloudformation_json(
            self.vault.backup_vault_name, {}, account_id, region_name
        )

    @property
    def physical_resource_id(self):
        return self.vault.backup_vault_name

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("BackupVaultArn", "BackupVaultName")

    def get_cfn_attribute(self, attribute_name):
        return {
            "BackupVaultArn": self.vault.backup_vault_arn,
            "BackupVaultName": self.vault.backup_vault_name,
        }[attribute_name]


def _start_backup_job(self):
    params = json.loads(self.body)
    vault = _vault(self.backup_backend, params["BackupVaultName"])
    job = str(uuid.uuid4())
    arn = f"arn:aws:backup:{self.region}:{self.current_account}:recovery-point:{job}"
    created = _time.time()
    _points(vault)[arn] = {
        "RecoveryPointArn": arn,
        "BackupVaultName": vault.backup_vault_name,
        "BackupVaultArn": vault.backup_vault_arn,
        "ResourceArn": params["ResourceArn"],
        "IamRoleArn": params.get("IamRoleArn"),
        "Status": "COMPLETED",
        "CreationDate": created,
    }
    vault.num_of_recovery_points = len(_points(vault))
    return json.dumps({"BackupJobId": job, "RecoveryPointArn": arn, "CreationDate": created})


def _list_recovery_points(self):
    name = unquote(self.path.split("/backup-vaults/")[1].split("/")[0])
    vault = _vault(self.backup_backend, name)
    listed = [{k: v for k, v in p.items() if k != "DeletedAt"} for p in _points(vault).values()]
    return json.dumps({"RecoveryPoints": listed})


def _delete_recovery_point(self):
    rest = self.path.split("/backup-vaults/")[1]
    name, arn = rest.split("/recovery-points/", 1)
    name, arn = unquote(name), unquote(arn)
    vault = _vault(self.backup_backend, name)
    point = _points(vault).get(arn)
    if point is None:
        raise ResourceNotFoundException(msg=f"Recovery point {arn} not found")
    if point["Status"] == "DELETING":
        raise _InvalidResourceState(f"Recovery point {arn} is already being deleted")
    age_days = (_time.time() - point["CreationDate"]) / 86400
    if vault.locked and age_days < (vault.min_retention_days or 0):
        raise InvalidRequestException(
            msg=f"Recovery point {arn} cannot be deleted: backup vault {name} is locked with a "
            f"minimum retention of {vault.min_retention_days} days"
        )
    # Item 49: the deletion runs on; the point is DELETING until then.
    point["Status"] = "DELETING"
    point["DeletedAt"] = _time.time() + DELETE_SECONDS
    return "{}"


# --- 29. Backup copy jobs -------------------------------------------------------------------------


def _start_copy_job(self):
    params = json.loads(self.body)
    source = _vault(self.backup_backend, params["SourceBackupVaultName"])
    point = _points(source).get(params["RecoveryPointArn"])
    if point is None:
        raise ResourceNotFoundException(msg=f"Recovery point {params['RecoveryPointArn']} not found")
    destination_arn = params["DestinationBackupVaultArn"]
    region, account = destination_arn.split(":")[3:5]
    destination = _vault(
        backup_models.backup_backends[account][region], destination_arn.split(":")[-1]
    )
    job = str(uuid.uuid4())
    created = _time.time()
    arn = f"arn:aws:backup:{region}:{account}:recovery-point:{job}"
    _points(destination)[arn] = dict(
        point,
        RecoveryPointArn=arn,
        BackupVaultName=destination.backup_vault_name,
        BackupVaultArn=destination.backup_vault_arn,
        SourceBackupVaultArn=source.backup_vault_arn,
        CreationDate=created,
    )
    destination.num_of_recovery_points = len(_points(destination))
    return json.dumps({"CopyJobId": job, "CreationDate": created, "IsParent": False})


def install():
    patch(backup_models.Vault, "recovery_points", None)
    register(_BackupVaultResource, "moto.backup.harness")
    patch(BackupResponse, "start_backup_job", _start_backup_job)
    patch(BackupResponse, "list_recovery_points_by_backup_vault", _list_recovery_points)
    patch(BackupResponse, "delete_recovery_point", _delete_recovery_point)
    backup_urls.url_paths.update(
        {
            "{0}/backup-jobs$": backup_urls.response.dispatch,
            "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points$": backup_urls.response.dispatch,
            "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$": backup_urls.response.dispatch,
            "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/(?P<arn>.+)$": backup_urls.response.dispatch,
        }
    )
    # Item 29.
    patch(BackupResponse, "start_copy_job", _start_copy_job)
    backup_urls.url_paths.update({"{0}/copy-jobs$": backup_urls.response.dispatch})
