"""Kinesis as real clients use it: flows and error texts checked against what AWS sends.

Each test names the source of the AWS behaviour it holds cloudlet to. Libraries outside
the ``[test]`` extras are skipped when missing (``pytest.importorskip``).
"""

from __future__ import annotations

import base64
import os
import random

import pytest

from tests.services.kinesis.conftest import error_of, make_stream, wait_consumer

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
