"""Changes and reads SSM parameters in the emulator for the replication test, as JSON.

Usage:
  python ssm_fixture.py ENDPOINT REGION put NAME VALUE
  python ssm_fixture.py ENDPOINT REGION delete NAME
  python ssm_fixture.py ENDPOINT REGION get NAME      {"value": "..."} or {"value": null}
"""

import json
import sys

import boto3

endpoint, region, command, name = sys.argv[1:5]
ssm = boto3.client(
    "ssm",
    endpoint_url=endpoint,
    region_name=region,
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)

if command == "put":
    ssm.put_parameter(Name=name, Value=sys.argv[5], Type="String", Overwrite=True)
elif command == "delete":
    ssm.delete_parameter(Name=name)

try:
    value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
except ssm.exceptions.ParameterNotFound:
    value = None
print(json.dumps({"value": value}))
