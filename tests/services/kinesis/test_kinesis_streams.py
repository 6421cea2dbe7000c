"""Stream control plane through boto3: create, describe, list, delete, retention, limits,
monitoring, encryption, modes, record size, warm throughput, account settings."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ParamValidationError

from tests.services.kinesis.conftest import (
    error_of, make_slow_stream, make_stream, settle, wait_active, wait_status,
)

MAX_HASH = (1 << 128) - 1


def test_create_describe_and_waiter(slow, slow_server, account):
    # CREATING lasts until the test moves the slow server's clock: no race with a 0.5 s transition
    kinesis = slow
    kinesis.create_stream(StreamName="s1", ShardCount=3)
    desc = kinesis.describe_stream(StreamName="s1")["StreamDescription"]
    assert desc["StreamStatus"] == "CREATING" and desc["Shards"] == [] and desc["HasMoreShards"] is False
    settle(slow_server)
    desc = wait_active(kinesis, "s1")
    assert desc["StreamARN"] == f"arn:aws:kinesis:us-east-1:{account}:stream/s1"
    assert desc["RetentionPeriodHours"] == 24 and desc["EncryptionType"] == "NONE"
    assert desc["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert desc["EnhancedMonitoring"] == [{"ShardLevelMetrics": []}]
    shards = desc["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    assert shards[0]["HashKeyRange"] == {"StartingHashKey": "0",
                                         "EndingHashKey": "113427455640312821154458202477256070484"}
    assert shards[2]["HashKeyRange"]["EndingHashKey"] == str(MAX_HASH)
    for s in shards:
        seq = s["SequenceNumberRange"]["StartingSequenceNumber"]
        assert len(seq) == 56 and seq.isdigit() and "EndingSequenceNumber" not in s["SequenceNumberRange"]
    summary = kinesis.describe_stream_summary(StreamName="s1")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 3 and summary["ConsumerCount"] == 0
    assert summary["MaxRecordSizeInKiB"] == 1024
    # StreamId is "Not Implemented. Reserved for future use." in the model: AWS does not send it
    assert "StreamId" not in summary
    by_arn = kinesis.describe_stream_summary(StreamARN=desc["StreamARN"])["StreamDescriptionSummary"]
    assert by_arn["StreamName"] == "s1"


def test_create_errors_leave_nothing_behind(kinesis, raw, account):
    code, msg = error_of(raw.create_stream, StreamName="bad name!", ShardCount=1)
    assert code == "ValidationException"
    assert "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+" in msg
    code, msg = error_of(raw.create_stream, StreamName="x" * 129, ShardCount=1)
    assert code == "ValidationException" and "length less than or equal to 128" in msg
    code, msg = error_of(raw.create_stream, StreamName="zero", ShardCount=0)
    assert (code, msg) == ("ValidationException", "1 validation error detected: Value '0' at 'shardCount' failed "
                                                  "to satisfy constraint: Member must have value greater than or "
                                                  "equal to 1")
    code, msg = error_of(raw.create_stream, ShardCount=1)
    assert (code, msg) == ("ValidationException", "1 validation error detected: Value null at 'streamName' failed "
                                                  "to satisfy constraint: Member must not be null")
    code, msg = error_of(kinesis.create_stream, StreamName="toomany", ShardCount=501)
    assert code == "LimitExceededException"
    assert msg.startswith(f"This request would exceed the shard limit for the account {account} in us-east-1.")
    code, _ = error_of(kinesis.create_stream, StreamName="od", ShardCount=2,
                       StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert code == "InvalidArgumentException"
    code, _ = error_of(kinesis.create_stream, StreamName="badtags", ShardCount=1, Tags={"a;b": "c"})
    assert code == "InvalidArgumentException"
    assert kinesis.list_streams()["StreamNames"] == []
    make_stream(kinesis, "dup")
    code, msg = error_of(kinesis.create_stream, StreamName="dup", ShardCount=2)
    assert (code, msg) == ("ResourceInUseException", f"Stream dup under account {account} already exists.")
    assert len(kinesis.describe_stream(StreamName="dup")["StreamDescription"]["Shards"]) == 1


def test_missing_and_unknown_streams(kinesis, account):
    with pytest.raises(ParamValidationError):
        kinesis.create_stream(ShardCount=1)  # boto3 checks required members itself
    code, msg = error_of(kinesis.describe_stream, StreamName="nope")
    assert (code, msg) == ("ResourceNotFoundException", f"Stream nope under account {account} not found.")
    for call in (kinesis.describe_stream_summary, kinesis.delete_stream, kinesis.list_shards,
                 kinesis.list_tags_for_stream):
        assert error_of(call, StreamName="nope")[0] == "ResourceNotFoundException"
    code, _ = error_of(kinesis.describe_stream_summary)
    assert code == "InvalidArgumentException"
    code, _ = error_of(kinesis.describe_stream, StreamARN=f"arn:aws:kinesis:us-east-1:{account}:stream/nope")
    assert code == "ResourceNotFoundException"
    make_stream(kinesis, "real")
    code, _ = error_of(kinesis.describe_stream, StreamName="other",
                       StreamARN=f"arn:aws:kinesis:us-east-1:{account}:stream/real")
    assert code == "InvalidArgumentException"


def test_accounts_and_regions_are_isolated(server, kinesis, account):
    from tests.conftest import make_client
    from tests.services.kinesis.conftest import new_account

    make_stream(kinesis, "mine")
    other = make_client("kinesis", server.url, access_key=new_account())
    assert other.list_streams()["StreamNames"] == []
    west = make_client("kinesis", server.url, access_key=account, region="eu-west-1")
    assert west.list_streams()["StreamNames"] == []
    make_stream(west, "mine", 2)  # same name, other region
    assert len(kinesis.describe_stream(StreamName="mine")["StreamDescription"]["Shards"]) == 1
    # another account reaches a stream by ARN only through a resource policy
    arn = kinesis.describe_stream_summary(StreamName="mine")["StreamDescriptionSummary"]["StreamARN"]
    assert error_of(other.describe_stream_summary, StreamARN=arn)[0] == "AccessDeniedException"


def test_list_streams_pagination(kinesis):
    names = [f"st-{i:02d}" for i in range(7)]
    for n in names:
        kinesis.create_stream(StreamName=n, ShardCount=1)
    first = kinesis.list_streams(Limit=3)
    assert first["StreamNames"] == names[:3] and first["HasMoreStreams"] is True
    assert [s["StreamName"] for s in first["StreamSummaries"]] == names[:3]
    assert {s["StreamStatus"] for s in first["StreamSummaries"]} <= {"CREATING", "ACTIVE"}
    second = kinesis.list_streams(Limit=3, ExclusiveStartStreamName=names[2])
    assert second["StreamNames"] == names[3:6]
    by_token = kinesis.list_streams(NextToken=first["NextToken"], Limit=10)
    assert by_token["StreamNames"] == names[3:] and by_token["HasMoreStreams"] is False
    assert error_of(kinesis.list_streams, NextToken="garbage")[0] == "InvalidArgumentException"
    paginated = [n for page in kinesis.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2})
                 for n in page["StreamNames"]]
    assert paginated == names


def test_delete_stream_and_states(slow, slow_server, account):
    # transitions last until settle(): CREATING, DELETING and UPDATING are seen for sure
    kinesis = slow
    kinesis.create_stream(StreamName="quick", ShardCount=1)
    kinesis.delete_stream(StreamName="quick")  # deleting while CREATING is allowed
    assert kinesis.describe_stream(StreamName="quick")["StreamDescription"]["StreamStatus"] == "DELETING"
    settle(slow_server)
    kinesis.get_waiter("stream_not_exists").wait(StreamName="quick", WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    kinesis.create_stream(StreamName="upd", ShardCount=2)
    settle(slow_server)
    kinesis.split_shard(StreamName="upd", ShardToSplit="shardId-000000000000", NewStartingHashKey="12345")
    code, msg = error_of(kinesis.delete_stream, StreamName="upd")
    assert code == "ResourceInUseException"
    assert msg == f"Stream upd under account {account} not ACTIVE, instead in state UPDATING"
    settle(slow_server)
    wait_status(kinesis, "upd")
    kinesis.put_record(StreamName="upd", Data=b"x", PartitionKey="k")
    kinesis.delete_stream(StreamName="upd")
    settle(slow_server)
    kinesis.get_waiter("stream_not_exists").wait(StreamName="upd", WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    # the name is free again and the new stream starts empty
    make_slow_stream(kinesis, slow_server, "upd", 1)
    it = kinesis.get_shard_iterator(StreamName="upd", ShardId="shardId-000000000000",
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert kinesis.get_records(ShardIterator=it)["Records"] == []


def test_retention_period_rules(kinesis, account):
    make_stream(kinesis, "ret")
    code, msg = error_of(kinesis.increase_stream_retention_period, StreamName="ret", RetentionPeriodHours=23)
    assert (code, msg) == ("InvalidArgumentException", "Minimum allowed retention period is 24 hours. "
                                                       "Requested retention period (23 hours) is too short.")
    code, msg = error_of(kinesis.increase_stream_retention_period, StreamName="ret", RetentionPeriodHours=8761)
    assert msg == "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long."
    code, msg = error_of(kinesis.decrease_stream_retention_period, StreamName="ret", RetentionPeriodHours=25)
    assert msg == ("Requested retention period (25 hours) for stream ret can not be longer than existing "
                   "retention period (24 hours). Use IncreaseRetentionPeriod API.")
    assert kinesis.describe_stream(StreamName="ret")["StreamDescription"]["RetentionPeriodHours"] == 24
    kinesis.increase_stream_retention_period(StreamName="ret", RetentionPeriodHours=8760)
    assert kinesis.describe_stream(StreamName="ret")["StreamDescription"]["RetentionPeriodHours"] == 8760
    code, msg = error_of(kinesis.increase_stream_retention_period, StreamName="ret", RetentionPeriodHours=48)
    assert msg == ("Requested retention period (48 hours) for stream ret can not be shorter than existing "
                   "retention period (8760 hours). Use DecreaseRetentionPeriod API.")
    kinesis.decrease_stream_retention_period(StreamName="ret", RetentionPeriodHours=48)
    assert kinesis.describe_stream(StreamName="ret")["StreamDescription"]["RetentionPeriodHours"] == 48
    assert error_of(kinesis.increase_stream_retention_period, StreamName="none",
                    RetentionPeriodHours=48)[0] == "ResourceNotFoundException"


def test_describe_limits_counts_open_shards(kinesis):
    limits = kinesis.describe_limits()
    assert limits["ShardLimit"] == 500 and limits["OpenShardCount"] == 0
    make_stream(kinesis, "a", 3)
    kinesis.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    wait_active(kinesis, "od")
    limits = kinesis.describe_limits()
    assert limits["OpenShardCount"] == 3 and limits["OnDemandStreamCount"] == 1
    assert limits["OnDemandStreamCountLimit"] == 50
    od = kinesis.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
    assert od["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"} and od["OpenShardCount"] == 4


def test_enhanced_monitoring(slow, slow_server, raw):
    kinesis = slow  # UPDATING lasts until settle(): the second call meets it for sure
    make_slow_stream(kinesis, slow_server, "mon")
    out = kinesis.enable_enhanced_monitoring(StreamName="mon", ShardLevelMetrics=["IncomingBytes", "OutgoingRecords"])
    assert out["CurrentShardLevelMetrics"] == [] and out["DesiredShardLevelMetrics"] == ["IncomingBytes",
                                                                                         "OutgoingRecords"]
    assert error_of(kinesis.enable_enhanced_monitoring, StreamName="mon",
                    ShardLevelMetrics=["ALL"])[0] == "ResourceInUseException"
    settle(slow_server)
    wait_status(kinesis, "mon")
    desc = kinesis.describe_stream(StreamName="mon")["StreamDescription"]
    assert desc["EnhancedMonitoring"] == [{"ShardLevelMetrics": ["IncomingBytes", "OutgoingRecords"]}]
    out = kinesis.enable_enhanced_monitoring(StreamName="mon", ShardLevelMetrics=["ALL"])
    assert len(out["DesiredShardLevelMetrics"]) == 7
    settle(slow_server)
    wait_status(kinesis, "mon")
    out = kinesis.disable_enhanced_monitoring(StreamName="mon", ShardLevelMetrics=["IncomingBytes"])
    assert "IncomingBytes" not in out["DesiredShardLevelMetrics"] and len(out["DesiredShardLevelMetrics"]) == 6
    code, msg = error_of(raw.enable_enhanced_monitoring, StreamName="mon", ShardLevelMetrics=["Bogus"])
    assert code == "ValidationException" and "enum value set" in msg


def test_encryption_is_reflected_on_records(slow, slow_server):
    kinesis = slow  # UPDATING lasts until settle(): the second call meets it for sure
    make_slow_stream(kinesis, slow_server, "enc")
    before = kinesis.put_record(StreamName="enc", Data=b"plain", PartitionKey="k")
    assert "EncryptionType" not in before
    kinesis.start_stream_encryption(StreamName="enc", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert error_of(kinesis.start_stream_encryption, StreamName="enc", EncryptionType="KMS",
                    KeyId="alias/aws/kinesis")[0] == "ResourceInUseException"
    settle(slow_server)
    desc = wait_status(kinesis, "enc")
    assert desc["EncryptionType"] == "KMS" and desc["KeyId"] == "alias/aws/kinesis"
    after = kinesis.put_record(StreamName="enc", Data=b"secret", PartitionKey="k")
    assert after["EncryptionType"] == "KMS"
    batch = kinesis.put_records(StreamName="enc", Records=[{"Data": b"s2", "PartitionKey": "k"}])
    assert batch["EncryptionType"] == "KMS"
    it = kinesis.get_shard_iterator(StreamName="enc", ShardId="shardId-000000000000",
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = kinesis.get_records(ShardIterator=it)["Records"]
    assert [r.get("EncryptionType") for r in recs] == [None, "KMS", "KMS"]
    kinesis.stop_stream_encryption(StreamName="enc", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    settle(slow_server)
    assert wait_status(kinesis, "enc")["EncryptionType"] == "NONE"
    assert "EncryptionType" not in kinesis.put_record(StreamName="enc", Data=b"p", PartitionKey="k")


def test_stream_mode_and_warm_throughput(kinesis):
    make_stream(kinesis, "mode", 2)
    arn = kinesis.describe_stream_summary(StreamName="mode")["StreamDescriptionSummary"]["StreamARN"]
    assert error_of(kinesis.update_stream_mode, StreamARN=arn,
                    StreamModeDetails={"StreamMode": "PROVISIONED"})[0] == "InvalidArgumentException"
    # warm throughput needs an on-demand stream and the account's billing commitment
    assert error_of(kinesis.update_stream_warm_throughput, StreamARN=arn,
                    WarmThroughputMiBps=100)[0] == "InvalidArgumentException"
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert wait_status(kinesis, "mode")["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    code, _ = error_of(kinesis.split_shard, StreamName="mode", ShardToSplit="shardId-000000000000",
                       NewStartingHashKey="100")
    assert code == "ValidationException"
    assert error_of(kinesis.update_stream_warm_throughput, StreamARN=arn,
                    WarmThroughputMiBps=100)[0] == "InvalidArgumentException"
    out = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
    assert out["MinimumThroughputBillingCommitment"]["Status"] == "ENABLED"
    warm = kinesis.update_stream_warm_throughput(StreamARN=arn, WarmThroughputMiBps=100)
    assert warm["WarmThroughput"] == {"TargetMiBps": 100, "CurrentMiBps": 0} and warm["StreamName"] == "mode"
    summary = wait_status(kinesis, "mode")
    assert summary["WarmThroughput"] == {"TargetMiBps": 100, "CurrentMiBps": 100}
    assert error_of(kinesis.update_stream_warm_throughput, StreamARN=arn,
                    WarmThroughputMiBps=20000)[0] == "LimitExceededException"
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    wait_status(kinesis, "mode")
    # a third switch inside 24 hours is refused
    code, _ = error_of(kinesis.update_stream_mode, StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert code == "LimitExceededException"
    assert kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamModeDetails"] == \
        {"StreamMode": "PROVISIONED"}


def test_account_settings(kinesis, raw):
    out = kinesis.describe_account_settings()
    assert out["MinimumThroughputBillingCommitment"] == {"Status": "DISABLED"}
    enabled = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
    c = enabled["MinimumThroughputBillingCommitment"]
    assert c["Status"] == "ENABLED" and "StartedAt" in c and "EarliestAllowedEndAt" in c
    disabled = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "DISABLED"})
    # within the minimum commitment it runs on until its earliest allowed end
    assert disabled["MinimumThroughputBillingCommitment"]["Status"] == "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
    assert kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"] == \
        "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
    code, _ = error_of(raw.update_account_settings, MinimumThroughputBillingCommitment={"Status": "MAYBE"})
    assert code == "ValidationException"


def test_max_record_size(kinesis, raw, account):
    make_stream(kinesis, "big")
    arn = kinesis.describe_stream_summary(StreamName="big")["StreamDescriptionSummary"]["StreamARN"]
    code, msg = error_of(kinesis.put_record, StreamName="big", Data=b"x" * (1024 * 1024 + 1), PartitionKey="k")
    assert code == "ValidationException"
    assert msg == ("1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' "
                   "at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576")
    assert error_of(raw.update_max_record_size, StreamARN=arn,
                    MaxRecordSizeInKiB=100)[0] == "ValidationException"
    kinesis.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=2048)
    assert wait_status(kinesis, "big")["MaxRecordSizeInKiB"] == 2048
    kinesis.put_record(StreamName="big", Data=b"x" * (1024 * 1024 + 1), PartitionKey="k")
    code, _ = error_of(kinesis.put_record, StreamName="big", Data=b"x" * (2048 * 1024 + 1), PartitionKey="k")
    assert code == "ValidationException"
    kinesis.create_stream(StreamName="big2", ShardCount=1, MaxRecordSizeInKiB=4096)
    assert wait_status(kinesis, "big2")["MaxRecordSizeInKiB"] == 4096


def test_transition_finishes_without_requests(kinesis):
    """The stream becomes ACTIVE on a timer, not only when someone looks."""
    kinesis.create_stream(StreamName="timer", ShardCount=1)
    time.sleep(1.0)
    assert kinesis.list_streams()["StreamSummaries"][0]["StreamStatus"] == "ACTIVE"
