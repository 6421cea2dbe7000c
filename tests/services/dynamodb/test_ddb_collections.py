"""Item collections of tables with local secondary indexes: the size limit
(ItemCollectionSizeLimitExceededException; lowered for the test with
CLOUDLET_DYNAMODB_ITEM_COLLECTION_LIMIT on a dedicated server) and
ReturnItemCollectionMetrics."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess, make_client

from .conftest import error_of, hash_range

LIMIT = 20_000
PAD = "x" * 1000


@pytest.fixture(scope="module")
def small_limit_server():
    srv = ServerProcess(env={"CLOUDLET_DYNAMODB_ITEM_COLLECTION_LIMIT": str(LIMIT)}).start()
    yield srv
    srv.stop()


def _create(ddb, name, lsi=True):
    kw = hash_range()
    if lsi:
        kw["AttributeDefinitions"].append({"AttributeName": "n", "AttributeType": "N"})
        kw["LocalSecondaryIndexes"] = [{"IndexName": "by-n", "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}]
    ddb.create_table(TableName=name, **kw)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})


def _item(pk, i, pad=PAD):
    return {"pk": {"S": pk}, "sk": {"S": f"{i:04d}"}, "n": {"N": str(i)}, "pad": {"S": pad}}


def test_collection_limit(small_limit_server):
    ddb = make_client("dynamodb", small_limit_server.url)
    _create(ddb, "lsi-table")
    written = 0
    with pytest.raises(ClientError) as e:
        for i in range(100):
            ddb.put_item(TableName="lsi-table", Item=_item("a", i))
            written += 1
    assert error_of(e) == ("ItemCollectionSizeLimitExceededException", "Collection size exceeded.")
    # about 1,150 bytes per item (item + LSI entry): the limit is reached, not much before
    assert LIMIT // 1300 <= written <= LIMIT // 1000
    count = lambda pk: ddb.query(TableName="lsi-table", KeyConditionExpression="pk = :p", Select="COUNT",
                                 ExpressionAttributeValues={":p": {"S": pk}})["Count"]
    assert count("a") == written
    # other collections are not affected
    ddb.put_item(TableName="lsi-table", Item=_item("b", 0))
    # growing an item of a full collection fails; shrinking one and deleting always work
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName="lsi-table", Key={"pk": {"S": "a"}, "sk": {"S": "0000"}},
                        UpdateExpression="SET more = :m", ExpressionAttributeValues={":m": {"S": PAD}})
    assert error_of(e)[0] == "ItemCollectionSizeLimitExceededException"
    ddb.update_item(TableName="lsi-table", Key={"pk": {"S": "a"}, "sk": {"S": "0000"}}, UpdateExpression="REMOVE #p", ExpressionAttributeNames={"#p": "pad"})
    ddb.delete_item(TableName="lsi-table", Key={"pk": {"S": "a"}, "sk": {"S": "0001"}})
    ddb.put_item(TableName="lsi-table", Item=_item("a", 1))  # fits again
    # a batch is all or nothing
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={"lsi-table": [
            {"PutRequest": {"Item": _item("c", 0)}}, {"PutRequest": {"Item": _item("a", 500, PAD * 3)}}]})
    assert error_of(e)[0] == "ItemCollectionSizeLimitExceededException"
    assert count("c") == 0
    # a transaction is cancelled with the reason at the action that overflows
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "lsi-table", "Item": _item("d", 0)}},
            {"Put": {"TableName": "lsi-table", "Item": _item("a", 501, PAD * 3)}}])
    err = e.value.response
    assert err["Error"]["Code"] == "TransactionCanceledException"
    assert err["CancellationReasons"] == [
        {"Code": "None"}, {"Code": "ItemCollectionSizeLimitExceeded", "Message": "Collection size exceeded."}]
    assert count("d") == 0
    # a table without an LSI has no item collection limit
    _create(ddb, "plain-table", lsi=False)
    for i in range(written + 5):
        ddb.put_item(TableName="plain-table", Item={"pk": {"S": "a"}, "sk": {"S": f"{i:04d}"}, "pad": {"S": PAD}})


def test_item_collection_metrics(ddb, make_table):
    name = make_table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "n", "AttributeType": "N"}],
        LocalSecondaryIndexes=[{"IndexName": "by-n", "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}])
    small = {"ItemCollectionKey": {"pk": {"S": "a"}}, "SizeEstimateRangeGB": [0.0, 1.0]}
    r = ddb.put_item(TableName=name, Item=_item("a", 0), ReturnItemCollectionMetrics="SIZE")
    assert r["ItemCollectionMetrics"] == small
    r = ddb.update_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "0000"}}, UpdateExpression="SET v = :v",
                        ExpressionAttributeValues={":v": {"N": "1"}}, ReturnItemCollectionMetrics="SIZE")
    assert r["ItemCollectionMetrics"] == small
    r = ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "0000"}}, ReturnItemCollectionMetrics="SIZE")
    assert r["ItemCollectionMetrics"] == small
    r = ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": _item("a", 1)}},
                                                  {"PutRequest": {"Item": _item("b", 1)}}]},
                             ReturnItemCollectionMetrics="SIZE")
    assert r["ItemCollectionMetrics"] == {name: [small, {**small, "ItemCollectionKey": {"pk": {"S": "b"}}}]}
    r = ddb.transact_write_items(TransactItems=[{"Put": {"TableName": name, "Item": _item("a", 2)}}],
                                 ReturnItemCollectionMetrics="SIZE")
    assert r["ItemCollectionMetrics"] == {name: [small]}
    assert "ItemCollectionMetrics" not in ddb.put_item(TableName=name, Item=_item("a", 3))
    # a table without an LSI reports none
    plain = make_table()
    r = ddb.put_item(TableName=plain, Item={"pk": {"S": "a"}, "sk": {"S": "b"}}, ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in r
