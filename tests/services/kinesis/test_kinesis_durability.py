"""Kinesis state on disk: streams, records, lineage and consumers survive a restart and kill -9."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import make_client
from tests.services.kinesis.conftest import make_stream, new_account, wait_consumer, wait_status
from tests.services.kinesis.test_kinesis_shards import _reader_following_lineage

S0 = "shardId-000000000000"


@pytest.mark.slow
def test_state_survives_restart(durable_server):
    account = new_account()
    k = make_client("kinesis", durable_server.url, access_key=account)
    make_stream(k, "keep", 2, Tags={"team": "data"})
    k.increase_stream_retention_period(StreamName="keep", RetentionPeriodHours=72)
    written = k.put_records(StreamName="keep", Records=[{"Data": f"a{i}".encode(), "PartitionKey": f"p{i}"}
                                                        for i in range(50)])["Records"]
    k.split_shard(StreamName="keep", ShardToSplit=S0, NewStartingHashKey=str(1 << 126))
    wait_status(k, "keep")
    written += k.put_records(StreamName="keep", Records=[{"Data": f"b{i}".encode(), "PartitionKey": f"p{i}"}
                                                         for i in range(50)])["Records"]
    arn = k.describe_stream_summary(StreamName="keep")["StreamDescriptionSummary"]["StreamARN"]
    carn = k.register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]["ConsumerARN"]
    wait_consumer(k, carn)
    shards_before = k.list_shards(StreamName="keep")["Shards"]
    summary_before = k.describe_stream_summary(StreamName="keep")["StreamDescriptionSummary"]

    durable_server.restart()
    k = make_client("kinesis", durable_server.url, access_key=account)
    assert k.list_shards(StreamName="keep")["Shards"] == shards_before
    summary = k.describe_stream_summary(StreamName="keep")["StreamDescriptionSummary"]
    for field in ("StreamARN", "StreamStatus", "RetentionPeriodHours", "OpenShardCount", "ConsumerCount",
                  "StreamCreationTimestamp"):
        assert summary[field] == summary_before[field], field
    assert k.list_tags_for_stream(StreamName="keep")["Tags"] == [{"Key": "team", "Value": "data"}]
    records = _reader_following_lineage(k, "keep")
    assert sorted(r["SequenceNumber"] for r in records) == sorted(w["SequenceNumber"] for w in written)
    assert k.describe_stream_consumer(ConsumerARN=carn)["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE"
    after = k.put_record(StreamName="keep", Data=b"new", PartitionKey="p1")
    same_shard = [w["SequenceNumber"] for w in written if w["ShardId"] == after["ShardId"]]
    assert all(int(after["SequenceNumber"]) > int(s) for s in same_shard)
    sub = k.subscribe_to_shard(ConsumerARN=carn, ShardId=after["ShardId"],
                               StartingPosition={"Type": "AT_SEQUENCE_NUMBER",
                                                 "SequenceNumber": after["SequenceNumber"]})
    first = next(iter(sub["EventStream"]))["SubscribeToShardEvent"]
    assert [r["Data"] for r in first["Records"]] == [b"new"]
    sub["EventStream"].close()


@pytest.mark.slow
def test_kill_minus_nine_keeps_every_acknowledged_record(durable_server):
    account = new_account()
    k = make_client("kinesis", durable_server.url, access_key=account)
    make_stream(k, "hard", 3)
    acked: list[set[str]] = [set() for _ in range(4)]
    stop = threading.Event()

    def produce(worker: int):
        client = make_client("kinesis", durable_server.url, access_key=account)
        n = 0
        while not stop.is_set():
            try:
                if n % 2:
                    client.put_record(StreamName="hard", Data=f"{worker}:{n}".encode(), PartitionKey=f"k{n % 40}")
                    acked[worker].add(f"{worker}:{n}")
                else:
                    batch = [f"{worker}:{n}.{j}" for j in range(20)]
                    out = client.put_records(StreamName="hard", Records=[
                        {"Data": d.encode(), "PartitionKey": f"k{j}"} for j, d in enumerate(batch)])
                    acked[worker].update(d for d, r in zip(batch, out["Records"]) if "SequenceNumber" in r)
            except (ClientError, BotoCoreError, OSError):
                return  # the server died under us: what was not acknowledged may or may not be there
            n += 1

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.6)
    k.split_shard(StreamName="hard", ShardToSplit=S0, NewStartingHashKey="1000")  # a transition in flight
    time.sleep(0.1)
    durable_server.kill()
    stop.set()
    for t in threads:
        t.join()
    expected = set().union(*acked)
    assert len(expected) > 100

    durable_server.start()
    k = make_client("kinesis", durable_server.url, access_key=account)
    # the interrupted split completes on start-up
    assert wait_status(k, "hard")["StreamStatus"] == "ACTIVE"
    assert len(k.list_shards(StreamName="hard")["Shards"]) == 5
    got = [r["Data"].decode() for r in _reader_following_lineage(k, "hard")]
    assert len(got) == len(set(got)), "a record came back twice"
    assert expected <= set(got), f"lost {len(expected - set(got))} acknowledged records"
    assert len(set(got) - expected) <= 4 * 20  # at most the requests in flight when the process died
