"""DryRun (botocore >= 1.44 carries it on the data-plane operations): a request that
would succeed is refused with DryRunOperationException and changes nothing; one that
would fail gets its own error."""

from __future__ import annotations

from tests.services.kinesis.conftest import error_of, make_stream, read_all, wait_consumer

S0 = "shardId-000000000000"
DRY = ("DryRunOperationException", "The request was rejected because the DryRun parameter was specified.")


def test_dry_run_writes_nothing(kinesis):
    make_stream(kinesis, "dry")
    kinesis.put_record(StreamName="dry", Data=b"real", PartitionKey="k")
    assert error_of(kinesis.put_record, StreamName="dry", Data=b"x", PartitionKey="k", DryRun=True) == DRY
    assert error_of(kinesis.put_records, StreamName="dry", DryRun=True,
                    Records=[{"Data": b"y", "PartitionKey": "k"}] * 3) == DRY
    assert [r["Data"] for r in read_all(kinesis, "dry", S0)] == [b"real"]
    # DryRun=False is an ordinary request
    kinesis.put_record(StreamName="dry", Data=b"two", PartitionKey="k", DryRun=False)
    assert [r["Data"] for r in read_all(kinesis, "dry", S0)] == [b"real", b"two"]


def test_dry_run_reads(kinesis):
    make_stream(kinesis, "dryr")
    kinesis.put_record(StreamName="dryr", Data=b"a", PartitionKey="k")
    assert error_of(kinesis.get_shard_iterator, StreamName="dryr", ShardId=S0,
                    ShardIteratorType="TRIM_HORIZON", DryRun=True) == DRY
    it = kinesis.get_shard_iterator(StreamName="dryr", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert error_of(kinesis.get_records, ShardIterator=it, DryRun=True) == DRY
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"a"]


def test_dry_run_of_a_failing_request_gets_its_error(kinesis):
    make_stream(kinesis, "dryf")
    code, _ = error_of(kinesis.put_record, StreamName="missing", Data=b"x", PartitionKey="k", DryRun=True)
    assert code == "ResourceNotFoundException"
    code, _ = error_of(kinesis.get_shard_iterator, StreamName="dryf", ShardId="shardId-000000000009",
                       ShardIteratorType="TRIM_HORIZON", DryRun=True)
    assert code == "ResourceNotFoundException"
    code, _ = error_of(kinesis.get_records, ShardIterator="bogus" * 10, DryRun=True)
    assert code == "InvalidArgumentException"


def test_dry_run_subscription(kinesis):
    arn = make_stream(kinesis, "drys")["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c")["Consumer"]["ConsumerARN"]
    wait_consumer(kinesis, consumer)
    assert error_of(kinesis.subscribe_to_shard, ConsumerARN=consumer, ShardId=S0,
                    StartingPosition={"Type": "TRIM_HORIZON"}, DryRun=True) == DRY
    # no subscription was taken: a real one starts at once
    events = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=S0,
                                        StartingPosition={"Type": "TRIM_HORIZON"})["EventStream"]
    events.close()
