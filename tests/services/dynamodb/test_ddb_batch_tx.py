"""BatchGetItem / BatchWriteItem / TransactWriteItems / TransactGetItems, TTL,
tags and resource policies."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import error_of


def k(pk, sk="1"):
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def test_batch_write_and_get(ddb, make_table):
    a, b = make_table(), make_table()
    ddb.batch_write_item(RequestItems={
        a: [{"PutRequest": {"Item": {**k(f"x{i}"), "v": {"N": str(i)}}}} for i in range(20)],
        b: [{"PutRequest": {"Item": k("y")}}],
    })
    r = ddb.batch_get_item(RequestItems={a: {"Keys": [k("x1"), k("x2"), k("missing")], "ProjectionExpression": "v"},
                                         b: {"Keys": [k("y")]}}, ReturnConsumedCapacity="TOTAL")
    assert sorted(i["v"]["N"] for i in r["Responses"][a]) == ["1", "2"]
    assert r["Responses"][b] == [k("y")] and r["UnprocessedKeys"] == {}
    assert {c["TableName"] for c in r["ConsumedCapacity"]} == {a, b}
    ddb.batch_write_item(RequestItems={a: [{"DeleteRequest": {"Key": k("x1")}}]})
    assert "Item" not in ddb.get_item(TableName=a, Key=k("x1"))


def test_batch_errors_leave_nothing_written(ddb, make_table):
    a = make_table()
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={a: [{"PutRequest": {"Item": k("d")}}, {"PutRequest": {"Item": k("d")}}]})
    assert error_of(e) == ("ValidationException", "Provided list of item keys contains duplicates")
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={a: [{"PutRequest": {"Item": k(f"z{i}")}} for i in range(26)]})
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={a: [{"PutRequest": {"Item": k("ok")}}, {"PutRequest": {"Item": {"pk": {"S": "bad"}}}}]})
    assert error_of(e)[1] == "The provided key element does not match the schema"  # a PutRequest, unlike PutItem
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={a: {"Keys": [k("x"), k("x")]}})
    assert error_of(e)[1] == "Provided list of item keys contains duplicates"
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={a: {"Keys": [k(f"x{i}") for i in range(101)]}})
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={"no-such-table": [{"PutRequest": {"Item": k("a")}}]})
    assert error_of(e)[0] == "ResourceNotFoundException"
    assert ddb.scan(TableName=a)["Count"] == 0


def test_transact_write_all_or_nothing(ddb, make_table):
    a, b = make_table(), make_table()
    ddb.put_item(TableName=a, Item={**k("acct1"), "bal": {"N": "100"}})
    ddb.put_item(TableName=b, Item={**k("acct2"), "bal": {"N": "0"}})
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": a, "Key": k("acct1"), "UpdateExpression": "SET bal = bal - :x",
                    "ConditionExpression": "bal >= :x", "ExpressionAttributeValues": {":x": {"N": "30"}}}},
        {"Update": {"TableName": b, "Key": k("acct2"), "UpdateExpression": "SET bal = bal + :x",
                    "ExpressionAttributeValues": {":x": {"N": "30"}}}},
        {"Put": {"TableName": a, "Item": {**k("log"), "what": {"S": "transfer"}}}},
        {"ConditionCheck": {"TableName": b, "Key": k("acct3"), "ConditionExpression": "attribute_not_exists(pk)"}},
    ])
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Delete": {"TableName": a, "Key": k("log")}},
            {"Update": {"TableName": a, "Key": k("acct1"), "UpdateExpression": "SET bal = bal - :x",
                        "ConditionExpression": "bal >= :x", "ExpressionAttributeValues": {":x": {"N": "1000"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ])
    code, message = error_of(e)
    assert code == "TransactionCanceledException"
    assert message == ("Transaction cancelled, please refer cancellation reasons for specific reasons "
                       "[None, ConditionalCheckFailed]")
    reasons = e.value.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ConditionalCheckFailed" and reasons[1]["Item"]["bal"] == {"N": "70"}
    assert "Item" in ddb.get_item(TableName=a, Key=k("log"))  # the delete did not happen
    r = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": a, "Key": k("acct1")}},
                                              {"Get": {"TableName": b, "Key": k("acct2")}},
                                              {"Get": {"TableName": b, "Key": k("nobody")}}])
    assert [x.get("Item", {}).get("bal") for x in r["Responses"]] == [{"N": "70"}, {"N": "30"}, None]


def test_transact_errors(ddb, make_table):
    a = make_table()
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": a, "Item": k("same")}},
                                                {"Delete": {"TableName": a, "Key": k("same")}}])
    assert error_of(e) == ("ValidationException", "Transaction request cannot include multiple operations on one item")
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": a, "Item": k("p")}},
                                                {"Put": {"TableName": "no-such-table", "Item": k("q")}}])
    assert error_of(e)[0] == "ResourceNotFoundException"
    assert ddb.scan(TableName=a)["Count"] == 0


def test_client_request_token(ddb, make_table):
    a = make_table()
    token = uuid.uuid4().hex
    items = [{"Update": {"TableName": a, "Key": k("c"), "UpdateExpression": "ADD n :one",
                         "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    assert ddb.get_item(TableName=a, Key=k("c"))["Item"]["n"] == {"N": "1"}
    items[0]["Update"]["ExpressionAttributeValues"][":one"] = {"N": "2"}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    assert error_of(e)[0] == "IdempotentParameterMismatchException"


def test_ttl_deletes_expired_items(ddb, make_table, server):
    a = make_table()
    assert ddb.describe_time_to_live(TableName=a)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    now = int(__import__("time").time())
    ddb.put_item(TableName=a, Item={**k("old"), "exp": {"N": str(now - 10)}})
    ddb.put_item(TableName=a, Item={**k("later"), "exp": {"N": str(now + 3600)}})
    ddb.put_item(TableName=a, Item={**k("never")})
    ddb.put_item(TableName=a, Item={**k("notnum"), "exp": {"S": "soon"}})
    ddb.update_time_to_live(TableName=a, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    with pytest.raises(ClientError) as e:
        ddb.update_time_to_live(TableName=a, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert error_of(e)[1] == "TimeToLive is already enabled"
    assert ddb.describe_time_to_live(TableName=a)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    import time
    deadline = time.time() + 5
    while "Item" in ddb.get_item(TableName=a, Key=k("old")):
        assert time.time() < deadline
        time.sleep(0.05)
    server.advance_clock(7200)
    deadline = time.time() + 5
    while "Item" in ddb.get_item(TableName=a, Key=k("later")):
        assert time.time() < deadline
        time.sleep(0.05)
    assert {i["pk"]["S"] for i in ddb.scan(TableName=a)["Items"]} == {"never", "notnum"}


def test_tags(ddb, make_table):
    a = make_table()
    arn = ddb.describe_table(TableName=a)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ddb.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    missing = arn.rsplit("/", 1)[0] + "/no-such-table"
    with pytest.raises(ClientError) as e:
        ddb.list_tags_of_resource(ResourceArn=missing)
    assert error_of(e) == ("ResourceNotFoundException", f"Requested resource not found: ResourceArn: {missing} not found")
    with pytest.raises(ClientError) as e:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_of(e)[1] == "Number of Tags exceed the current limit for the provided ResourceArn"
    assert len(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]) == 1


def test_resource_policy(ddb, make_table, server):
    a = make_table()
    arn = ddb.describe_table(TableName=a)["Table"]["TableArn"]
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=arn)
    assert error_of(e)[0] == "PolicyNotFoundException"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                                 "Action": "dynamodb:GetItem", "Resource": arn}]})
    rev = ddb.put_resource_policy(ResourceArn=arn, Policy=policy)["RevisionId"]
    got = ddb.get_resource_policy(ResourceArn=arn)
    assert got["Policy"] == policy and got["RevisionId"] == rev
    server.advance_clock(15)  # a policy changes at most once in 15 s, as on AWS
    ddb.delete_resource_policy(ResourceArn=arn)
    with pytest.raises(ClientError):
        ddb.get_resource_policy(ResourceArn=arn)


def test_expired_client_request_tokens_are_pruned(durable_server):
    """Token records last 10 minutes by the server clock, then the background
    sweeper deletes them (the store does not grow with every token ever used)."""
    import time

    from cloudlet.storage import open_store
    from tests.conftest import make_client

    srv = durable_server
    ddb = make_client("dynamodb", srv.url)
    ddb.create_table(TableName="tokens", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    ddb.get_waiter("table_exists").wait(TableName="tokens", WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})

    def put(token, value="1"):
        ddb.transact_write_items(ClientRequestToken=token, TransactItems=[
            {"Put": {"TableName": "tokens", "Item": {"pk": {"S": token}, "v": {"N": value}}}}])

    for i in range(20):
        put(f"old-{i}")
    put("reused")
    srv.advance_clock(300)
    put("young")
    srv.advance_clock(301)  # the first 21 are past 10 minutes, "young" is not
    put("reused", "2")  # an expired token is a new request (no mismatch) and lives 10 more minutes
    time.sleep(1.5)  # the sweeper wakes on the clock advance and at least once a second
    with pytest.raises(ClientError) as e:
        put("young", "2")
    assert error_of(e)[0] == "IdempotentParameterMismatchException"
    srv.stop()
    store = open_store(srv.data_dir)
    try:
        with store.transaction() as tx:
            tokens = sorted(k[-1] for k, _ in tx.range(prefix=("ddb", "000000000000", "us-east-1", "token")))
            expiries = sorted(k[-1] for k, _ in tx.range(prefix=("ddb", "tokx")))
    finally:
        store.close()
    assert tokens == expiries == ["reused", "young"]
