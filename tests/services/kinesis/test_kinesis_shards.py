"""Shards through boto3: ListShards (filters, pagination, token rules), SplitShard,
MergeShards, UpdateShardCount, and resharding under load with a lineage-following reader."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from tests.conftest import make_client
from tests.services.kinesis.conftest import (
    error_of, make_slow_stream, make_stream, server_now, settle, wait_status,
)

MAX_HASH = (1 << 128) - 1
HALF = 1 << 127


def ids(shards):
    return [s["ShardId"] for s in shards]


def sid(i: int) -> str:
    return f"shardId-{i:012d}"


def test_split_lineage_and_list_shards_filters(slow, slow_server):
    # UPDATING lasts until settle(), so "still UPDATING, writes go to the parent" is a fact
    kinesis, server = slow, slow_server
    make_slow_stream(kinesis, server, "sp", 1)
    time.sleep(1.05)  # boto3 sends whole seconds
    before = datetime.fromtimestamp(server_now(server), timezone.utc)
    kinesis.split_shard(StreamName="sp", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(HALF))
    # until the split is done the stream is UPDATING and the old shard still takes writes
    assert kinesis.describe_stream_summary(StreamName="sp")["StreamDescriptionSummary"]["StreamStatus"] == "UPDATING"
    assert kinesis.put_record(StreamName="sp", Data=b"x", PartitionKey="a")["ShardId"] == sid(0)
    settle(server)
    wait_status(kinesis, "sp")
    shards = kinesis.list_shards(StreamName="sp")["Shards"]
    assert ids(shards) == [sid(0), sid(1), sid(2)]
    parent, left, right = shards
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert left["ParentShardId"] == sid(0) and right["ParentShardId"] == sid(0)
    assert "AdjacentParentShardId" not in left
    assert left["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(HALF - 1)}
    assert right["HashKeyRange"] == {"StartingHashKey": str(HALF), "EndingHashKey": str(MAX_HASH)}
    assert int(left["SequenceNumberRange"]["StartingSequenceNumber"]) > \
        int(parent["SequenceNumberRange"]["EndingSequenceNumber"])
    f = lambda **flt: ids(kinesis.list_shards(StreamName="sp", ShardFilter=flt)["Shards"])  # noqa: E731
    assert f(Type="AT_LATEST") == [sid(1), sid(2)]
    assert f(Type="AT_TRIM_HORIZON") == [sid(0)]
    assert f(Type="FROM_TRIM_HORIZON") == [sid(0), sid(1), sid(2)]
    assert f(Type="AFTER_SHARD_ID", ShardId=sid(0)) == [sid(1), sid(2)]
    assert f(Type="AT_TIMESTAMP", Timestamp=before) == [sid(0)]
    time.sleep(1.05)  # boto3 sends whole seconds
    assert f(Type="FROM_TIMESTAMP", Timestamp=datetime.fromtimestamp(server_now(server), timezone.utc)) == \
        [sid(1), sid(2)]
    assert ids(kinesis.list_shards(StreamName="sp", ExclusiveStartShardId=sid(1))["Shards"]) == [sid(2)]
    # writes now go to the children by hash
    assert kinesis.put_record(StreamName="sp", Data=b"x", PartitionKey="a", ExplicitHashKey="5")["ShardId"] == sid(1)
    assert kinesis.put_record(StreamName="sp", Data=b"x", PartitionKey="a",
                              ExplicitHashKey=str(MAX_HASH))["ShardId"] == sid(2)


def test_list_shards_pagination_and_token_rules(kinesis, raw):
    make_stream(kinesis, "pg", 5)
    first = kinesis.list_shards(StreamName="pg", MaxResults=2)
    assert ids(first["Shards"]) == [sid(0), sid(1)] and first["NextToken"]
    second = kinesis.list_shards(NextToken=first["NextToken"], MaxResults=2)
    assert ids(second["Shards"]) == [sid(2), sid(3)]
    third = kinesis.list_shards(NextToken=second["NextToken"])
    assert ids(third["Shards"]) == [sid(4)] and "NextToken" not in third
    arn = kinesis.describe_stream_summary(StreamName="pg")["StreamDescriptionSummary"]["StreamARN"]
    for extra, member in (({"StreamName": "pg"}, "StreamName"), ({"StreamARN": arn}, "StreamARN"),
                          ({"ExclusiveStartShardId": sid(0)}, "ExclusiveStartShardId"),
                          ({"ShardFilter": {"Type": "AT_LATEST"}}, "ShardFilter")):
        code, msg = error_of(kinesis.list_shards, NextToken=first["NextToken"], **extra)
        assert (code, msg) == ("InvalidArgumentException", f"NextToken and {member} cannot be provided together.")
    assert error_of(kinesis.list_shards, NextToken="bad-token")[0] == "InvalidArgumentException"
    assert error_of(kinesis.list_shards)[0] == "InvalidArgumentException"
    assert error_of(kinesis.list_shards, StreamName="pg",
                    ShardFilter={"Type": "AFTER_SHARD_ID"})[0] == "InvalidArgumentException"
    assert error_of(kinesis.list_shards, StreamName="pg",
                    ShardFilter={"Type": "AT_TIMESTAMP"})[0] == "InvalidArgumentException"
    assert error_of(raw.list_shards, StreamName="pg", MaxResults=0)[0] == "ValidationException"
    # boto3's ListShards paginator repeats StreamName beside NextToken, which AWS refuses as
    # well (aws-cli#9635, terraform-provider-aws#40494): the second page fails
    pages = kinesis.get_paginator("list_shards").paginate(StreamName="pg", PaginationConfig={"PageSize": 2})
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        list(pages)


def test_list_shards_token_expires(own_server):
    from tests.services.kinesis.conftest import new_account

    k = make_client("kinesis", own_server.url, access_key=new_account())
    make_stream(k, "exp", 3)
    token = k.list_shards(StreamName="exp", MaxResults=1)["NextToken"]
    own_server.advance_clock(301)
    assert error_of(k.list_shards, NextToken=token)[0] == "ExpiredNextTokenException"


def test_split_errors_change_nothing(slow, slow_server, account):
    kinesis = slow  # UPDATING lasts until settle(): the second split meets it for sure
    make_slow_stream(kinesis, slow_server, "se", 3)
    before = kinesis.list_shards(StreamName="se")["Shards"]
    code, msg = error_of(kinesis.split_shard, StreamName="se", ShardToSplit="shard-0", NewStartingHashKey="1")
    assert (code, msg) == ("InvalidArgumentException",
                           f"NewStartingHashKey 1 used in SplitShard() on shard {sid(0)} in stream se under account "
                           f"{account} is not both greater than one plus the shard's StartingHashKey 0 and less "
                           "than the shard's EndingHashKey 113427455640312821154458202477256070484.")
    code, _ = error_of(kinesis.split_shard, StreamName="se", ShardToSplit="shard-0",
                       NewStartingHashKey="113427455640312821154458202477256070484")
    assert code == "InvalidArgumentException"
    code, msg = error_of(kinesis.split_shard, StreamName="se", ShardToSplit="shardId-5", NewStartingHashKey="5")
    assert (code, msg) == ("ResourceNotFoundException",
                           f"Could not find shard {sid(5)} in stream se under account {account}.")
    code, msg = error_of(kinesis.split_shard, StreamName="gone", ShardToSplit="shardId-0", NewStartingHashKey="5")
    assert (code, msg) == ("ResourceNotFoundException", f"Stream gone under account {account} not found.")
    code, msg = error_of(kinesis.split_shard, StreamName="gone", ShardToSplit="ABKLFD8", NewStartingHashKey="5")
    assert msg == f"Could not find shard ABKLFD8 in stream gone under account {account}."
    assert kinesis.list_shards(StreamName="se")["Shards"] == before
    kinesis.split_shard(StreamName="se", ShardToSplit="shard-0", NewStartingHashKey="2")
    code, msg = error_of(kinesis.split_shard, StreamName="se", ShardToSplit="shard-1", NewStartingHashKey="200000000")
    assert (code, msg) == ("ResourceInUseException", f"Stream se under account {account} not ACTIVE, instead in "
                                                     "state UPDATING")
    settle(slow_server)
    wait_status(kinesis, "se")
    assert len(kinesis.list_shards(StreamName="se")["Shards"]) == 5
    code, _ = error_of(kinesis.split_shard, StreamName="se", ShardToSplit="shard-0", NewStartingHashKey="5")
    assert code == "InvalidArgumentException"  # already split


def test_merge_adjacent_only(kinesis, account):
    make_stream(kinesis, "mg", 3)
    code, msg = error_of(kinesis.merge_shards, StreamName="mg", ShardToMerge=sid(0), AdjacentShardToMerge=sid(2))
    assert (code, msg) == ("InvalidArgumentException",
                           f"Shards {sid(0)} and {sid(2)} in stream mg under account {account} are not an adjacent "
                           "pair of shards eligible for merging")
    code, _ = error_of(kinesis.merge_shards, StreamName="mg", ShardToMerge=sid(1), AdjacentShardToMerge=sid(0))
    assert code == "InvalidArgumentException"
    code, _ = error_of(kinesis.merge_shards, StreamName="mg", ShardToMerge=sid(1), AdjacentShardToMerge=sid(7))
    assert code == "ResourceNotFoundException"
    assert len(kinesis.list_shards(StreamName="mg")["Shards"]) == 3
    kinesis.merge_shards(StreamName="mg", ShardToMerge=sid(1), AdjacentShardToMerge=sid(2))
    wait_status(kinesis, "mg")
    shards = kinesis.list_shards(StreamName="mg")["Shards"]
    child = shards[3]
    assert child["ShardId"] == sid(3)
    assert (child["ParentShardId"], child["AdjacentParentShardId"]) == (sid(1), sid(2))
    assert child["HashKeyRange"] == {"StartingHashKey": "113427455640312821154458202477256070485",
                                     "EndingHashKey": str(MAX_HASH)}
    assert ids(kinesis.list_shards(StreamName="mg", ShardFilter={"Type": "AT_LATEST"})["Shards"]) == [sid(0), sid(3)]


def test_update_shard_count(kinesis, account):
    make_stream(kinesis, "usc", 2)
    code, msg = error_of(kinesis.update_shard_count, StreamName="usc", TargetShardCount=5,
                         ScalingType="UNIFORM_SCALING")
    assert (code, msg) == ("LimitExceededException", "UpdateShardCount cannot scale up over double your current "
                                                     "open shard count. Current open shard count: 2, Target shard "
                                                     "count: 5")
    out = kinesis.update_shard_count(StreamName="usc", TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert (out["CurrentShardCount"], out["TargetShardCount"], out["StreamName"]) == (2, 4, "usc")
    wait_status(kinesis, "usc")
    shards = kinesis.list_shards(StreamName="usc")["Shards"]
    assert len(shards) == 6
    closed = [s for s in shards if "EndingSequenceNumber" in s["SequenceNumberRange"]]
    assert len(closed) == 2
    opened = kinesis.list_shards(StreamName="usc", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    quarter = (1 << 128) // 4
    assert [int(s["HashKeyRange"]["StartingHashKey"]) for s in opened] == [0, quarter, 2 * quarter, 3 * quarter]
    code, msg = error_of(kinesis.update_shard_count, StreamName="usc", TargetShardCount=1,
                         ScalingType="UNIFORM_SCALING")
    assert msg == ("UpdateShardCount cannot scale down below half your current open shard count. "
                   "Current open shard count: 4, Target shard count: 1")
    kinesis.update_shard_count(StreamName="usc", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    wait_status(kinesis, "usc")
    opened = kinesis.list_shards(StreamName="usc", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    third = (1 << 128) // 3
    assert [int(s["HashKeyRange"]["StartingHashKey"]) for s in opened] == [0, third, 2 * third]
    assert kinesis.describe_stream_summary(StreamName="usc")["StreamDescriptionSummary"]["OpenShardCount"] == 3
    code, msg = error_of(kinesis.update_shard_count, StreamName="nope", TargetShardCount=2,
                         ScalingType="UNIFORM_SCALING")
    assert (code, msg) == ("ResourceNotFoundException", f"Stream nope under account {account} not found.")


def _reader_following_lineage(client, name: str) -> list[dict]:
    """Read a stream the way the KCL does: a shard starts once all its parents are read
    to their end (GetRecords without NextShardIterator, with ChildShards)."""
    shards = client.list_shards(StreamName=name)["Shards"]
    known = {s["ShardId"] for s in shards}
    parents = {s["ShardId"]: [p for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId"))
                              if p and p in known] for s in shards}
    done: set[str] = set()
    started: set[str] = set()
    records: list[dict] = []
    progress = True
    while progress:
        progress = False
        for shard, ps in list(parents.items()):
            if shard in started or not all(p in done for p in ps):
                continue
            started.add(shard)
            progress = True
            it = client.get_shard_iterator(StreamName=name, ShardId=shard,
                                           ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while True:
                resp = client.get_records(ShardIterator=it)
                records.extend(dict(r, ShardId=shard) for r in resp["Records"])
                if "NextShardIterator" not in resp:
                    assert resp["ChildShards"], shard
                    for child in resp["ChildShards"]:
                        assert shard in child["ParentShards"]
                        parents.setdefault(child["ShardId"], [p for p in child["ParentShards"] if p in known])
                    done.add(shard)
                    break
                if not resp["Records"] and resp["MillisBehindLatest"] == 0:
                    break  # an open shard, read to now
                it = resp["NextShardIterator"]
    return records


@pytest.mark.slow
def test_resharding_while_producing_loses_nothing(kinesis, server, account):
    make_stream(kinesis, "live", 2)
    stop = threading.Event()
    acked: list[list[tuple[str, str]]] = [[] for _ in range(4)]
    failures = []

    def produce(worker: int):
        client = make_client("kinesis", server.url, access_key=account)
        n = 0
        try:
            while not stop.is_set():
                key = f"k{worker}-{n % 25}"
                data = f"{worker}:{n}"
                if n % 3:
                    client.put_record(StreamName="live", Data=data.encode(), PartitionKey=key)
                    acked[worker].append((key, data))
                else:
                    batch = [(f"k{worker}-{(n + j) % 25}", f"{worker}:{n}.{j}") for j in range(10)]
                    out = client.put_records(StreamName="live", Records=[
                        {"Data": d.encode(), "PartitionKey": k} for k, d in batch])
                    assert out["FailedRecordCount"] == 0
                    acked[worker].extend(batch)
                n += 1
        except Exception as e:  # noqa: BLE001
            failures.append(e)

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    kinesis.split_shard(StreamName="live", ShardToSplit=sid(0), NewStartingHashKey=str(1 << 126))
    wait_status(kinesis, "live")
    time.sleep(0.2)
    kinesis.merge_shards(StreamName="live", ShardToMerge=sid(3), AdjacentShardToMerge=sid(1))
    wait_status(kinesis, "live")
    time.sleep(0.2)
    kinesis.update_shard_count(StreamName="live", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    wait_status(kinesis, "live")
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    assert not failures
    shards = {s["ShardId"]: s for s in kinesis.list_shards(StreamName="live")["Shards"]}
    assert shards[sid(4)]["ParentShardId"] == sid(3) and shards[sid(4)]["AdjacentParentShardId"] == sid(1)
    records = _reader_following_lineage(kinesis, "live")
    got = [(r["PartitionKey"], r["Data"].decode()) for r in records]
    expected = [item for worker in acked for item in worker]
    assert len(got) == len(set(got)), "a record was read twice"
    assert sorted(got) == sorted(expected), "a record was lost or invented"
    # per partition key, the reader sees each producer's records in the order they were acknowledged
    order: dict[str, list[str]] = {}
    for key, data in got:
        order.setdefault(key, []).append(data)
    for worker in acked:
        per_key: dict[str, list[str]] = {}
        for key, data in worker:
            per_key.setdefault(key, []).append(data)
        for key, datas in per_key.items():
            assert order[key] == datas, key
