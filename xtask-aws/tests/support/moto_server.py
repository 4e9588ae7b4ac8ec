"""moto's server for the deploy tests, with two additions that live in this repository.

1. Stack outputs after a change set. moto 5.2 builds a stack's output map when a stack is made
   with CreateStack but not when a change set is executed, so DescribeStacks returns no outputs
   after `cargo xtask deploy` (which only uses change sets). Real CloudFormation returns them
   either way, and the deployer passes outputs from one phase to the next, so the tests need
   them: after `ChangeSet.apply` the output map is rebuilt from the applied template.

   An output whose value refers to a resource type moto accepts but does not create (a global
   table, an Aurora cluster, …) cannot be evaluated; it is left out of DescribeStacks, as moto
   already does for stacks made with CreateStack, instead of failing the whole call.

2. KMS key tags. moto 5.2 hands an AWS::KMS::Key's `Tags` ([{"Key", "Value"}], CloudFormation's
   shape) to its KMS tagger, which wants the KMS API's shape ([{"TagKey", "TagValue"}]), fails
   with a KeyError, and the stack then reports that the key does not exist. The tags are
   converted before moto sees them.

3. Inter-region peering. moto 5.2's AWS::EC2::VPCPeeringConnection ignores `PeerRegion` and
   looks the peer VPC up in the stack's own region, so a peering to another region fails with
   InvalidVpcID.NotFound (its EC2 API, CreateVpcPeeringConnection, does honour PeerRegion). The
   resource is created the way the API does it, and, as CloudFormation does within one account,
   accepted.

4. Change sets that only change parameters. moto 5.2 computes a change set's changes from the
   template alone, so a change set whose template is the same but whose parameters differ (the
   primary-link phase) lists no change, where CloudFormation lists the resources that use the
   changed parameters. The changes are computed with the parameters, as moto's own stack
   update already does (those resources show as Modify), against the values the stack runs
   with, defaults included; the update that applies the change set compares the same way (moto
   compares with the values given at creation only, so a parameter left at its default and then
   passed with UsePreviousValue looked changed, and the subnets that use the zone parameters were
   updated out of the stack, which then could not delete its VPC).

5. Route tables on stack deletion. moto 5.2's AWS::EC2::RouteTable cannot be deleted through
   CloudFormation (the model has no delete), so deleting a stack leaves its route tables behind
   and the VPC then refuses deletion with DependencyViolation. The route table is deleted the
   way the EC2 API deletes it.

6. Bucket versioning and replication. moto 5.2's AWS::S3::Bucket applies only encryption and
   tags; `VersioningConfiguration` and `ReplicationConfiguration` are dropped. Destroy must empty
   versioned buckets, and the link phase must configure replication, so both are applied
   through moto's S3 backend, on creation and on update, as the S3 API would.

7. Aurora through CloudFormation. moto 5.2 has AWS::RDS::GlobalCluster and AWS::RDS::DBCluster
   in its RDS API but not in CloudFormation: the stacks would hold no global database, and the
   outputs the secondary phase needs (the global cluster's identifier) would be missing. Both
   types are modelled here on moto's own RDS backend (create, attributes, delete), so the
   clusters exist, the secondary joins the global cluster and the runbooks have something to
   fail over. moto's AWS::RDS::DBInstance ignores DBClusterIdentifier (and, without an
   EngineVersion, fails for aurora-postgresql); an instance that names a cluster is created
   in that cluster, with its version, as RDS does.

8. Parameter tags. An AWS::SSM::Parameter's `Tags` is a map in CloudFormation; moto 5.2 hands
   it to its PutParameter, which wants a list of {"Key", "Value"}, and fails. The map is
   converted first.

9. Configuration replication, end to end. Three things moto 5.2 does not do and AWS does:
   - SSM sends "Parameter Store Change" events (Create, Update, Delete) to the region's default
     bus when a parameter changes; here put_parameter and delete_parameter do the same.
   - EventBridge starts a Step Functions state machine that a rule targets (moto raises
     NotImplementedError for that target); here the execution starts with the event as input.
   - State machines made by CloudFormation run: moto executes state machines only from its
     parser backend, so execution is switched on and CloudFormation creates them there.

10. Certificates. moto 5.2 has ACM's API but no AWS::CertificateManager::Certificate in
    CloudFormation, so the HTTPS listener got no certificate ARN and failed. The certificate is
    requested from moto's ACM backend (which, like AWS for a delegated zone, issues it).

11. Stand-ins for types moto does not create. moto accepts some types without creating them
    (global tables, secrets, backup vaults and plans, alarms, canaries, …); a `Ref` or
    `Fn::GetAtt` to one then fails the whole stack ("references undefined resource"). Such a
    resource becomes a stand-in that answers `Ref` and `Fn::GetAtt` with identifiers in the
    usual shape, so templates that wire them deploy; the tests assert only on what moto
    really creates.

12. Attributes moto leaves out. A load balancer's CanonicalHostedZoneID and
    LoadBalancerFullName, a target group's TargetGroupFullName and a hosted zone's NameServers
    are answered as AWS answers them (the ALB hosted-zone ids are AWS's published ones).

13. An event bus's `Ref`. moto 5.2's AWS::Events::EventBus has no physical id, so a `Ref` to
    it hands a rule the model object instead of the bus name, and the rule fails. The bus's
    name is its physical id, as in CloudFormation.

14. An archive's event pattern. CloudFormation takes `EventPattern` as JSON; moto 5.2's
    AWS::Events::Archive wants it as a string and fails on an object. It is serialised first.

15. Failover records. moto 5.2 deletes a record set by name and type alone, so replacing the
    PRIMARY failover record also deleted SECONDARY (same name and type). Route 53 tells them
    apart by SetIdentifier, and so does this deletion.

16. Fault injection. On every CreateChangeSet the JSON file named by TRADING_DR_FAULTS is read
   (when it exists); {"reject_change_set": {"<stack name>": "<message>"}} makes CreateChangeSet
   for that stack fail with a ValidationError carrying the message, as CloudFormation does for a
   template it rejects. {"stack_busy": {"<stack name>": "<status>"}} makes DescribeStacks show
   that stack in that status (UPDATE_IN_PROGRESS: another deploy is running) and, as
   CloudFormation refuses to change a stack in the middle of an operation, CreateChangeSet for
   it fail with "… is in UPDATE_IN_PROGRESS state and can not be updated".

17. The global database's failover and switchover. moto 5.2 has no FailoverGlobalCluster or
    SwitchoverGlobalCluster (it answers HTTP 500), and DescribeGlobalClusters ignores its
    GlobalClusterIdentifier. Here, as in RDS: the call is checked (unknown global cluster:
    GlobalClusterNotFoundFault; a target that is not a member: DBClusterNotFoundFault; an
    operation already under way, or a target that already writes: InvalidGlobalClusterStateFault;
    AllowDataLoss with Switchover: InvalidParameterCombination), the global cluster shows
    `failing-over` or `switching-over` with its FailoverState, and after a delay (45 s for a
    failover, 90 s for a switchover, on the emulator's clock) the target writes, the old writer
    is demoted to a secondary, and the state clears. DescribeGlobalClusters filters by identifier.

18. Alarms. moto 5.2 creates no AWS::CloudWatch::Alarm or CompositeAlarm from a template, never
    evaluates an alarm, and sends no state-change events. Here: both types are created on moto's
    CloudWatch backend; a metric alarm is evaluated against each datum PutMetricData receives
    for its metric and dimensions (threshold and comparison operator; one datum decides, as with
    one evaluation period); a composite alarm's rule (ALARM/OK/INSUFFICIENT_DATA("name"), AND,
    OR, NOT, parentheses) is evaluated whenever an alarm changes state; and every change sends
    "CloudWatch Alarm State Change" to the region's default bus, as CloudWatch does, so the rule
    that starts the failover runbook fires from the alarms alone.

19. The emulator's clock. TRADING_DR_CLOCK_SCALE (default 1) multiplies every Wait state and
    every retry interval of an executing state machine, and the durations of item 17, so a
    runbook whose bounded waits add up to minutes runs in seconds with its definition unchanged.

20. Faults for the runbooks, from the same TRADING_DR_FAULTS file, read on every request:
    - {"throttle": {"<Action>": N}}: the first N calls of that API action fail with a throttling
      error (Throttling for query APIs, ThrottlingException for JSON and CBOR ones), as AWS
      throttles;
    - {"fail": {"<Action>": ["<code>", "<message>"]}}: every call of that action fails so;
    - {"promotion_never_completes": true}: a failover or switchover starts and never finishes;
    - {"service_never_steady": true}: an ECS service's running count stays where it was when
      its desired count changes (tasks that never become healthy).
    Without that fault a service's running count follows its desired count, from creation on
    (moto starts every service with none running).
    - {"unreachable": ["<region>"]}: a regional outage as a client sees it: every request
      signed for that region gets no answer (it is held 30 s, then dropped).

21. Step Functions' AWS SDK integrations. A state machine names an API's parameters in
    PascalCase ("Cluster", "DesiredCount") and reads PascalCase results ("$.Services[0].
    RunningCount") for every service, and Step Functions maps them onto the API's own members
    (ECS's are camelCase). moto 5.2 passes the names through unchanged, so an ECS call fails
    with a KeyError. The request and the response are mapped through the API's model, as Step
    Functions does.

22. JSONPath results. Step Functions returns the value itself for a definite path
    ("$.Services[0].RunningCount" is 1) and a list for a path with a filter, wildcard or slice
    ("$.Members[?(@.IsWriter == true)].Arn"), an empty one when nothing matches. moto 5.2 wraps
    any value read below an array index in a list ([1]) and fails on a filter matching nothing.
    Both are answered as Step Functions answers.

23. Error names of AWS SDK integrations. Step Functions names a failed SDK call
    `ServiceName.ErrorNameException`, both PascalCase, "Exception" added when the service's
    error code lacks it (`Ssm.ParameterNotFoundException`, `S3.BucketAlreadyExistsException`;
    "Learning to use AWS service SDK integrations", Step Functions developer guide). moto 5.2
    keeps the service's name in lower case unless it knows it (it knows two), and so names it
    `ssm.ParameterNotFoundException`, which no Catch written for AWS matches: the
    configuration replication's "the parameter does not exist yet here" path then retried and
    failed instead of leaving the parameter to the stack. The name is made as AWS makes it.

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

26. Deletion as AWS refuses it. moto 5.2 deletes whatever it can of a stack, raises the last
    failure after removing the stack from the list, and refuses nothing that AWS refuses, so a
    destroy that fails in AWS reports DELETE_COMPLETE here. Modelled from the AWS documentation:
    - A stack whose resources fail to delete ends in DELETE_FAILED, stays listed with the
      resources left, and has a DELETE_FAILED event per resource with the service's reason and
      one for the stack ("The following resource(s) failed to delete: [..]"). DeleteStack on a
      DELETE_FAILED stack tries again; RetainResources (only then, as in CloudFormation) leaves
      those resources out.
    - Certificate validation records: for each DomainValidationOptions entry with a
      HostedZoneId, CloudFormation writes ACM's CNAME (`_<hash>.<domain>.` →
      `_<hash>.<hash>.acm-validations.aws.`) into that zone, and deleting the certificate leaves
      it there (cloudformation-coverage-roadmap #837).
    - Route 53 refuses to delete a hosted zone holding records other than SOA and NS
      (HostedZoneNotEmpty); moto's CloudFormation never deleted the zone at all.
    - Backup vaults are created on moto's Backup backend (no longer stand-ins), with recovery
      points: StartBackupJob makes one at once; ListRecoveryPointsByBackupVault and
      DeleteRecoveryPoint work on them; a locked vault refuses to delete a recovery point younger
      than its minimum retention; a vault with recovery points refuses deletion
      ("Backup vault cannot be deleted (contains N recovery points)").
    - RDS refuses to delete the writer of a global database that has other members
      (InvalidGlobalClusterStateFault).

27. Service updates and auto scaling, as AWS applies them. moto 5.2 compares a resource's
    template text, not its resolved values, so a service whose task definition was replaced (a
    new image) is never updated, and AWS::ApplicationAutoScaling::ScalableTarget is a stand-in.
    Here, as CloudFormation and Application Auto Scaling do: after a change set, a service whose
    resolved task definition changed is updated (UpdateService) with the new task definition and
    the template's DesiredCount when the property is present — the documented reason a
    CloudFormation update scales a service back (aws/containers-roadmap #493) — and left at its
    count when absent; a scalable target is registered (and updated, and deregistered) with the
    template's values; and registering a scalable target, from a template or from a runbook,
    brings an ECS service's desired count into [MinCapacity, MaxCapacity] at once
    (RegisterScalableTarget, Application Auto Scaling API reference). A runbook reaches it
    through `arn:aws:states:::aws-sdk:applicationautoscaling:…`; Step Functions maps that name to
    the API (`application-autoscaling`), which moto 5.2 does only for `sfn`/`states`. And
    moto 5.2 registers an updated AWS::ECS::TaskDefinition with its container definitions in
    CloudFormation's PascalCase, which its ECS API then drops (the new revision had no image);
    they are converted as on creation.

28. Global tables. moto 5.2 has no AWS::DynamoDB::GlobalTable (it was a stand-in, item 11), so
    the sessions table existed nowhere and nothing could read its replicas. Here, as DynamoDB
    global tables (version 2019.11.21) behave: the table is created in every region its
    `Replicas` names (on update, new replicas are added and removed ones deleted), DescribeTable
    in one region lists the other regions' replicas (`Replicas`: RegionName, ReplicaStatus
    ACTIVE), and deleting the table in one region with DeleteTable removes that replica from the
    others' lists.

29. Backup copy jobs. moto 5.2 has no StartCopyJob. Here it copies a recovery point into the
    destination vault (in its region) at once, and the copy's listing carries
    `SourceBackupVaultArn`, as ListRecoveryPointsByBackupVault answers for a copy.

30. Conditions that change on an update. moto 5.2 creates a resource with a `Condition` only
    when the stack is created: a resource whose condition becomes true on an update (the primary's
    replication alarms and peering routes in the primary-link phase, whose condition depends on a
    parameter) is listed but never made. Here, as CloudFormation does, after an update every
    resource whose condition now holds and that does not exist is created (in template order,
    retried while what it refers to is still missing), and one whose condition no longer holds
    is deleted.

31. CloudWatch's CBOR protocol. The AWS SDK for Rust calls CloudWatch with the Smithy RPC v2
    CBOR protocol (`POST /service/GraniteServiceVersion20100801/operation/<Operation>`, CBOR in
    and out), which CloudWatch serves beside its query protocol; moto 5.2 routes only the query
    protocol and answers 404. DescribeAlarms (names, name prefix, alarm types) and
    GetMetricStatistics are answered in CBOR from moto's CloudWatch backend, errors as the
    protocol shapes them (`__type`, `message`). Note that moto starts a new alarm in OK, where
    CloudWatch starts it in INSUFFICIENT_DATA until its first evaluation; the tests that need an
    alarm's state put the metric data that decides it.

32. Trails through CloudFormation. moto 5.2 has CloudTrail's API but no AWS::CloudTrail::Trail
    in CloudFormation (a stand-in, item 11), so the audit trail existed nowhere. It is created
    on moto's CloudTrail backend as CloudTrail does: the bucket must exist (else
    S3BucketDoesNotExistException fails the stack), `IsLogging` starts logging, and the trail is
    deleted with its stack.

33. Web ACLs through CloudFormation. moto 5.2 has WAFv2's API but none of AWS::WAFv2::WebACL,
    WebACLAssociation or LoggingConfiguration in CloudFormation (stand-ins, item 11), so no load
    balancer had a firewall. They are made on moto's WAFv2 backend as WAF makes them: an
    association needs the load balancer to exist in the region, a logging destination must be a
    log group that exists and is named `aws-waf-logs-…` (else WAFInvalidParameterException), and
    a web ACL still associated with a resource cannot be deleted (WAFAssociatedItemException), so
    a stack that deleted them in the wrong order fails here as it would in AWS.

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

Usage: python moto_server.py -H 127.0.0.1 -p PORT
"""

