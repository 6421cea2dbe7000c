"""Differences from AWS found by a QA pass, each pinned by the source that shows AWS's behaviour.

The server here has a shard quota of 50 (as kinesalite's tests against AWS use) and status
transitions that last until the test moves its clock, so "still UPDATING" is a fact.
"""

from __future__ import annotations

import pytest

from tests.conftest import ServerProcess, make_client
from tests.services.kinesis.conftest import SLOW_TRANSITION, error_of, settle

S0 = "shardId-000000000000"


@pytest.fixture(scope="module")
def srv():
    s = ServerProcess(env={"CLOUDLET_KINESIS_SHARD_LIMIT": "50",
                           "CLOUDLET_KINESIS_TRANSITION_SECONDS": str(SLOW_TRANSITION)}).start()
    yield s
    s.stop()


@pytest.fixture
def k(srv, account):
    return make_client("kinesis", srv.url, access_key=account)


def create(client, server, name: str, shards: int = 1, **kw) -> dict:
    client.create_stream(StreamName=name, ShardCount=shards, **kw)
    settle(server)
    return client.describe_stream(StreamName=name)["StreamDescription"]


def test_update_shard_count_checks_the_shard_limit_before_the_doubling_rule(k, srv):
    # kinesalite test/updateShardCount.js, run against AWS: a 10-shard stream asked for
    # limit + 2 shards is refused by the shard limit, not by "cannot scale up over double"
    create(k, srv, "usc", 10)
    code, msg = error_of(k.update_shard_count, StreamName="usc", TargetShardCount=52, ScalingType="UNIFORM_SCALING")
    assert (code, msg) == ("LimitExceededException", "Target shard count or number of open shards cannot be "
                                                     "greater than 50. Current open shard count: 10, Target shard "
                                                     "count: 52")
    # nothing changed: still ACTIVE with its 10 shards, and the refused call used none of the
    # ten scalings a day
    d = k.describe_stream(StreamName="usc")["StreamDescription"]
    assert d["StreamStatus"] == "ACTIVE" and len(d["Shards"]) == 10
    for _ in range(10):
        k.update_shard_count(StreamName="usc", TargetShardCount=10, ScalingType="UNIFORM_SCALING")
        settle(srv)
    code, _ = error_of(k.update_shard_count, StreamName="usc", TargetShardCount=10, ScalingType="UNIFORM_SCALING")
    assert code == "LimitExceededException"


