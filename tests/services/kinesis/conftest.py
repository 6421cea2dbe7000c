"""Fixtures for the Kinesis tests: a boto3 client in an account of its own per test
(a 12-digit access key id is the account), and helpers to wait for states."""

from __future__ import annotations

import random
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess, make_client


def server_now(server) -> float:
    """The server's clock (other tests may have moved it ahead of ours)."""
    import json

    with urllib.request.urlopen(server.url + "/_cloudlet/clock", timeout=5) as r:
        return json.loads(r.read())["now"]


def new_account() -> str:
    return "".join(random.choice("0123456789") for _ in range(12))


@pytest.fixture
def account() -> str:
    return new_account()


@pytest.fixture
def kinesis(server, account):
    return make_client("kinesis", server.url, access_key=account)


@pytest.fixture
def raw(server, account):
    """The same account, without boto3's client-side parameter checks: the server's own
    validation answers."""
    return make_client("kinesis", server.url, access_key=account, parameter_validation=False)


def wait_active(client, name: str, timeout: float = 10.0) -> dict:
    client.get_waiter("stream_exists").wait(
        StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": int(timeout / 0.1)})
    return client.describe_stream(StreamName=name)["StreamDescription"]


def wait_status(client, name: str, status: str = "ACTIVE", timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        desc = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if desc["StreamStatus"] == status:
            return desc
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} still {desc['StreamStatus']}, wanted {status}")
        time.sleep(0.05)


def wait_consumer(client, arn: str, status: str = "ACTIVE", timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        desc = client.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]
        if desc["ConsumerStatus"] == status:
            return desc
        if time.monotonic() > deadline:
            raise AssertionError(f"consumer still {desc['ConsumerStatus']}")
        time.sleep(0.05)


def make_stream(client, name: str, shards: int = 1, **kw) -> dict:
    client.create_stream(StreamName=name, ShardCount=shards, **kw)
    return wait_active(client, name)


def error_of(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def read_all(client, name: str, shard_id: str, kind: str = "TRIM_HORIZON", **kw) -> list[dict]:
    """Every record of one shard from ``kind`` up to now (or its end)."""
    it = client.get_shard_iterator(StreamName=name, ShardId=shard_id, ShardIteratorType=kind, **kw)["ShardIterator"]
    out = []
    while it:
        resp = client.get_records(ShardIterator=it)
        out.extend(resp["Records"])
        if not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0:
            break
        it = resp.get("NextShardIterator")
    return out


# Transitions on a "slow" server last until the test moves its clock: "not ACTIVE yet" and
# "ACTIVE now" are then facts, not races with the wall clock (on the shared server a
# transition ends 0.5 s after it starts, however loaded the machine is). Under the 300 s that
# iterators and subscriptions live, so one settle() leaves them valid.
SLOW_TRANSITION = 200


def slow_server_process() -> ServerProcess:
    return ServerProcess(env={"CLOUDLET_KINESIS_TRANSITION_SECONDS": str(SLOW_TRANSITION)}).start()


def settle(server) -> None:
    """End every transition under way on a slow server (the next request sees it done)."""
    server.advance_clock(SLOW_TRANSITION + 1)


def make_slow_stream(client, server, name: str, shards: int = 1, **kw) -> dict:
    """``make_stream`` on a slow server: create, end CREATING, describe."""
    client.create_stream(StreamName=name, ShardCount=shards, **kw)
    settle(server)
    return wait_active(client, name)


def wait_gone(call, timeout: float = 10.0, **kwargs) -> None:
    """Call ``call(**kwargs)`` until it answers ResourceNotFoundException."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            call(**kwargs)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return
            raise
        if time.monotonic() > deadline:
            raise AssertionError(f"{kwargs} still there")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def slow_server():
    """A server of the module's own whose transitions end when the test calls ``settle``."""
    srv = slow_server_process()
    yield srv
    srv.stop()


@pytest.fixture
def slow(slow_server, account):
    return make_client("kinesis", slow_server.url, access_key=account)


@pytest.fixture(scope="module")
def own_server():
    """A server of this module's own, for tests that move its clock."""
    srv = ServerProcess().start()
    yield srv
    srv.stop()
