"""DynamoDB answers compared, case by case, with AWS's recorded ones: LocalStack's AWS-validated
snapshots (tests/aws/services/dynamodb, dynamodbstreams) and nubo-db/dynamodb-conformance (run
against AWS). Each test cites the case that shows AWS's answer."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .conftest import error_of

NEST = ("Nesting Levels have exceeded supported limits: "
        "Attributes in the item have nested levels beyond supported limit")


def deep(depth: int) -> dict:
    """A string leaf wrapped in ``depth`` single-key maps (the leaf sits at level depth + 1)."""
    v = {"S": "leaf"}
    for _ in range(depth):
        v = {"M": {"n": v}}
    return v


def refused(call, **kw) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        call(**kw)
    return error_of(e)


# nubo-db/dynamodb-conformance tests/tier3/limits/nestingDepth.test.ts (us-east-1 and eu-west-2,
# 2026-10-09): 31 wraps are taken, 32 refused; PutItem and UpdateItem in the validation envelope
# (from about 63 wraps on: a bare item text, a value named by its key), BatchWriteItem and
# TransactWriteItems items bare. Cloudlet said 'Nesting Levels have exceeded supported limits:
# Nesting Levels have exceeded supported limits' everywhere, and named the first value's key.
def test_nesting_limit_single_item_operations(ddb, make_table):
    t = make_table(range_type=None)
    key = {"pk": {"S": "e"}}
    ddb.put_item(TableName=t, Item={**key, "marker": {"S": "x"}})
    ddb.put_item(TableName=t, Item={"pk": {"S": "ok"}, "data": deep(31)})

    assert refused(ddb.put_item, TableName=t, Item={"pk": {"S": "n"}, "data": deep(32)}) == (
        "ValidationException", "1 validation error detected: " + NEST)
    assert refused(ddb.put_item, TableName=t, Item={"pk": {"S": "n"}, "data": deep(63)}) == (
        "ValidationException", NEST)
    cond = dict(TableName=t, Key=key, UpdateExpression="SET touched = :t", ConditionExpression="#d = :deep",
                ExpressionAttributeNames={"#d": "data"})
    # the deep value is the second one: AWS names it, not the first
    assert refused(ddb.update_item, **cond, ExpressionAttributeValues={":t": {"S": "y"}, ":deep": deep(32)}) == (
        "ValidationException", "1 validation error detected: " + NEST)
    assert refused(ddb.update_item, **cond, ExpressionAttributeValues={":t": {"S": "y"}, ":deep": deep(63)}) == (
        "ValidationException", f"ExpressionAttributeValues contains invalid value: {NEST} for key :deep")
    assert refused(ddb.delete_item, TableName=t, Key=key, ConditionExpression="#d = :deep",
                   ExpressionAttributeNames={"#d": "data"},
                   ExpressionAttributeValues={":deep": deep(32)})[1] == "1 validation error detected: " + NEST
    # 31 wraps are taken: the condition is evaluated
    assert refused(ddb.update_item, **cond, ExpressionAttributeValues={":t": {"S": "y"}, ":deep": deep(31)})[0] == (
        "ConditionalCheckFailedException")

    assert ddb.get_item(TableName=t, Key={"pk": {"S": "n"}}).get("Item") is None
    assert ddb.get_item(TableName=t, Key=key)["Item"] == {**key, "marker": {"S": "x"}}


def test_nesting_limit_batch_and_transaction_items(ddb, make_table):
    t = make_table(range_type=None)
    item = {"pk": {"S": "n"}, "data": deep(32)}
    assert refused(ddb.batch_write_item, RequestItems={t: [{"PutRequest": {"Item": item}}]}) == (
        "ValidationException", NEST)
    assert refused(ddb.transact_write_items, TransactItems=[{"Put": {"TableName": t, "Item": item}}]) == (
        "ValidationException", NEST)
    ddb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": {"pk": {"S": "ok"}, "data": deep(31)}}}]})
    assert ddb.get_item(TableName=t, Key={"pk": {"S": "n"}}).get("Item") is None
    assert ddb.get_item(TableName=t, Key={"pk": {"S": "ok"}})["Item"]["data"] == deep(31)


# Same source, TransactWriteItems: in us-east-1 (and 29 other regions) a 32-wrap value in
# ExpressionAttributeValues is not refused up front: a condition comparing it is evaluated, an Update
# that would store it cancels with the reason 'Nesting Levels have exceeded supported limits'; 33
# wraps and more are refused naming the key. Cloudlet refused all of them up front.
def test_nesting_limit_transaction_values(ddb, make_table):
    t = make_table(range_type=None)
    key = {"pk": {"S": "e"}}
    ddb.put_item(TableName=t, Item={**key, "marker": {"S": "x"}})
    check = {"TableName": t, "Key": key, "ConditionExpression": "#d = :deep",
             "ExpressionAttributeNames": {"#d": "data"}}

    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"ConditionCheck": {
            **check, "ExpressionAttributeValues": {":deep": deep(32)}}}])
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["ConditionalCheckFailed"]

    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Update": {
            "TableName": t, "Key": key, "UpdateExpression": "SET deep = :deep",
            "ExpressionAttributeValues": {":deep": deep(32)}}}])
    assert error_of(e) == ("TransactionCanceledException", "Transaction cancelled, please refer cancellation "
                           "reasons for specific reasons [ValidationError]")
    assert e.value.response["CancellationReasons"] == [
        {"Code": "ValidationError", "Message": "Nesting Levels have exceeded supported limits"}]

    assert refused(ddb.transact_write_items, TransactItems=[{"ConditionCheck": {
        **check, "ExpressionAttributeValues": {":deep": deep(33)}}}]) == (
        "ValidationException", f"ExpressionAttributeValues contains invalid value: {NEST} for key :deep")
    assert refused(ddb.transact_write_items, TransactItems=[{"Put": {
        "TableName": t, "Item": {"pk": {"S": "p"}}, "ConditionExpression": "attribute_not_exists(pk) AND #d <> :deep",
        "ExpressionAttributeNames": {"#d": "data"}, "ExpressionAttributeValues": {":deep": deep(33)}}}])[1] == (
        f"ExpressionAttributeValues contains invalid value: {NEST} for key :deep")

    assert ddb.get_item(TableName=t, Key=key)["Item"] == {**key, "marker": {"S": "x"}}
    assert ddb.get_item(TableName=t, Key={"pk": {"S": "p"}}).get("Item") is None


# LocalStack's AWS-validated test_dynamodb_create_table_with_partial_sse_specification (2024-01-10):
# CreateTable with SSESpecification {Enabled: true} describes a KMS key, ENABLED; UpdateTable back to
# the AWS owned key answers that description with Status UPDATING (cloudlet answered none), and the
# table then has no SSESpecification. test_dynamodb_update_table_without_sse_specification_change
# (2024-12-09): another change leaves the description ENABLED.
def test_sse_disable_answers_updating(ddb, unique_name):
    name = unique_name("sse")
    created = ddb.create_table(
        TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        SSESpecification={"Enabled": True})["TableDescription"]["SSEDescription"]
    assert created["Status"] == "ENABLED" and created["SSEType"] == "KMS"
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    try:
        unchanged = ddb.update_table(TableName=name, ProvisionedThroughput={
            "ReadCapacityUnits": 6, "WriteCapacityUnits": 6})["TableDescription"]["SSEDescription"]
        assert unchanged == created
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
        answered = ddb.update_table(TableName=name, SSESpecification={"Enabled": False})["TableDescription"]
        assert answered["SSEDescription"] == {**created, "Status": "UPDATING"}
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
        table = ddb.describe_table(TableName=name)["Table"]
        assert "SSESpecification" not in table and "SSEDescription" not in table
    finally:
        ddb.delete_table(TableName=name)
