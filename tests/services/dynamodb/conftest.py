"""DynamoDB fixtures: boto3 client/resource for the shared server, and a
factory that creates uniquely named tables (deleted at the end of the test)."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config

REGION = "us-east-1"


def resource_for(url: str, access_key: str = "test"):
    return boto3.resource("dynamodb", endpoint_url=url, region_name=REGION, aws_access_key_id=access_key,
                          aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}))


@pytest.fixture
def ddb(client_factory):
    return client_factory("dynamodb")


@pytest.fixture
def ddb_raw(server):
    """A client that sends what it is given (no client-side parameter validation)."""
    return boto3.client("dynamodb", endpoint_url=server.url, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 0}, parameter_validation=False))


@pytest.fixture
def ddbr(server):
    return resource_for(server.url)


def hash_range(hash_type="S", range_type="S", **kw):
    spec = {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": hash_type}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if range_type:
        spec["KeySchema"].append({"AttributeName": "sk", "KeyType": "RANGE"})
        spec["AttributeDefinitions"].append({"AttributeName": "sk", "AttributeType": range_type})
    spec.update(kw)
    return spec


@pytest.fixture
def make_table(ddb):
    created = []

    def make(hash_type="S", range_type="S", name=None, **kw):
        name = name or f"t-{uuid.uuid4().hex[:10]}"
        ddb.create_table(TableName=name, **hash_range(hash_type, range_type, **kw))
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
        created.append(name)
        return name

    yield make
    for name in created:
        try:
            ddb.delete_table(TableName=name)
        except Exception:  # noqa: BLE001 — already deleted by the test
            pass


def error_of(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]
