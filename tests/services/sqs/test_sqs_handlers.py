"""SQS handlers called directly, on an in-memory store and a clock the test moves.

No sockets: these check the semantics (visibility, FIFO groups, redrive, retention,
receipt handles) quickly and exactly; tests/services/sqs/test_sqs_*_api.py check the
same over the wire with boto3.
"""

from __future__ import annotations

import asyncio
import json
import time
import types

import pytest

from cloudlet.clock import Clock
from cloudlet.protocol.errors import ServiceError
from cloudlet.services.base import RequestContext
from cloudlet.services.sqs import service
from cloudlet.services.sqs.move_tasks import move_step
from cloudlet.services.sqs.sweeper import sweep_all
from cloudlet.storage import open_store

ACCOUNT = "123456789012"

# The JSON shape names of SQS's common errors, as their (query-era) codes.
_COMMON = {"InvalidParameterValueException": "InvalidParameterValue",
           "MissingRequiredParameterException": "MissingParameter"}


def common_code(code: str) -> str:
    return _COMMON.get(code, code)


class Harness:
    def __init__(self):
        self.app = types.SimpleNamespace(store=open_store(None), clock=Clock(), config=None, state={})

    def ctx(self, op: str, account: str = ACCOUNT, region: str = "us-east-1") -> RequestContext:
        return RequestContext(app=self.app, service="sqs", operation=op, account=account, region=region,
                              request_id="r", host="localhost:4566",
                              headers={"authorization": "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/"
                                                        "sqs/aws4_request, SignedHeaders=host, Signature=abc"},
                              protocol="json")

    def __call__(self, op: str, _account: str = ACCOUNT, _region: str = "us-east-1", **req):
        result = service.handlers[op](self.ctx(op, _account, _region), req)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return result

    def advance(self, seconds: float) -> None:
        self.app.clock.advance(seconds)

    def queue(self, name="q", **attrs) -> str:
        return self("CreateQueue", QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]

    def fifo(self, name="f.fifo", **attrs) -> str:
        return self.queue(name, FifoQueue="true", **attrs)

    def receive(self, url, n=10, **kw) -> list[dict]:
        return self("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=n, **kw).get("Messages", [])

    def counts(self, url) -> tuple[int, int, int]:
        a = self("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return (int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"]),
                int(a["ApproximateNumberOfMessagesDelayed"]))


@pytest.fixture
def sqs():
    return Harness()


def error_code(excinfo) -> str:
    return common_code(excinfo.value.code)


# ---------------------------------------------------------------- queues

def test_create_is_idempotent_and_conflicts_name_the_attribute(sqs):
    url = sqs.queue("q", VisibilityTimeout=60)
    assert url == "http://localhost:4566/123456789012/q"
    assert sqs.queue("q", VisibilityTimeout=60) == url
    assert sqs("CreateQueue", QueueName="q")["QueueUrl"] == url
    with pytest.raises(ServiceError) as e:
        sqs.queue("q", VisibilityTimeout=61)
    assert error_code(e) == "QueueNameExists"
    assert e.value.message.endswith("attribute VisibilityTimeout")


def test_delete_then_recreate_waits_60_seconds(sqs):
    url = sqs.queue("q")
    sqs("DeleteQueue", QueueUrl=url)
    with pytest.raises(ServiceError) as e:
        sqs("GetQueueUrl", QueueName="q")
    assert error_code(e) == "QueueDoesNotExist"
    with pytest.raises(ServiceError) as e:
        sqs.queue("q")
    assert error_code(e) == "QueueDeletedRecently"
    sqs.advance(61)
    assert sqs.queue("q") == url


def test_accounts_and_regions_are_isolated(sqs):
    sqs("CreateQueue", QueueName="shared")
    assert sqs("ListQueues", _account="210987654321").get("QueueUrls") is None
    assert sqs("ListQueues", _region="eu-west-1").get("QueueUrls") is None
    with pytest.raises(ServiceError):
        sqs("GetQueueUrl", QueueName="shared", _region="eu-west-1")
    assert sqs("GetQueueUrl", QueueName="shared", QueueOwnerAWSAccountId=ACCOUNT, _account="210987654321")


