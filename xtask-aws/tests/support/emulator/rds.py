"""RDS: the global cluster and its DB clusters as CloudFormation resources, instances in a
cluster, the global database's failover and switchover (how long they take, and the old
primary's rebuild after a failover with data loss), and the writer's deletion.

7. Aurora through CloudFormation. moto 5.2 has AWS::RDS::GlobalCluster and AWS::RDS::DBCluster
   in its RDS API but not in CloudFormation: the stacks would hold no global database, and the
   outputs the secondary phase needs (the global cluster's identifier) would be missing. Both
   types are modelled here on moto's own RDS backend (create, attributes, delete), so the
   clusters exist, the secondary joins the global cluster and the runbooks have something to
   fail over. moto's AWS::RDS::DBInstance ignores DBClusterIdentifier (and, without an
   EngineVersion, fails for aurora-postgresql); an instance that names a cluster is created
   in that cluster, with its version, as RDS does.

17. The global database's failover and switchover. moto 5.2 has no FailoverGlobalCluster or
    SwitchoverGlobalCluster (it answers HTTP 500), and DescribeGlobalClusters ignores its
    GlobalClusterIdentifier. Here, as in RDS: the call is checked (unknown global cluster:
    GlobalClusterNotFoundFault; a target that is not a member: DBClusterNotFoundFault; an
    operation already under way, or a target that already writes: InvalidGlobalClusterStateFault;
    AllowDataLoss with Switchover: InvalidParameterCombination), the global cluster shows
    `failing-over` or `switching-over` with its FailoverState, and after a delay (item 46's,
    on the emulator's clock; this item first had 45 s and 90 s) the target writes, the old
    writer is demoted to a secondary, and the state clears. DescribeGlobalClusters filters by
    identifier.

46. Promotions take the time AWS may take. A global database failover ("Using switchover or
    failover in Amazon Aurora Global Database",
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html)
    promotes the secondary in minutes, not seconds, and a switchover first synchronizes every
    secondary with the primary, then demotes and promotes ("Your database is unavailable for a
    short time while the primary and selected secondary clusters are assuming their new roles",
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_SwitchoverGlobalCluster.html):
    the RTO "can be in the order of minutes". Item 17's operations now take
    TRADING_DR_FAILOVER_SECONDS (default 150) for a failover (AllowDataLoss) and
    TRADING_DR_SWITCHOVER_SECONDS (default 150) for a switchover (SwitchoverGlobalCluster, or
    FailoverGlobalCluster without AllowDataLoss), both multiplied by the clock scale (item 19),
    read when the server starts. Item 20's `promotion_never_completes` still keeps either from
    finishing.

47. The old primary after a failover with data loss. When a failover (AllowDataLoss) completes,
    the old primary does not rejoin as a synchronized secondary at once: Aurora rebuilds its
    storage volume from the new primary first, which takes from minutes to hours with the
    volume's size (same page, "Recovering an Amazon Aurora global database from an unplanned
    outage"). Until then DescribeGlobalClusters (and the GlobalCluster that FailoverGlobalCluster
    and SwitchoverGlobalCluster answer) shows that member's SynchronizationStatus as
    `pending-resync`; every other member, and every member otherwise, is `connected` (the
    member field and its two values are GlobalClusterMember's,
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_GlobalClusterMember.html;
    moto 5.2 sends no SynchronizationStatus at all). The rebuild takes
    TRADING_DR_REBUILD_SECONDS (default 900) times the clock scale, counted from the failover's
    completion. While any member is not synchronized, a switchover is refused, because "All
    secondary clusters are synchronized with the primary at the beginning of the process"
    (SwitchoverGlobalCluster): SwitchoverGlobalCluster, and FailoverGlobalCluster without
    AllowDataLoss (a switchover by another name), fail with InvalidGlobalClusterStateFault
    (HTTP 400), "Global cluster <id> can't be switched over: its member(s) <arn, ...> are not
    synchronized (SynchronizationStatus pending-resync); wait until every member is connected."
    (the emulator's words: AWS's message is not documented). A failover with AllowDataLoss is
    not refused. A switchover leaves the old primary connected as soon as it completes.

Also here, parts of items whose text is elsewhere:
- item 26 (Deletion as AWS refuses it; `cloudformation.py`), in AWS::RDS::DBCluster's deletion:

    - RDS refuses to delete the writer of a global database that has other members
      (InvalidGlobalClusterStateFault).

- item 20 (Faults for the runbooks; `faults.py`), in `_start_operation`:

    - {"promotion_never_completes": true}: a failover or switchover starts and never finishes;

- item 19 (The emulator's clock; `clock.py`): item 46's durations and item 47's rebuild are
  scaled by its CLOCK_SCALE.
"""

