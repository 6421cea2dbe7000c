"""Item collection accounting of tables with LSIs (pure parts)."""

from __future__ import annotations

import pytest

from cloudlet.services.dynamodb import store as S
from cloudlet.services.dynamodb.background import ITEM_COLLECTION_LIMIT, collection_limit_from
from cloudlet.services.dynamodb.items import item_collection_metrics
from cloudlet.services.dynamodb.schema import compile_schema
from cloudlet.services.dynamodb.values import item_size

RECORD = {
    "TableName": "t", "TableId": "id",
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
                             {"AttributeName": "n", "AttributeType": "N"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "LocalSecondaryIndexes": [{"IndexName": "by-n", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                  {"AttributeName": "n", "KeyType": "RANGE"}],
                               "Projection": {"ProjectionType": "KEYS_ONLY"}}],
}


def test_collection_bytes_counts_item_and_lsi_entries():
    schema = compile_schema(RECORD)
    item = {"pk": {"S": "a"}, "sk": {"S": "b"}, "n": {"N": "1"}, "pad": {"S": "x" * 100}}
    entry = item_size({k: item[k] for k in ("pk", "sk", "n")}) + S.LSI_ENTRY_OVERHEAD
    assert S.collection_bytes(schema, item) == item_size(item) + entry
    sparse = {"pk": {"S": "a"}, "sk": {"S": "b"}}  # not in the (sparse) LSI
    assert S.collection_bytes(schema, sparse) == item_size(sparse)
    assert S.collection_bytes(schema, None) == 0


@pytest.mark.parametrize("size, estimate", [
    (0, [0.0, 1.0]), (5000, [0.0, 1.0]), (2 ** 30 - 1, [0.0, 1.0]), (2 ** 30, [1.0, 2.0]),
    (int(9.5 * 2 ** 30), [9.0, 10.0]),
])
def test_size_estimate_range(size, estimate):
    schema = compile_schema(RECORD)
    m = item_collection_metrics(schema, {"pk": {"S": "a"}, "sk": {"S": "b"}}, size)
    assert m == {"ItemCollectionKey": {"pk": {"S": "a"}}, "SizeEstimateRangeGB": estimate}


def test_limit_from_environment():
    assert collection_limit_from({}) == ITEM_COLLECTION_LIMIT == 10 * 2 ** 30
    assert collection_limit_from({"CLOUDLET_DYNAMODB_ITEM_COLLECTION_LIMIT": "4096"}) == 4096
    for bad in ("x", "0", "-1"):
        with pytest.raises(ValueError):
            collection_limit_from({"CLOUDLET_DYNAMODB_ITEM_COLLECTION_LIMIT": bad})
