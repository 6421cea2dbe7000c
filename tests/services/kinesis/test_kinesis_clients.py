"""Kinesis as real clients use it: flows and error texts checked against what AWS sends.

Each test names the source of the AWS behaviour it holds cloudlet to. Libraries outside
the ``[test]`` extras are skipped when missing (``pytest.importorskip``).
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import random
import subprocess

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.services.kinesis.conftest import error_of, make_stream, new_account, wait_consumer

S0 = "shardId-000000000000"


def _arn(client, name: str) -> str:
    return client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def test_delete_stream_with_consumers_names_enforce_consumer_deletion(kinesis, account):
    # AWS's text, quoted in hashicorp/terraform-provider-aws#8420, rebuy-de/aws-nuke#497 and
    # aws/aws-cli#3580: "DeleteStream can't delete <account>:<name> because there are consumers
    # associated with this data stream. To delete <name> anyway, set the EnforceConsumerDeletion
    # parameter to true to force the deletion of all the consumers that are associated with it."
    make_stream(kinesis, "withfans")
    arn = _arn(kinesis, "withfans")
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="fan")["Consumer"]
    code, msg = error_of(kinesis.delete_stream, StreamName="withfans")
    assert code == "ResourceInUseException"
    assert msg == (f"DeleteStream can't delete {account}:withfans because there are consumers associated with "
                   "this data stream. To delete withfans anyway, set the EnforceConsumerDeletion parameter to "
                   "true to force the deletion of all the consumers that are associated with it.")
    # the refused call changed nothing: the stream and its consumer are still there
    assert kinesis.describe_stream_summary(StreamName="withfans")["StreamDescriptionSummary"]["StreamStatus"] == \
        "ACTIVE"
    assert wait_consumer(kinesis, consumer["ConsumerARN"])["ConsumerName"] == "fan"
    # the same by ARN
    assert error_of(kinesis.delete_stream, StreamARN=arn)[1].startswith(f"DeleteStream can't delete {account}:")
    kinesis.delete_stream(StreamARN=arn, EnforceConsumerDeletion=True)


def test_kpl_aggregated_records_survive_byte_for_byte(kinesis):
    """Records packed by the KPL aggregation format (aws_kinesis_agg, the Python port of the
    KPL's aggregator) and unpacked by its deaggregator come back with the same partition keys
    and data, whichever shard each aggregate was routed to."""
    aggregator = pytest.importorskip("aws_kinesis_agg.aggregator")
    deaggregator = pytest.importorskip("aws_kinesis_agg.deaggregator")
    make_stream(kinesis, "kpl", shards=3)
    rng = random.Random(7)
    agg = aggregator.RecordAggregator(max_size=20000)
    sent, blobs = [], []
    for i in range(600):
        pk = f"user-{rng.randrange(60)}-\u00e9"
        data = os.urandom(rng.randrange(0, 200))
        ehk = str(rng.randrange(2**128)) if i % 5 == 0 else None
        sent.append((pk, data))
        ready = agg.add_user_record(pk, data, ehk)
        if ready:
            blobs.append(ready)
    last = agg.clear_and_get()
    if last:
        blobs.append(last)
    assert len(blobs) > 3
    for blob in blobs:
        pk, ehk, data = blob.get_contents()
        kwargs = {"ExplicitHashKey": ehk} if ehk else {}
        kinesis.put_record(StreamName="kpl", PartitionKey=pk, Data=data, **kwargs)
    got = []
    for shard in kinesis.list_shards(StreamName="kpl")["Shards"]:
        it = kinesis.get_shard_iterator(StreamName="kpl", ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while True:
            page = kinesis.get_records(ShardIterator=it)
            for user in deaggregator.iter_deaggregate_records(page["Records"], data_format="Boto3"):
                got.append((user["kinesis"]["partitionKey"], base64.b64decode(user["kinesis"]["data"])))
            if not page["Records"] and page["MillisBehindLatest"] == 0:
                break
            it = page["NextShardIterator"]
    assert sorted(got) == sorted(sent)


def test_list_shards_without_stream_or_token(raw):
    # kinesalite's listShards test, run against AWS: "Either NextToken or StreamName should be provided."
    assert error_of(raw.list_shards) == ("InvalidArgumentException",
                                         "Either NextToken or StreamName should be provided.")


def test_list_shards_paginator_is_refused_as_aws_refuses_it(kinesis):
    # botocore's ListShards paginator sends StreamName again with NextToken; AWS answers
    # "NextToken and StreamName cannot be provided together." (boto/botocore#2009, and the
    # clients that stopped doing it: harlow/kinesis-consumer#110, amazon-kinesis-producer#482)
    make_stream(kinesis, "paged", shards=3)
    pages = kinesis.get_paginator("list_shards").paginate(StreamName="paged", PaginationConfig={"PageSize": 2})
    with pytest.raises(ClientError) as info:
        list(pages)
    assert info.value.response["Error"]["Message"] == "NextToken and StreamName cannot be provided together."
    # what works on AWS works here: the token alone
    first = kinesis.list_shards(StreamName="paged", MaxResults=2)
    rest = kinesis.list_shards(NextToken=first["NextToken"], MaxResults=2)
    assert [s["ShardId"] for s in first["Shards"] + rest["Shards"]] == \
        [f"shardId-00000000000{i}" for i in range(3)]
    assert "NextToken" not in rest


def test_aiobotocore_put_and_get(server, account):
    aiobotocore_session = pytest.importorskip("aiobotocore.session")
    import asyncio

    from botocore.config import Config

    async def run():
        session = aiobotocore_session.get_session()
        async with session.create_client("kinesis", endpoint_url=server.url, region_name="us-east-1",
                                         aws_access_key_id=account, aws_secret_access_key="x",
                                         config=Config(retries={"max_attempts": 0})) as k:
            await k.create_stream(StreamName="aio", ShardCount=2)
            await k.get_waiter("stream_exists").wait(StreamName="aio", WaiterConfig={"Delay": 0.1})
            put = await k.put_records(StreamName="aio", Records=[
                {"Data": bytes([i]) * i, "PartitionKey": str(i)} for i in range(40)])
            assert put["FailedRecordCount"] == 0
            got = []
            for shard in (await k.list_shards(StreamName="aio"))["Shards"]:
                it = (await k.get_shard_iterator(StreamName="aio", ShardId=shard["ShardId"],
                                                 ShardIteratorType="TRIM_HORIZON"))["ShardIterator"]
                while True:
                    page = await k.get_records(ShardIterator=it, Limit=7)
                    got += [r["Data"] for r in page["Records"]]
                    if not page["Records"] and page["MillisBehindLatest"] == 0:
                        break
                    it = page["NextShardIterator"]
            assert sorted(got, key=len) == [bytes([i]) * i for i in range(40)]
            with pytest.raises(k.exceptions.ResourceNotFoundException):
                await k.describe_stream(StreamName="aio-missing")

    asyncio.run(run())


def test_javascript_sdk_v3_errors_and_records(server, account, node_modules):
    """@aws-sdk/client-kinesis (installed for tests/server/test_http2.py): errors come out as
    their modeled classes with AWS's status, blobs and timestamps as the SDK types them."""
    script = os.path.join(os.path.dirname(__file__), "kinesis_js_errors.mjs")
    out = subprocess.run(["node", "--no-warnings", script, server.url, account, "js"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])

    def err(name, message):
        return {"name": name, "status": 400, "fault": "client", "message": message, "modeled": True}

    assert got["missing"] == err("ResourceNotFoundException", f"Stream js-missing under account {account} not found.")
    assert got["exists"] == err("ResourceInUseException", f"Stream js under account {account} already exists.")
    assert got["iterator"] == err("InvalidArgumentException", "Invalid ShardIterator.")
    assert got["validation"] == err("InvalidArgumentException", "Maximum allowed retention period is 8760 hours. "
                                    "Requested retention period (9000 hours) is too long.")
    assert (got["data"], got["arrivalIsDate"], got["millisBehind"]) == (["000102ff"], True, 0)


def test_resubscribing_within_five_seconds_of_a_closed_subscription(own_server):
    # "If you call SubscribeToShard again with the same ConsumerARN and ShardId within 5 seconds
    # of a successful call, you'll get a ResourceInUseException" (SubscribeToShard API reference):
    # closing the first connection does not lift it (daangn/kinesumer#19 met it resubscribing fast)
    import time

    import httpx
    from botocore.eventstream import EventStreamBuffer

    account = new_account()
    k = make_client("kinesis", own_server.url, access_key=account)
    make_stream(k, "resub")
    carn = k.register_stream_consumer(StreamARN=_arn(k, "resub"), ConsumerName="app")["Consumer"]["ConsumerARN"]
    wait_consumer(k, carn)
    # the first subscription over HTTP/2, as the JS SDK makes it; leaving the block resets the
    # stream and closing the client ends the connection, which the server sees at once
    auth = f"AWS4-HMAC-SHA256 Credential={account}/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host, " \
           "Signature=abc"
    body = json.dumps({"ConsumerARN": carn, "ShardId": S0, "StartingPosition": {"Type": "LATEST"}}).encode()
    with httpx.Client(http1=False, http2=True, timeout=10) as client:
        with client.stream("POST", own_server.url + "/", content=body, headers={
                "X-Amz-Target": "Kinesis_20131202.SubscribeToShard", "Content-Type": "application/x-amz-json-1.1",
                "Authorization": auth}) as resp:
            assert resp.status_code == 200
            buf, seen = EventStreamBuffer(), []
            for chunk in resp.iter_raw():
                buf.add_data(chunk)
                seen += [m.headers[":event-type"] for m in buf]
                if "SubscribeToShardEvent" in seen:
                    break
    time.sleep(0.5)
    code, msg = error_of(k.subscribe_to_shard, ConsumerARN=carn, ShardId=S0, StartingPosition={"Type": "LATEST"})
    assert code == "ResourceInUseException" and msg.startswith("Another active subscription exists for this consumer")
    # 5 seconds after the first call, a new subscription is taken
    own_server.advance_clock(6)
    k.put_record(StreamName="resub", Data=b"x", PartitionKey="k")
    again = k.subscribe_to_shard(ConsumerARN=carn, ShardId=S0, StartingPosition={"Type": "TRIM_HORIZON"})
    assert next(iter(again["EventStream"]))["SubscribeToShardEvent"]["Records"][0]["Data"] == b"x"
    again["EventStream"].close()


def test_on_demand_stream_with_shard_count(kinesis):
    # "ShardCount is not expected when StreamMode=ON_DEMAND", as CloudFormation relayed it from
    # CreateStream (aws/aws-cdk#18247)
    assert error_of(kinesis.create_stream, StreamName="od", ShardCount=2,
                    StreamModeDetails={"StreamMode": "ON_DEMAND"}) == \
        ("InvalidArgumentException", "ShardCount is not expected when StreamMode=ON_DEMAND")
    assert error_of(kinesis.describe_stream_summary, StreamName="od")[0] == "ResourceNotFoundException"


def _read_everything(client, name: str) -> list[dict]:
    out = []
    for shard in client.list_shards(StreamName=name)["Shards"]:
        it = client.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"],
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        out += client.get_records(ShardIterator=it)["Records"]
    return out


def test_partition_key_is_optional_on_auto_streams_only(kinesis):
    # botocore 1.44's model makes PartitionKey optional: "If the stream uses the USER_PARTITION_KEY
    # record distribution strategy (the default), a partition key is required. If the stream uses
    # the AUTO record distribution strategy, the partition key is optional"; a record written
    # without one has none on reading ("this value is not returned if the producer did not
    # provide a partition key", Record.PartitionKey). Cloudlet answered 500 for a missing key.
    make_stream(kinesis, "bykey")
    code, msg = error_of(kinesis.put_record, StreamName="bykey", Data=b"x")
    assert (code, msg) == ("ValidationException", "1 validation error detected: Value null at 'partitionKey' "
                                                  "failed to satisfy constraint: Member must not be null")
    code, msg = error_of(kinesis.put_records, StreamName="bykey",
                         Records=[{"Data": b"x"}, {"Data": b"y", "PartitionKey": "k"}, {"Data": b"z"}])
    assert code == "ValidationException" and msg == (
        "2 validation errors detected: Value null at 'records.1.member.partitionKey' failed to satisfy "
        "constraint: Member must not be null; Value null at 'records.3.member.partitionKey' failed to satisfy "
        "constraint: Member must not be null")
    assert _read_everything(kinesis, "bykey") == []  # nothing of the refused requests was written

    kinesis.create_stream(StreamName="spread", StreamModeDetails={"StreamMode": "ON_DEMAND"},
                          RecordDistributionStrategy="AUTO")
    kinesis.get_waiter("stream_exists").wait(StreamName="spread", WaiterConfig={"Delay": 0.1})
    put = kinesis.put_record(StreamName="spread", Data=b"no key")
    assert put["SequenceNumber"].isdigit()
    assert kinesis.put_records(StreamName="spread", Records=[
        {"Data": b"none"}, {"Data": b"kept", "PartitionKey": "k"}])["FailedRecordCount"] == 0
    records = {r["Data"]: r for r in _read_everything(kinesis, "spread")}
    assert set(records) == {b"no key", b"none", b"kept"}
    assert "PartitionKey" not in records[b"no key"] and "PartitionKey" not in records[b"none"]
    assert records[b"kept"]["PartitionKey"] == "k"


def test_localstack_aws_validated_flows(kinesis):
    """Flows LocalStack's tests recorded against AWS (tests/aws/services/kinesis/test_kinesis.py):
    a consumer described by StreamARN and ConsumerARN together, a subscription AT_TIMESTAMP long
    before the stream existed (read from the trim horizon), and records whose data is empty,
    non-ASCII or long coming back as they were put."""
    make_stream(kinesis, "ls")
    arn = _arn(kinesis, "ls")
    carn = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="consumer")["Consumer"]["ConsumerARN"]
    wait_consumer(kinesis, carn)
    desc = kinesis.describe_stream_consumer(StreamARN=arn, ConsumerARN=carn)["ConsumerDescription"]
    assert (desc["ConsumerName"], desc["ConsumerStatus"], desc["StreamARN"]) == ("consumer", "ACTIVE", arn)
    data = ["test", "ünicödé 统一码 💣💻🔥", "a" * 1000, ""]
    for d in data:
        kinesis.put_record(StreamName="ls", Data=d, PartitionKey="1")
    sub = kinesis.subscribe_to_shard(ConsumerARN=carn, ShardId=S0, StartingPosition={
        "Type": "AT_TIMESTAMP", "Timestamp": datetime.datetime(2015, 1, 1)})
    got = []
    for event in sub["EventStream"]:
        got += [r["Data"] for r in event["SubscribeToShardEvent"]["Records"]]
        if len(got) >= len(data):
            break
    sub["EventStream"].close()
    assert got == [d.encode() for d in data]


