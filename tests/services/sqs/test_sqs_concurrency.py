"""Many clients at once against one server: long polls that return as soon as a
message arrives, consumers that never lose or double-hold a message."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest


@pytest.fixture
def sqs(client_factory):
    return client_factory("sqs")


def test_long_poll_returns_promptly_after_a_send(client_factory, unique_name):
    sqs = client_factory("sqs")
    sender = client_factory("sqs")
    url = sqs.create_queue(QueueName=unique_name("lp"))["QueueUrl"]
    sent_at = {}

    def send_later():
        time.sleep(0.5)
        sent_at["t"] = time.perf_counter()
        sender.send_message(QueueUrl=url, MessageBody="ping")

    t = threading.Thread(target=send_later)
    t.start()
    start = time.perf_counter()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    done = time.perf_counter()
    t.join()
    assert got["Messages"][0]["Body"] == "ping"
    assert done - start >= 0.45  # it really waited
    assert done - sent_at["t"] < 0.1, f"returned {done - sent_at['t']:.3f}s after the send"


def test_long_poll_uses_queue_default_wait_and_ends_on_clock_advance(client_factory, server, unique_name):
    sqs = client_factory("sqs")
    url = sqs.create_queue(QueueName=unique_name("lpw"), Attributes={"ReceiveMessageWaitTimeSeconds": "20"})["QueueUrl"]
    result = {}

    def poll():
        t0 = time.perf_counter()
        result["r"] = sqs.receive_message(QueueUrl=url)
        result["t"] = time.perf_counter() - t0

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)
    assert t.is_alive()  # waiting: the queue's ReceiveMessageWaitTimeSeconds applies
    server.advance_clock(21)
    t.join(5)
    assert not t.is_alive() and "Messages" not in result["r"] and result["t"] < 2


def test_many_long_polls_do_not_block_each_other(client_factory, unique_name):
    sqs = client_factory("sqs", max_pool_connections=20)
    urls = [sqs.create_queue(QueueName=unique_name(f"lpm{i}"))["QueueUrl"] for i in range(10)]
    with ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(sqs.receive_message, QueueUrl=u, WaitTimeSeconds=5) for u in urls]
        time.sleep(0.3)
        t0 = time.perf_counter()
        for u in urls:
            sqs.send_message(QueueUrl=u, MessageBody=u)
        results = [f.result(timeout=10) for f in futures]
    assert [r["Messages"][0]["Body"] for r in results] == urls
    assert time.perf_counter() - t0 < 2


def _consume_standard(client_factory, url, received, lock, stop):
    sqs = client_factory("sqs")
    while not stop.is_set():
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   VisibilityTimeout=300).get("Messages", [])
        if not msgs:
            continue
        with lock:
            received.extend(m["Body"] for m in msgs)
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(msgs)])


@pytest.mark.slow
def test_eight_consumers_drain_ten_thousand_messages(client_factory, unique_name):
    sqs = client_factory("sqs")
    url = sqs.create_queue(QueueName=unique_name("drain"))["QueueUrl"]
    total = 10_000

    def produce(start):
        client = client_factory("sqs")
        for base in range(start, start + 2_500, 10):
            out = client.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)}
                                                                   for i in range(base, base + 10)])
            assert not out["Failed"]

    received: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    with ThreadPoolExecutor(12) as pool:
        consumers = [pool.submit(_consume_standard, client_factory, url, received, lock, stop) for _ in range(8)]
        for f in [pool.submit(produce, s) for s in range(0, total, 2_500)]:
            f.result()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with lock:
                if len(received) >= total:
                    break
            time.sleep(0.1)
        stop.set()
        for f in consumers:
            f.result()
    assert len(received) == total, "messages lost or delivered twice"
    assert set(received) == {str(i) for i in range(total)}
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def test_eight_consumers_on_a_fifo_queue_keep_group_order(client_factory, unique_name):
    sqs = client_factory("sqs")
    url = sqs.create_queue(QueueName=unique_name("ffo") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    groups, per_group = 4, 100
    for i in range(per_group):
        for g in range(groups):
            for _ in range(2):  # every message twice: the second is a duplicate within the window
                sqs.send_message(QueueUrl=url, MessageBody=f"{g}:{i}", MessageGroupId=f"g{g}",
                                 MessageDeduplicationId=f"{g}-{i}")
    order: dict[str, list[int]] = defaultdict(list)
    in_flight: set[str] = set()
    held_groups: set[str] = set()
    problems: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def consume():
        client = client_factory("sqs")
        while not done.is_set():
            msgs = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                          VisibilityTimeout=60, AttributeNames=["MessageGroupId"]).get("Messages", [])
            if not msgs:
                continue
            batch_groups = {m["Attributes"]["MessageGroupId"] for m in msgs}
            with lock:
                for m in msgs:
                    group, index = m["Body"].split(":")
                    if m["Body"] in in_flight:
                        problems.append(f"{m['Body']} handed out while in flight")
                    in_flight.add(m["Body"])
                    order[group].append(int(index))
                if batch_groups & held_groups:
                    problems.append(f"group {batch_groups & held_groups} handed to two consumers")
                held_groups.update(batch_groups)
                if sum(map(len, order.values())) >= groups * per_group:
                    done.set()
            time.sleep(0.001)
            with lock:
                for m in msgs:
                    in_flight.discard(m["Body"])
                held_groups.difference_update(batch_groups)
            client.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                              for i, m in enumerate(msgs)])

    with ThreadPoolExecutor(8) as pool:
        for f in [pool.submit(consume) for _ in range(8)]:
            f.result(timeout=120)
    assert problems == []
    for g in range(groups):
        assert order[str(g)] == list(range(per_group)), f"group {g} out of order or duplicated"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