def test_list_queues_prefix_and_pages(sqs):
    for name in ["a1", "a2", "a3", "b1", "a"]:
        sqs.queue(name)
    assert [u.rsplit("/", 1)[1] for u in sqs("ListQueues", QueueNamePrefix="a")["QueueUrls"]] == ["a", "a1", "a2", "a3"]
    page1 = sqs("ListQueues", QueueNamePrefix="a", MaxResults=3)
    assert len(page1["QueueUrls"]) == 3 and page1["NextToken"]
    page2 = sqs("ListQueues", QueueNamePrefix="a", MaxResults=3, NextToken=page1["NextToken"])
    assert [u.rsplit("/", 1)[1] for u in page2["QueueUrls"]] == ["a3"] and "NextToken" not in page2
    assert "NextToken" not in sqs("ListQueues")
    with pytest.raises(ServiceError):
        sqs("ListQueues", MaxResults=1001)


def test_purge_once_a_minute(sqs):
    url = sqs.queue()
    for i in range(5):
        sqs("SendMessage", QueueUrl=url, MessageBody=str(i))
    sqs.receive(url, 2)
    sqs("PurgeQueue", QueueUrl=url)
    assert sqs.counts(url) == (0, 0, 0)
    with pytest.raises(ServiceError) as e:
        sqs("PurgeQueue", QueueUrl=url)
    assert error_code(e) == "PurgeQueueInProgress" and e.value.status == 403
    sqs.advance(60)
    sqs("PurgeQueue", QueueUrl=url)


# ---------------------------------------------------------------- standard queues

def test_visibility_timeout_and_counts(sqs):
    url = sqs.queue(VisibilityTimeout=30)
    sqs("SendMessage", QueueUrl=url, MessageBody="m")
    assert sqs.counts(url) == (1, 0, 0)
    [msg] = sqs.receive(url)
    assert sqs.counts(url) == (0, 1, 0)
    assert sqs.receive(url) == []
    sqs.advance(31)
    assert sqs.counts(url) == (1, 0, 0)
    [again] = sqs.receive(url, AttributeNames=["ApproximateReceiveCount"])
    assert again["MessageId"] == msg["MessageId"]
    assert again["ReceiptHandle"] != msg["ReceiptHandle"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_delays_per_queue_and_per_message(sqs):
    url = sqs.queue(DelaySeconds=10, VisibilityTimeout=1000)
    sqs("SendMessage", QueueUrl=url, MessageBody="queue-delay")
    sqs("SendMessage", QueueUrl=url, MessageBody="no-delay", DelaySeconds=0)
    sqs("SendMessage", QueueUrl=url, MessageBody="long", DelaySeconds=100)
    assert sqs.counts(url) == (1, 0, 2)
    assert [m["Body"] for m in sqs.receive(url)] == ["no-delay"]
    sqs.advance(10)
    assert [m["Body"] for m in sqs.receive(url)] == ["queue-delay"]
    sqs.advance(90)
    assert [m["Body"] for m in sqs.receive(url)] == ["long"]


def test_receive_visibility_override_and_change_visibility(sqs):
    url = sqs.queue()
    sqs("SendMessage", QueueUrl=url, MessageBody="m")
    [msg] = sqs.receive(url, VisibilityTimeout=5)
    sqs.advance(4)
    sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=20)
    sqs.advance(10)
    assert sqs.receive(url) == []
    sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0)
    [again] = sqs.receive(url)
    assert again["MessageId"] == msg["MessageId"]