# Every operation that takes both StreamName and StreamARN, with the other members it needs.
_BY_ARN = {
    "AddTagsToStream": {"Tags": {"team": "a"}},
    "DecreaseStreamRetentionPeriod": {"RetentionPeriodHours": 24},
    "DeleteStream": {},
    "DescribeStream": {},
    "DescribeStreamSummary": {},
    "DisableEnhancedMonitoring": {"ShardLevelMetrics": ["ALL"]},
    "EnableEnhancedMonitoring": {"ShardLevelMetrics": ["IncomingBytes"]},
    "GetShardIterator": {"ShardId": S0, "ShardIteratorType": "LATEST"},
    "IncreaseStreamRetentionPeriod": {"RetentionPeriodHours": 48},
    "ListShards": {},
    "ListTagsForStream": {},
    "MergeShards": {"ShardToMerge": "shardId-000000000001", "AdjacentShardToMerge": "shardId-000000000002"},
    "PutRecord": {"Data": b"x", "PartitionKey": "k"},
    "PutRecords": {"Records": [{"Data": b"x", "PartitionKey": "k"}]},
    "RemoveTagsFromStream": {"TagKeys": ["team"]},
    "SplitShard": {"ShardToSplit": S0, "NewStartingHashKey": str(2**126)},
    "StartStreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
    "StopStreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
    "UpdateShardCount": {"TargetShardCount": 2, "ScalingType": "UNIFORM_SCALING"},
    "UpdateStreamWarmThroughput": None,  # on-demand streams with a billing commitment only
}


