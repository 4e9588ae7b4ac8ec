"""Makes and reads S3 buckets in the emulator for the deploy tests, as JSON on stdout.

Usage:
  python s3_fixture.py ENDPOINT create BUCKET   versioned bucket: two versions of a.txt, then a
                                                delete marker on it, and one version of b.txt
  python s3_fixture.py ENDPOINT fill BUCKET     the same objects in an existing versioned bucket
  python s3_fixture.py ENDPOINT list BUCKET     {"versions": [...], "markers": [...]}
  python s3_fixture.py ENDPOINT replication BUCKET   the bucket's replication configuration
  python s3_fixture.py ENDPOINT describe BUCKET  what the bucket guarantees: location, ownership,
                                                versioning, encryption, public access block,
                                                policy, lifecycle rules (null when not set)
  python s3_fixture.py ENDPOINT tamper BUCKET    suspends versioning and deletes the policy, as a
                                                hand-made change would, then describes it
"""

import json
import sys

import boto3

endpoint, command, bucket = sys.argv[1:4]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)

if command == "replication":
    try:
        config = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    except s3.exceptions.ClientError as e:
        config = {"error": e.response["Error"]["Code"]}
    print(json.dumps(config, default=str))
    sys.exit(0)

def read(call, key):
    try:
        return call(Bucket=bucket)[key]
    except s3.exceptions.ClientError as e:
        return None if "NoSuch" in e.response["Error"]["Code"] or "NotFound" in e.response[
            "Error"
        ]["Code"] else {"error": e.response["Error"]["Code"]}


if command == "tamper":
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_bucket_policy(Bucket=bucket)
    command = "describe"

if command == "describe":
    policy = read(s3.get_bucket_policy, "Policy")
    print(
        json.dumps(
            {
                "location": s3.get_bucket_location(Bucket=bucket).get("LocationConstraint"),
                "ownership": read(s3.get_bucket_ownership_controls, "OwnershipControls"),
                "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
                "encryption": read(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration"),
                "public_access_block": read(
                    s3.get_public_access_block, "PublicAccessBlockConfiguration"
                ),
                "policy": json.loads(policy) if isinstance(policy, str) else policy,
                "lifecycle": read(s3.get_bucket_lifecycle_configuration, "Rules"),
            },
            default=str,
        )
    )
    sys.exit(0)

if command == "create":
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
if command in ("create", "fill"):
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"one")
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"two")
    s3.delete_object(Bucket=bucket, Key="a.txt")
    s3.put_object(Bucket=bucket, Key="b.txt", Body=b"three")

listing = s3.list_object_versions(Bucket=bucket)
print(
    json.dumps(
        {
            "versions": [v["Key"] for v in listing.get("Versions", [])],
            "markers": [m["Key"] for m in listing.get("DeleteMarkers", [])],
        }
    )
)
