"""Enhanced fan-out through boto3: consumers' lifecycle and SubscribeToShard event streams."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from tests.conftest import make_client
from tests.services.kinesis.conftest import (
    error_of, make_stream, new_account, server_now, settle, wait_consumer, wait_status,
)

S0 = "shardId-000000000000"


def _arn(client, name):
    return client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def _consumer(client, stream_arn, name="c1"):
    c = client.register_stream_consumer(StreamARN=stream_arn, ConsumerName=name)["Consumer"]
    wait_consumer(client, c["ConsumerARN"])
    return c["ConsumerARN"]


def _slow_stream(client, server, name: str) -> str:
    client.create_stream(StreamName=name, ShardCount=1)
    settle(server)
    return _arn(client, name)


def test_consumer_lifecycle(slow, slow_server, account):
    # Consumers' CREATING and DELETING last until the test moves the server's clock, so
    # checking them does not race the transition (on a loaded machine 0.5 s can pass first).
    kinesis = slow
    arn = _slow_stream(kinesis, slow_server, "fan")
    c = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]
    assert c["ConsumerStatus"] == "CREATING" and c["ConsumerARN"].startswith(f"{arn}/consumer/app:")
    code, msg = error_of(kinesis.subscribe_to_shard, ConsumerARN=c["ConsumerARN"], ShardId=S0,
                         StartingPosition={"Type": "LATEST"})
    created = c["ConsumerARN"].rsplit(":", 1)[1]
    # SubscribeToShard's own wording (awslabs/kinesis-hot-shard-advisor#37)
    assert (code, msg) == ("ResourceInUseException", f"Consumer app with creation timestamp {created} under "
                                                     f"stream: fan , account {account} is not in ACTIVE status.")
    assert kinesis.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"][
        "ConsumerStatus"] == "CREATING"
    settle(slow_server)
    desc = kinesis.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]
    assert desc["ConsumerStatus"] == "ACTIVE"
    assert desc["StreamARN"] == arn and desc["ConsumerName"] == "app"
    by_name = kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="app")["ConsumerDescription"]
    assert by_name["ConsumerARN"] == c["ConsumerARN"]
    code, _ = error_of(kinesis.register_stream_consumer, StreamARN=arn, ConsumerName="app")
    assert code == "ResourceInUseException"
    assert kinesis.describe_stream_summary(StreamName="fan")["StreamDescriptionSummary"]["ConsumerCount"] == 1
    for i in range(4):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=f"more{i}")
    page = kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2)
    assert [x["ConsumerName"] for x in page["Consumers"]] == ["app", "more0"]
    rest = kinesis.list_stream_consumers(StreamARN=arn, NextToken=page["NextToken"])
    assert [x["ConsumerName"] for x in rest["Consumers"]] == ["more1", "more2", "more3"]
    # DeleteStream refuses while consumers are registered, unless told to remove them
    assert error_of(kinesis.delete_stream, StreamName="fan")[0] == "ResourceInUseException"
    kinesis.deregister_stream_consumer(ConsumerARN=c["ConsumerARN"])
    assert kinesis.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"][
        "ConsumerStatus"] == "DELETING"
    settle(slow_server)
    code, _ = error_of(kinesis.describe_stream_consumer, ConsumerARN=c["ConsumerARN"])
    assert code == "ResourceNotFoundException"
    kinesis.deregister_stream_consumer(StreamARN=arn, ConsumerName="more0")
    kinesis.delete_stream(StreamName="fan", EnforceConsumerDeletion=True)
    assert kinesis.describe_stream_summary(StreamName="fan")["StreamDescriptionSummary"]["StreamStatus"] == \
        "DELETING"
    settle(slow_server)
    assert error_of(kinesis.describe_stream_summary, StreamName="fan")[0] == "ResourceNotFoundException"
    _slow_stream(kinesis, slow_server, "fan")
    assert kinesis.list_stream_consumers(StreamARN=arn)["Consumers"] == []


def test_consumer_errors(slow, slow_server, account):
    kinesis = slow
    arn = _slow_stream(kinesis, slow_server, "ce")
    code, _ = error_of(kinesis.register_stream_consumer,
                       StreamARN=f"arn:aws:kinesis:us-east-1:{account}:stream/none", ConsumerName="x")
    assert code == "ResourceNotFoundException"
    code, _ = error_of(kinesis.describe_stream_consumer, StreamARN=arn, ConsumerName="none")
    assert code == "ResourceNotFoundException"
    code, _ = error_of(kinesis.describe_stream_consumer, StreamARN=arn)
    assert code == "InvalidArgumentException"
    for i in range(5):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=f"c{i}")
    # "you cannot have more than 5 consumers in a CREATING status at the same time"
    assert error_of(kinesis.register_stream_consumer, StreamARN=arn, ConsumerName="c5")[0] == "LimitExceededException"
    assert len(kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]) == 5
    settle(slow_server)
    for i in range(5, 20):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=f"c{i}")
        if i % 5 == 4:
            settle(slow_server)
    assert error_of(kinesis.register_stream_consumer, StreamARN=arn, ConsumerName="c20")[0] == \
        "LimitExceededException"


def _collect(stream, out: queue.Queue):
    try:
        for event in stream:
            out.put(("event", time.monotonic(), event["SubscribeToShardEvent"]))
    except Exception as e:  # noqa: BLE001
        out.put(("error", time.monotonic(), e))
    out.put(("end", time.monotonic(), None))


def test_subscribe_pushes_new_records_within_milliseconds(kinesis):
    make_stream(kinesis, "push", 1)
    carn = _consumer(kinesis, _arn(kinesis, "push"))
    kinesis.put_record(StreamName="push", Data=b"before", PartitionKey="k")
    resp = kinesis.subscribe_to_shard(ConsumerARN=carn, ShardId=S0, StartingPosition={"Type": "LATEST"})
    events: queue.Queue = queue.Queue()
    threading.Thread(target=_collect, args=(resp["EventStream"], events), daemon=True).start()
    kind, _, first = events.get(timeout=5)  # an event right away tells the subscription is live
    assert kind == "event" and first["Records"] == [] and first["ContinuationSequenceNumber"]
    latencies = []
    sent = []
    for i in range(5):
        t = time.monotonic()
        sent.append(kinesis.put_record(StreamName="push", Data=f"r{i}".encode(), PartitionKey="k")["SequenceNumber"])
        kind, when, event = events.get(timeout=5)
        assert kind == "event", event
        latencies.append(when - t)
        assert [r["Data"] for r in event["Records"]] == [f"r{i}".encode()]
        assert event["ContinuationSequenceNumber"] == sent[-1]
        assert event["MillisBehindLatest"] == 0
        time.sleep(0.05)
    assert max(latencies) < 0.1, latencies
    resp["EventStream"].close()


def test_subscribe_positions_and_takeover(kinesis, account):
    make_stream(kinesis, "pos", 1)
    carn = _consumer(kinesis, _arn(kinesis, "pos"))
    seqs = [kinesis.put_record(StreamName="pos", Data=f"{i}".encode(), PartitionKey="k")["SequenceNumber"]
            for i in range(5)]
    resp = kinesis.subscribe_to_shard(ConsumerARN=carn, ShardId=S0,
                                      StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": seqs[1]})
    first = next(iter(resp["EventStream"]))["SubscribeToShardEvent"]
    assert [r["Data"] for r in first["Records"]] == [b"2", b"3", b"4"]
    assert first["ContinuationSequenceNumber"] == seqs[4]
    # "If you call SubscribeToShard again with the same ConsumerARN and ShardId within 5 seconds
    # of a successful call, you'll get a ResourceInUseException"
    code, msg = error_of(kinesis.subscribe_to_shard, ConsumerARN=carn, ShardId=S0,
                         StartingPosition={"Type": "TRIM_HORIZON"})
    assert code == "ResourceInUseException" and msg.startswith("Another active subscription exists for this consumer")
    resp["EventStream"].close()
    code, _ = error_of(kinesis.subscribe_to_shard, ConsumerARN=carn, ShardId="shardId-000000000009",
                       StartingPosition={"Type": "TRIM_HORIZON"})
    assert code == "ResourceNotFoundException"
    code, _ = error_of(kinesis.subscribe_to_shard, ConsumerARN=carn + "9", ShardId=S0,
                       StartingPosition={"Type": "TRIM_HORIZON"})
    assert code == "ResourceNotFoundException"


def test_subscription_sees_shard_end_and_children(slow, slow_server):
    # the split's UPDATING lasts until settle(): the put after it goes to the parent for sure
    kinesis = slow
    arn = _slow_stream(kinesis, slow_server, "split")
    carn = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c1")["Consumer"]["ConsumerARN"]
    settle(slow_server)
    kinesis.put_record(StreamName="split", Data=b"a", PartitionKey="k")
    resp = kinesis.subscribe_to_shard(ConsumerARN=carn, ShardId=S0, StartingPosition={"Type": "TRIM_HORIZON"})
    events: queue.Queue = queue.Queue()
    threading.Thread(target=_collect, args=(resp["EventStream"], events), daemon=True).start()
    kind, _, first = events.get(timeout=5)
    assert [r["Data"] for r in first["Records"]] == [b"a"]
    kinesis.split_shard(StreamName="split", ShardToSplit=S0, NewStartingHashKey=str(1 << 127))
    kinesis.put_record(StreamName="split", Data=b"b", PartitionKey="k")  # still to the parent while UPDATING
    settle(slow_server)
    got = []
    while True:
        kind, _, event = events.get(timeout=10)
        if kind != "event":
            break
        got.append(event)
    assert kind == "end"
    assert [r["Data"] for e in got for r in e["Records"]] == [b"b"]
    last = got[-1]
    assert "ContinuationSequenceNumber" not in last
    assert [c["ShardId"] for c in last["ChildShards"]] == ["shardId-000000000001", "shardId-000000000002"]
    assert all(c["ParentShards"] == [S0] for c in last["ChildShards"])


def test_subscription_ends_after_five_minutes(own_server):
    k = make_client("kinesis", own_server.url, access_key=new_account())
    make_stream(k, "life", 1)
    carn = _consumer(k, _arn(k, "life"))
    resp = k.subscribe_to_shard(ConsumerARN=carn, ShardId=S0, StartingPosition={"Type": "LATEST"})
    events: queue.Queue = queue.Queue()
    threading.Thread(target=_collect, args=(resp["EventStream"], events), daemon=True).start()
    assert events.get(timeout=5)[0] == "event"
    own_server.advance_clock(301)
    while True:
        kind, _, _ = events.get(timeout=5)
        if kind != "event":
            break
    assert kind == "end"
    # and a new subscription takes over once the old one is gone
    again = k.subscribe_to_shard(ConsumerARN=carn, ShardId=S0, StartingPosition={"Type": "LATEST"})
    assert next(iter(again["EventStream"]))["SubscribeToShardEvent"]["Records"] == []
    again["EventStream"].close()


def test_deregistering_ends_subscriptions(kinesis):
    make_stream(kinesis, "dereg", 1)
    carn = _consumer(kinesis, _arn(kinesis, "dereg"))
    resp = kinesis.subscribe_to_shard(ConsumerARN=carn, ShardId=S0, StartingPosition={"Type": "LATEST"})
    events: queue.Queue = queue.Queue()
    threading.Thread(target=_collect, args=(resp["EventStream"], events), daemon=True).start()
    assert events.get(timeout=5)[0] == "event"
    kinesis.deregister_stream_consumer(ConsumerARN=carn)
    kind, _, err = events.get(timeout=5)
    assert kind == "error" and "ResourceNotFoundException" in str(err)
    wait_status(kinesis, "dereg")


def test_later_subscription_takes_over(own_server):
    k = make_client("kinesis", own_server.url, access_key=new_account())
    make_stream(k, "take", 1)
    carn = _consumer(k, _arn(k, "take"))
    first = k.subscribe_to_shard(ConsumerARN=carn, ShardId=S0, StartingPosition={"Type": "LATEST"})
    events: queue.Queue = queue.Queue()
    threading.Thread(target=_collect, args=(first["EventStream"], events), daemon=True).start()
    assert events.get(timeout=5)[0] == "event"
    own_server.advance_clock(6)
    # "If you call SubscribeToShard 5 seconds or more after a successful call, the second call
    # takes over the subscription and the previous connection expires or fails with a
    # ResourceInUseException"
    second = k.subscribe_to_shard(ConsumerARN=carn, ShardId=S0, StartingPosition={"Type": "LATEST"})
    while True:
        kind, _, payload = events.get(timeout=5)
        if kind != "event":
            break
    assert kind == "error" and "ResourceInUseException" in str(payload)
    k.put_record(StreamName="take", Data=b"x", PartitionKey="k")
    for event in second["EventStream"]:
        if event["SubscribeToShardEvent"]["Records"]:
            assert event["SubscribeToShardEvent"]["Records"][0]["Data"] == b"x"
            break
    second["EventStream"].close()


def test_subscribe_over_http2(kinesis, account, server):
    """The JS SDK v3 subscribes over HTTP/2: the event stream is the body of one h2 stream."""
    import json as _json

    import httpx
    from botocore.eventstream import EventStreamBuffer

    make_stream(kinesis, "h2sub", 1)
    carn = _consumer(kinesis, _arn(kinesis, "h2sub"))
    auth = f"AWS4-HMAC-SHA256 Credential={account}/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host, " \
           "Signature=abc"
    body = _json.dumps({"ConsumerARN": carn, "ShardId": S0, "StartingPosition": {"Type": "LATEST"}}).encode()
    events = []
    with httpx.Client(http1=False, http2=True, timeout=10) as client:
        with client.stream("POST", server.url + "/", content=body, headers={
                "X-Amz-Target": "Kinesis_20131202.SubscribeToShard", "Content-Type": "application/x-amz-json-1.1",
                "Authorization": auth}) as resp:
            assert resp.http_version == "HTTP/2" and resp.status_code == 200
            assert resp.headers["content-type"] == "application/vnd.amazon.eventstream"
            buf = EventStreamBuffer()
            for chunk in resp.iter_raw():
                buf.add_data(chunk)
                for message in buf:
                    events.append((message.headers[":event-type"], _json.loads(message.payload)))
                    if len(events) == 2:  # initial-response and the first (empty) event
                        kinesis.put_record(StreamName="h2sub", Data=b"over h2", PartitionKey="k")
                if any(e[1].get("Records") for e in events):
                    break
    assert events[0] == ("initial-response", {})
    assert events[1][0] == "SubscribeToShardEvent"
    records = [r for _, e in events[2:] for r in e["Records"]]
    assert [r["Data"] for r in records] == ["b3ZlciBoMg=="]  # base64 of the bytes, as the JSON protocol sends blobs


def test_subscribe_in_cbor(kinesis, account, server):
    """The Java SDK and the KCL ask in CBOR: the events come back in CBOR too (blobs as byte
    strings, timestamps as tag 1 epoch milliseconds)."""
    import http.client
    from urllib.parse import urlparse

    import cbor2
    from botocore.eventstream import EventStreamBuffer

    make_stream(kinesis, "cbor", 1)
    carn = _consumer(kinesis, _arn(kinesis, "cbor"))
    kinesis.put_record(StreamName="cbor", Data=b"\x00binary\xff", PartitionKey="k")
    url = urlparse(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = cbor2.dumps({"ConsumerARN": carn, "ShardId": S0, "StartingPosition": {"Type": "TRIM_HORIZON"}})
    conn.request("POST", "/", body=body, headers={
        "X-Amz-Target": "Kinesis_20131202.SubscribeToShard", "Content-Type": "application/x-amz-cbor-1.1",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={account}/20240101/us-east-1/kinesis/aws4_request, "
                         "SignedHeaders=host, Signature=abc"})
    resp = conn.getresponse()
    assert resp.status == 200
    buf = EventStreamBuffer()
    messages = []
    while len(messages) < 2:
        buf.add_data(resp.read1(65536))
        messages.extend(buf)
    conn.close()
    assert messages[0].headers[":event-type"] == "initial-response"
    event = messages[1]
    assert event.headers[":content-type"] == "application/x-amz-cbor-1.1"
    payload = cbor2.loads(event.payload, semantic_decoders={1: lambda value, immutable=False: ("ms", value)})
    (record,) = payload["Records"]
    assert record["Data"] == b"\x00binary\xff"
    unit, millis = record["ApproximateArrivalTimestamp"]
    assert unit == "ms" and abs(millis / 1000 - server_now(server)) < 60
