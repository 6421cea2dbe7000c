"""Record distribution strategy (botocore >= 1.44): AUTO spreads an on-demand stream's
records over its shards whatever their partition keys; USER_PARTITION_KEY routes by key."""

from __future__ import annotations

from collections import Counter

from tests.services.kinesis.conftest import error_of, make_stream, wait_active, wait_status

ON_DEMAND = {"StreamMode": "ON_DEMAND"}


def _shards_of(kinesis, name, n=200, key="same"):
    got = kinesis.put_records(StreamName=name, Records=[{"Data": b"x", "PartitionKey": key}] * n)
    assert got["FailedRecordCount"] == 0
    return Counter(r["ShardId"] for r in got["Records"])


def test_auto_spreads_one_partition_key_over_every_shard(kinesis):
    kinesis.create_stream(StreamName="auto", StreamModeDetails=ON_DEMAND, RecordDistributionStrategy="AUTO")
    shards = [s["ShardId"] for s in wait_active(kinesis, "auto")["Shards"]]
    summary = kinesis.describe_stream_summary(StreamName="auto")["StreamDescriptionSummary"]
    assert summary["RecordDistributionStrategy"] == "AUTO"
    spread = _shards_of(kinesis, "auto")
    assert set(spread) == set(shards) and min(spread.values()) >= 20  # 4 shards, 200 records
    # an explicit hash key is ignored too (but still checked)
    spread = Counter(kinesis.put_record(StreamName="auto", Data=b"y", PartitionKey="k", ExplicitHashKey="0")["ShardId"]
                     for _ in range(60))
    assert len(spread) > 1
    code, _ = error_of(kinesis.put_record, StreamName="auto", Data=b"y", PartitionKey="k", ExplicitHashKey=str(2 ** 128))
    assert code == "InvalidArgumentException"


def test_default_and_switching_back_and_forth(kinesis):
    kinesis.create_stream(StreamName="od", StreamModeDetails=ON_DEMAND)
    wait_active(kinesis, "od")
    arn = kinesis.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]["StreamARN"]
    assert kinesis.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"][
        "RecordDistributionStrategy"] == "USER_PARTITION_KEY"
    assert len(_shards_of(kinesis, "od")) == 1  # one key, one shard
    kinesis.update_stream_record_distribution_strategy(StreamARN=arn, RecordDistributionStrategy="AUTO")
    summary = kinesis.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
    assert summary["RecordDistributionStrategy"] == "AUTO" and summary["StreamStatus"] == "ACTIVE"
    assert len(_shards_of(kinesis, "od")) == 4
    kinesis.update_stream_record_distribution_strategy(StreamARN=arn, RecordDistributionStrategy="USER_PARTITION_KEY")
    assert len(_shards_of(kinesis, "od")) == 1
    # to provisioned and back: the strategy does not survive the provisioned spell
    kinesis.update_stream_record_distribution_strategy(StreamARN=arn, RecordDistributionStrategy="AUTO")
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    summary = wait_status(kinesis, "od")
    assert "RecordDistributionStrategy" not in summary
    assert len(_shards_of(kinesis, "od")) == 1


def test_provisioned_streams_refuse_auto(kinesis, raw):
    code, _ = error_of(kinesis.create_stream, StreamName="prov", ShardCount=2, RecordDistributionStrategy="AUTO")
    assert code == "InvalidArgumentException"
    code, _ = error_of(kinesis.describe_stream_summary, StreamName="prov")
    assert code == "ResourceNotFoundException"  # nothing was created
    desc = make_stream(kinesis, "prov", 2)
    assert "RecordDistributionStrategy" not in kinesis.describe_stream_summary(StreamName="prov")[
        "StreamDescriptionSummary"]
    code, _ = error_of(kinesis.update_stream_record_distribution_strategy, StreamARN=desc["StreamARN"],
                       RecordDistributionStrategy="AUTO")
    assert code == "InvalidArgumentException"
    assert len(_shards_of(kinesis, "prov", key="k")) == 1
    code, message = error_of(raw.update_stream_record_distribution_strategy, StreamARN=desc["StreamARN"],
                             RecordDistributionStrategy="SOMETIMES")
    assert code == "ValidationException" and "AUTO, USER_PARTITION_KEY" in message


def test_unknown_stream(kinesis, account):
    code, _ = error_of(kinesis.update_stream_record_distribution_strategy,
                       StreamARN=f"arn:aws:kinesis:us-east-1:{account}:stream/ghost",
                       RecordDistributionStrategy="AUTO")
    assert code == "ResourceNotFoundException"
