"""DynamoDB Streams fixtures: a ``dynamodbstreams`` client and a ``dynamodb`` client for the
shared server, tables with a stream, and readers of a whole shard."""

from __future__ import annotations

import pytest

from tests.services.dynamodb.conftest import ddb, error_of, make_table  # noqa: F401  (fixtures, re-exported)

VIEWS = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


@pytest.fixture
def streams(client_factory):
    return client_factory("dynamodbstreams")


@pytest.fixture
def stream_table(make_table, ddb):
    """``stream_table(view, **table_args)`` -> (table name, stream ARN)."""

    def make(view="NEW_AND_OLD_IMAGES", range_type=None, **kw):
        name = make_table(range_type=range_type, StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
                          **kw)
        return name, ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]

    return make


def shard_of(streams, arn) -> dict:
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 1
    return shards[0]


def iterator(streams, arn, kind="TRIM_HORIZON", **kw) -> str:
    return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_of(streams, arn)["ShardId"],
                                      ShardIteratorType=kind, **kw)["ShardIterator"]


def read_all(streams, arn, it=None, limit=1000) -> list[dict]:
    """Every record from ``it`` (default TRIM_HORIZON) until a read returns none."""
    it = it or iterator(streams, arn)
    out = []
    while it:
        got = streams.get_records(ShardIterator=it, Limit=limit)
        out.extend(got["Records"])
        if not got["Records"]:
            break
        it = got.get("NextShardIterator")
    return out


def events(records) -> list[tuple]:
    """(eventName, Keys, OldImage, NewImage) of each record."""
    return [(r["eventName"], r["dynamodb"]["Keys"], r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage"))
            for r in records]


def server_now(srv) -> float:
    """The server clock's epoch seconds (other tests may have moved it ahead of ours)."""
    import json
    import urllib.request

    with urllib.request.urlopen(srv.url + "/_cloudlet/clock", timeout=10) as r:
        return json.load(r)["now"]
