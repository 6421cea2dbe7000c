"""python -m benchmarks inproc [--workload a,b] [--durable] [--requests 4000] [--profile N]

The server's own cost per request, without sockets: signed raw HTTP requests go
straight into the server's protocol objects (one per emulated connection, 16 by
default) with in-process transports, on the event loop the server runs on. Each
turn feeds one request to every connection and lets the loop run until all have
answered, so on the SQLite store (--durable) a group commit covers 16 requests,
as with 16 busy clients. What is left out is the kernel: socket reads and writes
(~15 us a request on the development machine) and the load generator.

Prints microseconds per request (best of --repeat), for the in-memory store and,
with --durable, the SQLite one. --profile N runs cProfile over one repetition and
prints its top N functions by own time: the tool for finding what to make faster.
"""

from __future__ import annotations

import argparse
import os
import asyncio
import base64
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Generator

import orjson

from benchmarks import select_workloads
from benchmarks.client import Signer

DDB = "DynamoDB_20120810."
SQS = "AmazonSQS."
KIN = "Kinesis_20131202."
QUEUE_URL = "http://127.0.0.1:4566/000000000000/"

# A chain is one emulated connection's requests: it yields a request and is sent
# the status and body of the answer before it yields the next one.
Chain = Generator[bytes, "tuple[int, bytes]", None]


class _Transport:
    """Collects what the server writes; enough of asyncio.Transport for the server."""

    def __init__(self):
        self.out: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.out.append(data)

    def writelines(self, chunks) -> None:
        self.out.extend(chunks)

    def take(self) -> tuple[int, bytes]:
        raw = b"".join(self.out)
        self.out.clear()
        head, _, body = raw.partition(b"\r\n\r\n")
        return int(head[9:12]), body

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name, default=None):
        return default


class Bench:
    """A cloudlet App (in memory or on a fresh temporary data dir) and a way to call it."""

    def __init__(self, durable: bool):
        from cloudlet.app import App
        from cloudlet.config import Config

        self.app = App(Config(in_memory=not durable, data_dir=tempfile.mkdtemp(prefix="cloudlet-inproc-"),
                              port=4566))
        self.s = Signer("127.0.0.1", 4566)
        self.made: set[str] = set()

    async def start(self) -> None:
        await self.app.start()

    def json(self, service: str, op: str, payload: dict) -> bytes:
        prefix = {"dynamodb": DDB, "sqs": SQS, "kinesis": KIN}[service]
        return self.s.json(service, prefix + op, payload, version="1.1" if service == "kinesis" else "1.0")

    async def turns(self, chains: list[Chain], prof: cProfile.Profile | None = None) -> tuple[int, float]:
        """Run the chains side by side, one request each per turn, until all end.
        Returns how many requests were answered and the seconds the server took:
        from handing it a turn's requests until all are answered (building the
        next requests, which may need the answers, is not counted; ``prof``, if
        given, is enabled over the same stretches)."""
        from cloudlet.server import HttpProtocol

        conns = []
        for chain in chains:
            t = _Transport()
            p = HttpProtocol(self.app.gateway)
            p.connection_made(t)
            conns.append([p, t, chain, next(chain, None)])
        done = 0
        spent = 0.0
        clock = time.perf_counter
        while True:
            live = [c for c in conns if c[3] is not None]
            if not live:
                return done, spent
            if prof is not None:
                prof.enable()
            t0 = clock()
            for c in live:
                c[0].data_received(c[3])
            waiting = [c for c in live if c[0].busy or not c[1].out]
            while waiting:
                await asyncio.sleep(0)
                waiting = [c for c in waiting if c[0].busy or not c[1].out]
            spent += clock() - t0
            if prof is not None:
                prof.disable()
            for c in live:
                status, body = c[1].take()
                if status != 200:
                    raise RuntimeError(f"answer {status}: {body[:300]!r}")
                done += 1
                try:
                    c[3] = c[2].send((status, body))
                except StopIteration:
                    c[3] = None

    async def call(self, req: bytes) -> None:
        await self.all([req], 1)

    async def once(self, key: str, req: bytes, settle: float = 0.2) -> None:
        """``call(req)`` the first time ``key`` is asked for (create a table once), then
        give the server ``settle`` seconds to make it ACTIVE."""
        if key not in self.made:
            self.made.add(key)
            await self.call(req)
            await asyncio.sleep(settle)

    async def all(self, reqs: list[bytes], connections: int) -> None:
        """Untimed set-up: send ``reqs`` over ``connections`` emulated connections."""
        await self.turns([(r for r in reqs[i::connections]) for i in range(connections)])