def test_change_visibility_errors(sqs):
    url = sqs.queue()
    sqs("SendMessage", QueueUrl=url, MessageBody="m")
    [msg] = sqs.receive(url, VisibilityTimeout=5)
    handle = msg["ReceiptHandle"]
    with pytest.raises(ServiceError) as e:
        sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle="garbage", VisibilityTimeout=1)
    assert error_code(e) == "ReceiptHandleIsInvalid"
    with pytest.raises(ServiceError) as e:
        sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43201)
    assert error_code(e) == "InvalidParameterValue"
    # 12 hours in total from the receive.
    sqs.advance(3)
    with pytest.raises(ServiceError) as e:
        sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43200)
    assert "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]" in e.value.message
    sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43196)
    sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    # No longer in flight: AWS answers OK and the message stays visible.
    sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10)
    [msg] = sqs.receive(url)
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    with pytest.raises(ServiceError) as e:
        sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=10)
    assert error_code(e) == "InvalidParameterValue"


def test_delete_with_old_and_foreign_handles(sqs):
    url = sqs.queue()
    other = sqs.queue("other")
    sqs("SendMessage", QueueUrl=url, MessageBody="m")
    [first] = sqs.receive(url, VisibilityTimeout=0)
    [second] = sqs.receive(url, VisibilityTimeout=30)
    with pytest.raises(ServiceError) as e:
        sqs("DeleteMessage", QueueUrl=other, ReceiptHandle=second["ReceiptHandle"])
    assert error_code(e) == "ReceiptHandleIsInvalid" and e.value.status == 404
    # Standard queues take any handle issued for the message.
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert sqs.counts(url) == (0, 0, 0)
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])  # already gone: fine


def test_retention_expires_messages(sqs):
    url = sqs.queue(MessageRetentionPeriod=60)
    sqs("SendMessage", QueueUrl=url, MessageBody="old")
    sqs.advance(30)
    sqs("SendMessage", QueueUrl=url, MessageBody="young")
    sqs.advance(31)
    assert sqs.counts(url) == (1, 0, 0)
    assert [m["Body"] for m in sqs.receive(url)] == ["young"]
    sqs.advance(100)
    assert sweep_all(sqs.app) == 1
    assert sqs.counts(url) == (0, 0, 0)


def test_retention_of_a_message_whose_seq_is_ahead_of_its_send_time(sqs):
    """A queue's seqs only rise; after the clock went back (a reset) a message's seq is
    ahead of when it was sent, and its retention still runs from its send."""
    url = sqs.queue(MessageRetentionPeriod=60)
    sqs.advance(1000)
    sqs("SendMessage", QueueUrl=url, MessageBody="first")
    [first] = sqs.receive(url)
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    sqs.app.clock.reset()
    sqs("SendMessage", QueueUrl=url, MessageBody="second")
    sqs.advance(59)
    assert sqs.counts(url) == (1, 0, 0)
    sqs.advance(2)
    assert sqs.counts(url) == (0, 0, 0)
    assert sqs.receive(url) == []


def test_message_records_written_as_dicts_by_earlier_versions_still_load(sqs):
    from cloudlet.services.sqs import store
    from cloudlet.services.sqs.message import Message
    from cloudlet.storage.codec import dumps, loads

    url = sqs.queue()
    sqs("SendMessage", QueueUrl=url, MessageBody="old format")
    with sqs.app.store.transaction() as tx:
        [(key, raw)] = list(tx.range(prefix=store.data_prefix(ACCOUNT, "us-east-1", "q") + ("m",)))
        record = loads(raw)
        assert type(record) is tuple
        tx.put(key, dumps(dict(zip(Message.__slots__, record))))
    [got] = sqs.receive(url)
    assert got["Body"] == "old format"
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=got["ReceiptHandle"])
    assert sqs.counts(url) == (0, 0, 0)