def _snake(op: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")


def test_stream_arn_on_every_operation_and_a_disagreeing_stream_name(slow, slow_server):
    """Each operation that takes StreamName or StreamARN ("you must use either the StreamARN or
    the StreamName parameter, or both") works with StreamARN alone; with both naming different
    streams it is refused and changes nothing."""
    from tests.services.kinesis.conftest import make_slow_stream, settle

    model = slow.meta.service_model
    both = {op for op in model.operation_names
            if {"StreamName", "StreamARN"} <= set(model.operation_model(op).input_shape.members)}
    assert both == set(_BY_ARN)
    make_slow_stream(slow, slow_server, "target")
    make_slow_stream(slow, slow_server, "other")
    arn = _arn(slow, "target")
    last = ["SplitShard", "MergeShards", "UpdateShardCount", "DeleteStream"]  # in this order, on one shard
    order = [op for op in _BY_ARN if op not in last and op != "UpdateStreamWarmThroughput"] + last
    for op in order:
        call = getattr(slow, _snake(op))
        before = slow.describe_stream(StreamName="target")["StreamDescription"]
        code, _ = error_of(call, StreamARN=arn, StreamName="other", **_BY_ARN[op])
        assert code == "InvalidArgumentException", op
        assert slow.describe_stream(StreamName="target")["StreamDescription"] == before, op
        call(StreamARN=arn, **_BY_ARN[op])
        settle(slow_server)
    assert error_of(slow.describe_stream_summary, StreamARN=arn)[0] == "ResourceNotFoundException"
    assert slow.describe_stream_summary(StreamName="other")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"


def test_an_empty_record_list_is_quoted_like_a_scalar(raw):
    """'Value '[]' at 'records'': coral services quote a list value (kinesalite's putRecords test, run against AWS)."""
    assert error_of(raw.put_records, StreamName="any-stream", Records=[]) == (
        "ValidationException", "1 validation error detected: Value '[]' at 'records' "
        "failed to satisfy constraint: Member must have length greater than or equal to 1")


def test_at_most_ten_violations_are_reported(raw):
    """AWS reports (and counts) at most 10 violations (kinesalite's putRecords test, run against AWS)."""
    code, message = error_of(raw.put_records, StreamName="any-stream",
                             Records=[{"Data": b"x", "PartitionKey": ""} for _ in range(12)])
    assert code == "ValidationException"
    assert message.startswith("10 validation errors detected: ")
    assert message.count("failed to satisfy constraint") == 10