def _each(reqs: Callable[[int], bytes], n: int) -> Callable[[int, int], Chain]:
    """Chains of independent requests: connection ``c`` of ``k`` sends reqs(c), reqs(c + k), ..."""
    def make(c: int, k: int) -> Chain:
        for i in range(c, n, k):
            yield reqs(i)
    return make


# ---------------------------------------------------------------- workloads
# Each takes (bench, requests) and returns (set-up coroutine, chain factory): the
# set-up runs untimed before every repetition, then chain(c, k) for c in range(k).

def ddb_table(b: Bench, name: str, range_key: bool = False) -> bytes:
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
    return b.json("dynamodb", "CreateTable", {"TableName": name, "AttributeDefinitions": attrs, "KeySchema": schema,
                                              "BillingMode": "PAY_PER_REQUEST"})


def w_ddb_put(b: Bench, n: int):
    data = "x" * 1000

    async def setup():
        await b.once("put", ddb_table(b, "put"))
    return setup, _each(lambda i: b.json("dynamodb", "PutItem", {
        "TableName": "put", "Item": {"pk": {"S": f"k{i}"}, "data": {"S": data}, "n": {"N": str(i)}}}), n)


def w_ddb_batch_write(b: Bench, n: int, pool: int = 4000):
    """BatchWriteItem of 25 items (200 bytes of data), cycling through ``pool``
    distinct requests as the socket benchmark does: after the first cycle every
    put replaces an item."""
    data = "z" * 200

    async def setup():
        await b.once("batch", ddb_table(b, "batch"))
    return setup, _each(lambda i: b.json("dynamodb", "BatchWriteItem", {"RequestItems": {"batch": [
        {"PutRequest": {"Item": {"pk": {"S": f"k{i % pool}-{j}"}, "data": {"S": data}}}} for j in range(25)]}}), n)


def w_ddb_get(b: Bench, n: int, items: int = 1000):
    async def setup():
        if "get" in b.made:
            return
        await b.once("get", ddb_table(b, "get"))
        await b.all([b.json("dynamodb", "BatchWriteItem", {"RequestItems": {"get": [
            {"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "data": {"S": "y" * 1000}}}}
            for i in range(j, min(items, j + 25))]}}) for j in range(0, items, 25)], 16)
    return setup, _each(lambda i: b.json("dynamodb", "GetItem", {
        "TableName": "get", "Key": {"pk": {"S": f"k{i * 7919 % items}"}}}), n)


def w_ddb_query(b: Bench, n: int, parts: int = 100):
    async def setup():
        if "query" in b.made:
            return
        await b.once("query", ddb_table(b, "query", range_key=True))
        await b.all([b.json("dynamodb", "BatchWriteItem", {"RequestItems": {"query": [
            {"PutRequest": {"Item": {"pk": {"S": f"p{i // 10}"}, "sk": {"N": str(i % 10)}, "data": {"S": "y" * 100}}}}
            for i in range(j, j + 25)]}}) for j in range(0, parts * 10, 25)], 16)
    return setup, _each(lambda i: b.json("dynamodb", "Query", {
        "TableName": "query", "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": f"p{i * 7919 % parts}"}}}), n)


def _queue(b: Bench, name: str, fifo: bool) -> bytes:
    return b.json("sqs", "CreateQueue", {"QueueName": name, "Attributes": {"FifoQueue": "true"} if fifo else {}})


def w_sqs_send(b: Bench, n: int, fifo: bool = False):
    name = "send.fifo" if fifo else "send"

    def req(i):
        payload = {"QueueUrl": QUEUE_URL + name, "MessageBody": "m" * 256}
        if fifo:
            payload |= {"MessageGroupId": f"g{i % 64}", "MessageDeduplicationId": f"d{i}-{time.monotonic_ns()}"}
        return b.json("sqs", "SendMessage", payload)

    async def setup():
        await b.call(_queue(b, name, fifo))
    return setup, _each(req, n)


