"""moto 5.2.5, made to behave as AWS does where the deploy and runbook tests need it.

Each fix, or model of AWS behaviour moto lacks, is an "item" with a number (docs cite them as
"the emulator's item 26"). One module per service holds its items' patches and opens with their
full text; an item that spans services is written out where a reader would look first, and the
other modules' docstrings quote the part they hold and point to it.

    faults          20: the TRADING_DR_FAULTS reader; throttling, refused calls, unreachable regions
    cloudformation  1, 4, 11, 16, 26, 30, 36: outputs, change sets, stand-ins, fault injection
                    on change sets, busy stacks, deletion as AWS refuses it, conditions on
                    update, failed executions (and item 34's transforms and capabilities, item
                    35's order, item 42's late deliveries during a deletion)
    order           35: CloudFormation's order, not the template's
    kms             2
    ec2             3, 5: peering, route tables
    s3              6, 24, 25, 38, 42: versioning and replication, GetBucketVersioning, policy
                    conditions, bucket policies, late log deliveries and non-empty buckets
    rds             7, 17, 46, 47: global cluster and DB cluster resources, instances, failover
                    and switchover, how long they take, the old primary's rebuild after a
                    failover with data loss (and item 26's writer deletion)
    ssm             8 (and item 9's change events)
    events          9, 13, 14: rules that start state machines, a bus's Ref, an archive's pattern
    stepfunctions   21, 22, 23, 48: SDK integrations, JSONPath, error names as the Java SDK
                    names them (and item 9's execution, item 27's service name)
    acm             10 (and item 26's validation records)
    elbv2           12, 39: attributes, access logs needing the bucket's permission
    route53         15, 45: failover records, health checks' status (and item 12's
                    NameServers, item 26's zone deletion)
    cloudwatch      18, 31, 37: alarms, CBOR, composite alarms and the alarms they name
    clock           19
    backup          29, 49: copy jobs, recovery points deleted asynchronously (and item 26's
                    vaults and recovery points)
    ecs             27, 44: service updates and Application Auto Scaling, a service's target
                    group needing a load balancer (and item 20's ECS faults)
    dynamodb        28
    cloudtrail      32, 40: trails, and their bucket's and key's policies
    wafv2           33
    secretsmanager  34
    sns             41: the publisher's use of an encrypted topic's key
    logs            43: a log group's key must let CloudWatch Logs use it
    iam             the policy evaluation items 39-41 use
    patch           the helper every patch goes through: `patch`, `original`, `register`

Importing the package changes nothing; `install()` applies every module's patches, once (a
second call raises, through `patch`).
"""

from . import (
    acm,
    backup,
    clock,
    cloudformation,
    cloudtrail,
    cloudwatch,
    dynamodb,
    ec2,
    ecs,
    elbv2,
    events,
    faults,
    kms,
    rds,
    route53,
    s3,
    logs,
    secretsmanager,
    sns,
    ssm,
    stepfunctions,
    wafv2,
)

# The order install() applies the modules in: the items' order (a module's place is its first
# item's). Where order matters:
# - All of it before moto's server starts: moto reads its list of CloudFormation resource types
#   once, on first use (`register` raises if it has), and builds a service's URL map on the
#   service's first request.
# - moto keeps the last model registered for a CloudFormation type. No type registered here is
#   one of moto's own, nor registered twice, and the registrations come in the order the
#   classes were defined in before the split (items 7, 10, 18, 26, 27, 28, 32, 33, 34).
# - stepfunctions (item 22) patches extract_json in every Step Functions parser module imported
#   by then (this package imports all it touches before any install()); a module imported later
#   takes the patched function from json_path.
# Nothing else depends on it: `patch` refuses a second patch of any attribute, so no module's
# patch wraps another's, and the modules call each other only at request time (ChangeSet.apply
# in cloudformation calls ecs's service updates; cloudformation, rds, ecs and cloudwatch read
# faults; rds reads clock's scale; route53 reads faults, clock's scale and cloudwatch's
# comparison operators, and stepfunctions loads tests/tools/sfn_service_models.py's naming).
MODULES = (
    cloudformation,  # 1, 4, 11, 16, 26, 30
    kms,  # 2
    ec2,  # 3, 5
    s3,  # 6, 24, 25
    rds,  # 7, 17, 46, 47
    ssm,  # 8
    events,  # 9, 13, 14
    stepfunctions,  # 9's execution, 21, 22, 23, 48
    acm,  # 10
    elbv2,  # 12
    route53,  # 15, 45
    cloudwatch,  # 18, 31
    clock,  # 19
    faults,  # 20
    backup,  # 26's vaults, 29
    ecs,  # 27
    dynamodb,  # 28
    cloudtrail,  # 32
    wafv2,  # 33
    secretsmanager,  # 34
    sns,  # 41
    logs,  # 43
)


def install():
    """Applies every module's patches, in MODULES' order. Raises patch.AlreadyPatched when called
    a second time."""
    for module in MODULES:
        module.install()