def test_batches_report_each_entry(sqs):
    url = sqs.queue()
    out = sqs("SendMessageBatch", QueueUrl=url, Entries=[
        {"Id": "ok", "MessageBody": "a"},
        {"Id": "bad", "MessageBody": "b", "DelaySeconds": 1000},
        {"Id": "ok2", "MessageBody": "c", "MessageAttributes": {"k": {"DataType": "Number", "StringValue": "1"}}},
    ])
    assert [e["Id"] for e in out["Successful"]] == ["ok", "ok2"]
    assert out["Successful"][1]["MD5OfMessageAttributes"]
    assert out["Failed"] == [{"Id": "bad", "SenderFault": True, "Code": "InvalidParameterValue",
                              "Message": "Value 1000 for parameter DelaySeconds is invalid. Reason: DelaySeconds must "
                                         "be >= 0 and <= 900."}]
    msgs = sqs.receive(url)
    out = sqs("ChangeMessageVisibilityBatch", QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 100},
        {"Id": "b", "ReceiptHandle": "junk", "VisibilityTimeout": 100},
    ])
    assert [e["Id"] for e in out["Successful"]] == ["a"] and out["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    out = sqs("DeleteMessageBatch", QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": msgs[0]["ReceiptHandle"]},
        {"Id": "b", "ReceiptHandle": msgs[1]["ReceiptHandle"]},
        {"Id": "c", "ReceiptHandle": "junk"},
    ])
    assert [e["Id"] for e in out["Successful"]] == ["a", "b"] and [e["Id"] for e in out["Failed"]] == ["c"]
    assert sqs.counts(url) == (0, 0, 0)
    with pytest.raises(ServiceError) as e:
        sqs("SendMessageBatch", QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x" * 600_000},
                                                     {"Id": "b", "MessageBody": "y" * 600_000}])
    assert error_code(e) == "BatchRequestTooLong"
    assert sqs.counts(url) == (0, 0, 0)


def test_receive_is_cheap_with_ten_thousand_messages(sqs):
    url = sqs.queue()
    for start in range(0, 10_000, 10):
        sqs("SendMessageBatch", QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)])
    t0 = time.perf_counter()
    seen = set()
    for _ in range(50):
        for m in sqs.receive(url, 10):
            seen.add(m["Body"])
    elapsed = time.perf_counter() - t0
    assert len(seen) == 500
    assert elapsed < 2.0, f"50 receives took {elapsed:.2f}s"


# ---------------------------------------------------------------- FIFO

def send_fifo(sqs, url, body, group, dedup=None):
    return sqs("SendMessage", QueueUrl=url, MessageBody=body, MessageGroupId=group,
               MessageDeduplicationId=dedup or body)


def test_fifo_order_and_group_blocking(sqs):
    url = sqs.fifo()
    for i in range(3):
        send_fifo(sqs, url, f"a{i}", "A")
        send_fifo(sqs, url, f"b{i}", "B")
    first = sqs.receive(url, 2)
    assert [m["Body"] for m in first] == ["a0", "a1"]
    # Group A is blocked while a0/a1 are in flight; B is free.
    second = sqs.receive(url, 10)
    assert [m["Body"] for m in second] == ["b0", "b1", "b2"]
    assert sqs.receive(url, 10) == []
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert sqs.receive(url, 10) == []  # a1 still in flight
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"])
    assert [m["Body"] for m in sqs.receive(url, 10)] == ["a2"]


