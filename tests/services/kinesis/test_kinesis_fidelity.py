"""Black-box checks of cloudlet's Kinesis against the documented behaviour of real Kinesis,
written the way a user's test-suite would use it: boto3 (waiters, paginators, modeled
exception classes) and the AWS CLI, against a server of this module's own."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import threading
import time

import pytest

from tests.conftest import ServerProcess, make_client
from tests.services.kinesis.conftest import server_now
from tests.services.kinesis.conftest import settle as end_transitions

S0 = "shardId-000000000000"
MAX_HASH = (1 << 128) - 1


@pytest.fixture(scope="module")
def srv():
    # A shard quota high enough for the 1000-shard paging checks.
    s = ServerProcess(env={"CLOUDLET_KINESIS_SHARD_LIMIT": "3000",
                           "CLOUDLET_KINESIS_TRANSITION_SECONDS": "0.2"}).start()
    yield s
    s.stop()


@pytest.fixture
def k(srv, account):
    return make_client("kinesis", srv.url, access_key=account)


def create(client, name: str, shards: int = 1, **kw) -> dict:
    client.create_stream(StreamName=name, ShardCount=shards, **kw)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    return client.describe_stream(StreamName=name)["StreamDescription"]


def settle(client, name: str) -> None:
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})


def drain(client, it: str) -> tuple[list[dict], dict]:
    """Read from an iterator until caught up (or the shard's end); the records and the last response."""
    out = []
    while True:
        resp = client.get_records(ShardIterator=it)
        out += resp["Records"]
        if resp.get("NextShardIterator") is None or (not resp["Records"] and resp["MillisBehindLatest"] == 0):
            return out, resp
        it = resp["NextShardIterator"]


def md5_int(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "big")


# ------------------------------------------------------------------ control plane


def test_create_describe_types_and_waiters(slow, slow_server, account):
    # CREATING and DELETING last until end_transitions(): seeing them is no race
    k = slow
    k.create_stream(StreamName="types", ShardCount=4)
    assert k.describe_stream(StreamName="types")["StreamDescription"]["StreamStatus"] == "CREATING"
    end_transitions(slow_server)
    settle(k, "types")
    d = k.describe_stream(StreamName="types")["StreamDescription"]
    assert d["StreamStatus"] == "ACTIVE" and d["HasMoreShards"] is False
    assert isinstance(d["StreamCreationTimestamp"], dt.datetime) and d["StreamCreationTimestamp"].tzinfo
    assert isinstance(d["RetentionPeriodHours"], int) and d["RetentionPeriodHours"] == 24
    assert d["StreamARN"] == f"arn:aws:kinesis:us-east-1:{account}:stream/types"
    # the open shards tile the whole 128-bit hash space, in order, with no gap
    ranges = sorted((int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
                    for s in d["Shards"])
    assert ranges[0][0] == 0 and ranges[-1][1] == MAX_HASH
    assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:]))
    for s in d["Shards"]:
        assert s["SequenceNumberRange"]["StartingSequenceNumber"].isdigit()
        assert "EndingSequenceNumber" not in s["SequenceNumberRange"] and "ParentShardId" not in s
    summary = k.describe_stream_summary(StreamName="types")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4 and isinstance(summary["OpenShardCount"], int)
    k.delete_stream(StreamName="types")
    assert k.describe_stream(StreamName="types")["StreamDescription"]["StreamStatus"] == "DELETING"
    end_transitions(slow_server)
    k.get_waiter("stream_not_exists").wait(StreamName="types", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    with pytest.raises(k.exceptions.ResourceNotFoundException):
        k.describe_stream(StreamName="types")


def test_modeled_exception_classes(k, srv, account):
    with pytest.raises(k.exceptions.ResourceNotFoundException) as e:
        k.describe_stream_summary(StreamName="missing")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    create(k, "exc")
    with pytest.raises(k.exceptions.ResourceInUseException):
        k.create_stream(StreamName="exc", ShardCount=1)
    with pytest.raises(k.exceptions.InvalidArgumentException):
        k.get_records(ShardIterator="not-an-iterator")
    with pytest.raises(k.exceptions.InvalidArgumentException):
        k.decrease_stream_retention_period(StreamName="exc", RetentionPeriodHours=1)
    with pytest.raises(k.exceptions.LimitExceededException):
        k.update_shard_count(StreamName="exc", TargetShardCount=5, ScalingType="UNIFORM_SCALING")
    it = k.get_shard_iterator(StreamName="exc", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    srv.advance_clock(301)  # "A shard iterator expires 5 minutes after it is returned to the requester."
    with pytest.raises(k.exceptions.ExpiredIteratorException):
        k.get_records(ShardIterator=it)
    with pytest.raises(k.exceptions.ResourceNotFoundException):
        k.get_shard_iterator(StreamName="exc", ShardId="shardId-000000000007", ShardIteratorType="LATEST")


def test_list_streams_pagination_and_summaries(k):
    names = [f"ls-{i:03d}" for i in range(105)]
    for n in names:
        k.create_stream(StreamName=n, ShardCount=1)
    # "The default value is 100. If you specify a value greater than 100, at most 100 results are returned."
    first = k.list_streams()
    assert len(first["StreamNames"]) == 100 and first["HasMoreStreams"] is True
    big = k.list_streams(Limit=1000)
    assert len(big["StreamNames"]) == 100 and big["HasMoreStreams"] is True and "NextToken" in big
    rest = k.list_streams(NextToken=big["NextToken"])
    assert rest["StreamNames"] == names[100:] and rest["HasMoreStreams"] is False
    after = k.list_streams(ExclusiveStartStreamName=names[101], Limit=2)
    assert after["StreamNames"] == names[102:104]
    pages = list(k.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 40}))
    assert [len(p["StreamNames"]) for p in pages] == [40, 40, 25]
    summaries = [s for p in pages for s in p["StreamSummaries"]]
    assert [s["StreamName"] for s in summaries] == names
    s0 = summaries[0]
    assert s0["StreamARN"].endswith(":stream/ls-000") and s0["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert isinstance(s0["StreamCreationTimestamp"], dt.datetime) and s0["StreamStatus"] in ("CREATING", "ACTIVE")


def test_describe_stream_and_list_shards_page_caps(k):
    create(k, "wide", 1001)
    # DescribeStream: "The default value is 100. If you specify a value greater than 100, at most 100"
    d = k.describe_stream(StreamName="wide", Limit=10000)["StreamDescription"]
    assert len(d["Shards"]) == 100 and d["HasMoreShards"] is True
    nxt = k.describe_stream(StreamName="wide", ExclusiveStartShardId=d["Shards"][-1]["ShardId"], Limit=3)
    assert [s["ShardId"] for s in nxt["StreamDescription"]["Shards"]] == \
        ["shardId-000000000100", "shardId-000000000101", "shardId-000000000102"]
    pages = list(k.get_paginator("describe_stream").paginate(StreamName="wide"))
    assert sum(len(p["StreamDescription"]["Shards"]) for p in pages) == 1001
    # ListShards: "The default value is 1000. If you specify a value greater than 1000, at most 1000"
    first = k.list_shards(StreamName="wide", MaxResults=10000)
    assert len(first["Shards"]) == 1000 and "NextToken" in first
    assert len(k.list_shards(StreamName="wide")["Shards"]) == 1000
    last = k.list_shards(NextToken=first["NextToken"])
    assert [s["ShardId"] for s in last["Shards"]] == ["shardId-000000001000"] and "NextToken" not in last
    # botocore's list_shards paginator repeats StreamName beside NextToken, which AWS refuses
    # ("Don't specify StreamName ... if you specify NextToken"; boto/botocore#2009)
    with pytest.raises(k.exceptions.InvalidArgumentException):
        [s for p in k.get_paginator("list_shards").paginate(StreamName="wide") for s in p["Shards"]]
    k.delete_stream(StreamName="wide")


# ------------------------------------------------------------------ data plane


def test_put_get_several_shards_and_types(k, srv):
    d = create(k, "data", 3)
    ranges = {s["ShardId"]: (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
              for s in d["Shards"]}
    entries = [{"Data": f"rec-{i}".encode(), "PartitionKey": f"pk-{i % 7}"} for i in range(60)]
    resp = k.put_records(StreamName="data", Records=entries)
    assert resp["FailedRecordCount"] == 0 and len(resp["Records"]) == 60
    for e, r in zip(entries, resp["Records"]):
        lo, hi = ranges[r["ShardId"]]
        assert lo <= md5_int(e["PartitionKey"]) <= hi  # the shard whose range holds MD5(PartitionKey)
    single = k.put_record(StreamName="data", Data=b"one", PartitionKey="x", ExplicitHashKey=str(MAX_HASH))
    assert single["ShardId"] == "shardId-000000000002"
    now = server_now(srv)
    seen = {}
    for sid in ranges:
        it = k.get_shard_iterator(StreamName="data", ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records, last = drain(k, it)
        assert isinstance(last["MillisBehindLatest"], int) and last["MillisBehindLatest"] == 0
        seqs = [int(r["SequenceNumber"]) for r in records]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        for r in records:
            assert isinstance(r["ApproximateArrivalTimestamp"], dt.datetime)
            assert abs(r["ApproximateArrivalTimestamp"].timestamp() - now) < 30
            seen[r["Data"]] = (sid, r["SequenceNumber"])
    assert {e["Data"] for e in entries} | {b"one"} == set(seen)
    for e, r in zip(entries, resp["Records"]):
        assert seen[e["Data"]] == (r["ShardId"], r["SequenceNumber"])
    # per partition key, order of the put is the order of the read
    by_key: dict[str, list[int]] = {}
    for e, r in zip(entries, resp["Records"]):
        by_key.setdefault(e["PartitionKey"], []).append(int(r["SequenceNumber"]))
    assert all(v == sorted(v) for v in by_key.values())


def test_every_iterator_type(k, srv):
    create(k, "iters")
    seqs = [k.put_record(StreamName="iters", Data=f"r{i}".encode(), PartitionKey="p")["SequenceNumber"]
            for i in range(5)]
    assert [int(s) for s in seqs] == sorted(int(s) for s in seqs)

    def read(kind, **kw):
        it = k.get_shard_iterator(StreamName="iters", ShardId=S0, ShardIteratorType=kind, **kw)["ShardIterator"]
        return [r["Data"] for r in drain(k, it)[0]]

    assert read("TRIM_HORIZON") == [b"r0", b"r1", b"r2", b"r3", b"r4"]
    assert read("AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2]) == [b"r2", b"r3", b"r4"]
    assert read("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2]) == [b"r3", b"r4"]
    assert read("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[4]) == []
    assert read("LATEST") == []
    past = dt.datetime.fromtimestamp(server_now(srv) - 3600, dt.timezone.utc)
    assert len(read("AT_TIMESTAMP", Timestamp=past)) == 5
    latest = k.get_shard_iterator(StreamName="iters", ShardId=S0, ShardIteratorType="LATEST")["ShardIterator"]
    srv.advance_clock(2)
    mark = dt.datetime.fromtimestamp(server_now(srv), dt.timezone.utc)
    k.put_record(StreamName="iters", Data=b"later", PartitionKey="p")
    assert [r["Data"] for r in drain(k, latest)[0]] == [b"later"]
    assert read("AT_TIMESTAMP", Timestamp=mark) == [b"later"]
    assert read("AT_TIMESTAMP", Timestamp=mark.timestamp()) == [b"later"]  # epoch numbers work too
    with pytest.raises(k.exceptions.InvalidArgumentException):
        k.get_shard_iterator(StreamName="iters", ShardId=S0, ShardIteratorType="AT_SEQUENCE_NUMBER")


def test_kcl_style_checkpoint_resume(k):
    """ListShards, then GetShardIterator AFTER_SEQUENCE_NUMBER from a checkpoint, with
    GetRecords' Limit: nothing read twice, nothing skipped."""
    create(k, "kcl", 2)
    for i in range(40):
        k.put_record(StreamName="kcl", Data=str(i).encode(), PartitionKey=f"k{i}")
    got = []
    for shard in k.list_shards(StreamName="kcl")["Shards"]:
        checkpoint = None
        while True:
            kind = "AFTER_SEQUENCE_NUMBER" if checkpoint else "TRIM_HORIZON"
            kw = {"StartingSequenceNumber": checkpoint} if checkpoint else {}
            it = k.get_shard_iterator(StreamName="kcl", ShardId=shard["ShardId"], ShardIteratorType=kind,
                                      **kw)["ShardIterator"]
            batch = k.get_records(ShardIterator=it, Limit=3)["Records"]
            if not batch:
                break
            got += [int(r["Data"]) for r in batch]
            checkpoint = batch[-1]["SequenceNumber"]  # a fresh worker resumes from here
    assert sorted(got) == list(range(40))


def test_big_put_records_kpl_sized(k):
    create(k, "kpl", 2)
    blob = os.urandom(10_000)
    resp = k.put_records(StreamName="kpl", Records=[{"Data": blob, "PartitionKey": str(i)} for i in range(500)])
    assert resp["FailedRecordCount"] == 0 and len(resp["Records"]) == 500
    total = 0
    for sid in ("shardId-000000000000", "shardId-000000000001"):
        it = k.get_shard_iterator(StreamName="kpl", ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records, _ = drain(k, it)
        assert all(r["Data"] == blob for r in records)
        total += len(records)
    assert total == 500
    # an aggregated KPL record is one blob of up to 1 MiB
    assert k.put_record(StreamName="kpl", Data=b"\xf3\x89\x9a\xc2" + os.urandom(1024 * 1024 - 100),
                        PartitionKey="agg")["SequenceNumber"].isdigit()


def test_retention_trims_by_the_clock(k, srv):
    create(k, "ret")
    k.put_record(StreamName="ret", Data=b"old", PartitionKey="p")
    srv.advance_clock(25 * 3600)
    k.put_record(StreamName="ret", Data=b"new", PartitionKey="p")
    it = k.get_shard_iterator(StreamName="ret", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in drain(k, it)[0]] == [b"new"]
    k.increase_stream_retention_period(StreamName="ret", RetentionPeriodHours=168)
    settle(k, "ret")
    assert k.describe_stream_summary(StreamName="ret")["StreamDescriptionSummary"]["RetentionPeriodHours"] == 168


# ------------------------------------------------------------------ resharding


def test_split_then_read_parent_and_children(slow, slow_server):
    k = slow  # UPDATING lasts until end_transitions(): the second split meets it for sure
    k.create_stream(StreamName="split", ShardCount=1)
    end_transitions(slow_server)
    settle(k, "split")
    d = k.describe_stream(StreamName="split")["StreamDescription"]
    k.put_record(StreamName="split", Data=b"before", PartitionKey="a")
    start, end = (int(x) for x in d["Shards"][0]["HashKeyRange"].values())
    k.split_shard(StreamName="split", ShardToSplit=S0, NewStartingHashKey=str((start + end) // 2))
    assert k.describe_stream(StreamName="split")["StreamDescription"]["StreamStatus"] == "UPDATING"
    with pytest.raises(k.exceptions.ResourceInUseException):
        k.split_shard(StreamName="split", ShardToSplit=S0, NewStartingHashKey="12345")
    end_transitions(slow_server)
    settle(k, "split")
    shards = k.list_shards(StreamName="split")["Shards"]
    parent = shards[0]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    children = [s for s in shards if s.get("ParentShardId") == S0]
    assert len(children) == 2
    for i in range(20):
        k.put_record(StreamName="split", Data=f"after{i}".encode(), PartitionKey=f"k{i}")
    it = k.get_shard_iterator(StreamName="split", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records, last = drain(k, it)
    assert [r["Data"] for r in records] == [b"before"]
    assert "NextShardIterator" not in last or last["NextShardIterator"] is None
    assert sorted(c["ShardId"] for c in last["ChildShards"]) == sorted(c["ShardId"] for c in children)
    assert all(c["ParentShards"] == [S0] for c in last["ChildShards"])
    after = []
    for c in last["ChildShards"]:
        it = k.get_shard_iterator(StreamName="split", ShardId=c["ShardId"],
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        after += [r["Data"] for r in drain(k, it)[0]]
    assert sorted(after) == sorted(f"after{i}".encode() for i in range(20))
    ending = int(parent["SequenceNumberRange"]["EndingSequenceNumber"])
    for c in children:
        assert int(c["SequenceNumberRange"]["StartingSequenceNumber"]) > ending
    assert len(k.list_shards(StreamName="split", ShardFilter={"Type": "AT_LATEST"})["Shards"]) == 2
    assert k.describe_stream_summary(StreamName="split")["StreamDescriptionSummary"]["OpenShardCount"] == 2


def test_merge_and_update_shard_count(k):
    create(k, "merge", 2)
    k.merge_shards(StreamName="merge", ShardToMerge=S0, AdjacentShardToMerge="shardId-000000000001")
    settle(k, "merge")
    open_ = k.list_shards(StreamName="merge", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert len(open_) == 1
    assert (open_[0]["ParentShardId"], open_[0]["AdjacentParentShardId"]) == (S0, "shardId-000000000001")
    assert open_[0]["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(MAX_HASH)}
    resp = k.update_shard_count(StreamName="merge", TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert (resp["CurrentShardCount"], resp["TargetShardCount"]) == (1, 2)
    settle(k, "merge")
    open_ = k.list_shards(StreamName="merge", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert len(open_) == 2


# ------------------------------------------------------------------ enhanced fan-out


def _consumer(k, stream_arn, name):
    c = k.register_stream_consumer(StreamARN=stream_arn, ConsumerName=name)["Consumer"]
    assert c["ConsumerStatus"] == "CREATING" and isinstance(c["ConsumerCreationTimestamp"], dt.datetime)
    deadline = time.monotonic() + 10
    while k.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]["ConsumerStatus"] \
            != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return c["ConsumerARN"]


def test_subscribe_to_shard_event_stream(k, srv):
    arn = create(k, "efo")["StreamARN"]
    carn = _consumer(k, arn, "app")
    first = k.put_record(StreamName="efo", Data=b"first", PartitionKey="p")["SequenceNumber"]
    resp = k.subscribe_to_shard(ConsumerARN=carn, ShardId=S0, StartingPosition={"Type": "TRIM_HORIZON"})
    timer = threading.Timer(0.3, lambda: k.put_record(StreamName="efo", Data=b"second", PartitionKey="p"))
    timer.start()
    got, cont = [], None
    for event in resp["EventStream"]:
        ev = event["SubscribeToShardEvent"]
        assert isinstance(ev["MillisBehindLatest"], int)
        cont = ev["ContinuationSequenceNumber"]
        got += ev["Records"]
        if len(got) >= 2:
            break
    resp["EventStream"].close()
    timer.join()
    assert [r["Data"] for r in got] == [b"first", b"second"] and got[0]["SequenceNumber"] == first
    assert isinstance(got[0]["ApproximateArrivalTimestamp"], dt.datetime)
    assert cont == got[1]["SequenceNumber"]
    # resume from the continuation number after another record
    k.put_record(StreamName="efo", Data=b"third", PartitionKey="p")
    srv.advance_clock(6)  # past the 5 s window in which a new subscription is refused
    resp = k.subscribe_to_shard(ConsumerARN=carn, ShardId=S0,
                                StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": cont})
    events = resp["EventStream"]
    ev = next(iter(events))["SubscribeToShardEvent"]
    assert [r["Data"] for r in ev["Records"]] == [b"third"]
    # "the subscription ... for up to 5 minutes": the stream then ends without an error
    srv.advance_clock(301)
    rest = list(events)
    assert all("SubscribeToShardEvent" in e for e in rest)
    k.deregister_stream_consumer(ConsumerARN=carn)
    # DELETING lasts 0.2 s here and may be over already; test_consumer_lifecycle sees it for sure
    try:
        status = k.describe_stream_consumer(ConsumerARN=carn)["ConsumerDescription"]["ConsumerStatus"]
    except k.exceptions.ResourceNotFoundException:
        status = None
    assert status in ("DELETING", None)


# ------------------------------------------------------------------ tags, encryption, modes


def test_tags_encryption_and_modes(k):
    k.create_stream(StreamName="misc", ShardCount=1, Tags={"team": "data"})
    settle(k, "misc")
    arn = k.describe_stream_summary(StreamName="misc")["StreamDescriptionSummary"]["StreamARN"]
    k.add_tags_to_stream(StreamName="misc", Tags={"env": "test"})
    k.tag_resource(ResourceARN=arn, Tags={"owner": "me"})
    tags = k.list_tags_for_stream(StreamName="misc")
    assert tags["Tags"] == [{"Key": "env", "Value": "test"}, {"Key": "owner", "Value": "me"},
                            {"Key": "team", "Value": "data"}] and tags["HasMoreTags"] is False
    page = k.list_tags_for_stream(StreamName="misc", Limit=1, ExclusiveStartTagKey="env")
    assert page["Tags"] == [{"Key": "owner", "Value": "me"}] and page["HasMoreTags"] is True
    k.remove_tags_from_stream(StreamName="misc", TagKeys=["env"])
    k.untag_resource(ResourceARN=arn, TagKeys=["owner"])
    assert k.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "data"}]

    k.start_stream_encryption(StreamName="misc", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    settle(k, "misc")
    d = k.describe_stream(StreamName="misc")["StreamDescription"]
    assert (d["EncryptionType"], d["KeyId"]) == ("KMS", "alias/aws/kinesis")
    put = k.put_record(StreamName="misc", Data=b"secret", PartitionKey="p")
    assert put["EncryptionType"] == "KMS"
    it = k.get_shard_iterator(StreamName="misc", ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    (rec,) = drain(k, it)[0]
    assert rec["EncryptionType"] == "KMS" and rec["Data"] == b"secret"
    k.stop_stream_encryption(StreamName="misc", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    settle(k, "misc")
    assert k.describe_stream(StreamName="misc")["StreamDescription"]["EncryptionType"] == "NONE"

    k.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    settle(k, "misc")
    summary = k.describe_stream_summary(StreamName="misc")["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    with pytest.raises(k.exceptions.ValidationException):
        k.update_shard_count(StreamName="misc", TargetShardCount=2, ScalingType="UNIFORM_SCALING")

    k.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    settle(k, "od")
    assert k.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]["OpenShardCount"] >= 1


# ------------------------------------------------------------------ the AWS CLI


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_aws_cli_round_trip(srv, account):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=account, AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1",
               AWS_PAGER="")
    v2 = subprocess.run(["aws", "--version"], capture_output=True, text=True).stdout.startswith("aws-cli/2")

    def aws(*args):
        out = subprocess.run(["aws", "kinesis", *args, "--endpoint-url", srv.url, "--output", "json"],
                             capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout) if out.stdout.strip() else {}

    aws("create-stream", "--stream-name", "cli", "--shard-count", "1")
    subprocess.run(["aws", "kinesis", "wait", "stream-exists", "--stream-name", "cli", "--endpoint-url", srv.url],
                   check=True, env=env, timeout=60)
    # CLI v2 takes blobs as base64 unless told raw-in-base64-out; v1 sends the text's bytes
    put_args = ["put-record", "--stream-name", "cli", "--partition-key", "pk", "--data", "hello cli"]
    if v2:
        put_args += ["--cli-binary-format", "raw-in-base64-out"]
    put = aws(*put_args)
    assert put["ShardId"] == S0 and put["SequenceNumber"].isdigit()
    it = aws("get-shard-iterator", "--stream-name", "cli", "--shard-id", S0,
             "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
    got = aws("get-records", "--shard-iterator", it)
    (rec,) = got["Records"]
    assert base64.b64decode(rec["Data"]) == b"hello cli" and rec["PartitionKey"] == "pk"
    assert rec["SequenceNumber"] == put["SequenceNumber"] and got["MillisBehindLatest"] == 0
    assert "cli" in aws("list-streams")["StreamNames"]