def w_sqs_receive_delete(b: Bench, n: int, fifo: bool = False):
    """n/2 pairs of ReceiveMessage(10) and DeleteMessageBatch of what it got; the
    queue is filled with 10 messages for every pair first (FIFO: 64 groups)."""
    name = "recv.fifo" if fifo else "recv"
    url = QUEUE_URL + name
    run = [0]

    async def setup():
        run[0] += 1
        await b.call(_queue(b, name, fifo))
        fill = []
        for j in range(n // 2):
            entries = [{"Id": str(e), "MessageBody": "m" * 256} for e in range(10)]
            if fifo:
                for e, entry in enumerate(entries):
                    entry |= {"MessageGroupId": f"g{(j * 10 + e) % 64}", "MessageDeduplicationId": f"{run[0]}-{j}-{e}"}
            fill.append(b.json("sqs", "SendMessageBatch", {"QueueUrl": url, "Entries": entries}))
        await b.all(fill, 16)

    receive = b.json("sqs", "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 60})

    def chain(c: int, k: int) -> Chain:
        for _ in range(c, n // 2, k):
            _, body = yield receive
            msgs = orjson.loads(body).get("Messages", [])
            if msgs:
                yield b.json("sqs", "DeleteMessageBatch", {"QueueUrl": url, "Entries": [
                    {"Id": str(e), "ReceiptHandle": m["ReceiptHandle"]} for e, m in enumerate(msgs)]})
    return setup, chain


def w_kinesis_put(b: Bench, n: int):
    data = base64.b64encode(b"k" * 1000).decode()

    async def setup():
        if "put" not in b.made:
            await b.once("put", b.json("kinesis", "CreateStream", {"StreamName": "put", "ShardCount": 4}), 0.7)
    return setup, _each(lambda i: b.json("kinesis", "PutRecords", {"StreamName": "put", "Records": [
        {"Data": data, "PartitionKey": f"p{i}-{j}"} for j in range(100)]}), n // 10)


WORKLOADS = {
    "ddb-put-1kb": w_ddb_put,
    "ddb-get": w_ddb_get,
    "ddb-query-10": w_ddb_query,
    "ddb-batch-write-25": w_ddb_batch_write,
    "sqs-send": w_sqs_send,
    "sqs-receive-delete": w_sqs_receive_delete,
    "sqs-fifo-send": lambda b, n: w_sqs_send(b, n, fifo=True),
    "sqs-fifo-receive-delete": lambda b, n: w_sqs_receive_delete(b, n, fifo=True),
    "kinesis-put-100": w_kinesis_put,
}


async def measure(name: str, durable: bool, requests: int, connections: int, repeat: int,
                  profile: int = 0, callers: str | None = None) -> float:
    """Best microseconds per request of ``repeat`` runs of workload ``name``."""
    b = Bench(durable)
    await b.start()
    try:
        setup, chain = WORKLOADS[name](b, requests)
        best = float("inf")
        for _ in range(1 if profile else repeat):
            await setup()
            chains = [chain(c, connections) for c in range(connections)]
            prof = cProfile.Profile() if profile else None
            done, spent = await b.turns(chains, prof)
            best = min(best, spent / max(1, done) * 1e6)
            if prof:
                stats = pstats.Stats(prof, stream=sys.stdout).sort_stats(os.environ.get("CLOUDLET_PROFILE_SORT", "tottime"))
                stats.print_stats(profile)
                if callers:
                    stats.print_callers(callers)
        return best
    finally:
        await b.app.stop()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workload", action="append",
                   help=f"comma-separated, repeatable (default all): {', '.join(WORKLOADS)}")
    p.add_argument("--durable", action="store_true", help="also measure the SQLite store")
    p.add_argument("--requests", type=int, default=4000, help="requests per repetition (PutRecords: a tenth)")
    p.add_argument("--connections", type=int, default=16, help="emulated connections")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="cProfile one repetition and print its top N functions by own time")
    p.add_argument("--callers", metavar="REGEX",
                   help="with --profile: also print who called the functions matching REGEX, how often "
                        "(e.g. 'execute' to see what queries SQLite)")


def run(args) -> int:
    names, unknown = select_workloads(args.workload, WORKLOADS)
    if unknown:
        print(f"unknown workloads: {unknown} (have: {', '.join(WORKLOADS)})", file=sys.stderr)
        return 2
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    stores = [False, True] if args.durable else [False]
    print(f"{'workload':26}" + "".join(f"{'sqlite' if d else 'memory':>12}" for d in stores) + "   us/request")
    for name in names:
        cells = []
        for durable in stores:
            us = asyncio.run(measure(name, durable, args.requests, args.connections, args.repeat, args.profile,
                                     args.callers))
            cells.append(f"{us:12.1f}")
        print(f"{name:26}" + "".join(cells), flush=True)
    return 0