@pytest.mark.parametrize("order", ["in order", "out of order"])
def test_fifo_batch_delete_unblocks_each_group_at_its_new_head(sqs, order):
    url = sqs.fifo(VisibilityTimeout=30)
    for i in range(4):
        send_fifo(sqs, url, f"a{i}", "A")
        send_fifo(sqs, url, f"b{i}", "B")
    got = {m["Body"]: m["ReceiptHandle"] for m in sqs.receive(url, 10)}
    assert sorted(got) == ["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3"]
    gone = ["a0", "a1", "b0"] if order == "in order" else ["a1", "b0", "a0"]
    out = sqs("DeleteMessageBatch", QueueUrl=url, Entries=[
        {"Id": str(i), "ReceiptHandle": got[body]} for i, body in enumerate(gone + ["x"])
        if body != "x"] + [{"Id": "bad", "ReceiptHandle": "not-a-handle"}])
    assert len(out["Successful"]) == 3 and [f["Id"] for f in out["Failed"]] == ["bad"]
    # The rest comes back, in order, once its visibility ends: A from a2, B from b1.
    sqs("ChangeMessageVisibilityBatch", QueueUrl=url, Entries=[
        {"Id": str(i), "ReceiptHandle": got[body], "VisibilityTimeout": 0}
        for i, body in enumerate(["a2", "a3", "b1", "b2", "b3"])])
    again = [m["Body"] for m in sqs.receive(url, 10)]
    assert [b for b in again if b[0] == "a"] == ["a2", "a3"] and [b for b in again if b[0] == "b"] == ["b1", "b2", "b3"]
    assert sqs.counts(url) == (0, 5, 0)


def test_fifo_redelivers_in_order_after_visibility_timeout(sqs):
    url = sqs.fifo(VisibilityTimeout=10)
    for i in range(3):
        send_fifo(sqs, url, f"m{i}", "G")
    [m0] = sqs.receive(url, 1)
    sqs.advance(11)
    again = sqs.receive(url, 10)
    assert [m["Body"] for m in again] == ["m0", "m1", "m2"]
    # The expired handle of the first receive is refused.
    with pytest.raises(ServiceError) as e:
        sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=m0["ReceiptHandle"])
    assert error_code(e) == "InvalidParameterValue" and "expired" in e.value.message


def test_fifo_deduplication_window(sqs):
    url = sqs.fifo()
    r1 = send_fifo(sqs, url, "x", "g", "d1")
    r2 = send_fifo(sqs, url, "y", "g", "d1")
    assert r1["MessageId"] == r2["MessageId"] and r1["SequenceNumber"] == r2["SequenceNumber"]
    assert sqs.counts(url) == (1, 0, 0)
    sqs.advance(301)
    r3 = send_fifo(sqs, url, "x", "g", "d1")
    assert r3["MessageId"] != r1["MessageId"] and int(r3["SequenceNumber"]) > int(r1["SequenceNumber"])
    assert sqs.counts(url) == (2, 0, 0)


def test_fifo_dedup_scope_message_group(sqs):
    url = sqs.fifo("g.fifo", DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    send_fifo(sqs, url, "x", "g1", "same")
    send_fifo(sqs, url, "x", "g2", "same")
    send_fifo(sqs, url, "x", "g1", "same")
    assert sqs.counts(url) == (2, 0, 0)


def test_fifo_receive_request_attempt_id(sqs):
    url = sqs.fifo()
    for i in range(3):
        send_fifo(sqs, url, f"m{i}", "G")
    first = sqs.receive(url, 2, ReceiveRequestAttemptId="try-1")
    retry = sqs.receive(url, 2, ReceiveRequestAttemptId="try-1")
    assert [m["ReceiptHandle"] for m in retry] == [m["ReceiptHandle"] for m in first]
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert sqs.receive(url, 2, ReceiveRequestAttemptId="try-1") == []  # changed: a normal receive, group blocked


def test_fifo_queue_delay(sqs):
    url = sqs.fifo(DelaySeconds=5)
    send_fifo(sqs, url, "m", "G")
    assert sqs.counts(url) == (0, 0, 1)
    assert sqs.receive(url) == []
    sqs.advance(5)
    assert [m["Body"] for m in sqs.receive(url)] == ["m"]



def test_fifo_counts_from_the_message_records(sqs):
    # FIFO queues keep no visibility index; the counters read the records.
    url = sqs.fifo(VisibilityTimeout=30)
    for i in range(3):
        send_fifo(sqs, url, f"a{i}", "A")
    send_fifo(sqs, url, "b0", "B")
    assert sqs.counts(url) == (4, 0, 0)
    got = sqs.receive(url, 2)
    assert [m["Body"] for m in got] == ["a0", "a1"]
    assert sqs.counts(url) == (2, 2, 0)  # a2 is visible though its group is blocked
    sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=got[1]["ReceiptHandle"], VisibilityTimeout=0)
    assert sqs.counts(url) == (3, 1, 0)
    assert sqs.receive(url, 10)[0]["Body"] == "b0"  # A is still blocked by a0
    sqs.advance(31)
    assert sqs.counts(url) == (4, 0, 0)
    assert [m["Body"] for m in sqs.receive(url, 10)] == ["a0", "a1", "a2", "b0"]


