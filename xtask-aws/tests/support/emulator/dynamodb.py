"""DynamoDB: global tables.

28. Global tables. moto 5.2 has no AWS::DynamoDB::GlobalTable (it was a stand-in, item 11), so
    the sessions table existed nowhere and nothing could read its replicas. Here, as DynamoDB
    global tables (version 2019.11.21) behave: the table is created in every region its
    `Replicas` names (on update, new replicas are added and removed ones deleted), DescribeTable
    in one region lists the other regions' replicas (`Replicas`: RegionName, ReplicaStatus
    ACTIVE), and deleting the table in one region with DeleteTable removes that replica from the
    others' lists.
"""

from moto.dynamodb.models import dynamodb_backends as _ddb_backends
from moto.dynamodb.models.table import Table as _DdbTable

from .patch import original, patch, register


class _GlobalTableResource:
    """AWS::DynamoDB::GlobalTable as a table in every region of its Replicas."""

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


def _describe_with_replicas(self, base_key="TableDescription"):
    result = original(_DdbTable, "describe")(self, base_key)
    if self.global_regions is not None:
        result[base_key]["Replicas"] = [
            {"RegionName": region, "ReplicaStatus": "ACTIVE"}
            for region in self.global_regions
            if region != self.region_name
            and self.name in _ddb_backends[self.account_id][region].tables
        ]
    return result


def install():
    # Every replica's table holds the same list: the regions the global table spans.
    patch(_DdbTable, "global_regions", None)
    register(_GlobalTableResource, "moto.dynamodb.harness")
    patch(_DdbTable, "describe", _describe_with_replicas)
