"""DynamoDB answers pinned against what real AWS returns (sources in the
commit messages): each test also reads back that a refused request changed
nothing."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.services.dynamodb.conftest import error_of

NOT_FOUND = ("ResourceNotFoundException", "Requested resource not found")


def _wait_active(ddb, name, index=None):
    for _ in range(200):
        table = ddb.describe_table(TableName=name)["Table"]
        indexes = {ix["IndexName"]: ix for ix in table.get("GlobalSecondaryIndexes", [])}
        if table["TableStatus"] == "ACTIVE" and (index is None or indexes[index]["IndexStatus"] == "ACTIVE"):
            return table
        time.sleep(0.05)
    raise AssertionError("table did not become ACTIVE")


@pytest.mark.parametrize("op, kw", [
    ("get_item", dict(Key={"pk": {"S": "a"}})),
    ("put_item", dict(Item={"pk": {"S": "a"}})),
    ("delete_item", dict(Key={"pk": {"S": "a"}})),
    ("update_item", dict(Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                         ExpressionAttributeValues={":v": {"N": "1"}})),
    ("query", dict(KeyConditionExpression="pk = :v", ExpressionAttributeValues={":v": {"S": "a"}})),
    ("scan", {}),
])
def test_item_operations_on_a_missing_table(ddb, op, kw):
    with pytest.raises(ClientError) as e:
        getattr(ddb, op)(TableName=f"no-such-{uuid.uuid4().hex[:8]}", **kw)
    assert error_of(e) == NOT_FOUND
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_create_table_same_attribute_for_hash_and_range(ddb):
    name = f"t-{uuid.uuid4().hex[:10]}"
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "pk", "KeyType": "RANGE"}])
    assert error_of(e) == ("ValidationException", "Invalid KeySchema: Some index key attribute have no definition")
    assert name not in ddb.list_tables()["TableNames"]