@pytest.mark.parametrize("wake", ["head's visibility ends", "head deleted", "delay ends"])
def test_fifo_long_poll_wakes_when_a_group_head_becomes_receivable(sqs, wake):
    # Real time, not clock advances (those wake every poll): the poll must sleep
    # until the head's visibility or delay ends, which it learns from the head index.
    url = sqs.fifo(VisibilityTimeout=1, DelaySeconds=1 if wake == "delay ends" else 0)
    if wake != "delay ends":
        send_fifo(sqs, url, "m0", "G")
        send_fifo(sqs, url, "m1", "G")
        [m0] = sqs.receive(url, 1)

    async def scenario():
        handler = service.handlers["ReceiveMessage"]
        t0 = time.perf_counter()
        waiting = asyncio.ensure_future(handler(sqs.ctx("ReceiveMessage"), {"QueueUrl": url, "WaitTimeSeconds": 5}))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # m1 waits behind m0, in flight
        if wake == "head's visibility ends":
            expected = ["m0"]
        elif wake == "head deleted":
            sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=m0["ReceiptHandle"])
            expected = ["m1"]
        else:
            send_fifo(sqs, url, "n0", "H")
            expected = ["n0"]
        got = await asyncio.wait_for(waiting, 5)
        assert [m["Body"] for m in got["Messages"]] == expected
        assert time.perf_counter() - t0 < 2.5

    asyncio.run(scenario())


def test_fifo_visibility_entries_of_earlier_versions_are_dropped_by_the_sweep(sqs):
    from cloudlet.services.sqs import store
    from cloudlet.storage.keys import pack

    url = sqs.fifo()
    send_fifo(sqs, url, "m", "G")
    prefix = store.data_prefix(ACCOUNT, "us-east-1", "f.fifo")
    with sqs.app.store.transaction() as tx:
        [(key, _)] = list(tx.range(prefix=prefix + ("m",)))
        tx.put(pack(prefix + ("v", 0, key[-1])), b"a")  # as earlier versions kept one
    assert sqs.counts(url) == (1, 0, 0)
    sweep_all(sqs.app)
    with sqs.app.store.transaction() as tx:
        assert list(tx.range(prefix=prefix + ("v",))) == []
    [got] = sqs.receive(url)
    assert got["Body"] == "m"
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=got["ReceiptHandle"])
    assert sqs.counts(url) == (0, 0, 0)


# ---------------------------------------------------------------- dead-letter queues and redrive

def dlq_pair(sqs, fifo=False, max_receives=2):
    suffix = ".fifo" if fifo else ""
    extra = {"FifoQueue": "true"} if fifo else {}
    dlq = sqs.queue("dlq" + suffix, **extra)
    dlq_arn = sqs("GetQueueAttributes", QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = sqs.queue("src" + suffix, VisibilityTimeout=1, **extra,
                    RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}))
    return src, dlq, dlq_arn


