"""SQS state on disk: a restart keeps queues, attributes, tags, in-flight and delayed
messages; ``kill -9`` in the middle of traffic loses no acknowledged message."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import make_client


def client(server):
    return make_client("sqs", server.url)


def counts(sqs, url) -> tuple[int, int, int]:
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"]),
            int(a["ApproximateNumberOfMessagesDelayed"]))


def drain(sqs, url, max_empty=3) -> list[dict]:
    out, empty = [], 0
    while empty < max_empty:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                   AttributeNames=["All"]).get("Messages", [])
        if not msgs:
            empty += 1
            continue
        out += msgs
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(msgs)])
    return out


def test_restart_keeps_queues_attributes_tags_in_flight_and_delays(durable_server):
    sqs = client(durable_server)
    url = sqs.create_queue(QueueName="keep", Attributes={"VisibilityTimeout": "300", "DelaySeconds": "0"},
                           tags={"team": "blue"})["QueueUrl"]
    fifo = sqs.create_queue(QueueName="keep.fifo", Attributes={"FifoQueue": "true",
                                                               "ContentBasedDeduplication": "true"})["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"ready{i}")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=900)
    [held] = sqs.receive_message(QueueUrl=url)["Messages"]
    first = sqs.send_message(QueueUrl=fifo, MessageBody="a", MessageGroupId="g")
    sqs.send_message(QueueUrl=fifo, MessageBody="b", MessageGroupId="g")
    [fifo_held] = sqs.receive_message(QueueUrl=fifo)["Messages"]
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    durable_server.restart()
    sqs = client(durable_server)

    after = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert after == before
    assert counts(sqs, url) == (2, 1, 1)
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "blue"}
    assert sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["ContentBasedDeduplication"])["Attributes"] == {
        "ContentBasedDeduplication": "true"}
    # The in-flight message stays invisible and its receipt handle still works.
    ready = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert held["Body"] not in {m["Body"] for m in ready} and len(ready) == 2
    for m in ready:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=held["ReceiptHandle"])
    # FIFO: group still blocked by the in-flight message, dedup history kept, sequence numbers continue.
    assert "Messages" not in sqs.receive_message(QueueUrl=fifo)
    again = sqs.send_message(QueueUrl=fifo, MessageBody="a", MessageGroupId="g")
    assert again["MessageId"] == first["MessageId"]
    sqs.delete_message(QueueUrl=fifo, ReceiptHandle=fifo_held["ReceiptHandle"])
    [b] = sqs.receive_message(QueueUrl=fifo)["Messages"]
    assert b["Body"] == "b"
    later = sqs.send_message(QueueUrl=fifo, MessageBody="c", MessageGroupId="g")
    assert int(later["SequenceNumber"]) > int(first["SequenceNumber"])
    # The delayed message comes out when its delay is over.
    durable_server.advance_clock(901)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "delayed"


def test_sequence_numbers_keep_rising_after_the_queue_is_emptied_and_restarted(durable_server):
    # seqs are not stored as a counter: after a restart the newest message may be gone,
    # yet the next SequenceNumber must still be larger, and no message may be overwritten
    sqs = client(durable_server)
    fifo = sqs.create_queue(QueueName="seq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    url = sqs.create_queue(QueueName="seq")["QueueUrl"]
    sent = [int(sqs.send_message(QueueUrl=fifo, MessageBody=str(i), MessageGroupId="g",
                                 MessageDeduplicationId=str(i))["SequenceNumber"]) for i in range(20)]
    assert sent == sorted(sent) and len(set(sent)) == 20 and all(len(str(n)) == 20 for n in sent)
    assert len(drain(sqs, fifo)) == 20  # received and deleted
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    durable_server.restart()
    sqs = client(durable_server)
    after = int(sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g",
                                 MessageDeduplicationId="x")["SequenceNumber"])
    assert after > sent[-1]
    for i in range(50):
        sqs.send_message(QueueUrl=url, MessageBody=f"new{i}")
    bodies = sorted(m["Body"] for m in drain(sqs, url))
    assert bodies == sorted(["kept"] + [f"new{i}" for i in range(50)])


def _send_until_killed(server, url, prefix, acked, attempted, lock, fifo=False):
    sqs = client(server)
    i = 0
    while True:
        body = f"{prefix}-{i}"
        with lock:
            attempted.add(body)
        try:
            if fifo:
                sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=prefix, MessageDeduplicationId=body)
            else:
                sqs.send_message(QueueUrl=url, MessageBody=body)
        except (BotoCoreError, ClientError):
            return
        with lock:
            acked.append(body)
        i += 1


@pytest.mark.slow
@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_kill_9_loses_no_acknowledged_message(durable_server, fifo):
    sqs = client(durable_server)
    name = "durable.fifo" if fifo else "durable"
    attributes = {"FifoQueue": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    acked: list[str] = []
    attempted: set[str] = set()
    lock = threading.Lock()
    threads = [threading.Thread(target=_send_until_killed,
                                args=(durable_server, url, f"t{n}", acked, attempted, lock, fifo))
               for n in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with lock:
            if len(acked) >= 1500:
                break
        time.sleep(0.01)
    durable_server.kill()
    for t in threads:
        t.join(30)
    assert len(acked) >= 100

    durable_server.start()
    sqs = client(durable_server)
    got = drain(sqs, url)
    bodies = [m["Body"] for m in got]
    missing = set(acked) - set(bodies)
    assert not missing, f"{len(missing)} acknowledged messages lost"
    assert set(bodies) <= attempted  # nothing appears that nobody sent
    if fifo:
        # Exactly once, in order per group (sender thread).
        assert len(bodies) == len(set(bodies))
        per_group: dict[str, list[int]] = {}
        for m in got:
            prefix, index = m["Body"].rsplit("-", 1)
            per_group.setdefault(prefix, []).append(int(index))
        for prefix, indexes in per_group.items():
            assert indexes == sorted(indexes), prefix
            assert indexes == list(range(len(indexes))), prefix