import json
import os
import sys
import uuid

from moto.cloudformation import models, parsing
from moto.ec2.models import ec2_backends
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.vpc_peering_connections import VPCPeeringConnection
from moto.acm.models import acm_backends
from moto.core.common_models import CloudFormationModel
from moto.elbv2 import models as elbv2_models
from moto.route53 import models as route53_models
from moto.kms import models as kms_models
from moto.rds.models import DBInstance, rds_backends
from moto.core.config import default_user_config
from moto.events import models as events_models
from moto.s3 import models as s3_models
from moto.stepfunctions import models as sfn_models
from moto.stepfunctions.parser.models import stepfunctions_parser_backends
from moto.utilities.arns import parse_arn
from moto.utilities.utils import get_partition
from moto.ssm import models as ssm_models
from moto.cloudformation.exceptions import ValidationError
from moto.server import main

_apply = models.ChangeSet.apply


def _apply_with_outputs(self):
    _apply(self)
    # The output map is built from the stack's template, which moto only replaces after
    # apply returns: give the stack the applied template first.
    self.stack.template = self.template
    self.stack._parse_template()
    self.stack.output_map = self.stack._create_output_map()


models.ChangeSet.apply = _apply_with_outputs

_output = parsing.OutputMap.__getitem__


def _output_or_none(self, key):
    try:
        return _output(self, key)
    except Exception:  # noqa: BLE001 - any output moto cannot evaluate is left out
        return None


parsing.OutputMap.__getitem__ = _output_or_none