import os
import time as _time

from moto.core.responses import ActionResult
from moto.rds import models as rds_models
from moto.rds.models import DBInstance, rds_backends
from moto.rds.responses import RDSResponse

from . import faults
from .clock import CLOCK_SCALE
from .patch import original, patch, register

# --- 7. Aurora through CloudFormation -------------------------------------------------------------


class _GlobalClusterResource:
    """AWS::RDS::GlobalCluster on moto's RDS backend."""

    def __init__(self, cluster):
        self.cluster = cluster

    @staticmethod
    def cloudformation_type():
        return "AWS::RDS::GlobalCluster"

    @staticmethod
    def cloudformation_name_type():
        return "GlobalClusterIdentifier"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        cluster = rds_backends[account_id][region_name].create_global_cluster(
            global_cluster_identifier=resource_name,
            source_db_cluster_identifier=None,
            engine=p.get("Engine"),
            engine_version=p.get("EngineVersion"),
            storage_encrypted=p.get("StorageEncrypted"),
            deletion_protection=p.get("DeletionProtection"),
        )
        return cls(cluster)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        rds_backends[account_id][region_name].delete_global_cluster(resource_name)

    @property
    def physical_resource_id(self):
        return self.cluster.global_cluster_identifier

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("GlobalEndpoint",)

    def get_cfn_attribute(self, attribute_name):
        return {"Address": self.cluster.endpoint}


class _DbClusterResource:
    """AWS::RDS::DBCluster on moto's RDS backend."""

    def __init__(self, cluster):
        self.cluster = cluster

    @staticmethod
    def cloudformation_type():
        return "AWS::RDS::DBCluster"

    @staticmethod
    def cloudformation_name_type():
        return "DBClusterIdentifier"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        cluster = rds_backends[account_id][region_name].create_db_cluster(
            {
                "db_cluster_identifier": resource_name,
                "engine": p["Engine"],
                "engine_version": p.get("EngineVersion"),
                "global_cluster_identifier": p.get("GlobalClusterIdentifier"),
                "master_username": p.get("MasterUsername"),
                "master_user_password": p.get("MasterUserPassword"),
                "database_name": p.get("DatabaseName"),
                "port": p.get("Port"),
                "storage_encrypted": p.get("StorageEncrypted", False),
                "kms_key_id": p.get("KmsKeyId"),
                "backup_retention_period": p.get("BackupRetentionPeriod", 1),
                "deletion_protection": p.get("DeletionProtection", False),
            }
        )
        return cls(cluster)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        _refuse_to_delete_the_writer(resource_name, account_id, region_name)
        # CloudFormation's handler detaches a member of a global cluster before deleting it,
        # wherever the global cluster lives.
        backend = rds_backends[account_id][region_name]
        cluster = backend.clusters.get(resource_name)
        for regional in rds_backends[account_id].values():
            for global_cluster in regional.global_clusters.values():
                if cluster in global_cluster.members:
                    global_cluster.members.remove(cluster)
        backend.delete_db_cluster(resource_name)

    @property
    def physical_resource_id(self):
        return self.cluster.db_cluster_identifier

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("DBClusterArn", "DBClusterResourceId", "Endpoint.Address", "ReadEndpoint.Address")

    def get_cfn_attribute(self, attribute_name):
        return {
            "DBClusterArn": self.cluster.db_cluster_arn,
            "DBClusterResourceId": self.cluster.db_cluster_resource_id,
            "Endpoint.Address": self.cluster.endpoint,
            "ReadEndpoint.Address": self.cluster.reader_endpoint,
        }[attribute_name]