def test_messages_move_to_the_dlq_after_max_receives(sqs):
    src, dlq, _ = dlq_pair(sqs)
    sqs("SendMessage", QueueUrl=src, MessageBody="poison")
    for _ in range(2):
        assert len(sqs.receive(src)) == 1
        sqs.advance(2)
    assert sqs.receive(src) == []
    [moved] = sqs.receive(dlq, MessageSystemAttributeNames=["All"])
    assert moved["Body"] == "poison"
    assert moved["Attributes"]["DeadLetterQueueSourceArn"].endswith(":src")
    # Receives are counted across queues: two in the source, one here.
    assert moved["Attributes"]["ApproximateReceiveCount"] == "3"
    assert sqs("ListDeadLetterSourceQueues", QueueUrl=dlq)["queueUrls"] == [src]


def test_fifo_dlq_keeps_group_order(sqs):
    src, dlq, _ = dlq_pair(sqs, fifo=True, max_receives=1)
    for i in range(2):
        send_fifo(sqs, src, f"m{i}", "G")
    assert [m["Body"] for m in sqs.receive(src, 10)] == ["m0", "m1"]
    sqs.advance(2)
    assert sqs.receive(src, 10) == []
    assert [m["Body"] for m in sqs.receive(dlq, 10)] == ["m0", "m1"]


def test_message_move_task_redrives_back_to_the_source(sqs):
    src, dlq, dlq_arn = dlq_pair(sqs, max_receives=1)
    for i in range(5):
        sqs("SendMessage", QueueUrl=src, MessageBody=f"m{i}")
    sqs.receive(src, 10)
    sqs.advance(2)
    assert sqs.receive(src, 10) == []
    assert sqs.counts(dlq) == (5, 0, 0)
    handle = sqs("StartMessageMoveTask", SourceArn=dlq_arn)["TaskHandle"]
    [task] = sqs("ListMessageMoveTasks", SourceArn=dlq_arn)["Results"]
    assert task["Status"] == "RUNNING" and task["TaskHandle"] == handle
    assert task["ApproximateNumberOfMessagesToMove"] == 5
    with pytest.raises(ServiceError) as e:
        sqs("StartMessageMoveTask", SourceArn=dlq_arn)
    assert "already a task running" in e.value.message
    running, _ = move_step(sqs.app)
    assert not running
    [task] = sqs("ListMessageMoveTasks", SourceArn=dlq_arn)["Results"]
    assert task["Status"] == "COMPLETED" and task["ApproximateNumberOfMessagesMoved"] == 5
    assert "TaskHandle" not in task
    assert sqs.counts(dlq) == (0, 0, 0)
    assert sorted(m["Body"] for m in sqs.receive(src, 10)) == [f"m{i}" for i in range(5)]
    with pytest.raises(ServiceError) as e:
        sqs("CancelMessageMoveTask", TaskHandle=handle)
    assert error_code(e) == "ResourceNotFoundException"