_create_key = kms_models.Key.create_from_cloudformation_json.__func__


def _create_key_with_kms_tags(cls, resource_name, cloudformation_json, *args, **kwargs):
    properties = cloudformation_json.get("Properties", {})
    properties["Tags"] = [
        {"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])
    ]
    return _create_key(cls, resource_name, cloudformation_json, *args, **kwargs)


kms_models.Key.create_from_cloudformation_json = classmethod(_create_key_with_kms_tags)

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


VPCPeeringConnection.create_from_cloudformation_json = classmethod(_create_peering)

def _diff_with_parameters(self):
    # Compare with the values the stack runs with, template defaults included (moto compares
    # with the values given at creation only, so an omitted parameter looks changed).
    resource_map = self.stack.resource_map
    given = resource_map.input_parameters
    resource_map.input_parameters = dict(resource_map.resolved_parameters)
    try:
        by_action = resource_map.build_resource_diff(self.template_dict, self.parameters)
    finally:
        resource_map.input_parameters = given
    old = self.stack.resource_map._resource_json_map
    changes = []
    for action, names in by_action.items():
        for name in names:
            source = old if action == "Remove" else self.template_dict["Resources"]
            changes.append(
                models.Change(
                    action=action,
                    logical_resource_id=name,
                    resource_type=source[name]["Type"],
                )
            )
    return changes


models.ChangeSet.diff = _diff_with_parameters

def _delete_route_table(cls, resource_name, cloudformation_json, account_id, region_name):
    ec2_backends[account_id][region_name].delete_route_table(resource_name)


RouteTable.delete_from_cloudformation_json = classmethod(_delete_route_table)

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


_create_bucket = s3_models.FakeBucket.create_from_cloudformation_json.__func__
_update_bucket = s3_models.FakeBucket.update_from_cloudformation_json.__func__


def _create_bucket_with_settings(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    bucket = _create_bucket(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    return _apply_bucket_settings(bucket, cloudformation_json)


def _update_bucket_with_settings(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    bucket = _update_bucket(
        cls,
        original_resource=original_resource,
        new_resource_name=new_resource_name,
        cloudformation_json=cloudformation_json,
        account_id=account_id,
        region_name=region_name,
    )
    return _apply_bucket_settings(bucket, cloudformation_json)


s3_models.FakeBucket.create_from_cloudformation_json = classmethod(_create_bucket_with_settings)
s3_models.FakeBucket.update_from_cloudformation_json = classmethod(_update_bucket_with_settings)

class _GlobalClusterResource(CloudFormationModel):
    """AWS::RDS::GlobalCluster on moto's RDS backend."""

    # moto's model registry files models under the service named by their module.
    __module__ = "moto.rds.harness"

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


class _DbClusterResource(CloudFormationModel):
    """AWS::RDS::DBCluster on moto's RDS backend."""

    __module__ = "moto.rds.harness"

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


_create_instance = DBInstance.create_from_cloudformation_json.__func__


def _create_instance_in_cluster(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    p = cloudformation_json["Properties"]
    cluster_id = p.get("DBClusterIdentifier")
    if not cluster_id:
        return _create_instance(
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


DBInstance.create_from_cloudformation_json = classmethod(_create_instance_in_cluster)

def _with_tag_list(cloudformation_json):
    properties = cloudformation_json.get("Properties", {})
    tags = properties.get("Tags")
    if isinstance(tags, dict):
        properties["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return cloudformation_json


_create_parameter = ssm_models.Parameter.create_from_cloudformation_json.__func__


def _create_parameter_with_tag_list(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    return _create_parameter(
        cls, resource_name, _with_tag_list(cloudformation_json), account_id, region_name, **kwargs
    )


ssm_models.Parameter.create_from_cloudformation_json = classmethod(_create_parameter_with_tag_list)

def _emit_parameter_change(backend, name, operation):
    # As in AWS, delivering the event is decoupled from the change: a failed delivery (a
    # target being deleted, say) never fails the SSM call.
    try:
        _put_change_event(backend, name, operation)
    except Exception:  # noqa: BLE001
        pass


def _put_change_event(backend, name, operation):
    events_models.events_backends[backend.account_id][backend.region_name].put_events(
        [
            {
                "Source": "aws.ssm",
                "DetailType": "Parameter Store Change",
                "Detail": json.dumps({"name": name, "operation": operation, "type": "String"}),
                "EventBusName": "default",
            }
        ]
    )


_put_parameter = ssm_models.SimpleSystemManagerBackend.put_parameter
_delete_parameter = ssm_models.SimpleSystemManagerBackend.delete_parameter


def _put_parameter_with_event(self, name, *args, **kwargs):
    existed = self.get_parameter(name) is not None
    parameter = _put_parameter(self, name, *args, **kwargs)
    _emit_parameter_change(self, parameter.name, "Update" if existed else "Create")
    return parameter


def _delete_parameter_with_event(self, name):
    result = _delete_parameter(self, name)
    _emit_parameter_change(self, name, "Delete")
    return result


ssm_models.SimpleSystemManagerBackend.put_parameter = _put_parameter_with_event
ssm_models.SimpleSystemManagerBackend.delete_parameter = _delete_parameter_with_event

_send_to_targets = events_models.Rule.send_to_targets


def _send_to_targets_and_state_machines(self, original_event, transform_input=True):
    if not self.event_pattern.matches_event(original_event):
        return
    machines = [t for t in self.targets if parse_arn(t["Arn"]).service == "states"]
    others = [t for t in self.targets if t not in machines]
    all_targets = self.targets
    self.targets = others
    try:
        _send_to_targets(self, original_event, transform_input)
    finally:
        self.targets = all_targets
    for target in machines:
        arn = parse_arn(target["Arn"])
        # EventBridge names each execution uniquely; the event id serves. A target that cannot
        # be started (being deleted) loses the event, as EventBridge drops undeliverable ones.
        try:
            stepfunctions_parser_backends[arn.account][arn.region].start_execution(
                target["Arn"],
                name=original_event.get("id") or str(uuid.uuid4()),
                execution_input=json.dumps(original_event),
            )
        except Exception:  # noqa: BLE001
            pass


events_models.Rule.send_to_targets = _send_to_targets_and_state_machines

default_user_config["stepfunctions"]["execute_state_machine"] = True
sfn_models.stepfunctions_backends = stepfunctions_parser_backends

class _CertificateResource(CloudFormationModel):
    """AWS::CertificateManager::Certificate on moto's ACM backend."""

    __module__ = "moto.acm.harness"

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
        return cls(arn)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        acm_backends[account_id][region_name].delete_certificate(resource_name)

    @property
    def physical_resource_id(self):
        return self.arn


class _StandIn:
    """A resource moto accepts without creating: answers Ref and GetAtt, deletes as a no-op."""

    def __init__(self, logical_id, resource_type, account_id, region_name):
        service, kind = resource_type.split("::")[1:3]
        self.logical_resource_id = logical_id
        self.cf_resource_type = resource_type
        self.physical_resource_id = f"{logical_id.lower()}-standin"
        self.arn = (
            f"arn:aws:{service.lower()}:{region_name}:{account_id}:{kind.lower()}/{self.physical_resource_id}"
        )

    @classmethod
    def has_cfn_attr(cls, attr):
        return True

    def get_cfn_attribute(self, attribute_name):
        return self.arn if attribute_name.endswith("Arn") else f"{self.physical_resource_id}.{attribute_name}"

    def delete(self, account_id, region_name):
        pass


_parse_and_create = parsing.parse_and_create_resource


def _parse_and_create_or_stand_in(logical_id, resource_json, resources_map, account_id, region_name):
    resource = _parse_and_create(logical_id, resource_json, resources_map, account_id, region_name)
    if resource is not None:
        return resource
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    return _StandIn(logical_id, resource_json["Type"], account_id, region_name)


parsing.parse_and_create_resource = _parse_and_create_or_stand_in

ALB_HOSTED_ZONES = {"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-2": "Z1H1FL5HABSF5"}

_lb_attribute = elbv2_models.FakeLoadBalancer.get_cfn_attribute


def _lb_attribute_complete(self, attribute_name):
    if attribute_name == "CanonicalHostedZoneID":
        return ALB_HOSTED_ZONES.get(self.arn.split(":")[3], "Z35SXDOTRQ7X7K")
    if attribute_name == "LoadBalancerFullName":
        return self.arn.split(":loadbalancer/", 1)[1]
    return _lb_attribute(self, attribute_name)


elbv2_models.FakeLoadBalancer.get_cfn_attribute = _lb_attribute_complete


def _target_group_attribute(self, attribute_name):
    if attribute_name == "TargetGroupFullName":
        return self.arn.split(":", 5)[5]
    if attribute_name == "TargetGroupArn":
        return self.arn
    raise AttributeError(attribute_name)


elbv2_models.FakeTargetGroup.get_cfn_attribute = _target_group_attribute


def _zone_attribute(self, attribute_name):
    if attribute_name == "NameServers":
        if self.delegation_set is not None:
            return self.delegation_set.name_servers
        return [f"ns-{i}.awsdns-{i}.org" for i in range(4)]
    if attribute_name == "Id":
        return self.id
    raise AttributeError(attribute_name)


route53_models.FakeZone.get_cfn_attribute = _zone_attribute

events_models.EventBus.physical_resource_id = property(lambda self: self.name)

_create_archive = events_models.Archive.create_from_cloudformation_json.__func__


def _create_archive_with_pattern_text(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    properties = cloudformation_json.get("Properties", {})
    if isinstance(properties.get("EventPattern"), dict):
        properties["EventPattern"] = json.dumps(properties["EventPattern"])
    return _create_archive(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )


events_models.Archive.create_from_cloudformation_json = classmethod(_create_archive_with_pattern_text)

def _delete_rrset_by_identity(self, rrset):
    identifier = rrset.get("SetIdentifier")
    self.rrsets = [
        r
        for r in self.rrsets
        if r.name != rrset["Name"]
        or (rrset.get("Type") is not None and r.type != rrset["Type"])
        or (identifier is not None and r.set_identifier != identifier)
    ]


route53_models.FakeZone.delete_rrset = _delete_rrset_by_identity


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


route53_models.RecordSet.delete_from_cloudformation_json = classmethod(_delete_record_from_cloudformation)
route53_models.RecordSet.delete = _delete_record

_create_change_set = models.CloudFormationBackend.create_change_set


_faults_cache = {"key": None, "faults": {}}


def _faults():
    """The fault file's content. It is consulted on every request (item 20), so it is parsed
    again only when the file changes."""
    path = os.environ.get("TRADING_DR_FAULTS")
    try:
        stat = os.stat(path) if path else None
    except FileNotFoundError:
        stat = None
    if stat is None:
        return {}
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if _faults_cache["key"] != key:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
        _faults_cache["faults"] = json.loads(text) if text else {}
        _faults_cache["key"] = key
    return _faults_cache["faults"]


def _create_change_set_with_faults(self, stack_name, *args, **kwargs):
    message = _faults().get("reject_change_set", {}).get(stack_name)
    if message:
        raise ValidationError(stack_name, message=message)
    busy = _faults().get("stack_busy", {}).get(stack_name)
    if busy:
        raise ValidationError(
            stack_name, message=f"Stack:{stack_name} is in {busy} state and can not be updated."
        )
    return _create_change_set(self, stack_name, *args, **kwargs)


models.CloudFormationBackend.create_change_set = _create_change_set_with_faults


class _BusyStack:
    """A stack as DescribeStacks shows it while another operation runs on it."""

    def __init__(self, stack, status):
        self._stack = stack
        self.status = status

    def __getattr__(self, name):
        return getattr(self._stack, name)


_describe_stacks = models.CloudFormationBackend.describe_stacks


def _describe_stacks_with_busy(self, *args, **kwargs):
    stacks = _describe_stacks(self, *args, **kwargs)
    busy = _faults().get("stack_busy", {})
    return [_BusyStack(s, busy[s.name]) if s.name in busy else s for s in stacks]


models.CloudFormationBackend.describe_stacks = _describe_stacks_with_busy

# --- 19. The emulator's clock ------------------------------------------------------------------

import re
import threading
import time as _time

from moto.cloudwatch import models as cloudwatch_models
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import camelcase_to_underscores
from moto.ecs import models as ecs_models
from moto.rds import models as rds_models
from moto.rds.responses import RDSResponse
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

CLOCK_SCALE = float(os.environ.get("TRADING_DR_CLOCK_SCALE", "1"))


def _scaled_wait_interval(self, env, wait_seconds):
    if wait_seconds > 0:
        env.program_state_event.wait(wait_seconds * CLOCK_SCALE)


wait_function.WaitFunction._wait_interval = _scaled_wait_interval


class _ScaledTime:
    """The `time` module as the retrier sees it: sleeps on the emulator's clock."""

    def __getattr__(self, name):
        return getattr(_time, name)

    @staticmethod
    def sleep(seconds):
        _time.sleep(seconds * CLOCK_SCALE)


retrier_decl.time = _ScaledTime()

# --- 20. Faults ---------------------------------------------------------------------------------

_throttled = {}
_throttled_lock = threading.Lock()


def _injected_error(action):
    """The (code, message) an injected fault makes `action` fail with, if any."""
    faults = _faults()
    failure = faults.get("fail", {}).get(action)
    if failure:
        return failure[0], failure[1]
    limit = faults.get("throttle", {}).get(action, 0)
    with _throttled_lock:
        done = _throttled.get(action, 0)
        if done < limit:
            _throttled[action] = done + 1
            return "Throttling", "Rate exceeded"
    return None


_call_action = BaseResponse.call_action


class _InjectedFault(ServiceException):
    """An error the fault file asks for; serialised with the called service's error model."""


def _unavailable(region):
    def fail():
        raise _InjectedFault("ServiceUnavailable", f"{region} is unreachable")

    return fail


def _call_action_with_faults(self):
    action = self._get_action()
    if action and self.region in _faults().get("unreachable", []):
        # No answer in time; the late one is an ordinary error, for a client long gone.
        _time.sleep(30)
        setattr(self, camelcase_to_underscores(action), _unavailable(self.region))
        return _call_action(self)
    error = _injected_error(action) if action else None
    if error is not None:
        code, message = error
        content_type = (self.headers or {}).get("Content-Type", "")
        if code == "Throttling" and "x-www-form-urlencoded" not in content_type:
            code = "ThrottlingException"

        def fail():
            # moto serialises a ServiceException in the service's own protocol (query XML,
            # JSON, CBOR), as AWS answers.
            raise _InjectedFault(code, message)

        # The instance attribute shadows the action's method for this one request.
        setattr(self, camelcase_to_underscores(action), fail)
    return _call_action(self)


BaseResponse.call_action = _call_action_with_faults

# --- 21. Step Functions' AWS SDK integrations: PascalCase in and out -------------------------------

import botocore.session
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk as aws_sdk_task,
)

_models = botocore.session.get_session()


def _operation(task, boto_service_name=None, service_action_name=None):
    service = task._get_boto_service_name(boto_service_name)
    action = service_action_name or task.resource.api_action
    model = _models.get_service_model(service)
    return model.operation_model(action[0].upper() + action[1:])


def _sdk_parameters(self, parameters, boto_service_name=None, service_action_name=None):
    self._to_boto_request(parameters, _operation(self, boto_service_name, service_action_name).input_shape)


def _sdk_response(self, response, boto_service_name=None, service_action_name=None):
    shape = _operation(self, boto_service_name, service_action_name).output_shape
    if shape is not None:
        self._from_boto_response(response, shape)


aws_sdk_task.StateTaskServiceAwsSdk._normalise_parameters = _sdk_parameters
aws_sdk_task.StateTaskServiceAwsSdk._normalise_response = _sdk_response

# --- 22. JSONPath results -------------------------------------------------------------------------

from jsonpath_ng.ext import parse as _parse_json_path
from moto.stepfunctions.parser.asl.utils import json_path as _json_path

_INDEFINITE = re.compile(r"\[\s*(\*|\?|-?\d*\s*:)|\.\.")


def _extract_json(path, data):
    matches = _parse_json_path(path).find(data)
    indefinite = _INDEFINITE.search(path) is not None
    if indefinite:
        return [m.value for m in matches]
    if not matches:
        raise _json_path.NoSuchJsonPathError(json_path=path, data=data)
    return matches[0].value


_original_extract_json = _json_path.extract_json
_json_path.extract_json = _extract_json
for _module in list(sys.modules.values()):
    if (getattr(_module, "__name__", "") or "").startswith("moto.stepfunctions.parser") and getattr(
        _module, "extract_json", None
    ) is _original_extract_json:
        _module.extract_json = _extract_json

# --- 17. Global database failover and switchover ------------------------------------------------

FAILOVER_SECONDS = 45
SWITCHOVER_SECONDS = 90

rds_models.GlobalCluster.failover_state = None
rds_models.GlobalCluster.completes_at = None


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
    never = _faults().get("promotion_never_completes")
    global_cluster.completes_at = None if never else _time.monotonic() + seconds * CLOCK_SCALE
    return global_cluster


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


RDSResponse.failover_global_cluster = _failover_global_cluster
RDSResponse.switchover_global_cluster = _switchover_global_cluster
RDSResponse.describe_global_clusters = _describe_global_clusters

# --- 20. ECS tasks that never become healthy ----------------------------------------------------

_update_service = ecs_models.EC2ContainerServiceBackend.update_service


def _update_service_with_faults(self, service_properties):
    cluster = service_properties.get("cluster", "default")
    name = service_properties["service"].split("/")[-1]
    before = self._get_service(cluster, name).running_count
    service = _update_service(self, service_properties)
    if _faults().get("service_never_steady"):
        service.running_count = before
        service.pending_count = service.desired_count - before
    return service


ecs_models.EC2ContainerServiceBackend.update_service = _update_service_with_faults

_service_init = ecs_models.Service.__init__


def _service_with_tasks_running(self, *args, **kwargs):
    # A new service's tasks start and become healthy, as they do in ECS once the image pulls.
    _service_init(self, *args, **kwargs)
    self.running_count = self.desired_count
    self.pending_count = 0


ecs_models.Service.__init__ = _service_with_tasks_running

# --- 18. Alarms ---------------------------------------------------------------------------------

_COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


class _Alarm:
    """AWS::CloudWatch::Alarm and AWS::CloudWatch::CompositeAlarm on moto's CloudWatch backend."""

    def __init__(self, alarm):
        self.alarm = alarm

    @classmethod
    def cloudformation_type(cls):
        return cls.TYPE

    @staticmethod
    def cloudformation_name_type():
        return "AlarmName"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        backend = cloudwatch_models.cloudwatch_backends[account_id][region_name]
        alarm = backend.put_metric_alarm(
            name=p.get("AlarmName", resource_name),
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p.get("ComparisonOperator"),
            evaluation_periods=int(p.get("EvaluationPeriods", 1)),
            period=int(p.get("Period", 60)),
            threshold=float(p["Threshold"]) if "Threshold" in p else None,
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=p.get("Dimensions", []),
            alarm_actions=p.get("AlarmActions", []),
            ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            treat_missing_data=p.get("TreatMissingData"),
            rule=p.get("AlarmRule"),
        )
        return cls(alarm)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        backend = cloudwatch_models.cloudwatch_backends[account_id][region_name]
        backend.delete_alarms([resource_name])

    def delete(self, account_id, region_name):
        backend = cloudwatch_models.cloudwatch_backends[account_id][region_name]
        backend.delete_alarms([self.alarm.name])

    @property
    def physical_resource_id(self):
        return self.alarm.name

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name):
        return self.alarm.alarm_arn


# moto finds models among CloudFormationModel's direct subclasses.
class _AlarmResource(_Alarm, CloudFormationModel):
    __module__ = "moto.cloudwatch.harness"
    TYPE = "AWS::CloudWatch::Alarm"


class _CompositeAlarmResource(_Alarm, CloudFormationModel):
    __module__ = "moto.cloudwatch.harness"
    TYPE = "AWS::CloudWatch::CompositeAlarm"


def _rule_holds(rule, backend):
    def state(match):
        alarm = backend.alarms.get(match.group(2))
        return repr(alarm is not None and alarm.state_value == match.group(1))

    expression = re.sub(r'(ALARM|OK|INSUFFICIENT_DATA)\("([^"]+)"\)', state, rule)
    expression = re.sub(r"\bAND\b", " and ", expression)
    expression = re.sub(r"\bOR\b", " or ", expression)
    expression = re.sub(r"\bNOT\b", " not ", expression)
    if not re.fullmatch(r"[\s()a-zTF]*", expression.replace("True", "").replace("False", "")):
        raise ValueError(f"alarm rule not understood: {rule}")
    return eval(expression, {"__builtins__": {}}, {})  # noqa: S307 - checked above


_update_state = cloudwatch_models.Alarm.update_state


def _update_state_and_notify(self, reason, reason_data, state_value):
    previous = self.state_value
    _update_state(self, reason, reason_data, state_value)
    if previous == state_value:
        return
    # arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME
    region, account = self.alarm_arn.split(":")[3:5]
    try:
        events_models.events_backends[account][region].put_events(
            [
                {
                    "Source": "aws.cloudwatch",
                    "DetailType": "CloudWatch Alarm State Change",
                    "Resources": [self.alarm_arn],
                    "Detail": json.dumps(
                        {
                            "alarmName": self.name,
                            "state": {"value": state_value, "reason": reason},
                            "previousState": {"value": previous},
                        }
                    ),
                    "EventBusName": "default",
                }
            ]
        )
    except Exception:  # noqa: BLE001 - delivery never fails the alarm
        pass
    backend = cloudwatch_models.cloudwatch_backends[account][region]
    for composite in list(backend.alarms.values()):
        if composite.rule and f'"{self.name}"' in composite.rule:
            holds = _rule_holds(composite.rule, backend)
            composite.update_state(
                f"rule {'true' if holds else 'false'} after {self.name} went {state_value}",
                "{}",
                "ALARM" if holds else "OK",
            )


cloudwatch_models.Alarm.update_state = _update_state_and_notify

_put_metric_data = cloudwatch_models.CloudWatchBackend.put_metric_data


def _put_metric_data_and_evaluate(self, namespace, metric_data):
    _put_metric_data(self, namespace, metric_data)
    for datum in metric_data:
        if "Value" not in datum:
            continue
        value = float(datum["Value"])
        dimensions = sorted((d["Name"], d["Value"]) for d in datum.get("Dimensions", []))
        for alarm in list(self.alarms.values()):
            if alarm.rule or alarm.namespace != namespace or alarm.metric_name != datum["MetricName"]:
                continue
            if sorted((d.name, d.value) for d in alarm.dimensions) != dimensions:
                continue
            compare = _COMPARE.get(alarm.comparison_operator)
            if compare is None or alarm.threshold is None:
                continue
            breached = compare(value, float(alarm.threshold))
            alarm.update_state(
                f"datum {value} {'breaches' if breached else 'is within'} threshold {alarm.threshold}",
                "{}",
                "ALARM" if breached else "OK",
            )


cloudwatch_models.CloudWatchBackend.put_metric_data = _put_metric_data_and_evaluate

# --- 23. Error names of AWS SDK integrations ------------------------------------------------------

from botocore.exceptions import ClientError

# The PascalCase service names Step Functions uses where capitalising the first letter is not it.
_SDK_SERVICE_NAMES = {"dynamodb": "DynamoDb", "cloudwatch": "CloudWatch", "acmpca": "AcmPca"}
_from_error = aws_sdk_task.StateTaskServiceAwsSdk._from_error


def _sdk_error_name(service, code):
    service = _SDK_SERVICE_NAMES.get(service.lower(), service[:1].upper() + service[1:])
    return f"{service}.{code if code.endswith('Exception') else code + 'Exception'}"


def _from_error_named_as_aws(self, env, ex):
    if not isinstance(ex, ClientError):
        return _from_error(self, env, ex)
    event = _from_error(self, env, ex)
    # In `arn:aws:states:::aws-sdk:ssm:getParameter` moto's api_name is the service, `ssm`.
    name = _sdk_error_name(self.resource.api_name, ex.response["Error"]["Code"])
    event.error_name = aws_sdk_task.ErrorName(error_name=name)
    details = event.event_details["taskFailedEventDetails"]
    details["error"] = name
    return event


aws_sdk_task.StateTaskServiceAwsSdk._from_error = _from_error_named_as_aws

# --- 24. GetBucketVersioning's document ---------------------------------------------------------

from moto.s3.responses import S3Response


def _get_bucket_versioning_as_s3(self):
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{status}</Status>" if status else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"{inner}</VersioningConfiguration>"
    )
    return 200, {"content-type": "application/xml"}, body


S3Response.get_bucket_versioning = _get_bucket_versioning_as_s3

# --- 25. Bucket policy conditions ----------------------------------------------------------------

from moto.iam import access_control, policy_conditions


def _bool_condition(expected, actual):
    values = expected if isinstance(expected, list) else [expected]
    return str(actual).lower() in [str(v).lower() for v in values]


policy_conditions.CONDITION_OPERATIONS["Bool"] = _bool_condition

_statement_permitted = access_control.IAMPolicyStatement.is_action_permitted


def _statement_applies_when_its_condition_holds(
    self, action, resource="*", principal=None, incoming_condition_values=None
):
    if self._statement.get("Condition") and not self._check_conditions(
        incoming_condition_values
    ):
        return access_control.PermissionResult.NEUTRAL
    return _statement_permitted(self, action, resource, principal, incoming_condition_values)


access_control.IAMPolicyStatement.is_action_permitted = _statement_applies_when_its_condition_holds


def _bucket_permission_over_tls(self, action, resource):
    if self.policy is None:
        return access_control.PermissionResult.NEUTRAL
    return access_control.IAMPolicy(self.policy.decode()).is_action_permitted(
        action, resource, incoming_condition_values={"aws:SecureTransport": "true"}
    )


s3_models.FakeBucket.get_permission = _bucket_permission_over_tls

# --- 26. Deletion as AWS refuses it ---------------------------------------------------------------

import hashlib
from urllib.parse import unquote

from moto.backup import models as backup_models
from moto.backup import urls as backup_urls
from moto.backup.responses import BackupResponse
from moto.backup.exceptions import InvalidRequestException, ResourceNotFoundException
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import EmptyResult
from moto.route53.exceptions import HostedZoneNotEmpty


def _reason(e):
    for attr in ("message", "description"):
        value = getattr(e, attr, None)
        if isinstance(value, str) and value:
            return value
    return str(e) or type(e).__name__


def _resource_event(stack, logical, resource_type, physical, status, reason):
    stack.events.append(
        models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical,
            physical_resource_id=physical,
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _delete_stack_resources(self):
    """Deletes what can be deleted, in as many passes as dependencies need; the stack ends in
    DELETE_COMPLETE, or in DELETE_FAILED with the resources left and their reasons."""
    self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    resources = self.resource_map
    # The stack's own copy: resources leave it as they are deleted; the template keeps them.
    resources._resource_json_map = dict(resources._resource_json_map)
    retained = getattr(self, "retain_resources", set())
    remaining = {
        key
        for key, value in resources._resource_json_map.items()
        if value.get("DeletionPolicy") != "Retain"
        and key not in retained
        and key in resources._parsed_resources
    }
    failures = {}
    progress = True
    while remaining and progress:
        progress = False
        for logical in sorted(remaining):
            parsed = resources._parsed_resources.get(logical)
            if parsed is None or isinstance(parsed, str):
                remaining.discard(logical)
                progress = True
                continue
            try:
                resources._delete_resource(parsed, resources._resource_json_map[logical])
            except Exception as e:  # noqa: BLE001
                failures[logical] = e
            else:
                # Gone from the stack: moto's resource map would create it again when read.
                resources._parsed_resources.pop(logical, None)
                resources._resource_json_map.pop(logical, None)
                remaining.discard(logical)
                failures.pop(logical, None)
                progress = True
    for logical in retained:
        resources._parsed_resources.pop(logical, None)
        resources._resource_json_map.pop(logical, None)
    if remaining:
        for logical in sorted(remaining):
            parsed = resources._parsed_resources.get(logical)
            _resource_event(
                self,
                logical,
                resources._resource_json_map[logical]["Type"],
                getattr(parsed, "physical_resource_id", "") or "",
                "DELETE_FAILED",
                _reason(failures.get(logical, Exception("a resource it depends on failed"))),
            )
        self._add_stack_event(
            "DELETE_FAILED",
            resource_status_reason="The following resource(s) failed to delete: ["
            + ", ".join(sorted(remaining))
            + "]. ",
        )
        self.status = "DELETE_FAILED"
        return False
    self._add_stack_event("DELETE_COMPLETE")
    self.status = "DELETE_COMPLETE"
    return True


models.Stack.delete = _delete_stack_resources


def _delete_stack_unless_it_fails(self, name_or_stack_id, retain_resources=None):
    stack = self.stacks.get(name_or_stack_id) or next(
        (s for s in self.stacks.values() if s.name == name_or_stack_id), None
    )
    if stack is None:
        return
    if retain_resources and stack.status != "DELETE_FAILED":
        raise ValidationError(
            stack.name,
            message=f"Invalid operation on stack [{stack.stack_id}]. RetainResources can only "
            "be specified when the stack is in the DELETE_FAILED state",
        )
    stack.retain_resources = set(retain_resources or [])
    if stack.delete():
        self.stacks.pop(stack.stack_id, None)
        self.deleted_stacks[stack.stack_id] = stack
        for export in stack.exports:
            self.exports.pop(export.name, None)


models.CloudFormationBackend.delete_stack = _delete_stack_unless_it_fails


def _delete_stack_response(self):
    retain = self._get_param("RetainResources", [])
    self.cloudformation_backend.delete_stack(self._get_param("StackName"), retain)
    return EmptyResult()


CloudFormationResponse.delete_stack = _delete_stack_response


# Certificate validation records, which CloudFormation writes and never removes.


def _validation_record(arn, domain):
    digest = hashlib.md5(f"{arn}|{domain}".encode()).hexdigest()
    name = f"_{hashlib.md5(domain.encode()).hexdigest()}.{domain.rstrip('.')}."
    value = f"_{digest}.{digest[:10]}.acm-validations.aws."
    return name, value


_create_certificate = _CertificateResource.create_from_cloudformation_json.__func__


def _create_certificate_with_validation_records(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    certificate = _create_certificate(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
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
    return certificate


_CertificateResource.create_from_cloudformation_json = classmethod(
    _create_certificate_with_validation_records
)


def _delete_zone(self, account_id, region):
    backend = route53_models.route53_backends[account_id][get_partition(region)]
    if self.resource_id in backend.zones:
        backend.delete_hosted_zone(self.resource_id)


route53_models.FakeZone.delete = _delete_zone


# Backup vaults and their recovery points.

backup_models.Vault.recovery_points = None


def _points(vault):
    if vault.recovery_points is None:
        vault.recovery_points = {}
    return vault.recovery_points


def _vault(backend, name):
    vault = backend.vaults.get(name)
    if vault is None:
        raise ResourceNotFoundException(msg=f"Backup vault {name} not found")
    return vault


class _BackupVaultResource(CloudFormationModel):
    """AWS::Backup::BackupVault on moto's Backup backend."""

    __module__ = "moto.backup.harness"

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
    return json.dumps({"RecoveryPoints": list(_points(vault).values())})


def _delete_recovery_point(self):
    rest = self.path.split("/backup-vaults/")[1]
    name, arn = rest.split("/recovery-points/", 1)
    name, arn = unquote(name), unquote(arn)
    vault = _vault(self.backup_backend, name)
    point = _points(vault).get(arn)
    if point is None:
        raise ResourceNotFoundException(msg=f"Recovery point {arn} not found")
    age_days = (_time.time() - point["CreationDate"]) / 86400
    if vault.locked and age_days < (vault.min_retention_days or 0):
        raise InvalidRequestException(
            msg=f"Recovery point {arn} cannot be deleted: backup vault {name} is locked with a "
            f"minimum retention of {vault.min_retention_days} days"
        )
    del _points(vault)[arn]
    vault.num_of_recovery_points = len(_points(vault))
    return "{}"


BackupResponse.start_backup_job = _start_backup_job
BackupResponse.list_recovery_points_by_backup_vault = _list_recovery_points
BackupResponse.delete_recovery_point = _delete_recovery_point
backup_urls.url_paths.update(
    {
        "{0}/backup-jobs$": backup_urls.response.dispatch,
        "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points$": backup_urls.response.dispatch,
        "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$": backup_urls.response.dispatch,
        "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/(?P<arn>.+)$": backup_urls.response.dispatch,
    }
)


# The writer of a global database with other members cannot be deleted.

_delete_cluster_member = _DbClusterResource.delete_from_cloudformation_json.__func__


def _delete_cluster_unless_writer(cls, resource_name, cloudformation_json, account_id, region_name):
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
    return _delete_cluster_member(cls, resource_name, cloudformation_json, account_id, region_name)


_DbClusterResource.delete_from_cloudformation_json = classmethod(_delete_cluster_unless_writer)

# --- 27. Service updates and auto scaling -----------------------------------------------------------

from moto.applicationautoscaling import models as aas_models
from moto.ecs.models import ecs_backends as _ecs_backends

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)

StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES["applicationautoscaling"] = (
    "application-autoscaling"
)

_register = aas_models.ApplicationAutoscalingBackend.register_scalable_target


def _register_and_bring_into_range(self, namespace, r_id, dimension, min_capacity, max_capacity, *args, **kwargs):
    target = _register(self, namespace, r_id, dimension, min_capacity, max_capacity, *args, **kwargs)
    if namespace == "ecs" and dimension == "ecs:service:DesiredCount":
        _, cluster, name = r_id.split("/")
        backend = _ecs_backends[self.account_id][self.region_name]
        service = backend._get_service(cluster, name)
        low = target.min_capacity if target.min_capacity is not None else service.desired_count
        high = target.max_capacity if target.max_capacity is not None else service.desired_count
        wanted = min(max(service.desired_count, low), high)
        if wanted != service.desired_count:
            backend.update_service({"cluster": cluster, "service": name, "desired_count": wanted})
    return target


aas_models.ApplicationAutoscalingBackend.register_scalable_target = _register_and_bring_into_range


class _ScalableTargetResource(CloudFormationModel):
    """AWS::ApplicationAutoScaling::ScalableTarget on moto's Application Auto Scaling backend."""

    __module__ = "moto.applicationautoscaling.harness"

    def __init__(self, target):
        self.target = target

    @staticmethod
    def cloudformation_type():
        return "AWS::ApplicationAutoScaling::ScalableTarget"

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def _register(cloudformation_json, account_id, region_name):
        p = cloudformation_json["Properties"]
        backend = aas_models.applicationautoscaling_backends[account_id][region_name]
        return backend.register_scalable_target(
            p["ServiceNamespace"],
            p["ResourceId"],
            p["ScalableDimension"],
            int(p["MinCapacity"]),
            int(p["MaxCapacity"]),
            p.get("RoleARN"),
            None,
        )

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        return cls(cls._register(cloudformation_json, account_id, region_name))

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return cls(cls._register(cloudformation_json, account_id, region_name))

    def delete(self, account_id, region_name):
        backend = aas_models.applicationautoscaling_backends[account_id][region_name]
        t = self.target
        try:
            backend.deregister_scalable_target(t.service_namespace, t.resource_id, t.scalable_dimension)
        except Exception:  # noqa: BLE001 - already gone with its service
            pass

    @property
    def physical_resource_id(self):
        t = self.target
        return f"{t.resource_id}|{t.scalable_dimension}|{t.service_namespace}"


from moto.ecs.models import TaskDefinition as _TaskDefinition
from moto.core.utils import pascal_to_camelcase as _camel
from moto.core.utils import remap_nested_keys as _remap

_update_task_definition = _TaskDefinition.update_from_cloudformation_json.__func__


def _update_task_definition_in_api_case(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    properties = dict(cloudformation_json["Properties"])
    properties["ContainerDefinitions"] = _remap(properties.get("ContainerDefinitions", []), _camel)
    if properties.get("Volumes") is not None:
        properties["Volumes"] = _remap(properties["Volumes"], _camel)
    return _update_task_definition(
        cls,
        original_resource,
        new_resource_name,
        {**cloudformation_json, "Properties": properties},
        account_id,
        region_name,
    )


_TaskDefinition.update_from_cloudformation_json = classmethod(_update_task_definition_in_api_case)

_apply_before_service_updates = models.ChangeSet.apply


def _apply_with_service_updates(self):
    _apply_before_service_updates(self)
    resources = self.stack.resource_map
    for logical, resource_json in list(resources._resource_json_map.items()):
        if resource_json.get("Type") != "AWS::ECS::Service":
            continue
        service = resources._parsed_resources.get(logical)
        if service is None or isinstance(service, str):
            continue
        properties = parsing.clean_json(resource_json.get("Properties", {}), resources)
        definition = properties.get("TaskDefinition")
        arn = getattr(definition, "arn", definition)
        if arn == service.task_definition:
            continue
        count = properties.get("DesiredCount")
        backend = _ecs_backends[self.stack.account_id][self.stack.region_name]
        backend.update_service(
            {
                "cluster": service.cluster_name,
                "service": service.name,
                "task_definition": arn,
                "desired_count": int(count) if count is not None else None,
            }
        )


models.ChangeSet.apply = _apply_with_service_updates

# --- 28. Global tables ----------------------------------------------------------------------------

from moto.dynamodb.models import dynamodb_backends as _ddb_backends
from moto.dynamodb.models.table import Table as _DdbTable

# Every replica's table holds the same list: the regions the global table spans.
_DdbTable.global_regions = None


class _GlobalTableResource(CloudFormationModel):
    """AWS::DynamoDB::GlobalTable as a table in every region of its Replicas."""

    __module__ = "moto.dynamodb.harness"

    def __init__(self, name, account_id, region_name, regions):
        self.name = name
        self.account_id = account_id
        self.region_name = region_name
        self.regions = regions

    @staticmethod
    def cloudformation_type():
        return "AWS::DynamoDB::GlobalTable"

    @staticmethod
    def cloudformation_name_type():
        return "TableName"

    @staticmethod
    def _replica_regions(properties, region_name):
        regions = [r["Region"] for r in properties.get("Replicas", []) if r.get("Region")]
        return regions or [region_name]

    @classmethod
    def _ensure(cls, name, properties, account_id, regions):
        shared = None
        for region in regions:
            backend = _ddb_backends[account_id][region]
            table = backend.tables.get(name)
            if table is None:
                table = backend.create_table(
                    name=name,
                    schema=properties["KeySchema"],
                    throughput=None,
                    attr=properties["AttributeDefinitions"],
                    global_indexes=properties.get("GlobalSecondaryIndexes", []),
                    indexes=properties.get("LocalSecondaryIndexes", []),
                    streams=properties.get("StreamSpecification"),
                    billing_mode="PAY_PER_REQUEST",
                    sse_specification=None,
                    tags=[],
                    deletion_protection_enabled=False,
                    warm_throughput=None,
                )
            if shared is None:
                shared = table.global_regions if table.global_regions is not None else []
            table.global_regions = shared
        shared[:] = list(regions)

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        name = p.get("TableName", resource_name)
        regions = cls._replica_regions(p, region_name)
        cls._ensure(name, p, account_id, regions)
        return cls(name, account_id, region_name, regions)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        p = cloudformation_json["Properties"]
        regions = cls._replica_regions(p, region_name)
        for gone in set(original_resource.regions) - set(regions):
            _ddb_backends[account_id][gone].tables.pop(original_resource.name, None)
        cls._ensure(original_resource.name, p, account_id, regions)
        original_resource.regions = regions
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        regions = cls._replica_regions(cloudformation_json.get("Properties", {}), region_name)
        for region in regions:
            _ddb_backends[account_id][region].tables.pop(resource_name, None)

    def delete(self, account_id, region_name):
        for region in self.regions:
            _ddb_backends[account_id][region].tables.pop(self.name, None)

    @property
    def physical_resource_id(self):
        return self.name

    def _table(self):
        return _ddb_backends[self.account_id][self.region_name].tables[self.name]

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("Arn", "StreamArn", "TableId")

    def get_cfn_attribute(self, attribute_name):
        table = self._table()
        if attribute_name == "Arn":
            return table.table_arn
        if attribute_name == "StreamArn":
            return f"{table.table_arn}/stream/{table.latest_stream_label}"
        return table.table_arn.split("/")[-1]


_describe_table = _DdbTable.describe


def _describe_with_replicas(self, base_key="TableDescription"):
    result = _describe_table(self, base_key)
    if self.global_regions is not None:
        result[base_key]["Replicas"] = [
            {"RegionName": region, "ReplicaStatus": "ACTIVE"}
            for region in self.global_regions
            if region != self.region_name
            and self.name in _ddb_backends[self.account_id][region].tables
        ]
    return result


_DdbTable.describe = _describe_with_replicas

# --- 29. Backup copy jobs ---------------------------------------------------------------------------


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


BackupResponse.start_copy_job = _start_copy_job
backup_urls.url_paths.update({"{0}/copy-jobs$": backup_urls.response.dispatch})

# --- 30. Conditions that change on an update ------------------------------------------------------

_resource_map_update = parsing.ResourceMap.update


def _update_with_conditions(self, template, parameters=None):
    # As for the change set's listing (item 4), the update compares with the values the stack
    # runs with, defaults included: a parameter left at its default and then passed with
    # UsePreviousValue has not changed, and what refers to it is not updated.
    self.input_parameters = dict(self.resolved_parameters)
    _resource_map_update(self, template, parameters)
    pending = []
    for logical, resource_json in self._resource_json_map.items():
        condition = resource_json.get("Condition")
        if not condition:
            continue
        holds = self.lazy_condition_map[condition]
        exists = logical in self._parsed_resources
        if holds and not exists:
            pending.append(logical)
        elif not holds and exists:
            resource = self._parsed_resources.pop(logical)
            self._delete_resource(resource, resource_json)
    for _ in range(len(pending) + 1):
        if not pending:
            break
        failed = []
        for logical in pending:
            try:
                _ = self[logical]
            except Exception:  # noqa: BLE001 - what it refers to comes later in this pass
                failed.append(logical)
        pending = failed
    for logical in pending:
        _ = self[logical]


parsing.ResourceMap.update = _update_with_conditions

# --- 31. CloudWatch's CBOR protocol ---------------------------------------------------------------

import datetime as _datetime

import cbor2
from moto.cloudwatch import urls as cloudwatch_urls


def _cbor_alarm(alarm):
    when = alarm.state_updated_timestamp
    if alarm.rule:
        return {
            "AlarmName": alarm.name,
            "AlarmArn": alarm.alarm_arn,
            "AlarmRule": alarm.rule,
            "StateValue": alarm.state_value,
            "StateUpdatedTimestamp": when,
        }
    return {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.alarm_arn,
        "Namespace": alarm.namespace,
        "MetricName": alarm.metric_name,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
        "Threshold": alarm.threshold,
        "ComparisonOperator": alarm.comparison_operator,
        "StateValue": alarm.state_value,
        "StateUpdatedTimestamp": when,
    }


def _cbor_describe_alarms(backend, params):
    if params.get("AlarmNames"):
        alarms = backend.get_alarms_by_alarm_names(params["AlarmNames"])
    elif params.get("AlarmNamePrefix"):
        alarms = backend.get_alarms_by_alarm_name_prefix(params["AlarmNamePrefix"])
    else:
        alarms = backend.describe_alarms()
    alarms = list(alarms)
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    return {
        "MetricAlarms": [
            _cbor_alarm(a) for a in alarms if not a.rule and "MetricAlarm" in types
        ],
        "CompositeAlarms": [
            _cbor_alarm(a) for a in alarms if a.rule and "CompositeAlarm" in types
        ],
    }


def _utc(value):
    if isinstance(value, _datetime.datetime):
        return value.astimezone(_datetime.timezone.utc).replace(tzinfo=None)
    return _datetime.datetime.utcfromtimestamp(float(value))


def _cbor_get_metric_statistics(backend, params):
    points = backend.get_metric_statistics(
        params["Namespace"],
        params["MetricName"],
        _utc(params["StartTime"]),
        _utc(params["EndTime"]),
        int(params["Period"]),
        params.get("Statistics", []),
        dimensions=params.get("Dimensions", []),
        unit=params.get("Unit"),
    )
    datapoints = []
    for p in points:
        d = {"Timestamp": p.timestamp.replace(tzinfo=_datetime.timezone.utc)}
        for stat in p.stats:
            value = p.get_statistics_for_type(stat)
            if value is not None:
                d[stat] = float(value)
        datapoints.append(d)
    return {"Label": params["MetricName"], "Datapoints": datapoints}


_CBOR_OPERATIONS = {
    "DescribeAlarms": _cbor_describe_alarms,
    "GetMetricStatistics": _cbor_get_metric_statistics,
}


def _cbor_dispatch(request, full_url, headers):
    operation = full_url.split("/operation/", 1)[1].split("?")[0]
    # Credential=KEY/DATE/REGION/monitoring/aws4_request
    scope = request.headers.get("Authorization", "").split("Credential=", 1)[-1].split("/")
    region = scope[2] if len(scope) > 2 else "us-east-1"
    body = request.get_data()
    params = cbor2.loads(body) if body else {}
    reply = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
    handler = _CBOR_OPERATIONS.get(operation)
    if handler is None:
        error = {"__type": "UnknownOperationException", "message": f"{operation} is not modelled"}
        return 400, reply, cbor2.dumps(error)
    if region in _faults().get("unreachable", []):
        _time.sleep(30)
        return 503, reply, cbor2.dumps({"__type": "ServiceUnavailable", "message": "unreachable"})
    fault = _injected_error(operation)
    if fault is not None:
        return 400, reply, cbor2.dumps({"__type": fault[0], "message": fault[1]})
    backend = cloudwatch_models.cloudwatch_backends[default_account()][region]
    try:
        result = handler(backend, params)
    except ServiceException as e:
        return 400, reply, cbor2.dumps({"__type": e.code, "message": e.message})
    return 200, reply, cbor2.dumps(result, datetime_as_timestamp=True, timezone=_datetime.timezone.utc)


def default_account():
    from moto.core import DEFAULT_ACCOUNT_ID

    return DEFAULT_ACCOUNT_ID


cloudwatch_urls.url_paths[
    "{0}/service/GraniteServiceVersion20100801/operation/(?P<operation>[^/]+)$"
] = _cbor_dispatch

# --- 32. Trails through CloudFormation ------------------------------------------------------------

from moto.cloudtrail import models as cloudtrail_models


class _TrailResource(CloudFormationModel):
    """AWS::CloudTrail::Trail on moto's CloudTrail backend."""

    __module__ = "moto.cloudtrail.harness"

    def __init__(self, trail, region_name):
        self.trail = trail
        self.region_name = region_name

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudTrail::Trail"

    @staticmethod
    def cloudformation_name_type():
        return "TrailName"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        p = cloudformation_json["Properties"]
        backend = cloudtrail_models.cloudtrail_backends[account_id][region_name]
        flag = lambda key: str(p.get(key, False)).lower() == "true"  # noqa: E731
        trail = backend.create_trail(
            p.get("TrailName", resource_name),
            p["S3BucketName"],
            p.get("S3KeyPrefix"),
            p.get("SnsTopicName"),
            flag("IncludeGlobalServiceEvents"),
            flag("IsMultiRegionTrail"),
            flag("EnableLogFileValidation"),
            flag("IsOrganizationTrail"),
            p.get("CloudWatchLogsLogGroupArn"),
            p.get("CloudWatchLogsRoleArn"),
            p.get("KMSKeyId"),
            [],
        )
        if flag("IsLogging"):
            backend.start_logging(trail.trail_name)
        return cls(trail, region_name)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name
    ):
        cloudtrail_models.cloudtrail_backends[account_id][region_name].delete_trail(resource_name)

    def delete(self, account_id, region_name):
        cloudtrail_models.cloudtrail_backends[account_id][region_name].delete_trail(
            self.trail.trail_name
        )

    @property
    def physical_resource_id(self):
        return self.trail.trail_name

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("Arn", "SnsTopicArn")

    def get_cfn_attribute(self, attribute_name):
        return self.trail.arn

# --- 33. Web ACLs through CloudFormation ---------------------------------------------------------

from moto.wafv2 import models as wafv2_models
from moto.wafv2.exceptions import WAFv2ClientError, WAFNonexistentItemException
from moto.logs.models import logs_backends


class _Harnessed:
    """What the harness's models of items 33 and 34 share: an update makes the resource again
    from its new properties, and deletion goes through the instance's `delete` (moto calls both)."""

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        pass


class _WafError(WAFv2ClientError):
    def __init__(self, code, message):
        super().__init__(code, message)


def _waf(account_id, region_name):
    return wafv2_models.wafv2_backends[account_id][region_name]


class _WebAclResource(_Harnessed, CloudFormationModel):
    """AWS::WAFv2::WebACL on moto's WAFv2 backend."""

    __module__ = "moto.wafv2.harness"

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


class _WebAclAssociationResource(_Harnessed, CloudFormationModel):
    """AWS::WAFv2::WebACLAssociation: the load balancer must exist in the region."""

    __module__ = "moto.wafv2.harness"

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


class _WafLoggingResource(_Harnessed, CloudFormationModel):
    """AWS::WAFv2::LoggingConfiguration: to an existing `aws-waf-logs-` log group."""

    __module__ = "moto.wafv2.harness"

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


# --- 34. Secrets, transforms and rotation ------------------------------------------------------------

import random as _random
import string as _string

from moto.cloudformation import responses as cfn_responses
from moto.secretsmanager.models import secretsmanager_backends
from moto.rds.models import rds_backends


class _InsufficientCapabilities(ValidationError):
    code = "InsufficientCapabilitiesException"


_cfn_create_change_set = cfn_responses.CloudFormationResponse.create_change_set


def _create_change_set_acknowledged(self):
    body = self._get_param("TemplateBody")
    url = self._get_param("TemplateURL")
    if url:
        body = self._get_stack_from_s3_url(url)
    elif self._get_bool_param("UsePreviousTemplate", False):
        body = self.cloudformation_backend.get_stack(self._get_param("StackName")).template
    try:
        template = json.loads(body) if body else {}
    except ValueError:
        template = {}
    transforms = template.get("Transform") or []
    transforms = [transforms] if isinstance(transforms, str) else transforms
    capabilities = self._get_param("Capabilities", []) or []
    if transforms and "CAPABILITY_AUTO_EXPAND" not in capabilities:
        raise _InsufficientCapabilities(
            message="Requires capabilities : [CAPABILITY_AUTO_EXPAND]"
        )
    hosted = [
        logical
        for logical, r in (template.get("Resources") or {}).items()
        if r.get("Type") == "AWS::SecretsManager::RotationSchedule"
        and "HostedRotationLambda" in (r.get("Properties") or {})
    ]
    if hosted and not any(t.startswith("AWS::SecretsManager-") for t in transforms):
        raise ValidationError(
            message=f"Template format error: {hosted[0]}: HostedRotationLambda needs the AWS::SecretsManager transform declared at the template's top level"
        )
    return _cfn_create_change_set(self)


cfn_responses.CloudFormationResponse.create_change_set = _create_change_set_acknowledged


def _secrets(account_id, region_name):
    return secretsmanager_backends[account_id][region_name]


def _generate(spec):
    excluded = set(spec.get("ExcludeCharacters", ""))
    alphabet = [c for c in _string.ascii_letters + _string.digits + _string.punctuation if c not in excluded]
    length = int(spec.get("PasswordLength", 32))
    return "".join(_random.SystemRandom().choice(alphabet) for _ in range(length))


class _SecretResource(_Harnessed, CloudFormationModel):
    """AWS::SecretsManager::Secret on moto's backend, with its replicas."""

    __module__ = "moto.secretsmanager.harness"

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


class _SecretAttachmentResource(_Harnessed, CloudFormationModel):
    """AWS::SecretsManager::SecretTargetAttachment: the cluster's connection in the secret."""

    __module__ = "moto.secretsmanager.harness"

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


class _RotationScheduleResource(_Harnessed, CloudFormationModel):
    """AWS::SecretsManager::RotationSchedule: rotation on, every N days, by the hosted function."""

    __module__ = "moto.secretsmanager.harness"

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


if __name__ == "__main__":
    main(sys.argv[1:])