def _create_instance_in_cluster(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    p = cloudformation_json["Properties"]
    cluster_id = p.get("DBClusterIdentifier")
    if not cluster_id:
        create = original(DBInstance, "create_from_cloudformation_json").__func__
        return create(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
    backend = rds_backends[account_id][region_name]
    return backend.create_db_instance(
        {
            "db_instance_identifier": p.get("DBInstanceIdentifier", resource_name),
            "db_instance_class": p["DBInstanceClass"],
            "engine": p["Engine"],
            "engine_version": backend.clusters[cluster_id].engine_version,
            "db_cluster_identifier": cluster_id,
            "promotion_tier": p.get("PromotionTier", 1),
            "publicly_accessible": p.get("PubliclyAccessible", False),
        }
    )


# --- 26 (cloudformation.py). The writer of a global database cannot be deleted --------------------


def _refuse_to_delete_the_writer(resource_name, account_id, region_name):
    """Raises unless the cluster may be deleted: the writer of a global database with other
    members cannot be (AWS::RDS::DBCluster's deletion asks first)."""
    cluster = rds_backends[account_id][region_name].clusters.get(resource_name)
    for regional in rds_backends[account_id].values():
        for global_cluster in regional.global_clusters.values():
            _advance(global_cluster)
            if (
                cluster in global_cluster.members
                and getattr(cluster, "is_writer", False)
                and len(global_cluster.members) > 1
            ):
                raise _rds_error(
                    "InvalidGlobalClusterStateFault",
                    f"Cluster {resource_name} is the writer of global cluster "
                    f"{global_cluster.global_cluster_identifier}, which has other members; "
                    "fail over or remove them first.",
                )


# --- 17. Global database failover and switchover --------------------------------------------------

# Item 46: how long a failover (AllowDataLoss) and a switchover take, before the clock's scale.
FAILOVER_SECONDS = float(os.environ.get("TRADING_DR_FAILOVER_SECONDS", "150"))
SWITCHOVER_SECONDS = float(os.environ.get("TRADING_DR_SWITCHOVER_SECONDS", "150"))
# Item 47: how long the old primary's storage takes to rebuild after a failover with data loss.
REBUILD_SECONDS = float(os.environ.get("TRADING_DR_REBUILD_SECONDS", "900"))


def _rds_error(code, message):
    return rds_models.RDSClientError(code, message)


def _advance(global_cluster):
    """Completes a failover or switchover whose time has come."""
    state = global_cluster.failover_state
    due = global_cluster.completes_at
    if state is None or due is None or _time.monotonic() < due:
        return
    for member in global_cluster.members:
        member.is_writer = member.db_cluster_arn == state["ToDbClusterArn"]
    if state["IsDataLossAllowed"] and state["FromDbClusterArn"]:
        # Item 47: the old primary rebuilds its storage before it is a synchronized secondary.
        resyncing = dict(global_cluster.resyncing or {})
        resyncing[state["FromDbClusterArn"]] = due + REBUILD_SECONDS * CLOCK_SCALE
        global_cluster.resyncing = resyncing
    global_cluster.status = "available"
    global_cluster.failover_state = None
    global_cluster.completes_at = None


def _global_cluster(backend, identifier):
    for regional in rds_backends[backend.account_id].values():
        cluster = regional.global_clusters.get((identifier or "").lower())
        if cluster is not None:
            _advance(cluster)
            return cluster
    raise _rds_error("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")


def _start_operation(backend, identifier, target, data_loss):
    global_cluster = _global_cluster(backend, identifier)
    member = next(
        (
            m
            for m in global_cluster.members
            if target in (m.db_cluster_arn, m.db_cluster_identifier)
        ),
        None,
    )
    if member is None:
        raise _rds_error(
            "DBClusterNotFoundFault",
            f"DBCluster {target} is not a member of global cluster {identifier}.",
        )
    if global_cluster.failover_state is not None:
        raise _rds_error(
            "InvalidGlobalClusterStateFault",
            f"Global cluster {identifier} is already undergoing a "
            f"{global_cluster.failover_state['Status']} operation.",
        )
    if member.is_writer:
        raise _rds_error(
            "InvalidGlobalClusterStateFault",
            f"Cluster {target} is already the primary cluster of global cluster {identifier}.",
        )
    if not data_loss:
        unsynchronized = _not_synchronized(global_cluster)
        if unsynchronized:
            raise _rds_error(
                "InvalidGlobalClusterStateFault",
                f"Global cluster {identifier} can't be switched over: its member(s) "
                f"{', '.join(unsynchronized)} are not synchronized (SynchronizationStatus "
                "pending-resync); wait until every member is connected.",
            )
    writer = next((m for m in global_cluster.members if m.is_writer), None)
    status = "failing-over" if data_loss else "switching-over"
    global_cluster.status = status
    global_cluster.failover_state = {
        "Status": status,
        "FromDbClusterArn": writer.db_cluster_arn if writer else None,
        "ToDbClusterArn": member.db_cluster_arn,
        "IsDataLossAllowed": bool(data_loss),
    }
    seconds = FAILOVER_SECONDS if data_loss else SWITCHOVER_SECONDS
    never = faults.read().get("promotion_never_completes")
    global_cluster.completes_at = None if never else _time.monotonic() + seconds * CLOCK_SCALE
    return global_cluster


# --- 47. The old primary after a failover with data loss -------------------------------------------


def _synchronization_status(global_cluster, arn):
    until = (global_cluster.resyncing or {}).get(arn)
    return "pending-resync" if until is not None and _time.monotonic() < until else "connected"


def _not_synchronized(global_cluster):
    return [
        m.db_cluster_arn
        for m in global_cluster.members
        if _synchronization_status(global_cluster, m.db_cluster_arn) != "connected"
    ]


def _members_with_synchronization(self):
    members = original(rds_models.GlobalCluster, "global_cluster_members").fget(self)
    for member in members:
        member["SynchronizationStatus"] = _synchronization_status(self, member["DBClusterArn"])
    return members


def _failover_global_cluster(self):
    p = self.params
    allow = p.get("AllowDataLoss") in (True, "true")
    switchover = p.get("Switchover") in (True, "true")
    if allow and switchover:
        raise _rds_error(
            "InvalidParameterCombination", "AllowDataLoss and Switchover can't both be set."
        )
    cluster = _start_operation(
        self.backend, p.get("GlobalClusterIdentifier"), p.get("TargetDbClusterIdentifier"), allow
    )
    return ActionResult({"GlobalCluster": cluster})


def _switchover_global_cluster(self):
    p = self.params
    cluster = _start_operation(
        self.backend, p.get("GlobalClusterIdentifier"), p.get("TargetDbClusterIdentifier"), False
    )
    return ActionResult({"GlobalCluster": cluster})


def _describe_global_clusters(self):
    identifier = self.params.get("GlobalClusterIdentifier")
    if identifier:
        clusters = [_global_cluster(self.backend, identifier)]
    else:
        clusters = list(self.global_backend.describe_global_clusters())
        for cluster in clusters:
            _advance(cluster)
    return ActionResult({"GlobalClusters": clusters})


def install():
    register(_GlobalClusterResource, "moto.rds.harness")
    register(_DbClusterResource, "moto.rds.harness")
    patch(DBInstance, "create_from_cloudformation_json", classmethod(_create_instance_in_cluster))
    patch(rds_models.GlobalCluster, "failover_state", None)
    patch(rds_models.GlobalCluster, "completes_at", None)
    # Item 47.
    patch(rds_models.GlobalCluster, "resyncing", None)
    patch(
        rds_models.GlobalCluster,
        "global_cluster_members",
        property(_members_with_synchronization),
    )
    patch(RDSResponse, "failover_global_cluster", _failover_global_cluster)
    patch(RDSResponse, "switchover_global_cluster", _switchover_global_cluster)
    patch(RDSResponse, "describe_global_clusters", _describe_global_clusters)