def test_get_records_accepts_an_iterator_in_double_quotes(k, srv):
    # LocalStack's AWS-validated test_get_records_shard_iterator_with_surrounding_quotes
    create(k, srv, "quoted")
    k.put_records(StreamName="quoted", Records=[{"Data": b"Hello world", "PartitionKey": "1"}])
    it = k.get_shard_iterator(StreamName="quoted", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    resp = k.get_records(ShardIterator=f'"{it}"')
    assert [r["Data"] for r in resp["Records"]] == [b"Hello world"]
    assert error_of(k.get_records, ShardIterator=f'"{it}')[0] == "InvalidArgumentException"


def test_every_next_shard_iterator_is_new(k, srv):
    # LocalStack's AWS-validated test_get_records_next_shard_iterator: GetRecords on an empty
    # shard answers a NextShardIterator unlike the one it was given, and unlike the one before
    create(k, srv, "fresh")
    for _ in range(20):
        it = k.get_shard_iterator(StreamName="fresh", ShardId=S0, ShardIteratorType="LATEST")["ShardIterator"]
        first = k.get_records(ShardIterator=it)["NextShardIterator"]
        second = k.get_records(ShardIterator=first)["NextShardIterator"]
        assert len({it, first, second}) == 3
        assert k.get_records(ShardIterator=second)["Records"] == []


def test_list_shards_refuses_a_stream_that_is_not_active_or_updating(k, srv, account):
    # The KCL (KinesisShardDetector.listShards) takes ResourceInUseException from ListShards as
    # "Stream is not in Active/Updating status" and waits: CREATING and DELETING are refused
    k.create_stream(StreamName="ls", ShardCount=2)
    code, msg = error_of(k.list_shards, StreamName="ls")
    assert (code, msg) == ("ResourceInUseException", f"Stream ls under account {account} not ACTIVE, instead in state "
                                                     "CREATING")
    settle(srv)
    k.split_shard(StreamName="ls", ShardToSplit=S0, NewStartingHashKey=str(1 << 125))
    assert len(k.list_shards(StreamName="ls")["Shards"]) == 2  # UPDATING still lists
    settle(srv)
    assert len(k.list_shards(StreamName="ls")["Shards"]) == 4
    page = k.list_shards(StreamName="ls", MaxResults=1)
    k.delete_stream(StreamName="ls")
    code, msg = error_of(k.list_shards, StreamName="ls")
    assert (code, msg) == ("ResourceInUseException", f"Stream ls under account {account} not ACTIVE, instead in state "
                                                     "DELETING")
    assert error_of(k.list_shards, NextToken=page["NextToken"])[0] == "ResourceInUseException"
    assert k.describe_stream_summary(StreamName="ls")["StreamDescriptionSummary"]["StreamStatus"] == "DELETING"


def test_create_stream_without_shard_count_has_four_shards(k, srv):
    # LocalStack's AWS-validated test_create_stream_without_shard_count: CreateStream with
    # only a StreamName succeeds, and the stream has 4 shards over the whole hash key range
    k.create_stream(StreamName="nocount")
    settle(srv)
    d = k.describe_stream(StreamName="nocount")["StreamDescription"]
    shards = d["Shards"]
    assert [s["ShardId"] for s in shards] == [f"shardId-00000000000{i}" for i in range(4)]
    assert shards[0]["HashKeyRange"]["StartingHashKey"] == "0"
    assert shards[-1]["HashKeyRange"]["EndingHashKey"] == str((1 << 128) - 1)
    assert d["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert k.describe_limits()["OpenShardCount"] == 4


def _register(k, srv, arn: str, names) -> None:
    for i, name in enumerate(names, 1):
        k.register_stream_consumer(StreamARN=arn, ConsumerName=name)
        if i % 5 == 0:
            settle(srv)  # at most 5 consumers may be CREATING at once


def test_on_demand_advantage_streams_take_50_consumers(k, srv):
    # RegisterStreamConsumer (API reference): "With On-demand Advantage streams, you can register
    # up to 50 consumers per stream ... With On-demand Standard and Provisioned streams, ... up
    # to 20". On-demand Advantage is the account-level billing commitment.
    k.create_stream(StreamName="prov", ShardCount=1)
    k.create_stream(StreamName="std", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    settle(srv)
    arns = {n: k.describe_stream_summary(StreamName=n)["StreamDescriptionSummary"]["StreamARN"]
            for n in ("prov", "std")}
    _register(k, srv, arns["std"], [f"c{i}" for i in range(20)])
    code, _ = error_of(k.register_stream_consumer, StreamARN=arns["std"], ConsumerName="c20")
    assert code == "LimitExceededException"  # On-demand Standard: 20
    k.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
    _register(k, srv, arns["std"], [f"c{i}" for i in range(20, 50)])
    code, _ = error_of(k.register_stream_consumer, StreamARN=arns["std"], ConsumerName="c50")
    assert code == "LimitExceededException"
    assert len(k.list_stream_consumers(StreamARN=arns["std"], MaxResults=100)["Consumers"]) == 50
    # provisioned streams keep the limit of 20 in Advantage mode too
    _register(k, srv, arns["prov"], [f"p{i}" for i in range(20)])
    code, _ = error_of(k.register_stream_consumer, StreamARN=arns["prov"], ConsumerName="p20")
    assert code == "LimitExceededException"
    assert len(k.list_stream_consumers(StreamARN=arns["prov"])["Consumers"]) == 20


def _pipelined(server, account: str, calls: list[tuple[str, dict]]) -> list[tuple[int, dict]]:
    """Send Kinesis JSON calls back to back on one connection in one write: the server answers
    them in order before its event loop runs anything else (such as the retention sweeper)."""
    import json
    import socket

    host, port = "127.0.0.1", server.port
    auth = (f"AWS4-HMAC-SHA256 Credential={account}/20260101/us-east-1/kinesis/aws4_request, "
            "SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + "0" * 64)
    raw = b""
    for op, body in calls:
        payload = json.dumps(body).encode()
        raw += (f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\nX-Amz-Target: Kinesis_20131202.{op}\r\n"
                f"Content-Type: application/x-amz-json-1.1\r\nX-Amz-Date: 20260101T000000Z\r\n"
                f"Authorization: {auth}\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload
    out = []
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(raw)
        f = sock.makefile("rb")
        for _ in calls:
            status = int(f.readline().split()[1])
            length = 0
            while (line := f.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            out.append((status, json.loads(f.read(length) or b"{}")))
    return out


def test_increasing_retention_does_not_bring_back_expired_records(k, srv, account):
    # IncreaseStreamRetentionPeriod (API reference): "it does not make previous, expired data
    # (older than the stream's previous retention period) accessible after the operation has
    # been called". The calls go in one pipelined write so that the retention sweeper has not
    # deleted the expired records yet: only the rule itself hides them.
    create(k, srv, "keep")
    k.increase_stream_retention_period(StreamName="keep", RetentionPeriodHours=48)
    k.put_records(StreamName="keep", Records=[{"Data": b"old", "PartitionKey": str(i)} for i in range(10)])
    srv.advance_clock(30 * 3600)  # 30 h old: still inside 48 h
    it = k.get_shard_iterator(StreamName="keep", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    answers = _pipelined(srv, account, [
        ("DecreaseStreamRetentionPeriod", {"StreamName": "keep", "RetentionPeriodHours": 24}),
        ("IncreaseStreamRetentionPeriod", {"StreamName": "keep", "RetentionPeriodHours": 48}),
        ("GetRecords", {"ShardIterator": it}),
    ])
    assert [status for status, _ in answers] == [200, 200, 200]
    assert answers[2][1]["Records"] == []
    assert k.describe_stream_summary(StreamName="keep")["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48
    it = k.get_shard_iterator(StreamName="keep", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert k.get_records(ShardIterator=it)["Records"] == []
    # records written after the change live the full 48 hours
    k.put_record(StreamName="keep", Data=b"new", PartitionKey="k")
    srv.advance_clock(30 * 3600)
    it = k.get_shard_iterator(StreamName="keep", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in k.get_records(ShardIterator=it)["Records"]] == [b"new"]


def test_switching_to_on_demand_counts_against_the_on_demand_stream_limit(k, srv, account):
    # DescribeLimits' OnDemandStreamCountLimit, "the maximum number of data streams with the
    # on-demand capacity mode", holds for a stream switched to on-demand as for one created so
    for i in range(50):
        k.create_stream(StreamName=f"od{i}", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    k.create_stream(StreamName="prov", ShardCount=1)
    settle(srv)
    limits = k.describe_limits()
    assert (limits["OnDemandStreamCount"], limits["OnDemandStreamCountLimit"]) == (50, 50)
    arn = k.describe_stream_summary(StreamName="prov")["StreamDescriptionSummary"]["StreamARN"]
    code, msg = error_of(k.update_stream_mode, StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert code == "LimitExceededException"
    # AWS's text (quoted from the console in hashicorp/terraform-provider-aws#38094)
    limit_text = (f"This request would exceed the limit on the number of On-Demand streams for the account {account} "
                  "in us-east-1. Current On-Demand streams count: 50. Limit: 50.")
    assert msg == limit_text
    # the same for a 51st on-demand stream created so, which is not created
    assert error_of(k.create_stream, StreamName="od50", StreamModeDetails={"StreamMode": "ON_DEMAND"}) == \
        ("LimitExceededException", limit_text)
    assert error_of(k.describe_stream_summary, StreamName="od50")[0] == "ResourceNotFoundException"
    summary = k.describe_stream_summary(StreamName="prov")["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE" and summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert k.describe_limits()["OnDemandStreamCount"] == 50
    k.delete_stream(StreamName="od0")
    settle(srv)
    k.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    settle(srv)
    assert k.describe_limits()["OnDemandStreamCount"] == 50
