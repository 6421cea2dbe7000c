"""Differences from AWS found by running public conformance checklists (kinesalite's test
suite, which was run against AWS; the vorpalstacks SDK and Terraform suites) against
cloudlet. Each test names the source of the AWS behaviour it pins."""

from __future__ import annotations

from tests.services.kinesis.conftest import error_of, make_stream, read_all, server_now, wait_status

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


def _hex_seq(digits: str) -> str:
    return str(int(digits, 16))


def test_sequence_number_for_ordering_in_aws_layout(kinesis, account, server):
    # kinesalite test/putRecord.js, run against AWS: numbers of AWS's own layout are taken as
    # SequenceNumberForOrdering when well formed and not in the future, and refused otherwise
    make_stream(kinesis, "order", 1)
    now = int(server_now(server))
    taken = ["2ffffffffff7fffffffffffffff000000000007fffffff2",  # all f
             "20000000000000000000000000000000000000000000002",  # all 0
             "20000000000000000000000000000000000000000000001",  # all 0, version 1
             "2ffffffffff7fffffff7fffffff000" + format(now - 2, "x") + "7fffffff2",  # time is now
             "20000000000000000000000000000000000000800000002"]  # 8 near the end
    refused = ["20000000000000000000000000000000000000000000000",  # version 0
               "20000000000000000000000000000000000000000000004",  # version 4
               "30000000000000000000000000000000000000000000001",  # initial 3
               "1ffffffffff7fffffffffffffff000000000007fffffff2",  # initial 1
               "20000000000800000000000000000000000000000000002",  # 8 in the index
               "200000000000000000000000000000" + format(now + 120, "x") + "000000002",  # future time
               "13bb2cc3d80000000000000000000000"]  # large date
    for digits in taken:
        kinesis.put_record(StreamName="order", Data=digits.encode(), PartitionKey="a",
                           SequenceNumberForOrdering=_hex_seq(digits))
    for digits in refused:
        seq = _hex_seq(digits)
        code, msg = error_of(kinesis.put_record, StreamName="order", Data=b"no", PartitionKey="a",
                             SequenceNumberForOrdering=seq)
        assert (code, msg) == ("InvalidArgumentException", f"ExclusiveMinimumSequenceNumber {seq} used in PutRecord "
                               f"on stream order under account {account} is invalid.")
    # the refused ones wrote nothing; the taken ones are there, in order
    assert [r["Data"] for r in read_all(kinesis, "order", S0)] == [d.encode() for d in taken]
    # a stream that does not exist is reported before a bad ordering number
    code, _ = error_of(kinesis.put_record, StreamName="nope", Data=b"x", PartitionKey="a",
                       SequenceNumberForOrdering=_hex_seq(refused[0]))
    assert code == "ResourceNotFoundException"


def test_starting_sequence_number_in_aws_layout(kinesis, account):
    # A number in AWS's own layout names its shard in hex digits 38-45 (kinesalite
    # test/getShardIterator.js, run against AWS: an 8 there encodes 'shardId--02147483648',
    # an 8 starting the sequence index makes the number invalid); one that names the shard
    # asked for but was not handed out by this stream "did not come from this stream"
    # (AWS's answer for 49629634598228923384296766558693603250810567226740965378 on
    # shardId-000000000000, quoted in elastic/helm-charts#1659)
    make_stream(kinesis, "layout", 1)

    def ask(seq: str) -> tuple[str, str]:
        return error_of(kinesis.get_shard_iterator, StreamName="layout", ShardId=S0,
                        ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=seq)

    seq = _hex_seq("20000000000000000000000000000000000000800000002")
    assert ask(seq) == ("InvalidArgumentException", "Invalid StartingSequenceNumber. It encodes "
                        "shardId--02147483648, while it was used in a call to a shard with shardId-000000000000")
    seq = _hex_seq("20000000000800000000000000000000000000000000002")
    assert ask(seq) == ("InvalidArgumentException", f"StartingSequenceNumber {seq} used in GetShardIterator on "
                        f"shard {S0} in stream layout under account {account} is invalid.")
    seq = "49629634598228923384296766558693603250810567226740965378"
    assert ask(seq) == ("InvalidArgumentException", f"StartingSequenceNumber {seq} used in GetShardIterator on "
                        f"shard {S0} in stream layout under account {account} is invalid because it did not come "
                        "from this stream.")


def test_stop_encryption_with_type_none(kinesis):
    # AWS's answer quoted in terraform-provider-aws (internal/service/kinesis/stream.go, the
    # comment on StopStreamEncryption): "InvalidArgumentException: Encryption type cannot be NONE."
    make_stream(kinesis, "enc", 1)
    kinesis.start_stream_encryption(StreamName="enc", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    wait_status(kinesis, "enc")
    for call in (kinesis.stop_stream_encryption, kinesis.start_stream_encryption):
        code, msg = error_of(call, StreamName="enc", EncryptionType="NONE", KeyId="alias/aws/kinesis")
        assert (code, msg) == ("InvalidArgumentException", "Encryption type cannot be NONE.")
    # nothing changed: still ACTIVE and encrypted with the same key
    d = kinesis.describe_stream_summary(StreamName="enc")["StreamDescriptionSummary"]
    assert (d["StreamStatus"], d["EncryptionType"], d["KeyId"]) == ("ACTIVE", "KMS", "alias/aws/kinesis")
