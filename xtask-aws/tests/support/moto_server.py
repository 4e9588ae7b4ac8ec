"""moto's server for the deploy tests, with the fixes that live in this repository.

The fixes (and models of AWS behaviour moto 5.2.5 lacks) are the package `emulator/` beside this
file, one module per service. Each is an item with a number, cited elsewhere as "the emulator's
item N"; a module opens with the full text of its items. Where each item is:

     1 Stack outputs after a change set            cloudformation.py
     2 KMS key tags                                kms.py
     3 Inter-region peering                        ec2.py
     4 Change sets that only change parameters     cloudformation.py
     5 Route tables on stack deletion              ec2.py
     6 Bucket versioning and replication           s3.py
     7 Aurora through CloudFormation               rds.py
     8 Parameter tags                              ssm.py
     9 Configuration replication, end to end       events.py (and ssm.py, stepfunctions.py)
    10 Certificates                                acm.py
    11 Stand-ins for types moto does not create    cloudformation.py
    12 Attributes moto leaves out                  elbv2.py (and route53.py)
    13 An event bus's Ref                          events.py
    14 An archive's event pattern                  events.py
    15 Failover records                            route53.py
    16 Fault injection (change sets, busy stacks)  cloudformation.py
    17 The global database's failover, switchover  rds.py
    18 Alarms                                      cloudwatch.py
    19 The emulator's clock                        clock.py
    20 Faults for the runbooks                     faults.py (and ecs.py, rds.py)
    21 Step Functions' AWS SDK integrations        stepfunctions.py
    22 JSONPath results                            stepfunctions.py
    23 Error names of AWS SDK integrations         stepfunctions.py
    24 GetBucketVersioning's document              s3.py
    25 Bucket policy conditions                    s3.py
    26 Deletion as AWS refuses it                  cloudformation.py (and acm.py, route53.py,
                                                   backup.py, rds.py)
    27 Service updates and auto scaling            ecs.py (and cloudformation.py,
                                                   stepfunctions.py)
    28 Global tables                               dynamodb.py
    29 Backup copy jobs                            backup.py
    30 Conditions that change on an update         cloudformation.py
    31 CloudWatch's CBOR protocol                  cloudwatch.py
    32 Trails through CloudFormation               cloudtrail.py
    33 Web ACLs through CloudFormation             wafv2.py
    34 Secrets, transforms and rotation            secretsmanager.py (and cloudformation.py)
    35 CloudFormation's order, not the template's  order.py (applied in cloudformation.py)
    36 Execution that fails                        cloudformation.py
    37 Composite alarms and the alarms they name   cloudwatch.py
    38 Bucket policies through CloudFormation      s3.py
    39 Access logs need the bucket's permission    elbv2.py
    40 A trail needs its bucket's and key's policy cloudtrail.py
    41 The publisher's use of an encrypted topic   sns.py
    42 Late log deliveries; non-empty buckets      s3.py (and cloudformation.py)
    43 A log group's key must admit CloudWatch Logs logs.py
    44 A service's target group needs its listener ecs.py
    45 Health checks' status                       route53.py (and faults.py)
    46 Promotions take the time AWS may take       rds.py
    47 The old primary's rebuild after a failover  rds.py
    48 Error names as the Java SDK names them      stepfunctions.py (corrects 23)
    49 Recovery points deleted asynchronously      backup.py

Items 35-44 are AWS's order and preconditions: what CloudFormation and each service check while
a resource is made, updated or deleted, and what keeps happening after (late log deliveries).
Each cites the AWS page it is modelled from; each was shown to fail a test on the templates as
they were before the fix it led to (docs/decisions.md, "Meeting AWS where the emulator was
kind").

Every patch goes through `emulator/patch.py`, which refuses to patch an attribute twice.

Usage: python moto_server.py -H 127.0.0.1 -p PORT
"""

import os
import sys

# The package sits beside this file, which is run by its path.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import emulator  # noqa: E402
from moto.server import main  # noqa: E402

emulator.install()

if __name__ == "__main__":
    main(sys.argv[1:])