def test_move_task_validation_and_cancel(sqs):
    src, dlq, dlq_arn = dlq_pair(sqs, max_receives=1)
    src_arn = dlq_arn.replace(":dlq", ":src")
    with pytest.raises(ServiceError) as e:
        sqs("StartMessageMoveTask", SourceArn=src_arn)
    assert "Dead Letter Queue" in e.value.message
    with pytest.raises(ServiceError) as e:
        sqs("StartMessageMoveTask", SourceArn=dlq_arn.replace(":dlq", ":missing"))
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ServiceError) as e:
        sqs("StartMessageMoveTask", SourceArn=dlq_arn, DestinationArn=dlq_arn.replace(":dlq", ":missing"))
    assert error_code(e) == "ResourceNotFoundException"
    for i in range(30):
        sqs("SendMessage", QueueUrl=dlq, MessageBody=str(i))
    other = sqs.queue("elsewhere")
    handle = sqs("StartMessageMoveTask", SourceArn=dlq_arn, DestinationArn=dlq_arn.replace(":dlq", ":elsewhere"),
                 MaxNumberOfMessagesPerSecond=10)["TaskHandle"]
    move_step(sqs.app)
    assert sqs("CancelMessageMoveTask", TaskHandle=handle) == {"ApproximateNumberOfMessagesMoved": 10}
    move_step(sqs.app)
    [task] = sqs("ListMessageMoveTasks", SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert task["Status"] == "CANCELLED" and task["ApproximateNumberOfMessagesMoved"] == 10
    assert sqs.counts(other) == (10, 0, 0) and sqs.counts(dlq) == (20, 0, 0)


# ---------------------------------------------------------------- long polling

def test_long_poll_wakes_on_send_and_on_clock_advance(sqs):
    url = sqs.queue()

    async def scenario():
        ctx = sqs.ctx("ReceiveMessage")
        handler = service.handlers["ReceiveMessage"]
        waiting = asyncio.ensure_future(handler(ctx, {"QueueUrl": url, "WaitTimeSeconds": 20}))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        t0 = time.perf_counter()
        sqs("SendMessage", QueueUrl=url, MessageBody="wake")
        got = await asyncio.wait_for(waiting, 1)
        assert got["Messages"][0]["Body"] == "wake"
        assert time.perf_counter() - t0 < 0.1
        # An empty long poll ends when the clock passes its deadline.
        waiting = asyncio.ensure_future(handler(ctx, {"QueueUrl": url, "WaitTimeSeconds": 20}))
        await asyncio.sleep(0.05)
        sqs.advance(21)
        assert await asyncio.wait_for(waiting, 1) == {}
        # A delayed message ends a long poll when its delay is over.
        sqs("SendMessage", QueueUrl=url, MessageBody="later", DelaySeconds=5)
        waiting = asyncio.ensure_future(handler(ctx, {"QueueUrl": url, "WaitTimeSeconds": 20}))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        sqs.advance(5)
        got = await asyncio.wait_for(waiting, 1)
        assert got["Messages"][0]["Body"] == "later"

    asyncio.run(scenario())


# ---------------------------------------------------------------- tags and permissions

def test_tags(sqs):
    url = sqs("CreateQueue", QueueName="t", tags={"a": "1"})["QueueUrl"]
    sqs("TagQueue", QueueUrl=url, Tags={"b": "2", "a": "3"})
    assert sqs("ListQueueTags", QueueUrl=url)["Tags"] == {"a": "3", "b": "2"}
    sqs("UntagQueue", QueueUrl=url, TagKeys=["a", "zzz"])
    assert sqs("ListQueueTags", QueueUrl=url)["Tags"] == {"b": "2"}
    with pytest.raises(ServiceError):
        sqs("TagQueue", QueueUrl=url, Tags={f"k{i}": "v" for i in range(50)})
    assert sqs("ListQueueTags", QueueUrl=url)["Tags"] == {"b": "2"}


def test_permissions(sqs):
    url = sqs.queue()
    sqs("AddPermission", QueueUrl=url, Label="L", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    policy = json.loads(sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"][0]["Sid"] == "L"
    sqs("RemovePermission", QueueUrl=url, Label="L")
    assert sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["Policy"]) == {}


def test_dead_letter_source_queues_pages(sqs):
    dlq = sqs.queue("dlq")
    arn = sqs("GetQueueAttributes", QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
    sources = [sqs.queue(f"src{i}", RedrivePolicy=policy) for i in range(5)]
    sqs.queue("unrelated")
    page = sqs("ListDeadLetterSourceQueues", QueueUrl=dlq, MaxResults=2)
    got = page["queueUrls"]
    while "NextToken" in page:
        page = sqs("ListDeadLetterSourceQueues", QueueUrl=dlq, MaxResults=2, NextToken=page["NextToken"])
        got += page["queueUrls"]
    assert got == sources
    assert sqs("ListDeadLetterSourceQueues", QueueUrl=sources[0]) == {"queueUrls": []}


def test_counts_ignore_every_expired_message(sqs):
    url = sqs.queue(MessageRetentionPeriod=60)
    for start in range(0, 1500, 10):
        sqs("SendMessageBatch", QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(10)])
    sqs.advance(61)
    assert sqs.counts(url) == (0, 0, 0)
