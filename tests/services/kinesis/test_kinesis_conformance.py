"""Differences from AWS found by running public conformance checklists (kinesalite's test
suite, which was run against AWS; the vorpalstacks SDK and Terraform suites) against
cloudlet. Each test names the source of the AWS behaviour it pins."""

from __future__ import annotations

from tests.services.kinesis.conftest import error_of, make_stream

S0 = "shardId-000000000000"
S1 = "shardId-000000000001"


def test_short_sequence_number_names_the_shard_it_encodes(kinesis, account):
    # kinesalite test/getShardIterator.js, run against AWS ("should return
    # InvalidArgumentException if shard mismatches simple sequence"): a short (version-0)
    # sequence number such as '5' encodes shard 5 in its low 16 bits, and AWS says so
    make_stream(kinesis, "legacy", 2)
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="legacy", ShardId=S0,
                         ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber="5")
    assert (code, msg) == ("InvalidArgumentException", "Invalid StartingSequenceNumber. It encodes "
                           "shardId-000000000005, while it was used in a call to a shard with shardId-000000000000")
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="legacy", ShardId=S1,
                         ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber="0")
    assert (code, msg) == ("InvalidArgumentException", "Invalid StartingSequenceNumber. It encodes "
                           "shardId-000000000000, while it was used in a call to a shard with shardId-000000000001")
    # one whose creation time is out of range is merely invalid (same kinesalite file)
    big = str(int("13bb2cc3d80000000000000000000000", 16))
    code, msg = error_of(kinesis.get_shard_iterator, StreamName="legacy", ShardId=S0,
                         ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=big)
    assert (code, msg) == ("InvalidArgumentException", f"StartingSequenceNumber {big} used in GetShardIterator on "
                           f"shard {S0} in stream legacy under account {account} is invalid.")
    # a number of cloudlet's own still reads its record
    seq = kinesis.put_record(StreamName="legacy", Data=b"x", PartitionKey="a", ExplicitHashKey="0")["SequenceNumber"]
    it = kinesis.get_shard_iterator(StreamName="legacy", ShardId=S0, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                    StartingSequenceNumber=seq)["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"x"]
